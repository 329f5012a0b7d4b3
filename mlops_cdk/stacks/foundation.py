"""Shared, stateful base of one model's platform: data bucket, execution role, alerts."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, CfnResource, Environment, Fn, RemovalPolicy, Stack, Tags
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._nag import acknowledge_bucket_grant
from .._validation import invalid
from ..compliance import acknowledge_packs
from ..config import PlatformConfig
from ..constructs.common.network_placement import NetworkPlacement
from ..constructs.cost import CostGuardrails
from ..constructs.foundation.alert_topic import AlertTopic
from ..constructs.foundation.execution_role import SageMakerExecutionRole
from ..constructs.foundation.secure_bucket import SecureBucket
from ..constructs.network.platform_network import PlatformNetwork
from ..settings.network import CreateNetwork, network_settings
from .resources import PlatformResources


DATA_REPLICATION_REASON = (
    "Replication to a second region is a deployment choice (its cost, data residency): the bucket is versioned "
    "and retained, and its noncurrent versions kept 90 days; the replication setting turns it on.")
LOG_REPLICATION_REASON = (
    "Server access logs are kept a year in this region (versioned, retained); replicating them elsewhere is a "
    "deployment choice (its cost, data residency).")


def apply_standard_tags(scope: Construct, config: PlatformConfig) -> None:
    """Tag every taggable resource under ``scope`` with project, model, stage and extras.

    ``Tags.of`` is an aspect, so resources added later in the scope are tagged too.
    """
    tags = Tags.of(scope)
    for key, value in config.standard_tags.items():
        tags.add(key, value)


_RAW_TAGGABLE = ("AWS::IAM::Role", "AWS::Lambda::Function")


def tag_custom_resource_providers(stack: Stack, config: PlatformConfig) -> None:
    """aws-cdk-lib's custom-resource providers (``Custom::...Provider``: the VPC's default-security-group
    cleanup) are raw ``CfnResource`` roles and functions, which ``Tags.of`` cannot reach: tag them directly."""
    tags = [{"Key": key, "Value": value} for key, value in config.standard_tags.items()]
    for provider in stack.node.children:
        if not provider.node.id.startswith("Custom::"):
            continue
        for child in provider.node.children:
            if type(child) is CfnResource and child.cfn_resource_type in _RAW_TAGGABLE:
                child.add_property_override("Tags", tags)


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

    ``config.replication`` (``ReplicationSettings``) replicates the data bucket into an existing bucket and key
    (S3 Replication); without it, the compliance packs' replication finding is acknowledged with the reason.

    ``config.network`` adds the network every other stack places its compute in: ``create`` builds a
    ``PlatformNetwork`` (``.network``; outputs ``VpcId``), an existing VPC is imported by id; either
    way ``.placement`` (also ``resources.network``) and the ``SubnetIds`` output. ``none``: neither.
    """

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **stack_props(config, "foundation", kwargs))
        self.config = config

        # The bucket, its key and its log bucket sit under "Data" and the role and topic under their own
        # scopes: the construct paths of the first release, so deployed data keeps its logical IDs.
        data = Construct(self, "Data")
        replication = config.replication
        self.data_bucket = SecureBucket(
            data,
            "Bucket",
            bucket_name=config.data_bucket_name(),
            encryption_key=kms.Key(data, "Key", description=f"Encrypts {data.node.path}", enable_key_rotation=True,
                                   removal_policy=RemovalPolicy.RETAIN),
            access_logs_bucket=SecureBucket.log_bucket(data, "AccessLogs"),
            event_bridge_enabled=True,
            replication_bucket=None if replication is None else s3.Bucket.from_bucket_arn(
                data, "ReplicaBucket", replication.bucket_arn),
            replication_key=None if replication is None else kms.Key.from_key_arn(
                data, "ReplicaKey", replication.key_arn),
        )
        self.data_key: kms.IKey = self.data_bucket.encryption_key  # type: ignore[assignment]
        if replication is None:
            acknowledge_packs(self.data_bucket, "S3BucketReplicationEnabled", DATA_REPLICATION_REASON)
        acknowledge_packs(self.data_bucket.access_logs_bucket, "S3BucketReplicationEnabled", LOG_REPLICATION_REASON)
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
        self.network, self.placement = self._network(config)
        apply_standard_tags(self, config)
        tag_custom_resource_providers(self, config)

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
            network=self.placement,
        )

    def _network(self, config: PlatformConfig) -> tuple[PlatformNetwork | None, NetworkPlacement | None]:
        """``config.network``: a new ``PlatformNetwork`` (flow logs under the data key), an imported VPC, or none."""
        # getattr: PlatformConfig.network arrives with the lead's config change; until then no network.
        settings = network_settings(config.network)
        if settings is None:
            return None, None
        if isinstance(settings, CreateNetwork):
            network = PlatformNetwork(self, "Network", cidr=settings.cidr, max_azs=settings.max_azs,
                                      flow_log_key=self.data_key)
            placement = network.placement
            CfnOutput(self, "VpcId", value=network.vpc.vpc_id, description="VPC of the platform's compute")
        else:
            network, placement = None, PlatformNetwork.placement_of(self, "Network", settings)
        CfnOutput(self, "SubnetIds", value=Fn.join(",", placement.subnet_ids()),
                  description="Subnets the platform's compute runs in")
        return network, placement
