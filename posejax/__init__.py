"""posejax: MediaPipe Pose (BlazePose) in JAX, batched and jit-compiled, with pandas output.

Two front doors:

* :func:`posejax.track` — frames (or a video path) in, a :class:`PoseTrack` of arrays out, with
  :meth:`PoseTrack.to_dataframe` for pandas;
* :class:`posejax.Pose` — a drop-in for ``mediapipe.solutions.pose.Pose`` (also reachable as
  ``posejax.solutions.pose.Pose``, so ``import posejax as mp`` keeps MediaPipe code running).

Importing posejax registers the ``df.pose`` pandas accessor (:mod:`posejax.frames`).
"""

from posejax import frames as _frames  # noqa: F401  (registers the df.pose accessor)
from posejax import solutions
from posejax.io import (
    read_image,
    read_landmarks,
    read_track,
    read_video,
    to_xarray,
    write_landmarks,
    write_video,
)
from posejax.landmarks import LANDMARK_NAMES, POSE_CONNECTIONS, PoseLandmark
from posejax.solution import Pose, PoseResult
from posejax.track import PoseTrack, track

__version__ = "0.1.0"

__all__ = [
    "LANDMARK_NAMES",
    "POSE_CONNECTIONS",
    "Pose",
    "PoseLandmark",
    "PoseResult",
    "PoseTrack",
    "read_image",
    "read_landmarks",
    "read_track",
    "read_video",
    "solutions",
    "to_xarray",
    "track",
    "write_landmarks",
    "write_video",
]


def __getattr__(name):
    # matplotlib is imported only when drawing is asked for.
    if name == "draw":
        import importlib

        return importlib.import_module("posejax.draw")
    raise AttributeError(f"module 'posejax' has no attribute {name!r}")
