"""Model Monitor constructs: job definitions, schedules, grants, baselines, Clarify configs, BYO resources, bad input."""

import json
import re

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Capture, Match

from mlops_cdk import locations
from mlops_cdk.constructs.monitoring.clarify_monitors import BiasMonitor, FeatureAttributionMonitor
from mlops_cdk.constructs.monitoring.data_quality import DataQualityMonitor
from mlops_cdk.constructs.monitoring.model_quality import ModelQualityMonitor
from mlops_cdk.constructs.serving.model_endpoint import ModelEndpoint
from mlops_cdk.settings.monitoring import (
    BiasOptions,
    FeatureAttributionOptions,
    ModelQualityOptions,
    MonitorSchedule,
)
from tests.harness import ACCOUNT, imported_resources, logical_ids, synth

ENDPOINT = "fraud-endpoint"
HEADERS = ["age", "amount", "merchant"]
JOB_TYPES = {
    "DataQuality": "AWS::SageMaker::DataQualityJobDefinition",
    "ModelQuality": "AWS::SageMaker::ModelQualityJobDefinition",
    "ModelBias": "AWS::SageMaker::ModelBiasJobDefinition",
    "ModelExplainability": "AWS::SageMaker::ModelExplainabilityJobDefinition",
}
# construct id -> (schedule name, monitoring type)
MONITORS = {
    "DataQuality": ("fraud-data-quality", "DataQuality"),
    "ModelQuality": ("fraud-model-quality", "ModelQuality"),
    "Bias": ("fraud-bias", "ModelBias"),
    "Attribution": ("fraud-attribution", "ModelExplainability"),
}


