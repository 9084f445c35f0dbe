"""Mouse V1 responses to oriented gratings: download with checksum and cache, or simulate offline.

The real data are the binned recordings of Stringer et al. (2021), *Cell* 184:2767,
as published for teaching on OSF:

* ``oribinned1``: ``W3D4_stringer_oribinned1.npz``, keys ``resp`` (stimuli x neurons,
  z-scored) and ``stimuli`` (orientation in degrees, 1-degree bins);
* ``oribinned6_split``: ``W3D4_stringer_oribinned6_split.npz``, keys ``resp_train``,
  ``resp_test`` (two halves of the trials) and ``stimuli`` (6-degree bins).

:func:`load_v1` returns the real data when it is cached or can be downloaded, and
otherwise a **simulated** population with the same keys and layout
(``(n_stimuli, n_neurons)`` responses, ``(n_stimuli, 1)`` orientations), saying
loudly which one it returned; :attr:`V1Data.source` records it. A download is
written to a temporary file, checked against its MD5, and only then moved into
the cache, so a partial or corrupted download is never cached or used.

The cache folder is ``$COURSE_DATA_DIR``, or ``~/.cache/cnn-vision-course``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
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


@dataclass
class V1Data:
    """Arrays of one data set and where they came from.

    Attributes
    ----------
    arrays : dict of str to numpy.ndarray
        ``resp`` or ``resp_train``/``resp_test``: (n_stimuli, n_neurons), float32;
        ``stimuli``: (n_stimuli, 1), float32, orientation in degrees.
    source : str
        ``"download"``, ``"cache"`` or ``"simulated"``.
    name : str
        Key in :data:`DATASETS`.
    note : str
        Why the data are simulated, when they are.
    """

    arrays: dict[str, np.ndarray]
    source: str
    name: str
    note: str = ""

    @property
    def simulated(self) -> bool:
        return self.source == "simulated"

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


def _read(path: Path, remote: Remote) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        missing = set(remote.keys) - set(npz.files)
        if missing:
            raise ValueError(f"{path} lacks keys {sorted(missing)}")
        return {key: np.asarray(npz[key]) for key in remote.keys}


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
        Each response's Gaussian noise has s.d. ``noise_per_gain * gain + noise_floor``.
    """

    n_neurons: int
    kappa_median: float
    kappa_log_sd: float
    gain_log_sd: float
    baseline_sd: float
    noise_per_gain: float
    noise_floor: float


POPULATIONS = {
    "default": Population(2000, 2.0, 0.5, 0.4, 0.5, 0.2, 0.05),
    # a stand-in for data unlike the default: broader tuning, three times the noise, a quarter of the neurons
    "broad_noisy": Population(500, 0.7, 0.7, 0.6, 0.5, 0.6, 0.15),
}
"""Simulated populations by name; ``$COURSE_SIMULATED_POPULATION`` picks one for :func:`load_v1`."""


def population(name: str | None = None) -> tuple[str, Population]:
    """The simulated population ``name``, by default ``$COURSE_SIMULATED_POPULATION`` or ``"default"``.

    Raises
    ------
    ValueError
        For a name not in :data:`POPULATIONS` (a misspelt setting is an error, not a silent default).
    """
    name = name or os.environ.get("COURSE_SIMULATED_POPULATION") or "default"
    if name not in POPULATIONS:
        raise ValueError(f"unknown simulated population {name!r}: choose one of {sorted(POPULATIONS)}")
    return name, POPULATIONS[name]


