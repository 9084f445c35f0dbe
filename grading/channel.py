"""The grader's side of the student's kernel: every message counted as it arrives, the socket folder watched.

Two guards, each independent of nbclient's bookkeeping and tested in process:

* :class:`MessageBudget` and :func:`bound_channels`: every frame of every message on the
  two channels the grader opens, shell and iopub (iopub outputs, display updates, comm and
  widget traffic, shell replies, output while a test calls the student's code) is counted
  when it is received, before it is decoded or stored. ZeroMQ itself refuses a frame larger than the per-frame bound
  (``MAXMSGSIZE``: the connection is dropped), a message may have at most
  :data:`MAX_PARTS` frames, and past the notebook's byte budget the grader stops reading
  and the kernel is killed; the notebook is then graded on what ran before.
* :class:`SocketFolderWatch`: the IPC socket folder, the sandboxed kernel's one folder on the
  host's disk, is listed (flat, by descriptor, never followed) ten times a second; anything
  but a socket, more than ``max_entries`` entries, or a folder file larger than
  ``max_bytes`` gets the kernel killed. (Where Linux has Landlock the sandbox already lets
  the kernel create nothing but sockets there; this watch is the second wall.)
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import zmq

#: Frames one Jupyter message may have: identities, delimiter, signature, four dicts and a few buffers.
MAX_PARTS = 64
#: Bytes charged for each JSON container ({ or [) in a frame, on top of the frame's length: decoded, a small
#: container costs a Python dict or list (and nbformat's NotebookNode) far larger than its two bytes on the wire.
CONTAINER_BYTES = 128


class BudgetExceeded(RuntimeError):
    """The kernel sent more than the grader reads (the message says which bound)."""


class MessageBudget:
    """Bytes the kernel may send to the grader over one notebook, counted frame by frame.

    Parameters
    ----------
    max_bytes : int
        Bytes of all messages on all channels together.
    on_exceeded : callable
        ``on_exceeded(reason)``, called once when a bound is first exceeded (it kills the kernel).
    """

    def __init__(self, max_bytes: int, on_exceeded: Callable[[str], None]):
        self.max_bytes = max_bytes
        self.used = 0
        self.exceeded: str | None = None
        self._on_exceeded = on_exceeded

    def charge(self, nbytes: int) -> None:
        """Count ``nbytes`` just received; raise :class:`BudgetExceeded` past the budget (and from then on)."""
        self.used += nbytes
        if self.exceeded is None and self.used > self.max_bytes:
            self.fail(f"the kernel sent more than {self.max_bytes >> 20} MiB of messages")
        if self.exceeded is not None:
            raise BudgetExceeded(self.exceeded)

    def fail(self, reason: str) -> None:
        if self.exceeded is None:
            self.exceeded = reason
            self._on_exceeded(reason)
        raise BudgetExceeded(self.exceeded)


def bounded_context(max_frame_bytes: int, receive_queue: int = 1000) -> zmq.asyncio.Context:
    """A ZeroMQ context whose sockets refuse frames over ``max_frame_bytes``.

    ``MAXMSGSIZE`` is checked by ZeroMQ on each frame's length before the frame is read;
    ``RCVHWM`` bounds how many messages wait unread (ZeroMQ's default, 1000: fewer could drop an
    honest notebook's burst of outputs, and with it the kernel's "idle" message).
    """
    import zmq.asyncio

    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, max_frame_bytes)
    context.setsockopt(zmq.RCVHWM, receive_queue)
    context.setsockopt(zmq.LINGER, 0)
    return context


async def receive_counted(socket, budget: MessageBudget) -> list:
    """One multipart message from ``socket``, each frame charged to ``budget`` as it arrives (no copies)."""
    if budget.exceeded is not None:
        raise BudgetExceeded(budget.exceeded)
    frames = []
    while True:
        frame = await socket.recv(copy=False)
        budget.charge(len(frame) + CONTAINER_BYTES * _containers(frame))
        frames.append(frame)
        if not frame.more:
            return frames
        if len(frames) >= MAX_PARTS:
            budget.fail(f"the kernel sent a message of more than {MAX_PARTS} parts")


def _containers(frame) -> int:
    """How many JSON objects and arrays a frame could decode to (its ``{`` and ``[`` bytes), without copying it."""
    import numpy as np

    data = np.frombuffer(frame.buffer, dtype=np.uint8)
    return int(np.count_nonzero(data == ord("{")) + np.count_nonzero(data == ord("[")))


def bound_channels(client, budget: MessageBudget) -> None:
    """Make the shell and iopub channels of a started asyncio kernel client receive through :func:`receive_counted`.

    Start only the channels the grader reads (``start_channels(stdin=False, hb=False, control=False)``):
    ZeroMQ queues what arrives on a socket nobody reads, uncounted.
    """
    # only these two: reading a client's other channel attributes would create and connect their sockets
    for name in ("shell_channel", "iopub_channel"):
        channel = getattr(client, name, None)
        if channel is None or getattr(channel, "socket", None) is None:
            continue

        async def _recv(channel=channel, **_):
            frames = await receive_counted(channel.socket, budget)
            _, message = channel.session.feed_identities(frames, copy=False)
            return channel.session.deserialize(message, content=True, copy=False)

        channel._recv = _recv


def resident_bytes() -> int:
    """This process's resident memory, in bytes (Linux ``/proc/self/statm``; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class SocketFolderWatch:
    """Watch a kernel's IPC socket folder; call ``on_breach(reason)`` once if it holds anything but sockets.

    It also watches the grader's own resident memory (``max_growth`` bytes above what it was when the
    watch was made; 0: not watched): what the kernel sends is queued by ZeroMQ's I/O thread before any
    counting, and a message whose last frame never comes is never handed to the grader at all.

    Parameters
    ----------
    folder : Path or None
        The folder (flat: sockets only; nothing in it is ever followed or descended into); None: memory only.
    max_entries : int
        Most entries allowed (a kernel binds five sockets).
    max_bytes : int
        Largest size of the folder itself (its list of names), in bytes.
    on_breach : callable
        Called once, from the watching thread, with the reason.
    allowed : set of str
        Names that may be there without being sockets (the connection file, when it lives there).
    interval : float
        Seconds between two looks.
    max_growth : int
        Most bytes the grader's resident memory may grow by while the kernel runs (0: not watched).
    """

    def __init__(
        self,
        folder: Path,
        *,
        max_entries: int,
        max_bytes: int,
        on_breach: Callable[[str], None],
        allowed: frozenset[str] = frozenset(),
        interval: float = 0.1,
        max_growth: int = 0,
    ):
        self.folder = None if folder is None else Path(folder)
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.on_breach, self.allowed, self.interval = on_breach, allowed, interval
        # the grader's own memory: ZeroMQ's I/O thread queues what the kernel sends before anything counts it
        self.max_growth, self.baseline = max_growth, resident_bytes()
        self.breach: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="course-socket-watch", daemon=True)

    def start(self) -> SocketFolderWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def check(self) -> str | None:
        """Why the folder (or the grader's memory) breaks the rules now, or None."""
        if self.max_growth and self.baseline and resident_bytes() - self.baseline > self.max_growth:
            return f"the grader's memory grew by more than {self.max_growth >> 20} MiB while the kernel ran"
        if self.folder is None:
            return None
        try:
            fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as err:
            return f"the kernel's socket folder cannot be read ({err.strerror})"
        try:
            info = os.fstat(fd)
            if max(info.st_size, info.st_blocks * 512) > self.max_bytes:
                return f"the kernel made its socket folder's list of names larger than {self.max_bytes} bytes"
            count = 0
            with os.scandir(fd) as entries:
                for entry in entries:
                    count += 1
                    if count > self.max_entries:
                        return f"the kernel made more than {self.max_entries} entries in its socket folder"
                    try:
                        mode = os.stat(entry.name, dir_fd=fd, follow_symlinks=False).st_mode
                    except FileNotFoundError:
                        continue
                    if not stat.S_ISSOCK(mode) and entry.name not in self.allowed:
                        what = entry.name[:40]
                        return f"the kernel put something other than a socket in its socket folder ({what!r})"
        finally:
            os.close(fd)
        return None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            reason = self.check()
            if reason is not None:
                self.breach = reason
                self.on_breach(reason)
                return
