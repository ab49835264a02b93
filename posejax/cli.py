"""The ``posejax`` command line: ``posejax track`` (and ``posejax reps`` from ``classify``).

Example
-------
::

    posejax track squats.mp4 -o squats.csv --annotate squats_pose.mp4
    posejax track photos/*.jpg -o poses.parquet
    posejax track a.mp4 b.mp4 -o out/{stem}.h5 --model-complexity 2
    posejax track workouts/ -o landmarks/                  # one Parquet per video + _index.csv
    posejax track workouts/ -o landmarks/ --workers 4      # on a local Dask cluster
    posejax track workouts/ -o landmarks/ --scheduler tcp://host:8786

An output folder (``-o DIR/``, or a folder among the inputs) runs :func:`posejax.track_videos`:
exit status 0 when every video is done or skipped, 1 when any failed (listed on stderr) or the
folder is in use by another run, 2 for a usage error (among them a folder of videos with a file
as output, ``-o x.csv``: every output path is checked before any work).

Over the house's 500 lines: ``posejax track`` checks every output path of every mode (files,
folders, annotations, masks) before any work, and those checks read best next to the modes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from posejax import __version__, _cache, stepwise
from posejax.io import IMAGE_SUFFIXES, LANDMARK_FORMATS, read_image, read_video, write_landmarks
from posejax.io._atomic import atomic_path
from posejax.io._paths import refuse_input_as_output
from posejax.ops import buckets
from posejax.pipeline import PipelineConfig, get_pipeline
from posejax.track import prepare, track

PROG = "posejax"


class CommandError(Exception):
    """A problem with the user's input, reported as one line and exit status 1."""


class UsageError(CommandError):
    """A command line that cannot run as given, reported as one line and exit status 2."""


def _add_track_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "track",
        help="track poses in videos or images and save the landmarks",
        description=(
            "Track one person's pose in each video (or in a set of images) with MediaPipe Pose "
            "rebuilt in JAX, and save the landmarks as CSV, Parquet or DeepLabCut HDF5."
        ),
        epilog=(
            "Several inputs: images go into one table (frame i = i-th image) unless OUTPUT "
            "contains {stem}; videos need {stem} in OUTPUT (and in --annotate), e.g. "
            "-o out/{stem}.csv. A folder as OUTPUT (ending in /) or among the inputs tracks "
            "many videos into OUTPUT/<stem>-<hash>.parquet and OUTPUT/_index.csv, resumably: a "
            "second run skips what is done; one run at a time per OUTPUT folder; exit status 1 "
            "if any video failed."
        ),
    )
    parser.add_argument("inputs", nargs="+", metavar="VIDEO|IMAGE|FOLDER",
                        help="files to track, or folders of videos")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT",
        help="landmark file: .csv, .parquet or .h5 (DeepLabCut-compatible); may contain {stem}",
    )  # fmt: skip
    parser.add_argument(
        "--layout", choices=("long", "wide", "dlc"), default=None,
        help="table layout for .csv/.parquet (default long; .h5 is always DeepLabCut's)",
    )  # fmt: skip
    parser.add_argument(
        "--units", choices=("normalized", "px"), default="normalized",
        help="x, y, z as fractions of the image size (default) or in pixels",
    )  # fmt: skip
    parser.add_argument(
        "--model-complexity", type=int, choices=(0, 1, 2), default=1,
        help="0 lite, 1 full (default), 2 heavy",
    )  # fmt: skip
    parser.add_argument(
        "--static", action="store_true",
        help="treat video frames as unrelated images (detector on every frame, no smoothing)",
    )  # fmt: skip
    parser.add_argument("--no-smooth", action="store_true", help="turn landmark smoothing off")
    parser.add_argument(
        "--num-poses", type=int, default=None, metavar="N",
        help="track up to N people in each video (default: one); tables gain an 'individual' "
        "column",
    )  # fmt: skip
    parser.add_argument(
        "--min-detection-confidence", type=float, default=0.5, metavar="P",
        help="detector score threshold (default 0.5)",
    )  # fmt: skip
    parser.add_argument(
        "--min-tracking-confidence", type=float, default=0.5, metavar="P",
        help="pose presence threshold (default 0.5)",
    )  # fmt: skip
    parser.add_argument(
        "--fps", type=float, default=None,
        help="frame rate for times and smoothing (default: MediaPipe's clock, the file's rate)",
    )  # fmt: skip
    parser.add_argument(
        "--segmentation", metavar="DIR", default=None,
        help="also segment the person and save each frame's mask as an 8-bit PNG in DIR",
    )  # fmt: skip
    parser.add_argument(
        "--annotate", metavar="PATH", default=None,
        help="save a copy with the skeleton drawn: .mp4 for videos, .png/.jpg for images",
    )  # fmt: skip
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True,
        help="show progress bars (default: on)",
    )  # fmt: skip
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler", metavar="ADDRESS", default=None,
        help="run the videos on a running Dask scheduler (output folder only; posejax[dask])",
    )  # fmt: skip
    cluster.add_argument(
        "--workers", type=int, metavar="N", default=None,
        help="run the videos on a local Dask cluster of N processes (output folder only)",
    )  # fmt: skip
    parser.set_defaults(run=run_track)


