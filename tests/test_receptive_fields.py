"""helpers.receptive_fields: the formula agrees with the measured fields, and fields grow with depth."""

from __future__ import annotations

import pytest
import torch.nn as nn

from helpers.receptive_fields import layer_geometry, receptive_field_masks, receptive_field_sizes


def _width(mask) -> tuple[int, int]:
    rows, cols = mask.any(dim=1).nonzero(), mask.any(dim=0).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize(
    "model",
    [
        nn.Sequential(nn.Conv2d(1, 4, 7, padding=3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5, padding=2)),
        nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 3, stride=2), nn.AvgPool2d(3, 2), nn.Conv2d(2, 1, 5)),
        nn.Sequential(nn.Conv2d(1, 3, 7, padding=3), nn.MaxPool2d(8)),  # Tutorial 3's network: conv, 8 x 8 pool
    ],
)
def test_the_formula_gives_the_measured_field_of_every_layer(model):
    geometry = layer_geometry(model)
    sizes = receptive_field_sizes([(k, s) for _, k, s in geometry])
    masks = receptive_field_masks(model, 96)
    assert list(masks) == [name for name, _, _ in geometry]
    for size, mask in zip(sizes, masks.values(), strict=True):
        assert _width(mask) == (size, size)
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]


def test_sizes_follow_the_strides():
    assert receptive_field_sizes([(7, 1), (2, 2), (5, 1), (2, 2), (3, 1)]) == [7, 8, 16, 18, 26]
    with pytest.raises(ValueError):
        receptive_field_sizes([(0, 1)])
