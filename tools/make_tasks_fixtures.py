"""Record MediaPipe Tasks ``PoseLandmarker`` (mediapipe 0.10.21) outputs for the Tasks parity tests.

Runs inside the reference venv (``tools/reference_env.py``); started from any other interpreter
it creates or checks that venv and re-executes itself there.

No registry ships Google's ``.task`` bundles, so this script first builds bundles of the legacy
models that posejax converts (``docs/guide/tasks.md``; recipe in ``TASKS_REFERENCE.md``): each
``.tflite`` gets the TFLite metadata with its input normalization (detector mean 127.5, std 127.5;
landmark networks mean 0, std 255) written by mediapipe's own metadata writer, and the two are
zipped as ``pose_detector.tflite`` + ``pose_landmarks_detector.tflite``. The bundles go to
``<source cache>/tasks/pose_landmarker_{lite,full,heavy}.task`` (:data:`BUNDLE_DIR`, never
committed), where the bundle tests look for them.

Then, exactly as a user of the Tasks API would:

* IMAGE mode, full model, ``num_poses`` 1, 2 and 3, and lite/heavy with ``num_poses=1``, on the
  images of :data:`IMAGES` (one ``PoseLandmarker`` per configuration, images in order);
* VIDEO mode, full model, ``num_poses`` 1 and 2, on the first :data:`VIDEO_FRAMES` frames of
  :data:`VIDEO`, ``detect_for_video`` with timestamps ``round(1000 * k / 30)`` ms.

Written to ``tests/fixtures/tasks/`` (float32; NaN pads the pose axis):

* ``image_<stem>.npz``: per configuration ``<model>_<num_poses>`` the arrays
  ``<cfg>_landmarks (P, 33, 5)`` (x, y, z, visibility, presence), ``<cfg>_world (P, 33, 5)``,
  for :data:`MASK_CONFIG` also ``<cfg>_mask_bits`` (``np.packbits`` of each pose's
  ``mask > 0.5``, row-major, ``(poses found, ceil(H * W / 8))``), plus ``rgb_sha256`` of the
  decoded image and ``meta`` (JSON);
* ``video_<stem>.npz``: per ``num_poses`` N the arrays ``full_<N>_landmarks (T, N, 33, 5)``,
  ``full_<N>_world (T, N, 33, 5)``, ``full_<N>_count (T,)`` and ``full_<N>_next_rois
  (T, N, 5)`` (the graph's ``POSE_RECTS_NEXT_FRAME`` stream: x_center, y_center, width, height,
  rotation of the ROIs that frame t passes to frame t + 1), plus ``frame_sha256 (T,)``,
  ``timestamps_ms (T,)`` and ``meta``. The video runs through a ``PoseLandmarker`` whose graph
  also outputs ``POSE_RECTS_NEXT_FRAME`` (:func:`_tapped_landmarker`; the same graph and options
  as ``create_from_options``, one more observed stream), and the script stops if its landmarks
  differ from a plain ``PoseLandmarker``'s by a single bit.

Usage::

    python tools/make_tasks_fixtures.py            # bundles + fixtures (a minute or two)
    python tools/make_tasks_fixtures.py --bundles  # only the bundles
"""

from __future__ import annotations

import argparse
import io
import json
import os
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
COMMAND = "python tools/make_tasks_fixtures.py"
FIXTURES = ROOT / "tests" / "fixtures" / "tasks"
SOURCE_CACHE = Path(os.environ.get("POSEJAX_SOURCE_CACHE",
                                   Path.home() / ".cache/posejax/sources"))
#: where the bundles are written (and where the tests read them)
BUNDLE_DIR = SOURCE_CACHE / "tasks"

IMAGES = ("mps_couple_and_dog.jpeg", "mps_three_people_horse.jpeg", "opencv_messi5.jpg",
          "mp_pose_yoga_warrior.jpg", "tfex_image2_standing_man.jpeg",
          "mps_cats_and_dogs_no_person.jpg", "opencv_fruits_no_person.jpg")
#: (model, num_poses) run in IMAGE mode
IMAGE_CONFIGS = (("full", 1), ("full", 2), ("full", 3), ("lite", 1), ("heavy", 1))
#: the IMAGE configuration run again with ``output_segmentation_masks=True``
MASK_CONFIG = ("full", 2)
VIDEO = "videos/pose2sim_multiperson_cam01.mp4"
VIDEO_FRAMES = 40
VIDEO_POSES = (1, 2)
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)


# ----------------------------------------------------------------------------------- bundles ---

def _with_normalization(data: bytes, mean: float, std: float, outputs: int) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer as mw

    writer = mw.MetadataWriter.create(bytearray(data))
    writer.add_general_info("pose", "legacy model").add_image_input([mean], [std])
    for i in range(outputs):
        writer.add_feature_output(name=f"out{i}")
    return bytes(writer.populate()[0])


