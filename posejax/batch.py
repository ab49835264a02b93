"""``posejax.track_videos``: a folder of videos to one landmark file each, resumable.

The contract, for a list of videos (paths, a glob pattern or a folder) and an output folder:

* one Parquet file per video, ``<output_dir>/<stem>.parquet``, in the long layout of
  :func:`posejax.write_landmarks` (exactly ``posejax.track(video).to_dataframe()``; read it
  with :func:`posejax.read_landmarks`), plus ``<output_dir>/index.csv`` with one row per video:
  ``video, status, frames, frames_with_pose, seconds, output, error`` (:data:`INDEX_COLUMNS`);
* every file is written under a temporary name (``.<stem>.<random>.partial.parquet``) and then
  renamed, so a killed run never leaves a half-written file under a final name;
* each result carries, in its ``df.attrs["batch"]``, the video's name, size and modification
  time and the tracking options; a run skips every video whose result matches all of them, so
  an interrupted run resumes where it stopped and a changed video or option is redone;
* a missing, corrupt or truncated video is a ``failed`` row with the reason (for a truncated
  one, how many frames were decoded and where decoding stopped) and never stops the others;
* videos are decoded in chunks (as :func:`posejax.track` does) and nothing is kept from one
  video to the next but the compiled pipelines, so memory stays flat.

With ``client=`` (a ``distributed.Client``) the same videos go to a Dask cluster, one task per
video, through :mod:`posejax.dask`; results and index are the same as the serial run's.

Stems shared by several videos get a suffix from their full path (``clip-1a2b3c4d.parquet``).
Run one ``track_videos`` at a time per output folder: a new run clears the temporary files
that a killed one left.
"""

from __future__ import annotations

import concurrent.futures
import glob
import hashlib
import inspect
import json
import os
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from posejax.io import write_landmarks
from posejax.io._metadata import atomic_write, loads
from posejax.pipeline import PipelineConfig, side_by_side
from posejax.track import _check_fps, _SharedBar, _track, track

__all__ = ["INDEX_COLUMNS", "VIDEO_SUFFIXES", "track_videos"]

#: Suffixes picked up when ``videos`` is a folder.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg",
                            ".wmv", ".flv", ".gif"})
#: Columns of the index (``index.csv`` and the DataFrame :func:`track_videos` returns).
INDEX_COLUMNS = ("video", "status", "frames", "frames_with_pose", "seconds", "output", "error")
INDEX_NAME = "index.csv"
_PARTIAL = ".partial.parquet"
#: Version of the ``batch`` record in each result; a new one redoes older results.
_RECORD_VERSION = 1
#: ``track`` options that make no sense per file of a batch.
_NOT_OPTIONS = {"frames", "progress", "timestamps"}
#: Videos tracked side by side in one process, at most: one video keeps about 1.6 of 2 cores
#: busy, two keep both (see ``Pipeline.streams``); each holds one chunk of decoded frames
#: (``posejax.track``'s budget), so two stay within twice that budget whatever the frame size.
MAX_VIDEOS_AT_ONCE = 2


def track_videos(videos, output_dir, *, client=None, progress: bool = True,
                 **track_options) -> pd.DataFrame:
    """Track every video of a list, glob pattern or folder into one Parquet file each.

    Parameters
    ----------
    videos : str, os.PathLike or list of them
        Video files; a glob pattern (``"clips/**/*.mp4"``); a folder (its files with a suffix in
        :data:`VIDEO_SUFFIXES`, sorted, not recursive); or a list mixing these. A path that does
        not exist becomes a ``failed`` row.
    output_dir : str or os.PathLike
        Folder for ``<stem>.parquet`` per video and ``index.csv`` (created if needed).
    client : distributed.Client, optional
        Run on this Dask cluster, one task per video (``pip install 'posejax[dask]'``); the
        output folder must be visible to the workers at the same path.
    progress : bool
        Show progress bars over videos and frames.
    **track_options
        Options of :func:`posejax.track` (``model_complexity``, ``smooth_landmarks``,
        ``min_detection_confidence``, ``fps``, ``vectorized``...); part of the skip rule: a
        result made with other options is redone.

    Returns
    -------
    pandas.DataFrame
        The index, one row per video in input order, columns :data:`INDEX_COLUMNS`: ``status``
        ``done`` (tracked now), ``skipped`` (an up-to-date result existed) or ``failed``
        (``error`` says why); ``seconds`` of work; ``output`` the landmark file.

    Raises
    ------
    ValueError, TypeError
        For bad options, or when ``videos`` names no video at all (before any work).

    Examples
    --------
    >>> import posejax
    >>> index = posejax.track_videos("workouts/", "landmarks/")  # doctest: +SKIP
    >>> index.status.value_counts()  # doctest: +SKIP
    done      812
    failed      2
    """
    options = _normalized_options(track_options)
    paths = resolve_videos(videos)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.glob(f".*{_PARTIAL}"):
        stale.unlink(missing_ok=True)   # left by a killed run; never a finished result
    jobs = plan_jobs(paths, output_dir)
    rows: list[dict | None] = [None] * len(jobs)
    try:
        if client is not None:
            from posejax import dask as posejax_dask

            posejax_dask.run_jobs(client, jobs, options, rows, progress=progress)
        else:
            _run_serial(jobs, options, rows, progress)
    finally:
        index = _index([r for r in rows if r is not None])
        _write_index(index, output_dir / INDEX_NAME)
    return index


