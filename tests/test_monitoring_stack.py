"""MonitoringStack: modes from config, the Model Monitor fallback, wiring to resources and endpoint, BYO, bad input."""

import json
import re

import pytest
from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from mlops_cdk.config import PlatformConfig
from mlops_cdk.settings.bias import BiasFacet
from mlops_cdk.constructs.serving.model_endpoint import ModelEndpoint
from mlops_cdk.constructs.serving.monitored_endpoint import MonitoredEndpoint
from mlops_cdk.settings.monitoring import BiasOptions, ModelQualityOptions, MonitorSchedule
from mlops_cdk.stacks.monitoring import MonitoringStack
from tests.harness import (ACCOUNT, REGION, ROOT, imported_resources, logical_ids, only_resource, own_resources,
                           reference_context, synth)

CONFIG = PlatformConfig(monitoring_mode="both", accuracy_threshold=0.9,
                        bias_facets=(BiasFacet(facet="customer_age", values_or_threshold=(60,)),))
OWN = PlatformConfig(monitoring_mode="own", drift_window_hours=6, drift_threshold=0.3, drift_warning_threshold=0.15,
                     model_name="churn", monitoring_features=("tenure", "plan"), quality_window_hours=12,
                     ground_truth_delay_hours=48, ground_truth_s3_uri="s3://team-labels/churn/",
                     bias_facets=(BiasFacet(facet="plan", values_or_threshold=("basic",)),
                                  BiasFacet(facet="tenure", values_or_threshold=(12,))),
                     bias_drift_threshold=0.05)
# -c monitoring_mode=model_monitor with the quality keys: all four Model Monitor job types from configuration alone.
MODEL_MONITOR = PlatformConfig(monitoring_mode="model_monitor", model_name="churn", problem_type="Regression",
                               monitoring_features=("tenure", "plan"), ground_truth_s3_uri="s3://team-labels/churn/",
                               bias_facets=({"facet": "tenure", "values_or_threshold": [12],
                                             "label_values_or_threshold": [100]},),
                               explainability={"shap_baseline": [[24, "basic"]]})
PACKAGE = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/fraud/3"
MINE = ("Monitoring", "MonitoringOwn", "MonitoringPlanned", "MonitoringModelMonitor")
ENV = Environment(account=ACCOUNT, region=REGION)  # where the imported resources live


@pytest.fixture(scope="module")
def built():
    """Endpoint stacks (one deploying a ModelEndpoint on plain resources) and one monitoring stack per case."""
    objects = {}

    def build(app):
        serving = Stack(app, "Serving")
        team = own_resources(serving)
        endpoint = ModelEndpoint(serving, "Scoring", role=team.execution_role, model_package_arn=PACKAGE,
                                 capture_bucket=team.data_bucket)
        objects["both"] = MonitoringStack(
            app, "Monitoring", config=CONFIG, resources=team, endpoint=endpoint.monitored_endpoint,
            model_quality=ModelQualityOptions())

        elsewhere = serving  # endpoints and buckets known by name only: imports create nothing
        objects["own"] = MonitoringStack(
            app, "MonitoringOwn", config=OWN, resources=team,
            endpoint=MonitoredEndpoint(
                endpoint=ModelEndpoint.from_endpoint_name(elsewhere, "Endpoint", "churn-endpoint"),
                capture_bucket=s3.Bucket.from_bucket_name(elsewhere, "Capture", "capture-bucket"),
                capture_prefix="captures/"))
        objects["planned"] = MonitoringStack(
            app, "MonitoringPlanned", config=CONFIG, resources=team, model_quality=ModelQualityOptions(),
            endpoint=MonitoredEndpoint(endpoint=ModelEndpoint.from_endpoint_name(elsewhere, "Planned", CONFIG.prefix),
                                       capture_bucket=team.data_bucket, capture_key=team.data_key, deployed=False))

        team_serving = Stack(app, "TeamServing", env=ENV)  # a team's endpoint on its existing role, bucket, key
        byo = imported_resources(team_serving)
        team_endpoint = ModelEndpoint(team_serving, "Scoring", role=byo.execution_role, model_package_arn=PACKAGE,
                                      endpoint_name="churn-ep", model_name_prefix="churn-ep",
                                      capture_bucket=byo.data_bucket)
        objects["model_monitor"] = MonitoringStack(
            app, "MonitoringModelMonitor", env=ENV, config=MODEL_MONITOR, resources=byo,
            data_quality_schedule=MonitorSchedule.every(6), endpoint=team_endpoint.monitored_endpoint)

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def objects(built):
    return built[1]


