"""The trusted side of a graded test: test code runs here, the student's code stays in its kernel.

:class:`TestRunner` executes an instructor's test cell in the grading process, never
in the student's kernel. Names the test reads that the course's setup cell does not
define (``conv2d_by_hand``, ``ConvolutionalLayer``, ``convout``) are fetched from the
student's kernel through a :class:`Session`: plain values (numbers, strings,
tensors, arrays, lists, tuples, dicts) arrive as fresh copies decoded here by
:func:`decode`; anything else (a function, a class, a module instance) stays in the
kernel and is represented by a :class:`Remote` handle, whose calls and attributes are
again requests. The student's kernel only ever receives requests and inputs; the
assertions, expected values and hidden test code run here, so a student who rewrites
the kernel (IPython hooks, builtins, ``sys.modules``, forged replies) changes at most
the data handed back, and data earns points only by being right.

Decoding is strict: JSON only, a bounded size and depth, whitelisted dtypes, exact
byte counts. Requests to the kernel may carry pickles (a fresh ``torch.nn`` module a
test built); replies never do.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import inspect
import io
import json
import math
import os
import secrets
import textwrap
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nbformat.notebooknode import NotebookNode

# numpy and torch are imported inside the functions that need them: nbgrader imports this module
# when it reads its configuration, and torch's import then runs while the student's kernel starts.

MIME = "application/x-course-result"
MAX_DEPTH = 20
# The start of the message of a failure raised by a hidden test (the student's own run never shows one).
HIDDEN_FAILURE = "(hidden test) "
MAX_STACK = 300  # frames: far below the recursion limit, so nested handles fail cleanly
DTYPES = frozenset({"bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"})
AGENT_SOURCE = (Path(__file__).with_name("agent.py")).read_text()
# Sent once per kernel: defines the agent's class; every test cell then starts a fresh agent (no old handles).
BOOT = "__course_Agent__ = (lambda _ns: (exec({src!r}, _ns), _ns['Agent'])[1])({{'__name__': 'course_agent'}})\n"
START = "__course_agent__ = __course_Agent__(get_ipython().user_ns)\n"
# Classes a handle may claim to be for ``isinstance`` checks in tests; every other handle is a Remote.
TRUSTED_CLASSES = {
    "torch.nn.modules.conv.Conv2d": "Conv2d",
    "torch.nn.modules.linear.Linear": "Linear",
    "torch.nn.modules.module.Module": "Module",
}


class RemoteError(Exception):
    """The student's code raised ``ename: evalue`` in the kernel."""

    def __init__(self, ename: str, evalue: str):
        super().__init__(evalue)
        self.ename, self.evalue = ename, evalue


class NoAnswer(Exception):
    """The kernel gave no valid answer to a request (timeout, tampering, unreadable data)."""


class KernelStopped(Exception):
    """The kernel died or stopped answering: the rest of the notebook cannot run."""


class Remote:
    """An object that lives in the student's kernel: attribute reads and calls are requests."""

    __course_remote__ = True
    __slots__ = ("_session", "_key", "_type", "_mro", "_source")

    def __init__(self, session: Session, key: int, kind: str, mro: list[str]):
        for name, value in zip(self.__slots__, (session, key, kind, mro, None), strict=True):
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        try:
            return self._session.request("getattr", target=self._key, name=name)
        except RemoteError as err:
            if err.ename == "AttributeError":
                raise AttributeError(err.evalue) from None
            raise

    def __setattr__(self, name: str, value) -> None:
        self._session.request("setattr", target=self._key, name=name, value=self._session.encode(value))

    def __call__(self, *args, **kwargs):
        return self._session.call("call", {"target": self._key}, args, kwargs)

    def __iter__(self):
        items = self._session.request("list", target=self._key)
        if type(items) is not list:
            raise TypeError("iterating a student object did not give a list")
        return iter(items)

    def __len__(self) -> int:
        value = self._session.request("len", target=self._key)
        if type(value) is not int:
            raise TypeError("len() of a student object did not give an integer")
        return value

    def __getitem__(self, key):
        return self._session.request("getitem", target=self._key, key=self._session.encode(key))

    @property
    def __class__(self):  # isinstance(handle, nn.Conv2d) is what the kernel claims; the data is checked later
        import torch.nn

        for name in self._mro:
            if name in TRUSTED_CLASSES:
                return getattr(torch.nn, TRUSTED_CLASSES[name])
        return Remote

    def __repr__(self) -> str:
        return f"<{self._type} object in the student's kernel>"

    def _course_procedure(self, func, args: tuple, kwargs: dict):
        """Run the procedure ``func`` (from this process's ``helpers.checks``) in the kernel, where this object lives.

        Its source is sent with the request: the kernel's own ``helpers`` may have been replaced.
        """
        lines = textwrap.dedent(inspect.getsource(func)).splitlines()
        source = "\n".join(line for line in lines if not line.startswith("@"))
        return self._session.call("proc", {"name": func.__name__, "source": source}, args, kwargs)


