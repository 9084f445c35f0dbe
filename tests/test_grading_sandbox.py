"""The grading sandbox, probed from inside by a submission graded with real nbgrader.

The submission's answer cells try to read the hidden tests, the gradebook, home
folders and the grader's environment, to write outside their scratch folder, to
reach the network and to exhaust memory, and print what they saw, which the test
reads back from the autograded notebook. The course folder is graded with plain
``nbgrader autograde`` and the course's own ``nbgrader_config.py``, unchanged.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading

import pytest
from harness.notebooks import ROOT, autograded_cells, notebook_path, read, solutions, with_answers
from harness.scratch import Course

from grading import sandbox

pytestmark = pytest.mark.slow
T2 = "t2_convolutions"

if not sandbox.available():
    if os.environ.get("CI"):
        raise RuntimeError("CI must test the grading sandbox: install bubblewrap (see .ci/run)")
    pytest.skip("bubblewrap is not installed: the sandbox is not tested here", allow_module_level=True)


PROBE = """
import json, os, socket
_probe = {}
def _try(name, action):
    try:
        _probe[name] = "ok: " + repr(action())[:80]
    except BaseException as err:
        _probe[name] = "blocked: " + type(err).__name__
_try("read_source", lambda: open(SOURCE_NB).read(100))
_try("read_gradebook", lambda: open(GRADEBOOK, "rb").read(100))
_try("list_submissions", lambda: os.listdir(SUBMITTED))
_try("write_repo", lambda: open(REPO_FILE, "w").write("pwned"))
_try("write_usr", lambda: open("/usr/pwned", "w").write("pwned"))
_try("network", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=3).sendall(b"pwned"))
_try("memory", lambda: len(bytearray(12 * 1024**3)))
_try("write_own_folder", lambda: open("own.txt", "w").write("fine"))
def _homes():
    # the Python install may live under /root/.pyenv and is bound read-only; nothing else of a home may show
    seen = [os.path.join(h, n) for h in ("/root", "/home") if os.path.isdir(h) for n in os.listdir(h)]
    seen = [p for p in seen if p != "/root/.pyenv"]
    if not seen:
        raise PermissionError("no home folder visible")
    return seen
_try("list_homes", _homes)
_try("read_secret_env", lambda: os.environ["COURSE_TEST_SECRET"])
import subprocess
_try("outlive", lambda: subprocess.Popen(["sleep", "OUTLIVE"], start_new_session=True).pid)
_probe["sandboxed"] = os.environ.get("COURSE_SANDBOXED")
print("PROBE:" + json.dumps(_probe))
"""

# a background process the submission starts in a session of its own: seconds nobody else sleeps
OUTLIVE = f"{10**6 + os.getpid() % 1000}.{secrets.randbelow(10**6):06d}"


def _running(marker: str) -> list[int]:
    """PIDs of the host's processes whose command line holds ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    course = Course.create(tmp_path_factory.mktemp("sandbox"), [T2], sandbox=True)
    assert course.sandboxed
    assert (course.root / "nbgrader_config.py").read_text() == (ROOT / "nbgrader_config.py").read_text()
    course.env["COURSE_TEST_SECRET"] = "s3cret"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(60)
    received = []

    def serve():
        try:
            conn, _ = server.accept()
            received.append(conn.recv(100))
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    repo_file = ROOT / "sandbox-escape.txt"
    code = (
        PROBE.replace("SOURCE_NB", repr(str(course.root / "source" / T2 / f"{T2}.ipynb")))
        .replace("GRADEBOOK", repr(str(course.root / "gradebook.db")))
        .replace("SUBMITTED", repr(str(course.root / "submitted")))
        .replace("REPO_FILE", repr(str(repo_file)))
        .replace("PORT", str(server.getsockname()[1]))
        .replace("OUTLIVE", OUTLIVE)
    )
    answers = {**solutions(T2), "conv_output_shape": code + "\n" + solutions(T2)["conv_output_shape"]}
    course.submit("prober", T2, with_answers(read(notebook_path(T2)), answers))
    graded = course.grade("prober", T2)
    server.close()
    folder = course.root / "autograded" / "prober" / T2
    autograded = read(folder / f"{T2}.ipynb")
    texts = [o.get("text", "") for c in autograded.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    probe = json.loads(next(t for t in texts if t.startswith("PROBE:"))[len("PROBE:") :])
    yield graded, probe, received, repo_file, folder
    repo_file.unlink(missing_ok=True)


def test_a_correct_submission_is_fully_graded_in_the_sandbox(probed):
    graded, *_ = probed
    assert graded.scores is not None, graded.problem
    tests = set(autograded_cells(T2))
    assert all(graded.scores[t] > 0 for t in tests)


def test_plain_nbgrader_autograde_runs_the_student_kernel_in_the_sandbox(probed):
    _, probe, *_ = probed
    assert probe["sandboxed"] == "1", probe


@pytest.mark.parametrize("what", ["read_source", "read_gradebook", "list_submissions", "list_homes", "read_secret_env"])
def test_student_code_cannot_see_the_course_homes_or_environment(probed, what):
    _, probe, *_ = probed
    assert probe[what].startswith("blocked"), probe


def test_student_code_cannot_write_outside_its_folder(probed):
    _, probe, _, repo_file, folder = probed
    assert not repo_file.exists()
    assert probe["write_usr"].startswith("blocked"), probe
    assert probe["write_own_folder"].startswith("ok"), probe  # its scratch folder, thrown away afterwards
    assert sorted(p.name for p in folder.iterdir()) == [f"{T2}.ipynb"]


def test_student_code_has_no_network(probed):
    _, probe, received, *_ = probed
    assert probe["network"].startswith("blocked"), probe
    assert received == []


def test_student_code_memory_is_bounded(probed):
    _, probe, *_ = probed
    assert probe["memory"] == "blocked: MemoryError", probe


def test_nothing_a_submission_started_outlives_its_grading(probed):
    """The kernel is killed after the last cell (TrustedExecute.shutdown_kernel), and every process it started,
    even in a session of its own, dies with its sandbox's PID namespace."""
    _, probe, *_ = probed
    assert probe["outlive"].startswith("ok"), probe  # it was started
    assert _running(OUTLIVE) == []


def test_unsandboxed_grading_is_announced_loudly():
    from harness.demo import sandbox_banner

    assert "NOT sandboxed" in sandbox_banner(False) and "WARNING" in sandbox_banner(False)
    assert "sandbox" in sandbox_banner(True) and "WARNING" not in sandbox_banner(True)
