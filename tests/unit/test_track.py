"""Bad input to track() and Pose is rejected with an error that names the problem (before any
network is loaded or compiled, so those tests are fast); and track's ways of splitting work (static
blocks, a file decoded ahead, a batch's videos in threads) give what the work gives undivided.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import posejax

VIDEO = np.zeros((2, 16, 16, 3), np.uint8)


@pytest.mark.parametrize(
    ("frames", "error", "match"),
    [
        (np.zeros((16, 16, 3), np.uint8), ValueError, r"image\[None\]"),
        (np.zeros((2, 16, 16), np.uint8), ValueError, "3 colour channels"),
        (np.zeros((2, 16, 16, 4), np.uint8), ValueError, "4 channels"),
        (np.zeros((2, 16, 16, 3), np.float32), TypeError, "uint8"),
        (np.zeros((0, 16, 16, 3), np.uint8), ValueError, "empty"),
        (np.zeros((1, 2, 3, 16, 16, 3), np.uint8), ValueError, r"\(T, H, W, 3\)"),
        ([], ValueError, "empty list"),
        ([np.zeros((16, 16, 3), np.uint8), np.zeros((8, 16, 3), np.uint8)], ValueError,
         "share one size"),
        ([np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16), np.uint8)], ValueError,
         "frame 1"),
    ],
)
def test_bad_frames(frames, error, match):
    with pytest.raises(error, match=match):
        posejax.track(frames)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"model_complexity": 3}, "model_complexity"),
        ({"model_complexity": -1}, "model_complexity"),
        ({"model_complexity": True}, "model_complexity"),
        ({"min_detection_confidence": 1.5}, "min_detection_confidence"),
        ({"min_detection_confidence": float("nan")}, "min_detection_confidence"),
        ({"min_tracking_confidence": -0.1}, "min_tracking_confidence"),
        ({"fps": 0}, "fps"),
        ({"fps": -30.0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"timestamps": [0.0, 0.0]}, "increasing"),
        ({"timestamps": [0.0]}, "1 entries for 2 frames"),
        ({"timestamps": [0.0, 0.1], "fps": 30.0}, "either fps or timestamps"),
    ],
)
def test_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        posejax.track(VIDEO, **options)


def test_unreadable_video_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        posejax.track(tmp_path / "missing.mp4")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a video at all" * 100)
    with pytest.raises(ValueError, match="corrupt.mp4"):
        posejax.track(corrupt)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"model_complexity": 5}, "model_complexity"),
        ({"min_detection_confidence": 2}, "min_detection_confidence"),
        ({"min_tracking_confidence": "high"}, "min_tracking_confidence"),
    ],
)
def test_pose_rejects_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        posejax.Pose(**options)


def test_pose_process_rejects_bad_images():
    pose = posejax.Pose.__new__(posejax.Pose)  # validation happens before any network is used
    pose._closed = False
    with pytest.raises(ValueError, match="three channel"):
        pose.process(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="three channel"):
        pose.process(np.zeros((8, 8, 4), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        pose.process(np.zeros((8, 8, 3), np.float64))
    with pytest.raises(TypeError, match="numpy array"):
        pose.process([[0, 0, 0]])
    with pytest.raises(ValueError, match="empty"):
        pose.process(np.zeros((0, 8, 3), np.uint8))


def test_static_frames_in_blocks_equal_each_frame_alone():
    # Nine frames: a block of STATIC_BATCH (8) and a remainder of one; every image must get
    # exactly the numbers it gets alone (batch 1, the programs Pose and single photos use).
    from posejax import io
    from posejax.pipeline import STATIC_BATCH

    frames = []
    demo = Path(__file__).resolve().parents[2] / "datasets" / "sports2d_demo.mp4"
    for frame in io.read_video(demo, chunk_size=32).frames():
        frames.append(frame[::4, ::4])
        if len(frames) == STATIC_BATCH + 1:
            break
    frames = np.stack(frames)
    assert len(frames) == 9
    together = posejax.track(frames, static_image_mode=True, model_complexity=0)
    assert together.pose_present.sum() >= 3  # the test means something only with poses
    for index in (0, 5, 8):
        alone = posejax.track(frames[index][None], static_image_mode=True, model_complexity=0)
        np.testing.assert_array_equal(alone.landmarks[0], together.landmarks[index])
        np.testing.assert_array_equal(alone.world_landmarks[0], together.world_landmarks[index])


def test_a_video_file_gives_what_its_decoded_frames_give(tmp_path, monkeypatch):
    # The file is decoded a chunk ahead into two reused buffers while the other is tracked;
    # with several chunks, a buffer overwritten too early would change the results.
    import importlib

    from posejax import io

    track_module = importlib.import_module("posejax.track")  # (posejax.track is the function)
    demo = Path(__file__).resolve().parents[2] / "datasets" / "sports2d_demo.mp4"
    frames = io.read_video(demo).read()[40:76, ::4, ::4]
    path = io.write_video(tmp_path / "clip.mp4", frames, fps=30)
    decoded = io.read_video(path).read()
    monkeypatch.setattr(track_module, "_chunk_length", lambda *args: 8)  # several chunks
    from_file = posejax.track(path, model_complexity=0)
    from_frames = posejax.track(decoded, model_complexity=0)
    assert from_file.n_frames == len(decoded) == 36
    assert from_file.pose_present.sum() >= 10
    np.testing.assert_array_equal(from_file.landmarks, from_frames.landmarks)


def test_a_failing_video_of_a_batch_stops_the_others_side_by_side(monkeypatch):
    # Videos of a batch run in threads; when one fails (or the caller is interrupted) the error
    # reaches the caller and the other threads end at their next chunk instead of finishing.
    import importlib
    import threading

    from posejax import pipeline as pipeline_module

    track_module = importlib.import_module("posejax.track")
    monkeypatch.setattr(pipeline_module, "_cpu_cores", lambda: 2)
    monkeypatch.setattr(track_module, "_chunk_length", lambda *args: 2)
    real = pipeline_module.Pipeline.run_video_chunk
    calls = []
    lock = threading.Lock()

    def failing(self, state, frames, clock_us, length):
        with lock:
            calls.append(threading.current_thread().name)
            if len(calls) == 3:
                raise RuntimeError("decoder fell over")
        return real(self, state, frames, clock_us, length)

    monkeypatch.setattr(pipeline_module.Pipeline, "run_video_chunk", failing)
    videos = np.zeros((4, 20, 32, 32, 3), np.uint8)   # 4 videos of 10 chunks each
    with pytest.raises(RuntimeError, match="decoder fell over"):
        posejax.track(videos, model_complexity=0)
    if pipeline_module.side_by_side(pipeline_module.PipelineConfig(), 4) == 2:
        assert len(calls) <= 5   # 40 chunks had it all run; at most one more per thread
