"""The notebooks in notebooks/ are what tools/make_notebooks.py writes, stored executed, and
every one still runs top to bottom (code cells in order, in one namespace).

The stored cells must equal the script's, so stored outputs cannot drift from the code: after
changing a cell, run ``python tools/make_notebooks.py`` to write and execute the notebooks again.
The cells run in a separate Python process from the notebooks folder, as a reader would run
them, with matplotlib's Agg backend; no Jupyter installation is needed for the check.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.reference_data import SHARED_DATA, require_shared

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
# Notebooks reading the shared test media (never committed) name a file of it here. They read it
# from $POSEJAX_SHARED_DATA, by default ../shared/data next to the repository.
NEEDS_SHARED = {
    "02_counting_squats.ipynb": "videos/mp_docs_squats_5reps_overlay.mp4",
    "03_counting_any_exercise.ipynb": "videos/infai_synthetic_leg_raises_6reps.mp4",
}

pytestmark = pytest.mark.slow


def _load_script():
    spec = importlib.util.spec_from_file_location("make_notebooks",
                                                  REPO / "tools" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_NOTEBOOKS = _load_script()


def code_of(path: Path) -> str:
    return "\n\n".join(MAKE_NOTEBOOKS.code_cells(json.loads(path.read_text())))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2
    assert [p.name for p in NOTEBOOKS] == sorted(MAKE_NOTEBOOKS.NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_is_the_script_output_executed(path):
    stored = json.loads(path.read_text())
    expected = MAKE_NOTEBOOKS.notebook(MAKE_NOTEBOOKS.NOTEBOOKS[path.name])
    fix = "run `python tools/make_notebooks.py` to write and execute the notebooks again"
    assert [(c["cell_type"], "".join(c["source"])) for c in stored["cells"]] == [
        (c["cell_type"], "".join(c["source"])) for c in expected["cells"]
    ], f"{path.name} differs from tools/make_notebooks.py: {fix}"
    code = [c for c in stored["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), (
        f"{path.name} is stored without running every cell in order: {fix}")
    figures = [o for c in code for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} is stored without its figures: {fix}"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name} was stored with an error: {errors[0].get('ename')}"
    assert path.stat().st_size < 300 * 1024, f"{path.name} is over 300 KB; lower FIGURE_DPI"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    if path.name in NEEDS_SHARED:
        require_shared(NEEDS_SHARED[path.name])
    stdout, figures = _run_notebook(path, tmp_path, SHARED_DATA.resolve())
    assert figures > 0
    if path.name == "02_counting_squats.ipynb":
        assert "squat: 5 repetitions" in stdout
    if path.name == "04_training_a_pose_classifier.ipynb":
        # The held-out clip's 5 squats (counted by eye), with the model trained in the notebook.
        assert "squat_down: 5 repetitions" in stdout
    if path.name in NEEDS_SHARED:
        assert "is missing" not in stdout


@pytest.mark.parametrize("name", sorted(NEEDS_SHARED))
def test_notebook_without_the_shared_media_says_what_to_get_and_finishes(name, tmp_path):
    # A reader with only the repository: the data folder is empty.
    empty = tmp_path / "no_shared_data"
    empty.mkdir()
    stdout, figures = _run_notebook(REPO / "notebooks" / name, tmp_path, empty)
    clip = empty / NEEDS_SHARED[name]
    assert f"{clip} is missing" in stdout
    assert "POSEJAX_SHARED_DATA" in stdout and "repetitions" not in stdout
    assert figures == 0  # the figure cells are skipped too, not only the tracking


def _run_notebook(path: Path, tmp_path: Path, shared_data: Path) -> tuple[str, int]:
    """Run the notebook's code cells as one script from notebooks/: its stdout and the number
    of matplotlib figures it left open."""
    script = tmp_path / "notebook.py"
    script.write_text(code_of(path) + "\nimport matplotlib.pyplot as _plt\n"
                      "print('NOTEBOOK DONE', len(_plt.get_fignums()))\n")
    env = {**os.environ, "MPLBACKEND": "Agg", "POSEJAX_SHARED_DATA": str(shared_data)}
    proc = subprocess.run([sys.executable, str(script)], cwd=REPO / "notebooks", env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    done = [line for line in proc.stdout.splitlines() if line.startswith("NOTEBOOK DONE")]
    assert len(done) == 1, proc.stdout[-4000:]
    return proc.stdout, int(done[0].split()[-1])
