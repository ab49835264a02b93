"""Pose tracks as pandas DataFrames, and the ``df.pose`` accessor.

Two layouts hold the same numbers:

``long`` (tidy)
    One row per frame and landmark: ``[video,] frame, time, landmark, x, y, z, visibility,
    presence, world_x, world_y, world_z, world_visibility``. ``landmark`` is an ordered
    categorical of the 33 names.
``wide``
    One row per frame (index ``frame``, or ``(video, frame)`` for a batch), columns a MultiIndex
    ``(landmark, coord)``. With ``scorer=...`` the column levels are DeepLabCut's
    ``(scorer, bodyparts, coords)``.

A third, lossy layout ``dlc`` is DeepLabCut's own table: pixel ``x, y`` and ``likelihood``
(= visibility) per landmark, which DeepLabCut and ``movement`` read.

What a table needs to become a :class:`~posejax.track.PoseTrack` again (frame rate, image size,
ROIs, per-frame times of the wide layout) travels in ``df.attrs``; per-frame entries there are
indexed by frame number, so row selections keep working.

Importing this module registers the ``df.pose`` accessor (see :class:`PoseAccessor`).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from posejax.landmarks import LANDMARK_NAMES, landmark_index

#: Coordinate columns of the long and wide layouts, in order.
COORDS: tuple[str, ...] = (
    "x", "y", "z", "visibility", "presence", "world_x", "world_y", "world_z", "world_visibility",
)  # fmt: skip

#: Named joint angles: the angle at the middle landmark, between the other two.
JOINT_ANGLES: dict[str, tuple[str, str, str]] = {
    f"{side}_{joint}": tuple(f"{side}_{name}" for name in names)
    for side in ("left", "right")
    for joint, names in {
        "elbow": ("shoulder", "elbow", "wrist"),
        "shoulder": ("elbow", "shoulder", "hip"),
        "hip": ("shoulder", "hip", "knee"),
        "knee": ("hip", "knee", "ankle"),
        "ankle": ("knee", "ankle", "foot_index"),
    }.items()
}

LAYOUTS = ("long", "wide", "dlc")
UNITS = ("normalized", "px")
# Coordinates scaled by the image width (x, and z which MediaPipe puts on x's scale) or height.
_WIDTH_SCALED = ("x", "z")
_HEIGHT_SCALED = ("y",)
# Torso multiplier of MediaPipe's pose-classification embedder (FullBodyPoseEmbedder).
TORSO_SIZE_MULTIPLIER = 2.5


def landmark_dtype() -> pd.CategoricalDtype:
    """The ordered categorical dtype of the ``landmark`` column (33 names in index order).

    Example
    -------
    >>> landmark_dtype().categories[25]
    'left_knee'
    """
    return pd.CategoricalDtype(list(LANDMARK_NAMES), ordered=True)


# -- PoseTrack -> DataFrame ---------------------------------------------------------------------


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
    """A :class:`~posejax.track.PoseTrack` as a DataFrame.

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
    >>> df = track_to_dataframe(track)  # doctest: +SKIP
    >>> df[df.landmark == "left_knee"].plot(x="time", y="y")  # doctest: +SKIP
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
    landmarks = np.asarray(track.landmarks).reshape(n_videos, track.n_frames, 33, 5)
    world = np.asarray(track.world_landmarks).reshape(n_videos, track.n_frames, 33, 4)
    values = np.concatenate([landmarks, world], axis=-1)
    if units == "px":
        sizes = np.asarray(track.image_sizes, np.float64).reshape(n_videos, track.n_frames, 1, 2)
        values = values.astype(np.float64)
        for coord in _WIDTH_SCALED:
            values[..., COORDS.index(coord)] *= sizes[..., 1]
        values[..., COORDS.index("y")] *= sizes[..., 0]
    times = np.asarray(track.timestamps, np.float64).reshape(n_videos, track.n_frames)
    table = _Table(
        values={c: values[..., i].reshape(-1, 33) for i, c in enumerate(COORDS)},
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


# -- the frame table shared by the layouts --------------------------------------------------------


@dataclasses.dataclass
class _Table:
    """A pose DataFrame taken apart: per coordinate an array ``(F, 33)`` over its F frames."""

    values: dict[str, np.ndarray]
    frames: np.ndarray
    videos: np.ndarray | None
    video_labels: list[str] | None
    times: np.ndarray | None
    attrs: dict
    layout: str
    scorer: str | None = None
    wide_names: tuple[str, ...] = ("landmark", "coord")
    # Where the numbers sit in the parsed DataFrame: rows (F, 33) of a long table, or for a wide
    # table each coordinate's 33 column positions; lets results keep the user's other columns.
    positions: np.ndarray | dict | None = None

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    @property
    def units(self) -> str:
        return self.attrs.get("units", "normalized")

    def replace(self, **changes) -> _Table:
        return dataclasses.replace(self, **changes)

    # per-frame look-ups -------------------------------------------------------------------------
    def index(self) -> pd.Index:
        """Row index of per-frame results: ``frame``, or ``(video, frame)`` for a batch."""
        frame = pd.Index(self.frames, name="frame")
        if self.videos is None:
            return frame
        video = pd.Categorical.from_codes(self.videos, categories=self.video_labels)
        return pd.MultiIndex.from_arrays([video, self.frames], names=["video", "frame"])

    def _per_frame(self, array: np.ndarray, fill) -> np.ndarray:
        """Rows of a per-frame attrs array ``([B,] T, ...)`` for this table's frames."""
        array = np.asarray(array)
        if self.videos is None:
            array = array[None] if array.ndim >= 1 else array
            videos = np.zeros(self.n_frames, int)
        else:
            videos = self.videos
        lengths = array.shape[1]
        inside = (self.frames >= 0) & (self.frames < lengths) & (videos < array.shape[0])
        out = np.full((self.n_frames,) + array.shape[2:], fill, dtype=array.dtype)
        out[inside] = array[videos[inside], self.frames[inside]]
        return out

    def image_sizes(self) -> np.ndarray:
        """``(F, 2)`` height and width of each frame; ValueError if the table does not say."""
        if "image_size" in self.attrs:
            return np.broadcast_to(
                np.asarray(self.attrs["image_size"], np.float64), (self.n_frames, 2)
            )
        if "image_sizes" in self.attrs:
            sizes = self._per_frame(np.asarray(self.attrs["image_sizes"], np.float64), np.nan)
            if np.isnan(sizes).any():
                raise ValueError("df.attrs['image_sizes'] does not cover every frame of the table")
            return sizes
        raise ValueError(
            "the image size is unknown: set df.attrs['image_size'] = (height, width) "
            "(posejax tables carry it; it is needed to turn normalized coordinates into pixels)"
        )

    def frame_times(self) -> np.ndarray:
        if self.times is not None:
            return self.times
        if "timestamps" in self.attrs:
            times = self._per_frame(np.asarray(self.attrs["timestamps"], np.float64), np.nan)
            if not np.isnan(times).any():
                return times
        fps = self.attrs.get("fps")
        if fps is None:
            raise ValueError("the table has no times: set df.attrs['fps'] or a 'time' column")
        return self.frames / float(fps)

    def groups(self):
        """Row selections of each video, in frame order."""
        if self.videos is None:
            yield np.argsort(self.frames, kind="stable")
            return
        for code in np.unique(self.videos):
            rows = np.flatnonzero(self.videos == code)
            yield rows[np.argsort(self.frames[rows], kind="stable")]

    def coord(self, name: str) -> np.ndarray:
        if name not in self.values:
            raise ValueError(
                f"the table has no {name!r} coordinates (columns: {list(self.values)})"
            )
        return self.values[name]

    def image_points(self) -> np.ndarray:
        """``(F, 33, 2)`` x, y in pixels (or in the units of a normalized pose)."""
        x, y = self.coord("x").astype(np.float64), self.coord("y").astype(np.float64)
        if self.units == "normalized":
            sizes = self.image_sizes()
            x, y = x * sizes[:, 1:2], y * sizes[:, 0:1]
        return np.stack([x, y], axis=-1)

    def world_points(self) -> np.ndarray:
        return np.stack([self.coord(f"world_{c}").astype(np.float64) for c in "xyz"], axis=-1)

    def points(self, space: str) -> np.ndarray:
        if space == "image":
            return self.image_points()
        if space == "world":
            return self.world_points()
        raise ValueError(f"space must be 'image' or 'world', got {space!r}")

    def write_back(self, df: pd.DataFrame, values: dict, **attrs) -> pd.DataFrame:
        """A copy of ``df`` (the table this one was parsed from) holding new ``values``."""
        out = df.copy()
        if self.layout == "long":
            rows = self.positions.reshape(-1)
            for coord, array in values.items():
                column = out[coord].to_numpy(dtype=np.result_type(out[coord].dtype, array.dtype))
                column = column.copy()
                column[rows] = array.reshape(-1)
                out[coord] = column
        else:
            for coord, array in values.items():
                for j, position in enumerate(self.positions[coord]):
                    out.isetitem(int(position), array[:, j])
        out.attrs = {**df.attrs, **attrs}
        return out

    # back to a DataFrame --------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        builders = {"long": self._long, "wide": self._wide, "dlc": self._dlc}
        df = builders[self.layout]()
        df.attrs = dict(self.attrs)
        return df

    def _long(self) -> pd.DataFrame:
        n = self.n_frames
        columns = {}
        if self.videos is not None:
            codes = np.repeat(self.videos, 33)
            columns["video"] = pd.Categorical.from_codes(codes, categories=self.video_labels)
        columns["frame"] = np.repeat(self.frames.astype(np.int64), 33)
        if self.times is not None:
            columns["time"] = np.repeat(self.times, 33)
        columns["landmark"] = pd.Categorical.from_codes(
            np.tile(np.arange(33), n), dtype=landmark_dtype()
        )
        for coord, array in self.values.items():
            columns[coord] = array.reshape(-1)
        return pd.DataFrame(columns)

    def _wide(self) -> pd.DataFrame:
        coords = list(self.values)
        data = np.stack([self.values[c] for c in coords], axis=-1).reshape(self.n_frames, -1)
        tuples = [(name, coord) for name in LANDMARK_NAMES for coord in coords]
        if self.scorer is not None:
            tuples = [(self.scorer, *t) for t in tuples]
            names = ("scorer", "bodyparts", "coords")
        else:
            names = self.wide_names
        columns = pd.MultiIndex.from_tuples(tuples, names=list(names))
        dtypes = {self.values[c].dtype for c in coords}
        dtype = dtypes.pop() if len(dtypes) == 1 else np.float64
        return pd.DataFrame(data.astype(dtype, copy=False), index=self.index(), columns=columns)

    def _dlc(self) -> pd.DataFrame:
        if self.units != "px":
            sizes = self.image_sizes()
            x = self.coord("x") * sizes[:, 1:2]
            y = self.coord("y") * sizes[:, 0:1]
        else:
            x, y = self.coord("x"), self.coord("y")
        likelihood = self.values.get("visibility", self.values.get("likelihood"))
        if likelihood is None:
            likelihood = np.full_like(x, np.nan)
        data = np.stack([x, y, likelihood], axis=-1).astype(np.float64).reshape(self.n_frames, -1)
        columns = pd.MultiIndex.from_product(
            [[self.scorer or "posejax"], list(LANDMARK_NAMES), ["x", "y", "likelihood"]],
            names=["scorer", "bodyparts", "coords"],
        )
        index = self.index()
        return pd.DataFrame(data, index=pd.Index(np.asarray(index), name=None), columns=columns)


# -- DataFrame -> table ---------------------------------------------------------------------------


def _landmark_codes(column: pd.Series) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = [str(c).lower() for c in column.cat.categories]
        lookup = np.array([_name_code(c) for c in categories] + [-1])
        return lookup[column.cat.codes.to_numpy()]
    names = column.astype(str).str.lower().to_numpy()
    unique, inverse = np.unique(names, return_inverse=True)
    return np.array([_name_code(u) for u in unique])[inverse]


def _name_code(name: str) -> int:
    try:
        return landmark_index(name)
    except ValueError:
        if name == "nan":
            raise ValueError("the landmark column has missing values") from None
        raise


def _video_codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        if column.isna().any():
            raise ValueError("the video column has missing values")
        return column.cat.codes.to_numpy().astype(np.int64), [str(c) for c in column.cat.categories]
    codes, labels = pd.factorize(column, sort=False)
    if (codes < 0).any():
        raise ValueError("the video column has missing values")
    return codes.astype(np.int64), [str(label) for label in labels]


def _parse_long(df: pd.DataFrame) -> _Table:
    if "frame" not in df.columns:
        raise ValueError("a long pose table needs a 'frame' column")
    if len(df) == 0 or len(df) % 33:
        raise ValueError(f"a long pose table has 33 rows per frame; this one has {len(df)} rows")
    codes = _landmark_codes(df["landmark"])
    frames = df["frame"].to_numpy()
    if not np.issubdtype(frames.dtype, np.integer):
        if not np.all(np.isfinite(frames)) or not np.all(frames == np.round(frames)):
            raise ValueError("the frame column must hold whole numbers")
        frames = frames.astype(np.int64)
    videos, labels = (None, None)
    if "video" in df.columns:
        videos, labels = _video_codes(df["video"])
    keys = (codes, frames) if videos is None else (codes, frames, videos)
    order = np.lexsort(keys)
    grid = codes[order].reshape(-1, 33)
    if not (grid == np.arange(33)).all():
        raise ValueError("every frame of a long pose table needs each of the 33 landmarks once")
    first = order.reshape(-1, 33)
    frame_rows = frames[first]
    if not (frame_rows == frame_rows[:, :1]).all():
        raise ValueError("every frame of a long pose table needs each of the 33 landmarks once")
    if videos is not None and not (videos[first] == videos[first[:, :1]]).all():
        raise ValueError("every frame of a long pose table needs each of the 33 landmarks once")
    values = {c: df[c].to_numpy()[first] for c in COORDS if c in df.columns}
    if "likelihood" in df.columns and "visibility" not in values:
        values["visibility"] = df["likelihood"].to_numpy()[first]
    times = None
    if "time" in df.columns:
        times = df["time"].to_numpy(np.float64)[first[:, 0]]
    return _Table(
        values=values,
        frames=frame_rows[:, 0].astype(np.int64),
        videos=None if videos is None else videos[first[:, 0]],
        video_labels=labels,
        times=times,
        attrs=dict(df.attrs),
        layout="long",
        positions=first,
    )


def _parse_wide(df: pd.DataFrame) -> _Table:
    columns = df.columns
    scorer = None
    layout = "wide"
    if columns.nlevels == 3:
        scorers = columns.get_level_values(0).unique()
        if len(scorers) != 1:
            raise ValueError(f"a pose table has one scorer, found {list(scorers)}")
        scorer = str(scorers[0])
        columns = columns.droplevel(0)
    elif columns.nlevels != 2:
        raise ValueError(
            "a wide pose table has MultiIndex columns (landmark, coord) or "
            f"(scorer, bodyparts, coords); got {columns.nlevels} level(s)"
        )
    defaults = ("landmark", "coord")
    names = tuple(
        str(n) if n is not None else d for n, d in zip(columns.names, defaults, strict=True)
    )
    parts = [str(p).lower() for p in columns.get_level_values(0)]
    coords = [str(c) for c in columns.get_level_values(1)]
    present = sorted(
        set(coords),
        key=lambda c: (COORDS + ("likelihood",)).index(c) if c in COORDS + ("likelihood",) else 99,
    )
    unknown = [c for c in present if c not in COORDS and c != "likelihood"]
    if unknown:
        raise ValueError(f"unknown coordinate column(s) {unknown}; expected some of {COORDS}")
    if "likelihood" in present and "visibility" not in present:
        layout = "dlc"
    position = {(p, c): i for i, (p, c) in enumerate(zip(parts, coords, strict=True))}
    data = df.to_numpy()
    values, positions = {}, {}
    for coord in present:
        missing = [name for name in LANDMARK_NAMES if (name, coord) not in position]
        if missing:
            raise ValueError(f"the pose table lacks {coord!r} for landmark(s) {missing[:5]}")
        key = "visibility" if coord == "likelihood" else coord
        positions[key] = np.array([position[(name, coord)] for name in LANDMARK_NAMES])
        values[key] = data[:, positions[key]]
    if layout == "dlc":
        values = {c: values[c] for c in ("x", "y", "visibility") if c in values}
    index = df.index
    videos, labels = None, None
    if isinstance(index, pd.MultiIndex):
        if "frame" not in index.names:
            raise ValueError(f"a pose table's row index needs a 'frame' level, got {index.names}")
        frames = index.get_level_values("frame").to_numpy()
        if "video" in index.names:
            videos, labels = _video_codes(pd.Series(index.get_level_values("video")))
    else:
        frames = index.to_numpy()
    if not np.issubdtype(frames.dtype, np.integer):
        raise ValueError(f"a wide pose table is indexed by frame numbers, got {frames.dtype}")
    attrs = dict(df.attrs)
    if layout == "dlc":
        attrs.setdefault("units", "px")
    return _Table(
        values={c: np.asarray(v, dtype=_float_dtype(v)) for c, v in values.items()},
        frames=frames.astype(np.int64),
        videos=videos,
        video_labels=labels,
        times=None,
        attrs=attrs,
        layout=layout,
        scorer=scorer,
        wide_names=names if scorer is None else ("landmark", "coord"),
        positions=positions,
    )


def _float_dtype(array: np.ndarray):
    return array.dtype if np.issubdtype(array.dtype, np.floating) else np.float64


def _parse(df) -> _Table:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if isinstance(df.columns, pd.MultiIndex):
        return _parse_wide(df)
    if "landmark" in df.columns:
        return _parse_long(df)
    raise ValueError(
        "not a pose table: expected a 'landmark' column (long layout) or MultiIndex columns "
        "(landmark, coord) (wide layout); build one with PoseTrack.to_dataframe()"
    )


def detect_layout(df: pd.DataFrame) -> str:
    """``"long"``, ``"wide"`` or ``"dlc"``: the layout of a pose DataFrame.

    Example
    -------
    >>> detect_layout(track.to_dataframe("wide"))  # doctest: +SKIP
    'wide'
    """
    return _parse(df).layout


def convert_layout(df: pd.DataFrame, layout: str, scorer: str | None = None) -> pd.DataFrame:
    """The same pose table in another layout (``"long"``, ``"wide"`` or ``"dlc"``).

    Example
    -------
    >>> wide = convert_layout(long_df, "wide")  # doctest: +SKIP
    >>> long_again = convert_layout(wide, "long")  # doctest: +SKIP
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    table = _parse(df)
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


def _times_by_frame(table: _Table) -> np.ndarray:
    """Per-frame times as a ``([B,] T)`` array indexed by frame number (NaN where unknown)."""
    length = int(table.frames.max()) + 1
    if table.videos is None:
        out = np.full(length, np.nan)
        out[table.frames] = table.times
        return out
    out = np.full((int(table.videos.max()) + 1, length), np.nan)
    out[table.videos, table.frames] = table.times
    return out


# -- DataFrame -> PoseTrack -----------------------------------------------------------------------


def track_from_dataframe(
    df: pd.DataFrame, *, fps: float | None = None, image_size: tuple[int, int] | None = None
):
    """Rebuild a :class:`~posejax.track.PoseTrack` from a long, wide or DeepLabCut table.

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
    >>> track = track_from_dataframe(pd.read_parquet("poses.parquet"))  # doctest: +SKIP
    """
    from posejax.track import PoseTrack

    table = _parse(df)
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
    values = np.full((ordered.n_frames, 33, len(COORDS)), np.nan, np.float64)
    for i, coord in enumerate(COORDS):
        if coord in ordered.values:
            values[..., i] = ordered.values[coord]
    if ordered.units == "px":
        if sizes is None:
            raise ValueError("pixel coordinates need the image size: pass image_size=(h, w)")
        for coord in _WIDTH_SCALED:
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
        landmarks=values[..., :5].astype(np.float32).reshape(lead + (33, 5)),
        world_landmarks=values[..., 5:].astype(np.float32).reshape(lead + (33, 4)),
        pose_present=present.reshape(lead),
        rois=rois.reshape(lead + (5,)),
        timestamps=ordered.frame_times().astype(np.float64).reshape(lead),
        image_sizes=np.asarray(sizes).astype(np.int64).reshape(lead + (2,)),
        fps=float(ordered.attrs["fps"]),
        model_complexity=int(ordered.attrs.get("model_complexity", 1)),
        video_names=None if names is None else tuple(str(n) for n in names),
    )


def _knows_size(table: _Table) -> bool:
    return "image_size" in table.attrs or "image_sizes" in table.attrs


# -- geometry -------------------------------------------------------------------------------------


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle at ``b`` in degrees, in [0, 180], from points ``(..., D)``; NaN if degenerate."""
    u, v = a - b, c - b
    dot = np.sum(u * v, axis=-1)
    if u.shape[-1] == 2:
        cross = np.abs(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0])
    else:
        cross = np.linalg.norm(np.cross(u, v), axis=-1)
    degenerate = (np.linalg.norm(u, axis=-1) == 0) | (np.linalg.norm(v, axis=-1) == 0)
    # atan2 of |u x v| and u.v stays accurate near 0 and 180 degrees, where arccos does not.
    return np.where(degenerate, np.nan, np.degrees(np.arctan2(cross, dot)))


