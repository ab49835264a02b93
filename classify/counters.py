"""Counters that work frame by frame: smoothing of class probabilities and full cycles.

A repetition is one cycle of the exercise: from its rest pose (the top of a squat or push-up, the
floor of a leg raise) through its turning pose and back (:class:`CycleCounter`). MediaPipe's pose
classification colab counted each exit from the bottom pose instead; with an ``other`` class that
counts a repetition every time the classifier flickers to ``other`` at the bottom, so only the
smoothing (``EMADictSmoothing``, here :class:`EMASmoothing`, on probabilities in [0, 1] rather
than votes out of 10) is kept from it. Each works frame by frame (``update``) for a live stream
and on a whole sequence at once, with the same results.
"""

from __future__ import annotations

import dataclasses
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


@dataclasses.dataclass(frozen=True)
class Cycle:
    """One full cycle of a movement: from the rest position to the turning point and back.

    Attributes
    ----------
    start : int
        Last frame at rest before the movement.
    turn : int
        Frame of the turning point (where the evidence for it was strongest).
    end : int
        First frame back at rest.
    """

    start: int
    turn: int
    end: int


class CycleCounter:
    """Count full cycles rest -> turning point -> rest, frame by frame.

    The state changes only when one of the two ends is *reached*; frames in between, or in a
    third position (a class ``other``, a pose between the thresholds), change nothing. So a
    repetition counts when the person, having been at rest, reaches the turning point and comes
    back to rest: passing through other poses, hovering at the turning point or flickering there
    never adds one, and a cycle that misses either end counts nothing.

    Parameters
    ----------
    max_gap : int, optional
        After more than this many consecutive frames without a pose, the counter forgets where
        the person was (a cycle does not span a long loss of the pose); by default never.
    min_range : float, optional
        With a ``value`` fed per frame (a joint angle), a cycle counts only if the value spans
        at least this much between its start and its end: a classifier that flickers between its
        two poses while the joint barely moves counts nothing.
    min_set : int, default 1
        Repetitions come in sets: a cycle counts once ``min_set`` cycles have followed each other
        with pauses of at most ``max_pause`` frames (a one-off movement that happens to look
        like the exercise, such as a yoga leg lift, is no repetition). Until then the cycles of
        a set are held back; they all count when the set is long enough.
    max_pause : int, optional
        Longest pause (frames, from the end of one cycle to the start of the next) within a
        set; by default no limit.

    Attributes
    ----------
    count : int
    cycles : list of Cycle
    state : {"rest", "turn", None}
        The end reached last (None before either, or after a long gap).

    Example
    -------
    >>> counter = CycleCounter()
    >>> for rest, turn in [(True, False), (False, False), (False, True), (True, False)]:
    ...     _ = counter.update(rest, turn)
    >>> counter.count, counter.cycles[0]
    (1, Cycle(start=0, turn=2, end=3))
    """

    def __init__(
        self,
        max_gap: int | None = None,
        min_range: float | None = None,
        min_set: int = 1,
        max_pause: int | None = None,
    ):
        if max_gap is not None and (not isinstance(max_gap, int | np.integer) or max_gap < 0):
            raise ValueError(f"max_gap must be a number of frames >= 0, got {max_gap!r}")
        if min_range is not None and not (np.isfinite(min_range) and min_range >= 0):
            raise ValueError(f"min_range must be a number >= 0, got {min_range!r}")
        if not isinstance(min_set, int | np.integer) or min_set < 1:
            raise ValueError(f"min_set must be a positive integer, got {min_set!r}")
        if max_pause is not None and max_pause < 0:
            raise ValueError(f"max_pause must be a number of frames >= 0, got {max_pause!r}")
        self.max_gap = max_gap
        self.min_range = min_range
        self.min_set = int(min_set)
        self.max_pause = max_pause
        self.reset()

    @property
    def count(self) -> int:
        """Full cycles counted so far."""
        return len(self.cycles)

    def reset(self) -> None:
        """Start from zero, at neither end."""
        self.cycles: list[Cycle] = []
        self.state: str | None = None
        self._frame = -1
        self._gap = 0
        self._last_rest: int | None = None
        self._cycle_start: int | None = None
        self._turn_frame = -1
        self._turn_strength = -np.inf
        self._range = (np.inf, -np.inf)
        self._pending: list[Cycle] = []
        self._set_size = 0
        self._last_end: int | None = None

    def _complete(self, cycle: Cycle) -> None:
        """A full cycle ended: count it, or hold it back until its set is long enough."""
        if self._last_end is None or (
            self.max_pause is not None and cycle.start - self._last_end > self.max_pause
        ):
            self._pending, self._set_size = [], 0
        self._set_size += 1
        self._pending.append(cycle)
        self._last_end = cycle.end
        if self._set_size >= self.min_set:
            self.cycles += self._pending
            self._pending = []

    def _extend_range(self, value) -> None:
        if value is not None:
            value = np.asarray(value, np.float64)
            self._range = (np.fmin(self._range[0], value), np.fmax(self._range[1], value))

    def update(
        self, at_rest, at_turn: bool = False, turn_strength: float = 0.0, value=None
    ) -> int:
        """Feed one frame and return the count so far.

        Parameters
        ----------
        at_rest : bool, or None for a frame without a pose
            Whether the rest position is reached on this frame.
        at_turn : bool
            Whether the turning point is reached (ignored when ``at_rest``).
        turn_strength : float
            How strongly; the strongest frame of a visit is the cycle's ``turn``.
        value : float or array_like, optional
            The joint angle on this frame, for ``min_range`` (several angles, e.g. both sides:
            the cycle counts when any one of them moves far enough).

        Returns
        -------
        int
        """
        self._frame += 1
        if at_rest is None:
            self._gap += 1
            if self.max_gap is not None and self._gap > self.max_gap:
                self.state, self._last_rest, self._cycle_start = None, None, None
            return self.count
        self._gap = 0
        self._extend_range(value)
        if at_rest:
            if self.state == "turn" and self._cycle_start is not None and self._moved_enough():
                self._complete(Cycle(self._cycle_start, self._turn_frame, self._frame))
            self.state, self._last_rest = "rest", self._frame
            self._range = (np.inf, -np.inf)
            self._extend_range(value)
        elif at_turn:
            if self.state != "turn":
                self.state, self._cycle_start = "turn", self._last_rest
                self._turn_strength = -np.inf
            if turn_strength > self._turn_strength:
                self._turn_frame, self._turn_strength = self._frame, turn_strength
        return self.count

    def _moved_enough(self) -> bool:
        if self.min_range is None:
            return True
        low, high = self._range
        return bool(np.any(np.asarray(high - low) >= self.min_range))


