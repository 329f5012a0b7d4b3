"""ServingStack: the configured model package on the stage's settings, wired to the platform resources; the planned
endpoint without a package; bring-your-own resources; consumers in other stacks depend on it."""

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Annotations, Capture, Match

from mlops_cdk import FoundationStack, PlatformConfig
from mlops_cdk.stacks.serving import ServingStack
from tests.harness import (ACCOUNT, REGION, imported_resources, logical_ids, own_resources, reference_context,
                           role_statements, synth)

PACKAGE = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/mlops-fraud-detection-prod/4"
# Off-hours scaling is opt-in on every stage; prod opts in here with one key over its 2-6 autoscaling.
PROD = PlatformConfig(stage="prod", serving={"prod": {"model_package_arn": PACKAGE, "autoscaling": {
    "off_hours": {"time_zone": "America/New_York"}}}})
# Promoted from dev (artifacts in dev's bucket), served serverless, package given as <group>/<version>.
SERVERLESS = PlatformConfig(stage="staging", serving={"staging": {
    "model_package_arn": "mlops-fraud-detection-dev/4", "model_source_stage": "dev", "autoscaling": None,
    "serverless": {"memory_size_in_mb": 4096, "max_concurrency": 20},
}})
UNSET = PlatformConfig(stage="dev")
# A team's own platform: its package, its bucket, key and topic.
TEAM = PlatformConfig(project_name="team", model_name="churn", stage="dev",
                      serving={"dev": {"model_package_arn": "team-churn-dev/2"}})
SERVING_STACKS = ("Prod", "Serverless", "Unset", "OwnServing", "ImportedServing")


@pytest.fixture(scope="module")
def built():
    """A foundation shared by three serving stacks (prod, serverless staging, dev without a package), two serving
    stacks on a team's own plain and imported resources (no foundation), and a stack alarming on the prod endpoint."""
    o = {}

    def build(app):
        foundation = o["foundation"] = FoundationStack(app, "Foundation", config=PROD)
        o["prod"] = ServingStack(app, "Prod", config=PROD, resources=foundation.resources)
        o["serverless"] = ServingStack(app, "Serverless", config=SERVERLESS, resources=foundation.resources)
        o["unset"] = ServingStack(app, "Unset", config=UNSET, resources=foundation.resources)
        o["own"] = own_resources(Stack(app, "Team"))
        o["own_serving"] = ServingStack(app, "OwnServing", config=TEAM, resources=o["own"])
        # Imported into a stack that also watches the prod endpoint (a stack of imports alone would be empty).
        watcher = o["watcher"] = Stack(app, "Watcher")
        o["imported"] = imported_resources(watcher)
        o["imported_serving"] = ServingStack(app, "ImportedServing", config=TEAM, resources=o["imported"])
        cloudwatch.Alarm(watcher, "Errors", threshold=1, evaluation_periods=1,
                         metric=o["prod"].monitored_endpoint.metrics.metric_invocation_5xx_errors())

    return synth(build), o


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def o(built):
    return built[1]


@pytest.fixture(scope="module")
def tpl(result):
    return result.template("Prod")


def _from_foundation(fragment):
    return {"Fn::ImportValue": Match.string_like_regexp(f"^Foundation:.*{fragment}")}


def _actions(statement):
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def _role_statements(result, stack_name, serving):
    return role_statements(result.json(stack_name), serving.get_logical_id(serving.role.node.default_child))


# ---------------------------------------------------------------- prod stage
def test_prod_endpoint_from_the_configured_package(tpl):
    tpl.has_resource_properties("AWS::SageMaker::Model", {
        "PrimaryContainer": {"ModelPackageName": PACKAGE}, "EnableNetworkIsolation": True})
    tpl.has_resource_properties("AWS::SageMaker::Endpoint", {"EndpointName": "mlops-fraud-detection-prod"})


def test_prod_stage_settings(tpl):
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {"ProductionVariants": [Match.object_like({
        "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 2})]})
    tpl.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 6})
    tpl.has_resource_properties("AWS::SageMaker::Endpoint", {"DeploymentConfig": {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                        "WaitIntervalInSeconds": 600},
        "TerminationWaitInSeconds": 600,
        "MaximumExecutionTimeoutInSeconds": 3600,
    }}})


