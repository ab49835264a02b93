"""Build the bundled fitness pose set ``classify/data/fitness_poses.npz`` with posejax.

For every source listed in ``datasets/fitness_labels.csv`` (clips and still images of the shared
test media, read from ``../shared/data`` next to the repository), run ``posejax.track`` with the
full model (video mode for clips, static-image mode for stills) and keep the landmarks and world
landmarks of the labelled frames. The label file holds frame ranges chosen by looking at the
frames, never by a classifier. No pixels are stored, only landmarks and labels.

Usage::

    python tools/make_fitness_dataset.py                       # writes classify/data/...
    python tools/make_fitness_dataset.py --data /path/to/shared/data --out /tmp/poses.npz

Then check the counts with ``python tools/make_fitness_dataset.py --report`` (leave-one-clip-out
accuracy of the bundled models and repetition counts on the exercise clips).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data"
DEFAULT_LABELS = REPO / "datasets" / "fitness_labels.csv"
DEFAULT_OUT = REPO / "classify" / "data" / "fitness_poses.npz"
MODEL_COMPLEXITY = 1


def read_labels(path: Path) -> list[dict]:
    """Rows of the label file, with ``frames`` expanded to a sorted list of frame indices."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    rows = []
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        frames = []
        for part in row["frames"].split():
            first, last = (int(v) for v in part.split("-"))
            if last < first:
                raise ValueError(f"{path}: empty range {part!r} in {row}")
            frames.extend(range(first, last + 1))
        if len(set(frames)) != len(frames):
            raise ValueError(f"{path}: overlapping ranges in {row}")
        rows.append({**row, "frames": frames})
    seen: dict[tuple[str, str, int], str] = {}
    for row in rows:
        for frame in row["frames"]:
            key = (row["source"], row["crop"], frame)
            if key in seen and seen[key] != row["label"]:
                raise ValueError(f"frame {key} labelled both {seen[key]} and {row['label']}")
            seen[key] = row["label"]
    return rows


def track_source(data: Path, source: str, crop: str):
    """``posejax.track`` of one clip, or of one still image (optionally a band of its rows)."""
    from posejax.track import track

    path = data / source
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; see ../shared/data/MANIFEST.md")
    if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
        from PIL import Image

        image = np.asarray(Image.open(path).convert("RGB"))
        if crop:
            first, last = (int(v) for v in crop.split(":"))
            image = image[first:last]
        return track(image[None], model_complexity=MODEL_COMPLEXITY, static_image_mode=True)
    if crop:
        raise ValueError(f"crop applies to still images, not to {source}")
    # The committed set was tracked on MediaPipe's Python clock (the default before files
    # smoothed on their own timestamps); keep it so it regenerates the same.
    return track(str(path), model_complexity=MODEL_COMPLEXITY, mediapipe_clock=True)


def build(data: Path, labels: Path) -> dict[str, np.ndarray]:
    """Track every source and collect the labelled frames into arrays."""
    rows = read_labels(labels)
    columns: dict[str, list] = {
        key: [] for key in ("clip", "frame", "view", "label", "landmarks", "world", "size")
    }
    tracks = {}
    for row in rows:
        key = (row["source"], row["crop"])
        if key not in tracks:
            print(f"tracking {row['source']} {row['crop']}", file=sys.stderr, flush=True)
            tracks[key] = track_source(data, *key)
        track = tracks[key]
        clip = row["source"] + (f"[{row['crop']}]" if row["crop"] else "")
        missing = []
        for frame in row["frames"]:
            if frame >= track.n_frames:
                raise ValueError(f"{clip} has {track.n_frames} frames, label asks for {frame}")
            if not track.pose_present[frame]:
                missing.append(frame)
                continue
            columns["clip"].append(clip)
            columns["frame"].append(frame)
            columns["view"].append(row["view"])
            columns["label"].append(row["label"])
            columns["landmarks"].append(track.landmarks[frame])
            columns["world"].append(track.world_landmarks[frame])
            columns["size"].append(track.image_sizes[frame])
        if missing:
            print(f"  {clip} {row['label']}: no pose on frames {missing}", file=sys.stderr)
    return {
        "clip": np.array(columns["clip"]),
        "frame": np.array(columns["frame"], dtype=np.int32),
        "view": np.array(columns["view"]),
        "label": np.array(columns["label"]),
        "landmarks": np.stack(columns["landmarks"]).astype(np.float32),
        "world_landmarks": np.stack(columns["world"]).astype(np.float32),
        "image_size": np.stack(columns["size"]).astype(np.int32),
        "model_complexity": np.array(MODEL_COMPLEXITY),
    }


def report(data: Path) -> None:
    """Leave-one-clip-out frame accuracy, and counts of the bundled and left-out models."""
    import classify

    for name in classify.EXERCISES:
        table = classify.leave_one_clip_out(name)
        print(f"\n{name}: leave-one-clip-out frame accuracy")
        print(table.to_string(index=False))
    # Repetition counts of every counted clip (bundled, left-out and any-exercise counters) are
    # measured by benchmarks/bench_reps.py, which writes them to benchmarks/RESULTS.md.
    print("\nrepetition counts: python benchmarks/bench_reps.py")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared test media")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="label file")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="npz to write")
    parser.add_argument("--report", action="store_true", help="only print the LOCO report")
    args = parser.parse_args(argv)
    if args.report:
        report(args.data.resolve())
        return 0
    arrays = build(args.data.resolve(), args.labels)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    labels, counts = np.unique(arrays["label"], return_counts=True)
    summary = dict(zip(labels.tolist(), counts.tolist(), strict=True))
    print(f"wrote {args.out}: {len(arrays['label'])} poses {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
