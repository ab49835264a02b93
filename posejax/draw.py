"""Drawing poses: skeleton overlays, 3-D world landmarks, segmentation masks, annotated videos.

Colours and rules follow MediaPipe's ``drawing_utils`` with its default pose style: landmarks on
the subject's left in orange, right in cyan, the nose and the connections in light grey, each
landmark ringed in light grey; a landmark is skipped when its visibility or presence is below
0.5, and so are its connections.

The matplotlib functions take ``ax=None`` and return the axes (matplotlib itself is imported
when one is called, so ``import posejax`` does not pay for it). :func:`render_skeleton` draws
into a NumPy image (no matplotlib), which is what :func:`annotate_video` uses frame by frame;
:func:`time_series` draws the curves of ``df.pose.plot``.

Several people (one frame of a multi-person track, ``(N, 33, k)``) are drawn each in its own
colour of :data:`PERSON_COLORS`, with its name above its head; one person keeps MediaPipe's.

At about 650 lines this module is over the house's 500 lines: figures and pixel overlays share
the style constants, the landmark checks and the per-person colours and labels, and a user looks
for every drawing function in one place (as in MediaPipe's ``drawing_utils``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from posejax.io._paths import refuse_input_as_output
from posejax.io.video import VideoWriter, read_video
from posejax.landmarks import LEFT_LANDMARKS, NUM_LANDMARKS, POSE_CONNECTIONS, RIGHT_LANDMARKS
from posejax.result import PoseTrack

#: MediaPipe's default pose style in RGB (``drawing_styles.py`` lists them as BGR).
LEFT_COLOR = (255, 138, 0)
RIGHT_COLOR = (0, 217, 231)
NOSE_COLOR = (224, 224, 224)
CONNECTION_COLOR = (224, 224, 224)
RING_COLOR = (224, 224, 224)
#: Default colour of :func:`mask` overlays.
MASK_COLOR = (0, 120, 255)

VISIBILITY_THRESHOLD = 0.5
PRESENCE_THRESHOLD = 0.5


def landmark_colors() -> np.ndarray:
    """``(33, 3)`` uint8 RGB colour of every landmark in MediaPipe's default pose style.

    Example
    -------
    >>> landmark_colors()[25].tolist()  # left knee
    [255, 138, 0]
    """
    colors = np.empty((NUM_LANDMARKS, 3), np.uint8)
    colors[:] = NOSE_COLOR
    colors[sorted(LEFT_LANDMARKS)] = LEFT_COLOR
    colors[sorted(RIGHT_LANDMARKS)] = RIGHT_COLOR
    return colors


#: Colours of the people of a multi-person track, slot by slot (matplotlib's ``tab10``, in RGB);
#: a track of more people starts the list again.
PERSON_COLORS = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)  # fmt: skip


def person_color(index: int) -> tuple[int, int, int]:
    """RGB colour of person slot ``index`` of a multi-person drawing (:data:`PERSON_COLORS`).

    Example
    -------
    >>> person_color(0), person_color(1)
    ((31, 119, 180), (255, 127, 14))
    """
    return PERSON_COLORS[int(index) % len(PERSON_COLORS)]


def _people(landmarks, labels) -> tuple[list[np.ndarray], list[str | None], bool]:
    """``(per-person (33, k) arrays, their labels, several)`` of one frame's landmarks.

    ``(33, k)`` is one person drawn in MediaPipe's colours; ``(N, 33, k)`` is N people, each in
    its own colour with its label (its slot number by default).
    """
    array = np.asarray(landmarks, np.float64)
    if array.ndim != 3:
        return [array], [labels if isinstance(labels, str) else None], False
    if labels is None:
        labels = [str(k) for k in range(len(array))]
    labels = [None if label is None else str(label) for label in labels]
    if len(labels) != len(array):
        raise ValueError(f"{len(labels)} labels for {len(array)} people")
    return list(array), labels, True


def _label_anchor(landmarks: np.ndarray, keep: np.ndarray) -> tuple[float, float] | None:
    """Normalized ``(x, y)`` above the head: the nose, else the highest landmark drawn."""
    if not keep.any():
        return None
    head = [i for i in range(11) if keep[i]] or list(np.flatnonzero(keep))
    top = min(head, key=lambda i: landmarks[i, 1])
    x = landmarks[0, 0] if keep[0] else landmarks[top, 0]
    return float(x), float(landmarks[top, 1])


def _check_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (3, 4) or 0 in image.shape:
        raise ValueError(f"image must be (H, W, 3) RGB, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8 RGB, got {image.dtype}")
    return image[..., :3]


def _check_landmarks(landmarks, last_axis=(2, 3, 4, 5)) -> np.ndarray:
    landmarks = np.asarray(landmarks, np.float64)
    if landmarks.ndim != 2 or landmarks.shape[0] != 33 or landmarks.shape[1] not in last_axis:
        raise ValueError(
            f"landmarks must be (33, k) with k in {last_axis} (x, y[, z, visibility, presence]), "
            f"got shape {landmarks.shape}; pass one frame, e.g. track.landmarks[i]"
        )
    return landmarks


def drawn_landmarks(
    landmarks,
    visibility_threshold: float = VISIBILITY_THRESHOLD,
    presence_threshold: float = PRESENCE_THRESHOLD,
) -> np.ndarray:
    """Which of 33 image landmarks MediaPipe draws: finite, inside the image, visible, present.

    Parameters
    ----------
    landmarks : array (33, k)
        Normalized ``x, y`` and optionally ``z, visibility, presence``.

    Returns
    -------
    ndarray of bool (33,)

    Example
    -------
    >>> points = np.full((33, 5), 0.5)
    >>> points[0, 3] = 0.2  # the nose is hardly visible
    >>> drawn_landmarks(points)[:2].tolist()
    [False, True]
    """
    landmarks = _check_landmarks(landmarks)
    xy = landmarks[:, :2]
    keep = np.all(np.isfinite(xy), axis=1) & np.all((xy >= 0) & (xy <= 1), axis=1)
    if landmarks.shape[1] >= 4:
        keep &= ~(landmarks[:, 3] < visibility_threshold)
    if landmarks.shape[1] >= 5:
        keep &= ~(landmarks[:, 4] < presence_threshold)
    return keep


def _default_sizes(height: int, width: int) -> tuple[float, float]:
    """Line width and landmark radius in pixels: MediaPipe's 2 px, grown for large images."""
    side = min(height, width)
    return max(2.0, side / 240), max(2.0, side / 160)


