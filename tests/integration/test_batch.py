"""``posejax.track_videos``: a folder of videos to Parquet files, serially and on a Dask cluster.

One folder is built per module: a shared clip (push-ups, 310 x 174), a clip from the bundled
Sports2D video (442 x 250), a truncated copy of the first, a file that is not a video, and a
path that does not exist. The serial run, the cluster run and the command line all track it;
every program they need is compiled once, here, and read from the on-disk caches by the
workers and subprocesses.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import posejax
import posejax.dask
from posejax import batch, cli
from tests.helpers.clips import (
    damaged_copy,
    run_posejax,
    subprocess_env,
    truncated_copy,
    write_moving_clip,
    write_walk_clip,
)
from tests.helpers.reference_data import SHARED_DATA, require_shared

pytestmark = pytest.mark.slow

PUSHUPS = "videos/mp_docs_pushups_5reps_overlay.mp4"
GOOD = ("pushups.mp4", "walk.mp4")
BAD = ("corrupt.mp4", "truncated.mp4", "missing.mp4")


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("videos")
    pushups = require_shared(SHARED_DATA / PUSHUPS)
    shutil.copy(pushups, folder / "pushups.mp4")
    write_walk_clip(folder / "walk.mp4", 40)
    truncated_copy(pushups, folder / "truncated.mp4", 0.6)
    (folder / "corrupt.mp4").write_text("not a video\n" * 50)
    (folder / "notes.txt").write_text("not picked up: no video suffix\n")
    missing = folder.parent / "missing.mp4"
    return {"folder": folder, "inputs": [folder, missing], "missing": missing}


@pytest.fixture(scope="module")
def serial(videos, tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    output = tmp_path_factory.mktemp("serial")
    return posejax.track_videos(videos["inputs"], output, progress=False), output


@pytest.fixture(scope="module")
def reference(videos) -> dict:
    """``posejax.track(video).to_dataframe()`` of each good video."""
    return {name: posejax.track(videos["folder"] / name).to_dataframe() for name in GOOD}


def _by_name(index: pd.DataFrame) -> dict:
    return {Path(v).name: row for v, row in zip(index.video, index.to_dict("records"),
                                                strict=True)}


def test_every_video_gets_a_row_and_bad_ones_fail_alone(videos, serial):
    index, output = serial
    rows = _by_name(index)
    assert list(index.columns) == list(batch.INDEX_COLUMNS)
    assert sorted(rows) == sorted(GOOD + BAD)           # notes.txt is not a video
    assert [rows[n]["status"] for n in GOOD] == ["done", "done"]
    assert [rows[n]["frames"] for n in GOOD] == [57, 40]
    assert all(rows[n]["status"] == "failed" and rows[n]["output"] == "" for n in BAD)
    assert "no such file" in rows["missing.mp4"]["error"]
    assert "cannot read" in rows["corrupt.mp4"]["error"]
    truncated = rows["truncated.mp4"]["error"]
    # How many frames were read and where decoding stopped.
    assert "truncated or corrupt" in truncated and "of the 57 its index lists" in truncated
    read = int(truncated.split(" frames read")[0].split()[-1])
    assert 0 < read < 57 and f"decoding stopped at frame {read}" in truncated
    written = pd.read_csv(output / "index.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(batch.read_index(output), index)
    assert len(written) == len(index)
    # Only the finished results and the index: no temporary file is left behind.
    assert sorted(p.name for p in output.iterdir()) == ["index.csv", "pushups.parquet",
                                                        "walk.parquet"]


def test_done_outputs_read_back_as_track_gives(serial, reference):
    index, _ = serial
    for name, row in _by_name(index).items():
        if row["status"] == "done":
            table = posejax.read_landmarks(row["output"])
            pd.testing.assert_frame_equal(table, reference[name])
            assert table.attrs["batch"]["frames"] == row["frames"]
            assert row["frames_with_pose"] == int(reference[name].groupby("frame").x
                                                  .apply(lambda x: x.notna().any()).sum())


def test_a_second_run_skips_what_is_done_and_redoes_what_changed(videos, serial, tmp_path):
    index, first = serial
    output = tmp_path / "again"
    shutil.copytree(first, output)
    before = {p.name: p.stat().st_mtime_ns for p in output.glob("*.parquet")}
    again = posejax.track_videos(videos["inputs"], output, progress=False)
    rows = _by_name(again)
    assert [rows[n]["status"] for n in GOOD] == ["skipped", "skipped"]
    assert [rows[n]["frames"] for n in GOOD] == [57, 40]
    assert all(rows[n]["status"] == "failed" for n in BAD)    # failures are tried again
    assert {p.name: p.stat().st_mtime_ns for p in output.glob("*.parquet")} == before
    # Another option (fps: the same compiled program) redoes every video ...
    other = posejax.track_videos(videos["folder"] / "walk.mp4", output, progress=False, fps=15)
    assert list(other.status) == ["done"]
    assert posejax.read_landmarks(output / "walk.parquet").attrs["fps"] == 15
    # ... and so does a changed video (size and modification time).
    source = tmp_path / "pushups.mp4"
    shutil.copy(videos["folder"] / "pushups.mp4", source)
    os.utime(source, ns=(time.time_ns(), time.time_ns()))
    assert list(posejax.track_videos(source, output, progress=False).status) == ["done"]


def test_a_killed_run_resumes_and_redoes_nothing_finished(videos, tmp_path):
    long = tmp_path / "long.mp4"
    frames = posejax.read_video(videos["folder"] / "pushups.mp4").read()
    posejax.write_video(long, np.concatenate([frames, frames[::-1]] * 3), fps=10)   # 342
    inputs = [str(videos["folder"] / "pushups.mp4"), str(long)]
    output = tmp_path / "out"
    script = ("import sys, posejax; "
              "posejax.track_videos(sys.argv[1:-1], sys.argv[-1], progress=False)")
    child = subprocess.Popen([sys.executable, "-c", script, *inputs, str(output)],
                             env=subprocess_env(), stderr=subprocess.PIPE)
    first = output / "pushups.parquet"
    deadline = time.monotonic() + 600
    while not first.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()[-2000:]
    assert first.exists() and not (output / "long.parquet").exists()
    assert not (output / "index.csv").exists()      # killed: no index, nothing looks complete
    finished = first.stat().st_mtime_ns
    resumed = _by_name(posejax.track_videos(inputs, output, progress=False))
    assert rows_status(resumed) == {"pushups.mp4": "skipped", "long.mp4": "done"}
    assert first.stat().st_mtime_ns == finished
    assert resumed["long.mp4"]["frames"] == 342
    assert [p.name for p in output.iterdir() if p.name.startswith(".")] == []


def test_an_interrupted_run_ends_the_videos_under_way_and_keeps_what_finished(
        videos, tmp_path, monkeypatch):
    # Ctrl-C while two videos are tracked side by side: the KeyboardInterrupt in the main thread
    # ends the other video at its next chunk (nothing of it written, no failed row), and the
    # index lists the video that finished.
    long = tmp_path / "long.mp4"
    frames = posejax.read_video(videos["folder"] / "pushups.mp4").read()
    posejax.write_video(long, np.concatenate([frames, frames[::-1]] * 3), fps=10)
    real_as_completed = concurrent.futures.as_completed

    def interrupted_after_the_first(futures):
        for future in real_as_completed(futures):
            yield future
            raise KeyboardInterrupt

    monkeypatch.setattr(concurrent.futures, "as_completed", interrupted_after_the_first)
    output = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        posejax.track_videos([videos["folder"] / "pushups.mp4", long], output, progress=False)
    index = batch.read_index(output)
    assert list(index.status) == ["done"] and Path(index.video[0]).name == "pushups.mp4"
    assert sorted(p.name for p in output.iterdir()) == ["index.csv", "pushups.parquet"]


def rows_status(rows: dict) -> dict:
    return {name: row["status"] for name, row in rows.items()}


def test_a_failed_write_leaves_no_result(videos, tmp_path, monkeypatch):
    def broken(df, path):
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(batch, "write_landmarks", broken)
    index = posejax.track_videos(videos["folder"] / "pushups.mp4", tmp_path, progress=False)
    assert list(index.status) == ["failed"] and "disk full" in index.error[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.csv"]


@pytest.mark.parametrize("kind", ["mkv-h264", "webm-vp9", "avi-mjpeg"])
def test_every_container_cut_short_or_damaged_is_a_failed_row(tmp_path, kind):
    # Found when the file opens (the reader's check), so nothing is tracked or compiled.
    whole = write_moving_clip(tmp_path / "whole", kind, size=(48, 64))
    options = batch._normalized_options({})
    for broken in (truncated_copy(whole, tmp_path / f"cut{whole.suffix}", 0.5),
                   damaged_copy(whole, tmp_path / f"damaged{whole.suffix}", 4_000)):
        row = batch.process_video({"video": str(broken), "output": str(tmp_path / "o.parquet")},
                                  options)
        assert row["status"] == "failed" and row["output"] == "", row
        error = row["error"]
        assert error.startswith("VideoDecodeError:") and "truncated or corrupt" in error
        read = int(error.split(" frames read")[0].split()[-1])
        assert 0 < read < 150 and f"decoding stopped at frame {read} (" in error
    assert not (tmp_path / "o.parquet").exists()


def test_inputs_and_options_are_checked_before_any_work(tmp_path, videos):
    folder = videos["folder"]
    assert batch.resolve_videos(folder) == [folder / n for n in
                                            ("corrupt.mp4", "pushups.mp4", "truncated.mp4",
                                             "walk.mp4")]
    assert batch.resolve_videos(str(folder / "[pw]*.mp4")) == [folder / "pushups.mp4",
                                                              folder / "walk.mp4"]
    with pytest.raises(ValueError, match="no videos found"):
        posejax.track_videos(tmp_path, tmp_path / "out")
    with pytest.raises(TypeError, match="unknown options.*model_complexity"):
        posejax.track_videos(folder, tmp_path / "out", complexity=2)
    with pytest.raises(ValueError, match="model_complexity"):
        posejax.track_videos(folder, tmp_path / "out", model_complexity=3)
    with pytest.raises(ValueError, match="no masks"):
        posejax.track_videos(folder, tmp_path / "out", enable_segmentation=True)
    jobs = batch.plan_jobs([Path("a/clip.mp4"), Path("b/clip.mp4"), Path("c.mp4")], tmp_path)
    names = [Path(j["output"]).name for j in jobs]
    assert len(set(names)) == 3 and names[2] == "c.parquet" and names[0].startswith("clip-")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# -- on a Dask cluster ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(serial):
    """Two worker processes of one thread each, sharing the session's compilation caches."""
    distributed = pytest.importorskip("distributed")
    import jax

    env = {"POSEJAX_CACHE_DIR": os.environ["POSEJAX_CACHE_DIR"],
           "JAX_COMPILATION_CACHE_DIR": jax.config.jax_compilation_cache_dir,
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5",
           "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, env=env) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_the_cluster_run_equals_the_serial_run(videos, serial, client, tmp_path):
    index, first = serial
    output = tmp_path / "cluster"
    on_cluster = posejax.track_videos(videos["inputs"], output, client=client, progress=False)
    same = ["video", "status", "frames", "frames_with_pose", "error"]
    pd.testing.assert_frame_equal(on_cluster[same], index[same])
    assert list(on_cluster.output) == [o.replace(str(first), str(output)) for o in index.output]
    for row in on_cluster[on_cluster.status == "done"].itertuples():
        ours = posejax.read_landmarks(row.output)
        pd.testing.assert_frame_equal(ours, posejax.read_landmarks(first / Path(row.output).name))
    # The same skip rule: a second run on the cluster redoes nothing.
    again = posejax.track_videos(videos["inputs"], output, client=client, progress=False)
    assert set(again[again.output != ""].status) == {"skipped"}
    # All results as one dask DataFrame.
    ddf = posejax.dask.read_landmarks(output)
    assert ddf.npartitions == 2
    table = ddf.compute()
    assert list(table.columns[:3]) == ["video", "frame", "time"]
    assert table.groupby("video", observed=True).frame.nunique().to_dict() == {
        "pushups.mp4": 57, "walk.mp4": 40}


# -- the command line -------------------------------------------------------------------------


def test_the_command_line_tracks_folders_with_exit_statuses(videos, serial, tmp_path):
    _, first = serial
    output = tmp_path / "cli"
    shutil.copytree(first, output)    # finished results are skipped, so this stays quick
    folder = str(videos["folder"])
    failed = run_posejax("track", folder, str(videos["missing"]), "-o", f"{output}/",
                         "--no-progress")
    assert failed.returncode == 1, failed.stderr
    assert "5 videos: 0 done, 2 skipped, 3 failed" in failed.stdout
    listed = failed.stderr.splitlines()
    assert listed[0] == "posejax track: 3 failed:" and len(listed) == 4
    assert {Path(line.split(": ")[0].strip()).name for line in listed[1:]} == set(BAD)
    good = [str(videos["folder"] / n) for n in GOOD]
    done = run_posejax("track", *good, "-o", f"{output}/", "--no-progress", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "2 videos: 0 done, 2 skipped, 0 failed" in done.stdout
    usage = {
        "cluster without a folder": ["track", good[0], "-o", str(tmp_path / "a.csv"),
                                     "--workers", "2"],
        "both cluster options": ["track", folder, "-o", f"{output}/", "--workers", "2",
                                 "--scheduler", "tcp://127.0.0.1:1"],
        "annotate a folder": ["track", folder, "-o", f"{output}/", "--annotate", "x.mp4"],
        "no videos in the folder": ["track", str(tmp_path / "empty") + "/", "-o", f"{output}/"],
    }
    (tmp_path / "empty").mkdir()
    for name, args in usage.items():   # in this process: they stop before any work
        try:
            status = cli.main([*args, "--no-progress"])
        except SystemExit as stop:     # argparse's own usage errors
            status = stop.code
        assert status == 2, name
