"""Read a MediaPipe ``pose_landmarker_*.task`` bundle into posejax's networks.

A ``.task`` file is a zip holding ``pose_detector.tflite`` and ``pose_landmarks_detector.tflite``.
Each network is read with posejax's pure-Python TFLite reader (:mod:`posejax.nets.tflite`) and
compared with the graphs posejax implements (``posejax/nets/tflite_layouts.json``, written
by ``tools/make_tflite_layouts.py`` from the original models):

* the detector must take a 224 x 224 x 3 image and give 2254 anchors x 12 box values and 2254
  scores; the landmark network a 256 x 256 x 3 crop giving 39 x 5 landmarks, the pose flag, the
  segmentation logits, the heatmap and 117 world values;
* the sequence of operators (builtin operator and output shape, in order) must be the one of the
  detector, or of the lite, full or heavy landmark network; which one it equals says which
  landmark model the bundle holds.

The weights are then read by position (float16 or float32 constants, through ``DEQUANTIZE`` and
``DENSIFY``) and checked against the Flax modules' parameter shapes. Anything else raises
:class:`BundleError` saying what differs. The input normalization in the models' TFLite metadata
is not read: posejax feeds the detector values in [-1, 1] and the landmark network values in
[0, 1], as MediaPipe's own bundles ask.

Users without a bundle file can name one of posejax's own: ``model_asset_path`` equal to
``pose_landmarker_lite.task``, ``pose_landmarker_full.task`` or ``pose_landmarker_heavy.task``
(any folder) that does **not** exist as a file resolves to the weights shipped with posejax
(:data:`BUNDLED_MODELS`). A file of that name that exists is always read instead.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.resources
import io
import json
import os
import zipfile
from pathlib import Path

import jax
import numpy as np
from flax.traverse_util import flatten_dict, unflatten_dict

from posejax import nets
from posejax.nets import tflite

#: file names that resolve to posejax's shipped weights when no such file exists
BUNDLED_MODELS = {"pose_landmarker_lite.task": "lite", "pose_landmarker_full.task": "full",
                  "pose_landmarker_heavy.task": "heavy"}
DETECTOR_MEMBER = "pose_detector.tflite"
LANDMARKS_MEMBER = "pose_landmarks_detector.tflite"
LANDMARK_MODELS = ("lite", "full", "heavy")


class BundleError(ValueError):
    """A ``.task`` bundle that posejax cannot run: not a bundle, or other networks."""


@dataclasses.dataclass(frozen=True)
class PoseModels:
    """The two networks of a bundle: ``model`` (lite/full/heavy), parameters and provenance."""

    model: str
    detector_params: dict
    landmark_params: dict    # with the segmentation head
    source: str

    def landmark_params_for(self, with_segmentation: bool) -> dict:
        """The landmark parameters for the module with or without the segmentation head."""
        if with_segmentation:
            return self.landmark_params
        _, reference = nets.load(self.model, with_segmentation=False)
        wanted = flatten_dict(reference["params"], sep="/")
        flat = flatten_dict(self.landmark_params["params"], sep="/")
        return {"params": unflatten_dict({k: flat[k] for k in wanted}, sep="/")}


def load_models(model_asset_path=None, model_asset_buffer=None) -> PoseModels:
    """The networks named by ``BaseOptions``: a bundle file, a bundle's bytes, or a bundled name.

    Parameters
    ----------
    model_asset_path : path-like, optional
        A ``.task`` file, or (when no such file exists) one of :data:`BUNDLED_MODELS`.
    model_asset_buffer : bytes, optional
        A ``.task`` file's content.

    Returns
    -------
    PoseModels

    Raises
    ------
    ValueError
        Neither or both given.
    FileNotFoundError
        No such file, and not a bundled name.
    BundleError
        Not a pose landmarker bundle, or networks that differ from posejax's.

    Example
    -------
    >>> models = load_models("pose_landmarker_lite.task")   # no such file: posejax's own weights
    >>> models.model, models.source
    ('lite', 'posejax bundled weights (lite)')
    """
    if (model_asset_path is None) == (model_asset_buffer is None):
        raise ValueError("set exactly one of base_options.model_asset_path and "
                         "base_options.model_asset_buffer")
    if model_asset_buffer is not None:
        if not isinstance(model_asset_buffer, (bytes, bytearray, memoryview)):
            raise TypeError("model_asset_buffer must be bytes, got "
                            f"{type(model_asset_buffer).__name__}")
        return _read_bundle(bytes(model_asset_buffer), "model_asset_buffer")
    path = Path(os.fspath(model_asset_path))
    if path.is_file():
        return _read_bundle(path.read_bytes(), str(path))
    model = BUNDLED_MODELS.get(path.name)
    if model is None:
        raise FileNotFoundError(f"{path}: no such model file (posejax also knows, without a "
                                f"file, the names {', '.join(BUNDLED_MODELS)})")
    _, detector = nets.load("detector")
    _, landmarks = nets.load(model, with_segmentation=True)
    return PoseModels(model, detector, landmarks, f"posejax bundled weights ({model})")


def _read_bundle(data: bytes, where: str) -> PoseModels:
    return _read_bundle_cached(hashlib.sha256(data).hexdigest(), data, where)


@functools.lru_cache(maxsize=4)
def _read_bundle_cached(digest: str, data: bytes, where: str) -> PoseModels:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            missing = [m for m in (DETECTOR_MEMBER, LANDMARKS_MEMBER) if m not in names]
            if missing:
                raise BundleError(f"{where}: not a pose landmarker bundle: {', '.join(missing)} "
                                  f"missing (it holds {', '.join(sorted(names)) or 'nothing'})")
            detector_bytes = archive.read(DETECTOR_MEMBER)
            landmark_bytes = archive.read(LANDMARKS_MEMBER)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise BundleError(f"{where}: not a .task bundle (a zip of {DETECTOR_MEMBER} and "
                          f"{LANDMARKS_MEMBER}): {error}") from None
    detector_graph = _graph(detector_bytes, f"{where}: {DETECTOR_MEMBER}")
    landmark_graph = _graph(landmark_bytes, f"{where}: {LANDMARKS_MEMBER}")
    layouts = _layouts()
    _check_graph(detector_graph, layouts["detector"], f"{where}: {DETECTOR_MEMBER}",
                 "posejax's pose detector (224 x 224 input, 2254 anchors)")
    model = _landmark_model(landmark_graph, layouts, f"{where}: {LANDMARKS_MEMBER}")
    detector = _params(detector_graph, layouts["detector"], "detector", where)
    landmarks = _params(landmark_graph, layouts[model], model, where)
    return PoseModels(model, detector, landmarks, f"{where} (sha256 {digest[:12]}, {model})")


def _graph(data: bytes, where: str) -> tflite.TFLiteGraph:
    try:
        return tflite.TFLiteGraph(data)
    except tflite.TFLiteFormatError as error:
        raise BundleError(f"{where}: {error}") from None


@functools.cache
def _layouts() -> dict:
    text = (importlib.resources.files("posejax.nets") / "tflite_layouts.json").read_text()
    return json.loads(text)


def _io_shapes(graph: tflite.TFLiteGraph) -> tuple[list, list]:
    return ([list(graph.tensors[i].shape) for i in graph.inputs],
            [list(graph.tensors[i].shape) for i in graph.outputs])


def _structure_difference(graph: tflite.TFLiteGraph, layout: dict) -> str | None:
    """The first difference of ``graph`` from ``layout``, in words; None when there is none.

    Compared: input shapes, output shapes, then every compute operator in order.
    """
    inputs, outputs = _io_shapes(graph)
    if inputs != layout["inputs"]:
        return f"input shapes {inputs}, expected {layout['inputs']}"
    if outputs != layout["outputs"]:
        return f"output shapes {outputs}, expected {layout['outputs']}"
    structure = [[code, list(shape)] for code, shape in graph.structure()]
    for k, (got, expected) in enumerate(zip(structure, layout["structure"], strict=False)):
        if got != expected:
            return (f"operator {k} is builtin {got[0]} with output {got[1]}, expected builtin "
                    f"{expected[0]} with output {expected[1]}")
    if len(structure) != len(layout["structure"]):
        return f"{len(structure)} operators, expected {len(layout['structure'])}"
    return None


def _check_graph(graph, layout, where: str, what: str) -> None:
    difference = _structure_difference(graph, layout)
    if difference is not None:
        raise BundleError(f"{where} is not {what}: {difference}")


def _landmark_model(graph, layouts, where: str) -> str:
    differences = {m: _structure_difference(graph, layouts[m]) for m in LANDMARK_MODELS}
    for model, difference in differences.items():
        if difference is None:
            return model
    inputs, outputs = _io_shapes(graph)
    detail = "; ".join(f"{m}: {d}" for m, d in differences.items())
    raise BundleError(f"{where} is none of posejax's landmark networks (256 x 256 input, 39 x 5 "
                      f"landmarks, 117 world values; inputs {inputs}, outputs {outputs}): "
                      f"{detail}")


def _params(graph: tflite.TFLiteGraph, layout: dict, name: str, where: str) -> dict:
    operators = graph.compute_operators()
    _, reference = nets.load(name) if name == "detector" else nets.load(name,
                                                                        with_segmentation=True)
    expected = flatten_dict(reference["params"], sep="/")
    flat = {}
    for position, layer in layout["layers"]:
        op = operators[position]
        try:
            kernel = graph.constant(op.inputs[1])
            bias = graph.constant(op.inputs[2])
        except tflite.TFLiteFormatError as error:
            raise BundleError(f"{where}: {name} layer {layer}: {error}") from None
        if op.code == tflite.CONV_2D:
            kernel = kernel.transpose(1, 2, 3, 0)   # (out, kh, kw, in) -> (kh, kw, in, out)
        else:
            kernel = kernel.transpose(1, 2, 0, 3)   # (1, kh, kw, C) -> (kh, kw, 1, C)
        flat[f"{layer}/kernel"], flat[f"{layer}/bias"] = kernel, bias
    if set(flat) != set(expected):
        raise BundleError(f"{where}: {name} weights do not cover the module's parameters")
    for key, value in flat.items():
        if value.shape != tuple(expected[key].shape):
            raise BundleError(f"{where}: {name} {key} has shape {value.shape}, the module "
                              f"expects {tuple(expected[key].shape)}")
        if not np.all(np.isfinite(value)):
            raise BundleError(f"{where}: {name} {key} holds non-finite values")
    params = {k: jax.device_put(np.asarray(v, np.float32)) for k, v in flat.items()}
    return {"params": unflatten_dict(params, sep="/")}
