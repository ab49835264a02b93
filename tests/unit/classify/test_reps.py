"""EMASmoothing, RepetitionCounter (hysteresis) and count_repetitions on synthetic sequences."""

from __future__ import annotations

import numpy as np
import pytest

from classify import EMASmoothing, RepetitionCounter, count_repetitions
from classify.datasets import _load_arrays
from classify.exercises import exercise_model
from posejax import PoseTrack

# -- smoothing ------------------------------------------------------------------------------------


def colab_ema(frames, window_size=10, alpha=0.2):
    """EMADictSmoothing of the colab on a list of {class: value} dicts."""
    window, out = [], []
    for data in frames:
        window.insert(0, data)
        window = window[:window_size]
        keys = {key for d in window for key in d}
        smoothed = {}
        for key in keys:
            factor, top, bottom = 1.0, 0.0, 0.0
            for d in window:
                top += factor * d.get(key, 0.0)
                bottom += factor
                factor *= 1.0 - alpha
            smoothed[key] = top / bottom
        out.append(smoothed)
    return out


def test_smoothing_matches_the_colab_streaming_and_whole():
    rng = np.random.default_rng(0)
    probabilities = rng.random((25, 3))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    expected = colab_ema([dict(enumerate(p)) for p in probabilities])
    expected = np.array([[e[k] for k in range(3)] for e in expected])
    np.testing.assert_allclose(EMASmoothing().smooth(probabilities), expected, rtol=1e-12)
    smoother = EMASmoothing()
    streamed = np.stack([smoother.update(p) for p in probabilities])
    np.testing.assert_allclose(streamed, expected, rtol=1e-12)
    smoother.reset()
    np.testing.assert_allclose(smoother.update(probabilities[3]), probabilities[3])


def test_frames_without_a_pose_enter_the_window_as_zeros():
    frames = [[1.0, 0.0], [np.nan, np.nan], [0.0, 1.0]]
    whole = EMASmoothing(window_size=3, alpha=0.5).smooth(frames)
    smoother = EMASmoothing(window_size=3, alpha=0.5)
    streamed = [smoother.update(frames[0]), smoother.update(None), smoother.update(frames[2])]
    np.testing.assert_allclose(whole, streamed)
    # weights 1, 0.5, 0.25 on frames 2, 1, 0: (0.25 * [1, 0] + [0, 1]) / 1.75
    np.testing.assert_allclose(whole[2], [0.25 / 1.75, 1.0 / 1.75])


def test_smoothing_for_fps_keeps_the_time_span():
    thirty = EMASmoothing.for_fps(30)
    assert thirty.window_size == 10 and thirty.alpha == pytest.approx(0.2, rel=1e-12)
    five = EMASmoothing.for_fps(5)
    assert five.window_size == 2
    # decay per second is the same: (1 - alpha) ** fps
    np.testing.assert_allclose((1 - five.alpha) ** 5, 0.8**30)
    with pytest.raises(ValueError, match="fps"):
        EMASmoothing.for_fps(0)


@pytest.mark.parametrize("params", [{"window_size": 0}, {"alpha": 0.0}, {"alpha": 1.5}])
def test_smoothing_rejects_bad_parameters(params):
    with pytest.raises(ValueError):
        EMASmoothing(**params)


# -- hysteresis -----------------------------------------------------------------------------------


def square_wave(n_reps, low=0.05, high=0.95, length=6):
    return np.tile(np.r_[[low] * length, [high] * length], n_reps).tolist() + [low] * length


def test_counts_each_exit_from_the_pose():
    counts = RepetitionCounter("down").count_sequence(square_wave(4))
    assert counts[-1] == 4
    # the count goes up on the first frame below the exit threshold, never before
    assert (np.flatnonzero(np.diff(counts)) + 1).tolist() == [12, 24, 36, 48]


def test_noise_around_one_threshold_does_not_count():
    rng = np.random.default_rng(1)
    around_enter = 0.6 + rng.uniform(-0.15, 0.15, size=200)  # crosses 0.6 many times, never 0.4
    around_exit = 0.4 + rng.uniform(-0.15, 0.15, size=200)  # crosses 0.4, never 0.6
    counter = RepetitionCounter("down")
    assert counter.count_sequence(around_enter)[-1] == 0  # entered, never left
    assert [counter.update(v) for v in around_enter][-1] == 0 and counter.in_pose
    assert RepetitionCounter("down").count_sequence(around_exit)[-1] == 0
    # one real repetition framed by that noise counts once
    sequence = np.r_[around_exit, around_enter, around_exit]
    assert RepetitionCounter("down").count_sequence(sequence)[-1] == 1


