"""Attacks from inside the student's kernel, graded with real nbgrader (in the sandbox when bubblewrap is here).

Each attack is a submission: wrong answers of the right types for every exercise
of Tutorial 2, plus code that rewrites the kernel (IPython hooks, builtins,
``sys.modules``, the working folder, the kernel's replies) or reaches for files
outside it. The test cells run in the grading process (``grading.remote``). All attacks are
graded by one ``nbgrader autograde`` run, as a class is, between two honest
students; for each attack the notebook scores exactly what the same junk scores
without the attack (nothing), the honest neighbours get full marks, a student
graded earlier keeps their grades, and nothing in the course folder changes
except what nbgrader itself writes for the batch (no submission at all).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from harness.notebooks import (
    autograded_cells,
    grade_id,
    notebook_path,
    one_exercise,
    read,
    reference_submission,
    with_answers,
)
from harness.scratch import Course
from test_grading_attacks import JUNK  # wrong answers of the right types for every exercise

from grading import sandbox

pytestmark = pytest.mark.slow
T2 = "t2_convolutions"
INPUT_TRANSFORMER = """
def _empty_tests(lines):
    text = "".join(lines)
    return ['print("Visible test passed.")\\n'] if ('checks.' in text or 'course' in text) else lines
get_ipython().input_transformers_cleanup.append(_empty_tests)
"""

AST_TRANSFORMER = """
import ast
class _Swallow(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()])
        body = [ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
        return ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
get_ipython().ast_transformers.append(_Swallow())
"""

FORGED_REPLIES = """
import inspect
_ip = get_ipython()
_ip.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
_kernel = _ip.kernel
_original = _kernel.do_execute
async def _always_ok(*args, **kwargs):
    reply = _original(*args, **kwargs)
    if inspect.isawaitable(reply):
        reply = await reply
    reply = dict(reply)
    reply["status"] = "ok"
    return reply
_kernel.do_execute = _always_ok
"""

FORGED_DATA = """
import json, re
from IPython.display import display
_ip = get_ipython()
def _forge(lines):
    text = "".join(lines)
    found = re.search(r'"id": "([0-9a-f]+)"', text)
    if "__course_agent__" in text and found:
        reply = {"id": found.group(1), "ok": True, "value": 1.0, "sync": []}
        return [f"display({{'application/x-course-result': {json.dumps(json.dumps(reply))}}}, raw=True)\\n"]
    return lines
_ip.input_transformers_cleanup.append(_forge)
"""

SHADOWING = """
import sys, types
def globals():
    return {}
class _Pass:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None
checks = _Pass()
for _name in ("helpers.checks", "grading", "grading.prologue", "grading.remote"):
    sys.modules[_name] = types.SimpleNamespace(**{n: (lambda *a, **k: None) for n in (
        "assert_close", "assert_shape", "as_int_tuple", "conv2d_reference", "is_close", "fresh")})
"""

WORKDIR_MODULES = """
import os
for _pkg in ("helpers", "grading"):
    os.makedirs(_pkg, exist_ok=True)
    open(os.path.join(_pkg, "__init__.py"), "w").write("")
    for _mod in ("checks", "prologue", "remote", "agent"):
        open(os.path.join(_pkg, _mod + ".py"), "w").write(
            "def __getattr__(name):\\n    return lambda *a, **k: None\\n")
"""

BUILTINS = """
import builtins
builtins.zip = lambda *a, **k: iter(())
builtins.all = lambda *a, **k: True
builtins.abs = lambda x: 0.0
builtins.isinstance = lambda *a: True
builtins.print = lambda *a, **k: None
"""

LIBRARIES = """
import numpy as np
import torch
torch.Tensor.clamp = lambda self, *a, **k: self
torch.Tensor.__sub__ = lambda self, other: torch.zeros(())
torch.allclose = lambda *a, **k: True
np.corrcoef = lambda *a, **k: np.ones((2, 2))
np.linalg.norm = lambda *a, **k: 1.0
np.testing.assert_allclose = lambda *a, **k: None
"""

RIGGED_VALUES = """
class _Yes(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
class _Liar(torch.Tensor):
    def item(self):
        return 0.0
    def __eq__(self, other):
        return True
def n_conv_parameters(c_in, c_out, K):
    return _Yes(1)
"""

HISTORY_LEAK = """
def _leak(result):
    print("LEAK", "\\n".join(get_ipython().user_ns.get("In", [])))
get_ipython().events.register("post_run_cell", _leak)
"""

ESCAPES = """
import os, pathlib, glob
_found = []
for _pattern in ("/proc/*/cwd", "/root/*", "/home/*", "/work/*", "../*", "../../*", "../../../*"):
    _found += glob.glob(_pattern)
for _name, _target in enumerate(_found[:200]):
    try:
        os.symlink(_target, f"link{_name}")
    except OSError:
        pass
for _path in _found:
    _victims = [v for depth in range(1, 5) for v in glob.glob(os.path.join(_path, *["*"] * depth) + ".ipynb")]
    _victims += glob.glob(os.path.join(_path, "gradebook.db"))
    for _victim in [v for v in _victims if "submitted" in v or "gradebook" in v or "autograded" in v]:
        try:
            os.chmod(_victim, 0o777)
            open(_victim, "w").write("{}")
        except OSError:
            pass
try:
    os.makedirs(os.path.expanduser("~/.ipython/profile_default/startup"), exist_ok=True)
    open(os.path.expanduser("~/.ipython/profile_default/startup/00-zero.py"), "w").write("import os; os._exit(0)\\n")
except OSError:
    pass
"""

EXHAUSTION = """
import os, subprocess
for _path in ("big.bin", "/dev/shm/big.bin"):  # 4 GiB into the scratch folder and the in-memory one
    try:
        with open(_path, "wb") as _f:
            for _ in range(4096):
                _f.write(b"x" * 2**20)
    except OSError:
        pass
_children = []
try:
    for _ in range(2000):
        _children.append(subprocess.Popen(["sleep", "60"]))
except OSError:
    pass
"""

ATTACKS = {
    "input_transformer": INPUT_TRANSFORMER,
    "ast_transformer": AST_TRANSFORMER,
    "forged_execute_replies": FORGED_REPLIES,
    "forged_result_data": FORGED_DATA,
    "namespace_and_sys_modules_shadowing": SHADOWING,
    "working_folder_modules": WORKDIR_MODULES,
    "patched_builtins": BUILTINS,
    "patched_libraries": LIBRARIES,
    "rigged_values": RIGGED_VALUES,
    "history_and_hook_leaks": HISTORY_LEAK,
    "symlinks_and_writes_outside": ESCAPES,
    "disk_and_process_exhaustion": EXHAUSTION,
}


def _snapshot(root: Path, *graded: str) -> dict[str, tuple]:
    """Path -> (mode, hash) of every file under the course folder except what nbgrader writes for the ``graded``
    students (their ``autograded/`` and ``feedback/`` folders) and the gradebook. Every ``submitted/`` folder is
    kept: nothing grading does may change a submission."""
    written = {(top, student) for top in ("autograded", "feedback") for student in graded}
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if tuple(rel.split("/")[:2]) in written or rel.startswith(("gradebook.db", ".sandbox")):
            continue
        info = os.lstat(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else None
        out[rel] = (stat.S_IMODE(info.st_mode), stat.S_IFMT(info.st_mode), digest)
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    # a short cell timeout: an attack that hangs the kernel costs seconds, not minutes
    course = Course.create(tmp_path_factory.mktemp("kernel-attacks"), [T2], extra_config="c.Execute.timeout = 8\n")
    course.submit("honest", T2, reference_submission(T2))
    assert course.grade("honest", T2).scores is not None
    return course


def _total(course, student):
    return sum(course.test_scores(student, T2).values())


def _attacked(name: str):
    """The junk answers with attack ``name`` added where it takes effect."""
    answers = dict(JUNK)
    if name == "rigged_values":  # after the junk definitions, so that they are what the tests find
        answers["parameter_counts"] = JUNK["parameter_counts"] + ATTACKS[name]
    else:
        answers["conv2d_by_hand"] = ATTACKS[name] + "\n\n" + JUNK["conv2d_by_hand"]
    return with_answers(read(notebook_path(T2)), answers)


SANDBOX_ONLY = {"symlinks_and_writes_outside", "disk_and_process_exhaustion"}
#: Honest neighbours in the attackers' batch: nbgrader grades students in name order, so one before, one after.
NEIGHBOURS = ("a-honest-first", "zz-honest-last")


@pytest.fixture(scope="module")
def batch(course):
    """Every attack, the same junk without an attack, and two honest neighbours, graded by one ``nbgrader autograde``
    run as a class is; what the course folder and the earlier honest student's grades were before it."""
    students = {"junk": with_answers(read(notebook_path(T2)), JUNK)}
    students.update({name: reference_submission(T2) for name in NEIGHBOURS})
    for name in ATTACKS:
        if name not in SANDBOX_ONLY or course.sandboxed:  # unsandboxed grading runs student code with your rights
            students[name.replace("_", "-")] = _attacked(name)
    for student, notebook in students.items():
        course.submit(student, T2, notebook)
    before = {
        "honest": _total(course, "honest"),
        "gradebook mode": stat.S_IMODE(os.lstat(course.root / "gradebook.db").st_mode),
        "course folder": _snapshot(course.root, *students),
    }
    others = sorted({p.name for p in (course.root / "submitted").iterdir()} - set(students))  # graded before
    exclude = [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []
    course.batch_run = course.nbgrader("autograde", T2, "--force", *exclude, timeout=1800)
    course.batch_students, course.batch_before = set(students), before
    course.batch_after = _snapshot(course.root, *students)  # now: whatever the other tests then write
    return course


def test_the_batch_completes_and_junk_without_attack_scores_zero(batch):
    assert batch.batch_run.ok, batch.batch_run.output[-3000:]
    assert not [s for s in batch.batch_students if batch.scores(s, T2) is None], batch.batch_run.errors()
    assert _total(batch, "junk") == 0


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_kernel_attack_gains_nothing(batch, name):
    if name in SANDBOX_ONLY and not batch.sandboxed:
        pytest.skip("needs the sandbox (bubblewrap): unsandboxed grading runs student code with your rights")
    student = name.replace("_", "-")
    assert batch.scores(student, T2) is not None, batch.batch_run.errors()
    scores = batch.test_scores(student, T2)
    assert sum(scores.values()) == 0, {k: v for k, v in scores.items() if v}
    autograded = batch.root / "autograded" / student / T2
    assert all(p.is_file() and not p.is_symlink() for p in autograded.rglob("*")), list(autograded.rglob("*"))


def test_the_attacks_change_nothing_and_harm_no_neighbour(batch):
    """Outside the batch's own results the course folder is byte for byte what it was, the gradebook keeps its mode,
    the student graded before keeps their grades, and the honest students graded before and after the attackers in
    the same run get full marks."""
    before = batch.batch_before
    assert batch.batch_after == before["course folder"]
    assert stat.S_IMODE(os.lstat(batch.root / "gradebook.db").st_mode) == before["gradebook mode"]
    assert _total(batch, "honest") == before["honest"]
    maximum = sum(v for k, v in batch.max_scores(T2).items() if k in set(autograded_cells(T2)))
    assert before["honest"] == maximum
    assert {s: _total(batch, s) for s in NEIGHBOURS} == dict.fromkeys(NEIGHBOURS, maximum)
    for student in NEIGHBOURS:  # their graded notebooks, as nbgrader wrote them: valid, no cell failed
        graded = read(batch.autograded_notebook(student, T2))
        failed = [
            grade_id(c) for c in graded.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))
        ]
        assert not failed, (student, failed)


def test_feedback_never_shows_hidden_tests_or_leaked_history(batch):
    student = "history-and-hook-leaks"
    run = batch.generate_feedback(student, T2)
    assert run.ok, run.output[-2000:]
    html = batch.feedback_html(student, T2).read_text()
    assert "conv2d_by_hand(4 x 5 image, 2 x 2 kernel)" in html  # the visible message a student acts on
    for secret in ("hidden_seed(", "BEGIN HIDDEN TESTS", "conv2d_by_hand(_image, _kernel, padding=_p)", "__course"):
        assert secret not in html, secret
    feedback = batch.root / "feedback" / student / T2
    assert sorted(p.name for p in feedback.iterdir()) == [batch.feedback_html(student, T2).name]


PROBE = 'import os\nprint("SANDBOXED=" + str(os.environ.get("COURSE_SANDBOXED")))\n'
#: The sandbox probes grade the one-exercise assignment: what they test does not depend on a tutorial.
PROBED = "probed"


def _probe_course(root: Path, **options) -> Course:
    return Course.create(root, [], notebooks={PROBED: one_exercise()}, **options)


def _probe(course) -> str:
    """What the kernel that graded a submission said about its sandbox: 'SANDBOXED=1' inside it."""
    course.submit("probe", PROBED, one_exercise(PROBE + "def double(x):\n    return 2 * x"))
    graded = course.grade("probe", PROBED)
    assert graded.scores is not None, graded.problem
    autograded = read(course.autograded_notebook("probe", PROBED))
    texts = [o.get("text", "") for c in autograded.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    return next(t for t in texts if t.startswith("SANDBOXED=")).strip()


def test_no_kernel_name_switches_the_sandbox_off(tmp_path):
    """Neither the notebook's kernelspec (python3) nor Execute.kernel_name can make grading leave the sandbox."""
    if not sandbox.available():
        pytest.skip("bubblewrap is not installed")
    strict = _probe_course(tmp_path / "strict", sandbox=True, extra_config='c.Execute.kernel_name = "python3"\n')
    assert _probe(strict) == "SANDBOXED=1"


def test_opting_out_of_the_sandbox_is_explicit(tmp_path):
    assert _probe(_probe_course(tmp_path / "open", sandbox=False)) == "SANDBOXED=None"


def test_links_in_a_submission_folder_are_never_followed(course):
    """A submission that carries links to the gradebook and the instructor's notebook gets neither.

    It also carries a folder deeper than PATH_MAX, which once made the link check fail (and nbgrader
    ignores a failing hook) while nbgrader's copy, which skips ``__pycache__``, went on to follow the links.
    """
    path = course.submit("linker", T2, with_answers(read(notebook_path(T2)), JUNK))
    (path.parent / "gradebook.db").symlink_to(course.root / "gradebook.db")
    (path.parent / "solutions.ipynb.txt").symlink_to(course.root / "source" / T2 / f"{T2}.ipynb")
    fd = os.open(path.parent, os.O_RDONLY)
    for name in ["__pycache__", *(f"{i:02d}" + "d" * 240 for i in range(20))]:
        os.mkdir(name, dir_fd=fd)
        fd, previous = os.open(name, os.O_RDONLY, dir_fd=fd), fd
        os.close(previous)
    os.close(fd)
    mode = stat.S_IMODE(os.lstat(course.root / "gradebook.db").st_mode)
    graded = course.grade("linker", T2)
    assert graded.scores is not None, graded.problem
    autograded = course.root / "autograded" / "linker" / T2
    assert sorted(p.name for p in autograded.iterdir()) == [f"{T2}.ipynb"]
    assert not list((course.root / "feedback").glob("linker/**/*.txt"))
    assert stat.S_IMODE(os.lstat(course.root / "gradebook.db").st_mode) == mode
    assert _total(course, "linker") == 0
