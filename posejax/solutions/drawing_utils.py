"""Stand-in for ``mediapipe.solutions.drawing_utils`` (mediapipe 0.10.21), without OpenCV.

:func:`draw_landmarks` draws into the image the pixels MediaPipe's own function draws: MediaPipe
calls ``cv2.line`` and ``cv2.circle``, and :mod:`posejax.solutions._raster` reproduces their
integer rasterization (``LINE_8``) in NumPy. The rules are MediaPipe's:

* a landmark whose ``visibility`` or ``presence`` is set and below 0.5 is not drawn, nor is one
  outside ``[0, 1]`` in ``x`` or ``y``; its pixel is ``min(floor(x * width), width - 1)``
  (rows likewise);
* connections are drawn first, as ``thickness``-wide lines between the two landmarks' pixels
  when both are drawn; then each landmark as two rings of ``thickness``: a light grey one of
  radius ``max(circle_radius + 1, int(circle_radius * 1.2))``, then one of ``circle_radius`` in
  the landmark's colour (``thickness < 0`` fills them);
* colours are written as given, channel by channel: MediaPipe's constants are BGR, for OpenCV
  images; on an RGB image the same numbers land in R, G, B, exactly as with MediaPipe.

:func:`plot_landmarks` makes MediaPipe's matplotlib 3-D plot of (world) landmarks.

Landmark lists may be a posejax :class:`~posejax.solutions.pose.PoseResult` field
(``results.pose_landmarks``), a MediaPipe protobuf ``NormalizedLandmarkList``, anything with a
``.landmark`` sequence of objects with ``x``, ``y`` (and optionally ``z``, ``visibility``,
``presence``; ``HasField`` is used when present, else a field counts as set unless it is missing
or None), a plain sequence of such objects, or a NumPy array ``(N, k)`` of columns ``x, y[, z,
visibility, presence]`` such as ``track.landmarks[i]`` (NaN rows are not drawn).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

from posejax.solutions import _raster

__all__ = [
    "BLACK_COLOR",
    "BLUE_COLOR",
    "GREEN_COLOR",
    "RED_COLOR",
    "WHITE_COLOR",
    "DrawingSpec",
    "draw_landmarks",
    "plot_landmarks",
]

#: MediaPipe's colour constants (BGR, as OpenCV images are).
WHITE_COLOR = (224, 224, 224)
BLACK_COLOR = (0, 0, 0)
RED_COLOR = (0, 0, 255)
GREEN_COLOR = (0, 128, 0)
BLUE_COLOR = (255, 0, 0)

#: A landmark with visibility or presence set and below these is not drawn.
_VISIBILITY_THRESHOLD = 0.5
_PRESENCE_THRESHOLD = 0.5
_BGR_CHANNELS = 3


@dataclasses.dataclass
class DrawingSpec:
    """How to draw landmarks or connections, as MediaPipe's class of that name.

    Attributes
    ----------
    color : tuple of int
        Channel values written into the image (BGR for OpenCV images).
    thickness : int
        Line and ring thickness in pixels; negative fills the landmark circles.
    circle_radius : int
        Radius of the landmark circle in pixels.

    Examples
    --------
    >>> DrawingSpec(color=(0, 0, 255), thickness=1)
    DrawingSpec(color=(0, 0, 255), thickness=1, circle_radius=2)
    """

    color: tuple[int, int, int] = WHITE_COLOR
    thickness: int = 2
    circle_radius: int = 2


def _normalized_to_pixel_coordinates(normalized_x: float, normalized_y: float, image_width: int,
                                     image_height: int) -> tuple[int, int] | None:
    """Pixel of a normalized point, or None outside ``[0, 1]``, as MediaPipe computes it.

    Parameters
    ----------
    normalized_x, normalized_y : float
        Coordinates relative to the image width and height.
    image_width, image_height : int
        Image size in pixels.

    Returns
    -------
    tuple of int or None
        ``(min(floor(x * width), width - 1), min(floor(y * height), height - 1))``; None when a
        coordinate is NaN, below 0 or above 1 (values within ``math.isclose`` of 1 count as 1).

    Examples
    --------
    >>> _normalized_to_pixel_coordinates(0.5, 1.0, 640, 480)
    (320, 479)
    >>> _normalized_to_pixel_coordinates(-0.01, 0.5, 640, 480) is None
    True
    """

    def is_valid(value: float) -> bool:
        return (value > 0 or math.isclose(0, value)) and (value < 1 or math.isclose(1, value))

    if not (is_valid(normalized_x) and is_valid(normalized_y)):
        return None
    x_px = min(math.floor(normalized_x * image_width), image_width - 1)
    y_px = min(math.floor(normalized_y * image_height), image_height - 1)
    return x_px, y_px


def _field(landmark, name: str) -> float | None:
    """A landmark's optional field: its value if set, else None (protobuf ``HasField``)."""
    has_field = getattr(landmark, "HasField", None)
    if has_field is not None:
        return float(getattr(landmark, name)) if has_field(name) else None
    value = getattr(landmark, name, None)
    return None if value is None else float(value)


