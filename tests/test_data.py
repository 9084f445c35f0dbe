"""helpers.data: download with checksum and cache (against a local server), and the simulated population."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading

import numpy as np
import published_files
import pytest

from helpers import data


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    truncate = False

    def do_GET(self):  # noqa: N802  (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        body = self.payload[: len(self.payload) // 2] if self.truncate else self.payload
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 that serves whatever payload a test sets."""

    class Handler(_Handler):
        pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Handler, f"http://127.0.0.1:{httpd.server_address[1]}/file.npz"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def small_dataset(monkeypatch, tmp_path):
    """A tiny npz with the keys of the 1-degree file, registered under a test name, cache in tmp_path."""
    buffer = io.BytesIO()
    arrays = {"resp": np.ones((4, 3), np.float32), "stimuli": np.arange(4, dtype=np.float32)[:, None]}
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()
    remote = data.Remote(
        "small.npz", "http://unused.invalid/", hashlib.md5(payload).hexdigest(), 1, ("resp", "stimuli")
    )
    monkeypatch.setitem(data.DATASETS, "small", remote)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    return payload, arrays, remote


def test_download_is_verified_cached_and_then_read_from_cache(server, small_dataset):
    handler, url = server
    payload, arrays, remote = small_dataset
    handler.payload = payload
    first = data.load_v1("small", url=url, quiet=True)
    assert first.source == "download" and not first.simulated
    np.testing.assert_array_equal(first["resp"], arrays["resp"])
    assert (data.cache_dir() / remote.filename).exists()
    handler.payload = b"the server changed"  # the cache must be used now, not the network
    second = data.load_v1("small", url=url, quiet=True)
    assert second.source == "cache"
    np.testing.assert_array_equal(second["stimuli"], arrays["stimuli"])


def test_corrupted_download_is_rejected_not_cached_and_simulation_says_so(server, small_dataset, capsys):
    handler, url = server
    payload, _, remote = small_dataset
    handler.payload = payload[:-10] + b"0123456789"
    with pytest.raises(data.ChecksumError, match="MD5"):
        data.fetch(url, data.cache_dir() / remote.filename, remote.md5)
    assert not list(data.cache_dir().iterdir())  # neither the file nor a .part left behind
    result = data.load_v1("small", url=url, n_neurons=5)
    assert result.simulated and "MD5" in result.note
    assert "SIMULATED" in capsys.readouterr().out


def test_partial_download_is_never_cached(server, small_dataset):
    handler, url = server
    payload, _, remote = small_dataset
    handler.payload, handler.truncate = payload, True
    with pytest.raises((data.DownloadError, data.ChecksumError)):
        data.fetch(url, data.cache_dir() / remote.filename, remote.md5)
    assert not list(data.cache_dir().iterdir())


def test_unreachable_server_gives_simulated_data(small_dataset):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = data.load_v1("small", url=f"http://127.0.0.1:{port}/x", quiet=True, n_neurons=5)
    assert result.simulated and "could not download" in result.note


def test_offline_mode_never_touches_the_network(small_dataset, monkeypatch):
    monkeypatch.setattr(data, "fetch", lambda *a, **k: pytest.fail("fetch called in offline mode"))
    assert data.load_v1("small", offline=True, quiet=True, n_neurons=5).simulated


@pytest.mark.parametrize("name", sorted(data.DATASETS))
def test_simulated_data_have_the_published_keys_and_layout(name):
    arrays = data.simulate_v1(name, n_neurons=300)
    assert tuple(arrays) == data.DATASETS[name].keys
    n_stimuli = 360 // data.DATASETS[name].bin_width
    assert arrays["stimuli"].shape == (n_stimuli, 1) and arrays["stimuli"].dtype == np.float32
    for key in arrays:
        if key.startswith("resp"):
            assert arrays[key].shape == (n_stimuli, 300) and arrays[key].dtype == np.float32
    z = arrays["resp"] if "resp" in arrays else arrays["resp_train"]
    assert np.allclose(z.mean(0), 0, atol=1e-4) and np.allclose(z.std(0), 1, atol=1e-3)


def test_simulation_is_deterministic():
    a, b = data.simulate_v1(seed=3, n_neurons=50), data.simulate_v1(seed=3, n_neurons=50)
    np.testing.assert_array_equal(a["resp"], b["resp"])
    assert not np.array_equal(a["resp"], data.simulate_v1(seed=4, n_neurons=50)["resp"])


