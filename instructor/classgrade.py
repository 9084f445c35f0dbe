"""``course grade``: grade every new or changed submission of an assignment, in parallel.

The coordinator (this module, in the instructor's process) finds the submissions in
``submitted/<student>/<assignment>/``, puts misplaced notebooks in place
(:func:`grading.hooks.place_notebooks`), and sends each submission that is new or
changed since it was last graded to a Dask worker as bytes
(:func:`instructor.worker.grade_submission`). Workers autograde with plain nbgrader in
private scratch courses; only the coordinator writes the instructor's gradebook, with
nbgrader's own ``SaveAutoGrades`` and ``AssignLatePenalties`` preprocessors applied to the
autograded notebook, exactly what ``nbgrader autograde`` does after execution. So SQLite
is written by one process, and PostgreSQL (``--db``) works the same way.

Each finished result is recorded at once (autograded notebook, gradebook, feedback and
the ledger ``grading-ledger.json``, keyed by the hash of the submission and of the
assignment's source and configuration), so an interrupted run loses nothing finished and
the next run grades only what is new, changed or unfinished.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from grading.config import SubmissionFolders, submission_folders
from grading.hooks import SubmissionError, expected_notebooks, place_notebooks, valid_student_id
from grading.tree import remove_tree

from .config import CourseGrade, course_config, db_url_of, ensure_tools_on_path
from .worker import read_files, write_files

LEDGER = "grading-ledger.json"


@dataclass
class Outcome:
    """What happened to one submission: ``graded``, ``unchanged`` (skipped) or ``failed``."""

    student: str
    assignment: str
    status: str
    score: float | None = None
    max_score: float | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: the autograded part (nbgrader's code_score / max_code_score); written answers wait for the formgrader
    code_score: float | None = None
    max_code_score: float | None = None


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def course_bundle(root: Path, assignment: str, duedate: str | None = None) -> tuple[dict, str]:
    """What a worker needs to grade ``assignment`` (config, source files as bytes, due date), and its hash.

    ``duedate``: the assignment's due date in the instructor's gradebook (ISO format, UTC), which the
    worker's own gradebook gets too, so that the late penalty in its feedback is the gradebook's.
    """
    source = read_files(root / "source" / assignment)
    if not any(name.endswith(".ipynb") for name in source):
        raise FileNotFoundError(f"no notebook in source/{assignment}")
    config = (root / "nbgrader_config.py").read_text()
    parts = [assignment.encode(), config.encode(), (duedate or "").encode()]
    for name, data in sorted(source.items()):
        parts += [name.encode(), data]
    bundle = {"assignment": assignment, "config": config, "source": source, "duedate": duedate}
    return bundle, _digest(*parts)


def submission_files(folder: Path, limits: CourseGrade | None = None) -> dict[str, bytes]:
    """The regular files of a submission folder (without ``_ignored/`` and checkpoints), bounded by ``limits``
    (``max_submission_files`` and ``max_submission_bytes``; the defaults when None)."""
    limits = limits or CourseGrade()
    from grading.tree import TreeTooLarge

    def skip(name: str) -> bool:
        return name in ("_ignored", ".ipynb_checkpoints", "timestamp.txt") or name.endswith("/.ipynb_checkpoints")

    try:
        return read_files(
            folder,
            max_files=limits.max_submission_files,
            max_bytes=limits.max_submission_bytes,
            max_entries=SubmissionFolders(config=limits.config).max_entries,
            skip=skip,
        )
    except TreeTooLarge as err:
        raise SubmissionError(f"the submission folder is too large to grade: {err}") from None
    except OSError as err:
        raise SubmissionError(f"the submission folder cannot be read ({err.strerror or err})") from None


class Ledger:
    """``grading-ledger.json``: (assignment, student) -> fingerprint of what was graded; written atomically."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.data = json.loads(path.read_text()) if path.exists() else {}
        except ValueError:
            self.data = {}

    def fingerprint(self, assignment: str, student: str) -> str | None:
        return self.data.get(assignment, {}).get(student)

    def record(self, assignment: str, student: str, fingerprint: str | None) -> None:
        entries = self.data.setdefault(assignment, {})
        if fingerprint is None:
            entries.pop(student, None)
        else:
            entries[student] = fingerprint
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def _safe_replace(folder: Path, files: dict[str, bytes]) -> None:
    """Make ``folder`` hold exactly ``files``; a link in its place is removed, never followed."""
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        remove_tree(folder)
    folder.mkdir(parents=True)
    write_files(folder, files)


