"""Several people in one video, made in memory from the shared one-person clips.

The multi-person tracker (``posejax.track(frames, num_poses=N)``) is checked on videos whose
ground truth is known by construction: each person is a one-person clip pasted into a window of
a wider canvas, so every frame says where each person is (the window) and what tracking that
person alone gives (the same window's pixels tracked by themselves). Three layouts:

* :func:`side_by_side`: the clips next to each other, still (``"a"`` in issue 24);
* :func:`crossing`: the windows travel across a wider canvas in opposite directions and pass
  each other; the second person's window is drawn over the first's while they overlap, so the
  first person is hidden for a while;
* :func:`leave_and_return`: the clips side by side, then the last person's window slides out of
  the canvas, stays out, and slides back.

Clips are first made alike (:func:`load_cast`): resampled by frame index to a common frame rate
(frame ``round(k * fps_clip / fps)`` for output frame ``k``), scaled to a common height when
asked, and padded at the bottom to a common height with **constant black rows** (value 0); the
canvas behind the windows is black too. The shared media are read from
:data:`~tests.helpers.reference_data.SHARED_DATA` and never written anywhere; nothing here
needs pytest, so the benchmarks use this module as it is.

Example
-------
>>> cast = load_cast(["mp_docs_pushups_5reps_overlay.mp4",
...                   "mp_docs_squats_5reps_overlay.mp4"])          # doctest: +SKIP
>>> two = side_by_side(cast)                                        # doctest: +SKIP
>>> two.frames.shape, two.boxes[0].tolist()                         # doctest: +SKIP
((57, 174, 620, 3), [[0, 0, 310, 174], [310, 0, 310, 174]])
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from tests.helpers.reference_data import SHARED_DATA

#: counted clips: file name under ``videos/`` -> (exercise, repetitions counted by eye)
COUNTED = {
    "mp_docs_pushups_5reps_overlay.mp4": ("pushup", 5),
    "mp_docs_squats_5reps_overlay.mp4": ("squat", 5),
    "mp_docs_squats_world_landmarks_overlay.mp4": ("squat", 3),
    "infai_synthetic_leg_raises_6reps.mp4": ("leg_raise", 6),
}
PUSHUPS, SQUATS = "mp_docs_pushups_5reps_overlay.mp4", "mp_docs_squats_5reps_overlay.mp4"


@dataclasses.dataclass
class Person:
    """One clip made ready for pasting: ``frames (T, h, w, 3)`` uint8 at ``fps``."""

    name: str
    frames: np.ndarray
    fps: float
    exercise: str | None
    reps: int | None


@dataclasses.dataclass
class Composite:
    """A made-up video of several people and where each of them is, frame by frame.

    ``boxes (T, P, 4)`` int: each person's window ``(x0, y0, width, height)`` in canvas pixels
    (it may reach outside the canvas); ``visible (T, P)``: the share of that window's area that
    is on the canvas and not covered by a window drawn later (people are drawn in order, the
    last on top); ``people``: the clips, in drawing order.
    """

    frames: np.ndarray
    fps: float
    boxes: np.ndarray
    visible: np.ndarray
    people: list

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` of the canvas."""
        return self.frames.shape[1], self.frames.shape[2]

    def crop(self, person: int) -> np.ndarray:
        """The pixels of a person's window, ``(T, h, w, 3)``; only for windows that never move
        and stay on the canvas (:func:`side_by_side`)."""
        x0, y0, w, h = self.boxes[0, person]
        if not (self.boxes[:, person] == self.boxes[0, person]).all():
            raise ValueError("the window moves: track person.frames and use to_canvas instead")
        return np.ascontiguousarray(self.frames[:, y0:y0 + h, x0:x0 + w])

    def to_canvas(self, person: int, landmarks: np.ndarray) -> np.ndarray:
        """Landmarks normalized to a person's window ``(T, ..., >=2)`` -> normalized to the
        canvas, frame by frame (x, y only; other channels are kept)."""
        out = np.array(landmarks, dtype=np.float64, copy=True)
        box = self.boxes[:, person].astype(np.float64)
        shape = (len(box),) + (1,) * (out.ndim - 2)
        height, width = self.size
        out[..., 0] = (box[:, 0].reshape(shape) + out[..., 0] * box[:, 2].reshape(shape)) / width
        out[..., 1] = (box[:, 1].reshape(shape) + out[..., 1] * box[:, 3].reshape(shape)) / height
        return out


def _read(name: str, data: Path) -> tuple[np.ndarray, float]:
    from posejax.io.video import read_video

    reader = read_video(Path(data) / "videos" / name)
    return reader.read(), float(reader.fps)


