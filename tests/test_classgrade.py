"""`course grade`, end to end with real nbgrader, real Dask processes and a real PostgreSQL server.

* Parallel grading gives exactly what plain sequential ``nbgrader autograde`` gives, per cell,
  on a mixed batch (correct, blank, broken, a typical mistake, a kernel that dies, an infinite
  loop), with feedback for everyone graded. (A partly answered and a misnamed notebook are graded
  by ``course grade`` in ``make course``'s test, and misnamed ones by plain autograde in
  ``test_grading_robustness``.)
* Running it again grades only what changed.
* A worker killed mid-task and a coordinator interrupted by Ctrl-C lose no finished result.
* Feedback reaches the student through nbgrader's exchange (``--release-feedback``, ``fetch_feedback``).
* The same command grades on a Dask cluster (a scheduler and two workers, separate processes
  on 127.0.0.1) into a PostgreSQL gradebook, read back through nbgrader's ``Gradebook`` API.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from harness.notebooks import notebook_path, one_exercise, read, reference_submission, solutions
from harness.scratch import Course

from instructor import classgrade
from instructor.cli import main as course_cli
from variants import mistakes

pytestmark = pytest.mark.slow
A = "t2_convolutions"
BIN = Path(sys.executable).parent
# short cell timeout: the infinite loop costs seconds, not a minute
FAST = "c.Execute.timeout = 8\n"


def _batch() -> dict[str, object]:
    release = read(notebook_path(A))
    answers = solutions(A)
    first = next(iter(answers))
    return {
        "reference": reference_submission(A),
        "untouched": release,
        "mistake": reference_submission(A, mistakes(A)[0].answers(A)),
        "dies": reference_submission(A, {first: "import os\nos._exit(1)"}),
        # a loop that never ends; it waits rather than spins (the robustness tests grade a spinning one)
        "loops": reference_submission(A, {first: "import time\nwhile True:\n    time.sleep(0.05)"}),
        "broken": "{ this is not JSON",
    }


def _submit_all(course) -> None:
    for student, notebook in _batch().items():
        course.submit(student, A, notebook)


def _scores(course) -> dict[str, dict[str, float] | None]:
    return {student: course.scores(student, A) for student in _batch()}


def test_parallel_grading_gives_what_sequential_nbgrader_gives_and_reruns_only_changes(make_course):
    sequential = make_course([A], extra_config=FAST)
    _submit_all(sequential)
    sequential.nbgrader("autograde", A, "--force", timeout=1800)
    expected = _scores(sequential)

    parallel = make_course([A], extra_config=FAST)
    _submit_all(parallel)
    outcomes = {o.student: o for o in classgrade.grade(parallel.root, A, workers=2)}
    got = _scores(parallel)

    # nbgrader leaves an unreadable file with an all-zero submission; course grade reports it and records nothing
    assert expected.pop("broken") is not None and got.pop("broken") is None
    assert got == expected
    full = parallel.max_scores(A)
    tests = {name for name, cell in full.items() if name.startswith("test_")}
    assert {k: got["reference"][k] for k in tests} == {k: full[k] for k in tests}
    assert sum(got["untouched"].values()) == 0
    assert outcomes["broken"].status == "failed"
    assert "not a valid notebook" in outcomes["broken"].reason
    lost = {k for k in tests if got["mistake"][k] < full[k]}
    assert lost == set(mistakes(A)[0].loses)
    # a dead kernel costs the rest of the notebook; an interrupted loop only its own exercise
    assert sum(got["dies"].values()) < sum(got["reference"].values())
    assert 0 < sum(got["loops"].values()) < sum(got["reference"].values()), got["loops"]
    for student, outcome in outcomes.items():
        assert outcome.status == ("failed" if student == "broken" else "graded"), outcome
        if outcome.status == "graded":
            html = parallel.feedback_html(student, A)
            assert html.exists() and "<script" not in html.read_text().lower().split("</head>")[-1]
            assert 'http-equiv="Content-Security-Policy"' in html.read_text()

    # again: nothing changed, nothing graded; then one edited submission is graded again, alone
    again = {o.student: o.status for o in classgrade.grade(parallel.root, A, workers=1)}
    assert again == {s: "failed" if s == "broken" else "unchanged" for s in outcomes}
    parallel.submit("untouched", A, reference_submission(A))
    third = {o.student: o for o in classgrade.grade(parallel.root, A, workers=1)}
    assert {s for s, o in third.items() if o.status == "graded"} == {"untouched"}
    assert parallel.scores("untouched", A) == got["reference"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


@pytest.fixture
def postgresql():
    """A real PostgreSQL server in a temporary folder, on a Unix socket there; yields a db_url."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not (initdb and pg_ctl):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's initdb/pg_ctl are missing (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="course-pg-"))
    folder.chmod(0o755)
    as_user = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True, capture_output=True
    )
    options = f"-k {folder} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        base = f"postgresql://postgres@/postgres?host={folder}"
        import sqlalchemy

        engine = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("CREATE DATABASE gradebook"))
        engine.dispose()
        yield f"postgresql://postgres@/gradebook?host={folder}"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def dask_cluster():
    """A Dask scheduler and two workers, each its own process (`dask scheduler`, `dask worker`) on 127.0.0.1.

    Yields (address, client, processes): ``processes`` maps "w1" and "w2" to their ``dask worker`` processes.
    """
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = {
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "env": {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        "start_new_session": True,  # a worker can be killed with everything it started (its kernel)
    }
    procs = [
        subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **common
        )
    ]
    for name in ("w1", "w2"):
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "dask"),
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--name",
                    name,
                    "--no-dashboard",
                    "--memory-limit",
                    "0",
                ],
                **common,
            )
        )
    try:
        from dask.distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            yield address, client, dict(zip(("w1", "w2"), procs[1:], strict=True))
    finally:
        # each process with everything it started (a grading kernel, nbgrader): a graceful close of a
        # worker and its nanny waits out timeouts (about 8 s per cluster), and nothing here needs it
        for proc in procs[::-1]:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in procs:
            proc.wait(timeout=20)


