"""ScheduledRetraining, RetrainingGate and PipelineNotifications built from plain and imported aws-cdk-lib resources.

One app, synthesized once: stack ``Own`` builds every construct from
``own_resources`` (plain aws-cdk-lib constructs, a plain and an imported alarm,
pipelines and an endpoint imported by name), stack ``Imported`` from
``imported_resources``, a pipeline imported by ARN and an imported queue; no
FoundationStack. Event patterns are also checked by matching realistic events
(the drift checker's, CloudWatch alarm, S3 and SageMaker status changes) with
moto's EventBridge matcher, and input-transformer templates are rendered the way
EventBridge substitutes ``<placeholders>`` (raw, unescaped).
"""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import App, Duration, Environment, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Capture, Match, Template
from moto.events.models import EventPattern

from mlops_cdk.constructs.build.sagemaker_pipeline import SageMakerPipeline
from mlops_cdk.constructs.foundation.alert_topic import AlertTopic
from mlops_cdk.constructs.retraining.pipeline_notifications import PipelineNotifications
from mlops_cdk.constructs.retraining.retraining_gate import RetrainingGate
from mlops_cdk.constructs.retraining.scheduled_retraining import ScheduledRetraining
from mlops_cdk.constructs.serving.model_endpoint import ModelEndpoint
from tests.harness import ACCOUNT, REGION, imported_resources, logical_id, logical_ids, own_resources, synth

ENV = Environment(account=ACCOUNT, region=REGION)
DECLARED = ("ProcessingInstanceType", "TrainingInstanceType", "InputData", "TrainingRounds", "LearningRate",
            "AccuracyThreshold", "ModelApprovalStatus", "Reason")
# SageMaker lower-cases pipeline names in ARNs (and so in its events and in IAM): `aws sagemaker list-pipelines`
# shows PipelineName AbalonePipeline with PipelineArn .../pipeline/abalonepipeline (public CLI transcript,
# alfredcs/SM_Pipeline_Demo README). The own stack imports "Fraud-Training": its rules must match this ARN.
PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/fraud-training"
OTHER_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/churn-training"
QUALITY_ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:fraud-accuracy-drop"
IMPORTED_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:team-dead-letters"


# ------------------------------------------------------------ the app
BUILT: dict[str, object] = {}


def build(app: App) -> None:
    own = Stack(app, "Own", env=ENV)
    res = own_resources(own)
    pipeline = SageMakerPipeline.from_pipeline_name(own, "Pipeline", "Fraud-Training")
    drift_alarm = cloudwatch.Alarm(own, "DriftAlarm", threshold=0.2, evaluation_periods=1,
                                   metric=cloudwatch.Metric(namespace="MLOps/ModelMonitoring",
                                                            metric_name="MaxFeatureDrift"))
    BUILT.update(own=own, res=res, drift_alarm=drift_alarm)
    BUILT["weekly"] = ScheduledRetraining(
        own, "Weekly", pipeline=pipeline,
        schedule=scheduler.ScheduleExpression.cron(minute="0", hour="3", week_day="MON"),
        parameters={"Reason": "Scheduled", "InputData": "s3://bucket/training-data/"},
        pipeline_parameters=DECLARED, alert_topic=res.alert_topic)
    BUILT["gate"] = RetrainingGate(
        own, "Gate", pipeline=pipeline, pipeline_parameters=DECLARED, drift_alarms=[drift_alarm],
        quality_alarms=[cloudwatch.Alarm.from_alarm_arn(own, "QualityAlarm", QUALITY_ALARM_ARN)],
        drift_endpoints=[ModelEndpoint.from_endpoint_name(own, "Endpoint", "fraud-endpoint")],
        new_data_bucket=res.data_bucket, new_data_suffix="_SUCCESS", cooldown=Duration.minutes(90),
        start_parameters={"TrainingRounds": "50"}, alert_topic=res.alert_topic)
    PipelineNotifications(own, "Notify", pipeline=pipeline, topic=res.alert_topic)
    BUILT["alerts"] = alerts = AlertTopic(own, "Alerts")
    PipelineNotifications(own, "NotifyOther", pipeline=SageMakerPipeline.from_pipeline_arn(own, "Other", OTHER_ARN),
                          topic=alerts, failure_details=False, statuses=["Failed", "Succeeded"])

    # Resources imported by ARN name an account and region: so does a stack using them (or CDK cannot tell
    # whether a rule and its target share an environment).
    imported = Stack(app, "Imported", env=ENV)
    res = imported_resources(imported)
    pipeline = SageMakerPipeline.from_pipeline_arn(imported, "Pipeline", PIPELINE_ARN)
    ScheduledRetraining(imported, "Weekly", pipeline=pipeline,
                        dead_letter_queue=sqs.Queue.from_queue_arn(imported, "Queue", IMPORTED_QUEUE_ARN))
    RetrainingGate(imported, "Gate", pipeline=pipeline, pipeline_parameters=["Reason"], drift_events=False,
                   quality_alarms=[cloudwatch.Alarm.from_alarm_arn(imported, "QualityAlarm", QUALITY_ALARM_ARN)],
                   new_data_bucket=res.data_bucket)
    PipelineNotifications(imported, "Notify", pipeline=pipeline, topic=res.alert_topic)


