"""Compliance rule packs: cdk-nag's HIPAA Security, NIST 800-53 R5 and PCI DSS 3.2.1 checks next to AwsSolutions.

``compliance_packs`` (config) names the packs; :func:`parse_packs` validates
the value once where it enters (a name, a comma-separated list, a JSON list, or
``all``), and :func:`add_nag_packs` adds them to synthesis through the same
Validations plugin API as ``enable_nag``: an unacknowledged finding of any pack
fails ``cdk synth`` and lands in ``cdk.out/validation-report.json``.

The library fixes what AWS offers a control for (customer managed keys on log
groups, dead-letter queues and Lambda environments, reserved concurrency, and,
with the packs on, customer managed policies through
:func:`use_customer_managed_policies`) and acknowledges the rest on the exact
resource with :func:`acknowledge_packs` and a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import jsii
from aws_cdk import AspectPriority, Aspects, IAspect, Stack, Stage, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from ._nag import acknowledge
from ._validation import invalid

HIPAA = "hipaa"
NIST_800_53_R5 = "nist-800-53-r5"
PCI_DSS_321 = "pci-dss-3.2.1"
ALL = "all"
# pack name -> the cdk_nag class that checks it (cdk-nag 3.x names)
_CLASSES = {HIPAA: "HIPAASecurityChecks", NIST_800_53_R5: "NIST80053R5Checks", PCI_DSS_321: "PCIDSS321Checks"}
PACKS: tuple[str, ...] = tuple(_CLASSES)
_ALLOWED = f"{ALL} (alone), or one or more of {', '.join(PACKS)} (a name, a comma-separated list or a JSON list)"


def parse_packs(value: Any, *, owner: str = "config", prop: str = "compliance_packs") -> tuple[str, ...]:
    """The packs ``value`` names, in :data:`PACKS` order without repeats; ``all`` means every pack.

    ``None``, ``""`` and ``[]`` mean none. Anything else that is not a known pack
    (or ``all`` mixed with others) raises a ``ValueError`` naming ``prop``.
    """
    if value is None:
        return ()
    names: list[Any]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                names = json.loads(text)
            except json.JSONDecodeError:
                raise invalid(owner, prop, value, _ALLOWED) from None
            if not isinstance(names, list):
                raise invalid(owner, prop, value, _ALLOWED)
        else:
            names = [part.strip() for part in text.split(",") if part.strip()]
    elif isinstance(value, (list, tuple)):
        names = list(value)
    else:
        raise invalid(owner, prop, value, _ALLOWED)
    for name in names:
        if not isinstance(name, str) or name.strip() not in (*PACKS, ALL):
            raise invalid(owner, prop, name, _ALLOWED)
    names = [name.strip() for name in names]
    if ALL in names:
        if len(set(names)) > 1:
            raise invalid(owner, prop, value, _ALLOWED)
        return PACKS
    return tuple(pack for pack in PACKS if pack in names)


def add_nag_packs(scope: Construct, packs: Iterable[str]) -> tuple[str, ...]:
    """Check every template under ``scope`` with the cdk-nag ``packs`` (names as :func:`parse_packs` takes them).

    AwsSolutions is not among them: ``enable_nag`` adds it. Returns the packs added.
    """
    import cdk_nag  # loaded by apps that check, not by every reader of the configuration

    selected = parse_packs(list(packs) if not isinstance(packs, str) else packs, owner="add_nag_packs", prop="packs")
    plugins = [getattr(cdk_nag, _CLASSES[pack])(scope) for pack in selected]
    if plugins:
        Validations.of(scope).add_plugins(*plugins)
    return selected


# The rule of each pack that an acknowledgment names: "<pack rule prefix>-<rule>" (cdk-nag 3 finding ids).
_RULE_PREFIX = {HIPAA: "HIPAA.Security", NIST_800_53_R5: "NIST.800.53.R5", PCI_DSS_321: "PCI.DSS.321"}
# Which packs check each rule the library acknowledges somewhere (cdk-nag 3.0.2's rules/ per pack).
_PACKS_OF_RULE = {
    "LambdaConcurrency": (HIPAA, NIST_800_53_R5),
    "LambdaInsideVPC": PACKS,
    "S3BucketReplicationEnabled": PACKS,
    "S3DefaultEncryptionKMS": PACKS,
}


def finding_ids(rule: str) -> tuple[str, ...]:
    """The finding id of ``rule`` (e.g. ``LambdaConcurrency``) in every pack that checks it."""
    return tuple(f"{_RULE_PREFIX[pack]}-{rule}" for pack in _PACKS_OF_RULE[rule])


def acknowledge_packs(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` of every compliance pack that checks it, on ``scope`` (the resource), with ``reason``."""
    for finding in finding_ids(rule):
        acknowledge(scope, finding, reason)


@jsii.implements(IAspect)
class CustomerManagedPolicies:
    """Renders each inline ``iam.Policy`` (a role's ``DefaultPolicy`` included) as a customer managed policy.

    The packs' ``IAMNoInlinePolicy`` objects to ``AWS::IAM::Policy``: the same document, attached to the same
    roles, users and groups, becomes an ``AWS::IAM::ManagedPolicy`` (child ``Managed`` of the policy, so what
    depends on the policy or its role still deploys after it, and acknowledgments on them still apply). A policy
    that would not be synthesized (empty, or attached to nothing, e.g. through an immutable imported role) is left
    alone. Managed policies count against IAM quotas (10 per role by default, 1,500 per account) and hold at most
    6,144 characters each (the largest of the reference platform: about 3,400), which is why this is opt-in:
    :func:`use_customer_managed_policies`.
    """

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, iam.Policy):
            return
        cfn = node.node.default_child
        if not isinstance(cfn, iam.CfnPolicy) or node.document.is_empty:
            return
        stack = Stack.of(node)
        principals = {name: getattr(cfn, name) for name in ("roles", "users", "groups")}
        principals = {name: value for name, value in principals.items() if stack.resolve(value)}
        if not principals:
            return
        iam.CfnManagedPolicy(node, "Managed", policy_document=node.document,
                             description=f"Permissions of {node.node.path}"[:1000], **principals)
        node.node.try_remove_child(cfn.node.id)


def use_customer_managed_policies(scope: Construct) -> None:
    """Apply :class:`CustomerManagedPolicies` to every policy under ``scope`` (an ``App``, ``Stage`` or ``Stack``).

    Aspects stop at ``Stage`` boundaries (validation plugins do not): the aspect is also added to each ``Stage``
    under ``scope`` at the time of the call, so call it once everything is built, as ``enable_nag``.
    """
    aspect = CustomerManagedPolicies()
    for construct in [scope, *(c for c in scope.node.find_all() if c is not scope and Stage.is_stage(c))]:
        Aspects.of(construct).add(aspect, priority=AspectPriority.MUTATING)


__all__ = ["ALL", "HIPAA", "NIST_800_53_R5", "PACKS", "PCI_DSS_321", "CustomerManagedPolicies", "add_nag_packs",
           "acknowledge_packs", "finding_ids", "parse_packs", "use_customer_managed_policies"]
