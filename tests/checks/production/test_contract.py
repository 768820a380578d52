"""Production rung: schema contracts, drift and out-of-distribution rows, both ways."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    MLCheckWarning,
    Schema,
    assert_no_drift,
    assert_schema_matches,
    check_in_distribution,
    check_no_drift,
    check_schema_matches,
    infer_schema,
)
from pytest_mlchecks.checks.production.contract import value_hash


def _frame(n: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift * 10, 10, n),
            "income": rng.lognormal(10, 1, n),
            "wait": rng.exponential(2.0, n),
            "score": np.clip(rng.normal(0.5, 0.3, n), 0, 1),  # clipped at both ends
            "visits": rng.poisson(3, n),
            "city": pd.Categorical(rng.choice(["north", "south", "east", "west"], n)),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.7, 0.25, 0.05]),
            "active": rng.random(n) < 0.6,
        }
    )


# ------------------------------------------------------------------------ schema


def test_schema_json_round_trips_exactly(tmp_path) -> None:
    frame = _frame(2000, 0)
    frame.loc[:9, "age"] = np.nan
    schema = infer_schema(frame)
    text = schema.to_json()
    assert Schema.from_json(text) == schema
    assert Schema.from_json(text).to_json() == text
    data = json.loads(text)
    assert [c["name"] for c in data["columns"]] == list(frame.columns)
    assert schema["age"].null_rate == pytest.approx(10 / 2000) and schema["age"].nullable
    assert schema["plan"].categories == ["free", "pro", "team"]
    assert schema["city"].kind == "category" and schema["visits"].kind == "int"
    schema.save(tmp_path / "s.json")
    assert Schema.load(tmp_path / "s.json") == schema


def test_schema_rejects_newer_versions_and_garbage() -> None:
    text = (
        infer_schema(_frame(50, 0)).to_json().replace('"schema_version": 1', '"schema_version": 99')
    )
    with pytest.raises(MLCheckUsageError, match="newer than this pytest-mlchecks"):
        Schema.from_json(text)
    with pytest.raises(MLCheckUsageError, match="does not parse"):
        Schema.from_json("{not json")
    with pytest.raises(MLCheckUsageError, match="df is empty"):
        infer_schema(pd.DataFrame({"a": []}))


@pytest.mark.parametrize("n", [500, 5000, 50_000])
def test_fresh_sample_from_the_same_distribution_passes(n: int) -> None:
    schema = infer_schema(_frame(n, 1))
    for seed in range(2, 12):
        result = check_schema_matches(_frame(n, seed), schema)
        assert result.passed, result.message


def test_every_violation_reported_at_once() -> None:
    reference = _frame(5000, 1)
    broken = _frame(5000, 2)
    broken = broken.drop(columns=["wait"])  # missing column
    broken["new_col"] = 1.0  # unexpected column
    broken = broken[["income", "age", *[c for c in broken.columns if c not in ("income", "age")]]]
    broken["visits"] = broken["visits"].astype(float)  # int -> float
    broken["city"] = broken["city"].astype(str)  # category -> string
    broken.loc[: len(broken) // 5, "income"] = np.nan  # null spike
    broken.loc[:99, "score"] = 7.5  # far out of [0, 1]
    broken.loc[:199, "plan"] = "enterprise"  # unseen category
    result = check_schema_matches(broken, reference)
    assert not result.passed
    rules = {(v["rule"], v.get("column")) for v in result.details["violations"]}
    assert rules == {
        ("missing_columns", None),
        ("extra_columns", None),
        ("column_order", None),
        ("dtype", "visits"),
        ("dtype", "city"),
        ("null_rate", "income"),
        ("range", "score"),
        ("unseen_categories", "plan"),
    }
    assert result.value == 8
    text = result.message
    # issue 13: raw cell values stay out of reports unless ini ml_report_values = true
    assert "missing columns: ['wait']" in text and "'enterprise'" not in text
    assert value_hash("enterprise") in text
    with pytest.raises(MLCheckError, match="8 violations"):
        assert_schema_matches(broken, reference)


def test_rules_can_be_relaxed() -> None:
    reference = _frame(3000, 1)
    current = _frame(3000, 2)[list(reversed(reference.columns))]
    current["extra"] = 0
    assert not check_schema_matches(current, reference).passed
    assert check_schema_matches(current, reference, check_order=False, allow_extra=True).passed


def test_new_nulls_in_a_never_null_column_are_caught() -> None:
    reference = _frame(10_000, 1)
    current = _frame(10_000, 2)
    current.loc[:49, "age"] = np.nan  # 0.5% nulls where the reference had none
    result = check_schema_matches(current, reference)
    assert [v["rule"] for v in result.details["violations"]] == ["null_rate"]


def test_schema_snapshot_file_update(tmp_path, monkeypatch) -> None:
    path = tmp_path / "schema.json"
    with pytest.raises(MLCheckUsageError, match="--ml-update-schema"):
        check_schema_matches(_frame(500, 1), path)
    created = check_schema_matches(_frame(500, 1), path, update=True)
    assert created.passed and created.details["updated"] and path.exists()
    assert check_schema_matches(_frame(500, 2), str(path)).passed
    assert not check_schema_matches(_frame(500, 2).drop(columns=["age"]), path).passed


def test_schema_expected_type_is_checked() -> None:
    with pytest.raises(MLCheckUsageError, match="expected a Schema, a reference DataFrame"):
        check_schema_matches(_frame(10, 0), 42)


# ------------------------------------------------------------------------ drift


@pytest.mark.parametrize("n", [500, 5000, 200_000])
def test_no_drift_between_two_samples_of_one_distribution(n: int) -> None:
    result = check_no_drift(_frame(n, 1), _frame(n, 2))
    assert result.passed, result.message


def test_half_sd_shift_is_reported_with_effect_and_noise() -> None:
    result = check_no_drift(_frame(5000, 1), _frame(5000, 2, shift=0.5))
    assert not result.passed
    assert result.details["columns"][0]["column"] == "age"  # worst first
    assert "sampling noise alone reaches" in result.message
    ks = check_no_drift(_frame(5000, 1), _frame(5000, 2, shift=0.5), method="ks")
    assert not ks.passed and ks.severity == "error" and ks.details["drifted"] == ["age"]


def test_large_shift_fails_psi_and_warning_level_only_warns() -> None:
    big = check_no_drift(_frame(5000, 1), _frame(5000, 2, shift=1.0))
    assert not big.passed and big.severity == "error" and big.details["drifted"] == ["age"]
    with pytest.raises(MLCheckError, match="no_drift"):
        assert_no_drift(_frame(5000, 1), _frame(5000, 2, shift=1.0))
    mild = check_no_drift(_frame(20_000, 1), _frame(20_000, 2, shift=0.4))
    assert not mild.passed and mild.severity == "warning"
    with pytest.warns(MLCheckWarning):
        assert_no_drift(_frame(20_000, 1), _frame(20_000, 2, shift=0.4))


def test_small_samples_do_not_false_alarm_on_noise() -> None:
    # at n=100 sampling noise alone pushes PSI past 0.1; the noise bar absorbs it
    alarms = sum(
        not check_no_drift(_frame(100, s), _frame(100, s + 1000)).passed for s in range(50)
    )
    assert alarms <= 1


def test_categorical_drift_new_categories_and_nan_bins() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"plan": rng.choice(["free", "pro"], 5000), "x": rng.normal(size=5000)})
    cur = ref.copy()
    cur.loc[:1999, "plan"] = "enterprise"
    cur.loc[:1999, "x"] = np.nan
    result = check_no_drift(ref, cur)
    assert set(result.details["drifted"]) == {"plan", "x"}


def test_constant_columns_and_prediction_drift() -> None:
    ref = pd.DataFrame({"c": np.ones(1000)})
    assert check_no_drift(ref, ref.copy()).passed
    assert not check_no_drift(ref, pd.DataFrame({"c": np.full(1000, 2.0)})).passed
    rng = np.random.default_rng(0)
    p_ref = rng.beta(2, 5, 10_000)
    assert check_no_drift(p_ref, rng.beta(2, 5, 10_000)).passed
    assert not check_no_drift(pd.Series(p_ref), pd.Series(rng.beta(5, 2, 10_000))).passed


def test_drift_usage_errors() -> None:
    with pytest.raises(MLCheckUsageError, match="no columns in common"):
        check_no_drift(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}))
    with pytest.raises(MLCheckUsageError, match="current is empty"):
        check_no_drift(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": []}))
    with pytest.raises(MLCheckUsageError, match="method must be"):
        check_no_drift(np.ones(10), np.ones(10), method="wasserstein")


# ------------------------------------------------------------------------ OOD


@pytest.mark.parametrize("n", [500, 5000, 100_000])
def test_fresh_skewed_sample_is_in_distribution(n: int) -> None:
    train = _frame(n, 1)
    for seed in range(2, 7):
        result = check_in_distribution(_frame(n, seed), train)
        assert result.passed, result.message


def test_plain_z_rule_would_have_flagged_those_rows() -> None:
    train, new = _frame(20_000, 1), _frame(20_000, 2)
    z = ((new["wait"] - train["wait"].mean()) / train["wait"].std()).abs()
    assert (z > 3).mean() > 0.015  # the naive rule: about 2% false findings on exponential data
    assert check_in_distribution(new, train).passed


def test_far_rows_are_flagged_and_features_named() -> None:
    train, new = _frame(5000, 1), _frame(5000, 2)
    new.loc[:199, "income"] *= 1000  # a unit change on 4% of rows
    new["city"] = new["city"].cat.add_categories(["atlantis"])
    new.loc[:99, "city"] = "atlantis"
    result = check_in_distribution(new, train)
    assert not result.passed
    out = result.details["features_out"]
    assert set(out) == {"income", "city"} and 200 <= out["income"] <= 203 and out["city"] == 100
    assert "income" in result.message


def _with_keys(n: int, seed: int, start: int, shift: float = 0.0) -> pd.DataFrame:
    """A feature frame with a row id and a timestamp that move forward with every batch."""
    frame = _frame(n, seed, shift=shift)
    frame.insert(0, "row_id", np.arange(start, start + n))
    frame["seen_at"] = pd.date_range("2025-01-01", periods=n, freq="min", tz="UTC") + pd.Timedelta(
        minutes=start
    )
    return frame


def test_keys_and_timestamps_are_not_drift_range_or_ood_failures() -> None:
    reference, current = _with_keys(4000, 0, 0), _with_keys(1000, 1, 4000)
    schema = infer_schema(reference)
    assert schema["row_id"].key and not schema["age"].key
    assert check_schema_matches(current, schema).passed
    assert Schema.from_json(schema.to_json())["row_id"].key
    drift = check_no_drift(reference, current)
    assert drift.passed and drift.details["skipped"] == {"row_id": "key", "seen_at": "datetime"}
    assert check_in_distribution(current, reference).passed
    # named explicitly, they are compared (as numbers for the timestamp) and do drift
    named = check_no_drift(reference, current, columns=["row_id", "seen_at"], method="ks")
    assert not named.passed and set(named.details["drifted"]) == {"row_id", "seen_at"}
    assert "worst KS 1 " in named.message
    # a real shift is still caught next to them
    shifted = _with_keys(1000, 1, 4000, shift=2.0)
    assert not check_no_drift(reference, shifted).passed
    assert not check_in_distribution(shifted.assign(age=shifted["age"] * 1000), reference).passed


def test_exclude_and_mixed_metric_headline() -> None:
    reference = _frame(3000, 0)
    current = _frame(3000, 1)
    current["segment"] = "new"  # every current row in a category the reference never had
    reference["segment"] = "old"
    ks = check_no_drift(reference, current, method="ks")
    assert not ks.passed and ks.details["drifted"] == ["segment"]
    assert "worst PSI" in ks.message and ks.threshold == pytest.approx(0.25)
    assert check_no_drift(reference, current, method="ks", exclude="segment").passed
    assert check_in_distribution(current, reference, exclude=["segment"]).passed
    with pytest.raises(MLCheckUsageError, match="exclude names 'nope'"):
        check_no_drift(reference, current, exclude=["nope"])


# ------------------------------------------------------------- chance allowances (issue 12)


def _closed(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"tier": rng.choice(["a", "b", "c", "d"], n), "x": rng.normal(size=n)})


def test_one_unseen_category_in_a_closed_domain_is_a_violation() -> None:
    """4 levels seen 5,000 times, none once: a single new level is not chance."""
    reference = _closed(5000, 0)
    current = _closed(300, 1)
    assert check_schema_matches(current, reference).passed
    current.loc[17, "tier"] = "e"
    result = check_schema_matches(current, reference)
    assert not result.passed
    (violation,) = result.details["violations"]
    assert violation["rule"] == "unseen_categories" and violation["count"] == 1
    assert violation["allowed_by_chance"] == 0
    assert result.message.startswith(
        "schema_matches: 1 violation of the schema in 300 rows: 'tier'"
    )
    assert "a closed domain" in result.message
    assert check_schema_matches(current, reference, extra_unseen=1).passed
    with pytest.raises(MLCheckUsageError, match="extra_unseen"):
        check_schema_matches(current, reference, extra_unseen=-1)


def test_an_open_domain_tolerates_new_categories_at_its_good_turing_rate() -> None:
    """Many categories seen once: new ones keep appearing by chance and are not violations."""
    rng = np.random.default_rng(0)
    levels = [f"k{i}" for i in range(48)]
    weights = np.r_[np.full(8, 0.12), np.full(40, 0.04 / 40)]
    reference = pd.DataFrame(
        {"c": rng.choice(levels[:45], 2000, p=weights[:45] / weights[:45].sum())}
    )
    spec = infer_schema(reference)["c"]
    assert spec.singletons and spec.singletons > 0
    current = pd.DataFrame({"c": rng.choice(levels, 2000, p=weights / weights.sum())})
    assert check_schema_matches(current, reference).passed


def test_sentinel_values_far_out_are_never_chance() -> None:
    """7 values of -999999 in a N(0, 1) column of 300 rows used to pass ('chance explains
    up to 27'); values just past the extremes still get the chance allowance."""
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(size=300)})
    current = pd.DataFrame({"x": rng.normal(size=300)})
    assert check_schema_matches(current, reference).passed
    current.loc[:6, "x"] = -999999.0
    result = check_schema_matches(current, reference)
    assert not result.passed
    (violation,) = result.details["violations"]
    assert violation["far_out"] == 7 and violation["below_min"] >= 7
    assert "'x'" in result.message.splitlines()[0] and "far out" in result.message
    near = pd.DataFrame({"x": rng.normal(size=300)})
    near.loc[:2, "x"] = float(reference["x"].max()) + 0.2  # just past the maximum
    assert check_schema_matches(near, reference).passed


