"""Replication of the data bucket to another bucket (another region, as a rule), as configuration.

cdk.json's ``replication`` (``{"bucket_arn": "arn:aws:s3:::team-ml-replica", "key_arn": "arn:aws:kms:..."}``)
replicates every object version of the platform's data bucket, delete markers included, with S3 Replication.
The destination must exist and be versioned. The data bucket is SSE-KMS, and S3 replicates SSE-KMS objects
only into a given KMS key (``ReplicaKmsKeyID``), so ``key_arn`` is required: a key in the destination's
region. A destination in another account must also admit the replication role in its bucket and key policies.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from .._validation import invalid
from ._base import Settings

# S3 bucket names (3-63 lower-case letters, digits, dots, hyphens) and KMS key ARNs (a key id, not an alias).
BUCKET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$")
BUCKET_ALLOWED = "the ARN of a versioned S3 bucket, arn:aws:s3:::<bucket name>"
KEY_ALLOWED = "the ARN of a KMS key in the destination's region, arn:aws:kms:<region>:<account>:key/<key id>"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReplicationSettings(Settings):
    """Where the data bucket replicates to.

    Attributes:
        bucket_arn: the destination bucket (versioned; another region keeps a copy if this one fails).
        key_arn: the KMS key that encrypts the replicas in the destination's region.
    """

    bucket_arn: str
    key_arn: str

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        bucket, key = values.get("bucket_arn"), values.get("key_arn")
        if not isinstance(bucket, str) or not BUCKET_ARN_RE.match(bucket) or ".." in bucket:
            raise invalid(owner, f"{path}bucket_arn", bucket, BUCKET_ALLOWED)
        if not isinstance(key, str) or not KEY_ARN_RE.match(key):
            raise invalid(owner, f"{path}key_arn", key, KEY_ALLOWED)
        if bucket.split(":")[1] != key.split(":")[1]:
            raise invalid(owner, f"{path}key_arn", key, f"a key of the bucket's partition ({bucket.split(':')[1]})")


__all__ = ["ReplicationSettings"]
