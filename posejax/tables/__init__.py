"""Pose tracks as tables: DataFrame layouts, track <-> DataFrame, and xarray.

- :mod:`posejax.tables.layouts`: the long, wide and DeepLabCut layouts, :func:`parse_table`;
- :mod:`posejax.tables.convert`: :func:`track_to_dataframe`, :func:`track_from_dataframe` and
  :func:`convert_layout`;
- :mod:`posejax.tables.xarray`: :func:`to_xarray`, the ``movement`` package's Dataset.

Files of these tables are in :mod:`posejax.io.landmark_files`; maths on them in
:mod:`posejax.kinematics` and the ``df.pose`` accessor (:mod:`posejax.accessor`).
"""

from posejax.tables.convert import convert_layout, track_from_dataframe, track_to_dataframe
from posejax.tables.layouts import (
    COORDS,
    DEFAULT_VIDEO,
    FRAME_COLUMNS,
    LAYOUTS,
    UNITS,
    UNITS_COLUMN,
    PoseTable,
    detect_layout,
    flat_column_names,
    landmark_dtype,
    parse_table,
    split_flat_names,
    upgrade_table,
)
from posejax.tables.xarray import to_xarray

__all__ = [
    "COORDS",
    "DEFAULT_VIDEO",
    "FRAME_COLUMNS",
    "LAYOUTS",
    "UNITS",
    "UNITS_COLUMN",
    "PoseTable",
    "convert_layout",
    "detect_layout",
    "flat_column_names",
    "landmark_dtype",
    "parse_table",
    "split_flat_names",
    "to_xarray",
    "track_from_dataframe",
    "track_to_dataframe",
    "upgrade_table",
]
