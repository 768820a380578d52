"""Bad inputs found by the fuzz suite after the branches met: each refused, the clean twin
still decided."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pytest_mlchecks as mlc
from pytest_mlchecks import MLCheckUsageError


def test_entity_overlap_with_no_id_present_cannot_decide() -> None:
    train = pd.DataFrame({"customer_id": [np.nan] * 5, "x": range(5)})
    test = pd.DataFrame({"customer_id": [1.0, 2.0], "x": [1, 2]})
    with pytest.raises(MLCheckUsageError, match="missing id"):
        mlc.check_no_entity_overlap(train, test, "customer_id")
    train["customer_id"] = [1.0, 3.0, 4.0, np.nan, 5.0]
    assert not mlc.check_no_entity_overlap(train, test, "customer_id").passed
    train["customer_id"] = [6.0, 3.0, 4.0, np.nan, 5.0]
    assert mlc.check_no_entity_overlap(train, test, "customer_id").passed


def test_no_truncation_refuses_a_table_of_texts() -> None:
    def tokenizer(text: str) -> list[str]:
        return text.split()

    frame = pd.DataFrame({"text": ["a b c", "d e"], "label": ["x", "y"]})
    with pytest.raises(MLCheckUsageError, match="one column of strings"):
        mlc.check_no_truncation(frame, tokenizer, max_length=2)
    assert not mlc.check_no_truncation(frame["text"], tokenizer, max_length=2).passed
    assert mlc.check_no_truncation(frame["text"], tokenizer, max_length=3).passed


def test_no_drift_on_all_missing_tables_cannot_decide() -> None:
    empty = pd.DataFrame(np.nan, index=range(200), columns=["a", "b"])
    with pytest.raises(MLCheckUsageError, match=r"cannot\s+decide"):
        mlc.check_no_drift(empty, empty.copy())
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"a": rng.normal(size=2000), "b": np.nan})
    assert mlc.check_no_drift(ref, ref.assign(a=rng.normal(size=2000))).passed
    assert not mlc.check_no_drift(ref, ref.assign(a=rng.normal(3, 1, size=2000))).passed


def test_no_drift_takes_bfloat16_tensors() -> None:
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    ref = torch.randn(3000, 2, generator=gen).to(torch.bfloat16)
    same = torch.randn(3000, 2, generator=gen).to(torch.bfloat16)
    assert mlc.check_no_drift(ref, same).passed
    assert not mlc.check_no_drift(ref, same + 3).passed
