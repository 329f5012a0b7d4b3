"""Reasoned cdk-nag acknowledgments.

cdk-nag 3 suppresses through CDK's native ``Validations.of(scope).acknowledge``
and matches each finding exactly (``AwsSolutions-IAM5[Resource::<Bucket.Arn>/models/*]``),
so the helpers here compute finding ids the way cdk-nag spells them, and insist
on a reason long enough to say *why* the finding is safe.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

_MIN_REASON = 20
# What aws-cdk-lib's bucket grants add beyond plain object actions.
_BUCKET_GRANT_ACTION_WILDCARDS = (
    "s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*",
    "kms:GenerateDataKey*", "kms:ReEncrypt*",
)


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge cdk-nag finding ``rule_id`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope``."""
    if len(reason.strip()) < _MIN_REASON:
        raise ValueError(f"acknowledgment of {rule_id}: reason must explain why it is safe ({reason!r})")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def nag_spelling(scope: IConstruct, value: Any) -> str:
    """How cdk-nag spells ``value`` (a token or CloudFormation expression) seen from ``scope``'s stack.

    ``{"Fn::GetAtt": ["B", "Arn"]}`` -> ``<B.Arn>``, ``{"Ref": "AWS::Region"}`` -> ``<AWS::Region>``,
    ``Fn::Join`` -> its parts concatenated.
    """
    resolved = Stack.of(scope).resolve(value)
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and len(resolved) == 1:
        ((fn, arg),) = resolved.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join" and arg[0] == "":
            return "".join(nag_spelling(scope, part) for part in arg[1])
    raise ValueError(f"cannot spell {resolved!r} as cdk-nag does")


def logical_ref(element: IConstruct, attribute: str | None = None) -> str:
    """cdk-nag's spelling of a reference to ``element``: ``<LogicalId>`` or ``<LogicalId.Attr>``."""
    stack = Stack.of(element)
    logical_id = stack.resolve(stack.get_logical_id(element))  # type: ignore[arg-type]
    return f"<{logical_id}.{attribute}>" if attribute else f"<{logical_id}>"


def acknowledge_bucket_grant(grantee_scope: IConstruct, bucket: s3.IBucket, key_pattern: str, why: str) -> None:
    """Acknowledge the wildcards of an aws-cdk-lib bucket grant limited to ``key_pattern`` (e.g. ``models/*``).

    ``grantee_scope`` is the construct holding the policy (the role). The bucket
    must be in the grantee's stack or imported by a name made of pseudo
    parameters (see ``FoundationStack.data_bucket_in``): a cross-stack export
    name is only known after synthesis, too late to acknowledge.
    """
    resource = f"{nag_spelling(grantee_scope, bucket.bucket_arn)}/{key_pattern}"
    acknowledge(grantee_scope, f"AwsSolutions-IAM5[Resource::{resource}]", f"Object keys are created at run time; {why}")
    for action in _BUCKET_GRANT_ACTION_WILDCARDS:
        acknowledge(
            grantee_scope,
            f"AwsSolutions-IAM5[Action::{action}]",
            "An aws-cdk-lib bucket grant action group, limited to one bucket prefix and its key.",
        )
