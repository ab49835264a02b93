"""Landmark files: CSV, Parquet and DeepLabCut HDF5 written and read back (posejax.io)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from posejax import io
from tests.helpers.reference_data import REPO, require_module
from tests.helpers.synthetic import WIDTH, assert_tracks_equal, people_track, random_track

FIRST_FORMAT = REPO / "tests" / "fixtures" / "landmark_files"

TRACKS = {
    "single": lambda: random_track(),
    "named": lambda: random_track(names=("clip",)),
    "batch": lambda: random_track(batch=2, missing=(1,)),
    "named batch": lambda: random_track(batch=2, names=("b", "a")),
    "two people": lambda: people_track(random_track(seed=1), random_track(missing=(0,), seed=2),
                                       names=("zed", "amy")),
    "one of two": lambda: people_track(random_track(seed=1), random_track(seed=2)).individual(1),
    "two people batch": lambda: people_track(random_track(batch=2, seed=1),
                                             random_track(batch=2, seed=2)),
}


@pytest.mark.parametrize("units", ["normalized", "px"])
@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("kind", list(TRACKS))
def test_csv_and_parquet_round_trips(tmp_path, kind, suffix, layout, units):
    track = TRACKS[kind]()
    path = io.write_landmarks(track, tmp_path / f"poses{suffix}", layout=layout, units=units)
    df = io.read_landmarks(path)
    expected = track.to_dataframe(layout, units=units)
    pd.testing.assert_frame_equal(df, expected)
    assert df.attrs.keys() == expected.attrs.keys()
    assert_tracks_equal(track, io.read_track(path), rois=False)


@pytest.mark.parametrize("units", ["normalized", "px"])
@pytest.mark.parametrize("kind", ["single", "named"])
def test_h5_round_trip_and_deeplabcut_view(tmp_path, kind, units):
    track = TRACKS[kind]()
    path = io.write_landmarks(track, tmp_path / "poses.h5", units=units)
    assert_tracks_equal(track, io.read_track(path))
    pd.testing.assert_frame_equal(io.read_landmarks(path), track.to_dataframe("wide", units=units))
    # What DeepLabCut and movement see: one table, no key needed.
    dlc = pd.read_hdf(path)
    assert dlc.columns.names == ["scorer", "bodyparts", "coords"]
    assert list(dlc.columns.get_level_values("coords")[:3]) == ["x", "y", "likelihood"]
    np.testing.assert_allclose(
        dlc[("posejax", "left_knee", "x")], track.landmarks[:, 25, 0].astype(float) * WIDTH
    )


def test_dataframe_input_keeps_its_layout_and_extra_attrs(tmp_path):
    df = random_track().to_dataframe("wide")
    df.attrs["sources"] = ["a.jpg", "b.jpg"]
    back = io.read_landmarks(io.write_landmarks(df, tmp_path / "w.csv"))
    pd.testing.assert_frame_equal(back, df)
    assert back.attrs["sources"] == ["a.jpg", "b.jpg"]
    interpolated = df.pose.interpolate(max_gap=2)  # float64 columns survive as float64
    back = io.read_landmarks(io.write_landmarks(interpolated, tmp_path / "i.parquet"))
    pd.testing.assert_frame_equal(back, interpolated)


def test_deeplabcut_csv_has_three_header_rows(tmp_path):
    track = random_track()
    path = io.write_landmarks(track, tmp_path / "dlc.csv", layout="dlc")
    assert path.read_text().splitlines()[0].startswith("scorer,posejax,posejax")
    table = pd.read_csv(path, header=[0, 1, 2], index_col=0)  # how DeepLabCut reads it
    pd.testing.assert_frame_equal(table, io.read_landmarks(path))
    back = io.read_track(path, fps=30.0, image_size=(120, 200))
    np.testing.assert_allclose(back.landmarks[..., :2], track.landmarks[..., :2], rtol=1e-6)


def test_deeplabcut_csv_keeps_a_first_frame_without_a_pose(tmp_path):
    """An all-empty first data row is what pandas takes for a row of index names."""
    track = random_track(missing=(0,))
    path = io.write_landmarks(track, tmp_path / "dlc.csv", layout="dlc")
    assert len(pd.read_csv(path, header=[0, 1, 2], index_col=0)) == track.n_frames
    back = io.read_track(path, fps=30.0, image_size=(120, 200))
    assert back.n_frames == track.n_frames and not back.pose_present[0]


# -- every file opens with the default reader of its format ----------------------------------------


@pytest.mark.parametrize("kind", ["single", "named batch"])
def test_long_csv_opens_with_plain_read_csv(tmp_path, kind):
    track = TRACKS[kind]()
    path = io.write_landmarks(track, tmp_path / "long.csv")
    plain = pd.read_csv(path)
    expected = track.to_dataframe()
    assert list(plain.columns) == list(expected.columns)
    assert len(plain) == track.batch_size * track.n_frames * 33  # one row per frame x landmark
    assert plain["landmark"].iloc[25] == "left_knee" and plain["frame"].dtype == np.int64
    assert plain["image_width"].iloc[0] == WIDTH
    np.testing.assert_array_equal(plain["x"].to_numpy(np.float32), expected["x"].to_numpy())
    np.testing.assert_array_equal(plain["landmark"], expected["landmark"].astype(str))


@pytest.mark.parametrize("kind", ["single", "named batch"])
def test_wide_csv_opens_with_plain_read_csv_as_flat_columns(tmp_path, kind):
    track = TRACKS[kind]()
    path = io.write_landmarks(track, tmp_path / "wide.csv", layout="wide")
    plain = pd.read_csv(path)
    index = ["video", "frame", "time", "image_width", "image_height"]
    assert list(plain.columns[: len(index)]) == index
    assert list(plain.columns[len(index) : len(index) + 3]) == ["nose_x", "nose_y", "nose_z"]
    assert plain.columns[-1] == "right_foot_index_world_visibility"
    assert len(plain.columns) == len(index) + 33 * 9
    assert len(plain) == track.batch_size * track.n_frames  # one row per frame
    np.testing.assert_array_equal(
        plain["left_knee_world_y"].to_numpy(np.float32),
        track.world_landmarks[..., 25, 1].reshape(-1),
    )
    with pytest.raises(ValueError, match=r"flat column names .* posejax.read_landmarks"):
        plain.pose.angle("left_knee")


def test_parquet_opens_with_plain_read_parquet(tmp_path):
    track = TRACKS["named batch"]()
    long = io.write_landmarks(track, tmp_path / "long.parquet")
    # The table of to_dataframe() itself: names, float32 and categorical dtypes.
    pd.testing.assert_frame_equal(pd.read_parquet(long), track.to_dataframe())
    wide = io.write_landmarks(track, tmp_path / "wide.parquet", layout="wide")
    plain = pd.read_parquet(wide)
    expected = track.to_dataframe("wide")
    assert plain.index.names == ["video", "frame"] and len(plain) == len(expected)
    assert list(plain.columns) == pd.read_csv(
        io.write_landmarks(track, tmp_path / "wide.csv", layout="wide"), index_col=[0, 1]
    ).columns.tolist()
    np.testing.assert_array_equal(plain.to_numpy(), expected.to_numpy())
    assert set(plain.dtypes[3:]) == {np.dtype(np.float32)}
    assert list(plain.columns[:3]) == ["time", "image_width", "image_height"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_wide_tables_with_a_scorer_level_or_an_unnamed_index_round_trip(tmp_path, suffix):
    df = TRACKS["single"]().to_dataframe("wide", scorer="me")
    back = io.read_landmarks(io.write_landmarks(df, tmp_path / f"scorer{suffix}"))
    pd.testing.assert_frame_equal(back, df)
    assert back.columns.names == ["scorer", "bodyparts", "coords"]
    unnamed = TRACKS["single"]().to_dataframe("wide")
    unnamed.index.name = None
    back = io.read_landmarks(io.write_landmarks(unnamed, tmp_path / f"unnamed{suffix}"))
    np.testing.assert_array_equal(back.index, unnamed.index)
    np.testing.assert_array_equal(back.to_numpy(), unnamed.to_numpy())


def test_h5_opens_with_plain_read_hdf(tmp_path):
    track = TRACKS["single"]()
    path = io.write_landmarks(track, tmp_path / "poses.h5")
    pd.testing.assert_frame_equal(pd.read_hdf(path), track.to_dataframe("dlc"))


def test_parquet_reads_in_duckdb(tmp_path):
    duckdb = require_module("duckdb", "duckdb is in the test extra")
    track = TRACKS["named batch"]()
    long = io.write_landmarks(track, tmp_path / "long.parquet")
    rows = duckdb.sql(
        f"SELECT video, count(*) AS n, max(frame) AS last FROM '{long}' "
        "WHERE landmark = 'left_knee' GROUP BY video ORDER BY video"
    ).fetchall()
    last = track.n_frames - 1
    assert rows == [("a", track.n_frames, last), ("b", track.n_frames, last)]
    wide = io.write_landmarks(track, tmp_path / "wide.parquet", layout="wide")
    knee = duckdb.sql(
        f"SELECT left_knee_x FROM '{wide}' WHERE video = 'b' ORDER BY frame"
    ).fetchnumpy()["left_knee_x"]
    # Frames without a pose are SQL NULLs (masked), which is what NaN means in a table.
    knee = np.ma.filled(np.ma.asarray(knee, np.float32), np.nan)
    np.testing.assert_array_equal(knee, track.landmarks[0, :, 25, 0])


# -- the CSV sidecar -------------------------------------------------------------------------------


def test_csv_sidecar_is_written_beside_it_atomically(tmp_path):
    track = TRACKS["named"]()
    path = io.write_landmarks(track, tmp_path / "poses.csv")
    sidecar = tmp_path / "poses.posejax.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["poses.csv", "poses.posejax.json"]
    meta = json.loads(sidecar.read_text())
    assert meta["csv"] == "poses.csv" and meta["layout"] == "long"
    assert meta["attrs"]["fps"] == 30.0 and meta["video_categories"] == ["clip"]
    assert "pd.read_csv" in meta["about"]
    # Writing again replaces both, leaving no temporary files behind.
    io.write_landmarks(track, path, layout="wide")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["poses.csv", "poses.posejax.json"]
    assert json.loads(sidecar.read_text())["layout"] == "wide"


def test_attrs_that_json_cannot_hold_fail_before_anything_is_written(tmp_path):
    df = TRACKS["single"]().to_dataframe()
    df.attrs["callback"] = print
    with pytest.raises(TypeError, match="metadata"):
        io.write_landmarks(df, tmp_path / "poses.csv")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_csv_without_its_sidecar_reads_with_a_warning(tmp_path, layout):
    track = TRACKS["named batch"]()
    path = io.write_landmarks(track, tmp_path / "poses.csv", layout=layout)
    (tmp_path / "poses.posejax.json").unlink()
    with pytest.warns(UserWarning, match=r"sidecar poses.posejax.json is missing.*Lost: .*fps="):
        df = io.read_landmarks(path)
    assert df.attrs == {} and df.pose.layout == layout
    expected = track.to_dataframe(layout)
    coords = ["x", "world_visibility"] if layout == "long" else list(expected.columns)
    np.testing.assert_allclose(df[coords].to_numpy(float), expected[coords].to_numpy(float))
    # The table describes itself: the frame rate comes from its time column.
    with pytest.warns(UserWarning, match="missing"):
        back = io.read_track(path)
    assert back.fps == pytest.approx(30.0, rel=1e-9)
    np.testing.assert_array_equal(back.landmarks, track.landmarks)
    assert back.video_names == track.video_names  # from the video column itself


def test_an_edited_csv_does_not_trust_its_old_sidecar(tmp_path):
    path = io.write_landmarks(TRACKS["single"](), tmp_path / "poses.csv")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1 + 33 * 2]))  # keep the first two frames
    with pytest.warns(UserWarning, match="changed after posejax wrote its sidecar"):
        df = io.read_landmarks(path)
    assert len(df) == 66 and df.attrs == {}


def test_deeplabcut_csv_sidecar_lets_read_track_work_without_arguments(tmp_path):
    track = TRACKS["single"]()
    path = io.write_landmarks(track, tmp_path / "dlc.csv", layout="dlc")
    back = io.read_track(path)
    np.testing.assert_allclose(back.landmarks[..., :2], track.landmarks[..., :2], rtol=1e-6)
    assert back.fps == track.fps and back.image_size == track.image_size
    (tmp_path / "dlc.posejax.json").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # DeepLabCut's own CSVs have no sidecar: no warning
        io.read_landmarks(path)


# -- files of the first format ---------------------------------------------------------------------


def test_first_format_csv_files_still_read():
    # Written by the code of commit 197fcc4; see tests/fixtures/landmark_files/README.md.
    long = io.read_landmarks(FIRST_FORMAT / "v1_long.csv")
    track = random_track(n_frames=3, names=("clip",))
    pd.testing.assert_frame_equal(long, track.to_dataframe())
    assert_tracks_equal(track, io.read_track(FIRST_FORMAT / "v1_long.csv"))
    wide = io.read_landmarks(FIRST_FORMAT / "v1_wide_batch.csv")
    batch = random_track(n_frames=2, batch=2, names=("b", "a"), missing=(1,))
    pd.testing.assert_frame_equal(wide, batch.to_dataframe("wide", units="px"))
    assert_tracks_equal(batch, io.read_track(FIRST_FORMAT / "v1_wide_batch.csv"))


def test_first_format_parquet_files_still_read(tmp_path):
    # The first Parquet format, by its rules: "landmark|coord" names, the levels in metadata.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    track = TRACKS["named"]()
    df = track.to_dataframe("wide")
    plain = df.copy()
    plain.attrs = {}
    plain.columns = ["|".join(c) for c in df.columns]
    table = pa.Table.from_pandas(plain, preserve_index=True)
    meta = {"layout": "wide", "column_names": ["landmark", "coord"], "attrs": df.attrs}
    raw = json.dumps(meta, default=_array_json).encode()
    table = table.replace_schema_metadata({**table.schema.metadata, b"posejax": raw})
    pq.write_table(table, tmp_path / "v1.parquet")
    pd.testing.assert_frame_equal(io.read_landmarks(tmp_path / "v1.parquet"), df)


def _array_json(value):
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    return list(value) if isinstance(value, tuple) else value.item()


def test_landmark_file_errors(tmp_path):
    track = random_track()
    with pytest.raises(ValueError, match=r"\.json"):
        io.write_landmarks(track, tmp_path / "poses.json")
    with pytest.raises(ValueError, match="one video"):
        io.write_landmarks(random_track(batch=2), tmp_path / "b.h5")
    with pytest.raises(ValueError, match="layouts"):
        io.write_landmarks(track, tmp_path / "p.parquet", layout="dlc")
    with pytest.raises(FileNotFoundError, match="folder"):
        io.write_landmarks(track, tmp_path / "missing" / "p.csv")
    with pytest.raises(TypeError, match="PoseTrack"):
        io.write_landmarks(np.zeros(3), tmp_path / "p.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a pose table"):
        io.read_landmarks(tmp_path / "other.csv")




@pytest.mark.parametrize("layout", [None, "dlc"])
def test_multi_person_deeplabcut_files_have_individuals(tmp_path, layout):
    track = TRACKS["two people"]()
    suffix = ".h5" if layout is None else ".csv"
    path = io.write_landmarks(track, tmp_path / f"two{suffix}", layout=layout)
    dlc = pd.read_hdf(path) if layout is None else pd.read_csv(path, header=[0, 1, 2, 3],
                                                                 index_col=0)
    assert dlc.columns.names == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(dlc.columns.get_level_values("individuals").unique()) == ["zed", "amy"]
    np.testing.assert_allclose(dlc[("posejax", "amy", "left_knee", "x")],
                               track.landmarks[:, 1, 25, 0].astype(float) * WIDTH)
    back = io.read_track(path)
    assert back.individuals == ("zed", "amy")
    np.testing.assert_allclose(back.landmarks[..., :2], track.landmarks[..., :2], rtol=1e-6)
    if layout is None:  # the posejax arrays beside DeepLabCut's table: exact
        assert_tracks_equal(track, back)
    # DeepLabCut's table alone (no posejax arrays, no sidecar) still gives the individuals.
    plain = tmp_path / "plain.csv"
    dlc.to_csv(plain)
    alone = io.read_track(plain, fps=30.0, image_size=(120, 200))
    assert alone.individuals == ("zed", "amy")
    np.testing.assert_allclose(alone.landmarks[..., :2], track.landmarks[..., :2], rtol=1e-6)
