"""One model's inference endpoint at one stage: the configured model package version, captured and guarded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, Aws, CfnOutput, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import locations
from .._validation import invalid, require_pattern
from ..config import PlatformConfig, StageServing
from ..constructs._nag import acknowledge, acknowledge_bucket_grant
from ..constructs.endpoint_settings import has_instance_storage
from ..constructs.execution_role import SageMakerExecutionRole
from ..constructs.images import IMAGE_KEYS
from ..constructs.model_endpoint import DEFAULT_VARIANT, ModelEndpoint
from .foundation import FoundationStack, apply_standard_tags, require_platform

_OWNER = "ServingStack"
_KEY_PATTERN_RE = re.compile(r"^(?!/)\S+$")
# SageMaker training jobs write <output path>/<job>/output/model.tar.gz.
MODEL_ARTIFACTS_KEY_PATTERN = "*/model.tar.gz"


class ServingStack(Stack):
    """The endpoint of one model and stage, deploying the model package version the config names.

    Always creates the endpoint's own execution role (``.role``), which may
    read only model archives (``*/model.tar.gz``) of the platform bucket of the
    stage that trained the model (``serving.<stage>.model_source_stage``,
    default this stage) and pull the first-party ``images``. When
    ``config.serving_settings.model_package_arn`` is set it adds a
    :class:`ModelEndpoint` (``.endpoint``) named ``<project>-<model>-<stage>``
    with the stage's instance type/count or serverless settings, autoscaling,
    blue/green deployment policy, rollback alarms (which also notify the
    foundation's alert topic), storage encrypted with the platform data key
    (unless the instance type has hardware-encrypted local storage or the
    variant is serverless) and data capture into the platform bucket under
    ``data-capture/<endpoint name>/``.

    Without a model package the endpoint is skipped (``.endpoint`` is
    ``None``) and an info annotation says so: CloudFormation cannot create an
    endpoint for a package that does not exist, and the platform is deployed
    before its first model is trained and approved.

    ``.endpoint_name``, ``.variant_name``, ``.capture_bucket``,
    ``.capture_prefix`` and ``.capture_s3_uri`` are set either way (from the
    configuration), so monitoring of the capture location can be wired before
    the first deployment. Consumers in other stacks that need the endpoint to
    exist should ``add_stack_dependency`` on this stack: names are plain strings, not
    references.

    Outputs: ``EndpointRoleArn``; with an endpoint also ``EndpointName`` and
    (with capture) ``DataCaptureS3Uri``. A ``prod`` stack has termination
    protection unless ``termination_protection`` says otherwise.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        foundation: FoundationStack,
        images: Sequence[str] = ("xgboost",),
        model_artifacts_key_pattern: str = MODEL_ARTIFACTS_KEY_PATTERN,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
        vpc_subnets: Sequence[ec2.ISubnet] = (),
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        **kwargs: Any,
    ) -> None:
        require_platform(_OWNER, config, foundation)
        if isinstance(images, str) or not all(image in IMAGE_KEYS for image in images):
            raise invalid(_OWNER, "images", images, "a list of " + " | ".join(IMAGE_KEYS))
        require_pattern(_OWNER, "model_artifacts_key_pattern", model_artifacts_key_pattern,
                        _KEY_PATTERN_RE, "an S3 key pattern like */model.tar.gz")
        kwargs.setdefault("description", f"mlops-cdk serving for {config.model_name} ({config.stage})")
        kwargs.setdefault("termination_protection", config.stage == "prod")
        super().__init__(scope, id, **kwargs)
        self.config = config
        self.settings: StageServing = config.serving_settings
        settings = self.settings

        self.endpoint_name: str = config.prefix
        self.variant_name: str = DEFAULT_VARIANT
        capture = settings.effective_capture_percent > 0
        self.capture_bucket: s3.IBucket | None = foundation.data.bucket if capture else None
        self.capture_prefix: str | None = f"{locations.DATA_CAPTURE}{self.endpoint_name}/" if capture else None
        # Spelled from the bucket's naming convention, not an import of the
        # foundation's export: usable in outputs and other stacks as is.
        self.capture_s3_uri: str | None = (
            locations.s3_uri(foundation.data_bucket_name, locations.DATA_CAPTURE.rstrip("/")) if capture else None
        )

        self.role = SageMakerExecutionRole(
            self, "EndpointRole", images=images, description=f"Runs the {self.endpoint_name} endpoint's model",
        )
        self._grant_model_artifacts(foundation, model_artifacts_key_pattern)
        CfnOutput(self, "EndpointRoleArn", value=self.role.role_arn, description="Execution role of the endpoint")

        self.endpoint: ModelEndpoint | None = None
        if settings.model_package_arn is None:
            Annotations.of(self).add_info(
                f"No model package configured for stage '{config.stage}': the endpoint is not deployed. "
                f"Set serving.{config.stage}.model_package_arn in cdk.json (or -c model_package_arn=<arn>) "
                "to an approved model package version."
            )
        else:
            self.endpoint = self._create_endpoint(foundation, settings, rollback_alarms, vpc_subnets, security_groups)
        apply_standard_tags(self, config)

    def _create_endpoint(
        self,
        foundation: FoundationStack,
        settings: StageServing,
        rollback_alarms: Sequence[cloudwatch.IAlarm],
        vpc_subnets: Sequence[ec2.ISubnet],
        security_groups: Sequence[ec2.ISecurityGroup],
    ) -> ModelEndpoint:
        local_storage = settings.instance_type is not None and has_instance_storage(settings.instance_type)
        endpoint = ModelEndpoint(
            self,
            "Endpoint",
            role=self.role,
            model_package_arn=settings.model_package_arn,
            endpoint_name=self.endpoint_name,
            variant_name=self.variant_name,
            instance_type=settings.instance_type,
            instance_count=settings.instance_count,
            serverless=settings.serverless,
            autoscaling=settings.autoscaling,
            capture_bucket=foundation.data if self.capture_bucket is not None else None,
            capture_sampling_percentage=settings.effective_capture_percent,
            volume_kms_key=(
                foundation.data.encryption_key if settings.serverless is None and not local_storage else None
            ),
            network_isolation=settings.effective_network_isolation,
            deployment=settings.deployment,
            rollback_alarms=rollback_alarms,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
        )
        notify = cloudwatch_actions.SnsAction(foundation.alerts.topic)
        for alarm in (endpoint.error_alarm, endpoint.latency_alarm):
            alarm.add_alarm_action(notify)
        CfnOutput(self, "EndpointName", value=endpoint.endpoint_name, description="SageMaker endpoint")
        if self.capture_s3_uri is not None:
            CfnOutput(self, "DataCaptureS3Uri", value=self.capture_s3_uri,
                      description="DataCaptureConfig destination; files under <uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/")
        return endpoint

    def _grant_model_artifacts(self, foundation: FoundationStack, key_pattern: str) -> None:
        """Read model archives in the platform bucket of the stage that trained the model."""
        source = self.settings.model_source_stage or self.config.stage
        role = self.role.role
        why = "the endpoint reads model archives (model.tar.gz) that training jobs write under run-specific keys."
        if source == self.config.stage:
            foundation.data.bucket.grant_read(role, key_pattern)
            acknowledge_bucket_grant(role, foundation.data.bucket, key_pattern, why)
            return
        # Another stage's platform bucket, found by its naming convention (see FoundationStack).
        name = f"{self.config.project_name}-{self.config.model_name}-{source}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
        bucket = s3.Bucket.from_bucket_name(self, "ModelSourceBucket", name)
        bucket.grant_read(role, key_pattern)
        acknowledge_bucket_grant(role, bucket, key_pattern, why)
        # Its objects are SSE-KMS with that stage's data key, whose ARN this
        # stage cannot know: decrypt only through S3, only for that bucket.
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="DecryptModelSourceObjects",
            actions=["kms:Decrypt"],
            resources=[f"arn:{Aws.PARTITION}:kms:{Aws.REGION}:{Aws.ACCOUNT_ID}:key/*"],
            conditions={
                "StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.{Aws.URL_SUFFIX}"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"{bucket.bucket_arn}/*"},
            },
        ))
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]",
            f"The {source} stage's data key ARN is not known to this stage; decryption is limited to S3 "
            f"requests for objects of the {source} platform bucket by kms:ViaService and the S3 encryption context.",
        )
