"""helpers.data: download with checksum and cache (against a local server), and the simulated population."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading

import numpy as np
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
    # the real layout: 60 bins of 6 degrees fold to 30 orientations, 0 to 174
    orientations, _ = data.fold_orientations(np.arange(0, 360, 6.0) + 0.5, np.zeros((60, 1)))
    np.testing.assert_array_equal(orientations, np.arange(0, 180, 6.0))
    with pytest.raises(ValueError, match="n_stimuli=3"):
        data.fold_orientations([0.0, 1.0, 2.0], resp)
