"""The sandboxed grading kernel (grading/sandbox.py), probed from inside a real kernel.

Each kernel is started from a kernelspec written by :func:`grading.sandbox.install`
through jupyter_client with IPC transport, as nbgrader starts it. The probes run
in the kernel and report what they could do as JSON; the tests assert on that.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from grading import sandbox

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024**2

if not sandbox.available():
    if os.environ.get("CI", "").lower() in ("true", "1"):
        raise RuntimeError("CI must test the sandboxed grading kernel: install bubblewrap (see .ci/run)")
    pytest.skip("bubblewrap is not available: the sandboxed kernel is not tested here", allow_module_level=True)

SECRET = "COURSE_SANDBOX_TEST_SECRET"
ALLOWED_ENV = {
    "PATH",
    "HOME",
    "IPYTHONDIR",
    "MPLCONFIGDIR",
    "LANG",
    "PYTHONNOUSERSITE",
    "PYTHONDONTWRITEBYTECODE",
    "COURSE_OFFLINE",
    "COURSE_DEVICE",
    "COURSE_DATA_DIR",
    "COURSE_SANDBOXED",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "COURSE_SIMULATED_POPULATION",  # passed through: the grader's trusted setup loads the same data
    "JPY_PARENT_PID",  # set to 1: "no parent to watch" inside the PID namespace
    "PWD",  # set by bubblewrap's --chdir
}

# Runs in the kernel: every attempt is recorded as "ok: ..." or "blocked: <error>".
PRELUDE = """
import json as _json
_probe = {}
def _try(name, action):
    try:
        _probe[name] = "ok: " + repr(action())[:200]
    except BaseException as err:
        _probe[name] = "blocked: " + type(err).__name__ + ": " + str(err)[:200]
def _write(path, text="pwned"):
    with open(path, "w") as f:
        return f.write(text)
"""

PROBE = """
import os, resource, socket, sys
_try("import_helpers_torch", lambda: (__import__("helpers").__name__, float(__import__("torch").ones(3).sum())))
_try("import_grading", lambda: __import__("grading").__file__)
_try("read_helpers", lambda: len(open(os.path.join(REPO, "helpers", "data.py")).read()))
_try("list_source", lambda: os.listdir(os.path.join(REPO, "source")))
_try("read_readme", lambda: open(os.path.join(REPO, "README.md")).read(50))
_try("read_sandbox_py", lambda: open(os.path.join(REPO, "grading", "sandbox.py")).read(50))
_try("list_repo", lambda: os.listdir(REPO))
_try("read_bash_history", lambda: open(os.path.join(HOST_HOME, ".bash_history")).read(50))
_try("read_shadow", lambda: open("/etc/shadow").read(50))
_try("read_connection_file_host_path", lambda: open(CONNECTION_FILE).read(50))
_try("read_decoy", lambda: open(DECOY).read())

def _home_files():
    seen = []
    for folder, dirs, files in os.walk(HOST_HOME):
        if folder == BASE_PREFIX:
            dirs[:] = []
            continue
        seen += [os.path.join(folder, f) for f in files]
        seen += [os.path.join(folder, d) for d in dirs if not BASE_PREFIX.startswith(os.path.join(folder, d) + "/")
                 and os.path.join(folder, d) != BASE_PREFIX]
    return seen
_probe["home_files"] = _home_files()
_probe["tmp_entries"] = os.listdir("/tmp")
_probe["cwd"] = os.getcwd()
_probe["environ"] = dict(v.split("=", 1) for v in open("/proc/self/environ").read().split("\\0") if v)
_probe["secret_in_os_environ"] = SECRET in os.environ
_probe["data_file"] = open(os.path.join(os.environ["COURSE_DATA_DIR"], "probe.txt")).read()
import helpers.data
_probe["cache_dir"] = str(helpers.data.cache_dir())

