"""The grader's bounds, end to end: attacks on its memory, disk and time, in the sandbox, through plain
``nbgrader autograde`` and through ``course grade``.

Each attack is Tutorial 2's reference answers with attack code added to the first solution cell. The
attacks are graded together, between two honest students, by one plain ``nbgrader autograde`` run, as a
class is. For each attack the submission scores no more than the reference answers and its autograded
notebook stays within the output bound; for the batch, the honest students keep full marks, the course
folder changes only where nbgrader writes the batch's results, no scratch folder stays behind, and the
grading process's peak memory stays within a stated margin of a process that graded one honest submission.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from harness.notebooks import autograded_cells, reference_submission, solutions
from harness.scratch import BIN, Course, nbgrader_env
from test_grading_kernel_attacks import _snapshot

from grading import sandbox

pytestmark = pytest.mark.slow
T2 = "t2_convolutions"
MiB = 2**20
#: The bounds of these courses (set small so that each attack crosses them quickly).
BOUNDS = (
    "c.TrustedExecute.max_kernel_bytes = 64 * 2**20\n"
    "c.TrustedExecute.max_output_bytes = 4 * 2**20\n"
    "c.TrustedExecute.max_frame_bytes = 16 * 2**20\n"
    "c.TrustedExecute.max_reply_bytes = 8 * 2**20\n"
)
#: How far above an honest submission's peak the grading process may go under attack.
MEMORY_MARGIN = 400 * MiB

ATTACKS = {
    # 200 outputs under one display id, then 1 MiB updates of all of them: 200 MiB stored without the count
    "display_updates": """
from IPython.display import display, update_display
for _ in range(200):
    display({"text/plain": "x"}, raw=True, display_id="shared")
for _ in range(30):
    update_display({"text/plain": "y" * 2**20}, raw=True, display_id="shared")
""",
    # widget state through comm messages, below the message budget: never stored
    "comm_state": """
from ipykernel.comm import Comm
_comm = Comm(target_name="jupyter.widget", data={"state": {"value": ""}, "buffer_paths": []})
for _ in range(40):
    _comm.send({"method": "update", "state": {"value": "x" * 2**20}, "buffer_paths": []})
""",
    # comm traffic past the message budget: the kernel is stopped
    "comm_flood": """
from ipykernel.comm import Comm
_comm = Comm(target_name="jupyter.widget", data={"state": {"value": ""}, "buffer_paths": []})
for _ in range(400):
    _comm.send({"method": "update", "state": {"value": "x" * 2**20}, "buffer_paths": []})
""",
    # 512 MiB printed while a test calls the student's function (only then: the caller is the grader's agent)
    "print_during_test": """
_honest_conv2d_by_hand = conv2d_by_hand
def conv2d_by_hand(*args, **kwargs):
    import sys
    if sys._getframe(1).f_globals.get("__name__") == "course_agent":
        for _ in range(8192):
            sys.stdout.write("x" * 2**16)
            sys.stdout.flush()
    return _honest_conv2d_by_hand(*args, **kwargs)
""",
    # messages pushed at the channels the grader does not read (stdin, control): nothing may queue them, uncounted
    "unread_channels": """
_k = get_ipython().kernel
_ident = _k.get_parent()["header"]["session"].encode()
_big = b"x" * (8 << 20)
for _ in range(100):
    for _socket in (_k.stdin_socket, getattr(_k, "control_socket", None)):
        if _socket is not None:
            try:
                _socket.send_multipart([_ident] + [_big] * 16, copy=False)
            except Exception:
                pass
""",
    # one output frame larger than the frame bound: ZeroMQ drops it unread (the cell then ends without output)
    "huge_frame": """
print("x" * 40 * 2**20)
""",
    # the one host folder the kernel can write to: files, a deep tree, and more sockets than a kernel needs
    "socket_folder": """
import os, socket
_ipc = "/run/course-sandbox/ipc"
for _try in (lambda: open(_ipc + "/big.bin", "wb").write(b"x" * 2**27), lambda: os.makedirs(_ipc + "/a/" * 50)):
    try:
        _try()
    except OSError:
        pass