def simulate_v1(
    name: str = "oribinned1", n_neurons: int | None = None, seed: int = 2021, population_name: str | None = None
) -> dict[str, np.ndarray]:
    """A simulated population of orientation-tuned V1 neurons, in the layout of the published files.

    Model, per neuron *i* (all parameters drawn once from ``seed``, their distributions
    set by the :class:`Population`): preferred orientation ``theta_i`` uniform in
    [0, 180) degrees; tuning concentration ``kappa_i``, gain ``g_i`` and baseline ``b_i``.
    The mean response to orientation ``theta`` (degrees) is
    ``b_i + g_i * exp(kappa_i * (cos(2 * (theta - theta_i)) - 1))``, a von Mises
    curve with period 180 degrees, the same for every phase of the grating; each
    response adds independent Gaussian noise (s.d. ``noise_per_gain * g_i + noise_floor``).
    Every neuron's responses are then z-scored across stimuli, as in the published data
    (for the split file, with the train half's mean and s.d.).

    Parameters
    ----------
    name : str
        ``"oribinned1"`` (360 stimuli, 1-degree bins) or ``"oribinned6_split"``
        (60 stimuli, 6-degree bins, two noisy halves ``resp_train`` and ``resp_test``).
    n_neurons : int, optional
        Default: the population's.
    seed : int
    population_name : str, optional
        A key of :data:`POPULATIONS` (default: see :func:`population`).

    Returns
    -------
    dict
        The keys of the published file; responses (n_stimuli, n_neurons) float32,
        ``stimuli`` (n_stimuli, 1) float32 in degrees, 0 to 360 - bin width.
    """
    remote = DATASETS[name]
    _, params = population(population_name)
    n_neurons = params.n_neurons if n_neurons is None else n_neurons
    rng = np.random.default_rng(seed)
    preferred = rng.uniform(0, 180, n_neurons)
    kappa = np.exp(rng.normal(np.log(params.kappa_median), params.kappa_log_sd, n_neurons))
    gain = np.exp(rng.normal(0.0, params.gain_log_sd, n_neurons))
    baseline = rng.normal(0.0, params.baseline_sd, n_neurons)
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
        Angles in degrees, in [0, 360): bin centres or the mean angle in each bin.
    resp : numpy.ndarray, (n_stimuli, n_neurons)
    bin_width : float, optional
        Degrees; angles are assigned to the nearest multiple of it (modulo 180).
        Default: the median spacing of the sorted angles.

    Returns
    -------
    orientations : numpy.ndarray, (n_orientations,), float32
        The distinct orientations, multiples of ``bin_width`` in [0, 180), ascending, in degrees.
    folded : numpy.ndarray, (n_orientations, n_neurons), float32
        Mean of ``resp`` over the rows of each orientation.
    """
    angles = np.asarray(stimuli, dtype=np.float64).reshape(-1)
    resp = np.asarray(resp)
    if resp.ndim != 2 or len(resp) != len(angles):
        raise ValueError(f"resp must be (n_stimuli={len(angles)}, n_neurons), got shape {resp.shape}")
    if bin_width is None:
        bin_width = float(np.median(np.diff(np.sort(angles)))) if len(angles) > 1 else 180.0
    n_bins = int(round(180 / bin_width))
    keys = np.round((angles % 180) / bin_width).astype(int) % n_bins
    distinct = np.unique(keys)
    folded = np.stack([resp[keys == k].mean(axis=0) for k in distinct])
    return (distinct * bin_width).astype(np.float32), folded.astype(np.float32)


def load_v1(
    name: str = "oribinned1",
    offline: bool | None = None,
    n_neurons: int | None = None,
    url: str | None = None,
    quiet=False,
) -> V1Data:
    """The V1 data set ``name``: cached, downloaded, or (when that fails) simulated.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    offline : bool, optional
        True: do not try the network (cache or simulation only). Default:
        ``$COURSE_OFFLINE`` is ``1``.
    n_neurons : int, optional
        Neurons of the simulated population, if it comes to that (default: the population's).
        Which simulated population (:data:`POPULATIONS`) is set by ``$COURSE_SIMULATED_POPULATION``.
    url : str, optional
        Download from here instead of the published address (tests use a local server).
    quiet : bool
        Do not print which data were returned.

    Returns
    -------
    V1Data
        Its ``source`` says where the arrays came from.
    """
    remote = DATASETS[name]
    offline = os.environ.get("COURSE_OFFLINE") == "1" if offline is None else offline
    path = cache_dir() / remote.filename
    data = None
    note = ""
    if path.exists() and md5sum(path) == remote.md5:
        data = V1Data(_read(path, remote), "cache", name)
    elif offline:
        note = "offline mode (COURSE_OFFLINE=1)"
    else:
        try:
            fetch(url or remote.url, path, remote.md5)
            data = V1Data(_read(path, remote), "download", name)
        except (DownloadError, ChecksumError) as err:
            note = str(err)
    if data is None:
        which, _ = population()
        data = V1Data(simulate_v1(name, n_neurons=n_neurons, population_name=which), "simulated", name, note)
        if not quiet:
            simulated = data[remote.keys[0]].shape[1]
            print(
                f"*** SIMULATED V1 data for {name} ({simulated} model neurons, population {which!r}), "
                f"not the recording: {note}",
                file=sys.stdout,
            )
    elif not quiet:
        print(f"V1 data {name}: recorded data of Stringer et al. (2021), from {data.source} ({path})")
    return data
