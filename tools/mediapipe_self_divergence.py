"""How chaotic is MediaPipe's own video tracking? (Run with the reference venv's python.)

Tracks a clip twice with mediapipe 0.10.21: once as decoded, once with every frame perturbed by
one least-significant bit at a few random pixels, and prints the share of frames whose median
landmark distance between the two runs is <= 3 px, the video-parity metric of the test suite. It
tells how close *any* re-implementation can be expected to stay on that clip (spec 12 f).

Usage: .refvenv/bin/python tools/mediapipe_self_divergence.py VIDEO [--pixels 16] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
from reference_data import load_video_frames  # noqa: E402


def run(frames):
    import mediapipe as mp

    out = np.full((len(frames), 33, 2), np.nan)
    with mp.solutions.pose.Pose(model_complexity=1) as pose:
        for i, frame in enumerate(frames):
            result = pose.process(frame)
            if result.pose_landmarks is not None:
                out[i] = [(lm.x, lm.y) for lm in result.pose_landmarks.landmark]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video")
    parser.add_argument("--pixels", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frames = load_video_frames(args.video)
    rng = np.random.default_rng(args.seed)
    perturbed = frames.copy()
    t, h, w = frames.shape[:3]
    for i in range(t):
        ys, xs = rng.integers(0, h, args.pixels), rng.integers(0, w, args.pixels)
        cell = perturbed[i, ys, xs].astype(np.int16)
        perturbed[i, ys, xs] = np.where(cell < 255, cell + 1, cell - 1).astype(np.uint8)
    a, b = run(frames), run(perturbed)
    both = ~np.isnan(a[:, 0, 0]) & ~np.isnan(b[:, 0, 0])
    presence = np.mean(np.isnan(a[:, 0, 0]) == np.isnan(b[:, 0, 0]))
    err = np.hypot((a[both, :, 0] - b[both, :, 0]) * w, (a[both, :, 1] - b[both, :, 1]) * h)
    median = np.median(err, axis=1)
    print(f"{Path(args.video).name}: {t} frames, {args.pixels} pixels +-1 per frame: presence "
          f"agrees on {presence:.1%}; median error <= 3 px on {np.mean(median <= 3):.1%} of "
          f"frames; worst frame median {median.max():.1f} px")


if __name__ == "__main__":
    main()
