"""Production rung: what serving a model costs and whether it runs under the libraries it was
made with.

``environment_matches`` reads the library versions a saved model recorded (scikit-learn writes
its version into the pickled state of every estimator; torch archives record their format)
and compares them, or an explicit ``expected`` mapping, with the packages installed where the
check runs. ``inference_budget`` times warm repeated predictions (p50 / p95 / p99 latency,
rows per second) and measures the peak memory of one call, against limits or a baseline
recorded earlier, with a tolerance measured on this kind of noisy shared machine.
"""

from __future__ import annotations

import functools
import json
import math
import pickletools
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from pytest_mlchecks._charts import BarChart, Mark, Series, chart
from pytest_mlchecks._messages import compose, fmt, plural
from pytest_mlchecks._protocol import check, resolve_threshold, result
from pytest_mlchecks._result import CheckResult, MLCheckUsageError
from pytest_mlchecks.inputs.tables import describe_type

__all__ = ["check_environment_matches", "check_inference_budget"]

# --------------------------------------------------------------------------- environment

Level = Literal["exact", "minor", "major"]
LEVELS: tuple[Level, ...] = ("exact", "minor", "major")
#: how one package compares: equal; different below the level compared (a warning); different
#: at the level (an error); recorded but not installed where the check runs (an error)
PackageStatus = Literal["match", "differs", "mismatch", "missing"]
#: import names that differ from the distribution name
DISTRIBUTIONS = {"sklearn": "scikit-learn", "skops": "skops", "PIL": "pillow", "yaml": "pyyaml"}

ENVIRONMENT_WHY = (
    "a pickled model is code and state written by one version of its libraries: another "
    "version may load it with missing or renamed attributes, change its predictions silently "
    "or refuse to load it (scikit-learn guarantees nothing across versions; numpy 1 cannot "
    "read numpy 2 pickles)."
)
ENVIRONMENT_FIX = (
    "serve under the versions the model was trained with (pin them in the serving image from "
    "a lock written at training time), or retrain and re-save the model under the serving "
    "versions; for scikit-learn, skops or ONNX exports travel better than pickles."
)
SCIKIT_LEARN = "scikit-learn"


class PackageCheck(TypedDict):
    """One package compared: what the artefact (or ``expected``) says and what is installed."""

    package: str
    recorded: str
    serving: str | None
    status: PackageStatus
    where: str  # where the recorded version came from


class EnvironmentDetails(TypedDict, total=False):
    """What ``environment_matches`` measured (the record's ``details``)."""

    source: str  # "pickle", "joblib", "torch", "skops", "object"
    read: str  # "scan" (no code run), "load" (unpickled), "archive", "expected only"
    level: str
    packages: list[PackageCheck]
    needs: list[str]  # top-level packages the artefact imports when loaded
    mismatches: int  # errors: mismatch or missing
    differences: int  # warnings: differs below the level compared
    unknown: list[str]  # what the artefact cannot tell
    torch_format_version: str


class _Scan:
    """What a pickle stream says without running it: the scikit-learn versions its
    estimators recorded, the classes and modules it imports, and whether it was read whole."""

    def __init__(self) -> None:
        self.sklearn_versions: dict[str, int] = {}
        self.modules: set[str] = set()
        self.sklearn_classes: list[str] = []
        self.complete = True


_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING"}
)
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_PUT_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_NEUTRAL_OPS = frozenset({"FRAME", "PROTO", "STOP"})


def _note_global(scan: _Scan, module: object, name: object) -> None:
    if isinstance(module, str) and isinstance(name, str):
        scan.modules.add(module)
        if module.startswith("sklearn."):
            scan.sklearn_classes.append(name)


def scan_pickle(data: bytes) -> _Scan:
    """Read a pickle stream's opcodes (``pickletools.genops``: nothing is imported or run).

    Strings are followed through the memo (pickle writes a repeated key or version once and
    refers to it after), so every ``_sklearn_version`` key and the string after it are found
    in nested estimators too. A stream that cannot be read to its end (joblib writes arrays'
    raw bytes inside it) is marked incomplete.
    """
    scan = _Scan()
    memo: dict[int, object] = {}
    pushed: list[object] = [None, None]  # the last two values pushed (None: not a string)
    try:
        for opcode, arg, _ in pickletools.genops(data):
            name = opcode.name
            if name in _NEUTRAL_OPS:
                continue
            if name == "MEMOIZE":
                memo[len(memo)] = pushed[-1]
                continue
            if name in _PUT_OPS:
                memo[int(cast(int, arg))] = pushed[-1]
                continue
            if name == "GLOBAL" and isinstance(arg, str):
                module, _, cls = arg.partition(" ")
                _note_global(scan, module, cls)
            elif name == "STACK_GLOBAL":
                _note_global(scan, pushed[-2], pushed[-1])
            value: object = None
            if name in _STRING_OPS:
                value = arg.decode("latin-1") if isinstance(arg, bytes) else arg
            elif name in _GET_OPS:
                value = memo.get(int(cast(int, arg)))
            if isinstance(value, str) and pushed[-1] == "_sklearn_version":
                scan.sklearn_versions[value] = scan.sklearn_versions.get(value, 0) + 1
            pushed = [pushed[-1], value]
    except Exception:  # raw bytes after the pickle's own (joblib arrays) or a truncated file
        scan.complete = False
    return scan


