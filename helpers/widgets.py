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


SLIDER_ANGLES = np.arange(-90, 91, 5)  # the orientation slider's values, degrees


def _grating_responses(kernels: torch.Tensor, angles) -> torch.Tensor:
    """Activation maps (N, C_out, H, W) of ``kernels`` (padding K // 2) for full-field gratings at ``angles``."""
    stimuli = torch.stack([grating(float(a)) for a in angles]).unsqueeze(1)
    return F.conv2d(stimuli, kernels, padding=kernels.shape[-1] // 2)


def orientation_tuning(kernels: torch.Tensor, angles) -> torch.Tensor:
    """Mean rectified response of each channel to full-field gratings (a crude firing rate).

    Parameters
    ----------
    kernels : torch.Tensor, (C_out, 1, K, K)
    angles : sequence of float, (N,)
        Grating orientations in degrees (:func:`helpers.stimuli.grating`).

    Returns
    -------
    torch.Tensor, (C_out, N)
        ``relu(conv2d(grating, kernel, padding=K // 2)).mean()`` per channel and angle.
    """
    return _grating_responses(kernels, angles).relu().mean(dim=(2, 3)).T


def _activation_figure(angle: float, channel: int, kernels: torch.Tensor, limit: float, peak: float) -> Figure:
    stimulus = grating(angle)
    K = kernels.shape[-1]
    response = F.conv2d(stimulus[None, None], kernels[channel : channel + 1], padding=K // 2)[0, 0]
    fig = Figure(figsize=(7.5, 2.6), layout="constrained")
    ax_stim, ax_kernel, ax_resp = fig.subplots(1, 3, width_ratios=[4, 1.4, 4])
    ax_stim.imshow(stimulus.numpy(), cmap="gray", vmin=-0.5, vmax=0.5)
    ax_stim.set_title(f"grating at {angle:g} deg")
    k = kernels[channel, 0].numpy()
    klim = float(np.abs(k).max()) or 1.0
    ax_kernel.imshow(k, cmap="bwr", vmin=-klim, vmax=klim)
    ax_kernel.set_title(f"kernel {channel}")
    # one colour scale for every orientation, so a weak response looks weak
    image = ax_resp.imshow(response.numpy(), cmap="bwr", vmin=-limit, vmax=limit)
    ax_resp.set_title(f"channel {channel}: mean ReLU {response.relu().mean():.2f} (best {peak:.2f})")
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
        redrawn whenever a control changes. Each channel's activation map keeps
        one colour scale over all orientations (its largest response), and the
        title prints the mean rectified response and its best value over
        orientations.
    """
    kernels = filter_bank(6, 7) if kernels is None else kernels.detach().cpu()
    responses = _grating_responses(kernels, SLIDER_ANGLES)
    limits = [float(x) or 1.0 for x in responses.abs().amax(dim=(0, 2, 3))]
    peaks = [float(x) for x in responses.relu().mean(dim=(2, 3)).amax(dim=0)]
    slider = widgets.IntSlider(
        value=int(angle), min=-90, max=90, step=5, description="orientation", continuous_update=False
    )
    names = ["0: on-centre", "1: off-centre"] + [f"{c}: Gabor" for c in range(2, kernels.shape[0])]
    chooser = widgets.Dropdown(
        options=[(name, c) for c, name in enumerate(names)], value=channel, description="channel"
    )
    picture = widgets.Image(format="png")

    def redraw(_change=None) -> None:
        c = chooser.value
        picture.value = _png(_activation_figure(slider.value, c, kernels, limits[c], peaks[c]))

    slider.observe(redraw, names="value")
    chooser.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([slider, chooser]), picture])


EXPLORER_K = 41  # the Gabor explorer's kernel size: room for the envelope at the longest wavelength


def gabor_match(theta: float, wavelength: float, phase_deg: float = 0.0, K: int = EXPLORER_K):
    """A Gabor kernel of unit L1 norm and its response to a sinusoidal grating of the same orientation.

    The envelope scales with the wavelength (``sigma = 0.4 * wavelength``), so
    every kernel has the same number of stripes, and the unit L1 norm makes
    responses comparable: no stimulus with values in [-0.5, 0.5] can drive the
    kernel above 0.5.

    Parameters
    ----------
    theta : float
        Orientation in degrees, of the kernel and of the grating (:func:`helpers.stimuli.grating`
        with ``waveform="sine"``: one spatial frequency, period about 17.6 pixels).
    wavelength : float
        Carrier period in pixels.
    phase_deg : float
        Carrier phase in degrees.
    K : int
        Kernel size in pixels.

    Returns
    -------
    kernel : torch.Tensor, (K, K)
    response : torch.Tensor, (H, W)
        Cross-correlation with the grating, padding ``K // 2``.
    match : float
        The largest response at the image centre over a period of grating
        phases, divided by 0.5: the fraction of the largest possible response.
    """
    kernel = gabor(K, theta=theta, wavelength=wavelength, phase=np.deg2rad(phase_deg), sigma=0.4 * wavelength)
    kernel = kernel / kernel.abs().sum()
    response = F.conv2d(grating(theta, waveform="sine")[None, None], kernel[None, None], padding=K // 2)[0, 0]
    h, w = response.shape
    top, left = h // 2 - K // 2, w // 2 - K // 2
    if top < 0 or left < 0:
        raise ValueError(f"K = {K} does not fit in the {h} x {w} image")
    phases = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    windows = torch.stack([grating(theta, phase=p, waveform="sine")[top : top + K, left : left + K] for p in phases])
    return kernel, response, float((windows * kernel).sum(dim=(1, 2)).max()) / 0.5


def _gabor_figure(theta: float, wavelength: float, phase_deg: float, K: int) -> Figure:
    kernel, response, match = gabor_match(theta, wavelength, phase_deg, K)
    fig = Figure(figsize=(6.5, 2.6), layout="constrained")
    ax_kernel, ax_resp = fig.subplots(1, 2, width_ratios=[1, 2])
    klim = float(kernel.abs().max()) or 1.0
    ax_kernel.imshow(kernel.numpy(), cmap="bwr", vmin=-klim, vmax=klim)
    ax_kernel.set_title(f"Gabor {theta:g} deg, wavelength {wavelength:g} px")
    # a fixed colour scale: +-0.5 is the largest response any stimulus could give
    image = ax_resp.imshow(response.numpy(), cmap="bwr", vmin=-0.5, vmax=0.5)
    ax_resp.set_title(f"response to sine grating at {theta:g} deg; best phase: {match:.0%} of the largest possible")
    fig.colorbar(image, ax=ax_resp, shrink=0.8)
    for ax in (ax_kernel, ax_resp):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def gabor_explorer(K: int = EXPLORER_K) -> widgets.VBox:
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
        kernel and its response to a grating at the same orientation
        (:func:`gabor_match`), on a fixed colour scale, with the peak response
        as a fraction of the largest possible one.
    """
    theta = widgets.IntSlider(value=0, min=0, max=175, step=5, description="orientation", continuous_update=False)
    wavelength = widgets.FloatSlider(
        value=8.0, min=4.0, max=30.0, step=0.5, description="wavelength", continuous_update=False
    )
    phase = widgets.IntSlider(value=0, min=0, max=180, step=15, description="phase", continuous_update=False)
    picture = widgets.Image(format="png")

    def redraw(_change=None) -> None:
        picture.value = _png(_gabor_figure(theta.value, wavelength.value, phase.value, K))

    for control in (theta, wavelength, phase):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([theta, wavelength, phase]), picture])
