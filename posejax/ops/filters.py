"""Landmark and segmentation smoothing as pure functions with explicit state (spec sections 8, 9).

MediaPipe smooths each scalar (x, y, z of every landmark) with a one-euro filter
(``mediapipe/util/filtering/one_euro_filter.cc``) and each visibility with a fixed-alpha low-pass
filter (``VisibilitySmoothingCalculator``). Here a *bank* of such filters is one state pytree of
arrays (a ``NamedTuple``), so it can sit in a ``lax.scan`` carry and be ``vmap``-ed; the update
functions return ``(new_state, output)``. All filters of a bank see the same timestamps, so time
and frequency are scalars of the bank.

The C++ keeps filter values in float32 but computes the frequency, the derivative, the cutoff and
alpha in double. Those steps run here in double-float arithmetic and are rounded to float32 where
the C++ rounds, so outputs match MediaPipe's bit for bit in all but rare near-tie cases (the
float32 ``exp``-free maths leaves nothing else to differ).

Timestamps are int32 microseconds (MediaPipe's Python API sends frame k, 1-based, at
``33333 * k``). Only differences between consecutive timestamps are used, computed with wrapping
int32 arithmetic, so a counter that wraps after 2**31 us (35 min) keeps working.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from posejax.ops import _exact as ex

F32 = jnp.float32
#: Timestamp step of MediaPipe's Python ``process()``: 33333 us per call.
PYTHON_FRAME_STEP_US = 33333
#: ``alpha`` of the visibility low-pass filters.
VISIBILITY_ALPHA = 0.1
#: Uncertainty polynomial of ``SegmentationSmoothingCalculator``.
_SEGMENTATION_COEFFICIENTS = (5.68842, -0.748699, -57.8051, 291.309, -624.717)
#: ``combine_with_previous_ratio`` as the released package behaves (spec 12 b) and as the graph
#: file sets it.
RELEASED_SEGMENTATION_RATIO = 0.0
GRAPH_FILE_SEGMENTATION_RATIO = 0.7
_NANOSECONDS_TO_SECONDS = ex.ff(Fraction(1e-9))  # the double constant of the C++ code


@dataclasses.dataclass(frozen=True)
class OneEuroConfig:
    """Options of one ``LandmarksSmoothingCalculator`` one-euro filter.

    Attributes
    ----------
    min_cutoff, beta, derivate_cutoff : float
        One-euro parameters.
    frequency : float
        Frequency (Hz) assumed until two timestamps have been seen.
    disable_value_scaling : bool
        When False, derivatives are divided by the object scale (pixels) so the filter behaves
        the same for near and far people.
    min_allowed_object_scale : float
        Below this object scale the landmarks pass through unfiltered (and the state is kept).

    Example
    -------
    >>> POSE_LANDMARK_FILTER.beta
    80.0
    """

    min_cutoff: float
    beta: float
    derivate_cutoff: float
    frequency: float = 30.0
    disable_value_scaling: bool = False
    min_allowed_object_scale: float = 1e-6

    def __post_init__(self):
        for name in ("min_cutoff", "derivate_cutoff", "frequency"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"OneEuroConfig.{name} must be > 0, got {getattr(self, name)}")


#: Pose landmarks 0-32, filtered in pixels (``pose_landmark_filtering.pbtxt``).
POSE_LANDMARK_FILTER = OneEuroConfig(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
#: World landmarks, filtered in metres without value scaling.
WORLD_LANDMARK_FILTER = OneEuroConfig(min_cutoff=0.1, beta=40.0, derivate_cutoff=1.0,
                                      disable_value_scaling=True)
#: Alignment landmarks 33-34 that drive tracking (always on).
AUX_LANDMARK_FILTER = OneEuroConfig(min_cutoff=0.01, beta=10.0, derivate_cutoff=1.0)


class LowPassState(NamedTuple):
    """A bank of low-pass filters: last output per scalar, and whether any input was seen."""

    value: jax.Array
    initialized: jax.Array


class OneEuroState(NamedTuple):
    """A bank of one-euro filters sharing timestamps.

    ``frequency_hi + frequency_lo`` is the C++ double ``frequency_``; ``last_raw``, ``filtered``
    and ``derivative`` are the float32 states of the value and derivative low-pass filters.
    """

    last_time_us: jax.Array
    has_time: jax.Array
    frequency_hi: jax.Array
    frequency_lo: jax.Array
    initialized: jax.Array
    last_raw: jax.Array
    filtered: jax.Array
    derivative: jax.Array


def low_pass_init(shape) -> LowPassState:
    """A fresh bank of low-pass filters for values of ``shape``.

    Example
    -------
    >>> low_pass_init((33,)).value.shape
    (33,)
    """
    return LowPassState(jnp.zeros(shape, F32), jnp.zeros((), bool))


def _low_pass_apply(stored, initialized, value, alpha):
    """``LowPassFilter::Apply``: ``float(fl32(alpha * v) + (1.0 - alpha) * stored)``."""
    product = ex.ff_from(ex.mul_rn(alpha, value))
    one_minus_alpha = ex.two_sum(-alpha, jnp.ones_like(alpha))  # constant second, see _exact
    blended = ex.ff_to_f32(ex.ff_add(product, ex.ff_mul(one_minus_alpha, ex.ff_from(stored))))
    return jnp.where(initialized, blended, value)


def low_pass(state: LowPassState, values, alpha: float = VISIBILITY_ALPHA):
    """One step of a bank of fixed-alpha low-pass filters (visibility smoothing).

    The first call after init/reset returns its input; later calls
    ``alpha * value + (1 - alpha) * previous``.

    Parameters
    ----------
    state : LowPassState
    values : float32 array, the state's shape
    alpha : float

    Returns
    -------
    state : LowPassState
    smoothed : float32 array

    Example
    -------
    >>> state = low_pass_init((2,))
    >>> state, out = low_pass(state, jnp.array([1.0, 0.0]))
    >>> state, out = low_pass(state, jnp.array([0.0, 1.0]))
    >>> [round(float(v), 4) for v in out]
    [0.9, 0.1]
    """
    values = jnp.asarray(values, F32)
    if values.shape != state.value.shape:
        raise ValueError(f"values have shape {values.shape}, the filter bank {state.value.shape}")
    out = _low_pass_apply(state.value, state.initialized, values,
                          jnp.full(values.shape, np.float32(alpha)))
    return LowPassState(out, jnp.ones((), bool)), out


def one_euro_init(shape, config: OneEuroConfig = POSE_LANDMARK_FILTER) -> OneEuroState:
    """A fresh bank of one-euro filters for values of ``shape``.

    Example
    -------
    >>> float(one_euro_init((33, 3)).frequency_hi)
    30.0
    """
    frequency = ex.ff(Fraction(float(np.float32(config.frequency))))
    zeros = jnp.zeros(shape, F32)
    return OneEuroState(jnp.zeros((), jnp.int32), jnp.zeros((), bool), jnp.asarray(frequency[0]),
                        jnp.asarray(frequency[1]), jnp.zeros((), bool), zeros, zeros, zeros)


def _int_to_ff(value):
    """An int32 as an exact pair (float32 holds only 24 bits)."""
    low = value & 0xFFF
    high = (value - low).astype(F32)  # a multiple of 4096 with <= 19 significant bits: exact
    return ex.fast_two_sum(high, low.astype(F32))


def _alpha(cutoff, frequency):
    """``GetAlpha``: ``1 / (1 + tau / te)`` = ``2 pi c / (2 pi c + f)``, as float32."""
    scaled = ex.ff_mul(ex.TWO_PI, cutoff)
    return ex.ff_to_f32(ex.ff_div(scaled, ex.ff_add(scaled, frequency)))


def _f32_param(value: float):
    """A float option of the calculator proto, widened to double by the C++."""
    return ex.ff(Fraction(float(np.float32(value))))


def one_euro(state: OneEuroState, values, timestamp_us, config: OneEuroConfig,
             object_scale=None):
    """One step of a bank of one-euro filters (``OneEuroFilter::Apply`` per scalar).

    Parameters
    ----------
    state : OneEuroState
    values : float32 array, the state's shape
        In the filter's units (pixels for normalized landmarks, metres for world landmarks).
    timestamp_us : int32 scalar
        Must increase from call to call; a timestamp not after the previous one returns
        ``values`` unchanged and leaves the state alone (as the C++ does).
    config : OneEuroConfig
    object_scale : float32 scalar, optional
        Required unless ``config.disable_value_scaling``: derivatives are multiplied by
        ``1 / object_scale``; below ``config.min_allowed_object_scale`` the step is skipped.

    Returns
    -------
    state : OneEuroState
    filtered : float32 array

    Example
    -------
    >>> state = one_euro_init((1,), WORLD_LANDMARK_FILTER)
    >>> state, out = one_euro(state, jnp.array([1.0]), 33333, WORLD_LANDMARK_FILTER)
    >>> state, out = one_euro(state, jnp.array([2.0]), 66666, WORLD_LANDMARK_FILTER)
    >>> round(float(out[0]), 4)  # a fast move: the cutoff rises, the lag is small
    1.9775
    """
    values = jnp.asarray(values, F32)
    if values.shape != state.filtered.shape:
        raise ValueError(f"values have shape {values.shape}, the filter bank "
                         f"{state.filtered.shape}")
    timestamp_us = jnp.asarray(timestamp_us, jnp.int32)
    if config.disable_value_scaling:
        value_scale = F32(1)
        scale_ok = jnp.ones((), bool)
    else:
        if object_scale is None:
            raise ValueError("object_scale is required when value scaling is enabled")
        object_scale = jnp.asarray(object_scale, F32)
        scale_ok = ~(object_scale < np.float32(config.min_allowed_object_scale))
        value_scale = ex.div_rn(F32(1), jnp.where(scale_ok, object_scale, F32(1)))

    elapsed_us = timestamp_us - state.last_time_us  # wraps like the counter itself
    fresh = ~(state.has_time & (elapsed_us <= 0))
    # frequency = 1 / ((t - last_t) * 1e-9) with t in nanoseconds, in double.
    elapsed_s = ex.ff_mul(ex.ff_mul(_int_to_ff(elapsed_us), ex.ff(1000)), _NANOSECONDS_TO_SECONDS)
    updated = ex.ff_div(ex.ff(1), elapsed_s)
    freq = tuple(jnp.where(state.has_time, u, f)
                 for u, f in zip(updated, (state.frequency_hi, state.frequency_lo), strict=True))
    freq_b = tuple(jnp.broadcast_to(f, values.shape) for f in freq)

    # dvalue = (value - last_raw) * value_scale * frequency, in double, then passed as float.
    change = ex.ff_mul(ex.ff_mul(ex.two_sum(values, -state.last_raw),
                                 ex.ff_from(jnp.broadcast_to(value_scale, values.shape))), freq_b)
    dvalue = jnp.where(state.initialized, ex.ff_to_f32(change), F32(0))
    alpha_d = _alpha(_f32_param(config.derivate_cutoff), freq)
    derivative = _low_pass_apply(state.derivative, state.initialized, dvalue,
                                 jnp.broadcast_to(alpha_d, values.shape))
    beta = _f32_param(config.beta)
    cutoff = ex.ff_add(tuple(jnp.broadcast_to(p, values.shape)
                             for p in _f32_param(config.min_cutoff)),
                       ex.ff_mul(tuple(jnp.broadcast_to(p, values.shape) for p in beta),
                                 ex.ff_from(jnp.abs(derivative))))
    alpha = _alpha(cutoff, freq_b)
    filtered = _low_pass_apply(state.filtered, state.initialized, values, alpha)

    apply = fresh & scale_ok
    new_state = OneEuroState(
        last_time_us=jnp.where(apply, timestamp_us, state.last_time_us),
        has_time=state.has_time | apply,
        frequency_hi=jnp.where(apply, freq[0], state.frequency_hi),
        frequency_lo=jnp.where(apply, freq[1], state.frequency_lo),
        initialized=state.initialized | apply,
        last_raw=jnp.where(apply, values, state.last_raw),
        filtered=jnp.where(apply, filtered, state.filtered),
        derivative=jnp.where(apply, derivative, state.derivative),
    )
    return new_state, jnp.where(apply, filtered, values)


def reset(state, config: OneEuroConfig | None = None, where=True):
    """A fresh filter bank where ``where`` is true, ``state`` otherwise (jittable).

    MediaPipe resets the pose and auxiliary coordinate filters on frames without a pose; the
    visibility and world filters keep their state (spec 12 c). A reset one-euro bank starts
    again at ``config.frequency``.

    Parameters
    ----------
    state : OneEuroState or LowPassState
    config : OneEuroConfig
        Needed for a :class:`OneEuroState` (its initial frequency).
    where : bool scalar

    Example
    -------
    >>> state, _ = low_pass(low_pass_init((2,)), jnp.ones(2))
    >>> bool(reset(state).initialized)
    False
    """
    if isinstance(state, OneEuroState):
        if config is None:
            raise ValueError("reset of a one-euro filter bank needs its OneEuroConfig")
        fresh = one_euro_init(state.filtered.shape, config)
    elif isinstance(state, LowPassState):
        fresh = low_pass_init(state.value.shape)
    else:
        raise TypeError(f"expected OneEuroState or LowPassState, got {type(state).__name__}")
    where = jnp.asarray(where, bool)
    return type(state)(*(jnp.where(where, f, s) for f, s in zip(fresh, state, strict=True)))


def smooth_landmarks(state: OneEuroState, landmarks, timestamp_us, object_scale,
                     height: int, width: int, config: OneEuroConfig = POSE_LANDMARK_FILTER):
    """One-euro smoothing of normalized landmarks in pixel units (x*W, y*H, z*W).

    Parameters
    ----------
    state : OneEuroState
        Of shape ``(N, 3)``.
    landmarks : float32 (N, >= 3)
        Normalized image landmarks; columns beyond z are passed through.
    timestamp_us : int32 scalar
    object_scale : float32 scalar
        :func:`posejax.ops.roi.object_scale` of the unfiltered auxiliary landmarks.
    height, width : int
    config : OneEuroConfig
        :data:`POSE_LANDMARK_FILTER` or :data:`AUX_LANDMARK_FILTER`.

    Returns
    -------
    state : OneEuroState
    smoothed : float32 (N, >= 3)

    Example
    -------
    >>> state = one_euro_init((2, 3))
    >>> lm = jnp.array([[0.5, 0.5, 0.0, 1.0, 1.0], [0.6, 0.4, 0.1, 1.0, 1.0]])
    >>> state, out = smooth_landmarks(state, lm, 33333, 200.0, 480, 640)
    >>> bool(jnp.all(out == lm))
    True
    """
    landmarks = jnp.asarray(landmarks, F32)
    if landmarks.ndim != 2 or landmarks.shape[1] < 3:
        raise ValueError(f"landmarks must be (N, >=3), got {landmarks.shape}")
    size = jnp.array([width, height, width], F32)
    pixels = ex.mul_rn(landmarks[:, :3], size)
    state, smoothed = one_euro(state, pixels, timestamp_us, config, object_scale)
    return state, landmarks.at[:, :3].set(ex.div_rn(smoothed, size))


def smooth_world_landmarks(state: OneEuroState, world, timestamp_us,
                           config: OneEuroConfig = WORLD_LANDMARK_FILTER):
    """One-euro smoothing of world landmarks (metres; extra columns passed through).

    Example
    -------
    >>> state = one_euro_init((33, 3), WORLD_LANDMARK_FILTER)
    >>> state, out = smooth_world_landmarks(state, jnp.zeros((33, 4)), 33333)
    >>> out.shape
    (33, 4)
    """
    world = jnp.asarray(world, F32)
    if world.ndim != 2 or world.shape[1] < 3:
        raise ValueError(f"world landmarks must be (N, >=3), got {world.shape}")
    state, smoothed = one_euro(state, world[:, :3], timestamp_us, config)
    return state, world.at[:, :3].set(smoothed)


def smooth_visibility(state: LowPassState, landmarks, alpha: float = VISIBILITY_ALPHA):
    """Low-pass smoothing of the visibility column (index 3) of ``(N, >= 4)`` landmarks.

    Example
    -------
    >>> state, out = smooth_visibility(low_pass_init((33,)), jnp.ones((33, 5)))
    >>> float(out[0, 3])
    1.0
    """
    landmarks = jnp.asarray(landmarks, F32)
    if landmarks.ndim != 2 or landmarks.shape[1] < 4:
        raise ValueError(f"landmarks must be (N, >=4), got {landmarks.shape}")
    state, visibility = low_pass(state, landmarks[:, 3], alpha)
    return state, landmarks.at[:, 3].set(visibility)


def smooth_segmentation(current, previous=None, ratio: float = RELEASED_SEGMENTATION_RATIO):
    """``SegmentationSmoothingCalculator``: blend in the previous mask where the new one is unsure.

    With ``p`` the new and ``q`` the previous value, ``x = (p - 0.5)**2``,
    ``u = 1 - min(1, x (c1 + x (c2 + x (c3 + x (c4 + x c5)))))`` and
    ``out = p + (q - p) (u ratio)``. The released package behaves as ``ratio = 0`` (no smoothing,
    the default here); the graph file's value is :data:`GRAPH_FILE_SEGMENTATION_RATIO`.

    Parameters
    ----------
    current : float32 (H, W)
    previous : float32 (H, W), optional
        The previous *smoothed* mask; None passes ``current`` through.
    ratio : float

    Returns
    -------
    float32 (H, W)

    Example
    -------
    >>> out = smooth_segmentation(jnp.array([[0.5, 1.0]]), jnp.array([[1.0, 0.0]]), ratio=0.7)
    >>> [round(float(v), 3) for v in out[0]]
    [0.85, 1.0]
    """
    current = jnp.asarray(current, F32)
    if previous is None or (isinstance(ratio, (int, float)) and ratio == 0.0):
        return current
    previous = jnp.asarray(previous, F32)
    if previous.shape != current.shape:
        raise ValueError(f"previous mask {previous.shape} differs from current {current.shape}")
    c1, c2, c3, c4, c5 = (np.float32(c) for c in _SEGMENTATION_COEFFICIENTS)
    t = current - F32(0.5)
    x = t * t
    uncertainty = F32(1) - jnp.minimum(F32(1), x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5)))))
    return current + (previous - current) * (uncertainty * jnp.asarray(ratio, F32))


def frame_timestamp_us(frame_number, step_us: int = PYTHON_FRAME_STEP_US):
    """Timestamp MediaPipe's Python API gives frame ``frame_number`` (1-based): ``step * k``.

    int32 with wrap-around, which :func:`one_euro` tolerates.

    Example
    -------
    >>> int(frame_timestamp_us(3))
    99999
    """
    return jnp.asarray(frame_number, jnp.int32) * jnp.int32(step_us)
