"""ModelEndpoint: an IEndpoint with model, capture, KMS, VPC, autoscaling, blue/green + rollback alarms, serverless,
bring-your-own roles and buckets, references across stacks, importers, bad input."""

import json

import pytest
from aws_cdk import App, CfnParameter, Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Capture, Match, Template

from mlops_cdk import SageMakerExecutionRole, image_uri
from mlops_cdk.constructs.serving.model_endpoint import ModelEndpoint
from mlops_cdk.settings import AutoScaling, DeploymentPolicy, ServerlessInference, has_instance_storage
from mlops_cdk.settings.off_hours import OffHoursScaling
from tests.harness import ACCOUNT, REGION, imported_resources, logical_ids, own_resources, role_statements, synth

ENDPOINT = "fraud-scoring"
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/fraud-detection/7"
MODEL_DATA = "s3://example-artifacts/fraud/model.tar.gz"
SUBNETS = ("subnet-0123456789abcdef0", "subnet-0fedcba9876543210")
SECURITY_GROUP = "sg-0123456789abcdef0"
DIMENSIONS = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]


def _subnet(scope, id, subnet_id):
    return ec2.Subnet.from_subnet_attributes(scope, id, subnet_id=subnet_id, route_table_id="rtb-0123456789abcdef0")


@pytest.fixture(scope="module")
def built():
    """One synth, six stacks: every option on plain resources, serverless on an imported role, an imported
    bucket with an explicit key, a role of another stack, and a consumer of the first endpoint in a stack of its own."""
    o = {}

    def build(app):
        # Plain aws-cdk-lib role, bucket and key in the endpoint's stack; every option.
        stack = o["stack"] = Stack(app, "Endpoint")
        team = o["team"] = own_resources(stack)
        o["volume_key"] = kms.Key(stack, "VolumeKey", enable_key_rotation=True)
        o["extra"] = cloudwatch.Alarm(
            stack, "ExtraAlarm", threshold=10, evaluation_periods=1,
            metric=cloudwatch.Metric(namespace="Custom", metric_name="BusinessErrors", period=Duration.minutes(1)))
        o["image"] = image_uri(stack, "xgboost")
        o["endpoint"] = ModelEndpoint(
            stack, "Scoring",
            role=team.execution_role,
            model_data_url=MODEL_DATA,
            image=o["image"],
            environment={"SAGEMAKER_PROGRAM": "inference.py"},
            endpoint_name=ENDPOINT,
            instance_type="ml.m5.xlarge",
            instance_count=2,
            autoscaling=AutoScaling(min_capacity=2, max_capacity=8, target_invocations_per_instance=750,
                                    scale_in_cooldown_seconds=600, scale_out_cooldown_seconds=30,
                                    off_hours=OffHoursScaling(scale_in="cron(30 18 ? * MON-FRI *)",
                                                              scale_out="cron(0 6 ? * MON-FRI *)",
                                                              time_zone="Europe/Berlin", capacity=1)),
            capture_bucket=team.data_bucket,
            capture_sampling_percentage=30,
            capture_modes=["Input"],
            volume_kms_key=o["volume_key"],
            vpc_subnets=[_subnet(stack, "SubnetA", SUBNETS[0]), _subnet(stack, "SubnetB", SUBNETS[1])],
            security_groups=[ec2.SecurityGroup.from_security_group_id(stack, "Sg", SECURITY_GROUP)],
            deployment=DeploymentPolicy(traffic_routing="linear", size_percent=20, wait_interval_seconds=120,
                                        termination_wait_seconds=300, max_execution_timeout_seconds=1800,
                                        error_threshold=3, latency_threshold_ms=250, alarm_evaluation_periods=3),
            rollback_alarms=[o["extra"]],
        )
        o["caller"] = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        o["endpoint"].grant_invoke(o["caller"])

        # Serverless on an imported role, package given as <group>/<version>.
        other = o["serverless_stack"] = Stack(app, "Serverless")
        o["serverless"] = ModelEndpoint(
            other, "Scoring",
            role=imported_resources(other).execution_role,
            model_package_arn="fraud-detection/7",
            serverless=ServerlessInference(memory_size_in_mb=3072, max_concurrency=10, provisioned_concurrency=2),
            deployment=DeploymentPolicy(traffic_routing="canary", size_percent=10, wait_interval_seconds=60),
        )

        # An imported bucket without a key, an explicit imported key, an imported role.
        imported = o["imported_stack"] = Stack(app, "Imported")
        team_imported = o["team_imported"] = imported_resources(imported)
        o["imported"] = ModelEndpoint(
            imported, "Scoring",
            role=team_imported.execution_role,
            model_package_arn=PACKAGE_ARN,
            endpoint_name="imported-scoring",
            capture_bucket=s3.Bucket.from_bucket_name(imported, "CaptureBucket", "team-capture"),
            capture_key=team_imported.data_key,
        )

        # The role lives in another stack; the capture bucket in the endpoint's.
        platform = o["platform_stack"] = Stack(app, "Platform")
        o["platform_role"] = SageMakerExecutionRole(platform, "Role", images=["xgboost"])
        foreign = o["foreign_stack"] = Stack(app, "ForeignRole")
        o["foreign"] = ModelEndpoint(
            foreign, "Scoring",
            role=o["platform_role"],
            model_package_arn=PACKAGE_ARN,
            endpoint_name="foreign-scoring",
            capture_bucket=own_resources(foreign).data_bucket,
        )

        # Another stack alarms on and invokes the first endpoint; imports by name and ARN.
        consumer = o["consumer"] = Stack(app, "Consumer")
        cloudwatch.Alarm(consumer, "Invocations", metric=o["endpoint"].metric_invocations(),
                         threshold=1, evaluation_periods=1)
        invoker = iam.Role(consumer, "Invoker", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        o["endpoint"].grant_invoke(invoker)
        o["by_name"] = ModelEndpoint.from_endpoint_name(consumer, "ByName", "Fraud-Scoring")
        o["by_arn"] = ModelEndpoint.from_endpoint_arn(
            consumer, "ByArn", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/legacy-scoring")
        o["by_name"].grant_invoke(invoker)

    return synth(build), o


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def o(built):
    return built[1]


@pytest.fixture(scope="module")
def tpl(result):
    return result.template("Endpoint")


def _id(stack, construct):
    return stack.get_logical_id(construct.node.default_child)


def _actions(statement):
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


# ----------------------------------------------------------------- the model
def test_model_from_artifact_and_image_with_isolation_and_vpc(tpl, o):
    tpl.has_resource_properties("AWS::SageMaker::Model", {
        "PrimaryContainer": {"ModelDataUrl": MODEL_DATA, "Image": o["stack"].resolve(o["image"]),
                             "Environment": {"SAGEMAKER_PROGRAM": "inference.py"},
                             "ModelPackageName": Match.absent()},
        "EnableNetworkIsolation": True,
        "VpcConfig": {"Subnets": list(SUBNETS), "SecurityGroupIds": [SECURITY_GROUP]},
        "ExecutionRoleArn": {"Fn::GetAtt": [_id(o["stack"], o["team"].execution_role), "Arn"]},
        "ModelName": Match.absent(),  # generated: a changed model is replaced, not renamed
    })


def test_model_and_config_names_are_generated_endpoint_name_is_stable(tpl, o):
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {"EndpointConfigName": Match.absent()})
    tpl.has_resource_properties("AWS::SageMaker::Endpoint", {
        "EndpointName": ENDPOINT,
        "EndpointConfigName": {"Fn::GetAtt": [o["stack"].get_logical_id(o["endpoint"].endpoint_config),
                                              "EndpointConfigName"]},
    })


def test_variant_instances_and_volume_key(tpl, o):
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "ProductionVariants": [{"VariantName": "AllTraffic", "InstanceType": "ml.m5.xlarge",
                                "InitialInstanceCount": 2, "InitialVariantWeight": 1,
                                "ModelName": Match.any_value(), "ServerlessConfig": Match.absent()}],
        "KmsKeyId": {"Fn::GetAtt": [_id(o["stack"], o["volume_key"]), "Arn"]},
    })


