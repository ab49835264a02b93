"""Stand-in for ``mediapipe.Image`` and ``mediapipe.ImageFormat`` (mediapipe 0.10.21).

Reached as ``posejax.Image`` and ``posejax.ImageFormat``, where MediaPipe has them (``mp.Image``),
so ``import posejax as mp`` keeps Tasks code running. An :class:`Image` holds a copy of the pixels
(as MediaPipe's does) and gives them back read-only through :meth:`Image.numpy_view`.

Formats: ``SRGB`` (uint8 ``(H, W, 3)``), ``SRGBA`` (uint8 ``(H, W, 4)``), ``GRAY8`` (uint8
``(H, W)`` or ``(H, W, 1)``) and ``VEC32F1`` (float32 ``(H, W)``, what segmentation masks are).
MediaPipe's other formats (16-bit, YCbCr, ...) are refused with a ValueError.
"""

from __future__ import annotations

import enum
import os

import imageio.v3 as iio
import numpy as np

__all__ = ["Image", "ImageFormat"]


class ImageFormat(enum.IntEnum):
    """Pixel formats, with the numbers of MediaPipe's ``ImageFormat.Format``."""

    UNKNOWN = 0
    SRGB = 1
    SRGBA = 2
    GRAY8 = 3
    GRAY16 = 4
    YCBCR420P = 5
    YCBCR420P10 = 6
    SRGB48 = 7
    SRGBA64 = 8
    VEC32F1 = 9
    LAB8 = 10
    SBGRA = 11
    VEC32F2 = 12


#: format -> (dtype, channels); channels 1 is stored as (H, W)
_SUPPORTED = {ImageFormat.SRGB: (np.uint8, 3), ImageFormat.SRGBA: (np.uint8, 4),
              ImageFormat.GRAY8: (np.uint8, 1), ImageFormat.VEC32F1: (np.float32, 1)}


class Image:
    """An image and its format, as ``mediapipe.Image``.

    Parameters
    ----------
    image_format : ImageFormat
        ``SRGB``, ``SRGBA``, ``GRAY8`` or ``VEC32F1``.
    data : ndarray
        uint8 ``(H, W, 3)``, ``(H, W, 4)``, ``(H, W)`` / ``(H, W, 1)``, or float32 ``(H, W)``;
        copied.

    Examples
    --------
    >>> import posejax as mp
    >>> image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((48, 64, 3), np.uint8))
    >>> image.width, image.height, image.channels
    (64, 48, 3)
    >>> image.numpy_view().flags.writeable
    False
    """

    def __init__(self, image_format: ImageFormat, data: np.ndarray):
        try:
            image_format = ImageFormat(image_format)
        except ValueError:
            raise ValueError(f"unknown image format {image_format!r}") from None
        if image_format not in _SUPPORTED:
            raise ValueError(f"image format {image_format.name} is not supported by posejax; "
                             f"use one of {', '.join(f.name for f in _SUPPORTED)}")
        if not isinstance(data, np.ndarray):
            raise TypeError(f"data must be a numpy array, got {type(data).__name__}")
        dtype, channels = _SUPPORTED[image_format]
        if data.dtype != dtype:
            raise ValueError(f"{image_format.name} data must be {np.dtype(dtype).name}, got "
                             f"{data.dtype}")
        if channels == 1 and data.ndim == 3 and data.shape[2] == 1:
            data = data[:, :, 0]
        expected = (2,) if channels == 1 else (3,)
        if data.ndim not in expected or (channels > 1 and data.shape[2] != channels):
            wanted = "(H, W)" if channels == 1 else f"(H, W, {channels})"
            raise ValueError(f"{image_format.name} data must have shape {wanted}, got "
                             f"{data.shape}")
        if 0 in data.shape:
            raise ValueError(f"image is empty (shape {data.shape})")
        self._format = image_format
        self._data = np.array(data, order="C", copy=True)
        self._data.flags.writeable = False

    @classmethod
    def create_from_file(cls, file_name: str | os.PathLike) -> Image:
        """Decode an image file: SRGB, SRGBA (with alpha) or GRAY8 as the file holds it.

        Example
        -------
        >>> Image.create_from_file("photo.jpg").image_format       # doctest: +SKIP
        <ImageFormat.SRGB: 1>
        """
        data = np.asarray(iio.imread(file_name))
        if data.dtype != np.uint8:
            raise ValueError(f"{file_name}: only 8-bit images are supported, got {data.dtype}")
        if data.ndim == 2 or (data.ndim == 3 and data.shape[2] == 1):
            return cls(ImageFormat.GRAY8, data)
        if data.ndim == 3 and data.shape[2] == 4:
            return cls(ImageFormat.SRGBA, data)
        if data.ndim == 3 and data.shape[2] == 3:
            return cls(ImageFormat.SRGB, data)
        raise ValueError(f"{file_name}: unsupported image shape {data.shape}")

    @property
    def image_format(self) -> ImageFormat:
        """The pixel format."""
        return self._format

    @property
    def width(self) -> int:
        """Columns of pixels."""
        return int(self._data.shape[1])

    @property
    def height(self) -> int:
        """Rows of pixels."""
        return int(self._data.shape[0])

    @property
    def channels(self) -> int:
        """Values per pixel (1 for GRAY8 and VEC32F1)."""
        return 1 if self._data.ndim == 2 else int(self._data.shape[2])

    def numpy_view(self) -> np.ndarray:
        """The pixels, read-only (copy it to change it)."""
        return self._data

    def is_empty(self) -> bool:
        """Whether the image holds no pixel (never, for an image posejax built)."""
        return self._data.size == 0

    def uses_gpu(self) -> bool:
        """Always False: the pixels are a NumPy array."""
        return False

    def rgb(self) -> np.ndarray:
        """The pixels as uint8 RGB ``(H, W, 3)``: alpha dropped, gray repeated (posejax only)."""
        if self._format == ImageFormat.SRGB:
            return self._data
        if self._format == ImageFormat.SRGBA:
            return np.ascontiguousarray(self._data[:, :, :3])
        if self._format == ImageFormat.GRAY8:
            return np.repeat(self._data[:, :, None], 3, axis=2)
        raise ValueError(f"a {self._format.name} image cannot be read as RGB")

    def __repr__(self) -> str:
        return (f"Image(image_format=ImageFormat.{self._format.name}, "
                f"width={self.width}, height={self.height})")
