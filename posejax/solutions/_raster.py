"""OpenCV's integer rasterization of ``cv2.line`` and ``cv2.circle`` (``LINE_8``), in NumPy.

MediaPipe's ``drawing_utils`` draws with ``cv2.line`` and ``cv2.circle``; to draw the same pixels
without OpenCV, this module follows the algorithms of OpenCV 4.x ``imgproc/src/drawing.cpp``
(the version mediapipe 0.10.21 installs, 4.11) step by step, in the same fixed-point arithmetic
(16 fractional bits) and with the same rounding:

* a line of thickness 1 (and a polygon edge at integer positions) is an 8-connected Bresenham
  line, walked from its left end, after clipping both ends to the image;
* a thicker line is a filled quadrilateral (the segment widened by ``thickness / 2`` on both
  sides, rounded to fixed point), its four edges, and a filled integer circle of radius
  ``round(thickness / 2)`` at each end;
* a circle of thickness 1 (or a filled one, thickness < 0) is OpenCV's midpoint circle;
* a thicker circle is a polygon through points every 90, 30, 18 or 5 degrees (by radius; the
  sines are OpenCV's 7-digit float table) drawn as thick line segments.

Every function returns the pixels it covers as ``(rows, cols)`` integer arrays (a pixel may be
listed more than once), already clipped to the image; the caller writes the colour. Only
non-antialiased drawing (``LINE_8``, ``shift=0``) is reproduced, which is what MediaPipe uses.

Checked against ``cv2`` 4.11 on 23,000 random lines and circles (thicknesses -1 to 10, radii 0
to 20, ends and centres inside and outside small images): identical pixels.
OpenCV 5.x agrees wherever the ends of a line lie inside the image (always so in MediaPipe's
``draw_landmarks``); it changed the clipping of thick lines whose ends lie outside.
"""

from __future__ import annotations

import functools
import math

import numpy as np

XY_SHIFT = 16
XY_ONE = 1 << XY_SHIFT
_HALF = XY_ONE >> 1
#: OpenCV's largest line thickness.
MAX_THICKNESS = 32767

#: ``sin`` of every whole degree 0..450 as OpenCV tabulates it: 7 decimals, stored as float32,
#: then used as double (``cos(a)`` is entry ``450 - a``).
_SIN_TABLE = np.round(np.sin(np.radians(np.arange(451))), 7).astype(np.float32).astype(np.float64)

_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.int64))


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates towards zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _cv_round(value: float) -> int:
    """``cvRound``: nearest integer, ties to even (SSE2 ``cvtsd2si``)."""
    return int(round(value))


