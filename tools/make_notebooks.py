"""Write the notebooks in notebooks/ from the cell sources below, executed, with their outputs.

Keeping the source here makes the notebooks reviewable as plain Python, and storing them executed
lets a reader on GitHub (and the docs, which render them without running them) see the tables and
figures. ``tests/integration/test_notebooks.py`` checks that every stored notebook's cells equal
the cells below (so stored outputs cannot drift from the code) and runs every code cell top to
bottom.

Executing needs Jupyter (``pip install -e '.[docs]'``) and the shared test media next to the
repository (``../shared/data``, or the folder ``$POSEJAX_SHARED_DATA`` names), read by
``02_counting_squats`` and ``03_counting_any_exercise``; without their clip those two only say
what to download. Figures are stored as PNG at :data:`FIGURE_DPI` dots per inch to keep each
notebook small.

Usage::

    python tools/make_notebooks.py               # write and execute every notebook
    python tools/make_notebooks.py --no-execute  # write the cells only, without outputs
    python tools/make_notebooks.py 02_counting_squats.ipynb   # only the notebooks named
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
#: Resolution of the stored PNG figures (matplotlib's inline default is 100).
FIGURE_DPI = 72
#: Seconds a cell may run (the first cell compiles the pipeline).
CELL_TIMEOUT = 900

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
standing again. The clip is MediaPipe's own squat demo (Apache-2.0), which this repository does
not redistribute: it is `videos/mp_docs_squats_5reps_overlay.mp4` of the shared test media, in
`../shared/data` next to the repository or in the folder the environment variable
`POSEJAX_SHARED_DATA` names. To make it yourself, download
`https://github.com/google/mediapipe/raw/master/docs/images/mobile/pose_classification_pushups_and_squats.gif`
and keep its bottom panel at 10 fps:
`ffmpeg -i pose_classification_pushups_and_squats.gif -vf "crop=310:172:0:178,fps=10" -pix_fmt yuv420p mp_docs_squats_5reps_overlay.mp4`.
Without the clip, the first cell says so and the others do nothing."""),
        ("code", """import os
from pathlib import Path

import matplotlib.pyplot as plt

import classify
import posejax

ROOT = Path.cwd() if (Path.cwd() / "datasets").is_dir() else Path.cwd().parent
DATA = Path(os.environ.get("POSEJAX_SHARED_DATA", ROOT.parent / "shared" / "data"))
clip = DATA / "videos" / "mp_docs_squats_5reps_overlay.mp4"
HAVE_CLIP = clip.is_file()
if HAVE_CLIP:
    track = posejax.track(clip, model_complexity=1)
    print(f"{track.n_frames} frames, pose on {track.pose_present.mean():.0%}")
else:
    print(f"{clip} is missing: make it as the introduction says (or set POSEJAX_SHARED_DATA "
          "to the folder holding videos/); the cells below do nothing without it.")"""),
        ("code", """if HAVE_CLIP:
    result = classify.count_repetitions(track, exercise="squat")
    print(result.summary())
result.reps.round(2) if HAVE_CLIP else None"""),
        ("markdown", """One row per repetition: where it starts (the last frame standing), turns (the deepest knee
angle) and ends (the first frame standing again), its duration, the knee angle at the bottom and
the range of motion, in degrees. A repetition counts only as a full cycle, standing, bottom and
standing again, so flickering poses at the bottom never add one. The knee angle over time, each
repetition shaded:"""),
        ("code", """ax = result.plot() if HAVE_CLIP else None"""),
        ("markdown", "Behind the count: the smoothed class probabilities the trained counter reads."),
        ("code", """if HAVE_CLIP:
    frames = result.frames
    fig, ax = plt.subplots(figsize=(10, 3.2), layout="constrained")
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
(lying leg raises), not redistributed in this repository: it is
`videos/infai_synthetic_leg_raises_6reps.mp4` of the shared test media, in `../shared/data` next
to the repository or in the folder the environment variable `POSEJAX_SHARED_DATA` names. It is
`fitness-basic/sample_data/000000.mp4` of the GitHub repository `toinfinityai/infinity-datasets`:
download it under that name. Without the clip, the first cell says so and the others do
nothing."""),
        ("code", """import os
from pathlib import Path

import matplotlib.pyplot as plt

import classify
import posejax

ROOT = Path.cwd() if (Path.cwd() / "datasets").is_dir() else Path.cwd().parent
DATA = Path(os.environ.get("POSEJAX_SHARED_DATA", ROOT.parent / "shared" / "data"))
clip = DATA / "videos" / "infai_synthetic_leg_raises_6reps.mp4"
HAVE_CLIP = clip.is_file()
if HAVE_CLIP:
    track = posejax.track(clip, model_complexity=1)
    result = classify.count_repetitions(track)
    print(result.summary())
else:
    print(f"{clip} is missing: download it as the introduction says (or set "
          "POSEJAX_SHARED_DATA to the folder holding videos/); the cells below do nothing "
          "without it.")"""),
        ("code", """ax = result.plot() if HAVE_CLIP else None"""),
        ("markdown", "Tempo and depth, repetition by repetition:"),
        ("code", """columns = ["rep", "start_time", "end_time", "duration", "angle_at_bottom",
           "range_of_motion"]
result.reps[columns].round(2) if HAVE_CLIP else None"""),
        ("markdown", """Every candidate angle, and why the others were not counted (each periodic segment found,
accepted or not, with its reason):"""),
        ("code", """both_sides = ("hip", "knee", "elbow", "shoulder")
if HAVE_CLIP:
    fig, ax = plt.subplots(figsize=(10, 3.2), layout="constrained")
    for name in both_sides:
        ax.plot(result.frames["time"], result.frames[f"{name}_angle"],
                label=f"{name} (both sides)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("angle (degrees)")
    ax.legend(fontsize=8)
    segments = result.frames.attrs["segments"]
([(s.signal, len(s.cycles), s.accepted, s.reason) for s in segments if s.signal in both_sides]
 if HAVE_CLIP else None)"""),
    ],
    "04_training_a_pose_classifier.ipynb": [
        ("markdown", """# Training a pose classifier on tables of several videos

Label the frames of two exercises, train a k-NN pose classifier with scikit-learn, measure it by
**video** (a frame of a clip the model was trained on says little about a new clip), and count the
repetitions on a video it never saw. Everything runs on the landmarks bundled with `classify`
(`classify/data/fitness_poses.npz`: numbers computed from Apache-2.0 clips, no pixels), so this
notebook needs no video."""),
        ("code", """import warnings

import pandas as pd
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

import classify

table = classify.fitness_pose_table()  # a long posejax table: 33 rows per frame
two = table[table["label"].str.startswith(("squat", "pushup"))]
HELD_OUT = "videos/mp_docs_squats_5reps_overlay.mp4"  # counted at the end, never trained on
train = two[two["video"] != HELD_OUT]
train.groupby(["video", "label"], observed=True)["frame"].nunique().unstack(fill_value=0)"""),
        ("markdown", """## One row per frame

scikit-learn splits the rows of `X` as samples; a long table has 33 per frame.
`classify.pose_frames` gives the wide layout, one row per frame indexed by `(video, frame)`,
and the labels on the same index (here from the table's `label` column; a Series indexed by
`(video, frame)` works too, and frames without a label are left out)."""),
        ("code", """X, y = classify.pose_frames(train, labels="label")
groups = X.index.get_level_values("video")
print(f"{len(train)} table rows -> {len(X)} frames of {groups.nunique()} videos")
X.iloc[:3, :6]"""),
        ("markdown", """## Cross-validation by video

`GroupKFold` on `video` keeps every frame of a video in the same fold, so each score is that of
clips the model never saw. The pipeline embeds world landmarks (metres, the same for any camera
distance) and classifies them with MediaPipe's two-stage k-NN."""),
        ("code", """model = make_pipeline(classify.PoseEmbedder(coordinates="world"),
                      classify.KNNPoseClassifier())
cv = GroupKFold(n_splits=3)
scores = cross_validate(model, X, y, groups=groups, cv=cv, return_indices=True)
pd.DataFrame({
    "test videos": [sorted(set(groups[i])) for i in scores["indices"]["test"]],
    "frames": [len(i) for i in scores["indices"]["test"]],
    "accuracy": scores["test_score"].round(2),
})"""),
        ("markdown", """The third fold holds out every source of push-ups (the clip and both halves of a still
image): trained on squats only, the model cannot name a push-up. That is what grouping by video
shows and a random split of frames would hide (each push-up frame would have its neighbours in
the training set). The remedy is more videos, not more frames of the same one.

The classifier's parameters are tuned the same way, with `GridSearchCV` on the pipeline:"""),
        ("code", """search = GridSearchCV(model, {"knnposeclassifier__top_n_by_mean_distance": [3, 10, 20]},
                      cv=cv)
search.fit(X, y, groups=groups)
print(search.best_params_, f"mean accuracy by video {search.best_score_:.2f}")"""),
        ("markdown", """## Frames without a pose

A clip where the person is lost for some frames has NaN rows there. `fit` leaves them out and
says how many; `predict` labels them `classify.NO_POSE` (`"no_pose"`) and `predict_proba` gives
them NaN. The held-out clip has only its labelled frames in the bundled set, so as a track its
other frames (on the way up or down) have no pose:"""),
        ("code", """import posejax

clip = classify.fitness_pose_table(HELD_OUT)
track = posejax.PoseTrack.from_dataframe(clip)
fitted = search.best_estimator_
predicted = pd.Series(fitted.predict(track))
print(f"{track.n_frames} frames, {(~track.pose_present).sum()} without a pose")
predicted.value_counts()"""),
        ("markdown", """Training on such a track works the same: its labels, one per frame of the track, are
missing where there is no pose, and those frames are left out with a warning:"""),
        ("code", """labels = clip.groupby("frame")["label"].first().reindex(range(track.n_frames))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    make_pipeline(classify.PoseEmbedder(coordinates="world"),
                  classify.KNNPoseClassifier()).fit(track, labels)
print(caught[0].message)"""),
        ("markdown", """## Counting repetitions on the held-out video

The trained model drives `classify.count_repetitions`: a repetition is a full cycle from the rest
pose (`squat_up`) through the turning pose (`squat_down`) and back. The clip holds 5 squats,
counted by eye (the shared media's `MANIFEST.md`)."""),
        ("code", """result = classify.count_repetitions(clip, fitted, "squat_down", rest_class="squat_up")
print(result.summary())
result.reps[["rep", "start_time", "end_time", "duration", "angle_at_bottom"]].round(2)"""),
        ("markdown", """The knee angle over the clip, each repetition shaded (the straight stretches on the way down
and up bridge the frames without a pose):"""),
        ("code", """ax = result.plot()"""),
    ],
}