#: The one-exercise assignment (harness.notebooks.one_exercise) of tests whose subject is the coordinator.
WAITS = "waits"


def _waits_course(root: Path, seconds: float = 0) -> tuple[Course, nbformat.NotebookNode, nbformat.NotebookNode]:
    """A course (the course's own configuration) with the one-exercise assignment, and a right and a wrong
    submission whose answers first wait ``seconds``."""
    course = Course.create(root, [], notebooks={WAITS: one_exercise()})
    wait = f"import time\n\ntime.sleep({seconds})\n\n\n" if seconds else ""
    right, wrong = (one_exercise(f"{wait}def double(x):\n    return {value}") for value in ("2 * x", "x"))
    return course, right, wrong


def test_grading_on_a_dask_cluster_into_a_postgresql_gradebook(tmp_path, postgresql, dask_cluster, capsys):
    from nbgrader.api import Gradebook

    address, client, _ = dask_cluster
    course, right, _ = _waits_course(tmp_path / "course")
    root = ["--root", str(course.root), "--db", postgresql]
    assert course_cli([*root, "release", WAITS, "--no-exchange"]) == 0
    course.submit("alice", WAITS, right)
    course.submit("carol", WAITS, read(notebook_path(WAITS, course.root / "release")))  # untouched
    before = time.time()

    assert course_cli([*root, "grade", WAITS, "--scheduler", address]) == 0

    out = capsys.readouterr().out
    assert "2 graded, 0 unchanged, 0 failed" in out, out
    workers = {w["name"] for w in client.scheduler_info()["workers"].values()}
    assert workers == {"w1", "w2"}
    with Gradebook(postgresql) as gb:  # what the formgrader shows, read through nbgrader's API
        alice, carol = gb.find_submission(WAITS, "alice"), gb.find_submission(WAITS, "carol")
        assert alice.code_score == gb.find_assignment(WAITS).max_code_score > 0
        assert carol.code_score == 0
    rows = list(csv.DictReader((course.root / "grades.csv").open()))
    assert {r["student"]: float(r["score"]) for r in rows} == {"alice": alice_total(postgresql), "carol": 0.0}
    assert course.root.joinpath("feedback", "alice", WAITS, f"{WAITS}.html").stat().st_mtime >= before
    # the SQLite gradebook of the course folder was not written by grading
    assert course.scores("alice", WAITS) is None


