"""Reasoned cdk-nag acknowledgments.

cdk-nag 3 suppresses through CDK's native ``Validations.of(scope).acknowledge``
and matches each finding exactly (``AwsSolutions-IAM5[Resource::<Bucket.Arn>/models/*]``),
so the helpers here compute finding ids the way cdk-nag spells them, and insist
on a reason long enough to say *why* the finding is safe.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from typing import Any

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct, IValidation

_MIN_REASON = 20
# What aws-cdk-lib's bucket grants add beyond plain object actions.
_BUCKET_GRANT_ACTION_WILDCARDS = (
    "s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*",
    "kms:GenerateDataKey*", "kms:ReEncrypt*",
)


# ``Validations.of`` is a jsii round trip; a construct collects several acknowledgments.
_VALIDATIONS: weakref.WeakKeyDictionary[IConstruct, Validations] = weakref.WeakKeyDictionary()


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge cdk-nag finding ``rule_id`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope``."""
    if len(reason.strip()) < _MIN_REASON:
        raise ValueError(f"acknowledgment of {rule_id}: reason must explain why it is safe ({reason!r})")
    validations = _VALIDATIONS.get(scope)
    if validations is None:
        validations = _VALIDATIONS[scope] = Validations.of(scope)
    validations.acknowledge(Acknowledgment(id=rule_id, reason=reason))


def flatten_cfn_reference(node: Any) -> str:
    """How cdk-nag spells a resolved CloudFormation value in a finding id (a port of its ``flattenCfnReference``)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(flatten_cfn_reference(item) for item in items)
        if "Fn::Sub" in node:
            return flatten_cfn_reference(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_cfn_reference(resource)}.{flatten_cfn_reference(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_cfn_reference(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_cfn_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


@jsii.implements(IValidation)
class _WildcardAcknowledgments:
    """Acknowledges ``AwsSolutions-IAM5`` for specific wildcard resources once their references are final.

    A finding id spells the resource as cdk-nag sees it in the synthesized
    template, and a resource of another stack only becomes an
    ``Fn::ImportValue`` during synthesis. CDK runs construct validations after
    cross-stack references are resolved and before policy-validation plugins
    (cdk-nag), so the exact ids are computed then: never a blanket acknowledgment.
    """

    def __init__(self, scope: IConstruct) -> None:
        self._scope = scope
        self._entries: list[tuple[Any, str]] = []

    def add(self, resource: Any, reason: str) -> None:
        self._entries.append((resource, reason))

    def validate(self) -> list[str]:
        stack = Stack.of(self._scope)
        for resource, reason in self._entries:
            flat = flatten_cfn_reference(stack.resolve(resource))
            if "*" in flat:
                acknowledge(self._scope, f"AwsSolutions-IAM5[Resource::{flat}]", reason)
        return []


def acknowledge_wildcard_resources(scope: IConstruct, resources: Iterable[tuple[Any, str]]) -> None:
    """Acknowledge IAM5 for each ``(resource expression, reason)`` on ``scope``, spelled at synth time."""
    acks = _WildcardAcknowledgments(scope)
    for resource, reason in resources:
        acks.add(resource, reason)
    scope.node.add_validation(acks)


def acknowledge_grant_wildcards(grantee: Any, resources: Iterable[tuple[Any, str]]) -> None:
    """``acknowledge_wildcard_resources`` on the principal of a grant to ``grantee`` (an ``iam.IGrantable``).

    Only when the principal is a construct of this app (a role created or imported here), whose
    policy cdk-nag checks; an account or service principal has no policy here.
    """
    principal = grantee.grant_principal
    if Construct.is_construct(principal):
        acknowledge_wildcard_resources(principal, resources)


def acknowledge_bucket_grant(grantee_scope: IConstruct, bucket: s3.IBucket, key_pattern: str, why: str) -> None:
    """Acknowledge the wildcards of an aws-cdk-lib bucket grant limited to ``key_pattern`` (e.g. ``models/*``).

    ``grantee_scope`` is the construct holding the policy (the role); the
    bucket may live in any stack.
    """
    acknowledge_wildcard_resources(
        grantee_scope, [(f"{bucket.bucket_arn}/{key_pattern}", f"Object keys are created at run time; {why}")]
    )
    for action in _BUCKET_GRANT_ACTION_WILDCARDS:
        acknowledge(
            grantee_scope,
            f"AwsSolutions-IAM5[Action::{action}]",
            "An aws-cdk-lib bucket grant action group, limited to one bucket prefix and its key.",
        )
