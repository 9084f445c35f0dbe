"""helpers.handin: the exercises a notebook has not answered yet, read from its names and their source."""

from __future__ import annotations

import linecache

from helpers import handin


def _define(source: str, filename: str) -> dict:
    """Run ``source`` as a notebook cell runs: its source in linecache, so inspect can read it back."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the test's own code
    return namespace


EXERCISES = {"1.1 conv2d_by_hand": ["conv2d_by_hand"], "3.1 Layer": ["Layer"], "3.2 convout": ["convout"]}


def test_stubs_and_missing_names_are_unfinished():
    namespace = _define(
        "def conv2d_by_hand(x):\n    raise NotImplementedError('Exercise not done yet')\n"
        "class Layer:\n    def forward(self, s):\n        raise NotImplementedError()\n",
        "<cell-1>",
    )
    assert handin.unfinished(namespace, EXERCISES) == list(EXERCISES)
    assert handin.report(namespace, EXERCISES).startswith("Not done yet (3 of 3): 1.1 conv2d_by_hand")


def test_answers_are_finished():
    namespace = _define(
        "def conv2d_by_hand(x):\n    return x\n"
        "class Layer:\n    def forward(self, s):\n        return s\nconvout = 1\n",
        "<cell-2>",
    )
    assert handin.unfinished(namespace, EXERCISES) == []
    assert handin.report(namespace, EXERCISES).startswith("All 3 coded exercises are answered")


def test_a_source_that_cannot_be_read_is_not_called_unfinished():
    namespace = {"conv2d_by_hand": len, "Layer": int, "convout": 0}  # builtins: no Python source
    assert handin.unfinished(namespace, EXERCISES) == []


def _bound(source: str) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def test_every_assignment_ends_with_a_hand_in_cell_that_lists_each_coded_exercise():
    """The hand-in cell names, for every solution cell, names that cell defines, and no other names."""
    import ast

    from instructor.notebooks import SOURCE, assignments, notebook_path, read

    for assignment in assignments():
        nb = read(notebook_path(assignment, SOURCE))
        last = nb.cells[-1]
        assert last.cell_type == "code" and "handin.report(" in last.source, f"{assignment}: no hand-in cell at the end"
        call = next(n for n in ast.walk(ast.parse(last.source)) if isinstance(n, ast.Call) and n.args[1:])
        exercises = ast.literal_eval(call.args[1])
        answers = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
        defined = [_bound(c.source) for c in answers]
        listed = [set(names) for names in exercises.values()]
        assert len(listed) == len(defined), (assignment, exercises)
        for names, bound in zip(listed, defined, strict=True):
            assert names and names <= bound, (assignment, names, bound)
