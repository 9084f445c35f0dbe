"""Interactive demos built with ipywidgets.

Each builder returns a widget whose figure is rendered to PNG and shown in an
``ipywidgets.Image``, so it works in JupyterLab without a matplotlib widget
backend, and its behaviour can be tested without a browser: moving a control
changes the image's bytes. Builders only draw; they never display themselves.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .filters import filter_bank, gabor
from .stimuli import grating


def _png(fig: Figure) -> bytes:
    """Render a figure (not registered with pyplot) to PNG bytes."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    return buffer.getvalue()


def _activation_figure(angle: float, channel: int, kernels: torch.Tensor) -> Figure:
    stimulus = grating(angle)
    K = kernels.shape[-1]
    response = F.conv2d(stimulus[None, None], kernels[channel : channel + 1], padding=K // 2)[0, 0]
    limit = float(response.abs().max()) or 1.0
    fig = Figure(figsize=(7.5, 2.6), layout="constrained")
    ax_stim, ax_kernel, ax_resp = fig.subplots(1, 3, width_ratios=[4, 1.4, 4])
    ax_stim.imshow(stimulus.numpy(), cmap="gray", vmin=-0.5, vmax=0.5)
    ax_stim.set_title(f"grating at {angle:g} deg")
    k = kernels[channel, 0].numpy()
    klim = float(np.abs(k).max()) or 1.0
    ax_kernel.imshow(k, cmap="bwr", vmin=-klim, vmax=klim)
    ax_kernel.set_title(f"kernel {channel}")
    image = ax_resp.imshow(response.numpy(), cmap="bwr", vmin=-limit, vmax=limit)
    ax_resp.set_title(f"channel {channel}: mean ReLU {response.relu().mean():.2f}")
    fig.colorbar(image, ax=ax_resp, shrink=0.8)
    for ax in (ax_stim, ax_kernel, ax_resp):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def orientation_explorer(kernels: torch.Tensor | None = None, angle: float = 0.0, channel: int = 2) -> widgets.VBox:
    """An orientation slider and a channel selector over a grating and one activation map.

    Parameters
    ----------
    kernels : torch.Tensor, (C_out, 1, K, K), optional
        The layer's kernels; default :func:`helpers.filters.filter_bank` ``(6, 7)``.
    angle : float
        Initial grating orientation in degrees.
    channel : int
        Initial channel.

    Returns
    -------
    ipywidgets.VBox
        Children: the orientation ``IntSlider`` (degrees, -90..90), the channel
        ``Dropdown`` and the ``Image`` with the current figure. The figure is
        redrawn whenever a control changes.
    """
    kernels = filter_bank(6, 7) if kernels is None else kernels.detach().cpu()
    slider = widgets.IntSlider(
        value=int(angle), min=-90, max=90, step=5, description="orientation", continuous_update=False
    )
    names = ["0: on-centre", "1: off-centre"] + [f"{c}: Gabor" for c in range(2, kernels.shape[0])]
    chooser = widgets.Dropdown(
        options=[(name, c) for c, name in enumerate(names)], value=channel, description="channel"
    )
    picture = widgets.Image(format="png")

    def redraw(_change=None) -> None:
        picture.value = _png(_activation_figure(slider.value, chooser.value, kernels))

    slider.observe(redraw, names="value")
    chooser.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([slider, chooser]), picture])


def _gabor_figure(theta: float, wavelength: float, phase_deg: float, K: int) -> Figure:
    kernel = gabor(K, theta=theta, wavelength=wavelength, phase=np.deg2rad(phase_deg))
    stimulus = grating(theta)
    response = F.conv2d(stimulus[None, None], kernel[None, None], padding=K // 2)[0, 0]
    fig = Figure(figsize=(6.5, 2.6), layout="constrained")
    ax_kernel, ax_resp = fig.subplots(1, 2, width_ratios=[1, 2])
    ax_kernel.imshow(kernel.numpy(), cmap="bwr", vmin=-1, vmax=1)
    ax_kernel.set_title(f"Gabor {theta:g} deg, wavelength {wavelength:g} px")
    limit = float(response.abs().max()) or 1.0
    ax_resp.imshow(response.numpy(), cmap="bwr", vmin=-limit, vmax=limit)
    ax_resp.set_title(f"response to grating at {theta:g} deg")
    for ax in (ax_kernel, ax_resp):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def gabor_explorer(K: int = 11) -> widgets.VBox:
    """Sliders for a Gabor kernel's orientation, wavelength and phase, with its response.

    Parameters
    ----------
    K : int
        Kernel size in pixels.

    Returns
    -------
    ipywidgets.VBox
        Children: an ``HBox`` of three sliders (orientation in degrees,
        wavelength in pixels, phase in degrees) and the ``Image`` of the
        kernel and its response to a grating at the same orientation.
    """
    theta = widgets.IntSlider(value=0, min=0, max=175, step=5, description="orientation", continuous_update=False)
    wavelength = widgets.FloatSlider(
        value=7.0, min=3.0, max=20.0, step=0.5, description="wavelength", continuous_update=False
    )
    phase = widgets.IntSlider(value=0, min=0, max=180, step=15, description="phase", continuous_update=False)
    picture = widgets.Image(format="png")

    def redraw(_change=None) -> None:
        picture.value = _png(_gabor_figure(theta.value, wavelength.value, phase.value, K))

    for control in (theta, wavelength, phase):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([theta, wavelength, phase]), picture])