@pytest.fixture(scope="module")
def both(result):
    return result.template("Monitoring")


def _import_of(stack, logical_prefix, attribute=None):
    """How a monitoring stack spells a value exported by ``stack`` for its resource ``logical_prefix...``."""
    what = f"FnGetAtt{logical_prefix}[0-9A-F]{{8}}{attribute}" if attribute else f"Ref{logical_prefix}[0-9A-F]{{8}}"
    return {"Fn::ImportValue": Match.string_like_regexp(f"^{stack}:ExportsOutput{what}")}


def _alarms(template):
    return {v["Properties"]["AlarmName"]: v["Properties"] for v in template.find_resources("AWS::CloudWatch::Alarm")
            .values()}


# ------------------------------------------------------------------ mode both
def test_both_mode_resources(both):
    for kind, count in (("AWS::SageMaker::DataQualityJobDefinition", 1),
                        ("AWS::SageMaker::ModelQualityJobDefinition", 1),
                        ("AWS::SageMaker::ModelBiasJobDefinition", 1),
                        ("AWS::SageMaker::ModelExplainabilityJobDefinition", 0),
                        ("AWS::SageMaker::MonitoringSchedule", 3),
                        ("AWS::Lambda::Function", 3),  # the own drift, quality and bias checkers
                        ("AWS::CloudWatch::CompositeAlarm", 1),
                        ("AWS::CloudWatch::Dashboard", 1)):
        both.resource_count_is(kind, count)


@pytest.mark.parametrize("kind", ["DataQuality", "ModelQuality", "ModelBias"])
def test_jobs_run_as_the_execution_role_on_the_served_endpoint_into_the_data_bucket(both, kind):
    both.has_resource_properties(f"AWS::SageMaker::{kind}JobDefinition", {
        "RoleArn": _import_of("Serving", "TeamRole", "Arn"),
        "EndpointName": _import_of("Serving", "ScoringEndpoint", "EndpointName"),
        "JobResources": {"ClusterConfig": Match.object_like({
            "VolumeKmsKeyId": _import_of("Serving", "TeamKey", "Arn"), "InstanceType": "ml.m5.xlarge"})},
        f"{kind}JobOutputConfig": Match.object_like({"MonitoringOutputs": [{"S3Output": Match.object_like({
            "S3Uri": {"Fn::Join": ["", ["s3://", _import_of("Serving", "TeamBucket"),
                                        Match.string_like_regexp(f"^/monitoring/{CONFIG.prefix}-")]]}})}]}),
    })


def test_schedules_are_named_after_the_model(both):
    for name in ("data-quality", "model-quality", "bias"):
        both.has_resource_properties("AWS::SageMaker::MonitoringSchedule", {
            "MonitoringScheduleName": f"{CONFIG.prefix}-{name}"})


def test_model_quality_and_bias_read_ground_truth_of_the_data_bucket(both):
    for kind in ("ModelQuality", "ModelBias"):
        both.has_resource_properties(f"AWS::SageMaker::{kind}JobDefinition", {f"{kind}JobInput": Match.object_like({
            "GroundTruthS3Input": {"S3Uri": {"Fn::Join": ["", ["s3://", _import_of("Serving", "TeamBucket"),
                                                               "/ground-truth/"]]}},
            "EndpointInput": Match.object_like({"ProbabilityAttribute": "0", "ProbabilityThresholdAttribute": 0.5}),
        })})


def test_bias_job_per_configured_facet_over_the_day_whose_labels_arrived(both):
    """The facet comes from config.bias_facets; the offsets from ground_truth_delay_hours (24 h by default)."""
    both.has_resource_properties("AWS::SageMaker::ModelBiasJobDefinition", {"ModelBiasJobInput": Match.object_like({
        "EndpointInput": Match.object_like({"StartTimeOffset": "-PT48H", "EndTimeOffset": "-PT24H"})})})