# -------------------------------------------------------------- data capture
def test_data_capture_config_into_the_bucket_with_its_own_key(tpl, o):
    stack, team = o["stack"], o["team"]
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {"DataCaptureConfig": {
        "EnableCapture": True,
        "InitialSamplingPercentage": 30,
        "CaptureOptions": [{"CaptureMode": "Input"}],
        # Declared content types: SageMaker stores CSV/JSON bodies as text, not base64.
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
        "DestinationS3Uri": {"Fn::Join": ["", ["s3://", {"Ref": _id(stack, team.data_bucket)}, "/data-capture"]]},
        "KmsKeyId": {"Fn::GetAtt": [_id(stack, team.data_key), "Arn"]},
    }})


def test_capture_attributes_and_monitored_endpoint(o):
    stack, endpoint, team = o["stack"], o["endpoint"], o["team"]
    assert endpoint.capture_prefix == f"data-capture/{ENDPOINT}/"
    assert endpoint.capture_bucket is team.data_bucket and endpoint.capture_key is team.data_key
    monitored = endpoint.monitored_endpoint
    assert monitored.endpoint is endpoint and monitored.deployed is True
    assert (monitored.capture_bucket, monitored.capture_key) == (team.data_bucket, team.data_key)
    assert (monitored.capture_prefix, monitored.variant_name) == ("data-capture/", "AllTraffic")
    # A reference to the endpoint, so a monitor of the prefix waits for it.
    name = {"Fn::GetAtt": [stack.get_logical_id(endpoint.cfn_endpoint), "EndpointName"]}
    assert stack.resolve(monitored.endpoint_capture_prefix) == {"Fn::Join": ["", ["data-capture/", name, "/"]]}


