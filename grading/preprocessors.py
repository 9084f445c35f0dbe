"""nbgrader preprocessors that make a submission be graded as the instructor wrote it.

:class:`NormaliseSubmission` runs in autograde's sanitize stage, before nbgrader's
own ``OverwriteCells`` (which then checks and restores locked cells against the
gradebook) and before execution:

* every cell loses its tags and all metadata except nbgrader's, so tags such as
  ``skip-execution`` or ``raises-exception`` cannot change what runs;
* a cell whose nbgrader metadata names a grade_id the gradebook does not know,
  or repeats a grade_id seen earlier, is demoted to an ordinary cell (a test cell
  copied by the student then grades nothing);
* a cell with a known grade_id gets back the instructor's cell type and nbgrader
  metadata; a locked or test cell also gets back its source;
* a test or locked cell missing from the submission is put back after the cell
  that precedes it in the instructor's notebook.
"""

from __future__ import annotations

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.preprocessors import CellExecutionError
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


class NormaliseSubmission(NbGraderPreprocessor):
    """Restore the instructor's structure of a submitted notebook before it is executed."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        notebook_id = resources["nbgrader"]["notebook"]
        assignment_id = resources["nbgrader"]["assignment"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            master = gb.find_notebook(notebook_id, assignment_id)
            source_cells = {c.name: (c.cell_type, c.source, c.locked) for c in master.source_cells}
            order = [c.name for c in master.source_cells]  # the gradebook keeps notebook order
            grade_cells = {c.name: c for c in master.grade_cells}
            solution_ids = {c.name for c in master.solution_cells}
            expected = {}
            for name, (_cell_type, _source, locked) in source_cells.items():
                meta = {"grade": name in grade_cells, "grade_id": name, "locked": bool(locked)}
                meta["solution"] = name in solution_ids
                if name in grade_cells:
                    meta["points"] = grade_cells[name].max_score
                meta["schema_version"] = 3
                expected[name] = meta

        seen: set[str] = set()
        kept = []
        for cell in nb.cells:
            nbgrader_meta = dict(cell.get("metadata", {}).get("nbgrader", {}))
            cell.metadata = NotebookNode({"nbgrader": nbgrader_meta} if nbgrader_meta else {})
            name = _grade_id(cell)
            if name is None:
                cell.metadata.pop("nbgrader", None)
                kept.append(cell)
                continue
            if name not in source_cells or name in seen:
                self.log.warning("demoting cell with unknown or repeated grade_id %r to an ordinary cell", name)
                cell.metadata.pop("nbgrader", None)
                if cell.cell_type == "code" and name in seen and not expected.get(name, {}).get("solution", True):
                    continue  # a copy of a test cell grades nothing: drop it
                kept.append(cell)
                continue
            seen.add(name)
            kept.append(self._restore(cell, name, source_cells[name], expected[name]))

        missing = [name for name in order if name not in seen and not expected[name]["solution"]]
        for name in missing:
            self.log.warning("cell %r was missing from the submission: put back", name)
            position = order.index(name)
            previous = {n for n in order[:position]}
            index = 0
            for i, cell in enumerate(kept):
                if _grade_id(cell) in previous:
                    index = i + 1
            cell = nbformat.v4.new_code_cell() if source_cells[name][0] == "code" else nbformat.v4.new_markdown_cell()
            kept.insert(index, self._restore(cell, name, source_cells[name], expected[name]))
            seen.add(name)
        nb.cells = kept
        return nb, resources

    @staticmethod
    def _restore(cell, name, master, meta) -> NotebookNode:
        cell_type, source, locked = master
        is_solution = meta["solution"]
        keep_source = cell.get("source", "") if is_solution else source
        if cell.cell_type != cell_type or not is_solution:
            new = (
                nbformat.v4.new_code_cell(keep_source)
                if cell_type == "code"
                else nbformat.v4.new_markdown_cell(keep_source)
            )
            if "id" in cell:
                new.id = cell.id
            cell = new
        cell.metadata = NotebookNode({"nbgrader": NotebookNode(dict(meta))})
        return cell


class AddTestPrologue(NbGraderPreprocessor):
    """Put :data:`grading.prologue.PROLOGUE` in front of every autograded test cell.

    Runs in autograde's sanitize stage after ``OverwriteCells`` (which would
    otherwise put the instructor's source back without it).
    """

    def preprocess_cell(self, cell, resources, index):
        from .prologue import PROLOGUE

        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = PROLOGUE + "\n" + cell.source
        return cell, resources


class HideHiddenTests(NbGraderPreprocessor):
    """For feedback: show which test failed and its message, never a hidden test's source.

    In every graded test cell, the lines between ``### BEGIN HIDDEN TESTS`` and
    ``### END HIDDEN TESTS`` become one comment, the autograder's prologue line is
    removed, and an error's traceback (which quotes the failing source line) is
    cut down to its last line, e.g. ``AssertionError: ...``.
    """

    def preprocess_cell(self, cell, resources, index):
        from .prologue import PROLOGUE

        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            return cell, resources
        lines, hidden = [], False
        for line in cell.source.split("\n"):
            marker = line.strip()
            if marker == "### BEGIN HIDDEN TESTS":
                hidden = True
                lines.append("# (hidden tests: not shown)")
            elif marker == "### END HIDDEN TESTS":
                hidden = False
            elif not hidden and line != PROLOGUE:
                lines.append(line)
        cell.source = "\n".join(lines)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


class ResilientExecute(Execute):
    """nbgrader's Execute, except that a dead or unresponsive kernel never aborts the submission.

    When the kernel dies (``os._exit``, a crash, out of memory) or stops
    answering (a cell that ignores the interrupt after the timeout), the cell
    gets an error output saying so, every later code cell gets an error output
    saying it did not run, and grading goes on: the tests that ran before keep
    their points, the rest score 0.
    """

    def preprocess(self, nb, resources=None, km=None):
        self._stopped = None
        try:
            return super().preprocess(nb, resources, km=km)
        except Exception:  # noqa: BLE001  (whatever stopped the kernel, the notebook is still graded)
            if self._stopped is None:
                raise
            self.log.warning("kernel stopped (%s): later cells marked as not run", self._stopped)
            return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if self._stopped is not None:
            if cell.cell_type == "code":
                cell.outputs = [_error("NotRun", f"not run: the kernel stopped earlier ({self._stopped})")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except Exception as err:  # noqa: BLE001
            if isinstance(err, CellExecutionError):
                raise
            self._stopped = (
                f"{type(err).__name__}: {str(err).strip().splitlines()[0][:200] if str(err).strip() else ''}"
            )
            cell.outputs = list(cell.get("outputs", [])) + [_error(type(err).__name__, self._stopped)]
            return cell, resources

    def execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if self._stopped is not None:
            return cell
        return super().execute_cell(cell, cell_index, execution_count, store_history)


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
