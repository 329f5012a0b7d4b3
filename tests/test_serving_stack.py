"""ServingStack: the configured model package on the stage's settings, wired to the foundation; skip without a package."""

import pytest
from aws_cdk import App
from aws_cdk.assertions import Annotations, Match

from mlops_cdk import FoundationStack, PlatformConfig
from mlops_cdk.stacks.serving import ServingStack
from tests.harness import normalized, only_resource, resources_of_type, synth

PACKAGE = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/mlops-fraud-detection/4"
PROD = PlatformConfig(stage="prod", serving={"prod": {"model_package_arn": PACKAGE}})
# Promoted from dev (artifacts in dev's bucket), served serverless, package given as <group>/<version>.
SERVERLESS = PlatformConfig(stage="staging", serving={"staging": {
    "model_package_arn": "mlops-fraud-detection/4", "model_source_stage": "dev", "autoscaling": None,
    "serverless": {"memory_size_in_mb": 4096, "max_concurrency": 20},
}})
UNSET = PlatformConfig(stage="dev")


@pytest.fixture(scope="module")
def built():
    """One foundation shared by three serving stacks: prod (ARN), serverless staging, dev without a package."""
    objects = {}

    def build(app):
        foundation = FoundationStack(app, "Foundation", config=PROD)
        objects["foundation"] = foundation
        objects["prod"] = ServingStack(app, "Prod", config=PROD, foundation=foundation)
        objects["serverless"] = ServingStack(app, "Serverless", config=SERVERLESS, foundation=foundation)
        objects["unset"] = ServingStack(app, "Unset", config=UNSET, foundation=foundation)

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def raw(result):
    return result.json("Prod")


def _foundation_export(raw, fragment):
    return [v for v in str(raw).split("'") if v.startswith("Foundation:") and fragment in v]


