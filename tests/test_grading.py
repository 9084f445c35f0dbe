"""The autograder, proved with real nbgrader on a scratch course folder.

For every assignment: release/ is what nbgrader generates; no solution or hidden
test leaks into it; the reference answers score full marks; the untouched
release scores zero; each typical mistake loses exactly the test cells it should, and its first
failing test (a visible one, unless the mistake says otherwise) prints the hint that names it;
other correct answers (and answers that warn) keep full marks. Variants share a submission
(``variants.graded_together``) only when they change different cells and no mistake among them
can reach a test cell another variant reaches (by the names their cells bind): each failure then
belongs to one mistake, and no failure may fall outside what the mistakes reach.

Each assignment's submissions (reference, untouched release, every variant) are
graded by one ``nbgrader autograde <assignment>`` run, as an instructor grades a
class, and all tests of that assignment live in one class (``TestGrading_<assignment>``), which
``--dist loadscope`` keeps on one test worker.
"""

from __future__ import annotations

import filecmp
import re

import nbformat
import pytest
from colab import as_colab_saves_it
from harness.notebooks import (
    RELEASE,
    SOURCE,
    assignments,
    autograded_cells,
    autograded_points,
    grade_id,
    notebook_path,
    read,
    reference_submission,
)
from harness.scratch import Course

from grading.remote import HIDDEN_FAILURE
from variants import CORRECT, MISTAKES, graded_together, reach

pytestmark = pytest.mark.slow
ASSIGNMENTS = assignments()
COLAB = {"t2_convolutions"}  # a reference submission round-tripped through Colab's format (tests/colab.py)


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """One scratch course (per test worker) with every assignment generated into its gradebook, graded on the
    default simulated population whatever this machine holds (no data folder, no download)."""
    course = Course.create(tmp_path_factory.mktemp("course"), ASSIGNMENTS)
    course.env = {
        "COURSE_OFFLINE": "1",
        "COURSE_SIMULATED_POPULATION": "default",
        "COURSE_DATA_DIR": str(course.root / "no-data-folder"),
    }
    return course


_BATCHES: dict[str, dict[str, dict[str, float]]] = {}


def _student(prefix: str, name: str) -> str:
    return f"{prefix}-{name}".replace("_", "-")


_GROUPS: dict[str, dict[str, list]] = {}


def _groups(assignment: str) -> dict[str, list]:
    """Student name -> the typical mistakes and other correct answers graded together in that one submission
    (``variants.graded_together``)."""
    if assignment not in _GROUPS:
        groups = graded_together(assignment, MISTAKES.get(assignment, []), CORRECT.get(assignment, []))
        _GROUPS[assignment] = {f"variants-{i}": group for i, group in enumerate(groups, start=1)}
    return _GROUPS[assignment]


def _holder(assignment: str, variant) -> str:
    """The student whose submission holds ``variant``."""
    return next(student for student, group in _groups(assignment).items() if variant in group)


def _batch(course, assignment) -> dict[str, dict[str, float]]:
    """Scores of every submission of ``assignment``, graded in one nbgrader run (once per worker).

    A failed run is remembered too, so that the assignment's other tests report it without grading again.
    """
    if assignment not in _BATCHES:
        submissions = {
            "reference": reference_submission(assignment),
            "untouched": read(notebook_path(assignment, RELEASE)),
        }
        if assignment in COLAB:  # what a student in Colab hands in: the same answers, saved by Colab
            submissions["colab"] = as_colab_saves_it(reference_submission(assignment))
        for student, group in _groups(assignment).items():
            answers = {k: v for variant in group for k, v in variant.answers(assignment).items()}
            submissions[student] = reference_submission(assignment, answers)
        for student, notebook in submissions.items():
            course.submit(student, assignment, notebook)
        run = course.nbgrader("autograde", assignment, "--force", timeout=3600)
        scores = {student: course.scores(student, assignment) for student in submissions}
        missing = sorted(student for student, graded in scores.items() if graded is None)
        _BATCHES[assignment] = scores
        if missing or not run.ok:
            errors = "\n".join(run.errors()) or run.output[-3000:]
            _BATCHES[assignment] = AssertionError(f"autograde {assignment}: not graded {missing}:\n{errors}")
    if isinstance(_BATCHES[assignment], Exception):
        raise _BATCHES[assignment]
    return _BATCHES[assignment]


