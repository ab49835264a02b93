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
* ``timings/``: how long each program took to compile on this machine (JSON), so that the
  notice printed while compiling gives a measured figure.

The folder is ``$POSEJAX_CACHE_DIR``, else ``$XDG_CACHE_HOME/posejax``, else
``~/.cache/posejax``. ``POSEJAX_CACHE_DIR=off`` disables them all. Deleting the folder is always
safe.

The folder is a trust boundary. A compiled executable is native machine code: whoever can write
``executables/`` (or ``jax/``) can run code in every posejax process that loads from it. So:

* nothing is ever unpickled: an executable entry is a small JSON header (format version, input
  and output shapes and dtypes, a sha256 of the code) followed by XLA's own serialization of the
  executable; the Python side (argument trees, shardings, layouts) is rebuilt from the header and
  the call's own arguments. Traced programs are :mod:`jax.export`'s flatbuffers, the rest JSON;
* an entry that is damaged, from another format version or otherwise foreign is discarded and
  rebuilt, with one :class:`CacheWarning`;
* like ``ssh`` with ``authorized_keys``, posejax uses the folder only if it, its subfolders, the
  entry and the folders above it can be written by the current user (or root) alone (a sticky
  folder such as ``/tmp`` above it is fine). Otherwise it compiles instead, with one warning, unless
  ``POSEJAX_TRUST_CACHE_DIR=1`` says that everyone who can write the folder is trusted (a cache
  shared by a team on a cluster). Files and folders posejax creates there are writable by their
  owner only, whatever the umask.

Over the house's 500 lines: the cache and the trust check that guards it are one trust
boundary, kept in one file so that every path from the folder to a loaded executable is read
together.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import stat
import struct
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import jax
import jaxlib
from jax._src import core, stages
from jax._src.interpreters import pxla
from jax._src.lib import xla_client
from jax.sharding import SingleDeviceSharding

from posejax.io._atomic import atomic_path, file_mode

_OFF = {"off", "0", "none", "false"}
_ON = {"1", "true", "yes", "on"}

#: Part of every key and of every executable's header: entries of another format are ignored, and
#: the executables of format 1 (pickles) are deleted when a new one is written beside them.
FORMAT_VERSION = 2
#: Set to 1 to load from a cache folder that other users can write (see the module docstring).
TRUST_VARIABLE = "POSEJAX_TRUST_CACHE_DIR"
_EXECUTABLE_SUFFIX = f".v{FORMAT_VERSION}.xla"
_EXECUTABLE_MAGIC = b"posejax-xla-executable\n"
_FORMAT_1_NAME = re.compile(r"[0-9a-f]{32}-[0-9a-f]{16}\.xla")
# The dtypes a pipeline's arguments and results have; anything else in a header is foreign.
_DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
})  # fmt: skip


class CacheWarning(UserWarning):
    """posejax did not use an entry of its cache folder (damaged, foreign or not trusted)."""


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
    # JAX's cache holds executables too: the same trust rule as executables/.
    if not _trusted(folder / "jax"):
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
    return hashlib.sha256(repr((FORMAT_VERSION, source_digest()) + parts).encode()).hexdigest()[:32]