def _frame_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> ``(720, 1280)``, (height, width)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 1280x720, got {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"a frame size needs positive sides, got {text!r}")
    return height, width


#: What ``posejax warmup --mode`` prepares, and what uses it.
WARMUP_MODES = {
    "track": "posejax.track / posejax track on videos",
    "video": "Pose.process frame by frame",
    "static": "Pose(static_image_mode=True) and photos",
}


def _add_warmup_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "warmup",
        help="compile posejax's programs for this machine ahead of their first use",
        description=(
            "Compile, into posejax's cache folder, the programs of the given model complexities "
            "for every frame-size bucket (a handful of pixel counts that serve every frame size "
            "from thumbnails to 4K, in both orientations) and every clip length: the networks, "
            "the chunk program posejax.track runs on videos, and the small per-frame programs of "
            "Pose.process and of photos. Later processes then only load them. With the defaults "
            "this takes about 2 minutes on 2 CPU cores and adds about 90 MB to the cache. "
            "Safe to run again: what is cached is only loaded."
        ),
        epilog="Example: posejax warmup --model-complexity 0 1 --mode track --size 1920x1080",
    )
    parser.add_argument(
        "--model-complexity", type=int, nargs="+", choices=(0, 1, 2), default=[1],
        metavar="N", help="0 lite, 1 full, 2 heavy (default: 1)",
    )  # fmt: skip
    parser.add_argument(
        "--mode", nargs="+", choices=tuple(WARMUP_MODES), default=list(WARMUP_MODES),
        help="what to prepare: " + "; ".join(f"{k}: {v}" for k, v in WARMUP_MODES.items())
             + " (default: all three)",
    )  # fmt: skip
    parser.add_argument(
        "--size", type=_frame_size, nargs="+", default=[], metavar="WxH",
        help="prepare only the buckets of these frame sizes, e.g. 1280x720 (default: every "
             "bucket up to 3840x2160)",
    )  # fmt: skip
    parser.add_argument("--segmentation", action="store_true",
                        help="prepare enable_segmentation=True instead of False")
    parser.set_defaults(run=run_warmup)


def run_warmup(args) -> int:
    """``posejax warmup``: see ``posejax warmup --help``."""
    total = time.perf_counter()
    disk_before = _cache_bytes()
    # A packed bucket's own shape is one of its frame sizes (see posejax.ops.buckets).
    shapes = (sorted({buckets.frame_bucket(*size) for size in args.size}) if args.size
              else buckets.bucket_shapes())
    tasks = [(complexity, mode, shape) for complexity in args.model_complexity
             for mode in args.mode for shape in shapes]

    def prepare_one(task) -> None:
        complexity, mode, (rows, columns) = task
        start = time.perf_counter()
        config = PipelineConfig(model_complexity=complexity, static_image_mode=mode == "static",
                                enable_segmentation=args.segmentation)
        if mode == "track":
            prepare(config, rows, columns)
        else:
            stepwise.shared_runner(get_pipeline(config), 1, rows, columns).prepare()
        print(f"complexity {complexity}, {WARMUP_MODES[mode]}, frames of up to "
              f"{rows * columns / 1e6:.2f} Mpx: ready ({time.perf_counter() - start:.1f} s)",
              flush=True)

    # XLA compiles a program on one core, so programs compile side by side, one per core. The
    # network programs, which Pose.process and photos of every bucket share, are compiled first,
    # by one task of each complexity (the track program holds its own copy of the networks).
    firsts = {}
    for task in sorted(tasks, key=lambda task: task[1] == "track"):
        firsts.setdefault(task[0], task)
    for task in firsts.values():
        prepare_one(task)
    rest = [task for task in tasks if task not in firsts.values()]
    with concurrent.futures.ThreadPoolExecutor(max(1, len(os.sched_getaffinity(0)))) as pool:
        list(pool.map(prepare_one, rest))
    added = (_cache_bytes() - disk_before) / 1e6
    print(f"posejax warmup: done in {time.perf_counter() - total:.1f} s; {added:.0f} MB added to "
          f"{_cache_folder()} ({_cache_bytes() / 1e6:.0f} MB in all)")
    return 0


