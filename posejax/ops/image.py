"""Image warps of the pipeline, bit-compatible with MediaPipe's OpenCV 4.x calls.

- :func:`roi_to_tensor` is ``ImageToTensorCalculator``: ``cv::boxPoints`` of the ROI,
  ``cv::getPerspectiveTransform`` to the tensor square and ``cv::warpPerspective`` with bilinear
  interpolation on uint8 (spec sections 4.1, 6.1 and 10). :func:`detector_input` and
  :func:`landmark_input` add the two networks' value ranges.
- :func:`mask_to_image` is ``WarpAffineCalculator``: ``cv::warpAffine(..., WARP_INVERSE_MAP)`` of
  the float 256x256 segmentation mask back onto the frame (spec sections 6.8 and 10).

OpenCV's classic warps quantize every sample position to 1/32 px before interpolating, and the uint8
warp uses integer weights; both are reproduced here, which is what makes the crops identical to
MediaPipe's instead of merely close. The per-sample work is a few float32 operations and four
gathers, vectorized over the output pixels.

Conventions: images are ``(H, W, 3)`` uint8 RGB; an ROI is ``[x_center, y_center, width, height,
rotation]`` normalized by the image width and height, rotation in radians, clockwise on screen.
Pixel ``(i, j)`` sits at integer coordinates (no half-pixel offsets, spec section 10).

Frame sizes may be traced int32 scalars: a frame's pixels are then packed at the start of a
larger buffer (a size bucket, :mod:`posejax.ops.buckets`), pixel ``(y, x)`` at ``y * width + x``,
and clipping and borders follow the real size, so one program serves every size of its bucket
with the pixels and borders of the unpadded frame. That second way of reading and writing frames
is why this module is a little over the house's 500 lines: it threads through every warp here.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from posejax.ops import _exact as ex

#: Side of the detector's input tensor.
DETECTOR_SIZE = 224
#: Side of the landmark networks' input tensor.
LANDMARK_SIZE = 256
#: Side of the landmark networks' segmentation mask.
MASK_SIZE = 256
#: OpenCV's ``INTER_BITS``: sample positions are quantized to 1/32 px.
_INTER_BITS = 5
_INTER_TAB_SIZE = 1 << _INTER_BITS
_BORDERS = ("zero", "replicate")
F32 = jnp.float32


# -- ROI geometry ---------------------------------------------------------------------------------
def roi_in_pixels(roi, height: int, width: int):
    """``GetRoi``: the normalized ROI in pixels, ``(cx, cy, w, h, rotation)`` float32 scalars.

    Example
    -------
    >>> cx, cy, w, h, r = roi_in_pixels(jnp.array([0.5, 0.5, 1.0, 1.0, 0.0]), 480, 640)
    >>> float(cx), float(h)
    (320.0, 480.0)
    """
    roi = _check_roi(roi)
    return (ex.mul_rn(roi[0], F32(width)), ex.mul_rn(roi[1], F32(height)),
            ex.mul_rn(roi[2], F32(width)), ex.mul_rn(roi[3], F32(height)), roi[4])


def pad_roi(width_px, height_px):
    """``PadRoi`` for a square tensor: the ROI's sides made square, keeping its aspect ratio.

    Parameters
    ----------
    width_px, height_px : float32 scalars
        ROI sides in pixels.

    Returns
    -------
    padded_width, padded_height : float32 scalars
        The longer side, twice (the ROI grows to a square around the same centre).
    padding : float32 (4,)
        ``[left, top, right, bottom]`` letterbox padding as fractions of the padded square.

    Example
    -------
    >>> w, h, padding = pad_roi(jnp.float32(640), jnp.float32(480))
    >>> float(h), [round(float(p), 4) for p in padding]
    (640.0, [0.0, 0.125, 0.0, 0.125])
    """
    width_px = jnp.asarray(width_px, F32)
    height_px = jnp.asarray(height_px, F32)
    aspect = ex.div_rn(height_px, width_px)
    landscape = aspect < F32(1)
    # (1 - a) / 2 is exact in float32 for the halving; the subtraction rounds as in C++.
    vertical = jnp.where(landscape, (F32(1) - aspect) * F32(0.5), F32(0))
    horizontal = jnp.where(landscape, F32(0), (F32(1) - ex.div_rn(F32(1), aspect)) * F32(0.5))
    padded_width = jnp.where(landscape, width_px, height_px)
    padded_height = jnp.where(landscape, width_px, height_px)
    padding = jnp.stack([horizontal, vertical, horizontal, vertical])
    return padded_width, padded_height, padding


def roi_padding(roi, height: int, width: int):
    """Letterbox padding ``[left, top, right, bottom]`` of the crop of ``roi``.

    This is what ``ImageToTensorCalculator`` reports next to the tensor; it is about 0 for the
    square ROIs of tracking and is undone by :func:`posejax.ops.landmark_decoding.project_to_image`.

    Example
    -------
    >>> roi_padding(jnp.array([0.5, 0.5, 1.0, 1.0, 0.0]), 480, 640).tolist()
    [0.0, 0.125, 0.0, 0.125]
    """
    _, _, w, h, _ = roi_in_pixels(roi, height, width)
    return pad_roi(w, h)[2]


def box_points(cx, cy, width_px, height_px, rotation):
    """Corners of the rotated rectangle as ``cv::boxPoints`` gives them, float32 ``(4, 2)``.

    The angle goes through MediaPipe's ``rotation * 180.f / M_PI`` to degrees and OpenCV's
    ``angle * CV_PI / 180.`` back to radians, and ``(float)cos(double)`` as in
    ``RotatedRect::points``, so the corners are the very floats OpenCV computes.

    Example
    -------
    >>> box_points(jnp.float32(2), jnp.float32(2), jnp.float32(4), jnp.float32(2),
    ...            jnp.float32(0)).tolist()
    [[0.0, 3.0], [0.0, 1.0], [4.0, 1.0], [4.0, 3.0]]
    """
    degrees = ex.mul_rn(jnp.asarray(rotation, F32), F32(180))
    degrees = ex.ff_to_f32(ex.ff_mul(ex.ff_from(degrees), ex.INV_PI))
    sin, cos = ex.ff_sincos(ex.ff_mul(ex.ff_from(degrees), ex.PI_OVER_180))
    b = ex.ff_to_f32(cos) * F32(0.5)
    a = ex.ff_to_f32(sin) * F32(0.5)
    ah, bh = ex.mul_rn(a, height_px), ex.mul_rn(b, height_px)
    aw, bw = ex.mul_rn(a, width_px), ex.mul_rn(b, width_px)
    p0 = ((cx - ah) - bw, (cy + bh) - aw)
    p1 = ((cx + ah) - bw, (cy - bh) - aw)
    p2 = (F32(2) * cx - p0[0], F32(2) * cy - p0[1])
    p3 = (F32(2) * cx - p1[0], F32(2) * cy - p1[1])
    return jnp.stack([jnp.stack(p) for p in (p0, p1, p2, p3)])


# -- fixed-point sample positions -----------------------------------------------------------------
def _homography_samples(corners, size: int):
    """Sample positions of ``warpPerspective`` in 1/32 px, int32 ``(size, size)`` each.

    The map from the output square to the source is the homography through the four float
    corners (``boxPoints`` corners are a parallelogram only up to rounding, so OpenCV's is one too,
    with tiny perspective terms). It is evaluated in double-float and rounded half to even like
    ``saturate_cast<int>(32 * x)``.
    """
    # Output (0,0) -> corner 1, (S,0) -> corner 2, (S,S) -> corner 3, (0,S) -> corner 0.
    q00, q10, q11, q01 = corners[1], corners[2], corners[3], corners[0]

    def exact_diff(p, q):
        return ex.two_sum(p, -q)

    sigma = ex.ff_add(exact_diff(q00, q01), exact_diff(q11, q10))  # q00 - q10 + q11 - q01
    sigma = ex.ff_to_f32(sigma)
    d1 = q10 - q11
    d2 = q01 - q11
    den = d1[0] * d2[1] - d2[0] * d1[1]
    g = (sigma[0] * d2[1] - sigma[1] * d2[0]) / den
    h = (d1[0] * sigma[1] - d1[1] * sigma[0]) / den

    steps = jnp.arange(size, dtype=F32)
    size_f = F32(size)

    def axis(origin, along_u, along_v, coord):
        # x(u, v) = (a u + b v + c) / (g u + h v + 1) with u = i / S, v = j / S.
        a = ex.ff_add(exact_diff(along_u[coord], origin[coord]), ex.ff_from(g * along_u[coord]))
        b = ex.ff_add(exact_diff(along_v[coord], origin[coord]), ex.ff_from(h * along_v[coord]))
        per_column = ex.ff_div(_ff_mul_steps(a, steps), ex.ff_from(size_f))
        per_row = ex.ff_add(ex.ff_div(_ff_mul_steps(b, steps), ex.ff_from(size_f)),
                            ex.ff_from(origin[coord]))
        numerator = ex.ff_add((per_column[0][None, :], per_column[1][None, :]),
                              (per_row[0][:, None], per_row[1][:, None]))
        return numerator

    x_num = axis(q00, q10, q01, 0)
    y_num = axis(q00, q10, q01, 1)
    delta = (g * steps[None, :] + h * steps[:, None]) / size_f
    shrink = delta / (F32(1) + delta)

    def to_fixed(num):
        value = ex.ff_add(num, ex.ff_from(-num[0] * shrink))
        fixed = ex.ff_round_half_even((value[0] * _INTER_TAB_SIZE, value[1] * _INTER_TAB_SIZE))
        return _to_int(fixed)

    return to_fixed(x_num), to_fixed(y_num)


def _ff_mul_steps(x, steps):
    """A pair times the small integers ``steps`` (exact partial products, then a pair)."""
    p, e = ex.two_prod(jnp.broadcast_to(x[0], steps.shape), steps)
    return ex.fast_two_sum(p, e + x[1] * steps)


def _to_int(fixed):
    # OpenCV saturates to int and then to short; clamping here keeps far-away samples far away.
    return jnp.clip(jnp.nan_to_num(fixed, nan=-(2.0**30)), -(2.0**30), 2.0**30).astype(jnp.int32)


# -- bilinear sampling ----------------------------------------------------------------------------
def _neighbours(fixed_x, fixed_y, height, width, border: str):
    """Flat indices and validity of the 4 neighbours, and the 1/32 fractions.

    ``height, width`` (ints or traced scalars) bound the samples; pixel ``(y, x)`` is at
    ``y * width + x``, in an unpadded frame as in a packed bucket (:mod:`posejax.ops.buckets`).
    """
    x0 = fixed_x >> _INTER_BITS
    y0 = fixed_y >> _INTER_BITS
    fx = fixed_x & (_INTER_TAB_SIZE - 1)
    fy = fixed_y & (_INTER_TAB_SIZE - 1)
    indices, valid = [], []
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        x = x0 + dx
        y = y0 + dy
        inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        xc = jnp.clip(x, 0, width - 1)
        yc = jnp.clip(y, 0, height - 1)
        indices.append(yc * width + xc)
        valid.append(inside if border == "zero" else jnp.ones_like(inside))
    return indices, valid, fx, fy


def _bilinear_u8(image, fixed_x, fixed_y, border: str, image_size=None):
    """``remap`` INTER_LINEAR on uint8 with OpenCV's integer weights; int32 result (0..255)."""
    rows, columns, channels = image.shape
    height, width = (rows, columns) if image_size is None else image_size
    flat = image.reshape(rows * columns, channels).astype(jnp.int32)
    indices, valid, fx, fy = _neighbours(fixed_x, fixed_y, height, width, border)
    weights = ((_INTER_TAB_SIZE - fx) * (_INTER_TAB_SIZE - fy), fx * (_INTER_TAB_SIZE - fy),
               (_INTER_TAB_SIZE - fx) * fy, fx * fy)
    total = jnp.zeros(fixed_x.shape + (channels,), jnp.int32)
    for index, ok, weight in zip(indices, valid, weights, strict=True):
        value = jnp.where(ok[..., None], flat[index], 0)
        total = total + value * weight[..., None]
    # OpenCV's weights are these times 32 (sum 2**15), rounded with (s + 2**14) >> 15.
    return (total + (1 << 9)) >> 10


