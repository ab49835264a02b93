"""Several people through a video, each in a slot of its own: ``track(frames, num_poses=N)``.

Every person slot runs MediaPipe's legacy single-person tracking unchanged: the landmark network
on the slot's ROI, PoseLandmarkFiltering with its one-euro filters, and the next frame's ROI from
the filtered auxiliary landmarks (:meth:`Pipeline.update <posejax.pipeline.Pipeline.update>`,
batched over the ``N`` slots as it is over videos). So a person tracked in a slot goes through
the same steps, frame after frame, as that person tracked alone; the results are not bit for bit
the same (the first region comes from this module's detection, and the crop sees the pixels
around the person instead of repeated edge pixels), and tracking carries a small difference on
(the composites of the integration tests stay within about 1 px, median, of each person tracked
alone). What differs is how a slot gets its person:

* **Detection, only while a slot is empty.** The detector runs on the whole frame letterboxed
  to 224 pixels (as MediaPipe does) and, on the first frame, every :data:`SEARCH_EVERY`-th
  frame after and the frame after someone was lost, also on overlapping square tiles
  (:func:`tile_windows`): the frame's short side along its long side, and half of it when the
  short side has 720 pixels or more. A person who fills a third of a wide frame's height is a
  few dozen pixels tall in the 224-pixel letterbox, too small for the detector, but fills a
  tile. The detections of all windows are mapped to the frame and merged by weighted
  non-maximum suppression (IoU 0.5, as Tasks). When every slot is tracked nothing is detected.
* **Who is new.** A detection whose ROI centre (the detector's hip centre) lies within
  :data:`SAME_PERSON_DISTANCE` ROI sides of a tracked ROI's, or inside the box of a tracked
  person's landmarks on the last frame, is that person again (or a part of them found in a
  tile) and is dropped.
* **Association.** New detections are matched to slots whose person was lost at most
  ``max_lost_seconds`` ago (Hungarian assignment, ``scipy.optimize.linear_sum_assignment``).
  The cost is the distance from the slot's predicted position (its last ROI centre moved on at
  its last velocity for at most :data:`PREDICTION_SECONDS`, kept inside the frame), in units of
  its ROI side, gated at ``0.6 + 1.0 * seconds lost``, with the ROI sizes within a factor of
  1.7. Unmatched detections take a slot never used (or whose pose was followed for less than
  :data:`ESTABLISHED_SECONDS`, most often something that looked like a person for a moment),
  then the slot lost longest ago beyond ``max_lost_seconds``; a slot taken by a new person
  starts with fresh filters, a person re-found keeps the filter state MediaPipe keeps through a
  lost frame.
* **One person, one slot.** When two tracked slots converge on one person (their landmarks
  within :data:`DUPLICATE_DISTANCE` ROI sides, e.g. after people cross), the slot tracked for
  fewer frames lets go; with equal ages, the one further from its predicted position.

What runs where: the networks, crops, decoding and filters are compiled programs batched over
slots (``vmap``/``lax.map`` over the slot axis, so an accelerator runs the ``N`` slots as one
batch); the tiling, non-maximum suppression and the assignment run on the host in NumPy. They
are small, data-dependent in size (a variable number of detections) and run only on frames with
an empty slot, where a compiled form would need padding to a maximum and a scan over it.

The person slots are the identities: slot ``k`` is one person for the whole video, as long as
that person is never lost for more than ``max_lost_seconds`` while all slots are taken.

Over the house's 500 lines: the detection on tiles, the assignment and the checks that let a
slot go are one policy, whose thresholds only make sense read together.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from posejax import _cache
from posejax.ops import _exact, buckets, detection, image, roi
from posejax.pipeline import Pipeline
from posejax.stepwise import FrameRunner, network_program

#: Frames between tiled searches while a slot is empty (the whole frame is searched every frame).
SEARCH_EVERY = 3
#: Overlap of neighbouring tiles, as a fraction of their side.
TILE_OVERLAP = 0.25
#: Seconds a lost person keeps a slot to be found again in (``max_lost_seconds``'s default).
MAX_LOST_SECONDS = 3.0
#: A detection whose ROI centre is this close to a tracked ROI's (in ROI sides) is that person.
SAME_PERSON_DISTANCE = 0.15
#: Two slots whose landmarks are this close on average (in ROI sides) follow one person.
DUPLICATE_DISTANCE = 0.08
#: A person followed for less than this (seconds) keeps no slot once lost: most such poses are
#: something that looked like a person for a moment.
ESTABLISHED_SECONDS = 0.5
#: The longest a lost person's last velocity is followed, seconds.
PREDICTION_SECONDS = 0.5
#: A tracked person's body: the box of their landmarks, widened by this many ROI sides.
BODY_MARGIN = 0.1
#: A pose found this frame whose landmark box lies this much (of its area) on a tracked
#: person's is a part of that person, not someone new.
PART_OVERLAP = 0.5
_MAX_SCALE_RATIO = 1.7
_ROI_BLOCK = 8
_WHOLE_FRAME_DETECTIONS = 8
#: Extra landmark passes on a frame where a slot claimed for someone new found no pose.
MAX_RETRIES = 2   # people the whole frame's detections give at most


def tile_windows(height: int, width: int, overlap: float = TILE_OVERLAP) -> list[tuple]:
    """The windows ``(y0, x0, h, w)`` the detector also searches while a slot is empty.

    * Square tiles of the frame's short side cover its long side, neighbours overlapping by
      ``overlap`` (a person standing in a wide frame fills one);
    * in a frame more than twice as long as it is short, windows of twice the short side along
      the long one (someone lying down in a wide frame, longer than a square tile);
    * in a frame whose short side has 720 pixels or more, square tiles of half that side too.

    A square frame of less than 720 pixels has none (the whole frame is its one tile).

    Example
    -------
    >>> [w[1] for w in tile_windows(544, 1920)][:5]      # x0 of five 544-pixel tiles
    [0, 344, 688, 1032, 1376]
    >>> tile_windows(174, 930)[-4:]                      # then 348 x 174 windows
    [(0, 0, 174, 348), (0, 194, 174, 348), (0, 388, 174, 348), (0, 582, 174, 348)]
    >>> len(tile_windows(1080, 1920)), tile_windows(480, 480)
    (18, [])
    """
    short, long = min(height, width), max(height, width)
    shapes = [(short, short)]
    if long > 2 * short:
        shapes.append((short, 2 * short) if width >= height else (2 * short, short))
    if short >= 720:
        shapes.append((short // 2, short // 2))
    windows = []
    for h, w in shapes:
        if (h, w) == (height, width):
            continue

        def starts(length, side):
            if length <= side:
                return [0]
            count = math.ceil((length - side) / (side * (1 - overlap))) + 1
            return [round(i * (length - side) / (count - 1)) for i in range(count)]

        windows += [(y, x, h, w) for y in starts(height, h) for x in starts(width, w)]
    return windows


# -- compiled pieces: pure functions of arrays, sizes as traced int32 [height, width] ------------

def _letterbox(frame, size):
    tensor, padding = image.detector_input(frame, (size[0], size[1]))
    return tensor[None], padding


def _decode_detections(raw):
    box, keypoints = detection.decode_boxes(raw["boxes"][0])
    return box, keypoints, detection.scores_from_logits(raw["scores"][0])


def _whole_frame_detections(raw, padding, size, min_score):
    """MediaPipe's weighted NMS on the whole frame's detections, as ROIs and face boxes.

    :func:`posejax.ops.detection.all_detections`, then the letterbox removed and the ROI made
    one detection at a time, each as the single-person pipeline makes its one: so a person the
    whole frame shows starts from, bit for bit, the ROI that person alone would get.
    """
    boxes, keypoints, scores, found = detection.all_detections(
        raw["boxes"][0], raw["scores"][0], min_score, _WHOLE_FRAME_DETECTIONS)

    def one(args):
        box, points = detection.remove_letterbox(args[0], args[1], padding)
        return box, roi.detection_to_roi(points, size[0], size[1])

    boxes, rois = jax.lax.map(one, (boxes, keypoints))
    return rois, boxes, scores, found


def _detection_rois(keypoints, size):
    return jax.vmap(lambda k: roi.detection_to_roi(k, size[0], size[1]))(keypoints)


def _slot_crops(frame, rois, has_roi, size):
    """Crops of every slot's ROI in one frame (a placeholder where a slot is empty).

    The crop is :meth:`Pipeline._landmark_input <posejax.pipeline.Pipeline._landmark_input>`'s
    on the frame repeated once per slot: gathered as it is for one video, so that a slot's crop
    has the bits a person tracked alone gets (XLA gathers from a shared frame with other
    arithmetic, and tracking amplifies a last-bit difference into pixels within a few frames).
    The conditional keeps XLA from fusing the crop into the network and skips it on frames
    where no slot has an ROI.
    """
    height, width = size[0], size[1]
    aspect = _exact.div_rn(height.astype(jnp.float32), width.astype(jnp.float32))
    whole = jnp.stack([jnp.float32(0.5), jnp.float32(0.5), jnp.float32(1.0), aspect,
                       jnp.float32(0.0)])
    rois = jnp.where(has_roi[:, None], rois, whole)
    frames = jnp.broadcast_to(frame[None], (rois.shape[0],) + frame.shape)

    def crop(frames, rois):
        return jax.vmap(lambda f, r: image.landmark_input(f, r, (height, width)))(frames, rois)

    def nothing(frames, rois):
        return jnp.zeros((rois.shape[0], image.LANDMARK_SIZE, image.LANDMARK_SIZE, 3),
                         jnp.float32)

    return jax.lax.cond(jnp.any(has_roi), crop, nothing, frames, rois), rois


def _spec(shape, dtype=jnp.float32):
    return jax.ShapeDtypeStruct(tuple(shape), dtype)


_SIZE = _spec((2,), jnp.int32)


@functools.lru_cache(maxsize=64)
def _program(kind: str, *shape_parts):
    """The compiled piece ``kind`` for ``shape_parts`` (kept in posejax's cache on disk too)."""
    if kind == "letterbox":
        (bucket,) = shape_parts
        return _cache.exported_program("people-letterbox", (), _letterbox,
                                       (_spec(bucket + (3,), jnp.uint8), _SIZE), (0, 0))
    if kind == "decode-detections":
        raw = {"boxes": _spec((1, detection.NUM_BOXES, detection.NUM_COORDS)),
               "scores": _spec((1, detection.NUM_BOXES, 1))}
        return _cache.exported_program("people-decode-detections", (), _decode_detections,
                                       (raw,), (0, 0, 0))
    if kind == "whole-frame-detections":
        (min_score,) = shape_parts
        raw = {"boxes": _spec((1, detection.NUM_BOXES, detection.NUM_COORDS)),
               "scores": _spec((1, detection.NUM_BOXES, 1))}
        return _cache.exported_program(
            "people-whole-frame-detections", (min_score, _WHOLE_FRAME_DETECTIONS),
            functools.partial(_whole_frame_detections, min_score=min_score),
            (raw, _spec((4,)), _SIZE), (0, 0, 0, 0))
    if kind == "detection-rois":
        (count,) = shape_parts
        return _cache.exported_program(
            "people-detection-rois", (), _detection_rois,
            (_spec((count, detection.NUM_KEYPOINTS, 2)), _SIZE), 0)
    if kind == "crops":
        bucket, count = shape_parts
        return _cache.exported_program(
            "people-crops", (), _slot_crops,
            (_spec(bucket + (3,), jnp.uint8), _spec((count, 5)), _spec((count,), bool), _SIZE),
            (0, 0))
    raise ValueError(f"unknown program {kind!r}")


@dataclasses.dataclass
class _Slot:
    """What the host remembers of one person slot."""

    used: bool = False            # has held a person
    age: int = 0                  # frames tracked without a break (0: lost)
    last_time: float = -np.inf    # seconds, the last frame the person was seen
    first_time: float = -np.inf   # seconds, the first frame this person was seen in the slot
    center: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(2))   # pixels
    side: float = 0.0             # ROI side, pixels
    velocity: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(2))  # px / s
    #: x0, y0, x1, y1 of the landmarks on the last frame the person was seen (pixels)
    box: np.ndarray = dataclasses.field(default_factory=lambda: np.full(4, np.nan))

    @property
    def established(self) -> bool:
        """Followed for :data:`ESTABLISHED_SECONDS` at least: worth keeping the slot for."""
        return self.last_time - self.first_time >= ESTABLISHED_SECONDS

    def reach(self, centre, side: float, time: float, width: int, height: int) -> float:
        """The association's cost of a pose at ``centre`` (pixels, region ``side``) for this slot.

        Its distance from where the slot's lost person was heading, in their region sides; inf
        outside the gate (``0.6 + 1.0 * seconds lost``) or when the sizes differ by more than
        a factor :data:`_MAX_SCALE_RATIO`.
        """
        distance = np.linalg.norm(centre - self.predicted(time, width, height))
        distance /= max(self.side, 1e-6)
        ratio = side / max(self.side, 1e-6)
        if (distance <= 0.6 + 1.0 * (time - self.last_time)
                and 1 / _MAX_SCALE_RATIO < ratio < _MAX_SCALE_RATIO):
            return float(distance)
        return np.inf

    def predicted(self, time: float, width: int, height: int) -> np.ndarray:
        """Where the person should be at ``time``, in pixels.

        Moved on at their last velocity for at most :data:`PREDICTION_SECONDS`, and kept inside
        the frame (someone who walked out comes back where they left).
        """
        ahead = min(max(time - self.last_time, 0.0), PREDICTION_SECONDS)
        return np.clip(self.center + self.velocity * ahead, 0.0, [width, height])


