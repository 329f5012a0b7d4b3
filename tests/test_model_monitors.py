"""Model Monitor constructs: job definitions, schedules, baselines, KMS, metrics, names, Clarify configs, bad input."""

import re

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker

from mlops_cdk import SageMakerExecutionRole, SecureBucket
from mlops_cdk.constructs.model_monitors import (
    SHADOW_ENDPOINT_PREFIX,
    BiasMonitor,
    DataQualityMonitor,
    FeatureAttributionMonitor,
    ModelQualityMonitor,
)
from mlops_cdk.constructs.monitor_schedule import PUBLISH_METRICS_ENV, SCHEDULE_PRESETS, schedule_expression
from tests.harness import normalized, resources_of_type, synth

HEADERS = ["age", "amount", "merchant"]
GROUND_TRUTH = "s3://labels-bucket/ground-truth/"
JOB_TYPES = {
    "DataQuality": ("AWS::SageMaker::DataQualityJobDefinition", "DataQuality"),
    "ModelQuality": ("AWS::SageMaker::ModelQualityJobDefinition", "ModelQuality"),
    "ModelBias": ("AWS::SageMaker::ModelBiasJobDefinition", "ModelBias"),
    "ModelExplainability": ("AWS::SageMaker::ModelExplainabilityJobDefinition", "ModelExplainability"),
}


@pytest.fixture(scope="module")
def built():
    """One stack with each monitor type (plus a VPC data-quality variant), synthesized once."""
    objects = {}

    def build(app):
        stack = Stack(app, "Monitors")
        bucket = SecureBucket(stack, "Data")
        role = SageMakerExecutionRole(stack, "Role")
        role.grant_bucket_read_write(bucket)
        endpoint = sagemaker.CfnEndpoint(stack, "Endpoint", endpoint_config_name="fraud-config")
        common = dict(endpoint_name=endpoint.attr_endpoint_name, role=role, output_bucket=bucket)
        objects["bucket"], objects["role"], objects["endpoint"] = bucket, role, endpoint
        objects["dq"] = DataQualityMonitor(stack, "DataQuality", schedule_name="fraud-data-quality", **common)
        objects["dq_vpc"] = DataQualityMonitor(
            stack, "DataQualityVpc", schedule="cron(0 6/12 ? * * *)", schedule_name="fraud-dq-vpc",
            statistics_s3_uri="s3://other-bucket/stats.json", constraints_s3_uri="s3://other-bucket/constraints.json",
            instance_type="ml.c5.2xlarge", instance_count=2, volume_size_gb=50, max_runtime=Duration.hours(2),
            subnet_ids=["subnet-0123456789abcdef0"], security_group_ids=["sg-0123456789abcdef0"],
            environment={"analysis_type": "full"}, **common,
        )
        objects["mq"] = ModelQualityMonitor(
            stack, "ModelQuality", schedule_name="fraud-model-quality", ground_truth_s3_uri=GROUND_TRUTH,
            problem_type="BinaryClassification", probability_attribute="0", probability_threshold=0.4,
            constraints_s3_uri="s3://other-bucket/mq-constraints.json", start_time_offset="-P2D",
            end_time_offset="-P1D", **common,
        )
        objects["bias"] = BiasMonitor(
            stack, "Bias", schedule_name="fraud-bias", ground_truth_s3_uri=GROUND_TRUTH,
            label_values_or_threshold=[1], facet_name="age", facet_values_or_threshold=[40], headers=HEADERS,
            label="is_fraud", probability_attribute="0", **common,
        )
        objects["fa"] = FeatureAttributionMonitor(
            stack, "Attribution", schedule_name="fraud-attribution", model_name="fraud-model",
            shap_baseline=[[40, 120.5, "grocery"]], headers=HEADERS, num_samples=50, **common,
        )

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def objects(built):
    return built[1]


@pytest.fixture(scope="module")
def raw(result):
    return result.json("Monitors")


def _job(raw, logical_prefix):
    (found,) = [(k, v) for k, v in raw["Resources"].items()
                if k.startswith(f"{logical_prefix}JobDefinition") and "JobDefinition" in v["Type"]]
    return found