def roi_to_tensor(image_u8, roi, size: int, border: str = "replicate", image_size=None):
    """Crop ``roi`` out of the image into a ``size x size`` tensor as MediaPipe does.

    ``ImageToTensorCalculator`` with ``keep_aspect_ratio``: the ROI in pixels is padded to a square
    (``PadRoi``), its rotated corners (``cv::boxPoints``) are mapped onto the tensor corners, and
    ``cv::warpPerspective`` samples the uint8 image bilinearly at 1/32-px positions with integer
    weights, rounding to uint8.

    Parameters
    ----------
    image_u8 : uint8 array (H, W, 3)
    roi : float32 array (5,)
        ``[x_center, y_center, width, height, rotation]``, normalized, radians.
    size : int
        Output side (static).
    border : {"replicate", "zero"}
        Outside the image: repeat the edge pixels (landmark crop) or use 0 (detector letterbox).
    image_size : (height, width), optional
        The frame's real size (ints or traced int32 scalars) when its pixels are packed in a
        larger ``image_u8`` (a size bucket, :mod:`posejax.ops.buckets`); the ROI, the clipping
        and the border follow it. Default: the whole image.

    Returns
    -------
    float32 array (size, size, 3)
        The uint8 warp result as floats in 0..255.

    Example
    -------
    >>> image = jnp.zeros((48, 64, 3), jnp.uint8)
    >>> roi_to_tensor(image, jnp.array([0.5, 0.5, 0.5, 0.6, 0.3]), 32).shape
    (32, 32, 3)
    """
    image_u8 = _check_image(image_u8)
    if border not in _BORDERS:
        raise ValueError(f"border must be one of {_BORDERS}, got {border!r}")
    if not isinstance(size, (int, np.integer)) or size <= 0:
        raise ValueError(f"size must be a positive int, got {size!r}")
    height, width = image_u8.shape[:2] if image_size is None else image_size
    cx, cy, w, h, rotation = roi_in_pixels(roi, height, width)
    w, h, _ = pad_roi(w, h)
    corners = box_points(cx, cy, w, h, rotation)
    # The barrier keeps XLA from fusing (and so repeating) the per-sample geometry into each of
    # the neighbour gathers: same result, a fraction of the compile and run time.
    fixed_x, fixed_y = lax.optimization_barrier(_homography_samples(corners, int(size)))
    return _bilinear_u8(image_u8, fixed_x, fixed_y, border, image_size).astype(F32)


