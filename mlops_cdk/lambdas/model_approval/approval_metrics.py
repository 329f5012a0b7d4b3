"""The approval rule on an evaluation report, in pure Python: find a metric, decide, list every metric.

Kept apart from ``handler.py`` (the AWS calls and the error policy) so the rule that approves a model
can be read, and tested, on its own. Standard library only.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from typing import Any

import contract

MISSING = object()  # no value at the metric path
MAX_LISTED_METRICS = 100
MAX_LISTED_DEPTH = 20

# How each of the contract's comparisons reads the threshold: (symbol for humans, test).
OPERATORS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = dict(
    zip(contract.COMPARISONS, ((">=", operator.ge), ("<=", operator.le)), strict=True)
)


def is_real_number(value: Any) -> bool:
    """A JSON number that means a measurement: int or float, not bool, not NaN or +/-inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def extract_metric(report: Any, path: str) -> Any:
    """The value at dotted ``path`` in nested JSON objects, or ``MISSING``."""
    node = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def meets_threshold(value: Any, threshold: float, comparison: str) -> bool:
    """True only for a real number on the right side of (or equal to) the threshold."""
    return is_real_number(value) and OPERATORS[comparison][1](value, threshold)


def symbol(comparison: str) -> str:
    return OPERATORS[comparison][0]


def flatten_metrics(report: Any, prefix: str = "") -> list[str]:
    """``path = value`` lines for every leaf of the report, for humans (bounded in count and depth)."""
    lines: list[str] = []

    def walk(node: Any, path: str, depth: int = 0) -> None:
        if len(lines) > MAX_LISTED_METRICS:
            return
        if depth > MAX_LISTED_DEPTH and isinstance(node, (dict, list)) and node:
            lines.append(f"{path} = ... (nested deeper than {MAX_LISTED_DEPTH} levels)")
        elif isinstance(node, dict) and node:
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else str(key), depth + 1)
        elif isinstance(node, list) and node:
            for index, child in enumerate(node):
                walk(child, f"{path}[{index}]", depth + 1)
        else:
            text = json.dumps(node, default=str)
            lines.append(f"{path or '(report)'} = {text[:200]}")

    walk(report, prefix)
    if len(lines) > MAX_LISTED_METRICS:
        lines = lines[:MAX_LISTED_METRICS] + ["... (more metrics not listed)"]
    return lines
