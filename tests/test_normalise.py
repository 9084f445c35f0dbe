"""The sanitize stage of autograde, in-process against a temporary gradebook (no kernel, milliseconds).

Every metadata attack of ``tests/test_grading_attacks.py`` is run through the course's
sanitize preprocessors (``NormaliseSubmission``, then nbgrader's own ``OverwriteCells``
and ``CheckCellMetadata``) as configured in ``nbgrader_config.py``; what comes out must
hold exactly the instructor's test cells (grade_id, type, source, points, locked), no
tags, and no test cell twice. The real autograde of the same attacks (that they score 0)
stays in ``tests/test_grading_attacks.py``.
"""

from __future__ import annotations

import copy

import nbformat
import pytest
from harness.notebooks import grade_id, is_test, notebook_path, read
from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.filters import markdown2html
from test_grading_attacks import (
    T2,
    XSS,
    _delete_tests,
    _rename_tests,
    _tag_tests,
    _tests_emptied_and_unlocked,
    _tests_to_markdown,
    injected,
)
from traitlets.utils.importstring import import_item

from grading.preprocessors import renders_safely, sanitized_markdown


@pytest.fixture(scope="module")
def gradebook(make_course):
    """A course with T2 generated (its gradebook) and the course's sanitize preprocessors, configured."""
    from instructor.classgrade import course_config

    course = make_course([T2], sandbox=False)
    config = course_config(course.root)
    steps = [import_item(name)(config=config) for name in config.Autograde.sanitize_preprocessors]
    return course, steps


def _sanitize(gradebook, nb):
    course, steps = gradebook
    resources = ResourcesDict()
    resources["nbgrader"] = {"db_url": course.db_url, "assignment": T2, "notebook": T2, "student": "mallory"}
    nb = copy.deepcopy(nb)
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb


def _tests(nb):
    meta = lambda c: c.metadata.nbgrader  # noqa: E731
    return sorted(
        (grade_id(c), c.cell_type, c.source, meta(c)["points"], meta(c)["locked"]) for c in nb.cells if is_test(c)
    )


def _doubled():
    nb = read(notebook_path(T2))
    nb.cells = [copy.deepcopy(c) for cell in nb.cells for c in ([cell, cell] if is_test(cell) else [cell])]
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i}"
    return nb


ATTACKS = {
    "skip_execution_tags": lambda: _tag_tests("skip-execution"),
    "raises_exception_tags": lambda: _tag_tests("raises-exception"),
    "deleted_test_cells": _delete_tests,
    "renamed_test_cells": _rename_tests,
    "test_cells_turned_markdown": _tests_to_markdown,
    "test_cells_emptied_and_unlocked": _tests_emptied_and_unlocked,
    "duplicated_test_cells": _doubled,
}


def _gradebook_tests(gradebook):
    """The instructor's test cells as the gradebook holds them (hidden tests included)."""
    from nbgrader.api import Gradebook

    course, _ = gradebook
    with Gradebook(course.db_url) as gb:
        nb = gb.find_notebook(T2, T2)
        points = {c.name: c.max_score for c in nb.grade_cells}
        return sorted(
            (c.name, c.cell_type, c.source, points[c.name], c.locked)
            for c in nb.source_cells
            if c.name in points and c.cell_type == "code" and c.name not in {s.name for s in nb.solution_cells}
        )


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_sanitize_restores_exactly_the_instructors_test_cells(gradebook, name):
    out = _sanitize(gradebook, ATTACKS[name]())
    assert _tests(out) == _gradebook_tests(gradebook)
    assert not any(c.metadata.get("tags") for c in out.cells)
    ids = [grade_id(c) for c in out.cells if grade_id(c)]
    assert len(ids) == len(set(ids)), "a grade_id appears twice"
    nbformat.validate(out)


def test_sanitize_keeps_an_honest_notebooks_cells_in_order(gradebook):
    release = read(notebook_path(T2))
    out = _sanitize(gradebook, release)
    assert [grade_id(c) for c in out.cells] == [grade_id(c) for c in release.cells]
    assert _tests(out) == _gradebook_tests(gradebook) and len(_tests(out)) == sum(map(is_test, release.cells))

    # Markdown is left as it is when nothing in it needs sanitising (the answer stubs: nbgrader then still sees an
    # unanswered written answer as unchanged), else it comes back as the same content in safe HTML
    def expected(cell):
        if cell.cell_type != "markdown" or renders_safely(cell.source):
            return cell.source
        return sanitized_markdown(cell.source)

    others = [(c.cell_type, expected(c)) for c in release.cells if not is_test(c)]
    assert [(c.cell_type, c.source) for c in out.cells if not is_test(c)] == others
    stubs = [c for c in release.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert stubs and all(renders_safely(c.source) for c in stubs)
    for cell in out.cells:
        if cell.cell_type == "markdown" and cell.source.startswith('<div class="course-answer">'):
            assert markdown2html(cell.source).strip() == cell.source


def _with_written_answers(text):
    """The release with every written answer, and one cell the student added, set to ``text``."""
    nb = read(notebook_path(T2))
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = text
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(text))
    return nb


def _rendered(nb, template):
    """``nb`` as nbgrader's ``template`` renders it; as in the formgrader, nothing else sanitises Markdown."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    exporter = HTMLExporter(template_name=template, extra_template_basedirs=[handlers.template_path])
    resources = {"assignment_id": T2, "notebook_id": T2, "submission_id": "x", "index": 0, "total": 1}
    resources |= {"base_url": "", "student": "mallory", "last_name": "", "first_name": "", "notebook_path": ""}
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    return html


def test_a_students_markdown_cannot_script_the_formgrader(gradebook):
    """The formgrader's page of a submission (its formgrade template); feedback: tests/test_grading_attacks.py."""
    attack = _with_written_answers(XSS)
    assert len(injected(_rendered(attack, "formgrade"))) >= 6, "the template renders a student's Markdown as it is"
    html = _rendered(_sanitize(gradebook, attack), "formgrade")
    assert injected(html) == []
    # what an honest answer writes still shows: formatting, maths and web links
    assert "<strong>bold</strong>" in html and "$a &lt; b$" in html and 'href="https://example.org"' in html
