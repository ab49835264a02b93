"""Small PoseTracks built by hand, for tests of the DataFrame, IO and drawing layers."""

from __future__ import annotations

import dataclasses

import numpy as np

from posejax import PoseTrack
from posejax.landmarks import PoseLandmark as L

HEIGHT, WIDTH = 120, 200


def random_track(
    n_frames: int = 6,
    batch: int | None = None,
    missing=(2,),
    names=None,
    seed: int = 0,
    height: int = HEIGHT,
    width: int = WIDTH,
) -> PoseTrack:
    """Random landmarks in [0, 1) with NaN frames at ``missing`` (no pose there)."""
    rng = np.random.default_rng(seed)
    lead = (n_frames,) if batch is None else (batch, n_frames)
    landmarks = rng.random(lead + (33, 5)).astype(np.float32)
    world = (rng.random(lead + (33, 4)) - 0.5).astype(np.float32)
    present = np.ones(lead, bool)
    present[..., list(missing)] = False
    landmarks[~present] = np.nan
    world[~present] = np.nan
    rois = rng.random(lead + (5,)).astype(np.float32)
    rois[~present] = np.nan
    times = np.broadcast_to(np.arange(n_frames) / 30.0 + 0.5, lead).copy()
    sizes = np.broadcast_to(np.array([height, width]), lead + (2,)).copy()
    return PoseTrack(
        landmarks=landmarks,
        world_landmarks=world,
        pose_present=present,
        rois=rois,
        timestamps=times,
        image_sizes=sizes,
        fps=30.0,
        model_complexity=0,
        video_names=names,
    )


def standing_pose_px(knee_bend_deg: float = 0.0) -> np.ndarray:
    """``(33, 2)`` pixel positions of an upright figure facing the camera in a 200x120 image.

    The left knee bends by ``knee_bend_deg`` (the shin swings towards +x), so the left knee
    angle (hip-knee-ankle) is ``180 - knee_bend_deg``. Left is the subject's left, on the
    image's right (+x).
    """
    points = np.zeros((33, 2))
    centre = WIDTH / 2
    points[L.NOSE] = (centre, 14)
    for side, sign in (("LEFT", 1), ("RIGHT", -1)):
        for k, part in enumerate(("EYE_INNER", "EYE", "EYE_OUTER")):
            points[L[f"{side}_{part}"]] = (centre + sign * (4 + 4 * k), 6)
        points[L[f"{side}_EAR"]] = (centre + sign * 16, 10)
        points[L[f"MOUTH_{side}"]] = (centre + sign * 5, 22)
        points[L[f"{side}_SHOULDER"]] = (centre + sign * 16, 30)
        points[L[f"{side}_ELBOW"]] = (centre + sign * 30, 44)
        points[L[f"{side}_WRIST"]] = (centre + sign * 40, 58)
        for k, hand in enumerate(("PINKY", "INDEX", "THUMB")):
            points[L[f"{side}_{hand}"]] = (centre + sign * (46 + 3 * k), 68 - 3 * k)
        points[L[f"{side}_HIP"]] = (centre + sign * 10, 64)
        points[L[f"{side}_KNEE"]] = (centre + sign * 10, 84)
        points[L[f"{side}_ANKLE"]] = (centre + sign * 10, 104)
        points[L[f"{side}_HEEL"]] = (centre + sign * 10, 112)
        points[L[f"{side}_FOOT_INDEX"]] = (centre + sign * 18, 114)
    bend = np.radians(knee_bend_deg)
    knee = points[L.LEFT_KNEE]
    points[L.LEFT_ANKLE] = knee + 20 * np.array([np.sin(bend), np.cos(bend)])
    return points


def pose_track(
    points_px: np.ndarray, world: np.ndarray | None = None, visibility: np.ndarray | float = 0.9
) -> PoseTrack:
    """A track of ``T`` frames from pixel positions ``(T, 33, 2)`` in a 200x120 image."""
    points_px = np.asarray(points_px, np.float64)
    n = len(points_px)
    landmarks = np.zeros((n, 33, 5), np.float32)
    landmarks[..., 0] = points_px[..., 0] / WIDTH
    landmarks[..., 1] = points_px[..., 1] / HEIGHT
    landmarks[..., 3] = visibility
    landmarks[..., 4] = 0.95
    if world is None:
        world = np.zeros((n, 33, 3))
    world_landmarks = np.concatenate([world, landmarks[..., 3:4]], axis=-1).astype(np.float32)
    present = np.isfinite(landmarks[..., 0]).all(axis=-1)
    return PoseTrack(
        landmarks=landmarks,
        world_landmarks=world_landmarks,
        pose_present=present,
        rois=np.zeros((n, 5), np.float32),
        timestamps=np.arange(n) / 10.0,
        image_sizes=np.tile([HEIGHT, WIDTH], (n, 1)),
        fps=10.0,
    )


def assert_tracks_equal(a: PoseTrack, b: PoseTrack, *, rois: bool = True) -> None:
    """Every array bit for bit (NaN where NaN), same dtypes, same metadata.

    ``rois=False`` for ``b`` rebuilt from a DataFrame: tables hold landmarks, not the tracker's
    regions of interest, so ``b.rois`` must be all NaN.
    """
    if not rois:
        assert np.shape(b.rois) == np.shape(a.rois) and np.isnan(b.rois).all()
    fields = ("landmarks", "world_landmarks", "pose_present", "rois", "timestamps", "image_sizes")
    for field in fields if rois else tuple(f for f in fields if f != "rois"):
        left, right = np.asarray(getattr(a, field)), np.asarray(getattr(b, field))
        assert left.shape == right.shape, (field, left.shape, right.shape)
        assert left.dtype == right.dtype, (field, left.dtype, right.dtype)
        assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), field
    assert (a.fps, a.model_complexity, a.video_names) == (b.fps, b.model_complexity, b.video_names)
    assert (a.individuals, a.individual_name) == (b.individuals, b.individual_name)


def people_track(*tracks: PoseTrack, names=None) -> PoseTrack:
    """A multi-person track of one-person ``tracks`` (same frames): person ``k`` is ``tracks[k]``.

    Their per-person arrays are stacked on a new axis after the frames; times, image sizes and
    the rest come from the first track. ``names`` defaults to ``person_0, person_1, ...``.
    """
    first = tracks[0]
    axis = np.ndim(first.timestamps)
    stacked = {
        field: np.stack([getattr(t, field) for t in tracks], axis=axis)
        for field in ("landmarks", "world_landmarks", "pose_present", "rois")
    }
    names = tuple(names or (f"person_{k}" for k in range(len(tracks))))
    return dataclasses.replace(first, **stacked, individuals=names, individual_name=None,
                               segmentation_mask=None)
