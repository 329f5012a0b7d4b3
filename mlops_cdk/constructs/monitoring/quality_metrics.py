"""The model-quality metrics of one model on one endpoint, as one metric factory.

Two publishers use the same names (``lambdas/_shared/contract.py``): the own
``ModelQualityChecker`` (``checker.quality`` is this factory with the checker's window as
period) and ``publish_custom_metrics`` for teams that label and score on their own. So no
single resource owns them, and this factory stands in for one, as ``EndpointMetrics`` does
for an endpoint. Alarms and dashboards take the metrics it returns.
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
    """Classification (accuracy, precision, recall, F1, AUC) and regression (MAE, MSE, RMSE, R²) quality.

    Dimensions ``ModelName`` = ``model_name`` and ``EndpointName`` = ``endpoint_name`` (which
    may be a token, e.g. a deployed endpoint's name), in ``namespace``. Every metric is the
    Average per ``period`` (:data:`PERIOD`, one hour) unless the caller asks for another
    statistic or period. For a multiclass model precision, recall and F1 are support-weighted averages.
    """

    def __init__(self, model_name: str, endpoint_name: str, namespace: str = contract.MONITORING_NAMESPACE,
                 period: Duration = PERIOD) -> None:
        for prop, value in (("model_name", model_name), ("endpoint_name", endpoint_name)):
            if not isinstance(value, str) or not (is_token(value) or value.strip()):
                raise invalid("QualityMetrics", prop, value, "a non-empty dimension value")
        require_namespace("QualityMetrics", "namespace", namespace)
        if not isinstance(period, Duration):
            raise invalid("QualityMetrics", "period", period, "a Duration")
        self.period = period
        self.model_name = model_name
        self.endpoint_name = endpoint_name
        self.namespace = namespace

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """Any metric of this model and endpoint in ``namespace``."""
        props.setdefault("statistic", "Average")
        props.setdefault("period", self.period)
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

    def metric_f1(self, **props: Any) -> cloudwatch.Metric:
        """Harmonic mean of precision and recall (0-1)."""
        return self.metric(contract.METRIC_F1, **props)

    def metric_auc(self, **props: Any) -> cloudwatch.Metric:
        """Area under the ROC curve of a binary classifier's scores (0-1)."""
        return self.metric(contract.METRIC_AUC, **props)

    def metric_mae(self, **props: Any) -> cloudwatch.Metric:
        """Mean absolute error of a regression model."""
        return self.metric(contract.METRIC_MAE, **props)

    def metric_mse(self, **props: Any) -> cloudwatch.Metric:
        """Mean squared error of a regression model."""
        return self.metric(contract.METRIC_MSE, **props)

    def metric_rmse(self, **props: Any) -> cloudwatch.Metric:
        """Root mean squared error of a regression model."""
        return self.metric(contract.METRIC_RMSE, **props)

    def metric_r2(self, **props: Any) -> cloudwatch.Metric:
        """Coefficient of determination of a regression model (1 is perfect; below 0, worse than the mean)."""
        return self.metric(contract.METRIC_R2, **props)


__all__ = ["PERIOD", "QualityMetrics"]
