"""The platform's SageMaker Studio domain (course 10.5): VPC-only, in the platform's network, with its key and data."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from constructs import Construct

from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.studio.studio_domain import StudioDomain
from ..regions import STUDIO, require_capabilities
from ..settings.studio import StudioSettings
from .foundation import apply_standard_tags, stack_props
from .resources import PlatformResources

_OWNER = "StudioStack"


class StudioStack(Stack):
    """A :class:`StudioDomain` for one model and stage, configured by ``config.studio``.

    The domain runs in ``resources.network`` (Studio is VPC-only here: a platform without a network is
    refused), encrypts its volumes with ``resources.data_key``, and its default execution role reads
    ``resources.data_bucket`` and writes its ``studio/`` prefix. The domain is named
    ``<config.prefix>-studio-<digest>``; ``config.studio.removal`` decides what ``cdk destroy`` keeps.

    Keep this stack apart from the network's: the domain's EFS volume outlives it, and its network
    interfaces and NFS security groups block deleting the VPC until the volume is deleted (README, Studio).

    Attributes: ``studio`` (the ``StudioDomain``).
    Outputs: ``DomainId``, ``DomainUrl``, ``HomeEfsFileSystemId`` (what to delete after the domain),
    ``ExecutionRoleArn``.
    """

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, resources: PlatformResources,
                 **kwargs: Any) -> None:
        settings = config.studio if isinstance(config, PlatformConfig) else None
        if not isinstance(settings, StudioSettings):
            raise invalid(_OWNER, "config.studio", settings, "StudioSettings: set 'studio' in the configuration")
        if not isinstance(resources, PlatformResources) or resources.network is None:
            raise invalid(_OWNER, "resources.network", None,
                          "a NetworkPlacement: 'studio' runs VPC-only and needs the platform's 'network' "
                          "(set network to 'create' or to an existing VPC)")
        super().__init__(scope, id, **stack_props(config, "Studio domain", kwargs))
        require_capabilities(self, [STUDIO], why="the Studio stack")
        self.config = config

        minutes = settings.idle_shutdown_minutes
        self.studio = StudioDomain(
            self, "Studio",
            network=resources.network,
            kms_key=resources.data_key,
            data_bucket=resources.data_bucket,
            name_prefix=f"{config.prefix}-studio",
            user_profiles=settings.user_profiles,
            idle_shutdown=None if minutes is None else Duration.minutes(minutes),
            removal_policy=RemovalPolicy.RETAIN if settings.retain else RemovalPolicy.DESTROY,
        )
        apply_standard_tags(self, config)

        CfnOutput(self, "DomainId", value=self.studio.domain_id, description="SageMaker Studio domain")
        CfnOutput(self, "DomainUrl", value=self.studio.url, description="Studio sign-in URL (IAM: presigned URLs)")
        CfnOutput(self, "HomeEfsFileSystemId", value=self.studio.home_efs_file_system_id,
                  description="The domain's home EFS volume: CloudFormation leaves it behind, delete it after the domain")
        CfnOutput(self, "ExecutionRoleArn", value=self.studio.execution_role.role_arn,
                  description="Default execution role of Studio's apps")
