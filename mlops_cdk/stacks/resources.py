"""What every per-model stack is built on, as objects: the data bucket and its key, the SageMaker role, the alert topic."""

from __future__ import annotations

import dataclasses

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from .._validation import invalid
from ..constructs.common.network_placement import NetworkPlacement


@dataclasses.dataclass(frozen=True)
class PlatformResources:
    """The shared resources of one model and stage, passed to every per-model stack as ``resources=``.

    ``FoundationStack(...).resources`` creates them; a team that has its own
    passes aws-cdk-lib objects instead, created or imported anywhere in its
    app (``s3.Bucket.from_bucket_attributes(..., encryption_key=key)``,
    ``kms.Key.from_key_arn``, ``iam.Role.from_role_arn``, ``sns.Topic.from_topic_arn``).

    Attributes:
        data_bucket: training data, pipeline artifacts, captured traffic,
            baselines and reports (the layout is ``mlops_cdk.locations``).
        data_key: the KMS key of ``data_bucket``'s objects; also encrypts job
            volumes, endpoint storage, feature stores and monitoring outputs.
        execution_role: the role SageMaker monitoring jobs run as. Stacks grant it
            what each job needs when it is mutable; an immutable import must
            already read and write the bucket and use the key.
        alert_topic: where alarms, failed runs and manual-review requests go. An
            imported topic's policies must let CloudWatch and EventBridge publish.
        network: where the compute runs (a ``NetworkPlacement``: ``PlatformNetwork(...).placement`` or
            ``PlatformNetwork.from_existing(...)``). ``None`` (default): AWS-managed networking. Set,
            every Lambda, pipeline job, monitoring job and endpoint runs in its subnets.
    """

    data_bucket: s3.IBucket
    data_key: kms.IKey
    execution_role: iam.IRole
    alert_topic: sns.ITopic
    network: NetworkPlacement | None = None

    def __post_init__(self) -> None:
        # jsii interfaces cannot be isinstance-checked (an imported key is a dynamic proxy, not a Construct):
        # test the attributes that make a construct of each kind.
        for field, attribute, kind in (("data_bucket", "bucket_arn", "an s3.IBucket"),
                                       ("data_key", "key_arn", "a kms.IKey"),
                                       ("execution_role", "role_arn", "an iam.IRole"),
                                       ("alert_topic", "topic_arn", "an sns.ITopic")):
            value = getattr(self, field)
            if not hasattr(value, "node") or not hasattr(value, attribute):
                raise invalid("PlatformResources", field, value, kind)
        if self.network is not None and not isinstance(self.network, NetworkPlacement):
            raise invalid("PlatformResources", "network", self.network, "a NetworkPlacement, or None")
