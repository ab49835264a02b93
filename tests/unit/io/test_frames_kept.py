"""Readers never renumber: rows removed or shuffled before saving keep their frames and times.

A user drops frames without a pose (``df.dropna(subset=["x"])``), cuts a range out or filters
landmarks, saves the table and reads it back: every frame comes back under its own number at
its own time, the removed ones as frames without a pose.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import posejax
from posejax.landmarks import NUM_LANDMARKS
from tests.helpers.synthetic import random_track

N_FRAMES = 12


def _track_with_irregular_times(seed: int):
    """A track whose times are irregular (a variable-frame-rate video) and start at 10 s."""
    track = random_track(n_frames=N_FRAMES, missing=(3,), names=("clip",), seed=seed)
    steps = np.random.default_rng(seed).uniform(0.01, 0.09, N_FRAMES)
    times = 10.0 + np.concatenate([[0.0], np.cumsum(steps[1:])])
    return dataclasses.replace(track, timestamps=times)


def _expected_after_removal(track, kept_frames, kept_cells=None):
    landmarks = np.full_like(track.landmarks, np.nan)
    world = np.full_like(track.world_landmarks, np.nan)
    landmarks[kept_frames] = track.landmarks[kept_frames]
    world[kept_frames] = track.world_landmarks[kept_frames]
    if kept_cells is not None:
        landmarks[~kept_cells] = np.nan
        world[~kept_cells] = np.nan
    return landmarks, world


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**16),
    suffix=st.sampled_from([".csv", ".parquet"]),
    layout=st.sampled_from(["long", "wide"]),
    data=st.data(),
)
def test_read_track_restores_the_frames_present_with_their_numbers_and_times(
    tmp_path, seed, suffix, layout, data
):
    track = _track_with_irregular_times(seed)
    df = track.to_dataframe(layout)
    kept = data.draw(st.lists(st.integers(0, N_FRAMES - 1), min_size=1, unique=True), "kept")
    kept = np.sort(np.asarray(kept))
    frames = df["frame"].to_numpy() if layout == "long" else df.index.get_level_values("frame")
    part = df[np.isin(frames, kept)]
    order = data.draw(st.permutations(range(len(part))), "order")
    part = part.iloc[list(order)]
    path = tmp_path / f"part{suffix}"
    posejax.write_landmarks(part, path)
    back = posejax.read_track(path)

    assert back.n_frames == N_FRAMES  # the attrs record how long the video was
    landmarks, world = _expected_after_removal(track, kept)
    np.testing.assert_array_equal(back.landmarks, landmarks)
    np.testing.assert_array_equal(back.world_landmarks, world)
    np.testing.assert_array_equal(back.timestamps[kept], track.timestamps[kept])
    assert np.all(np.diff(back.timestamps) > 0)
    assert back.pose_present.tolist() == [
        bool(k in kept and track.pose_present[k]) for k in range(N_FRAMES)
    ]


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), data=st.data())
def test_landmark_rows_removed_from_a_long_table_are_missing_only_where_removed(
    tmp_path, seed, data
):
    track = _track_with_irregular_times(seed)
    df = track.to_dataframe("long")
    drop = data.draw(st.lists(st.integers(0, len(df) - 1), unique=True, max_size=60), "drop")
    part = df.drop(index=df.index[drop]).sample(frac=1.0, random_state=seed)
    path = tmp_path / "part.csv"
    posejax.write_landmarks(part, path)
    back = posejax.read_track(path)

    cells = np.ones(N_FRAMES * NUM_LANDMARKS, bool)
    cells[drop] = False  # rows are frame-major, landmark-minor
    cells = cells.reshape(N_FRAMES, NUM_LANDMARKS)
    kept_frames = np.flatnonzero(cells.any(axis=1))
    landmarks, world = _expected_after_removal(track, kept_frames, cells)
    np.testing.assert_array_equal(back.landmarks, landmarks)
    np.testing.assert_array_equal(back.world_landmarks, world)
    np.testing.assert_array_equal(back.timestamps[kept_frames], track.timestamps[kept_frames])


def test_dropna_then_save_keeps_frame_numbers_and_times(tmp_path):
    track = _track_with_irregular_times(1)
    df = track.to_dataframe()
    posejax.write_landmarks(df.dropna(subset=["x"]), tmp_path / "posed.csv")
    back = posejax.read_track(tmp_path / "posed.csv")
    np.testing.assert_array_equal(back.landmarks, track.landmarks)
    present = track.pose_present
    np.testing.assert_array_equal(back.timestamps[present], track.timestamps[present])
    assert not back.pose_present[3]


def test_frames_cut_out_of_a_table_without_attrs_keep_their_numbers(tmp_path):
    """No sidecar, no attrs: frame 20 is still frame 20, at the time the table gives it."""
    track = random_track(n_frames=30, missing=(), seed=4)
    df = track.to_dataframe()
    cut = df[~df.frame.between(10, 19)]
    cut.to_csv(tmp_path / "plain.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the sidecar is missing, as intended
        back = posejax.read_track(tmp_path / "plain.csv", fps=30.0)
    assert back.n_frames == 30
    np.testing.assert_allclose(back.landmarks[20], track.landmarks[20])
    assert back.timestamps[20] == pytest.approx(track.timestamps[20])
    assert not back.pose_present[10:20].any()
    # Missing frames' times continue the table's clock (between their neighbours).
    np.testing.assert_allclose(back.timestamps[10:20], track.timestamps[10:20])
    np.testing.assert_array_equal(back.timestamps[20:], track.timestamps[20:])


def test_a_dropped_coordinate_column_is_an_error_naming_it(tmp_path):
    df = random_track().to_dataframe()
    df.drop(columns="x").to_csv(tmp_path / "no_x.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match="no 'x' coordinates"):
            posejax.read_track(tmp_path / "no_x.csv", fps=30.0)


def test_frame_numbers_must_not_be_negative():
    df = random_track().to_dataframe()
    df["frame"] = df["frame"] - 3
    with pytest.raises(ValueError, match="frame numbers start at 0"):
        posejax.PoseTrack.from_dataframe(df)


def test_a_batch_table_with_frames_removed_keeps_each_video_apart():
    track = random_track(n_frames=5, batch=2, names=("a", "b"), missing=())
    df = track.to_dataframe()
    part = df[~((df.video == "b") & (df.frame == 1))]
    back = posejax.PoseTrack.from_dataframe(part)
    np.testing.assert_array_equal(back.landmarks[0], track.landmarks[0])
    assert back.pose_present[1].tolist() == [True, False, True, True, True]
    np.testing.assert_array_equal(back.timestamps, track.timestamps)
