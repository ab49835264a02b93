"""``mp.solutions.drawing_utils`` draws the pixels mediapipe 0.10.21's ``draw_landmarks`` draws.

The reference is ``tests/fixtures/drawing/draw_landmarks.npz`` (``tools/make_drawing_fixtures.py``
runs MediaPipe's own function, with its OpenCV 4.11, on canvases of one colour); each case is
compared pixel for pixel. The OpenCV primitives are also checked directly against ``cv2`` when
the test extra's OpenCV is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import posejax as mp  # noqa: E402
from posejax.solutions import _raster, drawing_styles, drawing_utils  # noqa: E402
from posejax.solutions.pose import NormalizedLandmark, NormalizedLandmarkList  # noqa: E402
from tests.helpers.reference_data import REPO  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "drawing" / "draw_landmarks.npz"
REGENERATE = "regenerate with `python tools/make_drawing_fixtures.py`"


def _load() -> dict:
    with np.load(FIXTURE, allow_pickle=False) as npz:
        data = {key: npz[key] for key in npz.files}
    data["meta"] = json.loads(str(data["meta"]))
    return data


DATA = _load()
META = DATA["meta"]


def landmark_list(name: str) -> NormalizedLandmarkList:
    """A fixture landmark set as posejax's result type, fields set as in MediaPipe's proto."""
    values, has = DATA[f"set_{name}_values"], DATA[f"set_{name}_has"]
    landmarks = []
    for row, (has_visibility, has_presence) in zip(values, has, strict=True):
        fields = {"x", "y", "z"}
        fields |= {"visibility"} if has_visibility else set()
        fields |= {"presence"} if has_presence else set()
        landmarks.append(NormalizedLandmark(*(float(v) for v in row), _set=frozenset(fields)))
    return NormalizedLandmarkList(landmarks)


def _spec(description, count):
    if description == "pose_style":
        return drawing_styles.get_default_pose_landmarks_style()
    if isinstance(description, dict):
        cycle = [drawing_utils.DrawingSpec(tuple(c), t, r) for c, t, r in description["cycle"]]
        return [cycle[i % len(cycle)] for i in range(count)]
    color, thickness, radius = description
    return drawing_utils.DrawingSpec(tuple(color), thickness, radius)


def draw_recipe(canvas: np.ndarray, landmarks, recipe: dict) -> None:
    """What the fixture script does with MediaPipe's classes, with posejax's."""
    pose_connections = mp.solutions.pose.POSE_CONNECTIONS
    connections = {"pose": pose_connections, "sorted": sorted(pose_connections),
                   None: None}[recipe.get("connections", "pose")]
    kwargs = {}
    if recipe["landmark"] != "default":
        spec = _spec(recipe["landmark"], 33)
        kwargs["landmark_drawing_spec"] = dict(enumerate(spec)) if isinstance(spec, list) else spec
    if recipe["connection"] != "default":
        spec = _spec(recipe["connection"], len(connections or ()))
        kwargs["connection_drawing_spec"] = (dict(zip(connections, spec, strict=True))
                                             if isinstance(spec, list) else spec)
    if "is_drawing_landmarks" in recipe:
        kwargs["is_drawing_landmarks"] = recipe["is_drawing_landmarks"]
    mp.solutions.drawing_utils.draw_landmarks(canvas, landmarks, connections, **kwargs)


def expected_canvas(index: int) -> np.ndarray:
    case = META["cases"][index]
    canvas = np.empty((*case["size"], 3), np.uint8)
    canvas[:] = META["background"]
    key = f"case{index:02d}"
    canvas[DATA[f"{key}_rows"], DATA[f"{key}_cols"]] = DATA[f"{key}_values"]
    return canvas


def blank(size) -> np.ndarray:
    canvas = np.empty((*size, 3), np.uint8)
    canvas[:] = META["background"]
    return canvas


def difference(ours: np.ndarray, theirs: np.ndarray) -> str:
    wrong = np.argwhere((ours != theirs).any(axis=-1))
    return f"{len(wrong)} pixels differ, e.g. (row, col) {wrong[:5].tolist()}"


CASE_IDS = [f"{i:02d}-{c['set']}-{c['size'][0]}x{c['size'][1]}-{c['recipe']}"
            for i, c in enumerate(META["cases"])]


def test_fixture_was_made_by_mediapipe_0_10_21():
    assert META["versions"]["mediapipe"] == "0.10.21", REGENERATE
    assert META["versions"]["opencv"].startswith("4."), META["versions"]


@pytest.mark.parametrize("index", range(len(META["cases"])), ids=CASE_IDS)
def test_draw_landmarks_draws_mediapipes_pixels(index):
    case = META["cases"][index]
    canvas = blank(case["size"])
    draw_recipe(canvas, landmark_list(case["set"]), META["recipes"][case["recipe"]])
    theirs = expected_canvas(index)
    assert case["drawn_pixels"] > 0 or case["set"] == "edges"
    assert np.array_equal(canvas, theirs), difference(canvas, theirs)


def test_the_fixture_cases_cover_what_they_claim():
    """Border, threshold, NaN and presence sets leave landmarks out, and thick circles of every
    polygon step (90, 30, 18, 5 degrees) are drawn."""
    values, has = DATA["set_random_values"], DATA["set_random_has"]
    assert has[:, 0].all() and (values[:, 3] < 0.5).any() and ((values[:, :2] > 1).any())
    assert DATA["set_presence_has"][:, 1].all() and not DATA["set_presence_has"][:, 0].all()
    assert np.isnan(DATA["set_nan_values"][:, :2]).any()
    radii = {r for recipe in META["recipes"].values() if isinstance(recipe["landmark"], list)
             for r in [recipe["landmark"][2]]}
    border_radii = {max(r + 1, int(r * 1.2)) for r in radii}
    assert {r for r in radii | border_radii if r < 3} and {r for r in radii if 3 <= r < 10}
    assert {r for r in border_radii if 10 <= r < 15} and {r for r in border_radii if r >= 15}


@pytest.mark.parametrize("name", ["yoga_warrior", "random", "edges"])
def test_arrays_and_plain_objects_draw_like_the_landmark_list(name):
    values = DATA[f"set_{name}_values"]
    assert DATA[f"set_{name}_has"][:, 0].all() and not DATA[f"set_{name}_has"][:, 1].any()
    size = (97, 131)
    reference = blank(size)
    drawing_utils.draw_landmarks(reference, landmark_list(name), mp.solutions.pose.POSE_CONNECTIONS)
    as_array = blank(size)
    drawing_utils.draw_landmarks(as_array, values[:, :4], mp.solutions.pose.POSE_CONNECTIONS)
    assert np.array_equal(as_array, reference), difference(as_array, reference)
    objects = types.SimpleNamespace(landmark=[
        types.SimpleNamespace(x=float(r[0]), y=float(r[1]), z=float(r[2]), visibility=float(r[3]),
                              presence=None) for r in values])
    as_objects = blank(size)
    drawing_utils.draw_landmarks(as_objects, objects, mp.solutions.pose.POSE_CONNECTIONS)
    assert np.array_equal(as_objects, reference), difference(as_objects, reference)


def test_pose_connections_and_style_are_mediapipes():
    ours = sorted([list(c) for c in mp.solutions.pose.POSE_CONNECTIONS])
    assert ours == META["pose_connections"]
    style = drawing_styles.get_default_pose_landmarks_style()
    assert {str(int(k)): [list(v.color), v.thickness, v.circle_radius]
            for k, v in style.items()} == META["pose_style"]


def test_posejax_pose_results_draw(tmp_path):
    """A PoseResult's landmark list (presence unset, as MediaPipe's) draws like its array."""
    values = DATA["set_yoga_warrior_values"]
    result_list = NormalizedLandmarkList(
        [NormalizedLandmark(*(float(v) for v in row[:4]), 0.0) for row in values])
    assert not result_list.landmark[0].HasField("presence")
    ours, theirs = blank((667, 1000)), blank((667, 1000))
    drawing_utils.draw_landmarks(ours, result_list, mp.solutions.pose.POSE_CONNECTIONS,
                                 drawing_styles.get_default_pose_landmarks_style())
    draw_recipe(theirs, landmark_list("yoga_warrior"), META["recipes"]["pose_style"])
    assert np.array_equal(ours, theirs)


# ---------------------------------------------------------------------------- the primitives ---

def _random_primitives(seed: int, count: int, inside_only: bool):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        height, width = (int(v) for v in rng.integers(1, 48, 2))
        margin = 0 if inside_only else 15
        if rng.random() < 0.5:
            x1, x2 = (int(v) for v in rng.integers(-margin, width + margin, 2))
            y1, y2 = (int(v) for v in rng.integers(-margin, height + margin, 2))
            yield "line", height, width, (x1, y1, x2, y2), int(rng.choice([1, 2, 3, 4, 5, 8]))
        else:
            cx = int(rng.integers(-margin, width + margin))
            cy = int(rng.integers(-margin, height + margin))
            radius = int(rng.choice([0, 1, 2, 3, 4, 6, 9, 10, 12, 14, 15, 19]))
            yield "circle", height, width, (cx, cy, radius), int(rng.choice([-1, 0, 1, 2, 3, 5]))


def test_primitives_match_opencv():
    """``cv2.line`` / ``cv2.circle`` (LINE_8) against :mod:`posejax.solutions._raster`.

    MediaPipe's own OpenCV (4.11) matches everywhere (the fixture, and 23,000 random cases when
    this module was written); OpenCV 5 changed thick lines whose ends lie outside the image,
    which MediaPipe never draws (its points are clamped into the image), so with OpenCV 5 only
    ends inside the image are compared.
    """
    cv2 = pytest.importorskip("cv2", reason="OpenCV comes with the test extra")
    inside_only = not cv2.__version__.startswith("4.")
    wrong = []
    for kind, height, width, args, thickness in _random_primitives(0, 1500, inside_only):
        image = np.zeros((height, width, 3), np.uint8)
        ours = np.zeros((height, width), bool)
        if kind == "line":
            cv2.line(image, args[:2], args[2:], (255, 255, 255), thickness)
            ours[_raster.line(width, height, *args, thickness)] = True
        else:
            cv2.circle(image, args[:2], args[2], (255, 255, 255), thickness)
            ours[_raster.circle(width, height, *args, thickness)] = True
        if not np.array_equal(ours, image[..., 0] > 0):
            wrong.append((kind, height, width, args, thickness))
    assert not wrong, f"{len(wrong)} primitives differ from OpenCV {cv2.__version__}: {wrong[:5]}"


@pytest.mark.parametrize("radius", [0, 1, 2, 3, 5, 9, 10, 14, 15, 24])
@pytest.mark.parametrize("thickness", [2, 3, 4, 7])
def test_thick_circle_stamp_is_the_full_computation(radius, thickness):
    """Away from the borders circles come from a cached stamp; it equals the full algorithm."""
    size = 2 * (radius + thickness) + 12
    for cx, cy in ((size // 2, size // 2), (size // 2 + 1, size // 2 - 1)):
        full = np.zeros((size, size), bool)
        full[_raster._thick_circle(size, size, cx, cy, radius, thickness)] = True
        stamped = np.zeros((size, size), bool)
        stamped[_raster.circle(size, size, cx, cy, radius, thickness)] = True
        assert np.array_equal(stamped, full)


# --------------------------------------------------------------------------- API and errors ---

def test_drop_in_namespace():
    assert mp.solutions.drawing_utils is drawing_utils
    assert mp.solutions.drawing_styles is drawing_styles
    assert drawing_utils.DrawingSpec() == drawing_utils.DrawingSpec((224, 224, 224), 2, 2)
    assert drawing_utils.RED_COLOR == (0, 0, 255) and drawing_utils.WHITE_COLOR == (224, 224, 224)
    assert drawing_utils._normalized_to_pixel_coordinates(1.0, 0.0, 640, 480) == (639, 0)
    assert drawing_utils._normalized_to_pixel_coordinates(float("nan"), 0.5, 640, 480) is None


def test_drawing_imports_no_opencv():
    code = ("import sys, numpy as np\n"
            "class Block:\n"
            "    def find_spec(self, name, *args):\n"
            "        if name == 'cv2': raise ImportError('no OpenCV at runtime')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import posejax as mp\n"
            "image = np.zeros((50, 50, 3), np.uint8)\n"
            "points = np.array([[0.2, 0.2, 0, 1], [0.8, 0.7, 0, 1]])\n"
            "mp.solutions.drawing_utils.draw_landmarks(image, points, [(0, 1)])\n"
            "assert image.any() and 'cv2' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(REPO))


def test_rgb_and_other_dtypes_get_the_numbers_given():
    points = np.array([[0.5, 0.5, 0.0, 1.0]])
    spec = drawing_utils.DrawingSpec(color=(10, 20, 300), thickness=-1, circle_radius=3)
    image = np.zeros((20, 20, 3), np.uint8)
    drawing_utils.draw_landmarks(image, points, landmark_drawing_spec=spec)
    assert image[10, 10].tolist() == [10, 20, 255]  # saturated, channel order as given
    floats = np.zeros((20, 20, 3), np.float32)
    drawing_utils.draw_landmarks(floats, points, landmark_drawing_spec=spec)
    assert floats[10, 10].tolist() == [10, 20, 300]


def test_errors_say_what_is_wrong():
    points = np.array([[0.5, 0.5, 0.0, 1.0], [0.1, 0.1, 0.0, 1.0]])
    with pytest.raises(ValueError, match="three channel"):
        drawing_utils.draw_landmarks(np.zeros((10, 10, 4), np.uint8), points)
    with pytest.raises(ValueError, match="Invalid connection from landmark #0 to landmark #5"):
        drawing_utils.draw_landmarks(np.zeros((10, 10, 3), np.uint8), points, [(0, 5)])
    with pytest.raises(ValueError, match="thickness"):
        drawing_utils.draw_landmarks(np.zeros((10, 10, 3), np.uint8), points, [(0, 1)],
                                     connection_drawing_spec=drawing_utils.DrawingSpec(thickness=0))
    with pytest.raises(ValueError, match="shape"):
        drawing_utils.draw_landmarks(np.zeros((10, 10, 3), np.uint8), np.zeros((33, 7)))
    image = np.zeros((10, 10, 3), np.uint8)
    drawing_utils.draw_landmarks(image, None)  # no pose: nothing drawn, as in MediaPipe
    assert not image.any()


def test_plot_landmarks_is_mediapipes_3d_plot():
    world = DATA["set_yoga_warrior_values"][:, :4].copy()
    world[:, :3] -= world[:, :3].mean(axis=0)
    world[3, 3] = 0.1  # not visible: left out, with its connections
    ax = drawing_utils.plot_landmarks(world, mp.solutions.pose.POSE_CONNECTIONS)  # + plt.show()
    try:
        assert ax.name == "3d" and (ax.elev, ax.azim) == (10, 10)
        assert tuple(ax.figure.get_size_inches()) == (10, 10)
        assert len(ax.collections) == 32
        shown = sum(1 for a, b in mp.solutions.pose.POSE_CONNECTIONS if 3 not in (a, b))
        assert len(ax.lines) == shown
        xs, ys, zs = ax.lines[0].get_data_3d()
        assert ax.lines[0].get_color() == (0.0, 0.0, 0.0) and ax.lines[0].get_linewidth() == 5
        point = np.array(ax.collections[0]._offsets3d).ravel()
        np.testing.assert_allclose(point, [-world[0, 2], world[0, 0], -world[0, 1]], rtol=1e-6)
        assert drawing_utils.plot_landmarks(None) is None
    finally:
        plt.close("all")
