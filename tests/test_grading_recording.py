"""The reference answers score full marks on files in the published layouts, graded as a class is graded.

The data folder holds the day's two files in the published layouts the claims tests do not run the notebooks
on (``oribinned1`` in float32, ``oribinned6_split`` with 1-D ``stimuli``; the claims tests use the layouts
Neuromatch's loaders document, at the recording's full neuron count): recording-like arrays with fewer
neurons. Their MD5 is not the published one, so the grader's trusted setup and the sandboxed kernel both read
them as a local copy; the kernel's setup cell says so in the autograded notebook. Graded through plain
``nbgrader autograde`` (all three assignments that load data) and through ``course grade`` (real Dask workers;
t1, whose kernel reads the data folder the workers pass on, as every assignment's does).
"""

from __future__ import annotations

import published_files
import pytest
from harness.notebooks import autograded_cells, reference_submission

from instructor import classgrade

pytestmark = pytest.mark.slow
DATA_ASSIGNMENTS = ["t1_decoding", "t3_normative", "t4_encoding"]  # the assignments that load V1 data
# course grade passes the data folder (not a file) on through its Dask workers to the sandbox: one assignment
# proves it; plain autograde grades all three, on both files
BY_WAY = {"nbgrader autograde": DATA_ASSIGNMENTS, "course grade": ["t1_decoding"]}


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recording-data")
    published_files.write(folder, "oribinned1-1d-float32", n_neurons=3000)
    published_files.write(folder, "oribinned6_split-1d-float64", n_neurons=3000)
    return folder


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
    course = make_course(BY_WAY[way])
    for assignment in BY_WAY[way]:
        course.submit("reference", assignment, reference_submission(assignment))
        if way == "course grade":
            outcomes = classgrade.grade(course.root, assignment, workers=1)  # one submission: one worker
            assert [o.status for o in outcomes] == ["graded"], outcomes
        else:
            run = course.nbgrader("autograde", assignment, "--force")
            assert run.ok, run.output[-3000:]
        _full_marks(course, assignment)
