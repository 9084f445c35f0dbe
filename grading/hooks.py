"""nbgrader hooks of the course (configured in ``nbgrader_config.py``).

:func:`prepare_submission` is autograde's ``pre_convert_hook``: it runs for every
submission folder before nbgrader copies it, both under plain ``nbgrader autograde``
(and the formgrader's button) and under ``course grade``, which also calls
:func:`place_notebooks` to find a notebook handed in elsewhere in the student's folder.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path

import nbformat

from .config import SubmissionFolders, submission_folders
from .tree import TreeTooLarge, iter_entries, iter_files

log = logging.getLogger("course.grading")

#: A student id the course accepts: it names a folder, so no separators, no leading dot.
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")


class SubmissionError(Exception):
    """A submission that cannot be graded; the message says why, for the instructor."""


def valid_student_id(student: str) -> bool:
    """Whether ``student`` can be a student id (and a folder name) of the course."""
    return bool(STUDENT_ID.fullmatch(student)) and ".." not in student


def drop_links(
    assignment: str, student: str, notebooks: list[str], limits: SubmissionFolders | None = None, **_
) -> list[Path]:
    """Remove symbolic links and special files from submission folders before nbgrader copies them.

    nbgrader copies every file of ``submitted/<student>/<assignment>/`` into
    ``autograded/`` and later ``chmod``s what it copied, following links: a link to the
    gradebook, to the instructor's source or to another student's files would be read
    or changed with the instructor's rights. Only regular files and folders stay; a
    link carries no work of the student's, so nothing is lost.

    The folders are walked by directory descriptors, iteratively (:func:`grading.tree.iter_entries`),
    so no path length hides an entry and no depth exhausts the grader. nbgrader ignores a hook that
    fails, so a folder that cannot be walked completely (deeper than ``limits.max_depth``, more than
    ``limits.max_entries`` entries, a folder that cannot be listed) is not left for it to copy: it is
    moved, whole, to ``quarantine/<student>/`` in the course folder and its notebooks are taken out of
    ``notebooks`` (that submission is then reported as not graded; nothing is deleted).

    Parameters
    ----------
    assignment, student : str
        As nbgrader passes them (they may be ``*``); the folders come from ``notebooks``.
    notebooks : list of str
        Paths of the submitted notebooks about to be converted (updated in place).
    limits : SubmissionFolders, optional
        The bounds; by default those of each folder's course (its ``nbgrader_config.py``).

    Returns
    -------
    list of Path
        What was removed (and the folders moved to quarantine).
    """
    removed: list[Path] = []
    for folder in sorted({_folder_of(n) for n in notebooks}):
        if folder.is_symlink():
            folder.unlink()
            removed.append(folder)
            continue
        if not folder.is_dir():
            continue
        try:
            removed += _drop_links_below(folder, limits or submission_folders(folder.parents[2]))
        except Exception as err:  # noqa: BLE001  (OSError, TreeTooLarge: never let nbgrader copy it)
            removed.append(_quarantine(folder, err))
            notebooks[:] = [n for n in notebooks if _folder_of(n) != folder]
    return removed


def _reason(err: Exception) -> str:
    """An error as the instructor reads it: its kind and the system's words (``PermissionError: ...``)."""
    return f"{type(err).__name__}: {getattr(err, 'strerror', None) or err}"


def _folder_of(notebook: str) -> Path:
    """The assignment folder of a notebook path nbgrader passed, normalised (a ``..`` in it moves nothing)."""
    return Path(os.path.normpath(notebook)).parent


def _owner_rights(path: Path, mode: int | None = None, dir_fd: int | None = None) -> None:
    """Give a folder back its owner's read, write and search rights (a student's copy may have taken them away:
    nbgrader's collect keeps modes), so that its links can be removed and the folder moved; a no-op for root."""
    if mode is None:
        mode = os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode
    if stat.S_ISDIR(mode) and stat.S_IMODE(mode) & 0o700 != 0o700 and os.geteuid() != 0:
        os.chmod(path, stat.S_IMODE(mode) | 0o700, dir_fd=dir_fd)  # a folder, as lstat said: no link to follow


def _drop_links_below(folder: Path, limits: SubmissionFolders) -> list[Path]:
    removed = []
    if folder.is_dir() and not folder.is_symlink():
        _owner_rights(folder)
    walk = iter_entries(folder, max_depth=limits.max_depth, max_entries=limits.max_entries, deeper="refuse")
    for relative, folder_fd, name, mode in walk:
        _owner_rights(name, mode, dir_fd=folder_fd)  # before the walk enters it
        if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            os.unlink(name, dir_fd=folder_fd)
            removed.append(folder / relative)
            log.warning("removed %s from the submission: not a regular file", folder / relative)
    return removed