def _plain(stack):
    """A team's plain aws-cdk-lib key, bucket and role (no mlops_cdk class)."""
    key = kms.Key(stack, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
    bucket = s3.Bucket(stack, "Data", encryption_key=key, enforce_ssl=True, server_access_logs_prefix="logs/",
                       block_public_access=s3.BlockPublicAccess.BLOCK_ALL, removal_policy=RemovalPolicy.DESTROY)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    return key, bucket, role


def _monitors(stack, common):
    """One monitor of each kind, named as in MONITORS."""
    return {
        "DataQuality": DataQualityMonitor(stack, "DataQuality", schedule_name="fraud-data-quality", **common),
        "ModelQuality": ModelQualityMonitor(
            stack, "ModelQuality", schedule_name="fraud-model-quality",
            options=ModelQualityOptions(probability_threshold=0.4, start_time_offset="-P2D", end_time_offset="-P1D",
                                        constraints_key="baselines/model-quality/constraints.json"), **common),
        "Bias": BiasMonitor(
            stack, "Bias", schedule_name="fraud-bias",
            options=BiasOptions(facet_name="age", facet_values_or_threshold=[40], headers=HEADERS, label="is_fraud"),
            **common),
        "Attribution": FeatureAttributionMonitor(
            stack, "Attribution", schedule_name="fraud-attribution",
            options=FeatureAttributionOptions(model_name="fraud-model", shap_baseline=[[40, 120.5, "grocery"]],
                                              headers=HEADERS, num_samples=50), **common),
    }


@pytest.fixture(scope="module")
def built():
    """Plain resources (one stack), imported ones (another) and an immutable role (a third), synthesized once."""
    objects = {}

    def build(app):
        stack = Stack(app, "Monitors")
        key, bucket, role = _plain(stack)
        common = dict(endpoint=ModelEndpoint.from_endpoint_name(stack, "Endpoint", ENDPOINT), role=role,
                      output_bucket=bucket)
        objects.update(stack=stack, key=key, bucket=bucket, role=role, **_monitors(stack, common))
        vpc = Stack(app, "Vpc")
        key, bucket, role = _plain(vpc)
        objects["vpc"] = DataQualityMonitor(
            vpc, "DataQuality", endpoint=ModelEndpoint.from_endpoint_name(vpc, "Endpoint", ENDPOINT), role=role,
            output_bucket=bucket, schedule=MonitorSchedule.every(12, starting_hour=6), schedule_name="fraud-dq-vpc",
            statistics_key="other/stats.json", constraints_key="other/constraints.json",
            instance_type="ml.c5.2xlarge", instance_count=2, volume_size_gb=50, max_runtime=Duration.hours(2),
            subnets=[ec2.Subnet.from_subnet_attributes(vpc, "Subnet", subnet_id="subnet-0123456789abcdef0",
                                                       route_table_id="rtb-0123456789abcdef0")],
            security_groups=[ec2.SecurityGroup.from_security_group_id(vpc, "Group", "sg-0123456789abcdef0")],
            environment={"analysis_type": "full"})
        imported = Stack(app, "Imported")
        team = imported_resources(imported)
        objects["imported"] = _monitors(imported, dict(
            endpoint=ModelEndpoint.from_endpoint_name(imported, "Endpoint", ENDPOINT), role=team.execution_role,
            output_bucket=team.data_bucket))
        immutable = Stack(app, "Immutable")
        team = imported_resources(immutable, mutable_role=False)
        DataQualityMonitor(immutable, "DataQuality", endpoint=ModelEndpoint.from_endpoint_name(
            immutable, "Endpoint", ENDPOINT), role=team.execution_role, output_bucket=team.data_bucket)

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def objects(built):
    return built[1]


@pytest.fixture(scope="module")
def template(result):
    return result.template("Monitors")


@pytest.fixture(scope="module")
def ref(objects):
    """How the template spells a value of the plain stack (``ref(bucket.bucket_arn)``)."""
    return objects["stack"].resolve


def _policy_statements(template, monitor_id):
    (policy,) = [p for k, p in template.find_resources("AWS::IAM::Policy").items()
                 if k.startswith(f"{monitor_id}JobPermissions")]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


# ----------------------------------------------------------- shared structure
@pytest.mark.parametrize("monitor_id", MONITORS)
def test_job_definition_runs_as_the_role_on_the_endpoint_with_the_key(template, objects, ref, monitor_id):
    schedule_name, kind = MONITORS[monitor_id]
    key_arn = ref(objects["key"].key_arn)
    template.has_resource_properties(JOB_TYPES[kind], {
        "EndpointName": ENDPOINT,
        "RoleArn": ref(objects["role"].role_arn),
        "JobDefinitionName": Match.string_like_regexp(rf"^{schedule_name}-[0-9a-f]{{8}}$"),
        "JobResources": {"ClusterConfig": Match.object_like({"VolumeKmsKeyId": key_arn})},
        "NetworkConfig": Match.object_like({"EnableInterContainerTrafficEncryption": True}),
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        f"{kind}JobOutputConfig": {
            "KmsKeyId": key_arn,
            "MonitoringOutputs": [{"S3Output": {
                "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob",
                "S3Uri": ref(f"s3://{objects['bucket'].bucket_name}/monitoring/{schedule_name}")}}],
        },
    })


@pytest.mark.parametrize("monitor_id", MONITORS)
def test_schedule_names_its_versioned_definition_and_depends_on_it(template, monitor_id):
    schedule_name, kind = MONITORS[monitor_id]
    name = Capture()
    template.has_resource_properties(JOB_TYPES[kind], {"JobDefinitionName": name,
                                                       "EndpointName": ENDPOINT})
    template.has_resource("AWS::SageMaker::MonitoringSchedule", {
        "Properties": Match.object_like({
            "MonitoringScheduleName": schedule_name,
            "EndpointName": ENDPOINT,
            "MonitoringScheduleConfig": {
                "MonitoringJobDefinitionName": name.as_string(),
                "MonitoringType": kind,
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)" if kind == "DataQuality"
                                   else "cron(0 0 ? * * *)"},
            },
        }),
        "DependsOn": [Match.string_like_regexp(f"^{monitor_id}JobDefinition")],
    })


@pytest.mark.parametrize("monitor_id, repository, image", [
    ("DataQuality", "sagemaker-model-monitor-analyzer", "modelmonitor"),
    ("ModelQuality", "sagemaker-model-monitor-analyzer", "modelmonitor"),
    ("Bias", "sagemaker-clarify-processing:1.0", "clarify"),
    ("Attribution", "sagemaker-clarify-processing:1.0", "clarify"),
])
def test_images_come_from_the_region_mapping(template, monitor_id, repository, image):
    kind = MONITORS[monitor_id][1]
    registry = {"Fn::FindInMap": ["SageMakerImageRegistries", {"Ref": "AWS::Region"}, image]}
    template.has_resource_properties(JOB_TYPES[kind], {f"{kind}AppSpecification": Match.object_like({
        "ImageUri": {"Fn::Sub": [Match.string_like_regexp(f"/{re.escape(repository)}$"), {"Account": registry}]},
        "Environment": Match.object_like({"publish_cloudwatch_metrics": "Enabled"}),
    })})


