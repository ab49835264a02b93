"""Write ``posejax/nets/tflite_layouts.json``: where each Flax parameter sits in the graphs.

posejax loads the weights of a MediaPipe ``.task`` bundle without the TFLite runtime
(:mod:`posejax.tasks.bundle`). What it needs is, for each of the four BlazePose graphs, the
structure of the graph (every compute operator's builtin code and output shape, in order) and
which Flax parameter the kernel and bias of each convolution are. A bundle's network whose
structure equals one of these is that network, and its weights load by position.

The pairing is found here by value: the committed ``models/<name>.npz`` hold the graphs' float16
constants bit for bit (``tools/convert_weights.py``), so every convolution of the original
``.tflite`` (read with posejax's own reader, :mod:`posejax.nets.tflite`) has exactly one Flax
kernel equal to its own (transposed to the Flax layout) with the sibling bias equal too. The script
stops if any convolution pairs with none or with several, or a parameter stays unpaired.

The ``.tflite`` files come from the reference venv (``tools/reference_env.py``), which holds the
four originals checked by sha256.

Usage::

    python tools/make_tflite_layouts.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from convert_weights import SOURCES  # noqa: E402

from posejax.nets import tflite  # noqa: E402

OUT = ROOT / "posejax" / "nets" / "tflite_layouts.json"


def _source(name: str) -> Path:
    import reference_env

    python = Path(reference_env.ensure_reference_env(quiet=True))
    member = SOURCES[name][1]
    relative = member.split("mediapipe/", 1)[1] if name in ("detector", "full") else \
        f"modules/pose_landmark/{Path(member).name}"
    found = sorted(python.parents[1].glob(f"lib/python*/site-packages/mediapipe/{relative}"))
    if not found:
        raise SystemExit(f"{name}: {relative} not in the reference venv")
    digest = hashlib.sha256(found[0].read_bytes()).hexdigest()
    if digest != SOURCES[name][2]:
        raise SystemExit(f"{found[0]}: sha256 {digest} is not the converted model's")
    return found[0]


def flax_kernel(graph: tflite.TFLiteGraph, op: tflite.Operator) -> np.ndarray:
    """The kernel of a convolution in the Flax layout ``(kh, kw, in, out)``."""
    kernel = graph.constant(op.inputs[1])
    if op.code == tflite.CONV_2D:
        return kernel.transpose(1, 2, 3, 0)   # (out, kh, kw, in)
    return kernel.transpose(1, 2, 0, 3)       # (1, kh, kw, C) -> (kh, kw, 1, C)


def layout(name: str) -> dict:
    graph = tflite.TFLiteGraph(_source(name).read_bytes())
    with np.load(ROOT / "models" / f"{name}.npz") as npz:
        params = {k: npz[k] for k in npz.files}
    kernels = {k: v for k, v in params.items() if k.endswith("/kernel")}
    compute = graph.compute_operators()
    weights, used = [], set()
    for position, op in enumerate(compute):
        if op.code not in (tflite.CONV_2D, tflite.DEPTHWISE_CONV_2D):
            continue
        kernel, bias = flax_kernel(graph, op), graph.constant(op.inputs[2])
        matches = [k for k, v in kernels.items()
                   if v.shape == kernel.shape and np.array_equal(v.view(np.uint16),
                                                                 kernel.view(np.uint16))
                   and np.array_equal(params[k[:-len("kernel")] + "bias"].view(np.uint16),
                                      bias.view(np.uint16))]
        if len(matches) != 1:
            raise SystemExit(f"{name}: operator {op.index} pairs with {matches or 'nothing'}")
        if matches[0] in used:
            raise SystemExit(f"{name}: {matches[0]} paired twice")
        used.add(matches[0])
        weights.append([position, matches[0][:-len("/kernel")]])
    if len(used) != len(kernels):
        raise SystemExit(f"{name}: unpaired parameters {sorted(set(kernels) - used)[:5]}")
    return {
        "inputs": [list(graph.tensors[i].shape) for i in graph.inputs],
        "outputs": [list(graph.tensors[i].shape) for i in graph.outputs],
        "structure": [[code, list(shape)] for code, shape in graph.structure()],
        "layers": weights,
    }


def main() -> int:
    layouts = {name: layout(name) for name in SOURCES}
    OUT.write_text(json.dumps(layouts, separators=(",", ":"), sort_keys=True) + "\n")
    for name, entry in layouts.items():
        print(f"{name}: {len(entry['structure'])} operators, {len(entry['layers'])} layers")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
