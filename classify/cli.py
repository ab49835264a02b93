"""``posejax reps``: count exercise repetitions in a video with the bundled models.

``posejax.cli`` registers the subcommand through :func:`add_reps_parser` and :func:`run_reps`.

Example
-------
::

    posejax reps squats.mp4 --exercise squat
    posejax reps pushups.mp4 --exercise pushup -o pushups_reps.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

TABLE_SUFFIXES = (".csv", ".parquet", ".json")


def add_reps_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``reps`` subcommand to an ``argparse`` subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``reps`` parser; its default ``run`` is :func:`run_reps`.

    Example
    -------
    >>> parser = argparse.ArgumentParser(prog="posejax")
    >>> _ = add_reps_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["reps", "a.mp4", "--exercise", "squat"]).exercise
    'squat'
    """
    from classify.exercises import EXERCISES

    parser = subparsers.add_parser(
        "reps",
        help="count exercise repetitions in a video",
        description=(
            "Track the pose in a video, classify every frame with the bundled k-NN model of the "
            "exercise and count repetitions: one each time the person leaves the bottom "
            "position. The last line of output is '<exercise>: <n> repetitions'."
        ),
    )
    parser.add_argument("video", metavar="VIDEO", help="video file of one person exercising")
    parser.add_argument(
        "--exercise", required=True, type=_exercise_name, metavar="NAME",
        help=f"bundled exercise: {', '.join(sorted(EXERCISES))}",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", metavar="TABLE", default=None,
        help="also save the per-frame table (probabilities, smoothed, running count) as "
        ".csv, .parquet or .json",
    )  # fmt: skip
    parser.add_argument(
        "--model-complexity", type=int, choices=(0, 1, 2), default=1,
        help="pose model: 0 lite, 1 full (default), 2 heavy",
    )  # fmt: skip
    parser.add_argument(
        "--enter-threshold", type=float, default=0.6, metavar="P",
        help="smoothed probability of the bottom position that enters it (default 0.6)",
    )  # fmt: skip
    parser.add_argument(
        "--exit-threshold", type=float, default=0.4, metavar="P",
        help="smoothed probability below which the person has left it (default 0.4)",
    )  # fmt: skip
    parser.add_argument(
        "--fps", type=float, default=None,
        help="frame rate for tracking and smoothing (default: the file's)",
    )  # fmt: skip
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True,
        help="show a progress bar while tracking (default: on)",
    )  # fmt: skip
    parser.set_defaults(run=run_reps)
    return parser


def _exercise_name(value: str) -> str:
    from classify.exercises import get_exercise

    try:
        return get_exercise(value).name
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_reps(args) -> int:
    """Run ``posejax reps`` on parsed arguments; prints the count last and returns 0.

    Parameters
    ----------
    args : argparse.Namespace
        From the parser of :func:`add_reps_parser`.

    Returns
    -------
    int
        Exit status.

    Example
    -------
    >>> parser = argparse.ArgumentParser()
    >>> _ = add_reps_parser(parser.add_subparsers())
    >>> run_reps(parser.parse_args(["reps", "squats.mp4", "--exercise", "squat"]))  # doctest: +SKIP
    squats.mp4: 65 frames, 65 with a pose
    squat: 2 repetitions
    0
    """
    from classify.exercises import exercise_model, get_exercise
    from classify.reps import count_repetitions

    exercise = get_exercise(args.exercise)
    video = Path(args.video)
    if not video.is_file():
        raise FileNotFoundError(f"no such video: {video}")
    output = Path(args.output) if args.output else None
    if output is not None and output.suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(
            f"cannot write {output.name}: the table is written as {', '.join(TABLE_SUFFIXES)}"
        )
    from posejax.track import track

    poses = track(
        str(video),
        model_complexity=args.model_complexity,
        fps=args.fps,
        progress=args.progress,
    )
    table, total = count_repetitions(
        poses,
        exercise_model(exercise.name),
        exercise.down,
        enter_threshold=args.enter_threshold,
        exit_threshold=args.exit_threshold,
    )
    print(f"{video.name}: {poses.n_frames} frames, {int(table['pose_present'].sum())} with a pose")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        suffix = output.suffix.lower()
        if suffix == ".csv":
            table.to_csv(output, index=False)
        elif suffix == ".parquet":
            table.to_parquet(output, index=False)
        else:
            table.to_json(output, orient="records", indent=1)
        print(f"per-frame table -> {output}")
    print(f"{exercise.name}: {total} repetitions")
    return 0
