"""A SageMaker real-time (or serverless) endpoint with data capture, autoscaling and guarded blue/green updates."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Names, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from .. import locations
from .._validation import invalid, is_token, require_choice, require_int, require_pattern
from ._nag import acknowledge, acknowledge_bucket_grant
from .endpoint_settings import (
    MAX_ROLLBACK_ALARMS,
    MODEL_PACKAGE_ARN_RE,
    MODEL_PACKAGE_VERSION_RE,
    AutoScaling,
    DeploymentPolicy,
    ServerlessInference,
    check_endpoint_combination,
)
from .execution_role import SageMakerExecutionRole
from .secure_bucket import SecureBucket

_OWNER = "ModelEndpoint"
NAMESPACE = "AWS/SageMaker"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_VARIANT = "AllTraffic"  # the SageMaker SDK's name for a single variant
CAPTURE_MODES = ("Input", "Output")
# SageMaker's pattern for endpoint and variant names.
NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_S3_URI_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$")
_CONTENT_TYPE_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*/[a-zA-Z0-9](-*[a-zA-Z0-9.])*$")
_ENV_KEY_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")
_PREFIX_RE = re.compile(r"^(?!/)(?!.*//)[^\x00*?]*/$")
# What SageMaker needs to attach a VPC-configured model to the subnets (no resource-level permissions).
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
)


def _has(value: Any, attribute: str) -> bool:
    return value is not None and not isinstance(value, (str, bytes, int, float, Mapping)) and hasattr(value, attribute)


class ModelEndpoint(Construct):
    """An ``AWS::SageMaker::Model``, ``EndpointConfig`` and ``Endpoint`` serving one model on one variant.

    The model is either a model package (``model_package_arn``: an approved
    registry version, as an ARN or ``<group>/<version>``) or an artifact plus
    an inference image (``model_data_url`` + ``image``), never both. The
    model and endpoint config get CloudFormation-generated names: any change
    replaces them, and the endpoint (whose name is stable) moves to the new
    config through a blue/green update.

    Creates, besides the three SageMaker resources:

    * **data capture** when ``capture_bucket`` is given: inputs and/or outputs,
      ``capture_sampling_percentage`` of requests, written by SageMaker as the
      model's ``role`` to ``<capture_s3_uri>/<endpoint name>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``,
      encrypted with ``capture_key`` (default: the bucket's key). CSV and JSON
      content types are declared so request bodies are stored as text, not
      base64. The role gets ``s3:PutObject`` on exactly ``capture_prefix`` and
      use of the key;
    * **autoscaling** (``autoscaling``): an Application Auto Scaling target on
      the variant's instance count and a target-tracking policy on invocations
      per instance (SageMaker's service-linked role does the scaling);
    * **rollback alarms**: ``Invocation5XXErrors`` and ``ModelLatency`` (p99)
      of the endpoint, thresholds from ``deployment``. They, plus any
      ``rollback_alarms`` given, are the endpoint's ``AutoRollbackConfiguration``:
      any of them in ALARM during a baking period rolls an update back;
    * the endpoint's **deployment policy**: blue/green all at once, canary or
      linear traffic shifting, baking waits, termination wait, timeout.

    Encryption: ``volume_kms_key`` encrypts the instances' storage volumes
    (not allowed on instance types with local NVMe storage, which the
    hardware encrypts). Network: ``vpc_subnets`` + ``security_groups`` attach
    the model to a VPC (the role gets the ENI permissions SageMaker needs);
    ``network_isolation`` (default: on, off for serverless) denies the
    container any network access. A ``serverless`` variant rejects what AWS
    does not support for it: data capture, VPC, network isolation,
    instance autoscaling, instance-sized canaries.

    With autoscaling, updates keep the current instance count
    (``RetainAllVariantProperties``); changing the instance type of an
    autoscaled variant fails in SageMaker: remove ``autoscaling``, deploy,
    change the type, deploy, add it back.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        role: SageMakerExecutionRole | iam.IRole,
        model_package_arn: str | None = None,
        model_data_url: str | None = None,
        image: str | None = None,
        environment: Mapping[str, str] | None = None,
        endpoint_name: str | None = None,
        variant_name: str = DEFAULT_VARIANT,
        instance_type: str | None = None,
        instance_count: int = 1,
        serverless: ServerlessInference | None = None,
        autoscaling: AutoScaling | None = None,
        capture_bucket: SecureBucket | s3.IBucket | None = None,
        capture_sampling_percentage: int = 100,
        capture_modes: Sequence[str] = CAPTURE_MODES,
        capture_csv_content_types: Sequence[str] = ("text/csv",),
        capture_json_content_types: Sequence[str] = ("application/json",),
        capture_key: kms.IKey | None = None,
        capture_root_prefix: str = locations.DATA_CAPTURE,
        volume_kms_key: kms.IKey | None = None,
        vpc_subnets: Sequence[ec2.ISubnet] = (),
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        network_isolation: bool | None = None,
        deployment: DeploymentPolicy | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        super().__init__(scope, id)
        deployment = deployment if deployment is not None else DeploymentPolicy()
        self._validate_model(model_package_arn, model_data_url, image, environment)
        if instance_type is None and serverless is None:
            instance_type = DEFAULT_INSTANCE_TYPE
        self._validate_types(role, serverless, autoscaling, deployment, capture_bucket, capture_key, volume_kms_key,
                             network_isolation, vpc_subnets, security_groups, rollback_alarms)
        vpc = bool(vpc_subnets) or bool(security_groups)
        if bool(vpc_subnets) != bool(security_groups):
            missing, given = ("security_groups", "vpc_subnets") if vpc_subnets else ("vpc_subnets", "security_groups")
            raise invalid(_OWNER, missing, [], f"at least one, together with {given}")
        check_endpoint_combination(
            _OWNER, "",
            instance_type=instance_type, instance_count=instance_count, serverless=serverless,
            autoscaling=autoscaling, deployment=deployment,
            capture=capture_bucket is not None, capture_prop="capture_bucket",
            capture_value=getattr(capture_bucket, "node", None) and capture_bucket.node.path,
            network_isolation=network_isolation, vpc=vpc, vpc_prop="vpc_subnets",
            volume_kms=volume_kms_key is not None, volume_kms_prop="volume_kms_key",
        )
        require_pattern(_OWNER, "variant_name", variant_name, NAME_RE, "1-63 letters, digits and hyphens")
        if endpoint_name is None:
            endpoint_name = Names.unique_resource_name(self, max_length=63, separator="-").lower()
        require_pattern(_OWNER, "endpoint_name", endpoint_name, NAME_RE,
                        "1-63 letters, digits and hyphens, starting and ending with a letter or digit")
        if capture_bucket is not None:
            require_int(_OWNER, "capture_sampling_percentage", capture_sampling_percentage, minimum=0, maximum=100)
            modes = self._validate_capture_modes(capture_modes)
            csv_types = self._validate_content_types("capture_csv_content_types", capture_csv_content_types)
            json_types = self._validate_content_types("capture_json_content_types", capture_json_content_types)
            require_pattern(_OWNER, "capture_root_prefix", capture_root_prefix, _PREFIX_RE,
                            "a key prefix ending with '/', not starting with '/'")
        if len(rollback_alarms) + 2 > MAX_ROLLBACK_ALARMS:
            raise invalid(_OWNER, "rollback_alarms", f"{len(rollback_alarms)} alarms",
                          f"at most {MAX_ROLLBACK_ALARMS - 2} (SageMaker watches at most {MAX_ROLLBACK_ALARMS} "
                          "alarms and the endpoint adds 2)")

        self._role = role.role if isinstance(role, SageMakerExecutionRole) else role
        self._role_scope: Construct = role  # a SageMakerExecutionRole includes its base policy
        self.endpoint_name: str = endpoint_name
        self.variant_name: str = variant_name
        self.instance_type = instance_type
        self.serverless = serverless
        self.autoscaling = autoscaling
        self.deployment = deployment
        self.network_isolation: bool = serverless is None if network_isolation is None else network_isolation
        stack = Stack.of(self)
        # SageMaker lower-cases names in ARNs.
        self.endpoint_arn: str = stack.format_arn(
            service="sagemaker", resource="endpoint",
            resource_name=endpoint_name if is_token(endpoint_name) else endpoint_name.lower(),
        )

        # ---------------------------------------------------------- capture
        self.capture_bucket: s3.IBucket | None = None
        self.capture_prefix: str | None = None
        self.capture_s3_uri: str | None = None
        self.capture_key: kms.IKey | None = None
        capture_config = None
        if capture_bucket is not None:
            bucket = capture_bucket.bucket if isinstance(capture_bucket, SecureBucket) else capture_bucket
            self.capture_bucket = bucket
            self.capture_key = capture_key or (
                capture_bucket.encryption_key if isinstance(capture_bucket, SecureBucket) else bucket.encryption_key
            )
            self.capture_s3_uri = locations.s3_uri(bucket.bucket_name, capture_root_prefix.rstrip("/"))
            self.capture_prefix = f"{capture_root_prefix}{endpoint_name}/"
            capture_config = sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
                enable_capture=True,
                initial_sampling_percentage=capture_sampling_percentage,
                destination_s3_uri=self.capture_s3_uri,
                capture_options=[
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=mode) for mode in modes
                ],
                capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                    csv_content_types=csv_types or None, json_content_types=json_types or None,
                ),
                kms_key_id=self.capture_key.key_arn if self.capture_key is not None else None,
            )
            self._grant_capture(bucket, capture_key)

        # ----------------------------------------------------------- model
        if vpc:
            self._grant_vpc_access()
        container = sagemaker.CfnModel.ContainerDefinitionProperty(
            model_package_name=self._package_arn(model_package_arn) if model_package_arn is not None else None,
            image=image,
            model_data_url=model_data_url,
            environment=dict(environment) if environment else None,
        )
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self._role.role_arn,
            primary_container=container,
            enable_network_isolation=self.network_isolation,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=[s.subnet_id for s in vpc_subnets],
                security_group_ids=[g.security_group_id for g in security_groups],
            ) if vpc else None,
        )

        # ---------------------------------------------------------- config
        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=variant_name,
            model_name=self.model.attr_model_name,
            initial_variant_weight=1.0,
            instance_type=instance_type,
            initial_instance_count=instance_count if serverless is None else None,
            serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                memory_size_in_mb=serverless.memory_size_in_mb,
                max_concurrency=serverless.max_concurrency,
                provisioned_concurrency=serverless.provisioned_concurrency,
            ) if serverless is not None else None,
        )
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[variant],
            data_capture_config=capture_config,
            kms_key_id=volume_kms_key.key_arn if volume_kms_key is not None else None,
        )

        # --------------------------------------------------------- endpoint
        self.error_alarm, self.latency_alarm = self._create_rollback_alarms(deployment)
        self.rollback_alarms: list[cloudwatch.IAlarm] = [self.error_alarm, self.latency_alarm, *rollback_alarms]
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=self._deployment_config(deployment),
            # Autoscaling owns the instance count: an update starts the new fleet
            # at the current count, not the configured initial one.
            retain_all_variant_properties=True if autoscaling is not None else None,
            exclude_retained_variant_properties=[
                sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type="DataCaptureConfig"),
            ] if autoscaling is not None else None,
        )
        # SageMaker checks artifact, image and capture access when it creates
        # the endpoint: every grant on the role must exist by then.
        self.endpoint.node.add_dependency(self._role_scope)

        self.scalable_target: appscaling.CfnScalableTarget | None = None
        self.scaling_policy: appscaling.CfnScalingPolicy | None = None
        if autoscaling is not None:
            self._create_autoscaling(autoscaling)

    # ------------------------------------------------------------ validation
    @staticmethod
    def _validate_model(package: Any, data_url: Any, image: Any, environment: Any) -> None:
        if package is not None:
            if data_url is not None or image is not None:
                raise invalid(_OWNER, "model_package_arn", package,
                              "either model_package_arn, or model_data_url with image, not both")
            if not is_token(package) and (not isinstance(package, str) or not (
                    MODEL_PACKAGE_ARN_RE.match(package) or MODEL_PACKAGE_VERSION_RE.match(package))):
                raise invalid(_OWNER, "model_package_arn", package,
                              "arn:<partition>:sagemaker:<region>:<account>:model-package/<group>[/<version>] "
                              "or <group>/<version>")
        else:
            if data_url is None and image is None:
                raise invalid(_OWNER, "model_package_arn", None,
                              "a model package ARN, or model_data_url with image")
            if image is None:
                raise invalid(_OWNER, "image", None, "an inference image URI together with model_data_url")
            if data_url is None:
                raise invalid(_OWNER, "model_data_url", None, "an s3:// URI of model.tar.gz together with image")
            if not is_token(data_url) and (not isinstance(data_url, str) or not _S3_URI_RE.match(data_url)):
                raise invalid(_OWNER, "model_data_url", data_url, "an s3://<bucket>/<key> URI")
            if not is_token(image) and (not isinstance(image, str) or not image or any(c.isspace() for c in image)):
                raise invalid(_OWNER, "image", image, "an image URI like <registry>/<repository>:<tag>")
        if environment is not None:
            if not isinstance(environment, Mapping) or len(environment) > 100:
                raise invalid(_OWNER, "environment", environment, "a mapping of at most 100 variables")
            for key, value in environment.items():
                if not isinstance(key, str) or not _ENV_KEY_RE.match(key):
                    raise invalid(_OWNER, "environment", key, "variable names of letters, digits and '_'")
                if not isinstance(value, str) or len(value) > 1024:
                    raise invalid(_OWNER, "environment", value, "string values of at most 1024 characters")

    @staticmethod
    def _validate_types(role, serverless, autoscaling, deployment, capture_bucket, capture_key, volume_kms_key,
                        network_isolation, vpc_subnets, security_groups, rollback_alarms) -> None:
        # jsii interfaces (IRole, IBucket, ...) are not runtime-checkable: test an attribute each one has.
        expected = (
            ("role", role, lambda v: isinstance(v, SageMakerExecutionRole) or _has(v, "role_arn"),
             "a SageMakerExecutionRole or iam.IRole", False),
            ("serverless", serverless, lambda v: isinstance(v, ServerlessInference), "a ServerlessInference", True),
            ("autoscaling", autoscaling, lambda v: isinstance(v, AutoScaling), "an AutoScaling", True),
            ("deployment", deployment, lambda v: isinstance(v, DeploymentPolicy), "a DeploymentPolicy", False),
            ("capture_bucket", capture_bucket, lambda v: isinstance(v, SecureBucket) or _has(v, "bucket_arn"),
             "a SecureBucket or s3.IBucket", True),
            ("capture_key", capture_key, lambda v: _has(v, "key_arn"), "a kms.IKey", True),
            ("volume_kms_key", volume_kms_key, lambda v: _has(v, "key_arn"), "a kms.IKey", True),
            ("network_isolation", network_isolation, lambda v: isinstance(v, bool), "True | False | None", True),
        )
        for prop, value, ok, allowed, optional in expected:
            if not (value is None and optional) and not ok(value):
                raise invalid(_OWNER, prop, value, allowed)
        for prop, values, attr, kind in (("vpc_subnets", vpc_subnets, "subnet_id", "ec2.ISubnet"),
                                         ("security_groups", security_groups, "security_group_id", "ec2.ISecurityGroup"),
                                         ("rollback_alarms", rollback_alarms, "alarm_arn", "cloudwatch.IAlarm")):
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not all(
                    _has(v, attr) for v in values):
                raise invalid(_OWNER, prop, values, f"a list of {kind}")

    @staticmethod
    def _validate_capture_modes(modes: Any) -> list[str]:
        if isinstance(modes, str) or not isinstance(modes, Sequence) or not modes:
            raise invalid(_OWNER, "capture_modes", modes, "a non-empty list of " + " | ".join(CAPTURE_MODES))
        chosen = list(dict.fromkeys(require_choice(_OWNER, "capture_modes", m, CAPTURE_MODES) for m in modes))
        return chosen

    @staticmethod
    def _validate_content_types(prop: str, types: Any) -> list[str]:
        if isinstance(types, str) or not isinstance(types, Sequence) or len(types) > 10:
            raise invalid(_OWNER, prop, types, "a list of at most 10 content types like text/csv")
        for content_type in types:
            require_pattern(_OWNER, prop, content_type, _CONTENT_TYPE_RE, "content types like text/csv")
        return list(types)

    # -------------------------------------------------------------- builders
    def _package_arn(self, package: str) -> str:
        if is_token(package) or package.startswith("arn:"):
            return package
        return Stack.of(self).format_arn(service="sagemaker", resource="model-package", resource_name=package)

    def _grant_capture(self, bucket: s3.IBucket, capture_key: kms.IKey | None) -> None:
        assert self.capture_prefix is not None
        bucket.grant_put(self._role, f"{self.capture_prefix}*")
        if capture_key is not None and capture_key is not bucket.encryption_key:
            capture_key.grant_encrypt(self._role)
        acknowledge_bucket_grant(
            self._role, bucket, f"{self.capture_prefix}*",
            f"SageMaker writes this endpoint's captured requests under '{self.capture_prefix}' "
            "(one object per variant and hour).",
        )

    def _grant_vpc_access(self) -> None:
        self._role.add_to_principal_policy(iam.PolicyStatement(actions=list(VPC_ACTIONS), resources=["*"]))
        acknowledge(
            self._role,
            "AwsSolutions-IAM5[Resource::*]",
            "SageMaker creates and deletes the model's network interfaces in the given subnets; the EC2 "
            "network-interface and Describe actions support no resource-level permissions.",
        )

    def _create_rollback_alarms(self, deployment: DeploymentPolicy) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
        periods = deployment.alarm_evaluation_periods
        errors = cloudwatch.Alarm(
            self,
            "Invocation5xxAlarm",
            metric=self.metric_invocation_5xx_errors(period=Duration.minutes(1)),
            threshold=deployment.error_threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"Endpoint {self.endpoint_name}: >= {deployment.error_threshold} 5XX errors a minute for "
                f"{periods} minute(s); rolls back a deployment in progress."
            ),
        )
        latency = cloudwatch.Alarm(
            self,
            "ModelLatencyAlarm",
            metric=self.metric_model_latency(statistic="p99", period=Duration.minutes(1)),
            threshold=deployment.latency_threshold_ms * 1000,  # ModelLatency is in microseconds
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"Endpoint {self.endpoint_name}: p99 model latency above {deployment.latency_threshold_ms} ms for "
                f"{periods} minute(s); rolls back a deployment in progress."
            ),
        )
        return errors, latency

    def _deployment_config(self, deployment: DeploymentPolicy) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        size = None
        if deployment.traffic_routing != "all_at_once":
            size = sagemaker.CfnEndpoint.CapacitySizeProperty(
                type="CAPACITY_PERCENT" if deployment.size_percent is not None else "INSTANCE_COUNT",
                value=deployment.size_percent if deployment.size_percent is not None else deployment.size_instances,
            )
        routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
            type=deployment.cfn_type,
            canary_size=size if deployment.traffic_routing == "canary" else None,
            linear_step_size=size if deployment.traffic_routing == "linear" else None,
            wait_interval_in_seconds=(
                deployment.wait_interval_seconds if deployment.traffic_routing != "all_at_once" else None
            ),
        )
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=routing,
                termination_wait_in_seconds=deployment.termination_wait_seconds,
                maximum_execution_timeout_in_seconds=deployment.max_execution_timeout_seconds,
            ),
            auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in self.rollback_alarms],
            ),
        )

    def _create_autoscaling(self, autoscaling: AutoScaling) -> None:
        # L1 on purpose: without RoleARN, Application Auto Scaling uses (and
        # creates if needed) its SageMaker service-linked role; the L2 would
        # add an extra, permission-less role.
        self.scalable_target = appscaling.CfnScalableTarget(
            self,
            "ScalableTarget",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=f"endpoint/{self.endpoint.attr_endpoint_name}/variant/{self.variant_name}",
            min_capacity=autoscaling.min_capacity,
            max_capacity=autoscaling.max_capacity,
        )
        policy = appscaling.CfnScalingPolicy
        self.scaling_policy = policy(
            self,
            "InvocationsPerInstance",
            policy_name="invocations-per-instance",
            policy_type="TargetTrackingScaling",
            scaling_target_id=self.scalable_target.ref,
            target_tracking_scaling_policy_configuration=policy.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=autoscaling.target_invocations_per_instance,
                predefined_metric_specification=policy.PredefinedMetricSpecificationProperty(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance",
                ),
                scale_in_cooldown=autoscaling.scale_in_cooldown_seconds,
                scale_out_cooldown=autoscaling.scale_out_cooldown_seconds,
            ),
        )

    # --------------------------------------------------------------- metrics
    def metric(
        self, metric_name: str, *, statistic: str = "Sum", period: Duration | None = None, **kwargs: Any
    ) -> cloudwatch.Metric:
        """A metric of this endpoint's variant in ``AWS/SageMaker`` (dimensions EndpointName, VariantName)."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": self.variant_name},
            statistic=statistic,
            period=period or Duration.minutes(1),
            **kwargs,
        )

    def metric_invocations(self, *, statistic: str = "Sum", period: Duration | None = None) -> cloudwatch.Metric:
        """Requests sent to the variant."""
        return self.metric("Invocations", statistic=statistic, period=period)

    def metric_invocations_per_instance(self, *, statistic: str = "Sum", period: Duration | None = None
                                        ) -> cloudwatch.Metric:
        """Invocations divided by the instance count (what autoscaling tracks)."""
        return self.metric("InvocationsPerInstance", statistic=statistic, period=period)

    def metric_model_latency(self, *, statistic: str = "Average", period: Duration | None = None) -> cloudwatch.Metric:
        """Time the model container took to respond, in microseconds."""
        return self.metric("ModelLatency", statistic=statistic, period=period)

    def metric_overhead_latency(self, *, statistic: str = "Average", period: Duration | None = None
                                ) -> cloudwatch.Metric:
        """Time SageMaker added on top of the model latency, in microseconds."""
        return self.metric("OverheadLatency", statistic=statistic, period=period)

    def metric_invocation_4xx_errors(self, *, statistic: str = "Sum", period: Duration | None = None
                                     ) -> cloudwatch.Metric:
        """Requests the model answered with a 4XX status."""
        return self.metric("Invocation4XXErrors", statistic=statistic, period=period)

    def metric_invocation_5xx_errors(self, *, statistic: str = "Sum", period: Duration | None = None
                                     ) -> cloudwatch.Metric:
        """Requests the model answered with a 5XX status."""
        return self.metric("Invocation5XXErrors", statistic=statistic, period=period)

    # ---------------------------------------------------------------- grants
    @property
    def role(self) -> iam.IRole:
        """The model's execution role (reads artifacts, writes captured data)."""
        return self._role

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """``sagemaker:InvokeEndpoint`` on this endpoint only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )
