"""Retraining gate (Lambda, Python 3.14, boto3 only): decides whether a trigger event starts the pipeline.

Triggered by EventBridge with one of:

* "CloudWatch Alarm State Change" (source ``aws.cloudwatch``) of a drift or
  model-quality alarm entering ``ALARM`` -> reason from ``ALARM_REASONS``
  (by alarm ARN), else ``DEFAULT_ALARM_REASON``;
* "Feature Drift Detected" (source ``DRIFT_EVENT_SOURCE``, the library's
  drift checker) -> ``DataDrift``;
* S3 "Object Created" (source ``aws.s3``) under ``NEW_DATA_PREFIX`` of
  ``NEW_DATA_BUCKET`` -> ``NewData``.

Decision table (first matching row wins; every row is one JSON log line with
``decision`` and ``why``, and the returned dict):

==============================================  ===============  =======================
condition                                       decision         why
==============================================  ===============  =======================
configuration invalid (at cold start)           (raises)         ConfigError: the event is
                                                                 retried, then kept in the
                                                                 function's dead-letter queue
event not a dict / no id / unknown source or    invalid_event    what is wrong; no AWS call
detail-type / required detail field missing
alarm event whose state is not ALARM            skipped          not_in_alarm
drift event whose status is not "drift"         skipped          no_drift
S3 object of another bucket / outside prefix    skipped          other_bucket / outside_prefix
S3 "folder" marker (key ends with '/')          skipped          folder_marker
key without NEW_DATA_SUFFIX (when set)          skipped          not_a_trigger_object
an execution is Executing or Stopping           skipped          execution_running
last execution started < COOLDOWN_MINUTES ago   skipped          cooldown
otherwise                                       started          the trigger, e.g. "alarm X"
AWS error listing or starting                   error (raises)   the error code; Lambda
                                                                 retries, then the DLQ
==============================================  ===============  =======================

Started runs get ``PipelineParameters`` = ``Reason`` + ``START_PARAMETERS``
(all of them declared by the pipeline: checked against
``PIPELINE_PARAMETERS`` at cold start), a display name ``<Reason>-<UTC time>``,
a description naming the trigger, and ``ClientRequestToken`` =
sha256(pipeline name, event id): EventBridge delivers at least once, and a
second delivery of the same event (even concurrent) is the same request to
SageMaker, which starts at most one execution for it. The construct also sets
the function's reserved concurrency to 1, so two different events cannot both
see "nothing running" and both start.

"Last started" and "running" come from ``ListPipelineExecutions`` (newest
first, at most ``MAX_PAGES`` pages of 100): every execution counts, including
those the schedule or a human started.

Metric: when ``METRIC_NAMESPACE`` is set, each decision line carries
CloudWatch embedded-metric-format metadata: metric ``RetrainingDecisions``
(Count) with dimensions Pipeline and Decision. No PutMetricData call, no IAM.

Environment
-----------
Required: ``PIPELINE_NAME``, ``PIPELINE_PARAMETERS`` (comma-separated names
the pipeline declares, must include ``Reason``), ``COOLDOWN_MINUTES``
(integer >= 1).
Optional: ``ALARM_REASONS`` (JSON list of ``[alarm ARN, reason]``),
``DEFAULT_ALARM_REASON`` (DataDrift), ``DRIFT_EVENT_SOURCE``
(mlops-cdk.drift-checker), ``START_PARAMETERS`` (JSON object of further
declared parameters), ``NEW_DATA_BUCKET``, ``NEW_DATA_PREFIX`` (""),
``NEW_DATA_SUFFIX``, ``METRIC_NAMESPACE``, ``LOG_LEVEL``.
Reasons: DataDrift | ModelQualityDrop | NewData | Scheduled | Manual.

Only the standard library and boto3: this file is the whole deployment package.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from json_log import json_logger  # shipped next to this file by PlatformFunction

REASONS = ("DataDrift", "ModelQualityDrop", "NewData", "Scheduled", "Manual")
REASON_PARAMETER = "Reason"
DEFAULT_DRIFT_EVENT_SOURCE = "mlops-cdk.drift-checker"
DRIFT_DETAIL_TYPE = "Feature Drift Detected"
ALARM_SOURCE, ALARM_DETAIL_TYPE = "aws.cloudwatch", "CloudWatch Alarm State Change"
S3_SOURCE, S3_DETAIL_TYPE = "aws.s3", "Object Created"
ACTIVE_STATUSES = frozenset({"Executing", "Stopping"})
METRIC_NAME = "RetrainingDecisions"

STARTED, SKIPPED, INVALID_EVENT = "started", "skipped", "invalid_event"

PAGE_SIZE = 100
MAX_PAGES = 5
MAX_COOLDOWN_MINUTES = 43200
MAX_DESCRIPTION = 3072
PIPELINE_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
PARAMETER_NAME_RE = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# ----------------------------------------------------------------- logging
LOGGER, log = json_logger("mlops_cdk.retraining_gate")


# ------------------------------------------------------------ configuration
class ConfigError(ValueError):
    """The function's environment is missing a setting or has an invalid one."""


