"""Stand-in for ``mediapipe.tasks.vision.PoseLandmarker`` (mediapipe 0.10.21 and later).

Same classes, option names, defaults, checks and results as MediaPipe's Tasks API, so Tasks code
runs after changing the import (``import posejax as mp``); the graph it runs is Tasks' own
(:mod:`posejax.tasks.pose_graph`), on posejax's compiled JAX programs.

Two differences, both documented in ``docs/guide/tasks.md``:

* ``detect_async`` runs in the caller's thread: the result callback is called before
  ``detect_async`` returns, and no frame is ever dropped;
* ``image_processing_options`` (rotation, region of interest) is not supported.

posejax adds :attr:`PoseLandmarkerOptions.detection_mode` (:attr:`DetectionMode.WHOLE_FRAME`,
Tasks' own detection, by default; :attr:`DetectionMode.TILED` finds people small in the frame)
and NumPy views of the results
(:attr:`PoseLandmarkerResult.landmarks`, :attr:`PoseLandmarkerResult.world_landmarks`).
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import threading
from collections.abc import Callable

import numpy as np

from posejax.tasks.base_options import BaseOptions
from posejax.tasks.bundle import load_models
from posejax.tasks.containers import Landmark, NormalizedLandmark
from posejax.tasks.image import Image, ImageFormat
from posejax.tasks.pose_graph import GraphOptions, PoseGraph

__all__ = ["DetectionMode", "PoseLandmarker", "PoseLandmarkerOptions", "PoseLandmarkerResult",
           "PoseLandmarksConnections", "RunningMode"]


class RunningMode(enum.Enum):
    """``mediapipe.tasks.vision.RunningMode``: how frames arrive."""

    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    LIVE_STREAM = "LIVE_STREAM"


class DetectionMode(enum.Enum):
    """Where the pose detector looks for people (posejax only).

    ``WHOLE_FRAME`` (the default): Tasks' own detection, the whole frame letterboxed to 224 x
    224, so that results equal MediaPipe's.

    ``TILED``: the whole frame and overlapping square tiles (:func:`posejax.people.tile_windows`),
    merged by weighted non-maximum suppression, so that people small in a wide frame are found
    too. It costs a detector run per tile each time the detector runs (every image in IMAGE
    mode; in VIDEO mode while fewer than ``num_poses`` people are tracked). Results differ from
    MediaPipe's where it finds people MediaPipe misses; the landmarks of a person both find are
    computed alike.
    """

    WHOLE_FRAME = "whole_frame"
    TILED = "tiled"


class PoseLandmarksConnections:
    """The skeleton's 35 landmark pairs, in the order of MediaPipe's ``POSE_LANDMARKS``.

    Example
    -------
    >>> PoseLandmarksConnections.POSE_LANDMARKS[0]
    PoseLandmarksConnections.Connection(start=0, end=1)
    """

    @dataclasses.dataclass
    class Connection:
        """One pair of landmark indices."""

        start: int
        end: int

    POSE_LANDMARKS: list[Connection] = list(itertools.starmap(Connection, (
        (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
        (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18),
        (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27),
        (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32))))


@dataclasses.dataclass
class PoseLandmarkerOptions:
    """Options of the pose landmarker, with Tasks' names and defaults.

    Attributes
    ----------
    base_options : BaseOptions
        The model (a ``.task`` bundle, or ``pose_landmarker_{lite,full,heavy}.task`` for
        posejax's own weights when no such file exists).
    running_mode : RunningMode
        IMAGE (:meth:`PoseLandmarker.detect`), VIDEO (:meth:`~PoseLandmarker.detect_for_video`)
        or LIVE_STREAM (:meth:`~PoseLandmarker.detect_async`).
    num_poses : int
        Most poses per image, >= 1.
    min_pose_detection_confidence : float
        The detector's score threshold, in [0, 1].
    min_pose_presence_confidence : float
        Threshold on the landmark network's pose flag, in [0, 1].
    min_tracking_confidence : float
        VIDEO/LIVE_STREAM: the IoU above which a detection replaces a tracked pose, in [0, 1].
    output_segmentation_masks : bool
        Give a person mask per pose.
    result_callback : callable, optional
        LIVE_STREAM only (required there): ``callback(result, image, timestamp_ms)``.
    detection_mode : DetectionMode or str
        posejax only; ``"whole_frame"`` (the default) is Tasks' own detection.

    Example
    -------
    >>> PoseLandmarkerOptions(BaseOptions("pose_landmarker_lite.task"), num_poses=2).num_poses
    2
    """

    base_options: BaseOptions
    running_mode: RunningMode = RunningMode.IMAGE
    num_poses: int = 1
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    output_segmentation_masks: bool = False
    result_callback: Callable[[PoseLandmarkerResult, Image, int], None] | None = None
    detection_mode: DetectionMode | str = DetectionMode.WHOLE_FRAME


@dataclasses.dataclass
class PoseLandmarkerResult:
    """What ``detect`` gives: per pose, 33 landmarks, 33 world landmarks and optionally a mask.

    Attributes
    ----------
    pose_landmarks : list of list of NormalizedLandmark
    pose_world_landmarks : list of list of Landmark
    segmentation_masks : list of Image (VEC32F1, the image's size) or None
        None without ``output_segmentation_masks``, and (as in MediaPipe) when no pose is found.
    """

    pose_landmarks: list[list[NormalizedLandmark]]
    pose_world_landmarks: list[list[Landmark]]
    segmentation_masks: list[Image] | None = None
    _arrays: tuple = dataclasses.field(default=(), repr=False, compare=False)

    @property
    def landmarks(self) -> np.ndarray:
        """``(P, 33, 5)`` float32: x, y, z, visibility, presence per pose (posejax only)."""
        return self._arrays[0] if self._arrays else _as_array(self.pose_landmarks)

    @property
    def world_landmarks(self) -> np.ndarray:
        """``(P, 33, 5)`` float32 world landmarks in metres (posejax only)."""
        return self._arrays[1] if self._arrays else _as_array(self.pose_world_landmarks)


def _as_array(poses) -> np.ndarray:
    rows = [[[lm.x, lm.y, lm.z, lm.visibility, lm.presence] for lm in pose] for pose in poses]
    return np.asarray(rows, np.float32).reshape(len(poses), 33, 5)


def _result(frame, with_masks: bool) -> PoseLandmarkerResult:
    landmarks = [[NormalizedLandmark.from_array(row) for row in pose] for pose in frame.landmarks]
    world = [[Landmark.from_array(row) for row in pose] for pose in frame.world]
    masks = None
    if with_masks and len(frame.landmarks):   # MediaPipe gives None, not [], without a pose
        masks = [Image(ImageFormat.VEC32F1, np.asarray(m, np.float32)) for m in frame.masks]
    return PoseLandmarkerResult(landmarks, world, masks, (frame.landmarks, frame.world))


def _check_options(options: PoseLandmarkerOptions) -> DetectionMode:
    if not isinstance(options, PoseLandmarkerOptions):
        raise TypeError(f"options must be PoseLandmarkerOptions, got {type(options).__name__}")
    if not isinstance(options.base_options, BaseOptions):
        raise TypeError("options.base_options must be a BaseOptions")
    if not isinstance(options.running_mode, RunningMode):
        raise ValueError(f"running_mode must be a RunningMode, got {options.running_mode!r}")
    num = options.num_poses
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"num_poses must be an int >= 1, got {num!r}")
    for name in ("min_pose_detection_confidence", "min_pose_presence_confidence",
                 "min_tracking_confidence"):
        value = getattr(options, name)
        if (isinstance(value, bool) or not isinstance(value, (int, float, np.number))
                or not 0.0 <= float(value) <= 1.0):
            raise ValueError(f"Invalid `{name}` option: value must be in the range [0.0, 1.0], "
                             f"got {value!r}")
    if options.running_mode == RunningMode.LIVE_STREAM:
        if options.result_callback is None:
            raise ValueError("The vision task is in live stream mode, a user-defined result "
                             "callback must be provided.")
        if not callable(options.result_callback):
            raise TypeError("result_callback must be callable")
    elif options.result_callback is not None:
        raise ValueError("The vision task is in image or video mode, a user-defined result "
                         "callback should not be provided.")
    try:
        return DetectionMode(options.detection_mode)
    except ValueError:
        raise ValueError(f"detection_mode must be one of "
                         f"{[m.value for m in DetectionMode]}, got {options.detection_mode!r}"
                         ) from None


class PoseLandmarker:
    """Pose landmarks of the people in images or video frames, as MediaPipe Tasks finds them.

    Create one with :meth:`create_from_options` or :meth:`create_from_model_path`; use it as a
    context manager or call :meth:`close`.

    Examples
    --------
    Code written for MediaPipe's Tasks API runs after changing the import:

    >>> import posejax as mp                        # was: import mediapipe as mp
    >>> options = mp.tasks.vision.PoseLandmarkerOptions(
    ...     base_options=mp.tasks.BaseOptions(model_asset_path="pose_landmarker_lite.task"),
    ...     running_mode=mp.tasks.vision.RunningMode.VIDEO, num_poses=2)
    >>> with mp.tasks.vision.PoseLandmarker.create_from_options(options) as landmarker:
    ...     image = mp.Image(image_format=mp.ImageFormat.SRGB,
    ...                      data=np.zeros((48, 64, 3), np.uint8))
    ...     result = landmarker.detect_for_video(image, 0)
    >>> result.pose_landmarks                      # nobody in a black frame
    []
    """

    def __init__(self, options: PoseLandmarkerOptions, graph: PoseGraph):
        self._options = options
        self._graph = graph
        self._last_timestamp_ms: int | None = None
        self._closed = False
        self._lock = threading.Lock()   # one frame at a time: the graph carries state

    @classmethod
    def create_from_model_path(cls, model_path) -> PoseLandmarker:
        """An IMAGE-mode landmarker with default options for the model ``model_path``."""
        return cls.create_from_options(PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=model_path),
            running_mode=RunningMode.IMAGE))

    @classmethod
    def create_from_options(cls, options: PoseLandmarkerOptions) -> PoseLandmarker:
        """A landmarker for ``options``; checks them and loads the model.

        Raises
        ------
        ValueError
            Options out of range, a callback where it does not belong (or none in LIVE_STREAM),
            or a model posejax cannot run (:class:`posejax.tasks.bundle.BundleError`).
        FileNotFoundError
            No such model file (and not one of posejax's bundled names).
        """
        _check_options(options)
        base = options.base_options
        models = load_models(base.model_asset_path, base.model_asset_buffer)
        graph_options = GraphOptions(
            num_poses=int(options.num_poses),
            min_pose_detection_confidence=float(options.min_pose_detection_confidence),
            min_pose_presence_confidence=float(options.min_pose_presence_confidence),
            min_tracking_confidence=float(options.min_tracking_confidence),
            stream_mode=options.running_mode != RunningMode.IMAGE,
            output_segmentation_masks=bool(options.output_segmentation_masks),
            tiled_detection=_check_options(options) == DetectionMode.TILED)
        segmentation = graph_options.output_segmentation_masks
        graph = PoseGraph(graph_options, models.model, models.detector_params,
                          models.landmark_params_for(segmentation))
        return cls(options, graph)

    @property
    def model(self) -> str:
        """The landmark model this landmarker runs: ``"lite"``, ``"full"`` or ``"heavy"``."""
        return self._graph.model

    def detect(self, image: Image, image_processing_options=None) -> PoseLandmarkerResult:
        """Poses in one image (IMAGE mode): the detector runs on every image."""
        self._check_call(RunningMode.IMAGE, image, image_processing_options)
        with self._lock:
            return self._run(image, None)

    def detect_for_video(self, image: Image, timestamp_ms: int,
                         image_processing_options=None) -> PoseLandmarkerResult:
        """Poses in one video frame (VIDEO mode); timestamps must increase strictly."""
        self._check_call(RunningMode.VIDEO, image, image_processing_options)
        with self._lock:
            self._advance(timestamp_ms)
            return self._run(image, timestamp_ms)

    def detect_async(self, image: Image, timestamp_ms: int, image_processing_options=None) -> None:
        """Send a live frame (LIVE_STREAM mode); the result goes to ``result_callback``.

        Unlike MediaPipe, posejax runs the frame in the calling thread and calls
        ``result_callback(result, image, timestamp_ms)`` before returning; no frame is dropped.
        """
        self._check_call(RunningMode.LIVE_STREAM, image, image_processing_options)
        with self._lock:
            self._advance(timestamp_ms)
            result = self._run(image, timestamp_ms)
        self._options.result_callback(result, image, int(timestamp_ms))

    def close(self) -> None:
        """Release the landmarker; later calls raise ValueError."""
        self._closed = True
        self._graph = None

    def __enter__(self) -> PoseLandmarker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------
    def _check_call(self, mode: RunningMode, image, image_processing_options) -> None:
        if self._closed:
            raise ValueError("This PoseLandmarker is closed.")
        current = self._options.running_mode
        if current != mode:
            names = {RunningMode.IMAGE: "the image mode", RunningMode.VIDEO: "the video mode",
                     RunningMode.LIVE_STREAM: "the live stream mode"}
            raise ValueError(f"Task is not initialized with {names[mode]}. Current running "
                             f"mode:{current.name}")
        if image_processing_options is not None:
            raise ValueError("image_processing_options (rotation, region of interest) are not "
                             "supported by posejax; rotate the image before calling")
        if not isinstance(image, Image):
            raise TypeError(f"image must be a posejax.Image (mp.Image), got "
                            f"{type(image).__name__}; wrap arrays with "
                            "mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)")

    def _advance(self, timestamp_ms) -> None:
        if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, (int, np.integer)):
            raise TypeError(f"timestamp_ms must be an int, got {timestamp_ms!r}")
        if self._last_timestamp_ms is not None and timestamp_ms <= self._last_timestamp_ms:
            raise ValueError(f"Input timestamp must be monotonically increasing: got "
                             f"{int(timestamp_ms)} ms after {self._last_timestamp_ms} ms")
        self._last_timestamp_ms = int(timestamp_ms)

    def _run(self, image: Image, timestamp_ms) -> PoseLandmarkerResult:
        clock_us = None if timestamp_ms is None else int(timestamp_ms) * 1000
        frame = self._graph.process(image.rgb(), clock_us)
        return _result(frame, self._options.output_segmentation_masks)
