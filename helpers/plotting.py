"""Figures used by the notebooks.

Every function builds a new :class:`matplotlib.figure.Figure` (or draws into
given axes) and returns the figure; none calls ``plt.show()``. In Jupyter the
inline backend displays figures made with pyplot at the end of the cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

STYLE = "course.mplstyle"


def style_path() -> str:
    """Path of the course's matplotlib style file, shipped in this package."""
    return str(resources.files("helpers").joinpath(STYLE))


def use_style() -> None:
    """Apply the course's figure style (call once, in a notebook's setup cell)."""
    plt.style.use(style_path())


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _symmetric_limit(values: np.ndarray) -> float:
    limit = float(np.abs(values).max()) if values.size else 1.0
    return limit if limit > 0 else 1.0


def show_stimulus(stimulus, ax=None, title: str | None = None) -> Figure:
    """Show one stimulus as a grey-scale image.

    Parameters
    ----------
    stimulus : array-like or torch.Tensor, (H, W)
        Luminance; displayed on the fixed scale [-0.5, 0.5] of the gratings.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = _to_numpy(stimulus)
    if image.ndim != 2:
        raise ValueError(f"stimulus must be 2-D (H, W), got shape {image.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 3))
    ax.imshow(image, cmap="gray", vmin=-0.5, vmax=0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax.figure


def show_stimuli(stimuli, titles: Sequence[str] | None = None) -> Figure:
    """Show a batch of stimuli side by side.

    Parameters
    ----------
    stimuli : torch.Tensor or array-like, (N, 1, H, W) or (N, H, W)
    titles : sequence of str, optional
        One per stimulus.

    Returns
    -------
    matplotlib.figure.Figure
    """
    images = _to_numpy(stimuli)
    if images.ndim == 4:
        images = images[:, 0]
    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 2), squeeze=False)
    for i, ax in enumerate(axes[0]):
        show_stimulus(images[i], ax=ax, title=titles[i] if titles else None)
    return fig


def plot_kernels(kernels, titles: Sequence[str] | None = None) -> Figure:
    """Show a bank of kernels with one symmetric colour scale.

    Parameters
    ----------
    kernels : torch.Tensor or array-like, (C_out, C_in, K, K) or (C_out, K, K)
        Only input channel 0 is shown for 4-D input.
    titles : sequence of str, optional
        One per output channel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    values = _to_numpy(kernels)
    if values.ndim == 4:
        values = values[:, 0]
    if values.ndim != 3:
        raise ValueError(f"kernels must be (C_out, C_in, K, K) or (C_out, K, K), got shape {values.shape}")
    limit = _symmetric_limit(values)
    n = len(values)
    fig, axes = plt.subplots(1, n, figsize=(1.6 * n + 0.8, 1.9), squeeze=False)
    for i, ax in enumerate(axes[0]):
        image = ax.imshow(values[i], cmap="bwr", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(titles[i] if titles else f"channel {i}", fontsize=8 if titles else None)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="weight")
    return fig


def plot_activations(stimuli, activations, row_titles: Sequence[str] | None = None) -> Figure:
    """A grid of activation maps: one row per stimulus, one column per channel.

    The first column shows the stimulus; all activation maps share one
    colour scale symmetric about zero, shown by a colour bar.

    Parameters
    ----------
    stimuli : torch.Tensor, (N, 1, H, W)
    activations : torch.Tensor, (N, C_out, H_out, W_out)
    row_titles : sequence of str, optional
        One per stimulus, e.g. its orientation.

    Returns
    -------
    matplotlib.figure.Figure
    """
    stim = _to_numpy(stimuli)
    act = _to_numpy(activations)
    if stim.ndim != 4 or act.ndim != 4 or len(stim) != len(act):
        raise ValueError(
            f"expected stimuli (N, 1, H, W) and activations (N, C_out, H, W) with the same N, "
            f"got {stim.shape} and {act.shape}"
        )
    n, c_out = act.shape[:2]
    limit = _symmetric_limit(act)
    # a fixed layout: constrained layout is slow on a grid of this many axes
    fig, axes = plt.subplots(n, c_out + 1, figsize=(1.5 * (c_out + 1) + 1, 1.2 * n + 0.4), squeeze=False, layout="none")
    fig.subplots_adjust(left=0.05, right=0.86, bottom=0.03, top=0.9, wspace=0.08, hspace=0.08)
    for i in range(n):
        show_stimulus(stim[i, 0], ax=axes[i, 0])
        if row_titles:
            axes[i, 0].set_ylabel(row_titles[i])
        for c in range(c_out):
            ax = axes[i, c + 1]
            image = ax.imshow(act[i, c], cmap="bwr", vmin=-limit, vmax=limit)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"channel {c}")
    axes[0, 0].set_title("stimulus")
    fig.colorbar(image, cax=fig.add_axes((0.88, 0.15, 0.02, 0.7)), label="activation")
    return fig