def resolve_videos(videos) -> list[Path]:
    """List the video files named by a path, a glob pattern, a folder, or a list of these.

    Parameters
    ----------
    videos : str, os.PathLike or list of them
        See :func:`track_videos`.

    Returns
    -------
    list of pathlib.Path
        In the given order (a folder's and a pattern's matches sorted), without repeats.

    Examples
    --------
    >>> resolve_videos(["a.mp4", "a.mp4", "b.mp4"])
    [PosixPath('a.mp4'), PosixPath('b.mp4')]
    """
    items = [videos] if isinstance(videos, (str, os.PathLike)) else list(videos)
    found: list[Path] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"videos must be paths, a glob pattern or a folder, got "
                            f"{type(item).__name__}")
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir()
                                if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES))
        elif not path.exists() and glob.has_magic(str(item)):
            found.extend(sorted(Path(p) for p in glob.glob(str(item), recursive=True)
                                if Path(p).is_file()))
        else:
            found.append(path)
    unique = list(dict.fromkeys(found))
    if not unique:
        raise ValueError(f"no videos found in {videos!r} (a folder is searched for "
                         f"{', '.join(sorted(VIDEO_SUFFIXES))} files)")
    return unique


def plan_jobs(paths: list[Path], output_dir: Path) -> list[dict]:
    """One job ``{"video", "output"}`` per video, each with its own output file.

    Parameters
    ----------
    paths : list of pathlib.Path
        The videos, as from :func:`resolve_videos`.
    output_dir : pathlib.Path
        Where the results go.

    Returns
    -------
    list of dict
        ``video`` and ``output`` as strings (plain data, so they travel to Dask workers).

    Examples
    --------
    >>> [j["output"] for j in plan_jobs([Path("a/x.mp4"), Path("b/y.mp4")], Path("out"))]
    ['out/x.parquet', 'out/y.parquet']
    """
    stems = [p.stem for p in paths]
    counts = {s: stems.count(s) for s in stems}
    jobs = []
    for path, stem in zip(paths, stems, strict=True):
        if counts[stem] > 1:
            stem = f"{stem}-{hashlib.sha1(str(path.absolute()).encode()).hexdigest()[:8]}"
        jobs.append({"video": str(path), "output": str(output_dir / f"{stem}.parquet")})
    return jobs


def _normalized_options(track_options: dict) -> dict:
    """Fill in every ``track`` option's default and check them all, before any work."""
    parameters = inspect.signature(track).parameters
    allowed = {name: p.default for name, p in parameters.items() if name not in _NOT_OPTIONS}
    unknown = sorted(set(track_options) - set(allowed))
    if unknown:
        raise TypeError(f"track_videos got unknown options {unknown}; it takes the options of "
                        f"posejax.track: {', '.join(sorted(allowed))}")
    options = {**allowed, **track_options}
    if options["enable_segmentation"]:
        raise ValueError("track_videos writes landmark files, which hold no masks; use "
                         "posejax.track(video, enable_segmentation=True) for segmentation")
    _check_fps(options["fps"])
    config = _config(options)   # validates the rest
    options.update({k: getattr(config, k) for k in options if hasattr(config, k)})
    if options["fps"] is not None:
        options["fps"] = float(options["fps"])
    return options


def _config(options: dict) -> PipelineConfig:
    fields = {f for f in PipelineConfig.__dataclass_fields__}
    return PipelineConfig(**{k: v for k, v in options.items() if k in fields})


