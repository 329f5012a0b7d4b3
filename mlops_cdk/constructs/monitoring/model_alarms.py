"""CloudWatch alarms for a deployed model (course 11.8), all notifying the platform's alert topic.

What each alarm watches, and what it does when its metric has no data. Missing
data is chosen per alarm, because "no datapoint" means something different for
each metric:

| alarm                      | metric (statistic, period)                                    | fires when                            | missing data  | why                                                                                                                           |
|----------------------------|---------------------------------------------------------------|---------------------------------------|---------------|-------------------------------------------------------------------------------------------------------------------------------|
| FeatureDrift-<f>           | drift checker FeatureDrift of feature f (Maximum, one window) | PSI >= 0.2                            | IGNORE        | a window without traffic publishes nothing, which says nothing about drift: keep the last verdict (silence has its own alarm) |
| FeatureDriftWarning-<f>    | same                                                          | PSI >= 0.1                            | IGNORE        | same                                                                                                                          |
| DriftCheckerSilent         | RecordsAnalyzed (SampleCount, one window)                     | < 1 in 2 windows (1 if window > 12 h) | BREACHING     | missing data is the failure: the checker did not run or failed, or the endpoint had no traffic                                |
| AccuracyBelowThreshold     | ModelAccuracy of publish_custom_metrics (Average, 1 h)        | < 0.85                                | IGNORE        | labels arrive in batches: hours without labels keep the last verdict instead of flapping                                      |
| LatencyP99                 | AWS/SageMaker ModelLatency (p99, 5 min)                       | > 1 s in 2 of 3                       | NOT_BREACHING | no invocations: nothing was slow                                                                                              |
| Invocation5XXErrors        | AWS/SageMaker Invocation5XXErrors (Sum, 5 min)                | >= 1                                  | NOT_BREACHING | SageMaker publishes 0 while invoked; no data means no invocations, hence no errors                                            |
| MonitoringExecutionFailed  | AWS/Events TriggeredRules of the failure rule (Sum, 1 h)      | >= 1                                  | NOT_BREACHING | EventBridge publishes it only when a failure event matched                                                                    |
| ModelUnhealthy (composite) | ANY of FeatureDrift-*, accuracy, latency, 5XX                 | a member in ALARM                     | n/a           | members decide; it also notifies on recovery (OK)                                                                             |

Thresholds shown are the defaults (all configurable).

Monitoring-execution failures. SageMaker publishes no CloudWatch metric for a
failed Model Monitor execution. Each execution is a processing job started by
its schedule, and SageMaker sends a "SageMaker Processing Job State Change"
event whose detail mirrors ``DescribeProcessingJob``, including the
``MonitoringScheduleArn`` of jobs a schedule started. The construct creates an
EventBridge rule on ``ProcessingJobStatus`` Failed or Stopped for exactly the
given schedule ARNs, sends each matched event to the alert topic (with the job
name, status and ``FailureReason``), and alarms on the rule's
``TriggeredRules`` metric so the failure also has an alarm state.

The drift-checker and monitoring-failure alarms say the *monitoring* is blind
rather than that the model misbehaves, so they notify on their own and are
not members of ``ModelUnhealthy``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import monitoring_metrics as mm
from .._validation import invalid, is_token, require_int, require_pattern
from .alert_topic import AlertTopic
from .drift_checker import DriftChecker, require_drift_thresholds

_OWNER = "ModelAlarms"
SAGEMAKER_NAMESPACE = "AWS/SageMaker"
ENDPOINT_PERIOD = Duration.minutes(5)
_NAME_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,127}$")
_VARIANT_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MONITORING_FAILURE_STATUSES = ("Failed", "Stopped")


def endpoint_metric(endpoint_name: str, variant_name: str, metric_name: str, **props: Any) -> cloudwatch.Metric:
    """An ``AWS/SageMaker`` endpoint metric (dimensions EndpointName, VariantName), 5-minute period by default."""
    props.setdefault("period", ENDPOINT_PERIOD)
    return cloudwatch.Metric(
        namespace=SAGEMAKER_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"EndpointName": endpoint_name, "VariantName": variant_name},
        **props,
    )


def quality_metric(
    metric_name: str, *, model_name: str, endpoint_name: str, namespace: str = mm.NAMESPACE, **props: Any
) -> cloudwatch.Metric:
    """A model-quality metric of ``publish_custom_metrics`` (``ModelAccuracy``, ``ModelPrecision``, ``ModelRecall``)."""
    props.setdefault("period", Duration.hours(1))
    props.setdefault("statistic", "Average")
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={mm.DIMENSION_MODEL_NAME: model_name, mm.DIMENSION_ENDPOINT_NAME: endpoint_name},
        **props,
    )


@jsii.implements(events.IRuleTarget)
class _AlertTopicTarget:
    """Publish to an ``AlertTopic``: its topic and key policies already admit EventBridge of this account."""

    def __init__(self, topic: sns.ITopic, message: events.RuleTargetInput) -> None:
        self._topic = topic
        self._message = message

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._topic.topic_arn, input=self._message)


class ModelAlarms(Construct):
    """The alarms of one model behind one endpoint variant, each notifying ``alert_topic`` (see the module table).

    Creates, depending on the props given:
      * per feature of ``feature_drift_metrics`` (default: the ``drift_checker``'s
        PSI metrics): a significant-drift alarm (>= ``drift_significant``, 0.2)
        and a warning alarm (>= ``drift_warning``, 0.1); ``0 < warning < significant``;
      * with ``drift_checker``: an alarm when it published no ``RecordsAnalyzed``
        datapoint in ``heartbeat_windows`` consecutive windows (not running,
        failing, or no traffic);
      * an accuracy alarm on ``ModelAccuracy`` (``publish_custom_metrics``,
        dimensions ``model_name`` + ``endpoint_name``) below ``accuracy_threshold`` (0.85);
      * p99 ``ModelLatency`` above ``latency_p99_threshold`` (1 s) and
        ``Invocation5XXErrors`` >= ``errors_5xx_threshold`` (1 per 5 minutes) of
        ``endpoint_name`` / ``variant_name``;
      * with ``monitoring_schedule_arns``: the monitoring-execution failure rule and alarm;
      * ``model_unhealthy``: a composite alarm, ANY of the significant-drift,
        accuracy, latency and 5XX alarms.

    Alarm names start with ``alarm_name_prefix`` when given (else CloudFormation
    generates them). Exposes the alarms as attributes and ``alarms`` (all of them).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alert_topic: AlertTopic | sns.ITopic,
        endpoint_name: str,
        model_name: str,
        variant_name: str = "AllTraffic",
        drift_checker: DriftChecker | None = None,
        feature_drift_metrics: Mapping[str, cloudwatch.IMetric] | None = None,
        drift_significant: float = 0.2,
        drift_warning: float = 0.1,
        drift_metric_label: str = "PSI",
        heartbeat_windows: int | None = None,
        accuracy_threshold: float = 0.85,
        quality_namespace: str = mm.NAMESPACE,
        quality_period: Duration = Duration.hours(1),
        latency_p99_threshold: Duration = Duration.seconds(1),
        errors_5xx_threshold: int = 1,
        monitoring_schedule_arns: Sequence[str] = (),
        alarm_name_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        topic = _topic_of(alert_topic)
        if not isinstance(endpoint_name, str) or not endpoint_name:
            raise invalid(_OWNER, "endpoint_name", endpoint_name, "a SageMaker endpoint name or a token")
        if not isinstance(model_name, str) or not model_name.strip():
            raise invalid(_OWNER, "model_name", model_name, "the ModelName dimension of the quality metrics")
        require_pattern(_OWNER, "variant_name", variant_name, _VARIANT_RE, "a production variant name like 'AllTraffic'")
        if drift_checker is not None and not isinstance(drift_checker, DriftChecker):
            raise invalid(_OWNER, "drift_checker", drift_checker, "a DriftChecker or None")
        drift_significant, drift_warning = require_drift_thresholds(_OWNER, drift_significant, drift_warning)
        if feature_drift_metrics is None:
            feature_drift_metrics = (
                {f: drift_checker.metric_feature_drift(f) for f in drift_checker.feature_names} if drift_checker else {}
            )
        if not isinstance(feature_drift_metrics, Mapping) or not all(
            isinstance(k, str) and k and hasattr(v, "to_metric_config") for k, v in feature_drift_metrics.items()
        ):
            raise invalid(_OWNER, "feature_drift_metrics", feature_drift_metrics,
                          "a mapping of feature name to cloudwatch.IMetric")
        if heartbeat_windows is not None:
            require_int(_OWNER, "heartbeat_windows", heartbeat_windows, minimum=1)
        if isinstance(accuracy_threshold, bool) or not isinstance(accuracy_threshold, (int, float)) or not (
            math.isfinite(accuracy_threshold) and 0 < accuracy_threshold <= 1
        ):
            raise invalid(_OWNER, "accuracy_threshold", accuracy_threshold, "a number in (0, 1]")
        _require_duration("quality_period", quality_period, minimum_s=60, maximum_s=86400)
        latency_ms = _require_duration("latency_p99_threshold", latency_p99_threshold, minimum_s=0.001,
                                       maximum_s=3600, unit="milliseconds")
        require_int(_OWNER, "errors_5xx_threshold", errors_5xx_threshold, minimum=1)
        if isinstance(monitoring_schedule_arns, str) or not isinstance(monitoring_schedule_arns, Sequence) or not all(
            isinstance(a, str) and a for a in monitoring_schedule_arns
        ):
            raise invalid(_OWNER, "monitoring_schedule_arns", monitoring_schedule_arns,
                          "a list of monitoring schedule ARNs (e.g. monitor.schedule_arn)")
        if alarm_name_prefix is not None:
            require_pattern(_OWNER, "alarm_name_prefix", alarm_name_prefix, _NAME_PREFIX_RE,
                            "1-128 of letters, digits and . _ -, starting with a letter or digit")

        self._topic = topic
        # An AlertTopic's policies already admit EventBridge; another topic gets the usual grant.
        self._via_alert_topic = isinstance(alert_topic, AlertTopic)
        self._prefix = alarm_name_prefix
        self.alarms: list[cloudwatch.Alarm] = []
        self.drift_significant = drift_significant
        self.drift_warning = drift_warning

        self.feature_drift_alarms: dict[str, cloudwatch.Alarm] = {}
        self.feature_drift_warning_alarms: dict[str, cloudwatch.Alarm] = {}
        for feature, metric in feature_drift_metrics.items():
            self.feature_drift_alarms[feature] = self._alarm(
                f"FeatureDrift-{feature}", f"feature-drift-{feature}", metric,
                threshold=drift_significant,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"Significant drift of feature '{feature}' on endpoint {endpoint_name}: "
                f"{drift_metric_label} >= {drift_significant}. The live input distribution moved away from "
                "training: check the drift report and consider retraining.",
            )
            self.feature_drift_warning_alarms[feature] = self._alarm(
                f"FeatureDriftWarning-{feature}", f"feature-drift-warning-{feature}", metric,
                threshold=drift_warning,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"Moderate drift of feature '{feature}' on endpoint {endpoint_name}: "
                f"{drift_metric_label} >= {drift_warning}. Watch the trend; no action needed yet.",
            )

        self.drift_checker_alarm: cloudwatch.Alarm | None = None
        if drift_checker is not None:
            window_s = drift_checker.window_hours * 3600
            windows = heartbeat_windows or (2 if 2 * window_s <= 86400 else 1)
            if windows * window_s > 86400:
                raise invalid(_OWNER, "heartbeat_windows", windows,
                              f"at most {86400 // window_s} (CloudWatch evaluates at most one day)")
            self.drift_checker_alarm = self._alarm(
                "DriftCheckerSilent", "drift-checker-silent",
                drift_checker.metric_records_analyzed(statistic="SampleCount"),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.BREACHING,
                evaluation_periods=windows,
                description=f"The drift checker of endpoint {endpoint_name} analysed no record in {windows} "
                f"window(s) of {drift_checker.window_hours} h: it is not running, failing (see its dead-letter "
                "queue and logs), or the endpoint received no traffic. Drift is unmonitored meanwhile.",
            )

        self.accuracy_alarm = self._alarm(
            "AccuracyBelowThreshold", "accuracy",
            quality_metric(mm.METRIC_ACCURACY, model_name=model_name, endpoint_name=endpoint_name,
                           namespace=quality_namespace, period=quality_period),
            threshold=accuracy_threshold,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.IGNORE,
            description=f"Accuracy of model {model_name} on endpoint {endpoint_name}, measured on ground-truth "
            f"labels, fell below {accuracy_threshold}: the model no longer meets its quality gate.",
        )
        self.latency_alarm = self._alarm(
            "LatencyP99", "latency-p99",
            endpoint_metric(endpoint_name, variant_name, "ModelLatency", statistic="p99"),
            threshold=latency_ms * 1000,  # ModelLatency is in microseconds
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description=f"p99 model latency of {endpoint_name}/{variant_name} above {latency_ms:g} ms in 2 of "
            "3 five-minute periods: the model container is too slow (load, instance size, payloads).",
        )
        self.errors_5xx_alarm = self._alarm(
            "Invocation5XXErrors", "5xx-errors",
            endpoint_metric(endpoint_name, variant_name, "Invocation5XXErrors", statistic="Sum"),
            threshold=errors_5xx_threshold,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            description=f"{endpoint_name}/{variant_name} returned >= {errors_5xx_threshold} 5XX error(s) in 5 "
            "minutes: the model container failed requests (see the endpoint's CloudWatch logs).",
        )

        self.monitoring_failure_rule: events.Rule | None = None
        self.monitoring_failure_alarm: cloudwatch.Alarm | None = None
        if monitoring_schedule_arns:
            self._monitoring_failures(list(monitoring_schedule_arns), endpoint_name)

        members = [*self.feature_drift_alarms.values(), self.accuracy_alarm, self.latency_alarm, self.errors_5xx_alarm]
        self.model_unhealthy = cloudwatch.CompositeAlarm(
            self,
            "ModelUnhealthy",
            composite_alarm_name=self._name("model-unhealthy"),
            alarm_description=f"Model {model_name} on endpoint {endpoint_name} is unhealthy: significant feature "
            "drift, accuracy below threshold, high p99 latency or 5XX errors (see the member alarms).",
            alarm_rule=cloudwatch.AlarmRule.any_of(
                *[cloudwatch.AlarmRule.from_alarm(a, cloudwatch.AlarmState.ALARM) for a in members]
            ),
        )
        self.model_unhealthy.add_alarm_action(cw_actions.SnsAction(topic))
        self.model_unhealthy.add_ok_action(cw_actions.SnsAction(topic))

    # ------------------------------------------------------------- helpers
    def _name(self, suffix: str) -> str | None:
        return f"{self._prefix}-{suffix}" if self._prefix else None

    def _alarm(
        self,
        id: str,
        name: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        missing: cloudwatch.TreatMissingData,
        description: str,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            id,
            alarm_name=self._name(name),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self._topic))
        self.alarms.append(alarm)
        return alarm

    def _monitoring_failures(self, schedule_arns: list[str], endpoint_name: str) -> None:
        self.monitoring_failure_rule = events.Rule(
            self,
            "MonitoringExecutionFailedRule",
            description="Model Monitor executions (processing jobs started by this model's monitoring schedules) "
            "that failed or were stopped",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Processing Job State Change"],
                detail={
                    "ProcessingJobStatus": list(MONITORING_FAILURE_STATUSES),
                    "MonitoringScheduleArn": schedule_arns,
                },
            ),
        )
        field = events.EventField.from_path
        message = events.RuleTargetInput.from_text(
            f"Model Monitor execution {field('$.detail.ProcessingJobName')} of schedule "
            f"{field('$.detail.MonitoringScheduleArn')} ended {field('$.detail.ProcessingJobStatus')}: "
            f"{field('$.detail.FailureReason')}"
        )
        self.monitoring_failure_rule.add_target(
            _AlertTopicTarget(self._topic, message) if self._via_alert_topic
            else targets.SnsTopic(self._topic, message=message)
        )
        self.monitoring_failure_alarm = self._alarm(
            "MonitoringExecutionFailed", "monitoring-execution-failed",
            cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="TriggeredRules",
                dimensions_map={"RuleName": self.monitoring_failure_rule.rule_name},
                statistic="Sum",
                period=Duration.hours(1),
            ),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            description=f"A Model Monitor execution for endpoint {endpoint_name} failed or was stopped in the last "
            "hour: that check produced no result (the notification carries the job's FailureReason).",
        )


def _topic_of(alert_topic: Any) -> sns.ITopic:
    if isinstance(alert_topic, AlertTopic):
        return alert_topic.topic
    if isinstance(alert_topic, Construct) and hasattr(alert_topic, "topic_arn") and hasattr(alert_topic, "grant_publish"):
        return alert_topic  # type: ignore[return-value]
    raise invalid(_OWNER, "alert_topic", alert_topic, "an AlertTopic or an sns.ITopic")


def _require_duration(prop: str, value: Any, *, minimum_s: float, maximum_s: float, unit: str = "seconds") -> float:
    if not isinstance(value, Duration):
        raise invalid(_OWNER, prop, value, "a Duration")
    seconds = value.to_seconds() if unit == "seconds" else value.to_milliseconds() / 1000
    if Token.is_unresolved(seconds) or is_token(seconds):
        raise invalid(_OWNER, prop, value, "a literal Duration")
    if not minimum_s <= seconds <= maximum_s:
        raise invalid(_OWNER, prop, f"{seconds:g}s", f"a Duration from {minimum_s:g} s to {maximum_s:g} s")
    return seconds if unit == "seconds" else value.to_milliseconds()
