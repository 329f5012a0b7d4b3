"""PlatformGuardrails on the reference platform: a boundary and a path on every IAM role, tags on every taggable resource."""

import json

import pytest
from aws_cdk import App, RemovalPolicy, Stack, Stage
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from mlops_cdk.app_builder import build_app
from mlops_cdk.constructs.common.guardrails import PlatformGuardrails
from mlops_cdk.settings.guardrails import require_permissions_boundary, require_role_path, role_resource_name
from tests.harness import resources_of_type, synth

BOUNDARY_NAME = "mlops-boundary"
ROLE_PATH = "/mlops/platform/"
TAGS = {"cost-center": "42", "owner": "risk-team"}
BOUNDARY_ARN = "arn:aws:iam::111122223333:policy/guardrails/ml-boundary"


def boundary_of_name(name):
    """How a policy name in the stack's own account reads in a template."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, f":policy/{name}"]]}


@pytest.fixture(scope="module")
def platform():
    """The reference platform built from context with both guardrail keys and extra tags (one synth, no cdk-nag):
    build_app applies the guardrails the configuration names."""
    context = {"permissions_boundary": BOUNDARY_NAME, "role_path": ROLE_PATH, "tags": TAGS}
    return synth(build_app, context=context, nag=False)


def test_every_role_of_every_template_has_the_boundary_and_the_path(platform):
    roles = {(stack, logical_id): role for stack, template in platform.stacks.items()
             for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items()}
    assert len(roles) >= 10  # aws-cdk-lib's own (provider) roles: test_nested_stages_and_raw_provider_roles...
    missing = {key: {k: role["Properties"].get(k) for k in ("PermissionsBoundary", "Path")} for key, role in roles.items()
               if role["Properties"].get("PermissionsBoundary") != boundary_of_name(BOUNDARY_NAME)
               or role["Properties"].get("Path") != ROLE_PATH}
    assert missing == {}


def test_the_overridden_roles_are_valid_cloudformation(platform):
    assert platform.lint("mlops-fraud-detection-dev-foundation") == []


def test_roles_are_referenced_not_rebuilt_from_their_names(platform):
    """A path changes a role's ARN: nothing may spell a role ARN from a name (':role/<name>') instead of GetAtt."""
    for stack, template in platform.stacks.items():
        text = json.dumps(template)
        assert ":role/" not in text, stack


def test_tags_reach_every_taggable_resource(platform):
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    expected = {"project": "mlops", "model": "fraud-detection", "stage": "dev", **TAGS}
    untagged, checked = [], 0
    for stack, template in platform.stacks.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CDK::Metadata":
                continue
            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region="us-east-1", resource_type=resource["Type"])
            if not (schema.schema.get("tagging") or {}).get("taggable"):
                continue
            checked += 1
            tags = resource.get("Properties", {}).get("Tags")
            pairs = ({t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else tags) or {}
            if not expected.items() <= pairs.items():
                untagged.append(f"{stack}/{logical_id} ({resource['Type']})")
    assert checked >= 20 and untagged == []


def test_nested_stages_and_raw_provider_roles_get_the_guardrails_too():
    def build(app):
        stage = Stage(app, "Prod")
        stack = Stack(stage, "Platform")
        iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
        s3.Bucket(stack, "Scratch", auto_delete_objects=True, removal_policy=RemovalPolicy.DESTROY)
        iam.CfnRole(stack, "Raw", assume_role_policy_document={"Statement": []}, path="/custom/")
        PlatformGuardrails(permissions_boundary=BOUNDARY_ARN, role_path="/").apply(app)

    result = synth(build, nag=False)
    roles = resources_of_type(result.json(), "AWS::IAM::Role")
    assert len(roles) == 3  # the L2 role, the L1 one, and the provider role of the bucket's auto-delete
    assert {(r["Properties"]["PermissionsBoundary"], r["Properties"]["Path"]) for r in roles.values()} == {
        (BOUNDARY_ARN, "/")}


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("value", [
    "bad name", "x" * 129, "", "arn:aws:iam::123:policy/short-account", "arn:aws:s3:::bucket",
    "arn:aws:iam::111122223333:role/not-a-policy", "arn:aws:iam::111122223333:policy/", 42,
])
def test_bad_boundary_names_the_key(value):
    with pytest.raises(ValueError, match="config 'permissions_boundary'"):
        require_permissions_boundary("config", "permissions_boundary", value)
    with pytest.raises(ValueError, match="PlatformGuardrails 'permissions_boundary'"):
        PlatformGuardrails(permissions_boundary=value)


@pytest.mark.parametrize("value", ["mlops", "/mlops", "mlops/", "/ml ops/", "/" + "a" * 511 + "/", "", 7, "//x"])
def test_bad_role_path_names_the_key(value):
    with pytest.raises(ValueError, match="config 'role_path'"):
        require_role_path("config", "role_path", value)
    with pytest.raises(ValueError, match="PlatformGuardrails 'role_path'"):
        PlatformGuardrails(role_path=value)


@pytest.mark.parametrize("boundary", [BOUNDARY_NAME, "Team+Boundary=1,a.b@c_d", BOUNDARY_ARN,
                                      "arn:aws:iam::aws:policy/PowerUserAccess",
                                      "arn:aws-us-gov:iam::111122223333:policy/b"])
def test_good_boundaries_pass(boundary):
    assert require_permissions_boundary("config", "permissions_boundary", boundary) == boundary


@pytest.mark.parametrize("path", ["/", "/mlops/", "/a/b-c/d_e/", "/" + "a" * 510 + "/"])
def test_good_paths_pass(path):
    assert require_role_path("config", "role_path", path) == path


def test_guardrails_without_a_setting_are_refused():
    with pytest.raises(ValueError, match="PlatformGuardrails 'permissions_boundary'.*role_path"):
        PlatformGuardrails()
    assert PlatformGuardrails(role_path="/x/").boundary_arn is None


def test_a_boundary_name_is_an_arn_in_each_stacks_account_and_partition():
    stack = Stack(App(), "S")
    assert stack.resolve(PlatformGuardrails(permissions_boundary="b").boundary_arn) == boundary_of_name("b")
    assert PlatformGuardrails(permissions_boundary=BOUNDARY_ARN).boundary_arn == BOUNDARY_ARN


def test_name_built_role_arns_carry_the_path():
    """What a role in another account (reachable by name only) must be called in an ARN built from its name."""
    stack = Stack(App(), "S")
    arn = stack.format_arn(service="iam", region="", account="444455556666", resource="role",
                           resource_name=role_resource_name("mlops-endpoint-test", ROLE_PATH))
    assert stack.resolve(arn)["Fn::Join"][1][-1] == ":iam::444455556666:role/mlops/platform/mlops-endpoint-test"
    assert role_resource_name("r", None) == role_resource_name("r", "/") == "r"
