"""Builds the reference platform from configuration: the one reader of ``PlatformConfig`` for a whole app.

``app.py`` is a thin wrapper around :func:`build_app`; an own app (or a
``cdk.Stage`` of a delivery pipeline) calls :func:`build_platform` per model
and stage, or composes the stacks itself (see README, "Use it in your own app").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from . import locations
from .compliance import add_nag_packs, use_customer_managed_policies
from ._validation import config_invalid
from .config import PlatformConfig
from .constructs.build.model_registry import ModelRegistry
from .constructs.common.guardrails import PlatformGuardrails
from .settings import STAGES
from .stacks.feature_store import FeatureStoreStack
from .stacks.foundation import FoundationStack
from .stacks.model_build import ModelBuildStack
from .stacks.monitoring import MonitoringStack
from .stacks.retraining import RetrainingStack
from .stacks.serving import ServingStack

if TYPE_CHECKING:  # imported where used: an app without Studio or delivery does not pay for their modules
    from .stacks.studio import StudioStack


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
    studio: StudioStack | None = None


def stack_name(config: PlatformConfig, part: str) -> str:
    return f"{config.prefix}-{part}"


def build_platform(scope: Construct, config: PlatformConfig) -> Platform:
    """Add every stack of one model and stage to ``scope`` (an ``App`` or a ``Stage``).

    Stacks hand each other objects (resources, the pipeline, alarms, the
    endpoint), so CloudFormation deploys them in dependency order. Stacks of
    the ``prod`` stage have termination protection.
    """
    def named(part: str) -> dict[str, str]:  # inside a delivery Stage too: the name a manual deployment gives
        return {"stack_name": stack_name(config, part)}

    foundation = FoundationStack(scope, stack_name(config, "foundation"), config=config, **named("foundation"))
    resources = foundation.resources
    feature_store = FeatureStoreStack(scope, stack_name(config, "feature-store"), config=config, resources=resources,
                                      **named("feature-store"))
    model_build = ModelBuildStack(scope, stack_name(config, "model-build"), config=config, resources=resources,
                                  **named("model-build"))
    serving = ServingStack(scope, stack_name(config, "serving"), config=config, resources=resources,
                           **named("serving"))
    monitoring = MonitoringStack(scope, stack_name(config, "monitoring"), config=config, resources=resources,
                                 endpoint=serving.monitored_endpoint, **named("monitoring"))
    retraining = RetrainingStack(
        scope, stack_name(config, "retraining"), config=config, resources=resources,
        pipeline=model_build.pipeline,
        pipeline_parameters=model_build.pipeline.parameter_names,
        drift_alarms=list(monitoring.alarms.feature_drift_alarms.values()),
        quality_alarms=[a for a in (monitoring.alarms.accuracy_alarm,) if a is not None],
        drift_endpoints=[serving.monitored_endpoint.endpoint],
        **named("retraining"),
    )
    studio = None
    if config.studio is not None:
        from .stacks.studio import StudioStack
        studio = StudioStack(scope, stack_name(config, "studio"), config=config, resources=resources, **named("studio"))
    if config.delivery is not None and config.stage == config.delivery.stages[0]:
        _share_registry(config, model_build, resources)
    return Platform(config, foundation, feature_store, model_build, serving, monitoring, retraining, studio)


def _share_registry(config: PlatformConfig, model_build: ModelBuildStack, resources: Any) -> None:
    """The first delivered stage's registry serves every stage: other accounts may read its versions and
    artifacts, and its approval events go to the pipeline's account (the delivery stack's trigger)."""
    delivery = config.delivery
    own = delivery.account_of(config.stage)
    if own is None:
        return  # environment-agnostic stages: one account, nothing to share
    others = sorted({a for a in (*delivery.accounts.values(), delivery.pipeline_account) if a and a != own})
    registry = model_build.registry
    if not others or not isinstance(registry, ModelRegistry):
        return
    registry.grant_cross_account_read(others, artifact_bucket=resources.data_bucket,
                                      artifact_prefix=locations.pipeline_artifacts(config.pipeline_name),
                                      artifact_key=resources.data_key)
    if delivery.pipeline_account != own:
        bus = ModelRegistry.default_event_bus(model_build, "DeliveryAccountBus", delivery.pipeline_account)
        registry.forward_approval_events(bus, alert_topic=resources.alert_topic)


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
        raise config_invalid("stages", raw, allowed)
    if parts == ["all"]:
        return STAGES
    for part in parts:
        if part not in STAGES:
            raise config_invalid("stages", part, allowed)
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
    if stages is not None and len(stages) > 1 and context.get("model_package_arn") not in (None, ""):
        raise config_invalid(
            "model_package_arn", context["model_package_arn"],
            f"a single stage (stages={','.join(stages)} selects {len(stages)}); "
            "set serving.<stage>.model_package_arn per stage instead",
        )
    config = PlatformConfig.from_context(context)  # the app-wide keys (delivery, guardrails) are the same per stage
    if config.delivery is not None:
        platforms = build_delivery(app, context, config)
    elif stages is None:
        platforms = {config.stage: build_platform(app, config)}
    else:
        configs = [PlatformConfig.from_context({**context, "stage": stage}) for stage in stages]  # validate all first
        platforms = {config.stage: build_platform(app, config) for config in configs}
    if config.permissions_boundary is not None or config.role_path is not None:  # app-wide, after everything
        PlatformGuardrails(permissions_boundary=config.permissions_boundary, role_path=config.role_path).apply(app)
    return platforms


def build_delivery(app: App, context: Mapping[str, Any], config: PlatformConfig) -> dict[str, Platform]:
    """With ``delivery`` set: only the delivery stack, whose stages hold the platforms the pipeline deploys.

    The pipeline is then the one deployer of those stacks (a ``cdk deploy --all`` from a laptop would write
    the same stacks with versions nobody approved); ``-c delivery=`` (empty) gives the plain platform back.
    """
    for key in ("stages", "model_package_arn"):
        if context.get(key) not in (None, "", []):
            raise config_invalid(key, context[key], "unset with delivery: delivery.stages selects the stages, "
                          "serving.<stage>.model_package_arn or an approval (approved_packages) the versions")
    region = config.delivery.region or config.region
    configs = {s: PlatformConfig.from_context({**context, "stage": s, **({"region": region} if region else {})})
               for s in config.delivery.stages}
    from .stacks.delivery import DeliveryStack, delivery_stack_name

    stack = DeliveryStack(app, delivery_stack_name(config), config=config, delivery=config.delivery,
                          build=build_platform, stage_configs=configs)
    return {s: stage.platform for s, stage in stack.stages.items()}


def enable_nag(scope: Construct, *, packs: Iterable[str] = ()) -> None:
    """Check every template under ``scope`` with cdk-nag's AwsSolutions pack during synthesis.

    Any finding the library has not acknowledged (with a reason) fails
    ``cdk synth``; the report is ``cdk.out/validation-report.json``. ``packs``
    (``hipaa``, ``nist-800-53-r5``, ``pci-dss-3.2.1`` or ``all``) adds those
    packs and renders the IAM policies under ``scope`` (nested Stages included)
    as customer managed policies, which the packs ask for. Call it once on the
    ``App`` (or a ``Stage``) of an own app after everything is built, as
    ``app.py`` does.
    """
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope))
    if add_nag_packs(scope, packs):
        use_customer_managed_policies(scope)
