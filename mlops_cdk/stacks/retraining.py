"""The retraining loop of one model (course 10.6, 11.8): schedule, drift/alarm and new-data triggers, notifications."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from .. import locations
from .._validation import invalid, require_int
from ..config import PlatformConfig
from ..constructs.pipeline_notifications import PipelineNotifications
from ..constructs.retraining import (
    DEFAULT_COOLDOWN_MINUTES,
    MAX_COOLDOWN_MINUTES,
    REASON_PARAMETER,
    DriftRetraining,
    ScheduledRetraining,
    require_reason,
    validate_alarms,
    validate_declared_parameters,
    validate_pipeline,
    validate_schedule,
    validate_strings,
)
from ..constructs.platform_function import dead_letter_alarm, encrypted_dead_letter_queue
from .foundation import FoundationStack, apply_standard_tags, require_platform

_OWNER = "RetrainingStack"


class RetrainingStack(Stack):
    """Keeps one model fresh: retrains on a schedule, on drift, on quality alarms and on new data, and says so.

    Wires, for the pipeline ``pipeline_name`` / ``pipeline_arn`` (declaring
    ``pipeline_parameters``, which must include ``Reason``):

    * ``scheduled``: :class:`ScheduledRetraining` ``Schedule`` on ``schedule``
      with ``Reason=Scheduled``, straight from EventBridge;
    * ``drift`` and ``new_data``: one :class:`DriftRetraining` ``Triggers``
      whose gate Lambda starts the pipeline for ``drift_alarm_arns`` entering
      ALARM (reason per ``alarm_reasons``, default ``DataDrift``), the drift
      checker's "Feature Drift Detected" events (for ``drift_endpoints``, or
      any endpoint when empty) and (``new_data``) objects created under
      ``training-data/`` of the foundation's data bucket, unless a run is
      executing or one started less than ``cooldown_minutes`` ago;
    * ``notifications``: :class:`PipelineNotifications` ``Notifications``
      publishing started / succeeded / stopped / failed (with the reason) to
      the foundation's alert topic.

    ``gate_reserved_concurrency`` (1) serializes the gate's decisions; set
    None in accounts whose Lambda concurrency quota is too low to reserve any
    (then only the cooldown and the idempotency token protect against bursts).

    Undeliverable events of the schedule and the notifications share one
    encrypted dead-letter queue; every dead-letter queue has an alarm on the
    alert topic. Each switch can be turned off; at least one must stay on.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        foundation: FoundationStack,
        pipeline_name: str,
        pipeline_arn: str,
        pipeline_parameters: Sequence[str],
        drift_alarm_arns: Sequence[str] = (),
        alarm_reasons: Mapping[str, str] | None = None,
        drift_endpoints: Sequence[str] = (),
        schedule: str = "rate(7 days)",
        scheduled: bool = True,
        drift: bool = True,
        new_data: bool = True,
        notifications: bool = True,
        cooldown_minutes: int = DEFAULT_COOLDOWN_MINUTES,
        gate_reserved_concurrency: int | None = 1,
        **kwargs: Any,
    ) -> None:
        require_platform(_OWNER, config, foundation)
        validate_pipeline(_OWNER, pipeline_name, pipeline_arn)
        declared = validate_declared_parameters(_OWNER, "pipeline_parameters", pipeline_parameters)
        if REASON_PARAMETER not in declared:
            raise invalid(_OWNER, "pipeline_parameters", list(declared),
                          f"names including '{REASON_PARAMETER}' (every retraining run says why it was started)")
        for switch, value in (("scheduled", scheduled), ("drift", drift), ("new_data", new_data),
                              ("notifications", notifications)):
            if not isinstance(value, bool):
                raise invalid(_OWNER, switch, value, "True or False")
        if not (scheduled or drift or new_data or notifications):
            raise invalid(_OWNER, "scheduled", scheduled,
                          "at least one of scheduled, drift, new_data, notifications switched on")
        validate_schedule(_OWNER, "schedule", schedule)
        require_int(_OWNER, "cooldown_minutes", cooldown_minutes, minimum=1, maximum=MAX_COOLDOWN_MINUTES)
        if gate_reserved_concurrency is not None:
            require_int(_OWNER, "gate_reserved_concurrency", gate_reserved_concurrency, minimum=1, maximum=1000)
        if isinstance(drift_alarm_arns, str) or not isinstance(drift_alarm_arns, Sequence):
            raise invalid(_OWNER, "drift_alarm_arns", drift_alarm_arns, "a sequence of alarm ARNs or names")
        validate_alarms(_OWNER, "drift_alarm_arns", drift_alarm_arns, "DataDrift")
        validate_strings(_OWNER, "drift_endpoints", drift_endpoints)
        if alarm_reasons is not None and not isinstance(alarm_reasons, Mapping):
            raise invalid(_OWNER, "alarm_reasons", alarm_reasons,
                          "a mapping of alarm (as in drift_alarm_arns) to reason")
        alarm_reasons = dict(alarm_reasons or {})
        for alarm, reason in alarm_reasons.items():
            if alarm not in drift_alarm_arns:
                raise invalid(_OWNER, "alarm_reasons", alarm, "alarms listed in drift_alarm_arns")
            require_reason(_OWNER, "alarm_reasons", reason)
        kwargs.setdefault("description", f"mlops-cdk retraining loop for {config.model_name} ({config.stage})")
        super().__init__(scope, id, **kwargs)
        self.config = config
        self.pipeline_name = pipeline_name
        self.pipeline_arn = pipeline_arn

        alerts = foundation.alerts
        self.scheduled: ScheduledRetraining | None = None
        self.triggers: DriftRetraining | None = None
        self.notifications: PipelineNotifications | None = None
        self.events_dead_letter_queue = None
        if scheduled or notifications:
            self.events_dead_letter_queue = encrypted_dead_letter_queue(self, "EventsDeadLetterQueue")
            dead_letter_alarm(
                self, "EventsDeadLetterAlarm", self.events_dead_letter_queue, alerts.topic,
                f"Retraining events of {config.prefix} could not be delivered (scheduled start or pipeline "
                "notification): see the EventsDeadLetterQueue",
            )
        if scheduled:
            self.scheduled = ScheduledRetraining(
                self, "Schedule",
                pipeline_arn=pipeline_arn,
                schedule=schedule,
                parameters={REASON_PARAMETER: "Scheduled"},
                pipeline_parameters=declared,
                dead_letter_queue=self.events_dead_letter_queue,
                description=f"Scheduled retraining ({schedule}) of {config.prefix}",
            )
            CfnOutput(self, "ScheduleRuleName", value=self.scheduled.rule.rule_name,
                      description="EventBridge rule of the scheduled retraining")
        if drift or new_data:
            self.triggers = DriftRetraining(
                self, "Triggers",
                pipeline_name=pipeline_name,
                pipeline_arn=pipeline_arn,
                pipeline_parameters=declared,
                alarms={arn: alarm_reasons.get(arn, "DataDrift") for arn in drift_alarm_arns} if drift else {},
                drift_events=drift,
                drift_endpoints=drift_endpoints,
                new_data_bucket=foundation.data.bucket if new_data else None,
                new_data_prefix=locations.TRAINING_DATA,
                cooldown_minutes=cooldown_minutes,
                alert_topic=alerts,
                reserved_concurrency=gate_reserved_concurrency,
            )
            CfnOutput(self, "GateFunctionName", value=self.triggers.function.function.function_name,
                      description="Retraining gate Lambda (its log lines say why each trigger started or skipped)")
        if notifications:
            self.notifications = PipelineNotifications(
                self, "Notifications",
                pipeline_name=pipeline_name,
                pipeline_arn=pipeline_arn,
                topic=alerts,
                dead_letter_queue=self.events_dead_letter_queue,
            )
        apply_standard_tags(self, config)
