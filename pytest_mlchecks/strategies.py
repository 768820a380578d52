"""Hypothesis strategies for ML data property tests (needs ``pytest-mlchecks[hypothesis]``).

- ``frames(schema)``: DataFrames that satisfy a ``Schema`` (built on hypothesis.extra.pandas,
  so failures shrink); ``violating(schema)``: DataFrames that break exactly one rule, named in
  ``frame.attrs["rule"]`` and ``frame.attrs["column"]``; ``violations(schema)``: the same as
  ``Violation`` objects (``.frame``, ``.rule``, ``.column``, ``.summary()``).
- ``datasets(...)``: train/test splits with a known ground truth, optionally with one failure
  injected (``row_overlap``, ``target_leak``, ``temporal_leak``, ``contamination``,
  ``missing_signal``); generated with vectorised numpy from a drawn seed.

Import this module only in tests: it imports hypothesis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypedDict

from pytest_mlchecks._deps import require
from pytest_mlchecks._result import MLCheckUsageError
from pytest_mlchecks.calibration.synth import INJECTIONS, TASKS, SplitDataset, make_split
from pytest_mlchecks.schema import SCHEMA_RULES, ColumnSchema, Schema, SchemaRule, SchemaRuleCode

require("hypothesis", helper="pytest_mlchecks.strategies")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import pandas as hpd  # noqa: E402

__all__ = ["RULES", "Violation", "datasets", "frames", "violating", "violations"]

#: The schema rules a violation can break: every reason code of ``schema.SCHEMA_RULES``.
RULES: tuple[SchemaRuleCode, ...] = tuple(SCHEMA_RULES)


def _elements(col: ColumnSchema) -> st.SearchStrategy[Any]:
    if col.categories is not None and col.kind in ("category", "string", "bool"):
        if col.kind == "bool":
            return st.booleans()
        if not col.categories:
            return st.just("x")
        return st.sampled_from(col.categories)
    if col.kind == "float":
        lo = col.min if col.min is not None else -1e6
        hi = col.max if col.max is not None else 1e6
        return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)
    if col.kind == "int":
        lo = math.ceil(col.min) if col.min is not None else -(10**6)
        hi = math.floor(col.max) if col.max is not None else 10**6
        return st.integers(min_value=lo, max_value=max(lo, hi))
    if col.kind == "bool":
        return st.booleans()
    if col.kind == "datetime":
        lo = int(col.min) if col.min is not None else 0
        hi = int(col.max) if col.max is not None else 10**18
        return st.integers(min_value=lo, max_value=max(lo, hi))
    return st.text(alphabet="abcdefghij", min_size=1, max_size=8)


def _cast(values: Any, col: ColumnSchema) -> Any:
    if col.kind == "category":
        return values.astype(pd.CategoricalDtype(categories=col.categories or None))
    if col.kind == "datetime":
        return pd.to_datetime(values.astype("int64"), unit="ns").astype(col.dtype)
    if col.kind in ("float", "int", "bool"):
        try:
            return values.astype(col.dtype)
        except (TypeError, ValueError):
            return values
    if col.kind == "string":
        try:
            return values.astype(col.dtype)
        except (TypeError, ValueError):
            return values.astype(object)
    return values


@st.composite
def _frame(draw: st.DrawFn, schema: Schema, min_rows: int, max_rows: int) -> pd.DataFrame:
    columns = [hpd.column(c.name, elements=_elements(c)) for c in schema.columns]
    raw = draw(hpd.data_frames(columns=columns, index=hpd.range_indexes(min_rows, max_rows)))
    n = len(raw)
    out = {}
    for col in schema.columns:
        values = _cast(raw[col.name], col)
        # nulls only where the reference had them, never above its rate
        allowed = math.floor(col.null_rate * n)
        if allowed > 0:
            holes = draw(st.lists(st.integers(0, n - 1), max_size=allowed, unique=True))
            if holes:
                if col.kind == "int":
                    values = values.astype("float64")
                values = values.copy()
                values.iloc[holes] = None
        out[col.name] = values
    frame: pd.DataFrame = pd.DataFrame(out, columns=schema.names)
    return frame


def frames(
    schema: Schema, *, min_rows: int = 1, max_rows: int = 30
) -> st.SearchStrategy[pd.DataFrame]:
    """DataFrames that satisfy ``schema``: its columns in order, dtypes, ranges, categories,
    and nulls only in nullable columns, at no more than the reference's null rate."""
    if not isinstance(schema, Schema):
        raise MLCheckUsageError(f"schema must be a Schema, got {type(schema).__name__}.")
    if min_rows < 1 or max_rows < min_rows:
        raise MLCheckUsageError("expected 1 <= min_rows <= max_rows.")
    return _frame(schema, min_rows, max_rows)


