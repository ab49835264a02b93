"""Frame-size buckets: one compiled program serves every frame size of its bucket.

Only the warps (the detector's letterbox, the landmark crop, the mask's back-projection) and the
mapping of results to the frame read the frame size; the networks see fixed 224- and 256-pixel
tensors. So a frame's pixels are copied, row after row as they are in memory, to the start of a
buffer of its bucket's size, and its real height and width go into the program as int32 scalars
(see :mod:`posejax.ops.image`): the warps read pixel ``(y, x)`` at ``y * width + x`` and clip
and fill borders at the real size, so they read exactly the pixels and borders of the unpadded
frame and the results are the same to the bit.

A bucket is a pixel count, a rung of :data:`LADDER` (beyond the last one, a multiple of
:data:`LARGE_STEP`), so a landscape frame and its portrait twin share a bucket and four programs
cover everything from thumbnails to 4K. The buffer is the array ``(pixels // ROW, ROW, 3)``,
whose shape is all a program sees.

Why so few rungs: on a CPU a frame is packed into its buffer by copying its own pixels only and
the programs read the buffer in place, so a large bucket costs address space, not time; each
rung costs a compile (15-25 s for ``posejax.track``'s program). The price of a coarse rung is
paid where the whole buffer is touched: a segmentation mask is warped over the whole bucket,
and an accelerator receives the whole buffer (2.3x the pixels of 1280 x 720 in its bucket).

Example
-------
>>> frame_bucket(1080, 1920) == frame_bucket(1920, 1080) == (2048, 1024)
True
>>> frames = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(1, 2, 3, 3)
>>> buffer = np.zeros((1,) + frame_bucket(2, 3) + (3,), np.uint8)
>>> pack(frames, buffer)
>>> np.array_equal(unpack(buffer[..., 0], 2, 3), frames[..., 0])
True
"""

from __future__ import annotations

import numpy as np

#: Pixels in a bucket's row: a bucket is an array ``(pixels // ROW, ROW)``.
ROW = 1024
#: Bucket sizes in pixels, smallest first: 2**17 (480 x 270), 2**19 (960 x 540, 640 x 480),
#: 2**21 (1920 x 1080), 2**23 (3840 x 2160).
LADDER = (1 << 17, 1 << 19, 1 << 21, 1 << 23)
#: Beyond the ladder, pixel counts are rounded up to a multiple of this.
LARGE_STEP = 1 << 22


def bucket_pixels(height: int, width: int) -> int:
    """The pixel count of the bucket frames of this size go into.

    Example
    -------
    >>> bucket_pixels(720, 1280), bucket_pixels(2160, 3840), bucket_pixels(3024, 4032)
    (2097152, 8388608, 12582912)
    """
    height, width = int(height), int(width)
    if height <= 0 or width <= 0:
        raise ValueError(f"a frame's height and width must be positive, got {height} x {width}")
    pixels = height * width
    for rung in LADDER:
        if pixels <= rung:
            return rung
    return -(-pixels // LARGE_STEP) * LARGE_STEP


def frame_bucket(height: int, width: int) -> tuple[int, int]:
    """The buffer shape ``(rows, ROW)`` that frames of this size are packed into.

    Example
    -------
    >>> frame_bucket(1080, 1920), frame_bucket(1920, 1080), frame_bucket(17, 23)
    ((2048, 1024), (2048, 1024), (128, 1024))
    """
    return bucket_pixels(height, width) // ROW, ROW


def bucket_shapes() -> list[tuple[int, int]]:
    """The buffer shapes of every rung of :data:`LADDER` (what ``posejax warmup`` prepares).

    Example
    -------
    >>> bucket_shapes()[0], len(bucket_shapes())
    ((128, 1024), 4)
    """
    return [(pixels // ROW, ROW) for pixels in LADDER]


def pack(frames: np.ndarray, buffer: np.ndarray) -> None:
    """Copy ``frames (..., h, w, C)`` to the start of each ``buffer (..., rows, ROW, C)``.

    The buffer's leading axes may be longer than the frames' (a chunk's padded tail); pixels past
    ``h * w`` are left as they are, for nothing reads them. See the module's example.
    """
    lead = frames.shape[:-3]
    height, width, channels = frames.shape[-3:]
    count = height * width
    flat = buffer.reshape(buffer.shape[:-3] + (-1, channels))
    if flat.shape[-2] < count:
        raise ValueError(f"a {height} x {width} frame does not fit a buffer of "
                         f"{flat.shape[-2]} pixels")
    index = tuple(slice(0, n) for n in lead)
    flat[index + (slice(0, count),)] = frames.reshape(lead + (count, channels))


def unpack(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """The ``(..., height, width)`` image packed in ``array (..., rows, ROW)`` (a copy).

    See the module's example.
    """
    count = int(height) * int(width)
    flat = array.reshape(array.shape[:-2] + (-1,))
    return np.ascontiguousarray(flat[..., :count]).reshape(array.shape[:-2] + (height, width))


def size_array(height: int, width: int) -> np.ndarray:
    """The real frame size as the programs take it: int32 ``[height, width]``.

    Example
    -------
    >>> size_array(720, 1280).tolist()
    [720, 1280]
    """
    return np.array([height, width], np.int32)
