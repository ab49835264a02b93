"""Landmark network post-processing: decoding, heatmap refinement, projection, world landmarks.

The landmark network returns 39 landmarks in its 256x256 input tensor (spec 6.2). MediaPipe decodes
them (``TensorsToLandmarksCalculator``, 6.4), refines x and y with the heatmap
(``RefineLandmarksFromHeatmapCalculator``, 6.5), keeps 0-32 as the pose and 33-34 as the alignment
("auxiliary") points that drive tracking, and projects both back to the image (6.6). World
landmarks are only rotated by the ROI (6.7). 35-38 are discarded.

Landmark arrays are ``(N, 5)``: ``x, y, z, visibility, presence``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from posejax.landmarks import NUM_LANDMARKS
from posejax.ops import _exact as ex
from posejax.ops.image import LANDMARK_SIZE, roi_padding

F32 = jnp.float32
#: Landmarks the network predicts.
NUM_MODEL_LANDMARKS = 39
#: Index slice of the alignment landmarks 33 (hip centre) and 34 (scale point).
AUX_SLICE = slice(33, 35)
#: Heatmap side.
HEATMAP_SIZE = 64
#: ``kernel_size`` the released mediapipe 0.10.21 uses (its option is lost, so the default 9
#: applies; the graph file says 7, spec 12 a).
RELEASED_KERNEL_SIZE = 9
GRAPH_FILE_KERNEL_SIZE = 7


def _sigmoid(x):
    return F32(1) / (F32(1) + jnp.exp(-x))


def decode_landmarks(raw_195):
    """The 39 landmarks in normalized ROI-tensor coordinates.

    ``x = X / 256``, ``y = Y / 256``, ``z = Z / 256``, ``visibility = sigmoid(V)``,
    ``presence = sigmoid(P)``.

    Parameters
    ----------
    raw_195 : float32 (195,)
        First output of the landmark network for one image.

    Returns
    -------
    float32 (39, 5)

    Example
    -------
    >>> decode_landmarks(jnp.tile(jnp.array([128.0, 64.0, -32.0, 0.0, 0.0]), 39))[0].tolist()
    [0.5, 0.25, -0.125, 0.5, 0.5]
    """
    raw = jnp.asarray(raw_195, F32).reshape(-1)
    if raw.shape != (NUM_MODEL_LANDMARKS * 5,):
        raise ValueError(f"raw landmarks must hold {NUM_MODEL_LANDMARKS * 5} values, got shape "
                         f"{jnp.shape(raw_195)}")
    raw = raw.reshape(NUM_MODEL_LANDMARKS, 5)
    coords = raw[:, :3] * F32(1.0 / LANDMARK_SIZE)  # power of two: exact division
    return jnp.concatenate([coords, _sigmoid(raw[:, 3:5])], axis=1)


def refine_with_heatmap(landmarks, heatmap_logits, kernel_size: int = RELEASED_KERNEL_SIZE,
                        min_confidence: float = 0.5):
    """Move each landmark to the confidence-weighted mean of its heatmap window.

    Per landmark ``k`` (heatmap channel ``k``): ``col = int(x * 64)``, ``row = int(y * 64)``
    (truncation toward zero); the window is ``kernel_size`` cells around it, clipped to the map;
    with ``c = sigmoid(logit)``, if ``max c >= min_confidence`` and ``sum c > 0`` then
    ``x = sum(col * c) / 64 / sum c`` and likewise ``y``. z, visibility and presence are kept.

    A landmark is left as it is when ``col`` or ``row`` is outside [0, 63]. (The calculator's
    source on GitHub tests ``center_col >= hm_height`` where ``center_row`` is meant, which would
    refine a landmark just below the map from the rows that remain; mediapipe 0.10.21 does not:
    on the reference image ``opencv_basketball1_gray``, heavy model, landmark 32 at row 64 with a
    window maximum of 0.55 is left unrefined.)

    Parameters
    ----------
    landmarks : float32 (39, 5)
        Output of :func:`decode_landmarks`.
    heatmap_logits : float32 (64, 64, 39)
    kernel_size : int
        9 as in mediapipe 0.10.21 (default), 7 as in the graph file.
    min_confidence : float

    Returns
    -------
    float32 (39, 5)

    Example
    -------
    >>> heatmap = jnp.full((64, 64, 39), -20.0).at[17, 21, :].set(5.0)  # row 17, column 21
    >>> landmarks = jnp.full((39, 5), 0.3)
    >>> refine_with_heatmap(landmarks, heatmap)[0, :2].tolist()  # x, y of the peak
    [0.328125, 0.265625]
    """
    landmarks = jnp.asarray(landmarks, F32)
    heatmap_logits = jnp.asarray(heatmap_logits, F32)
    count = landmarks.shape[0]
    if landmarks.ndim != 2 or landmarks.shape[1] < 2:
        raise ValueError(f"landmarks must be (N, >=2), got {landmarks.shape}")
    if heatmap_logits.ndim != 3 or heatmap_logits.shape[2] != count:
        raise ValueError(f"heatmap must be (H, W, {count}) to match the landmarks, got "
                         f"{heatmap_logits.shape}")
    if not isinstance(kernel_size, (int, np.integer)) or kernel_size < 1:
        raise ValueError(f"kernel_size must be a positive int, got {kernel_size!r}")
    map_h, map_w = heatmap_logits.shape[:2]
    offset = (int(kernel_size) - 1) // 2

    def cell(coordinate, size):
        scaled = coordinate * F32(size)
        valid = jnp.isfinite(scaled)
        # C++ int() truncates; far-away values are clamped first (they are skipped either way).
        return jnp.trunc(jnp.clip(jnp.where(valid, scaled, 0), -(2.0**24), 2.0**24)) \
            .astype(jnp.int32), valid

    col, col_ok = cell(landmarks[:, 0], map_w)
    row, row_ok = cell(landmarks[:, 1], map_h)
    considered = col_ok & row_ok & (col >= 0) & (col < map_w) & (row >= 0) & (row < map_h)
    begin_row = jnp.maximum(0, row - offset)
    end_row = jnp.minimum(map_h, row + offset + 1)
    begin_col = jnp.maximum(0, col - offset)
    end_col = jnp.minimum(map_w, col + offset + 1)
    # The window as a (kernel, kernel, N) gather; cells outside [begin, end) weigh 0.
    steps = jnp.arange(kernel_size) - offset
    rows = row[None, :] + steps[:, None]
    cols = col[None, :] + steps[:, None]
    row_in = (rows >= begin_row) & (rows < end_row)
    col_in = (cols >= begin_col) & (cols < end_col)
    logits = heatmap_logits[jnp.clip(rows, 0, map_h - 1)[:, None, :],
                            jnp.clip(cols, 0, map_w - 1)[None, :, :], jnp.arange(count)]
    confidence = jnp.where(row_in[:, None, :] & col_in[None, :, :], _sigmoid(logits), F32(0))
    total = jnp.sum(confidence, axis=(0, 1))
    best = jnp.max(confidence, axis=(0, 1))
    weighted_col = jnp.sum(confidence * cols[None, :, :].astype(F32), axis=(0, 1))
    weighted_row = jnp.sum(confidence * rows[:, None, :].astype(F32), axis=(0, 1))
    refine = considered & (best >= np.float32(min_confidence)) & (total > 0)
    safe_total = jnp.where(total > 0, total, F32(1))
    new_x = (weighted_col * F32(1.0 / map_w) if map_w & (map_w - 1) == 0
             else ex.div_rn(weighted_col, F32(map_w))) / safe_total
    new_y = (weighted_row * F32(1.0 / map_h) if map_h & (map_h - 1) == 0
             else ex.div_rn(weighted_row, F32(map_h))) / safe_total
    xy = jnp.where(refine[:, None], jnp.stack([new_x, new_y], axis=1), landmarks[:, :2])
    return landmarks.at[:, :2].set(xy)


def project_to_image(landmarks, roi, height: int, width: int):
    """Landmarks from ROI-tensor coordinates to normalized image coordinates.

    Removes the crop's letterbox padding (``LandmarkLetterboxRemovalCalculator``; about 0 for
    square ROIs) and applies ``LandmarkProjectionCalculator``: ``d = (x, y) - 0.5`` rotated by the
    ROI rotation, scaled by the ROI width/height, shifted to its centre; ``z`` scaled by the ROI
    width. Visibility and presence are kept.

    Parameters
    ----------
    landmarks : float32 (N, 5)
        E.g. all 39, or the 33 pose and 2 auxiliary ones.
    roi : float32 (5,)
        The ROI the landmark tensor was cropped from.
    height, width : int
        Image size.

    Returns
    -------
    float32 (N, 5)

    Example
    -------
    >>> lm = jnp.array([[0.5, 0.5, 0.1, 0.9, 0.8], [1.0, 0.5, 0.0, 0.5, 0.5]])
    >>> out = project_to_image(lm, jnp.array([0.4, 0.6, 0.2, 0.3, 0.0]), 480, 720)
    >>> [round(float(v), 4) for v in out[1, :3]]
    [0.5, 0.6, 0.0]
    """
    landmarks = jnp.asarray(landmarks, F32)
    if landmarks.ndim != 2 or landmarks.shape[1] < 3:
        raise ValueError(f"landmarks must be (N, >=3), got {landmarks.shape}")
    roi = jnp.asarray(roi, F32)
    padding = roi_padding(roi, height, width)
    scale_x = F32(1) - (padding[0] + padding[2])
    scale_y = F32(1) - (padding[1] + padding[3])
    x = ex.div_rn(landmarks[:, 0] - padding[0], scale_x) - F32(0.5)
    y = ex.div_rn(landmarks[:, 1] - padding[1], scale_y) - F32(0.5)
    z = ex.div_rn(landmarks[:, 2], scale_x)
    sin, cos = ex.sincos_f32(roi[4])
    new_x = ex.mul_rn(cos, x) - ex.mul_rn(sin, y)
    new_y = ex.mul_rn(sin, x) + ex.mul_rn(cos, y)
    new_x = ex.mul_rn(new_x, roi[2]) + roi[0]
    new_y = ex.mul_rn(new_y, roi[3]) + roi[1]
    return landmarks.at[:, :3].set(jnp.stack([new_x, new_y, z * roi[2]], axis=1))


def world_landmarks(raw_117, roi):
    """The 33 world landmarks (metres, hip-centred) rotated into the image frame.

    ``WorldLandmarkProjectionCalculator``: ``x' = cos r x - sin r y``, ``y' = sin r x + cos r y``,
    ``z`` unchanged. MediaPipe then copies visibility and presence from the (unprojected, refined)
    image landmarks 0-32.

    Parameters
    ----------
    raw_117 : float32 (117,)
        Fifth output of the landmark network for one image.
    roi : float32 (5,)

    Returns
    -------
    float32 (33, 3)

    Example
    -------
    >>> raw = jnp.tile(jnp.array([1.0, 0.0, 0.5]), 39)
    >>> roi = jnp.array([0.5, 0.5, 0.3, 0.4, 1.5707964])
    >>> [round(float(v), 4) for v in world_landmarks(raw, roi)[0]]
    [-0.0, 1.0, 0.5]
    """
    raw = jnp.asarray(raw_117, F32).reshape(-1)
    if raw.shape != (NUM_MODEL_LANDMARKS * 3,):
        raise ValueError(f"raw world landmarks must hold {NUM_MODEL_LANDMARKS * 3} values, got "
                         f"shape {jnp.shape(raw_117)}")
    points = raw.reshape(NUM_MODEL_LANDMARKS, 3)[:NUM_LANDMARKS]
    sin, cos = ex.sincos_f32(jnp.asarray(roi, F32)[4])
    x, y = points[:, 0], points[:, 1]
    new_x = ex.mul_rn(cos, x) - ex.mul_rn(sin, y)
    new_y = ex.mul_rn(sin, x) + ex.mul_rn(cos, y)
    return jnp.stack([new_x, new_y, points[:, 2]], axis=1)


def segmentation_probabilities(logits):
    """Person probability per ROI-tensor pixel: ``sigmoid`` of the segmentation logits.

    Parameters
    ----------
    logits : float32 (256, 256, 1) or (256, 256)

    Returns
    -------
    float32 (256, 256)

    Example
    -------
    >>> float(segmentation_probabilities(jnp.zeros((256, 256, 1)))[0, 0])
    0.5
    """
    logits = jnp.asarray(logits, F32)
    if logits.ndim == 3 and logits.shape[-1] == 1:
        logits = logits[..., 0]
    if logits.ndim != 2:
        raise ValueError(f"segmentation logits must be (H, W) or (H, W, 1), got {logits.shape}")
    return F32(1) / (jnp.exp(-logits) + F32(1))


def pose_present(flag, threshold: float = 0.5):
    """``ThresholdingCalculator``: the pose is present iff ``flag > threshold`` (strictly).

    The comparison is done in double in C++; for a float32 flag that is ``flag > t`` or
    ``flag >= t`` with ``t`` the threshold rounded to float32, decided here.

    Parameters
    ----------
    flag : float32 scalar or (1,)
        Second output of the landmark network (already a probability).
    threshold : float
        ``min_tracking_confidence`` (a Python number).

    Example
    -------
    >>> bool(pose_present(jnp.float32(0.5), 0.5)), bool(pose_present(jnp.float32(0.6), 0.5))
    (False, True)
    """
    flag = jnp.asarray(flag, F32).reshape(())
    rounded = np.float32(threshold)
    if float(rounded) > float(threshold):
        return flag >= rounded
    return flag > rounded