@pytest.fixture(scope="module")
def result():
    return synth(build)


@pytest.fixture(scope="module")
def own(result):
    return result.template("Own")


@pytest.fixture(scope="module")
def imported(result):
    return result.template("Imported")


def resolve(node):
    """Intrinsics as EventBridge would see them: pseudo parameters, joins, and stable stand-ins for references."""
    if isinstance(node, dict):
        if "Ref" in node:
            return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}.get(
                node["Ref"], f"ref:{node['Ref']}")
        if "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return separator.join(str(resolve(part)) for part in parts)
        if "Fn::GetAtt" in node:
            return "getatt:{}.{}".format(*node["Fn::GetAtt"])
        return {key: resolve(value) for key, value in node.items()}
    return [resolve(value) for value in node] if isinstance(node, list) else node


def rule_pattern(template, description_regexp: str) -> dict:
    (rule,) = template.find_resources("AWS::Events::Rule", {"Properties": {
        "Description": Match.string_like_regexp(description_regexp)}}).values()
    return resolve(rule["Properties"]["EventPattern"])


def matches(pattern: dict, event: dict) -> bool:
    return EventPattern(None, pattern).matches_event(event)


def policy_statements(template, role_logical_id: str) -> list[dict]:
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_logical_id}]}})
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


# ====================================================== ScheduledRetraining
def test_schedule_starts_the_pipeline_with_its_parameters_and_keeps_failed_starts(own):
    role, queue = Capture(), Capture()
    own.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 3 ? * MON *)",
        "State": "ENABLED",
        "Target": {
            "Arn": PIPELINE_ARN,
            "RoleArn": {"Fn::GetAtt": [role, "Arn"]},
            "SageMakerPipelineParameters": {"PipelineParameterList": [
                {"Name": "Reason", "Value": "Scheduled"}, {"Name": "InputData", "Value": "s3://bucket/training-data/"}]},
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200},
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue, "Arn"]}},
        },
    })
    assert queue.as_string() == logical_id(BUILT["weekly"].dead_letter_queue)
    dead_letters = own.to_json()["Resources"][queue.as_string()]
    assert dead_letters["Properties"]["SqsManagedSseEnabled"] is True
    assert (dead_letters["DeletionPolicy"], dead_letters["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_schedule_role_may_only_start_that_pipeline_and_write_its_queue(own):
    role = logical_id(BUILT["weekly"].role)
    own.has_resource_properties("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
        "Condition": {"StringEquals": {
            "aws:SourceAccount": ACCOUNT,
            "aws:SourceArn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/default"}}}]}})
    assert policy_statements(own, role) == [
        {"Action": "sagemaker:StartPipelineExecution", "Effect": "Allow", "Resource": PIPELINE_ARN},
        {"Action": "sqs:SendMessage", "Effect": "Allow",
         "Resource": {"Fn::GetAtt": [logical_id(BUILT["weekly"].dead_letter_queue), "Arn"]}},
    ]
    assert "ManagedPolicyArns" not in own.to_json()["Resources"][role]["Properties"]


