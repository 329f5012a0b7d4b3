"""Readable alerts for a pipeline's executions (course 11.8): started, succeeded, stopped, failed with the reason.

Event-driven, never polling: SageMaker puts a "SageMaker Model Building
Pipeline Execution Status Change" event on the default bus at each status
change. Started, succeeded and stopped executions are rendered to text by an
EventBridge input transformer and published straight to the topic (no Lambda).

A failed execution's event does not carry the failure reason (SageMaker's
event has status, times, display name, description and ARNs only), so by
default (``failure_details=True``) Failed events go to a small Lambda
(``mlops_cdk/lambdas/pipeline_notifier``) that reads ``FailureReason``, the
failed steps and the execution's ``Reason`` parameter and publishes one
readable message. With ``failure_details=False`` the failure is announced by
the input transformer too, with the command that shows the reason.

Input transformer text and quoting: a text template is a JSON string in which
EventBridge substitutes the raw values of ``<placeholders>`` *without
escaping them*, so only values that cannot contain quotes, backslashes or
line breaks are used here: ARNs, timestamps, statuses and the execution
display name (SageMaker allows only letters, digits and hyphens there).
Descriptions and failure reasons (free text) are never put into a template.
SNS shows each line of the message in double quotes (how EventBridge
delivers a text template).
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._validation import invalid, require_int
from ._nag import acknowledge_wildcard_resources
from .alert_topic import AlertTopic
from .platform_function import PlatformFunction
from .platform_function import dead_letter_alarm, encrypted_dead_letter_queue
from .retraining import topic_of, validate_pipeline

_OWNER = "PipelineNotifications"
EVENT_SOURCE = "aws.sagemaker"
EVENT_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"
STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded")
DEFAULT_STATUSES = ("Executing", "Succeeded", "Failed", "Stopped")
# Construct ID of each status's rule (IDs are public API).
_RULE_IDS = {"Executing": "Started", "Stopping": "Stopping", "Stopped": "Stopped", "Failed": "Failed",
             "Succeeded": "Succeeded"}
_HEADLINES = {
    "Executing": "STARTED",
    "Stopping": "STOPPING (a stop was requested)",
    "Stopped": "STOPPED",
    "Failed": "FAILED",
    "Succeeded": "SUCCEEDED",
}


class PipelineNotifications(Construct):
    """Publishes a readable message to ``topic`` when an execution of the pipeline changes status.

    Creates, per status in ``statuses`` (default Executing, Succeeded, Failed,
    Stopped), an EventBridge rule matching this pipeline's status-change
    events (``detail.pipelineArn`` = ``pipeline_arn``) with:
      * an SNS target whose input transformer renders the text (no Lambda), or
        for Failed with ``failure_details`` a :class:`PlatformFunction`
        (``pipeline_notifier``) that adds the failure reason, the failed steps
        and the run's ``Reason``; it may only describe this pipeline's
        executions and publish to the topic;
      * a retry policy and a dead-letter queue (``dead_letter_queue`` or a new
        encrypted one, with an alarm on the topic) whose policy admits only
        these rules; the notifier's own dead-letter queue has an alarm too.

    ``topic`` is an :class:`AlertTopic` (its policy already admits EventBridge
    of this account, so nothing is added to it) or an ``sns.ITopic`` (then
    EventBridge is granted publish on it, as aws-cdk-lib's SnsTopic target does).

    Exposes ``rules`` (status -> Rule), ``dead_letter_queue`` and
    ``failure_function`` (the notifier, or None).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline_name: str,
        pipeline_arn: str,
        topic: AlertTopic | sns.ITopic,
        statuses: Sequence[str] = DEFAULT_STATUSES,
        failure_details: bool = True,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = 8,
        max_event_age: Duration = Duration.hours(24),
    ) -> None:
        validate_pipeline(_OWNER, pipeline_name, pipeline_arn)
        sns_topic = topic_of(_OWNER, "topic", topic, optional=False)
        if isinstance(statuses, str) or not isinstance(statuses, Sequence) or not statuses:
            raise invalid(_OWNER, "statuses", statuses, "a non-empty sequence of " + " | ".join(STATUSES))
        for status in statuses:
            if status not in STATUSES:
                raise invalid(_OWNER, "statuses", status, " | ".join(STATUSES))
        if len(set(statuses)) != len(statuses):
            raise invalid(_OWNER, "statuses", list(statuses), "each status once")
        if not isinstance(failure_details, bool):
            raise invalid(_OWNER, "failure_details", failure_details, "True or False")
        require_int(_OWNER, "retry_attempts", retry_attempts, minimum=0, maximum=185)
        super().__init__(scope, id)

        self.pipeline_name = pipeline_name
        self.pipeline_arn = pipeline_arn
        self.topic = sns_topic
        self.dead_letter_queue = dead_letter_queue or encrypted_dead_letter_queue(self, "DeadLetterQueue")
        if dead_letter_queue is None:
            dead_letter_alarm(self, "DeadLetterAlarm", self.dead_letter_queue, sns_topic,
                              f"Notifications of pipeline {pipeline_name} could not be delivered to the topic")
        self.failure_function: PlatformFunction | None = None
        self.rules: dict[str, events.Rule] = {}
        for status in statuses:
            rule = events.Rule(
                self,
                _RULE_IDS[status],
                description=f"Notifies the alert topic when a run of pipeline {pipeline_name} enters {status}",
                event_pattern=self.status_pattern([status]),
            )
            if status == "Failed" and failure_details:
                function = self._failure_function(topic, sns_topic)
                rule.add_target(targets.LambdaFunction(
                    function.function,
                    dead_letter_queue=function.dead_letter_queue,
                    retry_attempts=retry_attempts,
                    max_event_age=max_event_age,
                ))
            else:
                message = status_message(pipeline_name, status)
                if isinstance(topic, AlertTopic):
                    rule.add_target(_PolicyFreeTopicTarget(
                        sns_topic, message, self.dead_letter_queue, retry_attempts, max_event_age))
                else:
                    rule.add_target(targets.SnsTopic(
                        sns_topic, message=message, dead_letter_queue=self.dead_letter_queue,
                        retry_attempts=retry_attempts, max_event_age=max_event_age))
            self.rules[status] = rule

    def status_pattern(self, statuses: Sequence[str]) -> events.EventPattern:
        """The event pattern of this pipeline's executions entering ``statuses``."""
        return events.EventPattern(
            source=[EVENT_SOURCE],
            detail_type=[EVENT_DETAIL_TYPE],
            detail={"pipelineArn": [self.pipeline_arn], "currentPipelineExecutionStatus": list(statuses)},
        )

    def _failure_function(self, topic: AlertTopic | sns.ITopic, sns_topic: sns.ITopic) -> PlatformFunction:
        function = PlatformFunction(
            self,
            "FailureNotifier",
            code="pipeline_notifier",
            description="Publishes why a run of a SageMaker pipeline failed (reason, failed steps) to the alert topic",
            environment={"TOPIC_ARN": sns_topic.topic_arn, "PIPELINE_ARN": self.pipeline_arn},
        )
        executions = f"{self.pipeline_arn}/execution/*"
        function.add_to_role_policy(iam.PolicyStatement(
            sid="ReadThisPipelinesExecutions",
            actions=["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps",
                     "sagemaker:ListPipelineParametersForExecution"],
            resources=[executions],
        ))
        acknowledge_wildcard_resources(function.role, [(
            executions,
            "Execution ids are generated by SageMaker at run time; the wildcard covers only the executions of "
            "this one pipeline, and only describe/list actions.",
        )])
        # Not topic.grant_publish: it adds kms:GenerateDataKey* where SNS needs exactly these two actions.
        function.add_to_role_policy(iam.PolicyStatement(
            sid="PublishAlerts", actions=["sns:Publish"], resources=[sns_topic.topic_arn]))
        key = topic.encryption_key if isinstance(topic, AlertTopic) else sns_topic.master_key
        if key is not None:
            function.add_to_role_policy(iam.PolicyStatement(
                sid="EncryptAlerts", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]))
        dead_letter_alarm(self, "FailureNotifierDeadLetterAlarm", function.dead_letter_queue, sns_topic,
                          f"A failed run of pipeline {self.pipeline_name} could not be reported: see the "
                          "failure notifier's dead-letter queue and the pipeline's executions")
        self.failure_function = function
        return function


