"""Tables of several people (issue 24): the ``individual`` column, round trips, per-person maths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posejax import PoseTrack, tables
from tests.helpers.synthetic import assert_tracks_equal, people_track, random_track


def two_people(n_frames: int = 6, batch=None, names=("bob", "al")) -> PoseTrack:
    a = random_track(n_frames=n_frames, batch=batch, missing=(2,), seed=1)
    b = random_track(n_frames=n_frames, batch=batch, missing=(0, n_frames - 2), seed=2)
    return people_track(a, b, names=names)


def test_long_layout_has_an_individual_column_after_video():
    track = two_people(n_frames=4)
    df = track.to_dataframe()
    assert list(df.columns[:4]) == ["video", "individual", "frame", "time"]
    assert list(df["individual"].cat.categories) == ["bob", "al"]
    assert len(df) == 2 * 4 * 33
    row = df[(df.individual == "al") & (df.frame == 3) & (df.landmark == "left_knee")].iloc[0]
    assert row.x == track.landmarks[3, 1, 25, 0]
    assert row.time == track.timestamps[3]


def test_wide_layout_is_indexed_by_video_individual_frame():
    track = two_people(n_frames=5)
    wide = track.to_dataframe("wide")
    assert list(wide.index.names) == ["video", "individual", "frame"]
    assert wide.shape == (10, 3 + 33 * len(tables.COORDS))
    assert wide.loc[("0", "al", 1), ("nose", "y")] == track.landmarks[1, 1, 0, 1]
    assert np.isnan(wide.loc[("0", "al", 3), ("nose", "y")])  # al is missing on frame 3


@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("batch", [None, 2])
def test_multi_person_track_round_trips_exactly(layout, batch):
    track = two_people(batch=batch, names=("zed", "amy"))  # not alphabetical: order kept
    back = PoseTrack.from_dataframe(track.to_dataframe(layout))
    assert back.individuals == ("zed", "amy")
    assert_tracks_equal(track, back, rois=False)


def test_pixel_units_round_trip():
    track = two_people()
    back = PoseTrack.from_dataframe(track.to_dataframe("wide", units="px"))
    np.testing.assert_allclose(back.landmarks, track.landmarks, rtol=1e-6)


def test_one_persons_track_keeps_its_name():
    one = two_people().individual("al")
    df = one.to_dataframe()
    assert list(df.columns[:3]) == ["video", "individual", "frame"]
    assert set(df.individual) == {"al"}
    back = PoseTrack.from_dataframe(df)
    assert back.individual_name == "al" and back.individuals is None
    assert_tracks_equal(one, back, rois=False)


def test_one_person_tables_have_no_individual_column():
    df = random_track().to_dataframe()
    assert "individual" not in df.columns
    assert "individual" not in random_track().to_dataframe("wide").index.names
    assert PoseTrack.from_dataframe(df).individuals is None


def test_concat_of_per_person_tables_is_the_track_again():
    track = two_people()
    parts = [track.individual(k).to_dataframe() for k in range(2)]
    joined = pd.concat(parts, ignore_index=True)
    assert_tracks_equal(track, PoseTrack.from_dataframe(joined), rois=False)


def test_row_selection_and_parquet_keep_the_individuals(tmp_path):
    pytest.importorskip("pyarrow")
    track = two_people()
    df = track.to_dataframe()
    late = df[df.frame >= 3]
    path = tmp_path / "two.parquet"
    late.to_parquet(path)
    back = PoseTrack.from_dataframe(pd.read_parquet(path))
    assert back.individuals == ("bob", "al")
    np.testing.assert_array_equal(back.landmarks[3:], track.landmarks[3:])
    assert not back.pose_present[:3].any()


def test_groups_are_per_video_and_individual():
    track = two_people(batch=2)
    table = tables.parse_table(track.to_dataframe())
    groups = list(table.groups())
    assert len(groups) == 4
    for rows in groups:
        assert len(set(table.videos[rows])) == 1 and len(set(table.individuals[rows])) == 1
        assert np.all(np.diff(table.frames[rows]) == 1)
    assert table.n_individuals == 2


def test_groupby_individual_matches_each_persons_track():
    track = two_people()
    df = track.to_dataframe()
    nose = df[df.landmark == "nose"].groupby("individual", observed=True)["x"].mean()
    for k, name in enumerate(track.individuals):
        assert nose[name] == pytest.approx(np.nanmean(track.landmarks[:, k, 0, 0]))


def test_interpolate_never_crosses_people():
    # Person "bob" lacks frame 2; "al" lacks frames 0 and 4. Filling a gap takes its values
    # from the same person's neighbouring frames only.
    track = two_people()
    df = track.to_dataframe()
    filled = df.pose.interpolate(max_gap=3)
    back = PoseTrack.from_dataframe(filled)
    bob, al = track.landmarks[:, 0, :, 0], track.landmarks[:, 1, :, 0]
    np.testing.assert_allclose(back.landmarks[2, 0, :, 0], (bob[1] + bob[3]) / 2, rtol=1e-6)
    np.testing.assert_allclose(back.landmarks[4, 1, :, 0], (al[3] + al[5]) / 2, rtol=1e-6)
    assert np.isnan(back.landmarks[0, 1]).all()  # nothing before al's first frame
    # The other person's rows are untouched.
    np.testing.assert_array_equal(back.landmarks[[0, 1, 3, 4, 5], 0],
                                  track.landmarks[[0, 1, 3, 4, 5], 0])


def test_per_frame_results_are_indexed_by_individual():
    track = two_people()
    angle = track.to_dataframe("wide").pose.angle("left_knee")
    assert list(angle.index.names) == ["individual", "frame"]
    assert len(angle) == 12
    assert angle.loc["al"].index.tolist() == list(range(6))


def test_smooth_keeps_people_apart():
    track = two_people(n_frames=8)
    df = track.to_dataframe()
    smoothed = df.pose.smooth(3)
    alone = track.individual(1).to_dataframe().pose.smooth(3)
    mine = smoothed[smoothed.individual == "al"].reset_index(drop=True)
    np.testing.assert_allclose(mine["x"], alone["x"].to_numpy())


def test_duplicate_rows_of_one_person_are_named():
    df = two_people().to_dataframe()
    doubled = pd.concat([df, df[(df.individual == "al") & (df.frame == 1)]])
    with pytest.raises(ValueError, match="of individual 'al'"):
        tables.parse_table(doubled)


def test_convert_layout_keeps_individuals():
    df = two_people().to_dataframe()
    again = tables.convert_layout(tables.convert_layout(df, "wide"), "long")
    pd.testing.assert_frame_equal(again, df)


@pytest.mark.parametrize("layout", ["long", "wide", "dlc"])
def test_accessor_methods_work_per_person_in_every_layout(layout):
    import matplotlib

    matplotlib.use("Agg")
    track = two_people()
    df = track.to_dataframe(layout)
    angle = df.pose.angle("left_knee")
    assert list(angle.index.names) == ["individual", "frame"] and len(angle) == 12
    ax = df.pose.plot(angles="left_knee")
    assert [line.get_label() for line in ax.get_lines()] == ["bob: left_knee", "al: left_knee"]
    assert df.pose.to_track().individuals == ("bob", "al")
    filled = df.pose.interpolate(max_gap=3).pose.to_track()
    assert np.isnan(filled.landmarks[0, 1, :, 0]).all()  # al's first frame: nothing before it
    assert np.isfinite(filled.landmarks[4, 1, :, 0]).all()  # al's gap at frame 4 is filled
    visible = df.pose.visible()
    if layout == "dlc":
        assert visible.shape == (6, 66)
        assert not visible[("al", "nose")].iloc[0]
    elif layout == "wide":
        assert visible.shape == (12, 33)


def test_a_deeplabcut_table_keeps_its_image_size_through_df_pose():
    # DeepLabCut tables have no size columns; their one size (attrs) must survive a filter.
    for track in (random_track(), two_people()):
        filled = track.to_dataframe("dlc").pose.interpolate()
        assert filled.attrs["image_size"] == (120, 200)
        assert filled.pose.to_track().image_size == (120, 200)
