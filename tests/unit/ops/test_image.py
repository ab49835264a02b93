"""posejax.ops.image against OpenCV 4.11, the real MediaPipe calculators, and a NumPy reference.

Fixtures come from ``tools/make_ops_fixtures.py`` (reference venv). The NumPy reference below is
written from the spec (sections 4.1, 6.1 and 10): corners as ``cv::boxPoints``, the homography as
``cv::getPerspectiveTransform`` solves it (float64), positions rounded half-even to 1/32 px,
integer bilinear weights.
"""

from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from posejax.ops import image

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ops"

_roi_to_tensor = jax.jit(image.roi_to_tensor, static_argnames=("size", "border"))
_landmark_input = jax.jit(image.landmark_input)
_detector_input = jax.jit(image.detector_input)
_mask_to_image = jax.jit(image.mask_to_image, static_argnames=("height", "width"))
_warp_affine = jax.jit(image.warp_affine_inverse, static_argnames=("height", "width"))
_corners = jax.jit(lambda roi, h, w: _padded_corners(roi, h, w), static_argnums=(1, 2))


def _padded_corners(roi, height, width):
    cx, cy, w, h, rotation = image.roi_in_pixels(roi, height, width)
    w, h, _ = image.pad_roi(w, h)
    return image.box_points(cx, cy, w, h, rotation)


@pytest.fixture(scope="module")
def opencv_warp():
    return dict(np.load(FIXTURES / "opencv_warp.npz"))


@pytest.fixture(scope="module")
def mediapipe_image():
    return dict(np.load(FIXTURES / "mediapipe_image.npz"))


def _agreement(got, expected):
    diff = np.abs(np.asarray(got).astype(np.int64) - np.asarray(expected).astype(np.int64))
    return float(np.mean(diff == 0)), int(diff.max())


# -- OpenCV ----------------------------------------------------------------------------------------
def test_box_points_are_opencvs_floats(opencv_warp):
    height, width = opencv_warp["image"].shape[:2]
    for roi, expected in zip(opencv_warp["rois"], opencv_warp["corners"], strict=True):
        np.testing.assert_array_equal(np.asarray(_corners(jnp.asarray(roi), height, width)),
                                      expected)


@pytest.mark.parametrize("border", ["zero", "replicate"])
def test_roi_to_tensor_matches_opencv_warp_perspective(opencv_warp, border):
    size = int(opencv_warp["size"])
    picture = jnp.asarray(opencv_warp["image"])
    got = np.stack([np.asarray(_roi_to_tensor(picture, jnp.asarray(roi), size=size, border=border))
                    for roi in opencv_warp["rois"]])
    identical, max_diff = _agreement(got, opencv_warp[border])
    # Random noise is the worst case for a 1/32-px sample shift; OpenCV's own double rounding
    # could still flip a sample at an exact tie.
    assert identical >= 0.9999 and max_diff <= 2, (identical, max_diff)


def test_warp_affine_inverse_matches_opencv():
    data = np.load(FIXTURES / "opencv_affine.npz")
    height, width = data["outputs"].shape[1:]
    for matrix, expected in zip(data["matrices"], data["outputs"], strict=True):
        got = np.asarray(_warp_affine(jnp.asarray(data["source"]), jnp.asarray(matrix),
                                      height=height, width=width))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1.2e-7)


# -- MediaPipe calculators -------------------------------------------------------------------------
def test_landmark_input_is_mediapipes_tensor(mediapipe_image):
    step = int(mediapipe_image["crop_step"])
    picture = jnp.asarray(mediapipe_image["image"])
    scale = np.float32(1 / 255)
    for roi, expected_u8 in zip(mediapipe_image["rois"], mediapipe_image["crops"], strict=True):
        got = np.asarray(_landmark_input(picture, jnp.asarray(roi)))[::step, ::step]
        np.testing.assert_array_equal(got, expected_u8.astype(np.float32) * scale)


def test_roi_padding_is_mediapipes(mediapipe_image):
    height, width = mediapipe_image["image"].shape[:2]
    for roi, expected in zip(mediapipe_image["rois"], mediapipe_image["paddings"], strict=True):
        np.testing.assert_array_equal(np.asarray(image.roi_padding(roi, height, width)), expected)


