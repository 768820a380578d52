"""Plugin behaviour, run in real pytest sessions with the ``pytester`` fixture."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import needs_sklearn, needs_xdist

LADDER_SUITE = """
import numpy as np
import pytest
from pytest_mlchecks import assert_finite, assert_aligned

@pytest.mark.ml_model
def test_model_rung():
    assert_aligned(np.ones((3, 2)), np.ones(3))

@pytest.mark.ml_data
def test_data_has_nan():
    assert_finite(np.array([[1.0, np.nan], [2.0, 3.0]]))

@pytest.mark.ml_data
def test_data_clean():
    assert_finite(np.ones((4, 2)))

@pytest.mark.ml_production
def test_production_rung():
    pass

def test_plain_unit_test():
    assert 1 + 1 == 2
"""


def _json(pytester: pytest.Pytester, name: str = "report.json") -> Any:
    return json.loads((pytester.path / name).read_text())


def test_data_failure_blocks_model_rung_under_audit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ladder=LADDER_SUITE)
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=report.json", "-rs", "-v")
    result.assert_outcomes(passed=2, failed=1, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*ML audit ladder*",
            "data*2*1*1*0*0",
            "model*1*0*0*0*1",
            "production*1*0*0*0*1",
            "gate: FAIL*lowest failing rung: data*2 tests on higher rungs blocked*",
            "SKIPPED*test_ladder.py:*blocked: rung 'data' failed below this test's rung "
            "'model'*fix lower layers first*",
        ]
    )
    report = _json(pytester)
    assert report["gate"] == "fail"
    assert report["failed_rung"] == "data"
    assert report["rungs"]["model"]["blocked"] == 1
    assert report["rungs"]["unranked"]["passed"] == 1
    assert {c["name"] for c in report["checks"]} == {"finite"}
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_no_block_runs_higher_rungs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ladder=LADDER_SUITE)
    result = pytester.runpytest("--ml-audit", "--ml-no-block", "--ml-audit-json=report.json")
    result.assert_outcomes(passed=4, failed=1)
    report = _json(pytester)
    assert report["gate"] == "fail"
    assert report["blocking"] is False
    assert report["rungs"]["model"] == {
        "tests": 1,
        "passed": 1,
        "failed": 0,
        "skipped": 0,
        "blocked": 0,
    }
    assert [c["name"] for c in report["checks"]] == ["finite", "finite", "aligned"]


def test_audit_orders_tests_bottom_rung_first(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_order="""
        import numpy as np
        import pytest
        import pytest_mlchecks as mlc

        @pytest.mark.ml_evaluation
        def test_a_evaluation(): pass

        def test_b_inferred_from_code():
            mlc.check_finite(np.ones(3))

        @pytest.mark.ml_pipeline
        def test_c_pipeline(): pass

        def test_d_inferred_from_fixture(assert_aligned): pass

        def test_e_unranked(): pass
        """
    )
    result = pytester.runpytest("--ml-audit", "-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "*test_e_unranked PASSED*",
            "*test_b_inferred_from_code PASSED*",
            "*test_d_inferred_from_fixture PASSED*",
            "*test_c_pipeline PASSED*",
            "*test_a_evaluation PASSED*",
        ]
    )
    # without --ml-audit the file order is kept
    plain = pytester.runpytest("-v")
    plain.stdout.fnmatch_lines(["*test_a_evaluation PASSED*", "*test_b_inferred_from_code*"])


def test_unmarked_test_takes_lowest_rung_of_checks_it_called(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_rungs="""
        import numpy as np
        from pytest_mlchecks import check_aligned, check_finite

        def helper():
            check_finite(np.ones(2))
            check_aligned(np.ones(2), np.ones(2))

        def test_calls_through_a_helper():
            helper()
        """
    )
    pytester.runpytest("--ml-audit", "--ml-audit-json=report.json")
    report = _json(pytester)
    assert report["tests"] == [
        {
            "nodeid": "test_rungs.py::test_calls_through_a_helper",
            "rung": "data",
            "outcome": "passed",
            "blocked_by": None,
        }
    ]


def test_exit_code_and_strict_mode_for_warnings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_warn="""
        import numpy as np
        from pytest_mlchecks import assert_class_balance

        def test_imbalanced():
            assert_class_balance(np.array([0] * 95 + [1] * 5))
        """
    )
    relaxed = pytester.runpytest()
    relaxed.assert_outcomes(passed=1, warnings=1)
    assert relaxed.ret == pytest.ExitCode.OK
    strict = pytester.runpytest("--ml-strict")
    strict.assert_outcomes(failed=1)
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines(["*class_balance: 1 class below 10%*"])
    pytester.makeini("[pytest]\nml_strict = true\n")
    assert pytester.runpytest().ret == pytest.ExitCode.TESTS_FAILED


def test_failing_check_gives_nonzero_exit_and_user_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fail="""
        import numpy as np
        from pytest_mlchecks import assert_finite

        def test_nan():
            X = np.array([1.0, np.nan])
            assert_finite(X)  # the user's own line
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "assert_finite(X)  # the user's own line" in out
    assert "_protocol.py" not in out and "checks/data/quality.py" not in out
    # the summary is shown whenever an ML check failed, even without --ml-audit
    assert "ML checks" in out and "gate: FAIL" in out