def _cache_bytes() -> int:
    folder = _cache.cache_dir()
    if folder is None or not folder.is_dir():
        return 0
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _cache_folder() -> str:
    folder = _cache.cache_dir()
    return "nowhere (POSEJAX_CACHE_DIR=off)" if folder is None else str(folder)


def _reps_module():
    """``classify.cli`` if the classify package provides it, else None."""
    # classify sits above posejax (and pulls in scikit-learn), so it is imported only here, for
    # `posejax reps`, and its absence only removes that command.
    try:
        from classify import cli
    except ModuleNotFoundError as error:
        if error.name in ("classify", "classify.cli"):
            return None
        raise
    if not hasattr(cli, "add_reps_parser") or not hasattr(cli, "run_reps"):
        return None
    return cli


def build_parser(with_reps: bool = True) -> argparse.ArgumentParser:
    """The ``posejax`` argument parser.

    Parameters
    ----------
    with_reps : bool
        Register ``posejax reps`` from ``classify.cli`` (imports scikit-learn).

    Example
    -------
    >>> args = build_parser(with_reps=False).parse_args(["track", "a.mp4", "-o", "a.csv"])
    >>> args.model_complexity
    1
    """
    parser = argparse.ArgumentParser(
        prog=PROG, description="MediaPipe Pose (BlazePose) in JAX: pose tracking from the shell."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    _add_track_parser(subparsers)
    _add_warmup_parser(subparsers)
    reps = _reps_module() if with_reps else None
    if reps is not None:
        before = set(subparsers.choices)
        reps.add_reps_parser(subparsers)
        for name in set(subparsers.choices) - before:
            subparsers.choices[name].set_defaults(run=reps.run_reps)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``posejax`` command; returns the exit status.

    Example
    -------
    >>> main(["track", "squats.mp4", "-o", "squats.csv", "--no-progress"])  # doctest: +SKIP
    squats.mp4: 65 frames, 65 with a pose, 21.3 frames/s -> squats.csv
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # `posejax track` and `warmup` should not pay for importing scikit-learn through classify.
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(with_reps=command not in ("track", "warmup"))
    args = parser.parse_args(argv)
    try:
        status = args.run(args)
    except UsageError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError, TypeError, ImportError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 0 if status is None else int(status)


# -- posejax track --------------------------------------------------------------------------------


def _expand(template: str, stem: str) -> Path:
    return Path(template.replace("{stem}", stem))


def _check_output(path: Path, layout: str | None) -> None:
    suffix = path.suffix.lower()
    if suffix not in LANDMARK_FORMATS:
        raise CommandError(
            f"cannot write landmarks to {str(path)!r}: use a .csv, .parquet or .h5 file"
        )
    if layout is not None and layout not in LANDMARK_FORMATS[suffix]:
        raise CommandError(
            f"{suffix} files hold the layouts {LANDMARK_FORMATS[suffix]}, not {layout}"
        )


def _jobs(args) -> list[dict]:
    """What to track and where to write it: one job per output file."""
    inputs = [Path(p) for p in args.inputs]
    for path in inputs:
        if not path.exists():
            raise CommandError(f"no such file: {str(path)!r}")
        if not path.is_file():
            raise CommandError(f"{str(path)!r} is not a file")
    per_input = "{stem}" in args.output
    stems = [p.stem for p in inputs]
    if per_input and len(set(stems)) != len(stems):
        raise CommandError("two inputs share a file name stem, so {stem} would clash")
    images = [p.suffix.lower() in IMAGE_SUFFIXES for p in inputs]
    if per_input or len(inputs) == 1:
        groups = [[p] for p in inputs]
    elif all(images):
        groups = [inputs]
    else:
        raise CommandError(
            "several inputs with videos among them need {stem} in the output, "
            "e.g. -o out/{stem}.csv"
        )
    jobs = []
    for group in groups:
        stem = group[0].stem
        output = _expand(args.output, stem)
        _check_output(output, args.layout)
        is_image = group[0].suffix.lower() in IMAGE_SUFFIXES
        annotate = None
        if args.annotate is not None:
            if len(group) > 1 and "{stem}" not in args.annotate:
                raise CommandError("--annotate for several images needs {stem}: out/{stem}.png")
            annotate = [_expand(args.annotate, p.stem) for p in group]
            _check_annotation(annotate[0], is_image)
        jobs.append(dict(inputs=group, output=output, annotate=annotate, images=is_image))
    outputs = set()
    for job in jobs:
        for path in [job["output"]] + (job["annotate"] or []):
            if not path.parent.is_dir():
                raise CommandError(f"folder {str(path.parent)!r} does not exist")
            _refuse_input(path, inputs)
            key = os.path.realpath(path)
            if key in outputs:
                raise CommandError(f"{str(path)!r} would be written twice; give each output "
                                   "its own name")
            outputs.add(key)
    return jobs


def _refuse_input(path: Path, inputs) -> None:
    """A CommandError, before any work, when writing ``path`` would destroy an input."""
    try:
        refuse_input_as_output(path, inputs)
    except ValueError as error:
        raise CommandError(str(error)) from None


def _check_annotation(path: Path, image: bool) -> None:
    suffix = path.suffix.lower()
    if image and suffix not in IMAGE_SUFFIXES:
        raise CommandError(f"--annotate for an image needs an image file (.png, .jpg), got {path}")
    if not image and suffix not in (".mp4", ".mkv", ".mov", ".avi"):
        raise CommandError(f"--annotate for a video needs a video file (.mp4), got {path}")


def _is_folder_job(args) -> bool:
    output = args.output
    return (output.endswith(("/", os.sep)) or Path(output).is_dir()
            or any(Path(p).is_dir() for p in args.inputs))


def _check_output_folder(args) -> Path:
    """The output folder of a folder job, checked before any work; nothing is created."""
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise UsageError(f"{str(output)!r} is a file; folders of videos are tracked into an "
                         f"output folder: give a folder, e.g. -o out/")
    if not output.exists() and not args.output.endswith(("/", os.sep)) \
            and output.suffix.lower() in LANDMARK_FORMATS:
        raise UsageError(f"{str(output)!r} names a landmark file, but a folder of videos is "
                         f"tracked into one file per video: give a folder, e.g. "
                         f"-o {output.with_suffix('')}/")
    parent = output.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"cannot create the output folder {str(output)!r}: {str(parent)!r} "
                         f"is a file")
    return output


