"""Pose embeddings: MediaPipe's full-body embedding of 33 landmarks as a scikit-learn transformer.

The embedding is the ``FullBodyPoseEmbedder`` of MediaPipe's pose classification colab
(``mediapipe/docs/solutions/pose_classification.md``): landmarks are centred on the middle of the
hips, divided by a body size, and described by 23 differences between landmark pairs, each an
``(x, y, z)`` triple. Being made of differences, it ignores where the person stands in the frame;
being divided by the body size, it ignores how large the person is.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from posejax.landmarks import LANDMARK_NAMES, NUM_LANDMARKS
from posejax.tables import parse_table

AXES = ("x", "y", "z")

_INDEX = {name: i for i, name in enumerate(LANDMARK_NAMES)}
# Landmark pairs of the colab's embedding, grouped and ordered as there. "hips" and "shoulders"
# stand for the midpoint of the left and right landmark. The colab lists hip -> wrist under both
# "four joints" and "five joints"; the pair is kept twice so that distances match the colab's
# (it weighs that pair double in every mean distance).
EMBEDDING_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("one_joint", "hips", "shoulders"),
    ("one_joint", "left_shoulder", "left_elbow"),
    ("one_joint", "right_shoulder", "right_elbow"),
    ("one_joint", "left_elbow", "left_wrist"),
    ("one_joint", "right_elbow", "right_wrist"),
    ("one_joint", "left_hip", "left_knee"),
    ("one_joint", "right_hip", "right_knee"),
    ("one_joint", "left_knee", "left_ankle"),
    ("one_joint", "right_knee", "right_ankle"),
    ("two_joint", "left_shoulder", "left_wrist"),
    ("two_joint", "right_shoulder", "right_wrist"),
    ("two_joint", "left_hip", "left_ankle"),
    ("two_joint", "right_hip", "right_ankle"),
    ("four_joint", "left_hip", "left_wrist"),
    ("four_joint", "right_hip", "right_wrist"),
    ("five_joint", "left_shoulder", "left_ankle"),
    ("five_joint", "right_shoulder", "right_ankle"),
    ("five_joint", "left_hip", "left_wrist"),
    ("five_joint", "right_hip", "right_wrist"),
    ("cross_body", "left_elbow", "right_elbow"),
    ("cross_body", "left_knee", "right_knee"),
    ("cross_body", "left_wrist", "right_wrist"),
    ("cross_body", "left_ankle", "right_ankle"),
)
NUM_PAIRS = len(EMBEDDING_PAIRS)


def _endpoint_weights(name: str) -> np.ndarray:
    weights = np.zeros(NUM_LANDMARKS)
    if name in ("hips", "shoulders"):
        part = name[:-1]
        weights[[_INDEX[f"left_{part}"], _INDEX[f"right_{part}"]]] = 0.5
    else:
        weights[_INDEX[name]] = 1.0
    return weights


# Every embedded pair is linear in the landmarks: one (NUM_PAIRS, 33) matrix computes them all.
_PAIR_MATRIX = np.stack(
    [_endpoint_weights(b) - _endpoint_weights(a) for _, a, b in EMBEDDING_PAIRS]
)
_MID_HIP = _endpoint_weights("hips")
_MID_SHOULDER = _endpoint_weights("shoulders")


def normalize_pose(landmarks, torso_size_multiplier: float = 2.5) -> np.ndarray:
    """Centre poses on the middle of the hips and divide them by their body size (times 100).

    The body size is the larger of ``torso_size_multiplier`` times the torso length (mid-hip to
    mid-shoulder) and the largest distance of a landmark from the mid-hip, both measured in the
    ``x, y`` plane only, as in MediaPipe's colab.

    Parameters
    ----------
    landmarks : array_like, (..., 33, 3)
        Coordinates with the same unit on every axis (pixels, or metres for world landmarks).
    torso_size_multiplier : float
        Torso length to body size ratio.

    Returns
    -------
    ndarray, (..., 33, 3)
        NaN for poses whose size is zero or not finite.

    Example
    -------
    >>> pose = np.random.default_rng(0).normal(size=(33, 3))
    >>> np.allclose(normalize_pose(pose), normalize_pose(10 * pose + 3))
    True
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    centre = np.einsum("k,...kc->...c", _MID_HIP, landmarks)
    centred = landmarks - centre[..., None, :]
    torso = np.einsum("k,...kc->...c", _MID_SHOULDER, centred)
    torso_size = np.linalg.norm(torso[..., :2], axis=-1)
    max_distance = np.linalg.norm(centred[..., :2], axis=-1).max(axis=-1)
    size = np.maximum(torso_size * torso_size_multiplier, max_distance)
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.where((size > 0) & np.isfinite(size), size, np.nan)
        return centred / size[..., None, None] * 100.0


