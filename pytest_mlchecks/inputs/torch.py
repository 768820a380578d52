"""Torch inputs and outputs: what a model is called on, how it is called, what it returns.

torch is optional: this module imports without it, and each helper imports torch when it runs.
The checks on torch models (the model rung's training and text checks, the pipeline rung's
round trip) read their inputs and the model's outputs through these helpers only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

from pytest_mlchecks._deps import require
from pytest_mlchecks._result import MLCheckUsageError

if TYPE_CHECKING:
    import torch
    from torch import nn

#: A torch model: any ``torch.nn.Module``.
TorchModel: TypeAlias = "nn.Module"
#: What a torch model is called on: one tensor (``model(x)``), a tuple or list of positional
#: inputs (``model(*inputs)``) or a mapping of keyword inputs, as tokenizers return
#: (``model(**inputs)``); nested tuples, lists and mappings of tensors are walked.
ModelInputs: TypeAlias = "torch.Tensor | Sequence[Any] | Mapping[str, Any]"
#: A batch to train on: the pair ``(inputs, targets)``.
Batch: TypeAlias = "tuple[ModelInputs, Any] | list[Any]"
#: A loss: ``loss_fn(outputs, targets)`` returning one number as a tensor.
LossFn: TypeAlias = "Callable[[Any, Any], torch.Tensor]"

T = TypeVar("T")


def require_model(model: object, helper: str) -> ModuleType:
    """torch (for ``helper``), once ``model`` is known to be a ``torch.nn.Module``."""
    torch = require("torch", helper=helper)
    if not isinstance(model, torch.nn.Module):
        raise MLCheckUsageError(f"model is a {type(model).__name__}: expected a torch.nn.Module.")
    return torch


def leaves(value: object) -> Iterator[Any]:
    """The leaves of a nested input (tuples, lists and mappings walked, in order)."""
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from leaves(v)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from leaves(v)
    else:
        yield value


def validate_inputs(inputs: object, argument: str) -> None:
    """Refuse inputs a torch model cannot take or a check cannot read: numpy arrays (pass
    tensors), meta tensors (no values) and empty batches (nothing to decide on)."""
    import numpy as np
    import torch

    for value in leaves(inputs):
        if isinstance(value, np.ndarray):
            raise MLCheckUsageError(
                f"{argument} holds a numpy array: torch checks take tensors, e.g. "
                f"torch.as_tensor({argument}, dtype=torch.float32)."
            )
        if isinstance(value, torch.Tensor):
            if value.is_meta:
                raise MLCheckUsageError(
                    f"{argument} holds a meta tensor, which has no values: pass real data."
                )
            if value.dim() and value.shape[0] == 0:
                raise MLCheckUsageError(
                    f"{argument} has an empty batch (shape {tuple(value.shape)}): the check "
                    "needs at least one row to decide."
                )


def detached(value: T) -> T:
    """The inputs with every tensor detached (same storage, no autograd history)."""
    import torch

    out: Any = value
    if isinstance(value, torch.Tensor):
        out = value.detach()
    elif isinstance(value, (tuple, list)):
        items = [detached(v) for v in value]
        # a namedtuple takes its fields positionally
        out = type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    elif isinstance(value, Mapping):
        out = {k: detached(v) for k, v in value.items()}
    return cast(T, out)


def forward(model: Callable[..., Any], inputs: ModelInputs) -> Any:
    """Call the model on one input, a tuple/list of positional inputs or a mapping of keyword
    inputs (as tokenizers return)."""
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    if isinstance(inputs, Mapping):
        return model(**inputs)
    return model(inputs)


def call_model(model: Callable[..., Any], inputs: ModelInputs, argument: str) -> Any:
    """The model's output on ``inputs``; an exception raised by the model's own forward is
    the caller's input not fitting the model (dtype, shape, device), not a check bug."""
    try:
        return forward(model, inputs)
    except MLCheckUsageError:
        raise
    except Exception as exc:
        raise MLCheckUsageError(
            f"model({argument}) raised {type(exc).__name__}: {exc}. Check that {argument} "
            "matches what the model takes (dtype, shape, device)."
        ) from exc


def output_tensors(out: object) -> list[torch.Tensor]:
    """The tensors in a model output: a tensor, or nested tuples, lists, mappings."""
    if hasattr(out, "dtype") and hasattr(out, "shape") and hasattr(out, "detach"):
        return [cast("torch.Tensor", out)]
    if isinstance(out, Mapping):
        return [t for value in out.values() for t in output_tensors(value)]
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in output_tensors(item)]
    return []


def main_output(out: object) -> Any:
    """The output a language model's predictions are read from: ``logits``, else
    ``last_hidden_state`` (an attribute or a key), else a mapping's first value, a tuple's
    first item, or the output itself."""
    for attr in ("logits", "last_hidden_state"):
        if hasattr(out, attr):
            return getattr(out, attr)
    if isinstance(out, dict):
        for key in ("logits", "last_hidden_state"):
            if key in out:
                return out[key]
        return next(iter(out.values()))
    if isinstance(out, (tuple, list)):
        return out[0]
    return out


def first_rows(inputs: T, rows: int) -> T:
    """The first ``rows`` rows of every batched tensor in the inputs (others unchanged)."""
    out: Any = inputs
    if isinstance(out, (tuple, list)):
        out = type(out)(first_rows(v, rows) for v in out)
    elif isinstance(out, Mapping):
        out = {k: first_rows(v, rows) for k, v in out.items()}
    else:
        shape = getattr(out, "shape", None)
        if shape is not None and len(shape) and hasattr(out, "__getitem__"):
            out = out[:rows]
    return cast(T, out)


def batch_rows(inputs: object) -> int:
    """The batch size shared by every batched tensor in the inputs (0 if there is none)."""
    sizes = {
        int(shape[0])
        for shape in (getattr(v, "shape", None) for v in leaves(inputs))
        if shape is not None and len(shape)
    }
    return sizes.pop() if len(sizes) == 1 else 0
