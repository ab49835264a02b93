"""Pose classification on posejax landmarks: embeddings, a k-NN classifier, repetition counting.

The pieces of MediaPipe's pose classification colab as scikit-learn estimators and small classes:

* :class:`PoseEmbedder`: the full-body embedding of 33 landmarks (a transformer);
* :class:`KNNPoseClassifier`: the two-stage k-NN with mirror matching; :func:`find_outliers`;
* :class:`EMASmoothing`, :class:`RepetitionCounter`, :func:`count_repetitions`;
* :func:`exercise_model`: bundled models (push-up, squat, leg raise) trained on
  :func:`classify.datasets.load_fitness_poses` with synthetic camera views.

Example
-------
>>> import posejax, classify
>>> track = posejax.track("squats.mp4")  # doctest: +SKIP
>>> table, total = classify.count_repetitions(
...     track, classify.exercise_model("squat"), "squat_down")  # doctest: +SKIP
"""

from classify.datasets import fitness_pose_groups, load_fitness_poses
from classify.embed import PoseEmbedder, embed_pose, normalize_pose, pose_landmarks
from classify.exercises import (
    EXERCISES,
    Exercise,
    exercise_model,
    fit_exercise_model,
    get_exercise,
    leave_one_clip_out,
)
from classify.knn import KNNPoseClassifier, find_outliers
from classify.reps import EMASmoothing, RepetitionCounter, count_repetitions
from classify.views import rotate_about_vertical, yaw_views

__all__ = [
    "EMASmoothing",
    "EXERCISES",
    "Exercise",
    "KNNPoseClassifier",
    "PoseEmbedder",
    "RepetitionCounter",
    "count_repetitions",
    "embed_pose",
    "exercise_model",
    "find_outliers",
    "fit_exercise_model",
    "fitness_pose_groups",
    "get_exercise",
    "leave_one_clip_out",
    "load_fitness_poses",
    "normalize_pose",
    "pose_landmarks",
    "rotate_about_vertical",
    "yaw_views",
]
