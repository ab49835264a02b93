"""posejax._cache: the on-disk caches of traced programs and parameter shapes."""

from __future__ import annotations

import os
import pickle
import stat
import warnings

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
    for executable in (cache_folder / "executables").iterdir():
        executable.unlink()  # else the compiled program is loaded and the file never read
    out = _cache.exported_program("step", (), _step, args, example)(*args)
    np.testing.assert_array_equal(out["rows"], [[1, 1], [2, 2]])
    assert path.read_bytes() != b"not a program"


def test_a_new_process_loads_the_compiled_executable(cache_folder):
    args = (jnp.float32(2), jnp.arange(6.0).reshape(3, 2))
    example = {"state": 0, "rows": 0, "nothing": None}
    expected = jax.jit(_step)(*args)
    _cache.exported_program("step", ("exe",), _step, args, example)
    (executable,) = (cache_folder / "executables").iterdir()
    assert executable.suffix == ".xla" and _cache.machine() in executable.name
    # Without the traced program the executable alone must serve the call.
    for program in (cache_folder / "programs").iterdir():
        program.unlink()

    def must_not_trace(*_):
        raise AssertionError("traced although the executable is cached")

    out = _cache.exported_program("step", ("exe",), must_not_trace, args, example)(*args)
    np.testing.assert_array_equal(out["rows"], expected["rows"])
    assert float(out["state"]) == float(expected["state"])


def test_a_damaged_executable_is_compiled_again(cache_folder):
    args = (jnp.float32(0), jnp.ones((2, 2)))
    example = {"state": 0, "rows": 0, "nothing": None}
    _cache.exported_program("step", ("bad-exe",), _step, args, example)
    (executable,) = (cache_folder / "executables").iterdir()
    executable.write_bytes(b"garbage")
    out = _cache.exported_program("step", ("bad-exe",), _step, args, example)(*args)
    np.testing.assert_array_equal(out["rows"], [[1, 1], [2, 2]])
    assert executable.read_bytes() != b"garbage"


def test_load_only_gives_none_until_compiled(cache_folder):
    args = (jnp.float32(0), jnp.ones((2, 2)))
    example = {"state": 0, "rows": 0, "nothing": None}
    assert _cache.exported_program("step", ("lazy",), _step, args, example,
                                   load_only=True) is None
    assert not (cache_folder / "executables").exists()
    _cache.exported_program("step", ("lazy",), _step, args, example)
    run = _cache.exported_program("step", ("lazy",), _step, args, example, load_only=True)
    np.testing.assert_array_equal(run(*args)["rows"], [[1, 1], [2, 2]])


def test_compiling_is_announced_once_per_process(cache_folder, monkeypatch, capsys):
    monkeypatch.setattr(_cache, "_announced", False)
    example = {"state": 0, "rows": 0, "nothing": None}
    for rows in (2, 3):
        args = (jnp.float32(0), jnp.ones((rows, 2)))
        _cache.exported_program("step", ("notice",), _step, args, example, compile_seconds=7)
    err = capsys.readouterr().err
    assert err.count("posejax: compiling for this machine") == 1
    assert "about 7 s, an estimate" in err and str(cache_folder) in err
    # From the cache: nothing to say.
    monkeypatch.setattr(_cache, "_announced", False)
    _cache.exported_program("step", ("notice",), _step, args, example)
    assert capsys.readouterr().err == ""


def test_the_notice_gives_the_compile_time_measured_on_this_machine(cache_folder, monkeypatch,
                                                                    capsys):
    example = {"state": 0, "rows": 0, "nothing": None}
    assert _cache.measured_compile_seconds("timed") is None
    _cache.exported_program("timed", (), _step, (jnp.float32(0), jnp.ones((2, 2))), example)
    took = _cache.measured_compile_seconds("timed")
    assert took is not None and 0 <= took < 600
    capsys.readouterr()
    monkeypatch.setattr(_cache, "_announced", False)
    _cache.exported_program("timed", (), _step, (jnp.float32(0), jnp.ones((5, 2))), example,
                            compile_seconds=99)
    err = capsys.readouterr().err
    assert f"about {took:.0f} s, as measured on this machine" in err and "99" not in err
    # A damaged record is ignored: the estimate again.
    next((cache_folder / "timings").iterdir()).write_text("{not json")
    assert _cache.measured_compile_seconds("timed") is None


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


# The cache folder as a trust boundary (issue 25): nothing unpickled, other users' files unused.

_EXAMPLE = {"state": 0, "rows": 0, "nothing": None}