def test_role_may_write_exactly_the_capture_prefix(tpl, o):
    stack, team = o["stack"], o["team"]
    statements = role_statements(tpl.to_json(), _id(stack, team.execution_role))
    puts = [s for s in statements if "s3:PutObject" in _actions(s)]
    assert [p["Resource"] for p in puts] == [
        {"Fn::Join": ["", [{"Fn::GetAtt": [_id(stack, team.data_bucket), "Arn"]}, f"/data-capture/{ENDPOINT}/*"]]}]
    assert not any("s3:DeleteObject*" in _actions(s) for s in statements)
    # The bucket's own key: one KMS statement (from the bucket grant), no second one from capture_key.
    assert len([s for s in statements if any(a.startswith("kms:") for a in _actions(s))]) == 1


def test_role_may_manage_enis_for_the_vpc(tpl, o):
    statements = role_statements(tpl.to_json(), _id(o["stack"], o["team"].execution_role))
    assert [s["Resource"] for s in statements if "ec2:CreateNetworkInterface" in _actions(s)] == ["*"]


def test_endpoint_waits_for_the_role_and_its_policies(tpl, o):
    stack, role = o["stack"], o["team"].execution_role
    policies = tpl.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": _id(stack, role)}]}})
    (endpoint,) = tpl.find_resources("AWS::SageMaker::Endpoint").values()
    assert policies and {*policies, _id(stack, role)} <= set(endpoint["DependsOn"])


# ------------------------------------------------------ deployment, rollback
def test_linear_blue_green_with_rollback_on_own_and_given_alarms(tpl, o):
    stack, endpoint = o["stack"], o["endpoint"]
    own = [stack.get_logical_id(a.node.default_child) for a in (endpoint.error_alarm, endpoint.latency_alarm)]
    tpl.has_resource_properties("AWS::SageMaker::Endpoint", {"DeploymentConfig": {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "LINEAR", "WaitIntervalInSeconds": 120,
                                            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20}},
            "TerminationWaitInSeconds": 300,
            "MaximumExecutionTimeoutInSeconds": 1800,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": {"Ref": i}} for i in
                                                 [*own, _id(stack, o["extra"])]]},
    }})


def test_rollback_alarms_watch_5xx_and_maximum_latency_each_minute_by_literal_name(tpl):
    common = {"Namespace": "AWS/SageMaker", "Dimensions": DIMENSIONS, "Period": 60, "EvaluationPeriods": 3,
              "DatapointsToAlarm": 3, "TreatMissingData": "notBreaching"}
    tpl.has_resource_properties("AWS::CloudWatch::Alarm", {
        **common, "MetricName": "Invocation5XXErrors", "Statistic": "Sum", "Threshold": 3,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold"})
    # A statistic AWS documents for ModelLatency (Average, Sum, Min, Max, SampleCount), not a percentile.
    tpl.has_resource_properties("AWS::CloudWatch::Alarm", {
        **common, "MetricName": "ModelLatency", "Statistic": "Maximum", "ExtendedStatistic": Match.absent(),
        "Threshold": 250_000,  # microseconds
        "ComparisonOperator": "GreaterThanThreshold"})


def test_role_may_describe_exactly_the_rollback_alarms(tpl, o):
    """SageMaker reads the auto-rollback alarms with the execution role (deployment guardrails guide)."""
    stack, endpoint = o["stack"], o["endpoint"]
    arns = [stack.resolve(a.alarm_arn) for a in (endpoint.error_alarm, endpoint.latency_alarm, o["extra"])]
    statements = role_statements(tpl.to_json(), _id(stack, o["team"].execution_role))
    (describe,) = [s for s in statements if "cloudwatch:DescribeAlarms" in _actions(s)]
    assert _actions(describe) == ["cloudwatch:DescribeAlarms"]
    assert sorted(map(json.dumps, describe["Resource"])) == sorted(map(json.dumps, arns))
    # Every rollback alarm the endpoint lists is readable, and nothing else.
    (endpoint_resource,) = tpl.find_resources("AWS::SageMaker::Endpoint").values()
    listed = endpoint_resource["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert sorted(a["AlarmName"]["Ref"] for a in listed) == sorted(a["Fn::GetAtt"][0] for a in arns)


def test_rollback_alarm_grants_follow_the_role(result, o):
    imported = result.template("Imported")  # an imported mutable role: a policy of the endpoint's stack
    imported.has_resource_properties("AWS::IAM::Policy", {"Roles": ["team-sagemaker"], "PolicyDocument": {
        "Statement": Match.array_with([{"Sid": "ReadRollbackAlarms", "Effect": "Allow",
                                        "Action": "cloudwatch:DescribeAlarms",
                                        "Resource": Match.array_with([
                                            {"Fn::GetAtt": [Match.string_like_regexp("^ScoringInvocation5xx"), "Arn"]},
                                            {"Fn::GetAtt": [Match.string_like_regexp("^ScoringModelLatency"), "Arn"]},
                                        ])}])}})
    foreign = result.template("ForeignRole")  # a role of another stack: the endpoint stack's own policy
    foreign.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "ReadRollbackAlarms", "Action": "cloudwatch:DescribeAlarms"})])}})
    assert "cloudwatch:DescribeAlarms" not in json.dumps(result.json("Platform"))
    # An imported role with nothing else to grant gets a policy of its own, which the endpoint waits for.
    serverless = result.template("Serverless")
    (policy_id,) = serverless.find_resources("AWS::IAM::Policy", {"Properties": {"PolicyDocument": {
        "Statement": [Match.object_like({"Sid": "ReadRollbackAlarms"})]}}})
    serverless.has_resource("AWS::SageMaker::Endpoint", {"DependsOn": Match.array_with([policy_id])})


