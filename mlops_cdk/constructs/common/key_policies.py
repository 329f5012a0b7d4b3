"""Key policy statements that let AWS services use the platform's customer managed key for what they store.

A service that encrypts on its own behalf needs the key policy to admit it:
CloudWatch Logs for an encrypted log group (the AWS CloudWatch Logs user guide,
"Encrypt log data in CloudWatch Logs using AWS KMS"), EventBridge for a rule's
dead-letter queue encrypted with the key (EventBridge user guide, "Using
dead-letter queues": ``kms:Decrypt`` and ``kms:GenerateDataKey``). Each statement
is scoped to this account (and, for logs, to its log groups through the
encryption context). A key this app cannot change (imported) gets a synth warning
with the exact statement its owner must add: without it, creating the log group
or delivering the dead letter fails.
"""

from __future__ import annotations

import weakref

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from ..._nag import acknowledge
from ..._pseudo import Aws
from .policy_text import policy_text

LOGS_SID = "AllowCloudWatchLogsOfThisAccount"
EVENTS_SID = "AllowEventBridgeDeadLettersOfThisAccount"
LOGS_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")
EVENTS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def logs_statement() -> iam.PolicyStatement:
    """CloudWatch Logs of this region may use the key for log groups of this account only."""
    log_groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
    return iam.PolicyStatement(
        sid=LOGS_SID, principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
        actions=list(LOGS_ACTIONS), resources=["*"],  # in a key policy "*" is this key
        conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}})


def events_statement() -> iam.PolicyStatement:
    """EventBridge may encrypt dead letters of this account's rules with the key."""
    rules = f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:rule/*"
    return iam.PolicyStatement(
        sid=EVENTS_SID, principals=[iam.ServicePrincipal("events.amazonaws.com")],
        actions=list(EVENTS_ACTIONS), resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}, "ArnLike": {"aws:SourceArn": rules}})


def allow_log_encryption(scope: IConstruct, key: kms.IKey) -> None:
    """Let CloudWatch Logs encrypt this account's log groups with ``key``; warn on ``scope`` if it is imported."""
    _add(scope, key, logs_statement(), "CloudWatch Logs cannot create or write log groups encrypted with it")


def allow_event_dead_letters(scope: IConstruct, key: kms.IKey) -> None:
    """Let EventBridge send dead letters to queues encrypted with ``key``; warn on ``scope`` if it is imported."""
    _add(scope, key, events_statement(), "EventBridge cannot deliver undeliverable events to queues encrypted with it")


# Per stack, the (key, statement) pairs already warned about: one warning each, on the first resource needing it.
_WARNED: weakref.WeakKeyDictionary[Stack, set[tuple[str, str]]] = weakref.WeakKeyDictionary()


def _add(scope: IConstruct, key: kms.IKey, statement: iam.PolicyStatement, consequence: str) -> None:
    # aws-cdk-lib merges the same statement added from several constructs into one.
    if key.add_to_resource_policy(statement).statement_added:
        return
    warned = _WARNED.setdefault(Stack.of(scope), set())
    if (key.key_arn, statement.sid) in warned:
        return
    warned.add((key.key_arn, statement.sid))
    where = key.key_arn if not Token.is_unresolved(key.key_arn) else "the imported key"
    rendered = policy_text(scope, statement)
    Annotations.of(scope).add_warning_v2(
        f"mlops-cdk:key-policy-{statement.sid}",
        f"The key policy of {where} (imported: this app cannot change it) must allow {rendered}; until it does, "
        f"{consequence}.")


__all__ = ["allow_event_dead_letters", "allow_log_encryption", "events_statement", "logs_statement"]


def allow_decrypt_through_s3(role: iam.IRole, bucket: s3.IBucket, *, sid: str, why: str) -> None:
    """Let ``role`` decrypt the SSE-KMS objects of a bucket whose key it cannot name (another stage's): any key
    of the account, but only through S3 and only for that bucket's objects (kms:ViaService and S3's context)."""
    role.add_to_principal_policy(iam.PolicyStatement(
        sid=sid,
        actions=["kms:Decrypt"],
        resources=[f"arn:{Aws.PARTITION}:kms:{Aws.REGION}:{Aws.ACCOUNT_ID}:key/*"],
        conditions={
            "StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.{Aws.URL_SUFFIX}"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"{bucket.bucket_arn}/*"},
        },
    ))
    acknowledge(role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]", why)
