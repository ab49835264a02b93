"""Pose DataFrame layouts, and the table every layout is parsed into.

Two layouts hold the same numbers:

``long`` (tidy)
    One row per frame and landmark: ``video, frame, time, landmark, x, y, z, visibility,
    presence, world_x, world_y, world_z, world_visibility, image_width, image_height``.
    ``landmark`` is an ordered categorical of the 33 names, ``video`` a categorical.
``wide``
    One row per frame, indexed by ``(video, frame)``; columns a MultiIndex ``(landmark, coord)``
    and the per-frame columns ``("time", "")``, ``("image_width", "")``, ``("image_height", "")``
    (so ``df["time"]`` is a Series). With ``scorer=...`` the column levels are DeepLabCut's
    ``(scorer, bodyparts, coords)``.

A third, lossy layout ``dlc`` is DeepLabCut's own table: pixel ``x, y`` and ``likelihood``
(= visibility) per landmark, which DeepLabCut and ``movement`` read.

Several people (a track of ``num_poses > 1``, or one person's track taken out of it) add an
``individual`` column, a categorical of the person names, right after ``video``: the long layout
has one row per ``(video, individual, frame, landmark)``, the wide one is indexed by
``(video, individual, frame)``, rows person by person, so the table of a multi-person track is
the ``pd.concat`` of its people's tables. A row of a :class:`PoseTable` is then one person on
one frame, and everything done "per video" (:meth:`PoseTable.groups`) is done per video and
person. The ``dlc`` layout uses DeepLabCut's multi-animal columns ``(scorer, individuals,
bodyparts, coords)``, one row per frame. Tables without the column hold one person, as before.

:func:`parse_table` takes any of them apart into a :class:`PoseTable` (per coordinate an array
``(frames, 33)``), which is what the conversions, the files, the xarray export and the ``df.pose``
accessor work on; :meth:`PoseTable.to_frame` builds a layout back.

A table describes itself in its columns: which video (``video``), which frame, the frame's time
in seconds (``time``) and the image size pixel maths needs, and, when the coordinates are not
normalized, a ``units`` column (``"px"``, or ``"pose"`` after ``df.pose.normalize()``). So
``pd.concat``, ``groupby``, boolean row selection, ``to_parquet``/``read_parquet`` and Dask keep
everything ``df.pose``, ``classify`` and the readers need. ``df.attrs`` hold small JSON values
only (frame rate, model complexity, units): a cache, never required. Tables of earlier posejax
versions, whose per-frame times, image sizes and ROIs sat in ``attrs``, still parse; their
``attrs`` are read where the columns are missing.

The per-frame columns cost 4 bytes per landmark row (a 1-byte video code and two 2-byte sizes
where they fit, 33 rows a frame), and Parquet's dictionary and run-length encodings store them
in almost nothing.

Over the house's 500 lines: the long parser keeps frames with missing landmark rows apart from
duplicated ones, and the DeepLabCut multi-animal reader and writer sit beside the single-animal
ones; those rules belong with the layouts they read, and :class:`PoseTable` with its parsers.
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


#: Per-frame columns beside the coordinates: the frame's time (s) and the image size in pixels.
FRAME_COLUMNS: tuple[str, ...] = ("time", "image_width", "image_height")
#: The column that says the coordinates' units where they are not ``"normalized"``.
UNITS_COLUMN = "units"
#: The ``video`` label of a track whose frames came as arrays, without a name.
DEFAULT_VIDEO = "0"
#: Keys of ``df.attrs`` that held per-frame arrays in earlier posejax versions; read, not written.
LEGACY_ATTRS = ("image_size", "image_sizes", "timestamps", "rois", "video_names")

LAYOUTS = ("long", "wide", "dlc")
UNITS = ("normalized", "px")
# Coordinates scaled by the image width (x, and z which MediaPipe puts on x's scale) or height.
WIDTH_SCALED = ("x", "z")
HEIGHT_SCALED = ("y",)


#: Flat column name of each ``(landmark, coord)`` pair of a wide table: ``"left_knee_x"``; the
#: per-frame columns ``("time", "")`` keep their own name.
_FLAT_NAMES: dict[str, tuple[str, str]] = {
    f"{name}_{coord}": (name, coord)
    for name in LANDMARK_NAMES
    for coord in COORDS + ("likelihood",)
} | {name: (name, "") for name in FRAME_COLUMNS + (UNITS_COLUMN,)}


def flat_column_names(columns: pd.MultiIndex) -> list[str]:
    """One-level names of a wide table's columns: ``("left_knee", "x")`` becomes ``left_knee_x``.

    Wide CSV and Parquet files use them, so that a reader without posejax (``pd.read_csv``,
    DuckDB, R) sees one plain name per column; :func:`split_flat_names` inverts it. A scorer
    level (the first of three) is dropped.

    Example
    -------
    >>> columns = pd.MultiIndex.from_tuples([("time", ""), ("nose", "x"), ("left_knee", "world_z")])
    >>> flat_column_names(columns)
    ['time', 'nose_x', 'left_knee_world_z']
    """
    pairs = zip(columns.get_level_values(-2), columns.get_level_values(-1), strict=True)
    return [f"{name}_{coord}" if coord != "" else str(name) for name, coord in pairs]


def split_flat_names(names) -> list[tuple[str, str]] | None:
    """``(landmark, coord)`` of each flat wide-table column name; None if one is not a pose column.

    Example
    -------
    >>> split_flat_names(["time", "nose_x", "left_eye_inner_visibility"])
    [('time', ''), ('nose', 'x'), ('left_eye_inner', 'visibility')]
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


