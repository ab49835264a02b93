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

With ``--variants``, every counted clip is also counted in transformed versions (all of them
synthetic landmark edits of ``tools/rep_transforms.py``, none a re-tracked video): a walk-in and
walk-out spliced before and after, an 8 s pause at rest between sets, tempo 0.6x, 1.6x and rising
from 0.6x to 1.6x, the mirror image, the first repetition cut in half, 3 s without a person
between sets, two thirds of the movement walked into and out of (a wall push-up), and walk +
pause + changing tempo at once; and a made-up pedestrian crossing the picture (6 s, no
exercise) must count 0. The trained counter uses the clip's left-out model on every
version of it (the leg raises: each part by the model of the other half of the clip).

    python benchmarks/bench_reps.py                 # tracks every clip (about 5 min)
    python benchmarks/bench_reps.py --fixture       # the committed landmarks of the test fixture
    python benchmarks/bench_reps.py --fixture --variants   # and their transformed versions
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The checkout's classify, not whichever one the environment has installed (an editable install
# of another worktree would be benchmarked instead); one imported before this script runs wins.
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from _common import ROOT, append_results, markdown_table  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data"
sys.path.insert(0, str(ROOT / "tools"))
from make_rep_fixtures import bottom_ranges, clip_path, frames_of, read_clips, read_tracks  # noqa: E402
from rep_transforms import variants, walk_alone  # noqa: E402


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
    parser.add_argument("--variants", action="store_true",
                        help="also count transformed versions of every counted clip")
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

    fitted = {}

    def model_without(exercise, sources, keep=None):
        # every version of a clip is counted by the same left-out model: fit it once
        held = np.isin(groups, sources) if keep is None else ~keep
        key = (exercise, np.flatnonzero(held).tobytes())
        if key not in fitted:
            fitted[key] = fit_exercise_model(X[~held], y[~held], exercise)
        return fitted[key]

    def trained_counter(row, track, source):
        """Count with models that never saw the clip; ``source``: the clip frame of each frame."""
        if set(groups[y == EXERCISES[row.exercise].up]) != {row.source}:
            model = model_without(row.exercise, [row.source, *row.same_footage.split()])
            result = classify.count_repetitions(track, model, exercise=row.exercise)
            return result.count, list(result.reps["bottom_frame"]), "left out"
        # the exercise's only clip: each half counted by a model of the other half
        total, reported = 0, []
        original_half = tracks[row.source].n_frames // 2
        half = int(np.flatnonzero(source >= original_half)[0])
        clip = groups == row.source
        for first in (True, False):
            keep = ~clip | ((frame_table["frame"].to_numpy() < original_half) == first)
            begin, stop = (half, track.n_frames) if first else (0, half)
            result = classify.count_repetitions(
                frames_of(track, begin, stop), model_without(row.exercise, None, keep),
                exercise=row.exercise,
            )
            total += result.count
            reported += [f + begin for f in result.reps["bottom_frame"]]
        return total, reported, "halves"

    def score(store, name, count, accepted, truth, frames, bottoms):
        # a count in `accepted` is right (an unfinished last repetition may count)
        error = 0 if count in accepted else min(abs(count - a) for a in accepted)
        store["scores"][name].append((error / truth, error <= 1, error == 0))
        hit, total = bottoms_matched(frames, bottoms)
        if error == 0:  # turning points are judged where the count is right
            store["matches"][name][0] += hit
            store["matches"][name][1] += total

    def new_store():
        return {"scores": {"trained": [], "any": []},
                "matches": {"trained": [0, 0], "any": [0, 0]}}  # fmt: skip

    rows, originals, by_variant, variant_rows = [], new_store(), {}, []
    false_counts = {"trained": 0, "any": 0}
    for row in clips.itertuples():
        if row.source not in tracks:
            continue
        track = tracks[row.source]
        truth = int(row.reps)
        accepted = {truth} | ({int(row.also_accepted)} if row.also_accepted else set())
        anything = classify.count_repetitions(track)
        if row.exercise:
            trained, reported, how = trained_counter(row, track, np.arange(track.n_frames))
            for name, count, frames in (("trained", trained, reported),
                                        ("any", anything.count,
                                         list(anything.reps["bottom_frame"]))):  # fmt: skip
                score(originals, name, count, accepted, truth, frames, row.bottoms)
            trained_cell = f"{trained} ({how})"
            if args.variants:
                cells = {}
                for variant in variants(track, accepted, row.bottoms):
                    store = by_variant.setdefault(variant.name, new_store())
                    got = trained_counter(row, variant.track, variant.source)
                    other = classify.count_repetitions(variant.track)
                    for name, count, frames in (("trained", got[0], got[1]),
                                                ("any", other.count,
                                                 list(other.reps["bottom_frame"]))):  # fmt: skip
                        score(store, name, count, variant.accepted, max(variant.accepted),
                              frames, variant.bottoms)
                    right = "/".join(str(a) for a in sorted(variant.accepted))
                    cells[variant.name] = f"{right}: {got[0]} / {other.count}"
                variant_rows.append((Path(row.source).name, cells))
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
    def summary_rows(store, label_prefix=""):
        out = []
        for name, label in (("trained", "trained, left-out models"), ("any", "any-exercise")):
            values = np.array(store["scores"][name], dtype=np.float64).reshape(-1, 3)
            hit, total = store["matches"][name]
            out.append([
                f"{label_prefix}{label}", len(values), f"{values[:, 0].mean():.3f}",
                f"{values[:, 1].mean():.2f}", f"{values[:, 2].mean():.2f}",
                f"{hit}/{total} ({hit / max(total, 1):.0%})",
            ])  # fmt: skip
        return out

    header = ["counter", "counted clips", "MAE", "OBO", "exact",
              "true bottoms matched (right counts)"]  # fmt: skip
    summary = markdown_table(
        [*header, "reps on clips without exercise"],
        [r + [false_counts[k]]
         for r, k in zip(summary_rows(originals), ("trained", "any"), strict=True)],
    )  # fmt: skip
    if args.variants:
        walk = walk_alone()
        walk_counts = {"any": classify.count_repetitions(walk).count}
        walk_counts["trained"] = sum(
            classify.count_repetitions(walk, exercise=name).count for name in EXERCISES
        )
        every = new_store()
        variant_summary = []
        for name, store in by_variant.items():
            variant_summary += summary_rows(store, f"{name}: ")
            for key in ("trained", "any"):
                every["scores"][key] += store["scores"][key]
                every["matches"][key][0] += store["matches"][key][0]
                every["matches"][key][1] += store["matches"][key][1]
        variant_summary += summary_rows(every, "all versions: ")
        summary += (
            "\n\nTransformed versions (synthetic landmark edits, see `tools/rep_transforms.py`); "
            "each cell is `right count(s): trained / any-exercise`:\n\n"
            + markdown_table(["clip", *by_variant],
                             [[clip, *(cells.get(v, "-") for v in by_variant)]
                              for clip, cells in variant_rows])
            + "\n\n" + markdown_table(header, variant_summary)
            + "\n\nA made-up pedestrian crossing the picture (6 s, no exercise): any-exercise "
            f"counter {walk_counts['any']}, trained counter (every bundled exercise) "
            f"{walk_counts['trained']}."
        )  # fmt: skip
    source = "committed fixture landmarks" if args.fixture else "posejax.track, model_complexity=1"
    body = (f"Landmarks: {source}. {len(rows)} clips, {elapsed:.0f} s in all.\n\n{table}\n\n"
            f"{summary}\n\nMAE: mean |count - truth| / truth; OBO: off by at most one; a bottom "
            "matches when a reported `bottom_frame` is within a quarter repetition of a true "
            "turning point (counted by eye), counted on clips whose count is right.")
    print(body)
    if not args.no_write:
        append_results("Repetition counting", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
