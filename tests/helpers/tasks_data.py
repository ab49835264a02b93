"""The ``.task`` bundles and Tasks reference fixtures the ``posejax.tasks`` tests read.

Bundles of the legacy models are built by ``tools/make_tasks_fixtures.py`` (from the reference
venv's ``.tflite`` files) into :data:`BUNDLE_DIR`; they are never committed. The fixtures it
records (MediaPipe 0.10.21's Tasks ``PoseLandmarker`` on the shared media) are in
:data:`FIXTURES`; see that script for their layout.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tests.helpers.reference_data import REPO

FIXTURES = REPO / "tests" / "fixtures" / "tasks"
BUNDLE_DIR = Path(os.environ.get("POSEJAX_SOURCE_CACHE",
                                 Path.home() / ".cache/posejax/sources")) / "tasks"


def require_bundle(model: str = "full") -> Path:
    """``pose_landmarker_<model>.task`` built by the fixture script, or skip the test.

    A generated file outside the repository (like the reference venv), so its absence is a skip
    with the command that builds it, also under CI.
    """
    import pytest

    path = BUNDLE_DIR / f"pose_landmarker_{model}.task"
    if not path.is_file():
        pytest.skip(f"{path} is missing: build the bundles with "
                    "`python tools/make_tasks_fixtures.py --bundles` (needs the reference venv)")
    return path


def load_fixture(name: str) -> dict:
    """The arrays of ``tests/fixtures/tasks/<name>.npz`` (``meta`` parsed from JSON)."""
    import json

    with np.load(FIXTURES / f"{name}.npz", allow_pickle=False) as npz:
        out = {k: npz[k] for k in npz.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out
