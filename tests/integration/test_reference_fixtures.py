"""The MediaPipe 0.10.21 reference fixtures are complete, consistent and decodable here.

Parity tests trust ``tests/fixtures/reference/``; these tests make sure that trust is earned
before any posejax number is compared: every image and video frame decodes here to the bytes the
reference venv saw (sha256), the arrays agree with each other and with MediaPipe's control flow,
and the outputs agree with MediaPipe's own published expectations.
"""

from __future__ import annotations

import hashlib
import json

import imageio.v3 as iio
import numpy as np
import pytest

from tests.helpers import reference_data as rd

VIDEO_FRAME_COUNTS = {
    "infai_synthetic_leg_raises_6reps": 308,
    "sports2d_demo": 230,
    "mp_pose_squats": 65,
    "mp_docs_squats_world_landmarks_overlay": 149,
    "sports2d_demo_segmentation": 30,
}
#: MediaPipe 0.10.21 finds a "pose" in the middle of the cats-and-dogs picture at every
#: complexity (detector score 0.65, presence 0.99): a false positive of the release that posejax
#: must reproduce, not a person.
RELEASE_FALSE_POSITIVES = ("mps_cats_and_dogs_no_person.jpg",)


@pytest.fixture(scope="module", params=rd.STATIC_IMAGES)
def static_ref(request):
    return request.param, rd.load_static_reference(request.param)


@pytest.fixture(scope="module", params=list(rd.VIDEOS))
def video_ref(request):
    return request.param, rd.load_video_reference(request.param)


def _finite_rows(array: np.ndarray) -> np.ndarray:
    """True where a whole (..., k) row is finite, False where it is all NaN; error otherwise."""
    finite = np.isfinite(array)
    all_finite, all_nan = finite.all(axis=-1), (~finite).all(axis=-1)
    assert (all_finite | all_nan).all(), "rows mixing NaN and numbers"
    return all_finite


# -------------------------------------------------------------------------- load_rgb & helpers ---

def test_load_rgb_repeats_gray_and_drops_alpha(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgba = np.arange(48, dtype=np.uint8).reshape(3, 4, 4)
    iio.imwrite(tmp_path / "gray.png", gray)
    iio.imwrite(tmp_path / "rgba.png", rgba)
    assert np.array_equal(rd.load_rgb(tmp_path / "gray.png"), np.repeat(gray[..., None], 3, 2))
    loaded = rd.load_rgb(tmp_path / "rgba.png")
    assert np.array_equal(loaded, rgba[..., :3]) and loaded.flags.c_contiguous


def test_load_rgb_rejects_16_bit(tmp_path):
    iio.imwrite(tmp_path / "deep.png", np.full((2, 2), 40000, np.uint16))
    with pytest.raises(ValueError, match="uint16"):
        rd.load_rgb(tmp_path / "deep.png")


def test_rgb_sha256_rejects_non_rgb():
    with pytest.raises(ValueError, match="uint8 RGB"):
        rd.rgb_sha256(np.zeros((2, 2, 4), np.uint8))
    with pytest.raises(ValueError, match="uint8 RGB"):
        rd.rgb_sha256(np.zeros((2, 2, 3), np.float32))


def test_unpack_mask_inverts_packbits():
    mask = np.random.default_rng(0).random((7, 13)) > 0.5
    assert np.array_equal(rd.unpack_mask(np.packbits(mask.reshape(-1)), mask.shape), mask)


def test_require_shared_skips_or_fails_under_ci(monkeypatch, tmp_path):
    missing = tmp_path / "absent.jpg"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="absent.jpg"):
        rd.require_shared(missing)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="absent.jpg"):
        rd.require_shared(missing)
    assert rd.require_shared(tmp_path) == tmp_path


def test_loaders_reject_unknown_names():
    with pytest.raises(ValueError, match="no static reference"):
        rd.load_static_reference("nobody.jpg")
    with pytest.raises(ValueError, match="no video reference"):
        rd.load_video_reference("nothing")


# ----------------------------------------------------------------------------- the fixture set ---

def test_fixture_set_is_complete_and_small():
    expected = {f"static_{name.rsplit('.', 1)[0]}.npz" for name in rd.STATIC_IMAGES}
    expected |= {f"video_{name}.npz" for name in rd.VIDEOS}
    present = {path.name for path in rd.FIXTURES.glob("*.npz")}
    assert present == expected
    total = sum(path.stat().st_size for path in rd.FIXTURES.glob("*.npz"))
    assert total < 3 * 1024 * 1024, f"reference fixtures grew to {total / 2**20:.1f} MiB"
    readme = (rd.FIXTURES / "README.md").read_text()
    assert "python tools/make_reference_fixtures.py" in readme


# --------------------------------------------------------------------------------- static mode ---

