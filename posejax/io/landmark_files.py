"""Landmark files: CSV, Parquet and DeepLabCut-compatible HDF5, written and read back exactly.

:func:`write_landmarks` picks the format from the suffix; :func:`read_landmarks` gives the table
back with its ``df.attrs`` and :func:`read_track` the :class:`~posejax.result.PoseTrack`. The
layouts are those of :mod:`posejax.tables`.

Every file also opens with the default reader of its format, without posejax:

======================  =====================================================================
``pd.read_csv(path)``   long: one row per frame and landmark; wide: one row per frame,
                        ``[video,] frame`` then flat columns ``nose_x, nose_y, ...``
                        (DeepLabCut CSV: ``pd.read_csv(path, header=[0, 1, 2], index_col=0)``)
``pd.read_parquet``     long: the table of ``to_dataframe()`` itself (float32, categoricals);
                        wide: the flat columns of the wide CSV, indexed by ``[video,] frame``
``pd.read_hdf``         DeepLabCut's table (pixel ``x, y``, ``likelihood``), as DeepLabCut and
                        ``movement`` read it
======================  =====================================================================

What a format has no room for travels beside the table: in a CSV's sidecar
``<name>.posejax.json`` (:mod:`posejax.io.csv_files`), in the Parquet schema's metadata (key
``posejax``), in the HDF5 group ``/posejax``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from posejax.io import _hdf5, csv_files
from posejax.io._atomic import atomic_path
from posejax.io._metadata import dumps, loads, restore_attrs
from posejax.io._paths import LANDMARK_FORMATS, existing_file  # noqa: F401  (re-exported)
from posejax.result import PoseTrack
from posejax.tables import (
    convert_layout,
    detect_layout,
    flat_column_names,
    split_flat_names,
    track_from_dataframe,
    track_to_dataframe,
    upgrade_table,
)

_H5_KEY = "df_with_missing"  # the key DeepLabCut writes and its readers look for
_H5_GROUP = "posejax"
_TRACK_ARRAYS = (
    "landmarks", "world_landmarks", "pose_present", "rois", "timestamps", "image_sizes",
)  # fmt: skip


def _landmark_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in LANDMARK_FORMATS:
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its suffix; use one of "
            f"{', '.join(LANDMARK_FORMATS)}"
        )
    return suffix


def _as_table(data, layout: str | None, units: str, scorer: str | None):
    """``(DataFrame, PoseTrack or None)`` for a track or a pose DataFrame."""
    if isinstance(data, PoseTrack):
        return track_to_dataframe(
            data, layout=layout or "long", units=units, scorer=scorer
        ), data
    if isinstance(data, pd.DataFrame):
        if layout is not None and layout != detect_layout(data):
            data = convert_layout(data, layout, scorer=scorer)
        return data, None
    raise TypeError(f"expected a PoseTrack or a pose DataFrame, got {type(data).__name__}")


def write_landmarks(
    data, path, *, layout: str | None = None, units: str = "normalized", scorer: str | None = None
) -> Path:
    """Save landmarks to CSV, Parquet or DeepLabCut HDF5, chosen by the file's suffix.

    Parameters
    ----------
    data : PoseTrack or pandas.DataFrame
        A track, or a pose table from :meth:`PoseTrack.to_dataframe` (any layout).
    path : str or os.PathLike
        ``.csv``: long (default), wide or ``dlc`` layout, which ``pd.read_csv(path)`` reads (wide:
        flat column names ``nose_x``; ``dlc``: ``header=[0, 1, 2], index_col=0``); dtypes and
        ``df.attrs`` go to the sidecar ``<name>.posejax.json`` beside it, so
        :func:`read_landmarks` restores the table exactly. Keep the two files together.
        ``.parquet``: long (default) or wide (flat column names, as in CSV), attrs in the file's
        metadata (needs ``pyarrow``).
        ``.h5``: a DeepLabCut table (key ``df_with_missing``: pixel x, y, likelihood, which
        DeepLabCut and ``movement`` read) plus every posejax array in the group ``/posejax``,
        so the track comes back exactly (needs ``tables``; one video per file). A track or
        table of several people is written with DeepLabCut's multi-animal columns
        ``(scorer, individuals, bodyparts, coords)`` (as is the ``dlc`` CSV layout), and reads
        back with its individuals.
    layout : {"long", "wide", "dlc"}, optional
        Layout for CSV and Parquet (default: long for a track, the table's own for a DataFrame).
    units : {"normalized", "px"}
        Coordinates written for a track (see :func:`posejax.tables.track_to_dataframe`).
    scorer : str, optional
        Scorer level of wide and DeepLabCut tables.

    Returns
    -------
    pathlib.Path

    Example
    -------
    >>> write_landmarks(track, "poses.csv")  # also writes poses.posejax.json  # doctest: +SKIP
    >>> pd.read_csv("poses.csv").columns[:4].tolist()  # doctest: +SKIP
    ['frame', 'time', 'landmark', 'x']
    >>> write_landmarks(track, "poses.h5")  # DeepLabCut-compatible  # doctest: +SKIP
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    suffix = _landmark_suffix(path)
    if layout is not None and layout not in LANDMARK_FORMATS[suffix]:
        raise ValueError(
            f"{suffix} files hold the layouts {LANDMARK_FORMATS[suffix]}, not {layout!r}"
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist")
    if suffix in (".h5", ".hdf5"):
        _write_h5(data, path, units, scorer)
    elif suffix == ".csv":
        df, _ = _as_table(data, layout, units, scorer)
        csv_files.write_csv(df, path)
    else:
        df, _ = _as_table(data, layout, units, scorer)
        _write_parquet(df, path)
    return path


def _write_parquet(df, path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ImportError("Parquet files need pyarrow: pip install 'posejax[parquet]'") from error
    layout = detect_layout(df)
    plain = df.copy()
    plain.attrs = {}
    meta = {"format_version": csv_files.FORMAT_VERSION, "layout": layout, "attrs": df.attrs}
    if layout == "wide":
        # Flat names, as in the wide CSV, so that DuckDB, Polars and R see plain columns; the
        # levels are rebuilt on reading.
        meta["column_levels"] = [str(name) for name in plain.columns.names]
        if plain.columns.nlevels == 3:
            meta["scorer"] = str(plain.columns.get_level_values(0)[0])
        plain.columns = flat_column_names(plain.columns)
    table = pa.Table.from_pandas(plain, preserve_index=layout != "long")
    metadata = {**(table.schema.metadata or {}), b"posejax": dumps(meta).encode()}
    with atomic_path(path) as temporary:
        pq.write_table(table.replace_schema_metadata(metadata), temporary)


def _write_h5(data, path: Path, units: str, scorer: str | None) -> None:
    try:
        import tables
    except ImportError as error:
        raise ImportError("HDF5 files need PyTables: pip install 'posejax[h5]'") from error
    if isinstance(data, pd.DataFrame):
        data = track_from_dataframe(data)
    if not isinstance(data, PoseTrack):
        raise TypeError(f"expected a PoseTrack or a pose DataFrame, got {type(data).__name__}")
    if data.is_batch:
        raise ValueError(
            f"{str(path)!r}: a DeepLabCut .h5 file holds one video; pass track.video(i)"
        )
    dlc = track_to_dataframe(data, layout="dlc", scorer=scorer)
    plain = dlc.copy()
    plain.attrs = {}
    meta = {
        "fps": float(data.fps),
        "model_complexity": int(data.model_complexity),
        "video_names": None if data.video_names is None else list(data.video_names),
        "units": units,
        "scorer": dlc.columns.get_level_values(0)[0],
        "individuals": None if data.individuals is None else list(data.individuals),
        "individual_name": data.individual_name,
    }
    try:
        with atomic_path(path) as temporary:
            plain.to_hdf(temporary, key=_H5_KEY, mode="w", format="table")
            # pandas lists only groups it wrote, so these arrays stay invisible to DeepLabCut's
            # readers.
            with tables.open_file(temporary, "a") as h5:
                group = h5.create_group("/", _H5_GROUP)
                for name in _TRACK_ARRAYS:
                    h5.create_array(group, name, np.ascontiguousarray(getattr(data, name)))
                if data.frame_numbers is not None:  # some frames of a video keep their numbers
                    h5.create_array(group, "frame_numbers", data.frame_index())
                group._v_attrs.meta = dumps(meta)
    except tables.HDF5ExtError as error:
        # HDF5 reports a full disk or a failed write as its own error; the file was not written.
        raise OSError(f"cannot write {str(path)!r}: {' '.join(str(error).split())}") from error


def read_landmarks(path):
    """Read a landmark file written by :func:`write_landmarks` (or by DeepLabCut), or many.

    Parameters
    ----------
    path : str, os.PathLike, list or tuple
        ``.csv``, ``.parquet`` or ``.h5``. Or many files: a folder (a
        :func:`posejax.track_videos` output folder gives its finished results; any other, its
        posejax landmark files), a glob pattern (``"out/*.parquet"``) or a list of paths; see
        :mod:`posejax.io.datasets`.

    Returns
    -------
    pandas.DataFrame
        The table as written, with its ``attrs``. A posejax ``.h5`` file comes back as the wide
        layout (every coordinate, exactly); a DeepLabCut file as its own table, without attrs.
        Many files come back as one table, each video apart in its ``video`` (the file's own,
        or its stem for a file written without one), with the ``attrs`` equal in all of them;
        two files holding one video raise ``ValueError``, and a folder or pattern that names no
        file ``FileNotFoundError``.

    Example
    -------
    >>> df = read_landmarks("poses.csv")  # doctest: +SKIP
    >>> df.pose.angle("left_knee")  # doctest: +SKIP
    >>> everything = read_landmarks("landmarks/")  # doctest: +SKIP
    >>> everything.groupby("video", observed=True).frame.max()  # doctest: +SKIP
    """
    from posejax.io import datasets

    if datasets.is_many(path):
        return datasets.read_dataset(path)
    return read_one_file(path)


def read_one_file(path, *, video: str | None = None, default_video: str | None = None):
    """:func:`read_landmarks` of one file, labelling a table that has no ``video`` column.

    Files written before tables carried a ``video`` column have none: they get ``video``, else
    the one name of their ``attrs["video_names"]``, else ``default_video`` (else ``"0"``).
    """
    path = existing_file(path)
    suffix = _landmark_suffix(path)
    if suffix in (".h5", ".hdf5"):
        track, dlc = _read_h5(path)
        if track is None:
            return dlc
        label = None if track.video_names is not None else (video or default_video)
        return track.to_dataframe(
            "wide", units=dlc.attrs.get("units", "normalized"), video=label
        )
    table = _read_table(path, suffix)
    if video is None and not table.attrs.get("video_names"):
        video = default_video
    # Files of earlier versions kept times and image sizes in attrs: given today's columns.
    return upgrade_table(table, video=video)


def _read_table(path: Path, suffix: str) -> pd.DataFrame:
    """The table of a CSV or Parquet file exactly as it was written (attrs of any version)."""
    if suffix == ".csv":
        return csv_files.read_csv(path)
    return _read_parquet(path)


def read_track(path, *, fps: float | None = None, image_size=None):
    """Read a landmark file back into a :class:`~posejax.result.PoseTrack`.

    Parameters
    ----------
    path : str or os.PathLike
        A file from :func:`write_landmarks`, or a DeepLabCut ``.h5``/``.csv`` file.
    fps, image_size : optional
        Needed only for files that do not carry them (DeepLabCut's own).

    Example
    -------
    >>> track = read_track("poses.h5")  # doctest: +SKIP
    """
    path = existing_file(path)
    if _landmark_suffix(path) in (".h5", ".hdf5"):
        track, dlc = _read_h5(path)
        if track is not None:
            return track
        return track_from_dataframe(dlc, fps=fps, image_size=image_size)
    # As written: files of earlier versions also cached the ROIs, which the track gets back.
    table = _read_table(path, _landmark_suffix(path))
    return track_from_dataframe(table, fps=fps, image_size=image_size)


def _read_parquet(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ImportError("Parquet files need pyarrow: pip install 'posejax[parquet]'") from error
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(b"posejax")
    df = table.to_pandas()
    if raw is None:
        return df
    meta = loads(raw.decode())
    if meta["layout"] == "wide" and "column_names" in meta:  # first format: "landmark|coord"
        tuples = [tuple(c.split("|")) for c in df.columns]
        df.columns = pd.MultiIndex.from_tuples(tuples, names=meta["column_names"])
    elif meta["layout"] == "wide":
        tuples = split_flat_names(df.columns)
        if tuples is None:
            raise ValueError(f"{str(path)!r}: the wide table's columns are not <landmark>_<coord>")
        if meta.get("scorer") is not None:
            tuples = [(meta["scorer"], *pair) for pair in tuples]
        levels = meta["column_levels"][-len(tuples[0]) :]
        df.columns = pd.MultiIndex.from_tuples(tuples, names=levels)
    df.attrs = restore_attrs(meta["attrs"])
    return df


def _read_h5(path: Path):
    """``(PoseTrack or None, DeepLabCut table)`` of an HDF5 file, read without unpickling.

    Not through ``pd.read_hdf``: PyTables unpickles attributes, so a planted file would run code
    on reading (see :mod:`posejax.io._hdf5`).
    """
    with _hdf5.open_file(path) as h5:
        if _H5_KEY in h5:
            dlc = _hdf5.read_frame_from(h5, _H5_KEY, path)
        else:
            try:
                dlc = _hdf5.read_frame_from(h5, None, path)
            except ValueError as error:
                raise ValueError(
                    f"{str(path)!r} is not a DeepLabCut/posejax HDF5 file: {error}"
                ) from None
        if _H5_GROUP not in h5:
            return None, dlc
        names = _TRACK_ARRAYS + (("frame_numbers",) if "frame_numbers" in h5[_H5_GROUP] else ())
        arrays = _hdf5.read_arrays(h5, _H5_GROUP, names, path)
        meta = _hdf5.read_json_attr(h5, _H5_GROUP, "meta", path, loads=loads)
    names = meta["video_names"]
    track = PoseTrack(
        **arrays,
        fps=meta["fps"],
        model_complexity=meta["model_complexity"],
        video_names=None if names is None else tuple(names),
        individuals=None if meta.get("individuals") is None else tuple(meta["individuals"]),
        individual_name=meta.get("individual_name"),
    )
    dlc.attrs = {"units": meta.get("units", "normalized")}
    return track, dlc
