"""The house's floors: every import in posejax points down, and there is no import circle.

Read from the sources (``ast``), not by importing: ``import posejax.pipeline`` runs
``posejax/__init__.py`` first, which imports every floor, so only the source says what a module
itself depends on. Each module's *module-level* imports (an ``import`` inside a function is
treated separately) must reach modules on its own floor or below; a package's ``__init__`` sits
on the floor of its highest submodule.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

from tests.helpers.reference_data import REPO

# Lowest floor first. A module on floor k may import modules on floors 0..k at module level.
FLOORS: list[tuple[str, ...]] = [
    ("posejax.landmarks", "posejax.io._atomic", "posejax._cache"),
    ("posejax.ops", "posejax.ops.*", "posejax.nets.*"),
    ("posejax.nets",),
    ("posejax.pipeline",),
    ("posejax.stepwise",),
    ("posejax.people",),
    ("posejax.result", "posejax.kinematics", "posejax.io._paths", "posejax.io._container_checks",
     "posejax.io.video", "posejax.io._lock"),
    ("posejax.track",),
    ("posejax.tables.*",),
    ("posejax.tables",),
    ("posejax.io._metadata", "posejax.io._hdf5", "posejax.io._index", "posejax.io.csv_files",
     "posejax.io.landmark_files", "posejax.io"),
    ("posejax.io.datasets",),
    ("posejax.draw",),
    ("posejax.accessor",),
    ("posejax.solutions.*", "posejax.solutions"),
    ("posejax.tasks.*", "posejax.tasks"),
    ("posejax.batch",),
    ("posejax.dask",),
    ("posejax",),
    ("classify", "classify.*"),
    ("posejax.cli",),
]

#: The JAX core: no pandas, no matplotlib, no classify, even indirectly.
CORE = ("posejax.ops*", "posejax.nets*", "posejax.pipeline", "posejax.stepwise")
CORE_FORBIDDEN = ("pandas", "matplotlib", "classify", "sklearn", "xarray", "dask",
                  "distributed")

#: Third-party imports allowed inside functions (optional or deliberately deferred).
DEFERRED_THIRD_PARTY = {
    "PIL": "the names of several people drawn into frames; Pillow comes with imageio, and "
           "`import posejax` does not load it",
    "matplotlib": "drawing only; `import posejax` should not pay for matplotlib and its backend",
    "pyarrow": "optional extra posejax[parquet]",
    "tables": "optional extra posejax[h5] (PyTables)",
    "h5py": "optional extra posejax[h5]: the HDF5 reader that never unpickles",
    "xarray": "optional extra posejax[xarray]",
    "pandas": "classify's reader of pose tables, whose estimators take plain arrays too",
    "sklearn": "classify.knn clones the user's estimator only when asked to",
    "scipy": "posejax.people assigns detections to person slots (Hungarian); SciPy comes with "
    "scikit-learn, and a tracker that never assigns never imports it",
    "dask": "optional extra posejax[dask]: track_videos on a cluster",
    "distributed": "optional extra posejax[dask]: track_videos on a cluster",
}

#: Imports of our own modules inside functions, each with its reason; nothing else may reach up.
DEFERRED_OURS = {
    ("posejax.result", "posejax.tables"): "PoseTrack.to_dataframe/from_dataframe conveniences",
    ("posejax.cli", "classify.cli"): "`posejax reps` exists only where classify is installed",
    ("posejax.cli", "posejax.dask"): "--scheduler/--workers need the optional extra posejax[dask]",
    ("posejax", "posejax.accessor"): "df.pose loads the accessor on first use, not at import",
    ("posejax.cli", "posejax.batch"): "`posejax track` on one file should not import pandas first",
    ("posejax.cli", "posejax.draw"): "--annotate only; drawing videos is not needed to track",
    ("posejax.io.landmark_files", "posejax.io.datasets"): "read_landmarks of many files; the "
    "reader of many reads each with read_landmarks, so importing it at the top is a circle",
}

PACKAGES = ("posejax", "classify")
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _floor(module: str) -> int:
    for level, patterns in enumerate(FLOORS):
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return level
    raise AssertionError(f"{module} is on no floor of FLOORS; add it where it belongs")


def _resolve(name: str) -> str:
    """The longest prefix of a dotted name that is one of our modules (or the name itself)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return name


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(module-level imports, imports inside functions) of a source file, resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    in_functions: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_functions.update(id(child) for child in ast.walk(node) if child is not node)
    top, deferred = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [_resolve(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}: relative import; posejax uses absolute imports")
            if node.module == "__future__":
                continue
            names = [_resolve(f"{node.module}.{alias.name}") for alias in node.names]
        else:
            continue
        (deferred if id(node) in in_functions else top).update(names)
    return top, deferred


def _ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


GRAPH = {name: _imports(path) for name, path in MODULES.items() if path.suffix == ".py"}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_module_level_imports_point_down(module):
    top, _ = GRAPH[module]
    upward = sorted(
        f"{target} (floor {_floor(target)})"
        for target in top
        if _ours(target) and target != module and _floor(target) > _floor(module)
    )
    assert not upward, f"{module} (floor {_floor(module)}) imports upward: {upward}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_inside_functions_are_optional_or_listed(module):
    _, deferred = GRAPH[module]
    wrong = []
    for target in sorted(deferred):
        if _ours(target):
            upward = _floor(target) > _floor(module)
            if (module, target) in DEFERRED_OURS:
                continue
            if upward:
                wrong.append(f"{target} (upward)")
            elif not upward and module.split(".")[0] == "posejax":
                # (classify defers some of its own imports to keep `import classify` light.)
                wrong.append(f"{target} (points down: import it at the top of the module)")
        elif target.split(".")[0] not in DEFERRED_THIRD_PARTY:
            wrong.append(f"{target} (a required dependency: import it at the top)")
    assert not wrong, f"{module} imports inside functions: {wrong}"


def test_no_import_circle():
    edges = {m: {t for t in top if t in GRAPH and t != m} for m, (top, _) in GRAPH.items()}
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(module, path):
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                circle = path[path.index(target):] + [target]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])


