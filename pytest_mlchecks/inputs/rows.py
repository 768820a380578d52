"""Exact row comparison for the data checks: 64-bit row hashes (pandas' ``hash_pandas_object``,
which hashes -0.0 as 0.0 and every NaN alike), verified cell by cell (NaN equals NaN).

``no_duplicates``, ``no_row_overlap``, ``no_entity_overlap`` and ``no_conflicting_labels``
compare rows through these functions; a million rows take about a second.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from pytest_mlchecks._result import MLCheckUsageError


def comparable(train: Any, test: Any, columns: list[Any]) -> tuple[Any, Any]:
    """Column subsets whose equal values hash equally in both splits (dtypes reconciled)."""
    import pandas as pd

    left = train[columns]
    right = test[columns]
    fixes: dict[Any, str] = {}
    for name in columns:
        a, b = left[name].dtype, right[name].dtype
        if a == b:
            continue
        numeric = pd.api.types.is_numeric_dtype
        floats = pd.api.types.is_float_dtype
        if floats(a) and floats(b):
            # float32 in one split, float64 in the other: a copy is equal at the lower
            # precision (float64 values cast to float32 as one split was)
            fixes[name] = "float32" if min(a.itemsize, b.itemsize) == 4 else "float64"
        elif numeric(a) and numeric(b):
            fixes[name] = "float64"
        else:
            fixes[name] = "object"
    if fixes:
        left = left.astype(fixes)
        right = right.astype(fixes)
    return left, right


def freeze(value: Any) -> Any:
    """A hashable stand-in for a cell holding a list, dict, set or array (embeddings, tags)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), freeze(v)) for k, v in value.items())))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(v) for v in value)))
    return value


def hashed_rows(frame: Any) -> tuple[Any, np.ndarray]:
    """The frame rows are compared on and their hashes: ``frame`` itself, or, when object
    columns hold unhashable cells (lists, dicts, arrays: embeddings, tags), a copy with those
    cells frozen into equal-if-equal tuples (only then is the frame walked twice)."""
    try:
        return frame, hash_rows(frame)
    except TypeError:
        frozen = frame.copy()
        for name in frozen.columns:
            if frozen[name].dtype == object:
                frozen[name] = frozen[name].map(freeze)
        return frozen, hash_rows(frozen)


def hash_rows(frame: Any) -> np.ndarray:
    import pandas as pd

    if frame.shape[1] == 0:
        raise MLCheckUsageError("no columns left to compare rows on.")
    hashed = pd.util.hash_pandas_object(frame, index=False, categorize=True)
    return np.asarray(hashed.to_numpy(), dtype=np.uint64)


PARTITION_ROWS = 1 << 16  # rows per hash table when grouping long arrays (fits in cache)
PARTITION_ABOVE = 1 << 21  # arrays longer than this are grouped partition by partition


def group_codes(values: Any, keys: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A code per value (equal values, NaN included, share one; ``pd.factorize`` equality)
    and the first position of each code: ``(codes, first)`` with ``first[c]`` the smallest
    ``i`` where ``codes[i] == c``.

    Up to ``PARTITION_ABOVE`` values, or when a sample shows few distinct values: one
    ``pd.factorize`` (codes in order of first appearance). Longer arrays are split by the
    top bits of ``keys`` (64-bit hashes that are equal for equal values: the values
    themselves when they are row hashes, the default) into partitions of about
    ``PARTITION_ROWS`` values, each factorized on its own (one table that outgrows the CPU
    caches costs about 2x per value at 10M values). The codes then group the same values,
    numbered partition by partition."""
    import pandas as pd

    array = np.asarray(values)
    n = len(array)
    if n <= PARTITION_ABOVE or _few_distinct(array):
        codes = np.asarray(pd.factorize(array, use_na_sentinel=False)[0], dtype=np.intp)
        return codes, _first_positions(codes)
    hashes = np.asarray(array if keys is None else keys, dtype=np.uint64)
    bits = min(16, int(np.ceil(np.log2(n / PARTITION_ROWS))))
    part = (hashes >> np.uint64(64 - bits)).astype(np.uint16)
    order = np.argsort(part, kind="stable")  # a radix sort on 16-bit keys: linear
    bounds = np.concatenate([[0], np.cumsum(np.bincount(part, minlength=1 << bits))])
    in_order = array[order]
    codes_in_order = np.empty(n, dtype=np.intp)
    first_parts: list[np.ndarray] = []
    offset = 0
    for start, stop in itertools.pairwise(bounds):
        local = np.asarray(
            pd.factorize(in_order[start:stop], use_na_sentinel=False)[0], dtype=np.intp
        )
        codes_in_order[start:stop] = local + offset
        # positions within a partition ascend, so local codes are in order of appearance
        first_parts.append(order[start + _first_positions(local)])
        offset += len(first_parts[-1])
    codes = np.empty(n, dtype=np.intp)
    codes[order] = codes_in_order
    first = np.concatenate(first_parts) if first_parts else np.zeros(0, dtype=np.intp)
    return codes, first


def _few_distinct(array: np.ndarray) -> bool:
    """Whether a strided sample of ``PARTITION_ROWS`` values holds so few distinct ones that
    one hash table over all values stays small (then partitioning would only add passes)."""
    import pandas as pd

    sample = array[:: max(1, len(array) // PARTITION_ROWS)]
    return len(pd.unique(sample)) <= PARTITION_ROWS // 16


def _first_positions(codes: np.ndarray) -> np.ndarray:
    """The first position of each code, for codes numbered in order of first appearance
    (a code first appears where it exceeds every code before it)."""
    seen_before = np.maximum.accumulate(np.concatenate([[-1], codes[:-1]]))
    return np.flatnonzero(codes > seen_before)


def rows_equal(a: Any, b: Any) -> np.ndarray:
    """Cell-by-cell equality of two equally long frames (NaN equals NaN)."""
    import pandas as pd

    same = np.ones(len(a), dtype=bool)
    for name in a.columns:
        x = a[name].to_numpy()
        y = b[name].to_numpy()
        eq = np.asarray(pd.Series(x) == pd.Series(y), dtype=bool)
        both_na = np.asarray(pd.isna(x) & pd.isna(y), dtype=bool)
        same &= eq | both_na
    return same


def row_groups(frame: Any) -> np.ndarray:
    """A group id per row of ``frame`` (0, 1, ...): rows share an id exactly when they are
    equal in every column (NaN equals NaN, -0.0 equals 0.0). Rows are sorted by hash and each
    row is verified against the first row of its run of equal hashes; a row whose hash
    collides without being equal (about one chance in 2**64 per pair) gets an id of its own."""
    part, hashes = hashed_rows(frame)
    n = len(hashes)
    order = np.argsort(hashes, kind="stable")
    sorted_h = hashes[order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = sorted_h[1:] != sorted_h[:-1]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    repeat = ~starts
    ok = np.ones(n, dtype=bool)
    if repeat.any():
        ok[repeat] = rows_equal(
            part.iloc[order[run_start[repeat]]].reset_index(drop=True),
            part.iloc[order[repeat]].reset_index(drop=True),
        )
    new = starts | ~ok
    # a collided row starts a group of its own; the next rows of its run keep the run's id
    ids_sorted = np.cumsum(new) - 1
    ids_sorted[repeat & ok] = ids_sorted[run_start[repeat & ok]]
    groups = np.empty(n, dtype=np.int64)
    groups[order] = ids_sorted
    return groups
