"""MediaPipe's two-stage k-nearest-neighbour pose classifier as a vectorized scikit-learn estimator.

For every query the classifier of MediaPipe's pose classification colab

1. keeps the ``top_n_by_max_distance`` training samples nearest by the largest weighted
   per-coordinate difference (which drops samples with even one joint far off), then
2. keeps the ``top_n_by_mean_distance`` of those nearest by the mean weighted difference, and
3. lets them vote.

Both distances compare the training sample with the query and with the query's left-right mirror
(x coordinates negated) and take the smaller, so that a pose filmed facing left matches one
filmed facing right.

Rows with a NaN are frames without a pose (:class:`~classify.PoseEmbedder` gives NaN rows for
them): :meth:`KNNPoseClassifier.fit` leaves them out with a warning that says how many, and
:meth:`~KNNPoseClassifier.predict` labels them :data:`NO_POSE`, so that a video in which the
person is lost for a few frames never stops a pipeline.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

#: What :meth:`KNNPoseClassifier.predict` says for a frame without a pose (a row with a NaN).
NO_POSE = "no_pose"

# Queries are compared with all training samples in blocks of at most this many
# (query, sample, feature) differences, which bounds memory at about 64 MB of float64.
_BLOCK_ELEMENTS = 8_000_000


class KNNPoseClassifier(ClassifierMixin, BaseEstimator):
    """Two-stage k-NN on pose embeddings, as in MediaPipe's pose classification colab.

    Features are read as consecutive groups of ``len(axes_weights)`` coordinates (``x, y, z``
    triples for :class:`~classify.PoseEmbedder` output); coordinate ``j`` of a group is weighted
    by ``axes_weights[j]``, and the mirror of a sample negates the first coordinate of every
    group.

    Parameters
    ----------
    top_n_by_max_distance : int, default 30
        Samples kept by the first stage (largest weighted coordinate difference).
    top_n_by_mean_distance : int, default 10
        Samples kept by the second stage (mean weighted coordinate difference); they vote.
    axes_weights : tuple of float, default (1.0, 1.0, 0.2)
        Weight of each coordinate of a group; the default trusts depth (z) less.
    mirror : bool, default True
        Also compare with the left-right mirror of each query and keep the smaller distance.
    no_pose_label : default :data:`NO_POSE` (``"no_pose"``)
        What :meth:`predict` returns for rows with a NaN (frames without a pose); choose one of
        the type of your classes (``-1`` for integer classes, say) to keep the output's dtype.

    Attributes
    ----------
    classes_ : ndarray
        Class labels, sorted.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Notes
    -----
    ``predict_proba`` is the share of the voting samples in each class:
    ``votes / top_n_by_mean_distance``, or over fewer voters when the training set is smaller
    than that; NaN for rows with a NaN. Ties in distance go to the training sample seen first,
    as in the colab's stable sort, so every query is classified independently of the others in
    its batch.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (20, 6)), rng.normal(5, 1, (20, 6))]
    >>> y = np.r_[["down"] * 20, ["up"] * 20]
    >>> model = KNNPoseClassifier().fit(X, y)
    >>> model.predict(X[:1] + 0.1)
    array(['down'], dtype='<U4')
    """

    def __init__(
        self,
        top_n_by_max_distance=30,
        top_n_by_mean_distance=10,
        axes_weights=(1.0, 1.0, 0.2),
        mirror=True,
        no_pose_label=NO_POSE,
    ):
        self.top_n_by_max_distance = top_n_by_max_distance
        self.top_n_by_mean_distance = top_n_by_mean_distance
        self.axes_weights = axes_weights
        self.mirror = mirror
        self.no_pose_label = no_pose_label

    def _check_params(self):
        for name in ("top_n_by_max_distance", "top_n_by_mean_distance"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        weights = np.asarray(self.axes_weights, dtype=float)
        if weights.ndim != 1 or len(weights) == 0 or (weights < 0).any():
            raise ValueError(
                f"axes_weights must be a non-empty sequence of non-negative numbers, got "
                f"{self.axes_weights!r}"
            )
        return weights

    def fit(self, X, y):
        """Store the training embeddings; rows with a NaN (frames without a pose) are left out.

        Parameters
        ----------
        X : array_like, (n_samples, n_features)
            Pose embeddings; NaN rows for frames without a pose.
        y : array_like, (n_samples,)
            Class labels. Those of rows left out are not read (they may be missing).

        Warns
        -----
        UserWarning
            When rows are left out, with their number.
        """
        self._check_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        posed = np.isfinite(X).all(axis=1)
        if not posed.all():
            dropped = int(np.sum(~posed))
            if not posed.any():
                raise ValueError(
                    f"all {dropped} training samples have NaN features (frames without a pose); "
                    "there is nothing to fit"
                )
            warnings.warn(
                f"{type(self).__name__}.fit left out {dropped} of {len(X)} training samples "
                "with NaN features (frames without a pose)",
                UserWarning,
                stacklevel=2,
            )
            X, y = X[posed], y[posed]
        # Labels are checked after the frames without a pose are gone: those may be unlabelled.
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        check_classification_targets(y)
        self.classes_, self._y_codes = np.unique(y, return_inverse=True)
        if any(c == self.no_pose_label for c in self.classes_.tolist()):
            raise ValueError(
                f"{self.no_pose_label!r} is a class of the training labels, but it is the "
                "no_pose_label that predict gives frames without a pose; label those frames "
                "otherwise or set no_pose_label"
            )
        self._X = X
        return self

    def _feature_weights_and_signs(self):
        weights = np.asarray(self.axes_weights, dtype=float)
        group = np.arange(self.n_features_in_) % len(weights)
        signs = np.where(group == 0, -1.0, 1.0)
        return weights[group], signs

    def kneighbors(self, X):
        """Indices of the voting training samples of each query, nearest first.

        Parameters
        ----------
        X : array_like, (n_queries, n_features)

        Returns
        -------
        ndarray, int, (n_queries, k)
            ``k = min(top_n_by_mean_distance, top_n_by_max_distance, n_training_samples)``.

        Raises
        ------
        ValueError
            For rows with a NaN (frames without a pose have no neighbours).
        """
        check_is_fitted(self)
        self._check_params()
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._kneighbors(X)

    def _kneighbors(self, X: np.ndarray) -> np.ndarray:
        weights, signs = self._feature_weights_and_signs()
        queries = [X * weights]
        if self.mirror:
            queries.append(X * signs * weights)
        train = self._X * weights
        n_train, n_features = train.shape
        k_max = min(self.top_n_by_max_distance, n_train)
        k_mean = min(self.top_n_by_mean_distance, k_max)
        block = max(1, _BLOCK_ELEMENTS // max(1, n_train * n_features))
        result = np.empty((len(X), k_mean), dtype=np.intp)
        for start in range(0, len(X), block):
            stop = start + block
            max_distance = np.min(
                [np.abs(q[start:stop, None, :] - train[None]).max(axis=-1) for q in queries],
                axis=0,
            )
            by_max = np.argsort(max_distance, axis=1, kind="stable")[:, :k_max]
            candidates = train[by_max]
            mean_distance = np.min(
                [np.abs(q[start:stop, None, :] - candidates).mean(axis=-1) for q in queries],
                axis=0,
            )
            by_mean = np.argsort(mean_distance, axis=1, kind="stable")[:, :k_mean]
            result[start:stop] = np.take_along_axis(by_max, by_mean, axis=1)
        return result

    def _posed_rows(self, X):
        """Validated queries and which of them hold a pose (no NaN)."""
        check_is_fitted(self)
        self._check_params()
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        return X, np.isfinite(X).all(axis=1)

    def predict_proba(self, X):
        """Share of the voting neighbours in each class.

        Parameters
        ----------
        X : array_like, (n_queries, n_features)
            NaN rows for frames without a pose.

        Returns
        -------
        ndarray, (n_queries, n_classes)
            Columns in the order of ``classes_``; rows sum to 1, except rows with a NaN in
            ``X`` (frames without a pose), which are NaN.
        """
        X, posed = self._posed_rows(X)
        proba = np.full((len(X), len(self.classes_)), np.nan)
        if posed.any():
            proba[posed] = self._vote_shares(X[posed])
        return proba

    def _vote_shares(self, X: np.ndarray) -> np.ndarray:
        neighbours = self._kneighbors(X)
        codes = self._y_codes[neighbours]
        votes = np.zeros((len(codes), len(self.classes_)))
        np.add.at(votes, (np.arange(len(codes))[:, None], codes), 1.0)
        return votes / neighbours.shape[1]

    def predict(self, X):
        """Class with the most votes (the first of ``classes_`` on a tie).

        Parameters
        ----------
        X : array_like, (n_queries, n_features)
            NaN rows for frames without a pose.

        Returns
        -------
        ndarray, (n_queries,)
            ``no_pose_label`` (:data:`NO_POSE`, ``"no_pose"``, by default) for rows with a NaN;
            the dtype widens to hold it (strings stay strings; other classes become objects).

        Example
        -------
        >>> X = np.r_[np.zeros((3, 3)), np.ones((3, 3))]
        >>> model = KNNPoseClassifier(top_n_by_mean_distance=3).fit(X, ["down"] * 3 + ["up"] * 3)
        >>> model.predict([[1.0, 1.0, 1.0], [np.nan, np.nan, np.nan]])
        array(['up', 'no_pose'], dtype='<U7')
        """
        X, posed = self._posed_rows(X)
        if posed.all():
            return self.classes_[np.argmax(self._vote_shares(X), axis=1)]
        label = np.asarray(self.no_pose_label).dtype
        both = np.dtype(object)  # a string label among numeric classes, say
        if (label.kind in "US") == (self.classes_.dtype.kind in "US"):
            try:
                both = np.result_type(self.classes_.dtype, label)
            except TypeError:
                pass
        labels = np.full(len(X), self.no_pose_label, dtype=both)
        if posed.any():
            labels[posed] = self.classes_[np.argmax(self._vote_shares(X[posed]), axis=1)]
        return labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Mirror matching makes the classifier blind to the sign of the first coordinate of
        # every group, by design (a pose facing left is the same pose facing right). Data whose
        # classes differ only by that sign, like the standardized blobs of scikit-learn's
        # check_classifiers_train, are then inseparable; without mirror matching the check's
        # accuracy bound applies.
        tags.classifier_tags.poor_score = bool(self.mirror)
        tags.input_tags.allow_nan = True  # NaN rows are frames without a pose
        return tags


def find_outliers(X, y, estimator=None) -> np.ndarray:
    """Training samples whose own class does not win when they are classified themselves.

    As in MediaPipe's colab, a sample is an outlier when its class is not the single class with
    the most votes (a tie counts as an outlier). Each sample is classified by the model fitted on
    the whole set, itself included.

    Parameters
    ----------
    X : array_like
        Training inputs (embeddings for the default estimator).
    y : array_like, (n_samples,)
        Their labels.
    estimator : classifier with ``predict_proba``, optional
        Defaults to ``KNNPoseClassifier()``; it is cloned and fitted on ``(X, y)``.

    Returns
    -------
    ndarray, int
        Indices of the outliers, ascending; frames without a pose (rows the estimator gives NaN
        probabilities) are never among them.

    Example
    -------
    >>> X = np.r_[np.zeros((12, 3)), np.ones((12, 3))]
    >>> y = np.r_[["a"] * 12, ["b"] * 11, ["a"]]
    >>> find_outliers(X, y)
    array([23])
    """
    from sklearn.base import clone

    model = clone(estimator) if estimator is not None else KNNPoseClassifier()
    y = np.asarray(y)
    model.fit(X, y)
    proba = model.predict_proba(X)
    # Frames without a pose (NaN rows, left out of the fit) are no outliers: they have no class.
    posed = np.flatnonzero(~np.isnan(proba).any(axis=1))
    proba = proba[posed]
    top = proba.max(axis=1, keepdims=True)
    winners = proba == top
    own = np.searchsorted(model.classes_, y[posed])
    own_wins = winners[np.arange(len(posed)), own] & (winners.sum(axis=1) == 1)
    return posed[~own_wins]
