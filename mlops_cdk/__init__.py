"""mlops-cdk: AWS CDK constructs and stacks for production MLOps on Amazon SageMaker."""

from .config import STAGES, PlatformConfig
from .constructs.alert_topic import AlertTopic
from .constructs.execution_role import SageMakerExecutionRole
from .constructs.feature_group import FeatureGroup, feature_definitions_from_dataframe
from .constructs.images import image_uri
from .constructs.model_approval import MetricGatedApproval
from .constructs.model_registry import ModelRegistry
from .constructs.pipeline_target import SageMakerPipelineTarget
from .constructs.sagemaker_pipeline import SageMakerPipeline
from .constructs.secure_bucket import SecureBucket
from .monitoring_metrics import compute_classification_metrics, publish_custom_metrics
from .stacks.feature_store import DEFAULT_FEATURE_GROUPS, FeatureStoreStack
from .stacks.foundation import FoundationStack
from .stacks.model_build import ModelBuildStack

__all__ = [
    "DEFAULT_FEATURE_GROUPS",
    "STAGES",
    "AlertTopic",
    "FeatureGroup",
    "FeatureStoreStack",
    "FoundationStack",
    "MetricGatedApproval",
    "ModelBuildStack",
    "ModelRegistry",
    "PlatformConfig",
    "SageMakerExecutionRole",
    "SageMakerPipeline",
    "SageMakerPipelineTarget",
    "SecureBucket",
    "compute_classification_metrics",
    "feature_definitions_from_dataframe",
    "build_training_pipeline",
    "image_uri",
    "publish_custom_metrics",
]


def __getattr__(name: str):
    # The sagemaker SDK costs ~2 s to import: load the pipeline builder only when asked for.
    if name == "build_training_pipeline":
        from .pipeline_defs.training_pipeline import build_training_pipeline

        return build_training_pipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
