"""Import an LMS download (a zip of notebooks, one per student) into ``submitted/``.

Accepted entry names (only ``.ipynb`` entries are considered; the student id is taken
from the name, the notebook is stored as the assignment's notebook):

* **Canvas** ("Download submissions"): ``<login>_<userid>_<submissionid>_<file>.ipynb``,
  optionally with ``LATE_`` after the login (``doejane_LATE_1234_56789_t2.ipynb``);
  the student id is ``<login>``.
* **Moodle** ("Download all submissions"): ``<Full Name>_<participantid>_assignsubmission_file_/<file>.ipynb``
  (a folder per student) or the same flattened with ``_`` instead of ``/``; the student id
  is ``<participantid>``.
* **One folder per student**: ``<student>/<file>.ipynb`` or ``<student>.ipynb``.

Each entry is read from the archive (never extracted by its own path), size-bounded,
and written to ``submitted/<student>/<assignment>/<notebook>.ipynb``. An entry whose name
is absolute or contains ``..``, a link, an unknown pattern, an invalid student id, or a
student with several notebooks is reported and skipped; nothing is written outside
``submitted/``.
"""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grading.hooks import expected_notebooks, valid_student_id

MAX_ENTRY_BYTES = 64 * 2**20
_CANVAS = re.compile(r"(?P<student>[a-z0-9]+)_(?:LATE_)?\d+_\d+_.+\.ipynb")
_MOODLE = re.compile(r"(?P<name>[^/_]+)_(?P<student>\d+)_assignsubmission_(?:file|onlinetext)_/?.+\.ipynb")


@dataclass
class ImportReport:
    """What an import did: students imported, entries skipped and why."""

    imported: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"imported {entry} as {student}" for student, entry in sorted(self.imported.items())]
        out += [f"skipped {entry!r}: {why}" for entry, why in self.skipped]
        return out


def student_of(entry: str) -> str | None:
    """The student id an entry name carries (see the module's patterns), or None."""
    path = PurePosixPath(entry)
    for pattern in (_CANVAS, _MOODLE):
        match = pattern.fullmatch(entry) or pattern.fullmatch(path.name)
        if match:
            return match["student"]
    if len(path.parts) == 2 and path.suffix == ".ipynb":
        return path.parts[0]
    if len(path.parts) == 1 and path.suffix == ".ipynb":
        return path.stem
    return None


def import_zip(root: Path, assignment: str, archive: Path) -> ImportReport:
    """Copy each student's notebook from ``archive`` into ``root/submitted``; see the module docstring."""
    root = Path(root).resolve()
    expected = expected_notebooks(root, assignment)
    if len(expected) != 1:
        raise ValueError(f"{assignment} has {len(expected)} notebooks; an LMS import needs exactly one")
    report = ImportReport()
    chosen: dict[str, zipfile.ZipInfo] = {}
    duplicates: set[str] = set()
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir():
                continue
            if name.startswith("/") or "\\" in name or ".." in PurePosixPath(name).parts:
                report.skipped.append((name, "path leaves the archive"))
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                report.skipped.append((name, "a link"))
                continue
            if not name.endswith(".ipynb") or "__MACOSX" in name or "/." in f"/{name}":
                report.skipped.append((name, "not a notebook"))
                continue
            student = student_of(name)
            if student is None:
                report.skipped.append((name, "no student id in the name (see `course grade --help`)"))
                continue
            if not valid_student_id(student):
                report.skipped.append((name, f"{student!r} is not a valid student id"))
                continue
            if info.file_size > MAX_ENTRY_BYTES:
                report.skipped.append((name, f"larger than {MAX_ENTRY_BYTES >> 20} MiB"))
                continue
            if student in chosen:
                duplicates.add(student)
            chosen[student] = info
        for student in sorted(duplicates):
            report.skipped.append((chosen.pop(student).filename, f"{student} has several notebooks in the archive"))
        for student, info in sorted(chosen.items()):
            with zf.open(info) as src:
                data = src.read(MAX_ENTRY_BYTES + 1)
            if len(data) > MAX_ENTRY_BYTES:
                report.skipped.append((info.filename, f"larger than {MAX_ENTRY_BYTES >> 20} MiB"))
                continue
            folder = root / "submitted" / student / assignment
            if any(p.is_symlink() for p in (root / "submitted", root / "submitted" / student, folder)):
                report.skipped.append((info.filename, "the student's folder is a link"))
                continue
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{expected[0]}.ipynb"
            if target.is_symlink():
                target.unlink()
            target.write_bytes(data)
            report.imported[student] = info.filename
    return report
