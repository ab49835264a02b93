"""Pure, jittable JAX steps of the per-frame MediaPipe Pose pipeline (one frame, no batch axis).

- :mod:`posejax.ops.image`: ROI crops for the networks and the segmentation mask back-projection,
  bit-compatible with MediaPipe's OpenCV warps;
- :mod:`posejax.ops.detection`: SSD anchors, detector decoding, the weighted-NMS detection the
  pipeline uses, letterbox removal;
- :mod:`posejax.ops.roi`: ROIs from a detection or from the alignment landmarks, object scale;
- :mod:`posejax.ops.landmark_decoding`: landmark decoding, heatmap refinement, projection to the
  image, world landmarks, segmentation probabilities, the presence gate;
- :mod:`posejax.ops.filters`: one-euro and low-pass filter banks with explicit state, and the
  segmentation smoothing.

Images are ``(H, W, 3)`` uint8 RGB; an ROI is float32 ``[x_center, y_center, width, height,
rotation]`` normalized by the image width and height, rotation in radians (clockwise on screen).
Callers ``vmap`` over frames or videos and ``lax.scan`` over time.
"""

from posejax.ops import detection, filters, image, landmark_decoding, roi

__all__ = ["detection", "filters", "image", "landmark_decoding", "roi"]
