"""Runs inside the reference venv (mediapipe 0.10.21): times ``mp.solutions.pose`` on frames.

Usage: ``python _mediapipe_worker.py FRAMES.npy REPEATS MODE:COMPLEXITY ...`` with MODE ``video``
or ``static``. Prints one JSON object: per configuration the wall times of processing all frames
with a new ``Pose`` (graph set-up excluded), the set-up time and the frames with a pose; and the
worker's peak RSS.
"""

import json
import sys
import time

import mediapipe as mp
import numpy as np


def main():
    frames = np.load(sys.argv[1])  # in memory, as posejax gets them
    repeats = int(sys.argv[2])
    results = {}
    for spec in sys.argv[3:]:
        mode, complexity = spec.split(":")
        static = mode == "static"

        def make(static=static, complexity=int(complexity)):
            return mp.solutions.pose.Pose(static_image_mode=static, model_complexity=complexity)

        start = time.perf_counter()
        with make() as pose:  # warm-up: graph set-up and the first frames
            setup = time.perf_counter() - start
            for frame in frames[:10]:
                pose.process(frame)
        times, present = [], 0
        for _ in range(repeats):
            with make() as pose:
                present = 0
                start = time.perf_counter()
                for frame in frames:
                    present += pose.process(frame).pose_landmarks is not None
                times.append(time.perf_counter() - start)
        results[spec] = {"times": times, "setup_s": setup, "present": present}
    # VmHWM, not ru_maxrss: the latter survives execve and would report the parent's peak.
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    results["peak_rss_mb"] = int(status["VmHWM"].split()[0]) / 1024
    print(json.dumps(results))


if __name__ == "__main__":
    main()
