"""The trusted test runner and its wire format, in-process (no kernel): milliseconds per test.

A fake kernel executes the agent's code in a plain namespace that plays the
student's; the real kernel path is covered by tests/test_grading*.py.
"""

from __future__ import annotations

import base64
import json
from unittest import mock

import nbformat
import numpy as np
import pytest
import torch

from grading.remote import HIDDEN_FAILURE, MIME, NoAnswer, Remote, RemoteError, Session, TestRunner, free_names
from helpers.checks import convolution_routines_used, definition_source

SETUP = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom helpers import checks\n"


class FakeKernel:
    """Executes requests like the student's kernel would, with ``user_ns`` as the student's namespace."""

    def __init__(self, student_code: str = ""):
        self.user_ns: dict = {}
        exec(SETUP + student_code, self.user_ns)
        self.requests: list[str] = []

    def execute(self, code: str) -> list:
        self.requests.append(code)
        shown = []

        def display(obj, raw=False):
            shown.append(nbformat.NotebookNode(output_type="display_data", data=dict(obj), metadata={}))

        namespace = self.user_ns
        namespace["get_ipython"] = lambda: mock.Mock(user_ns=namespace)
        with mock.patch("IPython.display.display", display):
            exec(code, namespace)
        return shown


def _run(test: str, student: str, setup: str = SETUP):
    kernel = FakeKernel(student)
    outputs = TestRunner([setup]).run(test, "test", kernel.execute, [student])
    errors = [o for o in outputs if o.output_type == "error"]
    return errors, outputs, kernel


def test_a_right_answer_passes_and_a_wrong_one_fails_with_the_tests_message():
    test = '_x = torch.arange(4.0)\nassert float(double(_x).sum()) == 12.0, "double is wrong"\nprint("passed")'
    errors, outputs, kernel = _run(test, "def double(x):\n    return 2 * x\n")
    assert not errors and outputs[0].text == "passed\n"
    assert not any("double is wrong" in r or "assert" in r for r in kernel.requests)  # test code stays here
    errors, _, _ = _run(test, "def double(x):\n    return 3 * x\n")
    assert [(e.ename, e.evalue) for e in errors] == [("AssertionError", "double is wrong")]


def test_the_students_exception_and_a_missing_name_fail_the_test():
    errors, _, _ = _run("double(1)", "def double(x):\n    raise NotImplementedError('not done')\n")
    assert [(e.ename, e.evalue) for e in errors] == [("NotImplementedError", "not done")]
    errors, _, _ = _run("double(1)", "")
    assert errors[0].ename == "NameError"


def test_a_failure_in_the_hidden_tests_is_marked_and_one_in_the_visible_tests_is_not():
    """The message says "(hidden test)" exactly when the failing line is one the release hides."""
    from grading.hidden import hidden_lines

    test = (
        'assert double(1) == 2, "double(1) is wrong"\n'
        "### BEGIN HIDDEN TESTS\n"
        'assert double(torch.tensor(3.0)) == 6, "double is wrong on a tensor"\n'
        "### END HIDDEN TESTS\n"
    )
    secret = hidden_lines(test)
    assert secret == {2, 3, 4}

    def run(student):
        kernel = FakeKernel(student)
        outputs = TestRunner([SETUP]).run(test, "test", kernel.execute, [student], hidden=secret)
        return [o.evalue for o in outputs if o.output_type == "error"]

    assert run("def double(x):\n    return 3 * x\n") == ["double(1) is wrong"]
    assert run("def double(x):\n    return 2 * x if isinstance(x, int) else x\n") == [
        HIDDEN_FAILURE + "double is wrong on a tensor"
    ]
    assert run("def double(x):\n    return 2 * x\n") == []
    # a failure inside the student's function, called from a hidden line, is the hidden test's too
    assert run("def double(x):\n    return 2 if x == 1 else x.nope\n")[0].startswith(HIDDEN_FAILURE)

    # and so is one inside a function the test defines on a visible line and calls from a hidden one
    test = (
        "def _check(x, expected):\n"
        '    assert double(x) == expected, f"double({x}) is wrong"\n'
        "_check(1, 2)\n"
        "### BEGIN HIDDEN TESTS\n"
        "_check(5, 10)\n"
        "### END HIDDEN TESTS\n"
    )
    secret = hidden_lines(test)
    assert run("def double(x):\n    return x + 2\n") == ["double(1) is wrong"]
    assert run("def double(x):\n    return 2 if x == 1 else x\n") == [HIDDEN_FAILURE + "double(5) is wrong"]


