"""mlops-cdk: AWS CDK constructs and stacks for production MLOps on Amazon SageMaker."""

from .config import STAGES, PlatformConfig
from .constructs.alert_topic import AlertTopic
from .constructs.execution_role import SageMakerExecutionRole
from .constructs.images import image_uri
from .constructs.secure_bucket import SecureBucket
from .stacks.foundation import FoundationStack

__all__ = [
    "STAGES",
    "AlertTopic",
    "FoundationStack",
    "PlatformConfig",
    "SageMakerExecutionRole",
    "SecureBucket",
    "image_uri",
]