def normalize_points(points: np.ndarray, torso_multiplier: float = TORSO_SIZE_MULTIPLIER):
    """Centre poses on the hips and scale them by their size, as MediaPipe's pose embedder does.

    Parameters
    ----------
    points : ndarray (..., 33, D)
        Landmark coordinates with isotropic units (pixels, not normalized image coordinates),
        ``D`` = 2 or 3.
    torso_multiplier : float
        The pose size is ``max(torso_multiplier * torso size, largest distance from the
        centre)``, distances measured in x and y only; the torso size is the distance between
        the hip centre and the shoulder centre.

    Returns
    -------
    ndarray (..., 33, D)
        ``(points - hip centre) / pose size``; NaN landmarks are ignored when sizing.

    Example
    -------
    >>> pose = np.random.default_rng(0).random((33, 3))
    >>> normalized = normalize_points(pose)
    >>> bool(np.allclose(normalized[[23, 24], :2].mean(axis=0), 0))
    True
    """
    points = np.asarray(points, np.float64)
    if points.ndim < 2 or points.shape[-2] != 33 or points.shape[-1] not in (2, 3):
        raise ValueError(f"points must be (..., 33, 2 or 3), got {points.shape}")
    centre = (points[..., 23, :] + points[..., 24, :]) / 2
    centred = points - centre[..., None, :]
    shoulders = (centred[..., 11, :2] + centred[..., 12, :2]) / 2
    torso = np.linalg.norm(shoulders, axis=-1)
    distances = np.linalg.norm(centred[..., :2], axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames have no size
        largest = np.nanmax(distances, axis=-1)
    size = np.fmax(torso * torso_multiplier, largest)
    size = np.where(np.isfinite(torso), size, np.nan)
    return centred / size[..., None, None]


def _fill_short_gaps(values: np.ndarray, times: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear interpolation (in time) over runs of at most ``max_gap`` NaN rows of ``(n, k)``."""
    n = len(values)
    valid = np.isfinite(values)
    rows = np.broadcast_to(np.arange(n)[:, None], values.shape)
    before = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    after = np.minimum.accumulate(np.where(valid, rows, n)[::-1], axis=0)[::-1]
    fill = ~valid & (before >= 0) & (after < n) & (after - before - 1 <= max_gap)
    before, after = np.clip(before, 0, n - 1), np.clip(after, 0, n - 1)
    start, stop = times[before], times[after]
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = (times[:, None] - start) / (stop - start)
    first = np.take_along_axis(values, before, axis=0)
    last = np.take_along_axis(values, after, axis=0)
    return np.where(fill, first + weight * (last - first), values)


# -- the df.pose accessor -------------------------------------------------------------------------


class PoseAccessor:
    """Pose maths on DataFrames from :meth:`PoseTrack.to_dataframe`: ``df.pose.<method>``.

    Works on the long and the wide layout alike. Per-frame results are Series indexed by
    ``frame`` (or ``(video, frame)`` for a batch); methods that change coordinates return a new
    DataFrame in the layout they were given, other columns kept.

    Example
    -------
    >>> df = posejax.track("squats.mp4").to_dataframe()  # doctest: +SKIP
    >>> knee = df.pose.angle("left_knee")  # degrees per frame  # doctest: +SKIP
    >>> clean = df.pose.interpolate(max_gap=3).pose.smooth(5)  # doctest: +SKIP
    >>> clean.pose.plot(angles="left_knee")  # doctest: +SKIP
    """

    def __init__(self, df: pd.DataFrame):
        self._df = df

    @property
    def _table(self) -> _Table:
        # Parsed on every use: pandas caches the accessor, and the DataFrame may have changed.
        return _parse(self._df)

    @property
    def layout(self) -> str:
        """``"long"``, ``"wide"`` or ``"dlc"``."""
        return self._table.layout

    @property
    def time(self) -> pd.Series:
        """Time of each frame in seconds.

        Example
        -------
        >>> df.pose.time.iloc[-1]  # doctest: +SKIP
        7.633333333333334
        """
        table = self._table
        return pd.Series(table.frame_times(), index=table.index(), name="time")

    def _per_frame(self, table: _Table, values: np.ndarray, name: str) -> pd.Series:
        return pd.Series(values, index=table.index(), name=name)

    def landmark(self, name: str | int, coords=None) -> pd.DataFrame:
        """Coordinates of one landmark, one row per frame.

        Parameters
        ----------
        name : str or int
            Landmark name (``"left_wrist"``) or index.
        coords : list of str, optional
            Which coordinates (default: all in the table).

        Example
        -------
        >>> df.pose.landmark("left_wrist", ["x", "y"])  # doctest: +SKIP
        """
        table = self._table
        index = landmark_index(name)
        coords = list(table.values) if coords is None else _as_list(coords)
        data = {c: table.coord(c)[:, index] for c in coords}
        return pd.DataFrame(data, index=table.index())

    def angle(
        self,
        a: str | int,
        b: str | int | None = None,
        c: str | int | None = None,
        space: str = "image",
    ) -> pd.Series:
        """Angle in degrees at landmark ``b`` between ``a`` and ``c``, or a named joint angle.

        Parameters
        ----------
        a, b, c : str or int
            Three landmarks, the angle being measured at ``b``; or ``a`` alone naming a joint of
            :data:`JOINT_ANGLES`: ``left_elbow``, ``left_shoulder``, ``left_hip``,
            ``left_knee``, ``left_ankle`` and their ``right_`` twins (``left_knee`` =
            hip-knee-ankle).
        space : {"image", "world"}
            ``image``: 2-D angle in the picture (x and y in pixels, so the image's aspect ratio
            does not distort it). ``world``: 3-D angle between world landmarks (metres).

        Returns
        -------
        pandas.Series
            One value per frame in [0, 180]; NaN where a landmark is missing.

        Example
        -------
        >>> df.pose.angle("left_knee")  # doctest: +SKIP
        >>> df.pose.angle("left_hip", "left_knee", "left_ankle", space="world")  # doctest: +SKIP
        """
        if b is None and c is None:
            if not isinstance(a, str) or a.lower() not in JOINT_ANGLES:
                raise ValueError(
                    f"{a!r} is not a named joint angle; name one of {sorted(JOINT_ANGLES)} or "
                    "give three landmarks a, b, c"
                )
            name = a.lower()
            a, b, c = JOINT_ANGLES[name]
        elif b is None or c is None:
            raise ValueError("give three landmarks (a, b, c) or one joint name")
        else:
            name = f"angle({_name(a)}, {_name(b)}, {_name(c)})"
        table = self._table
        points = table.points(space)
        ia, ib, ic = (landmark_index(x) for x in (a, b, c))
        values = _angle(points[:, ia], points[:, ib], points[:, ic])
        return self._per_frame(table, values, name)

    def distance(self, a: str | int, b: str | int, space: str = "image") -> pd.Series:
        """Distance between two landmarks in every frame.

        Parameters
        ----------
        a, b : str or int
            Landmark names or indices.
        space : {"image", "world"}
            ``image``: in pixels (x and y; in pose units after :meth:`normalize`).
            ``world``: 3-D, in metres.

        Example
        -------
        >>> df.pose.distance("left_wrist", "right_wrist", space="world")  # doctest: +SKIP
        """
        table = self._table
        points = table.points(space)
        values = np.linalg.norm(
            points[:, landmark_index(a)] - points[:, landmark_index(b)], axis=-1
        )
        return self._per_frame(table, values, f"distance({_name(a)}, {_name(b)})")

    def normalize(self, torso_multiplier: float = TORSO_SIZE_MULTIPLIER) -> pd.DataFrame:
        """Hip-centred, size-normalized ``x, y, z`` as in ``classify``'s pose embedder.

        Pixel coordinates (``z`` on ``x``'s scale) are centred on the hip midpoint and divided
        by ``max(torso_multiplier * torso size, largest x-y distance from the centre)``; the
        torso size is the distance between the hip centre and the shoulder centre. World
        coordinates are left as they are. The result has ``df.attrs["units"] == "pose"``.

        Example
        -------
        >>> df.pose.normalize().pose.distance("left_hip", "right_hip")  # doctest: +SKIP
        """
        table = self._table
        if table.units == "pose":
            raise ValueError("the table is already normalized")
        points = table.image_points()
        z = table.values.get("z")
        if z is not None:
            z = z.astype(np.float64)
            if table.units == "normalized":
                z = z * table.image_sizes()[:, 1:2]
            points = np.concatenate([points, z[..., None]], axis=-1)
        normalized = normalize_points(points, torso_multiplier)
        values = {c: normalized[..., i] for i, c in enumerate("xyz"[: normalized.shape[-1]])}
        return table.write_back(self._df, values, units="pose")

    def interpolate(self, max_gap: int = 5, coords=None) -> pd.DataFrame:
        """Fill short dropouts by linear interpolation in time.

        Parameters
        ----------
        max_gap : int
            Longest run of missing frames to fill; longer gaps stay NaN (whole, not partly).
        coords : list of str, optional
            Coordinates to fill (default: all). Each video of a batch is filled on its own.

        Example
        -------
        >>> df.pose.interpolate(max_gap=3)  # doctest: +SKIP
        """
        if isinstance(max_gap, bool) or not isinstance(max_gap, (int, np.integer)):
            raise TypeError(f"max_gap must be an int, got {type(max_gap).__name__}")
        if max_gap < 1:
            raise ValueError(f"max_gap must be at least 1, got {max_gap}")
        table = self._table
        coords = list(table.values) if coords is None else _as_list(coords)
        times = table.frame_times()
        values = {c: table.coord(c).astype(np.float64) for c in coords}
        for rows in table.groups():
            for coord in coords:
                values[coord][rows] = _fill_short_gaps(values[coord][rows], times[rows], max_gap)
        return table.write_back(self._df, values)

    def smooth(self, window: int = 5, method: str = "mean", coords=None) -> pd.DataFrame:
        """Centred moving average (or median) over ``window`` frames.

        Parameters
        ----------
        window : int
            Frames in the window (odd keeps it centred).
        method : {"mean", "median"}
        coords : list of str, optional
            Coordinates to smooth (default: ``x, y, z`` and the world ``x, y, z``). Frames that
            are NaN stay NaN; their neighbours are smoothed over the frames available.

        Example
        -------
        >>> df.pose.smooth(window=7, method="median")  # doctest: +SKIP
        """
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive int, got {window!r}")
        if method not in ("mean", "median"):
            raise ValueError(f"method must be 'mean' or 'median', got {method!r}")
        table = self._table
        if coords is None:
            coords = [
                c for c in ("x", "y", "z", "world_x", "world_y", "world_z") if c in table.values
            ]
        else:
            coords = _as_list(coords)
        values = {c: table.coord(c).astype(np.float64) for c in coords}
        for rows in table.groups():
            for coord in coords:
                block = pd.DataFrame(values[coord][rows])
                rolling = block.rolling(window, center=True, min_periods=1)
                smoothed = getattr(rolling, method)().to_numpy()
                values[coord][rows] = np.where(np.isnan(block.to_numpy()), np.nan, smoothed)
        return table.write_back(self._df, values)

    def visible(self, threshold: float = 0.5):
        """Which landmarks MediaPipe would draw: ``visibility >= threshold`` and presence too.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            Long layout: a boolean Series aligned with the rows (``df[df.pose.visible()]``).
            Wide layout: a boolean DataFrame, one row per frame, one column per landmark.
            Presence is ignored where it is NaN (e.g. tables from DeepLabCut).

        Example
        -------
        >>> df[df.pose.visible(0.8)]  # doctest: +SKIP
        """
        table = self._table
        mask = _visible_mask(table, threshold)
        if table.layout == "long":
            rows = np.zeros(len(self._df), bool)
            rows[table.positions.reshape(-1)] = mask.reshape(-1)
            return pd.Series(rows, index=self._df.index, name="visible")
        return pd.DataFrame(
            mask, index=self._df.index, columns=pd.Index(LANDMARK_NAMES, name="landmark")
        )

    def where_visible(self, threshold: float = 0.5) -> pd.DataFrame:
        """The table with the coordinates of landmarks below ``threshold`` set to NaN.

        Example
        -------
        >>> df.pose.where_visible(0.5).pose.interpolate(max_gap=5)  # doctest: +SKIP
        """
        table = self._table
        mask = _visible_mask(table, threshold)
        positional = ("x", "y", "z", "world_x", "world_y", "world_z")
        values = {
            c: np.where(mask, table.values[c].astype(np.float64), np.nan)
            for c in positional
            if c in table.values
        }
        return table.write_back(self._df, values)

    def plot(
        self, angles=None, landmarks=None, coords=("y",), ax=None, space: str = "image", **kwargs
    ):
        """Time series of joint angles and landmark coordinates.

        Parameters
        ----------
        angles : str or list of str, optional
            Named joint angles (:data:`JOINT_ANGLES`), in degrees.
        landmarks : str or list of str, optional
            Landmarks whose ``coords`` to plot.
        coords : str or list of str
            Coordinates of ``landmarks`` (``"x"``, ``"y"``, ``"world_y"``...).
        ax : matplotlib Axes, optional
        space : {"image", "world"}
            Where angles are measured (see :meth:`angle`).
        **kwargs
            Passed to ``Axes.plot``.

        Returns
        -------
        matplotlib.axes.Axes

        Example
        -------
        >>> ax = df.pose.plot(angles=["left_knee", "right_knee"])  # doctest: +SKIP
        """
        import matplotlib.pyplot as plt

        angles = _as_list(angles)
        landmarks = _as_list(landmarks)
        coords = _as_list(coords)
        if not angles and not landmarks:
            raise ValueError("name something to plot: angles=[...] and/or landmarks=[...]")
        table = self._table
        series = [self.angle(name, space=space) for name in angles]
        for name in landmarks:
            frame = self.landmark(name, coords)
            for coord in coords:
                series.append(frame[coord].rename(f"{_name(name)}.{coord}"))
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 3.5))
        times = table.frame_times()
        labels = table.video_labels if table.videos is not None else None
        for rows in table.groups():
            prefix = "" if labels is None else f"{labels[table.videos[rows[0]]]}: "
            for item in series:
                ax.plot(times[rows], item.to_numpy()[rows], label=prefix + str(item.name), **kwargs)
        ax.set_xlabel("time (s)")
        if angles and not landmarks:
            ax.set_ylabel("angle (degrees)")
        elif landmarks and not angles:
            ax.set_ylabel(", ".join(coords) + f" ({_unit_label(table, coords)})")
        if len(ax.get_lines()) > 1:
            ax.legend(fontsize="small")
        ax.grid(True, alpha=0.3)
        return ax

    def to_track(self, **kwargs):
        """The :class:`~posejax.track.PoseTrack` of this table (see :func:`track_from_dataframe`).

        Example
        -------
        >>> track = df.pose.to_track()  # doctest: +SKIP
        """
        return track_from_dataframe(self._df, **kwargs)

    def to_layout(self, layout: str, scorer: str | None = None) -> pd.DataFrame:
        """This table in another layout (see :func:`convert_layout`).

        Example
        -------
        >>> wide = df.pose.to_layout("wide")  # doctest: +SKIP
        """
        return convert_layout(self._df, layout, scorer=scorer)

    def to_xarray(self, space: str = "image"):
        """The ``movement`` package's xarray Dataset (see :func:`posejax.io.to_xarray`).

        Example
        -------
        >>> ds = df.pose.to_xarray()  # doctest: +SKIP
        """
        from posejax.io import to_xarray

        return to_xarray(self._df, space=space)


def _visible_mask(table: _Table, threshold: float) -> np.ndarray:
    if not isinstance(threshold, (int, float, np.floating)) or isinstance(threshold, bool):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    visibility = table.coord("visibility")
    presence = table.values.get("presence")
    mask = visibility >= threshold
    if presence is not None:
        mask &= ~(presence < threshold)
    return mask


def _unit_label(table: _Table, coords) -> str:
    if all(c.startswith("world_") for c in coords):
        return "m"
    return {"px": "px", "pose": "pose units"}.get(table.units, "normalized")


def _as_list(items) -> list:
    if items is None:
        return []
    if isinstance(items, (str, int, np.integer)):
        return [items]
    return list(items)


def _name(landmark: str | int) -> str:
    return LANDMARK_NAMES[landmark_index(landmark)]


def _register_accessor() -> None:
    """Register ``df.pose``; importing or reloading this module again replaces it quietly."""
    existing = getattr(pd.DataFrame, "pose", None)
    ours = getattr(existing, "__module__", None) == __name__
    with warnings.catch_warnings():
        if ours:
            warnings.simplefilter("ignore", UserWarning)
        pd.api.extensions.register_dataframe_accessor("pose")(PoseAccessor)


_register_accessor()
