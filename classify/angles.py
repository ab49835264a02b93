"""Joint angles over time: the movement signals that repetitions are counted on.

An angle is measured at a joint between the two limbs that meet there (the elbow between the upper
arm and the forearm, ...), in degrees in [0, 180], from **world landmarks**: they are metric and
3-D, so an angle keeps its value whether the camera films from the front, the side or at three
quarters (image landmarks would shrink a side-view knee bend seen from the front).

Signals are cleaned the same way at any frame rate: gaps in the pose shorter than ``max_gap``
seconds are bridged linearly, then a running median over ``median_seconds`` removes single-frame
glitches of the landmark network.
"""

from __future__ import annotations

import numpy as np

from posejax.kinematics import fill_gaps, joint_angle
from posejax.landmarks import JOINT_ANGLES

#: Joints whose angle is a movement signal: joint -> (limb end, joint, limb end), as in
#: :data:`posejax.landmarks.JOINT_ANGLES` (the ankle is left out: too small and noisy a movement).
JOINTS: dict[str, tuple[str, str, str]] = {
    name: tuple(part.removeprefix("left_") for part in JOINT_ANGLES[f"left_{name}"])
    for name in ("elbow", "shoulder", "hip", "knee")
}
SIDES = ("left", "right")


def joint_angles(points: np.ndarray) -> dict[str, np.ndarray]:
    """Every angle of :data:`JOINTS` on both sides, and their left-right mean.

    Parameters
    ----------
    points : ndarray (n_frames, 33, D)

    Returns
    -------
    dict of str to ndarray (n_frames,)
        Keys ``"left_elbow"``, ``"right_elbow"``, ``"elbow"`` (the mean of both sides), ... in
        the order of :data:`JOINTS`.

    Example
    -------
    >>> angles = joint_angles(np.random.default_rng(0).normal(size=(4, 33, 3)))
    >>> list(angles)[:3], angles["knee"].shape
    (['elbow', 'left_elbow', 'right_elbow'], (4,))
    """
    angles = {}
    for name in JOINTS:
        left, right = joint_angle(points, f"left_{name}"), joint_angle(points, f"right_{name}")
        angles[name] = (left + right) / 2
        angles[f"left_{name}"], angles[f"right_{name}"] = left, right
    return angles


def signal_label(name: str) -> str:
    """How a signal is named to a reader: ``"left_elbow angle"``, ``"knee angle (both sides)"``.

    Example
    -------
    >>> signal_label("left_elbow"), signal_label("knee")
    ('left_elbow angle', 'knee angle (both sides)')
    """
    return f"{name} angle" if "_" in name else f"{name} angle (both sides)"


def odd_window(seconds: float, fps: float) -> int:
    """The odd number of frames closest to ``seconds`` at ``fps`` (at least 1).

    Example
    -------
    >>> odd_window(0.15, 30.0), odd_window(0.15, 5.0)
    (5, 1)
    """
    frames = max(1, int(round(seconds * fps)))
    return frames if frames % 2 else frames + 1


def clean_signal(
    values, fps: float, *, max_gap: float = 0.5, median_seconds: float = 0.15
) -> np.ndarray:
    """Bridge short gaps linearly and take a running median, both sized in seconds.

    Parameters
    ----------
    values : array_like (n_frames,)
        NaN where there is no pose.
    fps : float
        Frame rate of the video.
    max_gap : float, default 0.5
        Longest gap (seconds) bridged; longer gaps stay NaN.
    median_seconds : float, default 0.15
        Length of the running median (an odd number of frames; none below 2 frames).

    Returns
    -------
    ndarray (n_frames,)

    Example
    -------
    >>> clean_signal([0.0, np.nan, 2.0, 3.0, 100.0, 5.0, 6.0], fps=20.0).tolist()
    [0.0, 1.0, 2.0, 3.0, 5.0, 6.0, 6.0]
    """
    values = np.asarray(values, np.float64)
    if values.ndim != 1:
        raise ValueError(f"a signal is one value per frame, got shape {values.shape}")
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    longest = int(np.floor(max_gap * fps))  # frames; a gap of n frames is bridged if n <= this
    filled = fill_gaps(values, max_gap=longest) if longest >= 1 else values.copy()
    window = odd_window(median_seconds, fps)
    if window == 1:
        return filled
    half = window // 2
    padded = np.pad(filled, half, mode="edge")
    stacked = np.lib.stride_tricks.sliding_window_view(padded, window)
    # A window with a gap in it keeps the frame's own value (NaN stays NaN).
    with np.errstate(all="ignore"):
        median = np.median(stacked, axis=-1)
    return np.where(np.isfinite(median), median, filled)
