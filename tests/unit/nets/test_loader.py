"""posejax.nets.load and the checks on converted weight files.

The bad files are built in ``tmp_path`` and read through ``_read_checked(path, sha256,
expected)``, the function ``load`` uses for the installed ``models/<name>.npz``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.traverse_util import flatten_dict

import posejax.nets as nets
from posejax.nets import WeightFileError, _manifest_sha256, _read_checked
from posejax.nets.landmark import CONFIGS, LandmarkNet

EXPECTED = {"block/depthwise/kernel": (3, 3, 1, 4), "block/depthwise/bias": (4,),
            "block/pointwise/kernel": (1, 1, 4, 2), "block/pointwise/bias": (2,)}


def _arrays(expected=EXPECTED, dtype=np.float16):
    rng = np.random.default_rng(0)
    return {k: rng.standard_normal(shape).astype(dtype) for k, shape in expected.items()}


def _write(path, arrays):
    np.savez(path, **arrays)
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- _read_checked on small files ------------------------------------------------------------------
def test_valid_file_reads_back_exactly(tmp_path):
    arrays = _arrays()
    path = tmp_path / "ok.npz"
    out = _read_checked(path, _write(path, arrays), EXPECTED)
    assert out.keys() == arrays.keys()
    for k in arrays:
        np.testing.assert_array_equal(out[k], arrays[k])
        assert out[k].dtype == np.float16


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.npz: weight file not found"):
        _read_checked(tmp_path / "absent.npz", "0" * 64, EXPECTED)


def test_sha_mismatch(tmp_path):
    path = tmp_path / "altered.npz"
    digest = _write(path, _arrays())
    with pytest.raises(WeightFileError, match=f"altered.npz: sha256 {digest} differs"):
        _read_checked(path, "f" * 64, EXPECTED)


def test_corrupt_file(tmp_path):
    good = tmp_path / "ok.npz"
    _write(good, _arrays())
    path = tmp_path / "corrupt.npz"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(WeightFileError, match="corrupt.npz: not a readable npz"):
        _read_checked(path, digest, EXPECTED)


def test_missing_key(tmp_path):
    arrays = _arrays()
    del arrays["block/pointwise/bias"]
    path = tmp_path / "missing.npz"
    with pytest.raises(WeightFileError,
                       match=r"missing.npz: keys differ.*missing \['block/pointwise/bias'\]"):
        _read_checked(path, _write(path, arrays), EXPECTED)


def test_unexpected_key(tmp_path):
    arrays = {**_arrays(), "block/extra/kernel": np.zeros(3, np.float16)}
    path = tmp_path / "extra.npz"
    with pytest.raises(WeightFileError, match=r"unexpected \['block/extra/kernel'\]"):
        _read_checked(path, _write(path, arrays), EXPECTED)


def test_wrong_shape(tmp_path):
    arrays = _arrays()
    arrays["block/pointwise/kernel"] = np.zeros((1, 1, 4, 3), np.float16)
    path = tmp_path / "shape.npz"
    with pytest.raises(WeightFileError,
                       match=r"block/pointwise/kernel has shape \(1, 1, 4, 3\), the module "
                             r"expects \(1, 1, 4, 2\)"):
        _read_checked(path, _write(path, arrays), EXPECTED)


def test_wrong_dtype(tmp_path):
    arrays = _arrays()
    arrays["block/depthwise/bias"] = arrays["block/depthwise/bias"].astype(np.float32)
    path = tmp_path / "dtype.npz"
    with pytest.raises(WeightFileError, match="block/depthwise/bias is stored as float32"):
        _read_checked(path, _write(path, arrays), EXPECTED)


def test_pickled_object_arrays_are_refused(tmp_path):
    arrays = {**_arrays(), "block/depthwise/bias": np.array([object()] * 4)}
    path = tmp_path / "pickled.npz"
    np.savez(path, **arrays)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(WeightFileError, match="pickled.npz: not a readable npz"):
        _read_checked(path, digest, EXPECTED)


# -- the installed weights -------------------------------------------------------------------------
@pytest.mark.parametrize("name", nets.NAMES)
def test_manifest_records_the_installed_files(name):
    path = importlib.resources.files("posejax.models") / f"{name}.npz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == _manifest_sha256(name)


@pytest.mark.parametrize("name", ["lite", "full", "heavy"])
def test_landmark_params_fit_the_module(name):
    module, params = nets.load(name)
    assert isinstance(module, LandmarkNet) and module.config is CONFIGS[name]
    flat = flatten_dict(params["params"], sep="/")
    shapes = jax.eval_shape(module.init, jax.random.key(0), jnp.zeros((1, 256, 256, 3)))
    expected = flatten_dict(shapes["params"], sep="/")
    assert flat.keys() == expected.keys()
    assert all(v.shape == expected[k].shape and v.dtype == jnp.float32 for k, v in flat.items())


def test_detector_loads_as_pose_detector():
    from posejax.nets.detector import PoseDetector

    module, params = nets.load("detector")
    assert isinstance(module, PoseDetector)
    assert "stem" in params["params"]


def test_loading_is_cached_but_hands_out_fresh_containers():
    nets.load("heavy")
    start = time.perf_counter()
    module, params = nets.load("heavy")
    assert time.perf_counter() - start < 0.05
    params["params"].clear()
    again = nets.load("heavy")[1]
    assert again["params"], "a caller's edit must not reach the cache"
    assert again["params"]["encoder"]["stem"]["kernel"] is \
        nets.load("heavy")[1]["params"]["encoder"]["stem"]["kernel"]


def test_without_segmentation_has_no_segmentation_params():
    full_module, full = nets.load("lite")
    module, params = nets.load("lite", with_segmentation=False)
    assert not module.with_segmentation
    assert "segmentation" in full["params"] and "segmentation" not in params["params"]
    assert params["params"].keys() == full["params"].keys() - {"segmentation"}


def test_dtype_selects_compute_dtype_with_float32_params():
    module, params = nets.load("lite", jnp.bfloat16)
    assert module.dtype == jnp.bfloat16
    assert params["params"]["encoder"]["stem"]["kernel"].dtype == jnp.float32


@pytest.mark.parametrize("kwargs,error,match", [
    ({"name": "medium"}, ValueError, "unknown network 'medium'"),
    ({"name": 1}, ValueError, "unknown network 1"),
    ({"name": "lite", "dtype": jnp.float16}, ValueError, "float32 or bfloat16, got float16"),
    ({"name": "lite", "dtype": "not-a-dtype"}, TypeError, "dtype must be a dtype"),
    ({"name": "detector", "with_segmentation": False}, ValueError, "landmark networks"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        nets.load(**kwargs)


def test_module_rejects_bad_images():
    module, params = nets.load("lite")
    with pytest.raises(ValueError, match=r"shape \(N, 256, 256, 3\), got \(1, 224, 224, 3\)"):
        module.apply(params, jnp.zeros((1, 224, 224, 3)))
    with pytest.raises(TypeError, match="float images"):
        module.apply(params, jnp.zeros((1, 256, 256, 3), jnp.uint8))