def _tests_of(course, assignment):
    return {
        name: points for name, points in course.max_scores(assignment).items() if name in autograded_cells(assignment)
    }


def test_every_assignment_has_a_release():
    assert ASSIGNMENTS, "no assignments under source/"
    assert sorted(p.name for p in RELEASE.iterdir() if p.is_dir()) == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_exactly_what_nbgrader_generates(course, assignment):
    generated = course.release_notebook(assignment)
    committed = notebook_path(assignment, RELEASE)
    assert generated.name == committed.name
    assert filecmp.cmp(generated, committed, shallow=False), f"release/{assignment} is stale: run `make release`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_contains_no_solution_and_no_hidden_test(assignment):
    text = notebook_path(assignment, RELEASE).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "MARK SCHEME"):
        assert marker not in text, marker
    released = {line.strip() for c in read(notebook_path(assignment, RELEASE)).cells for line in c.source.splitlines()}
    # every line of a solution or of a hidden test that is specific enough to identify it
    source_nb = read(notebook_path(assignment, SOURCE))
    secret_lines, public_lines = set(), set()
    block = re.compile(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END (?:SOLUTION|HIDDEN TESTS)", flags=re.S)
    for cell in source_nb.cells:
        for secret in block.findall(cell.source):
            secret_lines |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= 25}
        public_lines |= {line.strip() for line in block.sub("", cell.source).splitlines()}
    secret_lines -= public_lines  # a hidden test may repeat a visible line; that line is no secret
    assert secret_lines, "found no solution lines to look for"
    leaked = [line for line in secret_lines if line in released]
    assert not leaked, f"solution or hidden-test lines in release/{assignment}: {leaked[:5]}"


def _lost_by(course, assignment, student, variant=None):
    """The autograded test cells ``student`` did not get full marks on, with scores; of ``variant``, those it
    can reach (the others belong to the mistakes graded with it)."""
    scores = _batch(course, assignment)[student]
    tests = _tests_of(course, assignment)
    if variant is not None:
        assert variant.loses <= set(tests), f"unknown test cells in the mistake library: {variant.loses - set(tests)}"
        tests = {name: points for name, points in tests.items() if name in reach(assignment, variant)}
    return {name: scores[name] for name, points in tests.items() if scores[name] < points}


def _failures(course, student: str, assignment: str) -> list[tuple[str, str]]:
    """(grade_id, message) of each autograded test cell that failed in ``student``'s graded notebook, in order.

    The message is the error's value, as the student reads it after the exception's name.
    """
    tests = set(autograded_cells(assignment))
    failed = []
    for cell in read(course.autograded_notebook(student, assignment)).cells:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id(cell) in tests and errors:
            failed.append((grade_id(cell), str(errors[0].get("evalue"))))
    return failed


