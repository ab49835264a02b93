"""The ``posejax`` command line, run as a subprocess the way a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest

from posejax import cli, io

REPO = Path(__file__).resolve().parents[2]
SPORTS2D = REPO / "datasets" / "sports2d_demo.mp4"
CLIP_FRAMES = 6


def posejax(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # The child process shares the tests' persistent XLA cache, so it compiles each program once.
    env.setdefault(
        "JAX_COMPILATION_CACHE_DIR",
        os.environ.get("POSEJAX_TEST_JAX_CACHE", str(REPO / ".cache" / "jax")),
    )
    env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
    return subprocess.run(
        [sys.executable, "-m", "posejax.cli", *args],
        capture_output=True, text=True, cwd=cwd or REPO, env=env, timeout=900,
    )  # fmt: skip


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """The first frames of the bundled Sports2D clip at a quarter of its size (442x249)."""
    path = tmp_path_factory.mktemp("cli") / "walk.mp4"
    frames = []
    for frame in io.read_video(SPORTS2D, chunk_size=CLIP_FRAMES).frames():
        frames.append(frame[::4, ::4])
        if len(frames) == CLIP_FRAMES:
            break
    io.write_video(path, np.stack(frames), fps=30)
    return path


@pytest.mark.parametrize("command", [[], ["reps"]])
def test_version(command):
    import posejax as package

    result = posejax(*command, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"posejax {package.__version__}"
    assert package.__version__.count(".") == 2


@pytest.mark.parametrize("command", [[], ["track"], ["reps"]])
def test_help_of_every_command(command):
    result = posejax(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: posejax")
    if command == ["track"]:
        for option in ("--model-complexity", "--static", "--no-smooth", "--segmentation",
                       "--annotate", "--no-progress", "-o OUTPUT"):  # fmt: skip
            assert option in result.stdout
    if not command:
        assert "track" in result.stdout and "reps" in result.stdout


def test_bad_inputs_exit_non_zero_with_one_line(tmp_path, clip):
    import av

    cases = {
        "missing": (["track", str(tmp_path / "none.mp4"), "-o", "o.csv"], "no such file"),
        "format": (["track", str(clip), "-o", str(tmp_path / "o.json")], ".csv, .parquet or .h5"),
        "folder": (["track", str(clip), "-o", str(tmp_path / "x" / "o.csv")], "does not exist"),
        "two videos": (["track", str(clip), str(clip), "-o", str(tmp_path / "o.csv")], "{stem}"),
    }
    (tmp_path / "notes.mp4").write_text("not a video\n" * 40)
    (tmp_path / "empty.mp4").write_bytes(b"")
    cases["corrupt"] = (["track", str(tmp_path / "notes.mp4"), "-o", "o.csv"], "notes.mp4")
    cases["empty"] = (["track", str(tmp_path / "empty.mp4"), "-o", "o.csv"], "empty")
    nothing = tmp_path / "nothing.mkv"
    with av.open(str(nothing), "w") as container:  # a video stream without frames
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()  # writes the header; no frame follows
    cases["no frames"] = (["track", str(nothing), "-o", "o.csv"], "no video frames")
    # An input is never an output: not by its own name, nor through a link or another spelling.
    os.link(clip, tmp_path / "linked.mp4")
    for name, target in (("input", clip), ("spelling", clip.parent / "." / clip.name),
                         ("hard link", tmp_path / "linked.mp4")):
        cases[f"annotate over the {name}"] = (
            ["track", str(clip), "-o", str(tmp_path / "o.csv"), "--annotate", str(target)],
            "would destroy the input")
    for folder in ("a", "b"):  # two photos of one name, from two cameras
        (tmp_path / folder).mkdir()
        iio.imwrite(tmp_path / folder / "x.png", np.zeros((16, 16, 3), np.uint8))
    cases["masks of one name"] = (
        ["track", str(tmp_path / "a" / "x.png"), str(tmp_path / "b" / "x.png"), "-o",
         str(tmp_path / "o.csv"), "--segmentation", str(tmp_path / "masks")],
        "masks would overwrite each other")
    before = clip.read_bytes()
    for name, (args, message) in cases.items():
        result = posejax(*args, "--no-progress", cwd=tmp_path)
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("posejax track: error:"), (name, lines)
        assert message in lines[0], (name, lines[0])
        assert "Traceback" not in result.stderr
    assert clip.read_bytes() == before and not (tmp_path / "o.csv").exists()
    usage = posejax("track", str(clip), cwd=tmp_path)  # -o missing: argparse's usage error
    assert usage.returncode == 2 and "-o" in usage.stderr


def test_a_folder_into_a_file_is_a_usage_error_before_any_work(tmp_path, capsys):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"")      # never opened: the command stops before
    result = posejax("track", str(folder), "-o", str(tmp_path / "x.csv"), "--no-progress")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("posejax track: error:") and "Traceback" not in result.stderr
    assert "give a folder, e.g. -o " in result.stderr and "x/" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]      # nothing created
    (tmp_path / "x.parquet").write_text("kept")
    (tmp_path / "file").write_text("")
    cases = {"an existing file": (str(tmp_path / "x.parquet"), "is a file"),
             "an .h5 name": (str(tmp_path / "x.h5"), "names a landmark file"),
             "below a file": (str(tmp_path / "file" / "out") + "/", "file' is a file"),
             "below a file, no slash": (str(tmp_path / "file" / "out"), "is a file")}
    for name, (output, message) in cases.items():
        assert cli.main(["track", str(folder), "-o", output, "--no-progress"]) == 2, name
        assert message in capsys.readouterr().err, name
    assert (tmp_path / "x.parquet").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "src", "x.parquet"]


@pytest.mark.slow
def test_track_a_clip_to_csv_with_annotation(tmp_path, clip):
    output, annotated = tmp_path / "walk.csv", tmp_path / "walk_pose.mp4"
    result = posejax(
        "track", str(clip), "-o", str(output), "--model-complexity", "0",
        "--annotate", str(annotated), "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"walk.mp4: {CLIP_FRAMES} frames, ")
    assert "with a pose" in summary and "frames/s" in summary and str(output) in summary
    df = io.read_landmarks(output)
    assert df.frame.nunique() == CLIP_FRAMES and df.attrs["model_complexity"] == 0
    sizes = set(zip(df.image_height, df.image_width, strict=True))
    assert sizes == {(250, 442)}  # 249 rows padded to 250
    assert set(df.video) == {"walk.mp4"}
    present = int(summary.split(", ")[1].split()[0])
    assert present == int(df.groupby("frame").x.apply(lambda x: x.notna().any()).sum())
    # What a new user does first: the default reader gives the table, not a comment line.
    plain = pd.read_csv(output)
    assert list(plain.columns) == list(df.columns) and len(plain) == CLIP_FRAMES * 33
    assert (tmp_path / "walk.posejax.json").is_file()
    wide = tmp_path / "walk_wide.csv"
    result = posejax(
        "track", str(clip), "-o", str(wide), "--layout", "wide", "--model-complexity", "0",
        "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plain = pd.read_csv(wide)
    assert len(plain) == CLIP_FRAMES and list(plain.columns[:6]) == [
        "video", "frame", "time", "image_width", "image_height", "nose_x"]
    np.testing.assert_allclose(plain["left_knee_y"], df[df.landmark == "left_knee"].y, rtol=1e-6)
    video = io.read_video(annotated)
    assert (video.n_frames, video.width, video.height) == (CLIP_FRAMES, 442, 250)


@pytest.mark.slow
def test_track_images_to_one_table(tmp_path, clip):
    import imageio.v3 as iio

    frames = io.read_video(clip).read()
    for i in (0, 3):
        iio.imwrite(tmp_path / f"still{i}.png", frames[i][:200])
    output = tmp_path / "stills.parquet"
    result = posejax(
        "track", str(tmp_path / "still0.png"), str(tmp_path / "still3.png"), "-o", str(output),
        "--model-complexity", "0", "--no-progress", "--segmentation", str(tmp_path / "masks"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("2 images: 2 frames")
    df = pd.read_parquet(output)
    assert df.frame.nunique() == 2
    table = io.read_landmarks(output)
    assert table.attrs["sources"] == ["still0.png", "still3.png"]
    masks = sorted((tmp_path / "masks").glob("*.png"))
    assert [m.name for m in masks] == ["still0.png", "still3.png"]
    assert iio.imread(masks[1]).shape == (200, 442)


def test_warmup_prepares_a_size_once_and_then_only_loads():
    args = ("warmup", "--model-complexity", "0", "--size", "64x48")
    first = posejax(*args)
    assert first.returncode == 0, first.stderr
    for mode in ("posejax.track", "Pose.process frame by frame", "Pose(static_image_mode=True)"):
        assert f"complexity 0, {mode}" in first.stdout
    assert first.stdout.count("frames of up to 0.13 Mpx: ready") == 3   # one bucket, 3 modes
    assert "MB added to" in first.stdout
    again = posejax(*args)
    assert again.returncode == 0, again.stderr
    assert "compiling for this machine" not in again.stderr  # nothing traced a second time
    assert "posejax warmup: done" in again.stdout


@pytest.mark.parametrize("size", ["640", "0x480", "wide"])
def test_warmup_rejects_a_bad_size(size):
    done = posejax("warmup", "--size", size)
    assert done.returncode == 2
    assert "WIDTHxHEIGHT" in done.stderr or "positive sides" in done.stderr
