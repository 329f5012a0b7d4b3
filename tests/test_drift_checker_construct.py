"""DriftChecker construct: schedule, function environment, least-privilege IAM, metrics, drift events, BYO, bad input."""

import json
import re
import sys

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs.monitoring.drift_checker import DriftChecker
from mlops_cdk.constructs.serving.model_endpoint import ModelEndpoint
from tests.harness import ACCOUNT, REGION, ROOT, imported_resources, load_handler, logical_ids, synth

FEATURES = ["age", "amount", "merchant_category"]
ENDPOINT = "fraud-endpoint"
BUS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/ml-events"
TEAM_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LAMBDA_DIR = ROOT / "mlops_cdk" / "lambdas" / "drift_checker"


@pytest.fixture(scope="module")
def built():
    objects = {}

    def build(app):
        stack = Stack(app, "Drift")
        key = kms.Key(stack, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
        bucket = s3.Bucket(stack, "Data", encryption_key=key, enforce_ssl=True, server_access_logs_prefix="logs/",
                           block_public_access=s3.BlockPublicAccess.BLOCK_ALL, removal_policy=RemovalPolicy.DESTROY)
        checker = DriftChecker(stack, "Checker", endpoint=ModelEndpoint.from_endpoint_name(stack, "Endpoint", ENDPOINT),
                               model_name="fraud-detection", feature_names=FEATURES, capture_bucket=bucket,
                               window=Duration.hours(6))
        checker.on_drift("OnDrift")
        objects.update(stack=stack, checker=checker, bucket=bucket, key=key)

        imported = Stack(app, "DriftImported")
        team = imported_resources(imported)
        objects["imported"] = DriftChecker(
            imported, "Checker", endpoint=ModelEndpoint.from_endpoint_name(imported, "Endpoint", ENDPOINT),
            model_name="churn", feature_names=["tenure"], capture_bucket=team.data_bucket, capture_prefix="captures/",
            report_prefix="", window=Duration.hours(24), threshold=0.3, warning_threshold=0.15,
            metric_namespace="Team/Drift", event_source="team.drift",
            event_bus=events.EventBus.from_event_bus_arn(imported, "Bus", BUS_ARN))

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def objects(built):
    return built[1]


@pytest.fixture(scope="module")
def template(result):
    return result.template("Drift")


@pytest.fixture(scope="module")
def ref(objects):
    return objects["stack"].resolve


def _statements(template_json):
    (role,) = [k for k, v in template_json["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    return {s.get("Sid", "logs"): s for p in template_json["Resources"].values() if p["Type"] == "AWS::IAM::Policy"
            and p["Properties"]["Roles"] == [{"Ref": role}] for s in p["Properties"]["PolicyDocument"]["Statement"]}


# ----------------------------------------------------------------- function
def test_function_environment_is_what_the_handler_reads(template, objects, ref):
    bucket = objects["bucket"]
    template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": {
        "CAPTURE_BUCKET": ref(bucket.bucket_name),
        "CAPTURE_PREFIX": "data-capture",
        "ENDPOINT_NAME": ENDPOINT,
        "BASELINE_S3_URI": ref(f"s3://{bucket.bucket_name}/baselines/drift/baseline_histogram.json"),
        "FEATURE_NAMES": "age,amount,merchant_category",
        "REPORT_BUCKET": ref(bucket.bucket_name),
        "REPORT_PREFIX": "drift-reports",
        "MODEL_NAME": "fraud-detection",
        "WINDOW_HOURS": "6",
        "THRESHOLD": "0.2",
        "WARNING_THRESHOLD": "0.1",
        "METRIC_NAMESPACE": "MLOps/ModelMonitoring",
        "EVENT_BUS_NAME": "default",
        "EVENT_SOURCE": "mlops-cdk.drift-checker",
    }}})


def test_the_handler_accepts_the_environment(objects):
    sys.path.insert(0, str(LAMBDA_DIR))  # as deployed: the function's folder is the import root
    handler = load_handler(LAMBDA_DIR / "handler.py")
    env = {k: v if isinstance(v, str) else "resolved-at-deploy"
           for k, v in objects["stack"].resolve(objects["checker"].environment).items()}
    env["BASELINE_S3_URI"] = "s3://bucket/baselines/drift/baseline_histogram.json"
    config = handler.load_config(env)
    assert (config.window_hours, config.threshold, config.warning_threshold) == (6, 0.2, 0.1)
    assert config.feature_names == tuple(FEATURES)
    assert config.capture_prefix == "data-capture"


