"""PoseDetector: parameter-free layers, structure, and parity with LiteRT.

The parity fixture ``tests/fixtures/nets/detector.npz`` (``tools/make_net_fixtures.py``) holds
letterboxed 224x224 uint8 images and the outputs of ``pose_detection.tflite`` under LiteRT
(float32, XNNPACK) for them.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from posejax.nets import load
from posejax.nets.blocks import Conv
from posejax.nets.detector import (
    INPUT_SIZE,
    NUM_ANCHORS,
    NUM_COORDS,
    PoseDetector,
    SpaceToDepthConv,
    depth_to_space,
    resize_bilinear_half_pixel,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "nets" / "detector.npz"

#: float32 parity bound: |jax - litert| <= F32_RTOL * max|litert| + F32_ATOL, per output.
F32_RTOL, F32_ATOL = 1e-4, 1e-5
#: bfloat16 bounds, about twice the largest errors measured (see
#: test_bfloat16_within_measured_bounds): max |diff| relative to max|litert| per output (the
#: maximum sits on far-off anchors with raw values in the hundreds), sigmoid(score) anywhere ...
BF16_RTOL = 0.15
BF16_SCORE = 0.08
#: ... and on the anchors LiteRT scores >= 0.5: offsets in pixels (of 224) and score.
BF16_DETECTED_PX = 5.0
BF16_DETECTED_SCORE = 0.03


# -- parameter-free layers ------------------------------------------------------------------------


def test_depth_to_space_follows_tensorflow_dcr_order():
    block, n, h, w, c = 2, 2, 3, 4, 3
    x = np.arange(n * h * w * block * block * c, dtype=np.float32).reshape(n, h, w, -1)
    expected = np.empty((n, h * block, w * block, c), np.float32)
    for b in range(n):
        for y in range(h * block):
            for xx in range(w * block):
                i, j = y % block, xx % block
                expected[b, y, xx] = x[b, y // block, xx // block, (i * block + j) * c:][:c]
    np.testing.assert_array_equal(np.asarray(depth_to_space(jnp.asarray(x), block)), expected)


def test_depth_to_space_rejects_indivisible_channels():
    with pytest.raises(ValueError, match="divisible"):
        depth_to_space(jnp.zeros((1, 2, 2, 6)), 2)


def _tflite_resize_reference(x, out_h, out_w):
    """TFLite's reference ResizeBilinear loops, half_pixel_centers=True, align_corners=False."""
    n, in_h, in_w, c = x.shape
    out = np.zeros((n, out_h, out_w, c), np.float32)
    for y in range(out_h):
        in_y = (y + 0.5) * (in_h / out_h) - 0.5
        y0, y1 = max(int(np.floor(in_y)), 0), min(int(np.ceil(in_y)), in_h - 1)
        for xx in range(out_w):
            in_x = (xx + 0.5) * (in_w / out_w) - 0.5
            x0, x1 = max(int(np.floor(in_x)), 0), min(int(np.ceil(in_x)), in_w - 1)
            dy, dx = in_y - y0, in_x - x0
            out[:, y, xx] = (x[:, y0, x0] * (1 - dy) * (1 - dx) + x[:, y1, x0] * dy * (1 - dx)
                             + x[:, y0, x1] * (1 - dy) * dx + x[:, y1, x1] * dy * dx)
    return out


@pytest.mark.parametrize("in_hw, out_hw", [((7, 7), (14, 14)), ((3, 5), (8, 9)), ((6, 6), (4, 5))])
def test_resize_bilinear_matches_tflite_reference_kernel(in_hw, out_hw):
    x = np.random.default_rng(1).normal(size=(2, *in_hw, 3)).astype(np.float32)
    got = np.asarray(resize_bilinear_half_pixel(jnp.asarray(x), *out_hw))
    np.testing.assert_allclose(got, _tflite_resize_reference(x, *out_hw), rtol=0, atol=1e-5)


def test_resize_bilinear_upsampling_agrees_with_jax_image_resize():
    # An independent formulation: jax.image.resize samples at half-pixel centres and renormalises
    # the weights at the border, which for upsampling equals TFLite's clamping.
    x = np.random.default_rng(2).normal(size=(1, 7, 7, 4)).astype(np.float32)
    got = resize_bilinear_half_pixel(jnp.asarray(x), 14, 14)
    want = jax.image.resize(jnp.asarray(x), (1, 14, 14, 4), "bilinear")
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=0, atol=1e-5)


@pytest.mark.parametrize("kernel, padding, size", [(3, 1, 16), (4, 1, 10), (3, 2, 12)])
def test_space_to_depth_conv_equals_strided_conv(kernel, padding, size):
    x = jnp.asarray(np.random.default_rng(3).normal(size=(2, size, size, 3)), jnp.float32)
    fast = SpaceToDepthConv(5, kernel, padding)
    plain = Conv(5, kernel, 2, ((padding, padding), (padding, padding)))
    variables = fast.init(jax.random.key(0), x)
    variables = jax.tree.map(lambda v: v + 0.1, variables)  # a nonzero bias too
    np.testing.assert_allclose(np.asarray(fast.apply(variables, x)),
                               np.asarray(plain.apply(variables, x)), rtol=1e-5, atol=1e-5)


def test_space_to_depth_conv_rejects_unsupported_kernels():
    with pytest.raises(ValueError, match="3x3 and 4x4"):
        SpaceToDepthConv(4, 5, 2).init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)))


# -- structure and input checks -------------------------------------------------------------------


