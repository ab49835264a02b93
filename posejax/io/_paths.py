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


def same_file(a, b) -> bool:
    """Whether two paths name one file (through links, ``..`` or another spelling).

    Example
    -------
    >>> same_file("a/../b.mp4", "b.mp4")
    True
    """
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)  # hard links and bind mounts too
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_input_as_output(output, inputs, what: str = "output") -> None:
    """Raise before any work when ``output`` is one of the ``inputs`` files: it would be lost.

    Example
    -------
    >>> refuse_input_as_output("./clip.mp4", ["clip.mp4"], "--annotate")
    Traceback (most recent call last):
    ...
    ValueError: --annotate './clip.mp4' is the input file 'clip.mp4': writing it would ...
    """
    for source in inputs:
        if isinstance(source, (str, os.PathLike)) and same_file(output, source):
            raise ValueError(
                f"{what} {str(output)!r} is the input file {str(source)!r}: writing it would "
                "destroy the input; choose another path"
            )
