"""The baseline histogram JSON (format version 1), validated on load.

Produced by the training pipeline's baseline script::

    {
      "version": 1,
      "features": {
        "<numeric>": {"type": "numeric",
                      "bin_edges": [null, e1, ..., e_{k-1}, null],
                      "proportions": [p1, ..., pk]},
        "<categorical>": {"type": "categorical",
                          "categories": {"a": 0.4, "b": 0.6}}
      },
      "label": "<label column>" | null,
      "record_count": N
    }

``bin_edges`` has ``k + 1`` entries for ``k`` bins; the first and last are
``null`` (-inf / +inf) and the interior edges are finite and strictly
increasing; bin ``i`` covers ``[edge_i, edge_{i+1})`` (see ``drift_stats``).
Proportions are finite, >= 0 and sum to 1 within ``SUM_TOLERANCE`` (they are
used as written, not renormalized). A categorical baseline may carry an
``"__other__"`` category for values it pooled itself.

``load_baseline`` raises ``BaselineError`` (a ``ValueError``) whose message
names the feature and field at fault.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

SUPPORTED_VERSION = 1
SUM_TOLERANCE = 1e-3


class BaselineError(ValueError):
    """The baseline JSON is missing, unreadable or not of the documented format."""


@dataclass(frozen=True)
class NumericBaseline:
    bin_edges: tuple[float | None, ...]
    proportions: tuple[float, ...]
    type: str = "numeric"


@dataclass(frozen=True)
class CategoricalBaseline:
    categories: dict[str, float]
    type: str = "categorical"


@dataclass(frozen=True)
class Baseline:
    features: dict[str, NumericBaseline | CategoricalBaseline]
    label: str | None
    record_count: int
    version: int = SUPPORTED_VERSION


def load_baseline(source: str | bytes | dict[str, Any]) -> Baseline:
    """Parse (JSON text/bytes) and validate a baseline document."""
    if isinstance(source, (str, bytes, bytearray)):
        try:
            doc = json.loads(source)
        except ValueError as exc:
            raise BaselineError(f"baseline is not valid JSON: {exc}") from None
    else:
        doc = source
    if not isinstance(doc, dict):
        raise BaselineError(f"baseline must be a JSON object, got {type(doc).__name__}")
    missing = [k for k in ("version", "features", "label", "record_count") if k not in doc]
    if missing:
        raise BaselineError(f"baseline is missing required key(s) {missing}")
    if doc["version"] != SUPPORTED_VERSION or isinstance(doc["version"], bool):
        raise BaselineError(f"baseline 'version': unsupported value {doc['version']!r}; supported: {SUPPORTED_VERSION}")
    label = doc["label"]
    if label is not None and not isinstance(label, str):
        raise BaselineError(f"baseline 'label': must be a column name (string) or null, got {label!r}")
    record_count = doc["record_count"]
    if not isinstance(record_count, int) or isinstance(record_count, bool) or record_count < 0:
        raise BaselineError(f"baseline 'record_count': must be an integer >= 0, got {record_count!r}")
    features = doc["features"]
    if not isinstance(features, dict) or not features:
        raise BaselineError("baseline 'features': must be a non-empty object of feature name -> histogram")
    parsed: dict[str, NumericBaseline | CategoricalBaseline] = {}
    for name, spec in features.items():
        where = f"baseline feature {name!r}"
        if not isinstance(spec, dict):
            raise BaselineError(f"{where}: must be an object, got {type(spec).__name__}")
        kind = spec.get("type")
        if kind == "numeric":
            parsed[name] = _numeric(where, spec)
        elif kind == "categorical":
            parsed[name] = _categorical(where, spec)
        else:
            raise BaselineError(f"{where}: 'type' must be 'numeric' or 'categorical', got {kind!r}")
    return Baseline(features=parsed, label=label, record_count=record_count)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_proportions(where: str, field: str, values: list[Any], keys: list[Any]) -> list[float]:
    for key, p in zip(keys, values):
        if not _is_number(p) or p < 0:
            raise BaselineError(f"{where}: '{field}'[{key!r}] must be a finite number >= 0, got {p!r}")
    total = math.fsum(values)
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise BaselineError(f"{where}: '{field}' must sum to 1 (tolerance {SUM_TOLERANCE}), sums to {total!r}")
    return [float(p) for p in values]


def _numeric(where: str, spec: dict[str, Any]) -> NumericBaseline:
    edges = spec.get("bin_edges")
    props = spec.get("proportions")
    if not isinstance(edges, list) or len(edges) < 2:
        raise BaselineError(f"{where}: 'bin_edges' must be a list of k + 1 >= 2 edges, got {edges!r}")
    if edges[0] is not None or edges[-1] is not None:
        raise BaselineError(
            f"{where}: 'bin_edges' must start and end with null (-inf / +inf), got {edges[0]!r} ... {edges[-1]!r}"
        )
    interior = edges[1:-1]
    for i, e in enumerate(interior, start=1):
        if not _is_number(e):
            raise BaselineError(f"{where}: 'bin_edges'[{i}] must be a finite number, got {e!r}")
    for i in range(1, len(interior)):
        if interior[i] <= interior[i - 1]:
            raise BaselineError(
                f"{where}: 'bin_edges' must be strictly increasing, got {interior[i - 1]!r} then {interior[i]!r}"
            )
    if not isinstance(props, list) or len(props) != len(edges) - 1:
        n = len(props) if isinstance(props, list) else props
        raise BaselineError(
            f"{where}: 'proportions' must be a list of {len(edges) - 1} values (one per bin), got {n!r}"
        )
    proportions = _check_proportions(where, "proportions", props, list(range(len(props))))
    return NumericBaseline(
        bin_edges=(None, *(float(e) for e in interior), None), proportions=tuple(proportions)
    )


def _categorical(where: str, spec: dict[str, Any]) -> CategoricalBaseline:
    cats = spec.get("categories")
    if not isinstance(cats, dict) or not cats:
        raise BaselineError(f"{where}: 'categories' must be a non-empty object of category -> proportion")
    names = list(cats)
    proportions = _check_proportions(where, "categories", [cats[n] for n in names], names)
    return CategoricalBaseline(categories=dict(zip(names, proportions)))
