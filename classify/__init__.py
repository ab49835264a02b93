"""Pose classification on posejax landmarks: embeddings, a k-NN classifier, repetition counting.

The pieces of MediaPipe's pose classification colab as scikit-learn estimators and small classes:

* :class:`PoseEmbedder`: the full-body embedding of 33 landmarks (a transformer);
* :class:`KNNPoseClassifier`: the two-stage k-NN with mirror matching; :func:`find_outliers`;
  frames without a pose are left out of ``fit`` and predicted :data:`NO_POSE`;
* :func:`pose_frames`: a long or wide table (or a track) as one row per frame with its labels,
  the rows ``cross_val_score``, ``GridSearchCV`` and ``Pipeline`` split;
* :func:`count_repetitions`: repetitions by full cycles (rest pose, turning pose, back) with a
  per-repetition table (:class:`Repetitions`), from a trained model (:class:`RepetitionCounter`
  on :class:`EMASmoothing`-smoothed probabilities) or, without one, from whatever movement the
  person repeats (:func:`count_repeated_movement`);
* :func:`joint_angles`, :func:`clean_signal`: the joint-angle signals repetitions are measured on;
* :func:`exercise_model`: bundled models (push-up, squat, leg raise) trained on
  :func:`classify.datasets.load_fitness_poses` with synthetic camera views.

Example
-------
>>> import posejax, classify
>>> track = posejax.track("squats.mp4")  # doctest: +SKIP
>>> classify.count_repetitions(track, exercise="squat").reps  # doctest: +SKIP
>>> classify.count_repetitions(track).summary()  # any exercise  # doctest: +SKIP
"""

from classify.angles import clean_signal, joint_angles
from classify.counters import Cycle, CycleCounter, EMASmoothing, RepetitionCounter
from classify.datasets import fitness_pose_groups, fitness_pose_table, load_fitness_poses
from classify.embed import PoseEmbedder, embed_pose, normalize_pose, pose_landmarks
from classify.exercises import (
    EXERCISES,
    Exercise,
    exercise_model,
    fit_exercise_model,
    get_exercise,
    leave_one_clip_out,
)
from classify.frames import pose_frames
from classify.knn import NO_POSE, KNNPoseClassifier, find_outliers
from classify.periodic import PeriodicSegment, count_repeated_movement, find_periodic_segments
from classify.repetitions import Repetitions, repetition_table
from classify.reps import count_repetitions
from classify.views import rotate_about_vertical, yaw_views

__all__ = [
    "Cycle",
    "CycleCounter",
    "EMASmoothing",
    "EXERCISES",
    "Exercise",
    "KNNPoseClassifier",
    "NO_POSE",
    "PeriodicSegment",
    "PoseEmbedder",
    "RepetitionCounter",
    "Repetitions",
    "clean_signal",
    "count_repeated_movement",
    "count_repetitions",
    "embed_pose",
    "exercise_model",
    "find_outliers",
    "find_periodic_segments",
    "fit_exercise_model",
    "fitness_pose_groups",
    "fitness_pose_table",
    "get_exercise",
    "joint_angles",
    "leave_one_clip_out",
    "load_fitness_poses",
    "normalize_pose",
    "pose_frames",
    "pose_landmarks",
    "repetition_table",
    "rotate_about_vertical",
    "yaw_views",
]
