"""An S3 bucket with the security defaults an ML platform's data needs."""

from __future__ import annotations

import re

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._validation import require_int, require_pattern
from ._nag import acknowledge

_OWNER = "SecureBucket"
_PREFIX_RE = re.compile(r"^(?!/)[^\x00]*$")


class SecureBucket(Construct):
    """A KMS-encrypted, versioned, private, SSL-only bucket with access logging.

    Creates:
      * a customer-managed KMS key with rotation (unless ``encryption_key`` is given);
      * the bucket: SSE-KMS with an S3 bucket key, versioning, all public access
        blocked, ACLs disabled, a TLS-1.2-only bucket policy, lifecycle rules that
        expire noncurrent versions and abort incomplete multipart uploads;
      * a server-access-log bucket (SSE-S3, the only encryption S3 log delivery
        supports) unless ``access_logs_bucket`` is given.

    Stateful resources are retained on ``cdk destroy`` unless ``removal_policy``
    says otherwise: losing training data or model artifacts must be a choice.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        access_logs_bucket: s3.IBucket | None = None,
        access_logs_prefix: str = "access-logs/",
        event_bridge_enabled: bool = False,
        noncurrent_version_expiration_days: int = 90,
        abort_incomplete_upload_days: int = 7,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        # Grant log delivery through the log bucket's policy, not the legacy
        # ACL (ACLs are disabled on every bucket here), whatever the app's flags.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        require_int(_OWNER, "noncurrent_version_expiration_days", noncurrent_version_expiration_days, minimum=1)
        require_int(_OWNER, "abort_incomplete_upload_days", abort_incomplete_upload_days, minimum=1)
        require_pattern(_OWNER, "access_logs_prefix", access_logs_prefix, _PREFIX_RE, "a key prefix not starting with '/'")

        self.encryption_key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            description=f"Encrypts {self.node.path}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.log_bucket: s3.IBucket = access_logs_bucket or self._create_log_bucket(removal_policy)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.encryption_key,
            bucket_key_enabled=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix=access_logs_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(noncurrent_version_expiration_days),
                    abort_incomplete_multipart_upload_after=Duration.days(abort_incomplete_upload_days),
                )
            ],
            removal_policy=removal_policy,
        )
        if event_bridge_enabled:
            # Set on the resource itself: the L2 prop deploys a notifications
            # custom-resource Lambda just to flip this switch.
            cfn_bucket: s3.CfnBucket = self.bucket.node.default_child  # type: ignore[assignment]
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True)
            )

    def _create_log_bucket(self, removal_policy: RemovalPolicy) -> s3.Bucket:
        log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access log delivery only supports SSE-S3 on the target.
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-logs",
                    expiration=Duration.days(365),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
            removal_policy=removal_policy,
        )
        acknowledge(
            log_bucket,
            "AwsSolutions-S1",
            "This is the server-access-log destination; logging it to itself would loop.",
        )
        return log_bucket

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    @property
    def bucket_arn(self) -> str:
        return self.bucket.bucket_arn

    def grant_read(self, grantee: iam.IGrantable, prefix: str = "") -> iam.Grant:
        """Read objects under ``prefix`` (and decrypt them with the bucket key)."""
        return self.bucket.grant_read(grantee, f"{prefix}*")

    def grant_read_write(self, grantee: iam.IGrantable, prefix: str = "") -> iam.Grant:
        """Read and write objects under ``prefix`` (and use the bucket key)."""
        return self.bucket.grant_read_write(grantee, f"{prefix}*")

    def grant_put(self, grantee: iam.IGrantable, prefix: str = "") -> iam.Grant:
        """Write objects under ``prefix`` only."""
        return self.bucket.grant_put(grantee, f"{prefix}*")
