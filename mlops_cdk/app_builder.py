"""Builds the reference platform from configuration; `app.py` is a thin wrapper around it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Annotations, App, Validations
from cdk_nag import AwsSolutionsChecks

from ._validation import invalid
from .config import STAGES, PlatformConfig
from .stacks.feature_store import FeatureStoreStack
from .stacks.foundation import FoundationStack
from .stacks.model_build import ModelBuildStack
from .stacks.monitoring import MonitoringStack
from .stacks.retraining import RetrainingStack
from .stacks.serving import ServingStack


def stack_name(config: PlatformConfig, part: str) -> str:
    return f"{config.project_name}-{config.model_name}-{config.stage}-{part}"


def build_platform(app: App, config: PlatformConfig) -> dict[str, object]:
    """Add every stack of one model and stage to ``app``; returns them by role.

    Stacks of the ``prod`` stage have termination protection: deleting one
    needs an explicit ``aws cloudformation update-termination-protection`` first.
    """
    protect = config.stage == "prod"
    foundation = FoundationStack(app, stack_name(config, "foundation"), config=config,
                                 termination_protection=protect)
    feature_store = FeatureStoreStack(app, stack_name(config, "feature-store"), config=config, foundation=foundation,
                                      termination_protection=protect)
    model_build = ModelBuildStack(app, stack_name(config, "model-build"), config=config, foundation=foundation,
                                  termination_protection=protect)
    serving = ServingStack(app, stack_name(config, "serving"), config=config, foundation=foundation,
                           termination_protection=protect)
    monitoring = _monitoring(app, config, foundation, serving, protect)
    alarms = monitoring.alarms
    retraining = RetrainingStack(
        app, stack_name(config, "retraining"), config=config, foundation=foundation,
        pipeline_name=model_build.pipeline_name, pipeline_arn=model_build.pipeline.pipeline_arn,
        pipeline_parameters=model_build.pipeline.parameter_names, drift_endpoints=[serving.endpoint_name],
        drift_alarm_arns=[*(a.alarm_arn for a in alarms.feature_drift_alarms.values()), alarms.accuracy_alarm.alarm_arn],
        alarm_reasons={alarms.accuracy_alarm.alarm_arn: "ModelQualityDrop"},
        schedule=config.retraining_schedule, scheduled=config.retraining_scheduled,
        drift=config.retraining_on_drift, new_data=config.retraining_on_new_data,
        notifications=config.retraining_notifications, cooldown_minutes=config.retraining_cooldown_minutes,
        termination_protection=protect,
    )
    retraining.add_stack_dependency(model_build, "starts the model's pipeline")
    return {
        "foundation": foundation, "feature_store": feature_store, "model_build": model_build, "serving": serving,
        "monitoring": monitoring, "retraining": retraining,
    }


def _monitoring(app: App, config: PlatformConfig, foundation, serving, protect: bool) -> MonitoringStack:
    """Monitoring of the stage's endpoint; only the own drift checker until an endpoint is deployed.

    Model Monitor schedules fail to create for an endpoint that does not exist,
    so without a configured model package the mode falls back to ``own``
    (whose DriftCheckerSilent alarm then says, truthfully, that nothing is monitored).
    """
    mode = config.monitoring_mode
    if serving.endpoint is None and mode != "own":
        mode = "own"
    monitoring = MonitoringStack(
        app, stack_name(config, "monitoring"), config=config, foundation=foundation,
        endpoint_name=serving.endpoint_name, variant_name=serving.variant_name,
        capture_s3_uri=serving.capture_s3_uri, feature_names=config.monitoring_features, mode=mode,
        termination_protection=protect,
    )
    if mode != config.monitoring_mode:
        Annotations.of(monitoring).add_info(
            f"monitoring_mode '{config.monitoring_mode}' runs as 'own' until serving.{config.stage}.model_package_arn "
            "deploys an endpoint: Model Monitor schedules need a live endpoint"
        )
    monitoring.add_stack_dependency(serving, "monitors its endpoint")
    return monitoring


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


def build_app(app: App, context: Mapping[str, Any] | None = None) -> dict[str, dict[str, object]]:
    """Build the platform of every selected stage into ``app``; returns stage -> stacks by role.

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


def enable_nag(app: App) -> None:
    """Run cdk-nag's AwsSolutions pack on every template: unacknowledged findings fail synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