def detector_input(image_u8, image_size=None):
    """The detector's input: the whole image letterboxed into 224x224, values in [-1, 1].

    Parameters
    ----------
    image_u8 : uint8 array (H, W, 3)
    image_size : (height, width), optional
        The real frame size when the frame is packed in ``image_u8`` (see
        :func:`roi_to_tensor`).

    Returns
    -------
    tensor : float32 (224, 224, 3)
        ``u8 * (2/255) - 1``; the letterbox bands are -1 (uint8 0).
    padding : float32 (4,)
        ``[left, top, right, bottom]`` as fractions of the tensor, for
        :func:`posejax.ops.detection.remove_letterbox`.

    Example
    -------
    >>> tensor, padding = detector_input(jnp.full((48, 64, 3), 255, jnp.uint8))
    >>> float(tensor[0, 0, 0]), float(tensor[112, 112, 0]), padding.tolist()
    (-1.0, 1.0, [0.0, 0.125, 0.0, 0.125])
    """
    image_u8 = _check_image(image_u8)
    whole = jnp.array([0.5, 0.5, 1.0, 1.0, 0.0], F32)
    warped = roi_to_tensor(image_u8, whole, DETECTOR_SIZE, border="zero", image_size=image_size)
    scale = np.float32(np.float32(2.0) / np.float32(255.0))
    # OpenCV's convertTo (AVX2 path) uses a fused multiply-add: one rounding, as MediaPipe shows.
    tensor = ex.fma_rn(warped, scale, F32(-1.0))
    return tensor, roi_padding(whole, *(image_u8.shape[:2] if image_size is None else image_size))


