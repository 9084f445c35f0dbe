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
    assert handin.unfinished(namespace, EXERCISES) == ["1.1 conv2d_by_hand", "3.1 Layer", "3.2 convout"]


def test_answers_are_finished():
    namespace = _define(
        "def conv2d_by_hand(x):\n    return x\n"
        "class Layer:\n    def forward(self, s):\n        return s\nconvout = 1\n",
        "<cell-2>",
    )
    assert handin.unfinished(namespace, EXERCISES) == []
    assert handin.report("t2_convolutions", {}).startswith("Not done yet (7 of 7): 1.1 conv2d_by_hand")


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


def test_every_assignment_ends_with_a_hand_in_cell_for_its_coded_exercises():
    """The last cell reports on its own assignment, naming no answer (the static checks would read it), and
    helpers.handin lists, for every solution cell, names that cell defines, and no other names."""
    from harness.notebooks import SOURCE, assignments, notebook_path, read

    assert sorted(handin.EXERCISES) == assignments()
    for assignment in assignments():
        nb = read(notebook_path(assignment, SOURCE))
        last = nb.cells[-1]
        assert last.cell_type == "code" and f'handin.report("{assignment}")' in last.source, assignment
        answers = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
        defined = [_bound(c.source) for c in answers]
        listed = [set(names) for names in handin.EXERCISES[assignment].values()]
        assert len(listed) == len(defined), assignment
        for names, bound in zip(listed, defined, strict=True):
            assert names and names <= bound, (assignment, names, bound)
        assert not any(name in last.source for names in listed for name in names), assignment