def test_simulated_population_encodes_orientation_well_enough_to_decode():
    """A linear read-out of (cos 2θ, sin 2θ) from half the stimuli decodes the other half within 6 degrees."""
    arrays = data.simulate_v1("oribinned1", n_neurons=500)
    resp, theta = arrays["resp"], np.deg2rad(arrays["stimuli"][:, 0])
    target = np.stack([np.cos(2 * theta), np.sin(2 * theta)], 1)
    train, test = np.arange(0, 360, 2), np.arange(1, 360, 2)
    x = np.c_[resp, np.ones(len(resp))]
    weights = np.linalg.lstsq(x[train], target[train], rcond=1e-3)[0]
    pred = x[test] @ weights
    decoded = np.rad2deg(np.arctan2(pred[:, 1], pred[:, 0]) / 2) % 180
    error = np.abs((decoded - np.rad2deg(theta[test]) % 180 + 90) % 180 - 90)
    assert np.median(error) < 6


def test_simulated_tuning_curves_are_orientation_tuned():
    arrays = data.simulate_v1("oribinned6_split", n_neurons=400)
    train, test = arrays["resp_train"], arrays["resp_test"]
    # the same tuning shows in both halves of the trials ...
    r = [np.corrcoef(train[:, i], test[:, i])[0, 1] for i in range(400)]
    assert np.median(r) > 0.5
    # ... with period 180 degrees (orientation, not direction): theta and theta + 180 look alike
    half = len(train) // 2
    assert np.corrcoef(train[:half].ravel(), train[half:].ravel())[0, 1] > 0.5


def test_populations_differ_as_documented():
    """broad_noisy: broader tuning, more noise and fewer neurons than the default population."""
    default, broad = data.POPULATIONS["default"], data.POPULATIONS["broad_noisy"]
    assert broad.kappa_median < default.kappa_median and broad.n_neurons < default.n_neurons
    assert broad.noise_per_gain > default.noise_per_gain
    halves = {}
    for name in ("default", "broad_noisy"):
        arrays = data.simulate_v1("oribinned6_split", population_name=name)
        assert arrays["resp_train"].shape[1] == data.POPULATIONS[name].n_neurons
        train, test = arrays["resp_train"], arrays["resp_test"]
        halves[name] = np.median([np.corrcoef(train[:, i], test[:, i])[0, 1] for i in range(train.shape[1])])
    # the README quotes the folded T4 halves (about 0.8 and 0.2); unfolded, the bins are noisier still
    assert halves["broad_noisy"] < halves["default"] - 0.1, halves


@pytest.mark.parametrize(("kappa", "width"), [(2.0, 50), (0.7, 90)])
def test_von_mises_width_stated_in_the_docs(kappa, width):
    """The tuning curve's full width at half height: about 50 degrees at kappa = 2 (the docstring, the README),
    about 90 degrees at kappa = 0.7 (the README)."""
    delta = np.linspace(0, 90, 90001)
    curve = np.exp(kappa * (np.cos(2 * np.deg2rad(delta)) - 1))
    assert abs(2 * delta[np.argmax(curve < 0.5)] - width) < 2


def test_population_comes_from_the_environment_and_a_misspelt_name_is_an_error(monkeypatch):
    monkeypatch.setenv("COURSE_SIMULATED_POPULATION", "broad_noisy")
    assert data.population() == ("broad_noisy", data.POPULATIONS["broad_noisy"])
    loaded = data.load_v1("oribinned6_split", offline=True, quiet=True)
    assert loaded.simulated and loaded["resp_train"].shape[1] == data.POPULATIONS["broad_noisy"].n_neurons
    monkeypatch.setenv("COURSE_SIMULATED_POPULATION", "braod")
    with pytest.raises(ValueError, match="unknown simulated population 'braod'"):
        data.load_v1("oribinned6_split", offline=True, quiet=True)


