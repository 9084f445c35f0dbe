"""What every release notebook gets so that it starts where students work: Colab, Kaggle, a hub, a laptop.

:class:`StudentSetup` is a preprocessor of ``nbgrader generate_assignment`` (``nbgrader_config.py``).
From one setting, the course's repository (``c.StudentSetup.repository``), it puts at the top of each
release notebook

* "Open in Colab" and "Open in Kaggle" badges for that notebook in the repository's ``release/``
  folder (only when the repository is set), and
* a code cell, before the setup cell, that installs the course's student package
  (``cnn-vision-course-helpers``: ``helpers`` and what the notebooks import; no nbgrader, no Dask)
  **only when** ``helpers`` cannot be imported. Where it is installed (the course's own environment,
  a hub image, the grader, whose sandbox has no network) the cell does nothing.

Both are generated, so they never drift from the setting; the source notebooks do not hold them.
"""

from __future__ import annotations

import re

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

MARKER = "course-student-setup"  # metadata key of the cells this preprocessor writes (and replaces)
PACKAGE = "cnn-vision-course-helpers"


class StudentSetup(NbGraderPreprocessor):
    """Badges and an install-when-missing cell at the top of every release notebook (see the module)."""

    repository = Unicode(
        "",
        help="The course's GitHub repository, 'ORG/REPO'. It gives the release notebooks their 'Open in Colab' "
        "and 'Open in Kaggle' badges and, unless `package` is set, what their first cell installs: "
        f"'{PACKAGE} @ git+https://github.com/ORG/REPO@BRANCH'. Empty: no badges, and the first cell tells "
        "a student without the package to ask for it.",
    ).tag(config=True)

    branch = Unicode("main", help="The branch (or tag) of `repository` the badges and the install use.").tag(
        config=True
    )

    package = Unicode(
        "",
        help="What a notebook pip-installs when `helpers` is missing, if not the repository's: a pip requirement "
        f"such as '{PACKAGE} @ https://example.org/{PACKAGE}-0.1.0-py3-none-any.whl' or a package index name.",
    ).tag(config=True)

    def requirement(self) -> str:
        """The pip requirement the install cell uses ("" when none is configured)."""
        if self.package:
            return self.package
        if self.repository:
            return f"{PACKAGE} @ git+https://github.com/{self.repository}@{self.branch}"
        return ""

    def _check(self) -> None:
        if self.repository and not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", self.repository):
            raise ValueError(f"StudentSetup.repository must be 'ORG/REPO', got {self.repository!r}")
        if not re.fullmatch(r"[A-Za-z0-9_./-]+", self.branch):
            raise ValueError(f"StudentSetup.branch {self.branch!r} is not a branch or tag name")
        if any(quote in self.requirement() for quote in "\"'\\\n"):
            raise ValueError("StudentSetup.package must not contain quotes, backslashes or line breaks")

    def badges(self, assignment: str, notebook: str) -> str:
        """Markdown with the two badges for ``release/<assignment>/<notebook>.ipynb`` ("" without a repository)."""
        if not self.repository:
            return ""
        path = f"{self.repository}/blob/{self.branch}/release/{assignment}/{notebook}.ipynb"
        raw = f"https://raw.githubusercontent.com/{self.repository}/{self.branch}/release/{assignment}/{notebook}.ipynb"
        colab = f"https://colab.research.google.com/github/{path}"
        kaggle = f"https://kaggle.com/kernels/welcome?src={raw}"
        return (
            f'<a href="{colab}" target="_parent"><img src="https://colab.research.google.com/assets/colab-badge.svg" '
            f'alt="Open In Colab"/></a> &nbsp; <a href="{kaggle}" target="_parent">'
            '<img src="https://kaggle.com/static/images/open-in-kaggle.svg" alt="Open in Kaggle"/></a>'
        )

    def install_source(self) -> str:
        """The install-when-missing cell's code.

        It imports nothing but ``helpers`` and installs with IPython's ``%pip`` (into the running kernel's
        environment): no ``importlib``, ``sys`` or ``subprocess`` at the top level, which the grader's static
        checks read as code that could rebind a student's function.
        """
        requirement = self.requirement()
        head = (
            "# Colab, Kaggle or a fresh environment: install the course's helpers when they are missing.\n"
            "# Where they are installed (the course's environment, the grader) this cell does nothing.\n"
            "try:\n"
            "    import helpers  # noqa: F401\n"
            "except ModuleNotFoundError:\n"
        )
        if requirement:
            return head + f'    %pip install --quiet "{requirement}"'
        message = (
            "The course's helpers package is not installed here: install it as the course's README says "
            "(Students: quick start), or ask your instructor."
        )
        return head + f"    raise ModuleNotFoundError(\n        {message!r}\n    ) from None"

    def preprocess(self, nb, resources):
        self._check()
        nb.cells = [c for c in nb.cells if MARKER not in c.get("metadata", {})]  # regenerated, never stacked
        assignment = resources.get("nbgrader", {}).get("assignment", "")
        notebook = resources.get("nbgrader", {}).get("notebook", "")
        setup = next(
            (i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "setup"),
            None,
        )
        first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
        install = nbformat.v4.new_code_cell(self.install_source(), metadata={MARKER: "install", "editable": False})
        install["id"] = "course-student-setup-install"
        nb.cells.insert(first_code if setup is None else min(setup, first_code), install)
        badges = self.badges(assignment, notebook)
        if badges:
            cell = nbformat.v4.new_markdown_cell(badges, metadata={MARKER: "badges"})
            cell["id"] = "course-student-setup-badges"
            nb.cells.insert(0, cell)
        return nb, resources
