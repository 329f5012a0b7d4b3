"""The SageMaker Model Registry of one model: a model package group, its access and its events.

``ModelRegistry`` creates the group; ``ModelRegistry.from_model_package_group_name``
(or ``_arn``) refers to one created elsewhere (SageMaker Projects, another app).
Both are an :class:`IModelRegistry`, which is what the approval gate, the
baseline publisher and ``ModelBuildStack`` take.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import jsii
from aws_cdk import ArnFormat, Names, RemovalPolicy, Resource, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct

from ..._nag import acknowledge_grant_wildcards
from ..._validation import invalid, is_token, require_choice, require_description, require_sagemaker_name
from ...lambdas._shared import contract
from . import _registry_sharing as sharing

_OWNER = "ModelRegistry"

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
# What a pipeline's RegisterModel step does with the group: look it up, create a version, tag it.
REGISTER_ACTIONS = ("sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:AddTags")


@runtime_checkable
class IModelRegistry(Protocol):
    """A model package group: what consumers of a registry use (created here or imported)."""

    @property
    def model_package_group_name(self) -> str: ...

    @property
    def model_package_group_arn(self) -> str: ...

    @property
    def model_package_arn_pattern(self) -> str: ...

    def approval_change_pattern(self, statuses: Iterable[str] | None = None) -> events.EventPattern: ...

    def on_approval_change(self, id: str, *, target: events.IRuleTarget | None = None,
                           statuses: Iterable[str] | None = None, description: str | None = None) -> events.Rule: ...

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant: ...


def require_registry(owner: str, registry: Any) -> IModelRegistry:
    """A registry object (the old API took a ``ModelRegistry`` only, and some callers passed a name)."""
    if not isinstance(registry, IModelRegistry):
        raise invalid(owner, "registry", registry,
                      "an IModelRegistry: a ModelRegistry or ModelRegistry.from_model_package_group_name(...)")
    return registry


@jsii.implements(sagemaker_refs.IModelPackageGroupRef)
class _ModelRegistryBase(Resource):
    """Events and grants of one model package group, known by name and ARN."""

    _name: str
    _group_arn: str
    _package_arn_pattern: str

    def _set_arns(self, name: str, group_arn: str, package_arn_pattern: str) -> None:
        self._name, self._group_arn, self._package_arn_pattern = name, group_arn, package_arn_pattern

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

    @property
    def model_package_group_ref(self) -> sagemaker_refs.ModelPackageGroupReference:
        return sagemaker_refs.ModelPackageGroupReference(model_package_group_arn=self._group_arn)

    # ------------------------------------------------------------------ events
    def approval_change_pattern(self, statuses: Iterable[str] | None = None) -> events.EventPattern:
        """The EventBridge pattern of this group's model package state changes, optionally by approval status."""
        detail: dict[str, Any] = {"ModelPackageGroupName": [self._name]}
        if statuses is not None:
            allowed = "a non-empty list of " + " | ".join(contract.APPROVAL_STATUSES)
            if isinstance(statuses, str) or not isinstance(statuses, Iterable):
                raise invalid(_OWNER, "statuses", statuses, allowed)
            chosen = list(dict.fromkeys(
                require_choice(_OWNER, "statuses", s, contract.APPROVAL_STATUSES) for s in statuses))
            if not chosen:
                raise invalid(_OWNER, "statuses", statuses, allowed)
            detail["ModelApprovalStatus"] = chosen
        return events.EventPattern(source=[contract.SAGEMAKER_EVENT_SOURCE],
                                   detail_type=[contract.MODEL_PACKAGE_STATE_CHANGE], detail=detail)

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
        create its own ``events.Rule`` with :meth:`approval_change_pattern`.
        """
        rule = events.Rule(self, id, event_pattern=self.approval_change_pattern(statuses),
                           description=description or f"Model package state changes of {self.node.path}")
        if target is not None:
            rule.add_target(target)
        return rule

    # ------------------------------------------------------------------ grants
    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe the group; describe and list its model versions."""
        group = iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:DescribeModelPackageGroup"], resource_arns=[self._group_arn])
        return group.combine(
            self._grant_versions(grantee, ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]))

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant:
        """Everything a pipeline's RegisterModel step does with this group: describe it, create and tag versions."""
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=list(REGISTER_ACTIONS),
                                           resource_arns=[self._group_arn, self._package_arn_pattern])
        self._acknowledge_versions(grantee)
        return grant

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant:
        """Review the group's versions and change their approval status."""
        return self._grant_versions(grantee, ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"])

    # --------------------------------------------------------- other accounts
    def grant_cross_account_read(
        self,
        account_ids: Sequence[str],
        *,
        artifact_bucket: s3.IBucket,
        artifact_prefix: str,
        artifact_key: kms.IKey | None = None,
    ) -> None:
        """Let ``account_ids`` find, describe and deploy this group's versions (account roots, read only).

        Adds the group's resource policy statement (``sagemaker:DescribeModelPackageGroup``,
        ``DescribeModelPackage``, ``ListModelPackages`` on the group and its versions),
        ``s3:GetObject`` under ``artifact_prefix`` of ``artifact_bucket`` (and ``s3:ListBucket``
        of that prefix) to the bucket policy, and ``kms:Decrypt``/``kms:DescribeKey`` through S3
        to the policy of ``artifact_key`` (default: the bucket's key). A policy this app cannot
        change (an imported group, bucket or key) gets a synth warning with the exact statements
        to add where it is owned. Each account then grants its own roles the same actions.
        """
        accounts = sharing.require_accounts(self, "account_ids", account_ids)
        missing = sharing.share_artifacts(self, accounts, artifact_bucket, artifact_prefix, artifact_key)
        if not self._add_read_accounts(accounts):
            missing.insert(0, sharing.group_policy_missing(self, accounts, self._group_arn, self._package_arn_pattern))
        sharing.warn(self, missing)

    def forward_approval_events(
        self,
        target_bus: events.IEventBus,
        *,
        id: str = "ForwardApprovalEvents",
        statuses: Iterable[str] = ("Approved", "Rejected"),
        alert_topic: sns.ITopic | None = None,
    ) -> events.Rule:
        """A rule sending this group's approval changes to ``target_bus`` (another account's bus).

        EventBridge puts the events with a role allowed ``events:PutEvents`` on that bus; events
        it cannot deliver wait in an encrypted dead-letter queue (``<id>DeadLetters``), alarmed to
        ``alert_topic`` if given. The receiving bus's policy must allow this account
        (``AWS::Events::EventBusPolicy`` in the other account). See :meth:`default_event_bus`.
        """
        return sharing.forward_events(self, id, self.approval_change_pattern(statuses), target_bus, alert_topic,
                                      f"Approval changes of {self._name}, forwarded to another account")

    def _add_read_accounts(self, accounts: Sequence[str]) -> bool:
        return False  # a group created elsewhere: its policy is not this app's

    def _grant_versions(self, grantee: iam.IGrantable, actions: list[str]) -> iam.Grant:
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=actions,
                                           resource_arns=[self._package_arn_pattern])
        self._acknowledge_versions(grantee)
        return grant

    def _acknowledge_versions(self, grantee: iam.IGrantable) -> None:
        acknowledge_grant_wildcards(grantee, [(
            self._package_arn_pattern,
            f"Model versions of the group '{self._name}' are created at run time as <group>/<version>; "
            "the wildcard covers that one group's versions only.")])


