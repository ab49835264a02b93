"""posejax.ops.filters against the C++ filters: a scalar transcription and MediaPipe itself.

``_OneEuro`` and ``_LowPass`` transcribe ``one_euro_filter.cc`` and ``low_pass_filter.cc`` with
Python floats as C++ doubles and numpy float32 where C++ stores floats. ``mediapipe_filters.npz``
is the output of mediapipe 0.10.21's ``pose_landmark_filtering`` calculators on a sequence with
timestamp gaps and pose losses (``tools/make_ops_fixtures.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from posejax.ops import filters, roi

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ops"
f32 = np.float32


class _LowPass:
    def __init__(self, alpha):
        self.alpha, self.initialized, self.raw, self.stored = f32(alpha), False, f32(0), f32(0)

    def apply(self, value, alpha=None):
        if alpha is not None:
            self.alpha = f32(alpha)
        value = f32(value)
        if self.initialized:
            result = f32(float(f32(self.alpha * value)) + (1.0 - float(self.alpha))
                         * float(self.stored))
        else:
            result, self.initialized = value, True
        self.raw, self.stored = value, result
        return result


class _OneEuro:
    def __init__(self, config):
        self.frequency = float(f32(config.frequency))
        self.min_cutoff = float(f32(config.min_cutoff))
        self.beta = float(f32(config.beta))
        self.derivate_cutoff = float(f32(config.derivate_cutoff))
        self.x = _LowPass(self._alpha(self.min_cutoff))
        self.dx = _LowPass(self._alpha(self.derivate_cutoff))
        self.last_time = 0

    def _alpha(self, cutoff):
        te = 1.0 / self.frequency
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def apply(self, timestamp_ns, value_scale, value):
        if self.last_time >= timestamp_ns:
            return f32(value)
        if self.last_time != 0 and timestamp_ns != 0:
            self.frequency = 1.0 / ((timestamp_ns - self.last_time) * 1e-9)
        self.last_time = timestamp_ns
        dvalue = ((float(value) - float(self.x.raw)) * float(value_scale) * self.frequency
                  if self.x.initialized else 0.0)
        edvalue = self.dx.apply(f32(dvalue), f32(self._alpha(self.derivate_cutoff)))
        cutoff = self.min_cutoff + self.beta * abs(float(edvalue))
        return self.x.apply(value, f32(self._alpha(cutoff)))


def _reference_run(values, timestamps_us, scales, config):
    """One independent scalar filter per element, with the calculator's object-scale rule."""
    banks = [_OneEuro(config) for _ in range(values.shape[1])]
    out = []
    for row, t, scale in zip(values, timestamps_us, scales, strict=True):
        if not config.disable_value_scaling and scale < f32(config.min_allowed_object_scale):
            out.append(row.copy())
            continue
        value_scale = f32(1) if config.disable_value_scaling else f32(f32(1) / scale)
        out.append(np.array([b.apply(int(t) * 1000, value_scale, v)
                             for b, v in zip(banks, row, strict=True)], f32))
    return np.asarray(out)


def _scan(values, timestamps_us, scales, config):
    def step(state, inputs):
        v, t, s = inputs
        return filters.one_euro(state, v, t, config, None if config.disable_value_scaling else s)

    init = filters.one_euro_init(values.shape[1:], config)
    _, out = jax.lax.scan(step, init, (values, timestamps_us, scales))
    return out


_scan_jitted = jax.jit(_scan, static_argnums=(3,))


def _scan_jit(values, timestamps_us, scales, config):
    return np.asarray(_scan_jitted(jnp.asarray(values), jnp.asarray(timestamps_us, jnp.int32),
                                   jnp.asarray(scales), config))


