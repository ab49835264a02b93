"""The any-exercise counter on transformed versions of the counted clips (issue #22).

Each counted clip of the committed fixture is walked into and out of, paused between sets,
retimed (0.6x, 1.6x, 0.6x rising to 1.6x), mirrored, started mid-repetition, left by the person
for 3 s, made smaller and walked into, and all of walk + pause + tempo at once: synthetic landmark
edits of ``tools/rep_transforms.py``. Without a model, every version must be counted right, each
true turning point matched by a reported one within a quarter repetition; a walk alone counts
nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

import classify
from tools.make_rep_fixtures import bottom_ranges, read_clips, read_tracks
from tools.rep_transforms import variants, walk_alone

pytestmark = pytest.mark.slow

CLIPS = read_clips()
COUNTED = CLIPS[CLIPS["exercise"] != ""]


def accepted(row) -> set[int]:
    return {int(row.reps)} | ({int(row.also_accepted)} if row.also_accepted else set())


@pytest.mark.parametrize("row", list(COUNTED.itertuples()), ids=list(COUNTED["source"]))
def test_every_version_of_a_counted_clip_is_counted_right(row):
    track = read_tracks()[row.source]
    for version in variants(track, accepted(row), row.bottoms):
        result = classify.count_repetitions(version.track)
        assert result.count in version.accepted, f"{version.name}: {result.summary()}"
        # every true turning point has a reported one within a quarter repetition (an
        # unfinished last repetition, completed by a walk-out, may add one the truth lacks)
        bottoms = bottom_ranges(version.bottoms)
        period = np.median(np.diff([a for a, _ in bottoms]))
        reported = result.reps["bottom_frame"].to_numpy()
        for a, b in bottoms:
            distance = np.maximum(np.maximum(a - reported, reported - b), 0).min()
            assert distance <= period / 4, f"{version.name}: no bottom near {a}-{b}: {reported}"


def test_a_walk_alone_counts_nothing():
    result = classify.count_repetitions(walk_alone())
    assert result.count == 0 and result.frames["travelling"].mean() > 0.5