def _schedule(raw, logical_prefix):
    (found,) = [(k, v) for k, v in raw["Resources"].items()
                if k.startswith(f"{logical_prefix}Schedule") and v["Type"] == "AWS::SageMaker::MonitoringSchedule"]
    return found


def _key(raw):
    (key,) = resources_of_type(raw, "AWS::KMS::Key")
    return {"Fn::GetAtt": [key, "Arn"]}


def _bucket(raw):
    (name,) = [k for k, v in resources_of_type(raw, "AWS::S3::Bucket").items() if "LoggingConfiguration" in v["Properties"]]
    return {"Ref": name}


def _sagemaker_role(raw):
    (name,) = [k for k, v in resources_of_type(raw, "AWS::IAM::Role").items()
               if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
               == {"Service": "sagemaker.amazonaws.com"}]
    return name


def _field(props, suffix):
    (value,) = [v for k, v in props.items() if k.endswith(suffix) and k not in ("EndpointName",)]
    return value


MONITORS = [("DataQuality", "DataQuality"), ("ModelQuality", "ModelQuality"), ("Bias", "ModelBias"),
            ("Attribution", "ModelExplainability")]


# ----------------------------------------------------------- shared structure
@pytest.mark.parametrize("logical, kind", MONITORS)
def test_job_definition_type_endpoint_and_explicit_versioned_name(raw, logical, kind):
    name, job = _job(raw, logical)
    assert job["Type"] == JOB_TYPES[kind][0]
    props = job["Properties"]
    endpoint = {"Fn::GetAtt": ["Endpoint", "EndpointName"]}
    assert props["EndpointName"] == endpoint
    assert _field(props, "JobInput")["EndpointInput"]["EndpointName"] == endpoint
    assert _field(props, "JobInput")["EndpointInput"]["LocalPath"] == "/opt/ml/processing/input/endpoint"
    _, schedule = _schedule(raw, logical)
    base = schedule["Properties"]["MonitoringScheduleName"]
    assert re.fullmatch(rf"{base}-[0-9a-f]{{8}}", props["JobDefinitionName"])


@pytest.mark.parametrize("logical, kind", MONITORS)
def test_schedule_references_its_definition_by_name_and_depends_on_it(raw, logical, kind):
    job_id, job = _job(raw, logical)
    _, schedule = _schedule(raw, logical)
    config = schedule["Properties"]["MonitoringScheduleConfig"]
    assert config["MonitoringJobDefinitionName"] == job["Properties"]["JobDefinitionName"]
    assert config["MonitoringType"] == JOB_TYPES[kind][1]
    assert schedule["DependsOn"] == [job_id]
    assert schedule["Properties"]["EndpointName"] == {"Fn::GetAtt": ["Endpoint", "EndpointName"]}