def size_dtype(sizes: np.ndarray) -> np.dtype:
    """The smallest signed integer type holding every image size (int16 up to 32767 pixels)."""
    finite = sizes[np.isfinite(sizes)] if np.issubdtype(sizes.dtype, np.floating) else sizes
    return np.dtype(np.int16 if finite.size == 0 or finite.max() <= 32767 else np.int32)


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
    # (F, 2) height and width of each frame from the table's columns; NaN where a row lacks them.
    sizes: np.ndarray | None = None
    # Whose pose each row holds: codes into individual_labels (the ``individual`` column); None
    # for a table of one unnamed person.
    individuals: np.ndarray | None = None
    individual_labels: list[str] | None = None
    # A DeepLabCut multi-animal table: (df row, individual position) of each row of this table.
    dlc_rows: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        """Number of frames (rows of each coordinate array)."""
        return len(self.frames)

    @property
    def n_videos(self) -> int:
        """Number of videos the table holds (1 for a table without a ``video`` column)."""
        return 1 if self.videos is None else len(np.unique(self.videos))

    @property
    def n_individuals(self) -> int:
        """Number of people the table holds (1 for a table without an ``individual`` column).

        Example
        -------
        >>> parse_table(two_people.to_dataframe()).n_individuals  # num_poses=2
        2
        """
        return 1 if self.individuals is None else len(np.unique(self.individuals))

    @property
    def units(self) -> str:
        """``"normalized"``, ``"px"`` or ``"pose"`` (after normalization)."""
        return self.attrs.get("units", "normalized")

    def replace(self, **changes) -> PoseTable:
        """A copy with some fields changed (:func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    # per-frame look-ups -------------------------------------------------------------------------
    def _video_column(self) -> pd.Categorical:
        if self.videos is None:
            return pd.Categorical.from_codes(np.zeros(self.n_frames, np.int8), [DEFAULT_VIDEO])
        return pd.Categorical.from_codes(self.videos, categories=self.video_labels)

    def _individual_column(self) -> pd.Categorical:
        return pd.Categorical.from_codes(self.individuals, categories=self.individual_labels)

    def index(self) -> pd.Index:
        """Row index of per-frame results: ``frame``, ``([video,] [individual,] frame)``.

        ``video`` comes in front for several videos, ``individual`` for several people.
        """
        levels, names = [], []
        if self.n_videos > 1:
            levels.append(self._video_column())
            names.append("video")
        if self.n_individuals > 1:
            levels.append(self._individual_column())
            names.append("individual")
        if not levels:
            return pd.Index(self.frames, name="frame")
        return pd.MultiIndex.from_arrays(levels + [self.frames], names=names + ["frame"])

    def row_index(self) -> pd.MultiIndex:
        """``(video, [individual,] frame)`` of every row: the row index of the wide layout."""
        if self.individuals is None:
            return pd.MultiIndex.from_arrays([self._video_column(), self.frames],
                                             names=["video", "frame"])
        return pd.MultiIndex.from_arrays(
            [self._video_column(), self._individual_column(), self.frames],
            names=["video", "individual", "frame"],
        )

    def labels_of(self, rows) -> tuple[str | None, str | None]:
        """``(video, individual)`` labels of a group of rows (:meth:`groups`), None if absent.

        Example
        -------
        >>> table = parse_table(two_people.to_dataframe("wide"))
        >>> [table.labels_of(rows) for rows in table.groups()]
        [('sports2d_demo', 'person_0'), ('sports2d_demo', 'person_1')]
        """
        first = rows[0]
        video = None if self.videos is None else self.video_labels[self.videos[first]]
        person = (None if self.individuals is None
                  else self.individual_labels[self.individuals[first]])
        return video, person

    def take(self, rows: np.ndarray) -> PoseTable:
        """The table of some rows (frames of people): every per-row array indexed by ``rows``.

        The result has no :attr:`positions` (it cannot write back into a DataFrame).

        Example
        -------
        >>> table = parse_table(two_people.to_dataframe())
        >>> table.take(np.flatnonzero(table.frames < 10)).n_frames  # 10 frames of 2 people
        20
        """
        def pick(array):
            return None if array is None else array[rows]

        return self.replace(
            values={c: v[rows] for c, v in self.values.items()}, frames=self.frames[rows],
            videos=pick(self.videos), times=pick(self.times), sizes=pick(self.sizes),
            individuals=pick(self.individuals), positions=None, dlc_rows=None,
        )  # fmt: skip

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

    def _sizes_from_attrs(self) -> np.ndarray | None:
        if "image_size" in self.attrs:
            return np.broadcast_to(
                np.asarray(self.attrs["image_size"], np.float64), (self.n_frames, 2)
            ).copy()
        if "image_sizes" in self.attrs:
            return self._per_frame(np.asarray(self.attrs["image_sizes"], np.float64), np.nan)
        return None

    def image_sizes(self) -> np.ndarray:
        """``(F, 2)`` height and width of each frame; ValueError if the table does not say."""
        sizes = self._all_sizes()
        if np.isnan(sizes).any():
            raise ValueError(
                "the image size is unknown for some rows: a posejax table carries it in its "
                "'image_width' and 'image_height' columns (was one dropped, or rows from another "
                "table added?); set them, e.g. df['image_width'] = 1920, to turn normalized "
                "coordinates into pixels"
            )
        return sizes

    def frame_times(self) -> np.ndarray:
        """``(F,)`` seconds: the ``time`` column, else ``attrs["timestamps"]`` or frame / fps."""
        times = None if self.times is None else self.times.copy()
        if times is not None and not np.isnan(times).any():
            return times
        if "timestamps" in self.attrs:
            cached = self._per_frame(np.asarray(self.attrs["timestamps"], np.float64), np.nan)
            times = cached if times is None else np.where(np.isnan(times), cached, times)
            if not np.isnan(times).any():
                return times
        fps = self.attrs.get("fps")
        if fps is None:
            raise ValueError(
                "the table has no times: a posejax table carries them in its 'time' column "
                "(seconds); set one, or df.attrs['fps'] for frame / fps"
            )
        by_rate = self.frames / float(fps)
        return by_rate if times is None else np.where(np.isnan(times), by_rate, times)

    def frame_rate(self) -> float:
        """Frames per second: ``attrs["fps"]``, else the median step of the ``time`` column.

        Raises a ValueError when neither says (a table of single frames without ``attrs``).
        """
        if self.attrs.get("fps") is not None:
            return float(self.attrs["fps"])
        if self.times is not None:
            steps = []
            for rows in self.groups():
                frames, times = self.frames[rows], self.times[rows]
                gaps = np.diff(frames)
                ok = (gaps > 0) & np.isfinite(np.diff(times))
                steps.append(np.diff(times)[ok] / gaps[ok])
            steps = np.concatenate(steps) if steps else np.zeros(0)
            steps = steps[steps > 0]
            if steps.size:
                # Nine significant digits: what float noise in the times leaves exact (10 fps
                # is 10.0 again, not 9.999999999999991), so a table counts as its track does.
                return float(f"{1.0 / np.median(steps):.9g}")
        raise ValueError(
            "the frame rate is unknown: the table's 'time' column has fewer than two frames of "
            "one video; pass fps= or set df.attrs['fps']"
        )

    def groups(self):
        """Row selections of each video, and of each person in it, in frame order.

        A table of several people (an ``individual`` column) gives one group per
        ``(video, individual)``: filters, gap filling and smoothing never mix two people.

        Example
        -------
        >>> [len(rows) for rows in parse_table(two_people.to_dataframe()).groups()]
        [230, 230]
        """
        if self.videos is None and self.individuals is None:
            yield np.argsort(self.frames, kind="stable")
            return
        keys = [k for k in (self.videos, self.individuals) if k is not None]
        unique, inverse = np.unique(np.stack(keys, axis=1), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        for group in range(len(unique)):
            rows = np.flatnonzero(inverse == group)
            yield rows[np.argsort(self.frames[rows], kind="stable")]

    def _all_sizes(self) -> np.ndarray:
        """``(F, 2)`` sizes from the columns, else from earlier versions' attrs; NaN unknown."""
        sizes = (np.full((self.n_frames, 2), np.nan) if self.sizes is None
                 else self.sizes.astype(np.float64, copy=True))
        if np.isnan(sizes).any():
            cached = self._sizes_from_attrs()  # tables of earlier versions kept them there
            if cached is not None:
                sizes = np.where(np.isnan(sizes), cached, sizes)
        return sizes

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
            sizes = self._all_sizes()
            # Frames without a pose need no size: NaN stays NaN, whatever their size says.
            posed = np.isfinite(x).any(axis=1) | np.isfinite(y).any(axis=1)
            if np.isnan(sizes[posed]).any():
                self.image_sizes()  # raises, saying where the size belongs
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
        """A copy of ``df`` (the table this one was parsed from) holding new ``values``.

        ``units=`` among ``attrs`` also sets the table's ``units`` column.
        """
        out = df.copy()
        cached = json_attrs(df.attrs)
        if self.layout == "dlc" and "image_size" in df.attrs:
            # A DeepLabCut table has no size columns: its one image size lives in attrs.
            cached["image_size"] = df.attrs["image_size"]
        if self.dlc_rows is not None:  # a multi-animal DeepLabCut table: built again
            merged = self.replace(values={**self.values, **values}, layout="dlc")
            out = merged.to_frame().set_axis(df.index[np.unique(self.dlc_rows[:, 0])])
            out.attrs = {**cached, **attrs}
            return out
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
            out = out.copy()  # one block again after hundreds of column writes
        if "units" in attrs and self.layout != "dlc":
            _set_units_column(out, attrs["units"], self.scorer)
        out.attrs = {**cached, **attrs}
        return out

    # back to a DataFrame --------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame in its :attr:`layout`, with its ``attrs``."""
        builders = {"long": self._long, "wide": self._wide, "dlc": self._dlc}
        df = builders[self.layout]()
        attrs = json_attrs(self.attrs)
        if self.layout == "dlc":  # DeepLabCut's table has no columns for them
            attrs.update(self._dlc_attrs())
        df.attrs = attrs
        return df

    def _frame_columns(self) -> dict[str, np.ndarray]:
        """The per-frame columns (``time``, ``image_width``, ``image_height``), where known."""
        columns = {}
        times = self.times
        if times is None:
            try:
                times = self.frame_times()
            except ValueError:
                times = None
        if times is not None:
            columns["time"] = np.asarray(times, np.float64)
        sizes = self._all_sizes()
        if not np.isnan(sizes).all():
            if np.isnan(sizes).any():
                columns["image_width"] = pd.array(np.where(np.isnan(sizes[:, 1]), None,
                                                           sizes[:, 1]), dtype="Int32")
                columns["image_height"] = pd.array(np.where(np.isnan(sizes[:, 0]), None,
                                                            sizes[:, 0]), dtype="Int32")
            else:
                dtype = size_dtype(sizes)
                columns["image_width"] = sizes[:, 1].astype(dtype)
                columns["image_height"] = sizes[:, 0].astype(dtype)
        return columns

    def _long(self) -> pd.DataFrame:
        n = self.n_frames
        per_frame = self._frame_columns()
        columns = {"video": self._video_column()[np.repeat(np.arange(n), NUM_LANDMARKS)]}
        if self.individuals is not None:
            columns["individual"] = self._individual_column()[
                np.repeat(np.arange(n), NUM_LANDMARKS)]
        columns["frame"] = np.repeat(self.frames.astype(np.int32), NUM_LANDMARKS)
        if "time" in per_frame:
            columns["time"] = np.repeat(per_frame["time"], NUM_LANDMARKS)
        columns["landmark"] = pd.Categorical.from_codes(
            np.tile(np.arange(NUM_LANDMARKS), n), dtype=landmark_dtype()
        )
        for coord, array in self.values.items():
            columns[coord] = array.reshape(-1)
        for name in ("image_width", "image_height"):
            if name in per_frame:
                columns[name] = np.repeat(per_frame[name], NUM_LANDMARKS)
        df = pd.DataFrame(columns)
        if self.units != "normalized":
            _set_units_column(df, self.units, None)
        return df

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
        index = self.row_index()
        pose = pd.DataFrame(data.astype(dtype, copy=False), index=index, columns=columns)
        per_frame = self._frame_columns()
        if not per_frame:
            return pose
        prefix = () if self.scorer is None else (self.scorer,)
        meta = pd.DataFrame(
            {prefix + (name, ""): values for name, values in per_frame.items()}, index=index
        )
        meta.columns = pd.MultiIndex.from_tuples(list(meta.columns), names=list(names))
        df = pd.concat([meta, pose], axis=1)
        if self.units != "normalized":
            _set_units_column(df, self.units, self.scorer)
        return df

    def _dlc(self) -> pd.DataFrame:
        if self.individuals is not None:
            return self._dlc_multi()
        x, y, likelihood = self._dlc_values()
        data = np.stack([x, y, likelihood], axis=-1).astype(np.float64).reshape(self.n_frames, -1)
        columns = pd.MultiIndex.from_product(
            [[self.scorer or "posejax"], list(LANDMARK_NAMES), ["x", "y", "likelihood"]],
            names=["scorer", "bodyparts", "coords"],
        )
        return pd.DataFrame(data, index=pd.Index(self.frames, name=None), columns=columns)

    def _dlc_multi(self) -> pd.DataFrame:
        """DeepLabCut's multi-animal table: one row per frame, four column levels.

        The levels are ``(scorer, individuals, bodyparts, coords)``; a person absent from a frame
        is NaN there.
        """
        points = np.stack(self._dlc_values(), axis=-1).astype(np.float64)  # (F, 33, 3)
        codes = np.unique(self.individuals)
        frames = np.unique(self.frames)
        data = np.full((len(frames), len(codes), NUM_LANDMARKS, 3), np.nan)
        data[np.searchsorted(frames, self.frames), np.searchsorted(codes, self.individuals)] = \
            points
        columns = pd.MultiIndex.from_product(
            [[self.scorer or "posejax"], [self.individual_labels[c] for c in codes],
             list(LANDMARK_NAMES), ["x", "y", "likelihood"]],
            names=["scorer", "individuals", "bodyparts", "coords"],
        )  # fmt: skip
        return pd.DataFrame(data.reshape(len(frames), -1), index=pd.Index(frames, name=None),
                            columns=columns)

    def _dlc_values(self):
        """Pixel ``x, y`` and the likelihood (visibility), each ``(F, 33)``."""
        if self.units != "px":
            sizes = self.image_sizes()
            x = self.coord("x") * sizes[:, 1:2]
            y = self.coord("y") * sizes[:, 0:1]
        else:
            x, y = self.coord("x"), self.coord("y")
        likelihood = self.values.get("visibility", self.values.get("likelihood"))
        if likelihood is None:
            likelihood = np.full_like(x, np.nan)
        return x, y, likelihood

    def _dlc_attrs(self) -> dict:
        """What a DeepLabCut table keeps in ``attrs``: units, one image size, the frame rate."""
        attrs = {"units": "px"}
        sizes = np.unique(self._all_sizes(), axis=0)
        if len(sizes) == 1 and np.isfinite(sizes).all():
            attrs["image_size"] = (int(sizes[0, 0]), int(sizes[0, 1]))
        try:
            attrs["fps"] = self.frame_rate()
        except ValueError:
            pass
        return attrs


