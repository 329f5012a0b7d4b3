"""Bias facets as plain data: which group of a sensitive attribute the own bias checker (and Clarify) compares.

One :class:`BiasFacet` says, in SageMaker Clarify's vocabulary, which input column is the
facet, which of its values make up the sensitive group *d* (everyone else is group *a*),
and which predicted labels are the positive outcome. cdk.json gives them as
``bias_facets``, e.g. ``[{"facet": "customer_age", "values_or_threshold": [40],
"label_values_or_threshold": [1]}]``.

Values or threshold, explicitly (Clarify infers it from the column's data, which a
definition written before any data exists cannot do):

* ``values_or_threshold``: exactly one number is a threshold, and group *d* is the records
  whose facet value is greater than it (``[40]``: older than 40); otherwise the values are
  categories and *d* is the records whose value equals one of them (``["female"]``,
  ``["0"]``: write a single numeric category as a string);
* ``label_values_or_threshold``: the predicted labels (or, for a regression model, one
  threshold above which a prediction is positive) that count as the positive outcome.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .._validation import invalid, is_token
from ..lambdas._shared import contract
from ._base import Settings

MAX_FACET_VALUES = 100
_Value = int | float | str


@dataclasses.dataclass(frozen=True, kw_only=True)
class BiasFacet(Settings):
    """One facet of the bias checks (see the module for what the values mean).

    Attributes:
        facet: the input column (one of the captured input's feature names).
        values_or_threshold: the sensitive group: its categories, or one number (a threshold).
        label_values_or_threshold: the positive outcome, ``(1,)`` by default.
    """

    facet: str
    values_or_threshold: tuple[_Value, ...]
    label_values_or_threshold: tuple[_Value, ...] = (1,)

    TUPLE_FIELDS = ("values_or_threshold", "label_values_or_threshold")

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        facet = values.get("facet")
        if not isinstance(facet, str) or not facet.strip() or is_token(facet) or \
                not contract.FEATURE_NAME_RE.match(facet):
            raise invalid(owner, f"{path}facet", facet, "the name of an input column (one of the feature names)")
        for key in ("values_or_threshold", "label_values_or_threshold"):
            _literal_values(owner, f"{path}{key}", values.get(key))

    @property
    def facet_is_threshold(self) -> bool:
        """True when group *d* is the records whose facet value exceeds the one number given."""
        return len(self.values_or_threshold) == 1 and _is_number(self.values_or_threshold[0])

    def as_json(self) -> dict[str, Any]:
        """The facet as the checker's ``BIAS_FACETS`` entry and the pipeline's argument take it."""
        return {"facet": self.facet, "values_or_threshold": list(self.values_or_threshold),
                "label_values_or_threshold": list(self.label_values_or_threshold)}


def bias_facets(raw: Any, *, owner: str = "config", key: str = "bias_facets",
                feature_names: Sequence[str] | None = None) -> tuple[BiasFacet, ...]:
    """A list of facets (``BiasFacet`` or JSON objects): distinct facet columns, at most ``MAX_BIAS_FACETS``.

    With ``feature_names``, every facet must be one of them: the checker finds it in the captured input.
    """
    if raw is None:
        return ()
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Sequence):
        raise invalid(owner, key, raw, 'a list of facets, e.g. [{"facet": "customer_age", '
                                       '"values_or_threshold": [40], "label_values_or_threshold": [1]}]')
    if len(raw) > contract.MAX_BIAS_FACETS:
        raise invalid(owner, key, f"{len(raw)} facets", f"at most {contract.MAX_BIAS_FACETS}")
    facets = tuple(BiasFacet.from_mapping(item, owner=owner, path=f"{key}[{i}].") for i, item in enumerate(raw))
    seen: set[str] = set()
    for i, facet in enumerate(facets):
        if facet.facet in seen:
            raise invalid(owner, f"{key}[{i}].facet", facet.facet, "a column not already given as a facet")
        seen.add(facet.facet)
        if feature_names is not None and facet.facet not in feature_names:
            raise invalid(owner, f"{key}[{i}].facet", facet.facet, "one of the feature names: " + ", ".join(feature_names))
    return facets


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _literal_values(owner: str, key: str, values: Any) -> None:
    allowed = f"a non-empty list of at most {MAX_FACET_VALUES} literal numbers or strings, e.g. [1]"
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence) or not values \
            or len(values) > MAX_FACET_VALUES:
        raise invalid(owner, key, values, allowed)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or \
                (isinstance(value, str) and (not value.strip() or is_token(value))) or \
                (isinstance(value, float) and not math.isfinite(value)):
            raise invalid(owner, key, values, allowed)


__all__ = ["MAX_FACET_VALUES", "BiasFacet", "bias_facets"]