@pytest.mark.parametrize("logical, kind", MONITORS)
def test_kms_for_volumes_and_outputs_and_metrics_on(raw, logical, kind):
    _, job = _job(raw, logical)
    props = job["Properties"]
    key = _key(raw)
    assert props["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    output = _field(props, "JobOutputConfig")
    assert output["KmsKeyId"] == key
    (out,) = output["MonitoringOutputs"]
    assert out["S3Output"]["S3Uri"] == {"Fn::Join": ["", ["s3://", _bucket(raw),
                                                           f"/monitoring/{props['JobDefinitionName'][:-9]}"]]}
    assert _field(props, "AppSpecification")["Environment"][PUBLISH_METRICS_ENV] == "Enabled"
    assert props["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True


@pytest.mark.parametrize("logical, image, repo", [
    ("DataQuality", "modelmonitor", "sagemaker-model-monitor-analyzer"),
    ("ModelQuality", "modelmonitor", "sagemaker-model-monitor-analyzer"),
    ("Bias", "clarify", "sagemaker-clarify-processing:1.0"),
    ("Attribution", "clarify", "sagemaker-clarify-processing:1.0"),
])
def test_images_come_from_the_region_mapping(raw, logical, image, repo):
    _, job = _job(raw, logical)
    uri = _field(job["Properties"], "AppSpecification")["ImageUri"]["Fn::Sub"]
    assert uri[0].endswith(f"/{repo}")
    assert uri[1]["Account"] == {"Fn::FindInMap": ["SageMakerImageRegistries", {"Ref": "AWS::Region"}, image]}


def test_role_arn_is_the_given_role(raw):
    for logical, _ in MONITORS:
        _, job = _job(raw, logical)
        assert job["Properties"]["RoleArn"] == {"Fn::GetAtt": [_sagemaker_role(raw), "Arn"]}


# ---------------------------------------------------------------- data quality
def test_data_quality_defaults(raw):
    _, job = _job(raw, "DataQuality")
    props = job["Properties"]
    bucket = _bucket(raw)
    assert props["DataQualityBaselineConfig"] == {
        "ConstraintsResource": {"S3Uri": {"Fn::Join": ["", ["s3://", bucket, "/baselines/data-quality/constraints.json"]]}},
        "StatisticsResource": {"S3Uri": {"Fn::Join": ["", ["s3://", bucket, "/baselines/data-quality/statistics.json"]]}},
    }
    assert props["JobResources"]["ClusterConfig"] | {"VolumeKmsKeyId": None} == {
        "InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20, "VolumeKmsKeyId": None}
    assert props["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert props["NetworkConfig"] == {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True}
    _, schedule = _schedule(raw, "DataQuality")
    assert schedule["Properties"]["MonitoringScheduleConfig"]["ScheduleConfig"] == {
        "ScheduleExpression": "cron(0 * ? * * *)"}
    assert schedule["Properties"]["MonitoringScheduleName"] == "fraud-data-quality"


def test_data_quality_options(raw):
    _, job = _job(raw, "DataQualityVpc")
    props = job["Properties"]
    assert props["DataQualityBaselineConfig"] == {
        "ConstraintsResource": {"S3Uri": "s3://other-bucket/constraints.json"},
        "StatisticsResource": {"S3Uri": "s3://other-bucket/stats.json"},
    }
    cluster = props["JobResources"]["ClusterConfig"]
    assert (cluster["InstanceType"], cluster["InstanceCount"], cluster["VolumeSizeInGB"]) == ("ml.c5.2xlarge", 2, 50)
    assert props["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    assert props["NetworkConfig"]["VpcConfig"] == {
        "Subnets": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}
    assert props["DataQualityAppSpecification"]["Environment"] == {
        PUBLISH_METRICS_ENV: "Enabled", "analysis_type": "full"}
    _, schedule = _schedule(raw, "DataQualityVpc")
    assert schedule["Properties"]["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == \
        "cron(0 6/12 ? * * *)"


def test_data_quality_drift_metric(objects):
    metric = objects["dq"].metric_feature_baseline_drift("age")
    assert metric.namespace == "aws/sagemaker/Endpoints/data-metrics"
    assert metric.metric_name == "feature_baseline_drift_age"
    assert set(metric.dimensions) == {"Endpoint", "MonitoringSchedule"}


# --------------------------------------------------------------- model quality
def test_model_quality_inputs(raw):
    _, job = _job(raw, "ModelQuality")
    props = job["Properties"]
    assert props["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    job_input = props["ModelQualityJobInput"]
    assert job_input["GroundTruthS3Input"] == {"S3Uri": GROUND_TRUTH}
    endpoint = job_input["EndpointInput"]
    assert endpoint["ProbabilityAttribute"] == "0"
    assert endpoint["ProbabilityThresholdAttribute"] == 0.4
    assert (endpoint["StartTimeOffset"], endpoint["EndTimeOffset"]) == ("-P2D", "-P1D")
    assert "InferenceAttribute" not in endpoint
    assert props["ModelQualityBaselineConfig"] == {
        "ConstraintsResource": {"S3Uri": "s3://other-bucket/mq-constraints.json"}}
    _, schedule = _schedule(raw, "ModelQuality")
    assert schedule["Properties"]["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == \
        SCHEDULE_PRESETS["daily"]


# ------------------------------------------------------------------------ bias
def test_bias_inputs_and_shipped_analysis_config(raw, objects):
    _, job = _job(raw, "Bias")
    props = job["Properties"]
    assert props["ModelBiasJobInput"]["GroundTruthS3Input"] == {"S3Uri": GROUND_TRUTH}
    endpoint = props["ModelBiasJobInput"]["EndpointInput"]
    assert (endpoint["ProbabilityAttribute"], endpoint["ProbabilityThresholdAttribute"]) == ("0", 0.5)
    config_uri = props["ModelBiasAppSpecification"]["ConfigUri"]["Fn::Sub"]
    assert re.fullmatch(r"s3://cdk-[a-z0-9]+-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}/[0-9a-f]{64}\.json",
                        config_uri)
    assert objects["bias"].analysis_config == {
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "age", "value_or_threshold": [40]}],
        "headers": HEADERS,
        "label": "is_fraud",
    }
    assert "ModelBiasBaselineConfig" not in props


def _policy(raw, logical_prefix):
    (policy,) = [v for k, v in resources_of_type(raw, "AWS::IAM::Policy").items() if k.startswith(logical_prefix)]
    return policy["Properties"]


@pytest.mark.parametrize("logical", ["BiasReadAnalysisConfig", "AttributionReadAnalysisConfig"])
def test_role_reads_exactly_the_config_object(raw, logical):
    policy = _policy(raw, logical)
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:GetObject"
    resource = statement["Resource"]["Fn::Join"][1]
    assert re.fullmatch(r"/[0-9a-f]{64}\.json", resource[-1])
    assert "*" not in str(resource)
    assert policy["Roles"] == [{"Ref": _sagemaker_role(raw)}]


# --------------------------------------------------------- feature attribution
def test_feature_attribution_config_and_network(raw, objects):
    _, job = _job(raw, "Attribution")
    props = job["Properties"]
    assert props["NetworkConfig"]["EnableNetworkIsolation"] is False  # the job calls its shadow endpoint
    assert "ConfigUri" in props["ModelExplainabilityAppSpecification"]
    config = objects["fa"].analysis_config
    assert config["methods"]["shap"] == {"baseline": [[40, 120.5, "grocery"]], "num_samples": 50,
                                         "agg_method": "mean_abs", "use_logit": False,
                                         "save_local_shap_values": False}
    assert config["predictor"] == {"model_name": "fraud-model", "instance_type": "ml.m5.xlarge",
                                   "initial_instance_count": 1, "content_type": "text/csv",
                                   "accept_type": "text/csv", "endpoint_name_prefix": SHADOW_ENDPOINT_PREFIX}
    assert config["headers"] == HEADERS


def test_feature_attribution_shadow_endpoint_grant_is_prefix_scoped(raw):
    statements = _policy(raw, "AttributionShadowEndpoint")["PolicyDocument"]["Statement"]
    manage = [s for s in statements if s["Sid"] == "ManageClarifyShadowEndpoints"][0]
    tails = sorted(r["Fn::Join"][1][-1] for r in manage["Resource"])
    assert tails == [f":endpoint-config/{SHADOW_ENDPOINT_PREFIX}*", f":endpoint/{SHADOW_ENDPOINT_PREFIX}*"]
    describe = [s for s in statements if s["Sid"] == "DescribeExplainedModel"][0]
    assert describe["Resource"]["Fn::Join"][1][-1] == ":model/fraud-model"


# ------------------------------------------------------------ whole template
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert result.lint("Monitors") == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# ------------------------------------------------------------- names (no synth)
def _names(**overrides):
    app = App()
    stack = Stack(app, "S")
    bucket, role = SecureBucket(stack, "B"), SageMakerExecutionRole(stack, "R")
    monitor = DataQualityMonitor(stack, "DQ", endpoint_name="ep", role=role, output_bucket=bucket,
                                 schedule_name="ep-dq", **overrides)
    return stack.resolve(monitor.job_definition_name)


def test_job_definition_name_changes_with_its_properties_only():
    base = _names()
    assert base == _names()  # deterministic
    assert base.startswith("ep-dq-")
    assert _names(instance_type="ml.m5.2xlarge") != base  # replacement gets a fresh name
    assert _names(schedule="daily") == base  # schedule-only change: updated in place, same definition


@pytest.mark.parametrize("value, expected", [
    ("hourly", ("cron(0 * ? * * *)", 1)),
    ("daily", ("cron(0 0 ? * * *)", 24)),
    ("cron(0 12 ? * * *)", ("cron(0 12 ? * * *)", 24)),
    ("cron(0 17/12 ? * * *)", ("cron(0 17/12 ? * * *)", 12)),
    ("cron(0 0/2 ? * * *)", ("cron(0 0/2 ? * * *)", 2)),
])
def test_schedule_expressions(value, expected):
    assert schedule_expression("X", "schedule", value) == expected


# ---------------------------------------------------------------- bad input
def _build(cls, **props):
    app = App()
    stack = Stack(app, "S")
    bucket, role = SecureBucket(stack, "B"), SageMakerExecutionRole(stack, "R")
    base = dict(endpoint_name="ep", role=role, output_bucket=bucket)
    if cls in (ModelQualityMonitor, BiasMonitor):
        base["ground_truth_s3_uri"] = GROUND_TRUTH
    if cls in (ModelQualityMonitor, BiasMonitor):
        base["probability_attribute"] = "0"
    if cls is BiasMonitor:
        base.update(label_values_or_threshold=[1], facet_name="age")
    if cls is FeatureAttributionMonitor:
        base.update(model_name="m", shap_baseline=[[1, 2]])
    base.update(props)
    return cls(stack, "M", **base)


@pytest.mark.parametrize("cls, props, prop", [
    (DataQualityMonitor, {"schedule": "weekly"}, "schedule"),
    (DataQualityMonitor, {"schedule": "cron(0 12 * * ? *)"}, "schedule"),
    (DataQualityMonitor, {"schedule": "cron(30 * ? * * *)"}, "schedule"),
    (DataQualityMonitor, {"schedule": "cron(0 24 ? * * *)"}, "schedule"),
    (DataQualityMonitor, {"schedule": "cron(0 0/25 ? * * *)"}, "schedule"),
    (DataQualityMonitor, {"schedule": "rate(1 hour)"}, "schedule"),
    (DataQualityMonitor, {"max_runtime": Duration.hours(2)}, "max_runtime"),  # hourly: at most 1 h
    (DataQualityMonitor, {"schedule": "daily", "max_runtime": Duration.hours(25)}, "max_runtime"),
    (DataQualityMonitor, {"endpoint_name": "bad_name"}, "endpoint_name"),
    (DataQualityMonitor, {"schedule_name": "x" * 55}, "schedule_name"),
    (DataQualityMonitor, {"schedule_name": "has_underscore"}, "schedule_name"),
    (DataQualityMonitor, {"instance_type": "m5.xlarge"}, "instance_type"),
    (DataQualityMonitor, {"instance_count": 0}, "instance_count"),
    (DataQualityMonitor, {"volume_size_gb": 0}, "volume_size_gb"),
    (DataQualityMonitor, {"subnet_ids": ["subnet-0123456789abcdef0"]}, "security_group_ids"),
    (DataQualityMonitor, {"subnet_ids": "subnet-0123456789abcdef0"}, "subnet_ids"),
    (DataQualityMonitor, {"environment": {"1bad": "x"}}, "environment"),
    (DataQualityMonitor, {"output_prefix": "/monitoring/"}, "output_prefix"),
    (DataQualityMonitor, {"statistics_s3_uri": "bucket/stats.json"}, "statistics_s3_uri"),
    (DataQualityMonitor, {"role": "arn:aws:iam::123456789012:role/x"}, "role"),
    (DataQualityMonitor, {"network_isolation": "yes"}, "network_isolation"),
    (ModelQualityMonitor, {"ground_truth_s3_uri": None}, "ground_truth_s3_uri"),
    (ModelQualityMonitor, {"ground_truth_s3_uri": "ground-truth/"}, "ground_truth_s3_uri"),
    (ModelQualityMonitor, {"problem_type": "Ranking"}, "problem_type"),
    (ModelQualityMonitor, {"probability_attribute": None}, "inference_attribute"),
    (ModelQualityMonitor, {"problem_type": "Regression"}, "inference_attribute"),
    (ModelQualityMonitor, {"problem_type": "Regression", "inference_attribute": "0"}, "probability_attribute"),
    (ModelQualityMonitor, {"problem_type": "MulticlassClassification", "probability_attribute": None},
     "inference_attribute"),
    (ModelQualityMonitor, {"probability_threshold": 1.5}, "probability_threshold"),
    (ModelQualityMonitor, {"probability_threshold": -0.1}, "probability_threshold"),
    (ModelQualityMonitor, {"probability_attribute": None, "inference_attribute": "0", "probability_threshold": 0.5},
     "probability_threshold"),
    (ModelQualityMonitor, {"start_time_offset": "P1D"}, "start_time_offset"),
    (ModelQualityMonitor, {"start_time_offset": "-P1D", "end_time_offset": "-P2D"}, "start_time_offset"),
    (BiasMonitor, {"ground_truth_s3_uri": None}, "ground_truth_s3_uri"),
    (BiasMonitor, {"facet_name": None}, "facet_name"),
    (BiasMonitor, {"label_values_or_threshold": []}, "label_values_or_threshold"),
    (BiasMonitor, {"facet_name": ["a", "b"], "facet_values_or_threshold": [1]}, "facet_values_or_threshold"),
    (BiasMonitor, {"headers": ["a", "a"]}, "headers"),
    (BiasMonitor, {"analysis_config_uri": "s3://bkt/analysis_config.json"}, "label_values_or_threshold"),
    (FeatureAttributionMonitor, {"model_name": None}, "model_name"),
    (FeatureAttributionMonitor, {"shap_baseline": [[1, 2], [1]]}, "shap_baseline"),
    (FeatureAttributionMonitor, {"shap_baseline": [[1, 2]], "headers": ["a", "b", "c"]}, "shap_baseline"),
    (FeatureAttributionMonitor, {"agg_method": "max"}, "agg_method"),
    (FeatureAttributionMonitor, {"num_samples": 0}, "num_samples"),
    (FeatureAttributionMonitor, {"accept_type": "text/plain"}, "accept_type"),
])
def test_bad_props_name_the_prop(cls, props, prop):
    with pytest.raises(ValueError, match=rf"^{cls.__name__} '{re.escape(prop)}': invalid value"):
        _build(cls, **props)


def test_generated_config_rejects_tokens():
    app = App()
    stack = Stack(app, "S")
    endpoint = sagemaker.CfnEndpoint(stack, "E", endpoint_config_name="c")
    with pytest.raises(ValueError, match="literal values"):
        _build_in(stack, FeatureAttributionMonitor, model_name=endpoint.attr_endpoint_name, shap_baseline=[[1]])


def _build_in(stack, cls, **props):
    bucket, role = SecureBucket(stack, "B"), SageMakerExecutionRole(stack, "R")
    return cls(stack, "M", endpoint_name="ep", role=role, output_bucket=bucket, **props)


def test_given_analysis_config_uri_is_used_as_is_without_grants():
    app = App()
    stack = Stack(app, "S")
    monitor = _build_in(stack, BiasMonitor, ground_truth_s3_uri=GROUND_TRUTH, inference_attribute="0",
                        analysis_config_uri="s3://bkt/bias/analysis_config.json")
    assert monitor.analysis_config_uri == "s3://bkt/bias/analysis_config.json"
    assert monitor.node.try_find_child("ReadAnalysisConfig") is None


def test_bucket_without_key_needs_an_encryption_key():
    from aws_cdk import aws_s3 as s3

    app = App()
    stack = Stack(app, "S")
    bucket = s3.Bucket.from_bucket_name(stack, "B", "plain-bucket")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    with pytest.raises(ValueError, match="DataQualityMonitor 'encryption_key'"):
        DataQualityMonitor(stack, "M", endpoint_name="ep", role=role, output_bucket=bucket)