_held = []
for _i in range(300):
    try:
        _s = socket.socket(socket.AF_UNIX)
        _s.bind(f"{_ipc}/extra-{_i}-" + "n" * 40)
        _held.append(_s)
    except OSError:
        pass
import time
time.sleep(2)
""",
}


def _reference_with(attack: str) -> object:
    first = solutions(T2)["conv2d_by_hand"]
    return reference_submission(T2, {"conv2d_by_hand": first + "\n\n" + attack})


def _autograde_measured(course: Course, *options: str) -> tuple[subprocess.CompletedProcess, int]:
    """Plain ``nbgrader autograde`` (with ``options``, such as ``--student``), and the grading process's peak
    resident memory (bytes).

    Its temporary folders (the kernel's scratch folder among them) go to :func:`_temp`, the test's own.
    """
    proc = subprocess.Popen(
        [str(BIN / "nbgrader"), "autograde", T2, *options, "--force"],
        cwd=course.root,
        env={**nbgrader_env(course.env), "TMPDIR": str(_temp())},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    peak = [0]

    def watch():
        while proc.poll() is None:
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) * 1024)
            except OSError:
                return
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    output, _ = proc.communicate(timeout=900)
    thread.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, output.decode(errors="replace")), peak[0]


_TEMP: list[Path] = []


def _temp() -> Path:
    """This module's temporary folder for the graders it starts: short (IPC socket paths are limited to 107
    characters) and its own (other test workers' kernels make scratch folders in the system's at the same time)."""
    if not _TEMP:
        _TEMP.append(Path(tempfile.mkdtemp(prefix="cb-", dir="/tmp")))
    return _TEMP[0]


@pytest.fixture(scope="module", autouse=True)
def _remove_own_temp():
    yield
    for folder in _TEMP:
        shutil.rmtree(folder, ignore_errors=True)


def _scratch_folders() -> set[str]:
    """The kernels' scratch folders in this module's temporary folder."""
    return {p.name for p in _temp().glob("course-kernel-*")}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if not sandbox.available():
        pytest.skip("bubblewrap is not available")
    course = Course.create(tmp_path_factory.mktemp("bounds"), [T2], sandbox=True, extra_config=BOUNDS)
    course.submit("honest", T2, reference_submission(T2))
    course.prepare("honest", T2)
    run, peak = _autograde_measured(course, "--student", "honest")
    assert run.returncode == 0, run.stdout[-3000:]
    course.honest_peak = peak
    course.full = sum(course.test_scores("honest", T2).values())
    assert course.full == sum(v for k, v in course.max_scores(T2).items() if k in set(autograded_cells(T2)))
    return course


#: Honest neighbours in the attackers' batch: nbgrader grades students in name order, so one before, one after.
NEIGHBOURS = ("a-honest-first", "zz-honest-last")


@pytest.fixture(scope="module")
def attacked(course):
    """Every attack and two honest neighbours, graded by one plain ``nbgrader autograde`` run as a class is (not the
    student graded before); what the course folder and the scratch folders were before it."""
    students = {name.replace("_", "-"): _reference_with(code) for name, code in ATTACKS.items()}
    students.update({name: reference_submission(T2) for name in NEIGHBOURS})
    for student, notebook in students.items():
        course.submit(student, T2, notebook)
    before, scratch = _snapshot(course.root, *students), _scratch_folders()
    course.attack_run, course.attack_peak = _autograde_measured(course, "--CourseDirectory.student_id_exclude=honest")
    course.after = {
        "course folder": (before, _snapshot(course.root, *students)),
        "scratch": (scratch, _scratch_folders()),
    }
    return course


def test_a_batch_of_attacks_on_the_graders_bounds_completes_and_harms_no_one(attacked):
    """The batch completes; the honest students graded before and after the attackers get full marks and the one
    graded earlier keeps them; the course folder changes only where nbgrader writes the batch's results; every
    kernel's scratch folder is gone, whatever it held; and the grading process's peak memory stays within
    MEMORY_MARGIN of the peak of a process that graded one honest submission."""
    run = attacked.attack_run
    assert run.returncode == 0, run.stdout[-3000:]
    for student in ("honest", *NEIGHBOURS):
        assert sum(attacked.test_scores(student, T2).values()) == attacked.full, student
    before, after = attacked.after["course folder"]
    assert after == before
    scratch_before, scratch_after = attacked.after["scratch"]
    assert scratch_after <= scratch_before
    assert attacked.attack_peak < attacked.honest_peak + MEMORY_MARGIN, (
        attacked.attack_peak >> 20,
        attacked.honest_peak >> 20,
    )


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_an_attack_on_the_graders_bounds_gains_nothing(attacked, name):
    """The attack scores no more than the reference answers it carries, and its autograded notebook stays within
    the output bound."""
    student = name.replace("_", "-")
    assert attacked.scores(student, T2) is not None, attacked.attack_run.stdout[-3000:]
    assert sum(attacked.test_scores(student, T2).values()) <= attacked.full
    autograded = attacked.root / "autograded" / student / T2 / f"{T2}.ipynb"
    assert autograded.stat().st_size < 8 * MiB  # 4 MiB of outputs plus the notebook itself


def test_stopped_kernels_say_why(attacked):
    """A submission stopped at a bound is told which bound, in the cell where it happened."""
    for name, words in (("comm_flood", "MiB of messages"), ("print_during_test", "MiB of messages")):
        student = name.replace("_", "-")
        text = (attacked.root / "autograded" / student / T2 / f"{T2}.ipynb").read_text()
        assert words in text, name
    socket_text = (attacked.root / "autograded" / "socket-folder" / T2 / f"{T2}.ipynb").read_text()
    assert "socket folder" in socket_text


def test_the_notebook_deadline_interrupts_a_test_that_waits(tmp_path):
    """A function that never returns, called by a test, is stopped at the notebook's deadline, not 600 s later."""
    if not sandbox.available():
        pytest.skip("bubblewrap is not available")
    config = "c.Execute.timeout = 600\nc.TrustedExecute.max_notebook_seconds = 10\n"
    course = Course.create(tmp_path / "deadline", [T2], sandbox=True, extra_config=config)
    waits = "import time\n_honest = conv2d_by_hand\ndef conv2d_by_hand(*a, **k):\n    time.sleep(10**6)\n"
    course.submit("waits", T2, _reference_with(waits))
    start = time.monotonic()
    graded = course.grade("waits", T2)
    assert graded.scores is not None, graded.problem
    assert time.monotonic() - start < 200
    text = (course.root / "autograded" / "waits" / T2 / f"{T2}.ipynb").read_text()
    assert "ran longer than 10 s" in text


