"""In-process tests (no kernel) of what happens to submissions before grading.

Misplaced notebooks on nbgrader's own path
(:func:`grading.hooks.prepare_submission`, the pre_convert_hook) and on the CLI's
(:func:`grading.hooks.place_notebooks`), and the ledger's fingerprints.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nbformat
import pytest

from grading.hooks import SubmissionError, place_notebooks, prepare_submission, valid_student_id
from instructor import classgrade

NB = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))


@pytest.fixture
def course(one_line_course):
    return one_line_course


@pytest.mark.parametrize("bad", ["..", ".hidden", "a/b", "a b", "", "x" * 101, "-x"])
def test_invalid_student_ids_are_refused(bad):
    assert not valid_student_id(bad)


def _nb(folder, name):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(NB)
    return folder / name


def test_the_hook_renames_a_single_misnamed_notebook_in_nbgraders_own_list(course):
    folder = course / "submitted" / "erin" / "t2"
    found = [str(_nb(folder, "Copy of t2 (final).ipynb"))]
    prepare_submission("t2", "erin", found)
    assert found == [str(folder / "t2.ipynb")]
    assert (folder / "t2.ipynb").read_text() == NB and not (folder / "Copy of t2 (final).ipynb").exists()


def test_the_hook_sets_extra_notebooks_aside_and_keeps_the_right_one(course):
    folder = course / "submitted" / "erin" / "t2"
    found = [str(_nb(folder, "t2.ipynb")), str(_nb(folder, "scratch.ipynb"))]
    prepare_submission("t2", "erin", found)
    assert found == [str(folder / "t2.ipynb")]
    assert (folder / "_ignored" / "scratch.ipynb").exists()


def test_the_hook_leaves_ambiguous_submissions_for_nbgrader_to_report(course):
    folder = course / "submitted" / "erin" / "t2"
    found = [str(_nb(folder, "a.ipynb")), str(_nb(folder, "b.ipynb"))]
    prepare_submission("t2", "erin", list(found))
    assert (folder / "a.ipynb").exists() and (folder / "b.ipynb").exists()


def test_placement_finds_a_notebook_in_a_subfolder_or_the_students_folder(course):
    student = course / "submitted" / "erin"
    _nb(student / "t2" / "work" / "deep", "mine.ipynb")
    assert place_notebooks(student, "t2", ["t2"]) == ["graded t2/work/deep/mine.ipynb as t2/t2.ipynb"]
    other = course / "submitted" / "finn"
    _nb(other, "t2_final.ipynb")
    assert place_notebooks(other, "t2", ["t2"]) == ["graded t2_final.ipynb as t2/t2.ipynb"]
    assert (other / "t2" / "t2.ipynb").exists()


def test_placement_never_takes_another_assignments_notebook(course):
    student = course / "submitted" / "erin"
    _nb(student / "t1", "t1.ipynb")
    with pytest.raises(SubmissionError, match="no notebook found"):
        place_notebooks(student, "t2", ["t2"])
    assert (student / "t1" / "t1.ipynb").exists()


def test_placement_reports_invalid_json(course):
    folder = course / "submitted" / "dave" / "t2"
    folder.mkdir(parents=True)
    (folder / "t2.ipynb").write_text("{ not json")
    with pytest.raises(SubmissionError, match="not a valid notebook"):
        place_notebooks(folder.parent, "t2", ["t2"])


def test_the_class_grader_reports_bad_folders_and_ids_without_stopping(course):
    submitted = course / "submitted"
    _nb(submitted / "ok" / "t2", "t2.ipynb")
    _nb(submitted / "bad id" / "t2", "t2.ipynb")
    _nb(submitted / "twice" / "t2", "a.ipynb")
    _nb(submitted / "twice" / "t2", "b.ipynb")
    (submitted / "linked").mkdir()
    (submitted / "linked" / "t2").symlink_to(submitted / "ok" / "t2")
    (submitted / "nothing" / "t1").mkdir(parents=True)

    ready, failed = classgrade.find_submissions(course, "t2")

    assert [student for student, _, _ in ready] == ["ok"]
    reasons = {o.student: o.reason for o in failed}
    assert set(reasons) == {"bad id", "twice", "linked"}
    assert "not a valid student id" in reasons["bad id"] and "several notebooks" in reasons["twice"]
    assert "link" in reasons["linked"]


def test_placement_moves_nothing_through_a_students_links(course):
    """A link named _ignored (or a notebook that is a link) must not carry a file into another student's folder
    or the course's source/: course grade places notebooks before it reads the folder."""
    _nb(course / "submitted" / "bob" / "t1", "t1.ipynb")
    _nb(course / "source" / "t1", "t1.ipynb")
    before = {p: p.read_text() for p in [course / "submitted/bob/t1/t1.ipynb", course / "source/t1/t1.ipynb"]}
    for student, target in [("mallory", "../../bob/t1"), ("mallory2", "../../../source/t1")]:
        folder = course / "submitted" / student / "t2"
        _nb(folder, "t2.ipynb")
        (folder / "t1.ipynb").write_text("FORGED")
        (folder / "_ignored").symlink_to(target)
    mallory3 = course / "submitted" / "mallory3" / "t2"
    _nb(mallory3, "mine.ipynb")
    (mallory3 / "t2.ipynb").symlink_to("../../../source/t1/t1.ipynb")

    ready, failed = classgrade.find_submissions(course, "t2")

    assert {p: p.read_text() for p in before} == before
    assert sorted(os.listdir(course / "source" / "t1")) == ["t1.ipynb"]
    assert sorted(os.listdir(course / "submitted" / "bob" / "t1")) == ["t1.ipynb"]
    assert not failed and {student for student, _, _ in ready} == {"mallory", "mallory2", "mallory3"}
    assert (course / "submitted/mallory/t2/_ignored/t1.ipynb").read_text() == "FORGED"  # its own, set aside
    assert (course / "submitted/mallory3/t2/t2.ipynb").read_text() == NB  # the link gone, its notebook placed


