"""Repetition counting: smoothed per-frame class probabilities and a counter with hysteresis.

Both pieces follow MediaPipe's pose classification colab (``EMADictSmoothing`` and
``RepetitionCounter``), on probabilities in [0, 1] rather than the colab's vote counts out of 10
(so its thresholds 6 and 4 become 0.6 and 0.4). Each works frame by frame (``update``) for a live
stream and on a whole sequence at once, with the same results.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class EMASmoothing:
    """Exponentially weighted mean of the last ``window_size`` probability vectors.

    The smoothed value at frame ``t`` is ``sum_i w_i p[t - i] / sum_i w_i`` over
    ``i = 0 .. min(t, window_size - 1)`` with ``w_i = (1 - alpha) ** i``. A frame without a pose
    (NaN probabilities, or ``None`` when streaming) enters the window as zeros, as in the colab,
    so that probabilities decay while the person is lost.

    Parameters
    ----------
    window_size : int, default 10
        Number of frames averaged.
    alpha : float, default 0.2
        Weight decay per frame of age, in (0, 1].

    Example
    -------
    >>> smoother = EMASmoothing(window_size=3, alpha=0.5)
    >>> smoother.update([1.0, 0.0])
    array([1., 0.])
    >>> smoother.update([0.0, 1.0]).round(3)
    array([0.333, 0.667])
    >>> smoother.smooth([[1.0, 0.0], [0.0, 1.0]]).round(3)
    array([[1.   , 0.   ],
           [0.333, 0.667]])
    """

    def __init__(self, window_size: int = 10, alpha: float = 0.2):
        if not isinstance(window_size, int | np.integer) or window_size < 1:
            raise ValueError(f"window_size must be a positive integer, got {window_size!r}")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        self.window_size = int(window_size)
        self.alpha = float(alpha)
        self.reset()

    @classmethod
    def for_fps(
        cls, fps: float, window_size: int = 10, alpha: float = 0.2, reference_fps: float = 30.0
    ) -> EMASmoothing:
        """Smoothing over the same time span at ``fps`` as ``(window_size, alpha)`` at 30 fps.

        The colab's defaults assume about 30 frames per second; at 10 fps a 10-frame window
        would last a whole second and flatten a two-frame bottom of a push-up. The window keeps
        its duration (``round(window_size * fps / reference_fps)`` frames, at least 1) and the
        weights their decay per second (``1 - alpha`` per reference frame).

        Example
        -------
        >>> s = EMASmoothing.for_fps(10)
        >>> s.window_size, round(s.alpha, 3)
        (3, 0.488)
        """
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        frames = max(1, round(window_size * fps / reference_fps))
        return cls(frames, float(-np.expm1(reference_fps / fps * np.log1p(-alpha))))

    @property
    def _weights(self) -> np.ndarray:
        return (1.0 - self.alpha) ** np.arange(self.window_size)

    def reset(self) -> None:
        """Forget the frames seen so far."""
        self._window: list[np.ndarray] = []

    def update(self, probabilities) -> np.ndarray:
        """Add one frame and return its smoothed probabilities.

        Parameters
        ----------
        probabilities : array_like (n_classes,), or None for a frame without a pose

        Returns
        -------
        ndarray, (n_classes,)
        """
        if probabilities is None:
            if not self._window:
                raise ValueError("the first frame given to EMASmoothing.update must have a pose")
            frame = np.zeros_like(self._window[0])
        else:
            frame = np.nan_to_num(np.asarray(probabilities, dtype=np.float64), nan=0.0)
            if frame.ndim != 1:
                raise ValueError(f"expected one probability vector, got shape {frame.shape}")
            if self._window and frame.shape != self._window[0].shape:
                raise ValueError(
                    f"got {frame.shape[0]} probabilities after {self._window[0].shape[0]}"
                )
        self._window = [frame, *self._window[: self.window_size - 1]]
        weights = self._weights[: len(self._window)]
        return np.tensordot(weights, np.stack(self._window), axes=1) / weights.sum()

    def smooth(self, probabilities) -> np.ndarray:
        """Smooth a whole sequence (independent of the streaming state).

        Parameters
        ----------
        probabilities : array_like, (n_frames, n_classes) or (n_frames,)
            NaN rows are frames without a pose.

        Returns
        -------
        ndarray, same shape
        """
        values = np.asarray(probabilities, dtype=np.float64)
        flat = values.reshape(len(values), -1)
        frames = np.nan_to_num(flat, nan=0.0)
        weights = self._weights
        top = np.zeros_like(frames)
        bottom = np.zeros((len(frames), 1))
        for age, weight in enumerate(weights):
            top[age:] += weight * frames[: len(frames) - age]
            bottom[age:] += weight
        return (top / bottom).reshape(values.shape)


class RepetitionCounter:
    """Count repetitions of a pose class with hysteresis.

    The person enters the pose when its (smoothed) probability exceeds ``enter_threshold`` and
    leaves it when the probability falls below ``exit_threshold``; each exit counts one
    repetition. The gap between the thresholds keeps noise around one threshold from counting.
    Frames without a pose (``None`` or NaN) leave the state unchanged.

    Parameters
    ----------
    class_name : str
        The class whose exits are counted (the bottom position, e.g. ``"squat_down"``).
    enter_threshold, exit_threshold : float, default 0.6 and 0.4
        Probabilities in [0, 1] with ``exit_threshold <= enter_threshold``.

    Attributes
    ----------
    count : int
        Repetitions so far.
    in_pose : bool
        Whether the person is in the pose now.

    Example
    -------
    >>> counter = RepetitionCounter("squat_down")
    >>> [counter.update(p) for p in [0.1, 0.7, 0.5, 0.3, 0.9, 0.2]]
    [0, 0, 0, 1, 1, 2]
    >>> RepetitionCounter("squat_down").count_sequence([0.1, 0.7, 0.5, 0.3]).tolist()
    [0, 0, 0, 1]
    """

    def __init__(self, class_name, enter_threshold: float = 0.6, exit_threshold: float = 0.4):
        if not (0.0 <= exit_threshold <= enter_threshold <= 1.0):
            raise ValueError(
                "thresholds must satisfy 0 <= exit_threshold <= enter_threshold <= 1, got "
                f"enter={enter_threshold!r}, exit={exit_threshold!r}"
            )
        self.class_name = class_name
        self.enter_threshold = float(enter_threshold)
        self.exit_threshold = float(exit_threshold)
        self.reset()

    def reset(self) -> None:
        """Start counting from zero, outside the pose."""
        self.count = 0
        self.in_pose = False

    def update(self, confidence) -> int:
        """Feed one frame and return the count so far.

        Parameters
        ----------
        confidence : float, or mapping of class name to probability, or None
            Probability of ``class_name`` on this frame (a mapping without it means 0);
            ``None`` or NaN for a frame without a pose.

        Returns
        -------
        int
        """
        if isinstance(confidence, Mapping):
            confidence = confidence.get(self.class_name, 0.0)
        if confidence is None or np.isnan(confidence):
            return self.count
        if not self.in_pose:
            self.in_pose = bool(confidence > self.enter_threshold)
        elif confidence < self.exit_threshold:
            self.count += 1
            self.in_pose = False
        return self.count

    def count_sequence(self, confidences) -> np.ndarray:
        """Running count over a whole sequence, from a fresh state (the streaming state is kept).

        Parameters
        ----------
        confidences : array_like, (n_frames,)
            Probability of ``class_name`` per frame; NaN for frames without a pose.

        Returns
        -------
        ndarray, int, (n_frames,)
        """
        values = np.asarray(confidences, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"confidences must be one value per frame, got shape {values.shape}")
        fresh = RepetitionCounter(self.class_name, self.enter_threshold, self.exit_threshold)
        return np.array([fresh.update(value) for value in values], dtype=np.int64)


def count_repetitions(
    track_or_df,
    model,
    class_name,
    *,
    enter_threshold: float = 0.6,
    exit_threshold: float = 0.4,
    window_size: int | None = None,
    alpha: float | None = None,
    coordinates: str | None = None,
):
    """Classify every frame, smooth the probabilities and count repetitions of one class.

    Parameters
    ----------
    track_or_df : posejax.PoseTrack (one video) or posejax DataFrame (long or wide layout)
        The poses to count on.
    model : fitted classifier with ``predict_proba`` and ``classes_``
        Takes landmarks ``(n, 33, 3)``, e.g. :func:`classify.exercise_model`'s pipeline.
    class_name : str
        The class whose exits count as repetitions (the bottom position); one of
        ``model.classes_``.
    enter_threshold, exit_threshold : float
        See :class:`RepetitionCounter`.
    window_size, alpha : optional
        Smoothing (see :class:`EMASmoothing`); by default the colab's 10 frames and 0.2 at
        30 fps, rescaled to the video's frame rate by :meth:`EMASmoothing.for_fps`.
    coordinates : {"image", "world"}, optional
        Which landmarks the model takes; by default those of the :class:`PoseEmbedder` in the
        model's pipeline, else ``"image"`` (pixels).

    Returns
    -------
    frame : pandas.DataFrame
        One row per frame: ``frame``, ``time``, ``pose_present``, ``proba_<class>`` and
        ``smoothed_<class>`` for every class (NaN without a pose), ``in_pose`` and ``count``.
    total : int
        Repetitions in the whole sequence.

    Example
    -------
    >>> from classify import exercise_model
    >>> track = posejax.track("squats.mp4")  # doctest: +SKIP
    >>> model = exercise_model("squat")
    >>> table, total = count_repetitions(track, model, "squat_down")  # doctest: +SKIP
    """
    import pandas as pd

    from classify.embed import _is_pose_frame, pose_landmarks

    classes = [str(c) for c in model.classes_]
    if str(class_name) not in classes:
        raise ValueError(f"class {class_name!r} is not one of the model's classes {classes}")
    track = track_or_df
    if _is_pose_frame(track):
        from posejax import PoseTrack

        track = PoseTrack.from_dataframe(track)
    if not hasattr(track, "pose_present"):
        raise TypeError(f"expected a PoseTrack or a posejax DataFrame, got {type(track).__name__}")
    if track.is_batch:
        raise ValueError("count_repetitions takes one video; pass track.video(i) for a batch")
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
    column = classes.index(str(class_name))
    counter = RepetitionCounter(class_name, enter_threshold, exit_threshold)
    counts, in_pose = np.zeros(len(proba), dtype=np.int64), np.zeros(len(proba), dtype=bool)
    for t, value in enumerate(smoothed[:, column]):
        counts[t] = counter.update(value)
        in_pose[t] = counter.in_pose
    table = {
        "frame": np.arange(len(proba)),
        "time": np.asarray(track.timestamps, dtype=np.float64),
        "pose_present": present,
    }
    table |= {f"proba_{c}": proba[:, i] for i, c in enumerate(classes)}
    table |= {f"smoothed_{c}": smoothed[:, i] for i, c in enumerate(classes)}
    table |= {"in_pose": in_pose, "count": counts}
    return pd.DataFrame(table), int(counter.count)


def _model_coordinates(model) -> str:
    from classify.embed import PoseEmbedder

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
