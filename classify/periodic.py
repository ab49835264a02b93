"""Counting whatever the person repeats, without a trained model.

:func:`count_repeated_movement` looks at every joint angle of :func:`classify.angles.joint_angles`
(elbows, shoulders, hips and knees, each side and their mean), finds where each one moves back and
forth in a clearly periodic way, and counts the full cycles of the one that does so most strongly.
It works for exercises no model was trained on (jumping jacks, lunges, sit-ups, wall push-ups,
...), from any camera angle, because world-landmark angles do not depend on the view.

For each angle signal (cleaned by :func:`classify.angles.clean_signal`):

0. **Travel ends a set.** Frames on which the whole body travels (over 2 s, the hips' steady
   trend takes them sideways by more than 1 m, or the body's size in the picture changes by more
   than 30 %, or a share of each adding up to it: walking in, out or about;
   :func:`classify.phases.travelling`) split every signal: approach and departure never count.
   A stretch without a pose does not split it: a repetition in progress is dropped after
   ``max_gap`` seconds without one, a rest goes on (people step out of view between sets).
1. **Ends.** Within a stretch of video between travels, the signal's range is its 5th to 95th
   percentile; the two ends of the movement are reached below 35 % and above 65 % of that range
   (hysteresis, so noise around one threshold never counts).
2. **Cycles.** Visits to the two ends alternate; a repetition is a full cycle from the rest end
   to the other end and back, the rule of :class:`classify.CycleCounter` that the trained
   counter uses too. The rest end is where the person dwells (pauses between sets, before the
   first repetition and after the last; :func:`classify.phases.rest_end`), not where the
   stretch happens to start: a recording started at the turning point keeps its phase.
3. **Periodic segments.** Consecutive visits form a segment while each move between the ends takes
   at most ``max_transit`` seconds; a segment counts only if it holds at least two cycles that
   look alike (RepNet's periodicity gate, here on whole cycles): every cycle's duration is within
   a factor 2.5 of the segment's median cycle (and that median is at least 0.3 s, faster is
   landmark jitter), its excursion at least half the median excursion, the body posture at its
   turning point (all eight single-side angles) within ``posture_tolerance`` degrees and the
   torso's lean within 30 degrees of the median turning posture, and the signal correlates with
   itself one period later (``min_periodicity``) once long stays at either end are shortened to
   one typical movement (rests between repetitions are irregular) and time is warped to put the
   turning points one period apart (the tempo changes within a set). Cycles unlike the others
   split the segment, and the runs between are judged on their own. Standing and talking,
   walking in or out, one-off movements and dancing fail one of these and count nothing.
4. **Not locomotion.** A segment in which the hips travel (more than half a torso length per cycle
   in the image, or the body's image size changing by more than 15 % per cycle, as when walking
   towards the camera) is walking, not an exercise.
5. **The dominant movement** is the signal whose periodic segments score highest (excursion in
   degrees x periodicity x seconds covered) among those confirmed by a second signal (the same
   number of cycles, turning at the same moments: the other side, the mean of both, or another
   joint); its cycles are the count, named after it (``"left_elbow angle"``,
   ``"knee angle (both sides)"``).

Every threshold is in seconds, degrees or torso lengths, so it means the same at any frame rate
and image size. The thresholds were set from what an exercise is (not fitted to clips):
repetitions take between 0.25 and ``max_transit`` seconds per move, a meaningful joint excursion is
at least ``min_excursion`` degrees.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from classify.angles import JOINTS, SIDES, clean_signal, joint_angles, signal_label
from classify.counters import Cycle, CycleCounter, frames_for
from classify.embed import pose_landmarks
from classify.phases import (
    body_in_image,
    periodicity_without_pauses,
    rest_end,
    travel_per_cycle,
    travelling,
    visits,
)
from classify.repetitions import Repetitions, one_video, repetition_table

# Ends of the movement, as fractions of the 5th-95th percentile range (hysteresis).
LOW_END, HIGH_END = 0.35, 0.65
# Largest change of the torso's lean from vertical (degrees) between the turning points of alike
# cycles.
MAX_LEAN_CHANGE = 30.0
# Largest ratio of a cycle's duration to the segment's median: a tempo from 0.6x to 1.6x of
# the typical one is a ratio of 1.7 either way, a cycle 2.5 times the others is something else.
MAX_CYCLE_RATIO = 2.5
# The quickest repetition (leaving rest to back at rest) a person makes, in seconds; faster
# "cycles" are landmark jitter.
MIN_CYCLE_SECONDS = 0.3
_SINGLE_SIDE = tuple(f"{side}_{joint}" for joint in JOINTS for side in SIDES)


@dataclasses.dataclass(frozen=True)
class PeriodicSegment:
    """A stretch of video in which one signal moves periodically between two ends.

    Attributes
    ----------
    signal : str
        Name of the angle (a key of :func:`classify.angles.joint_angles`).
    start, stop : int
        Frames ``[start, stop)``.
    cycles : tuple of Cycle
        The full cycles counted in it.
    rest_is_high : bool
        Whether the rest end is the large angle (a straight knee) or the small one.
    excursion : float
        Median excursion of a half-cycle (degrees).
    periodicity : float
        Correlation of the signal with itself one period later, in [-1, 1].
    period : float
        Median duration of a cycle (seconds).
    accepted : bool
        Whether it passed every gate; ``reason`` says which failed otherwise.
    reason : str
    """

    signal: str
    start: int
    stop: int
    cycles: tuple
    rest_is_high: bool
    excursion: float
    periodicity: float
    period: float
    accepted: bool
    reason: str = ""

    @property
    def score(self) -> float:
        """Excursion x periodicity x seconds covered (0 unless accepted)."""
        if not self.accepted:
            return 0.0
        return self.excursion * self.periodicity * self.period * len(self.cycles)


def count_repeated_movement(
    track,
    *,
    min_excursion: float = 30.0,
    max_transit: float = 4.0,
    min_periodicity: float = 0.5,
    posture_tolerance: float = 25.0,
    max_gap: float = 2.0,
    signals=None,
) -> Repetitions:
    """Count the repetitions of whatever movement the person repeats, from landmarks alone.

    Parameters
    ----------
    track : posejax.PoseTrack or posejax DataFrame
        One video.
    min_excursion : float, default 30
        Smallest movement (degrees between the ends of a half-cycle) that counts as exercise.
    max_transit : float, default 4
        Longest time (s) a move from one end to the other may take inside a periodic segment.
    min_periodicity : float, default 0.5
        Smallest correlation of a segment's signal with itself one period later.
    posture_tolerance : float, default 25
        Largest median difference (degrees, over the eight single-side joint angles) between a
        cycle's turning posture and the segment's median turning posture.
    max_gap : float, default 2
        Seconds without a pose after which a repetition in progress is dropped (shorter gaps are
        bridged; a rest at the rest end may last through longer ones).
    signals : sequence of str, optional
        Restrict the search to these angles (keys of :func:`classify.angles.joint_angles`).

    Returns
    -------
    Repetitions
        ``what`` names the movement counted (``"nothing"`` when none is periodic); ``frames`` has
        the signal of every candidate angle (``<name>_angle``), ``travelling`` (the whole body
        travels: no set spans it), ``periodic`` (inside a counted segment), ``in_pose`` and
        ``count``; ``segments`` of the attrs of ``frames`` lists every
        :class:`PeriodicSegment` examined.

    Example
    -------
    >>> import posejax
    >>> result = count_repeated_movement(posejax.track("jumping_jacks.mp4"))  # doctest: +SKIP
    >>> result.summary()  # doctest: +SKIP
    'shoulder angle (both sides): 12 repetitions'
    """
    track = one_video(track)
    fps = float(track.fps)
    for name, value in {"min_excursion": min_excursion, "max_transit": max_transit,
                        "posture_tolerance": posture_tolerance}.items():  # fmt: skip
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not -1.0 <= min_periodicity <= 1.0:
        raise ValueError(f"min_periodicity must be in [-1, 1], got {min_periodicity!r}")
    gap_frames = frames_for(max_gap, fps)
    world = pose_landmarks(track, "world")
    present = np.isfinite(world).all(axis=(1, 2))
    raw = joint_angles(world)
    names = list(raw) if signals is None else list(signals)
    unknown = sorted(set(names) - set(raw))
    if unknown:
        raise ValueError(f"unknown signals {unknown}; signals: {list(raw)}")
    cleaned = {name: clean_signal(raw[name], fps, max_gap=max_gap) for name in raw}
    body = body_in_image(track, present)
    # Walking in, out or about ends a set, whatever the joints do meanwhile.
    travel = travelling(track, world, fps) & present
    # The torso's lean tells a plank from standing, which have the same joint angles.
    lean = clean_signal(body[:, 3], fps, max_gap=max_gap)
    posture = np.stack([cleaned[name] for name in _SINGLE_SIDE] + [lean], axis=1)
    segments = []
    for name in names:
        segments += find_periodic_segments(
            cleaned[name], fps, name, posture=posture, body=body, min_excursion=min_excursion,
            max_transit=max_transit, min_periodicity=min_periodicity,
            posture_tolerance=posture_tolerance, gap_frames=gap_frames, breaks=travel,
        )  # fmt: skip
    best = _dominant_signal(segments)
    n = len(world)
    times = np.asarray(track.timestamps, np.float64)
    table = {"frame": np.arange(n), "time": times, "pose_present": present}
    table |= {f"{name}_angle": cleaned[name] for name in raw}
    periodic, in_pose = np.zeros(n, bool), np.zeros(n, bool)
    counts = np.zeros(n, np.int64)
    cycles: list[Cycle] = []
    rest_is_high = True
    if best is not None:
        chosen = [s for s in segments if s.signal == best and s.accepted]
        rest_is_high = chosen[0].rest_is_high
        for segment in chosen:
            periodic[segment.start : segment.stop] = True
            cycles += segment.cycles
        for cycle in cycles:
            counts[cycle.end :] += 1
            in_pose[cycle.start + 1 : cycle.end] = True
    angle = cleaned[best] if best is not None else cleaned["knee"]
    column = f"{best or 'knee'}_angle"
    table |= {"travelling": travel, "periodic": periodic, "in_pose": in_pose, "count": counts}
    frames = pd.DataFrame(table)
    frames.attrs["segments"] = segments
    reps = repetition_table(cycles, times, angle, turn_is_low=rest_is_high)
    what = signal_label(best) if best is not None else "nothing"
    return Repetitions(len(cycles), reps, frames, what, column)


def _dominant_signal(segments) -> str | None:
    """The highest-scoring signal whose cycles another signal confirms, or None.

    One joint alone moving back and forth (a dancer bending one knee twice) is not yet an
    exercise: the counted cycles must also be found, turning at the same moments, on another
    signal (the other side, the mean of both, or another joint of the same movement).
    """
    scores: dict[str, float] = {}
    turns: dict[str, np.ndarray] = {}
    for segment in segments:
        if segment.accepted:
            scores[segment.signal] = scores.get(segment.signal, 0.0) + segment.score
            turns[segment.signal] = np.r_[turns.get(segment.signal, []),
                                          [c.turn for c in segment.cycles]]  # fmt: skip
    for name in sorted(scores, key=scores.get, reverse=True):
        mine = turns[name]
        for other in scores:
            if other == name or len(turns[other]) != len(mine):
                continue
            # A turning point is confirmed by one of the other signal's within a quarter of the
            # typical spacing of turns (all in frames).
            spacing = np.median(np.diff(mine)) if len(mine) > 1 else np.inf
            near = np.abs(mine[:, None] - turns[other][None, :]).min(axis=1) <= spacing / 4
            if near.mean() >= 0.75:
                return name
    return None


def find_periodic_segments(
    x,
    fps: float,
    name: str = "signal",
    *,
    posture=None,
    body=None,
    min_excursion: float = 30.0,
    max_transit: float = 4.0,
    min_periodicity: float = 0.5,
    posture_tolerance: float = 25.0,
    gap_frames: int | None = None,
    breaks=None,
) -> list[PeriodicSegment]:
    """Segments of one cleaned signal where it moves periodically between two ends.

    Parameters
    ----------
    x : ndarray (n_frames,)
        Cleaned signal (NaN where no pose).
    fps : float
    name : str
        Name recorded in the segments.
    posture : ndarray (n_frames, k), optional
        Angles compared between the turning points of cycles; not checked when None.
    body : ndarray (n_frames, 4), optional
        Hip centre ``x, y`` and torso length in pixels (and the torso's lean), for the locomotion
        gate.
    min_excursion, max_transit, min_periodicity, posture_tolerance
        See :func:`count_repeated_movement`.
    gap_frames : int, optional
        Frames without a pose after which a repetition in progress is dropped (a rest goes on
        through any gap: people step out of view between sets); by default never.
    breaks : ndarray of bool (n_frames,), optional
        Frames that end a set (the whole body travelling, :func:`classify.phases.travelling`):
        no segment spans them.

    Returns
    -------
    list of PeriodicSegment
        Accepted and rejected ones, in time order.

    Example
    -------
    >>> t = np.arange(300) / 30.0
    >>> knee = 125 + 50 * np.cos(2 * np.pi * t / 2.0)  # 5 squats of 2 s
    >>> [(s.accepted, len(s.cycles)) for s in find_periodic_segments(knee, 30.0, "knee")]
    [(True, 5)]
    """
    x = np.asarray(x, np.float64)
    apart = np.zeros(len(x), bool) if breaks is None else np.asarray(breaks, bool)
    x = np.where(apart, np.nan, x)
    segments = []
    for start, stop in _runs(~apart):
        seen = np.flatnonzero(np.isfinite(x[start:stop]))
        if len(seen) < 3:
            continue
        segments += _segments_of_run(
            x, start + seen[0], start + seen[-1] + 1, fps, name, posture, body, min_excursion,
            max_transit, min_periodicity, posture_tolerance, gap_frames,
        )  # fmt: skip
    return segments


def _runs(valid: np.ndarray):
    """``(start, stop)`` of each run of True."""
    edges = np.diff(np.r_[0, valid.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _segments_of_run(x, start, stop, fps, name, posture, body, min_excursion, max_transit,
                     min_periodicity, posture_tolerance, gap_frames):  # fmt: skip
    # A piece split off a run is split again on its own range, so that a long stretch of
    # something else (talking, walking in) does not set the ends of the exercise.
    pieces = [(start, stop)]
    for _ in range(3):
        split = [p for a, b in pieces for p in _split_by_visits(x, a, b, fps, max_transit)]
        if split == pieces:
            break
        pieces = split
    return [
        segment
        for a, b in pieces
        for segment in _judge(x, a, b, fps, name, posture, body, min_excursion, min_periodicity,
                              posture_tolerance, gap_frames)  # fmt: skip
    ]


def _ends(x, a, b):
    low, high = np.nanpercentile(x[a:b], [5, 95])
    return low + LOW_END * (high - low), low + HIGH_END * (high - low), high - low


def _split_by_visits(x, a, b, fps, max_transit):
    """Split ``[a, b)`` where a move between the ends takes longer than ``max_transit``."""
    low, high, _ = _ends(x, a, b)
    found = visits(x[a:b], low, high)
    if len(found) < 2:
        return [(a, b)]
    pieces, first = [], 0
    for k in range(1, len(found)):
        transit = (found[k][1] - found[k - 1][2]) / fps
        if transit > max_transit:
            pieces.append((a + found[first][1], a + found[k - 1][2] + 1))
            first = k
    pieces.append((a + found[first][1], a + found[-1][2] + 1))
    if len(pieces) == 1:
        # Keep the frames around the visits: the turning points of the first and last cycle.
        return [(a, b)]
    return pieces


def _judge(x, a, b, fps, name, posture, body, min_excursion, min_periodicity, posture_tolerance,
           gap_frames, depth=0):  # fmt: skip
    """Judge ``[a, b)``; where some of its cycles are unlike the others, judge the runs between."""
    low, high, _ = _ends(x, a, b)
    found = visits(x[a:b], low, high)
    # The rest end is where the person dwells, not where this stretch happens to start.
    rest_is_high = rest_end(found)
    # A repetition in progress is dropped after gap_frames without a pose, as by the trained
    # counter; a rest may last through any gap (the person steps out of view between sets).
    counter = CycleCounter(max_gap=gap_frames)
    for t in range(a, b):
        value = x[t]
        if not np.isfinite(value):
            counter.update(None)
            continue
        at_rest = value > high if rest_is_high else value < low
        at_turn = value < low if rest_is_high else value > high
        counter.update(bool(at_rest), bool(at_turn), -value if rest_is_high else value)
    cycles = tuple(Cycle(int(c.start + a), int(c.turn + a), int(c.end + a)) for c in counter.cycles)
    extremes = np.array([x[a + v[3]] for v in found])
    excursion = float(np.median(np.abs(np.diff(extremes)))) if len(extremes) > 1 else 0.0
    period = _period(cycles) / fps
    periodicity = (periodicity_without_pauses(x, a, b, cycles, low, high)
                   if len(cycles) > 1 else 0.0)  # fmt: skip

    def segment(accepted, reason=""):
        return [PeriodicSegment(name, int(a), int(b), cycles, rest_is_high, excursion,
                                periodicity, period, accepted, reason)]  # fmt: skip

    if len(cycles) < 2:
        return segment(False, f"{len(cycles)} cycle(s); at least 2 make a periodic movement")
    if excursion < min_excursion:
        return segment(False, f"excursion {excursion:.0f} deg < {min_excursion:g}")
    typical = np.median([c.end - c.start for c in cycles]) / fps
    if typical < MIN_CYCLE_SECONDS:
        return segment(False, f"cycles of {typical:.2f} s are jitter, not a movement")
    unlike, why = _unlike_cycles(x, cycles, fps, posture, posture_tolerance)
    if unlike.any():
        if depth >= 3 or unlike.all():
            return segment(False, why)
        # Judge each run of alike cycles on its own: the exercise between a talk and a walk.
        pieces = []
        for first, last in _runs(~unlike):
            sa, sb = cycles[first].start, cycles[last - 1].end + 1
            pieces += _judge(x, sa, sb, fps, name, posture, body, min_excursion,
                             min_periodicity, posture_tolerance, gap_frames, depth + 1)  # fmt: skip
        return pieces
    if periodicity < min_periodicity:
        return segment(False, f"periodicity {periodicity:.2f} < {min_periodicity:g}")
    if body is not None:
        travel = travel_per_cycle(body, cycles)
        if travel is not None:
            return segment(False, travel)
    return segment(True)


def _period(cycles) -> float:
    """Median spacing of the turning points (frames), pauses between sets left out.

    A spacing more than ``MAX_CYCLE_RATIO`` times the shortest spans a pause (the repetitions of
    a set are alike within that factor); left in, two sets of 3 with a pause between would weigh
    like a slow movement and outscore a steady one of 6.
    """
    if not cycles:
        return 0.0
    if len(cycles) == 1:
        return float(cycles[0].end - cycles[0].start)
    spacing = np.diff([c.turn for c in cycles])
    return float(np.median(spacing[spacing <= MAX_CYCLE_RATIO * spacing.min()]))


def _unlike_cycles(x, cycles, fps, posture, posture_tolerance):
    """Which cycles differ from the segment's typical one, and how."""
    durations = np.array([c.end - c.start for c in cycles], np.float64) / fps
    typical = np.median(durations)
    unlike = (durations > MAX_CYCLE_RATIO * typical) | (durations < typical / MAX_CYCLE_RATIO)
    why = f"cycle durations differ by more than a factor {MAX_CYCLE_RATIO:g}"
    swings = np.array([abs(x[c.turn] - x[c.start]) for c in cycles])
    small = swings < 0.5 * np.median(swings)
    if small.any() and not unlike.any():
        why = "a cycle moves less than half as far as the others"
    unlike |= small
    if posture is not None:
        turns = posture[[c.turn for c in cycles]]
        deviation = np.abs(turns - np.nanmedian(turns, axis=0))
        spread = np.nanmean(deviation[:, :-1], axis=1)
        # The last column is the torso's lean: a plank and standing have the same joint angles.
        odd = (spread > posture_tolerance) | (deviation[:, -1] > MAX_LEAN_CHANGE)
        if odd.any() and not unlike.any():
            why = (f"turning postures differ by {np.nanmax(spread):.0f} deg of joint angle or "
                   f"{np.nanmax(deviation[:, -1]):.0f} deg of torso lean")  # fmt: skip
        unlike |= odd
    return unlike, why
