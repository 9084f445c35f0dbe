"""Submissions that break kernels or files: each is graded or reported, and the batch goes on.

The submissions that run a kernel are graded together by one ``nbgrader autograde`` run, as a
class is: one that stops its kernel must not cost the others anything.
"""

from __future__ import annotations

import pytest
from harness.notebooks import (
    autograded_cells,
    is_solution,
    notebook_path,
    read,
    reference_submission,
    solutions,
    with_answers,
)
from harness.scratch import Course

pytestmark = pytest.mark.slow
T2 = "t2_convolutions"
FIRST_TESTS = {
    "test_conv2d_by_hand_cross_correlation",
    "test_conv2d_by_hand_padding",
    "test_conv2d_by_hand_stride",
    "test_conv2d_by_hand_padding_and_stride",
    "test_conv2d_by_hand_no_library",
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    # a short cell timeout keeps the infinite-loop cases quick
    return Course.create(tmp_path_factory.mktemp("robust"), [T2], extra_config="c.Execute.timeout = 8\n")


def _reference_then(code_for_output_shape):
    """Reference answers, except that the second exercise's cell runs ``code_for_output_shape``."""
    return reference_submission(T2, {"conv_output_shape": code_for_output_shape})


def _earned(course, student):
    return {name for name, score in course.test_scores(student, T2).items() if score > 0}


@pytest.fixture(scope="module")
def graded(course):
    """The submissions that run a kernel, graded by one nbgrader run; notes on the misplaced ones."""
    for name, code in {**STOPPERS, **CELL_ERRORS, "huge_output": HUGE_OUTPUT, "forged_counts": FORGED_COUNTS}.items():
        course.submit(name.replace("_", "-"), T2, _reference_then(code))
    course.submit("prints-in-tests", T2, reference_submission(T2, {"conv2d_by_hand": PRINTS_IN_TESTS}))
    # one misplaced notebook graded to the end; the others are only placed (test_a_misplaced_notebook_is_placed)
    course.submit("misplaced", T2, _answered(), filename=MISPLACED[0])
    course.misplaced_notes = course.prepare("misplaced", T2)
    run = course.nbgrader("autograde", T2, "--force", timeout=1800)
    assert run.ok, run.output[-3000:]
    return course


MISPLACED = ["Copy of t2.ipynb", "../t2_convolutions.ipynb", "work/t2_convolutions.ipynb"]


def _answered():
    return with_answers(read(notebook_path(T2)), solutions(T2))


# Each stops the kernel at exercise 1.2: the five tests of exercise 1.1 ran before and keep their
# points; everything from exercise 1.2 on scores 0, and the submission is still graded.
STOPPERS = {
    # it waits rather than spins: what is tested is the grader's timeout, not the CPU (infinite_loop below spins)
    "loop_ignoring_interrupt": (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)\n"
    ),
    "os_exit": "import os\nos._exit(3)\n",
    "kill_own_kernel": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    # the socket folder is the one folder on the host's disk the sandbox can write to: files are refused
    # there (Landlock), and more sockets than a kernel needs get it stopped
    "fills_socket_folder": (
        "import json, os, socket, time\n"
        "_d = os.path.dirname(json.load(open('/run/course-sandbox/connection.json'))['ip'])\n"
        "for _i in range(3):\n"
        "    try:\n"
        "        with open(os.path.join(_d, f'fill{_i}'), 'wb') as _f:\n"
        "            _f.write(b'1' * 40 * 2**20)\n"
        "    except OSError:\n"
        "        pass\n"
        "_held = [socket.socket(socket.AF_UNIX) for _ in range(100)]\n"
        "for _i, _s in enumerate(_held):\n"
        "    _s.bind(os.path.join(_d, f's{_i}'))\n"
        "time.sleep(5)\n"
    ),
}


@pytest.mark.parametrize("name", sorted(STOPPERS))
def test_a_stopped_kernel_keeps_earlier_points_and_loses_the_rest(graded, name):
    assert _earned(graded, name.replace("_", "-")) == FIRST_TESTS


def test_a_kernel_that_fills_its_socket_folder_is_stopped(graded):
    """The kernel is killed when the folder holds more than sockets, or too many (TrustedExecute.max_socket_entries),
    and the notebook says why."""
    if not graded.sandboxed:
        pytest.skip("only the sandboxed kernel has a socket folder on the host")
    autograded = (graded.root / "autograded" / "fills-socket-folder" / T2 / f"{T2}.ipynb").read_text()
    assert "entries in its socket folder" in autograded or "other than a socket in its socket folder" in autograded


