"""PlatformFunction: every Lambda of the library, packaged as deployed, imports on its own; safe defaults."""

import subprocess
import sys

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match

from mlops_cdk.constructs.common.platform_function import LAMBDAS_DIR, SHARED_DIR, PlatformFunction
from tests.harness import resources_of_type, synth

FUNCTIONS = sorted(p.name for p in LAMBDAS_DIR.iterdir() if (p / "handler.py").is_file())


@pytest.fixture(scope="module")
def packaged():
    def build(app):
        stack = Stack(app, "Functions")
        for name in FUNCTIONS:
            PlatformFunction(stack, name.title().replace("_", ""), code=name, description=f"{name} under test")
    result = synth(build)
    outdir = next(iter(result.template_paths.values())).parent
    return result, outdir


def _asset_dir(result, outdir, name):
    template = result.json("Functions")
    (function,) = [f for k, f in resources_of_type(template, "AWS::Lambda::Function").items()
                   if f["Properties"]["Description"] == f"{name} under test"]
    key = function["Properties"]["Code"]["S3Key"]
    return outdir / f"asset.{key.removesuffix('.zip')}"


def test_there_are_functions_to_check():
    assert {"model_approval", "retraining_gate", "drift_checker", "baseline_publisher"} <= set(FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_packaged_function_holds_its_code_and_the_shared_modules_and_imports_alone(packaged, name):
    result, outdir = packaged
    asset = _asset_dir(result, outdir, name)
    files = {p.name for p in asset.iterdir()}
    assert "handler.py" in files
    assert {p.name for p in SHARED_DIR.glob("*.py") if p.name != "__init__.py"} <= files
    assert "__pycache__" not in files
    # Import the handler as Lambda does: from the asset root, nothing of this repository on the path.
    subprocess.run([sys.executable, "-I", "-B", "-c", "import sys; sys.path.insert(0, '.'); import handler; assert callable(handler.handler)"],
                   cwd=asset, check=True, capture_output=True, env={"AWS_DEFAULT_REGION": "us-east-1"})


def test_defaults_are_safe(packaged):
    result, _ = packaged
    template = result.template("Functions")
    count = len(FUNCTIONS)
    template.resource_properties_count_is("AWS::Lambda::Function", {
        "Runtime": "python3.14", "Architectures": ["arm64"], "ReservedConcurrentExecutions": Match.absent(),
        "DeadLetterConfig": {"TargetArn": Match.any_value()}, "LoggingConfig": {"LogGroup": Match.any_value()},
    }, count)
    template.resource_properties_count_is("AWS::SQS::Queue", {"SqsManagedSseEnabled": True}, count)
    template.all_resources("AWS::SQS::Queue", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                                               "Type": "AWS::SQS::Queue", "Properties": Match.any_value()})
    template.all_resources_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})
    template.all_resources_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})
    assert result.nag_findings == [] and result.lint("Functions") == []


def test_the_function_is_an_aws_cdk_function_with_its_own_limits():
    def build(app):
        stack = Stack(app, "One")
        platform_function = PlatformFunction(stack, "Gate", code="retraining_gate", description="gate",
                                             reserved_concurrent_executions=1)
        caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
        platform_function.function.grant_invoke(caller)  # an lambda_.IFunction like any other
    result = synth(build, nag=False)
    template = result.template()
    template.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 1})
    # aws-cdk-lib's redundant DependsOn on the role is expected: cfn-lint is told why, on the resource.
    template.has_resource("AWS::Lambda::Function", {"Metadata": Match.object_like({
        "cfn-lint": {"config": {"ignore_checks": ["W3005"]}}})})
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": "lambda:InvokeFunction"})])}})
    assert result.lint() == []


@pytest.mark.parametrize(
    "kwargs, prop",
    [({"code": "no_such_function"}, "code"), ({"code": "../constructs"}, "code"),
     ({"code": "model_approval", "memory_size": 64}, "memory_size"),
     ({"code": "model_approval", "retry_attempts": 3}, "retry_attempts"),
     ({"code": "model_approval", "reserved_concurrent_executions": 0}, "reserved_concurrent_executions")],
)
def test_bad_props_name_the_prop(kwargs, prop):
    with pytest.raises(ValueError, match=f"'{prop}'"):
        PlatformFunction(Stack(App(), "S"), "F", description="x", **kwargs)
