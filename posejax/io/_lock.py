"""One run at a time per output folder: a lock file, and a check that the folder takes files.

:func:`folder_lock` holds ``<folder>/.posejax.lock`` for the duration of a block. The file is
created with ``O_CREAT | O_EXCL`` (so of two runs exactly one gets it, also on NFS v3+ and
SMB) and holds its owner as JSON: ``pid``, ``host``, ``started`` (Unix time), ``run`` (a random
id). A run that finds the file held:

* by a live process (same host), or by a process on another host (which cannot be checked from
  here), stops at once with a :class:`FolderLockedError` that names the owner, its age, and the
  lock file to delete if that run is known to be gone;
* by a process of this host that no longer exists (killed, machine rebooted), takes the lock
  over with a ``RuntimeWarning`` naming the old owner.

The lock file is the one file posejax creates without :func:`posejax.io._atomic.atomic_write`:
exclusivity needs ``O_EXCL``, which a rename cannot give. A lock found empty or unreadable (its
owner died between creating and filling it) is reported with its age, never taken over.

:func:`check_writable` writes and removes a probe file, so that a read-only or full folder
fails before any work instead of after it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from posejax.io._atomic import atomic_write

__all__ = ["LOCK_NAME", "FolderLockedError", "check_writable", "folder_lock"]

LOCK_NAME = ".posejax.lock"


class FolderLockedError(OSError):
    """Another run holds the output folder's lock."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True     # exists, owned by another user
    return True


def _read_owner(path: Path) -> dict | None:
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(owner, dict) or not {"pid", "host", "started"} <= set(owner):
        return None
    return owner


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _describe(owner: dict) -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner["started"]))
    return (f"pid {owner['pid']} on host {owner['host']!r}, started {started}, "
            f"{_age(time.time() - owner['started'])} ago")


def _not_writable(folder: Path, error: OSError) -> OSError:
    """The error for a folder that takes no files, saying which folder and what to do."""
    kind = PermissionError if isinstance(error, PermissionError) else OSError
    reason = error.strerror or str(error)
    return kind(f"cannot write to the output folder {str(folder)!r} ({reason}): make it "
                f"writable, or choose another output folder")


def _create(path: Path, owner: dict) -> bool:
    """Create the lock file holding ``owner``; False when it exists already."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    except OSError as error:
        raise _not_writable(path.parent, error) from error
    try:
        os.write(handle, json.dumps(owner).encode())
        os.fsync(handle)
    except BaseException:
        os.close(handle)
        path.unlink(missing_ok=True)
        raise
    os.close(handle)
    return True


def _refusal(path: Path, owner: dict | None) -> FolderLockedError:
    folder = str(path.parent)
    if owner is None:
        with contextlib.suppress(OSError):
            age = _age(time.time() - path.stat().st_mtime)
            return FolderLockedError(
                f"{folder!r} is locked by {LOCK_NAME}, whose owner cannot be read (created "
                f"{age} ago); if no posejax run uses this folder, delete {str(path)!r}")
        return FolderLockedError(f"{folder!r} is locked by {LOCK_NAME}; if no posejax run uses "
                                 f"this folder, delete {str(path)!r}")
    if owner["host"] == socket.gethostname():
        return FolderLockedError(
            f"{folder!r} is in use by another posejax run ({_describe(owner)}): wait for it to "
            f"finish or use another output folder (if pid {owner['pid']} is not a posejax run, "
            f"delete {str(path)!r})")
    return FolderLockedError(
        f"{folder!r} is in use by a posejax run on another host ({_describe(owner)}), which "
        f"cannot be checked from here: wait for it, or if that run is gone, delete "
        f"{str(path)!r}")


@contextlib.contextmanager
def folder_lock(folder) -> Iterator[dict]:
    """Hold ``folder``'s lock file for the block; refuse at once if another run holds it.

    Parameters
    ----------
    folder : str or os.PathLike
        An existing folder.

    Yields
    ------
    dict
        The owner record written to the lock file.

    Raises
    ------
    FolderLockedError
        When a live run (or one on another host) holds the lock.
    PermissionError, OSError
        When the folder takes no files (read-only, full).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with folder_lock(folder):
    ...     (folder / LOCK_NAME).exists()
    True
    >>> (folder / LOCK_NAME).exists()
    False
    """
    path = Path(folder) / LOCK_NAME
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
             "run": uuid.uuid4().hex}
    if not _create(path, owner):
        held = _read_owner(path)
        stale = (held is not None and held["host"] == owner["host"]
                 and held["pid"] != owner["pid"] and not _alive(int(held["pid"])))
        if not stale:
            raise _refusal(path, held)
        # Remove it only if it is still the lock judged stale (another run may have taken it
        # over meanwhile; the window left is one read and one unlink).
        if _read_owner(path) == held:
            path.unlink(missing_ok=True)
        if not _create(path, owner):
            raise _refusal(path, _read_owner(path))
        warnings.warn(f"took over the lock of {str(path.parent)!r} from a run that is gone "
                      f"({_describe(held)})", RuntimeWarning, stacklevel=3)
    try:
        yield owner
    finally:
        if _read_owner(path) == owner:
            path.unlink(missing_ok=True)


def check_writable(folder) -> None:
    """Write and remove a probe file in ``folder``; raise a clear error if that fails.

    Parameters
    ----------
    folder : str or os.PathLike
        An existing folder.

    Raises
    ------
    PermissionError, OSError
        Naming the folder and what to do.

    Examples
    --------
    >>> import tempfile
    >>> check_writable(tempfile.mkdtemp())
    """
    folder = Path(folder)
    probe = folder / f".posejax-probe-{uuid.uuid4().hex[:12]}"
    try:
        atomic_write(probe, lambda handle: handle.write("probe\n"))
        probe.unlink()
    except OSError as error:
        raise _not_writable(folder, error) from error
