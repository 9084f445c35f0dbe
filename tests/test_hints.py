"""Visible tests name the typical mistake they catch (issue "A beginner can do the day"; shared/notes' student trial).

Each visible test cell is run here, in process, as a student's kernel runs it, with a typical mistake's answer;
its message must name that mistake, not send the student to code that is already right.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from harness.notebooks import SOURCE, grade_id, notebook_path, read

from helpers import checks


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


def _conv2d_by_hand(extra: int):
    """A loop conv2d_by_hand whose output has ``extra`` more positions per side than it should."""

    def conv2d_by_hand(image, kernel, padding=0, stride=1):
        padded = torch.nn.functional.pad(image, (padding,) * 4)
        k = kernel.shape[0]
        size = [(n - k) // stride + 1 + extra for n in padded.shape]
        out = torch.zeros(size)
        for i in range(size[0]):
            for j in range(size[1]):
                out[i, j] = (padded[i * stride : i * stride + k, j * stride : j * stride + k] * kernel).sum()
        return out

    return conv2d_by_hand


def test_an_output_one_short_is_told_to_add_one_not_to_pad():
    """The student trial's padding mistake: the + 1 left out of the size, and the hint blamed the padding."""
    message = _message("t2_convolutions", "test_conv2d_by_hand_padding", conv2d_by_hand=_conv2d_by_hand(-1))
    assert "+ 1" in message and "short" in message, message


def test_a_layer_with_a_bias_is_not_told_its_forward_is_wrong():
    """A layer whose forward is right but whose bias was not zeroed: the forward test names the bias."""
    from helpers.filters import filter_bank

    class ConvolutionalLayer(torch.nn.Module):
        def __init__(self, c_in=1, c_out=6, K=7, filters=None):
            super().__init__()
            self.conv = torch.nn.Conv2d(c_in, c_out, K, padding=K // 2)
            if filters is not None:
                with torch.no_grad():
                    self.conv.weight.copy_(torch.as_tensor(filters, dtype=torch.float32))

        def forward(self, s):
            return self.conv(s)

    message = _message(
        "t2_convolutions", "test_layer_forward", ConvolutionalLayer=ConvolutionalLayer, filter_bank=filter_bank
    )
    assert "bias is not zero" in message and "forward itself may be right" in message, message


def test_a_two_dimensional_kernel_given_to_conv2d_gets_the_course_hint():
    """B.2: F.conv2d with a (K, K) kernel raises PyTorch's error; the test says what shape it wants."""
    import torch.nn.functional as F

    def complex_cell_energy(stimuli, even, odd):
        k = even.shape[-1]
        return F.conv2d(stimuli, even, padding=k // 2) ** 2 + F.conv2d(stimuli, odd, padding=k // 2) ** 2

    message = _message("t2_convolutions", "test_complex_cell_energy", complex_cell_energy=complex_cell_energy)
    assert "even[None, None]" in message and "(C_out, C_in, K, K)" in message, message


def test_an_accuracy_returned_as_a_tensor_passes_with_a_note(capsys):
    """The text asks for a Python float; a 0-d tensor is accepted, and the test says so instead of staying silent."""

    def accuracy(p, y):
        return ((p > 0.5).float() == y).float().mean()

    exec(_visible("t3_normative", "test_accuracy"), {"checks": checks, "np": np, "torch": torch, "accuracy": accuracy})  # noqa: S102
    printed = capsys.readouterr().out
    assert "Note: accuracy returned a Tensor" in printed and "Visible test passed." in printed


def test_assert_close_names_the_typical_mistake_a_wrong_value_matches():
    """checks.assert_close's ``mistakes``: the first wrong value within atol gives its hint; others the plain hint."""
    expected, wrong = torch.tensor([1.0, 2.0]), torch.tensor([1.0, -2.0])
    with pytest.raises(AssertionError, match="the sign is flipped"):
        checks.assert_close(wrong, expected, hint="plain", mistakes=[(wrong, "the sign is flipped")])
    with pytest.raises(AssertionError, match="plain$"):
        checks.assert_close(wrong + 1, expected, hint="plain", mistakes=[(wrong, "the sign is flipped")])
    checks.assert_close(expected, expected, mistakes=[(expected, "never said for a right answer")])
    # a mistake of another shape never matches, and never raises a shape error of its own
    with pytest.raises(AssertionError, match="plain$"):
        checks.assert_close(wrong, expected, hint="plain", mistakes=[(torch.zeros(3), "other shape")])
