"""Metric-gated approval of registered models (course 10.9): approve automatically, or ask a human."""

from __future__ import annotations

import math
import re
from typing import Any

from aws_cdk import Tokenization
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._validation import invalid, is_token, require_choice, require_int, require_pattern
from ._nag import acknowledge_wildcard_resources
from .alert_topic import AlertTopic
from .model_registry import ModelRegistry
from .platform_function import PlatformFunction
from .secure_bucket import SecureBucket

_OWNER = "MetricGatedApproval"
COMPARISONS = ("GreaterThanOrEqualToThreshold", "LessThanOrEqualToThreshold")
DEFAULT_METRIC_PATH = "binary_classification_metrics.accuracy.value"
# The handler reads the same shape (mlops_cdk/lambdas/model_approval/handler.py, METRIC_PATH_RE).
METRIC_PATH_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_PREFIX_RE = re.compile(r"^(?!/)[^*?\x00]*$")
MAX_METRIC_PATH = 256


class MetricGatedApproval(Construct):
    """Approves a registry's new model versions whose evaluation metric meets a threshold.

    Creates:
      * a :class:`PlatformFunction` running ``mlops_cdk/lambdas/model_approval``;
      * an EventBridge rule on the registry's model packages entering
        ``PendingManualApproval``, targeting the function with the function's
        dead-letter queue and a bounded retry policy;
      * IAM scoped to this job: describe/update the model packages of this one
        group, ``s3:GetObject`` under ``metrics_prefix`` of the metrics bucket
        (and decrypt with its key), publish to the alert topic (and use its key);
      * an alarm on the dead-letter queue that notifies the alert topic, so an
        event that could not be processed is seen by a human.

    The function approves a version only if the metric at ``metric_path`` of
    the version's model-quality report (``ModelMetrics.ModelQuality.Statistics``)
    is a finite number that meets ``threshold`` in the ``comparison`` direction;
    every other outcome leaves the version pending and notifies the topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: ModelRegistry,
        alert_topic: AlertTopic | sns.ITopic,
        metrics_bucket: SecureBucket | s3.IBucket,
        metrics_prefix: str = "",
        metric_path: str = DEFAULT_METRIC_PATH,
        threshold: float = 0.85,
        comparison: str = "GreaterThanOrEqualToThreshold",
        event_retry_attempts: int = 8,
    ) -> None:
        super().__init__(scope, id)
        if not isinstance(registry, ModelRegistry):
            raise invalid(_OWNER, "registry", registry, "a ModelRegistry")
        topic = _topic_of(alert_topic)
        bucket = _bucket_of(metrics_bucket)
        require_pattern(_OWNER, "metrics_prefix", metrics_prefix, _PREFIX_RE,
                        "an S3 key prefix not starting with '/' and without '*' or '?'")
        require_pattern(_OWNER, "metric_path", metric_path, METRIC_PATH_RE,
                        f"a dotted path of JSON keys like '{DEFAULT_METRIC_PATH}'")
        if not is_token(metric_path) and len(metric_path) > MAX_METRIC_PATH:
            raise invalid(_OWNER, "metric_path", metric_path, f"at most {MAX_METRIC_PATH} characters")
        _require_finite_number("threshold", threshold)
        require_choice(_OWNER, "comparison", comparison, COMPARISONS)
        require_int(_OWNER, "event_retry_attempts", event_retry_attempts, minimum=0, maximum=185)

        self.registry = registry
        self.metric_path = metric_path
        self.threshold = threshold
        self.comparison = comparison

        self.function = PlatformFunction(
            self,
            "Function",
            code="model_approval",
            description=_function_description(registry.model_package_group_name, metric_path, comparison),
            environment={
                "METRIC_PATH": metric_path,
                "THRESHOLD": _threshold_env(threshold),
                "COMPARISON": comparison,
                "TOPIC_ARN": topic.topic_arn,
                "MODEL_PACKAGE_GROUP": registry.model_package_group_name,
            },
        )
        self._grant(registry, topic, bucket, metrics_prefix)

        self.rule = self.function.trigger(
            self,
            "Trigger",
            description=f"New model versions of {registry.model_package_group_name} awaiting approval",
            event_pattern=registry.approval_change_pattern(["PendingManualApproval"]),
            retry_attempts=event_retry_attempts,
        )
        self.dead_letter_alarm = self.function.alarm_on_dead_letters(
            self,
            "DeadLetterAlarm",
            topic=topic,
            description=f"Model approval events of {registry.model_package_group_name} could not be "
            "processed and wait in the dead-letter queue: review the pending model versions by hand",
        )

    # ------------------------------------------------------------------ IAM
    def _grant(self, registry: ModelRegistry, topic: sns.ITopic, bucket: s3.IBucket, prefix: str) -> None:
        role = self.function.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="GateModelPackagesOfOneGroup",
                actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                resources=[registry.model_package_arn_pattern],
            )
        )
        registry.acknowledge_package_wildcard(role)

        reports = bucket.arn_for_objects(f"{prefix}*")
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="ReadEvaluationReports", actions=["s3:GetObject"], resources=[reports])
        )
        acknowledge_wildcard_resources(
            role,
            [(reports, f"Evaluation reports are written at run time under the prefix '{prefix}' of one bucket; "
              "the function may only read (s3:GetObject) there.")],
        )
        if bucket.encryption_key is not None:
            bucket.encryption_key.grant_decrypt(role)

        # Not topic.grant_publish: it adds kms:GenerateDataKey* where SNS needs exactly these two actions.
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="NotifyForManualReview", actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        if topic.master_key is not None:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="EncryptNotifications",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[topic.master_key.key_arn],
                )
            )

    @property
    def function_arn(self) -> str:
        return self.function.function_arn


def _topic_of(alert_topic: Any) -> sns.ITopic:
    if isinstance(alert_topic, AlertTopic):
        return alert_topic.topic
    if _implements(alert_topic, "topic_arn", "grant_publish"):
        return alert_topic
    raise invalid(_OWNER, "alert_topic", alert_topic, "an AlertTopic or an sns.ITopic")


def _bucket_of(bucket: Any) -> s3.IBucket:
    if isinstance(bucket, SecureBucket):
        return bucket.bucket
    if _implements(bucket, "bucket_arn", "arn_for_objects"):
        return bucket
    raise invalid(_OWNER, "metrics_bucket", bucket, "a SecureBucket or an s3.IBucket")


def _implements(value: Any, *members: str) -> bool:
    # jsii interfaces (ITopic, IBucket) are protocols: check the members the construct uses.
    return isinstance(value, Construct) and all(hasattr(value, m) for m in members)


def _require_finite_number(prop: str, value: Any) -> None:
    allowed = "a finite number (int or float)"
    # NaN/inf first: handing them to Token.is_unresolved kills the jsii kernel (NaN is not JSON).
    if isinstance(value, float) and not math.isfinite(value):
        raise invalid(_OWNER, prop, value, allowed)
    if is_token(value):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(_OWNER, prop, value, allowed)


def _function_description(group: str, metric_path: str, comparison: str) -> str:
    subject = "model versions" if is_token(group) else f"model versions of {group}"
    symbol = ">=" if comparison == COMPARISONS[0] else "<="
    text = f"Approves {subject} whose {metric_path} {symbol} threshold; otherwise asks for manual review"
    return text if is_token(text) else text[:256]  # Lambda's limit; never cut a token in half


def _threshold_env(threshold: Any) -> str:
    if is_token(threshold):
        return Tokenization.stringify_number(threshold)
    return repr(float(threshold))
