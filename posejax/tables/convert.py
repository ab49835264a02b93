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
        ``pose_present`` is true on frames with any finite ``x``. Segmentation masks are not
        stored in tables, so ``segmentation_mask`` is None.

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
    groups = list(table.groups())
    lengths = {len(rows) for rows in groups}
    if len(lengths) != 1:
        raise ValueError(f"the videos of the table have different frame counts {sorted(lengths)}")
    order = np.concatenate(groups)
    n_videos, n_frames = len(groups), lengths.pop()
    ordered = table.replace(
        values={c: v[order] for c, v in table.values.items()},
        frames=table.frames[order],
        videos=None if table.videos is None else table.videos[order],
        times=None if table.times is None else table.times[order],
    )
    sizes = ordered.image_sizes() if _knows_size(ordered) else None
    values = np.full((ordered.n_frames, NUM_LANDMARKS, len(COORDS)), np.nan, np.float64)
    for i, coord in enumerate(COORDS):
        if coord in ordered.values:
            values[..., i] = ordered.values[coord]
    if ordered.units == "px":
        if sizes is None:
            raise ValueError("pixel coordinates need the image size: pass image_size=(h, w)")
        for coord in WIDTH_SCALED:
            values[..., COORDS.index(coord)] /= sizes[:, 1:2]
        values[..., COORDS.index("y")] /= sizes[:, 0:1]
    if sizes is None:
        sizes = np.zeros((ordered.n_frames, 2))
    present = np.isfinite(values[..., 0]).any(axis=-1)
    if "rois" in ordered.attrs:
        rois = ordered._per_frame(np.asarray(ordered.attrs["rois"], np.float32), np.nan)
    else:
        rois = np.full((ordered.n_frames, 5), np.nan, np.float32)
    if table.videos is None:
        lead = (n_frames,)
        names = ordered.attrs.get("video_names")
    else:
        lead = (n_videos, n_frames)
        codes = ordered.videos[::n_frames]
        names = [ordered.video_labels[c] for c in codes]
        if ordered.attrs.get("video_names") is None and names == [str(c) for c in codes]:
            names = None  # placeholders of an unnamed batch
    return PoseTrack(
        landmarks=values[..., :5].astype(np.float32).reshape(lead + (NUM_LANDMARKS, 5)),
        world_landmarks=values[..., 5:].astype(np.float32).reshape(lead + (NUM_LANDMARKS, 4)),
        pose_present=present.reshape(lead),
        rois=rois.reshape(lead + (5,)),
        timestamps=ordered.frame_times().astype(np.float64).reshape(lead),
        image_sizes=np.asarray(sizes).astype(np.int64).reshape(lead + (2,)),
        fps=float(ordered.attrs["fps"]),
        model_complexity=int(ordered.attrs.get("model_complexity", 1)),
        video_names=None if names is None else tuple(str(n) for n in names),
    )


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