def _statements(raw):
    return [s for p in resources_of_type(raw, "AWS::IAM::Policy").values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _as_list(value):
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- prod stage
def test_prod_endpoint_from_the_configured_package(raw):
    model = only_resource(raw, "AWS::SageMaker::Model")["Properties"]
    assert model["PrimaryContainer"] == {"ModelPackageName": PACKAGE}
    assert model["EnableNetworkIsolation"] is True
    endpoint = only_resource(raw, "AWS::SageMaker::Endpoint")["Properties"]
    assert endpoint["EndpointName"] == "mlops-fraud-detection-prod"


def test_prod_stage_settings(raw):
    config = only_resource(raw, "AWS::SageMaker::EndpointConfig")["Properties"]
    (variant,) = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.xlarge", 2)
    target = only_resource(raw, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    policy = only_resource(raw, "AWS::SageMaker::Endpoint")["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy == {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                        "WaitIntervalInSeconds": 600},
        "TerminationWaitInSeconds": 600,
        "MaximumExecutionTimeoutInSeconds": 3600,
    }


def test_storage_and_capture_use_the_platform_key_and_bucket(raw):
    config = only_resource(raw, "AWS::SageMaker::EndpointConfig")["Properties"]
    key = {"Fn::ImportValue": _foundation_export(raw, "DataKey")[0]}
    assert config["KmsKeyId"] == key
    capture = config["DataCaptureConfig"]
    assert capture["KmsKeyId"] == key
    assert capture["InitialSamplingPercentage"] == 100
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert capture["CaptureContentTypeHeader"]["CsvContentTypes"] == ["text/csv"]
    bucket_ref = capture["DestinationS3Uri"]["Fn::Join"][1][1]["Fn::ImportValue"]
    assert "DataBucket" in bucket_ref and capture["DestinationS3Uri"]["Fn::Join"][1][2] == "/data-capture"


def test_role_reads_only_model_archives_and_writes_only_its_capture_prefix(raw):
    statements = _statements(raw)
    reads = [s for s in statements if "s3:GetObject*" in _as_list(s["Action"])]
    assert len(reads) == 1
    objects = [r for r in reads[0]["Resource"] if "Fn::Join" in r]
    assert [r["Fn::Join"][1][-1] for r in objects] == ["/*/model.tar.gz"]
    puts = [s for s in statements if "s3:PutObject" in _as_list(s["Action"])]
    assert len(puts) == 1 and puts[0]["Resource"]["Fn::Join"][1][-1] == "/data-capture/mlops-fraud-detection-prod/*"
    assert not any("s3:DeleteObject*" in _as_list(s["Action"]) for s in statements)
    images = [s for s in statements if "ecr:BatchGetImage" in _as_list(s["Action"])]
    assert "sagemaker-xgboost" in str(images) and "scikit-learn" not in str(images)


def test_rollback_alarms_notify_the_alert_topic(raw):
    alarms = resources_of_type(raw, "AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == {"Invocation5XXErrors", "ModelLatency"}
    topic = _foundation_export(raw, "AlertsTopic")[0]
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Fn::ImportValue": topic}]
    rollback = only_resource(raw, "AWS::SageMaker::Endpoint")["Properties"]["DeploymentConfig"][
        "AutoRollbackConfiguration"]["Alarms"]
    assert sorted(a["AlarmName"]["Ref"] for a in rollback) == sorted(alarms)


def test_outputs_and_tags(result, raw):
    tpl = result.template("Prod")
    tpl.has_output("EndpointName", {"Value": "mlops-fraud-detection-prod"})
    tpl.has_output("EndpointRoleArn", {"Value": Match.any_value()})
    uri = raw["Outputs"]["DataCaptureS3Uri"]["Value"]["Fn::Join"][1]
    assert uri[0] == "s3://mlops-fraud-detection-prod-" and uri[-1] == "/data-capture"  # no import in an output
    for type_name in ("AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint"):
        tags = {t["Key"]: t["Value"] for t in only_resource(raw, type_name)["Properties"]["Tags"]}
        assert tags["stage"] == "prod" and tags["model"] == "fraud-detection"


def test_stack_attributes(built):
    prod, foundation = built[1]["prod"], built[1]["foundation"]
    assert prod.endpoint is not None and prod.endpoint.endpoint_name == prod.endpoint_name
    assert prod.capture_prefix == "data-capture/mlops-fraud-detection-prod/" == prod.endpoint.capture_prefix
    assert prod.capture_bucket is foundation.data.bucket
    assert prod.variant_name == "AllTraffic"
    assert prod.settings == PROD.serving_settings


# ----------------------------------------------- serverless, promoted from dev
def test_serverless_stage_omits_capture_kms_and_isolation(result):
    raw = result.json("Serverless")
    config = only_resource(raw, "AWS::SageMaker::EndpointConfig")["Properties"]
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 4096, "MaxConcurrency": 20}
    assert "DataCaptureConfig" not in config and "KmsKeyId" not in config
    model = only_resource(raw, "AWS::SageMaker::Model")["Properties"]
    assert model["EnableNetworkIsolation"] is False
    package = model["PrimaryContainer"]["ModelPackageName"]["Fn::Join"][1]
    assert package[-1] == ":model-package/mlops-fraud-detection/4"  # <group>/<version> in this account and region
    assert "DataCaptureS3Uri" not in raw["Outputs"]


def test_promoted_model_is_read_from_the_source_stage_bucket(result, built):
    raw = result.json("Serverless")
    statements = _statements(raw)
    reads = [s for s in statements if "s3:GetObject*" in _as_list(s["Action"])][0]
    assert any(":s3:::mlops-fraud-detection-dev-" in str(r) and "/*/model.tar.gz" in str(r) for r in reads["Resource"])
    (decrypt,) = [s for s in statements if s.get("Sid") == "DecryptModelSourceObjects"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert "kms:ViaService" in decrypt["Condition"]["StringEquals"]
    assert "mlops-fraud-detection-dev-" in str(decrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"])
    assert built[1]["serverless"].capture_bucket is None


# ------------------------------------------------------ no package configured
def test_without_a_package_only_the_role_is_deployed(result, built):
    raw = result.json("Unset")
    assert not [r for r in raw["Resources"].values() if r["Type"].startswith("AWS::SageMaker::")]
    assert resources_of_type(raw, "AWS::IAM::Role")
    assert set(raw["Outputs"]) == {"EndpointRoleArn"}
    unset = built[1]["unset"]
    assert unset.endpoint is None
    # Where the endpoint will capture is known anyway, for monitoring to wire up.
    assert unset.endpoint_name == "mlops-fraud-detection-dev"
    assert unset.capture_prefix == "data-capture/mlops-fraud-detection-dev/"


def test_skip_is_reported_as_info(built):
    infos = Annotations.from_stack(built[1]["unset"]).find_info("*", Match.string_like_regexp("No model package"))
    assert len(infos) == 1 and "serving.dev.model_package_arn" in str(infos[0].entry.data)
    assert not Annotations.from_stack(built[1]["prod"]).find_info("*", Match.string_like_regexp("No model package"))


# ------------------------------------------------------------------ quality
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert {s: result.lint(s) for s in result.stacks if s != "Foundation"} == {
        s: [] for s in result.stacks if s != "Foundation"}


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


@pytest.mark.parametrize(
    "kwargs, prop",
    [
        ({"config": {"stage": "prod"}}, "config"),
        ({"foundation": None}, "foundation"),
        ({"images": ["tensorflow"]}, "images"),
        ({"images": "xgboost"}, "images"),
        ({"model_artifacts_key_pattern": "/abs/model.tar.gz"}, "model_artifacts_key_pattern"),
    ],
)
def test_bad_props_name_the_prop(kwargs, prop):
    app = App()
    foundation = FoundationStack(app, "F", config=PROD)
    props = {"config": PROD, "foundation": foundation, **kwargs}
    with pytest.raises(ValueError, match=f"ServingStack '{prop}'"):
        ServingStack(app, "S", **props)


def test_prod_serving_is_termination_protected_by_default(built):
    assert built[1]["prod"].termination_protection is True
    assert built[1]["unset"].termination_protection is False
