"""On-disk caches that make a new process start in a few seconds instead of half a minute.

A first ``posejax.track`` call spends its time in three places: Python tracing of the per-frame
graph (thousands of small ops), XLA compilation, and checking the weight files against the
modules. Each is cached under one folder:

* ``jax/``: JAX's persistent compilation cache (XLA executables), switched on here unless the
  user already configured one;
* ``programs/``: the traced pipeline programs, serialized with :mod:`jax.export` (StableHLO), so
  that a new process skips tracing; keyed by the program's input shapes, its configuration, the
  JAX version and a digest of posejax's own source files, so an edited posejax never reuses a
  stale program;
* ``shapes/``: the parameter shapes each network module declares (checked against the weight
  files at load), keyed the same way.

The folder is ``$POSEJAX_CACHE_DIR``, else ``$XDG_CACHE_HOME/posejax``, else
``~/.cache/posejax``. ``POSEJAX_CACHE_DIR=off`` disables all three. Deleting the folder is always
safe.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import flax
import jax
import jaxlib

_OFF = {"off", "0", "none", "false"}


@functools.cache
def cache_dir() -> Path | None:
    """The cache folder, or None when caching is disabled (``POSEJAX_CACHE_DIR=off``).

    Example
    -------
    >>> folder = cache_dir()
    >>> folder is None or folder.name != ""
    True
    """
    configured = os.environ.get("POSEJAX_CACHE_DIR")
    if configured is not None:
        if configured.strip().lower() in _OFF:
            return None
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "posejax"


@functools.cache
def enable_compilation_cache() -> None:
    """Point JAX's persistent compilation cache at ``<cache>/jax`` unless one is configured."""
    folder = cache_dir()
    if folder is None or jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", str(folder / "jax"))


@functools.cache
def source_digest() -> str:
    """sha256 over posejax's Python sources and the JAX/jaxlib/Flax versions."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    digest.update(f"jax {jax.__version__} jaxlib {jaxlib.__version__} flax {flax.__version__}"
                  .encode())
    return digest.hexdigest()


def _key(*parts) -> str:
    return hashlib.sha256(repr((source_digest(),) + parts).encode()).hexdigest()[:32]


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so concurrent processes never read half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
    except OSError:
        pass  # a read-only or full disk only costs the next process the time it saves


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def memoized_json(kind: str, parts: tuple, compute: Callable[[], object]):
    """``compute()``, or its JSON-stored result from an earlier process with the same ``parts``."""
    folder = cache_dir()
    if folder is None:
        return compute()
    path = folder / kind / f"{_key(kind, *parts)}.json"
    data = _read(path)
    if data is not None:
        try:
            return json.loads(data)
        except ValueError:
            pass
    value = compute()
    _write_atomic(path, json.dumps(value).encode())
    return value


_announced = False


def announce_compilation(seconds: float) -> None:
    """Say once per process, on stderr, that posejax is compiling for this machine.

    A first call can take many seconds with a progress bar at 0%; one line says why, that it
    happens once, and roughly how long it takes.
    """
    global _announced
    if _announced:
        return
    _announced = True
    where = cache_dir()
    kept = f"kept in {where}" if where is not None else "not kept: POSEJAX_CACHE_DIR=off"
    print(f"posejax: compiling for this machine (once per configuration and frame size, about "
          f"{seconds:.0f} s; {kept})", file=sys.stderr, flush=True)


def exported_program(name: str, parts: tuple, fn: Callable, example_args: tuple,
                     out_example, compile_seconds: float = 5.0) -> Callable:
    """A jitted callable equal to ``jax.jit(fn)`` whose traced program is cached on disk.

    Parameters
    ----------
    name : str
        A label for the program (part of the cache key).
    parts : tuple
        Everything, besides the argument shapes and posejax's sources, that the traced program
        depends on (for example the pipeline configuration).
    fn : callable
        A pure function of pytrees of arrays returning a pytree of arrays (``None`` leaves are
        allowed in the result).
    example_args : tuple
        Arguments with the shapes and dtypes of the calls to come (arrays or
        ``jax.ShapeDtypeStruct``).
    out_example : pytree
        Any pytree with the structure of ``fn``'s result (leaves are ignored), so that a cached
        program can be used without tracing ``fn``.
    compile_seconds : float
        Rough compile time, for the one-line notice printed (once per process) when the program
        is not in the cache.

    Returns
    -------
    callable
        Called with arguments of the same structure, shapes and dtypes as ``example_args``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> double = exported_program("double", (), lambda x: {"y": 2 * x}, (jnp.ones(3),),
    ...                           {"y": 0})
    >>> double(jnp.arange(3.0))["y"].tolist()
    [0.0, 2.0, 4.0]
    """
    leaves, in_tree = jax.tree.flatten(example_args)
    specs = [jax.ShapeDtypeStruct(jax.numpy.shape(x), jax.numpy.result_type(x)) for x in leaves]
    out_tree = jax.tree.structure(out_example)

    def flat_fn(*flat):
        out_leaves, traced_tree = jax.tree.flatten(fn(*jax.tree.unflatten(in_tree, flat)))
        if traced_tree != out_tree:
            raise RuntimeError(f"{name}: result structure {traced_tree} differs from {out_tree}")
        return out_leaves

    folder = cache_dir()
    signature = (name, parts, str(in_tree), tuple((s.shape, str(s.dtype)) for s in specs),
                 jax.default_backend())
    path = None if folder is None else folder / "programs" / f"{_key(*signature)}.jaxexport"
    exported = None
    data = None if path is None else _read(path)
    if data is not None:
        try:
            exported = jax.export.deserialize(bytearray(data))
        except Exception:  # noqa: BLE001  (a damaged cache entry is rebuilt)
            exported = None
        if exported is not None and exported.out_tree.num_leaves != out_tree.num_leaves:
            exported = None
    if exported is None:
        announce_compilation(compile_seconds)
        exported = jax.export.export(jax.jit(flat_fn))(*specs)
        if path is not None:
            try:
                _write_atomic(path, exported.serialize())
            except ImportError:  # flatbuffers missing: run uncached rather than fail
                pass
    # Compiled ahead for the exact specs: a jitted callable would compile again when an argument
    # comes back from a previous call committed to its device (another sharding in the key).
    call = jax.jit(exported.call).lower(*specs).compile()

    def run(*args):
        return jax.tree.unflatten(out_tree, call(*jax.tree.leaves(args)))

    return run
