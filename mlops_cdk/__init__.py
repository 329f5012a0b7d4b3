"""mlops-cdk: AWS CDK constructs and stacks for production MLOps on Amazon SageMaker."""

from .config import DEFAULT_SERVING, STAGES, PlatformConfig, StageServing
from .constructs.alert_topic import AlertTopic
from .constructs.baseline_publisher import BaselinePublisher
from .constructs.drift_checker import DriftChecker
from .constructs.endpoint_settings import AutoScaling, DeploymentPolicy, ServerlessInference
from .constructs.execution_role import SageMakerExecutionRole
from .constructs.feature_group import FeatureGroup, feature_definitions_from_dataframe
from .constructs.images import image_uri
from .constructs.model_alarms import ModelAlarms
from .constructs.model_approval import MetricGatedApproval
from .constructs.model_dashboard import ModelDashboard
from .constructs.model_endpoint import ModelEndpoint
from .constructs.model_monitors import BiasMonitor, DataQualityMonitor, FeatureAttributionMonitor, ModelQualityMonitor
from .constructs.model_registry import ModelRegistry
from .constructs.pipeline_notifications import PipelineNotifications
from .constructs.pipeline_target import SageMakerPipelineTarget, pipeline_arn_of
from .constructs.retraining import REASONS, DriftRetraining, ScheduledRetraining, validate_schedule
from .constructs.sagemaker_pipeline import SageMakerPipeline
from .constructs.secure_bucket import SecureBucket
from .monitoring_metrics import compute_classification_metrics, publish_custom_metrics
from .stacks.feature_store import DEFAULT_FEATURE_GROUPS, FeatureStoreStack
from .stacks.foundation import FoundationStack
from .stacks.model_build import ModelBuildStack
from .stacks.monitoring import MonitoringStack
from .stacks.retraining import RetrainingStack
from .stacks.serving import ServingStack

__all__ = [
    "DEFAULT_FEATURE_GROUPS",
    "DEFAULT_SERVING",
    "STAGES",
    "AlertTopic",
    "AutoScaling",
    "BaselinePublisher",
    "BiasMonitor",
    "DataQualityMonitor",
    "DeploymentPolicy",
    "DriftChecker",
    "DriftRetraining",
    "FeatureAttributionMonitor",
    "FeatureGroup",
    "FeatureStoreStack",
    "FoundationStack",
    "MetricGatedApproval",
    "ModelAlarms",
    "ModelBuildStack",
    "ModelDashboard",
    "ModelEndpoint",
    "ModelQualityMonitor",
    "MonitoringStack",
    "ModelRegistry",
    "PipelineNotifications",
    "PlatformConfig",
    "REASONS",
    "RetrainingStack",
    "SageMakerExecutionRole",
    "SageMakerPipeline",
    "SageMakerPipelineTarget",
    "ScheduledRetraining",
    "SecureBucket",
    "ServerlessInference",
    "ServingStack",
    "StageServing",
    "compute_classification_metrics",
    "feature_definitions_from_dataframe",
    "build_training_pipeline",
    "image_uri",
    "pipeline_arn_of",
    "publish_custom_metrics",
    "validate_schedule",
]


def __getattr__(name: str):
    # The sagemaker SDK costs ~2 s to import: load the pipeline builder only when asked for.
    if name == "build_training_pipeline":
        from .pipeline_defs.training_pipeline import build_training_pipeline

        return build_training_pipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
