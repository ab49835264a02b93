"""Doctests of the package's docstrings (``--doctest-modules``, paths in ``pyproject.toml``).

Examples about tables start from ``track = posejax.track("datasets/sports2d_demo.mp4")``, shown
with ``+SKIP`` where it appears because it compiles the whole pipeline. So that the examples
after it run, the doctests get a stand-in ``track`` of the same shape (230 frames of a 1768 x 994
video at 30 fps) with random landmarks: examples print shapes, names and layouts, never the
stand-in's numbers; ``two_people`` stands in for ``posejax.track(..., num_poses=2)``.
The tests' own set-up is in ``tests/conftest.py``.
"""

from __future__ import annotations

import os

import pytest

# Examples that draw (DataFrame.plot, xarray's .plot) need no display.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _doctest_track(doctest_namespace):
    from tests.helpers.synthetic import people_track, random_track

    doctest_namespace["track"] = random_track(
        n_frames=230, height=994, width=1768, names=("sports2d_demo",), seed=0
    )
    # A stand-in for posejax.track(..., num_poses=2): two people on those frames.
    doctest_namespace["two_people"] = people_track(
        doctest_namespace["track"],
        random_track(n_frames=230, height=994, width=1768, names=("sports2d_demo",), seed=1),
    )
