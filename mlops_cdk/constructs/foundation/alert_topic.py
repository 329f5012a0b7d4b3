"""The platform's alert channel: an encrypted SNS topic alarms and rules can publish to."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from .._validation import invalid, require_emails

# The AWS services that publish platform alerts.
PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


class AlertTopic(Construct):
    """A KMS-encrypted, SSL-only SNS topic with e-mail subscriptions.

    CloudWatch alarms and EventBridge rules in this account may publish to it:
    both are allowed in the topic policy (restricted to this account with
    ``aws:SourceAccount``) and, when the construct owns the key, in the key
    policy, since a service cannot publish to an encrypted topic without
    ``kms:GenerateDataKey`` on its key. A given ``encryption_key`` must
    already grant that to those services.
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
        super().__init__(scope, id)
        emails = require_emails("AlertTopic", "emails", emails)
        if display_name is not None and (not isinstance(display_name, str) or len(display_name) > 100):
            raise invalid("AlertTopic", "display_name", display_name, "a string of at most 100 characters")

        if encryption_key is None:
            key = kms.Key(
                self,
                "Key",
                description=f"Encrypts alert messages of {self.node.path}",
                enable_key_rotation=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowAlertPublishers",
                    principals=[iam.ServicePrincipal(s) for s in PUBLISHING_SERVICES],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # in a key policy "*" means this key
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
                )
            )
            encryption_key = key
        self.encryption_key = encryption_key
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=display_name,
            master_key=encryption_key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmsAndRulesToPublish",
                principals=[iam.ServicePrincipal(s) for s in PUBLISHING_SERVICES],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        for email in emails:
            self.topic.add_subscription(subs.EmailSubscription(email))

    @property
    def topic_arn(self) -> str:
        return self.topic.topic_arn

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to publish (including use of the topic's key)."""
        return self.topic.grant_publish(grantee)