def landmark_input(image_u8, roi, image_size=None):
    """The landmark networks' input: ``roi`` cropped to 256x256 (edge pixels repeated), in [0, 1].

    Parameters
    ----------
    image_u8 : uint8 array (H, W, 3)
    roi : float32 array (5,)
    image_size : (height, width), optional
        The real frame size (see :func:`roi_to_tensor`).

    Returns
    -------
    float32 (256, 256, 3)
        ``u8 * (1/255)``.

    Example
    -------
    >>> image = jnp.full((48, 64, 3), 255, jnp.uint8)
    >>> float(landmark_input(image, jnp.array([0.5, 0.5, 0.5, 0.6, 0.3])).max())
    1.0
    """
    scale = np.float32(np.float32(1.0) / np.float32(255.0))
    return roi_to_tensor(image_u8, roi, LANDMARK_SIZE, border="replicate",
                         image_size=image_size) * scale


# -- mask back-projection -------------------------------------------------------------------------
def mask_affine_matrix(roi, height: int, width: int):
    """The 2x3 float32 matrix MediaPipe hands to ``cv::warpAffine(..., WARP_INVERSE_MAP)``.

    It maps frame pixels to mask pixels: ``diag(256, 256) . inverse(MATRIX) . diag(1/W, 1/H)``,
    where ``MATRIX`` is ``GetRotatedSubRectToRectTransformMatrix`` of the padded ROI and the inverse
    follows Eigen's 4x4 SSE inverse (which for this block structure reduces to the 2x2 formula
    below, in the same rounding order).

    Example
    -------
    >>> mask_affine_matrix(jnp.array([0.5, 0.5, 0.5, 1.0, 0.0]), 100, 200).tolist()
    [[2.559999942779541, 0.0, -128.0], [0.0, 2.559999942779541, -0.0]]
    """
    cx, cy, w, h, rotation = roi_in_pixels(roi, height, width)
    a, b, _ = pad_roi(w, h)
    sin, cos = ex.sincos_f32(rotation)
    inv_w = ex.div_rn(F32(1), F32(width))
    inv_h = ex.div_rn(F32(1), F32(height))
    # Every product is rounded explicitly: XLA would otherwise gather the constant factors of a
    # product chain (1/W, 1/H) into one and round differently.
    mul = ex.mul_rn
    # GetRotatedSubRectToRectTransformMatrix (flip = 1).
    m0 = mul(mul(a, cos), inv_w)
    m1 = mul(mul(-b, sin), inv_w)
    m3 = mul((mul(F32(-0.5) * a, cos) + mul(F32(0.5) * b, sin)) + cx, inv_w)
    m4 = mul(mul(a, sin), inv_h)
    m5 = mul(mul(b, cos), inv_h)
    m7 = mul((mul(F32(-0.5) * b, cos) - mul(F32(0.5) * a, sin)) + cy, inv_h)
    m10 = mul(a, inv_w)
    # Eigen's compute_inverse_size4 on [[m0 m1 0 m3] [m4 m5 0 m7] [0 0 m10 0] [0 0 0 1]].
    det_a = mul(m5, m0) - mul(m1, m4)
    ab1 = mul(m5, m3) - mul(m1, m7)
    ab3 = mul(m0, m7) - mul(m4, m3)
    rd = ex.div_rn(F32(1), mul(det_a, m10))
    inv00 = mul(mul(m5, m10), rd)
    inv01 = -mul(mul(m1, m10), rd)
    inv03 = -mul(mul(m10, ab1), rd)
    inv10 = -mul(mul(m4, m10), rd)
    inv11 = mul(mul(m0, m10), rd)
    inv13 = -mul(mul(m10, ab3), rd)
    mask = F32(MASK_SIZE)
    return jnp.stack([
        jnp.stack([mul(mask * inv00, inv_w), mul(mask * inv01, inv_h), mask * inv03]),
        jnp.stack([mul(mask * inv10, inv_w), mul(mask * inv11, inv_h), mask * inv13]),
    ])