def plot_training_curve(
    losses, test_losses=None, ylabel: str = "loss", xlabel: str = "epoch (one full-batch step)"
) -> Figure:
    """Loss (or error) per training step or epoch.

    Parameters
    ----------
    losses : sequence of float
        Training values, one per step.
    test_losses : sequence of float, optional
        Test values on the same steps.
    ylabel, xlabel : str
        Axis labels (the course's training loops take one full-batch step per epoch).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(np.asarray(losses, dtype=float), label="train")
    if test_losses is not None:
        ax.plot(np.asarray(test_losses, dtype=float), label="test")
        ax.legend()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def _annotate(ax, values: np.ndarray, fmt: str = "{:g}") -> None:
    for (row, col), value in np.ndenumerate(values):
        ax.text(col, row, fmt.format(value), ha="center", va="center", fontsize=9)


def plot_worked_example(image, kernel, output, window: tuple[int, int] = (0, 0)) -> Figure:
    """Image, kernel and output of a small 2D cross-correlation, with every number written in.

    The window that produces ``output[window]`` is outlined on the image and
    that output value is outlined too.

    Parameters
    ----------
    image : array-like, (H, W)
    kernel : array-like, (Kh, Kw)
    output : array-like, (H_out, W_out)
        The cross-correlation of ``image`` with ``kernel`` (stride 1, no padding).
    window : (int, int)
        Row and column of the output value to highlight.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Rectangle

    image, kernel, output = (_to_numpy(a) for a in (image, kernel, output))
    kh, kw = kernel.shape
    row, col = window
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), width_ratios=[image.shape[1], kernel.shape[1], output.shape[1]])
    for ax, values, title, cmap in zip(
        axes, (image, kernel, output), ("image", "kernel", "output"), ("Greys", "bwr", "Greys"), strict=True
    ):
        limit = _symmetric_limit(values)
        vmin = -limit if cmap == "bwr" else values.min()
        ax.imshow(values, cmap=cmap, vmin=vmin, vmax=limit if cmap == "bwr" else values.max() + 1e-9, alpha=0.35)
        _annotate(ax, values)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title)
    axes[0].add_patch(Rectangle((col - 0.5, row - 0.5), kw, kh, fill=False, edgecolor="tab:red", linewidth=2.5))
    axes[2].add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="tab:red", linewidth=2.5))
    return fig


def plot_sliding_window(image, kernel, output, positions: Sequence[tuple[int, int]]) -> Figure:
    """Frames of the window sliding over an image, with the output filled in so far.

    Drawn as :func:`plot_worked_example` draws the same arrays (grey scale from light to dark
    as values grow, every number written in), so the frames read as its continuation.

    Parameters
    ----------
    image : array-like, (H, W)
    kernel : array-like, (Kh, Kw)
    output : array-like, (H_out, W_out)
        Cross-correlation of ``image`` and ``kernel`` (stride 1, no padding).
    positions : sequence of (int, int)
        Output positions (row, col), one frame each, in raster order.

    Returns
    -------
    matplotlib.figure.Figure
        Two rows: the image with the current window, and the output computed
        up to and including that position (later entries blank).
    """
    from matplotlib.patches import Rectangle

    image, kernel, output = (_to_numpy(a) for a in (image, kernel, output))
    kh, kw = kernel.shape
    n = len(positions)
    fig, axes = plt.subplots(2, n, figsize=(2.4 * n, 4.6), squeeze=False)
    order = np.arange(output.size).reshape(output.shape)
    for i, (row, col) in enumerate(positions):
        top, bottom = axes[0, i], axes[1, i]
        top.imshow(image, cmap="Greys", vmin=image.min(), vmax=image.max() + 1e-9, alpha=0.35)
        _annotate(top, image)
        top.add_patch(Rectangle((col - 0.5, row - 0.5), kw, kh, fill=False, edgecolor="tab:red", linewidth=2))
        top.set_title(f"window at ({row}, {col})")
        done = order <= order[row, col]
        partial = np.where(done, output, np.nan)
        bottom.imshow(partial, cmap="Greys", vmin=output.min(), vmax=output.max() + 1e-9, alpha=0.35)
        for (r, c), value in np.ndenumerate(output):
            if done[r, c]:
                bottom.text(c, r, f"{value:g}", ha="center", va="center", fontsize=9)
        bottom.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="tab:red", linewidth=2))
        bottom.set_xlim(-0.5, output.shape[1] - 0.5)
        bottom.set_ylim(output.shape[0] - 0.5, -0.5)
        for ax in (top, bottom):
            ax.set_xticks([])
            ax.set_yticks([])
    axes[1, 0].set_ylabel("output so far")
    return fig