for _name, _path in {
    "root": "/pwned", "usr": "/usr/pwned", "etc": "/etc/pwned", "dev": "/dev/pwned", "run": "/run/pwned",
    "venv": os.path.join(sys.prefix, "pwned"), "python": os.path.join(BASE_PREFIX, "pwned"),
    "helpers": os.path.join(REPO, "helpers", "pwned"), "repo": os.path.join(REPO, "pwned"),
    "data": os.path.join(os.environ["COURSE_DATA_DIR"], "pwned"), "connection": "/run/course-sandbox/connection.json",
    "host_home": os.path.join(HOST_HOME, "pwned"), "base_tmp": os.path.join(os.path.dirname(DECOY), "pwned"),
}.items():
    _try("write_" + _name, lambda: _write(_path))
_try("write_work", lambda: _write("/tmp/work/fine.txt", "fine"))
# the IPC socket folder, on the host's disk: sockets only (Landlock)
_IPC = "/run/course-sandbox/ipc"
_try("write_ipc", lambda: _write(_IPC + "/big.bin"))
_try("mkdir_ipc", lambda: os.mkdir(_IPC + "/tree"))
_try("symlink_ipc", lambda: os.symlink("/tmp/work", _IPC + "/link"))
_try("fifo_ipc", lambda: os.mkfifo(_IPC + "/fifo"))
_try("socket_ipc", lambda: socket.socket(socket.AF_UNIX).bind(_IPC + "/extra"))
_probe["ipc_entries"] = sorted(os.listdir(_IPC))
_try("write_home", lambda: _write(os.path.join(os.environ["HOME"], "fine.txt"), "fine"))

