"""``posejax.track_videos``: a folder of videos to Parquet files, in threads, on any executor.

One folder is built per module: a shared clip (push-ups, 310 x 174), a clip from the bundled
Sports2D video (442 x 250), a truncated copy of the first, a file that is not a video, and a
path that does not exist. The default run, the executor runs (a thread pool, a Dask client)
and the command line all track it or copies of its clips; every program they need is compiled
once, here, and read from the on-disk caches by the subprocesses. Faults that need no tracking
(a held lock, a folder that takes no files) use a missing video or none at all.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import posejax
import posejax.dask
from posejax import batch, cli
from posejax.io._lock import LOCK_NAME, FolderLockedError
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
    written = pd.read_csv(output / "_index.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(batch.read_index(output), index)
    assert len(written) == len(index)
    # The video's identity is its absolute, resolved path; its result's name comes from it.
    assert list(index.video) == [str(Path(v).resolve()) for v in index.video]
    # Only the finished results and the index: no temporary file, no lock is left behind.
    results = [batch.output_name(videos["folder"] / n) for n in GOOD]
    assert sorted(p.name for p in output.iterdir()) == sorted(["_index.csv", *results])
    assert all(n.startswith(("pushups-", "walk-")) for n in results)
    # Each video is labelled by its file name, in the index and in its result.
    assert list(index.name) == [Path(v).name for v in index.video]
    for name in GOOD:
        result = output / batch.output_name(videos["folder"] / name)
        assert posejax.read_track(result).video_names == (name,)


def test_the_output_folder_is_one_parquet_dataset_for_pandas_and_dask(videos, serial,
                                                                      tmp_path):
    # The index, the lock and a killed write's leftover are in the folder, as mid-run.
    index, first = serial
    output = tmp_path / "dataset"
    shutil.copytree(first, output)
    (output / LOCK_NAME).write_text("{}")
    (output / ".pushups.0123456789ab.partial").write_bytes(b"PAR1 half a file")
    (output / ".walk.0123456789ab.partial.parquet").write_bytes(b"PAR1 an older leftover")
    expected = pd.concat([posejax.read_landmarks(output / batch.output_name(
        videos["folder"] / n)) for n in GOOD])
    table = pd.read_parquet(output)
    assert len(table) == len(expected) == 33 * (57 + 40)
    assert list(table.columns) == list(expected.columns)
    pytest.importorskip("dask.dataframe")
    import dask.dataframe as dd

    # dask takes every *.parquet, hidden or not: only a write older than _atomic's Parquet
    # naming ends so, and a run removes those before any work.
    (output / ".walk.0123456789ab.partial.parquet").unlink()
    assert len(dd.read_parquet(output).compute()) == len(expected)
    assert sorted(p.name for p in output.iterdir() if p.name.startswith(("_", "."))) == sorted(
        ["_index.csv", LOCK_NAME, ".pushups.0123456789ab.partial"])


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
    walk = output / batch.output_name(videos["folder"] / "walk.mp4")
    assert posejax.read_landmarks(walk).attrs["fps"] == 15
    # ... and so does a changed video (size and modification time).
    source = tmp_path / "pushups.mp4"
    shutil.copy(videos["folder"] / "pushups.mp4", source)
    os.utime(source, ns=(time.time_ns(), time.time_ns()))
    assert list(posejax.track_videos(source, output, progress=False).status) == ["done"]
    # The index describes the folder: each run replaced its own videos' rows, kept the rest.
    listed = batch.read_index(output)
    assert sorted(Path(v).name for v in listed.video) == sorted([*GOOD, *BAD, "pushups.mp4"])
    walk_row = listed[listed.video == str((videos["folder"] / "walk.mp4").resolve())]
    assert list(walk_row.status) == ["done"] and list(walk_row.output) == [str(walk)]


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
    first = output / batch.output_name(inputs[0])
    deadline = time.monotonic() + 600
    # The index is written as results arrive: wait until it lists the first video.
    while (not (output / "_index.csv").exists() and child.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()[-2000:]
    assert first.exists() and not (output / batch.output_name(long)).exists()
    listed = batch.read_index(output)          # killed: the finished video is listed
    assert list(listed.status) == ["done"] and listed.video[0] == str(Path(inputs[0]).resolve())
    assert (output / LOCK_NAME).exists()       # the killed run's lock, its pid gone
    finished = first.stat().st_mtime_ns
    with pytest.warns(RuntimeWarning, match=rf"took over the lock .*\(pid {child.pid} "):
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
    assert sorted(p.name for p in output.iterdir()) == sorted(
        ["_index.csv", batch.output_name(videos["folder"] / "pushups.mp4")])


def rows_status(rows: dict) -> dict:
    return {name: row["status"] for name, row in rows.items()}


def test_a_failed_write_leaves_no_result(videos, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    def broken(table, where, *args, **kwargs):  # the disk fills up half way through the file
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    index = posejax.track_videos(videos["folder"] / "pushups.mp4", tmp_path, progress=False)
    assert list(index.status) == ["failed"] and "disk full" in index.error[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_index.csv"]


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
    # Names come from each video's own path: distinct for one stem in two folders, and the
    # same whatever else is in the run.
    jobs = batch.plan_jobs([Path("a/clip.mp4"), Path("b/clip.mp4"), Path("c.mp4")], tmp_path)
    names = [Path(j["output"]).name for j in jobs]
    assert len(set(names)) == 3 and all(n.startswith(("clip-", "c-")) for n in names)
    assert [j["output"] for j in batch.plan_jobs([Path("c.mp4")], tmp_path)] == [jobs[2]["output"]]
    assert jobs[2]["video"] == str(Path("c.mp4").resolve())
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# -- one output folder, several runs ----------------------------------------------------------


def test_same_name_videos_in_two_folders_keep_both_results(videos, tmp_path):
    # Camera exports: day1/clip.mp4 and day2/clip.mp4, tracked into one folder by two runs
    # (two copies of one clip: equal-length results, as two takes of one exercise give).
    clips = []
    for day, source in (("day1", "pushups.mp4"), ("day2", "pushups.mp4")):
        (tmp_path / day).mkdir()
        clips.append(tmp_path / day / "clip.mp4")
        shutil.copy(videos["folder"] / source, clips[-1])
    output = tmp_path / "out"
    for clip in clips:
        assert list(posejax.track_videos(clip, output, progress=False).status) == ["done"]
    results = [output / batch.output_name(clip) for clip in clips]
    assert results[0] != results[1] and all(r.is_file() for r in results)
    index = batch.read_index(output)
    assert list(index.video) == [str(c.resolve()) for c in clips]
    assert list(index.output) == [str(r) for r in results]
    assert list(index.frames) == [57, 57]
    # The second is labelled by as much of its path as sets it apart, in its file too.
    assert list(index.name) == ["clip.mp4", "day2/clip.mp4"]
    assert posejax.read_track(results[1]).video_names == ("day2/clip.mp4",)
    # All results as one table: the two videos stay apart, (video, frame, landmark) is a key.
    table = posejax.read_landmarks(output)
    assert table.groupby("video", observed=True).frame.nunique().to_dict() == {
        "clip.mp4": 57, "day2/clip.mp4": 57}
    assert not table.duplicated(["video", "frame", "landmark"]).any()
    # A later run keeps each video's label.
    again = posejax.track_videos(clips[::-1], output, progress=False)
    assert list(again.name) == ["day2/clip.mp4", "clip.mp4"]
    pytest.importorskip("dask.dataframe")
    lazy = posejax.dask.read_landmarks(output).compute()
    both = posejax.read_landmarks(output)     # in index order: this run's videos last
    assert both.video.cat.categories.tolist() == ["day2/clip.mp4", "clip.mp4"]
    lazy.attrs = both.attrs = {}
    pd.testing.assert_frame_equal(lazy.reset_index(drop=True), both)


def test_a_moved_output_folder_still_reads_from_any_working_folder(
        videos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    posejax.track_videos(videos["folder"] / "pushups.mp4", "out", progress=False)
    shutil.move(tmp_path / "out", tmp_path / "moved")
    monkeypatch.chdir(videos["folder"])
    pytest.importorskip("dask.dataframe")
    table = posejax.dask.read_landmarks(tmp_path / "moved").compute()
    assert table.frame.nunique() == 57


def test_another_programs_index_csv_is_never_read_overwritten_or_removed(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    (output / "index.csv").write_text("name,score\nalice,3\n")
    with pytest.raises(ValueError, match="is not a posejax index"):
        batch.read_index(output)
    index = posejax.track_videos(tmp_path / "missing.mp4", output, progress=False)
    assert list(index.status) == ["failed"]
    assert (output / "index.csv").read_text() == "name,score\nalice,3\n"
    assert sorted(p.name for p in output.iterdir()) == ["_index.csv", "index.csv"]
    assert list(batch.read_index(output).status) == ["failed"]
    # A foreign file under the new name is not merged into either.
    (output / "_index.csv").write_text("name,score\nbob,4\n")
    with pytest.raises(ValueError, match="is not a posejax index"):
        posejax.track_videos(tmp_path / "missing.mp4", output, progress=False)
    assert (output / "_index.csv").read_text() == "name,score\nbob,4\n"


def test_an_old_index_still_reads_and_a_run_moves_it_to_the_new_name(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    old = pd.DataFrame([{"video": "clips/a.mp4", "status": "done", "frames": 10,
                         "frames_with_pose": 9, "seconds": 1.5,
                         "output": str(output / "a.parquet"), "error": ""},
                        {"video": "/other/clips/a.mp4", "status": "failed", "frames": 0,
                         "frames_with_pose": 0, "seconds": 0.1, "output": "", "error": "x"}])
    old.to_csv(output / "index.csv", index=False)    # the columns indexes always had
    read = batch.read_index(output)
    # Without names, each row is labelled by its file name, or more of its path if taken.
    assert list(read.name) == ["a.mp4", "clips/a.mp4"]
    assert read.drop(columns="name").to_dict("records") == old.to_dict("records")
    missing = tmp_path / "b.mp4"
    index = posejax.track_videos(missing, output, progress=False)
    assert list(index.video) == [str(missing.resolve())] and list(index.status) == ["failed"]
    # The rows moved to _index.csv, then the old file went: the folder reads as a dataset.
    assert sorted(p.name for p in output.iterdir()) == ["_index.csv"]
    listed = batch.read_index(output)
    assert list(listed.video) == ["clips/a.mp4", "/other/clips/a.mp4", str(missing.resolve())]
    assert list(listed.name) == ["a.mp4", "clips/a.mp4", "b.mp4"]
    # A migration cut short leaves both files: both are read, the new one's rows first.
    old.iloc[:1].to_csv(output / "index.csv", index=False)
    assert list(batch.read_index(output).video) == list(listed.video)
    posejax.track_videos(missing, output, progress=False)
    assert sorted(p.name for p in output.iterdir()) == ["_index.csv"]


def test_a_folder_that_takes_no_files_fails_before_any_tracking(videos, tmp_path, monkeypatch):
    tracked = []
    monkeypatch.setattr(batch, "_track", lambda *a, **k: tracked.append(a) or 1 / 0)
    good = videos["folder"] / "pushups.mp4"
    # Read-only: root ignores permissions, so as root the refusal is simulated where the lock
    # file is created (os.open), which is where a read-only folder stops a run.
    output = tmp_path / "read-only"
    output.mkdir()
    if os.geteuid() != 0:
        output.chmod(0o555)
    else:
        real_open = os.open

        def read_only(path, *args, **kwargs):
            if Path(path).parent == output:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(PermissionError, match="cannot write to the output folder .*read-only"):
        posejax.track_videos(good, output, progress=False)
    monkeypatch.undo()
    monkeypatch.setattr(batch, "_track", lambda *a, **k: tracked.append(a) or 1 / 0)
    output.chmod(0o755)
    assert list(output.iterdir()) == []
    # A full disk: the lock is taken, the probe file fails; the lock is given back.
    import posejax.io._lock as lock

    def full(path, write):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lock, "atomic_write", full)
    with pytest.raises(OSError, match="cannot write to the output folder .*No space left"):
        posejax.track_videos(good, output, progress=False)
    assert list(output.iterdir()) == []
    # An output folder below a file cannot be created.
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="cannot create the output folder"):
        posejax.track_videos(good, tmp_path / "file" / "out", progress=False)
    assert tracked == []


def _lock_file(folder: Path, pid: int, host: str, age: float) -> None:
    folder.mkdir(exist_ok=True)
    owner = {"pid": pid, "host": host, "started": time.time() - age, "run": "0" * 32}
    (folder / LOCK_NAME).write_text(json.dumps(owner))


def test_a_held_lock_refuses_at_once_and_a_stale_one_is_taken_over(tmp_path):
    output, missing = tmp_path / "out", tmp_path / "missing.mp4"
    partial = output / ".clip.0123456789ab.partial"
    # Held by a live process of this host (our parent): a clear refusal, nothing touched.
    _lock_file(output, os.getppid(), socket.gethostname(), 30)
    partial.write_bytes(b"being written by the other run")
    with pytest.raises(FolderLockedError, match=rf"in use by another posejax run \(pid "
                                                rf"{os.getppid()} on host .*30 s ago\)"):
        posejax.track_videos(missing, output, progress=False)
    assert partial.exists() and not (output / "_index.csv").exists()
    # Held on another host: it cannot be checked from here; the message gives its age.
    _lock_file(output, 1, "elsewhere", 7300)
    with pytest.raises(FolderLockedError, match="another host .*'elsewhere'.*2.0 h ago.*delete"):
        posejax.track_videos(missing, output, progress=False)
    # Left by a process of this host that is gone: taken over with a warning, and only then
    # are the temporary files of that run removed.
    gone = subprocess.Popen(["true"])
    gone.wait()
    _lock_file(output, gone.pid, socket.gethostname(), 60)
    with pytest.warns(RuntimeWarning, match=f"took over the lock .*pid {gone.pid} "):
        index = posejax.track_videos(missing, output, progress=False)
    assert list(index.status) == ["failed"]
    assert sorted(p.name for p in output.iterdir()) == ["_index.csv"]
    with warnings.catch_warnings():   # released: the next run takes it quietly
        warnings.simplefilter("error")
        posejax.track_videos(missing, output, progress=False)


# -- on an executor: a thread pool, any submit() object, a Dask client -----------------------


def test_a_thread_pool_executor_gives_the_default_run(videos, serial, reference, tmp_path):
    index, _ = serial
    good = [videos["folder"] / n for n in GOOD]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pooled = posejax.track_videos(good, tmp_path / "pool", executor=pool, progress=False)
    assert list(pooled.status) == ["done", "done"]
    for name, row in zip(GOOD, pooled.itertuples(), strict=True):
        pd.testing.assert_frame_equal(posejax.read_landmarks(row.output), reference[name])
    same = ["video", "frames", "frames_with_pose"]
    expected = index[index.video.isin(pooled.video)][same].reset_index(drop=True)
    pd.testing.assert_frame_equal(pooled[same], expected)


class _Inline:
    """The least an executor needs: submit() giving objects with result() and done()."""

    class Future:
        def __init__(self, value, error):
            self._value, self._error = value, error

        def done(self):
            return True

        def cancel(self):
            return False

        def result(self):
            if self._error is not None:
                raise self._error
            return self._value

    def submit(self, fn, *args):
        try:
            return self.Future(fn(*args), None)
        except Exception as error:  # noqa: BLE001
            return self.Future(None, error)


def test_any_object_with_submit_is_an_executor(videos, serial, tmp_path):
    _, first = serial
    output = tmp_path / "inline"
    shutil.copytree(first, output)     # finished results are skipped, so this stays quick
    good = [videos["folder"] / n for n in GOOD]
    index = posejax.track_videos([*good, videos["missing"]], output, executor=_Inline(),
                                 progress=False)
    assert list(index.status) == ["skipped", "skipped", "failed"]
    with pytest.raises(TypeError, match="submit"):
        posejax.track_videos(good, output, executor=object())


# -- on a Dask cluster ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(serial):
    """Two workers of one thread each, in this process: cheap, and the pipelines are compiled."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_the_cluster_run_equals_the_serial_run(videos, serial, client, tmp_path):
    index, first = serial
    output = tmp_path / "cluster"
    on_cluster = posejax.track_videos(videos["inputs"], output, executor=client, progress=False)
    same = ["video", "status", "frames", "frames_with_pose", "error"]
    pd.testing.assert_frame_equal(on_cluster[same], index[same])
    assert list(on_cluster.output) == [o.replace(str(first), str(output)) for o in index.output]
    for row in on_cluster[on_cluster.status == "done"].itertuples():
        ours = posejax.read_landmarks(row.output)
        pd.testing.assert_frame_equal(ours, posejax.read_landmarks(first / Path(row.output).name))
    # The same skip rule: a second run on the cluster (client=, the older name) redoes nothing.
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
