"""In-process tests of grading.preprocessors.TrustedExecute's bookkeeping (no kernel, milliseconds)."""

from __future__ import annotations

import nbformat

from grading.preprocessors import TrustedExecute, _keep_valid
from grading.remote import MAX_REPLY_BYTES, MIME


def _message(kind: str, content: dict) -> dict:
    return {"msg_type": kind, "content": content, "parent_header": {"msg_id": "request"}, "header": {"msg_type": kind}}


def _executor(in_probe: bool) -> TrustedExecute:
    executor = TrustedExecute()
    executor.reset_execution_trackers()
    executor.clear_before_next_output = False  # set by nbclient when a cell starts
    executor._in_probe, executor._probe_bytes, executor._output_bytes = in_probe, 0, 0
    return executor


def test_what_a_request_prints_is_never_stored():
    """Only the agent's answer is kept from a test's request: printed text costs the grader no memory."""
    executor, outs = _executor(in_probe=True), []
    for _ in range(100):  # 100 MiB printed while the test calls the student's function
        executor.output(outs, _message("stream", {"name": "stdout", "text": "x" * 2**20}), None, 0)
        executor.output(outs, _message("display_data", {"data": {"text/html": "x" * 2**20}, "metadata": {}}), None, 0)
    assert outs == []
    executor.output(outs, _message("display_data", {"data": {MIME: '{"id": "1"}'}, "metadata": {}}), None, 0)
    assert [o.output_type for o in outs] == ["display_data"]


def test_answers_beyond_the_size_limit_are_dropped():
    executor, outs = _executor(in_probe=True), []
    big = _message("display_data", {"data": {MIME: "x" * (MAX_REPLY_BYTES // 2)}, "metadata": {}})
    for _ in range(4):
        executor.output(outs, big, None, 0)
    assert len(outs) == 2


def test_a_students_own_outputs_are_kept_within_the_notebooks_limit():
    executor, outs = _executor(in_probe=False), []
    executor.max_output_bytes = 3 * 2**20
    for _ in range(10):
        executor.output(outs, _message("stream", {"name": "stdout", "text": "x" * 2**20}), None, 0)
    assert sum(len(o.text) for o in outs) < 4 * 2**20 and "output dropped" in outs[-1].text


def test_invalid_counts_and_outputs_from_the_kernel_are_dropped():
    """A forged execution_count or a malformed output would make nbgrader refuse the whole notebook."""
    cell = nbformat.v4.new_code_cell("1")
    cell.execution_count = "<b>1</b>"
    good = nbformat.v4.new_output("stream", name="stdout", text="kept\n")
    forged = nbformat.NotebookNode(output_type="execute_result", data={"text/plain": "1"}, metadata={})
    forged.execution_count = "x"
    malformed = nbformat.NotebookNode(output_type="display_data", data="not a bundle", metadata={})
    cell.outputs = [good, forged, malformed]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell, nbformat.v4.new_markdown_cell("text")]
    _keep_valid(nb)
    nbformat.validate(nb)
    assert nb.cells[0].execution_count is None and nb.cells[0].outputs[0] == good
    assert nb.cells[0].outputs[1].execution_count is None and "invalid output" in nb.cells[0].outputs[2].text
