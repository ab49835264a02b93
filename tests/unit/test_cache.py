"""posejax._cache: the on-disk caches of traced programs and parameter shapes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from posejax import _cache


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEJAX_CACHE_DIR", str(tmp_path))
    _cache.cache_dir.cache_clear()
    yield tmp_path
    _cache.cache_dir.cache_clear()


def _step(state, x):
    return {"state": state + x.sum(), "rows": jnp.cumsum(x, axis=0), "nothing": None}


def test_exported_program_equals_jit_and_is_reused_from_disk(cache_folder, monkeypatch):
    args = (jnp.float32(1.5), jnp.arange(12.0).reshape(4, 3))
    example = {"state": 0, "rows": 0, "nothing": None}
    expected = jax.jit(_step)(*args)
    first = _cache.exported_program("step", ("test",), _step, args, example)(*args)
    files = list((cache_folder / "programs").iterdir())
    assert len(files) == 1
    # A second process finds the file: it must not trace the function again.
    def must_not_trace(*_):
        raise AssertionError("traced although the program is cached")

    second = _cache.exported_program("step", ("test",), must_not_trace, args, example)(*args)
    for got in (first, second):
        assert got["nothing"] is None
        np.testing.assert_array_equal(got["state"], expected["state"])
        np.testing.assert_array_equal(got["rows"], expected["rows"])


def test_other_shapes_or_parts_get_their_own_program(cache_folder):
    example = {"state": 0, "rows": 0, "nothing": None}
    for parts, shape in ((("a",), (4, 3)), (("b",), (4, 3)), (("a",), (5, 3))):
        args = (jnp.float32(0), jnp.ones(shape))
        out = _cache.exported_program("step", parts, _step, args, example)(*args)
        assert out["rows"].shape == shape
    assert len(list((cache_folder / "programs").iterdir())) == 3


def test_a_damaged_program_file_is_rebuilt(cache_folder):
    args = (jnp.float32(0), jnp.ones((2, 2)))
    example = {"state": 0, "rows": 0, "nothing": None}
    _cache.exported_program("step", (), _step, args, example)
    (path,) = (cache_folder / "programs").iterdir()
    path.write_bytes(b"not a program")
    out = _cache.exported_program("step", (), _step, args, example)(*args)
    np.testing.assert_array_equal(out["rows"], [[1, 1], [2, 2]])
    assert path.read_bytes() != b"not a program"


def test_a_wrong_result_structure_is_an_error(cache_folder):
    args = (jnp.float32(0), jnp.ones((2, 2)))
    with pytest.raises(RuntimeError, match="result structure"):
        _cache.exported_program("step", (), _step, args, {"state": 0})


def test_memoized_json_computes_once(cache_folder):
    calls = []

    def compute():
        calls.append(1)
        return {"a": [1, 2]}

    assert _cache.memoized_json("shapes", ("x",), compute) == {"a": [1, 2]}
    assert _cache.memoized_json("shapes", ("x",), compute) == {"a": [1, 2]}
    assert len(calls) == 1


def test_off_disables_every_file(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEJAX_CACHE_DIR", "off")
    monkeypatch.chdir(tmp_path)
    _cache.cache_dir.cache_clear()
    try:
        assert _cache.cache_dir() is None
        args = (jnp.float32(0), jnp.ones((2, 2)))
        out = _cache.exported_program("step", (), _step, args,
                                      {"state": 0, "rows": 0, "nothing": None})(*args)
        assert out["rows"].shape == (2, 2)
        assert _cache.memoized_json("shapes", ("y",), lambda: [3]) == [3]
        assert list(tmp_path.iterdir()) == []
    finally:
        _cache.cache_dir.cache_clear()


def test_source_digest_is_stable():
    assert _cache.source_digest() == _cache.source_digest()
    assert len(_cache.source_digest()) == 64


def test_arguments_returned_by_a_call_do_not_compile_again(cache_folder):
    # A chunk's state comes back committed to its device; a jitted callable would see another
    # sharding and compile the whole pipeline a second time (it did: 17 s on the second chunk).
    from jax._src import monitoring

    compiles = []

    def listener(event, duration, **_):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    example = {"state": 0, "rows": 0, "nothing": None}
    args = (np.float32(0), np.ones((3, 2), np.float32))
    run = _cache.exported_program("step", ("recommit",), _step, args, example)
    monitoring.register_event_duration_secs_listener(listener)
    try:
        out = run(*args)
        before = len(compiles)
        again = run(out["state"], out["rows"])
    finally:
        monitoring.unregister_event_duration_listener(listener)
    assert len(compiles) == before
    np.testing.assert_array_equal(again["rows"], [[1, 1], [3, 3], [6, 6]])
    assert float(again["state"]) == 6 + 12


def test_without_flatbuffers_programs_run_uncached(cache_folder, monkeypatch):
    # jax.export serializes with flatbuffers; an install without it must still track.
    def no_flatbuffers(self, *args, **kwargs):
        raise ImportError("Please install 'flatbuffers' in order to use Exported serialization")

    monkeypatch.setattr(jax.export.Exported, "serialize", no_flatbuffers)
    args = (np.float32(1), np.ones((2, 2), np.float32))
    example = {"state": 0, "rows": 0, "nothing": None}
    out = _cache.exported_program("step", ("no-fb",), _step, args, example)(*args)
    np.testing.assert_array_equal(out["rows"], [[1, 1], [2, 2]])
    assert not (cache_folder / "programs").exists() or not any(
        (cache_folder / "programs").iterdir())
