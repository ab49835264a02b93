"""Several people through one video: ``posejax.track(frames, num_poses=N)`` on made-up videos.

The videos are composites of the shared one-person clips (:mod:`tests.helpers.composites`), so
the truth is known by construction: where each person's clip is pasted, and what tracking that
clip alone gives. Each composite is tracked once per session (about 25 ms per person per frame on
a CPU, plus compiling for a new frame size).

* side by side (push-ups | squats, 57 frames at 10 fps, 620 x 174): both people found, each slot
  on its own side all video, landmarks within a few pixels of the clip tracked alone, and each
  slot's repetitions counted exactly;
* crossing (two squatting men whose windows swap sides on a 930-pixel canvas, the second drawn
  over the first): the hidden person comes back in their own slot;
* leave and return (push-ups | squats, the squatting man slides out, is away 1 s and slides
  back): nobody is reported while he is away, and he comes back in his slot (late, and in a
  new slot when spare slots exist: two xfails);
* ``num_poses=1`` is the single-person pipeline, bit for bit; ``num_poses=3`` with two people
  leaves a slot empty.
"""

from __future__ import annotations

import numpy as np
import pytest

import classify
import posejax
from tests.helpers import composites
from tests.helpers.composites import PUSHUPS, SQUATS
from tests.helpers.reference_data import require_shared

pytestmark = pytest.mark.slow

SQUATS_WORLD = "mp_docs_squats_world_landmarks_overlay.mp4"


def _cast(names, **kwargs):
    for name in names:
        require_shared(f"videos/{name}")
    return composites.load_cast(names, **kwargs)


def _tracked(composite, num_poses=2):
    """The composite tracked with ``num_poses``, each clip tracked alone, and the identities."""
    track = posejax.track(composite.frames, num_poses=num_poses, fps=composite.fps)
    alone = [posejax.track(p.frames, fps=composite.fps) for p in composite.people]
    truth = composites.truth_in_canvas(composite, [a.landmarks for a in alone])
    ids = composites.identities(track.landmarks, truth, composite.size)
    return {"composite": composite, "track": track, "alone": alone, "truth": truth, "ids": ids}


@pytest.fixture(scope="session")
def side():
    composite = composites.side_by_side(_cast([PUSHUPS, SQUATS]))
    # "alone" is the crop of the composite (same padding), which is each person's clip here
    for k, person in enumerate(composite.people):
        np.testing.assert_array_equal(composite.crop(k), person.frames)
    return _tracked(composite)


@pytest.fixture(scope="session")
def crossing():
    cast = _cast([SQUATS_WORLD, SQUATS], fps=10, height=172, frames=100, ping_pong=True)
    return _tracked(composites.crossing(cast, width=930))


def _leaving():
    # the squatting man slides out over frames 25-34, is away 1 s, slides back over frames
    # 45-54: his slot loses him on frame 29 and he is fully back on frame 54, 2.5 s later,
    # within max_lost_seconds (3 s)
    cast = _cast([PUSHUPS, SQUATS], frames=100, ping_pong=True)
    return composites.leave_and_return(cast, leave=25, away=10, slide=10)


@pytest.fixture(scope="session")
def leave():
    return _tracked(_leaving())


@pytest.fixture(scope="session")
def leave4():
    return _tracked(_leaving(), num_poses=4)


def _slot_of(result, person):
    owner = list(result["ids"]["owner"])
    assert owner.count(person) == 1, f"person {person} is followed by slots {owner}"
    return owner.index(person)


# -- side by side ------------------------------------------------------------------------------

def test_side_by_side_finds_both_people(side):
    ids, present = side["ids"], side["track"].pose_present
    assert sorted(ids["owner"]) == [0, 1]
    for person in (0, 1):
        found = present[:, _slot_of(side, person)].mean()
        assert found >= 0.95, f"person {person} found in {found:.0%} of frames"
    # both at once: 54 of 57 frames today (the push-up woman is missed on frame 0, the
    # squatting man on frames 13-14); kept loose so the per-person bound is the contract
    assert present.all(axis=1).mean() >= 0.9


def test_side_by_side_slots_stay_on_their_side(side):
    hips = composites.hips(side["track"].landmarks, side["composite"].size)
    middle = side["composite"].boxes[0, 1, 0]
    left, right = _slot_of(side, 0), _slot_of(side, 1)
    assert (hips[:, left, 0][np.isfinite(hips[:, left, 0])] < middle).all()
    assert (hips[:, right, 0][np.isfinite(hips[:, right, 0])] > middle).all()
    assert side["ids"]["wrong"].sum() == 0


def test_side_by_side_landmarks_match_each_crop_tracked_alone(side):
    size = side["composite"].size
    for person in (0, 1):
        slot = _slot_of(side, person)
        errors = composites.pixel_errors(side["track"].landmarks[:, slot], side["truth"][person],
                                         size)
        median = np.nanmedian(errors)
        assert median <= 3.0, f"person {person}: median error {median:.2f} px"


@pytest.mark.parametrize("person", [0, 1], ids=["pushups", "squats"])
def test_side_by_side_counts_each_persons_repetitions(side, person):
    clip = side["composite"].people[person]
    one = side["track"].individual(_slot_of(side, person))
    assert classify.count_repetitions(one, exercise=clip.exercise).count == clip.reps


