"""A CloudWatch dashboard for one deployed model (course 11.9): performance, drift, quality, alarms."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from .. import monitoring_metrics as mm
from .._validation import invalid, require_pattern
from .drift_checker import DriftChecker
from .model_alarms import endpoint_metric, quality_metric

_OWNER = "ModelDashboard"
_DASHBOARD_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
WIDTH = 24  # dashboard grid width


class ModelDashboard(Construct):
    """A CloudWatch dashboard with four rows, in the course's order:

    1. endpoint performance of ``endpoint_name`` / ``variant_name``
       (``AWS/SageMaker``): model latency p50/p99 and overhead latency p99
       (microseconds), invocations, 4XX and 5XX errors;
    2. feature drift: one line per feature of ``feature_drift_metrics``
       (default: the ``drift_checker``'s PSI metrics) with the warning and
       significant thresholds drawn, plus records analysed and malformed per run;
    3. model quality: ``ModelAccuracy``, ``ModelPrecision``, ``ModelRecall`` of
       ``publish_custom_metrics`` (dimensions ``model_name`` + ``endpoint_name``)
       with the accuracy threshold drawn;
    4. alarm status of ``alarms``.

    Exposes ``dashboard`` and ``dashboard_name``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        model_name: str,
        variant_name: str = "AllTraffic",
        drift_checker: DriftChecker | None = None,
        feature_drift_metrics: Mapping[str, cloudwatch.IMetric] | None = None,
        drift_warning: float = 0.1,
        drift_significant: float = 0.2,
        drift_metric_label: str = "PSI",
        accuracy_threshold: float = 0.85,
        quality_namespace: str = mm.NAMESPACE,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not isinstance(endpoint_name, str) or not endpoint_name:
            raise invalid(_OWNER, "endpoint_name", endpoint_name, "a SageMaker endpoint name or a token")
        if not isinstance(model_name, str) or not model_name.strip():
            raise invalid(_OWNER, "model_name", model_name, "the ModelName dimension of the quality metrics")
        if dashboard_name is not None:
            require_pattern(_OWNER, "dashboard_name", dashboard_name, _DASHBOARD_NAME_RE,
                            "1-255 of letters, digits, '-' and '_'")
        if feature_drift_metrics is None:
            feature_drift_metrics = (
                {f: drift_checker.metric_feature_drift(f) for f in drift_checker.feature_names} if drift_checker else {}
            )
        if not isinstance(feature_drift_metrics, Mapping):
            raise invalid(_OWNER, "feature_drift_metrics", feature_drift_metrics,
                          "a mapping of feature name to cloudwatch.IMetric")
        alarms = list(alarms)

        def endpoint(name: str, statistic: str, label: str) -> cloudwatch.Metric:
            return endpoint_metric(endpoint_name, variant_name, name, statistic=statistic, label=label)

        def quality(name: str, label: str) -> cloudwatch.Metric:
            return quality_metric(name, model_name=model_name, endpoint_name=endpoint_name,
                                  namespace=quality_namespace, label=label)

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name, default_interval=Duration.days(7)
        )
        self.dashboard.add_widgets(cloudwatch.TextWidget(
            markdown=f"# Model {model_name}\nEndpoint performance, feature drift, model quality and alarms "
            f"of variant `{variant_name}`.",
            width=WIDTH, height=2,
        ))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Endpoint latency (microseconds)",
                left=[endpoint("ModelLatency", "p50", "model p50"), endpoint("ModelLatency", "p99", "model p99"),
                      endpoint("OverheadLatency", "p99", "overhead p99")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Invocations", left=[endpoint("Invocations", "Sum", "invocations")], width=8
            ),
            cloudwatch.GraphWidget(
                title="Errors",
                left=[endpoint("Invocation4XXErrors", "Sum", "4XX"), endpoint("Invocation5XXErrors", "Sum", "5XX")],
                width=8,
            ),
        )
        drift_widgets: list[cloudwatch.IWidget] = []
        if feature_drift_metrics:
            drift_widgets.append(cloudwatch.GraphWidget(
                title=f"Feature drift ({drift_metric_label})",
                left=[_labelled(m, f) for f, m in feature_drift_metrics.items()],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=drift_warning, label="warning",
                                                    color=cloudwatch.Color.ORANGE),
                    cloudwatch.HorizontalAnnotation(value=drift_significant, label="significant",
                                                    color=cloudwatch.Color.RED),
                ],
                left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                width=16 if drift_checker else WIDTH,
            ))
        if drift_checker is not None:
            drift_widgets.append(cloudwatch.GraphWidget(
                title="Drift checker: records per run",
                left=[drift_checker.metric_records_analyzed(label="analysed"),
                      drift_checker.metric_malformed_records(label="malformed")],
                width=8,
            ))
        if drift_widgets:
            self.dashboard.add_widgets(*drift_widgets)
        self.dashboard.add_widgets(cloudwatch.GraphWidget(
            title="Model quality (ground truth)",
            left=[quality(mm.METRIC_ACCURACY, "accuracy"), quality(mm.METRIC_PRECISION, "precision"),
                  quality(mm.METRIC_RECALL, "recall")],
            left_annotations=[cloudwatch.HorizontalAnnotation(value=accuracy_threshold, label="accuracy threshold",
                                                               color=cloudwatch.Color.RED)],
            left_y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False),
            width=WIDTH,
        ))
        if alarms:
            self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=alarms, width=WIDTH, height=max(2, 1 + (len(alarms) + 3) // 4),
                sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            ))

    @property
    def dashboard_name(self) -> str:
        return self.dashboard.dashboard_name


def _labelled(metric: Any, label: str) -> cloudwatch.IMetric:
    return metric.with_(label=label) if hasattr(metric, "with_") else metric
