"""Write the notebooks in notebooks/ from the cell sources below (outputs are not stored).

Keeping the source here makes the notebooks reviewable as plain Python; the test
``tests/integration/test_notebooks.py`` runs every code cell of every notebook top to bottom.

Usage::

    python tools/make_notebooks.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOKS = {
    "01_joint_angles_from_a_video.ipynb": [
        ("markdown", """# Joint angles from a video

From the bundled demo clip (`datasets/sports2d_demo.mp4`, BSD-3 from the `sports2d` package) to
tidy landmark tables, joint angles over time, a skeleton overlay and the 3-D world pose.
Everything runs on the CPU; the first `posejax.track` call compiles the pipeline (about half a
minute), later calls and later sessions reuse the compiled program."""),
        ("code", """from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import posejax

ROOT = Path.cwd() if (Path.cwd() / "datasets").is_dir() else Path.cwd().parent
video = ROOT / "datasets" / "sports2d_demo.mp4"
track = posejax.track(video, model_complexity=1, progress=True)
print(track.landmarks.shape, f"{track.fps:.1f} fps,",
      f"pose on {track.pose_present.mean():.0%} of frames")"""),
        ("markdown", """## Tidy tables

`to_dataframe()` gives one row per frame and landmark (`layout="wide"` gives one row per frame,
DeepLabCut-style columns). Frames without a pose are NaN rows, never dropped."""),
        ("code", """df = track.to_dataframe()
df.head()"""),
        ("markdown", """## Knee and hip angles over time

Short dropouts are interpolated (at most 5 frames), then the `df.pose` accessor computes the angle
at each joint in the image plane (pixels, so the aspect ratio does not distort it) and in 3-D from
the world landmarks."""),
        ("code", """clean = df.pose.interpolate(max_gap=5)
joints = ("left_knee", "right_knee", "left_hip", "right_hip")
angles = {name: clean.pose.angle(name) for name in joints}
world_knee = clean.pose.angle("left_knee", space="world")
ax = clean.pose.plot(angles=["left_knee", "right_knee"])
ax.set_title("Knee angles (image plane)")
for name, series in angles.items():
    print(f"{name:10s} min {np.nanmin(series):6.1f} deg, max {np.nanmax(series):6.1f} deg")
print(f"left knee, 3-D: min {np.nanmin(world_knee):.1f} deg, max {np.nanmax(world_knee):.1f} deg")"""),
        ("markdown", "## The deepest knee bend, drawn on its frame"),
        ("code", """knee = angles["left_knee"].to_numpy()
frame_index = int(np.nanargmin(knee))
frames = posejax.read_video(video).frames()
image = next(frame for i, frame in enumerate(frames) if i == frame_index)
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), subplot_kw={})
posejax.draw.skeleton(image, track.landmarks[frame_index], ax=left)
left.set_title(f"frame {frame_index}: left knee {knee[frame_index]:.0f} deg")
right.remove()
right = fig.add_subplot(1, 2, 2, projection="3d")
posejax.draw.world(track.world_landmarks[frame_index], ax=right)
right.set_title("world landmarks (metres, hip-centred)")"""),
        ("markdown", "## Save for other tools"),
        ("code", """import tempfile

out = Path(tempfile.mkdtemp()) / "landmarks.csv"
posejax.write_landmarks(track, out)
back = posejax.read_landmarks(out)
print(out.name, back.shape)"""),
    ],
    "02_counting_squats.ipynb": [
        ("markdown", """# Counting squats

The bundled exercise models (`classify`) classify each frame as the top or bottom of a squat from
the landmark embedding, smooth the probabilities and count full cycles: standing, the bottom,
standing again. The clip is MediaPipe's own squat demo from the shared test media
(`../shared/data`, Apache-2.0; it is not redistributed in this repository)."""),
        ("code", """from pathlib import Path

import matplotlib.pyplot as plt

import classify
import posejax

ROOT = Path.cwd() if (Path.cwd() / "datasets").is_dir() else Path.cwd().parent
clip = ROOT.parent / "shared" / "data" / "videos" / "mp_docs_squats_5reps_overlay.mp4"
if not clip.exists():
    raise FileNotFoundError(f"{clip}: this notebook needs the shared test media "
                            "next to the repository")
