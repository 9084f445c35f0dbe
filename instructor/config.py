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

#: Resident memory of one local `course grade` process, in bytes (its Dask nanny restarts it past 95% of this).
DEFAULT_WORKER_MEMORY = 4 * 2**30


def ensure_tools_on_path() -> None:
    """Put this interpreter's scripts folder first on PATH: nbgrader's gradebook runs ``alembic`` by name."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def course_config(root: Path, db_url: str | None = None):
    """The course's nbgrader configuration (its ``nbgrader_config.py``) for the course folder ``root``."""
    from traitlets.config.loader import Config, PyFileConfigLoader

    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"no nbgrader_config.py in {root}: run this in the course folder")
    config = Config()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    return config


def db_url_of(config) -> str:
    """The gradebook URL of a course configuration (:func:`course_config`): its db_url, else SQLite in the course."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=config).db_url
