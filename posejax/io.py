"""Files in and out: videos and images (imageio with the PyAV plugin), landmark tables.

Frames are ``uint8`` RGB arrays ``(H, W, 3)``; videos come as chunks ``(n, H, W, 3)`` so that
memory does not grow with the length of the video (:func:`read_video`, :class:`VideoWriter`).
Landmarks go to CSV, Parquet or DeepLabCut-compatible HDF5 and come back exactly
(:func:`write_landmarks`, :func:`read_landmarks`, :func:`read_track`), or to the ``movement``
package's xarray layout (:func:`to_xarray`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

#: Suffixes read as still images by :func:`read_image` (and by the CLI).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})


def _existing_file(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a file")
    if path.stat().st_size == 0:
        raise ValueError(f"{str(path)!r} is empty (0 bytes)")
    return path


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
    import imageio.v3 as iio

    path = _existing_file(path)
    try:
        # rotate=True applies the EXIF orientation, as cv2.imread does for MediaPipe's users.
        image = iio.imread(path, index=0, plugin="pillow", rotate=True)
    except Exception as error:  # imageio raises OSError, ValueError, or the plugin's own
        raise ValueError(f"cannot read {str(path)!r} as an image: {error}") from error
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"{str(path)!r} is not a still image (array of shape {image.shape})")
    return _to_rgb(image, path)


class VideoReader:
    """A video file read lazily as chunks of RGB frames; iterate it as many times as needed.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    fps : float
        Frame rate the container reports (its guessed rate).
    n_frames : int or None
        Number of frames. Counted exactly from the container's packets when it opens (cheap: no
        decoding); set to the decoded count after a full pass if that differs.
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
    """

    def __init__(self, path, chunk_size: int = 64):
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
            raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.path = _existing_file(path)
        self.chunk_size = int(chunk_size)
        import av

        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise ValueError(f"{str(self.path)!r} has no video stream")
                stream = container.streams.video[0]
                self.codec = stream.codec_context.name
                rate = stream.guessed_rate or stream.average_rate
                self.fps = float(rate) if rate else float("nan")
                # The container's frame count can be wrong (Cinepak AVIs count empty packets),
                # so count the packets that carry data; demuxing does not decode.
                self.n_frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
            if self.n_frames == 0:
                raise ValueError(f"{str(self.path)!r} has no video frames")
            with av.open(str(self.path)) as container:
                first = next(container.decode(video=0), None)
        except av.EOFError:
            first = None
        except av.FFmpegError as error:
            raise ValueError(f"cannot read {str(self.path)!r} as a video: {error}") from error
        if first is None:
            raise ValueError(f"{str(self.path)!r} has no video frames that can be decoded")
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

    def _frames(self) -> Iterator[np.ndarray]:
        import av
        import imageio.v3 as iio

        index = 0
        try:
            with iio.imopen(self.path, "r", plugin="pyav") as video:
                for frame in video.iter(format="rgb24"):
                    frame = _to_rgb(np.asarray(frame), self.path)
                    if self.rotation:
                        frame = np.ascontiguousarray(np.rot90(frame, self.rotation // 90))
                    yield frame
                    index += 1
        except (av.FFmpegError, OSError) as error:
            raise ValueError(
                f"cannot decode {str(self.path)!r} after {index} frames: {error}"
            ) from error

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield ``uint8`` chunks ``(n, H, W, 3)`` with ``n <= chunk_size``."""
        return self.iter_chunks(self.chunk_size)

    def iter_chunks(self, chunk_size: int) -> Iterator[np.ndarray]:
        """Yield ``uint8`` chunks ``(n, H, W, 3)`` of ``chunk_size`` frames (the last may be fewer).

        Example
        -------
        >>> for chunk in read_video("squats.mp4").iter_chunks(16):  # doctest: +SKIP
        ...     assert len(chunk) <= 16
        """
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
            raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        chunk = np.empty((chunk_size, self.height, self.width, 3), np.uint8)
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
                yield chunk.copy()
                count = 0
        if count:
            yield chunk[:count].copy()
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
        Iterable of ``uint8`` chunks ``(n, H, W, 3)``, with ``fps``, ``n_frames``, ``height``,
        ``width`` and ``path`` attributes. Each iteration decodes the file again from the start.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is empty, corrupt, not a video, or has no frames.

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
    ``(n, H, W, 3)``. Odd frame sizes are padded by one black row or column because H.264 in
    yuv420p needs even sizes.

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

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _open(self, height: int, width: int) -> None:
        import imageio.v3 as iio

        self._size = (height, width)
        try:
            self._file = iio.imopen(self.path, "w", plugin="pyav")
        except OSError as error:
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
        """Flush the encoder and close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


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
    with VideoWriter(path, fps, **kwargs) as writer:
        if isinstance(frames, np.ndarray):
            writer.write(frames)
        else:
            for item in frames:
                writer.write(item)
    if writer.n_frames == 0:
        raise ValueError(f"no frames were given for {str(path)!r}")
    return writer.path


# -- landmark files -------------------------------------------------------------------------------

#: Suffixes :func:`write_landmarks` understands, and the layouts each can hold.
LANDMARK_FORMATS = {
    ".csv": ("long", "wide", "dlc"),
    ".parquet": ("long", "wide"),
    ".pq": ("long", "wide"),
    ".h5": ("dlc",),
    ".hdf5": ("dlc",),
}
_CSV_MARK = "# posejax "
_H5_KEY = "df_with_missing"  # the key DeepLabCut writes and its readers look for
_H5_GROUP = "posejax"
_TRACK_ARRAYS = (
    "landmarks", "world_landmarks", "pose_present", "rois", "timestamps", "image_sizes",
)  # fmt: skip


def _json_default(value):
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a landmark file's metadata")


def _json_object_hook(value: dict):
    if "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value["dtype"])
    return value


def _dumps(meta: dict) -> str:
    import json

    return json.dumps(meta, default=_json_default, separators=(",", ":"))


def _loads(text: str) -> dict:
    import json

    return json.loads(text, object_hook=_json_object_hook)


def _restore_attrs(attrs: dict) -> dict:
    if isinstance(attrs.get("image_size"), list):
        attrs["image_size"] = tuple(attrs["image_size"])
    return attrs


def _landmark_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in LANDMARK_FORMATS:
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its suffix; use one of "
            f"{', '.join(LANDMARK_FORMATS)}"
        )
    return suffix


def _as_table(data, layout: str | None, units: str, scorer: str | None):
    """``(DataFrame, PoseTrack or None)`` for a track or a pose DataFrame."""
    import pandas as pd

    from posejax import frames
    from posejax.track import PoseTrack

    if isinstance(data, PoseTrack):
        return frames.track_to_dataframe(
            data, layout=layout or "long", units=units, scorer=scorer
        ), data
    if isinstance(data, pd.DataFrame):
        if layout is not None and layout != frames.detect_layout(data):
            data = frames.convert_layout(data, layout, scorer=scorer)
        return data, None
    raise TypeError(f"expected a PoseTrack or a pose DataFrame, got {type(data).__name__}")


def write_landmarks(
    data, path, *, layout: str | None = None, units: str = "normalized", scorer: str | None = None
) -> Path:
    """Save landmarks to CSV, Parquet or DeepLabCut HDF5, chosen by the file's suffix.

    Parameters
    ----------
    data : PoseTrack or pandas.DataFrame
        A track, or a pose table from :meth:`PoseTrack.to_dataframe` (any layout).
    path : str or os.PathLike
        ``.csv``: long (default), wide or ``dlc`` layout; long and wide files start with one
        ``# posejax {...}`` line holding ``df.attrs`` as JSON, so :func:`read_landmarks` restores
        the table exactly (``pd.read_csv(path, comment="#")`` reads a long file too).
        ``.parquet``: long (default) or wide, attrs in the file's metadata (needs ``pyarrow``).
        ``.h5``: a DeepLabCut table (key ``df_with_missing``: pixel x, y, likelihood, which
        DeepLabCut and ``movement`` read) plus every posejax array in the group ``/posejax``,
        so the track comes back exactly (needs ``tables``; one video per file).
    layout : {"long", "wide", "dlc"}, optional
        Layout for CSV and Parquet (default: long for a track, the table's own for a DataFrame).
    units : {"normalized", "px"}
        Coordinates written for a track (see :func:`posejax.frames.track_to_dataframe`).
    scorer : str, optional
        Scorer level of wide and DeepLabCut tables.

    Returns
    -------
    pathlib.Path

    Example
    -------
    >>> write_landmarks(track, "poses.parquet")  # doctest: +SKIP
    >>> write_landmarks(track, "poses.h5")  # DeepLabCut-compatible  # doctest: +SKIP
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    suffix = _landmark_suffix(path)
    if layout is not None and layout not in LANDMARK_FORMATS[suffix]:
        raise ValueError(
            f"{suffix} files hold the layouts {LANDMARK_FORMATS[suffix]}, not {layout!r}"
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist")
    if suffix in (".h5", ".hdf5"):
        _write_h5(data, path, units, scorer)
    elif suffix == ".csv":
        df, _ = _as_table(data, layout, units, scorer)
        _write_csv(df, path)
    else:
        df, _ = _as_table(data, layout, units, scorer)
        _write_parquet(df, path)
    return path


def _write_csv(df, path: Path) -> None:
    import pandas as pd

    from posejax import frames

    layout = frames.detect_layout(df)
    with open(path, "w", newline="") as file:
        if layout != "dlc":  # DeepLabCut's readers expect the header on the first line
            meta = {
                "layout": layout,
                "index_levels": df.index.nlevels,
                "dtypes": [str(dtype) for dtype in df.dtypes],
                "attrs": df.attrs,
            }
            video = df["video"] if "video" in df.columns else None
            if video is None and "video" in df.index.names:
                video = pd.Series(df.index.get_level_values("video"))
            if video is not None and isinstance(video.dtype, pd.CategoricalDtype):
                meta["video_categories"] = [str(c) for c in video.cat.categories]
            file.write(_CSV_MARK + _dumps(meta) + "\n")
        df.to_csv(file, index=layout != "long")


def _write_parquet(df, path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ImportError("Parquet files need pyarrow: pip install 'posejax[parquet]'") from error
    from posejax import frames

    layout = frames.detect_layout(df)
    plain = df.copy()
    plain.attrs = {}
    if layout == "wide":  # Parquet column names are strings; the levels are rebuilt on reading
        names = list(plain.columns.names)
        plain.columns = ["|".join(map(str, c)) for c in plain.columns]
    else:
        names = None
    table = pa.Table.from_pandas(plain, preserve_index=layout != "long")
    meta = {"layout": layout, "column_names": names, "attrs": df.attrs}
    metadata = {**(table.schema.metadata or {}), b"posejax": _dumps(meta).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)


def _write_h5(data, path: Path, units: str, scorer: str | None) -> None:
    try:
        import tables
    except ImportError as error:
        raise ImportError("HDF5 files need PyTables: pip install 'posejax[h5]'") from error
    import pandas as pd

    from posejax import frames
    from posejax.track import PoseTrack

    if isinstance(data, pd.DataFrame):
        data = frames.track_from_dataframe(data)
    if not isinstance(data, PoseTrack):
        raise TypeError(f"expected a PoseTrack or a pose DataFrame, got {type(data).__name__}")
    if data.is_batch:
        raise ValueError(
            f"{str(path)!r}: a DeepLabCut .h5 file holds one video; pass track.video(i)"
        )
    dlc = frames.track_to_dataframe(data, layout="dlc", scorer=scorer)
    plain = dlc.copy()
    plain.attrs = {}
    plain.to_hdf(path, key=_H5_KEY, mode="w", format="table")
    meta = {
        "fps": float(data.fps),
        "model_complexity": int(data.model_complexity),
        "video_names": None if data.video_names is None else list(data.video_names),
        "units": units,
        "scorer": dlc.columns.get_level_values(0)[0],
    }
    # pandas lists only groups it wrote, so these arrays stay invisible to DeepLabCut's readers.
    with tables.open_file(path, "a") as h5:
        group = h5.create_group("/", _H5_GROUP)
        for name in _TRACK_ARRAYS:
            h5.create_array(group, name, np.ascontiguousarray(getattr(data, name)))
        group._v_attrs.meta = _dumps(meta)


def read_landmarks(path):
    """Read a landmark file written by :func:`write_landmarks` (or by DeepLabCut).

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``, ``.parquet`` or ``.h5``.

    Returns
    -------
    pandas.DataFrame
        The table as written, with its ``attrs``. A posejax ``.h5`` file comes back as the wide
        layout (every coordinate, exactly); a DeepLabCut file as its own table, without attrs.

    Example
    -------
    >>> df = read_landmarks("poses.csv")  # doctest: +SKIP
    >>> df.pose.angle("left_knee")  # doctest: +SKIP
    """
    path = _existing_file(path)
    suffix = _landmark_suffix(path)
    if suffix in (".h5", ".hdf5"):
        track, dlc = _read_h5(path)
        if track is None:
            return dlc
        return track.to_dataframe("wide", units=dlc.attrs.get("units", "normalized"))
    if suffix == ".csv":
        return _read_csv(path)
    return _read_parquet(path)


def read_track(path, *, fps: float | None = None, image_size=None):
    """Read a landmark file back into a :class:`~posejax.track.PoseTrack`.

    Parameters
    ----------
    path : str or os.PathLike
        A file from :func:`write_landmarks`, or a DeepLabCut ``.h5``/``.csv`` file.
    fps, image_size : optional
        Needed only for files that do not carry them (DeepLabCut's own).

    Example
    -------
    >>> track = read_track("poses.h5")  # doctest: +SKIP
    """
    from posejax import frames

    path = _existing_file(path)
    if _landmark_suffix(path) in (".h5", ".hdf5"):
        track, dlc = _read_h5(path)
        if track is not None:
            return track
        return frames.track_from_dataframe(dlc, fps=fps, image_size=image_size)
    return frames.track_from_dataframe(read_landmarks(path), fps=fps, image_size=image_size)


def _read_csv(path: Path):
    import pandas as pd

    from posejax import frames

    with open(path) as file:
        first = file.readline()
    if first.startswith(_CSV_MARK):
        meta = _loads(first[len(_CSV_MARK) :])
        numeric = [
            dtype if dtype.startswith(("float", "int")) else None for dtype in meta["dtypes"]
        ]
        if meta["layout"] == "long":
            header = pd.read_csv(path, skiprows=1, nrows=0).columns
            dtypes = {name: dtype for name, dtype in zip(header, numeric, strict=True) if dtype}
            if "video" in header:
                dtypes["video"] = str
            df = pd.read_csv(path, skiprows=1, dtype=dtypes)
            df["landmark"] = df["landmark"].astype(frames.landmark_dtype())
            if "video" in df.columns:
                categories = meta.get("video_categories") or sorted(df["video"].unique())
                df["video"] = pd.Categorical(df["video"], categories=categories)
        else:
            levels = meta["index_levels"]
            df = pd.read_csv(path, skiprows=1, header=[0, 1], index_col=list(range(levels)))
            for position, dtype in enumerate(numeric):
                if dtype and df.dtypes.iloc[position] != dtype:
                    df.isetitem(position, df.iloc[:, position].astype(dtype))
            if "video" in df.index.names and meta.get("video_categories"):
                levels = [df.index.get_level_values(name) for name in df.index.names]
                position = df.index.names.index("video")
                levels[position] = pd.Categorical(
                    levels[position].astype(str), categories=meta["video_categories"]
                )
                df.index = pd.MultiIndex.from_arrays(levels, names=df.index.names)
        df.attrs = _restore_attrs(meta["attrs"])
        return df
    if first.split(",")[0].strip() == "scorer":
        return pd.read_csv(path, header=[0, 1, 2], index_col=0)
    df = pd.read_csv(path)
    frames.detect_layout(df)  # a clear error for a CSV that is not a pose table
    return df


def _read_parquet(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ImportError("Parquet files need pyarrow: pip install 'posejax[parquet]'") from error
    import pandas as pd

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(b"posejax")
    df = table.to_pandas()
    if raw is None:
        return df
    meta = _loads(raw.decode())
    if meta["layout"] == "wide":
        tuples = [tuple(c.split("|")) for c in df.columns]
        df.columns = pd.MultiIndex.from_tuples(tuples, names=meta["column_names"])
    df.attrs = _restore_attrs(meta["attrs"])
    return df


def _read_h5(path: Path):
    """``(PoseTrack or None, DeepLabCut table)`` of an HDF5 file."""
    try:
        import tables
    except ImportError as error:
        raise ImportError("HDF5 files need PyTables: pip install 'posejax[h5]'") from error
    import pandas as pd

    from posejax.track import PoseTrack

    try:
        dlc = pd.read_hdf(path, key=_H5_KEY)
    except (KeyError, ValueError, OSError, tables.HDF5ExtError) as error:
        try:
            dlc = pd.read_hdf(path)
        except Exception:
            raise ValueError(
                f"{str(path)!r} is not a DeepLabCut/posejax HDF5 file: {error}"
            ) from None
    with tables.open_file(path, "r") as h5:
        if f"/{_H5_GROUP}" not in h5:
            return None, dlc
        group = h5.get_node(f"/{_H5_GROUP}")
        arrays = {name: group[name].read() for name in _TRACK_ARRAYS}
        meta = _loads(group._v_attrs.meta)
    names = meta["video_names"]
    track = PoseTrack(
        **arrays,
        fps=meta["fps"],
        model_complexity=meta["model_complexity"],
        video_names=None if names is None else tuple(names),
    )
    dlc.attrs = {"units": meta.get("units", "normalized")}
    return track, dlc


# -- xarray (the movement package's layout) -------------------------------------------------------


def to_xarray(data, space: str = "image"):
    """Landmarks as an xarray Dataset in the layout of the ``movement`` package.

    Parameters
    ----------
    data : PoseTrack or pandas.DataFrame
        One video (a track or a pose table in any layout).
    space : {"image", "world"}
        ``image``: pixel ``x, y`` with ``visibility`` as confidence. ``world``: ``x, y, z`` in
        metres with the world landmarks' visibility.

    Returns
    -------
    xarray.Dataset
        ``position`` (time, space, keypoints, individuals) and ``confidence`` (time, keypoints,
        individuals); ``time`` in seconds; one individual, ``individual_0``; attrs ``fps``,
        ``time_unit``, ``source_software``, ``ds_type``.

    Example
    -------
    >>> ds = to_xarray(track)  # doctest: +SKIP
    >>> ds.position.sel(keypoints="left_wrist", space="y").plot()  # doctest: +SKIP
    """
    try:
        import xarray as xr
    except ImportError as error:
        raise ImportError("to_xarray needs xarray: pip install 'posejax[xarray]'") from error
    import pandas as pd

    from posejax import frames
    from posejax.landmarks import LANDMARK_NAMES
    from posejax.track import PoseTrack

    if isinstance(data, PoseTrack):
        if data.is_batch:
            raise ValueError("to_xarray takes one video; pass track.video(i)")
        data = frames.track_to_dataframe(data, layout="wide")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"expected a PoseTrack or a pose DataFrame, got {type(data).__name__}")
    table = frames._parse(data)
    if table.videos is not None and len(np.unique(table.videos)) > 1:
        raise ValueError("to_xarray takes one video; select one from the batch first")
    rows = next(table.groups())
    points = table.points(space)[rows]
    if space == "image":
        axes = ["x", "y"]
        confidence = table.coord("visibility")[rows]
    else:
        axes = ["x", "y", "z"]
        confidence = table.values.get("world_visibility", table.coord("visibility"))[rows]
    fps = table.attrs.get("fps")
    return xr.Dataset(
        data_vars={
            "position": (
                ("time", "space", "keypoints", "individuals"),
                points.transpose(0, 2, 1)[..., None].astype(np.float64),
            ),
            "confidence": (
                ("time", "keypoints", "individuals"),
                np.asarray(confidence, np.float64)[..., None],
            ),
        },
        coords={
            "time": table.frame_times()[rows],
            "space": axes,
            "keypoints": list(LANDMARK_NAMES),
            "individuals": ["individual_0"],
        },
        attrs={
            "fps": None if fps is None else float(fps),
            "time_unit": "seconds",
            "source_software": "posejax",
            "source_file": None,
            "ds_type": "poses",
        },
    )
