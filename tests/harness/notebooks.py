"""Build submissions from the instructor's and the student's notebooks.

A *reference submission* is the release notebook with every solution cell
replaced by the instructor's solution (the code between ``### BEGIN SOLUTION``
and ``### END SOLUTION``, markers removed): exactly what a perfect student hands in.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]  # tests/harness/ -> the repository
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"

_MARKER = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def assignments() -> list[str]:
    """Names of the assignments: the folders under ``source/`` holding a notebook."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebook_path(assignment: str, folder: Path = RELEASE) -> Path:
    """The one notebook of ``assignment`` under ``folder`` (release by default)."""
    (path,) = sorted((folder / assignment).glob("*.ipynb"))
    return path


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def is_test(cell) -> bool:
    """An autograded test cell: a graded code cell that is not a solution."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def strip_markers(text: str) -> str:
    """Remove the BEGIN/END SOLUTION lines, keeping the solution between them."""
    return "\n".join(line for line in text.split("\n") if not _MARKER.match(line))


def solutions(assignment: str) -> dict[str, str]:
    """The instructor's answer for every solution cell, by grade_id, markers removed."""
    nb = read(notebook_path(assignment, SOURCE))
    out = {}
    for cell in nb.cells:
        if is_solution(cell):
            text = cell.source
            if cell.cell_type == "markdown":
                text = re.sub(r"=== (BEGIN|END) MARK SCHEME ===\n?", "", text).strip()
            out[grade_id(cell)] = strip_markers(text)
    return out


def autograded_points(assignment: str) -> dict[str, float]:
    """grade_id -> points of the autograded test cells, in notebook order, from the instructor notebook."""
    cells = read(notebook_path(assignment, SOURCE)).cells
    return {grade_id(c): float(c.metadata["nbgrader"]["points"]) for c in cells if is_test(c)}


def autograded_cells(assignment: str) -> list[str]:
    """grade_ids of the autograded test cells, in notebook order."""
    return list(autograded_points(assignment))


def with_answers(nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose solution cells with these grade_ids hold these sources."""
    out = copy.deepcopy(nb)
    unknown = set(answers) - {grade_id(c) for c in out.cells if is_solution(c)}
    if unknown:
        raise KeyError(f"no solution cells with grade_id {sorted(unknown)}")
    for cell in out.cells:
        if is_solution(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return out


def reference_submission(assignment: str, replacing: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The release notebook with the instructor's answers, except the cells in ``replacing``."""
    return with_answers(read(notebook_path(assignment)), {**solutions(assignment), **(replacing or {})})


#: The instructor's answer of :func:`one_exercise`.
DOUBLE_SOLUTION = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"


def one_exercise(answer: str = DOUBLE_SOLUTION) -> nbformat.NotebookNode:
    """A notebook of one exercise (``double``, its answer ``answer``) and its 2-point test, for tests whose subject
    is grading itself rather than a tutorial (no tutorial's CPU spent on what they are not about)."""

    def cell(source: str, grade_id: str, grade: bool, solution: bool, **points) -> nbformat.NotebookNode:
        meta = {"grade": grade, "solution": solution, "locked": not solution, "grade_id": grade_id, **points}
        return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {**meta, "schema_version": 3}})

    return nbformat.v4.new_notebook(
        cells=[
            cell(answer, "double", grade=False, solution=True),
            cell('"""double doubles."""\nassert double(3) == 6', "test_double", grade=True, solution=False, points=2),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
