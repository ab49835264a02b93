"""On-disk caches that make a new process start in about a second instead of half a minute.

A first ``posejax.track`` call spends its time in three places: Python tracing of the per-frame
graph (thousands of small ops), XLA compilation, and checking the weight files against the
modules. Each is cached under one folder:

* ``jax/``: JAX's persistent compilation cache, switched on (unless the user already configured
  one) only for the programs sharded over several devices, which :mod:`jax.export` cannot hold;
* ``programs/``: the traced pipeline programs, serialized with :mod:`jax.export` (StableHLO), so
  that a new process skips tracing; keyed by the program's input shapes, its configuration, the
  JAX version and a digest of posejax's own source files, so an edited posejax never reuses a
  stale program;
* ``executables/``: the compiled programs themselves, so that a new process neither traces,
  lowers nor compiles; keyed as ``programs/`` plus the machine (devices, CPU features);
* ``shapes/``: the parameter shapes each network module declares (checked against the weight
  files at load), keyed the same way.

The folder is ``$POSEJAX_CACHE_DIR``, else ``$XDG_CACHE_HOME/posejax``, else
``~/.cache/posejax``. ``POSEJAX_CACHE_DIR=off`` disables them all. Deleting the folder is always
safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import pickle
import platform
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import jax
import jaxlib
from jax.experimental import serialize_executable

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
    # Flax's version from its metadata: importing flax costs a new process 0.2 s.
    flax_version = importlib.metadata.version("flax")
    digest.update(f"jax {jax.__version__} jaxlib {jaxlib.__version__} flax {flax_version}"
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
_announce_lock = threading.Lock()


def announce_compilation(seconds: float) -> None:
    """Say once per process, on stderr, that posejax is compiling for this machine.

    A first call can take many seconds with a progress bar at 0%; one line says why, that it
    happens once, and roughly how long it takes.
    """
    global _announced
    with _announce_lock:  # programs compile in several threads at once
        if _announced:
            return
        _announced = True
    where = cache_dir()
    kept = f"kept in {where}" if where is not None else "not kept: POSEJAX_CACHE_DIR=off"
    print(f"posejax: compiling for this machine (once per configuration and frame size, about "
          f"{seconds:.0f} s; {kept})", file=sys.stderr, flush=True)


def exported_program(name: str, parts: tuple, fn: Callable, example_args: tuple,
                     out_example, compile_seconds: float = 5.0,
                     load_only: bool = False) -> Callable | None:
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
    load_only : bool
        Only load the compiled program from the cache: None when it is not there.

    Returns
    -------
    callable or None
        Called with arguments of the same structure, shapes and dtypes as ``example_args``;
        None only with ``load_only`` when the program is not cached.

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
    folder = cache_dir()
    signature = (name, parts, str(in_tree), tuple((s.shape, str(s.dtype)) for s in specs),
                 jax.default_backend())
    # One device only: a deserialized executable is loaded onto every local device, so on a
    # host with several it would expect one shard per device.
    executable_path = (None if folder is None or jax.local_device_count() != 1 else
                       folder / "executables" / f"{_key(*signature)}-{machine()}.xla")
    call = None if executable_path is None else _load_executable(executable_path)
    if call is None and load_only:
        return None
    if call is None:
        with _watching_jax_cache() as served_by_jax_cache:
            call = _compiled_program(name, signature, fn, in_tree, specs, out_tree,
                                     compile_seconds)
        # An executable that JAX's persistent compilation cache loaded re-serializes without
        # some of its kernels on the CPU ("Function copy_bitcast_fusion.2 not found" when the
        # copy runs; jaxlib 0.10), so only freshly compiled ones are kept.
        if executable_path is not None and not served_by_jax_cache():
            _save_executable(executable_path, call)

    def run(*args):
        return jax.tree.unflatten(out_tree, call(*jax.tree.leaves(args)))

    return run


def _compiled_program(name, signature, fn, in_tree, specs, out_tree, compile_seconds):
    """Trace (or read the traced program from ``programs/``) and compile for ``specs``."""

    def flat_fn(*flat):
        out_leaves, traced_tree = jax.tree.flatten(fn(*jax.tree.unflatten(in_tree, flat)))
        if traced_tree != out_tree:
            raise RuntimeError(f"{name}: result structure {traced_tree} differs from {out_tree}")
        return out_leaves

    folder = cache_dir()
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
    return jax.jit(exported.call).lower(*specs).compile()


@functools.cache
def machine() -> str:
    """What a compiled executable is specific to: devices, their software, and the CPU's features.

    Part of the ``executables/`` key, so that a cache folder shared between machines (a home
    directory on a cluster) never hands one machine code compiled for another.

    Example
    -------
    >>> len(machine()) > 0
    True
    """
    device = jax.devices()[0]
    parts = [device.platform, device.device_kind, device.client.platform_version,
             str(jax.device_count()), platform.machine()]
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            parts += sorted({line for line in cpuinfo
                             if line.startswith(("flags", "model name", "Features"))})
    except OSError:
        parts.append(platform.processor())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


_jax_cache_hits = threading.local()


def _count_jax_cache_hit(event: str, **_) -> None:
    counter = getattr(_jax_cache_hits, "counter", None)
    if event == "/jax/compilation_cache/cache_hits" and counter is not None:
        counter.append(event)


@contextlib.contextmanager
def _watching_jax_cache():
    """Yields a function telling whether JAX's compilation cache served a compile in this block.

    Counted per thread: a compile in another thread says nothing about this one.
    """
    global _listening
    with _listener_lock:
        if not _listening:
            jax.monitoring.register_event_listener(_count_jax_cache_hit)
            _listening = True
    hits: list = []
    _jax_cache_hits.counter = hits
    try:
        yield lambda: bool(hits)
    finally:
        _jax_cache_hits.counter = None


_listener_lock = threading.Lock()
_listening = False


def _load_executable(path: Path):
    """The compiled executable stored at ``path``, or None (missing, damaged, other jaxlib)."""
    data = _read(path)
    if data is None:
        return None
    try:
        serialized, in_tree, out_tree = pickle.loads(data)
        return serialize_executable.deserialize_and_load(serialized, in_tree, out_tree)
    except Exception:  # noqa: BLE001  (a damaged or foreign entry is compiled again)
        return None


def _save_executable(path: Path, compiled) -> None:
    try:
        data = pickle.dumps(serialize_executable.serialize(compiled))
    except Exception:  # noqa: BLE001  (a backend that cannot serialize just runs uncached)
        return
    _write_atomic(path, data)
