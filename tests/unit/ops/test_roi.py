"""posejax.ops.roi against MediaPipe's AlignmentPointsRects + RectTransformation calculators.

``mediapipe_roi.npz`` holds 160 keypoint pairs on four image sizes and the rects that
mediapipe 0.10.21 computed from them (``tools/make_ops_fixtures.py``), including scale points
straight above, below and beside the centre (rotations at 0 and +-pi).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from posejax.ops import _exact, roi

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ops"
f32 = np.float32

_detection_to_roi = jax.jit(roi.detection_to_roi, static_argnums=(1, 2))
_object_scale = jax.jit(roi.object_scale, static_argnums=(1, 2))
_normalize = jax.jit(roi.normalize_radians)
_atan2 = jax.jit(_exact.atan2f_glibc)


@pytest.fixture(scope="module")
def mediapipe_roi():
    return dict(np.load(FIXTURES / "mediapipe_roi.npz"))


def test_detection_to_roi_is_mediapipes(mediapipe_roi):
    got = np.stack([np.asarray(_detection_to_roi(jnp.asarray(kp), int(h), int(w)))
                    for kp, (h, w) in zip(mediapipe_roi["keypoints"],
                                          mediapipe_roi["image_sizes"], strict=True)])
    np.testing.assert_array_equal(got, mediapipe_roi["rois"])


def test_object_scale_is_mediapipes(mediapipe_roi):
    for kp, (h, w), rect in zip(mediapipe_roi["keypoints"], mediapipe_roi["image_sizes"],
                                mediapipe_roi["rects"], strict=True):
        expected = (f32(rect[2]) * f32(w) + f32(rect[3]) * f32(h)) / f32(2)
        assert float(_object_scale(jnp.asarray(kp), int(h), int(w))) == float(expected)


def test_landmarks_to_roi_uses_landmarks_33_and_34_as_keypoints():
    aux = jnp.array([[0.3, 0.6, 0.05, 0.9, 0.9], [0.45, 0.4, -0.1, 0.8, 0.7]])
    from_landmarks = jax.jit(roi.landmarks_to_roi, static_argnums=(1, 2))
    np.testing.assert_array_equal(np.asarray(from_landmarks(aux, 480, 640)),
                                  np.asarray(_detection_to_roi(aux[:, :2], 480, 640)))


def test_normalize_radians_is_the_double_formula():
    rng = np.random.default_rng(0)
    angles = np.concatenate([rng.uniform(-12, 12, 4000),
                             np.float32([math.pi, -math.pi, 3 * math.pi, 0.0])]).astype(f32)
    expected = np.array([f32(float(a) - 2 * math.pi * math.floor((float(a) + math.pi)
                                                              / (2 * math.pi))) for a in angles])
    got = np.asarray(_normalize(jnp.asarray(angles)))
    np.testing.assert_array_equal(got, expected)
    assert got.min() >= -math.pi - 1e-6 and got.max() <= math.pi + 1e-6


def _libm_atan2f():
    name = ctypes.util.find_library("m")
    if name is None:
        pytest.skip("no C math library to compare atan2f with")
    libm = ctypes.CDLL(name)
    libm.atan2f.restype = ctypes.c_float
    libm.atan2f.argtypes = [ctypes.c_float, ctypes.c_float]
    return libm.atan2f


def test_atan2f_emulation_is_fdlibm():
    """Check against the platform's atan2f when it is the fdlibm one (glibc < 2.41)."""
    rng = np.random.default_rng(1)
    y = (rng.standard_normal(3000) * 10.0 ** rng.integers(-3, 4, 3000)).astype(f32)
    x = (rng.standard_normal(3000) * 10.0 ** rng.integers(-3, 4, 3000)).astype(f32)
    specials = np.array([[0.0, 1.0], [-0.0, -1.0], [1.0, 0.0], [-2.0, 0.0], [0.0, -3.0],
                         [np.inf, 1.0], [1.0, -np.inf], [np.inf, np.inf], [-np.inf, -np.inf],
                         [0.5, 1.0], [3e30, 1e-30], [-1e-30, -3e30]], f32)
    y = np.concatenate([y, specials[:, 0]])
    x = np.concatenate([x, specials[:, 1]])
    got = np.asarray(_atan2(jnp.asarray(y), jnp.asarray(x)))
    # Reference: the float fdlibm algorithm always lies within 1 ulp of the true value ...
    true = np.arctan2(y.astype(np.float64), x.astype(np.float64))
    assert np.all(np.abs(got - true) <= np.spacing(np.abs(got).astype(f32)) * 1.0 + 1e-45)
    # ... and where the C library is fdlibm's (glibc before 2.41) it is identical.
    atan2f = _libm_atan2f()
    libm = np.array([atan2f(float(a), float(b)) for a, b in zip(y, x, strict=True)], f32)
    correctly_rounded = np.array_equal(libm, true.astype(f32))
    if correctly_rounded:
        pytest.skip("this C library's atan2f is correctly rounded (glibc >= 2.41), not fdlibm")
    np.testing.assert_array_equal(got, libm)


def test_bad_keypoints_raise():
    with pytest.raises(ValueError, match="2 points"):
        roi.detection_to_roi(jnp.zeros((1, 2)), 480, 640)
    with pytest.raises(ValueError, match="height"):
        roi.detection_to_roi(jnp.zeros((2, 2)), 0, 640)
