"""Tests of the checks in pytest_mlchecks/checks/production/contract.py."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pytest_mlchecks import (
    MLCheckError,
    MLCheckUsageError,
    Schema,
    assert_schema_matches,
    check_schema_matches,
    infer_schema,
)
from pytest_mlchecks.checks.production.contract import value_hash

from ...builders import customer_frame
from ...conftest import needs_xdist

# ------------------------------------------------------------------------ schema


def test_schema_json_round_trips_exactly(tmp_path) -> None:
    frame = customer_frame(2000, 0)
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
        infer_schema(customer_frame(50, 0))
        .to_json()
        .replace('"schema_version": 1', '"schema_version": 99')
    )
    with pytest.raises(MLCheckUsageError, match="newer than this pytest-mlchecks"):
        Schema.from_json(text)
    with pytest.raises(MLCheckUsageError, match="does not parse"):
        Schema.from_json("{not json")
    with pytest.raises(MLCheckUsageError, match="df is empty"):
        infer_schema(pd.DataFrame({"a": []}))


@pytest.mark.parametrize("n", [500, 5000, 50_000])
def test_fresh_sample_from_the_same_distribution_passes(n: int) -> None:
    schema = infer_schema(customer_frame(n, 1))
    for seed in range(2, 12):
        result = check_schema_matches(customer_frame(n, seed), schema)
        assert result.passed, result.message


def test_every_violation_reported_at_once() -> None:
    reference = customer_frame(5000, 1)
    broken = customer_frame(5000, 2)
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
    reference = customer_frame(3000, 1)
    current = customer_frame(3000, 2)[list(reversed(reference.columns))]
    current["extra"] = 0
    assert not check_schema_matches(current, reference).passed
    assert check_schema_matches(current, reference, check_order=False, allow_extra=True).passed


def test_new_nulls_in_a_never_null_column_are_caught() -> None:
    reference = customer_frame(10_000, 1)
    current = customer_frame(10_000, 2)
    current.loc[:49, "age"] = np.nan  # 0.5% nulls where the reference had none
    result = check_schema_matches(current, reference)
    assert [v["rule"] for v in result.details["violations"]] == ["null_rate"]


def test_schema_snapshot_file_update(tmp_path, monkeypatch) -> None:
    path = tmp_path / "schema.json"
    with pytest.raises(MLCheckUsageError, match="--ml-update-schema"):
        check_schema_matches(customer_frame(500, 1), path)
    created = check_schema_matches(customer_frame(500, 1), path, update=True)
    assert created.passed and created.details["updated"] and path.exists()
    assert check_schema_matches(customer_frame(500, 2), str(path)).passed
    assert not check_schema_matches(customer_frame(500, 2).drop(columns=["age"]), path).passed


def test_schema_expected_type_is_checked() -> None:
    with pytest.raises(MLCheckUsageError, match="expected a Schema, a reference DataFrame"):
        check_schema_matches(customer_frame(10, 0), 42)


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


def test_a_level_rarer_than_its_peers_makes_the_domain_less_closed() -> None:
    """Real tables (issue 12): 'Separated' 3 times in 500 rows next to a level seen 7 times,
    room type 'b' twice next to one seen 111 times. No level is rare (seen 1-5 times), but
    the rarer the rarest level, the likelier one nobody saw yet: a batch as large as the
    reference may bring 2 new values when the rarest level was seen 7 times."""
    counts = {"single": 111, "married": 96, "widowed": 18, "divorced": 18, "absent": 7}
    reference = pd.DataFrame({"status": [k for k, c in counts.items() for _ in range(c)]})
    current = reference.sample(frac=1.0, random_state=0).reset_index(drop=True)
    current.loc[:1, "status"] = "separated"
    result = check_schema_matches(current, reference)
    assert result.passed, result.message
    current.loc[:5, "status"] = "separated"  # 6 values: beyond what chance explains
    result = check_schema_matches(current, reference)
    assert not result.passed
    (violation,) = result.details["violations"]
    assert violation["reference_min_count"] == 7 and violation["allowed_by_chance"] == 2
    assert "the rarest was seen 7 times" in result.message
    # the schema JSON records the rarest count; a schema written without it stays closed
    schema = infer_schema(reference)
    assert schema["status"].min_count == 7
    assert Schema.from_json(schema.to_json())["status"].min_count == 7
    raw = json.loads(schema.to_json())
    for column in raw["columns"]:
        column.pop("min_count", None)
    old = Schema.from_json(json.dumps(raw))
    current.loc[:, "status"] = reference["status"]
    current.loc[0, "status"] = "separated"
    assert check_schema_matches(current, schema).passed
    assert not check_schema_matches(current, old).passed


def test_integers_named_as_ids_have_no_range_rule_even_when_ids_repeat() -> None:
    """MASS biopsy: ID repeats (samples per patient) and new batches bring new ids."""
    from pytest_mlchecks.schema import id_like

    rng = np.random.default_rng(0)
    ids = rng.choice(np.arange(100_000, 1_400_000), 400, replace=False)
    reference = pd.DataFrame({"ID": np.concatenate([ids, ids[:40]]), "x": rng.normal(size=440)})
    assert id_like(reference["ID"]) == "integers named as ids, mostly distinct"
    assert id_like(reference["ID"].rename("dose")) is None
    assert infer_schema(reference)["ID"].key
    current = reference.iloc[:200].copy()
    current.loc[:4, "ID"] = [61_634, 63_375, 76_389, 8_233_704, 13_454_352]
    assert check_schema_matches(current, reference).passed
    renamed = current.rename(columns={"ID": "dose"})
    assert not check_schema_matches(renamed, reference.rename(columns={"ID": "dose"})).passed


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


# ------------------------------------------------------ corrupt or future schema JSON (issue 13)


def _schema_dict() -> dict:
    return json.loads(infer_schema(customer_frame(200, 0)).to_json())


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


@needs_xdist
def test_reports_hold_hashes_not_values_serial_and_under_xdist(pytester: pytest.Pytester) -> None:
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
