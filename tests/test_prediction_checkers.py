"""ModelQualityChecker and BiasDriftChecker constructs: schedule, environment, least-privilege IAM, metrics, BYO, bad input."""

import json
import re
import sys

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from mlops_cdk import BiasDriftChecker, BiasFacet, ModelQualityChecker
from mlops_cdk.constructs.serving.model_endpoint import ModelEndpoint
from mlops_cdk.lambdas._shared import contract
from tests.harness import ACCOUNT, REGION, ROOT, imported_resources, load_handler, logical_ids, synth

FEATURES = ["age", "amount", "merchant_category"]
ENDPOINT = "fraud-endpoint"
TEAM_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LAMBDA_DIR = ROOT / "mlops_cdk" / "lambdas" / "quality_checker"
FACETS = [BiasFacet(facet="age", values_or_threshold=(40,)), BiasFacet(facet="merchant_category", values_or_threshold=("5411", "5812"))]


@pytest.fixture(scope="module")
def built():
    objects = {}

    def build(app):
        stack = Stack(app, "Checks")
        key = kms.Key(stack, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
        bucket = s3.Bucket(stack, "Data", encryption_key=key, enforce_ssl=True, server_access_logs_prefix="logs/",
                           block_public_access=s3.BlockPublicAccess.BLOCK_ALL, removal_policy=RemovalPolicy.DESTROY)
        labels = s3.Bucket(stack, "Labels", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
                           server_access_logs_prefix="logs/", block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                           removal_policy=RemovalPolicy.DESTROY)
        endpoint = ModelEndpoint.from_endpoint_name(stack, "Endpoint", ENDPOINT)
        common = dict(endpoint=endpoint, model_name="fraud-detection", capture_bucket=bucket,
                      window=Duration.hours(6), label_delay=Duration.hours(48))
        objects["quality"] = ModelQualityChecker(stack, "Quality", **common)
        objects["bias"] = BiasDriftChecker(stack, "Bias", facets=FACETS, feature_names=FEATURES,
                                           ground_truth_bucket=labels, drift_threshold=0.2, **common)
        objects.update(stack=stack, bucket=bucket, key=key, labels=labels)

        imported = Stack(app, "ChecksImported")
        team = imported_resources(imported)
        objects["imported"] = ModelQualityChecker(
            imported, "Quality", endpoint=ModelEndpoint.from_endpoint_name(imported, "Endpoint", ENDPOINT),
            model_name="churn", problem_type="Regression", capture_bucket=team.data_bucket, capture_prefix="captures/",
            ground_truth_prefix="labels/churn/", report_prefix="", metric_namespace="Team/Quality",
            inference_attribute="$.prediction", memory_size=2048, ephemeral_storage_size=Size.gibibytes(4))

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def objects(built):
    return built[1]


@pytest.fixture(scope="module")
def ref(objects):
    return objects["stack"].resolve


def _functions(template_json):
    return {k: v for k, v in template_json["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}


def _function(template_json, prefix):
    (found,) = [v for k, v in _functions(template_json).items() if k.startswith(prefix)]
    return found


def _statements(template_json, prefix):
    (role,) = [k for k, v in template_json["Resources"].items()
               if v["Type"] == "AWS::IAM::Role" and k.startswith(prefix)]
    return {s.get("Sid", "logs"): s for p in template_json["Resources"].values() if p["Type"] == "AWS::IAM::Policy"
            and p["Properties"]["Roles"] == [{"Ref": role}] for s in p["Properties"]["PolicyDocument"]["Statement"]}


def _handler_config(objects, name, **overrides):
    sys.path.insert(0, str(LAMBDA_DIR))  # as deployed: the function's folder is the import root
    handler = load_handler(LAMBDA_DIR / "quality_config.py")
    env = {k: v if isinstance(v, str) else "resolved-at-deploy"
           for k, v in objects["stack"].resolve(objects[name].environment).items()}
    env.update(overrides)
    return handler.load_config(env)


# ----------------------------------------------------------------- function
def test_quality_environment_is_what_the_handler_reads(result, objects, ref):
    variables = _function(result.json("Checks"), "Quality")["Properties"]["Environment"]["Variables"]
    bucket = objects["bucket"]
    assert variables == {
        "CHECK": "model_quality", "CAPTURE_BUCKET": ref(bucket.bucket_name), "CAPTURE_PREFIX": "data-capture",
        "ENDPOINT_NAME": ENDPOINT, "MODEL_NAME": "fraud-detection", "REPORT_BUCKET": ref(bucket.bucket_name),
        "REPORT_PREFIX": "quality-reports", "PROBLEM_TYPE": "BinaryClassification", "WINDOW_HOURS": "6",
        "LABEL_DELAY_HOURS": "48", "PROBABILITY_THRESHOLD": "0.5", "METRIC_NAMESPACE": "MLOps/ModelMonitoring",
        # labels default to the capture bucket
        "GROUND_TRUTH_BUCKET": ref(bucket.bucket_name), "GROUND_TRUTH_PREFIX": "ground-truth",
    }
    config = _handler_config(objects, "quality")
    assert (config.check, config.window_hours, config.label_delay_hours) == ("model_quality", 6, 48)
    assert config.ground_truth_prefix == "ground-truth"


def test_bias_environment_is_what_the_handler_reads(result, objects, ref):
    variables = _function(result.json("Checks"), "Bias")["Properties"]["Environment"]["Variables"]
    assert variables["CHECK"] == "bias_drift"
    assert variables["GROUND_TRUTH_BUCKET"] == ref(objects["labels"].bucket_name)
    assert variables["FEATURE_NAMES"] == "age,amount,merchant_category"
    assert json.loads(variables["BIAS_FACETS"]) == [f.as_json() for f in FACETS]
    assert variables["BIAS_DRIFT_THRESHOLD"] == "0.2"
    assert variables["REPORT_PREFIX"] == "bias-reports"
    assert variables["BIAS_BASELINE_S3_URI"] == ref(
        f"s3://{objects['bucket'].bucket_name}/baselines/bias/bias_baseline.json")
    config = _handler_config(objects, "bias", BIAS_BASELINE_S3_URI="s3://b/baselines/bias/bias_baseline.json")
    assert config.check == "bias_drift"
    assert [(f.facet, f.index) for f in config.facets] == [("age", 0), ("merchant_category", 2)]


def test_functions_have_room_for_the_join_and_a_dead_letter_queue(result):
    for function in _functions(result.json("Checks")).values():
        props = function["Properties"]
        assert (props["MemorySize"], props["Timeout"], props["EphemeralStorage"]) == (1024, 600, {"Size": 2048})
        assert props["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][1] == "Arn"


def test_each_check_runs_every_window_with_retries(result):
    template = result.template("Checks")
    for prefix in ("Quality", "Bias"):
        template.has_resource_properties("AWS::Events::Rule", {
            "ScheduleExpression": "rate(6 hours)",
            "Targets": [Match.object_like({
                "Arn": {"Fn::GetAtt": [Match.string_like_regexp(f"^{prefix}Function"), "Arn"]},
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 6 * 3600},
                "DeadLetterConfig": Match.any_value(),
            })],
        })


# --------------------------------------------------------------------- IAM
def test_quality_reads_only_capture_and_labels_and_writes_only_reports(result, objects, ref):
    statements = _statements(result.json("Checks"), "Quality")
    bucket = objects["bucket"]
    assert statements["ListCaptureOfThisEndpoint"]["Condition"] == {"StringLike": {"s3:prefix": [
        f"data-capture/{ENDPOINT}/", f"data-capture/{ENDPOINT}/*"]}}
    assert statements["ReadCaptureOfThisEndpoint"]["Resource"] == ref(bucket.arn_for_objects(f"data-capture/{ENDPOINT}/*"))
    assert statements["ListGroundTruth"]["Condition"] == {"StringLike": {"s3:prefix": ["ground-truth/", "ground-truth/*"]}}
    assert statements["ReadGroundTruth"]["Resource"] == ref(bucket.arn_for_objects("ground-truth/*"))
    assert statements["WriteReports"]["Resource"] == ref(bucket.arn_for_objects(f"quality-reports/{ENDPOINT}/*"))
    assert statements["PublishMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "MLOps/ModelMonitoring"}}
    for sid, action in (("DecryptThroughS3", "kms:Decrypt"), ("EncryptReportsThroughS3", "kms:GenerateDataKey")):
        assert statements[sid]["Action"] == action
        assert statements[sid]["Resource"] == ref(objects["key"].key_arn)
        assert list(statements[sid]["Condition"]["StringEquals"]) == ["kms:ViaService"]


def test_bias_reads_its_baseline_object_and_labels_of_their_own_bucket(result, objects, ref):
    statements = _statements(result.json("Checks"), "Bias")
    assert statements["ReadBiasBaseline"]["Resource"] == ref(
        objects["bucket"].arn_for_objects("baselines/bias/bias_baseline.json"))
    assert statements["ReadGroundTruth"]["Resource"] == ref(objects["labels"].arn_for_objects("ground-truth/*"))
    assert statements["WriteReports"]["Resource"] == ref(objects["bucket"].arn_for_objects(f"bias-reports/{ENDPOINT}/*"))


def test_no_broad_actions(result):
    template_json = result.json("Checks")
    for prefix in ("Quality", "Bias"):
        for statement in _statements(template_json, prefix).values():
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not [a for a in actions if "*" in a], statement
            if statement["Resource"] == "*":
                assert actions == ["cloudwatch:PutMetricData"]


# ----------------------------------------------------------------- metrics
def test_quality_metrics_are_per_model_and_endpoint_over_the_window(objects):
    quality = objects["quality"].quality
    accuracy = quality.metric_accuracy()
    assert (accuracy.namespace, accuracy.metric_name) == ("MLOps/ModelMonitoring", contract.METRIC_ACCURACY)
    assert accuracy.dimensions == {"ModelName": "fraud-detection", "EndpointName": ENDPOINT}
    assert accuracy.period.to_hours() == 6
    assert [quality.metric_f1().metric_name, quality.metric_auc().metric_name, quality.metric_r2().metric_name] == [
        contract.METRIC_F1, contract.METRIC_AUC, contract.METRIC_R2]  # the names the handler publishes
    labelled = objects["quality"].metric_labelled_records()
    assert (labelled.statistic, labelled.dimensions["Check"]) == ("Sum", "model_quality")


def test_bias_metrics_name_facet_and_metric(objects):
    bias = objects["bias"]
    value = bias.metric_bias_value("age", "DI")
    assert value.dimensions == {"ModelName": "fraud-detection", "EndpointName": ENDPOINT, "Facet": "age",
                                "BiasMetric": "DI"}
    drift = bias.metric_max_bias_drift("merchant_category")
    assert (drift.metric_name, drift.statistic, drift.dimensions["Facet"]) == (
        "MaxBiasDrift", "Maximum", "merchant_category")
    with pytest.raises(ValueError, match="^BiasDriftChecker 'facet': invalid value 'amount'"):
        bias.metric_max_bias_drift("amount")
    with pytest.raises(ValueError, match="^BiasDriftChecker 'metric': invalid value 'CDDL'"):
        bias.metric_bias_drift("age", "CDDL")


# ------------------------------------------------------------ bring your own
def test_imported_bucket_and_key(result):
    template_json = result.json("ChecksImported")
    variables = _function(template_json, "Quality")["Properties"]["Environment"]["Variables"]
    assert {k: variables[k] for k in ("CAPTURE_BUCKET", "GROUND_TRUTH_BUCKET", "GROUND_TRUTH_PREFIX", "REPORT_PREFIX",
                                      "PROBLEM_TYPE", "INFERENCE_ATTRIBUTE", "METRIC_NAMESPACE")} == {
        "CAPTURE_BUCKET": "team-ml-data", "GROUND_TRUTH_BUCKET": "team-ml-data", "GROUND_TRUTH_PREFIX": "labels/churn",
        "REPORT_PREFIX": "", "PROBLEM_TYPE": "Regression", "INFERENCE_ATTRIBUTE": "$.prediction",
        "METRIC_NAMESPACE": "Team/Quality"}
    statements = _statements(template_json, "Quality")
    assert statements["DecryptThroughS3"]["Resource"] == TEAM_KEY
    assert statements["WriteReports"]["Resource"]["Fn::Join"][1][-1] == f":s3:::team-ml-data/{ENDPOINT}/*"
    assert _function(template_json, "Quality")["Properties"]["EphemeralStorage"] == {"Size": 4096}


# ------------------------------------------------------------ whole template
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


@pytest.mark.parametrize("stack", ["Checks", "ChecksImported"])
def test_cfn_lint_clean(result, stack):
    assert result.lint(stack) == []


def test_logical_ids(result, json_snapshot):
    assert {stack: logical_ids(result.json(stack)) for stack in ("Checks", "ChecksImported")} == json_snapshot


# --------------------------------------------------------------- bad input
def _base(stack):
    return dict(endpoint=ModelEndpoint.from_endpoint_name(stack, "E", "ep"), model_name="m",
                capture_bucket=s3.Bucket(stack, "B", encryption=s3.BucketEncryption.KMS))


@pytest.mark.parametrize("props, prop", [
    ({"model_name": ""}, "model_name"),
    ({"problem_type": "binary"}, "problem_type"),
    ({"window": Duration.hours(25)}, "window"),
    ({"window": Duration.minutes(30)}, "window"),
    ({"label_delay": Duration.hours(337)}, "label_delay"),
    ({"label_delay": Duration.minutes(90)}, "label_delay"),
    ({"ground_truth_prefix": "/labels/"}, "ground_truth_prefix"),
    ({"capture_prefix": "/data-capture/"}, "capture_prefix"),
    ({"inference_attribute": ""}, "inference_attribute"),
    ({"probability_attribute": "1", "problem_type": "Regression"}, "probability_attribute"),
    ({"probability_threshold": 1.5}, "probability_threshold"),
    ({"probability_threshold": float("nan")}, "probability_threshold"),
    ({"metric_namespace": "AWS/SageMaker"}, "metric_namespace"),
    ({"timeout": Duration.minutes(16)}, "timeout"),
    ({"memory_size": 64}, "memory_size"),
    ({"ephemeral_storage_size": 2048}, "ephemeral_storage_size"),
    ({"endpoint": None}, "endpoint"),
])
def test_quality_bad_props_name_the_prop(props, prop):
    stack = Stack(App(), "S")
    base = _base(stack)
    base.update(props)
    with pytest.raises(ValueError, match=rf"^ModelQualityChecker '{re.escape(prop)}': invalid value"):
        ModelQualityChecker(stack, "C", **base)


@pytest.mark.parametrize("props, prop", [
    ({"facets": []}, "facets"),
    ({"facets": [BiasFacet(facet="income", values_or_threshold=(1,))]}, "facets"),  # not a feature
    ({"facets": [BiasFacet(facet="age", values_or_threshold=(40,))] * 2}, "facets"),
    ({"feature_names": []}, "feature_names"),
    ({"feature_names": ["age", "age"]}, "feature_names"),
    ({"drift_threshold": 0}, "drift_threshold"),
    ({"drift_threshold": 1.5}, "drift_threshold"),
    ({"baseline_key": ""}, "baseline_key"),
    ({"window": Duration.hours(48)}, "window"),
])
def test_bias_bad_props_name_the_prop(props, prop):
    stack = Stack(App(), "S")
    base = {**_base(stack), "facets": [BiasFacet(facet="age", values_or_threshold=(40,))], "feature_names": ["age", "amount"]}
    base.update(props)
    with pytest.raises(ValueError, match=rf"^BiasDriftChecker '{re.escape(prop)}"):
        BiasDriftChecker(stack, "C", **base)
