"""Device selection and seeding."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

DEVICE_ENV = "COURSE_DEVICE"
"""Environment variable that overrides device selection (e.g. ``cpu`` or ``cuda``)."""


def get_device() -> torch.device:
    """The device the notebooks compute on.

    ``$COURSE_DEVICE`` wins when set (e.g. ``cpu``, ``cuda``, ``cuda:1``);
    otherwise CUDA when available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    RuntimeError
        If the override names a device that is not usable here, such as
        ``cuda`` on a machine without a GPU.
    """
    override = os.environ.get(DEVICE_ENV, "").strip()
    if override:
        try:
            device = torch.device(override)
        except RuntimeError as err:
            raise RuntimeError(f"{DEVICE_ENV}={override!r} is not a device name torch understands") from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{DEVICE_ENV}={override!r} asks for CUDA, but torch sees no GPU on this machine")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_seed(seed: int = 2021) -> int:
    """Seed Python's, NumPy's and torch's random generators.

    Parameters
    ----------
    seed : int

    Returns
    -------
    int
        The seed, so a notebook can print it.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed
