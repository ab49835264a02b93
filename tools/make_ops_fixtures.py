"""Regenerate the reference fixtures of ``posejax.ops`` in ``tests/fixtures/ops/``.

Run with the reference environment (mediapipe 0.10.21 and OpenCV 4.11, which behaves as the 4.10
bundled in the wheel; OpenCV 5 changed its warps and must not be used)::

    /work/refvenv/bin/python tools/make_ops_fixtures.py

Two kinds of reference:

- ``opencv_*.npz``: OpenCV 4.x called exactly as MediaPipe's converters call it
  (``cv2.boxPoints`` -> ``getPerspectiveTransform`` -> ``warpPerspective`` on uint8;
  ``warpAffine`` with ``WARP_INVERSE_MAP`` on float32);
- ``mediapipe_*.npz``: the real MediaPipe calculators of the pose graph, run one by one through
  ``mediapipe.CalculatorGraph`` on synthetic inputs: ``ImageToTensorCalculator`` (crops, letterbox
  padding, the 4x4 MATRIX), ``InverseMatrixCalculator`` + ``WarpAffineCalculator`` (mask
  back-projection), ``AlignmentPointsRectsCalculator`` + ``RectTransformationCalculator`` (ROIs),
  ``LandmarkLetterboxRemovalCalculator`` + ``LandmarkProjectionCalculator`` and
  ``WorldLandmarkProjectionCalculator`` (projection), and the whole ``pose_landmark_filtering``
  subgraph (visibility and one-euro smoothing with MediaPipe's reset behaviour).

Images are random (seeded) and stored with the fixtures; no test media are copied. Large outputs are
subsampled on a fixed grid to keep the files small. Never imported by posejax or the tests.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "ops"
#: Subsampling steps of the stored MediaPipe outputs (the tests sample the same grid).
CROP_STEP = 4
MASK_STEP = 3


def _check_environment():
    import cv2
    import mediapipe

    if not cv2.__version__.startswith("4."):
        raise SystemExit(f"OpenCV {cv2.__version__}: run this with the reference venv (OpenCV 4.x);"
                         " OpenCV 5 changed warpPerspective/warpAffine")
    if mediapipe.__version__ != "0.10.21":
        raise SystemExit(f"mediapipe {mediapipe.__version__}: the references need 0.10.21")
    return cv2, mediapipe


def _random_rois(rng, count, height, width, square_fraction=0.5):
    rois = []
    for k in range(count):
        roi = np.array([rng.uniform(-0.2, 1.2), rng.uniform(-0.2, 1.2), rng.uniform(0.05, 1.5), 0,
                        rng.uniform(-4, 4)], np.float32)
        square = rng.random() < square_fraction
        aspect = 1.0 if square else rng.choice([0.6, 1.4])
        roi[3] = np.float32(roi[2] * np.float32(width) / np.float32(height) * aspect)
        if k % 5 == 0:
            roi[4] = 0
        rois.append(roi)
    return np.asarray(rois, np.float32)


def _mediapipe_padded_rect(roi, height, width):
    """GetRoi + PadRoi in float32, as image_to_tensor_utils.cc does."""
    f = np.float32
    cx, cy = f(roi[0] * f(width)), f(roi[1] * f(height))
    w, h = f(roi[2] * f(width)), f(roi[3] * f(height))
    if f(1) > f(h / w):
        h = w
    else:
        w = h
    degrees = float(f(float(f(roi[4] * f(180))) / math.pi))  # the division is in double
    return (float(cx), float(cy)), (float(w), float(h)), degrees


def make_opencv_warp(cv2, rng):
    """warpPerspective crops of a random uint8 image, both borders, size 40 (not a power of 2)."""
    height, width, size = 61, 83, 40
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    rois = _random_rois(rng, 16, height, width)
    dst = np.array([[0, size], [0, 0], [size, 0], [size, size]], np.float32)
    corners, zero, replicate = [], [], []
    for roi in rois:
        src = cv2.boxPoints(_mediapipe_padded_rect(roi, height, width)).astype(np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst)
        corners.append(src)
        zero.append(cv2.warpPerspective(image, matrix, (size, size), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=0))
        replicate.append(cv2.warpPerspective(image, matrix, (size, size), flags=cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_REPLICATE))
    np.savez_compressed(OUT / "opencv_warp.npz", image=image, rois=rois, size=size,
                        corners=np.asarray(corners), zero=np.asarray(zero),
                        replicate=np.asarray(replicate))


def make_opencv_affine(cv2, rng):
    """warpAffine(WARP_INVERSE_MAP) of a random float mask with random matrices."""
    source = rng.random((64, 64), dtype=np.float32)
    height, width = 37, 45
    matrices = []
    for _ in range(8):
        angle = rng.uniform(-math.pi, math.pi)
        scale = rng.uniform(0.3, 3.0)
        matrix = np.array([[scale * math.cos(angle), -scale * math.sin(angle), 0],
                           [scale * math.sin(angle), scale * math.cos(angle), 0]])
        matrix[:, 2] = rng.uniform(-60, 90, 2)
        matrices.append(matrix.astype(np.float32))
    outputs = [cv2.warpAffine(source, m, (width, height),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0) for m in matrices]
    np.savez_compressed(OUT / "opencv_affine.npz", source=source, matrices=np.asarray(matrices),
                        outputs=np.asarray(outputs))


# -- MediaPipe calculators -----------------------------------------------------------------------
def _graph(mp, text):
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2

    return mp.CalculatorGraph(
        graph_config=text_format.Parse(text, calculator_pb2.CalculatorGraphConfig()))


def _image_packet(mp, image, timestamp):
    from mediapipe.python import packet_creator

    fmt = mp.ImageFormat.SRGB if image.dtype == np.uint8 else mp.ImageFormat.VEC32F1
    return packet_creator.create_image(mp.Image(image_format=fmt, data=image)).at(timestamp)


def _rect(roi):
    from mediapipe.framework.formats import rect_pb2

    return rect_pb2.NormalizedRect(x_center=float(roi[0]), y_center=float(roi[1]),
                                   width=float(roi[2]), height=float(roi[3]),
                                   rotation=float(roi[4]))


def _landmark_list(rows, normalized=True):
    from mediapipe.framework.formats import landmark_pb2

    cls = landmark_pb2.NormalizedLandmarkList if normalized else landmark_pb2.LandmarkList
    out = cls()
    for row in rows:
        landmark = out.landmark.add()
        landmark.x, landmark.y, landmark.z = (float(v) for v in row[:3])
        if len(row) > 3:
            landmark.visibility = float(row[3])
        if len(row) > 4:
            landmark.presence = float(row[4])
    return out


def _landmark_array(proto, columns=5):
    values = []
    for lm in proto.landmark:
        values.append([lm.x, lm.y, lm.z, lm.visibility, lm.presence][:columns])
    return np.asarray(values, np.float32)


_CROP_GRAPH = """
input_stream: "image"
input_stream: "roi"
input_stream: "mask"
input_stream: "landmarks"
input_stream: "world"
output_stream: "floats"
output_stream: "mask_out"
output_stream: "padding"
output_stream: "projected"
output_stream: "world_out"
node { calculator: "ImageToTensorCalculator" input_stream: "IMAGE:image"
  input_stream: "NORM_RECT:roi"
  output_stream: "TENSORS:tensors" output_stream: "MATRIX:matrix"
  output_stream: "LETTERBOX_PADDING:padding"
  options: { [mediapipe.ImageToTensorCalculatorOptions.ext] {
      output_tensor_width: 256 output_tensor_height: 256 keep_aspect_ratio: true
      output_tensor_float_range { min: 0.0 max: 1.0 } } } }
node { calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:tensors"
  output_stream: "FLOATS:floats" }
node { calculator: "ImagePropertiesCalculator" input_stream: "IMAGE:image"
  output_stream: "SIZE:size" }
node { calculator: "InverseMatrixCalculator" input_stream: "MATRIX:matrix"
  output_stream: "MATRIX:inv" }
node { calculator: "WarpAffineCalculator" input_stream: "IMAGE:mask" input_stream: "MATRIX:inv"
  input_stream: "OUTPUT_SIZE:size" output_stream: "IMAGE:mask_out"
  options: { [mediapipe.WarpAffineCalculatorOptions.ext] { border_mode: BORDER_ZERO } } }
node { calculator: "LandmarkLetterboxRemovalCalculator" input_stream: "LANDMARKS:landmarks"
  input_stream: "LETTERBOX_PADDING:padding" output_stream: "LANDMARKS:unpadded" }
node { calculator: "LandmarkProjectionCalculator" input_stream: "NORM_LANDMARKS:unpadded"
  input_stream: "NORM_RECT:roi" output_stream: "NORM_LANDMARKS:projected" }
node { calculator: "WorldLandmarkProjectionCalculator" input_stream: "LANDMARKS:world"
  input_stream: "NORM_RECT:roi" output_stream: "LANDMARKS:world_out" }
