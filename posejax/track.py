"""``posejax.track``: frames (or a video path) in, a :class:`~posejax.result.PoseTrack` out.

Builds the validated :class:`~posejax.pipeline.PipelineConfig`, feeds the compiled pipeline
chunks of frames (arrays, or a video file decoded by :mod:`posejax.io.video`) and assembles the
arrays it returns into a track. :class:`PoseTrack` is re-exported here for old imports.

A little over the house's 500 lines: the frame source, the clocks, the videos run side by side
and the programs prepared before the progress bar counts are one flow, best read together.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import threading
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from posejax.io.video import read_video
from posejax.landmarks import NUM_LANDMARKS
from posejax.people import MAX_LOST_SECONDS, PeopleTracker, individual_names
from posejax.pipeline import (
    MEDIAPIPE_FRAME_STEP_US,
    STATIC_BATCH,
    PipelineConfig,
    _aligned_empty,
    concatenate_outputs,
    get_pipeline,
)
from posejax.result import PoseTrack
from posejax.stepwise import run_images, shared_runner

__all__ = ["MEDIAPIPE_FRAME_STEP_US", "PoseTrack", "track"]

# Frames per compiled chunk: large enough to amortise dispatch, small enough that a batch of
# full-HD videos stays within a few hundred MB.
_CHUNK_BYTES = 192 * 2**20
_MAX_CHUNK = 32


def _check_fps(fps) -> None:
    if fps is not None and (isinstance(fps, bool) or not np.isfinite(fps) or fps <= 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")


def _check_people(num_poses, max_lost_seconds, enable_segmentation) -> None:
    if isinstance(num_poses, bool) or not isinstance(num_poses, (int, np.integer)) \
            or num_poses < 1:
        raise ValueError(f"num_poses must be a whole number of people >= 1, got {num_poses!r}")
    if isinstance(max_lost_seconds, bool) or not isinstance(
            max_lost_seconds, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(max_lost_seconds) and max_lost_seconds >= 0):
        raise ValueError(f"max_lost_seconds must be a number of seconds >= 0, got "
                         f"{max_lost_seconds!r}")
    if num_poses > 1 and enable_segmentation:
        raise ValueError("segmentation masks are not available with num_poses > 1 yet; track "
                         "with num_poses=1, or without enable_segmentation")


def _check_frame_array(array, what: str) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"{what} must be uint8 RGB (0-255), got dtype {array.dtype}; "
                        "convert with np.clip(x * 255, 0, 255).astype(np.uint8) for float images")
    if array.ndim < 3 or array.shape[-1] != 3:
        channels = array.shape[-1] if array.ndim else None
        raise ValueError(f"{what} must have 3 colour channels (RGB) in the last axis, got shape "
                         f"{array.shape} ({channels} channels); convert grayscale or RGBA first")
    if 0 in array.shape:
        raise ValueError(f"{what} is empty (shape {array.shape})")
    return array


class _FrameSource:
    """Frames to process, as chunks ``(B, t, H, W, 3)`` of one size."""

    def __init__(self, frames, static: bool):
        self.reader = None
        self.is_batch = False
        self.video_fps = None
        self.video_times = None  # seconds of each frame of a video file, from its timestamps
        self.names = None
        self.mixed_sizes = None  # list of (H, W, 3) arrays for still images of several sizes
        # bytes go to read_video too, whose path check says how to pass a path instead.
        if isinstance(frames, (str, os.PathLike, bytes, bytearray)):
            self.reader = read_video(frames)
            # A file the container says is cut short fails now, not after tracking its start.
            self.reader.check()
            self.video_fps = self.reader.fps
            self.video_times = self.reader.timestamps
            self.batch = 1
            self.n_frames = self.reader.n_frames
            self.height, self.width = self.reader.height, self.reader.width
            self.names = (Path(os.fsdecode(frames)).name,)
            return
        if isinstance(frames, (list, tuple)):
            if len(frames) == 0:
                raise ValueError("frames is an empty list")
            arrays = [_check_frame_array(f, f"frame {i}") for i, f in enumerate(frames)]
            for i, a in enumerate(arrays):
                if a.ndim != 3:
                    raise ValueError(f"frame {i} must be (H, W, 3), got shape {a.shape}")
            sizes = {a.shape for a in arrays}
            if len(sizes) > 1:
                if not static:
                    raise ValueError(
                        f"frames of one video must share one size, got {len(sizes)} sizes "
                        f"({sorted(sizes)[:3]}...); use static_image_mode=True for unrelated "
                        "images")
                self.mixed_sizes = arrays
                self.batch, self.n_frames = 1, len(arrays)
                return
            frames = np.stack(arrays)
        array = _check_frame_array(frames, "frames")
        if array.ndim == 3:
            raise ValueError(f"frames has shape {array.shape}: expected (T, H, W, 3) for a video "
                             "or (B, T, H, W, 3) for a batch; for one image pass image[None]")
        if array.ndim not in (4, 5):
            raise ValueError(f"frames must be (T, H, W, 3) or (B, T, H, W, 3), got {array.shape}")
        self.is_batch = array.ndim == 5
        self.array = array if self.is_batch else array[None]
        self.batch, self.n_frames, self.height, self.width = self.array.shape[:4]

    def chunks(self, chunk: int):
        """Yield ``(start, frames (B, t, H, W, 3))``."""
        if self.reader is not None:
            start = 0
            # Decoded into two aligned buffers in turn: one is tracked (in place, uncopied)
            # while the next chunk is decoded into the other.
            buffers = [_aligned_empty((chunk, self.height, self.width, 3)) for _ in range(2)]
            for block in _decoded_ahead(self.reader.iter_chunks(chunk, buffers)):
                yield start, block[None]
                start += len(block)
            return
        for start in range(0, self.n_frames, chunk):
            yield start, self.array[:, start:start + chunk]


_END = object()


def _decoded_ahead(chunks):
    """The items of ``chunks``, the next one decoded in a thread while this one is tracked.

    FFmpeg decodes without holding Python's lock, so decoding overlaps the compiled programs
    instead of adding to them. Holds one chunk more in memory; a decoding error is raised where
    its chunk would have been yielded.
    """
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="posejax-decode") as pool:
        pending = pool.submit(next, chunks, _END)
        while True:
            chunk = pending.result()
            if chunk is _END:
                return
            pending = pool.submit(next, chunks, _END)
            yield chunk


def track(frames, *, model_complexity: int = 1, static_image_mode: bool = False,
          smooth_landmarks: bool = True, enable_segmentation: bool = False,
          smooth_segmentation: bool = True, min_detection_confidence: float = 0.5,
          min_tracking_confidence: float = 0.5, fps: float | None = None, timestamps=None,
          progress: bool = False, mediapipe_clock: bool = False,
          mediapipe_graph_values: bool = False, vectorized: bool | None = None,
          num_poses: int = 1, max_lost_seconds: float = MAX_LOST_SECONDS) -> PoseTrack:
    """Track the pose of one person, or of several, through a video, a batch of videos or images.

    The whole MediaPipe Pose pipeline (detector, ROI tracking, landmark network, smoothing
    filters) runs as compiled JAX programs: a ``lax.scan`` over frames, batched over videos.
    Options, defaults and results follow ``mediapipe.solutions.pose.Pose`` (0.10.21).

    Parameters
    ----------
    frames : ndarray, list of ndarray, or path
        uint8 RGB frames ``(T, H, W, 3)`` of one video; a batch ``(B, T, H, W, 3)`` of videos
        (processed as one vectorized computation; every field of the result gets a leading
        ``B``); a list of ``(H, W, 3)`` frames (of several sizes only with
        ``static_image_mode=True``); or the path of a video file, decoded in chunks so memory
        does not grow with the video's length. A file that is truncated or corrupt raises
        :class:`~posejax.io.VideoDecodeError` (see :class:`~posejax.io.VideoReader`).
    model_complexity : {0, 1, 2}
        Landmark network: 0 lite, 1 full, 2 heavy.
    static_image_mode : bool
        Treat every frame as an unrelated image: run the detector on each, no tracking and no
        smoothing.
    smooth_landmarks, enable_segmentation, smooth_segmentation : bool
        As in MediaPipe. Segmentation smoothing is a no-op in the released MediaPipe package, and
        here too unless ``mediapipe_graph_values=True``.
    min_detection_confidence, min_tracking_confidence : float in [0, 1]
        Detector score threshold, and pose-presence threshold of the landmark network (applied
        in static mode too, as MediaPipe does).
    fps : float, optional
        Frame rate for the ``time`` of each frame and the smoothing filters' clock, instead of
        a video file's own timestamps. By default a video file's frames keep the times its
        container gives them (presentation timestamps in seconds: variable frame rates are
        kept, a stream that starts at 10 s starts at 10 s), and the filters smooth on that
        clock, as MediaPipe's graph does with the timestamps it is given; ``PoseTrack.fps`` is
        the container's rate. Arrays without ``fps`` or ``timestamps`` get times ``k / 30`` and
        MediaPipe's Python clock for the filters (33333 microseconds per frame).
    timestamps : array of float, optional
        Time of each frame in seconds (strictly increasing), instead of ``fps``.
    progress : bool
        Show a progress bar.
    mediapipe_clock : bool
        Smooth on MediaPipe's Python clock (frame k at 33333 * k microseconds, whatever the
        frames' real times) as ``mp.solutions.pose`` called once per frame does, so that results
        match it on any video; the frames' ``time`` stays their real time. For parity checks.
    mediapipe_graph_values : bool
        Use the values written in MediaPipe's graph files (heatmap refinement kernel 7,
        segmentation smoothing ratio 0.7) instead of what the released package does (9, 0.0).
    vectorized : bool, optional
        Run the networks and per-video steps vectorized over the batch (``vmap``, what
        accelerators run) instead of one image at a time (what CPUs run, faster there). By
        default each backend gets its own; ``True`` on a CPU checks the accelerators' path.
        On a host with several devices a batch of videos is sharded across them either way.
    num_poses : int, default 1
        People to track. 1 is MediaPipe's legacy solution, exactly. With ``N > 1`` every
        person gets a slot of their own for the whole video (:mod:`posejax.people`): the
        result's per-person arrays gain an axis of ``N`` after the frames (``landmarks (T, N,
        33, 5)``), :attr:`PoseTrack.individuals` names the slots (``person_0``, ...), and an
        empty slot is NaN with ``pose_present`` False. Each person is tracked as MediaPipe
        tracks one (the same filters and ROI loop); the detector, which runs only while a slot
        is empty, also searches overlapping tiles so that people small in a wide frame are
        found. Segmentation is not available with several people.
    max_lost_seconds : float, default 3
        With ``num_poses > 1``: how long a person who leaves or is hidden keeps their slot, to
        be found again in it; after that a new person may take it.

    Returns
    -------
    PoseTrack

    Examples
    --------
    >>> import posejax
    >>> result = posejax.track("datasets/sports2d_demo.mp4")  # doctest: +SKIP
    >>> result.landmarks.shape                                 # doctest: +SKIP
    (230, 33, 5)
    >>> df = result.to_dataframe()                             # doctest: +SKIP
    >>> two = posejax.track("gym.mp4", num_poses=2)             # doctest: +SKIP
    >>> two.landmarks.shape, two.individuals                   # doctest: +SKIP
    ((900, 2, 33, 5), ('person_0', 'person_1'))
    """
    _check_people(num_poses, max_lost_seconds, enable_segmentation)
    config = PipelineConfig(
        model_complexity=model_complexity,
        static_image_mode=static_image_mode,
        smooth_landmarks=smooth_landmarks,
        enable_segmentation=enable_segmentation,
        smooth_segmentation=smooth_segmentation,
        min_detection_confidence=min_detection_confidence,
        min_tracking_confidence=min_tracking_confidence,
        mediapipe_graph_values=mediapipe_graph_values,
        vectorized=vectorized,
    )
    _check_fps(fps)
    return _track(frames, config, fps, timestamps, progress, mediapipe_clock=mediapipe_clock,
                  num_poses=int(num_poses), max_lost_seconds=float(max_lost_seconds))


def _track(frames, config: PipelineConfig, fps, timestamps, progress, bar=None,
           mediapipe_clock: bool = False, num_poses: int = 1,
           max_lost_seconds: float = MAX_LOST_SECONDS) -> PoseTrack:
    """Run :func:`track` for a validated ``config``.

    ``bar``, if given, is a progress bar (tqdm) that counts the frames instead of one of its
    own (:mod:`posejax.batch` shares one over many videos).
    """
    static_image_mode = config.static_image_mode
    source = _FrameSource(frames, static_image_mode)
    n = source.n_frames
    clock_us, times, out_fps = _clocks(n, fps, timestamps, source.video_fps, source.video_times)
    if mediapipe_clock and clock_us is not None:
        clock_us = _mediapipe_clock(len(clock_us))
    pipeline = get_pipeline(config)
    if num_poses > 1:
        tracker = PeopleTracker(pipeline, num_poses, max_lost_seconds)
        return _track_people(tracker, source, (clock_us, times, out_fps), fps, timestamps,
                             progress, bar, mediapipe_clock)
    if source.mixed_sizes is not None:
        return _track_mixed_sizes(pipeline, source, config, fps, timestamps, progress)

    # (Static mode runs its images side by side in run_images.)
    streams = 1 if static_image_mode else pipeline.streams(source.batch)
    # Videos side by side each take chunks as long as one video's (the same compiled programs),
    # as many at once as fit twice the chunk budget.
    # Sized by the frames' bucket: every frame size of a bucket gets one chunk length, and so
    # one compiled program (the frames are padded into the bucket, see run_video_chunk).
    bucket = pipeline.frame_bucket(source.height, source.width)
    chunk = _chunk_length(1 if streams > 1 else source.batch, *bucket)
    frame_bytes = bucket[0] * bucket[1] * 3
    streams = max(1, min(streams, 2 * _CHUNK_BYTES // (chunk * frame_bytes)))
    # A clip shorter than the chunk runs through the same program, its tail padded and masked
    # (run_video_chunk): every length of one size shares one compile.
    results = []
    state = pipeline.init_state(source.batch, source.height, source.width)
    # Loaded or compiled before the bar counts, so that its rate and ETA leave compiling out.
    _prepare_programs(pipeline, source, n, chunk, streams)
    bar = _frames_bar(bar, source, progress)
    with bar as bar:
        if streams > 1:
            merged = _videos_side_by_side(pipeline, source.array, clock_us, chunk, streams, bar)
            return _assemble(merged, times, out_fps, source, config, squeeze=False)
        for start, block in source.chunks(chunk):
            t = block.shape[1]
            if clock_us is None or start + t > len(clock_us):
                clock_us, times = _extend_clock(clock_us, times, start + t, fps,
                                                source.video_fps, mediapipe_clock)
            block_us = np.broadcast_to(clock_us[start:start + t], (source.batch, t))
            if static_image_mode:
                flat = run_images(pipeline, block.reshape((-1,) + block.shape[2:]))
                out = {k: None if v is None else v.reshape(block.shape[:2] + v.shape[1:])
                       for k, v in flat.items()}
            else:
                state, out = pipeline.run_video_chunk(state, block, block_us, chunk)
            results.append(out)
            bar.update(t * source.batch)
    if not results:
        raise ValueError("the video has no frames")
    total = sum(r["present"].shape[1] for r in results)
    if timestamps is not None and total != len(times):
        raise ValueError(f"timestamps has {len(times)} entries but the video has {total} frames")
    merged = concatenate_outputs(results, axis=1)
    return _assemble(merged, times[:total], out_fps, source, config,
                     squeeze=not source.is_batch)


def _videos_side_by_side(pipeline, videos: np.ndarray, clock_us: np.ndarray, chunk: int,
                         streams: int, bar) -> dict:
    """Track each video of ``videos (B, T, H, W, 3)`` alone, ``streams`` of them at a time.

    Each video is a batch of one (the programs one video uses); the results are those of the
    batch, as every video of a batch is computed alone anyway (see ``Pipeline._per_video``).
    """
    batch, n, height, width = videos.shape[:4]
    shared = _SharedBar(bar)

    def one_video(b: int) -> dict:
        state = pipeline.init_state(1, height, width)
        outs = []
        for start in range(0, n, chunk):
            block = videos[b:b + 1, start:start + chunk]
            t = block.shape[1]
            state, out = pipeline.run_video_chunk(state, block, clock_us[None, start:start + t],
                                                  chunk)
            outs.append(out)
            shared.update(t)
        return concatenate_outputs(outs, axis=1)

    # A thread that needs the chunk program while another builds it waits for that one.
    with concurrent.futures.ThreadPoolExecutor(streams, thread_name_prefix="posejax") as pool:
        futures = [pool.submit(one_video, b) for b in range(batch)]
        try:
            done, _ = concurrent.futures.wait(futures,
                                              return_when=concurrent.futures.FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise future.exception()
            per_video = [future.result() for future in futures]
        except BaseException:
            # Interrupted, or one video failed: the others end at their next chunk.
            shared.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return concatenate_outputs(per_video, axis=0)


class _Stopped(BaseException):
    """Ends work under way in a thread once its :class:`_SharedBar` is stopped.

    Not an ``Exception``: code that records a failed video must not record this as one.
    """


class _SharedBar:
    """A progress bar that several threads count on, and the way to stop them.

    Work counts on it after every chunk; once :meth:`stop` is called, that count raises
    :class:`_Stopped` instead, ending the work under way at a chunk boundary.
    """

    def __init__(self, bar):
        self._bar, self._lock = bar, threading.Lock()
        self._stopped = threading.Event()

    def update(self, n: int = 1) -> None:
        if self._stopped.is_set():
            raise _Stopped
        with self._lock:
            self._bar.update(n)

    def unpause(self) -> None:
        """Leave the time since the last count out of the rate (a thread was compiling)."""
        with self._lock:
            self._bar.unpause()

    def stop(self) -> None:
        self._stopped.set()


def _frames_bar(bar, source, progress: bool):
    """The progress bar over ``source``'s frames, as a context.

    A new one, or ``bar`` (shared over videos) unpaused, so that the time spent preparing
    programs is not counted.
    """
    if bar is None:
        n = source.n_frames
        return tqdm(total=None if n is None else n * source.batch, unit="frame",
                    disable=not progress, desc="posejax.track")
    bar.unpause()
    return contextlib.nullcontext(bar)


def _prepare_programs(pipeline, source, n: int | None, chunk: int, streams: int) -> None:
    """Load or compile the programs :func:`_track` is about to run for ``source``."""
    if pipeline.config.static_image_mode:
        # As run_images will take each chunk's frames: alone below STATIC_BATCH, else in blocks.
        frames = chunk * source.batch if n is None else min(n, chunk) * source.batch
        block = 1 if frames < STATIC_BATCH else STATIC_BATCH
        shared_runner(pipeline, block, source.height, source.width).prepare()
    else:
        pipeline.prepare_chunk(1 if streams > 1 else source.batch, source.height, source.width,
                               chunk)


def prepare(config: PipelineConfig, height: int, width: int, batch: int = 1) -> None:
    """Load, or compile, what :func:`track` runs on videos of this frame size, ahead of time.

    One call serves every frame size of the bucket of ``height x width``
    (:mod:`posejax.ops.buckets`) and every clip length; ``posejax warmup`` calls it for each
    bucket.

    Example
    -------
    >>> prepare(PipelineConfig(model_complexity=0), 48, 64)
    """
    pipeline = get_pipeline(config)
    bucket = pipeline.frame_bucket(height, width)
    pipeline.prepare_chunk(batch, height, width, _chunk_length(batch, *bucket))


def _chunk_length(batch: int, height: int, width: int) -> int:
    return int(max(1, min(_MAX_CHUNK, _CHUNK_BYTES // max(1, batch * height * width * 3))))


def _clocks(n, fps, timestamps, video_fps, video_times=None):
    """(filter clock in microseconds, times in seconds, fps of the result).

    ``video_times`` are a video file's own frame times, used unless ``fps`` or ``timestamps``
    is given; the result's fps is then the file's rate (metadata), not one measured from them.
    """
    if video_times is not None and fps is None and timestamps is None:
        clock, times, _ = _clocks(len(video_times), None, video_times, None)
        return clock, times, float(video_fps or 30.0)
    if timestamps is not None:
        if fps is not None:
            raise ValueError("give either fps or timestamps, not both")
        times = np.asarray(timestamps, dtype=np.float64)
        if times.ndim != 1 or not np.all(np.isfinite(times)):
            raise ValueError("timestamps must be a 1-D array of finite seconds")
        if n is not None and len(times) != n:
            raise ValueError(f"timestamps has {len(times)} entries for {n} frames")
        if len(times) > 1 and not np.all(np.diff(times) > 0):
            raise ValueError("timestamps must be strictly increasing")
        clock = np.round(times * 1e6).astype(np.int64)
        clock = clock - clock[0] + MEDIAPIPE_FRAME_STEP_US
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 30.0
        return clock, times, float(rate)
    if n is None:
        return None, None, float(fps or video_fps or 30.0)
    clock, times = _extend_default_clock(n, fps, video_fps)
    return clock, times, float(fps or video_fps or 30.0)


def _mediapipe_clock(n):
    """MediaPipe's Python clock for ``n`` frames: frame k (1-based) at 33333 * k microseconds."""
    return MEDIAPIPE_FRAME_STEP_US * np.arange(1, n + 1, dtype=np.int64)


