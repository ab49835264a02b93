"""Stand-in for ``mediapipe.tasks.components``: the landmark containers.

``containers.NormalizedLandmark`` and ``containers.Landmark`` (:mod:`posejax.tasks.containers`),
where MediaPipe has them.
"""

from posejax.tasks import containers

__all__ = ["containers"]
