"""Properties of the kernels in helpers.filters."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.filters import center_surround, filter_bank, gabor, gabor_orientations, gaussian
from helpers.stimuli import gratings


@pytest.mark.parametrize("out_channels, K", [(6, 7), (8, 9), (3, 5)])
def test_bank_shape_dtype_and_zero_mean(out_channels, K):
    bank = filter_bank(out_channels, K)
    assert bank.shape == (out_channels, 1, K, K)
    assert bank.dtype == torch.float32
    assert torch.allclose(bank.mean(dim=(1, 2, 3)), torch.zeros(out_channels), atol=1e-6)


def test_off_centre_is_minus_on_centre():
    bank = filter_bank()
    assert torch.equal(bank[1], -bank[0])


def test_on_centre_is_positive_in_the_centre_and_negative_at_the_edges():
    k = center_surround(7)
    assert k[3, 3] == k.max() and k[3, 3] > 0
    assert torch.all(k[0, :] < 0) and torch.all(k[:, 0] < 0)
    # radially symmetric
    assert torch.allclose(k, k.T) and torch.allclose(k, k.flip(0)) and torch.allclose(k, k.flip(1))


@pytest.mark.parametrize("kernel", [center_surround(7), gabor(7, 30), gabor(9, 100, phase=np.pi / 2)])
def test_kernels_are_scaled_then_zero_mean(kernel):
    # scaled to max |value| 1 before the mean is removed: max |value + mean_removed| == 1
    assert abs(float(kernel.sum())) < 1e-5
    assert float(kernel.abs().max()) <= 1 + 1e-5


def test_gaussian_envelope_is_a_true_gaussian():
    # exp(-r^2 / (2 sigma^2)): value at distance sigma along an axis is exp(-1/2)
    g = gaussian(7, sigma=2.0)
    assert g[3, 3] == pytest.approx(1.0)
    assert g[3, 5] == pytest.approx(np.exp(-0.5))
    assert g[1, 5] == pytest.approx(np.exp(-1.0))  # r^2 = 8 = 2 sigma^2


def test_gabor_at_zero_degrees_is_constant_along_y():
    k = gabor(7, theta=0)
    # carrier varies along x only, envelope symmetric: the kernel is symmetric about the horizontal midline
    assert torch.allclose(k, k.flip(0), atol=1e-6)
    assert not torch.allclose(k, k.flip(0).T, atol=1e-3)


def test_gabor_rotates_counter_clockwise_like_the_grating():
    # 90 degrees is the 0-degree kernel turned by a quarter
    assert torch.allclose(gabor(7, 90), torch.rot90(gabor(7, 0), 1), atol=1e-5)
    # 45 and 135 degrees are mirror images of each other
    assert torch.allclose(gabor(7, 45), gabor(7, 135).flip(1), atol=1e-5)


def test_odd_gabor_is_antisymmetric():
    k = gabor(7, theta=0, phase=np.pi / 2)
    assert torch.allclose(k, -k.flip(1), atol=1e-5)


def test_gabor_orientations_follow_linspace():
    assert np.allclose(gabor_orientations(6), [0, 45, 90, 135])


@pytest.mark.parametrize("out_channels", [6, 8])
def test_each_gabor_channel_prefers_its_own_orientation(out_channels):
    """Mean rectified response over gratings at 0..175 degrees peaks at the channel's orientation."""
    angles = np.arange(0, 180, 5)
    bank = filter_bank(out_channels, 7)
    # average over carrier phases so the coarse sampling of the square wave does not decide the peak
    response = sum(
        F.conv2d(gratings(angles, phase=phase), bank, padding=3).relu().mean(dim=(2, 3))
        for phase in np.linspace(0, 2 * np.pi, 8, endpoint=False)
    )
    for channel, preferred in enumerate(gabor_orientations(out_channels), start=2):
        assert angles[int(response[:, channel].argmax())] == preferred
        # and tuning is real: the orthogonal grating drives it clearly less
        orthogonal = int(np.flatnonzero(angles == (preferred + 90) % 180)[0])
        assert response[orthogonal, channel] < 0.6 * response[:, channel].max()


def test_centre_surround_channels_are_untuned():
    angles = np.arange(0, 180, 15)
    bank = filter_bank()
    response = F.conv2d(gratings(angles), bank, padding=3).relu().mean(dim=(2, 3))
    for channel in (0, 1):
        assert response[:, channel].max() < 1.5 * response[:, channel].min()


@pytest.mark.parametrize("call", [lambda: gaussian(0, 1.0), lambda: gaussian(5, 0), lambda: filter_bank(2)])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


def test_quadrature_pair_is_zero_mean_even_and_odd():
    from helpers.filters import quadrature_pair

    even, odd = quadrature_pair(21, theta=30.0, wavelength=9.0)
    assert even.shape == odd.shape == (21, 21)
    assert abs(float(even.sum())) < 1e-4 and abs(float(odd.sum())) < 1e-4
    assert torch.allclose(even, even.flip(0, 1), atol=1e-6)  # symmetric about the centre
    assert torch.allclose(odd, -odd.flip(0, 1), atol=1e-6)  # antisymmetric


@pytest.mark.parametrize("bad", [{"K": 30}, {"wavelength": 0.0}])
def test_quadrature_pair_rejects_bad_arguments(bad):
    from helpers.filters import quadrature_pair

    with pytest.raises(ValueError):
        quadrature_pair(**bad)
