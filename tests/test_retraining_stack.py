"""RetrainingStack: settings from config only, objects from other stacks, no FoundationStack.

One app, synthesized once:
* ``Retraining``: the issue's repro (``-c retraining_schedule=cron(0 3 ? * MON *)
  -c retraining_cooldown_minutes=720``) on plain resources, a pipeline, alarms
  and an endpoint that all live in the team's stack ``Team``;
* ``RetrainingImported``: imported resources, with drift retraining and
  notifications switched off in the config;
* ``ScheduleOnly``: only the schedule, on imported resources and a pipeline
  of ``PipelineOwner``: the pipeline alone orders the deployment.
The switch matrix is checked on the construct tree, without synthesizing.
"""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Capture, Match

from mlops_cdk.config import PlatformConfig
from mlops_cdk.constructs.build.sagemaker_pipeline import SageMakerPipeline
from mlops_cdk.constructs.serving.model_endpoint import ModelEndpoint
from mlops_cdk.stacks.retraining import RetrainingStack
from tests.harness import (
    ACCOUNT,
    REGION,
    ROOT,
    imported_resources,
    logical_id,
    logical_ids,
    own_resources,
    reference_context,
    synth,
)
from tests.test_retraining import DECLARED, QUALITY_ALARM_ARN

ENV = Environment(account=ACCOUNT, region=REGION)
PIPELINE = "mlops-fraud-detection-dev-training"
PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{PIPELINE}"  # in a stack with ENV
# ... and in an environment-agnostic stack, as the reference app's
PIPELINE_ARN_ANY_ENV = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":",
                                          {"Ref": "AWS::AccountId"}, f":pipeline/{PIPELINE}"]]}
# What a DevOps engineer types (`cdk synth -c ...`): strings, converted by PlatformConfig.
REPRO = {"retraining_schedule": "cron(0 3 ? * MON *)", "retraining_cooldown_minutes": "720", "monitoring_mode": "own"}


def config(**context: str) -> PlatformConfig:
    return PlatformConfig.from_context({**reference_context(), **context})


BUILT: dict[str, object] = {}


def team(app: App, id: str = "Team"):
    """The team's own stack: resources, a pipeline, alarms and an endpoint made by other parts of its app."""
    stack = Stack(app, id)
    resources = own_resources(stack)
    pipeline = SageMakerPipeline.from_pipeline_name(stack, "Pipeline", PIPELINE)
    drift = cloudwatch.Alarm(stack, "DriftAlarm", threshold=0.2, evaluation_periods=1,
                             metric=cloudwatch.Metric(namespace="MLOps/ModelMonitoring", metric_name="MaxFeatureDrift"))
    quality = cloudwatch.Alarm.from_alarm_arn(stack, "QualityAlarm", QUALITY_ALARM_ARN)
    return stack, resources, pipeline, drift, quality, ModelEndpoint.from_endpoint_name(stack, "Endpoint",
                                                                                         "mlops-fraud-detection-dev")


