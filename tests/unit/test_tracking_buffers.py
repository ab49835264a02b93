"""The host-side chunk staging of posejax.tracking: what reaches the compiled program."""

from __future__ import annotations

import jax
import numpy as np

from posejax import tracking


class _Stager:
    """The staging logic alone, without loading any network."""

    _staging = None
    _staged = tracking.Pipeline._staged


def test_aligned_empty_is_aligned_and_shaped():
    for shape in ((1, 3, 5, 7, 3), (2, 1, 1, 1, 3), (4, 16, 9, 13, 3)):
        buffer = tracking._aligned_empty(shape)
        assert buffer.shape == shape and buffer.dtype == np.uint8
        assert buffer.ctypes.data % tracking._ALIGNMENT == 0
        assert buffer.flags.c_contiguous


def test_a_short_or_strided_chunk_is_copied_into_one_reused_aligned_buffer():
    stager = _Stager()
    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, (2, 5, 6, 7, 3), np.uint8)
    first = stager._staged(video[:, :3], 4)   # shorter than the compiled length
    assert first.shape == (2, 4, 6, 7, 3) and first.ctypes.data % tracking._ALIGNMENT == 0
    np.testing.assert_array_equal(first[:, :3], video[:, :3])
    strided = video[:, ::2]                   # not contiguous
    second = stager._staged(strided, 4)
    assert second is first                    # the same buffer, refilled
    np.testing.assert_array_equal(second[:, :3], strided)
    broadcast = np.broadcast_to(video[:1, :4], (3, 4, 6, 7, 3))
    third = stager._staged(broadcast, 4)      # another shape: a new buffer
    assert third.shape == (3, 4, 6, 7, 3)
    np.testing.assert_array_equal(third, broadcast)


def test_an_aligned_full_chunk_goes_to_the_device_without_a_copy():
    stager = _Stager()
    chunk = tracking._aligned_empty((1, 4, 8, 8, 3))
    chunk[:] = 7
    assert stager._staged(chunk, 4) is chunk
    if jax.default_backend() == "cpu":
        on_device = jax.device_put(chunk)
        assert on_device.unsafe_buffer_pointer() == chunk.ctypes.data