def test_modules_stay_in_the_kernel_and_claim_their_class():
    student = (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(1, 2, 3)\n"
    )
    test = (
        "_n = Net()\nassert isinstance(_n.conv, nn.Conv2d) and not isinstance(_n, nn.Conv2d)\n"
        "assert _n.conv.kernel_size == (3, 3) and _n.conv.weight.requires_grad\n"
        "assert tuple(_n.conv.weight.shape) == (2, 1, 3, 3)\n"
        "checks.set_parameters(_n, {'conv.bias': torch.tensor([1.0, 2.0])})\n"
        "assert _n.conv.bias.tolist() == [1.0, 2.0]\n"
    )
    errors, _, _ = _run(test, student)
    assert not errors, errors


def test_a_module_built_by_the_test_is_trained_in_the_kernel_and_comes_back():
    student = (
        "def train(net, loss_fn, x, y, n_epochs=3, learning_rate=0.1):\n"
        "    opt = torch.optim.SGD(net.parameters(), lr=learning_rate)\n"
        "    for _ in range(n_epochs):\n"
        "        opt.zero_grad(); loss = loss_fn(net(x), y); loss.backward(); opt.step()\n"
        "    return [0.0]\n"
    )
    test = (
        "torch.manual_seed(0)\n_net = nn.Linear(2, 1)\n_before = _net.weight.detach().clone()\n"
        "train(_net, nn.MSELoss(), torch.randn(8, 2), torch.randn(8, 1))\n"
        "assert not torch.equal(_net.weight, _before), 'not trained'\n"
    )
    errors, _, _ = _run(test, student)
    assert not errors, errors
    errors, _, _ = _run(test, student.replace("opt.step()", "pass"))
    assert [e.evalue for e in errors] == ["not trained"]


def test_gradients_come_from_a_kernel_side_procedure():
    test = (
        "_p = torch.tensor([1.0, -2.0], requires_grad=True)\n"
        "_v, (_g,) = checks.value_and_grad(sq, _p)\n"
        "assert _g.tolist() == [2.0, -4.0] and float(_v) == 5.0\n"
    )
    assert not _run(test, "def sq(p):\n    return (p**2).sum()\n")[0]
    errors, _, _ = _run(test, "def sq(p):\n    return float((p**2).sum())\n")
    assert errors and "backward" in errors[0].evalue


def test_rigged_objects_arrive_as_plain_data():
    student = (
        "class Yes(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
        "def count():\n    return Yes(1)\n"
    )
    errors, _, _ = _run("assert count() == 300, 'wrong count'\nassert type(count()) is int", student)
    assert [e.evalue for e in errors] == ["wrong count"]


def test_the_static_check_reads_the_cell_that_defines_the_function():
    test = "checks.assert_no_convolution_routine(conv)"
    assert not _run(test, "def conv(x):\n    return x.unfold(0, 2, 1).sum(-1)\n")[0]
    errors, _, _ = _run(test, "def conv(x):\n    return F.conv1d(x, x)\n")
    assert errors and ".conv1d" in errors[0].evalue


def _session_answering(text):
    answer = nbformat.NotebookNode(output_type="display_data", data={MIME: text}, metadata={})
    return Session(lambda code: [answer])


@pytest.mark.parametrize(
    "value",
    [
        {"$tensor": {"dtype": "float32", "shape": [3], "data": base64.b64encode(b"\0" * 8).decode()}},
        {"$tensor": {"dtype": "object", "shape": [1], "data": "", "requires_grad": False}},
        {"$pickle": "gASVAAAAAAAAAAB9lC4="},
        [1, 2, 3],
        {"$list": [1, {"$weird": 0}]},
        {"$dict": [[{"$list": []}, 1]]},
        {"$handle": "1", "type": "x", "mro": []},
    ],
    ids=["byte-count", "object-dtype", "pickle", "untagged-list", "unknown-tag", "unhashable-key", "bad-handle"],
)
def test_malformed_answers_are_refused(value):
    session = _session_answering("")

    def answer(code):
        ident = json.loads(eval(code.rsplit("run(", 1)[1][:-1]))["id"]  # noqa: S307  (our own request)
        reply = {"id": ident, "ok": True, "value": value, "sync": []}
        return [nbformat.NotebookNode(output_type="display_data", data={MIME: json.dumps(reply)}, metadata={})]

    session._execute = answer
    with pytest.raises(NoAnswer):
        session.names(["x"])["x"]


