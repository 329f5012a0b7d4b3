"""The offline pipeline definition layer: rendering, determinism, isolation, checks.

The training pipeline is built once per module (the SDK import and a build
cost ~2.5 s); tests that need a fresh build say why.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import socket
import subprocess
import sys

import boto3
import pytest

import mlops_cdk.pipeline_defs as defs
from mlops_cdk.pipeline_defs import (
    IMAGE_PLACEHOLDERS,
    MAX_DEFINITION_BYTES,
    PLACEHOLDERS,
    prepare_for_sub,
    validate_definition,
)
from tests.harness import lazy_module

sdk = lazy_module("mlops_cdk.pipeline_defs.offline_session")

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARGS = {"pipeline_name": "fraud-training", "model_package_group_name": "fraud-models"}
RENDER = (
    "from mlops_cdk.pipeline_defs import build_training_pipeline;"
    "import sys; sys.stdout.write(build_training_pipeline(pipeline_name='fraud-training',"
    " model_package_group_name='fraud-models').render()[0])"
)


@pytest.fixture(scope="module")
def built():
    return defs.build_training_pipeline(**ARGS)


@pytest.fixture(scope="module")
def rendered(built):
    return built.render()


@pytest.fixture(scope="module")
def definition(rendered):
    return json.loads(rendered[0])


def all_steps(steps):
    for step in steps:
        yield step
        for branch in ("IfSteps", "ElseSteps"):
            yield from all_steps(step["Arguments"].get(branch, []) if step["Type"] == "Condition" else [])


# ------------------------------------------------------------------- content
def test_snapshot(definition, json_snapshot):
    assert definition == json_snapshot


def test_steps_of_the_course_pipeline(definition):
    steps = {s["Name"]: s for s in all_steps(definition["Steps"])}
    assert list(steps) == [
        "PreprocessData", "TrainModel", "EvaluateModel", "DataQualityBaseline", "CheckAccuracy",
        "RegisterModel-RegisterModel", "AccuracyBelowThreshold",
    ]
    assert {n: s["Type"] for n, s in steps.items()} == {
        "PreprocessData": "Processing", "TrainModel": "Training", "EvaluateModel": "Processing",
        "DataQualityBaseline": "QualityCheck", "CheckAccuracy": "Condition",
        "RegisterModel-RegisterModel": "RegisterModel", "AccuracyBelowThreshold": "Fail",
    }
    quality = steps["DataQualityBaseline"]
    assert (quality["CheckType"], quality["SkipCheck"], quality["RegisterNewBaseline"]) == ("DATA_QUALITY", True, True)
    assert steps["TrainModel"]["Arguments"]["HyperParameters"]["objective"] == "binary:logistic"
    register = steps["RegisterModel-RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == "fraud-models"
    assert register["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
    assert register["CustomerMetadataProperties"]["TrainingReason"] == {"Get": "Parameters.Reason"}
    assert set(register["DriftCheckBaselines"]["ModelDataQuality"]) == {"Statistics", "Constraints"}
    assert definition["PipelineExperimentConfig"] == {
        "ExperimentName": {"Get": "Execution.PipelineName"}, "TrialName": {"Get": "Execution.PipelineExecutionId"},
    }


def test_every_get_resolves(definition, rendered):
    """Independent of validate_definition: each Get names a declared parameter, an existing step, or the execution."""
    parameters = {p["Name"] for p in definition["Parameters"]}
    steps = {s["Name"] for s in all_steps(definition["Steps"])}
    gets = re.findall(r'"Get":"([^"]+)"', rendered[0])
    assert len(gets) > 20
    known = {"Parameters": parameters, "Steps": steps, "Execution": {"PipelineName", "PipelineExecutionId"}}
    for get in gets:
        root, name = get.split(".")[:2]
        assert name in known.get(root, ()), get
    validate_definition(definition)


def test_every_parameter_has_its_default(definition):
    assert {p["Name"]: (p["Type"], p["DefaultValue"]) for p in definition["Parameters"]} == {
        "ProcessingInstanceType": ("String", "ml.m5.xlarge"),
        "TrainingInstanceType": ("String", "ml.m5.xlarge"),
        "InputData": ("String", "s3://${DataBucket}/training-data/"),
        "TrainingRounds": ("Integer", 100),
        "LearningRate": ("Float", 0.2),
        "AccuracyThreshold": ("Float", 0.85),
        "ModelApprovalStatus": ("String", "PendingManualApproval"),
        "Reason": ("String", "Manual"),
    }


def test_accuracy_gate_reads_what_evaluate_py_writes(definition, rendered, monkeypatch):
    """The JsonGet path and property file must match evaluate.py's report, or the gate never opens."""
    (condition,) = next(s for s in definition["Steps"] if s["Name"] == "CheckAccuracy")["Arguments"]["Conditions"]
    json_get = condition["LeftValue"]["Std:JsonGet"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["RightValue"] == {"Get": "Parameters.AccuracyThreshold"}
    evaluate_step = next(s for s in definition["Steps"] if s["Name"] == "EvaluateModel")
    assert evaluate_step["PropertyFiles"] == [
        {"FilePath": "evaluation.json", "OutputName": "evaluation", "PropertyFileName": "EvaluationReport"}
    ]
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in the shipped directory
    monkeypatch.syspath_prepend(str(defs.SCRIPTS_DIR))  # as BOOTSTRAP does: evaluate.py imports bias_baseline.py
    spec = importlib.util.spec_from_file_location("evaluate_script", defs.SCRIPTS_DIR / "evaluate.py")
    script = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(script)
    finally:
        sys.modules.pop("bias_baseline", None)  # a script module, not to be found by later imports
    node = script.compute_metrics([0, 1, 1], [0.2, 0.7, 0.9])
    for key in json_get["Path"].split("."):
        node = node[key]
    assert node == 1.0
    assert "Model accuracy" in rendered[0] and "AccuracyBelowThreshold" in rendered[0]


def test_scripts_are_shipped_as_one_archive_and_all_listed(built, definition):
    assert (built.scripts_dir, built.script_files) == (defs.SCRIPTS_DIR, defs.SCRIPT_FILES)
    assert defs.SCRIPTS_DIR == ROOT / "mlops_cdk" / "pipeline_defs" / "scripts"
    assert sorted(p.name for p in defs.SCRIPTS_DIR.glob("*.py")) == sorted(defs.SCRIPT_FILES)
    for step in all_steps(definition["Steps"]):
        app = step["Arguments"].get("AppSpecification", {})
        if "ContainerEntrypoint" not in app:
            continue
        python, flag, bootstrap, script = app["ContainerEntrypoint"]
        assert (python, flag, bootstrap) == ("python3", "-c", defs.BOOTSTRAP) and script in defs.SCRIPT_FILES
        (code,) = [i for i in step["Arguments"]["ProcessingInputs"] if i["InputName"] == "code"]
        assert code["S3Input"]["S3Uri"] == "s3://${ScriptsBucket}/${ScriptsArchiveKey}"
        assert code["S3Input"]["LocalPath"] == "/opt/ml/processing/input/code"


def test_bootstrap_unpacks_the_archive_and_runs_the_script_with_its_arguments(tmp_path):
    """Run the entrypoint as the container would: archive in the code dir, script args after it."""
    import subprocess
    import sys
    import zipfile

    code_dir = tmp_path / "code"
    code_dir.mkdir()
    with zipfile.ZipFile(code_dir / "0123abcd.zip", "w") as archive:
        archive.writestr("helper.py", "VALUE = 'from-helper'\n")
        archive.writestr("main.py", "import sys, helper\nprint(helper.VALUE, sys.argv[1:])\n")
    bootstrap = defs.BOOTSTRAP.replace("/opt/ml/processing/input/code", str(code_dir))
    out = subprocess.run([sys.executable, "-c", bootstrap, "main.py", "--label-column", "is_fraud"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "from-helper ['--label-column', 'is_fraud']"


def test_artifacts_stay_under_the_artifact_prefix(built, rendered):
    """The construct grants the role ${DataBucket}/<artifact_prefix>*: every output must land there."""
    assert built.artifact_prefix == "fraud-training/"
    joins = re.findall(r'"Values":\["s3://\$\{DataBucket\}","([^"]+)",', rendered[0])
    assert len(joins) == 7 and {j + "/" for j in joins} == {built.artifact_prefix}


def test_images_are_placeholders(definition):
    images = set()
    for step in all_steps(definition["Steps"]):
        arguments = step["Arguments"]
        images.add(arguments.get("AppSpecification", {}).get("ImageUri"))
        images.add(arguments.get("AlgorithmSpecification", {}).get("TrainingImage"))
        images.update(c["Image"] for c in arguments.get("InferenceSpecification", {}).get("Containers", []))
    assert images - {None} == {"${" + name + "}" for name in IMAGE_PLACEHOLDERS}


# ---------------------------------------------------------------- Fn::Sub
def test_every_placeholder_is_documented_and_reported(rendered):
    text, used = rendered
    found = set(re.findall(r"\$\{([^}]*)\}", text))
    assert found == used == {
        "DataBucket", "ExecutionRoleArn", "ModelMonitorImage", "SKLearnImage", "ScriptsArchiveKey", "ScriptsBucket",
        "XGBoostImage",
    }
    assert used <= PLACEHOLDERS.keys()
    assert "${!" not in text  # nothing needed escaping


def test_no_region_account_or_endpoint_is_hard_coded(rendered):
    text, _ = rendered
    assert not re.search(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)
    assert "amazonaws" not in text and "arn:aws" not in text


def test_prepare_for_sub_escapes_foreign_dollar_braces():
    text, used = prepare_for_sub('{"a": "${DataBucket}/${Other}", "b": "${!Lit}", "c": "$x ${AWS::Region}"}')
    assert text == '{"a": "${DataBucket}/${!Other}", "b": "${!!Lit}", "c": "$x ${AWS::Region}"}'
    assert used == {"DataBucket", "AWS::Region"}


# ------------------------------------------------------ offline, deterministic
def test_fresh_build_offline_is_identical_quiet_and_sends_nothing(rendered, monkeypatch, capfd):
    """Sockets blocked and telemetry watched: a second build still renders the same bytes and prints nothing."""
    from sagemaker.telemetry import telemetry_logging

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access during the build: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    telemetry = []
    monkeypatch.setattr(telemetry_logging, "_requests_helper", lambda *a: telemetry.append(a))
    default_session = boto3.DEFAULT_SESSION
    capfd.readouterr()

    text, used = defs.build_training_pipeline(**ARGS).render()

    assert (text, used) == rendered
    assert telemetry == []
    assert boto3.DEFAULT_SESSION is default_session
    assert capfd.readouterr() == ("", "")


# After rendering, a second check in the same process: the SDK installs rich's coloured traceback handler on
# import, so the process verifies the exception hook survived and fails with an error printed as Python does.
HOOK_CHECK = """
import sys
assert sys.excepthook is HOOK, sys.excepthook
assert not [m for m in sys.modules if m.startswith("mlops_cdk.constructs")]
raise ValueError("config 'stage': invalid value 'qa'; allowed: dev | staging | prod")
"""


def test_identical_across_processes_and_hash_seeds_and_the_exception_hook_stays_pythons(rendered):
    # ``rendered`` comes from this process, whose hash seed is random; the other process has a fixed one.
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}, "PYTHONHASHSEED": "4242"}
    run = subprocess.run([sys.executable, "-c", "import sys; HOOK = sys.excepthook\n" + RENDER + "\n" + HOOK_CHECK],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.stdout == rendered[0]
    # The exception hook is Python's: the error prints as its own 3-line traceback, without colours.
    assert run.returncode == 1 and run.stderr.endswith(
        "ValueError: config 'stage': invalid value 'qa'; allowed: dev | staging | prod\n"), run.stderr
    traceback = run.stderr[run.stderr.index("Traceback (most recent call last):"):]
    assert len(traceback.splitlines()) == 3 and "\x1b[" not in run.stderr


def test_sdk_calls_to_aws_fail_loudly():
    session = sdk.OfflinePipelineSession()
    with pytest.raises(sdk.OfflineError, match="AWS service 'sagemaker'"):
        session.sagemaker_client.describe_pipeline(PipelineName="x")
    assert session.boto_region_name == "${AWS::Region}"
    assert session.default_bucket() == "${DataBucket}"


def test_render_rejects_sdk_uploads(tmp_path):
    """A local path where an s3:// URI belongs makes the SDK upload it: rendering must refuse."""
    (tmp_path / "data.csv").write_text("a\n1\n")
    with sdk.offline():
        session = sdk.OfflinePipelineSession()
        processor = sdk.Processor(
            image_uri="${SKLearnImage}", role="${ExecutionRoleArn}", instance_count=1,
            instance_type="ml.m5.xlarge", entrypoint=["python3"], sagemaker_session=session,
        )
        local = sdk.ProcessingInput(source=str(tmp_path), destination="/opt/ml/processing/in")
        step = sdk.ProcessingStep(name="Local", step_args=processor.run(inputs=[local]))
        pipeline = sdk.Pipeline(name="p", steps=[step], sagemaker_session=session)
    with pytest.raises(ValueError, match="the SDK tried to upload local files"):
        defs.render_definition(pipeline)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("pipeline_name", "fraud_training"),
        ("pipeline_name", "a" * 101),
        ("pipeline_name", "fraud\n"),
        ("model_package_group_name", "-fraud"),
        ("model_package_group_name", "m" * 64),
        ("experiment_name", "e" * 121),
        ("input_data_uri", "s3://bucket-only"),
        ("accuracy_threshold", 0),
        ("accuracy_threshold", 1.5),
        ("learning_rate", 0),
        ("training_rounds", 0),
        ("training_rounds", 1.5),
        ("approval_status", "Pending"),
        ("processing_instance_type", "m5.xlarge"),
        ("processing_instance_type", "ml.p3.2xlarg"),
        ("training_instance_type", "ml.m5"),
        ("training_instance_type", "ml.p3.2xlarg"),
        ("inference_instance_types", ["ml.m5.large", "ml.p3.2xlarg"]),
        ("inference_instance_types", []),
        ("inference_instance_types", "ml.m5.large"),
        ("input_data_uri", "/local/data"),
        ("label_column", "a,b"),
        ("experiment_name", "my experiment"),
    ],
)
def test_bad_arguments_are_named(prop, value):
    with pytest.raises(ValueError, match=rf"^build_training_pipeline '{prop}': invalid value .*; allowed: "):
        defs.build_training_pipeline(**{**ARGS, prop: value})


