"""Metric-gated approval of registered models: approve automatically, or ask a human."""

from __future__ import annotations

from typing import Any

from aws_cdk import Tokenization
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..._nag import acknowledge_wildcard_resources
from ..._validation import (
    invalid,
    is_token,
    require_choice,
    require_int,
    require_key_prefix,
    require_number,
    require_pattern,
)
from ...lambdas._shared import contract
from ..common.platform_function import PlatformFunction
from ..common.targets import grant_publish
from ..common.network_placement import NetworkPlacement
from .model_registry import IModelRegistry, require_registry

_OWNER = "MetricGatedApproval"
DEFAULT_METRIC_PATH = "binary_classification_metrics.accuracy.value"
MAX_EVENT_RETRY_ATTEMPTS = 185  # EventBridge's limit per target


class MetricGatedApproval(Construct):
    """Approves a registry's new model versions whose evaluation metric meets a threshold.

    Creates a :class:`PlatformFunction` (``Function``) running
    ``mlops_cdk/lambdas/model_approval``, triggered by an EventBridge rule
    (``Trigger``) on the registry's versions entering ``PendingManualApproval``
    (dead-letter queue, bounded retries), and an alarm on that queue notifying
    ``alert_topic``. The function approves a version only if the metric at
    ``metric_path`` of its model-quality report
    (``ModelMetrics.ModelQuality.Statistics``) is a finite number meeting
    ``threshold`` in the ``comparison`` direction; any other outcome leaves the
    version pending and notifies the topic. Its role may review and approve
    this group's versions (``registry.grant_approve``), read reports under
    ``metrics_prefix`` (``s3:GetObject``, and decrypt with ``metrics_key``),
    and publish to the topic.

    Args:
        registry: the group whose versions are gated (created or imported).
        alert_topic: where manual-review requests and dead-letter alarms go.
        metrics_bucket: where the evaluation reports are.
        metrics_key: the reports' KMS key. Default: ``metrics_bucket.encryption_key`` (none for SSE-S3).
        metrics_prefix: key prefix the function may read. Default: the whole bucket.
        metric_path: dotted path into the report. Default: the binary classification accuracy.
        threshold: default 0.85.
        comparison: ``GreaterThanOrEqualToThreshold`` (default) or ``LessThanOrEqualToThreshold``.
        event_retry_attempts: EventBridge retries before the dead-letter queue, 0-185. Default 8.
        network: a ``NetworkPlacement`` to run the function in (see ``PlatformFunction``). Default: none.
        encryption_key: the customer managed key of the function's logs, environment and dead-letter queue
            (see ``PlatformFunction``). Default: AWS-managed keys.

    The function's reserved concurrency is 1: versions are decided one at a time, and a burst of
    registrations cannot take the account's Lambda capacity (throttled events are retried).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: IModelRegistry,
        alert_topic: sns.ITopic,
        metrics_bucket: s3.IBucket,
        metrics_key: kms.IKey | None = None,
        metrics_prefix: str = "",
        metric_path: str = DEFAULT_METRIC_PATH,
        threshold: float = 0.85,
        comparison: str = "GreaterThanOrEqualToThreshold",
        event_retry_attempts: int = 8,
        network: NetworkPlacement | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        require_registry(_OWNER, registry)
        require_key_prefix(_OWNER, "metrics_prefix", metrics_prefix)
        require_pattern(_OWNER, "metric_path", metric_path, contract.METRIC_PATH_RE,
                        f"a dotted path of JSON keys like '{DEFAULT_METRIC_PATH}'")
        if not is_token(metric_path) and len(metric_path) > contract.MAX_METRIC_PATH:
            raise invalid(_OWNER, "metric_path", metric_path, f"at most {contract.MAX_METRIC_PATH} characters")
        require_number(_OWNER, "threshold", threshold)
        require_choice(_OWNER, "comparison", comparison, contract.COMPARISONS)
        require_int(_OWNER, "event_retry_attempts", event_retry_attempts, minimum=0, maximum=MAX_EVENT_RETRY_ATTEMPTS)
        super().__init__(scope, id)

        self.registry = registry
        self.metric_path = metric_path
        self.threshold = threshold
        self.comparison = comparison
        group = registry.model_package_group_name

        self.function = PlatformFunction(
            self,
            "Function",
            code="model_approval",
            description=_function_description(group, metric_path, comparison),
            environment={
                "METRIC_PATH": metric_path,
                "THRESHOLD": _threshold_env(threshold),
                "COMPARISON": comparison,
                "TOPIC_ARN": alert_topic.topic_arn,
                "MODEL_PACKAGE_GROUP": group,
            },
            network=network,
            reserved_concurrent_executions=1,
            encryption_key=encryption_key,
        )
        role = self.function.role
        registry.grant_approve(role)
        reports = metrics_bucket.arn_for_objects(f"{metrics_prefix}*")
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="ReadEvaluationReports", actions=["s3:GetObject"], resources=[reports]))
        acknowledge_wildcard_resources(
            role,
            [(reports, f"Evaluation reports are written at run time under the prefix '{metrics_prefix}' of one "
              "bucket; the function may only read (s3:GetObject) there.")],
        )
        key = metrics_key if metrics_key is not None else metrics_bucket.encryption_key
        if key is not None:
            key.grant_decrypt(role)
        grant_publish(alert_topic, role)

        self.rule = self.function.trigger(
            self,
            "Trigger",
            description=f"New model versions of {group} awaiting approval",
            event_pattern=registry.approval_change_pattern(["PendingManualApproval"]),
            retry_attempts=event_retry_attempts,
        )
        self.dead_letter_alarm = self.function.alarm_on_dead_letters(
            self,
            "DeadLetterAlarm",
            topic=alert_topic,
            description=f"Model approval events of {group} could not be processed and wait in the "
            "dead-letter queue: review the pending model versions by hand",
        )

    @property
    def function_arn(self) -> str:
        return self.function.function_arn


def _function_description(group: str, metric_path: str, comparison: str) -> str:
    subject = "model versions" if is_token(group) else f"model versions of {group}"
    symbol = ">=" if comparison == contract.COMPARISONS[0] else "<="
    text = f"Approves {subject} whose {metric_path} {symbol} threshold; otherwise asks for manual review"
    return text if is_token(text) else text[:256]  # Lambda's limit; never cut a token in half


def _threshold_env(threshold: Any) -> str:
    if is_token(threshold):
        return Tokenization.stringify_number(threshold)
    return repr(float(threshold))
