"""Visible tests name the typical mistake they catch (issue "A beginner can do the day"; shared/notes' student trial).

Each visible test cell is run here, in process, as a student's kernel runs it, with a typical mistake's answer;
its message must name that mistake, not send the student to code that is already right.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import checks
from instructor.notebooks import SOURCE, grade_id, notebook_path, read


def _visible(assignment: str, cell_id: str) -> str:
    nb = read(notebook_path(assignment, SOURCE))
    source = next(c.source for c in nb.cells if grade_id(c) == cell_id)
    return source.split("### BEGIN HIDDEN TESTS")[0]


def _message(assignment: str, cell_id: str, **answers) -> str:
    with pytest.raises(AssertionError) as failed:
        exec(_visible(assignment, cell_id), {"checks": checks, "np": np, "torch": torch, **answers})  # noqa: S102
    return str(failed.value)


def test_an_rdm_with_the_sample_standard_deviation_is_told_so():
    """torch.std's default divides by M - 1: the diagonal is 1/M, and the hint says why, not "z-score each row"."""

    def rdm(resp):
        resp = torch.as_tensor(resp, dtype=torch.float64)
        z = (resp - resp.mean(1, keepdim=True)) / resp.std(1, keepdim=True)
        return 1 - z @ z.T / resp.shape[1]

    message = _message("t3_normative", "test_rdm_properties", rdm=rdm)
    assert "1/M" in message and "unbiased=False" in message, message


def test_indexing_an_rdm_with_the_triu_index_tensor_is_told_so():
    """rdm[torch.triu_indices(N, N, 1)] picks whole rows (a (2, K) index): the hint says how to index entries."""

    def correlate_rdms(rdm1, rdm2):
        n = rdm1.shape[0]
        index = torch.triu_indices(n, n, offset=1)
        a, b = rdm1[index].flatten(), rdm2[index].flatten()
        return float(torch.corrcoef(torch.stack([a, b]))[0, 1])

    message = _message("t3_normative", "test_correlate_rdms", correlate_rdms=correlate_rdms)
    assert "triu_indices" in message and "rows, cols" in message, message
