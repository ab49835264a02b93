"""posejax.kinematics: the pose maths as plain NumPy functions, without any DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posejax import kinematics
from posejax.landmarks import JOINT_ANGLES
from posejax.landmarks import PoseLandmark as L
from tests.helpers.synthetic import standing_pose_px


def test_angle_in_two_and_three_dimensions():
    assert kinematics.angle([2, 0], [0, 0], [0, 5]) == pytest.approx(90.0)
    assert kinematics.angle([1, 0, 0], [0, 0, 0], [-1, 0, 1e-9]) == pytest.approx(180.0)
    # atan2 keeps tiny angles exact where arccos of a dot product loses them.
    assert kinematics.angle([1, 0], [0, 0], [1, 1e-7]) == pytest.approx(np.degrees(1e-7))
    frames = np.array([[[1, 0], [0, 0], [0, 1]], [[1, 1], [0, 0], [-1, -1]]], float)
    np.testing.assert_allclose(
        kinematics.angle(frames[:, 0], frames[:, 1], frames[:, 2]), [90.0, 180.0]
    )


def test_angle_is_nan_when_degenerate_or_missing():
    out = kinematics.angle([[0, 0], [np.nan, 0]], [[0, 0], [0, 0]], [[1, 0], [1, 0]])
    assert np.isnan(out).all()
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\) or \(\.\.\., 3\)"):
        kinematics.angle([1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0])


def test_joint_angles_of_a_standing_figure():
    bends = np.array([0.0, 45.0, 90.0])
    points = np.stack([standing_pose_px(b) for b in bends])
    knee = kinematics.joint_angle(points, "left_knee")
    np.testing.assert_allclose(knee, 180.0 - bends, atol=1e-9)
    by_landmarks = kinematics.joint_angle(points, ("left_hip", L.LEFT_KNEE, 27))
    np.testing.assert_array_equal(by_landmarks, knee)
    assert set(JOINT_ANGLES) >= {"left_knee", "right_elbow", "left_ankle"}
    with pytest.raises(ValueError, match="named joint angle"):
        kinematics.joint_angle(points, "left_wing")
    with pytest.raises(ValueError, match="three landmarks"):
        kinematics.joint_angle(points, ("left_hip", "left_knee"))
    with pytest.raises(ValueError, match=r"\(\.\.\., 33, 2 or 3\)"):
        kinematics.joint_angle(points[:, :10], "left_knee")


def test_distance():
    np.testing.assert_allclose(kinematics.distance([[0, 0], [1, 1]], [[3, 4], [1, 1]]), [5, 0])
    assert np.isnan(kinematics.distance([0, np.nan, 0], [1, 1, 1]))


def test_normalize_centres_on_the_hips():
    points = np.stack([standing_pose_px(), standing_pose_px(60.0)])
    normalized = kinematics.normalize_points(points)
    hips = (normalized[:, L.LEFT_HIP] + normalized[:, L.RIGHT_HIP]) / 2
    np.testing.assert_allclose(hips, 0, atol=1e-12)
    # Scale invariance: the same pose twice as large normalizes to the same numbers.
    np.testing.assert_allclose(kinematics.normalize_points(points * 2), normalized, atol=1e-12)
    assert np.isnan(kinematics.normalize_points(np.full((33, 2), np.nan))).all()


def test_normalize_uses_the_farthest_point_when_it_dominates():
    points = standing_pose_px()
    points[L.LEFT_WRIST] = (190, 64)  # arm out: 90 px from the hip centre > 2.5 * 34
    normalized = kinematics.normalize_points(points)
    assert np.abs(np.linalg.norm(normalized[..., :2], axis=-1)).max() == pytest.approx(1.0)



def test_fill_gaps_fills_short_gaps_only_and_uses_times():
    values = np.array([0.0, np.nan, 2.0, np.nan, np.nan, np.nan, 6.0, np.nan])
    np.testing.assert_allclose(
        kinematics.fill_gaps(values, max_gap=2), [0, 1, 2, np.nan, np.nan, np.nan, 6, np.nan]
    )
    np.testing.assert_allclose(kinematics.fill_gaps(values, max_gap=3)[3:6], [3, 4, 5])
    # Uneven times: the value follows time, not the row number.
    filled = kinematics.fill_gaps([0.0, np.nan, 10.0], times=[0.0, 0.9, 1.0], max_gap=1)
    assert filled[1] == pytest.approx(9.0)
    # Columns (trailing axes) are filled on their own.
    block = np.array([[0.0, np.nan], [np.nan, 1.0], [2.0, np.nan], [3.0, 3.0]])
    np.testing.assert_allclose(kinematics.fill_gaps(block, max_gap=1), [[0, np.nan], [1, 1],
                                                                         [2, 2], [3, 3]])
    with pytest.raises(TypeError, match="int"):
        kinematics.fill_gaps(values, max_gap=1.5)
    with pytest.raises(ValueError, match="at least 1"):
        kinematics.fill_gaps(values, max_gap=0)
    with pytest.raises(ValueError, match="times"):
        kinematics.fill_gaps(values, times=[0.0, 1.0])


@pytest.mark.parametrize("window", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("method", ["mean", "median"])
def test_smooth_matches_pandas_centred_rolling(window, method):
    rng = np.random.default_rng(window)
    values = rng.normal(size=(20, 3))
    values[[0, 5, 6, 13], [0, 1, 1, 2]] = np.nan
    ours = kinematics.smooth(values, window, method)
    rolling = pd.DataFrame(values).rolling(window, center=True, min_periods=1)
    expected = getattr(rolling, method)().to_numpy().copy()
    expected[np.isnan(values)] = np.nan  # missing frames stay missing
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def test_smooth_rejects_bad_arguments():
    with pytest.raises(ValueError, match="window"):
        kinematics.smooth(np.zeros(4), window=0)
    with pytest.raises(ValueError, match="method"):
        kinematics.smooth(np.zeros(4), method="mode")


def test_visible_needs_visibility_and_presence():
    mask = kinematics.visible([0.9, 0.9, 0.4, 0.6], presence=[0.9, 0.2, 0.9, np.nan], threshold=0.5)
    np.testing.assert_array_equal(mask, [True, False, False, True])
    np.testing.assert_array_equal(kinematics.visible([0.2, 0.8], threshold=0.1), [True, True])
    with pytest.raises(TypeError, match="number"):
        kinematics.visible([0.5], threshold="high")
