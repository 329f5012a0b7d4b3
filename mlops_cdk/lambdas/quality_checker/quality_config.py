"""The quality checker's settings: one environment contract for both checks (CHECK picks one).

Required: ``CHECK`` (model_quality | bias_drift), ``CAPTURE_BUCKET``, ``CAPTURE_PREFIX`` (may be empty),
``ENDPOINT_NAME``, ``MODEL_NAME``, ``REPORT_BUCKET``, ``REPORT_PREFIX`` (may be empty), ``PROBLEM_TYPE``.
Optional: ``WINDOW_HOURS`` (24), ``LABEL_DELAY_HOURS`` (0), ``INFERENCE_ATTRIBUTE``,
``PROBABILITY_ATTRIBUTE`` (binary classification only), ``PROBABILITY_THRESHOLD`` (0.5),
``METRIC_NAMESPACE``, ``GROUND_TRUTH_BUCKET`` + ``GROUND_TRUTH_PREFIX`` (required for model_quality).
bias_drift: ``FEATURE_NAMES`` and ``BIAS_FACETS`` (required), ``BIAS_BASELINE_S3_URI``,
``BIAS_DRIFT_THRESHOLD`` (0.1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import contract
import env
from record_values import AttributePath, FacetGroup, Outcome

MODEL_QUALITY, BIAS_DRIFT = contract.QUALITY_CHECKS
BINARY, MULTICLASS, REGRESSION = contract.PROBLEM_TYPES
_FACETS_EXAMPLE = '[{"facet": "age", "values_or_threshold": [40], "label_values_or_threshold": [1]}]'


@dataclass(frozen=True)
class FacetSpec:
    """One ``BIAS_FACETS`` entry resolved against ``FEATURE_NAMES``."""

    facet: str
    index: int  # the facet's column in the captured input
    values_or_threshold: tuple[Any, ...]
    label_values_or_threshold: tuple[Any, ...]
    group: FacetGroup = field(compare=False)
    outcome: Outcome = field(compare=False)


@dataclass(frozen=True)
class Config:
    check: str
    capture_bucket: str
    capture_prefix: str
    endpoint_name: str
    model_name: str
    report_bucket: str
    report_prefix: str
    problem_type: str
    window_hours: int = 24
    label_delay_hours: int = 0
    inference_attribute: AttributePath | None = None
    probability_attribute: AttributePath | None = None
    probability_threshold: float = 0.5
    metric_namespace: str = contract.MONITORING_NAMESPACE
    ground_truth_bucket: str | None = None
    ground_truth_prefix: str = ""
    feature_names: tuple[str, ...] = ()
    facets: tuple[FacetSpec, ...] = ()
    baseline_bucket: str | None = None
    baseline_key: str | None = None
    drift_threshold: float = 0.1

    @property
    def baseline_uri(self) -> str | None:
        return f"s3://{self.baseline_bucket}/{self.baseline_key}" if self.baseline_bucket else None

    @property
    def has_labels(self) -> bool:
        return self.ground_truth_bucket is not None


def load_config(environ: Mapping[str, str]) -> Config:
    """The checker's settings; raises ``env.ConfigError`` listing every missing or unusable one."""
    def read(settings: env.Settings) -> Config:
        check = settings.choice("CHECK", contract.QUALITY_CHECKS)
        problem_type = settings.choice("PROBLEM_TYPE", contract.PROBLEM_TYPES)
        values: dict[str, Any] = {
            "check": check,
            "capture_bucket": settings.required("CAPTURE_BUCKET"),
            "capture_prefix": _prefix(settings.required("CAPTURE_PREFIX", allow_empty=True)),
            "endpoint_name": settings.required("ENDPOINT_NAME"),
            "model_name": settings.required("MODEL_NAME"),
            "report_bucket": settings.required("REPORT_BUCKET"),
            "report_prefix": _prefix(settings.required("REPORT_PREFIX", allow_empty=True)),
            "problem_type": problem_type,
            "window_hours": settings.integer("WINDOW_HOURS", default=24, minimum=1,
                                             maximum=contract.MAX_QUALITY_WINDOW_HOURS),
            "label_delay_hours": settings.integer("LABEL_DELAY_HOURS", default=0, minimum=0,
                                                  maximum=contract.MAX_LABEL_DELAY_HOURS),
            "inference_attribute": _attribute(settings, "INFERENCE_ATTRIBUTE",
                                              settings.optional("INFERENCE_ATTRIBUTE")),
            "probability_attribute": _attribute(settings, "PROBABILITY_ATTRIBUTE",
                                                settings.optional("PROBABILITY_ATTRIBUTE")),
            "probability_threshold": settings.number("PROBABILITY_THRESHOLD", default=0.5),
            "metric_namespace": settings.optional("METRIC_NAMESPACE", contract.MONITORING_NAMESPACE),
        }
        if values["probability_attribute"] is not None and problem_type not in (None, BINARY):
            settings.problem(f"PROBABILITY_ATTRIBUTE: invalid value {values['probability_attribute'].text!r}; "
                             f"allowed: unset unless PROBLEM_TYPE is {BINARY}")
        if check == MODEL_QUALITY:
            values["ground_truth_bucket"] = settings.required("GROUND_TRUTH_BUCKET")
            values["ground_truth_prefix"] = _prefix(settings.required("GROUND_TRUTH_PREFIX", allow_empty=True))
        elif check == BIAS_DRIFT:
            values.update(_bias_settings(settings, problem_type))
        return Config(**values)
    return env.load(environ, read)


