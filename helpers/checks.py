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

At autograde time these checks run in the grading process, never in the
student's kernel (``grading.remote``): the student's objects arrive as plain
data, and what must happen to a student's object inside the kernel (a backward
pass, training) goes through the :func:`kernel_side` procedures below, which
return data too. The precautions above then only guard the student's own
feedback in the notebook.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import linecache
import math
import numbers
import re
import symtable
import textwrap
import types
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

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


def assert_close(
    actual, expected, name: str = "result", atol: float = 1e-4, hint: str = "", mistakes: tuple = ()
) -> None:
    """Fail unless ``actual`` equals ``expected`` within ``atol`` (absolute, elementwise).

    Parameters
    ----------
    actual, expected : torch.Tensor or numpy.ndarray
        The student's value and the test's own, of the same shape.
    name : str
        How ``actual`` is called in the message.
    atol : float
        The largest absolute difference allowed, elementwise.
    hint : str
        Added to the message of a failure that no typical mistake explains.
    mistakes : sequence of (value, str)
        Typical wrong results, each computed by the test from its own inputs, with a hint that
        names the mistake. A failing ``actual`` within ``atol`` of one of them (the first that
        matches) gets that hint instead of ``hint``, so the message says what went wrong.
    """
    diff = max_abs_difference(actual, expected, name)
    if not diff <= atol:
        named = next((why for wrong, why in mistakes if is_close(actual, wrong, atol)), hint)
        raise AssertionError(
            f"{name} differs from the expected values by up to {diff:.3g} (allowed {atol:g})."
            + (f" {named}" if named else "")
        )


def is_close(actual, expected, atol: float = 1e-4) -> bool:
    """True when shapes match and values agree within ``atol``; never raises on a mismatch."""
    try:
        return max_abs_difference(actual, expected) <= atol
    except AssertionError:
        return False


def as_int_tuple(value, length: int, name: str = "result") -> tuple[int, ...]:
    """A student's tuple (or list) of integers as a plain tuple of ``int``.

    A subclass of tuple counts as a tuple (``torch.Size``, a named tuple). At autograde time the grader reads
    the value as plain data, so a subclass's own methods never decide a grade.

    Raises
    ------
    AssertionError
        If ``value`` is not a tuple/list of ``length`` whole numbers.
    """
    if not isinstance(value, tuple | list):
        raise AssertionError(f"{name} should be a tuple of {length} integers, but it is a {type(value).__name__}.")
    value = tuple.__iter__(value) if isinstance(value, tuple) else list.__iter__(value)
    value = list(value)
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


# -- Static rules, checked on the source of the student's cell ----------------------------------------

# Attribute or imported names that are (or wrap) a library convolution or correlation routine.
_CONVOLUTION_NAME = re.compile(r"conv|correl", re.IGNORECASE)
# Ways to reach a function without naming it in the source.
_ESCAPES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "__import__",
        "globals",
        "locals",
        "vars",
        "importlib",
        "builtins",
        "__builtins__",
        "get_ipython",
        "operator",
        "attrgetter",
        "methodcaller",
    }
)
_ESCAPE_MODULES = frozenset({"inspect", "builtins", "operator", "importlib", "types", "ctypes", "gc", "__main__"})
_ESCAPE_ATTRIBUTES = frozenset(
    {"modules", "__dict__", "__getattribute__", "__globals__", "__call__", "getattr_static", "__getattr__"}
)
_MODULES = frozenset({"torch", "np", "numpy", "F", "nn", "math", "itertools", "functools"})


def source_of(func, name: str | None = None) -> str:
    """The code that defines ``func`` (bound to ``name``), as :func:`definition_source` reads it.

    At autograde time that is what the grader read from the submission's cells; in the notebook,
    the cell the function was defined in.
    """
    if getattr(type(func), "__course_remote__", False):
        if not func._source:
            raise AssertionError("The grader found no cell that defines this function: define it in its own cell.")
        return func._source
    code = getattr(func, "__code__", None)
    cell = "".join(linecache.getlines(code.co_filename)) if code is not None else ""
    names = [n for n in (name, getattr(func, "__name__", None)) if n]
    found = next((s for s in (definition_source([cell], n) for n in names) if s), None) if cell else None
    if found:
        return found
    try:
        return textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        raise AssertionError("The source of this function cannot be read: define it in a notebook cell.") from None