def test_both_mode_alarms_and_dashboard_read_the_own_checkers(both):
    alarms = _alarms(both)
    accuracy = alarms[f"{CONFIG.prefix}-accuracy"]
    assert accuracy["Namespace"] == "MLOps/ModelMonitoring" and accuracy["Period"] == 24 * 3600
    bias = alarms[f"{CONFIG.prefix}-bias-drift-customer_age"]
    assert (bias["MetricName"], bias["Threshold"]) == ("MaxBiasDrift", CONFIG.bias_drift_threshold)
    assert {"Name": "Facet", "Value": "customer_age"} in bias["Dimensions"]


def test_depends_on_the_stack_serving_the_endpoint(objects):
    assert {s.node.id for s in objects["both"].dependencies} == {"Serving"}


def test_drift_checker_reads_the_endpoints_capture_with_settings_from_config(both):
    both.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "FEATURE_NAMES": ",".join(CONFIG.monitoring_features),
        "CAPTURE_BUCKET": _import_of("Serving", "TeamBucket"),
        "CAPTURE_PREFIX": "data-capture",
        "ENDPOINT_NAME": _import_of("Serving", "ScoringEndpoint", "EndpointName"),
        "MODEL_NAME": CONFIG.model_name,
        "WINDOW_HOURS": str(CONFIG.drift_window_hours),
        "THRESHOLD": repr(CONFIG.drift_threshold),
        "WARNING_THRESHOLD": repr(CONFIG.drift_warning_threshold),
    })}})


def test_alarms_read_psi_with_the_thresholds_of_config(both):
    alarms = _alarms(both)
    for feature in CONFIG.monitoring_features:
        drift = alarms[f"{CONFIG.prefix}-feature-drift-{feature}"]
        assert (drift["MetricName"], drift["Threshold"]) == ("FeatureDrift", CONFIG.drift_threshold)
        assert alarms[f"{CONFIG.prefix}-feature-drift-warning-{feature}"]["Threshold"] == CONFIG.drift_warning_threshold
    accuracy = alarms[f"{CONFIG.prefix}-accuracy"]
    assert (accuracy["MetricName"], accuracy["Threshold"]) == ("ModelAccuracy", CONFIG.accuracy_threshold)
    assert alarms[f"{CONFIG.prefix}-drift-checker-silent"]["Period"] == CONFIG.drift_window_hours * 3600
    for alarm in alarms.values():
        (action,) = alarm["AlarmActions"]
        assert re.match(r"^Serving:ExportsOutputRefTeamTopic", action["Fn::ImportValue"])


def test_monitoring_failure_rule_covers_every_schedule(both):
    rule = both.find_resources("AWS::Events::Rule", {"Properties": {"EventPattern": Match.object_like(
        {"source": ["aws.sagemaker"]})}})
    ((_, rule),) = rule.items()
    arns = rule["Properties"]["EventPattern"]["detail"]["MonitoringScheduleArn"]
    assert sorted(a["Ref"] for a in arns) == sorted(both.find_resources("AWS::SageMaker::MonitoringSchedule"))


def test_dashboard_and_outputs(result, both):
    both.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": f"{CONFIG.prefix}-model"})
    assert set(result.json("Monitoring")["Outputs"]) == {"DashboardName", "ModelUnhealthyAlarmArn"}


def _widget_titles(stack):
    """The dashboard's graph titles, read from its resolved body (no synthesis needed)."""
    body = stack.resolve(stack.dashboard.dashboard.node.default_child.dashboard_body)
    text = body if isinstance(body, str) else "".join(p for p in body["Fn::Join"][1] if isinstance(p, str))
    return [w["properties"].get("title") for w in json.loads(text)["widgets"]]


def test_dashboard_shows_the_endpoint_instances_except_for_serverless(objects):
    assert "Endpoint instances" in _widget_titles(objects["both"])
    app = App()
    shared = Stack(app, "Shared")
    serverless = PlatformConfig(monitoring_mode="own", serving={"dev": {"serverless": {}}})
    stack = MonitoringStack(app, "M", config=serverless, resources=own_resources(shared),
                            endpoint=_endpoint(shared, captures=False))
    assert "Invocations" in _widget_titles(stack) and "Endpoint instances" not in _widget_titles(stack)


