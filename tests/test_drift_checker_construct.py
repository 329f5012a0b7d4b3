"""DriftChecker construct: schedule, function environment, least-privilege IAM, metrics, drift events, bad input."""

import re

import pytest
from aws_cdk import App, Aws, Duration, Stack
from aws_cdk import aws_s3 as s3

from mlops_cdk import SecureBucket
from mlops_cdk import monitoring_metrics as mm
from mlops_cdk.constructs.drift_checker import DriftChecker
from mlops_cdk.constructs.pipeline_target import SageMakerPipelineTarget
from mlops_cdk.lambdas.drift_checker.handler import Config
from tests.harness import normalized, only_resource, resources_of_type, synth

FEATURES = ["age", "amount", "merchant_category"]
ENDPOINT = "fraud-endpoint"


@pytest.fixture(scope="module")
def built():
    objects = {}

    def build(app):
        stack = Stack(app, "Drift")
        bucket = SecureBucket(stack, "Data")
        checker = DriftChecker(stack, "Checker", endpoint_name=ENDPOINT, model_name="fraud-detection",
                               feature_names=FEATURES, capture_bucket=bucket, window_hours=6)
        pipeline = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:pipeline/retrain"
        objects["on_drift"] = checker.on_drift(
            "RetrainOnDrift", target=SageMakerPipelineTarget(pipeline, parameters={"Reason": "DataDrift"}))
        objects["checker"], objects["bucket"] = checker, bucket

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def checker(built):
    return built[1]["checker"]


@pytest.fixture(scope="module")
def raw(result):
    return result.json("Drift")


def _function(raw):
    return only_resource(raw, "AWS::Lambda::Function")["Properties"]


def _statements(raw):
    role = {"Ref": _function(raw)["Role"]["Fn::GetAtt"][0]}
    (policy,) = [p for p in resources_of_type(raw, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [role]]
    return {s.get("Sid", "logs" if "logs:PutLogEvents" in str(s["Action"]) else s["Action"]): s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def _bucket(raw):
    (name,) = [k for k, v in resources_of_type(raw, "AWS::S3::Bucket").items() if "LoggingConfiguration" in v["Properties"]]
    return name


def _key(raw):
    (key,) = resources_of_type(raw, "AWS::KMS::Key")
    return key


# ----------------------------------------------------------------- function
def test_function_environment_is_what_the_handler_reads(raw):
    env = _function(raw)["Environment"]["Variables"]
    bucket = {"Ref": _bucket(raw)}
    assert env == {
        "CAPTURE_BUCKET": bucket,
        "CAPTURE_PREFIX": "data-capture",
        "ENDPOINT_NAME": ENDPOINT,
        "BASELINE_S3_URI": {"Fn::Join": ["", ["s3://", bucket, "/baselines/drift/baseline_histogram.json"]]},
        "FEATURE_NAMES": "age,amount,merchant_category",
        "REPORT_BUCKET": bucket,
        "REPORT_PREFIX": "drift-reports",
        "MODEL_NAME": "fraud-detection",
        "WINDOW_HOURS": "6",
        "THRESHOLD": "0.2",
        "WARNING_THRESHOLD": "0.1",
        "METRIC_NAMESPACE": mm.NAMESPACE,
        "EVENT_BUS_NAME": "default",
        "EVENT_SOURCE": mm.DRIFT_EVENT_SOURCE,
    }


def test_handler_accepts_the_environment(raw):
    env = {k: v if isinstance(v, str) else "resolved-at-deploy" for k, v in
           _function(raw)["Environment"]["Variables"].items()}
    env["BASELINE_S3_URI"] = "s3://bucket/baselines/drift/baseline_histogram.json"
    config = Config.from_env(env)
    assert (config.window_hours, config.threshold, config.warning_threshold) == (6, 0.2, 0.1)
    assert config.feature_names == tuple(FEATURES)
    assert config.capture_prefix == "data-capture"


def test_function_sized_per_benchmark(raw):
    function = _function(raw)
    assert function["MemorySize"] == 1024
    assert function["Timeout"] == 300
    assert function["Runtime"].startswith("python3.")
    assert function["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0].startswith("CheckerFunctionDeadLetterQueue")


def test_schedule_rate_matches_window_and_targets_function_with_dlq(raw):
    (rule,) = [r["Properties"] for r in resources_of_type(raw, "AWS::Events::Rule").values()
               if "ScheduleExpression" in r["Properties"]]
    assert rule["ScheduleExpression"] == "rate(6 hours)"
    (target,) = rule["Targets"]
    function_id = [k for k in resources_of_type(raw, "AWS::Lambda::Function")][0]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 6 * 3600}
    assert "DeadLetterConfig" in target
    permission = only_resource(raw, "AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"


# --------------------------------------------------------------------- IAM
def test_list_bucket_limited_to_this_endpoints_capture_prefix(raw):
    statement = _statements(raw)["ListCaptureOfThisEndpoint"]
    assert statement["Action"] == "s3:ListBucket"
    assert statement["Resource"] == {"Fn::GetAtt": [_bucket(raw), "Arn"]}
    assert statement["Condition"] == {"StringLike": {"s3:prefix": [f"data-capture/{ENDPOINT}/",
                                                                   f"data-capture/{ENDPOINT}/*"]}}


def test_reads_capture_prefix_and_baseline_object_only(raw):
    statement = _statements(raw)["ReadCaptureAndBaseline"]
    assert statement["Action"] == "s3:GetObject"
    arn = {"Fn::GetAtt": [_bucket(raw), "Arn"]}
    assert sorted(map(str, statement["Resource"])) == sorted(map(str, [
        {"Fn::Join": ["", [arn, f"/data-capture/{ENDPOINT}/*"]]},
        {"Fn::Join": ["", [arn, "/baselines/drift/baseline_histogram.json"]]},
    ]))


def test_writes_reports_of_this_endpoint_only(raw):
    statement = _statements(raw)["WriteReports"]
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [_bucket(raw), "Arn"]},
                                                       f"/drift-reports/{ENDPOINT}/*"]]}


