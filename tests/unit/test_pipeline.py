"""posejax.pipeline: the self-checking PipelineConfig, and the host-side chunk staging."""

from __future__ import annotations

import threading

import jax
import numpy as np
import pytest

from posejax import pipeline


class _Stager:
    """The staging logic alone, without loading any network."""

    def __init__(self):
        self._local = threading.local()

    _staged = pipeline.Pipeline._staged


def test_aligned_empty_is_aligned_and_shaped():
    for shape in ((1, 3, 5, 7, 3), (2, 1, 1, 1, 3), (4, 16, 9, 13, 3)):
        buffer = pipeline._aligned_empty(shape)
        assert buffer.shape == shape and buffer.dtype == np.uint8
        assert buffer.ctypes.data % pipeline._ALIGNMENT == 0
        assert buffer.flags.c_contiguous


def test_a_short_or_strided_chunk_is_copied_into_one_reused_aligned_buffer():
    stager = _Stager()
    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, (2, 5, 6, 7, 3), np.uint8)
    first = stager._staged(video[:, :3], 4)   # shorter than the compiled length
    assert first.shape == (2, 4, 6, 7, 3) and first.ctypes.data % pipeline._ALIGNMENT == 0
    np.testing.assert_array_equal(first[:, :3], video[:, :3])
    strided = video[:, ::2]                   # not contiguous
    second = stager._staged(strided, 4)
    assert second is first                    # the same buffer, refilled
    np.testing.assert_array_equal(second[:, :3], strided)
    broadcast = np.broadcast_to(video[:1, :4], (3, 4, 6, 7, 3))
    third = stager._staged(broadcast, 4)      # another shape: a new buffer
    assert third.shape == (3, 4, 6, 7, 3)
    np.testing.assert_array_equal(third, broadcast)


def test_threads_stage_into_buffers_of_their_own():
    # Streams run side by side in threads (Pipeline.streams): one shared buffer would let one
    # thread overwrite the frames another is still processing.
    stager = _Stager()
    video = np.arange(2 * 3 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 3, 4, 5, 3)
    mine = stager._staged(video[:, :2], 3)
    theirs = {}
    thread = threading.Thread(target=lambda: theirs.update(buffer=stager._staged(video[:, 1:], 3)))
    thread.start()
    thread.join()
    assert theirs["buffer"] is not mine
    np.testing.assert_array_equal(mine[:, :2], video[:, :2])
    assert stager._staged(video[:, :2], 3) is mine   # this thread's buffer, reused


def test_an_aligned_full_chunk_goes_to_the_device_without_a_copy():
    stager = _Stager()
    chunk = pipeline._aligned_empty((1, 4, 8, 8, 3))
    chunk[:] = 7
    assert stager._staged(chunk, 4) is chunk
    if jax.default_backend() == "cpu":
        on_device = jax.device_put(chunk)
        assert on_device.unsafe_buffer_pointer() == chunk.ctypes.data


# -- PipelineConfig validates itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"model_complexity": 3}, ValueError, "model_complexity must be 0, 1 or 2"),
        ({"model_complexity": True}, ValueError, "model_complexity"),
        ({"model_complexity": "1"}, ValueError, "model_complexity"),
        ({"min_detection_confidence": -0.5}, ValueError, r"min_detection_confidence .* \[0, 1\]"),
        ({"min_tracking_confidence": float("nan")}, ValueError, "min_tracking_confidence"),
        ({"min_tracking_confidence": True}, ValueError, "min_tracking_confidence"),
        ({"min_tracking_confidence": "high"}, ValueError, "min_tracking_confidence"),
        ({"static_image_mode": "yes"}, TypeError, "static_image_mode must be True or False"),
        ({"enable_segmentation": None}, TypeError, "enable_segmentation"),
    ],
)
def test_config_rejects_bad_options(options, error, match):
    with pytest.raises(error, match=match):
        pipeline.PipelineConfig(**options)


def test_config_normalizes_numpy_and_integer_values():
    config = pipeline.PipelineConfig(
        model_complexity=np.int64(2), static_image_mode=np.bool_(True), smooth_landmarks=0,
        min_detection_confidence=1, min_tracking_confidence=np.float32(0.25),
    )  # fmt: skip
    assert config.model_complexity == 2 and type(config.model_complexity) is int
    assert config.static_image_mode is True and config.smooth_landmarks is False
    assert config.min_detection_confidence == 1.0
    assert type(config.min_detection_confidence) is float
    assert config.min_tracking_confidence == 0.25
    # Equal options give equal (hashable) configs, which is what caches pipelines per config.
    assert config == pipeline.PipelineConfig(
        model_complexity=2, static_image_mode=True, smooth_landmarks=False,
        min_detection_confidence=1.0, min_tracking_confidence=0.25,
    )  # fmt: skip
    assert hash(config) == hash(pipeline.PipelineConfig(**vars(config)))


# -- independent streams side by side -----------------------------------------------------------


def test_streams_run_side_by_side_one_per_core_on_a_cpu_only(monkeypatch):
    monkeypatch.setattr(pipeline, "_cpu_cores", lambda: 2)
    config = pipeline.PipelineConfig()
    assert pipeline.side_by_side(config, 1) == 1
    # The accelerators' path runs a batch as one vectorized program.
    assert pipeline.side_by_side(pipeline.PipelineConfig(vectorized=True), 8) == 1
    if jax.default_backend() == "cpu" and jax.local_device_count() == 1:
        assert pipeline.side_by_side(config, 8) == 2
        assert pipeline.side_by_side(pipeline.PipelineConfig(vectorized=False), 3) == 2
        monkeypatch.setattr(pipeline, "_cpu_cores", lambda: 16)
        assert pipeline.side_by_side(config, 3) == 3
