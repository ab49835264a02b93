"""Many landmark files as one table: ``posejax.read_landmarks`` of a folder, pattern or list."""

from __future__ import annotations

import pandas as pd
import pytest

from posejax import io
from posejax.io import _index
from tests.helpers.synthetic import random_track


def _with_video(df: pd.DataFrame, label: str) -> pd.DataFrame:
    df = df.copy()
    df.attrs = {}
    df["video"] = label
    return df


@pytest.fixture
def folder(tmp_path):
    """Two landmark files of tracks of arrays (video "0"), and files that are not landmark files."""
    pytest.importorskip("pyarrow")
    io.write_landmarks(random_track(seed=1), tmp_path / "a.parquet")
    io.write_landmarks(random_track(seed=2, n_frames=4, missing=()), tmp_path / "b.csv")
    pd.DataFrame({"rep": [1, 2]}).to_csv(tmp_path / "reps.csv", index=False)     # no sidecar
    pd.DataFrame({"rep": [1, 2]}).to_parquet(tmp_path / "reps.parquet")         # no metadata
    (tmp_path / "_SUCCESS").write_text("")     # as Spark and Hadoop leave
    (tmp_path / ".a.0123456789ab.partial").write_bytes(b"PAR1 half")
    (tmp_path / "notes.txt").write_text("not a landmark file\n")
    return tmp_path


def test_a_folder_reads_as_one_table_each_file_a_video(folder):
    df = io.read_landmarks(folder)
    a, b = io.read_landmarks(folder / "a.parquet"), io.read_landmarks(folder / "b.csv")
    assert set(a.video) == set(b.video) == {"0"}   # tracks of arrays: the file names them
    expected = pd.concat([_with_video(a, "a"), _with_video(b, "b")], ignore_index=True)
    expected["video"] = expected["video"].astype(pd.CategoricalDtype(["a", "b"]))
    expected.attrs = {}
    pd.testing.assert_frame_equal(df, expected, check_flags=False)
    assert df.video.cat.categories.tolist() == ["a", "b"]
    # attrs: what every file says alike, not what each says of its own video (its length).
    assert df.attrs == {"fps": 30.0, "model_complexity": 0, "units": "normalized"}
    assert a.attrs["n_frames"] == 6 and b.attrs["n_frames"] == 4
    # A pattern and a list name the same files.
    pd.testing.assert_frame_equal(io.read_landmarks(str(folder / "*")), df)
    pd.testing.assert_frame_equal(io.read_landmarks([folder / "a.parquet", folder / "b.csv"]),
                                  df)


def test_files_keep_their_own_video_labels(tmp_path):
    pytest.importorskip("pyarrow")
    io.write_landmarks(random_track(batch=2, names=("left", "right")), tmp_path / "x.parquet")
    io.write_landmarks(random_track(names=("solo",), seed=3), tmp_path / "y.parquet")
    df = io.read_landmarks(tmp_path)
    assert df.video.cat.categories.tolist() == ["left", "right", "solo"]
    assert df.groupby("video", observed=True).frame.nunique().to_dict() == {
        "left": 6, "right": 6, "solo": 6}


def test_wide_files_keep_the_video_in_their_index(tmp_path):
    pytest.importorskip("pyarrow")
    for stem, seed in (("p", 1), ("q", 2)):
        io.write_landmarks(random_track(seed=seed), tmp_path / f"{stem}.parquet", layout="wide")
    df = io.read_landmarks(tmp_path)
    assert df.index.names == ["video", "frame"]
    assert df.index.get_level_values("video").categories.tolist() == ["p", "q"]
    pd.testing.assert_frame_equal(df.xs("q", level="video"),
                                  io.read_landmarks(tmp_path / "q.parquet").xs("0", level="video"),
                                  check_flags=False,
                                  check_like=True, check_index_type=False, check_exact=True)


def test_one_video_in_two_files_is_refused_naming_both(tmp_path):
    pytest.importorskip("pyarrow")
    io.write_landmarks(random_track(names=("clip",)), tmp_path / "one.parquet")
    io.write_landmarks(random_track(names=("clip",), seed=4), tmp_path / "two.csv")
    with pytest.raises(ValueError, match=r"one.parquet' and .*two.csv' both hold the video "
                                         r"'clip'"):
        io.read_landmarks(tmp_path)


def test_mixed_layouts_are_refused(tmp_path):
    pytest.importorskip("pyarrow")
    io.write_landmarks(random_track(), tmp_path / "long.parquet")
    io.write_landmarks(random_track(), tmp_path / "wide.parquet", layout="wide")
    with pytest.raises(ValueError, match="different layouts"):
        io.read_landmarks(tmp_path)