def _shapes(model):
    image = jax.ShapeDtypeStruct((1, INPUT_SIZE, INPUT_SIZE, 3), jnp.float32)
    return jax.eval_shape(model.init, jax.random.key(0), image)


def test_output_shapes_and_dtypes_for_both_compute_dtypes():
    for dtype in (jnp.float32, jnp.bfloat16):
        model = PoseDetector(dtype=dtype)
        images = jax.ShapeDtypeStruct((3, INPUT_SIZE, INPUT_SIZE, 3), jnp.float32)
        out = jax.eval_shape(model.apply, _shapes(model), images)
        assert out["boxes"].shape == (3, NUM_ANCHORS, NUM_COORDS)
        assert out["scores"].shape == (3, NUM_ANCHORS, 1)
        assert out["boxes"].dtype == out["scores"].dtype == jnp.float32


def test_parameters_are_the_converted_weights_layer_for_layer():
    from flax.traverse_util import flatten_dict

    shapes = flatten_dict(_shapes(PoseDetector())["params"], sep="/")
    _, variables = load("detector")
    weights = flatten_dict(variables["params"], sep="/")
    assert sorted(shapes) == sorted(weights)
    assert all(tuple(shapes[k].shape) == tuple(weights[k].shape) for k in shapes)
    # 2,965,026 distinct float16 values in the graph, two all-zero bias vectors (192 + 96) shared
    # by two layers each there and stored per layer here.
    assert sum(int(np.prod(s.shape)) for s in shapes.values()) == 2_965_026 + 192 + 96
    assert "backbone/block_3/expand/kernel" in shapes
    assert "head/regressor_32/conv/kernel" in shapes


@pytest.mark.parametrize("shape", [(224, 224, 3), (1, 256, 256, 3), (2, 224, 224, 4)])
def test_rejects_wrong_image_shape(shape):
    model = PoseDetector()
    with pytest.raises(ValueError, match=r"\(N, 224, 224, 3\)"):
        jax.eval_shape(model.apply, _shapes(model), jax.ShapeDtypeStruct(shape, jnp.float32))


def test_rejects_integer_images():
    model = PoseDetector()
    images = jax.ShapeDtypeStruct((1, INPUT_SIZE, INPUT_SIZE, 3), jnp.uint8)
    with pytest.raises(TypeError, match="float images"):
        jax.eval_shape(model.apply, _shapes(model), images)


# -- parity with LiteRT ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def detector_fixture():
    if not FIXTURE.exists():
        pytest.fail(f"{FIXTURE} is missing; regenerate it with tools/make_net_fixtures.py")
    with np.load(FIXTURE) as npz:
        data = {k: npz[k] for k in npz.files}
    data["inputs"] = data["images"].astype(np.float32) * np.float32(2 / 255) - np.float32(1)
    return data


@pytest.fixture(scope="session")
def run_detector():
    """Jitted float32 and bfloat16 detectors from the loader, each compiled once per session."""
    compiled = {}

    def run(images, dtype="float32"):
        if dtype not in compiled:
            module, variables = load("detector", dtype)
            compiled[dtype] = (jax.jit(module.apply), variables)
        apply, variables = compiled[dtype]
        return jax.tree.map(np.asarray, apply(variables, images))

    return run


@pytest.mark.slow
def test_float32_matches_litert(detector_fixture, run_detector):
    out = run_detector(detector_fixture["inputs"])
    for key in ("boxes", "scores"):
        ref = detector_fixture[key]
        diff = np.abs(out[key] - ref).max()
        bound = F32_RTOL * np.abs(ref).max() + F32_ATOL
        assert diff <= bound, f"{key}: max |jax - litert| = {diff:.3g} > {bound:.3g}"


@pytest.mark.slow
def test_float32_batch_does_not_change_results(detector_fixture, run_detector):
    images = detector_fixture["inputs"]
    batch = run_detector(images)
    single = run_detector(images[-1:])
    for key in ("boxes", "scores"):
        ref = detector_fixture[key]
        bound = F32_RTOL * np.abs(ref).max() + F32_ATOL
        assert np.abs(single[key][0] - batch[key][-1]).max() <= bound


@pytest.mark.slow
def test_bfloat16_within_measured_bounds(detector_fixture, run_detector):
    # Measured on the fixture images (astronaut, basketball, Sports2D frame 60): 7.7 % / 4.6 %
    # of max|litert| for boxes / scores, sigmoid(score) within 0.029, and on the 19 anchors
    # LiteRT detects offsets within 1.8 px and scores within 0.009. On three other images
    # (astronaut, messi5, Sports2D frame 30): 3.3 % / 3.7 %, 0.045, 2.8 px and 0.015.
    out = run_detector(detector_fixture["inputs"], "bfloat16")
    for key in ("boxes", "scores"):
        ref = detector_fixture[key]
        assert np.abs(out[key] - ref).max() <= BF16_RTOL * np.abs(ref).max(), key
    score_ref = _sigmoid(detector_fixture["scores"][..., 0])
    score_bf16 = _sigmoid(out["scores"][..., 0])
    assert np.abs(score_bf16 - score_ref).max() <= BF16_SCORE
    detected = score_ref >= 0.5
    assert detected.any(), "the fixture should contain detected people"
    assert np.abs(out["boxes"] - detector_fixture["boxes"])[detected].max() <= BF16_DETECTED_PX
    assert np.abs(score_bf16 - score_ref)[detected].max() <= BF16_DETECTED_SCORE


def _sigmoid(logits):
    return 0.5 * (1 + np.tanh(0.5 * logits))
