"""Mouse V1 responses to oriented gratings: download with checksum and cache, or simulate offline.

The real data are the binned recordings of Stringer et al. (2021), *Cell* 184:2767,
as published for teaching on OSF (and read by Neuromatch Academy's own loaders):

* ``oribinned1``: ``W3D4_stringer_oribinned1.npz``, keys ``resp`` (stimuli x neurons,
  z-scored over trials, then averaged in 1-degree bins) and ``stimuli`` (the mean
  angle of the trials in each bin, in degrees, stored **1-D**: Neuromatch's
  ``load_data`` adds the column itself);
* ``oribinned6_split``: ``W3D4_stringer_oribinned6_split.npz``, keys ``resp_train``,
  ``resp_test`` (two halves of the trials, each averaged in 6-degree bins) and
  ``stimuli`` (described by Neuromatch as a column; read either way).

Whatever a file holds (1-D or column ``stimuli``, float64 or float32, any number of
neurons), :func:`load_v1` returns the documented layout, :func:`normalise`:
``(n_stimuli, n_neurons)`` float32 responses and ``(n_stimuli, 1)`` float32 angles.
Anything else raises :class:`LayoutError`, which names the file, the key, the shape
found and the shape expected.

:func:`load_v1` returns, in this order: a file you name (``path=``); the file in the
data folder (the published one, or a **local copy** an instructor put there, labelled
as such when its MD5 differs from the published one); a download, written to a
temporary file, checked against its MD5 and only then moved into the data folder, so
a partial or corrupted download is never cached or used; and otherwise a
**simulated** population (:func:`simulate_v1`), saying loudly which one it returned.
:attr:`V1Data.source` records it.

The data folder is ``$COURSE_DATA_DIR``, or ``~/.cache/cnn-vision-course``.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Remote:
    """A published file: its name, where to get it, and its MD5."""

    filename: str
    url: str
    md5: str
    bin_width: int  # degrees
    keys: tuple[str, ...]


DATASETS = {
    "oribinned1": Remote(
        "W3D4_stringer_oribinned1.npz",
        "https://osf.io/683xc/download",
        "436599dfd8ebe6019f066c38aed20580",
        1,
        ("resp", "stimuli"),
    ),
    "oribinned6_split": Remote(
        "W3D4_stringer_oribinned6_split.npz",
        "https://osf.io/p3aeb/download",
        "b3f7245c6221234a676b71a1f43c3bb5",
        6,
        ("resp_train", "resp_test", "stimuli"),
    ),
}


class DownloadError(RuntimeError):
    """The file could not be fetched (no network, server error, timeout)."""


class ChecksumError(RuntimeError):
    """The fetched file is not the published one (partial or corrupted download)."""


class LayoutError(ValueError):
    """A data file (or array) is not in a layout the published files have.

    The message names the file, the key, the shape (or dtype) found and the one expected.
    """


RECORDED_NEURONS = 23589
"""Neurons in the published binned files (one recording of Stringer et al., 2021)."""


@dataclass
class V1Data:
    """Arrays of one data set and where they came from.

    Attributes
    ----------
    arrays : dict of str to numpy.ndarray
        ``resp`` or ``resp_train``/``resp_test``: (n_stimuli, n_neurons), float32;
        ``stimuli``: (n_stimuli, 1), float32, orientation in degrees (what :func:`normalise` returns).
    source : str
        ``"download"``, ``"cache"`` (the published file), ``"local"`` (a file that is not the
        published one: a local copy whose MD5 differs) or ``"simulated"``.
    name : str
        Key in :data:`DATASETS`.
    note : str
        Why the data are simulated, or how a local copy differs from the published file.
    """

    arrays: dict[str, np.ndarray]
    source: str
    name: str
    note: str = ""

    @property
    def simulated(self) -> bool:
        return self.source == "simulated"

    @property
    def recorded(self) -> bool:
        """True for the published file (downloaded or cached), whose MD5 was checked."""
        return self.source in ("download", "cache")

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def keys(self):
        return self.arrays.keys()


def cache_dir() -> Path:
    """Folder where downloaded data are kept."""
    return Path(os.environ.get("COURSE_DATA_DIR", Path.home() / ".cache" / "cnn-vision-course"))


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, destination: Path, md5: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``destination`` if the MD5 matches; never leave a bad file behind.

    Raises
    ------
    DownloadError
        When the server cannot be reached or answers with an error.
    ChecksumError
        When the downloaded bytes do not have the expected MD5.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=destination.name + ".", suffix=".part", dir=destination.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    while block := response.read(1 << 20):
                        out.write(block)
            except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as err:
                raise DownloadError(f"could not download {url}: {err}") from err
        actual = md5sum(tmp)
        if actual != md5:
            raise ChecksumError(f"{url} gave a file with MD5 {actual}, expected {md5}: not cached, not used")
        tmp.replace(destination)
        return destination
    finally:
        tmp.unlink(missing_ok=True)


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _numeric(value: np.ndarray, key: str, origin: str) -> np.ndarray:
    if value.dtype.kind not in "fiu":
        raise LayoutError(f"{origin}: key {key!r} has dtype {value.dtype}; expected real numbers (float64 or float32)")
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        bad = int(value.size - np.isfinite(value).sum())
        raise LayoutError(f"{origin}: key {key!r} holds {bad} NaN or infinite values; expected finite numbers")
    return value


def normalise(arrays: dict[str, np.ndarray], name: str, origin: str = "the arrays") -> dict[str, np.ndarray]:
    """The arrays of a published file (or of a simulation) in the course's documented layout.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        At least the keys of ``DATASETS[name]`` (others are ignored). Responses
        (n_stimuli, n_neurons), any real dtype, any number of neurons (the recording has
        :data:`RECORDED_NEURONS`); ``stimuli`` (n_stimuli,) as ``oribinned1`` stores it, or
        (n_stimuli, 1), angles in degrees in [0, 360].
    name : str
        A key of :data:`DATASETS`.
    origin : str
        What the arrays came from (a file's path), for error messages.

    Returns
    -------
    dict
        The dataset's keys in its order: responses (n_stimuli, n_neurons) float32, ``stimuli``
        (n_stimuli, 1) float32 in degrees; new, C-contiguous arrays.

    Raises
    ------
    LayoutError
        For a missing key, a shape or dtype no published file has, rows that disagree between
        keys, or values that are not finite; the message names the file, the key and the shapes.
    """
    remote = DATASETS[name]
    missing = [key for key in remote.keys if key not in arrays]
    if missing:
        raise LayoutError(
            f"{origin}: key {missing[0]!r} is missing (keys found: {sorted(arrays)}; {remote.filename} has "
            f"{list(remote.keys)})"
        )
    out: dict[str, np.ndarray] = {}
    rows: tuple[str, int] | None = None
    for key in remote.keys:
        if not key.startswith("resp"):
            continue
        value = _numeric(np.asarray(arrays[key]), key, origin)
        expected = "(n_stimuli, n_neurons)" if rows is None else f"({rows[1]}, n_neurons) like {rows[0]!r}"
        if value.ndim != 2 or min(value.shape) < 1:
            raise LayoutError(f"{origin}: key {key!r} has shape {_shape(value.shape)}; expected {expected}")
        if rows is not None and value.shape != out[rows[0]].shape:
            shape = _shape(out[rows[0]].shape)
            raise LayoutError(
                f"{origin}: key {key!r} has shape {_shape(value.shape)}; expected {shape} like {rows[0]!r}"
            )
        rows = rows or (key, value.shape[0])
        with np.errstate(over="ignore"):  # a value beyond float32's range becomes inf, refused just below
            single = np.array(value, dtype=np.float32, order="C")  # always a copy
        out[key] = _numeric(single, key, origin + " (as float32)")
    assert rows is not None
    stimuli = _numeric(np.asarray(arrays["stimuli"]), "stimuli", origin)
    n = rows[1]
    if stimuli.shape not in ((n,), (n, 1)):
        raise LayoutError(
            f"{origin}: key 'stimuli' has shape {_shape(stimuli.shape)}; expected ({n},) or ({n}, 1), one angle for "
            f"each of the {n} rows of {rows[0]!r}"
        )
    if n and (stimuli.min() < 0 or stimuli.max() > 360):
        raise LayoutError(
            f"{origin}: key 'stimuli' holds angles from {float(stimuli.min()):g} to {float(stimuli.max()):g}; "
            "expected degrees in [0, 360]"
        )
    out["stimuli"] = np.array(stimuli.reshape(n, 1), dtype=np.float32, order="C")
    return {key: out[key] for key in remote.keys}


def _read(path: Path, remote: Remote, name: str) -> dict[str, np.ndarray]:
    """The arrays of the file at ``path``, normalised (:func:`normalise`)."""
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise LayoutError(f"{path}: a single array, not an .npz archive with keys {list(remote.keys)}")
        with npz:
            arrays = {key: npz[key] for key in remote.keys if key in npz.files}
            found = list(npz.files)
    except LayoutError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:  # not an npz, truncated, pickled
        raise LayoutError(f"{path}: cannot be read as the .npz file {remote.filename}: {err}") from err
    if len(arrays) < len(remote.keys):
        key = next(k for k in remote.keys if k not in arrays)
        raise LayoutError(f"{path}: key {key!r} is missing (keys found: {found}; expected {list(remote.keys)})")
    return normalise(arrays, name, str(path))


@dataclass(frozen=True)
class Population:
    """Parameters of a simulated V1 population (see :func:`simulate_v1`).

    Attributes
    ----------
    n_neurons : int
        Neurons simulated.
    kappa_median, kappa_log_sd : float
        Tuning concentration ``kappa`` (von Mises, period 180 degrees) is log-normal:
        median and s.d. of its log. Larger ``kappa``, sharper tuning; at ``kappa = 2``
        the tuning curve's full width at half the peak above the baseline is about 50 degrees
        of orientation.
    gain_log_sd : float
        Gain is log-normal with median 1 and this s.d. of its log.
    baseline_sd : float
        Baseline is normal with mean 0 and this s.d.
    noise_per_gain, noise_floor : float
        Each response's Gaussian noise has s.d. ``noise_per_gain * gain + noise_floor``
        (per bin, or per trial when ``n_trials`` is set).
    n_trials : int
        0: one noisy response per bin (the model of ``default`` and ``broad_noisy``). Otherwise
        this many single trials at angles drawn uniformly in [0, 360) degrees, z-scored per
        neuron over trials and then averaged in bins, as the published files were made; the
        result is in the published files' own layout (float64, 1-D ``stimuli`` holding each
        bin's mean angle), which :func:`normalise` reads.
    untuned_fraction, weak_fraction, weak_gain : float
        Shares of neurons with no tuning (gain 0: baseline and noise only) and with weak tuning
        (gain times ``weak_gain``); the rest are tuned.
    direction_fraction : float
        Share of neurons that prefer one direction of motion: their response at the opposite
        direction (``theta + 180``) is ``(1 - d) / (1 + d)`` of that at the preferred one, ``d``
        uniform in [0.2, 0.8].
    shared_gain_sd : float
        Multiplicative shared noise: on each trial every neuron's tuned response is scaled by
        the same factor ``exp(s * z - s**2 / 2)``, ``z`` standard normal, ``s`` this value.
    shared_rank, shared_sd : int, float
        Additive low-rank shared noise: ``shared_rank`` standard normal factors per trial, read
        by every neuron with loadings of s.d. ``shared_sd``.
    """

    n_neurons: int
    kappa_median: float
    kappa_log_sd: float
    gain_log_sd: float
    baseline_sd: float
    noise_per_gain: float
    noise_floor: float
    n_trials: int = 0
    untuned_fraction: float = 0.0
    weak_fraction: float = 0.0
    weak_gain: float = 0.25
    direction_fraction: float = 0.0
    shared_gain_sd: float = 0.0
    shared_rank: int = 0
    shared_sd: float = 0.0


POPULATIONS = {
    "default": Population(2000, 2.0, 0.5, 0.4, 0.5, 0.2, 0.05),
    # a stand-in for data unlike the default: broader tuning, three times the noise, a quarter of the neurons
    "broad_noisy": Population(500, 0.7, 0.7, 0.6, 0.5, 0.6, 0.15),
    # single trials made into the published files' layout, with what the recording is known for: the recording's
    # neuron count, many untuned and weakly tuned neurons, some direction selectivity, shared (correlated) noise
    "recording_like": Population(
        RECORDED_NEURONS,
        kappa_median=1.5,
        kappa_log_sd=0.6,
        gain_log_sd=0.5,
        baseline_sd=0.3,
        noise_per_gain=1.2,
        noise_floor=0.5,
        n_trials=4000,
        untuned_fraction=0.3,
        weak_fraction=0.3,
        direction_fraction=0.2,
        shared_gain_sd=0.3,
        shared_rank=3,
        shared_sd=0.4,
    ),
}
"""Simulated populations by name; ``$COURSE_SIMULATED_POPULATION`` picks one for :func:`load_v1`."""


def population(name: str | Population | None = None) -> tuple[str, Population]:
    """The simulated population ``name``, by default ``$COURSE_SIMULATED_POPULATION`` or ``"default"``.

    A :class:`Population` given instead of a name is returned as it is, named ``"custom"``.

    Raises
    ------
    ValueError
        For a name not in :data:`POPULATIONS` (a misspelt setting is an error, not a silent default).
    """
    if isinstance(name, Population):
        return "custom", name
    name = name or os.environ.get("COURSE_SIMULATED_POPULATION") or "default"
    if name not in POPULATIONS:
        raise ValueError(f"unknown simulated population {name!r}: choose one of {sorted(POPULATIONS)}")
    return name, POPULATIONS[name]


def simulate_v1(
    name: str = "oribinned1",
    n_neurons: int | None = None,
    seed: int = 2021,
    population_name: str | Population | None = None,
) -> dict[str, np.ndarray]:
    """A simulated population of orientation-tuned V1 neurons, in the layout of the published files.

    Model, per neuron *i* (all parameters drawn once from ``seed``, their distributions
    set by the :class:`Population`): preferred orientation ``theta_i`` uniform in
    [0, 180) degrees; tuning concentration ``kappa_i``, gain ``g_i`` and baseline ``b_i``.
    The mean response to orientation ``theta`` (degrees) is
    ``b_i + g_i * exp(kappa_i * (cos(2 * (theta - theta_i)) - 1))``, a von Mises
    curve with period 180 degrees, the same for every phase of the grating; each
    response adds independent Gaussian noise (s.d. ``noise_per_gain * g_i + noise_floor``).
    Every neuron's responses are then z-scored across stimuli (for the split file, with the
    train half's mean and s.d.). A population with ``n_trials`` (``recording_like``) is
    simulated trial by trial instead, as :class:`Population` describes, and binned as the
    published files were (:func:`_binned_trials`).

    Parameters
    ----------
    name : str
        ``"oribinned1"`` (360 stimuli, 1-degree bins) or ``"oribinned6_split"``
        (60 stimuli, 6-degree bins, two noisy halves ``resp_train`` and ``resp_test``).
    n_neurons : int, optional
        Default: the population's.
    seed : int
    population_name : str or Population, optional
        A key of :data:`POPULATIONS` (default: see :func:`population`), or the parameters themselves.

    Returns
    -------
    dict
        The keys of the published file; responses (n_stimuli, n_neurons) float32,
        ``stimuli`` (n_stimuli, 1) float32 in degrees, 0 to 360 - bin width. For a population
        with ``n_trials``: the published files' own layout, responses float64 and ``stimuli``
        (n_stimuli,) float64, each bin's mean angle (bins no trial fell in are left out).
    """
    remote = DATASETS[name]
    _, params = population(population_name)
    n_neurons = params.n_neurons if n_neurons is None else n_neurons
    rng = np.random.default_rng(seed)
    preferred = rng.uniform(0, 180, n_neurons)
    kappa = np.exp(rng.normal(np.log(params.kappa_median), params.kappa_log_sd, n_neurons))
    gain = np.exp(rng.normal(0.0, params.gain_log_sd, n_neurons))
    baseline = rng.normal(0.0, params.baseline_sd, n_neurons)
    if params.n_trials:
        return _binned_trials(remote, params, rng, preferred, kappa, gain, baseline)
    stimuli = np.arange(0, 360, remote.bin_width, dtype=np.float32)[:, None]
    delta = np.deg2rad(stimuli - preferred[None, :])
    mean = baseline + gain * np.exp(kappa * (np.cos(2 * delta) - 1))
    noise_sd = params.noise_per_gain * gain + params.noise_floor

    def noisy() -> np.ndarray:
        return mean + noise_sd * rng.standard_normal(mean.shape)

    if "resp" in remote.keys:
        resp = noisy()
        resp = (resp - resp.mean(0)) / resp.std(0)
        return {"resp": resp.astype(np.float32), "stimuli": stimuli}
    train, test = noisy(), noisy()
    mu, sd = train.mean(0), train.std(0)
    return {
        "resp_train": ((train - mu) / sd).astype(np.float32),
        "resp_test": ((test - mu) / sd).astype(np.float32),
        "stimuli": stimuli,
    }


_CHUNK = 2048  # neurons simulated at a time: the trial matrix of a chunk is n_trials x _CHUNK


def _binned_trials(
    remote: Remote,
    params: Population,
    rng: np.random.Generator,
    preferred: np.ndarray,
    kappa: np.ndarray,
    gain: np.ndarray,
    baseline: np.ndarray,
) -> dict[str, np.ndarray]:
    """Single trials, z-scored per neuron over trials, then averaged in the dataset's bins.

    The split file's two halves are a random half of the trials each; its ``stimuli`` is the
    mean angle of all trials in a bin, and only bins that both halves reach are kept.
    Neurons are simulated ``_CHUNK`` at a time (each chunk with its own generator), so memory
    stays near ``n_trials * _CHUNK`` values and the result does not depend on the machine.
    """
    n, n_neurons = params.n_trials, len(preferred)
    angles = rng.uniform(0, 360, n)
    kind = rng.uniform(size=n_neurons)
    tuned_gain = gain * np.where(
        kind < params.untuned_fraction,
        0.0,
        np.where(kind < params.untuned_fraction + params.weak_fraction, params.weak_gain, 1.0),
    )
    selective = rng.uniform(size=n_neurons) < params.direction_fraction
    dsi = np.where(selective, rng.uniform(0.2, 0.8, n_neurons), 0.0)
    direction = preferred + 180.0 * rng.integers(0, 2, n_neurons)  # the preferred direction, degrees
    noise_sd = params.noise_per_gain * gain + params.noise_floor
    s = params.shared_gain_sd
    trial_gain = np.exp(s * rng.standard_normal(n) - s**2 / 2)
    factors = rng.standard_normal((n, params.shared_rank))
    loadings = params.shared_sd * rng.standard_normal((params.shared_rank, n_neurons))
    halves = rng.uniform(size=n) < 0.5 if "resp_train" in remote.keys else np.ones(n, bool)
    bins = np.floor(angles / remote.bin_width).astype(int)
    order = np.argsort(bins, kind="stable")  # trials in bin order: each bin's rows are contiguous
    angles, bins, halves, trial_gain, factors = (a[order] for a in (angles, bins, halves, trial_gain, factors))
    groups = [bins[halves]] if "resp" in remote.keys else [bins[halves], bins[~halves]]
    kept = np.intersect1d(*groups) if len(groups) == 2 else np.unique(groups[0])
    # cos(2 (theta - preferred)) and cos(theta - direction) as products of sines and cosines (one matrix product)
    theta = np.deg2rad(angles)
    by_trial = np.stack([np.cos(2 * theta), np.sin(2 * theta), np.cos(theta), np.sin(theta)], 1).astype(np.float32)
    phi, psi = np.deg2rad(preferred), np.deg2rad(direction)
    by_neuron = np.stack([np.cos(2 * phi), np.sin(2 * phi), np.cos(psi), np.sin(psi)]).astype(np.float32)
    shared = factors.astype(np.float32)
    out = {key: np.empty((len(kept), n_neurons)) for key in remote.keys if key.startswith("resp")}
    seeds = np.random.SeedSequence(int(rng.integers(2**63))).spawn((n_neurons + _CHUNK - 1) // _CHUNK)
    for start, seed in zip(range(0, n_neurons, _CHUNK), seeds, strict=True):
        c = slice(start, start + _CHUNK)
        trials = np.random.default_rng(seed).standard_normal((n, len(kappa[c])), dtype=np.float32)
        trials *= noise_sd[c].astype(np.float32)
        trials += shared @ loadings[:, c].astype(np.float32) + baseline[c].astype(np.float32)
        k = kappa[c].astype(np.float32)
        term = np.exp(k * (by_trial[:, :2] @ by_neuron[:2, c]) - k)
        d = dsi[c].astype(np.float32)
        term *= (1 + d * (by_trial[:, 2:] @ by_neuron[2:, c])) / (1 + d)
        term *= tuned_gain[c].astype(np.float32)
        term *= trial_gain[:, None].astype(np.float32)
        trials += term
        trials = (trials - trials.mean(0, dtype=np.float64)) / trials.std(0, dtype=np.float64)  # z-scored over trials
        for key, half in zip(out, (halves, ~halves), strict=False):
            out[key][:, c] = _bin_means(trials[half], bins[half], kept)
    stimuli = _bin_means(angles[:, None], bins, kept)[:, 0]
    return {**out, "stimuli": stimuli}


def _bin_means(values: np.ndarray, bins: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Mean of the rows of ``values`` (n_trials, m) in each bin of ``kept``, float64.

    ``bins`` (n_trials,) must be sorted, and every bin of ``kept`` must occur in it.
    """
    labels, starts, counts = np.unique(bins, return_index=True, return_counts=True)
    where = np.searchsorted(labels, kept)
    # a sum over each bin's contiguous rows (faster than np.add.reduceat along axis 0)
    return np.stack([values[starts[i] : starts[i] + counts[i]].sum(0, dtype=np.float64) / counts[i] for i in where])


def fold_orientations(
    stimuli: np.ndarray, resp: np.ndarray, bin_width: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Average the bins whose angles are 180 degrees apart: one row per distinct orientation.

    A grating at ``theta + 180`` degrees has the same orientation as at ``theta`` (for a
    static grating of random phase, the same set of images), so an image model cannot
    tell the two bins apart; they are two estimates of the same response.

    Parameters
    ----------
    stimuli : numpy.ndarray, (n_stimuli,) or (n_stimuli, 1)
        Angles in degrees, in [0, 360]: the bins' starts, their centres, or the mean angle of the
        trials in each bin (as the published files hold them, e.g. about 3, 9, 15, ... for 6-degree bins).
    resp : numpy.ndarray, (n_stimuli, n_neurons)
    bin_width : float, optional
        Degrees. Default: 180 divided by the whole number of bins, within a third of 180 over the
        median spacing of the sorted angles, that lines the angles up best (the longest mean
        resultant of their positions within a bin). Where the angles sit within their bins (at the start, the
        centre, ...) is found from the angles themselves (their circular mean position within a
        bin), and each angle goes to the bin it lies nearest to, so that bin means near a bin's
        centre never fall on a rounding boundary.

    Returns
    -------
    orientations : numpy.ndarray, (n_orientations,), float32
        The distinct orientations, ascending, in degrees in [0, 180): each the mean of its rows'
        angles, modulo 180.
    folded : numpy.ndarray, (n_orientations, n_neurons), float32
        Mean of ``resp`` over the rows of each orientation.
    """
    angles = np.asarray(stimuli, dtype=np.float64).reshape(-1)
    resp = np.asarray(resp)
    if resp.ndim != 2 or len(resp) != len(angles):
        raise ValueError(f"resp must be (n_stimuli={len(angles)}, n_neurons), got shape {resp.shape}")
    if not np.isfinite(angles).all():
        raise ValueError(f"stimuli hold {int((~np.isfinite(angles)).sum())} NaN or infinite angles")
    if bin_width is None:
        bin_width = 180 / _bins_per_half_turn(angles)
    n_bins = max(1, round(180 / bin_width))
    position = (angles % 180) / bin_width  # in bins
    offset = np.angle(np.exp(2j * np.pi * position).mean()) / (2 * np.pi)  # where angles sit in their bins
    if abs(offset) > 0.25:
        # inside their bins [k w, (k + 1) w), as bin centres and the bins' mean angles are: the bin is the floor
        keys = np.floor(position + 1e-9).astype(int) % n_bins
    else:
        # at the bins' starts (or centred on multiples of the width): the nearest one
        keys = np.round(position - offset).astype(int) % n_bins
    distinct = np.unique(keys)
    folded = np.stack([resp[keys == k].mean(axis=0) for k in distinct])
    # each orientation's angle: the circular mean (period 180 degrees) of its rows' angles
    turns = np.exp(2j * np.pi * (angles % 180) / 180)
    orientations = np.array([np.angle(turns[keys == k].mean()) * 180 / (2 * np.pi) % 180 for k in distinct])
    spread = max(
        float(np.abs((angles[keys == k] % 180 - o + 90) % 180 - 90).max())
        for k, o in zip(distinct, orientations, strict=True)
    )
    if spread > bin_width:
        raise ValueError(
            f"the rows of one orientation lie {spread:.1f} degrees from their mean, more than the {bin_width:g}-degree "
            "bin: the bins 180 degrees apart could not be paired; pass bin_width"
        )
    order = np.argsort(orientations, kind="stable")
    return orientations[order].astype(np.float32), folded[order].astype(np.float32)


def _bins_per_half_turn(angles: np.ndarray) -> int:
    """How many equal bins 180 degrees holds, judged from angles (degrees) that sit alike within their bins."""
    steps = np.diff(np.unique(angles))  # repeated angles are one bin, not a spacing of 0
    if not len(steps):
        return 1
    guess = 180 / float(np.median(steps))
    candidates = range(max(1, int(guess * 0.75)), int(np.ceil(guess * 4 / 3)) + 1)

    def lined_up(n: int) -> float:  # 1 when every angle sits at the same place within its bin
        return float(abs(np.exp(2j * np.pi * (angles % 180) * n / 180).mean()))

    best = max(candidates, key=lambda n: (round(lined_up(n), 6), -n))
    if lined_up(best) < 0.3:
        raise ValueError("the bin width cannot be told from these angles (too few, or unevenly placed): pass bin_width")
    return best


@functools.lru_cache(maxsize=2)
def _simulated(name: str, n_neurons: int | None, which: str) -> dict[str, np.ndarray]:
    """:func:`simulate_v1`, kept for the next call in this process (the recording-like one takes seconds).

    Callers must not change the arrays: :func:`normalise` copies them.
    """
    return simulate_v1(name, n_neurons=n_neurons, population_name=which)


def load_v1(
    name: str = "oribinned1",
    offline: bool | None = None,
    n_neurons: int | None = None,
    url: str | None = None,
    quiet=False,
    path: str | os.PathLike | None = None,
) -> V1Data:
    """The V1 data set ``name``: a file you name, the data folder's file, a download, or a simulation.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    offline : bool, optional
        True: do not try the network (a file, or the simulation). Default:
        ``$COURSE_OFFLINE`` is ``1``.
    n_neurons : int, optional
        Neurons of the simulated population, if it comes to that (default: the population's).
        Which simulated population (:data:`POPULATIONS`) is set by ``$COURSE_SIMULATED_POPULATION``.
    url : str, optional
        Download from here instead of the published address (tests use a local server).
    quiet : bool
        Do not print which data were returned.
    path : str or path-like, optional
        Read this file (in a published layout) instead of the data folder's; it must exist.
        By default the data folder (``$COURSE_DATA_DIR`` or ``~/.cache/cnn-vision-course``) is
        looked in for the published file name: an instructor who has the recording puts a copy
        there (copied, not linked: the grading sandbox sees only that folder).

    Returns
    -------
    V1Data
        In the layout of :func:`normalise`. Its ``source`` says where the arrays came from:
        ``"cache"`` or ``"download"`` for the published file (MD5 checked), ``"local"`` for a
        file whose MD5 differs from the published one (its ``note`` says so), ``"simulated"``.

    Raises
    ------
    LayoutError
        When the file read is not in a published layout (the message names the file, key and shapes).
    FileNotFoundError
        When ``path`` is given and does not exist.
    """
    remote = DATASETS[name]
    offline = os.environ.get("COURSE_OFFLINE") == "1" if offline is None else offline
    named = path is not None
    path = Path(path) if named else cache_dir() / remote.filename
    data = None
    note = ""
    if named and not path.is_file():
        raise FileNotFoundError(f"no data file at {path}")
    if path.is_file():
        actual = md5sum(path)
        if actual == remote.md5:
            data = V1Data(_read(path, remote, name), "cache", name)
        else:
            note = f"a local copy ({path}), not the published {remote.filename}: MD5 {actual}, published {remote.md5}"
            data = V1Data(_read(path, remote, name), "local", name, note)
    elif offline:
        note = "offline mode (COURSE_OFFLINE=1)"
    else:
        try:
            fetch(url or remote.url, path, remote.md5)
            data = V1Data(_read(path, remote, name), "download", name)
        except (DownloadError, ChecksumError) as err:
            note = str(err)
    if data is None:
        which, _ = population()
        arrays = _simulated(name, n_neurons, which)
        data = V1Data(normalise(arrays, name, f"simulated population {which!r}"), "simulated", name, note)
        if not quiet:
            simulated = data[remote.keys[0]].shape[1]
            print(
                f"*** SIMULATED V1 data for {name} ({simulated} model neurons, population {which!r}), "
                f"not the recording: {note}",
                file=sys.stdout,
            )
    elif not quiet:
        neurons = data[remote.keys[0]].shape[1]
        if data.source == "local":
            print(f"*** V1 data {name}: LOCAL COPY, {neurons} neurons: {note}", file=sys.stdout)
        else:
            print(
                f"V1 data {name}: recorded data of Stringer et al. (2021), {neurons} neurons, "
                f"from {data.source} ({path})"
            )
    return data
