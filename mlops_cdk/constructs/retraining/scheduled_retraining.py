"""Scheduled retraining: EventBridge Scheduler starts a SageMaker pipeline, no Lambda in between."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..._validation import invalid, require_bool, require_duration, require_int
from ...lambdas._shared import contract
from ..common.platform_function import dead_letter_alarm, encrypted_dead_letter_queue
from ._common import deploy_after, require_declared, require_parameters, require_pipeline

_OWNER = "ScheduledRetraining"
# EventBridge Scheduler's retry policy limits.
MAX_RETRY_ATTEMPTS = 185
MIN_EVENT_AGE, MAX_EVENT_AGE = Duration.minutes(1), Duration.hours(24)


class ScheduledRetraining(Construct):
    """Starts ``pipeline`` on ``schedule`` with ``parameters``, straight from EventBridge Scheduler.

    Creates:
      * ``Schedule``: an ``aws_scheduler.Schedule`` whose target is aws-cdk-lib's
        ``SageMakerStartPipelineExecution`` (retry policy, dead-letter queue);
      * ``Role``: what the Scheduler assumes (trusting only this account's
        default schedule group): ``sagemaker:StartPipelineExecution`` through
        ``pipeline.grant_start_pipeline_execution`` and ``sqs:SendMessage`` on
        the dead-letter queue (with ``kms:GenerateDataKey``/``kms:Decrypt`` on its key, if it has a
        customer managed one), nothing else;
      * without ``dead_letter_queue``: an encrypted, retained ``DeadLetterQueue``
        and a ``DeadLetterAlarm`` on it (notifying ``alert_topic`` if given).

    The schedule bypasses the retraining gate: it starts a run even while a
    drift-triggered one is executing (SageMaker runs both); the gate then counts
    it for its cooldown.

    Args:
        pipeline: the pipeline to start (any ``sagemaker.IPipeline``).
        schedule: when. @default ``ScheduleExpression.rate(Duration.days(7))``
        parameters: pipeline parameters to send. @default ``{"Reason": "Scheduled"}``
        pipeline_parameters: the names the pipeline declares; every sent name
            must be one of them. @default - names are not checked
        dead_letter_queue: where undeliverable starts go. @default - a new encrypted queue
        retry_attempts: retries of a failed start, 0-185. @default 3
        max_event_age: how long a start is retried, 1 minute to 24 hours. @default 2 hours
        alert_topic: notified by the alarm on the queue this construct creates. @default - no action
        enabled: whether the schedule runs. @default True
        description: of the schedule. @default - names the pipeline and the expression
        encryption_key: the customer managed key of the new dead-letter queue. @default - SQS-managed keys

    Exposes ``schedule`` (the ``aws_scheduler.Schedule``), ``role``,
    ``dead_letter_queue``, ``dead_letter_alarm`` (None with a given queue) and
    ``parameters``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: sagemaker.IPipeline,
        schedule: scheduler.ScheduleExpression | None = None,
        parameters: Mapping[str, str] | None = None,
        pipeline_parameters: Sequence[str] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = 3,
        max_event_age: Duration = Duration.hours(2),
        alert_topic: sns.ITopic | None = None,
        enabled: bool = True,
        description: str | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        require_pipeline(_OWNER, pipeline)
        schedule = scheduler.ScheduleExpression.rate(Duration.days(7)) if schedule is None else schedule
        if not isinstance(schedule, scheduler.ScheduleExpression):
            raise invalid(_OWNER, "schedule", schedule,
                          "an aws_scheduler.ScheduleExpression, e.g. ScheduleExpression.cron(minute='0', hour='3', "
                          "week_day='MON')")
        parameters = {contract.REASON_PARAMETER: "Scheduled"} if parameters is None else parameters
        sends_reason = isinstance(parameters, Mapping) and contract.REASON_PARAMETER in parameters
        declared = None if pipeline_parameters is None else require_declared(
            _OWNER, "pipeline_parameters", pipeline_parameters, reason=sends_reason)
        parameters = require_parameters(_OWNER, "parameters", parameters, declared)
        require_int(_OWNER, "retry_attempts", retry_attempts, minimum=0, maximum=MAX_RETRY_ATTEMPTS)
        require_duration(_OWNER, "max_event_age", max_event_age, minimum=MIN_EVENT_AGE, maximum=MAX_EVENT_AGE)
        require_bool(_OWNER, "enabled", enabled)
        super().__init__(scope, id)

        self.parameters = parameters
        self.dead_letter_queue = dead_letter_queue or encrypted_dead_letter_queue(self, "DeadLetterQueue",
                                                                                  encryption_key)
        stack = Stack.of(self)
        # As aws-cdk-lib's default target role, but owned here: one role per schedule, visible as `role`.
        self.role = iam.Role(
            self,
            "Role",
            description=f"Lets EventBridge Scheduler start pipeline runs for {self.node.path}",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={"StringEquals": {
                "aws:SourceAccount": stack.account,
                "aws:SourceArn": stack.format_arn(service="scheduler", resource="schedule-group",
                                                  resource_name="default"),
            }}),
        )
        queue_key = self.dead_letter_queue.encryption_master_key
        if queue_key is not None:  # the Scheduler sends dead letters as this role: SQS needs the queue's key
            self.role.add_to_principal_policy(iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[queue_key.key_arn]))
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule=schedule,
            enabled=enabled,
            description=description or f"Retraining of a SageMaker pipeline on {schedule.expression_string}",
            target=scheduler_targets.SageMakerStartPipelineExecution(
                pipeline,
                pipeline_parameter_list=[scheduler_targets.SageMakerPipelineParameter(name=name, value=value)
                                         for name, value in parameters.items()],
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
                role=self.role,
            ),
        )
        deploy_after(self.schedule, pipeline)  # a run can only start once the pipeline exists
        self.dead_letter_alarm = None
        if dead_letter_queue is None:
            self.dead_letter_alarm = dead_letter_alarm(
                self, "DeadLetterAlarm", self.dead_letter_queue, alert_topic,
                "A scheduled retraining could not start the pipeline (see the dead-letter queue)",
            )
