"""Transformed versions of a counted clip's landmarks, for the repetition robustness benchmark.

Every transform here is a **synthetic landmark edit** (no video is re-encoded or re-tracked):
it takes the :class:`posejax.PoseTrack` of a counted clip and returns a new track, the count a
person would give it, and for each new frame the clip's frame it shows (-1 for a made-up one), so
the by-eye turning points of ``datasets/counted_clips.csv`` move with the frames.

* ``walk``: a walk-in before and a walk-out after the clip. The walk is made up: the bundled
  standing pose (``squat_up``) with a gait (hips +-25 deg, knees 0-60 deg, arms swinging
  opposite), whose image landmarks travel across the picture towards the camera (growing to the
  clip's size) before and away from it after, joined to the clip by a 1 s blend (stepping in).
* ``pause``: 8 s at rest between two sets (the rest frame between the middle two turning points,
  repeated with landmark jitter).
* ``tempo 0.6x`` / ``tempo 1.6x`` / ``tempo 0.6-1.6x``: resampled in time (linear
  interpolation of the landmarks), uniformly or with the speed rising from 0.6x to 1.6x.
* ``mirror``: the video flipped left-right (x -> 1 - x, left and right landmarks swapped).
* ``cut``: the recording starts at the first turning point (the first repetition cut in half,
  so it does not count).
* ``away``: 3 s without a person between two sets (the person steps out of view).
* ``small + walk``: a third of the movement taken away (every frame a third of the way back to
  the rest pose, as a wall push-up bends the elbows less than a floor one) with the walk-in
  and walk-out.
* ``all``: walk-in, a pause and a changing tempo at once.

:func:`walk_alone` is a made-up pedestrian on its own (no exercise: counts 0).
"""

from __future__ import annotations

import dataclasses

import numpy as np

try:  # run as a script next to it (benchmarks), or imported as tools.rep_transforms (tests)
    from make_rep_fixtures import bottom_ranges
except ImportError:
    from tools.make_rep_fixtures import bottom_ranges

# Subject's left <-> right, for the mirror image.
_MIRROR = np.array([0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9]
                   + [i + 1 if i % 2 else i - 1 for i in range(11, 33)])  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Variant:
    """A transformed clip: its name, track, the counts that are right, and its turning points."""

    name: str
    track: object
    accepted: frozenset
    bottoms: str  # "a-b ..." frame ranges, as in counted_clips.csv
    source: np.ndarray  # clip frame shown by each frame, -1 for made-up frames


def _build(track, landmarks, world, present):
    n = len(present)
    height_width = np.broadcast_to(np.asarray(track.image_sizes)[0], (n, 2))
    return dataclasses.replace(
        track, landmarks=landmarks.astype(np.float32), world_landmarks=world.astype(np.float32),
        pose_present=present, rois=np.zeros((n, 5), np.float32),
        timestamps=np.arange(n) / track.fps, image_sizes=np.array(height_width),
        segmentation_mask=None,
    )  # fmt: skip


def _moved_bottoms(bottoms: str, source: np.ndarray) -> str:
    """The by-eye turning points, in the frames of the transformed clip (dropped if not shown)."""
    ranges = []
    for a, b in bottom_ranges(bottoms):
        shown = np.flatnonzero((source >= a) & (source <= b))
        if len(shown):
            ranges.append(f"{shown.min()}-{shown.max()}")
    return " ".join(ranges)


def _arrays(track):
    present = np.asarray(track.pose_present, bool)
    image = np.asarray(track.landmarks, np.float64).copy()
    world = np.asarray(track.world_landmarks, np.float64).copy()
    image[~present], world[~present] = np.nan, np.nan
    return image, world, present


def _take(track, source):
    """Frames ``source`` of the clip; -1 stays a frame without a person."""
    image, world, present = _arrays(track)
    keep = source >= 0
    out = [np.full((len(source), *a.shape[1:]), np.nan) for a in (image, world)]
    out[0][keep], out[1][keep] = image[source[keep]], world[source[keep]]
    return _build(track, out[0], out[1], keep & present[np.maximum(source, 0)])