class ViolationSummary(TypedDict):
    """A violation in brief (for the audit report)."""

    rule: SchemaRuleCode
    column: str | None
    rows: int


@dataclass
class Violation:
    """A frame that breaks exactly one rule of a schema."""

    frame: pd.DataFrame
    rule: SchemaRuleCode  # the reason code check_schema_matches reports for it
    column: str | None

    def summary(self) -> ViolationSummary:
        return {"rule": self.rule, "column": self.column, "rows": len(self.frame)}


def _rows_needed(rate: float) -> int:
    """Rows for which every row breaking a rule exceeds what chance explains at ``rate``."""
    from pytest_mlchecks.checks.production.noise import count_allowance

    for m in range(1, 100_000):
        if m > count_allowance(m, rate):
            return m
    raise MLCheckUsageError("the schema's tolerance is too wide to break with a small frame.")


def _applicable(schema: Schema) -> list[tuple[SchemaRuleCode, str | None]]:
    """The (rule, column) pairs that ``schema`` enforces and a small frame can break."""
    from pytest_mlchecks.checks.production.noise import chance_rate

    options: list[tuple[SchemaRuleCode, str | None]] = [
        (SchemaRule.MISSING_COLUMNS, None),
        (SchemaRule.EXTRA_COLUMNS, None),
    ]
    if len(schema.columns) >= 2:
        options.append((SchemaRule.COLUMN_ORDER, None))
    n0 = max(schema.n_rows, 1)
    for col in schema.columns:
        if col.kind in ("int", "float", "bool", "category", "string"):
            options.append((SchemaRule.DTYPE, col.name))
        if col.null_rate == 0:
            options.append((SchemaRule.NULL_RATE, col.name))
        bounded = col.min is not None and col.max is not None
        enforced = bounded and not col.key  # key columns (row ids) have no range rule
        if col.kind in ("int", "float") and enforced and _rows_needed(chance_rate(2, n0)) <= 200:
            options.append((SchemaRule.RANGE, col.name))
        if col.categories is not None and col.kind in ("category", "string"):
            rate = ((col.singletons or 0) + 1) / (n0 + 1)
            if rate < 0.5 and _rows_needed(rate) <= 200:
                options.append((SchemaRule.UNSEEN_CATEGORIES, col.name))
    return options


@st.composite
def _violation(
    draw: st.DrawFn, schema: Schema, rules: tuple[SchemaRuleCode, ...] = RULES
) -> Violation:
    """A frame breaking one rule of ``schema`` (one of ``rules``) that ``schema`` enforces."""
    from pytest_mlchecks.checks.production.noise import chance_rate

    options = [option for option in _applicable(schema) if option[0] in rules]
    rule, column = draw(st.sampled_from(options))
    n0 = max(schema.n_rows, 1)
    min_rows = 1
    if rule == SchemaRule.RANGE:
        min_rows = _rows_needed(chance_rate(2, n0))
    elif rule == SchemaRule.UNSEEN_CATEGORIES:
        spec = schema[str(column)]
        min_rows = _rows_needed(((spec.singletons or 0) + 1) / (n0 + 1))
    elif rule == SchemaRule.NULL_RATE:
        min_rows = 2
    frame = draw(frames(schema, min_rows=min_rows, max_rows=max(min_rows, 30)))
    frame = frame.copy()
    if rule == SchemaRule.MISSING_COLUMNS:
        column = draw(st.sampled_from(schema.names))
        frame = frame.drop(columns=[column])
    elif rule == SchemaRule.EXTRA_COLUMNS:
        column = "__extra__"
        frame[column] = 1.0
    elif rule == SchemaRule.COLUMN_ORDER:
        names = list(frame.columns)
        frame = frame[[names[1], names[0], *names[2:]]]
    elif rule == SchemaRule.DTYPE:
        spec = schema[str(column)]
        if spec.kind in ("int", "float", "bool"):
            frame[column] = frame[column].astype(str).astype(object)
        else:
            frame[column] = np.arange(len(frame), dtype=np.int64)
    elif rule == SchemaRule.NULL_RATE:
        frame[column] = (
            frame[column].astype(object).where(pd.Series(False, index=frame.index), None)
        )
    elif rule == SchemaRule.RANGE:
        spec = schema[str(column)]
        span = (spec.max or 0.0) - (spec.min or 0.0)
        far = (spec.max or 0.0) + 10.0 * (span if span > 0 else abs(spec.max or 1.0) + 1.0)
        frame[column] = pd.Series(far, index=frame.index).astype(
            frame[column].dtype, errors="ignore"
        )
    elif rule == SchemaRule.UNSEEN_CATEGORIES:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].cat.add_categories(["__unseen__"])
        frame.loc[:, column] = "__unseen__"
    frame.attrs["rule"] = rule
    frame.attrs["column"] = column
    return Violation(frame, rule, column)


