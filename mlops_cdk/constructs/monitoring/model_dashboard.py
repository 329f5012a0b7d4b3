"""A CloudWatch dashboard for one deployed model: endpoint performance, drift, quality, alarms; built from metrics."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from ..._validation import invalid, require_drift_thresholds, require_fraction, require_pattern

_OWNER = "ModelDashboard"
_DASHBOARD_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
WIDTH = 24  # dashboard grid width


class ModelDashboard(Construct):
    """A CloudWatch dashboard with up to four rows; each graph shows the metrics given, under their labels.

    1. endpoint performance: ``latency`` (e.g. model p50/p99, overhead p99, microseconds),
       ``invocations``, ``errors`` (4XX, 5XX) and ``instances`` (the variant's instance count, e.g.
       ``EndpointMetrics.metric_instances_reporting`` and ``metric_instance_count``);
    2. feature drift: one line per feature of ``feature_drift`` with ``drift_warning_threshold``
       and ``drift_threshold`` drawn (``drift_metric_label`` names the measure), next to
       ``drift_runs`` (e.g. records analysed and malformed per run);
    3. model quality: ``quality`` (0-1, e.g. accuracy, precision, recall) with ``accuracy_threshold`` drawn,
       ``model_error`` (unbounded, e.g. a regression's MAE and RMSE) and ``labels`` (e.g. labelled and
       unlabelled predictions per run);
    4. bias: ``bias`` (e.g. DPPL and DI per facet) next to ``bias_drift`` (facet -> drift from the
       training baseline) with ``bias_drift_threshold`` drawn;
    5. the state of ``alarms``.

    Rows without metrics are left out. ``title`` heads the dashboard (markdown);
    ``dashboard_name`` defaults to a generated one. Exposes ``dashboard`` and ``dashboard_name``.
    Periods are the metrics' own (see ``model_alarms``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        title: str,
        latency: Sequence[cloudwatch.IMetric] = (),
        invocations: Sequence[cloudwatch.IMetric] = (),
        errors: Sequence[cloudwatch.IMetric] = (),
        instances: Sequence[cloudwatch.IMetric] = (),
        feature_drift: Mapping[str, cloudwatch.IMetric] | None = None,
        drift_threshold: float = 0.2,
        drift_warning_threshold: float = 0.1,
        drift_metric_label: str = "PSI",
        drift_runs: Sequence[cloudwatch.IMetric] = (),
        quality: Sequence[cloudwatch.IMetric] = (),
        accuracy_threshold: float | None = None,
        model_error: Sequence[cloudwatch.IMetric] = (),
        labels: Sequence[cloudwatch.IMetric] = (),
        bias: Sequence[cloudwatch.IMetric] = (),
        bias_drift: Mapping[str, cloudwatch.IMetric] | None = None,
        bias_drift_threshold: float | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not isinstance(title, str) or not title.strip():
            raise invalid(_OWNER, "title", title, "a non-empty markdown heading")
        require_drift_thresholds(_OWNER, drift_threshold, drift_warning_threshold,
                                 names=("drift_threshold", "drift_warning_threshold"))
        for prop, value in (("accuracy_threshold", accuracy_threshold), ("bias_drift_threshold", bias_drift_threshold)):
            if value is not None:
                require_fraction(_OWNER, prop, value)
        if dashboard_name is not None:
            require_pattern(_OWNER, "dashboard_name", dashboard_name, _DASHBOARD_NAME_RE,
                            "1-255 of letters, digits, '-' and '_'")
        feature_drift = dict(feature_drift or {})

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name,
                                              default_interval=Duration.days(7))
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"# {title}", width=WIDTH, height=2))
        counts = cloudwatch.YAxisProps(min=0, show_units=False)
        endpoint = [(name, list(metrics), axis) for name, metrics, axis in (
            ("Endpoint latency (microseconds)", latency, None), ("Invocations", invocations, None),
            ("Errors", errors, None), ("Endpoint instances", instances, counts)) if metrics]
        if endpoint:
            self.dashboard.add_widgets(*[cloudwatch.GraphWidget(title=name, left=metrics, left_y_axis=axis,
                                                                width=WIDTH // len(endpoint))
                                         for name, metrics, axis in endpoint])
        drift: list[cloudwatch.IWidget] = []
        if feature_drift:
            drift.append(cloudwatch.GraphWidget(
                title=f"Feature drift ({drift_metric_label})",
                left=list(feature_drift.values()),
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=drift_warning_threshold, label="warning",
                                                    color=cloudwatch.Color.ORANGE),
                    cloudwatch.HorizontalAnnotation(value=drift_threshold, label="significant",
                                                    color=cloudwatch.Color.RED),
                ],
                left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                width=16 if drift_runs else WIDTH,
            ))
        if drift_runs:
            drift.append(cloudwatch.GraphWidget(title="Drift checker: records per run", left=list(drift_runs),
                                                width=8 if feature_drift else WIDTH))
        if drift:
            self.dashboard.add_widgets(*drift)
        self._row([
            (quality, lambda metrics, width: cloudwatch.GraphWidget(
                title="Model quality (ground truth)", left=metrics, width=width,
                left_annotations=[] if accuracy_threshold is None else [cloudwatch.HorizontalAnnotation(
                    value=accuracy_threshold, label="accuracy threshold", color=cloudwatch.Color.RED)],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False))),
            (model_error, lambda metrics, width: cloudwatch.GraphWidget(
                title="Model error (ground truth)", left=metrics, width=width)),
            (labels, lambda metrics, width: cloudwatch.GraphWidget(
                title="Ground truth per run", left=metrics, width=width)),
        ])
        drifts = dict(bias_drift or {})
        self._row([
            (bias, lambda metrics, width: cloudwatch.GraphWidget(title="Bias (post-training)", left=metrics,
                                                                 width=width)),
            (list(drifts.values()), lambda metrics, width: cloudwatch.GraphWidget(
                title="Bias drift from the training baseline", left=metrics, width=width,
                left_annotations=[] if bias_drift_threshold is None else [cloudwatch.HorizontalAnnotation(
                    value=bias_drift_threshold, label="threshold", color=cloudwatch.Color.RED)])),
        ])
        if alarms:
            self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(alarms), width=WIDTH, height=max(2, 1 + (len(alarms) + 3) // 4),
                sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            ))

    def _row(self, parts: list[tuple[Sequence[cloudwatch.IMetric], Callable[[list[cloudwatch.IMetric], int],
                                                                          cloudwatch.IWidget]]]) -> None:
        """One dashboard row of the graphs whose metrics were given, sharing the width equally."""
        present = [(list(metrics), make) for metrics, make in parts if metrics]
        if present:
            width = WIDTH // len(present)
            self.dashboard.add_widgets(*[make(metrics, width) for metrics, make in present])

    @property
    def dashboard_name(self) -> str:
        return self.dashboard.dashboard_name


__all__ = ["ModelDashboard"]
