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

import functools
from collections.abc import Sequence

import flax.linen as nn
import jax
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


#: From this many output channels a k x k convolution multiplies a patch matrix (im2col); below it
#: that product has too few columns (a 3x3 convolution to 1 channel is ~15x slower as patches than
#: as an XLA convolution) and :func:`_tap_planes_conv` is used.
_MIN_IM2COL_FEATURES = 8


def _patches(x, kernel: int, stride: int):
    """The ``kernel`` x ``kernel`` patches of an already padded NHWC ``x``.

    Taps are stacked on the channel axis in ``(row, column, channel)`` order, the order of a
    flattened HWIO kernel.
    """
    out_h = (x.shape[1] - kernel) // stride + 1
    out_w = (x.shape[2] - kernel) // stride + 1
    taps = [x[:, i:i + (out_h - 1) * stride + 1:stride, j:j + (out_w - 1) * stride + 1:stride, :]
            for i in range(kernel) for j in range(kernel)]
    return jnp.concatenate(taps, axis=-1)


def _tap_planes_conv(x, kernel, stride: int, padding):
    """A k x k convolution to few channels, as per-tap planes summed at their shifts.

    One ``einsum`` gives every tap's contribution as a separate plane (pixel-wise, so it commutes
    with zero padding), then the k*k planes are summed at their shifts. For the 3x3 convolution
    to 1 channel at 256x256 this is ~4x faster than XLA's convolution for one image (and as fast
    for eight).
    """
    k, _, c, features = kernel.shape
    planes = jnp.einsum("nhwc,tcd->tnhwd", x, kernel.reshape(k * k, c, features),
                        preferred_element_type=jnp.float32)
    if padding != "VALID":
        ph, pw = ((tf_same_padding(x.shape[1], k, stride), tf_same_padding(x.shape[2], k, stride))
                  if padding == "SAME" else padding)
        planes = jnp.pad(planes, ((0, 0), (0, 0), ph, pw, (0, 0)))
    out_h = (planes.shape[2] - k) // stride + 1
    out_w = (planes.shape[3] - k) // stride + 1
    y = None
    for i in range(k):
        for j in range(k):
            tap = planes[i * k + j, :, i:i + (out_h - 1) * stride + 1:stride,
                         j:j + (out_w - 1) * stride + 1:stride]
            y = tap if y is None else y + tap
    return y


def relu6(x):
    """``min(max(x, 0), 6)``, the activation of the BlazePose networks.

    Example
    -------
    >>> relu6(jnp.array([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return jnp.clip(x, 0, 6)


class Conv(nn.Module):
    """A dense 2-D convolution, NHWC, computed as an ``einsum`` where that is faster.

    1x1 kernels and k x k kernels with 8 or more outputs run as an ``einsum`` (the latter over
    stacked shifted views).

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
        return _conv(x, kernel, bias, strides=self.strides, padding=_hashable(self.padding),
                     dtype=jnp.dtype(self.dtype))


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
        return _depthwise(x, kernel, bias, strides=s, padding=_hashable(self.padding),
                          dtype=jnp.dtype(self.dtype))


def _hashable(padding):
    if isinstance(padding, str):
        return padding
    return tuple(tuple(int(v) for v in pair) for pair in padding)


# The layer arithmetic lives in jitted functions: a network repeats blocks of equal shapes, and a
# jitted function traced once for a shape is reused for the others, which halves the time to trace
# a network. XLA inlines these calls before optimizing, so the compiled program is unchanged.
@functools.partial(jax.jit, static_argnames=("strides", "padding", "dtype"))
def _conv(x, kernel, bias, *, strides, padding, dtype):
    k, features = kernel.shape[0], kernel.shape[-1]
    x = x.astype(dtype)
    kernel = kernel.astype(dtype)
    if k == 1 and padding in ("SAME", "VALID"):
        x = x[:, ::strides, ::strides, :]
        y = jnp.einsum("nhwc,cd->nhwd", x, kernel[0, 0], preferred_element_type=jnp.float32)
    elif features >= _MIN_IM2COL_FEATURES:
        x = _pad_hw(x, k, strides, padding)
        y = jnp.einsum("nhwc,cd->nhwd", _patches(x, k, strides),
                       kernel.reshape(-1, features), preferred_element_type=jnp.float32)
    else:
        y = _tap_planes_conv(x, kernel, strides, padding)
    return (y + bias).astype(dtype)


@functools.partial(jax.jit, static_argnames=("strides", "padding", "dtype"))
def _depthwise(x, kernel, bias, *, strides, padding, dtype):
    k, s, channels = kernel.shape[0], strides, kernel.shape[-1]
    x = _pad_hw(x.astype(dtype), k, s, padding)
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
    return (y + bias).astype(dtype)
