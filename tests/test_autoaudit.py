"""The zero-test audit ([tool.mlchecks]): bad configuration is a usage error, never a pass."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pytest_mlchecks import MLCheckUsageError
from pytest_mlchecks._autoaudit import AuditData

from .conftest import needs_sklearn


def test_misspelt_key_is_a_usage_error_with_a_hint(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        "[tool.mlchecks]\ntrain = 'a.csv'\ntest = 'b.csv'\nsensitive_colums = ['region']\n"
    )
    pytester.makepyfile(test_x="def test_x(): pass")
    (pytester.path / "r.json").write_text("stale")
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "unknown keys ['sensitive_colums'] (did you mean 'sensitive_columns' for "
        "'sensitive_colums'?)" in result.stderr.str()
    )
    assert (pytester.path / "r.json").read_text() == "stale"  # no report, least of all a pass


@pytest.mark.parametrize("table", ["mlcheck", "ml-checks", "pytest-mlchecks"])
def test_misspelt_table_is_a_usage_error(pytester: pytest.Pytester, table: str) -> None:
    pytester.makepyprojecttoml(f"[tool.{table}]\ntrain = 'a.csv'\ntest = 'b.csv'\n")
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("--ml-audit")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*found [[]tool.{table}[]]; the zero-test audit reads*"])
    # without --ml-audit the table is not read at all
    assert pytester.runpytest().ret == pytest.ExitCode.OK


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("sensitive_columns = 3", "sensitive_columns must be a column name or a list"),
        ("target = ''", "target must be a non-empty string"),
        ("model = 'm:f'", "model needs target"),
    ],
)
def test_badly_typed_values_are_usage_errors(
    pytester: pytest.Pytester, line: str, message: str
) -> None:
    pytester.makepyprojecttoml(f"[tool.mlchecks]\ntrain = 'a.csv'\ntest = 'b.csv'\n{line}\n")
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("--ml-audit")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_missing_data_file_and_broken_toml_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    pytester.makepyprojecttoml("[tool.mlchecks]\ntrain = 'data/a.csv'\ntest = 'data/b.csv'\n")
    result = pytester.runpytest("--ml-audit")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "train = 'data/a.csv': no such file under" in result.stderr.str()
    pytester.mkdir("sub")
    (pytester.path / "sub" / "pyproject.toml").write_text("[tool.mlchecks\ntrain = 1\n")
    broken = pytester.runpytest("--ml-audit", "--rootdir=sub", "-c", "sub/pyproject.toml")
    assert broken.ret != pytest.ExitCode.OK
    assert "Traceback" not in broken.stdout.str() + broken.stderr.str()


def _frames() -> dict[str, pd.DataFrame]:
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "region": ["n", "s", "n", "s"],
            "seen": ["12/31/2023", "01/05/2024", "02/01/2024", "03/03/2024"],
            "notes": ["a", "b", "c", "d"],
            "x": [0.1, 0.2, 0.3, 0.4],
            "y": [0, 1, 0, 1],
        }
    )
    return {"train": frame.iloc[:2], "test": frame.iloc[2:]}


def _loaded(table: dict[str, object]) -> AuditData:
    data = AuditData(Path("."), {"loader": "unused:unused", **table})
    data._cache["frames"] = data._checked(_frames())
    return data


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("id_columns", ["custmer_id"], "customer_id"),
        ("target", "yy", "y"),
        ("sensitive_columns", ["regoin"], "region"),
        ("exclude", ["note"], "notes"),
        ("parse_dates", ["sen"], "seen"),
    ],
)
def test_a_column_that_does_not_exist_names_the_key(key: str, value: object, hint: str) -> None:
    with pytest.raises(MLCheckUsageError, match=rf"{key}: column .* is not in the train frame"):
        _loaded({key: value})
    with pytest.raises(MLCheckUsageError, match=rf"did you mean '{hint}'"):
        _loaded({key: value})


def test_sensitive_columns_stay_in_the_model_input_exclude_drops() -> None:
    data = _loaded(
        {
            "target": "y",
            "id_columns": ["customer_id"],
            "sensitive_columns": ["region"],
            "exclude": ["notes"],
            "parse_dates": ["seen"],
        }
    )
    train = data.frames()["train"]
    assert list(data.features(train).columns) == ["region", "x"]
    assert pd.api.types.is_datetime64_any_dtype(train["seen"])  # a date, not text
    assert list(_frames()["train"]["seen"]) == ["12/31/2023", "01/05/2024"]  # inputs untouched


def test_an_undeclared_date_column_stays_text_in_the_model_input() -> None:
    # the other side of parse_dates: without it the column is strings, compared as text
    data = _loaded({"target": "y"})
    features = data.features(data.frames()["train"])
    assert list(features["seen"]) == ["12/31/2023", "01/05/2024"]
    assert not pd.api.types.is_datetime64_any_dtype(features["seen"])


def test_a_column_that_is_not_a_date_is_a_usage_error() -> None:
    with pytest.raises(MLCheckUsageError, match="column 'notes' of the train frame is not a date"):
        _loaded({"parse_dates": ["notes"]})


PROJECT = """
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder


