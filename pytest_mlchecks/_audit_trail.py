"""The audit trail: which environment, commit and inputs a gate passed with.

- ``environment()``: Python and the versions of the key packages, read from installed
  metadata (``importlib.metadata``: nothing is imported);
- ``git_state(root)``: the commit and whether the work tree had uncommitted changes
  (``git`` run once, with a timeout; None without git or outside a repository);
- ``fingerprint(value)``: a content fingerprint of a table or a model a check received:
  type, shape, dtypes (or parameter count) and a hash, never a value.

Standard library only at import: numpy, pandas, scikit-learn and torch are used only for
objects of those libraries, which are then already imported by the caller.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from pytest_mlchecks._records import GitInfo

#: distributions whose versions the report records (when installed)
KEY_PACKAGES = (
    "pytest",
    "numpy",
    "pandas",
    "scikit-learn",
    "torch",
    "hypothesis",
    "pytest-mlchecks",
)
#: rows hashed in full; a larger table is hashed on SAMPLE_ROWS evenly spaced rows (plus its
#: shape), which keeps the fingerprint's cost flat on a million-row table
SAMPLE_ROWS = 50_000
#: values hashed per torch tensor; a larger tensor is hashed on evenly spaced values
SAMPLE_VALUES = 65_536
GIT_TIMEOUT_S = 2.0


class Fingerprint(TypedDict, total=False):
    """What identifies an input without showing it."""

    type: str
    shape: list[int]
    dtypes: dict[str, str] | str
    hash: str  # SHA-256 (first 128 bits, hex) of the content or of its sample
    sampled: bool  # True: the hash covers evenly spaced rows (tables) or values (tensors)
    parameters: int  # torch: number of parameters


def environment() -> dict[str, Any]:
    """Python and the installed versions of ``KEY_PACKAGES`` (None: not installed)."""
    from importlib import metadata

    packages: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "packages": packages,
    }


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_state(root: Path) -> GitInfo | None:
    """The commit checked out at ``root`` and whether tracked files have uncommitted
    changes; None when git is missing, slow or ``root`` is not in a repository."""
    commit = _git(root, "rev-parse", "HEAD")
    if not commit or not commit.strip():
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": bool(status and status.strip())}


def _digest(*chunks: bytes) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()[:32]


def _rows_to_hash(n: int) -> tuple[slice, bool]:
    if n <= SAMPLE_ROWS:
        return slice(None), False
    return slice(None, None, -(-n // SAMPLE_ROWS)), True


def _frame(value: Any, pd: Any) -> Fingerprint:
    n = len(value)
    rows, sampled = _rows_to_hash(n)
    part = value.iloc[rows]
    h = hashlib.sha256()
    columns = part.items() if hasattr(part, "columns") else [(part.name, part)]
    for name, column in columns:
        h.update(str(name).encode() + b"\x1f")
        data = column.to_numpy() if column.dtype.kind in "biufcmM" else None
        if data is not None and data.dtype.kind in "biufcmM":  # raw bytes: fastest
            h.update(data.tobytes())
        else:  # strings, categories, objects: pandas' own stable row hashes
            h.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    dtypes = (
        {str(c): str(t) for c, t in value.dtypes.items()}
        if hasattr(value, "columns")
        else str(value.dtype)
    )
    out: Fingerprint = {
        "type": type(value).__name__,
        "shape": list(value.shape),
        "dtypes": dtypes,
        "hash": h.hexdigest()[:32],
    }
    if sampled:
        out["sampled"] = True
    return out


def _array(value: Any, np: Any) -> Fingerprint:
    rows, sampled = _rows_to_hash(value.shape[0] if value.ndim else 1)
    part = value[rows] if value.ndim else value
    if part.dtype.kind == "O":
        data = repr(part.tolist()).encode()
    else:
        data = np.ascontiguousarray(part).tobytes()
    out: Fingerprint = {
        "type": "ndarray",
        "shape": list(value.shape),
        "dtypes": str(value.dtype),
        "hash": _digest(str(value.shape).encode(), str(value.dtype).encode(), data),
    }
    if sampled:
        out["sampled"] = True
    return out


def _bits_sum(flat: Any, torch: Any) -> int:
    """The sum of a tensor's values read as integers of their width: exact and independent
    of summation order (deterministic across threads), and moved by a change to any value."""
    ints = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
    width = flat.element_size()
    if width not in ints or flat.is_complex():
        return 0
    return int(flat.contiguous().view(ints[width]).sum(dtype=torch.int64))


def _torch(value: Any, torch: Any) -> Fingerprint | None:
    if isinstance(value, torch.nn.Module):
        h = hashlib.sha256()
        count = 0
        sampled = False
        for name, tensor in value.state_dict().items():
            h.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
            flat = tensor.detach().reshape(-1)
            count += flat.numel()
            if flat.numel() > SAMPLE_VALUES:  # evenly spaced values: flat cost on big models
                h.update(str(_bits_sum(flat, torch)).encode())  # any one change moves it
                flat, sampled = flat[:: -(-flat.numel() // SAMPLE_VALUES)], True
            flat = flat.cpu().contiguous()
            h.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
        out: Fingerprint = {
            "type": type(value).__name__,
            "parameters": count,
            "hash": h.hexdigest()[:32],
        }
        if sampled:
            out["sampled"] = True
        return out
    if isinstance(value, torch.Tensor):
        return _array(value.detach().cpu().numpy(), sys.modules["numpy"])
    return None


def _estimator(value: Any) -> Fingerprint:
    import pickle

    try:
        data = pickle.dumps(value, protocol=4)
    except Exception:  # an unpicklable model: its parameters identify its configuration
        data = repr(sorted(value.get_params(deep=False).items(), key=str)).encode()
    return {"type": type(value).__name__, "hash": _digest(data)}


def fingerprint(value: Any) -> Fingerprint | None:
    """A fingerprint of a table, array, tensor or model (None for anything else: numbers,
    strings, paths, callables, None)."""
    module = type(value).__module__.split(".")[0]
    if module == "pandas":
        pd = sys.modules["pandas"]
        if isinstance(value, (pd.DataFrame, pd.Series)):
            return _frame(value, pd)
        return None
    if module == "numpy":
        np = sys.modules["numpy"]
        return _array(value, np) if isinstance(value, np.ndarray) else None
    if module == "torch":
        return _torch(value, sys.modules["torch"])
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.nn.Module):
        return _torch(value, torch)
    if callable(getattr(value, "get_params", None)) and (
        callable(getattr(value, "fit", None)) or callable(getattr(value, "predict", None))
    ):
        return _estimator(value)
    return None


def fingerprints(arguments: Mapping[str, Any]) -> dict[str, Fingerprint]:
    """Fingerprints of the arguments a check received that are tables or models. An input
    that cannot be fingerprinted is left out; this never raises."""
    out: dict[str, Fingerprint] = {}
    for name, value in arguments.items():
        try:
            found = fingerprint(value)
        except Exception:
            found = None
        if found is not None:
            out[name] = found
    return out
