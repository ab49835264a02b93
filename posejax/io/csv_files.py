"""CSV landmark files that open with ``pd.read_csv(path)`` and still round-trip exactly.

What is in the CSV itself, for every reader (pandas, R's ``read.csv``, Excel, DuckDB):

``long``
    The table as it is: one header row, then one row per frame and landmark (``[video,] frame,
    time, landmark, x, y, z, visibility, presence, world_x, ...``).
``wide``
    One row per frame: ``[video,] frame``, then one column per landmark and coordinate with a
    flat name, ``nose_x, nose_y, ..., right_foot_index_world_visibility``
    (:func:`posejax.tables.flat_column_names`).
``dlc``
    DeepLabCut's own CSV: three header rows (``scorer``, ``bodyparts``, ``coords``) and the frame
    number in the first column, read by ``pd.read_csv(path, header=[0, 1, 2], index_col=0)``,
    DeepLabCut and ``movement``.

What a CSV has no room for (dtypes, the categories of ``landmark`` and ``video``, and
``df.attrs``: frame rate, image size, units, model complexity, ROIs, video names) goes to a
sidecar ``<name>.posejax.json`` beside ``<name>.csv``. Both files are written atomically (to a
temporary file, then renamed). The sidecar records the sha256 of the CSV it describes: if the CSV
was edited afterwards, or the sidecar is missing, the CSV still reads, with pandas' defaults
(float64 coordinates, no ``attrs``) and a warning that names what was lost and how to supply it.

Files of posejax's first CSV format, whose first line is ``# posejax {...}``, are still read.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from posejax.io._atomic import atomic_write
from posejax.io._metadata import dumps, loads, restore_attrs
from posejax.tables import (
    UNITS_COLUMN,
    detect_layout,
    flat_column_names,
    landmark_dtype,
    split_flat_names,
)

#: The sidecar of ``poses.csv`` is ``poses.posejax.json``.
SIDECAR_SUFFIX = ".posejax.json"
FORMAT_VERSION = 2
_FIRST_FORMAT_MARK = "# posejax "
_INDEX_COLUMNS = ("video", "individual", "frame")
_LOST = (
    "float32 coordinates, the order of the video labels and df.attrs (model complexity; the "
    "frame rate is estimated from the time column)"
)


def sidecar_path(path) -> Path:
    """The sidecar JSON of a CSV file: ``poses.csv`` -> ``poses.posejax.json``.

    Example
    -------
    >>> sidecar_path("out/poses.csv").as_posix()
    'out/poses.posejax.json'
    """
    path = Path(path)
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def _video_categories(df: pd.DataFrame, name: str = "video") -> list[str] | None:
    """The categories of the ``video`` (or ``individual``) column or index level, in order."""
    if name in df.columns:
        video = df[name]
    elif name in df.index.names:
        video = pd.Series(df.index.get_level_values(name))
    else:
        return None
    if isinstance(video.dtype, pd.CategoricalDtype):
        return [str(c) for c in video.cat.categories]
    return None


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a pose table (any layout) as CSV plus its sidecar JSON, both atomically."""
    layout = detect_layout(df)
    meta = {
        "about": (
            f"posejax metadata of {path.name}: what a CSV cannot hold (dtypes, df.attrs). "
            "posejax.read_landmarks uses it; pd.read_csv reads the CSV without it."
        ),
        "format_version": FORMAT_VERSION,
        "layout": layout,
        "video_categories": _video_categories(df),
    }
    people = _video_categories(df, "individual")
    if people is not None:  # several people (or one person's named table)
        meta["individual_categories"] = people
    if layout == "wide":
        meta["column_levels"] = [str(name) for name in df.columns.names]
        if df.columns.nlevels == 3:
            meta["scorer"] = str(df.columns.get_level_values(0)[0])
        flat = df.copy()
        flat.attrs = {}
        flat.columns = flat_column_names(df.columns)
        if flat.index.nlevels == 1 and flat.index.name is None:
            flat.index.name = "frame"  # parse_table reads an unnamed index as frame numbers
        disk = flat.reset_index()
    elif layout == "long":
        disk = df.copy()
        disk.attrs = {}
    else:
        disk = None
    if disk is not None:
        meta["columns"] = [str(c) for c in disk.columns]
        meta["dtypes"] = {str(c): str(dtype) for c, dtype in disk.dtypes.items()}
        text = disk.to_csv(index=False, lineterminator="\n")
    else:  # DeepLabCut's header rows need the frame index in the first column
        plain = df.copy()
        plain.attrs = {}
        # An empty cell for NaN would make a frame without a pose, right under the three header
        # rows, look like pandas' row of index names: read_csv(header=[0, 1, 2], index_col=0)
        # would swallow it and the file would lose that frame.
        text = plain.to_csv(lineterminator="\n", na_rep="NaN")
    data = text.encode()
    meta["csv"] = path.name
    meta["csv_sha256"] = hashlib.sha256(data).hexdigest()
    meta["attrs"] = df.attrs
    sidecar = dumps(meta)  # fails (before anything is written) on attrs JSON cannot hold
    atomic_write(path, lambda file: file.write(data), mode="wb")
    atomic_write(sidecar_path(path), lambda file: file.write(sidecar + "\n"))


