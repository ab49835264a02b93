"""Stand-in for ``mediapipe.solutions.drawing_styles`` (mediapipe 0.10.21): the pose style.

:func:`get_default_pose_landmarks_style` gives MediaPipe's per-landmark :class:`DrawingSpec`:
the subject's left side orange, the right side cyan, the nose light grey (colours in BGR, as
MediaPipe's), all with thickness 2 and MediaPipe's default radius 2. Pass it as
``landmark_drawing_spec`` to :func:`posejax.solutions.drawing_utils.draw_landmarks`. The hand and
face-mesh styles of MediaPipe's module have no use here (posejax has no hand or face model).
"""

from __future__ import annotations

from collections.abc import Mapping

from posejax.landmarks import LEFT_LANDMARKS, RIGHT_LANDMARKS, PoseLandmark
from posejax.solutions.drawing_utils import DrawingSpec

__all__ = ["get_default_pose_landmarks_style"]

#: BGR colours of MediaPipe's pose style.
_POSE_LEFT_COLOR = (0, 138, 255)
_POSE_RIGHT_COLOR = (231, 217, 0)
_WHITE = (224, 224, 224)
_THICKNESS_POSE_LANDMARKS = 2


def get_default_pose_landmarks_style() -> Mapping[int, DrawingSpec]:
    """MediaPipe's default drawing spec of each of the 33 pose landmarks.

    Returns
    -------
    dict of PoseLandmark to DrawingSpec
        Left-side landmarks (``LEFT_*`` and ``MOUTH_LEFT``) ``(0, 138, 255)``, right-side ones
        ``(231, 217, 0)``, the nose ``(224, 224, 224)``; thickness 2, circle radius 2.

    Examples
    --------
    >>> style = get_default_pose_landmarks_style()
    >>> style[PoseLandmark.LEFT_KNEE]
    DrawingSpec(color=(0, 138, 255), thickness=2, circle_radius=2)
    >>> len(style)
    33
    """
    left = DrawingSpec(color=_POSE_LEFT_COLOR, thickness=_THICKNESS_POSE_LANDMARKS)
    right = DrawingSpec(color=_POSE_RIGHT_COLOR, thickness=_THICKNESS_POSE_LANDMARKS)
    style: dict[int, DrawingSpec] = {}
    for landmark in sorted(LEFT_LANDMARKS):
        style[PoseLandmark(landmark)] = left
    for landmark in sorted(RIGHT_LANDMARKS):
        style[PoseLandmark(landmark)] = right
    style[PoseLandmark.NOSE] = DrawingSpec(color=_WHITE, thickness=_THICKNESS_POSE_LANDMARKS)
    return style