def load_cast(names, fps: float | None = None, height: int | None = None,
              frames: int | None = None, ping_pong: bool = False,
              data: str | os.PathLike = SHARED_DATA) -> list[Person]:
    """Read shared clips and make them alike: one frame rate, one frame count, one height.

    Parameters
    ----------
    names : list of str
        File names under ``<data>/videos``.
    fps : float, optional
        Common frame rate (default: the lowest of the clips'); clips are resampled by frame
        index, so a clip at a higher rate loses frames and one at a lower rate repeats some.
    height : int, optional
        Scale every clip to this height (area interpolation) before padding; by default clips
        keep their size and the shorter ones get black rows at the bottom.
    frames : int, optional
        Frames of every clip (default: the shortest clip's length at ``fps``). With
        ``ping_pong`` a clip plays forwards then backwards as often as needed (a continuous
        movement); otherwise ``frames`` may not exceed the shortest clip.
    """
    raw = [_read(name, data) for name in names]
    rate = float(fps) if fps else min(r for _, r in raw)
    shortest = min(int(len(f) / r * rate) for f, r in raw)
    count = shortest if frames is None else int(frames)
    if count > shortest and not ping_pong:
        raise ValueError(f"{count} frames asked, the shortest clip has {shortest} at {rate} fps")
    people = []
    for name, (clip, clip_fps) in zip(names, raw, strict=True):
        index = np.minimum(np.round(np.arange(shortest) * clip_fps / rate).astype(int),
                           len(clip) - 1)
        clip = clip[index]
        if height is not None and clip.shape[1] != height:
            import cv2

            width = round(clip.shape[2] * height / clip.shape[1])
            clip = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA)
                             for f in clip])
        if ping_pong:
            cycle = np.concatenate([clip, clip[-2:0:-1]])
            clip = cycle[np.arange(count) % len(cycle)]
        exercise, reps = COUNTED.get(name, (None, None))
        people.append(Person(name, np.ascontiguousarray(clip[:count]), rate, exercise, reps))
    common = max(p.frames.shape[1] for p in people)
    for person in people:
        pad = common - person.frames.shape[1]
        if pad:
            person.frames = np.pad(person.frames, ((0, 0), (0, pad), (0, 0), (0, 0)))
    return people


