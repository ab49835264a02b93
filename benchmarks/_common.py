"""Helpers shared by the benchmark scripts: timing, machine description, RESULTS.md."""

from __future__ import annotations

import datetime
import os
import platform
import resource
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
DEMO_VIDEO = ROOT / "datasets" / "sports2d_demo.mp4"


def timed(fn, repeats: int) -> list[float]:
    """Wall times of ``repeats`` calls of ``fn()``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median(values) -> float:
    return float(statistics.median(values))


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB.

    Read from ``VmHWM`` in /proc/self/status: ``getrusage``'s ``ru_maxrss`` survives ``execve``,
    so a worker started by a parent holding the decoded video would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import jax

        versions = f"jax {jax.__version__}, backend {jax.default_backend()}"
    except ImportError:
        versions = "jax not installed"
    return (f"{cpu}, {os.cpu_count()} cores visible, Python {platform.python_version()}, "
            f"{versions}")


def demo_frames(count: int):
    """``count`` RGB frames of the bundled demo clip, played forwards then backwards as often as
    needed (a continuous movement, so tracking is never broken by a jump)."""
    import numpy as np

    from posejax.io import read_video

    frames = np.concatenate(list(read_video(DEMO_VIDEO)))
    cycle = np.concatenate([frames, frames[-2:0:-1]])
    index = np.arange(count) % len(cycle)
    return np.ascontiguousarray(cycle[index])


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def append_results(title: str, body: str) -> None:
    """Append a dated section (machine, command, ``body``) to benchmarks/RESULTS.md."""
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT),
                                                            *sys.argv[1:]])
    text = (f"\n## {title} ({when})\n\nMachine: {machine_description()}  \n"
            f"Command: `{command}`\n\n{body}\n")
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by the scripts in this folder; the "
                           "newest section is last.\n")
    with RESULTS.open("a") as handle:
        handle.write(text)