def test_all_at_once_always_sends_a_zero_wait_interval(result):
    """The SageMaker API requires TrafficRoutingConfig.WaitIntervalInSeconds, all at once included."""
    result.template("Imported").has_resource_properties("AWS::SageMaker::Endpoint", {"DeploymentConfig": {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                                  "TerminationWaitInSeconds": 300}}})


# --------------------------------------------------------------- autoscaling
def test_autoscaling_target_and_policy(tpl, o):
    stack, endpoint = o["stack"], o["endpoint"]
    target = Capture()
    tpl.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {
        "ServiceNamespace": "sagemaker",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2, "MaxCapacity": 8,
        "ResourceId": {"Fn::Join": ["", ["endpoint/", {"Fn::GetAtt": [stack.get_logical_id(endpoint.cfn_endpoint),
                                                                       "EndpointName"]}, "/variant/AllTraffic"]]},
        "RoleARN": Match.absent(),  # the service-linked role, not an extra empty role
    })
    assert not [r for r in tpl.find_resources("AWS::IAM::Role").values() if "application-autoscaling" in str(r)]
    tpl.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "ScalingTargetId": {"Ref": target},
        "TargetTrackingScalingPolicyConfiguration": {
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "TargetValue": 750, "ScaleInCooldown": 600, "ScaleOutCooldown": 30},
    })
    assert target.as_string() == stack.get_logical_id(endpoint.scalable_target)


def test_off_hours_hold_min_and_max_at_the_off_hours_capacity_then_restore_the_range(tpl):
    # Minimum and maximum both 1 overnight (target tracking cannot scale out), the 2-8 range from 06:00 Berlin time.
    tpl.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"ScheduledActions": [
        {"ScheduledActionName": "off-hours-scale-in", "Schedule": "cron(30 18 ? * MON-FRI *)",
         "Timezone": "Europe/Berlin", "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 1}},
        {"ScheduledActionName": "working-hours-scale-out", "Schedule": "cron(0 6 ? * MON-FRI *)",
         "Timezone": "Europe/Berlin", "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 8}},
    ]})


def test_without_off_hours_no_scheduled_action(result):
    stack = Stack(App(), "Plain")
    plain = ModelEndpoint(stack, "Scoring", role=iam.Role.from_role_name(stack, "Role", "team-role"),
                          model_package_arn=PACKAGE_ARN, autoscaling=AutoScaling(max_capacity=3))
    assert plain.scalable_target.scheduled_actions is None
    for name in ("Serverless", "Imported", "ForeignRole"):  # no autoscaling: no scalable target at all
        assert not result.template(name).find_resources("AWS::ApplicationAutoScaling::ScalableTarget")


def test_autoscaled_updates_keep_the_instance_count(tpl):
    tpl.has_resource_properties("AWS::SageMaker::Endpoint", {
        "RetainAllVariantProperties": True,
        "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DataCaptureConfig"}],
    })


