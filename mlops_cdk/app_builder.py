"""Builds the reference platform from configuration: the one reader of ``PlatformConfig`` for a whole app.

``app.py`` is a thin wrapper around :func:`build_app`; an own app (or a
``cdk.Stage`` of a delivery pipeline) calls :func:`build_platform` per model
and stage, or composes the stacks itself (see README, "Use it in your own app").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from ._validation import invalid
from .config import PlatformConfig
from .settings import STAGES
from .stacks.feature_store import FeatureStoreStack
from .stacks.foundation import FoundationStack
from .stacks.model_build import ModelBuildStack
from .stacks.monitoring import MonitoringStack
from .stacks.retraining import RetrainingStack
from .stacks.serving import ServingStack


@dataclasses.dataclass(frozen=True)
class Platform:
    """The stacks of one model at one stage, as :func:`build_platform` wires them."""

    config: PlatformConfig
    foundation: FoundationStack
    feature_store: FeatureStoreStack
    model_build: ModelBuildStack
    serving: ServingStack
    monitoring: MonitoringStack
    retraining: RetrainingStack


def stack_name(config: PlatformConfig, part: str) -> str:
    return f"{config.prefix}-{part}"


def build_platform(scope: Construct, config: PlatformConfig) -> Platform:
    """Add every stack of one model and stage to ``scope`` (an ``App`` or a ``Stage``).

    Stacks hand each other objects (resources, the pipeline, alarms, the
    endpoint), so CloudFormation deploys them in dependency order. Stacks of
    the ``prod`` stage have termination protection.
    """
    foundation = FoundationStack(scope, stack_name(config, "foundation"), config=config)
    resources = foundation.resources
    feature_store = FeatureStoreStack(scope, stack_name(config, "feature-store"), config=config, resources=resources)
    model_build = ModelBuildStack(scope, stack_name(config, "model-build"), config=config, resources=resources)
    serving = ServingStack(scope, stack_name(config, "serving"), config=config, resources=resources)
    monitoring = MonitoringStack(scope, stack_name(config, "monitoring"), config=config, resources=resources,
                                 endpoint=serving.monitored_endpoint)
    retraining = RetrainingStack(
        scope, stack_name(config, "retraining"), config=config, resources=resources,
        pipeline=model_build.pipeline,
        pipeline_parameters=model_build.pipeline.parameter_names,
        drift_alarms=list(monitoring.alarms.feature_drift_alarms.values()),
        quality_alarms=[a for a in (monitoring.alarms.accuracy_alarm,) if a is not None],
        drift_endpoints=[serving.monitored_endpoint.endpoint],
    )
    return Platform(config, foundation, feature_store, model_build, serving, monitoring, retraining)


def selected_stages(context: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The stages ``-c stages=...`` asks for (``all`` or a comma-separated list); ``None``: just ``stage``."""
    raw = context.get("stages")
    if raw is None or raw == "" or raw == []:
        return None
    allowed = "all | a comma-separated list of " + ", ".join(STAGES)
    if isinstance(raw, str):
        parts = [p.strip() for p in raw.split(",") if p.strip()]
    elif isinstance(raw, (list, tuple)):
        parts = list(raw)
    else:
        raise invalid("config", "stages", raw, allowed)
    if parts == ["all"]:
        return STAGES
    for part in parts:
        if part not in STAGES:
            raise invalid("config", "stages", part, allowed)
    return tuple(dict.fromkeys(parts))


def build_app(app: App, context: Mapping[str, Any] | None = None) -> dict[str, Platform]:
    """Build the platform of every selected stage into ``app``; returns stage -> :class:`Platform`.

    ``context`` defaults to the app's (cdk.json + ``-c``). Without ``stages``
    one platform is built, for ``stage``; ``-c stages=all`` (or
    ``stages=dev,prod``) builds one per stage, each from the same context with
    that stage. ``model_package_arn`` names one stage's package, so it is
    refused with several stages: set ``serving.<stage>.model_package_arn`` instead.
    """
    context = dict(app.node.get_all_context() if context is None else context)
    stages = selected_stages(context)
    if stages is None:
        config = PlatformConfig.from_context(context)
        return {config.stage: build_platform(app, config)}
    if len(stages) > 1 and context.get("model_package_arn") not in (None, ""):
        raise invalid(
            "config", "model_package_arn", context["model_package_arn"],
            f"a single stage (stages={','.join(stages)} selects {len(stages)}); "
            "set serving.<stage>.model_package_arn per stage instead",
        )
    configs = [PlatformConfig.from_context({**context, "stage": stage}) for stage in stages]  # validate all first
    return {config.stage: build_platform(app, config) for config in configs}


def enable_nag(scope: Construct) -> None:
    """Check every template under ``scope`` with cdk-nag's AwsSolutions pack during synthesis.

    Any finding the library has not acknowledged (with a reason) fails
    ``cdk synth``; the report is ``cdk.out/validation-report.json``. Call it
    once on the ``App`` (or a ``Stage``) of an own app, as ``app.py`` does.
    """
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope))
