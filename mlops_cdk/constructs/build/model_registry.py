"""The SageMaker Model Registry of one model: a model package group, its access and its events (course 10.3)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aws_cdk import CfnTag, Names, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from .._validation import invalid, is_token, require_choice, require_pattern
from ._nag import acknowledge_wildcard_resources

_OWNER = "ModelRegistry"
# SageMaker's own pattern for ModelPackageGroupName (CreateModelPackageGroup API reference).
GROUP_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_DESCRIPTION = 1024

APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")
EVENT_SOURCE = "aws.sagemaker"
EVENT_DETAIL_TYPE = "SageMaker Model Package State Change"

# What a trusted account may do through the group's resource policy. The
# shape (one statement on the group, one on its versions) is the one AWS
# documents for registering and deploying model versions across accounts.
CROSS_ACCOUNT_GROUP_ACTIONS = ("sagemaker:DescribeModelPackageGroup",)
CROSS_ACCOUNT_PACKAGE_ACTIONS = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:ListModelPackages",
    "sagemaker:CreateModelPackage",
    "sagemaker:UpdateModelPackage",
)


class ModelRegistry(Construct):
    """An ``AWS::SageMaker::ModelPackageGroup``: the versioned, approvable home of one model.

    Creates the group (retained on ``cdk destroy`` by default: the registry is
    the record of which model version was approved, when and why) and, when
    ``cross_account_ids`` is given, a resource policy that lets those accounts
    describe the group and describe, list, register and update its versions,
    nothing else.

    ARNs are built from the name with ``Stack.format_arn`` (partition, region
    and account are pseudo parameters), so the group's own policy can name it
    without a circular reference. SageMaker keeps the group name's case in
    model package ARNs: grants are exact.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_package_group_name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        cross_account_ids: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        if model_package_group_name is None:
            model_package_group_name = Names.unique_resource_name(self, max_length=63)
        require_pattern(
            _OWNER, "model_package_group_name", model_package_group_name, GROUP_NAME_RE,
            "1-63 letters, digits and hyphens, starting and ending with a letter or digit",
        )
        _validate_description(description)
        cfn_tags = _validate_tags(tags)
        self.cross_account_ids = _validate_accounts(cross_account_ids)
        if not isinstance(removal_policy, RemovalPolicy):
            raise invalid(_OWNER, "removal_policy", removal_policy, "a RemovalPolicy")

        self._name = model_package_group_name
        stack = Stack.of(self)
        self._group_arn = stack.format_arn(
            service="sagemaker", resource="model-package-group", resource_name=model_package_group_name
        )
        self._package_arn_pattern = stack.format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{model_package_group_name}/*"
        )

        self.model_package_group = sagemaker.CfnModelPackageGroup(
            self,
            "Group",
            model_package_group_name=model_package_group_name,
            model_package_group_description=description,
            model_package_group_policy=self._resource_policy() if self.cross_account_ids else None,
            tags=cfn_tags,
        )
        self.model_package_group.apply_removal_policy(removal_policy)

    # -------------------------------------------------------------- attributes
    @property
    def model_package_group_name(self) -> str:
        return self._name

    @property
    def model_package_group_arn(self) -> str:
        """``arn:<partition>:sagemaker:<region>:<account>:model-package-group/<name>``."""
        return self._group_arn

    @property
    def model_package_arn_pattern(self) -> str:
        """``arn:<partition>:sagemaker:<region>:<account>:model-package/<name>/*``: every version of the group."""
        return self._package_arn_pattern

    # ------------------------------------------------------------------ events
    def approval_change_pattern(self, statuses: Iterable[str] | None = None) -> events.EventPattern:
        """The EventBridge pattern of this group's model package state changes, optionally by approval status."""
        detail: dict[str, Any] = {"ModelPackageGroupName": [self._name]}
        if statuses is not None:
            if isinstance(statuses, str) or not isinstance(statuses, Iterable):
                raise invalid(_OWNER, "statuses", statuses, "a list of " + " | ".join(APPROVAL_STATUSES))
            chosen = list(dict.fromkeys(require_choice(_OWNER, "statuses", s, APPROVAL_STATUSES) for s in statuses))
            if not chosen:
                raise invalid(_OWNER, "statuses", statuses, "a non-empty list of " + " | ".join(APPROVAL_STATUSES))
            detail["ModelApprovalStatus"] = chosen
        return events.EventPattern(source=[EVENT_SOURCE], detail_type=[EVENT_DETAIL_TYPE], detail=detail)

    def on_approval_change(
        self,
        id: str,
        *,
        target: events.IRuleTarget | None = None,
        statuses: Iterable[str] | None = None,
        description: str | None = None,
    ) -> events.Rule:
        """An EventBridge rule (in this construct's scope) on state changes of this group's model packages.

        ``statuses`` narrows it to approval statuses (``Approved``, ``Rejected``,
        ``PendingManualApproval``). A consumer in another stack should rather
        create its own ``events.Rule`` with :meth:`approval_change_pattern`, so
        the dependency points from the consumer to the registry.
        """
        rule = events.Rule(
            self,
            id,
            event_pattern=self.approval_change_pattern(statuses),
            description=description or f"Model package state changes of {self.node.path}",
        )
        if target is not None:
            rule.add_target(target)
        return rule

    # ------------------------------------------------------------------ grants
    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe the group; describe and list its model packages."""
        group = iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:DescribeModelPackageGroup"], resource_arns=[self._group_arn]
        )
        packages = self._grant_packages(grantee, ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"])
        return group.combine(packages)

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant:
        """Register new model versions in the group (``sagemaker:CreateModelPackage``)."""
        return self._grant_packages(grantee, ["sagemaker:CreateModelPackage"])

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant:
        """Change the approval status of the group's model versions (``sagemaker:UpdateModelPackage``)."""
        return self._grant_packages(grantee, ["sagemaker:UpdateModelPackage"])

    def _grant_packages(self, grantee: iam.IGrantable, actions: list[str]) -> iam.Grant:
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=actions, resource_arns=[self._package_arn_pattern]
        )
        principal = grantee.grant_principal
        if isinstance(principal, Construct):  # a role (or imported mutable role) whose policy lives in this app
            self.acknowledge_package_wildcard(principal)
        return grant

    def acknowledge_package_wildcard(self, scope: IConstruct) -> None:
        """Acknowledge cdk-nag's IAM5 finding for ``model-package/<group>/*`` on ``scope`` (a role or policy)."""
        acknowledge_wildcard_resources(
            scope,
            [(self._package_arn_pattern,
              f"Model versions of the group '{self._name}' are created at run time as <group>/<version>; "
              "the wildcard covers that one group's versions only.")],
        )

    # --------------------------------------------------------------- internals
    def _resource_policy(self) -> iam.PolicyDocument:
        principals = [iam.AccountPrincipal(account) for account in self.cross_account_ids]
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="CrossAccountModelPackageGroup",
                    principals=principals,
                    actions=list(CROSS_ACCOUNT_GROUP_ACTIONS),
                    resources=[self._group_arn],
                ),
                iam.PolicyStatement(
                    sid="CrossAccountModelPackages",
                    principals=principals,
                    actions=list(CROSS_ACCOUNT_PACKAGE_ACTIONS),
                    resources=[self._package_arn_pattern],
                ),
            ]
        )


# ------------------------------------------------------------------ helpers
def _validate_description(description: Any) -> None:
    if description is None or is_token(description):
        return
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION or _CONTROL_RE.search(description):
        shown = description if not isinstance(description, str) or len(description) <= 60 else description[:60] + "..."
        raise invalid(
            _OWNER, "description", shown, f"a string of at most {MAX_DESCRIPTION} characters without control characters"
        )


def _validate_tags(tags: Any) -> list[CfnTag] | None:
    if tags is None:
        return None
    if not isinstance(tags, Mapping):
        raise invalid(_OWNER, "tags", tags, "a mapping of tag keys to values")
    out = []
    for key, value in tags.items():
        key_ok = is_token(key) or (isinstance(key, str) and 1 <= len(key) <= 128 and not key.startswith("aws:"))
        value_ok = is_token(value) or (isinstance(value, str) and len(value) <= 256)
        if not key_ok or not value_ok:
            raise invalid(
                _OWNER, "tags", {key: value}, "keys of 1-128 characters not starting with 'aws:', values of at most 256"
            )
        out.append(CfnTag(key=key, value=value))
    return out


def _validate_accounts(accounts: Any) -> tuple[str, ...]:
    if isinstance(accounts, str) or not isinstance(accounts, Iterable):
        raise invalid(_OWNER, "cross_account_ids", accounts, "a list of 12-digit AWS account ids")
    out: list[str] = []
    for account in accounts:
        if not is_token(account) and not (isinstance(account, str) and _ACCOUNT_RE.match(account)):
            raise invalid(_OWNER, "cross_account_ids", account, "12-digit AWS account ids as strings")
        if account not in out:
            out.append(account)
    return tuple(out)