class ModelRegistry(_ModelRegistryBase):
    """An ``AWS::SageMaker::ModelPackageGroup``: the versioned, approvable home of one model.

    The group (the ``Group`` child, retained on ``cdk destroy`` by default: the
    registry is the record of which version was approved, when and why) and,
    with ``cross_account_ids``, a resource policy that lets those accounts
    describe the group and describe, list, register and update its versions.
    ARNs are formatted from the name (so the group's own policy can name it
    without a circular reference); SageMaker keeps the name's case in them.
    Tag it with ``Tags.of``. For deployment from other accounts, see
    :meth:`grant_cross_account_read` (read-only sharing of versions, artifacts
    and key) and :meth:`forward_approval_events`.

    Args:
        model_package_group_name: default: a unique name generated from the construct path.
        description: at most 1024 characters. Default: none.
        cross_account_ids: 12-digit accounts allowed to use the group. Default: none.
        removal_policy: default ``RETAIN``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_package_group_name: str | None = None,
        description: str | None = None,
        cross_account_ids: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        if model_package_group_name is not None:
            require_sagemaker_name(_OWNER, "model_package_group_name", model_package_group_name,
                                   max_length=contract.MAX_MODEL_PACKAGE_GROUP_NAME)
        require_description(_OWNER, "description", description,
                            max_length=contract.MAX_MODEL_PACKAGE_GROUP_DESCRIPTION)
        accounts = _validate_accounts(cross_account_ids)
        if not isinstance(removal_policy, RemovalPolicy):
            raise invalid(_OWNER, "removal_policy", removal_policy, "a RemovalPolicy")
        super().__init__(scope, id)
        name = model_package_group_name or Names.unique_resource_name(
            self, max_length=contract.MAX_MODEL_PACKAGE_GROUP_NAME)
        stack = Stack.of(self)
        self._set_arns(
            name,
            stack.format_arn(service="sagemaker", resource="model-package-group", resource_name=name),
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{name}/*"),
        )
        self.cross_account_ids = accounts
        self.cross_account_readers: tuple[str, ...] = ()
        # "Group", not "Resource": the construct path of the first release (deployed data keeps its logical id).
        self.model_package_group = sagemaker.CfnModelPackageGroup(
            self,
            "Group",
            model_package_group_name=name,
            model_package_group_description=description,
            model_package_group_policy=self._resource_policy() if accounts else None,
        )
        self.node.default_child = self.model_package_group
        self.model_package_group.apply_removal_policy(removal_policy)

    @property
    def model_package_group_ref(self) -> sagemaker_refs.ModelPackageGroupReference:
        return self.model_package_group.model_package_group_ref

    # ------------------------------------------------------------- importers
    @staticmethod
    def default_event_bus(scope: Construct, id: str, account_id: str, region: str | None = None) -> events.IEventBus:
        """The default event bus of another account (``region``: default this stack's), for :meth:`forward_approval_events`."""
        return sharing.default_event_bus(scope, id, account_id, region)

    @staticmethod
    def from_model_package_group_name(scope: Construct, id: str, model_package_group_name: str) -> IModelRegistry:
        """A group of this stack's account and region, by name (it need not exist yet)."""
        require_sagemaker_name(_OWNER, "model_package_group_name", model_package_group_name,
                               max_length=contract.MAX_MODEL_PACKAGE_GROUP_NAME)
        return _ImportedModelRegistry(scope, id, name=model_package_group_name)

    @staticmethod
    def from_model_package_group_arn(scope: Construct, id: str, model_package_group_arn: str) -> IModelRegistry:
        """A group by ARN (``arn:<partition>:sagemaker:<region>:<account>:model-package-group/<name>``)."""
        return _ImportedModelRegistry(scope, id, arn=model_package_group_arn)

    # --------------------------------------------------------------- internals
    def _add_read_accounts(self, accounts: Sequence[str]) -> bool:
        self.cross_account_readers = tuple(dict.fromkeys((*self.cross_account_readers, *accounts)))
        self.model_package_group.model_package_group_policy = self._resource_policy()
        return True

    def _resource_policy(self) -> iam.PolicyDocument:
        statements = []
        if self.cross_account_ids:
            principals = [iam.AccountPrincipal(account) for account in self.cross_account_ids]
            statements += [
                iam.PolicyStatement(sid="CrossAccountModelPackageGroup", principals=principals,
                                    actions=list(CROSS_ACCOUNT_GROUP_ACTIONS), resources=[self._group_arn]),
                iam.PolicyStatement(sid="CrossAccountModelPackages", principals=principals,
                                    actions=list(CROSS_ACCOUNT_PACKAGE_ACTIONS), resources=[self._package_arn_pattern]),
            ]
        if self.cross_account_readers:
            statements.append(sharing.read_statement(self.cross_account_readers, self._group_arn,
                                                     self._package_arn_pattern))
        return iam.PolicyDocument(statements=statements)


class _ImportedModelRegistry(_ModelRegistryBase):
    """A group this app does not create; creates nothing but the rules asked for."""

    def __init__(self, scope: Construct, id: str, *, name: str | None = None, arn: str | None = None) -> None:
        stack = Stack.of(scope)
        if arn is None:
            assert name is not None
            arn = stack.format_arn(service="sagemaker", resource="model-package-group", resource_name=name)
            packages = stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{name}/*")
            super().__init__(scope, id)
        else:
            name, packages = _names_of(stack, arn)
            super().__init__(scope, id, environment_from_arn=arn)
        self._set_arns(name, arn, packages)


def _names_of(stack: Stack, arn: str) -> tuple[str, str]:
    """(group name, ARN pattern of its versions) of a model package group ARN."""
    allowed = "arn:<partition>:sagemaker:<region>:<account>:model-package-group/<name>"
    if not is_token(arn) and (not isinstance(arn, str) or not arn.startswith("arn:")):
        raise invalid(_OWNER, "model_package_group_arn", arn, allowed)
    parts = stack.split_arn(arn, ArnFormat.SLASH_RESOURCE_NAME)
    if not is_token(arn):
        if parts.service != "sagemaker" or parts.resource != "model-package-group" or not parts.resource_name:
            raise invalid(_OWNER, "model_package_group_arn", arn, allowed)
        require_sagemaker_name(_OWNER, "model_package_group_arn", parts.resource_name,
                               max_length=contract.MAX_MODEL_PACKAGE_GROUP_NAME)
    packages = stack.format_arn(service="sagemaker", resource="model-package",
                                resource_name=f"{parts.resource_name}/*", partition=parts.partition,
                                region=parts.region, account=parts.account)
    return parts.resource_name, packages


def _validate_accounts(accounts: Any) -> tuple[str, ...]:
    if isinstance(accounts, str) or not isinstance(accounts, Iterable):
        raise invalid(_OWNER, "cross_account_ids", accounts, "a list of 12-digit AWS account ids")
    out: list[str] = []
    for account in accounts:
        if not is_token(account) and not (isinstance(account, str) and contract.ACCOUNT_ID_RE.match(account)):
            raise invalid(_OWNER, "cross_account_ids", account, "12-digit AWS account ids as strings")
        if account not in out:
            out.append(account)
    return tuple(out)
