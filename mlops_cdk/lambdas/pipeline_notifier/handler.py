"""Failure notifier (Lambda, Python 3.14, boto3 only): tells the alert topic *why* a pipeline run failed.

Triggered by EventBridge with "SageMaker Model Building Pipeline Execution
Status Change" events whose ``currentPipelineExecutionStatus`` is Failed or
CompletedWithFailures (the run ended with failed steps). That event carries
no failure reason, so the function reads, for the execution in the event:

* ``DescribePipelineExecution``: ``FailureReason``, display name, description, start time;
* ``ListPipelineExecutionSteps``: each failed step with its ``FailureReason``
  (e.g. the accuracy gate's message, or the training job's error);
* ``ListPipelineParametersForExecution``: the run's ``Reason`` (why it was started),

and publishes one plain-text message (subject ``Retraining FAILED: <pipeline>`` or
``Retraining COMPLETED WITH FAILURES: <pipeline>``).

Error policy: a malformed event, an event of another pipeline (``PIPELINE_ARN``)
or of another status is logged and dropped. Any read that fails is reported in
the message ("could not read ...") rather than suppressing the alert; only a
failure to publish is raised, so Lambda retries and then keeps the event in
the dead-letter queue.

Environment (read once at cold start through the shared ``env``; a missing
TOPIC_ARN fails every invocation, so events wait in the dead-letter queue):
``TOPIC_ARN`` (required), ``PIPELINE_ARN`` (optional filter), ``LOG_LEVEL``.
Only the standard library, boto3 and the shared modules (``contract``, ``env``,
``json_log``) that ``PlatformFunction`` copies next to this file.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

import contract
import env
from json_log import json_logger

_EXECUTING, _STOPPING, _STOPPED, FAILED, _SUCCEEDED, COMPLETED_WITH_FAILURES = contract.PIPELINE_STATUSES
# What each reported status is called in the message (FAILED is a step's StepStatus too).
HEADLINES = {FAILED: "FAILED", COMPLETED_WITH_FAILURES: "COMPLETED WITH FAILURES"}
MAX_STEPS = 20
MAX_REASON = 1000


# ----------------------------------------------------------------- logging
LOGGER, log = json_logger("mlops_cdk.pipeline_notifier")


# ------------------------------------------------------------------ config
@dataclasses.dataclass(frozen=True)
class Config:
    topic_arn: str
    pipeline_arn: str | None = None


def load_config(environ: Mapping[str, str]) -> Config:
    """The notifier's settings; raises ``env.ConfigError`` when TOPIC_ARN is missing."""
    return env.load(environ, lambda settings: Config(topic_arn=settings.required("TOPIC_ARN"),
                                                     pipeline_arn=settings.optional("PIPELINE_ARN")))


@dataclasses.dataclass
class Clients:
    sagemaker: Any
    sns: Any


# -------------------------------------------------------------------- work
def notify(event: Any, config: Config, clients: Clients) -> dict[str, Any]:
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(event, dict) or event.get("source") != contract.SAGEMAKER_EVENT_SOURCE \
            or event.get("detail-type") != contract.PIPELINE_STATUS_CHANGE or not isinstance(detail, dict):
        log(logging.WARNING, "not a pipeline execution status change event", event=str(event)[:1000])
        return {"decision": "invalid_event"}
    execution_arn = detail.get("pipelineExecutionArn")
    match = contract.PIPELINE_EXECUTION_ARN_RE.match(execution_arn) if isinstance(execution_arn, str) else None
    if match is None:
        log(logging.WARNING, "event without a valid detail.pipelineExecutionArn", event_id=event.get("id"))
        return {"decision": "invalid_event"}
    status = detail.get("currentPipelineExecutionStatus")
    if not isinstance(status, str) or status not in HEADLINES:
        log(logging.INFO, "execution did not fail: nothing to report", status=str(status)[:100])
        return {"decision": "skipped", "why": "not_failed"}
    headline = HEADLINES[status]
    if config.pipeline_arn and detail.get("pipelineArn") != config.pipeline_arn:
        log(logging.INFO, "event of another pipeline", pipeline_arn=detail.get("pipelineArn"))
        return {"decision": "skipped", "why": "other_pipeline"}

    pipeline = match.group("pipeline")
    problems: list[str] = []
    execution = _read(problems, "the execution", lambda: clients.sagemaker.describe_pipeline_execution(
        PipelineExecutionArn=execution_arn)) or {}
    steps = _read(problems, "the steps", lambda: clients.sagemaker.list_pipeline_execution_steps(
        PipelineExecutionArn=execution_arn, SortOrder="Ascending", MaxResults=100).get("PipelineExecutionSteps", []))
    parameters = _read(problems, "the parameters", lambda: clients.sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution_arn, MaxResults=100).get("PipelineParameters", []))

    failed_steps = [s for s in steps or [] if s.get("StepStatus") == FAILED][:MAX_STEPS]
    display_name = execution.get("PipelineExecutionDisplayName") or detail.get("pipelineExecutionDisplayName")
    reason = next((p.get("Value") for p in parameters or [] if p.get("Name") == contract.REASON_PARAMETER), None)
    lines = [
        f"Retraining pipeline {pipeline}: execution {headline}",
        "",
        f"Execution: {display_name or '-'}",
        f"ARN: {execution_arn}",
        f"Started: {_time(execution.get('CreationTime')) or detail.get('executionStartTime') or '-'}"
        f"; ended: {detail.get('executionEndTime') or event.get('time') or '-'}",
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
    subject = _ascii(f"Retraining {headline}: {pipeline}")[:contract.MAX_SNS_SUBJECT]
    clients.sns.publish(TopicArn=config.topic_arn, Subject=subject, Message=message)  # errors raise: retry, then DLQ
    log(logging.INFO, "failure notified", execution_arn=execution_arn, status=status,
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
CONFIG = env.cold_start(load_config, log)


def handler(event: Any, context: Any) -> dict[str, Any]:
    config = CONFIG.get()  # a ConfigError fails the invocation: retried, then kept in the DLQ until fixed
    return notify(event, config, Clients(sagemaker=env.client("sagemaker"), sns=env.client("sns")))
