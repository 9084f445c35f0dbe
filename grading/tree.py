"""Reading and removing folders a student could have shaped, by file descriptor and without recursion.

A submission folder, or a folder a kernel could write to, may hold links (to the
gradebook, to another student's files), special files (a FIFO that blocks whoever
opens it), folders whose mode denies listing, or a chain of folders deeper than
``PATH_MAX`` or than Python's recursion limit. The functions here

* open every folder and file relative to its parent's descriptor, with
  ``O_NOFOLLOW``, so no path length hides an entry and no link is followed;
* walk iteratively (a stack, never recursion): a read opens each folder once from its
  parent's descriptor and holds at most one descriptor per level of its depth bound; a
  removal holds two, whatever the depth;
* count before they keep: a file's size is checked against what is left of the
  byte budget before it is read, and never more than that is read.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO must not block the grader


class TreeTooLarge(ValueError):
    """A folder holds more files, bytes or levels than allowed (the message says which)."""


def iter_entries(
    folder: str | Path,
    *,
    max_depth: int,
    max_entries: int,
    deeper: str = "refuse",
    skip=lambda relative: False,
):
    """Yield ``(relative, folder_fd, name, mode)`` for every entry below ``folder``: files, folders, links, others.

    ``folder_fd`` is open only until the next item: use it at once (``os.open(name, dir_fd=folder_fd)``,
    ``os.unlink(name, dir_fd=folder_fd)``); ``mode`` is the entry's own (a link's, not its target's), and
    only real folders are entered. Folders more than ``max_depth`` levels down raise :class:`TreeTooLarge`
    (``deeper="refuse"``) or are not entered (``deeper="skip"``). ``skip(relative_path) -> bool`` leaves
    entries out. A link in place of ``folder`` yields nothing. Every entry listed (skipped or not) is
    counted as the listing returns it, before its name is kept: past ``max_entries`` in all the walk raises
    :class:`TreeTooLarge`, so neither many folders nor one huge folder costs more memory.
    """
    try:
        top = os.open(folder, _DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as err:
        if err.errno == 40:  # ELOOP: a link
            return
        raise
    listed = 0

    def listing(fd: int) -> list[str]:
        """The folder's names, each counted as the listing returns it; reversed, so that pop() is in order."""
        nonlocal listed
        names = []
        with os.scandir(fd) as entries:
            for entry in entries:
                listed += 1
                if listed > max_entries:
                    raise TreeTooLarge(f"more than {max_entries} files and folders")
                names.append(entry.name)
        return sorted(names, reverse=True)

    # depth first, each folder opened once from its parent's descriptor: at most max_depth + 1 open at a time
    stack: list[tuple[int, tuple[str, ...], list[str]]] = []
    try:
        stack.append((top, (), listing(top)))
    except BaseException:
        os.close(top)
        raise
    try:
        while stack:
            fd, parts, names = stack[-1]
            if not names:
                stack.pop()
                os.close(fd)
                continue
            name = names.pop()
            relative = "/".join((*parts, name))
            if skip(relative):
                continue
            mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            enter = False
            if stat.S_ISDIR(mode):
                if len(parts) < max_depth:
                    enter = True
                elif deeper == "refuse":
                    raise TreeTooLarge(f"folders nest deeper than {max_depth} levels ({relative[:120]}...)")
            yield relative, fd, name, mode
            if enter:
                child = os.open(name, _DIRECTORY, dir_fd=fd)
                try:
                    stack.append((child, (*parts, name), listing(child)))
                except BaseException:
                    os.close(child)
                    raise
    finally:
        for fd, _, _ in stack:
            os.close(fd)


def iter_files(
    folder: str | Path,
    *,
    max_depth: int,
    max_entries: int,
    deeper: str = "refuse",
    skip=lambda relative: False,
):
    """Yield ``(relative, folder_fd, name)`` for each regular file below ``folder``, links and special files left out.

    The walk and its bounds are :func:`iter_entries`'.
    """
    for relative, fd, name, mode in iter_entries(
        folder, max_depth=max_depth, max_entries=max_entries, deeper=deeper, skip=skip
    ):
        if stat.S_ISREG(mode):
            yield relative, fd, name


