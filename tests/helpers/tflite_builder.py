"""Write small TFLite flatbuffers for tests, following TFLite's ``schema.fbs`` field order.

Only what :mod:`posejax.nets.tflite` reads: operator codes, one subgraph (tensors with shape,
type, buffer, name and optional CSR sparsity; operators with inputs and outputs) and buffers.
Tests use it to check the reader on known data and to build networks of the wrong shape,
without any ``.tflite`` file from outside the repository.
"""

from __future__ import annotations

import dataclasses

import flatbuffers
import numpy as np

#: NumPy dtype -> TFLite TensorType
TENSOR_TYPES = {np.dtype(np.float32): 0, np.dtype(np.float16): 1, np.dtype(np.int32): 2,
                np.dtype(np.uint8): 3}


@dataclasses.dataclass
class Sparsity:
    """CSR levels: ``traversal_order``, per level ``("dense", size)`` or
    ``("csr", segments, indices)``, and ``block_map``."""

    traversal_order: list[int]
    levels: list[tuple]
    block_map: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TensorSpec:
    shape: tuple[int, ...]
    dtype: np.dtype = np.dtype(np.float32)
    data: bytes | None = None            # stored constant (its own buffer)
    name: str = ""
    sparsity: Sparsity | None = None


def _int_vector(builder, values):
    return builder.CreateNumpyVector(np.asarray(values, np.int32))


def _offsets(builder, offsets):
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _sparsity(builder, sparsity: Sparsity):
    dims = []
    for level in sparsity.levels:
        if level[0] == "dense":
            builder.StartObject(6)
            builder.PrependInt8Slot(0, 0, 0)
            builder.PrependInt32Slot(1, level[1], 0)
            dims.append(builder.EndObject())
            continue
        vectors = []
        for values in level[1:]:
            data = _int_vector(builder, values)
            builder.StartObject(1)
            builder.PrependUOffsetTRelativeSlot(0, data, 0)
            vectors.append(builder.EndObject())
        builder.StartObject(6)
        builder.PrependInt8Slot(0, 1, 0)                 # SPARSE_CSR
        builder.PrependUint8Slot(2, 1, 0)                # Int32Vector
        builder.PrependUOffsetTRelativeSlot(3, vectors[0], 0)
        builder.PrependUint8Slot(4, 1, 0)
        builder.PrependUOffsetTRelativeSlot(5, vectors[1], 0)
        dims.append(builder.EndObject())
    order = _int_vector(builder, sparsity.traversal_order)
    block_map = _int_vector(builder, sparsity.block_map)
    dim_vector = _offsets(builder, dims)
    builder.StartObject(3)
    builder.PrependUOffsetTRelativeSlot(0, order, 0)
    builder.PrependUOffsetTRelativeSlot(1, block_map, 0)
    builder.PrependUOffsetTRelativeSlot(2, dim_vector, 0)
    return builder.EndObject()


def build_model(tensors: list[TensorSpec], operators: list[tuple[int, list[int], list[int]]],
                inputs: list[int], outputs: list[int]) -> bytes:
    """A ``.tflite`` of one subgraph; ``operators`` are ``(builtin code, inputs, outputs)``."""
    builder = flatbuffers.Builder(1024)
    codes = sorted({code for code, _, _ in operators})
    code_tables = []
    for code in codes:
        builder.StartObject(4)
        builder.PrependInt8Slot(0, min(code, 127), 0)
        builder.PrependInt32Slot(3, code, 0)
        code_tables.append(builder.EndObject())
    buffers_data = [None] + [t.data for t in tensors if t.data is not None]
    buffer_tables = []
    for data in buffers_data:
        vector = None if data is None else builder.CreateByteVector(data)
        builder.StartObject(3)
        if vector is not None:
            builder.PrependUOffsetTRelativeSlot(0, vector, 0)
        buffer_tables.append(builder.EndObject())
    tensor_tables, next_buffer = [], 1
    for tensor in tensors:
        shape = _int_vector(builder, tensor.shape)
        name = builder.CreateString(tensor.name)
        sparsity = None if tensor.sparsity is None else _sparsity(builder, tensor.sparsity)
        builder.StartObject(7)
        builder.PrependUOffsetTRelativeSlot(0, shape, 0)
        builder.PrependInt8Slot(1, TENSOR_TYPES[np.dtype(tensor.dtype)], 0)
        if tensor.data is not None:
            builder.PrependUint32Slot(2, next_buffer, 0)
            next_buffer += 1
        builder.PrependUOffsetTRelativeSlot(3, name, 0)
        if sparsity is not None:
            builder.PrependUOffsetTRelativeSlot(6, sparsity, 0)
        tensor_tables.append(builder.EndObject())
    operator_tables = []
    for code, op_inputs, op_outputs in operators:
        ins, outs = _int_vector(builder, op_inputs), _int_vector(builder, op_outputs)
        builder.StartObject(3)
        builder.PrependUint32Slot(0, codes.index(code), 0)
        builder.PrependUOffsetTRelativeSlot(1, ins, 0)
        builder.PrependUOffsetTRelativeSlot(2, outs, 0)
        operator_tables.append(builder.EndObject())
    tensor_vector, operator_vector = _offsets(builder, tensor_tables), _offsets(builder,
                                                                                  operator_tables)
    graph_inputs, graph_outputs = _int_vector(builder, inputs), _int_vector(builder, outputs)
    builder.StartObject(5)
    builder.PrependUOffsetTRelativeSlot(0, tensor_vector, 0)
    builder.PrependUOffsetTRelativeSlot(1, graph_inputs, 0)
    builder.PrependUOffsetTRelativeSlot(2, graph_outputs, 0)
    builder.PrependUOffsetTRelativeSlot(3, operator_vector, 0)
    subgraph = builder.EndObject()
    code_vector = _offsets(builder, code_tables)
    subgraph_vector = _offsets(builder, [subgraph])
    buffer_vector = _offsets(builder, buffer_tables)
    builder.StartObject(5)
    builder.PrependUint32Slot(0, 3, 0)
    builder.PrependUOffsetTRelativeSlot(1, code_vector, 0)
    builder.PrependUOffsetTRelativeSlot(2, subgraph_vector, 0)
    builder.PrependUOffsetTRelativeSlot(4, buffer_vector, 0)
    model = builder.EndObject()
    builder.Finish(model, file_identifier=b"TFL3")
    return bytes(builder.Output())
