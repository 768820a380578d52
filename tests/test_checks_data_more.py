"""missingness_not_predictive and time_grid_valid, both ways."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    assert_time_grid_valid,
    check_finite,
    check_missingness_not_predictive,
    check_time_grid_valid,
)


def _frame(
    n: int, seed: int, *, mnar: bool, task: str = "binary"
) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"x{i}" for i in range(5)])
    if task == "binary":
        y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-X["x0"]))).astype(int))
    elif task == "multiclass":
        y = pd.Series(rng.integers(0, 3, n))
    else:
        y = pd.Series(X["x0"] * 2 + rng.normal(0, 1, n))
    for col in ("x1", "x2", "x3"):
        X.loc[rng.random(n) < 0.2, col] = np.nan  # missing completely at random
    if mnar:
        if task == "regression":
            p = np.where(y > y.median(), 0.35, 0.05)
        else:
            p = np.where(y == y.max(), 0.35, 0.05)
        X.loc[rng.random(n) < p, "x4"] = np.nan
    return X, y


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_missingness_random_is_quiet(task: str) -> None:
    X, y = _frame(3000, 0, mnar=False, task=task)
    result = check_missingness_not_predictive(X, y)
    assert result.passed, result.message
    assert result.details["columns_tested"] == 3


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_missingness_driven_by_target_fires(task: str) -> None:
    X, y = _frame(3000, 0, mnar=True, task=task)
    result = check_missingness_not_predictive(X, y)
    assert not result.passed
    assert [f["column"] for f in result.details["flagged"]] == ["x4"]
    assert "x4" in result.message


def test_missingness_false_alarms_do_not_grow_with_n_or_columns() -> None:
    alarms = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        n = 20_000
        X = pd.DataFrame(rng.normal(size=(n, 30)))
        X[X > 1.2] = np.nan  # MCAR, 11% missing, 30 columns
        y = rng.integers(0, 2, n)
        alarms += not check_missingness_not_predictive(X, y).passed
    assert alarms <= 2  # family-wise 1% level; 60 runs


def test_missingness_small_columns_are_named_not_silently_passed() -> None:
    X, y = _frame(500, 1, mnar=False)
    X["rare"] = 1.0
    X.loc[:4, "rare"] = np.nan
    result = check_missingness_not_predictive(X, y)
    assert result.details["too_few_to_test"] == ["rare"]
    assert "Not tested" in result.message and "rare" in result.message


def test_missingness_usage_errors() -> None:
    X, y = _frame(100, 0, mnar=False)
    with pytest.raises(MLCheckUsageError, match="X has 100 rows but y has 99"):
        check_missingness_not_predictive(X, y[:99])
    with pytest.raises(MLCheckUsageError, match="alpha"):
        check_missingness_not_predictive(X, y, alpha=2)


def test_time_grid_valid_both_ways() -> None:
    t = pd.date_range("2024-01-01", periods=50, freq="D")
    assert check_time_grid_valid(pd.Series(t)).passed
    padded = np.concatenate([t.to_numpy(), t.to_numpy()[-1:].repeat(3)])  # edge padding
    result = check_time_grid_valid(padded)
    assert not result.passed and result.details["duplicated_steps"] == 3
    assert result.details["first_violation"] == {"row": 0, "position": 50}
    assert check_time_grid_valid(padded, strict=False).passed
    with pytest.raises(MLCheckError, match="3 duplicated and 0 decreasing"):
        assert_time_grid_valid(padded)


def test_time_grid_2d_per_row_and_missing() -> None:
    grid = np.tile(np.arange(10.0), (4, 1))
    assert check_time_grid_valid(grid).passed
    grid[2, 5] = 1.0
    grid[3, 7] = np.nan
    result = check_time_grid_valid(grid)
    assert result.details["rows_affected"] == 2
    assert result.details["decreasing_steps"] == 1 and result.details["missing_stamps"] == 1


def test_time_grid_usage_errors() -> None:
    with pytest.raises(MLCheckUsageError, match="t is empty"):
        check_time_grid_valid(np.array([]))
    with pytest.raises(MLCheckUsageError, match="t has dtype"):
        check_time_grid_valid(np.array(["a", "b"]))


def test_finite_on_transformer_output_catches_nan_escaping_an_imputer() -> None:
    pytest.importorskip("sklearn")
    from sklearn.impute import SimpleImputer

    X = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [np.nan, np.nan, np.nan]})
    out = SimpleImputer(strategy="mean", keep_empty_features=True).fit_transform(X)
    assert check_finite(out).passed
    assert not check_finite(X).passed


def test_usage_errors_for_a_regression_target_and_a_missing_model() -> None:
    from pytest_mlchecks import check_beats_dummy, check_class_balance

    pytest.importorskip("sklearn")
    y = np.random.default_rng(0).normal(size=200)
    with pytest.raises(MLCheckUsageError, match="regression target"):
        check_class_balance(y)
    assert check_class_balance(np.array([0.0, 1.0] * 50)).passed  # float-coded classes
    X = np.zeros((200, 2))
    with pytest.raises(MLCheckUsageError, match="model is a NoneType"):
        check_beats_dummy(None, X, y, X, y)


def test_rows_with_list_and_array_cells_are_compared() -> None:
    """Embeddings or tag lists in a column made row hashing crash ("unhashable type")."""
    from pytest_mlchecks import check_no_duplicates, check_no_row_overlap

    emb = [np.arange(3.0), np.arange(3.0), np.ones(3)]
    frame = pd.DataFrame({"emb": emb, "tags": [["a", "b"], ["a", "b"], ["c"]], "x": [1, 1, 1]})
    dups = check_no_duplicates(frame)
    assert not dups.passed and dups.details["duplicate_rows"] == 1
    assert check_no_duplicates(frame.iloc[1:]).passed
    overlap = check_no_row_overlap(frame.iloc[:1], frame.iloc[1:])
    assert not overlap.passed and "1 distinct train row;" in overlap.message
    assert check_no_row_overlap(frame.iloc[2:], frame.iloc[:2]).passed


def test_entirely_missing_columns_are_named_not_counted_as_tested() -> None:
    from pytest_mlchecks import check_missingness_not_predictive

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"empty": [np.nan] * 200, "x": rng.normal(size=200)})
    result = check_missingness_not_predictive(X, rng.integers(0, 2, 200))
    assert result.passed and result.details["missing_in_every_row"] == ["empty"]
    assert "Missing in every row" in result.message
