"""Name the constants of ``pose_detection.tflite`` after the parameters of ``PoseDetector``.

The pairing does not rely on TFLite tensor names. :func:`flax_layer_calls` records, through
``flax.linen.intercept_methods``, every convolution layer of :class:`PoseDetector` in the order it
is called, with its parameter shapes and output size; :func:`tflite_layer_ops` lists the
weight-bearing ops (CONV_2D, DEPTHWISE_CONV_2D) of the graph in execution order with the same
information. Layers are paired in order *within* each class of identical (kind, weight shapes,
stride, output size): the TFLite converter interleaves independent branches (the pyramid's laterals
run between backbone blocks) so the global orders differ, but inside a class both follow the data
flow. Only the classifier/regressor depthwise pairs of one pyramid level share a class without
following each other through data; PoseDetector calls them in the graph's order (classifier
first). Any layer left unpaired on either side, and any difference in stride, padding or depth
multiplier, raises. Finally :func:`check_against_litert` runs PoseDetector with the named weights
and LiteRT on the same random image and raises unless both outputs agree, so a swap of two
same-shaped layers cannot go unnoticed.

Parameter count: the graph holds 2,965,026 float16 values (spec section 11), the sum over its
distinct constant tensors. Summed over op inputs it is 2,965,314 = 2,965,026 + 192 + 96: the two
all-zero depthwise biases of each pyramid level's refinement blocks (192 and 96 channels) were
deduplicated by the converter into one tensor each, used by two ops. PoseDetector keeps one bias per
layer, so the converted npz holds 2,965,314 values.

Used by ``tools/weight_names.py`` and ``tools/convert_weights.py``; never imported at runtime.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import numpy as np

#: Distinct float16 values in ``pose_detection.tflite`` (spec section 11).
GRAPH_FLOAT16_VALUES = 2_965_026
#: Float16 values in the converted parameters (two zero bias vectors appear twice).
PARAM_FLOAT16_VALUES = 2_965_314
#: Conv and depthwise layers (spec section 11: CONV_2D 45, DEPTHWISE_CONV_2D 28).
NUM_LAYERS = 45 + 28


@dataclasses.dataclass(frozen=True)
class Layer:
    """One weight-bearing layer, described identically on both sides.

    Attributes
    ----------
    kind : "conv" or "depthwise"
    kernel_shape, bias_shape : tuple of int
        In the Flax layout.
    stride : int
    out_hw : tuple of int
        Spatial size of the output.
    where : str
        Flax parameter path, or the TFLite op index.
    """

    kind: str
    kernel_shape: tuple[int, ...]
    bias_shape: tuple[int, ...]
    stride: int
    out_hw: tuple[int, int]
    where: str

    @property
    def key(self):
        return (self.kind, self.kernel_shape, self.bias_shape, self.stride, self.out_hw)


def flax_layer_calls(model=None) -> list[Layer]:
    """The Conv/DepthwiseConv layers of ``model`` (default ``PoseDetector()``) in call order."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    from posejax.nets.blocks import Conv, DepthwiseConv
    from posejax.nets.detector import INPUT_SIZE, PoseDetector, SpaceToDepthConv

    model = PoseDetector() if model is None else model
    calls = []

    def record(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        module = context.module
        layer_types = (Conv, DepthwiseConv, SpaceToDepthConv)
        if context.method_name == "__call__" and isinstance(module, layer_types):
            calls.append((module, out.shape))
        return out

    image = jax.ShapeDtypeStruct((1, INPUT_SIZE, INPUT_SIZE, 3), jnp.float32)
    with nn.intercept_methods(record):
        variables = jax.eval_shape(lambda x: model.init(jax.random.key(0), x), image)
    params = variables["params"]
    layers = []
    for module, out_shape in calls:
        path = "/".join(module.path)
        leaf = params
        for name in module.path:
            leaf = leaf[name]
        kind = "depthwise" if isinstance(module, DepthwiseConv) else "conv"
        layers.append(Layer(kind, tuple(leaf["kernel"].shape), tuple(leaf["bias"].shape),
                            int(module.strides), tuple(out_shape[1:3]), path))
    return layers


def tflite_layer_ops(graph) -> list[tuple[Layer, np.ndarray, np.ndarray]]:
    """Weight-bearing ops of the detector graph in execution order, weights in the Flax layout.

    Returns ``(layer, kernel, bias)`` triples; kernel and bias are the stored float16 values.
    """
    out = []
    for op in graph.compute_ops():
        if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        opts = op.options
        if opts.get("strideH") != opts.get("strideW"):
            raise ValueError(f"op {op.index}: non-square stride {opts}")
        if opts.get("dilationHFactor", 1) != 1 or opts.get("dilationWFactor", 1) != 1:
            raise ValueError(f"op {op.index}: dilated convolution is not supported")
        kernel = graph.constant(op.inputs[1])
        bias = graph.constant(op.inputs[2])
        if op.type == "CONV_2D":
            kind = "conv"
            kernel = kernel.transpose(1, 2, 3, 0)  # (O, kh, kw, I) -> (kh, kw, I, O)
        else:
            kind = "depthwise"
            if opts.get("depthMultiplier", 1) != 1:
                raise ValueError(f"op {op.index}: depth multiplier {opts['depthMultiplier']}")
            kernel = kernel.transpose(1, 2, 0, 3)  # (1, kh, kw, C) -> (kh, kw, 1, C)
        _check_padding(graph, op, kernel.shape[0])
        out_shape = graph.tensors[op.outputs[0]].shape
        layer = Layer(kind, tuple(kernel.shape), tuple(bias.shape), int(opts["strideH"]),
                      tuple(out_shape[1:3]), f"tflite op {op.index}")
        out.append((layer, np.ascontiguousarray(kernel), np.ascontiguousarray(bias)))
    return out


def _check_padding(graph, op, kernel: int) -> None:
    """Stride-2 layers must read an explicit symmetric ``kernel // 2`` PAD, as PoseDetector does."""
    same, valid = 0, 1
    padding = op.options["padding"]
    stride = op.options["strideH"]
    if kernel == 1:
        return  # SAME and VALID coincide for 1x1 kernels
    if stride == 1:
        if padding != same:
            raise ValueError(f"op {op.index}: stride-1 {kernel}x{kernel} layer is not SAME")
        return
    producer = graph.producer(op.inputs[0])
    if padding != valid or producer is None or producer.type != "PAD":
        raise ValueError(f"op {op.index}: stride-{stride} layer without an explicit PAD")
    pads = graph.constant(producer.inputs[1]).tolist()
    half = kernel // 2
    if pads != [[0, 0], [half, half], [half, half], [0, 0]]:
        raise ValueError(f"op {op.index}: explicit padding {pads}, expected {half} on each side")


def pair_layers(flax_layers: list[Layer], tflite_layers: list[Layer]) -> list[tuple[int, int]]:
    """Pair Flax layers with TFLite layers in order within each class of equal ``Layer.key``.

    Returns ``(flax_index, tflite_index)`` pairs; raises ValueError if any layer stays unpaired.
    """
    queues = defaultdict(list)
    for j, layer in enumerate(tflite_layers):
        queues[layer.key].append(j)
    pairs, unpaired = [], []
    for i, layer in enumerate(flax_layers):
        if queues[layer.key]:
            pairs.append((i, queues[layer.key].pop(0)))
        else:
            unpaired.append(f"flax {layer.where} {layer.key}")
    unpaired += [f"{tflite_layers[j].where} {tflite_layers[j].key}"
                 for q in queues.values() for j in q]
    if unpaired:
        raise ValueError("detector layers without a counterpart:\n  " + "\n  ".join(unpaired))
    return pairs


def detector_params(graph) -> dict[str, np.ndarray]:
    """The detector's float16 weights under the ``/``-joined Flax parameter paths.

    Parameters
    ----------
    graph : tflite_graph.TFLiteGraph
        The parsed ``pose_detection.tflite``.

    Returns
    -------
    dict
        ``"backbone/block_3/expand/kernel" -> float16 array`` etc., kernels ``(kh, kw, in, out)``,
        depthwise kernels ``(kh, kw, 1, channels)``, biases ``(out,)``; no leading ``params/``.

    Example
    -------
    >>> from tflite_graph import TFLiteGraph
    >>> params = detector_params(TFLiteGraph("pose_detection.tflite"))  # doctest: +SKIP
    >>> params["stem/kernel"].shape  # doctest: +SKIP
    (3, 3, 3, 24)
    """
    graph_values = _distinct_float16_values(graph)
    if graph_values != GRAPH_FLOAT16_VALUES:
        raise ValueError(f"{graph.path}: {graph_values:,} float16 values, expected "
                         f"{GRAPH_FLOAT16_VALUES:,}; is this pose_detection.tflite?")
    flax_layers = flax_layer_calls()
    tflite = tflite_layer_ops(graph)
    if len(flax_layers) != NUM_LAYERS or len(tflite) != NUM_LAYERS:
        raise ValueError(f"expected {NUM_LAYERS} layers, PoseDetector has {len(flax_layers)} "
                         f"and the graph {len(tflite)}")
    params = {}
    for i, j in pair_layers(flax_layers, [layer for layer, _, _ in tflite]):
        _, kernel, bias = tflite[j]
        for name, value in (("kernel", kernel), ("bias", bias)):
            if value.dtype != np.float16:
                raise ValueError(f"{tflite[j][0].where}: {name} is {value.dtype}, not float16")
            params[f"{flax_layers[i].where}/{name}"] = value
    count = sum(v.size for v in params.values())
    if count != PARAM_FLOAT16_VALUES:
        raise ValueError(f"converted {count:,} values, expected {PARAM_FLOAT16_VALUES:,}")
    check_against_litert(graph, params)
    return params


def check_against_litert(graph, params: dict[str, np.ndarray], rtol: float = 1e-4) -> None:
    """Raise ValueError unless PoseDetector with ``params`` reproduces LiteRT on a random image.

    Both outputs must agree within ``rtol * max|litert| + 1e-5`` (float32; the parity test's
    bound). Random input makes every anchor's output depend on the weights it should.
    """
    import jax
    import jax.numpy as jnp
    from ai_edge_litert.interpreter import Interpreter
    from flax.traverse_util import unflatten_dict

    from posejax.nets.detector import INPUT_SIZE, PoseDetector

    image = np.random.default_rng(0).uniform(-1, 1, (1, INPUT_SIZE, INPUT_SIZE, 3))
    image = image.astype(np.float32)
    interpreter = Interpreter(model_path=str(graph.path), num_threads=1)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    reference = {d["name"]: interpreter.get_tensor(d["index"])
                 for d in interpreter.get_output_details()}
    variables = {"params": unflatten_dict({tuple(k.split("/")): jnp.asarray(v, jnp.float32)
                                           for k, v in params.items()})}
    ours = jax.jit(PoseDetector().apply)(variables, image)
    for key, name in (("boxes", "Identity"), ("scores", "Identity_1")):
        ref = reference[name]
        diff = float(np.abs(np.asarray(ours[key]) - ref).max())
        bound = rtol * float(np.abs(ref).max()) + 1e-5
        if not diff <= bound:
            raise ValueError(f"named detector weights do not reproduce LiteRT: {key} differs by "
                             f"{diff:.3g} (bound {bound:.3g}); layers are mispaired")


def _distinct_float16_values(graph) -> int:
    tensors = {i for op in graph.compute_ops() for i in op.inputs
               if i >= 0 and graph.is_constant(i)}
    return sum(int(np.prod(graph.tensors[i].shape)) for i in tensors
               if graph.constant(i).dtype == np.float16)
