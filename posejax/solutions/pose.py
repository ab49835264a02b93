"""Stand-in for ``mediapipe.solutions.pose``: ``Pose``, ``PoseLandmark``, ``POSE_CONNECTIONS``."""

from posejax.landmarks import POSE_CONNECTIONS, PoseLandmark
from posejax.solution import Pose, PoseResult

__all__ = ["POSE_CONNECTIONS", "Pose", "PoseLandmark", "PoseResult"]
