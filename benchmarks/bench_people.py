"""Several people per video: ``posejax.track(num_poses=N)`` against the Tasks ``PoseLandmarker``.

The videos are made in memory from the shared one-person clips (``tests/helpers/composites.py``;
nothing derived from them is written), so where each person is and what tracking them alone
gives is known by construction, plus the first frames of a real multi-person video:

* side by side: push-ups | squats (57 frames at 10 fps, 620x174), and squats (the 640x360 clip,
  scaled) | lying leg raises at 12 fps (the first 5.9 s);
* crossing: two squatting men whose windows swap sides on a 930-pixel canvas, the second drawn
  over the first (100 frames, the clips played forwards then backwards); and the same with the
  push-up woman in place of the first man;
* leave and return: push-ups | squats, the squatting man slides out of the picture (frames
  25-34), stays out 1 s and slides back (frames 45-54);
* ``pose2sim_multiperson_cam01.mp4``: the first frames (two large people and small ones behind).

For posejax ``num_poses=N`` and posejax's drop-in of MediaPipe Tasks' ``PoseLandmarker`` (VIDEO
mode, full model, ``num_poses=N``, which has no identities: its pose ``i`` is the ``i``-th of
each frame's list) it reports, per N:

* **found**: the share of frames in which each person is found (a pose whose hip centre is
  within 30 px of that person's tracked alone), and the mean number of poses per frame;
* **switches**: identity switches, both ways: a pose index (slot) going from its first person
  to the other one, and a person going from one pose index to another (found again in a new
  slot); a pose follows the person whose hip centre is nearest to its own, within 60 px
  (frames where the two people are within 30 px of each other say nothing). Also the frames on
  which a pose index follows the wrong person, and **spurious**: poses within 60 px of nobody
  (pose-frames: duplicates on part of a person, drawings);
* **error vs alone**: median and 95th percentile landmark distance (pixels, 33 landmarks) to
  the person's clip tracked alone (``num_poses=1``), on frames where both have the person:
  posejax's slot that follows the person most, on the frames it follows them; Tasks' pose
  nearest them on each frame (it has no identities);
* **frames/s**: tracking speed (compiling excluded: each configuration runs once on the first
  frames before it is timed).

On the real video there is no truth: **jumps** counts a pose index moving more than a tenth of
the frame's height between consecutive frames (a proxy for identity switches).

    python benchmarks/bench_people.py                 # about 5 minutes on 2 busy cores
    python benchmarks/bench_people.py --real-frames 30 --no-write
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The checkout's posejax and tests.helpers, not an installed one.
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from _common import append_results, markdown_table  # noqa: E402

from tests.helpers import composites  # noqa: E402
from tests.helpers.composites import PUSHUPS, SQUATS  # noqa: E402

SQUATS_WORLD = "mp_docs_squats_world_landmarks_overlay.mp4"
LEG_RAISES = "infai_synthetic_leg_raises_6reps.mp4"
REAL = "pose2sim_multiperson_cam01.mp4"
FOUND_PX = 30.0
MATCH_PX = 60.0


def scenarios(real_frames: int):
    """(name, composite or None, frames, fps, the Ns to run)."""
    pair = composites.load_cast([PUSHUPS, SQUATS])
    pair100 = composites.load_cast([PUSHUPS, SQUATS], frames=100, ping_pong=True)
    men = composites.load_cast([SQUATS_WORLD, SQUATS], fps=10, height=172, frames=100,
                               ping_pong=True)
    other = composites.load_cast([SQUATS_WORLD, LEG_RAISES], fps=12, height=174)
    made = [
        ("side by side: push-ups / squats", composites.side_by_side(pair), (1, 2, 4)),
        ("side by side: squats (640x360 clip) / leg raises", composites.side_by_side(other),
         (1, 2, 4)),
        ("crossing: squats (640x360 clip) / squats", composites.crossing(men, width=930),
         (1, 2, 4)),
        ("crossing: push-ups / squats", composites.crossing(pair100, width=930), (2,)),
        ("leave and return: push-ups / squats (leaves)",
         composites.leave_and_return(pair100, leave=25, away=10, slide=10), (1, 2, 4)),
    ]
    for name, composite, ns in made:
        yield name, composite, composite.frames, composite.fps, ns
    from posejax.io.video import read_video

    reader = read_video(composites.SHARED_DATA / "videos" / REAL)
    frames = []
    for chunk in reader:
        frames.append(chunk)
        if sum(len(c) for c in frames) >= real_frames:
            break
    frames = np.concatenate(frames)[:real_frames]
    yield f"{REAL} (first {real_frames} frames)", None, frames, float(reader.fps), (1, 2, 4)


def run_posejax(frames, fps, n):
    """Poses ``(T, N, 33, 5)`` (canvas-normalized, NaN where none), frames/s, the track."""
    import posejax

    posejax.track(frames[:3], num_poses=n, fps=fps)  # compile (or load) outside the timing
    start = time.perf_counter()
    track = posejax.track(frames, num_poses=n, fps=fps)
    elapsed = time.perf_counter() - start
    landmarks = track.landmarks if n > 1 else track.landmarks[:, None]
    return np.asarray(landmarks, np.float64), len(frames) / elapsed, track


def run_tasks(frames, fps, n):
    """Tasks' poses per frame, padded to ``(T, n, 33, 5)`` in list order, and frames/s."""
    import posejax as mp

    vision = mp.tasks.vision

    def landmarker():
        return vision.PoseLandmarker.create_from_options(vision.PoseLandmarkerOptions(
            base_options=mp.tasks.BaseOptions(model_asset_path="pose_landmarker_full.task"),
            running_mode=vision.RunningMode.VIDEO, num_poses=n))

    def run(clip):
        out = np.full((len(clip), n, 33, 5), np.nan)
        with landmarker() as lm:
            for t, rgb in enumerate(clip):
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
                poses = lm.detect_for_video(image, int(round(t * 1000 / fps))).landmarks
                out[t, :len(poses)] = poses
        return out

    run(frames[:3])
    start = time.perf_counter()
    out = run(frames)
    return out, len(frames) / (time.perf_counter() - start)


