"""Bundled exercise models: one k-NN classifier per exercise, trained on the bundled pose set.

Each model tells three classes apart: the exercise's up position, its down (bottom) position, and
``other`` (every other labelled pose: the other exercises and neutral standing, dancing or yoga
poses). A repetition is a full cycle from the exercise's rest pose through its turning pose and
back (:class:`classify.RepetitionCounter`).

The models embed **world landmarks** and are trained on every pose seen from 24 yaw angles
(:func:`classify.views.yaw_views`), so that a clip filmed from the front, the side or at three
quarters meets training poses seen from the same angle; the classifier's left-right mirror covers
people facing the other way.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from sklearn.pipeline import Pipeline

from classify.datasets import fitness_pose_groups, load_fitness_poses
from classify.embed import PoseEmbedder
from classify.knn import KNNPoseClassifier
from classify.views import DEFAULT_YAW_DEGREES, yaw_views

OTHER = "other"


@dataclasses.dataclass(frozen=True)
class Exercise:
    """An exercise of the bundled set: its two poses, which one it rests in, its main angle.

    Attributes
    ----------
    name : str
    up : str
        Class of the top position.
    down : str
        Class of the bottom position.
    rests_down : bool
        Whether the exercise starts and ends at the bottom (a leg raise starts with the legs on
        the floor) rather than at the top (a squat, a push-up).
    angle : str
        The joint angle whose range of motion tells how deep a repetition went, as named by
        :func:`classify.angles.joint_angles` (``"knee"`` is the mean of both knees).
    """

    name: str
    up: str
    down: str
    rests_down: bool = False
    angle: str = "knee"

    @property
    def classes(self) -> tuple[str, str, str]:
        """The three classes of the exercise's model, sorted like ``classes_``."""
        return tuple(sorted((self.up, self.down, OTHER)))

    @property
    def rest(self) -> str:
        """The class each repetition starts and ends in."""
        return self.down if self.rests_down else self.up

    @property
    def turn(self) -> str:
        """The class at the turning point of a repetition."""
        return self.up if self.rests_down else self.down


EXERCISES: dict[str, Exercise] = {
    "pushup": Exercise("pushup", "pushup_up", "pushup_down", angle="elbow"),
    "squat": Exercise("squat", "squat_up", "squat_down", angle="knee"),
    "leg_raise": Exercise("leg_raise", "leg_raise_up", "leg_raise_down", rests_down=True,
                          angle="hip"),
}  # fmt: skip


def get_exercise(name: str) -> Exercise:
    """The :class:`Exercise` called ``name`` (``-`` and ``_`` alike, case ignored).

    Example
    -------
    >>> get_exercise("leg-raise").down
    'leg_raise_down'
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}; bundled exercises: {sorted(EXERCISES)}")
    return EXERCISES[key]


def exercise_labels(y, exercise) -> np.ndarray:
    """Labels for one exercise's model: its own classes kept, every other class ``"other"``.

    Example
    -------
    >>> exercise_labels(["squat_up", "pushup_down", "neutral"], "squat").tolist()
    ['squat_up', 'other', 'other']
    """
    spec = exercise if isinstance(exercise, Exercise) else get_exercise(exercise)
    labels = np.asarray(y).astype(str)
    return np.where(np.isin(labels, [spec.up, spec.down]), labels, OTHER)


def make_pose_classifier(**knn_params) -> Pipeline:
    """An unfitted pipeline: world-landmark :class:`PoseEmbedder` and :class:`KNNPoseClassifier`.

    Example
    -------
    >>> make_pose_classifier(top_n_by_mean_distance=5).named_steps["knn"].top_n_by_mean_distance
    5
    """
    return Pipeline(
        [("embed", PoseEmbedder(coordinates="world")), ("knn", KNNPoseClassifier(**knn_params))]
    )


def fit_exercise_model(X, y, exercise, *, yaw_degrees=DEFAULT_YAW_DEGREES) -> Pipeline:
    """Fit one exercise's classifier on world landmarks, augmented with yaw views.

    Parameters
    ----------
    X : array_like, (n, 33, 3)
        World landmarks.
    y : array_like, (n,)
        Labels of the bundled set's kind (``squat_up``, ``neutral``, ...).
    exercise : str or Exercise
    yaw_degrees : sequence of float
        Views to train on; ``(0,)`` trains on the filmed views only.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted; takes world landmarks, a PoseTrack or a posejax DataFrame.

    Example
    -------
    >>> X, y = load_fitness_poses()
    >>> model = fit_exercise_model(X, y, "squat", yaw_degrees=(0, 90))
    >>> model.classes_.tolist()
    ['other', 'squat_down', 'squat_up']
    """
    views, labels = yaw_views(X, exercise_labels(y, exercise), yaw_degrees)
    return make_pose_classifier().fit(views, labels)


@functools.cache
def exercise_model(exercise: str) -> Pipeline:
    """The bundled model of one exercise, fitted on the whole bundled set (cached).

    Parameters
    ----------
    exercise : {"pushup", "squat", "leg_raise"}

    Returns
    -------
    sklearn.pipeline.Pipeline
        Classes ``other``, ``<exercise>_down``, ``<exercise>_up``; input world landmarks
        ``(n, 33, 3)``, a PoseTrack or a posejax DataFrame.

    Example
    -------
    >>> model = exercise_model("pushup")
    >>> model.classes_.tolist()
    ['other', 'pushup_down', 'pushup_up']
    """
    spec = get_exercise(exercise)
    X, y = load_fitness_poses(coordinates="world")
    return fit_exercise_model(X, y, spec)


def leave_one_clip_out(exercise, *, yaw_degrees=DEFAULT_YAW_DEGREES):
    """Frame accuracy of an exercise's model on each clip when that clip is left out of training.

    Parameters
    ----------
    exercise : str or Exercise
    yaw_degrees : sequence of float
        Training views (see :func:`fit_exercise_model`).

    Returns
    -------
    pandas.DataFrame
        One row per clip of the bundled set: ``clip``, ``view``, ``n_frames`` (labelled frames),
        ``accuracy`` (share of them predicted as their label, classes merged as in
        :func:`exercise_labels`) and ``exercise_frames`` (how many are the exercise's own
        up/down frames).

    Example
    -------
    >>> table = leave_one_clip_out("squat", yaw_degrees=(0,))
    >>> table.columns.tolist()
    ['clip', 'view', 'n_frames', 'accuracy', 'exercise_frames']
    >>> bool(table["accuracy"].between(0, 1).all())
    True
    """
    import pandas as pd

    spec = exercise if isinstance(exercise, Exercise) else get_exercise(exercise)
    X, y = load_fitness_poses(coordinates="world")
    frame = load_fitness_poses(as_frame=True)
    clips = fitness_pose_groups()
    labels = exercise_labels(y, spec)
    rows = []
    for clip in pd.unique(clips):
        held = clips == clip
        model = fit_exercise_model(X[~held], y[~held], spec, yaw_degrees=yaw_degrees)
        predicted = model.predict(X[held])
        rows.append(
            {
                "clip": clip,
                "view": frame.loc[held, "view"].iloc[0],
                "n_frames": int(held.sum()),
                "accuracy": float(np.mean(predicted == labels[held])),
                "exercise_frames": int(np.sum(labels[held] != OTHER)),
            }
        )
    return pd.DataFrame(rows)
