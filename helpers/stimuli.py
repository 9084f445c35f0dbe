"""Oriented square-wave gratings, the stimuli used throughout the course.

Angle convention (shared with :mod:`helpers.filters`): an angle of 0 degrees
gives vertical stripes, i.e. luminance varies along the horizontal (x) axis.
A positive angle rotates the direction of variation counter-clockwise as seen
on the screen (x to the right, y up), so 90 degrees gives horizontal stripes.
Orientation is periodic with period 180 degrees: ``grating(a)`` and
``grating(a + 180)`` show the same stripes (their phase may differ).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

SCREEN_WIDTH = 640
"""Width of the simulated screen in full-resolution pixels."""
SCREEN_HEIGHT = 480
"""Height of the simulated screen in full-resolution pixels."""


def _screen_coordinates(res: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of the sampled pixels, in full-resolution screen pixels.

    Parameters
    ----------
    res : float
        Sampling resolution: samples per full-resolution pixel (0 < res <= 1).

    Returns
    -------
    x, y : numpy.ndarray, each (H, W)
        Horizontal position (rightwards) and vertical position (upwards) of
        every sample, measured from the screen's top-left corner for ``x`` and
        bottom edge for ``y``.
    """
    if not 0 < res <= 1:
        raise ValueError(f"res must be in (0, 1], got {res!r}")
    width = int(round(SCREEN_WIDTH * res))
    height = int(round(SCREEN_HEIGHT * res))
    x = np.arange(width) / res
    y = (height - 1 - np.arange(height)) / res  # row 0 is the top of the screen
    return np.meshgrid(x, y)


WAVEFORMS = ("square", "sine")


def grating(
    angle: float,
    sf: float = 1 / 28,
    res: float = 0.1,
    patch: bool = False,
    phase: float = 0.0,
    waveform: str = "square",
) -> torch.Tensor:
    """A grating at one orientation: binarised (square-wave) by default, or sinusoidal.

    Parameters
    ----------
    angle : float
        Orientation in degrees. 0 gives vertical stripes (luminance varies
        along x); angles increase counter-clockwise on screen.
    sf : float
        Phase advance in radians per full-resolution screen pixel, so the
        period is ``2 * pi / sf`` full-resolution pixels (about 176 at the
        default, i.e. 17.6 samples at ``res=0.1``).
    res : float
        Samples per full-resolution pixel. The screen is 640 x 480 pixels, so
        the default 0.1 gives a 48 x 64 image.
    patch : bool
        If True, the grating only fills a disc whose diameter is a third of
        the screen width, centred at three quarters of the width and half the
        height, on a background of 0; inside the disc the phase is shifted by
        0.1 rad.
    phase : float
        Extra phase of the carrier in radians (0 by default); ``pi`` swaps the
        bright and dark stripes.
    waveform : {"square", "sine"}
        "square" (the default, as in the recordings' stimuli): the sign of the
        carrier, which also contains odd harmonics (3, 5, ... times ``sf``);
        "sine": the carrier itself, a single spatial frequency.

    Returns
    -------
    stimulus : torch.Tensor, (H, W), float32
        Square: values -0.5 and +0.5; sine: ``0.5 * cos(...)`` in [-0.5, 0.5]
        (and 0 outside the disc when ``patch``).
    """
    if sf <= 0:
        raise ValueError(f"sf must be positive, got {sf!r}")
    if waveform not in WAVEFORMS:
        raise ValueError(f"waveform must be one of {WAVEFORMS}, got {waveform!r}")
    x, y = _screen_coordinates(res)
    theta = np.deg2rad(angle)
    phase = phase + (0.1 if patch else 0.0)
    carrier = np.cos(sf * (x * np.cos(theta) + y * np.sin(theta)) + phase)
    image = np.where(carrier >= 0, 0.5, -0.5) if waveform == "square" else 0.5 * carrier
    if patch:
        cx, cy = 0.75 * SCREEN_WIDTH, 0.5 * SCREEN_HEIGHT
        radius = SCREEN_WIDTH / 6
        image = np.where((x - cx) ** 2 + (y - cy) ** 2 <= radius**2, image, 0.0)
    return torch.from_numpy(image.astype(np.float32))


def gratings(
    angles: Iterable[float],
    sf: float = 1 / 28,
    res: float = 0.1,
    patch: bool = False,
    phase: float = 0.0,
    waveform: str = "square",
) -> torch.Tensor:
    """A batch of gratings, one per angle, ready for a convolutional layer.

    Parameters
    ----------
    angles : iterable of float
        Orientations in degrees (see :func:`grating`).
    sf, res, patch, phase, waveform
        As in :func:`grating`.

    Returns
    -------
    stimuli : torch.Tensor, (N, 1, H, W), float32
        ``stimuli[i, 0]`` is ``grating(angles[i], sf, res, patch, phase, waveform)``.
    """
    angles = list(angles)
    if not angles:
        raise ValueError("angles must contain at least one orientation")
    images = [grating(a, sf=sf, res=res, patch=patch, phase=phase, waveform=waveform) for a in angles]
    return torch.stack(images).unsqueeze(1)


def phase_gratings(angles: Iterable[float], n_phases: int = 4, **kwargs) -> torch.Tensor:
    """Each grating at ``n_phases`` evenly spaced phases, for responses averaged over random phases.

    Parameters
    ----------
    angles : iterable of float
        Orientations in degrees.
    n_phases : int
        Phases ``2 * pi * p / n_phases`` for ``p = 0 .. n_phases - 1``.
    **kwargs
        Passed to :func:`gratings` (``sf``, ``res``, ``patch``, ``waveform``).

    Returns
    -------
    stimuli : torch.Tensor, (N, n_phases, 1, H, W), float32
        ``stimuli[i, p]`` is the grating at ``angles[i]`` and phase number ``p``.
    """
    if n_phases < 1:
        raise ValueError(f"n_phases must be at least 1, got {n_phases!r}")
    angles = list(angles)
    phases = 2 * np.pi * np.arange(n_phases) / n_phases
    return torch.stack([gratings(angles, phase=float(p), **kwargs) for p in phases], dim=1)


def mean_over_phases(model, stimuli: torch.Tensor) -> torch.Tensor:
    """A model's responses to each orientation, averaged over its phases.

    Recorded responses to gratings of random phase estimate the mean response over
    phases; this is the model's counterpart.

    Parameters
    ----------
    model : callable
        Maps stimuli ``(M, 1, H, W)`` to responses ``(M, n_neurons)``.
    stimuli : torch.Tensor, (N, n_phases, 1, H, W)
        As made by :func:`phase_gratings`.

    Returns
    -------
    torch.Tensor, (N, n_neurons)
        Differentiable when the model is.
    """
    if stimuli.dim() != 5:
        raise ValueError(f"stimuli must be (N, n_phases, 1, H, W), got shape {tuple(stimuli.shape)}")
    n, n_phases = stimuli.shape[:2]
    return model(stimuli.flatten(0, 1)).unflatten(0, (n, n_phases)).mean(dim=1)
