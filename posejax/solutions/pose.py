"""Stand-in for ``mediapipe.solutions.pose`` (mediapipe 0.10.21).

``Pose``, ``PoseLandmark`` and ``POSE_CONNECTIONS`` live here, where MediaPipe keeps them
(``mediapipe/python/solutions/pose.py``).

:class:`Pose` takes the same constructor arguments, defaults and result fields as MediaPipe's;
frames go through the same compiled per-frame step as :func:`posejax.track`, with the tracking
state kept between calls.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from posejax.landmarks import POSE_CONNECTIONS, PoseLandmark
from posejax.pipeline import MEDIAPIPE_FRAME_STEP_US, PipelineConfig, get_pipeline
from posejax.stepwise import shared_runner

__all__ = ["POSE_CONNECTIONS", "Pose", "PoseLandmark", "PoseResult"]

_FIELDS = ("x", "y", "z", "visibility", "presence")


@dataclasses.dataclass
class NormalizedLandmark:
    """One landmark, as MediaPipe's protobuf message of that name.

    ``x`` and ``y`` are normalized to the image; ``z`` is on the scale of ``x``. MediaPipe's
    ``process()`` clears ``presence`` (``HasField("presence")`` is False and the value reads 0.0);
    so does this class, for compatibility. :attr:`PoseResult.landmarks` keeps it.
    """

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    visibility: float = 0.0
    presence: float = 0.0
    _set: frozenset = dataclasses.field(default=frozenset(_FIELDS[:4]), repr=False)

    def HasField(self, name: str) -> bool:  # noqa: N802 (protobuf's spelling)
        if name not in _FIELDS:
            raise ValueError(f'Protocol message has no non-repeated field "{name}"')
        return name in self._set


#: World landmarks have the same fields (in metres) in MediaPipe.
Landmark = NormalizedLandmark


@dataclasses.dataclass
class NormalizedLandmarkList:
    """33 landmarks, as MediaPipe's ``NormalizedLandmarkList`` (``.landmark[i]``)."""

    landmark: list


LandmarkList = NormalizedLandmarkList


class PoseResult(NamedTuple):
    """What :meth:`Pose.process` returns; the first three fields are MediaPipe's.

    Attributes
    ----------
    pose_landmarks : NormalizedLandmarkList or None
    pose_world_landmarks : LandmarkList or None
    segmentation_mask : ndarray (H, W) float32 or None
    landmarks : ndarray (33, 5) or None
        ``x, y, z, visibility, presence`` (presence kept).
    world_landmarks : ndarray (33, 4) or None
        ``x, y, z`` in metres and ``visibility``.
    """

    pose_landmarks: NormalizedLandmarkList | None
    pose_world_landmarks: LandmarkList | None
    segmentation_mask: np.ndarray | None
    landmarks: np.ndarray | None
    world_landmarks: np.ndarray | None


def _landmark_list(rows: np.ndarray) -> NormalizedLandmarkList:
    return NormalizedLandmarkList([
        NormalizedLandmark(float(r[0]), float(r[1]), float(r[2]), float(r[3]), 0.0)
        for r in rows
    ])


class Pose:
    """MediaPipe Pose, frame by frame: ``Pose(...).process(rgb)``.

    Parameters
    ----------
    static_image_mode : bool, default False
        Treat each image as unrelated (run the detector every time, no smoothing).
    model_complexity : {0, 1, 2}, default 1
    smooth_landmarks : bool, default True
    enable_segmentation : bool, default False
    smooth_segmentation : bool, default True
    min_detection_confidence : float, default 0.5
    min_tracking_confidence : float, default 0.5

    Examples
    --------
    Code written for MediaPipe runs after changing the import:

    >>> import posejax as mp                        # was: import mediapipe as mp
    >>> mp_pose = mp.solutions.pose
    >>> with mp_pose.Pose(static_image_mode=True) as pose:       # doctest: +SKIP
    ...     results = pose.process(rgb_image)
    ...     nose = results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE]
    """

    def __init__(self, static_image_mode: bool = False, model_complexity: int = 1,
                 smooth_landmarks: bool = True, enable_segmentation: bool = False,
                 smooth_segmentation: bool = True, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5):
        self._config = PipelineConfig(
            model_complexity=model_complexity,
            static_image_mode=static_image_mode,
            smooth_landmarks=smooth_landmarks,
            enable_segmentation=enable_segmentation,
            smooth_segmentation=smooth_segmentation,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._pipeline = get_pipeline(self._config)
        self._state = None
        self._runner = None
        self._size = None
        self._timestamp_us = 0
        self._closed = False

    def process(self, image: np.ndarray) -> PoseResult:
        """Find the pose in one RGB frame.

        Parameters
        ----------
        image : ndarray, uint8, (H, W, 3)
            An RGB image (not BGR: convert OpenCV frames with ``frame[..., ::-1]``).

        Returns
        -------
        PoseResult
            ``pose_landmarks``, ``pose_world_landmarks`` and ``segmentation_mask`` as in
            MediaPipe (None where no pose was found), plus NumPy arrays of the same data.
        """
        if self._closed:
            raise ValueError("Pose is closed")
        if not isinstance(image, np.ndarray):
            raise TypeError(f"image must be a numpy array, got {type(image).__name__}")
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError("Input image must contain three channel rgb data; got shape "
                             f"{image.shape}")
        if image.dtype != np.uint8:
            raise TypeError(f"image must be uint8 RGB, got dtype {image.dtype}")
        if 0 in image.shape:
            raise ValueError(f"image is empty (shape {image.shape})")
        # MediaPipe's SolutionBase advances its simulated clock before every call, also across
        # reset(), so the filters see 33333 microseconds between frames.
        self._timestamp_us += MEDIAPIPE_FRAME_STEP_US
        height, width = image.shape[:2]
        runner = self._runner
        if runner is None or self._size != (height, width):
            # Frame by frame through small programs (the networks shared by every option and
            # frame size) rather than the video chunk program: a first result in about a
            # second from the caches, instead of loading (or compiling) the whole scan.
            # Shared by every Pose of the process (it holds no tracking state), so a new Pose
            # does not load the programs again; one runner serves a whole size bucket. A new
            # size still drops the smoothed mask, which belongs to the old frame.
            self._runner = runner = shared_runner(self._pipeline, 1, height, width)
            self._size = (height, width)
            self._state = self._pipeline.init_state(1, height, width, previous=self._state)
        elif self._state is None:
            self._state = self._pipeline.init_state(1, height, width)
        self._state, out = runner.track(self._state, image[None],
                                        np.array([self._timestamp_us], np.int64))
        if not out["present"][0]:
            return PoseResult(None, None, None, None, None)
        landmarks = out["landmarks"][0]
        world = out["world_landmarks"][0]
        mask = out["mask"][0] if out.get("mask") is not None else None
        return PoseResult(_landmark_list(landmarks), _landmark_list(world), mask, landmarks, world)

    def reset(self) -> None:
        """Forget the tracked pose and the filters' state (the simulated clock keeps running)."""
        self._state = None

    def close(self) -> None:
        """Release the tracking state; later ``process()`` calls raise."""
        self._state = None
        self._closed = True

    def __enter__(self) -> Pose:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
