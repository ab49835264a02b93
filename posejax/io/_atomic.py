"""Files written all or nothing: a temporary file beside the target, fsync, rename.

Every file posejax writes (landmark tables, sidecars, indexes, annotated videos, plots) goes
through :func:`atomic_path` or :func:`atomic_write`, so that

* a reader never sees a half-written file under its final name (the data is written to a hidden
  temporary file in the same folder, flushed to disk, then renamed over the target in one step);
* a failed or interrupted write (full disk, Ctrl-C, a killed process) leaves any earlier file at
  that path exactly as it was, and removes its temporary file;
* the file's permissions follow the process's umask, like any program's files (``0644`` under
  the usual umask ``022``), not the ``0600`` of a temporary file.

A killed process cannot remove its temporary file; such leftovers are named
``.<name>.<random>.partial<suffix>`` (no suffix for Parquet, whose dataset readers take every
``*.parquet`` of a folder), never a name posejax reads as a result (see :func:`is_partial`).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "PARTIAL_MARK", "atomic_path", "atomic_write", "commit", "discard", "file_mode", "is_partial",
    "temporary_name",
]

#: Marks the temporary name of a file still being written: ``.<name>.<random>.partial<suffix>``.
PARTIAL_MARK = ".partial"
_PARTIAL_NAME = re.compile(r"^\..+\.[0-9a-f]{12}\.partial(\.[^.]*)?$")


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    # Elsewhere the only way to read it is to set it; this is brief and posejax's own threads
    # create no files meanwhile.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a new regular file under the current umask (``0o644`` under ``022``).

    Examples
    --------
    >>> old = os.umask(0o027)
    >>> oct(file_mode())
    '0o640'
    >>> _ = os.umask(old)
    """
    return 0o666 & ~_umask()


def is_partial(path) -> bool:
    """Whether ``path`` is the temporary file of a write that has not finished (or was killed).

    Examples
    --------
    >>> is_partial(".clip.0123456789ab.partial.parquet"), is_partial("clip.parquet")
    (True, False)
    """
    return bool(_PARTIAL_NAME.match(Path(path).name))


#: Suffixes by which readers of datasets pick a folder's files: ``dask.dataframe.read_parquet``
#: takes every ``*.parquet`` of a folder, hidden or not, so a write in progress must not end so.
_DATASET_SUFFIXES = frozenset({".parquet", ".pq", ".parq"})


def temporary_name(path: Path) -> Path:
    """The hidden name a write of ``path`` uses until it is complete (see :func:`is_partial`).

    Examples
    --------
    >>> is_partial(temporary_name(Path("clip.mp4"))), temporary_name(Path("c.mp4")).suffix
    (True, '.mp4')
    >>> temporary_name(Path("clip.parquet")).suffix
    '.partial'
    """
    # The real suffix comes last so that writers that choose a format by suffix (pandas'
    # to_hdf, imageio, matplotlib's savefig) still see it; Parquet writers never look at it.
    suffix = "" if path.suffix.lower() in _DATASET_SUFFIXES else path.suffix
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}{PARTIAL_MARK}{suffix}")


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the system lets a folder be opened)."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


@contextlib.contextmanager
def atomic_path(path, *, mode: int | None = None) -> Iterator[Path]:
    """A temporary path to write instead of ``path``; renamed over ``path`` when the block ends.

    The block writes (and closes) the file at the path it is given; on leaving the block without
    an error, the file is flushed to disk, given the umask's permissions and renamed to
    ``path``. On an error (or ``KeyboardInterrupt``) the temporary file is removed and ``path``
    is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The final file. Its folder must exist.
    mode : int, optional
        Permissions of the final file instead of the umask's (the caches keep theirs writable
        by their owner only, whatever the umask: see :mod:`posejax._cache`).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as temporary:
    ...     _ = temporary.write_text("done")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('done', ['a.txt'])
    """
    path = Path(path)
    temporary = temporary_name(path)
    try:
        yield temporary
        commit(temporary, path, mode)
    except BaseException:
        discard(temporary)
        raise


def commit(temporary: Path, path: Path, mode: int | None = None) -> None:
    """Flush ``temporary`` to disk, give it ``mode`` (default: the umask's) and rename it."""
    if not temporary.exists():
        raise FileNotFoundError(f"nothing was written for {str(path)!r}")
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    os.chmod(temporary, file_mode() if mode is None else mode)
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def discard(temporary: Path) -> None:
    """Remove the temporary file of a write that failed (if it is there)."""
    with contextlib.suppress(OSError):
        Path(temporary).unlink(missing_ok=True)


def atomic_write(path, write: Callable, mode: str = "w") -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The final file.
    write : callable
        Writes the content to the open file it is given.
    mode : {"w", "wb"}
        Text (written with ``newline=""``) or bytes.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "b.csv"
    >>> atomic_write(target, lambda file: file.write("x,y"))
    >>> target.read_text()
    'x,y'
    """
    with atomic_path(path) as temporary:
        kwargs = {"newline": ""} if "b" not in mode else {}
        with open(temporary, mode, **kwargs) as file:
            write(file)
            file.flush()
