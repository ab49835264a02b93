"""The BlazePose GHUM 3D landmark network: one Flax builder, three configs (lite, full, heavy).

The three released models share one architecture (read from the ``.tflite`` graphs) and differ
only in widths and depths, so each variant is a :class:`LandmarkConfig` of plain numbers:

* **encoder**: a 3x3 stride-2 stem, then MobileNetV2 inverted-residual stages (1x1 expand,
  depthwise, linear 1x1 project, identity shortcut on all but the first block of a stage) down to
  8x8, and a *neck* (1x1 expand + 3x3 depthwise) on the 8x8 features;
* **decoder**: a top-down path from the neck to 64x64: twice bilinear upsampling plus a
  :class:`BlazeBlock` *skip* branch from the encoder at 16, 32 and 64;
* **heatmap** head: a 1x1 convolution on the 64x64 decoder features;
* **segmentation** head: :class:`BlazeBlock` stacks on the way up from 64 to 256, with a skip
  branch from the 128x128 encoder features, ending in a 3x3 convolution;
* **regression** path: strided :class:`BlazeBlock` stages down to 2x2 (``heavy`` starts from the
  64x64 decoder features and adds encoder skips at 32, 16 and 8; ``lite``/``full`` start from a
  skip branch of the neck), and three 2x2 convolutions giving the landmarks, the world landmarks
  and the pose flag.

Layer names are the keys of the converted weights (``models/<name>.npz``), e.g.
``encoder/stage_2/block_0/depthwise/kernel`` or ``regression/stage_1/block_3/pointwise/bias``.

Numerics. In float32 every output matches LiteRT (XNNPACK) on the fixture crops within
``1e-4 * max|litert| + 1e-5``, except the segmentation logits, which are ill-conditioned (large
cancelling sums): there LiteRT's own XNNPACK and builtin kernels disagree by up to 3.8e-4 of
``max|logit|`` and posejax stays within :data:`SEGMENTATION_RTOL` (largest differences measured
are listed in ``tests/unit/nets/test_parity.py``). With ``dtype=jnp.bfloat16`` activations are
stored in bfloat16 (sums in float32, outputs returned as float32); the measured errors are bounded
by :data:`BF16_RELATIVE_ERROR`, :data:`BF16_LANDMARK_PX` and :data:`BF16_MASK_DISAGREEMENT`. On
a CPU without native bfloat16 arithmetic bfloat16 is several times *slower* than float32.

At about 530 lines this module is over the house's 500 lines on purpose: one architecture, one
file, as in big_vision; its layer names must mirror the weight keys, which is easiest to check
with the whole network in view.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from posejax.nets.blocks import Conv, DepthwiseConv, relu6

#: Side of the square input crop.
INPUT_SIZE = 256
#: Landmarks predicted by the network: the 33 BlazePose landmarks and 6 auxiliary ones.
NUM_MODEL_LANDMARKS = 39

#: float32 parity with LiteRT for the segmentation logits: ``max|diff| <= SEGMENTATION_RTOL *
#: max|litert| + 1e-5`` (twice the 3.8e-4 by which LiteRT's XNNPACK and builtin kernels disagree on
#: the fixture crops; the other outputs meet 1e-4).
SEGMENTATION_RTOL = 8e-4

#: bfloat16 bounds, about twice the largest error measured against LiteRT float32 on the fixture
#: crops over lite, full and heavy (measured value in the comment): ``max|bf16 - litert| /
#: max|litert|`` per output. The segmentation logits are left out (ill-conditioned, 0.63
#: measured); their mask is bounded by BF16_MASK_DISAGREEMENT instead.
BF16_RELATIVE_ERROR = {
    "landmarks": 0.15,  # 0.065 (z and the visibility/presence logits; x, y see below)
    "world_landmarks": 0.3,  # 0.159
    "heatmap": 0.2,  # 0.105
    "pose_flag": 0.02,  # 0.0055
}
#: bfloat16: largest x or y error of the 33 body landmarks, in pixels of the 256x256 crop (3.7).
BF16_LANDMARK_PX = 8.0
#: bfloat16: fraction of pixels whose segmentation mask (logit > 0) flips (0.0037).
BF16_MASK_DISAGREEMENT = 0.01


# -- configuration ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EncoderStage:
    """A run of inverted-residual blocks with the same output width.

    Attributes
    ----------
    channels : int
        Output channels of every block.
    kernel : int
        Depthwise kernel side (3 or 5); padded symmetrically by ``kernel // 2``.
    stride : int
        Stride of the first block (the others keep the resolution).
    hidden : tuple of int
        Width after the 1x1 expansion, one entry per block. A block whose hidden width equals its
        input width has no expansion (MobileNetV2's expansion-factor-1 block).
    """

    channels: int
    kernel: int
    stride: int
    hidden: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class RegressionStage:
    """One resolution of the regression path (resolutions halve from stage to stage, down to 2).

    Attributes
    ----------
    channels : int
    blocks : int
        Residual :class:`BlazeBlock` after the strided one that enters the stage.
    skip : bool
        Whether a :class:`BlazeBlock` branch from the encoder features at this resolution is added
        at the end of the stage. A stage that begins the path (no incoming features) consists of
        its skip branch only.
    """

    channels: int
    blocks: int
    skip: bool = False


@dataclasses.dataclass(frozen=True)
class LandmarkConfig:
    """Widths and depths of one landmark-model variant.

    Attributes
    ----------
    name : str
    stem_channels : int
    encoder : tuple of EncoderStage
        Stages in order; the first works at 128x128 (after the stride-2 stem).
    neck_channels : int
        Expansion width of the neck on the 8x8 features.
    decoder_channels : int
    regression : tuple of RegressionStage
        The last stage works at 2x2, each earlier one at twice the resolution of the next.
    regression_from_decoder : bool
        True: the regression path starts from the 64x64 decoder features (heavy). False: it starts
        with the skip branch of its first stage (lite, full).
    segmentation_channels : int
    segmentation_blocks : int
        Residual blocks at 128x128 and again at 256x256.
    """

    name: str
    stem_channels: int
    encoder: tuple[EncoderStage, ...]
    neck_channels: int
    decoder_channels: int
    regression: tuple[RegressionStage, ...]
    regression_from_decoder: bool
    segmentation_channels: int = 8
    segmentation_blocks: int = 2

    def __post_init__(self):
        first = self.regression[0]
        if not self.regression_from_decoder and (not first.skip or first.blocks):
            raise ValueError(f"{self.name}: a regression path that does not start from the "
                             "decoder must begin with a skip-only stage (skip=True, blocks=0)")
        levels = self.regression_levels()
        for level, stage in zip(levels, self.regression, strict=True):
            if stage.skip and level not in (8, 16, 32):
                raise ValueError(f"{self.name}: no encoder features for a skip at {level}x{level}")
        if self.regression_from_decoder and levels[0] >= 64:
            raise ValueError(f"{self.name}: the regression path must start below 64x64")

    def regression_levels(self) -> tuple[int, ...]:
        """Spatial size of each regression stage."""
        n = len(self.regression)
        return tuple(2 ** (n - i) for i in range(n))


def _stage(channels, kernel, stride, *hidden):
    return EncoderStage(channels, kernel, stride, tuple(hidden))


LITE = LandmarkConfig(
    name="lite",
    stem_channels=24,
    encoder=(
        _stage(8, 3, 1, 24),
        _stage(16, 3, 2, 32, 96),
        _stage(24, 5, 2, 96, 144),
        _stage(40, 3, 2, 144, 240, 240),
        _stage(56, 5, 1, 240, 336, 336),
        _stage(96, 5, 2, 336, 576, 576, 576),
    ),
    neck_channels=576,
    decoder_channels=32,
    regression=(RegressionStage(192, 0, skip=True), RegressionStage(192, 2),
                RegressionStage(192, 3)),
    regression_from_decoder=False,
)

FULL = LandmarkConfig(
    name="full",
    stem_channels=24,
    encoder=(
        _stage(16, 3, 1, 24),
        _stage(24, 3, 2, 64, 144),
        _stage(32, 5, 2, 144, 192),
        _stage(64, 3, 2, 192, 384, 384),
        _stage(88, 5, 1, 384, 528, 528),
        _stage(144, 5, 2, 528, 864, 864, 864),
    ),
    neck_channels=864,
    decoder_channels=48,
    regression=(RegressionStage(288, 0, skip=True), RegressionStage(288, 4),
                RegressionStage(288, 5)),
    regression_from_decoder=False,
)

HEAVY = LandmarkConfig(
    name="heavy",
    stem_channels=24,
    encoder=(
        _stage(24, 3, 1, 24),
        _stage(32, 3, 2, 96, 128, 192, 192),
        _stage(56, 5, 2, 192, 336, 336, 336),
        _stage(112, 3, 2, 336, *[672] * 5),
        _stage(160, 5, 1, 672, *[960] * 5),
        _stage(272, 5, 2, 960, *[1632] * 7),
    ),
    neck_channels=1632,
    decoder_channels=48,
    regression=(RegressionStage(96, 6, skip=True), RegressionStage(192, 7, skip=True),
                RegressionStage(288, 7, skip=True), RegressionStage(288, 7),
                RegressionStage(288, 7)),
    regression_from_decoder=True,
)

#: The variants by name (``model_complexity`` 0, 1, 2 of MediaPipe Pose).
CONFIGS = {c.name: c for c in (LITE, FULL, HEAVY)}


# -- small ops -------------------------------------------------------------------------------------
def upsample2x(x):
    """Bilinear 2x upsampling, NHWC, as TFLite ``RESIZE_BILINEAR`` with half-pixel centres.

    With ``half_pixel_centers=True`` output pixel ``i`` samples the input at ``i / 2 - 0.25``, so
    even outputs mix ``0.75`` of their source pixel with ``0.25`` of the previous one and odd
    outputs with ``0.25`` of the next one; samples past the border clamp to the edge pixel.

    Example
    -------
    >>> upsample2x(jnp.arange(2.0).reshape(1, 1, 2, 1))[0, 0, :, 0]
    Array([0.  , 0.25, 0.75, 1.  ], dtype=float32)
    """

    def along(x, axis):
        n = x.shape[axis]
        prev = jnp.concatenate([_slice(x, axis, 0, 1), _slice(x, axis, 0, n - 1)], axis)
        nxt = jnp.concatenate([_slice(x, axis, 1, n), _slice(x, axis, n - 1, n)], axis)
        even = 0.75 * x + 0.25 * prev
        odd = 0.75 * x + 0.25 * nxt
        stacked = jnp.stack([even, odd], axis + 1)
        shape = x.shape[:axis] + (2 * n,) + x.shape[axis + 1:]
        return stacked.reshape(shape)

    return along(along(x, 1), 2)


def _slice(x, axis, start, stop):
    return jax.lax.slice_in_dim(x, start, stop, axis=axis)


def max_pool2x2(x):
    """2x2 max pooling with stride 2, NHWC (``MAX_POOL_2D``, ``VALID``; even sizes)."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


# -- blocks ----------------------------------------------------------------------------------------
class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand + ReLU6, depthwise + ReLU6, linear 1x1 project.

    Attributes
    ----------
    features, hidden, kernel, strides : int
    residual : bool
        Add the input to the output (needs stride 1 and equal widths).
    """

    features: int
    hidden: int
    kernel: int
    strides: int = 1
    residual: bool = False
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        y = x
        if self.hidden != x.shape[-1]:
            y = relu6(Conv(self.hidden, 1, dtype=self.dtype, name="expand")(y))
        pad = self.kernel // 2
        y = relu6(DepthwiseConv(self.kernel, self.strides, ((pad, pad), (pad, pad)),
                                dtype=self.dtype, name="depthwise")(y))
        y = Conv(self.features, 1, dtype=self.dtype, name="project")(y)
        return y + x if self.residual else y


class BlazeBlock(nn.Module):
    """3x3 depthwise + ReLU6, 1x1 pointwise, then ReLU6 of (the sum with the shortcut).

    Attributes
    ----------
    features : int
    strides : int
        1 or 2; with 2 the depthwise uses TensorFlow ``SAME`` padding and the shortcut is a 2x2
        max pool.
    residual : bool
        Add the shortcut (the input, max-pooled when strided, zero-padded in channels when the
        block widens) before the final ReLU6.
    """

    features: int
    strides: int = 1
    residual: bool = False
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        y = relu6(DepthwiseConv(3, self.strides, "SAME", dtype=self.dtype, name="depthwise")(x))
        y = Conv(self.features, 1, dtype=self.dtype, name="pointwise")(y)
        if not self.residual:
            return relu6(y)
        shortcut = max_pool2x2(x) if self.strides == 2 else x
        extra = self.features - x.shape[-1]
        if extra:
            shortcut = jnp.pad(shortcut, ((0, 0), (0, 0), (0, 0), (0, extra)))
        return relu6(y + shortcut)


class _Stage(nn.Module):
    """The blocks of one encoder stage (a module only to name them ``stage_i/block_j``)."""

    stage: EncoderStage
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        s = self.stage
        for j, hidden in enumerate(s.hidden):
            x = InvertedResidual(s.channels, hidden, s.kernel, s.stride if j == 0 else 1,
                                 residual=j > 0, dtype=self.dtype, name=f"block_{j}")(x)
        return x


class Encoder(nn.Module):
    """Stem, inverted-residual stages and neck; returns the features by spatial size."""

    config: LandmarkConfig
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        cfg = self.config
        x = relu6(Conv(cfg.stem_channels, 3, 2, ((1, 1), (1, 1)), dtype=self.dtype,
                       name="stem")(x))
        features = {}
        for i, stage in enumerate(cfg.encoder):
            x = _Stage(stage, dtype=self.dtype, name=f"stage_{i}")(x)
            features[x.shape[1]] = x  # the last stage at each resolution feeds the skips
        features[x.shape[1]] = _Neck(cfg.neck_channels, dtype=self.dtype, name="neck")(x)
        return features


class _Neck(nn.Module):
    """1x1 expand + ReLU6 and 3x3 depthwise + ReLU6 on the 8x8 features (no projection)."""

    features: int
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x):
        x = relu6(Conv(self.features, 1, dtype=self.dtype, name="expand")(x))
        return relu6(DepthwiseConv(3, 1, ((1, 1), (1, 1)), dtype=self.dtype,
                                   name="depthwise")(x))


class Decoder(nn.Module):
    """Top-down path from the 8x8 neck to 64x64 features."""

    config: LandmarkConfig
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, features):
        c = self.config.decoder_channels
        x = BlazeBlock(c, dtype=self.dtype, name="top")(features[8])
        for size in (16, 32, 64):
            skip = BlazeBlock(c, dtype=self.dtype, name=f"skip_{size}")(features[size])
            x = upsample2x(x) + skip
        return x


class SegmentationHead(nn.Module):
    """From the 64x64 decoder features to 256x256 segmentation logits."""

    config: LandmarkConfig
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, decoded, features):
        cfg, dt = self.config, self.dtype
        c = cfg.segmentation_channels
        x = BlazeBlock(c, dtype=dt, name="block_64")(decoded)
        skip_in = features[128]
        skip = BlazeBlock(c, residual=skip_in.shape[-1] == c, dtype=dt, name="skip_128")(skip_in)
        x = upsample2x(x) + skip
        for size in (128, 256):
            if size == 256:
                x = upsample2x(x)
            for j in range(cfg.segmentation_blocks):
                x = BlazeBlock(c, residual=True, dtype=dt, name=f"block_{size}_{j}")(x)
        return Conv(1, 3, dtype=dt, name="output")(x)


class _RegressionStage(nn.Module):
    """One resolution of the regression path: strided entry, residual blocks, encoder skip."""

    stage: RegressionStage
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x, encoder_features):
        s, dt = self.stage, self.dtype
        if x is not None:
            x = BlazeBlock(s.channels, 2, residual=True, dtype=dt, name="block_0")(x)
            for j in range(1, s.blocks + 1):
                x = BlazeBlock(s.channels, residual=True, dtype=dt, name=f"block_{j}")(x)
        if s.skip:
            skip = BlazeBlock(s.channels, dtype=dt, name="skip")(encoder_features)
            x = skip if x is None else x + skip
        return x


class RegressionPath(nn.Module):
    """Strided BlazeBlock stages down to 2x2 features for the landmark heads."""

    config: LandmarkConfig
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, decoded, features):
        cfg = self.config
        x = decoded if cfg.regression_from_decoder else None
        for i, (size, stage) in enumerate(zip(cfg.regression_levels(), cfg.regression,
                                              strict=True)):
            x = _RegressionStage(stage, dtype=self.dtype, name=f"stage_{i}")(
                x, features[size] if stage.skip else None)
        return x


class Heads(nn.Module):
    """The 1x1 heatmap convolution and the three 2x2 convolutions on the regression features."""

    dtype: jnp.dtype = jnp.float32

    def setup(self):
        dt = self.dtype
        self.heatmap = Conv(NUM_MODEL_LANDMARKS, 1, dtype=dt)
        self.landmarks = Conv(5 * NUM_MODEL_LANDMARKS, 2, padding="VALID", dtype=dt)
        self.world_landmarks = Conv(3 * NUM_MODEL_LANDMARKS, 2, padding="VALID", dtype=dt)
        self.pose_flag = Conv(1, 2, padding="VALID", dtype=dt)

    def __call__(self, decoded, regressed):
        n = regressed.shape[0]
        return {
            "heatmap": self.heatmap(decoded),
            "landmarks": self.landmarks(regressed).reshape(n, -1),
            "world_landmarks": self.world_landmarks(regressed).reshape(n, -1),
            "pose_flag": jax.nn.sigmoid(self.pose_flag(regressed).reshape(n, 1)),
        }


class LandmarkNet(nn.Module):
    """BlazePose GHUM 3D landmark network on a 256x256 RGB crop.

    Attributes
    ----------
    config : LandmarkConfig
        :data:`LITE`, :data:`FULL` or :data:`HEAVY` (also in :data:`CONFIGS`).
    with_segmentation : bool
        Compute the segmentation head (the most expensive part at 256x256). When False the
        ``"segmentation"`` key is absent from the output.
    dtype : jnp.dtype
        Compute dtype: float32 (matches LiteRT), or bfloat16 for accelerators with native
        bfloat16 (errors bounded in the module notes). Parameters stay float32 and outputs are
        returned as float32.

    Returns
    -------
    dict of jax.Array, from ``module.apply(params, images)`` with ``images`` of shape
    ``(N, 256, 256, 3)`` float32 in ``[0, 1]``, the raw model outputs:

    - ``landmarks`` ``(N, 195)``: 39 x (x, y, z, visibility logit, presence logit), x, y, z in
      pixels of the 256x256 crop;
    - ``pose_flag`` ``(N, 1)``: pose-presence probability (the model ends in a sigmoid);
    - ``segmentation`` ``(N, 256, 256, 1)``: segmentation logits;
    - ``heatmap`` ``(N, 64, 64, 39)``: heatmap logits;
    - ``world_landmarks`` ``(N, 117)``: 39 x (x, y, z) in metres, hip-centred.

    Example
    -------
    >>> import posejax.nets as nets
    >>> module, params = nets.load("lite")
    >>> image = jnp.zeros((1, 256, 256, 3))
    >>> out = jax.eval_shape(module.apply, params, image)  # module.apply(params, image) runs it
    >>> out["landmarks"].shape, out["pose_flag"].shape
    ((1, 195), (1, 1))
    """

    config: LandmarkConfig = FULL
    with_segmentation: bool = True
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, images):
        if images.ndim != 4 or tuple(images.shape[1:]) != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"LandmarkNet expects images of shape (N, {INPUT_SIZE}, "
                             f"{INPUT_SIZE}, 3), got {tuple(images.shape)}")
        if not jnp.issubdtype(images.dtype, jnp.floating):
            raise TypeError(f"LandmarkNet expects float images in [0, 1] (u8 / 255), got dtype "
                            f"{images.dtype}")
        cfg, dt = self.config, self.dtype
        features = Encoder(cfg, dtype=dt, name="encoder")(images)
        decoded = Decoder(cfg, dtype=dt, name="decoder")(features)
        regressed = RegressionPath(cfg, dtype=dt, name="regression")(decoded, features)
        out = Heads(dtype=dt, name="heads")(decoded, regressed)
        if self.with_segmentation:
            out["segmentation"] = SegmentationHead(cfg, dtype=dt, name="segmentation")(
                decoded, features)
        return {k: v.astype(jnp.float32) for k, v in out.items()}
