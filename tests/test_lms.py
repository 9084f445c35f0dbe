"""instructor.lms and instructor.lms_export: LMS downloads in, grades and feedback out.

Entry names are written as Canvas's "Download Submissions" and Moodle's "Download all submissions" write
them (see instructor/lms.py). In-process tests use a course folder with a one-line assignment; the round
trips grade a small assignment with real ``nbgrader autograde`` (its late penalty included) and read the
exports back as the LMSs would.
"""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from harness.notebooks import one_exercise

from instructor import lms, lms_export
from instructor.cli import main as course_cli

NB = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))
BIN = Path(sys.executable).parent


@pytest.fixture
def course(one_line_course):
    return one_line_course


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("entry", "student", "name", "file", "late"),
    [
        ("doejane_12345_6789012_t2_convolutions.ipynb", "12345", "doejane", "t2_convolutions.ipynb", False),
        ("doejane_LATE_12345_6789013_t2_convolutions-1.ipynb", "12345", "doejane", "t2_convolutions-1.ipynb", True),
        # the student's own file name may hold what looks like other ids: the leading fields decide
        ("smithjo2_777_888_roejane_999_111_t2.ipynb", "777", "smithjo2", "roejane_999_111_t2.ipynb", False),
    ],
)
def test_canvas_names(entry, student, name, file, late):
    parsed = lms.parse_canvas(entry)
    assert (parsed.student, parsed.name, parsed.file, parsed.late) == (student, name, file, late)
    assert entry == parsed.prefix + parsed.file


@pytest.mark.parametrize(
    ("entry", "student", "name", "file"),
    [
        ("Jane Doe_4711_assignsubmission_file_/t2 (1).ipynb", "4711", "Jane Doe", "t2 (1).ipynb"),  # Moodle 3.1-4.0
        ("Jane Doe_4711_assignsubmission_file/t2.ipynb", "4711", "Jane Doe", "t2.ipynb"),  # Moodle 4.1+
        ("Jane Doe_4711_assignsubmission_file_t2.ipynb", "4711", "Jane Doe", "t2.ipynb"),  # flat
        ("Participant_4711_assignsubmission_file_/t2.ipynb", "4711", "Participant", "t2.ipynb"),  # blind marking
        # a file the student named like another student's entry, inside the student's own folder or flat
        ("Jane Doe_4711_assignsubmission_file_/Eve Roe_5_assignsubmission_file_/t2.ipynb", "4711", "Jane Doe", None),
        ("Jane Doe_4711_assignsubmission_file_Eve Roe_5_assignsubmission_file_t2.ipynb", "4711", "Jane Doe", None),
    ],
)
def test_moodle_names(entry, student, name, file):
    parsed = lms.parse_moodle(entry)
    assert (parsed.student, parsed.name) == (student, name)
    assert file is None or parsed.file == file


@pytest.mark.parametrize(
    "entry",
    [
        "doejane/doejane_12345_6789012_t2.ipynb",  # Canvas's names are flat
        "doejane_x_6789012_t2.ipynb",
        "t2.ipynb",
        "doejane_0123_6789012_t2.ipynb",  # Canvas's ids have no leading zero
        "doe-jane_12345_6789012_t2.ipynb",  # Canvas keeps word characters only
    ],
)
def test_not_canvas(entry):
    assert lms.parse_canvas(entry) is None


@pytest.mark.parametrize(
    ("entry", "student", "name", "late"),
    [
        ("müllerjürgen_4242_99_t2.ipynb", "4242", "müllerjürgen", False),  # letters of any script
        ("o_brienpat_4343_98_t2.ipynb", "4343", "o_brienpat", False),  # an underscore the student typed
        ("doejane_late_12345_6789012_t2.ipynb", "12345", "doejane", True),  # lower-cased by older Canvas
        ("12345_6789012_t2.ipynb", "12345", "", False),  # no name (anonymous grading)
    ],
)
def test_canvas_names_as_canvas_makes_them(entry, student, name, late):
    parsed = lms.parse_canvas(entry)
    assert (parsed.student, parsed.name, parsed.late) == (student, name, late)


