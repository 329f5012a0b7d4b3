"""What a monitoring job's role may do, written into one ``iam.Policy`` that the monitor owns.

The role may belong to another stack (a foundation's, or a team's imported one), so nothing
is added to the role itself: the monitor creates the policy in its own stack and attaches it
to the role, which keeps the reference one way (policy -> role) and needs no cycle.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from ..._nag import acknowledge, acknowledge_wildcard_resources
from ..._pseudo import Aws


class JobGrants:
    """Adds the statements of one monitoring job to ``policy``; ``finish()`` adds the KMS ones and acknowledgments.

    ``encryption_key`` encrypts the job's volumes and outputs; every other key met while
    granting reads is used through S3 only (``kms:ViaService``).
    """

    def __init__(self, policy: iam.Policy, encryption_key: kms.IKey) -> None:
        self.policy = policy
        self.encryption_key = encryption_key
        self._decrypt_keys: list[kms.IKey] = []
        self._wildcards: list[tuple[str, str]] = []

    def runtime(self, image_repository_arn: str, *, in_vpc: bool) -> None:
        """What any monitoring job needs to run: its image, its logs, its metrics (and a VPC's network interfaces)."""
        log_group = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/ProcessingJobs"
        self.policy.add_statements(
            iam.PolicyStatement(sid="PullImage", resources=[image_repository_arn],
                                actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                         "ecr:GetDownloadUrlForLayer"]),
            iam.PolicyStatement(sid="EcrAuthorization", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(sid="JobLogs", resources=[log_group, f"{log_group}:log-stream:*"],
                                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                         "logs:DescribeLogStreams"]),
            iam.PolicyStatement(sid="PublishMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
                                conditions={"StringLike": {"cloudwatch:namespace": "aws/sagemaker/Endpoints/*"}}),
        )
        if in_vpc:
            self.policy.add_statements(iam.PolicyStatement(
                sid="NetworkInterfaces", resources=["*"],
                actions=["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                         "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                         "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                         "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]))
        acknowledge(self.policy, "AwsSolutions-IAM5[Resource::*]",
                    "ecr:GetAuthorizationToken, cloudwatch:PutMetricData and the EC2 network-interface calls of a "
                    "VPC job support no resource-level permissions; metrics are limited to SageMaker's namespaces.")
        acknowledge(self.policy, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
                                 "<AWS::AccountId>:log-group:/aws/sagemaker/ProcessingJobs:log-stream:*]",
                    "SageMaker creates one log stream per monitoring run in the processing-job log group.")

    def read(self, sid: str, bucket: s3.IBucket, key_pattern: str, key: kms.IKey | None = None, *,
             list_prefix: str | None = None, why: str | None = None) -> None:
        """Read ``key_pattern`` of ``bucket`` (and list ``list_prefix``), decrypting with ``key``.

        ``key`` defaults to the bucket's, then to ``encryption_key``; ``why`` explains a wildcard pattern.
        """
        objects = bucket.arn_for_objects(key_pattern)
        self.policy.add_statements(iam.PolicyStatement(sid=sid, actions=["s3:GetObject"], resources=[objects]))
        if list_prefix is not None:
            self.policy.add_statements(iam.PolicyStatement(
                sid=f"List{sid.removeprefix('Read')}", actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [list_prefix, f"{list_prefix}*"]}}))
        if why is not None:
            self._wildcards.append((objects, why))
        decrypt = key or bucket.encryption_key or self.encryption_key
        if all(decrypt is not k for k in self._decrypt_keys):
            self._decrypt_keys.append(decrypt)

    def write(self, sid: str, bucket: s3.IBucket, key_pattern: str, *, why: str) -> None:
        """Write objects under ``key_pattern`` of ``bucket`` (encrypted with ``encryption_key``)."""
        objects = bucket.arn_for_objects(key_pattern)
        self.policy.add_statements(iam.PolicyStatement(sid=sid, actions=["s3:PutObject"], resources=[objects]))
        self._wildcards.append((objects, why))

    def finish(self) -> None:
        """KMS: ``encryption_key`` for volumes and outputs; every other key read through S3 only."""
        key = self.encryption_key
        self.policy.add_statements(
            iam.PolicyStatement(sid="EncryptOutputs", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                resources=[key.key_arn]),
            # EBS attaches the volume key to the job's instances through a grant.
            iam.PolicyStatement(sid="EncryptVolumes", actions=["kms:CreateGrant"], resources=[key.key_arn],
                                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        )
        others = [k for k in self._decrypt_keys if k is not key]
        if others:
            self.policy.add_statements(iam.PolicyStatement(
                sid="DecryptInputs", actions=["kms:Decrypt"], resources=[k.key_arn for k in others],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.{Aws.URL_SUFFIX}"}}))
        acknowledge_wildcard_resources(self.policy, self._wildcards)


__all__ = ["JobGrants"]
