"""PoseEmbedder: MediaPipe's full-body embedding, its invariances and its input forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from classify import PoseEmbedder, embed_pose, pose_landmarks, yaw_views
from classify.embed import EMBEDDING_PAIRS, feature_names
from posejax.landmarks import LANDMARK_NAMES
from tests.helpers.synthetic import random_track

NAMES = list(LANDMARK_NAMES)


def colab_embedding(landmarks: np.ndarray, torso_size_multiplier: float = 2.5) -> np.ndarray:
    """FullBodyPoseEmbedder of MediaPipe's pose classification colab, one pose at a time."""

    def point(lm, name):
        return lm[NAMES.index(name)]

    def average(lm, a, b):
        return (point(lm, a) + point(lm, b)) * 0.5

    lm = np.array(landmarks, dtype=np.float64)
    centre = average(lm, "left_hip", "right_hip")
    lm = lm - centre
    flat = lm[:, :2]
    torso = np.linalg.norm(
        average(flat, "left_shoulder", "right_shoulder") - average(flat, "left_hip", "right_hip")
    )
    max_dist = np.max(np.linalg.norm(flat - average(flat, "left_hip", "right_hip"), axis=1))
    lm = lm / max(torso * torso_size_multiplier, max_dist) * 100

    def diff(a, b):
        return point(lm, b) - point(lm, a)

    pairs = [
        ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow"),
        ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"),
        ("left_hip", "left_knee"), ("right_hip", "right_knee"),
        ("left_knee", "left_ankle"), ("right_knee", "right_ankle"),
        ("left_shoulder", "left_wrist"), ("right_shoulder", "right_wrist"),
        ("left_hip", "left_ankle"), ("right_hip", "right_ankle"),
        ("left_hip", "left_wrist"), ("right_hip", "right_wrist"),
        ("left_shoulder", "left_ankle"), ("right_shoulder", "right_ankle"),
        ("left_hip", "left_wrist"), ("right_hip", "right_wrist"),
        ("left_elbow", "right_elbow"), ("left_knee", "right_knee"),
        ("left_wrist", "right_wrist"), ("left_ankle", "right_ankle"),
    ]  # fmt: skip
    first = average(lm, "left_shoulder", "right_shoulder") - average(lm, "left_hip", "right_hip")
    return np.array([first] + [diff(a, b) for a, b in pairs])


@pytest.fixture
def poses():
    rng = np.random.default_rng(7)
    return rng.normal(scale=50.0, size=(6, 33, 3)) + np.array([300.0, 200.0, 0.0])


def test_matches_the_colab_embedder(poses):
    expected = np.stack([colab_embedding(p) for p in poses])
    np.testing.assert_allclose(embed_pose(poses), expected, rtol=1e-12, atol=1e-9)
    out = PoseEmbedder().fit_transform(poses)
    np.testing.assert_allclose(out, expected.reshape(len(poses), -1), rtol=1e-12, atol=1e-9)


def test_body_size_is_the_larger_of_torso_and_farthest_landmark():
    # Two landmarks only away from the hips: a long torso makes torso * 2.5 the body size.
    pose = np.zeros((33, 3))
    pose[[11, 12], 1] = -10.0  # shoulders 10 above the hips
    pose[0, 1] = -12.0  # nose, nearer than 25 from the hips
    embedding = embed_pose(pose)
    # hips -> shoulders is 10 / 25 * 100 = 40 units up.
    np.testing.assert_allclose(embedding[0], [0.0, -40.0, 0.0])
    # With a multiplier of 1 the nose, 12 from the hips, is farther than the torso and sets it.
    shoulders_y = PoseEmbedder(torso_size_multiplier=1.0).fit_transform(pose[None])[0, 1]
    np.testing.assert_allclose(shoulders_y, -10.0 / 12.0 * 100.0)


