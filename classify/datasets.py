"""The bundled fitness pose set: landmarks of labelled frames, no pixels.

``classify/data/fitness_poses.npz`` is written by ``tools/make_fitness_dataset.py``, which runs
``posejax.track`` (full model) on clips and images of the project's test media and keeps the
frames labelled in ``datasets/fitness_labels.csv``. Classes: ``pushup_up``, ``pushup_down``,
``squat_up``, ``squat_down``, ``leg_raise_up``, ``leg_raise_down`` and ``neutral`` (standing,
dancing, yoga: none of the exercise positions). Sources and licences are in
``classify/data/README.md``.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from posejax.landmarks import LANDMARK_NAMES

DATA_FILE = "fitness_poses.npz"
COORDINATES = ("world", "image")
#: Columns of the coordinates in the ``as_frame=True`` table, landmark by landmark.
COORDINATE_COLUMNS: tuple[str, ...] = tuple(f"{n}_{a}" for n in LANDMARK_NAMES for a in "xyz")
#: Frame rate of each video of the set, as the shared media's ``MANIFEST.md`` gives it (the
#: ``.npz`` keeps frame numbers only); stills have none.
CLIP_FPS: dict[str, float] = {
    "videos/mp_docs_pushups_5reps_overlay.mp4": 10.0,
    "videos/mp_docs_squats_5reps_overlay.mp4": 10.0,
    "videos/mp_docs_squats_world_landmarks_overlay.mp4": 3725 / 148,
    "videos/mp_pose_squats.mp4": 5.0,
    "videos/infai_synthetic_leg_raises_6reps.mp4": 24.0,
    "videos/mp_docs_dance_segmentation.mp4": 20.0,
    "videos/mp_docs_yoga_flow_overlay.gif": 5.0,
    "videos/tfjs_pose_1_synthetic_balance.mp4": 30.0,
}


@functools.cache
def _load_arrays() -> dict[str, np.ndarray]:
    path = resources.files("classify") / "data" / DATA_FILE
    with resources.as_file(path) as file, np.load(file, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def load_fitness_poses(*, coordinates: str = "world", as_frame: bool = False):
    """The bundled labelled pose set.

    Parameters
    ----------
    coordinates : {"world", "image"}, default "world"
        World landmarks in metres, or image landmarks in pixels
        ``(x * width, y * height, z * width)`` as MediaPipe's pose classification colab uses.
    as_frame : bool, default False
        Return one DataFrame instead of arrays.

    Returns
    -------
    X : ndarray, float64, (n, 33, 3)
        Landmarks of each labelled frame (``as_frame=False``).
    y : ndarray of str, (n,)
        Class of each frame.
    frame : pandas.DataFrame
        With ``as_frame=True``: columns ``clip`` (source file), ``frame`` (index in the clip),
        ``view`` (``front``, ``three_quarter`` or ``side``), ``label``, and the 99 coordinates
        :data:`COORDINATE_COLUMNS` (``nose_x, nose_y, nose_z, ...``).

    Example
    -------
    >>> X, y = load_fitness_poses()
    >>> X.shape[1:], sorted(set(y.tolist()))[:2]
    ((33, 3), ['leg_raise_down', 'leg_raise_up'])
    >>> df = load_fitness_poses(as_frame=True)
    >>> df.groupby("clip").size().max() > 100
    True
    """
    if coordinates not in COORDINATES:
        raise ValueError(f"coordinates must be one of {COORDINATES}, got {coordinates!r}")
    data = _load_arrays()
    if coordinates == "world":
        X = data["world_landmarks"][..., :3].astype(np.float64)
    else:
        height_width = data["image_size"].astype(np.float64)
        X = data["landmarks"][..., :3].astype(np.float64) * height_width[:, None, [1, 0, 1]]
    y = data["label"].astype(str)
    if not as_frame:
        return X, y
    import pandas as pd

    table = pd.DataFrame(
        {
            "clip": data["clip"].astype(str),
            "frame": data["frame"].astype(np.int64),
            "view": data["view"].astype(str),
            "label": y,
        }
    )
    coordinates_table = pd.DataFrame(X.reshape(len(X), -1), columns=list(COORDINATE_COLUMNS))
    return pd.concat([table, coordinates_table], axis=1)


def fitness_pose_groups() -> np.ndarray:
    """Source clip of every sample of :func:`load_fitness_poses`, for grouped cross-validation.

    Example
    -------
    >>> len(fitness_pose_groups()) == len(load_fitness_poses()[1])
    True
    """
    return _load_arrays()["clip"].astype(str)


def fitness_pose_table(clip: str | None = None):
    """The bundled pose set as a long posejax table, one video per clip, with a ``label`` column.

    Only the labelled frames of each clip are in it (frames on the way up or down were left out
    when labelling), so a clip's frame numbers have gaps; a track made from it
    (``PoseTrack.from_dataframe``) has no pose on those frames.

    Parameters
    ----------
    clip : str, optional
        One clip (a ``video`` of the whole table): its table alone, its frame rate also in
        ``attrs["fps"]``, ready for :func:`classify.count_repetitions`.

    Returns
    -------
    pandas.DataFrame
        Columns ``video`` (categorical, the clip), ``frame``, ``time`` (seconds; 0 for stills),
        ``label``, ``landmark``, the coordinates of ``PoseTrack.to_dataframe`` (``x, y``
        normalized, ``z``, ``visibility``, ``presence``, ``world_x, world_y, world_z`` in
        metres, ``world_visibility``) and the frame's ``image_width`` and ``image_height``.

    Example
    -------
    >>> table = fitness_pose_table()
    >>> table.groupby("video", observed=True)["frame"].nunique().max() > 100
    True
    >>> one = fitness_pose_table("videos/mp_pose_squats.mp4")
    >>> one.attrs["fps"], sorted(one["label"].unique())
    (5.0, ['squat_down', 'squat_up'])
    """
    import pandas as pd

    from posejax.tables import landmark_dtype

    data = _load_arrays()
    clips = data["clip"].astype(str)
    names = list(dict.fromkeys(clips))
    if clip is not None:
        if clip not in names:
            raise ValueError(f"no clip {clip!r} in the bundled pose set; its clips: {names}")
        rows = np.flatnonzero(clips == clip)
    else:
        rows = np.arange(len(clips))
    n = len(rows)
    frames = data["frame"][rows].astype(np.int64)
    fps = np.array([CLIP_FPS.get(c, np.nan) for c in clips[rows]])
    times = np.where(np.isnan(fps), 0.0, frames / np.where(np.isnan(fps), 1.0, fps))
    image = data["landmarks"][rows].astype(np.float64)
    world = data["world_landmarks"][rows].astype(np.float64)
    sizes = data["image_size"][rows].astype(np.int64)
    codes = np.repeat([names.index(c) for c in clips[rows]], len(LANDMARK_NAMES))
    columns = {"video": pd.Categorical.from_codes(codes, categories=names)}
    columns["frame"] = np.repeat(frames.astype(np.int32), len(LANDMARK_NAMES))
    columns["time"] = np.repeat(times, len(LANDMARK_NAMES))
    columns["label"] = np.repeat(data["label"][rows].astype(str), len(LANDMARK_NAMES))
    columns["landmark"] = pd.Categorical.from_codes(
        np.tile(np.arange(len(LANDMARK_NAMES)), n), dtype=landmark_dtype()
    )
    for k, coord in enumerate(("x", "y", "z", "visibility", "presence")):
        columns[coord] = image[..., k].reshape(-1)
    for k, coord in enumerate(("world_x", "world_y", "world_z", "world_visibility")):
        columns[coord] = world[..., k].reshape(-1)
    columns["image_width"] = np.repeat(sizes[:, 1].astype(np.int16), len(LANDMARK_NAMES))
    columns["image_height"] = np.repeat(sizes[:, 0].astype(np.int16), len(LANDMARK_NAMES))
    table = pd.DataFrame(columns)
    if clip is not None:
        table["video"] = table["video"].cat.remove_unused_categories()
    table.attrs = {"units": "normalized", "model_complexity": int(data["model_complexity"])}
    if clip is not None and np.isfinite(fps[0]):
        table.attrs["fps"] = float(fps[0])  # stills of one clip have no time steps to say it
    return table
