"""Config-driven audit: ``[tool.mlchecks]`` in pyproject.toml turns into ladder test items.

```toml
[tool.mlchecks]
train = "data/train.csv"          # CSV or Parquet; or loader = "pkg.module:function"
test = "data/test.csv"            #   (the loader returns (train, test) or a dict of frames)
target = "churned"
time_column = "signup_date"       # optional
id_columns = ["customer_id"]      # optional
sensitive_columns = ["region"]    # optional, for the fairness check (kept in the model input)
exclude = ["notes"]               # optional: columns the model does not take
parse_dates = ["last_seen"]       # optional: date columns (time_column is parsed too)
current = "data/this_week.csv"    # optional production batch: schema, drift, OOD
model = "pkg.model:load_model"    # optional: returns a fitted (or unfitted) estimator
```

The model's input is every column except the target, ``time_column``, ``id_columns``,
``exclude`` and ``parse_dates``; ``sensitive_columns`` stay in it (a model may use them)
unless listed in ``exclude`` too. Every column named here must exist in the train and test
frames: a misspelt name is a usage error, never a silently skipped check.

With ``pytest --ml-audit`` each applicable check becomes a real item (``-k``, ``-v``,
counted in the summary) on its rung. Heavy libraries load only when an item runs.
"""

from __future__ import annotations

import difflib
import importlib
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_mlchecks._registry import CHECKS
from pytest_mlchecks._result import MLCheckException, MLCheckUsageError

KEYS = {
    "train",
    "test",
    "loader",
    "target",
    "time_column",
    "id_columns",
    "sensitive_columns",
    "exclude",
    "parse_dates",
    "current",
    "model",
    "task",
}
STRING_KEYS = ("train", "test", "loader", "target", "time_column", "current", "model", "task")
LIST_KEYS = ("id_columns", "sensitive_columns", "exclude", "parse_dates")


def _near_miss(name: str) -> bool:
    """``[tool.mlcheck]``, ``[tool.ml-checks]``, ``[tool.pytest-mlchecks]``..."""
    squashed = name.lower().replace("-", "").replace("_", "").removeprefix("pytest")
    return name != "mlchecks" and squashed in ("mlcheck", "mlchecks")


def _validate(path: Path, table: dict[str, Any]) -> None:
    where = f"[tool.mlchecks] in {path}"
    unknown = sorted(set(table) - KEYS)
    if unknown:
        hints = [
            f"{hint[0]!r} for {key!r}"
            for key in unknown
            if (hint := difflib.get_close_matches(key, sorted(KEYS), n=1))
        ]
        said = f"{unknown}" + (f" (did you mean {', '.join(hints)}?)" if hints else "")
        raise pytest.UsageError(f"{where}: unknown keys {said} (known: {sorted(KEYS)})")
    for key in STRING_KEYS:
        if key in table and (not isinstance(table[key], str) or not table[key].strip()):
            raise pytest.UsageError(
                f"{where}: {key} must be a non-empty string, got {table[key]!r}"
            )
    for key in LIST_KEYS:
        value = table.get(key)
        if value is None:
            continue
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise pytest.UsageError(
                f"{where}: {key} must be a column name or a list of column names, got {value!r}"
            )
    if "loader" not in table and not ("train" in table and "test" in table):
        raise pytest.UsageError(
            f"{where}: give train and test files, or loader = 'module:function'"
        )
    if "model" in table and "target" not in table:
        raise pytest.UsageError(f"{where}: model needs target = '<label column>'")
    for key in ("train", "test", "current"):
        if key in table and not (path.parent / str(table[key])).is_file():
            raise pytest.UsageError(
                f"{where}: {key} = {table[key]!r}: no such file under {path.parent}"
            )


def read_config(rootpath: Path) -> tuple[Path, dict[str, Any]] | None:
    """The ``[tool.mlchecks]`` table of the rootdir's pyproject.toml, if any."""
    path = rootpath / "pyproject.toml"
    if not path.is_file():
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the tomli backport (a dependency there)
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise pytest.UsageError(f"{path}: cannot read it as TOML ({exc})") from None
    tool = data.get("tool", {})
    table = tool.get("mlchecks") if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        misspelt = [name for name in tool if _near_miss(name)] if isinstance(tool, dict) else []
        if misspelt:
            raise pytest.UsageError(
                f"{path}: found [tool.{misspelt[0]}]; the zero-test audit reads [tool.mlchecks]"
            )
        return None
    _validate(path, table)
    return path, table


def _import(spec: str, root: Path) -> Callable[..., Any]:
    if ":" not in spec:
        raise MLCheckUsageError(f"expected 'module:function', got {spec!r}.")
    module_name, func = spec.split(":", 1)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module(module_name)
    target = getattr(module, func, None)
    if not callable(target):
        raise MLCheckUsageError(f"{spec!r}: {func} is not a callable in {module_name}.")
    return target  # type: ignore[no-any-return]