def test_nothing_to_read_says_what_was_searched(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")     # a CSV, but no posejax sidecar
    with pytest.raises(FileNotFoundError, match=rf"no posejax landmark file in '{tmp_path}'"):
        io.read_landmarks(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"landmark file matches '.*/\*\.parquet'"):
        io.read_landmarks(str(tmp_path / "*.parquet"))
    with pytest.raises(FileNotFoundError, match="empty list"):
        io.read_landmarks([])
    with pytest.raises(FileNotFoundError, match="no such file"):
        io.read_landmarks([tmp_path / "missing.parquet"])


def _row(video, name, status, output):
    return {"video": video, "name": name, "status": status, "frames": 6,
            "frames_with_pose": 5, "seconds": 0.5, "output": output, "error": ""}


@pytest.mark.parametrize("index_name", [_index.INDEX_NAME, _index.OLD_INDEX_NAME])
def test_a_track_videos_folder_gives_its_finished_results_labelled_by_its_index(
        tmp_path, index_name):
    pytest.importorskip("pyarrow")
    io.write_landmarks(random_track(seed=1), tmp_path / "clip-1.parquet")
    io.write_landmarks(random_track(seed=2), tmp_path / "clip-2.parquet")
    io.write_landmarks(random_track(seed=3), tmp_path / "stale.parquet")   # not in the index
    rows = [_row("/d/day1/clip.mp4", "clip.mp4", "done", "elsewhere/clip-1.parquet"),
            _row("/d/bad.mp4", "bad.mp4", "failed", ""),
            _row("/d/day2/clip.mp4", "day2/clip.mp4", "skipped", "elsewhere/clip-2.parquet")]
    index = _index.as_index(rows)
    if index_name == _index.OLD_INDEX_NAME:     # written before labels were
        index = index.drop(columns="name")
    index.to_csv(tmp_path / index_name, index=False)
    df = io.read_landmarks(tmp_path)
    assert df.video.cat.categories.tolist() == ["clip.mp4", "day2/clip.mp4"]
    second = df[df.video == "day2/clip.mp4"].drop(columns="video").reset_index(drop=True)
    expected = io.read_landmarks(tmp_path / "clip-2.parquet").drop(columns="video")
    expected.attrs = {}
    pd.testing.assert_frame_equal(second, expected, check_flags=False)
    # A folder whose index lists nothing finished holds nothing to read.
    _index.as_index([rows[1]]).to_csv(tmp_path / index_name, index=False)
    with pytest.raises(FileNotFoundError, match="no finished track_videos result"):
        io.read_landmarks(tmp_path)


def test_labels_are_unique_in_the_folder_and_a_video_keeps_its():
    earlier = _index.as_index([_row("/d/day1/clip.mp4", "clip.mp4", "done", "o/c.parquet")])
    videos = ["/d/day2/clip.mp4", "/e/day2/clip.mp4", "/d/day1/clip.mp4", "/d/walk.mp4"]
    assert _index.labels(videos, earlier) == ["day2/clip.mp4", "e/day2/clip.mp4", "clip.mp4",
                                              "walk.mp4"]
    assert _index.labels(videos, None) == ["clip.mp4", "day2/clip.mp4", "day1/clip.mp4",
                                           "walk.mp4"]
    # Rows of an index written without labels get them by the same rule, in row order.
    old = [{**_row(v, "", "done", ""), "output": ""} for v in ("/a/x.mp4", "/b/x.mp4")]
    assert _index.as_index(old).name.tolist() == ["x.mp4", "b/x.mp4"]


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_files_of_several_people_join_with_their_names(tmp_path, layout):
    pytest.importorskip("pyarrow")
    from tests.helpers.synthetic import people_track

    two = people_track(random_track(seed=1), random_track(seed=2), names=("zed", "amy"))
    others = people_track(random_track(seed=3), random_track(seed=4), names=("amy", "bo"))
    io.write_landmarks(two, tmp_path / "a.parquet", layout=layout)
    io.write_landmarks(others, tmp_path / "b.csv", layout=layout)
    df = io.read_landmarks(tmp_path)
    people = df["individual"] if layout == "long" else df.index.get_level_values("individual")
    assert list(people.categories if layout == "wide" else people.cat.categories) == \
        ["zed", "amy", "bo"]
    angle = df.pose.angle("left_knee")
    assert list(angle.index.names) == ["video", "individual", "frame"]
    assert len(angle.loc["b"]) == 2 * 6 and "zed" not in angle.loc["b"].index.get_level_values(0)