@pytest.mark.parametrize(
    "entry",
    [
        "roeeve_12345_777_888_t2.ipynb",  # sortable name "Roe, Eve_12345" (user 777), or user 12345?
        "doejane_111_501_222_601_t2.ipynb",  # a file named "222_601_t2.ipynb", or a name ending in _111?
    ],
)
def test_a_canvas_name_that_could_be_two_students_is_refused(entry):
    with pytest.raises(lms.AmbiguousEntry, match="could be Canvas user"):
        lms.parse_canvas(entry)


def test_the_archive_is_read_as_one_format():
    assert lms.lms_of(["doejane_1_2_t2.ipynb", "readme.txt"]) == "canvas"
    assert lms.lms_of(["Jane Doe_4711_assignsubmission_file_/t2.ipynb"]) == "moodle"
    # a file inside a student's folder, named like a Canvas entry, does not make the archive Canvas's
    assert lms.lms_of(["alice/doejane_1_2_t2.ipynb", "bob/t2.ipynb"]) == "folders"
    with pytest.raises(ValueError, match="mixes Canvas and Moodle"):
        lms.lms_of(["doejane_1_2_t2.ipynb", "Jane Doe_4711_assignsubmission_file_/t2.ipynb"])


def _written(root):
    return sorted(p.relative_to(root).as_posix() for p in (root / "submitted").rglob("*") if p.is_file())


def test_no_file_name_a_student_chose_changes_whose_submission_it_is(course, tmp_path):
    """Two students with the same sortable name; one hands in a file named like the other's entry, and a second
    notebook: each keeps their own notebook, and neither is filed under the other."""
    archive = _zip(
        tmp_path / "canvas.zip",
        {
            "doejane_111_501_t2.ipynb": "A",
            "doejane_111_502_doejane_222_601_t2.ipynb": "A's decoy",
            "doejane_222_601_t2.ipynb": "B",
        },
    )
    report = lms.import_zip(course, "t2", archive)
    assert report.lms == "canvas" and sorted(report.imported) == ["111", "222"]
    assert (course / "submitted" / "111" / "t2" / "t2.ipynb").read_text() == "A"
    assert (course / "submitted" / "222" / "t2" / "t2.ipynb").read_text() == "B"
    assert dict(report.skipped)["doejane_111_502_doejane_222_601_t2.ipynb"].startswith("another notebook")


def test_an_ambiguous_student_is_refused_and_only_that_student(course, tmp_path):
    archive = _zip(
        tmp_path / "canvas.zip",
        {
            "roejane_333_1_first.ipynb": "?",
            "roejane_333_2_second.ipynb": "?",
            "smithjo_444_3_t2.ipynb": "ok",
            "doejane_555_4_t2.ipynb": "one name",
            "roeeve_555_5_t2.ipynb": "another name, same id",
        },
    )
    report = lms.import_zip(course, "t2", archive)
    assert sorted(report.imported) == ["444"]
    reasons = dict(report.skipped)
    assert "none named t2.ipynb" in reasons["roejane_333_1_first.ipynb"]
    assert "several names" in reasons["roeeve_555_5_t2.ipynb"]
    assert _written(course) == ["submitted/444/t2/t2.ipynb"]


