"""The BlazePose person detector (``pose_detection.tflite``) as a Flax module.

The network is a MobileNetV2-like backbone (inverted-residual blocks: 1x1 expand, depthwise,
1x1 project, with a skip when shape allows) feeding a small feature pyramid at strides 8, 16 and
32. Each pyramid level ends in a *classifier* (score logits) and a *regressor* (12 box and
keypoint offsets) for the SSD anchors of spec section 4.3. The structure and every layer
hyper-parameter were read from the TFLite graph; the weights come from the converted
``models/detector.npz`` (see ``tools/weight_names_detector.py``), whose keys are the parameter paths
of :class:`PoseDetector`.

Two details of the original matter numerically and are reproduced exactly:

* stride-2 depthwise convolutions are preceded by an explicit, symmetric zero padding of
  ``kernel // 2`` (Keras ``ZeroPadding2D``), not TensorFlow's ``SAME`` (which pads after only);
* the pyramid upsamples with TFLite ``RESIZE_BILINEAR`` (``align_corners=False``,
  ``half_pixel_centers=True``) and the prediction heads read ``DEPTH_TO_SPACE`` rearrangements
  (TensorFlow's DCR channel order).
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from posejax.nets.blocks import Conv, DepthwiseConv, relu6

#: Side of the square input image, in pixels.
INPUT_SIZE = 224
#: Number of SSD anchors: 28*28*2 + 14*14*2 + 7*7*6 (spec section 4.3).
NUM_ANCHORS = 2254
#: Values regressed per anchor: box centre and size, then 4 keypoints (x, y).
NUM_COORDS = 12


@dataclasses.dataclass(frozen=True)
class InvertedResidual:
    """One backbone block: optional 1x1 expand, depthwise, optional 1x1 project.

    Attributes
    ----------
    expand : int or None
        Channels after the 1x1 expansion (ReLU6); None for a block without expansion.
    kernel : int
        Depthwise kernel side (3 or 5).
    stride : int
        Depthwise stride; stride 2 pads ``kernel // 2`` zeros on every side first.
    project : int or None
        Channels after the linear 1x1 projection; None for the top block, whose depthwise output
        (ReLU6) is the backbone's last feature map.
    """

    expand: int | None
    kernel: int
    stride: int
    project: int | None


@dataclasses.dataclass(frozen=True)
class DetectorConfig:
    """Hyper-parameters of the detector, as read from ``pose_detection.tflite``.

    Attributes
    ----------
    stem_features : int
        Channels of the 3x3 stride-2 stem convolution.
    blocks : tuple of InvertedResidual
        The backbone, input to output. The last block is the unprojected top.
    tap_28, tap_14 : int
        Indices of the blocks whose outputs (at 28x28 and 14x14) feed the pyramid's laterals.
    pyramid_28, pyramid_14 : int
        Channels of the pyramid at 28x28 and 14x14.
    refine_blocks : int
        Residual depthwise/1x1 refinement blocks per pyramid level.
    anchors_8, anchors_16, anchors_32 : int
        Anchors per grid cell at strides 8, 16 and 32.
    float32_blocks : int
        Leading backbone blocks that, with the stem, always compute in float32. At 112x112 they
        are a small share of the work, but rounding their activations to bfloat16 alone moves the
        detected boxes by about 15 px (of 224) instead of about 2 px for the rest of the network.
    """

    stem_features: int = 24
    blocks: tuple[InvertedResidual, ...] = (
        InvertedResidual(None, 3, 1, 16),
        InvertedResidual(64, 3, 2, 24),
        InvertedResidual(144, 3, 1, 24),
        InvertedResidual(144, 5, 2, 40),
        InvertedResidual(240, 5, 1, 40),
        InvertedResidual(240, 3, 2, 80),
        InvertedResidual(480, 3, 1, 80),
        InvertedResidual(480, 3, 1, 80),
        InvertedResidual(480, 5, 1, 112),
        InvertedResidual(672, 5, 1, 112),
        InvertedResidual(672, 5, 1, 112),
        InvertedResidual(672, 5, 2, 192),
        InvertedResidual(1152, 5, 1, 192),
        InvertedResidual(1152, 5, 1, 192),
        InvertedResidual(1152, 5, 1, 192),
        InvertedResidual(1152, 3, 1, None),
    )
    tap_28: int = 4
    tap_14: int = 10
    pyramid_28: int = 96
    pyramid_14: int = 192
    refine_blocks: int = 2
    anchors_8: int = 2
    anchors_16: int = 2
    anchors_32: int = 6
    float32_blocks: int = 1


# -- parameter-free layers ------------------------------------------------------------------------


def depth_to_space(x, block: int):
    """TensorFlow ``depth_to_space`` (NHWC, DCR order).

    ``out[n, h*b + i, w*b + j, c] = x[n, h, w, (i*b + j)*C + c]`` with ``C = channels / b**2``.

    Example
    -------
    >>> depth_to_space(jnp.zeros((1, 7, 7, 1152)), 2).shape
    (1, 14, 14, 288)
    """
    n, h, w, c = x.shape
    if c % (block * block):
        raise ValueError(f"depth_to_space: {c} channels are not divisible by {block}**2")
    x = x.reshape(n, h, w, block, block, c // (block * block))
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(n, h * block, w * block, c // (block * block))


def _half_pixel_taps(in_size: int, out_size: int):
    """Source rows and weights of TFLite's half-pixel bilinear resize along one axis."""
    scale = np.float32(in_size / out_size)
    pos = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    low = np.maximum(np.floor(pos), 0).astype(np.int32)
    high = np.minimum(np.ceil(pos), in_size - 1).astype(np.int32)
    # TFLite measures the fraction from the clamped lower row, so the first output row of an
    # upsampling gets weights (1.25, -0.25) on one and the same source row: it copies that row.
    frac = (pos - low.astype(np.float32)).astype(np.float32)
    return low, high, frac


def resize_bilinear_half_pixel(x, out_h: int, out_w: int):
    """TFLite ``RESIZE_BILINEAR`` with ``align_corners=False, half_pixel_centers=True``, NHWC.

    Source coordinate of output row ``y`` is ``(y + 0.5) * in/out - 0.5``; the two neighbouring
    rows are clamped to the image and blended linearly (likewise for columns).

    Example
    -------
    >>> resize_bilinear_half_pixel(jnp.zeros((1, 7, 7, 8)), 14, 14).shape
    (1, 14, 14, 8)
    """
    _, in_h, in_w, _ = x.shape
    y0, y1, fy = _half_pixel_taps(in_h, out_h)
    x0, x1, fx = _half_pixel_taps(in_w, out_w)
    fy = jnp.asarray(fy, x.dtype)[None, :, None, None]
    fx = jnp.asarray(fx, x.dtype)[None, None, :, None]
    top, bottom = x[:, y0], x[:, y1]
    rows = top * (1 - fy) + bottom * fy
    left, right = rows[:, :, x0], rows[:, :, x1]
    return left * (1 - fx) + right * fx


# -- modules --------------------------------------------------------------------------------------


class SpaceToDepthConv(nn.Module):
    """A stride-2 3x3 or 4x4 convolution on few input channels, zero-padded symmetrically.

    Same parameters and result as ``Conv(features, kernel_size, 2, ((p, p), (p, p)))``, computed
    differently: the padded image is cut into 2x2 pixel cells (space-to-depth), after which the
    convolution is a 2x2 stride-1 one on ``4 * channels``, done as one ``einsum`` over its four
    shifted views. XLA's CPU convolution handles 3 input channels poorly; this is ~9x faster on
    the detector's 224x224 RGB input, which made the stem a quarter of the network's time.

    Attributes
    ----------
    features : int
    kernel_size : int
        3 or 4.
    padding : int
        Zeros added on every side; the padded size must be even.
    dtype : compute dtype.

    Example
    -------
    >>> import jax
    >>> layer = SpaceToDepthConv(24, kernel_size=3, padding=1)
    >>> x = jnp.zeros((1, 224, 224, 3))
    >>> layer.apply(layer.init(jax.random.key(0), x), x).shape
    (1, 112, 112, 24)
    """

    features: int
    kernel_size: int = 3
    padding: int = 1
    dtype: jnp.dtype = jnp.float32
    #: The layer's stride (fixed; read by the weight-naming tool like ``Conv.strides``).
    strides = 2

    @nn.compact
    def __call__(self, x):
        k, c = self.kernel_size, x.shape[-1]
        if k not in (3, 4):
            raise ValueError(f"SpaceToDepthConv supports 3x3 and 4x4 kernels, got {k}x{k}")
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (k, k, c, self.features),
                            jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32)
        p = self.padding
        x = jnp.pad(x.astype(self.dtype), ((0, 0), (p, p), (p, p), (0, 0)))
        n, h, w, _ = x.shape
        if h % 2 or w % 2:
            raise ValueError(f"SpaceToDepthConv needs an even padded size, got {h}x{w}")
        # cells[n, Y, X, (a, b, c)] = x[n, 2Y + a, 2X + b, c]
        cells = x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
        cells = cells.reshape(n, h // 2, w // 2, 4 * c)
        # Kernel tap (2*dy + a, 2*dx + b) acts on cell (Y + dy, X + dx), offset (a, b); taps past
        # the kernel are zero.
        k4 = jnp.pad(kernel, ((0, 4 - k), (0, 4 - k), (0, 0), (0, 0)))
        k4 = k4.reshape(2, 2, 2, 2, c, self.features).transpose(0, 2, 1, 3, 4, 5)
        k4 = k4.reshape(4 * 4 * c, self.features).astype(self.dtype)
        out_h, out_w = (h - k) // 2 + 1, (w - k) // 2 + 1
        views = [cells[:, dy:dy + out_h, dx:dx + out_w] for dy in (0, 1) for dx in (0, 1)]
        y = jnp.einsum("nhwc,cd->nhwd", jnp.concatenate(views, axis=-1), k4)
        return y + bias.astype(self.dtype)


def _dw_padding(kernel: int, stride: int):
    if stride == 1:
        return "SAME"
    return ((kernel // 2, kernel // 2), (kernel // 2, kernel // 2))


class InvertedResidualBlock(nn.Module):
    """Expand (1x1, ReLU6), depthwise (ReLU6), project (1x1, linear), plus a skip if shapes allow.

    Attributes
    ----------
    spec : InvertedResidual
    dtype : compute dtype.
    """

    spec: InvertedResidual
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        s = self.spec
        y = x
        if s.expand is not None:
            y = relu6(Conv(s.expand, dtype=self.dtype, name="expand")(y))
        y = relu6(DepthwiseConv(s.kernel, s.stride, _dw_padding(s.kernel, s.stride),
                                dtype=self.dtype, name="depthwise")(y))
        if s.project is None:
            return y
        y = Conv(s.project, dtype=self.dtype, name="project")(y)
        if s.stride == 1 and x.shape[-1] == s.project:
            y = y + x
        return y


class Backbone(nn.Module):
    """Stem-less MobileNetV2-like backbone; returns the 28x28 and 14x14 taps and the 7x7 top.

    Attributes
    ----------
    config : DetectorConfig
    dtype : compute dtype.
    """

    config: DetectorConfig
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        taps = {}
        for i, spec in enumerate(self.config.blocks):
            dtype = jnp.float32 if i < self.config.float32_blocks else self.dtype
            x = InvertedResidualBlock(spec, dtype=dtype, name=f"block_{i}")(x)
            taps[i] = x
        return taps[self.config.tap_28], taps[self.config.tap_14], x


class SeparableConv(nn.Module):
    """Depthwise 3x3 (linear) then 1x1 convolution, optionally with ReLU6 at the end.

    Attributes
    ----------
    features : int
    strides : int
        Depthwise stride (the input of a stride-2 head is padded by the caller).
    relu : bool
        Apply ReLU6 to the 1x1 output.
    dtype : compute dtype.
    """

    features: int
    strides: int = 1
    relu: bool = False
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        padding = "SAME" if self.strides == 1 else "VALID"
        x = DepthwiseConv(3, self.strides, padding, dtype=self.dtype, name="depthwise")(x)
        x = Conv(self.features, dtype=self.dtype, name="conv")(x)
        return relu6(x) if self.relu else x


class PyramidLevel(nn.Module):
    """One top-down step: upsample the coarser map, 1x1 + ReLU6, add the lateral, refine.

    Each refinement block is ``relu6(x + conv1x1(depthwise3x3(x)))``.

    Attributes
    ----------
    features : int
        Channels at this level.
    refine_blocks : int
    dtype : compute dtype.
    """

    features: int
    refine_blocks: int
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, coarse, tap):
        lateral = SeparableConv(self.features, relu=True, dtype=self.dtype, name="lateral")(tap)
        up = resize_bilinear_half_pixel(coarse, tap.shape[1], tap.shape[2])
        x = relu6(Conv(self.features, dtype=self.dtype, name="upsample")(up)) + lateral
        for i in range(self.refine_blocks):
            x = relu6(x + SeparableConv(self.features, dtype=self.dtype, name=f"refine_{i}")(x))
        return x


class Head(nn.Module):
    """Feature pyramid and the classifier/regressor pairs at strides 8, 16 and 32.

    Attributes
    ----------
    config : DetectorConfig
    dtype : compute dtype.
    """

    config: DetectorConfig
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, tap_28, tap_14, top):
        c = self.config
        level_14 = PyramidLevel(c.pyramid_14, c.refine_blocks, self.dtype, name="pyramid_14")(
            top, tap_14)
        level_28 = PyramidLevel(c.pyramid_28, c.refine_blocks, self.dtype, name="pyramid_28")(
            level_14, tap_28)
        scores, boxes = [], []
        # Each head reads a map of twice its resolution (depth_to_space) and strides back down.
        for stride, source, anchors in ((8, level_28, c.anchors_8), (16, level_14, c.anchors_16),
                                        (32, top, c.anchors_32)):
            x = depth_to_space(source, 2)
            x = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
            logits = SeparableConv(anchors, 2, dtype=self.dtype, name=f"classifier_{stride}")(x)
            coords = SeparableConv(anchors * NUM_COORDS, 2, dtype=self.dtype,
                                   name=f"regressor_{stride}")(x)
            # Row-major (y, x, anchor) flattening is the anchor order of spec section 4.3.
            scores.append(logits.reshape(x.shape[0], -1, 1))
            boxes.append(coords.reshape(x.shape[0], -1, NUM_COORDS))
        return jnp.concatenate(boxes, axis=1), jnp.concatenate(scores, axis=1)


class PoseDetector(nn.Module):
    """BlazePose person detector: 224x224 image to raw SSD box regressions and score logits.

    Attributes
    ----------
    config : DetectorConfig
        Layer sizes; the default is the released ``pose_detection.tflite``.
    dtype : jnp.dtype
        Compute dtype: float32 (default, matches LiteRT) or bfloat16. The stem and the first
        ``config.float32_blocks`` blocks stay float32 (see :class:`DetectorConfig`). Outputs are
        float32 either way.

    Notes
    -----
    Input: float32 ``(N, 224, 224, 3)`` RGB scaled to [-1, 1] (``u8 * 2/255 - 1``, letterbox
    padding at -1). Output: ``{"boxes": (N, 2254, 12), "scores": (N, 2254, 1)}``, the raw tensors
    ``Identity`` and ``Identity_1`` of the original model (no sigmoid, anchors not applied).

    Example
    -------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> from posejax.nets import load
    >>> detector, params = load("detector")  # PoseDetector() and the converted weights
    >>> image = jnp.zeros((1, 224, 224, 3))
    >>> out = jax.eval_shape(detector.apply, params, image)  # shapes only; jit(apply) runs it
    >>> out["boxes"].shape, out["scores"].shape
    ((1, 2254, 12), (1, 2254, 1))
    """

    config: DetectorConfig = DetectorConfig()
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, images):
        expected = (INPUT_SIZE, INPUT_SIZE, 3)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"PoseDetector expects images of shape (N, {INPUT_SIZE}, "
                             f"{INPUT_SIZE}, 3), got {tuple(images.shape)}")
        if not jnp.issubdtype(images.dtype, jnp.floating):
            raise TypeError(f"PoseDetector expects float images in [-1, 1] (u8 * 2/255 - 1), "
                            f"got dtype {images.dtype}")
        x = SpaceToDepthConv(self.config.stem_features, 3, 1, dtype=jnp.float32,
                             name="stem")(images)
        x = relu6(x)
        tap_28, tap_14, top = Backbone(self.config, self.dtype, name="backbone")(x)
        boxes, scores = Head(self.config, self.dtype, name="head")(tap_28, tap_14, top)
        return {"boxes": boxes.astype(jnp.float32), "scores": scores.astype(jnp.float32)}
