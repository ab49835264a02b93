"""MediaPipe-compatible namespace: ``import posejax as mp; mp.solutions.pose.Pose(...)``."""

from posejax.solutions import pose

__all__ = ["pose"]
