"""The JSON that landmark files carry beside their table: ``df.attrs`` and how to rebuild it.

NumPy arrays (the ROIs, per-frame sizes and times) are stored as ``{"__ndarray__": [...],
"dtype": ...}`` so they come back with their dtype; tuples come back as lists, and
:func:`restore_attrs` turns the ones posejax means as tuples back.
"""

from __future__ import annotations

import json

import numpy as np


def _json_default(value):
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(
        f"cannot store {type(value).__name__} in a landmark file's metadata; df.attrs may hold "
        "numbers, strings, lists, dicts and NumPy arrays"
    )


def _json_object_hook(value: dict):
    if "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value["dtype"])
    return value


def dumps(meta: dict, indent: int | None = None) -> str:
    """``meta`` as JSON, NumPy arrays included."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(meta, default=_json_default, separators=separators, indent=indent)


def loads(text: str) -> dict:
    """The inverse of :func:`dumps`."""
    return json.loads(text, object_hook=_json_object_hook)


def restore_attrs(attrs: dict) -> dict:
    """``df.attrs`` as posejax wrote them (``image_size`` is a tuple)."""
    if isinstance(attrs.get("image_size"), list):
        attrs["image_size"] = tuple(attrs["image_size"])
    return attrs
