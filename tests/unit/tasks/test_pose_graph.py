"""Tasks' graph pieces: weighted NMS, ROI association, and when the detector runs."""

from __future__ import annotations

import numpy as np
import pytest

from posejax import nets
from posejax.tasks import pose_graph
from posejax.tasks.pose_graph import GraphOptions, PoseGraph, associate, weighted_nms
from tests.helpers.reference_data import load_rgb, require_shared


def rect(x, y, size=0.2):
    return np.array([x, y, size, size, 0.0], np.float32)


def test_association_keeps_old_rois_first_and_lets_detections_replace_overlaps():
    old = [rect(0.2, 0.2), rect(0.7, 0.7)]
    detected = [rect(0.71, 0.7), rect(0.45, 0.45)]
    kept = associate(old, detected, 0.5)
    # the old ROI at 0.7 gave way to the detection overlapping it; order: old, then new
    np.testing.assert_array_equal(np.array(kept)[:, 0], np.float32([0.2, 0.71, 0.45]))


def test_association_threshold_is_strict_and_rotation_is_ignored():
    a, b = rect(0.5, 0.5), rect(0.5, 0.5)
    b[4] = 1.0                                   # rotated: same axis-aligned box
    assert len(associate([a], [b], 0.99)) == 1   # IoU 1 > 0.99
    assert len(associate([a], [b], 1.0)) == 2    # IoU 1 is not > 1
    # overlapping old ROIs also replace each other, as the calculator adds them one by one
    assert len(associate([a, rect(0.51, 0.5)], [], 0.5)) == 1


def test_weighted_nms_keeps_every_detection_in_score_order():
    boxes = np.array([[0.0, 0, 1, 1], [0.6, 0, 1, 1], [0.02, 0, 1, 1], [5, 5, 1, 1]], np.float32)
    points = np.arange(4, dtype=np.float32).reshape(4, 1, 1).repeat(2, axis=2)
    scores = np.array([0.8, 0.9, 0.7, 0.4], np.float32)
    kept_points, kept_scores = weighted_nms(boxes, points, scores, min_score=0.5)
    # box 1 (0.9) first alone (IoU 0.25 with box 0); then box 0 merged with box 2 (IoU 0.96);
    # box 3 is under the score threshold
    np.testing.assert_allclose(kept_scores, [0.9, 0.8])
    np.testing.assert_allclose(kept_points[:, 0, 0], [1.0, (0.8 * 0 + 0.7 * 2) / 1.5], rtol=1e-6)
    assert weighted_nms(boxes, points, scores, min_score=0.95)[0].shape == (0, 1, 2)


@pytest.fixture(scope="module")
def networks():
    _, detector = nets.load("detector")
    _, landmarks = nets.load("lite", with_segmentation=False)
    return detector, landmarks


@pytest.mark.parametrize("num_poses, stream_mode, expected_calls", [
    (1, True, 1),    # the one person stays tracked: detected on the first frame only
    (2, True, 4),    # fewer tracked than num_poses: the detector runs on every frame
    (1, False, 4),   # IMAGE mode: every image
])
def test_the_detector_runs_only_while_too_few_poses_are_tracked(
        networks, monkeypatch, num_poses, stream_mode, expected_calls):
    rgb = load_rgb(require_shared("images/mp_pose_yoga_warrior.jpg"))
    graph = PoseGraph(GraphOptions(num_poses=num_poses, stream_mode=stream_mode), "lite",
                      *networks)
    calls = []
    detect = graph.detect_rois
    monkeypatch.setattr(graph, "detect_rois", lambda *a: calls.append(1) or detect(*a))
    counts = [len(graph.process(rgb, 1000 * (t + 1)).landmarks) for t in range(4)]
    assert counts == [1, 1, 1, 1]
    assert len(calls) == expected_calls


def test_smoothing_only_for_a_single_pose_in_stream_mode():
    assert GraphOptions(num_poses=1, stream_mode=True).smoothing
    assert not GraphOptions(num_poses=2, stream_mode=True).smoothing
    assert not GraphOptions(num_poses=1, stream_mode=False).smoothing
    assert pose_graph.HEATMAP_KERNEL_SIZE == 7 and pose_graph.NMS_IOU_THRESHOLD == 0.5
