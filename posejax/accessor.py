"""The ``df.pose`` pandas accessor: pose maths and plots on DataFrames, by name.

A thin layer: each method takes the table apart (:func:`posejax.tables.parse_table`), calls the
plain NumPy function of :mod:`posejax.kinematics` (or :mod:`posejax.draw` for plots) and puts the
result back as a Series or a DataFrame in the layout it was given. Importing this module
registers the accessor; ``import posejax`` does.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from posejax import draw, kinematics
from posejax.kinematics import TORSO_SIZE_MULTIPLIER
from posejax.landmarks import JOINT_ANGLES, LANDMARK_NAMES, landmark_index
from posejax.tables import (
    PoseTable,
    convert_layout,
    parse_table,
    to_xarray,
    track_from_dataframe,
)

__all__ = ["JOINT_ANGLES", "PoseAccessor"]


class PoseAccessor:
    """Pose maths on DataFrames from :meth:`PoseTrack.to_dataframe`: ``df.pose.<method>``.

    Works on the long and the wide layout alike, and on tables of several videos (``pd.concat``
    of their tables) or several people: each video, and each person of it, is taken on its own,
    by the table's ``video`` and ``individual`` columns (gaps are never filled from another
    person). Per-frame results are Series indexed by ``frame`` for one video, ``(video, frame)``
    for several, with an ``individual`` level before ``frame`` for several people; methods that
    change coordinates return a new DataFrame in the layout they were given, other columns kept.

    Example
    -------
    >>> df = posejax.track("squats.mp4").to_dataframe()  # doctest: +SKIP
    >>> knee = df.pose.angle("left_knee")  # degrees per frame  # doctest: +SKIP
    >>> clean = df.pose.interpolate(max_gap=3).pose.smooth(5)  # doctest: +SKIP
    >>> clean.pose.plot(angles="left_knee")  # doctest: +SKIP
    """

    def __init__(self, df: pd.DataFrame):
        self._df = df

    @property
    def _table(self) -> PoseTable:
        # Parsed on every use: pandas caches the accessor, and the DataFrame may have changed.
        return parse_table(self._df)

    @property
    def layout(self) -> str:
        """``"long"``, ``"wide"`` or ``"dlc"``."""
        return self._table.layout

    @property
    def time(self) -> pd.Series:
        """Time of each frame in seconds.

        Example
        -------
        >>> df.pose.time.iloc[-1]  # doctest: +SKIP
        7.633333333333334
        """
        table = self._table
        return pd.Series(table.frame_times(), index=table.index(), name="time")

    def _per_frame(self, table: PoseTable, values: np.ndarray, name: str) -> pd.Series:
        return pd.Series(values, index=table.index(), name=name)

    def landmark(self, name: str | int, coords=None) -> pd.DataFrame:
        """Coordinates of one landmark, one row per frame.

        Parameters
        ----------
        name : str or int
            Landmark name (``"left_wrist"``) or index.
        coords : list of str, optional
            Which coordinates (default: all in the table).

        Example
        -------
        >>> df.pose.landmark("left_wrist", ["x", "y"])  # doctest: +SKIP
        """
        table = self._table
        index = landmark_index(name)
        coords = list(table.values) if coords is None else _as_list(coords)
        data = {c: table.coord(c)[:, index] for c in coords}
        return pd.DataFrame(data, index=table.index())

    def angle(
        self,
        a: str | int,
        b: str | int | None = None,
        c: str | int | None = None,
        space: str = "image",
    ) -> pd.Series:
        """Angle in degrees at landmark ``b`` between ``a`` and ``c``, or a named joint angle.

        Parameters
        ----------
        a, b, c : str or int
            Three landmarks, the angle being measured at ``b``; or ``a`` alone naming a joint of
            :data:`JOINT_ANGLES`: ``left_elbow``, ``left_shoulder``, ``left_hip``,
            ``left_knee``, ``left_ankle`` and their ``right_`` twins (``left_knee`` =
            hip-knee-ankle).
        space : {"image", "world"}
            ``image``: 2-D angle in the picture (x and y in pixels, so the image's aspect ratio
            does not distort it). ``world``: 3-D angle between world landmarks (metres).

        Returns
        -------
        pandas.Series
            One value per frame in [0, 180]; NaN where a landmark is missing.

        Example
        -------
        >>> df.pose.angle("left_knee")  # doctest: +SKIP
        >>> df.pose.angle("left_hip", "left_knee", "left_ankle", space="world")  # doctest: +SKIP
        """
        if b is None and c is None:
            joint = kinematics.joint_landmarks(a)
            name = a.lower()
        elif b is None or c is None:
            raise ValueError("give three landmarks (a, b, c) or one joint name")
        else:
            joint = kinematics.joint_landmarks((a, b, c))
            name = f"angle({_name(a)}, {_name(b)}, {_name(c)})"
        table = self._table
        values = kinematics.joint_angle(table.points(space), joint)
        return self._per_frame(table, values, name)

    def distance(self, a: str | int, b: str | int, space: str = "image") -> pd.Series:
        """Distance between two landmarks in every frame.

        Parameters
        ----------
        a, b : str or int
            Landmark names or indices.
        space : {"image", "world"}
            ``image``: in pixels (x and y; in pose units after :meth:`normalize`).
            ``world``: 3-D, in metres.

        Example
        -------
        >>> df.pose.distance("left_wrist", "right_wrist", space="world")  # doctest: +SKIP
        """
        table = self._table
        points = table.points(space)
        values = kinematics.distance(points[:, landmark_index(a)], points[:, landmark_index(b)])
        return self._per_frame(table, values, f"distance({_name(a)}, {_name(b)})")

    def normalize(self, torso_multiplier: float = TORSO_SIZE_MULTIPLIER) -> pd.DataFrame:
        """Hip-centred, size-normalized ``x, y, z`` as in ``classify``'s pose embedder.

        Pixel coordinates (``z`` on ``x``'s scale) are centred on the hip midpoint and divided
        by ``max(torso_multiplier * torso size, largest x-y distance from the centre)``; the
        torso size is the distance between the hip centre and the shoulder centre. World
        coordinates are left as they are. The result has ``df.attrs["units"] == "pose"``.

        Example
        -------
        >>> df.pose.normalize().pose.distance("left_hip", "right_hip")  # doctest: +SKIP
        """
        table = self._table
        if table.units == "pose":
            raise ValueError("the table is already normalized")
        points = table.image_points()
        z = table.values.get("z")
        if z is not None:
            z = z.astype(np.float64)
            if table.units == "normalized":
                z = z * table.image_sizes()[:, 1:2]
            points = np.concatenate([points, z[..., None]], axis=-1)
        normalized = kinematics.normalize_points(points, torso_multiplier)
        values = {c: normalized[..., i] for i, c in enumerate("xyz"[: normalized.shape[-1]])}
        return table.write_back(self._df, values, units="pose")

    def interpolate(self, max_gap: int = 5, coords=None) -> pd.DataFrame:
        """Fill short dropouts by linear interpolation in time.

        Parameters
        ----------
        max_gap : int
            Longest run of missing frames to fill; longer gaps stay NaN (whole, not partly).
        coords : list of str, optional
            Coordinates to fill (default: all). Each video of a batch is filled on its own.

        Example
        -------
        >>> df.pose.interpolate(max_gap=3)  # doctest: +SKIP
        """
        if isinstance(max_gap, bool) or not isinstance(max_gap, (int, np.integer)):
            raise TypeError(f"max_gap must be an int, got {type(max_gap).__name__}")
        if max_gap < 1:
            raise ValueError(f"max_gap must be at least 1, got {max_gap}")
        table = self._table
        coords = list(table.values) if coords is None else _as_list(coords)
        times = table.frame_times()
        values = {c: table.coord(c).astype(np.float64) for c in coords}
        for rows in table.groups():
            for coord in coords:
                column = values[coord][rows]
                values[coord][rows] = kinematics.fill_gaps(column, times[rows], max_gap)
        return table.write_back(self._df, values)

    def smooth(self, window: int = 5, method: str = "mean", coords=None) -> pd.DataFrame:
        """Centred moving average (or median) over ``window`` frames.

        Parameters
        ----------
        window : int
            Frames in the window (odd keeps it centred).
        method : {"mean", "median"}
        coords : list of str, optional
            Coordinates to smooth (default: ``x, y, z`` and the world ``x, y, z``). Frames that
            are NaN stay NaN; their neighbours are smoothed over the frames available.

        Example
        -------
        >>> df.pose.smooth(window=7, method="median")  # doctest: +SKIP
        """
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive int, got {window!r}")
        if method not in ("mean", "median"):
            raise ValueError(f"method must be 'mean' or 'median', got {method!r}")
        table = self._table
        if coords is None:
            coords = [
                c for c in ("x", "y", "z", "world_x", "world_y", "world_z") if c in table.values
            ]
        else:
            coords = _as_list(coords)
        values = {c: table.coord(c).astype(np.float64) for c in coords}
        for rows in table.groups():
            for coord in coords:
                values[coord][rows] = kinematics.smooth(values[coord][rows], window, method)
        return table.write_back(self._df, values)

    def visible(self, threshold: float = 0.5):
        """Which landmarks MediaPipe would draw: ``visibility >= threshold`` and presence too.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            Long layout: a boolean Series aligned with the rows (``df[df.pose.visible()]``).
            Wide layout: a boolean DataFrame, one row per frame, one column per landmark (per
            individual and landmark for a DeepLabCut multi-animal table). Presence is ignored
            where it is NaN (e.g. tables from DeepLabCut).

        Example
        -------
        >>> df[df.pose.visible(0.8)]  # doctest: +SKIP
        """
        table = self._table
        mask = _visible_mask(table, threshold)
        if table.layout == "long":
            rows = np.zeros(len(self._df), bool)
            rows[table.positions.reshape(-1)] = mask.reshape(-1)
            return pd.Series(rows, index=self._df.index, name="visible")
        if table.dlc_rows is not None:  # DeepLabCut multi-animal: columns (individual, landmark)
            rows, people = table.dlc_rows[:, 0], table.dlc_rows[:, 1]
            grid = np.zeros((len(self._df), len(table.individual_labels), len(LANDMARK_NAMES)),
                            bool)
            grid[rows, people] = mask
            columns = pd.MultiIndex.from_product([table.individual_labels, LANDMARK_NAMES],
                                                 names=["individual", "landmark"])
            return pd.DataFrame(grid.reshape(len(self._df), -1), index=self._df.index,
                                columns=columns)
        return pd.DataFrame(
            mask, index=self._df.index, columns=pd.Index(LANDMARK_NAMES, name="landmark")
        )

    def where_visible(self, threshold: float = 0.5) -> pd.DataFrame:
        """The table with the coordinates of landmarks below ``threshold`` set to NaN.

        Example
        -------
        >>> df.pose.where_visible(0.5).pose.interpolate(max_gap=5)  # doctest: +SKIP
        """
        table = self._table
        mask = _visible_mask(table, threshold)
        positional = ("x", "y", "z", "world_x", "world_y", "world_z")
        values = {
            c: np.where(mask, table.values[c].astype(np.float64), np.nan)
            for c in positional
            if c in table.values
        }
        return table.write_back(self._df, values)

    def plot(
        self, angles=None, landmarks=None, coords=("y",), ax=None, space: str = "image", **kwargs
    ):
        """Time series of joint angles and landmark coordinates.

        Parameters
        ----------
        angles : str or list of str, optional
            Named joint angles (:data:`JOINT_ANGLES`), in degrees.
        landmarks : str or list of str, optional
            Landmarks whose ``coords`` to plot.
        coords : str or list of str
            Coordinates of ``landmarks`` (``"x"``, ``"y"``, ``"world_y"``...).
        ax : matplotlib Axes, optional
        space : {"image", "world"}
            Where angles are measured (see :meth:`angle`).
        **kwargs
            Passed to ``Axes.plot``.

        Returns
        -------
        matplotlib.axes.Axes

        Example
        -------
        >>> ax = df.pose.plot(angles=["left_knee", "right_knee"])  # doctest: +SKIP
        """
        angles = _as_list(angles)
        landmarks = _as_list(landmarks)
        coords = _as_list(coords)
        if not angles and not landmarks:
            raise ValueError("name something to plot: angles=[...] and/or landmarks=[...]")
        table = self._table
        series = [self.angle(name, space=space) for name in angles]
        for name in landmarks:
            frame = self.landmark(name, coords)
            for coord in coords:
                series.append(frame[coord].rename(f"{_name(name)}.{coord}"))
        groups = []
        for rows in table.groups():
            video, person = table.labels_of(rows)
            if person is not None and table.n_videos == 1:
                video = None  # several people of one video: named by person only
            groups.append((" ".join(x for x in (video, person) if x is not None) or "", rows))
        ylabel = None
        if angles and not landmarks:
            ylabel = "angle (degrees)"
        elif landmarks and not angles:
            ylabel = ", ".join(coords) + f" ({_unit_label(table, coords)})"
        return draw.time_series(
            table.frame_times(),
            {str(item.name): item.to_numpy() for item in series},
            groups=groups,
            ax=ax,
            ylabel=ylabel,
            **kwargs,
        )

    def to_track(self, **kwargs):
        """The :class:`~posejax.result.PoseTrack` of this table (see :func:`track_from_dataframe`).

        Example
        -------
        >>> track = df.pose.to_track()  # doctest: +SKIP
        """
        return track_from_dataframe(self._df, **kwargs)

    def to_layout(self, layout: str, scorer: str | None = None) -> pd.DataFrame:
        """The table in another layout (see :func:`convert_layout`).

        Example
        -------
        >>> wide = df.pose.to_layout("wide")  # doctest: +SKIP
        """
        return convert_layout(self._df, layout, scorer=scorer)

    def to_xarray(self, space: str = "image"):
        """The ``movement`` package's xarray Dataset (see :func:`posejax.to_xarray`).

        Example
        -------
        >>> ds = df.pose.to_xarray()  # doctest: +SKIP
        """
        return to_xarray(self._df, space=space)


def _visible_mask(table: PoseTable, threshold: float) -> np.ndarray:
    return kinematics.visible(
        table.coord("visibility"), table.values.get("presence"), threshold=threshold
    )


def _unit_label(table: PoseTable, coords) -> str:
    if all(c.startswith("world_") for c in coords):
        return "m"
    return {"px": "px", "pose": "pose units"}.get(table.units, "normalized")


def _as_list(items) -> list:
    if items is None:
        return []
    if isinstance(items, (str, int, np.integer)):
        return [items]
    return list(items)


def _name(landmark: str | int) -> str:
    return LANDMARK_NAMES[landmark_index(landmark)]


def _register_accessor() -> None:
    """Register ``df.pose``; importing or reloading this module again replaces it quietly."""
    existing = getattr(pd.DataFrame, "pose", None)
    # Ours: this module's class, or the stand-in ``import posejax`` registers.
    ours = getattr(existing, "__module__", None) in (__name__, "posejax")
    with warnings.catch_warnings():
        if ours:
            warnings.simplefilter("ignore", UserWarning)
        pd.api.extensions.register_dataframe_accessor("pose")(PoseAccessor)


_register_accessor()

