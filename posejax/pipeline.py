"""The MediaPipe Pose graph as one compiled per-frame step, scanned over frames.

State is an explicit pytree (:class:`TrackerState`) with a leading batch axis ``B`` (one entry per
video), so the same step serves a single video (``B = 1``), a batch of videos and the frame-by-frame
:class:`posejax.Pose`. Within a step the videos are processed as one batch by the networks; the
detector runs only when at least one video of the batch has lost its track (or on every frame in
static mode), which avoids paying for it under ``vmap``, where a ``lax.cond`` would run both
branches.

With several local devices a batch of videos is sharded over them along its video axis
(:meth:`Pipeline.video_mesh`, ``jax.shard_map``), each device tracking its own videos.

At about 590 lines this module is over the house's 500 lines: the config, the state pytree and
the per-frame step are one contract (every stage reads the config and threads the state), and
keeping the graph's stages and the program that scans them (sharded or not) in one file keeps
their order readable top to bottom.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from posejax import _cache, nets
from posejax.landmarks import NUM_LANDMARKS
from posejax.ops import _exact, buckets, detection, filters, image, landmark_decoding, roi

_MODEL_NAMES = ("lite", "full", "heavy")
#: frames per network call in static mode (the networks compile for this batch size only)
STATIC_BATCH = 8

#: MediaPipe's Python solution stamps frame k (1-based) at 33333*k microseconds, whatever the
#: video's real frame rate; arrays given without fps/timestamps are smoothed on that clock, and any
#: input with ``track(..., mediapipe_clock=True)`` (video files otherwise use their timestamps).
MEDIAPIPE_FRAME_STEP_US = 33333

_FLAGS = ("static_image_mode", "smooth_landmarks", "enable_segmentation", "smooth_segmentation",
          "mediapipe_graph_values")
_CONFIDENCES = ("min_detection_confidence", "min_tracking_confidence")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """The options of ``mp.solutions.pose.Pose`` plus the released-package/graph-file switch.

    The config checks itself when built, so :func:`posejax.track`, :class:`posejax.Pose` and
    direct users of :func:`get_pipeline` share one set of rules: ``model_complexity`` in
    ``{0, 1, 2}``, the confidences in ``[0, 1]`` (stored as float), the switches as bool (NumPy
    bools and 0/1 are accepted and stored as bool).

    Examples
    --------
    >>> PipelineConfig(model_complexity=2).landmark_model
    'heavy'
    >>> PipelineConfig(min_detection_confidence=1.5)
    Traceback (most recent call last):
    ...
    ValueError: min_detection_confidence must be a number in [0, 1], got 1.5
    """

    model_complexity: int = 1
    static_image_mode: bool = False
    smooth_landmarks: bool = True
    enable_segmentation: bool = False
    smooth_segmentation: bool = True
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    mediapipe_graph_values: bool = False
    #: None: the per-image networks on a CPU, the vectorized (vmap) path on accelerators;
    #: True or False forces one of the two (True runs the accelerators' path on a CPU).
    vectorized: bool | None = None

    def __post_init__(self):
        complexity = self.model_complexity
        if isinstance(complexity, (bool, np.bool_)) or complexity not in (0, 1, 2):
            raise ValueError(f"model_complexity must be 0, 1 or 2, got {complexity!r}")
        # Frozen dataclass: normalized values are written with object.__setattr__.
        object.__setattr__(self, "model_complexity", int(complexity))
        for name in _CONFIDENCES:
            value = getattr(self, name)
            if (isinstance(value, (bool, np.bool_))
                    or not isinstance(value, (int, float, np.integer, np.floating))
                    or not 0.0 <= float(value) <= 1.0):
                raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
            object.__setattr__(self, name, float(value))
        for name in _FLAGS:
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)) and value not in (0, 1):
                raise TypeError(f"{name} must be True or False, got {value!r}")
            object.__setattr__(self, name, bool(value))
        if self.vectorized is not None:
            if not isinstance(self.vectorized, (bool, np.bool_)) and self.vectorized not in (0, 1):
                raise TypeError(f"vectorized must be None, True or False, got {self.vectorized!r}")
            object.__setattr__(self, "vectorized", bool(self.vectorized))

    @property
    def landmark_model(self) -> str:
        """Name of the landmark network: ``"lite"``, ``"full"`` or ``"heavy"``."""
        return _MODEL_NAMES[self.model_complexity]

    @property
    def smoothing(self) -> bool:
        """Whether the landmark filters run (never in static mode)."""
        return self.smooth_landmarks and not self.static_image_mode

    @property
    def heatmap_kernel_size(self) -> int:
        """Window of the heatmap refinement: 9 as released, 7 as in the graph file."""
        # The released package drops the calculator's options and refines with the default 9.
        return 7 if self.mediapipe_graph_values else 9

    @property
    def segmentation_ratio(self) -> float:
        """Weight of the previous mask in segmentation smoothing (0 disables it)."""
        if not self.smooth_segmentation or self.static_image_mode:
            return 0.0
        return 0.7 if self.mediapipe_graph_values else 0.0


class TrackerState(NamedTuple):
    """Everything carried from one frame to the next, each with a leading batch axis."""

    roi: jax.Array            # (B, 5) next frame's ROI from the filtered aux landmarks
    has_roi: jax.Array        # (B,) bool
    pose_filter: filters.OneEuroState      # values (B, 33, 3), pixels
    pose_visibility: filters.LowPassState  # (B, 33)
    world_filter: filters.OneEuroState     # values (B, 33, 3), metres
    world_visibility: filters.LowPassState  # (B, 33)
    aux_filter: filters.OneEuroState       # values (B, 2, 3), pixels
    aux_visibility: filters.LowPassState   # (B, 2)
    mask: jax.Array           # (B, H, W) last filtered mask, or (B, 0, 0) when not needed
    has_mask: jax.Array       # (B,) bool


class Pipeline:
    """Compiled pose tracking for one :class:`PipelineConfig`; get one with :func:`get_pipeline`."""

    def __init__(self, config: PipelineConfig):
        self.config = config
        self.detector, self.detector_params = nets.load("detector")
        self.landmark_net, self.landmark_params = nets.load(
            config.landmark_model, with_segmentation=config.enable_segmentation)
        self._programs = {}
        #: Pad frames into size buckets (:mod:`posejax.ops.buckets`) so that one program serves
        #: every size of a bucket; False compiles for each frame size (the unpadded programs).
        self.size_buckets = True
        self._replicated = {}   # parameters put on every device of a mesh, by mesh
        # Several threads may run one pipeline side by side (see :meth:`streams`): each stages
        # its frames in a buffer of its own, and a program is built by one thread only.
        self._local = threading.local()
        self._building = threading.Lock()
        self._building_key = {}   # a lock per chunk program: different ones build side by side

    # -- networks -------------------------------------------------------------------------------
    @property
    def _per_image(self) -> bool:
        return _per_image(self.config)

    def _per_video(self, fn):
        """``fn`` over the leading (video) axis: ``lax.map`` on a CPU, ``vmap`` elsewhere.

        Batched arithmetic is not batch-invariant in the last bit (XLA vectorizes a reduction
        over a batch of 4 differently from a batch of 1), and video tracking amplifies one ulp
        into pixels within a few frames. Mapped one video at a time, every video of a batch gets
        exactly the arithmetic it gets alone, so a batch equals its clips tracked separately; on a
        CPU this costs nothing measurable. Accelerators want the vectorized form.
        """
        if not self._per_image:
            return jax.vmap(fn)

        def mapped(*args):
            return lax.map(lambda a: fn(*a), args)

        return mapped

    def _apply(self, module, params, images):
        """A network on a batch: image by image on a CPU, one batched call elsewhere."""
        if self._per_image:
            return nets.apply_per_image(module, params, images)
        return module.apply(params, images)

    def _apply_landmark_net(self, params, crops):
        return self._apply(self.landmark_net, params, crops)

    def _apply_detector(self, params, tensors):
        return self._apply(self.detector, params, tensors)

    # -- state ---------------------------------------------------------------------------------
    def frame_bucket(self, height: int, width: int) -> tuple[int, int]:
        """The buffer size frames of this size are padded into (see :mod:`posejax.ops.buckets`).

        Example
        -------
        >>> get_pipeline(PipelineConfig(model_complexity=0)).frame_bucket(720, 1280)
        (2048, 1024)
        """
        if not self.size_buckets:
            return int(height), int(width)
        return buckets.frame_bucket(height, width)

    def init_state(self, batch: int, height: int, width: int,
                   previous: TrackerState | None = None) -> TrackerState:
        """A fresh state (nothing tracked), or ``previous`` adapted to a new frame size.

        A kept mask has the shape of the frame's size bucket (:meth:`frame_bucket`).
        """
        mask_shape = ((batch,) + self.frame_bucket(height, width) if self._keeps_mask
                      else (batch, 0, 0))
        if previous is not None:
            return previous._replace(mask=jnp.zeros(mask_shape, jnp.float32),
                                     has_mask=jnp.zeros((batch,), bool))
        return _fresh_state(batch, mask_shape[1:])

    @property
    def _keeps_mask(self) -> bool:
        return self.config.enable_segmentation and self.config.segmentation_ratio > 0

    # -- running -------------------------------------------------------------------------------
    def run_video_chunk(self, state: TrackerState, frames: np.ndarray, clock_us: np.ndarray,
                        length: int):
        """Process ``frames (B, t, H, W, 3)`` with ``t <= length``; returns (state, outputs).

        The chunk is padded to ``length`` frames so that every chunk reuses one compiled program;
        padded steps leave the state untouched. ``clock_us (B, t)`` is the filters' clock.
        Outputs are NumPy arrays ``(B, t, ...)``: ``landmarks``, ``world_landmarks``,
        ``present``, ``rois`` and ``mask`` (None without segmentation).
        """
        batch, t, height, width = frames.shape[:4]
        if t > length:
            raise ValueError(f"chunk of {t} frames is longer than the compiled length {length}")
        valid = np.arange(length) < t
        frames = self._staged(frames, length, self.frame_bucket(height, width))
        if t < length:
            clock_us = np.concatenate([clock_us, np.zeros((batch, length - t), np.int64)], axis=1)
        # The filters only ever use differences of consecutive timestamps, so a wrapping int32
        # microsecond clock is exact for any video length (no x64 needed).
        clock32 = (np.asarray(clock_us, np.int64) % 2**32).astype(np.uint32).view(np.int32)
        program, args = self._chunk_call(state, frames, clock32, valid,
                                         buckets.size_array(height, width))
        state, out = program(*args)
        out = {k: (None if v is None else np.asarray(v)[:, :t]) for k, v in out.items()}
        if out["mask"] is not None:
            out["mask"] = buckets.unpack(out["mask"], height, width)
        return state, out

    def prepare_chunk(self, batch: int, height: int, width: int, length: int) -> None:
        """Load, or compile, the program :meth:`run_video_chunk` runs for these frames, now.

        ``posejax.track`` calls it before its progress bar starts (so the bar's rate and ETA
        leave compiling out) and ``posejax warmup`` for every size bucket. It serves every frame
        size of the bucket of ``height x width``.
        """
        bucket = self.frame_bucket(height, width)
        self._chunk_call(self.init_state(batch, height, width),
                         jax.ShapeDtypeStruct((batch, length) + bucket + (3,), np.uint8),
                         jax.ShapeDtypeStruct((batch, length), np.int32),
                         jax.ShapeDtypeStruct((length,), np.bool_),
                         jax.ShapeDtypeStruct((2,), np.int32))

    def _chunk_call(self, state, frames, clock32, valid, size):
        """(program, args): the chunk program for these arguments (arrays or their shapes)."""
        mesh = self.video_mesh(frames.shape[0])
        det_params, lmk_params = self.detector_params, self.landmark_params
        if mesh is not None:
            det_params, lmk_params = self._replicated_params(mesh)
        args = (det_params, lmk_params, state, frames, clock32, valid)
        if self.size_buckets:
            args += (size,)
        return self._chunk_program(args, mesh), args

    def _staged(self, frames: np.ndarray, length: int,
                bucket: tuple[int, int] | None = None) -> np.ndarray:
        """``frames (B, t, H, W, 3)`` as a C-contiguous, 64-byte aligned ``(B, length, ...)`` array.

        With a ``bucket`` ``(rows, columns)`` the array is ``(B, length, rows, columns, 3)``, each
        frame's pixels packed at its start (:func:`posejax.ops.buckets.pack`); the rest is never
        read (the warps clip to the real size).

        On a CPU, JAX hands such an array to the program without copying it; anything else is
        copied into fresh, page-faulting memory on every call (2-3 ms a frame at 1768 x 994, a
        sixth of the frame's time). One staging buffer is reused across chunks of a shape; the
        rows past ``t`` are never read (their steps are skipped).
        """
        bucket = frames.shape[2:4] if bucket is None else tuple(bucket)
        shape = (frames.shape[0], length) + bucket + frames.shape[4:]
        if (frames.shape == shape and frames.dtype == np.uint8 and frames.flags.c_contiguous
                and frames.ctypes.data % _ALIGNMENT == 0):
            return frames
        staging = getattr(self._local, "staging", None)
        if staging is None or staging.shape != shape:
            self._local.staging = staging = None   # release the old buffer before a new one
            self._local.staging = staging = _aligned_empty(shape)
        buckets.pack(frames, staging)
        return staging

    def streams(self, count: int) -> int:
        """How many of ``count`` independent videos (or images) to run side by side in threads.

        See :func:`side_by_side`.
        """
        return side_by_side(self.config, count)

    def video_mesh(self, batch: int) -> jax.sharding.Mesh | None:
        """Choose the mesh (one axis, ``"videos"``) to shard a batch of videos over, or None.

        With several local devices a batch is split along its video axis over as many of them
        as divide ``batch`` evenly (a batch of 6 on 4 devices uses 3), each device tracking its
        own videos; with one device, or a batch of one, the batch runs on the default device.
        """
        devices = jax.local_devices()
        count = max(d for d in range(1, min(len(devices), batch) + 1) if batch % d == 0)
        if count == 1:
            return None
        return jax.sharding.Mesh(np.array(devices[:count]), ("videos",))

    def _replicated_params(self, mesh):
        params = self._replicated.get(mesh)
        if params is None:
            replicated = NamedSharding(mesh, P())
            params = jax.device_put((self.detector_params, self.landmark_params), replicated)
            self._replicated[mesh] = params
        return params

    def _chunk_program(self, args, mesh=None):
        """The compiled chunk program for these argument shapes.

        Traced at most once per machine (see :mod:`posejax._cache`); with a ``mesh``, sharded
        over its video axis.
        """
        key = (tuple((tuple(x.shape), str(x.dtype)) for x in jax.tree.leaves(args)), mesh)
        program = self._programs.get(key)
        if program is not None:
            return program
        with self._building:
            lock = self._building_key.setdefault(key, threading.Lock())
        with lock:
            return self._build_chunk_program(key, args, mesh)

    def _build_chunk_program(self, key, args, mesh):
        program = self._programs.get(key)   # built meanwhile by another thread
        if program is None and mesh is not None:
            program = self._sharded_chunk_program(mesh)
            self._programs[key] = program
        if program is None:
            batch, _, height, width = args[3].shape[:4]
            # Only the structure matters; eval_shape keeps it free of eager (compiled) ops.
            out_example = (args[2], jax.eval_shape(
                self._empty_output, jax.ShapeDtypeStruct((batch, height, width, 3), np.uint8)))
            program = _cache.exported_program("video_chunk", (self.config,), self._scan_chunk,
                                              args, out_example,
                                              compile_seconds=20)
            self._programs[key] = program
        return program

    def _sharded_chunk_program(self, mesh):
        """Build the chunk program under ``shard_map``: every device scans its own videos.

        Each device runs exactly the program of a smaller batch (nothing is exchanged between
        devices: the per-frame ``any`` over the batch that gates the detector is taken per
        device, which only skips work), so a sharded batch equals the same batch on one device.
        Parameters are replicated, everything with a leading video axis is split along it.
        """
        # Compiled by JAX (jax.export cannot hold shard_map's mesh), so kept by its cache.
        _cache.enable_compilation_cache()
        videos, replicated = P("videos"), P()
        specs = (replicated, replicated, videos, videos, videos, replicated)
        if self.size_buckets:
            specs += (replicated,)   # the frames' real size
        # check_vma=False: the step's placeholders (zeros in the untaken branch of a cond) are
        # the same on every device, which the varying-axis checker would reject as a mismatch.
        mapped = jax.shard_map(self._scan_chunk, mesh=mesh, in_specs=specs, out_specs=videos,
                               check_vma=False)
        shardings = tuple(NamedSharding(mesh, spec) for spec in specs)
        return jax.jit(mapped, in_shardings=shardings,
                       out_shardings=NamedSharding(mesh, videos))

    def _scan_chunk(self, det_params, lmk_params, state, frames, clock_us, valid, size=None):
        # The scan runs over frame indices and each step gets the whole batch-major chunk: the
        # frame is sliced inside the branches that read it (crop, letterbox), where the slice
        # fuses into their gathers. Scanning over a time-major copy cost 3.4 ms a frame at
        # 1768 x 994, slicing each frame out first 0.3 ms a frame (1 ms in a batch of 8).
        batch, _, height, width = frames.shape[:4]
        empty = self._empty_output(jnp.zeros((batch, height, width, 0), jnp.uint8))

        def body(carry, t):
            t_us = lax.dynamic_index_in_dim(clock_us, t, axis=1, keepdims=False)
            return lax.cond(valid[t],
                            lambda c: self.step(det_params, lmk_params, c, frames, t_us, index=t,
                                                size=size),
                            lambda c: (c, empty), carry)

        state, out = lax.scan(body, state, jnp.arange(frames.shape[1]))
        out = {k: (None if v is None else jnp.swapaxes(v, 0, 1)) for k, v in out.items()}
        return state, out

    def _empty_output(self, frames):
        batch, height, width = frames.shape[:3]
        nan = jnp.float32(jnp.nan)
        return {
            "landmarks": jnp.full((batch, NUM_LANDMARKS, 5), nan),
            "world_landmarks": jnp.full((batch, NUM_LANDMARKS, 4), nan),
            "present": jnp.zeros((batch,), bool),
            "rois": jnp.full((batch, 5), nan),
            "mask": (jnp.full((batch, height, width), nan)
                     if self.config.enable_segmentation else None),
        }

    # -- one frame, in pieces that the static path compiles separately ---------------------------
    def _detector_input(self, frames, size=None):
        image_size = None if size is None else (size[0], size[1])
        return jax.vmap(lambda f: image.detector_input(f, image_size))(frames)

    def _detector_rois(self, raw, padding, height, width):
        """(rois (B, 5), found (B,)) from the detector's raw outputs."""
        box, keypoints, score, found = self._per_video(
            functools.partial(detection.best_detection,
                              min_score=self.config.min_detection_confidence)
        )(raw["boxes"], raw["scores"])
        box, keypoints = self._per_video(detection.remove_letterbox)(box, keypoints, padding)
        rois = self._per_video(lambda k: roi.detection_to_roi(k, height, width))(keypoints)
        return rois, found

    def _detect(self, det_params, frames, pred, index=None, size=None):
        # As for the landmark crop (see _landmark_input), the letterbox runs as a branch of a
        # conditional so that XLA cannot fuse it into the detector's stem (9 ms a frame at
        # 1768 x 994 when fused, 1.3 ms alone). ``pred`` is true whenever this runs.
        def letterbox(frames):
            return self._detector_input(_frame_at(frames, index), size)

        def nothing(frames):
            shapes = jax.eval_shape(letterbox, frames)
            return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

        tensors, padding = lax.cond(pred, letterbox, nothing, frames)
        raw = self._apply_detector(det_params, tensors)
        return self._detector_rois(raw, padding, *_frame_size(frames, index, size))

    def _landmark_input(self, frames, rois, has_roi, index=None, size=None):
        """Crops for the landmark network.

        Where nothing is tracked, a placeholder ROI (the whole frame) keeps the crop well
        defined (those rows are masked out later).

        The crop runs as its own branch of a ``lax.cond``: inlined next to the network, XLA's
        CPU fusion splits its gathers from the interpolation and re-computes the interpolation
        in each of the stem's 9 taps, which measured 5x slower for crop + network (81 ms
        against 15 ms for one 1768 x 994 frame). A conditional is a fusion boundary, and it
        also skips the crop when no video of the batch has a region to crop.
        """
        height, width = _frame_size(frames, index, size)
        if size is None:
            aspect = height / width
        else:
            # Python's double quotient rounded to float32 is the correctly rounded float32
            # quotient (53 >= 2 * 24 + 2 bits), which div_rn computes from the exact sides.
            aspect = _exact.div_rn(height.astype(jnp.float32), width.astype(jnp.float32))
        whole = jnp.stack([jnp.float32(0.5), jnp.float32(0.5), jnp.float32(1.0),
                           jnp.asarray(aspect, jnp.float32), jnp.float32(0.0)])
        rois = jnp.where(has_roi[:, None], rois, whole)
        image_size = None if size is None else (height, width)

        def crop(frames, rois):
            return jax.vmap(lambda f, r: image.landmark_input(f, r, image_size))(
                _frame_at(frames, index), rois)

        def nothing(frames, rois):
            size = image.LANDMARK_SIZE
            return jnp.zeros((frames.shape[0], size, size, 3), jnp.float32)

        return lax.cond(jnp.any(has_roi), crop, nothing, frames, rois), rois

    def _decode(self, raw, rois, has_roi, height, width):
        """(present, pose (B,33,5), aux (B,2,5), world (B,33,3)) in image coordinates."""
        cfg = self.config
        present = has_roi & (raw["pose_flag"][:, 0] > cfg.min_tracking_confidence)
        decoded = self._per_video(landmark_decoding.decode_landmarks)(raw["landmarks"])
        refined = self._per_video(functools.partial(
            landmark_decoding.refine_with_heatmap, kernel_size=cfg.heatmap_kernel_size))(
            decoded, raw["heatmap"])
        projected = self._per_video(
            lambda lm, r: landmark_decoding.project_to_image(lm, r, height, width))(
            refined, rois)
        world = self._per_video(landmark_decoding.world_landmarks)(raw["world_landmarks"], rois)
        world = world[:, :NUM_LANDMARKS]
        aux = projected[:, landmark_decoding.AUX_SLICE]
        return present, projected[:, :NUM_LANDMARKS], aux, world

    def _masks(self, raw, rois, height, width, mask_shape=None):
        probabilities = jax.nn.sigmoid(raw["segmentation"][..., 0].astype(jnp.float32))
        return jax.vmap(lambda m, r: image.mask_to_image(m, r, height, width, mask_shape))(
            probabilities, rois)

    @staticmethod
    def _outputs(present, pose, world_xyz, world_visibility, rois, masks):
        nan = jnp.float32(jnp.nan)
        rows = present[:, None, None]
        return {
            "landmarks": jnp.where(rows, pose, nan),
            "world_landmarks": jnp.where(
                rows, jnp.concatenate([world_xyz, world_visibility[..., None]], -1), nan),
            "present": present,
            "rois": jnp.where(present[:, None], rois, nan),
            "mask": None if masks is None else jnp.where(rows, masks, nan),
        }

    def step(self, det_params, lmk_params, state: TrackerState, frames, t_us, index=None,
             size=None):
        """One frame of every video.

        ``frames (B, H, W, 3)`` uint8, ``t_us (B,)`` int32; or, with ``index``, frame ``index``
        of a chunk ``frames (B, T, H, W, 3)``. With ``size`` (int32 ``[height, width]``) the
        frames are that size, packed in their (bucket-sized) arrays.
        """
        cfg = self.config
        batch = frames.shape[0]
        height, width = _frame_size(frames, index, size)

        need_detection = jnp.ones((batch,), bool) if cfg.static_image_mode else ~state.has_roi
        if cfg.static_image_mode:
            det_rois, found = self._detect(det_params, frames, jnp.any(need_detection), index,
                                           size)
        else:
            det_rois, found = lax.cond(
                jnp.any(need_detection),
                lambda f: self._detect(det_params, f, jnp.any(need_detection), index, size),
                lambda f: (jnp.zeros((batch, 5), jnp.float32), jnp.zeros((batch,), bool)),
                frames)
        rois, has_roi = _merge_rois(need_detection, det_rois, found, state)
        crops, rois = self._landmark_input(frames, rois, has_roi, index, size)
        raw = self._apply_landmark_net(lmk_params, crops)
        mask_shape = None if size is None else _frame_size(frames, index)
        return self.update(state, raw, rois, has_roi, t_us, height, width, mask_shape)

    def update(self, state: TrackerState, raw, rois, has_roi, t_us, height, width,
               mask_shape: tuple[int, int] | None = None):
        """The step after the landmark network: decode, filter, masks, the next frame's ROI.

        Shared by :meth:`step` and the frame-by-frame programs of :mod:`posejax.stepwise`, so
        both track with the same arithmetic. ``height, width`` may be traced int32 scalars;
        the masks then have ``mask_shape`` (the frames' bucket), the frame packed in it.
        """
        cfg = self.config
        present, pose, aux, world = self._decode(raw, rois, has_roi, height, width)

        state, pose, world_xyz, world_vis, next_rois = self._filter(
            state, pose, aux, world, present, t_us, height, width)

        masks = None
        if cfg.enable_segmentation:
            masks = self._masks(raw, rois, height, width, mask_shape)
            if self._keeps_mask:
                smoothed = jax.vmap(functools.partial(filters.smooth_segmentation,
                                                      ratio=cfg.segmentation_ratio))(
                    masks, state.mask)
                masks = jnp.where(state.has_mask[:, None, None], smoothed, masks)
                state = state._replace(
                    mask=jnp.where(present[:, None, None], masks, state.mask),
                    has_mask=state.has_mask | present)
        state = state._replace(roi=next_rois, has_roi=present & ~jnp.bool_(cfg.static_image_mode))
        return state, self._outputs(present, pose, world_xyz, world_vis, rois, masks)

    def _filter(self, state, pose, aux, world, present, t_us, height, width):
        """MediaPipe's PoseLandmarkFiltering, per video of the batch.

        Returns (state, pose (B,33,5), world xyz (B,33,3), world visibility (B,33), next ROIs).
        """
        smoothing = self.config.smoothing

        def where(mask, new, old):
            return jax.tree_util.tree_map(lambda n, o: jnp.where(mask, n, o), new, old)

        def one_video(st, pose, aux, world, present, t):
            scale = roi.object_scale(aux, height, width)   # of the unfiltered aux landmarks
            world = jnp.concatenate([world, pose[:, 3:4]], axis=1)   # visibility copied
            fresh_pose = filters.one_euro_init(st.pose_filter.filtered.shape,
                                               filters.POSE_LANDMARK_FILTER)
            fresh_aux = filters.one_euro_init(st.aux_filter.filtered.shape,
                                              filters.AUX_LANDMARK_FILTER)
            # Coordinate filters are invoked on every frame and so reset when there is no pose;
            # the visibility and world filters are only invoked with a pose and otherwise keep
            # their state (spec 12 c).
            if smoothing:
                pose_vis, pose = filters.smooth_visibility(st.pose_visibility, pose)
                pose_filter, pose = filters.smooth_landmarks(
                    st.pose_filter, pose, t, scale, height, width, filters.POSE_LANDMARK_FILTER)
                world_vis, world = filters.smooth_visibility(st.world_visibility, world)
                world_filter, world = filters.smooth_world_landmarks(st.world_filter, world, t)
                st = st._replace(
                    pose_visibility=where(present, pose_vis, st.pose_visibility),
                    pose_filter=where(present, pose_filter, fresh_pose),
                    world_visibility=where(present, world_vis, st.world_visibility),
                    world_filter=where(present, world_filter, st.world_filter))
            aux_vis, aux = filters.smooth_visibility(st.aux_visibility, aux)
            aux_filter, aux = filters.smooth_landmarks(
                st.aux_filter, aux, t, scale, height, width, filters.AUX_LANDMARK_FILTER)
            st = st._replace(aux_visibility=where(present, aux_vis, st.aux_visibility),
                             aux_filter=where(present, aux_filter, fresh_aux))
            next_roi = roi.landmarks_to_roi(aux, height, width)
            return st, pose, world[:, :3], world[:, 3], next_roi

        return self._per_video(one_video)(state, pose, aux, world, present, t_us)


def _per_image(config: PipelineConfig) -> bool:
    # On a CPU one image's activations stay in cache: batched calls measured 1.5-2.4x more
    # time per image than one image at a time. Accelerators want the whole batch at once.
    # ``config.vectorized`` overrides the choice (so that CI runs the accelerators' path).
    if config.vectorized is not None:
        return not config.vectorized
    return jax.default_backend() == "cpu"


def side_by_side(config: PipelineConfig, count: int) -> int:
    """How many of ``count`` independent videos (or images) to run side by side in threads.

    On a CPU one stream of frames keeps about 1.6 of 2 cores busy (many of a frame's XLA
    operations are too small to split over cores), and batching videos into one program does not
    help there: their images are taken one by one anyway. So streams run in threads of their own,
    one per core (measured on 2 cores: 150 frames/s against 90-98 for one video, the same numbers
    to the bit). On accelerators, or with several devices to shard a batch over: 1, the batch
    runs as one program.

    Parameters
    ----------
    config : PipelineConfig
    count : int
        Independent streams there are to run.

    Returns
    -------
    int
        Between 1 and ``count``.

    Examples
    --------
    >>> n = side_by_side(PipelineConfig(), 8)
    >>> 1 <= n <= 8, side_by_side(PipelineConfig(), 1)
    (True, 1)
    """
    if count <= 1 or not _per_image(config) or jax.local_device_count() > 1:
        return 1
    return max(1, min(count, _cpu_cores()))


def _cpu_cores() -> int:
    """Cores this process may run on (its affinity mask, as a container or ``taskset`` sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def concatenate_outputs(outs: list[dict], axis: int = 0) -> dict:
    """Join the output dicts of several chunks (or videos) along ``axis``; None stays None.

    Example
    -------
    >>> out = concatenate_outputs([{"present": np.zeros((1, 2)), "mask": None}] * 3, axis=1)
    >>> out["present"].shape, out["mask"]
    ((1, 6), None)
    """
    return {k: None if outs[0][k] is None else np.concatenate([o[k] for o in outs], axis=axis)
            for k in outs[0]}


def _merge_rois(need_detection, det_rois, found, state):
    """(rois, has_roi): the detector's where it ran, else the tracked ROI."""
    rois = jnp.where(need_detection[:, None], det_rois, state.roi)
    return rois, jnp.where(need_detection, found, True)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _fresh_state(batch: int, mask_shape: tuple) -> TrackerState:
    """Nothing tracked, for ``batch`` videos.

    One small program instead of a dozen eager ops, each of which costs a compilation (or a
    cache read) on the first call of a process.
    """
    one = TrackerState(
        roi=jnp.zeros((5,), jnp.float32),
        has_roi=jnp.zeros((), bool),
        pose_filter=filters.one_euro_init((NUM_LANDMARKS, 3), filters.POSE_LANDMARK_FILTER),
        pose_visibility=filters.low_pass_init((NUM_LANDMARKS,)),
        world_filter=filters.one_euro_init((NUM_LANDMARKS, 3), filters.WORLD_LANDMARK_FILTER),
        world_visibility=filters.low_pass_init((NUM_LANDMARKS,)),
        aux_filter=filters.one_euro_init((2, 3), filters.AUX_LANDMARK_FILTER),
        aux_visibility=filters.low_pass_init((2,)),
        mask=jnp.zeros(mask_shape, jnp.float32),
        has_mask=jnp.zeros((), bool),
    )
    return jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (batch,) + x.shape), one)


