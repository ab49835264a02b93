"""``posejax reps`` (classify.cli) on a synthetic track standing in for posejax.track."""

from __future__ import annotations

import argparse
import importlib

import pandas as pd
import pytest

from classify.cli import add_reps_parser, run_reps
from tests.helpers.synthetic import random_track
from tests.unit.classify.test_reps import PATTERN, squat_track


@pytest.fixture
def fake_track(monkeypatch, tmp_path):
    """A video file to name, and posejax.track replaced by a 3-squat synthetic track."""
    video = tmp_path / "squats.mp4"
    video.write_bytes(b"not decoded: track() is replaced")
    calls = []

    def track(path, **options):
        calls.append((path, options))
        return squat_track(PATTERN)

    # posejax.track is also the function exported by the package, so reach the module itself.
    monkeypatch.setattr(importlib.import_module("posejax.track"), "track", track)
    return video, calls


def parse(*argv):
    parser = argparse.ArgumentParser(prog="posejax")
    add_reps_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["reps", *argv])


def test_prints_the_count_last(fake_track, capsys):
    video, calls = fake_track
    assert run_reps(parse(str(video), "--exercise", "squat", "--no-progress")) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "squat: 3 repetitions"
    assert calls[0][0] == str(video) and calls[0][1]["model_complexity"] == 1


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_writes_the_per_repetition_and_per_frame_tables(fake_track, tmp_path, suffix, capsys):
    video, _ = fake_track
    reps, frames = tmp_path / "tables" / f"reps{suffix}", tmp_path / f"frames{suffix}"
    run_reps(parse(str(video), "--exercise", "squat", "-o", str(reps), "--frames-output",
                   str(frames), "--no-progress"))  # fmt: skip
    reader = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".json": pd.read_json}[suffix]
    per_rep = reader(reps)
    assert per_rep["rep"].tolist() == [1, 2, 3]
    assert {"start_frame", "bottom_frame", "end_frame", "duration", "range_of_motion"} <= set(
        per_rep.columns
    )
    table = reader(frames)
    assert len(table) == len(PATTERN) and table["count"].iloc[-1] == 3
    assert "smoothed_squat_down" in table.columns
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "squat: 3 repetitions"
    assert sum(line.startswith("rep ") for line in lines) == 3


def test_without_an_exercise_counts_the_repeated_movement(fake_track, capsys):
    video, _ = fake_track
    assert run_reps(parse(str(video), "--no-progress")) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.endswith(": 3 repetitions") and ("knee" in last or "hip" in last), last


def test_thresholds_reach_the_counter(fake_track, capsys):
    video, _ = fake_track
    run_reps(parse(str(video), "--exercise", "squat", "--enter-threshold", "1.0"))
    assert capsys.readouterr().out.strip().splitlines()[-1] == "squat: 0 repetitions"


def test_bad_input(fake_track, tmp_path, capsys):
    video, _ = fake_track
    with pytest.raises(SystemExit):
        parse(str(video), "--exercise", "burpee")
    assert "bundled exercises" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no such video"):
        run_reps(parse(str(tmp_path / "missing.mp4"), "--exercise", "squat"))
    with pytest.raises(ValueError, match="tables are written as"):
        run_reps(parse(str(video), "--exercise", "squat", "-o", str(tmp_path / "reps.xlsx")))
    with pytest.raises(ValueError, match="threshold"):
        run_reps(parse(str(video), "--exercise", "squat", "--enter-threshold", "1.5"))


def test_exercise_names_are_normalised():
    assert parse("a.mp4", "--exercise", "Leg-Raise").exercise == "leg_raise"


