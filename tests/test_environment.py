"""The installed environment keeps process start cheap: every nbgrader, `course` and Dask worker process pays it."""

from __future__ import annotations

import subprocess
import sys


def test_starting_nbgrader_builds_no_iri_parser():
    """requirements.txt pins jsonschema below 4.25: later versions import rfc3987-syntax, which builds a Lark parser
    (about 0.9 s) whenever nbformat is imported, that is in every grading process."""
    code = "import sys, nbgrader.apps.nbgraderapp; print(sorted({'rfc3987_syntax', 'lark'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout
