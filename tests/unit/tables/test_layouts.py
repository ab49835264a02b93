"""DataFrame layouts of PoseTrack and the round trips between them, on hand-built tracks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posejax import PoseTrack, tables
from posejax.landmarks import LANDMARK_NAMES
from posejax.landmarks import PoseLandmark as L
from tests.helpers.synthetic import (
    HEIGHT,
    WIDTH,
    assert_tracks_equal,
    random_track,
)

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
    assert list(df.columns) == [
        "video", "frame", "time", "landmark", *tables.COORDS, "image_width", "image_height",
    ]  # fmt: skip
    assert list(df["video"].cat.categories) == [tables.DEFAULT_VIDEO]
    assert len(df) == 4 * 33
    assert df["landmark"].dtype == tables.landmark_dtype()
    assert df["landmark"].cat.ordered
    assert list(df["landmark"].iloc[:33]) == list(LANDMARK_NAMES)
    row = df[(df.frame == 3) & (df.landmark == "left_knee")].iloc[0]
    assert row.x == track.landmarks[3, L.LEFT_KNEE, 0]
    assert row.world_z == track.world_landmarks[3, L.LEFT_KNEE, 2]
    assert row.time == track.timestamps[3]
    assert (row.image_width, row.image_height) == (WIDTH, HEIGHT)
    assert df.attrs == {"fps": 30.0, "model_complexity": 0, "units": "normalized", "n_frames": 4}


def test_batch_gets_a_video_column_in_order():
    track = random_track(batch=3, names=("b", "c", "a"))
    df = track.to_dataframe()
    assert list(df.columns[:2]) == ["video", "frame"]
    assert list(df["video"].cat.categories) == ["b", "c", "a"]
    assert df[df.video == "c"].x.to_numpy()[:33].tolist() == track.landmarks[1, 0, :, 0].tolist()


def test_wide_layout_is_one_row_per_frame():
    track = random_track(n_frames=5)
    wide = track.to_dataframe("wide")
    assert wide.shape == (5, 3 + 33 * len(tables.COORDS))
    assert wide.columns.names == ["landmark", "coord"]
    assert wide.index.names == ["video", "frame"]
    assert wide[("left_wrist", "y")].iloc[4] == track.landmarks[4, L.LEFT_WRIST, 1]
    np.testing.assert_array_equal(wide["time"], track.timestamps)
    assert (wide["image_width"] == WIDTH).all() and (wide["image_height"] == HEIGHT).all()


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
    for table in (long, wide, tables.convert_layout(long, "wide"),
                  tables.convert_layout(wide, "long")):
        assert_tracks_equal(track, PoseTrack.from_dataframe(table), rois=False)
    pd.testing.assert_frame_equal(tables.convert_layout(wide, "long"), long)
    pd.testing.assert_frame_equal(tables.convert_layout(long, "wide"), wide)


def test_pixel_units_scale_x_and_z_by_width_and_y_by_height():
    track = random_track()
    norm, px = track.to_dataframe(), track.to_dataframe(units="px")
    for coord, scale in (("x", WIDTH), ("y", HEIGHT), ("z", WIDTH), ("world_x", 1)):
        np.testing.assert_allclose(px[coord], norm[coord].astype(np.float64) * scale)
    assert px.attrs["units"] == "px"


def test_round_trip_survives_shuffled_rows_and_selected_frames():
    track = random_track(n_frames=8)
    df = track.to_dataframe().sample(frac=1.0, random_state=0)
    assert_tracks_equal(track, PoseTrack.from_dataframe(df), rois=False)
    # Selected frames keep their numbers and times: the others come back without a pose, one
    # frame period from their neighbours, for as long as the video was (attrs["n_frames"]).
    part = PoseTrack.from_dataframe(track.to_dataframe("wide").iloc[3:6])
    assert part.n_frames == track.n_frames
    np.testing.assert_array_equal(part.landmarks[3:6], track.landmarks[3:6])
    np.testing.assert_array_equal(part.timestamps[3:6], track.timestamps[3:6])
    np.testing.assert_allclose(part.timestamps, track.timestamps, rtol=0, atol=1e-12)
    assert not part.pose_present[[0, 1, 2, 6, 7]].any()
    assert np.isnan(part.landmarks[[0, 1, 2, 6, 7]]).all()


def test_dlc_table_becomes_a_track_without_depth():
    track = random_track()
    back = PoseTrack.from_dataframe(track.to_dataframe("dlc"))
    np.testing.assert_allclose(back.landmarks[..., :2], track.landmarks[..., :2], rtol=1e-6)
    np.testing.assert_array_equal(back.landmarks[..., 3], track.landmarks[..., 3])
    assert np.isnan(back.landmarks[..., 2]).all() and np.isnan(back.world_landmarks).all()


def test_bad_tables_raise_clear_errors():
    df = random_track().to_dataframe()
    with pytest.raises(ValueError, match="frame 0 of video '0' has landmark 'nose' more than "
                       "once.*33 landmarks once.*'video' labels.*to_dataframe\\(video="):
        tables.track_from_dataframe(df.iloc[[*range(len(df)), 0]])
    with pytest.raises(ValueError, match="no 'x' coordinates.*dropped"):
        tables.track_from_dataframe(df.drop(columns="x"))
    with pytest.raises(ValueError, match="unknown landmark"):
        bad = df.assign(landmark=df.landmark.astype(str).replace("nose", "snout"))
        tables.track_from_dataframe(bad)
    with pytest.raises(ValueError, match="not a pose table"):
        tables.track_from_dataframe(pd.DataFrame({"a": [1]}))
    with pytest.raises(TypeError, match="DataFrame"):
        tables.track_from_dataframe(np.zeros(3))
    # Without attrs the frame rate comes from the time column; one frame alone has none.
    no_attrs = df.copy()
    no_attrs.attrs = {}
    assert tables.track_from_dataframe(no_attrs).fps == pytest.approx(30.0, rel=1e-12)
    with pytest.raises(ValueError, match="frame rate is unknown.*time.*fps="):
        tables.track_from_dataframe(no_attrs[no_attrs.frame == 1])
    with pytest.raises(ValueError, match="layout"):
        random_track().to_dataframe("tall")