def test_answers_that_do_not_belong_to_the_request_are_refused():
    for text in ('{"id": "other", "ok": true, "value": 1}', "not json", '{"ok": true}'):
        with pytest.raises(NoAnswer):
            _session_answering(text).names(["x"])["x"]
    with pytest.raises(NoAnswer):
        Session(lambda code: []).names(["x"])["x"]


def test_deep_nesting_is_refused():
    session = _session_answering("")
    value: dict = {"$list": []}
    for _ in range(30):
        value = {"$list": [value]}
    with pytest.raises(NoAnswer):
        session.decode(value)


def test_student_errors_carry_their_name():
    kernel = FakeKernel("def f():\n    raise KeyError('k')\n")
    session = Session(kernel.execute)
    with pytest.raises(RemoteError) as err:
        session.names(["f"])["f"]()
    assert err.value.ename == "KeyError"


def test_handles_decode_to_remote_objects_and_arrays_roundtrip():
    kernel = FakeKernel("import numpy as np\nA = np.arange(6, dtype=np.int16).reshape(2, 3)\nclass C: pass\nc = C()\n")
    session = Session(kernel.execute)
    array = session.names(["A"])["A"]
    assert type(array) is np.ndarray and array.dtype == np.int16 and array.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert type(session.names(["c"])["c"]) is Remote
    tensor = session.names(["torch"])["torch"].zeros(2, 2)
    assert type(tensor) is torch.Tensor and tensor.shape == (2, 2)


def test_free_names_and_definition_source():
    assert free_names("_x = f(y)\nfor i in range(3):\n    g(i, _x)\n") == {"f", "y", "range", "g"}
    cells = ["def f():\n    pass\n", "x = 1\n", "def f(a):\n    return a\n", "f(3)\n"]
    assert definition_source(cells, "f") == "def f():\n    pass\n\ndef f(a):\n    return a"
    assert definition_source(cells, "missing") is None
    # rebinding in a block, through globals(), or in a cell that does not parse is read too
    later = ["if True:\n    f = F.conv1d\n", "globals()['f'] = g\n", "%%magic\nf = ???\n", "%timeit x\ny = 2\n"]
    found = definition_source([*cells, *later], "f")
    assert all(part in found for part in ("F.conv1d", "globals()['f']", "f = ???")) and "y = 2" not in found


def test_definition_source_leaves_out_self_checks_and_keeps_helpers():
    """A check of the answer in its own cell is not the answer; a helper it calls, or a decorator, is."""
    cell = (
        "import torch\n\n\ndef _pad(x, p):\n    return x\n\n\n"
        "def f(image, kernel, padding=0):\n    return torch.as_tensor(_pad(image, padding)) * kernel\n\n\n"
        "example = torch.ones(3, 3)\nprint(f(example, 2))\nassert torch.allclose(f(example, 1), F.conv2d(example, k))\n"
    )
    found = definition_source([cell], "f")
    assert "def _pad" in found and "import torch" in found and "conv2d" not in found and "example" not in found
    assert convolution_routines_used(found) == []
    decorated = "@lambda g: F.conv2d\ndef f(x):\n    return x\n\nprint(f(1))\n"
    assert convolution_routines_used(definition_source([decorated], "f")) == [".conv2d"]


@pytest.mark.parametrize(
    "later",
    [
        "exec('def f(x):\\n    return F.conv2d(x)\\n')\n",
        "globals()['f' + ''] = F.conv2d\n",
        "import builtins\nbuiltins.f = F.conv2d\n",
        "setattr(__import__('__main__'), 'f', F.conv2d)\n",
    ],
)
def test_a_later_cell_that_rebinds_dynamically_is_checked_too(later):
    """A cell that reaches for code dynamically could rebind the function unseen: the static check reads it."""
    found = definition_source(["def f(x):\n    return x\n", "y = 1\n", later], "f")
    assert convolution_routines_used(found) and "y = 1" not in found


