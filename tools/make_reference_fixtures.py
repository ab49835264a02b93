"""Record MediaPipe Pose 0.10.21 outputs as the reference fixtures posejax is tested against.

Runs inside the reference venv (``tools/reference_env.py``); started from any other interpreter
it creates or checks that venv and re-executes itself there. Writes one npz per image and per
video into ``tests/fixtures/reference/`` plus a README.md listing what is in them. The arrays are
documented in ``tests/helpers/reference_data.py``, which also holds the image and video
decoding shared with the tests.

What is run, exactly as a user of the released package would:

* static images: ``mp.solutions.pose.Pose(static_image_mode=True, model_complexity=c,
  enable_segmentation=True)`` for c = 0, 1, 2, one ``Pose`` per complexity processing the images
  in order;
* videos: ``Pose(model_complexity=1)`` (video mode, smoothing on, default thresholds),
  ``process()`` once per decoded frame; the segmentation sequence adds
  ``enable_segmentation=True`` (``smooth_segmentation`` left at its default).

Intermediate streams (detection, ROIs, unfiltered and auxiliary landmarks, the presence score,
ROI-space landmarks before and after heatmap refinement) come from a second graph built by
``SolutionBase`` with the same side packets and options as ``pose.py`` but more observed output
streams. Every frame goes through both that graph and a plain ``Pose``; the script stops if their
landmarks, world landmarks or masks differ by a single bit.

Usage::

    python tools/make_reference_fixtures.py                 # everything (a few minutes)
    python tools/make_reference_fixtures.py --only static   # or: --only videos
    python tools/make_reference_fixtures.py --check         # regenerate to a temp dir, compare
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
import reference_data as rd  # noqa: E402
import reference_env  # noqa: E402  (from tools/, above)

MEDIAPIPE_VERSION = "0.10.21"
COMMAND = "python tools/make_reference_fixtures.py"
NUM_LANDMARKS = 33
#: options of the RefineLandmarksFromHeatmap node reach C++ only if this module is imported; the
#: released package never imports it (POSE_PIPELINE.md section 12a), so neither may we.
HEATMAP_OPTIONS_MODULE = (
    "mediapipe.calculators.util.refine_landmarks_from_heatmap_calculator_pb2")

_BY_ROI = "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__"
#: fixture key -> graph stream of the flattened ``pose_landmark_cpu`` graph
TAPPED_STREAMS = {
    "detection": "pose_detection",
    "num_detections": "pose_detections",
    "roi": "pose_rect",
    "roi_from_detection": "pose_rect_from_detection",
    "roi_from_landmarks": "pose_rect_from_landmarks",
    "presence_score": _BY_ROI + "pose_presence_score",
    "unfiltered_landmarks": "unfiltered_pose_landmarks",
    "unfiltered_world": "unfiltered_world_landmarks",
    "unfiltered_auxiliary": "unfiltered_auxiliary_landmarks",
    "auxiliary": "auxiliary_landmarks",
    "roi_landmarks_raw": _BY_ROI + "raw_landmarks",
    "roi_landmarks_refined": _BY_ROI + "all_landmarks",
}
#: the ROI-space streams are kept for static images only (they would triple the video fixtures)
VIDEO_SKIPPED_TAPS = ("roi_landmarks_raw", "roi_landmarks_refined")
MAIN_OUTPUTS = ("pose_landmarks", "pose_world_landmarks", "segmentation_mask")
VIDEO_OPTIONS = {"static_image_mode": False, "model_complexity": 1, "smooth_landmarks": True,
                 "smooth_segmentation": True, "min_detection_confidence": 0.5,
                 "min_tracking_confidence": 0.5}
MODEL_COMPLEXITIES = (0, 1, 2)

# Fixed zip timestamps make regenerated files byte-identical when the numbers are.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)


# ------------------------------------------------------------------------------------ graphs ---

def _make_pose_classes():
    """The plain ``Pose`` class and a copy of it that observes :data:`TAPPED_STREAMS` too."""
    from mediapipe.python import solution_base
    from mediapipe.python.solutions import pose as mp_pose

    class TappedPose(mp_pose.Pose):
        """``mp_pose.Pose`` with extra observed streams; side packets and options as pose.py."""

        def __init__(self, static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                     enable_segmentation=False, smooth_segmentation=True,
                     min_detection_confidence=0.5, min_tracking_confidence=0.5):
            solution_base.SolutionBase.__init__(
                self,
                binary_graph_path=mp_pose._BINARYPB_FILE_PATH,
                side_inputs={
                    "model_complexity": model_complexity,
                    "smooth_landmarks": smooth_landmarks and not static_image_mode,
                    "enable_segmentation": enable_segmentation,
                    "smooth_segmentation": smooth_segmentation and not static_image_mode,
                    "use_prev_landmarks": not static_image_mode,
                },
                calculator_params={
                    "posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh":
                        min_detection_confidence,
                    "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__"
                    "ThresholdingCalculator.threshold": min_tracking_confidence,
                },
                outputs=[*MAIN_OUTPUTS, *TAPPED_STREAMS.values()])

    return mp_pose.Pose, TappedPose


def _landmark_array(landmark_list, count: int, with_presence: bool) -> np.ndarray:
    fields = 5 if with_presence else 4
    out = np.full((count, fields), np.nan, np.float32)
    if landmark_list is None:
        return out
    if len(landmark_list.landmark) != count:
        raise RuntimeError(f"expected {count} landmarks, got {len(landmark_list.landmark)}")
    for i, lm in enumerate(landmark_list.landmark):
        values = (lm.x, lm.y, lm.z, lm.visibility, lm.presence)
        out[i] = values[:fields]
    return out


def _rect_array(rect) -> np.ndarray:
    if rect is None:
        return np.full(5, np.nan, np.float32)
    return np.array([rect.x_center, rect.y_center, rect.width, rect.height, rect.rotation],
                    np.float32)


def _detection_array(detection) -> np.ndarray:
    out = np.full(13, np.nan, np.float32)
    if detection is None:
        return out
    box = detection.location_data.relative_bounding_box
    keypoints = detection.location_data.relative_keypoints
    if len(keypoints) != 4 or len(detection.score) != 1:
        raise RuntimeError(f"unexpected detection layout: {len(keypoints)} keypoints, "
                           f"{len(detection.score)} scores")
    out[:5] = (detection.score[0], box.xmin, box.ymin, box.width, box.height)
    out[5:] = [v for kp in keypoints for v in (kp.x, kp.y)]
    return out


def _main_arrays(result) -> dict:
    mask = result.segmentation_mask
    return {
        "landmarks": _landmark_array(result.pose_landmarks, NUM_LANDMARKS, False),
        "world": _landmark_array(result.pose_world_landmarks, NUM_LANDMARKS, False),
        "has_pose": result.pose_landmarks is not None,
        "mask_float": None if mask is None else np.array(mask, np.float32),
    }


def _tapped_arrays(result, skip=()) -> dict:
    get = {stream: getattr(result, stream) for stream in TAPPED_STREAMS.values()}
    score = get[TAPPED_STREAMS["presence_score"]]
    detections = get[TAPPED_STREAMS["num_detections"]]
    arrays = {
        "detection": _detection_array(get["pose_detection"]),
        "num_detections": np.int32(0 if detections is None else len(detections)),
        "roi": _rect_array(get["pose_rect"]),
        "roi_from_detection": _rect_array(get["pose_rect_from_detection"]),
        "roi_from_landmarks": _rect_array(get["pose_rect_from_landmarks"]),
        "presence_score": np.float32(np.nan if score is None else score),
        "unfiltered_landmarks": _landmark_array(get["unfiltered_pose_landmarks"], 33, True),
        "unfiltered_world": _landmark_array(get["unfiltered_world_landmarks"], 33, False),
        "unfiltered_auxiliary": _landmark_array(get["unfiltered_auxiliary_landmarks"], 2, True),
        "auxiliary": _landmark_array(get["auxiliary_landmarks"], 2, True),
        "roi_landmarks_raw": _landmark_array(get[TAPPED_STREAMS["roi_landmarks_raw"]], 39, True),
        "roi_landmarks_refined": _landmark_array(
            get[TAPPED_STREAMS["roi_landmarks_refined"]], 39, True),
    }
    return {key: value for key, value in arrays.items() if key not in skip}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def _run_both(plain, tapped, rgb: np.ndarray, where: str, skip=()) -> dict:
    """Process ``rgb`` with both graphs, insist on identical main outputs, merge the arrays."""
    result = tapped.process(rgb)
    main, taps = _main_arrays(result), _tapped_arrays(result, skip)
    check = _main_arrays(plain.process(rgb))
    for key in main:
        if not _same(main[key], check[key]):
            raise RuntimeError(f"{where}: observing extra streams changed '{key}'")
    return {**main, **taps}


def _mask_bits(mask_float: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    # "> 0.5" equals the mask.round() of MediaPipe's own pose_test.py (0.5 rounds to even, 0).
    mask = np.zeros(shape, bool) if mask_float is None else mask_float > 0.5
    if mask.shape != shape:
        raise RuntimeError(f"mask shape {mask.shape} differs from the image's {shape}")
    return np.packbits(mask.reshape(-1))


# -------------------------------------------------------------------------------------- output ---

def _versions() -> dict:
    import importlib.metadata

    import mediapipe
    return {"mediapipe": mediapipe.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0],
            **{dist: importlib.metadata.version(dist) for dist in ("imageio", "av", "pillow")}}


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_npz(path: Path, arrays: dict, meta: dict) -> None:
    """``np.savez_compressed`` with fixed zip timestamps, so equal numbers give equal bytes."""
    import io

    arrays = {**arrays, "meta": np.array(json.dumps(meta, sort_keys=True, indent=1))}
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            archive.writestr(info, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED,
                             compresslevel=9)


def _media(root: str, relative: str) -> tuple[Path, dict]:
    path = {"shared": rd.SHARED_DATA, "repo": rd.REPO}[root] / relative
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; the shared test media must sit at "
                                f"{rd.SHARED_DATA.resolve()}")
    return path, {"root": root, "path": relative, "file_sha256": _file_sha256(path)}


def _common_meta(command: str) -> dict:
    return {"versions": _versions(), "command": command, "streams": TAPPED_STREAMS,
            "taps_match_plain_pose": True,
            "mask_encoding": "np.packbits((segmentation_mask > 0.5).reshape(-1)) per (H, W) mask; "
                             "all False when there is no pose"}


def _stack(rows: list[dict], keys) -> dict:
    return {key: np.stack([np.asarray(row[key]) for row in rows]) for key in keys}


# -------------------------------------------------------------------------------------- static ---

def make_static(out_dir: Path, command: str, images=rd.STATIC_IMAGES) -> None:
    """Static-image references for ``images`` at every model complexity."""
    Pose, TappedPose = _make_pose_classes()
    media = {name: _media("shared", f"images/{name}") for name in images}
    decoded = {name: rd.load_rgb(path) for name, (path, _) in media.items()}
    rows = {name: [] for name in images}
    for complexity in MODEL_COMPLEXITIES:
        options = {"static_image_mode": True, "model_complexity": complexity,
                   "enable_segmentation": True}
        with Pose(**options) as plain, TappedPose(**options) as tapped:
            for name in images:
                rgb = decoded[name]
                row = _run_both(plain, tapped, rgb, f"{name} complexity {complexity}")
                row["mask_bits"] = _mask_bits(row.pop("mask_float"), rgb.shape[:2])
                rows[name].append(row)
                print(f"static {name} c{complexity}: pose={row['has_pose']}", file=sys.stderr)
    for name in images:
        rgb = decoded[name]
        arrays = _stack(rows[name], rows[name][0].keys())
        arrays["rgb_sha256"] = np.array(rd.rgb_sha256(rgb))
        meta = {**_common_meta(command), "kind": "static", "media": media[name][1],
                "image_shape": list(rgb.shape),
                "decoding": "reference_data.load_rgb: imageio.v3.imread, gray repeated to 3 "
                            "channels, alpha dropped",
                "axis0": "model_complexity 0, 1, 2",
                "options": {"static_image_mode": True, "model_complexity": list(MODEL_COMPLEXITIES),
                            "enable_segmentation": True, "smooth_landmarks": True,
                            "smooth_segmentation": True, "min_detection_confidence": 0.5,
                            "min_tracking_confidence": 0.5},
                "processing": "one Pose per complexity processed all images in the order of "
                              "reference_data.STATIC_IMAGES"}
        _write_npz(out_dir / f"static_{Path(name).stem}.npz", arrays, meta)


# -------------------------------------------------------------------------------------- videos ---

def make_video(out_dir: Path, command: str, name: str) -> None:
    """Video-mode reference for ``rd.VIDEOS[name]``, one ``process()`` per frame."""
    import imageio.v3 as iio

    root, relative, stop = rd.VIDEOS[name]
    path, media = _media(root, relative)
    segmentation = name.endswith("_segmentation")
    options = {**VIDEO_OPTIONS, "enable_segmentation": segmentation}
    Pose, TappedPose = _make_pose_classes()
    rows, frame_hashes, shape = [], [], None
    with Pose(**options) as plain, TappedPose(**options) as tapped:
        for index, frame in enumerate(rd.iter_video_frames(path, stop)):
            shape = frame.shape
            row = _run_both(plain, tapped, frame, f"{name} frame {index}", VIDEO_SKIPPED_TAPS)
            mask = row.pop("mask_float")
            if segmentation:
                row["mask_bits"] = _mask_bits(mask, frame.shape[:2])
            row["present"] = row.pop("has_pose")
            rows.append(row)
            frame_hashes.append(rd.rgb_sha256(frame))
    if stop is not None and len(rows) != stop:
        raise RuntimeError(f"{path} has {len(rows)} frames, fewer than the {stop} requested")
    arrays = _stack(rows, rows[0].keys())
    arrays["frame_sha256"] = np.array(frame_hashes)
    present = arrays["present"]
    print(f"video {name}: {present.sum()}/{len(present)} frames with a pose", file=sys.stderr)
    meta = {**_common_meta(command), "kind": "video", "media": media, "image_shape": list(shape),
            "num_frames": len(rows), "frame_stop": stop,
            "fps": float(iio.immeta(path, plugin="pyav").get("fps", float("nan"))),
            "decoding": "reference_data.iter_video_frames: imageio.v3.imiter(plugin='pyav', "
                        "format='rgb24')",
            "axis0": "frame index",
            "timestamps": "SolutionBase sends frame k (1-based) at 33333*k us, whatever the "
                          "file's frame rate",
            "options": options,
            "skipped_streams": list(VIDEO_SKIPPED_TAPS)}
    _write_npz(out_dir / f"video_{name}.npz", arrays, meta)


# ------------------------------------------------------------------------------------- summary ---

def write_readme(out_dir: Path) -> None:
    """Describe the npz files found in ``out_dir`` (sizes, poses found, streams, command)."""
    static_rows, video_rows, total = [], [], 0
    streams, versions = {}, {}
    for path in sorted(out_dir.glob("*.npz")):
        total += path.stat().st_size
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            streams, versions = meta["streams"], meta["versions"]
            size = f"{path.stat().st_size / 1024:.0f} KiB"
            if meta["kind"] == "static":
                poses = " / ".join("yes" if p else "no" for p in npz["has_pose"])
                static_rows.append(f"| `{path.name}` | `{meta['media']['path']}` | {poses} | "
                                   f"{size} |")
            else:
                present = npz["present"]
                video_rows.append(f"| `{path.name}` | `{meta['media']['path']}` | "
                                  f"{int(present.sum())}/{len(present)} | "
                                  f"{'yes' if 'mask_bits' in npz.files else 'no'} | {size} |")
    stream_rows = [f"| `{key}` | `{stream}` |" for key, stream in streams.items()]
    false_positives = [row.split("|")[2].strip() for row in static_rows
                       if "no_person" in row and "yes" in row.split("|")[3]]
    notes = "".join(f"\n- {image}: MediaPipe reports a pose although no person is in the "
                    f"image; the fixture keeps what the release does." for image in false_positives)
    text = f"""# Reference outputs of MediaPipe Pose {MEDIAPIPE_VERSION}