def test_no_summary_when_nothing_ml_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n")
    result = pytester.runpytest()
    assert "ML" not in result.stdout.str()


def test_ini_threshold_argument_beats_ini_beats_default(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nml_class_balance_min_fraction = 0.2\n")
    pytester.makepyfile(
        test_thr="""
        import numpy as np
        from pytest_mlchecks import check_class_balance

        y = np.array([0] * 85 + [1] * 15)

        def test_ini_applies(ml_thresholds):
            assert ml_thresholds["ml_class_balance_min_fraction"] == 0.2
            assert ml_thresholds["class_balance_min_fraction"] == 0.2
            assert ml_thresholds.source("ml_class_balance_min_fraction") == "ini"
            assert ml_thresholds["ml_finite_max_fraction"] == 0.0
            assert ml_thresholds.source("ml_finite_max_fraction") == "default"
            result = check_class_balance(y)
            assert result.threshold == 0.2 and not result.passed

        def test_argument_wins():
            result = check_class_balance(y, min_fraction=0.1)
            assert result.threshold == 0.1 and result.passed
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_bad_ini_threshold_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nml_finite_max_fraction = lots\n")
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ml_finite_max_fraction must be a number*'lots'*"])


def test_seed_option_and_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_seed="""
        import random
        import numpy as np

        def test_seeded(ml_seed, pytestconfig):
            expected = int(pytestconfig.getoption("ml_seed") or 0)
            assert ml_seed == expected
            assert np.random.rand() == np.random.RandomState(expected).rand()
            state = random.Random(expected).random()
            assert random.random() == state
        """
    )
    assert pytester.runpytest("--ml-seed", "7").ret == 0
    pytester.runpytest("--ml-seed", "7", "--ml-audit", "--ml-audit-json=report.json")
    assert _json(pytester)["seed"] == 7
    pytester.makeini("[pytest]\nml_seed = 11\n")
    pytester.runpytest("--ml-audit", "--ml-audit-json=report.json")
    assert _json(pytester)["seed"] == 11
    bad = pytester.runpytest("--ml-seed", "abc")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


def test_helper_fixtures_need_no_import(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fx="""
        import numpy as np
        import pytest

        def test_fixture_helpers(assert_finite, assert_aligned, assert_class_balance):
            assert_finite(np.ones(3))
            assert_aligned([1, 2], [3, 4])
            assert_class_balance([0, 1, 0, 1])

        def test_fixture_helper_fails(assert_finite):
            assert_finite([1.0, float("inf")])
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)


def test_ml_audit_record_goes_to_report_and_gate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_rec="""
        import pytest

        @pytest.mark.ml_evaluation
        def test_good(ml_audit):
            ml_audit.record("recall_at_k", 0.91, threshold=0.8, passed=True)
            ml_audit.record("latency_ms", 12.5)

        @pytest.mark.ml_evaluation
        def test_bad(ml_audit):
            ml_audit.record("auc", 0.61, threshold=0.7, passed=False)
        """
    )
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=report.json")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the gate fails on passed=False
    report = _json(pytester)
    assert report["gate"] == "fail"
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["recall_at_k"]["value"] == 0.91 and by_name["recall_at_k"]["passed"] is True
    assert by_name["latency_ms"]["passed"] is None
    assert by_name["auc"]["rung"] == "evaluation" and by_name["auc"]["threshold"] == 0.7


