"""The deploy-on-approval recorder Lambda, in-process against moto (SSM, CodePipeline, SageMaker).

One moto world per module: a CodePipeline pipeline, a model package group, the stage and state
parameters created with the template's placeholder. Each test registers its own versions, so tests
share nothing they assert on; executions are counted as a difference.

moto 5.2.5 implements ``start_pipeline_execution`` but ignores ``clientRequestToken`` (every call
starts an execution): the token is checked on the recorded call instead (CodePipeline starts one
execution per token). SNS messages are recorded by a stand-in (moto keeps no published messages
without a subscriber).
"""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

import env
from tests.harness import ROOT, load_handler

REGION = "us-east-1"
GROUP = "fraud-models"
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:model-package-group/{GROUP}"
PIPELINE = "fraud-delivery"
STAGES = {s: f"/mlops-cdk/fraud/detector/{s}/approved-model-package" for s in ("dev", "staging", "prod")}
STATE = "/mlops-cdk/fraud/detector/approval-trigger-state"
TOPIC = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:alerts"
ENV = {"MODEL_PACKAGE_GROUP_ARN": GROUP_ARN, "STAGE_PARAMETERS": ",".join(STAGES.values()),
       "STATE_PARAMETER": STATE, "PIPELINE_NAME": PIPELINE, "TOPIC_ARN": TOPIC}
ENV_KEYS = tuple(ENV)
HANDLER = ROOT / "mlops_cdk" / "lambdas" / "approved_package_recorder" / "handler.py"
H = load_handler(HANDLER)
CONFIG = H.load_config(ENV)


class Recording:
    """A client whose calls of ``methods`` are recorded, then passed on; ``fail_once[method]`` picks one call to fail."""

    def __init__(self, client, *methods: str) -> None:
        self._client, self.calls, self.fail_once = client, [], {}
        for method in methods:
            setattr(self, method, self._recorder(method))

    def _recorder(self, method):
        def call(**kwargs):
            self.calls.append((method, kwargs))
            if method in self.fail_once and self.fail_once[method](kwargs):
                del self.fail_once[method]
                raise RuntimeError(f"injected failure of {method}")
            return getattr(self._client, method)(**kwargs) if self._client is not None else {}
        return call

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture(scope="module")
def world():
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="pipeline", AssumeRolePolicyDocument=json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        cp = boto3.client("codepipeline", region_name=REGION)
        stage = lambda name, category, provider: {"name": name, "actions": [{  # noqa: E731
            "name": name, "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"},
            "configuration": {}}]}
        cp.create_pipeline(pipeline={"name": PIPELINE, "roleArn": role["Role"]["Arn"],
                                     "artifactStore": {"type": "S3", "location": "artifacts"},
                                     "stages": [stage("Source", "Source", "S3"), stage("Build", "Build", "CodeBuild")]})
        sm = boto3.client("sagemaker", region_name=REGION)
        sm.create_model_package_group(ModelPackageGroupName=GROUP)
        ssm = boto3.client("ssm", region_name=REGION)
        yield {"cp": cp, "sm": sm, "ssm": ssm}


@pytest.fixture
def aws(world):
    """Fresh placeholders (as the template creates them) and recording clients for one test."""
    for name in (*STAGES.values(), STATE):
        world["ssm"].put_parameter(Name=name, Value="none", Type="String", Overwrite=True)
    clients = H.Clients(ssm=Recording(world["ssm"], "put_parameter"),
                        codepipeline=Recording(world["cp"], "start_pipeline_execution"),
                        sagemaker=world["sm"], sns=Recording(None, "publish"))
    return {**world, "clients": clients}


def register(sm, status="Approved") -> str:
    return sm.create_model_package(
        ModelPackageGroupName=GROUP, ModelApprovalStatus=status,
        InferenceSpecification={"Containers": [{"Image": "img"}], "SupportedContentTypes": ["text/csv"],
                                "SupportedResponseMIMETypes": ["text/csv"]})["ModelPackageArn"]