def test_metrics_limited_to_namespace_and_events_to_source(raw):
    statements = _statements(raw)
    metrics = statements["PublishDriftMetrics"]
    assert metrics["Resource"] == "*"
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": mm.NAMESPACE}}
    put_events = statements["EmitDriftEvents"]
    assert put_events["Action"] == "events:PutEvents"
    assert put_events["Resource"]["Fn::Join"][1][-1] == ":event-bus/default"
    assert put_events["Condition"] == {"StringEquals": {"events:source": mm.DRIFT_EVENT_SOURCE,
                                                        "events:detail-type": mm.DRIFT_EVENT_DETAIL_TYPE}}


def test_kms_only_through_s3(raw):
    statements = _statements(raw)
    key = {"Fn::GetAtt": [_key(raw), "Arn"]}
    for sid, action in (("DecryptCaptureAndBaseline", "kms:Decrypt"), ("EncryptReports", "kms:GenerateDataKey")):
        assert statements[sid]["Action"] == action
        assert statements[sid]["Resource"] == key
        assert list(statements[sid]["Condition"]["StringEquals"]) == ["kms:ViaService"]


def test_no_broad_actions(raw):
    for statement in _statements(raw).values():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(a.endswith("*") for a in actions), statement
        if statement["Resource"] == "*":
            assert actions == ["cloudwatch:PutMetricData"]


# ------------------------------------------------------------------ events
def test_on_drift_rule_matches_this_checkers_events(raw):
    (rule,) = [r["Properties"] for r in resources_of_type(raw, "AWS::Events::Rule").values()
               if "EventPattern" in r["Properties"]]
    assert rule["EventPattern"] == {"source": [mm.DRIFT_EVENT_SOURCE], "detail-type": [mm.DRIFT_EVENT_DETAIL_TYPE],
                                    "detail": {"endpoint": [ENDPOINT]}}
    (target,) = rule["Targets"]
    assert target["SageMakerPipelineParameters"] == {"PipelineParameterList": [{"Name": "Reason", "Value": "DataDrift"}]}