def _landmark_rows(landmark_list) -> list[tuple[float, float, float | None, float | None]]:
    """``(x, y, visibility or None, presence or None)`` of every landmark, in order."""
    if isinstance(landmark_list, np.ndarray):
        array = np.asarray(landmark_list, np.float64)
        if array.ndim != 2 or not 2 <= array.shape[1] <= 5:
            raise ValueError(
                f"landmark array must be (N, k) with columns x, y[, z, visibility, presence], "
                f"got shape {array.shape}; pass one frame, e.g. track.landmarks[i]")
        columns = [array[:, i] if array.shape[1] > i else [None] * len(array) for i in (3, 4)]
        return [(float(row[0]), float(row[1]),
                 None if vis is None else float(vis), None if pres is None else float(pres))
                for row, vis, pres in zip(array, *columns, strict=True)]
    landmarks = getattr(landmark_list, "landmark", landmark_list)
    try:
        landmarks = list(landmarks)
    except TypeError:
        raise TypeError(
            "landmark_list must have a .landmark sequence (results.pose_landmarks), be a "
            f"sequence of landmarks or an (N, k) array, got {type(landmark_list).__name__}"
        ) from None
    return [(float(lm.x), float(lm.y), _field(lm, "visibility"), _field(lm, "presence"))
            for lm in landmarks]


def _drawn_pixels(rows, width: int, height: int) -> dict[int, tuple[int, int]]:
    """Index -> pixel of the landmarks MediaPipe draws (visible, present, inside the image)."""
    pixels = {}
    for index, (x, y, visibility, presence) in enumerate(rows):
        if ((visibility is not None and visibility < _VISIBILITY_THRESHOLD)
                or (presence is not None and presence < _PRESENCE_THRESHOLD)):
            continue
        pixel = _normalized_to_pixel_coordinates(x, y, width, height)
        if pixel:
            pixels[index] = pixel
    return pixels


def _raw_color(color, dtype: np.dtype) -> np.ndarray:
    """A colour as the image's channel values: OpenCV pads with 0 and saturates."""
    values = np.zeros(_BGR_CHANNELS, np.float64)
    given = np.atleast_1d(np.asarray(color, np.float64))[:_BGR_CHANNELS]
    values[: len(given)] = given
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def _spec_for(spec, key):
    return spec[key] if isinstance(spec, Mapping) else spec


