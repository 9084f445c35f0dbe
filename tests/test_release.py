"""instructor.release.StudentSetup: badges and an install-when-missing cell, generated from one setting."""

from __future__ import annotations

import sys

import nbformat
import pytest
from harness.notebooks import RELEASE, assignments, notebook_path, read
from nbconvert.exporters.exporter import ResourcesDict
from traitlets.config import Config

from instructor.release import MARKER, StudentSetup


def _notebook():
    setup = nbformat.v4.new_code_cell("from helpers import checks", metadata={"nbgrader": {"grade_id": "setup"}})
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Tutorial"), setup])


def _generate(**settings):
    c = Config()
    for key, value in settings.items():
        setattr(c.StudentSetup, key, value)
    resources = ResourcesDict(nbgrader={"assignment": "t1_decoding", "notebook": "t1_decoding"})
    nb, _ = StudentSetup(config=c).preprocess(_notebook(), resources)
    nbformat.validate(nb)
    return nb


def test_badges_and_install_come_from_the_repository_setting():
    nb = _generate(repository="example-org/cnn-course", branch="v1")
    badges, title, install, setup = nb.cells
    path = "example-org/cnn-course/blob/v1/release/t1_decoding/t1_decoding.ipynb"
    assert f"https://colab.research.google.com/github/{path}" in badges.source
    raw = "https://raw.githubusercontent.com/example-org/cnn-course/v1/release/t1_decoding/t1_decoding.ipynb"
    assert f"https://kaggle.com/kernels/welcome?src={raw}" in badges.source
    assert "cnn-vision-course-helpers @ git+https://github.com/example-org/cnn-course@v1" in install.source
    assert title.source == "# Tutorial" and setup.metadata["nbgrader"]["grade_id"] == "setup"
    # generated again (nbgrader generate_assignment --force): replaced, not stacked
    again, _ = StudentSetup(config=Config({"StudentSetup": {"repository": "example-org/cnn-course"}})).preprocess(
        nb, ResourcesDict(nbgrader={"assignment": "t1_decoding", "notebook": "t1_decoding"})
    )
    assert sum(MARKER in c.metadata for c in again.cells) == 2


def test_without_a_repository_there_are_no_badges_and_the_cell_says_what_to_do():
    nb = _generate()
    assert [MARKER in c.metadata for c in nb.cells] == [False, True, False]
    assert "ModuleNotFoundError" in nb.cells[1].source and "pip" not in nb.cells[1].source


def _run(source, monkeypatch, missing):
    """Run the generated cell as IPython runs it (its %pip becomes a magic call), with helpers there or not."""
    from IPython.core.inputtransformer2 import TransformerManager

    calls = []

    class Shell:
        def run_line_magic(self, name, line):
            calls.append((name, line))

    if missing:
        monkeypatch.setitem(sys.modules, "helpers", None)  # `import helpers` raises ModuleNotFoundError
    code = TransformerManager().transform_cell(source)
    exec(compile(code, "<install cell>", "exec"), {"get_ipython": Shell})  # noqa: S102 - the generated cell
    return calls


def test_the_install_cell_installs_only_when_helpers_is_missing(monkeypatch):
    source = _generate(repository="example-org/cnn-course").cells[2].source
    assert _run(source, monkeypatch, missing=False) == []  # the course's environment, the grader
    (call,) = _run(source, monkeypatch, missing=True)  # Colab, Kaggle
    assert call == (
        "pip",
        'install --quiet "cnn-vision-course-helpers @ git+https://github.com/example-org/cnn-course@main"',
    )
    package = "cnn-vision-course-helpers @ https://example.org/cnn_vision_course_helpers-0.1.0-py3-none-any.whl"
    (call,) = _run(_generate(package=package).cells[1].source, monkeypatch, missing=True)
    assert call == ("pip", f'install --quiet "{package}"')
    with pytest.raises(ModuleNotFoundError, match="README"):
        _run(_generate().cells[1].source, monkeypatch, missing=True)


def test_the_install_cell_is_nothing_the_static_checks_read():
    """The no-library and weights checks read, from every other cell, code that could rebind a function
    (importlib, sys, exec, ...): the install cell must not look like that."""
    from helpers import checks

    for settings in ({}, {"repository": "example-org/cnn-course"}):
        cell = next(c.source for c in _generate(**settings).cells if c.metadata.get(MARKER) == "install")
        cells = [cell, "def conv2d_by_hand(image, kernel):\n    return image"]
        assert checks.convolution_routines_used(checks.definition_source(cells, "conv2d_by_hand")) == []


@pytest.mark.parametrize(
    "settings",
    [{"repository": "not a repo"}, {"repository": "a/b/c"}, {"branch": "main; rm"}, {"package": 'x" + evil + "'}],
)
def test_settings_that_would_break_the_cell_are_refused(settings):
    with pytest.raises(ValueError):
        _generate(**settings)


@pytest.mark.parametrize("assignment", assignments())
def test_every_release_notebook_installs_helpers_before_its_setup_cell(assignment):
    nb = read(notebook_path(assignment, RELEASE))
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert nb.cells[first_code].metadata.get(MARKER) == "install"
    assert nb.cells[first_code + 1].metadata.get("nbgrader", {}).get("grade_id") == "setup"


def test_the_reference_answers_pass_the_static_checks_with_every_cell_the_release_adds():
    """T2's no-library rule reads the whole notebook's cells: the release's own cells (install, hand-in) must
    not make a correct answer fail it (they once did: `handin` read as a name from another cell)."""
    from harness.notebooks import reference_submission

    from helpers import checks

    cells = [c.source for c in reference_submission("t2_convolutions").cells if c.cell_type == "code"]
    assert checks.convolution_routines_used(checks.definition_source(cells, "conv2d_by_hand")) == []
