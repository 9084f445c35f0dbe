"""In-process tests of grading.preprocessors.TrustedExecute's bookkeeping (no kernel, milliseconds)."""

from __future__ import annotations

import nbformat

from grading.preprocessors import TrustedExecute, _keep_valid
from grading.remote import MIME


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
    big = _message("display_data", {"data": {MIME: "x" * (executor.max_reply_bytes // 2)}, "metadata": {}})
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


def test_display_updates_count_once_per_output_they_replace():
    """update_display_data replaces every output shown under its id: each one is counted, past the cap dropped."""
    executor, outs = _executor(in_probe=False), []
    executor.max_output_bytes = 3 * 2**20
    for _ in range(10):  # ten small outputs under one display id
        message = _message("display_data", {"data": {"text/plain": "x"}, "metadata": {}, "transient": {}})
        executor.output(outs, message, "shared", 0)
    executor._display_id_map["shared"] = {0: list(range(10))}
    update = _message("update_display_data", {"data": {"text/plain": "y" * 2**20}, "metadata": {}})
    executor._update_display_id("shared", update)  # 1 MiB times ten outputs: over the 3 MiB cap
    assert all(o.get("data", {}).get("text/plain") == "x" for o in outs)
    assert executor._output_bytes > executor.max_output_bytes


def test_display_updates_during_a_request_are_dropped():
    executor, outs = _executor(in_probe=True), []
    executor._display_id_map["shared"] = {0: [0]}
    outs.append(nbformat.v4.new_output("display_data", data={"text/plain": "before"}))
    executor._update_display_id(
        "shared", _message("update_display_data", {"data": {"text/plain": "z"}, "metadata": {}})
    )
    assert outs[0].data["text/plain"] == "before"


def test_comm_traffic_is_never_stored():
    executor, outs = _executor(in_probe=False), []
    state = {"comm_id": "w", "data": {"state": {"value": "x" * 2**20}, "buffer_paths": []}}
    for _ in range(50):
        executor.handle_comm_msg(outs, _message("comm_msg", state), 0)
    assert executor.widget_state == {} and outs == [] and executor.store_widget_state is False


def test_containers_count_what_they_cost_decoded():
    """A list of a million empty dicts is a few MB on the wire and hundreds of MB decoded: it is not 'small'."""
    from grading.preprocessors import _size

    assert _size({"metadata": {"k": [{}] * 1_000_000}}) >= 64 * 1_000_000


def test_an_error_reply_counts_against_the_outputs_budget():
    """nbgrader records an error reply that sent no error output: a forged one's traceback is bounded too."""
    executor = _executor(in_probe=False)
    executor.max_output_bytes = 3 * 2**20
    huge = {"status": "error", "ename": "E" * 1000, "evalue": "v", "traceback": ["x" * 2**20] * 8}
    cell = nbformat.v4.new_code_cell("1")
    executor.on_cell_executed(cell=cell, cell_index=0, execute_reply={"content": huge})
    assert len(cell.outputs) == 1 and "dropped" in cell.outputs[0].evalue
    assert sum(len(line) for line in cell.outputs[0].traceback) < 1000 and len(cell.outputs[0].ename) <= 80
    small = {"status": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["ValueError: bad"]}
    executor._output_bytes = 0
    cell = nbformat.v4.new_code_cell("1")
    executor.on_cell_executed(cell=cell, cell_index=0, execute_reply={"content": small})
    assert cell.outputs[0].evalue == "bad"
    probe = _executor(in_probe=True)
    cell = nbformat.v4.new_code_cell("1")
    probe.on_cell_executed(cell=cell, cell_index=0, execute_reply={"content": huge})
    assert cell.outputs == []
