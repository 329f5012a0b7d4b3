"""Publishes the baselines of each approved model version to the fixed keys the monitors read."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ... import locations
from ..._nag import acknowledge_wildcard_resources
from ..._validation import invalid, is_token, require_key_prefix
from ..common.platform_function import PlatformFunction
from ..common.network_placement import NetworkPlacement
from .model_registry import IModelRegistry, require_registry

_OWNER = "BaselinePublisher"
# Exactly what the function writes: the published baselines and the manifest naming their version.
_TARGETS = (locations.DATA_QUALITY_STATISTICS, locations.DATA_QUALITY_CONSTRAINTS, locations.DRIFT_BASELINE,
            locations.BIAS_BASELINE, locations.BASELINE_MANIFEST)


class BaselinePublisher(Construct):
    """On approval of a version of ``registry``, copies its baselines to ``baselines/`` of the data bucket.

    Model Monitor schedules and the own drift and bias checkers read one fixed location
    (``locations.DATA_QUALITY_STATISTICS``, ``DATA_QUALITY_CONSTRAINTS``,
    ``DRIFT_BASELINE``, ``BIAS_BASELINE``); this keeps it equal to the baselines registered with
    the latest *approved* version (its ``DriftCheckBaselines``, its
    ``BaselineHistogram`` and, if it has one, ``BiasBaseline`` customer metadata), and writes
    ``locations.BASELINE_MANIFEST`` naming that version. Creates a
    :class:`PlatformFunction` (``Function``), its ``Trigger`` rule on approvals
    and a ``DeadLetterAlarm`` notifying ``alert_topic``. The function may read
    the group's versions, read objects only under ``source_prefix`` (where the
    pipeline writes; it refuses baselines registered elsewhere) and write only
    those five keys, with ``data_key``.

    Args:
        registry: the group whose approvals publish baselines (created or imported).
        data_bucket: the bucket holding both the pipeline's outputs and ``baselines/``.
        data_key: the bucket's KMS key. Default: ``data_bucket.encryption_key`` (none for SSE-S3).
        source_prefix: where the pipeline writes its baselines, ending in '/' (``locations.pipeline_artifacts(name)``).
        alert_topic: notified when an approval could not be processed.
        network: a ``NetworkPlacement`` to run the function in (see ``PlatformFunction``). Default: none.
        encryption_key: the customer managed key of the function's logs, environment and dead-letter queue
            (see ``PlatformFunction``). Default: AWS-managed keys.

    The function's reserved concurrency is 1: two approvals published at once would interleave their writes
    to the same five keys.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: IModelRegistry,
        data_bucket: s3.IBucket,
        data_key: kms.IKey | None = None,
        source_prefix: str,
        alert_topic: sns.ITopic,
        network: NetworkPlacement | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        require_registry(_OWNER, registry)
        require_key_prefix(_OWNER, "source_prefix", source_prefix)
        if not is_token(source_prefix) and not source_prefix.endswith("/"):
            raise invalid(_OWNER, "source_prefix", source_prefix, "a key prefix ending in '/', e.g. 'my-pipeline/'")
        super().__init__(scope, id)
        group = registry.model_package_group_name
        self.function = PlatformFunction(
            self,
            "Function",
            code="baseline_publisher",
            description=f"Publishes baselines of approved versions of {group}",
            environment={
                "MODEL_PACKAGE_GROUP": group,
                "DATA_BUCKET": data_bucket.bucket_name,
                "SOURCE_PREFIX": source_prefix,
                "STATISTICS_KEY": locations.DATA_QUALITY_STATISTICS,
                "CONSTRAINTS_KEY": locations.DATA_QUALITY_CONSTRAINTS,
                "HISTOGRAM_KEY": locations.DRIFT_BASELINE,
                "BIAS_BASELINE_KEY": locations.BIAS_BASELINE,
                "MANIFEST_KEY": locations.BASELINE_MANIFEST,
            },
            network=network,
            reserved_concurrent_executions=1,
            encryption_key=encryption_key,
        )
        role = self.function.role
        registry.grant_read(role)
        sources = data_bucket.arn_for_objects(f"{source_prefix}*")
        targets = [data_bucket.arn_for_objects(key) for key in _TARGETS]
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[sources]))
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=targets))
        acknowledge_wildcard_resources(role, [
            (sources, f"Baselines are written per pipeline execution under '{source_prefix}'; read-only there."),
        ])
        key = data_key if data_key is not None else data_bucket.encryption_key
        if key is not None:  # exactly what copying within an SSE-KMS bucket needs
            key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")
        self.rule = self.function.trigger(
            self,
            "Trigger",
            description=f"Approved versions of {group}",
            event_pattern=registry.approval_change_pattern(["Approved"]),
        )
        self.dead_letter_alarm = self.function.alarm_on_dead_letters(
            self,
            "DeadLetterAlarm",
            topic=alert_topic,
            description="Baselines of an approved model version could not be published: monitors still read "
            "the previous ones; rerun by re-approving or copy them by hand",
        )
