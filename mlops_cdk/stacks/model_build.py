"""Model build for one model and stage: registry, training pipeline and metric-gated approval."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from .. import locations
from ..config import PlatformConfig
from ..constructs.baseline_publisher import BaselinePublisher
from ..constructs.execution_role import SageMakerExecutionRole
from ..constructs.model_approval import MetricGatedApproval
from ..constructs.model_registry import ModelRegistry
from ..constructs.sagemaker_pipeline import PipelineSource, SageMakerPipeline
from .foundation import FoundationStack, apply_standard_tags, require_platform


class ModelBuildStack(Stack):
    """The model package group, the pipeline that trains and registers into it, the approval gate, baseline publishing.

    By default the pipeline is the course's (``build_training_pipeline``);
    pass ``pipeline`` (anything ``SageMakerPipeline`` accepts, or a callable
    taking ``(pipeline_name, model_package_group_name)``) to run your own.
    The pipeline runs as its own ``SageMakerExecutionRole``: it may read
    ``training-data/``, write its artifact prefix, run ``pipelines-*`` jobs and
    register versions into this model's group only.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        foundation: FoundationStack,
        pipeline: PipelineSource | None = None,
        **kwargs: Any,
    ) -> None:
        require_platform("ModelBuildStack", config, foundation)
        kwargs.setdefault("description", f"mlops-cdk model build for {config.model_name} ({config.stage})")
        super().__init__(scope, id, **kwargs)
        self.pipeline_name = f"{config.prefix}-training"
        self.registry = ModelRegistry(
            self, "Registry", model_package_group_name=config.prefix,
            description=f"Versions of {config.model_name} ({config.stage})",
        )
        group = config.prefix
        self.pipeline_role = SageMakerExecutionRole(self, "PipelineRole", images=["sklearn", "xgboost", "modelmonitor"])
        self.pipeline_role.grant_pipeline_jobs(group)
        self.pipeline_role.grant_bucket_read(foundation.data, prefix=locations.TRAINING_DATA)
        self.registry.grant_register(self.pipeline_role)

        source = pipeline if pipeline is not None else _course_pipeline(config)
        if callable(source) and not hasattr(source, "render"):
            source = _call_builder(source, self.pipeline_name, group)
        self.pipeline = SageMakerPipeline(
            self, "Pipeline", pipeline=source, pipeline_name=self.pipeline_name, role=self.pipeline_role,
            data_bucket=foundation.data, description=f"Trains and registers {config.model_name}",
        )
        self.approval = MetricGatedApproval(
            self, "Approval", registry=self.registry, alert_topic=foundation.alerts,
            metrics_bucket=foundation.data, metrics_prefix=f"{self.pipeline_name}/",
            threshold=config.accuracy_threshold,
        )
        self.baselines = BaselinePublisher(
            self, "Baselines", registry=self.registry, data_bucket=foundation.data,
            source_prefix=f"{self.pipeline_name}/", alert_topic=foundation.alerts,
        )
        apply_standard_tags(self, config)

        CfnOutput(self, "PipelineName", value=self.pipeline_name, description="SageMaker pipeline")
        CfnOutput(self, "PipelineArn", value=self.pipeline.pipeline_arn, description="SageMaker pipeline ARN")
        CfnOutput(self, "ModelPackageGroupName", value=group, description="Model registry group")


def _course_pipeline(config: PlatformConfig):
    def build(pipeline_name: str, model_package_group_name: str):
        from ..pipeline_defs.training_pipeline import build_training_pipeline

        return build_training_pipeline(
            pipeline_name=pipeline_name,
            model_package_group_name=model_package_group_name,
            accuracy_threshold=config.accuracy_threshold,
            input_data_uri=f"s3://${{DataBucket}}/{locations.TRAINING_DATA}",
        )

    return build


def _call_builder(builder, pipeline_name: str, group: str):
    import inspect

    try:
        takes_names = len(inspect.signature(builder).parameters) >= 2
    except (TypeError, ValueError):
        takes_names = False
    return builder(pipeline_name, group) if takes_names else builder()
