"""The typical mistakes and other correct answers in tests/variants apply to source/ as it is now."""

from __future__ import annotations

import pytest
from harness.notebooks import assignments, autograded_cells, solutions

from variants import CORRECT, MISTAKES, Variant, VariantDrift


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


def test_an_old_text_spans_a_scaffolds_comment_lines_and_nothing_else():
    """A scaffold's "# Step 2" lines between solution regions do not break a variant written against the code."""
    import re

    from variants import _allowing_comment_lines

    pattern = _allowing_comment_lines("a = 1\n    b = 2")
    assert re.search(pattern, "a = 1\n    # Step 2: b\n    b = 2")
    assert re.search(pattern, "a = 1\n    b = 2")
    assert not re.search(pattern, "a = 1\n    c = 3\n    b = 2")


@pytest.mark.parametrize("assignment", assignments())
def test_variants_graded_together_keep_each_mistakes_reach_apart(assignment):
    """The name flow (variants.reach) covers every test cell a mistake is known to lose; in a group no mistake
    reaches a test cell another variant reaches, and no two variants change the same cell."""
    from variants import graded_together, reach

    for variant in MISTAKES[assignment]:
        assert variant.loses <= reach(assignment, variant), (variant.name, variant.loses - reach(assignment, variant))
    groups = graded_together(assignment, MISTAKES[assignment], CORRECT[assignment])
    assert sorted(v.name for g in groups for v in g) == sorted(
        v.name for v in MISTAKES[assignment] + CORRECT[assignment]
    )
    for group in groups:
        for mistake in (v for v in group if v.loses):
            for other in group:
                assert other is mistake or not reach(assignment, mistake) & reach(assignment, other), (
                    mistake.name,
                    other.name,
                )
        cells = [k for v in group for k in v.edits]
        assert len(cells) == len(set(cells)), [v.name for v in group]