class _Payload:
    """Unpickling this creates ``marker``: the file appears if anything unpickles it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def fresh_warnings(monkeypatch):
    # Each warning is said once per process; each test starts afresh.
    monkeypatch.setattr(_cache, "_warned", set())
    monkeypatch.delenv(_cache.TRUST_VARIABLE, raising=False)


def _cached_step(parts, fn=_step):
    args = (jnp.float32(2), jnp.arange(6.0).reshape(3, 2))
    out = _cache.exported_program("step", parts, fn, args, _EXAMPLE)(*args)
    np.testing.assert_array_equal(out["rows"], [[0, 1], [2, 4], [6, 9]])
    assert float(out["state"]) == 2 + 15
    return out


def _cache_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, _cache.CacheWarning)]


def _refuse(*_):
    raise AssertionError("an entry was loaded from an untrusted folder")


def test_executables_hold_no_pickle(cache_folder):
    _cached_step(("format",))
    (executable,) = (cache_folder / "executables").iterdir()
    data = executable.read_bytes()
    assert data.startswith(_cache._EXECUTABLE_MAGIC)
    assert not data.startswith(b"\x80")  # a pickle's PROTO opcode
    assert executable.name.endswith(f".v{_cache.FORMAT_VERSION}.xla")
    assert stat.S_IMODE(executable.stat().st_mode) & 0o022 == 0


def test_entries_replaced_by_pickles_run_nothing(cache_folder, fresh_warnings, monkeypatch):
    marker = cache_folder.parent / f"{cache_folder.name}-ran"
    _cached_step(("planted",))
    payload = pickle.dumps(_Payload(marker))
    (executable,) = (cache_folder / "executables").iterdir()
    executable.write_bytes(payload)
    with pytest.warns(_cache.CacheWarning) as record:
        _cached_step(("planted",))
    assert len(_cache_warnings(record)) == 1 and "discarded" in _cache_warnings(record)[0]
    assert not marker.exists()
    assert executable.read_bytes().startswith(_cache._EXECUTABLE_MAGIC)  # rebuilt
    # Every entry at once, the traced programs and the parameter shapes too: still one warning.
    _cache.memoized_json("shapes", ("planted",), lambda: [1])
    monkeypatch.setattr(_cache, "_warned", set())
    for path in cache_folder.rglob("*.*"):
        path.write_bytes(payload)
    with pytest.warns(_cache.CacheWarning) as record:
        _cached_step(("planted",))
        assert _cache.memoized_json("shapes", ("planted",), lambda: [1]) == [1]
    assert len(_cache_warnings(record)) == 1
    assert not marker.exists()


def test_executables_of_the_pickle_format_are_removed(cache_folder, fresh_warnings):
    old = cache_folder / "executables" / "0123456789abcdef0123456789abcdef-0123456789abcdef.xla"
    old.parent.mkdir(mode=0o755)
    old.write_bytes(pickle.dumps(_Payload(cache_folder / "ran")))
    _cached_step(("old-format",))
    assert not old.exists() and not (cache_folder / "ran").exists()


@pytest.mark.parametrize("where", ["folder", "executables"])
def test_a_folder_others_can_write_is_not_loaded(cache_folder, fresh_warnings, monkeypatch,
                                                 where):
    marker = cache_folder.parent / f"{cache_folder.name}-ran"
    _cached_step(("shared", where))
    for executable in (cache_folder / "executables").iterdir():
        executable.write_bytes(pickle.dumps(_Payload(marker)))
    (cache_folder / where if where != "folder" else cache_folder).chmod(0o777)
    monkeypatch.setattr(_cache, "_decode_executable", _refuse)
    if where == "folder":  # programs/ too is under it
        monkeypatch.setattr(jax.export, "deserialize", _refuse)
    with pytest.warns(_cache.CacheWarning) as record:
        _cached_step(("shared", where))
        _cached_step(("shared", where, "again"))  # one warning per process
    (message,) = _cache_warnings(record)
    assert str(cache_folder) in message and _cache.TRUST_VARIABLE in message
    assert "writable by others" in message
    assert not marker.exists()


@pytest.mark.parametrize("owner", ["others-can-write", "another-user"])
def test_an_entry_others_could_have_written_is_discarded(cache_folder, fresh_warnings,
                                                         monkeypatch, owner):
    marker = cache_folder.parent / f"{cache_folder.name}-ran"
    _cached_step(("entry", owner))
    (executable,) = (cache_folder / "executables").iterdir()
    executable.write_bytes(pickle.dumps(_Payload(marker)))
    if owner == "another-user":
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            pytest.skip("giving a file to another user needs root")
        os.chown(executable, 65534, 65534)
    else:
        executable.chmod(0o666)
    monkeypatch.setattr(_cache, "_decode_executable", _refuse)
    with pytest.warns(_cache.CacheWarning) as record:
        _cached_step(("entry", owner))
    (message,) = _cache_warnings(record)
    assert "discarded" in message and str(executable) in message
    assert not marker.exists()
    info = executable.stat()  # rebuilt: the user's, writable by the user alone
    assert info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o022 == 0


def test_a_folder_above_the_cache_that_others_can_write(tmp_path, monkeypatch, fresh_warnings):
    # Writable by all but sticky (/tmp): nobody can rename the user's folder; not sticky: anyone.
    for mode, trusted in ((0o1777, True), (0o777, False)):
        shared = tmp_path / f"shared-{mode:o}"
        shared.mkdir()
        shared.chmod(mode)
        monkeypatch.setenv("POSEJAX_CACHE_DIR", str(shared / "posejax"))
        _cache.cache_dir.cache_clear()
        try:
            (shared / "posejax").mkdir(mode=0o755)
            assert (_cache.untrusted_reason(shared / "posejax" / "executables") is None) is trusted
        finally:
            _cache.cache_dir.cache_clear()


def test_the_user_can_trust_a_shared_folder(cache_folder, fresh_warnings, monkeypatch):
    _cached_step(("trusted",))
    cache_folder.chmod(0o777)
    monkeypatch.setenv(_cache.TRUST_VARIABLE, "1")

    def must_not_trace(*_):
        raise AssertionError("traced although the executable is cached and trusted")

    with warnings.catch_warnings():
        warnings.simplefilter("error", _cache.CacheWarning)
        _cached_step(("trusted",), must_not_trace)


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o002, 0o644), (0o077, 0o600)])
def test_cache_files_follow_the_umask_but_are_never_writable_by_others(tmp_path, umask,
                                                                        expected):
    old = os.umask(umask)
    try:
        _cache._write_atomic(tmp_path / "sub" / "entry", b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "sub" / "entry").stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "sub").stat().st_mode) & 0o022 == 0
