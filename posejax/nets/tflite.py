"""A small pure-Python reader of TFLite flatbuffers: the graph's structure and its constants.

posejax reads ``.tflite`` files at run time only to load the weights of a MediaPipe ``.task``
bundle (:mod:`posejax.tasks.bundle`), without the TFLite runtime or its flatbuffer bindings. This
reader walks the flatbuffer tables of TFLite's ``schema.fbs`` that this needs: the first subgraph's
tensors (shape, type, buffer, sparsity), its operators (builtin code, inputs, outputs) and the
buffers. Constants stored as float16 and widened by ``DEQUANTIZE``, or stored sparse and expanded
by ``DENSIFY`` (the pose detector's 1x1 kernels), are followed back to their stored values.

A flatbuffer table starts with an int32 offset back to its vtable, whose uint16 entries give each
field's position in the table (0: absent, the schema's default applies); offsets to tables,
vectors and strings are uint32 counted from where they are stored.

Example
-------
>>> graph = TFLiteGraph.from_bytes(open("pose_detection.tflite", "rb").read())  # doctest: +SKIP
>>> graph.tensors[graph.inputs[0]].shape                                       # doctest: +SKIP
(1, 224, 224, 3)
"""

from __future__ import annotations

import dataclasses
import struct

import numpy as np

#: TFLite ``TensorType`` -> NumPy dtype (the types BlazePose graphs use)
TENSOR_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64,
                 6: np.bool_, 7: np.int16, 9: np.int8}
#: TFLite ``BuiltinOperator`` codes this module names
CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE, PAD, DENSIFY = 3, 4, 6, 34, 124
#: operators that only unpack stored weights
UNPACKING = (DEQUANTIZE, DENSIFY)


class TFLiteFormatError(ValueError):
    """The bytes are not a TFLite model this reader understands."""


class _Table:
    """One flatbuffer table: field ``i`` read by its vtable slot."""

    __slots__ = ("buf", "pos", "vtable", "vsize")

    def __init__(self, buf: bytes, pos: int):
        if not 0 <= pos <= len(buf) - 4:
            raise TFLiteFormatError(f"table offset {pos} outside the {len(buf)}-byte file")
        self.buf, self.pos = buf, pos
        self.vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        if not 0 <= self.vtable <= len(buf) - 4:
            raise TFLiteFormatError(f"vtable offset {self.vtable} outside the file")
        self.vsize = struct.unpack_from("<H", buf, self.vtable)[0]

    def _field(self, index: int) -> int:
        slot = 4 + 2 * index
        if slot >= self.vsize:
            return 0
        offset = struct.unpack_from("<H", self.buf, self.vtable + slot)[0]
        return self.pos + offset if offset else 0

    def scalar(self, index: int, fmt: str, default=0):
        at = self._field(index)
        return struct.unpack_from("<" + fmt, self.buf, at)[0] if at else default

    def _target(self, index: int) -> int:
        at = self._field(index)
        return at + struct.unpack_from("<I", self.buf, at)[0] if at else 0

    def table(self, index: int) -> _Table | None:
        at = self._target(index)
        return _Table(self.buf, at) if at else None

    def vector(self, index: int, dtype) -> np.ndarray:
        at = self._target(index)
        if not at:
            return np.zeros(0, dtype)
        length = struct.unpack_from("<I", self.buf, at)[0]
        dtype = np.dtype(dtype).newbyteorder("<")
        if at + 4 + length * dtype.itemsize > len(self.buf):
            raise TFLiteFormatError("vector runs past the end of the file")
        return np.frombuffer(self.buf, dtype, length, at + 4)

    def tables(self, index: int) -> list[_Table]:
        at = self._target(index)
        if not at:
            return []
        length = struct.unpack_from("<I", self.buf, at)[0]
        out = []
        for k in range(length):
            element = at + 4 + 4 * k
            out.append(_Table(self.buf, element + struct.unpack_from("<I", self.buf, element)[0]))
        return out

    def string(self, index: int) -> str:
        return bytes(self.vector(index, np.uint8)).decode("utf-8", "replace")