def json_attrs(attrs: dict) -> dict:
    """``attrs`` without the per-frame arrays earlier posejax versions kept there.

    What stays is plain JSON (numbers, strings, lists, dicts), so ``df.to_parquet``, ``pd.concat``
    and ``copy.deepcopy`` handle it.

    Example
    -------
    >>> json_attrs({"fps": 30.0, "rois": np.zeros((2, 5))})
    {'fps': 30.0}
    """
    return {k: v for k, v in attrs.items() if k not in LEGACY_ATTRS}


def _set_units_column(df: pd.DataFrame, units: str, scorer: str | None) -> None:
    """Put ``units`` in the table's ``units`` column (none for normalized coordinates)."""
    if isinstance(df.columns, pd.MultiIndex):
        key = (UNITS_COLUMN, "") if df.columns.nlevels == 2 else (scorer, UNITS_COLUMN, "")
    else:
        key = UNITS_COLUMN
    if units == "normalized":
        if key in df.columns:
            del df[key]
        return
    df[key] = pd.Categorical([units] * len(df), categories=[units])


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


def _video_codes(column: pd.Series, name: str = "video") -> tuple[np.ndarray, list[str]]:
    """Codes and labels of the ``video`` (or ``individual``) column, categories kept in order."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        if column.isna().any():
            raise ValueError(f"the {name} column has missing values")
        return column.cat.codes.to_numpy().astype(np.int64), [str(c) for c in column.cat.categories]
    codes, labels = pd.factorize(column, sort=False)
    if (codes < 0).any():
        raise ValueError(f"the {name} column has missing values")
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
    people, names = (None, None)
    if "individual" in df.columns:
        people, names = _video_codes(df["individual"], "individual")
    if (codes < 0).any():
        raise ValueError("the landmark column has values that are not landmark names")
    # One row per (video, individual, frame) key; landmarks whose rows were removed (a filter on
    # visibility, say) are NaN in their frame, never taken from another frame.
    parts = [k for k in (videos, people) if k is not None]
    keys = frames if not parts else np.stack(parts + [frames], axis=1)
    unique, frame_of_row = np.unique(keys, axis=0, return_inverse=True)
    frame_of_row = frame_of_row.reshape(-1)
    cell = frame_of_row * NUM_LANDMARKS + codes
    counts = np.bincount(cell, minlength=len(unique) * NUM_LANDMARKS)
    if (counts > 1).any():
        twice = int(np.flatnonzero(counts > 1)[0])
        where = unique[twice // NUM_LANDMARKS]
        frame = where if not parts else where[-1]
        video = "" if videos is None else f" of video {labels[int(where[0])]!r}"
        if people is not None:
            video += f" of individual {names[int(where[len(parts) - 1])]!r}"
        raise ValueError(
            f"frame {int(frame)}{video} has landmark {LANDMARK_NAMES[twice % NUM_LANDMARKS]!r} "
            "more than once: every frame of a long pose table needs each of the 33 landmarks "
            "once. Tables of several videos joined with pd.concat need 'video' labels that tell "
            "them apart: name each video, e.g. track.to_dataframe(video='squat_1.mp4')"
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
        times = _float_column(df["time"])[any_row]
    sizes = _sizes(df.get("image_height"), df.get("image_width"))
    return PoseTable(
        values=values,
        frames=frame_rows[:, 0].astype(np.int64),
        videos=None if videos is None else videos[any_row],
        video_labels=labels,
        times=times,
        attrs=_with_units(dict(df.attrs), df.get(UNITS_COLUMN)),
        layout="long",
        positions=first,
        sizes=None if sizes is None else sizes[any_row],
        individuals=None if people is None else people[any_row],
        individual_labels=names,
    )


def _float_column(column) -> np.ndarray:
    """A numeric column as float64, missing values (``pd.NA`` of nullable dtypes) as NaN."""
    return pd.to_numeric(pd.Series(column), errors="raise").to_numpy(np.float64, na_value=np.nan)


def _sizes(height, width) -> np.ndarray | None:
    """``(rows, 2)`` height, width from the table's size columns (NaN where missing)."""
    if height is None or width is None:
        return None
    return np.stack([_float_column(height), _float_column(width)], axis=1)