def test_invariant_to_translation_and_scale(poses):
    embedder = PoseEmbedder().fit(poses)
    base = embedder.transform(poses)
    moved = poses * 3.7 + np.array([-40.0, 900.0, 12.0])
    np.testing.assert_allclose(embedder.transform(moved), base, atol=1e-9)


def test_mirror_negates_x_features(poses):
    # A horizontally flipped frame: x -> width - x. The embedding's x components change sign,
    # which is what KNNPoseClassifier's mirror matching undoes.
    flipped = poses * np.array([-1.0, 1.0, 1.0]) + np.array([640.0, 0.0, 0.0])
    signs = np.tile([-1.0, 1.0, 1.0], len(EMBEDDING_PAIRS))
    embedder = PoseEmbedder().fit(poses)
    np.testing.assert_allclose(embedder.transform(flipped), embedder.transform(poses) * signs)


def test_yaw_views_keep_vertical_features(poses):
    views = yaw_views(poses, degrees=(0, 90))
    embedding = embed_pose(views)
    # A turn about the vertical axis keeps heights, so the y features of a turned pose are the
    # original ones times one factor per pose (its body size, measured in x-y, changes).
    ratio = embedding[6:, :, 1] / embedding[:6, :, 1]
    np.testing.assert_allclose(ratio, ratio[:, :1] * np.ones((1, 23)), rtol=1e-9)
    # ... and a quarter turn brings depth to the image plane: turned x = original z.
    np.testing.assert_allclose(
        embedding[6:, :, 0] / ratio[:, :1], embedding[:6, :, 2], rtol=1e-9, atol=1e-9
    )


def test_input_forms_agree(poses):
    embedder = PoseEmbedder().fit(poses)
    flat = poses.reshape(len(poses), -1)
    five = np.concatenate([poses, np.ones((6, 33, 2))], axis=-1)
    np.testing.assert_array_equal(embedder.transform(flat), embedder.transform(poses))
    np.testing.assert_array_equal(embedder.transform(five), embedder.transform(poses))
    np.testing.assert_array_equal(embedder.transform(pd.DataFrame(flat)), embedder.transform(poses))


def test_track_and_dataframes_give_the_same_embedding():
    track = random_track(n_frames=5, missing=(2,))
    image = PoseEmbedder(coordinates="image").fit_transform(track)
    height, width = track.image_size
    expected = embed_pose(track.landmarks[..., :3] * np.array([width, height, width]))
    np.testing.assert_allclose(image, expected.reshape(5, -1), rtol=1e-5)
    assert np.isnan(image[2]).all() and np.isfinite(image[[0, 1, 3, 4]]).all()
    world = PoseEmbedder(coordinates="world").fit_transform(track)
    np.testing.assert_allclose(
        world, embed_pose(track.world_landmarks[..., :3]).reshape(5, -1), rtol=1e-5
    )
    for layout in ("long", "wide"):
        df = track.to_dataframe(layout)
        for coordinates, reference in (("image", image), ("world", world)):
            out = PoseEmbedder(coordinates=coordinates).fit_transform(df)
            np.testing.assert_allclose(out, reference, rtol=1e-5, err_msg=layout)


def test_pose_landmarks_of_a_batch_stack_the_videos():
    track = random_track(n_frames=4, batch=2, missing=())
    assert pose_landmarks(track, "world").shape == (8, 33, 3)


def test_feature_names():
    names = PoseEmbedder().fit(np.zeros((1, 99))).get_feature_names_out()
    assert len(names) == 69 and len(set(names)) == 69
    assert names[0] == "one_joint:hips->shoulders:x"
    assert list(names) == list(feature_names())
    assert "cross_body:left_ankle->right_ankle:z" in names


def test_composes_in_a_pipeline(poses):
    pipeline = make_pipeline(PoseEmbedder(), clone(PoseEmbedder()))
    with pytest.raises(ValueError, match="pose landmarks"):
        pipeline.fit(poses)  # the second embedder gets 69 features, not 99
    assert make_pipeline(PoseEmbedder()).fit_transform(poses).shape == (6, 69)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 32, 3)), "pose landmarks"),
        (np.zeros((4, 98)), "pose landmarks"),
        (np.zeros(99), "pose landmarks"),
    ],
)
def test_rejects_other_shapes(bad, message):
    with pytest.raises(ValueError, match=message):
        PoseEmbedder().fit(bad)


