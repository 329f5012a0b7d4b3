"""The platform's alert channel: an encrypted SNS topic alarms and rules can publish to."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from ..._pseudo import Aws
from ..._validation import invalid, require_emails

# The AWS services that publish platform alerts.
PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


class AlertTopic(sns.Topic):
    """An ``sns.Topic`` encrypted with KMS, SSL-only, with e-mail subscriptions.

    CloudWatch alarms and EventBridge rules of this account may publish to it
    (topic policy, restricted with ``aws:SourceAccount``). A service cannot
    publish to an encrypted topic without ``kms:GenerateDataKey`` on its key,
    so the same services are allowed in the key's policy: on the key created
    here (``<id>Key``, rotating, retained) or on a given ``encryption_key``
    that this app owns; an imported key must already allow them.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        emails: Sequence[str] = (),
        display_name: str | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        emails = require_emails("AlertTopic", "emails", emails)
        if display_name is not None and (not isinstance(display_name, str) or len(display_name) > 100):
            raise invalid("AlertTopic", "display_name", display_name, "a string of at most 100 characters")
        key = encryption_key or kms.Key(
            scope, f"{id}Key", description=f"Encrypts alert messages of {id}", enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.allow_publishers(key)
        super().__init__(scope, id, display_name=display_name, master_key=key, enforce_ssl=True)
        self.encryption_key: kms.IKey = key
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmsAndRulesToPublish",
                principals=[iam.ServicePrincipal(s) for s in PUBLISHING_SERVICES],
                actions=["sns:Publish"],
                resources=[self.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        for email in emails:
            self.add_subscription(subs.EmailSubscription(email))

    @staticmethod
    def allow_publishers(key: kms.IKey) -> None:
        """Let CloudWatch alarms and EventBridge rules of this account encrypt alerts with ``key`` (no-op if imported)."""
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlertPublishers",
                principals=[iam.ServicePrincipal(s) for s in PUBLISHING_SERVICES],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