# ----------------------------------------------------------------- metrics
def test_metric_helpers(checker):
    drift = checker.metric_feature_drift("age")
    assert (drift.namespace, drift.metric_name, drift.statistic) == (mm.NAMESPACE, "FeatureDrift", "Maximum")
    assert drift.dimensions == {"Endpoint": ENDPOINT, "Feature": "age"}
    assert drift.period.to_hours() == 6
    top = checker.metric_max_feature_drift()
    assert (top.metric_name, top.dimensions) == ("MaxFeatureDrift", {"Endpoint": ENDPOINT})
    records = checker.metric_records_analyzed()
    assert (records.metric_name, records.statistic) == ("RecordsAnalyzed", "Sum")
    assert checker.metric_malformed_records().metric_name == "MalformedRecords"
    with pytest.raises(ValueError, match="DriftChecker 'feature': invalid value 'income'"):
        checker.metric_feature_drift("income")


# ------------------------------------------------------------ whole template
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert result.lint("Drift") == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


def test_imported_bucket_uses_the_given_key():
    from aws_cdk import aws_kms as kms

    app = App()
    stack = Stack(app, "S")
    key = kms.Key(stack, "K")
    bucket = s3.Bucket.from_bucket_name(stack, "Capture", "capture-bucket")
    checker = DriftChecker(stack, "C", endpoint_name="ep", model_name="m", feature_names=["a"],
                           capture_bucket=bucket, capture_prefix="", report_bucket=SecureBucket(stack, "R"),
                           encryption_key=key)
    statements = stack.resolve(checker.function.role.node.find_child("DefaultPolicy").document)["Statement"]
    decrypt = [s for s in statements if s.get("Sid") == "DecryptCaptureAndBaseline"][0]
    assert decrypt["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}
    listing = [s for s in statements if s.get("Sid") == "ListCaptureOfThisEndpoint"][0]
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["ep/", "ep/*"]


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("props, prop", [
    ({"feature_names": []}, "feature_names"),
    ({"feature_names": "age,amount"}, "feature_names"),
    ({"feature_names": ["age", "age"]}, "feature_names"),
    ({"feature_names": ["a,b"]}, "feature_names"),
    ({"feature_names": ["age", ""]}, "feature_names"),
    ({"window_hours": 0}, "window_hours"),
    ({"window_hours": 25}, "window_hours"),
    ({"threshold": 0}, "threshold"),
    ({"threshold": float("nan")}, "threshold"),
    ({"warning_threshold": 0.2}, "warning_threshold"),  # warning must be below the drift threshold
    ({"warning_threshold": 0.3}, "warning_threshold"),
    ({"warning_threshold": -0.1}, "warning_threshold"),
    ({"endpoint_name": "bad_endpoint"}, "endpoint_name"),
    ({"model_name": ""}, "model_name"),
    ({"capture_prefix": "/data-capture/"}, "capture_prefix"),
    ({"baseline_key": ""}, "baseline_key"),
    ({"event_source": "aws.sagemaker"}, "event_source"),
    ({"metric_namespace": "AWS/SageMaker"}, "metric_namespace"),
    ({"timeout": Duration.minutes(16)}, "timeout"),
    ({"memory_size": 64}, "memory_size"),
    ({"capture_bucket": "my-bucket"}, "capture_bucket"),
])
def test_bad_props_name_the_prop(props, prop):
    app = App()
    stack = Stack(app, "S")
    base = dict(endpoint_name="ep", model_name="m", feature_names=["age"], capture_bucket=SecureBucket(stack, "B"))
    base.update(props)
    with pytest.raises(ValueError, match=rf"^DriftChecker '{re.escape(prop)}': invalid value"):
        DriftChecker(stack, "C", **base)
