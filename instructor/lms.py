"""Import an LMS download (a zip of the students' files) into ``submitted/``.

Whose work an entry is comes only from the part of its name the LMS made, never from a
file name the student chose. The formats, as the LMSs write them (and as their own
re-import code reads them back):

* **Canvas** ("Download Submissions"): flat entries
  ``<sortablename>_[LATE_]<userid>_<attachmentid>_<file>``, e.g.
  ``doejane_12345_6789012_t2_convolutions.ipynb`` or
  ``doejane_LATE_12345_6789013_t2_convolutions-1.ipynb``. Canvas's own code
  (``lib/content_zipper.rb``) makes the part before the attachment id from the sortable name
  ("Doe, Jane"), the ``LATE`` mark and the user id joined by ``_``, keeps only word characters
  (letters of any script, digits, ``_``) and lower-cases it (so some versions write ``late_``);
  it removes ``_<digits>_`` from inside the name, but a name may still start or end with
  digits. Two students can share a sortable name. The user id is the student id here; the
  attachment id is Canvas's id of the uploaded file (Canvas's re-upload of feedback reads the
  first two all-digit fields of a name as these two ids); ``<file>`` is the student's own file
  name, where Canvas adds ``-1``, ``-2``, ... before the extension when a student hands in a
  file of the same name again. Every reading of a name is tried (a ``LATE``/``late`` field after
  the name is read as Canvas's mark); an entry whose readings give different user ids is refused
  (:class:`AmbiguousEntry`).
* **Moodle** ("Download all submissions"): ``<Full Name>_<participantid>_assignsubmission_file_/<file>``
  (one folder per student, Moodle 3.1 to 4.0), ``<Full Name>_<participantid>_assignsubmission_file/<file>``
  (4.1 and later) or flat ``<Full Name>_<participantid>_assignsubmission_file_<file>``. Moodle
  replaces underscores in the name with spaces, so the participant id is the second ``_``
  field of the first path part, as Moodle's own feedback importer reads it; it is the student
  id here. With blind marking the name is ``Participant``.
* **One folder per student**, made by the instructor: ``<student>/<...>/<file>.ipynb``.

An archive is read as one format (Canvas if an entry has Canvas's form, Moodle if one has
Moodle's, folders otherwise; both at once is refused); an entry not in that format is
reported, never guessed. Each entry is read from the archive (never extracted by its own
path), size-bounded, and written to ``submitted/<student>/<assignment>/<notebook>.ipynb``.
When a student has several notebooks, the one named as the assignment's notebook (with
Canvas's ``-N`` taken off) is graded and the others are reported; if that does not single
one out, that student's entries are refused, and only that student's. An id that comes
with two different names is refused. A Canvas ``LATE_`` entry gets a ``timestamp.txt`` (one
second after the assignment's due date in the gradebook, or the import time when it has
none), so that nbgrader's late-submission penalty applies; an entry on time gets none.
What each student's entry was (LMS, name, attachment id, lateness) is kept in
``lms-roster.json``, from which :mod:`instructor.lms_export` writes grades and feedback
back in the LMS's formats.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
import stat
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from grading.hooks import expected_notebooks, valid_student_id

MAX_ENTRY_BYTES = 64 * 2**20
ROSTER = "lms-roster.json"
_ID = re.compile(r"[1-9][0-9]*")  # LMS ids: no sign, no leading zero (both LMSs read them as integers)
_WORD = re.compile(r"\w+")  # Canvas keeps word characters only
_MOODLE_PLUGINS = {"file", "onlinetext"}
_RESUBMITTED = re.compile(r"(?P<stem>.+?)-[0-9]+")  # Canvas's suffix for a file handed in again


@dataclass(frozen=True)
class Entry:
    """One entry of an LMS archive, read from the part of its name the LMS made.

    Attributes
    ----------
    lms : str
        ``"canvas"``, ``"moodle"`` or ``"folders"``.
    student : str
        The student id: Canvas user id, Moodle participant id, or the folder's name.
    name : str
        The name the LMS shows (Canvas sortable name, Moodle full name), for display.
    file : str
        The student's own file name (the rest of the entry's name).
    late : bool
        Canvas's ``LATE_`` mark.
    attachment : str
        Canvas's attachment id ("" elsewhere).
    prefix : str
        The part of the name the LMS made (to name feedback files as the LMS reads them back).
    """

    lms: str
    student: str
    name: str
    file: str
    late: bool = False
    attachment: str = ""
    prefix: str = ""


class AmbiguousEntry(ValueError):
    """An entry name that could belong to more than one student: refused, never guessed."""


def _canvas_readings(entry: str) -> list[Entry]:
    """Every way ``entry`` splits into Canvas's fields (see the module docstring)."""
    fields = entry.split("_")
    readings = []
    for k in range(len(fields)):  # k fields of sortable name
        name = fields[:k]
        # Canvas removed _<digits>_ from inside the name: an all-digit field can only be its first or last
        if any(f.isdigit() for f in name[1:-1]) or not all(_WORD.fullmatch(f) for f in name):
            continue
        if name and name[-1] in ("LATE", "late"):  # read as Canvas's mark, which follows the name
            continue
        rest = fields[k:]
        late = bool(rest) and rest[0] in ("LATE", "late")
        if late:
            rest = rest[1:]
        if len(rest) < 3 or not (_ID.fullmatch(rest[0]) and _ID.fullmatch(rest[1])):
            continue
        own = "_".join(rest[2:])
        prefix = entry[: len(entry) - len(own)]
        readings.append(Entry("canvas", rest[0], "_".join(name), own, late, rest[1], prefix))
    return readings


