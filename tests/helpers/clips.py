"""Small video clips derived from test media at test time (never committed), and the command
line run as a subprocess that shares the tests' compilation caches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from posejax import io
from tests.helpers.reference_data import REPO

SPORTS2D = REPO / "datasets" / "sports2d_demo.mp4"


def write_walk_clip(path: Path, n_frames: int) -> Path:
    """The first ``n_frames`` of the bundled Sports2D clip at a quarter of its size (442 x 250
    once H.264 pads the odd height), written to ``path``."""
    frames = []
    for frame in io.read_video(SPORTS2D, chunk_size=32).frames():
        frames.append(frame[::4, ::4])
        if len(frames) == n_frames:
            break
    io.write_video(path, np.stack(frames), fps=30)
    return path


def truncated_copy(source: Path, path: Path, fraction: float) -> Path:
    """The first ``fraction`` of the bytes of ``source`` (a download cut short)."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def subprocess_env(**extra: str) -> dict:
    """The environment for a child Python: posejax importable from this checkout, and the
    tests' persistent caches (XLA executables, posejax's traced programs) shared."""
    import jax

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("JAX_COMPILATION_CACHE_DIR", jax.config.jax_compilation_cache_dir
                   or str(REPO / ".cache" / "jax"))
    env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
    env.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    env.setdefault("POSEJAX_CACHE_DIR", str(REPO / ".cache" / "posejax"))
    env.update(extra)
    return env


def run_posejax(*args: str, cwd: Path | None = None, timeout: int = 600):
    """``posejax ARGS`` (``python -m posejax.cli``) in a subprocess; the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "posejax.cli", *args], capture_output=True, text=True,
        cwd=cwd or REPO, env=subprocess_env(), timeout=timeout,
    )
