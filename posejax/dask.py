"""Dask for :func:`posejax.track_videos`: a local cluster to run on, results as one frame.

Needs the optional extra ``pip install 'posejax[dask]'`` (``dask[distributed]``); dask and
distributed are imported inside the functions only, so ``import posejax`` never needs them.

* ``posejax.track_videos(..., executor=client)`` runs one task per video on the workers of a
  ``distributed.Client`` (the client is an executor like any other: :mod:`posejax.batch` never
  imports this module or Dask). A task is :func:`posejax.batch.process_video`, the very function
  of the default run, so files, index and skip rules are the same, and on CPU workers so are the
  results, bit for bit. Each worker process keeps its compiled pipelines between videos
  (:func:`posejax.pipeline.get_pipeline` is cached per process) and reads and fills posejax's
  on-disk compilation cache (``$POSEJAX_CACHE_DIR``, shared when the workers see one folder).
* :func:`read_landmarks` gives a ``dask.dataframe`` over every result of an output folder.
* :func:`local_client` starts a local cluster of worker processes (``posejax track --workers``);
  :func:`close_client` stops it.

A worker that dies while tracking a video (out of memory, killed) is retried by Dask on another
worker; a video that kills every worker it reaches becomes a ``failed`` row like a corrupt one.
"""

from __future__ import annotations

import pandas as pd

from posejax.io._index import finished_results
from posejax.io.landmark_files import read_one_file

__all__ = ["close_client", "local_client", "read_landmarks"]


def _require():
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as error:
        raise ImportError("running on a Dask cluster needs dask and distributed: "
                          "pip install 'posejax[dask]'") from error


def read_landmarks(output_dir):
    """Read every result of a :func:`posejax.track_videos` run as one ``dask.dataframe``.

    One partition per video (``done`` and ``skipped`` rows of the index), in index order: the
    long layout of :func:`posejax.read_landmarks` with a first column ``video``, categorical:
    the video's label (the index's ``name``: its file name, or as much of its path as keeps it
    unique in the folder). A result carries its own ``video`` column; one written before
    results did gets the index's label. So ``day1/clip.mp4`` and ``day2/clip.mp4`` stay apart
    and (video, frame, landmark) is a key. The parts carry no ``attrs``: read one file with
    :func:`posejax.read_landmarks` for its fps and tracking options.

    The folder also opens with ``dask.dataframe.read_parquet(output_dir)`` (its index,
    ``_index.csv``, and its hidden files are skipped); this reader adds the index's order and
    labels for results written before they carried them.

    Parameters
    ----------
    output_dir : str or os.PathLike
        The output folder (its ``_index.csv`` lists the results of every run into it).

    Returns
    -------
    dask.dataframe.DataFrame

    Examples
    --------
    >>> import posejax.dask
    >>> ddf = posejax.dask.read_landmarks("landmarks/")  # doctest: +SKIP
    >>> ddf.groupby("video").frame.max().compute()  # doctest: +SKIP
    """
    _require()
    import dask.dataframe as dd

    results = finished_results(output_dir)
    if not results:
        raise ValueError(f"{str(output_dir)!r} holds no finished results (see its _index.csv)")
    outputs = [str(path) for path, _ in results]
    names = [name for _, name in results]
    categories = pd.CategoricalDtype(names)
    meta = _with_video(read_one_file(outputs[0], video=names[0]).iloc[:0], names[0], categories,
                       outputs[0])
    return dd.from_map(_read_one, outputs, names, categories=categories, meta=meta,
                       divisions=None, enforce_metadata=False)


def _read_one(output: str, name: str, categories):
    return _with_video(read_one_file(output, video=name), name, categories, output)


def _with_video(df, name, categories, output):
    df = df.copy()
    # Each file's attrs (fps, its batch record) describe that video only; pandas compares the
    # parts' attrs when it joins them, which fails on equal-length arrays, so they stay behind.
    df.attrs = {}
    if "video" not in df.columns:
        df.insert(0, "video", pd.Categorical([name] * len(df), dtype=categories))
        return df
    own = set(df["video"].astype(str).unique()) if len(df) else {name}
    if own != {name}:
        # A file copied in from elsewhere, or renamed: its rows would join the wrong video.
        raise ValueError(f"{output!r}: its video column holds {sorted(own)}, but the "
                         f"folder's index labels it {name!r}; run posejax.track_videos on the "
                         f"folder again")
    df["video"] = pd.Categorical(df["video"].astype(str), dtype=categories)
    return df


def local_client(n_workers: int, **cluster_options):
    """Start a local cluster of ``n_workers`` processes with one thread each; its client.

    Parameters
    ----------
    n_workers : int
        Worker processes (each compiles its own pipelines, once; all share the on-disk cache).
    **cluster_options
        Passed to ``distributed.LocalCluster`` (for example ``env=`` or ``memory_limit=``).

    Returns
    -------
    distributed.Client
        Stop it and its cluster with :func:`close_client`.

    Examples
    --------
    >>> client = local_client(2)  # doctest: +SKIP
    >>> posejax.track_videos("clips/", "out/", executor=client)  # doctest: +SKIP
    >>> close_client(client)  # doctest: +SKIP
    """
    _require()
    from distributed import Client, LocalCluster

    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive int, got {n_workers!r}")
    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": None,
               **cluster_options}
    cluster = LocalCluster(n_workers=n_workers, **options)
    client = Client(cluster)
    client._posejax_cluster = cluster   # closed with the client (see close_client)
    return client


def close_client(client) -> None:
    """Close ``client``, and the local cluster it was started with by :func:`local_client`.

    Parameters
    ----------
    client : distributed.Client
        The client to close.

    Examples
    --------
    >>> close_client(local_client(1))  # doctest: +SKIP
    """
    cluster = getattr(client, "_posejax_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()