def test_a_given_queue_is_used_as_is_and_the_default_schedule_is_weekly(imported):
    imported.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "rate(7 days)",
        "Target": {"DeadLetterConfig": {"Arn": IMPORTED_QUEUE_ARN},
                   "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "Reason",
                                                                              "Value": "Scheduled"}]}},
    })
    imported.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": [
        {"Action": "sagemaker:StartPipelineExecution", "Effect": "Allow", "Resource": PIPELINE_ARN},
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": IMPORTED_QUEUE_ARN}]}})
    # only the gate's, the notifier's and the notifications' own queues: none for the schedule
    imported.resource_count_is("AWS::SQS::Queue", 3)


def test_every_dead_letter_queue_has_an_alarm(own, imported):
    for template in (own, imported):
        queues = set(template.find_resources("AWS::SQS::Queue"))
        alarms = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {
            "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 1, "TreatMissingData": "notBreaching"}})
        watched = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in alarms.values()}
        assert len(queues) >= 3 and watched == queues


# ======================================================== RetrainingGate
def test_gate_may_only_list_and_start_that_pipeline(own):
    role = Capture()
    own.has_resource_properties("AWS::Lambda::Function", {
        "Role": {"Fn::GetAtt": [role, "Arn"]}, "ReservedConcurrentExecutions": 1,
        "Environment": {"Variables": Match.object_like({"PIPELINE_NAME": "Fraud-Training"})}})
    statements = policy_statements(own, role.as_string())
    sagemaker_statements = [s for s in statements if str(s["Action"]).startswith("sagemaker:")]
    assert sorted((s["Action"], s["Resource"]) for s in sagemaker_statements) == [
        ("sagemaker:ListPipelineExecutions", PIPELINE_ARN),
        ("sagemaker:StartPipelineExecution", PIPELINE_ARN)]
    assert "*" not in json.dumps(statements)


def test_gate_environment_is_what_the_gate_lambda_reads(own):
    variables = Capture()
    own.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": variables}})
    env = resolve(variables.as_object())
    assert {k: env[k] for k in ("PIPELINE_NAME", "PIPELINE_PARAMETERS", "COOLDOWN_MINUTES", "DEFAULT_ALARM_REASON",
                                "DRIFT_EVENT_SOURCE", "METRIC_NAMESPACE", "NEW_DATA_PREFIX", "NEW_DATA_SUFFIX")} == {
        "PIPELINE_NAME": "Fraud-Training", "PIPELINE_PARAMETERS": ",".join(DECLARED), "COOLDOWN_MINUTES": "90",
        "DEFAULT_ALARM_REASON": "DataDrift", "DRIFT_EVENT_SOURCE": "mlops-cdk.drift-checker",
        "METRIC_NAMESPACE": "MLOps/Retraining", "NEW_DATA_PREFIX": "training-data/", "NEW_DATA_SUFFIX": "_SUCCESS"}
    assert env["NEW_DATA_BUCKET"] == f"ref:{logical_id(BUILT['res'].data_bucket)}"
    assert json.loads(env["START_PARAMETERS"]) == {"TrainingRounds": "50"}
    assert json.loads(env["ALARM_REASONS"]) == [
        [f"getatt:{logical_id(BUILT['drift_alarm'])}.Arn", "DataDrift"], [QUALITY_ALARM_ARN, "ModelQualityDrop"]]


def test_gate_rules_retry_into_the_gates_dead_letter_queue(own):
    queue = logical_id(BUILT["gate"].dead_letter_queue)
    rules = own.find_resources("AWS::Events::Rule", {"Properties": {"Targets": [{
        "Arn": {"Fn::GetAtt": [logical_id(BUILT["gate"].function.function), "Arn"]},
        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue, "Arn"]}},
        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 21600}}]}})
    assert len(rules) == 3 == len(BUILT["gate"].rules)


def alarm_event(arn, state="ALARM"):
    return {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change", "resources": [arn],
            "detail": {"alarmName": arn.rsplit(":", 1)[1], "state": {"value": state}}}


