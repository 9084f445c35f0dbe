"""nbgrader hooks of the course (configured in ``nbgrader_config.py``)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("course.grading")


def drop_links(assignment: str, student: str, notebooks: list[str], **_) -> list[Path]:
    """Remove symbolic links and special files from submission folders before nbgrader copies them.

    nbgrader copies every file of ``submitted/<student>/<assignment>/`` into
    ``autograded/`` and later ``chmod``s what it copied, following links: a link to the
    gradebook, to the instructor's source or to another student's files would be read
    or changed with the instructor's rights. Only regular files and folders stay; a
    link carries no work of the student's, so nothing is lost.

    Parameters
    ----------
    assignment, student : str
        As nbgrader passes them (they may be ``*``); the folders come from ``notebooks``.
    notebooks : list of str
        Paths of the submitted notebooks about to be converted.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed = []
    for folder in sorted({Path(n).parent for n in notebooks}):
        for path in [folder, *folder.rglob("*")] if not folder.is_symlink() else [folder]:
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                path.unlink()
                removed.append(path)
                log.warning("removed %s from the submission: not a regular file", path)
    return removed
