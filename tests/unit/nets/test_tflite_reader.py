"""posejax's TFLite reader on flatbuffers written by ``tests/helpers/tflite_builder.py``."""

from __future__ import annotations

import numpy as np
import pytest

from posejax.nets import tflite
from tests.helpers.tflite_builder import Sparsity, TensorSpec, build_model

F16 = np.dtype(np.float16)


def conv_model() -> tuple[bytes, np.ndarray, np.ndarray]:
    kernel = np.arange(4 * 3 * 3 * 3, dtype=np.float16).reshape(4, 3, 3, 3) / 8
    bias = np.array([0.5, -1.0, 2.0, 3.25], np.float32)
    tensors = [TensorSpec((1, 8, 8, 3), name="image"),
               TensorSpec(kernel.shape, F16, kernel.tobytes(), "kernel16"),
               TensorSpec(kernel.shape, name="kernel"),
               TensorSpec((4,), data=bias.tobytes(), name="bias"),
               TensorSpec((1, 8, 8, 4), name="out")]
    operators = [(tflite.DEQUANTIZE, [1], [2]), (tflite.CONV_2D, [0, 2, 3], [4])]
    return build_model(tensors, operators, [0], [4]), kernel, bias


def test_graph_structure_and_constants_through_dequantize():
    data, kernel, bias = conv_model()
    graph = tflite.TFLiteGraph(data)
    assert graph.inputs == (0,) and graph.outputs == (4,)
    assert [t.name for t in graph.tensors] == ["image", "kernel16", "kernel", "bias", "out"]
    assert graph.tensors[1].dtype == F16 and graph.tensors[0].shape == (1, 8, 8, 3)
    assert graph.structure() == [(tflite.CONV_2D, (1, 8, 8, 4))]   # DEQUANTIZE only unpacks
    conv = graph.compute_operators()[0]
    assert conv.inputs == (0, 2, 3) and graph.producer(4) is conv
    stored = graph.constant(conv.inputs[1])
    assert stored.dtype == F16
    np.testing.assert_array_equal(stored.view(np.uint16), kernel.view(np.uint16))
    np.testing.assert_array_equal(graph.constant(3), bias)
    with pytest.raises(tflite.TFLiteFormatError, match="computed"):
        graph.constant(4)
    with pytest.raises(tflite.TFLiteFormatError, match="no stored data"):
        graph.constant(0)


def densified(shape, sparsity, values) -> np.ndarray:
    values = np.asarray(values, np.float16)
    tensors = [TensorSpec(shape, F16, values.tobytes(), "sparse", sparsity),
               TensorSpec(shape, F16, name="dense")]
    graph = tflite.TFLiteGraph(build_model(tensors, [(tflite.DENSIFY, [0], [1])], [], [1]))
    return graph.constant(1)


def test_densify_csr():
    sparsity = Sparsity([0, 1], [("dense", 3), ("csr", [0, 2, 2, 3], [1, 3, 0])])
    np.testing.assert_array_equal(densified((3, 4), sparsity, [1, 2, 3]),
                                  [[0, 1, 0, 2], [0, 0, 0, 0], [3, 0, 0, 0]])


def test_densify_block_sparse():
    # 2 x 2 blocks of a 4 x 4 matrix: block row 0 keeps block column 1, block row 1 column 0.
    sparsity = Sparsity([0, 1, 2, 3], [("dense", 2), ("csr", [0, 1, 2], [1, 0]),
                                       ("dense", 2), ("dense", 2)], block_map=[0, 1])
    expected = np.zeros((4, 4))
    expected[0:2, 2:4] = [[1, 2], [3, 4]]
    expected[2:4, 0:2] = [[5, 6], [7, 8]]
    np.testing.assert_array_equal(densified((4, 4), sparsity, range(1, 9)), expected)


@pytest.mark.parametrize("data, message", [
    (b"", "no TFL3"),
    (b"\x00" * 4 + b"XXXX" + b"\x00" * 32, "no TFL3"),
])
def test_not_tflite(data, message):
    with pytest.raises(tflite.TFLiteFormatError, match=message):
        tflite.TFLiteGraph(data)


def test_truncated_model_is_a_format_error():
    data, _, _ = conv_model()
    for cut in (16, len(data) // 2, len(data) - 8):
        try:
            graph = tflite.TFLiteGraph(data[:cut])
        except tflite.TFLiteFormatError:
            continue
        # a cut that spares the tables still cannot give the stored kernel in full
        with pytest.raises(tflite.TFLiteFormatError):
            graph.constant(1)
