"""Device selection and seeding."""

import random

import numpy as np
import pytest
import torch

from helpers.device import get_device, set_seed


def test_default_is_cuda_when_available_else_cpu(no_device_override):
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert get_device().type == expected


def test_override_selects_cpu(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_override_to_cuda_without_gpu_fails_clearly(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="no GPU"):
        get_device()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_override_to_cuda_with_gpu(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    assert get_device().type == "cuda"


def test_nonsense_override_fails_clearly(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "banana")
    with pytest.raises(RuntimeError, match="COURSE_DEVICE"):
        get_device()


def test_set_seed_makes_all_three_generators_repeat():
    set_seed(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    set_seed(8)
    assert torch.rand(1).item() != first[2]
