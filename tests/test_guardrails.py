"""PlatformGuardrails: a boundary and a path on every IAM role, nested stages and raw provider roles included."""

import pytest
from aws_cdk import App, RemovalPolicy, Stack, Stage
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from mlops_cdk.constructs.common.guardrails import PlatformGuardrails
from mlops_cdk.settings.guardrails import require_permissions_boundary, require_role_path, role_resource_name
from tests.harness import resources_of_type, synth

BOUNDARY_NAME = "mlops-boundary"
ROLE_PATH = "/mlops/platform/"
BOUNDARY_ARN = "arn:aws:iam::111122223333:policy/guardrails/ml-boundary"


def boundary_of_name(name):
    """How a policy name in the stack's own account reads in a template."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, f":policy/{name}"]]}


# The reference platform with both keys (and extra tags) is synthesized once, in tests/test_network.py, together
# with network=create and every compliance pack: its guardrail tests live there ("guardrails on the platform").


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