def test_placement_reports_odd_shapes_and_keeps_every_file(course):
    folder = course / "submitted" / "erin" / "t2"
    _nb(folder, "t2.ipynb")
    _nb(folder, "scratch.ipynb")
    (folder / "_ignored").write_text("a file, not a folder")
    with pytest.raises(SubmissionError, match="_ignored is not a folder"):
        place_notebooks(folder.parent, "t2", ["t2"])
    (folder / "_ignored").unlink()
    _nb(folder / "_ignored", "scratch.ipynb").write_text("set aside earlier")
    place_notebooks(folder.parent, "t2", ["t2"])
    kept = sorted(p.read_text() for p in (folder / "_ignored").iterdir())
    assert kept == sorted([NB, "set aside earlier"])  # a fresh name: nothing the student had is overwritten
    other = course / "submitted" / "finn" / "t2"
    (other / "t2.ipynb").mkdir(parents=True)
    _nb(other, "mine.ipynb")
    with pytest.raises(SubmissionError, match="t2.ipynb is not a file"):
        place_notebooks(other.parent, "t2", ["t2"])
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.SubmissionFolders.max_notebook_bytes = 100\n")
    with pytest.raises(SubmissionError, match="t2.ipynb is larger than 100 bytes"):
        place_notebooks(folder.parent, "t2", ["t2"])


def test_one_folders_placement_problem_never_stops_the_others(course):
    alice, bob = course / "submitted" / "alice" / "t2", course / "submitted" / "bob" / "t2"
    found = [str(_nb(alice, "t2.ipynb")), str(_nb(alice, "extra.ipynb")), str(_nb(bob, "Copy of t2.ipynb"))]
    (alice / "_ignored").write_text("a file")
    prepare_submission("t2", "*", found)
    assert (bob / "t2.ipynb").read_text() == NB and str(bob / "t2.ipynb") in found