def plot_receptive_fields(stimulus, masks, titles: Sequence[str]) -> Figure:
    """One panel per layer: the stimulus, with the receptive field of the layer's centre unit outlined.

    Parameters
    ----------
    stimulus : array-like, (H, W)
        The input image the fields are drawn on.
    masks : sequence of array-like, each (H, W) bool
        Input pixels in each layer's receptive field (e.g. from
        :func:`helpers.receptive_fields.receptive_field_masks`).
    titles : sequence of str
        One title per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Rectangle

    stimulus = _to_numpy(stimulus)
    masks = [_to_numpy(m).astype(bool) for m in masks]
    fig, axes = plt.subplots(1, len(masks), figsize=(2.3 * len(masks), 2.7), squeeze=False)
    for ax, mask, title in zip(axes[0], masks, titles, strict=True):
        ax.imshow(stimulus, cmap="gray")
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        ax.add_patch(
            Rectangle(
                (cols.min() - 0.5, rows.min() - 0.5),
                cols.max() - cols.min() + 1,
                rows.max() - rows.min() + 1,
                fill=False,
                edgecolor="tab:red",
                linewidth=2,
            )
        )
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def plot_phase_invariance(shifts, simple, energy) -> Figure:
    """Responses of a simple cell and of an energy-model complex cell as a grating shifts.

    Parameters
    ----------
    shifts : sequence of float
        Phase shifts of the grating in radians.
    simple, energy : sequence of float
        Response of each unit at each shift, same length as ``shifts``; each
        curve is divided by its own maximum so the two can share an axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    shifts = np.asarray(shifts, dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for values, label in ((simple, "simple cell (rectified Gabor)"), (energy, "complex cell (energy model)")):
        values = np.asarray(values, dtype=float)
        peak = np.abs(values).max()
        ax.plot(np.rad2deg(shifts), values / (peak if peak > 0 else 1), marker="o", label=label)
    ax.set_xlabel("grating phase shift (degrees)")
    ax.set_ylabel("response / max")
    ax.set_ylim(bottom=0)
    ax.legend()
    return fig


def plot_rdms(rdms, orientations, titles: Sequence[str] | None = None) -> Figure:
    """Representational dissimilarity matrices side by side, on one colour scale.

    Parameters
    ----------
    rdms : mapping of str to array-like, or sequence of array-like, each (N, N)
        Dissimilarities between the responses to N stimuli (e.g. 1 - correlation,
        from 0 for identical patterns to 2 for opposite ones).
    orientations : sequence of float, (N,)
        Stimulus orientation of each row and column, in degrees (tick labels).
    titles : sequence of str, optional
        Panel titles; the mapping's keys by default.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per matrix and a shared colour bar from 0 to the largest value (at least 1).
    """
    if hasattr(rdms, "keys"):
        titles = list(rdms.keys()) if titles is None else list(titles)
        matrices = [_to_numpy(m) for m in rdms.values()]
    else:
        matrices = [_to_numpy(m) for m in rdms]
    orientations = np.asarray(orientations, dtype=float)
    n = len(orientations)
    for matrix in matrices:
        if matrix.shape != (n, n):
            raise ValueError(f"each RDM must be ({n}, {n}) for {n} orientations, got {matrix.shape}")
    titles = list(titles) if titles is not None else [""] * len(matrices)
    top = max(1.0, *(float(np.nanmax(m)) for m in matrices)) if matrices else 1.0
    fig, axes = plt.subplots(1, len(matrices), figsize=(2.6 * len(matrices) + 0.8, 2.9), squeeze=False)
    ticks = np.arange(0, n, max(1, n // 4))
    image = None
    for ax, matrix, title in zip(axes[0], matrices, titles, strict=True):
        image = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=top)
        ax.set_title(title)
        ax.set_xticks(ticks, [f"{orientations[i]:g}" for i in ticks])
        ax.set_yticks(ticks, [f"{orientations[i]:g}" for i in ticks])
        ax.set_xlabel("orientation (degrees)")
    axes[0, 0].set_ylabel("orientation (degrees)")
    if image is not None:
        fig.colorbar(image, ax=list(axes[0]), label="dissimilarity", shrink=0.85)
    return fig
