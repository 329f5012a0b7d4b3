"""Reasoned cdk-nag acknowledgments.

cdk-nag 3 suppresses through CDK's native ``Validations.of(scope).acknowledge``;
this wrapper insists on a reason long enough to say *why* the finding is safe,
so an acknowledgment can't be a bare silencer.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

_MIN_REASON = 20


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge cdk-nag finding ``rule_id`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope``."""
    if len(reason.strip()) < _MIN_REASON:
        raise ValueError(f"acknowledgment of {rule_id}: reason must explain why it is safe ({reason!r})")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def logical_ref(element: IConstruct, attribute: str | None = None) -> str:
    """How cdk-nag spells a reference to ``element`` in a finding id: ``<LogicalId>`` or ``<LogicalId.Attr>``."""
    stack = Stack.of(element)
    logical_id = stack.resolve(stack.get_logical_id(element))  # type: ignore[arg-type]
    return f"<{logical_id}.{attribute}>" if attribute else f"<{logical_id}>"