def test_noise_crossing_both_thresholds_counts_each_full_crossing():
    noisy = [0.3, 0.7, 0.5, 0.45, 0.55, 0.35, 0.62, 0.41, 0.39, 0.61]
    # enter at 0.7, exit at 0.35 (1), enter at 0.62, exit at 0.39 (2), enter at 0.61
    assert RepetitionCounter("down").count_sequence(noisy).tolist() == [
        0, 0, 0, 0, 0, 1, 1, 1, 2, 2,
    ]  # fmt: skip


def test_streaming_equals_whole_sequence_and_frames_without_pose_freeze_the_state():
    rng = np.random.default_rng(2)
    values = np.clip(np.repeat(rng.random(40), 3) + rng.normal(0, 0.1, 120), 0, 1)
    values[rng.integers(0, 120, 15)] = np.nan
    counter = RepetitionCounter("down")
    streamed = [counter.update(None if np.isnan(v) else v) for v in values]
    assert streamed == RepetitionCounter("down").count_sequence(values).tolist()
    assert counter.count == streamed[-1] > 0
    # a NaN between the enter and the exit changes nothing
    assert RepetitionCounter("down").count_sequence([0.9, np.nan, 0.1])[-1] == 1


def test_counter_takes_class_mappings():
    counter = RepetitionCounter("squat_down")
    assert counter.update({"squat_down": 0.8, "squat_up": 0.2}) == 0 and counter.in_pose
    assert counter.update({"squat_up": 1.0}) == 1  # missing class = probability 0


@pytest.mark.parametrize("enter, exit_", [(0.4, 0.6), (1.2, 0.4), (0.6, -0.1)])
def test_counter_rejects_bad_thresholds(enter, exit_):
    with pytest.raises(ValueError, match="threshold"):
        RepetitionCounter("down", enter_threshold=enter, exit_threshold=exit_)


# -- count_repetitions on a synthetic track of bundled squat poses --------------------------------


def squat_track(pattern, fps=10.0, missing=()):
    """A track whose frame i is a bundled 'squat_up' or 'squat_down' pose, per ``pattern``."""
    data = _load_arrays()
    rng = np.random.default_rng(3)
    index = {label: np.flatnonzero(data["label"] == label) for label in ("squat_up", "squat_down")}
    picks = np.array([rng.choice(index[label]) for label in pattern])
    landmarks = data["landmarks"][picks].copy()
    world = data["world_landmarks"][picks].copy()
    present = np.ones(len(pattern), bool)
    present[list(missing)] = False
    landmarks[~present] = np.nan
    world[~present] = np.nan
    return PoseTrack(
        landmarks=landmarks,
        world_landmarks=world,
        pose_present=present,
        rois=np.zeros((len(pattern), 5), np.float32),
        timestamps=np.arange(len(pattern)) / fps,
        image_sizes=data["image_size"][picks],
        fps=fps,
    )


PATTERN = ["squat_up"] * 6 + (["squat_down"] * 4 + ["squat_up"] * 6) * 3


def test_count_repetitions_on_a_track():
    table, total = count_repetitions(squat_track(PATTERN), exercise_model("squat"), "squat_down")
    assert total == 3
    assert len(table) == len(PATTERN) and table["count"].iloc[-1] == 3
    assert table["count"].is_monotonic_increasing
    expected = {"frame", "time", "pose_present", "in_pose", "count"}
    assert expected <= set(table.columns)
    proba = table[[f"proba_{c}" for c in ("other", "squat_down", "squat_up")]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # every down frame is in the pose once smoothing has caught up
    assert table.loc[np.array(PATTERN) == "squat_down", "smoothed_squat_down"].max() > 0.6


def test_count_repetitions_survives_frames_without_a_pose():
    missing = (0, 1, 12, 25)  # before the first pose, in a bottom and in between
    track = squat_track(PATTERN, missing=missing)
    table, total = count_repetitions(track, exercise_model("squat"), "squat_down")
    assert total == 3
    assert table.loc[list(missing), "smoothed_squat_down"].isna().all()
    assert not table.loc[list(missing), "pose_present"].any()


def test_count_repetitions_reads_dataframes_like_tracks():
    track = squat_track(PATTERN)
    model = exercise_model("squat")
    reference, _ = count_repetitions(track, model, "squat_down")
    for layout in ("long", "wide"):
        table, total = count_repetitions(track.to_dataframe(layout), model, "squat_down")
        assert total == 3
        np.testing.assert_allclose(
            table["smoothed_squat_down"], reference["smoothed_squat_down"], rtol=1e-6
        )


def test_count_repetitions_rejects_unknown_classes_and_batches():
    track = squat_track(PATTERN[:8])
    with pytest.raises(ValueError, match="not one of the model's classes"):
        count_repetitions(track, exercise_model("squat"), "pushup_down")
    with pytest.raises(TypeError, match="PoseTrack"):
        count_repetitions(np.zeros((3, 33, 3)), exercise_model("squat"), "squat_down")
