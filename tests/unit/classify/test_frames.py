"""scikit-learn on pose tables: one row per frame, frames without a pose, grouped CV by video."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline

from classify import (
    NO_POSE,
    KNNPoseClassifier,
    PoseEmbedder,
    exercise_model,
    fitness_pose_groups,
    fitness_pose_table,
    load_fitness_poses,
    pose_frames,
    pose_landmarks,
)
from posejax import PoseTrack
from posejax.tables import FRAME_COLUMNS
from tests.helpers.synthetic import random_track

SQUATS = "videos/mp_pose_squats.mp4"


def pipeline(**knn):
    return make_pipeline(PoseEmbedder(), KNNPoseClassifier(**knn))


@pytest.fixture(scope="module")
def two_exercises():
    """The bundled squat and push-up frames as a long table of several videos."""
    table = fitness_pose_table()
    return table[table["label"].str.startswith(("squat", "pushup"))]


def test_fit_on_a_track_leaves_out_frames_without_a_pose_and_says_how_many():
    track = random_track(n_frames=12, missing=(2, 7, 8))
    y = np.array(["a", "b"] * 6)
    with pytest.warns(UserWarning, match=r"left out 3 of 12 training samples"):
        model = pipeline(top_n_by_mean_distance=1).fit(track, y)
    posed = np.setdiff1d(np.arange(12), [2, 7, 8])
    # The fit equals one on the frames with a pose alone.
    reference = pipeline(top_n_by_mean_distance=1).fit(pose_landmarks(track)[posed], y[posed])
    predicted = model.predict(track)
    assert predicted[[2, 7, 8]].tolist() == [NO_POSE] * 3
    np.testing.assert_array_equal(predicted[posed], reference.predict(pose_landmarks(track)[posed]))
    # Each frame is its own nearest training sample.
    np.testing.assert_array_equal(predicted[posed], y[posed])
    proba = model.predict_proba(track)
    assert np.isnan(proba[[2, 7, 8]]).all()
    np.testing.assert_allclose(proba[posed].sum(axis=1), 1.0)


def test_a_long_table_with_frames_without_a_pose_fits_and_predicts_per_frame():
    track = random_track(n_frames=10, missing=(0, 4))
    long = track.to_dataframe("long")
    X, y = pose_frames(long, labels=pd.Series(["up", "down"] * 5, index=range(10)))
    assert len(X) == 10 and X.index.names == ["video", "frame"]
    with pytest.warns(UserWarning, match=r"left out 2 of 10"):
        model = pipeline().fit(X, y)
    predicted = model.predict(X)
    assert (predicted == NO_POSE).tolist() == [f in (0, 4) for f in range(10)]
    # The wide table, the long one through pose_frames and the track give the same predictions.
    np.testing.assert_array_equal(model.predict(track.to_dataframe("wide")), predicted)
    np.testing.assert_array_equal(model.predict(track), predicted)


def test_predict_labels_without_a_pose_in_the_classes_dtype():
    X = np.r_[np.zeros((3, 3)), np.ones((3, 3))]
    queries = np.array([[1.0, 1.0, 1.0], [np.nan, 0.0, 0.0]])
    strings = KNNPoseClassifier(top_n_by_mean_distance=3).fit(X, ["down"] * 3 + ["up"] * 3)
    assert strings.predict(queries).tolist() == ["up", NO_POSE]
    numbers = KNNPoseClassifier(top_n_by_mean_distance=3).fit(X, [0] * 3 + [1] * 3)
    assert numbers.predict(queries).tolist() == [1, NO_POSE]
    assert numbers.predict(queries[:1]).dtype.kind == "i"
    minus_one = KNNPoseClassifier(top_n_by_mean_distance=3, no_pose_label=-1).fit(
        X, [0] * 3 + [1] * 3
    )
    out = minus_one.predict(queries)
    assert out.tolist() == [1, -1] and out.dtype.kind == "i"
    with pytest.raises(ValueError, match="no frames|nothing to fit"):
        KNNPoseClassifier().fit(np.full((2, 3), np.nan), ["a", "b"])
    with pytest.raises(ValueError, match="no_pose_label"):
        KNNPoseClassifier().fit(X, ["no_pose"] * 6)
    with pytest.raises(ValueError, match="infinity|inf"):
        strings.predict(np.full((1, 3), np.inf))
    with pytest.raises(ValueError, match="NaN"):
        strings.kneighbors(queries)


def test_labels_of_frames_without_a_pose_may_be_missing():
    X = np.r_[np.zeros((3, 3)), np.ones((3, 3)), np.full((2, 3), np.nan)]
    y = np.array(["down"] * 3 + ["up"] * 3 + [None, None], dtype=object)
    with pytest.warns(UserWarning, match="left out 2 of 8"):
        model = KNNPoseClassifier().fit(X, y)
    assert model.classes_.tolist() == ["down", "up"]


def test_find_outliers_skips_frames_without_a_pose():
    from classify import find_outliers

    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(0, 1, (15, 6)), rng.normal(4, 1, (15, 6))]
    y = np.array(["a"] * 15 + ["b"] * 14 + ["a"])
    with_gaps = np.insert(X, [3, 20], np.nan, axis=0)
    y_gaps = np.insert(y, [3, 20], "a")
    expected = find_outliers(X, y)
    with pytest.warns(UserWarning, match="left out 2"):
        found = find_outliers(with_gaps, y_gaps)
    # Indices move by the NaN rows inserted before them.
    np.testing.assert_array_equal(found, expected + (expected >= 3) + (expected >= 19))
    assert expected.tolist() == [29]


def test_pose_frames_aligns_labels_given_several_ways(two_exercises):
    X, y = pose_frames(two_exercises, labels="label")
    assert len(two_exercises) == 33 * len(X)
    assert X.index.names == ["video", "frame"] and (y.index == X.index).all()
    # The same labels from a Series indexed by (video as str, frame), shuffled.
    keys = pd.MultiIndex.from_arrays(
        [np.asarray(X.index.get_level_values("video")).astype(str), X.index.get_level_values(1)]
    )
    series = pd.Series(y.to_numpy(), index=keys).sample(frac=1.0, random_state=0)
    X2, y2 = pose_frames(two_exercises, labels=series)
    pd.testing.assert_frame_equal(X2, X)
    np.testing.assert_array_equal(y2.to_numpy(), y.to_numpy())
    # Frames without a label are left out of X and y.
    X3, y3 = pose_frames(two_exercises, labels=series.iloc[: len(series) // 2])
    assert len(X3) == len(y3) == len(series) // 2
    np.testing.assert_array_equal(y3.to_numpy(), y.reindex(X3.index).to_numpy())
    # The 99 coordinates of each frame are the bundled set's own.
    landmarks, labels = load_fitness_poses(coordinates="image")
    clips = fitness_pose_groups()
    frame = load_fitness_poses(as_frame=True)["frame"].to_numpy()
    rows = {(c, int(f)): i for i, (c, f) in enumerate(zip(clips, frame, strict=True))}
    order = [rows[(str(v), int(f))] for v, f in X.index]
    np.testing.assert_allclose(pose_landmarks(X), landmarks[order])
    np.testing.assert_array_equal(y.to_numpy(), labels[order])


def test_pose_frames_of_one_named_video_takes_labels_by_frame():
    track = random_track(n_frames=6, batch=1, missing=(1,))
    X, y = pose_frames(track, labels=pd.Series(["b", "a", "b"], index=[4, 0, 2]))
    assert X.index.names == ["video", "frame"]
    assert X.index.get_level_values("frame").tolist() == [0, 2, 4]
    assert y.tolist() == ["a", "b", "b"] and (y.index == X.index).all()
    np.testing.assert_array_equal(pose_landmarks(X), pose_landmarks(track)[[0, 2, 4]])
    with pytest.raises(ValueError, match="more than once"):
        pose_frames(track, labels=pd.Series(["a", "b"], index=[0, 0]))


def test_pose_frames_rejects_labels_it_cannot_align(two_exercises):
    with pytest.raises(ValueError, match="names no column"):
        pose_frames(two_exercises, labels="kind")
    with pytest.raises(ValueError, match="one per frame"):
        pose_frames(two_exercises, labels=np.zeros(3))
    with pytest.raises(ValueError, match=r"\(video, frame\)"):
        pose_frames(two_exercises, labels=pd.Series([1.0], index=[0]))
    mixed = two_exercises.copy()
    mixed.loc[mixed.index[0], "label"] = "neutral"
    with pytest.raises(ValueError, match="one label"):
        pose_frames(mixed, labels="label")


def test_pose_landmarks_of_selected_rows_are_those_rows():
    """A fold of a wide table keeps its frames, never the gaps of the video between them."""
    df = random_track(n_frames=8, batch=2, missing=(3,)).to_dataframe("wide")
    rows = [1, 5, 9, 12]
    np.testing.assert_array_equal(
        pose_landmarks(df.iloc[rows], "world"), pose_landmarks(df, "world")[rows]
    )
    np.testing.assert_array_equal(pose_landmarks(df.iloc[rows]), pose_landmarks(df)[rows])


def test_cross_val_score_by_video_on_a_long_table(two_exercises):
    X, y = pose_frames(two_exercises, labels="label")
    groups = X.index.get_level_values("video")
    n_videos = groups.nunique()
    result = cross_validate(
        pipeline(), X, y, groups=groups, cv=GroupKFold(n_splits=n_videos), return_indices=True
    )
    # Reference: leave each clip out by hand on the bundled arrays.
    landmarks, labels = load_fitness_poses(coordinates="image")
    clips = fitness_pose_groups()
    keep = np.char.startswith(labels, "squat") | np.char.startswith(labels, "pushup")
    for test, score in zip(result["indices"]["test"], result["test_score"], strict=True):
        (video,) = set(groups[test])
        held = keep & (clips == video)
        train = keep & (clips != video)
        reference = pipeline().fit(landmarks[train], labels[train])
        assert score == pytest.approx(np.mean(reference.predict(landmarks[held]) == labels[held]))
    # The long table itself cannot be split like samples: 33 rows per label.
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cross_val_score(pipeline(), two_exercises, y, cv=2)


def test_grid_search_in_a_pipeline_with_frames_without_a_pose(two_exercises):
    X, y = pose_frames(two_exercises, labels="label")
    lost = X.copy()
    pose = [c for c in X.columns if c[0] not in FRAME_COLUMNS]
    lost.loc[X.index[::10], pose] = np.nan  # the person is lost on every 10th frame
    groups = X.index.get_level_values("video")
    grid = {"knnposeclassifier__top_n_by_mean_distance": [1, 10]}
    search = GridSearchCV(pipeline(), grid, cv=GroupKFold(n_splits=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # each fold's fit reports its lost frames
        search.fit(lost, y, groups=groups)
        best = search.best_params_["knnposeclassifier__top_n_by_mean_distance"]
        again = cross_val_score(
            pipeline(top_n_by_mean_distance=best), lost, y, groups=groups, cv=GroupKFold(3)
        )
    assert search.best_score_ == pytest.approx(again.mean())
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])
    predicted = search.predict(lost)
    assert (predicted == NO_POSE).tolist() == lost[pose].isna().all(axis=1).tolist()


def test_exercise_model_predicts_a_clip_where_the_person_is_lost():
    clip = fitness_pose_table(SQUATS)
    track = PoseTrack.from_dataframe(clip)  # frames left out of the labelled set have no pose
    labelled = np.sort(clip["frame"].unique())
    assert len(track.pose_present) > len(labelled)
    predicted = exercise_model("squat").predict(track)
    lost = ~track.pose_present
    assert lost.sum() == len(track.pose_present) - len(labelled)
    assert set(predicted[lost]) == {NO_POSE}
    # The frames with a pose are predicted as they are alone.
    world = pose_landmarks(track, "world")[~lost]
    np.testing.assert_array_equal(predicted[~lost], exercise_model("squat").predict(world))
    labels = clip.groupby("frame")["label"].first().reindex(np.flatnonzero(~lost)).to_numpy()
    assert np.mean(predicted[~lost] == labels) > 0.8


def test_a_table_of_several_people_gives_one_row_per_person_and_frame():
    from tests.helpers.synthetic import people_track, random_track

    two = people_track(random_track(n_frames=4, seed=1), random_track(n_frames=4, seed=2),
                       names=("bob", "al"))
    long = two.to_dataframe()
    long["label"] = np.where(long["individual"] == "bob", "up", "down")
    X, y = pose_frames(long, labels="label")
    assert list(X.index.names) == ["video", "individual", "frame"]
    assert len(X) == 8  # frame 2 of each person has no pose: a NaN row, labelled
    assert X.loc[("0", "al", 2), "nose"].isna().all() and X.loc[("0", "al", 1), ("nose", "x")] == \
        two.landmarks[1, 1, 0, 0]
    assert (y.xs("bob", level="individual") == "up").all()
    assert (y.xs("al", level="individual") == "down").all()
    # A Series by (individual, frame): the one video need not be named.
    labels = pd.Series(["a"] * 4 + ["b"] * 4, index=pd.MultiIndex.from_product(
        [["bob", "al"], range(4)], names=["individual", "frame"]))
    _, y2 = pose_frames(long, labels=labels)
    assert y2.xs(("al", 3), level=["individual", "frame"]).item() == "b"
    assert y2.xs(("bob", 0), level=["individual", "frame"]).item() == "a"