"""

_DETECTOR_GRAPH = """
input_stream: "image"
output_stream: "floats"
output_stream: "padding"
node { calculator: "ImageToTensorCalculator" input_stream: "IMAGE:image"
  output_stream: "TENSORS:tensors" output_stream: "LETTERBOX_PADDING:padding"
  options: { [mediapipe.ImageToTensorCalculatorOptions.ext] {
      output_tensor_width: 224 output_tensor_height: 224 keep_aspect_ratio: true
      output_tensor_float_range { min: -1.0 max: 1.0 } border_mode: BORDER_ZERO } } }
node { calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:tensors"
  output_stream: "FLOATS:floats" }
"""


def make_mediapipe_image(mp, rng):
    """Crops, letterbox paddings, mask back-projection and landmark projection, by MediaPipe."""
    from mediapipe.python import packet_creator, packet_getter

    height, width = 97, 131
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    # A random mask of 8-bit levels: stored as uint8, converted the same way by the tests.
    mask_u8 = rng.integers(0, 256, (256, 256), dtype=np.uint8)
    mask = (mask_u8.astype(np.float32) / np.float32(255))[..., None]
    rois = _random_rois(rng, 10, height, width, square_fraction=0.7)
    rois[:, :2] = np.clip(rois[:, :2], 0.1, 0.9)
    landmarks = np.concatenate([rng.uniform(-0.2, 1.2, (rois.shape[0], 35, 3)),
                                rng.random((rois.shape[0], 35, 2))], axis=2).astype(np.float32)
    world = rng.normal(0, 0.5, (rois.shape[0], 33, 3)).astype(np.float32)

    graph = _graph(mp, _CROP_GRAPH)
    got = {}
    graph.observe_output_stream("floats", lambda s, p: got.__setitem__(
        "crop", np.asarray(packet_getter.get_float_list(p), np.float32)))
    graph.observe_output_stream("mask_out", lambda s, p: got.__setitem__(
        "mask", packet_getter.get_image(p).numpy_view().copy()))
    graph.observe_output_stream("padding", lambda s, p: got.__setitem__(
        "padding", np.asarray(packet_getter.get_float_list(p), np.float32)))
    graph.observe_output_stream("projected", lambda s, p: got.__setitem__(
        "projected", _landmark_array(packet_getter.get_proto(p))))
    graph.observe_output_stream("world_out", lambda s, p: got.__setitem__(
        "world", _landmark_array(packet_getter.get_proto(p), 3)))
    graph.start_run()
    crops, masks, paddings, projected, world_out = [], [], [], [], []
    for k, roi in enumerate(rois):
        t = k + 1
        graph.add_packet_to_input_stream("image", _image_packet(mp, image, t))
        graph.add_packet_to_input_stream("roi", packet_creator.create_proto(_rect(roi)).at(t))
        graph.add_packet_to_input_stream("mask", _image_packet(mp, mask, t))
        graph.add_packet_to_input_stream(
            "landmarks", packet_creator.create_proto(_landmark_list(landmarks[k])).at(t))
        graph.add_packet_to_input_stream(
            "world", packet_creator.create_proto(_landmark_list(world[k], False)).at(t))
        graph.wait_until_idle()
        crop = got["crop"].reshape(256, 256, 3)
        crop_u8 = np.rint(crop.astype(np.float64) * 255).astype(np.uint8)
        # The tensor is u8 * float(1/255): storing the uint8 loses nothing.
        assert np.array_equal(crop_u8.astype(np.float32) * np.float32(1 / 255), crop)
        crops.append(crop_u8[::CROP_STEP, ::CROP_STEP])
        masks.append(got["mask"].reshape(height, width)[::MASK_STEP, ::MASK_STEP])
        paddings.append(got["padding"])
        projected.append(got["projected"])
        world_out.append(got["world"])
    graph.close()

    detector = _graph(mp, _DETECTOR_GRAPH)
    detector.observe_output_stream("floats", lambda s, p: got.__setitem__(
        "crop", np.asarray(packet_getter.get_float_list(p), np.float32)))
    detector.observe_output_stream("padding", lambda s, p: got.__setitem__(
        "padding", np.asarray(packet_getter.get_float_list(p), np.float32)))
    detector.start_run()
    detector_crops, detector_paddings = [], []
    for t, frame in enumerate((image, np.ascontiguousarray(image.transpose(1, 0, 2))), start=1):
        detector.add_packet_to_input_stream("image", _image_packet(mp, frame, t))
        detector.wait_until_idle()
        detector_crops.append(got["crop"].reshape(224, 224, 3)[::CROP_STEP, ::CROP_STEP])
        detector_paddings.append(got["padding"])
    detector.close()

    np.savez_compressed(
        OUT / "mediapipe_image.npz", image=image, mask_u8=mask_u8, rois=rois,
        crops=np.asarray(crops), masks=np.asarray(masks), paddings=np.asarray(paddings),
        landmarks=landmarks, projected=np.asarray(projected), world=world,
        world_projected=np.asarray(world_out), detector_crops=np.asarray(detector_crops),
        detector_paddings=np.asarray(detector_paddings), crop_step=CROP_STEP,
        mask_step=MASK_STEP)


_ROI_GRAPH = """
input_stream: "image"
input_stream: "detection"
output_stream: "rect"
output_stream: "roi"
node { calculator: "ImagePropertiesCalculator" input_stream: "IMAGE:image"
  output_stream: "SIZE:size" }
