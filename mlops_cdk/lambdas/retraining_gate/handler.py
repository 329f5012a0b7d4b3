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
configuration invalid (read at cold start)      (raises)         ConfigError: the event is
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
``PIPELINE_PARAMETERS`` at cold start, because a parameter the pipeline does
not declare fails every start), a display name ``<Reason>-<UTC time>``,
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
CloudWatch embedded-metric-format metadata: metric
``contract.METRIC_RETRAINING_DECISIONS`` (Count) with dimensions
``contract.DIMENSION_PIPELINE`` and ``contract.DIMENSION_DECISION``, one of
``contract.DECISIONS``. No PutMetricData call, no IAM. Events are read by
``retraining_events``.

Environment
-----------
Read once at cold start through the shared ``env`` (names and patterns were
validated by the construct at synth time).
Required: ``PIPELINE_NAME``, ``PIPELINE_PARAMETERS`` (comma-separated names
the pipeline declares, must include ``Reason``), ``COOLDOWN_MINUTES``
(integer in 1..``contract.MAX_COOLDOWN_MINUTES``).
Optional: ``ALARM_REASONS`` (JSON list of ``[alarm ARN, reason]``),
``DEFAULT_ALARM_REASON`` (DataDrift), ``DRIFT_EVENT_SOURCE``
(mlops-cdk.drift-checker), ``START_PARAMETERS`` (JSON object of further
declared parameters), ``NEW_DATA_BUCKET``, ``NEW_DATA_PREFIX`` (""),
``NEW_DATA_SUFFIX``, ``METRIC_NAMESPACE``, ``LOG_LEVEL``.
Reasons: ``contract.REASONS``.

Only the standard library, boto3 and the shared modules (``contract``, ``env``,
``json_log``) that ``PlatformFunction`` copies next to this file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import contract
import env
from json_log import json_logger
from retraining_events import DATA_DRIFT, InvalidEvent, Trigger, Triggers, classify, clean

STARTED, SKIPPED, INVALID_EVENT = contract.DECISIONS
EXECUTING, STOPPING, _STOPPED, _FAILED, _SUCCEEDED, _COMPLETED_WITH_FAILURES = contract.PIPELINE_STATUSES
ACTIVE_STATUSES = frozenset({EXECUTING, STOPPING})

PAGE_SIZE = 100
MAX_PAGES = 5
MAX_DESCRIPTION = 3072

LOGGER, log = json_logger("mlops_cdk.retraining_gate")


# ------------------------------------------------------------ configuration
@dataclasses.dataclass(frozen=True)
class Config:
    pipeline_name: str
    declared_parameters: tuple[str, ...]
    cooldown_minutes: int
    triggers: Triggers = dataclasses.field(default_factory=Triggers)
    start_parameters: Mapping[str, str] = dataclasses.field(default_factory=dict)
    metric_namespace: str | None = None

    @property
    def cooldown(self) -> timedelta:
        return timedelta(minutes=self.cooldown_minutes)


def _reason_pairs(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and p[1] in contract.REASONS for p in value)


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def load_config(environ: Mapping[str, str]) -> Config:
    """The gate's settings; raises ``env.ConfigError`` listing every missing or unusable one."""
    def read(settings: env.Settings) -> Config:
        declared = settings.names("PIPELINE_PARAMETERS")
        alarm_reasons = settings.json_value(
            "ALARM_REASONS", _reason_pairs,
            f"a JSON list of [alarm ARN, reason] pairs, reason one of {' | '.join(contract.REASONS)}", default=[])
        start = settings.json_value("START_PARAMETERS", _string_map, "a JSON object of string values", default={})
        if start and contract.REASON_PARAMETER in start:
            settings.problem(f"START_PARAMETERS may not set {contract.REASON_PARAMETER!r}: "
                             "the gate sets it per trigger")
        if declared is not None and start is not None:
            undeclared = sorted(({contract.REASON_PARAMETER} | set(start)) - set(declared))
            if undeclared:
                settings.problem(f"PIPELINE_PARAMETERS ({', '.join(declared)}) does not declare {undeclared}, "
                                 "which the gate would send: every start would fail")
        return Config(
            pipeline_name=settings.required("PIPELINE_NAME"),
            declared_parameters=declared,
            cooldown_minutes=settings.integer("COOLDOWN_MINUTES", minimum=1, maximum=contract.MAX_COOLDOWN_MINUTES),
            triggers=Triggers(
                alarm_reasons=dict(alarm_reasons or []),
                default_alarm_reason=settings.choice("DEFAULT_ALARM_REASON", contract.REASONS, default=DATA_DRIFT),
                drift_event_source=settings.optional("DRIFT_EVENT_SOURCE", contract.DRIFT_EVENT_SOURCE),
                new_data_bucket=settings.optional("NEW_DATA_BUCKET"),
                new_data_prefix=settings.optional("NEW_DATA_PREFIX", ""),
                new_data_suffix=settings.optional("NEW_DATA_SUFFIX"),
            ),
            start_parameters=start or {},
            metric_namespace=settings.optional("METRIC_NAMESPACE"),
        )
    return env.load(environ, read)


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
        trigger = classify(event, config.triggers)
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

    parameters = dict(sorted({contract.REASON_PARAMETER: trigger.reason, **config.start_parameters}.items()))
    description = clean(f"{trigger.reason}: {trigger.summary} (event {trigger.event_id}; started by the "
                        "mlops-cdk retraining gate)", MAX_DESCRIPTION)
    response = sagemaker.start_pipeline_execution(
        PipelineName=config.pipeline_name,
        PipelineExecutionDisplayName=f"{trigger.reason}-{now:%Y%m%d-%H%M%S}",
        PipelineExecutionDescription=description,
        PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
        ClientRequestToken=client_request_token(config.pipeline_name, trigger.event_id),
    )
    return _record(config, STARTED, trigger.summary, **common,
                   pipeline_execution_arn=response["PipelineExecutionArn"], parameters=parameters)


def _record(config: Config, decision: str, why: str, *, level: int = logging.INFO, **fields: Any) -> dict[str, Any]:
    result = {"decision": decision, "why": why, "pipeline": config.pipeline_name, **fields}
    line = dict(result)
    if config.metric_namespace:  # CloudWatch embedded metric format: the log line is the metric
        line.update({
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{
                    "Namespace": config.metric_namespace,
                    "Dimensions": [[contract.DIMENSION_PIPELINE, contract.DIMENSION_DECISION]],
                    "Metrics": [{"Name": contract.METRIC_RETRAINING_DECISIONS, "Unit": "Count"}],
                }],
            },
            contract.DIMENSION_PIPELINE: config.pipeline_name,
            contract.DIMENSION_DECISION: decision,
            contract.METRIC_RETRAINING_DECISIONS: 1,
        })
    log(level, f"retraining {decision}: {why}", **line)
    return result


def _event_id(event: Any) -> Any:
    return event.get("id") if isinstance(event, dict) else None


def _preview(event: Any) -> str:
    text = json.dumps(event, default=str) if not isinstance(event, str) else event
    return text[:1000]


# ------------------------------------------------------------------ handler
CONFIG = env.cold_start(load_config, log)


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = CONFIG.get()  # a ConfigError fails the invocation: retried, then kept in the DLQ until fixed
    return decide(event, config, env.client("sagemaker"), datetime.now(timezone.utc))
