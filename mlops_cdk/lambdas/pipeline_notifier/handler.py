"""Failure notifier (Lambda, Python 3.14, boto3 only): tells the alert topic *why* a pipeline run failed.

Triggered by EventBridge with "SageMaker Model Building Pipeline Execution
Status Change" events whose ``currentPipelineExecutionStatus`` is Failed.
That event carries no failure reason, so the function reads, for the
execution in the event:

* ``DescribePipelineExecution``: ``FailureReason``, display name, description, start time;
* ``ListPipelineExecutionSteps``: each failed step with its ``FailureReason``
  (e.g. the accuracy gate's message, or the training job's error);
* ``ListPipelineParametersForExecution``: the run's ``Reason`` (why it was started),

and publishes one plain-text message (subject ``Retraining FAILED: <pipeline>``).

Error policy: a malformed event, an event of another pipeline (``PIPELINE_ARN``)
or of another status is logged and dropped. Any read that fails is reported in
the message ("could not read ...") rather than suppressing the alert; only a
failure to publish is raised, so Lambda retries and then keeps the event in
the dead-letter queue.

Environment: ``TOPIC_ARN`` (required), ``PIPELINE_ARN`` (optional filter), ``LOG_LEVEL``.
Only the standard library and boto3: this file is the whole deployment package.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from json_log import json_logger  # shipped next to this file by PlatformFunction

EVENT_SOURCE = "aws.sagemaker"
EVENT_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"
EXECUTION_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline/([^/]+)/execution/[^/]+$")
TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
MAX_SUBJECT = 99  # SNS: ASCII, no line breaks, fewer than 100 characters
MAX_STEPS = 20
MAX_REASON = 1000


# ----------------------------------------------------------------- logging
LOGGER, log = json_logger("mlops_cdk.pipeline_notifier")


# ------------------------------------------------------------------ config
class ConfigError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Config:
    topic_arn: str
    pipeline_arn: str | None = None


def load_config(env: Mapping[str, str]) -> Config:
    topic = env.get("TOPIC_ARN", "").strip()
    if not TOPIC_ARN_RE.match(topic):
        raise ConfigError(f"TOPIC_ARN {topic!r} is not an SNS topic ARN")
    return Config(topic_arn=topic, pipeline_arn=env.get("PIPELINE_ARN", "").strip() or None)


@dataclasses.dataclass
class Clients:
    sagemaker: Any
    sns: Any


# -------------------------------------------------------------------- work
def notify(event: Any, config: Config, clients: Clients) -> dict[str, Any]:
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(event, dict) or event.get("source") != EVENT_SOURCE \
            or event.get("detail-type") != EVENT_DETAIL_TYPE or not isinstance(detail, dict):
        log(logging.WARNING, "not a pipeline execution status change event", event=str(event)[:1000])
        return {"decision": "invalid_event"}
    execution_arn = detail.get("pipelineExecutionArn")
    if not isinstance(execution_arn, str) or not EXECUTION_ARN_RE.match(execution_arn):
        log(logging.WARNING, "event without a valid detail.pipelineExecutionArn", event_id=event.get("id"))
        return {"decision": "invalid_event"}
    if detail.get("currentPipelineExecutionStatus") != "Failed":
        log(logging.INFO, "execution did not fail: nothing to report",
            status=detail.get("currentPipelineExecutionStatus"))
        return {"decision": "skipped", "why": "not_failed"}
    if config.pipeline_arn and detail.get("pipelineArn") != config.pipeline_arn:
        log(logging.INFO, "event of another pipeline", pipeline_arn=detail.get("pipelineArn"))
        return {"decision": "skipped", "why": "other_pipeline"}

    pipeline = EXECUTION_ARN_RE.match(execution_arn).group(1)
    problems: list[str] = []
    execution = _read(problems, "the execution", lambda: clients.sagemaker.describe_pipeline_execution(
        PipelineExecutionArn=execution_arn)) or {}
    steps = _read(problems, "the steps", lambda: clients.sagemaker.list_pipeline_execution_steps(
        PipelineExecutionArn=execution_arn, SortOrder="Ascending", MaxResults=100).get("PipelineExecutionSteps", []))
    parameters = _read(problems, "the parameters", lambda: clients.sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution_arn, MaxResults=100).get("PipelineParameters", []))

    failed_steps = [s for s in steps or [] if s.get("StepStatus") == "Failed"][:MAX_STEPS]
    display_name = execution.get("PipelineExecutionDisplayName") or detail.get("pipelineExecutionDisplayName")
    reason = next((p.get("Value") for p in parameters or [] if p.get("Name") == "Reason"), None)
    lines = [
        f"Retraining pipeline {pipeline}: execution FAILED",
        "",
        f"Execution: {display_name or '-'}",
        f"ARN: {execution_arn}",
        f"Started: {_time(execution.get('CreationTime')) or detail.get('executionStartTime') or '-'}"
        f"; failed at: {detail.get('executionEndTime') or event.get('time') or '-'}",
    ]
    if reason:
        lines.append(f"Started because: {reason}")
    description = execution.get("PipelineExecutionDescription") or detail.get("pipelineExecutionDescription")
    if description:
        lines.append(f"Description: {_short(description)}")
    lines += ["", f"Failure reason: {_short(execution.get('FailureReason')) or 'not reported by SageMaker'}"]
    if failed_steps:
        lines += ["", "Failed steps:"]
        lines += [f"  - {s.get('StepDisplayName') or s.get('StepName')}: {_short(s.get('FailureReason')) or '-'}"
                  for s in failed_steps]
    if problems:
        lines += ["", "Could not read " + "; ".join(problems)]
    lines += ["", f"Inspect: aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {execution_arn}"]
    message = "\n".join(lines)
    subject = _ascii(f"Retraining FAILED: {pipeline}")[:MAX_SUBJECT]
    clients.sns.publish(TopicArn=config.topic_arn, Subject=subject, Message=message)  # errors raise: retry, then DLQ
    log(logging.INFO, "failure notified", execution_arn=execution_arn,
        failed_steps=[s.get("StepName") for s in failed_steps], problems=problems)
    return {"decision": "notified", "subject": subject, "message": message}


def _read(problems: list[str], what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"].get("Code") if isinstance(exc, ClientError) else type(exc).__name__
        problems.append(f"{what} ({code})")
        log(logging.WARNING, f"could not read {what}", error=str(exc))
        return None


def _short(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _time(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None


def _ascii(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


# ----------------------------------------------------------------- handler
def _cold_start() -> tuple[Config | None, str | None]:
    try:
        return load_config(os.environ), None
    except ConfigError as exc:
        log(logging.ERROR, "invalid configuration", error=str(exc))
        return None, str(exc)


CONFIG, CONFIG_ERROR = _cold_start()
_CLIENTS: Clients | None = None


def _clients() -> Clients:
    global _CLIENTS
    if _CLIENTS is None:
        retry = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)
        _CLIENTS = Clients(sagemaker=boto3.client("sagemaker", config=retry), sns=boto3.client("sns", config=retry))
    return _CLIENTS


def handler(event: Any, context: Any) -> dict[str, Any]:
    if CONFIG is None:
        raise ConfigError(f"pipeline notifier misconfigured: {CONFIG_ERROR}")
    return notify(event, CONFIG, _clients())
