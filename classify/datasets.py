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
    >>> X.shape[1:], sorted(map(str, set(y)))[:2]
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