def test_alarm_trigger_matches_those_alarms_entering_alarm(own):
    pattern = rule_pattern(own, "^Drift and quality alarms")
    drift_arn = f"getatt:{logical_id(BUILT['drift_alarm'])}.Arn"
    assert matches(pattern, alarm_event(QUALITY_ALARM_ARN))
    assert matches(pattern, alarm_event(drift_arn))
    assert not matches(pattern, alarm_event(QUALITY_ALARM_ARN, state="OK"))
    assert not matches(pattern, alarm_event(f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cpu"))


def drift_event(endpoint="fraud-endpoint", **overrides):
    detail = {"endpoint": endpoint, "model": "fraud-detection", "status": "drift",
              "drifted_features": [{"feature": "age", "psi": 0.3}], "max_psi": 0.3, "threshold": 0.2}
    return {"source": "mlops-cdk.drift-checker", "detail-type": "Feature Drift Detected", "resources": [],
            "detail": {**detail, **overrides}}


def test_drift_trigger_matches_the_drift_checkers_events_for_its_endpoints(own):
    pattern = rule_pattern(own, "^Feature drift detected")
    assert matches(pattern, drift_event())
    assert not matches(pattern, drift_event(endpoint="other-endpoint"))
    assert not matches(pattern, drift_event(status="warning"))
    assert not matches(pattern, {**drift_event(), "source": "someone.else"})


def s3_event(bucket, key):
    return {"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": bucket}, "object": {"key": key}}}


def test_new_data_trigger_matches_objects_under_the_prefix_of_that_bucket(own, imported):
    bucket = f"ref:{logical_id(BUILT['res'].data_bucket)}"
    pattern = rule_pattern(own, "^New training data")
    assert matches(pattern, s3_event(bucket, "training-data/2026/part-0.csv"))
    assert not matches(pattern, s3_event(bucket, "models/model.tar.gz"))
    assert not matches(pattern, s3_event("other-bucket", "training-data/x.csv"))
    assert matches(rule_pattern(imported, "^New training data"), s3_event("team-ml-data", "training-data/x.csv"))


@pytest.mark.parametrize(("description", "count"), [("^Drift and quality", 1), ("^New training", 1),
                                                  ("^Feature drift", 0)])
def test_only_the_triggers_asked_for_exist(imported, description, count):
    imported.resource_properties_count_is("AWS::Events::Rule", {"Description": Match.string_like_regexp(
        description)}, count)


def test_decision_metric_uses_the_names_the_gate_publishes():
    from mlops_cdk.lambdas._shared import contract

    metric = BUILT["gate"].metric_decisions("skipped")
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        "MLOps/Retraining", contract.METRIC_RETRAINING_DECISIONS, "Sum")
    assert metric.dimensions == {"Pipeline": "Fraud-Training", "Decision": "skipped"}
    with pytest.raises(ValueError, match=r"^RetrainingGate 'decision': invalid value 'maybe'"):
        BUILT["gate"].metric_decisions("maybe")


# ================================================== PipelineNotifications
def status_event(arn, status):
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


def notification_rules(template, arn) -> dict[str, dict]:
    """Status -> rule properties of the notifications of pipeline ``arn``."""
    rules = template.find_resources("AWS::Events::Rule", {"Properties": {"EventPattern": {"detail": {
        "pipelineArn": [arn]}}}})
    return {r["Properties"]["EventPattern"]["detail"]["currentPipelineExecutionStatus"][0]: r["Properties"]
            for r in rules.values()}


def test_each_status_of_the_pipeline_has_a_rule_matching_only_it(own):
    rules = notification_rules(own, PIPELINE_ARN)
    # CompletedWithFailures: the sixth PipelineExecutionStatus (botocore), notified by default like Failed.
    assert set(rules) == {"Executing", "Succeeded", "Failed", "Stopped", "CompletedWithFailures"}
    for status, rule in rules.items():
        assert matches(resolve(rule["EventPattern"]), status_event(PIPELINE_ARN, status))
        assert not matches(resolve(rule["EventPattern"]), status_event(OTHER_ARN, status))


