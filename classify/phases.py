"""Phases of a repeated movement: where the person rests, whether it repeats, whether they travel.

Helpers of :mod:`classify.periodic` (the any-exercise counter), kept apart so that each module
stays readable:

* :func:`rest_end`: which end of a movement is the rest position, from where the person dwells.
  People stay at rest before the first repetition, between sets and after the last; the turning
  point is passed through. The shape of one stretch of signal (where it happens to start) says
  nothing of the kind: a recording started mid-repetition begins at the turning point.
* :func:`travelling`: frames in which the whole body travels (walking in, out or about), which
  end a set: approach and departure never count, whatever the joints do meanwhile.
* :func:`periodicity_without_pauses`: how much the signal repeats itself, from one repetition to
  the next, whatever the rests between them and however the tempo changes.
"""

from __future__ import annotations

import numpy as np

# Limb segments whose image length over their world length gives the image's pixels per metre.
_SEGMENTS = ((11, 12), (23, 24), (11, 23), (12, 24), (11, 13), (12, 14), (13, 15), (14, 16),
             (23, 25), (24, 26), (25, 27), (26, 28))  # fmt: skip
# The scale is the 80th percentile over the segments: a segment pointing at the camera looks
# short (foreshortened), so the longest-looking segments give the scale, and the very longest
# one may be a landmark error.
_SCALE_PERCENTILE = 80
# Half of the window over which travel is measured (s): a repetition brings the hips back to
# where they were within a cycle or so, walking keeps taking them further.
TRAVEL_HALF_WINDOW = 1.0
# Sideways travel of the hips (metres across the picture in 2 s) that is walking: a slow walk is
# 0.8 m/s (1.6 m in 2 s); an exercise done in place moves the hips sideways by less than half a
# metre (a burpee's kick back, a lunge's step) and brings them back.
MAX_SIDEWAYS_TRAVEL = 1.0
# Share of the hips' movement over the window that a steady trend must explain to be travel
# (R^2): walking follows a line with a little sway; a repetition goes there and back.
MIN_STEADINESS = 0.5
# A stay at one end this many times as long as the median stay is a rest (between sets, before
# the first repetition, after the last): repetitions of a set hold each end for about as long,
# a pause of a few seconds is several repetitions long.
PAUSE_STAYS = 2.0
# Change of the body's size in the picture (ratio, over 2 s) that is walking towards or away
# from the camera: at 1 m/s from 6 m or nearer the distance changes by a third or more; in place
# only the posture changes the estimate, by a few percent.
MAX_ZOOM = 1.3


def body_in_image(track, present) -> np.ndarray:
    """Hip centre, torso length (pixels) and torso lean from vertical (degrees), ``(n, 4)``.

    Example
    -------
    >>> import posejax
    >>> body_in_image(posejax.track("squats.mp4"), None)  # doctest: +SKIP
    """
    height_width = np.asarray(track.image_sizes, np.float64).reshape(-1, 2)
    points = np.asarray(track.landmarks, np.float64)[..., :2] * height_width[:, None, ::-1]
    hips = (points[:, 23] + points[:, 24]) / 2
    shoulders = (points[:, 11] + points[:, 12]) / 2
    up = shoulders - hips
    torso = np.linalg.norm(up, axis=-1)
    lean = np.degrees(np.arctan2(np.abs(up[:, 0]), -up[:, 1]))
    body = np.column_stack([hips, torso, lean])
    if present is not None:
        body[~np.asarray(present, bool)] = np.nan
    return body


