"""posejax.nets.blocks and the parameter-free layers of the landmark network against XLA's own
convolution, TensorFlow's padding rule and TFLite's half-pixel bilinear resize."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from posejax.nets.blocks import Conv, DepthwiseConv, tf_same_padding
from posejax.nets.landmark import BlazeBlock, max_pool2x2, upsample2x


def _reference_conv(x, kernel, stride, padding, groups=1):
    if padding == "SAME":
        padding = [tf_same_padding(x.shape[i], kernel.shape[0], stride) for i in (1, 2)]
    return lax.conv_general_dilated(x, kernel, (stride, stride), padding,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                    feature_group_count=groups,
                                    precision=lax.Precision.HIGHEST)


def _random(shape, seed):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


@pytest.mark.parametrize("features,kernel,stride,padding", [
    (16, 1, 1, "SAME"),           # einsum
    (16, 1, 2, "VALID"),
    (24, 3, 2, ((1, 1), (1, 1))),  # im2col, the stem
    (12, 2, 1, "VALID"),          # im2col, the 2x2 heads
    (8, 3, 2, "SAME"),
    (1, 3, 1, "SAME"),            # tap planes, the segmentation output
    (3, 3, 2, "SAME"),
    (2, 5, 1, ((2, 2), (2, 2))),
])
def test_conv_matches_xla_convolution(features, kernel, stride, padding):
    x = _random((2, 11, 10, 5), 0)
    layer = Conv(features, kernel, stride, padding)
    params = layer.init(jax.random.key(0), x)
    w = params["params"]["kernel"]
    b = _random((features,), 1)
    params = {"params": {"kernel": w, "bias": b}}
    got = layer.apply(params, x)
    expected = _reference_conv(x, w, stride, padding) + b
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel,stride,padding", [
    (3, 1, "SAME"), (3, 2, "SAME"), (5, 2, ((2, 2), (2, 2))), (3, 2, ((1, 1), (1, 1)))])
def test_depthwise_matches_grouped_convolution(kernel, stride, padding):
    x = _random((2, 12, 9, 6), 2)
    layer = DepthwiseConv(kernel, stride, padding)
    w = _random((kernel, kernel, 1, 6), 3)
    b = _random((6,), 4)
    got = layer.apply({"params": {"kernel": w, "bias": b}}, x)
    expected = _reference_conv(x, w, stride, padding, groups=6) + b
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_tf_same_padding_puts_the_odd_pixel_after():
    assert tf_same_padding(8, 3, 2) == (0, 1)
    assert tf_same_padding(8, 3, 1) == (1, 1)
    assert tf_same_padding(7, 5, 2) == (2, 2)


def test_upsample2x_is_half_pixel_bilinear_with_clamped_edges():
    x = _random((1, 3, 4, 2), 5)
    got = upsample2x(x)
    # TFLite RESIZE_BILINEAR(half_pixel_centers=True): source coordinate (i + 0.5) / 2 - 0.5,
    # clamped to the image, then linear interpolation between its two neighbours.
    def axis_weights(n_in):
        w = np.zeros((2 * n_in, n_in))
        for i in range(2 * n_in):
            src = min(max((i + 0.5) / 2 - 0.5, 0), n_in - 1)
            lo = int(np.floor(src))
            hi = min(lo + 1, n_in - 1)
            w[i, lo] += 1 - (src - lo)
            w[i, hi] += src - lo
        return w

    expected = np.einsum("yh,xw,nhwc->nyxc", axis_weights(3), axis_weights(4), np.asarray(x))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    resized = jax.image.resize(x, (1, 6, 8, 2), "bilinear")  # same convention for upsampling
    np.testing.assert_allclose(got, resized, rtol=1e-6, atol=1e-6)


def test_max_pool2x2():
    x = jnp.arange(2 * 4 * 4 * 3, dtype=jnp.float32).reshape(2, 4, 4, 3)
    expected = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    np.testing.assert_array_equal(max_pool2x2(x), expected)


def test_strided_blaze_block_pads_the_pooled_shortcut_with_zero_channels():
    x = jnp.abs(_random((1, 4, 4, 2), 6))
    block = BlazeBlock(4, strides=2, residual=True)
    params = jax.tree.map(jnp.zeros_like, block.init(jax.random.key(0), x))
    out = block.apply(params, x)  # zero weights: only the shortcut remains
    expected = jnp.concatenate([jnp.clip(max_pool2x2(x), 0, 6), jnp.zeros((1, 2, 2, 2))], -1)
    np.testing.assert_array_equal(out, expected)
