"""Benchmark posejax.track_videos: serially, on a 2-worker Dask cluster, memory over a stream.

* Videos: N copies of a clip from the bundled demo video (its first 60 frames at a quarter of the
  size, 442 x 250), tracked by ``track_videos`` into Parquet files, serially in this process and
  then on a ``distributed.LocalCluster(n_workers=2, threads_per_worker=1)``. Each side first runs
  a warm-up job (compilation, and loading the programs in each worker) that is not timed.
  Reported: videos/s, frames/s, and the peak RSS (``VmHWM``) of this process and of each worker.
* Stream: one video of ``--stream-frames`` frames (the clip played forwards and backwards, written
  to a temporary MP4), tracked by the task the workers run (:func:`posejax.batch.process_video`)
  in a fresh process, with the RSS sampled after every decoded chunk. Reported: RSS after the
  first 1,000 frames, the largest RSS after that, the growth between the two, and VmHWM.

A table is printed and appended to ``benchmarks/RESULTS.md``. Figures on a shared machine are
indicative: other processes compete for the same cores.

Usage::

    python benchmarks/bench_videos.py            # 16 copies, a 20,000-frame stream
    python benchmarks/bench_videos.py --quick    # 6 copies, a 5,000-frame stream (few minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

CLIP_FRAMES = 60


def write_clip(path: Path, n_frames: int) -> Path:
    """Write the bundled demo's first ``CLIP_FRAMES`` frames at quarter size, looped.

    The clip plays forwards and backwards to ``n_frames``, written chunk by chunk (memory stays
    small for long streams).
    """
    import numpy as np

    from posejax.io import read_video, write_video

    frames = []
    for frame in read_video(_common.DEMO_VIDEO).frames():
        frames.append(frame[::4, ::4])
        if len(frames) == CLIP_FRAMES:
            break
    cycle = np.stack(frames + frames[-2:0:-1])

    def chunks():
        for start in range(0, n_frames, 256):
            index = np.arange(start, min(n_frames, start + 256)) % len(cycle)
            yield cycle[index]

    return write_video(path, chunks(), fps=30)


def vm_status(field: str) -> float:
    """Read ``VmRSS`` or ``VmHWM`` of this process, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_peak_rss() -> float:
    """Report this Dask worker's peak RSS in MiB (run on each worker)."""
    return vm_status("VmHWM")


class RssCounter:
    """A stand-in for the frames progress bar that samples the RSS after every chunk."""

    def __init__(self):
        self.frames = 0
        self.samples = []

    def update(self, n: int) -> None:
        """Count ``n`` more frames and sample the RSS."""
        self.frames += n
        self.samples.append((self.frames, vm_status("VmRSS")))


def stream_worker(video: str, output: str) -> dict:
    """Track one long video as a worker's task does, sampling the RSS (in a fresh process)."""
    from posejax import batch

    options = batch._normalized_options({})
    counter = RssCounter()
    start = time.perf_counter()
    row = batch.process_video({"video": video, "output": output}, options, bar=counter)
    seconds = time.perf_counter() - start
    if row["status"] != "done":
        raise RuntimeError(row["error"])
    after = [rss for frames, rss in counter.samples if frames >= 1000]
    at_1000 = after[0]
    return {"frames": row["frames"], "seconds": seconds, "rss_1000": at_1000,
            "rss_max_after": max(after), "growth": max(after) - at_1000,
            "hwm": vm_status("VmHWM")}


def run_batch(videos: list[Path], output: Path, client=None) -> tuple[float, object]:
    """Time one ``track_videos`` run; every video must be done."""
    import posejax

    start = time.perf_counter()
    index = posejax.track_videos(videos, output, client=client, progress=False)
    seconds = time.perf_counter() - start
    if not (index.status == "done").all():
        raise RuntimeError(f"not every video was done:\n{index}")
    return seconds, index