@pytest.mark.parametrize("monitor_id", MONITORS)
def test_role_reads_this_endpoints_capture_and_writes_this_schedules_reports(template, objects, ref, monitor_id):
    schedule_name = MONITORS[monitor_id][0]
    bucket = objects["bucket"]
    statements = _policy_statements(template, monitor_id)
    assert statements["ReadCapturedData"]["Action"] == "s3:GetObject"
    assert statements["ReadCapturedData"]["Resource"] == ref(bucket.arn_for_objects(f"data-capture/{ENDPOINT}/*"))
    assert statements["ListCapturedData"]["Resource"] == ref(bucket.bucket_arn)
    assert statements["ListCapturedData"]["Condition"] == {
        "StringLike": {"s3:prefix": [f"data-capture/{ENDPOINT}/", f"data-capture/{ENDPOINT}/*"]}}
    assert statements["WriteReports"] == {
        "Sid": "WriteReports", "Effect": "Allow", "Action": "s3:PutObject",
        "Resource": ref(bucket.arn_for_objects(f"monitoring/{schedule_name}/*"))}
    key = ref(objects["key"].key_arn)
    assert statements["EncryptOutputs"]["Resource"] == key
    assert statements["EncryptVolumes"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert "DecryptInputs" not in statements  # every object here is encrypted with the monitor's key


def test_role_policies_attach_to_the_role_and_grant_no_action_wildcard(template, objects, ref):
    policies = template.find_resources("AWS::IAM::Policy")
    assert len(policies) == len(MONITORS)
    for policy in policies.values():
        assert policy["Properties"]["Roles"] == [ref(objects["role"].role_name)]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not [a for a in actions if "*" in a], statement
            if statement["Resource"] == "*":
                assert set(actions) <= {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}, statement


def test_metrics_are_limited_to_sagemaker_endpoint_namespaces(template):
    statement = _policy_statements(template, "DataQuality")["PublishMetrics"]
    assert statement["Condition"] == {"StringLike": {"cloudwatch:namespace": "aws/sagemaker/Endpoints/*"}}


# ---------------------------------------------------------------- data quality
def test_data_quality_reads_the_published_baselines(template, objects, ref):
    bucket = objects["bucket"]
    template.has_resource_properties(JOB_TYPES["DataQuality"], {
        "DataQualityBaselineConfig": {
            "ConstraintsResource": {"S3Uri": ref(f"s3://{bucket.bucket_name}/{locations.DATA_QUALITY_CONSTRAINTS}")},
            "StatisticsResource": {"S3Uri": ref(f"s3://{bucket.bucket_name}/{locations.DATA_QUALITY_STATISTICS}")},
        },
        "JobResources": {"ClusterConfig": Match.object_like({
            "InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20})},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True},
    })
    statements = _policy_statements(template, "DataQuality")
    assert statements["ReadStatistics"]["Resource"] == ref(bucket.arn_for_objects(locations.DATA_QUALITY_STATISTICS))
    assert statements["ReadConstraints"]["Resource"] == ref(
        bucket.arn_for_objects(locations.DATA_QUALITY_CONSTRAINTS))


def test_data_quality_in_a_vpc_with_its_own_cluster(result):
    template = result.template("Vpc")
    template.has_resource_properties(JOB_TYPES["DataQuality"], {
        "JobResources": {"ClusterConfig": Match.object_like({
            "InstanceType": "ml.c5.2xlarge", "InstanceCount": 2, "VolumeSizeInGB": 50})},
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
        "NetworkConfig": Match.object_like({"VpcConfig": {"Subnets": ["subnet-0123456789abcdef0"],
                                                          "SecurityGroupIds": ["sg-0123456789abcdef0"]}}),
        "DataQualityAppSpecification": Match.object_like({
            "Environment": {"publish_cloudwatch_metrics": "Enabled", "analysis_type": "full"}}),
    })
    template.has_resource_properties("AWS::SageMaker::MonitoringSchedule", {"MonitoringScheduleConfig": Match.object_like(
        {"ScheduleConfig": {"ScheduleExpression": "cron(0 6/12 ? * * *)"}})})
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "NetworkInterfaces", "Action": Match.array_with(["ec2:CreateNetworkInterface"])})])}})


