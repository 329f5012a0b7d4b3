"""An S3 bucket with the security defaults an ML platform's data needs."""

from __future__ import annotations

from aws_cdk import Duration, FeatureFlags, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..._nag import acknowledge, acknowledge_wildcard_resources
from ..._validation import invalid, require_int, require_key_prefix
from ...compliance import acknowledge_packs

_OWNER = "SecureBucket"
# Server access logs are delivered under the log bucket's policy, never an ACL: every bucket here has ACLs disabled.
LOG_DELIVERY_FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


class SecureBucket(s3.Bucket):
    """An ``s3.Bucket`` that is KMS-encrypted, versioned, private, SSL-only and access-logged.

    * SSE-KMS with an S3 bucket key: ``encryption_key``, or a rotating key
      aws-cdk-lib creates as the child ``Key`` (retained like the bucket);
    * versioning, all public access blocked, ACLs disabled, a TLS-1.2-only
      policy, lifecycle rules expiring noncurrent versions and aborting
      incomplete multipart uploads;
    * server access logs to ``access_logs_bucket``, or to a new log bucket
      ``<id>AccessLogs`` next to this one (:meth:`log_bucket`);
    * ``event_bridge_enabled``: object events go to EventBridge (set on the
      resource, without the custom-resource Lambda the L2 prop deploys);
    * ``replication_bucket`` and ``replication_key`` (both or neither): S3 Replication of every object
      version, delete markers included, into that (versioned) bucket, encrypting the replicas with that key
      (S3 replicates SSE-KMS objects only into a given key); aws-cdk-lib creates the ``ReplicationRole``.

    Retained on ``cdk destroy`` unless ``removal_policy`` says otherwise:
    losing training data or model artifacts must be a choice. Access logging
    needs the app's ``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`` feature
    flag (``cdk init`` sets it): log delivery is granted by bucket policy.
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
        replication_bucket: s3.IBucket | None = None,
        replication_key: kms.IKey | None = None,
    ) -> None:
        if (replication_bucket is None) != (replication_key is None):
            missing = "replication_key" if replication_key is None else "replication_bucket"
            raise invalid(_OWNER, missing, None, "given with the other: a replication destination needs a bucket "
                          "and the KMS key that encrypts the replicas there")
        require_int(_OWNER, "noncurrent_version_expiration_days", noncurrent_version_expiration_days, minimum=1)
        require_int(_OWNER, "abort_incomplete_upload_days", abort_incomplete_upload_days, minimum=1)
        require_key_prefix(_OWNER, "access_logs_prefix", access_logs_prefix)
        if not FeatureFlags.of(scope).is_enabled(LOG_DELIVERY_FLAG):
            raise invalid(_OWNER, "access_logs_bucket", access_logs_bucket,
                          f"a log bucket granted by policy: set the context flag \"{LOG_DELIVERY_FLAG}\": true "
                          "in cdk.json (every bucket here has ACLs disabled, so ACL-based log delivery cannot work)")
        logs = access_logs_bucket or self.log_bucket(scope, f"{id}AccessLogs", removal_policy=removal_policy)
        super().__init__(
            scope,
            id,
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=logs,
            server_access_logs_prefix=access_logs_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(noncurrent_version_expiration_days),
                    abort_incomplete_multipart_upload_after=Duration.days(abort_incomplete_upload_days),
                )
            ],
            removal_policy=removal_policy,
            replication_rules=None if replication_bucket is None else [s3.ReplicationRule(
                destination=replication_bucket, kms_key=replication_key, sse_kms_encrypted_objects=True,
                delete_marker_replication=True, priority=0)],
        )
        self.access_logs_bucket: s3.IBucket = logs
        if replication_bucket is not None:
            self._acknowledge_replication_role(replication_bucket)
        if encryption_key is None:  # aws-cdk-lib created it: keep it as long as the data it encrypts
            self.encryption_key.apply_removal_policy(removal_policy)  # type: ignore[union-attr]
        if event_bridge_enabled:
            cfn_bucket: s3.CfnBucket = self.node.default_child  # type: ignore[assignment]
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True)
            )

    def _acknowledge_replication_role(self, destination: s3.IBucket) -> None:
        role = self.node.find_child("ReplicationRole")
        acknowledge_wildcard_resources(role, [
            (f"{self.bucket_arn}/*", "Replication reads every object version of this bucket: that is what it copies."),
            (f"{destination.bucket_arn}/*", "Replication writes every object version into its destination bucket."),
        ])
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(role, f"AwsSolutions-IAM5[Action::{action}]",
                        "aws-cdk-lib's encrypt grant on the replica key only: S3 encrypts the replicas with it.")

    @staticmethod
    def log_bucket(scope: Construct, id: str, *, removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> s3.Bucket:
        """A bucket for server access logs: SSE-S3 (the only encryption log delivery supports), versioned, private."""
        bucket = s3.Bucket(
            scope,
            id,
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
        acknowledge(bucket, "AwsSolutions-S1",
                    "This is the server-access-log destination; logging it to itself would loop.")
        acknowledge_packs(bucket, "S3DefaultEncryptionKMS",
                          "S3 server access log delivery supports only SSE-S3 on the destination bucket, not SSE-KMS.")
        return bucket
