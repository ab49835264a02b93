"""Landmarks of every counted clip, for the repetition-counting tests and benchmark.

Tracks each clip of ``datasets/counted_clips.csv`` with ``posejax.track`` (full model, video
mode) and writes ``tests/fixtures/reps/counted_clip_tracks.npz``: for clip ``i``, the arrays
``i/landmarks``, ``i/world_landmarks``, ``i/pose_present``, ``i/image_sizes`` and ``i/fps``, and
``sources`` naming the clips. Numbers only: the clips' pixels stay in ../shared/data.

    python tools/make_rep_fixtures.py                       # writes the fixture
    python tools/make_rep_fixtures.py --data /path/to/shared/data --out /tmp/tracks.npz

Regenerate after any change to posejax's landmark output (``tests/integration/test_reps.py``
checks the fixture against today's tracking on one clip).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data"
CLIPS_CSV = REPO / "datasets" / "counted_clips.csv"
DEFAULT_OUT = REPO / "tests" / "fixtures" / "reps" / "counted_clip_tracks.npz"


def clip_path(source: str, data: Path) -> Path:
    """Where a clip of the CSV lives: bundled ``datasets/...`` or under the shared media."""
    return REPO / source if source.startswith("datasets/") else data / source


def read_clips() -> pd.DataFrame:
    """The rows of ``datasets/counted_clips.csv``, every column a string ("" when empty)."""
    return pd.read_csv(CLIPS_CSV, comment="#", dtype=str).fillna("")


def bottom_ranges(text: str) -> list[tuple[int, int]]:
    """The ``bottoms`` column ("9-11 19-20") as inclusive frame ranges."""
    return [tuple(map(int, item.split("-"))) for item in text.split()]


def read_tracks(path: Path = DEFAULT_OUT) -> dict:
    """The fixture as one :class:`posejax.PoseTrack` per source."""
    from posejax import PoseTrack

    tracks = {}
    with np.load(path) as data:
        for i, name in enumerate(data["sources"]):
            present = data[f"{i}/pose_present"]
            fps = float(data[f"{i}/fps"])
            tracks[str(name)] = PoseTrack(
                landmarks=data[f"{i}/landmarks"],
                world_landmarks=data[f"{i}/world_landmarks"],
                pose_present=present,
                rois=np.zeros((len(present), 5), np.float32),
                timestamps=np.arange(len(present)) / fps,
                image_sizes=data[f"{i}/image_sizes"],
                fps=fps,
            )
    return tracks


def frames_of(track, first: int, stop: int):
    """The frames ``first .. stop - 1`` of a one-video track, as a track."""
    keep = slice(first, stop)
    return dataclasses.replace(
        track,
        landmarks=track.landmarks[keep],
        world_landmarks=track.world_landmarks[keep],
        pose_present=track.pose_present[keep],
        rois=track.rois[keep],
        timestamps=track.timestamps[keep],
        image_sizes=track.image_sizes[keep],
        segmentation_mask=None,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared test media")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    import posejax

    clips = read_clips()
    arrays: dict[str, np.ndarray] = {"sources": clips["source"].to_numpy(dtype=str)}
    for i, source in enumerate(clips["source"]):
        path = clip_path(source, args.data)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; see ../shared/data/MANIFEST.md")
        # The committed fixtures were tracked on MediaPipe's Python clock (the default before
        # files smoothed on their own timestamps); keep it so they regenerate the same.
        track = posejax.track(str(path), model_complexity=1, mediapipe_clock=True)
        arrays |= {
            f"{i}/landmarks": track.landmarks.astype(np.float32),
            f"{i}/world_landmarks": track.world_landmarks.astype(np.float32),
            f"{i}/pose_present": track.pose_present,
            f"{i}/image_sizes": track.image_sizes.astype(np.int32),
            f"{i}/fps": np.float64(track.fps),
        }
        print(f"{source}: {track.n_frames} frames, {int(track.pose_present.sum())} with a pose",
              file=sys.stderr)  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
