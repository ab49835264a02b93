"""Create the reference virtual environment that runs the released MediaPipe Pose.

posejax must match ``mediapipe==0.10.21`` (the last release of the legacy ``mp.solutions.pose``),
which needs ``numpy<2`` and therefore cannot live in the project environment. Fixture generators
(``tools/make_reference_fixtures.py``) and benchmarks run it from a separate venv at
``<repo>/.refvenv`` (git-ignored), built from the Python running this script.

What goes into it, and why:

* ``mediapipe==0.10.21`` and ``numpy<2``;
* ``imageio``, ``av`` and ``pillow`` pinned to the versions installed in the project environment
  (when present there), so images and video frames decode to the same bytes in both venvs;
  ``tests/integration/test_reference_fixtures.py`` checks this through stored sha256 digests;
* ``pose_landmark_lite.tflite`` and ``pose_landmark_heavy.tflite`` from the npm package
  ``@mediapipe/pose@0.5.1675469404`` (checked by sha256) copied into the venv's
  ``mediapipe/modules/pose_landmark/``: the wheel ships only the full model and ``pose.py`` would
  otherwise download the others from a bucket when ``Pose`` is constructed.

Running it again is cheap: a stamp file in the venv records what was installed, and nothing is
redone while the stamp, the interpreter and the model files are intact.

Usage::

    python tools/reference_env.py                 # create or check .refvenv, print its python
    python tools/reference_env.py --venv /tmp/rv  # somewhere else

From Python (benchmarks)::

    sys.path.insert(0, "tools"); import reference_env
    python = reference_env.ensure_reference_env()
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VENV = ROOT / ".refvenv"
SOURCE_CACHE = Path(os.environ.get("POSEJAX_SOURCE_CACHE", Path.home() / ".cache/posejax/sources"))

MEDIAPIPE_VERSION = "0.10.21"
NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
NPM_TARBALL = "mediapipe-pose-0.5.1675469404.tgz"

#: landmark models missing from the wheel: file name -> sha256 (same digests as convert_weights.py)
NPM_MODELS = {
    "pose_landmark_lite.tflite":
        "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "pose_landmark_heavy.tflite":
        "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
}

#: decoders whose version must equal the project's (fallback pin when the project lacks them)
DECODER_FALLBACKS = {"imageio": "imageio>=2.34", "av": "av>=18,<19", "pillow": "pillow>=10"}

STAMP_NAME = "posejax-reference.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reference_requirements() -> list[str]:
    """Requirement strings for the reference venv.

    Returns
    -------
    list of str
        ``mediapipe``, ``numpy<2`` and the image/video decoders pinned to the versions found in
        the interpreter running this function (so both venvs decode identically).

    Example
    -------
    >>> reference_requirements()[:2]
    ['mediapipe==0.10.21', 'numpy<2']
    """
    # opencv-contrib-python >= 4.12 needs numpy 2; pinning below it spares pip a long backtrack.
    requirements = [f"mediapipe=={MEDIAPIPE_VERSION}", "numpy<2", "opencv-contrib-python<4.12"]
    for dist, fallback in DECODER_FALLBACKS.items():
        try:
            requirements.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            requirements.append(fallback)
    return requirements


def venv_python(venv_dir: Path) -> Path:
    """Path of the interpreter inside ``venv_dir`` (POSIX or Windows layout)."""
    for candidate in (venv_dir / "bin" / "python", venv_dir / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return venv_dir / "bin" / "python"


def _npm_models(cache: Path) -> dict[str, bytes]:
    """The lite and heavy models out of the npm tarball (packed into ``cache`` if absent)."""
    tarball = cache / NPM_TARBALL
    if not tarball.exists():
        if shutil.which("npm") is None:
            raise RuntimeError(
                f"{tarball} is missing and npm is not installed to fetch {NPM_PACKAGE}; "
                f"run `npm pack {NPM_PACKAGE}` elsewhere and copy the tarball there")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", NPM_PACKAGE, "--pack-destination", str(cache)],
                       check=True, cwd=cache, stdout=sys.stderr)
    models = {}
    with tarfile.open(tarball) as archive:
        for name, digest in NPM_MODELS.items():
            data = archive.extractfile(f"package/{name}").read()
            actual = hashlib.sha256(data).hexdigest()
            if actual != digest:
                raise RuntimeError(f"{name} in {tarball} has sha256 {actual}, expected {digest}")
            models[name] = data
    return models


def _site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def _stamp_is_current(venv_dir: Path, requirements: list[str]) -> bool:
    stamp = venv_dir / STAMP_NAME
    if not stamp.exists() or not venv_python(venv_dir).exists():
        return False
    recorded = json.loads(stamp.read_text())
    if recorded.get("requirements") != requirements:
        return False
    model_dir = Path(recorded["model_dir"])
    return all((model_dir / name).exists() and _sha256(model_dir / name) == digest
               for name, digest in NPM_MODELS.items())


def run_under_reference(script: str, reference_python: str | None = None) -> None:
    """Return under ``mediapipe==MEDIAPIPE_VERSION``, else re-run ``script`` in the reference venv.

    The process is replaced by ``script``, with this process's arguments, under the reference
    venv's interpreter (created when missing). The fixture generators call it first thing, so
    they can be started from any interpreter.
    """
    try:
        import mediapipe
        if mediapipe.__version__ == MEDIAPIPE_VERSION:
            return
    except ImportError:
        pass
    if os.environ.get("POSEJAX_REFERENCE_REEXEC"):
        raise RuntimeError(f"{sys.executable} has no mediapipe=={MEDIAPIPE_VERSION} even after "
                           f"switching to the reference venv")
    if reference_python is None:
        reference_python = str(ensure_reference_env(quiet=True))
    print(f"re-running under {reference_python}", file=sys.stderr)
    os.environ["POSEJAX_REFERENCE_REEXEC"] = "1"
    os.execv(reference_python, [reference_python, str(Path(script).resolve()), *sys.argv[1:]])


def ensure_reference_env(venv_dir: Path | str = DEFAULT_VENV, *, quiet: bool = False) -> Path:
    """Create (or check) the reference venv and return its Python interpreter.

    Parameters
    ----------
    venv_dir : path-like
        Where the venv lives; ``<repo>/.refvenv`` by default.
    quiet : bool
        Pass ``-q`` to pip.

    Returns
    -------
    pathlib.Path
        The venv's ``python``, with ``mediapipe`` importable and all three landmark models in place.

    Example
    -------
    >>> python = ensure_reference_env()  # doctest: +SKIP
    >>> subprocess.run([python, "-c", "import mediapipe"], check=True)  # doctest: +SKIP
    """
    venv_dir = Path(venv_dir).resolve()
    requirements = reference_requirements()
    if _stamp_is_current(venv_dir, requirements):
        return venv_python(venv_dir)

    models = _npm_models(SOURCE_CACHE)
    if not venv_python(venv_dir).exists():
        venv.EnvBuilder(with_pip=True, clear=False).create(venv_dir)
    python = venv_python(venv_dir)
    pip = [str(python), "-m", "pip", "install", *(["-q"] if quiet else [])]
    # A wheel already downloaded by tools/convert_weights.py saves fetching 35 MB again.
    if sorted(SOURCE_CACHE.glob(f"mediapipe-{MEDIAPIPE_VERSION}-*.whl")):
        pip += ["--find-links", str(SOURCE_CACHE)]
    # pip's chatter goes to stderr so that stdout carries only the interpreter path.
    subprocess.run([*pip, *requirements], check=True, stdout=sys.stderr)

    model_dir = _site_packages(python) / "mediapipe" / "modules" / "pose_landmark"
    if not model_dir.is_dir():
        raise RuntimeError(f"mediapipe installed without {model_dir}; is the wheel complete?")
    for name, data in models.items():
        (model_dir / name).write_bytes(data)
    smoke_test = ("import mediapipe, numpy, imageio, av; "
                  f"assert mediapipe.__version__ == {MEDIAPIPE_VERSION!r}, mediapipe.__version__")
    subprocess.run([str(python), "-c", smoke_test], check=True)
    (venv_dir / STAMP_NAME).write_text(json.dumps(
        {"requirements": requirements, "model_dir": str(model_dir),
         "python": sys.version.split()[0]}, indent=1) + "\n")
    return python


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help="venv directory (default: <repo>/.refvenv)")
    parser.add_argument("-q", "--quiet", action="store_true", help="less pip output")
    args = parser.parse_args(argv)
    python = ensure_reference_env(args.venv, quiet=args.quiet)
    print(python)


if __name__ == "__main__":
    main()
