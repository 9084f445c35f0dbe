"""`make course`: regenerate the assignments, grade the demo submissions, report.

Steps, each printed as it happens:

1. generate every assignment from ``source/`` in the scratch course ``_course/``
   (ignored by git) and fail if the committed ``release/`` differs;
2. release each assignment to an exchange folder, let the demo students hand in
   with ``nbgrader submit`` and ``nbgrader collect`` them: a complete correct one (alice), a partly
   correct one (bob), the untouched release (carol), a file that is not a
   notebook (dave) and one with a typical mistake (erin);
   Grading kernels run in the bubblewrap sandbox when it is available
   (``COURSE_SANDBOX=on`` requires it, ``off`` disables it) and a loud
   warning says so when they do not;
3. autograde each student separately (one broken submission never stops the
   others), generate feedback, export grades to CSV;
4. print the table of students x assignments.
"""

from __future__ import annotations

import filecmp
import os
import sys
import time
from pathlib import Path

from .mistakes import MISTAKES
from .notebooks import (
    ROOT,
    assignments,
    autograded_cells,
    notebook_path,
    read,
    reference_submission,
    solutions,
    with_answers,
)
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
        demos["erin"] = reference_submission(assignment, mistakes[0].answers)
    return demos


def sandbox_banner(sandboxed: bool) -> str:
    """The line `make course` prints about the grading sandbox."""
    if sandboxed:
        return "course: grading kernels run in the bubblewrap sandbox (no network, course folder hidden)"
    bar = "!" * 78
    return (
        f"{bar}\n"
        "course: WARNING: grading is NOT sandboxed: student code runs with your permissions and can read\n"
        "course: WARNING: the hidden tests and the gradebook. Install bubblewrap (apt-get install bubblewrap).\n"
        f"{bar}"
    )


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
    choice = os.environ.get("COURSE_SANDBOX", "auto")
    course = Course.create(root, names, sandbox={"on": True, "off": False}.get(choice))
    print(sandbox_banner(course.sandboxed), flush=True)
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
        run = course.release(name)
        if not run.ok:
            print(f"course: FAILED: nbgrader release_assignment {name}:\n{run.output[-2000:]}")
            return 1
        demos = demo_submissions(name)
        for student, notebook in demos.items():
            if student not in students:
                students.append(student)
            submitted = course.student_submit(student, name, notebook)
            state = "submitted" if submitted.ok else "submit FAILED: " + "; ".join(submitted.errors())[:200]
            print(f"course: {student} hands in {name} through the exchange: {state}", flush=True)
        collected = course.collect(name)
        print(f"course: nbgrader collect {name}: {'ok' if collected.ok else 'FAILED'}", flush=True)
        for student in demos:
            t0 = time.monotonic()
            print(f"course: autograding {student}/{name} ...", end=" ", flush=True)
            graded = course.grade(student, name)
            for note in graded.notes:
                print(f"({note})", end=" ", flush=True)
            if graded.scores is None:
                print(f"NOT GRADED ({time.monotonic() - t0:.0f} s): {graded.problem}", flush=True)
                table[student, name] = "not graded: " + ("invalid notebook" if "valid" in graded.problem else "see log")
                continue
            scores = graded.scores
            auto = sum(score for cell, score in scores.items() if cell in tests)
            feedback = course.generate_feedback(student, name)
            print(f"{auto:g}/{maximum:g} ({time.monotonic() - t0:.0f} s)", flush=True)
            table[student, name] = f"{auto:g}/{maximum:g}" + ("" if feedback.ok else " (no feedback)")

    csv_path = course.root / "grades.csv"
    course.export_csv(csv_path)
    width = max(len(s) for s in [*students, "student"]) + 2
    cols = [max(len(n), *(len(table.get((s, n), "-")) for s in students)) + 2 for n in names]
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