@pytest.fixture(scope="session")
def side3(side):
    composite = side["composite"]
    three = posejax.track(composite.frames, num_poses=3, fps=composite.fps)
    return three, composites.identities(three.landmarks, side["truth"], composite.size)


def test_three_slots_keep_the_two_people_in_their_slots(side3):
    three, ids = side3
    assert three.pose_present.shape == (three.n_frames, 3)
    assert set(ids["owner"][three.pose_present.any(axis=0)]) == {0, 1}
    assert ids["wrong"].sum() == 0
    found = three.pose_present.mean(axis=0)
    for person in (0, 1):
        # the person's slot: the one that follows them most (a duplicate may follow them too)
        assert found[ids["owner"] == person].max() >= 0.95
    absent = ~three.pose_present
    assert np.isnan(three.landmarks[absent]).all()


def test_three_slots_for_two_people_find_nobody_else(side3):
    """A tile also finds a part of the push-up woman (hips at her head, frames 3 and 9): that
    is her again (her landmark box), not a third person."""
    three, _ = side3
    assert three.pose_present.sum(axis=1).max() <= 2
    assert (~three.pose_present.any(axis=0)).sum() == 1


def test_num_poses_1_is_the_single_person_pipeline():
    frames = _cast([SQUATS], frames=20)[0].frames
    default = posejax.track(frames, fps=10)
    one = posejax.track(frames, fps=10, num_poses=1)
    assert one.individuals == default.individuals
    for name in ("landmarks", "world_landmarks", "pose_present", "rois", "timestamps"):
        np.testing.assert_array_equal(getattr(one, name), getattr(default, name), strict=True)
        assert np.array_equal(getattr(one, name), getattr(default, name), equal_nan=True)


# -- crossing and leaving ----------------------------------------------------------------------

def _comes_back(result, person, after):
    """Share of the frames from ``after`` on (the person fully visible again) where the person's
    own slot has them within 30 pixels of their clip tracked alone."""
    slot = _slot_of(result, person)
    distance = result["ids"]["distance"][after:, slot, person]
    return float((distance < 30).mean())


def test_crossing_keeps_identities(crossing):
    ids, visible = crossing["ids"], crossing["composite"].visible
    assert sorted(ids["owner"]) == [0, 1]
    assert ids["switches"].tolist() == [0, 0]
    assert ids["person_switches"].tolist() == [0, 0]
    assert ids["wrong"].sum() == 0
    # the first man is hidden by the second (visible < 30 % from frame 44 to 55): his slot
    # holds nobody else meanwhile, and after he is fully visible again he is back in it
    hidden = visible[:, 0] < 0.3
    slot = _slot_of(crossing, 0)
    assert not crossing["track"].pose_present[hidden, slot].any()
    back = int(np.flatnonzero(visible[:, 0] == 1)[np.flatnonzero(visible[:, 0] == 1) >
                                                    np.flatnonzero(hidden)[-1]][0])
    assert _comes_back(crossing, 0, back) >= 0.9
    assert _comes_back(crossing, 1, 0) >= 0.9


def _back(result):
    """First frame on which the leaving man is fully in the picture again."""
    visible = result["composite"].visible[:, 1]
    away = np.flatnonzero(visible == 0)
    return int(np.flatnonzero((visible == 1) & (np.arange(len(visible)) > away[-1]))[0])


def test_leave_and_return_keeps_identities(leave):
    ids, visible = leave["ids"], leave["composite"].visible
    present = leave["track"].pose_present
    assert sorted(ids["owner"]) == [0, 1]
    assert ids["switches"].tolist() == [0, 0]
    assert ids["person_switches"].tolist() == [0, 0]
    away = visible[:, 1] == 0
    slot = _slot_of(leave, 1)
    # nobody in his slot while he is out of the picture, and the other slot keeps her
    assert not present[away, slot].any()
    assert present[:, _slot_of(leave, 0)].mean() >= 0.95
    # found again, in his slot, within 10 frames (1 s) of being fully back, then kept (his clip
    # tracked alone loses him on one frame of these too); how late: see the xfail below
    back = _back(leave)
    after = np.arange(len(present)) > np.flatnonzero(away)[-1]
    refound = int(np.flatnonzero(present[:, slot] & after)[0])
    assert refound <= back + 10
    assert _comes_back(leave, 1, refound) >= 0.9


def test_leave_and_return_found_on_coming_back(leave):
    """He is fully back on frame 54 and in his slot within a frame, then kept.

    His slot, lost on frame 29, is where his return is predicted: at the edge he left by, not
    further out. (Sliding in at 20 pixels a frame, he outruns his region once, on frame 54, as
    MediaPipe's tracking would; the tiles searched on the next frame find him again.)
    """
    back = _back(leave)
    present = leave["track"].pose_present[:, _slot_of(leave, 1)]
    assert present[back:back + 2].any()
    assert present[back:back + 10].mean() >= 0.9


def test_leave_and_return_with_spare_slots_keeps_identities(leave4):
    """With slots to spare, his return (lost again by his slot on the frame the detector finds
    him) goes back to his own slot, not to one never used."""
    assert leave4["ids"]["person_switches"].tolist() == [0, 0]