def test_standard_tags(result):
    tagged = [r for r in result.json("Monitoring")["Resources"].values() if "Tags" in r.get("Properties", {})]
    assert tagged
    for resource in tagged:
        tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
        assert {"project": "mlops", "model": "fraud-detection", "stage": "dev"}.items() <= tags.items()


def test_no_hard_coded_region_or_account(result):
    # Region gates (Conditions, Rules) name the regions without Model Monitor: mode 'both' leaves it out there.
    text = json.dumps({k: v for k, v in result.json("Monitoring").items()
                       if k not in ("Mappings", "Conditions", "Rules")})
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)


def test_released_stateful_logical_ids_are_kept(result):
    released = json.loads((ROOT / "tests" / "data" / "released_stateful_ids.json").read_text())["variants"]
    ids = {i for stacks in released.values() for name, found in stacks.items() if name.endswith("-monitoring")
           for i in found}
    assert ids and ids <= set(logical_ids(result.json("Monitoring")))


# ------------------------------------------------------------------ mode own
def test_own_mode_has_no_model_monitor_and_takes_window_and_thresholds_from_config(result):
    template = result.template("MonitoringOwn")
    assert not [t for t in logical_ids(result.json("MonitoringOwn")).values() if t.startswith("AWS::SageMaker::")]
    template.resource_count_is("AWS::Lambda::Function", 3)
    template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "CAPTURE_BUCKET": "capture-bucket", "CAPTURE_PREFIX": "captures", "ENDPOINT_NAME": "churn-endpoint",
        "WINDOW_HOURS": "6", "THRESHOLD": "0.3", "WARNING_THRESHOLD": "0.15", "FEATURE_NAMES": "tenure,plan"})}})
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(6 hours)"})
    alarms = _alarms(template)
    assert alarms[f"{OWN.prefix}-feature-drift-tenure"]["Threshold"] == 0.3
    assert alarms[f"{OWN.prefix}-feature-drift-warning-plan"]["Threshold"] == 0.15
    assert (alarms[f"{OWN.prefix}-feature-drift-plan"]["Period"], alarms[f"{OWN.prefix}-drift-checker-silent"][
        "Period"]) == (6 * 3600, 6 * 3600)
    assert f"{OWN.prefix}-monitoring-execution-failed" not in alarms


def test_own_quality_and_bias_checkers_take_labels_window_and_delay_from_config(result, objects):
    template = result.template("MonitoringOwn")
    for check in ("model_quality", "bias_drift"):
        template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
            "CHECK": check, "CAPTURE_BUCKET": "capture-bucket", "ENDPOINT_NAME": "churn-endpoint",
            "GROUND_TRUTH_BUCKET": "team-labels", "GROUND_TRUTH_PREFIX": "churn", "WINDOW_HOURS": "12",
            "LABEL_DELAY_HOURS": "48", "PROBLEM_TYPE": "BinaryClassification"})}})
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(12 hours)"})
    bias = objects["own"].bias_checker
    assert [f.facet for f in bias.facets] == ["plan", "tenure"] and bias.drift_threshold == 0.05
    alarms = _alarms(template)
    accuracy = alarms[f"{OWN.prefix}-accuracy"]
    assert (accuracy["Namespace"], accuracy["MetricName"], accuracy["Period"]) == (
        "MLOps/ModelMonitoring", "ModelAccuracy", 12 * 3600)
    assert {"Name": "EndpointName", "Value": "churn-endpoint"} in accuracy["Dimensions"]
    for facet in ("plan", "tenure"):
        assert alarms[f"{OWN.prefix}-bias-drift-{facet}"]["Threshold"] == 0.05
    composite = only_resource(result.json("MonitoringOwn"), "AWS::CloudWatch::CompositeAlarm")
    rule = json.dumps(composite["Properties"]["AlarmRule"])
    assert "AlarmsBiasDriftplan" in rule and "AlarmsBiasDrifttenure" in rule


def test_own_checkers_read_labels_of_a_team_bucket_by_name(result):
    statements = [s for s in (_statement for _statement in _all_statements(result.json("MonitoringOwn")))
                  if s.get("Sid") == "ReadGroundTruth"]
    assert len(statements) == 2  # the quality and the bias checker
    for statement in statements:
        assert statement["Resource"]["Fn::Join"][1][-1] == ":s3:::team-labels/churn/*"