def test_rung_marker_takes_no_arguments(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_m="""
        import pytest

        @pytest.mark.ml_data("oops")
        def test_x(): pass
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*marker ml_data takes no arguments*"])


def test_closest_rung_marker_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_cls="""
        import pytest

        @pytest.mark.ml_production
        class TestServing:
            @pytest.mark.ml_data
            def test_inner(self): pass

            def test_outer(self): pass
        """
    )
    pytester.runpytest("--ml-audit", "--ml-audit-json=report.json")
    rungs = {t["nodeid"].split("::")[-1]: t["rung"] for t in _json(pytester)["tests"]}
    assert rungs == {"test_inner": "data", "test_outer": "production"}


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.ml_data:*", "@pytest.mark.ml_production:*"])
    pytester.makepyfile(test_s="import pytest\n@pytest.mark.ml_model\ndef test_x(): pass\n")
    assert pytester.runpytest("--strict-markers").ret == 0


def test_markdown_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ladder=LADDER_SUITE)
    pytester.runpytest("--ml-audit", "--ml-audit-md=out/summary.md")
    text = (pytester.path / "out" / "summary.md").read_text()
    assert text.startswith("## ❌ ML audit: gate FAIL")
    assert "| data ❌ | 2 | 1 | 1 | 0 | 0 |" in text
    assert "<details><summary>FAIL <code>finite</code>" in text
    assert "2 blocked tests" in text


def test_json_report_is_written_atomically_and_fully(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ladder=LADDER_SUITE)
    pytester.runpytest("--ml-audit", "--ml-audit-json=report.json")
    report = _json(pytester)
    assert set(report) >= {"schema_version", "gate", "seed", "rungs", "checks", "tests"}
    assert report["schema_version"] == 2  # 2: gate states, partial runs, check status
    for check in report["checks"]:
        assert set(check) >= {
            "nodeid",
            "name",
            "rung",
            "passed",
            "severity",
            "value",
            "threshold",
            "message",
        }
    assert not [p for p in pytester.path.iterdir() if p.name.startswith(".mlchecks-")]


def _normalise(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "gate": report["gate"],
        "rungs": report["rungs"],
        "checks": [
            (c["nodeid"], c["name"], c["rung"], c["passed"], c["value"], c["threshold"])
            for c in report["checks"]
        ],
    }


@needs_xdist
@pytest.mark.parametrize("extra", [["--ml-no-block"], []])
def test_xdist_gives_the_same_report_as_serial(pytester: pytest.Pytester, extra: list[str]) -> None:
    pytester.makepyfile(test_ladder=LADDER_SUITE)
    pytester.makepyfile(
        test_more="""
        import numpy as np
        import pytest
        from pytest_mlchecks import assert_finite, check_class_balance

        @pytest.mark.parametrize("i", range(6))
        def test_many(i):
            assert_finite(np.full(3, float(i)))
            check_class_balance([0, 1] * (i + 1))
        """
    )
    runs = {}
    for mode in (["-p", "no:xdist"], ["-n", "0"], ["-n", "2"]):
        name = f"report{len(runs)}.json"
        result = pytester.runpytest_subprocess(
            "--ml-audit", f"--ml-audit-json={name}", *extra, *mode
        )
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        runs[" ".join(mode)] = _normalise(_json(pytester, name))
    baseline = runs["-p no:xdist"]
    assert runs["-n 0"] == baseline
    assert runs["-n 2"] == baseline
    assert baseline["gate"] == "fail"
    assert len(baseline["checks"]) >= 7


@needs_xdist
def test_xdist_summary_printed_once_by_controller(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ladder=LADDER_SUITE)
    result = pytester.runpytest_subprocess("--ml-audit", "-n", "2", "--ml-audit-md=r.md")
    assert result.stdout.str().count("ML audit ladder") == 1
    assert Path(pytester.path / "r.md").exists()


def test_directory_ladder_scope_keeps_projects_apart(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nml_ladder_scope = directory\n")
    broken = pytester.mkdir("broken")
    clean = pytester.mkdir("clean")
    body = """
import numpy as np
import pytest
from pytest_mlchecks import assert_finite

@pytest.mark.ml_data
def test_data():
    assert_finite(np.array([1.0, {value}]))

@pytest.mark.ml_model
def test_model():
    pass
"""
    (broken / "test_b.py").write_text(body.format(value="float('nan')"))
    (clean / "test_c.py").write_text(body.format(value="2.0"))
    result = pytester.runpytest("--ml-audit", "--ml-audit-json=report.json", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    report = _json(pytester)
    outcomes = {t["nodeid"]: t["outcome"] for t in report["tests"]}
    assert outcomes == {
        "broken/test_b.py::test_data": "failed",
        "broken/test_b.py::test_model": "blocked",
        "clean/test_c.py::test_data": "passed",
        "clean/test_c.py::test_model": "passed",
    }
    assert report["failed_rungs_by_scope"] == {"broken": "data"}


def test_bad_ladder_scope_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nml_ladder_scope = galaxy\n")
    pytester.makepyfile(test_x="def test_x(): pass\n")
    assert pytester.runpytest().ret == pytest.ExitCode.USAGE_ERROR


def test_every_assert_helper_is_a_fixture(pytester: pytest.Pytester) -> None:
    from pytest_mlchecks._registry import ASSERT_HELPERS

    args = ", ".join(ASSERT_HELPERS)
    pytester.makepyfile(
        test_all=f"""
        import pytest_mlchecks as mlc

        def test_all({args}):
            for name, value in zip({list(ASSERT_HELPERS)!r}, [{args}]):
                assert value is getattr(mlc, name)
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_hypothesis_follows_ml_seed(pytester: pytest.Pytester) -> None:
    if importlib.util.find_spec("hypothesis") is None:
        pytest.skip("hypothesis not installed")
    pytester.makepyfile(
        test_h="""
        def test_seed(pytestconfig, ml_seed):
            assert pytestconfig.getoption("hypothesis_seed") == ml_seed == 5
        """
    )
    pytester.runpytest("--ml-seed", "5").assert_outcomes(passed=1)


AUTO_PYPROJECT = """
[tool.mlchecks]
train = "data/train.csv"
test = "data/test.csv"
target = "churned"
id_columns = ["customer_id"]
sensitive_columns = ["region"]
exclude = ["region"]
current = "data/current.csv"
model = "project_model:load_model"
"""

MODEL_MODULE = """
from sklearn.linear_model import LogisticRegression

def load_model():
    return LogisticRegression(max_iter=1000)
"""


def _write_project(pytester: pytest.Pytester, *, duplicate: bool) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 1200
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "tenure": rng.gamma(2.0, 10.0, n).round(3),
            "fee": rng.normal(50, 10, n).round(3),
            "region": rng.choice(["north", "south"], n),
        }
    )
    frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(0.08 * frame["tenure"] - 1))).astype(int)
    train, test = frame.iloc[:900].copy(), frame.iloc[900:].copy()
    if duplicate:
        copy = train.iloc[[5]].copy()
        copy["customer_id"] = 99_999  # the same record, exported again with a new id
        test = pd.concat([test, copy], ignore_index=True)
    data = pytester.mkdir("data")
    train.to_csv(data / "train.csv", index=False)
    test.to_csv(data / "test.csv", index=False)
    current = frame.sample(300, random_state=1).drop(columns=["churned"])
    current.to_csv(data / "current.csv", index=False)
    pytester.makepyprojecttoml(AUTO_PYPROJECT)
    pytester.makepyfile(project_model=MODEL_MODULE)


