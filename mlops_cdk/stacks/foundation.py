"""Shared, stateful base of one model's platform: data bucket, execution role, alerts."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack, Tags
from constructs import Construct

from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.alert_topic import AlertTopic
from ..constructs.execution_role import SageMakerExecutionRole
from ..constructs.secure_bucket import SecureBucket


def apply_standard_tags(scope: Construct, config: PlatformConfig) -> None:
    """Tag every taggable resource under ``scope`` with project, model, stage and extras.

    ``Tags.of`` is an aspect, so resources added later in the scope are tagged too.
    """
    for key, value in config.standard_tags.items():
        Tags.of(scope).add(key, value)


def require_platform(owner: str, config: object, foundation: object) -> None:
    """Every per-model stack takes the platform's config and its foundation: check both first."""
    if not isinstance(config, PlatformConfig):
        raise invalid(owner, "config", config, "a PlatformConfig")
    if not isinstance(foundation, FoundationStack):
        raise invalid(owner, "foundation", foundation, "a FoundationStack")


class FoundationStack(Stack):
    """The platform bucket (with its key and access logs), the SageMaker execution role and the alert topic.

    Other stacks of the same model take these as props; the stack's outputs
    make them usable from outside CDK (scripts, notebooks).
    """

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        if not isinstance(config, PlatformConfig):
            raise invalid("FoundationStack", "config", config, "a PlatformConfig")
        kwargs.setdefault("description", f"mlops-cdk foundation for {config.model_name} ({config.stage})")
        super().__init__(scope, id, **kwargs)
        self.config = config
        # A predictable name (unique per account and region) that scripts and
        # notebooks can derive without reading stack outputs.
        self.data_bucket_name = f"{config.prefix}-{Aws.ACCOUNT_ID}-{Aws.REGION}"

        self.data = SecureBucket(self, "Data", bucket_name=self.data_bucket_name, event_bridge_enabled=True)
        self.execution_role = SageMakerExecutionRole(self, "SageMakerRole")
        self.execution_role.grant_bucket_read_write(self.data)
        self.alerts = AlertTopic(
            self, "Alerts", emails=config.alert_emails, display_name=f"{config.prefix} alerts"
        )
        apply_standard_tags(self, config)

        CfnOutput(self, "DataBucketName", value=self.data.bucket_name, description="Platform data bucket")
        CfnOutput(self, "DataKeyArn", value=self.data.encryption_key.key_arn, description="KMS key of the data bucket")
        CfnOutput(self, "ExecutionRoleArn", value=self.execution_role.role_arn, description="SageMaker execution role")
        CfnOutput(self, "AlertTopicArn", value=self.alerts.topic_arn, description="SNS topic for alerts")

