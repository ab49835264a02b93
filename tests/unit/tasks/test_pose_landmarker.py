"""``mp.tasks.vision.PoseLandmarker``: the Tasks API's modes, checks, callbacks and results.

The model is named ``pose_landmarker_lite.task`` without such a file, so posejax's own weights
run (no bundle needed); parity with MediaPipe is in ``tests/integration/test_tasks_parity.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import posejax as mp

vision = mp.tasks.vision
LITE = "pose_landmarker_lite.task"


def options(**changes):
    base = mp.tasks.BaseOptions(model_asset_path=LITE)
    return vision.PoseLandmarkerOptions(base_options=base, **changes)


def black(height=48, width=64):
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((height, width, 3), np.uint8))


def test_defaults_are_the_tasks_defaults():
    o = options()
    assert o.running_mode == vision.RunningMode.IMAGE and o.num_poses == 1
    assert (o.min_pose_detection_confidence, o.min_pose_presence_confidence,
            o.min_tracking_confidence) == (0.5, 0.5, 0.5)
    assert o.output_segmentation_masks is False and o.result_callback is None
    assert o.detection_mode == vision.DetectionMode.WHOLE_FRAME


def test_create_from_model_path_gives_image_mode():
    with vision.PoseLandmarker.create_from_model_path(LITE) as landmarker:
        assert landmarker.model == "lite"
        result = landmarker.detect(black())
        with pytest.raises(ValueError, match="not initialized with the video mode"):
            landmarker.detect_for_video(black(), 0)
    assert result.pose_landmarks == [] and result.pose_world_landmarks == []
    assert result.segmentation_masks is None
    assert result.landmarks.shape == (0, 33, 5)


@pytest.mark.parametrize("changes, message", [
    ({"num_poses": 0}, "num_poses"),
    ({"num_poses": 1.5}, "num_poses"),
    ({"min_pose_detection_confidence": 1.5}, "min_pose_detection_confidence"),
    ({"min_pose_presence_confidence": -0.1}, "min_pose_presence_confidence"),
    ({"min_tracking_confidence": True}, "min_tracking_confidence"),
    ({"running_mode": "VIDEO"}, "RunningMode"),
    ({"running_mode": vision.RunningMode.LIVE_STREAM}, "callback must be provided"),
    ({"result_callback": print}, "callback should not be provided"),
    ({"running_mode": vision.RunningMode.VIDEO, "result_callback": print},
     "callback should not be provided"),
    ({"detection_mode": "patches"}, "detection_mode"),
])
def test_options_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        vision.PoseLandmarker.create_from_options(options(**changes))


def test_detection_mode_accepts_its_name():
    landmarker = vision.PoseLandmarker.create_from_options(options(detection_mode="whole_frame"))
    landmarker.close()


@pytest.mark.parametrize("mode, call", [
    (vision.RunningMode.IMAGE, lambda lm: lm.detect_async(black(), 0)),
    (vision.RunningMode.VIDEO, lambda lm: lm.detect(black())),
    (vision.RunningMode.VIDEO, lambda lm: lm.detect_async(black(), 0)),
    (vision.RunningMode.LIVE_STREAM, lambda lm: lm.detect(black())),
    (vision.RunningMode.LIVE_STREAM, lambda lm: lm.detect_for_video(black(), 0)),
])
def test_the_method_must_match_the_running_mode(mode, call):
    callback = (lambda *args: None) if mode == vision.RunningMode.LIVE_STREAM else None
    with vision.PoseLandmarker.create_from_options(
            options(running_mode=mode, result_callback=callback)) as landmarker:
        with pytest.raises(ValueError, match=f"Current running mode:{mode.name}"):
            call(landmarker)


def test_video_timestamps_must_increase_strictly():
    with vision.PoseLandmarker.create_from_options(
            options(running_mode=vision.RunningMode.VIDEO)) as landmarker:
        landmarker.detect_for_video(black(), 10)
        for stamp in (10, 9):
            with pytest.raises(ValueError, match="monotonically increasing"):
                landmarker.detect_for_video(black(), stamp)
        landmarker.detect_for_video(black(), 11)
        with pytest.raises(TypeError, match="timestamp_ms"):
            landmarker.detect_for_video(black(), 12.5)


def test_live_stream_calls_back_in_the_callers_thread():
    seen = []
    with vision.PoseLandmarker.create_from_options(options(
            running_mode=vision.RunningMode.LIVE_STREAM,
            result_callback=lambda result, image, stamp: seen.append((result, image, stamp)))
    ) as landmarker:
        image = black()
        assert landmarker.detect_async(image, 5) is None
        assert len(seen) == 1                     # before detect_async returned
        result, got_image, stamp = seen[0]
        assert got_image is image and stamp == 5 and result.pose_landmarks == []
        with pytest.raises(ValueError, match="monotonically increasing"):
            landmarker.detect_async(image, 5)


def test_closed_landmarker_refuses_work():
    landmarker = vision.PoseLandmarker.create_from_model_path(LITE)
    with landmarker:
        pass
    with pytest.raises(ValueError, match="closed"):
        landmarker.detect(black())


def test_inputs_are_checked():
    with vision.PoseLandmarker.create_from_model_path(LITE) as landmarker:
        with pytest.raises(TypeError, match="posejax.Image"):
            landmarker.detect(np.zeros((48, 64, 3), np.uint8))
        with pytest.raises(ValueError, match="image_processing_options"):
            landmarker.detect(black(), image_processing_options=object())


def test_gray_and_rgba_images_run_and_masks_come_per_pose():
    with vision.PoseLandmarker.create_from_options(
            options(output_segmentation_masks=True, num_poses=2)) as landmarker:
        gray = landmarker.detect(mp.Image(image_format=mp.ImageFormat.GRAY8,
                                          data=np.zeros((48, 64), np.uint8)))
        rgba = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGBA,
                                          data=np.zeros((48, 64, 4), np.uint8)))
    for result in (gray, rgba):   # no pose: None rather than [], as MediaPipe gives
        assert result.pose_landmarks == [] and result.segmentation_masks is None


def test_connections_are_the_skeletons():
    pairs = [(c.start, c.end) for c in vision.PoseLandmarksConnections.POSE_LANDMARKS]
    assert len(pairs) == 35 and set(pairs) == set(mp.POSE_CONNECTIONS)


def test_names_sit_where_mediapipe_has_them():
    assert mp.tasks.components.containers.NormalizedLandmark is not None
    assert mp.tasks.components.containers.Landmark is not None
    assert mp.tasks.BaseOptions.Delegate.CPU is not None
    assert {m.name for m in vision.RunningMode} == {"IMAGE", "VIDEO", "LIVE_STREAM"}
    assert mp.ImageFormat.SRGB == 1 and mp.ImageFormat.GRAY8 == 3
