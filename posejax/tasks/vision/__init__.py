"""Stand-in for ``mediapipe.tasks.vision``: the pose landmarker and its options."""

from posejax.tasks.vision.pose_landmarker import (
    DetectionMode,
    PoseLandmarker,
    PoseLandmarkerOptions,
    PoseLandmarkerResult,
    RunningMode,
)

__all__ = ["DetectionMode", "PoseLandmarker", "PoseLandmarkerOptions", "PoseLandmarkerResult",
           "RunningMode"]
