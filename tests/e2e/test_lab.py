"""What students and instructors see in JupyterLab, checked in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.request

import nbformat
import pytest
from harness.notebooks import notebook_path, read, reference_submission, solutions
from harness.scratch import Course
from test_grading_attacks import XSS

from .conftest import TOKEN, Lab, shot

# one JupyterLab for the whole module: keep its tests on one xdist worker
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("jupyterlab")]
T2 = "t2_convolutions"
# run by alice's kernel at autograde: outputs whose image size and HTML would run script where they are shown
OUTPUT_XSS = """
from IPython.display import display
_png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
display(
    {"image/png": _png, "text/html": "<img src=x onerror=window.__xss=3>"},
    raw=True,
    metadata={"image/png": {"width": '1 onerror="window.__xss=1"', "height": '1 onerror="window.__xss=2"'}},
)
display({"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=4"></svg>'}, raw=True)
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A course folder with a graded demo submission, served by JupyterLab."""
    base = tmp_path_factory.mktemp("lab")
    course = Course.create(base / "course", [T2], sandbox=False)
    # alice's bonus written answer, and outputs of her code, also try to run script in the instructor's browser
    attacks = {
        "think_b3_multiple_orientations": XSS,
        "conv_output_shape": solutions(T2)["conv_output_shape"] + OUTPUT_XSS,
    }
    course.submit("alice", T2, reference_submission(T2, attacks))
    graded = course.grade("alice", T2)
    assert graded.scores is not None, graded.problem
    done, todo = course.root / "student" / "done", course.root / "student" / "todo"
    done.mkdir(parents=True)
    todo.mkdir(parents=True)
    nbformat.write(reference_submission(T2), done / f"{T2}.ipynb")
    shutil.copy(notebook_path(T2), todo / f"{T2}.ipynb")
    server = Lab(course.root)
    yield server, course
    server.stop()


def _kernel_idle(lab, path) -> bool:
    """True when the server has a session for ``path`` whose kernel is started and idle."""
    with urllib.request.urlopen(f"{lab.url}/api/sessions?token={TOKEN}", timeout=5) as response:
        sessions = json.load(response)
    return any(s["path"].endswith(path) and s["kernel"]["execution_state"] == "idle" for s in sessions)


def _open_notebook(page, lab, path):
    page.goto(lab.open(path))
    page.locator(".jp-Notebook").first.wait_for()
    # the page may say "idle" before a kernel exists; ask the server until the kernel really is ready
    deadline = time.monotonic() + 120
    while not _kernel_idle(lab, path):
        assert time.monotonic() < deadline, f"no idle kernel for {path}"
        page.wait_for_timeout(500)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=90_000)
    page.wait_for_timeout(1000)


def _menu(page, menu, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()


def _wait_until_all_ran(page, timeout_s=180):
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
            return prompts.length > 0 && prompts.every(t => /\\[\\d+\\]/.test(t));
        }""",
        timeout=timeout_s * 1000,
    )


def test_completed_notebook_runs_cleanly_with_figures_and_widgets(lab, page):
    server, course = lab
    _open_notebook(page, server, f"student/done/{T2}.ipynb")
    _menu(page, "Run", "Run All Cells")
    _wait_until_all_ran(page)
    shot(page, "student-done-top")
    outputs = page.locator(".jp-OutputArea-output")
    text = "\n".join(outputs.all_inner_texts())
    assert "Traceback" not in text and "Error" not in re.sub(r"AssertionError|errors", "", text), text[-2000:]
    # every figure: as many PNGs in the page as the executed notebook has image outputs
    figures = page.locator(".jp-OutputArea-output img")
    expected = sum(
        1
        for cell in read(course.root / "student" / "done" / f"{T2}.ipynb").cells
        if cell.cell_type == "code" and re.search(r"^fig = |display\(", cell.source, flags=re.M)
    )
    assert figures.count() >= expected, f"{figures.count()} images for {expected} figure cells"
    # the interactive demo: a slider and its picture
    slider = page.locator(".widget-slider, .widget-hslider").first
    slider.scroll_into_view_if_needed()
    picture = page.locator(".jupyter-widgets img, img.widget-image").first
    picture.wait_for()
    before = picture.get_attribute("src")
    shot(page, "student-widget-before")
    slider.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const img = document.querySelector('.jupyter-widgets img, img.widget-image');"
        " return img && img.getAttribute('src') !== before; }",
        arg=before,
    )
    shot(page, "student-widget-after")


def test_untouched_notebook_shows_the_stub_message_and_validate_reports_failures(lab, page):
    server, _ = lab
    _open_notebook(page, server, f"student/todo/{T2}.ipynb")
    _menu(page, "Run", "Run All Cells")  # runs until the first stub is called, then stops
    error = page.locator(".jp-OutputArea-output", has_text="NotImplementedError").first
    error.wait_for(timeout=120_000)
    error.scroll_into_view_if_needed()
    assert "replace this line with your code" in error.inner_text()
    shot(page, "student-stub")
    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    dialog.get_by_text(re.compile("failed|error", re.I)).first.wait_for(timeout=120_000)
    shot(page, "student-validate-failing")
    text = dialog.inner_text()
    assert "NotImplementedError" in text or "failed" in text.lower(), text[:2000]


def test_validate_reports_success_on_the_completed_notebook(lab, page):
    server, _ = lab
    _open_notebook(page, server, f"student/done/{T2}.ipynb")
    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Success! Your notebook passes all the tests.").wait_for(timeout=120_000)
    shot(page, "student-validate-success")


def test_formgrader_lists_assignments_and_stores_a_manual_grade(lab, page):
    server, course = lab
    page.goto(f"{server.url}/formgrader?token=course-e2e-token")
    page.get_by_text(T2).first.wait_for()
    shot(page, "instructor-formgrader")
    page.goto(f"{server.url}/formgrader/manage_submissions/{T2}?token=course-e2e-token")
    page.get_by_text("alice").first.wait_for()
    shot(page, "instructor-submissions")
    # open alice's submission and grade the first written answer by hand
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        submission = gb.find_submission_notebook(T2, T2, "alice")
        submission_id = submission.id
    page.goto(f"{server.url}/formgrader/submissions/{submission_id}/?token=course-e2e-token")
    score = page.locator("input.score#think_3_3_activations")
    score.wait_for()
    score.scroll_into_view_if_needed()
    shot(page, "instructor-submission")
    score.fill("1.5")
    score.press("Tab")  # the formgrader saves a score when its field loses focus
    stored = None
    for _ in range(40):
        with Gradebook(course.db_url) as gb:
            stored = gb.find_grade("think_3_3_activations", T2, T2, "alice").manual_score
        if stored is not None:
            break
        page.wait_for_timeout(250)
    assert stored == 1.5
    shot(page, "instructor-graded")
    # the answer's text shows, with no link to javascript:; its scripts and handlers never ran, nor those of
    # her outputs (the image shows, with its size as numbers only)
    page.get_by_text("My answer").first.scroll_into_view_if_needed()
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if "__xss" in h], hrefs
    assert page.evaluate("window.__xss") is None
    shot(page, "instructor-written-answer-with-script")
