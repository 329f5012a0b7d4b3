"""A SageMaker real-time (or serverless) endpoint with data capture, autoscaling and guarded blue/green updates."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Annotations, Names, Resource, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct

from ... import locations
from ..._nag import acknowledge, acknowledge_bucket_grant
from ..._validation import (
    invalid,
    is_token,
    require_bool,
    require_model_package,
    require_pattern,
    require_sagemaker_name,
)
from ...lambdas._shared import contract
from ..common.content_name import DIGEST_LENGTH, content_name
from ...settings import AutoScaling, DeploymentPolicy, ServerlessInference, check_endpoint_combination
from ...settings.endpoint import MAX_ROLLBACK_ALARMS, has_instance_storage
from .endpoint_capture import CAPTURE_MODES, capture_config, check_capture
from .endpoint_deployment import create_autoscaling, create_rollback_alarms, deployment_config, grant_describe_alarms
from .endpoint_metrics import DEFAULT_VARIANT, EndpointMetrics
from .endpoint_base import EndpointBase, ImportedEndpoint
from .monitored_endpoint import MonitoredEndpoint

_OWNER = "ModelEndpoint"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
_OWN_ALARMS = 2  # the endpoint's own rollback alarms: 5XX errors and model latency
_ENV_KEY_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")
# What SageMaker needs to attach a VPC-configured model to the subnets (no resource-level permissions).
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
)


class ModelEndpoint(EndpointBase):
    """An ``AWS::SageMaker::Model``, ``EndpointConfig`` and ``Endpoint`` serving one model on one variant.

    The model is a model package (``model_package_arn``: a registry version as
    ARN or ``<group>/<version>``, or an unversioned package ARN) or an artifact
    plus an inference image (``model_data_url`` + ``image``), never both. The
    model and endpoint config get generated names, so a change replaces them
    and the endpoint (stable name) moves to the new config by a blue/green update.

    Props (all keyword-only):
        role: the model's execution role (any ``iam.IRole``). Grants this
            endpoint needs are added to it, as an ``iam.Policy`` of this
            construct when the role belongs to another stack. An immutable
            import gets none: allow them yourself (``rollback_alarms`` included).
        endpoint_name: @default a name generated from the construct path.
        model_name_prefix: names the model ``<prefix>-<digest of its properties>``, a literal
            (Clarify's feature-attribution job needs one) that changes whenever the model is replaced.
        variant_name: @default ``AllTraffic``.
        instance_type / instance_count: @default ``ml.m5.large`` x 1; or
            ``serverless`` (a ``ServerlessInference``) instead.
        autoscaling: an ``AutoScaling`` of the instance count. Updates then keep
            the current count; changing the instance type of an autoscaled
            variant fails in SageMaker (remove autoscaling, change, add back).
            Its ``off_hours`` schedules a smaller fleet outside working hours.
        capture_bucket: turns data capture on: ``capture_sampling_percentage``
            (100) of ``capture_modes`` written to
            ``<capture_root_prefix><endpoint name>/<variant>/yyyy/mm/dd/hh/*.jsonl``,
            encrypted with ``capture_key`` (@default the bucket's key). CSV/JSON
            content types are declared so bodies are stored as text.
        volume_kms_key: encrypts the instances' EBS volumes. On instance types
            with local NVMe storage it does not cover that storage (the hardware
            encrypts it): a synth warning says so.
        vpc_subnets + security_groups: attach the model to a VPC.
        network_isolation: @default on for instances, off for serverless.
        deployment: the ``DeploymentPolicy`` (traffic shifting, bakes, rollback
            thresholds). ``rollback_alarms`` add to the endpoint's own two
            (5XX errors, model latency): any in ALARM during a bake rolls back.
            The role may ``cloudwatch:DescribeAlarms`` on exactly these alarms
            (SageMaker reads them with the endpoint's execution role).

    A serverless variant refuses what AWS does not support for it: data
    capture, VPC, network isolation, instance autoscaling, instance-sized canaries.

    Exposes ``endpoint_name`` / ``endpoint_arn`` as references (an alarm or a
    monitor in another stack then depends on this one), ``metric_*`` (5-minute
    periods by default), ``grant_invoke``, ``monitored_endpoint`` (with
    capture), the own ``error_alarm`` / ``latency_alarm`` and the L1s
    (``model``, ``endpoint_config``, ``cfn_endpoint``). Rollback alarms given
    must not watch this endpoint themselves: the endpoint references them.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        role: iam.IRole,
        model_package_arn: str | None = None,
        model_data_url: str | None = None,
        image: str | None = None,
        environment: Mapping[str, str] | None = None,
        endpoint_name: str | None = None,
        model_name_prefix: str | None = None,
        variant_name: str = DEFAULT_VARIANT,
        instance_type: str | None = None,
        instance_count: int = 1,
        serverless: ServerlessInference | None = None,
        autoscaling: AutoScaling | None = None,
        capture_bucket: s3.IBucket | None = None,
        capture_key: kms.IKey | None = None,
        capture_sampling_percentage: int = 100,
        capture_modes: Sequence[str] = CAPTURE_MODES,
        capture_csv_content_types: Sequence[str] = ("text/csv",),
        capture_json_content_types: Sequence[str] = ("application/json",),
        capture_root_prefix: str = locations.DATA_CAPTURE,
        volume_kms_key: kms.IKey | None = None,
        vpc_subnets: Sequence[ec2.ISubnet] = (),
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        network_isolation: bool | None = None,
        deployment: DeploymentPolicy | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        # ------------------------------------------------------- validation
        deployment = deployment if deployment is not None else DeploymentPolicy()
        if instance_type is None and serverless is None:
            instance_type = DEFAULT_INSTANCE_TYPE
        _validate_model(model_package_arn, model_data_url, image, environment)
        if endpoint_name is not None:
            require_sagemaker_name(_OWNER, "endpoint_name", endpoint_name, max_length=contract.MAX_ENDPOINT_NAME)
        require_sagemaker_name(_OWNER, "variant_name", variant_name, max_length=contract.MAX_VARIANT_NAME)
        if model_name_prefix is not None:
            require_sagemaker_name(_OWNER, "model_name_prefix", model_name_prefix,
                                   max_length=contract.MAX_MODEL_NAME - DIGEST_LENGTH - 1)
        if network_isolation is not None:
            require_bool(_OWNER, "network_isolation", network_isolation)
        if bool(vpc_subnets) != bool(security_groups):
            missing, given = ("security_groups", "vpc_subnets") if vpc_subnets else ("vpc_subnets", "security_groups")
            raise invalid(_OWNER, missing, [], f"at least one, together with {given}")
        vpc = bool(vpc_subnets)
        check_endpoint_combination(
            _OWNER, "",
            instance_type=instance_type, instance_count=instance_count, serverless=serverless,
            autoscaling=autoscaling, deployment=deployment,
            capture=capture_bucket is not None, capture_prop="capture_bucket",
            capture_value=capture_bucket.node.path if capture_bucket is not None else None,
            network_isolation=network_isolation, vpc=vpc, vpc_prop="vpc_subnets",
        )
        if capture_bucket is not None:
            modes, csv_types, json_types = check_capture(
                _OWNER, sampling_percentage=capture_sampling_percentage, modes=capture_modes,
                csv_content_types=capture_csv_content_types, json_content_types=capture_json_content_types,
                root_prefix=capture_root_prefix)
        elif capture_key is not None:
            raise invalid(_OWNER, "capture_key", capture_key.node.path, "None without capture_bucket (no capture)")
        if len(rollback_alarms) + _OWN_ALARMS > MAX_ROLLBACK_ALARMS:
            raise invalid(_OWNER, "rollback_alarms", f"{len(rollback_alarms)} alarms",
                          f"at most {MAX_ROLLBACK_ALARMS - _OWN_ALARMS} (SageMaker watches at most "
                          f"{MAX_ROLLBACK_ALARMS} alarms and the endpoint adds {_OWN_ALARMS})")

        super().__init__(scope, id, physical_name=endpoint_name)
        # The literal name: what this construct itself needs before the endpoint exists (its capture
        # prefix, its rollback alarms, which the endpoint references). Others get ``endpoint_name``.
        name = endpoint_name or Names.unique_resource_name(self, max_length=contract.MAX_ENDPOINT_NAME,
                                                          separator="-").lower()
        self._role = role
        self.variant_name: str = variant_name
        self.instance_type = instance_type
        self.serverless = serverless
        self.autoscaling = autoscaling
        self.deployment = deployment
        self.network_isolation: bool = serverless is None if network_isolation is None else network_isolation
        self._grantee = self._grantee_for(role)

        # ---------------------------------------------------------- capture
        self.capture_bucket: s3.IBucket | None = capture_bucket
        self.capture_key: kms.IKey | None = None
        self.capture_prefix: str | None = None
        capture = None
        if capture_bucket is not None:
            self.capture_key = capture_key if capture_key is not None else capture_bucket.encryption_key
            self.capture_prefix = f"{capture_root_prefix}{name}/"
            capture = capture_config(capture_bucket, self.capture_key, capture_root_prefix,
                                     capture_sampling_percentage, modes, csv_types, json_types)
            self._grant_capture(capture_bucket, self.capture_key)

        # ----------------------------------------------------------- model
        if vpc:
            self._grant_vpc_access()
        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                model_package_name=self._package_arn(model_package_arn) if model_package_arn is not None else None,
                image=image,
                model_data_url=model_data_url,
                environment=dict(environment) if environment else None,
            ),
            enable_network_isolation=self.network_isolation,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=[s.subnet_id for s in vpc_subnets],
                security_group_ids=[g.security_group_id for g in security_groups],
            ) if vpc else None,
        )
        self.model_name: str | None = None if model_name_prefix is None else content_name(
            self, model_name_prefix, [self.model.execution_role_arn, self.model.primary_container,
                                      self.model.enable_network_isolation, self.model.vpc_config],
            max_length=contract.MAX_MODEL_NAME)
        self.model.model_name = self.model_name
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
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
            )],
            data_capture_config=capture,
            kms_key_id=volume_kms_key.key_arn if volume_kms_key is not None else None,
        )

        # --------------------------------------------------------- endpoint
        self.error_alarm, self.latency_alarm = create_rollback_alarms(
            self, EndpointMetrics(name, variant_name), deployment, name)
        self.rollback_alarms: list[cloudwatch.IAlarm] = [self.error_alarm, self.latency_alarm, *rollback_alarms]
        grant_describe_alarms(self._grantee, self.rollback_alarms)
        if volume_kms_key is not None and instance_type is not None and not is_token(instance_type) \
                and has_instance_storage(instance_type):
            Annotations.of(self).add_warning_v2(
                "mlops-cdk:volumeKeyLocalStorage",
                f"volume_kms_key on {instance_type}: the key encrypts only the EBS volume; the instance's local "
                "NVMe storage is encrypted by its hardware (SageMaker API, CreateEndpointConfig.KmsKeyId: "
                "'the KmsKeyId parameter does not encrypt instance local storage').")
        # The construct id "Endpoint" (not "Resource") keeps the logical id of the first release:
        # a new logical id would create a second endpoint of the same name, which SageMaker refuses.
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=deployment_config(deployment, self.rollback_alarms),
            # Autoscaling owns the instance count: an update starts the new fleet
            # at the current count, not the configured initial one.
            retain_all_variant_properties=True if autoscaling is not None else None,
            exclude_retained_variant_properties=[
                sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type="DataCaptureConfig"),
            ] if autoscaling is not None else None,
        )
        self.node.default_child = self.cfn_endpoint
        # SageMaker checks artifact, image and capture access when it creates the
        # endpoint: the role and every policy granting it must exist by then.
        self.cfn_endpoint.node.add_dependency(role)
        if self._grantee is not role:
            self.cfn_endpoint.node.add_dependency(self._grantee)

        self._endpoint_name = self._get_resource_name_attribute(self.cfn_endpoint.attr_endpoint_name)
        self._endpoint_arn = self._get_resource_arn_attribute(
            self.cfn_endpoint.ref, service="sagemaker", resource="endpoint",
            resource_name=name if is_token(name) else name.lower())
        self._metrics = EndpointMetrics(self._endpoint_name, variant_name)

        self.scalable_target, self.scaling_policy = (
            create_autoscaling(self, self._endpoint_name, variant_name, autoscaling)
            if autoscaling is not None else (None, None))
        self.monitored_endpoint: MonitoredEndpoint | None = MonitoredEndpoint(
            endpoint=self, capture_bucket=capture_bucket, capture_key=self.capture_key,
            capture_prefix=capture_root_prefix, variant_name=variant_name, deployed=True, model_name=self.model_name,
        ) if capture_bucket is not None else None

    # ------------------------------------------------------------- importers
    @staticmethod
    def from_endpoint_name(scope: Construct, id: str, endpoint_name: str) -> sagemaker.IEndpoint:
        """An endpoint of this account and region, by name (it need not exist yet)."""
        require_sagemaker_name(_OWNER, "endpoint_name", endpoint_name, max_length=contract.MAX_ENDPOINT_NAME)
        return ImportedEndpoint.from_name(scope, id, endpoint_name)

    @staticmethod
    def from_endpoint_arn(scope: Construct, id: str, endpoint_arn: str) -> sagemaker.IEndpoint:
        """An endpoint by ARN. Its name is read from the ARN, where SageMaker lower-cases it:
        for an endpoint whose name has capitals (metric dimensions are case-sensitive) use ``from_endpoint_name``."""
        return ImportedEndpoint.from_arn(scope, id, endpoint_arn, owner=_OWNER)

    # ------------------------------------------------------------- IEndpoint
    # endpoint_name and endpoint_arn (EndpointBase) are references: a consumer in another stack depends on this one.
    @property
    def endpoint_ref(self) -> sagemaker_refs.EndpointReference:
        return self.cfn_endpoint.endpoint_ref

    @property
    def role(self) -> iam.IRole:
        """The model's execution role (reads artifacts, writes captured data)."""
        return self._role

    # --------------------------------------------------------------- metrics
    @property
    def metrics(self) -> EndpointMetrics:
        """The variant's ``AWS/SageMaker`` metrics (5-minute periods unless asked otherwise)."""
        return self._metrics

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """Any ``AWS/SageMaker`` metric of this variant (dimensions EndpointName, VariantName)."""
        return self._metrics.metric(metric_name, **props)

    def metric_invocations(self, **props: Any) -> cloudwatch.Metric:
        return self._metrics.metric_invocations(**props)

    def metric_invocations_per_instance(self, **props: Any) -> cloudwatch.Metric:
        return self._metrics.metric_invocations_per_instance(**props)

    def metric_model_latency(self, **props: Any) -> cloudwatch.Metric:
        return self._metrics.metric_model_latency(**props)

    def metric_overhead_latency(self, **props: Any) -> cloudwatch.Metric:
        return self._metrics.metric_overhead_latency(**props)

    def metric_invocation_4xx_errors(self, **props: Any) -> cloudwatch.Metric:
        return self._metrics.metric_invocation_4xx_errors(**props)

    def metric_invocation_5xx_errors(self, **props: Any) -> cloudwatch.Metric:
        return self._metrics.metric_invocation_5xx_errors(**props)

    # -------------------------------------------------------------- builders
    def _grantee_for(self, role: iam.IRole) -> iam.IRole:
        """Where this endpoint's grants go: the role itself, or a handle on it owned by this construct.

        Statements naming this stack's resources in the DefaultPolicy of a
        role created in another stack would make each stack reference the
        other. A mutable import here puts them in an ``iam.Policy`` of this
        stack instead. Imported roles keep their own choice (mutable or not).
        """
        if Stack.of(role) is Stack.of(self) or not Resource.is_owned_resource(role):
            return role
        return iam.Role.from_role_arn(self, "RoleGrants", role.role_arn, mutable=True)

    def _package_arn(self, package: str) -> str:
        if is_token(package) or package.startswith("arn:"):
            return package
        return Stack.of(self).format_arn(service="sagemaker", resource="model-package", resource_name=package)

    def _grant_capture(self, bucket: s3.IBucket, key: kms.IKey | None) -> None:
        pattern = f"{self.capture_prefix}*"
        bucket.grant_put(self._grantee, pattern)
        if key is not None and key is not bucket.encryption_key:
            key.grant_encrypt(self._grantee)
        acknowledge_bucket_grant(self._grantee, bucket, pattern, f"SageMaker writes this endpoint's captured requests "
                                 f"under '{self.capture_prefix}' (one object per variant and hour).")

    def _grant_vpc_access(self) -> None:
        self._grantee.add_to_principal_policy(iam.PolicyStatement(actions=list(VPC_ACTIONS), resources=["*"]))
        acknowledge(self._grantee, "AwsSolutions-IAM5[Resource::*]",
                    "SageMaker creates and deletes the model's network interfaces in the given subnets; the EC2 "
                    "network-interface and Describe actions support no resource-level permissions.")


# ------------------------------------------------------------------ validation
def _validate_model(package: Any, data_url: Any, image: Any, environment: Any) -> None:
    if package is not None:
        if data_url is not None or image is not None:
            raise invalid(_OWNER, "model_package_arn", package,
                          "either model_package_arn, or model_data_url with image, not both")
        if not (isinstance(package, str) and contract.UNVERSIONED_MODEL_PACKAGE_ARN_RE.fullmatch(package)):
            require_model_package(_OWNER, "model_package_arn", package)
    else:
        if data_url is None and image is None:
            raise invalid(_OWNER, "model_package_arn", None, "a model package ARN, or model_data_url with image")
        if image is None:
            raise invalid(_OWNER, "image", None, "an inference image URI together with model_data_url")
        if data_url is None:
            raise invalid(_OWNER, "model_data_url", None, "an s3:// URI of model.tar.gz together with image")
        require_pattern(_OWNER, "model_data_url", data_url, contract.S3_URI_RE, "an s3://<bucket>/<key> URI")
        if not is_token(image) and (not isinstance(image, str) or not image or any(c.isspace() for c in image)):
            raise invalid(_OWNER, "image", image, "an image URI like <registry>/<repository>:<tag>")
    if environment is not None:
        if not isinstance(environment, Mapping) or len(environment) > 100:
            raise invalid(_OWNER, "environment", environment, "a mapping of at most 100 variables")
        for key, value in environment.items():
            require_pattern(_OWNER, "environment", key, _ENV_KEY_RE, "variable names of letters, digits and '_'")
            if not isinstance(value, str) or len(value) > 1024:
                raise invalid(_OWNER, "environment", value, "string values of at most 1024 characters")