@pytest.mark.parametrize(("status", "headline", "extra"), [
    ("Executing", "execution STARTED", "Started: 2026-11-26T10:00:01Z"),
    ("Succeeded", "execution SUCCEEDED", "ended: 2026-11-26T11:00:00Z"),
    ("Stopped", "execution STOPPED", "ended: 2026-11-26T11:00:00Z"),
])
def test_status_messages_are_readable_text_without_a_lambda(own, status, headline, extra):
    (target,) = notification_rules(own, PIPELINE_ARN)[status]["Targets"]
    assert target["Arn"] == {"Ref": logical_id(BUILT["res"].alert_topic)}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400}
    lines = render(target["InputTransformer"], status_event(PIPELINE_ARN, status))
    assert lines[0] == f"Retraining pipeline Fraud-Training: {headline}"
    assert f"ARN: {PIPELINE_ARN}/execution/p4jn9xou8a8s" in lines
    assert "Execution: DataDrift-20261126-100000" in lines
    assert any(extra in line for line in lines)


def test_templates_only_use_fields_that_cannot_break_the_quoting(own):
    safe = {"$.detail.pipelineExecutionDisplayName", "$.detail.pipelineExecutionArn", "$.time",
            "$.detail.previousPipelineExecutionStatus", "$.detail.executionStartTime", "$.detail.executionEndTime"}
    transformers = [t["InputTransformer"] for r in own.find_resources("AWS::Events::Rule").values()
                    for t in r["Properties"]["Targets"] if "InputTransformer" in t]
    assert len(transformers) == 5  # three of Notify, two of NotifyOther
    for transformer in transformers:
        assert set(transformer["InputPathsMap"].values()) <= safe


@pytest.mark.parametrize("which", ["own", "imported"])
def test_failures_go_to_the_notifier_which_may_only_read_runs_and_publish(request, which):
    template = request.getfixturevalue(which)
    rules = notification_rules(template, PIPELINE_ARN)
    (failed,) = rules["Failed"]["Targets"]
    (completed_with_failures,) = rules["CompletedWithFailures"]["Targets"]
    function = failed["Arn"]["Fn::GetAtt"][0]
    assert completed_with_failures["Arn"] == failed["Arn"]  # one notifier for both
    assert len(template.find_resources("AWS::Lambda::Function", {"Properties": {
        "Description": Match.string_like_regexp("^Publishes why a run")}})) == 1
    role = template.to_json()["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = policy_statements(template, role)
    read = {"Sid": "ReadThisPipelinesExecutions", "Effect": "Allow", "Resource": f"{PIPELINE_ARN}/execution/*",
            "Action": ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps",
                       "sagemaker:ListPipelineParametersForExecution"]}
    if which == "own":
        publish = [{"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": logical_id(BUILT["res"].alert_topic)}},
                   {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow",
                    "Resource": {"Fn::GetAtt": [logical_id(BUILT["res"].data_key), "Arn"]}}]
    else:  # an imported topic has no key to encrypt with
        publish = [{"Action": "sns:Publish", "Effect": "Allow", "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts"}]
    # after the function's own log and dead-letter statements
    assert statements[2:] == [read, *publish]


