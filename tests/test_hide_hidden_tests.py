"""grading.preprocessors.HideHiddenTests, in process: feedback hides exactly what nbgrader strips from the release.

The hidden-test markers come from nbgrader's own ``ClearHiddenTests`` configuration, with its rule (a line that
*contains* the delimiter), so a marker nbgrader accepts, such as ``## BEGIN HIDDEN TESTS``, or a delimiter the
instructor configured, never leaves hidden tests in the feedback.
"""

from __future__ import annotations

import copy

import nbformat
import pytest
from nbconvert.exporters.exporter import ResourcesDict
from nbgrader.preprocessors import ClearHiddenTests
from traitlets.config import Config

from grading.preprocessors import HideHiddenTests

META = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "t", "points": 1}}


def _test_cell(source):
    return nbformat.v4.new_code_cell(source, metadata=copy.deepcopy(META))


def _run(step, source):
    nb = nbformat.v4.new_notebook(cells=[_test_cell(source)])
    nb, _ = step.preprocess(nb, ResourcesDict())
    return nb.cells[0].source


@pytest.mark.parametrize(
    ("config", "source"),
    [
        ({}, 'assert f(1) == 2, "visible"\n### BEGIN HIDDEN TESTS\nassert f(7) == 14  # secret\n### END HIDDEN TESTS'),
        ({}, 'assert f(1) == 2, "visible"\n## BEGIN HIDDEN TESTS\nassert f(7) == 14  # secret\n## END HIDDEN TESTS'),
        (
            {},
            'assert f(1) == 2, "visible"\n    # BEGIN HIDDEN TESTS (edge cases)\n'
            "assert f(7) == 14  # secret\n# END HIDDEN TESTS",
        ),
        (
            {"begin_test_delimeter": "SECRET START", "end_test_delimeter": "SECRET STOP"},
            'assert f(1) == 2, "visible"\n# SECRET START\nassert f(7) == 14  # secret\n# SECRET STOP',
        ),
    ],
)
def test_feedback_hides_what_the_release_strips(config, source):
    c = Config()
    for key, value in config.items():
        setattr(c.ClearHiddenTests, key, value)
    shown = _run(HideHiddenTests(config=c), source)
    assert "secret" not in shown and "visible" in shown and "hidden tests: not shown" in shown
    released = _run(ClearHiddenTests(config=c), source)
    assert "secret" not in released  # nbgrader strips the same region from the release
    assert [line for line in shown.splitlines() if "hidden tests" not in line] == released.splitlines()


def test_solution_and_ungraded_cells_are_left_alone():
    cell = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS")
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = HideHiddenTests().preprocess(nb, ResourcesDict())
    assert "x = 1" in nb.cells[0].source