def test_folding_averages_the_bins_180_degrees_apart():
    stimuli = np.arange(0, 360, 60, dtype=np.float32)[:, None]  # 0, 60, 120, 180, 240, 300
    resp = np.arange(12, dtype=np.float32).reshape(6, 2)
    orientations, folded = data.fold_orientations(stimuli, resp)
    np.testing.assert_array_equal(orientations, [0, 60, 120])
    np.testing.assert_array_equal(folded, (resp[:3] + resp[3:]) / 2)
    # the order of the rows does not matter, and unpaired bins are kept as they are
    order = np.array([4, 0, 5, 2, 1, 3])
    np.testing.assert_array_equal(data.fold_orientations(stimuli[order], resp[order])[1], folded)
    assert data.fold_orientations([10.0, 20.0], resp[:2])[1].tolist() == resp[:2].tolist()
    # bin means a little off the centres (as in a file that stores each bin's mean angle) fold the same way
    jittered = stimuli + np.array([[0.4], [-0.3], [0.2], [-0.4], [0.1], [0.3]], dtype=np.float32)
    np.testing.assert_array_equal(data.fold_orientations(jittered, resp, bin_width=60)[1], folded)
    # 60 bins of 6 degrees fold to 30 orientations, each the mean of its rows' angles
    orientations, _ = data.fold_orientations(np.arange(0, 360, 6.0) + 0.5, np.zeros((60, 1)))
    np.testing.assert_allclose(orientations, np.arange(0, 180, 6.0) + 0.5, atol=1e-4)
    with pytest.raises(ValueError, match="n_stimuli=3"):
        data.fold_orientations([0.0, 1.0, 2.0], resp)


# -- The published layouts, read through the paths a download, a cache and a local copy take -----------------


@pytest.fixture
def data_dir(monkeypatch, tmp_path):
    folder = tmp_path / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    return folder


def _expected(name, raw):
    keys = data.DATASETS[name].keys
    return {key: np.asarray(raw[key], dtype=np.float32).reshape(len(raw[key]), -1) for key in keys}


@pytest.mark.parametrize("layout", sorted(published_files.LAYOUTS))
def test_each_published_layout_downloads_caches_and_reads_to_the_documented_layout(
    layout, server, data_dir, monkeypatch
):
    """A file in each published layout, served with its MD5 as the published one: the download, then the cache,
    both give (n_stimuli, n_neurons) float32 responses and (n_stimuli, 1) float32 angles."""
    name, column, dtype = published_files.LAYOUTS[layout]
    path = published_files.write(data_dir.parent / "served", layout, n_neurons=300)
    payload = path.read_bytes()
    remote = data.DATASETS[name]
    monkeypatch.setitem(
        data.DATASETS,
        name,
        data.Remote(remote.filename, "", hashlib.md5(payload).hexdigest(), remote.bin_width, remote.keys),
    )
    handler, url = server
    handler.payload = payload
    with np.load(path) as npz:
        raw = {key: npz[key] for key in npz.files}
    assert raw["stimuli"].ndim == (2 if column else 1) and raw["stimuli"].dtype == dtype
    for source in ("download", "cache"):
        loaded = data.load_v1(name, url=url, quiet=True)
        assert loaded.source == source and loaded.recorded
        assert tuple(loaded.keys()) == remote.keys
        for key, expected in _expected(name, raw).items():
            assert loaded[key].dtype == np.float32 and loaded[key].shape == expected.shape, key
            np.testing.assert_array_equal(loaded[key], expected)
        assert loaded["stimuli"].shape == (len(raw["stimuli"]), 1)


@pytest.mark.parametrize("layout", ["oribinned1-1d-float64", "oribinned6_split-column-float64"])
def test_a_local_copy_is_read_and_labelled_as_not_the_published_file(layout, data_dir, capsys):
    """An instructor's copy in the data folder whose MD5 is not the published one: read, never replaced by a
    download, and labelled as a local copy (source, note and the printed line)."""
    name = published_files.LAYOUTS[layout][0]
    path = published_files.write(data_dir, layout, n_neurons=50)
    before = path.read_bytes()
    loaded = data.load_v1(name, url="http://127.0.0.1:9/never", offline=False)
    assert loaded.source == "local" and not loaded.recorded and not loaded.simulated
    assert "MD5" in loaded.note and data.DATASETS[name].md5 in loaded.note
    assert "LOCAL COPY" in capsys.readouterr().out
    assert path.read_bytes() == before
    assert loaded["stimuli"].shape == (len(loaded[data.DATASETS[name].keys[0]]), 1)