def pixels_per_metre(track, world: np.ndarray) -> np.ndarray:
    """The picture's scale at the person on each frame (NaN without a pose), from limb lengths.

    Example
    -------
    >>> import posejax
    >>> from classify.embed import pose_landmarks
    >>> track = posejax.track("squats.mp4")  # doctest: +SKIP
    >>> pixels_per_metre(track, pose_landmarks(track, "world"))  # doctest: +SKIP
    """
    height_width = np.asarray(track.image_sizes, np.float64).reshape(-1, 2)
    image = np.asarray(track.landmarks, np.float64)[..., :2] * height_width[:, None, ::-1]
    world = np.asarray(world, np.float64)[..., :3]
    a, b = np.array(_SEGMENTS).T
    pixels = np.linalg.norm(image[:, a] - image[:, b], axis=-1)
    metres = np.linalg.norm(world[:, a] - world[:, b], axis=-1)
    with np.errstate(all="ignore"):
        ratio = np.where(metres > 0.05, pixels / metres, np.nan)  # a limb is longer than 5 cm
    scale = np.full(len(ratio), np.nan)
    seen = np.isfinite(ratio).any(axis=1)
    scale[seen] = np.nanpercentile(ratio[seen], _SCALE_PERCENTILE, axis=1)
    return scale


def travelling(track, world: np.ndarray, fps: float) -> np.ndarray:
    """Frames on which the whole body travels: walking across the picture or towards the camera.

    Measured over a window of ``2 * TRAVEL_HALF_WINDOW`` seconds centred on each frame, as the
    least-squares trend across the window (every frame counts, so one landmark glitch at either
    end reads as no travel, nor does a track whose frames jump about at random): the hips'
    sideways displacement in metres (pixels over :func:`pixels_per_metre`), and the change of the
    picture's scale at the person (walking in depth), each as a share of its limit
    (``MAX_SIDEWAYS_TRAVEL``, ``MAX_ZOOM``); the body travels where their squares add up to more
    than 1, each counted only where the trend is steady (``MIN_STEADINESS``). A window with a
    pose on half its frames or fewer says nothing (not travelling).

    Parameters
    ----------
    track : posejax.PoseTrack
    world : ndarray (n_frames, 33, 3+)
        World landmarks, NaN without a pose.
    fps : float

    Returns
    -------
    ndarray of bool (n_frames,)

    Example
    -------
    >>> import posejax
    >>> from classify.embed import pose_landmarks
    >>> track = posejax.track("walk_then_squats.mp4")  # doctest: +SKIP
    >>> travelling(track, pose_landmarks(track, "world"), track.fps).mean()  # doctest: +SKIP
    """
    scale = pixels_per_metre(track, world)
    hips = body_in_image(track, None)[:, 0]
    half = max(1, int(round(TRAVEL_HALF_WINDOW * fps)))
    across, across_fit = _trend(hips, half)
    depth, depth_fit = _trend(np.log(scale), half)
    with np.errstate(all="ignore"):
        sideways = np.abs(across) * 2 * half / _window_median(scale, half)
        zoom = np.abs(depth) * 2 * half
    # Travel is steady: the trend must explain at least half of the movement (R^2 >= 0.5). A
    # repetition goes there and back, and a track that jumps about follows no line.
    sideways[across_fit < MIN_STEADINESS] = 0.0
    zoom[depth_fit < MIN_STEADINESS] = 0.0
    # Walking diagonally travels partly sideways, partly in depth: the two add up (an ellipse).
    moving = (sideways / MAX_SIDEWAYS_TRAVEL) ** 2 + (zoom / np.log(MAX_ZOOM)) ** 2 > 1
    return moving & np.isfinite(sideways) & np.isfinite(zoom)


def _windows(x: np.ndarray, half: int) -> np.ndarray:
    """``(n, 2 * half + 1)``: the frames around each frame, NaN past the ends."""
    padded = np.pad(np.asarray(x, np.float64), half, constant_values=np.nan)
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)


def _window_median(x: np.ndarray, half: int) -> np.ndarray:
    windows = _windows(x, half)
    out = np.full(len(x), np.nan)
    seen = np.isfinite(windows).sum(axis=1) > half
    out[seen] = np.nanmedian(windows[seen], axis=1)
    return out


