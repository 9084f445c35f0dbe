"""The grading task that runs on a worker: one submission in, its autograded notebook and feedback out.

A task carries everything it needs as bytes (the course's ``nbgrader_config.py``, the
assignment's ``source/`` files, the student's submitted files), so a worker needs the
course's Python environment (and the sandbox kernelspec) but no shared file system.

Each worker process keeps one private scratch course per course bundle: a temporary
folder in which ``generate_assignment`` filled a private SQLite gradebook once. Every
task runs plain nbgrader autograde there, through nbgrader's Python API and the
course's configuration (sandbox, preprocessors, hooks), then generates feedback. The
worker never touches the instructor's gradebook: the coordinator records the result
(:mod:`instructor.classgrade`).
"""

from __future__ import annotations

import atexit
import tempfile
import threading
import warnings
from pathlib import Path, PurePosixPath

_COURSES: dict[str, tuple[Path, object]] = {}
_LOCK = threading.Lock()
# one task at a time per process: nbgrader's API sets the student and assignment on a shared course object
_GRADING = threading.Lock()


def safe_relative(name: str) -> PurePosixPath:
    """``name`` as a relative path inside a folder, or ValueError (absolute, ``..``, empty parts)."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(part in ("", ".", "..") for part in path.parts) or "\\" in name:
        raise ValueError(f"not a safe relative path: {name!r}")
    return path


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative path -> bytes) under ``folder``, refusing paths that leave it."""
    for name, data in files.items():
        path = folder / safe_relative(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_files(
    folder: Path,
    *,
    max_files: int = 10_000,
    max_bytes: int = 2**30,
    max_entries: int | None = None,
    skip=lambda name: False,
) -> dict:
    """Every regular file below ``folder`` (links and special files are skipped), by relative path.

    Walked by descriptors, iteratively and within the bounds given (:func:`grading.tree.read_tree`,
    which raises :class:`grading.tree.TreeTooLarge` past them); ``max_entries`` defaults to
    ``SubmissionFolders.max_entries`` (:mod:`grading.config`).
    """
    from grading.config import SubmissionFolders
    from grading.tree import read_tree

    if max_entries is None:
        max_entries = SubmissionFolders().max_entries
    return read_tree(folder, max_files=max_files, max_bytes=max_bytes, max_entries=max_entries, skip=skip)


def _remove_quietly(path: Path) -> None:
    from grading.tree import remove_tree

    try:
        remove_tree(path)
    except OSError:
        pass


def _course(bundle: dict, digest: str):
    """This process's scratch course for ``bundle``: (root, NbGraderAPI), created once."""
    from nbgrader.apps import NbGraderAPI

    from .config import course_config, ensure_tools_on_path

    ensure_tools_on_path()
    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own SQLAlchemy usage
    with _LOCK:
        if digest in _COURSES:
            return _COURSES[digest]
        root = Path(tempfile.mkdtemp(prefix="course-worker-"))
        atexit.register(_remove_quietly, root)
        (root / "nbgrader_config.py").write_text(bundle["config"])
        write_files(root / "source" / bundle["assignment"], bundle["source"])
        api = NbGraderAPI(config=course_config(root, db_url=f"sqlite:///{root / 'gradebook.db'}"))
        made = api.generate_assignment(bundle["assignment"], force=True, create=True)
        if not made["success"]:
            raise RuntimeError(f"generate_assignment failed on the worker:\n{made.get('log', '')[-3000:]}")
        if bundle.get("duedate"):  # the instructor's due date: the feedback's late penalty is the gradebook's
            from nbgrader.api import Gradebook

            with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
                gb.update_or_create_assignment(bundle["assignment"], duedate=bundle["duedate"])
        _COURSES[digest] = (root, api)
        return _COURSES[digest]


def _last_error(log: str) -> str:
    errors = [line for line in log.splitlines() if line.startswith("[ERROR]")]
    for line in errors:
        if "There was an error processing" not in line and "Please see" not in line:
            return line.removeprefix("[ERROR]").strip()[:300]
    return (errors[0].removeprefix("[ERROR]").strip() if errors else "nbgrader autograde failed")[:300]


def grade_submission(bundle: dict, digest: str, student: str, files: dict[str, bytes], timestamp: str | None) -> dict:
    """Autograde one submission in this worker's scratch course.

    Parameters
    ----------
    bundle : dict
        ``assignment``, ``config`` (text of nbgrader_config.py), ``source``
        (relative path -> bytes of the assignment's source files) and ``duedate``
        (the instructor's gradebook's, ISO format, or None).
    digest : str
        Identifies the bundle (its hash), so the scratch course is made once per process.
    student : str
        The student id (already validated by the coordinator).
    files : dict of str to bytes
        The submission folder's regular files, by relative path.
    timestamp : str or None
        The submission time, as nbgrader's ``timestamp.txt`` holds it.

    Returns
    -------
    dict
        ``ok``; when ok, ``autograded`` and ``feedback`` (relative path -> bytes);
        otherwise ``reason``. ``log`` is nbgrader's log (its end).
    """
    root, api = _course(bundle, digest)
    with _GRADING:
        return _grade(root, api, bundle["assignment"], student, files, timestamp)


def _grade(root: Path, api, assignment: str, student: str, files: dict[str, bytes], timestamp: str | None) -> dict:
    for area in ("submitted", "autograded", "feedback"):
        _remove_quietly(root / area / student)
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    write_files(folder, files)
    if timestamp:
        (folder / "timestamp.txt").write_text(timestamp)
    try:
        result = api.autograde(assignment, student, force=True, create=True)
        log = result.get("log", "") or ""
        graded = root / "autograded" / student / assignment
        if not result["success"] or not graded.is_dir():
            return {"ok": False, "reason": f"autograde failed: {_last_error(log)}", "log": log[-20000:]}
        autograded = read_files(graded)
        feedback = api.generate_feedback(assignment, student, force=True)
        html = read_files(root / "feedback" / student / assignment) if feedback["success"] else {}
        return {"ok": True, "autograded": autograded, "feedback": html, "log": log[-20000:]}
    finally:
        for area in ("submitted", "autograded", "feedback"):
            _remove_quietly(root / area / student)
