"""Shared fixtures: the repository root and a non-interactive matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

# Under pytest-xdist every test worker runs kernels (nbmake, nbgrader) side by side: give each worker's
# kernels its share of the cores, as Dask's worker processes do, instead of letting every PyTorch and
# OpenMP pool take all of them (oversubscribed, the T4 batch ran 3x slower on 2 cores).
_XDIST_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _XDIST_WORKERS > 1:
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, str(max(1, (os.cpu_count() or 1) // _XDIST_WORKERS)))

ROOT = Path(__file__).resolve().parents[1]

# Longest first. `make test` runs `--dist loadscope --no-loadscope-reorder`: xdist hands each worker whole
# scopes (a module, or a class of tests/test_grading.py) in collection order, so starting the longest ones
# (measured with --durations=0) and letting the short ones fill the gaps balances the workers.
LONGEST_FIRST = (
    "tests/test_classgrade.py",
    "tests/test_grading_kernel_attacks.py",
    "TestGrading_t3_normative",
    "TestGrading_t4_encoding",
    "tests/test_grading_bounds.py",
    "tests/test_claims.py",
    "TestGrading_t2_convolutions",
    "tests/test_grading_recording.py",
    "tests/test_grading_robustness.py",
    "tests/test_grading_attacks.py",
    "tests/e2e/test_lab.py",
    "TestGrading_t1_decoding",
    "tests/test_student_wheel.py",
    "tests/test_lms.py",
)


def _rank(item) -> int:
    return next((i for i, key in enumerate(LONGEST_FIRST) if key in item.nodeid), len(LONGEST_FIRST))


def pytest_collection_modifyitems(config, items):
    """Put the longest scopes first (a stable sort: the order within a scope is kept)."""
    items.sort(key=_rank)


_BUSY: dict[str, float] = {}  # seconds of tests (setup, call, teardown) per xdist worker, seen by the controller


def pytest_runtest_logreport(report):
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    if gateway is not None:
        _BUSY[gateway.id] = _BUSY.get(gateway.id, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    """How evenly the workers were loaded (see LONGEST_FIRST)."""
    if _BUSY:
        busy = ", ".join(f"{worker} {seconds:.0f} s" for worker, seconds in sorted(_BUSY.items()))
        terminalreporter.write_line(f"busy time per test worker: {busy}")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test made, so memory does not grow across tests."""
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture
def no_device_override(monkeypatch):
    """Remove the device override so a test sees the default selection."""
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    return os.environ


@pytest.fixture
def one_line_course(tmp_path):
    """A course folder (no gradebook yet) whose one assignment, t2, is a one-line notebook; plain nbgrader config."""
    import nbformat

    root = tmp_path / "course"
    (root / "source" / "t2").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    (root / "source" / "t2" / "t2.ipynb").write_text(nbformat.writes(nb))
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    return root


@pytest.fixture(scope="session")
def make_course(tmp_path_factory):
    """Factory of scratch nbgrader courses: ``make_course(["t2_convolutions"], extra_config="", sandbox=None)``.

    Each call makes a fresh course folder (a copy of ``source/`` and the course's
    ``nbgrader_config.py``, assignments generated into its own gradebook).
    """
    from harness.scratch import Course

    def make(assignments, **options):
        return Course.create(tmp_path_factory.mktemp("course"), list(assignments), **options)

    return make
