"""Shared, stateful base of one model's platform: data bucket, execution role, alerts."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Environment, RemovalPolicy, Stack, Tags
from aws_cdk import aws_kms as kms
from constructs import Construct

from .._nag import acknowledge_bucket_grant
from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.cost import CostGuardrails
from ..constructs.foundation.alert_topic import AlertTopic
from ..constructs.foundation.execution_role import SageMakerExecutionRole
from ..constructs.foundation.secure_bucket import SecureBucket
from .resources import PlatformResources


def apply_standard_tags(scope: Construct, config: PlatformConfig) -> None:
    """Tag every taggable resource under ``scope`` with project, model, stage and extras.

    ``Tags.of`` is an aspect, so resources added later in the scope are tagged too.
    """
    for key, value in config.standard_tags.items():
        Tags.of(scope).add(key, value)


def stack_props(config: PlatformConfig, part: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``Stack`` keyword arguments with the platform's defaults: a description, prod termination protection,
    and the configured region (``env``; region-agnostic when ``config.region`` is unset)."""
    if not isinstance(config, PlatformConfig):
        raise invalid(f"{part} stack", "config", config, "a PlatformConfig")
    if config.region is not None and kwargs.get("env") is None:
        kwargs["env"] = Environment(region=config.region)
    kwargs.setdefault("description", f"mlops-cdk {part} for {config.model_name} ({config.stage})")
    kwargs.setdefault("termination_protection", config.termination_protection)
    return kwargs


class FoundationStack(Stack):
    """The platform bucket (with its key and access logs), the SageMaker execution role and the alert topic.

    ``resources`` hands them to the other stacks; the stack's outputs make them
    usable from outside CDK (scripts, notebooks). Everything here holds or
    protects data, so a prod foundation has termination protection too.
    """

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **stack_props(config, "foundation", kwargs))
        self.config = config

        # The bucket, its key and its log bucket sit under "Data" and the role and topic under their own
        # scopes: the construct paths of the first release, so deployed data keeps its logical IDs.
        data = Construct(self, "Data")
        self.data_bucket = SecureBucket(
            data,
            "Bucket",
            bucket_name=config.data_bucket_name(),
            encryption_key=kms.Key(data, "Key", description=f"Encrypts {data.node.path}", enable_key_rotation=True,
                                   removal_policy=RemovalPolicy.RETAIN),
            access_logs_bucket=SecureBucket.log_bucket(data, "AccessLogs"),
            event_bridge_enabled=True,
        )
        self.data_key: kms.IKey = self.data_bucket.encryption_key  # type: ignore[assignment]
        role_scope = Construct(self, "SageMakerRole")
        self.execution_role = SageMakerExecutionRole(
            role_scope, "Role", description=f"SageMaker execution role of {role_scope.node.path}")
        self.data_bucket.grant_read_write(self.execution_role)
        acknowledge_bucket_grant(self.execution_role, self.data_bucket, "*",
                                 "SageMaker jobs of this platform read and write its whole data bucket.")
        alerts = Construct(self, "Alerts")
        self.alert_topic = AlertTopic(
            alerts,
            "Topic",
            emails=config.alert_emails,
            display_name=f"{config.prefix} alerts",
            encryption_key=kms.Key(alerts, "Key", description=f"Encrypts alert messages of {alerts.node.path}",
                                   enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN),
        )
        # With the topic: the budget and anomaly services must be allowed to publish before they are created.
        self.cost_guardrails: CostGuardrails | None = None
        if config.budget is not None:
            # Only the identity tags: each filter tag must be an activated cost allocation tag, or the budget reads $0.
            self.cost_guardrails = CostGuardrails(
                self, "Cost", alert_topic=self.alert_topic, budget=config.budget,
                tags={"project": config.project_name, "model": config.model_name, "stage": config.stage},
                name_prefix=config.prefix, anomaly_tag="project")
        apply_standard_tags(self, config)

        CfnOutput(self, "DataBucketName", value=self.data_bucket.bucket_name, description="Platform data bucket")
        CfnOutput(self, "DataKeyArn", value=self.data_key.key_arn, description="KMS key of the data bucket")
        CfnOutput(self, "ExecutionRoleArn", value=self.execution_role.role_arn, description="SageMaker execution role")
        CfnOutput(self, "AlertTopicArn", value=self.alert_topic.topic_arn, description="SNS topic for alerts")

    @property
    def resources(self) -> PlatformResources:
        """The bucket, key, role and topic, for every other stack of this model and stage."""
        return PlatformResources(
            data_bucket=self.data_bucket,
            data_key=self.data_key,
            execution_role=self.execution_role,
            alert_topic=self.alert_topic,
        )
