"""End-to-end parity with mediapipe 0.10.21 (fixtures from tools/make_reference_fixtures.py).

Static images must agree to sub-pixel level; video tracking is chaotic (spec section 12f: a
0.001 px change of an ROI can move a landmark by a pixel), so video parity is judged per frame.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import (
    STATIC_IMAGES,
    load_rgb,
    load_static_reference,
    load_video_frames,
    load_video_reference,
    reference_media_path,
)

import posejax

pytestmark = pytest.mark.slow

COMPLEXITIES = (0, 1, 2)


def pixel_errors(ours, ref, height, width):
    """Euclidean distance in pixels between normalized (x, y) landmark arrays."""
    return np.hypot((ours[..., 0] - ref[..., 0]) * width, (ours[..., 1] - ref[..., 1]) * height)


@pytest.fixture(scope="module")
def static_results():
    """posejax on every reference image, per complexity, in one static-mode call each."""
    names = [n.rsplit(".", 1)[0] for n in STATIC_IMAGES]
    refs = {n: load_static_reference(n) for n in names}
    images = [load_rgb(reference_media_path(refs[n]["meta"])) for n in names]
    results = {}
    for c in COMPLEXITIES:
        track = posejax.track(images, static_image_mode=True, model_complexity=c,
                              enable_segmentation=True)
        for i, n in enumerate(names):
            results[n, c] = dict(present=bool(track.pose_present[i]),
                                 landmarks=track.landmarks[i],
                                 world=track.world_landmarks[i],
                                 mask=track.segmentation_mask[i],
                                 rgb=images[i])
    return refs, results


@pytest.mark.parametrize("complexity", COMPLEXITIES)
@pytest.mark.parametrize("name", [n.rsplit(".", 1)[0] for n in STATIC_IMAGES])
def test_static_image_matches_mediapipe(static_results, name, complexity):
    refs, results = static_results
    ref, ours = refs[name], results[name, complexity]
    has_pose = bool(ref["has_pose"][complexity])
    assert ours["present"] == has_pose, "detection/no-detection differs from mediapipe"
    if not has_pose:
        assert np.isnan(ours["landmarks"]).all()
        return
    height, width = ours["rgb"].shape[:2]
    ref_lm = ref["landmarks"][complexity]
    visible = ref_lm[:, 3] > 0.5
    err = pixel_errors(ours["landmarks"], ref_lm, height, width)[visible]
    assert np.median(err) <= 0.5, f"median landmark error {np.median(err):.3f} px"
    assert err.max() <= 2.0, f"max landmark error {err.max():.3f} px"
    assert np.abs(ours["landmarks"][:, 3] - ref_lm[:, 3]).max() <= 0.02
    world_err = np.linalg.norm(ours["world"][:, :3] - ref["world"][complexity][:, :3], axis=-1)
    assert np.median(world_err) <= 0.005, f"median world error {np.median(world_err):.4f} m"
    ref_mask = ref["mask"][complexity]
    our_mask = ours["mask"] > 0.5
    iou = (our_mask & ref_mask).sum() / max(1, (our_mask | ref_mask).sum())
    assert iou >= 0.97, f"segmentation IoU {iou:.4f}"


VIDEOS = ("infai_synthetic_leg_raises_6reps", "sports2d_demo")


@pytest.mark.parametrize("name", VIDEOS)
def test_video_tracking_matches_mediapipe(name):
    ref = load_video_reference(name)
    frames = load_video_frames(reference_media_path(ref["meta"]))
    assert len(frames) >= 150
    track = posejax.track(frames, model_complexity=1)
    present_agree = np.mean(track.pose_present == ref["present"])
    assert present_agree >= 0.99, f"presence agrees on {present_agree:.1%} of frames"
    both = track.pose_present & ref["present"]
    height, width = frames.shape[1:3]
    err = pixel_errors(track.landmarks[both], ref["landmarks"][both], height, width)
    per_frame_median = np.median(err, axis=1)
    share = np.mean(per_frame_median <= 3.0)
    assert share >= 0.95, f"median error <= 3 px on only {share:.1%} of frames"


def test_batch_equals_each_clip_alone():
    ref = load_video_reference("infai_synthetic_leg_raises_6reps")
    frames = load_video_frames(reference_media_path(ref["meta"]), stop=120)
    clips = np.stack([frames[0:24], frames[30:54], frames[60:84], frames[96:120]])
    batch = posejax.track(clips, model_complexity=0)
    assert batch.landmarks.shape == (4, 24, 33, 5)
    for i, clip in enumerate(clips):
        alone = posejax.track(clip, model_complexity=0)
        np.testing.assert_array_equal(batch.pose_present[i], alone.pose_present)
        np.testing.assert_allclose(batch.landmarks[i], alone.landmarks, atol=1e-4, rtol=0)
        np.testing.assert_allclose(batch.world_landmarks[i], alone.world_landmarks, atol=1e-4,
                                   rtol=0)


def test_drop_in_pose_matches_track_frame_by_frame():
    ref = load_video_reference("mp_pose_squats")
    frames = load_video_frames(reference_media_path(ref["meta"]), stop=12)
    track = posejax.track(frames, model_complexity=0)
    with posejax.Pose(model_complexity=0) as pose:
        for i, frame in enumerate(frames):
            result = pose.process(frame)
            if not track.pose_present[i]:
                assert result.pose_landmarks is None
                continue
            got = np.array([[lm.x, lm.y, lm.z, lm.visibility]
                            for lm in result.pose_landmarks.landmark])
            np.testing.assert_allclose(got, track.landmarks[i, :, :4], atol=1e-5)
            assert not result.pose_landmarks.landmark[0].HasField("presence")


def test_video_segmentation_masks_match_mediapipe():
    ref = load_video_reference("sports2d_demo_segmentation")
    frames = load_video_frames(reference_media_path(ref["meta"]), stop=len(ref["present"]))
    track = posejax.track(frames, model_complexity=1, enable_segmentation=True)
    both = track.pose_present & ref["present"]
    assert both.sum() >= 0.9 * ref["present"].sum()
    ious = []
    for i in np.flatnonzero(both):
        ours, theirs = track.segmentation_mask[i] > 0.5, ref["mask"][i]
        ious.append((ours & theirs).sum() / max(1, (ours | theirs).sum()))
    assert np.median(ious) >= 0.97, f"median mask IoU {np.median(ious):.4f}"
