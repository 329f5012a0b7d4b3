"""The CloudWatch metrics SageMaker publishes for an endpoint variant, in one factory.

``ModelEndpoint.metric_*`` delegate here; so do alarms and dashboards of an
endpoint that is imported or not deployed yet (``EndpointMetrics.of(...)``).
Every metric has aws-cdk-lib's default period, 5 minutes, unless the caller
asks for another: the endpoint's rollback alarms use 1-minute periods so a bad
deployment rolls back within its baking period.

Statistics: each metric defaults to one AWS lists as valid for it (SageMaker developer
guide, "Amazon SageMaker AI metrics in Amazon CloudWatch"). For ``ModelLatency`` and
``OverheadLatency`` that is Average, Sum, Min, Max and SampleCount, no percentile: a
``statistic="p99"`` is passed through, but nothing promises CloudWatch serves it.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker

from ...settings.endpoint import LATENCY_STATISTICS

NAMESPACE = "AWS/SageMaker"
DEFAULT_PERIOD = Duration.minutes(5)
DEFAULT_VARIANT = "AllTraffic"  # the SageMaker SDK's name for a single variant
LATENCY_METRICS = ("ModelLatency", "OverheadLatency")


def undocumented_latency_statistic(metric: cloudwatch.IMetric) -> str | None:
    """The statistic of ``metric`` if it is an ``AWS/SageMaker`` latency metric read with a statistic
    AWS does not document for it (a percentile), else None."""
    stat = metric.to_metric_config().metric_stat
    if stat is None or stat.namespace != NAMESPACE or stat.metric_name not in LATENCY_METRICS:
        return None
    return None if stat.statistic in LATENCY_STATISTICS else stat.statistic


class EndpointMetrics:
    """``AWS/SageMaker`` metrics of one endpoint variant (dimensions ``EndpointName``, ``VariantName``).

    ``endpoint_name`` may be a token: a metric of a deployed ``ModelEndpoint``
    references it, so alarms in another stack wait for the endpoint.
    """

    def __init__(self, endpoint_name: str, variant_name: str = DEFAULT_VARIANT) -> None:
        self.endpoint_name = endpoint_name
        self.variant_name = variant_name

    @classmethod
    def of(cls, endpoint: sagemaker.IEndpoint, variant_name: str = DEFAULT_VARIANT) -> "EndpointMetrics":
        return cls(endpoint.endpoint_name, variant_name)

    def metric(self, metric_name: str, *, statistic: str = "Sum", period: Duration | None = None,
               **props: Any) -> cloudwatch.Metric:
        """Any metric of this variant in ``AWS/SageMaker``."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": self.variant_name},
            statistic=statistic,
            period=period or DEFAULT_PERIOD,
            **props,
        )

    def metric_invocations(self, **props: Any) -> cloudwatch.Metric:
        """Requests sent to the variant (Sum)."""
        return self.metric("Invocations", **props)

    def metric_invocations_per_instance(self, **props: Any) -> cloudwatch.Metric:
        """Invocations divided by the instance count, what target-tracking autoscaling follows (Sum)."""
        return self.metric("InvocationsPerInstance", **props)

    def metric_model_latency(self, **props: Any) -> cloudwatch.Metric:
        """Time the model container took to respond, in microseconds (Average unless ``statistic`` says:
        AWS documents Average, Sum, Minimum, Maximum, SampleCount for it)."""
        props.setdefault("statistic", "Average")
        return self.metric("ModelLatency", **props)

    def metric_overhead_latency(self, **props: Any) -> cloudwatch.Metric:
        """Time SageMaker added on top of the model latency, in microseconds (Average; statistics as ModelLatency)."""
        props.setdefault("statistic", "Average")
        return self.metric("OverheadLatency", **props)

    def metric_invocation_4xx_errors(self, **props: Any) -> cloudwatch.Metric:
        """Requests the model answered with a 4XX status (Sum)."""
        return self.metric("Invocation4XXErrors", **props)

    def metric_invocation_5xx_errors(self, **props: Any) -> cloudwatch.Metric:
        """Requests the model answered with a 5XX status (Sum)."""
        return self.metric("Invocation5XXErrors", **props)
