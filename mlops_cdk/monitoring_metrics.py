"""Custom model-quality metrics: compute accuracy, precision and recall of labelled predictions and publish them.

Whoever has ground truth (a labelling job, an evaluation Lambda, a notebook) calls
``publish_custom_metrics``; ``QualityMetrics`` builds the CloudWatch metrics that alarms and
dashboards read. The names are public API and live in ``lambdas/_shared/contract.py``:
namespace ``MLOps/ModelMonitoring``, metrics ``ModelAccuracy``, ``ModelPrecision``,
``ModelRecall`` (unit None, values in [0, 1]), dimensions ``ModelName`` and ``EndpointName``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from .lambdas._shared import contract

# compute_classification_metrics' keys -> the published metric names.
QUALITY_METRICS = {"Accuracy": contract.METRIC_ACCURACY, "Precision": contract.METRIC_PRECISION,
                   "Recall": contract.METRIC_RECALL}


def compute_classification_metrics(y_true: Iterable[Any], y_pred: Iterable[Any]) -> dict[str, float]:
    """Accuracy, precision and recall of binary predictions (positive class 1), in pure Python.

    Zero division: precision is 0.0 when nothing was predicted positive
    (TP + FP = 0) and recall is 0.0 when there is no actual positive
    (TP + FN = 0), as ``sklearn.metrics`` with ``zero_division=0`` (its
    default value, minus the warning). Raises ``ValueError`` for inputs of
    different lengths, empty inputs, or labels other than 0/1.
    """
    truth = _labels("y_true", y_true)
    pred = _labels("y_pred", y_pred)
    if len(truth) != len(pred):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(truth)} and {len(pred)}")
    if not truth:
        raise ValueError("y_true and y_pred are empty: no metric can be computed")
    tp = fp = fn = tn = 0
    for t, p in zip(truth, pred):
        if p:
            if t:
                tp += 1
            else:
                fp += 1
        elif t:
            fn += 1
        else:
            tn += 1
    return {
        "Accuracy": (tp + tn) / len(truth),
        "Precision": tp / (tp + fp) if tp + fp else 0.0,
        "Recall": tp / (tp + fn) if tp + fn else 0.0,
    }


def publish_custom_metrics(
    y_true: Iterable[Any],
    y_pred: Iterable[Any],
    *,
    model_name: str,
    endpoint_name: str,
    namespace: str = contract.MONITORING_NAMESPACE,
    cloudwatch_client: Any = None,
    timestamp: datetime | None = None,
) -> dict[str, float]:
    """Compute accuracy/precision/recall and publish them as ``ModelAccuracy``,
    ``ModelPrecision`` and ``ModelRecall`` (dimensions ModelName, EndpointName)
    in one ``put_metric_data`` call. Returns the computed metrics.
    """
    for prop, value in (("model_name", model_name), ("endpoint_name", endpoint_name), ("namespace", namespace)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"publish_custom_metrics '{prop}': invalid value {value!r}; allowed: a non-empty string")
    metrics = compute_classification_metrics(y_true, y_pred)
    if cloudwatch_client is None:
        import boto3

        cloudwatch_client = boto3.client("cloudwatch")
    when = timestamp or datetime.now(timezone.utc)
    dimensions = [
        {"Name": contract.DIMENSION_MODEL_NAME, "Value": model_name},
        {"Name": contract.DIMENSION_ENDPOINT_NAME, "Value": endpoint_name},
    ]
    cloudwatch_client.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": QUALITY_METRICS[key], "Dimensions": dimensions, "Value": value, "Unit": "None", "Timestamp": when}
            for key, value in metrics.items()
        ],
    )
    return metrics


def _labels(name: str, values: Iterable[Any]) -> list[int]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a sequence of 0/1 labels, got {type(values).__name__}")
    out = []
    for i, v in enumerate(values):
        numeric = isinstance(v, numbers.Real) or getattr(getattr(v, "dtype", None), "kind", "") == "b"  # numpy bool
        if not numeric or (isinstance(v, float) and math.isnan(v)) or v not in (0, 1):
            raise ValueError(f"{name}[{i}] = {v!r}: labels must be binary, 0 or 1")
        out.append(int(v))
    return out
