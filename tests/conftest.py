"""Shared test configuration.

Compiled XLA programs are kept in a persistent cache (``.cache/jax`` in the repository, or
``$POSEJAX_TEST_JAX_CACHE``), and posejax's traced programs in ``.cache/posejax``, so that
repeated runs, and several test processes, trace and compile each pipeline once.

The tests are a package mirroring posejax's (``tests/unit/ops/`` for ``posejax/ops/``, ...);
shared helpers are the modules of :mod:`tests.helpers` (hand-built tracks, the reference-fixture
loaders), imported as ``from tests.helpers.synthetic import random_track``: pytest puts the
repository root on ``sys.path`` (``pythonpath`` in ``pyproject.toml``).
"""

from __future__ import annotations

import os
from pathlib import Path

# scikit-learn's estimator checks include an array-API check that skips unless SciPy's array-API
# mode is on, and SciPy reads this once, at import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import jax  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

_cache = os.environ.get("POSEJAX_TEST_JAX_CACHE", str(REPO / ".cache" / "jax"))
jax.config.update("jax_compilation_cache_dir", _cache)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
# posejax's own caches (traced programs, parameter shapes) stay in the repository as well.
os.environ.setdefault("POSEJAX_CACHE_DIR", str(REPO / ".cache" / "posejax"))