def _file_kind(path: Path) -> str:
    """``"torch"``, ``"skops"``, ``"zip"``, ``"joblib-compressed"`` or ``"pickle"``."""
    with path.open("rb") as handle:
        head = handle.read(6)
    if head.startswith(b"PK"):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        if "schema.json" in names:
            return "skops"
        return "zip"
    if head[:2] in (b"x\x01", b"x^", b"x\x9c", b"x\xda", b"\x1f\x8b") or head[:3] == b"BZh":
        return "joblib-compressed"
    if head.startswith((b"\xfd7zXZ", b"\x5d\x00\x00")):
        return "joblib-compressed"
    return "pickle"


def _load_warnings(
    path: Path, use_joblib: bool
) -> tuple[dict[str, list[str]], int | None, str | None]:
    """Unpickle ``path`` (this runs code from the file: only ever a file the caller passed)
    and collect scikit-learn's ``InconsistentVersionWarning``s: recorded version -> the
    estimators that recorded it; then the number of scikit-learn estimators in the loaded
    object (None if it could not be counted) and the load error, if loading failed."""
    import pickle

    found: dict[str, list[str]] = {}
    error = None
    estimators = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if use_joblib:
                from pytest_mlchecks._deps import require

                loaded = require("joblib", helper="check_environment_matches").load(path)
            else:
                with path.open("rb") as handle:
                    loaded = pickle.load(handle)
            try:
                estimators = len(scan_pickle(pickle.dumps(loaded)).sklearn_classes)
            except Exception:
                estimators = None
        except MLCheckUsageError:
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    for item in caught:
        original = getattr(item.message, "original_sklearn_version", None)
        if isinstance(original, str):
            estimator = str(getattr(item.message, "estimator_name", "?"))
            found.setdefault(original, []).append(estimator)
    return found, estimators, error