def build_bundles(out_dir: Path = BUNDLE_DIR) -> dict[str, Path]:
    """``pose_landmarker_<model>.task`` for lite/full/heavy from the venv's legacy models."""
    import mediapipe

    modules = Path(mediapipe.__file__).parent / "modules"
    detector = _with_normalization(
        (modules / "pose_detection/pose_detection.tflite").read_bytes(), 127.5, 127.5, 2)
    out_dir.mkdir(parents=True, exist_ok=True)
    bundles = {}
    for model in ("lite", "full", "heavy"):
        landmarks = _with_normalization(
            (modules / f"pose_landmark/pose_landmark_{model}.tflite").read_bytes(), 0.0, 255.0, 5)
        path = out_dir / f"pose_landmarker_{model}.task"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            for name, data in (("pose_detector.tflite", detector),
                               ("pose_landmarks_detector.tflite", landmarks)):
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        bundles[model] = path
        print(f"wrote {path}")
    return bundles


# ---------------------------------------------------------------------------------- running ---

def _arrays(result, num_poses: int) -> tuple[np.ndarray, np.ndarray]:
    landmarks = np.full((num_poses, 33, 5), np.nan, np.float32)
    world = np.full((num_poses, 33, 5), np.nan, np.float32)
    for p, pose in enumerate(result.pose_landmarks):
        landmarks[p] = [[lm.x, lm.y, lm.z, lm.visibility, lm.presence] for lm in pose]
    for p, pose in enumerate(result.pose_world_landmarks):
        world[p] = [[lm.x, lm.y, lm.z, lm.visibility, lm.presence] for lm in pose]
    return landmarks, world


def _landmarker(bundle: Path, mode: str, num_poses: int, masks: bool = False):
    import mediapipe as mp

    vision = mp.tasks.vision
    options = vision.PoseLandmarkerOptions(
        base_options=mp.tasks.BaseOptions(model_asset_path=str(bundle)),
        running_mode=getattr(vision.RunningMode, mode), num_poses=num_poses,
        output_segmentation_masks=masks)
    return vision.PoseLandmarker.create_from_options(options)


_NEXT_ROIS_STREAM = "pose_rects_next_frame"


def _tapped_landmarker(bundle: Path, num_poses: int):
    """A VIDEO-mode ``PoseLandmarker`` whose graph also outputs ``POSE_RECTS_NEXT_FRAME``."""
    import mediapipe as mp
    from mediapipe.tasks.python.core import task_info as task_info_module
    from mediapipe.tasks.python.vision import pose_landmarker as module

    options = mp.tasks.vision.PoseLandmarkerOptions(
        base_options=mp.tasks.BaseOptions(model_asset_path=str(bundle)),
        running_mode=mp.tasks.vision.RunningMode.VIDEO, num_poses=num_poses)
    task_info = task_info_module.TaskInfo(
        task_graph=module._TASK_GRAPH_NAME,
        input_streams=[f"{module._IMAGE_TAG}:{module._IMAGE_IN_STREAM_NAME}",
                       f"{module._NORM_RECT_TAG}:{module._NORM_RECT_STREAM_NAME}"],
        output_streams=[
            f"{module._NORM_LANDMARKS_TAG}:{module._NORM_LANDMARKS_STREAM_NAME}",
            f"{module._POSE_WORLD_LANDMARKS_TAG}:{module._POSE_WORLD_LANDMARKS_STREAM_NAME}",
            f"POSE_RECTS_NEXT_FRAME:{_NEXT_ROIS_STREAM}",
            f"{module._IMAGE_TAG}:{module._IMAGE_OUT_STREAM_NAME}"],
        task_options=options)
    return module.PoseLandmarker(task_info.generate_graph_config(enable_flow_limiting=False),
                                 options.running_mode, None)


def _tapped_frame(landmarker, rgb: np.ndarray, stamp: int, num_poses: int):
    """(landmarks (N, 33, 5), next ROIs (N, 5)) of one frame, NaN-padded."""
    import mediapipe as mp
    from mediapipe.python import packet_creator, packet_getter
    from mediapipe.tasks.python.vision import pose_landmarker as module

    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
    rect = landmarker.convert_to_normalized_rect(None, image, roi_allowed=False)
    micros = stamp * 1000
    packets = landmarker._process_video_data({
        module._IMAGE_IN_STREAM_NAME: packet_creator.create_image(image).at(micros),
        module._NORM_RECT_STREAM_NAME: packet_creator.create_proto(rect.to_pb2()).at(micros)})
    landmarks = np.full((num_poses, 33, 5), np.nan, np.float32)
    rois = np.full((num_poses, 5), np.nan, np.float32)
    if not packets[module._NORM_LANDMARKS_STREAM_NAME].is_empty():
        result = module._build_landmarker_result(packets)
        landmarks, _ = _arrays(result, num_poses)
    if not packets[_NEXT_ROIS_STREAM].is_empty():
        for p, r in enumerate(packet_getter.get_proto_list(packets[_NEXT_ROIS_STREAM])):
            rois[p] = [r.x_center, r.y_center, r.width, r.height, r.rotation]
    return landmarks, rois


