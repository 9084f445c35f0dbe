"""``course``: the instructor's command, run in the course folder (where ``nbgrader_config.py`` is).

Every command goes through nbgrader's Python API and the course's ``nbgrader_config.py``,
so it grades exactly as ``nbgrader autograde`` and the formgrader do (same sandbox,
preprocessors and hooks)::

    course release t2_convolutions        # generate from source/ and release to the exchange
    course collect t2_convolutions        # collect submissions from the exchange into submitted/
    course grade t2_convolutions          # grade what is new or changed, in parallel; feedback; grades.csv
    course grade t2_convolutions --zip canvas.zip    # import an LMS download first
    course feedback t2_convolutions --release        # after manual grading: feedback, handed back
    course lms-export t2_convolutions --out lms/     # grades and feedback back to Canvas or Moodle
    course export --to grades.csv

(``make course``, the demo course with five students, needs a source checkout: ``tests/harness/demo.py``.)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grading.sandbox import parse_size


def _api(root: Path, db_url: str | None = None):
    from nbgrader.apps import NbGraderAPI

    from .config import course_config

    return NbGraderAPI(config=course_config(root, db_url))


def _report(step: str, result: dict) -> int:
    """Print the outcome of one nbgrader API call; 0 when it succeeded."""
    if result.get("success"):
        print(f"course: {step}: ok")
        return 0
    errors = [line for line in (result.get("log") or "").splitlines() if "ERROR" in line]
    print(
        f"course: {step}: FAILED", *errors[-5:], (result.get("error") or "").strip()[-1500:], sep="\n", file=sys.stderr
    )
    return 1


def cmd_release(args) -> int:
    api = _api(args.root, args.db)
    status = _report(f"generate {args.assignment}", api.generate_assignment(args.assignment, force=True, create=True))
    if status or args.no_exchange:
        return status
    if not api.exchange_is_functional:
        print("course: no usable exchange folder (c.Exchange.root): the generated release/ is ready to hand out")
        return 0
    return _report(f"release {args.assignment} to the exchange", api.release_assignment(args.assignment))


def cmd_collect(args) -> int:
    return _report(f"collect {args.assignment}", _api(args.root, args.db).collect(args.assignment, update=True))


def cmd_grade(args) -> int:
    from grading.hooks import SubmissionError

    from . import classgrade
    from .lms import import_zip

    if args.zip:
        report = import_zip(args.root, args.assignment, Path(args.zip), db_url=args.db)
        for line in report.lines():
            print(f"course: {line}")
    try:
        outcomes = classgrade.grade(
            args.root,
            args.assignment,
            workers=args.workers,
            scheduler=args.scheduler,
            db_url=args.db,
            force=args.force,
            worker_memory=args.worker_memory,
        )
    except (SubmissionError, FileNotFoundError) as err:
        print(f"course: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("course: interrupted; finished results are kept: run the same command again to grade the rest")
        return 130
    print(classgrade.format_outcomes(outcomes))
    rows = classgrade.export_csv(
        classgrade.db_url_of(classgrade.course_config(args.root, args.db)), args.root / "grades.csv"
    )
    print(f"course: grades.csv: {rows} submission(s); feedback HTML in feedback/<student>/{args.assignment}/")
    status = 0
    if args.release_feedback:
        api = _api(args.root, args.db)
        for outcome in outcomes:
            if outcome.status == "graded":
                status |= _report(
                    f"release feedback to {outcome.student}", api.release_feedback(args.assignment, outcome.student)
                )
    return status


def cmd_feedback(args) -> int:
    api = _api(args.root, args.db)
    status = _report(
        f"feedback {args.assignment}", api.generate_feedback(args.assignment, args.student or None, force=True)
    )
    if not status and args.release:
        status = _report(f"release feedback {args.assignment}", api.release_feedback(args.assignment, args.student))
    return status


def cmd_export(args) -> int:
    from . import classgrade

    rows = classgrade.export_csv(classgrade.db_url_of(classgrade.course_config(args.root, args.db)), Path(args.to))
    print(f"course: wrote {rows} submission(s) to {args.to}")
    return 0


def cmd_lms_export(args) -> int:
    from .lms_export import export_all

    for line in export_all(args.root, args.assignment, Path(args.out), args.db, args.canvas_column):
        print(f"course: {line}")
    return 0


def _workers(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="course", description=__doc__.split("\n\n")[0])
    top.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder (default: this folder)")
    top.add_argument("--db", help="gradebook URL, nbgrader's db_url (default: the course's, SQLite gradebook.db)")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="generate an assignment from source/ and release it to the exchange")
    p.add_argument("assignment")
    p.add_argument("--no-exchange", action="store_true", help="only generate release/ (e.g. to hand out by an LMS)")
    p.set_defaults(run=cmd_release)

    p = sub.add_parser("collect", help="collect an assignment's submissions from the exchange into submitted/")
    p.add_argument("assignment")
    p.set_defaults(run=cmd_collect)

    p = sub.add_parser("grade", help="autograde every new or changed submission in parallel, with feedback")
    p.add_argument("assignment")
    p.add_argument("--workers", type=_workers, help=f"local grading processes (default: {os.cpu_count()}, the cores)")
    p.add_argument("--scheduler", help="a Dask scheduler's address (tcp://host:8786): grade on its workers")
    p.add_argument(
        "--worker-memory",
        type=parse_size,
        help="resident memory of each local grading process, e.g. 4G (default: c.CourseGrade.worker_memory in "
        "nbgrader_config.py, 4G); past it the process is restarted and the submission it graded is tried once "
        "more, then reported (0: no bound)",
    )
    p.add_argument("--zip", help="an LMS download (Canvas or Moodle zip) to import into submitted/ first")
    p.add_argument("--force", action="store_true", help="grade again what is graded already")
    p.add_argument("--release-feedback", action="store_true", help="hand feedback back through the exchange")
    p.set_defaults(run=cmd_grade)

    p = sub.add_parser("feedback", help="generate feedback from the gradebook (e.g. after manual grading)")
    p.add_argument("assignment")
    p.add_argument("--student", help="only this student")
    p.add_argument("--release", action="store_true", help="hand it back through the exchange")
    p.set_defaults(run=cmd_feedback)

    p = sub.add_parser(
        "lms-export",
        help="grades and feedback of a class imported with --zip, in its LMS's formats (instructor/lms_export.py)",
    )
    p.add_argument("assignment")
    p.add_argument("--out", default="lms-export", help="the folder to write into (default: lms-export)")
    p.add_argument(
        "--canvas-column",
        help="the gradebook column to fill, as Canvas's own export names it: '<Assignment name> (<assignment id>)' "
        "(default: the assignment's name here, which Canvas offers to create)",
    )
    p.set_defaults(run=cmd_lms_export)

    p = sub.add_parser("export", help="write every graded submission to a CSV file")
    p.add_argument("--to", default="grades.csv")
    p.set_defaults(run=cmd_export)

    return top


def main(argv: list[str] | None = None) -> int:
    from .config import ensure_tools_on_path

    args = parser().parse_args(argv)
    args.root = args.root.resolve()
    ensure_tools_on_path()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
