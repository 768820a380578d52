"""Tests of the checks in pytest_mlchecks/checks/data/quality.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    MLCheckWarning,
    assert_aligned,
    assert_class_balance,
    assert_finite,
    assert_time_grid_valid,
    check_aligned,
    check_class_balance,
    check_finite,
    check_missingness_not_predictive,
    check_time_grid_valid,
)

from ...conftest import needs_sklearn, needs_torch

# ------------------------------------------------------------------------ finite


def test_finite_passes_on_clean_numpy() -> None:
    result = check_finite(np.random.default_rng(0).normal(size=(1000, 5)))
    assert result.passed and result.value == 0.0 and result.threshold == 0.0


def test_finite_names_columns_and_counts_on_numpy() -> None:
    X = np.zeros((100, 4))
    X[:7, 1] = np.nan
    X[3, 3] = np.inf
    X[50, 3] = -np.inf
    result = check_finite(X)
    assert not result.passed
    cols = result.details["columns"]
    assert cols == {
        "1": {"nan": 7, "posinf": 0, "neginf": 0},
        "3": {"nan": 0, "posinf": 1, "neginf": 1},
    }
    assert result.details["non_finite_cells"] == 9
    assert result.details["rows_affected"] == 8
    assert result.value == pytest.approx(9 / 400)
    assert "Why it matters" in result.message and "How to fix" in result.message
    with pytest.raises(MLCheckError, match="9 NaN/Inf values in 2 columns"):
        assert_finite(X)


def test_finite_on_dataframe_skips_non_numeric_and_counts_nullable_na() -> None:
    df = pd.DataFrame(
        {
            "age": [31.0, np.nan, 40.0, np.nan],
            "city": ["a", None, "b", "c"],
            "flag": [True, False, True, False],
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
            "income": [1.0, 2.0, np.inf, 3.0],
        }
    )
    result = check_finite(df)
    assert not result.passed
    assert set(result.details["columns"]) == {"age", "count", "income"}
    assert result.details["columns"]["age"]["nan"] == 2
    assert result.details["columns"]["count"]["nan"] == 1
    assert result.details["columns"]["income"]["posinf"] == 1
    assert result.details["skipped_columns"] == ["city", "flag"]
    assert result.details["rows_affected"] == 3  # rows 1, 2, 3
    assert "age" in result.message and "income" in result.message


def test_finite_allow_nan_still_catches_inf() -> None:
    df = pd.DataFrame({"a": [1.0, np.nan], "b": [1.0, 2.0]})
    assert check_finite(df, allow_nan=True).passed
    df.loc[0, "b"] = -np.inf
    result = check_finite(df, allow_nan=True)
    assert not result.passed and result.details["columns"] == {
        "b": {"nan": 0, "posinf": 0, "neginf": 1}
    }


def test_finite_max_fraction_argument_tolerates_a_little() -> None:
    X = np.ones((1000, 1))
    X[:5] = np.nan  # 0.5%
    assert not check_finite(X).passed
    assert check_finite(X, max_fraction=0.01).passed
    assert not check_finite(X, max_fraction=0.001).passed


def test_finite_on_series_and_lists() -> None:
    assert check_finite(pd.Series([1.0, 2.0], name="x")).passed
    result = check_finite(pd.Series([1.0, np.nan], name="x"))
    assert not result.passed and "x" in result.details["columns"]
    assert check_finite([1, 2, 3]).passed
    assert not check_finite([[1.0, 2.0], [float("nan"), 4.0]]).passed


@needs_torch
def test_finite_on_torch_tensors() -> None:
    import torch

    t = torch.zeros(10, 3)
    assert check_finite(t).passed
    t[2, 1] = float("nan")
    t[4, 0] = float("inf")
    result = check_finite(t)
    assert not result.passed
    assert result.details["columns"] == {
        "0": {"nan": 0, "posinf": 1, "neginf": 0},
        "1": {"nan": 1, "posinf": 0, "neginf": 0},
    }
    assert result.details["rows_affected"] == 2
    assert check_finite(torch.arange(6).reshape(3, 2)).passed
    images = torch.zeros(4, 2, 3, 3)
    images[1, 0, 0, 0] = float("nan")
    assert check_finite(images).details["rows_affected"] == 1


def test_finite_never_mutates_input() -> None:
    X = np.array([[1.0, np.nan], [np.inf, 2.0]])
    df = pd.DataFrame(X, columns=["a", "b"])
    before, before_df = X.copy(), df.copy()
    check_finite(X)
    check_finite(df)
    np.testing.assert_array_equal(X, before)
    pd.testing.assert_frame_equal(df, before_df)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.empty((0, 3)), r"X is empty \(0 rows\)"),
        ({"a": 1}, r"X is a builtins.dict: expected"),
        ("text", r"X is a builtins.str"),
        (None, r"X is None"),
        (np.float64(3.0), r"X is a"),
        (np.array(["a", "b"]), r"X has dtype <U1"),
        (np.array(["a", None], dtype=object), r"X holds non-numeric objects"),
        (pd.DataFrame({"s": ["a", "b"]}), r"X has no numeric columns"),
    ],
)
def test_finite_usage_errors_name_the_argument(bad: object, match: str) -> None:
    with pytest.raises(MLCheckUsageError, match=match):
        check_finite(bad)
    with pytest.raises(MLCheckUsageError, match=match):
        assert_finite(bad)


def test_finite_rejects_an_impossible_threshold() -> None:
    with pytest.raises(MLCheckUsageError, match="max_fraction"):
        check_finite(np.ones(3), max_fraction=2.0)


# ------------------------------------------------------------------------ aligned


def test_aligned_passes_on_matching_inputs() -> None:
    X = pd.DataFrame({"a": range(5)}, index=list("abcde"))
    y = pd.Series(range(5), index=list("abcde"))
    assert check_aligned(X, y).passed
    assert check_aligned(np.ones((5, 2)), np.ones(5)).passed
    assert check_aligned(X, np.ones(5)).details["index_compared"] is False


def test_aligned_fails_on_length_mismatch() -> None:
    result = check_aligned(np.ones((5, 2)), np.ones(4))
    assert not result.passed and result.value == 1 and result.details["reason"] == "length"
    with pytest.raises(MLCheckError, match="X has 5 rows but y has 4"):
        assert_aligned(np.ones((5, 2)), [1, 2, 3, 4])


def test_aligned_detects_reordered_index() -> None:
    X = pd.DataFrame({"a": range(100)})
    y = pd.Series(range(100)).sample(frac=1.0, random_state=0)
    result = check_aligned(X, y)
    assert not result.passed
    assert result.details["same_labels_other_order"] is True
    assert result.value == result.details["mismatched_positions"] > 90
    assert "different order" in result.message


def test_aligned_detects_reset_index_on_one_side() -> None:
    frame = pd.DataFrame({"a": range(10), "y": range(10)})
    kept = frame[frame["a"] % 2 == 0]
    X = kept[["a"]]
    y = kept["y"].reset_index(drop=True)
    result = check_aligned(X, y)
    assert not result.passed and result.details["same_labels_other_order"] is False
    assert "reset_index" in result.message


@needs_torch
def test_aligned_on_torch() -> None:
    import torch

    assert check_aligned(torch.zeros(4, 2), torch.zeros(4)).passed
    assert not check_aligned(torch.zeros(4, 2), torch.zeros(3)).passed


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.empty((0, 2)), np.empty(0), r"X is empty"),
        (np.ones((2, 2)), [], r"y is empty"),
        (np.ones((2, 2)), {"y": 1}, r"y is a builtins.dict"),
        (3, np.ones(2), r"X is a builtins.int"),
    ],
)
def test_aligned_usage_errors(X: object, y: object, match: str) -> None:
    with pytest.raises(MLCheckUsageError, match=match):
        check_aligned(X, y)


# ------------------------------------------------------------------------ class balance


def test_class_balance_quiet_on_balanced_labels() -> None:
    y = np.repeat([0, 1, 2], 100)
    result = check_class_balance(y)
    assert result.passed and result.severity == "warning"
    assert result.value == pytest.approx(1 / 3)


def test_class_balance_warns_on_95_5_and_names_the_metric() -> None:
    y = np.array([0] * 950 + [1] * 50)
    result = check_class_balance(y)
    assert not result.passed and result.severity == "warning"
    assert result.value == pytest.approx(0.05)
    assert "average precision" in result.message and "95%" in result.message
    with pytest.warns(MLCheckWarning, match="class_balance"):
        out = assert_class_balance(y)  # a warning never fails a test by itself
    assert not out.passed


def test_class_balance_multiclass_recommends_macro_f1() -> None:
    y = pd.Series(["a"] * 500 + ["b"] * 480 + ["c"] * 20)
    result = check_class_balance(y)
    assert not result.passed and result.details["rare_classes"] == ["c"]
    assert "macro-averaged F1" in result.message


def test_class_balance_threshold_argument() -> None:
    y = np.array([0] * 85 + [1] * 15)
    assert check_class_balance(y).passed
    assert not check_class_balance(y, min_fraction=0.2).passed


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros(10), r"single class"),
        (np.array([0.0, np.nan, 1.0]), r"NaN labels"),
        (pd.Series([1, None, 0]), r"missing labels"),
        (np.zeros((3, 2)), r"1-D label vector"),
        ([], r"y is empty"),
    ],
)
def test_class_balance_usage_errors(y: object, match: str) -> None:
    with pytest.raises(MLCheckUsageError, match=match):
        check_class_balance(y)


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


@needs_sklearn
def test_finite_on_transformer_output_catches_nan_escaping_an_imputer() -> None:
    from sklearn.impute import SimpleImputer

    X = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [np.nan, np.nan, np.nan]})
    out = SimpleImputer(strategy="mean", keep_empty_features=True).fit_transform(X)
    assert check_finite(out).passed
    assert not check_finite(X).passed


@needs_sklearn
def test_usage_errors_for_a_regression_target_and_a_missing_model() -> None:
    from pytest_mlchecks import check_beats_dummy, check_class_balance

    y = np.random.default_rng(0).normal(size=200)
    with pytest.raises(MLCheckUsageError, match="regression target"):
        check_class_balance(y)
    assert check_class_balance(np.array([0.0, 1.0] * 50)).passed  # float-coded classes
    X = np.zeros((200, 2))
    with pytest.raises(MLCheckUsageError, match="model is a NoneType"):
        check_beats_dummy(None, X, y, X, y)


def test_entirely_missing_columns_are_named_not_counted_as_tested() -> None:
    from pytest_mlchecks import check_missingness_not_predictive

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"empty": [np.nan] * 200, "x": rng.normal(size=200)})
    result = check_missingness_not_predictive(X, rng.integers(0, 2, 200))
    assert result.passed and result.details["missing_in_every_row"] == ["empty"]
    assert "Missing in every row" in result.message
