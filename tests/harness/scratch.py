"""A scratch nbgrader course folder driven through nbgrader's real command line.

:class:`Course` copies ``source/`` and the course's ``nbgrader_config.py`` into a
folder of its own, generates the assignments there through nbgrader's Python API with
that configuration (as ``course grade``'s workers do; it fills a real SQLite gradebook,
and spares a process start per assignment), and takes submissions through plain
`nbgrader autograde` and feedback.
Each student is autograded by a separate ``nbgrader`` process, so a submission
that breaks nbgrader is reported and the others are still graded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grading.hooks import SubmissionError, expected_notebooks, place_notebooks

from .notebooks import ROOT, notebook_path

BIN = Path(sys.executable).parent


def nbgrader_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for nbgrader: this venv first on PATH (nbgrader calls `alembic` by name)."""
    env = dict(os.environ)
    env.update(extra or {})
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env["COURSE_DEVICE"] = env.get("COURSE_GRADING_DEVICE", "cpu")
    return env


@dataclass
class Run:
    """What one nbgrader command did."""

    args: list[str]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def errors(self) -> list[str]:
        """nbgrader's ERROR lines, the first line of each."""
        return [line.strip() for line in self.output.splitlines() if "| ERROR]" in line]


@dataclass
class Graded:
    """The outcome of grading one submission."""

    student: str
    assignment: str
    scores: dict[str, float] | None
    notes: list[str]
    problem: str | None = None
    run: Run | None = None


