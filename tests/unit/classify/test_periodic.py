"""The any-exercise counter on synthetic movements made from bundled poses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import classify
from classify import count_repeated_movement, find_periodic_segments
from classify.angles import clean_signal, joint_angles
from classify.datasets import _load_arrays
from posejax import PoseTrack


def pose_pair(rest: str, turn: str):
    """Mean world and image landmarks of two bundled classes."""
    data = _load_arrays()
    pick = {label: data["label"] == label for label in (rest, turn)}
    world = [np.nanmean(data["world_landmarks"][pick[c]], axis=0) for c in (rest, turn)]
    image = [np.nanmean(data["landmarks"][pick[c]], axis=0) for c in (rest, turn)]
    return world, image


def movement_track(schedule, fps, rest="squat_up", turn="squat_down", drift=0.0, seed=0):
    """A track moving between two bundled poses: ``schedule`` in [0, 1] per frame (1 = turn).

    ``drift`` moves the whole body sideways by that many image widths per frame (walking).
    """
    (w0, w1), (i0, i1) = pose_pair(rest, turn)
    s = np.asarray(schedule, np.float64)[:, None, None]
    rng = np.random.default_rng(seed)
    world = (1 - s) * w0 + s * w1
    world[..., :3] += rng.normal(0, 0.004, world[..., :3].shape)
    image = ((1 - s) * i0 + s * i1).astype(np.float32)
    image[..., 0] += drift * np.arange(len(s))[:, None]
    present = np.isfinite(s[:, 0, 0])
    world[~present], image[~present] = np.nan, np.nan
    return PoseTrack(
        landmarks=image.astype(np.float32),
        world_landmarks=world.astype(np.float32),
        pose_present=present,
        rois=np.zeros((len(s), 5), np.float32),
        timestamps=np.arange(len(s)) / fps,
        image_sizes=np.tile([[480, 640]], (len(s), 1)),
        fps=fps,
    )


def reps_schedule(n, period, fps, rest=1.0, lead=1.0):
    """``n`` smooth repetitions of ``period`` seconds, separated by ``rest`` s at rest."""
    one = (1 - np.cos(2 * np.pi * np.arange(round(period * fps)) / round(period * fps))) / 2
    still = np.zeros(round(rest * fps))
    return np.r_[np.zeros(round(lead * fps)), np.tile(np.r_[one, still], n)]


@pytest.mark.parametrize("fps", [5.0, 12.0, 30.0, 60.0])
def test_counts_squats_at_any_frame_rate(fps):
    result = count_repeated_movement(movement_track(reps_schedule(4, 2.0, fps), fps))
    assert result.count == 4
    assert "knee" in result.what or "hip" in result.what
    assert result.summary().endswith(": 4 repetitions")
    # each reported bottom is within a quarter repetition of a true bottom
    truth = (1.0 + 1.0 + np.arange(4) * 3.0)  # lead, half a period, then every 3 s
    assert np.abs(result.reps["bottom_time"].to_numpy() - truth).max() <= 0.5


@pytest.mark.parametrize(
    "rest, turn, signal",
    [("pushup_up", "pushup_down", "elbow"), ("leg_raise_down", "leg_raise_up", "hip")],
)
def test_names_the_joint_that_moves(rest, turn, signal):
    schedule = reps_schedule(5, 1.5, 20.0, rest=0.5)
    result = count_repeated_movement(movement_track(schedule, 20.0, rest, turn))
    assert result.count == 5 and signal in result.what


def test_a_long_pause_and_a_non_exercise_segment_in_the_middle_count_nothing_extra():
    fps = 20.0
    rng = np.random.default_rng(1)
    # 4 s of aperiodic moving about that never gets near the bottom (someone talking)
    wander = np.abs(np.sin(np.cumsum(rng.uniform(0, 0.5, int(4 * fps))))) * 0.4
    schedule = np.r_[reps_schedule(3, 2.0, fps), np.zeros(int(8 * fps)), wander,
                     reps_schedule(3, 2.0, fps)]  # fmt: skip
    result = count_repeated_movement(movement_track(schedule, fps))
    assert result.count == 6
    bottoms = result.reps["bottom_time"].to_numpy()
    assert not ((bottoms > 18.0) & (bottoms < 22.0)).any()  # nothing counted while wandering


def test_one_movement_noise_and_locomotion_count_nothing():
    fps = 25.0
    once = count_repeated_movement(movement_track(reps_schedule(1, 2.0, fps), fps))
    assert once.count == 0 and once.what == "nothing"
    small = 0.15 * reps_schedule(6, 1.5, fps)  # a periodic wobble of a few degrees
    assert count_repeated_movement(movement_track(small, fps)).count == 0
    walking = movement_track(reps_schedule(6, 1.0, fps, rest=0.1), fps, drift=0.004)
    result = count_repeated_movement(walking)
    assert result.count == 0
    reasons = {s.reason for s in result.frames.attrs["segments"] if not s.accepted}
    assert any("hips travel" in r for r in reasons)


def test_a_moment_without_a_pose_keeps_the_count():
    fps = 30.0
    schedule = reps_schedule(4, 2.0, fps)
    schedule[100:110] = np.nan  # a third of a second lost in the second repetition
    assert count_repeated_movement(movement_track(schedule, fps)).count == 4


def test_no_pose_at_all():
    result = count_repeated_movement(movement_track(np.full(50, np.nan), 10.0))
    assert result.count == 0 and len(result.reps) == 0
    assert list(result.reps.columns) == list(classify.reps.REPETITION_COLUMNS)


def test_count_repetitions_without_a_model_is_the_any_exercise_counter():
    track = movement_track(reps_schedule(3, 2.0, 15.0), 15.0)
    assert classify.count_repetitions(track).count == 3
    assert classify.count_repetitions(track.to_dataframe()).count == 3


def test_find_periodic_segments_on_a_plain_signal():
    t = np.arange(0, 12, 1 / 30)
    knee = 120 + 50 * np.cos(2 * np.pi * t / 2.0)
    (segment,) = find_periodic_segments(knee, 30.0, "knee")
    assert segment.accepted and len(segment.cycles) == 6  # starts and ends at rest (170 deg)
    assert segment.rest_is_high and segment.period == pytest.approx(2.0, abs=0.05)
    assert segment.periodicity > 0.95
    noise = np.random.default_rng(2).uniform(60, 170, len(t))
    assert not any(s.accepted for s in find_periodic_segments(noise, 30.0))


def test_bad_parameters_are_named():
    track = movement_track(reps_schedule(2, 2.0, 10.0), 10.0)
    with pytest.raises(ValueError, match="min_excursion"):
        count_repeated_movement(track, min_excursion=0)
    with pytest.raises(ValueError, match="unknown signals"):
        count_repeated_movement(track, signals=["tail"])
    with pytest.raises(ValueError, match="one value per frame"):
        clean_signal(np.zeros((4, 2)), fps=10.0)
    assert set(joint_angles(np.zeros((2, 33, 3)))) >= {"knee", "left_knee", "right_knee"}
    with pytest.raises(ValueError, match="fps"):
        clean_signal(np.zeros(4), fps=0)


@pytest.mark.parametrize(
    "pauses", [[0.5, 6, 1, 9, 2], [0.2, 0.3, 12, 0.2, 0.5], [0, 0, 0, 0, 0]], ids=str
)
def test_irregular_rests_between_repetitions_do_not_break_the_set(pauses):
    fps = 20.0
    one = reps_schedule(1, 2.0, fps, rest=0.0, lead=0.0)
    parts = [np.zeros(20)]
    for pause in pauses:
        parts += [one, np.zeros(int(pause * fps))]
    schedule = np.concatenate([*parts, one, np.zeros(20)])
    assert count_repeated_movement(movement_track(schedule, fps)).count == 6


def test_a_changing_tempo_keeps_the_count():
    fps = 20.0
    parts = [reps_schedule(1, period, fps, rest=0.0, lead=0.0) for period in
             (1.5, 2.0, 2.5, 3.0, 2.0, 1.5)]  # fmt: skip
    schedule = np.concatenate([np.zeros(20), *parts, np.zeros(20)])
    assert count_repeated_movement(movement_track(schedule, fps)).count == 6


def half_rep_from_the_turn(period, fps):
    """The second half of a repetition: from the turning point back to rest."""
    one = reps_schedule(1, period, fps, rest=0.0, lead=0.0)
    return one[len(one) // 2 :]


def test_a_recording_started_at_the_turning_point_keeps_the_rest_phase():
    fps = 20.0
    # Recording starts at the bottom of a squat; 4 full squats with short rests follow.
    schedule = np.r_[half_rep_from_the_turn(2.0, fps), reps_schedule(4, 2.0, fps, rest=0.5)]
    result = count_repeated_movement(movement_track(schedule, fps))
    assert result.count == 4
    # rest is standing (the knee straight): every turning point is a true bottom
    truth = 1.0 + 1.0 + 1.0 + np.arange(4) * 2.5  # the half rep, the lead, half a period
    assert np.abs(result.reps["bottom_time"].to_numpy() - truth).max() <= 0.5
    assert (result.reps["angle_at_bottom"] < result.frames[result.angle].median()).all()


def test_a_pause_between_sets_decides_the_phase_of_a_held_turning_point():
    fps = 20.0
    # Leg raises held 1.5 s at the top, but 6 s down between two sets of 3: rest is down.
    one = reps_schedule(1, 1.5, fps, rest=0.0, lead=0.0)
    held = np.r_[one[: len(one) // 2], np.ones(int(1.5 * fps)), one[len(one) // 2 :]]
    sets = np.r_[np.tile(np.r_[held, np.zeros(5)], 3)]
    schedule = np.r_[np.ones(10), held[len(held) // 2 :], np.zeros(int(6 * fps)), sets,
                     np.zeros(int(6 * fps)), sets, np.zeros(20)]  # fmt: skip
    track = movement_track(schedule, fps, "leg_raise_down", "leg_raise_up")
    result = count_repeated_movement(track)
    assert result.count == 6
    at_top = schedule[result.reps["bottom_frame"].to_numpy()]
    assert (at_top > 0.9).all()


def test_walking_in_and_out_ends_the_set_and_counts_nothing():
    fps = 25.0
    walk = reps_schedule(4, 1.0, fps, rest=0.1, lead=0.0)  # knees bending with every stride
    squats = reps_schedule(3, 2.0, fps)
    schedule = np.r_[walk, squats, walk]
    track = movement_track(schedule, fps)
    image = track.landmarks.copy()
    # the hips cross the picture in each walk (about 4 m, 1 m/s), standing still in between
    n_walk = len(walk)
    shift = np.r_[np.linspace(-1, 0, n_walk), np.zeros(len(squats)), np.linspace(0, 1, n_walk)]
    image[..., 0] += shift[:, None].astype(np.float32)
    result = count_repeated_movement(dataclasses.replace(track, landmarks=image))
    assert result.count == 3
    walking = result.frames["travelling"].to_numpy()
    assert walking[n_walk // 4 : 3 * n_walk // 4].all()
    assert not walking[n_walk + 25 : n_walk + len(squats) - 25].any()
    bottoms = result.reps["bottom_frame"].to_numpy()
    assert ((bottoms > n_walk) & (bottoms < n_walk + len(squats))).all()


def test_stepping_out_of_view_at_rest_keeps_the_set_but_drops_a_repetition_in_progress():
    fps = 20.0
    away = np.full(int(3 * fps), np.nan)  # longer than max_gap: not bridged
    schedule = np.r_[reps_schedule(1, 2.0, fps), away, reps_schedule(2, 2.0, fps), np.zeros(20)]
    assert count_repeated_movement(movement_track(schedule, fps)).count == 3
    one = reps_schedule(1, 2.0, fps, rest=0.0, lead=0.0)
    broken = np.r_[one[: len(one) // 2], away, one[len(one) // 2 :]]
    schedule = np.r_[reps_schedule(3, 2.0, fps), broken, reps_schedule(2, 2.0, fps, lead=0.5)]
    assert count_repeated_movement(movement_track(schedule, fps)).count == 5


def test_a_tempo_rising_from_0_6x_to_1_6x_keeps_the_count():
    fps = 20.0
    parts = [reps_schedule(1, 2.0 / speed, fps, rest=0.0, lead=0.0)
             for speed in (0.6, 0.8, 1.0, 1.2, 1.4, 1.6)]  # fmt: skip
    schedule = np.concatenate([np.zeros(20), *parts, np.zeros(20)])
    assert count_repeated_movement(movement_track(schedule, fps)).count == 6
