"""Tests of the checks in pytest_mlchecks/checks/model/text.py."""

from __future__ import annotations

import math

import pytest
import torch

from pytest_mlchecks import (
    MLCheckUsageError,
    check_attention_mask_respected,
    check_no_truncation,
)

from ...builders import whitespace_tokenizer
from ...conftest import needs_tokenizers, needs_torch

pytestmark = needs_torch

nn = torch.nn


def test_no_truncation_both_ways() -> None:
    texts = ["a short one", "another short text here"]
    assert check_no_truncation(texts, whitespace_tokenizer, max_length=8).passed
    long = [*texts, " ".join(["word"] * 30)]
    result = check_no_truncation(long, whitespace_tokenizer, max_length=8)
    assert not result.passed and result.details["tokens_cut_total"] == 22
    assert result.value == pytest.approx(1 / 3)
    assert check_no_truncation(long, lambda t: t.split(), max_length=8, max_fraction=0.5).passed
    with pytest.raises(MLCheckUsageError, match="single string"):
        check_no_truncation("one text", whitespace_tokenizer, max_length=8)


class TinyEncoder(nn.Module):
    """A toy encoder; ``respect_mask`` decides whether padding leaks into pooled outputs."""

    def __init__(self, respect_mask: bool) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.respect_mask = respect_mask

    def forward(self, input_ids, attention_mask):
        h = self.emb(input_ids)
        if self.respect_mask:
            w = attention_mask.unsqueeze(-1).float()
            return (h * w).sum(1) / w.sum(1)
        return h.mean(1)


def test_attention_mask_respected_both_ways() -> None:
    torch.manual_seed(0)
    ids = torch.tensor([[5, 6, 7, 0, 0], [8, 9, 0, 0, 0]])
    mask = (ids != 0).long()
    batch = {"input_ids": ids, "attention_mask": mask}
    assert check_attention_mask_respected(TinyEncoder(True).eval(), batch).passed
    leaky = check_attention_mask_respected(TinyEncoder(False).eval(), batch)
    assert not leaky.passed and "attention_mask" in leaky.message
    assert math.isfinite(leaky.value)


# ------------------------------------------------------------------------ issue 12/13: nlp

SENTENCES = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song"]


def _word_level():
    import tokenizers

    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    trainer = tokenizers.trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]"])
    tok.train_from_iterator(SENTENCES, trainer)
    return tok


@needs_tokenizers
def test_no_truncation_takes_a_tokenizers_tokenizer_and_its_encode() -> None:
    tok = _word_level()
    long = [*SENTENCES, "the cat sat on the mat and the dog ran in the park all day"]
    result = check_no_truncation(long, tok, max_length=8)
    assert not result.passed and result.details["over_max_length"] == 1
    assert result.details["tokens_cut_max"] == 15 - 8  # 15 words
    assert check_no_truncation(SENTENCES, tok, max_length=8).passed
    by_text = check_no_truncation(long, tok.encode, max_length=8)  # returns Encoding objects
    assert by_text.details == result.details
    padded = _word_level()
    padded.enable_padding(pad_token="[PAD]", length=32)  # padding is not length
    assert check_no_truncation(long, padded, max_length=8).details == result.details
    cutting = _word_level()
    cutting.enable_truncation(max_length=8)
    with pytest.raises(MLCheckUsageError, match="truncates"):
        check_no_truncation(long, cutting, max_length=8)


def test_no_truncation_refuses_texts_that_are_not_strings() -> None:
    with pytest.raises(MLCheckUsageError, match=r"texts\[1\] is a dict"):
        check_no_truncation(["ok", {"text": "a b"}], whitespace_tokenizer, max_length=8)
    with pytest.raises(MLCheckUsageError, match="texts is a dict"):
        check_no_truncation({"a": "b c"}, whitespace_tokenizer, max_length=8)
    with pytest.raises(MLCheckUsageError, match="tokenizer is a"):
        check_no_truncation(["a b"], object(), max_length=8)


def test_attention_mask_all_padding_and_bad_batches_are_usage_errors() -> None:
    torch.manual_seed(0)
    model = TinyEncoder(True).eval()
    ids = torch.randint(1, 50, (2, 5))
    with pytest.raises(MLCheckUsageError, match="every position as padding"):
        check_attention_mask_respected(
            model, {"input_ids": ids, "attention_mask": torch.zeros(2, 5, dtype=torch.long)}
        )
    with pytest.raises(MLCheckUsageError, match="meta tensor"):
        check_attention_mask_respected(
            model,
            {
                "input_ids": ids.to("meta"),
                "attention_mask": torch.ones(2, 5, dtype=torch.long, device="meta"),
            },
        )
    mask = torch.ones(2, 5, dtype=torch.long)
    mask[:, 3:] = 0
    with pytest.raises(MLCheckUsageError, match="numpy"):
        check_attention_mask_respected(model, {"input_ids": ids.numpy(), "attention_mask": mask})
    with pytest.raises(MLCheckUsageError, match=r"model\(batch\) raised"):
        check_attention_mask_respected(
            model, {"input_ids": ids + 100, "attention_mask": mask}
        )  # ids outside the embedding table