def _make_folders(path: Path) -> None:
    """Create ``path``'s missing folders, writable by their owner only whatever the umask."""
    missing = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process was quicker
            folder.mkdir(mode=0o755)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write all or nothing (concurrent processes never read half a file), owner-writable only.

    The file gets the umask's permissions less group and other write.
    """
    try:
        _make_folders(path.parent)
        # The umask's permissions, but never writable by group or others (see _trusted).
        with atomic_path(path, mode=file_mode() & ~0o022) as temporary:
            # Created 0600: nobody else can open it for writing before it gets its final mode.
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(handle, "wb") as file:
                file.write(data)
    except OSError:
        pass  # a read-only or full disk only costs the next process the time it saves


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _trust_declared() -> bool:
    return os.environ.get(TRUST_VARIABLE, "").strip().lower() in _ON


def untrusted_reason(path: Path) -> str | None:
    """Why another user could write ``path`` (inside the cache folder), or None when nobody can.

    ``path`` itself and every folder up to the cache folder must be owned by the current user
    (or root) and not writable by group or others; so must the folders above the cache folder,
    except sticky ones (``/tmp``), where nobody can rename what another user created. A missing
    ``path`` is judged by its folders. Always None with ``POSEJAX_TRUST_CACHE_DIR=1``, and where
    the system has no Unix owners (Windows).

    Example
    -------
    >>> untrusted_reason(cache_dir() / "executables")  # None: yours alone  # doctest: +SKIP
    >>> untrusted_reason(Path("/shared/posejax/executables"))  # doctest: +SKIP
    "'/shared/posejax' is writable by its group (mode 775)"
    """
    if _trust_declared() or not hasattr(os, "geteuid"):
        return None
    top = cache_dir()
    if top is None:
        return None
    owners = {os.geteuid(), 0}
    top = Path(os.path.realpath(top))
    real = Path(os.path.realpath(path))
    chain = [real, *real.parents]
    for item in chain:
        try:
            info = os.stat(item)
        except FileNotFoundError:
            continue  # not created yet: judged when it exists
        except OSError as error:
            return f"cannot check {str(item)!r}: {error}"
        inside = item == top or top in item.parents
        if info.st_uid not in owners:
            return f"{str(item)!r} belongs to another user (uid {info.st_uid})"
        writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if writable and (inside or not (stat.S_ISDIR(info.st_mode)
                                        and info.st_mode & stat.S_ISVTX)):
            who = "others" if info.st_mode & stat.S_IWOTH else "its group"
            return f"{str(item)!r} is writable by {who} (mode {stat.S_IMODE(info.st_mode):o})"
    return None


_warned: set = set()
_warned_lock = threading.Lock()


def _warn_once(key, message: str) -> None:
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, CacheWarning, stacklevel=3)


def _trusted(path: Path) -> bool:
    """Whether the cache may read and write ``path``; warns once per cache folder when not.

    An entry that another user could write, in folders that are the user's alone, is discarded
    (it is rebuilt): only its folders can make the whole cache unusable.
    """
    reason = untrusted_reason(path.parent)
    if reason is None:
        reason = untrusted_reason(path)
        if reason is not None:
            _discard(path, reason)
        return True
    _warn_once(("untrusted", str(cache_dir())), (
        f"posejax: not using its cache folder {str(cache_dir())!r}: {reason}, so another user "
        f"could run code in this process through it; compiling instead (a slower start). Make "
        f"the folder yours and writable by you only (chown, chmod go-w), point "
        f"POSEJAX_CACHE_DIR at another folder, or set {TRUST_VARIABLE}=1 if everyone who can "
        f"write it is trusted (a team's shared cache)."
    ))
    return False


def _discard(path: Path, why: str) -> None:
    """Remove a damaged or foreign entry (it is rebuilt); one warning per process and folder."""
    with contextlib.suppress(OSError):
        path.unlink()
    _warn_once(("damaged", str(cache_dir())),
               f"posejax: discarded the damaged or foreign cache entry {str(path)!r} ({why}); "
               f"it is rebuilt, as is any other found by this process.")


def memoized_json(kind: str, parts: tuple, compute: Callable[[], object]):
    """``compute()``, or its JSON-stored result from an earlier process with the same ``parts``."""
    folder = cache_dir()
    if folder is None:
        return compute()
    path = folder / kind / f"{_key(kind, *parts)}.json"
    if not _trusted(path):
        return compute()
    data = _read(path)
    if data is not None:
        try:
            return json.loads(data)
        except ValueError:
            _discard(path, "not JSON")
    value = compute()
    _write_atomic(path, json.dumps(value).encode())
    return value


_announced = False
_announce_lock = threading.Lock()


def announce_compilation(programs: dict[str, float]) -> None:
    """Say once per process, on stderr, that posejax is compiling for this machine.

    A first call can take many seconds with a progress bar at 0%; one line says why, that it
    happens once, and how long it takes: the sum of the seconds these ``programs`` took to
    compile when this machine last compiled them, or, for programs never compiled here, the
    estimates given as ``programs``' values (and the line says it is an estimate).
    """
    global _announced
    with _announce_lock:  # programs compile in several threads at once
        if _announced:
            return
        _announced = True
    measured = {name: measured_compile_seconds(name) for name in programs}
    seconds = sum(programs[name] if took is None else took for name, took in measured.items())
    how = ("as measured on this machine" if None not in measured.values()
           else "an estimate; posejax times it here for next time")
    where = cache_dir()
    kept = f"kept in {where}" if where is not None else "not kept: POSEJAX_CACHE_DIR=off"
    print(f"posejax: compiling for this machine (once per configuration and frame-size bucket, "
          f"about {seconds:.0f} s, {how}; {kept})", file=sys.stderr, flush=True)


def _timing_path(name: str) -> Path | None:
    folder = cache_dir()
    path = None if folder is None else folder / "timings" / f"{name}-{machine()}.json"
    return path if path is not None and _trusted(path) else None


def measured_compile_seconds(name: str) -> float | None:
    """How long the program ``name`` last took to compile on this machine, or None.

    Example
    -------
    >>> measured_compile_seconds("a program never compiled") is None
    True
    """
    path = _timing_path(name)
    data = None if path is None else _read(path)
    try:
        seconds = json.loads(data)["seconds"] if data is not None else None
    except (ValueError, KeyError, TypeError):
        return None
    return float(seconds) if isinstance(seconds, (int, float)) and seconds >= 0 else None


def _record_compile_seconds(name: str, seconds: float) -> None:
    path = _timing_path(name)
    if path is not None:
        _write_atomic(path, json.dumps({"seconds": round(seconds, 2)}).encode())


def exported_program(name: str, parts: tuple, fn: Callable, example_args: tuple,
                     out_example, compile_seconds: float = 5.0,
                     load_only: bool = False,
                     compiled_with: dict[str, float] | None = None) -> Callable | None:
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
    compiled_with : dict of str to float, optional
        The programs compiled together with this one (names and estimates, this one
        included), so that the notice gives the time they take together.

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
    name_on_disk = f"{_key(*signature)}-{machine()}{_EXECUTABLE_SUFFIX}"
    executable_path = (None if folder is None or jax.local_device_count() != 1 else
                       folder / "executables" / name_on_disk)
    if executable_path is not None and not _trusted(executable_path):
        executable_path = None  # neither loaded nor written: the folder is not the user's alone
    call = None if executable_path is None else _load_executable(executable_path, specs,
                                                                 out_tree.num_leaves)
    if call is None and load_only:
        return None
    if call is None:
        with _watching_jax_cache() as served_by_jax_cache:
            call = _compiled_program(name, signature, fn, in_tree, specs, out_tree,
                                     compiled_with or {name: compile_seconds})
        # An executable that JAX's persistent compilation cache loaded re-serializes without
        # some of its kernels on the CPU ("Function copy_bitcast_fusion.2 not found" when the
        # copy runs; jaxlib 0.10), so only freshly compiled ones are kept.
        if executable_path is not None and not served_by_jax_cache():
            _save_executable(executable_path, call)

    def run(*args):
        return jax.tree.unflatten(out_tree, call(*jax.tree.leaves(args)))

    return run


def _compiled_program(name, signature, fn, in_tree, specs, out_tree, announced):
    """Trace (or read the traced program from ``programs/``) and compile for ``specs``."""

    def flat_fn(*flat):
        out_leaves, traced_tree = jax.tree.flatten(fn(*jax.tree.unflatten(in_tree, flat)))
        if traced_tree != out_tree:
            raise RuntimeError(f"{name}: result structure {traced_tree} differs from {out_tree}")
        return out_leaves

    start = time.perf_counter()
    folder = cache_dir()
    path = None if folder is None else folder / "programs" / f"{_key(*signature)}.jaxexport"
    if path is not None and not _trusted(path):
        path = None  # a planted program could compute anything: trace it here instead
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
            _discard(path, "not a program for these arguments")
    if exported is None:
        announce_compilation(announced)
        exported = jax.export.export(jax.jit(flat_fn))(*specs)
        if path is not None:
            try:
                _write_atomic(path, exported.serialize())
            except ImportError:  # flatbuffers missing: run uncached rather than fail
                pass
    # Compiled ahead for the exact specs: a jitted callable would compile again when an argument
    # comes back from a previous call committed to its device (another sharding in the key).
    compiled = jax.jit(exported.call).lower(*specs).compile()
    _record_compile_seconds(name, time.perf_counter() - start)
    return compiled


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


def _load_executable(path: Path, specs, num_outputs: int):
    """The compiled executable stored at ``path``, or None (missing; damaged ones are discarded)."""
    data = _read(path)
    if data is None:
        return None
    try:
        return _decode_executable(data, specs, num_outputs)
    except Exception as error:  # noqa: BLE001  (a damaged or foreign entry is compiled again)
        _discard(path, str(error) or type(error).__name__)
        return None


def _save_executable(path: Path, compiled) -> None:
    data = _encode_executable(compiled)
    if data is None:
        return  # a backend or program that cannot be serialized just runs uncached
    _write_atomic(path, data)
    # Entries of format 1 were pickles: never read again, removed here (once, on a write).
    with contextlib.suppress(OSError):
        for old in path.parent.glob("*.xla"):
            if _FORMAT_1_NAME.fullmatch(old.name):
                old.unlink()


def _encode_executable(compiled) -> bytes | None:
    """A JSON header and XLA's serialization of ``compiled``, or None when it cannot be held.

    Only what :func:`_decode_executable` can rebuild is kept: one device, single-device
    shardings, default layouts, no effects nor host callbacks.
    """
    unloaded = getattr(compiled._executable, "_unloaded_executable", None)
    if unloaded is None or getattr(compiled._params, "const_args", None):
        return None
    plain = (
        len(unloaded.device_list) == 1
        and not unloaded.unordered_effects and not unloaded.ordered_effects
        and not unloaded.host_callbacks and not unloaded.keepalive and unloaded.mut is None
        and all(isinstance(s, SingleDeviceSharding)
                for s in (*unloaded.input_shardings, *unloaded.output_shardings))
        and all(layout is None for layout in unloaded.dispatch_in_layouts)
    )
    if not plain:
        return None
    try:
        payload = bytes(unloaded.xla_executable.client.serialize_executable(
            unloaded.xla_executable))
    except Exception:  # noqa: BLE001  (a backend that cannot serialize just runs uncached)
        return None

    def avals(values):
        return [[list(a.shape), str(a.dtype)] for a in values]

    header = json.dumps({
        "format": FORMAT_VERSION,
        "jax": jax.__version__,
        "name": str(unloaded.name),
        "inputs": avals(unloaded.input_avals),
        "outputs": avals(unloaded.output_avals),
        "kept": sorted(int(i) for i in unloaded.kept_var_idx),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }).encode()
    return _EXECUTABLE_MAGIC + struct.pack("<I", len(header)) + header + payload


def _decode_executable(data: bytes, specs, num_outputs: int):
    """The :class:`jax.stages.Compiled` that :func:`_encode_executable` wrote; ValueError else.

    Every Python-side piece is rebuilt from the header, checked against the call's own argument
    ``specs``, and from the executable: nothing is unpickled.
    """
    if not data.startswith(_EXECUTABLE_MAGIC):
        raise ValueError("not a posejax executable")
    offset = len(_EXECUTABLE_MAGIC)
    if len(data) < offset + 4:
        raise ValueError("truncated")
    (size,) = struct.unpack_from("<I", data, offset)
    header = json.loads(data[offset + 4 : offset + 4 + size])
    payload = data[offset + 4 + size :]
    if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
        raise ValueError("another format version")
    if header.get("jax") != jax.__version__:
        raise ValueError("compiled by another JAX")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise ValueError("its code does not match its checksum")

    def avals(values, count):
        if not isinstance(values, list) or len(values) != count:
            raise ValueError("unexpected arguments or results")
        out = []
        for value in values:
            shape, dtype = value
            if (not isinstance(dtype, str) or dtype not in _DTYPES or not isinstance(shape, list)
                    or not all(type(n) is int and n >= 0 for n in shape)):
                raise ValueError("unexpected arguments or results")
            out.append(core.ShapedArray(tuple(shape), jax.numpy.dtype(dtype)))
        return out

    in_avals = avals(header.get("inputs"), len(specs))
    if [(a.shape, a.dtype) for a in in_avals] != [(tuple(s.shape), s.dtype) for s in specs]:
        raise ValueError("compiled for other arguments")
    out_avals = avals(header.get("outputs"), num_outputs)
    kept = header.get("kept")
    if (not isinstance(kept, list) or not all(type(i) is int and 0 <= i < len(specs)
                                              for i in kept)):
        raise ValueError("unexpected arguments")
    name = header.get("name")
    if not isinstance(name, str):
        raise ValueError("unnamed")

    device = jax.devices()[0]
    devices = xla_client.DeviceList((device,))
    # Native code: loaded only from a folder that passed untrusted_reason.
    executable = device.client.deserialize_executable(payload, executable_devices=devices)
    sharding = SingleDeviceSharding(device, memory_kind=device.default_memory().kind)
    in_shardings = [sharding] * len(in_avals)
    out_shardings = [sharding] * len(out_avals)
    in_layouts, out_layouts = pxla._get_layouts_from_executable(
        executable, [None] * len(in_avals), [None] * len(out_avals), 0, in_avals, out_avals)
    unloaded = pxla.UnloadedMeshExecutable(
        xla_executable=executable, device_list=devices, backend=device.client,
        input_avals=in_avals, input_shardings=in_shardings, output_avals=out_avals,
        output_shardings=out_shardings, committed=True, name=name, unordered_effects=[],
        ordered_effects=[], keepalive=[], host_callbacks=[], kept_var_idx=set(kept), mut=None,
        xla_in_layouts=in_layouts,
        dispatch_in_layouts=pxla.get_dispatch_layouts(in_layouts, in_shardings, in_avals),
        xla_out_layouts=out_layouts, all_args_info=None, pgle_profiler=None)
    # The trees of a flat call, f(*leaves) -> [leaves]: known without reading them from the file.
    in_tree = jax.tree.structure((tuple(range(len(specs))), {}))
    args_info = in_tree.unflatten([stages.ArgInfo(a, donated=False) for a in in_avals])
    out_tree = jax.tree.structure([0] * num_outputs)
    return stages.Compiled(unloaded.load(), [], args_info, out_tree, no_kwargs=False)
