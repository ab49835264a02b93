"""DataFrame layouts of PoseTrack and the df.pose accessor, on hand-built tracks."""

from __future__ import annotations

import importlib
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from synthetic_tracks import (  # noqa: E402
    HEIGHT,
    WIDTH,
    assert_tracks_equal,
    pose_track,
    random_track,
    standing_pose_px,
)

from posejax import frames  # noqa: E402
from posejax.landmarks import LANDMARK_NAMES  # noqa: E402
from posejax.landmarks import PoseLandmark as L  # noqa: E402
from posejax.track import PoseTrack  # noqa: E402

TRACKS = {
    "single": lambda: random_track(),
    "named": lambda: random_track(names=("clip",)),
    "batch": lambda: random_track(batch=2, missing=(0, 3)),
    "named batch": lambda: random_track(batch=3, names=("b", "c", "a")),
}


# -- layouts --------------------------------------------------------------------------------------


def test_long_layout_columns_and_order():
    track = random_track(n_frames=4)
    df = track.to_dataframe()
    assert list(df.columns) == ["frame", "time", "landmark", *frames.COORDS]
    assert len(df) == 4 * 33
    assert df["landmark"].dtype == frames.landmark_dtype()
    assert df["landmark"].cat.ordered
    assert list(df["landmark"].iloc[:33]) == list(LANDMARK_NAMES)
    row = df[(df.frame == 3) & (df.landmark == "left_knee")].iloc[0]
    assert row.x == track.landmarks[3, L.LEFT_KNEE, 0]
    assert row.world_z == track.world_landmarks[3, L.LEFT_KNEE, 2]
    assert row.time == track.timestamps[3]
    assert df.attrs["fps"] == 30.0 and df.attrs["image_size"] == (HEIGHT, WIDTH)


def test_batch_gets_a_video_column_in_order():
    track = random_track(batch=3, names=("b", "c", "a"))
    df = track.to_dataframe()
    assert list(df.columns[:2]) == ["video", "frame"]
    assert list(df["video"].cat.categories) == ["b", "c", "a"]
    assert df[df.video == "c"].x.to_numpy()[:33].tolist() == track.landmarks[1, 0, :, 0].tolist()


def test_wide_layout_is_one_row_per_frame():
    track = random_track(n_frames=5)
    wide = track.to_dataframe("wide")
    assert wide.shape == (5, 33 * len(frames.COORDS))
    assert wide.columns.names == ["landmark", "coord"]
    assert wide.index.name == "frame"
    assert wide[("left_wrist", "y")].iloc[4] == track.landmarks[4, L.LEFT_WRIST, 1]
    np.testing.assert_array_equal(wide.attrs["timestamps"], track.timestamps)


def test_wide_layout_with_deeplabcut_levels():
    wide = random_track().to_dataframe("wide", scorer="posejax")
    assert wide.columns.names == ["scorer", "bodyparts", "coords"]
    assert set(wide.columns.get_level_values("scorer")) == {"posejax"}
    assert wide.xs("x", level="coords", axis=1).shape[1] == 33


def test_dlc_layout_is_pixels_and_likelihood():
    track = random_track()
    dlc = track.to_dataframe("dlc")
    assert list(dlc.columns.get_level_values("coords")[:3]) == ["x", "y", "likelihood"]
    assert dlc.shape == (track.n_frames, 99)
    x = dlc[("posejax", "nose", "x")].to_numpy()
    np.testing.assert_allclose(x, track.landmarks[:, 0, 0].astype(np.float64) * WIDTH)
    likelihood = dlc[("posejax", "nose", "likelihood")].to_numpy()
    np.testing.assert_array_equal(likelihood, track.landmarks[:, 0, 3].astype(np.float64))
    with pytest.raises(ValueError, match="one video"):
        random_track(batch=2).to_dataframe("dlc")


