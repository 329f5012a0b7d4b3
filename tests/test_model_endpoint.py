"""ModelEndpoint: model, capture, KMS, VPC, autoscaling, blue/green + rollback alarms, serverless, bad input."""

import pytest
from aws_cdk import App, CfnParameter, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from mlops_cdk import SageMakerExecutionRole, SecureBucket, image_uri
from mlops_cdk.constructs.endpoint_settings import (
    AutoScaling,
    DeploymentPolicy,
    ServerlessInference,
    has_instance_storage,
)
from mlops_cdk.constructs.model_endpoint import ModelEndpoint
from tests.harness import normalized, only_resource, resources_of_type, synth

ENDPOINT = "fraud-scoring"
PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/fraud-detection/7"
MODEL_DATA = "s3://example-artifacts/fraud/model.tar.gz"
SUBNETS = ("subnet-0123456789abcdef0", "subnet-0fedcba9876543210")
SECURITY_GROUP = "sg-0123456789abcdef0"


def _subnet(scope, id, subnet_id):
    return ec2.Subnet.from_subnet_attributes(scope, id, subnet_id=subnet_id, route_table_id="rtb-0123456789abcdef0")


@pytest.fixture(scope="module")
def built():
    """Two stacks in one synth: an instance endpoint with every option, and a serverless one."""
    objects = {}

    def build(app):
        stack = Stack(app, "Endpoint")
        data = SecureBucket(stack, "Data")
        role = SageMakerExecutionRole(stack, "Role", images=["xgboost"])
        volume_key = kms.Key(stack, "VolumeKey", enable_key_rotation=True)
        extra = cloudwatch.Alarm(
            stack, "ExtraAlarm",
            metric=cloudwatch.Metric(namespace="Custom", metric_name="BusinessErrors", period=Duration.minutes(1)),
            threshold=10, evaluation_periods=1,
        )
        endpoint = ModelEndpoint(
            stack, "Scoring",
            role=role,
            model_data_url=MODEL_DATA,
            image=image_uri(stack, "xgboost"),
            environment={"SAGEMAKER_PROGRAM": "inference.py"},
            endpoint_name=ENDPOINT,
            instance_type="ml.m5.xlarge",
            instance_count=2,
            autoscaling=AutoScaling(min_capacity=2, max_capacity=8, target_invocations_per_instance=750,
                                    scale_in_cooldown_seconds=600, scale_out_cooldown_seconds=30),
            capture_bucket=data,
            capture_sampling_percentage=30,
            capture_modes=["Input"],
            volume_kms_key=volume_key,
            vpc_subnets=[_subnet(stack, "SubnetA", SUBNETS[0]), _subnet(stack, "SubnetB", SUBNETS[1])],
            security_groups=[ec2.SecurityGroup.from_security_group_id(stack, "Sg", SECURITY_GROUP)],
            deployment=DeploymentPolicy(traffic_routing="linear", size_percent=20, wait_interval_seconds=120,
                                        termination_wait_seconds=300, max_execution_timeout_seconds=1800,
                                        error_threshold=3, latency_threshold_ms=250, alarm_evaluation_periods=3),
            rollback_alarms=[extra],
        )
        caller = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        endpoint.grant_invoke(caller)

        other = Stack(app, "Serverless")
        imported = iam.Role.from_role_arn(other, "Imported", "arn:aws:iam::111122223333:role/existing-sagemaker-role")
        serverless = ModelEndpoint(
            other, "Scoring",
            role=imported,
            model_package_arn=PACKAGE_ARN,
            serverless=ServerlessInference(memory_size_in_mb=3072, max_concurrency=10, provisioned_concurrency=2),
            deployment=DeploymentPolicy(traffic_routing="canary", size_percent=10, wait_interval_seconds=60),
        )
        objects.update(stack=stack, endpoint=endpoint, data=data, other=other, serverless=serverless)

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def raw(result):
    return result.json("Endpoint")


@pytest.fixture(scope="module")
def raw_serverless(result):
    return result.json("Serverless")


def _logical_id(raw, type_name):
    (name,) = resources_of_type(raw, type_name)
    return name


