"""Hypothesis strategies: frames satisfy their schema, violating frames break the named rule,
datasets carry their ground truth, and the property helpers work both ways."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_mlchecks import (
    check_no_row_overlap,
    check_no_target_leakage,
    check_no_temporal_leakage,
    check_schema_matches,
    infer_schema,
)
from pytest_mlchecks.strategies import RULES, Violation, datasets, frames, violating, violations


def _reference() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame(
        {
            "row_id": np.arange(n),  # a key column: no range rule to violate
            "age": rng.normal(40, 10, n),
            "visits": rng.poisson(3, n),
            "plan": rng.choice(["free", "pro", "team"], n),
            "city": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "active": rng.random(n) < 0.5,
            "income": rng.lognormal(10, 1, n),
        }
    )
    frame.loc[:99, "income"] = np.nan  # 5% nullable
    return frame


SCHEMA = infer_schema(_reference())
# derandomized: the suite draws the same examples on every run, so CI is never flaky
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)


@FAST
@given(frames(SCHEMA))
def test_frames_always_pass_their_schema(frame: pd.DataFrame) -> None:
    result = check_schema_matches(frame, SCHEMA)
    assert result.passed, result.message
    assert list(frame.columns) == SCHEMA.names


@FAST
@given(violating(SCHEMA))
def test_violating_frames_fail_with_the_named_rule(frame: pd.DataFrame) -> None:
    # the API contract: violating() yields DataFrames, the broken rule and column in attrs
    assert isinstance(frame, pd.DataFrame)
    assert frame.attrs["rule"] in RULES
    column = frame.attrs["column"]
    assert column is None or isinstance(column, str)
    result = check_schema_matches(frame, SCHEMA)
    assert not result.passed
    rules = {v["rule"] for v in result.details["violations"]}
    assert frame.attrs["rule"] in rules, (frame.attrs, result.message)


@FAST
@given(violations(SCHEMA))
def test_violation_objects_name_the_rule_and_break_it(violation: Violation) -> None:
    assert isinstance(violation, Violation)
    assert violation.frame.attrs["rule"] == violation.rule
    assert violation.summary()["rows"] == len(violation.frame)
    result = check_schema_matches(violation.frame, SCHEMA)
    assert not result.passed
    rules = {v["rule"] for v in result.details["violations"]}
    assert violation.rule in rules, (violation.summary(), result.message)


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(datasets(inject=st.sampled_from([None, "row_overlap"]), n_rows=400))
def test_datasets_know_their_row_overlap(ds) -> None:
    found = not check_no_row_overlap(ds.train, ds.test).passed
    assert found == (ds.injected == "row_overlap")


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(datasets(task=st.sampled_from(["binary", "regression"]), inject="target_leak"))
def test_datasets_target_leak_is_found(ds) -> None:
    result = check_no_target_leakage(ds.train, ds.test, "target", exclude=["event_time"])
    assert result.details["leaking_features"] == [ds.info["leaked_feature"]]


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(datasets(inject=st.sampled_from([None, "temporal_leak"])))
def test_datasets_temporal_ground_truth(ds) -> None:
    late = not check_no_temporal_leakage(ds.X_train, ds.X_test, "event_time").passed
    assert late == (ds.injected == "temporal_leak")
    assert ds.summary()["rows_train"] == len(ds.X_train)


def test_strategy_arguments_are_validated() -> None:
    from pytest_mlchecks import MLCheckUsageError

    with pytest.raises(MLCheckUsageError, match="inject must be one of"):
        datasets(inject="gremlins")
    with pytest.raises(MLCheckUsageError, match="schema must be a Schema"):
        frames({"a": 1})  # type: ignore[arg-type]


def test_falsifying_dataset_summary_lands_in_the_audit_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_prop="""
        import pytest
        from hypothesis import given, settings
        from pytest_mlchecks.strategies import datasets

        @pytest.mark.ml_data
        @settings(max_examples=5, deadline=None, database=None)
        @given(datasets(inject="row_overlap", n_rows=200))
        def test_never_overlaps(ds):
            assert ds.injected is None
        """
    )
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=r.json", "--ml-seed=3")
    result.assert_outcomes(failed=1)
    import json

    test = json.loads((pytester.path / "r.json").read_text())["tests"][0]
    assert test["falsifying_example"]["injected"] == "row_overlap"
    assert set(test["falsifying_example"]) >= {"rows_train", "rows_test", "seed", "task"}


# ------------------------------------------------------------------------ schema reason codes


def test_violations_are_drawn_only_from_rules_the_schema_enforces() -> None:
    from pytest_mlchecks.strategies import _applicable

    assert SCHEMA["row_id"].key
    options = _applicable(SCHEMA)
    assert ("range", "row_id") not in options and ("range", "age") in options


def test_schema_reason_codes_are_one_table() -> None:
    """One set of reason codes: the constants of ``SchemaRule`` are the ``SchemaRuleCode``
    literals, each has a description in ``SCHEMA_RULES``, the check declares exactly them in
    its violation types, and the strategies draw exactly them."""
    import typing

    from pytest_mlchecks.checks.production import contract
    from pytest_mlchecks.schema import SCHEMA_RULES, SchemaRule, SchemaRuleCode
    from pytest_mlchecks.strategies import _applicable

    codes = set(typing.get_args(SchemaRuleCode))
    constants = {value for key, value in vars(SchemaRule).items() if key.isupper()}
    assert constants == codes == set(SCHEMA_RULES) == set(RULES)
    assert all(isinstance(SCHEMA_RULES[code], str) and SCHEMA_RULES[code] for code in codes)
    declared = {
        code
        for kind in typing.get_args(contract.SchemaViolation)
        for code in typing.get_args(typing.get_type_hints(kind)["rule"])
    }
    assert declared == codes
    assert {rule for rule, _ in _applicable(SCHEMA)} == codes  # SCHEMA enforces every rule


@pytest.mark.parametrize("code", RULES)
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
@given(data=st.data())
def test_every_injected_reason_code_is_reported_by_the_check(code: str, data) -> None:
    """A violation the strategies inject under a code is reported by the check under that
    code, for its column."""
    from pytest_mlchecks.strategies import _violation

    violation = data.draw(_violation(SCHEMA, (code,)))
    assert violation.rule == code
    result = check_schema_matches(violation.frame, SCHEMA)
    reported = [v for v in result.details["violations"] if v["rule"] == code]
    assert reported, (code, result.message)
    if violation.column is not None:
        named = [v["columns"] if "columns" in v else [v["column"]] for v in reported]
        assert any(violation.column in names for names in named), (violation.column, named)