def _options_key(options: dict) -> str:
    text = json.dumps({"options": options, "record": _RECORD_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stamp(video: Path) -> dict:
    """Identify a video's content cheaply: its name, size and modification time."""
    if not video.exists():
        raise FileNotFoundError(f"no such file: {str(video)!r}")
    if not video.is_file():
        raise ValueError(f"{str(video)!r} is not a file")
    stat = video.stat()
    return {"name": video.name, "size": int(stat.st_size), "mtime_ns": int(stat.st_mtime_ns)}


def _finished(output: Path, stamp: dict, key: str) -> dict | None:
    """Return the ``batch`` record of an up-to-date result at ``output``, or None (redo it)."""
    if not output.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        meta = loads(pq.read_schema(output).metadata[b"posejax"].decode())
        record = meta["attrs"]["batch"]
    except Exception:  # noqa: BLE001  (unreadable, foreign or older file: track again)
        return None
    if record.get("video") != stamp or record.get("options_key") != key:
        return None
    return record


def process_video(job: dict, options: dict, bar=None) -> dict:
    """Track one video of a batch into its file, or skip it; never raises for a bad video.

    This is the task a Dask worker runs (see :mod:`posejax.dask`).

    Parameters
    ----------
    job : dict
        ``{"video": path, "output": path}`` from :func:`plan_jobs`.
    options : dict
        Normalized :func:`posejax.track` options.
    bar : tqdm, optional
        Progress bar that counts frames.

    Returns
    -------
    dict
        The index row (keys :data:`INDEX_COLUMNS`).

    Examples
    --------
    >>> row = process_video({"video": "missing.mp4", "output": "out/missing.parquet"},
    ...                     _normalized_options({}))
    >>> row["status"], row["error"]
    ('failed', "FileNotFoundError: no such file: 'missing.mp4'")
    """
    start = time.perf_counter()
    video, output = Path(job["video"]), Path(job["output"])
    row = {"video": job["video"], "status": "failed", "frames": 0, "frames_with_pose": 0,
           "seconds": 0.0, "output": "", "error": ""}
    try:
        stamp = _stamp(video)
        key = _options_key(options)
        record = _finished(output, stamp, key)
        if record is not None:
            row.update(status="skipped", frames=record["frames"],
                       frames_with_pose=record["frames_with_pose"], output=str(output))
        else:
            frames, with_pose = _track_to_file(video, output, options, stamp, key, bar)
            row.update(status="done", frames=frames, frames_with_pose=with_pose,
                       output=str(output))
    except Exception as error:  # noqa: BLE001  (a bad video is a row, not the end of the run)
        row["error"] = f"{type(error).__name__}: {' '.join(str(error).split())}"
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def _track_to_file(video, output, options, stamp, key, bar) -> tuple[int, int]:
    config = _config(options)
    # A truncated or corrupt video raises VideoDecodeError from the reader (posejax.io.video
    # holds every container's packets against what it declares): its message says how many
    # frames were read, what the container declares and where decoding stopped.
    result = _track(str(video), config, options["fps"], None, False, bar=bar,
                    mediapipe_clock=options["mediapipe_clock"])
    frames, with_pose = int(result.n_frames), int(np.sum(result.pose_present))
    df = result.to_dataframe("long")
    del result
    df.attrs["batch"] = {"video": stamp, "options_key": key, "options": options,
                         "frames": frames, "frames_with_pose": with_pose}
    _write_parquet_atomic(df, output)
    return frames, with_pose


def _write_parquet_atomic(df: pd.DataFrame, output: Path) -> None:
    """Write under a temporary name beside ``output``, then rename: all or nothing."""
    temporary = output.with_name(f".{output.stem}.{uuid.uuid4().hex[:12]}{_PARTIAL}")
    try:
        write_landmarks(df, temporary)
        os.replace(temporary, output)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _run_serial(jobs: list[dict], options: dict, rows: list, progress: bool) -> None:
    """Every job in this process, up to :data:`MAX_VIDEOS_AT_ONCE` side by side in threads."""
    at_once = min(MAX_VIDEOS_AT_ONCE, side_by_side(_config(options), len(jobs)))
    with tqdm(total=len(jobs), unit="video", desc="videos", disable=not progress,
              position=0) as videos, \
            tqdm(unit="frame", desc="frames", disable=not progress, position=1) as frames, \
            concurrent.futures.ThreadPoolExecutor(at_once, thread_name_prefix="posejax") as pool:
        shared = _SharedBar(frames)
        futures = {pool.submit(process_video, job, options, shared): i
                   for i, job in enumerate(jobs)}
        try:
            for future in concurrent.futures.as_completed(futures):
                rows[futures[future]] = future.result()
                videos.update(1)
                failed = sum(r is not None and r["status"] == "failed" for r in rows)
                if failed:
                    videos.set_postfix(failed=failed)
        except BaseException:
            # Interrupted: the videos under way end at their next chunk, unwritten; no new one
            # starts. Finished files stay, so a second run resumes.
            shared.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _index(rows: list[dict]) -> pd.DataFrame:
    index = pd.DataFrame(rows, columns=list(INDEX_COLUMNS))
    return index.astype({"video": str, "status": str, "frames": np.int64,
                         "frames_with_pose": np.int64, "seconds": np.float64, "output": str,
                         "error": str})


def _write_index(index: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda handle: index.to_csv(handle, index=False))


def read_index(output_dir) -> pd.DataFrame:
    """Read the index a :func:`track_videos` run wrote in ``output_dir``.

    Parameters
    ----------
    output_dir : str or os.PathLike
        The run's output folder.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INDEX_COLUMNS`; empty ``output`` and ``error`` cells as ``""``.

    Examples
    --------
    >>> read_index("landmarks/").query("status == 'failed'")  # doctest: +SKIP
    """
    path = Path(output_dir) / INDEX_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {INDEX_NAME} in {str(output_dir)!r}: run track_videos first")
    index = pd.read_csv(path, keep_default_na=False, dtype={"video": str, "output": str,
                                                            "error": str, "status": str})
    return _index(index.to_dict("records"))
