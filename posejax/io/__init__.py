"""Files in and out.

- :mod:`posejax.io.video`: still images and videos through imageio (frames as ``uint8`` RGB);
- :mod:`posejax.io.landmark_files`: landmark tables as CSV, Parquet and DeepLabCut HDF5.
"""

import importlib

from posejax.io._paths import LANDMARK_FORMATS
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

#: Loaded on first use: they need pandas, which ``posejax.Pose`` and ``posejax.track`` do not.
_LANDMARK_FILE_NAMES = ("read_landmarks", "read_track", "write_landmarks")


def __getattr__(name):
    if name in _LANDMARK_FILE_NAMES:
        value = getattr(importlib.import_module("posejax.io.landmark_files"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'posejax.io' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
