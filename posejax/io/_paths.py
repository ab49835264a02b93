"""Checks on paths shared by the readers of :mod:`posejax.io` (so each error reads the same)."""

from __future__ import annotations

import os
from pathlib import Path


def existing_file(path) -> Path:
    """``path`` as a Path, or an error saying why it cannot be read (missing, a folder, empty)."""
    if isinstance(path, (bytes, bytearray)):
        # A bytes path would work for some readers and not others: one rule for all.
        raise TypeError(f"path must be a str or pathlib.Path, got bytes {bytes(path)!r}; "
                        "pass os.fsdecode(path) instead")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a file")
    if path.stat().st_size == 0:
        raise ValueError(f"{str(path)!r} is empty (0 bytes)")
    return path


#: Landmark file suffixes and the table layouts each holds (here, free of pandas, so that the
#: command line can check an output name before it imports anything heavy).
LANDMARK_FORMATS = {
    ".csv": ("long", "wide", "dlc"),
    ".parquet": ("long", "wide"),
    ".pq": ("long", "wide"),
    ".h5": ("dlc",),
    ".hdf5": ("dlc",),
}