def record(
    root: Path, config, db_url: str, assignment: str, student: str, timestamp: str | None, result: dict
) -> float:
    """Write one worker result into the course: autograded files, gradebook, feedback. Returns the score."""
    from nbconvert.exporters.exporter import ResourcesDict
    from nbformat import reads
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades

    autograded = dict(result["autograded"])
    if timestamp:
        autograded["timestamp.txt"] = timestamp.encode()
    _safe_replace(root / "autograded" / student / assignment, autograded)
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student)
        if timestamp:
            gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gb.update_or_create_submission(assignment, student)
        known = {nb.name for nb in gb.find_assignment(assignment).notebooks}
    for name, data in sorted(result["autograded"].items()):
        stem = name.removesuffix(".ipynb")
        if "/" in name or not name.endswith(".ipynb") or stem not in known:
            continue
        resources = ResourcesDict()
        resources["nbgrader"] = {"db_url": db_url, "assignment": assignment, "notebook": stem, "student": student}
        nb = reads(data.decode(), as_version=4)
        for step in (SaveAutoGrades(config=config), AssignLatePenalties(config=config)):
            nb, resources = step.preprocess(nb, resources)
    _safe_replace(root / "feedback" / student / assignment, result.get("feedback", {}))
    with Gradebook(db_url) as gb:
        return float(gb.find_submission(assignment, student).score)


def find_submissions(
    root: Path, assignment: str, limits: SubmissionFolders | None = None
) -> tuple[list[tuple[str, Path, list[str]]], list[Outcome]]:
    """Submissions of ``assignment`` in ``submitted/``, put in place; and those that cannot be graded.

    ``limits``: the submission-folder bounds (by default those of the course's ``nbgrader_config.py``).
    """
    expected = expected_notebooks(root, assignment)
    limits = limits or submission_folders(root)
    ready, failed = [], []
    base = root / "submitted"
    for student_dir in sorted(base.iterdir()) if base.is_dir() else []:
        student = student_dir.name
        if student_dir.is_symlink() or not student_dir.is_dir():
            continue
        folder = student_dir / assignment
        if not folder.is_dir() and not any(student_dir.glob("*.ipynb")):
            continue  # this student has not handed in this assignment
        if not valid_student_id(student):
            failed.append(Outcome(student, assignment, "failed", reason=f"{student!r} is not a valid student id"))
            continue
        if folder.is_symlink():
            failed.append(Outcome(student, assignment, "failed", reason="the submission folder is a link"))
            continue
        try:
            notes = place_notebooks(student_dir, assignment, expected, limits=limits)
        except SubmissionError as err:
            failed.append(Outcome(student, assignment, "failed", reason=str(err)))
            continue
        ready.append((student, folder, notes))
    return ready, failed


def _timestamp(folder: Path) -> str | None:
    path = folder / "timestamp.txt"
    if path.is_file() and not path.is_symlink():
        text = path.read_text(errors="replace").strip()
        return text[:64] or None
    return None


@contextlib.contextmanager
def dask_client(
    workers: int | None = None, scheduler: str | None = None, worker_memory: int | None = None
) -> Iterator[object]:
    """A Dask client: on the cluster at ``scheduler``, else on a LocalCluster of ``workers`` processes.

    Locally a task whose worker dies is tried on another worker once more, then reported. Each local
    worker process is restarted by its Dask nanny when its resident memory passes 95% of
    ``worker_memory`` bytes (0: no bound; None: ``CourseGrade.worker_memory``'s default), so a submission
    that makes the grader's own process grow
    costs at most its own grading; Dask neither spills nor pauses (the tasks hold no data to spill).
    """
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="30s") as client:
            yield client
        return
    settings = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.admin.system-monitor.gil.enabled": False,
        "distributed.worker.memory.target": False,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False,
        "distributed.worker.memory.terminate": 0.95,
    }
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=CourseGrade().worker_memory if worker_memory is None else worker_memory,
            silence_logs=logging.ERROR,
        )
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()


