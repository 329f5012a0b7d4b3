"""GitHub Actions delivery: GitHubOidcRole's trust and permissions (one synth), and the deliver.yml workflow."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam

from mlops_cdk.constructs.delivery.github_oidc import GitHubOidcRole
from tests.harness import ROOT, resources_of_type, role_permissions, synth

REPO = "acme/ml-platform"
ISSUER = "token.actions.githubusercontent.com"
EXISTING = f"arn:aws:iam::111122223333:oidc-provider/{ISSUER}"
DEV, PROD = "111111111111", "222222222222"


def flat(node) -> str:
    """A resolved ARN as text with ``${AWS::...}`` for pseudo parameters."""
    if isinstance(node, str):
        return node
    if "Ref" in node:
        return "${" + node["Ref"] + "}"
    (parts,) = [node["Fn::Join"][1]]
    return "".join(flat(p) for p in parts)


@pytest.fixture(scope="module")
def built():
    o = {}

    def build(app):
        stack = o["stack"] = Stack(app, "GitHub")
        o["main"] = GitHubOidcRole(stack, "Deploy", repository=REPO, branch="main", environments=["prod"])
        provider = iam.OidcProviderNative.from_oidc_provider_arn(stack, "Existing", EXISTING)
        o["staging"] = GitHubOidcRole(stack, "Staging", repository=REPO, environments=["staging"], provider=provider,
                                      qualifier="team1", deploy_accounts=[DEV, PROD], deploy_regions=["eu-west-1"])
    o["result"] = synth(build)
    o["tpl"] = o["result"].json()
    return o


def _role(built, name):
    stack = built["stack"]
    role_id = stack.get_logical_id(built[name].role.node.default_child)
    return role_id, built["tpl"]["Resources"][role_id]["Properties"]


def test_the_provider_is_github_for_sts_only(built):
    (provider,) = resources_of_type(built["tpl"], "AWS::IAM::OIDCProvider").values()
    assert provider["Properties"]["Url"] == f"https://{ISSUER}"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


def test_trust_is_exactly_the_audience_and_the_branch_or_environment_subjects(built):
    _, role = _role(built, "main")
    provider_id = built["stack"].get_logical_id(built["main"].provider.node.default_child)
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity" and statement["Effect"] == "Allow"
    assert json.dumps(statement["Principal"]["Federated"]).count(provider_id) == 1
    assert statement["Condition"] == {"StringEquals": {
        f"{ISSUER}:aud": "sts.amazonaws.com",
        f"{ISSUER}:sub": ["repo:acme/ml-platform:ref:refs/heads/main", "repo:acme/ml-platform:environment:prod"]}}
    assert role["MaxSessionDuration"] == 3600
    assert "ManagedPolicyArns" not in role and "Policies" not in role


def test_an_existing_provider_is_used_and_the_subject_is_the_environment_only(built):
    _, role = _role(built, "staging")
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": EXISTING}
    assert statement["Condition"]["StringEquals"][f"{ISSUER}:sub"] == ["repo:acme/ml-platform:environment:staging"]
    assert "StringLike" not in statement["Condition"]


def test_the_role_may_only_assume_the_cdk_bootstrap_roles(built):
    main_id, _ = _role(built, "main")
    expected = {f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/cdk-hnb659fds-{r}-${{AWS::AccountId}}-${{AWS::Region}}"
                for r in ("deploy-role", "file-publishing-role", "lookup-role")}
    main = role_permissions(built["tpl"], {"Ref": main_id})
    assert {a for a, _ in main} == {"sts:AssumeRole"}
    assert {flat(json.loads(r)) for _, r in main} == expected
    staging_id, _ = _role(built, "staging")
    staging = {flat(json.loads(r)) for _, r in role_permissions(built["tpl"], {"Ref": staging_id})}
    assert staging == {f"arn:${{AWS::Partition}}:iam::{a}:role/cdk-team1-{r}-{a}-eu-west-1"
                       for a in (DEV, PROD) for r in ("deploy-role", "file-publishing-role", "lookup-role")}


def test_cfn_lint_and_cdk_nag_are_clean(built):
    assert built["result"].nag_findings == []
    assert built["result"].lint() == []


# ------------------------------------------------------------------ bad input
@pytest.fixture(scope="module")
def stack():
    return Stack(App(), "Bare")


@pytest.mark.parametrize("prop, value", [
    ("repository", "ml-platform"), ("repository", "*/ml-platform"), ("repository", "acme/*"),
    ("repository", "acme/ml platform"), ("repository", "-acme/x"), ("repository", "acme/ml/extra"),
    ("repository", "acme-/x"), ("branch", "*"), ("branch", "refs/heads/main"), ("branch", "feature/*"),
    ("branch", "a..b"), ("environments", "prod"), ("environments", ["prod", "prod"]), ("environments", ["pr*d"]),
    ("qualifier", "elevenchars"), ("deploy_accounts", ["123"]), ("deploy_regions", ["EU"]),
])
def test_bad_input_names_the_prop(stack, prop, value):
    props = {"repository": REPO, "branch": "main", prop: value}
    with pytest.raises(ValueError, match=f"GitHubOidcRole '{prop}': invalid value"):
        GitHubOidcRole(stack, f"R{abs(hash((prop, str(value))))}", **props)


def test_a_role_must_be_narrower_than_the_repository(stack):
    with pytest.raises(ValueError, match="GitHubOidcRole 'branch'.*branch and/or environments"):
        GitHubOidcRole(stack, "Wide", repository=REPO)


def test_a_provider_for_another_issuer_is_refused(stack):
    other = iam.OidcProviderNative.from_oidc_provider_arn(
        stack, "Gitlab", "arn:aws:iam::111122223333:oidc-provider/gitlab.com")
    with pytest.raises(ValueError, match="GitHubOidcRole 'provider'"):
        GitHubOidcRole(stack, "Other", repository=REPO, branch="main", provider=other)


# --------------------------------------------------------------- the workflow
WORKFLOW = ROOT / ".github" / "workflows" / "deliver.yml"


@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def _runs(job) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_the_gates_are_the_readme_commands_and_need_no_aws(workflow):
    gates = workflow["jobs"]["gates"]
    assert re.search(r"^make test\b", _runs(gates), re.M) and re.search(r"^make synth\b", _runs(gates), re.M)
    assert _runs(gates).index("make test") < _runs(gates).index("make synth")
    assert "permissions" not in gates and workflow["permissions"] == {"contents": "read"}
    assert not any("configure-aws-credentials" in step.get("uses", "") for step in gates["steps"])


def test_stages_deploy_in_order_dev_staging_prod_after_the_gates(workflow):
    jobs = workflow["jobs"]
    order, done = [], set()
    while len(order) < len(jobs):  # a topological order of `needs`
        ready = sorted(j for j, job in jobs.items() if j not in done and set(_needs(job)) <= done)
        assert len(ready) == 1, f"jobs run one after another, got {ready} ready together"
        order.append(ready[0])
        done.add(ready[0])
    assert order == ["gates", "deploy-dev", "deploy-staging", "deploy-prod"]
    for stage in ("dev", "staging", "prod"):
        job = jobs[f"deploy-{stage}"]
        assert re.search(rf"npx --no-install cdk deploy -c stage={stage}\b", _runs(job))
        assert job["environment"] == stage
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        (credentials,) = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        assert credentials["with"]["role-duration-seconds"] <= 3600
    assert "--require-approval never" in workflow["env"]["CDK_FLAGS"]


def _needs(job) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else needs


def test_no_long_lived_keys_and_every_action_pinned_by_commit(workflow):
    text = WORKFLOW.read_text()
    assert "aws-access-key-id" not in text and "secrets." not in text
    uses = re.findall(r"uses: (\S+)(.*)", text)
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) and re.search(r"# v\d", c) for u, c in uses)
    assert workflow[True]["push"]["branches"] == ["main"]  # PyYAML reads the key `on` as True