def test_data_quality_drift_metric(objects):
    metric = objects["DataQuality"].metric_feature_baseline_drift("age")
    assert (metric.namespace, metric.metric_name) == ("aws/sagemaker/Endpoints/data-metrics",
                                                      "feature_baseline_drift_age")
    assert (metric.statistic, metric.period.to_hours()) == ("Maximum", 1)
    assert metric.dimensions == {"Endpoint": ENDPOINT, "MonitoringSchedule": "fraud-data-quality"}


# --------------------------------------------------------------- model quality
def test_model_quality_reads_the_score_ground_truth_and_constraints(template, objects, ref):
    bucket = objects["bucket"]
    template.has_resource_properties(JOB_TYPES["ModelQuality"], {
        "ModelQualityAppSpecification": Match.object_like({"ProblemType": "BinaryClassification"}),
        "ModelQualityJobInput": {
            "EndpointInput": {
                "EndpointName": ENDPOINT, "LocalPath": "/opt/ml/processing/input/endpoint",
                "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated",
                "ProbabilityAttribute": "0", "ProbabilityThresholdAttribute": 0.4,
                "StartTimeOffset": "-P2D", "EndTimeOffset": "-P1D",
            },
            "GroundTruthS3Input": {"S3Uri": ref(f"s3://{bucket.bucket_name}/ground-truth/")},
        },
        "ModelQualityBaselineConfig": {"ConstraintsResource": {
            "S3Uri": ref(f"s3://{bucket.bucket_name}/baselines/model-quality/constraints.json")}},
    })
    statements = _policy_statements(template, "ModelQuality")
    assert statements["ReadGroundTruth"]["Resource"] == ref(bucket.arn_for_objects("ground-truth/*"))
    assert statements["ListGroundTruth"]["Condition"] == {"StringLike": {"s3:prefix": ["ground-truth/",
                                                                                      "ground-truth/*"]}}
    assert statements["ReadConstraints"]["Resource"] == ref(
        bucket.arn_for_objects("baselines/model-quality/constraints.json"))


def test_model_quality_metric(objects):
    metric = objects["ModelQuality"].metric_accuracy()
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        "aws/sagemaker/Endpoints/model-metrics", "accuracy", "Average")


# ------------------------------------------------------------------ Clarify
def test_bias_job_reads_ground_truth_and_its_shipped_config(template, objects):
    config_uri = Capture()
    template.has_resource_properties(JOB_TYPES["ModelBias"], {
        "ModelBiasAppSpecification": Match.object_like({"ConfigUri": config_uri}),
        "ModelBiasJobInput": Match.object_like({"EndpointInput": Match.object_like(
            {"ProbabilityAttribute": "0", "ProbabilityThresholdAttribute": 0.5,
             # no offsets given, daily: the day that ended a day ago, so its labels had a day to arrive
             "StartTimeOffset": "-PT48H", "EndTimeOffset": "-PT24H"})}),
        "ModelBiasBaselineConfig": Match.absent(),
    })
    assert re.fullmatch(r"s3://cdk-[a-z0-9]+-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}/[0-9a-f]{64}\.json",
                        config_uri.as_object()["Fn::Sub"])
    assert objects["Bias"].analysis_config == {
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "age", "value_or_threshold": [40]}],
        "headers": HEADERS,
        "label": "is_fraud",
    }


@pytest.mark.parametrize("monitor_id", ["Bias", "Attribution"])
def test_role_reads_exactly_its_analysis_config(template, monitor_id):
    statement = _policy_statements(template, monitor_id)["ReadAnalysisConfig"]
    assert statement["Action"] == "s3:GetObject"
    assert re.search(r"/[0-9a-f]{64}\.json$", statement["Resource"]["Fn::Join"][1][-1])
    assert "*" not in json.dumps(statement["Resource"])


def test_feature_attribution_calls_a_shadow_endpoint_of_its_model(template, objects):
    template.has_resource_properties(JOB_TYPES["ModelExplainability"], {
        "NetworkConfig": Match.object_like({"EnableNetworkIsolation": False}),
        "ModelExplainabilityAppSpecification": Match.object_like({"ConfigUri": Match.any_value()}),
    })
    config = objects["Attribution"].analysis_config
    assert config["methods"]["shap"] == {"baseline": [[40, 120.5, "grocery"]], "num_samples": 50,
                                         "agg_method": "mean_abs", "use_logit": False,
                                         "save_local_shap_values": False}
    assert config["predictor"] == {"model_name": "fraud-model", "instance_type": "ml.m5.xlarge",
                                   "initial_instance_count": 1, "content_type": "text/csv",
                                   "accept_type": "text/csv", "endpoint_name_prefix": "mlops-clarify-shadow"}
    statements = _policy_statements(template, "Attribution")
    tails = sorted(r["Fn::Join"][1][-1] for r in statements["ManageClarifyShadowEndpoints"]["Resource"])
    assert tails == [":endpoint-config/mlops-clarify-shadow*", ":endpoint/mlops-clarify-shadow*"]
    assert statements["DescribeExplainedModel"]["Resource"]["Fn::Join"][1][-1] == ":model/fraud-model"


