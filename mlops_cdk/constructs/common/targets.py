"""How the platform's rules reach a topic or a dead-letter queue, and how functions publish alerts: one way each."""

from __future__ import annotations

import jsii
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from ..foundation.alert_topic import AlertTopic


def topic_target(
    topic: sns.ITopic,
    message: events.RuleTargetInput,
    *,
    dead_letter_queue: sqs.IQueue | None = None,
    retry_attempts: int | None = None,
    max_event_age: Duration | None = None,
) -> events.IRuleTarget:
    """Publish ``message`` to ``topic`` when the rule matches.

    An :class:`AlertTopic` already admits EventBridge of this account in its
    topic and key policies, so nothing is added to it (no statement per rule
    in the topic's stack). Any other topic gets aws-cdk-lib's ``SnsTopic``
    target, which adds the publish grant to a topic this app owns; an
    imported topic's policy (and key policy) must already allow EventBridge.
    """
    if isinstance(topic, AlertTopic):
        return _PolicyFreeTopicTarget(topic, message, dead_letter_queue, retry_attempts, max_event_age)
    return targets.SnsTopic(topic, message=message, dead_letter_queue=dead_letter_queue,
                            retry_attempts=retry_attempts, max_event_age=max_event_age)


@jsii.implements(events.IRuleTarget)
class _PolicyFreeTopicTarget:
    def __init__(self, topic: sns.ITopic, message: events.RuleTargetInput, dead_letter_queue: sqs.IQueue | None,
                 retry_attempts: int | None, max_event_age: Duration | None) -> None:
        self._topic = topic
        self._message = message
        self._dead_letter_queue = dead_letter_queue
        self._retry_attempts = retry_attempts
        self._max_event_age = max_event_age

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        dead_letter_config = retry_policy = None
        if self._dead_letter_queue is not None:
            allow_dead_letters(self._dead_letter_queue, rule)
            dead_letter_config = events.CfnRule.DeadLetterConfigProperty(arn=self._dead_letter_queue.queue_arn)
        if self._retry_attempts is not None or self._max_event_age is not None:
            retry_policy = events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self._retry_attempts,
                maximum_event_age_in_seconds=(
                    int(self._max_event_age.to_seconds()) if self._max_event_age is not None else None),
            )
        return events.RuleTargetConfig(arn=self._topic.topic_arn, input=self._message,
                                       dead_letter_config=dead_letter_config, retry_policy=retry_policy)


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


def grant_publish(topic: sns.ITopic, grantee: iam.IGrantable) -> iam.Grant:
    """``sns:Publish`` on ``topic`` and exactly the two KMS actions SNS needs on its key.

    Not ``topic.grant_publish``: that adds ``kms:GenerateDataKey*`` and
    ``kms:Decrypt`` as an action wildcard (a cdk-nag finding) where SNS
    needs ``kms:GenerateDataKey`` and ``kms:Decrypt``.
    """
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[topic.topic_arn])
    if topic.master_key is not None:
        grant = grant.combine(iam.Grant.add_to_principal(
            grantee=grantee, actions=["kms:GenerateDataKey", "kms:Decrypt"], resource_arns=[topic.master_key.key_arn]))
    return grant