def read_tree(
    folder: str | Path,
    *,
    max_files: int,
    max_bytes: int,
    max_entries: int,
    max_depth: int = 16,
    skip=lambda relative: False,
) -> dict[str, bytes]:
    """Every regular file below ``folder``, by relative POSIX path; links and special files are left out.

    Parameters
    ----------
    folder : str or Path
        The folder (a link in its place reads as empty).
    max_files, max_bytes : int
        Bounds on the files kept and their total size, checked before each file is read.
    max_depth : int
        Folders nested deeper than this many levels are refused.
    max_entries : int
        Bound on every entry listed, files, folders and links, skipped or not (see :func:`iter_files`).
    skip : callable
        ``skip(relative_path) -> bool``: files and folders not to read (they count against no bound).

    Raises
    ------
    TreeTooLarge
        When a bound is exceeded (nothing more is read).
    """
    out: dict[str, bytes] = {}
    left = max_bytes
    for relative, fd, name in iter_files(folder, max_depth=max_depth, skip=skip, max_entries=max_entries):
        if len(out) >= max_files:
            raise TreeTooLarge(f"more than {max_files} files")
        out[relative] = _read_at_most(fd, name, left, max_bytes)
        left -= len(out[relative])
    return out


def _read_at_most(folder_fd: int, name: str, left: int, max_bytes: int) -> bytes:
    try:
        fd = os.open(name, _FILE, dir_fd=folder_fd)
    except OSError:
        return b""  # replaced by something unreadable meanwhile: nothing to keep
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return b""
        if info.st_size > left:
            raise TreeTooLarge(f"more than {max_bytes} bytes in all")
        chunks, size = [], 0
        while chunk := os.read(fd, min(2**20, left - size + 1)):
            chunks.append(chunk)
            size += len(chunk)
            if size > left:
                raise TreeTooLarge(f"more than {max_bytes} bytes in all")
        return b"".join(chunks)
    finally:
        os.close(fd)


def remove_tree(path: str | Path) -> None:
    """Remove ``path`` and everything below it, whatever its depth, names or modes; never follows a link.

    A link at ``path`` (or anywhere below) is removed itself. Folders are emptied one at a time: each
    subfolder is first moved up into ``path`` under a fresh name, so the walk holds two descriptors and
    no path longer than one name, however deep the tree was. A folder whose mode denies listing is
    given back its owner's rights first. Errors (an entry that cannot be removed) are raised.
    """
    path = Path(path)
    parent = os.open(path.parent, _DIRECTORY & ~os.O_NOFOLLOW)
    try:
        try:
            info = os.stat(path.name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(path.name, dir_fd=parent)
            return
        top = _open_listable(parent, path.name)
        try:
            _empty(top)
        finally:
            os.close(top)
        os.rmdir(path.name, dir_fd=parent)
    finally:
        os.close(parent)


def _open_listable(parent: int, name: str) -> int:
    """Open the folder ``name`` for listing and removing its entries, restoring its owner's rights if needed."""
    handle = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    try:
        if stat.S_IMODE(os.fstat(handle).st_mode) & 0o700 != 0o700:
            os.chmod(f"/proc/self/fd/{handle}", 0o700)  # the folder itself, through its descriptor
        return os.open(f"/proc/self/fd/{handle}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    finally:
        os.close(handle)


def _some_names(folder: int, most: int = 4096) -> list[str]:
    """Up to ``most`` names in the open folder (listed again after each batch is removed: no stale listing)."""
    with os.scandir(folder) as entries:
        return [entry.name for _, entry in zip(range(most), entries, strict=False)]


def _empty(top: int) -> None:
    """Empty the open folder ``top``: files unlinked, each subfolder flattened into ``top`` then removed.

    An entry that vanishes meanwhile counts as removed.
    """
    while batch := _some_names(top):
        for name in batch:
            try:
                _remove_entry(top, name)
            except FileNotFoundError:
                continue


def _remove_entry(top: int, name: str) -> None:
    info = os.stat(name, dir_fd=top, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(name, dir_fd=top)
        return
    folder = _open_listable(top, name)
    try:
        while inner := _some_names(folder):
            for child in inner:
                try:
                    if stat.S_ISDIR(os.stat(child, dir_fd=folder, follow_symlinks=False).st_mode):
                        # moving a folder to another parent rewrites its "..": it needs its owner's rights
                        os.close(_open_listable(folder, child))
                        os.rename(child, f".rm-{secrets.token_hex(8)}", src_dir_fd=folder, dst_dir_fd=top)
                    else:
                        os.unlink(child, dir_fd=folder)
                except FileNotFoundError:
                    continue
    finally:
        os.close(folder)
    os.rmdir(name, dir_fd=top)