def _grading_tests(assignment: str) -> type:
    """The tests of one assignment's batch, as a class (one test worker grades the batch once)."""

    class GradingTests:
        def test_reference_answers_score_full_marks(self, course):
            scores = _batch(course, assignment)["reference"]
            tests = _tests_of(course, assignment)
            assert tests, "no autograded test cells"
            assert {name: scores[name] for name in tests} == tests

        def test_untouched_release_scores_zero(self, course):
            scores = _batch(course, assignment)["untouched"]
            assert sum(scores.values()) == 0, {k: v for k, v in scores.items() if v}

        @pytest.mark.parametrize("variant", MISTAKES.get(assignment, []), ids=lambda v: v.name)
        def test_each_mistake_loses_exactly_its_points(self, course, variant):
            lost = _lost_by(course, assignment, _holder(assignment, variant), variant)
            assert set(lost) == set(variant.loses), (
                f"{variant.name}: lost {sorted(lost)}, expected {sorted(variant.loses)}"
            )
            assert all(score == 0 for score in lost.values())

        @pytest.mark.parametrize("student", list(_groups(assignment)))
        def test_every_point_a_submission_of_variants_loses_belongs_to_one_of_its_mistakes(self, course, student):
            group = _groups(assignment)[student]
            reached = set().union(*(reach(assignment, v) for v in group if v.loses))
            lost = _lost_by(course, assignment, student)
            assert set(lost) <= reached, (
                f"{', '.join(v.name for v in group)} lost {sorted(set(lost) - reached)}, which none of them reaches"
            )

        @pytest.mark.parametrize("variant", MISTAKES.get(assignment, []), ids=lambda v: v.name)
        def test_each_mistakes_first_failing_test_names_it(self, course, variant):
            _batch(course, assignment)
            failures = [
                (cell, message)
                for cell, message in _failures(course, _holder(assignment, variant), assignment)
                if cell in reach(assignment, variant)
            ]
            assert failures, f"{variant.name}: no test cell failed"
            cell, message = failures[0]
            where = "a hidden test" if message.startswith(HIDDEN_FAILURE) else "a visible test"
            assert where == ("a hidden test" if variant.hidden else "a visible test"), (
                f"{variant.name}: the first failure is {where} ({cell}: {message})"
            )
            assert variant.hint in message, f"{variant.name}: {cell} says {message!r}, not {variant.hint!r}"

        @pytest.mark.parametrize("variant", CORRECT.get(assignment, []), ids=lambda v: v.name)
        def test_other_correct_answers_score_full_marks(self, course, variant):
            student = _holder(assignment, variant)
            lost = _lost_by(course, assignment, student, variant)
            assert not lost, (
                f"{variant.name} is correct, but the submission that holds it "
                f"({', '.join(v.name for v in _groups(assignment)[student])}) lost points it reaches: {lost}"
            )

    if assignment in COLAB:

        def test_a_notebook_saved_by_colab_grades_as_the_original(self, course):
            batch = _batch(course, assignment)
            assert batch["colab"] == batch["reference"]

        GradingTests.test_a_notebook_saved_by_colab_grades_as_the_original = (
            test_a_notebook_saved_by_colab_grades_as_the_original
        )
    GradingTests.__name__ = GradingTests.__qualname__ = f"TestGrading_{assignment}"
    return GradingTests


for _assignment in ASSIGNMENTS:
    globals()[f"TestGrading_{_assignment}"] = _grading_tests(_assignment)


def test_reference_submission_fills_every_solution_cell():
    for assignment in ASSIGNMENTS:
        nb = reference_submission(assignment)
        answers = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        assert answers
        stubs = [c for c in answers if "NotImplementedError" in c.source or c.source.strip() == "YOUR ANSWER HERE"]
        assert not stubs, stubs
        nbformat.validate(nb)


# the demo on the cheapest assignment: every assignment's reference and untouched release are graded above
DEMO = ["t2_convolutions"]


def test_make_course_grades_the_demo_submissions(tmp_path, capsys):
    """`make course` (harness.demo) prints the expected score table, and a broken file does not stop the others."""
    from harness.demo import cli

    assert cli(["--folder", str(tmp_path / "course"), *DEMO]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("student "))
    starts = [m.start() for m in re.finditer(r"\S+", lines[header])]
    names = lines[header].split()[1:]
    assert names == DEMO, out
    rows = {}
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows[cells[0]] = dict(zip(names, cells[1:], strict=True))
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin"}, out
    for name in DEMO:
        points = autograded_points(name)
        total = sum(points.values())
        assert rows["alice"][name] == f"{total:g}/{total:g}", out
        assert rows["carol"][name] == f"0/{total:g}", out
        assert rows["dave"][name].startswith("not graded: invalid"), out
        bob = float(rows["bob"][name].split("/")[0])
        assert 0 < bob < total, out
        # erin handed in a complete notebook under another name, outside the assignment's folder
        assert rows["erin"][name] == f"{total:g}/{total:g}", out
        assert f"graded my_{name}_final.ipynb as {name}/{name}.ipynb" in out, out
    assert (tmp_path / "course" / "grades.csv").read_text().count("\n") >= 5
    for name in DEMO:
        assert (tmp_path / "course" / "feedback" / "alice" / name / f"{name}.html").exists()
