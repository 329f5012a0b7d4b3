"""Letting AWS Budgets and Cost Anomaly Detection publish to an (encrypted) alert topic.

The statements are the ones the AWS Cost Management user guide gives ("Creating an Amazon SNS
topic for budget notifications", "... for anomaly notifications"): the service principal may
``SNS:Publish`` to the topic for this account only (``aws:SourceAccount``) and from its own
resources only (``aws:SourceArn``: any budget, any anomaly subscription of the account). A topic
encrypted with a customer managed key also needs ``kms:GenerateDataKey*`` and ``kms:Decrypt`` for
the same principals in the key policy. Policies this app cannot change (an imported topic or key)
get a synth warning with the exact statements the owner must add.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import IConstruct, IDependable

from ..._pseudo import Aws
from ..common.policy_text import policy_text

BUDGETS = "budgets.amazonaws.com"
COST_ALERTS = "costalerts.amazonaws.com"
# service principal -> (statement name, the service's source ARN after "arn:<partition>:")
_SOURCES = {
    BUDGETS: ("Budgets", "budgets::{account}:*"),
    COST_ALERTS: ("CostAnomalyDetection", "ce::{account}:anomalysubscription/*"),
}
_TOPIC_ARN_RE = re.compile(r"^arn:(?P<partition>aws[a-z-]*):sns:[a-z0-9-]+:(?P<account>\d{12}):[A-Za-z0-9_.-]+$")


def _conditions(service: str, partition: str, account: str) -> dict[str, Any]:
    source = _SOURCES[service][1].format(account=account)
    return {"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": f"arn:{partition}:{source}"}}


def _topic_statement(service: str, topic_arn: str, partition: str, account: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=f"Allow{_SOURCES[service][0]}ToPublish", principals=[iam.ServicePrincipal(service)],
        actions=["sns:Publish"], resources=[topic_arn], conditions=_conditions(service, partition, account))


def _key_statement(service: str, partition: str, account: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=f"Allow{_SOURCES[service][0]}ToEncryptAlerts", principals=[iam.ServicePrincipal(service)],
        actions=["kms:GenerateDataKey*", "kms:Decrypt"], resources=["*"],  # in a key policy "*" is this key
        conditions=_conditions(service, partition, account))


def allow_cost_publishers(scope: IConstruct, topic: sns.ITopic, key: kms.IKey | None,
                          services: Sequence[str]) -> list[IDependable]:
    """Add the topic and key policy statements for ``services``; warn on ``scope`` for what cannot be added.

    ``key`` is the topic's KMS key (``None``: not encrypted, or unknown for an imported topic).
    Returns the policies added to, for the budget and subscription to depend on: both services
    check that they may publish when they are created. Identical statements added twice (two
    guardrails on one topic) are merged by aws-cdk-lib.
    """
    added: list[IDependable] = []
    missing_topic, missing_key = [], []
    for service in services:
        result = topic.add_to_resource_policy(_topic_statement(service, topic.topic_arn, Aws.PARTITION, Aws.ACCOUNT_ID))
        added.extend([result.policy_dependable] if result.statement_added and result.policy_dependable else [])
        missing_topic.extend([] if result.statement_added else [service])
        if key is not None:
            result = key.add_to_resource_policy(_key_statement(service, Aws.PARTITION, Aws.ACCOUNT_ID))
            added.extend([key] if result.statement_added else [])  # a key's policy is part of the key resource
            missing_key.extend([] if result.statement_added else [service])
    if missing_topic or missing_key:
        _warn(scope, topic, key, missing_topic, missing_key)
    return added


def _warn(scope: IConstruct, topic: sns.ITopic, key: kms.IKey | None, topic_services: Sequence[str],
          key_services: Sequence[str]) -> None:
    """A warning with the statements, spelled out with the topic's account and partition where known."""
    match = _TOPIC_ARN_RE.match(topic.topic_arn) if not Token.is_unresolved(topic.topic_arn) else None
    partition, account = (match["partition"], match["account"]) if match else ("<partition>", "<account-id>")
    topic_arn = topic.topic_arn if match else "<topic ARN>"
    parts = []
    if topic_services:
        statements = policy_text(scope, [_topic_statement(s, topic_arn, partition, account) for s in topic_services])
        parts.append(f"the policy of topic {topic_arn} (imported: this app cannot change it) must allow: "
                     + statements)
    if key_services:
        where = key.key_arn if key is not None and not Token.is_unresolved(key.key_arn) else "the topic's KMS key"
        statements = policy_text(scope, [_key_statement(s, partition, account) for s in key_services])
        parts.append(f"the key policy of {where} (imported: this app cannot change it) must allow: "
                     + statements)
    elif key is None and topic_services:
        statements = policy_text(scope, [_key_statement(s, partition, account) for s in topic_services])
        parts.append("if the topic is encrypted with a customer managed KMS key, its key policy must allow: "
                     + statements + " (an AWS managed key, alias/aws/sns, cannot be used)")
    Annotations.of(scope).add_warning_v2(
        "mlops-cdk:cost-alerts-publishers",
        "AWS Budgets and Cost Anomaly Detection cannot deliver alerts until " + "; and ".join(parts))


__all__ = ["BUDGETS", "COST_ALERTS", "allow_cost_publishers"]
