"""Pose detector post-processing: SSD anchors, decoding, weighted NMS and letterbox removal.

MediaPipe decodes all 2254 anchors (``TensorsToDetectionsCalculator``, spec 4.4), runs weighted
non-maximum suppression (``NonMaxSuppressionCalculator``, 4.5) and keeps only the first output
detection (``SplitDetectionVectorCalculator``, 4.6). That first detection depends only on the
highest-scoring box and the boxes overlapping it, so :func:`best_detection` computes just that, with
fixed shapes and no data-dependent loop.

Coordinates are normalized to the letterboxed 224x224 detector input until
:func:`remove_letterbox` maps them to the image.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from posejax.ops import _exact as ex

F32 = jnp.float32

#: ``SsdAnchorsCalculator`` options of ``pose_detection_cpu.pbtxt``.
ANCHOR_OPTIONS = {
    "num_layers": 5,
    "min_scale": 0.1484375,
    "max_scale": 0.75,
    "input_size_height": 224,
    "input_size_width": 224,
    "anchor_offset_x": 0.5,
    "anchor_offset_y": 0.5,
    "strides": (8, 16, 32, 32, 32),
    "aspect_ratios": (1.0,),
    "fixed_anchor_size": True,
    "interpolated_scale_aspect_ratio": 1.0,
    "reduce_boxes_in_lowest_layer": False,
}
#: Detector decoding constants (``TensorsToDetectionsCalculator`` options).
NUM_BOXES = 2254
NUM_COORDS = 12
NUM_KEYPOINTS = 4
BOX_SCALE = 224.0
SCORE_CLIPPING = 100.0
#: Weighted NMS keeps boxes whose IoU with the best one is above this.
MIN_SUPPRESSION_THRESHOLD = 0.3


def ssd_anchors(options: dict | None = None) -> np.ndarray:
    """Anchor centres by MediaPipe's ``SsdAnchorsCalculator`` algorithm.

    Layers with equal strides are merged; each layer adds one anchor per aspect ratio plus one for
    the interpolated scale; anchors are ordered by row, column, then anchor. With
    ``fixed_anchor_size`` every anchor has width = height = 1, so only the centres are returned.

    Parameters
    ----------
    options : dict, optional
        Defaults to :data:`ANCHOR_OPTIONS` (the pose detector's).

    Returns
    -------
    numpy float32 array (num_anchors, 2)
        ``x_center, y_center`` normalized to the input tensor.

    Example
    -------
    >>> ssd_anchors().shape
    (2254, 2)
    >>> ssd_anchors()[0].tolist()  # float32 (0.5 / 28, 0.5 / 28)
    [0.01785714, 0.01785714]
    """
    o = dict(ANCHOR_OPTIONS if options is None else options)
    if not o["fixed_anchor_size"]:
        raise ValueError("only fixed_anchor_size anchors (w = h = 1) are supported")
    strides = o["strides"]

    def scale_of(index):
        if len(strides) == 1:
            return (o["min_scale"] + o["max_scale"]) * 0.5
        return o["min_scale"] + (o["max_scale"] - o["min_scale"]) * index / (len(strides) - 1.0)

    centres = []
    layer = 0
    while layer < o["num_layers"]:
        anchors_per_cell = 0
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            if last == 0 and o["reduce_boxes_in_lowest_layer"]:
                anchors_per_cell += 3
            else:
                anchors_per_cell += len(o["aspect_ratios"])
                if o["interpolated_scale_aspect_ratio"] > 0.0:
                    anchors_per_cell += 1
            scale_of(last)  # scales only matter without fixed_anchor_size
            last += 1
        stride = strides[layer]
        rows = math.ceil(o["input_size_height"] / stride)
        cols = math.ceil(o["input_size_width"] / stride)
        for y in range(rows):
            for x in range(cols):
                # float32 as in C++: (x + offset) * 1.0f / feature_map_width.
                cx = np.float32(x + o["anchor_offset_x"]) / np.float32(cols)
                cy = np.float32(y + o["anchor_offset_y"]) / np.float32(rows)
                centres.extend([(cx, cy)] * anchors_per_cell)
        layer = last
    return np.asarray(centres, dtype=np.float32)


#: The 2254 anchor centres of the pose detector, ``(2254, 2)`` float32 ``x, y``.
ANCHORS = ssd_anchors()


def decode_boxes(boxes_raw):
    """Face boxes and keypoints of every anchor, as ``TensorsToDetectionsCalculator`` decodes them.

    Parameters
    ----------
    boxes_raw : float32 (2254, 12)
        Regressor output of the detector for one image.

    Returns
    -------
    box : float32 (2254, 4)
        ``xmin, ymin, width, height`` (width = xmax - xmin, as MediaPipe stores it).
    keypoints : float32 (2254, 4, 2)
        ``x, y`` of keypoints 0..3.

    Example
    -------
    >>> box, keypoints = decode_boxes(jnp.zeros((2254, 12)))
    >>> [round(v, 6) for v in box[0].tolist()], [round(v, 6) for v in keypoints[0, 1].tolist()]
    ([0.017857, 0.017857, 0.0, 0.0], [0.017857, 0.017857])
    """
    boxes_raw = jnp.asarray(boxes_raw, F32)
    if boxes_raw.shape != (NUM_BOXES, NUM_COORDS):
        raise ValueError(f"boxes_raw must be ({NUM_BOXES}, {NUM_COORDS}), got {boxes_raw.shape}")
    anchors = jnp.asarray(ANCHORS)
    scaled = ex.div_rn(boxes_raw, F32(BOX_SCALE))
    centre = scaled[:, 0:2] + anchors  # anchor w = h = 1
    half = scaled[:, 2:4] * F32(0.5)
    lower = centre - half
    upper = centre + half
    keypoints = scaled[:, 4:].reshape(NUM_BOXES, NUM_KEYPOINTS, 2) + anchors[:, None, :]
    return jnp.concatenate([lower, upper - lower], axis=1), keypoints


def scores_from_logits(scores_raw):
    """``sigmoid(clip(logit, -100, 100))`` per anchor, float32 ``(2254,)``.

    Example
    -------
    >>> scores_from_logits(jnp.zeros((2254, 1)))[:2].tolist()
    [0.5, 0.5]
    """
    logits = jnp.asarray(scores_raw, F32).reshape(-1)
    if logits.shape != (NUM_BOXES,):
        raise ValueError(f"scores_raw must hold {NUM_BOXES} logits, got shape "
                         f"{jnp.shape(scores_raw)}")
    logits = jnp.clip(logits, -SCORE_CLIPPING, SCORE_CLIPPING)
    return F32(1) / (F32(1) + jnp.exp(-logits))


def _rect_bounds(box):
    """``Rectangle_f(xmin, ymin, width, height)``: min and max corners (max = min + size)."""
    return box[..., 0], box[..., 1], box[..., 0] + box[..., 2], box[..., 1] + box[..., 3]


def overlap_iou(boxes, reference):
    """MediaPipe's ``OverlapSimilarity(INTERSECTION_OVER_UNION, boxes, reference)``.

    Parameters
    ----------
    boxes : float32 (..., 4)
        ``xmin, ymin, width, height``.
    reference : float32 (4,)

    Returns
    -------
    float32 (...,)
        0 where the rectangles do not touch or the union is not positive.

    Example
    -------
    >>> float(overlap_iou(jnp.array([0.0, 0.0, 2.0, 1.0]), jnp.array([1.0, 0.0, 2.0, 1.0])))
    0.3333333432674408
    """
    x0, y0, x1, y1 = _rect_bounds(jnp.asarray(boxes, F32))
    rx0, ry0, rx1, ry1 = _rect_bounds(jnp.asarray(reference, F32))
    empty = (x0 > x1) | (y0 > y1) | (rx0 > rx1) | (ry0 > ry1)
    apart = (rx1 < x0) | (x1 < rx0) | (ry1 < y0) | (y1 < ry0)
    # Products rounded before the sums, as in C++, so the 0.3 threshold falls where it does there.
    intersection = ex.mul_rn(jnp.minimum(x1, rx1) - jnp.maximum(x0, rx0),
                             jnp.minimum(y1, ry1) - jnp.maximum(y0, ry0))
    area = ex.mul_rn(x1 - x0, y1 - y0)
    reference_area = ex.mul_rn(rx1 - rx0, ry1 - ry0)
    union = (area + reference_area) - intersection
    iou = jnp.where(union > 0, intersection / jnp.where(union > 0, union, F32(1)), F32(0))
    return jnp.where(empty | apart, F32(0), iou)


def best_detection(boxes_raw, scores_raw, min_score: float = 0.5, allowed=None):
    """The first detection of MediaPipe's weighted NMS: the one pose the pipeline uses.

    The head is the highest-scoring detection with ``score >= min_score`` (and a non-negative box);
    the candidates are the kept detections whose face box has IoU > 0.3 with the head's (the head
    included). Box and keypoints are the score-weighted means over the candidates; the score is the
    head's.

    Parameters
    ----------
    boxes_raw : float32 (2254, 12)
    scores_raw : float32 (2254, 1) or (2254,)
        Score logits.
    min_score : float
        ``min_detection_confidence``; compared in float32 as MediaPipe does.
    allowed : bool (2254,), optional
        Anchors still in play (the weighted NMS's next output, see :func:`all_detections`); all
        by default.

    Returns
    -------
    box : float32 (4,)
        ``xmin, ymin, xmax, ymax`` of the face box, letterboxed tensor coordinates.
    keypoints : float32 (4, 2)
        0 = mid-hip centre, 1 = full-body size/rotation point, 2 = mid-shoulder centre,
        3 = upper-body size/rotation point.
    score : float32 scalar
    found : bool scalar
        False when no anchor passes ``min_score``; the other outputs are then NaN.

    Example
    -------
    >>> logits = jnp.full((2254, 1), -10.0).at[100, 0].set(3.0)
    >>> box, keypoints, score, found = best_detection(jnp.zeros((2254, 12)), logits)
    >>> bool(found), round(float(score), 4), keypoints.shape
    (True, 0.9526, (4, 2))
    """
    return _best_detection(boxes_raw, scores_raw, min_score, allowed)[:4]


def _best_detection(boxes_raw, scores_raw, min_score, allowed):
    """:func:`best_detection`, and the anchors it takes (its candidates and its head)."""
    box, keypoints = decode_boxes(boxes_raw)
    scores = scores_from_logits(scores_raw)
    # "width < 0 || height < 0 || isnan(...)" are dropped; ">= 0" is false for NaN too.
    kept = (scores >= np.float32(min_score)) & (box[:, 2] >= 0) & (box[:, 3] >= 0)
    if allowed is not None:
        kept = kept & allowed
    found = jnp.any(kept)
    head = jnp.argmax(jnp.where(kept, scores, -jnp.inf))
    candidates = kept & (overlap_iou(box, box[head]) > np.float32(MIN_SUPPRESSION_THRESHOLD))
    weights = jnp.where(candidates, scores, F32(0))
    total = jnp.sum(weights)
    has_candidates = total > 0
    safe_total = jnp.where(has_candidates, total, F32(1))
    xmin, ymin, xmax, ymax = _rect_bounds(box)
    weighted = jnp.stack([xmin, ymin, xmax, ymax], axis=1) * weights[:, None]
    mean_box = jnp.sum(weighted, axis=0) / safe_total
    mean_keypoints = jnp.sum(keypoints * weights[:, None, None], axis=0) / safe_total
    # MediaPipe stores xmin and width = xmax_mean - xmin; remove_letterbox recomputes that width.
    head_bounds = jnp.stack(_rect_bounds(box[head]))
    out_box = jnp.where(has_candidates, mean_box, head_bounds)
    out_keypoints = jnp.where(has_candidates, mean_keypoints, keypoints[head])
    nan = F32(jnp.nan)
    return (jnp.where(found, out_box, nan), jnp.where(found, out_keypoints, nan),
            jnp.where(found, scores[head], nan), found,
            candidates | (jnp.arange(scores.shape[0]) == head))


def all_detections(boxes_raw, scores_raw, min_score: float, count: int):
    """The first ``count`` outputs of MediaPipe's weighted NMS at the legacy threshold (0.3).

    Each output is :func:`best_detection` of the anchors the earlier ones did not take, with
    the same arithmetic, so the first is exactly the detection of the single-person pipeline.

    Returns
    -------
    boxes : float32 (count, 4)
    keypoints : float32 (count, 4, 2)
    scores : float32 (count,)
    found : bool (count,)
        False past the last detection (the other outputs are then NaN).

    Example
    -------
    >>> logits = jnp.full((2254, 1), -10.0).at[100, 0].set(3.0).at[2000, 0].set(2.0)
    >>> raw = jnp.zeros((2254, 12)).at[:, 2:4].set(10.0)     # boxes 10 pixels wide
    >>> boxes, points, scores, found = all_detections(raw, logits, 0.5, 3)
    >>> found.tolist(), [round(float(s), 3) for s in scores[:2]]
    ([True, True, False], [0.953, 0.881])
    """
    def step(allowed, _):
        box, keypoints, score, found, candidates = _best_detection(boxes_raw, scores_raw,
                                                                   min_score, allowed)
        return allowed & ~candidates, (box, keypoints, score, found)

    _, out = lax.scan(step, jnp.ones(boxes_raw.shape[0], bool), None, length=count)
    return out


def remove_letterbox(box, keypoints, padding):
    """Map a detection from the letterboxed tensor to normalized image coordinates.

    ``DetectionLetterboxRemovalCalculator``: ``x' = (x - left) / (1 - left - right)``,
    ``y' = (y - top) / (1 - top - bottom)``; box sizes are divided by the same factors.

    Parameters
    ----------
    box : float32 (4,)
        ``xmin, ymin, xmax, ymax``.
    keypoints : float32 (K, 2)
    padding : float32 (4,)
        ``[left, top, right, bottom]`` from :func:`posejax.ops.image.detector_input`.

    Returns
    -------
    box : float32 (4,)
    keypoints : float32 (K, 2)

    Example
    -------
    >>> box, kp = remove_letterbox(jnp.array([0.2, 0.125, 0.4, 0.5]), jnp.array([[0.5, 0.25]]),
    ...                            jnp.array([0.0, 0.125, 0.0, 0.125]))
    >>> box.tolist(), kp.tolist()
    ([0.20000000298023224, 0.0, 0.4000000059604645, 0.5], [[0.5, 0.1666666716337204]])
    """
    box = jnp.asarray(box, F32)
    keypoints = jnp.asarray(keypoints, F32)
    padding = jnp.asarray(padding, F32)
    if box.shape != (4,) or padding.shape != (4,) or keypoints.ndim != 2 \
            or keypoints.shape[1] != 2:
        raise ValueError("expected box (4,), keypoints (K, 2) and padding (4,), got "
                         f"{box.shape}, {keypoints.shape}, {padding.shape}")
    left, top = padding[0], padding[1]
    scale_x = F32(1) - (padding[0] + padding[2])
    scale_y = F32(1) - (padding[1] + padding[3])
    xmin = ex.div_rn(box[0] - left, scale_x)
    ymin = ex.div_rn(box[1] - top, scale_y)
    width = ex.div_rn(box[2] - box[0], scale_x)
    height = ex.div_rn(box[3] - box[1], scale_y)
    out_box = jnp.stack([xmin, ymin, xmin + width, ymin + height])
    out_keypoints = jnp.stack([ex.div_rn(keypoints[:, 0] - left, scale_x),
                               ex.div_rn(keypoints[:, 1] - top, scale_y)], axis=1)
    return out_box, out_keypoints


#: ``PoseDetectorGraphOptions.min_suppression_threshold`` default of MediaPipe Tasks (the legacy
#: graph keeps one detection at 0.3); posejax's multi-person detection uses it too.
NMS_IOU_THRESHOLD = np.float32(0.5)


# -- on the host: every detection kept, NumPy float32 in the C++ calculators' order -------------

def _overlap_iou(boxes: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``OverlapSimilarity(INTERSECTION_OVER_UNION)`` of ``(xmin, ymin, w, h)`` boxes, float32."""
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    rx0, ry0 = reference[0], reference[1]
    rx1, ry1 = rx0 + reference[2], ry0 + reference[3]
    apart = (rx1 < x0) | (x1 < rx0) | (ry1 < y0) | (y1 < ry0)
    empty = (x0 > x1) | (y0 > y1) | (rx0 > rx1) | (ry0 > ry1)
    intersection = (np.minimum(x1, rx1) - np.maximum(x0, rx0)) * \
        (np.minimum(y1, ry1) - np.maximum(y0, ry0))
    union = ((x1 - x0) * (y1 - y0) + (rx1 - rx0) * (ry1 - ry0)) - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, intersection / union, np.float32(0))
    return np.where(apart | empty, np.float32(0), iou).astype(np.float32)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 min_score: float, iou_threshold: float = NMS_IOU_THRESHOLD,
                 return_boxes: bool = False):
    """MediaPipe's weighted non-maximum suppression, every output kept, in score order.

    Parameters
    ----------
    boxes : float32 (N, 4)
        ``xmin, ymin, width, height`` per anchor.
    keypoints : float32 (N, K, 2)
    scores : float32 (N,)
    min_score : float
        ``TensorsToDetectionsCalculator``'s ``min_score_thresh`` (kept: ``score >= min_score``).
    iou_threshold : float
        Anchors whose IoU with the head's box exceeds it are merged into the head.

    Returns
    -------
    keypoints : float32 (D, K, 2)
        Score-weighted mean keypoints of each output detection.
    scores : float32 (D,)
        The head's score of each.
    boxes : float32 (D, 4)
        With ``return_boxes``: the head's box of each.

    Example
    -------
    >>> boxes = np.array([[0, 0, 1, 1], [0.05, 0, 1, 1], [3, 3, 1, 1]], np.float32)
    >>> points = np.array([[[0, 0]], [[1, 1]], [[5, 5]]], np.float32)
    >>> kp, sc = weighted_nms(boxes, points, np.array([0.9, 0.6, 0.7], np.float32), 0.5)
    >>> kp[:, 0].round(4).tolist(), sc.round(4).tolist()
    ([[0.4, 0.4], [5.0, 5.0]], [0.9, 0.7])
    """
    f32 = np.float32
    kept = np.flatnonzero((scores >= f32(min_score)) & (boxes[:, 2] >= 0) & (boxes[:, 3] >= 0))
    remaining = kept[np.argsort(-scores[kept], kind="stable")]
    out_points, out_scores, heads = [], [], []
    while remaining.size:
        head = remaining[0]
        heads.append(head)
        similar = _overlap_iou(boxes[remaining], boxes[head]) > f32(iou_threshold)
        candidates, rest = remaining[similar], remaining[~similar]
        total, weighted = f32(0), np.zeros(keypoints.shape[1:], f32)
        for index in candidates:   # C++'s order of the float32 sums
            total = f32(total + scores[index])
            weighted = (weighted + keypoints[index] * scores[index]).astype(f32)
        out_points.append(weighted / total if candidates.size else keypoints[head])
        out_scores.append(scores[head])
        if rest.size == remaining.size:
            break
        remaining = rest
    shape = (len(out_points),) + keypoints.shape[1:]
    out = (np.asarray(out_points, f32).reshape(shape), np.asarray(out_scores, f32))
    if return_boxes:
        out += (np.asarray(boxes[heads], f32).reshape(-1, 4),)
    return out
