"""Stock torchvision, timm and transformers architectures (random init, no downloads): every
model-rung torch check passes on the healthy model and catches its broken versions.

Marked ``real`` (excluded from the default run): ``pytest -m real tests/real``. Each case skips
when its library is not installed. The same cases print as a table with
``python -m pytest_mlchecks.calibration --only architectures``.
"""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("torch")

from pytest_mlchecks import check_grad_norm_healthy, check_no_truncation
from pytest_mlchecks.calibration import arch_cases as arch

pytestmark = pytest.mark.real


def _need(library: str) -> None:
    if importlib.util.find_spec(library) is None:
        pytest.skip(f"{library} is not installed")
    arch.define_torchvision_ops()


@pytest.mark.parametrize("case", arch.ARCH_CASES, ids=[c.name for c in arch.ARCH_CASES])
def test_stock_architecture_passes_healthy_and_fails_broken(case: arch.ArchCase) -> None:
    _need(case.library)
    row = arch.run_case(case)
    alarms = {k: row.messages[k] for k, ok in row.clean.items() if ok is False}
    assert not alarms, alarms
    missed = [k for k, caught in row.broken.items() if caught is False]
    assert not missed, missed
    assert row.clean["grad_norm_healthy"] and row.figures["block ratio"] > 0.05


@pytest.mark.parametrize("lr", [1e-4, 1.0])
def test_tracker_catches_a_far_too_high_learning_rate_on_bert(lr: float) -> None:
    _need("transformers")
    result = arch.bert_training(lr)
    assert result.passed == (lr < 1e-2), result.message
    if lr == 1.0:
        assert result.details["sustained_growth"]["rule"] is not None


def test_zero_initialised_resnet_branches_pass_and_say_why() -> None:
    _need("torchvision")
    case = next(c for c in arch.ARCH_CASES if "zero_init_residual" in c.name)
    import torch

    built = case.build(torch)
    arch._backward(built)
    result = check_grad_norm_healthy(built.model)
    assert result.passed and "zero-initialised weight right after them" in result.message
    assert "layer1.0.conv1.weight" in result.details["gated_by_zero_init"]


def test_no_truncation_with_a_hugging_face_fast_tokenizer_built_offline() -> None:
    _need("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    import transformers

    sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang"]
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        sentences, tokenizers.trainers.BpeTrainer(special_tokens=["[UNK]", "[PAD]"])
    )
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", model_max_length=8
    )
    long = [*sentences, "the cat sat on the mat and the dog ran in the park"]
    result = check_no_truncation(long, fast, max_length=8)
    assert not result.passed and result.details["over_max_length"] == 1
    assert result.details["tokens_cut_max"] == len(tok.encode(long[-1]).ids) - 8
    assert check_no_truncation(sentences, fast, max_length=8).passed
    # text by text through a callable that pads to a fixed length: padding is not length
    padded = check_no_truncation(
        long, lambda t: fast(t, padding="max_length", max_length=32), max_length=8
    )
    assert padded.details == result.details


def test_efficientnet_norm_over_the_old_absolute_limit_is_healthy() -> None:
    """A sum-reduced loss over 48 images gives stock efficientnet_b0 a total gradient norm
    over the old absolute limit (1e3); relative to its parameter norm it is ordinary."""
    _need("torchvision")
    import torch
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.efficientnet_b0()
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(48, 3, 64, 64, generator=gen)
    y = torch.randint(0, 1000, (48,), generator=gen)
    torch.nn.functional.cross_entropy(model(X), y, reduction="sum").backward()
    result = check_grad_norm_healthy(model)
    assert result.passed and result.details["total_norm"] > 1e3, result.message
    assert result.details["grad_to_param_norm"] < 20
    assert not check_grad_norm_healthy(model, max_total_norm=1e3).passed
