"""Record what mediapipe 0.10.21's ``draw_landmarks`` draws, for posejax's drawing tests.

Runs inside the reference venv (``tools/reference_env.py``; started from any other interpreter
it re-executes itself there) and writes ``tests/fixtures/drawing/draw_landmarks.npz``, read by
``tests/unit/solutions/test_drawing_utils.py``.

Every case is one call of ``mediapipe.solutions.drawing_utils.draw_landmarks`` on a canvas of a
single colour (never a photograph): a landmark set, a canvas size and a drawing recipe.

* Landmark sets: MediaPipe's own landmarks of a few shared images and of one frame of the
  bundled Sports2D clip (the numbers of ``tests/fixtures/reference``, complexity 1), and
  synthetic sets: random points partly out of frame with random visibility, points exactly on
  the borders (``x = 1`` is clamped to the last pixel) and just outside them, visibility on the
  threshold, set and unset ``presence``, NaN coordinates. Each is stored as ``(33, 5)`` float32
  ``x, y, z, visibility, presence`` with two boolean columns saying which of visibility and
  presence are set (``HasField``).
* Recipes: MediaPipe's defaults, ``get_default_pose_landmarks_style()``, thin (1 px), filled
  (thickness -1), odd and large thicknesses and radii (each of OpenCV's polygon steps for thick
  circles: 90, 30, 18 and 5 degrees), per-landmark and per-connection specs, no landmarks.

Only the pixels that differ from the canvas colour are stored (rows, columns, values), which
keeps the file small; the test rebuilds the full image from them.

Usage::

    python tools/make_drawing_fixtures.py           # writes the npz
    python tools/make_drawing_fixtures.py --check   # regenerates to memory and compares
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
import reference_data as rd  # noqa: E402
import reference_env  # noqa: E402  (from tools/, above)

MEDIAPIPE_VERSION = "0.10.21"
COMMAND = "python tools/make_drawing_fixtures.py"
OUT = ROOT / "tests" / "fixtures" / "drawing" / "draw_landmarks.npz"
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
#: canvas colour (non-zero, so black drawings show)
BACKGROUND = (17, 34, 51)

#: MediaPipe landmarks of shared images: set name -> (static reference, canvas size from it)
IMAGE_SETS = {
    "yoga_warrior": "mp_pose_yoga_warrior.jpg",
    "standing_man": "tfex_image2_standing_man.jpeg",
    "couple_and_dog": "mps_couple_and_dog.jpeg",
    "basketball": "opencv_basketball1_gray.png",
}

#: recipe name -> JSON description (interpreted here with MediaPipe's classes, in the test with
#: posejax's). "landmark"/"connection": a spec [color, thickness, radius], "pose_style", a cycle
#: of specs over indices ("cycle"), or None; "connections": "pose" (POSE_CONNECTIONS) or
#: "sorted" (the same pairs, sorted, for per-connection colours that overlap) or None.
RECIPES = {
    "defaults": {"landmark": "default", "connection": "default"},
    "pose_style": {"landmark": "pose_style", "connection": "default"},
    "thin": {"landmark": [[255, 0, 0], 1, 3], "connection": [[0, 255, 0], 1, 2]},
    "filled": {"landmark": [[10, 200, 30], -1, 5], "connection": [[0, 0, 0], 4, 2]},
    "odd": {"landmark": [[200, 100, 50], 3, 6], "connection": [[90, 90, 250], 3, 2]},
    "large": {"landmark": [[50, 60, 70], 5, 12], "connection": [[250, 250, 250], 7, 2]},
    "huge": {"landmark": [[1, 2, 3], 2, 16], "connection": [[120, 0, 120], 10, 2]},
    "zero": {"landmark": [[0, 255, 255], 0, 0], "connection": [[255, 255, 0], 1, 0]},
    "per_index": {
        "landmark": {"cycle": [[[255, 0, 0], 1, 0], [[0, 255, 0], 2, 1], [[0, 0, 255], 3, 4],
                               [[255, 255, 0], -1, 3], [[0, 255, 255], 2, 9]]},
        "connection": {"cycle": [[[200, 10, 10], 1, 2], [[10, 200, 10], 2, 2],
                                 [[10, 10, 200], 5, 2], [[200, 200, 10], 3, 2]]},
        "connections": "sorted",
    },
    "no_landmarks": {"landmark": "default", "connection": [[0, 0, 255], 3, 2],
                     "is_drawing_landmarks": False},
    # (MediaPipe's connection_drawing_spec=None raises AttributeError; connections=None works)
    "landmarks_only": {"landmark": "pose_style", "connection": "default", "connections": None},
}

#: (landmark set, canvas (height, width) or None for the image's own size, recipe)
CASES = [
    ("yoga_warrior", None, "pose_style"),
    ("yoga_warrior", None, "defaults"),
    ("standing_man", None, "thin"),
    ("couple_and_dog", None, "filled"),
    ("basketball", None, "per_index"),
    ("sports2d_frame", None, "pose_style"),
    ("random", (480, 640), "defaults"),
    ("random", (480, 640), "pose_style"),
    ("random", (97, 131), "odd"),
    ("random", (97, 131), "per_index"),
    ("random", (30, 20), "large"),
    ("random", (720, 1280), "huge"),
    ("edges", (480, 640), "pose_style"),
    ("edges", (97, 131), "large"),
    ("edges", (30, 20), "filled"),
    ("edges", (1, 1), "defaults"),
    ("presence", (240, 320), "thin"),
    ("presence", (240, 320), "zero"),
    ("nan", (240, 320), "pose_style"),
    ("unset", (160, 90), "no_landmarks"),
    ("unset", (160, 90), "landmarks_only"),
]


# ------------------------------------------------------------------------------ landmark sets ---

def _set(values, has_visibility=True, has_presence=False) -> dict:
    """A landmark set: (33, 5) float32 values and which optional fields are set per landmark."""
    values = np.asarray(values, np.float32)
    n = len(values)
    return {"values": values,
            "has": np.stack([np.broadcast_to(has_visibility, n),
                             np.broadcast_to(has_presence, n)], axis=1).astype(bool)}


def landmark_sets() -> dict[str, dict]:
    """Every landmark set the cases use, with its canvas size where it comes from an image."""
    sets = {}
    for name, image in IMAGE_SETS.items():
        ref = rd.load_static_reference(image)
        values = np.zeros((33, 5), np.float32)
        values[:, :4] = ref["landmarks"][1]
        sets[name] = {**_set(values), "size": ref["meta"]["image_shape"][:2]}
    video = rd.load_video_reference("sports2d_demo")
    low = (video["landmarks"][..., 3] < 0.5).sum(axis=1)
    frame = int(np.argmax(np.where(video["present"], low, -1)))  # most landmarks left out
    values = np.zeros((33, 5), np.float32)
    values[:, :4] = video["landmarks"][frame]
    sets["sports2d_frame"] = {**_set(values), "size": video["meta"]["image_shape"][:2],
                              "frame": frame}

    rng = np.random.default_rng(20261202)
    random = np.zeros((33, 5), np.float32)
    random[:, :2] = rng.uniform(-0.15, 1.15, (33, 2))
    random[:, 2] = rng.normal(0, 0.3, 33)
    random[:, 3] = rng.uniform(0, 1, 33)
    sets["random"] = _set(random)

    edge_xy = [(0, 0), (1, 1), (1, 0), (0, 1), (0.5, 0), (0.5, 1), (0, 0.5), (1, 0.5),
               (1 + 1e-12, 0.5), (0.5, 1 + 1e-6), (-1e-7, 0.3), (0.999999, 0.999999),
               (0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75), (0.5, 0.5),
               (0.01, 0.99), (0.99, 0.01), (1.0000001, 1.0000001)]
    edges = np.zeros((33, 5), np.float32)
    edges[:, :2] = [edge_xy[i % len(edge_xy)] for i in range(33)]
    edges[:, :2] = np.where(np.arange(33)[:, None] >= len(edge_xy),
                            rng.uniform(0, 1, (33, 2)), edges[:, :2])
    edges[:, 3] = 1.0
    edges[[5, 6], 3] = [0.5, np.nextafter(np.float32(0.5), np.float32(0))]  # on the threshold
    sets["edges"] = _set(edges)

    presence = np.zeros((33, 5), np.float32)
    presence[:, :2] = rng.uniform(0.05, 0.95, (33, 2))
    presence[:, 3] = rng.uniform(0, 1, 33)
    presence[:, 4] = rng.uniform(0, 1, 33)
    has_visibility = np.arange(33) % 3 != 0  # every third landmark has no visibility field
    sets["presence"] = _set(presence, has_visibility=has_visibility, has_presence=True)

    nan = presence.copy()
    nan[::4, 0] = np.nan
    nan[1::4, 1] = np.nan
    nan[:, 3] = 0.9
    sets["nan"] = _set(nan)

    unset = presence.copy()
    unset[:, 3:] = 0.0  # would hide every landmark if the fields counted
    sets["unset"] = _set(unset, has_visibility=False, has_presence=False)
    return sets


# ------------------------------------------------------------------------------------ drawing ---

def _spec(description, drawing_utils, drawing_styles, count):
    """MediaPipe's spec (or mapping) for a recipe entry."""
    if description is None:
        return None
    if description == "pose_style":
        return drawing_styles.get_default_pose_landmarks_style()
    if isinstance(description, dict):
        cycle = [drawing_utils.DrawingSpec(tuple(c), t, r) for c, t, r in description["cycle"]]
        return [cycle[i % len(cycle)] for i in range(count)]
    color, thickness, radius = description
    return drawing_utils.DrawingSpec(color=tuple(color), thickness=thickness,
                                     circle_radius=radius)


