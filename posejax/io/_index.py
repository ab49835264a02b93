"""The output folder of :func:`posejax.track_videos`: result names and ``index.csv``.

A video's result is ``<stem>-<hash>.parquet`` (:func:`output_name`): the name depends on the
video's absolute, resolved path only, so videos of one file name in different folders
(``day1/clip.mp4``, ``day2/clip.mp4``) never share a result, and a video gets the same name
whatever else is in a run.

The index describes the folder, not the last run. Its columns are :data:`INDEX_COLUMNS`;
``video`` is the video's absolute, resolved path, its identity: a run replaces the rows of the
videos it tracks (matched by that identity, or by the result file) and keeps the others.
Indexes written before identities were recorded hold the paths as they were given; they still
read, and their relative paths are resolved from the working folder when rows are matched.
The file is written all or nothing (:func:`posejax.io._atomic.atomic_write`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from posejax.io._atomic import atomic_write

__all__ = ["INDEX_COLUMNS", "INDEX_NAME", "as_index", "check_names", "identity", "merged_index",
           "output_name", "read_index", "write_index"]

#: Columns of the index (``index.csv`` and the DataFrame ``track_videos`` returns).
INDEX_COLUMNS = ("video", "status", "frames", "frames_with_pose", "seconds", "output", "error")
INDEX_NAME = "index.csv"


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


def as_index(rows: list[dict]) -> pd.DataFrame:
    """Index rows (dicts with the keys :data:`INDEX_COLUMNS`) as a typed DataFrame.

    Examples
    --------
    >>> as_index([]).columns.tolist() == list(INDEX_COLUMNS)
    True
    """
    index = pd.DataFrame(rows, columns=list(INDEX_COLUMNS))
    return index.astype({"video": str, "status": str, "frames": np.int64,
                         "frames_with_pose": np.int64, "seconds": np.float64, "output": str,
                         "error": str})


def write_index(index: pd.DataFrame, path: Path) -> None:
    """Write ``index`` to ``path`` as CSV, all or nothing.

    Examples
    --------
    >>> write_index(as_index([]), Path("landmarks/index.csv"))  # doctest: +SKIP
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
        resolved path (in indexes written before that, the path as it was given); empty
        ``output`` and ``error`` cells as ``""``.

    Examples
    --------
    >>> read_index("landmarks/").query("status == 'failed'")  # doctest: +SKIP
    """
    path = Path(output_dir) / INDEX_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {INDEX_NAME} in {str(output_dir)!r}: run track_videos first")
    index = pd.read_csv(path, keep_default_na=False, dtype={"video": str, "output": str,
                                                            "error": str, "status": str})
    lacking = [c for c in INDEX_COLUMNS if c not in index.columns]
    if lacking:
        # Another program's file of that name: never merged into, never overwritten.
        raise ValueError(
            f"{str(path)!r} is not a posejax index (it lacks the columns {lacking}); give "
            f"track_videos another output folder, or move that file away"
        )
    return as_index(index.to_dict("records"))
