"""Repetition counts on every counted clip of the shared test media (counted by eye there).

The clips' landmarks (posejax full model) are a committed fixture made by
``tools/make_rep_fixtures.py``; one clip is tracked again here to check the fixture still is what
posejax gives. Both counters must give the counts of ``datasets/counted_clips.csv``: the trained
counter with the bundled models and with models trained without the clip (and without clips cut
from the same footage), the any-exercise counter with no model; clips without exercise give 0.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import classify
from classify.exercises import EXERCISES, fit_exercise_model
from posejax import PoseTrack
from tests.helpers.reference_data import require_shared
from tools.make_rep_fixtures import bottom_ranges, frames_of, read_clips, read_tracks

pytestmark = pytest.mark.slow

CLIPS = read_clips()
COUNTED = CLIPS[CLIPS["exercise"] != ""]
NO_EXERCISE = CLIPS[CLIPS["exercise"] == ""]
# The only leg-raise clip: without it the leg-raise model has no leg raises to learn from, so its
# leave-out model is trained on the other half of the clip instead.
ONLY_CLIP = {"leg_raise"}


def accepted(row) -> set[int]:
    return {int(row.reps)} | ({int(row.also_accepted)} if row.also_accepted else set())


@functools.cache
def fixture_tracks() -> dict:
    return read_tracks()


def fixture_track(source: str) -> PoseTrack:
    return fixture_tracks()[source]


@functools.cache
def model_without(exercise: str, sources: tuple[str, ...]):
    """The exercise's model trained without ``sources`` (cached: fitting takes seconds)."""
    X, y = classify.load_fitness_poses()
    held = np.isin(classify.fitness_pose_groups(), sources)
    return fit_exercise_model(X[~held], y[~held], exercise)


def left_out_model(row):
    return model_without(row.exercise, (row.source, *row.same_footage.split()))


@pytest.mark.parametrize("row", list(COUNTED.itertuples()), ids=list(COUNTED["source"]))
def test_trained_counter_counts_every_clip(row):
    track = fixture_track(row.source)
    bundled = classify.count_repetitions(track, exercise=row.exercise)
    assert bundled.count in accepted(row), f"{row.source}: {bundled.count}, by eye {row.reps}"
    if row.exercise in ONLY_CLIP:
        return
    left_out = classify.count_repetitions(track, left_out_model(row), exercise=row.exercise)
    assert left_out.count in accepted(row), f"{row.source} left out: {left_out.count}"


def test_leg_raises_counted_by_a_model_trained_on_the_other_half():
    (row,) = COUNTED[COUNTED["exercise"] == "leg_raise"].itertuples()
    track = fixture_track(row.source)
    X, y = classify.load_fitness_poses()
    frame = classify.load_fitness_poses(as_frame=True)
    clip = frame["clip"].to_numpy() == row.source
    half = track.n_frames // 2
    total = 0
    for train_first in (True, False):
        train = ~clip | ((frame["frame"].to_numpy() < half) == train_first)
        model = fit_exercise_model(X[train], y[train], row.exercise)
        begin, stop = (half, track.n_frames) if train_first else (0, half)
        part = frames_of(track, begin, stop)
        total += classify.count_repetitions(part, model, exercise=row.exercise).count
    assert total == int(row.reps)


@pytest.mark.parametrize("row", list(COUNTED.itertuples()), ids=list(COUNTED["source"]))
def test_any_exercise_counter_counts_every_clip(row):
    result = classify.count_repetitions(fixture_track(row.source))
    assert result.count in accepted(row), f"{row.source}: {result.summary()}, by eye {row.reps}"
    # the turning points it reports are the true ones, within a quarter of a repetition
    bottoms = bottom_ranges(row.bottoms)
    period = np.median(np.diff([a for a, _ in bottoms])) if len(bottoms) > 1 else 20
    for frame in result.reps["bottom_frame"]:
        distance = min(max(a - frame, frame - b, 0) for a, b in bottoms)
        assert distance <= period / 4, f"bottom at frame {frame} is not one of {bottoms}"


@pytest.mark.parametrize("row", list(NO_EXERCISE.itertuples()), ids=list(NO_EXERCISE["source"]))
def test_clips_without_exercise_count_zero_from_both_counters(row):
    track = fixture_track(row.source)
    assert classify.count_repetitions(track).count == 0
    for name in EXERCISES:
        assert classify.count_repetitions(track, exercise=name).count == 0, name
        model = model_without(name, (row.source,))
        assert classify.count_repetitions(track, model, exercise=name).count == 0, name


def test_posejax_reps_command_with_and_without_an_exercise(capsys, tmp_path):
    """Tracks a clip for real, and checks the fixture against today's tracking."""
    from posejax.cli import main

    clip = "videos/mp_docs_pushups_5reps_overlay.mp4"
    path = str(require_shared(clip))
    table = tmp_path / "reps.csv"
    assert main(["reps", path, "--exercise", "pushup", "--no-progress", "-o", str(table)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "pushup: 5 repetitions"
    assert sum(line.startswith("rep ") for line in lines) == 5
    reps = pd.read_csv(table)
    assert list(reps.columns) == list(classify.reps.REPETITION_COLUMNS) and len(reps) == 5
    # The clip's landmarks, written as posejax track writes them, count alike, untracked.
    from posejax import track, write_landmarks

    landmarks = write_landmarks(track(path), tmp_path / "pushups.parquet")
    assert main(["reps", str(landmarks), "--exercise", "pushup", "-o",
                 str(tmp_path / "from_file.csv")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[1:] == [
        line.replace(str(table), str(tmp_path / "from_file.csv")) for line in lines[1:]]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "from_file.csv"), reps)
    assert main(["reps", path, "--no-progress", "--plot", str(tmp_path / "reps.png")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.endswith("elbow angle: 5 repetitions"), last
    assert (tmp_path / "reps.png").stat().st_size > 0

    now = track(path, model_complexity=1, mediapipe_clock=True)  # the fixture's clock
    stored = fixture_track(clip)
    height, width = stored.image_size
    error_px = np.hypot((stored.landmarks[..., 0] - now.landmarks[..., 0]) * width,
                        (stored.landmarks[..., 1] - now.landmarks[..., 1]) * height)  # fmt: skip
    assert np.mean(np.median(error_px, axis=1) <= 3.0) >= 0.95


def test_the_bundled_set_is_what_posejax_gives_today():
    """The committed pose set is posejax.track's on the labelled frames (regenerate if not).

    Video tracking is chaotic in the last bits (a 1e-6 change in a region of interest can move a
    landmark by pixels several frames later, as in mediapipe itself), so the set is compared with
    the video-parity criterion, per-frame median error <= 3 px on 95% of the frames, not bit for
    bit: a real change of posejax's output breaks it, float rounding does not.
    """
    data = classify.datasets._load_arrays()
    clip = "videos/mp_pose_squats.mp4"
    rows = np.flatnonzero(data["clip"] == clip)
    track = fixture_track(clip)
    frames = data["frame"][rows]
    height, width = data["image_size"][rows[0]]
    stored, now = data["landmarks"][rows], track.landmarks[frames]
    error_px = np.hypot((stored[..., 0] - now[..., 0]) * width,
                        (stored[..., 1] - now[..., 1]) * height)  # fmt: skip
    assert np.mean(np.median(error_px, axis=1) <= 3.0) >= 0.95
    world_error = np.linalg.norm(data["world_landmarks"][rows][..., :3]
                                 - track.world_landmarks[frames][..., :3], axis=-1)  # fmt: skip
    assert np.mean(np.median(world_error, axis=1) <= 0.02) >= 0.95
