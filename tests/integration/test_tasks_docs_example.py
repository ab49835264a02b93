"""The Tasks API's Python example runs with only the import changed.

``EXAMPLE`` is the snippet of ``TASKS_REFERENCE.md`` ("The Python API", the documented use of
``mediapipe.tasks.vision.PoseLandmarker``) verbatim, except ``import mediapipe as mp`` ->
``import posejax as mp``; the test supplies ``rgb_uint8`` and ``timestamp_ms``. It runs in a
folder holding a ``pose_landmarker_full.task`` bundle (built by ``tools/make_tasks_fixtures.py``)
and, for users without one, in an empty folder, where posejax resolves that name to its own
weights. Either way the pose is MediaPipe's (the first VIDEO frame is detected and not yet
smoothed, so it equals the IMAGE-mode fixture).
"""

# ruff: noqa: E501  (EXAMPLE is the documented snippet verbatim, long lines included)
from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.helpers.reference_data import load_rgb, require_shared
from tests.helpers.tasks_data import load_fixture, require_bundle

EXAMPLE = """\
import posejax as mp
opts = mp.tasks.vision.PoseLandmarkerOptions(
    base_options=mp.tasks.BaseOptions(model_asset_path="pose_landmarker_full.task"),
    running_mode=mp.tasks.vision.RunningMode.VIDEO,   # IMAGE (default), VIDEO, LIVE_STREAM
    num_poses=1, min_pose_detection_confidence=0.5, min_pose_presence_confidence=0.5,
    min_tracking_confidence=0.5, output_segmentation_masks=False,
    result_callback=None)                              # required in LIVE_STREAM: (result, image, timestamp_ms)
with mp.tasks.vision.PoseLandmarker.create_from_options(opts) as landmarker:
    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb_uint8)
    result = landmarker.detect_for_video(image, timestamp_ms)   # detect(image), detect_async(image, ts)
result.pose_landmarks        # list (one per person) of 33 NormalizedLandmark(x, y, z, visibility, presence)
result.pose_world_landmarks  # list of 33 Landmark(x, y, z, visibility, presence), metres
result.segmentation_masks    # list of mp.Image (float32 mask) or None
"""

NAME = "mp_pose_yoga_warrior"


@pytest.mark.parametrize("with_bundle_file", [True, False], ids=["bundle-file", "no-file"])
def test_documented_example_runs_with_posejax(tmp_path, monkeypatch, with_bundle_file):
    if with_bundle_file:
        shutil.copy(require_bundle("full"), tmp_path / "pose_landmarker_full.task")
    monkeypatch.chdir(tmp_path)
    ref = load_fixture(f"image_{NAME}")
    rgb = load_rgb(require_shared(ref["meta"]["file"]))
    namespace = {"rgb_uint8": rgb, "timestamp_ms": 0}
    exec(compile(EXAMPLE, "tasks_example.py", "exec"), namespace)
    result = namespace["result"]
    assert result.segmentation_masks is None
    (pose,), (world,) = result.pose_landmarks, result.pose_world_landmarks
    assert len(pose) == len(world) == 33
    ours = np.array([[lm.x, lm.y, lm.z, lm.visibility, lm.presence] for lm in pose])
    expected = ref["full_1_landmarks"][0]
    height, width = rgb.shape[:2]
    err = np.hypot((ours[:, 0] - expected[:, 0]) * width, (ours[:, 1] - expected[:, 1]) * height)
    assert np.median(err) <= 0.5 and err.max() <= 2.0
    np.testing.assert_allclose(ours[:, 3:], expected[:, 3:], atol=0.02)
