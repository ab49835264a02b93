"""Reference outputs of MediaPipe Pose 0.10.21 and the media they were computed from.

Parity tests compare posejax with the fixtures in ``tests/fixtures/reference/`` (written by
``tools/make_reference_fixtures.py``). Both sides must decode the media identically, so the
decoding rules live here once, in :func:`load_rgb` and :func:`iter_video_frames`, and the
fixture script imports this module from inside the reference venv (numpy 1.26, no pytest), while
the tests import it under numpy 2. Keep it free of posejax and of top-level pytest imports.

Media from git repositories are never copied into the repository: they are read from
``<repo>/../shared/data`` (:data:`SHARED_DATA`); :func:`require_shared` turns their absence into a
skip (or a failure under ``CI=true``).

Layout of a static reference (:func:`load_static_reference`), arrays stacked over
``model_complexity`` 0, 1, 2 on the first axis (``C = 3``); NaN where there is no pose:

=========================  ================  ==================================================
key                        shape             content
=========================  ================  ==================================================
``has_pose``               (C,)              bool, ``pose_landmarks is not None``
``landmarks``              (C, 33, 4)        x, y (normalized), z, visibility
``world``                  (C, 33, 4)        x, y, z in metres, visibility
``mask``                   (C, H, W)         bool, ``segmentation_mask > 0.5`` (all False
                                             without a pose); stored as ``mask_bits``
``detection``              (C, 13)           stream ``pose_detection``: score, xmin, ymin,
                                             width, height, then 4 keypoints (x, y); NaN if none
``num_detections``         (C,)              length of ``pose_detections`` (after NMS)
``roi``                    (C, 5)            stream ``pose_rect`` (the ROI the landmark model
                                             ran on): x_center, y_center, width, height, rotation
``roi_from_detection``     (C, 5)            stream ``pose_rect_from_detection``
``roi_from_landmarks``     (C, 5)            stream ``pose_rect_from_landmarks``
``presence_score``         (C,)              the landmark model's pose flag (before the gate)
``unfiltered_landmarks``   (C, 33, 5)        stream ``unfiltered_pose_landmarks`` (x, y, z,
                                             visibility, presence), before smoothing
``unfiltered_world``       (C, 33, 4)        stream ``unfiltered_world_landmarks``
``unfiltered_auxiliary``   (C, 2, 5)         stream ``unfiltered_auxiliary_landmarks``
``auxiliary``              (C, 2, 5)         stream ``auxiliary_landmarks`` (after the aux filter)
``roi_landmarks_raw``      (C, 39, 5)        landmarks in ROI-tensor coordinates before heatmap
                                             refinement (``..._raw_landmarks``)
``roi_landmarks_refined``  (C, 39, 5)        the same after refinement (``..._all_landmarks``)
``rgb_sha256``             ()                sha256 of the decoded uint8 RGB array
``meta``                   dict              versions, options, file name, file sha256, command
=========================  ================  ==================================================

A video reference (:func:`load_video_reference`) has the same keys with ``T`` frames in place of
``C`` (and ``present`` in place of ``has_pose``), plus ``frame_sha256`` (T,); ``mask`` only for
the segmentation sequence. In video mode ``roi`` on frame t is ``roi_from_landmarks`` of frame
t-1 when that exists (tracking), else ``roi_from_detection`` of frame t.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
#: media from git repositories, shared beside the repository (never committed)
SHARED_DATA = REPO / ".." / "shared" / "data"
#: the npz files written by ``tools/make_reference_fixtures.py``
FIXTURES = REPO / "tests" / "fixtures" / "reference"

#: images with static-mode references, in the order the fixture script processes them
STATIC_IMAGES = (
    "mp_pose_yoga_warrior.jpg",
    "tfex_image1_standing_woman_render.png",
    "tfex_image2_standing_man.jpeg",
    "tfex_image3_yoga_tree_pose.jpeg",
    "opencv_messi5.jpg",
    "skimage_astronaut.png",
    "tfjs_portrait.jpg",
    "mp_pushup_up_down_samples.jpg",
    "mps_couple_and_dog.jpeg",
    "mps_three_people_horse.jpeg",
    "opencv_basketball1_gray.png",
    "mps_cats_and_dogs_no_person.jpg",
    "opencv_fruits_no_person.jpg",
)
NO_PERSON_IMAGES = ("mps_cats_and_dogs_no_person.jpg", "opencv_fruits_no_person.jpg")

#: reference name -> (where the video lives, path under it, frames to process or None for all)
VIDEOS = {
    "infai_synthetic_leg_raises_6reps": ("shared", "videos/infai_synthetic_leg_raises_6reps.mp4",
                                         None),
    "sports2d_demo": ("repo", "datasets/sports2d_demo.mp4", None),
    "mp_pose_squats": ("shared", "videos/mp_pose_squats.mp4", None),
    "mp_docs_squats_world_landmarks_overlay": (
        "shared", "videos/mp_docs_squats_world_landmarks_overlay.mp4", None),
    # video mode with segmentation: mask handling across frames
    "sports2d_demo_segmentation": ("repo", "datasets/sports2d_demo.mp4", 30),
}

_MEDIA_ROOTS = {"shared": SHARED_DATA, "repo": REPO}


def require_shared(path: str | os.PathLike) -> Path:
    """Return ``path`` if it exists; otherwise skip the test (fail when ``CI=true``).

    Parameters
    ----------
    path : path-like
        A file under :data:`SHARED_DATA` (absolute, or relative to it).

    Returns
    -------
    pathlib.Path
        The existing path.

    Example
    -------
    >>> require_shared("images/mp_pose_yoga_warrior.jpg").name
    'mp_pose_yoga_warrior.jpg'
    """
    import pytest  # only tests call this; the fixture script runs where pytest is absent

    path = Path(path)
    if not path.is_absolute():
        path = SHARED_DATA / path
    if path.exists():
        return path
    reason = (f"shared test media {path} is missing: these files come from git repositories and "
              f"are never committed; put the shared data set at {SHARED_DATA.resolve()}")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def require_module(name: str, reason: str):
    """Import ``name``, or skip the test when it is not installed (fail when ``CI=true``).

    For the interop tests: CI installs the ``test`` extra, so a missing library there is a broken
    environment, not a reason to skip.

    Example
    -------
    >>> require_module("json", "the standard library").__name__
    'json'
    """
    import importlib

    import pytest  # only tests call this; the fixture script runs where pytest is absent

    try:
        return importlib.import_module(name)
    except ImportError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed under CI=true ({reason}): {error}")
        pytest.skip(f"{name} is not installed ({reason})")


def load_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to an ``(H, W, 3)`` uint8 RGB array, the way the fixtures were made.

    Decoding is ``imageio.v3.imread`` (Pillow). Grayscale repeats its channel three times, RGBA
    drops alpha (no compositing) and a single-channel third axis is repeated too. EXIF
    orientation is not applied.

    Parameters
    ----------
    path : path-like
        Image file.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` uint8, C-contiguous.

    Raises
    ------
    ValueError
        If the decoded image is not uint8 or has an unsupported channel count.

    Example
    -------
    >>> rgb = load_rgb(SHARED_DATA / "images/opencv_basketball1_gray.png")
    >>> rgb.shape
    (480, 640, 3)
    """
    import imageio.v3 as iio

    image = np.asarray(iio.imread(path))
    if image.dtype != np.uint8:
        raise ValueError(f"{path}: decoded to {image.dtype}, only 8-bit images are supported")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"{path}: decoded to shape {image.shape}, expected (H, W[, 1|3|4])")
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def rgb_sha256(rgb: np.ndarray) -> str:
    """Hex sha256 of a decoded image's bytes, after checking it is ``(..., 3)`` uint8.

    Example
    -------
    >>> rgb_sha256(np.zeros((1, 1, 3), np.uint8))[:8]
    '709e80c8'
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.shape[-1] != 3:
        raise ValueError(f"expected uint8 RGB with 3 channels last, got {rgb.dtype} {rgb.shape}")
    return hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest()


def iter_video_frames(path: str | os.PathLike, stop: int | None = None) -> Iterator[np.ndarray]:
    """Yield a video's frames as ``(H, W, 3)`` uint8 RGB, decoded by imageio's PyAV plugin.

    Parameters
    ----------
    path : path-like
        Video file.
    stop : int, optional
        Yield only the first ``stop`` frames.

    Yields
    ------
    numpy.ndarray
        One frame, ``(H, W, 3)`` uint8.

    Example
    -------
    >>> first = next(iter_video_frames(REPO / "datasets/sports2d_demo.mp4"))
    >>> first.shape
    (994, 1768, 3)
    """
    import imageio.v3 as iio

    if stop is not None and stop < 0:
        raise ValueError(f"stop must be >= 0, got {stop}")
    for index, frame in enumerate(iio.imiter(path, plugin="pyav", format="rgb24")):
        if stop is not None and index >= stop:
            return
        yield np.ascontiguousarray(frame)


def load_video_frames(path: str | os.PathLike, stop: int | None = None) -> np.ndarray:
    """All (or the first ``stop``) frames of a video as one ``(T, H, W, 3)`` uint8 array.

    Mind the memory: the 230-frame Sports2D clip takes 1.2 GB; stream long clips with
    :func:`iter_video_frames` instead.

    Example
    -------
    >>> frames = load_video_frames(REPO / "datasets/sports2d_demo.mp4", stop=2)
    >>> frames.shape
    (2, 994, 1768, 3)
    """
    frames = list(iter_video_frames(path, stop))
    if not frames:
        raise ValueError(f"{path}: no frames decoded")
    return np.stack(frames)


def unpack_mask(bits: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Undo ``np.packbits(mask.reshape(-1))`` for one ``(H, W)`` boolean mask.

    Example
    -------
    >>> mask = np.eye(3, dtype=bool)
    >>> bool((unpack_mask(np.packbits(mask.reshape(-1)), (3, 3)) == mask).all())
    True
    """
    height, width = shape
    return np.unpackbits(bits, count=height * width).reshape(height, width).astype(bool)