def _image_axes(height: int, width: int, ax):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    dpi = 100
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    # One figure pixel per image pixel, so what is drawn can be read back pixel by pixel.
    return fig.add_axes((0, 0, 1, 1))


def _points_per_pixel(ax, width: int) -> float:
    fig = ax.figure
    extent = ax.get_window_extent()
    return extent.width / width * 72 / fig.dpi


def skeleton(
    image,
    landmarks,
    ax=None,
    connections=POSE_CONNECTIONS,
    visibility_threshold: float = VISIBILITY_THRESHOLD,
    presence_threshold: float = PRESENCE_THRESHOLD,
    line_width: float | None = None,
    radius: float | None = None,
    labels=None,
):
    """Overlay a pose skeleton on an image in MediaPipe's default colours.

    Several people (``landmarks`` of shape ``(N, 33, k)``, one frame of a multi-person track)
    are drawn each in its own colour (:func:`person_color`) with its label above the head.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        RGB image (grey ``(H, W)`` is accepted).
    landmarks : array (33, k) or (N, 33, k)
        One frame's landmarks: normalized ``x, y`` and optionally ``z, visibility, presence``,
        e.g. ``track.landmarks[i]``. Landmarks below the thresholds, outside the image or NaN
        are not drawn, nor are their connections. ``(N, 33, k)``: N people.
    ax : matplotlib Axes, optional
        Without one, a figure of exactly the image's size in pixels is made.
    connections : iterable of (int, int)
        Edges to draw (MediaPipe's ``POSE_CONNECTIONS`` by default).
    visibility_threshold, presence_threshold : float
    line_width, radius : float, optional
        In image pixels; by default 2 px, more for large images.
    labels : list of str, optional
        Several people: the name written above each head (``track.individuals``); by default
        the slot numbers.

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> ax = skeleton(frame, track.landmarks[0])  # doctest: +SKIP
    >>> ax.figure.savefig("pose.png")  # doctest: +SKIP
    >>> ax = skeleton(frame, two.landmarks[0], labels=two.individuals)  # doctest: +SKIP
    """
    image = _check_image(image)
    people, names, several = _people(landmarks, labels)
    people = [_check_landmarks(person) for person in people]
    height, width = image.shape[:2]
    ax = _image_axes(height, width, ax)
    ax.imshow(image)
    ax.set_axis_off()
    default_line, default_radius = _default_sizes(height, width)
    line_width = default_line if line_width is None else line_width
    radius = default_radius if radius is None else radius
    scale = _points_per_pixel(ax, width)
    for index, (person, name) in enumerate(zip(people, names, strict=True)):
        color = person_color(index) if several else None
        _skeleton_into(ax, person, connections, visibility_threshold, presence_threshold,
                       line_width, radius, scale, color, name, (height, width))  # fmt: skip
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    return ax


