"""Every notebook in notebooks/ runs top to bottom (code cells in order, in one namespace).

The cells run in a separate Python process from the notebooks folder, as a reader would run
them, with matplotlib's Agg backend; no Jupyter installation is needed for the check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.reference_data import require_shared

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
# Notebooks reading the shared test media (never committed) name a file of it here.
NEEDS_SHARED = {
    "02_counting_squats.ipynb": "videos/mp_docs_squats_5reps_overlay.mp4",
    "03_counting_any_exercise.ipynb": "videos/infai_synthetic_leg_raises_6reps.mp4",
}

pytestmark = pytest.mark.slow


def code_of(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    if path.name in NEEDS_SHARED:
        require_shared(NEEDS_SHARED[path.name])
    script = tmp_path / "notebook.py"
    script.write_text(code_of(path) + "\nprint('NOTEBOOK DONE')\n")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(script)], cwd=REPO / "notebooks", env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "NOTEBOOK DONE" in proc.stdout
    if path.name == "02_counting_squats.ipynb":
        assert "squat: 5 repetitions" in proc.stdout
