"""RetrainingStack: the whole loop wired to a FoundationStack, each switch, snapshot, cfn-lint, cdk-nag.

One synth (foundation + retraining) for the module; the switches are checked
on the construct tree without synthesizing.
"""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import App, Aws

from mlops_cdk import FoundationStack, PlatformConfig
from mlops_cdk.stacks.retraining import RetrainingStack
from tests.harness import normalized, resources_of_type, synth

CONFIG = PlatformConfig(alert_emails=("ml-team@example.com",))
PIPELINE = "mlops-fraud-detection-dev-training"
DECLARED = ("ProcessingInstanceType", "TrainingInstanceType", "InputData", "TrainingRounds", "LearningRate",
            "AccuracyThreshold", "ModelApprovalStatus", "Reason")
ACCURACY_ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mlops-fraud-detection-dev-accuracy"


def pipeline_arn() -> str:
    return f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:pipeline/{PIPELINE}"


def build(app: App, **overrides) -> RetrainingStack:
    foundation = FoundationStack(app, "Foundation", config=CONFIG)
    props = dict(
        config=CONFIG, foundation=foundation, pipeline_name=PIPELINE, pipeline_arn=pipeline_arn(),
        pipeline_parameters=DECLARED, drift_alarm_arns=["mlops-fraud-detection-dev-data-drift", ACCURACY_ALARM],
        alarm_reasons={ACCURACY_ALARM: "ModelQualityDrop"}, drift_endpoints=["mlops-fraud-detection-dev"],
    )
    props.update(overrides)
    return RetrainingStack(app, "Retraining", **props)


@pytest.fixture(scope="module")
def result():
    return synth(build)


@pytest.fixture(scope="module")
def raw(result):
    return result.json("Retraining")


def rule(raw, path_part):
    (found,) = [r for k, r in resources_of_type(raw, "AWS::Events::Rule").items() if k.startswith(path_part)]
    return found["Properties"]


def test_schedule_starts_the_pipeline_weekly_with_reason_scheduled(raw):
    props = rule(raw, "ScheduleRule")
    assert props["ScheduleExpression"] == "rate(7 days)"
    (target,) = props["Targets"]
    assert target["SageMakerPipelineParameters"] == {"PipelineParameterList": [{"Name": "Reason",
                                                                                 "Value": "Scheduled"}]}
    assert target["Arn"]["Fn::Join"][1][-1] == f":pipeline/{PIPELINE}"
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("EventsDeadLetterQueue")