def parse_canvas(entry: str) -> Entry | None:
    """The Canvas entry ``entry`` (a flat name), or None when it is not in Canvas's form.

    Raises
    ------
    AmbiguousEntry
        When its readings give different user ids, or disagree on whether it was late.
    """
    if "/" in entry or not entry:
        return None
    readings = _canvas_readings(entry)
    if not readings:
        return None
    ids = sorted({r.student for r in readings})
    if len(ids) > 1:
        raise AmbiguousEntry(f"could be Canvas user {' or '.join(ids)}: refused, grade by hand")
    return readings[0]


def parse_moodle(entry: str) -> Entry | None:
    """The Moodle entry ``entry`` (in a student's folder or flat), or None when it is not in Moodle's form."""
    first, _, rest = entry.partition("/")
    parts = first.split("_", 4)
    if len(parts) < 4 or parts[2] != "assignsubmission" or parts[3] not in _MOODLE_PLUGINS:
        return None
    if not _ID.fullmatch(parts[1]):
        return None
    own = "/".join(p for p in ((parts[4] if len(parts) == 5 else ""), rest) if p)
    if not own:
        return None
    prefix = "_".join(parts[:4]) + "_"
    return Entry("moodle", parts[1], parts[0], own, prefix=prefix)


def parse_folders(entry: str) -> Entry | None:
    """``<student>/<...>/<file>``: one folder per student, as an instructor lays an archive out."""
    student, _, rest = entry.partition("/")
    if not rest:
        return None
    return Entry("folders", student, student, rest)


_PARSERS = {"canvas": parse_canvas, "moodle": parse_moodle, "folders": parse_folders}


def lms_of(names: list[str]) -> str:
    """The archive's format: ``"canvas"``, ``"moodle"`` or ``"folders"``.

    Raises
    ------
    ValueError
        When the archive holds both Canvas and Moodle entries.
    """
    canvas = any("/" not in n and _canvas_readings(n) for n in names)
    moodle = any(parse_moodle(n) for n in names)
    if canvas and moodle:
        raise ValueError("the archive mixes Canvas and Moodle entries: import each LMS's download on its own")
    return "canvas" if canvas else "moodle" if moodle else "folders"


@dataclass
class ImportReport:
    """What an import did: the students imported (and from which entry), entries skipped and why."""

    lms: str = ""
    imported: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.lms} archive" if self.lms else "archive"]
        out += [f"imported {entry} as {student}" for student, entry in sorted(self.imported.items())]
        out += [f"skipped {entry!r}: {why}" for entry, why in self.skipped]
        return out + self.notes


def _stem(entry: Entry) -> str:
    stem = PurePosixPath(entry.file).name.removesuffix(".ipynb")
    if entry.lms == "canvas":
        match = _RESUBMITTED.fullmatch(stem)
        stem = match["stem"] if match else stem
    return stem


