"""Grades and feedback back to the LMS a class was imported from (:mod:`instructor.lms`).

Every score is the gradebook's: nbgrader's total for the submission, with late penalties and
the formgrader's manual grades, so what goes back is what the instructor sees. Students come
from ``lms-roster.json``, written by the import, so each row carries the LMS's own id.

* **Canvas gradebook import** (Grades > Import): a CSV with Canvas's leading columns
  ``Student, ID, SIS User ID, SIS Login ID, Section`` and one column for the assignment, then
  a ``Points Possible`` row. Canvas matches rows by ``ID`` (the user id); the column is
  matched to an existing assignment when its header is ``<Assignment name> (<Canvas
  assignment id>)``, as Canvas's own export writes it (``canvas_column``); otherwise Canvas
  offers to create a new assignment of that name.
* **Moodle grading worksheet** (Assignment > View all submissions > Upload grading
  worksheet): Moodle's columns ``Identifier`` (``Participant <id>``), ``Full name``, ...,
  ``Grade``, ``Maximum Grade``, ``Last modified (grade)``, ``Feedback comments``; Moodle reads
  the identifier, the grade and the modification time (a grade changed in Moodle after it is
  kept unless the upload says otherwise).
* **Per-test scores**: one row per student, one column per autograded test cell, a CSV for
  the instructor.
* **Feedback bundle**: a zip of each student's feedback HTML, named so that the LMS files it
  under that student: for Canvas (Submissions > Re-upload Submissions), the import's
  ``<sortablename>_<userid>_<attachmentid>_`` then ``<assignment>_feedback.html``; for Moodle
  (Upload multiple feedback files in a zip), ``<Full Name>_<participantid>_assignsubmission_file_/``
  then ``<assignment>_feedback.html``. The folder layout keeps the student's own HTML name.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import zipfile
from pathlib import Path

from .config import course_config, db_url_of, ensure_tools_on_path
from .lms import read_roster

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
]


def _students(root: Path, assignment: str, lms: str | None = None) -> dict[str, dict]:
    students = read_roster(root).get(assignment, {})
    return {s: e for s, e in sorted(students.items()) if lms is None or e["lms"] == lms}


def _scores(root: Path, assignment: str, db_url: str | None) -> tuple[dict[str, float], float]:
    """Each graded student's total less the late penalty (manual grades included), and the assignment's maximum."""
    from nbgrader.api import Gradebook

    ensure_tools_on_path()
    with Gradebook(db_url_of(course_config(root, db_url))) as gb:
        found = gb.find_assignment(assignment)
        maximum = float(found.max_score)
        # nbgrader keeps the late penalty beside the score (its feedback shows both): the LMS gets the difference
        scores = {
            sub.student_id: max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0.0))
            for sub in found.submissions
        }
    return scores, maximum


def _cell(value) -> str:
    """A CSV cell that a spreadsheet shows as text: a name that starts like a formula gets a leading quote."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_csv(path: Path, rows: list[list]) -> int:
    """Write ``rows`` to ``path`` atomically (UTF-8, as both LMSs read it); returns the number of rows.

    Names come from the LMS archive, which students' own profile names reach: no cell can start a formula.
    """
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[_cell(value) for value in row] for row in rows])
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return len(rows)


def _number(value: float) -> str:
    return f"{value:g}"


def canvas_gradebook(
    root: Path, assignment: str, path: Path, db_url: str | None = None, canvas_column: str | None = None
) -> int:
    """Write the Canvas gradebook import CSV of ``assignment``; returns the number of students written."""
    scores, maximum = _scores(root, assignment, db_url)
    students = _students(root, assignment, "canvas")
    rows = [CANVAS_COLUMNS + [canvas_column or assignment], ["    Points Possible", "", "", "", "", _number(maximum)]]
    for student, entry in students.items():
        score = _number(scores[student]) if student in scores else ""
        rows.append([entry["name"], student, "", "", "", score])
    _write_csv(path, rows)
    return len(students)


