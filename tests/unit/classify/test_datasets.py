"""The bundled fitness pose set and the exercise models built on it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import classify
from classify.datasets import COORDINATE_COLUMNS, _load_arrays
from classify.exercises import OTHER, exercise_labels, fit_exercise_model, get_exercise

REPO = Path(__file__).resolve().parents[3]
CLASSES = {
    "pushup_up", "pushup_down", "squat_up", "squat_down", "leg_raise_up", "leg_raise_down",
    "neutral",
}  # fmt: skip


def _label_file_rows():
    spec = importlib.util.spec_from_file_location(
        "make_fitness_dataset", REPO / "tools" / "make_fitness_dataset.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read_labels(REPO / "datasets" / "fitness_labels.csv")


def test_arrays_and_labels():
    X, y = classify.load_fitness_poses()
    assert X.shape == (len(y), 33, 3) and X.dtype == np.float64
    assert set(y) == CLASSES
    assert np.isfinite(X).all()
    hips = (X[:, 23] + X[:, 24]) / 2
    np.testing.assert_allclose(hips, 0.0, atol=0.05)  # world landmarks are hip-centred metres
    assert np.abs(X).max() < 2.5
    pixels, labels = classify.load_fitness_poses(coordinates="image")
    assert (labels == y).all() and pixels.shape == X.shape
    assert np.nanmax(pixels[..., :2]) > 100  # pixels, not normalized coordinates
    with pytest.raises(ValueError, match="coordinates"):
        classify.load_fitness_poses(coordinates="camera")


def test_every_exercise_has_both_positions_in_enough_frames():
    _, y = classify.load_fitness_poses()
    labels, counts = np.unique(y, return_counts=True)
    assert dict(zip(labels, counts, strict=True))["pushup_down"] >= 10
    assert counts.min() >= 10


def test_frame_form():
    df = classify.load_fitness_poses(as_frame=True)
    X, y = classify.load_fitness_poses()
    assert list(df.columns[:4]) == ["clip", "frame", "view", "label"]
    assert list(df.columns[4:]) == list(COORDINATE_COLUMNS)
    np.testing.assert_array_equal(df[list(COORDINATE_COLUMNS)].to_numpy(), X.reshape(len(X), -1))
    assert (df["label"] == y).all()
    assert set(df["view"]) == {"front", "three_quarter", "side"}
    assert (df["clip"].to_numpy() == classify.fitness_pose_groups()).all()


def test_samples_are_the_labelled_frames_of_the_label_file():
    data = _load_arrays()
    assert int(data["model_complexity"]) == 1
    labelled = {}
    for row in _label_file_rows():
        clip = row["source"] + (f"[{row['crop']}]" if row["crop"] else "")
        for frame in row["frames"]:
            labelled[(clip, frame)] = (row["label"], row["view"])
    stored = list(zip(data["clip"], data["frame"].tolist(), strict=True))
    assert len(set(stored)) == len(stored)
    for (clip, frame), label, view in zip(stored, data["label"], data["view"], strict=True):
        assert labelled[(str(clip), frame)] == (label, view)
    # at most a few labelled frames may lack a pose
    assert len(stored) >= 0.97 * len(labelled)


def test_no_pixels_are_stored():
    data = _load_arrays()
    assert set(data) == {
        "clip", "frame", "view", "label", "landmarks", "world_landmarks", "image_size",
        "model_complexity",
    }  # fmt: skip
    assert data["landmarks"].shape[1:] == (33, 5) and data["world_landmarks"].shape[1:] == (33, 4)


def test_exercise_labels_and_names():
    assert get_exercise("Leg-Raise") is classify.EXERCISES["leg_raise"]
    with pytest.raises(ValueError, match="bundled exercises"):
        get_exercise("burpee")
    labels = exercise_labels(["pushup_up", "squat_down", "neutral", "pushup_down"], "pushup")
    assert labels.tolist() == ["pushup_up", OTHER, OTHER, "pushup_down"]


@pytest.mark.parametrize("name", sorted(classify.EXERCISES))
def test_bundled_models_recognise_their_training_poses(name):
    model = classify.exercise_model(name)
    assert model.classes_.tolist() == list(classify.EXERCISES[name].classes)
    X, y = classify.load_fitness_poses()
    labels = exercise_labels(y, name)
    own = labels != OTHER
    assert np.mean(model.predict(X[own]) == labels[own]) > 0.95
    assert classify.exercise_model(name) is model  # cached


def test_yaw_views_let_a_model_recognise_a_turned_squat():
    """Trained on the front and three-quarter squat clips, recognise them turned to the side."""
    X, y = classify.load_fitness_poses()
    clips = classify.fitness_pose_groups()
    held = clips == "videos/mp_pose_squats.mp4"
    turned = classify.rotate_about_vertical(X[held], 90.0)
    truth = exercise_labels(y[held], "squat")
    filmed_views = fit_exercise_model(X[~held], y[~held], "squat", yaw_degrees=(0,))
    all_views = fit_exercise_model(X[~held], y[~held], "squat")
    down = truth == "squat_down"
    assert np.mean(all_views.predict(turned[down]) == "squat_down") > 0.9
    assert np.mean(all_views.predict(turned[down]) == "squat_down") > np.mean(
        filmed_views.predict(turned[down]) == "squat_down"
    )


def test_leave_one_clip_out_table():
    table = classify.leave_one_clip_out("squat", yaw_degrees=(0, 90, 180, 270))
    assert list(table.columns) == ["clip", "view", "n_frames", "accuracy", "exercise_frames"]
    assert table["n_frames"].sum() == len(classify.load_fitness_poses()[1])
    squats = table[table["exercise_frames"] > 0]
    assert len(squats) == 3 and (squats["accuracy"] > 0.7).all()