def bound_names(tree: ast.AST) -> set[str]:
    """Every name a piece of code binds anywhere (assignments, arguments, defs, imports, loops, ``except as``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def loaded_names(tree: ast.AST) -> set[str]:
    """Every name a syntax tree reads (loads)."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def names_read(source: str) -> set[str]:
    """Every name a piece of code reads, e.g. ``{"layer"}`` for ``weights = layer.conv.weight`` (none if unparsable)."""
    try:
        return loaded_names(ast.parse(source))
    except SyntaxError:
        return set()


_SUBMISSION = {"cells": None}


def submission_cells(cells: list[str] | None) -> None:
    """At autograde time the grader hands over the sources of the submission's code cells before a test."""
    _SUBMISSION["cells"] = None if cells is None else list(cells)


def parsed_cells(cells: list[str]):
    """Each cell's code without IPython magics and shell lines, and its syntax tree (None if it does not parse).

    Yields
    ------
    (source, code, tree) : tuple of str, str and ast.Module or None
    """
    for source in cells:
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            yield source, code, ast.parse(code)
        except SyntaxError:
            yield source, code, None


# What can rebind a notebook name from another cell: exec and friends, the namespaces themselves.
_REBINDERS = frozenset(
    {"exec", "eval", "compile", "setattr", "delattr", "globals", "locals", "vars", "__import__", "__builtins__"}
    | {"builtins", "get_ipython"}
)
_REBINDING_ATTRIBUTES = frozenset({"__dict__", "__globals__", "__setattr__", "__builtins__", "modules", "user_ns"})
_REBINDING_MODULES = frozenset({"builtins", "importlib", "__main__", "ctypes", "sys"})
# Calls a self-check may make and still be left out of the static check (nothing they do can rebind a name).
_PURE_METHODS = frozenset(
    "abs all allclose any argmax argmin clone contiguous cpu detach dim double equal expand flatten float "
    "isclose item max mean min ne eq norm numel numpy permute ravel reshape round shape size squeeze std sum "
    "t to tolist transpose unsqueeze var view astype flip fliplr flipud type".split()
)
# Library packages a self-check may import (e.g. scipy.signal's correlate2d, to compare with): only when no kept
# statement reads what the import binds is it left out, as any self-check is.
_SELF_CHECK_IMPORTS = frozenset({"scipy", "numpy", "torch", "math", "time", "itertools", "functools"})


