"""MediaPipe's documented Pose example for static images runs with only the import changed.

``EXAMPLE`` is the Python example of MediaPipe's legacy Pose documentation
(``docs/solutions/pose.md``, "Python Solution API", static images) verbatim, except
``import mediapipe as mp`` -> ``import posejax as mp`` and the file list filled in. It needs
OpenCV for ``cv2.imread`` / ``cvtColor`` / ``imwrite`` (the ``test`` extra); posejax itself draws
without it. The drawing it makes is then compared with ``cv2.line`` / ``cv2.circle`` following
MediaPipe's ``draw_landmarks`` rules on the same landmarks (the pixel-exact comparison with
mediapipe's own function is ``tests/unit/solutions/test_drawing_utils.py``).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests.helpers.reference_data import require_shared  # noqa: E402

EXAMPLE = """\
import cv2
import posejax as mp
import numpy as np
mp_drawing = mp.solutions.drawing_utils
mp_drawing_styles = mp.solutions.drawing_styles
mp_pose = mp.solutions.pose

# For static images:
IMAGE_FILES = []
BG_COLOR = (192, 192, 192) # gray
with mp_pose.Pose(
    static_image_mode=True,
    model_complexity=2,
    enable_segmentation=True,
    min_detection_confidence=0.5) as pose:
  for idx, file in enumerate(IMAGE_FILES):
    image = cv2.imread(file)
    image_height, image_width, _ = image.shape
    # Convert the BGR image to RGB before processing.
    results = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

    if not results.pose_landmarks:
      continue
    print(
        f'Nose coordinates: ('
        f'{results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE].x * image_width}, '
        f'{results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE].y * image_height})'
    )

    annotated_image = image.copy()
    # Draw segmentation on the image.
    # To improve segmentation around boundaries, consider applying a joint
    # bilateral filter to "results.segmentation_mask" with "image".
    condition = np.stack((results.segmentation_mask,) * 3, axis=-1) > 0.1
    bg_image = np.zeros(image.shape, dtype=np.uint8)
    bg_image[:] = BG_COLOR
    annotated_image = np.where(condition, annotated_image, bg_image)
    # Draw pose landmarks on the image.
    mp_drawing.draw_landmarks(
        annotated_image,
        results.pose_landmarks,
        mp_pose.POSE_CONNECTIONS,
        landmark_drawing_spec=mp_drawing_styles.get_default_pose_landmarks_style())
    cv2.imwrite('/tmp/annotated_image' + str(idx) + '.png', annotated_image)
    # Plot pose world landmarks.
    mp_drawing.plot_landmarks(
        results.pose_world_landmarks, mp_pose.POSE_CONNECTIONS)
"""

IMAGES = ("images/mp_pose_yoga_warrior.jpg",)


def opencv_draw_landmarks(image, landmark_list, connections, style) -> None:
    """MediaPipe's ``draw_landmarks`` rules, drawn with OpenCV itself (the test's oracle)."""
    import cv2

    height, width = image.shape[:2]
    pixels = {}
    for index, landmark in enumerate(landmark_list.landmark):
        if ((landmark.HasField("visibility") and landmark.visibility < 0.5)
                or (landmark.HasField("presence") and landmark.presence < 0.5)):
            continue
        if 0 <= landmark.x <= 1 and 0 <= landmark.y <= 1:
            pixels[index] = (min(math.floor(landmark.x * width), width - 1),
                             min(math.floor(landmark.y * height), height - 1))
    for start, end in connections:
        if start in pixels and end in pixels:
            cv2.line(image, pixels[start], pixels[end], (224, 224, 224), 2)
    for index, pixel in pixels.items():
        spec = style[index]
        border = max(spec.circle_radius + 1, int(spec.circle_radius * 1.2))
        cv2.circle(image, pixel, border, (224, 224, 224), spec.thickness)
        cv2.circle(image, pixel, spec.circle_radius, spec.color, spec.thickness)


@pytest.mark.slow
def test_mediapipe_static_image_example_runs_with_posejax(capsys):
    cv2 = pytest.importorskip("cv2", reason="the example reads and writes images with OpenCV")
    files = [str(require_shared(name)) for name in IMAGES]
    assert EXAMPLE.count("IMAGE_FILES = []") == 1
    namespace: dict = {"__name__": "mediapipe_docs_example"}
    plt.close("all")
    try:
        exec(EXAMPLE.replace("IMAGE_FILES = []", f"IMAGE_FILES = {files!r}"), namespace)
        figures = plt.get_fignums()
    finally:
        plt.close("all")

    results, image = namespace["results"], namespace["image"]
    height, width = image.shape[:2]
    nose = results.pose_landmarks.landmark[0]
    printed = capsys.readouterr().out
    assert f"Nose coordinates: ({nose.x * width}, {nose.y * height})" in printed
    assert len(figures) == len(files)  # one 3-D plot per image

    annotated = namespace["annotated_image"]
    assert np.array_equal(cv2.imread("/tmp/annotated_image0.png"), annotated)
    expected = np.where(np.stack((results.segmentation_mask,) * 3, axis=-1) > 0.1, image,
                        np.full(image.shape, 192, np.uint8))
    opencv_draw_landmarks(expected, results.pose_landmarks,
                          namespace["mp_pose"].POSE_CONNECTIONS,
                          namespace["mp_drawing_styles"].get_default_pose_landmarks_style())
    wrong = np.argwhere((annotated != expected).any(axis=-1))
    assert len(wrong) == 0, f"{len(wrong)} pixels differ from OpenCV's, e.g. {wrong[:5].tolist()}"
    assert (annotated != np.where(np.stack((results.segmentation_mask,) * 3, axis=-1) > 0.1,
                                  image, 192)).any(axis=-1).sum() > 1000  # a skeleton was drawn
