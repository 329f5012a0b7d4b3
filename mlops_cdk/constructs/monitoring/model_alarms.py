"""CloudWatch alarms for a deployed model, all notifying one alert topic; they take metrics, not names.

What each alarm watches and what it does when its metric has no data (chosen per alarm,
because "no datapoint" means something different for each metric). Thresholds are the defaults.

| alarm                      | metric (statistic)               | fires when                    | missing data  |
|----------------------------|----------------------------------|-------------------------------|---------------|
| FeatureDrift-<f>           | feature_drift[f] (Maximum)       | >= drift_threshold (0.2)      | IGNORE        |
| FeatureDriftWarning-<f>    | same                             | >= drift_warning_threshold    | IGNORE        |
| DriftCheckerSilent         | records_analyzed (SampleCount)   | < 1 in 2 windows (1 if >12h)  | BREACHING     |
| AccuracyBelowThreshold     | accuracy (Average)               | < accuracy_threshold (0.85)   | IGNORE        |
| BiasDrift-<facet>          | bias_drift[facet] (Maximum)      | >= bias_drift_threshold (0.1) | IGNORE        |
| ModelLatency               | model_latency (Average)          | > 1 s in 2 of 3 periods       | NOT_BREACHING |
| Invocation5XXErrors        | invocation_5xx_errors (Sum)      | >= errors_5xx_threshold (1)   | NOT_BREACHING |
| MonitoringExecutionFailed  | AWS/Events TriggeredRules (Sum)  | >= 1                          | NOT_BREACHING |
| ModelUnhealthy (composite) | ANY of FeatureDrift-*, accuracy, | a member in ALARM             | n/a           |
|                            | BiasDrift-*, latency, 5XX        |                               |               |

Why that missing-data choice:
  * drift: a window without traffic publishes nothing, which says nothing about drift: keep the
    last verdict (silence has its own alarm);
  * DriftCheckerSilent: missing data *is* the failure: the checker did not run or failed, or the
    endpoint had no traffic;
  * accuracy: labels arrive in batches: hours without labels keep the last verdict instead of flapping;
  * bias drift: a bias check runs on labelled windows; a window without data (no traffic, no labels
    yet, no baseline) says nothing about bias: keep the last verdict;
  * latency: no invocations, nothing was slow; 5XX: SageMaker publishes 0 while invoked, so no data
    means no invocations, hence no errors;
  * MonitoringExecutionFailed: EventBridge publishes the metric only when a failure event matched;
  * ModelUnhealthy: its members decide; it also notifies on recovery (OK).

Latency statistic: AWS documents Average, Sum, Min, Max and SampleCount for ``ModelLatency``
(no percentile; SageMaker developer guide, "Amazon SageMaker AI metrics in Amazon CloudWatch"),
so the alarm reads the metric it is given with that metric's statistic, and
``EndpointMetrics.metric_model_latency()`` gives Average: this alarm notifies people, so it
fires on sustained slowness (2 of 3 five-minute averages) rather than on one slow request,
which Maximum would. A percentile still synthesizes, with a warning: it may never have data.

Periods, in one place. An alarm evaluates its metric at the metric's own period:
  * drift: the ``DriftChecker``'s ``window`` (``DriftChecker.metric_*``); Model Monitor's
    ``feature_baseline_drift_<f>``: one hour (``monitor_base.METRIC_PERIOD``);
  * ``records_analyzed``: the window again, which ``drift_window`` must equal;
  * quality: one hour (``quality_metrics.PERIOD``);
  * bias drift: the ``BiasDriftChecker``'s ``window`` (``metric_max_bias_drift``);
  * endpoint latency and errors: 5 minutes (``EndpointMetrics``' default; an endpoint's
    rollback alarms ask for 1 minute);
  * monitoring failures: one hour (``FAILURE_PERIOD``).

Monitoring-execution failures. SageMaker publishes no CloudWatch metric for a failed Model
Monitor execution. Each execution is a processing job started by its schedule, and SageMaker
sends a "SageMaker Processing Job State Change" event. AWS publishes no example of it; like
its training-job sibling, its ``detail`` is taken to mirror ``DescribeProcessingJob``, which
has ``MonitoringScheduleArn`` for jobs a schedule started. Verify once per account: stop a
running execution (``aws sagemaker stop-processing-job``) and expect the notification. With
``monitoring_schedules``, the construct creates a rule on
``ProcessingJobStatus`` Failed or Stopped for exactly those schedules, sends each match to
the alert topic (job name, schedule, status, and the command that shows the reason) and
alarms on the rule's ``TriggeredRules`` so the failure also has an alarm state. The
``FailureReason`` is free text: an input transformer inserts values unescaped into its
template, so it is never put there (as in ``PipelineNotifications``).

The heartbeat and monitoring-failure alarms say the *monitoring* is blind rather than that
the model misbehaves, so they notify on their own and are not members of ``ModelUnhealthy``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct

from ..._validation import (
    invalid,
    require_drift_thresholds,
    require_duration,
    require_feature_names,
    require_fraction,
    require_int,
    require_pattern,
    require_whole_hours,
)
from ...lambdas._shared import contract
from ..common.targets import topic_target
from ..serving.endpoint_metrics import undocumented_latency_statistic

_OWNER = "ModelAlarms"
_NAME_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,127}$")
MONITORING_FAILURE_STATUSES = ("Failed", "Stopped")
FAILURE_PERIOD = Duration.hours(1)
_DAY_S = 86400


class ModelAlarms(Construct):
    """The alarms of one model (see the module table), each notifying ``alert_topic``; built from the metrics given.

    Props:
      * ``alert_topic`` -- an ``sns.ITopic`` (an imported topic's policies must let CloudWatch
        and EventBridge publish);
      * ``feature_drift`` -- feature name -> drift metric: a significant (>= ``drift_threshold``,
        0.2) and a warning (>= ``drift_warning_threshold``, 0.1) alarm per feature;
        ``drift_metric_label`` ("PSI") names the measure in descriptions;
      * ``records_analyzed`` -- the drift checker's heartbeat (SampleCount per window): an alarm
        when no run reported in ``heartbeat_windows`` consecutive ``drift_window``s (default 2,
        1 for windows over 12 h);
      * ``accuracy`` -- below ``accuracy_threshold`` (0.85);
      * ``bias_drift`` -- facet name -> the bias checker's ``MaxBiasDrift`` of that facet
        (``BiasDriftChecker.metric_max_bias_drift(facet)``): an alarm per facet at
        ``bias_drift_threshold`` (0.1; how much further from parity than the training baseline);
      * ``model_latency`` -- above ``latency_threshold`` (1 s) in 2 of 3 periods;
      * ``invocation_5xx_errors`` -- at least ``errors_5xx_threshold`` (1) per period;
      * ``monitoring_schedules`` -- Model Monitor schedules whose failed runs alert and alarm;
      * ``subject`` -- what the descriptions call the model, e.g. ``"model churn on endpoint X"``;
      * ``alarm_name_prefix`` -- alarm names ``<prefix>-<name>`` (default: generated names).

    Exposes ``feature_drift_alarms`` / ``feature_drift_warning_alarms`` (feature -> alarm),
    ``bias_drift_alarms`` (facet -> alarm), ``heartbeat_alarm``, ``accuracy_alarm``,
    ``latency_alarm``, ``errors_5xx_alarm``, ``monitoring_failure_rule``,
    ``monitoring_failure_alarm`` (each None when its metric was not given), ``alarms`` (all
    metric alarms) and ``model_unhealthy`` (the composite, None without members).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alert_topic: sns.ITopic,
        feature_drift: Mapping[str, cloudwatch.IMetric] | None = None,
        drift_threshold: float = 0.2,
        drift_warning_threshold: float = 0.1,
        drift_metric_label: str = "PSI",
        records_analyzed: cloudwatch.IMetric | None = None,
        drift_window: Duration = Duration.hours(24),
        heartbeat_windows: int | None = None,
        accuracy: cloudwatch.IMetric | None = None,
        accuracy_threshold: float = 0.85,
        bias_drift: Mapping[str, cloudwatch.IMetric] | None = None,
        bias_drift_threshold: float = 0.1,
        model_latency: cloudwatch.IMetric | None = None,
        latency_threshold: Duration = Duration.seconds(1),
        invocation_5xx_errors: cloudwatch.IMetric | None = None,
        errors_5xx_threshold: int = 1,
        monitoring_schedules: Sequence[sagemaker_refs.IMonitoringScheduleRef] = (),
        subject: str = "the model",
        alarm_name_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        feature_drift = dict(feature_drift or {})
        if feature_drift:
            require_feature_names(_OWNER, "feature_drift", list(feature_drift))
        bias_drift = dict(bias_drift or {})
        if bias_drift:  # facets are input columns: the feature-name rule
            require_feature_names(_OWNER, "bias_drift", list(bias_drift))
        # (0, 1] as in the checker that publishes the metric: a drift of 1 already means e.g. DPPL from 0 to 1.
        bias_drift_threshold = require_fraction(_OWNER, "bias_drift_threshold", bias_drift_threshold)
        drift_threshold, drift_warning_threshold = require_drift_thresholds(
            _OWNER, drift_threshold, drift_warning_threshold, names=("drift_threshold", "drift_warning_threshold"))
        for prop, value in (("drift_metric_label", drift_metric_label), ("subject", subject)):
            if not isinstance(value, str) or not value.strip():
                raise invalid(_OWNER, prop, value, "a non-empty text for the alarm descriptions")
        window_h = require_whole_hours(_OWNER, "drift_window", drift_window, maximum=contract.MAX_DRIFT_WINDOW_HOURS)
        windows = self._heartbeat_windows(records_analyzed, drift_window, window_h, heartbeat_windows)
        require_fraction(_OWNER, "accuracy_threshold", accuracy_threshold)
        require_duration(_OWNER, "latency_threshold", latency_threshold, minimum=Duration.millis(1),
                         maximum=Duration.hours(1))
        require_int(_OWNER, "errors_5xx_threshold", errors_5xx_threshold, minimum=1)
        if isinstance(monitoring_schedules, str) or not isinstance(monitoring_schedules, Sequence):
            raise invalid(_OWNER, "monitoring_schedules", monitoring_schedules,
                          "a list of monitoring schedules (e.g. monitor.schedule)")
        if alarm_name_prefix is not None:
            require_pattern(_OWNER, "alarm_name_prefix", alarm_name_prefix, _NAME_PREFIX_RE,
                            "1-128 of letters, digits and . _ -, starting with a letter or digit")

        self._topic = alert_topic
        self._notify = cw_actions.SnsAction(alert_topic)  # stateless: one action object serves every alarm
        self._prefix = alarm_name_prefix
        self.alarms: list[cloudwatch.Alarm] = []
        self.drift_threshold = drift_threshold
        self.drift_warning_threshold = drift_warning_threshold
        gte = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ignore = cloudwatch.TreatMissingData.IGNORE

        self.feature_drift_alarms: dict[str, cloudwatch.IAlarm] = {}
        self.feature_drift_warning_alarms: dict[str, cloudwatch.IAlarm] = {}
        for feature, metric in feature_drift.items():
            self.feature_drift_alarms[feature] = self._alarm(
                f"FeatureDrift-{feature}", f"feature-drift-{feature}", metric, threshold=drift_threshold,
                comparison=gte, missing=ignore,
                description=f"Significant drift of feature '{feature}' of {subject}: {drift_metric_label} >= "
                f"{drift_threshold:g}. The live input distribution moved away from training: check the drift "
                "report and consider retraining.")
            self.feature_drift_warning_alarms[feature] = self._alarm(
                f"FeatureDriftWarning-{feature}", f"feature-drift-warning-{feature}", metric,
                threshold=drift_warning_threshold, comparison=gte, missing=ignore,
                description=f"Moderate drift of feature '{feature}' of {subject}: {drift_metric_label} >= "
                f"{drift_warning_threshold:g}. Watch the trend; no action needed yet.")

        self.heartbeat_alarm = None if records_analyzed is None else self._alarm(
            "DriftCheckerSilent", "drift-checker-silent", records_analyzed, threshold=1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.BREACHING, evaluation_periods=windows,
            description=f"The drift checker of {subject} analysed no record in {windows} window(s) of {window_h} h: "
            "it is not running, failing (see its dead-letter queue and logs), or the endpoint received no "
            "traffic. Drift is unmonitored meanwhile.")
        self.accuracy_alarm = None if accuracy is None else self._alarm(
            "AccuracyBelowThreshold", "accuracy", accuracy, threshold=accuracy_threshold,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, missing=ignore,
            description=f"Accuracy of {subject}, measured on ground-truth labels, fell below "
            f"{accuracy_threshold:g}: the model no longer meets its quality gate.")
        self.bias_drift_alarms: dict[str, cloudwatch.Alarm] = {
            facet: self._alarm(
                f"BiasDrift-{facet}", f"bias-drift-{facet}", metric, threshold=bias_drift_threshold,
                comparison=gte, missing=ignore,
                description=f"Bias drift of facet '{facet}' of {subject}: its predictions moved further from parity "
                f"than on the training baseline (largest of DPPL, DI, RD, AD drift >= {bias_drift_threshold:g}). "
                "Check the bias report; consider retraining or a fairness review.")
            for facet, metric in bias_drift.items()}
        latency_ms = latency_threshold.to_milliseconds()
        self.latency_alarm = None if model_latency is None else self._alarm(
            "ModelLatency", "model-latency", model_latency, threshold=latency_ms * 1000,  # ModelLatency: microseconds
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING, evaluation_periods=3, datapoints_to_alarm=2,
            description=f"{_statistic(model_latency)} model latency of {subject} above {latency_ms:g} ms in 2 of 3 "
            "periods: the model container is too slow (load, instance size, payloads).")
        undocumented = None if model_latency is None else undocumented_latency_statistic(model_latency)
        if undocumented is not None:
            Annotations.of(self).add_warning_v2(
                "mlops-cdk:latencyStatistic",
                f"model_latency reads statistic '{undocumented}': AWS documents Average, Sum, Minimum, Maximum and "
                "SampleCount for ModelLatency/OverheadLatency; if CloudWatch serves no percentile for it, the "
                "latency alarm never fires (missing data is not breaching). Use metric_model_latency() (Average).")
        self.errors_5xx_alarm = None if invocation_5xx_errors is None else self._alarm(
            "Invocation5XXErrors", "5xx-errors", invocation_5xx_errors, threshold=errors_5xx_threshold,
            comparison=gte, missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            description=f"5XX errors of {subject}: at least {errors_5xx_threshold} in a period. The model "
            "container failed requests (see the endpoint's CloudWatch logs).")

        self.monitoring_failure_rule: events.Rule | None = None
        self.monitoring_failure_alarm: cloudwatch.Alarm | None = None
        if monitoring_schedules:
            self._monitoring_failures(list(monitoring_schedules), subject)

        members = [a for a in (*self.feature_drift_alarms.values(), self.accuracy_alarm,
                               *self.bias_drift_alarms.values(), self.latency_alarm, self.errors_5xx_alarm)
                   if a is not None]
        self.model_unhealthy: cloudwatch.CompositeAlarm | None = None
        if members:
            self.model_unhealthy = cloudwatch.CompositeAlarm(
                self, "ModelUnhealthy", composite_alarm_name=self._name("model-unhealthy"),
                alarm_description=f"Unhealthy: {subject} shows significant feature drift, accuracy below threshold, "
                "bias drift, high model latency or 5XX errors (see the member alarms).",
                alarm_rule=cloudwatch.AlarmRule.any_of(
                    *[cloudwatch.AlarmRule.from_alarm(a, cloudwatch.AlarmState.ALARM) for a in members]))
            self.model_unhealthy.add_alarm_action(self._notify)
            self.model_unhealthy.add_ok_action(self._notify)

    # ------------------------------------------------------------- helpers
    @staticmethod
    def _heartbeat_windows(metric: cloudwatch.IMetric | None, window: Duration, window_h: int,
                           windows: int | None) -> int:
        """How many silent windows make the heartbeat alarm fire: CloudWatch evaluates at most one day."""
        if metric is not None:
            stat = metric.to_metric_config().metric_stat
            if stat is not None and stat.period.to_seconds() != window.to_seconds():
                raise invalid(_OWNER, "records_analyzed", stat.period.to_human_string(),
                              f"a metric whose period is drift_window ({window.to_human_string()})")
        if windows is None:
            return 2 if 2 * window_h * 3600 <= _DAY_S else 1
        return require_int(_OWNER, "heartbeat_windows", windows, minimum=1, maximum=_DAY_S // (window_h * 3600))

    def _name(self, suffix: str) -> str | None:
        return f"{self._prefix}-{suffix}" if self._prefix else None

    def _alarm(self, id: str, name: str, metric: cloudwatch.IMetric, *, threshold: float,
               comparison: cloudwatch.ComparisonOperator, missing: cloudwatch.TreatMissingData, description: str,
               evaluation_periods: int = 1, datapoints_to_alarm: int | None = None) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self, id, alarm_name=self._name(name), alarm_description=description, metric=metric,
            threshold=threshold, comparison_operator=comparison, evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm, treat_missing_data=missing)
        alarm.add_alarm_action(self._notify)
        self.alarms.append(alarm)
        return alarm

    def _monitoring_failures(self, schedules: list[sagemaker_refs.IMonitoringScheduleRef], subject: str) -> None:
        self.monitoring_failure_rule = events.Rule(
            self,
            "MonitoringExecutionFailedRule",
            description="Model Monitor executions (processing jobs started by this model's monitoring schedules) "
            "that failed or were stopped",
            event_pattern=events.EventPattern(
                source=[contract.SAGEMAKER_EVENT_SOURCE],
                detail_type=[contract.PROCESSING_JOB_STATE_CHANGE],
                detail={
                    "ProcessingJobStatus": list(MONITORING_FAILURE_STATUSES),
                    "MonitoringScheduleArn": [s.monitoring_schedule_ref.monitoring_schedule_arn for s in schedules],
                },
            ),
        )
        # Only quote-free fields (name, ARN, status): the job's FailureReason is free text, which the
        # transformer would insert unescaped; the command prints it.
        field = events.EventField.from_path
        name = field("$.detail.ProcessingJobName")
        message = events.RuleTargetInput.from_multiline_text("\n".join([
            f"Model Monitor execution {name} of schedule {field('$.detail.MonitoringScheduleArn')} ended "
            f"{field('$.detail.ProcessingJobStatus')}.",
            f"Why: aws sagemaker describe-processing-job --processing-job-name {name} --query FailureReason",
        ]))
        self.monitoring_failure_rule.add_target(topic_target(self._topic, message))
        self.monitoring_failure_alarm = self._alarm(
            "MonitoringExecutionFailed", "monitoring-execution-failed",
            cloudwatch.Metric(namespace="AWS/Events", metric_name="TriggeredRules", statistic="Sum",
                              dimensions_map={"RuleName": self.monitoring_failure_rule.rule_name},
                              period=FAILURE_PERIOD),
            threshold=1, comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            description=f"A Model Monitor execution of {subject} failed or was stopped in the last hour: that check "
            "produced no result (the notification names the job; describe-processing-job shows its FailureReason).")


def _statistic(metric: cloudwatch.IMetric) -> str:
    stat = metric.to_metric_config().metric_stat
    return stat.statistic if stat is not None else "the"


__all__ = ["FAILURE_PERIOD", "MONITORING_FAILURE_STATUSES", "ModelAlarms"]
