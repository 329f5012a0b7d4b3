"""Deploy on approval: records the approved model version for every stage and starts the delivery pipeline.

Triggered by EventBridge ("SageMaker Model Package State Change", ``Approved`` or ``Rejected``, of one
model package group; the registry may be in another account that forwards its events). EventBridge
cannot hand the version to CodePipeline, so this function writes the version's ARN to one SSM
parameter per stage (``STAGE_PARAMETERS``), which the pipeline's synth step reads, and then starts
the pipeline. Its own record (``STATE_PARAMETER``: the versions it deployed, newest first) makes it
idempotent and gives a rejection somewhere to return to.

What an event does (every outcome is one JSON log line and the returned dict):

=============================================  ======================  ===================================
event                                          decision                effect
=============================================  ======================  ===================================
malformed: not an object, wrong source or      invalid_event           none (no AWS call)
detail-type, no detail, bad ARN, other status
version of another group (name, account,       invalid_event           none (no AWS call)
region or partition differ)
Approved, but the version is no longer         skipped                 none (a late or repeated event:
Approved (DescribeModelPackage)                                        the registry's state decides)
Approved, every stage parameter already holds  duplicate               none
it and it is the last deployment started
Approved otherwise                             deployment_started      parameters written, pipeline started
Rejected, no longer Rejected, or not the       skipped                 none: a version that is not
recorded version                                                       deployed never changes anything
Rejected, the recorded version                 rolled_back             the newest earlier deployed version
                                                                       still Approved is written and the
                                                                       pipeline started; topic notified
... and no earlier version is still Approved   nothing_to_return_to    parameters unchanged; topic notified
=============================================  ======================  ===================================

Why a rejection of the deployed version returns to the previous one: the stage parameters are what
every later pipeline run deploys (a platform change, too), so leaving a rejected version there would
redeploy it again and again. The previous version is the newest one this trigger deployed before
that is still ``Approved`` in the registry (checked when the rejection is handled, so a version
rejected since is never returned to); the run goes through the pipeline's own gates, including
the manual approval before prod. With nothing to return to, nothing is changed: emptying the
parameters would take the model out of service, which is a human's call (the topic says so).

Idempotency and retries: the pipeline is started with ``clientRequestToken`` = sha256(version ARN,
version of the state parameter), so a retried invocation repeats the same request (CodePipeline
starts it at most once), while a later re-approval of the same version (after a return) is a new
request. The order is: stage parameters, start, state; a failure at any point raises, Lambda
retries the event, and the retry completes what is missing (the state still names the previous
deployment, so the event is not taken for a duplicate). AWS errors raise (retries, then the
function's dead-letter queue, whose alarm tells a human). Known limit: SageMaker can emit the
events of one version out of order; the describe call makes the registry's current state, not the
event's, decide.

Environment (read once at cold start through ``env``): MODEL_PACKAGE_GROUP_ARN, STAGE_PARAMETERS
(comma-separated names), STATE_PARAMETER, PIPELINE_NAME, TOPIC_ARN (optional).
Only the standard library, boto3 and the shared modules (``contract``, ``env``, ``json_log``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

import contract
import env
from json_log import json_logger
from package_events import model_package_change

APPROVED, REJECTED, _PENDING = contract.APPROVAL_STATUSES
NONE = contract.NO_APPROVED_PACKAGE

STARTED = "deployment_started"
DUPLICATE = "duplicate"
ROLLED_BACK = "rolled_back"
NOTHING_TO_RETURN_TO = "nothing_to_return_to"
SKIPPED = "skipped"
INVALID_EVENT = "invalid_event"

# What DescribeModelPackage answers for a version that does not exist (any more).
_NOT_FOUND = frozenset({"ValidationException", "ResourceNotFound", "ResourceNotFoundException"})
MAX_SUBJECT = contract.MAX_SNS_SUBJECT

LOGGER, log = json_logger("mlops_cdk.approved_package_recorder")


# ------------------------------------------------------------ configuration
@dataclasses.dataclass(frozen=True)
class Config:
    group: dict[str, str]  # partition, region, account, group of MODEL_PACKAGE_GROUP_ARN
    stage_parameters: tuple[str, ...]
    state_parameter: str
    pipeline_name: str
    topic_arn: str | None


def load_config(environ: Mapping[str, str]) -> Config:
    """The recorder's settings; raises ``env.ConfigError`` naming every missing or unusable one."""
    def read(settings: env.Settings) -> Config:
        group = settings.match("MODEL_PACKAGE_GROUP_ARN", contract.MODEL_PACKAGE_GROUP_ARN_PARTS_RE,
                               "arn:<partition>:sagemaker:<region>:<account>:model-package-group/<name>")
        state = settings.required("STATE_PARAMETER")
        stages = settings.names("STAGE_PARAMETERS")
        if stages is not None and state in stages:
            settings.problem("STATE_PARAMETER: must not be one of STAGE_PARAMETERS")
        return Config(group=group.groupdict() if group else {}, stage_parameters=stages or (),
                      state_parameter=state, pipeline_name=settings.required("PIPELINE_NAME"),
                      topic_arn=settings.optional("TOPIC_ARN"))
    return env.load(environ, read)


