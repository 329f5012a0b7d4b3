"""Model build for one model and stage: registry, training pipeline, metric-gated approval, baseline publishing."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from .. import locations
from ..config import PlatformConfig
from ..constructs.build.baseline_publisher import BaselinePublisher
from ..constructs.build.model_approval import MetricGatedApproval
from ..constructs.build.model_registry import IModelRegistry, ModelRegistry
from ..constructs.build.pipeline_definition import PipelineDefinition
from ..constructs.build.sagemaker_pipeline import SageMakerPipeline
from ..constructs.foundation.execution_role import SageMakerExecutionRole
from ..regions import MODEL_REGISTRY, PIPELINES, require_capabilities
from .foundation import apply_standard_tags, stack_props
from .resources import PlatformResources


class ModelBuildStack(Stack):
    """The model package group, the pipeline that trains and registers into it, the approval gate, baseline publishing.

    Names come from ``config`` (``config.model_package_group_name``,
    ``config.pipeline_name``), and so do the accuracy threshold of the gate and
    of the course pipeline. The pipeline runs as its own
    ``SageMakerExecutionRole`` (``pipeline_role``): it may read
    ``training-data/``, write under its artifact prefix, run its jobs and
    register versions into this model's group only (``registry.grant_register``).

    Args:
        config: the model and stage.
        resources: the data bucket (and key) the pipeline reads and writes, the alert topic; with a
            ``network``, the pipeline's jobs (the course pipeline's, built with ``vpc=True``) and both
            Lambdas run in its subnets.
        definition: the pipeline to run. Default: the course pipeline
            (``build_training_pipeline``), built lazily, so the sagemaker SDK
            loads only when this stack is built. A custom pipeline must write
            under ``locations.pipeline_artifacts(config.pipeline_name)``.
        registry: an existing model package group to register into (e.g.
            ``ModelRegistry.from_model_package_group_name(...)`` of one SageMaker
            Projects created). Default: a new group named ``config.model_package_group_name``.

    Exposes ``registry``, ``pipeline`` (a ``sagemaker.IPipeline`` with
    ``parameter_names``), ``approval``, ``baselines`` and ``pipeline_role``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        resources: PlatformResources,
        definition: PipelineDefinition | None = None,
        registry: IModelRegistry | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **stack_props(config, "model build", kwargs))
        require_capabilities(self, [PIPELINES] + ([MODEL_REGISTRY] if registry is None else []),
                             why="the model build stack (its pipeline registers model versions)")
        pipeline_name = config.pipeline_name
        artifacts = locations.pipeline_artifacts(pipeline_name)
        self.registry: IModelRegistry = registry or ModelRegistry(
            self, "Registry", model_package_group_name=config.model_package_group_name,
            description=f"Versions of {config.model_name} ({config.stage})",
        )
        group = self.registry.model_package_group_name
        # Under "PipelineRole": the construct path of the first release keeps the role's logical id.
        self.pipeline_role = SageMakerExecutionRole(
            Construct(self, "PipelineRole"), "Role", images=["sklearn", "xgboost", "modelmonitor"])
        self.pipeline = SageMakerPipeline(
            self, "Pipeline", pipeline_name=pipeline_name,
            definition=definition or course_pipeline(config, group, vpc=resources.network is not None),
            role=self.pipeline_role, data_bucket=resources.data_bucket, data_key=resources.data_key,
            description=f"Trains and registers {config.model_name}", network=resources.network,
        )
        # Registering and the job basics are part of a run: the pipeline waits for them as for its own policy.
        self.registry.grant_register(self.pipeline_role).apply_before(self.pipeline.resource)
        self.pipeline.resource.node.add_dependency(self.pipeline_role.base_policy)  # logs, metrics, images
        self.approval = MetricGatedApproval(
            self, "Approval", registry=self.registry, alert_topic=resources.alert_topic,
            metrics_bucket=resources.data_bucket, metrics_key=resources.data_key, metrics_prefix=artifacts,
            threshold=config.accuracy_threshold, encryption_key=resources.data_key, network=resources.network,
        )
        self.baselines = BaselinePublisher(
            self, "Baselines", registry=self.registry, data_bucket=resources.data_bucket,
            data_key=resources.data_key, source_prefix=artifacts, alert_topic=resources.alert_topic,
            encryption_key=resources.data_key, network=resources.network,
        )
        apply_standard_tags(self, config)

        CfnOutput(self, "PipelineName", value=self.pipeline.pipeline_name, description="SageMaker pipeline")
        CfnOutput(self, "PipelineArn", value=self.pipeline.pipeline_arn, description="SageMaker pipeline ARN")
        CfnOutput(self, "ModelPackageGroupName", value=group, description="Model registry group")


def course_pipeline(config: PlatformConfig, model_package_group_name: str | None = None, *,
                    vpc: bool | None = None) -> PipelineDefinition:
    """The course's training pipeline for ``config`` (registering into ``model_package_group_name``, default
    ``config.model_package_group_name``), built when first read: from its pre-rendered definition for the
    reference configurations (``pipeline_defs.prerendered``), otherwise with the sagemaker SDK. ``vpc``: its jobs
    run in the VPC of the pipeline's ``network`` (default: when ``config.network`` is set)."""

    def build() -> PipelineDefinition:
        from ..pipeline_defs.training_pipeline import build_training_pipeline

        return PipelineDefinition.from_training_pipeline(
            build_training_pipeline(**course_pipeline_arguments(config, model_package_group_name, vpc=vpc)))

    return PipelineDefinition.lazy(build)


def course_pipeline_arguments(config: PlatformConfig, model_package_group_name: str | None = None, *,
                              vpc: bool | None = None) -> dict[str, Any]:
    """The ``build_training_pipeline`` arguments of ``course_pipeline`` (``make pipeline`` pre-renders them)."""
    if vpc is None:
        vpc = config.network is not None
    return {
        "pipeline_name": config.pipeline_name,
        "model_package_group_name": model_package_group_name or config.model_package_group_name,
        "accuracy_threshold": config.accuracy_threshold,
        "input_data_uri": f"s3://${{DataBucket}}/{locations.TRAINING_DATA}",
        "bias_facets": config.bias_facets,  # none: the definition is the same as without them
        "feature_names": config.monitoring_features,
        "vpc": vpc,
    }
