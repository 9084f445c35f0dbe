"""The interactive demos: they build, show a figure, and redraw when a control moves."""

import ipywidgets as widgets
import pytest

from helpers.widgets import gabor_explorer, orientation_explorer

PNG_MAGIC = b"\x89PNG"


def _parts(box):
    controls, picture = box.children
    assert isinstance(picture, widgets.Image)
    return controls.children, picture


def test_orientation_explorer_shows_a_png_at_start():
    (slider, chooser), picture = _parts(orientation_explorer())
    assert isinstance(slider, widgets.IntSlider) and isinstance(chooser, widgets.Dropdown)
    assert bytes(picture.value).startswith(PNG_MAGIC)


@pytest.mark.parametrize("which, value", [(0, 45), (1, 0)])
def test_orientation_explorer_redraws_when_a_control_moves(which, value):
    controls, picture = _parts(orientation_explorer(angle=90, channel=3))
    before = bytes(picture.value)
    controls[which].value = value
    assert bytes(picture.value) != bytes(before) and bytes(picture.value).startswith(PNG_MAGIC)


def test_orientation_explorer_offers_every_channel():
    (_, chooser), _ = _parts(orientation_explorer())
    assert [value for _, value in chooser.options] == list(range(6))


@pytest.mark.parametrize("which, value", [(0, 90), (1, 12.0), (2, 90)])
def test_gabor_explorer_redraws_for_each_slider(which, value):
    controls, picture = _parts(gabor_explorer())
    before = bytes(picture.value)
    controls[which].value = value
    assert bytes(picture.value) != bytes(before) and bytes(picture.value).startswith(PNG_MAGIC)
