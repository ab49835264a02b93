"""Frame-size buckets: one compiled program serves every frame size of its bucket.

Only the warps (the detector's letterbox, the landmark crop, the mask's back-projection) and the
mapping of results to the frame read the frame size; the networks see fixed 224- and 256-pixel
tensors. So a frame is copied top-left into a buffer of its bucket's size and its real height
and width go into the program as int32 scalars (see :mod:`posejax.ops.image`): the warps read
exactly the pixels and borders of the unpadded frame, and the results are the same to the bit.

Each side is rounded up independently to the next rung of :data:`LADDER` (so landscape and
portrait frames get buckets of their own), beyond the last rung to a multiple of
:data:`LARGE_STEP`. The rungs sit on or just above common video sides (480, 720, 1080, 1920,
2160, 3840), so common sizes pad little and a user meets a handful of programs.
"""

from __future__ import annotations

import numpy as np

#: Bucket sides in pixels, smallest first.
LADDER = (256, 512, 768, 1280, 1920, 2560, 3840)
#: Beyond the ladder, sides are rounded up to a multiple of this.
LARGE_STEP = 512


def bucket_side(side: int) -> int:
    """The bucket side of a frame side: the next rung of :data:`LADDER` at or above it.

    Example
    -------
    >>> bucket_side(720), bucket_side(1080), bucket_side(3840), bucket_side(4000)
    (768, 1280, 3840, 4096)
    """
    side = int(side)
    if side <= 0:
        raise ValueError(f"a frame side must be positive, got {side}")
    for rung in LADDER:
        if side <= rung:
            return rung
    return -(-side // LARGE_STEP) * LARGE_STEP


def frame_bucket(height: int, width: int) -> tuple[int, int]:
    """The buffer size ``(height, width)`` that frames of this size are padded into.

    Example
    -------
    >>> frame_bucket(1080, 1920), frame_bucket(1920, 1080), frame_bucket(17, 23)
    ((1280, 1920), (1920, 1280), (256, 256))
    """
    return bucket_side(height), bucket_side(width)


def size_array(height: int, width: int) -> np.ndarray:
    """The real frame size as the programs take it: int32 ``[height, width]``.

    Example
    -------
    >>> size_array(720, 1280).tolist()
    [720, 1280]
    """
    return np.array([height, width], np.int32)