def _sequence(rng, frames=60, width=24):
    values = (np.cumsum(rng.normal(0, 3, (frames, width)), axis=0) + 300).astype(f32)
    values[25:28] += f32(40)  # a fast move: the cutoff rises with the derivative
    timestamps = 33333 * np.arange(1, frames + 1, dtype=np.int64)
    timestamps[20:] += 33333 * 3  # a gap of three frames
    timestamps[33] = timestamps[32]  # a repeated timestamp: passed through, state kept
    timestamps[34:] += 1
    scales = rng.uniform(50, 400, frames).astype(f32)
    scales[45] = f32(5e-7)  # below min_allowed_object_scale: passed through, state kept
    return values, timestamps, scales


@pytest.mark.parametrize("config", [filters.POSE_LANDMARK_FILTER, filters.AUX_LANDMARK_FILTER,
                                    filters.WORLD_LANDMARK_FILTER], ids=["pose", "aux", "world"])
def test_one_euro_is_the_cpp_filter_bit_for_bit(config):
    values, timestamps, scales = _sequence(np.random.default_rng(0))
    got = _scan_jit(values, timestamps, scales, config)
    expected = _reference_run(values, timestamps, scales, config)
    np.testing.assert_array_equal(got, expected)
    assert np.abs(got - values).max() > 1.0  # the filter does smooth


def test_one_euro_survives_timestamp_wraparound():
    values, timestamps, scales = _sequence(np.random.default_rng(1))
    config = filters.POSE_LANDMARK_FILTER
    near_wrap = (timestamps + (2**31 - 30 * 33333)).astype(np.int64)
    wrapped = ((near_wrap + 2**31) % 2**32 - 2**31).astype(np.int32)
    assert (wrapped < 0).any() and (wrapped > 0).any()
    np.testing.assert_array_equal(_scan_jit(values, wrapped, scales, config),
                                  _reference_run(values, timestamps, scales, config))


def test_low_pass_is_the_cpp_filter():
    rng = np.random.default_rng(2)
    values = rng.random((40, 33)).astype(f32)
    references = [_LowPass(filters.VISIBILITY_ALPHA) for _ in range(33)]
    state = filters.low_pass_init((33,))
    step = jax.jit(filters.low_pass)
    for row in values:
        state, got = step(state, row)
        np.testing.assert_array_equal(np.asarray(got),
                                      [r.apply(v) for r, v in zip(references, row, strict=True)])