@pytest.mark.parametrize("seed", range(5))
def test_fresh_skewed_and_signed_samples_have_no_far_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000

    def sample() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "income": rng.lognormal(10, 1.5, n),
                "t": rng.standard_t(3, n),
                "age": rng.normal(40, 10, n),
            }
        )

    result = check_schema_matches(sample(), sample())
    assert result.passed, result.message


# ------------------------------------------------------------------ privacy (issue 13)


def test_unseen_categories_are_hashed_unless_values_are_allowed() -> None:
    from pytest_mlchecks._protocol import Recorder, Settings, recording

    reference = _closed(3000, 0)
    current = _closed(300, 1)
    current.loc[:4, "tier"] = "jane.doe@example.com"
    result = check_schema_matches(current, reference)
    text = json.dumps(result.details) + result.message
    assert "jane.doe" not in text
    (violation,) = result.details["violations"]
    assert violation["example_hashes"] == [value_hash("jane.doe@example.com")]
    assert len(violation["example_hashes"][0]) == 8 and violation["count"] == 5
    with recording(Recorder("opt-in", Settings(report_values=True))):
        shown = check_schema_matches(current, reference)
    assert shown.details["violations"][0]["examples"] == ["jane.doe@example.com"]
    assert "jane.doe@example.com" in shown.message