@dataclasses.dataclass(frozen=True)
class Config:
    pipeline_name: str
    declared_parameters: tuple[str, ...]
    cooldown: timedelta
    alarm_reasons: Mapping[str, str] = dataclasses.field(default_factory=dict)
    default_alarm_reason: str = "DataDrift"
    drift_event_source: str = DEFAULT_DRIFT_EVENT_SOURCE
    start_parameters: Mapping[str, str] = dataclasses.field(default_factory=dict)
    new_data_bucket: str | None = None
    new_data_prefix: str = ""
    new_data_suffix: str | None = None
    metric_namespace: str | None = None


def load_config(env: Mapping[str, str]) -> Config:
    """Validate the gate's environment; raises ConfigError listing every problem."""
    errors: list[str] = []

    def get(name: str, *, required: bool = False) -> str | None:
        value = env.get(name, "").strip()
        if not value:
            if required:
                errors.append(f"{name} is required")
            return None
        return value

    name = get("PIPELINE_NAME", required=True)
    if name is not None and not PIPELINE_NAME_RE.match(name):
        errors.append(f"PIPELINE_NAME {name!r} is not a SageMaker pipeline name")

    declared: tuple[str, ...] = ()
    raw = get("PIPELINE_PARAMETERS", required=True)
    if raw is not None:
        declared = tuple(p.strip() for p in raw.split(","))
        bad = [p for p in declared if not PARAMETER_NAME_RE.match(p)]
        if bad:
            errors.append(f"PIPELINE_PARAMETERS has invalid names {bad}")
        if len(set(declared)) != len(declared):
            errors.append(f"PIPELINE_PARAMETERS has duplicate names: {raw!r}")
        if REASON_PARAMETER not in declared:
            errors.append(f"PIPELINE_PARAMETERS must include {REASON_PARAMETER!r} (the pipeline must declare it): "
                          f"{raw!r}")

    cooldown = timedelta(0)
    raw = get("COOLDOWN_MINUTES", required=True)
    if raw is not None:
        if re.fullmatch(r"[0-9]+", raw) and 1 <= int(raw) <= MAX_COOLDOWN_MINUTES:
            cooldown = timedelta(minutes=int(raw))
        else:
            errors.append(f"COOLDOWN_MINUTES {raw!r} is not an integer in [1, {MAX_COOLDOWN_MINUTES}]")

    default_reason = get("DEFAULT_ALARM_REASON") or "DataDrift"
    if default_reason not in REASONS:
        errors.append(f"DEFAULT_ALARM_REASON {default_reason!r} is not one of {' | '.join(REASONS)}")

    alarm_reasons: dict[str, str] = {}
    raw = get("ALARM_REASONS")
    if raw is not None:
        try:
            pairs = json.loads(raw)
            if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs
            ):
                raise ValueError
            alarm_reasons = dict(pairs)
        except ValueError:
            errors.append(f"ALARM_REASONS is not a JSON list of [alarm ARN, reason] pairs: {raw[:200]!r}")
        for arn, reason in alarm_reasons.items():
            if reason not in REASONS:
                errors.append(f"ALARM_REASONS: reason {reason!r} of {arn} is not one of {' | '.join(REASONS)}")

    start_parameters: dict[str, str] = {}
    raw = get("START_PARAMETERS")
    if raw is not None:
        try:
            start_parameters = json.loads(raw)
            if not isinstance(start_parameters, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in start_parameters.items()
            ):
                raise ValueError
        except ValueError:
            errors.append(f"START_PARAMETERS is not a JSON object of string values: {raw[:200]!r}")
            start_parameters = {}
        if REASON_PARAMETER in start_parameters:
            errors.append(f"START_PARAMETERS may not set {REASON_PARAMETER!r}: the gate sets it per trigger")
    if declared:
        undeclared = sorted(set(start_parameters) - set(declared))
        if undeclared:
            errors.append(f"START_PARAMETERS {undeclared} are not declared by the pipeline "
                          f"(PIPELINE_PARAMETERS: {', '.join(declared)})")

    if errors:
        raise ConfigError("; ".join(errors))
    return Config(
        pipeline_name=name,  # type: ignore[arg-type]
        declared_parameters=declared,
        cooldown=cooldown,
        alarm_reasons=alarm_reasons,
        default_alarm_reason=default_reason,
        drift_event_source=get("DRIFT_EVENT_SOURCE") or DEFAULT_DRIFT_EVENT_SOURCE,
        start_parameters=start_parameters,
        new_data_bucket=get("NEW_DATA_BUCKET"),
        new_data_prefix=env.get("NEW_DATA_PREFIX", ""),
        new_data_suffix=get("NEW_DATA_SUFFIX"),
        metric_namespace=get("METRIC_NAMESPACE"),
    )