@dataclasses.dataclass(frozen=True)
class Clients:
    ssm: Any
    codepipeline: Any
    sagemaker: Any
    sns: Any


def default_clients() -> Clients:
    return Clients(ssm=env.client("ssm"), codepipeline=env.client("codepipeline"),
                   sagemaker=env.client("sagemaker"), sns=env.client("sns"))


# ------------------------------------------------------------------ events
def parse_event(event: Any, config: Config) -> tuple[tuple[str, str] | None, str | None]:
    """(version ARN, status) of an event this function acts on, or (None, why not)."""
    detail, why = model_package_change(event)
    if detail is None:
        return None, why
    arn = detail.get("ModelPackageArn")
    parts = contract.MODEL_PACKAGE_ARN_PARTS_RE.match(arn) if isinstance(arn, str) else None
    if parts is None:
        return None, f"detail.ModelPackageArn {str(arn)[:300]!r} is not a model package version ARN"
    status = detail.get("ModelApprovalStatus")
    if status not in (APPROVED, REJECTED):
        return None, f"detail.ModelApprovalStatus {str(status)[:50]!r} is neither {APPROVED} nor {REJECTED}"
    mine = config.group
    if detail.get("ModelPackageGroupName") != mine["group"] or parts["group"].lower() != mine["group"].lower() \
            or any(parts[k] != mine[k] for k in ("partition", "region", "account")):
        return None, (f"{arn} (group {str(detail.get('ModelPackageGroupName'))[:100]!r}) is not a version of "
                      f"{mine['group']} in {mine['account']}/{mine['region']}")
    return (arn, status), None


def client_request_token(arn: str, state_version: int) -> str:
    """The same for a retry of one decision, new for the next decision about the same version."""
    return hashlib.sha256(f"{arn}\n{state_version}".encode()).hexdigest()


def parse_state(value: str | None) -> list[str]:
    """The versions the trigger deployed, newest first; a value it cannot read counts as none (logged)."""
    if value is None or value == NONE:
        return []
    try:
        deployed = json.loads(value).get("deployed")
    except (ValueError, AttributeError, RecursionError):
        deployed = None
    if not isinstance(deployed, list) or not all(
            isinstance(a, str) and contract.MODEL_PACKAGE_ARN_PARTS_RE.match(a) for a in deployed):
        log(logging.WARNING, "the state parameter is unreadable: treated as no deployment history",
            value=value[:500])
        return []
    return list(dict.fromkeys(deployed))[:contract.MAX_DEPLOYED_HISTORY]