def build(app: App) -> None:
    owner, resources, pipeline, drift, quality, endpoint = team(app)
    BUILT.update(team=owner, resources=resources, drift=drift)
    BUILT["retraining"] = RetrainingStack(
        app, "Retraining", config=config(**REPRO), resources=resources, pipeline=pipeline,
        pipeline_parameters=DECLARED, drift_alarms=[drift], quality_alarms=[quality], drift_endpoints=[endpoint])

    imports = Stack(app, "Imports", env=ENV)
    resources = imported_resources(imports)
    sqs.Queue(imports, "Queue", enforce_ssl=True)  # a stack deploys only with a resource
    BUILT["imports"] = imports
    BUILT["imported"] = RetrainingStack(
        app, "RetrainingImported", env=ENV,
        config=config(retraining_on_drift="false", retraining_notifications="false"), resources=resources,
        pipeline=SageMakerPipeline.from_pipeline_arn(imports, "Pipeline", PIPELINE_ARN), pipeline_parameters=["Reason"],
        quality_alarms=[cloudwatch.Alarm.from_alarm_arn(imports, "QualityAlarm", QUALITY_ALARM_ARN)])

    owner = Stack(app, "PipelineOwner", env=ENV)
    iam.Role(owner, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    BUILT["owner"] = owner
    BUILT["schedule_only"] = RetrainingStack(
        app, "ScheduleOnly", env=ENV, resources=resources,
        pipeline=SageMakerPipeline.from_pipeline_name(owner, "Pipeline", PIPELINE),
        pipeline_parameters=DECLARED, config=config(retraining_on_drift="false", retraining_on_new_data="false",
                                                    retraining_notifications="false"))


@pytest.fixture(scope="module")
def result():
    return synth(build)


@pytest.fixture(scope="module")
def template(result):
    return result.template("Retraining")


@pytest.fixture(scope="module")
def imported(result):
    return result.template("RetrainingImported")


def imported_from_team(construct) -> dict:
    """How ``Retraining`` sees an attribute of a resource of ``Team``: an ``Fn::ImportValue`` naming it."""
    return {"Fn::ImportValue": Match.string_like_regexp(f"^Team:ExportsOutput.*{logical_id(construct)}")}


# ------------------------------------------------------------ the repro: config decides
def test_the_schedule_and_cooldown_in_config_are_what_deploys(template):
    template.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 3 ? * MON *)",
        "Target": {"Arn": PIPELINE_ARN_ANY_ENV,
                   "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "Reason",
                                                                              "Value": "Scheduled"}]}}})
    template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "COOLDOWN_MINUTES": "720", "PIPELINE_NAME": PIPELINE, "PIPELINE_PARAMETERS": ",".join(DECLARED)})}})


def test_switches_in_config_are_what_deploys(imported):
    imported.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "rate(7 days)"})
    imported.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "COOLDOWN_MINUTES": "360", "NEW_DATA_BUCKET": "team-ml-data", "ALARM_REASONS": "[]"})}})
    imported.resource_count_is("AWS::Lambda::Function", 1)  # the gate: no failure notifier
    imported.resource_count_is("AWS::Events::Rule", 1)  # new data only: no alarm, drift or status rules
    imported.has_resource_properties("AWS::Events::Rule", {"EventPattern": {
        "source": ["aws.s3"], "detail": {"bucket": {"name": ["team-ml-data"]},
                                         "object": {"key": [{"prefix": "training-data/"}]}}}})


def test_alarms_the_config_does_not_use_are_reported():
    infos = [entry.data for entry in BUILT["imported"].node.metadata if entry.type == "aws:cdk:info"]
    assert any("retraining_on_drift is off" in info for info in infos), infos


# ------------------------------------------------------------ wiring
def test_schedule_role_may_only_start_that_pipeline_and_write_the_events_queue(template):
    role, queue = Capture(), Capture()
    template.has_resource_properties("AWS::Scheduler::Schedule", {"Target": {
        "RoleArn": {"Fn::GetAtt": [role, "Arn"]}, "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}}})
    assert queue.as_string() == logical_id(BUILT["retraining"].events_dead_letter_queue)
    template.resource_properties_count_is("AWS::IAM::Policy", {"Roles": [{"Ref": role.as_string()}]}, 1)
    template.has_resource_properties("AWS::IAM::Policy", {"Roles": [{"Ref": role.as_string()}], "PolicyDocument": {
        "Statement": [{"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow",  # the queue's key
                       "Resource": imported_from_team(BUILT["resources"].data_key)},
                      {"Action": "sagemaker:StartPipelineExecution", "Effect": "Allow", "Resource": PIPELINE_ARN_ANY_ENV},
                      {"Action": "sqs:SendMessage", "Effect": "Allow",
                       "Resource": {"Fn::GetAtt": [queue.as_string(), "Arn"]}}]}})


def test_alarms_drift_events_and_new_data_reach_the_gate(template):
    resources = BUILT["resources"]
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": {
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [imported_from_team(BUILT["drift"]), QUALITY_ALARM_ARN]}})
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": {
        "detail-type": ["Feature Drift Detected"],
        "detail": {"status": ["drift"], "endpoint": ["mlops-fraud-detection-dev"]}}})
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": {
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [imported_from_team(resources.data_bucket)]},
                   "object": {"key": [{"prefix": "training-data/"}]}}}})
    variables = Capture()
    template.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 1,
                                                               "Environment": {"Variables": variables}})
    reasons = variables.as_object()["ALARM_REASONS"]["Fn::Join"][1]
    assert [p for p in reasons if isinstance(p, str)] == [
        '[["', f'","DataDrift"],["{QUALITY_ALARM_ARN}","ModelQualityDrop"]]']


