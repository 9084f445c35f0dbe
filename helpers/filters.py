"""Convolution kernels that model early visual neurons.

Kernels use the same angle convention as :mod:`helpers.stimuli`: a Gabor at
``theta`` degrees has its carrier varying along the direction ``theta``
(0 = varies along x, i.e. vertical bars), so it responds most strongly to
``grating(theta)``. Kernel coordinates are in pixels, measured from the
kernel's centre, x to the right and y up.
"""

from __future__ import annotations

import numpy as np
import torch


def _kernel_grid(K: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x right, y up) of a K x K kernel, centred at 0."""
    if not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be a positive integer, got {K!r}")
    offsets = np.arange(K) - (K - 1) / 2
    return np.meshgrid(offsets, offsets[::-1])


def _normalise(kernel: np.ndarray) -> np.ndarray:
    """Scale to max |value| 1, then subtract the mean (so the kernel sums to 0)."""
    peak = np.abs(kernel).max()
    if peak > 0:
        kernel = kernel / peak
    return kernel - kernel.mean()


def gaussian(K: int, sigma: float) -> np.ndarray:
    """An isotropic Gaussian ``exp(-r**2 / (2 sigma**2))`` sampled on a K x K grid.

    Parameters
    ----------
    K : int
        Kernel size in pixels.
    sigma : float
        Standard deviation in pixels.

    Returns
    -------
    numpy.ndarray, (K, K), float64
        Peak value 1 at the centre (for odd K); not normalised to sum 1.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    x, y = _kernel_grid(K)
    return np.exp(-(x**2 + y**2) / (2 * sigma**2))


def center_surround(K: int = 7, sigma_center: float | None = None, sigma_surround: float | None = None) -> torch.Tensor:
    """An on-centre centre-surround kernel (difference of Gaussians).

    A model of a retinal ganglion cell or LGN receptive field: excited by
    light in the centre, inhibited by light in the surround.

    Parameters
    ----------
    K : int
        Kernel size in pixels.
    sigma_center, sigma_surround : float, optional
        Standard deviations in pixels of the centre and surround Gaussians;
        default ``K / 7`` and ``2 * K / 7`` (1 and 2 pixels for K = 7).

    Returns
    -------
    kernel : torch.Tensor, (K, K), float32
        Positive in the centre, negative in the surround, max |value| 1 before
        the mean is removed, and zero-mean.
    """
    sigma_center = K / 7 if sigma_center is None else sigma_center
    sigma_surround = 2 * K / 7 if sigma_surround is None else sigma_surround
    if sigma_surround <= sigma_center:
        raise ValueError("sigma_surround must be larger than sigma_center")
    centre = gaussian(K, sigma_center) / sigma_center**2
    surround = gaussian(K, sigma_surround) / sigma_surround**2
    return torch.from_numpy(_normalise(centre - surround).astype(np.float32))


def gabor(
    K: int = 7, theta: float = 0.0, wavelength: float | None = None, phase: float = 0.0, sigma: float | None = None
) -> torch.Tensor:
    """A Gabor kernel: a sinusoidal carrier under a Gaussian envelope.

    A model of a V1 simple-cell receptive field.

    Parameters
    ----------
    K : int
        Kernel size in pixels.
    theta : float
        Orientation in degrees, same convention as :func:`helpers.stimuli.grating`
        (0: the carrier varies along x, so the kernel prefers vertical stripes).
    wavelength : float, optional
        Carrier period in pixels; default ``K`` (7 pixels for K = 7).
    phase : float
        Carrier phase in radians at the kernel centre: 0 gives an even
        (bar-like) kernel, ``pi / 2`` an odd (edge-like) one.
    sigma : float, optional
        Standard deviation of the Gaussian envelope in pixels; default ``K / 4``.

    Returns
    -------
    kernel : torch.Tensor, (K, K), float32
        Scaled to max |value| 1, then made zero-mean.
    """
    wavelength = float(K) if wavelength is None else wavelength
    sigma = K / 4 if sigma is None else sigma
    if wavelength <= 0:
        raise ValueError(f"wavelength must be positive, got {wavelength!r}")
    x, y = _kernel_grid(K)
    t = np.deg2rad(theta)
    carrier = np.cos(2 * np.pi * (x * np.cos(t) + y * np.sin(t)) / wavelength + phase)
    return torch.from_numpy(_normalise(gaussian(K, sigma) * carrier).astype(np.float32))


