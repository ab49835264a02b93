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
from posejax.tables.layouts import (
    COORDS,
    DEFAULT_VIDEO,
    LAYOUTS,
    UNITS,
    WIDTH_SCALED,
    PoseTable,
    parse_table,
)


def _track_attrs(track, units: str) -> dict:
    """The small JSON values a table caches in ``attrs``; everything per frame is in columns."""
    return {
        "fps": float(track.fps),
        "model_complexity": int(track.model_complexity),
        "units": units,
        "n_frames": int(track.n_frames),
    }


def _video_labels(track, video) -> list[str]:
    if video is not None:
        labels = [video] if isinstance(video, str) else [str(v) for v in video]
        if len(labels) != track.batch_size:
            raise ValueError(f"{len(labels)} video name(s) for {track.batch_size} video(s)")
        if len(set(labels)) != len(labels):
            raise ValueError(f"video names must differ, got {labels}")
        return labels
    if track.video_names is not None:
        return [str(name) for name in track.video_names]
    if not track.is_batch:
        return [DEFAULT_VIDEO]
    return [str(i) for i in range(track.batch_size)]


def track_to_dataframe(
    track,
    layout: str = "long",
    units: str = "normalized",
    scorer: str | None = None,
    video=None,
) -> pd.DataFrame:
    """A :class:`~posejax.result.PoseTrack` as a DataFrame.

    Parameters
    ----------
    track : PoseTrack
        One video ``(T, ...)`` or a batch ``(B, T, ...)``, of one person or of several
        (:attr:`~posejax.result.PoseTrack.individuals`).
    layout : {"long", "wide", "dlc"}
        ``long``: one row per frame and landmark with columns ``video, frame, time, landmark,
        x, y, z, visibility, presence, world_x, world_y, world_z, world_visibility,
        image_width, image_height`` (the world landmarks' visibility is smoothed by its own
        filter, so it differs slightly).
        ``wide``: one row per frame, indexed by ``(video, frame)``; MultiIndex columns
        ``(landmark, coord)`` after the per-frame columns ``time``, ``image_width``,
        ``image_height``.
        ``dlc``: DeepLabCut's table (pixel ``x, y``, ``likelihood`` = visibility; one video
        only; lossy).
    units : {"normalized", "px"}
        ``normalized``: ``x, y`` as fractions of the image width and height, ``z`` on ``x``'s
        scale (MediaPipe's convention). ``px``: ``x, y, z`` multiplied by the image width,
        height and width, and a ``units`` column saying so. World coordinates are always metres.
        ``dlc`` is always in pixels.
    scorer : str, optional
        Wide layout only: add a top column level with this name and call the levels
        ``(scorer, bodyparts, coords)`` as DeepLabCut does. ``dlc`` uses ``"posejax"`` by default.
    video : str or list of str, optional
        The ``video`` label (one per video of a batch). By default the track's
        ``video_names`` (a video file's name, as :func:`posejax.track` gives it), else ``"0"``
        (``"0"``, ``"1"``, ... for a batch): name tracks of arrays before joining their tables.

    Returns
    -------
    pandas.DataFrame
        A table that describes itself: ``video`` (categorical), ``frame``, ``time`` (the frame's
        time in seconds) and the image size are columns, so ``pd.concat`` of several videos,
        row selections and ``to_parquet`` keep them. A track of several people (or one person's
        track taken out of one, with its ``individual_name``) adds an ``individual`` column
        (categorical, the track's order) after ``video``: long rows per ``(video, individual,
        frame, landmark)``, wide rows indexed by ``(video, individual, frame)``, person by
        person; ``dlc`` uses DeepLabCut's multi-animal columns ``(scorer, individuals,
        bodyparts, coords)``. ``df.attrs`` caches the frame rate, model
        complexity, units and length (plain JSON). ROIs and segmentation masks are not in
        tables.

    Example
    -------
    >>> df = track_to_dataframe(track)
    >>> df.shape
    (7590, 15)
    >>> df.columns[:5].tolist()
    ['video', 'frame', 'time', 'landmark', 'x']
    >>> track_to_dataframe(track, "wide", units="px").shape
    (230, 301)
    >>> df[df.landmark == "left_knee"].plot(x="time", y="y")
    <Axes: xlabel='time'>
    >>> track_to_dataframe(two_people).columns[:3].tolist()  # posejax.track(..., num_poses=2)
    ['video', 'individual', 'frame']
    >>> track_to_dataframe(two_people, "wide").index.names
    FrozenList(['video', 'individual', 'frame'])
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
    n_videos, n_frames, n_people = track.batch_size, track.n_frames, track.n_individuals
    # Rows of the table: video by video, person by person, frame by frame (so the table of a
    # multi-person track is the pd.concat of its people's tables).
    shape = (n_videos, n_frames, n_people)
    landmarks = np.asarray(track.landmarks).reshape(shape + (NUM_LANDMARKS, 5))
    world = np.asarray(track.world_landmarks).reshape(shape + (NUM_LANDMARKS, 4))
    values = np.concatenate([landmarks, world], axis=-1).swapaxes(1, 2)
    sizes = np.broadcast_to(
        np.asarray(track.image_sizes, np.float64).reshape(n_videos, 1, n_frames, 2),
        (n_videos, n_people, n_frames, 2),
    )
    if units == "px":
        values = values.astype(np.float64)
        for coord in WIDTH_SCALED:
            values[..., COORDS.index(coord)] *= sizes[..., None, 1]
        values[..., COORDS.index("y")] *= sizes[..., None, 0]
    times = np.broadcast_to(np.asarray(track.timestamps, np.float64).reshape(n_videos, 1, n_frames),
                            (n_videos, n_people, n_frames))
    codes = np.repeat(np.arange(n_videos), n_people * n_frames)
    people, names = None, None
    if track.individuals is not None:
        people = np.tile(np.repeat(np.arange(n_people), n_frames), n_videos)
        people = people.astype(np.int8 if n_people < 128 else np.int64)
        names = [str(name) for name in track.individuals]
    elif track.individual_name is not None:
        people = np.zeros(n_videos * n_frames, np.int8)
        names = [str(track.individual_name)]
    table = PoseTable(
        values={c: values[..., i].reshape(-1, NUM_LANDMARKS) for i, c in enumerate(COORDS)},
        frames=np.tile(track.frame_index(), n_videos * n_people),
        videos=codes.astype(np.int8 if n_videos < 128 else np.int64),
        video_labels=_video_labels(track, video),
        times=times.reshape(-1),
        attrs=_track_attrs(track, units),
        layout=layout,
        scorer=scorer if layout != "dlc" else (scorer or "posejax"),
        sizes=sizes.reshape(-1, 2),
        individuals=people,
        individual_labels=names,
    )
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
        stored in tables, so ``segmentation_mask`` is None. A table with an ``individual``
        column of several names gives a multi-person track, its ``individuals`` in the order of
        the column's categories (else of first appearance), a person missing on a frame NaN
        there; a single name gives a one-person track with that ``individual_name``.

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
    >>> track_from_dataframe(two_people.to_dataframe()).individuals
    ('person_0', 'person_1')
    """
    table = parse_table(df)
    if fps is not None:
        table.attrs["fps"] = float(fps)
    if image_size is not None:
        size = np.asarray([int(v) for v in image_size], np.float64)
        table = table.replace(sizes=np.broadcast_to(size, (table.n_frames, 2)).copy())
    if table.units not in UNITS:
        raise ValueError(
            f"a table in {table.units!r} units cannot become a PoseTrack (only normalized or px)"
        )
    if "x" not in table.values or "y" not in table.values:
        missing = [c for c in ("x", "y") if c not in table.values]
        raise ValueError(
            f"the table has no {' or '.join(repr(c) for c in missing)} coordinates, which a "
            "pose track needs (was the column dropped?); its coordinate columns are "
            f"{list(table.values)}"
        )
    if table.n_frames == 0:
        raise ValueError("the pose table has no frames (were all rows filtered out?)")
    if table.frames.min() < 0:
        raise ValueError(f"frame numbers start at 0; the table has frame {table.frames.min()}")
    fps = table.frame_rate()
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
    row_slots = position * n_frames + table.frames
    if table.individuals is None:
        people, person = np.zeros(1, np.int64), np.zeros(table.n_frames, np.int64)
        frame_table, slots = table, row_slots
    else:
        # People share their frames' times and sizes: those come from one row per frame.
        people, person = np.unique(table.individuals, return_inverse=True)
        _, first = np.unique(row_slots, return_index=True)
        frame_table, slots = table.take(first), row_slots[first]
    n_people = len(people)
    full = frame_table.replace(
        frames=np.tile(np.arange(n_frames, dtype=np.int64), n_videos),
        videos=None if table.videos is None else np.repeat(codes, n_frames),
        times=None,
        values={},
        sizes=None,
        individuals=None,
    )
    sizes = _slot_sizes(frame_table, full, slots, n_videos, n_frames)
    values = np.full((n_videos * n_frames, n_people, NUM_LANDMARKS, len(COORDS)), np.nan,
                     np.float64)
    for i, coord in enumerate(COORDS):
        if coord in table.values:
            values[row_slots, person, :, i] = table.values[coord]
    if table.units == "px":
        if np.isnan(sizes).any():
            raise ValueError("pixel coordinates need the image size: pass image_size=(h, w)")
        for coord in WIDTH_SCALED:
            values[..., COORDS.index(coord)] /= sizes[:, None, 1:2]
        values[..., COORDS.index("y")] /= sizes[:, None, 0:1]
    sizes = np.nan_to_num(sizes, nan=0.0)
    present = np.isfinite(values[..., 0]).any(axis=-1)
    if "rois" in full.attrs and n_people == 1:  # tables of earlier posejax versions cached them
        rois = full._per_frame(np.asarray(full.attrs["rois"], np.float32), np.nan)[:, None]
    else:
        rois = np.full((n_videos * n_frames, n_people, 5), np.nan, np.float32)
    times = _slot_times(frame_table, full, slots, n_videos, n_frames, fps)
    labels = ([DEFAULT_VIDEO] if table.videos is None
              else [table.video_labels[c] for c in codes])
    if n_videos == 1:
        lead = (n_frames,)
        names = table.attrs.get("video_names") if table.videos is None else labels
        if names == [DEFAULT_VIDEO]:
            names = None  # the placeholder of a track of arrays
    else:
        lead = (n_videos, n_frames)
        names = labels
        if names == [str(i) for i in range(n_videos)]:
            names = None  # placeholders of an unnamed batch
    individuals, individual_name = None, None
    person_lead = lead
    if table.individuals is not None:
        found = [str(table.individual_labels[c]) for c in people]
        if n_people == 1:  # one person's table (track.individual(k)): a one-person track
            individual_name = found[0]
        else:
            individuals = tuple(found)
            person_lead = lead + (n_people,)
    return PoseTrack(
        landmarks=values[..., :5].astype(np.float32).reshape(person_lead + (NUM_LANDMARKS, 5)),
        world_landmarks=values[..., 5:].astype(np.float32).reshape(
            person_lead + (NUM_LANDMARKS, 4)),
        pose_present=present.reshape(person_lead),
        rois=rois.reshape(person_lead + (5,)),
        timestamps=times.reshape(lead),
        image_sizes=np.asarray(sizes).astype(np.int64).reshape(lead + (2,)),
        fps=fps,
        model_complexity=int(table.attrs.get("model_complexity", 1)),
        video_names=None if names is None else tuple(str(n) for n in names),
        individuals=individuals,
        individual_name=individual_name,
    )