def _role_statements(raw, role_prefix="Role"):
    out = []
    for name, policy in resources_of_type(raw, "AWS::IAM::Policy").items():
        if name.startswith(role_prefix):
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def _as_list(value):
    return value if isinstance(value, list) else [value]


# ----------------------------------------------------------------- the model
def test_model_from_artifact_and_image_with_isolation_and_vpc(raw):
    model = only_resource(raw, "AWS::SageMaker::Model")["Properties"]
    container = model["PrimaryContainer"]
    assert container["ModelDataUrl"] == MODEL_DATA
    assert "Fn::FindInMap" in str(container["Image"])  # region-mapped first-party image
    assert container["Environment"] == {"SAGEMAKER_PROGRAM": "inference.py"}
    assert "ModelPackageName" not in container
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"] == {"Subnets": list(SUBNETS), "SecurityGroupIds": [SECURITY_GROUP]}
    assert model["ExecutionRoleArn"]["Fn::GetAtt"][1] == "Arn"
    assert "ModelName" not in model  # generated: a changed model is replaced, not renamed


def test_model_and_config_names_are_generated_endpoint_name_is_stable(raw):
    assert "EndpointConfigName" not in only_resource(raw, "AWS::SageMaker::EndpointConfig")["Properties"]
    endpoint = only_resource(raw, "AWS::SageMaker::Endpoint")["Properties"]
    assert endpoint["EndpointName"] == ENDPOINT
    assert endpoint["EndpointConfigName"] == {
        "Fn::GetAtt": [_logical_id(raw, "AWS::SageMaker::EndpointConfig"), "EndpointConfigName"]}