def _affine_samples(matrix, rows, columns):
    """``warpAffine``'s fixed-point sample positions (1/32 px), int32, at ``rows, columns``.

    ``rows, columns`` are the output pixels' float32 coordinates, arrays that broadcast together:
    a grid's ``(H, 1)`` and ``(1, W)``, or a packed bucket's row and column of each pixel.

    ``X = (round(1024 (M01 y + M02)) + 16 + round(1024 M00 x)) >> 5``, with the products and sums
    done in double by OpenCV and here in double-float.
    """
    scale = F32(1 << 10)

    def fixed(row):
        per_column = ex.ff_round_half_even(_scaled(ex.two_prod(
            jnp.broadcast_to(matrix[row, 0], columns.shape), columns), scale))
        per_row = ex.ff_add(ex.two_prod(jnp.broadcast_to(matrix[row, 1], rows.shape), rows),
                            ex.ff_from(jnp.broadcast_to(matrix[row, 2], rows.shape)))
        per_row = ex.ff_round_half_even(_scaled(per_row, scale))
        total = _to_int(per_row) + (1 << 4) + _to_int(per_column)
        return total >> (10 - _INTER_BITS)

    return fixed(0), fixed(1)


def _grid(height: int, width: int):
    """Rows ``(height, 1)`` and columns ``(1, width)`` of an unpadded output, float32."""
    return (jnp.arange(height, dtype=F32)[:, None], jnp.arange(width, dtype=F32)[None, :])