def _frame_at(frames, index):
    """``frames (B, H, W, 3)``, or frame ``index`` of a chunk ``(B, T, H, W, 3)``."""
    if index is None:
        return frames
    return lax.dynamic_index_in_dim(frames, index, axis=1, keepdims=False)


def _frame_size(frames, index, size=None):
    """The frame size: ``size``'s two (traced) entries, else the static shape's."""
    if size is not None:
        return size[0], size[1]
    return frames.shape[1:3] if index is None else frames.shape[2:4]


#: XLA's CPU client uses a host array in place, without a copy, when it is aligned to this.
_ALIGNMENT = 64


def _aligned_empty(shape) -> np.ndarray:
    """An uninitialized uint8 array of ``shape`` aligned to :data:`_ALIGNMENT` bytes.

    NumPy only promises 16.
    """
    size = int(np.prod(shape))
    raw = np.empty(size + _ALIGNMENT, np.uint8)
    offset = -raw.ctypes.data % _ALIGNMENT
    return raw[offset:offset + size].reshape(shape)


_GETTING = threading.Lock()


def get_pipeline(config: PipelineConfig) -> Pipeline:
    """The (cached) compiled pipeline for ``config``; weights are loaded once per config.

    Threads asking at once get one pipeline (two would each compile their programs).
    """
    with _GETTING:
        return _cached_pipeline(config)


@functools.lru_cache(maxsize=8)
def _cached_pipeline(config: PipelineConfig) -> Pipeline:
    return Pipeline(config)