def _extend_clock(clock_us, times, n, fps, video_fps, mediapipe_clock):
    """Clock and times for ``n`` frames, keeping those of the first ones.

    For a video file that decodes more frames than it has packets, or one of unknown length.
    """
    if clock_us is None:
        clock_us, times = _extend_default_clock(n, fps, video_fps)
    else:
        step = 1.0 / float(fps or video_fps or 30.0)
        more = np.arange(1, n - len(times) + 1)
        times = np.concatenate([times, times[-1] + step * more])
        clock_us = np.concatenate([clock_us, clock_us[-1] + np.round(step * 1e6 * more)
                                   .astype(np.int64)])
    if mediapipe_clock:
        clock_us = _mediapipe_clock(n)
    return clock_us, times


def _extend_default_clock(n, fps, video_fps):
    k = np.arange(1, n + 1, dtype=np.int64)
    if fps is None:
        clock = _mediapipe_clock(n)
    else:
        clock = np.round(k * 1e6 / fps).astype(np.int64)
    times = (k - 1) / float(fps or video_fps or 30.0)
    return clock, times


def _assemble(out, times, fps, source, config, squeeze: bool) -> PoseTrack:
    batch, n = out["present"].shape
    sizes = np.broadcast_to(np.array([source.height, source.width]), (batch, n, 2)).copy()
    times = np.broadcast_to(times, (batch, n)).copy()
    fields = dict(landmarks=out["landmarks"], world_landmarks=out["world_landmarks"],
                  pose_present=out["present"], rois=out["rois"], timestamps=times,
                  image_sizes=sizes, segmentation_mask=out.get("mask"))
    if squeeze:
        fields = {k: None if v is None else v[0] for k, v in fields.items()}
    names = source.names if (squeeze and source.names) else None
    return PoseTrack(fps=fps, model_complexity=config.model_complexity, video_names=names,
                     **fields)


