"""`make course` (``python -m harness.demo`` with ``tests/`` on ``sys.path``): regenerate the assignments, grade
demo submissions, report.

Steps, each printed as it happens:

1. generate every assignment from ``source/`` in the scratch course ``_course/``
   (ignored by git) and fail if the committed ``release/`` differs;
2. hand in, for each assignment, a complete correct notebook (alice), a partly
   correct one (bob), the untouched release (carol), a file that is not a
   notebook (dave) and a complete notebook under another name, in the student's
   folder instead of the assignment's (erin);
3. grade each assignment with ``course grade`` (parallel workers, the grading sandbox
   when it is available, a loud warning when it is not), which also writes feedback;
   export grades to CSV;
4. print the table of students x assignments.
"""

from __future__ import annotations

import filecmp
import sys
import time
from pathlib import Path

import nbformat

from instructor import classgrade

from .notebooks import (
    ROOT,
    assignments,
    notebook_path,
    read,
    reference_submission,
    solutions,
    with_answers,
)
from .scratch import Course

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
    demos["erin"] = reference_submission(assignment)
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


def main(
    root: Path = SCRATCH, sandbox: bool | None = None, workers: int | None = None, only: list[str] | None = None
) -> int:
    """Run the demo in the scratch course ``root`` (on the assignments ``only``, default all); 0 when it worked."""
    start = time.monotonic()
    names = assignments()
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            print(f"course: no such assignment(s) {unknown}; there are {names}", file=sys.stderr)
            return 2
        names = [name for name in names if name in only]
    print(f"course: generating {len(names)} assignment(s) in {_show(root)}/: {', '.join(names)}", flush=True)
    course = Course.create(root, names, sandbox=sandbox)
    print(sandbox_banner(course.sandboxed), flush=True)
    stale = check_release(course, names)
    if stale:
        print(f"course: FAILED: release/ differs from what nbgrader generates for {stale}: run `make release`")
        return 1
    print("course: release/ is in sync with source/", flush=True)

    table: dict[tuple[str, str], str] = {}
    students: list[str] = []
    for name in names:
        for student, notebook in demo_submissions(name).items():
            students += [student] if student not in students else []
            if student == "erin":  # handed in under another name, outside the assignment's folder
                path = course.root / "submitted" / student / f"my_{name}_final.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, path)
            else:
                course.submit(student, name, notebook)
        print(f"course: grading {name} ...", flush=True)
        outcomes = classgrade.grade(course.root, name, workers=workers)
        print(classgrade.format_outcomes(outcomes), flush=True)
        for o in outcomes:
            if o.status == "failed":
                table[o.student, name] = "not graded: " + ("invalid notebook" if "valid" in o.reason else "see above")
            else:
                table[o.student, name] = f"{o.code_score:g}/{o.max_code_score:g}"

    csv_path = course.root / "grades.csv"
    classgrade.export_csv(course.db_url, csv_path)
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


def cli(argv: list[str] | None = None) -> int:
    """``python -m harness.demo [--folder F] [--sandbox auto|on|off] [--workers N] [assignment ...]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="make course", description="a scratch course with demo students, graded")
    parser.add_argument("--folder", default=str(SCRATCH), help="the scratch course folder (replaced)")
    parser.add_argument("--sandbox", choices=["auto", "on", "off"], default="auto", help="grade in the sandbox")
    parser.add_argument("--workers", type=int)
    parser.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    args = parser.parse_args(argv)
    sandbox = {"on": True, "off": False, "auto": None}[args.sandbox]
    return main(Path(args.folder), sandbox=sandbox, workers=args.workers, only=args.assignments)


if __name__ == "__main__":
    sys.exit(cli())