def test_static_meta(static_ref):
    name, ref = static_ref
    meta = ref["meta"]
    assert meta["versions"]["mediapipe"] == "0.10.21"
    assert meta["media"] == {**meta["media"], "root": "shared", "path": f"images/{name}"}
    assert meta["options"]["static_image_mode"] is True
    assert meta["options"]["model_complexity"] == [0, 1, 2]
    assert meta["command"].startswith("python tools/make_reference_fixtures.py")
    assert meta["taps_match_plain_pose"] is True


def test_static_arrays_are_consistent(static_ref):
    name, ref = static_ref
    height, width = ref["meta"]["image_shape"][:2]
    has_pose = ref["has_pose"]
    assert has_pose.shape == (3,) and has_pose.dtype == bool
    assert ref["mask"].shape == (3, height, width)
    for key, tail in {"landmarks": (33, 4), "world": (33, 4), "unfiltered_landmarks": (33, 5),
                      "unfiltered_world": (33, 4), "roi_landmarks_refined": (39, 5)}.items():
        assert ref[key].shape == (3, *tail) and ref[key].dtype == np.float32, key
        assert np.array_equal(_finite_rows(ref[key]).all(axis=-1), has_pose), key
    assert np.array_equal(ref["mask"].any(axis=(1, 2)), has_pose)
    # A pose passed the presence gate, so the score is above min_tracking_confidence (0.5).
    assert (ref["presence_score"][has_pose] > 0.5).all()
    visibility = ref["landmarks"][has_pose][..., 3]
    assert ((visibility >= 0) & (visibility <= 1)).all()
    detected = _finite_rows(ref["detection"])
    assert np.array_equal(detected, ref["num_detections"] > 0)
    assert (ref["detection"][detected, 0] > 0.5).all(), "detections below min_detection_confidence"
    # Static mode never tracks: the landmark model runs on the detector's ROI.
    assert np.array_equal(ref["roi"], ref["roi_from_detection"], equal_nan=True)
    assert not has_pose[~detected].any()
    roi = ref["roi"][has_pose]
    np.testing.assert_allclose(roi[:, 2] * width, roi[:, 3] * height, rtol=1e-5,
                               err_msg="ROIs must be square in pixels")


def test_static_image_decodes_to_the_reference_bytes(static_ref):
    name, ref = static_ref
    path = rd.reference_media_path(ref["meta"])
    file_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_sha == ref["meta"]["media"]["file_sha256"], f"{path} is not the file the " \
        "fixture was made from"
    rgb = rd.load_rgb(path)
    assert list(rgb.shape) == ref["meta"]["image_shape"]
    assert rd.rgb_sha256(rgb) == ref["rgb_sha256"], (
        f"{name} decodes differently here than in the reference venv "
        f"({ref['meta']['versions']}): compare imageio/pillow versions before any parity test")


@pytest.mark.parametrize("name", ["opencv_fruits_no_person.jpg"])
def test_no_person_image_has_no_pose(name):
    ref = rd.load_static_reference(name)
    assert not ref["has_pose"].any()
    assert not ref["mask"].any()
    assert (ref["num_detections"] == 0).all()


@pytest.mark.parametrize("name", RELEASE_FALSE_POSITIVES)
def test_release_false_positive_is_recorded(name):
    ref = rd.load_static_reference(name)
    assert name in rd.NO_PERSON_IMAGES
    assert ref["has_pose"].all()
    # A weak detection that the landmark model then accepts with confidence.
    assert (ref["detection"][:, 0] < 0.7).all() and (ref["presence_score"] > 0.9).all()


@pytest.mark.parametrize("name", ["mps_couple_and_dog.jpeg", "opencv_basketball1_gray.png",
                                  "mps_three_people_horse.jpeg"])
def test_multi_person_images_have_a_pose(name):
    ref = rd.load_static_reference(name)
    assert ref["has_pose"].all()
    assert (ref["num_detections"] >= 1).all()


@pytest.mark.parametrize("complexity", [0, 1, 2])
def test_warrior_matches_mediapipe_published_expectation(complexity):
    """MediaPipe's own pose_test.py thresholds: 15 px, 0.2 m, mask IoU >= 0.85."""
    ref = rd.load_static_reference("mp_pose_yoga_warrior.jpg")
    expected = json.loads(rd.require_shared(
        "annotations/mp_pose_yoga_warrior_expected.json").read_text())
    tolerances = expected["thresholds_mediapipe_python_test"]
    width, height = expected["image_size_wh"]
    pixels = ref["landmarks"][complexity, :, :2] * [width, height]
    np.testing.assert_array_less(np.abs(pixels - expected["pose_landmarks_px_xy"]),
                                 tolerances["landmarks_abs_diff_px"])
    np.testing.assert_array_less(
        np.abs(ref["world"][complexity, :, :3] - expected["pose_world_landmarks_m_xyz"]),
        tolerances["world_landmarks_abs_diff_m"])
    colours = iio.imread(rd.require_shared("annotations/mp_pose_yoga_warrior_segmentation.png"))
    person = (colours[..., :3] == (0, 0, 255)).all(axis=-1)
    mask = ref["mask"][complexity]
    iou = (person & mask).sum() / (person | mask).sum()
    assert iou >= tolerances["segmentation_iou_min"]