def test_ml_report_values_ini_reaches_the_checks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pandas as pd
        from pytest_mlchecks import check_schema_matches

        def test_values():
            ref = pd.DataFrame({"c": ["a", "b"] * 500})
            cur = pd.DataFrame({"c": ["a", "secret-value"] * 10})
            result = check_schema_matches(cur, ref)
            assert ("secret-value" in result.message) == SHOW
        """.replace("SHOW", "SHOW_VALUES")
    )
    pytester.makeconftest("import builtins\nbuiltins.SHOW_VALUES = False\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nml_report_values = true\n")
    pytester.makeconftest("import builtins\nbuiltins.SHOW_VALUES = True\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


# ---------------------------------------------------------------- id-like columns (issue 12)


def _with_ids(n: int, seed: int, start: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": rng.permutation(np.arange(start, start + n)),  # unique, unsorted
            "x": rng.normal(size=n),
        }
    )


def test_drift_and_ood_skip_the_same_unsorted_id_column_and_say_how_to_exclude() -> None:
    reference, current = _with_ids(2000, 0, 0), _with_ids(2000, 1, 2000)
    drift = check_no_drift(reference, current)
    ood = check_in_distribution(current, reference)
    assert drift.passed and ood.passed, drift.message + ood.message
    assert drift.details["skipped"] == {"customer_id": "unique integers"}
    assert ood.details["skipped_keys"] == ["customer_id"]
    for message in (drift.message, ood.message):
        assert "exclude=['customer_id']" in message and "columns=" in message
    assert check_no_drift(reference, current, exclude="customer_id").details["skipped"] == {}
    compared = check_no_drift(reference, current, columns=["customer_id", "x"])
    assert not compared.passed  # named on purpose: compared, and the ids moved


def test_a_unique_integer_feature_that_is_not_an_id_is_still_compared() -> None:
    """Sparse unique integers without an id name (incomes in cents) keep their drift check."""
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"cents": rng.permutation(1_000_000)[:800] * 7})
    current = pd.DataFrame({"cents": rng.permutation(1_000_000)[:800] * 7 + 3_000_000})
    assert check_no_drift(reference, current).details["skipped"] == {}
    assert not check_no_drift(reference, current).passed


def test_drift_headline_count_equals_the_columns_it_names() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    reference = pd.DataFrame({f"c{i}": rng.normal(size=n) for i in range(8)})
    current = pd.DataFrame({f"c{i}": rng.normal(size=n) + (2 if i < 7 else 0) for i in range(8)})
    result = check_no_drift(reference, current)
    head = result.message.splitlines()[0]
    assert head.startswith("no_drift: 7 columns drifted")
    named = head.split(": ", 2)[2].split("; worst")[0]
    assert sorted(named.split(", ")) == sorted(repr(f"c{i}") for i in range(7))


# ------------------------------------------------------ corrupt or future schema JSON (issue 13)


def _schema_dict() -> dict:
    return json.loads(infer_schema(_frame(200, 0)).to_json())


def _edited(edit) -> str:
    data = _schema_dict()
    edit(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.update(schema_version=2), "newer than this pytest-mlchecks"),
        (lambda d: d.update(schema_version="1"), "invalid schema_version"),
        (lambda d: d.update(n_rows=-5), "n_rows"),
        (lambda d: d.update(columns={"a": 1}), "'columns' list"),
        (lambda d: d.update(extra=1), "unknown top-level keys"),
        (lambda d: d["columns"].append(d["columns"][0]), r"names the columns \['age'\]"),
        (lambda d: d["columns"][0].update(min=5.0, max=1.0), "'age': min 5.0 is greater"),
        (lambda d: d["columns"][0].update(null_rate=-0.1), "null_rate -0.1 is not a rate"),
        (lambda d: d["columns"][0].update(min="low"), "'min' must be a number"),
        (lambda d: d["columns"][0].pop("name"), "'name' must be a string"),
        (lambda d: d["columns"][0].update(kind="tensor"), "kind 'tensor'"),
        (lambda d: d["columns"][0].update(colour=1), "unknown fields"),
        (lambda d: d["columns"].__setitem__(0, [1, 2]), "column 0 is a list"),
        (lambda d: d["columns"][6].update(categories=["free", "free"]), "more than once"),
        (lambda d: d["columns"][6].update(singletons=-1), "'singletons' must be a non-negative"),
        (lambda d: d["columns"][0]["quantiles"].update({"0.5": 1e9}), "quantiles decrease"),
    ],
)
def test_corrupt_schema_json_is_a_usage_error_naming_the_problem(edit, match: str) -> None:
    with pytest.raises(MLCheckUsageError, match=match):
        Schema.from_json(_edited(edit))


def test_schema_json_of_the_wrong_type_is_a_usage_error() -> None:
    for bad in ("[]", "null", "3", '{"columns": [], "schema_version": null}'):
        with pytest.raises(MLCheckUsageError):
            Schema.from_json(bad)
    with pytest.raises(MLCheckUsageError, match="expects the JSON text"):
        Schema.from_json(123)  # type: ignore[arg-type]
    assert Schema.from_json(json.dumps(_schema_dict())).n_rows == 200


# ----------------------------------------------------------------- bad input (issue 13)


def _records(n: int, seed: int, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=[("a", "f8"), ("b", "i8")])
    out["a"] = rng.normal(size=n) + shift
    out["b"] = rng.integers(0, 5, n)
    return out


def test_structured_arrays_are_compared_field_by_field() -> None:
    """A numpy structured array with a +3 SD shift used to pass no_drift."""
    reference = _records(1000, 0)
    drifted = check_no_drift(reference, _records(1000, 1, shift=3.0))
    assert not drifted.passed and drifted.details["drifted"] == ["a"]
    assert check_no_drift(reference, _records(1000, 2)).passed
    assert not check_in_distribution(_records(1000, 1, shift=30.0), reference).passed
    assert check_schema_matches(_records(500, 3), reference).passed
    assert infer_schema(reference).names == ["a", "b"]
    nested = np.zeros(50, dtype=[("v", "f8", (3,))])
    with pytest.raises(MLCheckUsageError, match="reference is a structured array whose fields"):
        check_no_drift(nested, nested)


def test_sparse_inputs_are_densified_or_refused_by_name() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(0)
    ref = sparse.csr_matrix(rng.normal(size=(500, 3)))
    cur = sparse.csr_matrix(rng.normal(size=(500, 3)) + np.array([3.0, 0.0, 0.0]))
    result = check_no_drift(ref, cur)
    assert not result.passed and result.details["drifted"] == ["0"]
    huge = sparse.csr_matrix((30_000_000, 2))
    with pytest.raises(MLCheckUsageError, match="current is a scipy sparse matrix"):
        check_no_drift(ref, huge)


def test_polars_without_pyarrow_still_works() -> None:
    """polars' to_pandas needs pyarrow; without it the frame converts column by column."""
    pytest.importorskip("polars")
    import subprocess
    import sys

    script = """
import sys
sys.modules["pyarrow"] = None  # as if pyarrow were not installed
import numpy as np, polars as pl
from pytest_mlchecks import check_no_drift, check_schema_matches
rng = np.random.default_rng(0)
ref = pl.DataFrame({"x": rng.normal(size=800), "s": rng.choice(["a", "b"], 800)})
cur = pl.DataFrame({"x": rng.normal(size=800) + 3, "s": rng.choice(["a", "b"], 800)})
assert check_no_drift(ref, cur).details["drifted"] == ["x"]
assert check_schema_matches(ref, ref).passed
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_too_few_rows_to_decide_is_never_a_pass() -> None:
    rng = np.random.default_rng(0)
    tiny = pd.DataFrame({"x": rng.normal(size=12)})
    with pytest.raises(MLCheckUsageError, match="no_drift cannot decide"):
        check_no_drift(tiny, tiny + 5)
    with pytest.raises(MLCheckUsageError, match="in_distribution cannot decide"):
        check_in_distribution(tiny + 5, tiny)
    enough = pd.DataFrame({"x": rng.normal(size=300)})
    assert not check_no_drift(enough, enough + 5).passed


def test_drift_and_ood_thresholds_are_validated() -> None:
    frame = _frame(500, 0)
    for kwargs in ({"threshold": -1.0}, {"threshold": float("nan")}, {"warn_threshold": 0.0}):
        with pytest.raises(MLCheckUsageError, match="ml_drift_psi"):
            check_no_drift(frame, frame, **kwargs)
    with pytest.raises(MLCheckUsageError, match="ml_drift_ks_threshold"):
        check_no_drift(frame, frame, method="ks", threshold=1.5)
    with pytest.raises(MLCheckUsageError, match="max_fraction"):
        check_in_distribution(frame, frame, max_fraction=float("nan"))
    with pytest.raises(MLCheckUsageError, match="margin"):
        check_in_distribution(frame, frame, margin=-1)


def test_id_names_are_recognised_without_catching_words_ending_in_id() -> None:
    from pytest_mlchecks.schema import id_like

    rng = np.random.default_rng(0)
    sparse_unique = pd.Series(rng.permutation(10**7)[:500] * 3)
    for name in ("id", "customer_id", "customerId", "ORDER_ID", "order_key", "uuid"):
        assert id_like(sparse_unique.rename(name)) == "unique integers", name
    for name in ("paid", "valid", "humid", "cents"):
        assert id_like(sparse_unique.rename(name)) is None, name
    assert id_like(pd.Series(np.arange(100))) == "key"
    assert id_like(pd.Series([f"user{i}" for i in range(100)])) == "identifiers or free text"
    assert id_like(pd.Series(rng.integers(0, 5, 100))) is None


def test_relative_schema_snapshots_resolve_against_the_test_file(
    pytester: pytest.Pytester,
) -> None:
    """'schemas/x.json' is found next to the test file whatever the working directory."""
    sub = pytester.mkpydir("pkg")
    (sub / "test_snap.py").write_text(
        "import pandas as pd\n"
        "from pytest_mlchecks import assert_schema_matches\n\n"
        "def test_snap():\n"
        "    df = pd.DataFrame({'a': [1.0, 2.0, 3.0] * 10})\n"
        "    assert_schema_matches(df, 'schemas/a.json')\n"
    )
    written = pytester.runpytest("--ml-update-schema", "-p", "no:cacheprovider")
    written.assert_outcomes(passed=1)
    # --ml-update-schema says what it wrote, where
    written.stdout.fnmatch_lines(["mlchecks: schema written: *schemas*a.json (1 columns)"])
    assert (sub / "schemas" / "a.json").exists()
    assert not (pytester.path / "schemas").exists()
    elsewhere = pytester.mkdir("elsewhere")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(elsewhere)
        result = pytester.runpytest(str(sub), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "schema written" not in result.stdout.str()  # comparing writes nothing


def test_infinities_seen_in_the_reference_are_not_out_of_range() -> None:
    rng = np.random.default_rng(0)
    with_inf = pd.DataFrame({"x": np.r_[rng.normal(size=398), [np.inf, -np.inf]]})
    assert infer_schema(with_inf)["x"].has_inf is True
    assert check_schema_matches(with_inf, with_inf).passed
    finite = pd.DataFrame({"x": rng.normal(size=400)})
    result = check_schema_matches(with_inf, finite)  # infinities never seen: far out
    assert not result.passed and result.details["violations"][0]["far_out"] == 2


def test_in_distribution_names_a_column_whose_kind_changed() -> None:
    train = pd.DataFrame({"x": np.arange(300.0)})
    with pytest.raises(MLCheckUsageError, match="column 'x' is float64 in X_train"):
        check_in_distribution(pd.DataFrame({"x": ["a"] * 300}), train)
    flags = pd.DataFrame({"x": np.arange(300) % 2 == 0})
    assert check_in_distribution(flags, flags).passed


def test_reports_hold_hashes_not_values_serial_and_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(
        """
        import pandas as pd
        from pytest_mlchecks import check_schema_matches

        def test_values():
            ref = pd.DataFrame({"c": ["a", "b"] * 500})
            cur = pd.DataFrame({"c": ["a", "secret-value"] * 10})
            assert not check_schema_matches(cur, ref).passed
        """
    )
    for extra in ([], ["-n", "2"]):
        pytester.runpytest("--ml-audit-json=r.json", "-p", "no:cacheprovider", *extra)
        report = (pytester.path / "r.json").read_text()
        assert "secret-value" not in report and value_hash("secret-value") in report