def notebook(cells) -> dict:
    """The notebook (nbformat 4, as a dict) of ``cells``, without outputs."""

    def cell(index, kind, source):
        lines = source.splitlines(keepends=True)
        # Fixed ids (nbformat 4.5 requires one per cell) keep regenerated files diffable.
        base = {"cell_type": kind, "id": f"cell-{index}", "metadata": {}, "source": lines}
        if kind == "code":
            base.update(execution_count=None, outputs=[])
        return base

    return {
        "cells": [cell(i, kind, source) for i, (kind, source) in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def execute(nb):
    """``nb`` run top to bottom in a fresh Python kernel started in notebooks/, with outputs.

    The kernel imports this checkout's packages (the repository root goes first on
    ``PYTHONPATH``) and gets its own IPython profile, so that a user's startup files or
    matplotlib settings do not reach the stored outputs.
    """
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(nb), as_version=4)
    with tempfile.TemporaryDirectory() as ipython_dir:
        profile = Path(ipython_dir) / "profile_default"
        profile.mkdir()
        (profile / "ipython_kernel_config.py").write_text(
            f"c.InlineBackend.figure_formats = ['png']\n"
            f"c.InlineBackend.rc = {{'figure.dpi': {FIGURE_DPI}}}\n")
        env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
        env["IPYTHONDIR"] = ipython_dir
        # tqdm.auto's note that ipywidgets is missing: its text bar is what a reader should see.
        env["PYTHONWARNINGS"] = "ignore:IProgress not found:Warning"
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        client = NotebookClient(node, timeout=CELL_TIMEOUT, kernel_name="python3",
                                record_timing=False, resources={"metadata": {"path": str(FOLDER)}})
        client.execute(env=env)
    return _tidy(node)


def _tidy(nb):
    """Stored outputs without terminal redraws: consecutive writes to one stream become one
    output, and a progress bar keeps only its last state."""
    for cell in nb["cells"]:
        cell["metadata"].pop("execution", None)
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output["output_type"] == "stream" and previous is not None
                    and previous["output_type"] == "stream" and previous["name"] == output["name"]):
                previous["text"] += output["text"]
            else:
                merged.append(output)
        for output in merged:
            if output["output_type"] == "stream":
                output["text"] = "".join(re.split(r"\r(?!\n)", line)[-1]
                                         for line in output["text"].splitlines(keepends=True))
        if "outputs" in cell:
            cell["outputs"] = merged
    return nb


def code_cells(nb) -> list[str]:
    """The source of every code cell of ``nb`` (a dict or an nbformat node), in order."""
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NOTEBOOK",
                        help="notebooks to write (default: all of them)")
    parser.add_argument("--no-execute", dest="execute", action="store_false",
                        help="write the cells only, without running them (no outputs)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NOTEBOOKS))
    if unknown:
        parser.error(f"unknown notebooks {unknown}; choose from {sorted(NOTEBOOKS)}")
    import nbformat

    FOLDER.mkdir(exist_ok=True)
    for name in args.names or NOTEBOOKS:
        nb = notebook(NOTEBOOKS[name])
        nb = execute(nb) if args.execute else nbformat.reads(json.dumps(nb), as_version=4)
        nbformat.validate(nb)
        text = nbformat.writes(nb) + "\n"
        (FOLDER / name).write_text(text)
        state = "executed" if args.execute else "not executed"
        print(f"wrote notebooks/{name} ({state}, {len(text.encode()) / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
