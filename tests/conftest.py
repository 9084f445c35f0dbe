"""Shared fixtures: the repository root and a non-interactive matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


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