def test_reset_gives_fresh_state_only_where_asked():
    config = filters.AUX_LANDMARK_FILTER
    state = filters.one_euro_init((2, 3), config)
    state, _ = filters.one_euro(state, jnp.ones((2, 3)), 33333, config, 100.0)
    state, _ = filters.one_euro(state, jnp.full((2, 3), 2.0), 50000, config, 100.0)
    assert float(state.frequency_hi) != 30.0
    kept = filters.reset(state, config, where=False)
    fresh = filters.reset(state, config, where=True)
    for a, b in zip(kept, state, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(fresh, filters.one_euro_init((2, 3), config), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # After a reset the first output equals the input again.
    _, out = filters.one_euro(fresh, jnp.full((2, 3), 7.0), 83333, config, 100.0)
    np.testing.assert_array_equal(np.asarray(out), np.full((2, 3), 7.0, f32))
    with pytest.raises(ValueError, match="OneEuroConfig"):
        filters.reset(state)
    with pytest.raises(TypeError):
        filters.reset((1, 2))


@pytest.fixture(scope="module")
def mediapipe_filters():
    return dict(np.load(FIXTURES / "mediapipe_filters.npz"))


def test_landmark_filtering_subgraph_is_mediapipes(mediapipe_filters):
    """Visibility + one-euro filters for pose, auxiliary and world landmarks, with MediaPipe's
    reset rule: on a frame without a pose only the pose and auxiliary coordinate filters reset.
    """
    d = mediapipe_filters
    height, width = int(d["height"]), int(d["width"])
    pose, aux_cfg, world_cfg = (filters.POSE_LANDMARK_FILTER, filters.AUX_LANDMARK_FILTER,
                                filters.WORLD_LANDMARK_FILTER)

    @jax.jit
    def present_step(states, points, aux, world, t):
        vis, coords, world_vis, world_coords, aux_vis, aux_coords = states
        scale = roi.object_scale(aux, height, width)
        vis, points = filters.smooth_visibility(vis, points)
        coords, points = filters.smooth_landmarks(coords, points, t, scale, height, width, pose)
        world_vis, world = filters.smooth_visibility(world_vis, world)
        world_coords, world = filters.smooth_world_landmarks(world_coords, world, t, world_cfg)
        aux_vis, aux = filters.smooth_visibility(aux_vis, aux)
        aux_coords, aux = filters.smooth_landmarks(aux_coords, aux, t, scale, height, width,
                                                   aux_cfg)
        return (vis, coords, world_vis, world_coords, aux_vis, aux_coords), (points, aux, world,
                                                                            scale)

    states = (filters.low_pass_init((33,)), filters.one_euro_init((33, 3), pose),
              filters.low_pass_init((33,)), filters.one_euro_init((33, 3), world_cfg),
              filters.low_pass_init((2,)), filters.one_euro_init((2, 3), aux_cfg))
    compared = 0
    for k, t in enumerate(d["timestamps_us"]):
        if d["skipped"][k]:
            continue
        if not d["present"][k]:
            vis, coords, world_vis, world_coords, aux_vis, aux_coords = states
            states = (vis, filters.reset(coords, pose), world_vis, world_coords, aux_vis,
                      filters.reset(aux_coords, aux_cfg))
            continue
        states, (points, aux, world, scale) = present_step(
            states, d["landmarks"][k], d["aux"][k], d["world"][k], int(t))
        np.testing.assert_array_equal(np.asarray(points), d["filtered"][k])
        np.testing.assert_array_equal(np.asarray(aux), d["filtered_aux"][k])
        np.testing.assert_array_equal(np.asarray(world), d["filtered_world"][k])
        assert float(scale) == float(d["object_scales"][k])
        compared += 1
    assert compared == int((d["present"] & ~d["skipped"]).sum()) > 30


def test_smooth_segmentation():
    rng = np.random.default_rng(3)
    current = rng.random((8, 9)).astype(f32)
    previous = rng.random((8, 9)).astype(f32)
    assert filters.smooth_segmentation(current, previous) is not None
    np.testing.assert_array_equal(np.asarray(filters.smooth_segmentation(current, previous)),
                                  current)
    np.testing.assert_array_equal(np.asarray(filters.smooth_segmentation(current, None, 0.7)),
                                  current)
    c1, c2, c3, c4, c5 = (f32(c) for c in (5.68842, -0.748699, -57.8051, 291.309, -624.717))
    x = (current - f32(0.5)) ** 2
    uncertainty = f32(1) - np.minimum(f32(1), x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5)))))
    expected = current + (previous - current) * (uncertainty * f32(0.7))
    got = np.asarray(filters.smooth_segmentation(current, previous,
                                                 filters.GRAPH_FILE_SEGMENTATION_RATIO))
    np.testing.assert_allclose(got, expected, rtol=0, atol=3e-7)
    assert np.abs(got - current).max() > 0.05


def test_configs_and_shapes_are_checked():
    with pytest.raises(ValueError, match="min_cutoff"):
        filters.OneEuroConfig(min_cutoff=0.0, beta=1.0, derivate_cutoff=1.0)
    state = filters.one_euro_init((3,), filters.POSE_LANDMARK_FILTER)
    with pytest.raises(ValueError, match="object_scale"):
        filters.one_euro(state, jnp.zeros(3), 1, filters.POSE_LANDMARK_FILTER)
    with pytest.raises(ValueError, match="shape"):
        filters.one_euro(state, jnp.zeros(4), 1, filters.POSE_LANDMARK_FILTER, 1.0)
    assert int(filters.frame_timestamp_us(3)) == 99999
