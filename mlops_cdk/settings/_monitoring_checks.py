"""The checks behind the Model Monitor options (``settings.monitoring``): one place, imported by it only.

Each raises ``ValueError`` naming the option (``invalid``); ``prediction`` also fills in the
defaults it documents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from .._validation import invalid, is_token, require_number, require_object_key, require_pattern

# ISO-8601 offsets relative to a run, as Model Monitor takes them: -PT1H, -P1D, -P1DT12H.
_OFFSET_RE = re.compile(r"^-P(?=\d|T\d)(?:(?P<d>\d+)D)?(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?)?$")
_ATTRIBUTE_MAX = 256
_DEFAULT_SCORE_COLUMN = "0"
_DEFAULT_PROBABILITY_THRESHOLD = 0.5


def optional_key(owner: str, prop: str, value: Any) -> None:
    if value is not None:
        require_object_key(owner, prop, value)


def attribute(owner: str, prop: str, value: Any) -> None:
    if value is None or is_token(value):
        return
    if not isinstance(value, str) or not value.strip() or len(value) > _ATTRIBUTE_MAX:
        raise invalid(owner, prop, value, f"a CSV column index like '0' or a JSONPath, 1-{_ATTRIBUTE_MAX} characters")


def prediction(options: Any, owner: str, problem_type: str) -> None:
    """Check where the prediction is; fill in the default score column and probability threshold."""
    inference, probability, threshold = (options.inference_attribute, options.probability_attribute,
                                         options.probability_threshold)
    attribute(owner, "inference_attribute", inference)
    attribute(owner, "probability_attribute", probability)
    if problem_type == "BinaryClassification" and inference is None and probability is None:
        probability = _DEFAULT_SCORE_COLUMN
        object.__setattr__(options, "probability_attribute", probability)
    if problem_type != "BinaryClassification" and inference is None:
        raise invalid(owner, "inference_attribute", None,
                      f"the predicted value's location (required for {problem_type})")
    if problem_type == "Regression" and probability is not None:
        raise invalid(owner, "probability_attribute", probability, "None for Regression")
    if threshold is None:
        if problem_type == "BinaryClassification" and probability is not None:
            object.__setattr__(options, "probability_threshold", _DEFAULT_PROBABILITY_THRESHOLD)
        return
    if problem_type != "BinaryClassification" or probability is None:
        raise invalid(owner, "probability_threshold", threshold,
                      "None unless a binary classifier's probability_attribute is read")
    object.__setattr__(options, "probability_threshold", require_number(
        owner, "probability_threshold", threshold, minimum=0, maximum=1))


def _offset_seconds(value: str) -> int:
    match = _OFFSET_RE.match(value)
    assert match is not None
    d, h, m = (int(match.group(k) or 0) for k in "dhm")
    return -(d * 86400 + h * 3600 + m * 60)


def offsets(owner: str, start: Any, end: Any) -> None:
    for prop, value in (("start_time_offset", start), ("end_time_offset", end)):
        if value is not None:
            require_pattern(owner, prop, value, _OFFSET_RE,
                            "a negative ISO-8601 duration like '-PT1H', '-P1D' or '-P1DT12H'")
    if start is not None and end is not None and not is_token(start) and not is_token(end):
        if _offset_seconds(start) >= _offset_seconds(end):
            raise invalid(owner, "start_time_offset", start, f"an offset earlier than end_time_offset ({end})")


def _literal(value: Any) -> bool:
    return not (isinstance(value, str) and is_token(value))


def values_list(owner: str, prop: str, values: Any) -> None:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise invalid(owner, prop, values, "a non-empty list of label values (or one threshold), e.g. [1]")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or not _literal(value) or (
                isinstance(value, float) and not math.isfinite(value)):
            raise invalid(owner, prop, values, "literal numbers or strings")


def column(owner: str, prop: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not (
            (isinstance(value, str) and value.strip() and _literal(value)) or (isinstance(value, int) and value >= 0)):
        raise invalid(owner, prop, value, "a literal column name or a 0-based column index")


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def facets(owner: str, name: Any, values: Any) -> None:
    names = as_list(name)
    if not names:
        raise invalid(owner, "facet_name", name, "a column name or index, or a non-empty list of them")
    for single in names:
        column(owner, "facet_name", single)
    if values is not None:
        values_list(owner, "facet_values_or_threshold", values)
        if len(names) > 1 and len(values) != len(names):
            raise invalid(owner, "facet_values_or_threshold", values, f"one value per facet ({len(names)})")


def named_columns(owner: str, headers: Any, **columns: Any) -> None:
    """Columns given by name need ``headers`` (captured CSV carries no header row); named facets and the
    group variable must be among them (a label may be a JSONPath into JSON Lines, so it is not checked)."""
    for prop, value in columns.items():
        names = [v for v in as_list(value) if isinstance(v, str)] if value is not None else []
        if names and headers is None:
            raise invalid(owner, "headers", None,
                          f"the column names, in order: required because {prop} is given by name ({names[0]!r}); "
                          "or give it as a 0-based column index")
        if names and prop != "label":
            missing = [n for n in names if n not in headers]
            if missing:
                raise invalid(owner, prop, missing[0] if len(missing) == 1 else missing,
                              f"a name among headers {list(headers)} or a 0-based column index")


def headers_list(owner: str, headers: Any) -> None:
    if headers is None:
        return
    if isinstance(headers, str) or not isinstance(headers, Sequence) or not headers or not all(
            isinstance(h, str) and h.strip() and _literal(h) for h in headers) or len(set(headers)) != len(headers):
        raise invalid(owner, "headers", headers, "a non-empty list of distinct literal column names")


def shap_baseline(owner: str, baseline: Any, headers: Any) -> None:
    allowed = "rows of literal feature values, e.g. [X_train.median().tolist()]"
    if isinstance(baseline, (str, bytes)) or not isinstance(baseline, Sequence) or not baseline:
        raise invalid(owner, "shap_baseline", baseline, allowed)
    width = None
    for row in baseline:
        if isinstance(row, str) or not isinstance(row, Sequence) or not row or any(
                isinstance(v, bool) or not isinstance(v, (int, float, str)) or not _literal(v)
                or (isinstance(v, float) and not math.isfinite(v)) for v in row):
            raise invalid(owner, "shap_baseline", baseline, allowed)
        if width is not None and len(row) != width:
            raise invalid(owner, "shap_baseline", baseline, "rows of equal length")
        width = len(row)
    if isinstance(headers, Sequence) and not isinstance(headers, str) and len(headers) != width:
        raise invalid(owner, "shap_baseline", baseline, f"rows of {len(headers)} values (one per header)")
