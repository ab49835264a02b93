"""The 33 BlazePose landmarks: names, indices, the skeleton's connections, named joints.

The one home for facts about the landmarks; it imports nothing from posejax, so every layer
(the JAX ops included) may use it.

Left and right are the subject's sides, as in MediaPipe (``mediapipe/python/solutions/pose.py``
and ``pose_connections.py``).
"""

from __future__ import annotations

import enum

#: Pose landmarks per frame (the landmark network predicts 39: these 33 and 6 auxiliary points).
NUM_LANDMARKS = 33


class PoseLandmark(enum.IntEnum):
    """Index of each of the 33 pose landmarks, named as in ``mediapipe.solutions.pose``.

    Example
    -------
    >>> PoseLandmark.LEFT_KNEE
    <PoseLandmark.LEFT_KNEE: 25>
    >>> PoseLandmark["NOSE"].value
    0
    """

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


#: Lower-case landmark names in index order: ``LANDMARK_NAMES[25] == "left_knee"``.
LANDMARK_NAMES: tuple[str, ...] = tuple(landmark.name.lower() for landmark in PoseLandmark)

#: The 35 skeleton edges drawn by MediaPipe (``mediapipe.solutions.pose.POSE_CONNECTIONS``).
POSE_CONNECTIONS: frozenset[tuple[int, int]] = frozenset(
    [
        (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
        (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18),
        (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27),
        (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
    ]
)  # fmt: skip

#: Landmarks on the subject's left side (drawn orange by MediaPipe's default style).
LEFT_LANDMARKS: frozenset[int] = frozenset(
    landmark for landmark in PoseLandmark if landmark.name.startswith("LEFT_")
) | {PoseLandmark.MOUTH_LEFT}

#: Landmarks on the subject's right side (drawn cyan by MediaPipe's default style).
RIGHT_LANDMARKS: frozenset[int] = frozenset(
    landmark for landmark in PoseLandmark if landmark.name.startswith("RIGHT_")
) | {PoseLandmark.MOUTH_RIGHT}

#: Named joint angles: the angle at the middle landmark, between the other two.
JOINT_ANGLES: dict[str, tuple[str, str, str]] = {
    f"{side}_{joint}": tuple(f"{side}_{name}" for name in names)
    for side in ("left", "right")
    for joint, names in {
        "elbow": ("shoulder", "elbow", "wrist"),
        "shoulder": ("elbow", "shoulder", "hip"),
        "hip": ("shoulder", "hip", "knee"),
        "knee": ("hip", "knee", "ankle"),
        "ankle": ("knee", "ankle", "foot_index"),
    }.items()
}

#: Indices of the COCO-17 keypoints (COCO order) among the 33 BlazePose landmarks.
COCO17_INDICES: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)


def landmark_index(name: str | int) -> int:
    """Index of a landmark given its name (any case) or index.

    Parameters
    ----------
    name : str or int
        ``"left_knee"``, ``"LEFT_KNEE"``, a :class:`PoseLandmark` or an integer in ``[0, 33)``.

    Returns
    -------
    int

    Example
    -------
    >>> landmark_index("left_knee")
    25
    """
    if isinstance(name, bool):
        raise TypeError(f"landmark must be a name or an index, got {name!r}")
    if isinstance(name, int):
        if not 0 <= name < len(PoseLandmark):
            raise ValueError(f"landmark index {name} is outside [0, {len(PoseLandmark)})")
        return int(name)
    if not isinstance(name, str):
        raise TypeError(f"landmark must be a name or an index, got {type(name).__name__}")
    try:
        return PoseLandmark[name.strip().upper()].value
    except KeyError:
        raise ValueError(
            f"unknown landmark {name!r}; expected one of {', '.join(LANDMARK_NAMES)}"
        ) from None
