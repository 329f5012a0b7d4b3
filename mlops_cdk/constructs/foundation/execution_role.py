"""A least-privilege execution role for SageMaker jobs, pipelines and endpoints."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_iam as iam
from constructs import Construct

from ..._nag import acknowledge
from ..._pseudo import Aws
from ..._validation import require_choice
from ..common.images import IMAGE_KEYS, image_repository_arn

_OWNER = "SageMakerExecutionRole"


class SageMakerExecutionRole(iam.Role):
    """An ``iam.Role`` trusted by ``sagemaker.amazonaws.com`` with no managed ``*FullAccess`` policy.

    Its ``BasePolicy`` allows only SageMaker's own CloudWatch logs and metrics
    and pulling the first-party ``images`` (XGBoost, scikit-learn, Model
    Monitor, Clarify) from their regional registries. Everything else is
    granted by the resources it uses, scoped to a prefix or key, e.g.
    ``bucket.grant_read(role, "training-data/*")``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        description: str | None = None,
        images: Iterable[str] = IMAGE_KEYS,
    ) -> None:
        images = tuple(images)
        for image in images:
            require_choice(_OWNER, "images", image, IMAGE_KEYS)
        super().__init__(
            scope,
            id,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=description or f"SageMaker execution role of {scope.node.path}/{id}",
        )
        self.base_policy = iam.Policy(self, "BasePolicy", roles=[self])
        self._add_logs_and_metrics()
        if images:
            self._add_image_pull(images)

    def _add_logs_and_metrics(self) -> None:
        log_group = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/*"
        self.base_policy.add_statements(
            iam.PolicyStatement(
                sid="SageMakerJobLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group, f"{log_group}:log-stream:*"],
            ),
            iam.PolicyStatement(
                sid="SageMakerJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
            ),
        )
        acknowledge(
            self.base_policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*]",
            "SageMaker names job log groups per job type under /aws/sagemaker/; they are created at run time.",
        )
        acknowledge(
            self.base_policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*:log-stream:*]",
            "Log streams are created per job at run time inside the /aws/sagemaker/ log groups.",
        )
        acknowledge(
            self.base_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData and ecr:GetAuthorizationToken support no resource-level permissions; "
            "metrics are restricted to SageMaker namespaces by condition.",
        )

    def _add_image_pull(self, images: tuple[str, ...]) -> None:
        self.base_policy.add_statements(
            iam.PolicyStatement(sid="EcrAuth", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                sid="PullFirstPartyImages",
                actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[image_repository_arn(self, image) for image in images],
            ),
        )