node { calculator: "AlignmentPointsRectsCalculator" input_stream: "DETECTION:detection"
  input_stream: "IMAGE_SIZE:size" output_stream: "NORM_RECT:rect"
  options: { [mediapipe.DetectionsToRectsCalculatorOptions.ext] {
      rotation_vector_start_keypoint_index: 0 rotation_vector_end_keypoint_index: 1
      rotation_vector_target_angle_degrees: 90 } } }
node { calculator: "RectTransformationCalculator" input_stream: "NORM_RECT:rect"
  input_stream: "IMAGE_SIZE:size" output_stream: "roi"
  options: { [mediapipe.RectTransformationCalculatorOptions.ext] {
      scale_x: 1.25 scale_y: 1.25 square_long: true } } }
"""


def make_mediapipe_roi(mp, rng):
    """Detection keypoints -> alignment rect (object scale) -> 1.25x ROI, by MediaPipe."""
    from mediapipe.framework.formats import detection_pb2, location_data_pb2
    from mediapipe.python import packet_creator, packet_getter

    sizes = [(480, 640), (640, 480), (720, 1280), (97, 131)]
    count = 160
    image_sizes = np.asarray([sizes[k % len(sizes)] for k in range(count)], np.int32)
    keypoints = rng.uniform(-0.3, 1.3, (count, 2, 2)).astype(np.float32)
    # Some scale points straight above, below or beside the centre (angles at +-pi and 0).
    for k in range(0, count, 10):
        keypoints[k, 1] = keypoints[k, 0]
        keypoints[k, 1, (k // 10) % 2] += np.float32(rng.choice([-0.2, 0.2]))
    graph = _graph(mp, _ROI_GRAPH)
    got = {}
    graph.observe_output_stream("rect", lambda s, p: got.__setitem__("rect", p))
    graph.observe_output_stream("roi", lambda s, p: got.__setitem__("roi", p))
    graph.start_run()
    rects, rois = [], []
    blank = {size: np.zeros(size + (3,), np.uint8) for size in sizes}
    for k in range(count):
        detection = detection_pb2.Detection(score=[0.9], label_id=[0])
        detection.location_data.format = location_data_pb2.LocationData.RELATIVE_BOUNDING_BOX
        for x, y in keypoints[k]:
            point = detection.location_data.relative_keypoints.add()
            point.x, point.y = float(x), float(y)
        t = k + 1
        size = tuple(int(v) for v in image_sizes[k])
        graph.add_packet_to_input_stream("image", _image_packet(mp, blank[size], t))
        graph.add_packet_to_input_stream("detection", packet_creator.create_proto(detection).at(t))
        graph.wait_until_idle()
        for name, store in (("rect", rects), ("roi", rois)):
            r = packet_getter.get_proto(got[name])
            store.append([r.x_center, r.y_center, r.width, r.height, r.rotation])
    graph.close()
    np.savez_compressed(OUT / "mediapipe_roi.npz", keypoints=keypoints, image_sizes=image_sizes,
                        rects=np.asarray(rects, np.float32), rois=np.asarray(rois, np.float32))


_FILTER_GRAPH = """
input_stream: "image"
input_stream: "landmarks"
input_stream: "aux"
input_stream: "world"
output_stream: "filtered"
output_stream: "filtered_aux"
output_stream: "filtered_world"
output_stream: "scale_roi"
node { calculator: "ImagePropertiesCalculator" input_stream: "IMAGE:image"
  output_stream: "SIZE:size" }