def _json_versions(value: object, out: dict[str, int]) -> None:
    """Every ``_sklearn_version`` in a skops schema (a string, or a node whose content is)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "_sklearn_version":
                text = item.get("content") if isinstance(item, Mapping) else item
                if isinstance(text, str):
                    out[text] = out.get(text, 0) + 1
            else:
                _json_versions(item, out)
    elif isinstance(value, list):
        for item in value:
            _json_versions(item, out)


class _Recorded:
    """What an artefact recorded: versions by package (version -> where), needs, notes."""

    def __init__(self, source: str, read: str) -> None:
        self.source = source
        self.read = read
        self.versions: dict[str, dict[str, str]] = {}
        self.needs: set[str] = set()
        self.unknown: list[str] = []
        self.torch_format: str | None = None

    def add_sklearn(self, counts: Mapping[str, int | list[str]], total: int) -> None:
        for version, seen in counts.items():
            if isinstance(seen, list):
                where = f"estimators {', '.join(sorted(set(seen)))}"
            else:
                where = f"{plural(seen, 'estimator')}" + (f" of {total}" if total else "")
            self.versions.setdefault(SCIKIT_LEARN, {})[version] = where

    def add_scan(self, scan: _Scan) -> None:
        self.needs |= {m.split(".")[0] for m in scan.modules}
        if any(m == "numpy._core" or m.startswith("numpy._core.") for m in scan.modules):
            self.versions.setdefault("numpy", {})["2"] = "arrays pickled from numpy._core"
        self.add_sklearn(scan.sklearn_versions, len(scan.sklearn_classes))


def _read_pickle(path: Path, source: str, load: bool) -> _Recorded:
    data = path.read_bytes()
    scan = scan_pickle(data)
    if scan.complete or not load:
        recorded = _Recorded(source, "scan")
        recorded.add_scan(scan)
        if not scan.complete:
            recorded.read = "partial scan"
            recorded.unknown.append(
                "the file holds data the pickle scanner cannot read past (joblib arrays) and "
                "load=False forbids unpickling it: versions after that point are unknown"
            )
        return recorded
    recorded = _Recorded(source, "load")
    recorded.add_scan(scan)  # modules named before the arrays
    _load_into(recorded, path, source == "joblib")
    return recorded


def _load_into(recorded: _Recorded, path: Path, use_joblib: bool) -> None:
    """Versions read by loading: the estimators scikit-learn warned about recorded another
    version; the others loaded silently, so they recorded the serving one."""
    found, estimators, error = _load_warnings(path, use_joblib)
    if error is not None:
        recorded.unknown.append(f"loading the file failed under the serving versions ({error})")
        return
    recorded.versions.pop(SCIKIT_LEARN, None)
    recorded.add_sklearn(found, 0)
    warned = sum(len(names) for names in found.values())
    serving = _installed(SCIKIT_LEARN)
    if estimators is not None and serving is not None and estimators > warned:
        quiet = estimators - warned
        where = f"{plural(quiet, 'estimator')} loaded without a version warning"
        recorded.versions.setdefault(SCIKIT_LEARN, {}).setdefault(serving, where)


def _read_torch(path: Path) -> _Recorded:
    recorded = _Recorded("torch", "archive")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        data_name = next(n for n in names if n.endswith("data.pkl"))
        prefix = data_name[: -len("data.pkl")]
        if f"{prefix}version" in names:
            recorded.torch_format = archive.read(f"{prefix}version").decode().strip()
        scan = scan_pickle(archive.read(data_name))
    recorded.add_scan(scan)
    recorded.unknown.append(
        "torch.save archives record their serialisation format, not the torch version: pass "
        "expected={'torch': ...} (written at training time) to compare it"
    )
    return recorded


def _read_skops(path: Path) -> _Recorded:
    recorded = _Recorded("skops", "archive")
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    counts: dict[str, int] = {}
    _json_versions(schema, counts)
    recorded.add_sklearn(counts, 0)
    skops_version = schema.get("_skops_version") if isinstance(schema, Mapping) else None
    if isinstance(skops_version, str):
        recorded.versions["skops"] = {skops_version: "schema.json"}
    return recorded


def _read_artefact(path: Path, load: bool) -> _Recorded:
    if not path.is_file():
        raise MLCheckUsageError(
            f"model_or_path {str(path)!r} is not a file: expected a fitted model or the path "
            "of a pickle, joblib, skops or torch file."
        )
    kind = _file_kind(path)
    if kind == "torch":
        return _read_torch(path)
    if kind == "skops":
        return _read_skops(path)
    if kind == "zip":
        raise MLCheckUsageError(
            f"model_or_path {str(path)!r} is a zip archive that is neither a torch.save nor a "
            "skops file: pass the model file itself."
        )
    if kind == "joblib-compressed":
        recorded = _Recorded("joblib", "load")
        if not load:
            recorded.read = "not read"
            recorded.unknown.append(
                "a compressed joblib file can only be read by loading it, and load=False"
            )
            return recorded
        _load_into(recorded, path, True)
        return recorded
    source = "joblib" if path.suffix in (".joblib", ".jbl") else "pickle"
    return _read_pickle(path, source, load)


def _installed(package: str) -> str | None:
    """The installed version of a distribution (``importlib.metadata``; nothing imported)."""
    from importlib import metadata

    name = DISTRIBUTIONS.get(package, package)
    for candidate in dict.fromkeys((name, name.replace("_", "-"), name.replace("-", "_"))):
        try:
            return metadata.version(candidate)
        except metadata.PackageNotFoundError:
            continue
    return None


def _release(version: str) -> tuple[int, ...] | None:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release
    except InvalidVersion:
        return None


def compare_versions(recorded: str, serving: str, level: Level) -> PackageStatus:
    """``match``, ``differs`` (only below ``level``) or ``mismatch`` (at ``level``).

    A recorded ``"2"`` (numpy's major version, read from the module names of a pickle) is a
    major version only. Versions that do not parse are compared as text."""
    if recorded == serving:
        return "match"
    a, b = _release(recorded), _release(serving)
    if a is None or b is None:
        return "mismatch"
    width = {"exact": max(len(a), len(b)), "minor": 2, "major": 1}[level]
    width = min(width, len(a)) if len(a) == 1 else width
    pad = max(len(a), len(b), width)
    a_full, b_full = a + (0,) * (pad - len(a)), b + (0,) * (pad - len(b))
    if a_full[:width] != b_full[:width]:
        return "mismatch"
    return "differs" if a_full != b_full and len(a) > 1 else "match"


def _parse_lock(text: str, where: str) -> dict[str, str]:
    """A JSON mapping (``{"packages": {...}}`` or flat) or requirement lines ``name==version``."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise MLCheckUsageError(f"expected file {where} is not valid JSON: {exc}.") from None
        packages = data.get("packages", data) if isinstance(data, dict) else None
        if not isinstance(packages, dict):
            raise MLCheckUsageError(f"expected file {where}: expected a JSON object.")
        return _as_versions(packages, f"expected file {where}")
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" not in line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        out[name.split("[", 1)[0].strip()] = version.strip()
    if not out:
        raise MLCheckUsageError(
            f"expected file {where} lists no 'name==version' line: expected a lock or "
            "requirements file with pinned versions, or a JSON object of package: version."
        )
    return out


def _as_versions(mapping: Mapping[Any, Any], arg: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, version in mapping.items():
        if not isinstance(name, str) or not isinstance(version, str) or not version.strip():
            raise MLCheckUsageError(
                f"{arg} maps {name!r} to {version!r}: expected package names mapped to version "
                "strings, e.g. {'scikit-learn': '1.5.2'}."
            )
        out[name] = version.strip()
    return out


def _expected_versions(expected: object) -> dict[str, str]:
    if isinstance(expected, Mapping):
        return _as_versions(expected, "expected")
    if isinstance(expected, (str, Path)):
        path = Path(expected).expanduser()
        if not path.is_file():
            raise MLCheckUsageError(
                f"expected {str(expected)!r} is not a file: expected a mapping of package to "
                "version or the path of a JSON / requirements lock."
            )
        return _parse_lock(path.read_text(encoding="utf-8"), repr(str(path)))
    raise MLCheckUsageError(
        f"expected is {describe_type(expected)}: expected a mapping of package to version or "
        "the path of a JSON / requirements lock."
    )


def _needs(recorded: _Recorded) -> list[str]:
    """Top-level packages the artefact imports when loaded (standard library left out)."""
    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__builtin__", "copy_reg"}
    return sorted(n for n in recorded.needs if n and n not in stdlib and n != "__main__")


def _missing_needs(needs: list[str], rows: list[PackageCheck]) -> list[PackageCheck]:
    """A row for each needed package that is not installed (found without importing it)."""
    import importlib.util

    named = {r["package"] for r in rows}
    missing: list[PackageCheck] = []
    for top in needs:
        dist = DISTRIBUTIONS.get(top, top)
        if dist not in named and top not in named and importlib.util.find_spec(top) is None:
            missing.append(
                {
                    "package": dist,
                    "recorded": "needed",
                    "serving": None,
                    "status": "missing",
                    "where": "modules the artefact imports",
                }
            )
    return missing


def _measure_environment(
    recorded: _Recorded, expected: dict[str, str], level: Level
) -> EnvironmentDetails:
    rows: list[PackageCheck] = []
    for package, versions in sorted(recorded.versions.items()):
        serving = _installed(package)
        for version, where in sorted(versions.items()):
            status: PackageStatus = (
                "missing" if serving is None else compare_versions(version, serving, level)
            )
            if package == "numpy" and version == "2" and status == "differs":
                status = "match"
            rows.append(
                {
                    "package": package,
                    "recorded": version,
                    "serving": serving,
                    "status": status,
                    "where": where,
                }
            )
    for package, version in sorted(expected.items()):
        serving = _installed(package)
        rows.append(
            {
                "package": package,
                "recorded": version,
                "serving": serving,
                "status": "missing"
                if serving is None
                else compare_versions(version, serving, level),
                "where": "expected",
            }
        )
    needs = _needs(recorded)
    rows += _missing_needs(needs, rows)
    details: EnvironmentDetails = {
        "source": recorded.source,
        "read": recorded.read,
        "level": level,
        "packages": rows,
        "needs": needs,
        "mismatches": sum(r["status"] in ("mismatch", "missing") for r in rows),
        "differences": sum(r["status"] == "differs" for r in rows),
        "unknown": list(recorded.unknown),
    }
    if recorded.torch_format is not None:
        details["torch_format_version"] = recorded.torch_format
    return details


def _describe_package(row: PackageCheck) -> str:
    if row["status"] == "missing":
        return f"{row['package']} {row['recorded']} ({row['where']}) is not installed"
    return (
        f"{row['package']}: recorded {row['recorded']} ({row['where']}), serving {row['serving']}"
    )


def _explain_environment(details: EnvironmentDetails) -> str:
    rows = details["packages"]
    bad = [r for r in rows if r["status"] in ("mismatch", "missing")]
    soft = [r for r in rows if r["status"] == "differs"]
    notes = "\n".join(f"  - cannot tell: {text}" for text in details["unknown"])
    if not bad and not soft:
        compared = ", ".join(f"{r['package']} {r['recorded']}" for r in rows) or "no package"
        return f"environment_matches: {compared} match the serving environment " + (
            f"(level {details['level']})." + (f"\n{notes}" if notes else "")
        )
    lines = [f"  - {_describe_package(r)}" for r in bad + soft]
    count = len(bad) or len(soft)
    verb = "differs" if count == 1 else "differ"
    where = "at" if bad else "below"
    what = f"{plural(count, 'package')} {verb} {where} the {details['level']} level"
    source = "model" if details["source"] == "object" else f"{details['source']} artefact"
    body = "\n".join(lines) + (f"\n{notes}" if notes else "")
    return compose(
        f"environment_matches: {what} between the {source} and the serving environment.",
        body=body,
        why=ENVIRONMENT_WHY,
        fix=ENVIRONMENT_FIX,
    )


def _require_level(level: object) -> Level:
    for known in LEVELS:
        if level == known and isinstance(level, str):
            return known
    raise MLCheckUsageError(f"level={level!r}: expected one of {', '.join(LEVELS)}.")


def _is_model(obj: object) -> bool:
    """A model, not data: tables, arrays and tensors (which have a shape) are not models."""
    if hasattr(obj, "shape") or isinstance(obj, (list, tuple, dict, str, bytes)):
        return False
    methods = ("predict", "predict_proba", "transform", "forward")
    return callable(obj) or any(callable(getattr(obj, m, None)) for m in methods)


def _recorded_of(model_or_path: object, load: bool, has_expected: bool) -> _Recorded:
    if isinstance(model_or_path, (str, Path)):
        return _read_artefact(Path(model_or_path).expanduser(), load)
    if model_or_path is None:
        raise MLCheckUsageError(
            "model_or_path is None: expected a fitted model or the path of its saved file."
        )
    if not _is_model(model_or_path):
        raise MLCheckUsageError(
            f"model_or_path is {describe_type(model_or_path)}: expected a fitted model (with "
            "predict, transform or forward, or callable) or the path of its saved file."
        )
    if not has_expected:
        raise MLCheckUsageError(
            f"model_or_path is a live {describe_type(model_or_path)}: a model in memory does not "
            "record the versions it was trained under (scikit-learn drops them on load). Pass "
            "the path of the saved artefact, or expected= (a mapping of package to version, or "
            "the path of a lock written at training time)."
        )
    recorded = _Recorded("object", "expected only")
    recorded.unknown.append("a live object records no training-time versions: only expected=")
    return recorded


@check("environment_matches")
def check_environment_matches(
    model_or_path: Any,
    *,
    expected: Mapping[str, str] | str | Path | None = None,
    level: Level = "minor",
    load: bool = True,
) -> CheckResult:
    """Detect a saved model made under other library versions than the ones serving it
    ("dependency version mismatch").

    ``model_or_path``: the path of a pickle, joblib, skops or ``torch.save`` file, or a live
    model (then ``expected`` is required: a model in memory records no training versions).
    What is read from a file: the ``_sklearn_version`` every scikit-learn estimator writes
    into its pickled state (nested ones too: Pipeline steps), found by scanning the pickle's
    opcodes with ``pickletools`` (nothing imported, no code run); numpy 2 (arrays pickled
    from ``numpy._core``); the packages the file imports when loaded (each must be
    installed); a torch archive's format version (torch does not record its own version:
    pass ``expected``). A joblib file whose raw arrays stop the scan, or a compressed one, is
    **loaded** (``load=True``, the default): unpickling runs code from the file, so pass only
    files you trust (your own artefacts); scikit-learn's ``InconsistentVersionWarning``s are
    captured and read. ``load=False`` never unpickles and reports what stays unknown.
    ``expected``: package -> version (recorded at training time), or the path of a JSON
    object or a requirements / ``pip freeze`` lock, compared with ``importlib.metadata``.

    Figure: the number of packages that differ at ``level`` (default ``"minor"``:
    major.minor must match; ``"exact"``: every digit; ``"major"``) or are not installed: an
    error. A difference only below the level (1.5.1 vs 1.5.2 at ``"minor"``) is a warning:
    scikit-learn warns on any difference and guarantees nothing across versions.
    """
    checked_level = _require_level(level)
    wanted = _expected_versions(expected) if expected is not None else {}
    recorded = _recorded_of(model_or_path, bool(load), expected is not None)
    details = _measure_environment(recorded, wanted, checked_level)
    if not details["packages"]:
        raise MLCheckUsageError(
            f"model_or_path: the {recorded.source} artefact records no library version this "
            "check can read"
            + (f" ({'; '.join(recorded.unknown)})" if recorded.unknown else "")
            + ": pass expected= (package -> version recorded at training time)."
        )
    errors, soft = details["mismatches"], details["differences"]
    severity = "warning" if soft and not errors else "error"
    message = _explain_environment(details)
    return result(
        not errors and not soft, severity, float(errors + soft), 0.0, message, dict(details)
    )


# --------------------------------------------------------------------------- inference budget

INFERENCE_WHY = (
    "a model that meets its metrics but not its latency or memory budget times out, queues "
    "requests or is killed by the serving container's memory limit."
)
INFERENCE_FIX = (
    "profile one call (py-spy, torch.profiler); predict in batches; drop unused pipeline "
    "steps or features; a smaller model (fewer trees, lower depth, distillation, "
    "quantisation); for torch, torch.inference_mode and fewer threads per worker; check "
    "that nothing is loaded or fitted inside predict."
)
#: warm-up calls discarded (first-call costs: caches, lazy imports, allocator growth)
WARMUP_CALLS = 3
#: timed calls: at least MIN_CALLS, then until TIME_BUDGET_S has passed or MAX_CALLS ran
MIN_CALLS = 20
MAX_CALLS = 500
TIME_BUDGET_S = 0.5
#: a latency over its limit is timed again up to this many times; the fastest attempt counts
#: (a loaded machine slows every call for seconds at a time; a slower model stays slower)
CONFIRM_ATTEMPTS = 2
#: a baseline's peak memory may grow by this many MiB beyond its relative tolerance
#: (tracemalloc's peak moves by allocator and cache effects of a few hundred KiB)
MEMORY_SLACK_MB = 1.0


class InferenceDetails(TypedDict, total=False):
    """What ``inference_budget`` measured (the record's ``details``)."""

    rows: int
    method: str  # predict / predict_proba / ... / forward (torch) / call
    calls: int
    warmup_calls: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rows_per_s: float
    peak_mb: float | None
    memory_method: str  # tracemalloc, or rss (torch on Linux), or "not measured"
    attempts: int  # timing passes (1, or more when a limit was exceeded and re-timed)
    p95_limit_ms: float | None
    p50_limit_ms: float | None  # from the baseline: its p50 x (1 + tolerance)
    peak_limit_mb: float | None
    baseline_p50_ms: float
    baseline_p95_ms: float
    baseline_peak_mb: float | None
    tolerance: float
    findings: list[str]


def _torch_module(model: Any) -> bool:
    module = type(model).__module__
    if not (module.startswith("torch") or "torch" in sys.modules):
        return False
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _predictor(model: Any, X: Any, method: str | None) -> tuple[Callable[[], Any], str, int]:
    """A zero-argument call of the model on ``X``, the method's name and the rows per call."""
    from pytest_mlchecks.inputs.tables import n_rows, require_array_like

    if _torch_module(model):
        import torch

        from pytest_mlchecks.inputs.torch import batch_rows, forward, validate_inputs

        validate_inputs(X, "X")
        rows = batch_rows(X) or 1

        def run_torch() -> Any:
            with torch.no_grad():
                return forward(model, X)

        return run_torch, "forward (eval mode, no_grad)", rows
    X = require_array_like(X, "X", allow_sparse=True)
    rows = n_rows(X, "X")
    if rows == 0:
        raise MLCheckUsageError("X has no rows: expected at least one row to time.")
    names = (method,) if method else ("predict", "predict_proba", "decision_function", "transform")
    for name in names:
        bound = getattr(model, name, None)
        if callable(bound):
            return functools.partial(bound, X), name, rows
    if method is None and callable(model):
        return functools.partial(model, X), "call", rows
    wanted = f"a {method} method" if method else "predict, predict_proba or a callable model"
    raise MLCheckUsageError(f"model ({describe_type(model)}) has no {wanted}.")


def _time_calls(call: Callable[[], Any], budget_s: float) -> list[float]:
    """Milliseconds per call: WARMUP_CALLS discarded, then MIN_CALLS to MAX_CALLS timed
    calls until ``budget_s`` has passed."""
    for _ in range(WARMUP_CALLS):
        call()
    times: list[float] = []
    clock = time.perf_counter
    start = clock()
    while len(times) < MAX_CALLS and (len(times) < MIN_CALLS or clock() - start < budget_s):
        begin = clock()
        call()
        times.append((clock() - begin) * 1e3)
    return times


def _rss_peak_mb(call: Callable[[], Any]) -> float | None:
    """Growth of the process's resident high-water mark over one call (Linux: the mark is
    reset through /proc/self/clear_refs), or None where that cannot be read or reset."""

    def status(key: str) -> float | None:
        try:
            with open("/proc/self/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith(key + ":"):
                        return float(line.split()[1]) / 1024.0
        except OSError:
            return None
        return None

    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return None
    before = status("VmRSS")
    call()
    after = status("VmHWM")
    if before is None or after is None:
        return None
    return max(0.0, after - before)


def _peak_mb(call: Callable[[], Any], torch_model: bool) -> tuple[float | None, str]:
    """Peak memory one call allocates, in MiB, and how it was measured. Python and numpy
    allocations are traced (tracemalloc); torch's CPU allocator is invisible to tracemalloc,
    so for a torch module the resident high-water mark is read instead (Linux)."""
    if torch_model:
        peak = _rss_peak_mb(call)
        return (peak, "rss") if peak is not None else (None, "not measured")
    import tracemalloc

    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    return max(0.0, (peak - before) / 2**20), "tracemalloc"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _baseline_details(baseline: object) -> dict[str, Any]:
    """A baseline's details: a ``CheckResult`` of this check, its details (or the result as
    a dict), or the path of a JSON file holding either."""
    data: object = baseline
    if isinstance(baseline, CheckResult):
        data = baseline.details
    elif isinstance(baseline, (str, Path)):
        path = Path(baseline).expanduser()
        if not path.is_file():
            raise MLCheckUsageError(
                f"baseline {str(baseline)!r} is not a file: expected an earlier result of "
                "check_inference_budget, its details, or the path of a JSON file of them."
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise MLCheckUsageError(f"baseline {str(path)!r} is not valid JSON: {exc}.") from None
    if isinstance(data, Mapping) and isinstance(data.get("details"), Mapping):
        data = data["details"]
    if not isinstance(data, Mapping) or not isinstance(data.get("p95_ms"), (int, float)):
        raise MLCheckUsageError(
            f"baseline is {describe_type(baseline)} without a p95_ms figure: expected an "
            "earlier result of check_inference_budget, its details, or a JSON file of them."
        )
    return dict(data)


class _Limits(TypedDict):
    p95_ms: float | None
    p50_ms: float | None
    peak_mb: float | None


def _limits(
    p95_ms: float | None,
    max_peak_mb: float | None,
    base: dict[str, Any] | None,
    tolerance: float,
) -> _Limits:
    """The limits in force: p95 and peak memory from the arguments / ini options; with a
    baseline, its p50 times (1 + tolerance) (the median: a loaded machine's preemptions
    make p95 swing 3x between identical runs, the median 1.2-2x) and its peak memory times
    (1 + tolerance) plus MEMORY_SLACK_MB."""
    p95_limit = resolve_threshold("inference_p95_ms", p95_ms)
    peak_limit = resolve_threshold("inference_max_peak_mb", max_peak_mb)
    limits: _Limits = {
        "p95_ms": None if math.isinf(p95_limit) else p95_limit,
        "p50_ms": None,
        "peak_mb": None if math.isinf(peak_limit) else peak_limit,
    }
    if base is None and limits["p95_ms"] is None and limits["peak_mb"] is None:
        raise MLCheckUsageError(
            "inference_budget has nothing to hold the model to: pass p95_ms= (milliseconds), "
            "max_peak_mb= (MiB) or baseline= (an earlier result), or set ini "
            "ml_inference_p95_ms / ml_inference_max_peak_mb."
        )
    if base is not None:
        limits["p50_ms"] = float(base.get("p50_ms", base["p95_ms"])) * (1.0 + tolerance)
        base_peak = base.get("peak_mb")
        if isinstance(base_peak, (int, float)):
            from_peak = float(base_peak) * (1.0 + tolerance) + MEMORY_SLACK_MB
            current = limits["peak_mb"]
            limits["peak_mb"] = from_peak if current is None else min(current, from_peak)
    return limits


def _measure_inference(
    call: Callable[[], Any], method: str, rows: int, torch_model: bool, budget_s: float
) -> InferenceDetails:
    times = _time_calls(call, budget_s)
    p50 = _percentile(times, 50)
    peak, how = _peak_mb(call, torch_model)
    return {
        "rows": rows,
        "method": method,
        "calls": len(times),
        "warmup_calls": WARMUP_CALLS,
        "attempts": 1,
        "p50_ms": p50,
        "p95_ms": _percentile(times, 95),
        "p99_ms": _percentile(times, 99),
        "rows_per_s": rows / (p50 / 1e3) if p50 > 0 else math.inf,
        "peak_mb": peak,
        "memory_method": how,
    }


def _findings(details: InferenceDetails, limits: _Limits) -> list[str]:
    found = []
    if limits["p95_ms"] is not None and details["p95_ms"] > limits["p95_ms"]:
        found.append("latency")
    if limits["p50_ms"] is not None and details["p50_ms"] > limits["p50_ms"]:
        found.append("slower_than_baseline")
    peak = details.get("peak_mb")
    if limits["peak_mb"] is not None and peak is not None and peak > limits["peak_mb"]:
        found.append("memory")
    return found


def _explain_inference(details: InferenceDetails) -> str:
    figures = (
        f"p50 {fmt(details['p50_ms'], 3)} ms, p95 {fmt(details['p95_ms'], 3)} ms, p99 "
        f"{fmt(details['p99_ms'], 3)} ms over {details['calls']:,} warm calls of "
        f"{details['method']} on {details['rows']:,} rows ({fmt(details['rows_per_s'], 3)} "
        "rows/s)"
    )
    peak = details.get("peak_mb")
    memory = (
        f"peak {fmt(peak, 3)} MiB ({details['memory_method']})"
        if peak is not None
        else "peak memory not measured"
    )
    found = details.get("findings", [])
    if not found:
        return f"inference_budget: {figures}; {memory}: within budget."
    parts = []
    if "latency" in found:
        parts.append(
            f"p95 latency {fmt(details['p95_ms'], 3)} ms over the limit "
            f"{fmt(details.get('p95_limit_ms'), 3)} ms"
        )
    if "slower_than_baseline" in found:
        parts.append(
            f"median latency {fmt(details['p50_ms'], 3)} ms over the baseline's "
            f"{fmt(details.get('baseline_p50_ms'), 3)} ms + {fmt(details['tolerance'] * 100, 3)}%"
            f" ({fmt(details.get('p50_limit_ms'), 3)} ms)"
        )
    if "memory" in found:
        parts.append(
            f"peak memory {fmt(peak, 3)} MiB over the limit "
            f"{fmt(details.get('peak_limit_mb'), 3)} MiB"
        )
    base = ""
    if "baseline_p95_ms" in details:
        base = (
            f" Baseline: p50 {fmt(details['baseline_p50_ms'], 3)} ms, p95 "
            f"{fmt(details['baseline_p95_ms'], 3)} ms, peak "
            f"{fmt(details.get('baseline_peak_mb'), 3)} MiB."
        )
    again = (
        f" Timed {details['attempts']} times, the fastest counted."
        if details["attempts"] > 1
        else ""
    )
    return compose(
        f"inference_budget: {'; '.join(parts)}.",
        body=f"{figures}; {memory}.{base}{again}",
        why=INFERENCE_WHY,
        fix=INFERENCE_FIX,
    )


def _timed(
    model: Any, X: Any, method: str | None, budget_s: float, limits: _Limits | None = None
) -> InferenceDetails:
    """Time the model, in eval mode and without gradients for a torch module (its mode is
    restored afterwards); a latency over ``limits`` is re-timed up to CONFIRM_ATTEMPTS
    times, keeping the fastest attempt."""
    call, name, rows = _predictor(model, X, method)
    torch_model = _torch_module(model)
    training = bool(getattr(model, "training", False)) if torch_model else False
    if torch_model:
        model.eval()
    try:
        details = _measure_inference(call, name, rows, torch_model, budget_s)
        if limits is None:
            return details
        attempts = 1
        while attempts <= CONFIRM_ATTEMPTS and {"latency", "slower_than_baseline"} & set(
            _findings(details, limits)
        ):
            again = _measure_inference(call, name, rows, torch_model, budget_s)
            attempts += 1
            if again["p50_ms"] < details["p50_ms"]:
                details = again
        details["attempts"] = attempts
        return details
    finally:
        if torch_model:
            model.train(training)


def _require_budget(time_budget_s: object, method: object) -> float:
    if (
        isinstance(time_budget_s, bool)
        or not isinstance(time_budget_s, (int, float))
        or not 0 < time_budget_s < math.inf
    ):
        raise MLCheckUsageError(
            f"time_budget_s={time_budget_s!r}: expected a positive number of seconds."
        )
    if method is not None and not isinstance(method, str):
        raise MLCheckUsageError(f"method={method!r}: expected a method name such as 'predict'.")
    return float(time_budget_s)


@check("inference_budget")
def check_inference_budget(
    model: Any,
    X: Any,
    *,
    p95_ms: float | None = None,
    max_peak_mb: float | None = None,
    baseline: Any = None,
    tolerance: float | None = None,
    method: str | None = None,
    time_budget_s: float = TIME_BUDGET_S,
) -> CheckResult:
    """Detect a model too slow or too memory-hungry to serve: latency percentiles over warm
    repeated calls and the peak memory of one call, against limits or a recorded baseline.

    Each call predicts all of ``X`` (a scikit-learn model's ``predict``, else
    ``predict_proba`` / ``decision_function`` / ``transform``, or ``method=``; a torch module
    is called in eval mode under ``no_grad`` and its mode restored). 3 warm-up calls are
    discarded, then at least 20 and at most 500 calls are timed until ``time_budget_s`` has
    passed. Reported: p50 / p95 / p99 in ms and rows per second (rows / p50). Peak memory of
    one more call: tracemalloc for Python and numpy allocations (what scikit-learn models
    allocate); for a torch module, whose CPU tensors tracemalloc does not see, the growth of
    the process's resident high-water mark (Linux).

    Figure: p95 latency, held to ``p95_ms`` (ini ``ml_inference_p95_ms``), and peak MiB,
    held to ``max_peak_mb`` (ini ``ml_inference_max_peak_mb``). With ``baseline`` (an earlier
    result, its details or a JSON file of them, same rows per call) the median latency must
    stay within the baseline's times ``1 + tolerance`` (ini ``ml_inference_tolerance``), and
    the peak memory too (plus 1 MiB). A latency over its limit is re-timed twice and the
    fastest attempt counts, so a burst of load on a shared machine does not fail the test.
    With no limit and no baseline the check cannot judge: a usage error names them.
    """
    budget = _require_budget(time_budget_s, method)
    base = _baseline_details(baseline) if baseline is not None else None
    limit_tolerance = resolve_threshold("inference_tolerance", tolerance)
    limits = _limits(p95_ms, max_peak_mb, base, limit_tolerance)
    details = _timed(model, X, method, budget, limits)
    if base is not None:
        base_rows = base.get("rows")
        if isinstance(base_rows, int) and base_rows != details["rows"]:
            raise MLCheckUsageError(
                f"baseline was measured on {base_rows:,} rows per call and X has "
                f"{details['rows']:,}: time the same batch size to compare."
            )
        details["baseline_p50_ms"] = float(base.get("p50_ms", base["p95_ms"]))
        details["baseline_p95_ms"] = float(base["p95_ms"])
        peak_base = base.get("peak_mb")
        details["baseline_peak_mb"] = float(peak_base) if peak_base is not None else None
        details["tolerance"] = limit_tolerance
    details["p95_limit_ms"] = limits["p95_ms"]
    details["p50_limit_ms"] = limits["p50_ms"]
    details["peak_limit_mb"] = limits["peak_mb"]
    if limits["peak_mb"] is not None and details.get("peak_mb") is None:
        raise MLCheckUsageError(
            "max_peak_mb cannot be judged: peak memory could not be measured for this model "
            "here (torch on a system without /proc/self/clear_refs)."
        )
    found = _findings(details, limits)
    details["findings"] = found
    message = _explain_inference(details)
    value, limit = details["p95_ms"], limits["p95_ms"]
    if limit is None and limits["p50_ms"] is not None:
        value, limit = details["p50_ms"], limits["p50_ms"]
    return result(not found, "error", value, limit, message, dict(details))


# --------------------------------------------------------------- the HTML report's charts


@chart("inference_budget")
def _chart_inference(details: dict[str, Any]) -> list[BarChart]:
    """Latency percentiles against the limit in force."""
    if "p50_ms" not in details:
        return []
    labels = ["p50", "p95", "p99"]
    values = [details["p50_ms"], details["p95_ms"], details["p99_ms"]]
    limit = details.get("p95_limit_ms")
    marks = [Mark("p95 limit", limit)] if isinstance(limit, (int, float)) else []
    series = [Series("milliseconds", values, "cur")]
    return [BarChart("Inference latency (ms)", labels, series, marks=marks)]
