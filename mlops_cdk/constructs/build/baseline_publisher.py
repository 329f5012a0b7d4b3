"""Publishes the baselines of each approved model version to the fixed keys the monitors read."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import locations
from .._validation import invalid
from ._nag import acknowledge_wildcard_resources
from .alert_topic import AlertTopic
from .model_registry import ModelRegistry
from .platform_function import PlatformFunction
from .secure_bucket import SecureBucket

_OWNER = "BaselinePublisher"


class BaselinePublisher(Construct):
    """On approval of a version of ``registry``, copies its drift baselines to ``baselines/`` of the data bucket.

    Model Monitor schedules and the own drift checker read one fixed location
    (``locations.DATA_QUALITY_STATISTICS``, ``DATA_QUALITY_CONSTRAINTS``,
    ``DRIFT_BASELINE``); this keeps it equal to the baselines registered with the
    latest *approved* version, and writes ``locations.BASELINE_MANIFEST``
    naming that version. The function may read only ``source_prefix`` (where
    the pipeline writes) and write only ``baselines/``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: ModelRegistry,
        data_bucket: SecureBucket | s3.IBucket,
        source_prefix: str,
        alert_topic: AlertTopic | sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        if not isinstance(source_prefix, str) or not source_prefix.endswith("/") or source_prefix.startswith("/"):
            raise invalid(_OWNER, "source_prefix", source_prefix, "a key prefix ending in '/', e.g. 'my-pipeline/'")
        bucket = data_bucket.bucket if isinstance(data_bucket, SecureBucket) else data_bucket
        topic = alert_topic.topic if isinstance(alert_topic, AlertTopic) else alert_topic
        self.function = PlatformFunction(
            self,
            "Function",
            code="baseline_publisher",
            description=f"Publishes baselines of approved versions of {registry.model_package_group_name}",
            environment={
                "MODEL_PACKAGE_GROUP": registry.model_package_group_name,
                "DATA_BUCKET": bucket.bucket_name,
                "STATISTICS_KEY": locations.DATA_QUALITY_STATISTICS,
                "CONSTRAINTS_KEY": locations.DATA_QUALITY_CONSTRAINTS,
                "HISTOGRAM_KEY": locations.DRIFT_BASELINE,
                "MANIFEST_KEY": locations.BASELINE_MANIFEST,
            },
        )
        role = self.function.role
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=[registry.model_package_arn_pattern])
        )
        registry.acknowledge_package_wildcard(role)
        sources, targets = bucket.arn_for_objects(f"{source_prefix}*"), bucket.arn_for_objects(f"{locations.BASELINES}*")
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[sources]))
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[targets]))
        acknowledge_wildcard_resources(role, [
            (sources, f"Baselines are written per pipeline execution under '{source_prefix}'; read-only there."),
            (targets, f"The function writes only the fixed baseline keys under '{locations.BASELINES}'."),
        ])
        if bucket.encryption_key is not None:  # exactly what copying within an SSE-KMS bucket needs
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[bucket.encryption_key.key_arn]))
        self.rule = self.function.trigger(
            self,
            "Trigger",
            description=f"Approved versions of {registry.model_package_group_name}",
            event_pattern=registry.approval_change_pattern(["Approved"]),
        )
        self.dead_letter_alarm = self.function.alarm_on_dead_letters(
            self,
            "DeadLetterAlarm",
            topic=topic,
            description="Baselines of an approved model version could not be published: monitors still read "
            "the previous ones; rerun by re-approving or copy them by hand",
        )
