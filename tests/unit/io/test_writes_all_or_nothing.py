"""Every file posejax writes is all or nothing, keeps what it replaces on failure, follows umask.

Faults are real where they can be: a disk that fills up is a child process whose file-size limit
(``RLIMIT_FSIZE``) is below what it must write, so the operating system refuses the write part
way, as on a full disk; an interruption is a ``KeyboardInterrupt`` raised mid-write, as Ctrl-C
does.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import posejax
from posejax import draw, io
from posejax.io._atomic import atomic_path, atomic_write, is_partial
from tests.helpers.synthetic import random_track

REPO = Path(__file__).resolve().parents[3]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if is_partial(p) or ".tmp" in p.name)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".h5"])
def test_a_full_disk_keeps_the_old_file_and_leaves_no_partial_file(tmp_path, suffix):
    old = random_track(n_frames=4, seed=1)
    target = tmp_path / f"poses{suffix}"
    io.write_landmarks(old, target)
    before = target.read_bytes()
    # The new table is far larger than the limit the child may write (about 40 KB): the write
    # fails part way, as on a disk that fills up.
    script = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from tests.helpers.synthetic import random_track
        from posejax import io
        big = random_track(n_frames=400, seed=2)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))
        try:
            io.write_landmarks(big, {str(target)!r})
        except OSError as error:
            print("OSError", error)
            sys.exit(0)
        print("written")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OSError"), (done.stdout, done.stderr[-2000:])
    assert "HDF5ExtError" not in done.stderr
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []
    back = io.read_track(target)
    np.testing.assert_array_equal(back.landmarks, old.landmarks)


def test_an_interrupted_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old\n")

    def write(file):
        file.write("new, but not all of it")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, write)
    assert target.read_text() == "old\n" and _leftovers(tmp_path) == []
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("failed")
    assert target.read_text() == "old\n" and _leftovers(tmp_path) == []


def test_an_interrupted_annotation_leaves_no_video_under_its_name(tmp_path, monkeypatch):
    frames = np.zeros((40, 48, 64, 3), np.uint8)
    src = io.write_video(tmp_path / "src.mp4", frames, fps=10)
    track = random_track(n_frames=40, height=48, width=64)
    dst = tmp_path / "annotated.mp4"
    dst.write_bytes(b"an earlier annotation")
    drawn = {"n": 0}
    render = draw.render_skeleton

    def interrupted(frame, landmarks, **style):
        drawn["n"] += 1
        if drawn["n"] == 20:
            raise KeyboardInterrupt  # Ctrl-C half way
        return render(frame, landmarks, **style)

    monkeypatch.setattr(draw, "render_skeleton", interrupted)
    with pytest.raises(KeyboardInterrupt):
        draw.annotate_video(src, track, dst, progress=False)
    assert dst.read_bytes() == b"an earlier annotation"
    assert _leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="is the input file"):
        draw.annotate_video(src, track, tmp_path / "." / "src.mp4", progress=False)
    assert io.read_video(src).n_frames == 40


def test_a_video_writer_left_by_an_error_removes_its_file(tmp_path):
    with pytest.raises(RuntimeError), io.VideoWriter(tmp_path / "v.mp4", fps=5) as writer:
        writer.write(np.zeros((3, 16, 16, 3), np.uint8))
        raise RuntimeError("failed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_files_follow_the_umask(tmp_path, umask):
    track = random_track(n_frames=3)
    old = os.umask(umask)
    try:
        paths = [io.write_landmarks(track, tmp_path / f"p{s}") for s in (".csv", ".parquet", ".h5")]
        paths.append(tmp_path / "p.posejax.json")
        paths.append(io.write_video(tmp_path / "v.mp4", np.zeros((2, 16, 16, 3), np.uint8), 5))
    finally:
        os.umask(old)
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name


def test_write_landmarks_never_overwrites_with_a_half_written_csv_pair(tmp_path):
    """The CSV and its sidecar are each complete; a reader of the pair sees a consistent table."""
    track = random_track(n_frames=5)
    path = posejax.write_landmarks(track, tmp_path / "t.csv")
    df = posejax.read_landmarks(path)
    assert df.attrs["fps"] == 30.0 and _leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["video", "table"])
def test_a_process_killed_mid_write_leaves_nothing_under_the_final_name(tmp_path, kind):
    """SIGKILL part way: only a hidden ``.partial`` file remains, which no reader takes."""
    import signal
    import time

    target = tmp_path / ("out.mp4" if kind == "video" else "out.csv")
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        sys.path.insert(0, {str(REPO)!r})
        from posejax.io import VideoWriter
        from posejax.io._atomic import atomic_write
        if {kind!r} == "video":
            with VideoWriter({str(target)!r}, fps=10) as writer:
                for i in range(10_000):
                    writer.write(np.full((4, 32, 32, 3), i % 255, np.uint8))
                    time.sleep(0.01)
        else:
            def write(file):
                for i in range(10_000):
                    file.write("row,%d\\n" % i)
                    file.flush()
                    time.sleep(0.01)
            atomic_write({str(target)!r}, write)
    """)
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        while not any(p.stat().st_size > 0 for p in tmp_path.iterdir() if is_partial(p)):
            assert child.poll() is None and time.monotonic() < deadline, "nothing was written"
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not target.exists()
    assert all(is_partial(p) for p in tmp_path.iterdir())


def test_write_video_refuses_to_overwrite_the_video_it_reads(tmp_path):
    src = io.write_video(tmp_path / "a.mp4", np.zeros((3, 16, 16, 3), np.uint8), fps=5)
    before = src.read_bytes()
    with pytest.raises(ValueError, match="would destroy the input"):
        io.write_video(tmp_path / "." / "a.mp4", io.read_video(src), fps=5)
    assert src.read_bytes() == before