# These fail only their own cell (the timeout interrupts the loop; SystemExit is an ordinary error):
# the kernel lives on, so only the two tests of exercise 1.2 lose their points.
CELL_ERRORS = {
    "infinite_loop": "while True:\n    pass\n",
    "sys_exit": "import sys\nsys.exit(0)\n",
}


@pytest.mark.parametrize("name", sorted(CELL_ERRORS))
def test_a_failing_cell_costs_only_its_own_tests(graded, name):
    lost = set(autograded_cells(T2)) - _earned(graded, name.replace("_", "-"))
    assert lost == {"test_conv_output_shape_stride_1", "test_conv_output_shape_stride"}


HUGE_OUTPUT = (
    'import sys\nfor _ in range(40):\n    sys.stdout.write("x" * 2**20)\n    sys.stdout.flush()\n'
    "for i in range(20000):\n    print(i)\n" + solutions(T2)["conv_output_shape"]
)


def test_enormous_output_is_graded(graded):
    assert _earned(graded, "huge-output") == set(autograded_cells(T2))
    autograded = graded.root / "autograded" / "huge-output" / T2 / f"{T2}.ipynb"
    assert autograded.stat().st_size < 20 * 1024**2  # 40 MiB printed; outputs are kept up to 16 MiB
    assert "output dropped" in autograded.read_text()


def test_invalid_json_is_reported_not_graded(course):
    course.submit("broken-json", T2, '{"cells": [ oops')
    graded = course.grade("broken-json", T2)
    assert graded.scores is None and "not a valid notebook" in graded.problem


def test_empty_folder_is_reported(course):
    (course.root / "submitted" / "nobody" / T2).mkdir(parents=True)
    graded = course.grade("nobody", T2)
    assert graded.scores is None and "no notebook" in graded.problem


def test_a_misplaced_notebook_is_found_and_graded(graded):
    notes = graded.misplaced_notes
    assert notes and "graded" in notes[0], notes
    assert _earned(graded, "misplaced") == set(autograded_cells(T2))


@pytest.mark.parametrize("where", MISPLACED)
def test_a_misplaced_notebook_is_placed(graded, where):
    """Under another name, in the student's folder instead of the assignment's, or in a subfolder: the one
    notebook is moved to where nbgrader grades it (the grading after placement is the reference's)."""
    student = f"placed-{MISPLACED.index(where)}"  # never autograded: the batch ran before (the fixture `graded`)
    content = graded.submit(student, T2, _answered(), filename=where).read_bytes()
    notes = graded.prepare(student, T2)
    assert notes and "graded" in notes[0], notes
    assert (graded.root / "submitted" / student / T2 / f"{T2}.ipynb").read_bytes() == content


def test_every_solution_cell_is_code_or_markdown():
    assert all(c.cell_type in ("code", "markdown") for c in read(notebook_path(T2)).cells if is_solution(c))


# The kernel reports execution counts nbformat rejects: nbgrader would refuse to write the notebook.
FORGED_COUNTS = (
    "_k = get_ipython().kernel\n"
    "for _type, _content in [\n"
    '    ("execute_input", {"code": "", "execution_count": "<b>1</b>"}),\n'
    '    ("execute_result", {"data": {"text/plain": "1"}, "metadata": {}, "execution_count": "x"}),\n'
    "]:\n"
    '    _k.session.send(_k.iopub_socket, _type, _content, parent=_k.get_parent("shell"), ident=_k._topic(_type))\n'
    + solutions(T2)["conv_output_shape"]
)


def test_forged_execution_counts_cost_nothing(graded):
    assert _earned(graded, "forged-counts") == set(autograded_cells(T2))
    read(graded.root / "autograded" / "forged-counts" / T2 / f"{T2}.ipynb")  # valid


# A correct function that prints 1 MiB at every call, also while the tests call it from the grader
PRINTS_IN_TESTS = solutions(T2)["conv2d_by_hand"].replace(
    "def conv2d_by_hand(image, kernel, padding=0, stride=1):\n",
    'def conv2d_by_hand(image, kernel, padding=0, stride=1):\n    print("x" * 2**20)\n',
)


def test_printing_during_the_tests_costs_nothing(graded):
    assert PRINTS_IN_TESTS != solutions(T2)["conv2d_by_hand"]
    assert _earned(graded, "prints-in-tests") == set(autograded_cells(T2))
