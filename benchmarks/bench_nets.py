"""Each BlazePose network alone: posejax (jitted Flax) against LiteRT on the original .tflite.

For every network (detector, lite, full, heavy; landmark networks without the segmentation head,
as the pipeline runs them by default, and LiteRT computing everything its graph has): frames/s at
batch 1 and batch 32 (median of the repeats, after a warm-up), posejax both as one batched call
and mapped over the images (what the pipeline does on a CPU), and the ratio posejax / LiteRT.
LiteRT (``ai-edge-litert``, XNNPACK, ``--threads`` threads) takes one image per ``invoke``, so its
batch of 32 is 32 invokes. The .tflite files come from the cache that
``tools/convert_weights.py`` fills (fetched by package name when missing).

Usage::

    python benchmarks/bench_nets.py                 # all four networks
    python benchmarks/bench_nets.py full --quick    # batch 1 only, few repeats
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

ROOT = _common.ROOT
NAMES = ("detector", "lite", "full", "heavy")


def tflite_files() -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "tools"))
    import convert_weights

    return convert_weights.fetch_sources(Path.home() / ".cache" / "posejax" / "sources")


def bench_posejax(name: str, batch: int, repeats: int, per_image: bool = False) -> float:
    """frames/s of the jitted network; ``per_image`` maps it over the batch (``lax.map``), as
    the pipeline does on a CPU, instead of one batched call."""
    import posejax.nets as nets

    kwargs = {} if name == "detector" else {"with_segmentation": False}
    module, params = nets.load(name, **kwargs)
    shape = nets.input_shape(name)[1:]
    images = jax.device_put(np.random.default_rng(0).random((batch, *shape), np.float32))
    if per_image:
        apply = jax.jit(lambda p, x: nets.apply_per_image(module, p, x))
    else:
        apply = jax.jit(module.apply)
    jax.block_until_ready(apply(params, images))
    times = _common.timed(lambda: jax.block_until_ready(apply(params, images)), repeats)
    return batch / _common.median(times)


def bench_litert(path: Path, batch: int, repeats: int, threads: int) -> float:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    images = np.random.default_rng(0).random((batch, *detail["shape"][1:]), np.float32)

    def run():
        for image in images:
            interpreter.set_tensor(detail["index"], image[None])
            interpreter.invoke()

    run()
    return batch / _common.median(_common.timed(run, repeats))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(NAMES))
    parser.add_argument("--quick", action="store_true", help="batch 1 only, 5 repeats")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown network(s) {unknown}; expected some of {NAMES}")
    batches = (1,) if args.quick else (1, 32)
    repeats = 5 if args.quick else args.repeats
    files = tflite_files()
    rows = []
    for name in args.names:
        for batch in batches:
            n = max(2, repeats if batch == 1 else repeats // 3)
            ours = bench_posejax(name, batch, n)
            mapped = bench_posejax(name, batch, n, per_image=True) if batch > 1 else ours
            theirs = bench_litert(files[name], batch, n, args.threads)
            rows.append([name, batch, f"{ours:.1f}", f"{mapped:.1f}", f"{theirs:.1f}",
                         f"{max(ours, mapped) / theirs:.2f}"])
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
    table = _common.markdown_table(
        ["network", "batch", "posejax frames/s (batched call)",
         "posejax frames/s (lax.map per image)", f"LiteRT frames/s ({args.threads} threads)",
         "x LiteRT (best posejax)"], rows)
    print()
    print(table)
    if not args.no_results:
        _common.append_results("Networks alone" + (" (quick)" if args.quick else ""), table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