def test_configured_off_hours_scale_the_stage_down_and_are_reported(tpl, o):
    tpl.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {
        "MinCapacity": 2, "MaxCapacity": 6, "ScheduledActions": [
            Match.object_like({"Schedule": "cron(0 19 ? * MON-FRI *)", "Timezone": "America/New_York",
                               "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 1}}),
            Match.object_like({"Schedule": "cron(0 7 ? * MON-FRI *)", "Timezone": "America/New_York",
                               "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 6}})]})
    infos = Annotations.from_stack(o["prod"]).find_info("*", Match.string_like_regexp("off_hours"))
    assert len(infos) == 1 and "1 instance(s) from cron(0 19 ? * MON-FRI *)" in str(infos[0].entry.data)
    assert not Annotations.from_stack(o["own_serving"]).find_info("*", Match.string_like_regexp("off_hours"))


def test_storage_and_capture_use_the_platform_key_and_bucket(tpl):
    key = _from_foundation("DataKey")
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "KmsKeyId": key,
        "DataCaptureConfig": {
            "EnableCapture": True,
            "KmsKeyId": key,
            "InitialSamplingPercentage": 100,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
            "DestinationS3Uri": {"Fn::Join": ["", ["s3://", _from_foundation("DataBucket"), "/data-capture"]]},
        },
    })


def test_role_reads_only_model_archives_and_writes_only_its_capture_prefix(result, o):
    statements = _role_statements(result, "Prod", o["prod"])
    reads = [s for s in statements if "s3:GetObject*" in _actions(s)]
    assert len(reads) == 1
    objects = [r for r in reads[0]["Resource"] if "Fn::Join" in r]
    assert [r["Fn::Join"][1][-1] for r in objects] == ["/*/model.tar.gz"]
    puts = [s for s in statements if "s3:PutObject" in _actions(s)]
    assert [p["Resource"]["Fn::Join"][1][-1] for p in puts] == ["/data-capture/mlops-fraud-detection-prod/*"]
    assert not any("s3:DeleteObject*" in _actions(s) for s in statements)
    images = [s for s in statements if "ecr:BatchGetImage" in _actions(s)]
    assert "sagemaker-xgboost" in str(images) and "scikit-learn" not in str(images)


def test_endpoint_waits_for_its_role_policies(result, o):
    tpl, prod = result.template("Prod"), o["prod"]
    role_id = prod.get_logical_id(prod.role.node.default_child)
    policies = tpl.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    (endpoint,) = tpl.find_resources("AWS::SageMaker::Endpoint").values()
    assert len(policies) == 2 and {*policies, role_id} <= set(endpoint["DependsOn"])  # base and grants


def test_rollback_alarms_notify_the_alert_topic(tpl):
    names = Capture()
    tpl.has_resource_properties("AWS::SageMaker::Endpoint", {"DeploymentConfig": {
        "AutoRollbackConfiguration": {"Alarms": names}}})
    alarms = tpl.find_resources("AWS::CloudWatch::Alarm")
    assert sorted(a["AlarmName"]["Ref"] for a in names.as_array()) == sorted(alarms)
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == {"Invocation5XXErrors", "ModelLatency"}
    tpl.all_resources_properties("AWS::CloudWatch::Alarm", {"AlarmActions": [_from_foundation("AlertsTopic")]})


def test_outputs_and_tags(tpl, o):
    prod = o["prod"]
    tpl.has_output("EndpointName", {"Value": {"Fn::GetAtt": [prod.get_logical_id(prod.endpoint.cfn_endpoint),
                                                             "EndpointName"]}})
    tpl.has_output("EndpointRoleArn", {"Value": {"Fn::GetAtt": [prod.get_logical_id(prod.role.node.default_child),
                                                                "Arn"]}})
    for type_name in ("AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint"):
        tpl.has_resource_properties(type_name, {"Tags": Match.array_with([
            {"Key": "model", "Value": "fraud-detection"}, {"Key": "stage", "Value": "prod"}])})


def test_stack_attributes(o):
    prod, foundation = o["prod"], o["foundation"]
    assert prod.settings == PROD.serving_settings
    monitored = prod.monitored_endpoint
    assert monitored is prod.endpoint.monitored_endpoint and monitored.endpoint is prod.endpoint
    assert monitored.deployed is True and monitored.variant_name == "AllTraffic"
    assert monitored.capture_bucket is foundation.data_bucket and monitored.capture_key is foundation.data_key
    assert prod.endpoint.capture_prefix == "data-capture/mlops-fraud-detection-prod/"


def test_a_stack_using_the_monitored_endpoint_depends_on_the_serving_stack(result, o):
    result.template("Watcher").has_resource_properties("AWS::CloudWatch::Alarm", {"Dimensions": Match.array_with([
        {"Name": "EndpointName", "Value": {"Fn::ImportValue": Match.string_like_regexp("^Prod:")}}])})
    assert "Prod" in [s.stack_name for s in o["watcher"].dependencies]


def test_prod_serving_is_termination_protected_by_default(o):
    assert o["prod"].termination_protection is True
    assert o["unset"].termination_protection is False


# ----------------------------------------------- serverless, promoted from dev
def test_serverless_stage_omits_capture_kms_and_isolation(result):
    tpl = result.template("Serverless")
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "ProductionVariants": [Match.object_like({"ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 20}})],
        "DataCaptureConfig": Match.absent(),
        "KmsKeyId": Match.absent(),
    })
    tpl.has_resource_properties("AWS::SageMaker::Model", {
        "EnableNetworkIsolation": False,
        # <group>/<version> in this account and region
        "PrimaryContainer": {"ModelPackageName": {"Fn::Join": ["", Match.array_with([
            ":model-package/mlops-fraud-detection-dev/4"])]}},
    })


def test_promoted_model_is_read_from_the_source_stage_bucket(result, o):
    statements = _role_statements(result, "Serverless", o["serverless"])
    (reads,) = [s for s in statements if "s3:GetObject*" in _actions(s)]
    assert any(":s3:::mlops-fraud-detection-dev-" in str(r) and "/*/model.tar.gz" in str(r) for r in reads["Resource"])
    (decrypt,) = [s for s in statements if s.get("Sid") == "DecryptModelSourceObjects"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert "kms:ViaService" in decrypt["Condition"]["StringEquals"]
    assert "mlops-fraud-detection-dev-" in str(decrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"])
    assert "Foundation" not in json.dumps(reads)  # not this stage's bucket


def test_serverless_monitored_endpoint_points_where_capture_would_go(o):
    serverless, foundation = o["serverless"], o["foundation"]
    assert serverless.endpoint.monitored_endpoint is None
    monitored = serverless.monitored_endpoint
    assert monitored.endpoint is serverless.endpoint and monitored.deployed is True
    assert monitored.captures is False  # serverless variants cannot capture: Model Monitor must not be set up
    assert monitored.capture_bucket is foundation.data_bucket


# ------------------------------------------------------ no package configured
def test_without_a_package_only_the_role_is_deployed(result):
    tpl = result.template("Unset")
    assert not [r for r in result.json("Unset")["Resources"].values() if r["Type"].startswith("AWS::SageMaker::")]
    tpl.resource_count_is("AWS::IAM::Role", 1)
    assert set(result.json("Unset")["Outputs"]) == {"EndpointRoleArn"}


def test_without_a_package_the_planned_endpoint_is_monitorable(o):
    unset, foundation = o["unset"], o["foundation"]
    assert unset.endpoint is None
    monitored = unset.monitored_endpoint
    assert monitored.deployed is False
    assert monitored.endpoint_name == "mlops-fraud-detection-dev"
    assert monitored.endpoint_capture_prefix == "data-capture/mlops-fraud-detection-dev/"
    assert monitored.capture_bucket is foundation.data_bucket and monitored.capture_key is foundation.data_key
    assert json.dumps(unset.resolve(monitored.endpoint.endpoint_arn)).endswith(
        ':endpoint/mlops-fraud-detection-dev"]]}')


def test_skip_is_reported_as_info(o):
    infos = Annotations.from_stack(o["unset"]).find_info("*", Match.string_like_regexp("No model package"))
    assert len(infos) == 1 and "serving.dev.model_package_arn" in str(infos[0].entry.data)
    assert not Annotations.from_stack(o["prod"]).find_info("*", Match.string_like_regexp("No model package"))


# ---------------------------------------------------------- bring your own
def test_own_plain_resources_without_a_foundation(result, o):
    tpl, own = result.template("OwnServing"), o["own"]
    team = o["own_serving"]

    def ref(construct, attribute):
        return {"Fn::ImportValue": Match.string_like_regexp(f"^Team:.*{construct}.*{attribute}")}

    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "KmsKeyId": ref("TeamKey", "Arn"),
        "DataCaptureConfig": Match.object_like({
            "KmsKeyId": ref("TeamKey", "Arn"),
            "DestinationS3Uri": {"Fn::Join": ["", ["s3://", ref("TeamBucket", ""), "/data-capture"]]}}),
    })
    tpl.all_resources_properties("AWS::CloudWatch::Alarm", {"AlarmActions": [ref("TeamTopic", "")]})
    statements = json.dumps(_role_statements(result, "OwnServing", team))
    assert "/*/model.tar.gz" in statements and "/data-capture/team-churn-dev/*" in statements
    assert team.monitored_endpoint.capture_bucket is own.data_bucket
    assert team.monitored_endpoint.capture_key is own.data_key


def test_imported_resources_without_a_foundation(result, o):
    tpl, imported = result.template("ImportedServing"), o["imported"]
    key_arn = imported.data_key.key_arn
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "KmsKeyId": key_arn, "DataCaptureConfig": Match.object_like({
            "KmsKeyId": key_arn, "DestinationS3Uri": "s3://team-ml-data/data-capture"})})
    tpl.all_resources_properties("AWS::CloudWatch::Alarm", {"AlarmActions": [imported.alert_topic.topic_arn]})
    statements = _role_statements(result, "ImportedServing", o["imported_serving"])
    text = json.dumps(statements)
    assert ":s3:::team-ml-data/*/model.tar.gz" in text and ":s3:::team-ml-data/data-capture/team-churn-dev/*" in text
    assert key_arn in text


# ------------------------------------------------------------------ quality
def test_cdk_nag_and_cloudformation_validation_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert {s: result.lint(s) for s in SERVING_STACKS} == {s: [] for s in SERVING_STACKS}


def test_logical_ids(result, json_snapshot):
    assert {name: logical_ids(result.json(name)) for name in SERVING_STACKS} == json_snapshot


def test_endpoint_role_keeps_its_released_logical_id(result):
    assert result.json("Prod")["Resources"]["EndpointRole62E42B8D"]["Type"] == "AWS::IAM::Role"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"images": ["tensorflow"]}, "SageMakerExecutionRole 'images'"),
        ({"model_artifacts_key_pattern": "/abs/model.tar.gz"}, "ServingStack 'model_artifacts_key_pattern'"),
        ({"model_artifacts_key_pattern": "models/ model.tar.gz"}, "ServingStack 'model_artifacts_key_pattern'"),
    ],
)
def test_bad_props_name_the_prop(kwargs, match):
    app = App()
    with pytest.raises(ValueError, match=match):
        ServingStack(app, "S", config=PROD, resources=imported_resources(Stack(app, "T")), **kwargs)


def test_explainability_with_model_monitor_names_the_model_for_clarify():
    """Only then: a literal model name is what Clarify's feature-attribution job needs, and costs a replacement."""
    from mlops_cdk.stacks.monitoring import MonitoringStack

    width = len(PROD.monitoring_features)
    app = App(context=reference_context())
    foundation = FoundationStack(app, "Foundation", config=PROD)
    for mode in ("own", "both"):
        config = PlatformConfig(stage="prod", serving={"prod": {"model_package_arn": PACKAGE}}, monitoring_mode=mode,
                                explainability={"shap_baseline": [[0] * width]})
        serving = ServingStack(app, f"Serving{mode}", config=config, resources=foundation.resources)
        named = serving.monitored_endpoint.model_name
        assert (named is not None) == (mode == "both")
        if named is not None:
            assert named.startswith(f"{config.prefix}-")
            monitoring = MonitoringStack(app, "Monitoring", config=config, resources=foundation.resources,
                                         endpoint=serving.monitored_endpoint)
            assert monitoring.feature_attribution is not None
