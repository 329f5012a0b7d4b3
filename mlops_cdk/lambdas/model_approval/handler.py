"""Metric-gated approval of SageMaker model packages (course 10.9).

Triggered by EventBridge ("SageMaker Model Package State Change", status
PendingManualApproval). For the model package named in the event it reads the
model-quality report registered with the package
(``ModelMetrics.ModelQuality.Statistics.S3Uri``, SageMaker's evaluation-report
JSON), takes one metric by dotted path and

* approves the package only if the metric is a real, finite number (not a
  bool, not a string such as ``"0.99"``, not NaN/inf) that meets the threshold
  in the configured direction;
* otherwise leaves it pending and publishes a manual-review message (the
  reason and every metric found) to the alert topic.

Error policy (what EventBridge/Lambda retry, what they don't):

* malformed events are logged and dropped without any AWS call: retrying
  cannot fix them;
* an event whose package is no longer pending (already approved/rejected,
  a repeated event) is logged and skipped: the handler is idempotent;
* missing/unreadable/malformed metrics and non-retryable API errors
  (access denied, package not found) never approve: a human is notified;
* transient AWS errors (throttling, 5xx, timeouts) and a failure to publish
  the notification are raised, so Lambda retries the event and, when retries
  are exhausted, it lands in the function's dead-letter queue. A retry is
  safe: the package is described again and only a pending one is evaluated.

Configuration comes from environment variables, validated once at cold start
(``load_config``): METRIC_PATH, THRESHOLD, COMPARISON
(GreaterThanOrEqualToThreshold | LessThanOrEqualToThreshold), TOPIC_ARN,
MODEL_PACKAGE_GROUP. With an invalid configuration every well-formed pending
event is answered with a notification and nothing is ever approved; if even
TOPIC_ARN is unusable the invocation fails so the event is kept in the
dead-letter queue (whose alarm tells a human).

Known limit: SageMaker has no conditional update, so a human who rejects a
version in the milliseconds between this function's describe and update calls
would be overridden; the ApprovalDescription records the gate's decision.

Only the standard library and boto3: this file is the whole deployment package.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import operator
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from json_log import json_logger, json_safe  # shipped next to this file by PlatformFunction

PENDING = "PendingManualApproval"
APPROVED = "Approved"
EVENT_SOURCE = "aws.sagemaker"
EVENT_DETAIL_TYPE = "SageMaker Model Package State Change"
DEFAULT_METRIC_PATH = "binary_classification_metrics.accuracy.value"

COMPARISONS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "GreaterThanOrEqualToThreshold": (">=", operator.ge),
    "LessThanOrEqualToThreshold": ("<=", operator.le),
}
METRIC_PATH_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
GROUP_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
PACKAGE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/\S{1,2048}$")
S3_URI_RE = re.compile(r"^s3://([^/]+)/(.+)$")

MAX_REPORT_BYTES = 1024 * 1024  # evaluation reports are a few KB
MAX_LISTED_METRICS = 100
MAX_LISTED_DEPTH = 20
MAX_SUBJECT = 99  # SNS: ASCII, no line breaks, fewer than 100 characters
MAX_APPROVAL_DESCRIPTION = 1024

# Error codes worth a retry: throttling, service-side failures, timeouts.
TRANSIENT_ERROR_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalError", "InternalFailure",
    "InternalServerError", "InternalServerException", "RequestTimeout", "RequestTimeoutException",
    "KMS.ThrottlingException", "KMS.KMSInternalException",
})

# Decisions (the "decision" field of the returned dict).
APPROVE = "approved"
REVIEW = "manual_review"
SKIP = "skipped"
INVALID_EVENT = "invalid_event"


# ----------------------------------------------------------------- logging
LOGGER, log = json_logger("mlops_cdk.model_approval")


# ------------------------------------------------------------ configuration
@dataclasses.dataclass(frozen=True)
class GateConfig:
    metric_path: str | None
    threshold: float | None
    comparison: str | None
    topic_arn: str | None
    model_package_group: str | None
    errors: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors


def load_config(environ: Mapping[str, str]) -> GateConfig:
    """Validate the gate's environment; never raises, collects every problem in ``errors``."""
    errors: list[str] = []

    def read(name: str) -> str | None:
        value = environ.get(name)
        if value is None or not value.strip():
            errors.append(f"{name} is not set")
            return None
        return value.strip()

    metric_path = read("METRIC_PATH")
    if metric_path is not None and not METRIC_PATH_RE.match(metric_path):
        errors.append(f"METRIC_PATH {metric_path!r} is not a dotted path like {DEFAULT_METRIC_PATH}")
        metric_path = None

    threshold: float | None = None
    raw_threshold = read("THRESHOLD")
    if raw_threshold is not None:
        try:
            threshold = float(raw_threshold)
        except ValueError:
            threshold = None
        if threshold is None or not math.isfinite(threshold):
            errors.append(f"THRESHOLD {raw_threshold!r} is not a finite number")
            threshold = None

    comparison = read("COMPARISON")
    if comparison is not None and comparison not in COMPARISONS:
        errors.append(f"COMPARISON {comparison!r} is not one of {' | '.join(COMPARISONS)}")
        comparison = None

    topic_arn = read("TOPIC_ARN")
    if topic_arn is not None and not TOPIC_ARN_RE.match(topic_arn):
        errors.append(f"TOPIC_ARN {topic_arn!r} is not an SNS topic ARN")
        topic_arn = None

    group = read("MODEL_PACKAGE_GROUP")
    if group is not None and not GROUP_NAME_RE.match(group):
        errors.append(f"MODEL_PACKAGE_GROUP {group!r} is not a model package group name")
        group = None

    return GateConfig(metric_path, threshold, comparison, topic_arn, group, tuple(errors))


