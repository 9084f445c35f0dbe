"""The reference answers score full marks on files in the published layouts, graded as a class is graded.

The data folder holds the day's two files as the published recording has them (``oribinned1`` with 1-D
``stimuli``, ``oribinned6_split`` with a column, both float64; recording-like arrays with fewer neurons than the
recording, which the claims tests run at full size). Their MD5 is not the published one, so the grader's trusted
setup and the sandboxed kernel both read them as a local copy; the kernel's setup cell says so in the autograded
notebook. Graded through plain ``nbgrader autograde`` and through ``course grade`` (real Dask workers).
"""

from __future__ import annotations

import published_files
import pytest

from instructor import classgrade
from instructor.notebooks import autograded_cells, reference_submission

pytestmark = pytest.mark.slow
DATA_ASSIGNMENTS = ["t1_decoding", "t3_normative", "t4_encoding"]  # the assignments that load V1 data


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return published_files.write_day(tmp_path_factory.mktemp("recording-data"), n_neurons=3000)


def _full_marks(course, assignment, student="reference"):
    tests = set(autograded_cells(assignment))
    full = {name: points for name, points in course.max_scores(assignment).items() if name in tests}
    assert course.test_scores(student, assignment) == full, assignment
    graded = course.root / "autograded" / student / assignment
    text = "".join(path.read_text() for path in graded.glob("*.ipynb"))
    assert "LOCAL COPY" in text and "SIMULATED" not in text, f"{assignment}: the kernel did not read the files"


@pytest.mark.parametrize("way", ["nbgrader autograde", "course grade"])
def test_reference_answers_score_full_marks_on_files_in_the_published_layouts(make_course, recording, monkeypatch, way):
    monkeypatch.setenv("COURSE_DATA_DIR", str(recording))
    monkeypatch.setenv("COURSE_OFFLINE", "1")  # never a download: the files are read as they are
    monkeypatch.delenv("COURSE_SIMULATED_POPULATION", raising=False)
    course = make_course(DATA_ASSIGNMENTS)
    for assignment in DATA_ASSIGNMENTS:
        course.submit("reference", assignment, reference_submission(assignment))
        if way == "course grade":
            outcomes = classgrade.grade(course.root, assignment, workers=2)
            assert [o.status for o in outcomes] == ["graded"], outcomes
        else:
            run = course.nbgrader("autograde", assignment, "--force")
            assert run.ok, run.output[-3000:]
        _full_marks(course, assignment)
