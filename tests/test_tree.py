"""grading.tree: folders a student shaped are read and removed by descriptor, iteratively, within bounds."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from grading.hooks import SubmissionError, place_notebooks
from grading.tree import TreeTooLarge, iter_files, read_tree, remove_tree

LONG = "d" * 250


def _deep(folder: Path, levels: int, every: int = 0) -> None:
    """A chain of ``levels`` folders with 250-character names (far past PATH_MAX), a file every ``every`` levels."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    for level in range(levels):
        os.mkdir(LONG, dir_fd=fd)
        fd, previous = os.open(LONG, os.O_RDONLY, dir_fd=fd), fd
        os.close(previous)
        if every and level % every == 0:
            file = os.open("f.txt", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd)
            os.write(file, b"x")
            os.close(file)
    os.chmod(f"/proc/self/fd/{fd}", 0)  # the deepest folder denies listing
    os.close(fd)


def test_remove_tree_deeper_than_path_max_and_the_recursion_limit(tmp_path):
    levels = sys.getrecursionlimit() + 500  # about 375 KB of path
    _deep(tmp_path / "victim", levels, every=100)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    os.symlink(outside, tmp_path / "victim" / "link")
    os.symlink(tmp_path, tmp_path / "victim" / "loop")
    os.mkfifo(tmp_path / "victim" / "fifo")
    remove_tree(tmp_path / "victim")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside.txt"]
    assert outside.read_text() == "keep"


def test_remove_tree_removes_a_link_itself_never_its_target(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    (tmp_path / "link").symlink_to(target)
    remove_tree(tmp_path / "link")
    assert (target / "keep.txt").read_text() == "keep" and not (tmp_path / "link").exists()
    remove_tree(tmp_path / "missing")  # nothing there: nothing to do


def test_read_tree_keeps_regular_files_only(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "sub" / "b.txt").write_text("b")
    (tmp_path / "passwd").symlink_to("/etc/passwd")
    (tmp_path / "etc").symlink_to("/etc")
    os.mkfifo(tmp_path / "fifo")  # opened without blocking, and left out
    assert read_tree(tmp_path, max_files=10, max_bytes=100, max_entries=100) == {"a.ipynb": b"{}", "sub/b.txt": b"b"}
    assert read_tree(tmp_path / "etc", max_files=10, max_bytes=100, max_entries=100) == {}


def test_read_tree_counts_before_it_reads(tmp_path):
    with open(tmp_path / "sparse.bin", "wb") as file:  # 64 GiB that take no disk: refused unread
        file.truncate(64 * 2**30)
    start = time.monotonic()
    with pytest.raises(TreeTooLarge, match="bytes"):
        read_tree(tmp_path, max_files=10, max_bytes=2**20, max_entries=10_000)
    assert time.monotonic() - start < 5
    for i in range(5):
        (tmp_path / f"small{i}").write_text("x")
    with pytest.raises(TreeTooLarge, match="files"):
        read_tree(tmp_path, max_files=3, max_bytes=2**40, max_entries=10_000)


def test_read_tree_refuses_deep_trees_and_iter_files_can_skip_them(tmp_path):
    _deep(tmp_path / "deep", 40, every=1)
    with pytest.raises(TreeTooLarge, match="deeper than 16"):
        read_tree(tmp_path, max_files=100, max_bytes=2**20, max_entries=10_000)
    found = [relative for relative, _, _ in iter_files(tmp_path, max_depth=3, max_entries=10_000, deeper="skip")]
    assert sorted(r.count("/") for r in found) == [2, 3]  # deep/d.../f.txt and one level down; no deeper
    remove_tree(tmp_path / "deep")


def test_placing_a_submission_with_a_deep_tree_reports_it_and_follows_no_link(tmp_path):
    """Deeper than c.SubmissionFolders.max_depth: reported with its reason, nothing moved, no link followed."""
    student = tmp_path / "submitted" / "alice"
    _deep(student / "t2" / "junk", 2000)
    (student / "t2" / "other.ipynb").symlink_to("/etc/passwd")
    with pytest.raises(SubmissionError, match="cannot be checked for links .*deeper than 32 levels"):
        place_notebooks(student, "t2", ["t2"])
    assert (student / "t2" / "other.ipynb").is_symlink()  # nothing was moved
    remove_tree(student / "t2" / "junk")
    (student / "t2" / "mine.ipynb").write_text("{}")
    with pytest.raises(SubmissionError, match="t2.ipynb is not a valid notebook"):
        place_notebooks(student, "t2", ["t2"])  # within the bounds: the link is removed, the notebook placed
    assert sorted(p.name for p in (student / "t2").iterdir()) == ["t2.ipynb"]


def test_every_entry_listed_counts_so_many_folders_or_one_huge_folder_is_refused(tmp_path):
    """max_entries counts files, folders, links and skipped entries as they are listed, before names are kept."""
    for i in range(30):
        (tmp_path / "many" / f"d{i}").mkdir(parents=True)
    for i in range(30):
        (tmp_path / "wide" / f"f{i}.txt").parent.mkdir(exist_ok=True)
        (tmp_path / "wide" / f"f{i}.txt").write_text("x")
    with pytest.raises(TreeTooLarge, match="more than 20 files and folders"):
        list(iter_files(tmp_path / "many", max_depth=3, max_entries=20))
    with pytest.raises(TreeTooLarge, match="more than 20 files and folders"):
        read_tree(tmp_path / "wide", max_files=100, max_bytes=2**20, skip=lambda r: True, max_entries=20)
    assert len(read_tree(tmp_path / "wide", max_files=100, max_bytes=2**20, max_entries=30)) == 30
    course = tmp_path / "course"
    (course / "nbgrader_config.py").parent.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.SubmissionFolders.max_entries = 20\n")
    student = course / "submitted" / "alice"
    for i in range(30):
        (student / "t2" / f"n{i}.txt").parent.mkdir(parents=True, exist_ok=True)
        (student / "t2" / f"n{i}.txt").write_text("x")
    with pytest.raises(SubmissionError, match="more than 20 files and folders"):
        place_notebooks(student, "t2", ["t2"])  # the bound comes from the course's nbgrader_config.py
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(SubmissionError, match="no notebook"):
        place_notebooks(student, "t2", ["t2"])