def _bias_settings(settings: env.Settings, problem_type: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    bucket = settings.optional("GROUND_TRUTH_BUCKET")
    prefix = settings.optional("GROUND_TRUTH_PREFIX", "")
    if bucket is None and prefix:
        settings.problem("GROUND_TRUTH_PREFIX is set without GROUND_TRUTH_BUCKET")
    values["ground_truth_bucket"], values["ground_truth_prefix"] = bucket, _prefix(prefix)
    features = settings.names("FEATURE_NAMES")
    values["feature_names"] = features or ()
    raw = None
    if settings.required("BIAS_FACETS") is not None:
        raw = settings.json_value(
            "BIAS_FACETS", lambda v: isinstance(v, list) and 0 < len(v) <= contract.MAX_BIAS_FACETS,
            f"a JSON list of 1 to {contract.MAX_BIAS_FACETS} facets, e.g. {_FACETS_EXAMPLE}")
    if raw is not None and features is not None and problem_type is not None:
        values["facets"] = _facets(settings, raw, features, problem_type)
    uri = settings.optional("BIAS_BASELINE_S3_URI")
    if uri is not None:
        found = contract.S3_URI_RE.fullmatch(uri)
        if found is None:
            settings.problem(f"BIAS_BASELINE_S3_URI: invalid value {uri[:200]!r}; allowed: s3://bucket/key")
        else:
            values["baseline_bucket"], values["baseline_key"] = found.group("bucket"), found.group("key")
    values["drift_threshold"] = settings.number("BIAS_DRIFT_THRESHOLD", default=0.1, above=0, maximum=1)
    return values


def _facets(settings: env.Settings, raw: list, features: tuple[str, ...], problem_type: str) -> tuple[FacetSpec, ...]:
    specs: list[FacetSpec] = []
    for i, item in enumerate(raw):
        where = f"BIAS_FACETS[{i}]"
        if not isinstance(item, dict):
            settings.problem(f"{where}: invalid value {item!r}; allowed: an object like {_FACETS_EXAMPLE[1:-1]}")
            continue
        facet = item.get("facet")
        if facet not in features:
            settings.problem(f"{where}.facet: invalid value {facet!r}; allowed: one of FEATURE_NAMES "
                             f"({', '.join(features)})")
            continue
        if any(spec.facet == facet for spec in specs):
            settings.problem(f"{where}.facet: invalid value {facet!r}; allowed: a facet not given before")
            continue
        groups = item.get("values_or_threshold")
        labels = item.get("label_values_or_threshold", [1])
        problems = len(settings.problems)
        for key, value in (("values_or_threshold", groups), ("label_values_or_threshold", labels)):
            if not _literals(value):
                settings.problem(f"{where}.{key}: invalid value {value!r}; allowed: a non-empty list of numbers "
                                 "or strings")
        if problem_type == REGRESSION and _literals(labels) and (len(labels) != 1 or isinstance(labels[0], str)):
            settings.problem(f"{where}.label_values_or_threshold: invalid value {labels!r}; allowed: one number "
                             "(for Regression, a prediction above it is the positive outcome)")
        if len(settings.problems) == problems:
            specs.append(FacetSpec(facet=facet, index=features.index(facet), values_or_threshold=tuple(groups),
                                   label_values_or_threshold=tuple(labels), group=FacetGroup(groups),
                                   outcome=Outcome(labels, problem_type == REGRESSION)))
    return tuple(specs)


def _literals(values: Any) -> bool:
    if not isinstance(values, list) or not values:
        return False
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return False
        if (isinstance(value, str) and not value.strip()) or (isinstance(value, float) and not math.isfinite(value)):
            return False
    return True


def _attribute(settings: env.Settings, name: str, raw: str | None) -> AttributePath | None:
    if raw is None:
        return None
    try:
        return AttributePath(raw)
    except ValueError as exc:
        settings.problem(f"{name}: invalid value {raw[:200]!r}; allowed: a CSV column index like '0' or a JSONPath "
                         f"like '$.predictions[0].score', 'score' or '$.predictions[*].score' ({exc})")
        return None


def _prefix(raw: str | None) -> str:
    return (raw or "").strip("/")