def _skeleton_into(ax, landmarks, connections, visibility_threshold, presence_threshold,
                   line_width, radius, scale, color, label, size) -> None:
    """One person's skeleton on ``ax``: MediaPipe's colours, or all in ``color`` with a label."""
    from matplotlib.collections import LineCollection

    height, width = size
    keep = drawn_landmarks(landmarks, visibility_threshold, presence_threshold)
    # imshow puts pixel i's centre at i, so the normalized edge 0 sits at -0.5.
    xy = landmarks[:, :2] * (width, height) - 0.5
    segments = [(xy[a], xy[b]) for a, b in _checked_connections(connections) if keep[a] and keep[b]]
    if segments:
        ax.add_collection(
            LineCollection(
                segments,
                colors=[np.array(CONNECTION_COLOR if color is None else color) / 255],
                linewidths=line_width * scale,
                capstyle="round",
                zorder=2,
            )
        )
    if color is None:
        colors = landmark_colors()[keep] / 255
    else:
        colors = np.broadcast_to(np.array(color) / 255, (int(keep.sum()), 3))
    ring = radius + max(1.0, radius * 0.2)
    ax.scatter(
        *xy[keep].T,
        s=(2 * ring * scale) ** 2,
        c=[np.array(RING_COLOR) / 255],
        linewidths=0,
        zorder=3,
    )
    ax.scatter(*xy[keep].T, s=(2 * radius * scale) ** 2, c=colors, linewidths=0, zorder=4)
    anchor = _label_anchor(landmarks, keep) if label is not None else None
    if anchor is not None:
        ax.annotate(label, (anchor[0] * width - 0.5, anchor[1] * height - 0.5),
                    xytext=(0, 6 + 2 * radius * scale), textcoords="offset points",
                    ha="center", va="bottom", color=np.array(color) / 255, fontweight="bold",
                    fontsize=max(8.0, 6 * radius * scale), zorder=5)  # fmt: skip


def _checked_connections(connections) -> list[tuple[int, int]]:
    pairs = [(int(a), int(b)) for a, b in connections]
    for a, b in pairs:
        if not (0 <= a < 33 and 0 <= b < 33):
            raise ValueError(f"connection ({a}, {b}) names a landmark outside [0, 33)")
    return pairs