def test_late_entries_get_a_timestamp_and_resubmissions_are_matched(course, tmp_path):
    archive = _zip(
        tmp_path / "canvas.zip",
        {"doejane_LATE_111_9_t2-2.ipynb": NB, "doejane_111_8_notes.ipynb": NB, "roejane_222_7_t2.ipynb": NB},
    )
    report = lms.import_zip(course, "t2", archive)
    assert report.imported == {"111": "doejane_LATE_111_9_t2-2.ipynb", "222": "roejane_222_7_t2.ipynb"}
    stamp = (course / "submitted" / "111" / "t2" / "timestamp.txt").read_text()
    assert stamp.endswith(" UTC") and not (course / "submitted" / "222" / "t2" / "timestamp.txt").exists()
    roster = lms.read_roster(course)["t2"]
    assert roster["111"]["late"] and roster["111"]["attachment"] == "9" and roster["111"]["name"] == "doejane"
    # imported again, now on time: the old timestamp goes
    lms.import_zip(course, "t2", _zip(tmp_path / "again.zip", {"doejane_111_10_t2.ipynb": NB}))
    assert not (course / "submitted" / "111" / "t2" / "timestamp.txt").exists()


def test_unsafe_and_unknown_entries_are_reported_and_nothing_leaves_submitted(course, tmp_path):
    archive = tmp_path / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("doejane_12345_6789012_t2.ipynb", NB)
        zf.writestr("../escaped.ipynb", NB)
        zf.writestr("/abs/evil.ipynb", NB)
        zf.writestr("readme.txt", "junk")
        zf.writestr("nested/doejane_1_2_t2.ipynb", NB)
        zf.writestr("bob.ipynb", NB)
        link = zipfile.ZipInfo("roejane_5_6_t2.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    report = lms.import_zip(course, "t2", archive)
    assert sorted(report.imported) == ["12345"]
    reasons = dict(report.skipped)
    assert reasons["../escaped.ipynb"] == reasons["/abs/evil.ipynb"] == "path leaves the archive"
    assert reasons["readme.txt"] == "not a notebook" and reasons["roejane_5_6_t2.ipynb"] == "a link"
    assert "not in the canvas archive's naming" in reasons["nested/doejane_1_2_t2.ipynb"]
    assert "not in the canvas archive's naming" in reasons["bob.ipynb"]
    assert not (course.parent / "escaped.ipynb").exists()
    assert _written(course) == ["submitted/12345/t2/t2.ipynb"]


def test_moodle_and_folder_archives(course, tmp_path):
    moodle = _zip(
        tmp_path / "moodle.zip",
        {
            "Jane Doe_4711_assignsubmission_file_/t2.ipynb": "J",
            "Eve Roe_5_assignsubmission_file/Jane Doe_4711_assignsubmission_file_t2.ipynb": "E",
            "Participant_99_assignsubmission_onlinetext_onlinetext.html": "<p>",
        },
    )
    report = lms.import_zip(course, "t2", moodle)
    assert report.lms == "moodle" and sorted(report.imported) == ["4711", "5"]
    assert (course / "submitted" / "5" / "t2" / "t2.ipynb").read_text() == "E"
    folders = _zip(tmp_path / "folders.zip", {"alice/work/anything.ipynb": "a", "bad id!/x.ipynb": "b"})
    report = lms.import_zip(course, "t2", folders)
    assert report.lms == "folders" and sorted(report.imported) == ["alice"]
    assert "not a valid student id" in dict(report.skipped)["bad id!/x.ipynb"]


# -- Round trips through real nbgrader ----------------------------------------------------------------

SOURCE = one_exercise()  # def double(x), its 2-point test


def _nbgrader(root, *args):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.fixture
def small_course(tmp_path):
    """A course with a two-point assignment due on 1 January 2026, late submissions scored zero."""
    root = tmp_path / "small"
    (root / "source" / "t2").mkdir(parents=True)
    nbformat.write(SOURCE, root / "source" / "t2" / "t2.ipynb")
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.LateSubmissionPlugin.penalty_method = "zero"\nc.Execute.timeout = 60\n'
    )
    _nbgrader(root, "db", "assignment", "add", "t2", "--duedate=2026-01-01 00:00:00 UTC")
    _nbgrader(root, "generate_assignment", "t2", "--force")
    return root