# ------------------------------------------------------- IEndpoint, metrics, grants
def test_endpoint_name_and_arn_are_references(o):
    stack, endpoint = o["stack"], o["endpoint"]
    endpoint_id = stack.get_logical_id(endpoint.cfn_endpoint)
    assert stack.resolve(endpoint.endpoint_name) == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    assert stack.resolve(endpoint.endpoint_arn) == {"Ref": endpoint_id}
    assert stack.resolve(endpoint.endpoint_ref.endpoint_arn) == {"Ref": endpoint_id}
    assert endpoint.node.default_child is endpoint.cfn_endpoint
    assert endpoint.role is o["team"].execution_role


def test_metrics_default_to_five_minutes_on_the_referenced_name(o):
    stack, endpoint = o["stack"], o["endpoint"]
    expected = {
        "metric_invocations": ("Invocations", "Sum"),
        "metric_invocations_per_instance": ("InvocationsPerInstance", "Sum"),
        "metric_model_latency": ("ModelLatency", "Average"),
        "metric_overhead_latency": ("OverheadLatency", "Average"),
        "metric_invocation_4xx_errors": ("Invocation4XXErrors", "Sum"),
        "metric_invocation_5xx_errors": ("Invocation5XXErrors", "Sum"),
    }
    name = {"Fn::GetAtt": [stack.get_logical_id(endpoint.cfn_endpoint), "EndpointName"]}
    for method, (metric_name, statistic) in expected.items():
        metric = getattr(endpoint, method)()
        assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/SageMaker", metric_name, statistic)
        assert stack.resolve(metric.dimensions) == {"EndpointName": name, "VariantName": "AllTraffic"}
        assert metric.period.to_seconds() == 300
    custom = endpoint.metric("ModelSetupTime", statistic="Maximum", period=Duration.minutes(1))
    assert (custom.metric_name, custom.statistic, custom.period.to_seconds()) == ("ModelSetupTime", "Maximum", 60)
    assert endpoint.metric_model_latency(statistic="p90").statistic == "p90"


def test_instance_count_stand_ins_and_what_their_arithmetic_yields(o):
    stack, endpoint = o["stack"], o["endpoint"]
    name = {"Fn::GetAtt": [stack.get_logical_id(endpoint.cfn_endpoint), "EndpointName"]}

    def parts(expression):
        return {k: (m.namespace, m.metric_name, m.statistic, stack.resolve(m.dimensions))
                for k, m in expression.using_metrics.items()}

    dims = {"EndpointName": name, "VariantName": "AllTraffic"}
    serving, reporting = endpoint.metrics.metric_instance_count(), endpoint.metrics.metric_instances_reporting()
    assert parts(serving) == {"invocations": ("AWS/SageMaker", "Invocations", "Sum", dims),
                              "per_instance": ("AWS/SageMaker", "InvocationsPerInstance", "Sum", dims)}
    assert parts(reporting) == {"samples": ("/aws/sagemaker/Endpoints", "CPUUtilization", "SampleCount", dims)}
    assert serving.period.to_seconds() == reporting.period.to_seconds() == 300
    # 3 instances for 5 minutes: 90 requests each counting 1/3 per instance; 3 x 5 one-minute utilization samples.
    assert eval(serving.expression, {}, {"invocations": 90, "per_instance": 90 * (1 / 3)}) == pytest.approx(3)
    assert eval(reporting.expression, {"PERIOD": lambda _: 300}, {"samples": 15}) == 3
    assert endpoint.metrics.metric_instance_count(label="x", period=Duration.minutes(1)).period.to_seconds() == 60


def test_grant_invoke_is_scoped_to_the_endpoint(tpl, o):
    stack = o["stack"]
    tpl.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": _id(stack, o["caller"])}],
        "PolicyDocument": {"Statement": [{"Action": "sagemaker:InvokeEndpoint", "Effect": "Allow",
                                          "Resource": {"Ref": stack.get_logical_id(o["endpoint"].cfn_endpoint)}}]},
    })


def test_an_alarm_in_another_stack_depends_on_the_endpoint_stack(result, o):
    consumer = result.template("Consumer")
    from_endpoint = {"Fn::ImportValue": Match.string_like_regexp(r"^Endpoint:")}
    consumer.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Dimensions": Match.array_with([{"Name": "EndpointName", "Value": from_endpoint}])})
    consumer.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        {"Action": "sagemaker:InvokeEndpoint", "Effect": "Allow", "Resource": Match.array_with([from_endpoint])}])}})
    assert "Endpoint" in [s.stack_name for s in o["consumer"].dependencies]


