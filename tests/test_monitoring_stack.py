"""MonitoringStack in its three modes: wiring to foundation and endpoint, monitors, checker, alarms, dashboard."""

import json
import re

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sagemaker as sagemaker

from mlops_cdk import FoundationStack, PlatformConfig
from mlops_cdk import monitoring_metrics as mm
from mlops_cdk.stacks.monitoring import MonitoringStack
from tests.harness import normalized, only_resource, resources_of_type, synth

CONFIG = PlatformConfig(accuracy_threshold=0.9, alert_emails=("ml-team@example.com",))
FEATURES = ["amount", "age", "merchant_category"]
GROUND_TRUTH = "s3://labels-bucket/ground-truth/"
PREFIX = CONFIG.prefix


@pytest.fixture(scope="module")
def built():
    """Foundation, a stand-in serving stack and one monitoring stack per mode, synthesized once."""
    objects = {}

    def build(app):
        foundation = FoundationStack(app, "Foundation", config=CONFIG)
        serving = Stack(app, "Serving")
        endpoint = sagemaker.CfnEndpoint(serving, "Endpoint", endpoint_config_name="fraud-config")
        common = dict(config=CONFIG, foundation=foundation, endpoint_name=endpoint.attr_endpoint_name,
                      feature_names=FEATURES)
        objects["both"] = MonitoringStack(
            app, "Monitoring", ground_truth_s3_uri=GROUND_TRUTH,
            bias={"label_values_or_threshold": [1], "facet_name": "age", "facet_values_or_threshold": [40],
                  "headers": FEATURES},
            **common)
        objects["own"] = MonitoringStack(app, "MonitoringOwn", mode="own", drift_window_hours=6,
                                         capture_s3_uri="s3://capture-bucket/captures/", **common)
        objects["model_monitor"] = MonitoringStack(app, "MonitoringModelMonitor", mode="model_monitor", **common)
        objects["foundation"] = foundation

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def raw(result):
    return result.json("Monitoring")


@pytest.fixture(scope="module")
def own(result):
    return result.json("MonitoringOwn")


@pytest.fixture(scope="module")
def mm_only(result):
    return result.json("MonitoringModelMonitor")


def _exports(result):
    """ImportValue name -> (logical id, attribute) of the Foundation/Serving resource it exports."""
    out = {}
    for stack in ("Foundation", "Serving"):
        for output in result.json(stack).get("Outputs", {}).values():
            if "Export" in output:
                value = output["Value"]
                out[output["Export"]["Name"]] = (value["Ref"], "Ref") if "Ref" in value else tuple(value["Fn::GetAtt"])
    return out


def _imported(result, node):
    return _exports(result)[node["Fn::ImportValue"]]


def _types(template):
    counts = {}
    for resource in template["Resources"].values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    return counts


def _alarm_names(template):
    return {v["Properties"]["AlarmName"].removeprefix(f"{PREFIX}-"): v["Properties"]
            for v in resources_of_type(template, "AWS::CloudWatch::Alarm").values()}


# ------------------------------------------------------------------ mode both
def test_both_mode_resources(raw):
    types = _types(raw)
    assert types["AWS::SageMaker::DataQualityJobDefinition"] == 1
    assert types["AWS::SageMaker::ModelQualityJobDefinition"] == 1  # ground truth configured
    assert types["AWS::SageMaker::ModelBiasJobDefinition"] == 1
    assert "AWS::SageMaker::ModelExplainabilityJobDefinition" not in types
    assert types["AWS::SageMaker::MonitoringSchedule"] == 3
    assert types["AWS::Lambda::Function"] == 1
    assert types["AWS::CloudWatch::CompositeAlarm"] == 1
    assert types["AWS::CloudWatch::Dashboard"] == 1


def test_monitors_run_as_foundation_role_into_the_data_bucket_with_its_key(result, raw):
    schedules = {v["Properties"]["MonitoringScheduleName"] for v in
                 resources_of_type(raw, "AWS::SageMaker::MonitoringSchedule").values()}
    assert schedules == {f"{PREFIX}-data-quality", f"{PREFIX}-model-quality", f"{PREFIX}-bias"}
    for job in [v for v in raw["Resources"].values() if v["Type"].endswith("JobDefinition")]:
        props = job["Properties"]
        role = _imported(result, props["RoleArn"])
        assert role[0].startswith("SageMakerRole") and role[1] == "Arn"
        assert _imported(result, props["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"])[0].startswith("DataKey")
        output = next(v for k, v in props.items() if k.endswith("JobOutputConfig"))
        s3_uri = output["MonitoringOutputs"][0]["S3Output"]["S3Uri"]["Fn::Join"][1]
        assert _imported(result, s3_uri[1])[0].startswith("DataBucket")
        assert s3_uri[2].startswith("/monitoring/")
        endpoint = props["EndpointName"]
        assert _imported(result, endpoint) == ("Endpoint", "EndpointName")