def test_a_named_file_is_read_and_a_missing_one_is_an_error(tmp_path):
    path = published_files.write(tmp_path / "elsewhere", "oribinned1-1d-float64", n_neurons=20)
    loaded = data.load_v1("oribinned1", path=path, quiet=True)
    assert loaded.source == "local" and loaded["resp"].shape[1] == 20
    with pytest.raises(FileNotFoundError, match="no data file"):
        data.load_v1("oribinned1", path=tmp_path / "missing.npz", quiet=True)


def test_the_recordings_neuron_count_in_float64_is_read():
    """All 23,589 neurons of the recording, float64, 1-D stimuli: normalised without loss of rows or neurons."""
    raw = {"resp": np.zeros((360, data.RECORDED_NEURONS)), "stimuli": np.arange(360) + 0.5}
    out = data.normalise(raw, "oribinned1", "W3D4_stringer_oribinned1.npz")
    assert out["resp"].shape == (360, data.RECORDED_NEURONS) and out["resp"].dtype == np.float32
    assert out["stimuli"].shape == (360, 1) and out["stimuli"][-1, 0] == 359.5


def _bad(**change):
    good = {"resp_train": np.zeros((60, 5)), "resp_test": np.zeros((60, 5)), "stimuli": np.arange(60.0) * 6}
    return {key: value for key, value in (good | change).items() if value is not None}


@pytest.mark.parametrize(
    ("arrays", "key", "found", "expected"),
    [
        (_bad(stimuli=np.zeros((60, 2))), "stimuli", "(60, 2)", "(60,) or (60, 1)"),
        (_bad(stimuli=np.zeros((1, 60))), "stimuli", "(1, 60)", "(60,) or (60, 1)"),
        (_bad(stimuli=np.zeros(59)), "stimuli", "(59,)", "(60,) or (60, 1)"),
        (_bad(resp_train=np.zeros(60)), "resp_train", "(60,)", "(n_stimuli, n_neurons)"),
        (_bad(resp_test=np.zeros((60, 4))), "resp_test", "(60, 4)", "(60, 5)"),
        (_bad(resp_test=None), "resp_test", "missing", "resp_train"),
        (_bad(resp_train=np.full((60, 5), np.nan)), "resp_train", "NaN", "finite"),
        (_bad(stimuli=np.array(["a"] * 60)), "stimuli", "<U1", "real numbers"),
        (_bad(stimuli=np.arange(60.0) * 12), "stimuli", "708", "[0, 360]"),
    ],
)
def test_a_file_in_another_layout_is_an_error_naming_the_file_key_and_shapes(arrays, key, found, expected, data_dir):
    data_dir.mkdir()
    path = data_dir / data.DATASETS["oribinned6_split"].filename
    np.savez(path, **arrays)
    with pytest.raises(data.LayoutError) as error:
        data.load_v1("oribinned6_split", offline=True, quiet=True)
    message = str(error.value)
    assert str(path) in message and repr(key) in message and found in message and expected in message, message


@pytest.mark.parametrize("content", [b"not a zip file at all", b"PK\x03\x04 truncated"])
def test_a_file_that_is_not_an_npz_archive_is_an_error_naming_it(content, data_dir):
    data_dir.mkdir()
    path = data_dir / data.DATASETS["oribinned1"].filename
    path.write_bytes(content)
    with pytest.raises(data.LayoutError, match="cannot be read"):
        data.load_v1("oribinned1", offline=True, quiet=True)


def test_pickled_objects_are_refused(data_dir):
    data_dir.mkdir()
    path = data_dir / data.DATASETS["oribinned1"].filename
    np.savez(path, resp=np.zeros((3, 2)), stimuli=np.array([object(), 1, 2], dtype=object))
    with pytest.raises(data.LayoutError, match="stimuli|pickle"):
        data.load_v1("oribinned1", offline=True, quiet=True)


