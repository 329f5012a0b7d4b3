"""The CloudWatch metrics SageMaker publishes for an endpoint variant, in one factory.

``ModelEndpoint.metric_*`` delegate here; so do alarms and dashboards of an
endpoint that is imported or not deployed yet (``EndpointMetrics.of(...)``).
Every metric has aws-cdk-lib's default period, 5 minutes, unless the caller
asks for another: the endpoint's rollback alarms use 1-minute periods so a bad
deployment rolls back within its baking period.

Instance count: neither ``AWS/SageMaker`` nor Application Auto Scaling publishes one for a
variant (``DescribeEndpoint`` reports ``CurrentInstanceCount``; the ``InstanceCountPerEndpoint`` of
SageMaker AI Insights is OpenTelemetry data queried with PromQL, which neither ``cloudwatch.Metric``
nor aws-cdk-lib's graph widgets express). Two metric-math stand-ins, each labelled with what it measures:
:meth:`EndpointMetrics.metric_instance_count` (documented, needs traffic) and
:meth:`EndpointMetrics.metric_instances_reporting` (continuous, inferred).

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
UTILIZATION_NAMESPACE = "/aws/sagemaker/Endpoints"  # CPU, memory, disk of the variant's instances
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

    def metric_instance_count(self, *, label: str = "instances (while invoked)", period: Duration | None = None,
                              color: str | None = None) -> cloudwatch.MathExpression:
        """Instances serving the variant, from its traffic: ``Invocations / InvocationsPerInstance`` (both Sum).

        SageMaker sends ``1/n`` as the ``InvocationsPerInstance`` of each request, n being the
        variant's active instances at the time (SageMaker API reference, ``ScalingPolicyMetric``),
        so the ratio is n (a harmonic mean over the requests if n changed within the period).
        Without traffic there is no data point: see :meth:`metric_instances_reporting`.
        """
        return cloudwatch.MathExpression(
            expression="invocations / per_instance", label=label, period=period or DEFAULT_PERIOD, color=color,
            using_metrics={"invocations": self.metric_invocations(),
                           "per_instance": self.metric_invocations_per_instance()})

    def metric_instances_reporting(self, *, label: str = "instances reporting CPU", period: Duration | None = None,
                                   color: str | None = None) -> cloudwatch.MathExpression:
        """Instances publishing utilization, idle ones included: ``CPUUtilization`` data points per minute.

        Every instance publishes its own ``CPUUtilization`` (of the containers "on the instance",
        SageMaker developer guide) under the variant's dimensions in ``/aws/sagemaker/Endpoints``,
        every ``MetricPublishFrequencyInSeconds`` (60 unless the endpoint config's ``MetricsConfig``
        says otherwise; ``ModelEndpoint`` sets none). Samples per minute are then the instances
        reporting. An inference from documented publishing, not a documented count: it should
        match :meth:`metric_instance_count` whenever there is traffic.
        """
        samples = cloudwatch.Metric(
            namespace=UTILIZATION_NAMESPACE, metric_name="CPUUtilization", statistic="SampleCount",
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": self.variant_name},
            period=period or DEFAULT_PERIOD)
        return cloudwatch.MathExpression(expression="samples / (PERIOD(samples) / 60)", label=label, color=color,
                                         period=period or DEFAULT_PERIOD, using_metrics={"samples": samples})
