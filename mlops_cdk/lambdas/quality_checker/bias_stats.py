"""Post-training bias per facet (SageMaker Clarify's DPPL, DI, RD, AD) and its drift from a baseline.

Definitions (Clarify's post-training metrics, facet *a* = every readable value outside the
sensitive group *d*; q = share of a group's records predicted positive):

* DPPL = q_a - q_d; DI = q_d / q_a (undefined when q_a = 0);
* with labels, RD = recall_a - recall_d (recall = TP / (TP + FN)) and AD = accuracy_a - accuracy_d
  (accuracy = share of the group's predicted outcomes equal to the label's outcome).

A metric is undefined (None) when a group is empty or a denominator is 0. Distance from parity
is |x| (DPPL, RD, AD) or |1 - x| (DI); drift = distance(live) - distance(baseline), so a positive
drift means further from parity than the approved model was on its test split; a drift >= the
threshold is a violation. The baseline document (the training pipeline's)::

    {"report_version": 1, "source": "...",
     "facets": {"<facet>": {"DPPL": x|null, "DI": x|null, "RD": x|null, "AD": x|null, "n_a": int, "n_d": int}}}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import contract
from join_store import JoinStore
from quality_config import FacetSpec

BASELINE_VERSION = 1
OK, DRIFT, NO_BASELINE = "ok", "drift", "no_baseline"


class BiasBaselineError(ValueError):
    """The bias baseline exists but cannot be used."""


def load_baseline(body: bytes | str) -> dict[str, dict[str, float | None]]:
    """facet -> metric -> baseline value (None: undefined in the baseline); BiasBaselineError if invalid."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise BiasBaselineError(f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("report_version") != BASELINE_VERSION:
        raise BiasBaselineError(f"'report_version' must be {BASELINE_VERSION}")
    facets = doc.get("facets")
    if not isinstance(facets, dict):
        raise BiasBaselineError("'facets' must be an object of facet name -> metrics")
    baseline: dict[str, dict[str, float | None]] = {}
    for facet, values in facets.items():
        if not isinstance(values, dict):
            raise BiasBaselineError(f"facets.{facet} must be an object")
        for name in contract.BIAS_METRICS:
            value = values.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value)):
                raise BiasBaselineError(f"facets.{facet}.{name} must be a finite number or null, got {value!r}")
        for name in ("n_a", "n_d"):
            count = values.get(name)
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
                raise BiasBaselineError(f"facets.{facet}.{name} must be a count, got {count!r}")
        baseline[facet] = {name: values.get(name) for name in contract.BIAS_METRICS}
    return baseline


def distance(metric: str, value: float) -> float:
    """How far from parity a bias value is."""
    return abs(1.0 - value) if metric == "DI" else abs(value)


@dataclass
class FacetBias:
    facet: str
    groups: dict[str, dict[str, Any]]
    unreadable: int
    values: dict[str, float | None]
    baseline: dict[str, float | None] | None
    threshold: float
    drift: dict[str, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in self.values.items():
            base = None if self.baseline is None else self.baseline.get(name)
            self.drift[name] = None if value is None or base is None else distance(name, value) - distance(name, base)

    @property
    def violations(self) -> list[str]:
        return [name for name, d in self.drift.items() if d is not None and d >= self.threshold]

    @property
    def max_drift(self) -> float | None:
        defined = [d for d in self.drift.values() if d is not None]
        return max(defined) if defined else None

    @property
    def status(self) -> str:
        return DRIFT if self.violations else NO_BASELINE if self.baseline is None else OK

    def as_dict(self, spec: FacetSpec) -> dict[str, Any]:
        base = self.baseline or {}
        return {
            "values_or_threshold": list(spec.values_or_threshold),
            "facet_is_threshold": spec.group.threshold is not None,
            "label_values_or_threshold": list(spec.label_values_or_threshold),
            "groups": self.groups,
            "unreadable_records": self.unreadable,
            "metrics": {name: {"value": value, "baseline": base.get(name), "drift": self.drift[name],
                               "violation": name in self.violations}
                        for name, value in self.values.items()},
            "max_drift": self.max_drift,
            "status": self.status,
        }


def facet_bias(store: JoinStore, index: int, spec: FacetSpec, *, with_labels: bool,
               baseline: dict[str, float | None] | None, threshold: float) -> FacetBias:
    """The bias of facet number ``index`` (columns ``g<index>``, ``pp<index>``, ``lp<index>``)."""
    g, pp, lp = f"g{index}", f"pp{index}", f"lp{index}"
    groups: dict[str, dict[str, Any]] = {name: {"records": 0, "positive_predictions": 0} for name in ("a", "d")}
    for group, positives, records in store.rows(
            f"SELECT {g}, SUM({pp}), COUNT(*) FROM live WHERE {g} IS NOT NULL GROUP BY {g}"):
        groups["ad"[group]].update(records=records, positive_predictions=positives)
    unreadable = store.scalar(f"SELECT COUNT(*) FROM live WHERE {g} IS NULL")
    rate = {name: _ratio(v["positive_predictions"], v["records"]) for name, v in groups.items()}
    for name in groups:
        groups[name]["positive_rate"] = rate[name]
    values: dict[str, float | None] = {
        "DPPL": None if None in rate.values() else rate["a"] - rate["d"],
        "DI": None if None in rate.values() or not rate["a"] else rate["d"] / rate["a"],
    }
    if with_labels:
        confusion = {name: {"tp": 0, "fp": 0, "fn": 0, "tn": 0} for name in ("a", "d")}
        for group, predicted, actual, count in store.rows(
                f"SELECT {g}, {pp}, {lp}, COUNT(*) FROM matched WHERE {g} IS NOT NULL GROUP BY 1, 2, 3"):
            cell = ("t" if predicted == actual else "f") + ("p" if predicted else "n")
            confusion["ad"[group]][cell] += count
        recall, accuracy = {}, {}
        for name, c in confusion.items():
            recall[name] = _ratio(c["tp"], c["tp"] + c["fn"])
            accuracy[name] = _ratio(c["tp"] + c["tn"], sum(c.values()))
            groups[name].update(labelled=sum(c.values()), confusion=c, recall=recall[name], accuracy=accuracy[name])
        values["RD"] = None if None in recall.values() else recall["a"] - recall["d"]
        values["AD"] = None if None in accuracy.values() else accuracy["a"] - accuracy["d"]
    return FacetBias(spec.facet, groups, unreadable, values, baseline, threshold)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None
