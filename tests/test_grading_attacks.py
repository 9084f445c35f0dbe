"""Attacks on the autograder, each submitted and graded with real nbgrader.

A student who tampers with tags, metadata or test cells, or who rigs equality
or the functions the tests call, must not gain a single point. All of them are graded
by one ``nbgrader autograde`` run, as a class is.
"""

from __future__ import annotations

import copy
from html.parser import HTMLParser

import nbformat
import pytest
from harness.notebooks import (
    assignments,
    autograded_cells,
    grade_id,
    is_test,
    notebook_path,
    read,
    reference_submission,
    with_answers,
)
from harness.scratch import Course

pytestmark = pytest.mark.slow
T2 = "t2_convolutions"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return Course.create(tmp_path_factory.mktemp("attacks"), [T2])


def _total(course, student):
    scores = course.test_scores(student, T2)
    return sum(scores.values()), scores


def _untouched():
    return read(notebook_path(T2))


def _tag_tests(tag):
    nb = _untouched()
    for cell in nb.cells:
        if is_test(cell):
            cell.metadata.setdefault("tags", []).append(tag)
    return nb


def _delete_tests():
    nb = _untouched()
    nb.cells = [c for c in nb.cells if not is_test(c)]
    return nb


def _rename_tests():
    nb = _untouched()
    for cell in nb.cells:
        if is_test(cell):
            cell.metadata.nbgrader["grade_id"] = "mine_" + grade_id(cell)
            cell.source = "pass"
    return nb


def _tests_to_markdown():
    nb = _untouched()
    for i, cell in enumerate(nb.cells):
        if is_test(cell):
            nb.cells[i] = nbformat.v4.new_markdown_cell(cell.source, metadata=copy.deepcopy(cell.metadata))
    return nb


def _tests_emptied_and_unlocked():
    nb = _untouched()
    for cell in nb.cells:
        if is_test(cell):
            cell.source = 'print("all good")'
            cell.metadata.nbgrader.update({"locked": False, "grade": False, "solution": True})
    return nb


REBIND = """
import numpy as np
import torch
import torch.nn.functional as F
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
F.conv2d = lambda *a, **k: torch.zeros(1, 1, 1, 1)
torch.Tensor.__eq__ = lambda self, other: True
"""

RIG_CHECKS = """
from helpers import checks
checks.assert_close = lambda *a, **k: None
checks.assert_shape = lambda *a, **k: None
checks.is_close = lambda *a, **k: False
checks.max_abs_difference = lambda *a, **k: 0.0
checks.as_int_tuple = lambda value, length, name="": (42, 58)
checks.conv2d_reference = lambda *a, **k: conv2d_by_hand(*a, **k)
"""

RIGGED_EQ = """
class Anything(tuple):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = tuple.__hash__


class Rigged(torch.Tensor):
    def __eq__(self, other):
        return True
    def detach(self):
        return self
    def numpy(self, *a, **k):
        return self._expected


def conv2d_by_hand(image, kernel, padding=0, stride=1):
    return torch.zeros(2, 2).as_subclass(Rigged)


def conv_output_shape(h, w, K, padding=0, stride=1):
    return Anything((0, 0))
"""

# Every way in mentions __xss, so what the page's own template holds never counts.
XSS = """My answer **bold**, $a < b$ and [a page](https://example.org).

<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script><svg onload="window.__xss = 3"></svg>
[click](javascript:window.__xss=4) ![pic](javascript:window.__xss=5) [c2](jav&#x61;script:window.__xss=6)
<iframe src="https://example.org/__xss"></iframe><a href="javascript:window.__xss=7">a</a> [d](data:text/html,__xss)
<style>body {display: none} /* __xss */</style>
"""


class _Injected(HTMLParser):
    """The student's ways into a page: elements and attributes that could run or restyle it, mentioning __xss."""

    def __init__(self):
        super().__init__()
        self.found, self._tag = [], None

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        for name, value in attrs:
            if "__xss" in (value or "") and (
                name.startswith("on")
                or (value or "").strip().lower().startswith(("javascript", "data:text"))
                or tag in ("iframe", "svg", "object", "embed")
            ):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self._tag in ("script", "style") and "__xss" in data:
            self.found.append(f"<{self._tag}>{data.strip()}")


def injected(html: str) -> list[str]:
    """What of :data:`XSS` made it into ``html`` as markup (escaped text does not count)."""
    parser = _Injected()
    parser.feed(html)
    return parser.found