def _load_npz(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing; regenerate with `python tools/make_reference_fixtures.py`")
    with np.load(path, allow_pickle=False) as npz:
        data = {key: npz[key] for key in npz.files}
    data["meta"] = json.loads(str(data["meta"]))
    if "mask_bits" in data:
        shape = tuple(data["meta"]["image_shape"][:2])
        data["mask"] = np.stack([unpack_mask(bits, shape) for bits in data.pop("mask_bits")])
    for key in ("rgb_sha256",):
        if key in data:
            data[key] = str(data[key])
    return data


def load_static_reference(name: str) -> dict:
    """Static-image-mode references for one image, stacked over model_complexity 0, 1, 2.

    Parameters
    ----------
    name : str
        Image file name from :data:`STATIC_IMAGES` (with or without its extension).

    Returns
    -------
    dict
        Arrays as described in this module's docstring; ``meta`` is a dict.

    Example
    -------
    >>> ref = load_static_reference("mp_pose_yoga_warrior.jpg")
    >>> ref["landmarks"].shape, bool(ref["has_pose"][1])
    ((3, 33, 4), True)
    """
    stem = Path(name).stem
    if stem not in {Path(image).stem for image in STATIC_IMAGES}:
        raise ValueError(f"no static reference for {name!r}; known: {', '.join(STATIC_IMAGES)}")
    return _load_npz(FIXTURES / f"static_{stem}.npz")


def load_video_reference(name: str) -> dict:
    """Video-mode references for one clip (complexity 1, smoothing on, default thresholds).

    Parameters
    ----------
    name : str
        A key of :data:`VIDEOS`, e.g. ``"mp_pose_squats"``.

    Returns
    -------
    dict
        Arrays with a leading frame axis as described in this module's docstring; ``meta`` is a
        dict.

    Example
    -------
    >>> ref = load_video_reference("mp_pose_squats")
    >>> ref["landmarks"].shape
    (65, 33, 4)
    """
    if name not in VIDEOS:
        raise ValueError(f"no video reference {name!r}; known: {', '.join(VIDEOS)}")
    return _load_npz(FIXTURES / f"video_{name}.npz")


def reference_media_path(meta: dict) -> Path:
    """Path of the image or video a reference was computed from (``meta["media"]``).

    Shared media go through :func:`require_shared`, so a test skips (or fails under CI) when
    they are absent.

    Example
    -------
    >>> ref = load_video_reference("sports2d_demo")
    >>> reference_media_path(ref["meta"]).name
    'sports2d_demo.mp4'
    """
    root, relative = meta["media"]["root"], meta["media"]["path"]
    if root not in _MEDIA_ROOTS:
        raise ValueError(f"unknown media root {root!r} in fixture meta")
    path = _MEDIA_ROOTS[root] / relative
    return require_shared(path) if root == "shared" else path
