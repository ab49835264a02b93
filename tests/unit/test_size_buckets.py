"""Frame-size buckets: frames padded into a bucket give the unpadded program's numbers to the bit,
and every frame size of a bucket runs the same compiled programs.

The reference is the pipeline with ``size_buckets = False``: the programs compiled for each frame
size, with the size as a constant, as before buckets existed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posejax import io
from posejax.ops import buckets
from posejax.pipeline import MEDIAPIPE_FRAME_STEP_US, Pipeline, PipelineConfig, get_pipeline
from posejax.stepwise import shared_runner

DEMO = Path(__file__).resolve().parents[2] / "datasets" / "sports2d_demo.mp4"
#: Segmentation with mask smoothing (graph values), so the kept mask goes through buckets too.
CONFIG = PipelineConfig(model_complexity=0, enable_segmentation=True,
                        mediapipe_graph_values=True)
FRAMES = 10


@pytest.fixture(scope="module")
def frames():
    video = io.read_video(DEMO).read()[40:40 + FRAMES, ::3, ::3]
    assert buckets.frame_bucket(*video.shape[1:3]) == (512, 1024)   # what the sizes below assume
    return np.ascontiguousarray(video)


@pytest.fixture(scope="module")
def unpadded():
    pipeline = Pipeline(CONFIG)
    pipeline.size_buckets = False
    return pipeline


def _clock(n):
    return MEDIAPIPE_FRAME_STEP_US * np.arange(1, n + 1, dtype=np.int64)[None]


def _chunk(pipeline, video):
    state = pipeline.init_state(1, *video.shape[1:3])
    _, out = pipeline.run_video_chunk(state, video[None], _clock(len(video)), FRAMES)
    return out


def _assert_same(got, want):
    assert want["present"].any()   # the comparison means something only with poses
    for key in ("landmarks", "world_landmarks", "present", "rois", "mask"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


# Sizes of one bucket (2**19 pixels) (the frames are 332 x 590).
SIZES = [(332, 590), (301, 533), (257, 515)]


def test_the_ladder_rounds_pixel_counts_up_and_both_orientations_share_a_bucket():
    common = {(270, 480): 1 << 17, (360, 640): 1 << 19, (540, 960): 1 << 19,
              (720, 1280): 1 << 21, (1080, 1920): 1 << 21, (1440, 2560): 1 << 23,
              (2160, 3840): 1 << 23, (3024, 4032): 3 << 22, (1, 1): 1 << 17}
    for (height, width), pixels in common.items():
        assert buckets.bucket_pixels(height, width) == pixels
        assert buckets.bucket_pixels(width, height) == pixels
        assert buckets.frame_bucket(height, width) == (pixels // buckets.ROW, buckets.ROW)
    for pixels in list(buckets.LADDER) + [3 << 22]:
        assert buckets.bucket_pixels(pixels // 1024, 1024) == pixels   # a bucket is its own
        assert buckets.bucket_pixels(pixels // 1024, 1024) < buckets.bucket_pixels(
            pixels // 1024 + 1, 1024)
    with pytest.raises(ValueError, match="positive"):
        buckets.bucket_pixels(0, 10)


@pytest.mark.parametrize(("height", "width"), [(3, 5), (7, 1024), (1, 1), (255, 257)])
def test_pack_and_unpack_round_trip_and_leave_the_rest_alone(height, width):
    rng = np.random.default_rng(height * width)
    frames = rng.integers(0, 256, (2, 3, height, width, 3), dtype=np.uint8)
    buffer = np.full((2, 4) + buckets.frame_bucket(height, width) + (3,), 7, np.uint8)
    buckets.pack(frames, buffer)
    flat = buffer.reshape(2, 4, -1, 3)
    np.testing.assert_array_equal(flat[:, :3, :height * width], frames.reshape(2, 3, -1, 3))
    assert (flat[:, :3, height * width:] == 7).all() and (flat[:, 3:] == 7).all()
    np.testing.assert_array_equal(buckets.unpack(buffer[:, :3, ..., 1], height, width),
                                  frames[..., 1])


def test_padded_frames_give_the_unpadded_programs_numbers_and_share_one_program(
        frames, unpadded):
    pipeline = get_pipeline(CONFIG)
    compiled = None
    for height, width in SIZES:
        video = frames[:, :height, :width]
        out = _chunk(pipeline, video)
        assert out["mask"].shape == (1, FRAMES, height, width)
        _assert_same(out, _chunk(unpadded, video))
        if compiled is None:
            compiled = set(pipeline._programs)
        assert set(pipeline._programs) == compiled   # no program for a new size of the bucket


# 256 x 512 fills its bucket (2**17 pixels) exactly; 17 x 23 is packed into the same bucket.
@pytest.mark.parametrize(("height", "width"), [(256, 512), (17, 23)])
def test_a_bucket_edge_and_a_tiny_frame_match_the_unpadded_program(frames, unpadded, height,
                                                                   width):
    top = (frames.shape[1] - height) // 2   # a tiny frame from the middle, where the person is
    video = frames[:, top:top + height, :width]
    out = _chunk(get_pipeline(CONFIG), video)
    assert out["mask"].shape == (1, FRAMES, height, width)
    want = _chunk(unpadded, video)
    for key in ("landmarks", "world_landmarks", "present", "rois", "mask"):
        np.testing.assert_array_equal(out[key], want[key], err_msg=key)


def _frame_by_frame(pipeline, video):
    runner = shared_runner(pipeline, 1, *video.shape[1:3])
    state = pipeline.init_state(1, *video.shape[1:3])
    outs = []
    for i, frame in enumerate(video):
        state, out = runner.track(state, frame[None], _clock(i + 1)[:, -1])
        outs.append(out)
    return runner, {k: np.stack([o[k] for o in outs], axis=1) for k in outs[0]}


def test_frame_by_frame_padded_equals_an_exact_buffer_and_shares_one_runner(frames, unpadded):
    pipeline = get_pipeline(CONFIG)
    runners = []
    for height, width in SIZES[:2]:
        video = frames[:, :height, :width]
        runner, out = _frame_by_frame(pipeline, video)
        runners.append((runner, set(runner._programs)))
        assert out["mask"].shape == (1, FRAMES, height, width)
        # The unpadded pipeline's runner takes frames in a buffer of exactly their size.
        exact_runner, want = _frame_by_frame(unpadded, video)
        assert (exact_runner.height, exact_runner.width) == (height, width)
        _assert_same(out, want)
    (first, programs), (second, _) = runners
    assert second is first and set(first._programs) == programs


def test_a_portrait_frame_shares_its_landscape_twins_program(frames, unpadded):
    pipeline = get_pipeline(CONFIG)
    _chunk(pipeline, frames)
    compiled = set(pipeline._programs)
    portrait = np.ascontiguousarray(frames.transpose(0, 2, 1, 3)[:, ::-1])   # turned 90 degrees
    out = _chunk(pipeline, portrait)
    assert set(pipeline._programs) == compiled
    assert out["mask"].shape == (1, FRAMES) + portrait.shape[1:3]
    _assert_same(out, _chunk(unpadded, portrait))