@dataclass(frozen=True)
class Limits:
    """Bounds on one test cell's requests; set from ``TrustedExecute``'s options (help text there).

    Attributes
    ----------
    max_reply_bytes : int
        Largest answer to one request, in bytes.
    max_requests : int
        Requests per test cell.
    max_seconds : float
        Seconds per test cell, all requests together.
    deadline : float
        ``time.monotonic()`` past which no request starts (the notebook's deadline).
    """

    max_reply_bytes: int = 16 * 2**20
    max_requests: int = 2000
    max_seconds: float = 600.0
    deadline: float = float("inf")


class Session:
    """Requests of one test cell to the student's kernel.

    Parameters
    ----------
    execute : callable
        ``execute(code) -> outputs``: runs ``code`` in the student's kernel and returns
        the nbformat outputs it produced (the grading preprocessor provides it).
    boot : bool
        Send the agent's code first (once per kernel; later sessions reuse it).
    limits : Limits
        Bounds on the requests.
    """

    def __init__(self, execute: Callable[[str], list[NotebookNode]], boot: bool = True, limits: Limits = Limits()):
        self._execute = execute
        self._prefix = (BOOT.format(src=AGENT_SOURCE) if boot else "") + START
        self._modules: list = []  # torch.nn modules sent with the current request
        self._count = 0
        self.limits = limits
        self._deadline = min(time.monotonic() + limits.max_seconds, limits.deadline)

    # -- requests -------------------------------------------------------------------------------
    def request(self, op: str, **fields):
        if _stack_depth() > MAX_STACK:
            raise NoAnswer("the kernel's objects nest too deeply")
        self._count += 1
        if self._count > self.limits.max_requests or time.monotonic() > self._deadline:
            raise NoAnswer(f"the test asked the kernel too often or too long ({self._count} requests)")
        ident = secrets.token_hex(8)
        code = self._prefix + f"__course_agent__.run({json.dumps({'id': ident, 'op': op, **fields})!r})"
        self._prefix = ""
        outputs = self._execute(code)
        replies = [
            out["data"][MIME]
            for out in outputs
            if out.get("output_type") == "display_data" and MIME in out.get("data", {})
        ]
        if len(replies) != 1:
            errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in outputs if o.get("output_type") == "error"]
            why = errors[0] if errors else f"{len(replies)} answers instead of one"
            raise NoAnswer(f"the kernel gave no valid answer ({why[:300]})")
        text = replies[0]
        if not isinstance(text, str) or len(text) > self.limits.max_reply_bytes:
            raise NoAnswer(f"the kernel's answer is not a string of at most {self.limits.max_reply_bytes} bytes")
        try:
            reply = json.loads(text)
        except ValueError as err:
            raise NoAnswer(f"the kernel's answer is not JSON ({err})") from None
        if not isinstance(reply, dict) or reply.get("id") != ident:
            raise NoAnswer("the kernel's answer does not belong to this request")
        if reply.get("ok") is not True:
            raise RemoteError(str(reply.get("ename", "Error"))[:100], str(reply.get("evalue", ""))[:2000])
        import torch

        modules, self._modules = self._modules, []
        states = reply.get("sync", [])
        if not isinstance(states, list) or len(states) != len(modules):
            raise NoAnswer("the kernel did not hand back the modules it was given")
        for module, state in zip(modules, states, strict=True):
            state = self.decode(state)
            if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
                raise NoAnswer("the kernel handed back a module's state that is not a dict of tensors")
            module.load_state_dict({k: v.detach() for k, v in state.items()})
        return self.decode(reply["value"])

    def call(self, op: str, fields: dict, args: tuple, kwargs: dict):
        self._modules = []
        encoded = {"args": self.encode(list(args)), "kwargs": self.encode(dict(kwargs))}
        return self.request(op, **fields, **encoded)

    def names(self, names: list[str]) -> dict:
        """The values of those of ``names`` that the student's namespace defines, in one request."""
        found = self.request("names", names=list(names))
        if type(found) is not dict or not set(found) <= set(names):
            raise NoAnswer("the kernel answered with names that were not asked for")
        return found

    # -- to the kernel --------------------------------------------------------------------------
    def encode(self, value, depth: int = 0):
        """A value of the test, for a request (tensors as bytes, new modules pickled)."""
        import numpy as np
        import torch

        if depth > MAX_DEPTH:
            raise ValueError("value nested too deeply")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is Remote:
            if value._session is not self:
                raise ValueError("a student object of another test cell")
            return {"$handle": value._key}
        if isinstance(value, torch.Tensor):
            return {"$tensor": _array_spec(value.detach().cpu().contiguous().numpy(), value.requires_grad)}
        if isinstance(value, np.ndarray):
            return {"$ndarray": _array_spec(np.ascontiguousarray(value), False)}
        if isinstance(value, list | tuple):
            return {f"${type(value).__name__}": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            return {"$dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if isinstance(value, np.generic):
            return value.item()
        buffer = io.BytesIO()
        torch.save(value, buffer)
        if isinstance(value, torch.nn.Module):
            self._modules.append(value)  # trained in the kernel: its new state comes back with the answer
        return {"$pickle": base64.b64encode(buffer.getvalue()).decode("ascii")}

    # -- from the kernel ------------------------------------------------------------------------
    def decode(self, value, depth: int = 0):
        """A value from the kernel's answer: plain data, or a :class:`Remote` handle. Raises NoAnswer."""
        import torch

        if depth > MAX_DEPTH:
            raise NoAnswer("the answer is nested too deeply")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is list:  # JSON arrays only appear inside tags
            raise NoAnswer("untagged list in the answer")
        if type(value) is not dict or len(value) == 0:
            raise NoAnswer("unreadable value in the answer")
        if "$list" in value or "$tuple" in value:
            items = value.get("$list", value.get("$tuple"))
            if type(items) is not list:
                raise NoAnswer("unreadable sequence in the answer")
            decoded = [self.decode(v, depth + 1) for v in items]
            return decoded if "$list" in value else tuple(decoded)
        if "$dict" in value:
            pairs = value["$dict"]
            if type(pairs) is not list or not all(type(p) is list and len(p) == 2 for p in pairs):
                raise NoAnswer("unreadable dict in the answer")
            out = {}
            for k, v in pairs:
                key = self.decode(k, depth + 1)
                if type(key) not in (str, int, float, bool, tuple) and key is not None:
                    raise NoAnswer("unhashable dict key in the answer")
                out[key] = self.decode(v, depth + 1)
            return out
        if "$handle" in value:
            key, kind, mro = value.get("$handle"), value.get("type"), value.get("mro")
            if type(key) is not int or type(kind) is not str or type(mro) is not list:
                raise NoAnswer("unreadable object handle in the answer")
            return Remote(self, key, kind[:200], [str(m)[:200] for m in mro[:50]])
        for tag in ("$tensor", "$ndarray"):
            if tag in value:
                array = _array_from_spec(value[tag])
                if tag == "$ndarray":
                    return array
                tensor = torch.from_numpy(array)
                if value[tag].get("requires_grad") is True and tensor.is_floating_point():
                    tensor.requires_grad_(True)
                return tensor
        raise NoAnswer("unknown value in the answer")


def _stack_depth() -> int:
    frame, depth = inspect.currentframe(), 0
    while frame is not None and depth <= MAX_STACK:
        frame, depth = frame.f_back, depth + 1
    return depth


def _array_spec(array, requires_grad: bool) -> dict:
    import numpy as np

    if array.dtype.name not in DTYPES:
        array = array.astype(np.float64)
    raw = base64.b64encode(array.tobytes()).decode("ascii")
    return {"dtype": array.dtype.name, "shape": list(array.shape), "data": raw, "requires_grad": bool(requires_grad)}


def _array_from_spec(spec):
    import numpy as np

    if type(spec) is not dict:
        raise NoAnswer("unreadable array in the answer")
    dtype, shape, data = spec.get("dtype"), spec.get("shape"), spec.get("data")
    if dtype not in DTYPES or type(shape) is not list or type(data) is not str or len(shape) > 8:
        raise NoAnswer("unreadable array in the answer")
    if not all(type(n) is int and 0 <= n <= 2**31 for n in shape):
        raise NoAnswer("unreadable array shape in the answer")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise NoAnswer("unreadable array bytes in the answer") from None
    itemsize = np.dtype(dtype).itemsize
    if len(raw) != math.prod(shape) * itemsize:
        raise NoAnswer("array bytes do not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


# ---------------------------------------------------------------------------------------------------
def free_names(source: str) -> set[str]:
    """Names a piece of code reads but never binds itself."""
    from helpers.checks import (
        bound_names,
        loaded_names,
    )  # here: helpers imports torch, which nbgrader should not wait for

    tree = ast.parse(source)
    return loaded_names(tree) - bound_names(tree)


def without_display(tree: ast.Module, display_modules: tuple[str, ...]) -> ast.Module:
    """``tree`` without imports from ``display_modules`` and without calls of what they define or of print."""

    def drawing(module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in display_modules)

    dropped = {"print"}
    body = []
    for node in tree.body:
        if isinstance(node, ast.Import) and all(drawing(a.name) for a in node.names):
            dropped |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and drawing(node.module):
            dropped |= {a.asname or a.name for a in node.names}
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name | ast.Attribute)
            and ast.unparse(node.value.func).split(".")[0] in dropped
        ):
            continue
        else:
            body.append(node)
    return ast.Module(body=body, type_ignores=[])


@contextlib.contextmanager
def offline():
    """Data loaders use the cache or the simulation, as in the sandbox, never the network."""
    before = os.environ.get("COURSE_OFFLINE")
    os.environ["COURSE_OFFLINE"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COURSE_OFFLINE", None)
        else:
            os.environ["COURSE_OFFLINE"] = before


class TestRunner:
    """Runs the test cells of one notebook in this (trusted) process.

    Parameters
    ----------
    setup_sources : list of str
        The instructor's setup cells (from the gradebook), executed here once to give
        every test the trusted names they define (``checks``, ``gratings``, data, ...).
    display_modules : tuple of str
        Modules that only draw or print (plotting, widgets): their imports, and
        calls of what they define or of ``print``, are left out of the setup here.
    """

    __test__ = False  # not a pytest class

    def __init__(self, setup_sources: list[str], display_modules: tuple[str, ...] = ()):
        import helpers.checks

        self.base: dict = {"__name__": "__course_test__", "__builtins__": builtins}
        self.setup_error: str | None = None
        self.booted = False
        helpers.checks.fresh_hidden_seeds(True)
        with offline(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for source in setup_sources:
                try:
                    code = without_display(ast.parse(source), display_modules)
                    exec(compile(code, "<setup>", "exec"), self.base)  # noqa: S102  (the instructor's cell)
                except Exception as err:  # noqa: BLE001
                    self.setup_error = f"{type(err).__name__}: {err}"

    def run(
        self,
        source: str,
        name: str,
        execute: Callable[[str], list[NotebookNode]],
        student_cells: list[str],
        limits: Limits = Limits(),
        hidden: frozenset[int] = frozenset(),
    ) -> list[NotebookNode]:
        """Run one test cell; return its outputs (printed text, and an error if it failed).

        ``student_cells`` are the sources of the submission's code cells before this test,
        from which a static check reads the cell that defines a student's function.
        ``hidden`` are the numbers of the cell's lines the release does not show
        (:func:`grading.hidden.hidden_lines`): a failure raised on one of them has its message
        marked with :data:`HIDDEN_FAILURE`, so feedback tells it from a visible test's.

        Raises
        ------
        KernelStopped
            When the student's kernel died or stopped answering.
        """
        if self.setup_error:
            return [error_output("SetupError", f"the course's setup cell failed in the grader: {self.setup_error}")]
        import helpers.checks

        helpers.checks.submission_cells(student_cells)  # what checks.last_assignment reads: the file's cells
        namespace = dict(self.base)
        session = Session(execute, boot=not self.booted, limits=limits)
        self.booted = True
        printed = io.StringIO()
        failure = None
        with contextlib.redirect_stdout(printed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                wanted = sorted(free_names(source) - set(namespace) - set(dir(builtins)))
                found = session.names(wanted) if wanted else {}
                for missing, value in found.items():  # a name not found fails the test with NameError
                    if type(value) is Remote:
                        object.__setattr__(value, "_source", helpers.checks.definition_source(student_cells, missing))
                    namespace[missing] = value
                exec(compile(source, _filename(name), "exec"), namespace)  # noqa: S102  (the instructor's test)
            except (KernelStopped, KeyboardInterrupt, SystemExit):
                raise
            except RemoteError as err:
                failure = error_output(err.ename, _marked(err.evalue, err, name, hidden))
            except BaseException as err:  # noqa: BLE001  (every failure of a test is its verdict, even a panic)
                failure = error_output(type(err).__name__, _marked(str(err)[:2000], err, name, hidden))
        outputs = []
        if printed.getvalue():
            outputs.append(NotebookNode(output_type="stream", name="stdout", text=printed.getvalue()))
        if failure is not None:
            outputs.append(failure)
        return outputs


def failing_line(err: BaseException, filename: str) -> int | None:
    """The top-level statement of the code compiled as ``filename`` that ``err`` came out of, or None.

    The outermost frame of that code: a function the cell defines (on a visible line) and calls from a hidden
    line fails on the hidden line.
    """
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            return tb.tb_lineno
        tb = tb.tb_next
    return None


def _marked(evalue: str, err: BaseException, name: str, hidden: frozenset[int]) -> str:
    return HIDDEN_FAILURE + evalue if failing_line(err, _filename(name)) in hidden else evalue


def _filename(name: str) -> str:
    """The file name a test cell's code is compiled under, by which its frames are found again."""
    return f"<{name}>"


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An nbformat error output (its traceback only the one line ``ename: evalue``)."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