_try("tcp_to_host", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=3).sendall(b"pwned"))
_try("dns", lambda: socket.getaddrinfo("example.org", 80))
_probe["interfaces"] = [name for _, name in socket.if_nameindex()]
_probe["hostname"] = socket.gethostname()
_probe["pids"] = [p for p in os.listdir("/proc") if p.isdigit()]
_probe["cap_eff"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
_probe["rlimits"] = {n: resource.getrlimit(getattr(resource, "RLIMIT_" + n)) for n in ("AS", "FSIZE", "NOFILE", "CORE")}
_probe["tmp_size"] = os.statvfs("/tmp").f_blocks * os.statvfs("/tmp").f_frsize

def _fill(path, chunk, most):
    written = 0
    try:
        with open(path, "wb") as f:
            while written < most:
                f.write(b"x" * chunk)
                f.flush()
                written += chunk
    except OSError as err:
        return {"written": written, "error": err.errno}
    finally:
        os.remove(path)
    return {"written": written, "error": None}
_probe["big_file"] = _fill("/tmp/work/big", 16 * 2**20, FILE_SIZE + 64 * 2**20)
_probe["shm"] = _fill("/dev/shm/big", 2**20, 128 * 2**20)
print("PROBE" + _json.dumps(_probe))
"""

# Runs in the kernel with small limits: a fork bomb, then a child filling /tmp past the memory limit.
BOUNDS = """
import glob, os, subprocess, sys
_children = []
try:
    while len(_children) < 4 * PIDS:
        _children.append(subprocess.Popen(["sleep", "60"]))
except OSError as err:
    _probe["fork_error"] = err.errno
_probe["forked"] = len(_children)
for _c in _children:
    _c.kill()
    _c.wait()
_FILL = '''
import sys
open("/proc/self/oom_score_adj", "w").write("1000")  # the OOM killer picks this child, not the kernel
n = 0
while n < 200:
    with open(f"/tmp/fill-{n}", "wb") as f:
        for _ in range(8):
            f.write(b"x" * 2**22)
    n += 1
    print(n, flush=True)
'''
_run = subprocess.run([sys.executable, "-c", _FILL], capture_output=True, text=True)
_probe["fill_returncode"] = _run.returncode
_probe["fill_files"] = len(_run.stdout.split())
for _f in glob.glob("/tmp/fill-*"):
    os.remove(_f)
_probe["alive"] = True
print("PROBE" + _json.dumps(_probe))
"""


def run_probe(kc, code: str, timeout: float = 120) -> dict:
    """Execute ``code`` in the kernel and return the JSON it printed after ``PROBE``."""
    out: list[str] = []

    def hook(msg):
        content = msg["content"]
        if msg["msg_type"] == "stream":
            out.append(content["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(content["traceback"]))

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    text = "".join(out)
    assert reply["content"]["status"] == "ok", text
    return json.loads(text.split("PROBE", 1)[1])


class Kernel:
    """A sandboxed kernel started from an installed kernelspec, over IPC in its own folder."""

    def __init__(self, base: Path, env: dict[str, str], **limits):
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        spec = sandbox.install(base / "prefix", **limits)
        self.ipc = base / "ipc"
        self.ipc.mkdir()
        specs = KernelSpecManager(kernel_dirs=[str(spec.parent)])
        self.km = KernelManager(
            kernel_name=spec.name, kernel_spec_manager=specs, transport="ipc", ip=str(self.ipc / "kernel")
        )
        self.km.start_kernel(env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def stop(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """A TCP server on the host's loopback, and a decoy file in the host's temp folder."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    decoy = tmp_path_factory.mktemp("decoy") / "secret.txt"
    decoy.write_text("host secret")
    yield {"port": server.getsockname()[1], "decoy": decoy}
    server.close()


@pytest.fixture(scope="module")
def probe(tmp_path_factory, host):
    base = tmp_path_factory.mktemp("kernel")
    data = tmp_path_factory.mktemp("data")
    (data / "probe.txt").write_text("cached data")
    env = {**os.environ, SECRET: "do-not-leak", "COURSE_DATA_DIR": str(data)}
    kernel = Kernel(base, env, name="course-sandbox")
    try:
        constants = {
            "REPO": str(ROOT),
            "HOST_HOME": str(Path.home()),
            "BASE_PREFIX": sys.base_prefix,
            "CONNECTION_FILE": kernel.km.connection_file,
            "DECOY": str(host["decoy"]),
            "SECRET": SECRET,
            "PORT": host["port"],
            "FILE_SIZE": sandbox.DEFAULT_FILE_SIZE,
        }
        setup = "".join(f"{k} = {v!r}\n" for k, v in constants.items())
        result = run_probe(kernel.kc, PRELUDE + setup + PROBE)
    finally:
        kernel.stop()
    result["_ipc"] = str(kernel.ipc)
    result["_spec"] = json.loads((base / "prefix/share/jupyter/kernels/course-sandbox/kernel.json").read_text())
    return result


def blocked(probe, *names):
    return {n: probe[n] for n in names if not probe[n].startswith("blocked")}


def test_kernelspec_runs_the_launcher_with_message_interrupts(probe):
    spec = probe["_spec"]
    assert spec["argv"][0] == sys.executable and spec["argv"][-1] == "{connection_file}"
    assert spec["argv"][1:4] == ["-I", "-m", "grading.sandbox"]
    assert spec["interrupt_mode"] == "message" and spec["language"] == "python"
    assert spec["display_name"] == "Python 3 (course grading sandbox)"


def test_course_packages_import_but_not_the_grading_code(probe):
    assert probe["import_helpers_torch"] == "ok: ('helpers', 3.0)"
    assert probe["read_helpers"].startswith("ok")
    assert probe["import_grading"].startswith("blocked")


def test_repository_home_and_host_files_are_absent(probe):
    names = ["list_source", "read_readme", "read_sandbox_py", "read_bash_history", "read_shadow"]
    assert not blocked(probe, *names, "read_connection_file_host_path", "read_decoy")
    assert probe["list_repo"] == "ok: ['helpers', '.venv']"  # only what is bound, read-only
    assert probe["home_files"] == []  # only the folders leading to the Python installation
    # /tmp is the sandbox's own: its scratch folders (the IPC socket folder is at /run/course-sandbox/ipc)
    expected = {"work", "home"}
    # a repository or venv under /tmp (a CI clone) shows as the mount points of its read-only binds
    expected |= {p.parts[2] for p in (ROOT, Path(sys.prefix), Path(sys.base_prefix)) if p.is_relative_to("/tmp")}
    assert set(probe["tmp_entries"]) == expected


def test_environment_is_an_allow_list(probe):
    env = probe["environ"]
    assert set(env) <= ALLOWED_ENV, set(env) - ALLOWED_ENV
    assert SECRET not in env and not probe["secret_in_os_environ"]
    assert env["HOME"].startswith("/tmp/") and env["COURSE_SANDBOXED"] == "1"
    assert env["COURSE_OFFLINE"] == "1" and env["COURSE_DEVICE"] == "cpu" and env["LANG"] == "C.UTF-8"
    assert env["PATH"].split(":")[0] == f"{sys.prefix}/bin"
    assert env.get("JPY_PARENT_PID", "1") == "1"


def test_data_cache_is_readable_not_writable(probe):
    assert probe["data_file"] == "cached data"
    assert probe["cache_dir"] == probe["environ"]["COURSE_DATA_DIR"]
    assert probe["write_data"].startswith("blocked")


def test_only_the_scratch_folder_is_writable(probe):
    # a repository under /tmp (a CI clone) is, in the sandbox, a folder of its own throwaway /tmp
    scratch = ("write_work", "write_home", *(("write_repo",) if ROOT.is_relative_to("/tmp") else ()))
    writes = [k for k in probe if k.startswith("write_") and k not in scratch]
    assert len(writes) >= 11
    assert not blocked(probe, *writes)
    assert not (ROOT / "pwned").exists() and not (ROOT / "helpers" / "pwned").exists()
    assert probe["write_work"] == probe["write_home"] == "ok: 4"
    assert probe["cwd"] == "/tmp/work"


def test_the_socket_folder_takes_sockets_only(probe):
    """The one writable folder on the host's disk: Landlock lets the kernel make sockets there, nothing else."""
    assert not blocked(probe, "write_ipc", "mkdir_ipc", "symlink_ipc", "fifo_ipc")
    assert probe["socket_ipc"].startswith("ok")
    assert all(name.startswith("kernel-") or name == "extra" for name in probe["ipc_entries"])


def test_no_network(probe):
    assert probe["tcp_to_host"].startswith("blocked") and probe["dns"].startswith("blocked")
    assert probe["interfaces"] == ["lo"]


def test_namespaces_and_capabilities(probe):
    assert probe["hostname"] != socket.gethostname()
    assert len(probe["pids"]) < 10  # only the sandbox's own processes
    assert int(probe["cap_eff"], 16) == 0


def test_per_process_limits(probe):
    limits = probe["rlimits"]
    assert limits["AS"] == [sandbox.DEFAULT_ADDRESS_SPACE] * 2
    assert limits["FSIZE"] == [sandbox.DEFAULT_FILE_SIZE] * 2
    assert limits["NOFILE"] == [sandbox.DEFAULT_OPEN_FILES] * 2 and limits["CORE"] == [0, 0]
    assert probe["big_file"]["error"] == 27  # EFBIG
    assert probe["big_file"]["written"] <= sandbox.DEFAULT_FILE_SIZE


def test_in_memory_folders_are_bounded(probe):
    assert probe["tmp_size"] == sandbox.DEFAULT_SCRATCH_SIZE
    assert probe["shm"]["error"] == 28  # ENOSPC
    assert probe["shm"]["written"] <= sandbox.SHM_SIZE


@pytest.fixture(scope="module")
def bounds(tmp_path_factory):
    missing = {"memory", "pids"} - sandbox.cgroup_controllers()
    if missing:
        pytest.skip(f"no cgroup for {', '.join(sorted(missing))} here: only per-process limits hold")
    pids, memory = 48, 640 * MiB
    limits = dict(pids=pids, memory=memory, scratch_size=4 * memory, file_size=64 * MiB)
    kernel = Kernel(tmp_path_factory.mktemp("small"), dict(os.environ), name="course-sandbox-small", **limits)
    try:
        result = run_probe(kernel.kc, PRELUDE + f"PIDS = {pids}\n" + BOUNDS)
    finally:
        kernel.stop()
    return result, limits


def test_fork_bomb_is_bounded(bounds):
    result, limits = bounds
    assert result["fork_error"] == 11  # EAGAIN
    assert result["forked"] < limits["pids"]
    assert result["alive"]


def test_memory_limit_counts_the_scratch_folder(bounds):
    result, limits = bounds
    assert result["fill_returncode"] == -9  # OOM-killed, well before the 4x larger tmpfs is full
    assert result["fill_files"] * 32 * MiB <= limits["memory"]
    assert result["alive"]


def launcher(connection: dict, tmp_path: Path, path: str | None = None) -> subprocess.CompletedProcess:
    """Run the launcher on a connection file without a client; it must refuse."""
    file = tmp_path / "connection.json"
    file.write_text(json.dumps(connection))
    env = {**os.environ, "PATH": path} if path is not None else None
    return subprocess.run(
        [sys.executable, "-I", "-m", "grading.sandbox", str(file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        cwd=ROOT,
    )


def test_launcher_refuses_tcp_and_relative_sockets(tmp_path):
    tcp = launcher({"transport": "tcp", "ip": "127.0.0.1", "key": ""}, tmp_path)
    assert tcp.returncode == 2 and "no network" in tcp.stderr
    relative = launcher({"transport": "ipc", "ip": "kernel-ipc", "key": ""}, tmp_path)
    assert relative.returncode == 2 and "relative" in relative.stderr
    shared = launcher({"transport": "ipc", "ip": "/tmp/kernel", "key": ""}, tmp_path)
    assert shared.returncode == 2 and "folder of its own" in shared.stderr
    (tmp_path / "ipc").mkdir()
    (tmp_path / "ipc" / "other-kernel.json").write_text("{}")
    files = launcher({"transport": "ipc", "ip": str(tmp_path / "ipc" / "kernel"), "key": ""}, tmp_path)
    assert files.returncode == 2 and "other-kernel.json" in files.stderr


def test_launcher_without_bubblewrap_refuses_to_start(tmp_path):
    (tmp_path / "empty").mkdir()
    run = launcher({"transport": "ipc", "ip": str(tmp_path / "kernel"), "key": ""}, tmp_path, str(tmp_path / "empty"))
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert "bubblewrap is not available" in run.stderr and "apt-get install bubblewrap" in run.stderr


def test_folders_under_tmp_are_bound_after_the_scratch_tmpfs():
    """A venv or repository under /tmp (a CI clone) must show through the kernel's own /tmp."""
    args = sandbox.sandbox_args()
    scratch = args.index(sandbox.SCRATCH)
    assert args[scratch - 1] == "--tmpfs"
    binds = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    for folder in (sys.prefix, str(Path(sandbox.helpers_folder() or sys.prefix))):
        assert folder in binds
        assert args.index(folder) > scratch, f"{folder} is bound before the scratch tmpfs hides /tmp"


def test_the_simulated_population_reaches_the_kernel(monkeypatch):
    """The trusted test runner and the student's kernel load the same simulated data."""
    from grading import sandbox

    monkeypatch.setenv("COURSE_SIMULATED_POPULATION", "broad_noisy")
    monkeypatch.setenv("SOME_SECRET_VALUE", "x")
    env = sandbox._environment(None)
    assert env["COURSE_SIMULATED_POPULATION"] == "broad_noisy" and "SOME_SECRET_VALUE" not in env
    monkeypatch.delenv("COURSE_SIMULATED_POPULATION")
    assert "COURSE_SIMULATED_POPULATION" not in sandbox._environment(None)
