"""Reading ``.task`` bundles: posejax's own names, damaged bundles, and foreign networks."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from flax.traverse_util import flatten_dict

import posejax as mp
from posejax import nets
from posejax.nets import tflite
from posejax.tasks import bundle
from posejax.tasks.bundle import BundleError, load_models
from tests.helpers.tasks_data import require_bundle
from tests.helpers.tflite_builder import TensorSpec, build_model


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("model", ["lite", "full", "heavy"])
def test_bundled_names_resolve_to_posejax_weights(tmp_path, model):
    models = load_models(tmp_path / f"pose_landmarker_{model}.task")
    assert models.model == model and "posejax bundled weights" in models.source


def test_unknown_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load_models(tmp_path / "pose_landmarker_huge.task")


def test_exactly_one_model_source():
    with pytest.raises(ValueError, match="exactly one"):
        load_models()
    with pytest.raises(ValueError, match="exactly one"):
        load_models("pose_landmarker_full.task", b"")
    with pytest.raises(TypeError, match="bytes"):
        load_models(model_asset_buffer="pose_landmarker_full.task")


@pytest.mark.parametrize("data, message", [
    (b"not a zip file at all", "not a .task bundle"),
    (zipped({"pose_detector.tflite": b"x"}), "pose_landmarks_detector.tflite missing"),
    (zipped({"pose_detector.tflite": b"x" * 16, "pose_landmarks_detector.tflite": b"y" * 16}),
     "pose_detector.tflite: not a TFLite model"),
])
def test_damaged_bundles_say_what_is_wrong(data, message):
    with pytest.raises(BundleError, match=message):
        load_models(model_asset_buffer=data)


def test_the_landmarker_reports_bundle_errors():
    options = mp.tasks.vision.PoseLandmarkerOptions(
        base_options=mp.tasks.BaseOptions(model_asset_buffer=b"PK broken"))
    with pytest.raises(ValueError, match="not a .task bundle"):
        mp.tasks.vision.PoseLandmarker.create_from_options(options)


# -- with the bundles of the legacy models (tools/make_tasks_fixtures.py --bundles) ------------

def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("model", ["lite", "full", "heavy"])
def test_bundle_weights_equal_the_converted_ones(model):
    path = require_bundle(model)
    models = load_models(path)
    assert models.model == model
    for name, params in (("detector", models.detector_params),
                         (model, models.landmark_params)):
        _, ours = nets.load(name)
        got, expected = (flatten_dict(p["params"], sep="/") for p in (params, ours))
        assert got.keys() == expected.keys()
        for key in expected:
            np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(expected[key]),
                                          err_msg=key)


def test_a_buffer_reads_like_the_file():
    path = require_bundle("lite")
    assert load_models(model_asset_buffer=path.read_bytes()).model == "lite"


def test_swapped_networks_are_named():
    files = members(require_bundle("lite"))
    swapped = {"pose_detector.tflite": files["pose_landmarks_detector.tflite"],
               "pose_landmarks_detector.tflite": files["pose_detector.tflite"]}
    expected = (r"is not posejax's pose detector .*input shapes \[\[1, 256, 256, 3\]\], "
                r"expected \[\[1, 224, 224, 3\]\]")
    with pytest.raises(BundleError, match=expected):
        load_models(model_asset_buffer=zipped(swapped))


def test_another_landmark_network_is_refused():
    files = members(require_bundle("lite"))
    files["pose_landmarks_detector.tflite"] = files["pose_detector.tflite"]
    with pytest.raises(BundleError, match="none of posejax's landmark networks"):
        load_models(model_asset_buffer=zipped(files))


def test_a_truncated_network_is_refused():
    files = members(require_bundle("lite"))
    files["pose_landmarks_detector.tflite"] = files["pose_landmarks_detector.tflite"][:50_000]
    with pytest.raises(BundleError, match="pose_landmarks_detector.tflite"):
        load_models(model_asset_buffer=zipped(files))


def test_layouts_cover_the_four_networks():
    layouts = bundle._layouts()
    assert sorted(layouts) == ["detector", "full", "heavy", "lite"]
    assert layouts["detector"]["outputs"] == [[1, 2254, 12], [1, 2254, 1]]
    for model in ("lite", "full", "heavy"):
        assert [1, 195] in layouts[model]["outputs"] and [1, 117] in layouts[model]["outputs"]


def fake_network(input_shape, output_shapes) -> bytes:
    """A one-operator network with the given input and output shapes."""
    tensors = [TensorSpec(input_shape)] + [TensorSpec(s) for s in output_shapes]
    outputs = list(range(1, len(tensors)))
    return build_model(tensors, [(tflite.CONV_2D, [0], outputs)], [0], outputs)


def test_a_detector_of_another_input_size_is_named():
    face_detector = fake_network((1, 128, 128, 3), [(1, 896, 16), (1, 896, 1)])
    data = zipped({"pose_detector.tflite": face_detector,
                   "pose_landmarks_detector.tflite": face_detector})
    with pytest.raises(BundleError, match=r"pose_detector.tflite is not posejax's pose detector "
                                          r".*input shapes \[\[1, 128, 128, 3\]\]"):
        load_models(model_asset_buffer=data)


def test_a_detector_with_other_operators_is_named():
    detector = fake_network((1, 224, 224, 3), [(1, 2254, 12), (1, 2254, 1)])
    data = zipped({"pose_detector.tflite": detector,
                   "pose_landmarks_detector.tflite": detector})
    with pytest.raises(BundleError, match=r"operator 0 is builtin 3 with output \[1, 2254, 12\]"):
        load_models(model_asset_buffer=data)
