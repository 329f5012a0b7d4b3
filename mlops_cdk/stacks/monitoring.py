"""Monitoring of one model's endpoint at one stage: the own checkers and/or Model Monitor, alarms, dashboard."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Annotations, CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import locations
from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.monitoring.bias_drift_checker import BiasDriftChecker
from ..constructs.monitoring.clarify_monitors import BiasMonitor, FeatureAttributionMonitor
from ..constructs.monitoring.data_quality import DataQualityMonitor
from ..constructs.monitoring.drift_checker import DriftChecker
from ..constructs.monitoring.model_alarms import ModelAlarms
from ..constructs.monitoring.model_dashboard import ModelDashboard
from ..constructs.monitoring.model_quality import ModelQualityMonitor
from ..constructs.monitoring.model_quality_checker import ModelQualityChecker
from ..constructs.monitoring.monitor_base import MonitorBase
from ..constructs.monitoring.quality_metrics import QualityMetrics
from ..constructs.serving.monitored_endpoint import MonitoredEndpoint
from ..regions import MODEL_MONITOR, capability_available, decided_at_deploy, gate_optional, missing_types
from ..regions import require_capabilities
from ..settings import model_monitor_jobs as jobs
from ..settings.monitoring import BiasOptions, FeatureAttributionOptions, ModelQualityOptions, MonitorSchedule
from .foundation import apply_standard_tags, stack_props
from .resources import PlatformResources

_OWNER = "MonitoringStack"


class MonitoringStack(Stack):
    """Watches ``endpoint`` (a ``MonitoredEndpoint``: the endpoint and where its traffic is captured).

    ``config.monitoring_mode`` chooses who checks it. AWS no longer opens SageMaker Model Monitor
    (nor Clarify monitoring) to new customers, so the library's own checkers are the default:

    * ``own`` -- a ``DriftChecker`` (PSI every ``drift_window_hours``), a ``ModelQualityChecker``
      (captured predictions joined with ground truth: accuracy ... AUC, or MAE ... R², every
      ``quality_window_hours`` for the window that ended ``ground_truth_delay_hours`` ago) and,
      with ``bias_facets``, a ``BiasDriftChecker`` (DPPL, DI, RD, AD per facet against the
      training baseline); no Model Monitor at all;
    * ``model_monitor`` -- SageMaker Model Monitor, for accounts that have it: a
      ``DataQualityMonitor`` (``data_quality_schedule``, hourly) and, from the same keys, a
      ``ModelQualityMonitor`` when ``ground_truth_s3_uri`` is set, a ``BiasMonitor`` per bias
      facet and a ``FeatureAttributionMonitor`` with ``explainability`` (the options may also be
      given as ``model_quality`` / ``bias`` / ``feature_attribution``); alarms read its metrics;
    * ``both`` -- both; alarms and the dashboard read the own checkers'.

    Model Monitor needs a live endpoint that captures its traffic: until then the Model Monitor
    modes run as ``own`` (an info annotation says so). Labels are read from
    ``config.ground_truth_s3_uri`` (default ``ground-truth/`` of ``resources.data_bucket``; a
    bucket of your own must be readable with SSE-S3 or a key whose policy lets the checker's role decrypt).

    In every mode: ``ModelAlarms`` notifying ``resources.alert_topic`` and a ``ModelDashboard``.
    Jobs and checkers write under ``resources.data_bucket``, encrypted with ``resources.data_key``;
    Model Monitor jobs run as ``resources.execution_role``. A deployed endpoint is referenced, so
    this stack depends on the stack that serves it. With ``resources.network``, the checkers' Lambdas and
    the Model Monitor and Clarify jobs run in its subnets (the jobs share ``MonitoringJobsSecurityGroup``
    unless the network brings its own groups); jobs keep their network isolation (all but Clarify's
    feature attribution, which calls a shadow endpoint).

    Exposes ``mode``, ``monitors`` (and ``data_quality``, ``model_quality``, ``bias`` (the first
    bias monitor), ``bias_monitors``, ``feature_attribution``), ``drift_checker``,
    ``quality_checker``, ``bias_checker``, ``alarms`` (a ``ModelAlarms``) and ``dashboard``;
    outputs ``DashboardName`` and ``ModelUnhealthyAlarmArn``.
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
        model_quality: ModelQualityOptions | None = None,
        bias: BiasOptions | None = None,
        feature_attribution: FeatureAttributionOptions | None = None,
        monitor_instance_type: str = "ml.m5.xlarge",
        latency_threshold: Duration = Duration.seconds(1),
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
            if config.explainability is not None:
                Annotations.of(self).add_warning(
                    "explainability configures Clarify's feature-attribution job, which runs only in monitoring_mode "
                    "'model_monitor' or 'both' (there is no own checker for it): ignored in mode 'own'")
        self.mode = config.monitoring_mode if endpoint.deployed and endpoint.captures else "own"
        if self.mode != config.monitoring_mode:
            why = (f"until the endpoint is deployed (serving.{config.stage}.model_package_arn)" if not endpoint.deployed
                   else "while the endpoint captures no data (serverless variants cannot)")
            Annotations.of(self).add_info(
                f"monitoring_mode '{config.monitoring_mode}' runs as 'own' {why}: Model Monitor schedules (data and "
                "model quality, bias, feature attribution) need a live endpoint that captures its traffic")

        if self.mode == "model_monitor":
            require_capabilities(self, [MODEL_MONITOR], why="monitoring_mode 'model_monitor'")
        elif self.mode == "both" and not capability_available(self, MODEL_MONITOR):
            Annotations.of(self).add_info(
                f"monitoring_mode 'both' runs as 'own' in {self.region}: its CloudFormation has no SageMaker Model "
                f"Monitor ({', '.join(missing_types(MODEL_MONITOR, self.region))})")
            self.mode = "own"

        self.ground_truth_bucket, self.ground_truth_prefix = self._ground_truth(config, resources)
        self.monitors: list[MonitorBase] = []
        self.bias_monitors: list[BiasMonitor] = []
        self.data_quality = self.model_quality = self.bias = self.feature_attribution = None
        if self.mode in ("model_monitor", "both"):
            self._model_monitors(config, resources, endpoint, data_quality_schedule, model_quality, bias,
                                 feature_attribution, monitor_instance_type)
        self.drift_checker: DriftChecker | None = None
        self.quality_checker: ModelQualityChecker | None = None
        self.bias_checker: BiasDriftChecker | None = None
        if self.mode in ("own", "both"):
            self._own_checkers(config, resources, endpoint)
        self._alarms_and_dashboard(config, resources, endpoint, latency_threshold, errors_5xx_threshold)
        if self.mode == "both":  # region-agnostic: Model Monitor is left out where CloudFormation lacks it
            failures = (self.alarms.monitoring_failure_rule, self.alarms.monitoring_failure_alarm)
            for part in [*self.monitors, *(f for f in failures if f is not None)]:
                gate_optional(part, MODEL_MONITOR)
        apply_standard_tags(self, config)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name, description="CloudWatch dashboard")
        if self.alarms.model_unhealthy is not None:
            CfnOutput(self, "ModelUnhealthyAlarmArn", value=self.alarms.model_unhealthy.alarm_arn,
                      description="Composite alarm: the model is unhealthy")

    def _ground_truth(self, config: PlatformConfig, resources: PlatformResources) -> tuple[s3.IBucket, str]:
        bucket_name, prefix = config.ground_truth_location()
        if bucket_name is None:
            return resources.data_bucket, prefix
        return s3.Bucket.from_bucket_name(self, "GroundTruthBucket", bucket_name), prefix

    def _own_checkers(self, config: PlatformConfig, resources: PlatformResources, endpoint: MonitoredEndpoint) -> None:
        capture = {"capture_bucket": endpoint.capture_bucket, "capture_prefix": endpoint.capture_prefix,
                   "capture_key": endpoint.capture_key}
        self.drift_checker = DriftChecker(
            self, "DriftChecker", endpoint=endpoint.endpoint, model_name=config.model_name,
            feature_names=config.monitoring_features, **capture, baseline_bucket=resources.data_bucket,
            report_bucket=resources.data_bucket, encryption_key=resources.data_key, window=config.drift_window,
            threshold=config.drift_threshold, warning_threshold=config.drift_warning_threshold,
            network=resources.network)
        common: dict[str, Any] = {
            "endpoint": endpoint.endpoint, "model_name": config.model_name, "problem_type": config.problem_type,
            **capture, "ground_truth_prefix": self.ground_truth_prefix, "report_bucket": resources.data_bucket,
            "encryption_key": resources.data_key, "window": config.quality_window,
            "label_delay": config.ground_truth_delay, "network": resources.network,
        }
        self.quality_checker = ModelQualityChecker(self, "QualityChecker", ground_truth_bucket=self.ground_truth_bucket,
                                                   **common)
        if config.bias_facets:
            self.bias_checker = BiasDriftChecker(
                self, "BiasChecker", facets=config.bias_facets, feature_names=config.monitoring_features,
                ground_truth_bucket=self.ground_truth_bucket, baseline_bucket=resources.data_bucket,
                drift_threshold=config.bias_drift_threshold, **common)

    def _model_monitors(self, config: PlatformConfig, resources: PlatformResources, endpoint: MonitoredEndpoint,
                        schedule: MonitorSchedule, model_quality: ModelQualityOptions | None,
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
        if resources.network is not None:  # every job in the network, one group for all of them
            common["subnets"] = resources.network.selected_subnets()
            common["security_groups"] = resources.network.security_groups_for(
                self, "MonitoringJobsSecurityGroup", description=f"Model Monitor and Clarify jobs of {config.prefix}: "
                                                                 "HTTPS out only")
        truth = {"ground_truth_bucket": self.ground_truth_bucket, "ground_truth_prefix": self.ground_truth_prefix}
        delay = config.ground_truth_delay_hours
        self.data_quality = DataQualityMonitor(self, "DataQuality", schedule=schedule,
                                               schedule_name=f"{config.prefix}-data-quality", **common)
        self.monitors.append(self.data_quality)
        if model_quality is None and config.ground_truth_s3_uri is not None:
            model_quality = jobs.model_quality_options(config.problem_type, delay)
        if model_quality is not None:
            self.model_quality = ModelQualityMonitor(self, "ModelQuality", options=model_quality,
                                                     schedule_name=f"{config.prefix}-model-quality", **truth, **common)
            self.monitors.append(self.model_quality)
        facets = [(None, bias)] if bias is not None else [
            (facet.facet, jobs.bias_options(facet, config.monitoring_features, delay)) for facet in config.bias_facets]
        for facet, options in facets:
            one = len(facets) == 1
            monitor = BiasMonitor(self, "Bias" if one else f"Bias{_pascal(facet)}", options=options,
                                  schedule_name=f"{config.prefix}-bias" + ("" if one else f"-{facet}"),
                                  **truth, **common)
            self.bias_monitors.append(monitor)
            self.monitors.append(monitor)
        self.bias = self.bias_monitors[0] if self.bias_monitors else None
        if feature_attribution is None and config.explainability is not None:
            if endpoint.model_name is None:
                Annotations.of(self).add_warning(
                    "explainability needs the literal name of the SageMaker model the endpoint serves "
                    "(MonitoredEndpoint.model_name), which this endpoint does not give: no feature-attribution job")
            else:
                feature_attribution = jobs.feature_attribution_options(
                    config.explainability, endpoint.model_name, config.monitoring_features)
        if feature_attribution is not None:
            self.feature_attribution = FeatureAttributionMonitor(
                self, "FeatureAttribution", options=feature_attribution,
                schedule_name=f"{config.prefix}-attribution", **common)
            self.monitors.append(self.feature_attribution)

    def _quality_metrics(self, config: PlatformConfig, endpoint: MonitoredEndpoint) -> QualityMetrics | None:
        """Who publishes model quality: the own checker, else labels published by the team (``publish_custom_metrics``).

        A Model Monitor model-quality job publishes its own names (see ``self.model_quality``).
        """
        if self.quality_checker is not None:
            return self.quality_checker.quality
        return None if self.model_quality is not None else QualityMetrics(config.model_name, endpoint.endpoint_name)

    def _alarms_and_dashboard(self, config: PlatformConfig, resources: PlatformResources, endpoint: MonitoredEndpoint,
                              latency_threshold: Duration, errors_5xx_threshold: int) -> None:
        checker, features = self.drift_checker, config.monitoring_features
        if checker is not None:
            drift = {f: checker.metric_feature_drift(f) for f in features}
            drift_label = "PSI"
        else:
            assert self.data_quality is not None
            drift = {f: self.data_quality.metric_feature_baseline_drift(f) for f in features}
            drift_label = "Model Monitor baseline drift"
        classifier = config.problem_type != "Regression"
        quality = self._quality_metrics(config, endpoint)
        if quality is not None:
            accuracy = quality.metric_accuracy() if classifier else None
            quality_row = ([quality.metric_accuracy(label="accuracy"), quality.metric_precision(label="precision"),
                            quality.metric_recall(label="recall"), quality.metric_f1(label="F1"),
                            quality.metric_auc(label="AUC")] if classifier else [quality.metric_r2(label="R²")])
            error_row = [] if classifier else [quality.metric_mae(label="MAE"), quality.metric_rmse(label="RMSE")]
        else:
            assert self.model_quality is not None
            monitor = self.model_quality
            accuracy = monitor.metric_accuracy() if classifier else None
            quality_row = ([monitor.metric(m, label=m) for m in ("accuracy", "precision", "recall", "f1", "auc")]
                           if classifier else [monitor.metric("r2", label="R²")])
            error_row = [] if classifier else [monitor.metric("mae", label="MAE"), monitor.metric("rmse", label="RMSE")]
        labels = [] if self.quality_checker is None else [
            self.quality_checker.metric_labelled_records(label="labelled"),
            self.quality_checker.metric_unlabelled_predictions(label="unlabelled"),
            self.quality_checker.metric_malformed_lines(label="malformed lines")]
        bias = self.bias_checker
        bias_drift = {} if bias is None else {f.facet: bias.metric_max_bias_drift(f.facet) for f in bias.facets}
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
            accuracy=accuracy,
            accuracy_threshold=config.accuracy_threshold,
            bias_drift=bias_drift,
            bias_drift_threshold=config.bias_drift_threshold,
            model_latency=metrics.metric_model_latency(),  # Average: AWS documents no percentile for it
            latency_threshold=latency_threshold,
            invocation_5xx_errors=metrics.metric_invocation_5xx_errors(),
            errors_5xx_threshold=errors_5xx_threshold,
            monitoring_schedules=[m.schedule for m in self.monitors],
            subject=subject,
            alarm_name_prefix=config.prefix,
        )
        optional = self.mode == "both" and decided_at_deploy(self, MODEL_MONITOR)  # not on the dashboard then
        alarms: list[cloudwatch.IAlarm] = [a for a in self.alarms.alarms
                                           if not (optional and a is self.alarms.monitoring_failure_alarm)]
        if self.alarms.model_unhealthy is not None:
            alarms.append(self.alarms.model_unhealthy)
        self.dashboard = ModelDashboard(
            self,
            "Dashboard",
            title=f"Model {config.model_name}\nEndpoint performance, feature drift, model quality and alarms of "
                  f"variant `{endpoint.variant_name}`.",
            latency=[metrics.metric_model_latency(label="model average"),
                     metrics.metric_model_latency(statistic="Maximum", label="model max"),
                     metrics.metric_overhead_latency(label="overhead average")],
            invocations=[metrics.metric_invocations(label="invocations")],
            errors=[metrics.metric_invocation_4xx_errors(label="4XX"),
                    metrics.metric_invocation_5xx_errors(label="5XX")],
            # No instances to count on a serverless variant.
            instances=[] if config.serving_settings.serverless is not None else [
                metrics.metric_instances_reporting(), metrics.metric_instance_count()],
            feature_drift={f: m.with_(label=f) for f, m in drift.items()},
            drift_threshold=config.drift_threshold,
            drift_warning_threshold=config.drift_warning_threshold,
            drift_metric_label=drift_label,
            drift_runs=[checker.metric_records_analyzed(label="analysed"),
                        checker.metric_malformed_records(label="malformed")] if checker else [],
            quality=quality_row,
            accuracy_threshold=config.accuracy_threshold if classifier else None,
            model_error=error_row,
            labels=labels,
            bias=[] if bias is None else [bias.metric_bias_value(f.facet, m, label=f"{f.facet} {m}")
                                          for f in bias.facets for m in ("DPPL", "DI")],
            bias_drift={f: m.with_(label=f) for f, m in bias_drift.items()},
            bias_drift_threshold=config.bias_drift_threshold,
            alarms=alarms,
            dashboard_name=f"{config.prefix}-model",
        )

def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]+", name) if part)
