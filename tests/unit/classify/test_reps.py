"""EMASmoothing, the full-cycle counters and count_repetitions on synthetic sequences."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd
import pytest

from classify import (
    Cycle,
    CycleCounter,
    EMASmoothing,
    RepetitionCounter,
    Repetitions,
    count_repetitions,
)
from classify.datasets import _load_arrays
from classify.exercises import exercise_model
from posejax import PoseTrack

# -- smoothing ------------------------------------------------------------------------------------


def colab_ema(frames, window_size=10, alpha=0.2):
    """EMADictSmoothing of the colab on a list of {class: value} dicts."""
    window, out = [], []
    for data in frames:
        window.insert(0, data)
        window = window[:window_size]
        keys = {key for d in window for key in d}
        smoothed = {}
        for key in keys:
            factor, top, bottom = 1.0, 0.0, 0.0
            for d in window:
                top += factor * d.get(key, 0.0)
                bottom += factor
                factor *= 1.0 - alpha
            smoothed[key] = top / bottom
        out.append(smoothed)
    return out


def test_smoothing_matches_the_colab_streaming_and_whole():
    rng = np.random.default_rng(0)
    probabilities = rng.random((25, 3))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    expected = colab_ema([dict(enumerate(p)) for p in probabilities])
    expected = np.array([[e[k] for k in range(3)] for e in expected])
    np.testing.assert_allclose(EMASmoothing().smooth(probabilities), expected, rtol=1e-12)
    smoother = EMASmoothing()
    streamed = np.stack([smoother.update(p) for p in probabilities])
    np.testing.assert_allclose(streamed, expected, rtol=1e-12)
    smoother.reset()
    np.testing.assert_allclose(smoother.update(probabilities[3]), probabilities[3])


def test_frames_without_a_pose_enter_the_window_as_zeros():
    frames = [[1.0, 0.0], [np.nan, np.nan], [0.0, 1.0]]
    whole = EMASmoothing(window_size=3, alpha=0.5).smooth(frames)
    smoother = EMASmoothing(window_size=3, alpha=0.5)
    streamed = [smoother.update(frames[0]), smoother.update(None), smoother.update(frames[2])]
    np.testing.assert_allclose(whole, streamed)
    # weights 1, 0.5, 0.25 on frames 2, 1, 0: (0.25 * [1, 0] + [0, 1]) / 1.75
    np.testing.assert_allclose(whole[2], [0.25 / 1.75, 1.0 / 1.75])


def test_smoothing_for_fps_keeps_the_time_span():
    thirty = EMASmoothing.for_fps(30)
    assert thirty.window_size == 10 and thirty.alpha == pytest.approx(0.2, rel=1e-12)
    five = EMASmoothing.for_fps(5)
    assert five.window_size == 2
    # decay per second is the same: (1 - alpha) ** fps
    np.testing.assert_allclose((1 - five.alpha) ** 5, 0.8**30)
    with pytest.raises(ValueError, match="fps"):
        EMASmoothing.for_fps(0)


@pytest.mark.parametrize("params", [{"window_size": 0}, {"alpha": 0.0}, {"alpha": 1.5}])
def test_smoothing_rejects_bad_parameters(params):
    with pytest.raises(ValueError):
        EMASmoothing(**params)


# -- hysteresis -----------------------------------------------------------------------------------


def square_wave(n_reps, low=0.05, high=0.95, length=6):
    return np.tile(np.r_[[low] * length, [high] * length], n_reps).tolist() + [low] * length


def test_counts_each_full_cycle_on_one_probability():
    counts = RepetitionCounter("down").count_sequence(square_wave(4))
    assert counts[-1] == 4
    # the count goes up on the first frame below the exit threshold, never before
    assert (np.flatnonzero(np.diff(counts)) + 1).tolist() == [12, 24, 36, 48]


def test_noise_around_one_threshold_does_not_count():
    rng = np.random.default_rng(1)
    around_enter = 0.6 + rng.uniform(-0.15, 0.15, size=200)  # crosses 0.6 many times, never 0.4
    around_exit = 0.4 + rng.uniform(-0.15, 0.15, size=200)  # crosses 0.4, never 0.6
    counter = RepetitionCounter("down")
    assert counter.count_sequence(around_enter)[-1] == 0  # entered, never left
    assert [counter.update(v) for v in around_enter][-1] == 0 and counter.in_pose
    assert RepetitionCounter("down").count_sequence(around_exit)[-1] == 0
    # one real repetition framed by that noise counts once
    sequence = np.r_[around_exit, around_enter, around_exit]
    assert RepetitionCounter("down").count_sequence(sequence)[-1] == 1


def test_noise_crossing_both_thresholds_counts_each_full_crossing():
    noisy = [0.3, 0.7, 0.5, 0.45, 0.55, 0.35, 0.62, 0.41, 0.39, 0.61]
    # enter at 0.7, exit at 0.35 (1), enter at 0.62, exit at 0.39 (2), enter at 0.61
    assert RepetitionCounter("down").count_sequence(noisy).tolist() == [
        0, 0, 0, 0, 0, 1, 1, 1, 2, 2,
    ]  # fmt: skip


def test_streaming_equals_whole_sequence_and_frames_without_pose_freeze_the_state():
    rng = np.random.default_rng(2)
    values = np.clip(np.repeat(rng.random(40), 3) + rng.normal(0, 0.1, 120), 0, 1)
    values[rng.integers(0, 120, 15)] = np.nan
    counter = RepetitionCounter("down")
    streamed = [counter.update(None if np.isnan(v) else v) for v in values]
    assert streamed == RepetitionCounter("down").count_sequence(values).tolist()
    assert counter.count == streamed[-1] > 0
    # a NaN between the turn and the return changes nothing
    assert RepetitionCounter("down").count_sequence([0.1, 0.9, np.nan, 0.1])[-1] == 1
    # a cycle needs the rest pose before the turn: starting at the bottom counts nothing
    assert RepetitionCounter("down").count_sequence([0.9, np.nan, 0.1])[-1] == 0


def test_counter_takes_class_mappings():
    counter = RepetitionCounter("squat_down", rest_class="squat_up")
    assert counter.update({"squat_up": 0.9, "squat_down": 0.1}) == 0 and not counter.in_pose
    assert counter.update({"squat_down": 0.8, "squat_up": 0.2}) == 0 and counter.in_pose
    assert counter.update({"squat_up": 1.0}) == 1  # missing class = probability 0
    with pytest.raises(TypeError, match="mapping"):
        counter.update(0.5)


UP, DOWN, OTHER = {"up": 0.9}, {"down": 0.9}, {"other": 0.9}


def test_other_at_the_bottom_and_hovering_never_add_a_count():
    """The bug of counting exits from the bottom: `other` there counted twice per push-up."""
    frames = [UP, DOWN, OTHER, DOWN, OTHER, OTHER, DOWN, {"down": 0.5, "other": 0.5}, UP]
    counts = RepetitionCounter("down", rest_class="up").count_sequence(frames)
    assert counts.tolist() == [0] * 8 + [1]
    # the colab's rule (one exit from `down` = one repetition) counts 3 on the same frames
    assert RepetitionCounter("down").count_sequence([f.get("down", 0) for f in frames])[-1] == 3


def test_a_cycle_that_misses_an_end_counts_nothing():
    counter = RepetitionCounter("down", rest_class="up")
    assert counter.count_sequence([UP, OTHER, UP, OTHER, UP])[-1] == 0  # never at the bottom
    assert counter.count_sequence([UP, DOWN, OTHER, DOWN, OTHER])[-1] == 0  # never back up
    assert counter.count_sequence([OTHER, DOWN, UP, DOWN, UP])[-1] == 1  # first one began low


def test_full_cycles_for_exercises_that_rest_at_the_bottom():
    """Leg raises start and end with the legs down: the turning pose is `up`."""
    frames = [DOWN, UP, DOWN, UP, OTHER, UP, DOWN]
    assert RepetitionCounter("up", rest_class="down").count_sequence(frames)[-1] == 2


def test_streaming_with_mappings_equals_the_whole_sequence():
    rng = np.random.default_rng(5)
    names = ["up", "down", "other"]
    frames = [dict(zip(names, p, strict=True)) for p in rng.dirichlet([0.3] * 3, size=300)]
    frames[::17] = [None] * len(frames[::17])
    counter = RepetitionCounter("down", rest_class="up", min_set=2, max_pause=8)
    streamed = [counter.update(f) for f in frames]
    assert streamed == counter.count_sequence(frames).tolist()
    assert streamed[-1] > 0 and counter.count == len(counter.cycles)


def test_cycle_counter_records_frames_and_drops_cycles_across_long_gaps():
    counter = CycleCounter(max_gap=2)
    for frame in [(True, False), (False, True), (False, True), (True, False)]:
        counter.update(*frame)
    assert counter.cycles == [Cycle(start=0, turn=1, end=3)]
    for frame in [(False, True), None, None, None, (True, False)]:  # 3 frames lost > max_gap
        counter.update(None) if frame is None else counter.update(*frame)
    assert counter.count == 1
    counter.update(False, True)
    counter.update(True, False)  # the rest frame after the gap starts a new cycle
    assert counter.count == 2


def test_cycles_count_in_sets_only():
    def cycles(n, pause=0):
        return ([(True, False)] * (1 + pause) + [(False, True)]) * n + [(True, False)]

    lone = CycleCounter(min_set=2, max_pause=5)
    for frame in cycles(1):
        lone.update(*frame)
    assert lone.count == 0  # one movement alone is no repetition
    paired = CycleCounter(min_set=2, max_pause=5)
    running = [paired.update(*frame) for frame in cycles(3)]
    assert running[-1] == 3 and running[3] == 0 and running[4] == 2  # the first waits for the 2nd
    apart = CycleCounter(min_set=2, max_pause=5)
    for frame in cycles(1) + cycles(1, pause=9):  # the second follows after a long pause
        apart.update(*frame)
    assert apart.count == 0


def test_min_range_drops_cycles_where_the_joint_does_not_move():
    frames = [(True, False), (False, True), (True, False)]
    still = CycleCounter(min_range=30.0)
    for frame, angle in zip(frames, [170.0, 160.0, 168.0], strict=True):
        still.update(*frame, value=angle)
    assert still.count == 0
    moved = CycleCounter(min_range=30.0)
    for frame, angle in zip(frames, [[170.0, 172], [150.0, 90], [168.0, 171]], strict=True):
        moved.update(*frame, value=angle)  # one of two sides moving far enough suffices
    assert moved.count == 1


@pytest.mark.parametrize("enter, exit_", [(0.4, 0.6), (1.2, 0.4), (0.6, -0.1)])
def test_counter_rejects_bad_thresholds(enter, exit_):
    with pytest.raises(ValueError, match="threshold"):
        RepetitionCounter("down", enter_threshold=enter, exit_threshold=exit_)


@pytest.mark.parametrize(
    "params, match",
    [({"max_gap": -1}, "max_gap"), ({"min_range": -2.0}, "min_range"), ({"min_set": 0}, "min_set"),
     ({"max_pause": -1}, "max_pause")],
)  # fmt: skip
def test_cycle_counter_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        CycleCounter(**params)


# -- count_repetitions on a synthetic track of bundled squat poses --------------------------------


def squat_track(pattern, fps=10.0, missing=()):
    """A track whose frame i is a bundled 'squat_up' or 'squat_down' pose, per ``pattern``."""
    data = _load_arrays()
    rng = np.random.default_rng(3)
    index = {label: np.flatnonzero(data["label"] == label) for label in ("squat_up", "squat_down")}
    picks = np.array([rng.choice(index[label]) for label in pattern])
    landmarks = data["landmarks"][picks].copy()
    world = data["world_landmarks"][picks].copy()
    present = np.ones(len(pattern), bool)
    present[list(missing)] = False
    landmarks[~present] = np.nan
    world[~present] = np.nan
    return PoseTrack(
        landmarks=landmarks,
        world_landmarks=world,
        pose_present=present,
        rois=np.zeros((len(pattern), 5), np.float32),
        timestamps=np.arange(len(pattern)) / fps,
        image_sizes=data["image_size"][picks],
        fps=fps,
    )


PATTERN = ["squat_up"] * 6 + (["squat_down"] * 4 + ["squat_up"] * 6) * 3


def test_count_repetitions_on_a_track():
    table, total = count_repetitions(squat_track(PATTERN), exercise_model("squat"), "squat_down")
    assert total == 3
    assert len(table) == len(PATTERN) and table["count"].iloc[-1] == 3
    assert table["count"].is_monotonic_increasing
    expected = {"frame", "time", "pose_present", "in_pose", "count"}
    assert expected <= set(table.columns)
    proba = table[[f"proba_{c}" for c in ("other", "squat_down", "squat_up")]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # every down frame is in the pose once smoothing has caught up
    assert table.loc[np.array(PATTERN) == "squat_down", "smoothed_squat_down"].max() > 0.6


def test_count_repetitions_survives_frames_without_a_pose():
    missing = (0, 1, 12, 25)  # before the first pose, in a bottom and in between
    track = squat_track(PATTERN, missing=missing)
    table, total = count_repetitions(track, exercise_model("squat"), "squat_down")
    assert total == 3
    assert table.loc[list(missing), "smoothed_squat_down"].isna().all()
    assert not table.loc[list(missing), "pose_present"].any()


def test_count_repetitions_reads_dataframes_like_tracks():
    track = squat_track(PATTERN)
    model = exercise_model("squat")
    reference, _ = count_repetitions(track, model, "squat_down")
    for layout in ("long", "wide"):
        table, total = count_repetitions(track.to_dataframe(layout), model, "squat_down")
        assert total == 3
        np.testing.assert_allclose(
            table["smoothed_squat_down"], reference["smoothed_squat_down"], rtol=1e-6
        )


def test_count_repetitions_rejects_unknown_classes_and_batches():
    track = squat_track(PATTERN[:8])
    with pytest.raises(ValueError, match="not one of the model's classes"):
        count_repetitions(track, exercise_model("squat"), "pushup_down")
    with pytest.raises(TypeError, match="PoseTrack"):
        count_repetitions(np.zeros((3, 33, 3)), exercise_model("squat"), "squat_down")


def test_count_repetitions_gives_one_row_per_repetition():
    result = count_repetitions(squat_track(PATTERN), exercise="squat")
    assert isinstance(result, Repetitions) and result.count == 3
    frames, total = result  # unpacks like posejax 0.1's (table, total)
    assert total == 3 and frames is result.frames
    reps = result.reps
    assert reps["rep"].tolist() == [1, 2, 3]
    assert (reps["start_frame"] < reps["bottom_frame"]).all()
    assert (reps["bottom_frame"] < reps["end_frame"]).all()
    # the turning point is where the knee angle is smallest, inside a bottom run of PATTERN
    pattern = np.array(PATTERN)
    assert (pattern[reps["bottom_frame"]] == "squat_down").all()
    knee = frames["knee_angle"].to_numpy()
    for rep in reps.itertuples():
        window = knee[rep.start_frame : rep.end_frame + 1]
        assert rep.angle_at_bottom == pytest.approx(window.min())
        assert rep.range_of_motion == pytest.approx(window.max() - window.min())
    np.testing.assert_allclose(reps["duration"], reps["end_time"] - reps["start_time"])
    assert result.summary() == "squat: 3 repetitions"


def test_thresholds_keep_their_meaning_at_any_frame_rate():
    slow = count_repetitions(squat_track(PATTERN, fps=10.0), exercise="squat")
    fast = count_repetitions(squat_track(list(np.repeat(PATTERN, 3)), fps=30.0), exercise="squat")
    assert slow.count == fast.count == 3
    np.testing.assert_allclose(fast.reps["bottom_time"], slow.reps["bottom_time"], atol=0.25)


def test_repetitions_plot_shades_each_repetition():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = count_repetitions(squat_track(PATTERN), exercise="squat")
    ax = result.plot()
    spans = list(ax.patches)
    assert len(spans) == 3
    lefts = sorted(p.get_x() for p in spans)
    np.testing.assert_allclose(lefts, result.reps["start_time"])
    assert ax.get_title() == "squat: 3 repetitions"
    # A plain savefig (no bbox_inches) keeps the axis labels inside the image.
    fig = ax.figure
    fig.savefig(io.BytesIO(), format="png")
    renderer = fig.canvas.get_renderer()
    for label in (ax.xaxis.label, ax.yaxis.label):
        corners = label.get_window_extent(renderer).corners()
        assert all(fig.bbox.contains(*corner) for corner in corners), label.get_text()
    plt.close(fig)


def test_count_repetitions_picks_the_rest_pose_and_rejects_contradictions():
    model = exercise_model("squat")
    track = squat_track(PATTERN)
    assert count_repetitions(track, model, "squat_down").count == 3  # rest: the other class
    with pytest.raises(ValueError, match="rest pose of squat"):
        count_repetitions(track, model, "squat_up", exercise="squat")
    with pytest.raises(ValueError, match="need a model"):
        count_repetitions(track, class_name="squat_down")


def test_a_table_of_several_videos_counts_each_video_apart():
    """pd.concat of videos' tables: each count equals the video's alone, .reps gains video."""
    tracks = {
        "three.mp4": squat_track(PATTERN),
        "two.mp4": dataclasses.replace(squat_track(PATTERN[:-10], fps=15.0),
                                       video_names=("two.mp4",)),
        "none.mp4": squat_track(["squat_up"] * 20),
    }
    tables = [t.to_dataframe(video=name) for name, t in tracks.items()]
    alone = {name: count_repetitions(t, exercise="squat") for name, t in tracks.items()}
    assert [r.count for r in alone.values()] == [3, 2, 0]
    for joined in (pd.concat(tables), pd.concat([t.pose.to_layout("wide") for t in tables])):
        joined.attrs = {}
        result = count_repetitions(joined, exercise="squat")
        assert result.counts.to_dict() == {name: r.count for name, r in alone.items()}
        assert result.count == 5 and result.reps.columns[0] == "video"
        for name, expected in alone.items():
            reps = result.reps[result.reps.video == name].drop(columns="video")
            if expected.count == 0:
                assert reps.empty
                continue
            pd.testing.assert_frame_equal(reps.reset_index(drop=True), expected.reps)
        assert "three.mp4: 3" in result.summary()
    batch = count_repetitions(PoseTrack.from_dataframe(pd.concat(tables[:2])), exercise="squat")
    assert batch.counts.to_dict() == {"three.mp4": 3, "two.mp4": 2}


def test_several_people_are_counted_apart():
    """Two people in one video, one starting 10 frames later: each counts as alone."""
    from tests.helpers.synthetic import people_track

    rest = ["squat_up"] * 10
    early = squat_track(PATTERN + rest)
    late = squat_track(rest + PATTERN)
    fewer = squat_track(PATTERN[:-10] + rest + ["squat_up"] * 10)
    alone = [count_repetitions(t, exercise="squat") for t in (early, late, fewer)]
    assert [r.count for r in alone] == [3, 3, 2]
    three = people_track(early, late, fewer, names=("ann", "bea", "cy"))
    for data in (three, three.to_dataframe(), three.to_dataframe("wide")):
        result = count_repetitions(data, exercise="squat")
        assert result.counts.index.names == ["individual"]
        assert result.counts.to_dict() == {"ann": 3, "bea": 3, "cy": 2}
        assert result.count == 8
        assert list(result.reps.columns[:2]) == ["individual", "rep"]
        assert list(result.frames.columns[:2]) == ["individual", "frame"]
        for name, expected in zip(("ann", "bea", "cy"), alone, strict=True):
            reps = result.reps[result.reps.individual == name].drop(columns="individual")
            pd.testing.assert_frame_equal(reps.reset_index(drop=True), expected.reps)
        # The later person's repetitions are 10 frames (1 s) later than the first's.
        starts = result.reps.groupby("individual", observed=True)["start_frame"].first()
        assert starts["bea"] - starts["ann"] == 10
        assert result.summary().endswith("in 3 people (ann: 3, bea: 3, cy: 2)")
    # One person's table (its individual column has one name) counts as that person alone.
    assert count_repetitions(three.individual("cy").to_dataframe(), exercise="squat").count == 2


def test_people_of_several_videos_are_counted_by_video_and_individual():
    from tests.helpers.synthetic import people_track

    rest = ["squat_up"] * 10
    two = people_track(squat_track(PATTERN + rest), squat_track(rest + PATTERN[:-10] + rest))
    joined = pd.concat([two.to_dataframe(video="a.mp4"), two.to_dataframe(video="b.mp4")])
    result = count_repetitions(joined, exercise="squat")
    assert result.counts.index.names == ["video", "individual"]
    assert result.counts.to_dict() == {("a.mp4", "person_0"): 3, ("a.mp4", "person_1"): 2,
                                       ("b.mp4", "person_0"): 3, ("b.mp4", "person_1"): 2}
    assert list(result.reps.columns[:3]) == ["video", "individual", "rep"]
    assert result.summary() == (
        "squat: 10 repetitions of 4 people in 2 videos (a.mp4/person_0: 3, a.mp4/person_1: 2, "
        "b.mp4/person_0: 3, b.mp4/person_1: 2)")
    # The same as a batch track of two videos of two people each.
    batch = PoseTrack.from_dataframe(joined)
    assert batch.is_batch and batch.individuals == ("person_0", "person_1")
    assert count_repetitions(batch, exercise="squat").counts.to_dict() == result.counts.to_dict()


def test_counting_without_a_model_counts_each_person():
    from tests.helpers.synthetic import people_track

    rest = ["squat_up"] * 10
    tracks = [squat_track(PATTERN + rest), squat_track(rest + PATTERN + rest)]
    alone = [count_repetitions(t) for t in tracks]
    assert alone[0].count == 3
    result = count_repetitions(people_track(*[squat_track(PATTERN + rest + rest), tracks[1]]))
    assert result.counts.to_dict() == {"person_0": count_repetitions(
        squat_track(PATTERN + rest + rest)).count, "person_1": alone[1].count}
    frames = result.frames[result.frames.individual == "person_1"].drop(columns="individual")
    pd.testing.assert_frame_equal(frames.reset_index(drop=True), alone[1].frames)