def test_variant_instances_and_volume_key(raw):
    config = only_resource(raw, "AWS::SageMaker::EndpointConfig")["Properties"]
    (variant,) = config["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["InstanceType"] == "ml.m5.xlarge"
    assert variant["InitialInstanceCount"] == 2
    assert "ServerlessConfig" not in variant
    key_id, attribute = config["KmsKeyId"]["Fn::GetAtt"]
    assert key_id.startswith("VolumeKey") and attribute == "Arn"


# -------------------------------------------------------------- data capture
def test_data_capture_config(raw, built):
    capture = only_resource(raw, "AWS::SageMaker::EndpointConfig")["Properties"]["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 30
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}]
    # Declared content types: SageMaker stores CSV/JSON bodies as text, not base64.
    assert capture["CaptureContentTypeHeader"] == {"CsvContentTypes": ["text/csv"],
                                                   "JsonContentTypes": ["application/json"]}
    bucket = [k for k, v in resources_of_type(raw, "AWS::S3::Bucket").items()
              if "LoggingConfiguration" in v["Properties"]][0]
    assert capture["DestinationS3Uri"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket}, "/data-capture"]]}
    key = raw["Resources"][bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    assert capture["KmsKeyId"] == key  # the bucket's own key


def test_capture_attributes(built):
    stack, endpoint, data = built[1]["stack"], built[1]["endpoint"], built[1]["data"]
    assert endpoint.capture_prefix == f"data-capture/{ENDPOINT}/"
    assert endpoint.capture_bucket is data.bucket
    assert stack.resolve(endpoint.capture_s3_uri) == stack.resolve(f"s3://{data.bucket_name}/data-capture")
    assert endpoint.capture_key is data.encryption_key
    assert endpoint.variant_name == "AllTraffic" and endpoint.endpoint_name == ENDPOINT


def test_role_may_write_exactly_the_capture_prefix(raw):
    statements = _role_statements(raw)
    puts = [s for s in statements if "s3:PutObject" in _as_list(s["Action"])]
    assert len(puts) == 1
    assert puts[0]["Resource"]["Fn::Join"][1][1] == f"/data-capture/{ENDPOINT}/*"
    assert not any("s3:DeleteObject*" in _as_list(s["Action"]) for s in statements)


def test_role_may_manage_enis_for_the_vpc(raw):
    eni = [s for s in _role_statements(raw) if "ec2:CreateNetworkInterface" in _as_list(s["Action"])]
    assert len(eni) == 1 and eni[0]["Resource"] == "*"


def test_endpoint_waits_for_the_role_policies(raw):
    endpoint = raw["Resources"][_logical_id(raw, "AWS::SageMaker::Endpoint")]
    policies = [k for k in resources_of_type(raw, "AWS::IAM::Policy") if k.startswith("Role")]
    assert set(policies) <= set(endpoint["DependsOn"])


# ------------------------------------------------------ deployment, rollback
def test_linear_blue_green_with_rollback_on_own_and_given_alarms(raw):
    config = only_resource(raw, "AWS::SageMaker::Endpoint")["Properties"]["DeploymentConfig"]
    policy = config["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20}, "WaitIntervalInSeconds": 120}
    assert policy["TerminationWaitInSeconds"] == 300
    assert policy["MaximumExecutionTimeoutInSeconds"] == 1800
    alarms = [a["AlarmName"]["Ref"] for a in config["AutoRollbackConfiguration"]["Alarms"]]
    assert len(alarms) == 3 and all(raw["Resources"][a]["Type"] == "AWS::CloudWatch::Alarm" for a in alarms)
    assert any(a.startswith("ExtraAlarm") for a in alarms)


def test_rollback_alarms_watch_5xx_and_p99_latency_of_the_variant(raw, built):
    endpoint = built[1]["endpoint"]
    assert len(endpoint.rollback_alarms) == 3
    alarms = {v["Properties"]["MetricName"]: v["Properties"] for v in resources_of_type(raw, "AWS::CloudWatch::Alarm").values()}
    dims = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]
    errors, latency = alarms["Invocation5XXErrors"], alarms["ModelLatency"]
    assert errors["Dimensions"] == latency["Dimensions"] == dims
    assert (errors["Statistic"], errors["Threshold"], errors["ComparisonOperator"]) == (
        "Sum", 3, "GreaterThanOrEqualToThreshold")
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p99", 250_000)  # microseconds
    for alarm in (errors, latency):
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (60, 3, 3)
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["Namespace"] == "AWS/SageMaker"


# --------------------------------------------------------------- autoscaling
def test_autoscaling_target_and_policy(raw):
    target_id = _logical_id(raw, "AWS::ApplicationAutoScaling::ScalableTarget")
    target = raw["Resources"][target_id]["Properties"]
    assert target["ServiceNamespace"] == "sagemaker"
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 8)
    endpoint_id = _logical_id(raw, "AWS::SageMaker::Endpoint")
    assert target["ResourceId"] == {"Fn::Join": ["", ["endpoint/", {"Fn::GetAtt": [endpoint_id, "EndpointName"]},
                                                      "/variant/AllTraffic"]]}
    assert "RoleARN" not in target  # the service-linked role, not an extra empty role
    assert not [r for r in resources_of_type(raw, "AWS::IAM::Role").values()
                if "application-autoscaling" in str(r)]
    policy = only_resource(raw, "AWS::ApplicationAutoScaling::ScalingPolicy")["Properties"]
    assert policy["ScalingTargetId"] == {"Ref": target_id}
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        "TargetValue": 750, "ScaleInCooldown": 600, "ScaleOutCooldown": 30,
    }


def test_autoscaled_updates_keep_the_instance_count(raw):
    endpoint = only_resource(raw, "AWS::SageMaker::Endpoint")["Properties"]
    assert endpoint["RetainAllVariantProperties"] is True
    assert endpoint["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DataCaptureConfig"}]


# ------------------------------------------------------- metrics and grants
def test_metrics(built):
    endpoint = built[1]["endpoint"]
    expected = {
        "metric_invocations": ("Invocations", "Sum"),
        "metric_invocations_per_instance": ("InvocationsPerInstance", "Sum"),
        "metric_model_latency": ("ModelLatency", "Average"),
        "metric_overhead_latency": ("OverheadLatency", "Average"),
        "metric_invocation_4xx_errors": ("Invocation4XXErrors", "Sum"),
        "metric_invocation_5xx_errors": ("Invocation5XXErrors", "Sum"),
    }
    for method, (name, statistic) in expected.items():
        metric = getattr(endpoint, method)()
        assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/SageMaker", name, statistic)
        assert metric.dimensions == {"EndpointName": ENDPOINT, "VariantName": "AllTraffic"}
        assert metric.period.to_seconds() == 60
    custom = endpoint.metric("ModelSetupTime", statistic="Maximum", period=Duration.minutes(5))
    assert (custom.metric_name, custom.statistic, custom.period.to_seconds()) == ("ModelSetupTime", "Maximum", 300)
    assert endpoint.metric_model_latency(statistic="p90").statistic == "p90"