def test_importers(result, o):
    consumer, by_name, by_arn = o["consumer"], o["by_name"], o["by_arn"]
    assert by_name.endpoint_name == "Fraud-Scoring"
    assert json.dumps(consumer.resolve(by_name.endpoint_arn)).endswith(':endpoint/fraud-scoring"]]}')  # lower case
    assert by_arn.endpoint_name == "legacy-scoring"
    assert by_arn.endpoint_arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/legacy-scoring"
    assert by_arn.endpoint_ref.endpoint_arn == by_arn.endpoint_arn
    result.template("Consumer").has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {
        "Statement": Match.array_with([{"Action": "sagemaker:InvokeEndpoint", "Effect": "Allow",
                                        "Resource": Match.array_with([consumer.resolve(by_name.endpoint_arn)])}])}})


def test_aws_cdk_lib_accepts_it_as_an_iendpoint():
    """An aws-cdk-lib construct that takes ``sagemaker.IEndpoint`` reads its name and calls ``grant_invoke``."""
    app = App()
    serving, api_stack = Stack(app, "Serving"), Stack(app, "Api")
    role = iam.Role(serving, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    endpoint = ModelEndpoint(serving, "Scoring", role=role, model_package_arn=PACKAGE_ARN)
    api = apigateway.RestApi(api_stack, "Api")
    for endpoint_like in (endpoint, ModelEndpoint.from_endpoint_name(api_stack, "Imported", "other-scoring")):
        api.root.add_resource(endpoint_like.node.id).add_method(
            "POST", apigateway.SagemakerIntegration(endpoint_like))
    template = Template.from_stack(api_stack)
    invoke = Capture()
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": "sagemaker:InvokeEndpoint", "Resource": invoke})])}})
    assert "Serving:" in json.dumps(invoke.as_object())  # the deployed endpoint's ARN, imported from its stack


# ---------------------------------------------------------------- serverless
def test_serverless_variant_on_an_imported_role(result, o):
    tpl = result.template("Serverless")
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "ProductionVariants": [Match.object_like({
            "ServerlessConfig": {"MemorySizeInMB": 3072, "MaxConcurrency": 10, "ProvisionedConcurrency": 2},
            "InstanceType": Match.absent(), "InitialInstanceCount": Match.absent()})],
        "DataCaptureConfig": Match.absent(),
        "KmsKeyId": Match.absent(),
    })
    tpl.has_resource_properties("AWS::SageMaker::Model", {
        "EnableNetworkIsolation": False,  # not supported for serverless
        "PrimaryContainer": {"ModelPackageName": {"Fn::Join": ["", Match.array_with([
            ":model-package/fraud-detection/7"])]}},  # <group>/<version> in the stack's account and region
        "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/team-sagemaker",
    })
    tpl.has_resource_properties("AWS::SageMaker::Endpoint", {"DeploymentConfig": {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                                        "WaitIntervalInSeconds": 60}}}})
    tpl.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    endpoint = o["serverless"]
    assert endpoint.capture_bucket is None and endpoint.capture_prefix is None and endpoint.monitored_endpoint is None
    assert len(endpoint.rollback_alarms) == 2


def test_generated_endpoint_name_is_lower_case_and_literal_in_its_own_alarms(result, o):
    stack = o["serverless_stack"]
    name = Capture()
    result.template("Serverless").has_resource_properties("AWS::SageMaker::Endpoint", {"EndpointName": name})
    assert name.as_string().startswith("serverless-scoring-") and name.as_string() == name.as_string().lower()
    result.template("Serverless").has_resource_properties("AWS::CloudWatch::Alarm", {
        "Dimensions": Match.array_with([{"Name": "EndpointName", "Value": name.as_string()}])})
    assert stack.resolve(o["serverless"].endpoint_name) == {
        "Fn::GetAtt": [stack.get_logical_id(o["serverless"].cfn_endpoint), "EndpointName"]}


# ---------------------------------------------------------- bring your own
def test_imported_bucket_with_an_explicit_key_and_an_imported_role(result, o):
    tpl, key_arn = result.template("Imported"), o["team_imported"].data_key.key_arn
    tpl.has_resource_properties("AWS::SageMaker::EndpointConfig", {"DataCaptureConfig": Match.object_like({
        "DestinationS3Uri": "s3://team-capture/data-capture", "KmsKeyId": key_arn})})
    statements = Capture()
    tpl.has_resource_properties("AWS::IAM::Policy", {
        "Roles": ["team-sagemaker"], "PolicyDocument": {"Statement": statements}})
    text = json.dumps(statements.as_array())
    assert ":s3:::team-capture/data-capture/imported-scoring/*" in text and "s3:PutObject" in text
    kms_statements = [s for s in statements.as_array() if "kms:Encrypt" in _actions(s)]
    assert [s["Resource"] for s in kms_statements] == [key_arn]  # the explicit key, granted on the key
    tpl.has_resource("AWS::SageMaker::Endpoint", {"DependsOn": Match.array_with([Match.string_like_regexp("Policy")])})