Generated by `{COMMAND}` (runs in the reference venv of `tools/reference_env.py`:
{", ".join(f"{k} {v}" for k, v in sorted(versions.items()))}). Do not edit by hand.
Array layout and loaders: `tests/helpers/reference_data.py`. Total {total / 1024:.0f} KiB.

The media are read from `../shared/data` (never committed) or `datasets/`; each npz stores the
sha256 of the media file and of every decoded RGB image/frame, so a decoder difference between
the reference venv and the project venv is caught by `tests/integration/test_reference_fixtures.py`
before any parity comparison.

## Static images

`Pose(static_image_mode=True, model_complexity=c, enable_segmentation=True)`, arrays stacked over
c = 0, 1, 2. "Pose" column: has_pose for lite / full / heavy.

| File | Image | Pose (lite / full / heavy) | Size |
|------|-------|----------------------------|------|
{chr(10).join(static_rows)}

## Videos

`Pose(model_complexity=1)` in video mode (smooth_landmarks=True, default thresholds), one
`process()` per frame. The `_segmentation` sequence is the first 30 frames of the Sports2D clip
with `enable_segmentation=True` (smooth_segmentation left at its default, True).
ROI-space landmark streams are stored for static images only.

| File | Video | Frames with a pose | Masks | Size |
|------|-------|--------------------|-------|------|
{chr(10).join(video_rows)}

