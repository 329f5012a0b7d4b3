"""The retraining loop of one model: schedule, drift/quality/new-data triggers through a gate, run notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from .. import locations
from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.common.platform_function import dead_letter_alarm, encrypted_dead_letter_queue
from ..constructs.retraining.pipeline_notifications import PipelineNotifications
from ..constructs.retraining.retraining_gate import RetrainingGate
from ..constructs.retraining.scheduled_retraining import ScheduledRetraining
from ..lambdas._shared import contract
from .foundation import apply_standard_tags, stack_props
from .resources import PlatformResources

_OWNER = "RetrainingStack"
_SWITCHES = ("retraining_scheduled", "retraining_on_drift", "retraining_on_new_data", "retraining_notifications")


class RetrainingStack(Stack):
    """Keeps one model fresh: retrains on a schedule, on drift, on quality alarms and on new data, and says so.

    What runs is configuration (``config``), nothing else:
      * ``retraining_scheduled``: :class:`ScheduledRetraining` ``Schedule`` on
        ``retraining_schedule`` with ``Reason=Scheduled`` (EventBridge Scheduler);
      * ``retraining_on_drift`` and ``retraining_on_new_data``: one
        :class:`RetrainingGate` ``Triggers`` whose Lambda starts the pipeline
        for ``drift_alarms`` (reason DataDrift) and ``quality_alarms``
        (ModelQualityDrop) entering ALARM and the drift checker's events of
        ``drift_endpoints`` (any endpoint when empty), and for objects created
        under ``training-data/`` of ``resources.data_bucket``, unless a run is
        executing or one started within ``retraining_cooldown``. That bucket
        must send events to EventBridge: the foundation's does; on your own
        bucket turn on ``event_bridge_enabled`` (S3 "Amazon EventBridge"
        notifications) or the new-data trigger never fires;
      * ``retraining_notifications``: :class:`PipelineNotifications`
        ``Notifications`` publishing started / succeeded / stopped / failed
        (with the reason) to ``resources.alert_topic``.

    Args:
        config: the model and stage, and the settings above.
        resources: the data bucket (new-data trigger) and alert topic; with a ``network`` the gate and the
            failure notifier run in its subnets.
        pipeline: the training pipeline (any ``sagemaker.IPipeline``).
        pipeline_parameters: the names it declares; must include ``Reason``.
        drift_alarms, quality_alarms: alarms that start retraining. @default none
        drift_endpoints: endpoints whose drift events start retraining. @default - any
        gate_reserved_concurrency: serializes the gate's decisions; None in
            accounts whose Lambda quota leaves none to reserve. @default 1

    Undeliverable events of the schedule and the notifications share one
    encrypted ``EventsDeadLetterQueue``; every dead-letter queue has an alarm
    on the alert topic. The pipeline, alarms and endpoints are references, so
    this stack deploys after the stacks that own them.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        resources: PlatformResources,
        pipeline: sagemaker.IPipeline,
        pipeline_parameters: Sequence[str],
        drift_alarms: Sequence[cloudwatch.IAlarm] = (),
        quality_alarms: Sequence[cloudwatch.IAlarm] = (),
        drift_endpoints: Sequence[sagemaker.IEndpoint] = (),
        gate_reserved_concurrency: int | None = 1,
        **kwargs: Any,
    ) -> None:
        if not any(getattr(config, switch) for switch in _SWITCHES):
            # CloudFormation refuses a template without resources.
            raise invalid(_OWNER, "config", "every retraining switch off", "at least one of " + ", ".join(_SWITCHES))
        super().__init__(scope, id, **stack_props(config, "retraining loop", kwargs))
        self.config = config
        self.pipeline = pipeline
        topic = resources.alert_topic
        scheduled, drift = config.retraining_scheduled, config.retraining_on_drift
        new_data, notifications = config.retraining_on_new_data, config.retraining_notifications

        self.scheduled: ScheduledRetraining | None = None
        self.triggers: RetrainingGate | None = None
        self.notifications: PipelineNotifications | None = None
        self.events_dead_letter_queue = None
        if scheduled or notifications:
            self.events_dead_letter_queue = encrypted_dead_letter_queue(self, "EventsDeadLetterQueue",
                                                                        resources.data_key)
            dead_letter_alarm(
                self, "EventsDeadLetterAlarm", self.events_dead_letter_queue, topic,
                f"Retraining events of {config.prefix} could not be delivered (scheduled start or pipeline "
                "notification): see the EventsDeadLetterQueue",
            )
        if scheduled:
            expression = config.retraining_schedule.expression_string
            self.scheduled = ScheduledRetraining(
                self, "Schedule",
                pipeline=pipeline,
                schedule=config.retraining_schedule,
                parameters={contract.REASON_PARAMETER: "Scheduled"},
                pipeline_parameters=pipeline_parameters,
                dead_letter_queue=self.events_dead_letter_queue,
                description=f"Scheduled retraining ({expression}) of {config.prefix}",
                encryption_key=resources.data_key,
            )
            CfnOutput(self, "ScheduleName", value=self.scheduled.schedule.schedule_name,
                      description="EventBridge Scheduler schedule of the scheduled retraining")
        if drift or new_data:
            self.triggers = RetrainingGate(
                self, "Triggers",
                pipeline=pipeline,
                pipeline_parameters=pipeline_parameters,
                drift_alarms=drift_alarms if drift else (),
                quality_alarms=quality_alarms if drift else (),
                drift_events=drift,
                drift_endpoints=drift_endpoints,
                new_data_bucket=resources.data_bucket if new_data else None,
                new_data_prefix=locations.TRAINING_DATA,
                cooldown=config.retraining_cooldown,
                alert_topic=topic,
                reserved_concurrency=gate_reserved_concurrency,
                encryption_key=resources.data_key,
                network=resources.network,
            )
            CfnOutput(self, "GateFunctionName", value=self.triggers.function.function.function_name,
                      description="Retraining gate Lambda (its log lines say why each trigger started or skipped)")
        if not drift and (drift_alarms or quality_alarms or drift_endpoints):
            Annotations.of(self).add_info(
                "drift_alarms, quality_alarms and drift_endpoints start nothing: retraining_on_drift is off in the config")
        if notifications:
            self.notifications = PipelineNotifications(
                self, "Notifications",
                pipeline=pipeline,
                topic=topic,
                dead_letter_queue=self.events_dead_letter_queue,
                encryption_key=resources.data_key,
                network=resources.network,
            )
        apply_standard_tags(self, config)