def test_grant_invoke_is_scoped_to_the_endpoint(raw):
    (statement,) = [s for p in resources_of_type(raw, "AWS::IAM::Policy").values()
                    for s in p["Properties"]["PolicyDocument"]["Statement"]
                    if s["Action"] == "sagemaker:InvokeEndpoint"]
    assert statement["Resource"]["Fn::Join"][1][-1] == f":endpoint/{ENDPOINT}"


# ---------------------------------------------------------------- serverless
def test_serverless_variant(raw_serverless):
    config = only_resource(raw_serverless, "AWS::SageMaker::EndpointConfig")["Properties"]
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 10, "ProvisionedConcurrency": 2}
    assert "InstanceType" not in variant and "InitialInstanceCount" not in variant
    assert "DataCaptureConfig" not in config and "KmsKeyId" not in config
    model = only_resource(raw_serverless, "AWS::SageMaker::Model")["Properties"]
    assert model["EnableNetworkIsolation"] is False  # not supported for serverless
    assert model["PrimaryContainer"] == {"ModelPackageName": PACKAGE_ARN}
    assert model["ExecutionRoleArn"] == "arn:aws:iam::111122223333:role/existing-sagemaker-role"
    routing = only_resource(raw_serverless, "AWS::SageMaker::Endpoint")["Properties"]["DeploymentConfig"][
        "BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                       "WaitIntervalInSeconds": 60}
    assert not resources_of_type(raw_serverless, "AWS::ApplicationAutoScaling::ScalableTarget")


def test_serverless_attributes(built):
    endpoint = built[1]["serverless"]
    assert endpoint.capture_bucket is None and endpoint.capture_prefix is None and endpoint.capture_s3_uri is None
    assert endpoint.endpoint_name.startswith("serverless-scoring-")  # generated, lower case
    assert len(endpoint.rollback_alarms) == 2


# ------------------------------------------------------------------ quality
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert {s: result.lint(s) for s in result.stacks} == {s: [] for s in result.stacks}


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# ---------------------------------------------------------------- bad input
def test_instance_storage_families():
    for t in ("ml.m5d.large", "ml.c6gd.xlarge", "ml.g4dn.xlarge", "ml.g5.2xlarge", "ml.p4d.24xlarge",
              "ml.trn1.2xlarge", "ml.p6-b200.48xlarge"):
        assert has_instance_storage(t), t
    for t in ("ml.m5.large", "ml.t2.medium", "ml.c6gn.large", "ml.inf2.xlarge", "ml.p3.2xlarge", "ml.r7i.large"):
        assert not has_instance_storage(t), t


def _stack():
    return Stack(App(), "S")


def _endpoint(stack=None, **props):
    stack = stack or _stack()
    props.setdefault("role", iam.Role.from_role_arn(stack, "R", "arn:aws:iam::111122223333:role/r"))
    if "model_data_url" not in props and "image" not in props:
        props.setdefault("model_package_arn", PACKAGE_ARN)
    return ModelEndpoint(stack, "E", **props)


def _bucket(stack):
    return SecureBucket(stack, "B")


_SL = ServerlessInference()


@pytest.mark.parametrize(
    "make, prop",
    [
        (lambda: _endpoint(model_package_arn=None), "model_package_arn"),
        (lambda: _endpoint(model_data_url=MODEL_DATA, image="img:1", model_package_arn=PACKAGE_ARN), "model_package_arn"),
        (lambda: _endpoint(model_package_arn="fraud-detection"), "model_package_arn"),
        (lambda: _endpoint(model_package_arn="arn:aws:s3:::bucket/x"), "model_package_arn"),
        (lambda: _endpoint(model_data_url=MODEL_DATA), "image"),
        (lambda: _endpoint(image="img:1"), "model_data_url"),
        (lambda: _endpoint(model_data_url="https://x/model.tar.gz", image="img:1"), "model_data_url"),
        (lambda: _endpoint(model_data_url=MODEL_DATA, image="has space"), "image"),
        (lambda: _endpoint(environment={"BAD-KEY": "x"}), "environment"),
        (lambda: _endpoint(environment={"K": 1}), "environment"),
        (lambda: _endpoint(endpoint_name="bad_name"), "endpoint_name"),
        (lambda: _endpoint(variant_name="x" * 64), "variant_name"),
        (lambda: _endpoint(instance_type="m5.large"), "instance_type"),
        (lambda: _endpoint(instance_type="ml.m5"), "instance_type"),
        (lambda: _endpoint(instance_count=0), "instance_count"),
        (lambda: _endpoint(role="arn:aws:iam::111122223333:role/r"), "role"),
        (lambda: _endpoint(deployment={"traffic_routing": "canary"}), "deployment"),
        (lambda: _endpoint(autoscaling={"min_capacity": 1}), "autoscaling"),
        (lambda: _endpoint(network_isolation="yes"), "network_isolation"),
        # data capture
        (lambda: (s := _stack()) and _endpoint(s, capture_bucket=_bucket(s), capture_sampling_percentage=101),
         "capture_sampling_percentage"),
        (lambda: (s := _stack()) and _endpoint(s, capture_bucket=_bucket(s), capture_sampling_percentage=-1),
         "capture_sampling_percentage"),
        (lambda: (s := _stack()) and _endpoint(s, capture_bucket=_bucket(s), capture_modes=["Both"]), "capture_modes"),
        (lambda: (s := _stack()) and _endpoint(s, capture_bucket=_bucket(s), capture_modes=[]), "capture_modes"),
        (lambda: (s := _stack()) and _endpoint(s, capture_bucket=_bucket(s), capture_csv_content_types=["csv"]),
         "capture_csv_content_types"),
        (lambda: (s := _stack()) and _endpoint(s, capture_bucket=_bucket(s), capture_json_content_types="application/json"),
         "capture_json_content_types"),
        (lambda: (s := _stack()) and _endpoint(s, capture_bucket=_bucket(s), capture_root_prefix="/capture/"),
         "capture_root_prefix"),
        (lambda: _endpoint(capture_bucket="my-bucket"), "capture_bucket"),
        # serverless: what AWS does not support
        (lambda: (s := _stack()) and _endpoint(s, serverless=_SL, capture_bucket=_bucket(s)), "capture_bucket"),
        (lambda: _endpoint(serverless=_SL, autoscaling=AutoScaling()), "autoscaling"),
        (lambda: _endpoint(serverless=_SL, network_isolation=True), "network_isolation"),
        (lambda: (s := _stack()) and _endpoint(
            s, serverless=_SL, vpc_subnets=[ec2.Subnet.from_subnet_id(s, "Sn", "subnet-1")],
            security_groups=[ec2.SecurityGroup.from_security_group_id(s, "Sg", "sg-1")]), "vpc_subnets"),
        (lambda: _endpoint(serverless=_SL, instance_type="ml.m5.large"), "instance_type"),
        (lambda: _endpoint(serverless=_SL, deployment=DeploymentPolicy(traffic_routing="canary", size_instances=1)),
         "deployment.size_instances"),
        (lambda: ServerlessInference(memory_size_in_mb=1500), "memory_size_in_mb"),
        (lambda: ServerlessInference(max_concurrency=201), "max_concurrency"),
        (lambda: ServerlessInference(max_concurrency=5, provisioned_concurrency=6), "provisioned_concurrency"),
        # autoscaling
        (lambda: AutoScaling(min_capacity=3, max_capacity=2), "max_capacity"),
        (lambda: AutoScaling(min_capacity=0), "min_capacity"),
        (lambda: AutoScaling(target_invocations_per_instance=0), "target_invocations_per_instance"),
        (lambda: AutoScaling(scale_in_cooldown_seconds=-1), "scale_in_cooldown_seconds"),
        (lambda: _endpoint(instance_count=5, autoscaling=AutoScaling(min_capacity=1, max_capacity=4)), "instance_count"),
        # deployment
        (lambda: DeploymentPolicy(traffic_routing="rolling"), "traffic_routing"),
        (lambda: DeploymentPolicy(traffic_routing="canary", size_percent=51), "size_percent"),
        (lambda: DeploymentPolicy(traffic_routing="canary", size_percent=0), "size_percent"),
        (lambda: DeploymentPolicy(traffic_routing="linear", size_percent=5), "size_percent"),
        (lambda: DeploymentPolicy(traffic_routing="canary"), "size_percent"),
        (lambda: DeploymentPolicy(traffic_routing="canary", size_percent=10, size_instances=1), "size_percent"),
        (lambda: DeploymentPolicy(size_percent=10), "size_percent"),
        (lambda: DeploymentPolicy(traffic_routing="canary", size_instances=0), "size_instances"),
        (lambda: DeploymentPolicy(wait_interval_seconds=3601), "wait_interval_seconds"),
        (lambda: DeploymentPolicy(termination_wait_seconds=-1), "termination_wait_seconds"),
        (lambda: DeploymentPolicy(max_execution_timeout_seconds=599), "max_execution_timeout_seconds"),
        (lambda: DeploymentPolicy(traffic_routing="canary", size_percent=10, wait_interval_seconds=600,
                                  termination_wait_seconds=300, max_execution_timeout_seconds=900),
         "max_execution_timeout_seconds"),
        (lambda: DeploymentPolicy(latency_threshold_ms=0), "latency_threshold_ms"),
        (lambda: DeploymentPolicy(error_threshold=0), "error_threshold"),
        (lambda: DeploymentPolicy(alarm_evaluation_periods=0), "alarm_evaluation_periods"),
        (lambda: _endpoint(instance_count=2, deployment=DeploymentPolicy(traffic_routing="canary", size_instances=2)),
         "deployment.size_instances"),
        (lambda: _endpoint(instance_count=1, deployment=DeploymentPolicy(traffic_routing="linear", size_instances=1)),
         "deployment.size_instances"),
        (lambda: (s := _stack()) and _endpoint(s, rollback_alarms=[
            cloudwatch.Alarm.from_alarm_arn(s, f"A{i}", f"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a{i}")
            for i in range(9)]), "rollback_alarms"),
        (lambda: _endpoint(rollback_alarms=["alarm-name"]), "rollback_alarms"),
        # encryption and network
        (lambda: (s := _stack()) and _endpoint(s, instance_type="ml.m5d.large", volume_kms_key=kms.Key(s, "K")),
         "volume_kms_key"),
        (lambda: (s := _stack()) and _endpoint(s, vpc_subnets=[ec2.Subnet.from_subnet_id(s, "Sn", "subnet-1")]),
         "security_groups"),
        (lambda: _endpoint(vpc_subnets="subnet-1"), "vpc_subnets"),
    ],
)
def test_bad_props_name_the_prop(make, prop):
    with pytest.raises(ValueError, match=f"'{prop}'"):
        make()


def test_error_message_names_owner_value_and_allowed():
    with pytest.raises(ValueError) as err:
        DeploymentPolicy(traffic_routing="canary", size_percent=60)
    assert str(err.value).startswith("DeploymentPolicy 'size_percent': invalid value 60; allowed: an integer in [1, 50]")
    with pytest.raises(ValueError) as err:
        _endpoint(serverless=_SL, network_isolation=True)
    assert "ModelEndpoint 'network_isolation'" in str(err.value) and "Serverless" in str(err.value)


def test_local_storage_instance_without_kms_is_fine_and_tokens_pass_through():
    stack = _stack()
    endpoint = _endpoint(stack, instance_type="ml.g5.xlarge")
    assert endpoint.instance_type == "ml.g5.xlarge"
    other = Stack(stack.node.root, "T")
    count = CfnParameter(other, "Count", type="Number", default=1).value_as_number
    _endpoint(other, instance_count=count)  # unresolved: checked by CloudFormation
