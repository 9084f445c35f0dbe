"""Checks used by the notebooks' test cells: clear messages, hard to fool.

These functions compare a student's result with a reference computed by the
test itself (from PyTorch's own conv2d or a property); no exercise's answer
lives here. They work only through methods of immutable C types
(``torch._C.TensorBase``, ``torch._C._VariableFunctionsClass``,
``numpy.ndarray``), which notebook code cannot rebind, and turn the student's
value into a fresh float64 NumPy array with tensor-subclass overrides
disabled. So a result whose class overrides ``__eq__``, ``detach`` or
``__torch_function__``, or a rebinding of ``torch.allclose``,
``torch.nn.functional.conv2d`` or ``numpy.testing`` in the notebook, does not
change a verdict. When importing this module finds a builtin it uses already
replaced by Python code, every check fails.

At autograde time each test cell first loads a fresh copy of this module
(see ``grading.prologue``), so rebinding the functions below does not help either.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import numbers
import sys
import types
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional

_C_FUNCTION_TYPES = (types.BuiltinFunctionType, types.MethodDescriptorType, types.WrapperDescriptorType)


def _pristine(fn, name: str):
    """``fn`` if it is the C-implemented function called ``name``, else None (it was replaced)."""
    return fn if isinstance(fn, _C_FUNCTION_TYPES) and getattr(fn, "__name__", None) == name else None


_BUILTINS = {name: _pristine(getattr(builtins, name, None), name) for name in ("abs", "max", "len", "isinstance")}
_CONV2D = _pristine(torch._C._VariableFunctionsClass.conv2d, "conv2d")
_DETACH = torch._C.TensorBase.detach
_CPU = torch._C.TensorBase.cpu
_DOUBLE = torch._C.TensorBase.double
_NUMPY = torch._C.TensorBase.numpy
_CONTIGUOUS = torch._C.TensorBase.contiguous
_MAKE_PLAIN = torch._C.TensorBase._make_subclass
_ASTYPE = np.ndarray.astype
_TOLIST = np.ndarray.tolist
_RAVEL = np.ndarray.ravel
_NO_TORCH_FUNCTION = torch._C.DisableTorchFunctionSubclass
_PLAIN_TENSOR = torch.Tensor
_TAMPERED = [name for name, fn in _BUILTINS.items() if fn is None] + ([] if _CONV2D else ["conv2d"])


def _intact() -> None:
    if _TAMPERED:
        raise AssertionError(
            f"The notebook replaced functions the grader relies on ({', '.join(_TAMPERED)}): restart the kernel "
            "and do not reassign library or built-in functions."
        )


def conv2d_reference(stimuli: torch.Tensor, kernels: torch.Tensor, padding: int = 0, stride: int = 1) -> torch.Tensor:
    """PyTorch's 2D cross-correlation (its C implementation, which notebook code cannot replace).

    Parameters
    ----------
    stimuli : torch.Tensor, (N, C_in, H, W)
    kernels : torch.Tensor, (C_out, C_in, Kh, Kw)
    padding, stride : int

    Returns
    -------
    torch.Tensor, (N, C_out, H_out, W_out), float64
    """
    _intact()
    with _NO_TORCH_FUNCTION():
        return _CONV2D(_DOUBLE(stimuli), _DOUBLE(kernels), None, [stride, stride], [padding, padding])


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
    _intact()
    if _BUILTINS["isinstance"](value, _PLAIN_TENSOR):
        with _NO_TORCH_FUNCTION():
            plain = _MAKE_PLAIN(_PLAIN_TENSOR, _DETACH(value))
            plain = _CONTIGUOUS(_CPU(_DOUBLE(plain)))
            return _ASTYPE(_NUMPY(plain), "float64", copy=True)
    if type(value) is np.ndarray:
        return _ASTYPE(value, "float64", copy=True)
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
    if tuple(a.shape) != tuple(e.shape):
        raise AssertionError(f"{name}: expected shape {tuple(e.shape)} but got {tuple(a.shape)}.")
    values, targets = _TOLIST(_RAVEL(a)), _TOLIST(_RAVEL(e))
    if not values:
        return 0.0
    if not all(math.isfinite(v) for v in values):
        raise AssertionError(f"{name} contains NaN or infinite values.")
    abs_, max_ = _BUILTINS["abs"], _BUILTINS["max"]
    return float(max_(abs_(v - t) for v, t in zip(values, targets, strict=True)))


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