def _concat(parts) -> tuple[np.ndarray, np.ndarray]:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return _EMPTY
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def _inside(rows, cols, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    keep = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    return rows[keep], cols[keep]


def clip_line(width: int, height: int, x1: int, y1: int, x2: int, y2: int):
    """Clip a segment to ``[0, width-1] x [0, height-1]`` (Cohen-Sutherland, as ``cv::clipLine``).

    Returns
    -------
    tuple
        ``(inside, x1, y1, x2, y2)``; ``inside`` is False when nothing of the segment is left.

    Examples
    --------
    >>> clip_line(10, 10, -5, 5, 5, 5)
    (True, 0, 5, 5, 5)
    """
    right, bottom = width - 1, height - 1
    if width <= 0 or height <= 0:
        return False, x1, y1, x2, y2

    def code(x, y):
        return (x < 0) + (x > right) * 2 + (y < 0) * 4 + (y > bottom) * 8

    c1, c2 = code(x1, y1), code(x2, y2)
    if (c1 & c2) == 0 and (c1 | c2) != 0:
        if c1 & 12:
            a = 0 if c1 < 8 else bottom
            x1 += _cdiv((a - y1) * (x2 - x1), y2 - y1)
            y1 = a
            c1 = (x1 < 0) + (x1 > right) * 2
        if c2 & 12:
            a = 0 if c2 < 8 else bottom
            x2 += _cdiv((a - y2) * (x2 - x1), y2 - y1)
            y2 = a
            c2 = (x2 < 0) + (x2 > right) * 2
        if (c1 & c2) == 0 and (c1 | c2) != 0:
            if c1:
                a = 0 if c1 == 1 else right
                y1 += _cdiv((a - x1) * (y2 - y1), x2 - x1)
                x1 = a
                c1 = 0
            if c2:
                a = 0 if c2 == 1 else right
                y2 += _cdiv((a - x2) * (y2 - y1), x2 - x1)
                x2 = a
                c2 = 0
    return (c1 | c2) == 0, x1, y1, x2, y2


def bresenham(width: int, height: int, x1: int, y1: int, x2: int, y2: int):
    """Pixels of an 8-connected line between integer points (``cv::LineIterator``).

    Examples
    --------
    >>> rows, cols = bresenham(10, 10, 0, 0, 4, 2)
    >>> list(zip(cols.tolist(), rows.tolist()))
    [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2)]
    """
    if not (0 <= x1 < width and 0 <= x2 < width and 0 <= y1 < height and 0 <= y2 < height):
        inside, x1, y1, x2, y2 = clip_line(width, height, x1, y1, x2, y2)
        if not inside:
            return _EMPTY
    if x2 < x1:  # walked from the left end
        x1, y1, x2, y2 = x2, y2, x1, y1
    dx, dy = x2 - x1, y2 - y1
    step_y = -1 if dy < 0 else 1
    dy = abs(dy)
    steep = dy > dx
    major, minor = (dy, dx) if steep else (dx, dy)
    count = major + 1
    # err starts at major - 2 minor; the minor coordinate advances after a step where err < 0.
    minor_steps = np.zeros(count, np.int64)
    err = major - 2 * minor
    moved = 0
    for k in range(1, count):
        if err < 0:
            moved += 1
            err += 2 * major
        err -= 2 * minor
        minor_steps[k] = moved
    along = np.arange(count, dtype=np.int64)
    if steep:
        return _inside(y1 + step_y * along, x1 + minor_steps, height, width)
    return _inside(y1 + step_y * minor_steps, x1 + along, height, width)


def fixed_line(width: int, height: int, x1: int, y1: int, x2: int, y2: int):
    """Pixels of a 1-pixel line between fixed-point ends (``Line2``, 16 fractional bits)."""
    inside, x1, y1, x2, y2 = clip_line(width << XY_SHIFT, height << XY_SHIFT, x1, y1, x2, y2)
    if not inside:
        return _EMPTY
    dx, dy = x2 - x1, y2 - y1
    ax, ay = abs(dx), abs(dy)
    if ax > ay:
        if dx < 0:
            dy = -dy
            x1, y1, x2, y2 = x2, y2, x1, y1
        step = _cdiv(dy * XY_ONE, ax | 1)
        count = ((x2 - x1) >> XY_SHIFT) + 1
    else:
        if dy < 0:
            dx = -dx
            x1, y1, x2, y2 = x2, y2, x1, y1
        step = _cdiv(dx * XY_ONE, ay | 1)
        count = ((y2 - y1) >> XY_SHIFT) + 1
    x1 += _HALF
    y1 += _HALF
    along = np.arange(count, dtype=np.int64)
    if ax > ay:
        rows = (y1 + along * step) >> XY_SHIFT
        cols = (x1 >> XY_SHIFT) + along
    else:
        rows = (y1 >> XY_SHIFT) + along
        cols = (x1 + along * step) >> XY_SHIFT
    end = ([(y2 + _HALF) >> XY_SHIFT], [(x2 + _HALF) >> XY_SHIFT])
    return _inside(np.concatenate([end[0], rows]), np.concatenate([end[1], cols]), height, width)


def fill_convex_poly(width: int, height: int, vertices):
    """Pixels of a convex polygon with fixed-point vertices (``FillConvexPoly``, ``LINE_8``).

    The outline is drawn with :func:`fixed_line` and the inside scan line by scan line, each
    edge's x advancing by its rounded fixed-point slope from the vertex it starts at.
    """
    v = [(int(x), int(y)) for x, y in vertices]
    npts = len(v)
    parts = []
    p0 = v[-1]
    for p in v:
        parts.append(fixed_line(width, height, p0[0], p0[1], p[0], p[1]))
        p0 = p
    xs = [p[0] for p in v]
    ys = [p[1] for p in v]
    imin = min(range(npts), key=lambda i: (ys[i], i))
    xmin = (min(xs) + _HALF) >> XY_SHIFT
    xmax = (max(xs) + _HALF) >> XY_SHIFT
    ymin = (ys[imin] + _HALF) >> XY_SHIFT
    ymax = (max(ys) + _HALF) >> XY_SHIFT
    if npts < 3 or xmax < 0 or ymax < 0 or xmin >= width or ymin >= height:
        return _concat(parts)
    ymax = min(ymax, height - 1)
    idx = [imin, imin]
    di = [1, npts - 1]
    ex = [-XY_ONE, -XY_ONE]
    edx = [0, 0]
    ye = [ymin, ymin]
    edges = npts
    y = ymin
    spans_y, spans_l, spans_r = [], [], []
    while True:
        for i in range(2):
            if y >= ye[i]:
                idx0 = idx[i]
                j = idx0 + di[i]
                if j >= npts:
                    j -= npts
                while True:
                    alive = edges > 0
                    edges -= 1
                    if not alive:
                        break
                    ty = (v[j][1] + _HALF) >> XY_SHIFT
                    if ty > y:
                        xs0, xe0 = v[idx0][0], v[j][0]
                        ye[i] = ty
                        edx[i] = _cdiv((xe0 - xs0) * 2 + (ty - y), 2 * (ty - y))
                        ex[i] = xs0
                        idx[i] = j
                        break
                    idx0 = j
                    j += di[i]
                    if j >= npts:
                        j -= npts
        if edges < 0:
            break
        if y >= 0:
            left, right = (1, 0) if ex[0] > ex[1] else (0, 1)
            x_left = (ex[left] + _HALF) >> XY_SHIFT
            x_right = (ex[right] + _HALF) >> XY_SHIFT
            if x_right >= 0 and x_left < width:
                spans_y.append(y)
                spans_l.append(max(x_left, 0))
                spans_r.append(min(x_right, width - 1))
        ex[0] += edx[0]
        ex[1] += edx[1]
        y += 1
        if y > ymax:
            break
    parts.append(_spans(spans_y, spans_l, spans_r))
    return _concat(parts)


def _spans(rows, lefts, rights) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of horizontal runs ``lefts[i]..rights[i]`` (inclusive) on ``rows[i]``."""
    if not rows:
        return _EMPTY
    rows = np.asarray(rows, np.int64)
    lefts = np.asarray(lefts, np.int64)
    lengths = np.maximum(np.asarray(rights, np.int64) - lefts + 1, 0)
    total = int(lengths.sum())
    if total == 0:
        return _EMPTY
    starts = np.repeat(lefts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.repeat(rows, lengths), starts + np.arange(total)


def midpoint_circle(width: int, height: int, cx: int, cy: int, radius: int, fill: bool):
    """Pixels of OpenCV's integer circle (``Circle``): an outline, or filled when ``fill``.

    Examples
    --------
    >>> rows, cols = midpoint_circle(9, 9, 4, 4, 1, fill=True)
    >>> sorted(set(zip(rows.tolist(), cols.tolist())))  # a plus: OpenCV's filled radius 1
    [(3, 4), (4, 3), (4, 4), (4, 5), (5, 4)]
    """
    err, dx, dy, plus, minus = 0, radius, 0, 1, (radius << 1) - 1
    rows, lefts, rights = [], [], []
    dots_r, dots_c = [], []
    while dx >= dy:
        for (ya, yb, xa, xb) in ((cy - dy, cy + dy, cx - dx, cx + dx),
                                 (cy - dx, cy + dx, cx - dy, cx + dy)):
            if fill:
                rows += [ya, yb]
                lefts += [xa, xa]
                rights += [xb, xb]
            else:
                dots_r += [ya, yb, ya, yb]
                dots_c += [xa, xa, xb, xb]
        dy += 1
        err += plus
        plus += 2
        mask = 0 if err <= 0 else -1
        err -= minus & mask
        dx += mask
        minus -= mask & 2
    if not fill:
        return _inside(dots_r, dots_c, height, width)
    rows_a = np.asarray(rows, np.int64)
    keep = (rows_a >= 0) & (rows_a < height)
    lefts_a = np.maximum(np.asarray(lefts, np.int64)[keep], 0)
    rights_a = np.minimum(np.asarray(rights, np.int64)[keep], width - 1)
    return _spans(rows_a[keep].tolist(), lefts_a.tolist(), rights_a.tolist())


def thick_line(width: int, height: int, p0, p1, thickness: int, flags: int, shift: int):
    """Pixels of ``ThickLine`` (``LINE_8``); ``flags`` bit 1/2 caps the first/second end."""
    x0, y0 = int(p0[0]) << (XY_SHIFT - shift), int(p0[1]) << (XY_SHIFT - shift)
    x1, y1 = int(p1[0]) << (XY_SHIFT - shift), int(p1[1]) << (XY_SHIFT - shift)
    if thickness <= 1:
        if shift == 0:
            return bresenham(width, height, (x0 + _HALF) >> XY_SHIFT, (y0 + _HALF) >> XY_SHIFT,
                             (x1 + _HALF) >> XY_SHIFT, (y1 + _HALF) >> XY_SHIFT)
        return fixed_line(width, height, x0, y0, x1, y1)
    parts = []
    dx = (x0 - x1) / XY_ONE
    dy = (y1 - y0) / XY_ONE
    r = dx * dx + dy * dy
    odd = thickness & 1
    half = thickness << (XY_SHIFT - 1)
    if abs(r) > 2.220446049250313e-16:
        r = (half + odd * XY_ONE * 0.5) / math.sqrt(r)
        dpx, dpy = _cv_round(dy * r), _cv_round(dx * r)
        corners = [(x0 + dpx, y0 + dpy), (x0 - dpx, y0 - dpy),
                   (x1 - dpx, y1 - dpy), (x1 + dpx, y1 + dpy)]
        parts.append(fill_convex_poly(width, height, corners))
    cap = (half + _HALF) >> XY_SHIFT
    for bit, (x, y) in ((1, (x0, y0)), (2, (x1, y1))):
        if flags & bit:
            parts.append(midpoint_circle(width, height, (x + _HALF) >> XY_SHIFT,
                                         (y + _HALF) >> XY_SHIFT, cap, fill=True))
    return _concat(parts)


def _ellipse_vertices(cx: int, cy: int, radius: int) -> list[tuple[int, int]]:
    """Fixed-point polygon of a full circle (``ellipse2Poly`` + ``EllipseEx``'s rounding)."""
    r = radius << XY_SHIFT
    pixels = (r + _HALF) >> XY_SHIFT
    delta = 90 if pixels < 3 else 30 if pixels < 10 else 18 if pixels < 15 else 5
    vertices: list[tuple[int, int]] = []
    for angle in range(0, 360 + delta, delta):
        angle = min(angle, 360)
        px = float(cx << XY_SHIFT) + r * _SIN_TABLE[450 - angle]
        py = float(cy << XY_SHIFT) + r * _SIN_TABLE[angle]
        qx = _cv_round(px / XY_ONE) << XY_SHIFT
        qy = _cv_round(py / XY_ONE) << XY_SHIFT
        point = (qx + _cv_round(px - qx), qy + _cv_round(py - qy))
        if not vertices or point != vertices[-1]:
            vertices.append(point)
    if len(vertices) == 1:
        vertices = [(cx << XY_SHIFT, cy << XY_SHIFT)] * 2
    return vertices


def _thick_circle(width: int, height: int, cx: int, cy: int, radius: int, thickness: int):
    vertices = _ellipse_vertices(cx, cy, radius)
    parts = []
    flags = 3
    for a, b in zip(vertices[:-1], vertices[1:], strict=True):
        parts.append(thick_line(width, height, a, b, thickness, flags, XY_SHIFT))
        flags = 2
    return _concat(parts)


@functools.lru_cache(maxsize=64)
def _circle_stamp(radius: int, thickness: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Offsets from the centre of a thick circle drawn far from the image borders."""
    margin = radius + thickness + 2
    size = 2 * margin + 1
    rows, cols = _thick_circle(size, size, margin, margin, radius, thickness)
    mask = np.zeros((size, size), bool)
    mask[rows, cols] = True
    dr, dc = np.nonzero(mask)
    return dr - margin, dc - margin, margin


def circle(width: int, height: int, cx: int, cy: int, radius: int, thickness: int):
    """Pixels of ``cv2.circle(img, (cx, cy), radius, color, thickness)`` with ``LINE_8``.

    Examples
    --------
    >>> rows, cols = circle(20, 20, 10, 10, 2, 2)
    >>> int(rows.min()), int(rows.max())
    (7, 13)
    """
    if radius < 0:
        raise ValueError(f"circle radius must be >= 0, got {radius}")
    if thickness > MAX_THICKNESS:
        raise ValueError(f"thickness must be <= {MAX_THICKNESS}, got {thickness}")
    if thickness <= 1:
        return midpoint_circle(width, height, cx, cy, radius, fill=thickness < 0)
    dr, dc, margin = _circle_stamp(radius, thickness)
    if margin <= cx < width - margin and margin <= cy < height - margin:
        # Everything is integer arithmetic on offsets from the centre: far from the borders
        # (where clipping would change the edges) the pixels are the same at every centre.
        return cy + dr, cx + dc
    return _thick_circle(width, height, cx, cy, radius, thickness)


def line(width: int, height: int, x1: int, y1: int, x2: int, y2: int, thickness: int):
    """Pixels of ``cv2.line(img, (x1, y1), (x2, y2), color, thickness)`` with ``LINE_8``.

    Examples
    --------
    >>> rows, cols = line(10, 10, 1, 1, 6, 1, 1)
    >>> cols.tolist()
    [1, 2, 3, 4, 5, 6]
    """
    if not 0 < thickness <= MAX_THICKNESS:
        raise ValueError(f"line thickness must be in [1, {MAX_THICKNESS}], got {thickness}")
    return thick_line(width, height, (x1, y1), (x2, y2), thickness, 3, 0)
