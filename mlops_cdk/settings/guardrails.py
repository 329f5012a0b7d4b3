"""Enterprise IAM guardrails as configuration: a permissions boundary and a path for every role.

Two cdk.json keys, ``permissions_boundary`` and ``role_path``, checked here and applied by
:class:`~mlops_cdk.constructs.common.guardrails.PlatformGuardrails`. The rules are IAM's
(IAM API reference, ``CreateRole`` and ``CreatePolicy``):

* a path is ``/`` or begins and ends with ``/``, holds printable ASCII (``\\u0021``-``\\u007E``)
  and is at most 512 characters long;
* a managed policy name is 1-128 characters of letters, digits and ``+=,.@_-``;
* a managed policy ARN is ``arn:<partition>:iam::<account id or "aws">:policy/<path><name>``.
"""

from __future__ import annotations

import re
from typing import Any

from .._validation import invalid, is_token

MAX_ROLE_PATH = 512
MAX_POLICY_NAME = 128
ROLE_PATH_RE = re.compile(r"^/(?:[\x21-\x7e]*/)?$")
POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$", re.ASCII)
POLICY_ARN_RE = re.compile(
    r"^arn:aws(?:-[a-z]+)*:iam::(?:\d{12}|aws):policy/(?P<path>(?:[\x21-\x7e]*/)?)(?P<name>[\w+=,.@-]{1,128})$",
    re.ASCII)
ROLE_PATH_ALLOWED = (f"an IAM path: '/' or '/<segments>/' (begins and ends with '/'), printable ASCII without "
                     f"spaces, at most {MAX_ROLE_PATH} characters, e.g. /mlops/")
BOUNDARY_ALLOWED = ("a managed policy name (1-128 of letters, digits and +=,.@_-) in the stacks' account, or its ARN "
                    "arn:<partition>:iam::<12-digit account or 'aws'>:policy/[<path>/]<name>")


def require_role_path(owner: str, prop: str, value: Any) -> str:
    """An IAM role path (tokens pass)."""
    if is_token(value):
        return value
    if not isinstance(value, str) or len(value) > MAX_ROLE_PATH or not ROLE_PATH_RE.match(value):
        raise invalid(owner, prop, value, ROLE_PATH_ALLOWED)
    return value


def require_permissions_boundary(owner: str, prop: str, value: Any) -> str:
    """A managed policy name or ARN (tokens pass)."""
    if is_token(value):
        return value
    if not isinstance(value, str):
        raise invalid(owner, prop, value, BOUNDARY_ALLOWED)
    match = POLICY_ARN_RE.match(value) if value.startswith("arn:") else None
    if match is not None and len(match["path"]) <= MAX_ROLE_PATH:
        return value
    if match is None and POLICY_NAME_RE.match(value):
        return value
    raise invalid(owner, prop, value, BOUNDARY_ALLOWED)


def role_resource_name(role_name: str, role_path: str | None) -> str:
    """The resource part of a role's ARN after ``role/``: ``<path without its leading '/'><name>``.

    For ARNs built from a role's name (a role in another account, which no reference can reach), e.g.
    ``stack.format_arn(service="iam", region="", account=..., resource="role",
    resource_name=role_resource_name(name, config.role_path))``: with a ``role_path`` the role's ARN is
    ``arn:aws:iam::<account>:role/mlops/<name>``, and one built without it matches nothing.
    """
    return f"{(role_path or '/').lstrip('/')}{role_name}"


def is_policy_arn(value: str) -> bool:
    """Whether a checked ``permissions_boundary`` is an ARN (else a name in the stacks' own account)."""
    return value.startswith("arn:")


__all__ = ["BOUNDARY_ALLOWED", "MAX_ROLE_PATH", "POLICY_ARN_RE", "POLICY_NAME_RE", "ROLE_PATH_ALLOWED",
           "ROLE_PATH_RE", "is_policy_arn", "require_permissions_boundary", "require_role_path",
           "role_resource_name"]