def test_detector_input_is_mediapipes_tensor(mediapipe_image):
    step = int(mediapipe_image["crop_step"])
    frames = (mediapipe_image["image"], mediapipe_image["image"].transpose(1, 0, 2))
    for frame, expected, padding in zip(frames, mediapipe_image["detector_crops"],
                                        mediapipe_image["detector_paddings"], strict=True):
        tensor, got_padding = _detector_input(jnp.asarray(np.ascontiguousarray(frame)))
        np.testing.assert_array_equal(np.asarray(tensor)[::step, ::step], expected)
        np.testing.assert_array_equal(np.asarray(got_padding), padding)


def test_mask_to_image_is_mediapipes_warp_affine(mediapipe_image):
    step = int(mediapipe_image["mask_step"])
    height, width = mediapipe_image["image"].shape[:2]
    mask = jnp.asarray(mediapipe_image["mask_u8"].astype(np.float32) / np.float32(255))
    for roi, expected in zip(mediapipe_image["rois"], mediapipe_image["masks"], strict=True):
        got = np.asarray(_mask_to_image(mask, jnp.asarray(roi), height=height, width=width))
        np.testing.assert_allclose(got[::step, ::step], expected, rtol=0, atol=1.2e-7)


# -- NumPy reference at the networks' sizes --------------------------------------------------------
def _numpy_corners(roi, height, width):
    f = np.float32
    cx, cy = f(roi[0] * f(width)), f(roi[1] * f(height))
    w, h = f(roi[2] * f(width)), f(roi[3] * f(height))
    if f(1) > f(h / w):
        h = w
    else:
        w = h
    degrees = f(float(f(roi[4] * f(180))) / math.pi)  # double division, as C++ promotes
    angle = float(degrees) * math.pi / 180.0
    b, a = f(f(math.cos(angle)) * f(0.5)), f(f(math.sin(angle)) * f(0.5))
    p0 = (f(f(cx - f(a * h)) - f(b * w)), f(f(cy + f(b * h)) - f(a * w)))
    p1 = (f(f(cx + f(a * h)) - f(b * w)), f(f(cy - f(b * h)) - f(a * w)))
    p2 = (f(f(2) * cx - p0[0]), f(f(2) * cy - p0[1]))
    p3 = (f(f(2) * cx - p1[0]), f(f(2) * cy - p1[1]))
    return np.array([p0, p1, p2, p3], np.float32)


def _numpy_warp_perspective(picture, corners, size, border):
    dst = np.array([[0, size], [0, 0], [size, 0], [size, size]], np.float32)
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i in range(4):
        (sx, sy), (dx, dy) = corners[i], dst[i]
        a[i, :3] = a[i + 4, 3:6] = sx, sy, 1
        a[i, 6:] = -np.float32(sx * dx), -np.float32(sy * dx)
        a[i + 4, 6:] = -np.float32(sx * dy), -np.float32(sy * dy)
        b[i], b[i + 4] = dx, dy
    forward = np.append(np.linalg.solve(a, b), 1.0).reshape(3, 3)
    inverse = np.linalg.inv(forward)
    j, i = np.mgrid[0:size, 0:size].astype(np.float64)
    w = inverse[2, 0] * i + inverse[2, 1] * j + inverse[2, 2]
    fixed_x = np.rint((inverse[0, 0] * i + inverse[0, 1] * j + inverse[0, 2]) * 32 / w)
    fixed_y = np.rint((inverse[1, 0] * i + inverse[1, 1] * j + inverse[1, 2]) * 32 / w)
    fixed_x, fixed_y = fixed_x.astype(np.int64), fixed_y.astype(np.int64)
    x0, y0, fx, fy = fixed_x >> 5, fixed_y >> 5, fixed_x & 31, fixed_y & 31
    height, width = picture.shape[:2]
    total = np.zeros((size, size, 3), np.int64)
    for dy, dx, weight in ((0, 0, (32 - fx) * (32 - fy)), (0, 1, fx * (32 - fy)),
                           (1, 0, (32 - fx) * fy), (1, 1, fx * fy)):
        x, y = x0 + dx, y0 + dy
        inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        value = picture[np.clip(y, 0, height - 1), np.clip(x, 0, width - 1)].astype(np.int64)
        if border == "zero":
            value = np.where(inside[..., None], value, 0)
        total += value * (weight * 32)[..., None]
    return (total + (1 << 14)) >> 15


