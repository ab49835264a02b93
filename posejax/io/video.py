"""Videos and images in and out: PyAV to decode videos, imageio to write them and to read images.

Frames are ``uint8`` RGB arrays ``(H, W, 3)``; videos come as chunks ``(n, H, W, 3)`` so that
memory does not grow with the length of the video (:func:`read_video`, :class:`VideoWriter`).
Decoding goes through PyAV itself (the same ``rgb24`` conversion imageio's plugin makes) because
it must see packets and frames, not only pixels: each frame's presentation time, and whether the
file holds everything its container declares (:class:`VideoReader` says what is checked; a file
cut short or damaged raises :class:`VideoDecodeError` instead of decoding as a shorter video).
Nothing here knows about poses: this module sits below :mod:`posejax.track`.

Over the house's 500 lines: the reader and the writer share this module's conventions (RGB
chunks, rotation, all-or-nothing files) and are read together; the container checks live apart
in :mod:`posejax.io._container_checks`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import imageio.v3 as iio
import numpy as np

from posejax.io import _container_checks as checks
from posejax.io._atomic import commit, discard, temporary_name
from posejax.io._paths import existing_file, refuse_input_as_output

#: Suffixes read as still images by :func:`read_image` (and by the CLI).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})


def _to_rgb(frame: np.ndarray, path: Path) -> np.ndarray:
    """Grey, grey+alpha and RGBA frames as RGB (alpha is dropped, as ``cv2.imread`` does)."""
    if frame.dtype != np.uint8:
        raise ValueError(f"{str(path)!r} decodes to {frame.dtype} pixels; only 8-bit is supported")
    if frame.ndim == 2:
        frame = frame[..., None]
    channels = frame.shape[-1]
    if channels in (1, 2):
        return np.repeat(frame[..., :1], 3, axis=-1)
    if channels in (3, 4):
        return np.ascontiguousarray(frame[..., :3])
    raise ValueError(f"{str(path)!r} has frames with {channels} channels")


def read_image(path) -> np.ndarray:
    """Read a still image as ``uint8`` RGB, turned upright by its EXIF orientation.

    Parameters
    ----------
    path : str or os.PathLike
        A JPEG, PNG, BMP, TIFF or WebP file (the first frame of a GIF). Grey images are repeated
        into three channels and an alpha channel is dropped.

    Returns
    -------
    ndarray, uint8, (H, W, 3)

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is empty or not a readable image.

    Example
    -------
    >>> image = read_image("person.jpg")  # doctest: +SKIP
    >>> image.shape  # doctest: +SKIP
    (667, 1000, 3)
    """
    path = existing_file(path)
    try:
        # rotate=True applies the EXIF orientation, as cv2.imread does for MediaPipe's users.
        image = iio.imread(path, index=0, plugin="pillow", rotate=True)
    except Exception as error:  # imageio raises OSError, ValueError, or the plugin's own
        raise ValueError(f"cannot read {str(path)!r} as an image: {error}") from error
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"{str(path)!r} is not a still image (array of shape {image.shape})")
    return _to_rgb(image, path)


class VideoDecodeError(ValueError):
    """A video that stops decoding part-way: truncated, or corrupt after its first frames.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    frames_read : int
        Frames decoded before the error (decoding stopped at frame ``frames_read``, 0-based);
        from :meth:`VideoReader.check`, the frames that decode before the missing data.

    Examples
    --------
    >>> error = VideoDecodeError("cannot decode 'a.mp4' after 11 frames", "a.mp4", 11)
    >>> isinstance(error, ValueError), error.frames_read
    (True, 11)
    """

    def __init__(self, message: str, path, frames_read: int):
        super().__init__(message)
        self.path = Path(path)
        self.frames_read = int(frames_read)



def _release_scaler() -> None:
    """Drop the pixel converter PyAV keeps per thread (as imageio's PyAV plugin does on close).

    Its worker pool outlives the container and can deadlock a later fork.
    """
    thread_local = getattr(av.video.frame, "_thread_local", None)
    if getattr(thread_local, "reformatter", None) is not None:
        del thread_local.reformatter


class VideoReader:
    """A video file read lazily as chunks of RGB frames; iterate it as many times as needed.

    Opening the file reads its packets once without decoding them (cheap): that counts the
    frames, gives each its time, and checks that the file holds everything its container
    declares. A file cut short (a copy that stopped), or one whose middle is lost, raises
    :class:`VideoDecodeError` once decoding reaches the missing part, saying how many frames
    were read, what the container declares and where decoding stopped; so does a frame the
    decoder could only conceal, or a packet that gave no frame. What is compared:

    * MP4/MOV: the frames its index lists with the frames it holds data for;
    * AVI: the frames its header declares with the end of the last packet;
    * Matroska/WebM: the duration it declares (per track, else for the file) with the end of
      the last packet, and a jump in time where the demuxer skipped bytes (a lost cluster);
    * every container: packets the demuxer marks corrupt (cut in the middle).

    Attributes
    ----------
    path : pathlib.Path
        The file.
    fps : float
        Frame rate the container reports (its guessed rate): metadata, not the frames' times.
    n_frames : int or None
        Number of frames. Counted exactly from the container's packets when it opens (cheap: no
        decoding; packets an edit list discards are not frames); raised to the decoded count
        after a full pass in the rare case of more frames than packets (fewer is an error).
    timestamps : ndarray, float64, (n_frames,)
        Time of each frame in seconds, as the container has them (presentation timestamp times
        the stream's time base, read from the packets when the file opens): a stream that starts
        at 10 s starts at 10 s, and variable frame rates are kept. A frame without a timestamp,
        or with one not after the previous frame's, gets the previous time + ``1 / fps``, so
        the times always increase.
    height, width : int
        Frame size in pixels.
    chunk_size : int
        Frames per chunk yielded by iteration (the last chunk may be shorter).
    codec : str
        Name of the video codec.
    rotation : int
        Counter-clockwise quarter turn (0, 90, 180 or 270 degrees) applied to every decoded frame,
        from the stream's display matrix (phone videos), so that frames come out upright.

    Example
    -------
    >>> video = read_video("squats.mp4", chunk_size=32)  # doctest: +SKIP
    >>> for chunk in video:  # doctest: +SKIP
    ...     print(chunk.shape)  # (32, H, W, 3), ..., the rest
    >>> video.timestamps[:3]  # doctest: +SKIP
    array([0.        , 0.03333333, 0.06666667])
    """

    def __init__(self, path, chunk_size: int = 64):
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
            raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.path = existing_file(path)
        self.chunk_size = int(chunk_size)
        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise ValueError(f"{str(self.path)!r} has no video stream")
                stream = container.streams.video[0]
                self.codec = stream.codec_context.name
                rate = stream.guessed_rate or stream.average_rate
                self.fps = float(rate) if rate else float("nan")
                scan = checks.scan_packets(container, stream)
            self.n_frames = len(scan.pts)
            if self.n_frames == 0:
                raise ValueError(f"{str(self.path)!r} has no video frames")
            with av.open(str(self.path)) as container:
                first = checks.first_clean_frame(container)
        except av.EOFError:
            first = None
        except av.FFmpegError as error:
            hint = ""
            if checks.mp4_without_index(self.path):
                hint = (" (an MP4/MOV file whose index was never written: the recording or the "
                        "copy stopped before the end)")
            raise ValueError(
                f"cannot read {str(self.path)!r} as a video: {error}{hint}"
            ) from error
        finally:
            _release_scaler()
        if first is None:
            raise ValueError(f"{str(self.path)!r} has no video frames that can be decoded")
        # A clip cut from a longer video without re-encoding (``ffmpeg -ss ... -c copy``) can
        # start with frames that refer to pictures before the cut: decoders drop or garble
        # them. The video starts at its first cleanly decoded frame; earlier packets are not
        # frames (as an edit list's discarded packets are not).
        self._first_pts = first.pts
        if first.pts is not None:
            checks.drop_leading(scan, first.pts)
            self.n_frames = len(scan.pts)
        self.timestamps = checks.frame_times(scan.pts, scan.time_base, self.fps)
        #: Frame at which the data runs out, and why (None: the file is whole as far as the
        #: container can tell).
        self._gap = checks.missing_data(scan, self.timestamps, self.fps)
        self._declared = checks.declared(scan)
        # Phones store portrait video sideways plus a display matrix; players (and OpenCV) turn
        # it upright, so we do too.
        self.rotation = int(round(first.rotation / 90)) % 4 * 90
        self.height, self.width = int(first.height), int(first.width)
        if self.rotation in (90, 270):
            self.height, self.width = self.width, self.height

    def __repr__(self) -> str:
        return (
            f"VideoReader({str(self.path)!r}, {self.n_frames} frames, {self.width}x{self.height}, "
            f"{self.fps:g} fps)"
        )

    @property
    def shape(self) -> tuple[int | None, int, int, int]:
        """``(n_frames, height, width, 3)``."""
        return (self.n_frames, self.height, self.width, 3)

    @property
    def duration(self) -> float:
        """``n_frames / fps`` in seconds."""
        return self.n_frames / self.fps

    def check(self) -> None:
        """Raise :class:`VideoDecodeError` now if opening the file found data missing.

        Iteration raises the same error once it reaches the missing part; this says so before
        any frame is decoded (what :func:`posejax.track` does, so as not to track a broken
        file). Corruption only the decoder sees is found while decoding.

        Example
        -------
        >>> read_video("cut.mkv").check()  # doctest: +SKIP
        Traceback (most recent call last):
        VideoDecodeError: 'cut.mkv' is truncated or corrupt: 72 frames read of the 5.000 s ...
        """
        if self._gap is not None:
            raise self._error(self._gap[0], self._gap[1])

    def _error(self, index: int, why: str, cause=None) -> VideoDecodeError:
        if index < len(self.timestamps):
            where = f"frame {index} ({self.timestamps[index]:.3f} s)"
        else:
            where = f"frame {index} (after {self.timestamps[-1]:.3f} s)"
        return VideoDecodeError(
            f"{str(self.path)!r} is truncated or corrupt: {index} frames read"
            f"{self._declared}{why}, decoding "
            f"stopped at {where} ({self.path.stat().st_size} bytes)"
            + (f": {' '.join(str(cause).split())}" if cause is not None else ""),
            path=self.path, frames_read=index,
        )

    def _frames(self) -> Iterator[np.ndarray]:
        stop = self._gap[0] if self._gap is not None else None
        index = 0
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "SLICE"
                for frame in container.decode(stream):
                    if checks.before(frame, self._first_pts):
                        continue  # before the first clean frame: see __init__
                    if index == stop:
                        raise self._error(index, self._gap[1])
                    if frame.is_corrupt:
                        # FFmpeg conceals damaged data (grey or smeared blocks) instead of failing.
                        raise self._error(index, "; the decoder could only conceal errors in "
                                                 f"frame {index}")
                    rgb = _to_rgb(frame.to_ndarray(format="rgb24"), self.path)
                    if self.rotation:
                        rgb = np.ascontiguousarray(np.rot90(rgb, self.rotation // 90))
                    yield rgb
                    index += 1
        except (av.FFmpegError, OSError) as error:
            raise self._error(index, "", cause=error) from error
        finally:
            _release_scaler()
        if index == stop:
            raise self._error(index, self._gap[1])
        if index < self.n_frames:
            raise self._error(index, f"; {self.n_frames - index} of its {self.n_frames} "
                                     "packets gave no frame")
        if index > self.n_frames:
            # More frames than packets (a decoder that splits packets): times go on evenly.
            step = 1.0 / self.fps if self.fps > 0 else 1.0 / 30.0
            extra = self.timestamps[-1] + step * np.arange(1, index - self.n_frames + 1)
            self.timestamps = np.concatenate([self.timestamps, extra])
        self.n_frames = index

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield ``uint8`` chunks ``(n, H, W, 3)`` with ``n <= chunk_size``."""
        return self.iter_chunks(self.chunk_size)

    def iter_chunks(self, chunk_size: int, buffers=None) -> Iterator[np.ndarray]:
        """Yield ``uint8`` chunks ``(n, H, W, 3)`` of ``chunk_size`` frames (the last may be fewer).

        Parameters
        ----------
        chunk_size : int
            Frames per chunk.
        buffers : sequence of ndarray, optional
            Arrays ``(chunk_size, H, W, 3)`` uint8 to decode into, taken in turn, instead of a
            new array per chunk: the chunks yielded are (views of) these buffers, so each is
            overwritten ``len(buffers)`` chunks later. Saves a copy of every frame.

        Example
        -------
        >>> for chunk in read_video("squats.mp4").iter_chunks(16):  # doctest: +SKIP
        ...     assert len(chunk) <= 16
        """
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
            raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        shape = (chunk_size, self.height, self.width, 3)
        if buffers is not None and (len(buffers) == 0 or any(
                b.shape != shape or b.dtype != np.uint8 for b in buffers)):
            raise ValueError(f"buffers must be uint8 arrays of shape {shape}")

        def buffer(index: int) -> np.ndarray:
            if buffers is None:
                return np.empty(shape, np.uint8)   # each chunk an array of its own
            return buffers[index % len(buffers)]

        chunks = 0
        chunk = buffer(chunks)
        count = 0
        total = 0
        for frame in self._frames():
            if frame.shape[:2] != (self.height, self.width):
                raise ValueError(
                    f"{str(self.path)!r} changes frame size at frame {total}: "
                    f"{frame.shape[1]}x{frame.shape[0]} after {self.width}x{self.height}"
                )
            chunk[count] = frame
            count += 1
            total += 1
            if count == chunk_size:
                yield chunk
                chunks += 1
                chunk = buffer(chunks)
                count = 0
        if count:
            # A copy of its own holds only the frames there are.
            yield chunk[:count] if buffers is not None else chunk[:count].copy()
        self.n_frames = total

    def frames(self) -> Iterator[np.ndarray]:
        """Yield frames ``(H, W, 3)`` one at a time.

        Example
        -------
        >>> first = next(read_video("squats.mp4").frames())  # doctest: +SKIP
        """
        for chunk in self:
            yield from chunk

    def read(self) -> np.ndarray:
        """All frames as one array ``(T, H, W, 3)`` (only for clips that fit in memory).

        Example
        -------
        >>> frames = read_video("clip.mp4").read()  # doctest: +SKIP
        """
        chunks = list(self)
        return np.concatenate(chunks) if chunks else np.empty((0, self.height, self.width, 3))


def read_video(path, chunk_size: int = 64) -> VideoReader:
    """Open a video for streamed reading as chunks of RGB frames.

    Parameters
    ----------
    path : str or os.PathLike
        Any container and codec FFmpeg (PyAV) decodes: MP4, MOV, AVI, MKV, WebM, animated GIF...
        Grey and RGBA videos are converted to RGB.
    chunk_size : int, default 64
        Frames per chunk.

    Returns
    -------
    VideoReader
        Iterable of ``uint8`` chunks ``(n, H, W, 3)``, with ``fps``, ``n_frames``,
        ``timestamps`` (seconds of each frame), ``height``, ``width`` and ``path`` attributes.
        Each iteration decodes the file again from the start.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    TypeError
        If ``path`` is bytes (pass ``os.fsdecode(path)``) or not a path.
    ValueError
        If the file is empty, corrupt, not a video, or has no frames.
    VideoDecodeError
        While iterating (or from :meth:`VideoReader.check`), if the file is truncated or has
        data missing or damaged: see :class:`VideoReader`.

    Example
    -------
    >>> video = read_video("squats.mp4")  # doctest: +SKIP
    >>> video.fps, video.n_frames, video.height, video.width  # doctest: +SKIP
    (30.0, 65, 1280, 720)
    >>> n = sum(len(chunk) for chunk in video)  # doctest: +SKIP
    """
    return VideoReader(path, chunk_size=chunk_size)


class VideoWriter:
    """Write RGB frames to a video file as they come (H.264 in MP4 by default).

    Use as a context manager; :meth:`write` takes a frame ``(H, W, 3)`` or a chunk
    ``(n, H, W, 3)``. The video is written under a hidden temporary name and renamed to ``path``
    when the writer closes: if the block ends with an error (or Ctrl-C), nothing appears at
    ``path`` and an earlier file there is kept. Odd frame sizes are padded by one black row or
    column because H.264 in yuv420p needs even sizes.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; its suffix picks the container (``.mp4``, ``.mkv``, ``.avi``, ...).
    fps : float
        Frame rate.
    codec : str, default "libx264"

    Example
    -------
    >>> with VideoWriter("out.mp4", fps=30) as writer:  # doctest: +SKIP
    ...     for chunk in read_video("in.mp4"):
    ...         writer.write(chunk)
    """

    def __init__(self, path, fps: float, codec: str = "libx264"):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps}")
        self.path = Path(path)
        if not self.path.suffix:
            raise ValueError(f"{str(self.path)!r} needs a suffix such as .mp4 to pick a container")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"folder {str(self.path.parent)!r} does not exist")
        self.fps = fps
        self.codec = codec
        self.n_frames = 0
        self._file = None
        self._size = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()

    def _open(self, height: int, width: int) -> None:
        self._size = (height, width)
        # Frames go to a hidden temporary file until close(): an interrupted or failed write
        # never leaves a short, playable video under the final name.
        self._temporary = temporary_name(self.path)
        try:
            self._file = iio.imopen(self._temporary, "w", plugin="pyav")
        except OSError as error:
            discard(self._temporary)
            raise ValueError(f"cannot write a video to {str(self.path)!r}: {error}") from error

    def write(self, frames: np.ndarray) -> None:
        """Append a frame ``(H, W, 3)`` or a chunk ``(n, H, W, 3)`` of ``uint8`` RGB."""
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected frames (H, W, 3) or (n, H, W, 3), got {frames.shape}")
        if frames.dtype != np.uint8:
            raise TypeError(f"frames must be uint8, got {frames.dtype}")
        if self._file is None:
            self._open(*frames.shape[1:3])
        if frames.shape[1:3] != self._size:
            raise ValueError(f"frame size {frames.shape[1:3]} differs from the first {self._size}")
        height, width = self._size
        pad = ((0, 0), (0, height % 2), (0, width % 2), (0, 0))
        if height % 2 or width % 2:
            frames = np.pad(frames, pad)
        self._file.write(
            np.ascontiguousarray(frames), codec=self.codec, fps=self.fps, out_pixel_format="yuv420p"
        )
        self.n_frames += len(frames)

    def close(self) -> None:
        """Flush the encoder, close the file and give it its final name."""
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            file.close()
            commit(self._temporary, self.path)
        except BaseException:
            discard(self._temporary)
            raise

    def discard(self) -> None:
        """Stop writing and remove what was written; a file already at ``path`` stays as it was."""
        if self._file is None:
            return
        file, self._file = self._file, None
        with contextlib.suppress(Exception):
            file.close()
        discard(self._temporary)


def write_video(path, frames: np.ndarray | Iterable[np.ndarray], fps: float, **kwargs) -> Path:
    """Write RGB frames to a video file.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.mp4`` gives H.264 in MP4).
    frames : ndarray (T, H, W, 3) or iterable of frames or chunks
        ``uint8`` RGB; an iterable (e.g. a :class:`VideoReader`) is written as it comes.
    fps : float
        Frame rate.
    **kwargs
        ``codec``, passed to :class:`VideoWriter`.

    Returns
    -------
    pathlib.Path

    Example
    -------
    >>> frames = np.zeros((10, 64, 64, 3), np.uint8)
    >>> write_video("black.mp4", frames, fps=10)  # doctest: +SKIP
    """
    if isinstance(frames, VideoReader):
        refuse_input_as_output(path, [frames.path], "the output video")
    with VideoWriter(path, fps, **kwargs) as writer:
        if isinstance(frames, np.ndarray):
            writer.write(frames)
        else:
            for item in frames:
                writer.write(item)
    if writer.n_frames == 0:
        raise ValueError(f"no frames were given for {str(path)!r}")
    return writer.path
