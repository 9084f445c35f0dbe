"""Figures from helpers.plotting: they return a Figure, show what they say, never call plt.show()."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers import plotting
from helpers.filters import filter_bank
from helpers.stimuli import grating, gratings


@pytest.fixture(autouse=True)
def forbid_show(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("helpers.plotting must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)


def _images(fig):
    return [im for ax in fig.axes for im in ax.get_images()]


def test_style_file_ships_with_the_package_and_applies():
    with plt.style.context(plotting.style_path()):
        assert plt.rcParams["image.interpolation"] == "nearest"
        assert plt.rcParams["axes.spines.top"] is False


def test_show_stimulus_draws_the_image_on_the_grating_scale():
    fig = plotting.show_stimulus(grating(0), title="0 deg")
    assert isinstance(fig, Figure)
    (image,) = _images(fig)
    assert np.array_equal(image.get_array(), grating(0).numpy())
    assert image.get_clim() == (-0.5, 0.5)


def test_show_stimulus_rejects_a_batch():
    with pytest.raises(ValueError, match="2-D"):
        plotting.show_stimulus(gratings([0, 1]))


def test_show_stimuli_one_panel_per_stimulus():
    fig = plotting.show_stimuli(gratings([0, 45, 90]), titles=["a", "b", "c"])
    assert len(_images(fig)) == 3
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]


def test_plot_kernels_uses_one_symmetric_scale():
    bank = filter_bank()
    fig = plotting.plot_kernels(bank)
    images = _images(fig)
    assert len(images) == 6
    limit = float(bank.abs().max())
    assert all(im.get_clim() == pytest.approx((-limit, limit)) for im in images)


def test_plot_activations_grid_has_stimulus_column_and_colour_bar():
    stimuli = gratings([0, 90])
    activations = torch.randn(2, 3, 48, 64)
    activations[1, 2, 0, 0] = -10.0
    fig = plotting.plot_activations(stimuli, activations, row_titles=["0", "90"])
    images = _images(fig)
    # 2 stimuli + 2 x 3 maps (+ the colour bar's own axes hold no AxesImage)
    assert len(images) == 2 + 6
    maps = [im for im in images if im.get_cmap().name == "bwr"]
    assert len(maps) == 6
    assert all(im.get_clim() == pytest.approx((-10.0, 10.0)) for im in maps)
    assert maps[-1].colorbar is not None, "the shared colour bar is missing"


def test_plot_activations_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="same N"):
        plotting.plot_activations(gratings([0, 90]), torch.zeros(3, 6, 48, 64))


def test_training_curve_plots_train_and_test():
    fig = plotting.plot_training_curve([3, 2, 1], test_losses=[4, 3, 2])
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [list(line.get_ydata()) for line in lines] == [[3, 2, 1], [4, 3, 2]]


def test_plot_rdms_one_panel_per_matrix_on_one_scale():
    orientations = np.arange(-90, 90, 30)
    rdms = {"V1": np.ones((6, 6)) - np.eye(6), "model": 1.5 * (np.ones((6, 6)) - np.eye(6))}
    fig = plotting.plot_rdms(rdms, orientations)
    images = _images(fig)
    assert len(images) == 2
    assert all(im.get_clim() == pytest.approx((0.0, 1.5)) for im in images)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["V1", "model"]
    assert images[-1].colorbar is not None


def test_plot_rdms_rejects_a_matrix_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"\(6, 6\)"):
        plotting.plot_rdms([np.zeros((5, 5))], np.arange(6))