def test_every_current_instance_family_is_accepted():
    built = defs.build_training_pipeline(**ARGS, processing_instance_type="ml.p6-b200.48xlarge",
                                    training_instance_type="ml.trn1n.32xlarge",
                                    inference_instance_types=["ml.inf2.xlarge", "ml.g6e.2xlarge"])
    parameters = {p["Name"]: p["DefaultValue"] for p in json.loads(built.render()[0])["Parameters"]}
    assert (parameters["ProcessingInstanceType"], parameters["TrainingInstanceType"]) == (
        "ml.p6-b200.48xlarge", "ml.trn1n.32xlarge")


def test_pipeline_names_up_to_the_training_limit():
    """100 characters: the artifact URIs recorded in the model package stay within SageMaker's 256."""
    name = "p" * 100
    built = defs.build_training_pipeline(pipeline_name=name, model_package_group_name="fraud-models")
    assert built.artifact_prefix == f"{name}/"
    assert f'"s3://${{DataBucket}}","{name}",' in built.render()[0]


def test_tokens_are_refused_in_names():
    from aws_cdk import Aws

    with pytest.raises(ValueError, match="'pipeline_name'.*not an unresolved token"):
        defs.build_training_pipeline(**{**ARGS, "pipeline_name": Aws.STACK_NAME})