def _choose(entries: list[tuple[zipfile.ZipInfo, Entry]], expected: str):
    """The one notebook to grade among one student's entries, or None; and why the others are left out."""
    if len(entries) == 1:
        return entries[0], []
    named = [pair for pair in entries if _stem(pair[1]) == expected]
    if len(named) == 1:
        others = [
            (info.filename, f"another notebook of the same student; graded {named[0][0].filename}")
            for info, _ in entries
            if info is not named[0][0]
        ]
        return named[0], others
    count = "several" if named else "none"
    why = f"{len(entries)} notebooks of one student and {count} named {expected}.ipynb: grade by hand"
    return None, [(info.filename, why) for info, _ in entries]


def _late_timestamp(root: Path, assignment: str, db_url: str | None) -> tuple[str, str]:
    """nbgrader's timestamp for a submission marked late, and a note on where it came from."""
    from nbgrader.api import Gradebook, MissingEntry

    from .config import course_config, db_url_of, ensure_tools_on_path

    ensure_tools_on_path()  # nbgrader's gradebook runs `alembic` by name
    due = None
    try:
        with Gradebook(db_url_of(course_config(root, db_url))) as gb:
            due = gb.find_assignment(assignment).duedate
    except (MissingEntry, OSError, ValueError):
        due = None
    if due is not None:
        when, note = due + datetime.timedelta(seconds=1), "one second after the due date"
    else:
        when = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        note = "the import time (the assignment has no due date in the gradebook)"
    return when.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC", note


def _safe_folder(root: Path, student: str, assignment: str) -> Path | None:
    folder = root / "submitted" / student / assignment
    if any(p.is_symlink() for p in (root / "submitted", root / "submitted" / student, folder)):
        return None
    return folder


def _set_aside(root: Path, student: str, assignment: str) -> str | None:
    """Move an earlier import of this student's assignment to ``quarantine/`` (kept, not graded)."""
    folder = root / "submitted" / student / assignment
    if folder.is_symlink() or not folder.exists():
        return None
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = root / "quarantine" / "lms" / student / f"{assignment}-{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(folder, target)
    return str(target.relative_to(root))


def _conflict(root: Path, roster: dict, student: str, entry: Entry, assignment: str) -> str | None:
    """Why ``entry`` must not go to ``submitted/<student>`` (another LMS's or another person's id), or None."""
    known = [e for students in roster.values() for s, e in students.items() if s == student]
    if any(e["lms"] != entry.lms for e in known):
        return f"id {student} belongs to a student imported from another LMS: refused"
    if any(e["name"] != entry.name for e in known):
        return f"id {student} was imported before under another name: refused"
    if not known and (root / "submitted" / student / assignment).exists():
        return f"submitted/{student}/{assignment} holds a submission that no LMS import put there: refused"
    return None


def import_zip(root: Path, assignment: str, archive: Path, db_url: str | None = None) -> ImportReport:
    """Copy each student's notebook from ``archive`` into ``root/submitted``; see the module docstring.

    ``db_url``: the gradebook (default: the course's), for the due date and the students' names.
    An entry that cannot be read or written is reported and the others are imported; what was
    imported is always recorded in ``lms-roster.json``.
    """
    root = Path(root).resolve()
    expected = expected_notebooks(root, assignment)
    if len(expected) != 1:
        raise ValueError(f"{assignment} has {len(expected)} notebooks; an LMS import needs exactly one")
    report = ImportReport()
    by_student: dict[str, list[tuple[zipfile.ZipInfo, Entry]]] = {}
    earlier = read_roster(root)
    roster: dict[str, dict] = {}
    # one gradebook read for the whole archive, and only if an entry is late (opening it runs alembic)
    late = functools.cache(lambda: _late_timestamp(root, assignment, db_url))
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = [info for info in zf.infolist() if not info.is_dir()]
            try:
                report.lms = lms_of([info.filename for info in infos])
            except ValueError as err:
                report.skipped += [(info.filename, str(err)) for info in infos]
                return report
            parse = _PARSERS[report.lms]
            for info in infos:
                name = info.filename
                if name.startswith("/") or "\\" in name or ".." in PurePosixPath(name).parts:
                    report.skipped.append((name, "path leaves the archive"))
                    continue
                if stat.S_ISLNK(info.external_attr >> 16):
                    report.skipped.append((name, "a link"))
                    continue
                if not name.endswith(".ipynb") or "__MACOSX" in name or "/." in f"/{name}":
                    report.skipped.append((name, "not a notebook"))
                    continue
                try:
                    entry = parse(name)
                except AmbiguousEntry as err:
                    report.skipped.append((name, str(err)))
                    continue
                if entry is None:
                    report.skipped.append((name, f"not in the {report.lms} archive's naming (see instructor/lms.py)"))
                    continue
                if not valid_student_id(entry.student):
                    report.skipped.append((name, f"{entry.student!r} is not a valid student id"))
                    continue
                if info.file_size > MAX_ENTRY_BYTES:
                    report.skipped.append((name, f"larger than {MAX_ENTRY_BYTES >> 20} MiB"))
                    continue
                by_student.setdefault(entry.student, []).append((info, entry))
            for student, entries in sorted(by_student.items()):
                _import_student(root, assignment, expected[0], zf, student, entries, earlier, roster, report, late)
    except (zipfile.BadZipFile, OSError) as err:
        report.skipped.append((str(archive), f"cannot be read as a zip archive: {err}"))
    finally:
        _merge_roster(root, assignment, roster)
        _name_students(root, roster, db_url)
    return report


