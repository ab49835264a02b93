"""``posejax reps``: count exercise repetitions in a video, with a bundled model or without.

``posejax.cli`` registers the subcommand through :func:`add_reps_parser` and :func:`run_reps`.
The input is a video, tracked first, or a landmark file posejax wrote (its suffix one of
:data:`posejax.io.LANDMARK_FORMATS`: ``posejax track`` output, a ``track_videos`` result),
counted as it is, without tracking; the tracking options (``--model-complexity``, ``--fps``)
and ``--num-poses``) are refused for it before any work, since its landmarks were tracked
already.

Example
-------
::

    posejax reps squats.mp4 --exercise squat
    posejax reps pushups.mp4 --exercise pushup -o pushups_reps.csv --plot pushups.png
    posejax reps jumping_jacks.mp4          # any exercise: counts whatever is repeated
    posejax reps landmarks/squats-80b67431.parquet --exercise squat    # no tracking
    posejax reps gym.mp4 --exercise squat --num-poses 2    # two people, counted apart

With ``--num-poses N`` the video is tracked for up to N people (``posejax.track(...,
num_poses=N)``) and each person's repetitions are counted apart: the repetition lines start with
the person's name, and one ``<person>: <n> repetitions`` line per person comes before the
summary. A landmark file of several people is counted per person the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

TABLE_SUFFIXES = (".csv", ".parquet", ".json")
#: Formats matplotlib writes without extra packages.
PLOT_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


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
    from posejax import __version__

    parser = subparsers.add_parser(
        "reps",
        help="count exercise repetitions in a video",
        description=(
            "Track the pose in a video and count full repetitions (rest pose, turning pose, "
            "back). With --exercise, the bundled k-NN model of the exercise classifies every "
            "frame; without it, the dominant periodic joint movement is counted, whatever the "
            "exercise. One line per repetition, then '<what>: <n> repetitions' last."
        ),
    )
    parser.add_argument(
        "video", metavar="VIDEO|LANDMARKS",
        help="video file of one person exercising, or its landmark file written by posejax "
        "(.csv, .parquet, .h5: counted without tracking)",
    )  # fmt: skip
    parser.add_argument(
        "--exercise", default=None, type=_exercise_name, metavar="NAME",
        help=f"bundled exercise: {', '.join(sorted(EXERCISES))} (default: any exercise, "
        "counted from the repeated movement)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", metavar="TABLE", default=None,
        help="save the per-repetition table (frames, times, duration, angle at the bottom, "
        "range of motion) as .csv, .parquet or .json",
    )  # fmt: skip
    parser.add_argument(
        "--frames-output", metavar="TABLE", default=None,
        help="save the per-frame table (probabilities or signals, running count) likewise",
    )  # fmt: skip
    parser.add_argument(
        "--plot", metavar="IMAGE", default=None,
        help="save the main joint angle over time, repetitions shaded (.png, .svg, .pdf)",
    )  # fmt: skip
    parser.add_argument(
        "--model-complexity", type=int, choices=(0, 1, 2), default=None,
        help="pose model for tracking a video: 0 lite, 1 full (default), 2 heavy",
    )  # fmt: skip
    parser.add_argument(
        "--num-poses", type=_positive_int, default=None, metavar="N",
        help="track up to N people in a video and count each person's repetitions apart "
        "(default: one person)",
    )  # fmt: skip
    parser.add_argument(
        "--enter-threshold", type=float, default=0.6, metavar="P",
        help="with --exercise: smoothed probability at which a pose is reached (default 0.6)",
    )  # fmt: skip
    parser.add_argument(
        "--fps", type=float, default=None,
        help="frame rate for tracking a video and smoothing (default: the file's)",
    )  # fmt: skip
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True,
        help="show a progress bar while tracking (default: on)",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"posejax {__version__}")
    parser.set_defaults(run=run_reps)
    return parser


def _positive_int(value: str) -> int:
    """``--num-poses``: a whole number of people, at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"needs at least 1 person, got {number}")
    return number


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
    rep 1: frames 0-17, 3.4 s, knee angle 75 deg at the bottom (range 95 deg)
    rep 2: frames 22-43, 4.2 s, knee angle 71 deg at the bottom (range 99 deg)
    squat: 2 repetitions
    0
    """
    from classify.reps import count_repetitions
    from posejax.io._paths import LANDMARK_FORMATS

    video = Path(args.video)
    landmarks = video.suffix.lower() in LANDMARK_FORMATS
    if not video.is_file():
        raise FileNotFoundError(f"no such {'file' if landmarks else 'video'}: {video}")
    if landmarks:
        given = [name for name, value in (("--model-complexity", args.model_complexity),
                                          ("--fps", args.fps),
                                          ("--num-poses", getattr(args, "num_poses", None)))
                 if value is not None]  # fmt: skip
        if given:
            raise ValueError(
                f"{' and '.join(given)} {'apply' if len(given) > 1 else 'applies'} to tracking "
                f"a video; {video.name} holds landmarks tracked already (pass the video to "
                f"track it again)")
    tables = {"output": args.output, "frames_output": args.frames_output}
    for value in tables.values():
        if value is not None and Path(value).suffix.lower() not in TABLE_SUFFIXES:
            raise ValueError(
                f"cannot write {Path(value).name}: tables are written as "
                f"{', '.join(TABLE_SUFFIXES)}"
            )
    if args.plot and Path(args.plot).suffix.lower() not in PLOT_SUFFIXES:
        raise ValueError(
            f"cannot save the plot as {Path(args.plot).name}: use one of "
            f"{', '.join(PLOT_SUFFIXES)}"
        )
    # Every output is checked, and its folder made, before minutes of tracking.
    from posejax.io._paths import refuse_input_as_output

    for option, value in (("-o", args.output), ("--frames-output", args.frames_output),
                          ("--plot", args.plot)):
        if value is not None:
            refuse_input_as_output(value, [video], option)
            Path(value).parent.mkdir(parents=True, exist_ok=True)
    if landmarks:
        from posejax.io import read_track

        poses = read_track(video)
        if poses.is_batch:
            raise ValueError(f"{video.name} holds {poses.batch_size} videos; posejax reps "
                             f"counts one: write one video per file")
    else:
        from posejax.track import track

        options = {}
        if getattr(args, "num_poses", None) is not None:
            options["num_poses"] = args.num_poses  # several people: a multi-person track
        poses = track(
            str(video),
            model_complexity=1 if args.model_complexity is None else args.model_complexity,
            fps=args.fps,
            progress=args.progress,
            **options,
        )
    if args.exercise is None:
        result = count_repetitions(poses)
    else:
        result = count_repetitions(
            poses, exercise=args.exercise, enter_threshold=args.enter_threshold
        )
    frames = result.frames
    people = "individual" in frames.columns
    if people:  # one count per person: how many frames each was seen on
        seen = frames.groupby("individual", observed=True, sort=False)["pose_present"].sum()
        found = ", ".join(f"{name} {int(n)}" for name, n in seen.items())
        print(f"{video.name}: {poses.n_frames} frames, {len(seen)} people with a pose in "
              f"({found})")  # fmt: skip
    else:
        print(f"{video.name}: {poses.n_frames} frames, "
              f"{int(frames['pose_present'].sum())} with a pose")  # fmt: skip
    angle = result.angle.removesuffix("_angle").replace("_", " ")
    for rep in result.reps.itertuples():
        who = f"{rep.individual} " if people else ""
        print(f"{who}rep {rep.rep}: frames {rep.start_frame}-{rep.end_frame}, "
              f"{rep.duration:.1f} s, {angle} angle {rep.angle_at_bottom:.0f} deg at the "
              f"bottom (range {rep.range_of_motion:.0f} deg)")  # fmt: skip
    if result.counts is not None:
        for key, count in result.counts.items():
            name = "/".join(map(str, key)) if isinstance(key, tuple) else key
            print(f"{name}: {count} repetitions")
    for key, table in (("output", result.reps), ("frames_output", frames)):
        if tables[key] is not None:
            path = _write_table(table, Path(tables[key]))
            print(f"{'per-repetition' if key == 'output' else 'per-frame'} table -> {path}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from posejax.io._atomic import atomic_path

        ax = result.plot()
        plot = Path(args.plot)
        with atomic_path(plot) as temporary:
            ax.figure.savefig(temporary, dpi=120, bbox_inches="tight",
                              format=plot.suffix.lstrip(".").lower())
        print(f"plot -> {args.plot}")
    print(result.summary())
    return 0


def _write_table(table, path: Path) -> Path:
    from posejax.io._atomic import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    with atomic_path(path) as temporary:
        if suffix == ".csv":
            table.to_csv(temporary, index=False)
        elif suffix == ".parquet":
            table.to_parquet(temporary, index=False)
        else:
            table.to_json(temporary, orient="records", indent=1)
    return path
