"""`make bench`: what grading and the course's building blocks cost on this machine.

Reports seconds per autograded submission of Tutorial 2 (the reference answers)
next to nbgrader's floor on the same machine: an assignment whose only cells
import the same libraries and pass one trivial test. Both are measured with the
grading sandbox and without it (when bubblewrap is installed), so the sandbox's
cost is visible. Wall-clock times; the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import torch.nn.functional as F

from grading import sandbox
from helpers.filters import filter_bank
from helpers.stimuli import gratings
from instructor.notebooks import notebook_path, read, reference_submission
from instructor.scratch import Course

FLOOR = "floor"


def _floor_notebook() -> nbformat.NotebookNode:
    """An assignment that only runs T2's setup cell and one trivial test."""
    setup = next(c for c in read(notebook_path("t2_convolutions")).cells if c.cell_type == "code")
    test = nbformat.v4.new_code_cell('"""Trivial."""\nassert True')
    test.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "trivial",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
    }
    nb = nbformat.v4.new_notebook(cells=[nbformat.from_dict(setup), test])
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    return nb


def _time_grading(course: Course, assignment: str, notebook, repeats: int) -> list[float]:
    times = []
    for i in range(repeats):
        student = f"bench{i}"
        course.submit(student, assignment, notebook)
        start = time.perf_counter()
        graded = course.grade(student, assignment)
        times.append(time.perf_counter() - start)
        if graded.scores is None:
            raise RuntimeError(f"{assignment} was not graded: {graded.problem}")
    return times


def bench_grading(repeats: int) -> list[tuple[str, float]]:
    rows = []
    modes = [False, True] if sandbox.available() else [False]
    for sandboxed in modes:
        with tempfile.TemporaryDirectory() as tmp:
            course = Course.create(Path(tmp) / "course", ["t2_convolutions"], sandbox=sandboxed)
            floor_dir = course.root / "source" / FLOOR
            floor_dir.mkdir(parents=True)
            nbformat.write(_floor_notebook(), floor_dir / f"{FLOOR}.ipynb")
            run = course.nbgrader("generate_assignment", FLOOR, "--force")
            if not run.ok:
                raise RuntimeError(run.output)
            label = "sandboxed" if sandboxed else "unsandboxed"
            floor = _time_grading(course, FLOOR, read(course.release_notebook(FLOOR)), repeats)
            t2 = _time_grading(course, "t2_convolutions", reference_submission("t2_convolutions"), repeats)
            rows.append((f"autograde floor (imports only), {label}", min(floor)))
            rows.append((f"autograde t2_convolutions reference, {label}", min(t2)))
            rows.append((f"  t2 minus floor, {label}", min(t2) - min(floor)))
            print(
                f"bench: {label}: floor {statistics.median(floor):.1f} s, t2 {statistics.median(t2):.1f} s", flush=True
            )
    return rows


def _best_of(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="autograde runs per measurement (best is shown)")
    args = parser.parse_args()
    angles = list(range(0, 180, 5))
    rows = [
        ("gratings(36 angles)", _best_of(lambda: gratings(angles))),
        ("filter_bank(6, 7)", _best_of(lambda: filter_bank(6, 7))),
        ("conv2d 36 x 6 x 48 x 64", _best_of(lambda: F.conv2d(gratings(angles), filter_bank(), padding=3))),
    ]
    rows += bench_grading(args.repeats)
    print(f"\n{'what':<52}{'seconds':>10}")
    for name, seconds in rows:
        print(f"{name:<52}{seconds:>10.3f}")
    if not sandbox.available():
        print("(bubblewrap is not installed: the sandboxed rows are missing)")


if __name__ == "__main__":
    main()