def test_notifications_and_dead_letter_alarms_go_to_the_alert_topic(template):
    topic = imported_from_team(BUILT["resources"].alert_topic)
    for status in ("Executing", "Succeeded", "Stopped"):
        template.has_resource_properties("AWS::Events::Rule", {
            "EventPattern": {"detail": {"pipelineArn": [PIPELINE_ARN_ANY_ENV], "currentPipelineExecutionStatus": [status]}},
            "Targets": [Match.object_like({"Arn": topic})]})
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"detail": {"currentPipelineExecutionStatus": ["Failed"]}},
        "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [
            logical_id(BUILT["retraining"].notifications.failure_function.function), "Arn"]}})]})
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == len(template.find_resources("AWS::SQS::Queue")) == 3
    template.resource_properties_count_is("AWS::CloudWatch::Alarm", {"AlarmActions": [topic]}, 3)


def test_deployed_queues_and_log_groups_keep_their_logical_ids(result):
    released = json.loads((ROOT / "tests/data/released_stateful_ids.json").read_text())
    expected = released["variants"]["default"]["mlops-fraud-detection-dev-retraining"]
    ids = logical_ids(result.json("Retraining"))
    assert {k: ids.get(k) for k in expected} == expected


def test_dependencies_follow_from_the_objects_passed(result):
    assert BUILT["retraining"].dependencies == [BUILT["team"]]
    assert BUILT["imported"].dependencies == [BUILT["imports"]]  # where its pipeline object was imported
    # resources imported by name add no dependency: the pipeline alone orders the deployment
    assert BUILT["schedule_only"].dependencies == [BUILT["owner"]]


def test_outputs_and_tags(template):
    outputs = template.to_json()["Outputs"]
    assert outputs["ScheduleName"]["Value"] == {"Ref": logical_id(BUILT["retraining"].scheduled.schedule)}
    assert outputs["GateFunctionName"]["Value"] == {"Ref": logical_id(BUILT["retraining"].triggers.function.function)}
    tagged = [r for r in template.to_json()["Resources"].values() if isinstance(r["Properties"].get("Tags"), list)]
    assert tagged and all({"Key": "stage", "Value": "dev"} in r["Properties"]["Tags"] for r in tagged)


def test_cdk_nag_and_cfn_lint_are_clean(result):
    for stack in ("Retraining", "RetrainingImported", "ScheduleOnly"):
        assert [f for f in result.nag_findings_for(stack) if not f.startswith("Annotation::")] == []
        assert result.lint(stack) == []
    # An imported key's policy cannot be changed here: each stack says once what it must allow.
    warnings = sorted(f for f in result.nag_findings if f.startswith("Annotation::"))
    assert warnings == sorted([
        "Annotation::mlops-cdk:key-policy-AllowEventBridgeDeadLettersOfThisAccount (warning) at "
        "RetrainingImported/EventsDeadLetterQueue",
        "Annotation::mlops-cdk:key-policy-AllowCloudWatchLogsOfThisAccount (warning) at "
        "RetrainingImported/Triggers/Gate/Logs",
        "Annotation::mlops-cdk:key-policy-AllowEventBridgeDeadLettersOfThisAccount (warning) at "
        "ScheduleOnly/EventsDeadLetterQueue",
    ])


