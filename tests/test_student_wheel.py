"""The student package as a student installs it: its wheel, in a clean virtual environment outside the repository.

``python -m build`` makes the wheel; its base install is the student's (``helpers`` and what the notebooks import:
no nbgrader, no Dask). It goes into a new virtual environment in a temporary folder, with the versions
requirements.txt pins (torch is the CPU build this machine keeps on disk), and every release notebook, with the
reference answers filled in, runs there in a kernel of that environment, from a folder that holds only that
notebook: nothing of the repository is on its path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from harness.notebooks import ROOT, assignments, reference_submission

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def student_env(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    # a copy of what the wheel is built from: building writes build/ and *.egg-info next to the sources
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    for package in ("helpers", "grading", "instructor"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = dist.glob("cnn_vision_course_helpers-*.whl")
    env = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    pins = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line]
    constraints = dist / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            # no byte-compiling of every installed module (torch's thousands: about 20 s of CPU); the kernels
            # below compile what they import, once (PYTHONDONTWRITEBYTECODE is cleared for them)
            "--no-compile",
            "-c",
            str(constraints),
            str(wheel),
            "ipykernel",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    subprocess.run(
        [str(python), "-m", "ipykernel", "install", "--prefix", str(env), "--name", "student-wheel"],
        check=True,
        capture_output=True,
    )
    return env, wheel


def test_the_wheel_installs_the_student_package_alone(student_env):
    env, wheel = student_env
    python = env / "bin" / "python"
    code = (
        "import importlib.util, helpers, pathlib, sys\n"
        "print(pathlib.Path(helpers.__file__).resolve().is_relative_to(pathlib.Path(sys.prefix).resolve()))\n"
        "print([m for m in ('nbgrader', 'distributed', 'dask') if importlib.util.find_spec(m)])"
    )
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=env.parent, check=True)
    assert run.stdout.split("\n")[:2] == ["True", "[]"], run.stdout


@pytest.mark.parametrize("assignment", assignments())
def test_a_release_notebook_runs_from_the_student_wheel_alone(student_env, tmp_path, monkeypatch, assignment):
    from nbclient import NotebookClient

    env, _ = student_env
    monkeypatch.setenv("JUPYTER_PATH", str(env / "share" / "jupyter"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # the first kernel writes what later ones read
    folder = tmp_path / assignment
    folder.mkdir()
    nb = reference_submission(assignment)
    nb.cells.append(nbformat.v4.new_code_cell("import sys, helpers\nprint('ran in', sys.prefix, helpers.__file__)"))
    nbformat.write(nb, folder / f"{assignment}.ipynb")
    assert [p.name for p in folder.iterdir()] == [f"{assignment}.ipynb"]
    client = NotebookClient(nb, timeout=600, kernel_name="student-wheel", resources={"metadata": {"path": str(folder)}})
    client.execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "coded exercises are answered" in printed and "Installing" not in printed
    where = next(line for line in printed.splitlines() if line.startswith("ran in "))
    prefix, module = where.split()[2:4]
    assert Path(prefix).resolve() == env.resolve() and Path(module).resolve().is_relative_to(env.resolve()), where
