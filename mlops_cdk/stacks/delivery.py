"""The delivery stack: one model's CDK Pipelines delivery, promoting the platform dev -> staging -> prod."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from aws_cdk import CfnOutput, Environment, Stack, Tags
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from .._pseudo import Aws
from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.build.model_registry import ModelRegistry
from ..constructs.delivery.approval_trigger import ApprovalDeployTrigger
from ..constructs.delivery.approved_package import approved_package_parameter_name
from ..constructs.delivery.delivery_pipeline import DeliveryPipeline
from ..constructs.delivery.endpoint_test import EndpointTestAccess, EndpointTestOptions
from ..constructs.delivery.platform_stage import PlatformStage
from ..constructs.foundation.alert_topic import AlertTopic
from ..settings.delivery import CodeCommitSource, ConnectionSource, DeliverySettings, S3Source
from .foundation import FoundationStack
from .serving import ServingStack

_OWNER = "DeliveryStack"
# The stage the manual approval precedes, and the stages the endpoint test follows (all but that one).
APPROVAL_STAGE = "prod"


def delivery_stack_name(config: PlatformConfig) -> str:
    """``<project>-<model>-delivery``: one pipeline per model, across its stages."""
    return f"{config.project_name}-{config.model_name}-delivery"


class DeliveryStack(Stack):
    """The delivery pipeline of one model (:class:`DeliveryPipeline`) with one :class:`PlatformStage` per stage.

    ``build(stage_scope, stage_config)`` adds one stage's platform (the reference app passes
    ``app_builder.build_platform``; it must return an object with ``.foundation`` and ``.serving``, as
    ``Platform`` has). ``stage_configs`` holds each delivered stage's configuration; unset, each is
    ``config`` with that stage (and ``delivery.region``). Each stage deploys to ``delivery.accounts[stage]``
    and ``delivery.region`` (environment-agnostic when unset).

    Gates, in order: ``make test`` and ``make synth`` (cfn-lint and cdk-nag) in the synth step; after every
    stage but prod, the endpoint test (the stage's :class:`EndpointTestStack` role when the stage serves a
    model, otherwise a step that reports the skip); before prod, a manual approval whose request goes to
    the approval topic (``ApprovalTopic``, e-mailed to ``config.alert_emails``). Prod then rolls out with
    the endpoint's own blue/green canary and automatic rollback.

    Outputs: ``PipelineName``, ``ApprovalTopicArn``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        delivery: DeliverySettings,
        build: Callable[[Construct, PlatformConfig], Any],
        stage_configs: Mapping[str, PlatformConfig] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(config, PlatformConfig):
            raise invalid(_OWNER, "config", config, "a PlatformConfig")
        if not isinstance(delivery, DeliverySettings):
            raise invalid(_OWNER, "delivery", delivery, "a DeliverySettings")
        configs = dict(stage_configs) if stage_configs is not None else {
            stage: dataclasses.replace(config, stage=stage, model_package_arn=None,
                                       region=delivery.region or config.region)
            for stage in delivery.stages}
        for stage in delivery.stages:
            if not isinstance(configs.get(stage), PlatformConfig) or configs[stage].stage != stage:
                raise invalid(_OWNER, f"stage_configs.{stage}", configs.get(stage),
                              f"the PlatformConfig of stage {stage!r}")
        region = delivery.region or config.region
        if kwargs.get("env") is None and (delivery.pipeline_account or region):
            kwargs["env"] = Environment(account=delivery.pipeline_account, region=region)
        kwargs.setdefault("description", f"mlops-cdk delivery pipeline of {config.model_name} "
                                         f"({', '.join(delivery.stages)})")
        super().__init__(scope, id, **kwargs)
        self.config, self.delivery = config, delivery

        self.approval_topic = AlertTopic(self, "ApprovalTopic", emails=config.alert_emails,
                                         display_name=f"{config.project_name}-{config.model_name} delivery approvals")
        self.delivery_pipeline = DeliveryPipeline(
            self, "Pipeline",
            source=pipeline_source(self, delivery),
            approval_topic=self.approval_topic,
            approved_package_parameters={
                stage: approved_package_parameter_name(config.project_name, config.model_name, stage)
                for stage in delivery.stages},
            cross_account_keys=delivery.cross_account,
            pipeline_name=id,
            expected_template=f"{id}.template.json",
            endpoint_test=EndpointTestOptions(
                max_latency_ms=delivery.max_latency_ms, sample_records=delivery.sample_records,
                problem_type=config.problem_type, feature_count=len(config.monitoring_features),
                samples_file=delivery.samples_file),
        )
        self.stages: dict[str, PlatformStage] = {}
        for stage in delivery.stages:
            self._add_stage(stage, configs[stage], build, region)
        self.trigger = self._deploy_on_approval(configs[delivery.stages[0]], region)
        for key, value in {"project": config.project_name, "model": config.model_name, **config.tags}.items():
            Tags.of(self).add(key, value)
        CfnOutput(self, "PipelineName", value=id, description="The delivery pipeline (CodePipeline)")
        CfnOutput(self, "ApprovalTopicArn", value=self.approval_topic.topic_arn,
                  description="Manual approval requests before prod")

    def _add_stage(self, stage: str, config: PlatformConfig, build: Callable[[Construct, PlatformConfig], Any],
                   region: str | None) -> None:
        platform_stage = PlatformStage(self, stage, build=lambda scope: build(scope, config),
                                       account=self.delivery.account_of(stage), region=region)
        self.stages[stage] = platform_stage
        access = None
        tested = stage != APPROVAL_STAGE
        platform = platform_stage.platform
        if tested and getattr(platform.serving, "endpoint", None) is not None:
            checks = EndpointTestStack(platform_stage, f"{config.prefix}-endpoint-test", config=config,
                                       foundation=platform.foundation, serving=platform.serving,
                                       trusted_account=self.delivery.pipeline_account or Aws.ACCOUNT_ID)
            access = checks.access
        self.delivery_pipeline.add_platform_stage(platform_stage, approval=stage == APPROVAL_STAGE,
                                                  endpoint_test=tested, endpoint_test_access=access)


    def _deploy_on_approval(self, registry_config: PlatformConfig, region: str | None) -> ApprovalDeployTrigger:
        """Approving a version in the first stage's registry records it for every stage and starts the pipeline.

        The registry lives in the first delivered stage's account; when that is not the pipeline's, its
        model-build stack forwards the approval events here (``app_builder``) and this account's default
        bus accepts them from that account.
        """
        registry_account = self.delivery.account_of(registry_config.stage)
        group_arn = self.format_arn(service="sagemaker", resource="model-package-group",
                                    resource_name=registry_config.model_package_group_name,
                                    account=registry_account or Aws.ACCOUNT_ID, region=region or Aws.REGION)
        registry = ModelRegistry.from_model_package_group_arn(self, "ApprovedModels", group_arn)
        if registry_account is not None and registry_account != self.delivery.pipeline_account:
            events.CfnEventBusPolicy(
                self, "ApprovalEventsFromRegistryAccount", event_bus_name="default",
                statement_id=f"mlops-approvals-{registry_account}",
                statement={"Effect": "Allow", "Action": "events:PutEvents",
                           "Principal": {"AWS": f"arn:{Aws.PARTITION}:iam::{registry_account}:root"},
                           "Resource": self.format_arn(service="events", resource="event-bus",
                                                       resource_name="default")})
        return ApprovalDeployTrigger(
            self, "DeployOnApproval", registry=registry, pipeline=self.delivery_pipeline.code_pipeline,
            stages=list(self.delivery.stages), project_name=self.config.project_name,
            model_name=self.config.model_name, alert_topic=self.approval_topic)


