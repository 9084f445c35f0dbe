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


def simulate_v1(name: str = "oribinned1", n_neurons: int = 2000, seed: int = 2021) -> dict[str, np.ndarray]:
    """A simulated population of orientation-tuned V1 neurons, in the layout of the published files.

    Model, per neuron *i* (all parameters drawn once from ``seed``):
    preferred orientation ``theta_i`` uniform in [0, 180) degrees; tuning width
    ``kappa_i`` log-normal (median 2); gain ``g_i`` log-normal (median 1); baseline
    ``b_i`` normal(0, 0.5). The mean response to orientation ``theta`` (degrees) is
    ``b_i + g_i * exp(kappa_i * (cos(2 * (theta - theta_i)) - 1))``, a von Mises
    curve with period 180 degrees; each response adds independent Gaussian noise
    (s.d. 0.2 times the neuron's gain, plus 0.05). Every neuron's responses are then
    z-scored across stimuli, as in the published data (for the split file, with the
    train half's mean and s.d.).

    Parameters
    ----------
    name : str
        ``"oribinned1"`` (360 stimuli, 1-degree bins) or ``"oribinned6_split"``
        (60 stimuli, 6-degree bins, two noisy halves ``resp_train`` and ``resp_test``).
    n_neurons : int
    seed : int

    Returns
    -------
    dict
        The keys of the published file; responses (n_stimuli, n_neurons) float32,
        ``stimuli`` (n_stimuli, 1) float32 in degrees, 0 to 360 - bin width.
    """
    remote = DATASETS[name]
    rng = np.random.default_rng(seed)
    preferred = rng.uniform(0, 180, n_neurons)
    kappa = np.exp(rng.normal(np.log(2.0), 0.5, n_neurons))
    gain = np.exp(rng.normal(0.0, 0.4, n_neurons))
    baseline = rng.normal(0.0, 0.5, n_neurons)
    stimuli = np.arange(0, 360, remote.bin_width, dtype=np.float32)[:, None]
    delta = np.deg2rad(stimuli - preferred[None, :])
    mean = baseline + gain * np.exp(kappa * (np.cos(2 * delta) - 1))
    noise_sd = 0.2 * gain + 0.05

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


def load_v1(
    name: str = "oribinned1", offline: bool | None = None, n_neurons: int = 2000, url: str | None = None, quiet=False
) -> V1Data:
    """The V1 data set ``name``: cached, downloaded, or (when that fails) simulated.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    offline : bool, optional
        True: do not try the network (cache or simulation only). Default:
        ``$COURSE_OFFLINE`` is ``1``.
    n_neurons : int
        Neurons of the simulated population, if it comes to that.
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
        data = V1Data(simulate_v1(name, n_neurons=n_neurons), "simulated", name, note)
        if not quiet:
            print(
                f"*** SIMULATED V1 data for {name} ({n_neurons} model neurons), not the recording: {note}",
                file=sys.stdout,
            )
    elif not quiet:
        print(f"V1 data {name}: recorded data of Stringer et al. (2021), from {data.source} ({path})")
    return data
