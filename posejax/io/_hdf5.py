r"""HDF5 tables read without running anything a file holds: pickles are never loaded.

``pd.read_hdf`` reads through PyTables, which unpickles any string attribute that ends with a
``.``: an ``.h5`` file from a collaborator or a download whose table carries a pickled object
runs that object's code on reading (DeepLabCut and ``movement`` read the same way). This module
reads the two layouts pandas writes, with h5py, which gives every attribute as plain bytes:

* ``format="table"`` (DeepLabCut's predictions, ``movement``, posejax): the values are the
  ``values_block_<i>`` columns of the ``table`` dataset's structured array, the index its
  ``index`` column;
* ``format="fixed"`` (DeepLabCut's labelled data): the ``block<i>_values`` arrays, the axes from
  their plain string arrays of levels and codes.

Column names and a few flags exist only as PyTables pickles (``non_index_axes``, ``info``,
``values_block_<i>_kind``; ``N.`` for None). They are decoded by :func:`literal_pickle`, which
walks the pickle's opcodes with :func:`pickletools.genops` and builds only lists, tuples, dicts,
strings, numbers, booleans and None. A pickle with any opcode that imports or calls
(``GLOBAL``, ``STACK_GLOBAL``, ``REDUCE``, ``BUILD``, ``INST``, ``OBJ``, ``NEWOBJ``, ...) makes the
file refused with a :class:`ValueError`; :func:`pickle.loads` is never called.

Datasets whose data lives outside the file (external links, external storage, virtual datasets)
are refused too: they would read other files of the reader's machine into the table. So is any
other layout (object columns, ``data_columns``, ...), with an error that says so.

Example
-------
>>> df = read_frame("poses.h5")  # the table pd.read_hdf gives  # doctest: +SKIP
>>> literal_pickle(b"(lp0\nVnose\np1\na.")
['nose']

Over the house's 500 lines: a reader that must never run what a file holds is easier to audit
in one file, from the file's bytes to the table.
"""

from __future__ import annotations

import contextlib
import json
import pickletools
from collections.abc import Iterator

import numpy as np
import pandas as pd

__all__ = ["literal_pickle", "open_file", "read_arrays", "read_frame", "read_json_attr"]

# Opcodes that build plain values; every other one (GLOBAL, REDUCE, BUILD, ...) imports or calls.
_VALUES = frozenset({
    "NONE", "NEWTRUE", "NEWFALSE", "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1",
    "LONG4", "FLOAT", "BINFLOAT", "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE",
    "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
})  # fmt: skip
_STRUCTURE = frozenset({
    "MARK", "STOP", "PROTO", "FRAME", "EMPTY_LIST", "EMPTY_TUPLE", "EMPTY_DICT", "LIST", "TUPLE",
    "TUPLE1", "TUPLE2", "TUPLE3", "DICT", "APPEND", "APPENDS", "SETITEM", "SETITEMS", "PUT",
    "BINPUT", "LONG_BINPUT", "MEMOIZE", "GET", "BINGET", "LONG_BINGET", "POP", "POP_MARK", "DUP",
})  # fmt: skip


class _CodeInPickle(ValueError):
    """A pickle that would import or call something when loaded."""


