"""posejax.people: tiles, the host-side assignment of detections to person slots, duplicates.

The networks' side (people found, identities, per-person error against tracking alone) is in
tests/integration/test_people.py on composites of real clips.
"""

from __future__ import annotations

import numpy as np
import pytest

import posejax
from posejax.people import (
    DUPLICATE_DISTANCE,
    SAME_PERSON_DISTANCE,
    PeopleTracker,
    _Slot,
    individual_names,
    tile_windows,
)
from posejax.pipeline import PipelineConfig, get_pipeline


@pytest.mark.parametrize("height, width", [(544, 1920), (1920, 544), (174, 620), (174, 930),
                                           (1080, 1920), (1088, 1920), (720, 721), (300, 301)])
def test_tiles_cover_the_frame_inside_it_and_overlap(height, width):
    windows = tile_windows(height, width)
    assert windows, "a non-square frame gets tiles"
    for shape in {(h, w) for _, _, h, w in windows}:
        tiles = [(y, x) for y, x, h, w in windows if (h, w) == shape]
        covered = np.zeros((height, width), bool)
        for y, x in tiles:
            assert 0 <= y and y + shape[0] <= height and 0 <= x and x + shape[1] <= width
            covered[y:y + shape[0], x:x + shape[1]] = True
        assert covered.all()
        for axis, length in ((0, height), (1, width)):
            starts = sorted({t[axis] for t in tiles})
            if len(starts) > 1:   # neighbours overlap by at least a quarter of a window
                assert np.diff(starts).max() <= 0.75 * shape[axis] + 1, (axis, starts)
            else:
                assert length == shape[axis]
    shapes = {(h, w) for _, _, h, w in windows}
    short, long = min(height, width), max(height, width)
    assert (short, short) in shapes
    assert ((short // 2, short // 2) in shapes) == (short >= 720)
    wide = (short, 2 * short) if width >= height else (2 * short, short)
    assert (wide in shapes) == (long > 2 * short)


def test_a_small_square_frame_has_no_tiles_and_a_large_one_has_half_size_tiles():
    assert tile_windows(480, 480) == []
    assert {(h, w) for _, _, h, w in tile_windows(1000, 1000)} == {(500, 500)}


@pytest.fixture(scope="module")
def tracker():
    return PeopleTracker(get_pipeline(PipelineConfig(model_complexity=0)), 3)


def _roi(cx, cy, side, height=400, width=800):
    """A normalized ROI of ``side`` pixels centred at pixel (cx, cy)."""
    return np.array([cx / width, cy / height, side / width, side / height, 0.0], np.float32)


def _reset(tracker, slots):
    tracker.reset()
    tracker._slots = slots


def test_a_detection_on_a_tracked_person_is_not_a_new_person(tracker):
    _reset(tracker, [_Slot(used=True, age=5, last_time=1.0, center=np.array([200., 200.]),
                           side=200.0), _Slot(), _Slot()])
    tracked = np.array([True, False, False])
    rois = np.zeros((3, 5), np.float32)
    rois[0] = _roi(200, 200, 200)
    near = _roi(200 + 0.5 * SAME_PERSON_DISTANCE * 200, 200, 210)
    far = _roi(600, 200, 200)
    claimed = tracker._assign(np.stack([near, far]), rois, tracked, 400, 800, 1.1)
    assert claimed == {1: True}                         # only the far one, in an unused slot
    assert tracker._claimed_from == {1: 1}
    # A part of the person found in a tile (hips well off theirs, but on their body) is them.
    tracker._slots[0].box = np.array([60., 80., 380., 330.])
    part = _roi(200 + 3 * SAME_PERSON_DISTANCE * 200, 250, 120)
    assert tracker._assign(np.stack([part, far]), rois, tracked, 400, 800, 1.1) == {1: True}
    assert tracker._claimed_from == {1: 1}


def test_a_lost_person_is_found_again_where_they_were_heading(tracker):
    # Slot 0 lost 0.5 s ago at x=200 walking right at 200 px/s; slot 1 lost at x=600, standing.
    _reset(tracker, [
        _Slot(used=True, age=0, last_time=1.0, center=np.array([200., 200.]), side=200.0,
              velocity=np.array([200., 0.])),
        _Slot(used=True, age=0, last_time=1.0, center=np.array([600., 200.]), side=200.0),
        _Slot()])
    tracked = np.zeros(3, bool)
    found = np.stack([_roi(590, 200, 200), _roi(310, 200, 190)])
    claimed = tracker._assign(found, np.zeros((3, 5), np.float32), tracked, 400, 800, 1.5)
    assert claimed == {0: False, 1: False}              # both re-found: no new person
    assert tracker._claimed_from == {0: 1, 1: 0}


def test_someone_new_takes_an_unused_slot_then_the_longest_lost_one(tracker):
    def lost(last_time, x):
        return _Slot(used=True, last_time=last_time, center=np.array([x, 200.]), side=100.0)

    _reset(tracker, [lost(0.0, 100.), lost(9.0, 100.), _Slot()])
    found = np.stack([_roi(700, 200, 100), _roi(500, 200, 100)])
    claimed = tracker._assign(found, np.zeros((3, 5), np.float32), np.zeros(3, bool), 400, 800,
                              10.0)
    # Slot 1 (lost 1 s ago) is kept for its person; slot 2 was never used; slot 0 expired.
    assert claimed == {2: True, 0: True}
    assert tracker._claimed_from == {2: 0, 0: 1}
    _reset(tracker, [lost(9.0, 100.), lost(9.5, 100.), lost(9.9, 100.)])
    assert tracker._assign(found, np.zeros((3, 5), np.float32), np.zeros(3, bool), 400, 800,
                           10.0) == {}                  # every slot waits for its own person


def test_a_pose_seen_for_a_moment_keeps_no_slot(tracker):
    # Slot 0: a "person" seen for 0.2 s and lost 1 s ago; slot 1: someone followed for 5 s and
    # lost 1 s ago; slot 2 in use.
    _reset(tracker, [
        _Slot(used=True, first_time=8.8, last_time=9.0, center=np.array([100., 200.]),
              side=100.0),
        _Slot(used=True, first_time=4.0, last_time=9.0, center=np.array([300., 200.]),
              side=100.0),
        _Slot(used=True, age=3, first_time=0.0, last_time=9.9)])
    tracked = np.array([False, False, True])
    rois = np.zeros((3, 5), np.float32)
    rois[2] = _roi(700, 200, 100)
    found = np.stack([_roi(500, 200, 100)])             # someone new, far from both
    assert tracker._assign(found, rois, tracked, 400, 800, 10.0) == {0: True}


def test_a_size_far_from_the_lost_persons_is_someone_else(tracker):
    _reset(tracker, [_Slot(used=True, last_time=1.0, center=np.array([200., 200.]), side=200.0),
                     _Slot(used=True, last_time=1.0, center=np.array([600., 200.]), side=200.0),
                     _Slot(used=True, last_time=1.0, center=np.array([400., 200.]), side=200.0)])
    found = np.stack([_roi(205, 200, 60)])              # where slot 0 was, but a third its size
    assert tracker._assign(found, np.zeros((3, 5), np.float32), np.zeros(3, bool), 400, 800,
                           1.2) == {}


def test_in_static_mode_detections_fill_the_slots_in_order():
    static = PeopleTracker(get_pipeline(PipelineConfig(model_complexity=0,
                                                       static_image_mode=True)), 2)
    found = np.stack([_roi(100, 200, 100), _roi(500, 200, 100), _roi(700, 200, 100)])
    assert static._assign(found, np.zeros((2, 5), np.float32), np.zeros(2, bool), 400, 800,
                          0.0) == {0: True, 1: True}
    assert static._claimed_from == {0: 0, 1: 1}


def test_the_person_a_slot_just_lost_found_as_someone_new_goes_back_to_it(tracker):
    # Slot 0 tracked him until the last frame, heading left; slot 2 was claimed this frame for
    # a new pose 40 px left of where he was heading; slot 1 lost someone far away.
    _reset(tracker, [
        _Slot(used=True, age=5, last_time=1.0, center=np.array([500., 200.]), side=150.0,
              velocity=np.array([-100., 0.])),
        _Slot(used=True, age=5, last_time=1.0, center=np.array([100., 200.]), side=150.0),
        _Slot()])
    rois = np.stack([_roi(500, 200, 150), _roi(100, 200, 150), _roi(450, 200, 160)])
    present = np.array([False, False, True])
    pairs = tracker._handovers(rois, present, {2: True}, np.array([True, True, False]),
                               400, 800, 1.1)
    assert pairs == [(2, 0)]
    # Someone new far from every lost person stays new; so does a re-found person.
    rois[2] = _roi(300, 200, 160)
    assert tracker._handovers(rois, present, {2: True}, np.array([True, True, False]),
                              400, 800, 1.1) == []
    rois[2] = _roi(450, 200, 160)
    assert tracker._handovers(rois, present, {2: False}, np.array([True, True, False]),
                              400, 800, 1.1) == []


def _out(points_by_slot, rois):
    landmarks = np.full((len(rois), 33, 5), np.nan, np.float32)
    for k, points in enumerate(points_by_slot):
        if points is not None:
            landmarks[k, :, :2] = points
    return {"landmarks": landmarks, "rois": np.stack(rois)}


def test_two_slots_on_one_person_keep_the_one_tracked_longer(tracker):
    rng = np.random.default_rng(0)
    person = rng.uniform(0.2, 0.4, (33, 2))
    other = person + [0.5, 0.0]
    nudged = person + 0.2 * DUPLICATE_DISTANCE * 200 / np.array([800, 400])
    _reset(tracker, [_Slot(used=True, age=2, last_time=1.0, center=np.array([240., 120.]),
                           side=200.0),
                     _Slot(used=True, age=40, last_time=1.0, center=np.array([240., 120.]),
                           side=200.0),
                     _Slot(used=True, age=1, last_time=1.0, center=np.array([640., 120.]),
                           side=200.0)])
    rois = [_roi(240, 120, 200), _roi(240, 120, 200), _roi(640, 120, 200)]
    present = np.array([True, True, True])
    assert tracker._duplicates(_out([nudged, person, other], rois), present, 400, 800,
                               1.04) == [0]
    # Equal ages: the slot further from where its person was heading lets go.
    tracker._slots[0].age = 40
    tracker._slots[0].velocity = np.array([0.0, 0.0])
    tracker._slots[1].velocity = np.array([-2000.0, 0.0])   # it expected to be far left
    assert tracker._duplicates(_out([nudged, person, other], rois), present, 400, 800,
                               1.04) == [1]


def test_between_two_found_this_frame_someone_found_again_stays(tracker):
    rng = np.random.default_rng(2)
    person = rng.uniform(0.2, 0.4, (33, 2))
    _reset(tracker, [_Slot(used=True, first_time=0.0, last_time=1.0), _Slot(), _Slot()])
    rois = [_roi(240, 120, 200), _roi(242, 120, 200), _roi(640, 120, 200)]
    out = _out([person, person + 0.001, None], rois)
    present = np.array([True, True, False])
    assert tracker._duplicates(out, present, 400, 800, 1.4, {0: False, 1: True}) == [1]
    assert tracker._duplicates(out, present, 400, 800, 1.4, {0: True, 1: False}) == [0]


def test_two_detections_of_one_person_are_one_candidate(tracker):
    _reset(tracker, [_Slot(), _Slot(), _Slot()])
    found = np.stack([_roi(470, 100, 200), _roi(466, 95, 195), _roi(120, 100, 200)])
    assert tracker._assign(found, np.zeros((3, 5), np.float32), np.zeros(3, bool), 400, 800,
                           0.0) == {0: True, 1: True}
    assert tracker._claimed_from == {0: 0, 1: 2}


def test_people_apart_are_no_duplicates(tracker):
    rng = np.random.default_rng(1)
    person = rng.uniform(0.2, 0.4, (33, 2))
    apart = person + 2 * DUPLICATE_DISTANCE * 200 / np.array([800, 400])
    _reset(tracker, [_Slot(used=True, age=3), _Slot(used=True, age=3), _Slot()])
    rois = [_roi(240, 120, 200), _roi(240, 120, 200), _roi(640, 120, 200)]
    assert tracker._duplicates(_out([person, apart, None], rois),
                               np.array([True, True, False]), 400, 800, 1.0) == []


def test_frames_without_anybody_give_nan_slots_and_no_pose():
    frames = np.zeros((3, 40, 72, 3), np.uint8)
    result = posejax.track(frames, num_poses=2, model_complexity=0)
    assert result.individuals == individual_names(2) == ("person_0", "person_1")
    assert result.landmarks.shape == (3, 2, 33, 5)
    assert result.world_landmarks.shape == (3, 2, 33, 4)
    assert not result.pose_present.any()
    assert np.isnan(result.landmarks).all() and np.isnan(result.rois).all()
    assert result.image_sizes.tolist() == [[40, 72]] * 3
    batch = posejax.track(frames[None].repeat(2, axis=0), num_poses=2, model_complexity=0)
    assert batch.landmarks.shape == (2, 3, 2, 33, 5) and batch.batch_size == 2
    # The accelerators' form (slots as one vectorized batch) runs too.
    vectorized = posejax.track(frames, num_poses=2, model_complexity=0, vectorized=True)
    assert not vectorized.pose_present.any() and vectorized.landmarks.shape == (3, 2, 33, 5)


@pytest.mark.parametrize("options, message", [
    ({"num_poses": 0}, "num_poses must be a whole number"),
    ({"num_poses": 2.5}, "num_poses must be a whole number"),
    ({"num_poses": True}, "num_poses must be a whole number"),
    ({"num_poses": 2, "max_lost_seconds": -1}, "max_lost_seconds"),
    ({"num_poses": 2, "max_lost_seconds": float("nan")}, "max_lost_seconds"),
    ({"num_poses": 2, "enable_segmentation": True}, "not available with num_poses > 1"),
])
def test_bad_people_options_are_refused_before_any_work(options, message):
    with pytest.raises(ValueError, match=message):
        posejax.track(np.zeros((1, 8, 8, 3), np.uint8), **options)
