"""PlatformFunction: every Lambda of the library, packaged as deployed, imports on its own; safe defaults."""

import subprocess
import sys

import pytest
from aws_cdk import App, Stack

from mlops_cdk.constructs.platform_function import LAMBDAS_DIR, SHARED_DIR, PlatformFunction
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
    assert {p.name for p in SHARED_DIR.glob("*.py")} <= files
    assert "__pycache__" not in files
    # Import the handler as Lambda does: from the asset root, nothing of this repository on the path.
    subprocess.run([sys.executable, "-I", "-B", "-c", "import sys; sys.path.insert(0, '.'); import handler; assert callable(handler.handler)"],
                   cwd=asset, check=True, capture_output=True, env={"AWS_DEFAULT_REGION": "us-east-1"})


def test_defaults_are_safe(packaged):
    result, _ = packaged
    template = result.json("Functions")
    for function in resources_of_type(template, "AWS::Lambda::Function").values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
        assert "DeadLetterConfig" in props and "LoggingConfig" in props
    for queue in resources_of_type(template, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["DeletionPolicy"] == "Retain"
    for group in resources_of_type(template, "AWS::Logs::LogGroup").values():
        assert group["DeletionPolicy"] == "Retain" and group["Properties"]["RetentionInDays"] == 365
    assert not any("ManagedPolicyArns" in r["Properties"] for r in resources_of_type(template, "AWS::IAM::Role").values())
    assert result.nag_findings == [] and result.lint("Functions") == []


@pytest.mark.parametrize(
    "kwargs, prop",
    [({"code": "no_such_function"}, "code"), ({"code": "../constructs"}, "code"),
     ({"code": "model_approval", "memory_size": 64}, "memory_size"),
     ({"code": "model_approval", "retry_attempts": 3}, "retry_attempts")],
)
def test_bad_props_name_the_prop(kwargs, prop):
    with pytest.raises(ValueError, match=f"'{prop}'"):
        PlatformFunction(Stack(App(), "S"), "F", description="x", **kwargs)
