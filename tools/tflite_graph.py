"""Read a TFLite flatbuffer into plain Python objects: ops, tensors and constant weights.

Used only by the weight-conversion and fixture tools (never at runtime). Parsing goes through the
flatbuffer schema bindings that ship with ``ai-edge-litert`` (the ``dev`` extra).

Constants in the BlazePose models are stored as float16 and widened by ``DEQUANTIZE`` ops, and the
detector's 1x1 convolution kernels are additionally stored sparse and expanded by ``DENSIFY`` ops.
:meth:`TFLiteGraph.constant` follows those chains back to the stored buffer and returns the dense
float16 array, bit for bit as stored.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

_TFLITE_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8}


@dataclasses.dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: type
    buffer: int


@dataclasses.dataclass
class Op:
    index: int
    type: str
    inputs: list[int]
    outputs: list[int]
    options: dict


class TFLiteGraph:
    """The first subgraph of a ``.tflite`` model, with its constants resolved.

    Parameters
    ----------
    path : path-like
        The ``.tflite`` file.
    """

    def __init__(self, path):
        from ai_edge_litert import schema_py_generated as schema

        self.path = Path(path)
        raw = self.path.read_bytes()
        model = schema.ModelT.InitFromPackedBuf(raw, 0)
        opnames = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
        sub = model.subgraphs[0]
        self._model = model
        self._sub = sub
        self.tensors = [
            Tensor(i, t.name.decode(), tuple(int(d) for d in t.shape), _TFLITE_DTYPES[t.type],
                   int(t.buffer))
            for i, t in enumerate(sub.tensors)
        ]
        self.ops = []
        for k, op in enumerate(sub.operators):
            code = model.operatorCodes[op.opcodeIndex]
            name = opnames[max(code.builtinCode, code.deprecatedBuiltinCode)]
            options = dict(vars(op.builtinOptions)) if op.builtinOptions is not None else {}
            self.ops.append(Op(k, name, [int(i) for i in op.inputs],
                               [int(i) for i in op.outputs], options))
        self.inputs = [int(i) for i in sub.inputs]
        self.outputs = [int(i) for i in sub.outputs]
        self._producer = {o: op for op in self.ops for o in op.outputs}

    # -- structure -----------------------------------------------------------------------------
    def producer(self, tensor: int) -> Op | None:
        """The op that writes ``tensor``, or None for graph inputs and stored constants."""
        return self._producer.get(tensor)

    def compute_ops(self) -> list[Op]:
        """Ops in execution order, without the DEQUANTIZE/DENSIFY ops that only unpack weights."""
        return [op for op in self.ops if op.type not in ("DEQUANTIZE", "DENSIFY")]

    def is_constant(self, tensor: int) -> bool:
        op = self.producer(tensor)
        if op is None:
            return self._buffer_bytes(self.tensors[tensor].buffer) is not None
        return op.type in ("DEQUANTIZE", "DENSIFY") and self.is_constant(op.inputs[0])

    # -- constants -------------------------------------------------------------------------------
    def _buffer_bytes(self, buffer: int) -> bytes | None:
        data = self._model.buffers[buffer].data
        if data is None or len(data) == 0:
            return None
        return np.asarray(data, dtype=np.uint8).tobytes()

    def constant(self, tensor: int) -> np.ndarray:
        """The value of a constant tensor in its stored dtype (float16 weights stay float16)."""
        op = self.producer(tensor)
        if op is not None:
            if op.type == "DEQUANTIZE":
                return self.constant(op.inputs[0])
            if op.type == "DENSIFY":
                return self._densify(op.inputs[0], self.tensors[op.outputs[0]].shape)
            raise ValueError(f"tensor {tensor} is computed by {op.type}, not a constant")
        t = self.tensors[tensor]
        data = self._buffer_bytes(t.buffer)
        if data is None:
            raise ValueError(f"tensor {tensor} ({t.name}) has no stored data")
        if self._sub.tensors[tensor].sparsity is not None:
            raise ValueError(f"tensor {tensor} is sparse; read it through its DENSIFY op")
        return np.frombuffer(data, dtype=t.dtype).reshape(t.shape).copy()

    def _densify(self, tensor: int, dense_shape: tuple[int, ...]) -> np.ndarray:
        """Expand a sparse constant, following TFLite's ``FormatConverter::SparseToDense``."""
        t = self.tensors[tensor]
        values = np.frombuffer(self._buffer_bytes(t.buffer), dtype=t.dtype)
        sp = self._sub.tensors[tensor].sparsity
        order = [int(i) for i in sp.traversalOrder]
        block_map = [int(i) for i in (sp.blockMap if sp.blockMap is not None else [])]
        rank = len(dense_shape)
        levels = []
        for dm in sp.dimMetadata:
            if dm.format == 0:  # DENSE
                levels.append(("dense", int(dm.denseSize), None, None))
            else:
                seg = np.asarray(dm.arraySegments.values, dtype=np.int64)
                idx = np.asarray(dm.arrayIndices.values, dtype=np.int64)
                levels.append(("sparse", None, seg, idx))
        block_size = [int(sp.dimMetadata[order.index(rank + b)].denseSize)
                      for b in range(len(block_map))]
        dense = np.zeros(int(np.prod(dense_shape)), dtype=t.dtype)
        strides = np.cumprod((1,) + tuple(dense_shape[::-1]))[:-1][::-1]
        cursor = 0
        coords = [0] * len(order)

        def emit():
            orig = [0] * rank
            for level, dim in enumerate(order):
                if dim < rank:
                    orig[dim] = coords[level]
                else:
                    b = dim - rank
                    orig[block_map[b]] = orig[block_map[b]] * block_size[b] + coords[level]
            return int(np.dot(orig, strides))

        def walk(level, prev):
            nonlocal cursor
            if level == len(order):
                dense[emit()] = values[cursor]
                cursor += 1
                return
            kind, size, seg, idx = levels[level]
            if kind == "dense":
                for i in range(size):
                    coords[level] = i
                    walk(level + 1, prev * size + i)
            else:
                for i in range(int(seg[prev]), int(seg[prev + 1])):
                    coords[level] = int(idx[i])
                    walk(level + 1, i)

        walk(0, 0)
        if cursor != values.size:
            raise ValueError(f"densify of tensor {tensor} used {cursor} of {values.size} values")
        return dense.reshape(dense_shape)

    def describe(self) -> str:
        """One line per compute op: type, input/output shapes and options (to read the graph)."""
        lines = []
        for op in self.compute_ops():
            ins = [f"{self.tensors[i].shape}{'c' if self.is_constant(i) else ''}"
                   for i in op.inputs if i >= 0]
            outs = [str(self.tensors[i].shape) for i in op.outputs]
            opts = {k: v for k, v in op.options.items()
                    if k in ("padding", "strideW", "strideH", "fusedActivationFunction",
                             "depthMultiplier", "alignCorners", "halfPixelCenters", "blockSize",
                             "filterWidth", "filterHeight", "axis", "dilationWFactor")}
            lines.append(f"{op.index:4d} {op.type:20s} {' '.join(ins)} -> {' '.join(outs)} {opts}")
        return "\n".join(lines)
