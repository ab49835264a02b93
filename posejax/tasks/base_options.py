"""Stand-in for ``mediapipe.tasks.BaseOptions``: which model a task runs.

``model_asset_path`` (a ``.task`` file, or one of the names posejax resolves to its own weights,
see :mod:`posejax.tasks.bundle`) or ``model_asset_buffer`` (the file's bytes). ``delegate`` is
accepted for compatibility and has no effect: posejax runs on JAX's default device (the GPU or
TPU when JAX has one, else the CPU).
"""

from __future__ import annotations

import dataclasses
import enum
import os

__all__ = ["BaseOptions"]


@dataclasses.dataclass
class BaseOptions:
    """The model of a task, as ``mediapipe.tasks.BaseOptions``.

    Example
    -------
    >>> import posejax as mp
    >>> mp.tasks.BaseOptions(model_asset_path="pose_landmarker_full.task").delegate
    """

    class Delegate(enum.Enum):
        """MediaPipe's delegates; posejax ignores the choice (JAX picks the device)."""

        CPU = 0
        GPU = 1

    model_asset_path: str | os.PathLike | None = None
    model_asset_buffer: bytes | None = None
    delegate: Delegate | None = None
