"""ScheduledRetraining, DriftRetraining, PipelineNotifications and SageMakerPipelineTarget: wiring, IAM, patterns.

One synthesized stack holds every construct (one synth for the module).
Event patterns are checked twice: as JSON, and by matching realistic events
(the drift checker's event, CloudWatch alarm and S3 events, SageMaker status
changes) with moto's EventBridge pattern matcher after resolving the
template's intrinsics. Input-transformer templates are rendered the way
EventBridge substitutes ``<placeholders>`` (raw, unescaped) and each line must
stay a valid JSON string.
"""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import App, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from moto.events.models import EventPattern

from mlops_cdk.constructs.alert_topic import AlertTopic
from mlops_cdk.constructs.pipeline_notifications import PipelineNotifications
from mlops_cdk.constructs.pipeline_target import SageMakerPipelineTarget
from mlops_cdk.constructs.retraining import (
    REASONS,
    DriftRetraining,
    ScheduledRetraining,
    pipeline_arn_of,
    validate_schedule,
)
from mlops_cdk.constructs.secure_bucket import SecureBucket
from tests.harness import normalized, resources_of_type, role_statements, synth

PIPELINE = "fraud-training"
OTHER_PIPELINE = "churn-training"
DECLARED = ("ProcessingInstanceType", "TrainingInstanceType", "InputData", "TrainingRounds", "LearningRate",
            "AccuracyThreshold", "ModelApprovalStatus", "Reason")
ACCURACY_ALARM_ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:fraud-accuracy-drop"
REGION, ACCOUNT, PARTITION = "eu-west-1", "123456789012", "aws"
PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{PIPELINE}"


def build(app: App) -> None:
    stack = Stack(app, "Retraining")
    arn = pipeline_arn_of(stack, PIPELINE)
    alerts = AlertTopic(stack, "Alerts")
    data = SecureBucket(stack, "Data", event_bridge_enabled=True)
    drift_alarm = cloudwatch.Alarm(
        stack, "DriftAlarm", metric=cloudwatch.Metric(namespace="MLOps/ModelMonitoring", metric_name="MaxFeatureDrift"),
        threshold=0.2, evaluation_periods=1)
    ScheduledRetraining(
        stack, "Weekly", pipeline_arn=arn, schedule="cron(0 3 ? * MON *)",
        parameters={"Reason": "Scheduled", "InputData": "s3://bucket/training-data/"},
        pipeline_parameters=DECLARED, alert_topic=alerts,
    )
    DriftRetraining(
        stack, "OnDrift", pipeline_name=PIPELINE, pipeline_arn=arn, pipeline_parameters=DECLARED,
        alarms={"fraud-data-drift": "DataDrift", ACCURACY_ALARM_ARN: "ModelQualityDrop", drift_alarm: "DataDrift"},
        drift_endpoints=["fraud-endpoint"], new_data_bucket=data, cooldown_minutes=90, alert_topic=alerts,
    )
    PipelineNotifications(stack, "Notify", pipeline_name=PIPELINE, pipeline_arn=arn, topic=alerts)
    plain = sns.Topic(stack, "PlainTopic", enforce_ssl=True)
    PipelineNotifications(
        stack, "NotifyOther", pipeline_name=OTHER_PIPELINE, pipeline_arn=pipeline_arn_of(stack, OTHER_PIPELINE),
        topic=plain, failure_details=False, statuses=["Failed", "Succeeded"],
    )


@pytest.fixture(scope="module")
def result():
    return synth(build)


@pytest.fixture(scope="module")
def raw(result):
    return result.json("Retraining")


def by_path(raw, type_name: str, path_part: str) -> dict[str, dict]:
    return {k: v for k, v in resources_of_type(raw, type_name).items() if path_part in k}


def one(raw, type_name: str, path_part: str) -> tuple[str, dict]:
    found = by_path(raw, type_name, path_part)
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def resolve(node, raw):
    """Resolve the intrinsics a test needs: pseudo parameters, Fn::Join, Ref/GetAtt to stable placeholders."""
    if isinstance(node, dict):
        if "Ref" in node:
            return {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                    "AWS::URLSuffix": "amazonaws.com"}.get(node["Ref"], f"ref:{node['Ref']}")
        if "Fn::Join" in node:
            sep, parts = node["Fn::Join"]
            return sep.join(str(resolve(p, raw)) for p in parts)
        if "Fn::GetAtt" in node:
            return f"getatt:{node['Fn::GetAtt'][0]}.{node['Fn::GetAtt'][1]}"
        return {k: resolve(v, raw) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, raw) for v in node]
    return node


# ====================================================== ScheduledRetraining
def test_schedule_starts_the_pipeline_with_its_parameters(raw):
    _, rule = one(raw, "AWS::Events::Rule", "Weekly")
    props = rule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 3 ? * MON *)"
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert resolve(target["Arn"], raw) == PIPELINE_ARN
    assert target["SageMakerPipelineParameters"] == {"PipelineParameterList": [
        {"Name": "InputData", "Value": "s3://bucket/training-data/"}, {"Name": "Reason", "Value": "Scheduled"}]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200}


