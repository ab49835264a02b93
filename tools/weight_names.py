"""Name the constants of the BlazePose ``.tflite`` graphs after the Flax parameters of posejax.

:func:`name_params` is what ``tools/convert_weights.py`` calls. For the landmark models (``lite``,
``full``, ``heavy``) layers are paired *by the data they read*, which is independent of the order
in which the TFLite converter scheduled independent branches:

1. LiteRT runs the graph on a fixed random crop with every intermediate tensor kept;
2. :class:`posejax.nets.landmark.LandmarkNet` runs on the same crop with each
   ``Conv``/``DepthwiseConv`` layer intercepted (``flax.linen.intercept_methods``). A layer is
   paired with the one unpaired TFLite ``CONV_2D``/``DEPTHWISE_CONV_2D`` whose input tensor equals
   the layer's input (within float rounding, which the bilinear upsampling introduces) and whose
   kernel, bias, stride and output shapes equal the layer's; the layer's output is then replaced
   by that op's TFLite output, so every later input is again a TFLite tensor;
3. where two ops read the same tensor with the same shapes (the two skip branches that leave one
   encoder feature map), the first is tried and the choice is revised if a later layer finds no
   partner (a small backtracking search).

Every layer must pair, every weight op must be used exactly once, and the parameter count must
equal the one in the spec (section 11), otherwise a ValueError says which layer failed. The
``detector`` is named by ``tools/weight_names_detector.py``.

Used only by the tools; never imported at runtime.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Float16 constant values per landmark graph (spec section 11); every one is a conv parameter.
PARAM_COUNTS = {"lite": 1_363_089, "full": 3_169_489, "heavy": 13_751_073}

#: Relative tolerance when comparing a layer's input with a TFLite tensor.
_MATCH_RTOL = 1e-4


def name_params(graph, name: str) -> dict[str, np.ndarray]:
    """The float16 weights of one model under ``/``-joined Flax parameter paths.

    Parameters
    ----------
    graph : tflite_graph.TFLiteGraph
        The parsed ``.tflite`` model.
    name : {"detector", "lite", "full", "heavy"}

    Returns
    -------
    dict
        ``"encoder/stage_1/block_0/expand/kernel" -> float16 array`` etc.: kernels ``(kh, kw, in,
        out)``, depthwise kernels ``(kh, kw, 1, channels)``, biases ``(out,)``, values exactly as
        stored in the graph.

    Example
    -------
    >>> from tflite_graph import TFLiteGraph
    >>> params = name_params(TFLiteGraph("pose_landmark_lite.tflite"), "lite")  # doctest: +SKIP
    >>> params["encoder/stem/kernel"].shape  # doctest: +SKIP
    (3, 3, 3, 24)
    """
    if name == "detector":
        from weight_names_detector import detector_params

        return detector_params(graph)
    from posejax.nets.landmark import CONFIGS, INPUT_SIZE, LandmarkNet

    if name not in CONFIGS:
        raise ValueError(f"unknown model {name!r}; expected detector, lite, full or heavy")
    rng = np.random.default_rng(0)
    crop = rng.random((1, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
    params = match_by_activations(graph, LandmarkNet(CONFIGS[name]), crop)
    count = sum(v.size for v in params.values())
    if count != PARAM_COUNTS[name]:
        raise ValueError(f"{name}: {count:,} parameters named, the graph holds "
                         f"{PARAM_COUNTS[name]:,}")
    return params


@dataclasses.dataclass
class _WeightOp:
    op: object
    kernel: np.ndarray  # Flax layout, float16
    bias: np.ndarray
    stride: int
    source: int  # the tensor read, before an explicit PAD (Flax layers pad internally)


def _weight_ops(graph) -> list[_WeightOp]:
    ops = []
    for op in graph.compute_ops():
        if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        o = op.options
        if o.get("strideH") != o.get("strideW") or o.get("dilationHFactor", 1) != 1 \
                or o.get("dilationWFactor", 1) != 1 or o.get("depthMultiplier", 1) != 1:
            raise ValueError(f"op {op.index} ({op.type}): unsupported options {o}")
        kernel = graph.constant(op.inputs[1])
        if op.type == "CONV_2D":
            kernel = kernel.transpose(1, 2, 3, 0)  # (out, kh, kw, in) -> (kh, kw, in, out)
        else:
            kernel = kernel.transpose(1, 2, 0, 3)  # (1, kh, kw, C) -> (kh, kw, 1, C)
        source = op.inputs[0]
        producer = graph.producer(source)
        if producer is not None and producer.type == "PAD":
            source = producer.inputs[0]
        ops.append(_WeightOp(op, np.ascontiguousarray(kernel), graph.constant(op.inputs[2]),
                             int(o["strideH"]), source))
    return ops


def litert_activations(graph, image: np.ndarray) -> dict[int, np.ndarray]:
    """Every non-constant tensor of ``graph`` after a LiteRT run (builtin kernels) on ``image``."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(graph.path), num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                         experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    interp.set_tensor(graph.inputs[0], image)
    interp.invoke()
    values = {}
    for op in graph.compute_ops():
        for t in (*op.inputs, *op.outputs):
            if t >= 0 and t not in values and not graph.is_constant(t):
                values[t] = np.array(interp.get_tensor(t))
    return values