def world(
    world_landmarks,
    ax=None,
    connections=POSE_CONNECTIONS,
    visibility_threshold: float = VISIBILITY_THRESHOLD,
    elevation: float = 10,
    azimuth: float = 10,
):
    """3-D plot of world landmarks (metres, origin between the hips), as MediaPipe plots them.

    The axes show ``-z`` (depth, towards the camera), ``x`` and ``-y`` (up), MediaPipe's
    ``plot_landmarks`` view, with equal scales on all three.

    Parameters
    ----------
    world_landmarks : array (33, 3) or (33, 4)
        One frame's world ``x, y, z`` and optionally visibility (``track.world_landmarks[i]``).
    ax : matplotlib 3-D Axes, optional
    connections : iterable of (int, int)
    visibility_threshold : float
    elevation, azimuth : float
        Initial view in degrees.

    Returns
    -------
    mpl_toolkits.mplot3d.axes3d.Axes3D

    Example
    -------
    >>> ax = world(track.world_landmarks[0])  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    points = _check_landmarks(world_landmarks, last_axis=(3, 4))
    if ax is None:
        fig = plt.figure(figsize=(5, 5))
        ax = fig.add_subplot(projection="3d")
    elif getattr(ax, "name", None) != "3d":
        raise ValueError("world() needs 3-D axes: fig.add_subplot(projection='3d')")
    keep = np.all(np.isfinite(points[:, :3]), axis=1)
    if points.shape[1] == 4:
        keep &= ~(points[:, 3] < visibility_threshold)
    shown = np.stack([-points[:, 2], points[:, 0], -points[:, 1]], axis=-1)
    for a, b in _checked_connections(connections):
        if keep[a] and keep[b]:
            ax.plot(*shown[[a, b]].T, color="0.35", linewidth=2)
    colors = landmark_colors()[keep] / 255
    ax.scatter(*shown[keep].T, c=colors, s=25, edgecolors="0.35", linewidths=0.5, depthshade=False)
    if keep.any():
        centre = (shown[keep].max(axis=0) + shown[keep].min(axis=0)) / 2
        half = max(float(np.ptp(shown[keep], axis=0).max()) / 2, 0.1)
        for setter, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre, strict=True):
            setter(c - half, c + half)
    ax.set_box_aspect((1, 1, 1))
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(4))
    ax.view_init(elev=elevation, azim=azimuth)
    ax.set_xlabel("-z (m)")
    ax.set_ylabel("x (m)")
    ax.set_zlabel("-y (m)")
    return ax


def time_series(times, curves, groups=None, ax=None, xlabel: str = "time (s)",
                ylabel: str | None = None, **kwargs):
    """Curves over time, one line per curve and group (video) of rows: ``df.pose.plot``'s figure.

    Parameters
    ----------
    times : array (F,)
        Time of each row, in seconds.
    curves : dict of str to array (F,)
        Label and values of each curve.
    groups : list of (str, array of int), optional
        Rows of each video in time order, and the label prefix of its lines (``""`` for none);
        all rows in order by default.
    ax : matplotlib Axes, optional
    xlabel, ylabel : str, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> t = np.linspace(0, 2, 50)
    >>> ax = time_series(t, {"left_knee": 90 + 60 * np.cos(np.pi * t)}, ylabel="degrees")
    >>> [line.get_label() for line in ax.get_lines()]
    ['left_knee']
    """
    import matplotlib.pyplot as plt

    times = np.asarray(times, np.float64)
    if groups is None:
        groups = [("", np.arange(len(times)))]
    if ax is None:
        # Constrained layout keeps the axis labels inside the figure for a plain savefig().
        _, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    for label, rows in groups:
        prefix = f"{label}: " if label else ""
        for name, values in curves.items():
            values = np.asarray(values)
            ax.plot(times[rows], values[rows], label=prefix + str(name), **kwargs)
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if len(ax.get_lines()) > 1:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax


def mask(
    image, mask, ax=None, color=MASK_COLOR, alpha: float = 0.5, threshold: float | None = None
):
    """Overlay a segmentation mask (person probability per pixel) on an image.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
    mask : array (H, W)
        Values in [0, 1] (NaN counts as 0), e.g. ``track.segmentation_mask[i]``.
    ax : matplotlib Axes, optional
        Without one, a figure of exactly the image's size in pixels is made.
    color : (int, int, int)
        RGB colour of the person.
    alpha : float
        Opacity of the colour where the mask is 1.
    threshold : float, optional
        Colour only pixels with ``mask >= threshold``, at full ``alpha``.

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> ax = mask(frame, track.segmentation_mask[0])  # doctest: +SKIP
    """
    image = _check_image(image)
    ax = _image_axes(*image.shape[:2], ax)
    ax.imshow(blend_mask(image, mask, color=color, alpha=alpha, threshold=threshold))
    ax.set_axis_off()
    return ax


def blend_mask(
    image, mask, color=MASK_COLOR, alpha: float = 0.5, threshold: float | None = None
) -> np.ndarray:
    """The image with ``color`` blended in where ``mask`` is high (see :func:`mask`).

    Example
    -------
    >>> image = np.zeros((2, 2, 3), np.uint8)
    >>> blend_mask(image, np.eye(2), color=(200, 0, 0), alpha=0.5)[0, 0].tolist()
    [100, 0, 0]
    """
    image = _check_image(image)
    weights = np.nan_to_num(np.asarray(mask, np.float64), nan=0.0)
    if weights.shape != image.shape[:2]:
        raise ValueError(f"mask has shape {weights.shape}, the image {image.shape[:2]}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if threshold is not None:
        weights = (weights >= threshold).astype(np.float64)
    weights = np.clip(weights, 0, 1)[..., None] * alpha
    blended = image * (1 - weights) + np.asarray(color, np.float64) * weights
    return np.round(blended).astype(np.uint8)


# -- drawing into pixels -------------------------------------------------------------------------


def _disk(radius: float) -> tuple[np.ndarray, np.ndarray]:
    r = int(np.ceil(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    inside = dy**2 + dx**2 <= radius**2 + 1e-9
    return dy[inside], dx[inside]


def _stamp(canvas: np.ndarray, rows: np.ndarray, cols: np.ndarray, radius: float, color) -> None:
    dy, dx = _disk(radius)
    ys = (np.round(rows)[:, None] + dy).reshape(-1).astype(np.int64)
    xs = (np.round(cols)[:, None] + dx).reshape(-1).astype(np.int64)
    inside = (ys >= 0) & (ys < canvas.shape[0]) & (xs >= 0) & (xs < canvas.shape[1])
    canvas[ys[inside], xs[inside]] = color


def render_skeleton(
    image,
    landmarks,
    connections=POSE_CONNECTIONS,
    visibility_threshold: float = VISIBILITY_THRESHOLD,
    presence_threshold: float = PRESENCE_THRESHOLD,
    line_width: float | None = None,
    radius: float | None = None,
    labels=None,
) -> np.ndarray:
    """A copy of the image with the skeleton drawn into its pixels (no matplotlib).

    Same rules and colours as :func:`skeleton`; landmarks sit at MediaPipe's pixel
    ``min(floor(x * W), W - 1)``. Landmarks that are all NaN (no pose) leave the image as is.
    Several people (``(N, 33, k)``) are drawn each in its own colour (:func:`person_color`),
    its label written above its head.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
    landmarks : array (33, k) or (N, 33, k)
        Normalized ``x, y`` and optionally ``z, visibility, presence``; N people.
    labels : list of str, optional
        Several people: their names (``track.individuals``); by default the slot numbers.

    Returns
    -------
    ndarray (H, W, 3) uint8

    Example
    -------
    >>> frame = render_skeleton(frame, track.landmarks[0])  # doctest: +SKIP
    >>> frame = render_skeleton(frame, two.landmarks[0], labels=two.individuals)  # doctest: +SKIP
    """
    image = _check_image(image)
    people, names, several = _people(landmarks, labels)
    people = [_check_landmarks(person) for person in people]
    canvas = image.copy()
    height, width = canvas.shape[:2]
    default_line, default_radius = _default_sizes(height, width)
    line_width = default_line if line_width is None else line_width
    radius = default_radius if radius is None else radius
    for index, (person, name) in enumerate(zip(people, names, strict=True)):
        color = person_color(index) if several else None
        _render_person(canvas, person, connections, visibility_threshold, presence_threshold,
                       line_width, radius, color, name)  # fmt: skip
    return canvas


def _render_person(canvas, landmarks, connections, visibility_threshold, presence_threshold,
                   line_width, radius, color, label) -> None:
    """One person's skeleton into ``canvas``: MediaPipe's colours, or ``color`` and a label."""
    height, width = canvas.shape[:2]
    keep = drawn_landmarks(landmarks, visibility_threshold, presence_threshold)
    if not keep.any():
        return
    cols = np.minimum(np.floor(landmarks[:, 0] * width), width - 1)
    rows = np.minimum(np.floor(landmarks[:, 1] * height), height - 1)
    for a, b in _checked_connections(connections):
        if keep[a] and keep[b]:
            steps = int(np.ceil(max(abs(rows[b] - rows[a]), abs(cols[b] - cols[a])))) + 1
            t = np.linspace(0, 1, steps)
            _stamp(
                canvas,
                rows[a] + t * (rows[b] - rows[a]),
                cols[a] + t * (cols[b] - cols[a]),
                line_width / 2,
                CONNECTION_COLOR if color is None else color,
            )
    ring = radius + max(1.0, radius * 0.2)
    colors = landmark_colors() if color is None else np.tile(np.uint8(color), (NUM_LANDMARKS, 1))
    for index in np.flatnonzero(keep):
        _stamp(canvas, rows[[index]], cols[[index]], ring, RING_COLOR)
        _stamp(canvas, rows[[index]], cols[[index]], radius, colors[index])
    anchor = _label_anchor(landmarks, keep) if label is not None else None
    if anchor is not None:
        _write_label(canvas, label, anchor, color, radius)


def _write_label(canvas: np.ndarray, text: str, anchor, color, radius: float) -> None:
    """``text`` in ``color`` centred above the normalized ``anchor`` (Pillow's default font)."""
    from PIL import Image, ImageDraw, ImageFont

    height, width = canvas.shape[:2]
    size = max(10, int(round(4 * radius)))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one bitmap size
        font = ImageFont.load_default()
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    stroke = max(1, size // 8)
    x, y = anchor[0] * width, anchor[1] * height - 2 * radius - 2
    left, top, right, _ = draw.textbbox((x, y), text, font=font, anchor="md", stroke_width=stroke)
    # Kept inside the image: a head at the top edge gets its label over it.
    x += max(0.0, -left) - max(0.0, right - (width - 1))
    y += max(0.0, -top)
    draw.text((x, y), text, fill=tuple(int(c) for c in color), font=font, anchor="md",
              stroke_width=stroke, stroke_fill=(0, 0, 0))  # fmt: skip
    canvas[:] = np.asarray(picture)


def annotate_video(src, track, dst, progress: bool = True, **style) -> Path:
    """Write a copy of a video with the tracked skeleton drawn on every frame (H.264 MP4).

    Parameters
    ----------
    src : str or os.PathLike
        The video that was tracked.
    track : PoseTrack
        Its track (one video; as many frames as the video). A multi-person track draws each
        person in its own colour with its name above the head.
    dst : str or os.PathLike
        Output file, e.g. ``"annotated.mp4"``.
    progress : bool
        Show a progress bar.
    **style
        ``line_width``, ``radius``, thresholds: see :func:`render_skeleton`.

    Returns
    -------
    pathlib.Path

    Example
    -------
    >>> track = posejax.track("squats.mp4")  # doctest: +SKIP
    >>> annotate_video("squats.mp4", track, "squats_pose.mp4")  # doctest: +SKIP
    """
    if not isinstance(track, PoseTrack):
        raise TypeError(f"track must be a PoseTrack, got {type(track).__name__}")
    if track.is_batch:
        raise ValueError("annotate_video draws one video; pass track.video(i)")
    if not isinstance(dst, (str, os.PathLike)):
        raise TypeError(f"dst must be a str or os.PathLike, got {type(dst).__name__}")
    refuse_input_as_output(dst, [src], "dst")
    video = read_video(src)
    if video.n_frames != track.n_frames:
        raise ValueError(
            f"{str(video.path)!r} has {video.n_frames} frames but the track has {track.n_frames}"
        )
    fps = video.fps if np.isfinite(video.fps) and video.fps > 0 else track.fps
    # Several people: each in its own colour, named above the head.
    people = {} if track.individuals is None else {"labels": list(track.individuals)}
    index = 0
    with (
        VideoWriter(dst, fps=fps) as writer,
        tqdm(
            total=track.n_frames, unit="frame", disable=not progress, desc="annotate_video"
        ) as bar,
    ):
        for chunk in video:
            drawn = np.stack(
                [
                    render_skeleton(frame, track.landmarks[index + i], **people, **style)
                    for i, frame in enumerate(chunk)
                ]
            )
            writer.write(drawn)
            index += len(chunk)
            bar.update(len(chunk))
        if index != track.n_frames:  # inside the block: the short video is not kept
            raise ValueError(
                f"{str(video.path)!r} decoded {index} frames, the track has {track.n_frames}"
            )
    return writer.path