class Course:
    """A scratch course folder with its own gradebook."""

    def __init__(self, root: Path, env: dict[str, str] | None = None, sandboxed: bool = False):
        self.root = Path(root).resolve()
        self.env = env or {}
        self.sandboxed = sandboxed

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    @classmethod
    def create(
        cls,
        root: Path,
        assignments: list[str],
        extra_config: str = "",
        sandbox: bool | None = None,
        notebooks: dict[str, nbformat.NotebookNode] | None = None,
    ) -> Course:
        """Make a fresh course folder at ``root`` and generate ``assignments`` in it.

        ``assignments`` are the course's own (``source/<name>``); ``notebooks`` adds assignments of
        one instructor notebook each (name -> notebook), for tests whose subject is not a tutorial.

        ``extra_config`` is appended to the course's nbgrader_config.py (e.g. a
        shorter cell timeout for tests). ``sandbox``: True requires the
        bubblewrap sandbox for grading kernels (the course's configuration,
        unchanged), False opts out of it explicitly
        (``c.TrustedExecute.allow_unsandboxed = True``), None (the default)
        uses it when it is available.
        """
        from grading import sandbox as sandboxing

        course = cls(root)
        if course.root.exists():
            shutil.rmtree(course.root)
        (course.root / "source").mkdir(parents=True)
        use_sandbox = sandboxing.available() if sandbox is None else sandbox
        if sandbox and not sandboxing.available():
            raise RuntimeError("the grading sandbox needs bubblewrap (apt-get install bubblewrap)")
        sandbox_config = ""
        if use_sandbox:
            from jupyter_client.kernelspec import find_kernel_specs

            if sandboxing.KERNEL_NAME not in find_kernel_specs():
                raise RuntimeError(f"the kernelspec {sandboxing.KERNEL_NAME!r} is not installed: run `make setup`")
            course.sandboxed = True
        else:
            sandbox_config = "\n# opted out of the grading sandbox\nc.TrustedExecute.allow_unsandboxed = True\n"
        config = (ROOT / "nbgrader_config.py").read_text()
        if extra_config or sandbox_config:
            config += "\n" + extra_config + sandbox_config
        (course.root / "nbgrader_config.py").write_text(config)
        from nbgrader.apps import NbGraderAPI

        from instructor.config import course_config, ensure_tools_on_path

        ensure_tools_on_path()  # a new gradebook runs `alembic` by name
        api = NbGraderAPI(config=course_config(course.root))
        for name in assignments:
            shutil.copytree(ROOT / "source" / name, course.root / "source" / name)
        for name, notebook in (notebooks or {}).items():
            (course.root / "source" / name).mkdir()
            nbformat.write(notebook, course.root / "source" / name / f"{name}.ipynb")
        for name in [*assignments, *(notebooks or {})]:
            made = api.generate_assignment(name, force=True, create=True)
            if not made["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{made.get('error') or made['log']}")
        return course

    def nbgrader(self, *args: str, timeout: float = 900, cwd: Path | None = None) -> Run:
        """Run one nbgrader command (in the course folder unless ``cwd``) and capture its log."""
        cmd = [str(BIN / "nbgrader"), *args]
        try:
            proc = subprocess.run(
                cmd,
                cwd=cwd or self.root,
                env=nbgrader_env(self.env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as err:
            out = err.output.decode() if isinstance(err.output, bytes) else (err.output or "")
            return Run(cmd, -1, out + f"\n[course | ERROR] nbgrader did not finish within {timeout:.0f} s")
        return Run(cmd, proc.returncode, proc.stdout)

    def release_notebook(self, assignment: str) -> Path:
        return notebook_path(assignment, self.root / "release")

    def submit(self, student: str, assignment: str, notebook, filename: str | None = None) -> Path:
        """Place a submission where ``nbgrader collect`` would: submitted/<student>/<assignment>/.

        ``notebook`` is a NotebookNode, or raw bytes/str for a broken file.
        """
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (filename or self.release_notebook(assignment).name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(notebook, nbformat.NotebookNode):
            nbformat.write(notebook, path)
        elif isinstance(notebook, bytes):
            path.write_bytes(notebook)
        else:
            path.write_text(notebook)
        return path

    def prepare(self, student: str, assignment: str) -> list[str]:
        """Put a student's notebook where nbgrader expects it (:func:`grading.hooks.place_notebooks`)."""
        expected = expected_notebooks(self.root, assignment)
        return place_notebooks(self.root / "submitted" / student, assignment, expected)

    def grade(self, student: str, assignment: str) -> Graded:
        """Prepare, autograde and read back one submission; never raises for a bad submission."""
        try:
            notes = self.prepare(student, assignment)
        except SubmissionError as err:
            return Graded(student, assignment, None, [], str(err))
        run = self.autograde(student, assignment)
        scores = self.scores(student, assignment) if run.ok else None
        if scores is None:
            reason = (run.errors() or ["nbgrader failed"])[0].split("]", 1)[-1].strip()
            return Graded(student, assignment, None, notes, f"autograde failed: {reason}", run)
        return Graded(student, assignment, scores, notes, None, run)

    def autograde(self, student: str, assignment: str, timeout: float = 900) -> Run:
        return self.nbgrader("autograde", assignment, "--student", student, "--force", timeout=timeout)

    def generate_feedback(self, student: str, assignment: str) -> Run:
        return self.nbgrader("generate_feedback", assignment, "--student", student, "--force")

    def autograded_notebook(self, student: str, assignment: str) -> Path:
        """Where ``nbgrader autograde`` wrote ``student``'s graded notebook of ``assignment``."""
        return self.root / "autograded" / student / assignment / self.release_notebook(assignment).name

    def feedback_html(self, student: str, assignment: str) -> Path:
        return (
            self.root / "feedback" / student / assignment / self.release_notebook(assignment).with_suffix(".html").name
        )

    def scores(self, student: str, assignment: str) -> dict[str, float] | None:
        """Score of every graded cell of a student's autograded notebook, or None if not graded."""
        from nbgrader.api import Gradebook, MissingEntry

        nb_name = self.release_notebook(assignment).stem
        with Gradebook(self.db_url) as gb:
            try:
                submission = gb.find_submission_notebook(nb_name, assignment, student)
            except MissingEntry:
                return None
            return {grade.name: float(grade.score) for grade in submission.grades}

    def test_scores(self, student: str, assignment: str) -> dict[str, float]:
        """Score of every autograded test cell of a student's notebook; fails if it was not graded."""
        from .notebooks import autograded_cells

        scores = self.scores(student, assignment)
        if scores is None:
            raise AssertionError(f"{student} was not graded in {assignment}")
        tests = set(autograded_cells(assignment))
        return {name: score for name, score in scores.items() if name in tests}

    def max_scores(self, assignment: str) -> dict[str, float]:
        """Points of every graded cell of an assignment's notebook."""
        from nbgrader.api import Gradebook

        nb_name = self.release_notebook(assignment).stem
        with Gradebook(self.db_url) as gb:
            notebook = gb.find_notebook(nb_name, assignment)
            return {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
