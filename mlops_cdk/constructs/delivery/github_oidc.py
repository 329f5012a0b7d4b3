"""GitHub Actions as the delivery engine: a role one repository's workflows assume through OIDC, no stored keys.

The role's only permission is to assume the CDK bootstrap roles (deploy, file publishing, lookup)
of the target accounts and regions: ``cdk deploy`` does everything else through them, and each
target account decides what those roles may do (``cdk bootstrap --trust``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from ..._pseudo import Aws
from ..._validation import REGION_RE, invalid, is_token
from ...lambdas._shared import contract

GITHUB_ISSUER = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
DEFAULT_QUALIFIER = "hnb659fds"
# The bootstrap roles `cdk deploy` assumes (image publishing only matters for Docker assets: the library has none).
BOOTSTRAP_ROLES = ("deploy-role", "file-publishing-role", "lookup-role")
_OWNER = "GitHubOidcRole"
# GitHub: owners are 1-39 letters, digits or inner hyphens; repository names letters, digits, ".", "_", "-".
_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")
# A branch name as git allows it, without refs/heads/, wildcards or "..".
_BRANCH_RE = re.compile(r"^(?!refs/)(?![-/.])(?!.*(?:\.\.|//|\.lock$|/$|\.$))[A-Za-z0-9._/-]{1,255}$")
_ENVIRONMENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_QUALIFIER_RE = re.compile(r"^[A-Za-z0-9]{1,10}$")


class GitHubOidcRole(Construct):
    """An IAM role for one GitHub repository's workflows, assumed with GitHub's OIDC token.

    Trust (``sts:AssumeRoleWithWebIdentity`` from the provider), with ``StringEquals`` only:
    ``token.actions.githubusercontent.com:aud`` = ``sts.amazonaws.com`` and
    ``token.actions.githubusercontent.com:sub`` one of ``repo:<owner>/<name>:ref:refs/heads/<branch>``
    (jobs without an environment, on that branch) and ``repo:<owner>/<name>:environment:<env>``
    (jobs in that GitHub environment: its protection rules, e.g. required reviewers, apply first).
    GitHub's default subject format is assumed (an organization that customizes it must adapt).
    Sessions last at most one hour. Permissions: ``sts:AssumeRole`` on the CDK bootstrap
    roles ``cdk-<qualifier>-{deploy,file-publishing,lookup}-role-<account>-<region>`` of each
    target account and region, nothing else.

    Args:
        repository: ``owner/name``.
        branch: the branch whose jobs (outside environments) may assume the role. Default: none.
        environments: GitHub environments whose jobs may assume it. Default: none. At least one
            branch or environment is required.
        provider: the account's GitHub OIDC provider, if it exists already (an account has at most
            one per URL): ``iam.OidcProviderNative.from_oidc_provider_arn(...)``. Default: one is
            created (``Provider``, ``AWS::IAM::OIDCProvider``).
        qualifier: the CDK bootstrap qualifier of the target accounts. Default ``hnb659fds``.
        deploy_accounts: target accounts. Default: this stack's account.
        deploy_regions: target regions. Default: this stack's region.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository: str,
        branch: str | None = None,
        environments: Sequence[str] = (),
        provider: iam.IOpenIdConnectProvider | None = None,
        qualifier: str = DEFAULT_QUALIFIER,
        deploy_accounts: Sequence[str] = (),
        deploy_regions: Sequence[str] = (),
    ) -> None:
        _require(repository, _REPOSITORY_RE, "repository", "owner/name of a GitHub repository (no wildcards)")
        if branch is not None:
            _require(branch, _BRANCH_RE, "branch", "a branch name like main (no refs/heads/, no wildcards)")
        envs = _names("environments", environments, _ENVIRONMENT_RE, "GitHub environment names like prod")
        if branch is None and not envs:
            raise invalid(_OWNER, "branch", branch, "a branch and/or environments: the role must trust something "
                                                    "narrower than the whole repository")
        if provider is not None:
            _require_provider(provider)
        _require(qualifier, _QUALIFIER_RE, "qualifier", "the CDK bootstrap qualifier: 1-10 letters or digits")
        accounts = _names("deploy_accounts", deploy_accounts, contract.ACCOUNT_ID_RE, "12-digit AWS account ids")
        regions = _names("deploy_regions", deploy_regions, REGION_RE, "AWS regions like eu-west-1")
        super().__init__(scope, id)

        self.repository, self.branch, self.environments = repository, branch, envs
        self.subjects = tuple(([f"repo:{repository}:ref:refs/heads/{branch}"] if branch is not None else [])
                              + [f"repo:{repository}:environment:{env}" for env in envs])
        self.provider = provider if provider is not None else iam.OidcProviderNative(
            self, "Provider", url=f"https://{GITHUB_ISSUER}", client_ids=[GITHUB_AUDIENCE])
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.OpenIdConnectPrincipal(self.provider, {"StringEquals": {
                f"{GITHUB_ISSUER}:aud": GITHUB_AUDIENCE,
                f"{GITHUB_ISSUER}:sub": list(self.subjects),
            }}),
            max_session_duration=Duration.hours(1),
            description=f"GitHub Actions of {repository}: assumes the CDK bootstrap roles to deploy",
        )
        stack = Stack.of(self)
        self.bootstrap_role_arns = [
            stack.format_arn(service="iam", region="", account=account, resource="role",
                             resource_name=f"cdk-{qualifier}-{role}-{account}-{region}")
            for account in (accounts or (Aws.ACCOUNT_ID,))
            for region in (regions or (Aws.REGION,))
            for role in BOOTSTRAP_ROLES
        ]
        self.role.add_to_principal_policy(iam.PolicyStatement(
            sid="AssumeCdkBootstrapRoles", actions=["sts:AssumeRole"], resources=self.bootstrap_role_arns))

    @property
    def role_arn(self) -> str:
        """What the workflow's ``role-to-assume`` is set to."""
        return self.role.role_arn


def _require(value: Any, pattern: re.Pattern[str], prop: str, allowed: str) -> None:
    if not isinstance(value, str) or is_token(value) or not pattern.match(value):
        raise invalid(_OWNER, prop, value, allowed)


def _names(prop: str, values: Any, pattern: re.Pattern[str], allowed: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise invalid(_OWNER, prop, values, f"a list of {allowed}")
    for value in values:
        _require(value, pattern, prop, allowed)
    if len(set(values)) != len(values):
        raise invalid(_OWNER, prop, list(values), f"distinct {allowed}")
    return tuple(values)


def _require_provider(provider: Any) -> None:
    arn = getattr(provider, "open_id_connect_provider_arn", None)
    allowed = f"an iam.IOpenIdConnectProvider for https://{GITHUB_ISSUER}"
    if arn is None:
        raise invalid(_OWNER, "provider", provider, allowed)
    if not Token.is_unresolved(arn) and not arn.endswith(f":oidc-provider/{GITHUB_ISSUER}"):
        raise invalid(_OWNER, "provider", arn, allowed)