def test_role_of_another_stack_gets_grants_from_a_policy_of_the_endpoint_stack(result, o):
    platform, foreign = result.template("Platform"), result.template("ForeignRole")
    assert "data-capture" not in json.dumps(result.json("Platform"))  # nothing added to the role's own stack
    policy = foreign.find_resources("AWS::IAM::Policy")
    (policy_id,) = policy
    text = json.dumps(policy[policy_id])
    assert "/data-capture/foreign-scoring/*" in text and "Fn::ImportValue" in text  # attached to the imported role
    foreign.has_resource("AWS::SageMaker::Endpoint", {"DependsOn": [policy_id]})
    assert "Platform" in [s.stack_name for s in o["foreign_stack"].dependencies]
    platform.resource_count_is("AWS::IAM::Role", 1)


# ------------------------------------------------------------------ quality
def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert {s: result.lint(s) for s in result.stacks} == {s: [] for s in result.stacks}


def test_logical_ids(result, json_snapshot):
    assert {name: logical_ids(template) for name, template in result.stacks.items()} == json_snapshot


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
    props.setdefault("role", iam.Role.from_role_arn(stack, "R", f"arn:aws:iam::{ACCOUNT}:role/r"))
    if "model_data_url" not in props and "image" not in props:
        props.setdefault("model_package_arn", PACKAGE_ARN)
    return ModelEndpoint(stack, "E", **props)


def _bucket(stack):
    return s3.Bucket(stack, "B")


def _alarms(stack, count):
    return [cloudwatch.Alarm.from_alarm_arn(stack, f"A{i}", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:a{i}")
            for i in range(count)]


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
        (lambda: _endpoint(endpoint_name="x" * 64), "endpoint_name"),
        (lambda: _endpoint(variant_name="x" * 64), "variant_name"),
        (lambda: _endpoint(instance_type="m5.large"), "instance_type"),
        (lambda: _endpoint(instance_type="ml.p3.2xlarg"), "instance_type"),
        (lambda: _endpoint(instance_count=0), "instance_count"),
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
        (lambda: (s := _stack()) and _endpoint(s, capture_bucket=_bucket(s), capture_root_prefix="capture"),
         "capture_root_prefix"),
        (lambda: (s := _stack()) and _endpoint(s, capture_key=kms.Key(s, "K")), "capture_key"),
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
        (lambda: DeploymentPolicy(latency_statistic="SampleCount"), "latency_statistic"),
        (lambda: DeploymentPolicy(latency_statistic="p101"), "latency_statistic"),
        (lambda: DeploymentPolicy(latency_statistic="max"), "latency_statistic"),
        (lambda: _endpoint(instance_count=2, deployment=DeploymentPolicy(traffic_routing="canary", size_instances=2)),
         "deployment.size_instances"),
        (lambda: _endpoint(instance_count=1, deployment=DeploymentPolicy(traffic_routing="linear", size_instances=1)),
         "deployment.size_instances"),
        (lambda: (s := _stack()) and _endpoint(s, rollback_alarms=_alarms(s, 9)), "rollback_alarms"),
        # network
        (lambda: (s := _stack()) and _endpoint(s, vpc_subnets=[ec2.Subnet.from_subnet_id(s, "Sn", "subnet-1")]),
         "security_groups"),
        (lambda: (s := _stack()) and _endpoint(
            s, security_groups=[ec2.SecurityGroup.from_security_group_id(s, "Sg", "sg-1")]), "vpc_subnets"),
        # importers
        (lambda: ModelEndpoint.from_endpoint_name(_stack(), "I", "bad_name"), "endpoint_name"),
        (lambda: ModelEndpoint.from_endpoint_arn(_stack(), "I", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/x"),
         "endpoint_arn"),
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
    assert str(err.value).startswith("ModelEndpoint 'network_isolation': invalid value True; allowed:")
    assert "Serverless" in str(err.value)
    with pytest.raises(ValueError) as err:
        _endpoint(endpoint_name="bad_name")
    assert str(err.value).startswith("ModelEndpoint 'endpoint_name': invalid value 'bad_name'; allowed: 1-63 ")


def test_bad_input_creates_nothing():
    stack = _stack()
    with pytest.raises(ValueError):
        _endpoint(stack, instance_count=0)
    assert stack.node.try_find_child("E") is None


def test_accepted_edge_values_and_tokens_pass_through():
    stack = _stack()
    _endpoint(stack, instance_type="ml.g5.xlarge")  # local storage without a volume key is fine
    other = Stack(stack.node.root, "T")
    count = CfnParameter(other, "Count", type="Number", default=1).value_as_number
    package = CfnParameter(other, "Package").value_as_string
    name = CfnParameter(other, "Name").value_as_string
    endpoint = _endpoint(other, instance_count=count, model_package_arn=package, endpoint_name=name,
                         rollback_alarms=_alarms(other, 8))  # unresolved values: checked by CloudFormation
    assert len(endpoint.rollback_alarms) == 10
    unversioned = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/marketplace-model"
    assert _endpoint(model_package_arn=unversioned).model is not None


# ---------------------------------------------------------- synth warnings
def test_a_volume_key_on_local_storage_and_a_percentile_synthesize_with_warnings():
    """Both synthesize; each says what it does not do (the key does not cover NVMe storage; AWS documents
    no percentile for ModelLatency, so a p99 rollback alarm may never fire)."""
    stack = _stack()
    key = kms.Key(stack, "K")
    _endpoint(stack, instance_type="ml.g5.xlarge", volume_kms_key=key,
              deployment=DeploymentPolicy(latency_statistic="p99"))
    quiet = Stack(stack.node.root, "Quiet")
    _endpoint(quiet, instance_type="ml.m5.large", volume_kms_key=kms.Key(quiet, "K"),
              deployment=DeploymentPolicy(latency_statistic="Average"))
    Template.from_stack(stack).has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "KmsKeyId": stack.resolve(key.key_arn), "ProductionVariants": [Match.object_like({
            "InstanceType": "ml.g5.xlarge"})]})
    Template.from_stack(stack).has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ModelLatency", "ExtendedStatistic": "p99"})
    annotations = Annotations.from_stack(stack)
    annotations.has_warning("/S/E", Match.string_like_regexp(
        r"ml\.g5\.xlarge: the key encrypts only the EBS volume.*does not encrypt instance local storage"))
    annotations.has_warning("/S/E", Match.string_like_regexp(r"latency_statistic 'p99': AWS documents Average"))
    Template.from_stack(quiet).has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ModelLatency", "Statistic": "Average"})
    assert Annotations.from_stack(quiet).find_warning("*", Match.any_value()) == []


