"""posejax.track against mediapipe 0.10.21's ``solutions.pose`` on the same frames, on this machine.

The bundled demo clip (1768 x 994) is decoded once into memory (played forwards and backwards to
the requested length) and written to a temporary .npy that every worker process reads, so both
sides process identical RGB arrays. Each configuration runs in its own process:

* mediapipe (its own venv, ``tools/reference_env.py`` creates it when missing): video mode at
  complexities 0, 1, 2 and static mode at complexity 1, one ``Pose`` per repeat, graph set-up
  excluded;
* posejax: one video, a batch of 8 videos (the clip 8 times, one vmapped computation) and static
  mode, each first in a process with an empty cache folder (cold: tracing and XLA compilation),
  then in a second process that finds the cache filled (warm start).

Reported: frames/s (median of the repeats after the first call), the ratio to mediapipe at the same
complexity and mode, the first-call overhead (first call minus a steady call: load, trace,
compile), and the peak RSS of the process. A table is printed and appended to
``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_pipeline.py            # 300 frames, complexities 0-2, 3 repeats
    python benchmarks/bench_pipeline.py --quick    # 60 frames, complexity 1, in ~2 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

ROOT = _common.ROOT


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
    static = kind == "static"

    def call():
        return posejax.track(data, model_complexity=complexity, static_image_mode=static)

    first = _common.timed(call, 1)[0]
    times = _common.timed(call, repeats)
    result = call()
    present = np.asarray(result.pose_present).reshape(-1)
    return {"first_s": first, "times": times, "frames": int(batch * len(frames)),
            "present": int(present.sum()), "peak_rss_mb": _common.peak_rss_mb()}


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
    kinds = ["video", "batch8"] if args.quick else ["video", "batch8", "static"]
    with tempfile.TemporaryDirectory(prefix="posejax-bench-") as tmp:
        import numpy as np

        frames = _common.demo_frames(n)
        frames_path = str(Path(tmp) / "frames.npy")
        np.save(frames_path, frames)
        height, width = frames.shape[1:3]
        del frames
        print(f"{n} frames of {width} x {height} from {_common.DEMO_VIDEO.name}", flush=True)

        reference = {}
        if not args.no_reference:
            specs = [f"video:{c}" for c in complexities]
            if "static" in kinds:
                specs.append("static:1")
            print("mediapipe 0.10.21 ...", flush=True)
            proc = subprocess.run([reference_python(), str(Path(__file__).parent /
                                   "_mediapipe_worker.py"), frames_path, str(args.repeats),
                                   *specs], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"mediapipe worker failed:\n{proc.stderr[-3000:]}")
            reference = json.loads(proc.stdout.strip().splitlines()[-1])

        rows = []
        for spec in [f"video:{c}" for c in complexities] + (["static:1"] if "static" in kinds
                                                           else []):
            if spec in reference:
                r = reference[spec]
                fps = n / _common.median(r["times"])
                rows.append([f"mediapipe {spec.replace(':', ' c')}", 1, f"{fps:.1f}", "1.00",
                             f"{r['setup_s']:.2f} (graph set-up)", "",
                             f"{reference['peak_rss_mb']:.0f} (all configs)", r["present"]])
        for complexity in complexities:
            for kind in kinds:
                if kind == "static" and complexity != 1:
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
                mode = "static" if kind == "static" else "video"
                ref = reference.get(f"{mode}:{complexity}")
                ratio = (f"{fps / (n / _common.median(ref['times'])):.2f}" if ref else "n/a")
                first = cold["first_s"] - steady
                warm_text = "" if warm is None else f"{warm['first_s'] - steady:.1f}"
                rows.append([label, cold["frames"] // n, f"{fps:.1f}", ratio,
                             f"{first:.1f}" + (" (cache as found)" if args.quick else ""),
                             warm_text, f"{cold['peak_rss_mb']:.0f}",
                             cold["present"] // (cold["frames"] // n)])
    header = ["configuration", "videos", "frames/s", "x mediapipe", "first call - steady (s)",
              "warm start - steady (s)", "peak RSS (MiB)", "frames with pose (per video)"]
    table = _common.markdown_table(header, rows)
    print()
    print(table)
    if not args.no_results:
        _common.append_results(
            f"Pipeline: {n} frames of {width} x {height}" + (" (quick)" if args.quick else ""),
            table + "\n\nframes/s counts every frame of every video; ratios are against "
                    "mediapipe at the same complexity and mode, measured in the same run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