node { calculator: "LandmarksToDetectionCalculator" input_stream: "NORM_LANDMARKS:aux"
  output_stream: "DETECTION:aux_detection" }
node { calculator: "AlignmentPointsRectsCalculator" input_stream: "DETECTION:aux_detection"
  input_stream: "IMAGE_SIZE:size" output_stream: "NORM_RECT:scale_roi"
  options: { [mediapipe.DetectionsToRectsCalculatorOptions.ext] {
      rotation_vector_start_keypoint_index: 0 rotation_vector_end_keypoint_index: 1
      rotation_vector_target_angle_degrees: 90 } } }
node { calculator: "VisibilitySmoothingCalculator" input_stream: "NORM_LANDMARKS:landmarks"
  output_stream: "NORM_FILTERED_LANDMARKS:vis"
  options: { [mediapipe.VisibilitySmoothingCalculatorOptions.ext] {
      low_pass_filter { alpha: 0.1 } } } }
node { calculator: "LandmarksSmoothingCalculator" input_stream: "NORM_LANDMARKS:vis"
  input_stream: "IMAGE_SIZE:size" input_stream: "OBJECT_SCALE_ROI:scale_roi"
  output_stream: "NORM_FILTERED_LANDMARKS:filtered"
  options: { [mediapipe.LandmarksSmoothingCalculatorOptions.ext] {
      one_euro_filter { min_cutoff: 0.05 beta: 80.0 derivate_cutoff: 1.0 } } } }
node { calculator: "VisibilitySmoothingCalculator" input_stream: "LANDMARKS:world"
  output_stream: "FILTERED_LANDMARKS:world_vis"
  options: { [mediapipe.VisibilitySmoothingCalculatorOptions.ext] {
      low_pass_filter { alpha: 0.1 } } } }
node { calculator: "LandmarksSmoothingCalculator" input_stream: "LANDMARKS:world_vis"
  output_stream: "FILTERED_LANDMARKS:filtered_world"
  options: { [mediapipe.LandmarksSmoothingCalculatorOptions.ext] {
      one_euro_filter { min_cutoff: 0.1 beta: 40.0 derivate_cutoff: 1.0
                        disable_value_scaling: true } } } }
node { calculator: "VisibilitySmoothingCalculator" input_stream: "NORM_LANDMARKS:aux"
  output_stream: "NORM_FILTERED_LANDMARKS:aux_vis"
  options: { [mediapipe.VisibilitySmoothingCalculatorOptions.ext] {
      low_pass_filter { alpha: 0.1 } } } }
node { calculator: "LandmarksSmoothingCalculator" input_stream: "NORM_LANDMARKS:aux_vis"
  input_stream: "IMAGE_SIZE:size" input_stream: "OBJECT_SCALE_ROI:scale_roi"
  output_stream: "NORM_FILTERED_LANDMARKS:filtered_aux"
  options: { [mediapipe.LandmarksSmoothingCalculatorOptions.ext] {
      one_euro_filter { min_cutoff: 0.01 beta: 10.0 derivate_cutoff: 1.0 } } } }
