"""Synthetic camera views: poses turned about the vertical axis, to train view-robust classifiers.

A training clip filmed from one side teaches a k-NN classifier that one view only. Turning its
3-D landmarks about the vertical axis through the hips renders the same poses as other cameras
around the person would see them (orthographically), so that a squat filmed from the front also
matches squats filmed from the side or at three quarters.
"""

from __future__ import annotations

import numpy as np

from classify.embed import _MID_HIP

#: Default yaw angles of :func:`yaw_views`: a full turn in 15 degree steps.
DEFAULT_YAW_DEGREES: tuple[float, ...] = tuple(range(0, 360, 15))


def rotate_about_vertical(landmarks, degrees: float) -> np.ndarray:
    """Turn poses by ``degrees`` about the vertical (y) axis through the middle of the hips.

    Parameters
    ----------
    landmarks : array_like, (..., 33, 3)
        3-D landmarks with ``y`` vertical: world landmarks, or image landmarks in pixels with
        their ``z``.
    degrees : float
        Yaw angle; positive turns ``+x`` towards ``-z``.

    Returns
    -------
    ndarray, (..., 33, 3)

    Example
    -------
    >>> pose = np.random.default_rng(0).normal(size=(33, 3))
    >>> np.allclose(rotate_about_vertical(rotate_about_vertical(pose, 30), -30), pose)
    True
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape[-2:] != (33, 3):
        raise ValueError(f"landmarks must be (..., 33, 3), got shape {points.shape}")
    angle = np.deg2rad(degrees)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, 0.0, sin], [0.0, 1.0, 0.0], [-sin, 0.0, cos]])
    centre = np.einsum("k,...kc->...c", _MID_HIP, points)[..., None, :]
    return (points - centre) @ rotation.T + centre


def yaw_views(landmarks, y=None, degrees=DEFAULT_YAW_DEGREES):
    """Every pose seen from every yaw angle in ``degrees`` (views stacked, labels repeated).

    Parameters
    ----------
    landmarks : array_like, (n, 33, 3)
    y : array_like (n,), optional
        Labels to repeat alongside.
    degrees : sequence of float
        Yaw angles; include 0 to keep the original view.

    Returns
    -------
    views : ndarray, (len(degrees) * n, 33, 3)
        View after view: rows ``i * n .. (i + 1) * n`` are the poses turned by ``degrees[i]``.
    y_views : ndarray, (len(degrees) * n,)
        Only when ``y`` is given.

    Example
    -------
    >>> X = np.random.default_rng(0).normal(size=(4, 33, 3))
    >>> views, labels = yaw_views(X, ["up", "up", "down", "down"], degrees=(0, 90))
    >>> views.shape, labels.tolist()
    ((8, 33, 3), ['up', 'up', 'down', 'down', 'up', 'up', 'down', 'down'])
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 3:
        raise ValueError(f"landmarks must be (n, 33, 3), got shape {points.shape}")
    angles = np.atleast_1d(np.asarray(degrees, dtype=np.float64))
    if angles.ndim != 1 or len(angles) == 0:
        raise ValueError("degrees must be a non-empty sequence of angles")
    views = np.concatenate([rotate_about_vertical(points, a) for a in angles])
    if y is None:
        return views
    labels = np.asarray(y)
    if len(labels) != len(points):
        raise ValueError(f"{len(labels)} labels for {len(points)} poses")
    return views, np.tile(labels, len(angles))
