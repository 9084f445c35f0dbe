"""The grading side's own options, read from the course's ``nbgrader_config.py`` like nbgrader's.

nbgrader calls autograde's ``pre_convert_hook`` (:mod:`grading.hooks`) with no configuration, so the hook
reads the course folder's ``nbgrader_config.py`` itself (:func:`course_file_config`); ``course grade``
passes the configuration it loaded from the same file. Either way one ``c.SubmissionFolders.<name>`` line
sets a bound for every path that walks a submission folder.
"""

from __future__ import annotations

from pathlib import Path

from traitlets import Integer
from traitlets.config import Config, Configurable


class SubmissionFolders(Configurable):
    """Bounds on walking a submission folder, which a student shaped, before nbgrader copies it.

    Set as ``c.SubmissionFolders.<name>`` in the course's ``nbgrader_config.py``.
    """

    max_entries = Integer(
        100_000,
        help="The most entries (files, folders, links, anything) a walk over one submission folder lists, "
        "counted as they are listed. Past it the link check moves the folder to quarantine/ ungraded, and the "
        "notebook search reports it as too large.",
    ).tag(config=True)
    max_depth = Integer(
        32,
        help="The deepest level of folders the link check enters in a submission folder. A deeper one is moved, "
        "whole, to quarantine/<student>/ and not graded (nbgrader would copy what was not checked).",
    ).tag(config=True)
    max_notebook_bytes = Integer(
        64 * 2**20,
        help="The largest submitted notebook, in bytes, that is read to check it before grading (a notebook with "
        "figures is a few MB). A larger one is reported as not graded by `course grade`; plain `nbgrader "
        "autograde` logs it and leaves it to nbgrader.",
    ).tag(config=True)


def course_file_config(root: str | Path) -> Config:
    """The configuration in the course folder ``root``'s ``nbgrader_config.py`` (empty when there is none)."""
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    except ConfigFileNotFound:
        return Config()


def submission_folders(root: str | Path) -> SubmissionFolders:
    """The submission-folder bounds that the course folder ``root``'s ``nbgrader_config.py`` sets."""
    return SubmissionFolders(config=course_file_config(root))
