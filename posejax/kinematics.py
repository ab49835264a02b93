"""Pose maths as plain NumPy functions: angles, distances, normalization, gaps, smoothing.

Every function takes arrays and returns arrays, so it can be tested (and used) without a
DataFrame; the ``df.pose`` accessor (:mod:`posejax.accessor`) is a thin layer that takes a pose
table apart, calls these and puts the results back. Points are ``(..., D)`` arrays (``D`` = 2 for
image x, y or 3 for world x, y, z); whole poses are ``(..., 33, D)``. Time runs along the first
axis of per-frame arrays. NaN marks a missing landmark and propagates.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from posejax.landmarks import JOINT_ANGLES, NUM_LANDMARKS, landmark_index

#: Torso multiplier of MediaPipe's pose-classification embedder (FullBodyPoseEmbedder).
TORSO_SIZE_MULTIPLIER = 2.5

__all__ = [
    "JOINT_ANGLES",
    "TORSO_SIZE_MULTIPLIER",
    "angle",
    "distance",
    "fill_gaps",
    "joint_angle",
    "joint_landmarks",
    "normalize_points",
    "smooth",
    "visible",
]


def angle(a, b, c) -> np.ndarray:
    """Angle in degrees at ``b`` between the rays to ``a`` and ``c``, in [0, 180].

    Parameters
    ----------
    a, b, c : array_like (..., D)
        Points with D = 2 or 3, broadcast against each other.

    Returns
    -------
    ndarray (...)
        NaN where a point is NaN or coincides with ``b``.

    Example
    -------
    >>> float(angle([1, 0], [0, 0], [0, 1]))
    90.0
    >>> angle([[1, 0, 0], [1, 0, 0]], [0, 0, 0], [[-1, 0, 0], [0, 0, 0]])
    array([180.,  nan])
    """
    a, b, c = (np.asarray(p, np.float64) for p in (a, b, c))
    u, v = a - b, c - b
    if u.shape[-1] not in (2, 3) or v.shape[-1] != u.shape[-1]:
        raise ValueError(f"points must be (..., 2) or (..., 3), got {u.shape} and {v.shape}")
    dot = np.sum(u * v, axis=-1)
    if u.shape[-1] == 2:
        cross = np.abs(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0])
    else:
        cross = np.linalg.norm(np.cross(u, v), axis=-1)
    degenerate = (np.linalg.norm(u, axis=-1) == 0) | (np.linalg.norm(v, axis=-1) == 0)
    # atan2 of |u x v| and u.v stays accurate near 0 and 180 degrees, where arccos does not.
    return np.where(degenerate, np.nan, np.degrees(np.arctan2(cross, dot)))


def joint_landmarks(joint) -> tuple[int, int, int]:
    """The three landmark indices ``(a, b, c)`` of a joint angle measured at ``b``.

    Parameters
    ----------
    joint : str or sequence of three landmarks
        A name of :data:`~posejax.landmarks.JOINT_ANGLES` (``"left_knee"`` is hip-knee-ankle), or
        three landmark names or indices.

    Example
    -------
    >>> joint_landmarks("left_knee")
    (23, 25, 27)
    >>> joint_landmarks(("left_shoulder", "left_elbow", 15))
    (11, 13, 15)
    """
    if isinstance(joint, str):
        name = joint.strip().lower()
        if name not in JOINT_ANGLES:
            raise ValueError(
                f"{joint!r} is not a named joint angle; name one of {sorted(JOINT_ANGLES)} or "
                "give three landmarks a, b, c"
            )
        joint = JOINT_ANGLES[name]
    if isinstance(joint, (int, np.integer)) or len(joint) != 3:
        raise ValueError(f"a joint is a name or three landmarks (a, b, c), got {joint!r}")
    a, b, c = (landmark_index(x) for x in joint)
    return a, b, c


def joint_angle(points, joint) -> np.ndarray:
    """A joint angle of whole poses, in degrees.

    Parameters
    ----------
    points : array_like (..., 33, D)
        Poses, D = 2 (image x, y in isotropic units such as pixels) or 3 (world metres).
    joint : str or sequence of three landmarks
        See :func:`joint_landmarks`.

    Returns
    -------
    ndarray (...)

    Example
    -------
    >>> from posejax.landmarks import PoseLandmark
    >>> pose = np.zeros((33, 2))
    >>> pose[PoseLandmark.LEFT_HIP] = (0, 0)
    >>> pose[PoseLandmark.LEFT_KNEE] = (0, 1)
    >>> pose[PoseLandmark.LEFT_ANKLE] = (1, 1)
    >>> float(joint_angle(pose, "left_knee"))
    90.0
    """
    points = _poses(points)
    a, b, c = joint_landmarks(joint)
    return angle(points[..., a, :], points[..., b, :], points[..., c, :])


def distance(a, b) -> np.ndarray:
    """Euclidean distance between points ``(..., D)``; NaN where either is NaN.

    Example
    -------
    >>> float(distance([0, 0], [3, 4]))
    5.0
    """
    return np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64), axis=-1)


def normalize_points(points, torso_multiplier: float = TORSO_SIZE_MULTIPLIER) -> np.ndarray:
    """Centre poses on the hips and scale them by their size, as MediaPipe's pose embedder does.

    Parameters
    ----------
    points : array_like (..., 33, D)
        Landmark coordinates with isotropic units (pixels, not normalized image coordinates),
        ``D`` = 2 or 3.
    torso_multiplier : float
        The pose size is ``max(torso_multiplier * torso size, largest distance from the
        centre)``, distances measured in x and y only; the torso size is the distance between
        the hip centre and the shoulder centre.

    Returns
    -------
    ndarray (..., 33, D)
        ``(points - hip centre) / pose size``; NaN landmarks are ignored when sizing.

    Example
    -------
    >>> pose = np.random.default_rng(0).random((33, 3))
    >>> normalized = normalize_points(pose)
    >>> bool(np.allclose(normalized[[23, 24], :2].mean(axis=0), 0))
    True
    """
    points = _poses(points)
    centre = (points[..., 23, :] + points[..., 24, :]) / 2
    centred = points - centre[..., None, :]
    shoulders = (centred[..., 11, :2] + centred[..., 12, :2]) / 2
    torso = np.linalg.norm(shoulders, axis=-1)
    distances = np.linalg.norm(centred[..., :2], axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames have no size
        largest = np.nanmax(distances, axis=-1)
    size = np.fmax(torso * torso_multiplier, largest)
    size = np.where(np.isfinite(torso), size, np.nan)
    return centred / size[..., None, None]


def fill_gaps(values, times=None, max_gap: int = 5) -> np.ndarray:
    """Fill short runs of NaN along the first (time) axis by linear interpolation in time.

    Parameters
    ----------
    values : array_like (T, ...)
        Each column (every index of the trailing axes) is filled on its own.
    times : array_like (T,), optional
        Time of each row (increasing); evenly spaced rows by default.
    max_gap : int
        Longest run of missing rows to fill; longer gaps stay NaN (whole, not partly), and so do
        runs at the start or the end, which have no value on one side.

    Returns
    -------
    ndarray (T, ...), float64

    Example
    -------
    >>> fill_gaps([0.0, np.nan, 2.0, np.nan, np.nan, np.nan, 6.0], max_gap=2)
    array([ 0.,  1.,  2., nan, nan, nan,  6.])
    >>> fill_gaps([0.0, np.nan, 3.0], times=[0.0, 1.0, 3.0])
    array([0., 1., 3.])
    """
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, np.integer)):
        raise TypeError(f"max_gap must be an int, got {type(max_gap).__name__}")
    if max_gap < 1:
        raise ValueError(f"max_gap must be at least 1, got {max_gap}")
    values = np.asarray(values, np.float64)
    n = len(values)
    times = np.arange(n, dtype=np.float64) if times is None else np.asarray(times, np.float64)
    if times.shape != (n,):
        raise ValueError(f"times must be ({n},) for {n} rows, got {times.shape}")
    flat = values.reshape(n, -1)
    valid = np.isfinite(flat)
    rows = np.broadcast_to(np.arange(n)[:, None], flat.shape)
    before = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    after = np.minimum.accumulate(np.where(valid, rows, n)[::-1], axis=0)[::-1]
    fill = ~valid & (before >= 0) & (after < n) & (after - before - 1 <= max_gap)
    before, after = np.clip(before, 0, n - 1), np.clip(after, 0, n - 1)
    start, stop = times[before], times[after]
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = (times[:, None] - start) / (stop - start)
    first = np.take_along_axis(flat, before, axis=0)
    last = np.take_along_axis(flat, after, axis=0)
    return np.where(fill, first + weight * (last - first), flat).reshape(values.shape)


def smooth(values, window: int = 5, method: str = "mean") -> np.ndarray:
    """Centred moving average (or median) along the first (time) axis.

    Parameters
    ----------
    values : array_like (T, ...)
    window : int
        Rows in the window (odd keeps it centred; an even window reaches one row further back
        than forward, as pandas' ``rolling(window, center=True)`` does).
    method : {"mean", "median"}

    Returns
    -------
    ndarray (T, ...), float64
        Each row is the mean (median) of the finite values in its window; rows that are NaN stay
        NaN, and near the ends the window holds the rows available.

    Example
    -------
    >>> smooth([0.0, 3.0, 0.0, 3.0, np.nan, 3.0], window=3)
    array([1.5, 1. , 2. , 1.5, nan, 3. ])
    >>> smooth([1.0, 9.0, 1.0, 1.0], window=3, method="median")
    array([5., 1., 1., 1.])
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    if method not in ("mean", "median"):
        raise ValueError(f"method must be 'mean' or 'median', got {method!r}")
    values = np.asarray(values, np.float64)
    ahead = (window - 1) // 2
    behind = window - 1 - ahead
    padding = [(behind, ahead)] + [(0, 0)] * (values.ndim - 1)
    padded = np.pad(values, padding, constant_values=np.nan)
    windows = sliding_window_view(padded, window, axis=0)
    reduce = np.nanmean if method == "mean" else np.nanmedian
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # windows of NaN only (rows kept NaN)
        smoothed = reduce(windows, axis=-1)
    return np.where(np.isnan(values), np.nan, smoothed)


def visible(visibility, presence=None, threshold: float = 0.5) -> np.ndarray:
    """Which landmarks MediaPipe would draw: ``visibility >= threshold`` and presence too.

    Parameters
    ----------
    visibility : array_like
    presence : array_like, optional
        Ignored where NaN (e.g. tables from DeepLabCut, which have no presence).
    threshold : float

    Returns
    -------
    ndarray of bool

    Example
    -------
    >>> visible([0.9, 0.9, 0.2], presence=[0.9, 0.1, np.nan])
    array([ True, False, False])
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    mask = np.asarray(visibility) >= threshold
    if presence is not None:
        mask &= ~(np.asarray(presence) < threshold)
    return mask


def _poses(points) -> np.ndarray:
    points = np.asarray(points, np.float64)
    if points.ndim < 2 or points.shape[-2] != NUM_LANDMARKS or points.shape[-1] not in (2, 3):
        raise ValueError(f"points must be (..., {NUM_LANDMARKS}, 2 or 3), got {points.shape}")
    return points