def embed_pose(landmarks, torso_size_multiplier: float = 2.5) -> np.ndarray:
    """MediaPipe's full-body pose embedding of landmark arrays.

    Parameters
    ----------
    landmarks : array_like, (..., 33, 3)
        Coordinates with the same unit on every axis. For image landmarks that means pixels:
        ``(x * width, y * height, z * width)``.
    torso_size_multiplier : float
        See :func:`normalize_pose`.

    Returns
    -------
    ndarray, (..., 23, 3)
        The difference ``to - from`` of every pair in :data:`EMBEDDING_PAIRS`.

    Example
    -------
    >>> embed_pose(np.random.default_rng(0).normal(size=(4, 33, 3))).shape
    (4, 23, 3)
    """
    normalized = normalize_pose(landmarks, torso_size_multiplier)
    return np.einsum("pk,...kc->...pc", _PAIR_MATRIX, normalized)


def feature_names(prefix: str = "") -> np.ndarray:
    """Names of the flattened embedding: ``"<group>:<from>-><to>:<axis>"``, 69 of them."""
    return np.array(
        [f"{prefix}{group}:{a}->{b}:{axis}" for group, a, b in EMBEDDING_PAIRS for axis in AXES],
        dtype=object,
    )


COORDINATES = ("image", "world")


def _is_track(data) -> bool:
    return all(hasattr(data, a) for a in ("landmarks", "world_landmarks", "image_sizes"))


def pose_landmarks(data, coordinates: str = "image") -> np.ndarray:
    """Landmarks ``(n, 33, 3)`` of a PoseTrack, a posejax DataFrame or an array.

    Parameters
    ----------
    data : PoseTrack, pandas.DataFrame or array_like
        A :class:`posejax.PoseTrack` (frames of a batch are stacked; a multi-person track gives
        one row per frame and person, frame by frame), a posejax DataFrame (long
        or wide layout, read by :func:`posejax.tables.parse_table`: one row per frame of the
        table, in the order of :meth:`~posejax.tables.PoseTable.index`, so a table with some
        rows selected gives those frames only), or an array ``(n, 33, >=3)`` or ``(n, 99)``
        taken as is.
    coordinates : {"image", "world"}
        For tracks and DataFrames: ``"image"`` gives pixels ``(x * width, y * height,
        z * width)``, the units of MediaPipe's colab; ``"world"`` gives the world landmarks in
        metres. Ignored for arrays.

    Returns
    -------
    ndarray, float64, (n, 33, 3)
        NaN rows for frames without a pose.

    Example
    -------
    >>> pose_landmarks(np.zeros((2, 99))).shape
    (2, 33, 3)
    """
    if coordinates not in COORDINATES:
        raise ValueError(f"coordinates must be one of {COORDINATES}, got {coordinates!r}")
    if hasattr(data, "tocsr") or type(data).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "sparse input is not supported: pose landmarks are dense arrays (n, 33, 3) or "
            "(n, 99); convert with .toarray() first"
        )
    if is_pose_frame(data):
        return _table_landmarks(data, coordinates)
    if _is_track(data):
        present = np.asarray(data.pose_present, dtype=bool).reshape(-1)
        if coordinates == "world":
            points = np.asarray(data.world_landmarks, dtype=np.float64)[..., :3]
        else:
            height_width = np.asarray(data.image_sizes, dtype=np.float64).reshape(-1, 2)
            # Several people share their frame's size: rows are (frame, person) pairs.
            height_width = np.repeat(height_width, getattr(data, "n_individuals", 1), axis=0)
            scale = height_width[:, [1, 0, 1]]
            points = np.asarray(data.landmarks, dtype=np.float64)[..., :3].reshape(-1, 33, 3)
            points = points * scale[:, None, :]
        points = points.reshape(-1, NUM_LANDMARKS, 3).copy()
        points[~present] = np.nan
        return points
    array = np.asarray(data)
    if array.dtype == object:
        array = array.astype(np.float64)
    if array.ndim == 3 and array.shape[1] == NUM_LANDMARKS and array.shape[2] >= 3:
        return array[..., :3].astype(np.float64)
    if array.ndim == 2 and array.shape[1] == NUM_LANDMARKS * 3:
        return array.reshape(len(array), NUM_LANDMARKS, 3).astype(np.float64)
    raise ValueError(
        "pose landmarks must be an array (n, 33, 3) or (n, 99), a PoseTrack or a posejax "
        f"DataFrame; got an array of shape {array.shape}"
    )


