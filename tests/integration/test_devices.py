"""What accelerators run, checked on a CPU: a batch sharded over several devices, and the
vectorized (vmap) networks.

Several devices are forced on the host (``--xla_force_host_platform_device_count=2``) in a
subprocess, since XLA reads the flag once per process; ``vectorized=True`` selects the
accelerators' batched path on a CPU.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import posejax
from posejax.pipeline import PipelineConfig
from tests.helpers.clips import subprocess_env, write_walk_clip
from tests.helpers.reference_data import SHARED_DATA, require_shared

pytestmark = pytest.mark.slow

PUSHUPS = "videos/mp_docs_pushups_5reps_overlay.mp4"

SHARDED = """
import json, sys
import jax, numpy as np
import posejax
from posejax.pipeline import PipelineConfig, get_pipeline

frames = posejax.read_video(sys.argv[1]).read()[:32]
batch = np.stack([frames, frames[::-1]])            # two videos of one size
sharded = posejax.track(batch)
alone = [posejax.track(video) for video in batch]   # a batch of one runs on one device
mesh = get_pipeline(PipelineConfig()).video_mesh(2)
print(json.dumps({
    "devices": len(jax.local_devices()),
    "mesh": None if mesh is None else int(mesh.size),
    "landmarks": all(np.array_equal(sharded.landmarks[i], a.landmarks, equal_nan=True)
                     for i, a in enumerate(alone)),
    "world": all(np.array_equal(sharded.world_landmarks[i], a.world_landmarks, equal_nan=True)
                 for i, a in enumerate(alone)),
    "present": [int(a.pose_present.sum()) for a in alone],
    "present_equal": all(np.array_equal(sharded.pose_present[i], a.pose_present)
                         for i, a in enumerate(alone)),
}))
"""


def test_a_batch_sharded_over_two_devices_equals_one_device():
    clip = require_shared(SHARED_DATA / PUSHUPS)
    env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=2")
    result = subprocess.run([sys.executable, "-c", SHARDED, str(clip)], capture_output=True,
                            text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == 2 and report["mesh"] == 2      # it did shard
    assert report["landmarks"] and report["world"] and report["present_equal"], report
    assert min(report["present"]) > 20, report                 # and there were poses to compare


def test_the_video_mesh_divides_the_batch():
    pipeline = posejax.pipeline.get_pipeline(PipelineConfig())
    assert pipeline.video_mesh(1) is None
    assert pipeline.video_mesh(4) is None or pipeline.video_mesh(4).size > 1


def test_vectorized_is_checked():
    with pytest.raises(TypeError, match="vectorized"):
        PipelineConfig(vectorized="yes")
    assert PipelineConfig(vectorized=1).vectorized is True


def test_the_vectorized_path_matches_the_per_image_path(tmp_path):
    """The accelerators' path, run on a CPU, by the video-parity criterion: the per-frame
    median landmark error is within 3 px on at least 95% of the frames with a pose."""
    clip = write_walk_clip(tmp_path / "walk.mp4", 96)   # from the bundled Sports2D video
    frames = posejax.read_video(clip).read()
    per_image = posejax.track(frames)
    vectorized = posejax.track(frames, vectorized=True)
    present = np.mean(per_image.pose_present == vectorized.pose_present)
    assert present >= 0.99, f"presence agrees on {present:.1%} of frames"
    both = per_image.pose_present & vectorized.pose_present
    assert both.sum() >= 50
    height, width = frames.shape[1:3]
    scale = np.array([width, height])
    error = np.linalg.norm((per_image.landmarks[both, :, :2] - vectorized.landmarks[both, :, :2])
                           * scale, axis=-1)
    share = np.mean(np.median(error, axis=1) <= 3.0)
    assert share >= 0.95, f"median error <= 3 px on only {share:.1%} of frames"