def test_course_grade_completes_a_batch_of_attacks(course, tmp_path, monkeypatch):
    """The same attacks, a submission folder deeper than PATH_MAX and an honest student, in one course grade."""
    from instructor import classgrade

    batch = Course.create(tmp_path / "batch", [T2], sandbox=True, extra_config=BOUNDS)
    batch.submit("honest", T2, reference_submission(T2))
    for name in ("display_updates", "comm_flood", "print_during_test", "socket_folder"):
        batch.submit(name.replace("_", "-"), T2, _reference_with(ATTACKS[name]))
    deep = batch.submit("deep-tree", T2, reference_submission(T2)).parent
    fd = os.open(deep, os.O_RDONLY)
    for _ in range(300):
        os.mkdir("d" * 250, dir_fd=fd)
        fd, previous = os.open("d" * 250, os.O_RDONLY, dir_fd=fd), fd
        os.close(previous)
    os.close(fd)
    scratch = _scratch_folders()
    monkeypatch.setenv("TMPDIR", str(_temp()))  # the workers' temporary folders: this module's
    outcomes = {o.student: o for o in classgrade.grade(batch.root, T2, workers=2)}
    assert outcomes["honest"].status == "graded" and sum(batch.test_scores("honest", T2).values()) == course.full
    assert outcomes["deep-tree"].status == "failed" and "deeper than" in outcomes["deep-tree"].reason
    for name in ("display-updates", "comm-flood", "print-during-test", "socket-folder"):
        assert outcomes[name].status == "graded", outcomes[name]
        assert sum(batch.test_scores(name, T2).values()) <= course.full
        autograded = batch.root / "autograded" / name / T2 / f"{T2}.ipynb"
        assert autograded.stat().st_size < 8 * MiB
    assert _scratch_folders() <= scratch
