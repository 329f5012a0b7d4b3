"""Every stack of the library composed on a team's own resources, plain or imported, with no FoundationStack.

The per-construct modules test each construct with ``harness.own_resources`` and
``imported_resources``; this module composes the whole platform the way the
README's "Use it in your own app" does, with an endpoint deployed so that every
consumer of the resources (Model Monitor included) is built.
"""

from __future__ import annotations

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match

from mlops_cdk import (
    FeatureStoreStack,
    ModelBuildStack,
    MonitoringStack,
    PlatformConfig,
    RetrainingStack,
    ServingStack,
)
from tests.harness import ACCOUNT, REGION, imported_resources, own_resources, synth

ENV = Environment(account=ACCOUNT, region=REGION)  # imported topics and keys live in a known account and region
CONFIG = PlatformConfig(project_name="team", model_name="churn", stage="dev", monitoring_mode="both",
                        model_package_arn="team-churn-dev/3", retraining_schedule="cron(0 3 ? * MON *)",
                        retraining_cooldown_minutes=720, monitoring_features=("tenure", "monthly_charges"))
PARTS = ("model-build", "serving", "monitoring", "retraining", "feature-store")


def _compose(kind: str):
    def build(app):
        shared = Stack(app, "team-shared", env=ENV)
        resources = own_resources(shared) if kind == "own" else imported_resources(shared)
        if kind == "imported":  # imports alone deploy nothing: the team's stack holds something of its own
            sns.Topic(shared, "Unrelated", enforce_ssl=True)
        name = CONFIG.prefix
        stacks = {}
        stacks["model-build"] = ModelBuildStack(app, f"{name}-model-build", config=CONFIG, resources=resources, env=ENV)
        stacks["serving"] = ServingStack(app, f"{name}-serving", config=CONFIG, resources=resources, env=ENV)
        stacks["monitoring"] = MonitoringStack(app, f"{name}-monitoring", config=CONFIG, resources=resources,
                                               endpoint=stacks["serving"].monitored_endpoint, env=ENV)
        stacks["retraining"] = RetrainingStack(
            app, f"{name}-retraining", config=CONFIG, resources=resources, env=ENV,
            pipeline=stacks["model-build"].pipeline, pipeline_parameters=stacks["model-build"].pipeline.parameter_names,
            drift_alarms=list(stacks["monitoring"].alarms.feature_drift_alarms.values()),
            quality_alarms=[stacks["monitoring"].alarms.accuracy_alarm],
            drift_endpoints=[stacks["serving"].monitored_endpoint.endpoint])
        stacks["feature-store"] = FeatureStoreStack(app, f"{name}-feature-store", config=CONFIG, resources=resources,
                                                    env=ENV)
        build.stacks = stacks
    return build


@pytest.fixture(scope="module", params=["own", "imported"])
def platform(request):
    build = _compose(request.param)
    result = synth(build)
    result.kind, result.stacks_by_part = request.param, build.stacks
    return result


def test_no_foundation_stack_is_needed(platform):
    assert set(platform.stacks) == {"team-shared"} | {f"team-churn-dev-{part}" for part in PARTS}


def test_every_stack_is_nag_and_lint_clean(platform):
    findings = [f for f in platform.nag_findings if not f.split(" at ")[1].startswith("team-shared/")]
    assert [f for f in findings if not f.startswith("Annotation::")] == []
    # An imported key's policy cannot be changed here: each stack with functions says once what it must allow.
    warnings = [(f.split(" ")[0], f.split(" at ")[1].split("/")[0]) for f in findings if f.startswith("Annotation::")]
    expected = [] if platform.kind == "own" else [
        (f"Annotation::mlops-cdk:key-policy-{sid}", f"team-churn-dev-{part}")
        for sid in ("AllowCloudWatchLogsOfThisAccount", "AllowEventBridgeDeadLettersOfThisAccount")
        for part in ("model-build", "monitoring", "retraining")]
    assert sorted(warnings) == sorted(expected)
    if platform.kind == "imported":  # own resources live in the app, as in the stacks' own modules, which lint them
        ours = [f"team-churn-dev-{part}" for part in PARTS]
        assert {name: platform.lint(name) for name in ours} == {name: [] for name in ours}


def test_dependencies_follow_from_the_objects_handed_over(platform):
    stacks = platform.stacks_by_part

    def depends_on(part):
        return {s.stack_name for s in stacks[part].dependencies}

    assert "team-churn-dev-serving" in depends_on("monitoring")  # it monitors the deployed endpoint
    assert {"team-churn-dev-model-build", "team-churn-dev-monitoring"} <= depends_on("retraining")


def test_the_teams_bucket_and_key_are_where_data_goes(platform):
    if platform.kind == "imported":
        serving = platform.template("team-churn-dev-serving")
        serving.has_resource_properties("AWS::SageMaker::EndpointConfig", {"DataCaptureConfig": Match.object_like({
            "DestinationS3Uri": Match.string_like_regexp("^s3://team-ml-data/data-capture")})})
        features = platform.template("team-churn-dev-feature-store")
        features.has_resource_properties("AWS::SageMaker::FeatureGroup", {"OfflineStoreConfig": Match.object_like({
            "S3StorageConfig": Match.object_like({"S3Uri": Match.string_like_regexp("^s3://team-ml-data/feature-store/")})})})
        monitoring = platform.template("team-churn-dev-monitoring")
        monitoring.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
            "CAPTURE_BUCKET": "team-ml-data"})}})
    else:
        monitoring = platform.template("team-churn-dev-monitoring")
        monitoring.resource_count_is("AWS::SageMaker::MonitoringSchedule", 1)  # mode both: data quality joins


def test_settings_come_from_the_config_only(platform):
    retraining = platform.template("team-churn-dev-retraining")
    retraining.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "cron(0 3 ? * MON *)"})
    retraining.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "COOLDOWN_MINUTES": "720"})}})
    monitoring = platform.template("team-churn-dev-monitoring")
    monitoring.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "FEATURE_NAMES": "tenure,monthly_charges"})}})
