"""SageMakerPipeline, SageMakerPipelineTarget and ModelBuildStack: template, snapshot, lint, nag, moto, bad input."""

import json
import re

import boto3
import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from moto import mock_aws

from mlops_cdk import FoundationStack, PlatformConfig, SageMakerExecutionRole, SageMakerPipelineTarget
from mlops_cdk.constructs.sagemaker_pipeline import INLINE_LIMIT_BYTES, SageMakerPipeline
from mlops_cdk.pipeline_defs import validate_definition
from mlops_cdk.stacks.model_build import ModelBuildStack
from tests.harness import normalized, only_resource, resources_of_type, role_statements, synth

CONFIG = PlatformConfig()
STACK = "ModelBuild"
DECLARED = {
    "ProcessingInstanceType", "TrainingInstanceType", "InputData", "TrainingRounds", "LearningRate",
    "AccuracyThreshold", "ModelApprovalStatus", "Reason",
}


def _build(app):
    foundation = FoundationStack(app, "Foundation", config=CONFIG)
    ModelBuildStack(app, STACK, config=CONFIG, foundation=foundation)


@pytest.fixture(scope="module")
def result():
    return synth(_build)


@pytest.fixture(scope="module")
def raw(result):
    return result.json(STACK)


@pytest.fixture(scope="module")
def pipeline(raw):
    return only_resource(raw, "AWS::SageMaker::Pipeline")


@pytest.fixture(scope="module")
def body_and_variables(pipeline):
    body, variables = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    return body, variables


# ------------------------------------------------------------------ pipeline
def test_pipeline_name_role_and_description(raw, pipeline):
    props = pipeline["Properties"]
    assert props["PipelineName"] == "mlops-fraud-detection-dev-training"
    role_id = props["RoleArn"]["Fn::GetAtt"][0]
    assert raw["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"}


def test_definition_is_inline_with_exactly_the_placeholders_it_uses(body_and_variables):
    body, variables = body_and_variables
    used = set(re.findall(r"\$\{([A-Za-z:]+)\}", body))
    assert used == set(variables) == {
        "ExecutionRoleArn", "DataBucket", "ScriptsBucket", "ScriptsArchiveKey",
        "XGBoostImage", "SKLearnImage", "ModelMonitorImage",
    }
    for image in ("XGBoostImage", "SKLearnImage", "ModelMonitorImage"):
        account = variables[image]["Fn::Sub"][1]["Account"]["Fn::FindInMap"]
        assert account[0] == "SageMakerImageRegistries" and account[1] == {"Ref": "AWS::Region"}


def test_definition_declares_the_course_parameters_and_passes_checks(body_and_variables):
    definition = json.loads(body_and_variables[0])
    validate_definition(definition)
    assert {p["Name"] for p in definition["Parameters"]} == DECLARED
    assert all("DefaultValue" in p for p in definition["Parameters"])


