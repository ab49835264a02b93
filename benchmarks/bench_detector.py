"""Time the jitted PoseDetector against LiteRT on this machine's CPU.

Reports the compile time and the best and median wall time per image at batch 1 and 8, float32 and
bfloat16, next to LiteRT (``ai-edge-litert``, XNNPACK, ``--threads`` threads) on the original
``pose_detection.tflite``, which runs one image per invoke.

Usage::

    python benchmarks/bench_detector.py --tflite path/to/pose_detection.tflite
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from posejax.nets.detector import INPUT_SIZE, PoseDetector

ROOT = Path(__file__).resolve().parents[1]


def load_params(path: Path):
    """Flat ``/``-joined float16 npz (as written by tools/convert_weights.py) to Flax variables."""
    from flax.traverse_util import unflatten_dict

    with np.load(path) as npz:
        flat = {tuple(k.split("/")): jnp.asarray(npz[k], jnp.float32) for k in npz.files}
    return {"params": unflatten_dict(flat)}


def _call(compiled, params, images):
    return jax.block_until_ready(compiled(params, images))


def best_and_median(fn, repeats: int) -> tuple[float, float]:
    """Fastest and median wall time of ``repeats`` calls (the best is robust to other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=ROOT / "models" / "detector.npz")
    parser.add_argument("--tflite", type=Path, default=None,
                        help="pose_detection.tflite; LiteRT is skipped without it")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)

    params = load_params(args.weights)
    rng = np.random.default_rng(0)
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}")
    for dtype in (jnp.float32, jnp.bfloat16):
        apply = jax.jit(PoseDetector(dtype=dtype).apply)
        for batch in (1, 8):
            images = jnp.asarray(rng.uniform(-1, 1, (batch, INPUT_SIZE, INPUT_SIZE, 3)),
                                 jnp.float32)
            start = time.perf_counter()
            compiled = apply.lower(params, images).compile()
            compile_s = time.perf_counter() - start
            run = functools.partial(_call, compiled, params, images)
            run()
            best, median = best_and_median(run, args.repeats)
            print(f"jax {jnp.dtype(dtype).name:8s} batch {batch}: compile {compile_s:5.2f} s, "
                  f"best {1e3 * best / batch:6.1f} ms/image, median {1e3 * median / batch:6.1f}")

    if args.tflite is not None:
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(args.tflite), num_threads=args.threads)
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[0]["index"]
        image = rng.uniform(-1, 1, (1, INPUT_SIZE, INPUT_SIZE, 3)).astype(np.float32)

        def invoke():
            interpreter.set_tensor(index, image)
            interpreter.invoke()

        invoke()
        best, median = best_and_median(invoke, args.repeats)
        print(f"LiteRT float32  batch 1 ({args.threads} threads): "
              f"best {1e3 * best:6.1f} ms/image, median {1e3 * median:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