def test_the_bounds_come_from_the_course_whatever_the_path_says(course):
    """A notebook path through ``..`` must not make the hook read a student's own nbgrader_config.py."""
    folder = course / "submitted" / "mallory" / "t2"
    _nb(folder, "t2.ipynb")
    (folder.parent / "nbgrader_config.py").write_text("c = get_config()\nc.SubmissionFolders.max_depth = 1000\n")
    _too_deep(folder)
    found = [str(folder / ".." / "t2" / "t2.ipynb")]
    prepare_submission("t2", "mallory", found)
    assert found == [] and not folder.exists()
    assert (course / "quarantine" / "mallory").is_dir()


def _as_nobody(scenario) -> dict:
    """Run ``scenario(root) -> dict`` in a child process as the user ``nobody`` (a grader that is not root),
    on a course folder that user owns, in a temporary folder anyone can reach; return what it returned."""
    import shutil
    import tempfile

    from grading.tree import remove_tree

    top = Path(tempfile.mkdtemp(prefix="course-nobody-"))
    top.chmod(0o755)
    root = top / "course"
    _nb(root / "source" / "t2", "t2.ipynb")
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    shutil.chown(root, 65534, 65534)  # the course folder (source/ and the configuration stay root's, readable)
    try:
        return _in_child_as_nobody(scenario, root)
    finally:
        remove_tree(top)


