"""Repetition counts on the exercise clips of the shared test media (counted by eye there).

Each clip is tracked once with posejax (full model). The bundled models must give the counts of
``../shared/data/MANIFEST.md``; so must models trained without the clip (leave-one-clip-out),
for the clips that have another clip of the same exercise to learn from.
"""

from __future__ import annotations

import numpy as np
import pytest

import classify
from classify.exercises import fit_exercise_model
from tests.helpers.reference_data import require_shared

pytestmark = pytest.mark.slow

# clip -> (exercise, accepted counts). mp_pose_squats ends half-way up its third squat.
CLIPS = {
    "videos/mp_docs_pushups_5reps_overlay.mp4": ("pushup", {5}),
    "videos/mp_docs_squats_5reps_overlay.mp4": ("squat", {5}),
    "videos/mp_docs_squats_world_landmarks_overlay.mp4": ("squat", {3}),
    "videos/mp_pose_squats.mp4": ("squat", {2, 3}),
    "videos/infai_synthetic_leg_raises_6reps.mp4": ("leg_raise", {6}),
}
# The only leg-raise clip: without it the leg-raise model has no leg raises to learn from.
NO_OTHER_CLIP = {"videos/infai_synthetic_leg_raises_6reps.mp4"}

_tracks: dict[str, object] = {}


def tracked(clip: str):
    """posejax.track of a clip, computed once per test session."""
    if clip not in _tracks:
        from posejax.track import track

        _tracks[clip] = track(str(require_shared(clip)), model_complexity=1)
    return _tracks[clip]


@pytest.mark.parametrize("clip", sorted(CLIPS))
def test_bundled_model_counts(clip):
    exercise, truth = CLIPS[clip]
    spec = classify.get_exercise(exercise)
    table, total = classify.count_repetitions(
        tracked(clip), classify.exercise_model(exercise), spec.down
    )
    assert total in truth, f"{clip}: {total} repetitions, counted by eye {truth}"
    assert table["pose_present"].mean() > 0.95


@pytest.mark.parametrize("clip", sorted(set(CLIPS) - NO_OTHER_CLIP))
def test_leave_one_clip_out_counts(clip):
    exercise, truth = CLIPS[clip]
    spec = classify.get_exercise(exercise)
    X, y = classify.load_fitness_poses()
    held = classify.fitness_pose_groups() == clip
    assert held.any(), f"{clip} is not in the bundled set"
    model = fit_exercise_model(X[~held], y[~held], exercise)
    _, total = classify.count_repetitions(tracked(clip), model, spec.down)
    assert total in truth, f"{clip} left out: {total} repetitions, counted by eye {truth}"


def test_posejax_reps_command(capsys):
    from posejax.cli import main

    clip = "videos/mp_docs_pushups_5reps_overlay.mp4"
    assert main(["reps", str(require_shared(clip)), "--exercise", "pushup", "--no-progress"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "pushup: 5 repetitions"


def test_the_bundled_set_is_what_posejax_gives_today():
    """The committed landmarks are posejax.track's on the labelled frames (regenerate if not).

    Video tracking is chaotic in the last bits (a 1e-6 change in a region of interest can move a
    landmark by pixels several frames later, as in mediapipe itself), so the set is compared with
    the video-parity criterion, per-frame median error <= 3 px on 95% of the frames, not bit for
    bit: a real change of posejax's output breaks it, float rounding does not.
    """
    data = classify.datasets._load_arrays()
    clip = "videos/mp_pose_squats.mp4"
    rows = np.flatnonzero(data["clip"] == clip)
    track = tracked(clip)
    frames = data["frame"][rows]
    height, width = data["image_size"][rows[0]]
    stored, now = data["landmarks"][rows], track.landmarks[frames]
    error_px = np.hypot((stored[..., 0] - now[..., 0]) * width,
                        (stored[..., 1] - now[..., 1]) * height)
    assert np.mean(np.median(error_px, axis=1) <= 3.0) >= 0.95
    world_error = np.linalg.norm(data["world_landmarks"][rows][..., :3]
                                 - track.world_landmarks[frames][..., :3], axis=-1)
    assert np.mean(np.median(world_error, axis=1) <= 0.02) >= 0.95
