"""The installed environment keeps process start cheap: every nbgrader, `course` and Dask worker process pays it."""

from __future__ import annotations

import subprocess
import sys


def test_starting_nbgrader_builds_no_iri_parser():
    """requirements.txt pins jsonschema below 4.25: later versions import rfc3987-syntax, which builds a Lark parser
    (about 0.9 s) whenever nbformat is imported, that is in every grading process."""
    code = "import sys, nbgrader.apps.nbgraderapp; print(sorted({'rfc3987_syntax', 'lark'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout


def test_the_student_package_needs_no_grader():
    """pyproject's base dependencies are what the notebooks need; nbgrader, Dask and the rest are the `grader`
    extra; and every helpers module imports with nbgrader, Dask and the instructor's packages absent."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    base = {dep.split(">")[0].split("=")[0].split("[")[0].strip().lower() for dep in project["dependencies"]}
    assert base == {"numpy", "torch", "matplotlib", "ipywidgets", "scipy"}, base
    assert {"nbgrader", "distributed"} <= {d.split(">")[0].lower() for d in project["optional-dependencies"]["grader"]}
    blocked = ["nbgrader", "distributed", "dask", "grading", "instructor", "psycopg", "tqdm"]
    code = (
        f"import sys\nfor name in {blocked!r}:\n    sys.modules[name] = None\n"
        "import helpers\nfor m in helpers.__all__:\n    __import__('helpers.' + m)\nprint('ok')"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == "ok", run.stderr[-2000:]


def test_jupyterlab_shows_no_news_pop_up():
    """`make setup` installs the course's JupyterLab settings (jupyter/overrides.json, also binder/postBuild): no
    news, no update check; the keys are JupyterLab's own (its installed settings schema)."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    wanted = json.loads((root / "jupyter" / "overrides.json").read_text())
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(installed.read_text()) == wanted
    plugin = "@jupyterlab/apputils-extension:notification"
    assert wanted[plugin] == {"fetchNews": "false", "checkForUpdates": False}
    package, name = plugin.split(":")
    schema = json.loads((Path(sys.prefix) / "share/jupyter/lab/schemas" / package / f"{name}.json").read_text())
    assert set(wanted[plugin]) <= set(schema["properties"])
    assert "cp jupyter/overrides.json" in (root / "binder" / "postBuild").read_text()
