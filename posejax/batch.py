"""``posejax.track_videos``: a folder of videos to one landmark file each, resumable.

The contract, for a list of videos (paths, a glob pattern or a folder) and an output folder:

* one Parquet file per video, ``<output_dir>/<stem>-<hash>.parquet``, in the long layout of
  :func:`posejax.write_landmarks` (``posejax.track(video).to_dataframe()``, its ``video`` the
  video's label; read it with :func:`posejax.read_landmarks`). The name depends on the video's
  own path only: ``<hash>`` is 8 hex digits of the SHA-1 of its absolute, resolved path
  (:func:`output_name`), so ``day1/clip.mp4`` and ``day2/clip.mp4`` get two files, and a video
  gets the same file whatever else is in the run;
* each video's label is unique within the folder: its file name (``clip.mp4``), or, when
  another video of the folder (in its index or earlier in the run) has that one, the shortest
  trailing part of its path no other has (``day2/clip.mp4``). A video keeps its label in later
  runs. So ``pd.read_parquet(output_dir)`` gives one table of every result, each video apart;
* ``<output_dir>/_index.csv`` describes the folder, not the last run (:mod:`posejax.io._index`):
  one row per video ever tracked into it, :data:`INDEX_COLUMNS`, ``video`` being the absolute,
  resolved path, ``name`` its label. Its leading ``_`` keeps it out of the Parquet dataset the
  folder is (the lock and temporary files start with ``.``, also skipped). It is rewritten as
  results arrive (every :data:`INDEX_EVERY` seconds at most) and when the run ends, fails or is
  interrupted, so finished videos are always listed. A folder's older ``index.csv`` is read,
  and removed once ``_index.csv`` holds its rows;
* every file is written all or nothing (:mod:`posejax.io._atomic`): a killed run never leaves a
  half-written file under a final name;
* each result carries, in its ``df.attrs["batch"]``, the video's name, size and modification
  time and the tracking options; a run skips every video whose result matches all of them, so
  an interrupted run resumes where it stopped and a changed video or option is redone;
* a missing, corrupt or truncated video is a ``failed`` row with the reason (for a truncated
  one, how many frames were decoded and where decoding stopped) and never stops the others;
* videos are decoded in chunks (as :func:`posejax.track` does) and nothing is kept from one
  video to the next but the compiled pipelines, so memory stays flat.

Before any video is tracked, a run takes the folder's lock (:mod:`posejax.io._lock`; a second
run on the same folder stops at once with a message naming the first, a lock left by a killed
run of this host is taken over with a warning), checks that the folder takes files, and only
then removes the temporary files a killed run left.

With ``executor=`` (any ``concurrent.futures``-style executor, or a ``distributed.Client``) the
videos are submitted to it, one task per video: :func:`process_video`, the very function of the
default run, so results and index are the same. This module never imports Dask.

Results written before this naming (``<stem>.parquet``) are left in place, neither deleted
nor read: their videos are tracked again under the new name.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import glob
import hashlib
import inspect
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from posejax.io import write_landmarks
from posejax.io._atomic import is_partial
from posejax.io._index import (
    INDEX_COLUMNS,
    INDEX_NAME,
    as_index,
    check_names,
    find_index,
    labels,
    merged_index,
    old_index,
    output_name,
    read_index,
    write_index,
)
from posejax.io._lock import check_writable, folder_lock
from posejax.io._metadata import loads
from posejax.people import MAX_LOST_SECONDS
from posejax.pipeline import PipelineConfig, side_by_side
from posejax.track import _check_fps, _check_people, _SharedBar, _track, track

__all__ = ["INDEX_COLUMNS", "VIDEO_SUFFIXES", "output_name", "read_index", "track_videos"]

#: Suffixes picked up when ``videos`` is a folder.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg",
                            ".wmv", ".flv", ".gif"})
#: Seconds between two writes of the index while results arrive (and always at the end).
INDEX_EVERY = 5.0
#: Version of the ``batch`` record in each result; a new one redoes older results.
_RECORD_VERSION = 1
#: ``track`` options that make no sense per file of a batch.
_NOT_OPTIONS = {"frames", "progress", "timestamps"}
#: Videos tracked side by side in one process, at most: one video keeps about 1.6 of 2 cores
#: busy, two keep both (see ``Pipeline.streams``); each holds one chunk of decoded frames
#: (``posejax.track``'s budget), so two stay within twice that budget whatever the frame size.
MAX_VIDEOS_AT_ONCE = 2


def track_videos(videos, output_dir, *, executor=None, client=None, progress: bool = True,
                 **track_options) -> pd.DataFrame:
    """Track every video of a list, glob pattern or folder into one Parquet file each.

    Parameters
    ----------
    videos : str, os.PathLike or list of them
        Video files; a glob pattern (``"clips/**/*.mp4"``); a folder (its files with a suffix in
        :data:`VIDEO_SUFFIXES`, sorted, not recursive); or a list mixing these. A path that does
        not exist becomes a ``failed`` row.
    output_dir : str or os.PathLike
        Folder for ``<stem>-<hash>.parquet`` per video (:func:`output_name`) and ``_index.csv``
        (created if needed). One run at a time per folder: see the module's docstring.
    executor : concurrent.futures.Executor or distributed.Client, optional
        Run the videos on it, one task per video: anything with ``submit(fn, *args)`` returning
        futures with ``result()`` and ``done()`` (a ``ThreadPoolExecutor``, a
        ``ProcessPoolExecutor``, a Dask ``Client``, ``pip install 'posejax[dask]'``, whose
        workers must see the output folder at the same path). By default, up to
        :data:`MAX_VIDEOS_AT_ONCE` videos side by side in threads of this process.
    client : distributed.Client, optional
        The same as ``executor=client`` (the older name).
    progress : bool
        Show progress bars over videos and frames.
    **track_options
        Options of :func:`posejax.track` (``model_complexity``, ``smooth_landmarks``,
        ``min_detection_confidence``, ``fps``, ``vectorized``...); part of the skip rule: a
        result made with other options is redone.

    Returns
    -------
    pandas.DataFrame
        This run's rows of the index, one per video in input order, columns
        :data:`INDEX_COLUMNS`: ``video`` the absolute, resolved path; ``name`` the label in
        the result's ``video`` column; ``status`` ``done``
        (tracked now), ``skipped`` (an up-to-date result existed) or ``failed`` (``error`` says
        why); ``seconds`` of work; ``output`` the landmark file. ``_index.csv`` (see
        :func:`read_index`) also keeps the rows of earlier runs into the folder.

    Raises
    ------
    ValueError, TypeError
        For bad options, or when ``videos`` names no video at all (before any work).
    posejax.io._lock.FolderLockedError
        When another run is using ``output_dir`` (before any work).
    PermissionError, OSError
        When ``output_dir`` cannot be created or takes no files (before any work).

    Examples
    --------
    >>> import posejax
    >>> index = posejax.track_videos("workouts/", "landmarks/")  # doctest: +SKIP
    >>> index.status.value_counts()  # doctest: +SKIP
    done      812
    failed      2
    >>> from concurrent.futures import ProcessPoolExecutor  # doctest: +SKIP
    >>> with ProcessPoolExecutor(4) as pool:  # doctest: +SKIP
    ...     index = posejax.track_videos("workouts/", "landmarks/", executor=pool)
    """
    if executor is not None and client is not None and executor is not client:
        raise TypeError("give either executor= or client= (the same thing), not both")
    executor = client if executor is None else executor
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must have a submit(fn, *args) method, like a "
                        f"concurrent.futures executor or a distributed.Client, got "
                        f"{type(executor).__name__}")
    options = _normalized_options(track_options)
    paths = resolve_videos(videos)
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise type(error)(f"cannot create the output folder {str(output_dir)!r} "
                          f"({error.strerror or error}): give a folder that can be created, "
                          f"or an existing one") from error
    with folder_lock(output_dir):
        check_writable(output_dir)
        for stale in output_dir.iterdir():
            if is_partial(stale):
                stale.unlink(missing_ok=True)   # left by a killed run; never a finished result
        earlier = read_index(output_dir) if find_index(output_dir) is not None else None
        old = old_index(output_dir)
        jobs = plan_jobs(paths, output_dir)
        check_names(jobs, earlier)
        for job, name in zip(jobs, labels([j["video"] for j in jobs], earlier), strict=True):
            job["name"] = name
        rows: list[dict | None] = [None] * len(jobs)
        written = [-float("inf")]

        def arrived(i: int, row: dict) -> None:
            rows[i] = row
            if time.monotonic() - written[0] >= INDEX_EVERY:
                write_index(merged_index(earlier, rows), output_dir / INDEX_NAME)
                written[0] = time.monotonic()

        try:
            _run(jobs, options, executor, arrived, progress)
        finally:
            write_index(merged_index(earlier, rows), output_dir / INDEX_NAME)
            if old is not None:
                # Its rows are in _index.csv now, committed: the old file would only stop
                # pd.read_parquet(output_dir) (it reads every file not named _* or .*).
                old.unlink(missing_ok=True)
    return as_index([r for r in rows if r is not None])


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
        ``video`` (absolute, resolved: the video's identity in the index) and ``output``
        (``output_dir /`` :func:`output_name`), as strings, plain data that travels to workers.
        :func:`track_videos` adds each video's ``name`` (:func:`posejax.io._index.labels`).

    Examples
    --------
    >>> [j["output"] for j in plan_jobs([Path("/a/clip.mp4"), Path("/b/clip.mp4")], Path("out"))]
    ['out/clip-a357c454.parquet', 'out/clip-7f206a74.parquet']
    """
    return [{"video": str(Path(p).resolve()), "output": str(Path(output_dir) / output_name(p))}
            for p in paths]


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
    _check_people(options["num_poses"], options["max_lost_seconds"], False)
    options["num_poses"] = int(options["num_poses"])
    options["max_lost_seconds"] = float(options["max_lost_seconds"])
    config = _config(options)   # validates the rest
    options.update({k: getattr(config, k) for k in options if hasattr(config, k)})
    if options["fps"] is not None:
        options["fps"] = float(options["fps"])
    if options["num_poses"] == 1:
        # One person is the pipeline of earlier versions: the same options, so the same skip
        # key, and results made before num_poses existed stay finished.
        del options["num_poses"], options["max_lost_seconds"]
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

    This is the task :func:`track_videos` submits to its executor, one per video.

    Parameters
    ----------
    job : dict
        ``{"video": path, "output": path}`` from :func:`plan_jobs`, with the video's label as
        ``name`` (without one, the video's file name).
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
    row = _failed_row(job)
    try:
        stamp = _stamp(video)
        key = _options_key(options)
        record = _finished(output, stamp, key)
        if record is not None:
            row.update(status="skipped", frames=record["frames"],
                       frames_with_pose=record["frames_with_pose"], output=str(output))
        else:
            frames, with_pose = _track_to_file(video, output, options, stamp, key, bar,
                                               row["name"])
            row.update(status="done", frames=frames, frames_with_pose=with_pose,
                       output=str(output))
    except Exception as error:  # noqa: BLE001  (a bad video is a row, not the end of the run)
        row = _failed_row(job, error)
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def _track_to_file(video, output, options, stamp, key, bar, name: str) -> tuple[int, int]:
    config = _config(options)
    # A truncated or corrupt video raises VideoDecodeError from the reader (posejax.io.video
    # holds every container's packets against what it declares): its message says how many
    # frames were read, what the container declares and where decoding stopped.
    result = _track(str(video), config, options["fps"], None, False, bar=bar,
                    mediapipe_clock=options["mediapipe_clock"],
                    num_poses=options.get("num_poses", 1),
                    max_lost_seconds=options.get("max_lost_seconds", MAX_LOST_SECONDS))
    # The label becomes the table's video column: the folder's files concatenate into one
    # table where each video stays apart.
    result = dataclasses.replace(result, video_names=(name,))
    present = result.pose_present
    if result.individuals is not None:   # a frame with anybody on it
        present = present.any(axis=-1)
    frames, with_pose = int(result.n_frames), int(np.sum(present))
    df = result.to_dataframe("long")
    del result
    df.attrs["batch"] = {"video": stamp, "options_key": key, "options": options,
                         "frames": frames, "frames_with_pose": with_pose}
    write_landmarks(df, output)  # all or nothing: see posejax.io._atomic
    return frames, with_pose


def _failed_row(job: dict, error: BaseException | None = None) -> dict:
    """An index row of a video that failed (with ``error``), or of one not finished yet."""
    why = "" if error is None else f"{type(error).__name__}: {' '.join(str(error).split())}"
    name = job.get("name") or Path(job["video"]).name
    return {"video": job["video"], "name": name, "status": "failed", "frames": 0,
            "frames_with_pose": 0, "seconds": 0.0, "output": "", "error": why}


def _as_completed(futures):
    """Futures as they finish: ``concurrent.futures``' own, or by polling ``done()``."""
    if all(isinstance(f, concurrent.futures.Future) for f in futures):
        yield from concurrent.futures.as_completed(futures)
        return
    pending = list(futures)
    while pending:
        done = [f.done() for f in pending]
        finished = [f for f, d in zip(pending, done, strict=True) if d]
        pending = [f for f, d in zip(pending, done, strict=True) if not d]
        yield from finished
        if pending and not finished:
            time.sleep(0.05)


def _run(jobs: list[dict], options: dict, executor, arrived, progress: bool) -> None:
    """Every job on ``executor`` (threads of this process by default); ``arrived(i, row)``."""
    own = executor is None
    if own:
        at_once = min(MAX_VIDEOS_AT_ONCE, side_by_side(_config(options), len(jobs)))
        executor = concurrent.futures.ThreadPoolExecutor(at_once, thread_name_prefix="posejax")
    elif callable(getattr(executor, "get_executor", None)):
        # A distributed.Client: its executor's futures are concurrent.futures ones, and
        # pure=False gives every task its own key, so a second run on the same client is never
        # handed the first run's (cached) rows.
        executor = executor.get_executor(pure=False)
    # Threads of this process count frames as they go and stop at the next chunk when the run
    # is interrupted; other executors' tasks (processes, workers) count when they finish.
    in_threads = isinstance(executor, concurrent.futures.ThreadPoolExecutor)
    with tqdm(total=len(jobs), unit="video", desc="videos", disable=not progress,
              position=0) as videos, \
            tqdm(unit="frame", desc="frames", disable=not progress, position=1) as frames:
        shared = _SharedBar(frames)
        futures = {}
        try:
            for i, job in enumerate(jobs):
                task = (job, options, shared) if in_threads else (job, options)
                futures[executor.submit(process_video, *task)] = i
            failed = 0
            for future in _as_completed(list(futures)):
                i = futures[future]
                try:
                    row = future.result()
                except Exception as error:  # noqa: BLE001  (the task died: a killed worker)
                    row = _failed_row(jobs[i], error)
                arrived(i, row)
                videos.update(1)
                if not in_threads and row["status"] == "done":
                    frames.update(row["frames"])
                failed += row["status"] == "failed"
                if failed:
                    videos.set_postfix(failed=failed)
        except BaseException:
            # Interrupted: the videos under way in threads end at their next chunk, unwritten;
            # no new one starts. Finished files stay, so a second run resumes.
            shared.stop()
            for future in futures:
                if callable(getattr(future, "cancel", None)):    # optional in the protocol
                    future.cancel()
            raise
        finally:
            if own:
                executor.shutdown(wait=True, cancel_futures=True)