def test_an_alert_topic_is_left_as_it_was_and_a_plain_topic_admits_eventbridge(own):
    own.has_resource_properties("AWS::SNS::TopicPolicy", {
        "Topics": [{"Ref": logical_id(BUILT["alerts"])}],
        "PolicyDocument": {"Statement": [Match.object_like({"Sid": "AllowPublishThroughSSLOnly"}),
                                         Match.object_like({"Sid": "AllowAlarmsAndRulesToPublish"})]}})
    own.has_resource_properties("AWS::SNS::TopicPolicy", {
        "Topics": [{"Ref": logical_id(BUILT["res"].alert_topic)}],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": "sns:Publish", "Principal": {"Service": "events.amazonaws.com"}})])}})


def test_text_failures_for_the_other_pipeline(own):
    rules = notification_rules(own, OTHER_ARN)
    assert set(rules) == {"Failed", "Succeeded"}
    (target,) = rules["Failed"]["Targets"]
    lines = render(target["InputTransformer"], status_event(OTHER_ARN, "Failed"))
    assert lines[0] == "Retraining pipeline churn-training: execution FAILED"  # the name in the ARN
    assert lines[-1] == f"Why: aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {OTHER_ARN}" \
                        "/execution/p4jn9xou8a8s"


def test_text_completed_with_failures_says_why(own):
    stack = Stack(App(), "S")
    pipeline = SageMakerPipeline.from_pipeline_name(stack, "P", "fraud-training")
    PipelineNotifications(stack, "N", pipeline=pipeline, topic=sns.Topic(stack, "T"), failure_details=False,
                          statuses=["CompletedWithFailures"])
    template = Template.from_stack(stack)
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["detail"]["currentPipelineExecutionStatus"] == ["CompletedWithFailures"]
    template.resource_count_is("AWS::Lambda::Function", 0)
    (target,) = rule["Properties"]["Targets"]
    lines = render(target["InputTransformer"], status_event("arn:aws:sagemaker:r:1:pipeline/fraud-training",
                                                            "CompletedWithFailures"))
    assert lines[0] == "Retraining pipeline fraud-training: execution COMPLETED WITH FAILURES"
    assert lines[-1].startswith("Why: aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn ")


# ============================================================== compliance
def test_cdk_nag_and_cfn_lint_are_clean(result):
    assert result.nag_findings == []
    assert result.lint("Own") == []
    assert result.lint("Imported") == []


@pytest.mark.parametrize("stack", ["Own", "Imported"])
def test_logical_ids(result, stack, json_snapshot):
    assert logical_ids(result.json(stack)) == json_snapshot


# ============================================================== bad input
def fresh():
    stack = Stack(App(), "S")
    return stack, SageMakerPipeline.from_pipeline_name(stack, "P", "fraud-training")


@pytest.mark.parametrize(("props", "named"), [
    ({"pipeline": PIPELINE_ARN}, "'pipeline'"),
    ({"schedule": "rate(7 days)"}, "'schedule': invalid value 'rate(7 days)'"),
    ({"parameters": {"Reason": "Vibes"}}, "'parameters['Reason']': invalid value 'Vibes'"),
    ({"parameters": {"TrainingData": "s3://x/"}, "pipeline_parameters": DECLARED},
     "'parameters': invalid value 'TrainingData'"),
    ({"parameters": {"Bad Name": "x"}}, "'parameters'"),
    ({"parameters": {"Reason": 5}}, "'parameters'"),
    ({"parameters": {"InputData": "x" * 1025}}, "'parameters'"),
    ({"parameters": ["Reason"]}, "'parameters'"),
    ({"pipeline_parameters": "Reason"}, "'pipeline_parameters'"),
    ({"pipeline_parameters": ("InputData",)}, "'pipeline_parameters': invalid value ['InputData']"),
    ({"retry_attempts": -1}, "'retry_attempts'"),
    ({"retry_attempts": 186}, "'retry_attempts'"),
    ({"max_event_age": Duration.seconds(30)}, "'max_event_age'"),
    ({"max_event_age": Duration.days(2)}, "'max_event_age'"),
    ({"enabled": "yes"}, "'enabled'"),
])
def test_scheduled_retraining_rejects_bad_props(props, named):
    stack, pipeline = fresh()
    with pytest.raises(ValueError, match=r"^ScheduledRetraining " + re.escape(named)):
        ScheduledRetraining(stack, "X", **{"pipeline": pipeline, **props})
    assert stack.node.try_find_child("X") is None


@pytest.mark.parametrize(("props", "named"), [
    ({"pipeline": "fraud-training"}, "'pipeline'"),
    ({"pipeline_parameters": ("InputData",)}, "'pipeline_parameters'"),
    ({"pipeline_parameters": ("Reason", "Reason")}, "'pipeline_parameters'"),
    ({"pipeline_parameters": ()}, "'pipeline_parameters'"),
    ({"pipeline_parameters": ("Reason", "Bad Name")}, "'pipeline_parameters'"),
    ({"drift_alarms": QUALITY_ALARM_ARN}, "'drift_alarms'"),
    ({"drift_alarms": [QUALITY_ALARM_ARN]}, "'drift_alarms': invalid value 'arn:"),
    ({"quality_alarms": ["fraud-accuracy"]}, "'quality_alarms'"),
    ({"drift_events": "yes"}, "'drift_events'"),
    ({"drift_events": False}, "'drift_events'"),  # no trigger left
    ({"drift_event_source": "aws.sagemaker"}, "'drift_event_source'"),
    ({"drift_endpoints": ["fraud-endpoint"]}, "'drift_endpoints': invalid value 'fraud-endpoint'"),
    ({"new_data_bucket": "my-bucket"}, "'new_data_bucket'"),
    ({"new_data_prefix": "/training-data/"}, "'new_data_prefix'"),
    ({"new_data_prefix": "training-*/"}, "'new_data_prefix'"),
    ({"new_data_suffix": ""}, "'new_data_suffix'"),
    ({"new_data_suffix": "*.csv"}, "'new_data_suffix'"),
    ({"cooldown": 360}, "'cooldown'"),
    ({"cooldown": Duration.seconds(30)}, "'cooldown'"),
    ({"cooldown": Duration.seconds(90)}, "'cooldown': invalid value '1 minute 30 seconds'; allowed: whole minutes"),
    ({"cooldown": Duration.days(31)}, "'cooldown'"),
    ({"start_parameters": {"TrainingData": "s3://x/"}}, "'start_parameters': invalid value 'TrainingData'"),
    ({"start_parameters": {"Reason": "Manual"}}, "'start_parameters'"),
    ({"metric_namespace": "AWS/SageMaker"}, "'metric_namespace'"),
    ({"reserved_concurrency": 0}, "'reserved_concurrency'"),
    ({"event_retry_attempts": 186}, "'event_retry_attempts'"),
    ({"max_event_age": Duration.hours(25)}, "'max_event_age'"),
])
def test_retraining_gate_rejects_bad_props(props, named):
    stack, pipeline = fresh()
    with pytest.raises(ValueError, match=r"^RetrainingGate " + re.escape(named)):
        RetrainingGate(stack, "X", **{"pipeline": pipeline, "pipeline_parameters": DECLARED, **props})
    assert stack.node.try_find_child("X") is None


def test_an_alarm_is_either_a_drift_or_a_quality_alarm():
    stack, pipeline = fresh()
    alarm = cloudwatch.Alarm.from_alarm_arn(stack, "A", QUALITY_ALARM_ARN)
    with pytest.raises(ValueError, match=r"^RetrainingGate 'quality_alarms'"):
        RetrainingGate(stack, "X", pipeline=pipeline, pipeline_parameters=DECLARED, drift_alarms=[alarm],
                       quality_alarms=[alarm])


@pytest.mark.parametrize(("props", "named"), [
    ({"pipeline": PIPELINE_ARN}, "'pipeline'"),
    ({"topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"}, "'topic'"),
    ({"statuses": ["Running"]}, "'statuses': invalid value 'Running'"),
    ({"statuses": []}, "'statuses'"),
    ({"statuses": "Failed"}, "'statuses'"),
    ({"statuses": ["Failed", "Failed"]}, "'statuses'"),
    ({"failure_details": "yes"}, "'failure_details'"),
    ({"retry_attempts": -1}, "'retry_attempts'"),
    ({"max_event_age": Duration.seconds(59)}, "'max_event_age'"),
])
def test_pipeline_notifications_reject_bad_props(props, named):
    stack, pipeline = fresh()
    topic = AlertTopic(stack, "T")
    with pytest.raises(ValueError, match=r"^PipelineNotifications " + re.escape(named)):
        PipelineNotifications(stack, "X", **{"pipeline": pipeline, "topic": topic, **props})
    assert stack.node.try_find_child("X") is None


def test_tokens_pass_unvalidated():
    stack, pipeline = fresh()
    token = Token.as_string({"Ref": "SomeParameter"})
    ScheduledRetraining(stack, "S", pipeline=pipeline, parameters={"Reason": token, "InputData": token})
    RetrainingGate(stack, "G", pipeline=pipeline, pipeline_parameters=DECLARED, drift_event_source=token,
                   new_data_bucket=s3.Bucket.from_bucket_name(stack, "B", "some-bucket"), new_data_prefix=token,
                   new_data_suffix=token, start_parameters={"InputData": token})