def score(composite, truth, poses, per_frame_match: bool) -> dict:
    """Found shares, switches and errors of ``poses (T, N, 33, 5)`` against the truth."""
    size = composite.size
    ids = composites.identities(poses, truth, size, ambiguous_px=FOUND_PX,
                                match_px=MATCH_PX)
    distance = ids["distance"]                                   # (T, N, P)
    found = np.nan_to_num(distance, nan=np.inf).min(axis=1) < FOUND_PX   # (T, P)
    errors = []
    for person, person_truth in enumerate(truth):
        if per_frame_match:       # Tasks: the pose nearest the person on each frame
            slot = np.argmin(np.nan_to_num(distance[:, :, person], nan=np.inf), axis=1)
            chosen = poses[np.arange(len(poses)), slot]
            chosen[~found[:, person]] = np.nan
        else:                     # posejax: the slot that follows the person most
            followed = (ids["nearest"] == person).sum(axis=0)
            if followed.max() == 0:
                errors.append(np.array([np.nan]))
                continue
            slot = int(np.argmax(followed))
            chosen = poses[:, slot].copy()
            chosen[ids["nearest"][:, slot] != person] = np.nan   # frames it holds someone else
        errors.append(composites.pixel_errors(chosen, person_truth, size).ravel())
    present = np.isfinite(poses[..., 0, 0])
    # judged only where every person's clip tracked alone has hips
    known = np.stack([np.isfinite(composites.hips(t, size)[:, 0]) for t in truth], 1).all(1)
    far = np.nan_to_num(distance, nan=np.inf).min(axis=-1) > MATCH_PX
    spurious = present & known[:, None] & far
    return {"found": found.mean(axis=0), "switches": int(ids["switches"].sum()),
            "person_switches": int(ids["person_switches"].sum()),
            "wrong": int(ids["wrong"].sum()), "spurious": int(spurious.sum()), "errors": errors}


def jumps(poses, height_px_share: float = 0.1) -> int:
    hips = composites.hips(poses, (1, 1))           # normalized
    step = np.linalg.norm(np.diff(hips, axis=0), axis=-1)
    return int((step > height_px_share).sum())