# ------------------------------------------------------------ bring your own
def test_imported_role_bucket_and_key(result):
    template = result.template("Imported")
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    for kind in JOB_TYPES.values():
        template.has_resource_properties(kind, {
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/team-sagemaker",
            "JobResources": {"ClusterConfig": Match.object_like({"VolumeKmsKeyId": key})},
        })
    policies = template.find_resources("AWS::IAM::Policy")
    assert len(policies) == len(MONITORS)
    for monitor_id, (schedule_name, _) in MONITORS.items():
        statements = _policy_statements(template, monitor_id)
        assert statements["EncryptOutputs"]["Resource"] == key
        assert statements["WriteReports"]["Resource"]["Fn::Join"][1][-1] == \
            f":s3:::team-ml-data/monitoring/{schedule_name}/*"
    for policy in policies.values():
        assert policy["Properties"]["Roles"] == ["team-sagemaker"]


@pytest.mark.parametrize("cls", [ModelQualityMonitor, BiasMonitor, DataQualityMonitor, FeatureAttributionMonitor])
def test_hourly_runtime_limit_per_monitor_type(cls):
    """MonitoringStoppingCondition: hourly data quality and explainability up to 3600 s, model quality and bias 1800."""
    hourly = MonitorSchedule.hourly()
    options = {ModelQualityMonitor: {"options": ModelQualityOptions(schedule=hourly)},
               BiasMonitor: {"options": BiasOptions(facet_name=0, schedule=hourly)},
               DataQualityMonitor: {"schedule": hourly},
               FeatureAttributionMonitor: {"options": FeatureAttributionOptions(
                   model_name="m", shap_baseline=[[1, 2]], schedule=hourly)}}[cls]
    limit = 1800 if cls in (ModelQualityMonitor, BiasMonitor) else 3600
    monitor = _build(cls, **options)
    assert monitor.job_definition.stopping_condition.max_runtime_in_seconds == limit  # the default fits
    assert _build(cls, **options, max_runtime=Duration.seconds(limit)).job_definition.stopping_condition \
        .max_runtime_in_seconds == limit
    with pytest.raises(ValueError, match=rf"^{cls.__name__} 'max_runtime': invalid value"):
        _build(cls, **options, max_runtime=Duration.seconds(limit + 1))
    daily = {k: (type(v)(**{**v.__dict__, "schedule": MonitorSchedule.daily()}) if k == "options" else
                 MonitorSchedule.daily()) for k, v in options.items()}
    assert _build(cls, **daily).job_definition.stopping_condition.max_runtime_in_seconds == 3600


def test_an_hourly_model_quality_refusal_says_why():
    with pytest.raises(ValueError) as err:
        _build(ModelQualityMonitor, options=ModelQualityOptions(schedule=MonitorSchedule.hourly()),
               max_runtime=Duration.minutes(45))
    assert str(err.value).startswith("ModelQualityMonitor 'max_runtime': invalid value '45 minutes'; allowed: "
                                     "a Duration from 1 second to 30 minutes on an hourly schedule")
    assert "at most 1800 s" in str(err.value)


def test_an_immutable_role_gets_no_policy(result):
    template = result.template("Immutable")
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.resource_count_is(JOB_TYPES["DataQuality"], 1)


# ------------------------------------------------------------ whole templates
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


@pytest.mark.parametrize("stack", ["Monitors", "Vpc", "Imported", "Immutable"])
def test_cfn_lint_clean(result, stack):
    assert result.lint(stack) == []


def test_logical_ids(result, json_snapshot):
    assert {stack: logical_ids(result.json(stack)) for stack in ("Monitors", "Imported")} == json_snapshot


# ------------------------------------------------------------- names (no synth)
def _name(**overrides):
    stack = Stack(App(), "S")
    key, bucket, role = _plain(stack)
    monitor = DataQualityMonitor(stack, "DQ", endpoint=ModelEndpoint.from_endpoint_name(stack, "E", "ep"), role=role,
                                 output_bucket=bucket, schedule_name="ep-dq", **overrides)
    return stack.resolve(monitor.job_definition_name)