def run_videos(args) -> int:
    """``posejax track ... -o DIR/``: :func:`posejax.track_videos`, locally or on Dask."""
    for option, value in (("--annotate", args.annotate), ("--segmentation", args.segmentation),
                          ("--layout", args.layout)):
        if value is not None:
            raise UsageError(f"{option} is not available with an output folder")
    if args.units != "normalized" or args.static or "{stem}" in args.output:
        raise UsageError("an output folder takes normalized units, video mode and no {stem}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers needs a positive number, got {args.workers}")
    output = _check_output_folder(args)
    options = dict(
        model_complexity=args.model_complexity, smooth_landmarks=not args.no_smooth,
        min_detection_confidence=args.min_detection_confidence,
        min_tracking_confidence=args.min_tracking_confidence, fps=args.fps,
    )
    if args.num_poses is not None:  # several people per video: passed on only when asked for
        if args.num_poses < 1:
            raise UsageError(f"--num-poses needs at least 1 person, got {args.num_poses}")
        options["num_poses"] = args.num_poses
    from posejax.batch import INDEX_NAME, resolve_videos, track_videos

    try:
        videos = resolve_videos(args.inputs)
    except ValueError as error:
        raise UsageError(str(error)) from error
    client = None
    if args.scheduler is not None or args.workers is not None:
        from posejax import dask as posejax_dask

        if args.scheduler is not None:
            from distributed import Client

            client = Client(args.scheduler)
        else:
            client = posejax_dask.local_client(args.workers)
    try:
        index = track_videos(videos, output, executor=client, progress=args.progress,
                             **options)
    finally:
        if client is not None:
            posejax_dask.close_client(client)
    counts = index.status.value_counts()
    print(f"{len(index)} videos: {counts.get('done', 0)} done, {counts.get('skipped', 0)} "
          f"skipped, {counts.get('failed', 0)} failed -> {output / INDEX_NAME}")
    failed = index[index.status == "failed"]
    if len(failed):
        print(f"{PROG} track: {len(failed)} failed:", file=sys.stderr)
        for row in failed.itertuples():
            print(f"  {row.video}: {row.error}", file=sys.stderr)
        return 1
    return 0