def _in_child_as_nobody(scenario, root) -> dict:
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child)
        try:
            os.close(reading)
            os.setgid(65534)
            os.setuid(65534)
            result = json.dumps(scenario(root))
        except BaseException as err:  # noqa: BLE001
            result = json.dumps({"error": f"{type(err).__name__}: {err}"})
        os.write(writing, result.encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        out = json.loads(pipe.read() or "{}")
    os.waitpid(pid, 0)
    return out


def _read_only_submission(root):
    folder = root / "submitted" / "mallory" / "t2"
    _nb(folder, "t2.ipynb")
    (folder / "gradebook.txt").symlink_to(root / "nbgrader_config.py")
    (folder / "locked").mkdir()
    (folder / "locked" / "inside").symlink_to("/etc/passwd")
    (folder / "locked").chmod(0)
    folder.chmod(0o555)
    return folder


def _links_kept_in_read_only_folders(root):
    folder = _read_only_submission(root)
    found = [str(folder / "t2.ipynb")]
    prepare_submission("t2", "mallory", found)
    return {"found": found, "left": sorted(p.name for p in folder.rglob("*") if p.is_symlink())}


def _quarantine_of_a_read_only_student_folder(root):
    folder = _read_only_submission(root)
    folder.chmod(0o755)
    _too_deep(folder)
    folder.chmod(0o555)
    folder.parent.chmod(0o555)
    found = [str(folder / "t2.ipynb")]
    prepare_submission("t2", "mallory", found)
    return {"found": found, "moved": [p.name for p in (root / "quarantine" / "mallory").iterdir()]}


def _misplaced_in_a_read_only_student_folder(root):
    student = root / "submitted" / "s3"
    _nb(student, "t2_final.ipynb")
    student.chmod(0o555)
    try:
        notes = place_notebooks(student, "t2", ["t2"])
    except SubmissionError as err:
        return {"reported": str(err)}
    return {"notes": notes}


def test_a_grader_that_is_not_root_removes_links_from_folders_a_student_made_read_only():
    """nbgrader's collect keeps a student's modes: the owner's rights come back before links are removed."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the hook as another user")
    result = _as_nobody(_links_kept_in_read_only_folders)
    assert result.get("left") == [] and len(result["found"]) == 1, result
    result = _as_nobody(_misplaced_in_a_read_only_student_folder)
    assert result.get("notes") == ["graded t2_final.ipynb as t2/t2.ipynb"], result  # never an escaping error
    result = _as_nobody(_quarantine_of_a_read_only_student_folder)
    assert result.get("found") == [] and len(result["moved"]) == 1 and result["moved"][0].startswith("t2-"), result


def test_ledger_writes_atomically_and_forgets_unfinished_work(tmp_path):
    ledger = classgrade.Ledger(tmp_path / "ledger.json")
    ledger.record("t2", "alice", "abc")
    ledger.record("t2", "bob", "def")
    ledger.record("t2", "bob", None)
    again = classgrade.Ledger(tmp_path / "ledger.json")
    assert again.fingerprint("t2", "alice") == "abc" and again.fingerprint("t2", "bob") is None
    assert json.loads((tmp_path / "ledger.json").read_text()) == {"t2": {"alice": "abc"}}
    (tmp_path / "ledger.json").write_text("{ torn")
    assert classgrade.Ledger(tmp_path / "ledger.json").fingerprint("t2", "alice") is None


def _deep_folder(top, levels=20):
    """A chain of folders below ``top`` whose path is longer than PATH_MAX (4096); returns its innermost fd."""
    fd = os.open(top, os.O_RDONLY)
    for i in range(levels):
        name = f"{i:02d}" + "d" * 240
        os.mkdir(name, dir_fd=fd)
        inner = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    return fd


def _links_below(folder) -> list[str]:
    return [
        name
        for _, dirs, files, fd in os.fwalk(folder, follow_symlinks=False)
        for name in [*dirs, *files]
        if stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
    ]


def test_the_hook_removes_links_at_any_depth(course):
    """A link below a path longer than PATH_MAX is found too (the walk goes by directory descriptors)."""
    folder = course / "submitted" / "mallory" / "t2"
    found = [str(_nb(folder, "t2.ipynb"))]
    (folder / "gradebook.txt").symlink_to(course / "nbgrader_config.py")
    fd = _deep_folder(folder / ".")
    os.symlink(str(course / "source" / "t2" / "t2.ipynb"), "solutions.txt", dir_fd=fd)
    os.mkfifo("pipe", dir_fd=fd)
    os.close(fd)
    assert len(_links_below(folder)) == 2
    prepare_submission("t2", "mallory", found)
    assert _links_below(folder) == [] and found == [str(folder / "t2.ipynb")]
    assert not [p for p in folder.iterdir() if p.name == "gradebook.txt"]


def _too_deep(folder):
    """A chain of folders deeper than SubmissionFolders.max_depth (32 by default), with a link at its bottom."""
    fd = _deep_folder(folder / ".", levels=40)
    os.symlink("/etc/passwd", "deep-link", dir_fd=fd)
    os.close(fd)


def _too_many(folder):
    """More entries than the course's configuration allows (c.SubmissionFolders.max_entries = 50)."""
    (folder.parents[2] / "nbgrader_config.py").write_text("c = get_config()\nc.SubmissionFolders.max_entries = 50\n")
    for i in range(60):
        (folder / f"n{i}.txt").write_text("x")


@pytest.mark.parametrize("shape", [_too_deep, _too_many])
def test_a_folder_that_cannot_be_walked_is_quarantined_not_graded(course, caplog, shape):
    """nbgrader ignores a failing hook and would copy the links: such a folder is moved aside, whole."""
    folder = course / "submitted" / "mallory" / "t2"
    found = [str(_nb(folder, "t2.ipynb"))]
    (folder / "gradebook.txt").symlink_to(course / "nbgrader_config.py")
    shape(folder)
    prepare_submission("t2", "mallory", found)
    assert found == [] and not folder.exists()
    (moved,) = (course / "quarantine" / "mallory").iterdir()
    assert moved.name.startswith("t2-") and (moved / "t2.ipynb").read_text() == NB
    assert "moved to quarantine/mallory/t2-" in caplog.text and "not graded" in caplog.text
