"""Stand-in for ``mediapipe.tasks``: the Tasks API's pose landmarker on posejax.

``posejax.tasks.BaseOptions`` and ``posejax.tasks.vision`` (``PoseLandmarker``,
``PoseLandmarkerOptions``, ``PoseLandmarkerResult``, ``RunningMode``) sit where MediaPipe has
them, and ``posejax.Image`` / ``posejax.ImageFormat`` where ``mp.Image`` is, so code written for
``mediapipe`` 0.10.21+ Tasks runs after ``import posejax as mp``. See ``docs/guide/tasks.md``.

Modules: :mod:`~posejax.tasks.image`, :mod:`~posejax.tasks.base_options`,
:mod:`~posejax.tasks.containers` (the landmark classes), :mod:`~posejax.tasks.bundle` (reading
``.task`` files), :mod:`~posejax.tasks.pose_graph` (Tasks' graph on posejax's compiled pieces)
and :mod:`~posejax.tasks.vision.pose_landmarker` (the API).
"""

from posejax.tasks import components, vision
from posejax.tasks.base_options import BaseOptions

__all__ = ["BaseOptions", "components", "vision"]
