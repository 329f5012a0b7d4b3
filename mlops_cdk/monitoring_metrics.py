"""Custom model-quality metrics (course 11.9 ``publish_custom_metrics``) and the platform's metric names.

The names below are public API: CloudWatch alarms and the dashboard read these
metrics, so renaming one silently breaks them.

Model quality, published by ``publish_custom_metrics`` (e.g. from a ground-truth
labelling job or an evaluation Lambda): namespace ``NAMESPACE``
("MLOps/ModelMonitoring"), metrics ``ModelAccuracy``, ``ModelPrecision``,
``ModelRecall`` (unit None, values in [0, 1]), dimensions ``ModelName`` and
``EndpointName``.

Feature drift, published by the drift checker Lambda
(``mlops_cdk/lambdas/drift_checker``, which cannot import this module and
mirrors these constants; a test keeps them equal): ``FeatureDrift``
(dimensions ``Endpoint`` + ``Feature``, value PSI), ``MaxFeatureDrift``,
``RecordsAnalyzed`` and ``MalformedRecords`` (dimension ``Endpoint``), same
namespace by default. The drift event is detail-type "Feature Drift Detected".
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

NAMESPACE = "MLOps/ModelMonitoring"

# Model quality (publish_custom_metrics)
METRIC_ACCURACY = "ModelAccuracy"
METRIC_PRECISION = "ModelPrecision"
METRIC_RECALL = "ModelRecall"
DIMENSION_MODEL_NAME = "ModelName"
DIMENSION_ENDPOINT_NAME = "EndpointName"
QUALITY_METRICS = {"Accuracy": METRIC_ACCURACY, "Precision": METRIC_PRECISION, "Recall": METRIC_RECALL}

# Feature drift (lambdas/drift_checker/handler.py)
DRIFT_METRIC_FEATURE_DRIFT = "FeatureDrift"
DRIFT_METRIC_MAX_FEATURE_DRIFT = "MaxFeatureDrift"
DRIFT_METRIC_RECORDS_ANALYZED = "RecordsAnalyzed"
DRIFT_METRIC_MALFORMED_RECORDS = "MalformedRecords"
DRIFT_DIMENSION_ENDPOINT = "Endpoint"
DRIFT_DIMENSION_FEATURE = "Feature"
DRIFT_EVENT_DETAIL_TYPE = "Feature Drift Detected"
DRIFT_EVENT_SOURCE = "mlops-cdk.drift-checker"


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
    namespace: str = NAMESPACE,
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
        {"Name": DIMENSION_MODEL_NAME, "Value": model_name},
        {"Name": DIMENSION_ENDPOINT_NAME, "Value": endpoint_name},
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
