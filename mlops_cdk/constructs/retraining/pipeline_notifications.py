"""Readable alerts for a pipeline's executions: started, succeeded, stopped, failed (or completed with
failures) with the reason.

Event-driven, never polling: SageMaker puts a "SageMaker Model Building
Pipeline Execution Status Change" event on the default bus at each status
change. Started, succeeded and stopped executions are rendered to text by an
EventBridge input transformer and published straight to the topic (no Lambda).

A failed execution's event does not carry the failure reason (SageMaker's
event has status, times, display name, description and ARNs only), so by
default (``failure_details=True``) Failed and CompletedWithFailures events (the
sixth ``PipelineExecutionStatus``: the run ended, some steps failed) go to a
small Lambda (``mlops_cdk/lambdas/pipeline_notifier``) that reads
``FailureReason``, the failed steps and the execution's ``Reason`` parameter
and publishes one readable message. With ``failure_details=False`` they are
announced by the input transformer too, with the command that shows the reason.

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

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..._nag import acknowledge_wildcard_resources
from ..._validation import invalid, require_bool, require_duration, require_int
from ...compliance import acknowledge_packs
from ...lambdas._shared import contract
from ..common import targets
from ..common.network_placement import NetworkPlacement
from ..common.platform_function import PlatformFunction, dead_letter_alarm, encrypted_dead_letter_queue
from ._common import require_pipeline

_OWNER = "PipelineNotifications"
DEFAULT_STATUSES = ("Executing", "Succeeded", "Failed", "Stopped", "CompletedWithFailures")
# Statuses whose message says why (the failure notifier, or the command that shows it).
FAILURE_STATUSES = ("Failed", "CompletedWithFailures")
# Construct ID of each status's rule (IDs are public API).
_RULE_IDS = {"Executing": "Started", "Stopping": "Stopping", "Stopped": "Stopped", "Failed": "Failed",
             "Succeeded": "Succeeded", "CompletedWithFailures": "CompletedWithFailures"}
_HEADLINES = {
    "Executing": "STARTED",
    "Stopping": "STOPPING (a stop was requested)",
    "Stopped": "STOPPED",
    "Failed": "FAILED",
    "Succeeded": "SUCCEEDED",
    "CompletedWithFailures": "COMPLETED WITH FAILURES",
}
MAX_RETRY_ATTEMPTS = 185
MIN_EVENT_AGE, MAX_EVENT_AGE = Duration.minutes(1), Duration.hours(24)


class PipelineNotifications(Construct):
    """Publishes a readable message to ``topic`` when a run of ``pipeline`` changes status.

    Creates, per status in ``statuses``, an EventBridge rule on this
    pipeline's status-change events (``detail.pipelineArn`` is
    ``pipeline.pipeline_arn``, compared exactly). SageMaker lower-cases the
    pipeline name in its ARNs (``list-pipelines`` reports ``AbalonePipeline``
    with ``.../pipeline/abalonepipeline``; AWS's reference does not say so), as
    an ``IPipeline`` of this library builds it; for another ``IPipeline``, give
    the ``PipelineArn`` that ``aws sagemaker describe-pipeline`` reports. With:
      * one SNS target (``targets.topic_target``) whose input transformer
        renders the text; for Failed and CompletedWithFailures with
        ``failure_details``, instead the ``FailureNotifier`` :class:`PlatformFunction`
        (one for both) that adds the failure reason, the failed steps and the
        run's ``Reason``: it may only describe this pipeline's executions and
        publish to the topic (exact actions);
      * a retry policy into ``dead_letter_queue`` (or a new encrypted
        ``DeadLetterQueue`` with a ``DeadLetterAlarm``); the notifier's own
        dead-letter queue has an alarm too.

    An :class:`AlertTopic` already admits EventBridge; another topic of this
    app is granted publish to EventBridge by aws-cdk-lib's SNS target; an
    imported topic (and its key) must already allow it.

    Args:
        pipeline: the pipeline whose runs are reported (any ``sagemaker.IPipeline``).
        topic: where the messages go.
        statuses: among ``contract.PIPELINE_STATUSES``. @default Executing, Succeeded, Failed, Stopped,
            CompletedWithFailures
        failure_details: a Lambda adds why a run failed. @default True
        dead_letter_queue: for undeliverable messages. @default - a new encrypted queue
        retry_attempts, max_event_age: delivery retries. @default 8 within 24 hours
        network: a ``NetworkPlacement`` to run the failure notifier in (see ``PlatformFunction``). @default none
        encryption_key: the customer managed key of the new dead-letter queue and of the notifier's logs,
            environment and dead-letter queue (see ``PlatformFunction``). @default - AWS-managed keys

    Exposes ``rules`` (status -> Rule), ``dead_letter_queue`` and
    ``failure_function`` (the notifier, or None).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: sagemaker.IPipeline,
        topic: sns.ITopic,
        statuses: Sequence[str] = DEFAULT_STATUSES,
        failure_details: bool = True,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = 8,
        max_event_age: Duration = Duration.hours(24),
        network: NetworkPlacement | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        require_pipeline(_OWNER, pipeline)
        if topic is None or isinstance(topic, str):
            raise invalid(_OWNER, "topic", topic, "an sns.ITopic (sns.Topic.from_topic_arn(...) imports one)")
        allowed = " | ".join(contract.PIPELINE_STATUSES)
        if isinstance(statuses, str) or not isinstance(statuses, Sequence) or not statuses:
            raise invalid(_OWNER, "statuses", statuses, f"a non-empty sequence of {allowed}")
        for status in statuses:
            if status not in contract.PIPELINE_STATUSES:
                raise invalid(_OWNER, "statuses", status, allowed)
        if len(set(statuses)) != len(statuses):
            raise invalid(_OWNER, "statuses", list(statuses), "each status once")
        require_bool(_OWNER, "failure_details", failure_details)
        require_int(_OWNER, "retry_attempts", retry_attempts, minimum=0, maximum=MAX_RETRY_ATTEMPTS)
        require_duration(_OWNER, "max_event_age", max_event_age, minimum=MIN_EVENT_AGE, maximum=MAX_EVENT_AGE)
        super().__init__(scope, id)

        self.pipeline = pipeline
        self.topic = topic
        self._network = network
        self._encryption_key = encryption_key
        self.dead_letter_queue = dead_letter_queue or encrypted_dead_letter_queue(self, "DeadLetterQueue",
                                                                                  encryption_key)
        if dead_letter_queue is None:
            dead_letter_alarm(self, "DeadLetterAlarm", self.dead_letter_queue, topic,
                              "Pipeline run notifications could not be delivered to the topic (see the queue)")
        self.failure_function: PlatformFunction | None = None
        self.rules: dict[str, events.Rule] = {}
        for status in statuses:
            description = f"Notifies the topic when a run of the pipeline enters {status}"
            if status in FAILURE_STATUSES and failure_details:
                self.failure_function = self.failure_function or self._failure_function()
                self.rules[status] = self.failure_function.trigger(
                    self, _RULE_IDS[status], description=description, event_pattern=self.status_pattern([status]),
                    retry_attempts=retry_attempts, max_event_age=max_event_age)
                continue
            rule = events.Rule(self, _RULE_IDS[status], description=description,
                               event_pattern=self.status_pattern([status]))
            rule.add_target(targets.topic_target(
                topic, status_message(pipeline.pipeline_name, status), dead_letter_queue=self.dead_letter_queue,
                retry_attempts=retry_attempts, max_event_age=max_event_age))
            self.rules[status] = rule

    def status_pattern(self, statuses: Sequence[str]) -> events.EventPattern:
        """The event pattern of this pipeline's runs entering ``statuses``."""
        return events.EventPattern(
            source=[contract.SAGEMAKER_EVENT_SOURCE],
            detail_type=[contract.PIPELINE_STATUS_CHANGE],
            detail={"pipelineArn": [self.pipeline.pipeline_arn], "currentPipelineExecutionStatus": list(statuses)},
        )

    def _failure_function(self) -> PlatformFunction:
        function = PlatformFunction(
            self,
            "FailureNotifier",
            code="pipeline_notifier",
            description="Publishes why a run of a SageMaker pipeline failed or completed with failures (reason, "
                        "failed steps) to the alert topic",
            environment={"TOPIC_ARN": self.topic.topic_arn, "PIPELINE_ARN": self.pipeline.pipeline_arn},
            network=self._network,
            encryption_key=self._encryption_key,
        )
        acknowledge_packs(function.function, "LambdaConcurrency",
                          "Invoked once per failed run of one pipeline (a few a day at most): it only reads that "
                          "run and publishes one message, so a reservation would only take capacity from the "
                          "account's unreserved pool.")
        executions = f"{self.pipeline.pipeline_arn}/execution/*"
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
        targets.grant_publish(self.topic, function.role)
        function.alarm_on_dead_letters(
            self, "FailureNotifierDeadLetterAlarm", topic=self.topic,
            description="A failed pipeline run could not be reported: see the failure notifier's dead-letter queue "
            "and the pipeline's executions")
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
    elif status in FAILURE_STATUSES:
        lines.append(f"Why: aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {arn}")
    return events.RuleTargetInput.from_multiline_text("\n".join(lines))
