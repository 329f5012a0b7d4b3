"""How ``PlatformConfig`` resolves each stage's serving settings: defaults, ``serving.<stage>``, the one-stage
``model_package_arn``, versions approved in the registry, and where each version's artifacts live."""

from __future__ import annotations

from collections.abc import Mapping

from .._validation import config_invalid, require_model_package
from ..lambdas._shared import contract
from .stage_serving import DEFAULT_SERVING, STAGES, StageServing



class ServingResolution:
    """A mixin of ``PlatformConfig`` (it reads ``serving``, ``model_package_arn``, ``approved_packages``, ``stage``
    and ``prefix_of``)."""

    def _resolve_serving(self) -> None:
        raw = {} if self.serving is None else self.serving
        if not isinstance(raw, Mapping):
            raise config_invalid("serving", raw, 'a JSON object of stage -> settings, e.g. {"prod": {"instance_count": 3}}')
        for stage in raw:
            if stage not in STAGES:
                raise config_invalid(f"serving.{stage}", raw[stage], "settings under a stage key: " + " | ".join(STAGES))
        resolved = {
            stage: StageServing.from_mapping(raw[stage], path=f"serving.{stage}.", base=DEFAULT_SERVING[stage])
            if raw.get(stage) is not None else DEFAULT_SERVING[stage]
            for stage in STAGES
        }
        self._apply_approved_packages(resolved)
        package = None if self.model_package_arn == "" else self.model_package_arn
        if package is not None:
            resolved[self.stage] = StageServing.from_mapping(
                {"model_package_arn": package}, path="", base=resolved[self.stage])
        for stage, settings in resolved.items():
            self._check_package_source(stage, settings, "model_package_arn" if package and stage == self.stage
                                       else f"serving.{stage}.model_package_arn")
        object.__setattr__(self, "model_package_arn", package)
        object.__setattr__(self, "serving", resolved)

    def _apply_approved_packages(self, resolved: dict[str, StageServing]) -> None:
        """Versions approved in the registry (the delivery pipeline passes them): a stage without an explicit
        ``serving.<stage>.model_package_arn`` deploys its approved one; the explicit package wins."""
        approved = {} if self.approved_packages is None else self.approved_packages
        if not isinstance(approved, Mapping):
            raise config_invalid("approved_packages", approved, "a JSON object of stage -> model package version ARN")
        for stage, arn in approved.items():
            if stage not in STAGES:
                raise config_invalid(f"approved_packages.{stage}", arn, "a stage: " + " | ".join(STAGES))
            require_model_package("config", f"approved_packages.{stage}", arn)
            if resolved[stage].model_package_arn is not None:
                continue
            values = {"model_package_arn": arn}
            match = contract.MODEL_PACKAGE_GROUP_OF_ARN_RE.search(arn)
            owner = next((s for s in STAGES if match and match.group("group") == self.prefix_of(s)), None)
            if resolved[stage].model_source_stage is None and owner not in (None, stage):
                values["model_source_stage"] = owner  # the trigger records dev's version for every stage
            resolved[stage] = StageServing.from_mapping(values, path="", base=resolved[stage])
        object.__setattr__(self, "approved_packages", dict(approved))

    def _check_package_source(self, stage: str, settings: StageServing, package_key: str) -> None:
        """A version of another stage's registry needs that stage's bucket: ``model_source_stage`` must say so."""
        package = settings.model_package_arn
        if package is None:
            return
        match = contract.MODEL_PACKAGE_VERSION_RE.fullmatch(package) or \
            contract.MODEL_PACKAGE_GROUP_OF_ARN_RE.search(package)
        owner = next((s for s in STAGES if match and match.group("group") == self.prefix_of(s)), None)
        if owner is None:
            return  # a group this platform did not create: nothing to compare
        source = settings.model_source_stage or stage
        if source != owner:
            raise config_invalid(
                f"serving.{stage}.model_source_stage", settings.model_source_stage,
                f"'{owner}': {package_key} is a version of the {owner} stage's model package group "
                f"{match.group('group')!r}, whose artifacts are in the {owner} stage's bucket",
            )

