"""What a run publishes: CloudWatch metric data (names from ``contract``) and the JSON report.

Metrics (namespace ``METRIC_NAMESPACE``, timestamp = the run's time, undefined values left out):

* model_quality: the problem type's quality metrics, dimensions ModelName + EndpointName;
* bias_drift: ``BiasValue`` and ``BiasDrift`` per facet and metric (ModelName + EndpointName + Facet +
  BiasMetric), ``MaxBiasDrift`` per facet (ModelName + EndpointName + Facet);
* both: the run counters ``LabelledRecords``, ``UnlabelledPredictions``, ``UnmatchedLabels`` and
  ``MalformedLines`` (ModelName + EndpointName + Check, unit Count).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import contract
from bias_stats import FacetBias
from quality_config import Config

REPORT_VERSION = 1
MAX_METRICS_PER_CALL = 1000
# PutMetricData refuses values beyond +-2^360 (and NaN, infinities); its older documentation also gave a
# smallest magnitude (8.5e-109): smaller values are sent as 0.
MAX_METRIC_VALUE = 2.0 ** 360
MIN_METRIC_MAGNITUDE = 1e-100


def metric_data(config: Config, now: datetime, counts: Mapping[str, int], quality: Mapping[str, float | None],
                facets: Mapping[str, FacetBias]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(datapoints, values left out): undefined values are not published, nor values CloudWatch refuses."""
    model = [{"Name": contract.DIMENSION_MODEL_NAME, "Value": config.model_name},
             {"Name": contract.DIMENSION_ENDPOINT_NAME, "Value": config.endpoint_name}]
    data: list[dict[str, Any]] = []
    unpublishable: list[dict[str, Any]] = []

    def add(name: str, value: float | None, unit: str, *dimensions: tuple[str, str]) -> None:
        if value is None:
            return
        value = float(value)
        if not math.isfinite(value) or abs(value) > MAX_METRIC_VALUE:
            unpublishable.append({"metric": name, "value": repr(value), **dict(dimensions)})
            return
        data.append({"MetricName": name, "Value": 0.0 if abs(value) < MIN_METRIC_MAGNITUDE else value, "Unit": unit,
                     "Timestamp": now, "Dimensions": [*model, *({"Name": k, "Value": v} for k, v in dimensions)]})

    for name, value in quality.items():
        add(name, value, "None")
    for facet, bias in facets.items():
        on_facet = (contract.DIMENSION_FACET, facet)
        for metric, value in bias.values.items():
            on_metric = (contract.DIMENSION_BIAS_METRIC, metric)
            add(contract.METRIC_BIAS_VALUE, value, "None", on_facet, on_metric)
            add(contract.METRIC_BIAS_DRIFT, bias.drift[metric], "None", on_facet, on_metric)
        add(contract.METRIC_MAX_BIAS_DRIFT, bias.max_drift, "None", on_facet)
    check = (contract.DIMENSION_CHECK, config.check)
    for name, count in ((contract.METRIC_LABELLED_RECORDS, counts["labelled_records"]),
                        (contract.METRIC_UNLABELLED_PREDICTIONS, counts["unlabelled_predictions"]),
                        (contract.METRIC_UNMATCHED_LABELS, counts["unmatched_labels"]),
                        (contract.METRIC_MALFORMED_LINES, counts["malformed_lines"])):
        add(name, count, "Count", check)
    return data, unpublishable


def publish(cloudwatch: Any, namespace: str, data: list[dict[str, Any]]) -> None:
    for start in range(0, len(data), MAX_METRICS_PER_CALL):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + MAX_METRICS_PER_CALL])


def report_key(config: Config, now: datetime) -> str:
    name = f"{now:%Y-%m-%dT%H-%M-%SZ}.json"
    return "/".join(p for p in (config.report_prefix, config.endpoint_name, name) if p)


def report(config: Config, *, status: str, now: datetime, window: dict[str, Any], counts: Mapping[str, Any],
           quality: Mapping[str, float | None], details: Mapping[str, Any], facets: Mapping[str, FacetBias],
           baseline_state: Mapping[str, Any] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "check": config.check,
        "status": status,
        "endpoint": config.endpoint_name,
        "model": config.model_name,
        "problem_type": config.problem_type,
        "generated_at": iso(now),
        "window": window,
        "sources": sources(config),
        "counts": dict(counts),
    }
    if config.check == contract.QUALITY_CHECKS[0]:
        doc["metrics"] = dict(quality)
        doc.update(details)
        return doc
    doc["baseline"] = {"uri": config.baseline_uri, **(baseline_state or {})}
    doc["drift_threshold"] = config.drift_threshold
    doc["facets"] = {spec.facet: facets[spec.facet].as_dict(spec) for spec in config.facets}
    doc["violations"] = [
        {"facet": name, "metric": metric, "value": bias.values[metric],
         "baseline": (bias.baseline or {}).get(metric), "drift": bias.drift[metric]}
        for name, bias in facets.items() for metric in bias.violations
    ]
    return doc


def sources(config: Config) -> dict[str, Any]:
    capture = "/".join(p for p in (config.capture_prefix, config.endpoint_name) if p)
    labels = None
    if config.ground_truth_bucket is not None:
        labels = f"s3://{config.ground_truth_bucket}/{config.ground_truth_prefix + '/' if config.ground_truth_prefix else ''}"
    return {"capture": f"s3://{config.capture_bucket}/{capture}/", "ground_truth": labels,
            "inference_attribute": getattr(config.inference_attribute, "text", None),
            "probability_attribute": getattr(config.probability_attribute, "text", None),
            "probability_threshold": config.probability_threshold}


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
