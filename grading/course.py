"""`make course`: regenerate the assignments, grade the demo submissions, report.

Steps, each printed as it happens:

1. generate every assignment from ``source/`` in the scratch course ``_course/``
   (ignored by git) and fail if the committed ``release/`` differs;
2. submit the demo submissions: a complete correct one (alice), a partly
   correct one (bob), the untouched release (carol), a file that is not a
   notebook (dave) and one with a typical mistake (erin);
3. autograde each student separately (one broken submission never stops the
   others), generate feedback, export grades to CSV;
4. print the table of students x assignments.
"""

from __future__ import annotations

import filecmp
import sys
import time
from pathlib import Path

import nbformat

from .mistakes import MISTAKES
from .notebooks import ROOT, assignments, autograded_cells, notebook_path, read, solutions, with_answers
from .pipeline import Course

SCRATCH = ROOT / "_course"


def demo_submissions(assignment: str) -> dict[str, object]:
    """Student name -> notebook (or raw text for a broken file) for one assignment."""
    answers = solutions(assignment)
    release = read(notebook_path(assignment))
    half = dict(list(answers.items())[: len(answers) // 2])
    demos: dict[str, object] = {
        "alice": with_answers(release, answers),
        "bob": with_answers(release, half),
        "carol": release,
        "dave": '{"cells": [ this is not JSON',
    }
    mistakes = MISTAKES.get(assignment)
    if mistakes:
        demos["erin"] = with_answers(release, {**answers, **mistakes[0].answers})
    return demos


def unreadable(path: Path) -> str | None:
    """Why a submitted file cannot be graded, or None when it is a readable notebook."""
    try:
        nbformat.validate(nbformat.read(path, as_version=4))
    except Exception as err:  # noqa: BLE001  (any reason to reject is reported, not raised)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"{path.name} is not a valid notebook ({type(err).__name__}: {first[:120]})"
    return None


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def check_release(course: Course, names: list[str]) -> list[str]:
    """Assignments whose committed release/ differs from what nbgrader just generated."""
    stale = []
    for name in names:
        generated = course.root / "release" / name
        committed = ROOT / "release" / name
        comparison = filecmp.dircmp(generated, committed) if committed.exists() else None
        if comparison is None or comparison.left_only or comparison.right_only:
            stale.append(name)
            continue
        _, mismatch, errors = filecmp.cmpfiles(generated, committed, comparison.common_files, shallow=False)
        if mismatch or errors:
            stale.append(name)
    return stale


def main(root: Path = SCRATCH) -> int:
    start = time.monotonic()
    names = assignments()
    print(f"course: generating {len(names)} assignment(s) in {_show(root)}/: {', '.join(names)}", flush=True)
    course = Course.create(root, names)
    stale = check_release(course, names)
    if stale:
        print(f"course: FAILED: release/ differs from what nbgrader generates for {stale}: run `make release`")
        return 1
    print("course: release/ is in sync with source/", flush=True)

    table: dict[tuple[str, str], str] = {}
    students: list[str] = []
    for name in names:
        tests = set(autograded_cells(name))
        maximum = sum(points for cell, points in course.max_scores(name).items() if cell in tests)
        for student, notebook in demo_submissions(name).items():
            if student not in students:
                students.append(student)
            path = course.submit(student, name, notebook)
            t0 = time.monotonic()
            print(f"course: autograding {student}/{name} ...", end=" ", flush=True)
            problem = unreadable(path)
            if problem:
                print(f"NOT GRADED: {problem}", flush=True)
                table[student, name] = "not graded: invalid notebook"
                continue
            run = course.autograde(student, name)
            scores = course.scores(student, name)
            if not run.ok or scores is None:
                reason = (run.errors() or ["nbgrader failed"])[0].split("]", 1)[-1].strip()
                print(f"NOT GRADED ({time.monotonic() - t0:.0f} s): {reason}", flush=True)
                table[student, name] = "not graded: see log"
                continue
            auto = sum(score for cell, score in scores.items() if cell in tests)
            feedback = course.generate_feedback(student, name)
            print(f"{auto:g}/{maximum:g} ({time.monotonic() - t0:.0f} s)", flush=True)
            table[student, name] = f"{auto:g}/{maximum:g}" + ("" if feedback.ok else " (no feedback)")

    csv_path = course.root / "grades.csv"
    course.export_csv(csv_path)
    width = max(len(s) for s in [*students, "student"]) + 2
    cols = [max(len(n), 20) + 2 for n in names]
    print()
    print("student".ljust(width) + "".join(n.ljust(c) for n, c in zip(names, cols, strict=True)))
    for student in students:
        row = "".join(table.get((student, n), "-").ljust(c) for n, c in zip(names, cols, strict=True))
        print(student.ljust(width) + row)
    print()
    print("Scores are autograded points; written answers wait for manual grading in the formgrader.")
    print(f"grades CSV:    {_show(csv_path)}")
    print(f"feedback HTML: {_show(course.root / 'feedback')}/<student>/<assignment>/")
    print(f"course: done in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