def test_schedule_role_may_only_start_that_pipeline(raw):
    _, rule = one(raw, "AWS::Events::Rule", "Weekly")
    role_id = rule["Properties"]["Targets"][0]["RoleArn"]["Fn::GetAtt"][0]
    role = raw["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}]
    assert "ManagedPolicyArns" not in role
    (statement,) = role_statements(raw, role_id)
    assert statement["Effect"] == "Allow" and statement["Action"] == "sagemaker:StartPipelineExecution"
    assert resolve(statement["Resource"], raw) == PIPELINE_ARN


def test_schedule_dead_letter_queue_is_encrypted_and_only_this_rule_may_send(raw):
    rule_id, rule = one(raw, "AWS::Events::Rule", "Weekly")
    queue_id = rule["Properties"]["Targets"][0]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    queue = raw["Resources"][queue_id]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["DeletionPolicy"] == "Retain"
    (policy,) = [p for p in resources_of_type(raw, "AWS::SQS::QueuePolicy").values()
                 if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
    stmts = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s.get("Condition") for s in stmts if s["Effect"] == "Deny"]
    (allow,) = [s for s in stmts if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_every_dead_letter_queue_has_an_alarm(raw):
    queues = resources_of_type(raw, "AWS::SQS::Queue")
    alarmed = set()
    for alarm in resources_of_type(raw, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
            (dimension,) = props["Dimensions"]
            alarmed.add(dimension["Value"]["Fn::GetAtt"][0])
            assert props["Threshold"] == 1 and props["TreatMissingData"] == "notBreaching"
    # the plain-topic notifications' DLQ alarms on the plain topic; every queue is watched
    assert alarmed == set(queues)


# ======================================================== DriftRetraining
def test_gate_may_only_list_and_start_that_pipeline(raw):
    fn_id, fn = one(raw, "AWS::Lambda::Function", "OnDriftGate")
    role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    sagemaker = [s for s in role_statements(raw, role_id) if any(a.startswith("sagemaker:") for a in _actions(s))]
    (statement,) = sagemaker
    assert sorted(_actions(statement)) == ["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"]
    assert resolve(statement["Resource"], raw) == PIPELINE_ARN
    for s in role_statements(raw, role_id):
        assert "*" not in json.dumps(s["Resource"]), s
        assert not any("*" in a for a in _actions(s)), s


def _actions(statement) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_gate_configuration_and_concurrency(raw):
    _, fn = one(raw, "AWS::Lambda::Function", "OnDriftGate")
    props = fn["Properties"]
    assert props["ReservedConcurrentExecutions"] == 1
    assert props["Handler"] == "handler.handler" and props["Runtime"].startswith("python3")
    env = resolve(props["Environment"]["Variables"], raw)
    assert env["PIPELINE_NAME"] == PIPELINE
    assert env["PIPELINE_PARAMETERS"].split(",") == list(DECLARED)
    assert env["COOLDOWN_MINUTES"] == "90"
    assert env["NEW_DATA_PREFIX"] == "training-data/"
    assert env["METRIC_NAMESPACE"] == "MLOps/Retraining"
    reasons = dict(json.loads(env["ALARM_REASONS"]))
    assert reasons[f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:fraud-data-drift"] == "DataDrift"
    assert reasons[ACCURACY_ALARM_ARN] == "ModelQualityDrop"
    assert any(k.startswith("getatt:DriftAlarm") for k in reasons)


def test_gate_rules_retry_and_keep_undeliverable_events(raw):
    _, fn = one(raw, "AWS::Lambda::Function", "OnDriftGate")
    dlq = fn["Properties"]["DeadLetterConfig"]["TargetArn"]
    rules = by_path(raw, "AWS::Events::Rule", "OnDrift")
    assert {re.sub(r"[0-9A-F]{8}$", "", k) for k in rules} == {
        "OnDriftAlarmTrigger", "OnDriftDriftEventTrigger", "OnDriftNewDataTrigger"}
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert target["DeadLetterConfig"]["Arn"] == dlq
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 21600}


def pattern(raw, path_part):
    _, rule = one(raw, "AWS::Events::Rule", path_part)
    return resolve(rule["Properties"]["EventPattern"], raw)


def matches(raw, path_part, event) -> bool:
    return EventPattern(None, pattern(raw, path_part)).matches_event(event)


def alarm_event(arn, state="ALARM"):
    return {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change", "resources": [arn],
            "detail": {"alarmName": arn.rsplit(":", 1)[1], "state": {"value": state}}}


def test_alarm_pattern_matches_those_alarms_entering_alarm(raw):
    assert pattern(raw, "OnDriftAlarmTrigger")["detail"] == {"state": {"value": ["ALARM"]}}
    by_name = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:fraud-data-drift"
    assert matches(raw, "OnDriftAlarmTrigger", alarm_event(by_name))
    assert matches(raw, "OnDriftAlarmTrigger", alarm_event(ACCURACY_ALARM_ARN))
    assert not matches(raw, "OnDriftAlarmTrigger", alarm_event(ACCURACY_ALARM_ARN, state="OK"))
    assert not matches(raw, "OnDriftAlarmTrigger", alarm_event(f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cpu"))


def drift_event(endpoint="fraud-endpoint", **overrides):
    detail = {"endpoint": endpoint, "model": "fraud-detection", "status": "drift",
              "drifted_features": [{"feature": "age", "psi": 0.3}], "max_psi": 0.3, "threshold": 0.2}
    return {"source": "mlops-cdk.drift-checker", "detail-type": "Feature Drift Detected", "resources": [],
            "detail": {**detail, **overrides}}


def test_drift_pattern_matches_the_drift_checkers_event_for_this_endpoint(raw):
    from mlops_cdk.lambdas.drift_checker import handler as checker

    event = drift_event()
    assert (event["source"], event["detail-type"]) == (checker.DEFAULT_EVENT_SOURCE, checker.EVENT_DETAIL_TYPE)
    assert matches(raw, "OnDriftDriftEventTrigger", event)
    assert not matches(raw, "OnDriftDriftEventTrigger", drift_event(endpoint="other-endpoint"))
    assert not matches(raw, "OnDriftDriftEventTrigger", {**event, "source": "someone.else"})


def s3_event(bucket, key):
    return {"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": bucket}, "object": {"key": key}}}


def test_new_data_pattern_matches_objects_under_the_training_data_prefix(raw):
    bucket = pattern(raw, "OnDriftNewDataTrigger")["detail"]["bucket"]["name"][0]
    assert bucket.startswith("ref:Data")  # the bucket's Ref
    assert pattern(raw, "OnDriftNewDataTrigger")["detail"]["object"] == {"key": [{"prefix": "training-data/"}]}
    assert matches(raw, "OnDriftNewDataTrigger", s3_event(bucket, "training-data/2026/part-0.csv"))
    assert not matches(raw, "OnDriftNewDataTrigger", s3_event(bucket, "models/model.tar.gz"))
    assert not matches(raw, "OnDriftNewDataTrigger", s3_event("other-bucket", "training-data/x.csv"))


def test_drift_retraining_exposes_a_decision_metric():
    stack = Stack(App(), "S")
    gate = DriftRetraining(stack, "G", pipeline_name=PIPELINE, pipeline_arn=PIPELINE_ARN, pipeline_parameters=DECLARED)
    metric = gate.metric_decisions("skipped")
    assert (metric.namespace, metric.metric_name) == ("MLOps/Retraining", "RetrainingDecisions")
    assert metric.dimensions == {"Pipeline": PIPELINE, "Decision": "skipped"}
    with pytest.raises(ValueError, match="'decision'"):
        gate.metric_decisions("maybe")


# ================================================== PipelineNotifications
def status_event(pipeline, status):
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{pipeline}"
    return {
        "version": "0", "id": "e", "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
        "source": "aws.sagemaker", "account": ACCOUNT, "time": "2026-11-26T11:00:00Z", "region": REGION,
        "resources": [arn, f"{arn}/execution/p4jn9xou8a8s"],
        "detail": {"pipelineExecutionDisplayName": "DataDrift-20261126-100000",
                   "currentPipelineExecutionStatus": status, "previousPipelineExecutionStatus": "Executing",
                   "executionStartTime": "2026-11-26T10:00:01Z", "executionEndTime": "2026-11-26T11:00:00Z",
                   "pipelineExecutionDescription": 'DataDrift: alarm "quoted" \\ and\nnewline',
                   "pipelineArn": arn, "pipelineExecutionArn": f"{arn}/execution/p4jn9xou8a8s"},
    }


def render(transformer: dict, event: dict) -> list[str]:
    """What EventBridge sends for a text template: raw values substituted, then each line a JSON string."""
    text = transformer["InputTemplate"]
    for name, path in transformer["InputPathsMap"].items():
        value = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        text = text.replace(f"<{name}>", value)
    return [json.loads(line) for line in text.splitlines()]  # raises if a value broke the quoting


def notification_rules(raw, pipeline):
    """Status -> notification rule of ``pipeline``."""
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{pipeline}"
    found = {}
    for rule in resources_of_type(raw, "AWS::Events::Rule").values():
        detail = resolve(rule["Properties"].get("EventPattern", {}), raw).get("detail", {})
        if detail.get("pipelineArn") == [arn]:
            (status,) = detail["currentPipelineExecutionStatus"]
            found[status] = rule
    return found


def test_each_status_of_this_pipeline_has_a_rule(raw):
    rules = notification_rules(raw, PIPELINE)
    assert set(rules) == {"Executing", "Succeeded", "Failed", "Stopped"}
    for status, rule in rules.items():
        assert EventPattern(None, resolve(rule["Properties"]["EventPattern"], raw)).matches_event(
            status_event(PIPELINE, status))
        assert not EventPattern(None, resolve(rule["Properties"]["EventPattern"], raw)).matches_event(
            status_event(OTHER_PIPELINE, status))


@pytest.mark.parametrize(("status", "headline", "extra"), [
    ("Executing", "execution STARTED", "Started: 2026-11-26T10:00:01Z"),
    ("Succeeded", "execution SUCCEEDED", "ended: 2026-11-26T11:00:00Z"),
    ("Stopped", "execution STOPPED", "ended: 2026-11-26T11:00:00Z"),
])
def test_status_messages_are_readable_text_without_a_lambda(raw, status, headline, extra):
    rule = notification_rules(raw, PIPELINE)[status]
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": next(k for k in raw["Resources"] if k.startswith("AlertsTopic"))}
    assert target["DeadLetterConfig"] and target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    lines = render(target["InputTransformer"], status_event(PIPELINE, status))
    assert lines[0] == f"Retraining pipeline {PIPELINE}: {headline}"
    assert f"ARN: {PIPELINE_ARN}/execution/p4jn9xou8a8s" in lines
    assert "Execution: DataDrift-20261126-100000" in lines
    assert any(extra in line for line in lines)


def test_templates_only_use_fields_that_cannot_break_the_quoting(raw):
    safe = {"$.detail.pipelineExecutionDisplayName", "$.detail.pipelineExecutionArn", "$.time",
            "$.detail.previousPipelineExecutionStatus", "$.detail.executionStartTime", "$.detail.executionEndTime"}
    for rule in resources_of_type(raw, "AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            if "InputTransformer" in target:
                assert set(target["InputTransformer"]["InputPathsMap"].values()) <= safe


def test_failures_go_to_the_notifier_which_may_only_read_this_pipelines_executions(raw):
    failed = notification_rules(raw, PIPELINE)["Failed"]
    (target,) = failed["Properties"]["Targets"]
    fn_id = target["Arn"]["Fn::GetAtt"][0]
    assert fn_id.startswith("NotifyFailureNotifier")
    role_id = raw["Resources"][fn_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    by_sid = {s.get("Sid"): s for s in role_statements(raw, role_id)}
    read = by_sid["ReadThisPipelinesExecutions"]
    assert sorted(_actions(read)) == ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps",
                                      "sagemaker:ListPipelineParametersForExecution"]
    assert resolve(read["Resource"], raw) == f"{PIPELINE_ARN}/execution/*"
    assert by_sid["PublishAlerts"]["Action"] == "sns:Publish"
    assert sorted(_actions(by_sid["EncryptAlerts"])) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_alert_topic_policy_is_left_as_the_alert_topic_made_it(raw):
    (policy,) = [p for p in resources_of_type(raw, "AWS::SNS::TopicPolicy").values()
                 if p["Properties"]["Topics"][0]["Ref"].startswith("AlertsTopic")]
    sids = [s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert "AllowAlarmsAndRulesToPublish" in sids and len(sids) == 2  # + the SSL-only deny


def test_a_plain_topic_gets_text_failures_and_an_eventbridge_grant(raw):
    rules = notification_rules(raw, OTHER_PIPELINE)
    assert set(rules) == {"Failed", "Succeeded"}
    (target,) = rules["Failed"]["Properties"]["Targets"]
    assert target["Arn"]["Ref"].startswith("PlainTopic")
    lines = render(target["InputTransformer"], status_event(OTHER_PIPELINE, "Failed"))
    assert lines[0] == f"Retraining pipeline {OTHER_PIPELINE}: execution FAILED"
    assert lines[-1].startswith("Why: aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn arn:")
    (policy,) = [p for p in resources_of_type(raw, "AWS::SNS::TopicPolicy").values()
                 if p["Properties"]["Topics"][0]["Ref"].startswith("PlainTopic")]
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} and s["Action"] == "sns:Publish"
               for s in policy["Properties"]["PolicyDocument"]["Statement"])


# ============================================================== compliance
def test_cdk_nag_and_cfn_lint_are_clean(result):
    assert result.nag_findings == []
    assert result.lint("Retraining") == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# ============================================================== schedules
@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
    "cron(0 3 ? * MON *)", "cron(0/15 * * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
    "cron(0 0 L * ? 2027)", "cron(0 10 ? * 6L 2026-2030)", "cron(30 2 ? JAN,JUL 2#1 *)", "cron(0 9 15W * ? *)",
    "cron(5,35 14 * * ? *)", "cron(*/5 * * * ? *)", "cron(0 0 ? * SUN#2 *)",
])
def test_valid_schedules_pass(expression):
    assert validate_schedule("X", "schedule", expression) == expression


@pytest.mark.parametrize(("expression", "hint"), [
    ("rate(1 days)", "singular"),
    ("rate(7 day)", "plural"),
    ("rate(0 minutes)", "positive integer"),
    ("rate(-1 days)", "positive integer"),
    ("rate(1.5 hours)", "positive integer"),
    ("rate(2 weeks)", "minute"),
    ("rate(7days)", "minute"),
    ("cron(0 3 * * MON *)", "'?' in exactly one"),
    ("cron(0 3 ? * ? *)", "'?' in exactly one"),
    ("cron(0 3 * * ?)", "six fields"),
    ("cron(0 3 ? * MON * *)", "six fields"),
    ("cron(0  3 ? * MON *)", "six fields"),
    ("cron(60 3 ? * MON *)", "minutes"),
    ("cron(0 24 ? * MON *)", "hours"),
    ("cron(0 3 32 * ? *)", "day-of-month"),
    ("cron(0 3 ? 13 MON *)", "month"),
    ("cron(0 3 ? * FUNDAY *)", "day-of-week"),
    ("cron(0 3 ? * 8 *)", "day-of-week"),
    ("cron(0 3 ? * MON 1969)", "year"),
    ("cron(? 3 * * ? *)", "minutes"),
    ("cron(0/0 3 ? * MON *)", "increment"),
    ("0 3 * * *", "rate(1 minute"),
    ("at(2026-12-01T00:00:00)", "rate(1 minute"),
    ("", "rate(1 minute"),
    (7, "rate(1 minute"),
])
def test_invalid_schedules_are_rejected_naming_the_prop(expression, hint):
    with pytest.raises(ValueError, match=r"^X 'schedule': invalid value .*; allowed: .*" + re.escape(hint)):
        validate_schedule("X", "schedule", expression)


# ============================================================== bad input
def stack() -> Stack:
    return Stack(App(), "S")


GOOD_DRIFT = {"pipeline_name": PIPELINE, "pipeline_arn": PIPELINE_ARN, "pipeline_parameters": DECLARED}


@pytest.mark.parametrize(("props", "named"), [
    ({"schedule": "rate(1 days)"}, "'schedule'"),
    ({"schedule": "cron(0 3 * * * *)"}, "'schedule'"),
    ({"parameters": {"Reason": "Vibes"}}, "'parameters['Reason']': invalid value 'Vibes'"),
    ({"parameters": {"TrainingData": "s3://x/"}, "pipeline_parameters": DECLARED}, "'parameters': invalid value "
                                                                                    "'TrainingData'"),
    ({"parameters": {"Bad Name": "x"}}, "'parameters'"),
    ({"parameters": {"Reason": 5}}, "'parameters'"),
    ({"parameters": {"InputData": "x" * 1025}}, "'parameters'"),
    ({"pipeline_parameters": "Reason"}, "'pipeline_parameters'"),
    ({"retry_attempts": -1}, "'retry_attempts'"),
    ({"pipeline_arn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/Fraud-Training"}, "'pipeline_arn'"),
    ({"pipeline_arn": "fraud-training"}, "'pipeline_arn'"),
    ({"alert_topic": "ml-alerts"}, "'alert_topic'"),
])
def test_scheduled_retraining_rejects_bad_props(props, named):
    props = {"pipeline_arn": PIPELINE_ARN, **props}
    with pytest.raises(ValueError, match=r"^ScheduledRetraining " + re.escape(named)):
        ScheduledRetraining(stack(), "X", **props)


@pytest.mark.parametrize(("props", "named"), [
    ({"cooldown_minutes": 0}, "'cooldown_minutes': invalid value 0"),
    ({"cooldown_minutes": -30}, "'cooldown_minutes': invalid value -30"),
    ({"cooldown_minutes": 1.5}, "'cooldown_minutes'"),
    ({"cooldown_minutes": 43201}, "'cooldown_minutes'"),
    ({"default_alarm_reason": "Vibes"}, "'default_alarm_reason': invalid value 'Vibes'; allowed: " +
     " | ".join(REASONS)),
    ({"alarms": {"fraud-drift": "Vibes"}}, "'alarms': invalid value 'Vibes'"),
    ({"alarms": "fraud-drift"}, "'alarms'"),
    ({"alarms": ["arn:aws:cloudwatch:eu-west-1:123:alarm:x"]}, "'alarms'"),
    ({"alarms": ["a", "a"]}, "'alarms'"),
    ({"start_parameters": {"TrainingData": "s3://x/"}}, "'start_parameters': invalid value 'TrainingData'"),
    ({"start_parameters": {"Reason": "Manual"}}, "'start_parameters'"),
    ({"pipeline_parameters": ("InputData",)}, "'pipeline_parameters'"),
    ({"pipeline_parameters": ("Reason", "Reason")}, "'pipeline_parameters'"),
    ({"pipeline_parameters": ()}, "'pipeline_parameters'"),
    ({"pipeline_name": "fraud_training"}, "'pipeline_name'"),
    ({"pipeline_arn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/other"}, "'pipeline_arn'"),
    ({"drift_event_source": "aws.sagemaker"}, "'drift_event_source'"),
    ({"drift_endpoints": "fraud-endpoint"}, "'drift_endpoints'"),
    ({"new_data_bucket": "my-bucket"}, "'new_data_bucket'"),
    ({"new_data_prefix": "/training-data/"}, "'new_data_prefix'"),
    ({"new_data_prefix": "training-*/"}, "'new_data_prefix'"),
    ({"reserved_concurrency": 0}, "'reserved_concurrency'"),
    ({"metric_namespace": "AWS/SageMaker"}, "'metric_namespace'"),
    ({"drift_events": False}, "'alarms'"),  # no trigger left
])
def test_drift_retraining_rejects_bad_props(props, named):
    with pytest.raises(ValueError, match=r"^DriftRetraining " + re.escape(named)):
        DriftRetraining(stack(), "X", **{**GOOD_DRIFT, **props})


def test_validation_happens_before_any_resource_is_created():
    s = stack()
    with pytest.raises(ValueError):
        DriftRetraining(s, "X", **{**GOOD_DRIFT, "cooldown_minutes": 0})
    assert s.node.try_find_child("X") is None


def test_tokens_pass_unvalidated():
    s = stack()
    DriftRetraining(s, "X", pipeline_name=PIPELINE, pipeline_arn=pipeline_arn_of(s, PIPELINE),
                    pipeline_parameters=DECLARED, alarms=[f"arn:{Aws.PARTITION}:cloudwatch:x"])
    ScheduledRetraining(s, "Y", pipeline_arn=f"arn:{Aws.PARTITION}:sagemaker:x:y:pipeline/z")


@pytest.mark.parametrize(("props", "named"), [
    ({"statuses": ["Running"]}, "'statuses': invalid value 'Running'"),
    ({"statuses": []}, "'statuses'"),
    ({"statuses": ["Failed", "Failed"]}, "'statuses'"),
    ({"topic": "arn:aws:sns:eu-west-1:123456789012:alerts"}, "'topic'"),
    ({"failure_details": "yes"}, "'failure_details'"),
])
def test_pipeline_notifications_reject_bad_props(props, named):
    s = stack()
    base = {"pipeline_name": PIPELINE, "pipeline_arn": PIPELINE_ARN, "topic": sns.Topic(s, "T")}
    with pytest.raises(ValueError, match=r"^PipelineNotifications " + re.escape(named)):
        PipelineNotifications(s, "X", **{**base, **props})


def test_pipeline_arn_of_lower_cases_the_name():
    s = Stack(App(), "S", env={"account": ACCOUNT, "region": REGION})
    assert s.resolve(pipeline_arn_of(s, "Fraud-Training")) == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, f":sagemaker:{REGION}:{ACCOUNT}:pipeline/fraud-training"]]}


