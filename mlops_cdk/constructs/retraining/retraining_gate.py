"""The retraining gate: drift, quality alarms and new training data start the pipeline, one run at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ... import locations
from ...compliance import acknowledge_packs
from ..._validation import (
    invalid,
    is_token,
    require_bool,
    require_choice,
    require_duration,
    require_event_source,
    require_int,
    require_key_prefix,
    require_namespace,
)
from ...lambdas._shared import contract
from ..common.network_placement import NetworkPlacement
from ..common.platform_function import PlatformFunction, dead_letter_alarm
from ._common import (
    deploy_after,
    distinct,
    require_declared,
    require_no_strings,
    require_parameters,
    require_pipeline,
)

_OWNER = "RetrainingGate"
# The gate's environment keeps this key; every alarm passed here carries its own reason.
DEFAULT_ALARM_REASON = "DataDrift"
# EventBridge rule target retry policy limits.
MAX_RETRY_ATTEMPTS = 185
MIN_EVENT_AGE, MAX_EVENT_AGE = Duration.minutes(1), Duration.hours(24)
_ALARMS = "cloudwatch.IAlarm objects (cloudwatch.Alarm.from_alarm_arn(...) imports one)"
_ENDPOINTS = "sagemaker.IEndpoint objects (ModelEndpoint.from_endpoint_name(...) imports one)"


class RetrainingGate(Construct):
    """Retrains when drift or a quality drop is detected or new training data arrives, through one gate Lambda.

    Creates:
      * ``Gate``: a :class:`PlatformFunction` running ``lambdas/retraining_gate``
        that starts ``pipeline`` with ``Reason`` (and ``start_parameters``)
        unless a run is ``Executing``/``Stopping`` or the last one started
        within ``cooldown``. It may only list and start this pipeline's
        executions; its idempotency token is derived from the event id, and
        ``reserved_concurrency`` (1) decides events one at a time, so a burst
        starts one run;
      * ``AlarmTrigger``: ``drift_alarms`` (reason ``DataDrift``) and
        ``quality_alarms`` (``ModelQualityDrop``) entering ``ALARM``;
      * ``DriftEventTrigger`` (``drift_events``): the drift checker's
        "Feature Drift Detected" events from ``drift_event_source``, only for
        ``drift_endpoints`` when given (reason ``DataDrift``);
      * ``NewDataTrigger`` (``new_data_bucket``): S3 "Object Created" events
        under ``new_data_prefix`` (reason ``NewData``). The bucket must send
        events to EventBridge (``event_bridge_enabled=True``);
      * a retry policy per rule target into the gate's dead-letter queue, and
        ``DeadLetterAlarm`` on that queue (notifying ``alert_topic`` if given).

    Each decision is a JSON log line and a ``RetrainingDecisions`` metric
    (embedded metric format in ``metric_namespace``): see ``metric_decisions``.

    Args:
        pipeline: the pipeline to start (any ``sagemaker.IPipeline``).
        pipeline_parameters: the names the pipeline declares; must include ``Reason``.
        drift_alarms, quality_alarms: alarms whose ``ALARM`` state starts a run. @default none
        drift_events: react to the drift checker's events. @default True
        drift_event_source: their EventBridge source. @default ``contract.DRIFT_EVENT_SOURCE``
        drift_endpoints: only drift events of these endpoints. @default - any endpoint
        new_data_bucket: new objects here start a run. @default - no new-data trigger
        new_data_prefix: under this key prefix. @default ``locations.TRAINING_DATA``
        new_data_suffix: only keys ending so (e.g. ``_SUCCESS``). @default - any key
        cooldown: no run within this long of the last, whole minutes up to 30 days. @default 6 hours
        start_parameters: further declared parameters for every run (not ``Reason``). @default none
        alert_topic: notified by the dead-letter alarm. @default - no action
        metric_namespace: of the decision metric. @default ``contract.RETRAINING_NAMESPACE``
        reserved_concurrency: the gate's reserved concurrency; None where the
            account's quota leaves none to reserve. @default 1
        event_retry_attempts, max_event_age: EventBridge delivery retries. @default 8 within 6 hours
        network: a ``NetworkPlacement`` to run the gate in (see ``PlatformFunction``). @default none
        encryption_key: the customer managed key of the gate's logs, environment and dead-letter queue
            (see ``PlatformFunction``). @default - AWS-managed keys

    Exposes ``function`` (the PlatformFunction), ``rules`` (id -> Rule),
    ``alarm_reasons`` (``(IAlarm, reason)`` pairs), ``dead_letter_queue``,
    ``dead_letter_alarm`` and ``metric_decisions(decision)``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: sagemaker.IPipeline,
        pipeline_parameters: Sequence[str],
        drift_alarms: Sequence[cloudwatch.IAlarm] = (),
        quality_alarms: Sequence[cloudwatch.IAlarm] = (),
        drift_events: bool = True,
        drift_event_source: str = contract.DRIFT_EVENT_SOURCE,
        drift_endpoints: Sequence[sagemaker.IEndpoint] = (),
        new_data_bucket: s3.IBucket | None = None,
        new_data_prefix: str = locations.TRAINING_DATA,
        new_data_suffix: str | None = None,
        cooldown: Duration = Duration.hours(6),
        start_parameters: Mapping[str, str] | None = None,
        alert_topic: sns.ITopic | None = None,
        metric_namespace: str = contract.RETRAINING_NAMESPACE,
        reserved_concurrency: int | None = 1,
        event_retry_attempts: int = 8,
        max_event_age: Duration = Duration.hours(6),
        network: NetworkPlacement | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        require_pipeline(_OWNER, pipeline)
        declared = require_declared(_OWNER, "pipeline_parameters", pipeline_parameters, reason=True)
        alarms = [(a, "DataDrift") for a in require_no_strings(_OWNER, "drift_alarms", drift_alarms, _ALARMS)]
        alarms += [(a, "ModelQualityDrop") for a in require_no_strings(_OWNER, "quality_alarms", quality_alarms,
                                                                          _ALARMS)]
        if not distinct([alarm for alarm, _ in alarms]):
            raise invalid(_OWNER, "quality_alarms", list(quality_alarms), "alarms not also in drift_alarms")
        require_bool(_OWNER, "drift_events", drift_events)
        require_event_source(_OWNER, "drift_event_source", drift_event_source)
        endpoints = require_no_strings(_OWNER, "drift_endpoints", drift_endpoints, _ENDPOINTS)
        if isinstance(new_data_bucket, str):
            raise invalid(_OWNER, "new_data_bucket", new_data_bucket, "an s3.IBucket (s3.Bucket.from_bucket_name(...))")
        require_key_prefix(_OWNER, "new_data_prefix", new_data_prefix)
        if new_data_suffix is not None and not is_token(new_data_suffix) and (
                not isinstance(new_data_suffix, str) or not 0 < len(new_data_suffix) <= 1024
                or any(c in new_data_suffix for c in "*?") or not new_data_suffix.isprintable()):
            raise invalid(_OWNER, "new_data_suffix", new_data_suffix,
                          "None, or a key suffix such as '_SUCCESS' or '.manifest' (no '*', '?' or control characters)")
        cooldown_minutes = _whole_minutes(cooldown)
        extra = require_parameters(_OWNER, "start_parameters", start_parameters or {}, declared)
        if contract.REASON_PARAMETER in extra:
            raise invalid(_OWNER, "start_parameters", {contract.REASON_PARAMETER: extra[contract.REASON_PARAMETER]},
                          f"parameters other than '{contract.REASON_PARAMETER}' (the gate sets it per trigger)")
        require_namespace(_OWNER, "metric_namespace", metric_namespace)
        if reserved_concurrency is not None:
            require_int(_OWNER, "reserved_concurrency", reserved_concurrency, minimum=1, maximum=1000)
        require_int(_OWNER, "event_retry_attempts", event_retry_attempts, minimum=0, maximum=MAX_RETRY_ATTEMPTS)
        require_duration(_OWNER, "max_event_age", max_event_age, minimum=MIN_EVENT_AGE, maximum=MAX_EVENT_AGE)
        if not alarms and not drift_events and new_data_bucket is None:
            raise invalid(_OWNER, "drift_events", drift_events,
                          "at least one trigger: drift_alarms, quality_alarms, drift_events=True or new_data_bucket")
        super().__init__(scope, id)

        self.pipeline = pipeline
        self.metric_namespace = metric_namespace
        self.alarm_reasons: tuple[tuple[cloudwatch.IAlarm, str], ...] = tuple(alarms)
        stack = Stack.of(self)
        environment = {
            "PIPELINE_NAME": pipeline.pipeline_name,
            "PIPELINE_PARAMETERS": ",".join(declared),
            "COOLDOWN_MINUTES": cooldown_minutes,
            "ALARM_REASONS": stack.to_json_string([[alarm.alarm_arn, reason] for alarm, reason in alarms]),
            "DEFAULT_ALARM_REASON": DEFAULT_ALARM_REASON,
            "DRIFT_EVENT_SOURCE": drift_event_source,
            "METRIC_NAMESPACE": metric_namespace,
        }
        if extra:
            environment["START_PARAMETERS"] = stack.to_json_string(extra)
        if new_data_bucket is not None:
            environment["NEW_DATA_BUCKET"] = new_data_bucket.bucket_name
            environment["NEW_DATA_PREFIX"] = new_data_prefix
            if new_data_suffix:
                environment["NEW_DATA_SUFFIX"] = new_data_suffix
        self.function = PlatformFunction(
            self,
            "Gate",
            code="retraining_gate",
            description="Starts a SageMaker pipeline on drift, quality alarms or new data, unless a run is "
            "executing or the last one started within the cooldown",
            environment=environment,
            reserved_concurrent_executions=reserved_concurrency,
            network=network,
            encryption_key=encryption_key,
        )
        if reserved_concurrency is None:
            acknowledge_packs(self.function.function, "LambdaConcurrency",
                              "reserved_concurrency=None was chosen: the account's Lambda quota leaves no "
                              "concurrency to reserve, so the gate shares the unreserved pool.")
        pipeline.grant_start_pipeline_execution(self.function.role)
        self.function.add_to_role_policy(iam.PolicyStatement(
            sid="ListThisPipelinesExecutions", actions=["sagemaker:ListPipelineExecutions"],
            resources=[pipeline.pipeline_arn]))
        deploy_after(self.function, pipeline)  # and the rules after their alarms and endpoints

        self.rules: dict[str, events.Rule] = {}
        delivery = {"retry_attempts": event_retry_attempts, "max_event_age": max_event_age}
        if alarms:
            self._rule("AlarmTrigger", "Drift and quality alarms entering ALARM start retraining (through the gate)",
                       events.EventPattern(
                           source=[contract.CLOUDWATCH_EVENT_SOURCE],
                           detail_type=[contract.ALARM_STATE_CHANGE],
                           resources=[alarm.alarm_arn for alarm, _ in alarms],
                           detail={"state": {"value": ["ALARM"]}},
                       ), delivery)
            deploy_after(self.rules["AlarmTrigger"], *(alarm for alarm, _ in alarms))
        if drift_events:
            detail: dict[str, Any] = {"status": ["drift"]}
            if endpoints:
                detail["endpoint"] = [endpoint.endpoint_name for endpoint in endpoints]
            self._rule("DriftEventTrigger", "Feature drift detected by the drift checker starts retraining",
                       events.EventPattern(source=[drift_event_source], detail_type=[contract.DRIFT_EVENT_DETAIL_TYPE],
                                           detail=detail), delivery)
            deploy_after(self.rules["DriftEventTrigger"], *endpoints)
        if new_data_bucket is not None:
            self._rule("NewDataTrigger", "New training data starts retraining (through the gate)",
                       events.EventPattern(
                           source=[contract.S3_EVENT_SOURCE],
                           detail_type=[contract.S3_OBJECT_CREATED],
                           detail={"bucket": {"name": [new_data_bucket.bucket_name]},
                                   "object": {"key": [{"prefix": new_data_prefix}]}},
                       ), delivery)
        self.dead_letter_alarm = dead_letter_alarm(
            self, "DeadLetterAlarm", self.function.dead_letter_queue, alert_topic,
            "Retraining trigger events could not be processed by the gate (see its dead-letter queue): "
            "drift, alarms or new data may not have started retraining",
        )

    def _rule(self, id: str, description: str, pattern: events.EventPattern, delivery: dict[str, Any]) -> None:
        self.rules[id] = self.function.trigger(self, id, description=description, event_pattern=pattern, **delivery)

    @property
    def dead_letter_queue(self) -> sqs.IQueue:
        return self.function.dead_letter_queue

    def metric_decisions(self, decision: str = "started", *, period: Duration = Duration.hours(1)) -> cloudwatch.Metric:
        """How many trigger events the gate answered with ``decision`` (``contract.DECISIONS``), summed per ``period``."""
        require_choice(_OWNER, "decision", decision, contract.DECISIONS)
        return cloudwatch.Metric(
            namespace=self.metric_namespace,
            metric_name=contract.METRIC_RETRAINING_DECISIONS,
            dimensions_map={contract.DIMENSION_PIPELINE: self.pipeline.pipeline_name,
                            contract.DIMENSION_DECISION: decision},
            statistic="Sum",
            period=period,
        )


def _whole_minutes(cooldown: Any) -> str:
    """``cooldown`` as the gate's COOLDOWN_MINUTES: whole minutes from 1 to contract.MAX_COOLDOWN_MINUTES."""
    maximum = contract.MAX_COOLDOWN_MINUTES
    require_duration(_OWNER, "cooldown", cooldown, minimum=Duration.minutes(1), maximum=Duration.minutes(maximum))
    try:
        minutes = cooldown.to_minutes(integral=True)
    except RuntimeError:  # e.g. 90 seconds
        raise invalid(_OWNER, "cooldown", cooldown.to_human_string(), f"whole minutes from 1 to {maximum}") from None
    return Token.as_string(minutes) if is_token(minutes) else str(int(minutes))