# ---------------------------------------------------------------------------------- video mode ---

def test_video_meta(video_ref):
    name, ref = video_ref
    meta = ref["meta"]
    root, relative, stop = rd.VIDEOS[name]
    assert meta["media"]["root"] == root and meta["media"]["path"] == relative
    assert meta["num_frames"] == VIDEO_FRAME_COUNTS[name] and meta["frame_stop"] == stop
    assert meta["versions"]["mediapipe"] == "0.10.21"
    assert meta["options"] == {**meta["options"], "static_image_mode": False,
                               "model_complexity": 1, "smooth_landmarks": True,
                               "min_detection_confidence": 0.5, "min_tracking_confidence": 0.5,
                               "enable_segmentation": name.endswith("_segmentation")}


def test_video_arrays_are_consistent(video_ref):
    name, ref = video_ref
    frames = VIDEO_FRAME_COUNTS[name]
    present = ref["present"]
    assert present.shape == (frames,) and ref["frame_sha256"].shape == (frames,)
    assert present.mean() > 0.8, "the reference lost the person on most frames"
    for key, tail in {"landmarks": (33, 4), "world": (33, 4), "unfiltered_landmarks": (33, 5),
                      "unfiltered_world": (33, 4), "auxiliary": (2, 5),
                      "roi_from_landmarks": (5,)}.items():
        assert ref[key].shape == (frames, *tail), key
        rows = _finite_rows(ref[key])
        assert np.array_equal(rows if rows.ndim == 1 else rows.all(axis=-1), present), key
    assert ("mask" in ref) == name.endswith("_segmentation")
    if "mask" in ref:
        assert np.array_equal(ref["mask"].any(axis=(1, 2)), present)


def test_video_roi_follows_mediapipe_tracking(video_ref):
    """Frame t runs on frame t-1's landmark ROI when t-1 had a pose, else on a fresh detection."""
    _, ref = video_ref
    tracked = np.concatenate([[False], ref["present"][:-1]])
    previous = np.concatenate([np.full((1, 5), np.nan, np.float32), ref["roi_from_landmarks"][:-1]])
    expected = np.where(tracked[:, None], previous, ref["roi_from_detection"])
    assert np.array_equal(ref["roi"], expected, equal_nan=True)
    # The detector runs only when not tracking.
    assert not _finite_rows(ref["roi_from_detection"])[tracked].any()


def test_segmentation_does_not_change_video_landmarks():
    full = rd.load_video_reference("sports2d_demo")
    masked = rd.load_video_reference("sports2d_demo_segmentation")
    count = len(masked["present"])
    assert np.array_equal(full["frame_sha256"][:count], masked["frame_sha256"])
    for key in ("landmarks", "world", "roi", "unfiltered_landmarks"):
        assert np.array_equal(full[key][:count], masked[key], equal_nan=True), key


def test_squats_match_the_tfjs_reference_of_mediapipe_full():
    """tfjs-models' golden run of MediaPipe full (video mode) on the same clip: 31 px, 0.24 m."""
    ref = rd.load_video_reference("mp_pose_squats")
    height, width = ref["meta"]["image_shape"][:2]
    pixels = np.array(json.loads(rd.require_shared("annotations/mp_pose_squats.full.json")
                                 .read_text()))
    world = np.array(json.loads(rd.require_shared("annotations/mp_pose_squats_3d.full.json")
                                .read_text()))
    np.testing.assert_array_less(np.abs(ref["landmarks"][..., :2] * [width, height]
                                        - pixels[..., :2]), 31)
    np.testing.assert_array_less(np.abs(ref["world"][..., :3] - world), 0.24)


def test_video_frames_decode_to_the_reference_bytes(video_ref):
    name, ref = video_ref
    path = rd.reference_media_path(ref["meta"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == ref["meta"]["media"]["file_sha256"]
    hashes = []
    for frame in rd.iter_video_frames(path, ref["meta"]["frame_stop"]):
        assert list(frame.shape) == ref["meta"]["image_shape"]
        hashes.append(rd.rgb_sha256(frame))
    assert len(hashes) == len(ref["frame_sha256"]), f"{name}: frame count changed"
    mismatched = [i for i, (a, b) in enumerate(zip(hashes, ref["frame_sha256"], strict=True))
                  if a != b]
    assert not mismatched, (
        f"{name}: frames {mismatched[:10]} decode differently here than in the reference venv "
        f"({ref['meta']['versions']}); align imageio/av versions before any parity test")