"""


def make_mediapipe_filters(mp, rng):
    """The pose_landmark_filtering subgraph on a synthetic sequence with gaps and pose losses.

    Frames whose ``present`` is False send the image only (as the pose graph does when the pose is
    lost): the normalized-landmark filters are invoked with no landmarks and reset, the world and
    visibility filters are not invoked. Frames listed in ``skipped`` send nothing at all (a gap in
    the timestamps).
    """
    from mediapipe.python import packet_creator, packet_getter

    frames, height, width = 48, 480, 640
    present = np.ones(frames, bool)
    present[[14, 15, 16, 30]] = False
    skipped = np.zeros(frames, bool)
    skipped[[22, 23, 40]] = True
    walk = np.cumsum(rng.normal(0, 0.01, (frames, 33, 3)), axis=0)
    base = rng.uniform(0.3, 0.7, (1, 33, 3))
    jumps = np.where(rng.random((frames, 1, 1)) < 0.15, rng.normal(0, 0.05, (frames, 1, 1)), 0)
    landmarks = np.concatenate([base + walk + np.cumsum(jumps, axis=0),
                                rng.random((frames, 33, 2))], axis=2).astype(np.float32)
    centre = (0.5 + np.cumsum(rng.normal(0, 0.01, (frames, 2)), axis=0))
    angle = np.cumsum(rng.normal(0, 0.05, frames)) + math.pi / 2
    radius = 0.15 + 0.05 * np.sin(np.arange(frames) / 5)
    scale_point = centre + radius[:, None] * np.stack([np.cos(angle), -np.sin(angle)], axis=1)
    aux = np.zeros((frames, 2, 5), np.float32)
    aux[:, 0, :2], aux[:, 1, :2] = centre, scale_point
    aux[:, :, 2] = rng.normal(0, 0.05, (frames, 2))
    aux[:, :, 3:] = rng.random((frames, 2, 2))
    world = np.concatenate([np.cumsum(rng.normal(0, 0.02, (frames, 33, 3)), axis=0),
                            rng.random((frames, 33, 1))], axis=2).astype(np.float32)
    timestamps = (33333 * np.arange(1, frames + 1)).astype(np.int64)

    graph = _graph(mp, _FILTER_GRAPH)
    # Outputs of a frame whose landmarks are missing only settle when later packets arrive, so
    # collect them by timestamp and read them after the run.
    got = {name: {} for name in ("filtered", "filtered_aux", "filtered_world", "scale_roi")}
    for name, store in got.items():
        graph.observe_output_stream(
            name, lambda s, p, store=store: store.__setitem__(p.timestamp.value, p))
    graph.start_run()
    image = np.zeros((height, width, 3), np.uint8)
    for k in np.flatnonzero(~skipped):
        t = int(timestamps[k])
        graph.add_packet_to_input_stream("image", _image_packet(mp, image, t))
        if present[k]:
            graph.add_packet_to_input_stream(
                "landmarks", packet_creator.create_proto(_landmark_list(landmarks[k])).at(t))
            graph.add_packet_to_input_stream(
                "aux", packet_creator.create_proto(_landmark_list(aux[k])).at(t))
            graph.add_packet_to_input_stream(
                "world", packet_creator.create_proto(_landmark_list(world[k], False)).at(t))
    graph.close()
    nan5, nan4 = np.full((33, 5), np.nan, np.float32), np.full((33, 4), np.nan, np.float32)
    out_landmarks, out_aux, out_world, object_scales = [], [], [], []
    for t in timestamps:
        t = int(t)
        has = t in got["filtered"]
        out_landmarks.append(_landmark_array(packet_getter.get_proto(got["filtered"][t]))
                             if has else nan5)
        out_aux.append(_landmark_array(packet_getter.get_proto(got["filtered_aux"][t]))
                       if has else nan5[:2])
        out_world.append(_landmark_array(packet_getter.get_proto(got["filtered_world"][t]), 4)
                         if has else nan4)
        if has:
            r = packet_getter.get_proto(got["scale_roi"][t])
            object_scales.append(np.float32((np.float32(r.width) * np.float32(width)
                                             + np.float32(r.height) * np.float32(height)) / 2))
        else:
            object_scales.append(np.nan)
    np.savez_compressed(
        OUT / "mediapipe_filters.npz", landmarks=landmarks, aux=aux, world=world,
        timestamps_us=timestamps, present=present, skipped=skipped, height=height, width=width,
        filtered=np.asarray(out_landmarks), filtered_aux=np.asarray(out_aux),
        filtered_world=np.asarray(out_world),
        object_scales=np.asarray(object_scales, np.float32))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20240702)
    args = parser.parse_args()
    cv2, mp = _check_environment()
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    make_opencv_warp(cv2, rng)
    make_opencv_affine(cv2, rng)
    make_mediapipe_image(mp, rng)
    make_mediapipe_roi(mp, rng)
    make_mediapipe_filters(mp, rng)
    for path in sorted(OUT.glob("*.npz")):
        print(f"{path.relative_to(OUT.parents[2])}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
