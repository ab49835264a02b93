"""Repetition counting on every counted clip: the trained counter and the any-exercise counter.

For each clip of ``datasets/counted_clips.csv`` (the shared test media plus bundled clips), track
the pose with posejax (full model) and count with

* the **trained** counter, ``count_repetitions(track, model, exercise=...)``, with a model trained
  **without the clip** (and without clips cut from the same footage); the leg-raise clip is the
  only one of its exercise, so each half of it is counted by a model trained on the other half;
* the **any-exercise** counter, ``count_repetitions(track)``, told nothing.

Clips without exercise are counted by the trained counter with every exercise's left-out model.
Reported per counter: MAE (mean of ``|count - truth| / truth``), OBO (share of clips off by at
most one), exact (share exactly right), the share of true turning points matched by a reported
``bottom_frame`` within a quarter of a repetition, and the repetitions counted on clips without
exercise. No threshold is tuned on any clip (the counters' defaults are used throughout).

    python benchmarks/bench_reps.py                 # tracks every clip (about 5 min)
    python benchmarks/bench_reps.py --fixture       # the committed landmarks of the test fixture
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, append_results, markdown_table  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data"
sys.path.insert(0, str(ROOT / "tools"))
from make_rep_fixtures import bottom_ranges, clip_path, frames_of, read_clips, read_tracks  # noqa: E402


def tracks_from_video(sources, data: Path) -> dict:
    import posejax

    tracks = {}
    for source in sources:
        path = clip_path(source, data)
        if not path.is_file():
            print(f"skipping {source}: {path} is missing", file=sys.stderr)
            continue
        tracks[source] = posejax.track(str(path), model_complexity=1)
    return tracks


def bottoms_matched(reported, bottoms: str) -> tuple[int, int]:
    """How many true turning points a reported frame matches within a quarter repetition."""
    ranges = bottom_ranges(bottoms)
    if not ranges:
        return 0, 0
    period = np.median(np.diff([a for a, _ in ranges])) if len(ranges) > 1 else np.inf
    free = list(reported)
    matched = 0
    for a, b in ranges:
        distance = [max(a - f, f - b, 0) for f in free]
        if distance and min(distance) <= period / 4:
            free.pop(int(np.argmin(distance)))
            matched += 1
    return matched, len(ranges)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", action="store_true", help="use the committed landmarks")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared test media")
    parser.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)

    import classify
    from classify.exercises import EXERCISES, fit_exercise_model

    clips = read_clips()
    start = time.perf_counter()
    sources = list(clips["source"])
    tracks = read_tracks() if args.fixture else tracks_from_video(sources, args.data)
    X, y = classify.load_fitness_poses()
    frame_table = classify.load_fitness_poses(as_frame=True)
    groups = classify.fitness_pose_groups()

    def model_without(exercise, sources, keep=None):
        held = np.isin(groups, sources) if keep is None else ~keep
        return fit_exercise_model(X[~held], y[~held], exercise)

    rows, scores = [], {"trained": [], "any": []}
    matches = {"trained": [0, 0], "any": [0, 0]}
    false_counts = {"trained": 0, "any": 0}
    for row in clips.itertuples():
        if row.source not in tracks:
            continue
        track = tracks[row.source]
        truth = int(row.reps)
        accepted = {truth} | ({int(row.also_accepted)} if row.also_accepted else set())
        anything = classify.count_repetitions(track)
        if row.exercise:
            if set(groups[y == EXERCISES[row.exercise].up]) == {row.source}:
                # the exercise's only clip: each half counted by a model of the other half
                trained, reported = 0, []
                half = track.n_frames // 2
                clip = groups == row.source
                for first in (True, False):
                    keep = ~clip | ((frame_table["frame"].to_numpy() < half) == first)
                    begin, stop = (half, track.n_frames) if first else (0, half)
                    sub = frames_of(track, begin, stop)
                    result = classify.count_repetitions(
                        sub, model_without(row.exercise, None, keep), exercise=row.exercise
                    )
                    trained += result.count
                    reported += [f + begin for f in result.reps["bottom_frame"]]
                how = "halves"
            else:
                model = model_without(row.exercise, [row.source, *row.same_footage.split()])
                result = classify.count_repetitions(track, model, exercise=row.exercise)
                trained, reported = result.count, list(result.reps["bottom_frame"])
                how = "left out"
            for name, count, frames in (("trained", trained, reported),
                                        ("any", anything.count,
                                         list(anything.reps["bottom_frame"]))):  # fmt: skip
                # a count in `accepted` is right (an unfinished last repetition may count)
                error = 0 if count in accepted else min(abs(count - a) for a in accepted)
                scores[name].append((error / truth, error <= 1, error == 0))
                hit, total = bottoms_matched(frames, row.bottoms)
                matches[name][0] += hit
                matches[name][1] += total
            trained_cell = f"{trained} ({how})"
        else:
            per_model = {}
            for name in EXERCISES:
                model = model_without(name, [row.source])
                per_model[name] = classify.count_repetitions(track, model, exercise=name).count
            trained = sum(per_model.values())
            false_counts["trained"] += trained
            false_counts["any"] += anything.count
            trained_cell = ", ".join(f"{k} {v}" for k, v in per_model.items())
        truth_cell = "/".join(str(a) for a in sorted(accepted))
        rows.append([Path(row.source).name, row.exercise or "(none)", row.view or "-",
                     truth_cell, trained_cell, anything.count, anything.what])  # fmt: skip
    elapsed = time.perf_counter() - start

    table = markdown_table(
        ["clip", "exercise", "view", "truth", "trained counter (model without the clip)",
         "any-exercise counter", "movement it counted"],
        rows,
    )  # fmt: skip
    summary_rows = []
    for name, label in (("trained", "trained, left-out models"), ("any", "any-exercise")):
        values = np.array(scores[name], dtype=np.float64)
        hit, total = matches[name]
        summary_rows.append([
            label, len(values), f"{values[:, 0].mean():.3f}", f"{values[:, 1].mean():.2f}",
            f"{values[:, 2].mean():.2f}", f"{hit}/{total} ({hit / max(total, 1):.0%})",
            false_counts[name],
        ])  # fmt: skip
    summary = markdown_table(
        ["counter", "counted clips", "MAE", "OBO", "exact", "true bottoms matched",
         "reps on clips without exercise"],
        summary_rows,
    )  # fmt: skip
    source = "committed fixture landmarks" if args.fixture else "posejax.track, model_complexity=1"
    body = (f"Landmarks: {source}. {len(rows)} clips, {elapsed:.0f} s in all.\n\n{table}\n\n"
            f"{summary}\n\nMAE: mean |count - truth| / truth; OBO: off by at most one; a bottom "
            "matches when a reported `bottom_frame` is within a quarter repetition of a true "
            "turning point (counted by eye).")
    print(body)
    if not args.no_write:
        append_results("Repetition counting", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
