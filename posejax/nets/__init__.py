"""Flax modules of the BlazePose networks and the checked loader of their converted weights.

``load(name)`` returns a module and its parameters, ready for ``module.apply(params, images)``:

- ``"detector"``: :class:`posejax.nets.detector.PoseDetector` (224x224 input in [-1, 1]);
- ``"lite"``, ``"full"``, ``"heavy"``: :class:`posejax.nets.landmark.LandmarkNet` (256x256 input
  in [0, 1]), ``model_complexity`` 0, 1 and 2 of MediaPipe Pose.

The weights are the original float16 values stored in ``models/<name>.npz`` (installed as
``posejax.models``). Before use every file is checked against the sha256 recorded in
``models/MANIFEST.md``, and every key, shape and dtype against the module's own parameter tree, so
a stale or damaged file fails with :class:`WeightFileError` (or :class:`FileNotFoundError`) naming
the file and the problem instead of producing wrong poses.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import io
import re
import zipfile
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.traverse_util import flatten_dict, unflatten_dict

from posejax import _cache
from posejax.nets.detector import INPUT_SIZE as DETECTOR_SIZE
from posejax.nets.detector import PoseDetector
from posejax.nets.landmark import CONFIGS, INPUT_SIZE, LandmarkNet

#: Networks that :func:`load` knows.
NAMES = ("detector", "lite", "full", "heavy")
#: Compute dtypes the modules support.
DTYPES = ("float32", "bfloat16")
#: Dtype of the stored weights (the originals are float16 constants).
STORED_DTYPE = np.dtype(np.float16)


class WeightFileError(ValueError):
    """A converted weight file is corrupt, altered, or does not fit its module."""


def load(name: str, dtype=jnp.float32, *, with_segmentation: bool = True):
    """The module of one BlazePose network and its converted, checked parameters.

    Parameters
    ----------
    name : {"detector", "lite", "full", "heavy"}
    dtype : jnp.float32 or jnp.bfloat16
        Compute dtype of the module. Parameters are float32 either way.
    with_segmentation : bool
        Landmark networks only: build the segmentation head (when False, the module skips that
        work and its output has no ``"segmentation"`` key).

    Returns
    -------
    module : flax.linen.Module
    params : dict
        ``{"params": {...}}`` of float32 ``jax.Array``, for ``module.apply(params, images)``.
        Loading is cached: calling ``load`` again costs no file access.

    Raises
    ------
    ValueError
        Unknown name or dtype.
    FileNotFoundError
        The weight file is not installed.
    WeightFileError
        The file's sha256 differs from ``models/MANIFEST.md``, it cannot be read, or a key, shape
        or dtype differs from the module's parameters.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> import posejax.nets as nets
    >>> module, params = nets.load("lite", with_segmentation=False)
    >>> out = jax.eval_shape(module.apply, params, jnp.zeros((2, 256, 256, 3)))  # shapes only
    >>> sorted(out)
    ['heatmap', 'landmarks', 'pose_flag', 'world_landmarks']
    """
    if name not in NAMES:
        raise ValueError(f"unknown network {name!r}; expected one of {', '.join(NAMES)}")
    try:
        dtype_name = jnp.dtype(dtype).name
    except TypeError:
        raise TypeError(f"dtype must be a dtype such as jnp.float32, got {dtype!r}") from None
    if dtype_name not in DTYPES:
        raise ValueError(f"dtype must be float32 or bfloat16, got {dtype_name}")
    if name == "detector" and not with_segmentation:
        raise ValueError("with_segmentation applies to the landmark networks, not the detector")
    module, flat = _load_flat(name, dtype_name, bool(with_segmentation))
    # The cache holds the (immutable) arrays; each call gets its own dicts, so a caller who edits
    # the returned tree cannot change what the next caller gets.
    return module, {"params": unflatten_dict(flat, sep="/")}


@functools.cache
def _load_flat(name: str, dtype_name: str, with_segmentation: bool):
    module = build(name, jnp.dtype(dtype_name), with_segmentation=with_segmentation)
    stored = _checked_params(name)
    if with_segmentation:
        return module, stored
    return module, {k: stored[k] for k in _param_shapes(module, name)}


def apply_per_image(module: nn.Module, params, images):
    """``module.apply(params, images)`` computed one image at a time (``lax.map``).

    Same result as the batched call (up to float rounding), but on a CPU one image's activations
    stay in cache: for batches of 8 this measured 1.5-2.4x less time per image for the landmark
    networks. On accelerators prefer the batched call.

    Parameters
    ----------
    module, params : from :func:`load`
    images : jax.Array
        ``(N, H, W, 3)`` float32, as for ``module.apply``.

    Returns
    -------
    dict of jax.Array
        The outputs, each with the leading batch axis ``N``.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> module, params = load("lite", with_segmentation=False)
    >>> run = jax.jit(lambda p, x: apply_per_image(module, p, x))
    >>> run(params, jnp.zeros((3, 256, 256, 3)))["landmarks"].shape
    (3, 195)
    """
    if images.shape[0] == 1:
        return module.apply(params, images)

    def one(image):
        return jax.tree.map(lambda a: a[0], module.apply(params, image[None]))

    return jax.lax.map(one, images)


def build(name: str, dtype=jnp.float32, *, with_segmentation: bool = True) -> nn.Module:
    """The module of network ``name`` without weights.

    Example
    -------
    >>> build("heavy").config.neck_channels
    1632
    """
    if name == "detector":
        return PoseDetector(dtype=dtype)
    if name not in CONFIGS:
        raise ValueError(f"unknown network {name!r}; expected one of {', '.join(NAMES)}")
    return LandmarkNet(CONFIGS[name], with_segmentation=with_segmentation, dtype=dtype)


def input_shape(name: str) -> tuple[int, int, int, int]:
    """Batch-1 input shape of network ``name``.

    Example
    -------
    >>> input_shape("detector")
    (1, 224, 224, 3)
    """
    if name == "detector":
        return (1, DETECTOR_SIZE, DETECTOR_SIZE, 3)
    return (1, INPUT_SIZE, INPUT_SIZE, 3)


def output_shapes(name: str, with_segmentation: bool = True) -> dict[str, tuple[int, ...]]:
    """Per-image shapes of network ``name``'s outputs, by key.

    Traced once per machine (a second) and then read from posejax's on-disk cache, so that
    compiled programs around the networks can be described without tracing them.

    Example
    -------
    >>> output_shapes("detector")
    {'boxes': (2254, 12), 'scores': (2254, 1)}
    >>> sorted(output_shapes("lite", with_segmentation=False))
    ['heatmap', 'landmarks', 'pose_flag', 'world_landmarks']
    """
    options = {} if name == "detector" else {"with_segmentation": bool(with_segmentation)}
    return _output_shapes(name, **options)


@functools.cache
def _output_shapes(name: str, **options) -> dict[str, tuple[int, ...]]:
    def compute():
        module, params = load(name, **options)
        image = jax.ShapeDtypeStruct(input_shape(name), jnp.float32)
        return {k: list(v.shape[1:]) for k, v in jax.eval_shape(module.apply, params, image)
                .items()}

    shapes = _cache.memoized_json("outputs", (name, sorted(options.items())), compute)
    return {k: tuple(v) for k, v in sorted(shapes.items())}


def _param_shapes(module: nn.Module, name: str) -> dict[str, tuple[int, ...]]:
    """The parameter shapes ``module`` declares, by ``/``-joined path.

    Tracing a module's ``init`` takes about two seconds, so the result is kept in posejax's
    on-disk cache, keyed by the module (its repr holds every attribute) and posejax's sources.
    """
    def compute():
        image = jax.ShapeDtypeStruct(input_shape(name), jnp.float32)
        shapes = jax.eval_shape(module.init, jax.random.key(0), image)["params"]
        return {k: list(v.shape) for k, v in flatten_dict(shapes, sep="/").items()}

    shapes = _cache.memoized_json("shapes", (name, repr(module)), compute)
    return {k: tuple(v) for k, v in shapes.items()}


@functools.cache
def _checked_params(name: str) -> dict[str, jax.Array]:
    """All parameters of ``name`` (flat, float32), read once per process."""
    expected = _param_shapes(build(name), name)
    files = importlib.resources.files("posejax.models")
    with importlib.resources.as_file(files / f"{name}.npz") as path:
        arrays = _read_checked(path, _manifest_sha256(name), expected)
    # Widened in NumPy and transferred with device_put: jnp.asarray compiles (or reads from the
    # compilation cache) one small program per parameter shape, ~2 s for a network.
    return {k: jax.device_put(np.asarray(v, np.float32)) for k, v in arrays.items()}


def _manifest_sha256(name: str) -> str:
    manifest = importlib.resources.files("posejax.models") / "MANIFEST.md"
    try:
        text = manifest.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{manifest}: the weight manifest is missing; rebuild models/ "
                                "with tools/convert_weights.py") from None
    for line in text.splitlines():
        match = re.search(rf"\| `{re.escape(name)}\.npz` \| `([0-9a-f]{{64}})` \|", line)
        if match:
            return match.group(1)
    raise WeightFileError(f"{manifest}: no sha256 recorded for {name}.npz")


def _read_checked(path, sha256: str, expected: dict[str, tuple[int, ...]]) -> dict:
    """Read an npz of float16 weights, checking hash, keys, shapes and dtypes.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file.
    sha256 : str
        Expected hex digest of the whole file.
    expected : dict
        ``"/"``-joined parameter path -> shape, the module's parameters.

    Returns
    -------
    dict of np.ndarray
        float16 arrays by parameter path.

    Example
    -------
    >>> _read_checked("no/such/lite.npz", _manifest_sha256("lite"), {})
    Traceback (most recent call last):
    ...
    FileNotFoundError: no/such/lite.npz: weight file not found; install the package ...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weight file not found; install the package with its "
                                "models/ folder or rebuild it with tools/convert_weights.py")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise WeightFileError(f"{path}: sha256 {digest} differs from {sha256} recorded in "
                              "models/MANIFEST.md (altered or stale file; rebuild with "
                              "tools/convert_weights.py)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise WeightFileError(f"{path}: not a readable npz file ({err})") from None
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise WeightFileError(f"{path}: keys differ from the module's parameters; missing "
                              f"{missing[:5]}{' ...' if len(missing) > 5 else ''}, unexpected "
                              f"{unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
    for key, shape in expected.items():
        value = arrays[key]
        if value.dtype != STORED_DTYPE:
            raise WeightFileError(f"{path}: {key} is stored as {value.dtype}, expected "
                                  f"{STORED_DTYPE}")
        if value.shape != shape:
            raise WeightFileError(f"{path}: {key} has shape {value.shape}, the module expects "
                                  f"{shape}")
    return arrays