def _landmark_list(landmark_set: dict):
    from mediapipe.framework.formats import landmark_pb2

    out = landmark_pb2.NormalizedLandmarkList()
    for row, (has_visibility, has_presence) in zip(landmark_set["values"], landmark_set["has"],
                                                   strict=True):
        landmark = out.landmark.add()
        landmark.x, landmark.y, landmark.z = float(row[0]), float(row[1]), float(row[2])
        if has_visibility:
            landmark.visibility = float(row[3])
        if has_presence:
            landmark.presence = float(row[4])
    return out


def draw_case(landmark_set: dict, size, recipe: dict) -> np.ndarray:
    """The canvas after MediaPipe's ``draw_landmarks`` with one recipe."""
    from mediapipe.python.solutions import drawing_styles, drawing_utils
    from mediapipe.python.solutions import pose as mp_pose

    canvas = np.empty((*size, 3), np.uint8)
    canvas[:] = BACKGROUND
    connections = {"pose": mp_pose.POSE_CONNECTIONS, "sorted": sorted(mp_pose.POSE_CONNECTIONS),
                   None: None}[recipe.get("connections", "pose")]
    kwargs = {}
    if recipe["landmark"] != "default":
        spec = _spec(recipe["landmark"], drawing_utils, drawing_styles, 33)
        kwargs["landmark_drawing_spec"] = (dict(enumerate(spec)) if isinstance(spec, list)
                                           else spec)
    if recipe["connection"] != "default":
        spec = _spec(recipe["connection"], drawing_utils, drawing_styles, len(connections or ()))
        kwargs["connection_drawing_spec"] = (dict(zip(connections, spec, strict=True))
                                             if isinstance(spec, list) else spec)
    if "is_drawing_landmarks" in recipe:
        kwargs["is_drawing_landmarks"] = recipe["is_drawing_landmarks"]
    drawing_utils.draw_landmarks(canvas, _landmark_list(landmark_set), connections, **kwargs)
    return canvas


