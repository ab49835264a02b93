"""Files in and out.

- :mod:`posejax.io.video`: still images and videos through imageio (frames as ``uint8`` RGB);
- :mod:`posejax.io.landmark_files`: landmark tables as CSV, Parquet and DeepLabCut HDF5.
"""

from posejax.io.landmark_files import (
    LANDMARK_FORMATS,
    read_landmarks,
    read_track,
    write_landmarks,
)
from posejax.io.video import (
    IMAGE_SUFFIXES,
    VideoDecodeError,
    VideoReader,
    VideoWriter,
    read_image,
    read_video,
    write_video,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "LANDMARK_FORMATS",
    "VideoDecodeError",
    "VideoReader",
    "VideoWriter",
    "read_image",
    "read_landmarks",
    "read_track",
    "read_video",
    "write_landmarks",
    "write_video",
]