def _table_landmarks(df, coordinates: str) -> np.ndarray:
    """Landmarks of every frame of a pose table, like those of a track (NaN without a pose)."""
    table = parse_table(df)
    if coordinates == "world":
        points = table.world_points()
    else:
        points = np.stack([table.coord(c).astype(np.float64) for c in AXES], axis=-1)
        if table.units == "normalized":
            height_width = table.image_sizes()
            points = points * height_width[:, None, [1, 0, 1]]
    # A track has a pose where any x is finite (posejax.tables.track_from_dataframe); the same
    # rule here gives a table and its track the same rows of NaN.
    present = np.isfinite(table.coord("x").astype(np.float64)).any(axis=1)
    points[~present] = np.nan
    return points


def is_pose_frame(data) -> bool:
    """Whether ``data`` is a posejax DataFrame (long or wide layout)."""
    columns = getattr(data, "columns", None)
    if columns is None or not hasattr(data, "attrs"):
        return False
    return getattr(columns, "nlevels", 1) > 1 or "landmark" in columns


class PoseEmbedder(TransformerMixin, BaseEstimator):
    """MediaPipe's full-body pose embedding as a scikit-learn transformer.

    Poses are centred on the middle of the hips, scaled by
    ``max(torso size * torso_size_multiplier, largest distance from the centre)`` and turned into
    23 landmark differences (one-, two-, four- and five-joint limbs and cross-body pairs), each
    an ``(x, y, z)`` triple: 69 features, laid out pair by pair as ``x, y, z``, which is the
    layout :class:`~classify.KNNPoseClassifier` weighs by axis and mirrors.

    Parameters
    ----------
    torso_size_multiplier : float, default 2.5
        Torso length to body size ratio.
    coordinates : {"image", "world"}, default "image"
        Which landmarks to embed from a PoseTrack or posejax DataFrame: image landmarks in
        pixels (MediaPipe's colab) or world landmarks in metres. Arrays are embedded as given.

    Attributes
    ----------
    n_features_in_ : int
        99 when fitted on arrays (33 landmarks x 3).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> PoseEmbedder().fit_transform(rng.normal(size=(5, 33, 3))).shape
    (5, 69)
    """

    def __init__(self, torso_size_multiplier=2.5, coordinates="image"):
        self.torso_size_multiplier = torso_size_multiplier
        self.coordinates = coordinates

    def _landmarks(self, X, reset: bool) -> np.ndarray:
        landmarks = pose_landmarks(X, self.coordinates)
        flat = landmarks.reshape(len(landmarks), -1)
        # validate_data records n_features_in_ and rejects infinities; NaN rows are frames
        # without a pose and embed to NaN.
        validate_data(self, flat, reset=reset, ensure_all_finite="allow-nan", ensure_min_samples=1)
        return landmarks

    def fit(self, X, y=None):
        """Check the input; the embedding has nothing to learn.

        Parameters
        ----------
        X : array_like (n, 33, 3) or (n, 99), PoseTrack or posejax DataFrame
        y : ignored
        """
        if not np.isscalar(self.torso_size_multiplier) or self.torso_size_multiplier <= 0:
            raise ValueError(
                f"torso_size_multiplier must be a positive number, got {self.torso_size_multiplier}"
            )
        self._landmarks(X, reset=True)
        return self

    def transform(self, X):
        """Embed poses.

        Parameters
        ----------
        X : array_like (n, 33, 3) or (n, 99), PoseTrack or posejax DataFrame

        Returns
        -------
        ndarray, (n, 69)
            NaN rows for frames without a pose.
        """
        check_is_fitted(self)
        landmarks = self._landmarks(X, reset=False)
        return embed_pose(landmarks, self.torso_size_multiplier).reshape(len(landmarks), -1)

    def get_feature_names_out(self, input_features=None):
        """``"<group>:<from>-><to>:<axis>"`` for each of the 69 features."""
        check_is_fitted(self)
        return feature_names()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        return tags
