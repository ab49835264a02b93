"""A :class:`~posejax.result.PoseTrack` to a pose DataFrame and back, and layout to layout.

The layouts are described in :mod:`posejax.tables.layouts`. A track goes to any layout with
:func:`track_to_dataframe`; :func:`track_from_dataframe` rebuilds it exactly (segmentation masks
excepted) from what the table and its ``df.attrs`` hold; :func:`convert_layout` turns one layout
into another.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from posejax.landmarks import NUM_LANDMARKS
from posejax.result import PoseTrack
from posejax.tables.layouts import COORDS, LAYOUTS, UNITS, WIDTH_SCALED, PoseTable, parse_table


def _track_attrs(track, units: str) -> dict:
    sizes = np.asarray(track.image_sizes)
    attrs = {
        "fps": float(track.fps),
        "model_complexity": int(track.model_complexity),
        "units": units,
        "video_names": None if track.video_names is None else list(track.video_names),
        "rois": np.asarray(track.rois, np.float32).copy(),
    }
    unique = np.unique(sizes.reshape(-1, 2), axis=0)
    if len(unique) == 1:
        attrs["image_size"] = (int(unique[0, 0]), int(unique[0, 1]))
    else:
        attrs["image_sizes"] = sizes.astype(np.int64).copy()
    return attrs


def _video_labels(track) -> list[str]:
    if track.video_names is not None:
        return [str(name) for name in track.video_names]
    return [str(i) for i in range(track.batch_size)]


def track_to_dataframe(
    track, layout: str = "long", units: str = "normalized", scorer: str | None = None
) -> pd.DataFrame:
    """A :class:`~posejax.result.PoseTrack` as a DataFrame.

    Parameters
    ----------
    track : PoseTrack
        One video ``(T, ...)`` or a batch ``(B, T, ...)``.
    layout : {"long", "wide", "dlc"}
        ``long``: one row per frame and landmark with columns ``[video,] frame, time, landmark,
        x, y, z, visibility, presence, world_x, world_y, world_z, world_visibility`` (the world
        landmarks' visibility is smoothed by its own filter, so it differs slightly).
        ``wide``: one row per frame, MultiIndex columns ``(landmark, coord)``.
        ``dlc``: DeepLabCut's table (pixel ``x, y``, ``likelihood`` = visibility; one video
        only; lossy).
    units : {"normalized", "px"}
        ``normalized``: ``x, y`` as fractions of the image width and height, ``z`` on ``x``'s
        scale (MediaPipe's convention). ``px``: ``x, y, z`` multiplied by the image width,
        height and width. World coordinates are always metres. ``dlc`` is always in pixels.
    scorer : str, optional
        Wide layout only: add a top column level with this name and call the levels
        ``(scorer, bodyparts, coords)`` as DeepLabCut does. ``dlc`` uses ``"posejax"`` by default.

    Returns
    -------
    pandas.DataFrame
        Frame rate, image size, model complexity, video names, ROIs (and the wide layout's
        per-frame times) are in ``df.attrs``, so :func:`track_from_dataframe` restores the track
        exactly (segmentation masks excepted).

    Example
    -------
    >>> df = track_to_dataframe(track)
    >>> df.shape
    (7590, 12)
    >>> df.columns[:5].tolist()
    ['frame', 'time', 'landmark', 'x', 'y']
    >>> track_to_dataframe(track, "wide", units="px").shape
    (230, 297)
    >>> df[df.landmark == "left_knee"].plot(x="time", y="y")
    <Axes: xlabel='time'>
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if units not in UNITS:
        raise ValueError(f"units must be one of {UNITS}, got {units!r}")
    if scorer is not None and layout == "long":
        raise ValueError("scorer applies to the wide and dlc layouts, not to long")
    if layout == "dlc":
        if track.is_batch:
            raise ValueError("a DeepLabCut table holds one video; pass track.video(i)")
        units = "px"
    n_videos = track.batch_size
    landmarks = np.asarray(track.landmarks).reshape(n_videos, track.n_frames, NUM_LANDMARKS, 5)
    world = np.asarray(track.world_landmarks).reshape(n_videos, track.n_frames, NUM_LANDMARKS, 4)
    values = np.concatenate([landmarks, world], axis=-1)
    if units == "px":
        sizes = np.asarray(track.image_sizes, np.float64).reshape(n_videos, track.n_frames, 1, 2)
        values = values.astype(np.float64)
        for coord in WIDTH_SCALED:
            values[..., COORDS.index(coord)] *= sizes[..., 1]
        values[..., COORDS.index("y")] *= sizes[..., 0]
    times = np.asarray(track.timestamps, np.float64).reshape(n_videos, track.n_frames)
    table = PoseTable(
        values={c: values[..., i].reshape(-1, NUM_LANDMARKS) for i, c in enumerate(COORDS)},
        frames=np.tile(np.arange(track.n_frames), n_videos),
        videos=np.repeat(np.arange(n_videos), track.n_frames) if track.is_batch else None,
        video_labels=_video_labels(track) if track.is_batch else None,
        times=times.reshape(-1),
        attrs=_track_attrs(track, units),
        layout=layout,
        scorer=scorer if layout != "dlc" else (scorer or "posejax"),
    )
    if layout != "long":
        table.attrs["timestamps"] = times.reshape(np.shape(track.timestamps)).copy()
    return table.to_frame()



def track_from_dataframe(
    df: pd.DataFrame, *, fps: float | None = None, image_size: tuple[int, int] | None = None
):
    """Rebuild a :class:`~posejax.result.PoseTrack` from a long, wide or DeepLabCut table.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`track_to_dataframe` (any layout), possibly with rows selected, or a
        DeepLabCut table (then ``z``, ``presence`` and world coordinates are NaN).
    fps : float, optional
        Frame rate when ``df.attrs`` lacks it.
    image_size : (int, int), optional
        ``(height, width)`` when ``df.attrs`` lacks it (needed for pixel units).

    Returns
    -------
    PoseTrack
        Frame ``k`` of the track is the table's frame ``k``: frame numbers and times come from
        the table, never from the order of its rows. Frames the table lacks (rows removed with
        ``dropna`` or a filter, a range cut out) are frames without a pose; the track is as long
        as the video its ``attrs`` describe, else up to the highest frame number. Their times
        come from ``attrs["timestamps"]`` where recorded, else from the neighbouring frames.
        Landmarks whose rows were removed from a long table are NaN in their frame.
        ``pose_present`` is true on frames with any finite ``x``. Segmentation masks are not
        stored in tables, so ``segmentation_mask`` is None.

    Raises
    ------
    ValueError
        When the table lacks ``x`` or ``y``, has a landmark twice in one frame (several videos
        without a ``video`` column), negative frame numbers, or no frame rate.

    Example
    -------
    >>> again = track_from_dataframe(track.to_dataframe("wide"))
    >>> bool(np.array_equal(again.landmarks, track.landmarks, equal_nan=True))
    True
    """
    table = parse_table(df)
    if fps is not None:
        table.attrs["fps"] = float(fps)
    if image_size is not None:
        table.attrs["image_size"] = tuple(int(v) for v in image_size)
        table.attrs.pop("image_sizes", None)
    if table.units not in UNITS:
        raise ValueError(
            f"a table in {table.units!r} units cannot become a PoseTrack (only normalized or px)"
        )
    if "fps" not in table.attrs:
        raise ValueError("the frame rate is unknown: pass fps= or set df.attrs['fps']")
    if "x" not in table.values or "y" not in table.values:
        missing = [c for c in ("x", "y") if c not in table.values]
        raise ValueError(
            f"the table has no {' or '.join(repr(c) for c in missing)} coordinates, which a "
            "pose track needs (was the column dropped?); its coordinate columns are "
            f"{list(table.values)}"
        )
    if len(table.frames) and table.frames.min() < 0:
        raise ValueError(f"frame numbers start at 0; the table has frame {table.frames.min()}")
    # Every row goes to its own frame number: rows a user removed (frames without a pose dropped,
    # a range cut out) come back as frames without a pose, never as renumbered neighbours. The
    # track is as long as the highest frame, or as the video if the attrs say how long it was.
    if table.videos is None:
        codes = np.zeros(1, np.int64)
        position = np.zeros(table.n_frames, np.int64)
    else:
        codes, position = np.unique(table.videos, return_inverse=True)
    n_videos = len(codes)
    n_frames = max(int(table.frames.max()) + 1, _recorded_length(table.attrs))
    slots = position * n_frames + table.frames
    full = table.replace(
        frames=np.tile(np.arange(n_frames, dtype=np.int64), n_videos),
        videos=None if table.videos is None else np.repeat(codes, n_frames),
        times=None,
        values={},
    )
    sizes = full.image_sizes() if _knows_size(full) else None
    values = np.full((n_videos * n_frames, NUM_LANDMARKS, len(COORDS)), np.nan, np.float64)
    for i, coord in enumerate(COORDS):
        if coord in table.values:
            values[slots, :, i] = table.values[coord]
    if table.units == "px":
        if sizes is None:
            raise ValueError("pixel coordinates need the image size: pass image_size=(h, w)")
        for coord in WIDTH_SCALED:
            values[..., COORDS.index(coord)] /= sizes[:, 1:2]
        values[..., COORDS.index("y")] /= sizes[:, 0:1]
    if sizes is None:
        sizes = np.zeros((n_videos * n_frames, 2))
    present = np.isfinite(values[..., 0]).any(axis=-1)
    if "rois" in full.attrs:
        rois = full._per_frame(np.asarray(full.attrs["rois"], np.float32), np.nan)
    else:
        rois = np.full((n_videos * n_frames, 5), np.nan, np.float32)
    times = _slot_times(table, full, slots, n_videos, n_frames)
    if table.videos is None:
        lead = (n_frames,)
        names = table.attrs.get("video_names")
    else:
        lead = (n_videos, n_frames)
        names = [table.video_labels[c] for c in codes]
        if table.attrs.get("video_names") is None and names == [str(c) for c in codes]:
            names = None  # placeholders of an unnamed batch
    return PoseTrack(
        landmarks=values[..., :5].astype(np.float32).reshape(lead + (NUM_LANDMARKS, 5)),
        world_landmarks=values[..., 5:].astype(np.float32).reshape(lead + (NUM_LANDMARKS, 4)),
        pose_present=present.reshape(lead),
        rois=rois.reshape(lead + (5,)),
        timestamps=times.reshape(lead),
        image_sizes=np.asarray(sizes).astype(np.int64).reshape(lead + (2,)),
        fps=float(table.attrs["fps"]),
        model_complexity=int(table.attrs.get("model_complexity", 1)),
        video_names=None if names is None else tuple(str(n) for n in names),
    )


def _recorded_length(attrs: dict) -> int:
    """Frames per video that a posejax table's attrs record (0 when they record none)."""
    for key, trailing in (("rois", 2), ("timestamps", 1), ("image_sizes", 2)):
        if key in attrs:
            shape = np.shape(attrs[key])
            if len(shape) > trailing - 1:
                return int(shape[-trailing]) if trailing > 1 else int(shape[-1])
    return 0


def _slot_times(table: PoseTable, full: PoseTable, slots, n_videos: int, n_frames: int):
    """Seconds of every frame of the track: the table's own times where it has the frame.

    A frame the table lacks takes its time from ``attrs["timestamps"]`` where posejax recorded
    it, else between its neighbours (linear), else a frame period (1 / fps) from the nearest
    frame the table has.
    """
    times = np.full(n_videos * n_frames, np.nan)
    if "timestamps" in full.attrs:
        times = full._per_frame(np.asarray(full.attrs["timestamps"], np.float64), np.nan)
    times[slots] = table.frame_times()
    missing = np.isnan(times)
    if not missing.any():
        return times
    period = 1.0 / float(table.attrs["fps"])
    grid = times.reshape(n_videos, n_frames)
    frames = np.arange(n_frames)
    for row in grid:
        known = ~np.isnan(row)
        if not known.any():
            row[:] = frames * period
            continue
        k = frames[known]
        filled = np.interp(frames, k, row[known])
        filled = np.where(frames < k[0], row[k[0]] - (k[0] - frames) * period, filled)
        filled = np.where(frames > k[-1], row[k[-1]] + (frames - k[-1]) * period, filled)
        row[~known] = filled[~known]
    return grid.reshape(-1)


def _knows_size(table: PoseTable) -> bool:
    return "image_size" in table.attrs or "image_sizes" in table.attrs


def convert_layout(df: pd.DataFrame, layout: str, scorer: str | None = None) -> pd.DataFrame:
    """The same pose table in another layout (``"long"``, ``"wide"`` or ``"dlc"``).

    Example
    -------
    >>> long = track.to_dataframe()
    >>> wide = convert_layout(long, "wide")
    >>> wide.shape
    (230, 297)
    >>> convert_layout(wide, "long").equals(long)
    True
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    table = parse_table(df)
    if layout == "dlc" and table.videos is not None and len(np.unique(table.videos)) > 1:
        raise ValueError("a DeepLabCut table holds one video; select one first")
    attrs = dict(table.attrs)
    if layout == "wide":
        if table.times is not None:
            attrs["timestamps"] = _times_by_frame(table)
        times = None
    else:
        times = table.times
        if times is None and layout == "long":
            try:
                times = table.frame_times()
            except ValueError:
                times = None
        attrs.pop("timestamps", None)
    if layout == "dlc":
        attrs["units"] = "px"
    return table.replace(
        layout=layout,
        times=times,
        attrs=attrs,
        scorer=scorer if scorer else (table.scorer if layout != "long" else None),
    ).to_frame()


def _times_by_frame(table: PoseTable) -> np.ndarray:
    """Per-frame times as a ``([B,] T)`` array indexed by frame number (NaN where unknown)."""
    length = int(table.frames.max()) + 1
    if table.videos is None:
        out = np.full(length, np.nan)
        out[table.frames] = table.times
        return out
    out = np.full((int(table.videos.max()) + 1, length), np.nan)
    out[table.videos, table.frames] = table.times
    return out