# ------------------------------------------------------------------ events
class InvalidEvent(ValueError):
    """The event is not one the gate understands; retrying cannot fix it."""


@dataclasses.dataclass(frozen=True)
class Trigger:
    event_id: str
    kind: str  # alarm | drift | new_data
    reason: str
    summary: str
    ignore: str | None = None  # why a well-formed event does not trigger retraining


def classify(event: Any, config: Config) -> Trigger:
    """What the event asks for; raises InvalidEvent for anything malformed or unknown."""
    if not isinstance(event, dict):
        raise InvalidEvent(f"event is a {type(event).__name__}, not an object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidEvent("event has no id")
    source, detail_type, detail = event.get("source"), event.get("detail-type"), event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("event has no detail object")
    if source == ALARM_SOURCE and detail_type == ALARM_DETAIL_TYPE:
        return _alarm_trigger(event_id, event, detail, config)
    if source == config.drift_event_source and detail_type == DRIFT_DETAIL_TYPE:
        return _drift_trigger(event_id, detail)
    if source == S3_SOURCE and detail_type == S3_DETAIL_TYPE and config.new_data_bucket:
        return _new_data_trigger(event_id, detail, config)
    raise InvalidEvent(f"unsupported event: source {source!r}, detail-type {detail_type!r}")


def _alarm_trigger(event_id: str, event: dict, detail: dict, config: Config) -> Trigger:
    name = detail.get("alarmName")
    state = detail.get("state")
    if not isinstance(name, str) or not name:
        raise InvalidEvent("alarm event without detail.alarmName")
    if not isinstance(state, dict) or not isinstance(state.get("value"), str):
        raise InvalidEvent("alarm event without detail.state.value")
    resources = event.get("resources")
    arns = [r for r in resources if isinstance(r, str)] if isinstance(resources, list) else []
    reason = next((config.alarm_reasons[a] for a in arns if a in config.alarm_reasons), None)
    if reason is None:  # an alarm given by name: its ARN ends with ':alarm:<name>'
        reason = next((r for a, r in config.alarm_reasons.items() if a.endswith(f":alarm:{name}")),
                      config.default_alarm_reason)
    summary = f"alarm {_clean(name, 255)} entered {_clean(state['value'], 20)}"
    ignore = None if state["value"] == "ALARM" else "not_in_alarm"
    return Trigger(event_id, "alarm", reason, summary, ignore)


def _drift_trigger(event_id: str, detail: dict) -> Trigger:
    endpoint, status = detail.get("endpoint"), detail.get("status")
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidEvent("drift event without detail.endpoint")
    if not isinstance(status, str):
        raise InvalidEvent("drift event without detail.status")
    features = detail.get("drifted_features")
    names = [f["feature"] for f in features if isinstance(f, dict) and isinstance(f.get("feature"), str)] \
        if isinstance(features, list) else []
    max_psi = detail.get("max_psi")
    summary = f"feature drift on endpoint {_clean(endpoint, 100)}"
    if names:
        summary += f": {_clean(', '.join(names), 500)}"
    if isinstance(max_psi, (int, float)) and not isinstance(max_psi, bool):
        summary += f" (max PSI {max_psi:.3f})"
    return Trigger(event_id, "drift", "DataDrift", summary, None if status == "drift" else "no_drift")


def _new_data_trigger(event_id: str, detail: dict, config: Config) -> Trigger:
    bucket, obj = detail.get("bucket"), detail.get("object")
    name = bucket.get("name") if isinstance(bucket, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidEvent("S3 event without detail.bucket.name")
    if not isinstance(key, str) or not key:
        raise InvalidEvent("S3 event without detail.object.key")
    summary = f"new data s3://{_clean(name, 63)}/{_clean(key, 1024)}"
    ignore = None
    if name != config.new_data_bucket:
        ignore = "other_bucket"
    elif not key.startswith(config.new_data_prefix):
        ignore = "outside_prefix"
    elif key.endswith("/"):
        ignore = "folder_marker"
    elif config.new_data_suffix and not key.endswith(config.new_data_suffix):
        ignore = "not_a_trigger_object"
    return Trigger(event_id, "new_data", "NewData", summary, ignore)


def _clean(text: str, limit: int) -> str:
    text = _CONTROL_RE.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------- decision
def client_request_token(pipeline_name: str, event_id: str) -> str:
    """StartPipelineExecution's idempotency token (32-128 characters) for one event: same event, same token."""
    return hashlib.sha256(f"{pipeline_name}\n{event_id}".encode()).hexdigest()


def recent_executions(sagemaker: Any, pipeline_name: str) -> tuple[list[dict[str, Any]], bool]:
    """Newest executions first (at most MAX_PAGES pages) and whether older ones were left unread."""
    summaries: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"PipelineName": pipeline_name, "SortBy": "CreationTime", "SortOrder": "Descending",
                              "MaxResults": PAGE_SIZE}
    for _ in range(MAX_PAGES):
        page = sagemaker.list_pipeline_executions(**kwargs)
        summaries.extend(page.get("PipelineExecutionSummaries", []))
        token = page.get("NextToken")
        if not token:
            return summaries, False
        kwargs["NextToken"] = token
    return summaries, True


def decide(event: Any, config: Config, sagemaker: Any, now: datetime) -> dict[str, Any]:
    """Start the pipeline for ``event`` or say why not; logs and returns the decision."""
    try:
        trigger = classify(event, config)
    except InvalidEvent as exc:
        return _record(config, INVALID_EVENT, str(exc), event_id=_event_id(event), level=logging.WARNING,
                       event=_preview(event))
    common = {"event_id": trigger.event_id, "trigger": trigger.kind, "reason": trigger.reason,
              "summary": trigger.summary}
    if trigger.ignore:
        return _record(config, SKIPPED, trigger.ignore, **common)
    try:
        return _gate(trigger, common, config, sagemaker, now)
    except Exception as exc:  # AWS errors: logged with the event, then raised so Lambda retries (then the DLQ)
        response = getattr(exc, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        log(logging.ERROR, f"retraining error: {type(exc).__name__}", decision="error",
            why=code or type(exc).__name__, error=str(exc)[:1000], pipeline=config.pipeline_name, **common)
        raise


def _gate(trigger: Trigger, common: dict[str, Any], config: Config, sagemaker: Any, now: datetime) -> dict[str, Any]:
    executions, truncated = recent_executions(sagemaker, config.pipeline_name)
    if truncated:
        log(logging.WARNING, "execution history truncated", pipeline=config.pipeline_name,
            read=len(executions))
    running = [e for e in executions if e.get("PipelineExecutionStatus") in ACTIVE_STATUSES]
    if running:
        return _record(config, SKIPPED, "execution_running", **common,
                       running_execution_arn=running[0].get("PipelineExecutionArn"),
                       running_status=running[0].get("PipelineExecutionStatus"))
    starts = [e["StartTime"] for e in executions if isinstance(e.get("StartTime"), datetime)]
    if starts:
        last = max(starts)
        if now - last < config.cooldown:
            return _record(config, SKIPPED, "cooldown", **common, last_started_at=last.isoformat(),
                           cooldown_ends_at=(last + config.cooldown).isoformat())

    parameters = {REASON_PARAMETER: trigger.reason, **config.start_parameters}
    undeclared = set(parameters) - set(config.declared_parameters)
    if undeclared:  # load_config prevents this; never send what the pipeline would reject
        raise ConfigError(f"parameters {sorted(undeclared)} are not declared by the pipeline")
    description = _clean(f"{trigger.reason}: {trigger.summary} (event {trigger.event_id}; started by the "
                         "mlops-cdk retraining gate)", MAX_DESCRIPTION)
    response = sagemaker.start_pipeline_execution(
        PipelineName=config.pipeline_name,
        PipelineExecutionDisplayName=f"{trigger.reason}-{now:%Y%m%d-%H%M%S}",
        PipelineExecutionDescription=description,
        PipelineParameters=[{"Name": k, "Value": v} for k, v in sorted(parameters.items())],
        ClientRequestToken=client_request_token(config.pipeline_name, trigger.event_id),
    )
    return _record(config, STARTED, trigger.summary, **common,
                   pipeline_execution_arn=response["PipelineExecutionArn"],
                   parameters=dict(sorted(parameters.items())))


def _record(config: Config, decision: str, why: str, *, level: int = logging.INFO, **fields: Any) -> dict[str, Any]:
    result = {"decision": decision, "why": why, "pipeline": config.pipeline_name, **fields}
    line = dict(result)
    if config.metric_namespace:
        line.update({
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{
                    "Namespace": config.metric_namespace,
                    "Dimensions": [["Pipeline", "Decision"]],
                    "Metrics": [{"Name": METRIC_NAME, "Unit": "Count"}],
                }],
            },
            "Pipeline": config.pipeline_name,
            "Decision": decision,
            METRIC_NAME: 1,
        })
    log(level, f"retraining {decision}: {why}", **line)
    return result


def _event_id(event: Any) -> Any:
    return event.get("id") if isinstance(event, dict) else None


def _preview(event: Any) -> str:
    text = json.dumps(event, default=str) if not isinstance(event, str) else event
    return text[:1000]


# ------------------------------------------------------------------ handler
def _cold_start() -> tuple[Config | None, str | None]:
    try:
        return load_config(os.environ), None
    except ConfigError as exc:
        log(logging.ERROR, "invalid configuration", error=str(exc))
        return None, str(exc)


CONFIG, CONFIG_ERROR = _cold_start()
_SAGEMAKER = None


def _sagemaker() -> Any:
    global _SAGEMAKER
    if _SAGEMAKER is None:
        _SAGEMAKER = boto3.client("sagemaker", config=BotoConfig(retries={"mode": "standard", "max_attempts": 5},
                                                                 connect_timeout=5, read_timeout=20))
    return _SAGEMAKER


def handler(event: Any, context: Any) -> dict[str, Any]:
    if CONFIG is None:
        # Raise: the event is retried and then kept in the dead-letter queue until the configuration is fixed.
        raise ConfigError(f"retraining gate misconfigured: {CONFIG_ERROR}")
    return decide(event, CONFIG, _sagemaker(), datetime.now(timezone.utc))