# ---------------------------------------------------------------- clients
@dataclasses.dataclass(frozen=True)
class Clients:
    sagemaker: Any
    s3: Any
    sns: Any


_CLIENTS: Clients | None = None


def default_clients() -> Clients:
    """boto3 clients, created on first use (never for a malformed event) and reused while warm."""
    global _CLIENTS
    if _CLIENTS is None:
        config = BotoConfig(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=20)
        _CLIENTS = Clients(
            sagemaker=boto3.client("sagemaker", config=config),
            s3=boto3.client("s3", config=config),
            sns=boto3.client("sns", config=config),
        )
    return _CLIENTS


def is_transient(error: BaseException) -> bool:
    """Would retrying the same call later plausibly succeed?"""
    if isinstance(error, (BotoConnectionError, HTTPClientError)):
        return True
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in TRANSIENT_ERROR_CODES or status >= 500 or status == 429
    return False


def _error_text(error: ClientError) -> str:
    err = error.response.get("Error", {})
    return f"{err.get('Code', 'Error')}: {err.get('Message', str(error))}"


# ------------------------------------------------------------ pure logic
_MISSING = object()


def is_real_number(value: Any) -> bool:
    """A JSON number that means a measurement: int or float, not bool, not NaN or +/-inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def extract_metric(report: Any, path: str) -> Any:
    """The value at dotted ``path`` in nested JSON objects, or ``_MISSING``."""
    node = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def meets_threshold(value: Any, threshold: float, comparison: str) -> bool:
    """True only for a real number on the right side of (or equal to) the threshold."""
    return is_real_number(value) and COMPARISONS[comparison][1](value, threshold)


def flatten_metrics(report: Any, prefix: str = "") -> list[str]:
    """``path = value`` lines for every leaf of the report, for humans."""
    lines: list[str] = []

    def walk(node: Any, path: str, depth: int = 0) -> None:
        if len(lines) > MAX_LISTED_METRICS:
            return
        if depth > MAX_LISTED_DEPTH and isinstance(node, (dict, list)) and node:
            lines.append(f"{path} = ... (nested deeper than {MAX_LISTED_DEPTH} levels)")
        elif isinstance(node, dict) and node:
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else str(key), depth + 1)
        elif isinstance(node, list) and node:
            for index, child in enumerate(node):
                walk(child, f"{path}[{index}]", depth + 1)
        else:
            text = json.dumps(node, default=str)
            lines.append(f"{path or '(report)'} = {text[:200]}")

    walk(report, prefix)
    if len(lines) > MAX_LISTED_METRICS:
        lines = lines[:MAX_LISTED_METRICS] + ["... (more metrics not listed)"]
    return lines


def parse_event(event: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The fields the gate needs, or why the event is not one it can act on."""
    if not isinstance(event, dict):
        return None, f"event is a {type(event).__name__}, not a JSON object"
    if event.get("source") != EVENT_SOURCE:
        return None, f"source is {event.get('source')!r}, not {EVENT_SOURCE!r}"
    if event.get("detail-type") != EVENT_DETAIL_TYPE:
        return None, f"detail-type is {event.get('detail-type')!r}, not {EVENT_DETAIL_TYPE!r}"
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return None, "detail is missing or not an object"
    arn = detail.get("ModelPackageArn")
    if not isinstance(arn, str) or not PACKAGE_ARN_RE.match(arn):
        return None, f"detail.ModelPackageArn {arn!r} is not a model package ARN"
    status = detail.get("ModelApprovalStatus")
    if not isinstance(status, str) or not status:
        return None, f"detail.ModelApprovalStatus {status!r} is missing"
    group = detail.get("ModelPackageGroupName")
    if group is not None and not isinstance(group, str):
        return None, f"detail.ModelPackageGroupName {group!r} is not a string"
    return {"arn": arn, "status": status, "group": group, "event_id": event.get("id")}, None