def compose(people, boxes: np.ndarray, width: int) -> Composite:
    """Paste every person's frames into their window ``boxes (T, P, 2)`` (x0, y0) on a black
    canvas ``width`` wide and as high as the clips, in order (the last person on top)."""
    count, height = len(people[0].frames), people[0].frames.shape[1]
    boxes = np.asarray(boxes, dtype=np.int64)
    sizes = np.array([[p.frames.shape[2], p.frames.shape[1]] for p in people])
    full = np.concatenate([boxes, np.broadcast_to(sizes, boxes.shape)], axis=-1)
    canvas = np.zeros((count, height, width, 3), np.uint8)
    owner = np.full((count, height, width), -1, np.int8)
    for t in range(count):
        for k, person in enumerate(people):
            x0, y0, w, h = full[t, k]
            cx0, cy0 = max(x0, 0), max(y0, 0)
            cx1, cy1 = min(x0 + w, width), min(y0 + h, height)
            if cx1 <= cx0 or cy1 <= cy0:
                continue
            canvas[t, cy0:cy1, cx0:cx1] = person.frames[t, cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
            owner[t, cy0:cy1, cx0:cx1] = k
    area = (full[..., 2] * full[..., 3]).astype(np.float64)
    visible = np.stack([(owner == k).sum(axis=(1, 2)) for k in range(len(people))], axis=1)
    return Composite(canvas, people[0].fps, full, visible / area, list(people))


def side_by_side(people) -> Composite:
    """The clips next to each other, left to right, still."""
    xs = np.cumsum([0] + [p.frames.shape[2] for p in people[:-1]])
    boxes = np.zeros((len(people[0].frames), len(people), 2), np.int64)
    boxes[..., 0] = xs
    return compose(people, boxes, int(sum(p.frames.shape[2] for p in people)))


def crossing(people, width: int | None = None, still: int = 10) -> Composite:
    """Two windows that swap sides: the first travels from the left edge to the right one, the
    second the other way, at constant speed, after and before ``still`` frames at rest. The
    second is drawn over the first while they overlap. ``width`` defaults to three windows."""
    first, second = people
    count = len(first.frames)
    width = width or 3 * max(first.frames.shape[2], second.frames.shape[2])
    progress = np.clip((np.arange(count) - still) / max(count - 2 * still - 1, 1), 0, 1)
    boxes = np.zeros((count, 2, 2), np.int64)
    boxes[:, 0, 0] = np.round(progress * (width - first.frames.shape[2]))
    boxes[:, 1, 0] = np.round((1 - progress) * (width - second.frames.shape[2]))
    return compose(people, boxes, width)


def leave_and_return(people, leave: int, away: int, slide: int = 10) -> Composite:
    """Side by side; the last person's window slides right, out of the canvas, over ``slide``
    frames from frame ``leave``, stays out for ``away`` frames and slides back in as fast."""
    base = side_by_side(people)
    count = len(base.frames)
    boxes = base.boxes[..., :2].copy()
    shift = np.zeros(count)
    out = people[-1].frames.shape[2]
    for t in range(count):
        s = t - leave
        if 0 <= s < slide:
            shift[t] = (s + 1) / slide
        elif slide <= s < slide + away:
            shift[t] = 1
        elif slide + away <= s < 2 * slide + away:
            shift[t] = 1 - (s - slide - away + 1) / slide
    boxes[:, -1, 0] += np.round(shift * out).astype(np.int64)
    return compose(people, boxes, base.size[1])


# -- scoring a multi-person track against the composite's ground truth ---------------------------

def hips(landmarks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Hip centres in pixels ``(..., 2)`` of normalized landmarks ``(..., 33, >=2)`` on a frame
    of ``size = (height, width)``; NaN where there is no pose."""
    height, width = size
    centre = np.asarray(landmarks, np.float64)[..., 23:25, :2].mean(axis=-2)
    return centre * [width, height]


def truth_in_canvas(composite: Composite, alone) -> list[np.ndarray]:
    """Each person's landmarks tracked alone (``alone[k]``: ``(T, 33, >=2)`` normalized to the
    person's clip, i.e. their window) as canvas-normalized landmarks."""
    return [composite.to_canvas(k, np.asarray(a)) for k, a in enumerate(alone)]


def identities(slots: np.ndarray, truth, size, ambiguous_px: float = 30.0,
               match_px: float | None = None) -> dict:
    """Which person each slot follows, frame by frame, and where that changes.

    A slot's person on a frame is the person whose hip centre tracked alone is nearest to the
    slot's hip centre (and, with ``match_px``, no further than that: a pose further from every
    person is nobody's, e.g. a partial duplicate or a drawing); frames where the slot is empty,
    a person's hips are unknown, or the people's hips are within ``ambiguous_px`` of each other
    (while they pass) say nothing (-1).

    Returned, for slots: ``owner (N,)`` a slot's person on the first frame that says something
    (-1: never); ``nearest (T, N)``; ``wrong (T, N)`` the frames where a slot follows another
    person than its owner; ``switches (N,)`` how often a slot goes from its owner to another
    person. For people: ``slot_of (T, P)`` the slot that follows the person (the nearest of
    those that do; -1: none); ``person_switches (P,)`` how often a person's slot changes from
    one slot to another (a person found again in a new slot is a switch). And ``distance (T,
    N, P)``, slot to person, in pixels.

    ``slots (T, N, 33, >=2)`` canvas-normalized landmarks (NaN where empty); ``truth``: a list
    of ``(T, 33, >=2)`` canvas-normalized landmarks, one per person.
    """
    slot_hips = hips(slots, size)                                   # (T, N, 2)
    person_hips = np.stack([hips(t, size) for t in truth], axis=1)  # (T, P, 2)
    distance = np.linalg.norm(slot_hips[:, :, None] - person_hips[:, None], axis=-1)  # T,N,P
    count = person_hips.shape[1]
    apart = np.ones(len(person_hips), bool)
    for i in range(count):
        for j in range(i + 1, count):
            gap = np.linalg.norm(person_hips[:, i] - person_hips[:, j], axis=-1)
            apart &= gap > ambiguous_px
    filled = np.nan_to_num(distance, nan=np.inf)
    known = np.isfinite(distance).all(axis=-1) & apart[:, None]
    if match_px is not None:
        known &= filled.min(axis=-1) <= match_px
    nearest = np.where(known, np.argmin(filled, axis=-1), -1)
    owner = np.array([column[column >= 0][0] if (column >= 0).any() else -1
                      for column in nearest.T])
    wrong = (nearest >= 0) & (nearest != owner[None])
    onset = wrong & ~np.vstack([np.zeros((1, wrong.shape[1]), bool), wrong[:-1]])
    slot_of = np.full(person_hips.shape[:2], -1)
    person_switches = np.zeros(count, int)
    for person in range(count):
        follows = nearest == person                                 # (T, N)
        mine = np.where(follows, filled[..., person], np.inf)
        slot_of[:, person] = np.where(follows.any(axis=1), np.argmin(mine, axis=1), -1)
        seen = slot_of[:, person][slot_of[:, person] >= 0]
        person_switches[person] = int((np.diff(seen) != 0).sum())
    return {"owner": owner, "nearest": nearest, "wrong": wrong,
            "switches": onset.sum(axis=0), "slot_of": slot_of,
            "person_switches": person_switches, "distance": distance}


def pixel_errors(found: np.ndarray, truth: np.ndarray, size) -> np.ndarray:
    """Distances in pixels ``(T, 33)`` between two canvas-normalized landmark arrays
    ``(T, 33, >=2)``; NaN where either has no pose."""
    height, width = size
    found, truth = np.asarray(found, np.float64), np.asarray(truth, np.float64)
    return np.hypot((found[..., 0] - truth[..., 0]) * width,
                    (found[..., 1] - truth[..., 1]) * height)
