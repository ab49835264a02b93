"""The result of pose tracking, :class:`PoseTrack`: NumPy arrays of landmarks frame by frame.

The bottom of the upper floor: it imports only NumPy and :mod:`posejax.landmarks`, so everything
that reads or writes tracks (tables, files, drawing, classify) can depend on it, and it on none
of them.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from posejax.landmarks import NUM_LANDMARKS


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class PoseTrack:
    """Pose landmarks of one video (or a batch of videos), frame by frame.

    Every array has the same leading shape: ``(T,)`` for one video, ``(B, T)`` for a batch of
    ``B`` videos of ``T`` frames each. Rows of frames without a pose are NaN.

    A track of several people (``posejax.track(..., num_poses=N)``) has :attr:`individuals`, one
    name per slot, and its per-person arrays (``landmarks``, ``world_landmarks``,
    ``pose_present``, ``rois``) an axis of ``N`` after the frames: ``(T, N, 33, 5)``. Slot ``k``
    is one person for the whole video; :meth:`individual` gives that person's one-person track.

    Attributes
    ----------
    landmarks : ndarray, float32, (..., T, 33, 5)
        ``x, y, z, visibility, presence``. ``x`` and ``y`` are normalized by the frame width and
        height (may fall outside [0, 1]); ``z`` is on the scale of ``x`` (negative = nearer the
        camera, origin at the hips).
    world_landmarks : ndarray, float32, (..., T, 33, 4)
        ``x, y, z`` in metres with the origin between the hips, and ``visibility``.
    pose_present : ndarray, bool, (..., T)
        Whether a pose passed the detection and tracking gates on that frame.
    rois : ndarray, float32, (..., T, 5)
        The region the landmark network looked at: ``x_center, y_center, width, height``
        (normalized) and ``rotation`` (radians, clockwise on screen). NaN where no pose.
    timestamps : ndarray, float64, (..., T)
        Frame times in seconds.
    image_sizes : ndarray, int, (..., T, 2)
        ``(height, width)`` of every frame (frames of one video share one size; a list of still
        images may have several).
    fps : float
        Frames per second used for the smoothing filters and the ``time`` column.
    segmentation_mask : ndarray, float32, (..., T, H, W), or list of (H, W) arrays, or None
        Person probability per pixel when segmentation was enabled; a list when the frames have
        different sizes; NaN on frames without a pose.
    model_complexity : int
        0 (lite), 1 (full) or 2 (heavy).
    video_names : tuple of str, optional
        One name per video of a batch (used as the ``video`` column of DataFrames).
    individuals : tuple of str, optional
        One name per person slot of a multi-person track (the ``individual`` column of
        DataFrames); None for a one-person track, whose arrays have no person axis.
    individual_name : str, optional
        Whose pose a one-person track holds when it was taken out of a multi-person one
        (:meth:`individual`); its tables keep that name in their ``individual`` column.
    frame_numbers : ndarray, int, (T,), optional
        The video's number of each frame, for a track of some of its frames (``track[10:20]``);
        None for frames ``0 .. T-1``. The ``frame`` column of DataFrames.

    Indexing selects frames (see :meth:`__getitem__`): ``track[10:20]`` is a track of 10
    frames, of every video of a batch; :meth:`video` picks one video of a batch.
    """

    landmarks: np.ndarray
    world_landmarks: np.ndarray
    pose_present: np.ndarray
    rois: np.ndarray
    timestamps: np.ndarray
    image_sizes: np.ndarray
    fps: float
    segmentation_mask: np.ndarray | list | None = None
    model_complexity: int = 1
    video_names: tuple[str, ...] | None = None
    frame_numbers: np.ndarray | None = None
    individuals: tuple[str, ...] | None = None
    individual_name: str | None = None

    def __post_init__(self):
        lead = np.shape(self.timestamps)
        person = lead if self.individuals is None else lead + (len(self.individuals),)
        checks = {
            "landmarks": (self.landmarks, person + (NUM_LANDMARKS, 5)),
            "world_landmarks": (self.world_landmarks, person + (NUM_LANDMARKS, 4)),
            "pose_present": (self.pose_present, person),
            "rois": (self.rois, person + (5,)),
            "image_sizes": (self.image_sizes, lead + (2,)),
        }
        for name, (array, shape) in checks.items():
            if np.shape(array) != shape:
                raise ValueError(f"PoseTrack.{name} has shape {np.shape(array)}, expected {shape}")
        if len(lead) not in (1, 2):
            raise ValueError(f"PoseTrack arrays must lead with (T,) or (B, T), got {lead}")
        if self.individuals is not None:
            if len(set(self.individuals)) != len(self.individuals) or not self.individuals:
                raise ValueError(f"PoseTrack.individuals must be distinct names, got "
                                 f"{self.individuals}")
            if self.individual_name is not None:
                raise ValueError("individual_name is for one-person tracks; a multi-person "
                                 "track names its slots in individuals")
        if self.video_names is not None and len(self.video_names) != self.batch_size:
            raise ValueError(f"{len(self.video_names)} video_names for {self.batch_size} videos")
        if self.frame_numbers is not None and np.shape(self.frame_numbers) != lead[-1:]:
            raise ValueError(f"PoseTrack.frame_numbers has shape {np.shape(self.frame_numbers)}, "
                             f"expected {lead[-1:]}")

    def frame_index(self) -> np.ndarray:
        """``(T,)`` the video's number of each frame: :attr:`frame_numbers`, or ``0 .. T-1``.

        Example
        -------
        >>> track[5:8].frame_index()  # doctest: +SKIP
        array([5, 6, 7])
        """
        if self.frame_numbers is None:
            return np.arange(self.n_frames)
        return np.asarray(self.frame_numbers, np.int64)

    # -- shape -------------------------------------------------------------------------------------
    @property
    def is_batch(self) -> bool:
        """True for a batch ``(B, T)`` of videos."""
        return np.ndim(self.timestamps) == 2

    @property
    def batch_size(self) -> int:
        """Number of videos (1 for a single video)."""
        return np.shape(self.timestamps)[0] if self.is_batch else 1

    @property
    def n_frames(self) -> int:
        """Frames per video."""
        return np.shape(self.timestamps)[-1]

    @property
    def n_individuals(self) -> int:
        """Person slots: ``len(individuals)``, 1 for a one-person track."""
        return 1 if self.individuals is None else len(self.individuals)

    def individual(self, which: int | str) -> PoseTrack:
        """The one-person track of slot ``which`` (an index or a name of :attr:`individuals`).

        Its arrays lose the person axis; its :attr:`individuals` is that one name, kept so that
        tables of it still say whose pose they hold.

        Example
        -------
        >>> two = posejax.track(frames, num_poses=2)  # doctest: +SKIP
        >>> two.individual("person_1").landmarks.shape  # doctest: +SKIP
        (230, 33, 5)
        """
        if self.individuals is None:
            raise ValueError("individual() needs a multi-person track (num_poses > 1); this one "
                             "holds one person")
        if isinstance(which, str):
            if which not in self.individuals:
                raise KeyError(f"no individual {which!r}; the track has {list(self.individuals)}")
            index = self.individuals.index(which)
        else:
            index = int(which)
            if not -len(self.individuals) <= index < len(self.individuals):
                raise IndexError(f"individual {which} is out of range for "
                                 f"{len(self.individuals)} slots")
            index %= len(self.individuals)
        axis = np.ndim(self.timestamps)
        picked = {name: np.take(getattr(self, name), index, axis=axis)
                  for name in self._PER_PERSON}
        mask = self.segmentation_mask
        if isinstance(mask, np.ndarray):
            mask = np.take(mask, index, axis=axis)
        return dataclasses.replace(self, **picked, segmentation_mask=mask, individuals=None,
                                   individual_name=self.individuals[index])

    _PER_PERSON = ("landmarks", "world_landmarks", "pose_present", "rois")

    def __len__(self) -> int:
        return np.shape(self.timestamps)[0]

    def __getitem__(self, frames) -> PoseTrack:
        """The track of some frames: ``track[10:20]``, ``track[-1]``, ``track[[0, 5]]``.

        Selects along the frame axis, the last leading one: of the one video, or of every video
        of a batch (``batch[10:20]`` has shape ``(B, 10)``; use :meth:`video` for one video).
        Every per-frame array follows, segmentation masks included. Frames keep their numbers
        (:attr:`frame_numbers`, the ``frame`` column of :meth:`to_dataframe`) and their times:
        nothing is renumbered.

        Parameters
        ----------
        frames : int, slice, or 1-D array of int or bool
            An int gives a track of one frame (the frame axis stays); a boolean array needs
            one value per frame.

        Returns
        -------
        PoseTrack

        Example
        -------
        >>> track[10:20].n_frames  # doctest: +SKIP
        10
        >>> track[track.pose_present].pose_present.all()  # frames with a pose  # doctest: +SKIP
        True
        """
        key = self._frame_key(frames)
        lead = (slice(None), key) if self.is_batch else (key,)
        return self._indexed(lead, segmentation_mask=self._masks_of(lead, key),
                             frame_numbers=self.frame_index()[key])

    def _indexed(self, index, **changes) -> PoseTrack:
        """A copy with every per-frame array indexed by ``index`` (and ``changes``)."""
        arrays = ("landmarks", "world_landmarks", "pose_present", "rois", "timestamps",
                  "image_sizes")
        return dataclasses.replace(
            self, **{name: getattr(self, name)[index] for name in arrays}, **changes
        )

    def _frame_key(self, frames):
        """``frames`` as a slice or a 1-D index array; an int becomes a one-frame slice."""
        if isinstance(frames, slice):
            return frames
        if isinstance(frames, tuple):
            raise TypeError("a PoseTrack is indexed by frames only; use track.video(i) to pick "
                            "a video of a batch, then index its frames")
        if isinstance(frames, numbers.Integral) and not isinstance(frames, bool):
            n = self.n_frames
            if not -n <= frames < n:
                raise IndexError(f"frame {frames} is out of range for {n} frames")
            start = int(frames) % n
            return slice(start, start + 1)
        key = np.asarray(frames)
        if key.ndim != 1 or not (key.dtype == bool or np.issubdtype(key.dtype, np.integer)):
            raise TypeError(f"frames must be an int, a slice or a 1-D array of int or bool, "
                            f"got {frames!r}")
        if key.dtype == bool and len(key) != self.n_frames:
            raise IndexError(f"a boolean frame mask needs {self.n_frames} values, got {len(key)}")
        return key

    def _masks_of(self, lead, key):
        masks = self.segmentation_mask
        if masks is None or isinstance(masks, np.ndarray):
            return None if masks is None else masks[lead]
        # A list of (H, W) masks, one per frame (frames of several sizes).
        return [masks[i] for i in np.arange(self.n_frames)[key]]

    def __repr__(self) -> str:
        n = self.n_frames
        videos = (f"{self.batch_size} videos x {n} frames" if self.is_batch
                  else f"{n} frame{'s' * (n != 1)}, 1 video")
        if self.video_names is not None and not self.is_batch:
            videos += f" {self.video_names[0]!r}"
        sizes = np.unique(np.asarray(self.image_sizes).reshape(-1, 2), axis=0)
        # width x height, as video sizes are usually written (image_sizes holds height, width)
        size = f"{sizes[0, 1]}x{sizes[0, 0]}" if len(sizes) == 1 else f"{len(sizes)} frame sizes"
        present = int(np.count_nonzero(self.pose_present))
        total = int(np.size(self.pose_present))
        if self.individuals is not None:
            per = np.count_nonzero(self.pose_present, axis=tuple(range(self.pose_present.ndim - 1)))
            pose = f"{len(self.individuals)} people, found in " + "/".join(map(str, per)) + \
                " frames"
        elif self.is_batch:
            pose = f"pose in {present} of {total} frames"
        else:
            pose = f"pose in {present} frame{'s' * (present != 1)}"
        if self.individual_name is not None:
            pose += f" ({self.individual_name})"
        mask = ", segmentation" if self.segmentation_mask is not None else ""
        return (f"<PoseTrack {videos}, {size}, {self.fps:g} fps, {pose}{mask}, "
                f"model_complexity={self.model_complexity}>")

    @property
    def image_size(self) -> tuple[int, int]:
        """``(height, width)`` shared by all frames; ValueError if the frames differ in size."""
        sizes = np.unique(self.image_sizes.reshape(-1, 2), axis=0)
        if len(sizes) != 1:
            raise ValueError(f"frames have {len(sizes)} different sizes; use image_sizes")
        return int(sizes[0, 0]), int(sizes[0, 1])

    def video(self, index: int) -> PoseTrack:
        """The track of one video of a batch.

        Example
        -------
        >>> first = batch_track.video(0)  # doctest: +SKIP
        """
        if not self.is_batch:
            raise ValueError("video() needs a batch track; this one holds a single video")
        mask = None if self.segmentation_mask is None else self.segmentation_mask[index]
        name = None if self.video_names is None else self.video_names[index]
        return self._indexed(index, segmentation_mask=mask,
                             video_names=None if name is None else (name,))

    # -- conversions -------------------------------------------------------------------------------
    # The two methods below are the one upward reach of this module: conveniences that hand the
    # track to posejax.tables (pandas), imported when called so that this module stays NumPy only
    # and below the tables in the layer order (tests/unit/test_layers.py lists the exception).
    def to_dataframe(self, layout: str = "long", **kwargs):
        """The track as a pandas DataFrame; see :func:`posejax.tables.track_to_dataframe`.

        Example
        -------
        >>> track.to_dataframe("wide").shape  # doctest: +SKIP
        (230, 297)
        """
        from posejax.tables import track_to_dataframe

        return track_to_dataframe(self, layout=layout, **kwargs)

    @classmethod
    def from_dataframe(cls, df, **kwargs) -> PoseTrack:
        """Rebuild a track from :meth:`to_dataframe` output (any layout).

        See :func:`posejax.tables.track_from_dataframe` for the keyword arguments.

        Example
        -------
        >>> again = PoseTrack.from_dataframe(track.to_dataframe())  # doctest: +SKIP
        """
        from posejax.tables import track_from_dataframe

        return track_from_dataframe(df, **kwargs)
