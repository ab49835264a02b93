"""posejax: MediaPipe Pose (BlazePose) in JAX, batched and jit-compiled, with pandas output.

Front doors:

* :func:`posejax.track` — frames (or a video path) in, a :class:`PoseTrack` of arrays out, with
  :meth:`PoseTrack.to_dataframe` for pandas;
* :func:`posejax.track_videos` — a folder of videos to one Parquet file each, resumable, on one
  machine or a Dask cluster;
* :class:`posejax.Pose` — a drop-in for ``mediapipe.solutions.pose.Pose`` (also reachable as
  ``posejax.solutions.pose.Pose``, so ``import posejax as mp`` keeps MediaPipe code running).

Importing posejax registers the ``df.pose`` pandas accessor (:mod:`posejax.accessor`).

The package is built in floors, every import pointing down (``tests/unit/test_layers.py``
checks it): :mod:`~posejax.landmarks`; the JAX core :mod:`~posejax.ops`, :mod:`~posejax.nets`
and :mod:`~posejax.pipeline`; :mod:`~posejax.result` (``PoseTrack``, NumPy only),
:mod:`~posejax.kinematics` and :mod:`~posejax.io.video`; :mod:`~posejax.track`;
:mod:`~posejax.tables` (pandas, xarray); :mod:`~posejax.io.landmark_files`;
:mod:`~posejax.draw` and :mod:`~posejax.accessor`; :mod:`~posejax.solutions`;
:mod:`~posejax.batch` (:func:`track_videos`, many videos, resumable) and its Dask glue
:mod:`~posejax.dask` (optional extra ``posejax[dask]``); this module and :mod:`~posejax.cli` on
top.
"""

from posejax import accessor as _accessor  # noqa: F401  (registers the df.pose accessor)
from posejax import solutions
from posejax.batch import track_videos
from posejax.io import (
    read_image,
    read_landmarks,
    read_track,
    read_video,
    write_landmarks,
    write_video,
)
from posejax.landmarks import LANDMARK_NAMES, POSE_CONNECTIONS, PoseLandmark
from posejax.result import PoseTrack
from posejax.solutions.pose import Pose, PoseResult
from posejax.tables import to_xarray
from posejax.track import track

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
    "track_videos",
    "write_landmarks",
    "write_video",
]
