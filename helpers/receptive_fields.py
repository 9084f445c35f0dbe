"""Receptive fields of the units of a stack of convolution and pooling layers.

A unit's receptive field is the square of input pixels that can change its value. For a stack
of layers with kernel sizes ``K_l`` and strides ``s_l`` (padding does not change the size),
the field of a unit after layer ``l`` is ``r_l = r_{l-1} + (K_l - 1) * j_{l-1}`` pixels wide,
where ``j_{l-1} = s_1 * ... * s_{l-1}`` is the distance, in input pixels, between neighbouring
units of layer ``l - 1`` (``r_0 = 1``, ``j_0 = 1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn


def receptive_field_sizes(layers: Sequence[tuple[int, int]]) -> list[int]:
    """Width in input pixels of one unit's receptive field after each layer, from the formula.

    Parameters
    ----------
    layers : sequence of (int, int)
        ``(K, stride)`` of each convolution or pooling layer, input side first.

    Returns
    -------
    list of int
        ``r_l`` for each layer (pixels).
    """
    sizes, size, jump = [], 1, 1
    for kernel, stride in layers:
        if kernel < 1 or stride < 1:
            raise ValueError(f"kernel sizes and strides must be positive, got {(kernel, stride)}")
        size += (kernel - 1) * jump
        jump *= stride
        sizes.append(size)
    return sizes


def layer_geometry(model: nn.Sequential) -> list[tuple[str, int, int]]:
    """``(name, K, stride)`` of each square convolution or pooling layer of ``model`` (others are skipped)."""
    out = []
    for name, layer in model.named_children():
        if isinstance(layer, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
            kernel = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
            stride = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
            dilation = getattr(layer, "dilation", 1)
            if (dilation if isinstance(dilation, int) else dilation[0]) != 1:
                raise ValueError(f"layer {name}: dilated layers are not supported")
            out.append((name, int(kernel), int(stride)))
    return out


def receptive_field_masks(model: nn.Sequential, size: int) -> dict[str, torch.Tensor]:
    """Measured receptive field of the centre unit after each layer: the input pixels that reach it.

    Each convolution is replaced by one with all-positive weights and each pooling layer by an
    average pooling of the same size, so that every pixel inside the field changes the unit
    (a max pool passes a gradient to one pixel only); the field is then where the gradient of the
    centre unit (channel 0) with respect to a ``size x size`` input is non-zero.

    Parameters
    ----------
    model : nn.Sequential
        Square convolution and pooling layers (and element-wise ones, such as ``nn.ReLU``, which are left out).
    size : int
        Side of the input image, in pixels; large enough that the fields fit.

    Returns
    -------
    dict of str to torch.Tensor
        For each convolution or pooling layer (by its name in ``model``): a ``(size, size)`` bool mask.
    """
    layers, masks = [], {}
    channels = 1
    for name, layer in model.named_children():
        if isinstance(layer, nn.Conv2d):
            probe = nn.Conv2d(channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding, bias=False)
            nn.init.constant_(probe.weight, 1.0)
            channels = layer.out_channels
        elif isinstance(layer, nn.MaxPool2d | nn.AvgPool2d):
            probe = nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding)
        else:
            continue
        layers.append(probe)
        image = torch.ones(1, 1, size, size, requires_grad=True)
        out = nn.Sequential(*layers)(image)
        out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
        masks[name] = image.grad[0, 0] != 0
    return masks
