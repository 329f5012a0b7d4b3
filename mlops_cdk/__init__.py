"""mlops-cdk: AWS CDK constructs and stacks for production MLOps on Amazon SageMaker.

Every public name is importable from here. Each loads on first use, so an app
pays (in synth time) only for the modules it uses: the sagemaker SDK, for one,
is imported only when a pipeline definition is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # configuration and settings
    "PlatformConfig": ".config",
    "STAGES": ".settings",
    "DEFAULT_SERVING": ".settings",
    "StageServing": ".settings",
    "AutoScaling": ".settings",
    "DeploymentPolicy": ".settings",
    "ServerlessInference": ".settings",
    "MonitorSchedule": ".settings.monitoring",
    "ModelQualityOptions": ".settings.monitoring",
    "BiasOptions": ".settings.monitoring",
    "FeatureAttributionOptions": ".settings.monitoring",
    "BiasFacet": ".settings.bias",
    "Explainability": ".settings.explainability",
    "OffHoursScaling": ".settings.off_hours",
    "BudgetSettings": ".settings.budget",
    "CostGuardrails": ".constructs.cost",
    "FeatureGroupSpec": ".settings.features",
    # foundation
    "SecureBucket": ".constructs.foundation.secure_bucket",
    "AlertTopic": ".constructs.foundation.alert_topic",
    "SageMakerExecutionRole": ".constructs.foundation.execution_role",
    "PlatformFunction": ".constructs.common.platform_function",
    "image_uri": ".constructs.common.images",
    # model build
    "IModelRegistry": ".constructs.build.model_registry",
    "ModelRegistry": ".constructs.build.model_registry",
    "MetricGatedApproval": ".constructs.build.model_approval",
    "BaselinePublisher": ".constructs.build.baseline_publisher",
    "PipelineDefinition": ".constructs.build.pipeline_definition",
    "SageMakerPipeline": ".constructs.build.sagemaker_pipeline",
    # serving
    "ModelEndpoint": ".constructs.serving.model_endpoint",
    "EndpointMetrics": ".constructs.serving.endpoint_metrics",
    "MonitoredEndpoint": ".constructs.serving.monitored_endpoint",
    # monitoring
    "DataQualityMonitor": ".constructs.monitoring.data_quality",
    "ModelQualityMonitor": ".constructs.monitoring.model_quality",
    "BiasMonitor": ".constructs.monitoring.clarify_monitors",
    "FeatureAttributionMonitor": ".constructs.monitoring.clarify_monitors",
    "DriftChecker": ".constructs.monitoring.drift_checker",
    "ModelQualityChecker": ".constructs.monitoring.model_quality_checker",
    "BiasDriftChecker": ".constructs.monitoring.bias_drift_checker",
    "QualityMetrics": ".constructs.monitoring.quality_metrics",
    "ModelAlarms": ".constructs.monitoring.model_alarms",
    "ModelDashboard": ".constructs.monitoring.model_dashboard",
    "compute_classification_metrics": ".monitoring_metrics",
    "publish_custom_metrics": ".monitoring_metrics",
    # retraining
    "ScheduledRetraining": ".constructs.retraining.scheduled_retraining",
    "RetrainingGate": ".constructs.retraining.retraining_gate",
    "PipelineNotifications": ".constructs.retraining.pipeline_notifications",
    "REASONS": ".lambdas._shared.contract",
    # feature store
    "FeatureGroup": ".constructs.features.feature_group",
    "IFeatureGroup": ".constructs.features.feature_group",
    "feature_definitions_from_dataframe": ".settings.features",
    # stacks
    "PlatformResources": ".stacks.resources",
    "FoundationStack": ".stacks.foundation",
    "ModelBuildStack": ".stacks.model_build",
    "ServingStack": ".stacks.serving",
    "MonitoringStack": ".stacks.monitoring",
    "RetrainingStack": ".stacks.retraining",
    "FeatureStoreStack": ".stacks.feature_store",
    "DEFAULT_FEATURE_GROUPS": ".stacks.feature_store",
    # the reference platform
    "Platform": ".app_builder",
    "build_platform": ".app_builder",
    "build_app": ".app_builder",
    "enable_nag": ".app_builder",
    # the course's pipeline (imports the sagemaker SDK)
    "build_training_pipeline": ".pipeline_defs.training_pipeline",
    # delivery, network, Studio, compliance and guardrails
    "DeliverySettings": ".settings.delivery",
    "DeliveryPipeline": ".constructs.delivery.delivery_pipeline",
    "PlatformStage": ".constructs.delivery.platform_stage",
    "EndpointTestAccess": ".constructs.delivery.endpoint_test",
    "DeliveryStack": ".stacks.delivery",
    "EndpointTestStack": ".stacks.delivery",
    "ApprovalDeployTrigger": ".constructs.delivery.approval_trigger",
    "approved_package_parameter_name": ".constructs.delivery.approved_package",
    "GitHubOidcRole": ".constructs.delivery.github_oidc",
    "build_delivery": ".app_builder",
    "StudioSettings": ".settings.studio",
    "StudioDomain": ".constructs.studio.studio_domain",
    "StudioExecutionRole": ".constructs.studio.execution_role",
    "StudioStack": ".stacks.studio",
    "PlatformGuardrails": ".constructs.common.guardrails",
    "PlatformNetwork": ".constructs.network.platform_network",
    "NetworkPlacement": ".constructs.common.network_placement",
    "CreateNetwork": ".settings.network",
    "ExistingNetwork": ".settings.network",
    "add_nag_packs": ".compliance",
    "use_customer_managed_policies": ".compliance",
    "ReplicationSettings": ".settings.replication",
}

# A literal list, so linters and IDEs see the public names (a test keeps it equal to _EXPORTS).
__all__ = [
    "AlertTopic",
    "ApprovalDeployTrigger",
    "AutoScaling",
    "BaselinePublisher",
    "BiasDriftChecker",
    "BiasFacet",
    "BiasMonitor",
    "BiasOptions",
    "BudgetSettings",
    "CostGuardrails",
    "CreateNetwork",
    "DEFAULT_FEATURE_GROUPS",
    "DEFAULT_SERVING",
    "DataQualityMonitor",
    "DeliveryPipeline",
    "DeliverySettings",
    "DeliveryStack",
    "DeploymentPolicy",
    "DriftChecker",
    "EndpointMetrics",
    "EndpointTestAccess",
    "EndpointTestStack",
    "ExistingNetwork",
    "Explainability",
    "FeatureAttributionMonitor",
    "FeatureAttributionOptions",
    "FeatureGroup",
    "FeatureGroupSpec",
    "FeatureStoreStack",
    "FoundationStack",
    "GitHubOidcRole",
    "IFeatureGroup",
    "IModelRegistry",
    "MetricGatedApproval",
    "ModelAlarms",
    "ModelBuildStack",
    "ModelDashboard",
    "ModelEndpoint",
    "ModelQualityChecker",
    "ModelQualityMonitor",
    "ModelQualityOptions",
    "ModelRegistry",
    "MonitorSchedule",
    "MonitoredEndpoint",
    "MonitoringStack",
    "NetworkPlacement",
    "OffHoursScaling",
    "PipelineDefinition",
    "PipelineNotifications",
    "Platform",
    "PlatformConfig",
    "PlatformFunction",
    "PlatformGuardrails",
    "PlatformNetwork",
    "PlatformResources",
    "PlatformStage",
    "QualityMetrics",
    "REASONS",
    "ReplicationSettings",
    "RetrainingGate",
    "RetrainingStack",
    "STAGES",
    "SageMakerExecutionRole",
    "SageMakerPipeline",
    "ScheduledRetraining",
    "SecureBucket",
    "ServerlessInference",
    "ServingStack",
    "StageServing",
    "StudioDomain",
    "StudioExecutionRole",
    "StudioSettings",
    "StudioStack",
    "add_nag_packs",
    "approved_package_parameter_name",
    "build_app",
    "build_delivery",
    "build_platform",
    "build_training_pipeline",
    "compute_classification_metrics",
    "enable_nag",
    "feature_definitions_from_dataframe",
    "image_uri",
    "publish_custom_metrics",
    "use_customer_managed_policies",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what IDEs and type checkers see
    from .app_builder import Platform, build_app, build_platform, enable_nag
    from .config import PlatformConfig
    from .constructs.build.baseline_publisher import BaselinePublisher
    from .constructs.build.model_approval import MetricGatedApproval
    from .constructs.build.model_registry import IModelRegistry, ModelRegistry
    from .constructs.build.pipeline_definition import PipelineDefinition
    from .constructs.build.sagemaker_pipeline import SageMakerPipeline
    from .constructs.common.images import image_uri
    from .constructs.common.platform_function import PlatformFunction
    from .constructs.features.feature_group import FeatureGroup, IFeatureGroup
    from .constructs.foundation.alert_topic import AlertTopic
    from .constructs.foundation.execution_role import SageMakerExecutionRole
    from .constructs.foundation.secure_bucket import SecureBucket
    from .constructs.monitoring.bias_drift_checker import BiasDriftChecker
    from .constructs.monitoring.clarify_monitors import BiasMonitor, FeatureAttributionMonitor
    from .constructs.monitoring.data_quality import DataQualityMonitor
    from .constructs.monitoring.drift_checker import DriftChecker
    from .constructs.monitoring.model_alarms import ModelAlarms
    from .constructs.monitoring.model_dashboard import ModelDashboard
    from .constructs.monitoring.model_quality import ModelQualityMonitor
    from .constructs.monitoring.model_quality_checker import ModelQualityChecker
    from .constructs.monitoring.quality_metrics import QualityMetrics
    from .constructs.retraining.pipeline_notifications import PipelineNotifications
    from .constructs.retraining.retraining_gate import RetrainingGate
    from .constructs.retraining.scheduled_retraining import ScheduledRetraining
    from .constructs.serving.endpoint_metrics import EndpointMetrics
    from .constructs.serving.model_endpoint import ModelEndpoint
    from .constructs.serving.monitored_endpoint import MonitoredEndpoint
    from .lambdas._shared.contract import REASONS
    from .monitoring_metrics import compute_classification_metrics, publish_custom_metrics
    from .pipeline_defs.training_pipeline import build_training_pipeline
    from .settings import DEFAULT_SERVING, STAGES, AutoScaling, DeploymentPolicy, ServerlessInference, StageServing
    from .settings.bias import BiasFacet
    from .settings.explainability import Explainability
    from .settings.off_hours import OffHoursScaling
    from .settings.budget import BudgetSettings
    from .constructs.cost import CostGuardrails
    from .settings.features import FeatureGroupSpec, feature_definitions_from_dataframe
    from .settings.monitoring import BiasOptions, FeatureAttributionOptions, ModelQualityOptions, MonitorSchedule
    from .stacks.feature_store import DEFAULT_FEATURE_GROUPS, FeatureStoreStack
    from .stacks.foundation import FoundationStack
    from .stacks.model_build import ModelBuildStack
    from .stacks.monitoring import MonitoringStack
    from .stacks.resources import PlatformResources
    from .stacks.retraining import RetrainingStack
    from .stacks.serving import ServingStack
    from .settings.delivery import DeliverySettings
    from .constructs.delivery.delivery_pipeline import DeliveryPipeline
    from .constructs.delivery.platform_stage import PlatformStage
    from .constructs.delivery.endpoint_test import EndpointTestAccess
    from .stacks.delivery import DeliveryStack, EndpointTestStack
    from .constructs.delivery.approval_trigger import ApprovalDeployTrigger
    from .constructs.delivery.approved_package import approved_package_parameter_name
    from .constructs.delivery.github_oidc import GitHubOidcRole
    from .app_builder import build_delivery
    from .settings.studio import StudioSettings
    from .constructs.studio.studio_domain import StudioDomain
    from .constructs.studio.execution_role import StudioExecutionRole
    from .stacks.studio import StudioStack
    from .constructs.common.guardrails import PlatformGuardrails
    from .constructs.network.platform_network import PlatformNetwork
    from .constructs.common.network_placement import NetworkPlacement
    from .settings.network import CreateNetwork, ExistingNetwork
    from .compliance import add_nag_packs, use_customer_managed_policies
    from .settings.replication import ReplicationSettings
