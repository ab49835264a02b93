"""One row per frame: pose tables in the shape in which scikit-learn splits samples.

scikit-learn takes one row of ``X`` per sample, and a sample here is a frame. A wide posejax
table already has one row per frame; a long one has 33 (one per landmark), which
``cross_val_score`` and ``GridSearchCV`` would split across folds like samples. :func:`pose_frames`
turns either (or a PoseTrack) into the wide layout, indexed by ``(video, frame)``,
with the labels aligned to it, so that the pipelines of :mod:`classify` train and
cross-validate on the rows a user has.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from posejax.tables import parse_table


def pose_frames(data, labels=None):
    """One row per frame of a pose table or track, and optionally the label of each.

    Parameters
    ----------
    data : pandas.DataFrame or posejax.PoseTrack
        A posejax table (long or wide layout) or a track (a batch gives one row per frame of
        each video).
    labels : str, pandas.Series or array_like, optional
        The class of each frame:

        * the name of a column of a long table, the same on the 33 rows of each frame;
        * a Series indexed like the result: by ``(video, frame)`` for a table of several videos
          (video names as strings), by ``frame`` for one video (also when its table names that
          video), by ``(video, individual, frame)`` or ``(individual, frame)`` for a table of
          several people; frames it lacks are unlabelled;
        * an array with one label per row of the result, in its order.

        Frames with a missing label (NaN, None, or absent from the Series) are left out of
        both ``X`` and ``y``: label only the frames you trust.

    Returns
    -------
    X : pandas.DataFrame
        The wide layout: the per-frame columns (``time``, ``image_width``, ``image_height``)
        and ``(landmark, coord)``, one row per frame, indexed by ``(video, frame)`` (``video``
        categorical; ``(video, individual, frame)``, one row per person and frame, for a table
        of several people), with the table's ``attrs``. Frames without a pose are NaN rows, which
        :class:`~classify.PoseEmbedder` embeds to NaN and :class:`~classify.KNNPoseClassifier`
        leaves out of ``fit`` (with a warning) and labels ``"no_pose"`` in ``predict``. For
        ``GroupKFold`` by video, pass ``groups=X.index.get_level_values("video")``.
    y : pandas.Series
        With ``labels``: the label of each row of ``X``, on the same index.

    Example
    -------
    >>> from classify.datasets import fitness_pose_table
    >>> table = fitness_pose_table()  # long layout: 33 rows per frame, a "label" column
    >>> X, y = pose_frames(table, labels="label")
    >>> len(table) == 33 * len(X), list(X.index.names), bool((X.index == y.index).all())
    (True, ['video', 'frame'], True)
    """
    if not isinstance(data, pd.DataFrame) and hasattr(data, "to_dataframe"):
        data = data.to_dataframe("wide")
    table = parse_table(data)
    wide = table.replace(layout="wide").to_frame() if table.layout != "wide" else data
    if labels is None:
        return wide
    y = _frame_labels(data, table, wide.index, labels)
    keep = y.notna().to_numpy()
    if not keep.all():
        wide, y = wide[keep], y[keep]
    return wide, y


def _frame_labels(df, table, index: pd.Index, labels) -> pd.Series:
    """The label of each frame of ``index``, NaN where it has none."""
    if isinstance(labels, str):
        if table.layout != "long" or labels not in df.columns:
            raise ValueError(
                f"labels={labels!r} names no column of a long pose table; pass a Series "
                "indexed by (video, frame) or frame, or an array with one label per frame"
            )
        keys = list(index.names) if isinstance(index, pd.MultiIndex) else ["frame"]
        grouped = df.groupby(keys, observed=True, sort=False)[labels]
        if (grouped.nunique(dropna=False) > 1).any():
            raise ValueError(
                f"the {labels!r} column differs between the landmark rows of a frame; each frame "
                "has one label"
            )
        series = grouped.first()
        return _align(series, index).rename(labels)
    if isinstance(labels, pd.Series):
        return _align(labels, index).rename(labels.name if labels.name is not None else "label")
    values = np.asarray(labels)
    if values.ndim != 1 or len(values) != len(index):
        raise ValueError(
            f"labels has {len(values)} values for {len(index)} frames; give one per frame, or a "
            "Series indexed by (video, frame) or frame"
        )
    return pd.Series(values, index=index, name="label")


def _frame_key(index: pd.Index, several: bool) -> pd.Index:
    """``index`` as plain (str video, [str individual,] int frame) tuples, or int frames."""
    if several:
        if not isinstance(index, pd.MultiIndex):
            raise ValueError("the labels of a table of several videos need an index (video, frame)")
        levels = [np.asarray(index.get_level_values(i)) for i in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(
            [level.astype(str) for level in levels[:-1]] + [levels[-1].astype(np.int64)]
        )
    if isinstance(index, pd.MultiIndex):
        raise ValueError("the labels of a table of one video need an index of frame numbers")
    return pd.Index(np.asarray(index).astype(np.int64))


def _align(series: pd.Series, index: pd.Index) -> pd.Series:
    target = index
    if isinstance(index, pd.MultiIndex) and series.index.nlevels < index.nlevels:
        # Levels of one value (one video, as tables that always name their video have; one
        # person) that the labels leave out: labels by frame number, or by (individual, frame),
        # are unambiguous.
        single = [name for name in index.names[:-1] if index.get_level_values(name).nunique() == 1]
        drop = single[: index.nlevels - series.index.nlevels]
        if len(drop) == index.nlevels - series.index.nlevels:
            target = index.droplevel(drop)
    several = isinstance(target, pd.MultiIndex)
    if several and target.nlevels != series.index.nlevels:
        names = ", ".join(str(n) for n in index.names)
        raise ValueError(f"the labels need an index ({names}) like the table's frames")
    keyed = series.set_axis(_frame_key(series.index, several))
    if keyed.index.has_duplicates:
        raise ValueError("the labels name a frame more than once")
    aligned = keyed.reindex(_frame_key(target, several))
    return pd.Series(aligned.to_numpy(), index=index)
