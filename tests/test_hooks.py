"""grading.hooks.drop_links, in-process: links and special files leave a submission before nbgrader copies it."""

from __future__ import annotations

import os

from grading.hooks import drop_links


def test_links_and_fifos_are_removed_and_regular_files_kept(tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    folder = tmp_path / "submitted" / "mallory" / "t2"
    (folder / "data").mkdir(parents=True)
    notebook = folder / "t2.ipynb"
    notebook.write_text("{}")
    (folder / "data" / "notes.txt").write_text("mine")
    (folder / "gradebook.db").symlink_to(secret)
    (folder / "data" / "up").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(folder / "pipe")

    removed = drop_links("t2", "*", [str(notebook)])

    assert sorted(p.name for p in removed) == ["gradebook.db", "pipe", "up"]
    assert notebook.read_text() == "{}" and (folder / "data" / "notes.txt").read_text() == "mine"
    assert secret.read_text() == "grades"
    assert not any(p.is_symlink() for p in folder.rglob("*"))


def test_a_notebook_that_is_a_link_is_removed(tmp_path):
    source = tmp_path / "source.ipynb"
    source.write_text("{}")
    folder = tmp_path / "submitted" / "mallory" / "t2"
    folder.mkdir(parents=True)
    (folder / "t2.ipynb").symlink_to(source)
    drop_links("t2", "mallory", [str(folder / "t2.ipynb")])
    assert not (folder / "t2.ipynb").exists() and source.exists()
