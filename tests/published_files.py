"""Data files in the layouts the published recording has, for tests (not shipped).

The published files, as Neuromatch Academy's own loaders read them (``load_data`` and
``load_data_split`` of its W1D5 tutorials):

* ``W3D4_stringer_oribinned1.npz``: ``resp`` (n_bins, n_neurons) float64 and ``stimuli``
  **1-D** (n_bins,), the mean angle of the trials in each 1-degree bin (the loader adds the
  column with ``.unsqueeze(1)``);
* ``W3D4_stringer_oribinned6_split.npz``: ``resp_train``, ``resp_test`` (n_bins, n_neurons)
  and ``stimuli``, described by the loader as an (n_bins, 1) column, read either way.

The arrays come from the recording-like simulated population (trials z-scored, then binned).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers import data

# (file, stimuli as a column?, dtype): each layout a published file can have
LAYOUTS = {
    "oribinned1-1d-float64": ("oribinned1", False, np.float64),  # as Neuromatch's load_data reads it
    "oribinned1-1d-float32": ("oribinned1", False, np.float32),
    "oribinned6_split-column-float64": ("oribinned6_split", True, np.float64),  # as load_data_split describes it
    "oribinned6_split-1d-float64": ("oribinned6_split", False, np.float64),
    "oribinned6_split-column-float32": ("oribinned6_split", True, np.float32),
}


def arrays(name: str, column: bool, dtype, n_neurons: int | None = None, seed: int = 7) -> dict[str, np.ndarray]:
    """The arrays of a published file: recording-like, with ``stimuli`` 1-D or a column."""
    raw = data.simulate_v1(name, n_neurons=n_neurons, seed=seed, population_name="recording_like")
    out = {key: value.astype(dtype) for key, value in raw.items()}
    assert out["stimuli"].ndim == 1
    if column:
        out["stimuli"] = out["stimuli"][:, None]
    return out


def write(folder: Path, layout: str, n_neurons: int | None = None, seed: int = 7) -> Path:
    """Write the file of ``layout`` (a key of :data:`LAYOUTS`) under its published name in ``folder``."""
    name, column, dtype = LAYOUTS[layout]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / data.DATASETS[name].filename
    np.savez(path, **arrays(name, column, dtype, n_neurons, seed))
    return path


def write_day(folder: Path, n_neurons: int | None = None) -> Path:
    """Both files of the day in the layouts Neuromatch's loaders document (1-D, and column), in ``folder``."""
    write(folder, "oribinned1-1d-float64", n_neurons)
    write(folder, "oribinned6_split-column-float64", n_neurons)
    return folder
