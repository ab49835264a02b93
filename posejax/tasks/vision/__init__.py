"""Stand-in for ``mediapipe.tasks.vision``: the pose landmarker and its options."""

from posejax.tasks.vision.pose_landmarker import (
    DetectionMode,
    PoseLandmarker,
    PoseLandmarkerOptions,
    PoseLandmarkerResult,
    PoseLandmarksConnections,
    RunningMode,
)

__all__ = ["DetectionMode", "PoseLandmarker", "PoseLandmarkerOptions", "PoseLandmarkerResult",
           "PoseLandmarksConnections", "RunningMode"]
