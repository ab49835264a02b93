"""The output folder of :func:`posejax.track_videos`: result names, labels and ``_index.csv``.

A video's result is ``<stem>-<hash>.parquet`` (:func:`output_name`): the name depends on the
video's absolute, resolved path only, so videos of one file name in different folders
(``day1/clip.mp4``, ``day2/clip.mp4``) never share a result, and a video gets the same name
whatever else is in a run.

The index describes the folder, not the last run. Its columns are :data:`INDEX_COLUMNS`;
``video`` is the video's absolute, resolved path, its identity: a run replaces the rows of the
videos it tracks (matched by that identity, or by the result file) and keeps the others.
``name`` is the video's label, the ``video`` column of its result: its file name, or the
shortest trailing part of its path that no other video of the folder has (:func:`labels`);
once given, a video keeps it.

The index is ``_index.csv``: readers of Parquet datasets (``pd.read_parquet(folder)``,
``dask.dataframe.read_parquet(folder)``, pyarrow, DuckDB, Spark) skip names that start with
``_`` or ``.``, so the folder opens as one dataset of its results. Folders written before that
hold ``index.csv``; it still reads (:func:`find_index`), and a run on such a folder writes
``_index.csv`` and only then removes the old file. Indexes without ``name`` label each video by
its file name; indexes written before identities were recorded hold the paths as they were
given, and their relative paths are resolved from the working folder when rows are matched.
The file is written all or nothing (:func:`posejax.io._atomic.atomic_write`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from posejax.io._atomic import atomic_write

__all__ = ["INDEX_COLUMNS", "INDEX_NAME", "OLD_INDEX_NAME", "as_index", "check_names",
           "find_index", "finished_results", "identity", "label", "labels", "merged_index",
           "old_index", "output_name", "read_index", "write_index"]

#: Columns of the index (``_index.csv`` and the DataFrame ``track_videos`` returns).
INDEX_COLUMNS = ("video", "name", "status", "frames", "frames_with_pose", "seconds", "output",
                 "error")
#: Where readers of Parquet datasets do not look (see the module's docstring).
INDEX_NAME = "_index.csv"
#: The index of folders written before ``_index.csv``.
OLD_INDEX_NAME = "index.csv"
#: Columns every posejax index has had; a file of the index's name without them is not ours.
_ALWAYS = tuple(c for c in INDEX_COLUMNS if c != "name")


def identity(video) -> str:
    """A video's identity in the index: its absolute, resolved path.

    Rows of older indexes hold the path as it was given; resolved from the working folder, it
    is the best guess at their identity.

    Examples
    --------
    >>> identity("/data/day1/../day1/clip.mp4")
    '/data/day1/clip.mp4'
    """
    return str(Path(video).resolve())


def output_name(video) -> str:
    """The result file's name for ``video``: its stem and a hash of its absolute, resolved path.

    The name depends on nothing else (not on the other videos of a run, not on the working
    folder), so two videos with one file name in different folders never share a result, and
    a video tracked again finds its result.

    Parameters
    ----------
    video : str or os.PathLike
        A video path (it need not exist).

    Returns
    -------
    str
        ``<stem>-<8 hex digits>.parquet``.

    Examples
    --------
    >>> a, b = output_name("/data/day1/clip.mp4"), output_name("/data/day2/clip.mp4")
    >>> a, b
    ('clip-80b67431.parquet', 'clip-743b5cc0.parquet')
    """
    path = Path(video).resolve()
    return f"{path.stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}.parquet"


def check_names(jobs: list[dict], earlier: pd.DataFrame | None) -> None:
    """Stop before any work if two videos would share a result file.

    That takes two videos of one stem whose paths' 32-bit hashes clash, in this run or in an
    earlier one into the same folder.

    Parameters
    ----------
    jobs : list of dict
        ``{"video", "output"}`` per video, ``video`` its identity.
    earlier : pandas.DataFrame or None
        The folder's index before the run.

    Examples
    --------
    >>> check_names([{"video": "/a.mp4", "output": "o/a.parquet"},
    ...              {"video": "/b.mp4", "output": "o/a.parquet"}], None)
    Traceback (most recent call last):
    ValueError: '/b.mp4' and '/a.mp4' would both be written to 'o/a.parquet'; ...
    """
    owners = {} if earlier is None else {
        o: identity(v) for v, o in zip(earlier.video, earlier.output, strict=True) if o}
    for job in jobs:
        owner = owners.setdefault(job["output"], job["video"])
        if owner != job["video"]:
            raise ValueError(f"{job['video']!r} and {owner!r} would both be written to "
                             f"{job['output']!r}; rename one of the videos")


def label(video, taken) -> str:
    """The label of ``video`` that is not in ``taken``: its file name, or more of its path.

    The shortest trailing part of the path that no other video has, up to the whole path.

    Examples
    --------
    >>> label("/data/day2/clip.mp4", set()), label("/data/day2/clip.mp4", {"clip.mp4"})
    ('clip.mp4', 'day2/clip.mp4')
    """
    parts = Path(video).parts
    for count in range(1, len(parts) + 1):
        candidate = str(Path(*parts[-count:]))
        if candidate not in taken:
            return candidate
    return str(Path(video))


def labels(videos: list[str], earlier: pd.DataFrame | None) -> list[str]:
    """Labels of this run's videos, unique within the folder: a video in the index keeps its.

    Parameters
    ----------
    videos : list of str
        The videos' identities, in run order.
    earlier : pandas.DataFrame or None
        The folder's index before the run.

    Returns
    -------
    list of str
        One label per video, none shared with another video of the folder or of the run.

    Examples
    --------
    >>> labels(["/data/day1/clip.mp4", "/data/day2/clip.mp4"], None)
    ['clip.mp4', 'day2/clip.mp4']
    """
    known = {} if earlier is None else {
        identity(v): n for v, n in zip(earlier.video, earlier.name, strict=True)}
    taken = set(known.values())
    names = []
    for video in videos:
        name = known.get(video) or label(video, taken)
        taken.add(name)
        names.append(name)
    return names


def as_index(rows: list[dict]) -> pd.DataFrame:
    """Index rows (dicts with the keys :data:`INDEX_COLUMNS`) as a typed DataFrame.

    A row without a ``name`` (an older index's) is labelled as :func:`label` labels a video,
    in row order, so that no two rows share one.

    Examples
    --------
    >>> as_index([]).columns.tolist() == list(INDEX_COLUMNS)
    True
    """
    index = pd.DataFrame(rows, columns=list(INDEX_COLUMNS))
    names = [n if isinstance(n, str) and n else None for n in index.name]
    taken = {n for n in names if n is not None}
    for i, (video, name) in enumerate(zip(index.video, names, strict=True)):
        if name is None:
            names[i] = label(video, taken)
            taken.add(names[i])
    index["name"] = pd.Series(names, index=index.index, dtype=object)
    return index.astype({"video": str, "name": str, "status": str, "frames": np.int64,
                         "frames_with_pose": np.int64, "seconds": np.float64, "output": str,
                         "error": str})


def write_index(index: pd.DataFrame, path: Path) -> None:
    """Write ``index`` to ``path`` as CSV, all or nothing.

    Examples
    --------
    >>> write_index(as_index([]), Path("landmarks/_index.csv"))  # doctest: +SKIP
    """
    atomic_write(path, lambda handle: index.to_csv(handle, index=False))


def merged_index(earlier: pd.DataFrame | None, rows: list) -> pd.DataFrame:
    """The folder's index: earlier rows of other videos, then this run's rows so far.

    Parameters
    ----------
    earlier : pandas.DataFrame or None
        The index read before the run.
    rows : list of dict or None
        This run's rows (None for a video not finished yet).

    Examples
    --------
    >>> old = as_index([{"video": "/v/a.mp4", "status": "failed", "frames": 0,
    ...                  "frames_with_pose": 0, "seconds": 0.1, "output": "", "error": "x"}])
    >>> row = {**old.iloc[0].to_dict(), "status": "done", "output": "o/a.parquet", "error": ""}
    >>> merged_index(old, [row, None]).status.tolist()
    ['done']
    """
    new = as_index([r for r in rows if r is not None])
    if earlier is None or earlier.empty:
        return new
    replaced = set(new.video) | set(new.output[new.output != ""])
    keep = [identity(v) not in replaced and o not in replaced
            for v, o in zip(earlier.video, earlier.output, strict=True)]
    return pd.concat([earlier[keep], new], ignore_index=True)


def _is_ours(path: Path) -> bool:
    try:
        columns = pd.read_csv(path, nrows=0).columns
    except (ValueError, OSError, UnicodeDecodeError):
        return False
    return set(_ALWAYS) <= set(columns)


def find_index(output_dir) -> Path | None:
    """The index file of an output folder: ``_index.csv``, or an older folder's ``index.csv``.

    An ``index.csv`` without the columns of a posejax index is another program's: not ours,
    never read as an index, never overwritten or removed.

    Examples
    --------
    >>> find_index("landmarks/")  # doctest: +SKIP
    PosixPath('landmarks/_index.csv')
    """
    folder = Path(output_dir)
    if (folder / INDEX_NAME).is_file():
        return folder / INDEX_NAME
    old = folder / OLD_INDEX_NAME
    return old if old.is_file() and _is_ours(old) else None


def old_index(output_dir) -> Path | None:
    """The folder's ``index.csv`` when it is a posejax index (a run replaces it), else None.

    Examples
    --------
    >>> old_index("landmarks/")  # doctest: +SKIP
    """
    old = Path(output_dir) / OLD_INDEX_NAME
    return old if old.is_file() and _is_ours(old) else None


def _read(path: Path) -> pd.DataFrame:
    index = pd.read_csv(path, keep_default_na=False, dtype={
        "video": str, "name": str, "output": str, "error": str, "status": str})
    lacking = [c for c in _ALWAYS if c not in index.columns]
    if lacking:
        # Another program's file of that name: never merged into, never overwritten.
        raise ValueError(
            f"{str(path)!r} is not a posejax index (it lacks the columns {lacking}); give "
            f"track_videos another output folder, or move that file away"
        )
    return as_index(index.to_dict("records"))


def read_index(output_dir) -> pd.DataFrame:
    """Read the index of an output folder: every video tracked into it, by any run.

    Parameters
    ----------
    output_dir : str or os.PathLike
        The output folder.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INDEX_COLUMNS`, one row per video; ``video`` is the video's absolute,
        resolved path (in indexes written before that, the path as it was given); ``name`` its
        label; empty ``output`` and ``error`` cells as ``""``. A folder that still holds the
        ``index.csv`` of an earlier posejax beside its ``_index.csv`` (a run that moved it was
        killed) gives the rows of both, the newer file's first for a video in both.

    Examples
    --------
    >>> read_index("landmarks/").query("status == 'failed'")  # doctest: +SKIP
    """
    path = find_index(output_dir)
    if path is None:
        old = Path(output_dir) / OLD_INDEX_NAME
        if old.is_file():
            _read(old)   # raises: another program's file
        raise FileNotFoundError(f"no {INDEX_NAME} in {str(output_dir)!r}: run track_videos "
                                f"first")
    index = _read(path)
    old = old_index(output_dir)
    if old is not None and old != path:
        return merged_index(_read(old), index.to_dict("records"))
    return index


def finished_results(output_dir) -> list[tuple[Path, str]]:
    """``(file, label)`` of every finished result (``done`` or ``skipped``), in index order.

    Results are found in the folder itself, whatever the working folder was when the index
    was written or is now, and wherever the folder has moved since.

    Raises
    ------
    FileNotFoundError
        When the folder has no index.
    ValueError
        When the index lists one video or label twice.

    Examples
    --------
    >>> finished_results("landmarks/")  # doctest: +SKIP
    [(PosixPath('landmarks/clip-80b67431.parquet'), 'clip.mp4')]
    """
    index = read_index(output_dir)
    ready = index[index.status.isin(["done", "skipped"])]
    if ready.name.duplicated().any() or ready.video.duplicated().any():
        raise ValueError(f"the index of {str(output_dir)!r} lists a video twice; run "
                         f"posejax.track_videos on the folder again to rewrite it")
    return [(Path(output_dir) / Path(output).name, name)
            for output, name in zip(ready.output, ready.name, strict=True)]