def test_job_definition_name_changes_with_its_properties_only():
    base = _name()
    assert base == _name()  # deterministic
    assert re.fullmatch(r"ep-dq-[0-9a-f]{8}", base)
    assert _name(instance_type="ml.m5.2xlarge") != base  # replacement gets a fresh name
    assert _name(schedule=MonitorSchedule.daily()) == base  # schedule-only change: updated in place


# ------------------------------------------------------------------ schedules
@pytest.mark.parametrize("schedule, expression, interval", [
    (MonitorSchedule.hourly(), "cron(0 * ? * * *)", 1),
    (MonitorSchedule.daily(), "cron(0 0 ? * * *)", 24),
    (MonitorSchedule.daily(hour=12), "cron(0 12 ? * * *)", 24),
    (MonitorSchedule.every(12, starting_hour=17), "cron(0 17/12 ? * * *)", 24),  # 17 h only, then 17 h next day
    (MonitorSchedule.every(2), "cron(0 0/2 ? * * *)", 2),
    (MonitorSchedule.every(5), "cron(0 0/5 ? * * *)", 4),  # 20 h -> 0 h is the shortest gap
])
def test_schedule_expressions_and_intervals(schedule, expression, interval):
    assert (schedule.expression, schedule.interval_hours, schedule.interval.to_hours()) == (
        expression, interval, interval)


@pytest.mark.parametrize("make, prop", [
    (lambda: MonitorSchedule.daily(hour=24), "hour"),
    (lambda: MonitorSchedule.every(0), "hours"),
    (lambda: MonitorSchedule.every(25), "hours"),
    (lambda: MonitorSchedule.every(6, starting_hour=-1), "starting_hour"),
])
def test_bad_schedules_name_the_argument(make, prop):
    with pytest.raises(ValueError, match=rf"^MonitorSchedule '{prop}': invalid value"):
        make()


# ---------------------------------------------------------------- bad input
def _build(cls, **props):
    stack = Stack(App(), "S")
    key, bucket, role = _plain(stack)
    base = dict(endpoint=ModelEndpoint.from_endpoint_name(stack, "E", "ep"), role=role, output_bucket=bucket)
    if cls is BiasMonitor:
        base["options"] = BiasOptions(facet_name=0)
    if cls is FeatureAttributionMonitor:
        base["options"] = FeatureAttributionOptions(model_name="m", shap_baseline=[[1, 2]])
    base.update(props)
    return cls(stack, "M", **base)


@pytest.mark.parametrize("cls, props, prop", [
    (DataQualityMonitor, {"schedule": "hourly"}, "schedule"),
    (DataQualityMonitor, {"max_runtime": Duration.hours(2)}, "max_runtime"),  # hourly: at most 1 h
    (DataQualityMonitor, {"schedule": MonitorSchedule.every(5), "max_runtime": Duration.hours(5)}, "max_runtime"),
    (DataQualityMonitor, {"max_runtime": Duration.millis(1500)}, "max_runtime"),
    (DataQualityMonitor, {"schedule_name": "x" * 55}, "schedule_name"),
    (DataQualityMonitor, {"schedule_name": "has_underscore"}, "schedule_name"),
    (DataQualityMonitor, {"instance_type": "ml.m5.xlarg"}, "instance_type"),
    (DataQualityMonitor, {"instance_type": "m5.xlarge"}, "instance_type"),
    (DataQualityMonitor, {"instance_count": 0}, "instance_count"),
    (DataQualityMonitor, {"volume_size_gb": 0}, "volume_size_gb"),
    (DataQualityMonitor, {"subnets": "subnet-0123456789abcdef0"}, "subnets"),
    (DataQualityMonitor, {"environment": {"1bad": "x"}}, "environment"),
    (DataQualityMonitor, {"output_prefix": "/monitoring/"}, "output_prefix"),
    (DataQualityMonitor, {"capture_prefix": "data-*"}, "capture_prefix"),
    (DataQualityMonitor, {"statistics_key": "baselines/"}, "statistics_key"),
    (DataQualityMonitor, {"network_isolation": "yes"}, "network_isolation"),
    (DataQualityMonitor, {"enable_cloudwatch_metrics": 1}, "enable_cloudwatch_metrics"),
    (ModelQualityMonitor, {"options": {"problem_type": "Regression"}}, "options"),
    (ModelQualityMonitor, {"ground_truth_prefix": "/labels/"}, "ground_truth_prefix"),
    (BiasMonitor, {"options": ModelQualityOptions()}, "options"),
    (FeatureAttributionMonitor, {"options": None}, "options"),
    # hourly model-quality and bias jobs: SageMaker allows 1800 s (ground-truth merge + analysis)
    (ModelQualityMonitor, {"options": ModelQualityOptions(schedule=MonitorSchedule.hourly()),
                           "max_runtime": Duration.hours(1)}, "max_runtime"),
    (BiasMonitor, {"options": BiasOptions(facet_name=0, schedule=MonitorSchedule.hourly()),
                   "max_runtime": Duration.minutes(31)}, "max_runtime"),
])
def test_bad_props_name_the_prop(cls, props, prop):
    with pytest.raises(ValueError, match=rf"^{cls.__name__} '{re.escape(prop)}': invalid value"):
        _build(cls, **props)