def moodle_worksheet(root: Path, assignment: str, path: Path, db_url: str | None = None) -> int:
    """Write Moodle's grading worksheet of ``assignment``; returns the number of students written."""
    scores, maximum = _scores(root, assignment, db_url)
    students = _students(root, assignment, "moodle")
    now = datetime.datetime.now().strftime("%A, %d %B %Y, %I:%M %p")
    rows = [MOODLE_COLUMNS]
    for student, entry in students.items():
        graded = student in scores
        score = _number(scores[student]) if graded else ""
        rows.append(
            [
                f"Participant {student}",
                entry["name"],
                "",
                "",
                score,
                _number(maximum),
                "Yes",
                "",
                now if graded else "",
                "",
            ]
        )
    _write_csv(path, rows)
    return len(students)


def test_scores(root: Path, assignment: str, path: Path, db_url: str | None = None) -> int:
    """Write each graded student's score on every autograded test cell, the total, the late penalty and the
    grade the LMS gets; returns the number of students."""
    from nbgrader.api import Gradebook

    roster = read_roster(root).get(assignment, {})
    ensure_tools_on_path()
    with Gradebook(db_url_of(course_config(root, db_url))) as gb:
        found = gb.find_assignment(assignment)
        cells = [(nb.name, cell.name) for nb in found.notebooks for cell in nb.grade_cells if cell.cell_type == "code"]
        rows = [["student", "name", *[cell for _, cell in cells], "score", "late penalty", "grade"]]
        for sub in sorted(found.submissions, key=lambda s: s.student_id):
            student = sub.student_id
            values = [_number(float(gb.find_grade(cell, nb, assignment, student).score)) for nb, cell in cells]
            penalty = float(sub.late_submission_penalty or 0.0)
            name = roster.get(student, {}).get("name", "")
            grade = max(0.0, float(sub.score) - penalty)
            rows.append([student, name, *values, _number(float(sub.score)), _number(penalty), _number(grade)])
    _write_csv(path, rows)
    return len(rows) - 1


def feedback_bundle(root: Path, assignment: str, path: Path) -> tuple[int, list[str]]:
    """Zip each imported student's feedback HTML under the name the LMS's bulk upload files it by.

    Returns the number of files bundled and the students without feedback.
    """
    root = Path(root)
    written, missing = 0, []
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for student, entry in _students(root, assignment).items():
            folder = root / "feedback" / student / assignment
            pages = (
                sorted(p for p in folder.glob("*.html") if p.is_file() and not p.is_symlink())
                if folder.is_dir()
                else []
            )
            if not pages:
                missing.append(student)
                continue
            for page in pages:
                own = f"{assignment}_feedback.html" if len(pages) == 1 else f"{assignment}_{page.stem}_feedback.html"
                if entry["lms"] == "canvas":
                    name = f"{entry['name']}_{student}_{entry['attachment']}_{own}"
                elif entry["lms"] == "moodle":
                    name = f"{entry['prefix']}/{own}"
                else:
                    name = f"{student}/{own}"
                zf.writestr(name, page.read_bytes())
                written += 1
    os.replace(tmp, path)
    return written, missing


def export_all(
    root: Path, assignment: str, folder: Path, db_url: str | None = None, canvas_column: str | None = None
) -> list[str]:
    """Every export that applies to the imported class, into ``folder``; one line per file written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    kinds = {entry["lms"] for entry in read_roster(root).get(assignment, {}).values()}
    if "canvas" in kinds:
        n = canvas_gradebook(root, assignment, folder / f"{assignment}-canvas-grades.csv", db_url, canvas_column)
        lines.append(f"{folder / f'{assignment}-canvas-grades.csv'}: {n} student(s), for Canvas's gradebook import")
    if "moodle" in kinds:
        n = moodle_worksheet(root, assignment, folder / f"{assignment}-moodle-worksheet.csv", db_url)
        lines.append(f"{folder / f'{assignment}-moodle-worksheet.csv'}: {n} student(s), Moodle's grading worksheet")
    n = test_scores(root, assignment, folder / f"{assignment}-test-scores.csv", db_url)
    lines.append(f"{folder / f'{assignment}-test-scores.csv'}: {n} student(s), a score per test cell")
    files, missing = feedback_bundle(root, assignment, folder / f"{assignment}-feedback.zip")
    lines.append(f"{folder / f'{assignment}-feedback.zip'}: {files} feedback file(s) for the LMS's bulk upload")
    if missing:
        lines.append(f"no feedback yet for {', '.join(missing)}")
    return lines