def _read_sidecar(path: Path, data: bytes, warn: bool) -> dict | None:
    sidecar = sidecar_path(path)
    problem = None
    if not sidecar.exists():
        problem = f"its sidecar {sidecar.name} is missing"
    else:
        try:
            meta = loads(sidecar.read_text())
        except ValueError as error:
            meta, problem = None, f"its sidecar {sidecar.name} is not valid JSON ({error})"
        if meta is not None:
            if meta.get("csv_sha256") != hashlib.sha256(data).hexdigest():
                problem = f"it changed after posejax wrote its sidecar {sidecar.name}"
            else:
                return meta
    if warn:
        warnings.warn(
            f"{path.name}: {problem}, so it is read with pandas' defaults. Lost: {_LOST}; "
            "pass fps= (and image_size= for pixel units) to read_track, or set df.attrs.",
            UserWarning,
            stacklevel=4,
        )
    return None


def _categorical(values, categories: list[str] | None) -> pd.Categorical:
    values = pd.Series(values).astype(str)
    if categories is None:
        categories = list(pd.unique(values))
    return pd.Categorical(values, categories=categories)


def read_csv(path: Path) -> pd.DataFrame:
    """A pose table from a CSV of :func:`write_csv` (or of the first format, or DeepLabCut)."""
    data = path.read_bytes()
    first = data.split(b"\n", 1)[0].decode(errors="replace")
    if first.startswith(_FIRST_FORMAT_MARK):
        return _read_first_format(path, first)
    if first.split(",")[0].strip() == "scorer":  # DeepLabCut's layout
        meta = _read_sidecar(path, data, warn=False)  # DeepLabCut's own files have none
        second = data.split(b"\n", 2)[1].decode(errors="replace")
        # A multi-animal project has a fourth header row, the individuals, after the scorer.
        rows = [0, 1, 2, 3] if second.split(",")[0].strip() == "individuals" else [0, 1, 2]
        df = pd.read_csv(io.BytesIO(data), header=rows, index_col=0)
        df.attrs = restore_attrs(meta["attrs"]) if meta else {}
        return df
    header = pd.read_csv(io.BytesIO(data), nrows=0).columns
    is_long = "landmark" in header
    pose_columns = [c for c in header if c not in _INDEX_COLUMNS]  # time, sizes included
    pairs = None if is_long else split_flat_names(pose_columns)
    if not is_long and pairs is None:
        raise ValueError(
            f"{path.name} is not a pose table: expected a 'landmark' column (long layout) or "
            "columns named <landmark>_<coord> such as nose_x (wide layout); write one with "
            "posejax.write_landmarks"
        )
    meta = _read_sidecar(path, data, warn=True)
    dtypes = {}
    if meta is not None:
        dtypes = {
            c: d for c, d in meta.get("dtypes", {}).items() if d.startswith(("float", "int"))
        }
    for name in ("video", "individual"):
        if name in header:
            dtypes[name] = str
    df = pd.read_csv(io.BytesIO(data), dtype=dtypes)
    for name in ("video", "individual"):
        categories = meta.get(f"{name}_categories") if meta else None
        if name in df.columns:
            df[name] = _categorical(df[name], categories)
    if UNITS_COLUMN in df.columns:
        df[UNITS_COLUMN] = _categorical(df[UNITS_COLUMN], None)
    if is_long:
        names = df["landmark"].astype(str).str.lower()
        unknown = sorted(set(names) - set(landmark_dtype().categories))
        if unknown:
            raise ValueError(f"{path.name}: unknown landmark name(s) {unknown[:5]}")
        df["landmark"] = names.astype(landmark_dtype())
    else:
        index = [c for c in _INDEX_COLUMNS if c in df.columns]
        if "frame" not in index:
            raise ValueError(f"{path.name}: a wide pose table needs a 'frame' column")
        df = df.set_index(index)
        levels = list((meta or {}).get("column_levels") or ("landmark", "coord"))
        tuples = pairs
        if meta is not None and meta.get("scorer") is not None:
            tuples = [(meta["scorer"], *pair) for pair in pairs]
        df.columns = pd.MultiIndex.from_tuples(tuples, names=levels[-len(tuples[0]) :])
    df.attrs = restore_attrs(meta["attrs"]) if meta else {}
    detect_layout(df)  # a clear error for a table that is not a pose table after all
    return df


def _read_first_format(path: Path, first: str) -> pd.DataFrame:
    """Read posejax's first CSV format: a ``# posejax {json}`` line, then the table."""
    meta = loads(first[len(_FIRST_FORMAT_MARK) :])
    numeric = [dtype if dtype.startswith(("float", "int")) else None for dtype in meta["dtypes"]]
    if meta["layout"] == "long":
        header = pd.read_csv(path, skiprows=1, nrows=0).columns
        dtypes = {name: dtype for name, dtype in zip(header, numeric, strict=True) if dtype}
        if "video" in header:
            dtypes["video"] = str
        df = pd.read_csv(path, skiprows=1, dtype=dtypes)
        df["landmark"] = df["landmark"].astype(landmark_dtype())
        if "video" in df.columns:
            categories = meta.get("video_categories") or sorted(df["video"].unique())
            df["video"] = pd.Categorical(df["video"], categories=categories)
    else:
        levels = meta["index_levels"]
        df = pd.read_csv(path, skiprows=1, header=[0, 1], index_col=list(range(levels)))
        for position, dtype in enumerate(numeric):
            if dtype and df.dtypes.iloc[position] != dtype:
                df.isetitem(position, df.iloc[:, position].astype(dtype))
        if "video" in df.index.names and meta.get("video_categories"):
            arrays = [df.index.get_level_values(name) for name in df.index.names]
            position = df.index.names.index("video")
            arrays[position] = pd.Categorical(
                np.asarray(arrays[position]).astype(str), categories=meta["video_categories"]
            )
            df.index = pd.MultiIndex.from_arrays(arrays, names=df.index.names)
    df.attrs = restore_attrs(meta["attrs"])
    return df