# ---------------------------------------------------------------- the work
class _Recorder:
    """One decision about one event."""

    def __init__(self, config: Config, clients: Clients, arn: str, event_id: Any) -> None:
        self.config, self.clients, self.arn, self.event_id = config, clients, arn, event_id
        self.values: dict[str, str | None] = {}
        self.deployed: list[str] = []
        self.state_version = 0

    def result(self, decision: str, message: str, **extra: Any) -> dict[str, Any]:
        level = logging.WARNING if decision == NOTHING_TO_RETURN_TO else logging.INFO
        log(level, f"{decision}: {message}", decision=decision, model_package_arn=self.arn,
            event_id=self.event_id, **extra)
        return {"decision": decision, "message": message, "model_package_arn": self.arn, **extra}

    # -- AWS calls
    def read(self) -> None:
        for name in self.config.stage_parameters:
            self.values[name] = self._get(name)[0]
        value, self.state_version = self._get(self.config.state_parameter)
        self.deployed = parse_state(value)

    def _get(self, name: str) -> tuple[str | None, int]:
        try:
            parameter = self.clients.ssm.get_parameter(Name=name)["Parameter"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
                return None, 0  # deleted by hand: written again below
            raise
        return parameter.get("Value"), int(parameter.get("Version") or 0)

    def status_of(self, arn: str) -> str | None:
        """The version's approval status in the registry now (None: no such version)."""
        try:
            return self.clients.sagemaker.describe_model_package(ModelPackageName=arn).get("ModelApprovalStatus")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return None
            raise

    def deploy(self, arn: str) -> str:
        """Write ``arn`` to every stage parameter, start the pipeline, record it: in this order (see above)."""
        for name in self.config.stage_parameters:
            if self.values.get(name) != arn:
                self.clients.ssm.put_parameter(Name=name, Value=arn, Type="String", Overwrite=True)
        execution = self.clients.codepipeline.start_pipeline_execution(
            name=self.config.pipeline_name, clientRequestToken=client_request_token(arn, self.state_version))
        history = [arn] + [a for a in self.deployed if a not in (arn, self.arn)]
        state = json.dumps({"deployed": history[:contract.MAX_DEPLOYED_HISTORY]}, separators=(",", ":"))
        self.clients.ssm.put_parameter(Name=self.config.state_parameter, Value=state, Type="String", Overwrite=True)
        return execution.get("pipelineExecutionId", "")

    def notify(self, subject: str, lines: list[str]) -> bool:
        if not self.config.topic_arn:
            return False
        clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in subject)[:MAX_SUBJECT]
        self.clients.sns.publish(TopicArn=self.config.topic_arn, Subject=clean, Message="\n".join(lines))
        return True

    # -- decisions
    def no_longer(self, status: str) -> dict[str, Any] | None:
        """The skip when the registry no longer holds the version in the event's ``status`` (a late event)."""
        current = self.status_of(self.arn)
        if current == status:
            return None
        return self.result(SKIPPED, f"the version is {current or 'gone'} now, no longer {status}",
                           current_status=current)

    def approved(self) -> dict[str, Any]:
        changed = self.no_longer(APPROVED)
        if changed is not None:
            return changed
        self.read()
        if all(v == self.arn for v in self.values.values()) and self.deployed[:1] == [self.arn]:
            return self.result(DUPLICATE, "every stage already records this version and its deployment "
                                          "was started: nothing to do")
        execution = self.deploy(self.arn)
        return self.result(STARTED, f"recorded for {len(self.values)} stage(s), pipeline "
                                    f"{self.config.pipeline_name} started", pipeline_execution_id=execution)

    def rejected(self) -> dict[str, Any]:
        changed = self.no_longer(REJECTED)
        if changed is not None:
            return changed
        self.read()
        if self.deployed[:1] != [self.arn] and self.arn not in self.values.values():
            return self.result(SKIPPED, "not the recorded version: nothing changes")
        target = next((a for a in self.deployed if a != self.arn and self.status_of(a) == APPROVED), None)
        if target is None:
            notified = self._notify_stuck()
            return self.result(NOTHING_TO_RETURN_TO, "the recorded version was rejected and no earlier deployed "
                                                     "version is still approved: parameters unchanged",
                               notified=notified)
        execution = self.deploy(target)
        notified = self._notify_rollback(target)
        return self.result(ROLLED_BACK, f"returned to {target}; pipeline {self.config.pipeline_name} started",
                           returned_to=target, pipeline_execution_id=execution, notified=notified)

    def _notify_stuck(self) -> bool:
        names = " ".join(self.config.stage_parameters)
        return self.notify(f"Deployed model version rejected: {self.config.group['group']}", [
            f"The deployed model version {self.arn} was rejected in the registry, and no version deployed",
            "before it is still Approved. The stage parameters still name it, so the endpoints keep serving it",
            "and every run of the delivery pipeline deploys it again.",
            "",
            "Approve the version to serve instead (it is then recorded and deployed), or write one to the",
            f"parameters ({names}) and start the pipeline {self.config.pipeline_name}.",
        ])

    def _notify_rollback(self, target: str) -> bool:
        try:
            return self.notify(f"Model version rejected, returning: {self.config.group['group']}", [
                f"The deployed model version {self.arn} was rejected in the registry.",
                f"The delivery pipeline {self.config.pipeline_name} was started to return every stage to",
                f"{target}, the newest version deployed before it that is still Approved.",
                "The run passes the pipeline's gates, including the manual approval before prod.",
            ])
        except Exception:  # the return is under way: a lost notice must not make a retry repeat it
            LOGGER.exception("publishing the return notice failed", extra={"fields": {"model_package_arn": self.arn}})
            return False


# ------------------------------------------------------------- entry points
def handle(event: Any, *, config: Config, clients: Clients | Callable[[], Clients] | None = None) -> dict[str, Any]:
    """Decide on one event; AWS clients are only created for a well-formed event of this group."""
    parsed, problem = parse_event(event, config)
    event_id = event.get("id") if isinstance(event, Mapping) else None
    if parsed is None:
        log(logging.WARNING, f"{INVALID_EVENT}: {problem}", decision=INVALID_EVENT, event_id=event_id)
        return {"decision": INVALID_EVENT, "message": problem, "model_package_arn": None}
    arn, status = parsed
    resolved = clients() if callable(clients) else clients if clients is not None else default_clients()
    recorder = _Recorder(config, resolved, arn, event_id)
    return recorder.approved() if status == APPROVED else recorder.rejected()


CONFIG = env.cold_start(load_config, log)


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point (``handler.handler``)."""
    config = CONFIG.get()  # a ConfigError fails the invocation: retried, then kept in the DLQ
    try:
        return handle(event, config=config)
    except Exception:
        LOGGER.exception("recording the approved version failed; the event will be retried", extra={"fields": {
            "request_id": getattr(context, "aws_request_id", None)}})
        raise
