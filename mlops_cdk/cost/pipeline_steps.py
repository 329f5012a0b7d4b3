"""Which instances a SageMaker pipeline run starts: read from the pipeline definition JSON a stack deploys.

Reading the definition (rather than a list kept next to it) prices what actually runs, for the
course pipeline and for an own one alike. A step's instance type is often a pipeline parameter
(``{"Get": "Parameters.ProcessingInstanceType"}``): scheduled and triggered runs pass only
``Reason``, so the parameter's default is what runs. SageMaker Pipelines itself is free: the
jobs it starts are billed (processing and quality-check steps as processing, training steps as
training). Both branches of a condition are listed: one of them runs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from .._validation import invalid

# Step type -> (billed usage, where the instances are in the step's Arguments).
_INSTANCE_STEPS = {
    "Processing": ("processing", ("ProcessingResources", "ClusterConfig")),
    "QualityCheck": ("processing", ("ProcessingResources", "ClusterConfig")),
    "ClarifyCheck": ("processing", ("ProcessingResources", "ClusterConfig")),
    "Training": ("training", ("ResourceConfig",)),
}
# Steps that start no instance of their own.
_FREE_STEPS = {"Condition", "Fail", "RegisterModel", "Model", "CreateModel", "Lambda", "Callback"}


@dataclasses.dataclass(frozen=True)
class PipelineStep:
    """One step of a run that bills instances: ``usage`` is ``processing`` or ``training``."""

    name: str
    usage: str
    instance_type: str
    instance_count: int


@dataclasses.dataclass(frozen=True)
class PipelineInstances:
    """The billed steps of a definition, and the steps the estimate cannot price (with why)."""

    steps: tuple[PipelineStep, ...]
    not_estimated: tuple[str, ...]


def pipeline_instances(definition: str | Mapping[str, Any]) -> PipelineInstances:
    """The instance-backed steps of a pipeline definition (JSON text or its parsed object)."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except json.JSONDecodeError as exc:
            raise invalid("pipeline_instances", "definition", definition[:80], f"pipeline definition JSON ({exc.msg})") \
                from None
    if not isinstance(definition, Mapping) or not isinstance(definition.get("Steps"), list):
        raise invalid("pipeline_instances", "definition", str(definition)[:80], "a pipeline definition with Steps")
    defaults = {p.get("Name"): p.get("DefaultValue") for p in definition.get("Parameters") or []}
    steps, skipped = [], []
    for step in _all_steps(definition["Steps"]):
        kind, name = step.get("Type"), step.get("Name", "?")
        if kind in _FREE_STEPS:
            continue
        if kind not in _INSTANCE_STEPS:
            skipped.append(f"{name} ({kind} step): not estimated")
            continue
        usage, path = _INSTANCE_STEPS[kind]
        cluster: Any = step.get("Arguments", {})
        for key in path:
            cluster = cluster.get(key, {}) if isinstance(cluster, Mapping) else {}
        instance_type = _value(cluster.get("InstanceType"), defaults)
        count = _value(cluster.get("InstanceCount", 1), defaults)
        if not isinstance(instance_type, str) or isinstance(count, bool) or not isinstance(count, int):
            skipped.append(f"{name} ({kind} step): instance type or count not known before the run")
            continue
        steps.append(PipelineStep(name, usage, instance_type, count))
    return PipelineInstances(tuple(steps), tuple(skipped))


def _all_steps(steps: list[Any]) -> Iterator[Mapping[str, Any]]:
    for step in steps:
        if not isinstance(step, Mapping):
            continue
        yield step
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments", {})
            yield from _all_steps(list(arguments.get("IfSteps", [])) + list(arguments.get("ElseSteps", [])))


def _value(value: Any, defaults: Mapping[str, Any]) -> Any:
    """A literal, or the default of the parameter a ``{"Get": "Parameters.<name>"}`` names."""
    if isinstance(value, Mapping) and isinstance(value.get("Get"), str) and value["Get"].startswith("Parameters."):
        return defaults.get(value["Get"].removeprefix("Parameters."))
    return value


__all__ = ["PipelineInstances", "PipelineStep", "pipeline_instances"]