# ------------------------------------------------------------- model name
def _named_model(package, **props):
    stack = Stack(App(), "Named")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    endpoint = ModelEndpoint(stack, "E", role=role, model_package_arn=package, endpoint_name=ENDPOINT,
                             capture_bucket=s3.Bucket(stack, "B"), **props)
    return endpoint, Template.from_stack(stack)


def test_a_model_name_prefix_gives_a_literal_name_that_changes_when_the_model_is_replaced():
    """Every CfnModel property is create-only: a fixed name would collide on replacement."""
    endpoint, template = _named_model(PACKAGE_ARN, model_name_prefix=ENDPOINT)
    assert endpoint.model_name.startswith(f"{ENDPOINT}-") and len(endpoint.model_name) == len(ENDPOINT) + 9
    template.has_resource_properties("AWS::SageMaker::Model", {"ModelName": endpoint.model_name})
    assert endpoint.monitored_endpoint.model_name == endpoint.model_name
    again, _ = _named_model(PACKAGE_ARN, model_name_prefix=ENDPOINT)
    assert again.model_name == endpoint.model_name  # deterministic: the same template twice
    promoted, _ = _named_model(PACKAGE_ARN.replace("/7", "/8"), model_name_prefix=ENDPOINT)
    isolated, _ = _named_model(PACKAGE_ARN, model_name_prefix=ENDPOINT, network_isolation=False)
    assert len({endpoint.model_name, promoted.model_name, isolated.model_name}) == 3
    long, _ = _named_model(PACKAGE_ARN, model_name_prefix="m" * 54)
    assert len(long.model_name) == 63


def test_without_a_prefix_cloudformation_names_the_model():
    endpoint, template = _named_model(PACKAGE_ARN)
    assert endpoint.model_name is None and endpoint.monitored_endpoint.model_name is None
    template.has_resource_properties("AWS::SageMaker::Model", {"ModelName": Match.absent()})


@pytest.mark.parametrize("prefix", ["", "m" * 55, "my_model", "-model"])
def test_bad_model_name_prefix(prefix):
    with pytest.raises(ValueError, match="^ModelEndpoint 'model_name_prefix': invalid value"):
        _named_model(PACKAGE_ARN, model_name_prefix=prefix)
