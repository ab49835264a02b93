"""KNNPoseClassifier against a brute-force copy of the colab classifier, and sklearn checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import classify.knn
from classify import KNNPoseClassifier, PoseEmbedder, find_outliers


def colab_classify(train, labels, query, top_n_max=30, top_n_mean=10, axes=(1.0, 1.0, 0.2)):
    """PoseClassifier.__call__ of the colab, sample by sample: class -> number of votes."""
    weights = np.asarray(axes)
    query = query.reshape(-1, 3)
    flipped = query * np.array([-1.0, 1.0, 1.0])
    max_dist_heap = []
    for index, sample in enumerate(train):
        sample = sample.reshape(-1, 3)
        distance = min(
            np.max(np.abs(sample - query) * weights), np.max(np.abs(sample - flipped) * weights)
        )
        max_dist_heap.append([distance, index])
    max_dist_heap = sorted(max_dist_heap, key=lambda x: x[0])[:top_n_max]
    mean_dist_heap = []
    for _, index in max_dist_heap:
        sample = train[index].reshape(-1, 3)
        distance = min(
            np.mean(np.abs(sample - query) * weights), np.mean(np.abs(sample - flipped) * weights)
        )
        mean_dist_heap.append([distance, index])
    mean_dist_heap = sorted(mean_dist_heap, key=lambda x: x[0])[:top_n_mean]
    names = [labels[index] for _, index in mean_dist_heap]
    return {name: names.count(name) for name in set(names)}


def assert_matches_colab(model, train, labels, queries, **colab_params):
    proba = model.predict_proba(queries)
    k = model.kneighbors(queries).shape[1]
    for row, query in zip(proba, queries, strict=True):
        votes = colab_classify(train, labels, query, **colab_params)
        expected = np.array([votes.get(c, 0) for c in model.classes_]) / k
        np.testing.assert_allclose(row, expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_colab_on_random_embeddings(seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=30.0, size=(3, 69))
    labels = rng.integers(0, 3, size=150)
    train = centres[labels] + rng.normal(scale=25.0, size=(150, 69))
    names = np.array(["down", "other", "up"])[labels]
    queries = centres[rng.integers(0, 3, 40)] + rng.normal(scale=25.0, size=(40, 69))
    model = KNNPoseClassifier().fit(train, names)
    assert_matches_colab(model, train, names, queries)


def test_ties_break_like_the_colabs_stable_sort():
    # Small integer coordinates make equal distances common in both stages.
    rng = np.random.default_rng(3)
    train = rng.integers(-2, 3, size=(80, 12)).astype(float)
    names = rng.choice(["a", "b", "c"], size=80)
    queries = rng.integers(-2, 3, size=(30, 12)).astype(float)
    model = KNNPoseClassifier(top_n_by_max_distance=12, top_n_by_mean_distance=5).fit(train, names)
    assert_matches_colab(model, train, names, queries, top_n_max=12, top_n_mean=5)


def test_matches_the_colab_on_embedded_landmarks_with_mirrored_queries():
    rng = np.random.default_rng(4)
    poses = rng.normal(scale=40.0, size=(60, 33, 3))
    names = rng.choice(["pushup_down", "pushup_up"], size=60)
    embedder = PoseEmbedder().fit(poses)
    train = embedder.transform(poses)
    queries = poses[:10] + rng.normal(scale=5.0, size=(10, 33, 3))
    mirrored = queries * np.array([-1.0, 1.0, 1.0])
    model = KNNPoseClassifier().fit(train, names)
    assert_matches_colab(model, train, names, embedder.transform(queries))
    # The colab flips landmarks, we flip embeddings: same votes for a pose and its mirror.
    np.testing.assert_array_equal(
        model.predict_proba(embedder.transform(mirrored)),
        model.predict_proba(embedder.transform(queries)),
    )


def test_without_mirror_matching_a_mirrored_pose_is_different():
    train = np.array([[5.0, 0.0, 0.0], [-5.0, 0.0, 0.0]])
    model = KNNPoseClassifier(top_n_by_mean_distance=1, mirror=False).fit(train, ["r", "l"])
    assert model.predict([[4.0, 0.0, 0.0], [-4.0, 0.0, 0.0]]).tolist() == ["r", "l"]
    mirrored = KNNPoseClassifier(top_n_by_mean_distance=1).fit(train, ["r", "l"])
    # Both training samples are then equally far: the first one wins.
    assert mirrored.predict([[-4.0, 0.0, 0.0]]).tolist() == ["r"]


def test_axes_weights_apply_per_coordinate():
    train = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 10.0], [3.0, 0.0, 0.0]])
    query = np.array([[0.0, 0.0, 9.0]])
    depth_trusted = KNNPoseClassifier(top_n_by_mean_distance=1, axes_weights=(1, 1, 1))
    depth_ignored = KNNPoseClassifier(top_n_by_mean_distance=1, axes_weights=(1, 1, 0))
    assert depth_trusted.fit(train, ["a", "b", "c"]).predict(query).tolist() == ["b"]
    assert depth_ignored.fit(train, ["a", "b", "c"]).predict(query).tolist() == ["a"]


def test_probabilities_and_predictions():
    rng = np.random.default_rng(5)
    train = np.r_[rng.normal(0, 1, (40, 6)), rng.normal(8, 1, (40, 6))]
    names = np.r_[["low"] * 40, ["high"] * 40]
    model = KNNPoseClassifier().fit(train, names)
    proba = model.predict_proba(train)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(proba * 10)) <= set(range(11))  # votes out of 10
    assert model.classes_.tolist() == ["high", "low"]
    assert (model.predict(train) == names).all()


def test_small_training_sets_vote_with_all_samples():
    model = KNNPoseClassifier().fit(np.arange(12.0).reshape(4, 3), ["a", "a", "a", "b"])
    assert model.kneighbors(np.zeros((1, 3))).shape == (1, 4)
    np.testing.assert_allclose(model.predict_proba(np.zeros((1, 3))), [[0.75, 0.25]])


def test_blocking_does_not_change_results(monkeypatch):
    rng = np.random.default_rng(6)
    train, queries = rng.normal(size=(50, 9)), rng.normal(size=(17, 9))
    names = rng.choice(["a", "b"], size=50)
    whole = KNNPoseClassifier().fit(train, names).kneighbors(queries)
    monkeypatch.setattr(classify.knn, "_BLOCK_ELEMENTS", 9 * 50 * 3)  # 3 queries per block
    np.testing.assert_array_equal(KNNPoseClassifier().fit(train, names).kneighbors(queries), whole)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"top_n_by_max_distance": 0}, "top_n_by_max_distance"),
        ({"top_n_by_mean_distance": 2.5}, "top_n_by_mean_distance"),
        ({"axes_weights": (1.0, -1.0, 0.2)}, "axes_weights"),
        ({"axes_weights": ()}, "axes_weights"),
    ],
)
def test_rejects_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        KNNPoseClassifier(**params).fit(np.zeros((3, 3)), ["a", "b", "a"])


def test_find_outliers():
    rng = np.random.default_rng(8)
    train = np.r_[rng.normal(0, 1, (30, 6)), rng.normal(10, 1, (30, 6))]
    names = np.r_[["a"] * 30, ["b"] * 30]
    names[[3, 40]] = ["b", "a"]  # two mislabelled samples deep inside the other cluster
    assert find_outliers(train, names).tolist() == [3, 40]
    # Same definition as the colab: own class not the single winner.
    model = KNNPoseClassifier().fit(train, names)
    proba = model.predict_proba(train)
    own = np.searchsorted(model.classes_, names)
    winners = proba == proba.max(axis=1, keepdims=True)
    expected = np.flatnonzero(~(winners[np.arange(60), own] & (winners.sum(axis=1) == 1)))
    np.testing.assert_array_equal(find_outliers(train, names), expected)


def test_find_outliers_counts_ties_as_outliers():
    train = np.zeros((4, 3))
    outliers = find_outliers(
        train, ["a", "a", "b", "b"], KNNPoseClassifier(top_n_by_mean_distance=4)
    )
    assert outliers.tolist() == [0, 1, 2, 3]


def _expected_failed_checks(estimator):
    if isinstance(estimator.no_pose_label, str):
        # The check puts NaN into X and compares predictions with assert_allclose; the string
        # "no_pose" among the check's integer classes makes an object array it cannot compare.
        # The instance with an integer no_pose_label passes it (-99: the checks use -1 as a
        # class, and a class may not be the no-pose label).
        return {"check_estimators_pickle": "predict gives 'no_pose' among integer classes"}
    return {}


@parametrize_with_checks(
    [KNNPoseClassifier(), KNNPoseClassifier(mirror=False), KNNPoseClassifier(no_pose_label=-99)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_the_poor_score_tag_is_only_claimed_with_mirror_matching():
    assert KNNPoseClassifier().__sklearn_tags__().classifier_tags.poor_score
    assert not KNNPoseClassifier(mirror=False).__sklearn_tags__().classifier_tags.poor_score


def test_the_exercise_model_classifies_each_person_of_a_multi_person_track_per_row():
    from classify.exercises import exercise_model
    from tests.helpers.synthetic import people_track
    from tests.unit.classify.test_reps import PATTERN, squat_track

    model = exercise_model("squat")
    first, second = squat_track(PATTERN), squat_track(PATTERN[::-1])
    alone = [model.predict(first), model.predict(second)]
    two = people_track(first, second)
    by_frame = model.predict(two)  # rows (frame, person), frame by frame
    np.testing.assert_array_equal(by_frame[0::2], alone[0])
    np.testing.assert_array_equal(by_frame[1::2], alone[1])
    by_person = model.predict(two.to_dataframe("wide"))  # rows (individual, frame)
    np.testing.assert_array_equal(by_person, np.concatenate(alone))
    assert set(alone[0]) == {"squat_up", "squat_down"}