class EndpointTestStack(Stack):
    """In a delivered stage: the role (``<prefix>-endpoint-test``) the pipeline's endpoint test assumes there.

    It may invoke the stage's endpoint, describe the version it serves and read test-split objects of the
    bucket of the stage that trained it (``serving.model_source_stage``; another stage's bucket must be in
    this account, or share those objects with it).
    """

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, foundation: FoundationStack,
                 serving: ServingStack, trusted_account: str, **kwargs: Any) -> None:
        if serving.endpoint is None:
            raise invalid("EndpointTestStack", "serving", serving.node.path, "a ServingStack with an endpoint")
        if config.region is not None and kwargs.get("env") is None:
            kwargs["env"] = Environment(region=config.region)
        kwargs.setdefault("description", f"mlops-cdk endpoint test access for {config.model_name} ({config.stage})")
        kwargs.setdefault("stack_name", id)  # not <stage>-<id>: the name a manual deployment would give it
        super().__init__(scope, id, **kwargs)
        source = config.serving_settings.model_source_stage or config.stage
        bucket = foundation.data_bucket if source == config.stage else \
            s3.Bucket.from_bucket_name(self, "ModelSourceBucket", config.data_bucket_name(source))
        self.access = EndpointTestAccess(
            self, "Access", endpoint=serving.endpoint, model_package_arn=config.serving_settings.model_package_arn,
            trusted_account=trusted_account, role_name=f"{config.prefix}-endpoint-test", samples_bucket=bucket,
            endpoint_name_output=_endpoint_name_output(serving))
        for key, value in config.standard_tags.items():
            Tags.of(self).add(key, value)


def _endpoint_name_output(serving: Construct) -> CfnOutput | None:
    """The serving stack's ``EndpointName`` output (documented in :class:`ServingStack`), if it has one."""
    node = getattr(serving, "node", None)
    found = node.try_find_child("EndpointName") if node is not None else None
    return found if isinstance(found, CfnOutput) else None


def pipeline_source(scope: Construct, delivery: DeliverySettings) -> pipelines.CodePipelineSource:
    """The pipeline's source from configuration (importing the bucket or repository by name)."""
    source = delivery.source
    if isinstance(source, ConnectionSource):
        return pipelines.CodePipelineSource.connection(source.repository, source.branch,
                                                       connection_arn=source.connection_arn)
    if isinstance(source, S3Source):
        return pipelines.CodePipelineSource.s3(s3.Bucket.from_bucket_name(scope, "SourceBucket", source.bucket),
                                               source.key)
    if isinstance(source, CodeCommitSource):
        repository = codecommit.Repository.from_repository_name(scope, "SourceRepository",
                                                                source.codecommit_repository)
        return pipelines.CodePipelineSource.code_commit(repository, source.branch)
    raise invalid(_OWNER, "delivery.source", source, "a ConnectionSource, S3Source or CodeCommitSource")
