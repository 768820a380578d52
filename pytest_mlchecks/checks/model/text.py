"""NLP checks on the model rung: truncation by the tokenizer, attention masks that leak."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypedDict

import numpy as np

from pytest_mlchecks._deps import require
from pytest_mlchecks._messages import compose, percent
from pytest_mlchecks._protocol import check, current_seed, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.tables import fmt
from pytest_mlchecks.inputs.torch import call_model, main_output, validate_inputs

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "check_attention_mask_respected",
    "check_no_truncation",
]


class SupportsEncodeBatch(Protocol):
    """A ``tokenizers.Tokenizer``: encodes a list of texts at once."""

    def encode_batch(self, texts: list[str], /) -> list[Any]: ...


#: A tokenizer: a ``tokenizers.Tokenizer``, a Hugging Face tokenizer, or any callable
#: returning the input ids of one text.
Tokenizer: TypeAlias = Callable[..., Any] | SupportsEncodeBatch


def _mask_length(mask: Any) -> int:
    return int(np.asarray(mask).sum())


def _token_count(encoded: Any) -> int:
    """Tokens in one tokenizer output: a list or array of ids, a mapping with ``input_ids``
    (and ``attention_mask``, whose sum counts the real tokens when the output is padded), or
    a ``tokenizers.Encoding`` (``.ids``, ``.attention_mask``)."""
    if hasattr(encoded, "ids") and hasattr(encoded, "attention_mask"):  # tokenizers.Encoding
        return _mask_length(encoded.attention_mask)
    if isinstance(encoded, dict) or hasattr(encoded, "keys"):
        if "input_ids" not in encoded:
            raise MLCheckUsageError("tokenizer output has no 'input_ids'.")
        mask = encoded.get("attention_mask") if hasattr(encoded, "get") else None
        if mask is not None and np.asarray(mask).size:
            if np.asarray(mask).ndim > 1 and np.asarray(mask).shape[0] != 1:
                raise MLCheckUsageError("tokenizer returned several sequences for one text.")
            return _mask_length(mask)
        encoded = encoded["input_ids"]
    shape = getattr(encoded, "shape", None)
    if shape is not None:
        return int(shape[-1]) if len(shape) else 1
    if isinstance(encoded, (list, tuple)):
        if encoded and isinstance(encoded[0], (list, tuple)):
            if len(encoded) != 1:
                raise MLCheckUsageError("tokenizer returned several sequences for one text.")
            return len(encoded[0])
        return len(encoded)
    raise MLCheckUsageError(
        f"tokenizer returned a {type(encoded).__name__}: expected a list of ids, an array, a "
        "mapping with 'input_ids' or a tokenizers.Encoding."
    )


def _token_lengths(tokenizer: Any, texts: list[str]) -> list[int]:
    """Token counts of every text, without truncation: a ``tokenizers.Tokenizer`` through
    ``encode_batch``, a Hugging Face tokenizer in one batched call with
    ``truncation=False``, any other callable text by text."""
    if not callable(tokenizer) and hasattr(tokenizer, "encode_batch"):  # tokenizers.Tokenizer
        if getattr(tokenizer, "truncation", None):
            raise MLCheckUsageError(
                f"tokenizer truncates ({tokenizer.truncation}): its lengths are already cut. "
                "Pass a copy without truncation (Tokenizer.from_str(tok.to_str()) then "
                ".no_truncation())."
            )
        return [_token_count(e) for e in tokenizer.encode_batch(texts)]
    if not callable(tokenizer):
        raise MLCheckUsageError(
            f"tokenizer is a {type(tokenizer).__name__}: expected a callable (text -> input "
            "ids), a tokenizers.Tokenizer or a Hugging Face tokenizer."
        )
    if hasattr(tokenizer, "model_max_length") and hasattr(tokenizer, "convert_ids_to_tokens"):
        out = tokenizer(texts, truncation=False, padding=False)
        masks = out.get("attention_mask")
        rows = masks if masks is not None else out["input_ids"]
        return [_mask_length(m) if masks is not None else len(m) for m in rows]
    return [_token_count(tokenizer(t)) for t in texts]


def _texts(texts: Any) -> list[str]:
    if isinstance(texts, str):
        raise MLCheckUsageError("texts is a single string: expected a list of texts.")
    if isinstance(texts, Mapping) or not isinstance(texts, Iterable):
        raise MLCheckUsageError(
            f"texts is a {type(texts).__name__}: expected a list (or array, Series) of strings."
        )
    if hasattr(texts, "columns") or len(getattr(texts, "shape", ())) > 1:
        # iterating a table yields its column names, which would be "checked" as texts
        raise MLCheckUsageError(
            f"texts is a {type(texts).__name__} with several columns: expected one column of "
            "strings, e.g. df['text'] or a list."
        )
    items = list(texts)
    if not items:
        raise MLCheckUsageError("texts is empty: expected at least one text.")
    bad = [(i, v) for i, v in enumerate(items) if not isinstance(v, str)]
    if bad:
        i, value = bad[0]
        raise MLCheckUsageError(
            f"texts[{i}] is a {type(value).__name__}, not a string ({len(bad)} such "
            "items): tokenise text, not its string form; convert or drop them first."
        )
    return items


class NoTruncationDetails(TypedDict):
    """What ``no_truncation`` measured (the record's ``details``)."""

    texts: int
    over_max_length: int
    tokens_cut_total: int
    tokens_cut_max: int
    length_p50: float
    length_p99: float
    max_length: int


def _truncation_limit(max_fraction: float | None, max_length: object) -> float:
    limit = resolve_threshold("truncation_max_fraction", max_fraction)
    if not (isinstance(limit, (int, float)) and 0 <= limit <= 1):
        raise MLCheckUsageError(f"max_fraction must be a number in [0, 1], got {limit!r}.")
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
        raise MLCheckUsageError(f"max_length must be a positive integer, got {max_length!r}.")
    return limit


def _measured_lengths(tokenizer: Tokenizer, items: list[str]) -> np.ndarray:
    """The texts' token counts; the tokenizer's own errors reported as the caller's."""
    try:
        return np.asarray(_token_lengths(tokenizer, items))
    except MLCheckUsageError:
        raise
    except Exception as exc:  # the caller's tokenizer failed on their texts
        raise MLCheckUsageError(
            f"tokenizer raised {type(exc).__name__} on texts: {exc}. Check that it takes one "
            "string (or, for a tokenizers.Tokenizer, a list of strings)."
        ) from exc


def _measure_no_truncation(lengths: np.ndarray, max_length: int) -> NoTruncationDetails:
    """How many texts are longer than ``max_length`` tokens and how many tokens they lose."""
    over = lengths > max_length
    n_over = int(over.sum())
    cut = lengths[over] - max_length
    return {
        "texts": len(lengths),
        "over_max_length": n_over,
        "tokens_cut_total": int(cut.sum()),
        "tokens_cut_max": int(cut.max()) if n_over else 0,
        "length_p50": float(np.median(lengths)),
        "length_p99": float(np.quantile(lengths, 0.99)),
        "max_length": max_length,
    }


NO_TRUNCATION_WHY = (
    "the model never sees the cut part: answers, negations or labels at the end of "
    "long texts are silently dropped, and quality on long inputs falls."
)
NO_TRUNCATION_FIX = (
    "raise max_length (within the model's limit), split long texts into windows "
    "with stride and aggregate, or summarise / select the relevant part first."
)


def _explain_no_truncation(details: NoTruncationDetails, limit: float, passed: bool) -> str:
    n_over, n = details["over_max_length"], details["texts"]
    head = (
        f"no_truncation: {n_over:,} of {n:,} texts ({percent(n_over / n)}) exceed "
        f"max_length {details['max_length']} tokens"
        + (
            f"; {details['tokens_cut_total']:,} tokens cut in total, up to "
            f"{details['tokens_cut_max']:,} from one text"
            if n_over
            else ""
        )
        + f" (median length {fmt(details['length_p50'])}, 99th percentile "
        f"{fmt(details['length_p99'])}; limit {percent(limit)})."
    )
    return head if passed else compose(head, why=NO_TRUNCATION_WHY, fix=NO_TRUNCATION_FIX)


@check("no_truncation")
def check_no_truncation(
    texts: Iterable[str],
    tokenizer: Tokenizer,
    *,
    max_length: int,
    max_fraction: float | None = None,
) -> CheckResult:
    """Detect texts longer than the model's ``max_length`` in tokens (they get cut).

    ``tokenizer`` is a ``tokenizers.Tokenizer`` (``encode_batch`` is used; it must not
    truncate), a Hugging Face tokenizer (called once on all texts with
    ``truncation=False``), or any callable returning input ids for one text (a list, an
    array, a mapping with ``input_ids`` or a ``tokenizers.Encoding``); call it without
    truncation. When the output carries an attention mask, its sum counts the real tokens
    (padding is not length). ``texts`` must be strings. Figure: the fraction of texts over
    ``max_length``, held to ``max_fraction`` (ini ``ml_truncation_max_fraction``, default 0);
    the message says how many tokens are cut in total and at most.
    """
    limit = _truncation_limit(max_fraction, max_length)
    items = _texts(texts)
    details = _measure_no_truncation(_measured_lengths(tokenizer, items), max_length)
    n_over = details["over_max_length"]
    fraction = n_over / details["texts"]
    passed = fraction <= limit if limit > 0 else n_over == 0
    message = _explain_no_truncation(details, limit, passed)
    return result(passed, "error", fraction, limit, message, dict(details))


class AttentionMaskDetails(TypedDict):
    """What ``attention_mask_respected`` measured (the record's ``details``)."""

    max_abs_change: float  # at real tokens (or pooled outputs)
    padded_positions: int


def _mask_batch(torch: ModuleType, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` of ``batch``, once known to hold both padded and
    real positions."""
    if not (hasattr(batch, "keys") and "input_ids" in batch and "attention_mask" in batch):
        raise MLCheckUsageError("batch must be a mapping with 'input_ids' and 'attention_mask'.")
    validate_inputs(dict(batch), "batch")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    if not (isinstance(ids, torch.Tensor) and isinstance(mask, torch.Tensor)):
        raise MLCheckUsageError(
            "batch['input_ids'] and batch['attention_mask'] must be torch tensors, got "
            f"{type(ids).__name__} and {type(mask).__name__}."
        )
    if ids.shape != mask.shape:
        raise MLCheckUsageError(
            f"input_ids {tuple(ids.shape)} and attention_mask {tuple(mask.shape)} differ in shape."
        )
    padded = mask == 0
    if not bool(padded.any()):
        raise MLCheckUsageError("the batch has no padded position: nothing to test.")
    if bool(padded.all()):
        raise MLCheckUsageError(
            "attention_mask marks every position as padding: there is no real token whose "
            "output could be compared; pass a batch with real tokens (mask 1)."
        )
    return ids, mask


def _swapped_ids(
    torch: ModuleType, ids: torch.Tensor, padded: torch.Tensor, seed: int
) -> torch.Tensor:
    """``ids`` with every padded position holding another id drawn from the real ones."""
    real_ids = ids[~padded]
    gen = torch.Generator(device="cpu").manual_seed(seed)
    picks = torch.randint(0, real_ids.numel(), (int(padded.sum()),), generator=gen)
    swapped = ids.clone()
    swapped[padded] = real_ids.flatten()[picks.to(real_ids.device)]
    if bool((swapped[padded] == ids[padded]).all()):
        swapped[padded] = torch.where(
            ids[padded] == real_ids.flatten()[0], real_ids.flatten()[-1], real_ids.flatten()[0]
        )
    return swapped


def _measure_attention_mask(
    torch: ModuleType,
    model: nn.Module,
    batch: Mapping[str, torch.Tensor],
    atol: float,
    seed: int,
) -> AttentionMaskDetails:
    """How much the outputs at real tokens move when the padded ids change (no_grad); a
    model whose two identical passes differ by more than ``atol`` cannot be judged."""
    ids, mask = _mask_batch(torch, batch)
    padded = mask == 0
    other = dict(batch)
    other["input_ids"] = _swapped_ids(torch, ids, padded, seed)
    with torch.no_grad():
        base = main_output(call_model(model, dict(batch), "batch"))
        again = main_output(call_model(model, dict(batch), "batch"))
        changed = main_output(call_model(model, other, "batch"))
    noise = float((base.double() - again.double()).abs().max())
    if noise > atol:
        raise MLCheckUsageError(
            f"two identical forward passes differ by {fmt(noise, 3)}: the model is not "
            "deterministic (dropout in train mode?); call model.eval() so the check can decide."
        )
    diff = (base.double() - changed.double()).abs()
    if diff.dim() >= 2 and diff.shape[:2] == tuple(mask.shape):
        diff = diff[~padded.to(diff.device)]
    gap = float(diff.max()) if diff.numel() else 0.0
    return {"max_abs_change": gap, "padded_positions": int(padded.sum())}


ATTENTION_MASK_WHY = (
    "padding is an artefact of batching: when it leaks into real positions, the same "
    "text gets different predictions depending on what it was batched with."
)
ATTENTION_MASK_FIX = (
    "pass attention_mask to every attention layer (as key_padding_mask / additive "
    "-inf mask), mask padded positions before pooling (masked mean, or the first "
    "token), and check the mask convention (1 = keep)."
)


def _explain_attention_mask(details: AttentionMaskDetails, atol: float, passed: bool) -> str:
    head = (
        f"attention_mask_respected: changing {details['padded_positions']:,} padded token ids "
        f"changes outputs at real tokens by up to {fmt(details['max_abs_change'], 3)} "
        f"(tolerance {fmt(atol, 3)})."
    )
    return head if passed else compose(head, why=ATTENTION_MASK_WHY, fix=ATTENTION_MASK_FIX)


@check("attention_mask_respected")
def check_attention_mask_respected(
    model: nn.Module,
    batch: Mapping[str, torch.Tensor],
    *,
    atol: float = 1e-5,
    random_state: int | None = None,
) -> CheckResult:
    """Detect a model whose outputs at real tokens depend on the padding.

    ``batch`` is a mapping with ``input_ids`` and ``attention_mask`` (0 = padding). The ids
    at padded positions are replaced by other ids from the batch and the model is run again
    (no_grad, in the caller's mode); outputs at unpadded positions (or pooled outputs) must
    not change. Figure: the largest absolute change (threshold ``atol``).
    """
    torch = require("torch", helper="assert_attention_mask_respected")
    details = _measure_attention_mask(torch, model, batch, atol, current_seed(random_state))
    passed = details["max_abs_change"] <= atol
    message = _explain_attention_mask(details, atol, passed)
    return result(passed, "error", details["max_abs_change"], atol, message, dict(details))
