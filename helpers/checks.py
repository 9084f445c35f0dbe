"""Checks used by the notebooks' test cells: clear messages, hard to fool.

These functions compare a student's result with a reference computed by the
test itself (from ``torch.nn.functional``, ``scipy.signal`` or a property);
no exercise's answer lives here. They convert the student's value to a fresh
NumPy float64 array through methods captured when this module is imported,
so a result whose class overrides ``__eq__``, ``__array__`` or ``detach``, or
a later rebinding of ``torch.allclose`` or ``numpy.testing`` in the notebook,
does not change the verdict.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional

# References captured at import time, i.e. in the setup cell, before any student code runs.
_TENSOR_DETACH = torch.Tensor.detach
_TENSOR_CPU = torch.Tensor.cpu
_TENSOR_NUMPY = torch.Tensor.numpy
_TENSOR_TO = torch.Tensor.to
_NP_ARRAY = np.array
_ISFINITE = np.isfinite
REFERENCE_CONV2D = torch.nn.functional.conv2d
"""``torch.nn.functional.conv2d`` as it was when the checks were imported."""


def conv2d_reference(stimuli: torch.Tensor, kernels: torch.Tensor, padding: int = 0, stride: int = 1) -> torch.Tensor:
    """PyTorch's 2D cross-correlation, through the function captured at import.

    Parameters
    ----------
    stimuli : torch.Tensor, (N, C_in, H, W)
    kernels : torch.Tensor, (C_out, C_in, Kh, Kw)
    padding, stride : int

    Returns
    -------
    torch.Tensor, (N, C_out, H_out, W_out), float64
    """
    return REFERENCE_CONV2D(stimuli.double(), kernels.double(), padding=padding, stride=stride)


def as_array(value, name: str = "result") -> np.ndarray:
    """A student's tensor or array as a fresh float64 NumPy array.

    Parameters
    ----------
    value : torch.Tensor or numpy.ndarray
    name : str
        How the value is called in messages.

    Raises
    ------
    AssertionError
        With a message for the student, if ``value`` is neither.
    """
    if isinstance(value, torch.Tensor):
        tensor = _TENSOR_CPU(_TENSOR_DETACH(value))
        tensor = _TENSOR_TO(tensor, torch.float64)
        return _NP_ARRAY(_TENSOR_NUMPY(torch.Tensor._make_subclass(torch.Tensor, tensor)), dtype=np.float64, copy=True)
    if type(value) is np.ndarray:
        return _NP_ARRAY(value, dtype=np.float64, copy=True)
    raise AssertionError(f"{name} should be a torch.Tensor, but it is a {type(value).__name__}.")


def assert_shape(value, shape: tuple[int, ...], name: str = "result", hint: str = "") -> None:
    """Fail with a clear message unless ``value`` has exactly ``shape``."""
    actual = tuple(int(n) for n in as_array(value, name).shape)
    expected = tuple(int(n) for n in shape)
    if actual != expected:
        raise AssertionError(f"{name}: expected shape {expected} but got {actual}." + (f" {hint}" if hint else ""))


def max_abs_difference(actual, expected, name: str = "result") -> float:
    """Largest absolute difference, after checking shapes match (plain Python float)."""
    a, e = as_array(actual, name), as_array(expected, "reference")
    if a.shape != e.shape:
        raise AssertionError(f"{name}: expected shape {tuple(e.shape)} but got {tuple(a.shape)}.")
    if a.size == 0:
        return 0.0
    if not bool(_ISFINITE(a).all()):
        raise AssertionError(f"{name} contains NaN or infinite values.")
    return float(max(abs(float(x) - float(y)) for x, y in zip(a.ravel().tolist(), e.ravel().tolist(), strict=True)))


def assert_close(actual, expected, name: str = "result", atol: float = 1e-4, hint: str = "") -> None:
    """Fail unless ``actual`` equals ``expected`` within ``atol`` (absolute, elementwise)."""
    diff = max_abs_difference(actual, expected, name)
    if not diff <= atol:
        raise AssertionError(
            f"{name} differs from the expected values by up to {diff:.3g} (allowed {atol:g})."
            + (f" {hint}" if hint else "")
        )


def is_close(actual, expected, atol: float = 1e-4) -> bool:
    """True when shapes match and values agree within ``atol``; never raises on a mismatch."""
    try:
        return max_abs_difference(actual, expected) <= atol
    except AssertionError:
        return False


def as_int_tuple(value, length: int, name: str = "result") -> tuple[int, ...]:
    """A student's tuple (or list) of integers as a plain tuple of ``int``.

    Raises
    ------
    AssertionError
        If ``value`` is not a tuple/list of ``length`` whole numbers.
    """
    if type(value) not in (tuple, list):
        raise AssertionError(f"{name} should be a tuple of {length} integers, but it is a {type(value).__name__}.")
    if len(value) != length:
        raise AssertionError(f"{name} should have {length} entries, but it has {len(value)}.")
    out = []
    for item in value:
        if isinstance(item, torch.Tensor) and item.numel() == 1:
            item = item.item()
        if isinstance(item, bool) or not isinstance(item, numbers.Real) or not math.isfinite(float(item)):
            raise AssertionError(f"{name} should contain integers, but it contains {item!r}.")
        if float(item) != int(float(item)):
            raise AssertionError(f"{name} should contain whole numbers, but it contains {item!r}: use // to divide.")
        out.append(int(float(item)))
    return tuple(out)


_SCIPY_ROUTINES = ("convolve2d", "correlate2d", "convolve", "correlate", "fftconvolve", "oaconvolve")
_CONVOLUTION_ROUTINES: list[tuple[object, str]] = [
    (torch.nn.functional, "conv2d"),
    (torch.nn.functional, "conv1d"),
    (torch.nn.functional, "conv_transpose2d"),
    (torch, "conv2d"),
    (torch, "conv1d"),
    (torch, "convolution"),
    (torch, "conv_transpose2d"),
    (np, "convolve"),
    (np, "correlate"),
]


@contextlib.contextmanager
def forbid_convolution_routines(func: Callable) -> Iterator[None]:
    """Make library convolution routines raise while the block runs.

    Patches the routines in their modules and any global name of ``func``
    bound to one of them (e.g. after ``from torch.nn.functional import conv2d``),
    and ``torch.nn.Conv2d.forward``; restores everything on exit. When
    ``scipy.signal`` has not been imported (it is slow to import, so the checks
    do not), importing it inside the block fails instead.
    """

    def forbidden(*args, **kwargs):
        raise RuntimeError("a library convolution routine was called")

    routines = list(_CONVOLUTION_ROUTINES)
    scipy_signal = sys.modules.get("scipy.signal")
    if scipy_signal is not None:
        routines += [(scipy_signal, name) for name in _SCIPY_ROUTINES]
    else:
        sys.modules["scipy.signal"] = None  # `import scipy.signal` now raises ImportError
    originals = [(module, attr, getattr(module, attr)) for module, attr in routines if hasattr(module, attr)]
    banned_ids = {id(fn) for _, _, fn in originals}
    namespace = getattr(func, "__globals__", {})
    aliased = [(key, value) for key, value in list(namespace.items()) if id(value) in banned_ids]
    conv_forward = torch.nn.Conv2d.forward
    try:
        for module, attr, _ in originals:
            setattr(module, attr, forbidden)
        for key, _ in aliased:
            namespace[key] = forbidden
        torch.nn.Conv2d.forward = forbidden
        yield
    finally:
        for module, attr, fn in originals:
            setattr(module, attr, fn)
        for key, value in aliased:
            namespace[key] = value
        torch.nn.Conv2d.forward = conv_forward
        if scipy_signal is None and sys.modules.get("scipy.signal", 0) is None:
            del sys.modules["scipy.signal"]
