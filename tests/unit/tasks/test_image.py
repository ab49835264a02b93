"""``posejax.Image`` / ``posejax.ImageFormat``: the formats, copies and checks of ``mp.Image``."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

import posejax as mp


def test_srgb_holds_a_read_only_copy():
    data = np.arange(48 * 64 * 3, dtype=np.uint8).reshape(48, 64, 3)
    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=data)
    assert (image.width, image.height, image.channels) == (64, 48, 3)
    assert image.image_format == mp.ImageFormat.SRGB
    view = image.numpy_view()
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0, 0, 0] = 1
    data[0, 0, 0] = 99                       # the image kept its own copy
    assert view[0, 0, 0] == 0
    np.testing.assert_array_equal(image.rgb(), np.arange(48 * 64 * 3).reshape(48, 64, 3) % 256)


def test_srgba_drops_alpha_and_gray_repeats_for_the_network():
    rgba = np.random.default_rng(0).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    image = mp.Image(image_format=mp.ImageFormat.SRGBA, data=rgba)
    assert image.channels == 4
    np.testing.assert_array_equal(image.rgb(), rgba[..., :3])
    gray = rgba[..., 0]
    for data in (gray, gray[..., None]):
        image = mp.Image(image_format=mp.ImageFormat.GRAY8, data=data)
        assert image.channels == 1 and image.numpy_view().shape == (5, 7)
        np.testing.assert_array_equal(image.rgb(), np.repeat(gray[..., None], 3, axis=2))


@pytest.mark.parametrize("image_format, data, message", [
    (mp.ImageFormat.SRGB, np.zeros((4, 4, 3), np.float32), "uint8"),
    (mp.ImageFormat.SRGB, np.zeros((4, 4, 4), np.uint8), r"\(H, W, 3\)"),
    (mp.ImageFormat.SRGBA, np.zeros((4, 4, 3), np.uint8), r"\(H, W, 4\)"),
    (mp.ImageFormat.GRAY8, np.zeros((4, 4, 3), np.uint8), r"\(H, W\)"),
    (mp.ImageFormat.SRGB, np.zeros((0, 4, 3), np.uint8), "empty"),
    (mp.ImageFormat.GRAY16, np.zeros((4, 4), np.uint16), "not supported"),
    (42, np.zeros((4, 4, 3), np.uint8), "unknown image format"),
])
def test_bad_images_are_refused(image_format, data, message):
    with pytest.raises(ValueError, match=message):
        mp.Image(image_format=image_format, data=data)


def test_data_must_be_an_array():
    with pytest.raises(TypeError, match="numpy array"):
        mp.Image(image_format=mp.ImageFormat.SRGB, data=[[[0, 0, 0]]])


@pytest.mark.parametrize("shape, expected", [((6, 5, 3), mp.ImageFormat.SRGB),
                                             ((6, 5, 4), mp.ImageFormat.SRGBA),
                                             ((6, 5), mp.ImageFormat.GRAY8)])
def test_create_from_file_keeps_the_files_channels(tmp_path, shape, expected):
    data = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "image.png"
    iio.imwrite(path, data)
    image = mp.Image.create_from_file(path)
    assert image.image_format == expected
    np.testing.assert_array_equal(image.numpy_view(), data)
