"""to_xarray: pose tracks and tables in the movement package's xarray layout."""

from __future__ import annotations

import numpy as np
import pytest

import posejax
from tests.helpers.synthetic import WIDTH, random_track


def test_to_xarray_matches_movement_layout():
    xr = pytest.importorskip("xarray", reason="xarray is an optional extra (posejax[xarray])")
    track = random_track(n_frames=5)
    ds = posejax.to_xarray(track)
    assert isinstance(ds, xr.Dataset)
    assert ds.position.dims == ("time", "space", "keypoints", "individuals")
    assert ds.confidence.dims == ("time", "keypoints", "individuals")
    assert list(ds.space.values) == ["x", "y"] and ds.keypoints.values[25] == "left_knee"
    np.testing.assert_allclose(ds.time.values, track.timestamps)
    knee_x = ds.position.sel(space="x", keypoints="left_knee", individuals="individual_0")
    np.testing.assert_allclose(knee_x, track.landmarks[:, 25, 0].astype(float) * WIDTH)
    assert ds.attrs["fps"] == 30.0 and ds.attrs["ds_type"] == "poses"
    world = track.to_dataframe("wide").pose.to_xarray(space="world")
    assert list(world.space.values) == ["x", "y", "z"]
    np.testing.assert_allclose(
        world.position.sel(space="z").values[..., 0], track.world_landmarks[..., 2]
    )
    with pytest.raises(ValueError, match="one video"):
        posejax.to_xarray(random_track(batch=2))


def test_to_xarray_has_the_individuals_of_a_multi_person_track():
    pytest.importorskip("xarray", reason="xarray is an optional extra (posejax[xarray])")
    from tests.helpers.synthetic import people_track

    a = random_track(n_frames=5, missing=(2,), seed=1)
    b = random_track(n_frames=5, missing=(0,), seed=2)
    track = people_track(a, b, names=("zed", "amy"))
    ds = posejax.to_xarray(track)
    assert dict(ds.position.sizes) == {"time": 5, "space": 2, "keypoints": 33, "individuals": 2}
    assert ds.individuals.values.tolist() == ["zed", "amy"]
    np.testing.assert_allclose(ds.time.values, track.timestamps)
    amy_x = ds.position.sel(space="x", keypoints="nose", individuals="amy").values
    np.testing.assert_allclose(amy_x, b.landmarks[:, 0, 0].astype(float) * WIDTH)
    assert np.isnan(amy_x[0]) and np.isfinite(amy_x[2])
    conf = ds.confidence.sel(individuals="zed").values
    np.testing.assert_allclose(conf, a.landmarks[..., 3].astype(float))
    # The same from a long table, and from one person's table (its name kept).
    from_table = track.to_dataframe().pose.to_xarray()
    np.testing.assert_array_equal(from_table.position.values, ds.position.values)
    one = posejax.to_xarray(track.individual("amy"))
    assert one.individuals.values.tolist() == ["amy"]

