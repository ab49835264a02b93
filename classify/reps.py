"""Repetition counting by full cycles, on smoothed class probabilities of a trained model.

A repetition is one cycle of the exercise: from its rest pose (the top of a squat or push-up, the
floor of a leg raise) through its turning pose and back (:class:`CycleCounter`). MediaPipe's pose
classification colab counted each exit from the bottom pose instead; with an ``other`` class that
counts a repetition every time the classifier flickers to ``other`` at the bottom, so only the
smoothing (``EMADictSmoothing``, here :class:`EMASmoothing`, on probabilities in [0, 1] rather
than votes out of 10) is kept from it. Counters work frame by frame (``update``) for a live stream
and on a whole sequence at once, with the same results.

:func:`count_repetitions` is the entry point; without a model it hands over to
:func:`classify.count_repeated_movement`, which counts whatever the person repeats.
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

    def reset(self) -> None:
        """Start from zero, at neither end."""
        self.count = 0
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
            self.count += len(self._pending)
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
        return self._cycles.count

    @property
    def in_pose(self) -> bool:
        return self._cycles.state == "turn"

    @property
    def cycles(self) -> list[Cycle]:
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


#: Columns of the per-repetition table, in order.
REPETITION_COLUMNS = (
    "rep", "start_frame", "bottom_frame", "end_frame", "start_time", "bottom_time", "end_time",
    "duration", "angle_at_bottom", "range_of_motion",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, eq=False)
class Repetitions:
    """Repetitions counted in one video: the count, one row per repetition, one row per frame.

    Unpacks as ``frames, count`` (``table, total = count_repetitions(...)``) for code written
    for posejax 0.1.

    Attributes
    ----------
    count : int
        Number of full repetitions.
    reps : pandas.DataFrame
        One row per repetition (:data:`REPETITION_COLUMNS`): ``rep`` (1, 2, ...), the frames where
        it starts (last frame at rest), turns (``bottom_frame``: the bottom of a squat or
        push-up, the top of a leg raise) and ends (first frame back at rest), their times in
        seconds, ``duration`` (s), the main joint angle at the turning point
        (``angle_at_bottom``, degrees) and its ``range_of_motion`` over the repetition (degrees).
    frames : pandas.DataFrame
        One row per frame: ``frame``, ``time``, ``pose_present``, what the counter saw (class
        probabilities, or the movement signal), the angle, ``in_pose`` and the running ``count``.
    what : str
        What was counted: an exercise (``"squat"``) or a movement (``"left_elbow angle"``).
    angle : str
        Column of ``frames`` holding the main joint angle (degrees).
    """

    count: int
    reps: object
    frames: object
    what: str
    angle: str

    def __iter__(self):
        yield self.frames
        yield self.count

    def __repr__(self) -> str:
        return f"<Repetitions {self.summary()!r}>"

    def summary(self) -> str:
        """The one-line result, ``"<what>: <n> repetitions"``.

        Example
        -------
        >>> import pandas as pd
        >>> Repetitions(2, pd.DataFrame(), pd.DataFrame(), "squat", "knee_angle").summary()
        'squat: 2 repetitions'
        """
        return f"{self.what}: {self.count} repetitions"

    def plot(self, ax=None):
        """The main joint angle over time, each repetition shaded and its turning point marked.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Drawn into; a new figure's axes by default.

        Returns
        -------
        matplotlib.axes.Axes

        Example
        -------
        >>> result = count_repetitions(track, exercise="squat")  # doctest: +SKIP
        >>> result.plot()  # doctest: +SKIP
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.2))
        time = self.frames["time"].to_numpy()
        ax.plot(time, self.frames[self.angle].to_numpy(), color="0.25", lw=1.4,
                label=self.angle.replace("_", " "))  # fmt: skip
        for i, rep in enumerate(self.reps.itertuples()):
            ax.axvspan(rep.start_time, rep.end_time, color="tab:orange", alpha=0.22,
                       label="repetition" if i == 0 else None)  # fmt: skip
            ax.plot(rep.bottom_time, rep.angle_at_bottom, "v", color="tab:red", ms=6,
                    label="turning point" if i == 0 else None)  # fmt: skip
            ax.annotate(str(rep.rep), (rep.bottom_time, rep.angle_at_bottom), fontsize=8,
                        textcoords="offset points", xytext=(0, -14), ha="center")  # fmt: skip
        ax.set_xlabel("time (s)")
        ax.set_ylabel("angle (degrees)")
        ax.set_title(self.summary())
        ax.legend(loc="best", fontsize=8)
        return ax


