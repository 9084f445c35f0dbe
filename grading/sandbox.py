"""A Jupyter kernel launcher that runs each grading kernel inside bubblewrap.

Installed as the kernelspec ``course-sandbox`` (``python -m grading.sandbox
--install``, run by ``make setup``), whose ``argv`` is::

    <venv python> -I -m grading.sandbox [--memory BYTES ...] {connection_file}

The launcher reads the connection file, prepares the bounds below, and replaces
itself (``os.execvp``) with ``bwrap ... -- <venv python> -m ipykernel_launcher -f
<connection file>``; it never runs the kernel unsandboxed. ``-I`` keeps the
launcher, which runs outside the sandbox, from importing modules out of the
folder it is started in (nbgrader starts kernels in the student's folder).

Clients must use IPC transport with an absolute socket path, e.g.
``KernelManager(kernel_name="course-sandbox", transport="ipc", ip="/abs/dir/kernel")``
(nbgrader: ``c.KernelManager.transport = "ipc"`` and ``c.KernelManager.ip``):
the kernel has no network, so TCP loopback cannot reach it. Interrupts are sent
as messages (``interrupt_mode: message``), since a signal to bubblewrap would
not reach the kernel.

What the kernel sees (an allow-list; nothing else of the host is there)
-----------------------------------------------------------------------
* read-only: ``/usr`` (and ``/bin``, ``/sbin``, ``/lib*``, symlinks or binds as
  on the host); a short list of harmless ``/etc`` files (dynamic linker cache,
  ``passwd``/``group``, time zone, ``hosts``, MIME types, CA certificates, ...;
  not ``shadow``, ``ssh/``, ``pip.conf``, ``npmrc`` or other credentials); the
  Python installation (``sys.base_prefix``, only that folder even when it lives
  under ``/root``); the venv (``sys.prefix``); the ``helpers`` package folder
  (the venv's editable finder points there, so ``import helpers`` works while
  ``import grading`` and every other file of the repository fail); the course
  data cache (``$COURSE_DATA_DIR`` or ``~/.cache/cnn-vision-course``, when it
  exists) at ``/course-data``;
* a copy of the connection file (read-only, its socket path rewritten) at
  ``/run/course-sandbox/connection.json`` and the folder holding the IPC
  sockets, read-write, at ``/run/course-sandbox/ipc``. It is on the host's disk, so where
  Linux has Landlock (5.13 and later; this machine's 6.18 has ABI 7) the
  kernel may only create sockets and remove files there (:data:`LANDLOCK_BOOT`
  runs before the kernel): no file, folder, link or FIFO, nothing written or
  moved in. The grader (``grading.channel.SocketFolderWatch``) also lists it
  ten times a second and kills a kernel that leaves anything but sockets there,
  or too many;
* writable: only a fresh, size-bounded tmpfs at ``/tmp`` (``--scratch-size``):
  the working directory ``/tmp/work`` and the home ``/tmp/home`` (``HOME``,
  ``IPYTHONDIR``, ``MPLCONFIGDIR``); ``/dev/shm`` is a 64 MiB tmpfs (enough
  for ``multiprocessing`` locks); ``/`` and ``/dev`` are read-only; ``--dev
  /dev`` and ``--proc /proc`` (showing only the sandbox's processes). The
  student's own folder is *not* there: a notebook cannot read files next to it;
* a cleared environment holding only ``PATH``, ``HOME``, ``IPYTHONDIR``,
  ``MPLCONFIGDIR``, ``LANG``, ``PYTHONNOUSERSITE``, ``PYTHONDONTWRITEBYTECODE``,
  ``COURSE_OFFLINE=1``, ``COURSE_DEVICE=cpu``, ``COURSE_SANDBOXED=1``,
  ``COURSE_DATA_DIR`` (when the cache is bound), ``OMP_NUM_THREADS`` /
  ``MKL_NUM_THREADS`` and ``COURSE_SIMULATED_POPULATION`` (passed through when set: the
  trusted test runner loads the same data as the kernel), ``JPY_PARENT_PID=1`` (the
  client's PID means nothing in the new PID namespace; 1 tells ipykernel there
  is no parent to watch) and ``PWD`` (set by bubblewrap);
* new user, network (only a downed loopback), PID, IPC, UTS and cgroup
  namespaces, a new session (no ``TIOCSTI`` into the grader's terminal), no
  capabilities, no further user namespaces (``--disable-userns``), no new
  privileges (bubblewrap always sets it); the kernel dies with its launcher.

Bounds
------
Defaults: ``--memory 8G --address-space 8G --file-size 256M --pids 512
--scratch-size 1G --open-files 1024`` (sizes in bytes, or with K, M, G).

Per process (``setrlimit`` in the launcher, inherited by everything it starts,
which cannot raise them): address space = ``--address-space`` (a single huge
allocation raises ``MemoryError``; it is virtual memory, so keep it well above
what ``import torch`` reserves, about 1 GiB), file size =
``--file-size`` (writing more raises ``OSError: [Errno 27] File too large``),
open files = ``--open-files``, core dumps off.

Per kernel, when the launcher may create cgroups (on this machine, as root:
cgroup v1 ``memory`` and ``pids`` hierarchies are mounted read-write; the
cgroup2 hierarchy has neither controller): a child cgroup
``<own cgroup>/course-sandbox/kernel-<pid>`` in each hierarchy, which the
launcher joins before it execs bubblewrap, with a memory limit of ``--memory``
(counts every process of the kernel *and* its tmpfs pages; swap is limited to
the same value where swap accounting exists; going over gets the largest
process of the kernel OOM-killed) and ``pids.max = --pids`` (processes and
threads; ``fork`` fails with ``EAGAIN`` beyond it). Empty cgroups of earlier
kernels whose launcher is gone are removed at each launch; the one of the last
kernel stays until the next launch. The in-memory folders are bounded anyway by
their tmpfs sizes, and the kernel's CPU time by nbgrader's cell timeout.

Without cgroups (not root, or no writable hierarchy) the launcher says so on
stderr and only the per-process limits hold, plus ``RLIMIT_NPROC`` = the user's
current processes + ``--pids`` (counted over all of the user's processes, and
ignored by Linux for root, whose fork bombs are then bounded only by the
system); the kernel's total memory is then bounded only by the tmpfs sizes plus
the address-space limit times the number of processes.

Checked on the course machine (Linux 6.18, root, cgroup v1) by
``tests/test_sandbox_kernel.py``: with ``--memory 640M --pids 48`` a child
filling ``/tmp`` is OOM-killed after about 576 MiB and ``fork`` fails after 34
children (the kernel has about a dozen threads), and the kernel survives both.

Needs Linux and bubblewrap >= 0.8 (``--size``, ``--disable-userns``; Debian
package ``bubblewrap``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

KERNEL_NAME = "course-sandbox"
DISPLAY_NAME = "Python 3 (course grading sandbox)"

DEFAULT_MEMORY = 8 * 1024**3
DEFAULT_ADDRESS_SPACE = 8 * 1024**3
DEFAULT_FILE_SIZE = 256 * 1024**2
DEFAULT_PIDS = 512
DEFAULT_SCRATCH_SIZE = 1024**3
DEFAULT_OPEN_FILES = 1024
SHM_SIZE = 64 * 1024**2

# paths inside the sandbox
SCRATCH = "/tmp"
WORK = "/tmp/work"
HOME = "/tmp/home"
CONNECTION = "/run/course-sandbox/connection.json"
IPC = "/run/course-sandbox/ipc"  # the host's IPC socket folder, outside the scratch tmpfs (see LANDLOCK_BOOT)
DATA = "/course-data"

CGROUP_FOLDER = "course-sandbox"
CONTROLLERS = ("memory", "pids")

_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = (
    "alternatives",
    "fonts",
    "gai.conf",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "mtab",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "protocols",
    "services",
    "ssl/certs",
    "ssl/openssl.cnf",
    "timezone",
)
# Runs first inside the sandbox (``python -I -c``; the repository's modules are not visible there), then
# execs the kernel. With Landlock (Linux >= 5.13), the kernel and everything it starts may, in the IPC
# socket folder (the one writable folder on the host's disk), only create sockets and remove files:
# no regular file, folder, link or FIFO can be made there, and nothing can be moved in or written. The
# scratch tmpfs (/tmp), /dev and /proc keep every right; everything else is read-only anyway.
LANDLOCK_BOOT = r"""
import ctypes, os, sys
ipc, command = sys.argv[1], sys.argv[2:]
libc = ctypes.CDLL(None, use_errno=True)
abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
if abi >= 1:
    SOCKET, REMOVE_FILE = 1 << 9, 1 << 5
    handled = (1 << 1) | (1 << 4) | REMOVE_FILE | (1 << 6) | (1 << 7) | (1 << 8) | SOCKET | (1 << 10) | (1 << 11)
    handled |= (1 << 12) | ((1 << 13) if abi >= 2 else 0) | ((1 << 14) if abi >= 3 else 0)
    class Ruleset(ctypes.Structure):
        _fields_ = [("handled_access_fs", ctypes.c_uint64)]
    class Beneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]
    ruleset = libc.syscall(444, ctypes.byref(Ruleset(handled)), ctypes.c_size_t(8), ctypes.c_uint32(0))
    ok = ruleset >= 0
    for path, allowed in (("/tmp", handled), ("/dev", handled), ("/proc", handled), (ipc, SOCKET | REMOVE_FILE)):
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = Beneath(allowed, fd)
        ok = ok and libc.syscall(445, ruleset, ctypes.c_int(1), ctypes.byref(rule), ctypes.c_uint32(0)) == 0
        os.close(fd)
    ok = ok and libc.prctl(38, 1, 0, 0, 0) == 0 and libc.syscall(446, ruleset, ctypes.c_uint32(0)) == 0
    if not ok:
        sys.exit("course sandbox: Landlock is available but could not be applied: " + os.strerror(ctypes.get_errno()))
