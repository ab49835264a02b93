"""Bad input to track() and Pose is rejected with an error that names the problem (before any
network is loaded or compiled, so those tests are fast); a video file's times and the filters'
clock, and its truncation or damage, checked with the networks replaced (nothing compiles); and
track's ways of splitting work (static blocks, a file decoded ahead, a batch's videos in threads)
give what the work gives undivided.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import posejax
from posejax.io import VideoDecodeError
from posejax.pipeline import MEDIAPIPE_FRAME_STEP_US
from tests.helpers.clips import CONTAINERS, damaged_copy, truncated_copy, write_moving_clip

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


def test_a_bytes_path_is_a_clear_type_error():
    with pytest.raises(TypeError, match="str or pathlib.Path.*os.fsdecode"):
        posejax.track(b"clip.mp4")


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
    # A file's filters run on its own times (not MediaPipe's 33333 us step, which arrays get).
    times = io.read_video(path).timestamps
    from_frames = posejax.track(decoded, model_complexity=0, timestamps=times)
    assert from_file.n_frames == len(decoded) == 36
    assert from_file.pose_present.sum() >= 10
    np.testing.assert_array_equal(from_file.timestamps, times)
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


# -- video files: times, the filters' clock, completeness (networks replaced) ------------------


@pytest.fixture
def recorded_clock(monkeypatch):
    """Replace the compiled pipeline by one that records the clock it is handed and finds no
    pose; returns the list of clocks, one ``(B, t)`` array per chunk."""
    from posejax import pipeline as pipeline_module

    clocks = []

    def run_video_chunk(self, state, frames, clock_us, length):
        clocks.append(np.array(clock_us))
        batch, t = frames.shape[:2]
        return state, {"present": np.zeros((batch, t), bool),
                       "landmarks": np.full((batch, t, 33, 5), np.nan, np.float32),
                       "world_landmarks": np.full((batch, t, 33, 4), np.nan, np.float32),
                       "rois": np.full((batch, t, 5), np.nan, np.float32), "mask": None}

    monkeypatch.setattr(pipeline_module.Pipeline, "run_video_chunk", run_video_chunk)
    monkeypatch.setattr(pipeline_module.Pipeline, "init_state", lambda self, *args: None)
    monkeypatch.setattr(pipeline_module.Pipeline, "prepare_chunk", lambda self, *args: None)
    return clocks


def _clock(clocks):
    return np.concatenate([c[0] for c in clocks])


#: Irregular gaps, 0 to 3.9 s: a phone's variable frame rate.
VFR_TIMES = np.array([0.0, 0.033, 0.1, 0.12, 0.25, 0.5, 0.52, 1.0, 1.7, 2.0, 2.9, 3.3, 3.9])


@pytest.mark.parametrize("start", [0.0, 10.0])
def test_a_files_times_and_filter_clock_are_its_timestamps(tmp_path, recorded_clock, start):
    path = write_moving_clip(tmp_path / "vfr", "mkv-h264", times=start + VFR_TIMES, size=(48, 64))
    result = posejax.track(path, model_complexity=0)
    np.testing.assert_allclose(result.timestamps, start + VFR_TIMES, rtol=0, atol=1e-6)
    assert result.fps == 30.0   # the container's rate, kept as metadata
    real = np.round(VFR_TIMES * 1e6).astype(np.int64) + MEDIAPIPE_FRAME_STEP_US
    np.testing.assert_array_equal(_clock(recorded_clock), real)
    df = result.to_dataframe()
    np.testing.assert_allclose(np.unique(df["time"]), start + VFR_TIMES, atol=1e-6)


def test_the_mediapipe_clock_is_an_option(tmp_path, recorded_clock):
    path = write_moving_clip(tmp_path / "vfr", "mkv-h264", times=VFR_TIMES, size=(48, 64))
    result = posejax.track(path, model_complexity=0, mediapipe_clock=True)
    steps = MEDIAPIPE_FRAME_STEP_US * np.arange(1, len(VFR_TIMES) + 1)
    np.testing.assert_array_equal(_clock(recorded_clock), steps)
    np.testing.assert_allclose(result.timestamps, VFR_TIMES, atol=1e-6)  # times stay real
    recorded_clock.clear()
    frames = np.zeros((4, 48, 64, 3), np.uint8)
    posejax.track(frames, model_complexity=0)            # arrays: MediaPipe's step, as before
    np.testing.assert_array_equal(_clock(recorded_clock), steps[:4])
    recorded_clock.clear()
    posejax.track(frames, model_complexity=0, fps=10)    # a given rate is a real clock
    np.testing.assert_array_equal(_clock(recorded_clock), 100_000 * np.arange(1, 5))
    recorded_clock.clear()
    posejax.track(frames, model_complexity=0, fps=10, mediapipe_clock=True)
    np.testing.assert_array_equal(_clock(recorded_clock), steps[:4])


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_a_cut_or_damaged_file_fails_to_track(tmp_path, recorded_clock, kind):
    whole = write_moving_clip(tmp_path / "whole", kind)
    assert posejax.track(whole, model_complexity=0).n_frames == 150
    cut = truncated_copy(whole, tmp_path / f"cut{whole.suffix}", 0.5)
    recorded_clock.clear()
    with pytest.raises(VideoDecodeError, match=r"frames read.*decoding stopped at frame \d+ \("):
        posejax.track(cut, model_complexity=0)
    assert not recorded_clock   # found when the file opens: nothing was tracked
    damaged = damaged_copy(whole, tmp_path / f"damaged{whole.suffix}")
    with pytest.raises(VideoDecodeError, match="truncated or corrupt"):
        posejax.track(damaged, model_complexity=0)


def test_clips_of_any_length_share_one_program_and_match_the_longer_clip_bit_for_bit():
    # A short clip is the start of a chunk whose tail is padded and skipped: the same compiled
    # program as any longer clip of its frame size, and the same numbers frame for frame.
    import importlib

    from posejax import io
    from posejax.pipeline import PipelineConfig, get_pipeline

    track_module = importlib.import_module("posejax.track")
    demo = Path(__file__).resolve().parents[2] / "datasets" / "sports2d_demo.mp4"
    frames = io.read_video(demo).read()[40:80, ::4, ::4]
    whole = posejax.track(frames, model_complexity=0)
    assert whole.pose_present.sum() >= 10  # the test means something only with poses
    programs = get_pipeline(PipelineConfig(model_complexity=0))._programs
    compiled = set(programs)
    chunk = track_module._chunk_length(1, *frames.shape[1:3])
    for length in (1, 7, 20, chunk + 3):
        part = posejax.track(frames[:length], model_complexity=0)
        np.testing.assert_array_equal(part.landmarks, whole.landmarks[:length])
        np.testing.assert_array_equal(part.world_landmarks, whole.world_landmarks[:length])
        np.testing.assert_array_equal(part.pose_present, whole.pose_present[:length])
    assert set(programs) == compiled  # no program for a new length


def test_the_progress_bar_counts_frames_only_once_the_programs_are_ready(monkeypatch):
    # Compiling happens before a bar of track's own exists, and a bar shared over videos is
    # unpaused after it: their rate and ETA are the tracking's, not the compiler's.
    import importlib

    from posejax.pipeline import Pipeline, PipelineConfig

    track_module = importlib.import_module("posejax.track")
    events = []
    prepare_chunk = Pipeline.prepare_chunk

    def recording_prepare(self, *args):
        events.append("prepare")
        return prepare_chunk(self, *args)

    class RecordingBar:
        def __init__(self, *args, **kwargs):
            events.append("bar")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def unpause(self):
            events.append("unpause")

        def update(self, n):
            events.append(("update", n))

    monkeypatch.setattr(Pipeline, "prepare_chunk", recording_prepare)
    monkeypatch.setattr(track_module, "tqdm", RecordingBar)
    frames = np.zeros((5, 48, 64, 3), np.uint8)
    posejax.track(frames, model_complexity=0)
    assert events == ["prepare", "bar", ("update", 5)]
    events.clear()
    track_module._track(frames, PipelineConfig(model_complexity=0), None, None, False,
                        bar=RecordingBar())
    assert events == ["bar", "prepare", "unpause", ("update", 5)]
