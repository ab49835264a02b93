"""posejax.io._hdf5: HDF5 tables read without unpickling (issue 25, planted pickles)."""

from __future__ import annotations

import os
import pickle
import shutil

import h5py
import numpy as np
import pandas as pd
import pytest

import posejax
from posejax.io import _hdf5
from tests.helpers.synthetic import assert_tracks_equal, random_track

pytest.importorskip("tables")  # pandas writes the files under test through PyTables

_COLUMNS = pd.MultiIndex.from_product(
    [["DLC_resnet50"], ["nose", "left_eye"], ["x", "y", "likelihood"]],
    names=["scorer", "bodyparts", "coords"],
)


def _dlc_table(rows: int = 7) -> pd.DataFrame:
    values = np.random.default_rng(0).random((rows, len(_COLUMNS)))
    values[2, :3] = np.nan  # a frame DeepLabCut lost the nose in
    return pd.DataFrame(values, columns=_COLUMNS)


@pytest.fixture(params=["table", "fixed", "posejax"])
def h5_file(request, tmp_path):
    """A DeepLabCut-layout file as DeepLabCut/movement (table, fixed) or posejax write it."""
    path = tmp_path / f"{request.param}.h5"
    if request.param == "posejax":
        posejax.write_landmarks(random_track(), path)
    else:
        _dlc_table().to_hdf(path, key="df_with_missing", format=request.param, mode="w")
    return path