def test_rejects_bad_parameters(poses):
    with pytest.raises(ValueError, match="coordinates"):
        PoseEmbedder(coordinates="pixels").fit(poses)
    with pytest.raises(ValueError, match="torso_size_multiplier"):
        PoseEmbedder(torso_size_multiplier=0).fit(poses)


# scikit-learn's generic checks feed arrays of 1 to 10 features, which are not poses: those
# checks are expected to fail with our ValueError, and are listed here with that reason. The
# remaining checks (parameters, cloning, tags, repr) must pass.
_NOT_POSE_DATA = "the check's data are not 33 x 3 landmarks; PoseEmbedder rejects them"
_EMBEDDER_XFAIL = {
    name: _NOT_POSE_DATA
    for name in (
        "check_array_api_input", "check_complex_data", "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object", "check_estimators_dtypes",
        "check_estimators_empty_data_messages", "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params", "check_estimators_pickle",
        "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample",
        "check_fit2d_predict1d", "check_fit_check_is_fitted", "check_fit_idempotent",
        "check_fit_score_takes_y", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_n_features_in",
        "check_n_features_in_after_fitting", "check_pipeline_consistency",
        "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
        "check_transformer_data_not_an_array", "check_transformer_general",
        "check_transformer_preserve_dtypes",
    )
}  # fmt: skip


@parametrize_with_checks([PoseEmbedder()], expected_failed_checks=lambda estimator: _EMBEDDER_XFAIL)
def test_sklearn_conventions(estimator, check):
    check(estimator)


def test_sklearn_conventions_on_pose_data(poses):
    """The checks listed above, redone on real pose-shaped data."""
    import pickle

    embedder = PoseEmbedder()
    assert embedder.fit(poses) is embedder
    once = embedder.transform(poses)
    np.testing.assert_array_equal(embedder.fit(poses).transform(poses), once)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(embedder)).transform(poses), once)
    np.testing.assert_array_equal(embedder.transform(poses[::-1]), once[::-1])
    np.testing.assert_array_equal(embedder.transform(poses[:2]), once[:2])
    assert embedder.n_features_in_ == 99
    with pytest.raises(ValueError, match="infinity|inf"):
        embedder.transform(np.full((1, 33, 3), np.inf))
    from scipy import sparse

    with pytest.raises(TypeError, match="sparse input is not supported"):
        PoseEmbedder().fit(sparse.csr_matrix(poses.reshape(len(poses), -1)))
    unfitted = PoseEmbedder()
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        unfitted.transform(poses)
    pandas_out = PoseEmbedder().set_output(transform="pandas").fit_transform(poses)
    assert list(pandas_out.columns) == list(feature_names())


def test_pose_landmarks_of_several_people_scale_each_by_its_frame():
    from classify.embed import pose_landmarks
    from tests.helpers.synthetic import HEIGHT, WIDTH, people_track, random_track

    a, b = random_track(n_frames=3, seed=1), random_track(n_frames=3, seed=2)
    two = people_track(a, b)
    points = pose_landmarks(two)
    assert points.shape == (6, 33, 3)
    # Rows are (frame, person) pairs: row 1 is person 1 on frame 0.
    np.testing.assert_allclose(points[1, :, 0], b.landmarks[0, :, 0] * WIDTH)
    np.testing.assert_allclose(points[1, :, 1], b.landmarks[0, :, 1] * HEIGHT)
    np.testing.assert_allclose(points[::2], pose_landmarks(a))
    # A table of the same people holds the same rows, person by person.
    table = pose_landmarks(two.to_dataframe("wide"))
    np.testing.assert_allclose(table[3:], pose_landmarks(b))