# Wrong answers of the right types for every exercise, so that only a rigged check could pass them.
JUNK = {
    "conv2d_by_hand": "def conv2d_by_hand(image, kernel, padding=0, stride=1):\n    return torch.zeros(3, 4)\n",
    "conv_output_shape": "def conv_output_shape(h, w, K, padding=0, stride=1):\n    return (1, 1)\n",
    "convolutional_layer": "class ConvolutionalLayer(nn.Module):\n"
    "    def __init__(self, c_in=1, c_out=6, K=7, filters=None):\n"
    "        super().__init__()\n        self.conv = nn.Conv2d(1, 1, 1)\n\n"
    "    def forward(self, s):\n        return torch.zeros(1)\n",
    "grating_responses": "stimuli = torch.zeros(1)\nconvout = torch.zeros(1)\n",
    "parameter_counts": "def n_conv_parameters(c_in, c_out, K):\n    return 1\n\n\n"
    "def n_dense_parameters(h, w, c_in, c_out):\n    return 1\n",
    "layer_weights": "weights = torch.zeros(1)\n",
    "complex_cell_energy": "def complex_cell_energy(stimuli, even, odd):\n    return torch.zeros(1)\n",
}


def _written_answers() -> list[str]:
    """grade_ids of the Markdown answer cells (written answers) of T2."""
    cells = read(notebook_path(T2)).cells
    return [grade_id(c) for c in cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]


def _junk_with(code):
    answers = dict(JUNK)
    answers["conv2d_by_hand"] = code + "\n\n" + answers["conv2d_by_hand"]
    return with_answers(_untouched(), answers)


ATTACKS = {
    "skip_execution_tags": _tag_tests("skip-execution"),
    "raises_exception_tags": _tag_tests("raises-exception"),
    "deleted_test_cells": _delete_tests(),
    "renamed_test_cells": _rename_tests(),
    "test_cells_turned_markdown": _tests_to_markdown(),
    "test_cells_emptied_and_unlocked": _tests_emptied_and_unlocked(),
    "junk_answers": _junk_with(""),
    "rebinds_library_functions": _junk_with(REBIND),
    "rebinds_the_checks": _junk_with(RIG_CHECKS),
}


def _doubled():
    reference = reference_submission(T2)
    doubled = copy.deepcopy(reference)
    doubled.cells = [copy.deepcopy(c) for cell in reference.cells for c in ([cell, cell] if is_test(cell) else [cell])]
    for i, cell in enumerate(doubled.cells):
        cell.id = f"c{i}"
    return doubled


@pytest.fixture(scope="module")
def graded(course):
    """Every submission of this module, graded by one nbgrader run."""
    submissions = {name.replace("_", "-"): nb for name, nb in ATTACKS.items()}
    submissions["rigged-eq"] = with_answers(_untouched(), {"conv2d_by_hand": RIGGED_EQ, "conv_output_shape": "pass"})
    submissions["doubled"] = _doubled()
    submissions["feedback"] = reference_submission(T2, {**JUNK, **{name: XSS for name in _written_answers()}})
    for student, nb in submissions.items():
        course.submit(student, T2, nb)
    run = course.nbgrader("autograde", T2, "--force", timeout=1800)
    assert run.ok, run.output[-3000:]
    return course


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_on_an_empty_submission_scores_zero(graded, name):
    total, scores = _total(graded, name.replace("_", "-"))
    assert total == 0, {k: v for k, v in scores.items() if v}


def test_rigged_equality_scores_nothing_on_the_rigged_exercises(graded):
    total, scores = _total(graded, "rigged-eq")
    assert total == 0, {k: v for k, v in scores.items() if v}


def test_duplicated_test_cells_do_not_add_points(graded):
    total, scores = _total(graded, "doubled")
    maximum = sum(v for k, v in graded.max_scores(T2).items() if k in set(autograded_cells(T2)))
    assert total == maximum


def test_assignments_listed():
    assert T2 in assignments()


def test_feedback_names_failed_tests_but_never_shows_hidden_tests(graded):
    run = graded.generate_feedback("feedback", T2)
    assert run.ok, run.output[-2000:]
    html = graded.feedback_html("feedback", T2).read_text()
    assert html.index('http-equiv="Content-Security-Policy"') < html.index("<script")  # first in <head>
    assert "hidden tests: not shown" in html
    assert "conv2d_by_hand(4 x 5 image, 2 x 2 kernel)" in html  # the visible message a student acts on
    assert "AssertionError" in html
    for secret in ("manual_seed(101)", "BEGIN HIDDEN TESTS", "_make_subclass", "importlib.util"):
        assert secret not in html, secret
    # the written answers' scripts, handlers and javascript: links are gone; their text and formatting stay
    assert injected(html) == [] and html.count("<strong>bold</strong>") == len(_written_answers())