def test_vpc_needs_subnets_and_security_groups():
    stack = Stack(App(), "S")
    subnet = ec2.Subnet.from_subnet_id(stack, "Subnet", "subnet-0123456789abcdef0")
    with pytest.raises(ValueError, match="^DataQualityMonitor 'security_groups': invalid value"):
        DataQualityMonitor(stack, "M", endpoint=ModelEndpoint.from_endpoint_name(stack, "E", "ep"),
                           role=iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
                           output_bucket=s3.Bucket(stack, "B", encryption=s3.BucketEncryption.KMS),
                           subnets=[subnet])


def test_a_bucket_without_key_needs_an_encryption_key():
    stack = Stack(App(), "S")
    bucket = s3.Bucket.from_bucket_name(stack, "B", "plain-bucket")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    with pytest.raises(ValueError, match="^DataQualityMonitor 'encryption_key': invalid value None"):
        DataQualityMonitor(stack, "M", endpoint=ModelEndpoint.from_endpoint_name(stack, "E", "ep"), role=role,
                           output_bucket=bucket)


@pytest.mark.parametrize("make, owner, prop", [
    (lambda: ModelQualityOptions(problem_type="Ranking"), "ModelQualityOptions", "problem_type"),
    (lambda: ModelQualityOptions(problem_type="Regression"), "ModelQualityOptions", "inference_attribute"),
    (lambda: ModelQualityOptions(problem_type="Regression", inference_attribute="0", probability_attribute="1"),
     "ModelQualityOptions", "probability_attribute"),
    (lambda: ModelQualityOptions(problem_type="MulticlassClassification"), "ModelQualityOptions",
     "inference_attribute"),
    (lambda: ModelQualityOptions(probability_threshold=1.5), "ModelQualityOptions", "probability_threshold"),
    (lambda: ModelQualityOptions(probability_threshold=-0.1), "ModelQualityOptions", "probability_threshold"),
    (lambda: ModelQualityOptions(inference_attribute="0", probability_threshold=0.5), "ModelQualityOptions",
     "probability_threshold"),
    (lambda: ModelQualityOptions(start_time_offset="P1D"), "ModelQualityOptions", "start_time_offset"),
    (lambda: ModelQualityOptions(start_time_offset="-P1D", end_time_offset="-P2D"), "ModelQualityOptions",
     "start_time_offset"),
    (lambda: ModelQualityOptions(constraints_key="baselines/"), "ModelQualityOptions", "constraints_key"),
    (lambda: ModelQualityOptions(schedule="daily"), "ModelQualityOptions", "schedule"),
    (lambda: BiasOptions(facet_name=[]), "BiasOptions", "facet_name"),
    (lambda: BiasOptions(facet_name="age", label_values_or_threshold=[]), "BiasOptions", "label_values_or_threshold"),
    (lambda: BiasOptions(facet_name=["a", "b"], facet_values_or_threshold=[1]), "BiasOptions",
     "facet_values_or_threshold"),
    (lambda: BiasOptions(facet_name="age", headers=["a", "a"]), "BiasOptions", "headers"),
    # a column given by name needs headers (captured CSV has no header row), and must be among them
    (lambda: BiasOptions(facet_name="age"), "BiasOptions", "headers"),
    (lambda: BiasOptions(facet_name=[0, "age"]), "BiasOptions", "headers"),
    (lambda: BiasOptions(facet_name=0, label="is_fraud"), "BiasOptions", "headers"),
    (lambda: BiasOptions(facet_name=0, group_variable="region"), "BiasOptions", "headers"),
    (lambda: BiasOptions(facet_name="agee", headers=HEADERS), "BiasOptions", "facet_name"),
    (lambda: BiasOptions(facet_name=0, group_variable="region", headers=HEADERS), "BiasOptions", "group_variable"),
    (lambda: FeatureAttributionOptions(model_name="bad_name", shap_baseline=[[1]]), "FeatureAttributionOptions",
     "model_name"),
    (lambda: FeatureAttributionOptions(model_name="m", shap_baseline=[[1, 2], [1]]), "FeatureAttributionOptions",
     "shap_baseline"),
    (lambda: FeatureAttributionOptions(model_name="m", shap_baseline=[[1, 2]], headers=["a", "b", "c"]),
     "FeatureAttributionOptions", "shap_baseline"),
    (lambda: FeatureAttributionOptions(model_name="m", shap_baseline=[[1]], agg_method="max"),
     "FeatureAttributionOptions", "agg_method"),
    (lambda: FeatureAttributionOptions(model_name="m", shap_baseline=[[1]], num_samples=0),
     "FeatureAttributionOptions", "num_samples"),
    (lambda: FeatureAttributionOptions(model_name="m", shap_baseline=[[1]], accept_type="text/plain"),
     "FeatureAttributionOptions", "accept_type"),
    (lambda: FeatureAttributionOptions(model_name="m", shap_baseline=[[1]], shadow_instance_type="ml.p3.2xlarg"),
     "FeatureAttributionOptions", "shadow_instance_type"),
])
def test_bad_options_name_the_field(make, owner, prop):
    with pytest.raises(ValueError, match=rf"^{owner} '{re.escape(prop)}': invalid value"):
        make()


