"""`make bench`: what grading a class and the course's building blocks cost on this machine.

Class grading, side by side in one run on the same ``--students`` Tutorial 2
submissions (a third each: the reference answers, half of them, the untouched
release):

* **sequential**: plain ``nbgrader autograde <assignment> --student <id>``, one
  nbgrader process per student, one student after another (nbgrader's own way);
* **course grade**: :func:`instructor.classgrade.grade` with the default workers
  (one per core), once in the grading sandbox and once without it, so the
  sandbox's cost is visible, and once more in the sandbox with nbclient's graceful
  kernel shutdown instead of the course's kill after the last cell
  (``TrustedExecute.shutdown_kernel``).

Each prints seconds per submission (wall clock, cluster start included), and the
ratios; the scores of every student must agree between the runs. From the
sandboxed ``course grade`` figure it projects a class of 2,000 students x 4
assignments on this machine and on 10 machines of 8 cores (Tutorial 2's cost
per submission; the heavier assignments cost more, see the README).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the source checkout's harness

from harness.notebooks import RELEASE, notebook_path, read, reference_submission, solutions, with_answers  # noqa: E402
from harness.scratch import Course  # noqa: E402

from grading import sandbox  # noqa: E402
from helpers.filters import filter_bank  # noqa: E402
from helpers.stimuli import gratings  # noqa: E402
from instructor import classgrade  # noqa: E402

ASSIGNMENT = "t2_convolutions"


def class_of(n: int) -> dict[str, object]:
    """``n`` Tutorial 2 submissions: reference answers, half of the answers, the untouched release, in turn."""
    release = read(notebook_path(ASSIGNMENT, RELEASE))
    answers = solutions(ASSIGNMENT)
    half = dict(list(answers.items())[: len(answers) // 2])
    kinds = {"full": reference_submission(ASSIGNMENT), "half": with_answers(release, half), "blank": release}
    return {f"s{i:03d}-{kind}": kinds[kind] for i, kind in zip(range(n), list(kinds) * n, strict=False)}


def _course(tmp: str, name: str, students: dict, sandboxed: bool, extra_config: str = "") -> Course:
    course = Course.create(Path(tmp) / name, [ASSIGNMENT], sandbox=sandboxed, extra_config=extra_config)
    for student, notebook in students.items():
        course.submit(student, ASSIGNMENT, notebook)
    return course


def _all_scores(course: Course, students: dict) -> dict[str, dict[str, float] | None]:
    return {student: course.scores(student, ASSIGNMENT) for student in students}


def bench_class(n: int) -> tuple[list[tuple[str, float]], float]:
    """Rows of (what, seconds per submission) and the sandboxed ``course grade`` cost per submission."""
    students = class_of(n)
    sandboxed = sandbox.available()
    rows, scores = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        course = _course(tmp, "sequential", students, sandboxed)
        start = time.perf_counter()
        for student in students:
            run = course.autograde(student, ASSIGNMENT)
            if not run.ok:
                raise RuntimeError(f"nbgrader autograde failed for {student}:\n{run.output[-2000:]}")
        sequential = (time.perf_counter() - start) / n
        scores["sequential"] = _all_scores(course, students)
        label = "sandboxed" if sandboxed else "unsandboxed"
        rows.append((f"nbgrader autograde, one process per student, {label}", sequential))
        print(f"bench: sequential nbgrader: {sequential:.2f} s per submission", flush=True)
        parallel = {}
        # (sandboxed, kernel shutdown): the default kills the kernel after its last cell; "graceful" is nbclient's
        runs = [(True, "immediate"), (False, "immediate"), (True, "graceful")] if sandboxed else [(False, "immediate")]
        for mode, shutdown in runs:
            config = f"c.TrustedExecute.shutdown_kernel = {shutdown!r}\n"
            course = _course(tmp, f"parallel-{mode}-{shutdown}", students, mode, config)
            start = time.perf_counter()
            outcomes = classgrade.grade(course.root, ASSIGNMENT, progress=False)
            parallel[mode, shutdown] = (time.perf_counter() - start) / n
            failed = [o for o in outcomes if o.status != "graded"]
            if failed:
                raise RuntimeError(f"course grade did not grade {failed}")
            scores[f"course grade {mode} {shutdown}"] = _all_scores(course, students)
            label = "sandboxed" if mode else "unsandboxed"
            label += "" if shutdown == "immediate" else ", graceful shutdown"
            rows.append((f"course grade, {os.cpu_count()} workers, {label}", parallel[mode, shutdown]))
            print(f"bench: course grade ({label}): {parallel[mode, shutdown]:.2f} s per submission", flush=True)
    reference = scores["sequential"]
    for name, got in scores.items():
        if got != reference:
            raise RuntimeError(f"{name} gave other scores than sequential nbgrader autograde")
    graded = parallel[sandboxed, "immediate"]
    rows.append(("  ratio course grade / sequential (target <= 0.5)", graded / sequential))
    if sandboxed:
        unsandboxed = parallel[False, "immediate"]
        rows.append(("  ratio sandboxed / unsandboxed course grade (target <= 1.1)", graded / unsandboxed))
        graceful = parallel[True, "graceful"]
        rows.append(("  ratio killed / gracefully shut down kernels (shutdown_kernel)", graded / graceful))
    return rows, graded


def projections(per_submission: float, cores_here: int) -> list[tuple[str, float]]:
    """Hours for 2,000 students x 4 assignments, from seconds per submission measured on ``cores_here`` cores."""
    core_seconds = per_submission * cores_here  # each core grades one submission at a time
    total = 2000 * 4
    return [
        (f"  projected hours, 8,000 gradings, this machine ({cores_here} cores)", total * per_submission / 3600),
        ("  projected hours, 8,000 gradings, 10 machines x 8 cores", total * core_seconds / 80 / 3600),
    ]


def _best_of(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _start_nbgrader() -> None:
    """A fresh interpreter importing nbgrader's app: what every nbgrader, `course` and Dask worker process pays."""
    subprocess.run([sys.executable, "-c", "import nbgrader.apps.nbgraderapp"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=42, help="submissions in the benchmark class (default 42)")
    args = parser.parse_args()
    if args.students < 3:
        parser.error("--students: at least 3 (one of each kind)")
    angles = list(range(0, 180, 5))
    rows = [
        ("gratings(36 angles)", _best_of(lambda: gratings(angles))),
        ("filter_bank(6, 7)", _best_of(lambda: filter_bank(6, 7))),
        ("conv2d 36 x 6 x 48 x 64", _best_of(lambda: F.conv2d(gratings(angles), filter_bank(), padding=3))),
        ("start of a grading process (python: import nbgrader's app)", _best_of(_start_nbgrader, repeats=3)),
    ]
    class_rows, per_submission = bench_class(args.students)
    rows += class_rows + projections(per_submission, os.cpu_count() or 1)
    print(f"\n{'what (seconds; per submission for grading)':<72}{'value':>10}")
    for name, value in rows:
        print(f"{name:<72}{value:>10.3f}")
    if not sandbox.available():
        print("(bubblewrap is not installed: grading ran without the sandbox)")


if __name__ == "__main__":
    main()