@pytest.mark.parametrize("units", ["normalized", "px"])
@pytest.mark.parametrize("kind", list(TRACKS))
def test_round_trip_long_wide_track(kind, units):
    track = TRACKS[kind]()
    long = track.to_dataframe("long", units=units)
    wide = track.to_dataframe("wide", units=units)
    assert_tracks_equal(track, PoseTrack.from_dataframe(long))
    assert_tracks_equal(track, PoseTrack.from_dataframe(wide))
    assert_tracks_equal(track, PoseTrack.from_dataframe(frames.convert_layout(long, "wide")))
    assert_tracks_equal(track, PoseTrack.from_dataframe(frames.convert_layout(wide, "long")))
    pd.testing.assert_frame_equal(frames.convert_layout(wide, "long"), long)
    pd.testing.assert_frame_equal(frames.convert_layout(long, "wide"), wide)


def test_pixel_units_scale_x_and_z_by_width_and_y_by_height():
    track = random_track()
    norm, px = track.to_dataframe(), track.to_dataframe(units="px")
    for coord, scale in (("x", WIDTH), ("y", HEIGHT), ("z", WIDTH), ("world_x", 1)):
        np.testing.assert_allclose(px[coord], norm[coord].astype(np.float64) * scale)
    assert px.attrs["units"] == "px"


def test_round_trip_survives_shuffled_rows_and_selected_frames():
    track = random_track(n_frames=8)
    df = track.to_dataframe().sample(frac=1.0, random_state=0)
    assert_tracks_equal(track, PoseTrack.from_dataframe(df))
    part = PoseTrack.from_dataframe(track.to_dataframe("wide").iloc[3:6])
    np.testing.assert_array_equal(part.landmarks, track.landmarks[3:6])
    np.testing.assert_array_equal(part.rois, track.rois[3:6])
    np.testing.assert_array_equal(part.timestamps, track.timestamps[3:6])


def test_dlc_table_becomes_a_track_without_depth():
    track = random_track()
    back = PoseTrack.from_dataframe(track.to_dataframe("dlc"))
    np.testing.assert_allclose(back.landmarks[..., :2], track.landmarks[..., :2], rtol=1e-6)
    np.testing.assert_array_equal(back.landmarks[..., 3], track.landmarks[..., 3])
    assert np.isnan(back.landmarks[..., 2]).all() and np.isnan(back.world_landmarks).all()


def test_bad_tables_raise_clear_errors():
    df = random_track().to_dataframe()
    with pytest.raises(ValueError, match="33 landmarks"):
        frames.track_from_dataframe(df.drop(index=[5, 40]).reset_index(drop=True).iloc[:-31])
    with pytest.raises(ValueError, match="unknown landmark"):
        bad = df.assign(landmark=df.landmark.astype(str).replace("nose", "snout"))
        frames.track_from_dataframe(bad)
    with pytest.raises(ValueError, match="not a pose table"):
        frames.track_from_dataframe(pd.DataFrame({"a": [1]}))
    with pytest.raises(TypeError, match="DataFrame"):
        frames.track_from_dataframe(np.zeros(3))
    no_fps = df.copy()
    no_fps.attrs = {}
    with pytest.raises(ValueError, match="frame rate"):
        frames.track_from_dataframe(no_fps)
    with pytest.raises(ValueError, match="layout"):
        random_track().to_dataframe("tall")


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
    for joint in frames.JOINT_ANGLES:
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
    no_size = df.copy()
    no_size.attrs = {k: v for k, v in df.attrs.items() if k != "image_size"}
    with pytest.raises(ValueError, match="image size"):
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


def test_normalize_uses_the_farthest_point_when_it_dominates():
    points = standing_pose_px()
    points[L.LEFT_WRIST] = (190, 64)  # arm out: 90 px from the hip centre > 2.5 * 34
    normalized = frames.normalize_points(points)
    assert np.abs(np.linalg.norm(normalized[..., :2], axis=-1)).max() == pytest.approx(1.0)


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
    assert wide.pose.visible().loc[0, "left_wrist"] == np.False_
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
        importlib.reload(frames)
        importlib.reload(frames)
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
