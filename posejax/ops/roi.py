"""Regions of interest: from a detection, from the previous frame's landmarks, and object scale.

All three follow ``AlignmentPointsRectsCalculator`` (spec sections 5, 7 and 8): a centre point and a
scale point define a square box of side ``2 * |scale - centre|`` in pixels, rotated so that the
scale point is straight above the centre. The ROIs for cropping are then enlarged 1.25x by
``RectTransformationCalculator``.

The arithmetic is float32 in the calculators' order, ``atan2`` is glibc's ``atan2f`` (see
:func:`posejax.ops._exact.atan2f_glibc`) and ``NormalizeRadians`` is evaluated as in double, so the
ROIs are the floats MediaPipe computes from the same points.
An ROI is ``[x_center, y_center, width, height, rotation]``, normalized by the image width and
height, rotation in radians.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from posejax.ops import _exact as ex

F32 = jnp.float32
#: ``rotation_vector_target_angle_degrees: 90``, stored as float by the calculator.
TARGET_ANGLE = np.float32(math.pi * 90 / 180.0)
#: ``RectTransformationCalculator`` scale of the crop around the pose.
ROI_SCALE = np.float32(1.25)
#: Landmark indices of the alignment points among the 39 (or 35) model landmarks.
AUX_CENTRE, AUX_SCALE_POINT = 33, 34


def normalize_radians(angle):
    """``NormalizeRadians``: ``angle - 2 pi floor((angle + pi) / (2 pi))``, in [-pi, pi).

    Evaluated with double-float arithmetic as the C++ does in double, then rounded to float32.

    Example
    -------
    >>> round(float(normalize_radians(jnp.float32(4.0))), 6)
    -2.283185
    """
    angle = jnp.asarray(angle, F32)
    turns = ex.ff_floor(ex.ff_div(ex.ff_add(ex.ff_from(angle), ex.PI), ex.TWO_PI))
    return ex.ff_to_f32(ex.ff_add(ex.ff_from(angle), ex.ff_mul(ex.ff_from(-turns), ex.TWO_PI)))


def _alignment_rect(keypoints, height: int, width: int):
    """``AlignmentPointsRectsCalculator`` (centre = point 0, scale point = point 1), unscaled."""
    keypoints = jnp.asarray(keypoints, F32)
    if keypoints.ndim != 2 or keypoints.shape[0] < 2 or keypoints.shape[1] < 2:
        raise ValueError(f"expected at least 2 points of (x, y), got shape {keypoints.shape}")
    _check_size(height, width)
    w, h = F32(width), F32(height)
    x0, y0 = ex.mul_rn(keypoints[0, 0], w), ex.mul_rn(keypoints[0, 1], h)
    x1, y1 = ex.mul_rn(keypoints[1, 0], w), ex.mul_rn(keypoints[1, 1], h)
    dx, dy = x1 - x0, y1 - y0
    box = jnp.sqrt(ex.mul_rn(dx, dx) + ex.mul_rn(dy, dy)) * F32(2)
    rotation = normalize_radians(TARGET_ANGLE - ex.atan2f_glibc(-dy, dx))
    return ex.div_rn(x0, w), ex.div_rn(y0, h), ex.div_rn(box, w), ex.div_rn(box, h), rotation


def detection_to_roi(keypoints, height: int, width: int):
    """The landmark crop ROI of a detection (``PoseDetectionToRoi``, spec section 5).

    Parameters
    ----------
    keypoints : float32 (K >= 2, 2)
        Detection keypoints in normalized image coordinates (after
        :func:`posejax.ops.detection.remove_letterbox`): 0 = hip centre, 1 = scale point.
    height, width : int
        Image size.

    Returns
    -------
    float32 (5,)
        ``[x_center, y_center, width, height, rotation]``: the alignment box enlarged 1.25x.

    Example
    -------
    >>> roi = detection_to_roi(jnp.array([[0.5, 0.5], [0.5, 0.25]]), 480, 640)
    >>> [round(float(v), 4) for v in roi]
    [0.5, 0.5, 0.4688, 0.625, 0.0]
    """
    x_center, y_center, w, h, rotation = _alignment_rect(keypoints, height, width)
    # square_long: both pixel sides become the longer one (already equal up to rounding).
    long_side = jnp.maximum(w * F32(width), h * F32(height))
    w = ex.div_rn(long_side, F32(width)) * ROI_SCALE
    h = ex.div_rn(long_side, F32(height)) * ROI_SCALE
    return jnp.stack([x_center, y_center, w, h, rotation])


def landmarks_to_roi(aux_landmarks, height: int, width: int):
    """Next frame's ROI from the (filtered) alignment landmarks 33 and 34 (spec section 7).

    Parameters
    ----------
    aux_landmarks : float32 (2, >= 2)
        Landmarks 33 (hip centre) and 34 (scale point), normalized image ``x, y, ...``.
    height, width : int

    Returns
    -------
    float32 (5,)

    Example
    -------
    >>> roi = landmarks_to_roi(jnp.array([[0.5, 0.5, 0.0], [0.75, 0.5, 0.0]]), 480, 640)
    >>> [round(float(v), 4) for v in roi]
    [0.5, 0.5, 0.625, 0.8333, 1.5708]
    """
    return detection_to_roi(jnp.asarray(aux_landmarks, F32)[:2, :2], height, width)


def object_scale(aux_landmarks, height: int, width: int):
    """Object size in pixels for the landmark filters' value scaling (spec section 8).

    The alignment box of the **unfiltered** landmarks 33 and 34 without the 1.25 enlargement;
    ``GetObjectScale`` averages its pixel width and height (both equal the box side).

    Example
    -------
    >>> float(object_scale(jnp.array([[0.5, 0.5], [0.5, 0.25]]), 480, 640))
    240.0
    """
    _, _, w, h, _ = _alignment_rect(jnp.asarray(aux_landmarks, F32)[:2, :2], height, width)
    return (ex.mul_rn(w, F32(width)) + ex.mul_rn(h, F32(height))) * F32(0.5)


def _check_size(height, width):
    for name, value in (("height", height), ("width", width)):
        if hasattr(value, "dtype") and np.ndim(value) == 0 and jnp.issubdtype(value.dtype,
                                                                            jnp.integer):
            continue   # a traced (runtime) size, see posejax.ops.buckets
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