def draw_landmarks(image: np.ndarray, landmark_list, connections=None,
                   landmark_drawing_spec: DrawingSpec | Mapping[int, DrawingSpec] | None =
                   DrawingSpec(color=RED_COLOR),  # noqa: B008 (MediaPipe's default, never mutated)
                   connection_drawing_spec: DrawingSpec | Mapping[tuple[int, int], DrawingSpec]
                   | None = DrawingSpec(),  # noqa: B008
                   is_drawing_landmarks: bool = True) -> None:
    """Draw landmarks and their connections into an image, in place, where MediaPipe draws them.

    Parameters
    ----------
    image : ndarray (H, W, 3)
        The image to draw on (BGR or RGB, usually uint8); changed in place.
    landmark_list : landmark list or ndarray (N, k)
        ``results.pose_landmarks``, a MediaPipe ``NormalizedLandmarkList`` or an array of
        normalized ``x, y[, z, visibility, presence]`` rows (see the module docstring). Nothing
        is drawn when it is None.
    connections : iterable of (int, int), optional
        Pairs of landmark indices to join, e.g. ``mp.solutions.pose.POSE_CONNECTIONS``.
    landmark_drawing_spec : DrawingSpec or mapping of int to DrawingSpec, optional
        How to draw the landmarks (one spec, or one per index as
        ``drawing_styles.get_default_pose_landmarks_style()`` gives); None draws none.
    connection_drawing_spec : DrawingSpec or mapping of (int, int) to DrawingSpec, optional
        How to draw the connections; None draws none (as MediaPipe's docstring says; its code
        raises AttributeError there).
    is_drawing_landmarks : bool
        False draws the connections only.

    Raises
    ------
    ValueError
        If the image does not have three channels, a connection names a landmark that is not
        in the list, or a thickness is one OpenCV rejects (lines need 1 to 32767; MediaPipe
        raises ``cv2.error`` there).

    Examples
    --------
    >>> import posejax as mp
    >>> image = np.zeros((64, 64, 3), np.uint8)
    >>> points = np.array([[0.25, 0.25, 0.0, 0.9], [0.75, 0.75, 0.0, 0.9]])
    >>> mp.solutions.drawing_utils.draw_landmarks(image, points, [(0, 1)])
    >>> image[16, 16].tolist(), image[32, 32].tolist()  # a landmark (red in BGR), the line
    ([0, 0, 255], [224, 224, 224])
    """
    if landmark_list is None:
        return
    if not isinstance(landmark_list, np.ndarray) and not landmark_list:
        return
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != _BGR_CHANNELS:
        shape = getattr(image, "shape", None)
        raise ValueError(f"Input image must contain three channel bgr data; got shape {shape}")
    height, width = image.shape[:2]
    rows = _landmark_rows(landmark_list)
    pixels = _drawn_pixels(rows, width, height)
    if connections and connection_drawing_spec is not None:
        for connection in connections:
            start, end = connection[0], connection[1]
            if not (0 <= start < len(rows) and 0 <= end < len(rows)):
                raise ValueError(f"Landmark index is out of range. Invalid connection from "
                                 f"landmark #{start} to landmark #{end}.")
            if start in pixels and end in pixels:
                spec = _spec_for(connection_drawing_spec, connection)
                covered = _raster.line(width, height, *pixels[start], *pixels[end],
                                       int(spec.thickness))
                image[covered] = _raw_color(spec.color, image.dtype)
    if is_drawing_landmarks and landmark_drawing_spec:
        ring = _raw_color(WHITE_COLOR, image.dtype)
        for index, (x_px, y_px) in pixels.items():
            spec = _spec_for(landmark_drawing_spec, index)
            radius = int(spec.circle_radius)
            border = max(radius + 1, int(spec.circle_radius * 1.2))
            image[_raster.circle(width, height, x_px, y_px, border, int(spec.thickness))] = ring
            covered = _raster.circle(width, height, x_px, y_px, radius, int(spec.thickness))
            image[covered] = _raw_color(spec.color, image.dtype)


def _normalize_color(color) -> tuple[float, ...]:
    return tuple(v / 255.0 for v in color)


