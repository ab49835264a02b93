"""``DetectionMode.TILED`` and ``track(num_poses=N)`` find people small in a wide frame.

Two people a quarter of a wide frame's width apart are each a few dozen pixels tall in the
detector's 224-pixel letterbox of the whole frame: Tasks' own detection finds neither, the tiles
(:func:`posejax.people.tile_windows`) find both.
"""

from __future__ import annotations

import numpy as np
import pytest

import posejax as mp
from tests.helpers.reference_data import load_rgb, require_shared

vision = mp.tasks.vision


def _fit(image, height):
    step = max(1, round(image.shape[0] / height))
    return image[::step, ::step]


@pytest.fixture(scope="module")
def two_far_apart():
    """A grey 4:1 canvas with a standing man at the left edge and a woman at the right."""
    man = load_rgb(require_shared("images/tfex_image2_standing_man.jpeg"))
    woman = load_rgb(require_shared("images/tfex_image1_standing_woman_render.png"))
    man, woman = _fit(man, 214), _fit(woman, 214)
    height = max(man.shape[0], woman.shape[0])
    canvas = np.full((height, 4 * height, 3), 128, np.uint8)
    canvas[:man.shape[0], :man.shape[1]] = man
    canvas[:woman.shape[0], canvas.shape[1] - woman.shape[1]:] = woman
    return canvas


def _detect(canvas, mode):
    base = mp.tasks.BaseOptions(model_asset_path="pose_landmarker_full.task")
    options = vision.PoseLandmarkerOptions(base_options=base, num_poses=2, detection_mode=mode)
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        return landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=canvas))


def test_tiles_find_the_people_the_whole_frame_misses(two_far_apart):
    assert len(_detect(two_far_apart, "whole_frame").pose_landmarks) == 0
    tiled = _detect(two_far_apart, vision.DetectionMode.TILED)
    hips = sorted(np.mean([p[23].x, p[24].x]) for p in tiled.pose_landmarks)
    assert len(hips) == 2
    assert hips[0] < 0.15 and hips[1] > 0.85            # one at each edge, where they stand


def test_track_with_num_poses_finds_both_and_the_single_person_pipeline_neither(two_far_apart):
    two = mp.track([two_far_apart], num_poses=2, static_image_mode=True)
    assert two.pose_present.tolist() == [[True, True]]
    hips = np.sort(np.nanmean(two.landmarks[0, :, 23:25, 0], axis=1))
    assert hips[0] < 0.15 and hips[1] > 0.85
    tasks = _detect(two_far_apart, "tiled")
    ours = sorted(two.landmarks[0], key=lambda p: p[0, 0])
    theirs = sorted(tasks.landmarks, key=lambda p: p[0, 0])
    # The same crops (weighted NMS of the same detections) through the same network; the two
    # decode the heatmap with their own windows (Tasks 7 cells, legacy 9), hence a tolerance.
    width = two_far_apart.shape[1]
    for a, b in zip(ours, theirs, strict=True):
        assert np.median(np.abs(a[:, 0] - b[:, 0])) * width < 1.0
    one = mp.track(two_far_apart[None], static_image_mode=True)
    assert not one.pose_present.any()