class UncheckedSubmission(BaseException):
    """A submission folder that could be neither checked for links nor moved aside: grading must stop.

    A BaseException, because nbgrader ignores an ``Exception`` from the hook and would then copy
    the folder, links and all.
    """


def _quarantine(folder: Path, err: Exception) -> Path:
    """Move a submission folder that could not be checked out of nbgrader's reach; say so loudly."""
    course_root, student = folder.parents[2], folder.parent.name
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"  # never an earlier quarantine's name
    target = course_root / "quarantine" / student / f"{folder.name}-{stamp}"
    try:
        for path in (folder.parent, folder):  # moving a folder to another parent rewrites its ".."
            _owner_rights(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(folder, target)
    except OSError:
        target = folder.with_name(f".{folder.name}-quarantined-{stamp}")  # beside it: nbgrader looks no further
        try:
            os.rename(folder, target)
        except OSError as failure:
            raise UncheckedSubmission(
                f"{folder} could not be checked for links ({err}) nor moved aside ({failure}): grading stopped"
            ) from None
    log.error(
        "%s/%s could not be checked for links (%s): moved to %s and not graded",
        student,
        folder.name,
        _reason(err),
        target.relative_to(course_root),
    )
    return target


def _notebooks_in(folder: Path, recursive: bool, limits: SubmissionFolders) -> list[Path]:
    """Notebooks (regular files, not links) in ``folder``, or up to 8 levels below it (``recursive``).

    Walked by descriptors, iteratively (:func:`grading.tree.iter_files`): no depth or path length makes
    the search fail; folders deeper than 8 levels are not searched, and a folder holding more than
    ``limits.max_entries`` entries in all is refused.
    """

    def skip(relative: str) -> bool:
        return relative.rsplit("/", 1)[-1] in (".ipynb_checkpoints", "_ignored")

    try:
        found = [
            folder / relative
            for relative, _, name in iter_files(
                folder, max_depth=8 if recursive else 0, max_entries=limits.max_entries, deeper="skip", skip=skip
            )
            if name.endswith(".ipynb")
        ]
    except TreeTooLarge as err:
        raise SubmissionError(f"the submission folder is too large to search ({err})") from None
    except OSError as err:
        raise SubmissionError(f"the submission folder cannot be searched ({err.strerror or err})") from None
    return sorted(found)


def place_notebooks(
    student_dir: Path,
    assignment: str,
    expected: list[str],
    search: bool = True,
    limits: SubmissionFolders | None = None,
) -> list[str]:
    """Put a student's notebook where nbgrader looks for it, or say why it cannot be graded.

    When the assignment has one notebook (``expected``, names without ``.ipynb``) and
    ``submitted/<student>/<assignment>/<name>.ipynb`` is missing, a single notebook
    with another name in that folder, in a subfolder of it (``search``) or directly in
    the student's folder (``search``) is moved there. Other notebooks in the assignment
    folder are set aside in ``_ignored/`` (nbgrader would skip them anyway).

    Parameters
    ----------
    student_dir : Path
        ``submitted/<student>``.
    assignment : str
    expected : list of str
        The assignment's notebook names, from ``source/<assignment>/``.
    search : bool
        Also look below the assignment folder and in the student's folder.
    limits : SubmissionFolders, optional
        The bounds on the search; by default those of the course folder above ``submitted/``.

    Returns
    -------
    list of str
        What was done, for the instructor.

    Raises
    ------
    SubmissionError
        No notebook, several candidates, or a notebook that is not a valid notebook.
    """
    student_dir = Path(os.path.normpath(student_dir))
    folder = student_dir / assignment
    limits = limits or submission_folders(student_dir.parents[1])
    # every move below goes by path, within the assignment folder or from the student's folder into it: first
    # no link may be left there (a link named _ignored would carry a notebook into another student's folder or
    # the course's source/); the search finds regular files only
    if folder.is_symlink():
        raise SubmissionError(f"the submission folder {assignment} is a link")
    try:
        _drop_links_below(folder, limits)
    except Exception as err:  # noqa: BLE001  (OSError, TreeTooLarge: reported, nothing moved)
        raise SubmissionError(f"the submission folder cannot be checked for links ({_reason(err)})") from None
    for name in expected:
        if os.path.lexists(folder / f"{name}.ipynb") and not (folder / f"{name}.ipynb").is_file():
            raise SubmissionError(f"{assignment}/{name}.ipynb is not a file")
    try:
        if student_dir.is_dir() and not student_dir.is_symlink():
            _owner_rights(student_dir)  # a notebook may be moved out of it
        notes = _place(student_dir, folder, assignment, expected, search, limits)
    except OSError as err:
        raise SubmissionError(f"the notebook could not be placed ({_reason(err)})") from None
    for name in expected:
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            continue
        size = path.stat().st_size
        if size > limits.max_notebook_bytes:
            raise SubmissionError(f"{path.name} is larger than {limits.max_notebook_bytes} bytes ({size})")
        try:
            nbformat.validate(nbformat.read(path, as_version=4))
        except Exception as err:  # noqa: BLE001  (every reason is reported to the instructor)
            text = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
            raise SubmissionError(f"{path.name} is not a valid notebook ({type(err).__name__}: {text})") from None
    return notes


def _place(
    student_dir: Path, folder: Path, assignment: str, expected: list[str], search: bool, limits: SubmissionFolders
) -> list[str]:
    """The moves of :func:`place_notebooks`, once no link is left on their paths."""
    notes: list[str] = []
    if len(expected) == 1 and not (folder / f"{expected[0]}.ipynb").is_file():
        target = folder / f"{expected[0]}.ipynb"
        found = _notebooks_in(folder, recursive=search, limits=limits) if folder.is_dir() else []
        if search and not found:
            found = _notebooks_in(student_dir, recursive=False, limits=limits)
        if not found:
            raise SubmissionError(f"no notebook found for {assignment} (expected {target.name})")
        if len(found) > 1:
            names = ", ".join(str(p.relative_to(student_dir)) for p in found)
            raise SubmissionError(f"several notebooks and none named {target.name}: {names}")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.move(found[0], target)
        notes.append(f"graded {found[0].relative_to(student_dir)} as {assignment}/{target.name}")
    wanted = {f"{name}.ipynb" for name in expected}
    for other in _notebooks_in(folder, recursive=False, limits=limits) if folder.is_dir() else []:
        if other.name not in wanted:
            aside = folder / "_ignored"
            if os.path.lexists(aside) and not aside.is_dir():
                raise SubmissionError(f"{assignment}/_ignored is not a folder: extra notebooks cannot be set aside")
            aside.mkdir(exist_ok=True)
            kept = aside / other.name
            while os.path.lexists(kept):  # never over a file the student already set aside
                kept = aside / f"{other.stem}-{secrets.token_hex(3)}{other.suffix}"
            shutil.move(other, kept)
            notes.append(f"ignored extra notebook {other.name}")
    return notes


def expected_notebooks(course_root: Path, assignment: str) -> list[str]:
    """Names (without ``.ipynb``) of the notebooks of ``assignment`` in the course's ``source/``."""
    return sorted(p.stem for p in (Path(course_root) / "source" / assignment).glob("*.ipynb"))


def prepare_submission(assignment: str, student: str, notebooks: list[str], **_) -> None:
    """autograde's pre_convert_hook: remove links, then name a misnamed notebook as the assignment's.

    ``notebooks`` is nbgrader's own list of the submission's notebooks; it is updated
    in place, so nbgrader grades the renamed notebook. A submission that stays
    ungradable is left for nbgrader to report.
    """
    if not notebooks:
        return
    # one nbgrader run grades one course: its nbgrader_config.py is read once, for both steps
    limits = submission_folders(_folder_of(notebooks[0]).parents[2])
    drop_links(assignment, student, notebooks, limits)
    for folder in sorted({_folder_of(n) for n in notebooks}):
        course_root, name = folder.parents[2], folder.name
        try:
            expected = expected_notebooks(course_root, name)
            notes = place_notebooks(folder.parent, name, expected, search=False, limits=limits)
        except Exception as err:  # noqa: BLE001  (one folder's problem never stops the others' placement)
            log.warning("%s: %s", folder, err if isinstance(err, SubmissionError) else _reason(err))
            continue
        for note in notes:
            log.warning("%s: %s", folder.parent.name, note)
        kept = [n for n in notebooks if _folder_of(n) != folder]
        kept += [str(folder / f"{stem}.ipynb") for stem in expected if (folder / f"{stem}.ipynb").is_file()]
        notebooks[:] = sorted(kept)