def _import_student(root, assignment, expected, zf, student, entries, earlier, roster, report, late) -> None:
    """Import one student's chosen entry, or report why not; an error here concerns this student only."""
    names = sorted({entry.name for _, entry in entries})
    refused = None
    if len(names) > 1:
        refused = f"id {student} comes with several names {names}: refused, grade by hand"
    else:
        refused = _conflict(root, earlier, student, entries[0][1], assignment)
    chosen, left_out = (None, []) if refused else _choose(entries, expected)
    report.skipped += left_out if not refused else [(info.filename, refused) for info, _ in entries]
    if chosen is None:
        if not refused and student in earlier.get(assignment, {}):
            moved = _set_aside(root, student, assignment)
            if moved:
                report.notes.append(f"{student}: the earlier import is set aside in {moved}, not graded")
                earlier[assignment].pop(student, None)
                roster[student] = None
        return
    info, entry = chosen
    try:
        with zf.open(info) as src:
            data = src.read(MAX_ENTRY_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, OSError, EOFError) as err:
        report.skipped.append((info.filename, f"cannot be read from the archive: {err}"))
        return
    if len(data) > MAX_ENTRY_BYTES:
        report.skipped.append((info.filename, f"larger than {MAX_ENTRY_BYTES >> 20} MiB"))
        return
    folder = _safe_folder(root, student, assignment)
    if folder is None:
        report.skipped.append((info.filename, "the student's folder is a link"))
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{expected}.ipynb"
        if target.is_symlink():
            target.unlink()
        target.write_bytes(data)
        stamp = folder / "timestamp.txt"
        if stamp.is_symlink() or stamp.exists():
            stamp.unlink()
        if entry.late:
            timestamp, note = late()
            stamp.write_text(timestamp)
            report.notes.append(f"{student} handed in late (Canvas LATE_): timestamp {timestamp}, {note}")
    except OSError as err:
        report.skipped.append((info.filename, f"cannot be written to submitted/{student}/{assignment}: {err}"))
        return
    report.imported[student] = info.filename
    roster[student] = {**asdict(entry), "entry": info.filename}


def read_roster(root: Path) -> dict[str, dict[str, dict]]:
    """``lms-roster.json``: assignment -> student -> the imported entry (see :class:`Entry`)."""
    path = Path(root) / ROSTER
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


def _merge_roster(root: Path, assignment: str, students: dict[str, dict | None]) -> None:
    """Record this import's students (None: a student whose earlier import was set aside)."""
    if not students:
        return
    roster = read_roster(root)
    current = roster.setdefault(assignment, {})
    for student, entry in students.items():
        if entry is None:
            current.pop(student, None)
        else:
            current[student] = entry
    tmp = Path(root) / (ROSTER + ".tmp")
    tmp.write_text(json.dumps(roster, indent=1, sort_keys=True))
    os.replace(tmp, Path(root) / ROSTER)


def _name_students(root: Path, students: dict[str, dict], db_url: str | None) -> None:
    """The gradebook shows each student under the LMS's name (nbgrader's last_name field)."""
    from nbgrader.api import Gradebook

    from .config import course_config, db_url_of, ensure_tools_on_path

    named = {s: e["name"] for s, e in students.items() if e is not None and e["lms"] != "folders"}
    if not named:
        return
    ensure_tools_on_path()
    with Gradebook(db_url_of(course_config(root, db_url))) as gb:
        for student, name in named.items():
            gb.update_or_create_student(student, last_name=name)
