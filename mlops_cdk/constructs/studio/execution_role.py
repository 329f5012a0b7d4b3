"""The role Studio's apps run as: Studio's own logs, nothing else until a domain and its data grant more."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from ..._nag import acknowledge
from ..._pseudo import Aws

# Where Studio's JupyterLab and Code Editor apps write their logs (the log group SageMaker uses for Studio).
STUDIO_LOG_GROUP = "/aws/sagemaker/studio"


class StudioExecutionRole(iam.Role):
    """An ``iam.Role`` trusted by ``sagemaker.amazonaws.com``, with no managed policy (no ``AmazonSageMakerFullAccess``).

    Its ``BasePolicy`` allows writing Studio's own log group (``/aws/sagemaker/studio``) and nothing else.
    :class:`~mlops_cdk.constructs.studio.studio_domain.StudioDomain` grants it the apps and spaces of its
    domain (``grant_studio_use``) and, when given, reading the data bucket and writing its ``studio/`` prefix.
    What a data scientist does beyond that (start the platform's pipeline, read the model registry, run
    training jobs) is granted by the resource concerned, e.g. ``pipeline.grant_start_pipeline_execution(role)``.
    """

    def __init__(self, scope: Construct, id: str, *, description: str | None = None) -> None:
        super().__init__(
            scope, id,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=description or f"SageMaker Studio apps of {scope.node.path}",
        )
        log_group = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:{STUDIO_LOG_GROUP}"
        self.base_policy = iam.Policy(self, "BasePolicy", roles=[self], statements=[
            iam.PolicyStatement(sid="StudioLogGroup", actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                                resources=[log_group]),
            iam.PolicyStatement(sid="StudioLogStreams", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[f"{log_group}:log-stream:*"]),
        ])
        acknowledge(
            self.base_policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
            f"{STUDIO_LOG_GROUP}:log-stream:*]",
            "Studio names a log stream per app at run time, inside Studio's one log group.",
        )


__all__ = ["STUDIO_LOG_GROUP", "StudioExecutionRole"]
