"""One model's inference endpoint at one stage: the configured model package version, captured and guarded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .._nag import acknowledge_bucket_grant
from .._validation import invalid, require_pattern
from ..config import PlatformConfig
from ..constructs.common.key_policies import allow_decrypt_through_s3
from ..constructs.foundation.execution_role import SageMakerExecutionRole
from ..constructs.serving.model_endpoint import ModelEndpoint
from ..constructs.serving.monitored_endpoint import MonitoredEndpoint
from ..regions import REAL_TIME_INFERENCE, require_capabilities
from ..settings import StageServing, has_instance_storage
from .foundation import apply_standard_tags, stack_props
from .resources import PlatformResources

_OWNER = "ServingStack"
_KEY_PATTERN_RE = re.compile(r"^(?!/)\S+$")
# SageMaker training jobs write <output path>/<job>/output/model.tar.gz.
MODEL_ARTIFACTS_KEY_PATTERN = "*/model.tar.gz"


class ServingStack(Stack):
    """The endpoint of one model and stage, deploying the model package version the config names.

    Settings come from ``config.serving_settings`` (cdk.json ``serving.<stage>``).
    Always creates the endpoint's execution role (``.role``), which may read only
    model archives (``model_artifacts_key_pattern``) of the data bucket of the
    stage that trained the model (``model_source_stage``, default this stage:
    ``resources.data_bucket``) and pull the first-party ``images``.

    With a ``model_package_arn`` it adds a :class:`ModelEndpoint` (``.endpoint``)
    named ``<project>-<model>-<stage>``: the stage's instances or serverless
    settings, autoscaling (and its off-hours schedule, ``autoscaling.off_hours``,
    reported as an info annotation), blue/green deployment, rollback alarms (which also
    notify ``resources.alert_topic``; ``rollback_alarms`` add to them, and must
    not watch this endpoint themselves: the endpoint references them), storage
    encrypted with ``resources.data_key`` (unless the instance type has
    hardware-encrypted local storage, or serverless) and data capture into
    ``resources.data_bucket`` under ``data-capture/<endpoint name>/``.

    Without one, no endpoint is deployed (``.endpoint`` is ``None``; an info
    annotation says so): CloudFormation cannot create an endpoint for a package
    that does not exist, and the platform is deployed before its first model.

    ``.monitored_endpoint`` is always set, for monitoring to wire up: the
    deployed endpoint and its capture location (a reference, so a monitoring
    stack depends on this one), or the planned endpoint (``deployed=False``).
    A serverless endpoint captures nothing; its location is where capture
    would go, so monitoring finds no data and says so.

    With ``resources.network`` (and no ``vpc_subnets`` / ``security_groups`` of its own) the endpoint's
    model runs in the network's subnets, with its groups or an ``EndpointSecurityGroup`` allowing HTTPS
    out only; a serverless stage cannot (SageMaker serverless inference has no VPC option): an error.

    Outputs: ``EndpointRoleArn``; with an endpoint ``EndpointName``. (No
    capture URI output: it would re-export the data bucket's export, which
    cfn-lint flags; captured files are under ``data-capture/<endpoint name>/``
    of the bucket, see ``locations.DATA_CAPTURE``.)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        resources: PlatformResources,
        images: Sequence[str] = ("xgboost",),
        model_artifacts_key_pattern: str = MODEL_ARTIFACTS_KEY_PATTERN,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
        vpc_subnets: Sequence[ec2.ISubnet] = (),
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        **kwargs: Any,
    ) -> None:
        require_pattern(_OWNER, "model_artifacts_key_pattern", model_artifacts_key_pattern,
                        _KEY_PATTERN_RE, "an S3 key pattern like */model.tar.gz")
        super().__init__(scope, id, **stack_props(config, "serving", kwargs))
        self.settings: StageServing = config.serving_settings
        self.config = config
        name = config.prefix

        # The role keeps the construct path of the first release (EndpointRole/Role), hence its logical id.
        self.role = SageMakerExecutionRole(
            Construct(self, "EndpointRole"), "Role", images=images,
            description=f"Runs the {name} endpoint's model",
        )
        self._grant_model_artifacts(config, resources, model_artifacts_key_pattern)
        CfnOutput(self, "EndpointRoleArn", value=self.role.role_arn, description="Execution role of the endpoint")

        self.endpoint: ModelEndpoint | None = None
        if self.settings.model_package_arn is None:
            Annotations.of(self).add_info(
                f"No model package configured for stage '{config.stage}': the endpoint is not deployed. "
                f"Set serving.{config.stage}.model_package_arn in cdk.json (or -c model_package_arn=<arn>) "
                "to an approved model package version."
            )
            planned = ModelEndpoint.from_endpoint_name(self, "PlannedEndpoint", name)
            self.monitored_endpoint = MonitoredEndpoint(
                endpoint=planned, capture_bucket=resources.data_bucket, capture_key=resources.data_key,
                deployed=False,
            )
        else:
            require_capabilities(self, [REAL_TIME_INFERENCE],
                                 why=f"serving.{config.stage}.model_package_arn (an endpoint)")
            if not vpc_subnets and not security_groups and resources.network is not None:
                vpc_subnets, security_groups = self._placement(config, resources)
            self.endpoint = self._create_endpoint(name, resources, rollback_alarms, vpc_subnets, security_groups)
            self.monitored_endpoint = self.endpoint.monitored_endpoint or MonitoredEndpoint(
                endpoint=self.endpoint, capture_bucket=resources.data_bucket, capture_key=resources.data_key,
                captures=False,
            )
        apply_standard_tags(self, config)

    def _create_endpoint(
        self,
        name: str,
        resources: PlatformResources,
        rollback_alarms: Sequence[cloudwatch.IAlarm],
        vpc_subnets: Sequence[ec2.ISubnet],
        security_groups: Sequence[ec2.ISecurityGroup],
    ) -> ModelEndpoint:
        settings = self.settings
        capture = settings.effective_capture_percent > 0
        local_storage = settings.instance_type is not None and has_instance_storage(settings.instance_type)
        endpoint = ModelEndpoint(
            self,
            "Endpoint",
            role=self.role,
            model_package_arn=settings.model_package_arn,
            endpoint_name=name,
            # Clarify's feature-attribution job names the served model: give it a literal name only then.
            model_name_prefix=name if self.config.explainability is not None
            and self.config.monitoring_mode != "own" else None,
            instance_type=settings.instance_type,
            instance_count=settings.instance_count,
            serverless=settings.serverless,
            autoscaling=settings.autoscaling,
            capture_bucket=resources.data_bucket if capture else None,
            capture_key=resources.data_key if capture else None,
            capture_sampling_percentage=settings.effective_capture_percent,
            volume_kms_key=resources.data_key if settings.serverless is None and not local_storage else None,
            network_isolation=settings.effective_network_isolation,
            deployment=settings.deployment,
            rollback_alarms=rollback_alarms,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
        )
        notify = cloudwatch_actions.SnsAction(resources.alert_topic)
        for alarm in (endpoint.error_alarm, endpoint.latency_alarm):
            alarm.add_alarm_action(notify)
        CfnOutput(self, "EndpointName", value=endpoint.endpoint_name, description="SageMaker endpoint")
        scaling = settings.autoscaling
        if scaling is not None and scaling.off_hours is not None:
            off = scaling.off_hours
            Annotations.of(self).add_info(
                f"serving.{self.config.stage}.autoscaling.off_hours: {off.capacity} instance(s) from {off.scale_in} "
                f"to {off.scale_out} ({off.time_zone}), {scaling.min_capacity}-{scaling.max_capacity} otherwise")
        return endpoint

    def _placement(self, config: PlatformConfig, resources: PlatformResources) -> tuple[list[Any], list[Any]]:
        """The network's subnets, and its groups or an ``EndpointSecurityGroup`` (no inbound rule: SageMaker
        hosting reaches the containers itself; HTTPS out, for the model archive in S3)."""
        network = resources.network
        assert network is not None
        if self.settings.serverless is not None:
            raise invalid(_OWNER, f"config.serving.{config.stage}.serverless", "a serverless endpoint",
                          "null with a network: serverless inference cannot run in a VPC (use an instance type)")
        groups = network.security_groups_for(self, "EndpointSecurityGroup",
                                             description=f"Endpoint {config.prefix}: no inbound, HTTPS out only")
        return network.selected_subnets(), groups

    def _grant_model_artifacts(self, config: PlatformConfig, resources: PlatformResources, key_pattern: str) -> None:
        """Read model archives in the data bucket of the stage that trained the model."""
        source = self.settings.model_source_stage or config.stage
        role = self.role
        why = "the endpoint reads model archives (model.tar.gz) that training jobs write under run-specific keys."
        if source == config.stage:
            resources.data_bucket.grant_read(role, key_pattern)
            acknowledge_bucket_grant(role, resources.data_bucket, key_pattern, why)
            return
        bucket = s3.Bucket.from_bucket_name(self, "ModelSourceBucket", config.data_bucket_name(source))
        bucket.grant_read(role, key_pattern)
        acknowledge_bucket_grant(role, bucket, key_pattern, why)
        # Its objects are SSE-KMS with that stage's data key, whose ARN this stage cannot know.
        allow_decrypt_through_s3(
            role, bucket, sid="DecryptModelSourceObjects",
            why=f"The {source} stage's data key ARN is not known to this stage; decryption is limited to S3 "
                f"requests for objects of the {source} platform bucket by kms:ViaService and the S3 encryption context.")
