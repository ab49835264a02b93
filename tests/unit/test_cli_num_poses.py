"""``posejax track --num-poses N``: the flag reaches posejax.track, the table names the people.

posejax.track is replaced by a synthetic two-person track (the tracker is tested elsewhere), so
this runs in a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posejax import cli, io
from tests.helpers.synthetic import people_track, random_track


@pytest.fixture
def video(tmp_path):
    frames = np.zeros((6, 32, 48, 3), np.uint8)
    return io.write_video(tmp_path / "two.mp4", frames, fps=30)


def fake_track(calls):
    def track(path, **options):
        calls.append(options)
        one = random_track(n_frames=6, height=32, width=48, seed=1, missing=(4,))
        other = random_track(n_frames=6, height=32, width=48, seed=2, missing=(0, 1))
        if options.get("num_poses", 1) == 1:
            return one
        return people_track(one, other)
    return track


def test_num_poses_reaches_track_and_the_table_has_individuals(monkeypatch, tmp_path, video,
                                                               capsys):
    calls = []
    monkeypatch.setattr(cli, "track", fake_track(calls))
    out = tmp_path / "two.csv"
    assert cli.main(["track", str(video), "-o", str(out), "--num-poses", "2",
                     "--no-progress"]) == 0
    assert calls[0]["num_poses"] == 2
    df = io.read_landmarks(out)
    assert list(df["individual"].cat.categories) == ["person_0", "person_1"]
    assert "6 frames, 6 with a pose" in capsys.readouterr().out  # frames with anyone on them
    track = io.read_track(out)
    assert track.individuals == ("person_0", "person_1")
    assert not track.pose_present[:2, 1].any() and track.pose_present[:2, 0].all()
    assert not track.pose_present[4, 0] and track.pose_present[4, 1]


def test_without_the_flag_track_is_called_as_before(monkeypatch, tmp_path, video):
    calls = []
    monkeypatch.setattr(cli, "track", fake_track(calls))
    out = tmp_path / "one.csv"
    assert cli.main(["track", str(video), "-o", str(out), "--no-progress"]) == 0
    assert "num_poses" not in calls[0]
    assert "individual" not in pd.read_csv(out).columns


def test_num_poses_reaches_track_videos_for_an_output_folder(monkeypatch, tmp_path, video):
    import posejax.batch

    calls = []

    def track_videos(videos, output, **options):
        calls.append(options)
        return pd.DataFrame({"video": [str(video)], "status": ["done"]})

    monkeypatch.setattr(posejax.batch, "track_videos", track_videos)
    assert cli.main(["track", str(video), "-o", str(tmp_path / "out") + "/", "--num-poses", "2",
                     "--no-progress"]) == 0
    assert calls[0]["num_poses"] == 2


def test_num_poses_below_one_is_a_usage_error(tmp_path, video, capsys):
    assert cli.main(["track", str(video), "-o", str(tmp_path / "out") + "/",
                     "--num-poses", "0"]) == 2
    assert cli.main(["track", str(video), "-o", str(tmp_path / "a.csv"), "--num-poses", "0"]) == 2
    assert "--num-poses" in capsys.readouterr().err