def grade(
    root: Path,
    assignment: str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    db_url: str | None = None,
    force: bool = False,
    progress: bool | None = None,
    worker_memory: int | None = None,
) -> list[Outcome]:
    """Grade every submission of ``assignment`` that is new, changed or not graded yet.

    Parameters
    ----------
    root : Path
        The course folder (holding ``nbgrader_config.py``).
    assignment : str
    workers : int, optional
        Local grading processes (default: the number of cores).
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``); its workers grade instead.
    db_url : str, optional
        The gradebook (nbgrader's ``db_url``); default: the course's configuration.
    force : bool
        Grade again what was graded already.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    worker_memory : int, optional
        Bytes of resident memory each local grading process may use (see :func:`dask_client`); 0: no bound;
        default: the course's ``c.CourseGrade.worker_memory``.

    Returns
    -------
    list of Outcome
        One per submission found, graded, unchanged or failed.
    """
    from nbgrader.api import Gradebook, MissingEntry

    ensure_tools_on_path()
    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own SQLAlchemy usage
    root = Path(root).resolve()
    config = course_config(root, db_url)
    db_url = db_url_of(config)
    limits = CourseGrade(config=config)
    if worker_memory is None:
        worker_memory = limits.worker_memory
    with Gradebook(db_url) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            raise SubmissionError(
                f"assignment {assignment!r} is not in the gradebook: run `course release {assignment}` first"
            ) from None
        graded_before = {s.student.id for s in found.submissions}
        due = found.duedate
    bundle, digest = course_bundle(root, assignment, due.isoformat() if due is not None else None)
    ledger = Ledger(root / LEDGER)
    ready, outcomes = find_submissions(root, assignment, SubmissionFolders(config=config))
    tasks = []
    for student, folder, notes in ready:
        try:
            files = submission_files(folder, limits)
        except SubmissionError as err:
            outcomes.append(Outcome(student, assignment, "failed", reason=str(err), notes=notes))
            continue
        timestamp = _timestamp(folder)
        parts = [digest.encode(), (timestamp or "").encode()]
        for name, data in sorted(files.items()):
            parts += [name.encode(), data]
        fingerprint = _digest(*parts)
        if not force and student in graded_before and ledger.fingerprint(assignment, student) == fingerprint:
            outcomes.append(Outcome(student, assignment, "unchanged", notes=notes))
            continue
        tasks.append((student, files, timestamp, fingerprint, notes))
    if not tasks:
        return _with_scores(db_url, outcomes)

    from dask.distributed import as_completed
    from tqdm import tqdm

    from .worker import grade_submission

    started = time.monotonic()
    with dask_client(workers, scheduler, worker_memory) as client:
        futures = {}
        for student, files, timestamp, fingerprint, notes in tasks:
            ledger.record(assignment, student, None)  # not graded until recorded again
            future = client.submit(
                grade_submission,
                bundle,  # by value, not scattered: a worker that dies takes no other task's input with it
                digest,
                student,
                files,
                timestamp,
                key=f"grade-{assignment}-{student}-{fingerprint[:16]}",
                pure=False,
                retries=1,
            )
            futures[future] = (student, timestamp, fingerprint, notes)
        bar = tqdm(
            total=len(futures),
            unit="submission",
            desc=f"grading {assignment}",
            disable=not progress if progress is not None else None,
            file=sys.stderr,
        )
        try:
            for future in as_completed(futures):
                student, timestamp, fingerprint, notes = futures[future]
                outcome = Outcome(student, assignment, "failed", notes=notes)
                try:
                    result = future.result()
                except Exception as err:  # noqa: BLE001  (a dead worker or a crash is reported, the rest go on)
                    name = type(err).__name__
                    why = (
                        "its grading process died twice (a crash, or past its memory bound, course grade "
                        "--worker-memory)"
                        if name == "KilledWorker"
                        else f"{name}: {err}"[:300]
                    )
                    outcome.reason = f"not graded: {why}"
                else:
                    if result["ok"]:
                        try:
                            outcome.score = record(root, config, db_url, assignment, student, timestamp, result)
                        except Exception as err:  # noqa: BLE001  (reported; the other results are still recorded)
                            outcome.reason = f"not recorded: {type(err).__name__}: {err}"[:300]
                        else:
                            outcome.status = "graded"
                            ledger.record(assignment, student, fingerprint)
                    else:
                        outcome.reason = result["reason"]
                outcome.seconds = time.monotonic() - started
                outcomes.append(outcome)
                bar.update()
        finally:
            bar.close()
            for future in futures:
                future.cancel()
    return _with_scores(db_url, outcomes)


def _with_scores(db_url: str, outcomes: list[Outcome]) -> list[Outcome]:
    """Fill in the gradebook's score and maximum of every outcome whose submission is graded."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        for outcome in outcomes:
            with contextlib.suppress(MissingEntry):
                assignment = gb.find_assignment(outcome.assignment)
                outcome.max_score, outcome.max_code_score = (
                    float(assignment.max_score),
                    float(assignment.max_code_score),
                )
                if outcome.status != "failed":
                    submission = gb.find_submission(outcome.assignment, outcome.student)
                    outcome.score, outcome.code_score = float(submission.score), float(submission.code_score)
    return sorted(outcomes, key=lambda o: (o.assignment, o.student))


def export_csv(db_url: str, path: Path) -> int:
    """Write every graded submission of the gradebook to ``path``; returns the number of rows."""
    from nbgrader.api import Gradebook

    fields = ["assignment", "student", "timestamp", "score", "max_score", "needs_manual_grade"]
    rows = []
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for sub in gb.submission_dicts(assignment.name):
                rows.append(
                    [
                        assignment.name,
                        sub["student"],
                        sub["timestamp"],
                        sub["score"],
                        sub["max_score"],
                        sub["needs_manual_grade"],
                    ]
                )
    tmp = Path(path).with_suffix(".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        writer.writerows(sorted(rows, key=lambda r: (r[0], r[1])))
    os.replace(tmp, path)
    return len(rows)


def format_outcomes(outcomes: list[Outcome]) -> str:
    """One line per submission: student, status, autograded score, reason and notes; then a count per status."""
    lines = []
    width = max([len(o.student) for o in outcomes] + [7])
    for o in outcomes:
        score = "-"
        if o.code_score is not None and o.max_code_score is not None:
            score = f"{o.code_score:g}/{o.max_code_score:g}"
        reason = o.reason.strip().splitlines()[0] if o.reason.strip() else ""
        detail = "; ".join([*([reason] if reason else []), *o.notes])
        lines.append(f"{o.student:<{width}}  {o.assignment}  {o.status:<9}  {score:<9}  {detail}".rstrip())
    counts = {s: sum(o.status == s for o in outcomes) for s in ("graded", "unchanged", "failed")}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    return "\n".join(lines)
