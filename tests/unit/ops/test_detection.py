"""posejax.ops.detection against NumPy transcriptions of the C++ calculators (spec 4.3-4.6).

``_weighted_nms`` below follows ``NonMaxSuppressionCalculator::WeightedNonMaxSuppression`` loop for
loop (sort by score, IoU > 0.3 against the head, score-weighted means in float32), so the JAX
shortcut that computes only the first output detection is checked against the full algorithm.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from posejax.ops import detection

f32 = np.float32
_best = jax.jit(detection.best_detection, static_argnames=("min_score",))
_decode = jax.jit(detection.decode_boxes)
_iou = jax.jit(detection.overlap_iou)


def test_anchors_follow_the_spec_table():
    expected = []
    for grid, per_cell in ((28, 2), (14, 2), (7, 6)):
        for y in range(grid):
            for x in range(grid):
                centre = (f32(x + 0.5) / f32(grid), f32(y + 0.5) / f32(grid))
                expected.extend([centre] * per_cell)
    assert detection.ANCHORS.shape == (2254, 2) and detection.ANCHORS.dtype == np.float32
    np.testing.assert_array_equal(detection.ANCHORS, np.asarray(expected, np.float32))
    # Layer boundaries of the spec's table: 0-1567 stride 8, 1568-1959 stride 16, then 32.
    np.testing.assert_array_equal(detection.ANCHORS[1567], [f32(27.5) / 28] * 2)
    np.testing.assert_array_equal(detection.ANCHORS[1568], [f32(0.5) / 14] * 2)
    np.testing.assert_array_equal(detection.ANCHORS[1960], [f32(0.5) / 7] * 2)


def test_anchor_algorithm_handles_other_options():
    options = dict(detection.ANCHOR_OPTIONS, num_layers=4, strides=(8, 16, 16, 16),
                   interpolated_scale_aspect_ratio=0.0, input_size_height=128,
                   input_size_width=128)
    # One anchor per aspect ratio and layer: 16x16x1 + 8x8x3.
    assert detection.ssd_anchors(options).shape == (16 * 16 + 8 * 8 * 3, 2)
    with pytest.raises(ValueError, match="fixed_anchor_size"):
        detection.ssd_anchors(dict(detection.ANCHOR_OPTIONS, fixed_anchor_size=False))


def _numpy_decode(raw):
    anchors = detection.ANCHORS
    scale = f32(224)
    xc = raw[:, 0] / scale + anchors[:, 0]
    yc = raw[:, 1] / scale + anchors[:, 1]
    w, h = raw[:, 2] / scale, raw[:, 3] / scale
    xmin, ymin = xc - w / f32(2), yc - h / f32(2)
    xmax, ymax = xc + w / f32(2), yc + h / f32(2)
    box = np.stack([xmin, ymin, xmax - xmin, ymax - ymin], axis=1)
    keypoints = raw[:, 4:].reshape(-1, 4, 2) / scale + anchors[:, None, :]
    return box.astype(np.float32), keypoints.astype(np.float32)


def _numpy_iou(rect1, rect2):
    """OverlapSimilarity(INTERSECTION_OVER_UNION, rect1, rect2) on (xmin, ymin, w, h)."""
    def bounds(r):
        return r[0], r[1], f32(r[0] + r[2]), f32(r[1] + r[3])

    x0, y0, x1, y1 = bounds(rect1)
    u0, v0, u1, v1 = bounds(rect2)
    if x0 > x1 or y0 > y1 or u0 > u1 or v0 > v1 or u1 < x0 or x1 < u0 or v1 < y0 or y1 < v0:
        return f32(0)
    intersection = f32(f32(min(x1, u1) - max(x0, u0)) * f32(min(y1, v1) - max(y0, v0)))
    union = f32(f32(f32(x1 - x0) * f32(y1 - y0)) + f32(f32(u1 - u0) * f32(v1 - v0))) - intersection
    return f32(intersection / union) if union > 0 else f32(0)


def _weighted_nms(box, keypoints, scores, min_score):
    """The full C++ weighted NMS; returns its output detections in order."""
    kept = [i for i in range(len(scores))
            if scores[i] >= f32(min_score) and box[i, 2] >= 0 and box[i, 3] >= 0]
    remaining = sorted(kept, key=lambda i: -scores[i])
    outputs = []
    while remaining:
        head = remaining[0]
        candidates = [i for i in remaining if _numpy_iou(box[i], box[head]) > f32(0.3)]
        rest = [i for i in remaining if i not in candidates]
        if candidates:
            total = w_xmin = w_ymin = w_xmax = w_ymax = f32(0)
            w_kp = np.zeros((4, 2), np.float32)
            for i in candidates:
                s = scores[i]
                total = f32(total + s)
                w_xmin = f32(w_xmin + f32(box[i, 0] * s))
                w_ymin = f32(w_ymin + f32(box[i, 1] * s))
                w_xmax = f32(w_xmax + f32(f32(box[i, 0] + box[i, 2]) * s))
                w_ymax = f32(w_ymax + f32(f32(box[i, 1] + box[i, 3]) * s))
                w_kp = (w_kp + keypoints[i] * s).astype(np.float32)
            xmin, ymin = f32(w_xmin / total), f32(w_ymin / total)
            out_box = np.array([xmin, ymin, w_xmax / total, w_ymax / total], np.float32)
            out_kp = (w_kp / total).astype(np.float32)
        else:
            b = box[head]
            out_box = np.array([b[0], b[1], b[0] + b[2], b[1] + b[3]], np.float32)
            out_kp = keypoints[head]
        outputs.append((out_box, out_kp, scores[head]))
        if len(rest) == len(remaining):
            break
        remaining = rest
    return outputs


def _clustered_raw(rng, clusters=3, count=2254):
    """Detector outputs with a few clusters of overlapping boxes and scattered noise."""
    anchors = detection.ANCHORS
    raw = np.zeros((count, 12), np.float32)
    centres = rng.uniform(0.2, 0.8, (clusters, 2))
    member = rng.integers(0, clusters, count)
    target = centres[member] + rng.normal(0, 0.02, (count, 2))
    raw[:, 0:2] = (target - anchors) * 224
    raw[:, 2:4] = rng.uniform(0.08, 0.2, (count, 2)) * 224
    raw[:5, 2] = -5.0  # negative widths are dropped even with high scores
    raw[:, 4:] = ((target[:, None, :] + rng.normal(0, 0.05, (count, 4, 2)))
                  - anchors[:, None, :]).reshape(count, 8) * 224
    logits = rng.normal(-4, 3, (count, 1)).astype(np.float32)
    logits[:5] = 8.0
    return raw.astype(np.float32), logits


def test_decode_matches_numpy():
    raw, _ = _clustered_raw(np.random.default_rng(0))
    box, keypoints = _decode(jnp.asarray(raw))
    expected_box, expected_keypoints = _numpy_decode(raw)
    np.testing.assert_array_equal(np.asarray(box), expected_box)
    np.testing.assert_array_equal(np.asarray(keypoints), expected_keypoints)


def test_iou_matches_the_cpp_rectangles():
    rng = np.random.default_rng(1)
    boxes = rng.uniform(0, 1, (400, 4)).astype(np.float32)
    boxes[:, 2:] *= 0.4
    boxes[::7, 2] = 0  # degenerate, touching cases
    boxes[::11, 3] = -0.1  # empty rectangles
    reference = boxes[3]
    got = np.asarray(_iou(jnp.asarray(boxes), jnp.asarray(reference)))
    expected = np.array([_numpy_iou(b, reference) for b in boxes], np.float32)
    np.testing.assert_array_equal(got, expected)
    assert (expected > 0).sum() > 10  # the sample does exercise overlaps


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_best_detection_is_the_first_weighted_nms_output(seed):
    raw, logits = _clustered_raw(np.random.default_rng(seed))
    box, keypoints, score, found = _best(jnp.asarray(raw), jnp.asarray(logits), min_score=0.5)
    decoded_box, decoded_keypoints = _numpy_decode(raw)
    scores = np.asarray(detection.scores_from_logits(jnp.asarray(logits)))
    outputs = _weighted_nms(decoded_box, decoded_keypoints, scores, 0.5)
    assert bool(found) and len(outputs) >= 2
    expected_box, expected_keypoints, expected_score = outputs[0]
    assert float(score) == float(expected_score)
    # The weighted sums run in another order than the C++ loop (whose order itself depends on an
    # unstable sort): equal up to float32 rounding of a few hundred terms.
    np.testing.assert_allclose(np.asarray(box), expected_box, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(keypoints), expected_keypoints, rtol=0, atol=1e-6)


def test_no_detection_and_inclusive_threshold():
    raw = jnp.zeros((2254, 12))
    _, keypoints, score, found = _best(raw, jnp.full((2254, 1), -3.0), min_score=0.5)
    assert not bool(found) and bool(jnp.all(jnp.isnan(keypoints))) and bool(jnp.isnan(score))
    # sigmoid(0) == 0.5 exactly: a score equal to min_detection_confidence is kept.
    logits = jnp.full((2254, 1), -3.0).at[700, 0].set(0.0)
    _, keypoints, score, found = _best(raw.at[:, 2:4].set(10.0), logits, min_score=0.5)
    assert bool(found) and float(score) == 0.5
    np.testing.assert_allclose(np.asarray(keypoints[0]), detection.ANCHORS[700], atol=1e-7)


def test_remove_letterbox_matches_the_calculator():
    rng = np.random.default_rng(5)
    box = np.sort(rng.uniform(0, 1, 4).astype(np.float32).reshape(2, 2), axis=0).T.reshape(4)
    box = box[[0, 2, 1, 3]]
    keypoints = rng.uniform(0, 1, (4, 2)).astype(np.float32)
    padding = np.array([0.0, 0.125, 0.0, 0.125], np.float32)
    got_box, got_keypoints = detection.remove_letterbox(box, keypoints, padding)
    scale_x = f32(1) - (padding[0] + padding[2])
    scale_y = f32(1) - (padding[1] + padding[3])
    xmin, ymin = (box[0] - padding[0]) / scale_x, (box[1] - padding[1]) / scale_y
    width, height = (box[2] - box[0]) / scale_x, (box[3] - box[1]) / scale_y
    np.testing.assert_array_equal(np.asarray(got_box), [xmin, ymin, xmin + width, ymin + height])
    np.testing.assert_array_equal(
        np.asarray(got_keypoints),
        np.stack([(keypoints[:, 0] - padding[0]) / scale_x,
                  (keypoints[:, 1] - padding[1]) / scale_y], axis=1))
    with pytest.raises(ValueError, match="padding"):
        detection.remove_letterbox(box, keypoints, padding[:3])


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="2254"):
        detection.decode_boxes(jnp.zeros((100, 12)))
    with pytest.raises(ValueError, match="2254"):
        detection.scores_from_logits(jnp.zeros((100, 1)))
