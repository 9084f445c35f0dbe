"""grading.outputs.SanitizeOutputs, in process: no output of a student's reaches the instructor's browser as markup.

Each attack is an output a student's code can make (``IPython.display`` with metadata, raw MIME bundles); the
notebook is rendered by the templates the instructor sees it through: nbgrader's formgrade and feedback templates
and nbconvert's classic one. The attacks must work on the unsanitised notebook (so the test can fail) and leave
nothing behind on the sanitised one, while an honest figure and print still show.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbgrader.server_extensions.formgrader import handlers
from test_grading_attacks import injected

from grading.outputs import SanitizeOutputs, sanitized_output

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()


def _display(data, metadata=None, kind="display_data"):
    out = nbformat.v4.new_output(kind, data=data, metadata=metadata or {})
    if kind == "execute_result":
        out.execution_count = 3
    return out


ATTACKS = [
    _display({"image/png": PNG}, {"image/png": {"width": '1 onerror="window.__xss=1"', "height": 2}}),
    _display({"image/jpeg": PNG}, {"width": "1 onerror=window.__xss=2"}),
    _display({"text/html": "<img src=x onerror='window.__xss=3'><script>window.__xss=3</script>"}),
    _display({"image/svg+xml": '<svg onload="window.__xss=4"></svg>'}),
    _display({"application/javascript": "window.__xss=5"}),
    _display({"image/png": '"><img src=x onerror="window.__xss=6">'}),
    _display({"text/markdown": "[x](javascript:window.__xss=7) <img src=x onerror='window.__xss=7'>"}),
    _display({"text/html": "<iframe src='https://example.org/__xss'></iframe>"}, {"isolated": True}),
    _display({"text/latex": "$x$ <script>window.__xss=9</script>"}, kind="execute_result"),
]


def _notebook(outputs):
    cell = nbformat.v4.new_code_cell("plot()", outputs=outputs)
    honest = nbformat.v4.new_code_cell(
        "print('hi')",
        outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="hi\n"),
            _display({"image/png": PNG, "text/plain": "<Figure>"}, {"image/png": {"width": 320, "height": 240}}),
        ],
    )
    return nbformat.v4.new_notebook(cells=[cell, honest])


def _render(nb, template):
    css = Path(handlers.__file__).parent / "static" / "node_modules" / "bootstrap" / "dist" / "css"  # as nbgrader's
    exporter = HTMLExporter(  # GenerateFeedback configures it
        template_name=template, extra_template_basedirs=[handlers.template_path], extra_template_paths=[str(css)]
    )
    resources = {"assignment_id": "t2", "notebook_id": "t2", "submission_id": "x", "index": 0, "total": 1}
    resources |= {"base_url": "", "student": "mallory", "last_name": "", "first_name": "", "notebook_path": ""}
    resources["nbgrader"] = {"notebook": "t2", "score": 0, "max_score": 1, "late_penalty": 0}
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    return html


@pytest.mark.parametrize("template", ["formgrade", "feedback", "classic"])
def test_no_output_of_a_student_renders_as_markup(template):
    attack = _notebook(ATTACKS)
    assert injected(_render(attack, template)), "the attacks must work on the unsanitised notebook"
    clean, _ = SanitizeOutputs().preprocess(attack, ResourcesDict())
    html = _render(clean, template)
    assert injected(html) == [] and "__xss" not in html.replace("&#x27;", "'").split("<body")[0]
    assert 'width="320"' in html or "width=320" in html  # the honest figure keeps its size
    assert "hi" in html


def test_what_is_kept():
    kept = sanitized_output(ATTACKS[0])
    assert kept.data == {"image/png": PNG} and kept.metadata == {"image/png": {"height": 2}}
    assert sanitized_output(ATTACKS[2]).data == {"text/plain": "(output not shown)"}
    assert sanitized_output(ATTACKS[8]).execution_count == 3
    assert sanitized_output({"output_type": "update_display_data", "data": {}}) is None
    error = sanitized_output({"output_type": "error", "ename": "AssertionError", "evalue": "no", "traceback": ["x", 1]})
    assert error == {"output_type": "error", "ename": "AssertionError", "evalue": "no", "traceback": ["x"]}


def test_feedback_pages_get_a_policy_that_forbids_scripts(tmp_path):
    """GenerateFeedback's post_convert_hook: the policy becomes the first element of <head>, once; the page keeps
    its mode."""
    from grading.feedback import META, add_content_security_policy

    notebook = tmp_path / "autograded" / "mallory" / "t2" / "t2.ipynb"
    page = tmp_path / "feedback" / "mallory" / "t2" / "t2.html"
    page.parent.mkdir(parents=True)
    page.write_text(_render(_notebook([]), "feedback"))
    page.chmod(0o444)
    assert add_content_security_policy("t2", "mallory", [str(notebook)]) == [page]
    add_content_security_policy("t2", "mallory", [str(notebook)])
    html = page.read_text()
    assert (
        html.count(META) == 1 and html.index(META) < html.index("<script") and html.index("<head>") < html.index(META)
    )
    assert "script-src https://cdnjs.cloudflare.com;" in META and "'unsafe-inline'" not in META.split("img-src")[0]
    assert page.stat().st_mode & 0o777 == 0o444