else:
    print("course sandbox: no Landlock here; the grader's watch alone guards the IPC socket folder", file=sys.stderr)
os.execv(command[0], command)
"""

_NOT_AVAILABLE = (
    "course sandbox: bubblewrap is not available (the bwrap program is missing or cannot create "
    "namespaces here), so the kernel is not started; install it with: apt-get install bubblewrap"
)


class SandboxError(RuntimeError):
    """The kernel cannot be started in the sandbox (the message says why)."""


# --------------------------------------------------------------------------- sandbox layout


def _expose(path: str, args: list[str]) -> None:
    """Show host ``path`` at the same place, read-only: a symlink as a symlink, else a bind."""
    if os.path.islink(path):
        args += ["--symlink", os.readlink(path), path]
    elif os.path.exists(path):
        args += ["--ro-bind", path, path]


def _ro_bind_tree(folder: str | Path, args: list[str]) -> None:
    """Bind ``folder`` read-only at its path and, if different, at its resolved path."""
    seen = []
    for path in (os.path.abspath(folder), os.path.realpath(folder)):
        if path not in seen and os.path.isdir(path):
            seen.append(path)
            args += ["--ro-bind", path, path]


def helpers_folder() -> Path | None:
    """The folder of the ``helpers`` package when it lives outside the venv (editable install)."""
    spec = importlib.util.find_spec("helpers")
    if spec is None or not spec.origin:
        return None
    folder = Path(spec.origin).resolve().parent
    inside = any(folder.is_relative_to(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix))
    return None if inside else folder


def data_cache() -> Path | None:
    """The course data cache of :func:`helpers.data.cache_dir`, when it exists."""
    default = Path.home() / ".cache" / "cnn-vision-course"
    folder = Path(os.environ.get("COURSE_DATA_DIR") or default).resolve()
    return folder if folder.is_dir() else None


def _environment(cache: Path | None) -> dict[str, str]:
    """The kernel's whole environment (an allow-list)."""
    env = {
        "PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": HOME,
        "IPYTHONDIR": f"{HOME}/.ipython",
        "MPLCONFIGDIR": f"{HOME}/.config/matplotlib",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "COURSE_OFFLINE": "1",
        "COURSE_DEVICE": "cpu",
        "COURSE_SANDBOXED": "1",
        # ipykernel watches the process JPY_PARENT_PID names (and exits when it cannot see
        # it): the client's PID means nothing in the new PID namespace, 1 means "no parent
        # to watch" (and no console banner); --die-with-parent ends the kernel instead.
        "JPY_PARENT_PID": "1",
    }
    if cache is not None:
        env["COURSE_DATA_DIR"] = DATA
    # the thread counts, and the simulated population the grader's own (trusted) setup loads, so that the
    # student's kernel and the tests see the same data
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "COURSE_SIMULATED_POPULATION"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def sandbox_args(scratch_size: int = DEFAULT_SCRATCH_SIZE) -> list[str]:
    """bubblewrap options for the kernel's namespaces, file system and environment.

    Everything but the IPC socket folder and the connection file, which
    :func:`kernel_command` adds.
    """
    args = ["--unshare-user", "--disable-userns", "--unshare-net", "--unshare-pid", "--unshare-ipc"]
    args += ["--unshare-uts", "--hostname", "course-sandbox", "--unshare-cgroup-try"]
    args += ["--new-session", "--die-with-parent"]
    if os.geteuid() == 0:
        args += ["--cap-drop", "ALL"]
    cache = data_cache()
    args.append("--clearenv")
    for name, value in _environment(cache).items():
        args += ["--setenv", name, value]
    for path in _SYSTEM:
        _expose(path, args)
    args += ["--dir", "/etc"]
    for name in _ETC:
        _expose(f"/etc/{name}", args)
    # the scratch tmpfs first: the Python install, the venv or the repository may live under /tmp
    # (a CI clone), and what is bound after it shows through it, read-only
    args += ["--size", str(scratch_size), "--tmpfs", SCRATCH, "--dir", WORK, "--dir", HOME]
    for folder in (sys.base_prefix, sys.prefix):
        _ro_bind_tree(folder, args)
    helpers = helpers_folder()
    if helpers is not None:
        _ro_bind_tree(helpers, args)
    if cache is not None:
        args += ["--ro-bind", str(cache), DATA]
    args += ["--dev", "/dev", "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    args += ["--proc", "/proc", "--chdir", WORK]
    return args


def available() -> bool:
    """True when bubblewrap is installed and can build the kernel's sandbox here."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    probe = [bwrap, *sandbox_args(), "--remount-ro", "/", "--", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _protected() -> list[Path]:
    """Folders the IPC socket folder must neither be nor contain (it is bound read-write)."""
    folders = [Path.home(), Path(__file__).resolve().parents[1], Path(sys.prefix), Path(sys.base_prefix)]
    folders += [Path(WORK), Path(HOME)]
    return [f.resolve() for f in folders]


def _ipc_folder(connection: dict, connection_file: Path) -> Path:
    """The folder of the kernel's IPC sockets, checked to be safe to bind read-write.

    It must hold nothing but sockets (and possibly this kernel's connection
    file): not the Jupyter runtime folder with other kernels' keys, not a folder
    of files.
    """
    transport = connection.get("transport", "tcp")
    if transport != "ipc":
        raise SandboxError(
            f"the connection file asks for {transport!r} transport, but the sandbox has no network; "
            'start the kernel with IPC transport and an absolute path (KernelManager transport="ipc", '
            'ip="/abs/dir/kernel")'
        )
    ip = str(connection.get("ip", ""))
    if not os.path.isabs(ip):
        raise SandboxError(
            f"the IPC socket path {ip!r} is relative: the kernel runs in another folder than its "
            "client, so give an absolute path (KernelManager.ip)"
        )
    folder = Path(os.path.dirname(ip)).resolve()
    if not folder.is_dir():
        raise SandboxError(f"the IPC socket folder {folder} does not exist")
    inside = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, helpers_folder() or sys.prefix)]
    if (
        len(folder.parts) < 3
        or any(p.is_relative_to(folder) for p in _protected())
        or any(folder.is_relative_to(p) for p in inside)
    ):
        raise SandboxError(
            f"the IPC socket folder {folder} is bound read-write into the sandbox, so it must be a "
            "folder of its own (not /, a top-level folder, a folder holding the home or the "
            "repository, or a folder inside the Python environment)"
        )
    strays = [
        entry.name
        for entry in os.scandir(folder)
        if not stat.S_ISSOCK(entry.stat(follow_symlinks=False).st_mode) and Path(entry.path) != connection_file
    ]
    if strays:
        raise SandboxError(
            f"the IPC socket folder {folder} is bound read-write into the sandbox, so it must hold "
            f"nothing but the kernels' sockets; it also holds {', '.join(sorted(strays)[:3])}"
        )
    return folder


def kernel_command(connection_file: str | Path, scratch_size: int = DEFAULT_SCRATCH_SIZE) -> list[str]:
    """The full command line that runs the kernel of ``connection_file`` in the sandbox.

    Raises
    ------
    SandboxError
        When bubblewrap is missing, or the connection file is unreadable or not
        for IPC transport with an absolute socket path in a folder of its own.
    """
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxError(_NOT_AVAILABLE.removeprefix("course sandbox: "))
    path = Path(connection_file).resolve()
    try:
        connection = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SandboxError(f"cannot read the connection file {path}: {err}") from err
    ipc = _ipc_folder(connection, path)
    # the kernel's copy of the connection file names the socket folder where the sandbox shows it
    inside = dict(connection, ip=f"{IPC}/{os.path.basename(str(connection['ip']))}")
    copy = os.memfd_create("course-connection", 0)
    os.write(copy, json.dumps(inside).encode())
    os.lseek(copy, 0, os.SEEK_SET)
    os.set_inheritable(copy, True)  # read by bubblewrap (--file), which the launcher execs
    args = sandbox_args(scratch_size)
    args += ["--bind", str(ipc), IPC, "--file", str(copy), CONNECTION, "--remount-ro", "/"]
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", CONNECTION]
    return [bwrap, *args, "--", sys.executable, "-I", "-c", LANDLOCK_BOOT, IPC, *kernel]


# --------------------------------------------------------------------------- bounds


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def _cgroup_parents() -> dict[str, tuple[Path, int]]:
    """For each of :data:`CONTROLLERS`: the folder of this process's cgroup and the cgroup version.

    cgroup v1 hierarchies are preferred; a cgroup2 folder counts only when the
    controller is enabled for its children (``cgroup.subtree_control``).
    """
    v1: dict[str, tuple[str, str]] = {}
    unified = None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) < 5 or len(rest) < 3:
            continue
        mount = (_unescape(fields[3]), _unescape(fields[4]))
        if rest[0] == "cgroup":
            for option in rest[2].split(","):
                if option in CONTROLLERS:
                    v1.setdefault(option, mount)
        elif rest[0] == "cgroup2" and unified is None:
            unified = mount

    def folder(mount: tuple[str, str], path: str) -> Path | None:
        relative = os.path.relpath(path, mount[0])
        return None if relative.startswith("..") else Path(os.path.normpath(Path(mount[1]) / relative))

    found: dict[str, tuple[Path, int]] = {}
    v2_path = None
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if not controllers:
            v2_path = path
        for name in controllers.split(","):
            if name in v1 and (where := folder(v1[name], path)) is not None:
                found[name] = (where, 1)
    if unified is not None and v2_path is not None and (where := folder(unified, v2_path)) is not None:
        try:
            enabled = (where / "cgroup.subtree_control").read_text().split()
        except OSError:
            enabled = []
        for name in CONTROLLERS:
            if name in enabled and name not in found:
                found[name] = (where, 2)
    return found


def _limit_files(controller: str, version: int, memory: int, pids: int) -> list[tuple[str, int, bool]]:
    """(file, value, required) for the limits of one controller."""
    if controller == "pids":
        return [("pids.max", pids, True)]
    if version == 1:
        return [("memory.limit_in_bytes", memory, True), ("memory.memsw.limit_in_bytes", memory, False)]
    return [("memory.max", memory, True), ("memory.swap.max", 0, False)]


def _remove_stale(folder: Path) -> None:
    """Remove the cgroups of kernels whose launcher (bubblewrap) has ended; busy ones stay."""
    for group in folder.glob("kernel-*"):
        pid = group.name.removeprefix("kernel-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            try:
                group.rmdir()
            except OSError:
                pass


def _prepare(parent: Path, version: int, controller: str, name: str) -> Path:
    """Create ``parent/course-sandbox/name`` (and clear stale kernels' cgroups next to it)."""
    base = parent / CGROUP_FOLDER
    base.mkdir(exist_ok=True)
    if version == 2:
        (base / "cgroup.subtree_control").write_text(f"+{controller}")
    _remove_stale(base)
    group = base / name
    group.mkdir(exist_ok=True)
    return group


def enter_cgroups(memory: int, pids: int) -> tuple[list[str], list[str]]:
    """Move this process into a new cgroup per controller with the kernel's limits.

    Returns
    -------
    held : list of str
        The controllers whose limits now apply (e.g. ``["memory", "pids"]``).
    problems : list of str
        Why the others do not.
    """
    pid = os.getpid()
    held, problems = [], []
    try:
        parents = _cgroup_parents()
    except OSError as err:
        return [], [f"cannot read this process's cgroups: {err}"]
    for controller in CONTROLLERS:
        if controller not in parents:
            problems.append(f"{controller}: no cgroup hierarchy with this controller")
            continue
        parent, version = parents[controller]
        group = None
        try:
            group = _prepare(parent, version, controller, f"kernel-{pid}")
            for file, value, required in _limit_files(controller, version, memory, pids):
                if required or (group / file).exists():
                    (group / file).write_text(str(value))
            (group / "cgroup.procs").write_text(str(pid))
        except OSError as err:
            problems.append(f"{controller}: {err}")
            if group is not None:
                try:
                    group.rmdir()
                except OSError:
                    pass
            continue
        held.append(controller)
    return held, problems


def cgroup_controllers() -> set[str]:
    """Controllers for which a kernel cgroup with limits can be made here (probed, then removed)."""
    usable = set()
    try:
        parents = _cgroup_parents()
    except OSError:
        return usable
    for controller, (parent, version) in parents.items():
        try:
            group = _prepare(parent, version, controller, f"probe-{os.getpid()}")
        except OSError:
            continue
        file = _limit_files(controller, version, 0, 0)[0][0]
        if (group / file).exists():
            usable.add(controller)
        try:
            group.rmdir()
        except OSError:
            pass
    return usable


def _user_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        try:
            count += entry.name.isdigit() and entry.stat().st_uid == uid
        except OSError:
            pass
    return count


def set_rlimits(address_space: int, file_size: int, open_files: int, pids: int | None = None) -> None:
    """Lower this process's resource limits (inherited by bubblewrap and the kernel).

    ``pids``, when given, sets ``RLIMIT_NPROC`` to the user's current process
    count plus ``pids`` (ignored by Linux for root).
    """
    limits = {
        resource.RLIMIT_AS: address_space,
        resource.RLIMIT_FSIZE: file_size,
        resource.RLIMIT_NOFILE: open_files,
        resource.RLIMIT_CORE: 0,
    }
    if pids is not None:
        limits[resource.RLIMIT_NPROC] = _user_processes() + pids
    for which, value in limits.items():
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


# --------------------------------------------------------------------------- kernelspec and CLI


def install(
    prefix: str | Path = sys.prefix,
    *,
    name: str = KERNEL_NAME,
    memory: int | None = None,
    address_space: int | None = None,
    file_size: int | None = None,
    pids: int | None = None,
    scratch_size: int | None = None,
    open_files: int | None = None,
) -> Path:
    """Write the sandboxed kernelspec ``<prefix>/share/jupyter/kernels/<name>/kernel.json``.

    Parameters
    ----------
    prefix : str or Path
        Installation prefix; the default (the venv) is on Jupyter's data path.
        For another prefix, put ``<prefix>/share/jupyter`` on ``JUPYTER_PATH``.
    name : str
        Kernel name.
    memory, address_space, file_size, pids, scratch_size, open_files : int, optional
        Limits written into the kernel's ``argv``; the launcher's defaults otherwise.

    Returns
    -------
    Path
        The kernelspec folder.
    """
    options = {
        "--memory": memory,
        "--address-space": address_space,
        "--file-size": file_size,
        "--pids": pids,
        "--scratch-size": scratch_size,
        "--open-files": open_files,
    }
    argv = [sys.executable, "-I", "-m", "grading.sandbox"]
    for flag, value in options.items():
        if value is not None:
            argv += [flag, str(int(value))]
    argv.append("{connection_file}")
    spec = {
        "argv": argv,
        "display_name": DISPLAY_NAME if name == KERNEL_NAME else f"{DISPLAY_NAME} [{name}]",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
    return folder


def parse_size(text: str) -> int:
    """A byte count: an integer, optionally with a binary suffix K, M or G (``512M``)."""
    match = re.fullmatch(r"(\d+)([KMG]?)(i?B)?", text.strip(), re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size in bytes: {text!r} (e.g. 4G, 512M)")
    return int(match[1]) * 1024 ** " KMG".index(match[2].upper() or " ")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grading.sandbox",
        description="Start a Jupyter kernel inside the course's bubblewrap sandbox, or install its kernelspec.",
    )
    parser.add_argument("connection_file", nargs="?", help="the kernel's connection file (from Jupyter)")
    parser.add_argument("--install", action="store_true", help="write the kernelspec and exit")
    parser.add_argument("--prefix", default=sys.prefix, help="with --install: prefix (default: the venv)")
    parser.add_argument("--name", default=KERNEL_NAME, help="with --install: kernel name")
    parser.add_argument("--memory", type=parse_size, default=None, help="memory of the whole kernel (default 8G)")
    parser.add_argument("--address-space", type=parse_size, default=None, help="per process (default 8G)")
    parser.add_argument("--file-size", type=parse_size, default=None, help="largest file written (default 256M)")
    parser.add_argument("--pids", type=int, default=None, help="processes and threads (default 512)")
    parser.add_argument("--scratch-size", type=parse_size, default=None, help="size of the /tmp tmpfs (default 1G)")
    parser.add_argument("--open-files", type=int, default=None, help="open files per process (default 1024)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Install the kernelspec (``--install``) or exec the sandboxed kernel; 2 when it cannot."""
    args = _parser().parse_args(argv)
    if args.install:
        folder = install(
            args.prefix,
            name=args.name,
            memory=args.memory,
            address_space=args.address_space,
            file_size=args.file_size,
            pids=args.pids,
            scratch_size=args.scratch_size,
            open_files=args.open_files,
        )
        print(f"course sandbox: kernelspec {args.name!r} written to {folder}")
        return 0
    if not args.connection_file:
        _parser().error("the connection file is required (or --install)")
    memory = args.memory or DEFAULT_MEMORY
    pids = args.pids or DEFAULT_PIDS
    scratch_size = args.scratch_size or DEFAULT_SCRATCH_SIZE
    if not available():
        print(_NOT_AVAILABLE, file=sys.stderr, flush=True)
        return 2
    try:
        command = kernel_command(args.connection_file, scratch_size)
    except SandboxError as err:
        print(f"course sandbox: {err}", file=sys.stderr, flush=True)
        return 2
    held, problems = enter_cgroups(memory, pids)
    if problems:
        print(
            f"course sandbox: no cgroup limit for {'; '.join(problems)}; only per-process limits hold for those",
            file=sys.stderr,
            flush=True,
        )
    set_rlimits(
        args.address_space or DEFAULT_ADDRESS_SPACE,
        args.file_size or DEFAULT_FILE_SIZE,
        args.open_files or DEFAULT_OPEN_FILES,
        None if "pids" in held else pids,
    )
    os.execvp(command[0], command)
    return 2  # not reached


if __name__ == "__main__":
    sys.exit(main())