def test_model_quality_defaults_to_the_score_in_column_zero(raw):
    (job,) = resources_of_type(raw, "AWS::SageMaker::ModelQualityJobDefinition").values()
    endpoint = job["Properties"]["ModelQualityJobInput"]["EndpointInput"]
    assert (endpoint["ProbabilityAttribute"], endpoint["ProbabilityThresholdAttribute"]) == ("0", 0.5)
    assert job["Properties"]["ModelQualityJobInput"]["GroundTruthS3Input"] == {"S3Uri": GROUND_TRUTH}


def test_drift_checker_reads_the_default_capture_location(result, raw):
    env = only_resource(raw, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    assert env["FEATURE_NAMES"] == ",".join(FEATURES)
    assert env["CAPTURE_PREFIX"] == "data-capture"
    assert _imported(result, env["CAPTURE_BUCKET"])[0].startswith("DataBucket")
    assert _imported(result, env["ENDPOINT_NAME"]) == ("Endpoint", "EndpointName")
    assert env["MODEL_NAME"] == CONFIG.model_name


def test_alarms_read_psi_and_the_configured_accuracy(raw):
    alarms = _alarm_names(raw)
    for feature in FEATURES:
        assert alarms[f"feature-drift-{feature}"]["MetricName"] == mm.DRIFT_METRIC_FEATURE_DRIFT
        assert alarms[f"feature-drift-{feature}"]["Threshold"] == 0.2
        assert alarms[f"feature-drift-warning-{feature}"]["Threshold"] == 0.1
    assert alarms["accuracy"]["Threshold"] == CONFIG.accuracy_threshold
    assert "drift-checker-silent" in alarms and "monitoring-execution-failed" in alarms
    for alarm in alarms.values():
        (action,) = alarm["AlarmActions"]
        assert action["Fn::ImportValue"].startswith("Foundation:") and "AlertsTopic" in action["Fn::ImportValue"]


def test_monitoring_failure_rule_covers_every_schedule(raw):
    (rule,) = [r["Properties"] for r in resources_of_type(raw, "AWS::Events::Rule").values()
               if "EventPattern" in r["Properties"]]
    arns = rule["EventPattern"]["detail"]["MonitoringScheduleArn"]
    schedules = resources_of_type(raw, "AWS::SageMaker::MonitoringSchedule")
    assert sorted(a["Fn::GetAtt"][0] for a in arns) == sorted(schedules)


def test_dashboard_and_outputs(raw):
    dashboard = only_resource(raw, "AWS::CloudWatch::Dashboard")["Properties"]
    assert dashboard["DashboardName"] == f"{PREFIX}-model"
    body = json.dumps(dashboard["DashboardBody"])
    for text in ("ModelLatency", "Invocations", "Invocation5XXErrors", "Feature drift (PSI)", mm.METRIC_ACCURACY,
                 mm.METRIC_PRECISION, mm.METRIC_RECALL):
        assert text in body
    assert set(raw["Outputs"]) == {"DashboardName", "ModelUnhealthyAlarmArn"}


def test_depends_on_foundation_and_serving(built):
    names = {s.node.id for s in built[1]["both"].dependencies}
    assert names == {"Foundation", "Serving"}


def test_standard_tags(raw):
    tagged = [r for r in raw["Resources"].values() if "Tags" in r.get("Properties", {})]
    assert tagged
    for resource in tagged:
        tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
        assert {"project": "mlops", "model": "fraud-detection", "stage": "dev"}.items() <= tags.items()


@pytest.mark.parametrize("stack", ["Monitoring", "MonitoringOwn", "MonitoringModelMonitor"])
def test_no_hard_coded_region_or_account(result, stack):
    template = result.json(stack)
    text = str({k: v for k, v in template.items() if k != "Mappings"})
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)


# ------------------------------------------------------------------ mode own
def test_own_mode_has_no_model_monitor(own):
    types = _types(own)
    assert not [t for t in types if t.startswith("AWS::SageMaker::")]
    assert "monitoring-execution-failed" not in _alarm_names(own)
    assert [r for r in resources_of_type(own, "AWS::Events::Rule").values()
            if "EventPattern" in r["Properties"]] == []
    assert types["AWS::Lambda::Function"] == 1


def test_own_mode_reads_the_given_capture_uri(result, own):
    function = only_resource(own, "AWS::Lambda::Function")["Properties"]
    env = function["Environment"]["Variables"]
    assert (env["CAPTURE_BUCKET"], env["CAPTURE_PREFIX"], env["WINDOW_HOURS"]) == ("capture-bucket", "captures", "6")
    role = function["Role"]["Fn::GetAtt"][0]
    (policy,) = [p for p in resources_of_type(own, "AWS::IAM::Policy").values()
                 if p["Properties"]["Roles"] == [{"Ref": role}]]
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    listing = statements["ListCaptureOfThisEndpoint"]
    assert listing["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::capture-bucket"]]}
    assert listing["Condition"]["StringLike"]["s3:prefix"][0]["Fn::Join"][1][0] == "captures/"
    # the imported capture bucket exposes no key: the data key (its default) is used
    decrypt = statements["DecryptCaptureAndBaseline"]
    assert _imported(result, decrypt["Resource"])[0].startswith("DataKey")
    assert _alarm_names(own)["drift-checker-silent"]["EvaluationPeriods"] == 2


