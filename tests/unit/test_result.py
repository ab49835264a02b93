"""PoseTrack itself: frames selected by indexing, and a repr that summarises instead of dumping."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from posejax import PoseTrack
from tests.helpers.synthetic import random_track

PER_FRAME = ("landmarks", "world_landmarks", "pose_present", "rois", "timestamps", "image_sizes")


def _assert_frames(part, whole, frames):
    """Every per-frame array of ``part`` is ``whole``'s at ``frames`` (along the frame axis)."""
    for name in PER_FRAME:
        np.testing.assert_array_equal(getattr(part, name),
                                      np.take(getattr(whole, name), frames,
                                              axis=whole.pose_present.ndim - 1), err_msg=name)


@pytest.mark.parametrize("key, frames", [
    (slice(2, 5), [2, 3, 4]),
    (slice(None, None, 3), [0, 3, 6, 9]),
    (-1, [9]),
    (4, [4]),
    (np.int64(7), [7]),
    ([0, 5, 5], [0, 5, 5]),
    (np.arange(10) % 4 == 0, [0, 4, 8]),
])
@pytest.mark.parametrize("batch", [None, 3])
def test_indexing_selects_frames_of_every_video(key, frames, batch):
    track = random_track(10, batch=batch, missing=(2, 8),
                         names=None if batch is None else ("a", "b", "c"))
    part = track[key]
    assert part.n_frames == len(frames)
    assert part.is_batch == track.is_batch and part.batch_size == track.batch_size
    _assert_frames(part, track, frames)
    # The real times stay: frame 7 of the video is still at its time, not at 0.
    assert part.timestamps[..., 0] == pytest.approx(track.timestamps[..., frames[0]])
    assert (part.fps, part.model_complexity, part.video_names) == (
        track.fps, track.model_complexity, track.video_names)


def test_a_slice_of_a_video_of_a_batch_equals_the_video_of_the_slice():
    batch = random_track(8, batch=2, missing=(1,), names=("a", "b"))
    _assert_frames(batch[3:6].video(1), batch.video(1), [3, 4, 5])
    assert batch[3:6].video(1).video_names == ("b",)


def test_segmentation_masks_follow_the_frames():
    track = random_track(6)
    masks = np.arange(6 * 4 * 5, dtype=np.float32).reshape(6, 4, 5)
    as_array = dataclasses.replace(track, segmentation_mask=masks)
    np.testing.assert_array_equal(as_array[1:4].segmentation_mask, masks[1:4])
    as_list = dataclasses.replace(track, segmentation_mask=list(masks))
    picked = as_list[[5, 0]].segmentation_mask
    assert isinstance(picked, list) and len(picked) == 2
    np.testing.assert_array_equal(np.stack(picked), masks[[5, 0]])
    batch = random_track(6, batch=2)
    batch_masks = np.zeros((2, 6, 4, 5), np.float32)
    batch_masks[:, :, 0, 0] = np.arange(6)
    sliced = dataclasses.replace(batch, segmentation_mask=batch_masks)[-2:]
    assert sliced.segmentation_mask.shape == (2, 2, 4, 5)
    np.testing.assert_array_equal(sliced.segmentation_mask[:, :, 0, 0], [[4, 5], [4, 5]])


def test_a_slice_keeps_its_frame_numbers_and_times_in_tables():
    whole = random_track(10)
    part = whole[4:7]
    frames = part.to_dataframe().drop_duplicates("frame")
    assert list(frames["frame"]) == [4, 5, 6]  # never renumbered
    assert list(frames["time"]) == list(whole.timestamps[4:7])
    assert part[[0, 2]].frame_index().tolist() == [4, 6]
    # Back to a track: the frames sit at their own numbers, the others have no pose.
    again = PoseTrack.from_dataframe(part.to_dataframe())
    np.testing.assert_array_equal(again.landmarks[4:7], whole.landmarks[4:7])
    assert not again.pose_present[:4].any()
    with pytest.raises(ValueError, match="frame_numbers has shape"):
        dataclasses.replace(part, frame_numbers=np.arange(5))


@pytest.mark.parametrize("key, error, match", [
    (10, IndexError, "out of range"),
    (-11, IndexError, "out of range"),
    ((0, slice(2)), TypeError, r"video\(i\)"),
    (1.5, TypeError, "int, a slice"),
    (np.ones((2, 2), int), TypeError, "1-D"),
    (np.ones(3, bool), IndexError, "needs 10 values"),
])
def test_bad_frame_keys_say_what_is_expected(key, error, match):
    with pytest.raises(error, match=match):
        random_track(10)[key]


def test_repr_summarises_a_video():
    track = random_track(10, missing=(2, 3), height=994, width=1768)
    assert repr(track) == ("<PoseTrack 10 frames, 1 video, 1768x994, 30 fps, pose in 8 frames, "
                           "model_complexity=0>")
    assert repr(track[2:4]).startswith("<PoseTrack 2 frames, 1 video, 1768x994, 30 fps, "
                                       "pose in 0 frames")
    named = dataclasses.replace(track, video_names=("squats.mp4",), fps=29.97,
                                segmentation_mask=np.zeros((10, 994, 1768), np.float32))
    assert repr(named) == ("<PoseTrack 10 frames, 1 video 'squats.mp4', 1768x994, 29.97 fps, "
                           "pose in 8 frames, segmentation, model_complexity=0>")
    assert len(repr(named)) < 200  # no array dumped


def test_repr_summarises_a_batch_and_mixed_sizes():
    batch = random_track(5, batch=3, missing=(0,))
    assert repr(batch) == ("<PoseTrack 3 videos x 5 frames, 200x120, 30 fps, "
                           "pose in 12 of 15 frames, model_complexity=0>")
    track = random_track(4)
    sizes = np.array([[120, 200], [120, 200], [60, 80], [120, 200]])
    mixed = dataclasses.replace(track, image_sizes=sizes)
    assert "2 frame sizes" in repr(mixed)
    assert str(mixed) == repr(mixed)
