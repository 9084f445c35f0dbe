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

Variants that change different solution cells share a submission when no typical mistake among
them can reach a test cell another of them reaches (:func:`graded_together`, by :func:`reach`):
each failure then belongs to one mistake, so what each loses is its own, as if graded alone.
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


EVERYTHING = "*"  # a cell that can bind any name: every test it could touch is reached


def _module_level_names(tree: ast.Module) -> set[str]:
    """The names a cell can bind or change in the notebook's namespace (not a function's own locals).

    Besides plain bindings: the root of an attribute or item assignment (``net.fc = ...``, ``x[0] = ...``) and
    every name a function declares ``global``; :data:`EVERYTHING` for a star import or a reach into the
    namespace itself (``globals()``, ``exec``, ``get_ipython``). Not followed: an object changed in place by
    a call (``train(net, ...)`` on a ``net`` another cell made); in these notebooks each cell that trains
    an object makes it.
    """
    names: set[str] = set()
    for node in ast.walk(tree):  # anywhere, function bodies included: they run when called
        if isinstance(node, ast.Global):
            names.update(node.names)
        elif isinstance(node, ast.alias) and node.name == "*":
            names.add(EVERYTHING)
        elif isinstance(node, ast.Name) and node.id in {"globals", "exec", "eval", "get_ipython", "vars", "locals"}:
            names.add(EVERYTHING)
        elif isinstance(node, ast.NamedExpr):  # := binds in the enclosing scope, even from a comprehension
            names.add(node.target.id)
    # a comprehension's own variables are its locals, as a function's are
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
        elif isinstance(node, ast.Attribute | ast.Subscript) and not isinstance(node.ctx, ast.Load):
            names.add(_root(node))
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
        if not isinstance(node, scopes):
            todo.extend(ast.iter_child_nodes(node))
    names.discard("")
    return names


def _root(node: ast.AST) -> str:
    """The name an attribute or item chain starts from (``net`` for ``net.fc.weight[0]``), or ""."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


_REACH: dict[tuple[str, str], frozenset[str]] = {}


def reach(assignment: str, variant: Variant) -> frozenset[str]:
    """:func:`_reach`, computed once per assignment and variant name."""
    key = (assignment, variant.name)
    if key not in _REACH:
        _REACH[key] = _reach(assignment, variant)
    return _REACH[key]


def _reach(assignment: str, variant: Variant) -> frozenset[str]:
    """The autograded test cells whose outcome ``variant`` could change, by the names its cells bind.

    A name flow over the instructor notebook with the variant's answers in place. The changed cells taint
    every name they or the reference cells they replace bind or change (:func:`_module_level_names`); a
    top-level statement of another cell that reads a tainted name is reached and taints what it binds or
    changes, in any order (a function defined early reads a global late). A test cell is reached as a
    whole, by the names the grader fetches for it from the kernel. It runs in the grader, in a fresh namespace
    (``grading.remote``), so it passes no name on. It can change the kernel's random number generator (a
    hidden test builds the student's module there), which a name flow cannot follow: every cell that trains
    sets its seed first (``set_seed``), and a failure outside what a submission's mistakes reach fails
    tests/test_grading.py.
    """
    from grading.remote import free_names
    from helpers.checks import bound_names, loaded_names, parsed_cells

    nb = read(notebook_path(assignment, SOURCE))
    answers = variant.answers(assignment)
    reference = solutions(assignment)
    tests = set(autograded_cells(assignment))

    def parsed(name: str, source: str) -> ast.Module:
        tree = next(parsed_cells([source]))[2]
        if tree is None:
            raise VariantDrift(f"{assignment}/{variant.name}: cell {name!r} does not parse")
        return tree

    code = [c for c in nb.cells if c.cell_type == "code"]
    cells = []
    tainted: set[str] = set()
    for cell in code:
        if cell.cell_type != "code":
            continue
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if name in answers:
            tainted |= _module_level_names(parsed(name, answers[name]))
            tainted |= _module_level_names(parsed(name, reference[name]))
            continue
        tree = parsed(name, strip_markers(cell.source))
        if name in tests:  # what the grader fetches from the kernel for it (grading.remote.free_names)
            cells.append((name, free_names(strip_markers(cell.source)), set()))
            continue
        for statement in tree.body:  # each top-level statement on its own: `r = f(x)` taints r, not the cell
            unit = ast.Module(body=[statement], type_ignores=[])
            # a definition reads what its body loads but does not bind itself (its arguments are its own)
            definition = isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            reads = loaded_names(unit) - bound_names(unit) if definition else loaded_names(unit)
            cells.append((name, reads, _module_level_names(unit)))
    reached: set[str] = set()
    done: set[int] = set()
    changed = True
    while changed:
        changed = False
        for unit, (name, reads, binds) in enumerate(cells):
            if unit not in done and (reads & tainted or EVERYTHING in tainted):
                done.add(unit)
                reached.add(name)
                tainted |= binds
                changed = True
    return frozenset(reached & tests)


def graded_together(assignment: str, mistakes: list[Variant], correct: list[Variant] = ()) -> list[list[Variant]]:
    """Typical mistakes and other correct answers in groups graded as one submission each (first fit, in order).

    Two mistakes share a submission only when they change different solution cells and the test cells they can
    reach (:func:`reach`) are disjoint: each test cell that fails then belongs to exactly one of them, and what
    each loses is its own, as if it were graded alone. Another correct answer joins a group when it changes
    cells no member changes and reaches no test cell a mistake in it reaches (it must lose nothing there);
    correct answers may reach the same test cells as one another, since none of them may lose any.
    """
    groups: list[list[Variant]] = []

    def fits(variant: Variant, group: list[Variant]) -> bool:
        mine = reach(assignment, variant)
        for other in group:
            if set(variant.edits) & set(other.edits):
                return False
            if (variant.loses or other.loses) and mine & reach(assignment, other):
                return False
        return True

    for variant in [*mistakes, *correct]:
        home = next((g for g in groups if fits(variant, g)), None)
        if home is None:
            groups.append([variant])
        else:
            home.append(variant)
    return groups
