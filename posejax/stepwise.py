"""The per-frame step as a few small compiled programs: a first result in a second, not in 20.

:meth:`Pipeline.run_video_chunk <posejax.pipeline.Pipeline.run_video_chunk>` compiles the whole
step (both networks and ~1,500 small operations) into one scan over a chunk of frames. That is the
fastest way through a long video, but XLA needs 13-16 s to compile it for each configuration and
frame size, and a new process ~2 s to load it back from the compilation cache. A user of
:class:`posejax.Pose`, or of one photo, would wait for all of that before the first result.

Here the same step is cut at the networks:

* each network is compiled once per weights, segmentation head and batch size, and shared by
  every configuration and frame size (about 1.7 s to compile, 0.2-0.3 s to load);
* around them, small programs per frame-size bucket (:mod:`posejax.ops.buckets`; the frame is
  packed into its bucket and its real size is an argument): the detector's letterbox, the
  choice of ROI with the crop, and the decoding and filters (:meth:`Pipeline.update
  <posejax.pipeline.Pipeline.update>`, the code the chunk program runs too).

Every program is a :func:`posejax._cache.exported_program`: traced and compiled once per machine,
so a new process only loads them.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import threading

import jax
import jax.numpy as jnp
import numpy as np

from posejax import _cache, nets
from posejax.ops import buckets
from posejax.pipeline import STATIC_BATCH, Pipeline, _merge_rois, concatenate_outputs

#: The notice's estimate for a program never compiled on this machine (a network takes 2-10 s on
#: two cores, the programs around them 1-3 s).
_COMPILE_SECONDS = 4.0

__all__ = ["FrameRunner", "network_program", "run_images", "shared_runner"]


def network_program(name: str, with_segmentation: bool, batch: int, per_image: bool,
                    load_only: bool = False, compiled_with: dict[str, float] | None = None):
    """The compiled network ``name`` for ``batch`` images: ``run(params, images) -> dict``.

    One program per network, segmentation head, batch size and form, whatever the
    configuration or frame size that calls it.

    Parameters
    ----------
    name : {"detector", "lite", "full", "heavy"}
    with_segmentation : bool
        Landmark networks: whether the segmentation head runs (ignored for the detector).
    batch : int
        Images per call.
    per_image : bool
        Run the batch image by image (:func:`posejax.nets.apply_per_image`, best on a CPU) or as
        one batched call (accelerators).
    load_only : bool
        Only load it from posejax's cache: None when it is not there.
    compiled_with : dict of str to float, optional
        See :func:`posejax._cache.exported_program`.

    Example
    -------
    >>> import posejax.nets as nets
    >>> run = network_program("detector", False, 1, True)
    >>> _, params = nets.load("detector")
    >>> out = run(params, np.zeros((1, 224, 224, 3), np.float32))
    >>> out["boxes"].shape, out["scores"].shape
    ((1, 2254, 12), (1, 2254, 1))
    """
    with_segmentation = bool(with_segmentation) and name != "detector"
    program = _network_programs.get((name, with_segmentation, batch, per_image))
    if program is None:
        program = _network_program(name, with_segmentation, batch, per_image, load_only,
                                   compiled_with)
        if program is not None:
            _network_programs[name, with_segmentation, batch, per_image] = program
    return program


_network_programs: dict = {}


def _network_program(name, with_segmentation, batch, per_image, load_only, compiled_with):
    options = {} if name == "detector" else {"with_segmentation": with_segmentation}
    module, params = nets.load(name, **options)

    def apply(params, images):
        if per_image:
            return nets.apply_per_image(module, params, images)
        return module.apply(params, images)

    spec = jax.ShapeDtypeStruct((batch,) + nets.input_shape(name)[1:], jnp.float32)
    out_example = dict.fromkeys(nets.output_shapes(name, with_segmentation), 0)
    return _cache.exported_program(f"net-{name}", (with_segmentation, per_image), apply,
                                   (params, spec), out_example, compile_seconds=_COMPILE_SECONDS,
                                   load_only=load_only, compiled_with=compiled_with)


def _output_structure(with_segmentation: bool) -> dict:
    """The structure of :meth:`Pipeline._empty_output` without tracing it (start-up time)."""
    return {"landmarks": 0, "world_landmarks": 0, "present": 0, "rois": 0,
            "mask": 0 if with_segmentation else None}


def _specs(tree):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(np.shape(x), x.dtype), tree)


def _network_specs(name: str, with_segmentation: bool, batch: int) -> dict:
    shapes = nets.output_shapes(name, with_segmentation)
    return {k: jax.ShapeDtypeStruct((batch,) + v, jnp.float32) for k, v in shapes.items()}


class FrameRunner:
    """A :class:`~posejax.pipeline.Pipeline`'s step on ``batch`` frames of one bucket, in pieces.

    The same step as the pipeline's chunk program, frame by frame, from programs that compile
    in seconds (the networks once per machine for all configurations) and load in a fraction of
    a second. The programs take frames padded into a size bucket
    (:meth:`Pipeline.frame_bucket <posejax.pipeline.Pipeline.frame_bucket>`) with their real
    size, so one runner serves every frame size of its bucket.

    Parameters
    ----------
    pipeline : Pipeline
    batch, height, width : int
        Frames per call (videos side by side, or images in static mode) and a frame size; the
        runner serves that size's whole bucket (its ``height, width`` are the bucket's).

    Example
    -------
    >>> from posejax.pipeline import PipelineConfig, get_pipeline
    >>> pipeline = get_pipeline(PipelineConfig(model_complexity=0))
    >>> runner = FrameRunner(pipeline, 1, 48, 64)
    >>> state = pipeline.init_state(1, 48, 64)
    >>> frames = np.zeros((1, 48, 64, 3), np.uint8)
    >>> state, out = runner.track(state, frames, np.array([33333]))
    >>> bool(out["present"][0])                  # a black frame has nobody in it
    False
    """

    def __init__(self, pipeline, batch: int, height: int, width: int):
        self.pipeline = pipeline
        self.batch = batch
        self.height, self.width = pipeline.frame_bucket(height, width)
        self._state_example = pipeline.init_state(batch, height, width)
        self._programs: dict = {}
        self._preparing = threading.Lock()   # threads may share one runner (run_images)
        self._ready = False

    def prepare(self) -> FrameRunner:
        """Load (or compile) every program this runner needs, several at once.

        Loading a compiled program from the cache does not hold Python's lock, so the cached
        ones load side by side on the machine's cores; the others are then compiled one after
        another (XLA already spreads one compilation over the cores). :meth:`track` calls
        this; call it ahead to move the wait elsewhere.

        Returns
        -------
        FrameRunner
            ``self``.
        """
        with self._preparing:
            return self._prepare()

    def _prepare(self) -> FrameRunner:
        static = self.pipeline.config.static_image_mode
        kinds = ["detector", "landmarks", "letterbox", "detected-crop", "update"]
        if not static:
            kinds.append("tracked-crop")
        missing = [kind for kind in kinds if kind not in self._programs]
        workers = min(len(missing), os.cpu_count() or 1)
        if workers > 1:
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                loaded = list(pool.map(functools.partial(self._build, load_only=True), missing))
            self._programs.update((k, p) for k, p in zip(missing, loaded, strict=True)
                                  if p is not None)
        to_compile = [kind for kind in missing if kind not in self._programs]
        together = {self._program_name(kind): _COMPILE_SECONDS for kind in to_compile}
        for kind in to_compile:
            self._programs[kind] = self._build(kind, compiled_with=together)
        self._ready = True
        return self

    def program(self, kind: str):
        """One of this runner's compiled programs, loaded or compiled on first use.

        ``kind`` is ``"detector"``, ``"landmarks"`` (the networks, for ``batch`` images) or
        ``"letterbox"``, ``"detected-crop"``, ``"tracked-crop"``, ``"update"`` (the pieces
        around them). :mod:`posejax.people` runs the landmark network and the update of ``N``
        person slots with them.

        Example
        -------
        >>> from posejax.pipeline import PipelineConfig, get_pipeline
        >>> runner = FrameRunner(get_pipeline(PipelineConfig(model_complexity=0)), 2, 48, 64)
        >>> callable(runner.program("update"))
        True
        """
        with self._preparing:
            if kind not in self._programs:
                self._programs[kind] = self._build(kind)
            return self._programs[kind]

    def _program_name(self, kind: str) -> str:
        if kind == "detector":
            return "net-detector"
        if kind == "landmarks":
            return f"net-{self.pipeline.config.landmark_model}"
        return f"step-{kind}"

    def _build(self, kind: str, load_only: bool = False, compiled_with=None):
        pipeline, config = self.pipeline, self.pipeline.config
        if kind == "detector":
            return network_program("detector", False, self.batch, pipeline._per_image,
                                   load_only, compiled_with)
        if kind == "landmarks":
            return network_program(config.landmark_model, config.enable_segmentation,
                                   self.batch, pipeline._per_image, load_only, compiled_with)
        parts, fn, example_args, out_example = self._pieces[kind](self)
        # The bucket is in the key of every piece that depends on it: the update sees no
        # frame-sized argument but shapes the masks by its closure; without masks, one update
        # serves every bucket (one program less to compile per bucket).
        bucket = (self.height, self.width)
        if kind == "update" and not config.enable_segmentation:
            bucket = ()
        parts = (self.batch,) + bucket + tuple(parts)
        return _cache.exported_program(self._program_name(kind), parts, fn, example_args,
                                       out_example, compile_seconds=_COMPILE_SECONDS,
                                       load_only=load_only, compiled_with=compiled_with)

    # -- the pieces: each gives (parts, fn, example_args, out_example) ------------------------
    def _frames_spec(self):
        return jax.ShapeDtypeStruct((self.batch, self.height, self.width, 3), np.uint8)

    _SIZE_SPEC = jax.ShapeDtypeStruct((2,), jnp.int32)   # the frames' real [height, width]

    def _letterbox(self):
        return ((), self.pipeline._detector_input, (self._frames_spec(), self._SIZE_SPEC),
                (0, 0))

    def _detected_crop(self):
        """(state, frames, raw, padding) -> (crops, rois, has_roi), detecting where lost.

        Static mode passes a state that tracks nothing (see :meth:`track`), so both modes share
        this program.
        """
        pipeline, batch = self.pipeline, self.batch

        def fn(state, frames, raw, padding, size):
            det_rois, found = pipeline._detector_rois(raw, padding, size[0], size[1])
            rois, has_roi = _merge_rois(~state.has_roi, det_rois, found, state)
            crops, rois = pipeline._landmark_input(frames, rois, has_roi, size=size)
            return crops, rois, has_roi

        args = (_specs(self._state_example), self._frames_spec(),
                _network_specs("detector", False, batch),
                jax.ShapeDtypeStruct((batch, 4), jnp.float32), self._SIZE_SPEC)
        return (pipeline.config.min_detection_confidence,), fn, args, (0, 0, 0)

    def _tracked_crop(self):
        """(state, frames) -> (crops, rois, has_roi) where every video keeps its tracked ROI."""
        pipeline, batch = self.pipeline, self.batch

        def fn(state, frames, size):
            has_roi = jnp.ones((batch,), bool)
            crops, rois = pipeline._landmark_input(frames, state.roi, has_roi, size=size)
            return crops, rois, has_roi

        return ((), fn, (_specs(self._state_example), self._frames_spec(), self._SIZE_SPEC),
                (0, 0, 0))

    def _update(self):
        pipeline, batch = self.pipeline, self.batch
        config = pipeline.config
        bucket = (self.height, self.width)

        def fn(state, raw, rois, has_roi, t_us, size):
            return pipeline.update(state, raw, rois, has_roi, t_us, size[0], size[1], bucket)

        state = self._state_example
        args = (_specs(state),
                _network_specs(config.landmark_model, config.enable_segmentation, batch),
                jax.ShapeDtypeStruct((batch, 5), jnp.float32),
                jax.ShapeDtypeStruct((batch,), bool),
                jax.ShapeDtypeStruct((batch,), jnp.int32), self._SIZE_SPEC)
        return (config,), fn, args, (state, _output_structure(config.enable_segmentation))

    _pieces = {"letterbox": _letterbox, "detected-crop": _detected_crop,
               "tracked-crop": _tracked_crop, "update": _update}

    # -- running -------------------------------------------------------------------------------
    def track(self, state, frames: np.ndarray, clock_us: np.ndarray, size=None):
        """One frame of each of the ``batch`` videos (or images, in static mode).

        Parameters
        ----------
        state : TrackerState
            From :meth:`Pipeline.init_state <posejax.pipeline.Pipeline.init_state>` or the
            previous call.
        frames : ndarray, uint8, (B, H, W, 3)
            Frames of a size in this runner's bucket, or, with ``size``, already packed into
            the bucket.
        clock_us : ndarray, int, (B,)
            The filters' clock in microseconds.
        size : (int, int), optional
            The real ``(height, width)`` of bucket-sized ``frames``.

        Returns
        -------
        state : TrackerState
        outputs : dict of ndarray
            As :meth:`Pipeline.run_video_chunk <posejax.pipeline.Pipeline.run_video_chunk>` for
            one frame, ``(B, ...)``: ``landmarks``, ``world_landmarks``, ``present``, ``rois``
            and ``mask`` (None without segmentation; of the real size).
        """
        pipeline, programs = self.pipeline, self._programs
        if not self._ready:
            self.prepare()
        bucket = (self.height, self.width)
        if size is None:
            size = frames.shape[1:3]
            if pipeline.frame_bucket(*size) != bucket:
                raise ValueError(f"frames of {size[0]}x{size[1]} are not of this runner's "
                                 f"bucket {bucket[0]}x{bucket[1]}")
            if size != bucket:
                frames = pipeline._staged(frames[None], 1, bucket)[0]
        height, width = size
        real = buckets.size_array(height, width)
        frames = jax.device_put(frames)
        if pipeline.config.static_image_mode or not np.all(np.asarray(state.has_roi)):
            tensors, padding = programs["letterbox"](frames, real)
            detections = programs["detector"](pipeline.detector_params, tensors)
            lost = state
            if pipeline.config.static_image_mode:   # every image detected: nothing is tracked
                lost = state._replace(has_roi=np.zeros(self.batch, bool))
            crops, rois, has_roi = programs["detected-crop"](lost, frames, detections, padding,
                                                             real)
        else:
            crops, rois, has_roi = programs["tracked-crop"](state, frames, real)
        raw = programs["landmarks"](pipeline.landmark_params, crops)
        # As in run_video_chunk: the filters only use differences, so a wrapping int32 is exact.
        clock32 = (np.asarray(clock_us, np.int64) % 2**32).astype(np.uint32).view(np.int32)
        state, out = programs["update"](state, raw, rois, has_roi, clock32, real)
        out = {k: None if v is None else np.asarray(v) for k, v in out.items()}
        if out["mask"] is not None:
            out["mask"] = buckets.unpack(out["mask"], height, width)
        return state, out


_SHARING = threading.Lock()


def shared_runner(pipeline: Pipeline, batch: int, height: int, width: int) -> FrameRunner:
    """One :class:`FrameRunner` per pipeline, batch and frame-size bucket for the whole process.

    ``posejax.track`` calls :func:`run_images` once per chunk of a video; a runner of its own
    each time would load its programs from disk again (0.5-1 s a chunk). Threads asking at once
    (videos tracked side by side) get the same one.
    """
    with _SHARING:
        return _cached_runner(pipeline, batch, *pipeline.frame_bucket(height, width))


@functools.lru_cache(maxsize=32)
def _cached_runner(pipeline: Pipeline, batch: int, height: int, width: int) -> FrameRunner:
    return FrameRunner(pipeline, batch, height, width)


def run_images(pipeline: Pipeline, frames: np.ndarray) -> dict:
    """Static mode on ``frames (N, H, W, 3)``: every frame detected and processed alone.

    The networks are the programs every configuration and frame size shares; only the small
    letterbox, crop and decoding programs are compiled per image size, so a folder of photos of
    many sizes compiles no network twice. Fewer than :data:`~posejax.pipeline.STATIC_BATCH`
    frames go one at a time (a single photo needs only the batch-1 programs that
    :class:`posejax.Pose` uses too); more go in blocks of ``STATIC_BATCH`` (on a CPU the networks
    still take the block's images one by one, their activations staying in cache). Each block is
    fetched before the next is staged: the staging buffer is reused, and on a CPU the programs
    read it in place.

    Returns
    -------
    dict of ndarray
        ``landmarks (N, 33, 5)``, ``world_landmarks (N, 33, 4)``, ``present (N,)``,
        ``rois (N, 5)`` and ``mask (N, H, W)`` (None without segmentation).

    Example
    -------
    >>> from posejax.pipeline import PipelineConfig, get_pipeline
    >>> pipeline = get_pipeline(PipelineConfig(model_complexity=0, static_image_mode=True))
    >>> out = run_images(pipeline, np.zeros((2, 48, 64, 3), np.uint8))
    >>> out["landmarks"].shape, out["present"].tolist()
    ((2, 33, 5), [False, False])
    """
    n, height, width = frames.shape[:3]
    block = 1 if n < STATIC_BATCH else STATIC_BATCH
    runner = shared_runner(pipeline, block, height, width).prepare()
    bucket = (runner.height, runner.width)
    state = pipeline.init_state(block, height, width)
    clock = np.zeros(block, np.int64)

    def one_block(start: int) -> dict:
        count = min(block, n - start)
        # Staged (aligned, so used in place; each thread has a buffer of its own); rows past
        # ``count`` hold stale frames whose results are dropped.
        staged = pipeline._staged(frames[None, start:start + count], block, bucket)[0]
        _, out = runner.track(state, staged, clock, (height, width))
        return {k: None if v is None else v[:count] for k, v in out.items()}

    starts = range(0, n, block)
    # Images are independent: blocks run side by side, one thread per core (Pipeline.streams).
    streams = pipeline.streams(len(starts))
    if streams > 1:
        with concurrent.futures.ThreadPoolExecutor(streams, thread_name_prefix="posejax") as pool:
            outs = list(pool.map(one_block, starts))
    else:
        outs = [one_block(start) for start in starts]
    return concatenate_outputs(outs)
