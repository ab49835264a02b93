"""``import posejax``: light (names load on first use) yet complete (every public name, df.pose)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import posejax


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_posejax_leaves_pandas_and_matplotlib_unloaded():
    out = _run("import sys, posejax; "
               "print(sorted(m for m in ('pandas', 'matplotlib', 'sklearn') if m in sys.modules))")
    assert out == "[]"


IMPORT_ORDERS = {
    "posejax first": "import posejax; import pandas as pd",
    "pandas first": "import pandas as pd; import posejax",
    # pandas first imported by a posejax module that is itself half imported at that moment
    "pandas through posejax.tables": "import posejax, posejax.tables; import pandas as pd",
}


@pytest.mark.parametrize("order", list(IMPORT_ORDERS))
def test_the_pose_accessor_is_registered_whichever_comes_first(order):
    imports = IMPORT_ORDERS[order]
    out = _run(f"{imports}; print(hasattr(pd.DataFrame, 'pose'), "
               "type(pd.DataFrame().pose).__module__)")
    assert out == "True posejax.accessor"


def test_the_accessor_class_shows_the_real_methods_before_first_use():
    # help(pd.DataFrame.pose.angle), IPython's `?` and Sphinx read them off the class.
    out = _run("import posejax, pandas as pd; a = pd.DataFrame.pose; "
               "from posejax.accessor import PoseAccessor; "
               "print(a.angle is PoseAccessor.angle, 'interpolate' in dir(a), "
               "type(PoseAccessor.layout).__name__ == type(a.layout).__name__)")
    assert out == "True True True"


def test_help_of_the_accessor_documents_the_real_one():
    out = _run("import sys, pydoc, posejax, pandas as pd; "
               "loaded = 'posejax.accessor' in sys.modules; "
               "from posejax.accessor import PoseAccessor; "
               "text = pydoc.render_doc(pd.DataFrame.pose, renderer=pydoc.plaintext); "
               "print(loaded, pd.DataFrame.pose is PoseAccessor, "
               "pd.DataFrame.pose.__doc__ == PoseAccessor.__doc__, "
               "'PoseAccessorOnFirstUse' in text, 'def interpolate' in text or "
               "'interpolate(self' in text, type(pd.DataFrame({'x': [1.0]}).pose).__name__)")
    assert out == "False True True False True PoseAccessor"


@pytest.mark.parametrize("module, attribute", [
    ("draw", "annotate_video"), ("io", "read_video"), ("tables", "track_to_dataframe"),
    ("kinematics", "joint_angle"), ("accessor", "PoseAccessor"), ("batch", "track_videos"),
    ("dask", "local_client"), ("solutions", "drawing_utils"), ("tasks", "vision"),
])
def test_submodules_load_on_first_attribute_access(module, attribute):
    out = _run(f"import sys, posejax; before = 'posejax.{module}' in sys.modules; "
               f"value = posejax.{module}.{attribute}; "
               f"print(before, callable(value) or hasattr(value, '__file__'), "
               f"'{module}' in dir(posejax))")
    # posejax.io is imported by posejax.track (reading videos); the others wait for first use.
    assert out == f"{module == 'io'} True True"


def test_every_public_name_resolves():
    for name in posejax.__all__:
        assert getattr(posejax, name) is not None, name
        assert name in dir(posejax)
    assert posejax.Pose is posejax.solutions.pose.Pose
    assert posejax.read_landmarks is posejax.io.read_landmarks
    # The function, although a submodule of the same name exists (and is imported by others).
    importlib.import_module("posejax.batch")
    assert callable(posejax.track) and posejax.track.__module__ == "posejax.track"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Posee'"):
        posejax.Posee  # noqa: B018
    with pytest.raises(AttributeError, match="posejax.io"):
        posejax.io.read_landmark  # noqa: B018
