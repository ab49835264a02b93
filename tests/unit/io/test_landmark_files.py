"""Landmark files: CSV, Parquet and DeepLabCut HDF5 written and read back (posejax.io)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posejax import io
from tests.helpers.synthetic import WIDTH, assert_tracks_equal, random_track

TRACKS = {
    "single": lambda: random_track(),
    "named": lambda: random_track(names=("clip",)),
    "batch": lambda: random_track(batch=2, missing=(1,)),
    "named batch": lambda: random_track(batch=2, names=("b", "a")),
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
    assert_tracks_equal(track, io.read_track(path))


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


def test_long_csv_reads_with_plain_pandas(tmp_path):
    path = io.write_landmarks(random_track(), tmp_path / "long.csv")
    plain = pd.read_csv(path, comment="#")
    assert len(plain) == 6 * 33 and "left_knee" in set(plain.landmark)


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


