"""Pre-rendered definitions of the course pipeline: a synth of the reference configurations imports no SDK.

Importing the sagemaker SDK and building the definition cost about a third of the reference app's
synth. The definition is a pure function of ``build_training_pipeline``'s validated arguments, the
SDK release and the code that builds it, so it is cached by content: the key is the SHA-256 of all
three. ``make pipeline`` (tools/generate_pipeline.py) renders the reference configurations with the
SDK into ``_data/training_pipeline_generated.json``; any other key (another configuration, SDK
release, or an edit of the builder) misses, and the definition renders through the SDK as before.
A hit is the SDK's own output for exactly these inputs, so the cache is correct for every
configuration; a stale file costs time, never a different definition.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import pathlib
from collections.abc import Mapping
from typing import Any

from .._data.images_generated import REGISTRY_ACCOUNTS
from ..lambdas._shared import contract
from .placeholders import definition_for_sub

DATA_FILE = pathlib.Path(__file__).resolve().parent.parent / "_data" / "training_pipeline_generated.json"
_HERE = pathlib.Path(__file__).resolve().parent
# The modules whose code shapes the definition, given the arguments (bias_arguments.py's output is an argument).
BUILDER_SOURCES = ("training_pipeline.py", "training_steps.py", "offline_session.py", "placeholders.py",
                   "definition_checks.py")
SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core")
_PLAIN = (str, int, float, bool, type(None))


def cache_key(arguments: Mapping[str, Any]) -> str | None:
    """The content address of the definition of ``arguments``; ``None`` if they cannot be cached.

    Only plain JSON values are keyed (an ``int`` subclass or a numpy number could render differently
    with the same JSON), and only with every builder source and SDK release readable.
    """
    plain = _plain(dict(arguments))
    sdk, builder = sdk_releases(), builder_digest()
    if plain is _NOT_PLAIN or sdk is None or builder is None:
        return None
    inputs = {
        "arguments": plain,
        "builder": builder,
        "sdk": sdk,
        # Values the builder reads from elsewhere: the contract's names and the SDK's look-up region.
        "constants": [list(contract.APPROVAL_STATUSES), contract.BASELINE_HISTOGRAM_PROPERTY,
                      contract.BIAS_BASELINE_PROPERTY, min(REGISTRY_ACCOUNTS)],
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def lookup(arguments: Mapping[str, Any]) -> tuple[str, frozenset[str]] | None:
    """The pre-rendered definition body and placeholders of ``arguments``, or ``None`` (render with the SDK)."""
    key = cache_key(arguments)
    entry = entries().get(key) if key else None
    return None if entry is None else definition_for_sub(entry["definition"])


@functools.cache
def entries() -> dict[str, Any]:
    """Key -> ``{"configurations", "arguments", "definition"}`` from the generated file (none if absent)."""
    try:
        return json.loads(DATA_FILE.read_text())["definitions"]
    except (OSError, ValueError, KeyError):
        return {}


@functools.cache
def sdk_releases() -> dict[str, str] | None:
    """The installed releases of the SDK's distributions (read from their metadata, without importing them)."""
    try:
        return {name: importlib.metadata.version(name) for name in SDK_DISTRIBUTIONS}
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.cache
def builder_digest() -> str | None:
    """SHA-256 over the builder's source files; ``None`` if one cannot be read (e.g. an install without sources)."""
    digest = hashlib.sha256()
    try:
        for name in BUILDER_SOURCES:
            source = (_HERE / name).read_bytes().replace(b"\r\n", b"\n")  # a CRLF checkout is the same code
            digest.update(name.encode() + b"\0" + source + b"\0")
    except OSError:
        return None
    return digest.hexdigest()


_NOT_PLAIN = object()


def _plain(value: Any) -> Any:
    """``value`` as JSON data if it is built of exactly str/int/float/bool/None, tuples, lists and dicts."""
    if type(value) in _PLAIN:
        return value
    if type(value) in (tuple, list):
        items = [_plain(v) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    if type(value) is dict and all(type(k) is str for k in value):
        items = {k: _plain(v) for k, v in value.items()}
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items.values()) else items
    return _NOT_PLAIN