def repetition_table(cycles, times, angle, *, turn_is_low: bool = True):
    """One row per cycle (:data:`REPETITION_COLUMNS`), turning points placed on the angle.

    Parameters
    ----------
    cycles : sequence of Cycle
    times : array_like (n_frames,)
        Frame times in seconds.
    angle : array_like (n_frames,)
        The main joint angle in degrees (NaN without a pose).
    turn_is_low : bool, default True
        Whether the angle is smallest at the turning point (a bent knee or elbow); else largest.
        The turning frame is the extreme of the angle inside the cycle, or the cycle's own
        ``turn`` where the angle is missing.

    Returns
    -------
    pandas.DataFrame

    Example
    -------
    >>> angle = np.array([170.0, 120, 80, 90, 165])
    >>> table = repetition_table([Cycle(0, 3, 4)], np.arange(5) / 10, angle)
    >>> table[["bottom_frame", "angle_at_bottom", "range_of_motion"]].to_numpy().tolist()
    [[2.0, 80.0, 90.0]]
    """
    import pandas as pd

    times = np.asarray(times, np.float64)
    angle = np.asarray(angle, np.float64)
    rows = []
    for number, cycle in enumerate(cycles, start=1):
        window = angle[cycle.start : cycle.end + 1]
        bottom = cycle.turn
        if np.isfinite(window).any():
            pick = np.nanargmin(window) if turn_is_low else np.nanargmax(window)
            bottom = cycle.start + int(pick)
        rows.append(
            {
                "rep": number,
                "start_frame": cycle.start,
                "bottom_frame": bottom,
                "end_frame": cycle.end,
                "start_time": times[cycle.start],
                "bottom_time": times[bottom],
                "end_time": times[cycle.end],
                "duration": times[cycle.end] - times[cycle.start],
                "angle_at_bottom": angle[bottom],
                "range_of_motion": (
                    float(np.nanmax(window) - np.nanmin(window))
                    if np.isfinite(window).any() else np.nan
                ),
            }
        )  # fmt: skip
    table = pd.DataFrame(rows, columns=list(REPETITION_COLUMNS))
    return table.astype({c: "int64" for c in REPETITION_COLUMNS[:4]})


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
    """Count the repetitions in one video: of a trained exercise, or of whatever is repeated.

    * ``count_repetitions(track, exercise="squat")``: the bundled k-NN model of the exercise
      classifies every frame; the smoothed probabilities go through :class:`RepetitionCounter`,
      which counts full cycles from the exercise's rest pose through its turning pose and back.
    * ``count_repetitions(track, model, "squat_down", rest_class="squat_up")``: the same with
      your own fitted classifier.
    * ``count_repetitions(track)``: no model; :func:`classify.count_repeated_movement` finds the
      dominant periodic joint movement and counts its cycles.

    Parameters
    ----------
    track_or_df : posejax.PoseTrack (one video) or posejax DataFrame (long or wide layout)
        The poses to count on.
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
    """
    import pandas as pd

    from classify.angles import clean_signal, joint_angles
    from classify.embed import pose_landmarks
    from classify.exercises import Exercise, exercise_model, get_exercise

    track = _as_track(track_or_df)
    if model is None and exercise is None:
        if class_name is not None or rest_class is not None:
            raise ValueError("class_name and rest_class need a model or an exercise")
        from classify.periodic import count_repeated_movement

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
        _gap_frames(max_gap, track.fps), min_range_of_motion, min_set,
        _gap_frames(max_pause, track.fps),
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


def _as_track(track_or_df):
    from classify.embed import _is_pose_frame

    track = track_or_df
    if _is_pose_frame(track):
        from posejax import PoseTrack

        track = PoseTrack.from_dataframe(track)
    if not hasattr(track, "pose_present"):
        raise TypeError(f"expected a PoseTrack or a posejax DataFrame, got {type(track).__name__}")
    if track.is_batch:
        raise ValueError("count_repetitions takes one video; pass track.video(i) for a batch")
    return track


def _gap_frames(max_gap: float, fps: float) -> int:
    if not np.isfinite(max_gap) or max_gap < 0:
        raise ValueError(f"max_gap must be a number of seconds >= 0, got {max_gap!r}")
    return int(round(max_gap * fps))


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
        from classify.exercises import OTHER

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
    from classify.exercises import EXERCISES

    for spec in EXERCISES.values():
        if class_name.startswith(spec.name):
            return spec.angle
    return "knee"


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
