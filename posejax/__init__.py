"""posejax: MediaPipe Pose (BlazePose) in JAX, batched and jit-compiled, with pandas output.

Front doors:

* :func:`posejax.track` — frames (or a video path) in, a :class:`PoseTrack` of arrays out, with
  :meth:`PoseTrack.to_dataframe` for pandas;
* :func:`posejax.track_videos` — a folder of videos to one Parquet file each, resumable, on one
  machine or a Dask cluster;
* :class:`posejax.Pose` — a drop-in for ``mediapipe.solutions.pose.Pose`` (also reachable as
  ``posejax.solutions.pose.Pose``, so ``import posejax as mp`` keeps MediaPipe code running);
* ``posejax.tasks.vision.PoseLandmarker`` with ``posejax.Image`` — a drop-in for MediaPipe's
  Tasks API (``mp.tasks.vision.PoseLandmarker``), several people per frame.

Importing posejax registers the ``df.pose`` pandas accessor (:mod:`posejax.accessor`), when
pandas is imported (before or after posejax). Everything but :func:`track` and the landmark
names loads on first use, so that a script using :class:`Pose` starts without pandas,
matplotlib or the file formats.

The package is built in floors, every import pointing down (``tests/unit/test_layers.py``
checks it): :mod:`~posejax.landmarks`; the JAX core :mod:`~posejax.ops`, :mod:`~posejax.nets`
and :mod:`~posejax.pipeline`; :mod:`~posejax.result` (``PoseTrack``, NumPy only),
:mod:`~posejax.kinematics` and :mod:`~posejax.io.video`; :mod:`~posejax.track`;
:mod:`~posejax.tables` (pandas, xarray); :mod:`~posejax.io.landmark_files`;
:mod:`~posejax.draw` and :mod:`~posejax.accessor`; :mod:`~posejax.solutions` and
:mod:`~posejax.tasks`;
:mod:`~posejax.batch` (:func:`track_videos`, many videos, resumable) and its Dask glue
:mod:`~posejax.dask` (optional extra ``posejax[dask]``); this module and :mod:`~posejax.cli` on
top.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

from posejax.landmarks import LANDMARK_NAMES, POSE_CONNECTIONS, PoseLandmark

# ``posejax.track`` the function, not the submodule of the same name: imported here, so that the
# submodule attribute Python sets on import is replaced once and for all.
from posejax.track import track

__version__ = "0.1.0"

__all__ = [
    "LANDMARK_NAMES",
    "POSE_CONNECTIONS",
    "Image",
    "ImageFormat",
    "Pose",
    "PoseLandmark",
    "PoseResult",
    "PoseTrack",
    "read_image",
    "read_landmarks",
    "read_track",
    "read_video",
    "solutions",
    "tasks",
    "to_xarray",
    "track",
    "track_videos",
    "write_landmarks",
    "write_video",
]

#: Public names and the module each is loaded from on first use.
_LAZY = {
    "Image": "posejax.tasks.image",
    "ImageFormat": "posejax.tasks.image",
    "Pose": "posejax.solutions.pose",
    "PoseResult": "posejax.solutions.pose",
    "PoseTrack": "posejax.result",
    "read_image": "posejax.io",
    "read_landmarks": "posejax.io",
    "read_track": "posejax.io",
    "read_video": "posejax.io",
    "write_landmarks": "posejax.io",
    "write_video": "posejax.io",
    "to_xarray": "posejax.tables",
    "track_videos": "posejax.batch",
}


#: Submodules reached as attributes (``posejax.draw.skeleton``) without importing them first:
#: imported on first access, so that ``import posejax`` stays light. ``posejax.dask`` imports
#: Dask only inside its functions, so reaching it needs no extra, only calling it does.
_SUBMODULES = ("accessor", "batch", "dask", "draw", "io", "kinematics", "solutions", "tables",
               "tasks")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"posejax.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'posejax' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))


def _register_accessor():
    """Register ``df.pose`` as a stand-in that loads :mod:`posejax.accessor` on first use.

    Called while pandas finishes importing, possibly from inside a posejax module that is itself
    half imported (``posejax.tables`` importing pandas), so nothing of posejax is imported here.
    """
    import pandas as pd

    if hasattr(pd.DataFrame, "pose"):  # posejax.accessor already registered the real one
        return

    def real_accessor():
        from posejax.accessor import PoseAccessor

        return PoseAccessor

    @pd.api.extensions.register_dataframe_accessor("pose")
    class PoseAccessorOnFirstUse:
        """``df.pose``: :class:`posejax.accessor.PoseAccessor`, imported on first use."""

        def __new__(cls, frame):
            return real_accessor()(frame)

    registered = vars(pd.DataFrame)["pose"]

    class ClassAccessGivesTheRealAccessor:
        # ``pd.DataFrame.pose`` is what help(), IPython's ``?`` and Sphinx document: the real
        # class, imported then (pandas is loaded by that time), rather than the stand-in.
        def __get__(self, frame, owner=None):
            if frame is not None:
                return registered.__get__(frame, owner)
            try:
                return real_accessor()
            except ImportError:  # a broken install: show the stand-in, fail on use
                return PoseAccessorOnFirstUse

    pd.DataFrame.pose = ClassAccessGivesTheRealAccessor()


class _AccessorWhenPandasLoads(importlib.abc.MetaPathFinder):
    """Registers ``df.pose`` right after pandas is imported, without importing pandas itself.

    pandas costs a new process ~0.4 s, which a user of :class:`Pose` alone should not pay, yet
    ``import posejax`` has always made ``df.pose`` available.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "pandas":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("pandas")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_register(module):
            exec_module(module)
            try:
                _register_accessor()
            except Exception as error:  # noqa: BLE001  (never break the user's `import pandas`)
                warnings.warn(f"posejax could not register the df.pose accessor: {error}",
                              stacklevel=2)

        spec.loader.exec_module = exec_and_register
        return spec


if "pandas" in sys.modules:
    _register_accessor()
elif not any(isinstance(f, _AccessorWhenPandasLoads) for f in sys.meta_path):
    sys.meta_path.insert(0, _AccessorWhenPandasLoads())
