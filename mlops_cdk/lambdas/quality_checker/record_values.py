"""Values inside captured records and labels: where an attribute is, and how values compare.

Attributes (``INFERENCE_ATTRIBUTE``, ``PROBABILITY_ATTRIBUTE``) use a small JSONPath subset:

* ``"0"``: a column index, read from each output record (a CSV line's fields, a JSON list);
* a relative path (``score``, ``probabilities[1]``, ``[0]``): read from each output record;
* an absolute path (``$.predictions[0].score``): read once from the whole response; with one
  ``[*]`` (``$.predictions[*].score``) it yields one value per record.

Values compare as canonical strings, so a label written "1", 1 or "1.0" is the same class and
a facet value "40.0" equals 40: a finite number is spelled as an integer when it is one, else
as Python's shortest repr; other strings are stripped; null, NaN, infinities and empty strings
are missing.
"""

from __future__ import annotations

import math
import re
from typing import Any

WILDCARD = "*"
_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+|\*)\]|\[['\"]([^'\"]+)['\"]\]")
_FIRST_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_MAX_INT_FLOAT = 2.0 ** 53


class AttributePath:
    """A parsed attribute: ``get(record)`` for relative paths, ``values(document)`` for absolute ones."""

    def __init__(self, text: str) -> None:
        self.text = text
        raw = text.strip()
        self.absolute = raw.startswith("$")
        steps: list[str | int] = []
        rest = raw[1:] if self.absolute else raw
        if not self.absolute:
            if raw.isdigit():
                steps.append(int(raw))
                rest = ""
            elif (first := _FIRST_KEY.match(raw)) is not None:
                steps.append(first.group(0))
                rest = raw[first.end():]
        while rest:
            token = _TOKEN.match(rest)
            if token is None:
                raise ValueError(f"cannot read {rest!r}")
            key, index, quoted = token.groups()
            steps.append(key if key is not None else quoted if quoted is not None else
                         WILDCARD if index == WILDCARD else int(index))
            rest = rest[token.end():]
        if not steps and not self.absolute:
            raise ValueError("empty path")
        if steps.count(WILDCARD) > (1 if self.absolute else 0):
            raise ValueError("[*] is allowed once, in an absolute path ($...)")
        self.steps = tuple(steps)

    def __repr__(self) -> str:
        return f"AttributePath({self.text!r})"

    def get(self, record: Any) -> Any:
        """The value at this (relative) path in ``record``; LookupError if it is not there."""
        return _walk(record, self.steps)

    def values(self, document: Any) -> list[Any]:
        """The values of an absolute path in the whole response: one per record."""
        if WILDCARD not in self.steps:
            return [_walk(document, self.steps)]
        at = self.steps.index(WILDCARD)
        items = _walk(document, self.steps[:at])
        if not isinstance(items, list):
            raise LookupError("[*] of a value that is not a list")
        return [_walk(item, self.steps[at + 1:]) for item in items]


def _walk(value: Any, steps: tuple) -> Any:
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                raise LookupError(step)
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                raise LookupError(step)
            value = value[step]
    return value


def parse_attribute(text: str | None) -> AttributePath | None:
    return None if text is None else AttributePath(text)


def first_value(record: Any) -> Any:
    """The record's column 0 / first value: the first scalar, depth first."""
    for _ in range(8):
        if isinstance(record, list):
            if not record:
                raise LookupError("empty record")
            record = record[0]
        elif isinstance(record, dict):
            if not record:
                raise LookupError("empty record")
            record = next(iter(record.values()))
        else:
            return record
    raise LookupError("nested too deeply")


def number(value: Any) -> float:
    """A finite float from a JSON number or a numeric string; ValueError otherwise."""
    if isinstance(value, (bool, dict, list)) or value is None:
        raise ValueError(f"not a number: {value!r}")
    result = float(value)  # a string that is no number raises ValueError
    if not math.isfinite(result):
        raise ValueError(f"not a finite number: {value!r}")
    return result


def canonical(value: Any) -> str | None:
    """The canonical spelling of a label, class or category (None: missing)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return _number_text(float(value))
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return _number_text(float(text))
        except ValueError:
            return text
    return None


def _number_text(value: float) -> str | None:
    if not math.isfinite(value):
        return None
    if value.is_integer() and abs(value) < _MAX_INT_FLOAT:
        return str(int(value))
    return repr(value)


class Outcome:
    """Which values are the positive outcome of a bias facet: listed labels, or above a threshold (regression)."""

    def __init__(self, label_values_or_threshold: list[Any], regression: bool) -> None:
        self.threshold = number(label_values_or_threshold[0]) if regression else None
        self.labels = frozenset(canonical(v) for v in label_values_or_threshold) - {None}

    def positive(self, value: Any) -> int:
        """1 or 0; ValueError when ``value`` is missing (or, for regression, not a number)."""
        if self.threshold is not None:
            return int(number(value) > self.threshold)
        text = canonical(value)
        if text is None:
            raise ValueError(f"missing value {value!r}")
        return int(text in self.labels)


class FacetGroup:
    """Sorts a facet value into group d (1: sensitive), a (0: every other readable value) or None (unreadable)."""

    def __init__(self, values_or_threshold: list[Any]) -> None:
        first = values_or_threshold[0]
        self.threshold: float | None = None
        if len(values_or_threshold) == 1 and isinstance(first, (int, float)) and not isinstance(first, bool):
            self.threshold = float(first)
        self.values = frozenset(canonical(v) for v in values_or_threshold) - {None}

    def group(self, value: Any) -> int | None:
        if self.threshold is not None:
            try:
                return int(number(value) > self.threshold)
            except ValueError:
                return None
        text = canonical(value)
        return None if text is None else int(text in self.values)
