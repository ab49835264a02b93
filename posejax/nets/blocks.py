"""Convolution primitives shared by the detector and the landmark networks.

Parameter layout follows Flax (``kernel`` as ``(kh, kw, in, out)``, depthwise kernels as
``(kh, kw, 1, channels)`` as for ``nn.Conv(feature_group_count=channels)``, ``bias`` as
``(out,)``), so the converted weights load into plain ``flax.linen.Conv`` as well. The *computation*
is chosen for XLA's CPU backend, whose grouped-convolution kernel is about 25x slower than the
same depthwise convolution written as shifted multiply-adds, whose 1x1 convolutions run about
1.8x faster as an ``einsum``, and whose dense k x k convolutions on few channels (the 3-channel
stem) run about 5x faster as one ``einsum`` over the stacked k*k shifted views (im2col).
Padding follows TensorFlow (``SAME`` puts the odd pixel after).

With a bfloat16 ``dtype`` inputs and outputs of every layer are bfloat16, but products are summed
and the bias added in float32 (``preferred_element_type``), which halves to quarters the error of
the BlazePose networks compared with bfloat16 accumulation; float32 results are unaffected.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp
from jax import lax


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``SAME`` padding of one spatial dimension: (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_hw(x, kernel: int, stride: int, padding):
    if padding == "VALID":
        return x
    if padding == "SAME":
        ph = tf_same_padding(x.shape[-3], kernel, stride)
        pw = tf_same_padding(x.shape[-2], kernel, stride)
    else:
        ph, pw = padding
    return jnp.pad(x, ((0, 0), ph, pw, (0, 0)))


#: Below this many output channels a k x k convolution stays an XLA convolution: the patch matrix
#: would multiply into too few columns (a 3x3 convolution to 1 channel is ~15x slower as patches).
_MIN_IM2COL_FEATURES = 8


def _patches(x, kernel: int, stride: int):
    """The ``kernel`` x ``kernel`` patches of an already padded NHWC ``x``, taps stacked on the
    channel axis in ``(row, column, channel)`` order (the order of a flattened HWIO kernel)."""
    out_h = (x.shape[1] - kernel) // stride + 1
    out_w = (x.shape[2] - kernel) // stride + 1
    taps = [x[:, i:i + (out_h - 1) * stride + 1:stride, j:j + (out_w - 1) * stride + 1:stride, :]
            for i in range(kernel) for j in range(kernel)]
    return jnp.concatenate(taps, axis=-1)


def relu6(x):
    return jnp.clip(x, 0, 6)


class Conv(nn.Module):
    """A dense 2-D convolution, NHWC; 1x1 kernels and k x k kernels with 8 or more outputs run as
    an ``einsum`` (the latter over stacked shifted views).

    Attributes
    ----------
    features : int
        Output channels.
    kernel_size : int
        Square kernel side.
    strides : int
    padding : "SAME", "VALID" or ((top, bottom), (left, right))
    dtype : compute dtype.
    """

    features: int
    kernel_size: int = 1
    strides: int = 1
    padding: str | Sequence = "SAME"
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        k = self.kernel_size
        kernel = self.param("kernel", nn.initializers.lecun_normal(),
                            (k, k, x.shape[-1], self.features), jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32)
        x = x.astype(self.dtype)
        kernel = kernel.astype(self.dtype)
        if k == 1 and self.padding in ("SAME", "VALID"):
            x = x[:, :: self.strides, :: self.strides, :]
            y = jnp.einsum("nhwc,cd->nhwd", x, kernel[0, 0], preferred_element_type=jnp.float32)
        elif self.features >= _MIN_IM2COL_FEATURES:
            x = _pad_hw(x, k, self.strides, self.padding)
            y = jnp.einsum("nhwc,cd->nhwd", _patches(x, k, self.strides),
                           kernel.reshape(-1, self.features), preferred_element_type=jnp.float32)
        else:
            x = _pad_hw(x, k, self.strides, self.padding)
            y = lax.conv_general_dilated(x, kernel, (self.strides, self.strides), "VALID",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                         preferred_element_type=jnp.float32)
        return (y + bias).astype(self.dtype)


class DepthwiseConv(nn.Module):
    """A depthwise (one filter per channel) 2-D convolution, NHWC, as shifted multiply-adds.

    Attributes
    ----------
    kernel_size : int
    strides : int
    padding : "SAME", "VALID" or ((top, bottom), (left, right))
    dtype : compute dtype.
    """

    kernel_size: int = 3
    strides: int = 1
    padding: str | Sequence = "SAME"
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        k, s = self.kernel_size, self.strides
        channels = x.shape[-1]
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (k, k, 1, channels),
                            jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (channels,), jnp.float32)
        x = _pad_hw(x.astype(self.dtype), k, s, self.padding)
        out_h = (x.shape[1] - k) // s + 1
        out_w = (x.shape[2] - k) // s + 1
        y = None
        for i in range(k):
            for j in range(k):
                tap = lax.slice(x, (0, i, j, 0),
                                (x.shape[0], i + (out_h - 1) * s + 1, j + (out_w - 1) * s + 1,
                                 channels), (1, s, s, 1))
                term = tap.astype(jnp.float32) * kernel[i, j, 0]
                y = term if y is None else y + term
        return (y + bias).astype(self.dtype)
