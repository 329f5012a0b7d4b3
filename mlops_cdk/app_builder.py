"""Builds the reference platform from configuration; `app.py` is a thin wrapper around it."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from .config import PlatformConfig
from .stacks.feature_store import FeatureStoreStack
from .stacks.foundation import FoundationStack
from .stacks.model_build import ModelBuildStack


def stack_name(config: PlatformConfig, part: str) -> str:
    return f"{config.project_name}-{config.model_name}-{config.stage}-{part}"


def build_platform(app: App, config: PlatformConfig) -> dict[str, object]:
    """Add every stack of one model and stage to ``app``; returns them by role."""
    foundation = FoundationStack(app, stack_name(config, "foundation"), config=config)
    feature_store = FeatureStoreStack(app, stack_name(config, "feature-store"), config=config, foundation=foundation)
    model_build = ModelBuildStack(app, stack_name(config, "model-build"), config=config, foundation=foundation)
    return {"foundation": foundation, "feature_store": feature_store, "model_build": model_build}


def enable_nag(app: App) -> None:
    """Run cdk-nag's AwsSolutions pack on every template: unacknowledged findings fail synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