def quadrature_pair(
    K: int = 31, theta: float = 0.0, wavelength: float = 17.6, sigma: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """An even and an odd Gabor kernel in quadrature, from one complex Gabor.

    The complex Gabor ``g = G * exp(2j * pi * u / wavelength)``, with ``G`` the
    Gaussian envelope and ``u = x cos(theta) + y sin(theta)``, gives the even
    kernel (its real part, minus the multiple of ``G`` that makes it zero-mean,
    so it ignores uniform light) and the odd kernel (its imaginary part,
    zero-mean by symmetry). Each is then scaled so that its response to a
    sinusoidal grating of period ``wavelength`` at orientation ``theta`` has
    amplitude 1. The two responses to such a grating of phase ``phi`` are then
    ``cos(phi)`` and ``sin(phi)`` (up to sign), so the sum of their squares is
    1 at every phase: the energy model's phase invariance.

    Parameters
    ----------
    K : int
        Kernel size in pixels, odd.
    theta : float
        Orientation in degrees, as in :func:`gabor`.
    wavelength : float
        Carrier period in pixels; the default is the period of
        :func:`helpers.stimuli.grating` at its default ``sf`` and ``res``.
    sigma : float, optional
        Envelope standard deviation in pixels; default ``0.4 * wavelength``
        (about one cycle per two standard deviations). With this envelope the
        two kernels' L2 norms agree within a few percent.

    Returns
    -------
    even, odd : torch.Tensor, each (K, K), float32
    """
    if K % 2 == 0:
        raise ValueError(f"K must be odd (a kernel with a centre pixel), got {K!r}")
    if wavelength <= 0:
        raise ValueError(f"wavelength must be positive, got {wavelength!r}")
    sigma = 0.4 * wavelength if sigma is None else sigma
    x, y = _kernel_grid(K)
    t = np.deg2rad(theta)
    u = x * np.cos(t) + y * np.sin(t)
    envelope = gaussian(K, sigma)
    g = envelope * np.exp(2j * np.pi * u / wavelength)
    even = g.real - envelope * (g.real.sum() / envelope.sum())
    odd = g.imag
    probe = np.exp(-2j * np.pi * u / wavelength)  # the response's amplitude to the preferred sinusoid
    pair = [k / np.abs((k * probe).sum()) for k in (even, odd)]
    return tuple(torch.from_numpy(k.astype(np.float32)) for k in pair)


def gabor_orientations(out_channels: int = 6) -> np.ndarray:
    """Orientations in degrees of the Gabor channels 2.. of :func:`filter_bank`."""
    if out_channels < 3:
        raise ValueError(f"out_channels must be at least 3 (2 centre-surround + 1 Gabor), got {out_channels!r}")
    return np.linspace(0, 180, out_channels - 2, endpoint=False)


def filter_bank(out_channels: int = 6, K: int = 7) -> torch.Tensor:
    """The tutorial's bank of retina- and V1-like kernels.

    Parameters
    ----------
    out_channels : int
        Number of kernels, at least 3.
    K : int
        Kernel size in pixels.

    Returns
    -------
    kernels : torch.Tensor, (out_channels, 1, K, K), float32
        Channel 0: on-centre centre-surround; channel 1: its negative
        (off-centre); channels 2..: even Gabors at the orientations
        ``numpy.linspace(0, 180, out_channels - 2, endpoint=False)`` degrees.
        Every kernel is zero-mean.
    """
    on = center_surround(K)
    kernels = [on, -on] + [gabor(K, theta=float(t)) for t in gabor_orientations(out_channels)]
    return torch.stack(kernels).unsqueeze(1)