def main() -> None:
    """Run the benchmark and append its tables to RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 copies, a 5,000-frame stream")
    parser.add_argument("--copies", type=int, default=None, help="videos per run (default 16)")
    parser.add_argument("--stream-frames", type=int, default=None,
                        help="frames of the long stream (default 20000)")
    parser.add_argument("--stream-only", action="store_true",
                        help="measure only the memory over the long stream")
    parser.add_argument("--stream-worker", nargs=2, metavar=("VIDEO", "OUTPUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_worker:
        print(json.dumps(stream_worker(*args.stream_worker)))
        return
    copies = args.copies or (6 if args.quick else 16)
    stream_frames = args.stream_frames or (5000 if args.quick else 20000)

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_videos_") as tmp:
        tmp = Path(tmp)
        if not args.stream_only:
            rows = batch_rows(tmp, copies)
        memory = stream_memory(tmp, stream_frames)

    table = _common.markdown_table(
        ["run", "videos (60 frames, 442 x 250)", "videos/s", "frames/s", "peak RSS MiB"], rows)
    stream_table = _common.markdown_table(
        ["stream frames", "frames/s", "RSS after 1,000 frames MiB", "max RSS after MiB",
         "growth MiB", "VmHWM MiB"],
        [[memory["frames"], f"{memory['frames'] / memory['seconds']:.1f}",
          f"{memory['rss_1000']:.0f}", f"{memory['rss_max_after']:.0f}",
          f"{memory['growth']:.0f}", f"{memory['hwm']:.0f}"]])
    body = (f"One long stream tracked as a worker's task (process_video in a fresh process), RSS "
            f"sampled after every chunk:\n\n{stream_table}")
    title = "track_videos: memory over a long stream"
    if rows:
        title = "track_videos: serial vs a 2-worker Dask cluster, memory over a long stream"
        body = (f"posejax.track_videos, model complexity 1, Parquet output; each run after an "
                f"untimed warm-up (compilation) on its side.\n\n{table}\n\n{body}")
    print(body)
    _common.append_results(title, body)


def batch_rows(tmp: Path, copies: int) -> list[list]:
    """Time ``copies`` videos serially and on a 2-worker cluster; the table's rows."""
    import distributed

    rows = []
    clip = write_clip(tmp / "clip.mp4", CLIP_FRAMES)
    videos = []
    for i in range(copies + 2):
        videos.append(tmp / "in" / f"clip{i:03d}.mp4")
        videos[-1].parent.mkdir(exist_ok=True)
        shutil.copy(clip, videos[-1])
    warm, timed = videos[:2], videos[2:]
    frames = CLIP_FRAMES * copies

    run_batch(warm, tmp / "warm_serial")
    serial, _ = run_batch(timed, tmp / "serial")
    rows.append(["serial, this process", copies, f"{copies / serial:.2f}",
                 f"{frames / serial:.1f}", f"{_common.peak_rss_mb():.0f} (this process)"])
    print(rows[-1], flush=True)

    cache = {k: v for k, v in os.environ.items()
             if k.startswith(("POSEJAX_", "JAX_", "XLA_"))}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, env=cache) as cluster, \
            distributed.Client(cluster) as client:
        run_batch(warm, tmp / "warm_cluster", client)
        parallel, _ = run_batch(timed, tmp / "cluster", client)
        peaks = client.run(worker_peak_rss)
    rss = ", ".join(f"{v:.0f}" for v in peaks.values())
    rows.append(["2-worker LocalCluster", copies, f"{copies / parallel:.2f}",
                 f"{frames / parallel:.1f}", f"{rss} (each worker)"])
    print(rows[-1], flush=True)
    return rows


def stream_memory(tmp: Path, stream_frames: int) -> dict:
    """Track a ``stream_frames``-frame video in a fresh process; its memory figures."""
    stream = write_clip(tmp / "stream.mp4", stream_frames)
    proc = subprocess.run([sys.executable, __file__, "--stream-worker", str(stream),
                           str(tmp / "stream.parquet")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    memory = json.loads(proc.stdout.strip().splitlines()[-1])
    print(memory, flush=True)
    return memory


if __name__ == "__main__":
    main()
