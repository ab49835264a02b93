"""The result of counting: one row per repetition, one per frame, and its plot."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from classify.embed import is_pose_frame
from posejax import PoseTrack
from posejax.tables import parse_table

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
    counts : pandas.Series, optional
        For a table of several videos: the count of each video, indexed by ``video``; ``reps``
        and ``frames`` then start with a ``video`` column and ``count`` is the total. For
        several people (a multi-person track, a table with an ``individual`` column) the same
        with ``individual``, and with both, ``(video, individual)``: each person counted apart.
    """

    count: int
    reps: object
    frames: object
    what: str
    angle: str
    counts: object = None

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
        if self.counts is None:
            return f"{self.what}: {self.count} repetitions"
        names = list(self.counts.index.names)
        each = ", ".join(f"{'/'.join(map(str, key)) if isinstance(key, tuple) else key}: {n}"
                         for key, n in self.counts.items())  # fmt: skip
        if names == ["video", "individual"]:
            videos = self.counts.index.get_level_values("video").nunique()
            return (f"{self.what}: {self.count} repetitions of {len(self.counts)} people in "
                    f"{videos} videos ({each})")
        parts = "people" if names == ["individual"] else "videos"
        return f"{self.what}: {self.count} repetitions in {len(self.counts)} {parts} ({each})"

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
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from classify.counters import Cycle
        >>> times, angle = np.arange(5) / 10, np.array([170.0, 120, 80, 90, 165])
        >>> reps = repetition_table([Cycle(0, 3, 4)], times, angle)
        >>> frames = pd.DataFrame({"time": times, "knee_angle": angle})
        >>> Repetitions(1, reps, frames, "squat", "knee_angle").plot().get_title()
        'squat: 1 repetitions'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")  # labels kept by savefig
        keys = [k for k in ("video", "individual") if k in self.frames.columns]
        if not keys:
            parts = [("", "0.25", "tab:orange", self.frames, self.reps)]
        else:  # several videos or people: one curve and one shade colour each
            parts = []
            for i, (label, frames) in enumerate(self.frames.groupby(keys, observed=True,
                                                                    sort=False)):
                label = label if isinstance(label, tuple) else (label,)
                chosen = np.ones(len(self.reps), bool)
                for key, value in zip(keys, label, strict=True):
                    chosen &= (self.reps[key] == value).to_numpy() if len(self.reps) else False
                name = "/".join(map(str, label))
                parts.append((name, f"C{i}", f"C{i}", frames, self.reps[chosen]))
        shaded = False
        for name, line, shade, frames, reps in parts:
            ax.plot(frames["time"].to_numpy(), frames[self.angle].to_numpy(), color=line, lw=1.4,
                    label=name or self.angle.replace("_", " "))  # fmt: skip
            for rep in reps.itertuples():
                ax.axvspan(rep.start_time, rep.end_time, color=shade, alpha=0.22,
                           label=None if shaded or keys else "repetition")  # fmt: skip
                ax.plot(rep.bottom_time, rep.angle_at_bottom, "v", color="tab:red", ms=6,
                        label=None if shaded else "turning point")  # fmt: skip
                ax.annotate(str(rep.rep), (rep.bottom_time, rep.angle_at_bottom), fontsize=8,
                            textcoords="offset points", xytext=(0, -14), ha="center")  # fmt: skip
                shaded = True
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
    >>> from classify.counters import Cycle
    >>> angle = np.array([170.0, 120, 80, 90, 165])
    >>> table = repetition_table([Cycle(0, 3, 4)], np.arange(5) / 10, angle)
    >>> table[["bottom_frame", "angle_at_bottom", "range_of_motion"]].to_numpy().tolist()
    [[2.0, 80.0, 90.0]]
    """
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


def videos_of(track_or_df) -> list[tuple[object, object]]:
    """``(label, track or table)`` for each video, and each person, of ``track_or_df``.

    A table is split on its ``video`` and ``individual`` columns (its frames keep their numbers
    and times), a batch track into its videos and a multi-person track into its people
    (:meth:`~posejax.PoseTrack.individual`). One video of one person gives one pair, its label
    None. The label is the video's name, the person's name, or a ``(video, individual)`` pair
    when there are several of both (:func:`split_keys` says which).

    Example
    -------
    >>> [label for label, _ in videos_of(np.zeros((3, 33, 3)))]
    [None]
    >>> [label for label, _ in videos_of(two_people)]
    ['person_0', 'person_1']
    """
    keys, parts = split_keys(track_or_df)
    if not keys:
        return parts
    if len(keys) == 1:
        return [(label[0], one) for label, one in parts]
    return parts


def split_keys(track_or_df) -> tuple[list[str], list[tuple[object, object]]]:
    """The keys :func:`videos_of` splits on, and the parts, each labelled by those keys' values.

    The keys are ``["video"]``, ``["individual"]``, both, or none; each part's label is a tuple
    of their values (None when nothing is split).

    Example
    -------
    >>> split_keys(two_people)[0]
    ['individual']
    """
    if is_pose_frame(track_or_df):
        table = parse_table(track_or_df)
        keys = [key for key, n in (("video", table.n_videos),
                                   ("individual", table.n_individuals)) if n > 1]  # fmt: skip
        if not keys:
            return [], [(None, track_or_df)]
        wide = isinstance(track_or_df.columns, pd.MultiIndex)
        columns = [np.asarray(track_or_df.index.get_level_values(key) if wide
                              else track_or_df[key]).astype(str) for key in keys]  # fmt: skip
        codes, uniques = pd.MultiIndex.from_arrays(columns).factorize()
        return keys, [(tuple(label), track_or_df[codes == i]) for i, label in enumerate(uniques)]
    if not hasattr(track_or_df, "pose_present"):
        return [], [(None, track_or_df)]
    batch = getattr(track_or_df, "is_batch", False)
    videos = [track_or_df] if not batch else [track_or_df.video(i)
                                              for i in range(track_or_df.batch_size)]
    names = [None] if not batch else (track_or_df.video_names
                                      or [str(i) for i in range(track_or_df.batch_size)])
    people = track_or_df.individuals
    keys = (["video"] if batch else []) + (["individual"] if people and len(people) > 1 else [])
    parts = []
    for name, video in zip(names, videos, strict=True):
        if people is None:
            parts.append(((str(name),), video))
            continue
        for person in people:
            label = ((str(name),) if batch else ()) + ((person,) if len(people) > 1 else ())
            parts.append((label, video.individual(person)))
    if not keys:
        return [], [(None, parts[0][1])]
    return keys, parts


def join_videos(results: list[tuple[object, Repetitions]], keys=("video",)) -> Repetitions:
    """One :class:`Repetitions` of several videos' (or people's) results: total count.

    ``.reps`` and ``.frames`` start with a column per key (``video``, ``individual``), and
    ``.counts`` is indexed by them; the labels of ``results`` are those keys' values (a tuple
    for two keys).

    Example
    -------
    >>> one = Repetitions(2, pd.DataFrame({"rep": [1, 2]}), pd.DataFrame({"frame": [0]}), "squat",
    ...                   "knee_angle")
    >>> join_videos([("a.mp4", one), ("b.mp4", one)]).summary()
    'squat: 4 repetitions in 2 videos (a.mp4: 2, b.mp4: 2)'
    >>> join_videos([("bob", one), ("al", one)], keys=["individual"]).counts.index.names
    FrozenList(['individual'])
    """
    keys = list(keys)
    labels = [label if isinstance(label, tuple) else (label,) for label, _ in results]
    dtypes = [pd.CategoricalDtype(list(dict.fromkeys(label[i] for label in labels)))
              for i in range(len(keys))]  # fmt: skip

    def tagged(table, label):
        table = table.copy()
        for i, key in reversed(list(enumerate(keys))):
            table.insert(0, key, pd.Categorical([label[i]] * len(table), dtype=dtypes[i]))
        return table

    tagged_results = [(label, r) for label, (_, r) in zip(labels, results, strict=True)]
    # Videos without a repetition add no rows (and their empty columns no object dtype).
    with_reps = [(label, r) for label, r in tagged_results if len(r.reps)] or tagged_results[:1]
    reps = pd.concat([tagged(r.reps, label) for label, r in with_reps], ignore_index=True)
    frames = pd.concat([tagged(r.frames, label) for label, r in tagged_results], ignore_index=True)
    if len(keys) == 1:
        index = pd.CategoricalIndex([label[0] for label in labels], dtype=dtypes[0], name=keys[0])
    else:
        index = pd.MultiIndex.from_arrays(
            [pd.Categorical([label[i] for label in labels], dtype=dtypes[i])
             for i in range(len(keys))], names=keys)  # fmt: skip
    counts = pd.Series([r.count for _, r in results], index=index, name="count")
    whats = {r.what for _, r in results}
    angles = {r.angle for _, r in results}
    what = whats.pop() if len(whats) == 1 else "repetitions"
    # Without a model each video's dominant movement may differ; the frames keep every angle.
    angle = angles.pop() if len(angles) == 1 else results[0][1].angle
    return Repetitions(int(counts.sum()), reps, frames, what, angle, counts)


def one_video(track_or_df):
    """The :class:`posejax.PoseTrack` of one video, from a track or a posejax DataFrame.

    Example
    -------
    >>> one_video(np.zeros((3, 33, 3)))
    Traceback (most recent call last):
    ...
    TypeError: expected a PoseTrack or a posejax DataFrame, got ndarray
    """
    track = track_or_df
    if is_pose_frame(track):
        track = PoseTrack.from_dataframe(track)
    if not hasattr(track, "pose_present"):
        raise TypeError(f"expected a PoseTrack or a posejax DataFrame, got {type(track).__name__}")
    if track.is_batch:
        raise ValueError("count_repetitions takes one video; pass track.video(i) for a batch")
    if track.individuals is not None:
        raise ValueError("this counts one person; pass track.individual(k), or count_repetitions "
                         "the whole track to count each person apart")
    return track