class _Payload:
    """Unpickling this calls ``open(marker, "w")``: the file appears if anything unpickles it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


class _SystemPayload(_Payload):
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _plant(path, node: str, attr: str, payload) -> None:
    # As PyTables stores a pickled attribute: a fixed-length byte string ending with ".".
    with h5py.File(path, "a") as h5:
        h5[node].attrs[attr] = np.bytes_(payload)


def _read_everything(path):
    """Every posejax reader of .h5 files: the table or a clear ValueError each."""
    readers = [_hdf5.read_frame, posejax.read_landmarks]
    if path.stem == "posejax":  # a DeepLabCut table of two body parts is no PoseTrack
        readers.append(posejax.read_track)
    for read in readers:
        try:
            result = read(path)
        except ValueError as error:
            assert "pickled" in str(error) or "JSON" in str(error) or "pandas" in str(error)
        else:
            assert isinstance(result, (pd.DataFrame, posejax.PoseTrack))


def test_the_safe_reader_gives_the_table_read_hdf_gives(h5_file):
    expected = pd.read_hdf(h5_file, key="df_with_missing")
    got = _hdf5.read_frame(h5_file, "df_with_missing")
    pd.testing.assert_frame_equal(got, expected, check_index_type=True, check_column_type=True)
    pd.testing.assert_frame_equal(_hdf5.read_frame(h5_file), expected)  # the only table


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": np.arange(4), "b": np.linspace(0, 1, 4), "c": np.arange(4.0, 8.0)}),
    _dlc_table().set_axis([f"labeled-data/v/img{i:03d}.png" for i in range(7)]),
    _dlc_table().rename_axis("frame").astype(np.float32),
])
@pytest.mark.parametrize("fmt", ["table", "fixed"])
def test_other_pandas_layouts_read_the_same(tmp_path, frame, fmt):
    path = tmp_path / "t.h5"
    frame.to_hdf(path, key="df_with_missing", format=fmt, mode="w")
    pd.testing.assert_frame_equal(_hdf5.read_frame(path), pd.read_hdf(path),
                                  check_index_type=True, check_column_type=True)


def test_labelled_data_with_a_multiindex_of_rows(tmp_path):
    # DeepLabCut's CollectedData_*.h5: rows indexed by (folder, video, image), format="fixed".
    rows = pd.MultiIndex.from_tuples([("labeled-data", "v", f"img{i}.png") for i in range(7)])
    path = tmp_path / "CollectedData_me.h5"
    _dlc_table().set_axis(rows).to_hdf(path, key="df_with_missing", mode="w")
    pd.testing.assert_frame_equal(_hdf5.read_frame(path), pd.read_hdf(path))


def test_the_planted_payload_is_live(tmp_path):
    # What the tests below defend against: pandas (PyTables) runs the planted code.
    path = tmp_path / "t.h5"
    marker = tmp_path / "ran"
    _dlc_table().to_hdf(path, key="df_with_missing", format="table", mode="w")
    _plant(path, "/df_with_missing", "non_index_axes", pickle.dumps(_Payload(marker), 0))
    with pytest.raises(Exception):  # noqa: B017  (the unpickled file object is not axes)
        pd.read_hdf(path)
    assert marker.exists()


_PLACES = [
    ("/df_with_missing", "non_index_axes"),
    ("/df_with_missing", "info"),
    ("/df_with_missing", "values_cols"),
    ("/df_with_missing", "pandas_type"),
    ("/df_with_missing", "encoding"),
    ("/df_with_missing", "data_columns"),
    ("/df_with_missing", "levels"),
    ("/df_with_missing", "nblocks"),
    ("/df_with_missing", "axis0_variety"),
    ("/df_with_missing/table", "values_block_0_kind"),
    ("/df_with_missing/table", "index_kind"),
    ("/df_with_missing/axis1", "name"),
    ("/df_with_missing/axis0_level1", "name"),
    ("/df_with_missing/axis0_level1", "kind"),
    ("/df_with_missing/block0_values", "transposed"),
    ("/posejax", "meta"),
    ("/posejax/landmarks", "FLAVOR"),
    ("/", "TITLE"),
    ("/df_with_missing", "a_new_attribute"),
]


@pytest.mark.parametrize("protocol", [0, 2, 5])
@pytest.mark.parametrize("payload_type", [_Payload, _SystemPayload])
def test_planted_pickles_run_nothing(h5_file, tmp_path, payload_type, protocol):
    # Every place of _PLACES that this kind of file has (a table, a fixed or a posejax file
    # each lack a few nodes), planted one at a time in a copy of the file.
    with h5py.File(h5_file, "r") as h5:
        places = [(node, attr) for node, attr in _PLACES if node in h5]
    assert len(places) >= 12
    for i, (node, attr) in enumerate(places):
        marker = tmp_path / f"ran{i}"
        planted = tmp_path / f"planted{i}.h5"
        shutil.copy(h5_file, planted)
        _plant(planted, node, attr, pickle.dumps(payload_type(marker), protocol))
        _read_everything(planted)
        assert not marker.exists(), f"reading a file planted at {node}:{attr} ran the code"


def test_a_pickle_in_the_column_names_is_a_clear_refusal(tmp_path):
    path = tmp_path / "t.h5"
    _dlc_table().to_hdf(path, key="df_with_missing", format="table", mode="w")
    _plant(path, "/df_with_missing", "non_index_axes", pickle.dumps(_Payload(tmp_path / "x"), 0))
    with pytest.raises(ValueError, match="pickled Python object that would run code"):
        posejax.read_landmarks(path)
    assert not (tmp_path / "x").exists()


def test_an_unused_attribute_with_a_pickle_leaves_the_table_readable(tmp_path):
    path = tmp_path / "t.h5"
    track = random_track()
    posejax.write_landmarks(track, path)
    _plant(path, "/df_with_missing", "planted", pickle.dumps(_Payload(tmp_path / "x"), 0))
    assert_tracks_equal(posejax.read_track(path), track)
    assert not (tmp_path / "x").exists()


def test_data_stored_outside_the_file_is_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(6 * 33 * 5, dtype=np.float32).tobytes())
    path = tmp_path / "ext.h5"
    posejax.write_landmarks(random_track(), path)
    with h5py.File(path, "a") as h5:
        del h5["posejax/landmarks"]
        h5["posejax"].create_dataset("landmarks", shape=(6, 33, 5), dtype=np.float32,
                                     external=[(str(secret), 0, secret.stat().st_size)])
    with pytest.raises(ValueError, match="stored in other files"):
        posejax.read_track(path)
    with h5py.File(path, "a") as h5:
        del h5["posejax/landmarks"]
        h5["posejax/landmarks"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/x")
    with pytest.raises(ValueError, match="link to elsewhere"):
        posejax.read_track(path)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_literal_pickle_decodes_plain_values(protocol):
    value = [(1, ["nose", ("a", 2.5, None, True, False)]), {"names": ["x"], 1: {}}, -(2**70), ()]
    assert _hdf5.literal_pickle(pickle.dumps(value, protocol)) == value


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("value", [
    _Payload("/nonexistent/x"), {1, 2}, np.float64(1.0), [pd.Timestamp(0)], bytearray(b"x"),
])
def test_literal_pickle_refuses_objects(protocol, value):
    with pytest.raises(ValueError, match="would run code"):
        _hdf5.literal_pickle(pickle.dumps(value, protocol))


@pytest.mark.parametrize("data", [b"", b"garbage", b"(lp0\n", b"a.", b"0.", b"\x80\x05."])
def test_literal_pickle_refuses_what_is_not_a_pickle(data):
    with pytest.raises(ValueError, match="pickle"):
        _hdf5.literal_pickle(data)


def _cyclic() -> bytes:
    value: list = [1]
    value.append(value)
    return pickle.dumps([(1, value)], 0)


@pytest.mark.parametrize("attr, payload", [
    ("non_index_axes", pickle.dumps([(1, ["only", "two"])], 0)),  # too few columns
    ("non_index_axes", pickle.dumps([(1, [["a", "list"]] * 6)], 0)),  # labels that are lists
    ("non_index_axes", _cyclic()),
    ("info", pickle.dumps({1: {"names": [["x"], {}, None]}, "index": {"index_name": [1]}}, 0)),
    ("values_cols", pickle.dumps(["no_such_block"], 0)),
])
def test_metadata_that_does_not_fit_is_a_clear_refusal(tmp_path, attr, payload):
    path = tmp_path / "t.h5"
    _dlc_table().to_hdf(path, key="df_with_missing", format="table", mode="w")
    _plant(path, "/df_with_missing", attr, payload)
    with pytest.raises(ValueError, match=str(path)):
        posejax.read_landmarks(path)


def test_a_file_that_is_not_hdf5_is_a_clear_error(tmp_path):
    path = tmp_path / "t.h5"
    path.write_bytes(pickle.dumps(_Payload(tmp_path / "ran")))
    with pytest.raises(ValueError, match="not an HDF5 file"):
        posejax.read_track(path)
    assert not (tmp_path / "ran").exists()


def test_a_parquet_file_with_a_pickled_extension_type_runs_nothing(tmp_path):
    """pyarrow before 14.0.1 unpickled ``arrow.py_extension_type`` columns (CVE-2023-47248)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    track_table = random_track(n_frames=3).to_dataframe()
    path = tmp_path / "planted.parquet"
    posejax.write_landmarks(track_table, path)
    table = pq.read_table(path)
    field = pa.field("planted", pa.binary(), metadata={
        b"ARROW:extension:name": b"arrow.py_extension_type",
        b"ARROW:extension:metadata": pickle.dumps(Payload()),
    })
    planted = table.append_column(field, pa.array([b"x"] * len(table), pa.binary()))
    pq.write_table(planted.replace_schema_metadata(table.schema.metadata), path)
    try:
        posejax.read_landmarks(path)
    except Exception:  # noqa: BLE001  (a refusal is fine; running the payload is not)
        pass
    assert not marker.exists()
