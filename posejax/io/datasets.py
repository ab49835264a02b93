"""Many landmark files as one table: :func:`posejax.read_landmarks` of a folder, a pattern, a list.

Which files are read:

* a list or tuple: every path in it, in its order (each a landmark file);
* a glob pattern (``"out/*.parquet"``, ``"runs/**/*.csv"``): its matching landmark files (as a
  folder's, below), sorted;
* the output folder of :func:`posejax.track_videos` (it holds ``_index.csv``, or an older
  posejax ``index.csv``): the finished results its index lists, in index order;
* any other folder, not recursively: its files with a landmark suffix
  (:data:`~posejax.io.LANDMARK_FORMATS`), sorted, skipping names that start with ``.`` or ``_``
  (hidden, temporary and index files, as Parquet dataset readers skip them), CSV files without
  their posejax sidecar ``<name>.posejax.json`` and Parquet files without posejax's metadata:
  those are other tables (a ``posejax reps`` table, notes), not landmark files. HDF5 files are
  all read, DeepLabCut's own among them.

Each table keeps its own ``video`` column (or index level, in the wide and DeepLabCut layouts);
a file written before tables carried one gets its index label (a ``track_videos`` folder), else
the one name it recorded (``attrs["video_names"]``), else its file's stem; so does a table of
a track of arrays, labelled ``"0"`` (``"0"``, ``"1"``, ... become ``<stem>/0``, ...). Two files
holding one video label are an error, never merged: a video's rows would mix. The result's
``attrs`` are those equal in every file.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pandas as pd

from posejax.io._index import find_index, finished_results
from posejax.io._metadata import dumps
from posejax.io._paths import LANDMARK_FORMATS
from posejax.io.csv_files import sidecar_path
from posejax.io.landmark_files import read_one_file
from posejax.tables import detect_layout

__all__ = ["is_many", "read_dataset"]


def is_many(source) -> bool:
    """Whether ``source`` names several files: a list, a tuple, a folder or a glob pattern.

    A path that exists is never a pattern, whatever characters its name holds.

    Examples
    --------
    >>> is_many(["a.csv", "b.csv"]), is_many("out/*.parquet"), is_many("poses.csv")
    (True, True, False)
    """
    if isinstance(source, (list, tuple)):
        return True
    if not isinstance(source, (str, os.PathLike)):
        return False
    path = Path(source)
    if path.exists():
        return path.is_dir()
    return isinstance(source, str) and glob.has_magic(source)


def read_dataset(source) -> pd.DataFrame:
    """Read many landmark files into one DataFrame, each video apart.

    Parameters
    ----------
    source : str, os.PathLike, list or tuple
        A folder, a glob pattern or a list of landmark files (see the module's docstring for
        which files a folder gives).

    Returns
    -------
    pandas.DataFrame
        The tables one after the other (``pd.concat``), all of one layout, with a categorical
        ``video`` (a column in the long layout, the first index level in the others) whose
        categories are the videos in file order; ``attrs`` those equal in every file.

    Raises
    ------
    FileNotFoundError
        When the folder or pattern names no landmark file (the message says what was
        searched), or a listed file does not exist.
    ValueError
        When two files hold one video label, or the files hold different layouts.

    Examples
    --------
    >>> df = read_dataset("landmarks/")  # doctest: +SKIP
    >>> df.groupby("video", observed=True).frame.max()  # doctest: +SKIP
    """
    files = _files(source)
    tables, owners = [], {}
    for path, fallback in files:
        table = read_one_file(path, video=fallback, default_video=path.stem)
        table = _named_by_file(table, fallback or path.stem)
        names = _videos(table)
        for name in names:
            if name in owners:
                raise ValueError(
                    f"{str(owners[name])!r} and {str(path)!r} both hold the video {name!r}; "
                    f"read them apart, or relabel one (its video column)")
            owners[name] = path
        tables.append((path, table))
    layouts = {path: detect_layout(table) for path, table in tables}
    if len(set(layouts.values())) > 1:
        raise ValueError(f"the files hold different layouts ({_listing(layouts)}); convert them "
                         f"to one with df.pose.to_layout before writing, or read them apart")
    layout = next(iter(layouts.values()))
    attrs = _common_attrs([table.attrs for _, table in tables])
    frames = []
    for _, table in tables:
        table = table.copy(deep=False)
        # pandas compares the parts' attrs while joining them, which fails on arrays.
        table.attrs = {}
        frames.append(table)
    joined = pd.concat(frames, ignore_index=layout == "long")
    dtypes = {"video": pd.CategoricalDtype(list(owners))}
    people = _individuals([table for _, table in tables])
    if people is not None:  # files of several people: their names, file by file, in order
        dtypes["individual"] = pd.CategoricalDtype(people)
    if layout == "long":
        for name, dtype in dtypes.items():
            if name in joined.columns:
                joined[name] = joined[name].astype(str).astype(dtype)
    else:
        index = joined.index
        arrays = [pd.Categorical(index.get_level_values(i).astype(str), dtype=dtypes[name])
                  if name in dtypes else index.get_level_values(i)
                  for i, name in enumerate(index.names)]
        joined.index = pd.MultiIndex.from_arrays(arrays, names=index.names)
    joined.attrs = attrs
    return joined


def _individuals(tables) -> list[str] | None:
    """The person names of tables that all have an ``individual`` column, in order; else None.

    Tables of one person and of several do not mix into one column: the parts without names
    would be missing values, so such a join keeps each part's column as it is.
    """
    names = []
    for table in tables:
        if "individual" in table.columns:
            column = table["individual"]
        elif "individual" in table.index.names:
            column = pd.Series(table.index.get_level_values("individual"))
        else:
            return None
        if isinstance(column.dtype, pd.CategoricalDtype):
            names.extend(str(c) for c in column.cat.categories)
        else:
            names.extend(str(c) for c in pd.unique(column))
    return list(dict.fromkeys(names))


def _files(source) -> list[tuple[Path, str | None]]:
    """``(file, its index label or None)`` of every file ``source`` names."""
    if isinstance(source, (list, tuple)):
        if not source:
            raise FileNotFoundError("an empty list names no landmark file")
        return [(Path(p), None) for p in source]
    path = Path(source)
    if path.is_dir():
        if find_index(path) is not None:
            found = finished_results(path)
            if not found:
                raise FileNotFoundError(f"{str(path)!r} holds no finished track_videos result "
                                        f"(see its index)")
            return found
        found = [p for p in sorted(path.iterdir()) if _is_landmark_file(p)]
        if not found:
            raise FileNotFoundError(
                f"no posejax landmark file in {str(path)!r} (searched for "
                f"{', '.join(LANDMARK_FORMATS)} files not named .* or _*; a CSV needs its "
                f".posejax.json sidecar, a Parquet file posejax's metadata)")
        return [(p, None) for p in found]
    matches = sorted(Path(p) for p in glob.glob(str(source), recursive=True))
    found = [p for p in matches if _is_landmark_file(p)]
    if not found:
        raise FileNotFoundError(f"no posejax landmark file matches {str(source)!r}")
    return [(p, None) for p in found]


def _is_landmark_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    if path.name.startswith((".", "_")) or suffix not in LANDMARK_FORMATS or not path.is_file():
        return False
    if suffix == ".csv":
        return sidecar_path(path).is_file()
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            return b"posejax" in (pq.read_schema(path).metadata or {})
        except Exception:  # noqa: BLE001  (not a Parquet file at all: not ours to read)
            return False
    return True


def _named_by_file(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """``table`` with its placeholder video labels replaced: the file names its videos.

    A track of arrays is labelled ``"0"`` (``"0"``, ``"1"``, ... for a batch); in a file those
    become ``name`` (``name/0``, ``name/1``, ...).
    """
    labels = _videos(table)
    if labels != [str(i) for i in range(len(labels))]:
        return table
    renamed = {label: name if len(labels) == 1 else f"{name}/{label}" for label in labels}
    table = table.copy(deep=False)
    if "video" in table.columns:
        table["video"] = table["video"].astype(str).map(renamed).astype("category")
    else:
        index = table.index
        table.index = index.set_levels(
            [renamed.get(str(v), str(v)) for v in index.levels[index.names.index("video")]],
            level="video")
    return table


def _videos(table: pd.DataFrame) -> list[str]:
    """The video labels of a table (a column, or an index level of the wide layouts)."""
    if "video" in table.columns:
        return [str(v) for v in pd.unique(table["video"].astype(str))]
    if "video" in table.index.names:
        return [str(v) for v in pd.unique(table.index.get_level_values("video").astype(str))]
    return []


def _same(a, b) -> bool:
    try:
        return dumps({"v": a}) == dumps({"v": b})
    except (TypeError, ValueError):
        return a is b


def _common_attrs(attrs: list[dict]) -> dict:
    """The ``attrs`` entries with one value in every file."""
    first, *rest = attrs
    return {key: value for key, value in first.items()
            if all(key in other and _same(value, other[key]) for other in rest)}


def _listing(layouts: dict) -> str:
    return ", ".join(f"{str(path)!r}: {layout}" for path, layout in layouts.items())