def _reaches(tree: ast.AST, names: frozenset, attributes: frozenset, modules: frozenset) -> bool:
    """Whether code reads one of ``names``, an attribute in ``attributes`` or imports one of ``modules``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.Attribute) and node.attr in attributes:
            return True
        if isinstance(node, ast.alias) and node.name.split(".")[0] in modules:
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in modules:
            return True
    return False


def _rebinds(tree: ast.AST) -> bool:
    """Whether code could rebind a notebook name from where it stands (``exec``, ``setattr``, ``globals()``...)."""
    return _reaches(tree, _REBINDERS, _REBINDING_ATTRIBUTES, _REBINDING_MODULES)


def _dynamic(tree: ast.AST) -> bool:
    """Whether code reaches for names or attributes dynamically (``exec``, ``getattr``, ``globals()``, ...)."""
    return _reaches(tree, _ESCAPES, _ESCAPES | _ESCAPE_ATTRIBUTES, _ESCAPES | _ESCAPE_MODULES)


def _a_self_check(statement: ast.stmt, name: str, bound: set[str], callable_names: frozenset = frozenset()) -> bool:
    """A top-level statement that only tries the answer out, and so cannot change what the function does.

    That is: an expression, assert or plain assignment whose calls are of ``name`` itself, of builtins, of
    library modules, of a few pure methods on their results or of ``callable_names`` (the cell's own
    self-check helpers); a ``for`` loop or ``if`` made only of such statements; an import of a library package
    (:data:`_SELF_CHECK_IMPORTS`); or a plain helper function (no decorator, no ``global``) whose body is made
    only of such statements. It stores nothing but plain names, never ``name`` itself.
    """
    if name in bound_names(statement):
        return False
    if any(isinstance(n, ast.Global | ast.Nonlocal | ast.NamedExpr | ast.Delete) for n in ast.walk(statement)):
        return False
    if _rebinds(statement) or _dynamic(statement):
        return False
    if isinstance(statement, ast.Import | ast.ImportFrom):
        # a routine imported under a name the pattern does not see could be handed on unseen
        renamed = any(
            _CONVOLUTION_NAME.search(alias.name) and not _CONVOLUTION_NAME.search(alias.asname or alias.name)
            for alias in statement.names
        )
        if renamed or any(alias.name == "*" for alias in statement.names):
            return False
        if isinstance(statement, ast.Import):
            return all(alias.name.split(".")[0] in _SELF_CHECK_IMPORTS for alias in statement.names)
        return statement.level == 0 and (statement.module or "").split(".")[0] in _SELF_CHECK_IMPORTS

    def inner(statements: list[ast.stmt]) -> bool:
        return all(_a_self_check(s, name, bound, callable_names) for s in statements)

    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.For):
        return (
            _plain_targets([statement.target])
            and _pure_calls(statement.iter, name, bound, callable_names)
            and (inner(statement.body) and inner(statement.orelse))
        )
    if isinstance(statement, ast.If):
        return _pure_calls(statement.test, name, bound, callable_names) and inner(statement.body + statement.orelse)
    if isinstance(statement, ast.With):  # with torch.no_grad(): ...
        return (
            all(_pure_calls(item.context_expr, name, bound, callable_names) for item in statement.items)
            and _plain_targets([item.optional_vars for item in statement.items if item.optional_vars])
            and inner(statement.body)
        )
    if isinstance(statement, ast.Try):
        handlers = [h.type for h in statement.handlers if h.type is not None]
        return all(_pure_calls(h, name, bound, callable_names) for h in handlers) and inner(
            [*statement.body, *statement.orelse, *statement.finalbody, *(s for h in statement.handlers for s in h.body)]
        )
    if isinstance(statement, ast.Raise):
        return all(_pure_calls(e, name, bound, callable_names) for e in (statement.exc, statement.cause) if e)
    if isinstance(statement, ast.FunctionDef):
        arguments = statement.args
        defaults = [*arguments.defaults, *filter(None, arguments.kw_defaults)]
        return (
            not statement.decorator_list
            and all(_pure_calls(d, name, bound, callable_names) for d in defaults)
            and inner([s for s in statement.body if not isinstance(s, ast.Return)])
            and all(
                s.value is None or _pure_calls(s.value, name, bound, callable_names)
                for s in statement.body
                if isinstance(s, ast.Return)
            )
        )
    if not isinstance(statement, ast.Expr | ast.Assert | ast.Assign | ast.AnnAssign | ast.AugAssign):
        return False
    targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
    return _plain_targets(list(filter(None, targets))) and _pure_calls(statement, name, bound, callable_names)


def _plain_targets(targets: list[ast.expr]) -> bool:
    """Whether assignment targets are plain names (or tuples and lists of them): nothing stored into an object."""
    return all(
        isinstance(n, ast.Name | ast.Tuple | ast.List | ast.Starred)
        for target in targets
        for n in ast.walk(target)
        if not isinstance(n, ast.expr_context)
    )


def _pure_calls(node: ast.AST, name: str, bound: set[str], callable_names: frozenset) -> bool:
    """Whether every call in ``node`` is of ``name``, a builtin, a library module, a pure method or a helper, and
    nothing can be handed on: a convolution routine, the function itself and the cell's helpers appear only as
    what is called (never as a value: an argument, an element, an attribute's owner), and there is no lambda."""
    called = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    imported = _modules_among(callable_names)
    for n in ast.walk(node):
        if isinstance(n, ast.Lambda):
            return False
        if id(n) in called:
            continue
        if isinstance(n, ast.Name) and n.id == name:
            return False
        # a routine's own name read as a value (imported, or from elsewhere); a variable of the cell may be "conv_out"
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and _CONVOLUTION_NAME.search(n.id):
            if n.id in imported or n.id not in bound:
                return False
        if isinstance(n, ast.Name) and n.id in callable_names and n.id not in imported:
            return False
        if isinstance(n, ast.Attribute) and _CONVOLUTION_NAME.search(n.attr):
            return False
    modules = _MODULES | {"checks"} | set(callable_names)
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        func = call.func
        called_name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if _CONVOLUTION_NAME.search(called_name) and called_name[:1].isupper():
            return False  # a layer built here (nn.Conv2d(...)) is a routine that could be handed on
        if isinstance(func, ast.Name):
            if (
                func.id != name
                and func.id not in callable_names
                and (not hasattr(builtins, func.id) or func.id in bound)
            ):
                return False
        elif isinstance(func, ast.Attribute):
            root = func
            while isinstance(root, ast.Attribute):
                root = root.value
            from_module = isinstance(root, ast.Name) and root.id in modules and root.id not in bound
            if not from_module and func.attr not in _PURE_METHODS:
                return False
        else:
            return False
    return True


class _Helpers(frozenset):
    """The names a self-check may call: the cell's helper functions and what its library imports bound."""

    modules: frozenset = frozenset()


def _modules_among(callable_names: frozenset) -> frozenset:
    """Of ``callable_names``, those bound by imports: they may also be read as values (``np.pi``, ``np.ones``)."""
    return getattr(callable_names, "modules", frozenset())


def _self_check_helpers(tree: ast.Module, name: str, bound: set[str]) -> frozenset:
    """Names a cell binds only through self-check helpers and library imports: a self-check may call them.

    The largest set of such names whose every binding is a self-check when they may be called (names are taken
    out until that holds, so the loop ends).
    """
    bindings: dict[str, list[ast.stmt]] = {}
    for statement in tree.body:
        for bound_name in bound_names(statement):
            bindings.setdefault(bound_name, []).append(statement)
    kinds = ast.FunctionDef | ast.Import | ast.ImportFrom
    found = {
        n
        for n, statements in bindings.items()
        if n != name and all(isinstance(st, kinds) and n in _names_bound_at_top(st) for st in statements)
    }
    while True:
        helpers = _Helpers(found)
        helpers.modules = frozenset(
            n for n in found if all(isinstance(st, ast.Import | ast.ImportFrom) for st in bindings[n])
        )
        broken = {n for n in found if not all(_a_self_check(st, name, bound, helpers) for st in bindings[n])}
        if not broken:
            return helpers
        found -= broken


def _names_bound_at_top(statement: ast.stmt) -> set[str]:
    """The names a def or import binds in the cell's own namespace."""
    if isinstance(statement, ast.FunctionDef):
        return {statement.name}
    return {(alias.asname or alias.name).split(".")[0] for alias in getattr(statement, "names", [])}


def _free_names(statement: ast.stmt) -> set[str]:
    """Names a top-level statement reads from outside it, by Python's own scoping (:mod:`symtable`).

    What the statement's own code reads at the top (a default, a decorator, a base class, a loop's iterable),
    and what any function, class or comprehension in it reads as a global: a name a comprehension or lambda
    binds for itself does not hide the global of the same name that the function reads.
    """
    try:
        table = symtable.symtable(ast.unparse(statement), "<cell>", "exec")
    except SyntaxError:  # code ast accepts and the compiler refuses: every name it reads counts (stricter)
        return loaded_names(statement)
    found: set[str] = set()
    todo = [(table, True)]
    while todo:
        current, top = todo.pop()
        for symbol in current.get_symbols():
            # a class body reads a name it also binds from the globals first (x = x)
            outside = symbol.is_global() or (current.get_type() == "class" and not symbol.is_free())
            if symbol.is_referenced() and (top or outside):
                found.add(symbol.get_name())
        todo += [(child, False) for child in current.get_children()]
    return found


def definition_source(cells: list[str], name: str) -> str | None:
    """The code of ``cells`` that a static check of ``name`` reads (None if no cell defines it).

    Every cell that binds ``name`` anywhere or names it in a string (``globals()["f"] = ...``),
    whole, except its top-level self-checks (a ``print`` or ``assert`` that tries the answer out,
    also against a library routine: see :func:`_a_self_check`), unless a kept statement reads what
    they bind; a cell that mentions ``name`` but does not parse, or on a magic line, whole; and from
    every other cell, the statements that could rebind ``name`` unseen (``exec``, ``setattr``,
    ``globals()``, ``builtins``, ...).

    Parameters
    ----------
    cells : list of str
        Sources of code cells, in notebook order.
    name : str

    Returns
    -------
    str or None
        What is read, as source, in notebook order (unparsable cells first).
    """
    broken, statements, defined = [], [], False
    for source, _, tree in parsed_cells(cells):
        magic = any(line.lstrip().startswith(("%", "!")) and name in line for line in source.splitlines())
        if tree is None or magic:
            if name in source:
                broken.append(source)
            continue
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        bound = bound_names(tree)
        if name in bound or name in strings:
            defined = True
            imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
            bound -= set().union(*map(_names_bound_at_top, imports))  # bound to a non-module
            helpers = _self_check_helpers(tree, name, bound)
            statements += [(s, _a_self_check(s, name, bound - helpers, helpers)) for s in tree.body]
        else:
            statements += [(s, False) for s in tree.body if _rebinds(s)]
    if not defined and not broken:
        return None
    kept = {i for i, (_, check) in enumerate(statements) if not check}
    needed, changed = set().union(*(_free_names(statements[i][0]) for i in kept)), True
    while changed:  # a self-check that binds what kept code reads is kept too
        changed = False
        for i, (statement, _) in enumerate(statements):
            if i not in kept and bound_names(statement) & needed:
                kept.add(i)
                needed |= _free_names(statement)
                changed = True
    parts = broken + [ast.unparse(s) for i, (s, _) in enumerate(statements) if i in kept]
    return "\n\n".join(parts) or None


def _cells() -> list[str]:
    """The submission's code cells the grader handed over, or in a notebook this session's input history."""
    if _SUBMISSION["cells"] is not None:
        return _SUBMISSION["cells"]
    try:
        return [s for s in get_ipython().user_ns.get("In", []) if isinstance(s, str)]  # noqa: F821
    except NameError:
        return []


def _last_assignments(trees: list[ast.Module]) -> dict[str, ast.expr]:
    """Each name's value in its last top-level ``name = ...`` (or ``name: type = ...``) of the cells' trees."""
    found = {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            found.update({t.id: value for t in targets if isinstance(t, ast.Name)})
    return found


def _cell_trees() -> list[ast.Module]:
    return [tree for _, _, tree in parsed_cells(_cells()) if tree is not None]


def last_assignment(name: str) -> str:
    """The expression of the last top-level ``name = ...`` in the cells, as source ("" if there is none).

    At autograde time the cells are the submission's code cells before the test (set by the
    grader); in a notebook, this session's input history. Cells that do not parse are skipped.
    """
    value = _last_assignments(_cell_trees()).get(name)
    return "" if value is None else ast.unparse(value)


# Attributes through which a value is read from a network (its parameters).
_FROM_A_NETWORK = frozenset({"weight", "bias", "state_dict", "parameters", "named_parameters"})


def assignment_chain(name: str) -> list[str]:
    """The expressions ``name``'s value comes from: its last top-level assignment, then theirs for the names it reads.

    A name is followed back through the cells (``w = filter_bank(6, 7)``, then ``weights = w.clone()``) until
    a name is read through a network's parameters (``layer.conv.weight``, ``.state_dict()``), which ends that
    path, or an expression builds an object of a class the cells define (the layer), which is not followed. The cells
    are those :func:`last_assignment` reads.

    Returns
    -------
    list of str
        The expressions found, as source, starting with ``name``'s own ("" entries left out).
    """
    trees = _cell_trees()
    classes = {n.name for tree in trees for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    values = _last_assignments(trees)
    found, todo, seen = [], [name], set()
    while todo:
        current = todo.pop(0)
        if current in seen or current not in values:
            continue
        seen.add(current)
        value = values[current]
        calls = [n.func for n in ast.walk(value) if isinstance(n, ast.Call)]
        if current != name and any(isinstance(f, ast.Name) and f.id in classes for f in calls):
            continue  # an object of a class the student wrote is built here (the layer): it is not the value
        found.append(ast.unparse(value))
        # names read through a network's parameters end their path; every other name read is followed
        read_from_a_network = {
            n.id
            for node in ast.walk(value)
            if isinstance(node, ast.Attribute) and node.attr in _FROM_A_NETWORK
            for n in ast.walk(node.value)
            if isinstance(n, ast.Name)
        }
        todo += sorted(loaded_names(value) - read_from_a_network)
    return found


def convolution_routines_used(source: str) -> list[str]:
    """What in ``source`` calls, imports or could reach a library convolution routine.

    Flags attributes and imported names that contain "conv" or "correl"
    (``F.conv2d``, ``nn.Conv2d``, ``np.convolve``, ``scipy.signal.correlate2d``), dynamic
    look-ups (``getattr``, ``eval``, ``importlib``, ...), and any name read but not
    defined in ``source`` other than the usual modules and builtins (a helper defined
    in another cell could hide a routine). Local variable names are free.
    """
    tree = ast.parse(source)
    defined = bound_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _CONVOLUTION_NAME.search(node.attr):
            found.append(f".{node.attr}")
        elif isinstance(node, ast.alias) and (
            _CONVOLUTION_NAME.search(node.name) or node.name.split(".")[0] in _ESCAPES | _ESCAPE_MODULES
        ):
            found.append(f"import {node.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _ESCAPES | _ESCAPE_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names):
            found.append(f"from {node.module} import *")  # a routine could arrive under its own name
        elif isinstance(node, ast.Name) and node.id in _ESCAPES:
            found.append(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in _ESCAPES | _ESCAPE_ATTRIBUTES:
            found.append(f".{node.attr}")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in defined:
            if node.id not in _MODULES and not hasattr(builtins, node.id):
                found.append(f"{node.id} (defined in another cell)")
    return sorted(set(found))


def assert_no_convolution_routine(func, name: str = "conv2d_by_hand") -> None:
    """Fail unless the cells defining ``func`` reach no library convolution routine (a static check)."""
    try:
        used = convolution_routines_used(source_of(func, name))
    except SyntaxError:
        raise AssertionError(f"The cells that define {name} cannot be read: keep them plain Python.") from None
    if used:
        raise AssertionError(
            f"{name} must not call a library convolution routine or reach code outside its cell, but its cell "
            f"uses {', '.join(used)}. Write the sliding window yourself with loops or tensor indexing, "
            "and define any helper inside the same cell."
        )


# -- Operations that run where the student's objects live ---------------------------------------------


def kernel_side(func: Callable) -> Callable:
    """Run ``func`` where its arguments live.

    In the notebook, ``func`` simply runs. At autograde time the tests run in the
    grading process and the student's objects stay in the student's kernel
    (``grading.remote``); when an argument is such an object, ``func`` runs in that
    kernel and only its result, as plain data, comes back. Use it for whatever a
    test must do to a student's object besides calling it: backpropagate through
    it, set its parameters, train it.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            if getattr(type(value), "__course_remote__", False):
                return value._course_procedure(func, args, kwargs)
        return func(*args, **kwargs)

    return wrapper


@kernel_side
def value_and_grad(func: Callable, *args):
    """``func(*args)`` and its gradients with respect to the tensor arguments that require grad.

    Returns
    -------
    value : torch.Tensor
        The result, detached.
    grads : list of torch.Tensor
        One gradient per tensor argument with ``requires_grad``, in order.
    """
    inputs = [
        a.detach().clone().requires_grad_(True) if isinstance(a, torch.Tensor) and a.requires_grad else a for a in args
    ]
    value = func(*inputs)
    if not isinstance(value, torch.Tensor) or value.dim() != 0 or value.grad_fn is None:
        raise AssertionError("the result should be a scalar tensor that supports backward() (do not use .item()).")
    value.backward()
    return value.detach(), [a.grad for a in inputs if isinstance(a, torch.Tensor) and a.requires_grad]


@kernel_side
def set_parameters(module, values: dict) -> None:
    """Overwrite parameters of ``module``, e.g. ``{"conv.bias": tensor}``, without tracking gradients."""
    with torch.no_grad():
        for path, value in values.items():
            parameter, value = module.get_parameter(path), torch.as_tensor(value)
            if tuple(parameter.shape) != tuple(value.shape):
                shapes = f"{tuple(parameter.shape)}, but it should be {tuple(value.shape)}"
                raise AssertionError(f"{path} has shape {shapes}.")
            parameter.copy_(value)


@kernel_side
def build(cls, *args, seed: int = 0, **kwargs):
    """``cls(*args, **kwargs)`` with the random number generator seeded first (reproducible weights)."""
    torch.manual_seed(seed)
    return cls(*args, **kwargs)


@kernel_side
def fit(
    model,
    stimuli: torch.Tensor,
    targets: torch.Tensor,
    loss: str = "mse",
    n_epochs: int = 100,
    learning_rate: float = 0.01,
    penalty: Callable | None = None,
    penalised: str = "readout.weight",
    l1: float = 0.0,
) -> list[float]:
    """Train ``model`` with Adam, full batch; returns the loss of every epoch.

    Parameters
    ----------
    model : torch.nn.Module
    stimuli : torch.Tensor, (N, C, H, W), or (N, n_phases, C, H, W)
        With phases, the model's output is averaged over them
        (:func:`helpers.stimuli.mean_over_phases`).
    targets : torch.Tensor, (N, ...)
    loss : {"mse", "bce"}
        Mean squared error, or binary cross-entropy on the model's probabilities.
    penalty : callable, optional
        ``penalty(weights, l1, 0.0)`` added to the loss, on the parameter ``penalised``.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    losses = []
    for _ in range(n_epochs):
        optimizer.zero_grad()
        if stimuli.dim() == 5:  # phases: averaged as helpers.stimuli.mean_over_phases does (no import: kernel side)
            out = model(stimuli.flatten(0, 1)).unflatten(0, tuple(stimuli.shape[:2])).mean(dim=1)
        else:
            out = model(stimuli)
        value = F.binary_cross_entropy(out, targets) if loss == "bce" else ((out - targets) ** 2).mean()
        if penalty is not None:
            value = value + penalty(model.get_parameter(penalised), l1, 0.0)
        value.backward()
        optimizer.step()
        losses.append(float(value.detach()))
    return losses


# -- Fresh hidden inputs at autograde time ------------------------------------------------------------

_FRESH = {"seeds": None}


def fresh_hidden_seeds(on: bool) -> None:
    """At autograde time the grader turns this on: :func:`hidden_seed` then draws a new seed every call."""
    _FRESH["seeds"] = np.random.default_rng() if on else None


def hidden_seed(default: int) -> int:
    """The seed of a hidden test's random inputs: ``default`` in the notebook, fresh at every autograde."""
    rng = _FRESH["seeds"]
    return default if rng is None else int(rng.integers(1, 2**31))