def _slot_sizes(table: PoseTable, full: PoseTable, slots, n_videos: int, n_frames: int):
    """``(height, width)`` of every frame of the track; NaN where nothing says.

    A frame the table lacks takes the size of its video's nearest frame: a video keeps its size.
    """
    sizes = full._sizes_from_attrs()
    if sizes is None:
        sizes = np.full((n_videos * n_frames, 2), np.nan)
    sizes[slots] = table._all_sizes()
    grid = sizes.reshape(n_videos, n_frames, 2)
    for video in grid:
        known = np.flatnonzero(~np.isnan(video[:, 0]))
        if len(known) and len(known) < n_frames:
            nearest = known[np.clip(np.searchsorted(known, np.arange(n_frames)), 0, len(known) - 1)]
            video[:] = video[nearest]
    return grid.reshape(-1, 2)


def _recorded_length(attrs: dict) -> int:
    """Frames per video that a posejax table's attrs record (0 when they record none)."""
    if "n_frames" in attrs:
        return int(attrs["n_frames"])
    for key, trailing in (("rois", 2), ("timestamps", 1), ("image_sizes", 2)):
        if key in attrs:
            shape = np.shape(attrs[key])
            if len(shape) > trailing - 1:
                return int(shape[-trailing]) if trailing > 1 else int(shape[-1])
    return 0


