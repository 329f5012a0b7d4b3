"""A permissions boundary and a path on every IAM role of an app, the ones aws-cdk-lib creates inside its constructs too.

Enterprise accounts often allow creating roles only with a given permissions boundary
and under a given path. Roles come from many places: the library's constructs
(``iam.Role``), aws-cdk-lib internals (custom-resource providers, log retention,
bucket notifications: some raw ``CfnResource`` of type ``AWS::IAM::Role``), CDK
Pipelines. The one thing they share is the CloudFormation resource type, so the
aspect acts on that, as a property override after construction: nothing escapes.

Why not ``iam.PermissionsBoundary.of(scope).apply(policy)``: it matches resources by the
same type (``AWS::IAM::Role``/``AWS::IAM::User``) but takes an ``iam.IManagedPolicy``,
a construct that must live in a stack, and the boundary is configured once for the
whole app. It has no path either. The aspect writes the same ``PermissionsBoundary``
property override it does, for roles and users alike.

Aspects do not cross ``Stage`` boundaries (a nested stage is synthesized on its own,
with its own aspects): :meth:`PlatformGuardrails.apply` adds the aspect to the scope
and to every stage under it, so call it after building the app.
"""

from __future__ import annotations

import jsii
from aws_cdk import Aspects, AspectPriority, CfnResource, IAspect, Stage
from constructs import IConstruct

from ..._pseudo import Aws
from ..._validation import invalid
from ...settings.guardrails import is_policy_arn, require_permissions_boundary, require_role_path

_OWNER = "PlatformGuardrails"
ROLE = "AWS::IAM::Role"
USER = "AWS::IAM::User"


@jsii.implements(IAspect)
class PlatformGuardrails:
    """Sets ``PermissionsBoundary`` on every IAM role and user, and ``Path`` on every role, under a scope.

    Args:
        permissions_boundary: a customer managed policy's name (in each stack's own account and partition)
            or a managed policy ARN. ``None``: boundaries stay as the constructs set them.
        role_path: the IAM path of every role (``/mlops/``). ``None``: paths stay as set (``/`` by default).

    A role's path is part of its ARN (``arn:aws:iam::<account>:role/mlops/<name>``): the library refers
    to its roles by reference (``Fn::GetAtt``), so every grant, ``iam:PassRole`` and trust follows.
    Changing the path replaces the roles (``Path`` is create-only); their names are generated, so the
    replacement does not collide.
    """

    def __init__(self, *, permissions_boundary: str | None = None, role_path: str | None = None) -> None:
        if permissions_boundary is None and role_path is None:
            raise invalid(_OWNER, "permissions_boundary", None,
                          "a managed policy name or ARN, or a role_path (guardrails without either do nothing)")
        if permissions_boundary is not None:
            require_permissions_boundary(_OWNER, "permissions_boundary", permissions_boundary)
        if role_path is not None:
            require_role_path(_OWNER, "role_path", role_path)
        self.permissions_boundary = permissions_boundary
        self.role_path = role_path

    @property
    def boundary_arn(self) -> str | None:
        """The boundary policy's ARN; a name becomes ``arn:<partition>:iam::<account>:policy/<name>`` per stack."""
        boundary = self.permissions_boundary
        if boundary is None or is_policy_arn(boundary):
            return boundary
        return f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:policy/{boundary}"

    def apply(self, scope: IConstruct) -> "PlatformGuardrails":
        """Add the aspect to ``scope`` and to every ``Stage`` nested under it (those built so far)."""
        for node in [scope, *scope.node.find_all()]:
            if node is scope or Stage.is_stage(node):
                Aspects.of(node).add(self, priority=AspectPriority.MUTATING)
        return self

    def visit(self, node: IConstruct) -> None:
        if not CfnResource.is_cfn_resource(node):
            return
        resource_type = node.cfn_resource_type
        if resource_type not in (ROLE, USER):
            return
        if self.permissions_boundary is not None:
            node.add_property_override("PermissionsBoundary", self.boundary_arn)
        if self.role_path is not None and resource_type == ROLE:
            node.add_property_override("Path", self.role_path)


__all__ = ["PlatformGuardrails"]
