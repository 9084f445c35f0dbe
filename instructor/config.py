"""The course's nbgrader configuration, as every `course` command and grading worker reads it.

One place for: the configuration of a course folder (its ``nbgrader_config.py``), the gradebook it names,
and the tools nbgrader runs by name (``alembic``) on PATH. :mod:`instructor.classgrade` (the coordinator)
and :mod:`instructor.worker` (each grading process) both import it, and neither imports the other's module
at import time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets import Integer
from traitlets.config import Configurable


class CourseGrade(Configurable):
    """The bounds of ``course grade`` (:mod:`instructor.classgrade`), set as ``c.CourseGrade.<name>`` in the
    course's ``nbgrader_config.py``, like nbgrader's own options."""

    worker_memory = Integer(
        4 * 2**30,
        help="Resident memory of one local `course grade` grading process, in bytes. Its Dask nanny restarts it "
        "past 95% of this; the submission it was grading is tried once more, then reported. 0: no bound. "
        "`course grade --worker-memory` overrides it for one run.",
    ).tag(config=True)
    max_submission_bytes = Integer(
        64 * 2**20,
        help="The most a submission folder may hold, in bytes (a notebook with figures is a few MB). A larger "
        "one is reported as not graded, with this reason.",
    ).tag(config=True)
    max_submission_files = Integer(
        200, help="The most regular files a submission folder may hold; past it, reported as not graded."
    ).tag(config=True)


def ensure_tools_on_path() -> None:
    """Put this interpreter's scripts folder first on PATH: nbgrader's gradebook runs ``alembic`` by name."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def course_config(root: Path, db_url: str | None = None):
    """The course's nbgrader configuration (its ``nbgrader_config.py``) for the course folder ``root``."""
    from traitlets.config.loader import Config

    from grading.config import course_file_config

    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"no nbgrader_config.py in {root}: run this in the course folder")
    config = Config()
    config.merge(course_file_config(root))
    config.CourseDirectory.root = str(root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    return config


def db_url_of(config) -> str:
    """The gradebook URL of a course configuration (:func:`course_config`): its db_url, else SQLite in the course."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=config).db_url
