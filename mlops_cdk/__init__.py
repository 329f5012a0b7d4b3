"""mlops-cdk: AWS CDK constructs and stacks for production MLOps on Amazon SageMaker."""

from .config import STAGES, PlatformConfig
from .constructs.alert_topic import AlertTopic
from .constructs.execution_role import SageMakerExecutionRole
from .constructs.feature_group import FeatureGroup, feature_definitions_from_dataframe
from .constructs.images import image_uri
from .constructs.model_approval import MetricGatedApproval
from .constructs.model_registry import ModelRegistry
from .constructs.pipeline_target import SageMakerPipelineTarget
from .constructs.secure_bucket import SecureBucket
from .monitoring_metrics import compute_classification_metrics, publish_custom_metrics
from .stacks.feature_store import DEFAULT_FEATURE_GROUPS, FeatureStoreStack
from .stacks.foundation import FoundationStack

__all__ = [
    "DEFAULT_FEATURE_GROUPS",
    "STAGES",
    "AlertTopic",
    "FeatureGroup",
    "FeatureStoreStack",
    "FoundationStack",
    "MetricGatedApproval",
    "ModelRegistry",
    "PlatformConfig",
    "SageMakerExecutionRole",
    "SageMakerPipelineTarget",
    "SecureBucket",
    "compute_classification_metrics",
    "feature_definitions_from_dataframe",
    "image_uri",
    "publish_custom_metrics",
]