@pytest.mark.parametrize("seed", range(5))
def test_folding_pairs_bin_means_that_sit_at_the_bins_centres(seed):
    """The published split file's angles are the mean angle of each 6-degree bin's trials: about 3, 9, 15, ...,
    each a little off the centre, on either side. Each bin is paired with the one 180 degrees away (never with a
    neighbour, as rounding to multiples of 6 would at x.5 bins), whatever the jitter."""
    rng = np.random.default_rng(seed)
    stimuli = np.arange(60) * 6.0 + 3.0 + rng.uniform(-1.5, 1.5, 60)
    bin_index = np.arange(60) % 30  # the bins at theta and theta + 180 share an index
    resp = np.stack([bin_index, np.arange(60) // 30], axis=1).astype(float)
    order = rng.permutation(60)
    orientations, folded = data.fold_orientations(stimuli[order][:, None], resp[order])
    assert len(orientations) == 30 and np.all(np.diff(orientations) > 0)
    np.testing.assert_array_equal(folded[:, 0], np.arange(30))  # each orientation averages one pair ...
    np.testing.assert_array_equal(folded[:, 1], 0.5)  # ... one bin from each half of the circle
    np.testing.assert_allclose(orientations, (stimuli[:30] + stimuli[30:] - 180) / 2, atol=1e-3)


# -- The recording-like population ------------------------------------------------------------------------


def test_recording_like_population_has_the_recordings_neuron_count_and_published_layout(monkeypatch):
    params = data.POPULATIONS["recording_like"]
    assert params.n_neurons == data.RECORDED_NEURONS == 23589
    raw = data.simulate_v1("oribinned1", n_neurons=200, population_name="recording_like")
    assert raw["resp"].dtype == np.float64 and raw["stimuli"].shape == (len(raw["resp"]),)
    assert raw["stimuli"].dtype == np.float64
    # each bin's mean angle: inside its 1-degree bin, not at its start
    offsets = raw["stimuli"] - np.floor(raw["stimuli"])
    assert 0.3 < offsets.mean() < 0.7 and np.all(np.diff(raw["stimuli"]) > 0)
    monkeypatch.setenv("COURSE_SIMULATED_POPULATION", "recording_like")
    loaded = data.load_v1("oribinned6_split", offline=True, quiet=True, n_neurons=200)
    assert loaded.simulated and loaded["resp_train"].dtype == np.float32 and loaded["stimuli"].shape == (60, 1)


def _split_halves(population, n_neurons=3000, seed=1):
    arrays = data.simulate_v1("oribinned6_split", n_neurons=n_neurons, seed=seed, population_name=population)
    return arrays["resp_train"], arrays["resp_test"]


def test_recording_like_population_has_untuned_and_weakly_tuned_neurons():
    """Split-half agreement of each neuron's 60 bins: a substantial share near 0 (untuned), a share clearly tuned;
    in the default population almost none near 0."""
    train, test = _split_halves("recording_like")
    r = np.array([np.corrcoef(train[:, i], test[:, i])[0, 1] for i in range(train.shape[1])])
    assert np.mean(np.abs(r) < 0.2) > 0.3, np.mean(np.abs(r) < 0.2)
    assert np.mean(r > 0.4) > 0.15, np.mean(r > 0.4)
    default_train, default_test = _split_halves("default", n_neurons=300)
    r_default = [np.corrcoef(default_train[:, i], default_test[:, i])[0, 1] for i in range(300)]
    assert np.mean(np.abs(r_default) < 0.2) < 0.05


def test_recording_like_population_has_direction_selectivity():
    """Without noise, a direction-selective neuron's tuning curve over the bins at 180 to 360 degrees differs in
    height from the one over 0 to 180 (by a ratio of at least 1.3 for d of at least 0.13); about the
    ``direction_fraction`` of the neurons do, and none when that fraction is 0."""
    from dataclasses import replace

    quiet = replace(
        data.POPULATIONS["recording_like"],
        noise_per_gain=0.0,
        noise_floor=1e-3,
        shared_gain_sd=0.0,
        shared_rank=0,
        untuned_fraction=0.0,
        weak_fraction=0.0,
    )

    def selective(population):
        train, _ = _split_halves(population, n_neurons=2000)
        heights = np.ptp(train[:30], axis=0) / np.ptp(train[30:], axis=0)
        return np.mean(np.abs(np.log(heights)) > np.log(1.3))

    share = selective(quiet)
    assert 0.5 * quiet.direction_fraction < share <= quiet.direction_fraction + 0.03, share
    assert selective(replace(quiet, direction_fraction=0.0)) < 0.01


def test_recording_like_population_has_shared_noise():
    """The trial noise left in the bins (train half minus test half) is correlated across neurons, and is not
    when the shared gain and the shared factors are switched off."""
    from dataclasses import replace

    params = data.POPULATIONS["recording_like"]

    def top_share(population):
        train, test = _split_halves(population, n_neurons=1000)
        residual = train - test
        residual = (residual - residual.mean(0)) / residual.std(0)
        eigenvalues = np.linalg.eigvalsh(np.cov(residual))  # across the 60 bins
        return eigenvalues[-1] / eigenvalues.sum()

    shared = top_share(params)
    independent = top_share(replace(params, shared_gain_sd=0.0, shared_rank=0))
    assert shared > 2 * independent, (shared, independent)


def test_recording_like_trials_are_z_scored_then_binned_and_6_degree_bins_average_more_trials():
    """Noise only (no tuning, no shared noise, unit noise): a bin mean of k z-scored trials has s.d. 1 / sqrt(k);
    about 11 trials per 1-degree bin, about 33 per 6-degree bin in each half of the trials."""
    from dataclasses import replace

    noise = replace(
        data.POPULATIONS["recording_like"], untuned_fraction=1.0, weak_fraction=0.0, shared_gain_sd=0.0, shared_rank=0
    )
    one = data.simulate_v1("oribinned1", n_neurons=500, population_name=noise)["resp"]
    six = data.simulate_v1("oribinned6_split", n_neurons=500, population_name=noise)["resp_train"]
    n = noise.n_trials
    assert abs(one.std() - 1 / np.sqrt(n / 360)) < 0.03, one.std()
    assert abs(six.std() - 1 / np.sqrt(n / 60 / 2)) < 0.02, six.std()
    assert six.std() < one.std() / 1.5


def test_folding_refuses_what_it_cannot_pair_and_pairs_sparse_bin_means():
    resp = np.zeros((60, 1))
    with pytest.raises(ValueError, match="NaN"):
        data.fold_orientations(np.r_[np.nan, np.arange(59.0) * 6], resp)
    # the same angles twice (spacing 0) are still 30 orientations
    means = np.arange(60) * 6.0 + 3.0
    orientations, _ = data.fold_orientations(np.r_[means, means], np.zeros((120, 1)))
    assert len(orientations) == 30
    # half the bins missing: the width cannot be told from the angles, and a wrong guess is refused, not used
    rng = np.random.default_rng(0)
    kept = np.sort(rng.choice(60, 30, replace=False))
    try:
        orientations, _ = data.fold_orientations(means[kept], np.zeros((30, 1)))
    except ValueError as err:
        assert "bin_width" in str(err)
    else:
        assert np.all(np.abs((orientations[:, None] - means[kept] % 180 + 90) % 180 - 90).min(axis=0) < 3)
    np.testing.assert_allclose(
        data.fold_orientations(means[kept], np.zeros((30, 1)), bin_width=6)[0] % 6, 3.0, atol=1e-4
    )


def test_folding_pairs_1_degree_bin_means_of_few_trials():
    """600 trials in 1-degree bins (under 2 a bin): each bin's mean lies anywhere inside it; still every bin
    goes with the one 180 degrees away."""
    rng = np.random.default_rng(3)
    trials = rng.uniform(0, 360, 600)
    bins = np.floor(trials).astype(int)
    present = np.unique(bins)
    means = np.array([trials[bins == b].mean() for b in present])
    resp = (present % 180)[:, None].astype(float)  # each row carries its orientation bin
    orientations, folded = data.fold_orientations(means, resp, bin_width=1)
    assert np.all(folded[:, 0] == np.floor(orientations))


def test_corrupt_or_overflowing_files_are_layout_errors(data_dir):
    import zipfile as zf

    data_dir.mkdir()
    path = data_dir / data.DATASETS["oribinned1"].filename
    np.savez(path, resp=np.full((4, 2), 1e39), stimuli=np.arange(4.0))
    with pytest.raises(data.LayoutError, match="infinite"):
        data.load_v1("oribinned1", offline=True, quiet=True)
    np.savez_compressed(path, resp=np.random.default_rng(0).normal(size=(50, 40)), stimuli=np.arange(50.0))
    raw = bytearray(path.read_bytes())
    with zf.ZipFile(path) as archive:
        info = archive.getinfo("resp.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100
    raw[start : start + 40] = bytes(40)  # damage the deflate stream
    path.write_bytes(bytes(raw))
    with pytest.raises(data.LayoutError, match="cannot be read"):
        data.load_v1("oribinned1", offline=True, quiet=True)
