"""Write ``tests/fixtures/nets/<name>.npz``: LiteRT outputs of the four networks on real crops.

For each network the fixture holds the uint8 input images and every output tensor of the original
``.tflite`` model run by LiteRT (``ai_edge_litert``, default XNNPACK delegate, 2 threads, one image
per invocation), in float32 under the keys of the Flax output dicts. The parity tests in
``tests/unit/nets/test_parity.py`` feed the same images to the Flax modules.

Inputs (people cropped from registry-sourced media; see ``../shared/data/MANIFEST.md`` and
``datasets/README.md``):

* landmark networks: 256x256 crops of a square region around a person (``cv2.warpAffine``,
  bilinear, border replicated, as the pipeline crops), from ``opencv_messi5.jpg`` and
  ``opencv_basketball1_gray.png`` (Debian ``opencv-doc``) and frame 120 of
  ``datasets/sports2d_demo.mp4`` (PyPI ``sports2d``, BSD-3);
* detector: whole images letterboxed to 224x224 (aspect kept, black bars) from
  ``skimage_astronaut.png`` (PyPI ``scikit-image``), ``opencv_basketball1_gray.png`` and frame 60
  of ``sports2d_demo.mp4`` (two people).

The float input is derived from the uint8 image exactly as the tests do, in float32:
``u8 / 255`` for the landmark networks, ``u8 * (2 / 255) - 1`` for the detector.

Usage::

    python tools/make_net_fixtures.py            # all four networks
    python tools/make_net_fixtures.py lite full  # some of them
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
VIDEO = ROOT / "datasets" / "sports2d_demo.mp4"
OUT = ROOT / "tests" / "fixtures" / "nets"
sys.path.insert(0, str(ROOT / "tools"))

from convert_weights import fetch_sources  # noqa: E402

#: TFLite output tensor name -> key of the Flax output dict.
OUTPUT_KEYS = {
    "landmark": {"Identity": "landmarks", "Identity_1": "pose_flag", "Identity_2": "segmentation",
                 "Identity_3": "heatmap", "Identity_4": "world_landmarks"},
    "detector": {"Identity": "boxes", "Identity_1": "scores"},
}

#: (source, frame or None, square region as (x_centre, y_centre, side) in pixels)
LANDMARK_CROPS = [
    ("images/opencv_messi5.jpg", None, (265, 195, 400)),
    ("images/opencv_basketball1_gray.png", None, (120, 275, 440)),
    ("sports2d_demo.mp4", 120, (840, 705, 500)),
]
DETECTOR_IMAGES = [
    ("images/skimage_astronaut.png", None),
    ("images/opencv_basketball1_gray.png", None),
    ("sports2d_demo.mp4", 60),
]


def read_rgb(source: str, frame: int | None) -> np.ndarray:
    """An RGB uint8 image from the shared data folder or a frame of the bundled video."""
    if source == "sports2d_demo.mp4":
        for i, image in enumerate(iio.imiter(VIDEO, plugin="pyav")):
            if i == frame:
                return np.ascontiguousarray(image[..., :3])
        raise ValueError(f"{VIDEO} has no frame {frame}")
    path = DATA / source
    if not path.exists():
        raise SystemExit(f"{path} is missing: the shared test media must sit next to the repo")
    image = iio.imread(path)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def crop_square(image: np.ndarray, centre_x: float, centre_y: float, side: float,
                size: int = 256) -> np.ndarray:
    """A square region of ``image`` resampled to a ``size``-pixel square (bilinear, edge pad)."""
    scale = size / side
    matrix = np.array([[scale, 0, size / 2 - scale * centre_x],
                       [0, scale, size / 2 - scale * centre_y]], np.float64)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def letterbox(image: np.ndarray, size: int = 224) -> np.ndarray:
    """``image`` scaled to fit ``size`` x ``size`` with its aspect ratio, centred on black."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    new_w, new_h = round(w * scale), round(h * scale)
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    out = np.zeros((size, size, 3), np.uint8)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    out[top:top + new_h, left:left + new_w] = resized
    return out


def to_float(name: str, images: np.ndarray) -> np.ndarray:
    """The network input for uint8 ``images``, in float32 (the tests derive it the same way)."""
    x = images.astype(np.float32)
    if name == "detector":
        return x * np.float32(2 / 255) - np.float32(1)
    return x / np.float32(255)


def run_litert(model_path: Path, name: str, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Every output of the model for each input (one invocation per image), stacked."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(model_path), num_threads=2)
    interp.allocate_tensors()
    keys = OUTPUT_KEYS["detector" if name == "detector" else "landmark"]
    (input_detail,) = interp.get_input_details()
    outputs = {key: [] for key in keys.values()}
    for x in inputs:
        interp.set_tensor(input_detail["index"], x[None])
        interp.invoke()
        for detail in interp.get_output_details():
            outputs[keys[detail["name"]]].append(interp.get_tensor(detail["index"])[0].copy())
    return {k: np.stack(v).astype(np.float32) for k, v in outputs.items()}


def make(name: str, model_path: Path) -> Path:
    if name == "detector":
        sources = [f"{s}" + (f"#frame={f}" if f is not None else "") for s, f in DETECTOR_IMAGES]
        images = np.stack([letterbox(read_rgb(s, f)) for s, f in DETECTOR_IMAGES])
    else:
        sources = [f"{s}" + (f"#frame={f}" if f is not None else "") + f" crop={box}"
                   for s, f, box in LANDMARK_CROPS]
        images = np.stack([crop_square(read_rgb(s, f), *box) for s, f, box in LANDMARK_CROPS])
    outputs = run_litert(model_path, name, to_float(name, images))
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"{name}.npz"
    np.savez_compressed(target, images=images, sources=np.array(sources), **outputs)
    print(f"{target}: {len(images)} inputs, {target.stat().st_size / 1e6:.2f} MB, "
          + ", ".join(f"{k} {v.shape}" for k, v in outputs.items()))
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=["detector", "lite", "full", "heavy"])
    parser.add_argument("--sources", type=Path, default=Path.home() / ".cache/posejax/sources")
    args = parser.parse_args(argv)
    models = fetch_sources(args.sources)
    for name in args.names:
        if name not in models:
            raise SystemExit(f"unknown network {name!r}; expected one of {', '.join(models)}")
        make(name, models[name])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
