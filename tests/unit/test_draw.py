"""Drawing: the pixels of rendered figures and frames show the skeleton where the landmarks are."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from posejax import draw, io  # noqa: E402
from posejax.landmarks import PoseLandmark as L  # noqa: E402
from tests.helpers.synthetic import HEIGHT, WIDTH, pose_track, standing_pose_px  # noqa: E402

BACKGROUND = (30, 60, 30)


def background(height=HEIGHT, width=WIDTH) -> np.ndarray:
    return np.full((height, width, 3), BACKGROUND, np.uint8)


def rendered(ax) -> np.ndarray:
    ax.figure.canvas.draw()
    pixels = np.asarray(ax.figure.canvas.buffer_rgba())[..., :3].copy()
    plt.close(ax.figure)
    return pixels


def pixel_of(landmarks: np.ndarray, index: int, height=HEIGHT, width=WIDTH) -> tuple[int, int]:
    """(row, column) of a landmark as MediaPipe places it (in double precision)."""
    x, y = landmarks[index, :2].astype(np.float64)
    return min(int(np.floor(y * height)), height - 1), min(int(np.floor(x * width)), width - 1)


def close(color, expected, tolerance=12) -> bool:
    return bool(np.all(np.abs(np.asarray(color, int) - np.asarray(expected, int)) <= tolerance))


@pytest.fixture(scope="module")
def pose() -> np.ndarray:
    visibility = np.full(33, 0.9)
    visibility[L.LEFT_WRIST] = 0.2  # hidden: no dot, no forearm
    return pose_track(standing_pose_px()[None], visibility=visibility).landmarks[0]


def midpoint(landmarks, a, b) -> tuple[int, int]:
    middle = (landmarks[a, :2].astype(np.float64) + landmarks[b, :2]) / 2
    return int(middle[1] * HEIGHT), int(middle[0] * WIDTH)


def test_skeleton_figure_shows_left_right_colours_at_the_landmarks(pose):
    ax = draw.skeleton(background(), pose, radius=3, line_width=2)
    pixels = rendered(ax)
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    for index in (L.LEFT_KNEE, L.LEFT_SHOULDER, L.LEFT_ANKLE):
        assert close(pixels[pixel_of(pose, index)], draw.LEFT_COLOR), L(index).name
    for index in (L.RIGHT_KNEE, L.RIGHT_HIP, L.RIGHT_WRIST):
        assert close(pixels[pixel_of(pose, index)], draw.RIGHT_COLOR), L(index).name
    assert close(pixels[pixel_of(pose, L.NOSE)], draw.NOSE_COLOR)
    # the thigh between left hip and knee is a light-grey connection
    assert close(pixels[midpoint(pose, L.LEFT_HIP, L.LEFT_KNEE)], draw.CONNECTION_COLOR, 20)
    # the hidden wrist and its forearm are not drawn: the background shows
    assert close(pixels[pixel_of(pose, L.LEFT_WRIST)], BACKGROUND, 2)
    assert close(pixels[midpoint(pose, L.LEFT_ELBOW, L.LEFT_WRIST)], BACKGROUND, 2)
    assert close(pixels[5, 5], BACKGROUND, 2)


def test_skeleton_on_given_axes_and_presence_gate(pose):
    hidden = pose.copy()
    hidden[:, 4] = 0.1  # presence below 0.5: nothing is drawn
    fig, axes = plt.subplots(1, 2)
    assert draw.skeleton(background(), hidden, ax=axes[0]) is axes[0]
    assert len(axes[0].collections) == 2 and axes[0].collections[-1].get_offsets().shape[0] == 0
    draw.skeleton(background(), pose, ax=axes[1])
    assert axes[1].collections[-1].get_offsets().shape[0] == 32
    plt.close(fig)
    with pytest.raises(ValueError, match="33"):
        draw.skeleton(background(), pose[:17])
    with pytest.raises(TypeError, match="uint8"):
        draw.skeleton(background().astype(float), pose)


def test_render_skeleton_draws_into_the_pixels(pose):
    image = background()
    out = draw.render_skeleton(image, pose, radius=3, line_width=2)
    assert out.dtype == np.uint8 and (image == BACKGROUND).all()  # the input is untouched
    assert tuple(out[pixel_of(pose, L.LEFT_KNEE)]) == draw.LEFT_COLOR
    assert tuple(out[pixel_of(pose, L.RIGHT_ANKLE)]) == draw.RIGHT_COLOR
    assert tuple(out[midpoint(pose, L.LEFT_HIP, L.LEFT_KNEE)]) == draw.CONNECTION_COLOR
    assert tuple(out[pixel_of(pose, L.LEFT_WRIST)]) == BACKGROUND
    ring = pixel_of(pose, L.LEFT_KNEE)
    assert tuple(out[ring[0], ring[1] + 4]) == draw.RING_COLOR  # white ring around the dot
    no_pose = np.full((33, 5), np.nan)
    assert (draw.render_skeleton(image, no_pose) == image).all()


def test_landmarks_outside_the_image_are_skipped(pose):
    outside = pose.copy()
    outside[L.LEFT_KNEE, 0] = 1.2
    assert not draw.drawn_landmarks(outside)[L.LEFT_KNEE]
    out = draw.render_skeleton(background(), outside)
    assert tuple(out[midpoint(pose, L.LEFT_HIP, L.LEFT_KNEE)]) == BACKGROUND


def test_world_plot_is_3d_with_one_point_per_visible_landmark():
    world = np.zeros((33, 4))
    world[:, :3] = np.random.default_rng(1).normal(size=(33, 3)) * 0.3
    world[:, 3] = 0.9
    world[L.NOSE, 3] = 0.1
    ax = draw.world(world)
    assert ax.name == "3d"
    points = ax.collections[-1]
    assert len(points._offsets3d[0]) == 32
    # MediaPipe's view: plotted (x, y, z) = (-z, x, -y)
    np.testing.assert_allclose(points._offsets3d[1][0], world[1, 0])
    np.testing.assert_allclose(points._offsets3d[2][0], -world[1, 1])
    plt.close(ax.figure)
    _, flat = plt.subplots()
    with pytest.raises(ValueError, match="3-D"):
        draw.world(world, ax=flat)
    plt.close("all")


def test_mask_overlay_colours_the_person():
    image = background(40, 60)
    mask = np.zeros((40, 60))
    mask[10:30, 20:40] = 1.0
    mask[0, 0] = np.nan
    pixels = rendered(draw.mask(image, mask, color=(0, 0, 255), alpha=0.5))
    assert close(pixels[20, 30], (15, 30, 142), 2)  # half background, half blue
    assert close(pixels[2, 2], BACKGROUND, 2)
    assert close(pixels[0, 0], BACKGROUND, 2)
    hard = draw.blend_mask(image, mask * 0.6, color=(0, 0, 255), alpha=1.0, threshold=0.5)
    assert tuple(hard[20, 30]) == (0, 0, 255) and tuple(hard[5, 5]) == BACKGROUND
    with pytest.raises(ValueError, match="shape"):
        draw.blend_mask(image, mask[:10])


def test_annotate_video_writes_every_frame_with_the_skeleton(tmp_path):
    n = 7
    frames = np.stack([background()] * n)
    src = io.write_video(tmp_path / "src.mp4", frames, fps=10)
    bends = np.linspace(0, 60, n)
    track = pose_track(np.stack([standing_pose_px(b) for b in bends]))
    dst = draw.annotate_video(src, track, tmp_path / "annotated.mp4", progress=False, radius=4)
    video = io.read_video(dst)
    assert (video.n_frames, video.height, video.width, video.fps) == (n, HEIGHT, WIDTH, 10)
    decoded = video.read()
    for i in (0, n - 1):
        landmarks = track.landmarks[i]
        assert close(decoded[i][pixel_of(landmarks, L.LEFT_KNEE)], draw.LEFT_COLOR, 40)
        assert close(decoded[i][pixel_of(landmarks, L.RIGHT_KNEE)], draw.RIGHT_COLOR, 40)
        assert close(decoded[i][5, 5], BACKGROUND, 8)
    # the left ankle moves with the bend: frame 0 and the last frame differ there
    last = pixel_of(track.landmarks[-1], L.LEFT_ANKLE)
    assert close(decoded[-1][last], draw.LEFT_COLOR, 40)
    assert close(decoded[0][last], BACKGROUND, 8)


def test_annotate_video_checks_the_frame_count(tmp_path):
    src = io.write_video(tmp_path / "src.mp4", np.stack([background()] * 3), fps=10)
    track = pose_track(np.stack([standing_pose_px()] * 4))
    with pytest.raises(ValueError, match="3 frames"):
        draw.annotate_video(src, track, tmp_path / "out.mp4", progress=False)


def _labels_inside_the_saved_figure(ax) -> bool:
    """Whether a plain ``savefig`` (no ``bbox_inches``) keeps both axis labels whole."""
    import io as bytes_io

    fig = ax.figure
    fig.savefig(bytes_io.BytesIO(), format="png")  # draws, and lays the figure out as saved
    renderer = fig.canvas.get_renderer()
    inside = all(fig.bbox.contains(*corner)
                 for label in (ax.xaxis.label, ax.yaxis.label)
                 for corner in label.get_window_extent(renderer).corners())
    plt.close(fig)
    return inside


def test_a_time_series_saved_plainly_keeps_its_axis_labels():
    t = np.linspace(0, 2, 50)
    ax = draw.time_series(t, {"left_knee": 90 + 60 * np.cos(np.pi * t)}, ylabel="degrees")
    assert ax.xaxis.label.get_text() == "time (s)"
    assert _labels_inside_the_saved_figure(ax)
    # The same axes on a figure without a layout engine lose the x label: the check can fail.
    _, bare = plt.subplots(figsize=(8, 3.5))
    draw.time_series(t, {"left_knee": t}, ax=bare, ylabel="degrees")
    assert not _labels_inside_the_saved_figure(bare)


def two_people_side_by_side(pose, width=2 * WIDTH, height=HEIGHT) -> np.ndarray:
    """``(2, 33, 5)``: the pose in the left and in the right half of an image twice as wide,
    at the bottom of an image ``height`` tall."""
    left, right = pose.copy(), pose.copy()
    left[:, 0] = pose[:, 0] * WIDTH / width
    right[:, 0] = pose[:, 0] * WIDTH / width + 0.5
    for person in (left, right):
        person[:, 1] = pose[:, 1] * HEIGHT / height + (height - HEIGHT) / height
    return np.stack([left, right])


def test_render_skeleton_draws_each_person_in_its_colour_with_a_label(pose):
    width, height = 2 * WIDTH, 2 * HEIGHT
    image = background(height, width)
    people = two_people_side_by_side(pose, width, height)
    out = draw.render_skeleton(image, people, radius=3, line_width=2, labels=["ann", "bob"])
    colors = [draw.person_color(0), draw.person_color(1)]
    assert colors[0] != colors[1]
    for person, color in zip(people, colors, strict=True):
        assert tuple(out[pixel_of(person, L.LEFT_KNEE, height, width)]) == color
        assert tuple(out[pixel_of(person, L.RIGHT_ANKLE, height, width)]) == color
        middle = (person[L.LEFT_HIP, :2] + person[L.LEFT_KNEE, :2]) / 2
        assert tuple(out[int(middle[1] * height), int(middle[0] * width)]) == color
        # The label: pixels of the person's colour above the whole head, none of the other's.
        head = min(pixel_of(person, i, height, width)[0] for i in range(11)) - 5
        column = pixel_of(person, L.NOSE, height, width)[1]
        box = out[:head, max(0, column - 30) : column + 30].reshape(-1, 3)
        near = (np.abs(box.astype(int) - color) <= 40).all(axis=1)  # the text is antialiased
        assert near.sum() > 10
        other = colors[1] if color == colors[0] else colors[0]
        assert not (np.abs(box.astype(int) - other) <= 40).all(axis=1).any()
    # Without labels: slot numbers, other pixels; without the people nothing above the heads.
    numbered = draw.render_skeleton(image, people, radius=3, line_width=2)
    assert not np.array_equal(numbered, out)
    one = draw.render_skeleton(background(), pose, radius=3, line_width=2)
    assert tuple(one[pixel_of(pose, L.LEFT_KNEE)]) == draw.LEFT_COLOR


def test_skeleton_figure_colours_people_apart(pose):
    width, height = 2 * WIDTH, 2 * HEIGHT
    people = two_people_side_by_side(pose, width, height)
    ax = draw.skeleton(background(height, width), people, labels=["ann", "bob"], radius=3)
    assert [t.get_text() for t in ax.texts] == ["ann", "bob"]
    pixels = rendered(ax)
    for k, person in enumerate(people):
        assert close(pixels[pixel_of(person, L.LEFT_KNEE, height, width)], draw.person_color(k))


def test_annotate_video_draws_every_person(tmp_path):
    import dataclasses

    from tests.helpers.synthetic import people_track

    one = pose_track(np.repeat(standing_pose_px()[None], 3, axis=0))
    shifted = one.landmarks.copy()
    shifted[..., 0] += 0.3
    two = people_track(one, dataclasses.replace(one, landmarks=shifted))
    src = io.write_video(tmp_path / "clip.mp4", np.stack([background()] * 3), fps=10)
    dst = draw.annotate_video(src, two, tmp_path / "out.mp4", progress=False, radius=4)
    decoded = io.read_video(dst).read()
    for k in range(2):
        knee = pixel_of(two.landmarks[1, k], L.LEFT_KNEE)
        assert close(decoded[1][knee], draw.person_color(k), 40)
