"""Waiting for compiles: new frame sizes, clip lengths and processes, before and after buckets.

Issue 23's table, measured again: each case runs in a new process (``_startup_worker.py``) and
each of its steps is what a user waits for, the frames' own compute included:

* ``photos``: one ``Pose(static_image_mode=True)`` on photos of 548x342 (the size a warm cache
  holds), 540x342, 733x491, 1001x1333, 1920x1080 and 3840x2160;
* ``pose10``: ``Pose()`` frame by frame, 10 frames of 720x1280 (a size the cache does not hold);
* ``clips``: ``posejax.track`` of clips of 1, 7, 20 and 21 frames at 548x342;
* ``clip45``: ``posejax.track`` of a 45-frame clip of 1280x720;
* ``first``: a new process's first result, ``Pose().process(image)`` on a 1768x994 frame, and a
  second one in the same process (its compute alone), with the time to import.

Frames are the bundled demo clip's, cropped and resized (nearest pixel) to each size. Every case
runs under mediapipe 0.10.21 (its reference venv; nothing to compile, so its cold and warm are
one), and under posejax twice: the working tree (after) and an earlier commit (before, default
``5ed4f16``, the last one before frame-size buckets and padded clip lengths), each with three
caches:

* cold: an empty cache folder;
* warm: a cache holding what one photo, ``Pose()`` and ``track`` of a 64-frame clip at 548x342
  compiled (one size, one clip length), copied afresh for each case;
* warmup: a cache filled by ``posejax warmup`` with its defaults (timed, with the disk it
  uses), copied afresh for each case.

Two more rows: the first ``posejax track`` of the demo video in an empty cache (wall time, and
the compile notice's figure), and the same command warm. Tables are printed and appended to
``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_startup.py                  # everything, ~30 minutes on 2 cores
    python benchmarks/bench_startup.py --cases first photos --no-before
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

ROOT = _common.ROOT
WORKER = Path(__file__).resolve().parent / "_startup_worker.py"
CASES = ("photos", "pose10", "clips", "clip45", "first")
#: The last commit before frame-size buckets and padded clip lengths (issue 23).
BEFORE = "5ed4f16"
CACHES = ("cold", "warm", "warmup")


def _resized(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """``frame`` cropped to the aspect of ``width x height`` and resized (nearest pixel)."""
    rows, columns = frame.shape[:2]
    if columns * height > rows * width:   # too wide: crop the sides
        keep = rows * width // height
        frame = frame[:, (columns - keep) // 2:(columns - keep) // 2 + keep]
    else:
        keep = columns * height // width
        frame = frame[(rows - keep) // 2:(rows - keep) // 2 + keep]
    y = np.arange(height) * frame.shape[0] // height
    x = np.arange(width) * frame.shape[1] // width
    return np.ascontiguousarray(frame[y[:, None], x[None, :]])


def write_frames(path: Path) -> None:
    """The arrays ``_startup_worker.py`` reads, from the demo clip (frames 12 on: a whole body)."""
    frames = _common.demo_frames(12 + 64)[12:]
    arrays = {"photo_1768x994": frames[0]}
    for width, height in ((548, 342), (540, 342), (733, 491), (1001, 1333), (1920, 1080),
                          (3840, 2160)):
        arrays[f"photo_{width}x{height}"] = _resized(frames[0], width, height)
    arrays["clip_720x1280"] = np.stack([_resized(f, 720, 1280) for f in frames[:10]])
    arrays["clip64_548x342"] = np.stack([_resized(f, 548, 342) for f in frames[:64]])
    for n in (1, 7, 20, 21):
        arrays[f"clip{n}_548x342"] = arrays["clip64_548x342"][:n]
    arrays["clip45_1280x720"] = np.stack([_resized(f, 1280, 720) for f in frames[:45]])
    np.savez(path, **arrays)


def run(command: list[str], env: dict | None = None) -> tuple[float, str, str]:
    """(wall seconds, stdout, stderr) of a new process; raises if it fails.

    It runs in the frames' folder, not in the repository: ``python -c`` puts its working folder
    first on ``sys.path``, which would import the working tree's posejax for every commit.
    """
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir(),
                          env={**os.environ, **(env or {})})
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{proc.stderr[-3000:]}")
    return wall, proc.stdout, proc.stderr


def worker(python: str, module: str, case: str, frames: Path, env: dict | None = None) -> dict:
    wall, out, _ = run([python, str(WORKER), module, case, str(frames)], env)
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


class Tree:
    """posejax at one commit: its source folder on ``PYTHONPATH`` and cache folders of its own."""

    def __init__(self, name: str, source: Path, tmp: Path):
        self.name, self.source, self.tmp = name, source, tmp
        self.warm = self.warmed = None
        self.warmup_row = None

    def env(self, cache: Path) -> dict:
        return {"PYTHONPATH": str(self.source), "POSEJAX_CACHE_DIR": str(cache)}

    def cli(self) -> list[str]:
        return [sys.executable, "-c", "import sys; from posejax.cli import main; sys.exit(main())"]

    def cache(self, kind: str, frames: Path) -> Path:
        """A fresh folder for one case: empty, or a copy of the warm or warmup cache."""
        folder = Path(tempfile.mkdtemp(dir=self.tmp, prefix=f"{self.name}-{kind}-"))
        if kind == "warm":
            if self.warm is None:
                self.warm = self.tmp / f"{self.name}-seeded"
                worker(sys.executable, "posejax", "seed", frames, self.env(self.warm))
            shutil.copytree(self.warm, folder, dirs_exist_ok=True)
        elif kind == "warmup":
            if self.warmed is None:
                self.warmed = self.tmp / f"{self.name}-warmup"
                print(f"{self.name}: posejax warmup ...", flush=True)
                wall, _, _ = run(self.cli() + ["warmup"], self.env(self.warmed))
                size = sum(f.stat().st_size for f in self.warmed.rglob("*") if f.is_file())
                self.warmup_row = [f"posejax warmup (defaults), empty cache: {self.name}",
                                   f"{wall:.1f} s, {size / 1e6:.0f} MB"]
            shutil.copytree(self.warmed, folder, dirs_exist_ok=True)
        return folder

    def run_case(self, case: str, kind: str, frames: Path) -> dict:
        cache = self.cache(kind, frames)
        try:
            return worker(sys.executable, "posejax", case, frames, self.env(cache))
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    def first_track(self) -> list[str]:
        """The first ``posejax track`` of the demo video in an empty cache, then warm."""
        cache = self.tmp / f"{self.name}-track"
        command = self.cli() + ["track", str(_common.DEMO_VIDEO), "-o",
                                str(self.tmp / f"{self.name}-demo.csv")]
        cold, _, err = run(command, self.env(cache))
        warm, _, _ = run(command, self.env(cache))
        notice = re.search(r"about (\d+) s", err)
        said = f"notice: about {notice.group(1)} s" if notice else "no notice"
        return [f"first `posejax track` of the demo video (230 frames): {self.name}",
                f"{cold:.1f} s cold ({said}), {warm:.1f} s warm"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--before", default=BEFORE, help=f"commit to compare (default {BEFORE})")
    parser.add_argument("--no-before", action="store_true", help="only the working tree")
    parser.add_argument("--no-reference", action="store_true", help="skip mediapipe")
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="posejax-startup-") as tmp_name:
        tmp = Path(tmp_name)
        frames = tmp / "frames.npz"
        write_frames(frames)
        trees = []
        if not args.no_before:
            before = tmp / "before-src"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(before), args.before], check=True)
            trees.append(Tree("before", before, tmp))
        trees.append(Tree("after", ROOT, tmp))
        try:
            table, extra = measure(args, trees, frames)
        finally:
            if not args.no_before:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tmp / "before-src")], check=False)
    header = (["step"] + (["mediapipe"] if not args.no_reference else [])
              + [f"{t} {c}" for t in [tree.name for tree in trees] for c in CACHES])
    body = ("Seconds a user waits, in a new process per case (see the script's docstring); "
            "`before` is commit " + (args.before if not args.no_before else "-") + ".\n\n"
            + _common.markdown_table(header, table) + "\n\n"
            + _common.markdown_table(["also", "measured"], extra))
    print(body)
    if not args.no_results:
        _common.append_results("Start-up and new shapes (bench_startup.py)", body)
    return 0


def measure(args, trees: list[Tree], frames: Path) -> tuple[list[list], list[list]]:
    reference = None if args.no_reference else _reference_python()
    rows: dict[str, list] = {}
    extra = []

    def add(case_result: dict, column: int, width: int) -> None:
        steps = dict(case_result["steps"])
        if "Pose().process(image)" in steps:   # the first result: where a new process waits
            first = steps["Pose().process(image)"]
            steps = {"import posejax / mediapipe": case_result["import_s"],
                     "Pose().process(image), first in the process": first,
                     "the same again (its compute)": steps["Pose().process(image) again"],
                     "new process to first result (imports included)":
                         case_result["import_s"] + first,
                     "new process, start to exit (wall)": case_result["wall_s"]}
        for label, seconds in steps.items():
            rows.setdefault(label, ["-"] * width)[column] = f"{seconds:.2f}"

    width = (0 if reference is None else 1) + len(trees) * len(CACHES)
    for case in args.cases:
        if reference is not None:
            print(f"mediapipe: {case} ...", flush=True)
            add(worker(reference, "mediapipe", case, frames), 0, width)
        for t, tree in enumerate(trees):
            for c, kind in enumerate(CACHES):
                print(f"{tree.name} {kind}: {case} ...", flush=True)
                column = (0 if reference is None else 1) + t * len(CACHES) + c
                add(tree.run_case(case, kind, frames), column, width)
    for tree in trees:
        if tree.warmup_row is not None:
            extra.append(tree.warmup_row)
        extra.append(tree.first_track())
    return [[label] + values for label, values in rows.items()], extra


def _reference_python() -> str:
    sys.path.insert(0, str(ROOT / "tools"))
    import reference_env

    return str(reference_env.ensure_reference_env())


if __name__ == "__main__":
    sys.exit(main())