def _trend(x: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope (per frame) of ``x`` over the window around each frame, and its R^2."""
    windows = _windows(x, half)
    valid = np.isfinite(windows)
    offsets = np.broadcast_to(np.arange(-half, half + 1, dtype=np.float64), windows.shape)
    count = valid.sum(axis=1)
    y = np.where(valid, windows, 0.0)
    t = np.where(valid, offsets, 0.0)
    with np.errstate(all="ignore"):
        t_mean, y_mean = t.sum(axis=1) / count, y.sum(axis=1) / count
        dt = np.where(valid, offsets - t_mean[:, None], 0.0)
        slope = (dt * (y - y_mean[:, None])).sum(axis=1) / (dt**2).sum(axis=1)
        spread = (np.where(valid, y - y_mean[:, None], 0.0) ** 2).sum(axis=1)
        fit = slope**2 * (dt**2).sum(axis=1) / spread
    enough = count > half
    return np.where(enough, slope, np.nan), np.where(enough, np.nan_to_num(fit), 0.0)


def visits(x: np.ndarray, low: float, high: float):
    """Alternating visits to the two ends: ``(is_high, first, last, extreme_frame)`` each.

    Example
    -------
    >>> visits(np.array([0.0, 0, 5, 10, 10, 5, 0]), 3, 7)
    [(False, 0, 1, 0), (True, 3, 4, 3), (False, 6, 6, 6)]
    """
    out = []
    for t, value in enumerate(x):
        state = True if value > high else False if value < low else None
        if state is None:
            continue
        if out and out[-1][0] == state:
            is_high, first, _, extreme = out[-1]
            better = value > x[extreme] if is_high else value < x[extreme]
            out[-1] = (is_high, first, t, t if better else extreme)
        else:
            out.append((state, t, t, t))
    return out


def rest_end(found) -> bool:
    """Whether the rest end is the high one, from the visits of :func:`visits`.

    The rest end is where the person dwells: before the first repetition, between sets and
    after the last. A stay at one end more than ``PAUSE_STAYS`` times as long as the median stay
    is such a rest (a pause between sets, a wait before starting); where there are some, the end
    that holds the longer ones is the rest. Without pauses, three cues vote: the end the
    movement starts from, the end it stops at, and the end where it spends more time in all. A
    recording started mid-repetition (at the turning point) or stopped during the last one
    changes one vote, not the result; a hold at the turning point (a leg raise kept up) changes
    the time spent, not where the movement starts and stops. Frames without a pose inside a stay
    count: someone stepping out of view between sets leaves from rest and comes back to it.

    Example
    -------
    >>> rest_end([(True, 0, 20, 5), (False, 22, 24, 23), (True, 26, 30, 28),
    ...           (False, 32, 34, 33), (True, 36, 40, 38)])
    True
    >>> rest_end([(False, 0, 1, 0), (True, 4, 8, 6), (False, 10, 13, 12), (True, 15, 19, 17),
    ...           (False, 21, 24, 23), (True, 26, 30, 28)])
    True
    """
    if not found:
        return True
    high = np.array([v[0] for v in found], bool)
    stay = np.array([v[2] - v[1] + 1 for v in found], np.float64)
    pause = stay > PAUSE_STAYS * np.median(stay)
    if pause.any():
        held = stay[pause & high].sum(), stay[pause & ~high].sum()
        if held[0] != held[1]:
            return bool(held[0] > held[1])
    dwell_high = stay[high].sum() > stay[~high].sum()
    votes = int(high[0]) + int(high[-1]) + int(dwell_high)
    return votes >= 2


def periodicity_without_pauses(x, a, b, cycles, low, high) -> float:
    """Correlation of one repetition with the next, whatever the rests and the tempo.

    Sets have irregular rests between repetitions (and some a hold at the bottom); left in, a
    6 s rest after one repetition and 1 s after the next would decorrelate the signal from itself
    one period later although every repetition is alike. Each stay at an end longer than a
    typical movement is cut down to that length; then time is warped so that the turning points
    fall one median period apart (a tempo rising from 0.6x to 1.6x would otherwise put the
    repetitions out of step with a fixed lag), and the signal is correlated with itself.

    Example
    -------
    >>> from classify.counters import Cycle
    >>> x = np.cos(np.linspace(0, 6 * np.pi, 90) ** 1.2 / 3)  # slowing down
    >>> round(periodicity_without_pauses(x, 0, 90, [Cycle(0, 10, 20), Cycle(20, 45, 70)],
    ...                                  -0.4, 0.4), 1) > 0.5
    True
    """
    longest = max(2, int(round(np.median([c.end - c.start for c in cycles]))))
    keep = np.ones(b - a, bool)
    found = visits(x[a:b], low, high)
    for _, first, last, _ in found:
        if last - first + 1 > longest:
            keep[first + longest // 2 : last + 1 - (longest - longest // 2)] = False
    position = np.cumsum(keep) - 1
    # Each turn is anchored at the middle of its visit to the turning end: in a hold there the
    # extreme frame is wherever the landmark noise puts it.
    middle = {}
    for _, first, last, _ in found:
        for t in range(first, last + 1):
            middle[t] = (position[first] + position[last]) / 2
    turns = np.array([middle.get(c.turn - a, position[c.turn - a]) for c in cycles], np.float64)
    period = float(np.median(np.diff(turns)))
    y = x[a:b][keep]
    if period > 0 and len(turns) > 1:
        # Turning points one period apart; before the first and after the last, time runs as is.
        source = np.arange(len(y), dtype=np.float64)
        warped = np.interp(source, turns, turns[0] + period * np.arange(len(turns)))
        warped[source < turns[0]] = source[source < turns[0]]
        last = source > turns[-1]
        warped[last] = turns[0] + period * (len(turns) - 1) + source[last] - turns[-1]
        y = np.interp(np.arange(np.ceil(warped[-1]) + 1), warped, y)
    return periodicity(y, period)


def periodicity(x: np.ndarray, period_frames: float) -> float:
    """Largest correlation of ``x`` with itself shifted by 0.7 to 1.4 periods.

    Example
    -------
    >>> round(periodicity(np.sin(np.arange(100) / 5), 2 * np.pi * 5), 2)
    1.0
    """
    best = -1.0
    for lag in range(max(1, int(0.7 * period_frames)), int(np.ceil(1.4 * period_frames)) + 1):
        if lag >= len(x) - 2:
            break
        a, b = x[:-lag], x[lag:]
        keep = np.isfinite(a) & np.isfinite(b)
        if keep.sum() < 3 or np.std(a[keep]) == 0 or np.std(b[keep]) == 0:
            continue
        best = max(best, float(np.corrcoef(a[keep], b[keep])[0, 1]))
    return best


def travel_per_cycle(body: np.ndarray, cycles) -> str | None:
    """Why the hips travel from cycle to cycle (walking), or None when they stay in place.

    Example
    -------
    >>> from classify.counters import Cycle
    >>> body = np.zeros((30, 4)); body[:, 2] = 100; body[:, 0] = np.arange(30) * 10
    >>> travel_per_cycle(body, [Cycle(0, 5, 10), Cycle(10, 15, 20)])
    'the hips travel 1.0 torso/cycle'
    """
    starts = body[[c.start for c in cycles]]
    ends = body[[c.end for c in cycles]]
    torso = np.nanmedian(body[[c.start for c in cycles] + [c.end for c in cycles], 2])
    if not np.isfinite(torso) or torso <= 0:
        return None
    moved = np.linalg.norm(ends[:, :2] - starts[:, :2], axis=1) / torso
    drift = np.linalg.norm(body[cycles[-1].end, :2] - body[cycles[0].start, :2]) / torso
    if np.nanmedian(moved) > 0.5 or drift / len(cycles) > 0.5:
        return f"the hips travel {max(np.nanmedian(moved), drift / len(cycles)):.1f} torso/cycle"
    scale = np.abs(np.log(ends[:, 2] / starts[:, 2]))
    if np.nanmedian(scale) > np.log(1.15):
        return "the body's size in the image changes (walking towards or away from the camera)"
    return None