def test_function_sized_per_benchmark_with_its_dead_letter_queue(template):
    template.has_resource_properties("AWS::Lambda::Function", {
        "MemorySize": 1024, "Timeout": 300, "Runtime": Match.string_like_regexp(r"^python3\."),
        "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": [Match.string_like_regexp(
            "^CheckerFunctionDeadLetterQueue"), "Arn"]}},
    })


def test_schedule_rate_is_the_window_with_retries_into_the_dead_letter_queue(template):
    template.has_resource_properties("AWS::Events::Rule", {
        "ScheduleExpression": "rate(6 hours)",
        "Targets": [Match.object_like({
            "Arn": {"Fn::GetAtt": [Match.string_like_regexp("^CheckerFunction"), "Arn"]},
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 6 * 3600},
            "DeadLetterConfig": Match.any_value(),
        })],
    })
    template.has_resource_properties("AWS::Lambda::Permission", {"Principal": "events.amazonaws.com"})


# --------------------------------------------------------------------- IAM
def test_lists_and_reads_only_this_endpoints_capture_and_the_baseline(result, objects, ref):
    statements = _statements(result.json("Drift"))
    bucket = objects["bucket"]
    assert statements["ListCaptureOfThisEndpoint"]["Resource"] == ref(bucket.bucket_arn)
    assert statements["ListCaptureOfThisEndpoint"]["Condition"] == {"StringLike": {"s3:prefix": [
        f"data-capture/{ENDPOINT}/", f"data-capture/{ENDPOINT}/*"]}}
    assert statements["ReadCaptureAndBaseline"]["Action"] == "s3:GetObject"
    assert sorted(map(json.dumps, statements["ReadCaptureAndBaseline"]["Resource"])) == sorted(map(json.dumps, [
        ref(bucket.arn_for_objects(f"data-capture/{ENDPOINT}/*")),
        ref(bucket.arn_for_objects("baselines/drift/baseline_histogram.json"))]))
    assert statements["WriteReports"]["Action"] == "s3:PutObject"
    assert statements["WriteReports"]["Resource"] == ref(bucket.arn_for_objects(f"drift-reports/{ENDPOINT}/*"))


def test_metrics_limited_to_namespace_and_events_to_source(result):
    statements = _statements(result.json("Drift"))
    assert statements["PublishDriftMetrics"]["Resource"] == "*"
    assert statements["PublishDriftMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "MLOps/ModelMonitoring"}}
    put_events = statements["EmitDriftEvents"]
    assert put_events["Resource"]["Fn::Join"][1][-1] == ":event-bus/default"
    assert put_events["Condition"] == {"StringEquals": {"events:source": "mlops-cdk.drift-checker",
                                                        "events:detail-type": "Feature Drift Detected"}}


def test_kms_only_through_s3(result, objects, ref):
    statements = _statements(result.json("Drift"))
    for sid, action in (("DecryptCaptureAndBaseline", "kms:Decrypt"), ("EncryptReports", "kms:GenerateDataKey")):
        assert statements[sid]["Action"] == action
        assert statements[sid]["Resource"] == ref(objects["key"].key_arn)
        assert list(statements[sid]["Condition"]["StringEquals"]) == ["kms:ViaService"]


def test_no_broad_actions(result):
    for statement in _statements(result.json("Drift")).values():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not [a for a in actions if "*" in a], statement
        if statement["Resource"] == "*":
            assert actions == ["cloudwatch:PutMetricData"]


# ------------------------------------------------------------------ events
def test_on_drift_rule_matches_this_checkers_events(template):
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": {
        "source": ["mlops-cdk.drift-checker"], "detail-type": ["Feature Drift Detected"],
        "detail": {"endpoint": [ENDPOINT]}}})


# ----------------------------------------------------------------- metrics
def test_metrics_have_the_window_as_period(objects):
    checker = objects["checker"]
    drift = checker.metric_feature_drift("age")
    assert (drift.namespace, drift.metric_name, drift.statistic) == ("MLOps/ModelMonitoring", "FeatureDrift", "Maximum")
    assert drift.dimensions == {"Endpoint": ENDPOINT, "Feature": "age"}
    assert drift.period.to_hours() == 6
    top = checker.metric_max_feature_drift()
    assert (top.metric_name, top.dimensions, top.period.to_hours()) == ("MaxFeatureDrift", {"Endpoint": ENDPOINT}, 6)
    records = checker.metric_records_analyzed()
    assert (records.metric_name, records.statistic) == ("RecordsAnalyzed", "Sum")
    assert checker.metric_malformed_records().metric_name == "MalformedRecords"
    with pytest.raises(ValueError, match="^DriftChecker 'feature': invalid value 'income'"):
        checker.metric_feature_drift("income")