## Intermediate streams

Observed in a second graph built by `SolutionBase` with the side packets and options of
`pose.py`; the script checks that its landmarks, world landmarks and masks equal those of a plain
`Pose` bit for bit.

| Fixture key | Graph stream |
|-------------|--------------|
{chr(10).join(stream_rows)}

## Notes

- Regenerating gives byte-identical npz files when the numbers are unchanged (fixed zip
  timestamps); `{COMMAND} --check` regenerates into a temporary directory and compares.{notes}
"""
    (out_dir / "README.md").write_text(text)


def compare_dirs(expected_dir: Path, actual_dir: Path) -> list[str]:
    """Differences between the npz files of two fixture directories (meta 'command' ignored)."""
    problems = []
    for expected in sorted(expected_dir.glob("*.npz")):
        actual = actual_dir / expected.name
        if not actual.exists():
            continue
        with np.load(expected) as a, np.load(actual) as b:
            if sorted(a.files) != sorted(b.files):
                problems.append(f"{expected.name}: keys {sorted(a.files)} != {sorted(b.files)}")
                continue
            for key in a.files:
                if key == "meta":
                    meta_a, meta_b = json.loads(str(a[key])), json.loads(str(b[key]))
                    meta_a.pop("command"), meta_b.pop("command")
                    if meta_a != meta_b:
                        problems.append(f"{expected.name}: meta differs")
                elif not np.array_equal(a[key], b[key],
                                        equal_nan=a[key].dtype.kind == "f"):
                    problems.append(f"{expected.name}: '{key}' differs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("static", "videos"), help="regenerate only these")
    parser.add_argument("--video", action="append", choices=sorted(rd.VIDEOS),
                        help="regenerate only this video reference (repeatable)")
    parser.add_argument("--out", type=Path, default=rd.FIXTURES, help="output directory")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary directory and compare with --out")
    parser.add_argument("--reference-python", help="interpreter with mediapipe==0.10.21 "
                        "(default: the venv made by tools/reference_env.py)")
    args = parser.parse_args(argv)
    reference_env.run_under_reference(__file__, args.reference_python)

    command = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    out_dir = Path(tempfile.mkdtemp(prefix="posejax-ref-")) if args.check else args.out
    if args.only in (None, "static") and not args.video:
        make_static(out_dir, command)
    if args.only in (None, "videos"):
        for name in args.video or rd.VIDEOS:
            make_video(out_dir, command, name)
    if HEATMAP_OPTIONS_MODULE in sys.modules:
        raise RuntimeError(f"{HEATMAP_OPTIONS_MODULE} got imported, which changes MediaPipe's "
                           f"heatmap refinement; the fixtures would not match the release")
    if args.check:
        problems = compare_dirs(args.out, out_dir)
        print("\n".join(problems) or f"all regenerated files equal those in {args.out}")
        return 1 if problems else 0
    write_readme(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