def _track_people(tracker, source, clocks, fps, timestamps, progress, bar,
                  mediapipe_clock) -> PoseTrack:
    """:func:`track` with ``num_poses > 1``: frame by frame through a :class:`PeopleTracker`."""
    clock_us, times, out_fps = clocks
    config = tracker.pipeline.config
    if source.mixed_sizes is not None:
        videos = [[(0, np.stack(source.mixed_sizes[i:i + 1])[None]) for i in
                   range(len(source.mixed_sizes))]]
    elif source.reader is not None:
        videos = [source.chunks(_MAX_CHUNK)]
    else:
        videos = [((0, source.array[b:b + 1]),) for b in range(source.batch)]
    sizes = ([a.shape[:2] for a in source.mixed_sizes] if source.mixed_sizes is not None
             else [(source.height, source.width)])
    for height, width in set(sizes):
        tracker.prepare(height, width)   # before the bar counts: its rate leaves compiling out
    bar = _frames_bar(bar, source, progress)
    results = []
    with bar as bar:
        for chunks in videos:
            tracker.reset()
            frames_out, index = [], 0
            for _, block in chunks:
                for frame in block[0]:
                    if clock_us is None or index >= len(clock_us):
                        clock_us, times = _extend_clock(clock_us, times, index + 1, fps,
                                                        source.video_fps, mediapipe_clock)
                    frames_out.append(tracker.step(frame, int(clock_us[index]),
                                                   float(times[index])))
                    index += 1
                    bar.update(1)
            if not frames_out:
                raise ValueError("the video has no frames")
            results.append({k: np.stack([f[k] for f in frames_out]) for k in frames_out[0]})
    total = len(results[0]["present"])
    if timestamps is not None and total != len(times):
        raise ValueError(f"timestamps has {len(times)} entries but the video has {total} frames")
    out = {k: np.stack([r[k] for r in results]) for k in results[0]}
    squeeze = not source.is_batch
    image_sizes = (np.array(sizes)[None] if source.mixed_sizes is not None
                   else np.broadcast_to(np.array(sizes[0]), (source.batch, total, 2)).copy())
    fields = dict(landmarks=out["landmarks"], world_landmarks=out["world_landmarks"],
                  pose_present=out["present"], rois=out["rois"],
                  timestamps=np.broadcast_to(times[:total], (source.batch, total)).copy(),
                  image_sizes=image_sizes)
    if squeeze:
        fields = {k: v[0] for k, v in fields.items()}
    names = source.names if (squeeze and source.names) else None
    return PoseTrack(fps=out_fps, model_complexity=config.model_complexity, video_names=names,
                     individuals=individual_names(tracker.num_poses), **fields)