def test_registered_in_the_posejax_command(fake_track, capsys):
    from posejax.cli import main

    video, _ = fake_track
    assert main(["reps", str(video), "--exercise", "squat", "--no-progress"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "squat: 3 repetitions"


def test_every_output_is_checked_before_tracking(fake_track, tmp_path):
    video, calls = fake_track
    with pytest.raises(ValueError, match="cannot save the plot as reps.xlsx"):
        run_reps(parse(str(video), "--plot", str(tmp_path / "reps.xlsx")))
    for option, suffix in (("-o", ".csv"), ("--frames-output", ".json"), ("--plot", ".png")):
        # A video whose name has an output's suffix, named as that output too.
        source = video.with_suffix(suffix)
        source.write_bytes(b"video bytes")
        with pytest.raises(ValueError, match="would destroy the input"):
            run_reps(parse(str(source), "--no-progress", option, str(tmp_path / source.name)))
        assert source.read_bytes() == b"video bytes"
    assert calls == []  # nothing was tracked


def test_plot_and_tables_into_a_new_folder(fake_track, tmp_path):
    video, _ = fake_track
    out = tmp_path / "new" / "deeper"
    assert run_reps(parse(str(video), "--no-progress", "--plot", str(out / "reps.png"),
                          "-o", str(out / "reps.csv"))) == 0
    assert (out / "reps.png").read_bytes()[:4] == b"\x89PNG"
    assert pd.read_csv(out / "reps.csv").shape[0] == 3
    assert sorted(p.name for p in out.iterdir()) == ["reps.csv", "reps.png"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".h5"])
def test_a_landmark_file_is_counted_without_tracking(fake_track, tmp_path, suffix, capsys):
    if suffix != ".csv":
        pytest.importorskip("pyarrow" if suffix == ".parquet" else "tables")
    from posejax.io import write_landmarks

    video, calls = fake_track
    assert run_reps(parse(str(video), "--exercise", "squat", "--no-progress")) == 0
    from_video = capsys.readouterr().out.strip().splitlines()
    calls.clear()
    landmarks = write_landmarks(squat_track(PATTERN), tmp_path / f"squats{suffix}")
    assert run_reps(parse(str(landmarks), "--exercise", "squat")) == 0
    from_file = capsys.readouterr().out.strip().splitlines()
    assert from_file[0].startswith(f"squats{suffix}: ")
    assert from_file[1:] == from_video[1:] and from_file[-1] == "squat: 3 repetitions"
    assert calls == []


def test_tracking_options_are_refused_for_a_landmark_file(fake_track, tmp_path):
    pytest.importorskip("pyarrow")
    from posejax.io import write_landmarks

    _, calls = fake_track
    landmarks = write_landmarks(squat_track(PATTERN), tmp_path / "squats.parquet")
    with pytest.raises(ValueError, match="--model-complexity applies to tracking a video"):
        run_reps(parse(str(landmarks), "--model-complexity", "2"))
    with pytest.raises(ValueError, match="--model-complexity and --fps apply to tracking"):
        run_reps(parse(str(landmarks), "--model-complexity", "0", "--fps", "30",
                       "-o", str(tmp_path / "reps.csv")))
    assert not (tmp_path / "reps.csv").exists()
    with pytest.raises(FileNotFoundError, match="no such file"):
        run_reps(parse(str(tmp_path / "missing.parquet")))
    batch = write_landmarks(random_track(batch=2), tmp_path / "two.parquet")
    with pytest.raises(ValueError, match="holds 2 videos"):
        run_reps(parse(str(batch)))
    assert calls == []


@pytest.fixture
def fake_two_people(monkeypatch, tmp_path):
    """posejax.track replaced by a synthetic two-person track when asked for num_poses=2."""
    from tests.helpers.synthetic import people_track

    video = tmp_path / "gym.mp4"
    video.write_bytes(b"not decoded: track() is replaced")
    calls = []
    rest = ["squat_up"] * 10

    def track(path, num_poses=1, **options):
        calls.append((path, num_poses, options))
        assert num_poses == 2
        return people_track(squat_track(PATTERN + rest), squat_track(PATTERN[:-10] + rest + rest),
                            names=("person_0", "person_1"))

    monkeypatch.setattr(importlib.import_module("posejax.track"), "track", track)
    return video, calls


def test_num_poses_counts_each_person(fake_two_people, tmp_path, capsys):
    video, calls = fake_two_people
    reps = tmp_path / "reps.csv"
    assert run_reps(parse(str(video), "--exercise", "squat", "--num-poses", "2", "-o", str(reps),
                          "--plot", str(tmp_path / "reps.png"), "--no-progress")) == 0
    assert calls[0][1] == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert "person_0: 3 repetitions" in lines and "person_1: 2 repetitions" in lines
    assert lines[-1] == "squat: 5 repetitions in 2 people (person_0: 3, person_1: 2)"
    assert sum(line.startswith("person_1 rep ") for line in lines) == 2
    table = pd.read_csv(reps)
    assert table.groupby("individual")["rep"].max().to_dict() == {"person_0": 3, "person_1": 2}
    assert (tmp_path / "reps.png").stat().st_size > 0


def test_num_poses_is_passed_only_when_given_and_refused_for_landmark_files(
        fake_track, tmp_path):
    video, calls = fake_track
    run_reps(parse(str(video), "--exercise", "squat", "--no-progress"))
    assert "num_poses" not in calls[0][1]  # one person: posejax.track as before
    landmarks = tmp_path / "poses.parquet"
    random_track().to_dataframe().to_parquet(landmarks)
    with pytest.raises(ValueError, match="--num-poses"):
        run_reps(parse(str(landmarks), "--num-poses", "2"))
    with pytest.raises(SystemExit):
        parse(str(video), "--num-poses", "0")