def mirror(track):
    image, world, present = _arrays(track)
    image, world = image[:, _MIRROR], world[:, _MIRROR]
    image[..., 0] = 1 - image[..., 0]
    world[..., 0] = -world[..., 0]
    return _build(track, image, world, present)


def retime(track, speed):
    """Resampled so that each new frame advances ``speed(k)`` clip frames (1.6 = faster)."""
    n = track.n_frames
    position = [0.0]
    while position[-1] + speed(len(position)) <= n - 1:
        position.append(position[-1] + speed(len(position)))
    position = np.array(position)
    image, world, present = _arrays(track)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n - 1)
    w = (position - low)[:, None, None]
    frames = [(1 - w) * a[low] + w * a[high] for a in (image, world)]
    return _build(track, *frames, present[low] & present[high]), np.round(position).astype(int)


def _rest_frame(bottoms: str) -> int:
    """The frame at rest halfway between the middle two turning points."""
    ranges = bottom_ranges(bottoms)
    k = max(len(ranges) // 2 - 1, 0)
    return (ranges[k][1] + ranges[k + 1][0]) // 2


def insert_pause(track, at: int, seconds: float, *, person: bool = True, seed: int = 0):
    """``seconds`` after frame ``at``: still at rest (jittering like a tracked pose) or no one."""
    extra = int(round(seconds * track.fps))
    source = np.r_[np.arange(at + 1), np.full(extra, at), np.arange(at + 1, track.n_frames)]
    if not person:
        source[at + 1 : at + 1 + extra] = -1
        return _take(track, source), source
    new = _take(track, source)
    image, world, present = _arrays(new)
    rng = np.random.default_rng(seed)
    # Still people jitter by a few millimetres in MediaPipe's output, never exactly repeat.
    world[at + 1 : at + 1 + extra, :, :3] += rng.normal(0, 0.005, (extra, 33, 3))
    image[at + 1 : at + 1 + extra, :, :2] += rng.normal(0, 0.002, (extra, 33, 2))
    return _build(track, image, world, present), source


def _standing_pose():
    from classify.datasets import _load_arrays

    data = _load_arrays()
    pick = data["label"] == "squat_up"
    return (np.nanmean(data["world_landmarks"][pick], axis=0)[:, :3].astype(np.float64),
            np.nanmean(data["landmarks"][pick], axis=0).astype(np.float64))  # fmt: skip


def _rotate_yz(points, pivot, degrees):
    """Rotate points about ``pivot`` in the body's sagittal plane (world y-z)."""
    a = np.radians(degrees)
    y, z = points[..., 1] - pivot[..., 1], points[..., 2] - pivot[..., 2]
    out = points.copy()
    out[..., 1] = pivot[..., 1] + np.cos(a) * y - np.sin(a) * z
    out[..., 2] = pivot[..., 2] + np.sin(a) * y + np.cos(a) * z
    return out


def gait(n: int, fps: float, *, stride_hz: float = 0.9, seed: int = 0) -> np.ndarray:
    """World landmarks ``(n, 33, 3)`` of someone walking (a made-up gait on a standing pose)."""
    stand, _ = _standing_pose()
    phase = 2 * np.pi * stride_hz * np.arange(n) / fps + np.random.default_rng(seed).uniform(0, 6)
    world = np.repeat(stand[None], n, axis=0)
    legs = {23: (25, [25, 27, 29, 31], [27, 29, 31]), 24: (26, [26, 28, 30, 32], [28, 30, 32])}
    arms = {11: (13, [13, 15, 17, 19, 21], [15, 17, 19, 21]),
            12: (14, [14, 16, 18, 20, 22], [16, 18, 20, 22])}  # fmt: skip
    for side, (hip, (knee, leg, shank)) in enumerate(legs.items()):
        swing = phase + np.pi * side
        for t in range(n):
            world[t, leg] = _rotate_yz(world[t, leg], world[t, hip], 25 * np.sin(swing[t]))
            bend = 30 * (1 + np.sin(swing[t] + np.pi / 2))  # knee 0-60 deg, most in the swing
            world[t, shank] = _rotate_yz(world[t, shank], world[t, knee], -bend)
    for side, (shoulder, (elbow, arm, forearm)) in enumerate(arms.items()):
        swing = phase + np.pi * (1 - side)  # each arm swings with the opposite leg
        for t in range(n):
            world[t, arm] = _rotate_yz(world[t, arm], world[t, shoulder], 20 * np.sin(swing[t]))
            bend = 15 + 15 * (1 + np.sin(swing[t]))
            world[t, forearm] = _rotate_yz(world[t, forearm], world[t, elbow], bend)
    return world


def _walk_image(world, track, anchor, hips, size):
    """Image landmarks of a walk: the world pose projected about ``hips`` (normalised image
    coordinates, ``(n, 2)``) at ``size`` pixels per metre (``(n,)``)."""
    height, width = np.asarray(track.image_sizes)[0]
    n = len(world)
    size = np.asarray(size, np.float64).reshape(n, 1, 1)
    centre = (world[:, 23] + world[:, 24])[:, None, :2] / 2
    xy = (world[..., :2] - centre) * size
    image = np.zeros((n, 33, 5))
    image[..., 0] = hips[:, None, 0] + xy[..., 0] / width
    image[..., 1] = hips[:, None, 1] + xy[..., 1] / height
    image[..., 2] = world[..., 2] * size[..., 0] / width
    image[..., 3:] = anchor[None, :, 3:]
    return image


def walk_in_out(track, seconds: float = 4.0, blend: float = 1.0, seed: int = 0):
    """The clip with a walk towards the camera before it and a walk away after it."""
    image, world, present = _arrays(track)
    fps, (height, width) = track.fps, np.asarray(track.image_sizes)[0]
    seen = np.flatnonzero(present)
    first, last = seen[0], seen[-1]

    def where(t):
        hip = (image[t, 23, :2] + image[t, 24, :2]) / 2
        shoulder_px = (image[t, 11, :2] + image[t, 12, :2]) / 2 * [width, height]
        torso = (world[t, 11] + world[t, 12] - world[t, 23] - world[t, 24])[:3] / 2
        torso_m = np.linalg.norm(torso)
        return hip, np.linalg.norm(shoulder_px - hip * [width, height]) / torso_m

    n_walk, n_blend = int(round(seconds * fps)), int(round(blend * fps))
    parts_image, parts_world, source = [], [], []
    for before in (True, False):
        t = first if before else last
        hip, size = where(t)
        # Walk across the picture, entering (leaving) at the far side from where the person is.
        far = np.array([0.12 if hip[0] > 0.5 else 0.88, hip[1]])
        steps = gait(n_walk, fps, seed=seed + before)
        # In from twice as far (half the size), out to twice as far, at a steady pace.
        s = np.linspace(0, 1, n_walk)[:, None]
        s = s if before else 1 - s
        walk_image = _walk_image(steps, track, image[t], (1 - s) * far + s * hip,
                                 size * (0.5 + 0.5 * s[:, 0]))  # fmt: skip
        walk_world = np.concatenate([steps, world[t][None, :, 3:].repeat(n_walk, 0)], axis=-1)
        ends = (walk_image[-1], walk_world[-1]) if before else (walk_image[0], walk_world[0])
        w = np.linspace(0, 1, n_blend + 2)[1:-1, None, None]
        if not before:
            w = 1 - w
        blend_image = (1 - w) * ends[0] + w * image[t]
        blend_world = (1 - w) * ends[1] + w * world[t]
        if before:
            parts_image += [walk_image, blend_image]
            parts_world += [walk_world, blend_world]
            source += [-1] * (n_walk + n_blend)
        else:
            parts_image += [image[first : last + 1], blend_image, walk_image]
            parts_world += [world[first : last + 1], blend_world, walk_world]
            source += list(range(first, last + 1)) + [-1] * (n_blend + n_walk)
    new_image, new_world = np.concatenate(parts_image), np.concatenate(parts_world)
    new_present = np.isfinite(new_world).all(axis=(1, 2))
    return _build(track, new_image, new_world, new_present), np.array(source)


def walk_alone(seconds: float = 6.0, fps: float = 30.0):
    """A made-up pedestrian crossing a 640 x 480 picture towards the camera (no exercise).

    Walking at 1.1 m/s: from 9 m to 3 m away (1 m/s), and from 2 m left of the camera's axis
    to 1 m right (0.5 m/s); the camera's focal length puts a 1.7 m person at two thirds of the
    picture's height at 3 m.
    """
    from posejax import PoseTrack

    n = int(round(seconds * fps))
    t = np.arange(n) / fps
    distance = 9.0 - 6.0 * t / seconds
    across = -2.0 + 3.0 * t / seconds
    focal = 0.66 * 480 * 3.0 / 1.7  # pixels
    hips = np.column_stack([0.5 + focal * across / distance / 640, 0.5 + 0.3 / distance])
    _, stand_image = _standing_pose()
    holder = PoseTrack(np.zeros((n, 33, 5), np.float32), np.zeros((n, 33, 4), np.float32),
                       np.ones(n, bool), np.zeros((n, 5), np.float32), t,
                       np.tile([[480, 640]], (n, 1)), fps)  # fmt: skip
    steps = gait(n, fps, seed=7)
    image = _walk_image(steps, holder, stand_image, hips, focal / distance)
    world = np.concatenate([steps, np.ones((n, 33, 1))], axis=-1)
    return _build(holder, image, world, np.ones(n, bool))


def smaller(track, at: int, share: float = 1 / 3):
    """Every frame moved ``share`` of the way back to the rest pose of frame ``at``.

    The joints then move through two thirds of their angles, as in a wall push-up (standing close
    to a wall, the elbow bends less than in a floor push-up) or a shallow squat.
    """
    image, world, present = _arrays(track)
    image = image[at] + (1 - share) * (image - image[at])
    world = world[at] + (1 - share) * (world - world[at])
    return _build(track, image, world, present)


def variants(track, accepted, bottoms: str) -> list[Variant]:
    """Every transformed version of one counted clip (see the module docstring)."""
    accepted = frozenset(accepted)
    out = []

    def add(name, new, source, counts=accepted):
        out.append(Variant(name, new, frozenset(counts), _moved_bottoms(bottoms, source), source))

    add("walk", *walk_in_out(track))
    rest = _rest_frame(bottoms)
    add("pause", *insert_pause(track, rest, 8.0))
    for name, speed in (("tempo 0.6x", lambda k: 0.6), ("tempo 1.6x", lambda k: 1.6)):
        add(name, *retime(track, speed))
    n = track.n_frames
    # The speed rises from 0.6x to 1.6x over the clip (about n output frames at 1x on average).
    add("tempo 0.6-1.6x", *retime(track, lambda k: 0.6 + 1.0 * min(k / n, 1.0)))
    add("mirror", mirror(track), np.arange(n))
    first = bottom_ranges(bottoms)[0]
    start = (first[0] + first[1]) // 2
    # Fewer than two repetitions left is no set (neither counter counts a lone movement).
    if min(accepted) - 1 >= 2:
        source = np.arange(start, n)
        # The cut repetition's turning point is shown but is no repetition's.
        cut = Variant("cut", _take(track, source), frozenset(c - 1 for c in accepted),
                      _moved_bottoms(bottoms.split(maxsplit=1)[1], source), source)
        out.append(cut)
    add("away", *insert_pause(track, rest, 3.0, person=False))
    small_walk, small_source = walk_in_out(smaller(track, rest))
    add("small + walk", small_walk, small_source)
    walked, walk_source = walk_in_out(track)
    paused, pause_source = insert_pause(walked, int(np.flatnonzero(walk_source == rest)[0]), 8.0)
    warped, warp_source = retime(paused, lambda k: 0.6 + 1.0 * min(k / paused.n_frames, 1.0))
    add("all", warped, walk_source[pause_source[warp_source]])
    return out