def test_the_jax_core_never_reaches_pandas_matplotlib_or_classify():
    def closure(module, seen):
        for target in GRAPH.get(module, (set(), set()))[0]:
            if target not in seen:
                seen.add(target)
                closure(target, seen)
        return seen

    core = [m for m in GRAPH if any(fnmatch.fnmatchcase(m, p) for p in CORE)]
    assert {"posejax.pipeline", "posejax.ops.image", "posejax.nets.landmark"} <= set(core)
    for module in core:
        reached = closure(module, set())
        bad = sorted(t for t in reached if t.split(".")[0] in CORE_FORBIDDEN)
        assert not bad, f"{module} reaches {bad}"


def test_every_listed_exception_is_still_needed():
    for module, target in DEFERRED_OURS:
        assert target in GRAPH[module][1], f"{module} no longer imports {target}: drop the entry"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_long_modules_say_why(module):
    path = MODULES[module]
    lines = len(path.read_text().splitlines())
    if lines > MAX_LINES:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert f"{MAX_LINES} lines" in doc, (
            f"{path.relative_to(REPO)} has {lines} lines: split it, or say in its docstring why "
            f"it is over the house's {MAX_LINES} lines"
        )


def test_the_checker_sees_what_it_checks():
    # A broken parser would pass everything above; make sure it finds known edges.
    top, deferred = GRAPH["posejax.track"]
    assert {"posejax.pipeline", "posejax.result", "posejax.io.video", "numpy"} <= top
    assert "posejax.tables" in GRAPH["posejax.result"][1]
    assert _floor("posejax.ops.image") < _floor("posejax.pipeline") < _floor("posejax.tables")
    assert _floor("posejax.tables.convert") < _floor("posejax.io.landmark_files")