def test_drift_alarms_drift_events_and_new_data_reach_the_gate(raw):
    gate = next(k for k in resources_of_type(raw, "AWS::Lambda::Function") if k.startswith("TriggersGate"))
    for part in ("TriggersAlarmTrigger", "TriggersDriftEventTrigger", "TriggersNewDataTrigger"):
        (target,) = rule(raw, part)["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [gate, "Arn"]}
    alarms = rule(raw, "TriggersAlarmTrigger")["EventPattern"]["resources"]
    assert ACCURACY_ALARM in alarms
    assert alarms[0]["Fn::Join"][1][-1] == ":alarm:mlops-fraud-detection-dev-data-drift"
    assert rule(raw, "TriggersDriftEventTrigger")["EventPattern"]["detail"] == {
        "status": ["drift"], "endpoint": ["mlops-fraud-detection-dev"]}
    new_data = rule(raw, "TriggersNewDataTrigger")["EventPattern"]["detail"]
    assert new_data["object"] == {"key": [{"prefix": "training-data/"}]}
    assert "Fn::ImportValue" in new_data["bucket"]["name"][0]  # the foundation's data bucket


def test_gate_reasons_and_cooldown(raw):
    (gate,) = [r for k, r in resources_of_type(raw, "AWS::Lambda::Function").items() if k.startswith("TriggersGate")]
    env = gate["Properties"]["Environment"]["Variables"]
    assert env["COOLDOWN_MINUTES"] == "360"
    reasons = env["ALARM_REASONS"]["Fn::Join"][1]
    assert json.dumps(ACCURACY_ALARM)[1:-1] in "".join(p for p in reasons if isinstance(p, str))
    assert '"ModelQualityDrop"' in "".join(p for p in reasons if isinstance(p, str))


def test_notifications_go_to_the_foundations_alert_topic(raw):
    statuses = {}
    for key, r in resources_of_type(raw, "AWS::Events::Rule").items():
        if key.startswith("Notifications"):
            (status,) = r["Properties"]["EventPattern"]["detail"]["currentPipelineExecutionStatus"]
            statuses[status] = r["Properties"]["Targets"][0]["Arn"]
    assert set(statuses) == {"Executing", "Succeeded", "Failed", "Stopped"}
    for status, arn in statuses.items():
        if status == "Failed":
            assert arn["Fn::GetAtt"][0].startswith("NotificationsFailureNotifier")
        else:
            assert "Fn::ImportValue" in arn and "Alerts" in arn["Fn::ImportValue"]


def test_dead_letter_alarms_notify_the_alert_topic(raw):
    alarms = [a["Properties"] for a in resources_of_type(raw, "AWS::CloudWatch::Alarm").values()]
    assert len(alarms) == len(resources_of_type(raw, "AWS::SQS::Queue")) == 3
    for alarm in alarms:
        (action,) = alarm["AlarmActions"]
        assert "Alerts" in action["Fn::ImportValue"]


def test_every_resource_is_tagged(raw):
    for key, resource in raw["Resources"].items():
        tags = resource["Properties"].get("Tags")
        if tags is not None and isinstance(tags, list):
            assert {"Key": "stage", "Value": "dev"} in tags, key


def test_outputs(raw):
    assert set(raw["Outputs"]) >= {"ScheduleRuleName", "GateFunctionName"}


def test_foundation_is_not_modified_beyond_exports(result):
    foundation = result.json("Foundation")
    policies = resources_of_type(foundation, "AWS::SNS::TopicPolicy")
    for policy in policies.values():
        sids = [s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"]]
        assert set(sids) <= {"AllowPublishThroughSSLOnly", "AllowAlarmsAndRulesToPublish"}


def test_cdk_nag_and_cfn_lint_are_clean(result):
    assert result.nag_findings == []
    assert result.lint("Retraining") == []
    assert result.lint("Foundation") == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# ---------------------------------------------------------------- switches
def children(stack) -> set[str]:
    return {c.node.id for c in stack.node.children}


def triggers(stack) -> set[str]:
    return set() if stack.triggers is None else set(stack.triggers.rules)


@pytest.mark.parametrize(("switches", "present", "absent", "rules"), [
    ({}, {"Schedule", "Triggers", "Notifications", "EventsDeadLetterQueue"}, set(),
     {"AlarmTrigger", "DriftEventTrigger", "NewDataTrigger"}),
    ({"scheduled": False}, {"Triggers", "Notifications", "EventsDeadLetterQueue"}, {"Schedule"},
     {"AlarmTrigger", "DriftEventTrigger", "NewDataTrigger"}),
    ({"drift": False}, {"Schedule", "Triggers"}, set(), {"NewDataTrigger"}),
    ({"new_data": False}, {"Schedule", "Triggers"}, set(), {"AlarmTrigger", "DriftEventTrigger"}),
    ({"drift": False, "new_data": False}, {"Schedule", "Notifications"}, {"Triggers"}, set()),
    ({"notifications": False}, {"Schedule", "Triggers"}, {"Notifications"},
     {"AlarmTrigger", "DriftEventTrigger", "NewDataTrigger"}),
    ({"scheduled": False, "notifications": False}, {"Triggers"}, {"Schedule", "Notifications",
                                                                  "EventsDeadLetterQueue"},
     {"AlarmTrigger", "DriftEventTrigger", "NewDataTrigger"}),
    ({"drift_alarm_arns": (), "alarm_reasons": None}, {"Triggers"}, set(), {"DriftEventTrigger", "NewDataTrigger"}),
])
def test_each_trigger_can_be_switched_off(switches, present, absent, rules):
    stack = build(App(), **switches)
    assert present <= children(stack)
    assert not absent & children(stack)
    assert triggers(stack) == rules


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize(("overrides", "named"), [
    ({"scheduled": False, "drift": False, "new_data": False, "notifications": False}, "'scheduled'"),
    ({"scheduled": "yes"}, "'scheduled'"),
    ({"schedule": "rate(1 weeks)"}, "'schedule'"),
    ({"schedule": "cron(0 3 * * MON *)"}, "'schedule'"),
    ({"cooldown_minutes": 0}, "'cooldown_minutes': invalid value 0"),
    ({"cooldown_minutes": -1}, "'cooldown_minutes'"),
    ({"gate_reserved_concurrency": 0}, "'gate_reserved_concurrency'"),
    ({"alarm_reasons": {ACCURACY_ALARM: "Vibes"}}, "'alarm_reasons': invalid value 'Vibes'"),
    ({"alarm_reasons": {"unknown-alarm": "DataDrift"}}, "'alarm_reasons': invalid value 'unknown-alarm'"),
    ({"pipeline_parameters": ("InputData",)}, "'pipeline_parameters'"),
    ({"pipeline_parameters": ("Reason", "Bad Name")}, "'pipeline_parameters'"),
    ({"pipeline_name": "bad_name"}, "'pipeline_name'"),
    ({"pipeline_arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/other"}, "'pipeline_arn'"),
    ({"drift_alarm_arns": "one-alarm"}, "'drift_alarm_arns'"),
    ({"config": {"stage": "dev"}}, "'config'"),
])
def test_bad_input_names_the_prop(overrides, named):
    with pytest.raises(ValueError, match=r"^RetrainingStack " + re.escape(named)):
        build(App(), **overrides)


def test_gate_concurrency_can_be_left_unreserved():
    stack = build(App(), gate_reserved_concurrency=None)
    cfn_function = stack.triggers.function.function.node.default_child
    assert cfn_function.reserved_concurrent_executions is None
    assert build(App()).triggers.function.function.node.default_child.reserved_concurrent_executions == 1


def test_bad_alarms_fail_before_the_stack_is_added_to_the_app():
    app = App()
    with pytest.raises(ValueError, match=r"^RetrainingStack 'drift_alarm_arns': invalid value 'arn:aws:cloudwatch:"):
        build(app, drift_alarm_arns=["arn:aws:cloudwatch:us-east-1:1234:alarm:x"], alarm_reasons=None)
    assert app.node.try_find_child("Retraining") is None