def _versions() -> dict:
    import cv2
    import mediapipe

    return {"mediapipe": mediapipe.__version__, "opencv": cv2.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0]}


def build() -> tuple[dict, dict]:
    """Arrays and meta of the fixture."""
    from mediapipe.python.solutions import drawing_styles
    from mediapipe.python.solutions import pose as mp_pose

    sets = landmark_sets()
    arrays, cases = {}, []
    for name, landmark_set in sets.items():
        arrays[f"set_{name}_values"] = landmark_set["values"]
        arrays[f"set_{name}_has"] = landmark_set["has"]
    for index, (set_name, size, recipe_name) in enumerate(CASES):
        landmark_set = sets[set_name]
        size = tuple(int(s) for s in (size or landmark_set["size"]))
        canvas = draw_case(landmark_set, size, RECIPES[recipe_name])
        rows, cols = np.nonzero((canvas != np.array(BACKGROUND, np.uint8)).any(axis=-1))
        arrays[f"case{index:02d}_rows"] = rows.astype(np.uint16)
        arrays[f"case{index:02d}_cols"] = cols.astype(np.uint16)
        arrays[f"case{index:02d}_values"] = canvas[rows, cols]
        cases.append({"set": set_name, "size": list(size), "recipe": recipe_name,
                      "drawn_pixels": int(len(rows))})
    style = drawing_styles.get_default_pose_landmarks_style()
    meta = {
        "versions": _versions(),
        "command": COMMAND,
        "background": list(BACKGROUND),
        "recipes": RECIPES,
        "cases": cases,
        "sports2d_frame": sets["sports2d_frame"]["frame"],
        "pose_connections": sorted([list(c) for c in mp_pose.POSE_CONNECTIONS]),
        "pose_style": {int(k): [list(v.color), v.thickness, v.circle_radius]
                       for k, v in sorted(style.items())},
    }
    return arrays, meta


def _npz_bytes(arrays: dict, meta: dict) -> bytes:
    """``np.savez_compressed`` with fixed zip timestamps, so equal numbers give equal bytes."""
    arrays = {**arrays, "meta": np.array(json.dumps(meta, sort_keys=True, indent=1))}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            archive.writestr(info, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED,
                             compresslevel=9)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate in memory and compare with the committed file")
    args = parser.parse_args(argv)
    reference_env.run_under_reference(__file__)
    data = _npz_bytes(*build())
    if args.check:
        same = OUT.exists() and OUT.read_bytes() == data
        print(f"{OUT.relative_to(ROOT)}: {'identical' if same else 'DIFFERS'}")
        sys.exit(0 if same else 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(data) / 1024:.0f} KiB, {len(CASES)} cases)")


if __name__ == "__main__":
    main()