# ------------------------------------------------------------ bring your own
def test_imported_bucket_key_and_bus(result, objects):
    template = result.template("DriftImported")
    template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "CAPTURE_BUCKET": "team-ml-data", "CAPTURE_PREFIX": "captures", "REPORT_PREFIX": "",
        "WINDOW_HOURS": "24", "THRESHOLD": "0.3", "WARNING_THRESHOLD": "0.15", "METRIC_NAMESPACE": "Team/Drift",
        "EVENT_BUS_NAME": "ml-events", "EVENT_SOURCE": "team.drift"})}})
    statements = _statements(result.json("DriftImported"))
    assert statements["DecryptCaptureAndBaseline"]["Resource"] == TEAM_KEY
    assert statements["EncryptReports"]["Resource"] == TEAM_KEY
    assert statements["EmitDriftEvents"]["Resource"] == BUS_ARN
    assert statements["WriteReports"]["Resource"]["Fn::Join"][1][-1] == f":s3:::team-ml-data/{ENDPOINT}/*"
    assert objects["imported"].drift_event_pattern().source == ["team.drift"]


def test_a_bucket_without_key_decrypts_with_the_given_key():
    stack = Stack(App(), "S")
    key = kms.Key(stack, "K")
    checker = DriftChecker(stack, "C", endpoint=ModelEndpoint.from_endpoint_name(stack, "E", "ep"), model_name="m",
                           feature_names=["a"], capture_bucket=s3.Bucket.from_bucket_name(stack, "Capture", "capture"),
                           capture_prefix="", encryption_key=key)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "ListCaptureOfThisEndpoint",
                           "Condition": {"StringLike": {"s3:prefix": ["ep/", "ep/*"]}}}),
        Match.object_like({"Sid": "DecryptCaptureAndBaseline", "Resource": stack.resolve(key.key_arn)}),
    ])}})
    assert checker.capture_endpoint_prefix == "ep/"


# ------------------------------------------------------------ whole template
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


@pytest.mark.parametrize("stack", ["Drift", "DriftImported"])
def test_cfn_lint_clean(result, stack):
    assert result.lint(stack) == []


def test_logical_ids(result, json_snapshot):
    assert {stack: logical_ids(result.json(stack)) for stack in ("Drift", "DriftImported")} == json_snapshot


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("props, prop", [
    ({"feature_names": []}, "feature_names"),
    ({"feature_names": "age,amount"}, "feature_names"),
    ({"feature_names": ["age", "age"]}, "feature_names"),
    ({"feature_names": ["a,b"]}, "feature_names"),
    ({"window": Duration.hours(25)}, "window"),
    ({"window": Duration.minutes(30)}, "window"),
    ({"window": Duration.minutes(90)}, "window"),
    ({"window": 6}, "window"),
    ({"threshold": 1.5}, "threshold"),  # PSI above 1: no alarm would mean anything
    ({"threshold": 0}, "threshold"),
    ({"threshold": float("nan")}, "threshold"),
    ({"warning_threshold": 0.2}, "warning_threshold"),  # must be below the threshold
    ({"warning_threshold": -0.1}, "warning_threshold"),
    ({"model_name": ""}, "model_name"),
    ({"capture_prefix": "/data-capture/"}, "capture_prefix"),
    ({"baseline_key": ""}, "baseline_key"),
    ({"event_source": "aws.sagemaker"}, "event_source"),
    ({"metric_namespace": "AWS/SageMaker"}, "metric_namespace"),
    ({"timeout": Duration.minutes(16)}, "timeout"),
    ({"memory_size": 64}, "memory_size"),
])
def test_bad_props_name_the_prop(props, prop):
    stack = Stack(App(), "S")
    base = dict(endpoint=ModelEndpoint.from_endpoint_name(stack, "E", "ep"), model_name="m", feature_names=["age"],
                capture_bucket=s3.Bucket(stack, "B", encryption=s3.BucketEncryption.KMS))
    base.update(props)
    with pytest.raises(ValueError, match=rf"^DriftChecker '{re.escape(prop)}': invalid value"):
        DriftChecker(stack, "C", **base)
