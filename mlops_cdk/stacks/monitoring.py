"""Monitoring of one model's endpoint at one stage: Model Monitor and/or the own drift checker, alarms, dashboard."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from .. import locations
from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.monitoring.clarify_monitors import BiasMonitor, FeatureAttributionMonitor
from ..constructs.monitoring.data_quality import DataQualityMonitor
from ..constructs.monitoring.drift_checker import DriftChecker
from ..constructs.monitoring.model_alarms import ModelAlarms
from ..constructs.monitoring.model_dashboard import ModelDashboard
from ..constructs.monitoring.model_quality import ModelQualityMonitor
from ..constructs.monitoring.monitor_base import MonitorBase
from ..constructs.monitoring.quality_metrics import QualityMetrics
from ..constructs.serving.monitored_endpoint import MonitoredEndpoint
from ..settings.monitoring import BiasOptions, FeatureAttributionOptions, ModelQualityOptions, MonitorSchedule
from .foundation import apply_standard_tags, stack_props
from .resources import PlatformResources

_OWNER = "MonitoringStack"


class MonitoringStack(Stack):
    """Watches ``endpoint`` (a ``MonitoredEndpoint``: the endpoint and where its traffic is captured).

    ``config.monitoring_mode`` chooses the drift detection:

    * ``model_monitor`` -- SageMaker Model Monitor: a ``DataQualityMonitor``
      (``data_quality_schedule``, hourly) against the baselines of the approved model;
      feature-drift alarms read its ``feature_baseline_drift_<f>`` metrics (Model Monitor's
      distribution distance, compared with the same thresholds);
    * ``own`` -- the library's ``DriftChecker`` (PSI every ``config.drift_window_hours``), no
      Model Monitor at all (for accounts where Model Monitor is unavailable);
    * ``both`` -- both; alarms and the dashboard read the checker's PSI.

    Model Monitor needs a live endpoint: while ``endpoint.deployed`` is False, ``model_monitor``
    and ``both`` run as ``own`` (an info annotation says so, and the ``DriftCheckerSilent``
    alarm says, truthfully, that nothing is monitored yet).

    With Model Monitor, ``model_quality`` / ``bias`` / ``feature_attribution`` (options objects)
    add those monitors; ground truth is read under ``ground_truth_prefix`` of the data bucket.
    In every mode: ``ModelAlarms`` notifying ``resources.alert_topic`` and a ``ModelDashboard``.
    Monitoring jobs run as ``resources.execution_role`` and write under
    ``locations.MONITORING_REPORTS`` of ``resources.data_bucket``, encrypted with
    ``resources.data_key``. Mode, features, drift thresholds and window and the accuracy
    threshold come from ``config`` only. A deployed endpoint is referenced, so this stack
    depends on the stack that serves it.

    Exposes ``mode``, ``monitors`` (and ``data_quality``, ``model_quality``, ``bias``,
    ``feature_attribution``), ``drift_checker``, ``alarms`` (a ``ModelAlarms``) and
    ``dashboard``; outputs ``DashboardName`` and ``ModelUnhealthyAlarmArn``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        resources: PlatformResources,
        endpoint: MonitoredEndpoint,
        data_quality_schedule: MonitorSchedule = MonitorSchedule.hourly(),
        ground_truth_prefix: str = locations.GROUND_TRUTH,
        model_quality: ModelQualityOptions | None = None,
        bias: BiasOptions | None = None,
        feature_attribution: FeatureAttributionOptions | None = None,
        monitor_instance_type: str = "ml.m5.xlarge",
        latency_p99_threshold: Duration = Duration.seconds(1),
        errors_5xx_threshold: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **stack_props(config, "monitoring", kwargs))
        self.config = config
        self.endpoint = endpoint
        options = {"model_quality": model_quality, "bias": bias, "feature_attribution": feature_attribution}
        if config.monitoring_mode == "own":
            given = next((k for k, v in options.items() if v is not None), None)
            if given is not None:
                raise invalid(_OWNER, given, options[given],
                              "None when config.monitoring_mode is 'own' (Model Monitor is not used)")
        self.mode = config.monitoring_mode if endpoint.deployed and endpoint.captures else "own"
        if self.mode != config.monitoring_mode:
            why = (f"until the endpoint is deployed (serving.{config.stage}.model_package_arn)" if not endpoint.deployed
                   else "while the endpoint captures no data (serverless variants cannot)")
            Annotations.of(self).add_info(
                f"monitoring_mode '{config.monitoring_mode}' runs as 'own' {why}: Model Monitor schedules (data and "
                "model quality, bias, feature attribution) need a live endpoint that captures its traffic")

        self.monitors: list[MonitorBase] = []
        self.data_quality = self.model_quality = self.bias = self.feature_attribution = None
        if self.mode in ("model_monitor", "both"):
            self._model_monitors(config, resources, endpoint, data_quality_schedule, ground_truth_prefix,
                                 model_quality, bias, feature_attribution, monitor_instance_type)
        self.drift_checker: DriftChecker | None = None
        if self.mode in ("own", "both"):
            self.drift_checker = DriftChecker(
                self,
                "DriftChecker",
                endpoint=endpoint.endpoint,
                model_name=config.model_name,
                feature_names=config.monitoring_features,
                capture_bucket=endpoint.capture_bucket,
                capture_prefix=endpoint.capture_prefix,
                capture_key=endpoint.capture_key,
                baseline_bucket=resources.data_bucket,
                report_bucket=resources.data_bucket,
                encryption_key=resources.data_key,
                window=config.drift_window,
                threshold=config.drift_threshold,
                warning_threshold=config.drift_warning_threshold,
            )
        self._alarms_and_dashboard(config, resources, endpoint, latency_p99_threshold, errors_5xx_threshold)
        apply_standard_tags(self, config)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name, description="CloudWatch dashboard")
        if self.alarms.model_unhealthy is not None:
            CfnOutput(self, "ModelUnhealthyAlarmArn", value=self.alarms.model_unhealthy.alarm_arn,
                      description="Composite alarm: the model is unhealthy")

    def _model_monitors(self, config: PlatformConfig, resources: PlatformResources, endpoint: MonitoredEndpoint,
                        schedule: MonitorSchedule, ground_truth_prefix: str, model_quality: ModelQualityOptions | None,
                        bias: BiasOptions | None, feature_attribution: FeatureAttributionOptions | None,
                        instance_type: str) -> None:
        common: dict[str, Any] = {
            "endpoint": endpoint.endpoint,
            "role": resources.execution_role,
            "output_bucket": resources.data_bucket,
            "output_prefix": locations.MONITORING_REPORTS,
            "encryption_key": resources.data_key,
            "capture_bucket": endpoint.capture_bucket,
            "capture_prefix": endpoint.capture_prefix,
            "capture_key": endpoint.capture_key,
            "instance_type": instance_type,
        }
        truth = {"ground_truth_bucket": resources.data_bucket, "ground_truth_prefix": ground_truth_prefix}
        self.data_quality = DataQualityMonitor(self, "DataQuality", schedule=schedule,
                                               schedule_name=f"{config.prefix}-data-quality", **common)
        self.monitors.append(self.data_quality)
        if model_quality is not None:
            self.model_quality = ModelQualityMonitor(self, "ModelQuality", options=model_quality,
                                                     schedule_name=f"{config.prefix}-model-quality", **truth, **common)
            self.monitors.append(self.model_quality)
        if bias is not None:
            self.bias = BiasMonitor(self, "Bias", options=bias, schedule_name=f"{config.prefix}-bias", **truth, **common)
            self.monitors.append(self.bias)
        if feature_attribution is not None:
            self.feature_attribution = FeatureAttributionMonitor(
                self, "FeatureAttribution", options=feature_attribution,
                schedule_name=f"{config.prefix}-attribution", **common)
            self.monitors.append(self.feature_attribution)

    def _alarms_and_dashboard(self, config: PlatformConfig, resources: PlatformResources, endpoint: MonitoredEndpoint,
                              latency_p99_threshold: Duration, errors_5xx_threshold: int) -> None:
        checker, features = self.drift_checker, config.monitoring_features
        if checker is not None:
            drift = {f: checker.metric_feature_drift(f) for f in features}
            drift_label = "PSI"
        else:
            assert self.data_quality is not None
            drift = {f: self.data_quality.metric_feature_baseline_drift(f) for f in features}
            drift_label = "Model Monitor baseline drift"
        quality = QualityMetrics(config.model_name, endpoint.endpoint_name)
        metrics = endpoint.metrics
        subject = f"model {config.model_name} on endpoint {endpoint.endpoint_name}/{endpoint.variant_name}"
        self.alarms = ModelAlarms(
            self,
            "Alarms",
            alert_topic=resources.alert_topic,
            feature_drift=drift,
            drift_threshold=config.drift_threshold,
            drift_warning_threshold=config.drift_warning_threshold,
            drift_metric_label=drift_label,
            records_analyzed=checker.metric_records_analyzed(statistic="SampleCount") if checker else None,
            drift_window=config.drift_window,
            accuracy=quality.metric_accuracy(),
            accuracy_threshold=config.accuracy_threshold,
            model_latency_p99=metrics.metric_model_latency(statistic="p99"),
            latency_p99_threshold=latency_p99_threshold,
            invocation_5xx_errors=metrics.metric_invocation_5xx_errors(),
            errors_5xx_threshold=errors_5xx_threshold,
            monitoring_schedules=[m.schedule for m in self.monitors],
            subject=subject,
            alarm_name_prefix=config.prefix,
        )
        alarms: list[cloudwatch.IAlarm] = [*self.alarms.alarms]
        if self.alarms.model_unhealthy is not None:
            alarms.append(self.alarms.model_unhealthy)
        self.dashboard = ModelDashboard(
            self,
            "Dashboard",
            title=f"Model {config.model_name}\nEndpoint performance, feature drift, model quality and alarms of "
                  f"variant `{endpoint.variant_name}`.",
            latency=[metrics.metric_model_latency(statistic="p50", label="model p50"),
                     metrics.metric_model_latency(statistic="p99", label="model p99"),
                     metrics.metric_overhead_latency(statistic="p99", label="overhead p99")],
            invocations=[metrics.metric_invocations(label="invocations")],
            errors=[metrics.metric_invocation_4xx_errors(label="4XX"),
                    metrics.metric_invocation_5xx_errors(label="5XX")],
            feature_drift={f: m.with_(label=f) for f, m in drift.items()},
            drift_threshold=config.drift_threshold,
            drift_warning_threshold=config.drift_warning_threshold,
            drift_metric_label=drift_label,
            drift_runs=[checker.metric_records_analyzed(label="analysed"),
                        checker.metric_malformed_records(label="malformed")] if checker else [],
            quality=[quality.metric_accuracy(label="accuracy"), quality.metric_precision(label="precision"),
                     quality.metric_recall(label="recall")],
            accuracy_threshold=config.accuracy_threshold,
            alarms=alarms,
            dashboard_name=f"{config.prefix}-model",
        )
