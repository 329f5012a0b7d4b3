"""Per-stage serving settings: what each of dev, staging and prod deploys, on what, and how it updates.

Part of the platform configuration (``PlatformConfig.serving``), kept apart
from the platform-wide keys because it is the one nested, per-stage block.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .._validation import invalid, require_instance_type, require_model_package
from ._base import Settings
from .endpoint import AutoScaling, DeploymentPolicy, ServerlessInference, check_endpoint_combination

STAGES = ("dev", "staging", "prod")


@dataclasses.dataclass(frozen=True)
class StageServing(Settings):
    """How one stage serves the model: which model package, on what, scaled and deployed how.

    Attributes:
        model_package_arn: the model package version to deploy (full ARN, or
            ``<group>/<version>`` in the stage's account and region). ``None``:
            no endpoint is deployed for the stage (the serving stack keeps its
            role and reports the skip at synth time).
        model_source_stage: the stage whose platform trained the package: its
            data bucket holds the artifacts the endpoint must read (``None``:
            this stage). Promoting dev's model to prod sets ``"dev"`` here.
        instance_type: ``ml.<family>.<size>``; must be among the package's
            supported real-time instance types (the training pipeline registers
            ``ml.m5.large`` and ``ml.m5.xlarge`` by default). ``None`` with serverless.
        instance_count: initial instances (within ``autoscaling`` when set).
        serverless: a :class:`ServerlessInference` instead of instances (no
            data capture, VPC, network isolation or instance autoscaling).
        autoscaling: an :class:`AutoScaling` of the instance count, or ``None``;
            its ``off_hours`` scales the stage down outside working hours (opt-in).
        capture_percent: data-capture sampling, 0-100 (0: no capture);
            ``None``: 100 on instances, 0 on serverless (which cannot capture).
        network_isolation: run the container without network access;
            ``None``: on for instances, off for serverless (which cannot isolate).
        deployment: the :class:`DeploymentPolicy` of updates (blue/green
            traffic shifting, baking periods, rollback alarm thresholds).
    """

    model_package_arn: str | None = None
    model_source_stage: str | None = None
    instance_type: str | None = "ml.m5.large"
    instance_count: int = 1
    serverless: ServerlessInference | None = None
    autoscaling: AutoScaling | None = None
    capture_percent: int | None = None
    network_isolation: bool | None = None
    deployment: DeploymentPolicy = dataclasses.field(default_factory=DeploymentPolicy)

    @property
    def effective_capture_percent(self) -> int:
        """The sampling percentage deployed: ``capture_percent``, or 100 on instances / 0 on serverless."""
        if self.capture_percent is not None:
            return self.capture_percent
        return 0 if self.serverless is not None else 100

    @property
    def effective_network_isolation(self) -> bool:
        if self.network_isolation is not None:
            return self.network_isolation
        return self.serverless is None

    @classmethod
    def from_mapping(cls, data: Any, *, owner: str = "config", path: str = "", base: "StageServing | None" = None
                     ) -> "StageServing":
        """``data`` (a JSON object) on top of ``base``: nested objects merge with the base's, ``null`` clears.

        Switching a stage to serverless clears its ``instance_type`` unless
        ``data`` sets one, and setting an ``instance_type`` clears ``serverless``.
        """
        if isinstance(data, cls):
            return data
        if isinstance(data, Mapping) and "off_hours" in data:  # a likely place to look for it: say where it is
            raise invalid(owner, f"{path}off_hours", data["off_hours"],
                          f"the key {path}autoscaling.off_hours: off-hours scaling changes the autoscaling range "
                          "(a stage without autoscaling, or serverless, has none to change)")
        base = base or cls()
        values = cls._values_over(data, owner=owner, path=path, base=base)
        for key, kind in _NESTED.items():
            if key not in data:
                continue
            raw = data[key]
            if raw is None and key != "deployment":
                values[key] = None
            else:
                values[key] = kind.from_mapping(raw, owner=owner, path=f"{path}{key}.", base=getattr(base, key))
        if data.get("serverless") is not None and "instance_type" not in data:
            values["instance_type"] = None
        if data.get("instance_type") is not None and "serverless" not in data:
            values["serverless"] = None
        cls._check(values, owner, path)
        return cls(**values)

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        if values["model_package_arn"] is not None:
            require_model_package(owner, f"{path}model_package_arn", values["model_package_arn"])
        source = values["model_source_stage"]
        if source is not None and source not in STAGES:
            raise invalid(owner, f"{path}model_source_stage", source, "null | " + " | ".join(STAGES))
        instance_type = values["instance_type"]
        if instance_type is not None:
            require_instance_type(owner, f"{path}instance_type", instance_type)
        count = values["instance_count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise invalid(owner, f"{path}instance_count", count, "an integer >= 1")
        for key, kind in _NESTED.items():
            value = values[key]
            if not isinstance(value, kind) and not (value is None and key != "deployment"):
                raise invalid(owner, f"{path}{key}", value,
                              f"a {kind.__name__}" + ("" if key == "deployment" else " or null"))
        percent = values["capture_percent"]
        if percent is not None and (isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100):
            raise invalid(owner, f"{path}capture_percent", percent, "an integer in [0, 100] (0: no capture), or null")
        isolation = values["network_isolation"]
        if isolation is not None and not isinstance(isolation, bool):
            raise invalid(owner, f"{path}network_isolation", isolation, "true | false | null")
        check_endpoint_combination(
            owner, path,
            instance_type=instance_type,
            instance_count=count,
            serverless=values["serverless"],
            autoscaling=values["autoscaling"],
            deployment=values["deployment"],
            capture=bool(percent),
            capture_prop="capture_percent",
            capture_value=percent,
            network_isolation=isolation,
            vpc=False, vpc_prop="vpc",
            volume_kms=False, volume_kms_prop="volume_kms_key",
        )


_NESTED: dict[str, Any] = {"serverless": ServerlessInference, "autoscaling": AutoScaling, "deployment": DeploymentPolicy}

# Per-stage defaults. Instance types stay within what the training pipeline
# registers as supported (ml.m5.large, ml.m5.xlarge): SageMaker validates an
# endpoint's instance type against its model package.
#  - dev: one small instance, everything captured, plain all-at-once updates
#    with a short bake (the course's dev stage is the cheapest real endpoint;
#    switch to serverless with {"dev": {"serverless": {}}} at the cost of capture).
#  - staging: prod's instance type, autoscaling 1-2, a 5-minute bake, capture.
#  - prod: two instances autoscaling 2-6, canary of one instance for 10 minutes,
#    the old fleet kept 10 more minutes, capture.
DEFAULT_SERVING: dict[str, StageServing] = {
    "dev": StageServing(
        instance_type="ml.m5.large",
        instance_count=1,
        deployment=DeploymentPolicy(traffic_routing="all_at_once", termination_wait_seconds=120),
    ),
    "staging": StageServing(
        instance_type="ml.m5.xlarge",
        instance_count=1,
        autoscaling=AutoScaling(min_capacity=1, max_capacity=2),
        deployment=DeploymentPolicy(
            traffic_routing="all_at_once", termination_wait_seconds=300, max_execution_timeout_seconds=1800,
        ),
    ),
    "prod": StageServing(
        instance_type="ml.m5.xlarge",
        instance_count=2,
        autoscaling=AutoScaling(min_capacity=2, max_capacity=6),
        deployment=DeploymentPolicy(
            traffic_routing="canary", size_instances=1, wait_interval_seconds=600,
            termination_wait_seconds=600, max_execution_timeout_seconds=3600,
        ),
    ),
}
