"""Least-privilege S3, KMS and CloudWatch access of a checker function, statement by statement.

The own checkers read a few key prefixes (captured traffic, labels, a baseline object),
write reports under one prefix and publish metrics in one namespace. Their role is their
own (``PlatformFunction``), so statements go on it directly; buckets and keys may belong to
another stack or team. Every key is used through S3 only (``kms:ViaService``).
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from ..._nag import acknowledge, acknowledge_wildcard_resources
from ..._pseudo import Aws
from ..common.platform_function import PlatformFunction



class FunctionAccess:
    """Collects the statements of one function's role; ``finish()`` adds the KMS ones and acknowledgments."""

    def __init__(self, function: PlatformFunction) -> None:
        self.function = function
        self._decrypt: list[kms.IKey] = []
        self._encrypt: list[kms.IKey] = []
        self._wildcards: list[tuple[str, str]] = []

    def read_prefix(self, sid: str, bucket: s3.IBucket, prefix: str, key: kms.IKey | None, *, why: str) -> None:
        """List and read every object under ``prefix`` (written at run time: ``why`` says whose they are)."""
        objects = bucket.arn_for_objects(f"{prefix}*")
        self._add(iam.PolicyStatement(sid=f"List{sid}", actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                                      conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}))
        self._add(iam.PolicyStatement(sid=f"Read{sid}", actions=["s3:GetObject"], resources=[objects]))
        self._wildcards.append((objects, why))
        self._key(self._decrypt, key)

    def read_object(self, sid: str, bucket: s3.IBucket, object_key: str, key: kms.IKey | None) -> None:
        """Read one object (a baseline)."""
        self._add(iam.PolicyStatement(sid=f"Read{sid}", actions=["s3:GetObject"],
                                      resources=[bucket.arn_for_objects(object_key)]))
        self._key(self._decrypt, key)

    def write_prefix(self, sid: str, bucket: s3.IBucket, prefix: str, key: kms.IKey | None, *, why: str) -> None:
        """Create objects under ``prefix`` (reports named at run time)."""
        objects = bucket.arn_for_objects(f"{prefix}*")
        self._add(iam.PolicyStatement(sid=f"Write{sid}", actions=["s3:PutObject"], resources=[objects]))
        self._wildcards.append((objects, why))
        self._key(self._encrypt, key)

    def put_metrics(self, sid: str, namespace: str) -> None:
        """Publish CloudWatch metrics in ``namespace`` only (the action has no resource-level permission)."""
        self._add(iam.PolicyStatement(sid=sid, actions=["cloudwatch:PutMetricData"], resources=["*"],
                                      conditions={"StringEquals": {"cloudwatch:namespace": namespace}}))
        acknowledge(self.function.role, "AwsSolutions-IAM5[Resource::*]",
                    "cloudwatch:PutMetricData supports no resource-level permission; limited to the checker's "
                    "namespace by the cloudwatch:namespace condition.")

    def finish(self) -> None:
        via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.{Aws.URL_SUFFIX}"}}
        if self._decrypt:
            self._add(iam.PolicyStatement(sid="DecryptThroughS3", actions=["kms:Decrypt"],
                                          resources=[k.key_arn for k in self._decrypt], conditions=via_s3))
        if self._encrypt:
            self._add(iam.PolicyStatement(sid="EncryptReportsThroughS3", actions=["kms:GenerateDataKey"],
                                          resources=[k.key_arn for k in self._encrypt], conditions=via_s3))
        acknowledge_wildcard_resources(self.function.role, self._wildcards)

    def _add(self, statement: iam.PolicyStatement) -> None:
        self.function.add_to_role_policy(statement)

    @staticmethod
    def _key(keys: list[kms.IKey], key: kms.IKey | None) -> None:
        if key is not None and all(key is not k for k in keys):
            keys.append(key)


__all__ = ["FunctionAccess"]