def violations(schema: Schema) -> st.SearchStrategy[Violation]:
    """``Violation`` objects: a frame that breaks exactly one rule of ``schema``, with
    ``.rule`` and ``.column`` saying which. ``.rule`` is the rule's reason code, as
    ``check_schema_matches`` reports it (``RULES``: missing_columns, extra_columns,
    column_order, dtype, null_rate, range, unseen_categories; ``schema.SCHEMA_RULES``
    describes each)."""
    if not isinstance(schema, Schema):
        raise MLCheckUsageError(f"schema must be a Schema, got {type(schema).__name__}.")
    return _violation(schema)


def violating(schema: Schema) -> st.SearchStrategy[pd.DataFrame]:
    """DataFrames that break exactly one rule of ``schema``; ``frame.attrs["rule"]`` and
    ``frame.attrs["column"]`` say which (``None`` for whole-table rules such as
    column_order). ``violations(schema)`` draws the same as ``Violation`` objects."""
    return violations(schema).map(lambda violation: violation.frame)


def _value(draw: st.DrawFn, value: Any) -> Any:
    return draw(value) if isinstance(value, st.SearchStrategy) else value


@st.composite
def _dataset(
    draw: st.DrawFn,
    task: Any,
    n_rows: Any,
    n_features: Any,
    imbalance: Any,
    nan_fraction: Any,
    inject: Any,
    strength: Any,
) -> SplitDataset:
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    ds = make_split(
        task=_value(draw, task),
        n_rows=_value(draw, n_rows),
        n_features=_value(draw, n_features),
        imbalance=_value(draw, imbalance),
        nan_fraction=_value(draw, nan_fraction),
        inject=_value(draw, inject),
        strength=_value(draw, strength),
        seed=seed,
    )
    ds.info["seed"] = seed
    _note_draw(ds.summary() | {"seed": seed})
    return ds


def datasets(
    *,
    task: str | st.SearchStrategy[str] = "binary",
    n_rows: int | st.SearchStrategy[int] = 500,
    n_features: int | st.SearchStrategy[int] = 6,
    imbalance: float | st.SearchStrategy[float | None] | None = None,
    nan_fraction: float | st.SearchStrategy[float] = 0.0,
    inject: str | st.SearchStrategy[str | None] | None = None,
    strength: float | st.SearchStrategy[float | None] | None = None,
) -> st.SearchStrategy[SplitDataset]:
    """Split datasets (``X_train``, ``X_test``, ``y_train``, ``y_test``, ``injected``) with a
    known ground truth. Any argument may itself be a strategy (e.g. ``inject=
    st.sampled_from([None, "target_leak"])``). ``strength`` tunes the injected failure from
    subtle to blatant (see ``pytest_mlchecks._synth.DEFAULT_STRENGTH``)."""
    for name, value, allowed in (("task", task, TASKS), ("inject", inject, (*INJECTIONS, None))):
        if not isinstance(value, st.SearchStrategy) and value not in allowed:
            raise MLCheckUsageError(f"{name} must be one of {allowed}, got {value!r}.")
    return _dataset(task, n_rows, n_features, imbalance, nan_fraction, inject, strength)


def _note_draw(summary: dict[str, Any]) -> None:
    """Remember the last drawn dataset's summary on the running test (for the audit report)."""
    from pytest_mlchecks._protocol import current_recorder

    recorder = current_recorder()
    if recorder is not None:
        recorder.notes["last_draw"] = summary