def run_track(args) -> int:
    """``posejax track``: see ``posejax track --help``."""
    if _is_folder_job(args):
        return run_videos(args)
    if args.scheduler is not None or args.workers is not None:
        raise UsageError("--scheduler and --workers need an output folder: -o OUTDIR/")
    if args.num_poses is not None and args.num_poses < 1:
        raise UsageError(f"--num-poses needs at least 1 person, got {args.num_poses}")
    jobs = _jobs(args)
    segmentation = None
    if args.segmentation is not None:
        segmentation = Path(args.segmentation)
        if segmentation.exists() and not segmentation.is_dir():
            raise CommandError(f"--segmentation needs a folder; {str(segmentation)!r} is a file")
        inputs = [p for job in jobs for p in job["inputs"]]
        masks = [m for job in jobs for m in _mask_paths(job, segmentation, count=1)]
        for mask in masks:
            _refuse_input(mask, inputs)
        if len({os.path.realpath(m) for m in masks}) < len(masks):
            raise CommandError("two inputs share a file name stem, so their masks would "
                               f"overwrite each other in {str(segmentation)!r}")
        segmentation.mkdir(parents=True, exist_ok=True)
    options = dict(
        model_complexity=args.model_complexity,
        smooth_landmarks=not args.no_smooth,
        enable_segmentation=segmentation is not None,
        min_detection_confidence=args.min_detection_confidence,
        min_tracking_confidence=args.min_tracking_confidence,
        fps=args.fps,
        progress=args.progress,
    )
    if args.num_poses is not None:  # several people: passed on only when asked for
        options["num_poses"] = args.num_poses
    # Open every input first, so that a bad file fails in a second, not after minutes of work.
    for job in jobs:
        if job["images"]:
            job["frames"] = [read_image(p) for p in job["inputs"]]
        else:
            job["frames"] = read_video(job["inputs"][0])
            job["frames"].check()   # cut short or with data missing: VideoDecodeError now
    for job in jobs:
        start = time.perf_counter()
        if job["images"]:
            frames = job["frames"]
            result = track(
                frames if len(frames) > 1 else frames[0][None], static_image_mode=True, **options
            )
        else:
            result = track(str(job["inputs"][0]), static_image_mode=args.static, **options)
        elapsed = time.perf_counter() - start
        data = result
        if job["output"].suffix.lower() not in (".h5", ".hdf5"):
            data = result.to_dataframe(args.layout or "long", units=args.units)
            if len(job["inputs"]) > 1:  # frame i of the table is the i-th image
                data.attrs["sources"] = [p.name for p in job["inputs"]]
        write_landmarks(data, job["output"], units=args.units)
        if segmentation is not None:
            _write_masks(result, job, segmentation)
        if job["annotate"] is not None:
            _annotate(result, job, args.progress)
        frames_done = result.n_frames
        name = job["inputs"][0].name if len(job["inputs"]) == 1 else f"{len(job['inputs'])} images"
        rate = frames_done / elapsed if elapsed > 0 else float("inf")
        present = np.asarray(result.pose_present)
        if result.individuals is not None:  # frames where anyone was found
            present = present.any(axis=-1)
        print(
            f"{name}: {frames_done} frames, {int(np.sum(present))} with a pose, "
            f"{rate:.1f} frames/s -> {job['output']}"
        )
        job["frames"] = None  # let the images go before the next job
    return 0


def _mask_paths(job: dict, folder: Path, count: int | None = None) -> list[Path]:
    """Where the masks of a job go: ``<image stem>.png``, or ``<video stem>_<frame>.png``."""
    if job["images"]:
        return [folder / f"{p.stem}.png" for p in job["inputs"]]
    stem = job["inputs"][0].stem
    return [folder / f"{stem}_{index:06d}.png" for index in range(count or 0)]


def _write_masks(result, job: dict, folder: Path) -> None:
    masks = result.segmentation_mask
    if masks is None:
        return
    for index, path in enumerate(_mask_paths(job, folder, result.n_frames)):
        mask = np.nan_to_num(np.asarray(masks[index], np.float64), nan=0.0)
        pixels = np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8)
        with atomic_path(path) as temporary:
            iio.imwrite(temporary, pixels, extension=".png")


def _annotate(result, job: dict, progress: bool) -> None:
    from posejax.draw import annotate_video, render_skeleton

    if not job["images"]:
        annotate_video(job["inputs"][0], result, job["annotate"][0], progress=progress)
        return
    for index, (image, path) in enumerate(zip(job["frames"], job["annotate"], strict=True)):
        with atomic_path(path) as temporary:
            people = {} if result.individuals is None else {"labels": list(result.individuals)}
            iio.imwrite(temporary, render_skeleton(image, result.landmarks[index], **people),
                        extension=path.suffix.lower())


if __name__ == "__main__":
    sys.exit(main())