def test_options_refuse_tokens_in_the_generated_config():
    name = s3.Bucket(Stack(App(), "S"), "B").bucket_name  # a token
    with pytest.raises(ValueError, match="^FeatureAttributionOptions 'model_name': invalid value .*literal"):
        FeatureAttributionOptions(model_name=name, shap_baseline=[[1]])
    with pytest.raises(ValueError, match="^BiasOptions 'facet_name': invalid value"):
        BiasOptions(facet_name=name, headers=HEADERS)


def test_named_columns_need_headers_indices_do_not():
    with pytest.raises(ValueError) as err:
        BiasOptions(facet_name="age")
    assert str(err.value).startswith("BiasOptions 'headers': invalid value None; allowed: the column names")
    assert "facet_name is given by name ('age')" in str(err.value)
    by_index = BiasOptions(facet_name=[0, 2], facet_values_or_threshold=[40, "grocery"], label=3, group_variable=1)
    assert "headers" not in by_index.analysis_config()
    # A label may be a JSONPath into JSON Lines output: named, it needs headers but need not be one of them.
    named = BiasOptions(facet_name=["age", 2], headers=HEADERS, label="is_fraud", group_variable="merchant")
    assert named.analysis_config()["headers"] == HEADERS


# ---------------------------------------------------- offsets for late labels
@pytest.mark.parametrize("options", [ModelQualityOptions, lambda **kw: BiasOptions(facet_name=0, **kw)])
@pytest.mark.parametrize("schedule, hours", [
    (MonitorSchedule.daily(), 24), (MonitorSchedule.hourly(), 1), (MonitorSchedule.every(6), 6),
    (MonitorSchedule.every(5), 4),  # the shortest gap between runs
])
def test_default_window_is_the_interval_that_ended_one_interval_ago(options, schedule, hours):
    """Ground truth arrives late: a run at T analyses [T - 2 intervals, T - 1 interval] (AWS: "specify offsets")."""
    built = options(schedule=schedule)
    assert (built.start_time_offset, built.end_time_offset) == (f"-PT{2 * hours}H", f"-PT{hours}H")


def test_given_offsets_are_kept():
    options = ModelQualityOptions(start_time_offset="-P8D", end_time_offset="-P1D")
    assert (options.start_time_offset, options.end_time_offset) == ("-P8D", "-P1D")
    assert ModelQualityOptions(end_time_offset="-PT3H").start_time_offset is None  # one given: the other is SageMaker's


def test_default_options_read_a_binary_score_in_column_zero():
    options = ModelQualityOptions()
    assert (options.probability_attribute, options.probability_threshold, options.inference_attribute) == (
        "0", 0.5, None)
    assert ModelQualityOptions(inference_attribute="1").probability_attribute is None
    assert options.schedule == MonitorSchedule.daily()