def test_full_size_crops_match_numpy_reference():
    rng = np.random.default_rng(7)
    picture = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    height, width = picture.shape[:2]
    rois = [np.array([0.5, 0.5, 1.0, 1.0, 0.0], np.float32),
            np.array([0.4, 0.55, 0.7, 0.7 * width / height, 0.6], np.float32),
            np.array([0.9, 0.2, 0.5, 0.5 * width / height, -2.5], np.float32)]
    sizes = [(image.DETECTOR_SIZE, "zero"), (image.LANDMARK_SIZE, "replicate"),
             (image.LANDMARK_SIZE, "zero")]
    for roi, (size, border) in zip(rois, sizes, strict=True):
        expected = _numpy_warp_perspective(picture, _numpy_corners(roi, height, width), size,
                                           border)
        got = _roi_to_tensor(jnp.asarray(picture), jnp.asarray(roi), size=size, border=border)
        identical, max_diff = _agreement(got, expected)
        assert identical >= 0.9999 and max_diff <= 2, (size, border, identical, max_diff)


# -- properties and input checks -------------------------------------------------------------------
def test_detector_input_letterbox_bands_are_minus_one():
    picture = jnp.full((60, 100, 3), 200, jnp.uint8)
    tensor, padding = _detector_input(picture)
    pad = (np.float32(1) - np.float32(60) / np.float32(100)) / np.float32(2)  # PadRoi, float32
    np.testing.assert_array_equal(np.asarray(padding), np.float32([0, pad, 0, pad]))
    # Rows sampling above y = -1 (or below y = H) of the image see only the zero border; the row
    # next to the edge blends with it.
    band = int(0.2 * image.DETECTOR_SIZE) - 2
    assert bool(jnp.all(tensor[:band] == -1.0)) and bool(jnp.all(tensor[-band:] == -1.0))
    centre = float(np.float32(200) * np.float32(np.float32(2) / np.float32(255)) - 1)
    # No half-pixel offset: the last column samples x = 223/224 * W, between pixel W-1 and the
    # zero border, so it is darker; the rest of the image area holds the pixel value.
    assert bool(jnp.all(jnp.abs(tensor[band + 4: -band - 6, :-3] - centre) < 1e-6))
    assert float(tensor[112, -1, 0]) < centre - 0.1


def test_crop_is_vmappable():
    rng = np.random.default_rng(3)
    pictures = jnp.asarray(rng.integers(0, 256, (3, 20, 30, 3), dtype=np.uint8))
    rois = jnp.asarray([[0.5, 0.5, 0.6, 0.9, 0.2], [0.3, 0.6, 0.4, 0.6, -1.0],
                        [0.7, 0.4, 0.8, 1.2, 3.0]], jnp.float32)
    batched = jax.jit(jax.vmap(lambda p, r: image.roi_to_tensor(p, r, 12)))(pictures, rois)
    single = jnp.stack([_roi_to_tensor(p, r, size=12) for p, r in zip(pictures, rois,
                                                                       strict=True)])
    np.testing.assert_array_equal(np.asarray(batched), np.asarray(single))


def test_bad_inputs_raise_clear_errors():
    picture = jnp.zeros((8, 8, 3), jnp.uint8)
    roi = jnp.array([0.5, 0.5, 1.0, 1.0, 0.0])
    with pytest.raises(TypeError, match="uint8"):
        image.roi_to_tensor(picture.astype(jnp.float32), roi, 4)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        image.roi_to_tensor(jnp.zeros((8, 8), jnp.uint8), roi, 4)
    with pytest.raises(ValueError, match="border"):
        image.roi_to_tensor(picture, roi, 4, border="reflect")
    with pytest.raises(ValueError, match="roi"):
        image.roi_to_tensor(picture, roi[:4], 4)
    with pytest.raises(ValueError, match="mask"):
        image.mask_to_image(jnp.zeros((64, 64)), roi, 8, 8)
