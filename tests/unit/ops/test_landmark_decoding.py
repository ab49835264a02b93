"""posejax.ops.landmark_decoding against MediaPipe's projection calculators and NumPy
transcriptions.

Projection (``LandmarkLetterboxRemovalCalculator`` + ``LandmarkProjectionCalculator``) and world
projection come from mediapipe 0.10.21 (``mediapipe_image.npz``). Heatmap refinement is checked
against a loop transcribed from ``refine_landmarks_from_heatmap_calculator.cc`` with the bounds
check that mediapipe 0.10.21 applies (rows outside the map are skipped, unlike the
``center_col >= hm_height`` in the calculator's source), for kernels 9 (released package) and 7
(graph file).
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from posejax.ops import landmark_decoding

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ops"
f32 = np.float32

_refine = jax.jit(landmark_decoding.refine_with_heatmap, static_argnames=("kernel_size",))
_project = jax.jit(landmark_decoding.project_to_image, static_argnums=(2, 3))
_world = jax.jit(landmark_decoding.world_landmarks)


@pytest.fixture(scope="module")
def mediapipe_image():
    return dict(np.load(FIXTURES / "mediapipe_image.npz"))


def _sigmoid(x):
    return f32(1) / (f32(1) + np.exp(-np.asarray(x, f32)))


def test_decode_landmarks():
    rng = np.random.default_rng(0)
    raw = rng.normal(0, 30, 195).astype(f32)
    got = np.asarray(landmark_decoding.decode_landmarks(raw))
    rows = raw.reshape(39, 5)
    np.testing.assert_array_equal(got[:, :3], rows[:, :3] / f32(256))
    np.testing.assert_allclose(got[:, 3:], _sigmoid(rows[:, 3:]), rtol=2e-7, atol=0)
    with pytest.raises(ValueError, match="195"):
        landmark_decoding.decode_landmarks(raw[:190])


def _numpy_refine(points, heatmap, kernel_size, min_confidence=0.5):
    """RefineLandmarksFromHeatMap, loop for loop (float32 sums in the C++ order)."""
    out = points.copy()
    hm_h, hm_w, _ = heatmap.shape
    offset = (kernel_size - 1) // 2
    for k in range(points.shape[0]):
        col = int(f32(points[k, 0] * f32(hm_w)))  # C++ int(): truncation toward zero
        row = int(f32(points[k, 1] * f32(hm_h)))
        if col < 0 or col >= hm_w or row < 0 or row >= hm_h:
            continue
        total = weighted_col = weighted_row = best = f32(0)
        for r in range(max(0, row - offset), min(hm_h, row + offset + 1)):
            for c in range(max(0, col - offset), min(hm_w, col + offset + 1)):
                confidence = _sigmoid(heatmap[r, c, k])
                total = f32(total + confidence)
                best = max(best, confidence)
                weighted_col = f32(weighted_col + f32(f32(c) * confidence))
                weighted_row = f32(weighted_row + f32(f32(r) * confidence))
        if best >= f32(min_confidence) and total > 0:
            out[k, 0] = f32(f32(weighted_col / f32(hm_w)) / total)
            out[k, 1] = f32(f32(weighted_row / f32(hm_h)) / total)
    return out


@pytest.mark.parametrize("kernel_size", [landmark_decoding.RELEASED_KERNEL_SIZE,
                                         landmark_decoding.GRAPH_FILE_KERNEL_SIZE])
def test_refine_with_heatmap_matches_the_calculator(kernel_size):
    rng = np.random.default_rng(kernel_size)
    points = rng.uniform(-0.1, 1.1, (39, 5)).astype(f32)
    points[0, :2] = [-0.01, 0.5]  # int(-0.64) == 0: still refined
    points[1, :2] = [0.5, 1.02]   # row 65: below the map, unchanged
    points[2, :2] = [0.5, 1.2]    # row 76: window empty, unchanged
    points[3, :2] = [1.0, 0.5]    # col 64: skipped
    points[4, :2] = [0.999, 0.001]
    heatmap = rng.normal(-2, 3, (64, 64, 39)).astype(f32)
    heatmap[:, :, 5] = -30.0      # nothing confident: unchanged
    got = np.asarray(_refine(jnp.asarray(points), jnp.asarray(heatmap),
                             kernel_size=kernel_size))
    expected = _numpy_refine(points, heatmap, kernel_size)
    # Sums as in C++; XLA's exp and fused multiply-adds can move the last bit.
    np.testing.assert_allclose(got, expected, rtol=0, atol=3e-7)
    assert got[1, 1] == points[1, 1] and got[2, 1] == points[2, 1] and got[3, 0] == points[3, 0]
    assert np.array_equal(got[5], points[5]) and np.array_equal(got[:, 2:], points[:, 2:])
    assert (np.abs(got[:, :2] - points[:, :2]) > 1e-3).sum() > 30  # most landmarks did move


def test_refine_window_mean_on_a_peak():
    heatmap = np.full((64, 64, 39), -20.0, f32)
    heatmap[10, 20, :] = 8.0
    heatmap[10, 22, :] = 8.0
    points = np.full((39, 5), 0.3, f32)
    points[:, :2] = [21.3 / 64, 11.6 / 64]  # cell (row 11, col 21): both peaks in the window
    got = np.asarray(_refine(jnp.asarray(points), jnp.asarray(heatmap), kernel_size=9))
    np.testing.assert_allclose(got[:, 0], 21 / 64, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], 10 / 64, atol=1e-6)


def test_project_to_image_is_mediapipes(mediapipe_image):
    height, width = mediapipe_image["image"].shape[:2]
    for roi, points, expected in zip(mediapipe_image["rois"], mediapipe_image["landmarks"],
                                     mediapipe_image["projected"], strict=True):
        got = np.asarray(_project(jnp.asarray(points), jnp.asarray(roi), height, width))
        np.testing.assert_array_equal(got, expected)


def test_world_landmarks_are_mediapipes(mediapipe_image):
    for roi, world, expected in zip(mediapipe_image["rois"], mediapipe_image["world"],
                                    mediapipe_image["world_projected"], strict=True):
        raw = np.concatenate([world, np.zeros((6, 3), f32)]).reshape(-1)
        np.testing.assert_array_equal(np.asarray(_world(jnp.asarray(raw), jnp.asarray(roi))),
                                      expected)


def test_segmentation_probabilities():
    logits = np.random.default_rng(1).normal(0, 4, (256, 256, 1)).astype(f32)
    got = np.asarray(landmark_decoding.segmentation_probabilities(logits))
    assert got.shape == (256, 256)
    np.testing.assert_allclose(got, f32(1) / (np.exp(-logits[..., 0]) + f32(1)), rtol=3e-7)


def test_pose_present_is_strict_in_double():
    flag = jnp.float32(0.5)
    assert not bool(landmark_decoding.pose_present(flag, 0.5))
    assert bool(landmark_decoding.pose_present(jnp.float32(np.nextafter(f32(0.5), f32(1))), 0.5))
    # float32(0.1) > 0.1 in double: a flag equal to float32(0.1) passes threshold 0.1 ...
    assert bool(landmark_decoding.pose_present(jnp.float32(0.1), 0.1))
    # ... while float32(0.7) < 0.7: a flag equal to it does not pass 0.7.
    assert not bool(landmark_decoding.pose_present(jnp.float32(0.7), 0.7))
    assert bool(landmark_decoding.pose_present(jnp.float32(np.nextafter(f32(0.7), f32(1))), 0.7))