def _all_statements(template_json):
    return [st for p in template_json["Resources"].values() if p["Type"] == "AWS::IAM::Policy"
            for st in p["Properties"]["PolicyDocument"]["Statement"]]


def test_a_planned_endpoint_runs_as_own_and_says_so(result, objects):
    planned = objects["planned"]
    assert planned.mode == "own" and planned.monitors == [] and planned.drift_checker is not None
    assert not [t for t in logical_ids(result.json("MonitoringPlanned")).values() if t.startswith("AWS::SageMaker::")]
    Annotations.from_stack(planned).has_info("/MonitoringPlanned", Match.string_like_regexp(
        "monitoring_mode 'both' runs as 'own' until the endpoint is deployed"))


def test_an_endpoint_that_captures_nothing_gets_no_model_monitor_and_says_why():
    app = App(context=reference_context())
    serving = Stack(app, "Serving")
    team = own_resources(serving)
    stack = MonitoringStack(app, "Monitoring", config=CONFIG, resources=team, endpoint=MonitoredEndpoint(
        endpoint=ModelEndpoint.from_endpoint_name(serving, "Serverless", "churn-serverless"),
        capture_bucket=team.data_bucket, captures=False))
    assert stack.mode == "own" and stack.monitors == [] and stack.drift_checker is not None
    Annotations.from_stack(stack).has_info("/Monitoring", Match.string_like_regexp(
        "runs as 'own' while the endpoint captures no data"))


# ------------------------------------------------------- mode model_monitor
def test_model_monitor_mode_alarms_on_model_monitor_drift(result):
    template = result.template("MonitoringModelMonitor")
    template.resource_count_is("AWS::Lambda::Function", 0)
    template.has_resource_properties("AWS::SageMaker::MonitoringSchedule", {"MonitoringScheduleConfig": Match.object_like(
        {"ScheduleConfig": {"ScheduleExpression": "cron(0 0/6 ? * * *)"}})})
    alarms = _alarms(template)
    assert f"{MODEL_MONITOR.prefix}-drift-checker-silent" not in alarms
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": f"{MODEL_MONITOR.prefix}-feature-drift-plan",
        "Namespace": "aws/sagemaker/Endpoints/data-metrics",
        "MetricName": "feature_baseline_drift_plan",
        "Dimensions": [{"Name": "Endpoint", "Value": _import_of("TeamServing", "ScoringEndpoint", "EndpointName")},
                       {"Name": "MonitoringSchedule", "Value": f"{MODEL_MONITOR.prefix}-data-quality"}],
    })


def test_imported_resources(result):
    template = result.template("MonitoringModelMonitor")
    template.has_resource_properties("AWS::SageMaker::DataQualityJobDefinition", {
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/team-sagemaker",
        "JobResources": {"ClusterConfig": Match.object_like({
            "VolumeKmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"})},
    })
    template.has_resource_properties("AWS::IAM::Policy", {"Roles": ["team-sagemaker"]})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmActions": [f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts"]})


def test_model_monitor_mode_synthesizes_all_four_job_types_from_config(result, objects):
    template = result.template("MonitoringModelMonitor")
    for kind in ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"):
        template.resource_count_is(f"AWS::SageMaker::{kind}JobDefinition", 1)
    template.resource_count_is("AWS::SageMaker::MonitoringSchedule", 4)
    monitoring = objects["model_monitor"]
    assert monitoring.bias is not None and monitoring.feature_attribution is not None


def test_model_monitor_quality_job_from_config_for_a_regression_model(result):
    """ground_truth_s3_uri turns the model-quality job on; a regressor gets no accuracy alarm."""
    template = result.template("MonitoringModelMonitor")
    template.has_resource_properties("AWS::SageMaker::ModelQualityJobDefinition", {
        "ModelQualityAppSpecification": Match.object_like({"ProblemType": "Regression"}),
        "ModelQualityJobInput": Match.object_like({
            "GroundTruthS3Input": {"S3Uri": "s3://team-labels/churn/"},
            "EndpointInput": Match.object_like({"InferenceAttribute": "0", "StartTimeOffset": "-PT48H",
                                                "EndTimeOffset": "-PT24H"})}),
    })
    assert f"{MODEL_MONITOR.prefix}-accuracy" not in _alarms(template)