def plot_landmarks(landmark_list, connections=None,
                   landmark_drawing_spec: DrawingSpec =
                   DrawingSpec(color=RED_COLOR, thickness=5),  # noqa: B008
                   connection_drawing_spec: DrawingSpec =
                   DrawingSpec(color=BLACK_COLOR, thickness=5),  # noqa: B008
                   elevation: int = 10, azimuth: int = 10, *, ax=None):
    """Plot landmarks and their connections in matplotlib 3-D, as MediaPipe does.

    The axes show ``-z``, ``x`` and ``-y`` (MediaPipe's view); colours are the specs' BGR
    colours shown as RGB. Landmarks with visibility or presence set and below 0.5 are left out.
    Without ``ax`` a new 10 x 10 inch figure is made and ``plt.show()`` is called, as in
    MediaPipe.

    Parameters
    ----------
    landmark_list : landmark list or ndarray (N, k)
        Usually ``results.pose_world_landmarks`` (metres); as for :func:`draw_landmarks`, with
        ``z`` taken from the third column of an array. Nothing is plotted when it is None.
    connections : iterable of (int, int), optional
    landmark_drawing_spec, connection_drawing_spec : DrawingSpec
        Colour and line width (``thickness``) of the points and of the connections.
    elevation, azimuth : int
        View angles in degrees.
    ax : matplotlib 3-D Axes, optional
        Draw into these axes instead (posejax addition); ``plt.show()`` is then not called.

    Returns
    -------
    mpl_toolkits.mplot3d.axes3d.Axes3D or None
        The axes (MediaPipe returns None); None when ``landmark_list`` is None.

    Raises
    ------
    ValueError
        If a connection names a landmark that is not in the list.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> points = np.array([[0.0, -0.5, 0.0, 0.9], [0.1, 0.0, 0.05, 0.9]])
    >>> ax = plot_landmarks(points, [(0, 1)])
    >>> len(ax.lines)
    1
    """
    import matplotlib.pyplot as plt

    if landmark_list is None:
        return None
    if not isinstance(landmark_list, np.ndarray) and not landmark_list:
        return None
    if isinstance(landmark_list, np.ndarray):
        array = np.asarray(landmark_list, np.float64)
        depth = array[:, 2] if array.ndim == 2 and array.shape[1] > 2 else None
    else:
        marks = list(getattr(landmark_list, "landmark", landmark_list))
        depth = [float(getattr(lm, "z", 0.0)) for lm in marks]
    rows = _landmark_rows(landmark_list)
    if depth is None:
        depth = [0.0] * len(rows)
    show = ax is None
    if ax is None:
        plt.figure(figsize=(10, 10))
        ax = plt.axes(projection="3d")
    ax.view_init(elev=elevation, azim=azimuth)
    plotted = {}
    for index, ((x, y, visibility, presence), z) in enumerate(zip(rows, depth, strict=True)):
        if ((visibility is not None and visibility < _VISIBILITY_THRESHOLD)
                or (presence is not None and presence < _PRESENCE_THRESHOLD)):
            continue
        ax.scatter3D(xs=[-z], ys=[x], zs=[-y],
                     color=_normalize_color(landmark_drawing_spec.color[::-1]),
                     linewidth=landmark_drawing_spec.thickness)
        plotted[index] = (-z, x, -y)
    if connections:
        for connection in connections:
            start, end = connection[0], connection[1]
            if not (0 <= start < len(rows) and 0 <= end < len(rows)):
                raise ValueError(f"Landmark index is out of range. Invalid connection from "
                                 f"landmark #{start} to landmark #{end}.")
            if start in plotted and end in plotted:
                a, b = plotted[start], plotted[end]
                ax.plot3D(xs=[a[0], b[0]], ys=[a[1], b[1]], zs=[a[2], b[2]],
                          color=_normalize_color(connection_drawing_spec.color[::-1]),
                          linewidth=connection_drawing_spec.thickness)
    if show:
        plt.show()
    return ax