# --------------------------------------------------------- validate_definition
def minimal():
    """A small sound definition: a property file, a parameter, an execution variable, nested steps."""
    json_get = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "a"}}
    condition = {"LeftValue": json_get, "RightValue": {"Get": "Parameters.Threshold"}}
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {"X": {"Get": "Execution.PipelineName"}}}
    evaluate = {"Name": "Evaluate", "Type": "Processing", "PropertyFiles": [{"PropertyFileName": "Report"}]}
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5}],
        "Steps": [
            evaluate,
            {
                "Name": "Check",
                "Type": "Condition",
                "Arguments": {"Conditions": [condition], "IfSteps": [register], "ElseSteps": []},
            },
        ],
    }


def with_step(name="X", nested=False, get=None, **extra):
    """``minimal()`` plus one Fail step, at the top or in the condition's else branch."""
    step = {"Type": "Fail", "Arguments": {"M": {"Get": get}} if get else {}, **extra}
    if name:
        step["Name"] = name
    definition = minimal()
    (definition["Steps"][1]["Arguments"]["ElseSteps"] if nested else definition["Steps"]).append(step)
    return definition


def test_validate_definition_accepts_sound_definitions(definition):
    validate_definition(minimal())
    validate_definition(definition)
    validate_definition(json.dumps(definition))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (with_step("Evaluate"), "step name 'Evaluate' is used more than once"),
        (with_step("Register", nested=True), "step name 'Register' is used more than once"),
        ({**minimal(), "Parameters": [{"Name": "T"}, {"Name": "T"}]}, "parameter name 'T' is used more than once"),
        (with_step(get="Parameters.Nope"), "undeclared parameter 'Nope'"),
        (with_step(get="Steps.Gone.Properties", nested=True), "unknown step 'Gone'"),
        (with_step(get="Steps.Evaluate.PropertyFiles.Nope"), "property file 'Nope'"),
        (with_step(get="Execution.Tomorrow"), "unknown execution variable"),
        (with_step(get="Whatever.X"), "starts with neither"),
        (with_step(DependsOn=["Gone"]), "DependsOn unknown step 'Gone'"),
        (with_step(None), "a step without a name"),
        (with_step(Description="x" * MAX_DEFINITION_BYTES), "over SageMaker's limit"),
        ({"Version": "2020-12-01"}, "expected a JSON object with a 'Steps' list"),
        ("{not json", "not valid JSON"),
    ],
    ids=[
        "duplicate-step", "duplicate-nested-step", "duplicate-parameter", "missing-parameter", "missing-step",
        "missing-property-file", "unknown-execution-variable", "unknown-root", "missing-dependency", "unnamed-step",
        "too-big", "no-steps", "not-json",
    ],
)
def test_validate_definition_rejects(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_definition(bad)


def test_validate_definition_lists_every_problem():
    bad = with_step("Evaluate", get="Parameters.Nope")
    with pytest.raises(ValueError, match="used more than once; .*undeclared parameter"):
        validate_definition(bad)
