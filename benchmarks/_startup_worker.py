"""Runs one case of ``bench_startup.py`` in a new process, under posejax or mediapipe 0.10.21.

Usage: ``python _startup_worker.py MODULE CASE FRAMES.npz`` with MODULE ``posejax`` or
``mediapipe``. Prints one JSON object: the seconds from the interpreter's start to the end of the
imports, and the wall time of each step of the case (a step is what a user waits for: one call on
a new frame size or clip length, its frames' own compute included). Runs in the reference venv
too, so it needs nothing but NumPy and the module under test.
"""

import json
import sys
import time

STARTED = time.perf_counter()   # as close to the interpreter's start as a script gets

import numpy as np  # noqa: E402

#: The steps of each case: (label, kind, array name in FRAMES.npz).
CASES = {
    # The "photo of a size not seen before": one Pose(static_image_mode=True) on photos
    # of six sizes, the first of which the warm cache holds.
    "photos": [(f"photo {name[6:]}", "static", name) for name in (
        "photo_548x342", "photo_540x342", "photo_733x491", "photo_1001x1333",
        "photo_1920x1080", "photo_3840x2160")],
    # Pose() frame by frame: 10 frames of a size the cache does not hold.
    "pose10": [("Pose() 10 frames 720x1280", "video", "clip_720x1280")],
    # posejax.track of short clips of four lengths, at the size the cache holds.
    "clips": [(f"track {n} frames 548x342", "track", f"clip{n}_548x342") for n in (1, 7, 20, 21)],
    # posejax.track of a 45-frame clip at a new size.
    "clip45": [("track 45 frames 1280x720", "track", "clip45_1280x720")],
    # The first result of a new process: one photo, as the start-up table measures it.
    "first": [("Pose().process(image)", "video-one", "photo_1768x994"),
              ("Pose().process(image) again", "video-one", "photo_1768x994")],
    # What fills a "warm" cache: one size, one clip length.
    "seed": [("seed photo", "static", "photo_548x342"),
             ("seed Pose()", "video", "clip64_548x342"),
             ("seed track", "track", "clip64_548x342")],
}


def main() -> None:
    module_name, case, frames_path = sys.argv[1:4]
    if module_name == "posejax":
        import posejax as mp
    else:
        import mediapipe as mp
    imported = time.perf_counter() - STARTED
    arrays = np.load(frames_path)
    steps = {}
    static_pose = None
    for label, kind, name in CASES[case]:
        frames = arrays[name]
        start = time.perf_counter()
        if kind == "static":
            if static_pose is None:
                static_pose = mp.solutions.pose.Pose(static_image_mode=True)
            static_pose.process(frames)
        elif kind == "video-one":
            result = mp.solutions.pose.Pose().process(frames)
            assert result.pose_landmarks is not None, "no pose in the start-up image"
        elif kind == "track" and module_name == "posejax":
            mp.track(frames, progress=False)
        else:   # Pose() frame by frame; mediapipe's way of tracking a clip
            with mp.solutions.pose.Pose() as pose:
                for frame in frames:
                    pose.process(frame)
        steps[label] = time.perf_counter() - start
    print(json.dumps({"import_s": imported, "steps": steps,
                      "done_s": time.perf_counter() - STARTED}))


if __name__ == "__main__":
    main()
