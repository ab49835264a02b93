"""Pose tracks and tables as xarray Datasets in the layout of the ``movement`` package.

``movement`` (neuroinformatics-unit) keeps poses as ``position`` (time, space, keypoints,
individuals) and ``confidence`` (time, keypoints, individuals); :func:`to_xarray` writes that
layout, so movement's filters, kinematics and plots work on posejax results. xarray is an optional
dependency (``posejax[xarray]``), imported when called.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from posejax.landmarks import LANDMARK_NAMES
from posejax.result import PoseTrack
from posejax.tables.convert import track_to_dataframe
from posejax.tables.layouts import parse_table


def to_xarray(data, space: str = "image"):
    """Landmarks as an xarray Dataset in the layout of the ``movement`` package.

    Parameters
    ----------
    data : PoseTrack or pandas.DataFrame
        One video (a track or a pose table in any layout).
    space : {"image", "world"}
        ``image``: pixel ``x, y`` with ``visibility`` as confidence. ``world``: ``x, y, z`` in
        metres with the world landmarks' visibility.

    Returns
    -------
    xarray.Dataset
        ``position`` (time, space, keypoints, individuals) and ``confidence`` (time, keypoints,
        individuals); ``time`` in seconds; attrs ``fps``, ``time_unit``, ``source_software``,
        ``ds_type``. The ``individuals`` coordinate holds the person names of a multi-person
        track or table (its ``individual`` column, in order), else one ``individual_0``; a
        person missing on a frame is NaN there.

    Example
    -------
    >>> ds = to_xarray(track)
    >>> dict(ds.position.sizes)
    {'time': 230, 'space': 2, 'keypoints': 33, 'individuals': 1}
    >>> ds.position.sel(keypoints="left_wrist", space="y").plot()
    [<matplotlib.lines.Line2D object at ...>]
    >>> to_xarray(two_people).individuals.values.tolist()  # posejax.track(..., num_poses=2)
    ['person_0', 'person_1']
    """
    try:
        import xarray as xr
    except ImportError as error:
        raise ImportError("to_xarray needs xarray: pip install 'posejax[xarray]'") from error
    if isinstance(data, PoseTrack):
        if data.is_batch:
            raise ValueError("to_xarray takes one video; pass track.video(i)")
        data = track_to_dataframe(data, layout="wide")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"expected a PoseTrack or a pose DataFrame, got {type(data).__name__}")
    table = parse_table(data)
    if table.videos is not None and len(np.unique(table.videos)) > 1:
        raise ValueError("to_xarray takes one video; select one from the batch first")
    groups = list(table.groups())  # one per person
    frames = np.unique(table.frames)
    points = table.points(space)
    if space == "image":
        axes = ["x", "y"]
        confidence = table.coord("visibility")
    else:
        axes = ["x", "y", "z"]
        confidence = table.values.get("world_visibility", table.coord("visibility"))
    # (time, space, keypoints, individuals): a person without a row on a frame is NaN there.
    position = np.full((len(frames), len(axes), len(LANDMARK_NAMES), len(groups)), np.nan)
    trust = np.full((len(frames), len(LANDMARK_NAMES), len(groups)), np.nan)
    times = np.full(len(frames), np.nan)
    all_times = table.frame_times()
    for k, rows in enumerate(groups):
        at = np.searchsorted(frames, table.frames[rows])
        position[at, :, :, k] = points[rows].transpose(0, 2, 1)
        trust[at, :, k] = confidence[rows]
        times[at] = all_times[rows]
    if table.individuals is None:
        individuals = ["individual_0"]
    else:
        individuals = [table.labels_of(rows)[1] for rows in groups]
    try:
        fps = table.frame_rate()
    except ValueError:  # a single frame without attrs
        fps = None
    return xr.Dataset(
        data_vars={
            "position": (("time", "space", "keypoints", "individuals"), position),
            "confidence": (("time", "keypoints", "individuals"), trust),
        },
        coords={
            "time": times,
            "space": axes,
            "keypoints": list(LANDMARK_NAMES),
            "individuals": individuals,
        },
        attrs={
            "fps": None if fps is None else float(fps),
            "time_unit": "seconds",
            "source_software": "posejax",
            "source_file": None,
            "ds_type": "poses",
        },
    )