def _packed_grid(width, shape: tuple[int, int]):
    """Row and column of each pixel of a packed bucket of ``shape`` for frames ``width`` wide."""
    index = jnp.arange(shape[0] * shape[1], dtype=jnp.int32).reshape(shape)
    row = index // width
    return row.astype(F32), (index - row * width).astype(F32)


def _scaled(x, factor):
    return x[0] * factor, x[1] * factor


def warp_affine_inverse(source, matrix, height: int, width: int, grid=None):
    """OpenCV's bilinear ``cv::warpAffine`` with an inverse map, for a float32 2-D ``source``.

    Reproduces ``cv::warpAffine(source, matrix, (width, height), INTER_LINEAR |
    WARP_INVERSE_MAP, BORDER_CONSTANT 0)``.

    Parameters
    ----------
    source : float32 (h, w)
    matrix : float32 (2, 3)
        Destination pixel -> source pixel.
    height, width : int
        Output size (static).
    grid : (rows, columns), optional
        The output pixels' coordinates when they are not the ``(height, width)`` grid (a packed
        bucket's: see :func:`mask_to_image`); the output then has their shape.

    Returns
    -------
    float32 (height, width)

    Example
    -------
    >>> warp_affine_inverse(jnp.ones((4, 4)), jnp.array([[1., 0, 0], [0, 1, 0]]), 3, 5)[0].tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    source = jnp.asarray(source, F32)
    if source.ndim != 2:
        raise ValueError(f"source must be 2-D (h, w), got shape {source.shape}")
    src_h, src_w = source.shape
    rows, columns = _grid(int(height), int(width)) if grid is None else grid
    fixed_x, fixed_y = lax.optimization_barrier(
        _affine_samples(jnp.asarray(matrix, F32), rows, columns))
    flat = source.reshape(-1)
    indices, valid, fx, fy = _neighbours(fixed_x, fixed_y, src_h, src_w, "zero")
    wx1 = fx.astype(F32) * F32(1.0 / _INTER_TAB_SIZE)
    wy1 = fy.astype(F32) * F32(1.0 / _INTER_TAB_SIZE)
    wx0, wy0 = F32(1) - wx1, F32(1) - wy1
    weights = (wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1)
    total = None
    for index, ok, weight in zip(indices, valid, weights, strict=True):
        term = jnp.where(ok, flat[index], F32(0)) * weight
        total = term if total is None else total + term
    return total


def mask_to_image(mask_256, roi, height, width, out_shape: tuple[int, int] | None = None):
    """Project the 256x256 segmentation mask of ``roi`` back onto the full frame.

    ``WarpAffineCalculator`` with ``BORDER_ZERO``: each frame pixel samples the mask bilinearly at
    its 1/32-px quantized position; pixels outside the ROI get 0.

    Parameters
    ----------
    mask_256 : float32 (256, 256) or (256, 256, 1)
        Person probabilities in the ROI tensor (see
        :func:`posejax.ops.landmark_decoding.segmentation_probabilities`).
    roi : float32 (5,)
    height, width : int or traced int32 scalar
        Frame size.
    out_shape : (int, int), optional
        The output's shape when it is not ``(height, width)``: a size bucket's, for traced sizes,
        with the frame's pixels packed at its start as :func:`posejax.ops.buckets.unpack`
        reads them (the rest is to be dropped).

    Returns
    -------
    float32 (height, width), or ``out_shape``

    Example
    -------
    >>> full = mask_to_image(jnp.ones((256, 256)), jnp.array([0.5, 0.5, 0.5, 1.0, 0.0]), 100, 200)
    >>> float(full[50, 100]), float(full[50, 10])
    (1.0, 0.0)
    """
    mask_256 = jnp.asarray(mask_256, F32)
    if mask_256.shape == (MASK_SIZE, MASK_SIZE, 1):
        mask_256 = mask_256[..., 0]
    if mask_256.shape != (MASK_SIZE, MASK_SIZE):
        raise ValueError(f"mask must be ({MASK_SIZE}, {MASK_SIZE}), got {mask_256.shape}")
    _check_size(height, width)
    matrix = mask_affine_matrix(roi, height, width)
    if out_shape is None:
        return warp_affine_inverse(mask_256, matrix, int(height), int(width))
    return warp_affine_inverse(mask_256, matrix, *out_shape, grid=_packed_grid(width, out_shape))


# -- input checks ---------------------------------------------------------------------------------
def _check_image(image):
    if not hasattr(image, "dtype") or not hasattr(image, "shape"):
        raise TypeError(f"image must be an array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3), got {tuple(image.shape)}")
    if image.dtype != jnp.uint8:
        raise TypeError(f"image must be uint8 RGB, got dtype {image.dtype}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"image is empty: shape {tuple(image.shape)}")
    return jnp.asarray(image)


def _check_roi(roi):
    roi = jnp.asarray(roi)
    if roi.shape != (5,):
        raise ValueError("roi must have shape (5,): [x_center, y_center, width, height, rotation]"
                         f", got {roi.shape}")
    return roi.astype(F32)


def _check_size(height, width):
    for name, value in (("height", height), ("width", width)):
        if hasattr(value, "dtype") and np.ndim(value) == 0 and jnp.issubdtype(value.dtype,
                                                                            jnp.integer):
            continue   # a traced (runtime) size; the caller checked it on the host
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