track = posejax.track(clip, model_complexity=1)
print(f"{track.n_frames} frames, pose on {track.pose_present.mean():.0%}")"""),
        ("code", """result = classify.count_repetitions(track, exercise="squat")
print(result.summary())
result.reps.round(2)"""),
        ("markdown", """One row per repetition: where it starts (the last frame standing), turns (the deepest knee
angle) and ends (the first frame standing again), its duration, the knee angle at the bottom and
the range of motion, in degrees. A repetition counts only as a full cycle, standing, bottom and
standing again, so flickering poses at the bottom never add one. The knee angle over time, each
repetition shaded:"""),
        ("code", """ax = result.plot()"""),
        ("markdown", "Behind the count: the smoothed class probabilities the trained counter reads."),
        ("code", """frames = result.frames
fig, ax = plt.subplots(figsize=(10, 3.2))
for name in ("squat_up", "squat_down", "other"):
    ax.plot(frames["time"], frames[f"smoothed_{name}"], label=name)
ax.axhline(0.6, ls="--", c="grey", lw=0.8, label="pose reached")
ax.set_xlabel("time (s)")
ax.set_ylabel("smoothed probability")
ax.legend(loc="upper right", fontsize=8)"""),
    ],
    "03_counting_any_exercise.ipynb": [
        ("markdown", """# Counting an exercise no model was trained on

`classify.count_repetitions(track)` without a model looks at every joint angle (elbows,
shoulders, hips, knees; each side and their mean), keeps the stretches where one moves back and
forth periodically (cycles alike in duration, depth and body posture, confirmed by a second
signal, hips staying in place) and counts the full cycles of the strongest. Nothing tells it
which exercise this is. The clip: *Fitness Basic Dataset sample, Infinity AI, CC BY 4.0*
(lying leg raises, from the shared test media `../shared/data`; not redistributed here)."""),
        ("code", """from pathlib import Path

import matplotlib.pyplot as plt

import classify
import posejax

ROOT = Path.cwd() if (Path.cwd() / "datasets").is_dir() else Path.cwd().parent
clip = ROOT.parent / "shared" / "data" / "videos" / "infai_synthetic_leg_raises_6reps.mp4"
if not clip.exists():
    raise FileNotFoundError(f"{clip}: this notebook needs the shared test media "
                            "next to the repository")
track = posejax.track(clip, model_complexity=1)
result = classify.count_repetitions(track)
print(result.summary())"""),
        ("code", """ax = result.plot()"""),
        ("markdown", "Tempo and depth, repetition by repetition:"),
        ("code", """result.reps[["rep", "start_time", "end_time", "duration", "angle_at_bottom",
             "range_of_motion"]].round(2)"""),
        ("markdown", """Every candidate angle, and why the others were not counted (each periodic segment found,
accepted or not, with its reason):"""),
        ("code", """fig, ax = plt.subplots(figsize=(10, 3.2))
for name in ("hip", "knee", "elbow", "shoulder"):
    ax.plot(result.frames["time"], result.frames[f"{name}_angle"], label=f"{name} (both sides)")
ax.set_xlabel("time (s)")
ax.set_ylabel("angle (degrees)")
ax.legend(fontsize=8)
segments = result.frames.attrs["segments"]
both_sides = ("hip", "knee", "elbow", "shoulder")
[(s.signal, len(s.cycles), s.accepted, s.reason) for s in segments if s.signal in both_sides]"""),
    ],
}


def notebook(cells) -> dict:
    def cell(kind, source):
        lines = source.splitlines(keepends=True)
        base = {"cell_type": kind, "metadata": {}, "source": lines}
        if kind == "code":
            base.update(execution_count=None, outputs=[])
        return base

    return {
        "cells": [cell(kind, source) for kind, source in cells],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def main() -> int:
    folder = ROOT / "notebooks"
    folder.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        (folder / name).write_text(json.dumps(notebook(cells), indent=1) + "\n")
        print(f"wrote notebooks/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