def _with_units(attrs: dict, column) -> dict:
    """``attrs`` with the ``units`` the table's ``units`` column gives (it wins over attrs)."""
    if column is None:
        return attrs
    units = pd.unique(pd.Series(column).astype(object))
    if len(units) != 1 or pd.isna(units[0]):
        raise ValueError(
            f"the table mixes coordinate units {[str(u) for u in units]} in its 'units' column; "
            "convert the parts to one unit before joining them"
        )
    if str(units[0]) not in UNITS + ("pose",):
        raise ValueError(f"unknown units {str(units[0])!r}; expected one of {UNITS + ('pose',)}")
    attrs["units"] = str(units[0])
    return attrs


def _meta_positions(columns: pd.MultiIndex) -> dict[str, int]:
    """Positions of a wide table's per-frame columns (``("time", "")``, ...) by name."""
    names = columns.get_level_values(-2)
    last = columns.get_level_values(-1)
    return {
        str(name): i
        for i, (name, end) in enumerate(zip(names, last, strict=True))
        if end == "" and name in FRAME_COLUMNS + (UNITS_COLUMN,)
    }


def _parse_wide(df: pd.DataFrame) -> PoseTable:
    layout = "wide"
    meta = _meta_positions(df.columns) if df.columns.nlevels in (2, 3) else {}
    pose_positions = np.setdiff1d(np.arange(df.shape[1]), list(meta.values()))
    columns = df.columns[pose_positions]
    scorer = None
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
    level_names = tuple(
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
    position = {
        (p, c): int(i) for i, p, c in zip(pose_positions, parts, coords, strict=True)
    }
    data = df.iloc[:, pose_positions].to_numpy()
    local = {int(i): j for j, i in enumerate(pose_positions)}
    values, positions = {}, {}
    for coord in present:
        missing = [name for name in LANDMARK_NAMES if (name, coord) not in position]
        if missing:
            raise ValueError(f"the pose table lacks {coord!r} for landmark(s) {missing[:5]}")
        key = "visibility" if coord == "likelihood" else coord
        positions[key] = np.array([position[(name, coord)] for name in LANDMARK_NAMES])
        values[key] = data[:, [local[int(i)] for i in positions[key]]]
    if layout == "dlc":
        values = {c: values[c] for c in ("x", "y", "visibility") if c in values}
    index = df.index
    videos, labels, people, names = None, None, None, None
    if isinstance(index, pd.MultiIndex):
        if "frame" not in index.names:
            raise ValueError(f"a pose table's row index needs a 'frame' level, got {index.names}")
        frames = index.get_level_values("frame").to_numpy()
        if "video" in index.names:
            videos, labels = _video_codes(pd.Series(index.get_level_values("video")))
        if "individual" in index.names:
            people, names = _video_codes(pd.Series(index.get_level_values("individual")),
                                         "individual")
    else:
        frames = index.to_numpy()
    if not np.issubdtype(frames.dtype, np.integer):
        raise ValueError(f"a wide pose table is indexed by frame numbers, got {frames.dtype}")
    def meta_column(name):
        return df.iloc[:, meta[name]] if name in meta else None

    attrs = _with_units(dict(df.attrs), meta_column(UNITS_COLUMN))
    if layout == "dlc":
        attrs.setdefault("units", "px")
    times = meta_column("time")
    return PoseTable(
        values={c: np.asarray(v, dtype=_float_dtype(v)) for c, v in values.items()},
        frames=frames.astype(np.int64),
        videos=videos,
        video_labels=labels,
        times=None if times is None else _float_column(times),
        sizes=_sizes(meta_column("image_height"), meta_column("image_width")),
        attrs=attrs,
        layout=layout,
        scorer=scorer,
        wide_names=level_names if scorer is None else ("landmark", "coord"),
        positions=positions,
        individuals=people,
        individual_labels=names,
    )


#: DeepLabCut's name for the bodyparts of a multi-animal project that belong to no animal.
_DLC_UNIQUE = "single"


def _parse_dlc_multi(df: pd.DataFrame) -> PoseTable:
    """A DeepLabCut multi-animal table, columns ``(scorer, individuals, bodyparts, coords)``.

    Each individual's columns are parsed as a one-animal table; the rows of the result are
    ``(individual, frame)`` pairs, one per row of ``df`` and individual, person by person.
    """
    people = [str(p) for p in pd.unique(df.columns.get_level_values(1)) if p != _DLC_UNIQUE]
    if not people:
        raise ValueError("the DeepLabCut table names no individuals")
    parts = []
    for person in people:
        one = df.loc[:, df.columns.get_level_values(1) == person]
        one.columns = one.columns.droplevel(1)
        parts.append(_parse_wide(one))
    first = parts[0]
    n = len(df)
    return first.replace(
        values={c: np.concatenate([p.values[c] for p in parts]) for c in first.values},
        frames=np.tile(first.frames, len(parts)),
        times=None if first.times is None else np.tile(first.times, len(parts)),
        sizes=None if first.sizes is None else np.tile(first.sizes, (len(parts), 1)),
        individuals=np.repeat(np.arange(len(parts)), n),
        individual_labels=people,
        positions=None,
        dlc_rows=np.stack([np.tile(np.arange(n), len(parts)),
                           np.repeat(np.arange(len(parts)), n)], axis=1),
    )  # fmt: skip


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
        if df.columns.nlevels == 4:
            return _parse_dlc_multi(df)
        return _parse_wide(df)
    if "landmark" in df.columns:
        return _parse_long(df)
    pose_columns = [c for c in df.columns if c not in ("video", "frame") + FRAME_COLUMNS]
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


def upgrade_table(df: pd.DataFrame, video: str | None = None) -> pd.DataFrame:
    """A long or wide table of an earlier posejax version in today's form; others as they are.

    Earlier tables kept per-frame times, image sizes and ROIs in ``df.attrs`` and had no
    ``video`` column for a single video. Such a table gets its ``video``, ``time`` and image size
    columns from those attrs (ROIs are not in tables) and plain JSON attrs; the landmarks are
    unchanged. A table that already has the columns (or a DeepLabCut table) is returned as is.
    A table without a ``video`` column is labelled ``video``, else by the one name of its
    ``attrs["video_names"]``, else :data:`DEFAULT_VIDEO`.

    Example
    -------
    >>> old = track.to_dataframe().drop(columns=["video", "image_width", "image_height"])
    >>> old.attrs["image_size"] = (994, 1768)
    >>> upgrade_table(old).columns[:3].tolist()
    ['video', 'frame', 'time']
    """
    table = parse_table(df)
    if table.layout == "dlc":
        return df
    legacy = any(key in df.attrs for key in LEGACY_ATTRS)
    if isinstance(df.columns, pd.MultiIndex):
        current = "video" in df.index.names and "time" in _meta_positions(df.columns)
    else:
        current = {"video", "time", "image_width", "image_height"} <= set(df.columns)
    if current and not legacy:
        return df
    if table.videos is None:
        names = df.attrs.get("video_names") or [DEFAULT_VIDEO]
        label = video if video is not None else str(names[0])
        table = table.replace(videos=np.zeros(table.n_frames, np.int8), video_labels=[label])
    return table.to_frame()


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
