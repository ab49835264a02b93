"""posejax's files and Datasets in the real libraries of the pose world: movement, DeepLabCut's
layout, xarray.

``movement`` (>= 0.15; in the ``test`` extra) must load posejax's DeepLabCut ``.h5`` and ``.csv``
with its own loader and get the positions :func:`posejax.to_xarray` gives, and accept
``to_xarray``'s Dataset in its own validation.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import posejax
from tests.helpers.reference_data import require_module
from tests.helpers.synthetic import random_track

load_poses = require_module("movement.io.load_poses", "movement is in the test extra")
datasets = importlib.import_module("movement.validators.datasets")


@pytest.fixture
def track():
    # Frames 1 and 4 without a pose: NaN must stay NaN on both sides.
    return random_track(n_frames=7, missing=(1, 4), names=("clip",), seed=3)


def _read_by_movement(data, path):
    """(movement's Dataset of ``data`` written to ``path`` in DeepLabCut's layout, ours).

    Positions and confidences must agree.
    """
    layout = None if path.suffix == ".h5" else "dlc"
    posejax.write_landmarks(data, path, layout=layout)
    theirs = load_poses.from_dlc_file(path, fps=data.fps)
    ours = posejax.to_xarray(data)
    np.testing.assert_allclose(theirs.position.values, ours.position.values, rtol=1e-6)
    np.testing.assert_allclose(theirs.confidence.values, ours.confidence.values, rtol=1e-6)
    return theirs, ours


@pytest.mark.parametrize("suffix", [".h5", ".csv"])
def test_movement_loads_posejax_deeplabcut_files(tmp_path, track, suffix):
    theirs, ours = _read_by_movement(track, tmp_path / f"clip{suffix}")
    assert theirs.position.dims == ours.position.dims
    assert list(theirs.keypoints.values) == list(posejax.LANDMARK_NAMES)
    assert list(theirs.space.values) == ["x", "y"]
    np.testing.assert_allclose(theirs.time.values, ours.time.values - ours.time.values[0])


@pytest.mark.parametrize("space", ["image", "world"])
def test_to_xarray_passes_movements_validation(track, space):
    ds = posejax.to_xarray(track, space=space)
    datasets.ValidPosesInputs.validate(ds)  # raises on a missing variable or dimension
    # And it is the Dataset movement itself builds from the same arrays.
    theirs = load_poses.from_numpy(
        ds.position.values, ds.confidence.values, individual_names=["individual_0"],
        keypoint_names=list(posejax.LANDMARK_NAMES), fps=track.fps, source_software="posejax",
    )  # fmt: skip
    assert ds.position.dims == theirs.position.dims
    assert ds.confidence.dims == theirs.confidence.dims
    for name in ("space", "keypoints", "individuals"):
        np.testing.assert_array_equal(ds[name].values, theirs[name].values)
    assert {"fps", "source_software", "ds_type"} <= set(ds.attrs) & set(theirs.attrs)
    assert ds.attrs["ds_type"] == theirs.attrs["ds_type"] == "poses"


@pytest.fixture
def two_people():
    from tests.helpers.synthetic import people_track

    zed = random_track(n_frames=6, missing=(2,), names=("clip",), seed=4)
    amy = random_track(n_frames=6, missing=(0, 5), names=("clip",), seed=5)
    return people_track(zed, amy, names=("zed", "amy"))


@pytest.mark.parametrize("suffix", [".h5", ".csv"])
def test_movement_loads_posejax_multi_animal_files(tmp_path, two_people, suffix):
    theirs, _ = _read_by_movement(two_people, tmp_path / f"two{suffix}")
    assert list(theirs.individuals.values) == ["zed", "amy"]
    # Each person's positions are that person's own landmarks in pixels.
    amy = theirs.position.sel(individuals="amy", space="y").values
    np.testing.assert_allclose(amy, two_people.landmarks[:, 1, :, 1] * 120, rtol=1e-6)


def test_multi_person_dataset_passes_movements_validation(two_people):
    ds = posejax.to_xarray(two_people)
    datasets.ValidPosesInputs.validate(ds)
    theirs = load_poses.from_numpy(
        ds.position.values, ds.confidence.values, individual_names=["zed", "amy"],
        keypoint_names=list(posejax.LANDMARK_NAMES), fps=two_people.fps,
        source_software="posejax",
    )  # fmt: skip
    np.testing.assert_array_equal(ds.individuals.values, theirs.individuals.values)