def alice_total(db_url: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return float(gb.find_submission(WAITS, "alice").score)


def _recorded(course, assignment) -> set[str]:
    """Students whose result the ledger marks as recorded (what a rerun will skip)."""
    try:
        entries = json.loads((course.root / classgrade.LEDGER).read_text()).get(assignment, {})
    except (FileNotFoundError, ValueError):
        return set()
    return {student for student, fingerprint in entries.items() if fingerprint}


def test_a_killed_worker_and_an_interrupted_run_lose_nothing(tmp_path, dask_cluster):
    """A worker killed mid-task (with its kernel): the task is graded on the other worker.

    Ctrl-C on the coordinator: every finished result is kept, and the same command grades only the rest.
    """
    address, client, processes = dask_cluster
    course, right, wrong = _waits_course(tmp_path / "course", seconds=5)  # a kernel to kill while it runs
    students = {f"s{i}": right if i % 2 == 0 else wrong for i in range(6)}
    for student, notebook in students.items():
        course.submit(student, WAITS, notebook)
    command = [str(BIN / "course"), "--root", str(course.root), "grade", WAITS, "--scheduler", address]
    coordinator = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while True:  # kill w1 and everything it started while it grades a submission
            names = {addr: w["name"] for addr, w in client.scheduler_info()["workers"].items()}
            if any(names.get(addr) == "w1" and keys for addr, keys in client.processing().items()):
                break
            assert coordinator.poll() is None and time.monotonic() < deadline, "w1 never got a submission"
            time.sleep(0.2)
        time.sleep(2.5)  # its kernel is running (each answer waits 5 s)
        os.killpg(processes["w1"].pid, signal.SIGKILL)
        while len(_recorded(course, WAITS)) < 2:  # then Ctrl-C once results are coming in
            assert coordinator.poll() is None and time.monotonic() < deadline, "no results recorded"
            time.sleep(0.2)
        coordinator.send_signal(signal.SIGINT)
        out, _ = coordinator.communicate(timeout=120)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
    assert coordinator.returncode == 130, out
    assert "finished results are kept" in out, out
    kept = _recorded(course, WAITS)
    assert 2 <= len(kept) < len(students), kept
    assert {w["name"] for w in client.scheduler_info()["workers"].values()} == {"w2"}
    full = sum(points for name, points in course.max_scores(WAITS).items() if name.startswith("test_"))

    def code_total(student):
        scores = course.scores(student, WAITS)
        return sum(v for k, v in scores.items() if k.startswith("test_"))

    for student in kept:  # finished results are in the gradebook, right
        assert code_total(student) == (full if int(student[1:]) % 2 == 0 else 0), student

    outcomes = {o.student: o.status for o in classgrade.grade(course.root, WAITS, scheduler=address)}
    assert outcomes == {s: "unchanged" if s in kept else "graded" for s in students}
    assert _recorded(course, WAITS) == set(students)
    for student in students:
        assert code_total(student) == (full if int(student[1:]) % 2 == 0 else 0), student


COURSE_ID = "cnn-visual-neuroscience"


def test_feedback_reaches_the_student_through_the_exchange(make_course, tmp_path):
    """release -> student fetches and submits -> collect -> grade --release-feedback -> student fetch_feedback."""
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    course = make_course([A], extra_config=f"c.Exchange.root = {str(exchange)!r}\n")
    root = ["--root", str(course.root)]
    home = tmp_path / "alice"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}  # her own nbgrader cache

    def as_alice(*args: str) -> None:  # on a shared hub the OS user name; here named explicitly
        run = subprocess.run(
            [str(BIN / "nbgrader"), *args, "--course", COURSE_ID, f"--Exchange.root={exchange}", "--student=alice"],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr

    assert course_cli([*root, "release", A]) == 0
    as_alice("fetch_assignment", A)
    notebook = home / A / f"{A}.ipynb"
    assert notebook.exists()
    nbformat.write(reference_submission(A), notebook)
    as_alice("submit", A)
    assert course_cli([*root, "collect", A]) == 0
    assert (course.root / "submitted" / "alice" / A / "timestamp.txt").exists()
    assert course_cli([*root, "grade", A, "--workers", "1", "--release-feedback"]) == 0
    as_alice("fetch_feedback", A)
    fetched = list((home / A / "feedback").rglob(f"{A}.html"))
    assert len(fetched) == 1, fetched
    assert fetched[0].read_bytes() == course.feedback_html("alice", A).read_bytes()


def test_a_late_submissions_feedback_and_gradebook_agree(tmp_path):
    """course grade: the worker's feedback carries the late penalty the instructor's gradebook records (the
    workers' own gradebooks get the assignment's due date), for a late and an on-time submission."""
    from test_lms import SOURCE, _nbgrader, _submission

    root = tmp_path / "late"
    (root / "source" / "t2").mkdir(parents=True)
    nbformat.write(SOURCE, root / "source" / "t2" / "t2.ipynb")
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    _nbgrader(root, "db", "assignment", "add", "t2", "--duedate=2026-01-01 00:00:00 UTC")
    _nbgrader(root, "generate_assignment", "t2", "--force")
    for student, stamp in (("late", "2026-01-02 09:00:00.000000 UTC"), ("ontime", "2025-12-31 09:00:00.000000 UTC")):
        folder = root / "submitted" / student / "t2"
        folder.mkdir(parents=True)
        (folder / "t2.ipynb").write_text(_submission(root))
        (folder / "timestamp.txt").write_text(stamp)
    outcomes = {o.student: o for o in classgrade.grade(root, "t2", workers=1)}
    assert {s: o.status for s, o in outcomes.items()} == {"late": "graded", "ontime": "graded"}, outcomes
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        penalty = {s: gb.find_submission("t2", s).late_submission_penalty for s in ("late", "ontime")}
    assert penalty == {"late": 2.0, "ontime": 0.0}
    late = (root / "feedback" / "late" / "t2" / "t2.html").read_text()
    ontime = (root / "feedback" / "ontime" / "t2" / "t2.html").read_text()
    assert "Late submission penalty (Score: -2.0)" in late and "Score: 0.0 / 2.0" in late
    assert "Late submission penalty" not in ontime and "Score: 2.0 / 2.0" in ontime


def test_a_grading_process_over_its_memory_bound_is_reported_and_the_batch_completes(tmp_path):
    """course grade --worker-memory: a grading process that grows past the bound is restarted by its Dask nanny;
    its submission is tried once more, then reported as failed, and the batch completes (here every process passes
    a 96 MiB bound as soon as it loads nbgrader)."""
    from test_lms import SOURCE, _nbgrader, _submission

    root = tmp_path / "memory"
    (root / "source" / "t2").mkdir(parents=True)
    nbformat.write(SOURCE, root / "source" / "t2" / "t2.ipynb")
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    _nbgrader(root, "generate_assignment", "t2", "--force")
    folder = root / "submitted" / "alice" / "t2"
    folder.mkdir(parents=True)
    (folder / "t2.ipynb").write_text(_submission(root))
    outcomes = classgrade.grade(root, "t2", workers=1, worker_memory=96 * 2**20)
    assert [(o.student, o.status) for o in outcomes] == [("alice", "failed")], outcomes
    assert "memory bound" in outcomes[0].reason, outcomes[0].reason


def test_course_grades_bounds_are_options_of_the_course_configuration(tmp_path):
    """c.CourseGrade.* in nbgrader_config.py sets the submission bounds course grade applies (no constants)."""
    from instructor.config import CourseGrade

    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseGrade.max_submission_files = 2\n")
    limits = CourseGrade(config=classgrade.course_config(tmp_path))
    assert limits.max_submission_files == 2 and limits.max_submission_bytes == 64 * 2**20
    folder = tmp_path / "submission"
    folder.mkdir()
    for name in ("a.ipynb", "b.txt"):
        (folder / name).write_text("{}")
    assert set(classgrade.submission_files(folder, limits)) == {"a.ipynb", "b.txt"}
    (folder / "c.txt").write_text("x")
    with pytest.raises(classgrade.SubmissionError, match="too large"):
        classgrade.submission_files(folder, limits)
