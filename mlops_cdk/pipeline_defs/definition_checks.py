"""Checks a pipeline definition must pass before it goes into a template.

SageMaker validates a definition only when CloudFormation creates the pipeline,
minutes into a deployment, with terse errors. The mistakes a definition can
carry from synth (a step name used twice, a ``Get`` of a parameter or step that
does not exist, a definition over the API's size limit) are cheap to find here.
Pure Python, no SDK: the ``SageMakerPipeline`` construct calls
``validate_definition`` on whatever definition it is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

# CreatePipeline takes at most 1 MiB of PipelineDefinition. Measured here before
# Fn::Sub: each resolved placeholder adds at most ~100 bytes, leave room for that.
MAX_DEFINITION_BYTES = 1024 * 1024

# The ``Execution.*`` values a pipeline may read (sagemaker.workflow.execution_variables).
EXECUTION_VARIABLES = frozenset({
    "StartDateTime", "CurrentDateTime", "PipelineName", "PipelineArn",
    "PipelineExecutionId", "PipelineExecutionArn", "TrainingJobName", "ProcessingJobName",
})


def validate_definition(definition: Mapping[str, Any] | str) -> None:
    """Raise ``ValueError`` listing every problem found in ``definition`` (a dict or its JSON)."""
    text = definition if isinstance(definition, str) else json.dumps(definition, separators=(",", ":"))
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except json.JSONDecodeError as error:
            raise ValueError(f"pipeline definition: not valid JSON ({error})") from None
    if not isinstance(definition, Mapping) or not isinstance(definition.get("Steps"), list):
        raise ValueError("pipeline definition: expected a JSON object with a 'Steps' list")

    problems = []
    size = len(text.encode())
    if size > MAX_DEFINITION_BYTES:
        problems.append(f"{size} bytes, over SageMaker's limit of {MAX_DEFINITION_BYTES} bytes")
    parameters = _names("parameter", definition.get("Parameters") or [], problems)
    steps = {step.get("Name"): step for step in _all_steps(definition["Steps"])}
    _names("step", list(_all_steps(definition["Steps"])), problems)
    for owner, reference in _references(definition):
        problem = _check_reference(reference, parameters, steps)
        if problem:
            problems.append(f"{owner}: {problem}")
    for step in steps.values():
        for dependency in step.get("DependsOn") or []:
            if dependency not in steps:
                problems.append(f"step {step.get('Name')!r}: DependsOn unknown step {dependency!r}")
    if problems:
        raise ValueError("invalid pipeline definition: " + "; ".join(problems))


def _all_steps(steps: list[Any]) -> Iterator[Mapping[str, Any]]:
    """Top-level steps and, depth first, the branches of condition steps."""
    for step in steps:
        if not isinstance(step, Mapping):
            continue
        yield step
        arguments = step.get("Arguments") or {}
        for branch in ("IfSteps", "ElseSteps"):
            yield from _all_steps(arguments.get(branch) or [])


def _names(kind: str, entries: list[Any], problems: list[str]) -> set[str]:
    names: set[str] = set()
    for entry in entries:
        name = entry.get("Name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append(f"a {kind} without a name: {json.dumps(entry)[:120]}")
        elif name in names:
            problems.append(f"{kind} name {name!r} is used more than once")
        names.add(name)
    return names


def _references(definition: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, reference) for every ``{"Get": reference}`` in the definition."""
    yield from _gets(definition.get("PipelineExperimentConfig"), "PipelineExperimentConfig")
    for step in _all_steps(definition["Steps"]):
        own = {k: v for k, v in step.items() if k != "Arguments"}
        arguments = {k: v for k, v in (step.get("Arguments") or {}).items() if k not in ("IfSteps", "ElseSteps")}
        yield from _gets([own, arguments], f"step {step.get('Name')!r}")


def _gets(node: Any, owner: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        if isinstance(node.get("Get"), str):
            yield owner, node["Get"]
        for value in node.values():
            yield from _gets(value, owner)
    elif isinstance(node, list):
        for value in node:
            yield from _gets(value, owner)


def _check_reference(reference: str, parameters: set[str], steps: Mapping[str, Mapping[str, Any]]) -> str | None:
    root, _, rest = reference.partition(".")
    name, _, path = rest.partition(".")
    if root == "Parameters":
        return None if rest in parameters else f"Get {reference!r} names an undeclared parameter {rest!r}"
    if root == "Execution":
        return None if rest in EXECUTION_VARIABLES else f"Get {reference!r} names an unknown execution variable"
    if root != "Steps":
        return f"Get {reference!r} starts with neither Parameters., Steps. nor Execution."
    if name not in steps:
        return f"Get {reference!r} names an unknown step {name!r}"
    if path.startswith("PropertyFiles."):
        file = path.removeprefix("PropertyFiles.")
        declared = {f.get("PropertyFileName") for f in steps[name].get("PropertyFiles") or []}
        if file not in declared:
            return f"Get {reference!r} names property file {file!r}, which step {name!r} does not declare"
    return None
