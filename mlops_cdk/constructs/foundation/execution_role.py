"""A least-privilege execution role for SageMaker jobs, pipelines and endpoints."""

from __future__ import annotations

from collections.abc import Iterable

import jsii
from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validation import require_choice
from ._nag import acknowledge, acknowledge_bucket_grant, acknowledge_wildcard_resources
from .images import IMAGE_KEYS, image_repository_arn
from .secure_bucket import SecureBucket

_OWNER = "SageMakerExecutionRole"


@jsii.implements(iam.IGrantable)
class SageMakerExecutionRole(Construct):
    """An IAM role trusted by ``sagemaker.amazonaws.com`` with no managed ``*FullAccess`` policy.

    Out of the box it may only write SageMaker's own CloudWatch logs and
    metrics and pull the first-party images the platform uses (XGBoost,
    scikit-learn, Model Monitor, Clarify) from their regional registries.
    Everything else is granted explicitly, scoped to a bucket, prefix or key,
    through the ``grant_*`` helpers.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        description: str | None = None,
        images: Iterable[str] = IMAGE_KEYS,
    ) -> None:
        super().__init__(scope, id)
        images = tuple(images)
        for image in images:
            require_choice(_OWNER, "images", image, IMAGE_KEYS)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=description or f"SageMaker execution role of {self.node.path}",
        )
        self._policy = iam.Policy(self, "BasePolicy", roles=[self.role])
        self._add_logs_and_metrics()
        if images:
            self._add_image_pull(images)

    # ------------------------------------------------------------- base policy
    def _add_logs_and_metrics(self) -> None:
        log_group = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/*"
        self._policy.add_statements(
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
            self._policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*]",
            "SageMaker names job log groups per job type under /aws/sagemaker/; they are created at run time.",
        )
        acknowledge(
            self._policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*:log-stream:*]",
            "Log streams are created per job at run time inside the /aws/sagemaker/ log groups.",
        )
        acknowledge(
            self._policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData and ecr:GetAuthorizationToken support no resource-level permissions; "
            "metrics are restricted to SageMaker namespaces by condition.",
        )

    def _add_image_pull(self, images: tuple[str, ...]) -> None:
        self._policy.add_statements(
            iam.PolicyStatement(
                sid="EcrAuth",
                actions=["ecr:GetAuthorizationToken"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="PullFirstPartyImages",
                actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[image_repository_arn(self, image) for image in images],
            ),
        )

    # ------------------------------------------------------------------ grants
    @property
    def role_arn(self) -> str:
        return self.role.role_arn

    @property
    def policies(self) -> list[iam.Policy]:
        """Every policy attached to the role so far (depend on these, not the role, to wait for permissions)."""
        found = [c for c in self.node.children if isinstance(c, iam.Policy)]
        default = self.role.node.try_find_child("DefaultPolicy")
        return found + ([default] if default is not None else [])

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self.role.grant_principal

    def grant_bucket_read(self, bucket: SecureBucket | s3.IBucket, prefix: str = "") -> iam.Grant:
        """Read objects under ``prefix`` of ``bucket`` (with its KMS key)."""
        target = bucket.bucket if isinstance(bucket, SecureBucket) else bucket
        grant = target.grant_read(self.role, f"{prefix}*")
        self._acknowledge_object_wildcard(target, prefix)
        return grant

    def grant_bucket_read_write(self, bucket: SecureBucket | s3.IBucket, prefix: str = "") -> iam.Grant:
        """Read and write objects under ``prefix`` of ``bucket`` (with its KMS key)."""
        target = bucket.bucket if isinstance(bucket, SecureBucket) else bucket
        grant = target.grant_read_write(self.role, f"{prefix}*")
        self._acknowledge_object_wildcard(target, prefix)
        return grant

    def grant_pipeline_jobs(self, model_package_group_name: str | None = None) -> None:
        """What a SageMaker pipeline running as this role needs to run its steps.

        Pipelines name their jobs ``pipelines-<execution>-<step>-<hash>``, so
        job permissions are limited to that prefix; registering a model is
        limited to one model package group; the role may pass only itself,
        and only to SageMaker.
        """
        arn = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        jobs = [f"{arn}:{kind}/pipelines-*" for kind in ("processing-job", "training-job", "transform-job")]
        statements = [
            iam.PolicyStatement(
                sid="PipelineJobs",
                actions=[
                    "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
                    "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                    "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob",
                    "sagemaker:AddTags",
                ],
                resources=jobs,
            ),
            iam.PolicyStatement(
                sid="PipelineExperiments",
                actions=[
                    "sagemaker:CreateExperiment", "sagemaker:CreateTrial", "sagemaker:CreateTrialComponent",
                    "sagemaker:AssociateTrialComponent", "sagemaker:UpdateTrialComponent",
                    "sagemaker:DescribeExperiment", "sagemaker:DescribeTrial", "sagemaker:DescribeTrialComponent",
                    "sagemaker:AddTags",
                ],
                resources=[f"{arn}:experiment/*", f"{arn}:experiment-trial/*", f"{arn}:experiment-trial-component/*"],
            ),
            iam.PolicyStatement(
                sid="PassOwnRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]
        if model_package_group_name is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="RegisterModelVersions",
                    actions=["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:AddTags"],
                    resources=[
                        f"{arn}:model-package-group/{model_package_group_name}",
                        f"{arn}:model-package/{model_package_group_name}/*",
                    ],
                )
            )
        policy = iam.Policy(self, "PipelinePolicy", roles=[self.role], statements=statements)
        for kind in ("processing-job", "training-job", "transform-job"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{kind}/pipelines-*]",
                "Pipeline job names are generated per execution; limited to the 'pipelines-' prefix SageMaker uses.",
            )
        for kind in ("experiment", "experiment-trial", "experiment-trial-component"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{kind}/*]",
                "Experiment and trial names derive from pipeline execution ids, known only at run time.",
            )
        if model_package_group_name is not None:
            acknowledge_wildcard_resources(
                policy,
                [(f"{arn}:model-package/{model_package_group_name}/*",
                  "Model package versions are numbered at registration; limited to one model package group.")],
            )

    def grant_key(self, key: kms.IKey) -> iam.Grant:
        """Encrypt and decrypt with ``key`` (volumes, outputs, captured data)."""
        return key.grant_encrypt_decrypt(self.role)

    def add_to_policy(self, statement: iam.PolicyStatement) -> None:
        """Add a statement the helpers don't cover; it lands in the role's default policy."""
        self.role.add_to_principal_policy(statement)

    def _acknowledge_object_wildcard(self, bucket: s3.IBucket, prefix: str) -> None:
        acknowledge_bucket_grant(self.role, bucket, f"{prefix}*", f"access is limited to the prefix '{prefix}'.")
