"""Repetition counting on a whole video: :func:`count_repetitions`, the entry point.

With a trained exercise model, the smoothed class probabilities go through the full-cycle
:class:`~classify.counters.RepetitionCounter`; without one,
:func:`classify.periodic.count_repeated_movement` counts whatever the person repeats. Both return
a :class:`~classify.repetitions.Repetitions`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from classify.angles import clean_signal, joint_angles
from classify.counters import (  # noqa: F401  (classify.reps kept these names in 0.1)
    Cycle,
    CycleCounter,
    EMASmoothing,
    RepetitionCounter,
    frames_for,
)
from classify.embed import PoseEmbedder, pose_landmarks
from classify.exercises import EXERCISES, OTHER, Exercise, exercise_model, get_exercise
from classify.periodic import count_repeated_movement
from classify.repetitions import (  # noqa: F401  (likewise)
    REPETITION_COLUMNS,
    Repetitions,
    join_videos,
    one_video,
    repetition_table,
    split_keys,
    videos_of,
)


def count_repetitions(
    track_or_df,
    model=None,
    class_name=None,
    *,
    exercise=None,
    rest_class=None,
    enter_threshold: float = 0.6,
    exit_threshold: float = 0.4,
    window_size: int | None = None,
    alpha: float | None = None,
    coordinates: str | None = None,
    max_gap: float = 2.0,
    min_range_of_motion: float = 30.0,
    min_set: int = 2,
    max_pause: float = 10.0,
) -> Repetitions:
    """Count the repetitions in a video: of a trained exercise, or of whatever is repeated.

    * ``count_repetitions(track, exercise="squat")``: the bundled k-NN model of the exercise
      classifies every frame; the smoothed probabilities go through :class:`RepetitionCounter`,
      which counts full cycles from the exercise's rest pose through its turning pose and back.
    * ``count_repetitions(track, model, "squat_down", rest_class="squat_up")``: the same with
      your own fitted classifier.
    * ``count_repetitions(track)``: no model; :func:`classify.count_repeated_movement` finds the
      dominant periodic joint movement and counts its cycles.

    Parameters
    ----------
    track_or_df : posejax.PoseTrack or posejax DataFrame (long or wide layout)
        The poses to count on. A table of several videos (``pd.concat`` of their tables, or
        ``posejax.read_landmarks(folder)``) or a batch track is counted video by video: each
        count equals that video's alone, ``.counts`` holds them and ``.reps`` and ``.frames``
        gain a ``video`` column. A track of several people (``posejax.track(...,
        num_poses=2)``) or a table with an ``individual`` column counts each person apart the
        same way: ``.counts`` by ``individual`` (by ``(video, individual)`` for several videos),
        an ``individual`` column in ``.reps`` and ``.frames``.
    model : fitted classifier with ``predict_proba`` and ``classes_``, optional
        Takes landmarks ``(n, 33, 3)``, e.g. :func:`classify.exercise_model`'s pipeline.
    class_name : str, optional
        With ``model``: the turning pose, one of ``model.classes_``; by default the exercise's.
    exercise : str or Exercise, optional
        A bundled exercise (``"pushup"``, ``"squat"``, ``"leg_raise"``): its model (unless
        ``model`` is given), its two poses and its main joint angle.
    rest_class : str, optional
        The pose repetitions start and end in; by default the exercise's, or the model's only
        other class besides ``class_name`` and ``"other"``.
    enter_threshold, exit_threshold : float
        See :class:`RepetitionCounter`.
    window_size, alpha : optional
        Smoothing (see :class:`EMASmoothing`); by default the colab's 10 frames and 0.2 at
        30 fps, rescaled to the video's frame rate by :meth:`EMASmoothing.for_fps`.
    coordinates : {"image", "world"}, optional
        Which landmarks the model takes; by default those of the :class:`PoseEmbedder` in the
        model's pipeline, else ``"image"`` (pixels).
    max_gap : float, default 2.0
        Seconds without a pose after which a repetition in progress is dropped.
    min_range_of_motion : float, default 30
        Degrees the exercise's main joint angle must move during a repetition (a classifier
        flickering between the two poses while the joint stays put counts nothing).
    min_set : int, default 2
        Repetitions count in sets of at least this many, one following the other with pauses of
        at most ``max_pause`` seconds: a single movement that looks like the exercise is none.
    max_pause : float, default 10
        Longest pause (s) between two repetitions of one set.

    Returns
    -------
    Repetitions
        ``.count``, ``.reps`` (one row per repetition), ``.frames`` (one row per frame: the class
        probabilities ``proba_<class>`` and ``smoothed_<class>``, the main angle, ``in_pose``,
        ``count``), ``.plot()``. Unpacks as ``frames, count``.

    Example
    -------
    >>> import posejax
    >>> track = posejax.track("squats.mp4")  # doctest: +SKIP
    >>> result = count_repetitions(track, exercise="squat")  # doctest: +SKIP
    >>> result.count, result.reps[["rep", "duration", "angle_at_bottom"]]  # doctest: +SKIP
    >>> count_repetitions(track).summary()  # any exercise, no model  # doctest: +SKIP
    'knee angle (both sides): 5 repetitions'
    >>> two = posejax.track("gym.mp4", num_poses=2)  # doctest: +SKIP
    >>> count_repetitions(two, exercise="squat").counts  # each person apart  # doctest: +SKIP
    individual
    person_0    5
    person_1    3
    Name: count, dtype: int64
    """
    keys, videos = split_keys(track_or_df)
    if keys:  # each video, each person, counted alone, as if it were the only one
        options = dict(
            model=model, class_name=class_name, exercise=exercise, rest_class=rest_class,
            enter_threshold=enter_threshold, exit_threshold=exit_threshold,
            window_size=window_size, alpha=alpha, coordinates=coordinates, max_gap=max_gap,
            min_range_of_motion=min_range_of_motion, min_set=min_set, max_pause=max_pause,
        )  # fmt: skip
        return join_videos([(label, count_repetitions(one, **options)) for label, one in videos],
                           keys=keys)
    track = one_video(videos[0][1])  # one person of a multi-person track with one slot
    if model is None and exercise is None:
        if class_name is not None or rest_class is not None:
            raise ValueError("class_name and rest_class need a model or an exercise")
        return count_repeated_movement(track, max_gap=max_gap)
    spec = None
    if exercise is not None:
        spec = exercise if isinstance(exercise, Exercise) else get_exercise(exercise)
    if model is None:
        model = exercise_model(spec.name)
    classes = [str(c) for c in model.classes_]
    turn_class, rest_class = _cycle_classes(classes, class_name, rest_class, spec)
    landmarks = pose_landmarks(track, coordinates or _model_coordinates(model))
    present = np.isfinite(landmarks).all(axis=(1, 2))
    proba = np.full((len(landmarks), len(classes)), np.nan)
    if present.any():
        proba[present] = model.predict_proba(landmarks[present])
    smoother = EMASmoothing.for_fps(track.fps)
    smoother = EMASmoothing(
        window_size if window_size is not None else smoother.window_size,
        alpha if alpha is not None else smoother.alpha,
    )
    smoothed = _smooth_like_the_colab(proba, present, smoother)
    angle_name = spec.angle if spec is not None else _guess_angle(turn_class)
    angles = joint_angles(pose_landmarks(track, "world"))
    # Both sides count for the range of motion: in a side view the far limb is poorly seen.
    sides = np.stack([clean_signal(angles[f"{side}{angle_name}"], track.fps)
                      for side in ("", "left_", "right_")], axis=1)  # fmt: skip
    angle = sides[:, 0]
    counter = RepetitionCounter(
        turn_class, rest_class, enter_threshold, exit_threshold,
        frames_for(max_gap, track.fps), min_range_of_motion, min_set,
        frames_for(max_pause, track.fps),
    )  # fmt: skip
    counts, in_pose = np.zeros(len(proba), dtype=np.int64), np.zeros(len(proba), dtype=bool)
    for t, row in enumerate(smoothed):
        frame = None if np.isnan(row).any() else dict(zip(classes, row, strict=True))
        counts[t] = counter.update(frame, sides[t])
        in_pose[t] = counter.in_pose
    times = np.asarray(track.timestamps, dtype=np.float64)
    column = f"{angle_name}_angle"
    table = {"frame": np.arange(len(proba)), "time": times, "pose_present": present}
    table |= {f"proba_{c}": proba[:, i] for i, c in enumerate(classes)}
    table |= {f"smoothed_{c}": smoothed[:, i] for i, c in enumerate(classes)}
    table |= {column: angle, "in_pose": in_pose, "count": counts}
    reps = repetition_table(counter.cycles, times, angle, turn_is_low=True)
    what = spec.name if spec is not None else turn_class
    return Repetitions(int(counter.count), reps, pd.DataFrame(table), what, column)


def _cycle_classes(classes, class_name, rest_class, spec):
    """The turning and the rest class of a model, from the arguments or the exercise."""
    if class_name is None:
        if spec is None:
            raise ValueError("give class_name (the turning pose) or an exercise with a model")
        class_name = spec.turn
    class_name = str(class_name)
    if class_name not in classes:
        raise ValueError(f"class {class_name!r} is not one of the model's classes {classes}")
    if rest_class is None and spec is not None and class_name in (spec.up, spec.down):
        rest_class = spec.rest
        if rest_class == class_name:
            raise ValueError(
                f"{class_name!r} is the rest pose of {spec.name}; its turning pose is {spec.turn!r}"
            )
    if rest_class is None:
        candidates = [c for c in classes if c not in (class_name, OTHER)]
        if len(candidates) != 1:
            raise ValueError(
                f"cannot tell the rest pose among {candidates}; pass rest_class= (the pose each "
                "repetition starts and ends in)"
            )
        rest_class = candidates[0]
    rest_class = str(rest_class)
    if rest_class not in classes:
        raise ValueError(f"rest class {rest_class!r} is not one of the model's classes {classes}")
    return class_name, rest_class


def _guess_angle(class_name: str) -> str:
    """The main angle of a custom model's class, from the bundled exercise it names, else knee."""
    for spec in EXERCISES.values():
        if class_name.startswith(spec.name):
            return spec.angle
    return "knee"


def _model_coordinates(model) -> str:
    for _, step in getattr(model, "steps", ()):
        if isinstance(step, PoseEmbedder):
            return step.coordinates
    return "image"


def _smooth_like_the_colab(proba, present, smoother):
    """Smoothed probabilities; frames without a pose enter the window as zeros and read NaN.

    Frames before the first pose are skipped, so that the window starts with a real frame.
    """
    smoothed = np.full_like(proba, np.nan)
    if not present.any():
        return smoothed
    first = int(np.argmax(present))
    smoothed[first:] = smoother.smooth(proba[first:])
    smoothed[~present] = np.nan
    return smoothed
