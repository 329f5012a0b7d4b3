"""The policy statements a user must add by hand (to an imported key, topic, bucket or group), as text to paste."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from ..._nag import flatten_cfn_reference


def policy_text(scope: IConstruct, statements: iam.PolicyStatement | Sequence[iam.PolicyStatement]) -> str:
    """JSON of ``statements`` (one, or a list) resolved in ``scope``'s stack, intrinsics written as
    ``<AWS::Partition>``-style placeholders: what to paste into the other policy and fill in."""
    one = isinstance(statements, iam.PolicyStatement)
    resolved = [Stack.of(scope).resolve(s.to_statement_json()) for s in ([statements] if one else statements)]
    return json.dumps(readable(resolved[0] if one else resolved), sort_keys=True)


def readable(node: Any) -> Any:
    """Intrinsics (``Ref``, ``Fn::Join``, ``Fn::GetAtt``, ``Fn::Sub``) as text, the rest as it is."""
    if isinstance(node, dict) and len(node) == 1 and next(iter(node)) in ("Ref", "Fn::Join", "Fn::GetAtt", "Fn::Sub"):
        return flatten_cfn_reference(node)
    if isinstance(node, dict):
        return {k: readable(v) for k, v in node.items()}
    if isinstance(node, list):
        return [readable(v) for v in node]
    return node