def literal_pickle(data: bytes):
    r"""The plain value a pickle holds, decoded without :mod:`pickle` running anything.

    Parameters
    ----------
    data : bytes
        A pickle (any protocol) of lists, tuples, dicts, str, bytes, int, float, bool or None,
        such as the attributes PyTables writes for pandas.

    Returns
    -------
    object

    Raises
    ------
    ValueError
        The bytes are not such a pickle; a pickle that would import or call something (a class,
        a function: code) is refused before anything is built.

    Example
    -------
    >>> literal_pickle(b"(lp0\n(I1\nVx\np1\ntp2\na.")
    [(1, 'x')]
    >>> try:
    ...     literal_pickle(b"cos\nsystem\n(Vtouch pwned\ntR.")
    ... except ValueError as error:
    ...     print(error)
    the pickle would run code or build objects (GLOBAL)
    """
    try:
        ops = list(pickletools.genops(bytes(data)))
    except Exception as error:  # noqa: BLE001  (any parse failure: not a pickle)
        raise ValueError(f"not a pickle: {error}") from None
    for opcode, _, _ in ops:  # all checked before anything is built
        if opcode.name not in _VALUES and opcode.name not in _STRUCTURE:
            raise _CodeInPickle(f"the pickle would run code or build objects ({opcode.name})")
    stack: list = []
    marks: list[int] = []
    memo: dict = {}

    def since_mark() -> list:
        start = marks.pop()
        items = stack[start:]
        del stack[start:]
        return items

    try:
        for opcode, arg, _ in ops:
            name = opcode.name
            if name in ("NEWTRUE", "NEWFALSE"):
                stack.append(name == "NEWTRUE")
            elif name in _VALUES:
                stack.append(arg)
            elif name == "STOP":
                break
            elif name in ("PROTO", "FRAME"):
                continue
            elif name == "MARK":
                marks.append(len(stack))
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "LIST":
                stack.append(since_mark())
            elif name == "TUPLE":
                stack.append(tuple(since_mark()))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                count = int(name[-1])
                items = tuple(stack[-count:])
                del stack[-count:]
                stack.append(items)
            elif name == "DICT":
                items = since_mark()
                stack.append(dict(zip(items[::2], items[1::2], strict=True)))
            elif name == "APPEND":
                value = stack.pop()
                _as(stack[-1], list).append(value)
            elif name == "APPENDS":
                items = since_mark()
                _as(stack[-1], list).extend(items)
            elif name == "SETITEM":
                value, key = stack.pop(), stack.pop()
                _as(stack[-1], dict)[key] = value
            elif name == "SETITEMS":
                items = since_mark()
                _as(stack[-1], dict).update(zip(items[::2], items[1::2], strict=True))
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name == "POP":
                stack.pop()
            elif name == "POP_MARK":
                since_mark()
            elif name == "DUP":
                stack.append(stack[-1])
    except (IndexError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a plain pickle: {error!r}") from None
    if len(stack) != 1 or marks:
        raise ValueError("not a plain pickle: its stack does not end with one value")
    return stack[0]


def _as(value, kind):
    if not isinstance(value, kind):
        raise TypeError(f"expected a {kind.__name__}")
    return value


_MISSING = object()


def _attr(node, name: str, path, default=_MISSING):
    """A node's attribute as a plain Python value; PyTables pickles decoded as literals."""
    import h5py

    if name not in node.attrs:
        if default is _MISSING:
            raise ValueError(f"{str(path)!r}: {node.name} has no attribute {name!r}; it is not "
                             f"a file pandas (DataFrame.to_hdf) or posejax wrote")
        return default
    value = node.attrs[name]
    if isinstance(value, h5py.Empty):
        return ""  # PyTables writes "" as an empty attribute
    if isinstance(value, (bytes, np.bytes_)):
        value = bytes(value)
        # PyTables unpickles a string attribute that ends with "."; the same rule, minus code.
        if value.endswith(b".") and value not in (b"0", b"0."):
            try:
                return literal_pickle(value)
            except _CodeInPickle as error:
                raise ValueError(
                    f"{str(path)!r}: the attribute {name!r} of {node.name} is a pickled Python "
                    f"object that would run code when read ({error}); posejax does not read "
                    f"it. Ask for the file to be written again, or, only if you trust where it "
                    f"comes from, read it with pandas.read_hdf"
                ) from None
            except ValueError:
                pass  # not a pickle: a string that ends with "."
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _dataset(group, name: str, path):
    """``group[name]`` if it is a dataset stored in the file itself; ValueError otherwise."""
    import h5py

    link = group.get(name, getlink=True)
    if link is None:
        raise ValueError(f"{str(path)!r}: {group.name} has no dataset {name!r}")
    if not isinstance(link, h5py.HardLink):
        raise ValueError(f"{str(path)!r}: {group.name}/{name} is a link to elsewhere; posejax "
                         f"reads only data stored in the file itself")
    node = group[name]
    if not isinstance(node, h5py.Dataset):
        raise ValueError(f"{str(path)!r}: {node.name} is not a dataset")
    plist = node.id.get_create_plist()
    if plist.get_layout() == h5py.h5d.VIRTUAL or plist.get_external_count() > 0:
        raise ValueError(f"{str(path)!r}: the data of {node.name} is stored in other files; "
                         f"posejax reads only data stored in the file itself")
    return node


def _read(dataset, path) -> np.ndarray:
    import h5py

    kind = dataset.id.get_type().get_class()
    if kind in (h5py.h5t.VLEN, h5py.h5t.REFERENCE, h5py.h5t.OPAQUE) or dataset.dtype.hasobject:
        raise ValueError(f"{str(path)!r}: {dataset.name} holds Python objects or references, "
                         f"which posejax does not read; write the table with numeric columns")
    values = dataset[()]
    if kind == h5py.h5t.BITFIELD and values.dtype.itemsize == 1:
        values = values.astype(bool)  # how PyTables stores NumPy booleans
    return values


@contextlib.contextmanager
def open_file(path) -> Iterator:
    """The h5py file at ``path``, open for reading; ValueError when it is not HDF5.

    Example
    -------
    >>> with open_file("poses.h5") as h5:  # doctest: +SKIP
    ...     sorted(h5)
    ['df_with_missing', 'posejax']
    """
    try:
        import h5py
    except ImportError as error:
        raise ImportError("HDF5 files need h5py: pip install 'posejax[h5]'") from error
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(f"{str(path)!r} is not an HDF5 file: {error}") from None
    with handle:
        yield handle


def _pandas_keys(h5) -> list[str]:
    import h5py

    keys = []

    def visit(name, node):
        if isinstance(node, h5py.Group) and "pandas_type" in node.attrs:
            keys.append("/" + name)

    h5.visititems(visit)
    return keys


def read_frame(path, key: str | None = None) -> pd.DataFrame:
    """The DataFrame that ``pd.read_hdf(path, key)`` gives, read without unpickling anything.

    Parameters
    ----------
    path : str or os.PathLike
        An HDF5 file written by ``DataFrame.to_hdf`` (``format="table"`` or ``"fixed"``).
    key : str, optional
        The table's key; by default the file's only table, as ``pd.read_hdf``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        Not such a file, no such key, a layout this reader does not handle, or metadata that
        would run code (a pickled object).

    Example
    -------
    >>> read_frame("CollectedData_me.h5", "df_with_missing").columns.names  # doctest: +SKIP
    FrozenList(['scorer', 'bodyparts', 'coords'])
    """
    with open_file(path) as h5:
        return read_frame_from(h5, key, path)


def read_frame_from(h5, key: str | None, path) -> pd.DataFrame:
    """:func:`read_frame` on an open h5py file."""
    import h5py

    if key is None:
        keys = _pandas_keys(h5)
        if len(keys) != 1:
            raise ValueError(f"{str(path)!r} holds {len(keys)} pandas tables ({keys}); name the "
                             f"key of the one to read")
        key = keys[0]
    link = h5.get(key, getlink=True)
    if link is None:
        raise ValueError(f"{str(path)!r} has no table {key!r}")
    if not isinstance(link, h5py.HardLink) or not isinstance(h5[key], h5py.Group):
        raise ValueError(f"{str(path)!r}: {key!r} is not a table stored in the file itself")
    group = h5[key]
    kind = _attr(group, "pandas_type", path, None)
    if kind == "frame_table":
        return _read_table_format(group, path)
    if kind == "frame":
        return _read_fixed_format(group, path)
    raise ValueError(f"{str(path)!r}: {key!r} is a pandas {kind!r}; posejax reads DataFrames "
                     f"written with format='table' or 'fixed'")


def _decode(values: np.ndarray, encoding: str) -> np.ndarray:
    if values.dtype.kind == "S":
        return np.array([v.decode(encoding) for v in values.ravel()], dtype=object).reshape(
            values.shape)
    return values


def _index_values(values: np.ndarray, kind: str, encoding: str, where, path) -> np.ndarray:
    if kind == "string":
        return _decode(values, encoding)
    if kind in ("integer", "float", "bool"):
        return values
    raise ValueError(f"{str(path)!r}: {where} has {kind!r} labels; posejax reads integer, float "
                     f"and string labels")


def _read_table_format(group, path) -> pd.DataFrame:
    encoding = _attr(group, "encoding", path, "UTF-8") or "UTF-8"
    if _attr(group, "data_columns", path, []) or _attr(group, "levels", path, 1) != 1:
        raise ValueError(f"{str(path)!r}: {group.name} has data columns or a MultiIndex of rows, "
                         f"which posejax does not read; write it with format='fixed' or reset "
                         f"the index")
    table = _dataset(group, "table", path)
    rows = _read(table, path)
    fields = rows.dtype.names or ()
    blocks = _attr(group, "values_cols", path, None)
    if blocks is None:
        blocks = [name for name in fields if name.startswith("values_block_")]
    if (not isinstance(blocks, list) or "index" not in fields
            or not all(isinstance(b, str) and b in fields for b in blocks)):
        raise ValueError(f"{str(path)!r}: {group.name} is not a pandas table")
    info = _attr(group, "info", path, {})
    info = info if isinstance(info, dict) else {}
    index_info = info.get("index") if isinstance(info.get("index"), dict) else {}
    index = pd.Index(
        _index_values(rows["index"], _attr(table, "index_kind", path, "integer"), encoding,
                      "its index", path),
        name=_label(index_info.get("index_name"), path),
    )
    frames = []
    for block in blocks:
        names = _attr(table, f"{block}_kind", path)
        data = np.asarray(rows[block])
        data = data.reshape(len(rows), -1)
        if not isinstance(names, list) or len(names) != data.shape[1]:
            raise ValueError(f"{str(path)!r}: the columns of {block} do not match its data")
        if data.dtype.kind not in "biuf":
            raise ValueError(f"{str(path)!r}: {block} holds {data.dtype} values; posejax reads "
                             f"numeric columns only")
        frames.append(pd.DataFrame(data, index=index, columns=_columns(names, path)))
    if not frames:
        raise ValueError(f"{str(path)!r}: {group.name} has no columns")
    df = pd.concat(frames, axis=1) if len(frames) != 1 else frames[0]
    order = _attr(group, "non_index_axes", path, None)
    if order:  # [(1, [column, ...])]: the columns' order and levels
        if not (isinstance(order, list) and len(order) == 1 and isinstance(order[0], tuple)
                and len(order[0]) == 2 and isinstance(order[0][1], list)):
            raise ValueError(f"{str(path)!r}: {group.name} is not a pandas table")
        wanted = _columns(order[0][1], path)
        if len(wanted) != df.shape[1] or not wanted.isin(df.columns).all():
            raise ValueError(f"{str(path)!r}: the columns of {group.name} do not match its data")
        df = df[wanted]
    names = info.get(1, {}).get("names") if isinstance(info.get(1), dict) else None
    if (isinstance(names, list) and len(names) == df.columns.nlevels
            and all(_is_label(name) for name in names)):
        df.columns = df.columns.set_names(names)
    return df


def _is_label(value) -> bool:
    return value is None or isinstance(value, (str, int, float))


def _label(value, path):
    if not _is_label(value):
        raise ValueError(f"{str(path)!r}: an axis name is neither a string nor a number")
    return value


def _columns(labels: list, path) -> pd.Index:
    for label in labels:
        parts = label if isinstance(label, tuple) else (label,)
        if not all(_is_label(part) for part in parts):
            raise ValueError(f"{str(path)!r}: a column label is neither a string nor a number")
    if labels and all(isinstance(label, tuple) for label in labels):
        return pd.MultiIndex.from_tuples(labels)
    return pd.Index(labels)


def _read_axis(group, name: str, encoding: str, path) -> pd.Index:
    variety = _attr(group, f"{name}_variety", path)
    if variety == "regular":
        node = _dataset(group, name, path)
        values = _index_values(_read(node, path), _attr(node, "kind", path), encoding, name,
                               path)
        return pd.Index(values, name=_label(_attr(node, "name", path, None), path))
    if variety == "multi":
        levels, codes, names = [], [], []
        nlevels = _attr(group, f"{name}_nlevels", path)
        if not isinstance(nlevels, int) or not 0 < nlevels < 64:
            raise ValueError(f"{str(path)!r}: {group.name} is not a pandas table")
        for i in range(nlevels):
            level = _dataset(group, f"{name}_level{i}", path)
            levels.append(_index_values(_read(level, path), _attr(level, "kind", path),
                                        encoding, name, path))
            names.append(_label(_attr(level, "name", path, None), path))
            codes.append(_read(_dataset(group, f"{name}_label{i}", path), path))
        return pd.MultiIndex(levels=levels, codes=codes, names=names)
    raise ValueError(f"{str(path)!r}: {group.name}'s {name} is a {variety!r} axis; posejax reads "
                     f"regular and MultiIndex axes")


def _block(group, i: int, path) -> np.ndarray:
    node = _dataset(group, f"block{i}_values", path)
    values = _read(node, path)
    if values.ndim != 2 or values.dtype.kind not in "biuf":
        raise ValueError(f"{str(path)!r}: {node.name} holds {values.dtype} values; posejax reads "
                         f"numeric columns only")
    # pandas keeps a block as (columns, rows) and writes it transposed, flagged so.
    return values if _attr(node, "transposed", path, False) else values.T


def _read_fixed_format(group, path) -> pd.DataFrame:
    encoding = _attr(group, "encoding", path, "UTF-8") or "UTF-8"
    if _attr(group, "ndim", path, 2) != 2:
        raise ValueError(f"{str(path)!r}: {group.name} is not a DataFrame")
    columns = _read_axis(group, "axis0", encoding, path)
    index = _read_axis(group, "axis1", encoding, path)
    nblocks = _attr(group, "nblocks", path)
    if not isinstance(nblocks, int) or not 0 <= nblocks < 1 << 16:
        raise ValueError(f"{str(path)!r}: {group.name} is not a pandas table")
    frames = []
    for i in range(nblocks):
        values = _block(group, i, path)
        items = _read_axis(group, f"block{i}_items", encoding, path)
        if values.shape != (len(index), len(items)):
            raise ValueError(f"{str(path)!r}: block {i} of {group.name} does not match its axes")
        frames.append(pd.DataFrame(values, index=index, columns=items))
    df = pd.concat(frames, axis=1) if len(frames) != 1 else frames[0]
    if len(frames) == 0:
        df = pd.DataFrame(index=index, columns=columns)
    if not df.columns.equals(columns):
        if len(columns) != df.shape[1] or not columns.isin(df.columns).all():
            raise ValueError(f"{str(path)!r}: the columns of {group.name} do not match its data")
        df = df[columns]
    df.columns = columns
    return df


def read_arrays(h5, group: str, names, path) -> dict[str, np.ndarray]:
    """The datasets ``names`` of ``group``, as NumPy arrays (booleans as PyTables wrote them).

    Example
    -------
    >>> with open_file("poses.h5") as h5:  # doctest: +SKIP
    ...     read_arrays(h5, "posejax", ["landmarks"], "poses.h5")["landmarks"].shape
    (120, 33, 5)
    """
    node = h5[group]
    return {name: _read(_dataset(node, name, path), path) for name in names}


def read_json_attr(h5, node: str, name: str, path, loads=json.loads):
    """``loads`` of the JSON text that attribute ``name`` of ``node`` holds; ValueError if not JSON.

    Example
    -------
    >>> with open_file("poses.h5") as h5:  # doctest: +SKIP
    ...     read_json_attr(h5, "posejax", "meta", "poses.h5")["fps"]
    30.0
    """
    value = _attr(h5[node], name, path)
    try:
        if not isinstance(value, str):
            raise ValueError("not text")
        return loads(value)
    except (ValueError, TypeError):
        raise ValueError(f"{str(path)!r}: the attribute {name!r} of /{node} is not the JSON "
                         f"posejax writes") from None