def _slot_times(table: PoseTable, full: PoseTable, slots, n_videos: int, n_frames: int,
                fps: float):
    """Seconds of every frame of the track: the table's own times where it has the frame.

    A frame the table lacks takes its time from ``attrs["timestamps"]`` where posejax recorded
    it, else between its neighbours (linear), else a frame period (1 / fps) from the nearest
    frame the table has.
    """
    times = np.full(n_videos * n_frames, np.nan)
    if "timestamps" in full.attrs:
        times = full._per_frame(np.asarray(full.attrs["timestamps"], np.float64), np.nan)
    times[slots] = table.frame_times() if table.times is None else table.times
    missing = np.isnan(times)
    if not missing.any():
        return times
    period = 1.0 / fps
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


def convert_layout(df: pd.DataFrame, layout: str, scorer: str | None = None) -> pd.DataFrame:
    """The same pose table in another layout (``"long"``, ``"wide"`` or ``"dlc"``).

    Example
    -------
    >>> long = track.to_dataframe()
    >>> wide = convert_layout(long, "wide")
    >>> wide.shape
    (230, 300)
    >>> convert_layout(wide, "long").equals(long)
    True
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    table = parse_table(df)
    if layout == "dlc" and table.videos is not None and len(np.unique(table.videos)) > 1:
        raise ValueError("a DeepLabCut table holds one video; select one first")
    return table.replace(
        layout=layout,
        scorer=scorer if scorer else (table.scorer if layout != "long" else None),
    ).to_frame()
