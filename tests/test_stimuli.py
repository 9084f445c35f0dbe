"""Properties of the gratings in helpers.stimuli."""

import numpy as np
import pytest
import torch

from helpers.stimuli import SCREEN_HEIGHT, SCREEN_WIDTH, grating, gratings, mean_over_phases, phase_gratings


def test_default_grating_is_48_by_64_float32_with_two_levels():
    g = grating(0)
    assert g.shape == (48, 64)
    assert g.dtype == torch.float32
    assert set(g.unique().tolist()) == {-0.5, 0.5}


@pytest.mark.parametrize("res", [0.05, 0.1, 0.2])
def test_shape_follows_resolution(res):
    assert grating(30, res=res).shape == (round(SCREEN_HEIGHT * res), round(SCREEN_WIDTH * res))


def test_angle_zero_gives_vertical_stripes():
    g = grating(0)
    # luminance varies along x only: every column is constant, rows are not
    assert torch.all(g == g[0:1, :])
    assert len(g[0].unique()) == 2


def test_angle_ninety_gives_horizontal_stripes():
    g = grating(90)
    assert torch.all(g == g[:, 0:1])
    assert len(g[:, 0].unique()) == 2


def test_period_is_two_pi_over_sf_full_resolution_pixels():
    sf, res = 1 / 28, 0.1
    row = grating(0, sf=sf, res=res)[0].numpy()
    # positions (in full-resolution pixels) where the sign flips
    flips = np.flatnonzero(np.diff(row)) + 1
    half_periods = np.diff(flips) / res
    assert np.allclose(half_periods.mean(), np.pi / sf, rtol=0.1)


def test_orientation_is_periodic_with_180_degrees():
    # cos is even, so turning the direction of variation by 180 degrees keeps the image
    # (up to samples where the carrier is exactly 0 and the sign is a tie)
    assert (grating(30) == grating(210)).float().mean() > 0.99


def test_orientations_differ():
    assert not torch.equal(grating(0), grating(45))


def test_patch_confines_grating_to_disc_on_zero_background():
    g = grating(45, patch=True)
    height, width = g.shape
    assert set(g.unique().tolist()) == {-0.5, 0.0, 0.5}
    ys, xs = np.nonzero(g.numpy())
    # disc centred at 3/4 of the width and 1/2 of the height, diameter a third of the width
    assert abs(xs.mean() - 0.75 * (width - 1)) < 1.5
    assert abs(ys.mean() - 0.5 * (height - 1)) < 1.5
    assert abs((xs.max() - xs.min() + 1) - width / 3) <= 2
    # area of the disc (in samples) matches pi r^2
    assert abs(len(xs) - np.pi * (width / 6) ** 2) / (np.pi * (width / 6) ** 2) < 0.1
    # the corners are background
    assert g[0, 0] == 0 and g[-1, -1] == 0 and g[0, -1] == 0


def test_batch_stacks_single_gratings():
    angles = [-90, -45, 0, 45, 90]
    batch = gratings(angles)
    assert batch.shape == (5, 1, 48, 64)
    for i, a in enumerate(angles):
        assert torch.equal(batch[i, 0], grating(a))


def test_phase_pi_swaps_bright_and_dark():
    assert (grating(20, phase=np.pi) == -grating(20)).float().mean() > 0.99


@pytest.mark.parametrize("kwargs", [{"res": 0}, {"res": 2}, {"sf": 0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        grating(0, **kwargs)


def test_empty_batch_raises():
    with pytest.raises(ValueError, match="at least one"):
        gratings([])


def test_sine_grating_is_the_square_gratings_carrier():
    square, sine = grating(30.0), grating(30.0, waveform="sine")
    assert float(sine.abs().max()) <= 0.5 and float(sine.min()) < -0.45
    assert torch.equal(torch.where(sine >= 0, 0.5, -0.5), square)


def test_unknown_waveform_is_an_error():
    with pytest.raises(ValueError, match="waveform"):
        grating(0.0, waveform="triangle")


def test_phase_gratings_are_the_gratings_at_evenly_spaced_phases():
    stimuli = phase_gratings([0.0, 30.0], n_phases=4)
    assert stimuli.shape == (2, 4, 1, 48, 64)
    for p in range(4):
        torch.testing.assert_close(stimuli[:, p], gratings([0.0, 30.0], phase=p * np.pi / 2))
    with pytest.raises(ValueError, match="n_phases"):
        phase_gratings([0.0], n_phases=0)


def test_mean_over_phases_averages_each_orientations_responses():
    stimuli = phase_gratings([0.0, 45.0, 90.0], n_phases=2)

    def model(s):  # (M, 1, H, W) -> (M, 2): a phase-dependent response, and one that is not
        return torch.stack([s[:, 0, 0, 0], s[:, 0].abs().mean((1, 2))], dim=1)

    expected = torch.stack([model(stimuli[:, p]) for p in range(2)]).mean(0)
    torch.testing.assert_close(mean_over_phases(model, stimuli), expected)
    assert torch.allclose(mean_over_phases(model, stimuli)[:, 0], torch.zeros(3))  # opposite phases cancel
    with pytest.raises(ValueError, match="n_phases"):
        mean_over_phases(model, stimuli[:, 0])