def _read_table(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise MLCheckUsageError(f"data file {str(path)!r} does not exist.")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise MLCheckUsageError(
                f"reading {path.name} needs pyarrow: pip install pyarrow."
            ) from exc
    return pd.read_csv(path)


class AuditData:
    """Loads the configured data (and model) once per session."""

    def __init__(self, root: Path, table: dict[str, Any]) -> None:
        self.root = root
        self.table = table
        self._cache: dict[str, Any] = {}

    def frames(self) -> dict[str, Any]:
        if "frames" not in self._cache:
            t = self.table
            if "loader" in t:
                loaded = _import(str(t["loader"]), self.root)()
                if isinstance(loaded, dict):
                    frames = dict(loaded)
                elif isinstance(loaded, (tuple, list)) and len(loaded) in (2, 3):
                    frames = dict(zip(("train", "test", "current"), loaded, strict=False))
                else:
                    raise MLCheckUsageError(
                        "the loader must return (train, test[, current]) or a dict of frames."
                    )
            else:
                frames = {k: _read_table(self.root / str(t[k])) for k in ("train", "test")}
                if "current" in t:
                    frames["current"] = _read_table(self.root / str(t["current"]))
            self._cache["frames"] = self._checked(frames)
        return dict(self._cache["frames"])

    def _checked(self, frames: dict[str, Any]) -> dict[str, Any]:
        """Every configured column exists; date columns parsed as dates, not compared as text."""
        import pandas as pd

        t = self.table
        for split in ("train", "test"):
            if split not in frames:
                raise MLCheckUsageError(f"[tool.mlchecks]: no {split!r} frame was loaded.")
        for name, frame in frames.items():
            if not isinstance(frame, pd.DataFrame):
                raise MLCheckUsageError(
                    f"[tool.mlchecks]: the {name!r} frame is a {type(frame).__name__}, "
                    "expected a pandas DataFrame."
                )
        named: list[tuple[str, str]] = [
            (key, column)
            for key in ("target", "time_column", *LIST_KEYS)
            for column in _names(t.get(key))
        ]
        for key, column in named:
            for split in ("train", "test"):
                if column not in frames[split].columns:
                    close = difflib.get_close_matches(column, list(map(str, frames[split])), n=1)
                    raise MLCheckUsageError(
                        f"[tool.mlchecks] {key}: column {column!r} is not in the {split} frame"
                        + (f" (did you mean {close[0]!r}?)" if close else "")
                        + f"; its columns: {list(frames[split].columns)[:20]}"
                    )
        dates = set(_names(t.get("parse_dates"))) | set(_names(t.get("time_column")))
        parsed: dict[str, Any] = {}
        for name, frame in frames.items():
            todo = [c for c in dates if c in frame.columns]
            if todo:
                frame = frame.copy()
                for column in todo:
                    try:
                        with warnings.catch_warnings():  # "could not infer format": fine here
                            warnings.simplefilter("ignore", UserWarning)
                            frame[column] = pd.to_datetime(frame[column])
                    except (TypeError, ValueError) as exc:
                        raise MLCheckUsageError(
                            f"[tool.mlchecks]: column {column!r} of the {name} frame is not a "
                            f"date ({exc})."
                        ) from exc
            parsed[name] = frame
        return parsed

    def model(self) -> Any:
        if "model" not in self._cache:
            self._cache["model"] = _import(str(self.table["model"]), self.root)()
        return self._cache["model"]

    def features(self, frame: Any) -> Any:
        drop = [self.table.get("target"), self.table.get("time_column")]
        for key in ("id_columns", "exclude", "parse_dates"):
            drop += list(_names(self.table.get(key)))
        return frame.drop(columns=[c for c in drop if c is not None and c in frame.columns])


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _fitted_model(data: AuditData) -> tuple[Any, Any, Any, Any, Any]:
    from pytest_mlchecks.inputs.models import fitted_copy

    frames = data.frames()
    target = data.table["target"]
    X_train, X_test = data.features(frames["train"]), data.features(frames["test"])
    y_train, y_test = frames["train"][target], frames["test"][target]
    model, _ = fitted_copy(data.model(), X_train, y_train)
    return model, X_train, y_train, X_test, y_test


def plan(table: dict[str, Any]) -> list[tuple[str, str, Callable[[AuditData], Any]]]:
    """(rung, name, run) for every check the configuration allows; the rung is the check's
    own, from the registry."""
    return [(CHECKS[name.split("[")[0]].rung, name, run) for name, run in _steps(table)]


def _steps(table: dict[str, Any]) -> list[tuple[str, Callable[[AuditData], Any]]]:
    """(name, run) for every check the configuration allows, in ladder order."""
    import pytest_mlchecks as mlc

    target = table.get("target")
    ids = _names(table.get("id_columns")) or None
    time_column = table.get("time_column")
    items: list[tuple[str, Callable[[AuditData], Any]]] = []

    def frames(d: AuditData) -> dict[str, Any]:
        return d.frames()

    items.append(
        (
            "finite",
            lambda d: [
                mlc.assert_finite(d.features(frames(d)[split]), allow_nan=True)
                for split in ("train", "test")
            ],
        )
    )
    items.append(
        (
            "no_duplicates",
            lambda d: mlc.assert_no_duplicates(
                frames(d)["train"],
                subset=[c for c in frames(d)["train"].columns if c not in (ids or [])],
            ),
        )
    )
    items.append(
        (
            "no_leakage",
            lambda d: mlc.assert_no_leakage(
                frames(d)["train"],
                frames(d)["test"],
                target=target,
                time_column=time_column,
                id_columns=ids,
            ),
        )
    )
    if target is not None:
        items.append(
            (
                "missingness_not_predictive",
                lambda d: mlc.assert_missingness_not_predictive(
                    d.features(frames(d)["train"]), frames(d)["train"][target]
                ),
            )
        )
    if table.get("model") and target is not None:

        def beats(d: AuditData) -> Any:
            model, X_train, y_train, X_test, y_test = _fitted_model(d)
            return mlc.assert_beats_dummy(model, X_train, y_train, X_test, y_test)

        def roundtrip(d: AuditData) -> Any:
            model, _, _, X_test, _ = _fitted_model(d)
            return mlc.assert_roundtrip_consistent(model, X_test)

        def overfit(d: AuditData) -> Any:
            return mlc.assert_no_overfitting(*_fitted_model(d))

        def suspicious(d: AuditData) -> Any:
            return mlc.assert_not_suspiciously_good(*_fitted_model(d))

        items.append(("roundtrip_consistent", roundtrip))
        items.append(("beats_dummy", beats))
        items.append(("no_overfitting", overfit))
        items.append(("not_suspiciously_good", suspicious))
        for column in _names(table.get("sensitive_columns")):

            def fair(d: AuditData, column: str = column) -> Any:
                model, _, _, X_test, y_test = _fitted_model(d)
                groups = frames(d)["test"][column]
                return mlc.assert_fair(y_test, model.predict(X_test), groups)

            items.append((f"fair[{column}]", fair))
    if table.get("current") or table.get("loader"):

        def current(d: AuditData) -> Any:
            got = frames(d).get("current")
            if got is None:
                pytest.skip("no current batch configured (current = ... or a loader's third frame)")
            return got

        items.append(
            (
                "schema_matches",
                lambda d: mlc.assert_schema_matches(
                    d.features(current(d)), mlc.infer_schema(d.features(frames(d)["train"]))
                ),
            )
        )
        items.append(
            (
                "no_drift",
                lambda d: mlc.assert_no_drift(
                    d.features(frames(d)["train"]), d.features(current(d))
                ),
            )
        )
        items.append(
            (
                "in_distribution",
                lambda d: mlc.assert_in_distribution(
                    d.features(current(d)), d.features(frames(d)["train"])
                ),
            )
        )
    return items


class AuditItem(pytest.Item):
    """One generated check of the config-driven audit."""

    def __init__(
        self, *, run: Callable[[AuditData], Any], data: AuditData, rung: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._run = run
        self._data = data
        self.add_marker(f"ml_{rung}")

    def runtest(self) -> None:
        __tracebackhide__ = True
        try:
            self._run(self._data)
        except (MLCheckException, pytest.skip.Exception):
            raise
        except Exception as exc:  # the user's loader or model: say where, not 1,500 lines
            raise MLCheckUsageError(
                f"[tool.mlchecks] {self.name}: the configured data or model failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, MLCheckException):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        line = 0
        try:
            for number, text in enumerate(self.path.read_text().splitlines()):
                if text.strip() == "[tool.mlchecks]":
                    line = number
                    break
        except OSError:
            pass
        return self.path, line, f"[tool.mlchecks] {self.name}"


class AuditFile(pytest.File):
    """pyproject.toml's [tool.mlchecks] table, as a collector of ladder items."""

    def __init__(self, *, table: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._table = table

    def collect(self) -> Iterator[pytest.Item]:
        data = AuditData(self.path.parent, self._table)
        for rung, name, run in plan(self._table):
            yield AuditItem.from_parent(self, name=f"{rung}::{name}", run=run, data=data, rung=rung)


def generated_items(session: pytest.Session) -> list[pytest.Item]:
    found = read_config(session.config.rootpath)
    if found is None:
        return []
    path, table = found
    collector = AuditFile.from_parent(session, path=path, table=table)
    return list(collector.collect())