class RepetitionCounter:
    """Count repetitions of an exercise from per-frame class probabilities, by full cycles.

    A repetition is one cycle from the rest pose (``rest_class``, e.g. ``squat_up``) through the
    turning pose (``class_name``, e.g. ``squat_down``) and back to the rest pose
    (:class:`CycleCounter`). A pose is reached when its (smoothed) probability exceeds
    ``enter_threshold``; without a ``rest_class`` (a single probability per frame), the rest pose
    is reached when ``class_name``'s probability falls below ``exit_threshold``. Frames without a
    pose (``None`` or NaN) leave the state unchanged.

    Parameters
    ----------
    class_name : str
        The turning pose (the bottom of a squat or push-up, the top of a leg raise).
    rest_class : str, optional
        The pose each repetition starts and ends in. Give it whenever the classifier has other
        classes: then passing through them between the two poses counts nothing.
    enter_threshold, exit_threshold : float, default 0.6 and 0.4
        Probabilities in [0, 1] with ``exit_threshold <= enter_threshold``.
    max_gap : int, optional
        Frames without a pose after which a cycle in progress is dropped (see
        :class:`CycleCounter`).
    min_range_of_motion : float, optional
        With the joint angle given to :meth:`update`, the degrees it must move for a cycle to
        count (see :class:`CycleCounter`).
    min_set, max_pause : optional
        Count only repetitions in sets of at least ``min_set``, with pauses of at most
        ``max_pause`` frames (see :class:`CycleCounter`).

    Attributes
    ----------
    count : int
        Repetitions so far.
    in_pose : bool
        Whether the person is at the turning pose now (reached it and not yet back at rest).
    cycles : list of Cycle
        Frames of each repetition.

    Example
    -------
    >>> counter = RepetitionCounter("squat_down")
    >>> [counter.update(p) for p in [0.1, 0.7, 0.5, 0.3, 0.9, 0.2]]
    [0, 0, 0, 1, 1, 2]
    >>> counter = RepetitionCounter("squat_down", rest_class="squat_up")
    >>> frames = [{"squat_up": 0.9}, {"squat_down": 0.8}, {"other": 0.9}, {"squat_down": 0.7},
    ...           {"squat_up": 0.8}]
    >>> [counter.update(p) for p in frames]
    [0, 0, 0, 0, 1]
    """

    def __init__(
        self,
        class_name,
        rest_class=None,
        enter_threshold: float = 0.6,
        exit_threshold: float = 0.4,
        max_gap: int | None = None,
        min_range_of_motion: float | None = None,
        min_set: int = 1,
        max_pause: int | None = None,
    ):
        if not (0.0 <= exit_threshold <= enter_threshold <= 1.0):
            raise ValueError(
                "thresholds must satisfy 0 <= exit_threshold <= enter_threshold <= 1, got "
                f"enter={enter_threshold!r}, exit={exit_threshold!r}"
            )
        if rest_class is not None and rest_class == class_name:
            raise ValueError(f"rest_class and class_name are both {class_name!r}")
        self.class_name = class_name
        self.rest_class = rest_class
        self.enter_threshold = float(enter_threshold)
        self.exit_threshold = float(exit_threshold)
        self.max_gap = max_gap
        self.min_range_of_motion = min_range_of_motion
        self.min_set = min_set
        self.max_pause = max_pause
        self._cycles = CycleCounter(max_gap, min_range_of_motion, min_set, max_pause)

    def reset(self) -> None:
        """Start counting from zero, at neither pose."""
        self._cycles.reset()

    @property
    def count(self) -> int:
        """Repetitions so far."""
        return self._cycles.count

    @property
    def in_pose(self) -> bool:
        """Whether the person is at the turning pose now."""
        return self._cycles.state == "turn"

    @property
    def cycles(self) -> list[Cycle]:
        """Frames of each repetition counted."""
        return self._cycles.cycles

    def update(self, confidence, angle=None) -> int:
        """Feed one frame and return the count so far.

        Parameters
        ----------
        confidence : float, or mapping of class name to probability, or None
            Probability of ``class_name`` on this frame, or a mapping of class probabilities (a
            missing class means 0); ``None`` or NaN for a frame without a pose.
        angle : float or array_like, optional
            The exercise's main joint angle on this frame (for ``min_range_of_motion``), or
            several (left, right, mean): then any one of them moving far enough suffices.

        Returns
        -------
        int
        """
        if isinstance(confidence, Mapping):
            turn = float(confidence.get(self.class_name, 0.0))
            rest = None if self.rest_class is None else float(confidence.get(self.rest_class, 0.0))
        else:
            if self.rest_class is not None and confidence is not None:
                raise TypeError(
                    f"with rest_class={self.rest_class!r} each frame must be a mapping of class "
                    "probabilities"
                )
            turn, rest = (np.nan if confidence is None else float(confidence)), None
        if np.isnan(turn) or (rest is not None and np.isnan(rest)):
            return self._cycles.update(None)
        at_rest = turn < self.exit_threshold if rest is None else rest > self.enter_threshold
        return self._cycles.update(bool(at_rest), turn > self.enter_threshold, turn, angle)

    def count_sequence(self, confidences) -> np.ndarray:
        """Running count over a whole sequence, from a fresh state (the streaming state is kept).

        Parameters
        ----------
        confidences : array_like, (n_frames,), or sequence of mappings
            Probability of ``class_name`` per frame (NaN for frames without a pose), or one
            mapping of class probabilities per frame.

        Returns
        -------
        ndarray, int, (n_frames,)
        """
        if not any(isinstance(value, Mapping) for value in confidences):
            confidences = np.asarray(confidences, dtype=np.float64)
            if confidences.ndim != 1:
                raise ValueError(
                    f"confidences must be one value per frame, got shape {confidences.shape}"
                )
        fresh = RepetitionCounter(
            self.class_name, self.rest_class, self.enter_threshold, self.exit_threshold,
            self.max_gap, self.min_range_of_motion, self.min_set, self.max_pause,
        )  # fmt: skip
        return np.array([fresh.update(value) for value in confidences], dtype=np.int64)


def frames_for(seconds: float, fps: float) -> int:
    """A duration in seconds as a whole number of frames at ``fps``.

    Example
    -------
    >>> frames_for(2.0, 24.0)
    48
    """
    if not np.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be a number of seconds >= 0, got {seconds!r}")
    return int(round(seconds * fps))