def _submission(root, correct=True) -> str:
    nb = nbformat.read(root / "release" / "t2" / "t2.ipynb", as_version=4)
    nb.cells[0].source = "def double(x):\n    return 2 * x" if correct else "def double(x):\n    return x"
    return nbformat.writes(nb)


@pytest.mark.slow
def test_canvas_round_trip_to_an_import_csv_with_user_ids_and_late_penalties(small_course, tmp_path):
    root = small_course
    archive = _zip(
        tmp_path / "submissions.zip",
        {
            "doejane_111_501_t2.ipynb": _submission(root),  # on time, right
            "doejane_LATE_222_502_t2-1.ipynb": _submission(root),  # the same name, late, resubmitted: zero
            "roejohn_333_503_t2.ipynb": _submission(root, correct=False),  # on time, wrong
        },
    )
    report = lms.import_zip(root, "t2", archive)
    assert sorted(report.imported) == ["111", "222", "333"], report.lines()
    assert "one second after the due date" in "\n".join(report.notes)
    _nbgrader(root, "autograde", "t2")
    _nbgrader(root, "generate_feedback", "t2")
    out = tmp_path / "out"
    lines = lms_export.export_all(root, "t2", out, canvas_column="Tutorial 2 (98765)")
    assert any("canvas-grades.csv" in line for line in lines)

    rows = list(csv.reader((out / "t2-canvas-grades.csv").open(encoding="utf-8")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Tutorial 2 (98765)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "2"]
    assert {row[1]: (row[0], row[5]) for row in rows[2:]} == {
        "111": ("doejane", "2"),
        "222": ("doejane", "0"),
        "333": ("roejohn", "0"),
    }
    tests = list(csv.DictReader((out / "t2-test-scores.csv").open()))
    assert {row["student"]: row["test_double"] for row in tests} == {"111": "2", "222": "2", "333": "0"}
    assert {row["student"]: (row["late penalty"], row["grade"]) for row in tests}["222"] == ("2", "0")
    with zipfile.ZipFile(out / "t2-feedback.zip") as zf:
        names = sorted(zf.namelist())
    assert names == [
        "doejane_111_501_t2_feedback.html",
        "doejane_222_502_t2_feedback.html",
        "roejohn_333_503_t2_feedback.html",
    ]
    # Canvas's re-upload reads the first two all-digit fields as the user and the attachment id
    for name in names:
        assert [f for f in name.split("_") if f.isdigit()][:2] in (["111", "501"], ["222", "502"], ["333", "503"])


@pytest.mark.slow
def test_moodle_round_trip_to_its_grading_worksheet(small_course, tmp_path):
    root = small_course
    archive = _zip(
        tmp_path / "moodle.zip",
        {
            "Jane Doe_4711_assignsubmission_file_/t2.ipynb": _submission(root),
            "John Roe_4712_assignsubmission_file/my t2 (1).ipynb": _submission(root, correct=False),
        },
    )
    assert sorted(lms.import_zip(root, "t2", archive).imported) == ["4711", "4712"]
    _nbgrader(root, "autograde", "t2")
    _nbgrader(root, "generate_feedback", "t2")
    out = tmp_path / "out"
    assert course_cli(["--root", str(root), "lms-export", "t2", "--out", str(out)]) == 0  # the instructor's command
    rows = list(csv.DictReader((out / "t2-moodle-worksheet.csv").open(encoding="utf-8")))
    assert list(rows[0]) == lms_export.MOODLE_COLUMNS
    assert {r["Identifier"]: (r["Full name"], r["Grade"], r["Maximum Grade"]) for r in rows} == {
        "Participant 4711": ("Jane Doe", "2", "2"),
        "Participant 4712": ("John Roe", "0", "2"),
    }
    assert all(r["Last modified (grade)"] for r in rows)
    with zipfile.ZipFile(out / "t2-feedback.zip") as zf:
        names = sorted(zf.namelist())
    # Moodle's feedback import reads the participant id from the second "_" field of the first path part
    assert names == [
        "Jane Doe_4711_assignsubmission_file_/t2_feedback.html",
        "John Roe_4712_assignsubmission_file_/t2_feedback.html",
    ]
    assert [n.split("/")[0].split("_")[1] for n in names] == ["4711", "4712"]


def test_an_id_another_lms_or_another_name_holds_is_refused(course, tmp_path):
    """Canvas user ids, Moodle participant ids and folder names share submitted/: a later import never overwrites
    a student imported from another LMS, under another name, or put there otherwise."""
    lms.import_zip(course, "t2", _zip(tmp_path / "canvas.zip", {"doejane_4711_501_t2.ipynb": "JANE"}))
    moodle = _zip(tmp_path / "moodle.zip", {"Eve Roe_4711_assignsubmission_file_/t2.ipynb": "EVE"})
    report = lms.import_zip(course, "t2", moodle)
    assert not report.imported and "another LMS" in dict(report.skipped)["Eve Roe_4711_assignsubmission_file_/t2.ipynb"]
    renamed = lms.import_zip(course, "t2", _zip(tmp_path / "again.zip", {"roeeve_4711_502_t2.ipynb": "EVE"}))
    assert not renamed.imported and "another name" in renamed.skipped[0][1]
    (course / "submitted" / "5000" / "t2").mkdir(parents=True)
    (course / "submitted" / "5000" / "t2" / "t2.ipynb").write_text("COLLECTED")
    other = lms.import_zip(course, "t2", _zip(tmp_path / "x.zip", {"smithjo_5000_503_t2.ipynb": "X"}))
    assert not other.imported and "no LMS import put there" in other.skipped[0][1]
    assert (course / "submitted" / "4711" / "t2" / "t2.ipynb").read_text() == "JANE"
    assert (course / "submitted" / "5000" / "t2" / "t2.ipynb").read_text() == "COLLECTED"
    assert lms.read_roster(course)["t2"]["4711"]["lms"] == "canvas"


def test_a_refused_reimport_sets_the_earlier_one_aside(course, tmp_path):
    lms.import_zip(course, "t2", _zip(tmp_path / "first.zip", {"doejane_LATE_111_501_t2.ipynb": "OLD"}))
    second = _zip(tmp_path / "second.zip", {"doejane_111_502_a.ipynb": "A", "doejane_111_503_b.ipynb": "B"})
    report = lms.import_zip(course, "t2", second)
    assert not report.imported and any("set aside" in note for note in report.notes), report.lines()
    assert not (course / "submitted" / "111" / "t2").exists()
    (kept,) = (course / "quarantine" / "lms" / "111").iterdir()
    assert (kept / "t2.ipynb").read_text() == "OLD"
    assert "111" not in lms.read_roster(course)["t2"]


def test_an_entry_that_cannot_be_read_costs_only_its_student(course, tmp_path):
    archive = _zip(tmp_path / "canvas.zip", {"doejane_111_501_t2.ipynb": NB, "roejohn_222_502_t2.ipynb": "B" * 4000})
    data = bytearray(archive.read_bytes())
    at = data.find(b"B" * 4000)
    data[at : at + 10] = b"CORRUPTED!"  # the stored bytes no longer match their CRC
    archive.write_bytes(bytes(data))
    report = lms.import_zip(course, "t2", archive)
    assert sorted(report.imported) == ["111"]
    assert "cannot be read" in dict(report.skipped)["roejohn_222_502_t2.ipynb"]
    assert sorted(lms.read_roster(course)["t2"]) == ["111"]


def test_exported_text_cannot_run_as_a_spreadsheet_formula(course, tmp_path):
    assert lms_export._cell("=1+2 Doe") == "'=1+2 Doe" and lms_export._cell("@SUM(A1)") == "'@SUM(A1)"
    assert lms_export._cell("Jane Doe") == "Jane Doe" and lms_export._cell("2") == "2"