def test_in_the_notebook_the_check_reads_the_functions_cell_as_the_grader_does():
    """checks.source_of reads the defining cell (IPython keeps it in linecache) and leaves out its self-checks."""
    import linecache

    from helpers import checks

    cell = "def f(x):\n    return x\n\n\nassert f(1) == F.conv2d(1)\n"
    filename = "<ipython-cell-test-1>"
    linecache.cache[filename] = (len(cell), None, cell.splitlines(keepends=True), filename)
    namespace = {}
    exec(compile(cell.split("\n\n\n")[0], filename, "exec"), namespace)
    try:
        assert checks.source_of(namespace["f"], "f") == definition_source([cell], "f") == "def f(x):\n    return x"
        checks.assert_no_convolution_routine(namespace["f"], "f")
    finally:
        linecache.cache.pop(filename, None)


@pytest.mark.parametrize(
    "source",
    [
        "from builtins import getattr as g\ndef f(x):\n    return g(F, 'con' + 'v2d')(x)\n",
        "import inspect\ndef f(x):\n    return inspect.getattr_static(F, 'con' + 'v2d')(x)\n",
        "import operator\ndef f(x):\n    return operator.attrgetter('con' + 'v2d')(F)(x)\n",
        "def f(x):\n    return F.__dict__['con' + 'v2d'](x)\n",
    ],
)
def test_the_static_check_sees_dynamic_lookups(source):
    from helpers.checks import convolution_routines_used

    assert convolution_routines_used(source)


def test_a_handle_posing_as_a_huge_sequence_cannot_keep_the_grader_busy():
    student = (
        "class Many:\n    def __len__(self):\n        return 10**9\n\n    def __getitem__(self, i):\n        return 0\n"
    )
    errors, _, kernel = _run("import numpy as np\nnp.asarray(many)", student + "many = Many()\n")
    assert errors and len(kernel.requests) <= 2001


def test_last_assignment_reads_the_submission_cells():
    """checks.last_assignment reads the submission's cells the grader hands over, not the kernel's history."""
    from helpers import checks

    cells = [
        "import torch\nweights = filter_bank(6, 7)  # an early try",
        "%matplotlib inline\nweights = conv_layer.conv.weight.detach().cpu()",
        "assert torch.allclose(weights, filter_bank(6, 7))  # a self-check binds nothing",
        "def f():\n    weights = 1",
        "x = (",
    ]
    try:
        checks.submission_cells(cells)
        assert checks.last_assignment("weights") == "conv_layer.conv.weight.detach().cpu()"
        assert checks.names_read(checks.last_assignment("weights")) == {"conv_layer"}
        checks.submission_cells(["weights: torch.Tensor = filter_bank(6, 7)"])
        assert checks.names_read(checks.last_assignment("weights")) == {"filter_bank"}
        assert checks.last_assignment("nothing") == ""
    finally:
        checks.submission_cells(None)
    assert checks.names_read("x = (") == set()


@pytest.mark.parametrize(
    "cells, built_again",
    [
        (["layer = ConvolutionalLayer(filters=filter_bank(6, 7))", "weights = layer.conv.weight.detach()"], False),
        (["net = Net(filter_bank(6, 7)).to(device)", "w = net.conv.weight", "weights = w.detach().cpu()"], False),
        (["sd = layer.state_dict()", "weights = sd['conv.weight']"], False),
        (["weights = filter_bank(6, 7)"], True),
        (["_fb = filter_bank(6, 7)", "weights = _fb.clone()"], True),
        (["bank = filter_bank(6, 7)", "again = bank", "weights = again.detach()"], True),
        (["kernels = filter_bank(6, 7)", "weights = torch.stack([k for k in kernels])"], True),
    ],
)
def test_assignment_chain_follows_the_value_back_to_a_layer_or_to_filter_bank(cells, built_again):
    """The weights check: a value read from the layer is fine; rebuilt with filter_bank, under any name, is not."""
    from helpers import checks

    try:
        checks.submission_cells(cells)
        chain = checks.assignment_chain("weights")
        assert chain and chain[0] == checks.last_assignment("weights")
        assert any("filter_bank" in checks.names_read(e) for e in chain) == built_again, chain
    finally:
        checks.submission_cells(None)