def _save(path: Path, arrays: dict, meta: dict) -> None:
    arrays = dict(arrays, meta=np.array(json.dumps(meta, sort_keys=True)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())
    print(f"wrote {path}")


def record_images(bundles: dict[str, Path]) -> None:
    import mediapipe as mp

    images = {name: rd.load_rgb(rd.SHARED_DATA / "images" / name) for name in IMAGES}
    arrays = {name: {} for name in IMAGES}
    for model, num_poses in IMAGE_CONFIGS:
        with _landmarker(bundles[model], "IMAGE", num_poses) as landmarker:
            for name, rgb in images.items():
                result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
                landmarks, world = _arrays(result, num_poses)
                arrays[name][f"{model}_{num_poses}_landmarks"] = landmarks
                arrays[name][f"{model}_{num_poses}_world"] = world
    model, num_poses = MASK_CONFIG
    with _landmarker(bundles[model], "IMAGE", num_poses, masks=True) as landmarker:
        for name, rgb in images.items():
            result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
            masks = [np.packbits(m.numpy_view().reshape(-1) > 0.5)
                     for m in result.segmentation_masks or []]
            arrays[name][f"{model}_{num_poses}_mask_bits"] = (
                np.stack(masks) if masks else np.zeros((0, -(-rgb[..., 0].size // 8)), np.uint8))
    for name, rgb in images.items():
        meta = {"mediapipe": MEDIAPIPE_VERSION, "file": f"images/{name}", "mode": "IMAGE",
                "configs": [f"{m}_{n}" for m, n in IMAGE_CONFIGS], "command": COMMAND,
                "bundle": "legacy models + metadata (tools/make_tasks_fixtures.py)"}
        _save(FIXTURES / f"image_{Path(name).stem}.npz",
              dict(arrays[name], rgb_sha256=np.array(rd.rgb_sha256(rgb))), meta)


def video_timestamps_ms(count: int) -> np.ndarray:
    """The timestamps given to ``detect_for_video``: frame k at ``round(1000 k / 30)`` ms."""
    return np.round(np.arange(count) * (1000 / 30)).astype(np.int64)


def record_video(bundles: dict[str, Path]) -> None:
    import mediapipe as mp

    frames = list(rd.iter_video_frames(rd.SHARED_DATA / VIDEO, stop=VIDEO_FRAMES))
    stamps = video_timestamps_ms(len(frames))
    arrays = {"frame_sha256": np.array([rd.rgb_sha256(f) for f in frames]),
              "timestamps_ms": stamps}
    for num_poses in VIDEO_POSES:
        landmarks = np.full((len(frames), num_poses, 33, 5), np.nan, np.float32)
        world = np.full_like(landmarks, np.nan)
        count = np.zeros(len(frames), np.int32)
        next_rois = np.full((len(frames), num_poses, 5), np.nan, np.float32)
        with _landmarker(bundles["full"], "VIDEO", num_poses) as landmarker, \
                _tapped_landmarker(bundles["full"], num_poses) as tapped:
            for t, (rgb, stamp) in enumerate(zip(frames, stamps, strict=True)):
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
                result = landmarker.detect_for_video(image, int(stamp))
                landmarks[t], world[t] = _arrays(result, num_poses)
                count[t] = len(result.pose_landmarks)
                tapped_landmarks, next_rois[t] = _tapped_frame(tapped, rgb, int(stamp),
                                                               num_poses)
                if not np.array_equal(tapped_landmarks, landmarks[t], equal_nan=True):
                    raise SystemExit(f"frame {t}: the tapped graph's landmarks differ")
        arrays.update({f"full_{num_poses}_landmarks": landmarks, f"full_{num_poses}_world": world,
                       f"full_{num_poses}_count": count,
                       f"full_{num_poses}_next_rois": next_rois})
        print(f"video num_poses={num_poses}: poses per frame {np.bincount(count).tolist()}")
    meta = {"mediapipe": MEDIAPIPE_VERSION, "file": VIDEO, "mode": "VIDEO", "frames": len(frames),
            "num_poses": list(VIDEO_POSES), "command": COMMAND}
    _save(FIXTURES / f"video_{Path(VIDEO).stem}.npz", arrays, meta)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundles", action="store_true", help="only build the .task bundles")
    args = parser.parse_args(argv)
    reference_env.run_under_reference(__file__)
    bundles = build_bundles()
    if args.bundles:
        return 0
    FIXTURES.mkdir(parents=True, exist_ok=True)
    record_images(bundles)
    record_video(bundles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