def test_explainability_needs_model_monitor_and_the_served_model_name():
    shap = {"shap_baseline": [[1, 0]]}
    app = App(context=reference_context())
    serving = Stack(app, "Serving")
    team = own_resources(serving)
    own = MonitoringStack(app, "Own", resources=team, endpoint=_endpoint(serving), config=PlatformConfig(
        model_name="churn", monitoring_features=("tenure", "plan"), explainability=shap))
    unnamed = MonitoringStack(app, "Unnamed", resources=team, endpoint=_endpoint(serving, "Unnamed"), config=PlatformConfig(
        model_name="churn", monitoring_features=("tenure", "plan"), explainability=shap, monitoring_mode="both"))
    named = MonitoringStack(app, "Named", resources=team, endpoint=_endpoint(serving, "Named", model_name="churn-model"),
                            config=PlatformConfig(model_name="churn", monitoring_features=("tenure", "plan"),
                                                  explainability=shap, monitoring_mode="model_monitor"))
    Annotations.from_stack(own).has_warning("/Own", Match.string_like_regexp("runs only in monitoring_mode"))
    assert unnamed.feature_attribution is None
    Annotations.from_stack(unnamed).has_warning("/Unnamed", Match.string_like_regexp("needs the literal name"))
    assert named.feature_attribution is not None
    Template.from_stack(named).has_resource_properties("AWS::SageMaker::ModelExplainabilityJobDefinition", {
        "ModelExplainabilityJobInput": {"EndpointInput": Match.object_like({"EndpointName": "ep"})}})


# ------------------------------------------------------------ whole templates
def test_cdk_nag_clean(result):
    assert [f for stack in MINE for f in result.nag_findings_for(stack)] == []


@pytest.mark.parametrize("stack", MINE)
def test_cfn_lint_clean(result, stack):
    assert result.lint(stack) == []


def test_logical_ids(result, json_snapshot):
    assert {stack: logical_ids(result.json(stack)) for stack in MINE} == json_snapshot


# ----------------------------------------------------------------- bad input
def _endpoint(stack, id="E", **props):
    return MonitoredEndpoint(endpoint=ModelEndpoint.from_endpoint_name(stack, id, "ep"),
                             capture_bucket=s3.Bucket(stack, f"{id}Bucket", encryption=s3.BucketEncryption.KMS),
                             **props)


def test_options_need_model_monitor():
    app = App()
    shared = Stack(app, "Shared")
    with pytest.raises(ValueError, match="^MonitoringStack 'model_quality': invalid value ModelQualityOptions"):
        MonitoringStack(app, "M", config=OWN, resources=own_resources(shared), endpoint=_endpoint(shared),
                        model_quality=ModelQualityOptions())
    with pytest.raises(ValueError, match="^MonitoringStack 'bias': invalid value BiasOptions"):
        MonitoringStack(app, "N", config=OWN, resources=own_resources(Stack(app, "Other")), endpoint=_endpoint(shared, "F"),
                        bias=BiasOptions(facet_name="plan", headers=["tenure", "plan"]))


@pytest.mark.parametrize("props, error", [
    ({"monitor_instance_type": "ml.m5.xlarg"}, "^DataQualityMonitor 'instance_type': invalid value 'ml.m5.xlarg'"),
    ({"latency_threshold": Duration.hours(2)}, "^ModelAlarms 'latency_threshold': invalid value"),
    ({"errors_5xx_threshold": 0}, "^ModelAlarms 'errors_5xx_threshold': invalid value 0"),
])
def test_bad_props_are_refused_by_the_construct_that_owns_them(props, error):
    app = App()
    shared = Stack(app, "Shared")
    with pytest.raises(ValueError, match=error):
        MonitoringStack(app, "M", config=CONFIG, resources=own_resources(shared), endpoint=_endpoint(shared), **props)


@pytest.mark.parametrize("context, error", [
    ({"drift_threshold": 1.5}, "^config 'drift_threshold': invalid value 1.5"),
    ({"drift_window_hours": 25}, "^config 'drift_window_hours': invalid value 25"),
    ({"monitoring_mode": "shadow"}, "^config 'monitoring_mode': invalid value 'shadow'"),
])
def test_bad_settings_are_refused_where_they_enter(context, error):
    with pytest.raises(ValueError, match=error):
        PlatformConfig.from_context(context)