@pytest.mark.parametrize("stack", ["Retraining", "RetrainingImported"])
def test_logical_ids(result, stack, json_snapshot):
    assert logical_ids(result.json(stack)) == json_snapshot


# ------------------------------------------------------------ switches (construct tree)
def build_one(*, gate_reserved_concurrency: int | None = 1, **context: str) -> RetrainingStack:
    app = App()
    _, resources, pipeline, drift, quality, endpoint = team(app)
    return RetrainingStack(app, "R", config=config(**context), resources=resources, pipeline=pipeline,
                           pipeline_parameters=DECLARED, drift_alarms=[drift], quality_alarms=[quality],
                           drift_endpoints=[endpoint], gate_reserved_concurrency=gate_reserved_concurrency)


@pytest.mark.parametrize(("switches", "present", "rules"), [
    ({}, {"Schedule", "Triggers", "Notifications", "EventsDeadLetterQueue"},
     {"AlarmTrigger", "DriftEventTrigger", "NewDataTrigger"}),
    ({"retraining_scheduled": "false"}, {"Triggers", "Notifications", "EventsDeadLetterQueue"},
     {"AlarmTrigger", "DriftEventTrigger", "NewDataTrigger"}),
    ({"retraining_on_drift": "false"}, {"Schedule", "Triggers", "Notifications", "EventsDeadLetterQueue"},
     {"NewDataTrigger"}),
    ({"retraining_on_new_data": "false"}, {"Schedule", "Triggers", "Notifications", "EventsDeadLetterQueue"},
     {"AlarmTrigger", "DriftEventTrigger"}),
    ({"retraining_on_drift": "false", "retraining_on_new_data": "false"},
     {"Schedule", "Notifications", "EventsDeadLetterQueue"}, set()),
    ({"retraining_notifications": "false"}, {"Schedule", "Triggers", "EventsDeadLetterQueue"},
     {"AlarmTrigger", "DriftEventTrigger", "NewDataTrigger"}),
    ({"retraining_scheduled": "false", "retraining_notifications": "false"}, {"Triggers"},
     {"AlarmTrigger", "DriftEventTrigger", "NewDataTrigger"}),
])
def test_each_switch_adds_or_removes_its_part(switches, present, rules):
    stack = build_one(**switches)
    parts = {"Schedule", "Triggers", "Notifications", "EventsDeadLetterQueue"}
    assert {c.node.id for c in stack.node.children} & parts == present
    assert set(stack.triggers.rules if stack.triggers else ()) == rules


def test_every_switch_off_is_refused_naming_config():
    off = dict.fromkeys(("retraining_scheduled", "retraining_on_drift", "retraining_on_new_data",
                         "retraining_notifications"), "false")
    with pytest.raises(ValueError, match=r"^RetrainingStack 'config': .*allowed: at least one of retraining_scheduled"):
        build_one(**off)


def test_bad_input_names_the_construct_and_prop():
    app = App()
    _, resources, pipeline, *_ = team(app)
    with pytest.raises(ValueError, match=re.escape("ScheduledRetraining 'pipeline_parameters': invalid value "
                                                   "['InputData']; allowed: names including 'Reason'")):
        RetrainingStack(app, "R", config=config(), resources=resources, pipeline=pipeline,
                        pipeline_parameters=["InputData"])
    with pytest.raises(ValueError, match=r"^RetrainingGate 'reserved_concurrency'"):
        build_one(gate_reserved_concurrency=0, retraining_scheduled="false")


def test_gate_concurrency_can_be_left_unreserved():
    stack = build_one(gate_reserved_concurrency=None)
    assert stack.triggers.function.function.node.default_child.reserved_concurrent_executions is None