def test_scripts_ship_as_one_asset_readable_only_by_key(raw, body_and_variables, pipeline):
    _, variables = body_and_variables
    key = variables["ScriptsArchiveKey"]
    assert key.endswith(".zip")
    role_id = pipeline["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    reads = [s for s in role_statements(raw, role_id) if s["Action"] == "s3:GetObject"]
    assert any(key in json.dumps(s["Resource"]) for s in reads)
    assert not any(json.dumps(s["Resource"]).endswith('/*"]}') and "cdk-" in json.dumps(s["Resource"]) for s in reads)


def test_pipeline_waits_for_role_policies(raw, pipeline):
    depends = pipeline["DependsOn"]
    assert depends and all(raw["Resources"][d]["Type"] == "AWS::IAM::Policy" for d in depends)


def test_pipeline_role_is_scoped(raw, pipeline):
    role_id = pipeline["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = role_statements(raw, role_id)
    text = json.dumps(statements)
    assert "sagemaker:StartPipelineExecution" not in text
    jobs = [s for s in statements if s.get("Sid") == "PipelineJobs"][0]
    assert all(r["Fn::Join"][1][-1].endswith("/pipelines-*") for r in jobs["Resource"])
    passrole = [s for s in statements if s.get("Sid") == "PassOwnRoleToSageMaker"][0]
    assert passrole["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    register = [s for s in statements if "sagemaker:CreateModelPackage" in s["Action"]]
    assert register and all("mlops-fraud-detection-dev" in json.dumps(s["Resource"]) for s in register)


def test_registry_group_named_after_model_and_stage_and_retained(raw):
    group = only_resource(raw, "AWS::SageMaker::ModelPackageGroup")
    assert group["Properties"]["ModelPackageGroupName"] == "mlops-fraud-detection-dev"
    assert group["DeletionPolicy"] == "Retain"


def test_approval_gate_uses_configured_threshold_and_the_evaluation_report(raw):
    functions = resources_of_type(raw, "AWS::Lambda::Function").values()
    (gate,) = [f for f in functions if "METRIC_PATH" in f["Properties"]["Environment"]["Variables"]]
    env = gate["Properties"]["Environment"]["Variables"]
    assert env["THRESHOLD"] == "0.85"
    assert env["METRIC_PATH"] == "binary_classification_metrics.accuracy.value"
    rules = resources_of_type(raw, "AWS::Events::Rule").values()
    assert any(r["Properties"]["EventPattern"].get("detail-type") == ["SageMaker Model Package State Change"]
               for r in rules)


def test_outputs(result):
    template = result.template(STACK)
    for name in ("PipelineName", "PipelineArn", "ModelPackageGroupName"):
        template.has_output(name, {})


def test_nag_and_lint_clean(result):
    assert result.nag_findings == []
    assert result.lint(STACK) == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# ----------------------------------------------------------------------- moto
@mock_aws
def test_synthesized_definition_creates_and_starts_in_moto(body_and_variables):
    body, variables = body_and_variables
    values = {name: f"dummy-{name.lower()}" for name in variables}
    values["ExecutionRoleArn"] = "arn:aws:iam::123456789012:role/pipeline"
    definition = re.sub(r"\$\{([A-Za-z]+)\}", lambda m: values[m.group(1)], body).replace("${!", "${")
    client = boto3.client("sagemaker", region_name="eu-west-1")
    arn = client.create_pipeline(
        PipelineName="mlops-fraud-detection-dev-training", PipelineDefinition=definition,
        RoleArn=values["ExecutionRoleArn"],
    )["PipelineArn"]
    assert arn.endswith(":pipeline/mlops-fraud-detection-dev-training")
    overrides = [{"Name": "Reason", "Value": "DataDrift"}, {"Name": "TrainingRounds", "Value": "50"}]
    assert {o["Name"] for o in overrides} <= {p["Name"] for p in json.loads(definition)["Parameters"]}
    execution = client.start_pipeline_execution(
        PipelineName="mlops-fraud-detection-dev-training", PipelineParameters=overrides
    )["PipelineExecutionArn"]
    sent = client.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution)["PipelineParameters"]
    assert sent == overrides
    stored = client.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution)
    assert json.loads(stored["PipelineDefinition"]) == json.loads(definition)


# ----------------------------------------------------------------- the target
@pytest.fixture(scope="module")
def target_template():
    def build(app):
        stack = Stack(app, "Targets")
        queue = sqs.Queue(stack, "Dlq", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED)
        rule = events.Rule(stack, "Weekly", schedule=events.Schedule.rate(Duration.days(7)))
        arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p"
        rule.add_target(SageMakerPipelineTarget(arn, parameters={"Reason": "Scheduled"}, dead_letter_queue=queue,
                                                retry_attempts=5, max_event_age=Duration.hours(1)))
    return synth(build, nag=False).json()


def test_target_passes_parameters_retry_and_dead_letter_queue(target_template):
    (target,) = only_resource(target_template, "AWS::Events::Rule")["Properties"]["Targets"]
    assert target["SageMakerPipelineParameters"] == {"PipelineParameterList": [{"Name": "Reason", "Value": "Scheduled"}]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][1] == "Arn"


def test_target_role_may_only_start_that_pipeline(target_template):
    (policy,) = resources_of_type(target_template, "AWS::IAM::Policy").values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [{
        "Action": "sagemaker:StartPipelineExecution", "Effect": "Allow",
        "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p",
    }]


def test_dead_letter_queue_admits_only_this_rule(target_template):
    policy = only_resource(target_template, "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
    allow = [s for s in policy if s["Effect"] == "Allow"][0]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][1] == "Arn"


# ------------------------------------------------------------------ bad input
def _definition(steps, parameters=()):
    return json.dumps({"Version": "2020-12-01", "Parameters": list(parameters), "Steps": steps})


def _step(name, **arguments):
    return {"Name": name, "Type": "Processing", "Arguments": arguments}


@pytest.mark.parametrize(
    "source, message",
    [
        (_definition([_step("A"), _step("A")]), "A"),
        (_definition([_step("A", Input={"Get": "Parameters.Missing"})]), "Missing"),
        (_definition([_step("A", Input={"Get": "Steps.Nope.Properties.X"})]), "Nope"),
        (_definition([_step("A", Blob="x" * (1024 * 1024 + 1))]), "over SageMaker's limit"),
        ((_definition([_step("A", Role="${Foreign}")]), frozenset({"Foreign"})), "Foreign"),
        ("not json", "JSON"),
        (42, "'pipeline'"),
    ],
)
def test_bad_definitions_fail_at_synth(source, message):
    stack = Stack(App(), "S")
    role = SageMakerExecutionRole(stack, "R")
    with pytest.raises(ValueError, match=re.escape(message)):
        SageMakerPipeline(stack, "P", pipeline=source, pipeline_name="p", role=role,
                          data_bucket=s3.Bucket(stack, "B"))


@pytest.mark.parametrize(
    "kwargs, prop",
    [
        ({"definition_location": "ftp"}, "definition_location"),
        ({"role": "arn:aws:iam::123456789012:role/x"}, "role"),
        ({"description": "x" * 3073}, "description"),
    ],
)
def test_bad_props_name_the_prop(kwargs, prop):
    stack = Stack(App(), "S")
    props = {"pipeline": _definition([_step("A")]), "pipeline_name": "p", "role": SageMakerExecutionRole(stack, "R"),
             "data_bucket": s3.Bucket(stack, "B"), **kwargs}
    with pytest.raises(ValueError, match=f"'{prop}'"):
        SageMakerPipeline(stack, "P", **props)


def test_unknown_placeholders_in_foreign_json_stay_literal():
    def build(app):
        stack = Stack(app, "Literal")
        source = _definition([_step("A", Note="${NotOurs}", Role="${ExecutionRoleArn}")])
        SageMakerPipeline(stack, "P", pipeline=source, pipeline_name="p", role=SageMakerExecutionRole(stack, "R"),
                          data_bucket=s3.Bucket(stack, "B"))
    template = synth(build, nag=False).json()
    body, variables = only_resource(template, "AWS::SageMaker::Pipeline")["Properties"]["PipelineDefinition"][
        "PipelineDefinitionBody"]["Fn::Sub"]
    assert "${!NotOurs}" in body and set(variables) == {"ExecutionRoleArn"}


def test_large_definition_with_placeholders_is_rejected_clearly():
    stack = Stack(App(), "S")
    big = _definition([_step("A", Role="${ExecutionRoleArn}", Blob="x" * (INLINE_LIMIT_BYTES + 1))])
    with pytest.raises(ValueError, match="inline, resolved per region"):
        SageMakerPipeline(stack, "P", pipeline=big, pipeline_name="p", role=SageMakerExecutionRole(stack, "R"),
                          data_bucket=s3.Bucket(stack, "B"))


def test_large_definition_without_placeholders_goes_to_s3():
    def build(app):
        stack = Stack(app, "Big")
        big = _definition([_step("A", Blob="x" * (INLINE_LIMIT_BYTES + 1))])
        SageMakerPipeline(stack, "P", pipeline=big, pipeline_name="p", role=SageMakerExecutionRole(stack, "R"),
                          data_bucket=s3.Bucket(stack, "B"))
    template = synth(build, nag=False).json()
    definition = only_resource(template, "AWS::SageMaker::Pipeline")["Properties"]["PipelineDefinition"]
    assert set(definition) == {"PipelineDefinitionS3Location"}
    assert definition["PipelineDefinitionS3Location"]["Key"].endswith(".json")


@pytest.mark.parametrize(
    "kwargs, prop",
    [
        ({"retry_attempts": 200}, "retry_attempts"),
        ({"max_event_age": Duration.seconds(10)}, "max_event_age"),
        ({"parameters": {"Reason": 1}}, "parameters"),
    ],
)
def test_target_bad_props(kwargs, prop):
    with pytest.raises(ValueError, match=f"'{prop}'"):
        SageMakerPipelineTarget("arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p", **kwargs)


def test_baseline_publisher_acts_on_approvals_and_writes_only_baselines(raw):
    functions = resources_of_type(raw, "AWS::Lambda::Function")
    (name,) = [k for k, f in functions.items() if "MANIFEST_KEY" in f["Properties"]["Environment"]["Variables"]]
    env = functions[name]["Properties"]["Environment"]["Variables"]
    assert env["STATISTICS_KEY"] == "baselines/data-quality/statistics.json"
    assert env["HISTOGRAM_KEY"] == "baselines/drift/baseline_histogram.json"
    rules = [r for r in resources_of_type(raw, "AWS::Events::Rule").values()
             if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [name, "Arn"]}]
    (rule,) = rules
    assert rule["Properties"]["EventPattern"]["detail"]["ModelApprovalStatus"] == ["Approved"]
    role = functions[name]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = role_statements(raw, role)
    puts = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert len(puts) == 1 and json.dumps(puts[0]["Resource"]).endswith('/baselines/*"]]}')
    assert not any("*" in a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
                   if a.startswith(("s3:", "kms:")))