# ---------------------------------------------------------------- the gate
class _Gate:
    """One evaluation of one event; methods return the decision dict."""

    def __init__(self, config: GateConfig, get_clients: Callable[[], Clients], event_fields: dict[str, Any]):
        self.config = config
        self.get_clients = get_clients
        self.arn: str = event_fields["arn"]
        self.event_id = event_fields["event_id"]
        self.package: dict[str, Any] = {}
        self.metrics_uri: str | None = None
        self.report: Any = _MISSING

    # -- outcomes
    def result(self, decision: str, reason: str, message: str, *, notified: bool = False, **extra: Any) -> dict:
        outcome = {
            "decision": decision,
            "reason": reason,
            "message": message,
            "model_package_arn": self.arn,
            "notified": notified,
            **extra,
        }
        log(logging.INFO if decision in (APPROVE, SKIP) else logging.WARNING, f"{decision}: {message}",
            event_id=self.event_id, metric_path=self.config.metric_path, threshold=self.config.threshold,
            comparison=self.config.comparison, **{k: v for k, v in outcome.items() if k != "message"})
        return outcome

    def review(self, reason: str, message: str, **extra: Any) -> dict:
        """Leave the package pending and ask a human (raises if no human can be told)."""
        topic = self.config.topic_arn
        if topic is None:
            log(logging.ERROR, "cannot notify: TOPIC_ARN is invalid; failing so the event is kept in the DLQ",
                model_package_arn=self.arn, reason=reason, config_errors=list(self.config.errors))
            raise RuntimeError(f"model approval gate cannot notify ({reason}): {message}")
        group = self.package.get("ModelPackageGroupName") or self.config.model_package_group or "model"
        version = self.package.get("ModelPackageVersion")
        subject = f"Model needs manual review: {group}" + (f" v{version}" if version is not None else "")
        body = self._review_body(message)
        try:
            self.get_clients().sns.publish(TopicArn=topic, Subject=_ascii_subject(subject), Message=body)
        except Exception:
            log(logging.ERROR, "publishing the manual-review notification failed", model_package_arn=self.arn,
                reason=reason)
            raise
        return self.result(REVIEW, reason, message, notified=True, **extra)

    def _review_body(self, message: str) -> str:
        cfg = self.config
        gate = "invalid configuration"
        if cfg.metric_path and cfg.comparison and cfg.threshold is not None:
            gate = f"{cfg.metric_path} {COMPARISONS[cfg.comparison][0]} {cfg.threshold!r} ({cfg.comparison})"
        lines = [
            "A model package was NOT approved automatically and is still PendingManualApproval.",
            "",
            f"Model package:  {self.arn}",
            f"Group:          {self.package.get('ModelPackageGroupName') or cfg.model_package_group}",
            f"Reason:         {message}",
            f"Approval gate:  {gate}",
            f"Metrics report: {self.metrics_uri or '(none)'}",
            "",
        ]
        if self.report is _MISSING:
            lines.append("Metrics found: none (the report could not be read)")
        else:
            lines.append("Metrics found:")
            lines += [f"  {line}" for line in flatten_metrics(self.report)]
        lines += [
            "",
            "Review the model and decide:",
            f"  aws sagemaker update-model-package --model-package-arn {self.arn} "
            "--model-approval-status Approved|Rejected --approval-description '<why>'",
        ]
        return "\n".join(lines)

    # -- steps
    def run(self, event_status: str, event_group: str | None) -> dict:
        cfg = self.config
        if event_status != PENDING:
            return self.result(SKIP, "event_not_pending", f"event status is {event_status}, not {PENDING}")
        if not cfg.valid:
            return self.review("invalid_config", "the approval gate is misconfigured: " + "; ".join(cfg.errors))
        if event_group is not None and event_group != cfg.model_package_group:
            return self.result(SKIP, "other_group", f"package belongs to group {event_group!r}, "
                                                    f"this gate serves {cfg.model_package_group!r}")
        clients = self.get_clients()
        try:
            self.package = clients.sagemaker.describe_model_package(ModelPackageName=self.arn)
        except ClientError as error:
            if is_transient(error):
                raise
            return self.review("describe_failed", f"could not describe the model package ({_error_text(error)})")

        group = self.package.get("ModelPackageGroupName")
        if group != cfg.model_package_group:
            return self.result(SKIP, "other_group", f"package belongs to group {group!r}, "
                                                    f"this gate serves {cfg.model_package_group!r}")
        current = self.package.get("ModelApprovalStatus")
        if current != PENDING:
            # Repeated or late event: someone (or an earlier invocation) already decided.
            return self.result(SKIP, "not_pending", f"package is already {current}; nothing to do",
                               current_status=current)

        statistics = _dig(self.package, "ModelMetrics", "ModelQuality", "Statistics")
        uri = statistics.get("S3Uri") if isinstance(statistics, dict) else None
        if not isinstance(uri, str) or not uri:
            return self.review("no_model_metrics",
                               "the package has no ModelMetrics.ModelQuality.Statistics.S3Uri to evaluate")
        self.metrics_uri = uri
        problem = self._read_report(clients.s3, uri)
        if problem is not None:
            return self.review(*problem)

        value = extract_metric(self.report, cfg.metric_path)
        if value is _MISSING:
            return self.review("metric_missing", f"the report has no metric at {cfg.metric_path!r}")
        symbol = COMPARISONS[cfg.comparison][0]
        if not is_real_number(value):
            return self.review("metric_not_a_number",
                               f"{cfg.metric_path} is {json.dumps(json_safe(value), default=str)[:200]} "
                               f"({type(value).__name__}), not a finite number", metric_value=json_safe(value))
        if not meets_threshold(value, cfg.threshold, cfg.comparison):
            return self.review("threshold_not_met",
                               f"{cfg.metric_path} = {value!r} does not meet {symbol} {cfg.threshold!r}",
                               metric_value=value)
        return self._approve(clients, value, symbol)

    def _read_report(self, s3: Any, uri: str) -> tuple[str, str] | None:
        match = S3_URI_RE.match(uri)
        if not match:
            return "metrics_unreadable", f"metrics location {uri!r} is not an s3:// URI"
        try:
            response = s3.get_object(Bucket=match.group(1), Key=match.group(2))
            body = response["Body"].read(MAX_REPORT_BYTES + 1)
        except ClientError as error:
            if is_transient(error):
                raise
            # Without s3:ListBucket a missing object reads as AccessDenied: both mean "can't see it".
            return "metrics_unreadable", f"could not read {uri} ({_error_text(error)})"
        if len(body) > MAX_REPORT_BYTES:
            return "metrics_malformed", f"{uri} is larger than {MAX_REPORT_BYTES} bytes"
        try:
            self.report = json.loads(body)
        except (ValueError, RecursionError) as error:
            return "metrics_malformed", f"{uri} is not valid JSON ({str(error)[:200]})"
        return None

    def _approve(self, clients: Clients, value: Any, symbol: str) -> dict:
        cfg = self.config
        description = (f"Auto-approved by metric gate: {cfg.metric_path} = {value!r} {symbol} threshold "
                       f"{cfg.threshold!r} ({cfg.comparison}); report {self.metrics_uri}")[:MAX_APPROVAL_DESCRIPTION]
        try:
            clients.sagemaker.update_model_package(
                ModelPackageArn=self.arn, ModelApprovalStatus=APPROVED, ApprovalDescription=description
            )
        except ClientError as error:
            if is_transient(error):
                raise
            return self.review("approve_failed", f"the metric passed but approving failed ({_error_text(error)})",
                               metric_value=value)
        return self.result(APPROVE, "threshold_met", description, metric_value=value)