@pytest.mark.parametrize(
    "cell",
    [
        "ops = {}\ndef f(x):\n    return ops['c'](x)\nops['c'] = F.conv2d\n",
        "class I:\n    pass\nimpl = I()\ndef f(x):\n    return impl.run(x)\nimpl.run = F.conv2d\n",
        "ops = []\ndef f(x):\n    return ops[0](x)\nops.append(F.conv2d)\n",
        "ops = {}\ndef f(x):\n    return ops['c'](x)\ndef install():\n    ops['c'] = F.conv2d\ninstall()\n",
        "def f(x):\n    return f.c(x)\nf.c = F.conv2d\n",
        "import torch\ntorch.roll = F.conv2d\ndef f(x):\n    return torch.roll(x)\n",
    ],
)
def test_what_the_function_reaches_in_its_own_cell_is_read(cell):
    """Only self-checks are left out: a routine stored in a dict, list or attribute in the same cell is found."""
    assert convolution_routines_used(definition_source([cell], "f")) == [".conv2d"]


_LOOPS = (
    "def f(image, kernel, padding=0, stride=1):\n    out = torch.zeros(2, 2)\n    for i in range(2):\n"
    "        out[i, 0] = (image[i : i + 2, :2] * kernel).sum()\n    return out\n\n"
)


@pytest.mark.parametrize(
    "check",
    [
        # a loop over settings, an assert through .view, a helper of its own, scipy's correlate2d (the task names it)
        "for _p in range(3):\n    for _s in (1, 2):\n        _mine = f(_x, _k, padding=_p, stride=_s)\n"
        "        assert torch.allclose(_mine, F.conv2d(_x[None, None], _k[None, None], padding=_p)[0, 0])\n",
        "assert torch.allclose(f(_x, _k), F.conv2d(_x.view(1, 1, 6, 7), _k.view(1, 1, 3, 3)).squeeze())\n",
        "def _compare(padding, stride=1):\n    _y = F.conv2d(_x[None, None], _k[None, None], padding=padding)\n"
        "    return torch.allclose(f(_x, _k, padding), _y[0, 0])\n\nprint(_compare(0), _compare(1))\n",
        "from scipy.signal import correlate2d\nprint(np.allclose(f(_x, _k).numpy(), correlate2d(_x, _k, 'valid')))\n",
        "if not torch.allclose(f(_x, _k), F.conv2d(_x[None, None], _k[None, None])[0, 0]):\n    print('differs')\n",
        "with torch.no_grad():\n    _y = F.conv2d(_x[None, None], _k.flip(0, 1)[None, None])\n",
        "try:\n    assert torch.allclose(f(_x, _k), F.conv2d(_x[None, None], _k[None, None])[0, 0])\n"
        "except AssertionError as _e:\n    raise AssertionError('differs') from _e\n",
        "from scipy.signal import correlate2d\n_r = correlate2d(_x.numpy(), _k.numpy(), 'valid').astype(np.float32)\n",
        "torch_conv = F.conv2d(_x[None, None], _k[None, None])[0, 0]\nprint(torch.allclose(f(_x, _k), torch_conv))\n",
    ],
)
def test_a_self_check_of_any_plain_shape_is_not_the_answer(check):
    """A student who compares the answer with a library routine, in the same cell, keeps the no-library point."""
    found = definition_source([_LOOPS + "_x, _k = torch.randn(6, 7), torch.randn(3, 3)\n" + check], "f")
    assert convolution_routines_used(found) == [], found


@pytest.mark.parametrize(
    "after",
    [
        "f = lambda i, k, padding=0, stride=1: F.conv2d(i[None, None], k[None, None], padding=padding)[0, 0]\n",
        "for f in [F.conv2d]:\n    pass\n",
        "if True:\n    f = F.conv2d\n",
        "def _c():\n    global f\n    f = F.conv2d\n\n_c()\n",
        "from torch.nn.functional import conv2d as f\n",
        "import __main__\n\ndef _c():\n    setattr(__main__, 'f', F.conv2d)\n\n_c()\n",
        "@print\ndef _c():\n    return F.conv2d\n",
        # what a self-check could hand on (an adversarial review): the function's code, a default, a list it reads
        "import functools\n\ndef _ref(i, k, padding=0, stride=1):\n    return F.conv2d(i, k)\n\n"
        "functools.update_wrapper(f, _ref, assigned=('__code__',))\n",
        "for _ in map(f.__defaults__[-1].append, [F.conv2d]):\n    pass\n",
        "class _Box:\n    def to(self, op):\n        self.op = op\n\n_box = _Box()\n_box.to(F.conv2d)\n",
        "class _Box:\n    def to(self, op):\n        self.op = op\n\n_box = _Box()\n"
        "def _ref(i, k):\n    return F.conv2d(i, k)\n\n_box.to(_ref)\n",
        "_box.to(lambda i, k: F.conv2d(i, k))\n",
        "f(None, torch.nn.Conv2d(1, 1, 3, bias=False))\n",
    ],
)
def test_a_statement_that_rebinds_the_function_is_never_a_self_check(after):
    """What looks like a check but rebinds the answer (or may: a decorator, global, setattr) is read."""
    assert convolution_routines_used(definition_source([_LOOPS + after], "f")), after