@needs_sklearn
def test_config_driven_audit_passes_on_clean_data(pytester: pytest.Pytester) -> None:
    _write_project(pytester, duplicate=False)
    # subprocesses: the audit imports scikit-learn, which must not be imported twice in one
    # process (pytester's in-process runs restore sys.modules afterwards)
    result = pytester.runpytest_subprocess(
        "--ml-audit", "-v", "--ml-audit-json=r.json", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(
        [
            "*pyproject.toml::data::no_leakage PASSED*",
            "*pyproject.toml::production::no_drift PASSED*",
        ]
    )
    assert result.ret == 0, result.stdout.str()[-3000:]
    report = _json(pytester, "r.json")
    assert report["gate"] == "pass"
    assert report["rungs"]["evaluation"]["passed"] == 3  # overfitting, suspicious, fair[region]
    only = pytester.runpytest_subprocess(
        "--ml-audit", "-k", "beats_dummy", "-p", "no:cacheprovider"
    )
    only.assert_outcomes(passed=1)


@needs_sklearn
def test_config_driven_audit_catches_a_duplicated_row(pytester: pytest.Pytester) -> None:
    _write_project(pytester, duplicate=True)
    result = pytester.runpytest_subprocess("--ml-audit", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*no_row_overlap: 1 of 301 test rows*exact copies of train rows*"])
    assert "blocked" in result.stdout.str()


def test_config_without_audit_flag_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(AUTO_PYPROJECT)
    pytester.makepyfile(test_x="def test_x(): pass")
    pytester.runpytest().assert_outcomes(passed=1)


def test_bad_config_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("[tool.mlchecks]\ntrain = 'a.csv'\ncolour = 'blue'\n")
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("--ml-audit")
    assert result.ret != 0
    assert "unknown keys ['colour']" in result.stdout.str() + result.stderr.str()


def test_audit_pins_hypothesis_to_the_printed_seed(pytester: pytest.Pytester) -> None:
    if importlib.util.find_spec("hypothesis") is None:
        pytest.skip("hypothesis not installed")
    pytester.makepyfile(
        test_h="""
        def test_seed(pytestconfig):
            assert pytestconfig.getoption("hypothesis_seed") == 0
        """
    )
    result = pytester.runpytest("--ml-audit")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["mlchecks: audit on, seed 0*"])
