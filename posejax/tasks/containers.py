"""Stand-ins for ``mediapipe.tasks.components.containers.landmark``: one landmark each.

:class:`NormalizedLandmark` has ``x`` and ``y`` normalized to the image width and height and ``z``
on the scale of ``x``; :class:`Landmark` (world landmarks) is in metres, origin between the
hips. Both carry ``visibility`` and ``presence`` (probabilities), as in the Tasks API.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Landmark", "NormalizedLandmark"]


@dataclasses.dataclass
class NormalizedLandmark:
    """A landmark in normalized image coordinates.

    Example
    -------
    >>> NormalizedLandmark.from_array(np.array([0.5, 0.25, -0.1, 0.9, 0.99]))
    NormalizedLandmark(x=0.5, y=0.25, z=-0.1, visibility=0.9, presence=0.99)
    """

    x: float | None = None
    y: float | None = None
    z: float | None = None
    visibility: float | None = None
    presence: float | None = None

    @classmethod
    def from_array(cls, row) -> NormalizedLandmark:
        """From ``x, y, z, visibility, presence`` (posejax only)."""
        x, y, z, visibility, presence = (float(v) for v in np.asarray(row)[:5])
        return cls(x, y, z, visibility, presence)


@dataclasses.dataclass
class Landmark(NormalizedLandmark):
    """A world landmark, in metres (same fields as :class:`NormalizedLandmark`)."""