def status_message(pipeline_name: str, status: str) -> events.RuleTargetInput:
    """The text published for ``status``: only quote-free event fields are substituted (see the module doc)."""
    field = events.EventField.from_path
    arn = field("$.detail.pipelineExecutionArn")
    lines = [
        f"Retraining pipeline {pipeline_name}: execution {_HEADLINES[status]}",
        f"Execution: {field('$.detail.pipelineExecutionDisplayName')}",
        f"ARN: {arn}",
        f"Status: {field('$.detail.previousPipelineExecutionStatus')} -> {status} at {field('$.time')}",
    ]
    started = f"Started: {field('$.detail.executionStartTime')}"
    # Only terminal statuses have an end time (a missing path would leave its placeholder out).
    lines.append(started if status in ("Executing", "Stopping")
                 else f"{started}, ended: {field('$.detail.executionEndTime')}")
    if status == "Succeeded":
        lines.append("Next: the new model version is in the model registry, awaiting approval before deployment.")
    elif status == "Failed":
        lines.append(f"Why: aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {arn}")
    return events.RuleTargetInput.from_multiline_text("\n".join(lines))


@jsii.implements(events.IRuleTarget)
class _PolicyFreeTopicTarget:
    """An SNS target that relies on the topic's existing policy (AlertTopic admits EventBridge of this account).

    aws-cdk-lib's ``SnsTopic`` target would add a statement to the topic's
    policy in the topic's (foundation) stack for every rule.
    """

    def __init__(self, topic: sns.ITopic, message: events.RuleTargetInput, dead_letter_queue: sqs.IQueue,
                 retry_attempts: int, max_event_age: Duration) -> None:
        self.topic = topic
        self.message = message
        self.dead_letter_queue = dead_letter_queue
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        allow_dead_letters(self.dead_letter_queue, rule)
        return events.RuleTargetConfig(
            arn=self.topic.topic_arn,
            input=self.message,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self.retry_attempts,
                maximum_event_age_in_seconds=int(self.max_event_age.to_seconds()),
            ),
        )


def allow_dead_letters(queue: sqs.IQueue, rule: events.IRule) -> None:
    """Let EventBridge send ``rule``'s undeliverable events to ``queue`` (and nothing else's)."""
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"AllowEventRule{rule.node.addr[:12]}",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
        )
    )