@pytest.mark.parametrize(
    "cell",
    [
        "from scipy.signal import correlate2d\n\ndef f(image, kernel):\n    return correlate2d(image, kernel)\n",
        "def _h(i, k):\n    return F.conv2d(i[None, None], k[None, None])[0, 0]\n\n"
        "def f(image, kernel):\n    return _h(image, kernel)\n\nprint(f(1, 2))\n",
        # a default is read where the def stands; a name a comprehension binds does not hide the global one
        "from torch.nn.functional import conv2d as _c\n\ndef f(image, kernel, _c=_c):\n    return _c(image, kernel)\n",
        "for _c in [F.conv2d]:\n    pass\n\ndef f(image, kernel, _c=_c):\n    return _c(image, kernel)\n",
        "def _ref(i, k):\n    return F.conv2d(i, k)\n\n"
        "def f(image, kernel):\n    _ = [_ref for _ref in ()]\n    return _ref(image, kernel)\n",
        "_ops = []\n\ndef f(image, kernel):\n    return _ops[0](image, kernel)\n\n_ops += [F.conv2d]\n",
        "from torch.nn.functional import *\n\ndef f(image, kernel, conv2d=conv2d):\n    return conv2d(image, kernel)\n",
        # a class body reads a name it binds from the globals; a helper's name first bound by an import
        "from scipy.signal import correlate2d\n\nclass K:\n    correlate2d = correlate2d\n"
        "    run = staticmethod(correlate2d)\n\ndef f(x, w):\n    return K.run(x, w, 'valid')\n",
        "from math import floor as _ref\n\ndef _ref(i, k):\n    return F.conv2d(i, k)\n\n"
        "def f(x, w, _keep=[]):\n    return _keep[0](x, w)\n\nf(None, _ref)\n",
    ],
)
def test_a_helper_or_import_the_function_uses_is_read(cell):
    assert convolution_routines_used(definition_source([cell], "f"))


def test_a_cell_the_compiler_refuses_is_read_not_raised():
    """ast accepts a global declared after an assignment; symtable refuses it: the check reads it all."""
    broken = "def f(x, w):\n    total = 0\n    global total\n    return x\n"
    assert definition_source(["def f(x, w):\n    return x\n", broken], "f")


def test_a_shape_returned_as_torch_size_is_a_tuple():
    from helpers.checks import as_int_tuple

    assert as_int_tuple(torch.zeros(3, 4).shape, 2) == (3, 4)
    with pytest.raises(AssertionError, match="it is a Tensor"):
        as_int_tuple(torch.zeros(2), 2)


@pytest.mark.parametrize(
    "later, rebinds",
    [
        ("%time f = F.conv2d\n", True),
        ("import __main__\n__main__.f = F.conv2d\n", True),
        ("import gc\ngc.collect()\npattern = re.compile('x')\nfast = torch.compile(net)\n", False),
        ("conv = getattr(layer, 'conv')\nimport operator\n", False),
    ],
)
def test_only_cells_that_could_rebind_the_function_count(later, rebinds):
    """A magic line or __main__ can rebind it; everyday code elsewhere (gc, re.compile, getattr) costs nothing."""
    found = definition_source(["def f(x):\n    return x\n", later], "f")
    try:
        flagged = bool(convolution_routines_used(found))
    except SyntaxError:  # the magic cell is read whole, and a static check cannot read it
        flagged = True
    assert flagged == rebinds, found


@pytest.mark.parametrize(
    "cells",
    [
        ["w2 = filter_bank(6, 7)", "weights = layer.conv.weight * 0 + w2"],
        ["w = Tensor(filter_bank(6, 7))", "weights = w"],
    ],
)
def test_assignment_chain_is_not_stopped_by_a_parameter_or_a_library_class(cells):
    from helpers import checks

    try:
        checks.submission_cells(cells)
        assert any("filter_bank" in checks.names_read(e) for e in checks.assignment_chain("weights"))
    finally:
        checks.submission_cells(None)
