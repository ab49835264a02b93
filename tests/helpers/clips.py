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


#: Containers and codecs the fault-injection tests write: (suffix, codec, pixel format, options).
#: MP4 and MOV put their index first (``faststart``, as phones and web videos do) so a cut copy
#: still opens; with the index last a cut copy has none and does not open at all.
CONTAINERS = {
    "mp4-h264": (".mp4", "libx264", "yuv420p", {"movflags": "faststart"}),
    "mov-h264": (".mov", "libx264", "yuv420p", {"movflags": "faststart"}),
    "mkv-h264": (".mkv", "libx264", "yuv420p", {}),
    "webm-vp8": (".webm", "libvpx", "yuv420p", {}),
    "webm-vp9": (".webm", "libvpx-vp9", "yuv420p", {}),
    "avi-mjpeg": (".avi", "mjpeg", "yuvj420p", {}),
}


def write_moving_clip(path: Path, kind: str = "mkv-h264", n_frames: int = 150,
                      times=None, size=(96, 128)) -> Path:
    """A clip of ``n_frames`` frames of shifting noise (so every frame costs bytes) in the
    container and codec ``CONTAINERS[kind]``, at 30 fps, or at ``times`` (seconds, one per
    frame) as its presentation timestamps (millisecond time base)."""
    import fractions

    import av

    suffix, codec, pixel_format, options = CONTAINERS[kind]
    path = path.with_suffix(suffix)
    height, width = size
    base = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, pixel_format
        if times is not None:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for i in range(n_frames if times is None else len(times)):
            image = np.roll(base, 3 * i, axis=1)
            image[..., 0] = (20 + 2 * i) % 256
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if times is not None:
                frame.pts, frame.time_base = round(times[i] * 1000), fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def damaged_copy(source: Path, path: Path, n_bytes: int = 20_000) -> Path:
    """``source`` with ``n_bytes`` (at most a tenth of the file) of noise written over its
    middle (a bad sector, a broken download)."""
    data = bytearray(source.read_bytes())
    n_bytes = min(n_bytes, len(data) // 10)
    start = len(data) // 2
    data[start:start + n_bytes] = np.random.default_rng(1).integers(
        0, 256, n_bytes, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path
