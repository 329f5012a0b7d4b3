"""Metric-gated approval of SageMaker model packages.

Triggered by EventBridge ("SageMaker Model Package State Change", status
PendingManualApproval). For the model package named in the event it reads the
model-quality report registered with the package
(``ModelMetrics.ModelQuality.Statistics.S3Uri``, SageMaker's evaluation-report
JSON), takes one metric by dotted path and

* approves the package only if the metric is a real, finite number (not a
  bool, not a string such as ``"0.99"``, not NaN/inf) that meets the threshold
  in the configured direction (the rule: ``approval_metrics``);
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

Configuration: METRIC_PATH, THRESHOLD, COMPARISON (one of
``contract.COMPARISONS``), TOPIC_ARN, MODEL_PACKAGE_GROUP, read once at cold
start (``load_config``, through the shared ``env``). A missing or unparseable
setting fails every invocation with a ``ConfigError``: the event is retried and
then kept in the dead-letter queue (whose alarm tells a human); nothing is
approved.

Known limit: SageMaker has no conditional update, so a human who rejects a
version in the milliseconds between this function's describe and update calls
would be overridden; the ApprovalDescription records the gate's decision.

Only the standard library, boto3 and the shared modules (``contract``, ``env``,
``json_log``) that ``PlatformFunction`` copies next to this file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

import contract
import env
from approval_metrics import MISSING, extract_metric, flatten_metrics, is_real_number, meets_threshold, symbol
from json_log import json_logger, json_safe
from package_events import model_package_change

APPROVED, _REJECTED, PENDING = contract.APPROVAL_STATUSES

MAX_REPORT_BYTES = 1024 * 1024  # evaluation reports are a few KB
MAX_APPROVAL_DESCRIPTION = 1024

# Error codes worth a retry: throttling, service-side failures, timeouts.
TRANSIENT_ERROR_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalError", "InternalFailure",
    "InternalServerError", "InternalServerException", "RequestTimeout", "RequestTimeoutException",
    "KMS.ThrottlingException", "KMS.KMSInternalException",
})

# Decisions (the "decision" field of the returned dict and of the log line).
APPROVE = "approved"
REVIEW = "manual_review"
SKIP = "skipped"
INVALID_EVENT = "invalid_event"

LOGGER, log = json_logger("mlops_cdk.model_approval")


# ------------------------------------------------------------ configuration
@dataclasses.dataclass(frozen=True)
class GateConfig:
    metric_path: str
    threshold: float
    comparison: str
    topic_arn: str
    model_package_group: str


def load_config(environ: Mapping[str, str]) -> GateConfig:
    """The gate's settings; raises ``env.ConfigError`` listing every missing or unparseable one."""
    def read(settings: env.Settings) -> GateConfig:
        path = settings.match("METRIC_PATH", contract.METRIC_PATH_RE,
                              "a dotted path like binary_classification_metrics.accuracy.value")
        return GateConfig(
            metric_path=path.group(0) if path else None,
            threshold=settings.number("THRESHOLD"),
            comparison=settings.choice("COMPARISON", contract.COMPARISONS),
            topic_arn=settings.required("TOPIC_ARN"),
            model_package_group=settings.required("MODEL_PACKAGE_GROUP"),
        )
    return env.load(environ, read)


# ---------------------------------------------------------------- clients
@dataclasses.dataclass(frozen=True)
class Clients:
    sagemaker: Any
    s3: Any
    sns: Any


def default_clients() -> Clients:
    """The function's boto3 clients (created on first use: never for a malformed event)."""
    return Clients(sagemaker=env.client("sagemaker"), s3=env.client("s3"), sns=env.client("sns"))


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


# ------------------------------------------------------------------ events
def parse_event(event: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The fields the gate needs, or why the event is not one it can act on."""
    detail, why = model_package_change(event)
    if detail is None:
        return None, why
    arn = detail.get("ModelPackageArn")
    if not isinstance(arn, str) or not contract.MODEL_PACKAGE_ARN_RE.match(arn):
        return None, f"detail.ModelPackageArn {arn!r} is not a model package version ARN"
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
        self.report: Any = MISSING

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
        """Leave the package pending and ask a human (raises if no human can be told: retry, then the DLQ)."""
        group = self.package.get("ModelPackageGroupName") or self.config.model_package_group
        version = self.package.get("ModelPackageVersion")
        subject = f"Model needs manual review: {group}" + (f" v{version}" if version is not None else "")
        body = self._review_body(message)
        try:
            self.get_clients().sns.publish(TopicArn=self.config.topic_arn, Subject=_ascii_subject(subject),
                                           Message=body)
        except Exception:
            log(logging.ERROR, "publishing the manual-review notification failed", model_package_arn=self.arn,
                reason=reason)
            raise
        return self.result(REVIEW, reason, message, notified=True, **extra)

    def _review_body(self, message: str) -> str:
        cfg = self.config
        gate = f"{cfg.metric_path} {symbol(cfg.comparison)} {cfg.threshold!r} ({cfg.comparison})"
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
        if self.report is MISSING:
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
        if value is MISSING:
            return self.review("metric_missing", f"the report has no metric at {cfg.metric_path!r}")
        if not is_real_number(value):
            return self.review("metric_not_a_number",
                               f"{cfg.metric_path} is {json.dumps(json_safe(value), default=str)[:200]} "
                               f"({type(value).__name__}), not a finite number", metric_value=json_safe(value))
        if not meets_threshold(value, cfg.threshold, cfg.comparison):
            return self.review("threshold_not_met", f"{cfg.metric_path} = {value!r} does not meet "
                               f"{symbol(cfg.comparison)} {cfg.threshold!r}", metric_value=value)
        return self._approve(clients, value)

    def _read_report(self, s3: Any, uri: str) -> tuple[str, str] | None:
        match = contract.S3_URI_RE.match(uri)
        if not match:
            return "metrics_unreadable", f"metrics location {uri!r} is not an s3:// URI"
        try:
            response = s3.get_object(Bucket=match.group("bucket"), Key=match.group("key"))
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

    def _approve(self, clients: Clients, value: Any) -> dict:
        cfg = self.config
        description = (f"Auto-approved by metric gate: {cfg.metric_path} = {value!r} {symbol(cfg.comparison)} "
                       f"threshold {cfg.threshold!r} ({cfg.comparison}); report {self.metrics_uri}"
                       )[:MAX_APPROVAL_DESCRIPTION]
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
    return clean[:contract.MAX_SNS_SUBJECT]


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


CONFIG = env.cold_start(load_config, log)


def handler(event: Any, context: Any = None) -> dict:
    """Lambda entry point (``handler.handler``)."""
    config = CONFIG.get()  # a ConfigError fails the invocation: retried, then kept in the DLQ
    try:
        return handle(event, config=config)
    except Exception:
        LOGGER.exception("evaluation failed; the event will be retried", extra={"fields": {
            "request_id": getattr(context, "aws_request_id", None)}})
        raise