# ------------------------------------------------------- mode model_monitor
def test_model_monitor_mode_alarms_on_model_monitor_drift(mm_only):
    types = _types(mm_only)
    assert "AWS::Lambda::Function" not in types
    assert types["AWS::SageMaker::DataQualityJobDefinition"] == 1
    assert "AWS::SageMaker::ModelQualityJobDefinition" not in types  # no ground truth given
    alarms = _alarm_names(mm_only)
    assert "drift-checker-silent" not in alarms
    drift = alarms["feature-drift-amount"]
    assert (drift["Namespace"], drift["MetricName"]) == ("aws/sagemaker/Endpoints/data-metrics",
                                                         "feature_baseline_drift_amount")
    dims = {d["Name"]: d["Value"] for d in drift["Dimensions"]}
    assert dims["MonitoringSchedule"] == f"{PREFIX}-data-quality"


# ------------------------------------------------------------ whole templates
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


@pytest.mark.parametrize("stack", ["Monitoring", "MonitoringOwn", "MonitoringModelMonitor"])
def test_cfn_lint_clean(result, stack):
    assert result.lint(stack) == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# ----------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def foundation_app():
    app = App()
    return app, FoundationStack(app, "F", config=CONFIG)


@pytest.mark.parametrize("props, prop", [
    ({"mode": "shadow"}, "mode"),
    ({"mode": "Own"}, "mode"),
    ({"feature_names": []}, "feature_names"),
    ({"feature_names": ["a", "a"]}, "feature_names"),
    ({"drift_warning": 0.2}, "drift_warning"),
    ({"drift_warning": 0.25}, "drift_warning"),
    ({"drift_significant": 0}, "drift_significant"),
    ({"model_quality": {"problem_type": "Regression"}}, "ground_truth_s3_uri"),
    ({"bias": {"facet_name": "age"}}, "ground_truth_s3_uri"),
    ({"mode": "own", "ground_truth_s3_uri": GROUND_TRUTH}, "ground_truth_s3_uri"),
    ({"mode": "own", "bias": {}}, "bias"),
    ({"config": {"stage": "dev"}}, "config"),
    ({"foundation": "mlops-fraud-detection-dev-foundation"}, "foundation"),
    ({"bias": [1]}, "bias"),
])
def test_bad_props_name_the_prop(foundation_app, props, prop):
    app, foundation = foundation_app
    base = dict(config=CONFIG, foundation=foundation, endpoint_name="fraud-endpoint", feature_names=FEATURES)
    base.update(props)
    with pytest.raises(ValueError, match=rf"^MonitoringStack '{re.escape(prop)}': invalid value"):
        MonitoringStack(app, f"M{abs(hash(str(props)))}", **base)


def test_monitor_errors_surface_with_the_monitor_and_prop(foundation_app):
    app, foundation = foundation_app
    with pytest.raises(ValueError, match="^ModelQualityMonitor 'problem_type': invalid value 'Ranking'"):
        MonitoringStack(app, "BadProblemType", config=CONFIG, foundation=foundation, endpoint_name="ep",
                        feature_names=FEATURES, ground_truth_s3_uri=GROUND_TRUTH,
                        model_quality={"problem_type": "Ranking"})
    with pytest.raises(ValueError, match="^DataQualityMonitor 'schedule': invalid value"):
        MonitoringStack(app, "BadCron", config=CONFIG, foundation=foundation, endpoint_name="ep",
                        feature_names=FEATURES, data_quality_schedule="cron(*/5 * * * ? *)")


def test_capture_uri_with_tokens_in_the_bucket_part(foundation_app):
    app, foundation = foundation_app
    stack = MonitoringStack(app, "TokenCapture", config=CONFIG, foundation=foundation, endpoint_name="ep",
                            feature_names=FEATURES, mode="own",
                            capture_s3_uri=f"s3://{foundation.data_bucket_name}/data-capture")  # as ServingStack spells it
    env = stack.resolve(stack.drift_checker.environment)
    assert env["CAPTURE_PREFIX"] == "data-capture"
    assert env["CAPTURE_BUCKET"] == {"Fn::Join": ["", [f"{PREFIX}-", {"Ref": "AWS::AccountId"}, "-",
                                                       {"Ref": "AWS::Region"}]]}


@pytest.mark.parametrize("uri", ["captures/", "s3://Bad_Bucket/x", "${Token[TOKEN.1]}"])
def test_unsplittable_capture_uris_are_rejected(foundation_app, uri):
    from aws_cdk import Fn

    app, foundation = foundation_app
    if uri.startswith("${"):
        uri = Fn.join("", ["s3://", foundation.data.bucket_name, "/data-capture"])  # one opaque token
    with pytest.raises(ValueError, match="^MonitoringStack 'capture_s3_uri': invalid value"):
        MonitoringStack(app, f"Capture{abs(hash(uri))}", config=CONFIG, foundation=foundation, endpoint_name="ep",
                        feature_names=FEATURES, capture_s3_uri=uri)