class _NoPartner(Exception):
    def __init__(self, step: int, message: str):
        super().__init__(message)
        self.step = step


def match_by_activations(graph, module, image: np.ndarray) -> dict[str, np.ndarray]:
    """Pair the Conv/DepthwiseConv layers of ``module`` with the weight ops of ``graph`` by data.

    Parameters
    ----------
    graph : tflite_graph.TFLiteGraph
    module : flax.linen.Module
        Built from :mod:`posejax.nets.blocks` layers; ``module.apply(params, image)`` must run.
    image : np.ndarray
        The graph's input, batch 1, float32 (random values make every tensor distinct).

    Returns
    -------
    dict
        ``"<flax path>/kernel"`` and ``"<flax path>/bias"`` -> float16 arrays in the Flax layout.

    Example
    -------
    >>> params = match_by_activations(graph, LandmarkNet(LITE), crop)  # doctest: +SKIP
    """
    import jax

    values = litert_activations(graph, image)
    weight_ops = _weight_ops(graph)
    # Layer outputs are replaced by TFLite's, so parameter values do not matter: zeros are cheap.
    shapes = jax.eval_shape(module.init, jax.random.key(0), image)
    variables = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)
    out_shapes = _layer_output_shapes(module, variables, image)
    choices: dict[int, int] = {}
    while True:
        ambiguous: list[tuple[int, int]] = []
        try:
            pairs = _attempt(module, variables, image, values, weight_ops, out_shapes,
                             choices, ambiguous)
            break
        except _NoPartner as failure:
            revisable = [(s, n) for s, n in ambiguous if s < failure.step
                         and choices.get(s, 0) + 1 < n]
            if not revisable:
                raise ValueError(str(failure)) from None
            step, _ = revisable[-1]
            revised = choices.get(step, 0) + 1
            choices = {s: c for s, c in choices.items() if s < step}
            choices[step] = revised
    paired = {id(w) for _, w in pairs}
    unused = [w.op.index for w in weight_ops if id(w) not in paired]
    if unused:
        raise ValueError(f"{graph.path.name}: weight ops {unused} pair with no layer")
    params = {}
    for path, w in pairs:
        params[f"{path}/kernel"] = w.kernel
        params[f"{path}/bias"] = w.bias
    _check_against_module(params, variables["params"])
    return params


def _is_layer(context) -> bool:
    from posejax.nets.blocks import Conv, DepthwiseConv

    return context.method_name == "__call__" and isinstance(context.module, Conv | DepthwiseConv)


def _layer_output_shapes(module, variables, image) -> dict[str, tuple[int, ...]]:
    """Output shape of every layer, by path, from an abstract (compile-free) trace."""
    import flax.linen as nn
    import jax

    shapes = {}

    def record(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if _is_layer(context):
            shapes["/".join(context.module.path)] = tuple(out.shape)
        return out

    with nn.intercept_methods(record):
        jax.eval_shape(module.apply, variables, image)
    return shapes


def _attempt(module, variables, image, values, weight_ops, out_shapes, choices, ambiguous):
    import flax.linen as nn
    import jax.numpy as jnp

    free = list(weight_ops)
    pairs = []

    def intercept(next_fun, args, kwargs, context):
        if not _is_layer(context):
            return next_fun(*args, **kwargs)
        layer = context.module
        step = len(pairs)
        path = "/".join(layer.path)
        x = np.asarray(args[0])
        out_shape = out_shapes[path]
        p = layer.variables["params"]
        shapes = (tuple(p["kernel"].shape), tuple(p["bias"].shape))
        fitting = [w for w in free
                   if (w.kernel.shape, w.bias.shape) == shapes and w.stride == layer.strides
                   and values[w.op.outputs[0]].shape == out_shape
                   and values[w.source].shape == x.shape]
        partners = []
        for w in fitting:
            ref = values[w.source]
            if np.abs(ref - x).max() <= _MATCH_RTOL * np.abs(ref).max() + 1e-6:
                partners.append(w)
        if not partners:
            raise _NoPartner(step, f"layer {path} (kernel {shapes[0]}, stride {layer.strides}, "
                                   f"input {x.shape}, output {out_shape}) has no TFLite op "
                                   f"reading the same data; {len(fitting)} op(s) have its shapes")
        if len(partners) > 1:
            ambiguous.append((step, len(partners)))
        chosen = partners[choices.get(step, 0)]
        free.remove(chosen)
        pairs.append((path, chosen))
        return jnp.asarray(values[chosen.op.outputs[0]])

    with nn.intercept_methods(intercept):
        module.apply(variables, image)
    return pairs


def _check_against_module(params: dict, module_params) -> None:
    from flax.traverse_util import flatten_dict

    expected = {k: tuple(v.shape) for k, v in flatten_dict(module_params, sep="/").items()}
    missing = sorted(set(expected) - set(params))
    extra = sorted(set(params) - set(expected))
    if missing or extra:
        raise ValueError(f"named parameters differ from the module: missing {missing[:5]}, "
                         f"unexpected {extra[:5]}")
    wrong = [k for k in expected if params[k].shape != expected[k]]
    if wrong:
        raise ValueError(f"shape mismatch for {wrong[:5]}")