@dataclasses.dataclass(frozen=True)
class Tensor:
    """One tensor of the graph: ``shape``, NumPy ``dtype``, ``buffer`` index and ``name``."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    buffer: int
    sparsity: _Table | None = dataclasses.field(default=None, repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Operator:
    """One operator: its builtin ``code`` and its input and output tensor indices (-1: none)."""

    index: int
    code: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


class TFLiteGraph:
    """The first subgraph of a TFLite model, from its bytes.

    Parameters
    ----------
    data : bytes
        A ``.tflite`` file's content.

    Raises
    ------
    TFLiteFormatError
        When the bytes are not a TFLite flatbuffer (no ``TFL3`` identifier, offsets outside the
        data, no subgraph).
    """

    def __init__(self, data: bytes):
        data = bytes(data)
        if len(data) < 8 or data[4:8] != b"TFL3":
            raise TFLiteFormatError("not a TFLite model (no TFL3 file identifier)")
        try:
            self._read(data)
        except (struct.error, IndexError, UnicodeError) as error:
            raise TFLiteFormatError(f"damaged TFLite flatbuffer ({error})") from None

    @classmethod
    def from_bytes(cls, data: bytes) -> TFLiteGraph:
        """The graph of a ``.tflite`` file's bytes (same as the constructor)."""
        return cls(data)

    def _read(self, data: bytes) -> None:
        self._data = data
        model = _Table(data, struct.unpack_from("<I", data, 0)[0])
        codes = [max(int(c.scalar(0, "b", 0)), int(c.scalar(3, "i", 0)))
                 for c in model.tables(1)]
        subgraphs = model.tables(2)
        if not subgraphs:
            raise TFLiteFormatError("the model has no subgraph")
        self._buffers = model.tables(4)
        graph = subgraphs[0]
        self.tensors = []
        for i, t in enumerate(graph.tables(0)):
            tensor_type = int(t.scalar(1, "b", 0))
            if tensor_type not in TENSOR_DTYPES:
                raise TFLiteFormatError(f"tensor {i} has unsupported type {tensor_type}")
            self.tensors.append(Tensor(i, t.string(3), tuple(int(d) for d in t.vector(0, "<i4")),
                                       np.dtype(TENSOR_DTYPES[tensor_type]),
                                       int(t.scalar(2, "I", 0)), t.table(6)))
        self.inputs = tuple(int(i) for i in graph.vector(1, "<i4"))
        self.outputs = tuple(int(i) for i in graph.vector(2, "<i4"))
        self.operators = []
        for k, op in enumerate(graph.tables(3)):
            opcode = int(op.scalar(0, "I", 0))
            if opcode >= len(codes):
                raise TFLiteFormatError(f"operator {k} names opcode {opcode} of {len(codes)}")
            self.operators.append(Operator(k, codes[opcode],
                                           tuple(int(i) for i in op.vector(1, "<i4")),
                                           tuple(int(i) for i in op.vector(2, "<i4"))))
        self._producer = {o: op for op in self.operators for o in op.outputs}

    # -- structure ---------------------------------------------------------------------------
    def producer(self, tensor: int) -> Operator | None:
        """The operator that writes ``tensor``, or None for inputs and stored constants."""
        return self._producer.get(tensor)

    def compute_operators(self) -> list[Operator]:
        """Operators in execution order, without those that only unpack weights."""
        return [op for op in self.operators if op.code not in UNPACKING]

    def structure(self) -> list[tuple[int, tuple[int, ...]]]:
        """``(builtin code, first output shape)`` of every compute operator, in order.

        Two graphs with equal structures compute the same function of their weights.
        """
        return [(op.code, self.tensors[op.outputs[0]].shape) for op in self.compute_operators()]

    # -- constants ---------------------------------------------------------------------------
    def _buffer_bytes(self, buffer: int) -> bytes | None:
        if not 0 <= buffer < len(self._buffers):
            raise TFLiteFormatError(f"buffer {buffer} of {len(self._buffers)}")
        data = self._buffers[buffer].vector(0, np.uint8)
        return bytes(data) if data.size else None

    def constant(self, tensor: int) -> np.ndarray:
        """The stored value of a constant tensor, in its stored dtype (float16 stays float16).

        Raises
        ------
        TFLiteFormatError
            When the tensor is computed by an operator other than DEQUANTIZE/DENSIFY, or has no
            stored data.
        """
        op = self.producer(tensor)
        if op is not None:
            if op.code == DEQUANTIZE:
                return self.constant(op.inputs[0])
            if op.code == DENSIFY:
                return self._densify(op.inputs[0], self.tensors[op.outputs[0]].shape)
            raise TFLiteFormatError(f"tensor {tensor} is computed (operator code {op.code}), "
                                    "not a constant")
        t = self.tensors[tensor]
        data = self._buffer_bytes(t.buffer)
        if data is None:
            raise TFLiteFormatError(f"tensor {tensor} ({t.name}) has no stored data")
        if t.sparsity is not None:
            raise TFLiteFormatError(f"tensor {tensor} is sparse and read by no DENSIFY")
        count = int(np.prod(t.shape))
        if len(data) != count * t.dtype.itemsize:
            raise TFLiteFormatError(f"tensor {tensor} ({t.name}): {len(data)} bytes stored for "
                                    f"shape {t.shape} of {t.dtype}")
        return np.frombuffer(data, t.dtype.newbyteorder("<")).astype(t.dtype).reshape(t.shape)

    def _densify(self, tensor: int, dense_shape: tuple[int, ...]) -> np.ndarray:
        """Expand a sparse constant as TFLite's ``FormatConverter::SparseToDense`` does."""
        t = self.tensors[tensor]
        values = np.frombuffer(self._buffer_bytes(t.buffer), t.dtype.newbyteorder("<"))
        sparsity = t.sparsity
        order = [int(i) for i in sparsity.vector(0, "<i4")]
        block_map = [int(i) for i in sparsity.vector(1, "<i4")]
        levels = []
        for dim in sparsity.tables(2):
            if int(dim.scalar(0, "b", 0)) == 0:   # DENSE
                levels.append((int(dim.scalar(1, "i", 0)), None, None))
            else:                                  # SPARSE_CSR
                levels.append((None, _index_vector(dim, 2), _index_vector(dim, 4)))
        rank = len(dense_shape)
        block_size = [levels[order.index(rank + b)][0] for b in range(len(block_map))]
        # Walk the levels for all stored values at once: ``parents`` is each partial path's
        # position in its level, ``coords`` its coordinate at every level so far.
        parents = np.zeros(1, np.int64)
        coords = []
        for size, segments, indices in levels:
            if size is not None:                     # dense: every child of every path
                children = np.arange(size, dtype=np.int64)
                coords = [np.repeat(c, size) for c in coords] + [np.tile(children, parents.size)]
                parents = (parents[:, None] * size + children).reshape(-1)
            else:                                    # CSR: the children listed for each path
                starts = segments[parents].astype(np.int64)
                counts = segments[parents + 1].astype(np.int64) - starts
                offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                positions = np.repeat(starts, counts) + offsets
                coords = [np.repeat(c, counts) for c in coords] + \
                    [indices[positions].astype(np.int64)]
                parents = positions
        if parents.size != values.size:
            raise TFLiteFormatError(f"densify of tensor {tensor}: {parents.size} positions for "
                                    f"{values.size} values")
        point = [np.zeros(values.size, np.int64) for _ in range(rank)]
        for level, dim in enumerate(order):
            if dim < rank:
                point[dim] = coords[level]
            else:
                b = dim - rank
                point[block_map[b]] = point[block_map[b]] * block_size[b] + coords[level]
        dense = np.zeros(dense_shape, values.dtype)
        dense[tuple(point)] = values
        return dense


def _index_vector(dim: _Table, type_field: int) -> np.ndarray:
    """A ``SparseIndexVector`` union (Int32Vector, Uint16Vector or Uint8Vector) as an array."""
    kind = int(dim.scalar(type_field, "B", 0))
    dtypes = {1: "<i4", 2: "<u2", 3: "u1"}
    if kind not in dtypes:
        raise TFLiteFormatError(f"unknown sparse index vector type {kind}")
    return dim.table(type_field + 1).vector(0, dtypes[kind])