def detect_people(rgb: np.ndarray, packed: np.ndarray | None, detector_params, min_score: float,
                  per_image: bool, tiles: bool = True,
                  iou_threshold: float = detection.MIN_SUPPRESSION_THRESHOLD,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Every person the pose detector finds in a frame, on the whole frame and on tiles.

    Each window (the whole frame, and with ``tiles`` those of :func:`tile_windows`) is
    letterboxed to 224 pixels for the detector, and its detections merged by MediaPipe's
    weighted non-maximum suppression (at ``iou_threshold``: the legacy graph's 0.3 by default,
    so that on the whole frame a person gets the detection MediaPipe's single-person pipeline
    gets). Across windows, detections of one person (face boxes overlapping by more than
    ``iou_threshold``) are chosen, not averaged: the view from the smallest window that holds
    the person's whole region (the most pixels on them, nothing cut off), the whole frame
    holding everyone; a person cut by every tile keeps the whole frame's view.

    Parameters
    ----------
    rgb : ndarray, uint8, (H, W, 3)
    packed : ndarray or None
        ``rgb`` already packed into its size bucket (:func:`posejax.ops.buckets.pack`), or None.
    detector_params : dict
        The detector's parameters (:func:`posejax.nets.load`).
    min_score : float
        Detection score threshold.
    per_image : bool
        The network program's form (image by image on a CPU).
    tiles : bool
        Search the tiles too.
    iou_threshold : float
        Suppression threshold, within a window and across windows.

    Returns
    -------
    rois : ndarray, float32, (D, 5)
        The landmark crop of each person (MediaPipe's detection-to-ROI: square, 1.25x).
    scores : ndarray, float32, (D,)
        Detection scores, best first.

    Example
    -------
    >>> from posejax import nets
    >>> _, params = nets.load("detector")
    >>> rois, scores = detect_people(np.zeros((90, 320, 3), np.uint8), None, params, 0.5, True)
    >>> rois.shape, scores.shape                        # nobody in a black frame
    ((0, 5), (0,))
    """
    height, width = rgb.shape[:2]
    windows = [(0, 0, height, width)]
    if tiles:
        windows += tile_windows(height, width)
    detector = network_program("detector", False, 1, per_image)
    found_rois, found_boxes, found_scores, ranks = [], [], [], []
    f32 = np.float32
    for y0, x0, h, w in windows:
        whole = (h, w) == (height, width)
        if whole and packed is not None:
            frame = packed
        else:
            frame = np.empty(buckets.frame_bucket(h, w) + (3,), np.uint8)
            buckets.pack(np.ascontiguousarray(rgb[y0:y0 + h, x0:x0 + w]), frame)
        tensor, padding = _program("letterbox", frame.shape[:2])(frame, buckets.size_array(h, w))
        raw = detector(detector_params, tensor)
        if whole and iou_threshold == detection.MIN_SUPPRESSION_THRESHOLD:
            rois, boxes, scores, found = (np.asarray(a) for a in _program(
                "whole-frame-detections", float(min_score))(raw, padding,
                                                            buckets.size_array(h, w)))
            rois, scores = rois[found], scores[found]
            # face boxes as xmin, ymin, width, height
            boxes = np.concatenate([boxes[found, :2], boxes[found, 2:] - boxes[found, :2]], 1)
        else:
            boxes, points, scores = (np.asarray(a) for a in _program("decode-detections")(raw))
            points, scores, boxes = detection.weighted_nms(boxes, points, scores, min_score,
                                                           iou_threshold, return_boxes=True)
            if not len(scores):
                continue
            left, top, right, bottom = np.asarray(padding, f32)
            sx, sy = f32(1) - (left + right), f32(1) - (top + bottom)
            # The letterbox removed as remove_letterbox does, then the window put in the frame.
            points = np.stack([(points[..., 0] - left) / sx, (points[..., 1] - top) / sy], -1)
            boxes = np.stack([(boxes[:, 0] - left) / sx, (boxes[:, 1] - top) / sy,
                              boxes[:, 2] / sx, boxes[:, 3] / sy], axis=-1)
            if not whole:
                scale, offset = np.array([w, h], f32), np.array([x0, y0], f32)
                size = np.array([width, height], f32)
                points = (points * scale + offset) / size
                boxes[:, :2] = (boxes[:, :2] * scale + offset) / size
                boxes[:, 2:] = boxes[:, 2:] * scale / size
            rois = _rois_of(list(points), height, width)
        for box, one_roi, score in zip(boxes, rois, scores, strict=True):
            found_rois.append(one_roi)
            found_boxes.append(box)
            found_scores.append(score)
            ranks.append((not _sees_whole(one_roi, (y0, x0, h, w), height, width), h * w,
                          -float(score)))
    kept = []
    for i in sorted(range(len(ranks)), key=ranks.__getitem__):
        if kept and np.any(detection._overlap_iou(np.array([found_boxes[k] for k in kept]),
                                                  found_boxes[i]) > f32(iou_threshold)):
            continue
        kept.append(i)
    if not kept:
        return np.zeros((0, 5), np.float32), np.zeros(0, np.float32)
    kept.sort(key=lambda i: -float(found_scores[i]))   # people in MediaPipe's order: by score
    return (np.asarray([found_rois[i] for i in kept], f32).reshape(-1, 5),
            np.asarray([found_scores[i] for i in kept], f32))


def _sees_whole(roi_row, window, height: int, width: int) -> bool:
    """Whether a window holds a detection's whole ROI (the part of it inside the frame).

    Example
    -------
    >>> region = np.array([0.5, 0.5, 0.2, 0.4, 0.0])    # x 80-120, y 30-70 in 200 x 100
    >>> _sees_whole(region, (0, 50, 100, 100), 100, 200), _sees_whole(region, (0, 0, 100, 100),
    ...                                                                 100, 200)
    (True, False)
    """
    y0, x0, h, w = window
    cx, cy = roi_row[0] * width, roi_row[1] * height
    half_w, half_h = roi_row[2] * width / 2, roi_row[3] * height / 2
    left, right = max(cx - half_w, 0.0), min(cx + half_w, width)
    top, bottom = max(cy - half_h, 0.0), min(cy + half_h, height)
    slack = 0.02 * max(h, w)
    return bool(left >= x0 - slack and right <= x0 + w + slack
                and top >= y0 - slack and bottom <= y0 + h + slack)


def _rois_of(points: list, height: int, width: int) -> np.ndarray:
    """The ROIs of detections' keypoints (normalized to the frame), in blocks of programs."""
    count = len(points)
    if not count:
        return np.zeros((0, 5), np.float32)
    block = -(-count // _ROI_BLOCK) * _ROI_BLOCK
    padded = np.zeros((block,) + np.shape(points[0]), np.float32)
    padded[:count] = points
    padded[count:, 1, 1] = 1.0   # a well-defined ROI for the unused rows
    rois = np.asarray(_program("detection-rois", block)(padded,
                                                        buckets.size_array(height, width)))
    return rois[:count]


def _centres(rois: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """ROI centres ``(n, 2)`` and sides ``(n,)`` in pixels."""
    rois = np.asarray(rois, np.float64).reshape(-1, 5)
    centres = rois[:, :2] * [width, height]
    sides = np.sqrt(np.abs(rois[:, 2] * width * rois[:, 3] * height))
    return centres, sides


class PeopleTracker:
    """``N`` person slots tracked through one video (or run on unrelated images).

    Parameters
    ----------
    pipeline : Pipeline
        Its configuration's networks, thresholds and filters serve every slot; segmentation is
        not supported with several people.
    num_poses : int
        Person slots, at least 1.
    max_lost_seconds : float
        How long a lost person keeps a slot to be found again in.

    Example
    -------
    >>> from posejax.pipeline import PipelineConfig, get_pipeline
    >>> tracker = PeopleTracker(get_pipeline(PipelineConfig(model_complexity=0)), 2)
    >>> out = tracker.step(np.zeros((48, 64, 3), np.uint8), 0, 0.0)
    >>> out["present"].tolist(), out["landmarks"].shape    # nobody in a black frame
    ([False, False], (2, 33, 5))
    """

    def __init__(self, pipeline: Pipeline, num_poses: int,
                 max_lost_seconds: float = MAX_LOST_SECONDS):
        if pipeline.config.enable_segmentation:
            raise ValueError("segmentation masks are not available with num_poses > 1 yet; "
                             "track with num_poses=1, or without enable_segmentation")
        self.pipeline, self.num_poses = pipeline, int(num_poses)
        self.max_lost_seconds = float(max_lost_seconds)
        self._runners: dict = {}
        self.reset()

    def reset(self) -> None:
        """Forget everyone: the next frame starts a new video."""
        self._state = None
        self._slots = [_Slot() for _ in range(self.num_poses)]
        self._frame = 0
        self._lost_last_frame = False
        self._unclaimed: list[int] = []

    # -- programs --------------------------------------------------------------------------------
    def _runner(self, bucket) -> FrameRunner:
        runner = self._runners.get(bucket)
        if runner is None:
            runner = self._runners[bucket] = FrameRunner(self.pipeline, self.num_poses, *bucket)
        return runner

    def prepare(self, height: int, width: int) -> None:
        """Load or compile the programs frames of this size need (before a progress bar)."""
        bucket = buckets.frame_bucket(height, width)
        runner = self._runner(bucket)
        runner.program("landmarks"), runner.program("update")
        _program("crops", bucket, self.num_poses)
        for tile_bucket in {bucket} | {buckets.frame_bucket(h, w)
                                       for _, _, h, w in tile_windows(height, width)}:
            _program("letterbox", tile_bucket)
        _program("decode-detections")
        _program("detection-rois", _ROI_BLOCK)
        _program("whole-frame-detections", float(self.pipeline.config.min_detection_confidence))
        network_program("detector", False, 1, self.pipeline._per_image)

    # -- detection -------------------------------------------------------------------------------
    def detect(self, rgb: np.ndarray, packed: np.ndarray, tiles: bool) -> tuple:
        """Every person the detector finds: ``(rois (D, 5), scores (D,))``, best first."""
        pipeline = self.pipeline
        return detect_people(rgb, packed, pipeline.detector_params,
                             pipeline.config.min_detection_confidence, pipeline._per_image, tiles)

    # -- one frame -------------------------------------------------------------------------------
    def step(self, rgb: np.ndarray, clock_us: int, time: float) -> dict:
        """Track one ``(H, W, 3)`` uint8 RGB frame.

        Parameters
        ----------
        rgb : ndarray
        clock_us : int
            The filters' clock in microseconds (as :func:`posejax.track` gives the pipeline).
        time : float
            The frame's time in seconds (how long a lost person has been away).

        Returns
        -------
        dict of ndarray
            ``landmarks (N, 33, 5)``, ``world_landmarks (N, 33, 4)``, ``present (N,)``,
            ``rois (N, 5)``: slot ``k`` is the same person on every frame; NaN where empty.
        """
        pipeline, n = self.pipeline, self.num_poses
        static = pipeline.config.static_image_mode
        height, width = rgb.shape[:2]
        bucket = buckets.frame_bucket(height, width)
        packed = np.empty(bucket + (3,), np.uint8)
        buckets.pack(rgb, packed)
        size = buckets.size_array(height, width)
        if self._state is None or static:
            self._state = jax.tree.map(np.array, pipeline.init_state(n, height, width))
        if static:
            self._slots = [_Slot() for _ in range(n)]
        before = self._state
        state = jax.tree.map(np.copy, before)
        tracked = state.has_roi.copy()
        rois = state.roi.copy()
        claimed: dict[int, bool] = {}   # slot -> whether it starts a new person
        if not tracked.all():
            # Tiles on a schedule, and right after someone was lost: who is lost while moving
            # fast or far from the camera, the whole frame's detector may not see.
            tiles = static or self._lost_last_frame or self._frame % SEARCH_EVERY == 0
            found, _ = self.detect(rgb, packed, tiles)
            claimed = self._assign(found, rois, tracked, height, width, time)
            fresh = jax.tree.map(np.array, pipeline.init_state(1, height, width))
            for k, new_person in claimed.items():
                rois[k] = found[self._claimed_from[k]]
                if new_person:
                    state = jax.tree.map(lambda s, f, k=k: _set_row(s, k, f[0]), state, fresh)
        has_roi = tracked.copy()
        has_roi[list(claimed)] = True
        clock32 = np.full(n, np.uint32(int(clock_us) % 2**32).view(np.int32))
        state_in = state
        state, out = self._landmarks(state_in, packed, rois, has_roi, clock32, size, bucket)
        for _ in range(MAX_RETRIES):
            # A slot claimed for someone new that found no pose tries the next detection (the
            # detector also fires on things that are no person, and best first is not always
            # a person): up to MAX_RETRIES more landmark passes, on frames that need them only.
            failed = [k for k, new_person in claimed.items() if new_person
                      and not out["present"][k]]
            if not failed or not self._unclaimed:
                break
            retry = np.zeros(n, bool)
            for k in failed:
                if not self._unclaimed:
                    break
                self._claimed_from[k] = self._unclaimed.pop(0)
                rois[k] = found[self._claimed_from[k]]
                retry[k] = True
            state_retry, out_retry = self._landmarks(state_in, packed, rois, retry, clock32,
                                                     size, bucket)
            for k in np.flatnonzero(retry & out_retry["present"]):
                state = jax.tree.map(lambda s, r, k=k: _set_row(s, k, r[k]), state, state_retry)
                for name in out:
                    out[name][k] = out_retry[name][k]
        present = out["present"]
        for k in self._duplicates(out, present, height, width, time, claimed):
            present[k] = False
        for k in _parts_of_others(out["landmarks"], present, claimed, width, height):
            present[k] = False
        for new, lost in self._handovers(out["rois"], present, claimed, before.has_roi, height,
                                         width, time):
            # The person a slot lost on this very frame, found by the detector as someone new:
            # they go back to their own slot.
            for name in ("landmarks", "world_landmarks", "rois"):
                out[name][lost] = out[name][new]
            present[lost], present[new] = True, False
            state = jax.tree.map(lambda s, new=new, lost=lost: _set_row(s, lost, s[new].copy()),
                                 state)
            del claimed[new]
            claimed[lost] = False
        for k in range(n):
            if not present[k]:
                for name in ("landmarks", "world_landmarks", "rois"):
                    out[name][k] = np.nan
                if k in claimed or not before.has_roi[k]:
                    # a slot tried this frame and found nobody keeps what it had
                    state = jax.tree.map(lambda s, b, k=k: _set_row(s, k, b[k]), state, before)
                else:   # lost: as MediaPipe, the coordinate filters start again
                    state = _lose(state, before, k, pipeline.init_state(1, height, width))
        self._state = state
        self._lost_last_frame = bool(np.any(before.has_roi & ~present))
        self._update_slots(out["rois"], out["landmarks"], present, claimed, height, width, time)
        self._frame += 1
        out["present"] = present
        return {"landmarks": out["landmarks"], "world_landmarks": out["world_landmarks"],
                "present": present, "rois": out["rois"]}

    def _landmarks(self, state, packed, rois, has_roi, clock32, size, bucket):
        """The slots' crops, landmark network and update: ``(state, outputs)`` as NumPy."""
        runner = self._runner(bucket)
        crops, used_rois = _program("crops", bucket, self.num_poses)(packed, rois, has_roi, size)
        raw = runner.program("landmarks")(self.pipeline.landmark_params, crops)
        state, out = runner.program("update")(state, raw, used_rois, has_roi, clock32, size)
        return (jax.tree.map(np.array, state),
                {k: np.array(v) for k, v in out.items() if v is not None})

    def _assign(self, found, rois, tracked, height, width, time) -> dict[int, bool]:
        """Give new detections to empty slots: ``{slot: starts a new person}``."""
        # SciPy comes with scikit-learn; imported here, for start-up time, as only a frame with
        # an empty slot and a detection needs it.
        from scipy.optimize import linear_sum_assignment

        self._claimed_from: dict[int, int] = {}
        self._unclaimed: list[int] = []
        if not len(found):
            return {}
        centres, sides = _centres(found, height, width)
        tracked_centres, tracked_sides = _centres(rois[tracked], height, width)
        boxes = np.array([self._slots[k].box for k in np.flatnonzero(tracked)]).reshape(-1, 4)
        new = []
        for i in range(len(found)):
            if len(tracked_sides):
                apart = np.linalg.norm(tracked_centres - centres[i], axis=1) / np.sqrt(
                    tracked_sides * sides[i])
                ratio = tracked_sides / sides[i]
                x, y = centres[i]
                margin = BODY_MARGIN * tracked_sides
                inside = ((boxes[:, 0] - margin <= x) & (x <= boxes[:, 2] + margin)
                          & (boxes[:, 1] - margin <= y) & (y <= boxes[:, 3] + margin))
                if np.any(inside | ((apart < SAME_PERSON_DISTANCE) & (ratio < _MAX_SCALE_RATIO)
                                    & (ratio > 1 / _MAX_SCALE_RATIO))):
                    continue
            if new:   # two detections of one person (from two windows) are one candidate
                apart = np.linalg.norm(centres[new] - centres[i], axis=1) / np.sqrt(
                    sides[new] * sides[i])
                if np.any(apart < SAME_PERSON_DISTANCE):
                    continue
            new.append(i)
        empty = [k for k in range(self.num_poses) if not tracked[k]]
        claimed: dict[int, bool] = {}
        if not self.pipeline.config.static_image_mode:
            recent = [k for k in empty if self._slots[k].used and self._slots[k].established
                      and time - self._slots[k].last_time <= self.max_lost_seconds]
            if new and recent:
                cost = np.full((len(new), len(recent)), np.inf)
                for a, i in enumerate(new):
                    for b, k in enumerate(recent):
                        cost[a, b] = self._slots[k].reach(centres[i], sides[i], time,
                                                          width, height)
                rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
                for a, b in zip(rows, cols, strict=True):
                    if np.isfinite(cost[a, b]):
                        claimed[recent[b]] = False
                        self._claimed_from[recent[b]] = new[a]
            matched = set(self._claimed_from.values())
            new = [i for i in new if i not in matched]
            unused = [k for k in empty if not self._slots[k].used
                      or (not self._slots[k].established and k not in recent)]
            expired = sorted((k for k in empty if k not in unused and k not in recent),
                             key=lambda k: self._slots[k].last_time)
            free = unused + expired
        else:
            free = empty
        for i, k in zip(new, free, strict=False):
            claimed[k] = True
            self._claimed_from[k] = i
        self._unclaimed = new[len(free):]   # next in line should a claim find no pose
        return claimed

    def _handovers(self, rois, present, claimed, tracked_before, height, width, time):
        """``(new slot, lost slot)`` pairs: someone new who is the person a slot just lost.

        A slot tracked on the previous frame that lost its person on this one, while a slot
        claimed this frame for someone new found a pose where the lost person was heading (the
        gate and size rule of the association).
        """
        lost_now = [j for j in range(self.num_poses)
                    if tracked_before[j] and not present[j] and j not in claimed]
        centres, sides = _centres(rois, height, width)
        pairs = []
        for k in [k for k, new_person in claimed.items() if new_person and present[k]]:
            best, best_distance = None, np.inf
            for j in lost_now:
                distance = self._slots[j].reach(centres[k], sides[k], time, width, height)
                if distance < best_distance:
                    best, best_distance = j, distance
            if best is not None:
                pairs.append((k, best))
                lost_now.remove(best)
        return pairs

    def _duplicates(self, out, present, height, width, time, claimed=None) -> list[int]:
        """Slots that follow the same person as another slot, to let go.

        The one tracked for fewer frames goes; between two found this frame, someone new before
        someone found again (``claimed``: slot -> new person); else the one further from where
        its person was heading.
        """
        claimed = claimed or {}
        slots = [k for k in range(self.num_poses) if present[k]]
        drop: list[int] = []
        points = out["landmarks"][..., :2] * [width, height]
        centres, sides = _centres(out["rois"], height, width)
        for a_index, a in enumerate(slots):
            for b in slots[a_index + 1:]:
                if a in drop or b in drop:
                    continue
                distance = np.mean(np.linalg.norm(points[a] - points[b], axis=-1))
                if distance / np.sqrt(sides[a] * sides[b]) >= DUPLICATE_DISTANCE:
                    continue

                def standing(k):
                    slot = self._slots[k]
                    if not slot.age:
                        return (0, bool(claimed.get(k)), np.inf)
                    off = np.linalg.norm(centres[k] - slot.predicted(time, width, height))
                    return (-slot.age, False, off)

                drop.append(max((a, b), key=standing))
        return drop

    def _update_slots(self, rois, landmarks, present, claimed, height, width, time) -> None:
        centres, sides = _centres(rois, height, width)
        points = landmarks[..., :2] * [width, height]
        for k, slot in enumerate(self._slots):
            if not present[k]:
                slot.age = 0
                continue
            if claimed.get(k):   # a new person in this slot
                self._slots[k] = slot = _Slot(used=True, first_time=time)
            if slot.age and time > slot.last_time:
                measured = (centres[k] - slot.center) / (time - slot.last_time)
                slot.velocity = 0.5 * slot.velocity + 0.5 * measured
            elif not slot.age:
                slot.velocity = np.zeros(2)
            slot.used, slot.age = True, slot.age + 1
            slot.center, slot.side, slot.last_time = centres[k], float(sides[k]), time
            slot.box = np.concatenate([points[k].min(axis=0), points[k].max(axis=0)])


def _parts_of_others(landmarks, present, claimed, width, height) -> list[int]:
    """Slots claimed this frame whose pose lies on a person tracked from before (a part of them).

    Example
    -------
    >>> lm = np.full((2, 33, 5), 0.5, np.float32)
    >>> lm[0, :, 0] = np.linspace(0.1, 0.6, 33)          # a tracked person
    >>> lm[1, :, 0] = np.linspace(0.4, 0.55, 33)         # a pose over their right half
    >>> lm[:, :, 1] = np.linspace(0.2, 0.8, 33)
    >>> _parts_of_others(lm, np.array([True, True]), {1: True}, 100, 100)
    [1]
    """
    points = landmarks[..., :2] * [width, height]
    boxes = np.concatenate([points.min(axis=1), points.max(axis=1)], axis=-1)
    parts = []
    for k in claimed:
        if not present[k]:
            continue
        x0, y0, x1, y1 = boxes[k]
        area = max((x1 - x0) * (y1 - y0), 1e-9)
        for j in np.flatnonzero(present):
            if j == k or j in claimed:
                continue
            ox0, oy0, ox1, oy1 = boxes[j]
            inter = max(0.0, min(x1, ox1) - max(x0, ox0)) * max(0.0, min(y1, oy1) - max(y0, oy0))
            if inter / area > PART_OVERLAP:
                parts.append(k)
                break
    return parts


def _set_row(array: np.ndarray, k: int, row) -> np.ndarray:
    array[k] = row
    return array


def _lose(state, before, k: int, fresh):
    """Slot ``k`` lost its person: MediaPipe's state after a frame without a pose."""
    fresh = jax.tree.map(np.array, fresh)
    kept = jax.tree.map(lambda s, b: _set_row(s, k, b[k]), state, before)
    return kept._replace(
        has_roi=_set_row(kept.has_roi, k, False),
        pose_filter=jax.tree.map(lambda s, f: _set_row(s, k, f[0]), kept.pose_filter,
                                 fresh.pose_filter),
        aux_filter=jax.tree.map(lambda s, f: _set_row(s, k, f[0]), kept.aux_filter,
                                fresh.aux_filter))


def individual_names(count: int) -> tuple[str, ...]:
    """The slot names of a track of ``count`` people: ``person_0``, ``person_1``, ...

    Example
    -------
    >>> individual_names(2)
    ('person_0', 'person_1')
    """
    return tuple(f"person_{k}" for k in range(count))


__all__ = ["PeopleTracker", "detect_people", "individual_names", "tile_windows"]
