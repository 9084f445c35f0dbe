"""The typical mistakes and other correct answers in tests/variants apply to source/ as it is now."""

from __future__ import annotations

import pytest
from harness.notebooks import assignments, autograded_cells, solutions

from variants import CORRECT, MISTAKES, Variant, VariantDrift, together


@pytest.mark.parametrize("assignment", assignments())
def test_every_variant_applies_to_the_current_source_and_names_real_test_cells(assignment):
    tests = set(autograded_cells(assignment))
    names = [v.name for v in MISTAKES[assignment] + CORRECT[assignment]]
    assert len(names) == len(set(names)), "variant names repeat"
    assert MISTAKES[assignment], "every assignment has typical mistakes"
    for variant in MISTAKES[assignment] + CORRECT[assignment]:
        answers = variant.answers(assignment)
        assert answers and all(answers[k] != solutions(assignment)[k] for k in answers)
        assert variant.loses <= tests, (variant.name, variant.loses - tests)
    assert all(v.loses for v in MISTAKES[assignment]) and not any(v.loses for v in CORRECT[assignment])
    unnamed = [v.name for v in MISTAKES[assignment] if not v.hint.strip()]
    assert not unnamed, f"typical mistakes without the hint their first failing test must give: {unnamed}"


def test_a_variant_whose_source_changed_fails_loudly():
    assignment = assignments()[0]
    grade_id = next(iter(solutions(assignment)))
    stale = Variant("stale", {grade_id: [("text that is not in the solution", "x")]})
    with pytest.raises(VariantDrift, match="occurs 0 times"):
        stale.answers(assignment)


def test_a_whole_cell_replacement_stands_alone():
    from variants import WHOLE

    assignment = assignments()[0]
    grade_id = next(iter(solutions(assignment)))
    whole = Variant("whole", {grade_id: [(WHOLE, "answer = 42")]})
    assert whole.answers(assignment) == {grade_id: "answer = 42"}
    mixed = Variant("mixed", {grade_id: [(WHOLE, "answer = 42"), ("answer", "x")]})
    with pytest.raises(VariantDrift, match="only replacement"):
        mixed.answers(assignment)


@pytest.mark.parametrize("assignment", assignments())
def test_correct_answers_graded_together_change_different_cells(assignment):
    groups = together(CORRECT[assignment])
    assert sorted(v.name for g in groups for v in g) == sorted(v.name for v in CORRECT[assignment])
    for group in groups:
        cells = [k for v in group for k in v.edits]
        assert len(cells) == len(set(cells)), [v.name for v in group]


def test_variants_that_change_the_same_cell_are_graded_apart():
    a = Variant("a", {"x": [("1", "2")]})
    b = Variant("b", {"x": [("1", "3")], "y": [("1", "2")]})
    c = Variant("c", {"y": [("1", "4")]})
    d = Variant("d", {"z": [("1", "4")]})
    assert together([a, b, c, d]) == [[a, c, d], [b]]


def test_an_old_text_spans_a_scaffolds_comment_lines_and_nothing_else():
    """A scaffold's "# Step 2" lines between solution regions do not break a variant written against the code."""
    import re

    from variants import _allowing_comment_lines

    pattern = _allowing_comment_lines("a = 1\n    b = 2")
    assert re.search(pattern, "a = 1\n    # Step 2: b\n    b = 2")
    assert re.search(pattern, "a = 1\n    b = 2")
    assert not re.search(pattern, "a = 1\n    c = 3\n    b = 2")


@pytest.mark.parametrize("assignment", assignments())
def test_mistakes_graded_together_reach_disjoint_tests_and_each_reaches_what_it_loses(assignment):
    """The name flow (variants.reach) covers every test cell a mistake is known to lose; groups never share one."""
    from variants import graded_together, reach

    for variant in MISTAKES[assignment]:
        assert variant.loses <= reach(assignment, variant), (variant.name, variant.loses - reach(assignment, variant))
    for group in graded_together(assignment, MISTAKES[assignment]):
        reached = [reach(assignment, v) for v in group]
        assert sum(map(len, reached)) == len(set().union(*reached)), [v.name for v in group]
        cells = [k for v in group for k in v.edits]
        assert len(cells) == len(set(cells)), [v.name for v in group]
