"""posejax.track against mediapipe 0.10.21's ``solutions.pose`` on the same frames, on this machine.

The bundled demo clip (1768 x 994) is decoded once into memory (played forwards and backwards to
the requested length) and written to a temporary .npy that every worker process reads, so both
sides process identical RGB arrays. Each configuration runs in its own process:

* mediapipe (its own venv, ``tools/reference_env.py`` creates it when missing): video mode at
  complexities 0, 1, 2 and static mode at complexity 1, one ``Pose`` per repeat, graph set-up
  excluded;
* the mediapipe pool: what a user with many videos runs, one mediapipe process per core
  (``os.cpu_count()`` processes started together on the same frames); its frames/s is the sum
  over the processes;
* posejax: ``track`` on one video, on a batch of 8 videos (the clip 8 times; on a CPU the videos
  run side by side in threads, one per core) and in static mode, and the drop-in
  ``Pose().process`` called frame by frame (``pose``, ``pose-static``), each first in a process
  with an empty cache folder (cold: tracing and XLA compilation), then in a second process that
  finds the cache filled (warm start).

Reported: frames/s (median of the repeats after the first call), the ratios to one mediapipe
process and to the pool at the same complexity and mode, the first-call overhead (first call
minus a steady call: load, trace, compile), and the peak RSS of the process. A second table
gives the start-up: the wall time of a new process from its start to the first result (imports
included) on a frame of the clip as a PNG, for mediapipe's
``Pose().process(image)``, posejax's, ``posejax.track(image, static_image_mode=True)`` and the
``posejax track image.jpg -o x.csv`` command, with warm caches and with an empty cache folder.
Both tables are printed and appended to ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_pipeline.py            # 300 frames, complexities 0-2, 3 repeats
    python benchmarks/bench_pipeline.py --quick    # 60 frames, complexity 1, in ~2 minutes
    python benchmarks/bench_pipeline.py --frames 150 --repeats 2   # the issue-10 run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

ROOT = _common.ROOT
#: The posejax configurations compared with mediapipe's static mode.
STATIC_KINDS = {"static", "pose-static"}


def run_worker(args: list[str], env: dict | None = None) -> dict:
    """Run this script as a worker process; returns the JSON it prints last."""
    proc = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def posejax_worker(frames_path: str, kind: str, complexity: int, repeats: int) -> dict:
    """Time ``posejax.track`` on the frames in this (fresh) process."""
    import numpy as np

    import posejax

    frames = np.load(frames_path)
    batch = 8 if kind == "batch8" else 1
    data = np.broadcast_to(frames, (batch,) + frames.shape) if batch > 1 else frames
    static = kind in STATIC_KINDS

    def call():
        if kind.startswith("pose"):   # the drop-in, one frame at a time as its users call it
            with posejax.Pose(model_complexity=complexity, static_image_mode=static) as pose:
                return np.array([pose.process(frame).pose_landmarks is not None
                                 for frame in frames])
        return posejax.track(data, model_complexity=complexity,
                             static_image_mode=static).pose_present

    first = _common.timed(call, 1)[0]
    times = _common.timed(call, repeats)
    present = np.asarray(call()).reshape(-1)
    return {"first_s": first, "times": times, "frames": int(batch * len(frames)),
            "present": int(present.sum()), "peak_rss_mb": _common.peak_rss_mb()}


def mediapipe_runs(python: str, frames_path: str, repeats: int, specs: list[str],
                   processes: int) -> list[dict]:
    """``processes`` mediapipe workers started together on the same frames; their JSON results."""
    worker = str(Path(__file__).parent / "_mediapipe_worker.py")
    procs = [subprocess.Popen([python, worker, frames_path, str(repeats), *specs],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"mediapipe worker failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


#: New-process programs timed from start to first result; {image} and {out} are filled in.
STARTUP_CODE = {
    "Pose().process(image)": (
        "import {module} as mp, imageio.v3 as iio; image = iio.imread({image!r})[..., :3]; "
        "r = mp.solutions.pose.Pose().process(image); assert r.pose_landmarks is not None"),
    "track(image, static_image_mode=True)": (
        "import posejax; image = posejax.read_image({image!r}); "
        "t = posejax.track(image[None], static_image_mode=True, progress=False); "
        "assert t.pose_present.all()"),
}


def time_process(command: list[str], env: dict | None = None) -> float:
    """Wall time of a new process running ``command``, from start to exit."""
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def startup_rows(reference: str | None, tmp: Path, repeats: int) -> list[list]:
    """First result in a new process: mediapipe, then posejax warm and cold."""
    import imageio.v3 as iio

    image = tmp / "startup.png"
    # Frame 12: the athlete is whole in it (in the first frames both libraries find nobody).
    iio.imwrite(image, _common.demo_frames(13)[12])
    rows = []
    if reference is not None:
        code = STARTUP_CODE["Pose().process(image)"].format(module="mediapipe", image=str(image))
        time_process([reference, "-c", code])  # the OS file cache, as for posejax's warm runs
        times = [time_process([reference, "-c", code]) for _ in range(repeats)]
        rows.append(["mediapipe 0.10.21", "Pose().process(image)", f"{_common.median(times):.2f}",
                     "(nothing to compile)", "1.00"])
    mediapipe_s = _common.median(times) if reference is not None else None
    commands = {
        name: [sys.executable, "-c", code.format(module="posejax", image=str(image))]
        for name, code in STARTUP_CODE.items()
    }
    cli = str(Path(sys.executable).with_name("posejax"))
    commands["posejax track image.png -o x.csv"] = [cli, "track", str(image), "-o",
                                                    str(tmp / "startup.csv"), "--no-progress"]
    for name, command in commands.items():
        print(f"start-up: {name} ...", flush=True)
        cache = tmp / f"startup-cache-{len(rows)}"
        env = {"POSEJAX_CACHE_DIR": str(cache)}
        cold = time_process(command, env)
        warm = _common.median([time_process(command, env) for _ in range(repeats)])
        ratio = f"{warm / mediapipe_s:.2f}" if mediapipe_s else "n/a"
        rows.append(["posejax", name, f"{warm:.2f}", f"{cold:.1f}", ratio])
    return rows


def reference_python() -> str:
    sys.path.insert(0, str(ROOT / "tools"))
    import reference_env

    return str(reference_env.ensure_reference_env())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="60 frames, complexity 1, video and batch of 8 only, warm cache")
    parser.add_argument("--frames", type=int, default=None, help="frames per video (300)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--complexities", type=int, nargs="+", default=None)
    parser.add_argument("--kinds", nargs="+",
                        choices=("video", "batch8", "static", "pose", "pose-static"),
                        default=None, help="posejax configurations to run (default: all)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up rows")
    parser.add_argument("--no-reference", action="store_true", help="skip mediapipe")
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        path, kind, complexity, repeats = args.worker
        print(json.dumps(posejax_worker(path, kind, int(complexity), int(repeats))))
        return 0

    n = args.frames or (60 if args.quick else 300)
    complexities = args.complexities or ([1] if args.quick else [0, 1, 2])
    kinds = args.kinds or (["video", "batch8"] if args.quick
                           else ["video", "batch8", "static", "pose", "pose-static"])
    with tempfile.TemporaryDirectory(prefix="posejax-bench-") as tmp:
        import numpy as np

        frames = _common.demo_frames(n)
        frames_path = str(Path(tmp) / "frames.npy")
        np.save(frames_path, frames)
        height, width = frames.shape[1:3]
        del frames
        print(f"{n} frames of {width} x {height} from {_common.DEMO_VIDEO.name}", flush=True)

        reference, pool = {}, {}
        processes = os.cpu_count() or 1
        python = None
        if not args.no_reference:
            python = reference_python()
            specs = [f"video:{c}" for c in complexities if not set(kinds) <= STATIC_KINDS]
            if STATIC_KINDS & set(kinds):
                specs.append("static:1")
            print("mediapipe 0.10.21, one process ...", flush=True)
            reference = mediapipe_runs(python, frames_path, args.repeats, specs, 1)[0]
            print(f"mediapipe 0.10.21, {processes} processes at once ...", flush=True)
            for spec in specs:  # one configuration at a time, so the processes overlap fully
                runs = mediapipe_runs(python, frames_path, args.repeats, [spec], processes)
                pool[spec] = {"fps": sum(n / _common.median(r[spec]["times"]) for r in runs),
                              "present": runs[0][spec]["present"]}

        rows = []
        for spec in [f"video:{c}" for c in complexities] + (["static:1"] if STATIC_KINDS &
                                                           set(kinds) else []):
            if spec in reference:
                r = reference[spec]
                fps = n / _common.median(r["times"])
                pool_fps = pool[spec]["fps"]
                rows.append([f"mediapipe {spec.replace(':', ' c')}", 1, f"{fps:.1f}", "1.00",
                             f"{fps / pool_fps:.2f}", f"{r['setup_s']:.2f} (graph set-up)", "",
                             f"{reference['peak_rss_mb']:.0f} (all configs)", r["present"]])
                rows.append([f"mediapipe pool {spec.replace(':', ' c')}",
                             f"{processes} (1 per process)", f"{pool_fps:.1f}",
                             f"{pool_fps / fps:.2f}", "1.00", "", "", "", pool[spec]["present"]])
        for complexity in complexities:
            for kind in kinds:
                if kind in STATIC_KINDS and complexity != 1:
                    continue
                label = f"posejax {kind} c{complexity}"
                print(f"{label} ...", flush=True)
                cache = str(Path(tmp) / f"cache-{kind}-{complexity}")
                if args.quick:
                    cold = run_worker([frames_path, kind, str(complexity), str(args.repeats)])
                    warm = None
                else:
                    env = {"POSEJAX_CACHE_DIR": cache}
                    cold = run_worker([frames_path, kind, str(complexity), str(args.repeats)],
                                      env)
                    warm = run_worker([frames_path, kind, str(complexity), "1"], env)
                steady = _common.median(cold["times"])
                fps = cold["frames"] / steady
                mode = "static" if kind in STATIC_KINDS else "video"
                ref = reference.get(f"{mode}:{complexity}")
                ratio = (f"{fps / (n / _common.median(ref['times'])):.2f}" if ref else "n/a")
                ref_pool = pool.get(f"{mode}:{complexity}")
                pool_ratio = f"{fps / ref_pool['fps']:.2f}" if ref_pool else "n/a"
                first = cold["first_s"] - steady
                warm_text = "" if warm is None else f"{warm['first_s'] - steady:.1f}"
                rows.append([label, cold["frames"] // n, f"{fps:.1f}", ratio, pool_ratio,
                             f"{first:.1f}" + (" (cache as found)" if args.quick else ""),
                             warm_text, f"{cold['peak_rss_mb']:.0f}",
                             cold["present"] // (cold["frames"] // n)])
        start_rows = [] if args.no_startup else startup_rows(python, Path(tmp), args.repeats)
    header = ["configuration", "videos", "frames/s", "x mediapipe (1 process)",
              f"x mediapipe pool ({processes} processes)", "first call - steady (s)",
              "warm start - steady (s)", "peak RSS (MiB)", "frames with pose (per video)"]
    table = _common.markdown_table(header, rows)
    start_table = _common.markdown_table(
        ["library", "first result of", "new process, warm caches (s)",
         "new process, empty cache (s)", "warm / mediapipe"], start_rows)
    print()
    print(table)
    print()
    print(start_table)
    if not args.no_results:
        _common.append_results(
            f"Pipeline: {n} frames of {width} x {height}" + (" (quick)" if args.quick else ""),
            table + "\n\nframes/s counts every frame of every video; ratios are against "
                    "mediapipe at the same complexity and mode, measured in the same run: one "
                    f"process, and the pool of {processes} processes (one per core) that a user "
                    "with many videos would run."
            + ("" if not start_rows else
               "\n\nStart-up: wall time of a new process until its first result, imports "
               f"included (median of {args.repeats}; the empty-cache run once).\n\n"
               + start_table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