def load():
    rng = np.random.default_rng(0)
    n = 900
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "tenure": rng.gamma(2.0, 10.0, n).round(3),
            "region": rng.choice(["north", "south"], n),
            "signup": pd.date_range("2022-01-01", periods=n, freq="D").strftime("%m/%d/%Y"),
        }
    )
    logit = 0.08 * frame["tenure"] - 1 + (frame["region"] == "north")
    frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    current = frame.iloc[600:].drop(columns=["churned"]).copy()
    # this week's sign-ups: dates the training data never saw (as text, unseen categories)
    current["signup"] = pd.date_range("2030-01-01", periods=len(current), freq="h").strftime(
        "%m/%d/%Y %H:00"
    )
    return frame.iloc[:600], frame.iloc[600:], current


def model():
    encode = ColumnTransformer(
        [("region", OneHotEncoder(), ["region"])], remainder="passthrough"
    )
    return make_pipeline(encode, LogisticRegression(max_iter=1000))


def broken_model():
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Broken(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            raise RuntimeError("cannot fit on a Tuesday")

        def predict(self, X):
            return np.zeros(len(X))

    return Broken()
"""


@needs_sklearn
def test_model_using_a_sensitive_column_and_a_date_column(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(proj=PROJECT)
    pytester.makepyprojecttoml(
        """
        [tool.mlchecks]
        loader = "proj:load"
        target = "churned"
        id_columns = ["customer_id"]
        sensitive_columns = ["region"]
        parse_dates = ["signup"]
        model = "proj:model"
        """
    )
    result = pytester.runpytest_subprocess(
        "--ml-audit", "--ml-audit-json=r.json", "-p", "no:cacheprovider", "-v", "--ml-no-block"
    )
    report = json.loads((pytester.path / "r.json").read_text())
    outcomes = {t["nodeid"].split("::", 1)[1]: t["outcome"] for t in report["tests"]}
    # region reaches the model (its pipeline encodes it); the dates are dates, not text
    assert outcomes["model::beats_dummy"] == "passed", result.stdout.str()[-3000:]
    assert outcomes["evaluation::fair[region]"] in ("passed", "failed")
    assert outcomes["production::schema_matches"] == "passed", result.stdout.str()[-3000:]
    assert outcomes["production::no_drift"] == "passed", result.stdout.str()[-3000:]
    assert "could not run" not in result.stdout.str()


@needs_sklearn
def test_a_failing_model_is_a_short_failure_not_a_traceback(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(proj=PROJECT)
    pytester.makepyprojecttoml(
        """
        [tool.mlchecks]
        loader = "proj:load"
        target = "churned"
        model = "proj:broken_model"
        """
    )
    result = pytester.runpytest_subprocess(
        "--ml-audit", "--ml-audit-json=r.json", "-p", "no:cacheprovider", "--ml-no-block"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "the configured data or model failed: RuntimeError: cannot fit on a Tuesday" in out
    assert "sklearn/" not in out
    assert json.loads((pytester.path / "r.json").read_text())["gate"] == "fail"
