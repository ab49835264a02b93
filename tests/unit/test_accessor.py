"""The df.pose accessor on long and wide tables of hand-built tracks."""

from __future__ import annotations

import importlib
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from posejax import PoseTrack, accessor  # noqa: E402
from posejax.landmarks import PoseLandmark as L  # noqa: E402
from tests.helpers.synthetic import (  # noqa: E402
    pose_track,
    random_track,
    standing_pose_px,
)

# -- accessor: geometry ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_knee_angle_is_measured_in_pixels(layout):
    bends = np.array([0.0, 30.0, 90.0, 135.0])
    track = pose_track(np.stack([standing_pose_px(b) for b in bends]))
    df = track.to_dataframe(layout)
    angle = df.pose.angle("left_knee")
    np.testing.assert_allclose(angle.to_numpy(), 180 - bends, atol=1e-4)
    assert angle.name == "left_knee" and angle.index.name == "frame"
    np.testing.assert_allclose(df.pose.angle("right_knee"), 180, atol=1e-4)
    explicit = df.pose.angle("left_hip", "left_knee", "left_ankle")
    np.testing.assert_allclose(explicit, angle)


def test_named_joint_angles_of_a_standing_figure():
    df = pose_track(standing_pose_px()[None]).to_dataframe()
    upper = standing_pose_px()
    # elbow: shoulder (16, 30) -> elbow (30, 44) -> wrist (40, 58), relative to the centre
    u = upper[L.LEFT_SHOULDER] - upper[L.LEFT_ELBOW]
    v = upper[L.LEFT_WRIST] - upper[L.LEFT_ELBOW]
    expected = np.degrees(np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
    assert df.pose.angle("left_elbow").iloc[0] == pytest.approx(expected, abs=1e-4)
    assert df.pose.angle("right_elbow").iloc[0] == pytest.approx(expected, abs=1e-4)
    assert df.pose.angle("left_hip").iloc[0] == pytest.approx(180 - np.degrees(np.arctan(6 / 34)))
    for joint in accessor.JOINT_ANGLES:
        assert 0 <= df.pose.angle(joint).iloc[0] <= 180


def test_world_angle_and_distance_are_3d():
    world = np.zeros((1, 33, 3))
    world[0, L.LEFT_HIP] = (0, 0, 0)
    world[0, L.LEFT_KNEE] = (0, 0.4, 0)
    world[0, L.LEFT_ANKLE] = (0, 0.4, 0.3)  # a right angle in depth
    df = pose_track(standing_pose_px()[None], world=world).to_dataframe()
    assert df.pose.angle("left_knee", space="world").iloc[0] == pytest.approx(90)
    assert df.pose.distance("left_hip", "left_ankle", space="world").iloc[0] == pytest.approx(0.5)


def test_distance_in_pixels_and_errors():
    df = pose_track(standing_pose_px()[None]).to_dataframe("wide")
    assert df.pose.distance("left_hip", "right_hip").iloc[0] == pytest.approx(20)
    assert df.pose.distance(L.LEFT_KNEE, "left_ankle").iloc[0] == pytest.approx(20)
    with pytest.raises(ValueError, match="unknown landmark"):
        df.pose.distance("left_hip", "tail")
    with pytest.raises(ValueError, match="named joint"):
        df.pose.angle("left_thumb")
    with pytest.raises(ValueError, match="space"):
        df.pose.angle("left_knee", space="camera")
    no_size = df.drop(columns="image_width")
    with pytest.raises(ValueError, match="image size.*'image_width' and 'image_height' columns"):
        no_size.pose.angle("left_knee")


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_normalize_centres_on_hips_and_scales_by_torso(layout):
    points = standing_pose_px()
    df = pose_track(points[None]).to_dataframe(layout)
    normalized = df.pose.normalize()
    assert normalized.attrs["units"] == "pose"
    hips = normalized.pose.landmark("left_hip", ["x", "y"]).to_numpy()[0]
    # torso = 34 px (hips at y 64, shoulders at 30): size = max(2.5 * 34, farthest point)
    centre = (points[L.LEFT_HIP] + points[L.RIGHT_HIP]) / 2
    farthest = np.linalg.norm(points - centre, axis=1).max()
    size = max(2.5 * 34, farthest)
    np.testing.assert_allclose(hips, (points[L.LEFT_HIP] - centre) / size, rtol=1e-6)
    nose = normalized.pose.landmark("nose", ["x", "y"]).to_numpy()[0]
    np.testing.assert_allclose(nose, (points[0] - centre) / size, rtol=1e-6)
    knee_to_ankle = normalized.pose.distance("left_knee", "left_ankle").iloc[0]
    assert knee_to_ankle == pytest.approx(20 / size, rel=1e-6)


# -- accessor: cleaning ---------------------------------------------------------------------------


def _line_track(missing, n=12):
    """x of every landmark = frame / 100 (a straight line in time), NaN on ``missing``."""
    points = np.tile(standing_pose_px(), (n, 1, 1))
    track = pose_track(points)
    landmarks = track.landmarks.copy()
    landmarks[..., 0] = (np.arange(n) / 100)[:, None]
    landmarks[list(missing)] = np.nan
    world = track.world_landmarks.copy()
    world[list(missing)] = np.nan
    present = ~np.isin(np.arange(n), list(missing))
    return PoseTrack(
        landmarks=landmarks,
        world_landmarks=world,
        pose_present=present,
        rois=track.rois,
        timestamps=track.timestamps,
        image_sizes=track.image_sizes,
        fps=track.fps,
    )


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_interpolate_fills_short_gaps_only(layout):
    df = _line_track(missing=[2, 3, 6, 7, 8, 9]).to_dataframe(layout)
    assert np.isnan(df.pose.angle("left_knee").to_numpy()[[2, 3, 6]]).all()
    filled = df.pose.interpolate(max_gap=3)
    x = filled.pose.landmark("nose", ["x"]).x.to_numpy()
    np.testing.assert_allclose(x[[2, 3]], [0.02, 0.03], rtol=1e-6)
    assert np.isnan(x[6:10]).all()  # a 4-frame gap is left whole
    assert filled.pose.angle("left_knee").notna().sum() == 8
    track = PoseTrack.from_dataframe(filled)
    assert track.pose_present.tolist() == [True] * 6 + [False] * 4 + [True] * 2


def test_interpolate_keeps_extra_columns_and_does_not_cross_videos():
    batch = random_track(batch=2, n_frames=6, missing=())
    landmarks = batch.landmarks.copy()
    landmarks[0, 5] = np.nan  # last frame of video 0
    landmarks[1, 0] = np.nan  # first frame of video 1
    batch = PoseTrack(
        landmarks=landmarks,
        world_landmarks=batch.world_landmarks,
        pose_present=batch.pose_present,
        rois=batch.rois,
        timestamps=batch.timestamps,
        image_sizes=batch.image_sizes,
        fps=30.0,
    )
    df = batch.to_dataframe().assign(label="squat")
    filled = df.pose.interpolate(max_gap=5)
    assert (filled["label"] == "squat").all() and list(filled.columns) == list(df.columns)
    assert filled[(filled.video == "0") & (filled.frame == 5)].x.isna().all()
    assert filled[(filled.video == "1") & (filled.frame == 0)].x.isna().all()


def test_smooth_is_a_centred_moving_average_that_keeps_gaps():
    df = _line_track(missing=[5]).to_dataframe()
    smooth = df.pose.smooth(window=3)
    x = smooth.pose.landmark("nose", ["x"]).x.to_numpy()
    np.testing.assert_allclose(x[[1, 2, 8]], [0.01, 0.02, 0.08], rtol=1e-6)  # a line stays put
    np.testing.assert_allclose(x[[0, 4, 6]], [0.005, 0.035, 0.065], rtol=1e-6)  # edges, gap
    assert np.isnan(x[5])
    median = df.pose.smooth(window=3, method="median")
    np.testing.assert_allclose(median.pose.landmark("nose", ["x"]).x.to_numpy()[2], 0.02)
    with pytest.raises(ValueError, match="method"):
        df.pose.smooth(method="gauss")


def test_visible_mask_and_where_visible():
    visibility = np.full(33, 0.9)
    visibility[L.LEFT_WRIST] = 0.3
    track = pose_track(standing_pose_px()[None], visibility=visibility)
    long, wide = track.to_dataframe(), track.to_dataframe("wide")
    mask = long.pose.visible()
    assert mask.dtype == bool and len(mask) == 33
    assert list(long[~mask].landmark) == ["left_wrist"]
    assert wide.pose.visible().loc[("0", 0), "left_wrist"] == np.False_
    assert wide.pose.visible().to_numpy().sum() == 32
    masked = wide.pose.where_visible()
    assert np.isnan(masked.pose.angle("left_elbow").iloc[0])
    assert masked.pose.angle("right_elbow").notna().all()
    gaps = _line_track(missing=[1]).to_dataframe()
    assert not gaps.pose.visible()[gaps.frame == 1].any()


def test_plot_returns_axes_with_one_line_per_series():
    df = pose_track(np.stack([standing_pose_px(b) for b in range(0, 100, 10)])).to_dataframe()
    ax = df.pose.plot(angles=["left_knee", "right_knee"])
    lines = ax.get_lines()
    assert len(lines) == 2 and ax.get_xlabel() == "time (s)"
    np.testing.assert_allclose(lines[0].get_xdata(), np.arange(10) / 10)
    np.testing.assert_allclose(lines[0].get_ydata(), 180 - np.arange(0, 100, 10), atol=1e-4)
    _, ax2 = plt.subplots()
    assert df.pose.plot(landmarks="left_ankle", coords=["x", "y"], ax=ax2) is ax2
    assert len(ax2.get_lines()) == 2
    batch = random_track(batch=2, names=("a", "b")).to_dataframe("wide")
    assert len(batch.pose.plot(angles="left_knee").get_lines()) == 2
    with pytest.raises(ValueError, match="plot"):
        df.pose.plot()
    plt.close("all")


def test_accessor_registration_is_idempotent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(accessor)
        importlib.reload(accessor)
    df = random_track().to_dataframe()
    assert type(df.pose).__name__ == "PoseAccessor" and df.pose.layout == "long"
    assert df.pose.time.iloc[1] == pytest.approx(0.5 + 1 / 30)


def test_normalize_agrees_with_the_classify_embedder():
    embed = pytest.importorskip("classify.embed", reason="classify is a sibling package")
    track = pose_track(np.stack([standing_pose_px(b) for b in (0.0, 45.0, 90.0)]))
    landmarks = track.landmarks.copy()
    landmarks[..., 2] = np.linspace(-0.2, 0.2, 33)  # some depth, on x's scale
    track = PoseTrack(
        landmarks=landmarks, world_landmarks=track.world_landmarks,
        pose_present=track.pose_present, rois=track.rois, timestamps=track.timestamps,
        image_sizes=track.image_sizes, fps=track.fps,
    )  # fmt: skip
    wide = track.to_dataframe("wide").pose.normalize()
    ours = np.stack([wide.xs(c, level="coord", axis=1).to_numpy() for c in "xyz"], axis=-1)
    theirs = embed.normalize_pose(embed.pose_landmarks(track)) / 100
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