# ================================================== SageMakerPipelineTarget
@pytest.mark.parametrize(("parameters", "named"), [
    ({"Bad Name": "x"}, "'parameters': invalid value 'Bad Name'"),
    ({"InputData": "x" * 1025}, "'parameters'"),
    ({f"P{i}": "x" for i in range(201)}, "'parameters'"),
])
def test_pipeline_target_validates_parameters_like_sagemaker(parameters, named):
    with pytest.raises(ValueError, match=r"^SageMakerPipelineTarget " + re.escape(named)):
        SageMakerPipelineTarget(PIPELINE_ARN, parameters=parameters)


def test_pipeline_target_exposes_its_role_and_gives_each_target_its_own():
    from aws_cdk import aws_events as events

    s = stack()
    rule = events.Rule(s, "R", schedule=events.Schedule.rate(Duration.days(1)))
    first, second = SageMakerPipelineTarget(PIPELINE_ARN), SageMakerPipelineTarget(PIPELINE_ARN)
    rule.add_target(first)
    rule.add_target(second)
    assert first.bound_role.node.id == "StartPipelineRole"
    assert second.bound_role.node.id == "StartPipelineRoleTarget1"
    queue = sqs.Queue(s, "Q")
    assert SageMakerPipelineTarget(PIPELINE_ARN, dead_letter_queue=queue).bound_role is None  # until bound
