"""Submissions the autograder must grade right: typical mistakes and other correct answers.

Each assignment has a module here (``tests/variants/<assignment>.py``) with two lists,
``MISTAKES`` and ``CORRECT``, of :class:`Variant`. A variant is a small change to the
instructor's solution cells in ``source/``: for some grade_ids, a list of ``(old, new)``
replacements, each ``old`` occurring exactly once in that solution. Because the change is
applied to the current source, a variant cannot drift from the reference answer: when the
source changes under it, applying it fails with a message naming the variant.

Lines that hold only a comment (a scaffold's "# Step 2: ..." between solution regions) may
lie between the lines of an ``old`` in the solution: they are replaced with it. So a variant
written against the code still applies when a scaffold's steps are added around that code.

An ``old`` of :data:`WHOLE` replaces the whole solution cell: for another implementation
written from scratch (or a mistake that is one), which stands on its own and so cannot
drift; it must be the cell's only replacement.

``loses`` names the autograded test cells (grade_ids) that must score 0; every other test
cell must keep full marks. A variant with an empty ``loses`` is another correct answer.

``hint`` is what the message of a typical mistake's first failing test must say: words that
name the mistake, from a message diagnosed from what the wrong result looks like. That first
failure must come from a visible test, which the student runs before handing in, unless
``hidden`` is set: a mistake that every visible test lets through and only a hidden test
catches (its message then reaches the student in feedback).

Other correct answers that change different solution cells are graded together, as one
submission (:func:`together`): it must keep full marks, which each of them alone must too.
A typical mistake is always graded alone, so that what it loses is its own.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass, field

from harness.notebooks import (
    SOURCE,
    assignments,
    autograded_cells,
    notebook_path,
    read,
    solutions,
    strip_markers,
)

WHOLE = "<the whole solution cell>"


class VariantDrift(Exception):
    """A variant's ``old`` text is no longer in the solution it changes (the source changed)."""


@dataclass(frozen=True)
class Variant:
    """A change to the reference answers of one assignment, and the test cells it must lose."""

    name: str
    edits: dict[str, list[tuple[str, str]]]
    loses: frozenset[str] = field(default_factory=frozenset)
    why: str = ""
    hint: str = ""
    hidden: bool = False

    def answers(self, assignment: str) -> dict[str, str]:
        """The changed solution cells (grade_id -> source) of ``assignment``, from source/ as it is now."""
        reference = solutions(assignment)
        out = {}
        for grade_id, replacements in self.edits.items():
            if grade_id not in reference:
                raise VariantDrift(f"{assignment}/{self.name}: no solution cell {grade_id!r} in source/")
            text = reference[grade_id]
            if any(old == WHOLE for old, _ in replacements):
                if len(replacements) != 1:
                    raise VariantDrift(f"{assignment}/{self.name}: WHOLE must be the only replacement of {grade_id!r}")
                text = replacements[0][1]
                replacements = []
            for old, new in replacements:
                found = list(re.finditer(_allowing_comment_lines(old), text))
                if len(found) != 1:
                    raise VariantDrift(
                        f"{assignment}/{self.name}: {old!r} occurs {len(found)} times in the solution of "
                        f"{grade_id!r}, not once: update the variant to the changed source"
                    )
                text = text[: found[0].start()] + new + text[found[0].end() :]
            if text == reference[grade_id]:
                raise VariantDrift(f"{assignment}/{self.name}: changes nothing in {grade_id!r}")
            out[grade_id] = text
        return out


def _allowing_comment_lines(old: str) -> str:
    """A pattern for ``old`` exactly, except that whole comment lines may lie between its lines."""
    return r"\n(?:[ \t]*#[^\n]*\n)*".join(re.escape(line) for line in old.split("\n"))


def together(variants: list[Variant]) -> list[list[Variant]]:
    """``variants`` in groups that change disjoint solution cells (first fit, in order): one submission each."""
    groups: list[list[Variant]] = []
    for variant in variants:
        home = next((g for g in groups if not any(set(variant.edits) & set(other.edits) for other in g)), None)
        if home is None:
            groups.append([variant])
        else:
            home.append(variant)
    return groups


def _module(assignment: str):
    return importlib.import_module(f"{__name__}.{assignment}")


def mistakes(assignment: str) -> list[Variant]:
    """The typical mistakes of ``assignment`` (each loses the test cells it names)."""
    return list(_module(assignment).MISTAKES)


def correct(assignment: str) -> list[Variant]:
    """Other correct answers of ``assignment`` (each keeps full marks)."""
    return list(_module(assignment).CORRECT)


MISTAKES = {a: mistakes(a) for a in assignments()}
CORRECT = {a: correct(a) for a in assignments()}


def _module_level_names(tree: ast.Module) -> set[str]:
    """The names a cell binds in the notebook's namespace (not a function's or a class's own locals)."""
    names: set[str] = set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.comprehension)
    todo = list(ast.iter_child_nodes(tree))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            todo.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
        if not isinstance(node, scopes):
            todo.extend(ast.iter_child_nodes(node))
    return names


def reach(assignment: str, variant: Variant) -> frozenset[str]:
    """The autograded test cells whose outcome ``variant`` could change, by the names its cells bind.

    A name flow over the instructor notebook with the variant's answers in place: a code cell that reads a name
    a changed cell binds can behave differently, and so can every cell that reads a name such a cell binds, in
    any order (a function defined early reads a global late). Test cells run in the grader, each in a fresh
    namespace (``grading.remote``): they read names but never pass one on. Conservative: a cell that reads a
    name it binds itself first still counts.
    """
    from helpers.checks import loaded_names, parsed_cells

    nb = read(notebook_path(assignment, SOURCE))
    answers = variant.answers(assignment)
    tests = set(autograded_cells(assignment))
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        source = answers.get(name, strip_markers(cell.source))
        tree = next(parsed_cells([source]))[2]
        if tree is None:
            raise VariantDrift(f"{assignment}/{variant.name}: cell {name!r} does not parse")
        cells.append((name, loaded_names(tree), _module_level_names(tree) if name not in tests else set()))
    tainted = set().union(*(bound for name, _, bound in cells if name in answers))
    reached: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, reads, binds in cells:
            if name not in answers and name not in reached and reads & tainted:
                reached.add(name)
                tainted |= binds
                changed = True
    return frozenset(reached & tests)


def graded_together(assignment: str, variants: list[Variant]) -> list[list[Variant]]:
    """Typical mistakes in groups graded as one submission each (first fit, in order).

    Two mistakes share a submission only when they change different solution cells and the test cells they can
    reach (:func:`reach`) are disjoint: each test cell that fails then belongs to exactly one of them, and what
    each loses is its own, as if it were graded alone.
    """
    groups: list[list[Variant]] = []
    for variant in variants:
        mine = reach(assignment, variant)
        home = next(
            (
                g
                for g in groups
                if not any(set(variant.edits) & set(other.edits) or mine & reach(assignment, other) for other in g)
            ),
            None,
        )
        if home is None:
            groups.append([variant])
        else:
            home.append(variant)
    return groups
