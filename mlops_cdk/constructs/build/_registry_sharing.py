"""Sharing a model registry with other accounts: read access to its versions and their artifacts, and its events.

Three policies must line up for another account to deploy a version (a missing one surfaces only
when that account creates the model, never at synth): the model package group's resource policy,
the artifact bucket's policy and the artifact key's policy. Principals are account roots with
explicit actions, the shape the SageMaker guide gives for cross-account access (and the one AWS RAM
can promote: no role principals, no ``*`` action). Policies this app cannot change (an imported
group, bucket or key) get one synth warning with the exact statements their owner must add.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aws_cdk import Annotations, ArnFormat, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from ..._nag import flatten_cfn_reference
from ..._validation import invalid, is_token, require_key_prefix
from ...lambdas._shared import contract
from ..common.platform_function import dead_letter_alarm, encrypted_dead_letter_queue
from ..common.policy_text import policy_text

_OWNER = "ModelRegistry"
# "Set up discoverability" (SageMaker developer guide, model registry cross-account): what another
# account needs to find and deploy a version, on the group and on its versions.
CROSS_ACCOUNT_READ_ACTIONS = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:ListModelPackages",
)
# What the other account's roles do with the artifacts: S3 decrypts them with the key on their behalf.
ARTIFACT_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
WARNING_ID = "mlops-cdk:cross-account-read"


def require_accounts(scope: IConstruct, prop: str, accounts: Any) -> tuple[str, ...]:
    """Distinct 12-digit account ids, none of them this stack's own (when it is known)."""
    allowed = "a non-empty list of 12-digit AWS account ids other than this stack's account"
    if isinstance(accounts, str) or not isinstance(accounts, Iterable):
        raise invalid(_OWNER, prop, accounts, allowed)
    own = Stack.of(scope).account
    out: list[str] = []
    for account in accounts:
        if not is_token(account) and not (isinstance(account, str) and contract.ACCOUNT_ID_RE.match(account)):
            raise invalid(_OWNER, prop, account, "12-digit AWS account ids as strings")
        if not Token.is_unresolved(own) and account == own:
            raise invalid(_OWNER, prop, account, "accounts other than this stack's own (it needs no sharing)")
        if account not in out:
            out.append(account)
    if not out:
        raise invalid(_OWNER, prop, accounts, allowed)
    return tuple(out)


def _principals(accounts: Sequence[str]) -> list[iam.IPrincipal]:
    return [iam.AccountPrincipal(account) for account in accounts]


def read_statement(accounts: Sequence[str], group_arn: str, packages: str) -> iam.PolicyStatement:
    """The group resource policy statement: find the group, list and describe its versions."""
    return iam.PolicyStatement(sid="CrossAccountRead", principals=_principals(accounts),
                               actions=list(CROSS_ACCOUNT_READ_ACTIONS), resources=[group_arn, packages])


def _key_statement(accounts: Sequence[str], region: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        principals=_principals(accounts), actions=list(ARTIFACT_KEY_ACTIONS), resources=["*"],  # "*": this key
        conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}})


def _bucket_statements(accounts: Sequence[str], bucket: s3.IBucket, prefix: str) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(principals=_principals(accounts), actions=["s3:GetObject"],
                            resources=[bucket.arn_for_objects(f"{prefix}*")]),
        iam.PolicyStatement(principals=_principals(accounts), actions=["s3:ListBucket"],
                            resources=[bucket.bucket_arn], conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}}),
    ]


