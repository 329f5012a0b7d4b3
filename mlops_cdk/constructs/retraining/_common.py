"""What the retraining constructs share: checks of a pipeline and its parameters, and deploy ordering.

SageMaker refuses an undeclared parameter or an unknown ``Reason`` only when a
run starts (days after deploy, for a weekly schedule), so both are checked at
synth. Names, limits and reasons come from ``contract`` (the gate Lambda
ships the same module).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from constructs import IConstruct

from ..._validation import invalid, is_token, require_reason
from ...lambdas._shared import contract

_NAMES_ALLOWED = "parameter names of 1-256 letters, digits, '-' or '_'"


def require_pipeline(owner: str, pipeline: Any) -> Any:
    """Refuse the shapes of the old API (a name or an ARN): the prop is a ``sagemaker.IPipeline``."""
    if pipeline is None or isinstance(pipeline, str):
        raise invalid(owner, "pipeline", pipeline,
                      "a sagemaker.IPipeline, e.g. a SageMakerPipeline or SageMakerPipeline.from_pipeline_name(...)")
    return pipeline


def require_declared(owner: str, prop: str, names: Any, *, reason: bool) -> tuple[str, ...]:
    """The parameter names a pipeline declares: unique, SageMaker's pattern; with ``reason``, ``Reason`` among them."""
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise invalid(owner, prop, names, "a non-empty sequence of the parameter names the pipeline declares")
    for name in names:
        if not isinstance(name, str) or not contract.PIPELINE_PARAMETER_NAME_RE.match(name):
            raise invalid(owner, prop, name, _NAMES_ALLOWED)
    if len(set(names)) != len(names):
        raise invalid(owner, prop, list(names), "unique parameter names")
    if len(names) > contract.MAX_PIPELINE_PARAMETERS:
        raise invalid(owner, prop, f"{len(names)} names", f"at most {contract.MAX_PIPELINE_PARAMETERS}")
    if reason and contract.REASON_PARAMETER not in names:
        raise invalid(owner, prop, list(names),
                      f"names including '{contract.REASON_PARAMETER}' (every retraining run says why it started)")
    return tuple(names)


def require_parameters(
    owner: str, prop: str, parameters: Any, declared: Sequence[str] | None,
) -> dict[str, str]:
    """Parameters to send: declared names (when ``declared`` is known), string values, a known ``Reason``."""
    if not isinstance(parameters, Mapping):
        raise invalid(owner, prop, parameters, "a mapping of pipeline parameter name to string value")
    if len(parameters) > contract.MAX_PIPELINE_PARAMETERS:
        raise invalid(owner, prop, f"{len(parameters)} parameters", f"at most {contract.MAX_PIPELINE_PARAMETERS}")
    for name, value in parameters.items():
        if not isinstance(name, str) or not contract.PIPELINE_PARAMETER_NAME_RE.match(name):
            raise invalid(owner, prop, name, _NAMES_ALLOWED)
        if declared is not None and name not in declared:
            raise invalid(owner, prop, name, "parameters the pipeline declares: " + " | ".join(declared))
        if not isinstance(value, str) or (not is_token(value) and len(value) > contract.MAX_PIPELINE_PARAMETER_VALUE):
            raise invalid(owner, prop, {name: value},
                          f"string values of at most {contract.MAX_PIPELINE_PARAMETER_VALUE} characters")
        if name == contract.REASON_PARAMETER and not is_token(value):
            require_reason(owner, f"{prop}['{contract.REASON_PARAMETER}']", value)
    return dict(parameters)


def require_no_strings(owner: str, prop: str, values: Any, allowed: str) -> tuple[Any, ...]:
    """A sequence of resource objects; names and ARNs (the old API) are refused with what to pass instead."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise invalid(owner, prop, values, f"a sequence of {allowed}")
    for value in values:
        if value is None or isinstance(value, str):
            raise invalid(owner, prop, value, allowed)
    if not distinct(values):
        raise invalid(owner, prop, list(values), f"each of {allowed} once")
    return tuple(values)


def distinct(values: Sequence[Any]) -> bool:
    """No object twice (resources compare by identity)."""
    return len({id(v) for v in values}) == len(values)


def deploy_after(construct: IConstruct, *others: IConstruct) -> None:
    """Deploy ``construct`` after the stacks that hold ``others`` (a pipeline, alarms, endpoints).

    A name or an ARN without a token (an imported object, or a pipeline whose
    ARN is spelled from its name) creates no reference, so no stack
    dependency: this adds it. Objects of the same stack need none (a
    ``DependsOn`` next to a ``GetAtt`` is what cfn-lint's W3005 flags).
    """
    stack = Stack.of(construct)
    for other in others:
        if Stack.of(other) is not stack:
            construct.node.add_dependency(other)
