"""grading.channel in process: the message budget on real ZeroMQ sockets, and the socket-folder watch."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from grading.channel import (
    MAX_PARTS,
    BudgetExceeded,
    MessageBudget,
    SocketFolderWatch,
    bounded_context,
    receive_counted,
)


def _pair(max_frame_bytes: int):
    """A connected PUSH (plain, the 'kernel') and PULL (bounded, the grader) over loopback TCP."""
    receiving = bounded_context(max_frame_bytes)
    pull = receiving.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    sending = zmq.Context()
    push = sending.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.connect(f"tcp://127.0.0.1:{port}")
    return receiving, pull, sending, push


def _receive_all(pull, budget, count, timeout=5.0):
    """Receive up to ``count`` messages on an event loop of its own (in a thread: the test's may be running)."""

    async def go():
        got = []
        for _ in range(count):
            if not await pull.poll(int(timeout * 1000)):
                break
            got.append(await receive_counted(pull, budget))
        return got

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def test_every_frame_is_counted_and_reading_stops_at_the_budget():
    receiving, pull, sending, push = _pair(2**20)
    reasons = []
    budget = MessageBudget(3 * 2**20, reasons.append)
    try:
        for _ in range(10):
            push.send_multipart([b"header", b"x" * (2**20 - 100)])
        with pytest.raises(BudgetExceeded, match="more than 3 MiB"):
            _receive_all(pull, budget, 10)
        assert len(reasons) == 1 and budget.used <= 4 * 2**20
        with pytest.raises(BudgetExceeded):  # and from then on, nothing more is read
            _receive_all(pull, budget, 1)
    finally:
        pull.close()
        push.close()
        sending.term()
        receiving.term()


def test_a_frame_over_the_bound_is_refused_by_zeromq_unread():
    receiving, pull, sending, push = _pair(2**20)
    budget = MessageBudget(2**30, lambda reason: None)
    try:
        push.send_multipart([b"big", b"x" * (4 * 2**20)])
        push.send_multipart([b"small", b"ok"])
        got = _receive_all(pull, budget, 2, timeout=2)
        assert all(len(frame) <= 2**20 for message in got for frame in message)  # the big one never arrives
        assert budget.used < 2**20
    finally:
        pull.close()
        push.close()
        sending.term()
        receiving.term()


def test_a_message_of_too_many_parts_stops_reading():
    receiving, pull, sending, push = _pair(2**20)
    reasons = []
    budget = MessageBudget(2**30, reasons.append)
    try:
        push.send_multipart([b"p"] * (MAX_PARTS + 10))
        with pytest.raises(BudgetExceeded, match="parts"):
            _receive_all(pull, budget, 1)
        assert reasons
    finally:
        pull.close()
        push.close()
        sending.term()
        receiving.term()


def _watch(folder, **kw):
    breaches = []
    watch = SocketFolderWatch(folder, max_entries=8, max_bytes=2**20, on_breach=breaches.append, **kw)
    return watch, breaches


def test_the_socket_folder_may_hold_sockets_only(tmp_path):
    sockets = []
    for i in range(5):
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(tmp_path / f"kernel-{i}"))
        sockets.append(s)
    (tmp_path / "kernel.json").write_text("{}")
    watch, _ = _watch(tmp_path, allowed=frozenset({"kernel.json"}))
    assert watch.check() is None
    for make in (
        lambda: (tmp_path / "big.bin").write_bytes(b"x"),
        lambda: (tmp_path / "tree").mkdir(),
        lambda: (tmp_path / "link").symlink_to("/etc"),
        lambda: os.mkfifo(tmp_path / "fifo"),
    ):
        make()
        assert "other than a socket" in watch.check()
        for name in ("big.bin", "tree", "link", "fifo"):
            path = tmp_path / name
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            elif path.exists() or path.is_symlink():
                path.unlink()
    for i in range(5, 12):
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(tmp_path / f"kernel-{i}"))
        sockets.append(s)
    assert "more than 8 entries" in watch.check()
    for s in sockets:
        s.close()


def test_the_watch_calls_once_from_its_thread(tmp_path):
    watch, breaches = _watch(tmp_path, interval=0.01)
    watch.start()
    (tmp_path / "x").write_text("x")
    watch._thread.join(timeout=5)
    assert len(breaches) == 1 and watch.breach == breaches[0]
    watch.stop()


def test_json_containers_are_charged_what_they_cost_decoded():
    """Each { or [ of a frame costs CONTAINER_BYTES on top of its length (a decoded dict is far larger)."""
    from grading.channel import CONTAINER_BYTES

    receiving, pull, sending, push = _pair(2**20)
    budget = MessageBudget(2**30, lambda reason: None)
    try:
        push.send_multipart([b"[" + b"{}," * 1000 + b"{}]"])
        _receive_all(pull, budget, 1)
        assert budget.used >= 1002 * CONTAINER_BYTES
    finally:
        pull.close()
        push.close()
        sending.term()
        receiving.term()


def test_the_watch_stops_the_kernel_when_the_graders_memory_grows():
    """What ZeroMQ queues before anything counts it shows in the grader's own memory, which the watch bounds."""
    watch, _ = _watch(None, max_growth=64 * 2**20)
    assert watch.check() is None
    ballast = bytearray(256 * 2**20)  # touched pages: resident
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    assert "memory grew" in (watch.check() or "")
    del ballast


def test_remove_tree_restores_rights_as_a_user_other_than_root():
    """For a grader that is not root, a folder without write or list rights deep in the tree is still removed."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run as another user")
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="tree-", dir="/tmp"))  # pytest's own folders are root's alone
    base.chmod(0o777)
    script = (
        "import os, sys; sys.path.insert(0, sys.argv[2]); from grading.tree import remove_tree; "
        "root = sys.argv[1] + '/tree'; os.makedirs(root + '/a/b/c'); open(root + '/a/b/c/f', 'w').close(); "
        "os.chmod(root + '/a/b/c', 0o500); os.chmod(root + '/a/b', 0o555); os.chmod(root + '/a', 0); "
        "remove_tree(root); print('gone' if not os.path.exists(root) else 'left')"
    )
    repo = str(Path(__file__).resolve().parents[1])
    user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    try:
        run = subprocess.run(
            [*user, sys.executable, "-c", script, str(base), repo], capture_output=True, text=True, timeout=60
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if "Permission denied" in run.stderr and "grading" not in run.stderr:
        pytest.skip(f"the other user cannot run this Python: {run.stderr[-200:]}")
    assert run.stdout.strip() == "gone", run.stderr[-2000:]