def fmt_errors(errors) -> str:
    cells = []
    for e in errors:
        e = e[np.isfinite(e)]
        cells.append(f"{np.median(e):.1f} / {np.percentile(e, 95):.1f}" if len(e) else "-")
    return ", ".join(cells)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-frames", type=int, default=60,
                        help="frames of the real multi-person video")
    parser.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)

    import classify
    import posejax

    rows, real_rows, notes = [], [], []
    begin = time.perf_counter()
    for name, composite, frames, fps, ns in scenarios(args.real_frames):
        size = f"{frames.shape[2]}x{frames.shape[1]}"
        print(f"{name}: {len(frames)} frames {size}", flush=True)
        truth = None
        if composite is not None:
            alone = [posejax.track(p.frames, fps=fps).landmarks for p in composite.people]
            truth = composites.truth_in_canvas(composite, alone)
        for n in ns:
            ours, ours_fps, track = run_posejax(frames, fps, n)
            theirs, theirs_fps = run_tasks(frames, fps, n)
            for method, poses, speed in (("posejax", ours, ours_fps),
                                         ("Tasks", theirs, theirs_fps)):
                present = np.isfinite(poses[..., 0, 0])
                if truth is None:
                    real_rows.append([name, size, method, n, f"{present.sum(axis=1).mean():.2f}",
                                      f"{present.sum(axis=1).min()}-{present.sum(axis=1).max()}",
                                      jumps(poses), f"{speed:.1f}"])
                    continue
                s = score(composite, truth, poses, per_frame_match=method == "Tasks")
                rows.append([name, f"{len(frames)}, {size}", method, n,
                             ", ".join(f"{f:.0%}" for f in s["found"]),
                             f"{present.sum(axis=1).mean():.2f}",
                             f"{s['switches']} / {s['person_switches']} ({s['wrong']})",
                             s["spurious"], fmt_errors(s["errors"]),
                             f"{speed:.1f}"])
                print("  ", rows[-1], flush=True)
            if composite is not None and n == 2 and composite.people[0].reps and \
                    composite.frames.shape[0] == len(composite.people[0].frames) and \
                    name.startswith("side by side: push-ups"):
                ids = composites.identities(ours, truth, composite.size, match_px=MATCH_PX)
                counts = []
                for person, clip in enumerate(composite.people):
                    slot = int(np.argmax((ids["nearest"] == person).sum(axis=0)))
                    got = classify.count_repetitions(track.individual(slot),
                                                     exercise=clip.exercise).count
                    counts.append(f"{clip.exercise} {got} (truth {clip.reps})")
                notes.append(f"Repetitions counted on each posejax slot of '{name}' "
                             f"(num_poses=2): {', '.join(counts)}.")
    elapsed = time.perf_counter() - begin

    table = markdown_table(
        ["composite", "frames, size", "method", "N", "found (each person)", "poses/frame",
         "switches: slot / person (wrong frames)", "spurious",
         "error vs alone px: median / p95 (each person)",
         "frames/s"], rows)
    real = markdown_table(["video", "size", "method", "N", "poses/frame", "min-max",
                           "jumps > 0.1 height", "frames/s"], real_rows)
    body = (
        "Composites of the shared one-person clips made in memory (`tests/helpers/"
        "composites.py`: clips padded with black rows to a common height, black canvas), "
        "small frame counts to fit a busy 2-core CPU; Tasks is posejax's drop-in "
        "`PoseLandmarker` (VIDEO mode, full model), which has no identities (its pose i is "
        "the i-th of each frame's list; errors take its pose nearest each person). "
        "Person 0 is the first clip named. Found: a pose whose hip centre is within 30 px of "
        "the person's clip tracked alone; errors are to that track (all 33 landmarks; "
        "posejax: the person's slot on the frames it follows them). "
        "Switches: a slot (pose index) moving to the other person / a person moving to another "
        "slot, a pose following the person nearest it within 60 px; spurious: pose-frames "
        "within 60 px of nobody. Frames/s: warm (compiled beforehand), on a 2-core CPU shared "
        "with other jobs, so compare within a row group only.\n\n"
        f"{table}\n\n{chr(10).join(notes)}\n\nThe real video has no truth: poses per frame, "
        f"and jumps of a pose index's hip centre by more than a tenth of the frame's height "
        f"between consecutive frames.\n\n{real}\n\nTotal run {elapsed / 60:.1f} min "
        f"(compiling included)."
    )
    print(body)
    if not args.no_write:
        append_results("Several people per video (bench_people.py)", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
