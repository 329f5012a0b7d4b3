"""The model-quality metrics ``publish_custom_metrics`` publishes, as one metric factory.

Ground truth arrives in batches, whoever labels it calls ``publish_custom_metrics`` (or
publishes the same names), and nothing else emits these metrics: so no resource owns them,
and this factory stands in for one, as ``EndpointMetrics`` does for an endpoint. Alarms and
dashboards take the metrics it returns.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from ..._validation import invalid, is_token, require_namespace
from ...lambdas._shared import contract

# One datapoint per labelled batch at most every hour or so: averaged per hour.
PERIOD = Duration.hours(1)


class QualityMetrics:
    """``ModelAccuracy``, ``ModelPrecision``, ``ModelRecall`` of one model on one endpoint.

    Dimensions ``ModelName`` = ``model_name`` and ``EndpointName`` = ``endpoint_name`` (which
    may be a token, e.g. a deployed endpoint's name), in ``namespace``. Every metric is the
    Average per :data:`PERIOD` (one hour) unless the caller asks for another statistic or period.
    """

    def __init__(self, model_name: str, endpoint_name: str, namespace: str = contract.MONITORING_NAMESPACE) -> None:
        for prop, value in (("model_name", model_name), ("endpoint_name", endpoint_name)):
            if not isinstance(value, str) or not (is_token(value) or value.strip()):
                raise invalid("QualityMetrics", prop, value, "a non-empty dimension value")
        require_namespace("QualityMetrics", "namespace", namespace)
        self.model_name = model_name
        self.endpoint_name = endpoint_name
        self.namespace = namespace

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """Any metric of this model and endpoint in ``namespace``."""
        props.setdefault("statistic", "Average")
        props.setdefault("period", PERIOD)
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name=metric_name,
            dimensions_map={contract.DIMENSION_MODEL_NAME: self.model_name,
                            contract.DIMENSION_ENDPOINT_NAME: self.endpoint_name},
            **props,
        )

    def metric_accuracy(self, **props: Any) -> cloudwatch.Metric:
        """Share of labelled predictions that were right (0-1)."""
        return self.metric(contract.METRIC_ACCURACY, **props)

    def metric_precision(self, **props: Any) -> cloudwatch.Metric:
        """Share of predicted positives that were positive (0-1)."""
        return self.metric(contract.METRIC_PRECISION, **props)

    def metric_recall(self, **props: Any) -> cloudwatch.Metric:
        """Share of actual positives that were predicted (0-1)."""
        return self.metric(contract.METRIC_RECALL, **props)


__all__ = ["PERIOD", "QualityMetrics"]