def event(arn, status="Approved", group=GROUP, event_id="e-1") -> dict:
    return {"id": event_id, "source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change",
            "account": DEFAULT_ACCOUNT_ID, "region": REGION,
            "detail": {"ModelPackageArn": arn, "ModelPackageGroupName": group, "ModelApprovalStatus": status}}


def handle(aws, evt):
    return H.handle(evt, config=CONFIG, clients=aws["clients"])


def values(aws) -> dict[str, str]:
    return {s: aws["ssm"].get_parameter(Name=n)["Parameter"]["Value"] for s, n in STAGES.items()}


def state(aws) -> tuple[list[str] | str, int]:
    parameter = aws["ssm"].get_parameter(Name=STATE)["Parameter"]
    value = parameter["Value"]
    return (json.loads(value)["deployed"] if value != "none" else value), parameter["Version"]


def executions(aws) -> int:
    return len(aws["cp"].list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"])


def starts(aws) -> list[dict]:
    return [kwargs for _, kwargs in aws["clients"].codepipeline.calls]


def token(arn: str, version: int) -> str:
    return hashlib.sha256(f"{arn}\n{version}".encode()).hexdigest()


# --------------------------------------------------------------------- approved
def test_approved_records_the_version_for_every_stage_and_starts_the_pipeline_once(aws):
    arn = register(aws["sm"])
    _, state_version = state(aws)
    before = executions(aws)
    result = handle(aws, event(arn))
    assert result["decision"] == "deployment_started"
    assert values(aws) == {s: arn for s in STAGES}
    assert state(aws)[0] == [arn]
    assert executions(aws) == before + 1
    (start,) = starts(aws)
    assert start == {"name": PIPELINE, "clientRequestToken": token(arn, state_version)}
    assert len(start["clientRequestToken"]) <= 128 and start["clientRequestToken"].isalnum()


def test_the_same_version_again_changes_nothing_and_starts_nothing(aws):
    arn = register(aws["sm"])
    handle(aws, event(arn))
    writes, before, recorded = len(aws["clients"].ssm.calls), executions(aws), state(aws)
    for event_id in ("e-1", "e-2"):  # a redelivery, and a second event for the same approval
        assert handle(aws, event(arn, event_id=event_id))["decision"] == "duplicate"
    assert len(aws["clients"].ssm.calls) == writes and executions(aws) == before and state(aws) == recorded


def test_a_newer_approval_replaces_the_recorded_one_and_keeps_it_as_history(aws):
    first, second = register(aws["sm"]), register(aws["sm"])
    handle(aws, event(first))
    assert handle(aws, event(second))["decision"] == "deployment_started"
    assert values(aws) == {s: second for s in STAGES}
    assert state(aws)[0] == [second, first]


def test_a_failed_start_is_completed_by_the_retry_with_the_same_token(aws):
    arn = register(aws["sm"])
    _, state_version = state(aws)
    aws["clients"].codepipeline.fail_once["start_pipeline_execution"] = lambda kwargs: True
    with pytest.raises(RuntimeError):
        handle(aws, event(arn))
    assert values(aws) == {s: arn for s in STAGES} and state(aws)[0] == "none"  # not taken for done
    assert handle(aws, event(arn))["decision"] == "deployment_started"
    assert [s["clientRequestToken"] for s in starts(aws)] == [token(arn, state_version)] * 2
    assert state(aws)[0] == [arn]


def test_a_failed_record_after_the_start_repeats_the_same_request(aws):
    arn = register(aws["sm"])
    aws["clients"].ssm.fail_once["put_parameter"] = lambda kwargs: kwargs["Name"] == STATE
    with pytest.raises(RuntimeError):
        handle(aws, event(arn))
    assert handle(aws, event(arn))["decision"] == "deployment_started"
    first, second = starts(aws)
    assert first == second  # same clientRequestToken: CodePipeline starts it once
    assert state(aws)[0] == [arn]


def test_an_approved_event_for_a_version_rejected_since_is_skipped(aws):
    arn = register(aws["sm"])
    aws["sm"].update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    assert handle(aws, event(arn))["decision"] == "skipped"
    assert values(aws) == {s: "none" for s in STAGES} and starts(aws) == []


# --------------------------------------------------------------------- rejected
def test_rejecting_a_version_that_is_not_recorded_changes_nothing(aws):
    deployed, other = register(aws["sm"]), register(aws["sm"])
    handle(aws, event(deployed))
    writes, before, recorded = len(aws["clients"].ssm.calls), executions(aws), state(aws)
    aws["sm"].update_model_package(ModelPackageArn=other, ModelApprovalStatus="Rejected")
    assert handle(aws, event(other, "Rejected"))["decision"] == "skipped"
    assert values(aws) == {s: deployed for s in STAGES}
    assert len(aws["clients"].ssm.calls) == writes and executions(aws) == before and state(aws) == recorded
    assert aws["clients"].sns.calls == []


def test_rejecting_the_recorded_version_returns_to_the_newest_earlier_one_still_approved(aws):
    oldest, withdrawn, current = register(aws["sm"]), register(aws["sm"]), register(aws["sm"])
    for arn in (oldest, withdrawn, current):
        handle(aws, event(arn))
    aws["sm"].update_model_package(ModelPackageArn=withdrawn, ModelApprovalStatus="Rejected")
    aws["sm"].update_model_package(ModelPackageArn=current, ModelApprovalStatus="Rejected")
    _, state_version = state(aws)
    result = handle(aws, event(current, "Rejected"))
    assert result["decision"] == "rolled_back" and result["returned_to"] == oldest
    assert values(aws) == {s: oldest for s in STAGES}
    assert state(aws)[0] == [oldest, withdrawn]  # the rejected one is out of the history
    assert starts(aws)[-1]["clientRequestToken"] == token(oldest, state_version)
    ((_, message),) = aws["clients"].sns.calls
    assert message["TopicArn"] == TOPIC and current in message["Message"] and oldest in message["Message"]
    # the same rejection again: no longer the recorded version
    assert handle(aws, event(current, "Rejected", event_id="e-2"))["decision"] == "skipped"


def test_reapproving_a_version_after_a_return_deploys_it_again_with_a_new_token(aws):
    first, second = register(aws["sm"]), register(aws["sm"])
    handle(aws, event(first))
    handle(aws, event(second))
    first_token = starts(aws)[-1]["clientRequestToken"]
    aws["sm"].update_model_package(ModelPackageArn=second, ModelApprovalStatus="Rejected")
    handle(aws, event(second, "Rejected"))
    aws["sm"].update_model_package(ModelPackageArn=second, ModelApprovalStatus="Approved")
    assert handle(aws, event(second))["decision"] == "deployment_started"
    assert values(aws) == {s: second for s in STAGES}
    assert starts(aws)[-1]["clientRequestToken"] != first_token


def test_rejecting_the_only_deployed_version_changes_nothing_and_tells_a_human(aws):
    arn = register(aws["sm"])
    handle(aws, event(arn))
    before = executions(aws)
    aws["sm"].update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    result = handle(aws, event(arn, "Rejected"))
    assert result["decision"] == "nothing_to_return_to" and result["notified"] is True
    assert values(aws) == {s: arn for s in STAGES} and executions(aws) == before
    ((_, message),) = aws["clients"].sns.calls
    assert arn in message["Message"] and PIPELINE in message["Message"] and len(message["Subject"]) < 100


def test_a_rejected_event_for_a_version_approved_again_since_is_skipped(aws):
    arn = register(aws["sm"])
    handle(aws, event(arn))
    assert handle(aws, event(arn, "Rejected"))["decision"] == "skipped"  # the registry still says Approved
    assert values(aws) == {s: arn for s in STAGES}


def test_an_unreadable_state_counts_as_no_history_and_never_crashes(aws):
    arn = register(aws["sm"])
    aws["ssm"].put_parameter(Name=STATE, Value='{"deployed": ["not an arn"]}', Type="String", Overwrite=True)
    assert handle(aws, event(arn))["decision"] == "deployment_started"
    assert state(aws)[0] == [arn]


# -------------------------------------------------------------------- malformed
ARN = f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:model-package/{GROUP}/3"
GOOD = event(ARN)


def _with(**changes):
    evt = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        node, *keys = path.split("__")
        target = evt if not keys else evt[node]
        key = keys[-1] if keys else node
        if value is _DROP:
            target.pop(key)
        else:
            target[key] = value
    return evt


_DROP = object()
MALFORMED = {
    "not an object": ["a", "list"],
    "none": None,
    "wrong source": _with(source="mlops-cdk.drift-checker"),
    "wrong detail-type": _with(**{"detail-type": "SageMaker Model Building Pipeline Execution Status Change"}),
    "no detail": _with(detail=_DROP),
    "detail not an object": _with(detail="Approved"),
    "no ARN": _with(detail__ModelPackageArn=_DROP),
    "ARN of a group, not a version": _with(detail__ModelPackageArn=GROUP_ARN),
    "ARN not a string": _with(detail__ModelPackageArn=["arn"]),
    "unversioned package": _with(detail__ModelPackageArn=ARN.rsplit("/", 1)[0]),
    "pending status": _with(detail__ModelApprovalStatus="PendingManualApproval"),
    "unknown status": _with(detail__ModelApprovalStatus="approved"),
    "no status": _with(detail__ModelApprovalStatus=_DROP),
    "another group": _with(detail__ModelPackageGroupName="churn-models",
                           detail__ModelPackageArn=ARN.replace(GROUP, "churn-models")),
    "name and ARN disagree": _with(detail__ModelPackageArn=ARN.replace(GROUP, "churn-models")),
    "same name, another account": _with(detail__ModelPackageArn=ARN.replace(DEFAULT_ACCOUNT_ID, "999999999999")),
    "same name, another region": _with(detail__ModelPackageArn=ARN.replace(REGION, "eu-west-1")),
}


@pytest.mark.parametrize("evt", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_or_foreign_events_are_logged_and_touch_nothing(evt, capsys):
    def no_clients():
        raise AssertionError("no AWS client may be created for this event")
    result = H.handle(evt, config=CONFIG, clients=no_clients)
    assert result["decision"] == "invalid_event" and result["model_package_arn"] is None
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["decision"] == "invalid_event" and line["level"] == "WARNING"


def test_the_well_formed_reference_event_is_accepted():
    assert H.parse_event(GOOD, CONFIG) == ((ARN, "Approved"), None)


# ----------------------------------------------------------------- configuration
def test_every_missing_or_bad_setting_is_named_at_once():
    with pytest.raises(env.ConfigError) as error:
        H.load_config({"MODEL_PACKAGE_GROUP_ARN": "fraud-models", "STAGE_PARAMETERS": "/a,/a"})
    for name in ("MODEL_PACKAGE_GROUP_ARN", "STAGE_PARAMETERS", "STATE_PARAMETER", "PIPELINE_NAME"):
        assert name in str(error.value)
    assert "TOPIC_ARN" not in str(error.value)  # optional


def test_the_entry_point_reads_its_environment_and_acts(world, monkeypatch):
    module = load_handler(HANDLER, monkeypatch, {**ENV, "TOPIC_ARN": ""}, ENV_KEYS)
    for name in (*STAGES.values(), STATE):
        world["ssm"].put_parameter(Name=name, Value="none", Type="String", Overwrite=True)
    arn = register(world["sm"])
    assert module.handler(event(arn))["decision"] == "deployment_started"
    assert world["ssm"].get_parameter(Name=STAGES["prod"])["Parameter"]["Value"] == arn
    assert module.handler({"source": "nope"})["decision"] == "invalid_event"
