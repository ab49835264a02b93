"""MediaPipe Tasks' ``PoseLandmarkerGraph`` frame by frame: compiled pieces driven from the host.

This is the graph of ``mediapipe/tasks/cc/vision/pose_landmarker/`` and ``pose_detector/``
(mediapipe 0.10.21), built from the same JAX operations as the legacy solution
(:mod:`posejax.ops`) where the maths is the same. What differs from the legacy ``mp.solutions``
graph, and is done here:

* **detection** (``PoseDetectorGraph``): the whole frame letterboxed to 224 x 224 (as legacy);
  weighted non-maximum suppression with an IoU threshold of **0.5** (legacy: 0.3) keeping
  **every** detection, not only the first; each becomes an ROI (``AlignmentPointsRects`` and
  ``RectTransformation`` 1.25, square long side, as legacy);
* **ROI choice**: IMAGE mode takes the first ``num_poses`` detections. VIDEO and LIVE_STREAM
  loop back the ROIs that the previous frame's landmarks give; the detector runs only while
  fewer than ``num_poses`` are tracked, and ``AssociationNormRectCalculator`` merges the old ROIs
  and the detections: each element, old ones first, removes every element already kept whose
  axis-aligned IoU (normalized coordinates, rotation ignored) with it exceeds
  ``min_tracking_confidence``, then is appended; the first ``num_poses`` are used;
* **landmarks**: the pose flag is thresholded with ``min_pose_presence_confidence`` (a pose
  under it is dropped with its ROI); heatmap refinement with a 7-cell window (the released
  legacy package uses 9); world landmarks get visibility *and* presence copied; the next frame's
  ROI comes from the **unfiltered** auxiliary landmarks (legacy filters them first);
* **smoothing** only with ``num_poses == 1`` in VIDEO/LIVE_STREAM, on the first pose: visibility
  low-pass (0.1), one-euro on the landmarks in pixels (min_cutoff 0.05, beta 80, derivate cutoff
  1, object scale = mean pixel side of that pose's next-frame ROI, i.e. *with* the 1.25
  enlargement), visibility low-pass and one-euro on world landmarks (0.1, 40, 1, no value
  scaling); the landmark filter resets on a frame without a pose, the others keep their state.
  (Checked on the multi-person clip of the parity tests: with this object scale the first
  tracked frames agree with MediaPipe to 0.03-0.07 px; without the 1.25 factor, 0.2-0.5 px.)

The networks are posejax's shared compiled programs (:func:`posejax.stepwise.network_program`);
the small pieces around them are compiled per frame-size bucket (:mod:`posejax.ops.buckets`) and
kept in posejax's cache. Non-maximum suppression and the association run in NumPy float32 on the
host, in the calculators' order.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from posejax import _cache
from posejax.landmarks import NUM_LANDMARKS
from posejax.ops import _exact as ex
from posejax.ops import buckets, detection, filters, image, landmark_decoding, roi
from posejax.ops.detection import NMS_IOU_THRESHOLD, weighted_nms  # noqa: F401 (re-exported)
from posejax.people import _SIZE, _spec, detect_people
from posejax.people import _program as people_program
from posejax.stepwise import network_program

#: ``ConfigureRefineLandmarksFromHeatmapCalculator``: ``kernel_size = 7``
HEATMAP_KERNEL_SIZE = 7
_ROI_BLOCK = 8   # detections are turned into ROIs in blocks of this many (fewer programs)


@dataclasses.dataclass(frozen=True)
class GraphOptions:
    """What the graph needs from :class:`~posejax.tasks.vision.PoseLandmarkerOptions`."""

    num_poses: int = 1
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    stream_mode: bool = False
    output_segmentation_masks: bool = False
    tiled_detection: bool = False   # posejax's DetectionMode.TILED: tiles beside the whole frame

    @property
    def smoothing(self) -> bool:
        """Tasks smooths only a single pose, and only in VIDEO / LIVE_STREAM."""
        return self.stream_mode and self.num_poses == 1


class FrameResult(NamedTuple):
    """One frame's poses, in Tasks' order.

    ``landmarks (P, 33, 5)`` and ``world (P, 33, 5)`` (x, y, z, visibility, presence), ``masks
    (P, H, W)`` float32 or None, ``rois (P, 5)`` (the crops the landmarks came from).
    """

    landmarks: np.ndarray
    world: np.ndarray
    masks: np.ndarray | None
    rois: np.ndarray


class SmoothingState(NamedTuple):
    """The filters of the single smoothed pose (``num_poses == 1``, VIDEO/LIVE_STREAM)."""

    pose_visibility: filters.LowPassState
    pose_filter: filters.OneEuroState
    world_visibility: filters.LowPassState
    world_filter: filters.OneEuroState


def fresh_smoothing_state() -> SmoothingState:
    """Filters that have seen nothing yet."""
    return SmoothingState(filters.low_pass_init((NUM_LANDMARKS,)),
                          filters.one_euro_init((NUM_LANDMARKS, 3), filters.POSE_LANDMARK_FILTER),
                          filters.low_pass_init((NUM_LANDMARKS,)),
                          filters.one_euro_init((NUM_LANDMARKS, 3),
                                                filters.WORLD_LANDMARK_FILTER))


# -- the compiled pieces (pure functions of arrays; sizes are traced int32 [height, width]) -------

def _detection_rois(keypoints, padding, size):
    def one(points):
        _, points = detection.remove_letterbox(jnp.zeros(4, jnp.float32), points, padding)
        return roi.detection_to_roi(points, size[0], size[1])

    return jax.vmap(one)(keypoints)


def _crops(frame, rois, size):
    return jax.vmap(lambda r: image.landmark_input(frame, r, (size[0], size[1])))(rois)


def _decode_landmarks(raw, rois, size, mask_shape=None):
    height, width = size[0], size[1]
    decoded = jax.vmap(landmark_decoding.decode_landmarks)(raw["landmarks"])
    refined = jax.vmap(functools.partial(landmark_decoding.refine_with_heatmap,
                                         kernel_size=HEATMAP_KERNEL_SIZE))(decoded, raw["heatmap"])
    projected = jax.vmap(lambda lm, r: landmark_decoding.project_to_image(lm, r, height, width))(
        refined, rois)
    world = jax.vmap(landmark_decoding.world_landmarks)(raw["world_landmarks"], rois)
    # VisibilityCopyCalculator(copy_visibility, copy_presence) from the refined landmarks.
    world = jnp.concatenate([world, refined[:, :NUM_LANDMARKS, 3:5]], axis=-1)
    next_rois = jax.vmap(lambda aux: roi.landmarks_to_roi(aux, height, width))(
        projected[:, landmark_decoding.AUX_SLICE])
    # GetObjectScale(NormalizedRect): (width * image_width + height * image_height) / 2.
    scales = (ex.mul_rn(next_rois[:, 2], width.astype(jnp.float32))
              + ex.mul_rn(next_rois[:, 3], height.astype(jnp.float32))) * jnp.float32(0.5)
    out = {"landmarks": projected[:, :NUM_LANDMARKS], "world": world,
           "flags": raw["pose_flag"][:, 0], "next_rois": next_rois, "scales": scales}
    if mask_shape is not None:
        probabilities = jax.vmap(landmark_decoding.segmentation_probabilities)(
            raw["segmentation"])
        out["masks"] = jax.vmap(
            lambda m, r: image.mask_to_image(m, r, height, width, mask_shape))(probabilities, rois)
    return out


def _smooth(state: SmoothingState, landmarks, world, timestamp_us, scale, size):
    pose_visibility, landmarks = filters.smooth_visibility(state.pose_visibility, landmarks)
    pose_filter, landmarks = filters.smooth_landmarks(
        state.pose_filter, landmarks, timestamp_us, scale, size[0], size[1],
        filters.POSE_LANDMARK_FILTER)
    world_visibility, world = filters.smooth_visibility(state.world_visibility, world)
    world_filter, world = filters.smooth_world_landmarks(state.world_filter, world, timestamp_us)
    return SmoothingState(pose_visibility, pose_filter, world_visibility, world_filter), \
        landmarks, world


@functools.lru_cache(maxsize=64)
def _program(kind: str, *shape_parts):
    """The compiled piece ``kind`` for the shapes in ``shape_parts`` (cached on disk too).

    The detector's letterbox and decoding are :mod:`posejax.people`'s.
    """
    if kind in ("letterbox", "decode-detections"):
        return people_program(kind, *shape_parts)
    if kind == "detection-rois":
        (count,) = shape_parts
        return _cache.exported_program(
            "tasks-detection-rois", (), _detection_rois,
            (_spec((count, detection.NUM_KEYPOINTS, 2)), _spec((4,)), _SIZE), 0)
    if kind == "crops":
        bucket, count = shape_parts
        return _cache.exported_program("tasks-crops", (), _crops,
                                       (_spec(bucket + (3,), jnp.uint8), _spec((count, 5)),
                                        _SIZE), 0)
    if kind == "decode-landmarks":
        raw_shapes, count, mask_shape = shape_parts
        raw = {k: _spec((count,) + tuple(v)) for k, v in raw_shapes}
        keys = ["flags", "landmarks", "next_rois", "scales", "world"]
        keys += ["masks"] if mask_shape is not None else []
        return _cache.exported_program(
            "tasks-decode-landmarks", (HEATMAP_KERNEL_SIZE, mask_shape),
            functools.partial(_decode_landmarks, mask_shape=mask_shape),
            (raw, _spec((count, 5)), _SIZE), dict.fromkeys(keys, 0))
    if kind == "smooth":
        state = jax.tree.map(lambda x: _spec(x.shape, x.dtype), fresh_smoothing_state())
        return _cache.exported_program(
            "tasks-smooth", (), _smooth,
            (state, _spec((NUM_LANDMARKS, 5)), _spec((NUM_LANDMARKS, 5)),
             _spec((), jnp.int32), _spec(()), _SIZE), (state, 0, 0))
    raise ValueError(f"unknown program {kind!r}")


# -- host-side pieces: the ROI association, NumPy float32 (weighted NMS: posejax.ops.detection) ---

def _rect_iou(a: np.ndarray, b: np.ndarray) -> float:
    """``CalculateIou`` of two ROIs as axis-aligned ``Rectangle_f`` in normalized coordinates.

    The rectangle keeps its corners (max = min + size) and measures areas from them, so
    identical ROIs have an IoU of exactly 1.
    """
    f32 = np.float32
    ax0, ay0 = f32(a[0] - a[2] / f32(2)), f32(a[1] - a[3] / f32(2))
    bx0, by0 = f32(b[0] - b[2] / f32(2)), f32(b[1] - b[3] / f32(2))
    ax1, ay1, bx1, by1 = f32(ax0 + a[2]), f32(ay0 + a[3]), f32(bx0 + b[2]), f32(by0 + b[3])
    if (ax0 > ax1 or ay0 > ay1 or bx0 > bx1 or by0 > by1
            or bx1 < ax0 or ax1 < bx0 or by1 < ay0 or ay1 < by0):
        return 0.0
    intersection = f32((min(ax1, bx1) - max(ax0, bx0)) * (min(ay1, by1) - max(ay0, by0)))
    union = f32(f32((ax1 - ax0) * (ay1 - ay0)) + f32((bx1 - bx0) * (by1 - by0))) - intersection
    return float(intersection / union) if union > 0 else 0.0


def associate(previous: list[np.ndarray], detected: list[np.ndarray],
              min_similarity: float) -> list[np.ndarray]:
    """``AssociationNormRectCalculator``: old ROIs, then detections, overlapping ones replaced.

    Every ROI in turn (old ones first) removes the ROIs already kept whose IoU with it exceeds
    ``min_similarity``, then is appended.

    Example
    -------
    >>> old = [np.array([0.5, 0.5, 0.2, 0.2, 0.0], np.float32)]
    >>> new = [np.array([0.52, 0.5, 0.2, 0.2, 0.0], np.float32),
    ...        np.array([0.1, 0.1, 0.1, 0.1, 0.0], np.float32)]
    >>> [r[0].round(2).item() for r in associate(old, new, 0.5)]
    [0.52, 0.1]
    """
    kept: list[np.ndarray] = []
    for rect in [*previous, *detected]:
        kept = [k for k in kept if not _rect_iou(rect, k) > min_similarity]
        kept.append(rect)
    return kept


# -- the graph --------------------------------------------------------------------------------

class PoseGraph:
    """The Tasks pose landmarker on frames, with the state VIDEO/LIVE_STREAM carry.

    Parameters
    ----------
    options : GraphOptions
    model : {"lite", "full", "heavy"}
    detector_params, landmark_params : dict
        Network parameters, as :func:`posejax.nets.load` gives them (the landmark ones with the
        segmentation head exactly when ``options.output_segmentation_masks``).
    """

    def __init__(self, options: GraphOptions, model: str, detector_params, landmark_params):
        self.options, self.model = options, model
        self.detector_params, self.landmark_params = detector_params, landmark_params
        self._per_image = jax.default_backend() == "cpu"
        self.reset()

    def reset(self) -> None:
        """Forget the tracked ROIs and the filters."""
        self._tracked: list[np.ndarray] = []
        self._smoothing = fresh_smoothing_state() if self.options.smoothing else None

    def detect_rois(self, frame: np.ndarray, size: np.ndarray,
                    rgb: np.ndarray | None = None) -> list[np.ndarray]:
        """The expanded ROIs of every detection on the whole frame, in NMS order.

        With ``options.tiled_detection`` (and the unpacked ``rgb``) on overlapping tiles too
        (:func:`posejax.people.detect_people`).
        """
        if self.options.tiled_detection:
            rois, _ = detect_people(rgb, frame, self.detector_params,
                                    self.options.min_pose_detection_confidence,
                                    self._per_image, tiles=True,
                                    iou_threshold=NMS_IOU_THRESHOLD)
            return list(rois)
        tensor, padding = _program("letterbox", frame.shape[:2])(frame, size)
        raw = network_program("detector", False, 1, self._per_image)(self.detector_params,
                                                                      tensor)
        boxes, keypoints, scores = (np.asarray(a) for a in _program("decode-detections")(raw))
        keypoints, _ = weighted_nms(boxes, keypoints, scores,
                                    self.options.min_pose_detection_confidence)
        count = len(keypoints)
        if not count:
            return []
        block = -(-count // _ROI_BLOCK) * _ROI_BLOCK
        padded = np.zeros((block,) + keypoints.shape[1:], np.float32)
        padded[:count] = keypoints
        padded[count:, 1, 1] = 1.0   # a well-defined ROI for the unused rows
        rois = np.asarray(_program("detection-rois", block)(padded, padding, size))
        return list(rois[:count])

    def process(self, rgb: np.ndarray, timestamp_us: int | None = None) -> FrameResult:
        """Run the graph on one ``(H, W, 3)`` uint8 RGB frame.

        ``timestamp_us`` is the smoothing filters' clock (VIDEO / LIVE_STREAM).
        """
        options = self.options
        height, width = rgb.shape[:2]
        bucket = buckets.frame_bucket(height, width)
        frame = np.empty(bucket + (3,), np.uint8)   # past the frame's pixels nothing is read
        buckets.pack(rgb, frame)
        size = buckets.size_array(height, width)
        if not options.stream_mode:
            rois = self.detect_rois(frame, size, rgb)   # IMAGE mode: no association
        elif len(self._tracked) >= options.num_poses:
            rois = self._tracked
        else:
            rois = associate(self._tracked, self.detect_rois(frame, size, rgb),
                             options.min_tracking_confidence)
        rois = rois[:options.num_poses]
        out = self._landmarks(frame, np.asarray(rois, np.float32).reshape(-1, 5), size, bucket)
        present = out["flags"] > np.float32(options.min_pose_presence_confidence)
        landmarks, world = out["landmarks"][present], out["world"][present]
        self._tracked = list(out["next_rois"][present]) if options.stream_mode else []
        masks = None
        if options.output_segmentation_masks:
            masks = (buckets.unpack(out["masks"][present], height, width) if "masks" in out
                     else np.zeros((0, height, width), np.float32))
        if self._smoothing is not None:
            landmarks, world = self._smooth(landmarks, world, out["scales"][present],
                                            timestamp_us, size)
        return FrameResult(landmarks, world, masks,
                           np.asarray(rois, np.float32).reshape(-1, 5)[present])

    def _landmarks(self, frame, rois, size, bucket) -> dict:
        count = len(rois)
        if not count:
            return {"flags": np.zeros(0, np.float32),
                    "landmarks": np.zeros((0, NUM_LANDMARKS, 5), np.float32),
                    "world": np.zeros((0, NUM_LANDMARKS, 5), np.float32),
                    "next_rois": np.zeros((0, 5), np.float32), "scales": np.zeros(0, np.float32)}
        segmentation = self.options.output_segmentation_masks
        crops = _program("crops", bucket, count)(frame, rois, size)
        net = network_program(self.model, segmentation, count, self._per_image)
        raw = net(self.landmark_params, crops)
        raw_shapes = tuple(sorted((k, tuple(v.shape[1:])) for k, v in raw.items()))
        decode = _program("decode-landmarks", raw_shapes, count, bucket if segmentation else None)
        return {k: np.asarray(v) for k, v in decode(raw, rois, size).items()}

    def _smooth(self, landmarks, world, scales, timestamp_us, size):
        if timestamp_us is None:
            raise ValueError("smoothing needs the frame's timestamp")
        if not len(landmarks):
            # LandmarksSmoothingCalculator resets on a frame without landmarks; the visibility
            # and world filters are not invoked then and keep their state.
            self._smoothing = self._smoothing._replace(pose_filter=filters.one_euro_init(
                (NUM_LANDMARKS, 3), filters.POSE_LANDMARK_FILTER))
            return landmarks, world
        clock = np.int32(np.uint32(int(timestamp_us) % 2**32).view(np.int32))
        self._smoothing, first, first_world = _program("smooth")(
            self._smoothing, landmarks[0], world[0], clock, scales[0], size)
        landmarks, world = landmarks.copy(), world.copy()
        landmarks[0], world[0] = np.asarray(first), np.asarray(first_world)
        return landmarks, world
