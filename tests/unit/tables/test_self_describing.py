"""Tables of several videos joined by plain pandas, pyarrow and Dask keep what df.pose needs.

The issue this answers: ``pd.concat`` of two videos' tables broke angles (no video, no image size
once pandas dropped the differing ``attrs``), plain ``to_parquet`` failed on the ndarrays in
``attrs``, and counting said the frame rate was unknown.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd
import pytest

import posejax
from posejax import tables
from tests.helpers.synthetic import random_track


def _video(name: str, height: int, width: int, fps: float, n_frames: int, seed: int):
    track = random_track(n_frames=n_frames, missing=(1,), names=(name,), seed=seed,
                         height=height, width=width)
    times = 2.0 + np.arange(n_frames) / fps
    return dataclasses.replace(track, fps=fps, timestamps=times)


TRACKS = [
    _video("portrait.mp4", 1920, 1080, 30.0, 7, seed=1),
    _video("landscape.mov", 720, 1280, 25.0, 5, seed=2),
    _video("small.webm", 120, 160, 12.5, 6, seed=3),
]

ANGLES = ("left_knee", "right_elbow", "left_hip")


def _alone(layout: str, space: str = "image") -> dict[str, pd.DataFrame]:
    out = {}
    for track in TRACKS:
        df = track.to_dataframe(layout)
        out[track.video_names[0]] = pd.DataFrame(
            {a: df.pose.angle(a, space=space).to_numpy() for a in ANGLES}
        )
    return out


def _by_video(df: pd.DataFrame, space: str = "image") -> dict[str, pd.DataFrame]:
    angles = pd.DataFrame({a: df.pose.angle(a, space=space) for a in ANGLES})
    return {
        str(video): part.reset_index(drop=True)
        for video, part in angles.groupby(level="video", observed=True, sort=False)
    }


def _assert_same_angles(joined: pd.DataFrame, layout: str, space: str = "image") -> None:
    alone, together = _alone(layout, space), _by_video(joined, space)
    assert sorted(together) == sorted(alone)
    for name, expected in alone.items():
        pd.testing.assert_frame_equal(together[name], expected, check_names=False)


@pytest.fixture(params=["long", "wide"])
def layout(request):
    return request.param


@pytest.fixture
def joined(layout):
    return pd.concat([t.to_dataframe(layout) for t in TRACKS])


def test_concat_of_videos_of_different_sizes_and_rates_gives_each_videos_angles(joined, layout):
    assert joined.attrs == {}  # pandas dropped the differing attrs: nothing needs them
    _assert_same_angles(joined, layout)
    _assert_same_angles(joined, layout, space="world")
    per_video_time = joined.pose.time.groupby(level="video", observed=True).agg(["min", "max"])
    assert per_video_time.loc["landscape.mov", "max"] == pytest.approx(2.0 + 4 / 25.0)


def test_plain_parquet_round_trip_keeps_everything(joined, layout, tmp_path):
    path = tmp_path / "joined.parquet"
    joined.to_parquet(path)  # plain pandas: attrs hold nothing JSON cannot
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, joined)
    _assert_same_angles(back, layout)
    one = TRACKS[0].to_dataframe(layout)
    buffer = io.BytesIO()
    one.to_parquet(buffer)
    assert pd.read_parquet(buffer).attrs == one.attrs


def test_rows_selected_by_a_boolean_filter_keep_their_videos_and_sizes(joined, layout):
    video = joined["video"] if layout == "long" else joined.index.get_level_values("video")
    kept = joined[np.asarray(video != "small.webm")]
    angles = _by_video(kept)
    alone = _alone(layout)
    assert sorted(angles) == ["landscape.mov", "portrait.mp4"]
    for name in angles:
        pd.testing.assert_frame_equal(angles[name], alone[name], check_names=False)


def test_dask_compute_keeps_everything(joined, layout):
    dd = pytest.importorskip("dask.dataframe", reason="dask is in the test extra")
    frame = joined.reset_index() if layout == "wide" else joined
    computed = dd.from_pandas(frame, npartitions=3).compute()
    if layout == "wide":
        computed = computed.set_index(["video", "frame"])
    _assert_same_angles(computed, layout)


def test_tracks_come_back_per_video_with_their_rates_sizes_and_times(joined):
    batch = posejax.PoseTrack.from_dataframe(joined)
    assert batch.video_names == tuple(t.video_names[0] for t in TRACKS)
    for i, track in enumerate(TRACKS):
        one = batch.video(i)
        n = track.n_frames
        np.testing.assert_array_equal(one.landmarks[:n], track.landmarks)
        np.testing.assert_array_equal(one.timestamps[:n], track.timestamps)
        assert tuple(one.image_sizes[0]) == track.image_size
    alone = posejax.PoseTrack.from_dataframe(TRACKS[1].to_dataframe().assign())
    assert alone.fps == pytest.approx(25.0)


def test_same_label_twice_says_how_to_name_videos():
    unnamed = [dataclasses.replace(t, video_names=None) for t in TRACKS[:2]]
    joined = pd.concat([t.to_dataframe() for t in unnamed])
    with pytest.raises(ValueError, match=r"video '0'.*to_dataframe\(video="):
        joined.pose.angle("left_knee")
    named = pd.concat([t.to_dataframe(video=f"clip{i}") for i, t in enumerate(unnamed)])
    assert set(named.pose.angle("left_knee").index.get_level_values("video")) == {"clip0", "clip1"}


def test_pixel_and_normalized_tables_say_their_units_in_a_column():
    px = TRACKS[0].to_dataframe(units="px")
    assert (px["units"] == "px").all() and "units" not in TRACKS[0].to_dataframe().columns
    px.attrs = {}
    np.testing.assert_allclose(px.pose.angle("left_knee"),
                               TRACKS[0].to_dataframe().pose.angle("left_knee"), rtol=1e-6)
    mixed = pd.concat([px, TRACKS[1].to_dataframe()])
    with pytest.raises(ValueError, match="mixes coordinate units"):
        mixed.pose.angle("left_knee")
    normalized = TRACKS[0].to_dataframe().pose.normalize()
    assert (normalized["units"] == "pose").all()


def test_files_of_the_previous_format_read_into_todays_columns():
    from tests.unit.io.test_landmark_files import FIRST_FORMAT

    long = posejax.read_landmarks(FIRST_FORMAT / "v2_long.parquet")
    expected = random_track(n_frames=3, names=("clip.mp4",)).to_dataframe()
    pd.testing.assert_frame_equal(long, expected)
    assert long.attrs == {"fps": 30.0, "model_complexity": 0, "units": "normalized"}
    px = posejax.read_landmarks(FIRST_FORMAT / "v2_long_px.csv")
    pd.testing.assert_frame_equal(px, random_track(n_frames=3, names=("clip.mp4",))
                                  .to_dataframe(units="px"), check_categorical=False)
    wide = posejax.read_landmarks(FIRST_FORMAT / "v2_wide_batch.csv")
    batch = random_track(n_frames=2, batch=2, names=("b", "a"), missing=(1,))
    pd.testing.assert_frame_equal(wide, batch.to_dataframe("wide", units="px"))
    # The track comes back exactly, ROIs included: the old files cached them in attrs.
    from tests.helpers.synthetic import assert_tracks_equal

    assert_tracks_equal(batch, posejax.read_track(FIRST_FORMAT / "v2_wide_batch.csv"))


def test_long_table_memory_per_frame_stays_small():
    """The per-frame columns cost at most 5 bytes per landmark row (measured: 1 for video,
    2 + 2 for the sizes, less 4 as frame numbers are int32)."""
    df = random_track(n_frames=50).to_dataframe()
    assert df["video"].cat.codes.to_numpy().nbytes == len(df)
    assert df["image_width"].to_numpy().nbytes == 2 * len(df)
    assert df["frame"].to_numpy().nbytes == 4 * len(df)
    assert tables.parse_table(df).n_videos == 1
