"""MediaPipe-compatible namespace: ``import posejax as mp; mp.solutions.pose.Pose(...)``.

``mp.solutions.drawing_utils`` and ``mp.solutions.drawing_styles`` draw as MediaPipe's modules
of those names do, without OpenCV.
"""

from posejax.solutions import drawing_styles, drawing_utils, pose

__all__ = ["drawing_styles", "drawing_utils", "pose"]