def _track_mixed_sizes(pipeline, source, config, fps, timestamps, progress) -> PoseTrack:
    arrays = source.mixed_sizes
    n = len(arrays)
    _, times, out_fps = _clocks(n, fps, timestamps, None)
    groups: dict[tuple, list[int]] = {}
    for i, a in enumerate(arrays):
        groups.setdefault(a.shape, []).append(i)
    landmarks = np.full((n, NUM_LANDMARKS, 5), np.nan, np.float32)
    world = np.full((n, NUM_LANDMARKS, 4), np.nan, np.float32)
    present = np.zeros(n, bool)
    rois = np.full((n, 5), np.nan, np.float32)
    masks = [None] * n
    with tqdm(total=n, unit="image", disable=not progress, desc="posejax.track") as bar:
        for index in groups.values():
            out = run_images(pipeline, np.stack([arrays[i] for i in index]))
            landmarks[index] = out["landmarks"]
            world[index] = out["world_landmarks"]
            present[index] = out["present"]
            rois[index] = out["rois"]
            if out.get("mask") is not None:
                for j, i in enumerate(index):
                    masks[i] = out["mask"][j]
            bar.update(len(index))
    sizes = np.array([a.shape[:2] for a in arrays])
    return PoseTrack(landmarks=landmarks, world_landmarks=world, pose_present=present, rois=rois,
                     timestamps=times, image_sizes=sizes, fps=out_fps,
                     segmentation_mask=masks if config.enable_segmentation else None,
                     model_complexity=config.model_complexity)
