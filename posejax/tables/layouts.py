"""Pose DataFrame layouts, and the table every layout is parsed into.

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

:func:`parse_table` takes any of them apart into a :class:`PoseTable` (per coordinate an array
``(frames, 33)``), which is what the conversions, the files, the xarray export and the ``df.pose``
accessor work on; :meth:`PoseTable.to_frame` builds a layout back. What a table needs to become a
:class:`~posejax.result.PoseTrack` again (frame rate, image size, ROIs, per-frame times of the
wide layout) travels in ``df.attrs``; per-frame entries there are indexed by frame number, so row
selections keep working.

Over the house's 500 lines by a little: the long parser keeps frames with missing landmark rows
apart from duplicated ones, and that rule belongs with the layouts it reads.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from posejax.landmarks import LANDMARK_NAMES, NUM_LANDMARKS, landmark_index

#: Coordinate columns of the long and wide layouts, in order.
COORDS: tuple[str, ...] = (
    "x", "y", "z", "visibility", "presence", "world_x", "world_y", "world_z", "world_visibility",
)  # fmt: skip


LAYOUTS = ("long", "wide", "dlc")
UNITS = ("normalized", "px")
# Coordinates scaled by the image width (x, and z which MediaPipe puts on x's scale) or height.
WIDTH_SCALED = ("x", "z")
HEIGHT_SCALED = ("y",)


#: Flat column name of each ``(landmark, coord)`` pair of a wide table: ``"left_knee_x"``.
_FLAT_NAMES: dict[str, tuple[str, str]] = {
    f"{name}_{coord}": (name, coord)
    for name in LANDMARK_NAMES
    for coord in COORDS + ("likelihood",)
}


def flat_column_names(columns: pd.MultiIndex) -> list[str]:
    """One-level names of a wide table's columns: ``("left_knee", "x")`` becomes ``left_knee_x``.

    Wide CSV and Parquet files use them, so that a reader without posejax (``pd.read_csv``,
    DuckDB, R) sees one plain name per column; :func:`split_flat_names` inverts it. A scorer
    level (the first of three) is dropped.

    Example
    -------
    >>> columns = pd.MultiIndex.from_tuples([("nose", "x"), ("left_knee", "world_z")])
    >>> flat_column_names(columns)
    ['nose_x', 'left_knee_world_z']
    """
    pairs = zip(columns.get_level_values(-2), columns.get_level_values(-1), strict=True)
    return [f"{name}_{coord}" for name, coord in pairs]


def split_flat_names(names) -> list[tuple[str, str]] | None:
    """``(landmark, coord)`` of each flat wide-table column name; None if one is not a pose column.

    Example
    -------
    >>> split_flat_names(["nose_x", "left_eye_inner_visibility"])
    [('nose', 'x'), ('left_eye_inner', 'visibility')]
    >>> split_flat_names(["nose_x", "comment"]) is None
    True
    """
    pairs = [_FLAT_NAMES.get(str(name)) for name in names]
    return None if not pairs or None in pairs else pairs


def landmark_dtype() -> pd.CategoricalDtype:
    """The ordered categorical dtype of the ``landmark`` column (33 names in index order).

    Example
    -------
    >>> landmark_dtype().categories[25]
    'left_knee'
    """
    return pd.CategoricalDtype(list(LANDMARK_NAMES), ordered=True)


# -- the frame table shared by the layouts --------------------------------------------------------


@dataclasses.dataclass
class PoseTable:
    """A pose DataFrame taken apart: per coordinate an array ``(F, 33)`` over its F frames.

    Built by :func:`parse_table`; :meth:`to_frame` gives a DataFrame in :attr:`layout` again and
    :meth:`write_back` puts new coordinates into the DataFrame it was parsed from.

    Example
    -------
    >>> table = parse_table(track.to_dataframe())
    >>> table.coord("x").shape
    (230, 33)
    """

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
        """Number of frames (rows of each coordinate array)."""
        return len(self.frames)

    @property
    def units(self) -> str:
        """``"normalized"``, ``"px"`` or ``"pose"`` (after normalization), from ``attrs``."""
        return self.attrs.get("units", "normalized")

    def replace(self, **changes) -> PoseTable:
        """A copy with some fields changed (:func:`dataclasses.replace`)."""
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
        """``(F,)`` seconds: the ``time`` column, ``attrs["timestamps"]`` or frame / fps."""
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
        """``(F, 33)`` values of one coordinate; ValueError naming the ones the table has."""
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
        """``(F, 33, 3)`` world x, y, z in metres."""
        return np.stack([self.coord(f"world_{c}").astype(np.float64) for c in "xyz"], axis=-1)

    def points(self, space: str) -> np.ndarray:
        """:meth:`image_points` for ``space="image"``, :meth:`world_points` for ``"world"``."""
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
            kept = rows >= 0  # landmarks without a row in the table have nowhere to go
            for coord, array in values.items():
                column = out[coord].to_numpy(dtype=np.result_type(out[coord].dtype, array.dtype))
                column = column.copy()
                column[rows[kept]] = array.reshape(-1)[kept]
                out[coord] = column
        else:
            for coord, array in values.items():
                for j, position in enumerate(self.positions[coord]):
                    out.isetitem(int(position), array[:, j])
        out.attrs = {**df.attrs, **attrs}
        return out

    # back to a DataFrame --------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame in its :attr:`layout`, with its ``attrs``."""
        builders = {"long": self._long, "wide": self._wide, "dlc": self._dlc}
        df = builders[self.layout]()
        df.attrs = dict(self.attrs)
        return df

    def _long(self) -> pd.DataFrame:
        n = self.n_frames
        columns = {}
        if self.videos is not None:
            codes = np.repeat(self.videos, NUM_LANDMARKS)
            columns["video"] = pd.Categorical.from_codes(codes, categories=self.video_labels)
        columns["frame"] = np.repeat(self.frames.astype(np.int64), NUM_LANDMARKS)
        if self.times is not None:
            columns["time"] = np.repeat(self.times, NUM_LANDMARKS)
        columns["landmark"] = pd.Categorical.from_codes(
            np.tile(np.arange(NUM_LANDMARKS), n), dtype=landmark_dtype()
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


def _take_rows(column: np.ndarray, rows: np.ndarray, lacking: np.ndarray) -> np.ndarray:
    """``column[rows]`` with NaN where a landmark has no row."""
    values = column[np.where(lacking, 0, rows)]
    if lacking.any():
        values = values.astype(np.result_type(values.dtype, np.float32), copy=True)
        values[lacking] = np.nan
    return values


def _parse_long(df: pd.DataFrame) -> PoseTable:
    if "frame" not in df.columns:
        raise ValueError("a long pose table needs a 'frame' column")
    if len(df) == 0:
        raise ValueError("the pose table has no rows")
    codes = _landmark_codes(df["landmark"])
    frames = df["frame"].to_numpy()
    if not np.issubdtype(frames.dtype, np.integer):
        if not np.all(np.isfinite(frames)) or not np.all(frames == np.round(frames)):
            raise ValueError("the frame column must hold whole numbers")
        frames = frames.astype(np.int64)
    videos, labels = (None, None)
    if "video" in df.columns:
        videos, labels = _video_codes(df["video"])
    if (codes < 0).any():
        raise ValueError("the landmark column has values that are not landmark names")
    # One row per (video, frame) key; landmarks whose rows were removed (a filter on
    # visibility, say) are NaN in their frame, never taken from another frame.
    keys = frames if videos is None else np.stack([videos, frames], axis=1)
    unique, frame_of_row = np.unique(keys, axis=0, return_inverse=True)
    frame_of_row = frame_of_row.reshape(-1)
    cell = frame_of_row * NUM_LANDMARKS + codes
    counts = np.bincount(cell, minlength=len(unique) * NUM_LANDMARKS)
    if (counts > 1).any():
        twice = int(np.flatnonzero(counts > 1)[0])
        where = unique[twice // NUM_LANDMARKS]
        frame = where if videos is None else where[1]
        video = "" if videos is None else f" of video {labels[int(where[0])]!r}"
        raise ValueError(
            f"frame {int(frame)}{video} has landmark {LANDMARK_NAMES[twice % NUM_LANDMARKS]!r} "
            "more than once: every frame of a long pose table needs each of the 33 landmarks "
            "once (a table of several videos needs a 'video' column that tells them apart)"
        )
    first = np.full((len(unique), NUM_LANDMARKS), -1, np.int64)
    first[frame_of_row, codes] = np.arange(len(df))
    lacking = first < 0
    values = {}
    for c in COORDS:
        if c in df.columns:
            values[c] = _take_rows(df[c].to_numpy(), first, lacking)
    if "likelihood" in df.columns and "visibility" not in values:
        values["visibility"] = _take_rows(df["likelihood"].to_numpy(), first, lacking)
    any_row = first.max(axis=1)
    frame_rows = frames[any_row][:, None]
    times = None
    if "time" in df.columns:
        times = df["time"].to_numpy(np.float64)[any_row]
    return PoseTable(
        values=values,
        frames=frame_rows[:, 0].astype(np.int64),
        videos=None if videos is None else videos[any_row],
        video_labels=labels,
        times=times,
        attrs=dict(df.attrs),
        layout="long",
        positions=first,
    )


def _parse_wide(df: pd.DataFrame) -> PoseTable:
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
    return PoseTable(
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


def parse_table(df) -> PoseTable:
    """Take a pose DataFrame of any layout apart into a :class:`PoseTable`.

    Raises a ValueError that names what is missing when ``df`` is not a pose table.

    Example
    -------
    >>> parse_table(track.to_dataframe("wide")).layout
    'wide'
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if isinstance(df.columns, pd.MultiIndex):
        return _parse_wide(df)
    if "landmark" in df.columns:
        return _parse_long(df)
    pose_columns = [c for c in df.columns if c not in ("video", "frame")]
    if split_flat_names(pose_columns) is not None:
        raise ValueError(
            "this is a wide pose table with flat column names (nose_x, ...), as pd.read_csv "
            "gives for a posejax wide CSV; read the file with posejax.read_landmarks(path), which "
            "rebuilds the (landmark, coord) columns"
        )
    raise ValueError(
        "not a pose table: expected a 'landmark' column (long layout) or MultiIndex columns "
        "(landmark, coord) (wide layout); build one with PoseTrack.to_dataframe()"
    )


def detect_layout(df: pd.DataFrame) -> str:
    """``"long"``, ``"wide"`` or ``"dlc"``: the layout of a pose DataFrame.

    Example
    -------
    >>> detect_layout(track.to_dataframe("wide"))
    'wide'
    >>> detect_layout(track.to_dataframe("dlc"))
    'dlc'
    """
    return parse_table(df).layout