def _dig(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _ascii_subject(text: str) -> str:
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return clean[:MAX_SUBJECT]


# ------------------------------------------------------------- entry points
def handle(event: Any, *, config: GateConfig, clients: Clients | Callable[[], Clients] | None = None) -> dict:
    """Decide on one event. ``clients`` (or a factory) is only touched for a well-formed event."""
    fields, problem = parse_event(event)
    if problem is not None:
        event_id = event.get("id") if isinstance(event, dict) else None
        log(logging.WARNING, f"{INVALID_EVENT}: {problem}", decision=INVALID_EVENT, reason="malformed_event",
            event_id=event_id, notified=False)
        return {"decision": INVALID_EVENT, "reason": "malformed_event", "message": problem,
                "model_package_arn": None, "notified": False}
    if clients is None:
        get_clients = default_clients
    elif isinstance(clients, Clients):
        get_clients = lambda: clients  # noqa: E731
    else:
        get_clients = clients
    return _Gate(config, get_clients, fields).run(fields["status"], fields["group"])


CONFIG = load_config(os.environ)
if not CONFIG.valid:
    log(logging.ERROR, "invalid configuration: nothing will be approved", config_errors=list(CONFIG.errors))


def handler(event: Any, context: Any = None) -> dict:
    """Lambda entry point (``handler.handler``)."""
    try:
        return handle(event, config=CONFIG)
    except Exception:
        LOGGER.exception("evaluation failed; the event will be retried", extra={"fields": {
            "request_id": getattr(context, "aws_request_id", None)}})
        raise