def share_artifacts(scope: IConstruct, accounts: Sequence[str], bucket: s3.IBucket, prefix: str,
                    key: kms.IKey | None) -> list[str]:
    """Add the bucket and key statements; what could not be added, spelled out for the owner."""
    if not hasattr(bucket, "bucket_arn"):
        raise invalid(_OWNER, "artifact_bucket", bucket, "an s3.IBucket")
    require_key_prefix(_OWNER, "artifact_prefix", prefix)
    if prefix == "":
        raise invalid(_OWNER, "artifact_prefix", prefix,
                      "the key prefix of the model artifacts (sharing the whole bucket would share its data)")
    if key is not None and not hasattr(key, "key_arn"):
        raise invalid(_OWNER, "artifact_key", key, "a kms.IKey or None")
    key = key if key is not None else bucket.encryption_key
    missing = []
    statements = _bucket_statements(accounts, bucket, prefix)
    if not all([bucket.add_to_resource_policy(s).statement_added for s in statements]):
        note = "" if key is not None else (" (and, if its objects are encrypted with a KMS key, pass that key as "
                                           "artifact_key: the key policy must allow them too)")
        missing.append(f"the policy of bucket {_readable(scope, bucket.bucket_name)} (imported: this app "
                       f"cannot change it) must allow: {policy_text(scope, statements)}{note}")
    if key is not None:
        statement = _key_statement(accounts, bucket.env.region)
        if not key.add_to_resource_policy(statement).statement_added:
            missing.append(f"the key policy of {_readable(scope, key.key_arn)} (imported: this app cannot change "
                           f"it) must allow: {policy_text(scope, [statement])}")
    return missing


def warn(scope: IConstruct, missing: Sequence[str]) -> None:
    if missing:
        Annotations.of(scope).add_warning_v2(
            WARNING_ID, "Other accounts cannot deploy this registry's versions until " + "; and ".join(missing))


def group_policy_missing(scope: IConstruct, accounts: Sequence[str], group_arn: str, packages: str) -> str:
    return (f"the resource policy of model package group {_readable(scope, group_arn)} (imported: this app "
            f"cannot change it; aws sagemaker put-model-package-group-policy) must allow: "
            f"{policy_text(scope, [read_statement(accounts, group_arn, packages)])}")


def _readable(scope: IConstruct, value: Any) -> str:
    return flatten_cfn_reference(Stack.of(scope).resolve(value))


# ------------------------------------------------------------------ events
def default_event_bus(scope: Construct, id: str, account_id: str, region: str | None = None) -> events.IEventBus:
    """The default event bus of ``account_id`` (in ``region``, default: this stack's region)."""
    (account,) = require_accounts(scope, "account_id", [account_id])
    arn = Stack.of(scope).format_arn(service="events", resource="event-bus", resource_name="default",
                                     account=account, region=region, arn_format=ArnFormat.SLASH_RESOURCE_NAME)
    return events.EventBus.from_event_bus_arn(scope, id, arn)


def forward_events(scope: Construct, id: str, pattern: events.EventPattern, bus: events.IEventBus,
                   alert_topic: sns.ITopic | None, description: str) -> events.Rule:
    """A rule sending ``pattern``'s events to ``bus`` with a role; undeliverable ones kept in an encrypted queue."""
    if not hasattr(bus, "event_bus_arn"):
        raise invalid(_OWNER, "target_bus", bus, "an events.IEventBus (e.g. ModelRegistry.default_event_bus(...))")
    _refuse_own_default_bus(scope, bus.event_bus_arn)
    queue = encrypted_dead_letter_queue(scope, f"{id}DeadLetters")
    rule = events.Rule(scope, id, event_pattern=pattern, description=description)
    rule.add_target(targets.EventBus(bus, dead_letter_queue=queue))
    if alert_topic is not None:
        dead_letter_alarm(scope, f"{id}DeadLetterAlarm", queue, alert_topic,
                          "Approval events could not be forwarded to the other account's bus (its bus policy must "
                          "allow this account's events:PutEvents) and wait in the dead-letter queue")
    return rule


def _refuse_own_default_bus(scope: IConstruct, arn: str) -> None:
    """A rule on this account's default bus sending to that same bus would loop."""
    if is_token(arn):
        return
    stack = Stack.of(scope)
    parts = stack.split_arn(arn, ArnFormat.SLASH_RESOURCE_NAME)
    same_account = not Token.is_unresolved(stack.account) and parts.account == stack.account
    same_region = not Token.is_unresolved(stack.region) and parts.region == stack.region
    if same_account and same_region and parts.resource_name == "default":
        raise invalid(_OWNER, "target_bus", arn, "another account's event bus (this one's default bus would loop)")
