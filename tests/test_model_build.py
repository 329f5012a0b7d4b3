"""ModelBuildStack and SageMakerPipeline: the reference stack, bring-your-own resources and roles, IPipeline
(schedules, importers, references across stacks), moto, bad input.

One synth for the module (the course pipeline is built twice: the reference stack and a team's stack).
"""

from __future__ import annotations

import json
import re

import boto3
import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk.assertions import Capture, Match
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from moto import mock_aws

from mlops_cdk import FoundationStack, ModelBuildStack, ModelRegistry, PipelineDefinition, PlatformConfig, SageMakerPipeline
from mlops_cdk.constructs.build.sagemaker_pipeline import INLINE_LIMIT_BYTES
from tests.harness import ACCOUNT, REGION, ROOT, imported_resources, logical_ids, own_resources, role_permissions, synth

CONFIG = PlatformConfig()
PIPELINE = "mlops-fraud-detection-dev-training"
GROUP = "mlops-fraud-detection-dev"
SCRIPTS = ROOT / "mlops_cdk" / "pipeline_defs" / "scripts"
COURSE_PARAMETERS = ("ProcessingInstanceType", "TrainingInstanceType", "InputData", "TrainingRounds", "LearningRate",
                     "AccuracyThreshold", "ModelApprovalStatus", "Reason")
PARTITION = {"Ref": "AWS::Partition"}


def _definition(steps, parameters=()) -> str:
    return json.dumps({"Version": "2020-12-01", "Parameters": list(parameters), "Steps": steps})


def _step(name, **arguments):
    return {"Name": name, "Type": "Processing", "Arguments": arguments}


# A small definition using the role, bucket and scripts placeholders, with a Reason parameter.
SMALL = _definition([_step("Run", RoleArn="${ExecutionRoleArn}", Input="s3://${DataBucket}/training-data/",
                           Code="s3://${ScriptsBucket}/${ScriptsArchiveKey}", Note="${NotOurs}")],
                    [{"Name": "Reason", "Type": "String", "DefaultValue": "Manual"}])


def _sm_arn(resource: str) -> dict:
    return {"Fn::Join": ["", ["arn:", PARTITION, ":sagemaker:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, f":{resource}"]]}


@pytest.fixture(scope="module")
def built():
    o = {}

    def build(app):
        # The reference stacks.
        foundation = o["foundation"] = FoundationStack(app, "Foundation", config=CONFIG)
        o["build"] = ModelBuildStack(app, "ModelBuild", config=CONFIG, resources=foundation.resources)

        # A team's own plain resources in a stack of its own; its model build without a FoundationStack.
        team_stack = Stack(app, "Team")
        churn = PlatformConfig(model_name="churn")
        o["team_build"] = ModelBuildStack(app, "TeamBuild", config=churn, resources=own_resources(team_stack))

        # SageMakerPipeline on a plain role and bucket, on imported roles; stored in S3; a mixed-case name.
        stack = o["stack"] = Stack(app, "Pipelines")
        team = o["team"] = own_resources(stack)
        o["plain"] = SageMakerPipeline(
            stack, "Plain", definition=PipelineDefinition.from_json(SMALL, scripts_dir=SCRIPTS),
            pipeline_name="plain-training", role=team.execution_role, data_bucket=team.data_bucket,
            description="A small pipeline")
        other = o["imported_stack"] = Stack(app, "OnImported")
        imported = imported_resources(other)
        o["on_imported_role"] = SageMakerPipeline(
            other, "OnImportedRole", definition=PipelineDefinition.from_json(_definition([_step("A")])),
            pipeline_name="imported-role", role=imported.execution_role, data_bucket=imported.data_bucket,
            input_prefix="raw/")
        immutable = iam.Role.from_role_arn(other, "Immutable", f"arn:aws:iam::{ACCOUNT}:role/fixed", mutable=False)
        o["on_immutable_role"] = SageMakerPipeline(
            other, "OnImmutableRole", definition=PipelineDefinition.from_json(_definition([_step("A")])),
            pipeline_name="immutable-role", role=immutable, data_bucket=imported.data_bucket)
        # A model build on those imported resources, with a definition from JSON (no SDK).
        # ... and registering into an existing model package group (one SageMaker Projects made, say).
        o["imported_build"] = ModelBuildStack(
            app, "ImportedBuild", config=PlatformConfig(model_name="risk"), resources=imported,
            definition=PipelineDefinition.from_json(SMALL, scripts_dir=SCRIPTS),
            registry=ModelRegistry.from_model_package_group_name(other, "ExistingGroup", "risk-models"))
        big = _definition([_step("A", Blob="x" * (INLINE_LIMIT_BYTES + 1))])
        o["big"] = SageMakerPipeline(stack, "Big", definition=PipelineDefinition.from_json(big),
                                     pipeline_name="Big-Training", data_bucket=team.data_bucket,
                                     role=iam.Role(stack, "BigRole", assumed_by=iam.ServicePrincipal(
                                         "sagemaker.amazonaws.com")))

        # EventBridge Scheduler starts ours and an imported one; another stack refers to ours.
        o["by_name"] = SageMakerPipeline.from_pipeline_name(stack, "ByName", "Nightly-Features")
        o["by_arn"] = SageMakerPipeline.from_pipeline_arn(
            stack, "ByArn", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/churn-training")
        for id, pipeline in (("Weekly", o["plain"]), ("Nightly", o["by_name"])):
            scheduler.Schedule(stack, id, schedule=scheduler.ScheduleExpression.rate(Duration.days(7)),
                               target=scheduler_targets.SageMakerStartPipelineExecution(
                                   pipeline, pipeline_parameter_list=[
                                       scheduler_targets.SageMakerPipelineParameter(name="Reason", value="Scheduled")]))
        consumer = o["consumer"] = Stack(app, "Consumer")
        o["caller"] = iam.Role(consumer, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        o["build"].pipeline.grant_start_pipeline_execution(o["caller"])
        o["build"].pipeline.grant_read(o["caller"])

    o["result"] = synth(build)
    return o


@pytest.fixture(scope="module")
def result(built):
    return built["result"]


@pytest.fixture(scope="module")
def tpl(result):
    return result.template("ModelBuild")


@pytest.fixture(scope="module")
def body_and_variables(tpl):
    definition = Capture()
    tpl.has_resource_properties("AWS::SageMaker::Pipeline", {"PipelineDefinition": definition})
    return definition.as_object()["PipelineDefinitionBody"]["Fn::Sub"]


def _id(stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def _perms(result, stack, role) -> set[tuple[str, str]]:
    return role_permissions(result.json(stack.stack_name), {"Ref": _id(stack, role)})


def _j(value) -> str:
    return json.dumps(value, sort_keys=True)


def _objects(bucket_arn, pattern) -> str:
    return _j({"Fn::Join": ["", [bucket_arn, f"/{pattern}"]]})


# ------------------------------------------------------------- the reference stack
def test_released_stateful_resources_keep_their_logical_ids(result):
    released = json.loads((ROOT / "tests" / "data" / "released_stateful_ids.json").read_text())
    expected = released["variants"]["all-stages-with-endpoints"]["mlops-fraud-detection-dev-model-build"]
    resources = result.json("ModelBuild")["Resources"]
    assert {k: resources.get(k, {}).get("Type") for k in expected} == expected


def test_pipeline_name_role_description(built, tpl):
    stack = built["build"]
    tpl.has_resource_properties("AWS::SageMaker::Pipeline", {
        "PipelineName": PIPELINE, "PipelineDescription": "Trains and registers fraud-detection",
        "RoleArn": {"Fn::GetAtt": [_id(stack, stack.pipeline_role), "Arn"]}})
    tpl.has_resource_properties("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [Match.object_like(
        {"Principal": {"Service": "sagemaker.amazonaws.com"}})]}})


def test_definition_is_inline_with_exactly_the_placeholders_it_uses(body_and_variables):
    body, variables = body_and_variables
    assert set(re.findall(r"\$\{([A-Za-z:]+)\}", body)) == set(variables) == {
        "ExecutionRoleArn", "DataBucket", "ScriptsBucket", "ScriptsArchiveKey", "XGBoostImage", "SKLearnImage",
        "ModelMonitorImage"}
    for image in ("XGBoostImage", "SKLearnImage", "ModelMonitorImage"):
        account = variables[image]["Fn::Sub"][1]["Account"]["Fn::FindInMap"]
        assert account[:2] == ["SageMakerImageRegistries", {"Ref": "AWS::Region"}]
    assert variables["DataBucket"]["Fn::ImportValue"].startswith("Foundation:")
    assert variables["ScriptsArchiveKey"].endswith(".zip")


def test_definition_declares_the_course_parameters(built, body_and_variables):
    declared = [p["Name"] for p in json.loads(body_and_variables[0])["Parameters"]]
    assert declared == list(COURSE_PARAMETERS) == list(built["build"].pipeline.parameter_names)


def test_pipeline_waits_for_every_policy_of_its_role(built, tpl):
    stack = built["build"]
    role = stack.pipeline_role
    expected = {stack.get_logical_id(p.node.default_child)
                for p in (stack.pipeline.policy, role.base_policy, role.node.find_child("DefaultPolicy"))}
    (pipeline,) = tpl.find_resources("AWS::SageMaker::Pipeline").values()
    assert set(pipeline["DependsOn"]) == expected


def test_pipeline_role_may_run_its_jobs_and_register_into_its_group_only(built, result):
    stack = built["build"]
    perms = {p for p in _perms(result, stack, stack.pipeline_role) if p[0].startswith(("sagemaker:", "iam:"))}
    jobs = [_j(_sm_arn(f"{kind}/pipelines-*")) for kind in ("processing-job", "training-job", "transform-job")]
    job_actions = [f"sagemaker:{verb}{kind}Job" for verb in ("Create", "Describe", "Stop")
                   for kind in ("Processing", "Training", "Transform")] + ["sagemaker:AddTags"]
    experiments = [_j(_sm_arn(f"{kind}/*")) for kind in ("experiment", "experiment-trial", "experiment-trial-component")]
    experiment_actions = [
        "sagemaker:CreateExperiment", "sagemaker:CreateTrial", "sagemaker:CreateTrialComponent",
        "sagemaker:AssociateTrialComponent", "sagemaker:UpdateTrialComponent", "sagemaker:DescribeExperiment",
        "sagemaker:DescribeTrial", "sagemaker:DescribeTrialComponent", "sagemaker:AddTags"]
    registry = [_j(_sm_arn(f"model-package-group/{GROUP}")), _j(_sm_arn(f"model-package/{GROUP}/*"))]
    register_actions = ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:AddTags"]
    own_arn = _j({"Fn::GetAtt": [_id(stack, stack.pipeline_role), "Arn"]})
    assert perms == ({(a, r) for a in job_actions for r in jobs}
                     | {(a, r) for a in experiment_actions for r in experiments}
                     | {(a, r) for a in register_actions for r in registry}
                     | {("iam:PassRole", own_arn)})
    tpl = result.template("ModelBuild")
    tpl.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([{
        "Sid": "PassOwnRoleToSageMaker", "Effect": "Allow", "Action": "iam:PassRole", "Resource": json.loads(own_arn),
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}])}})


def test_run_policy_scopes_data_and_code(built, tpl, body_and_variables):
    stack = built["build"]
    _, variables = body_and_variables
    bucket_arn = key_arn = {"Fn::ImportValue": Match.string_like_regexp("^Foundation:")}
    tpl.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": _id(stack, stack.pipeline_role)}],
        "PolicyDocument": {"Statement": Match.array_with([
            {"Sid": "ReadInputs", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": {"Fn::Join": ["", [bucket_arn, "/training-data/*"]]}},
            {"Sid": "ReadWriteArtifacts", "Effect": "Allow",
             "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
             "Resource": {"Fn::Join": ["", [bucket_arn, f"/{PIPELINE}/*"]]}},
            {"Sid": "ListInputsAndArtifacts", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn,
             "Condition": {"StringLike": {"s3:prefix": ["training-data/*", f"{PIPELINE}/*"]}}},
            {"Sid": "UseDataKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": key_arn},
            # The scripts archive: that one object, and listing that one key (a processing input prefix).
            Match.object_like({"Action": "s3:GetObject", "Resource": Match.object_like(
                {"Fn::Join": ["", Match.array_with([f"/{variables['ScriptsArchiveKey']}"])]})}),
            Match.object_like({"Action": "s3:ListBucket",
                               "Condition": {"StringEquals": {"s3:prefix": [variables["ScriptsArchiveKey"]]}}}),
        ])},
    })


def test_registry_group_named_after_model_and_stage_and_retained(tpl):
    tpl.has_resource("AWS::SageMaker::ModelPackageGroup", {
        "Properties": Match.object_like({"ModelPackageGroupName": GROUP}), "DeletionPolicy": "Retain"})


def test_approval_gate_and_baselines_read_the_pipeline_artifacts(built, result, tpl):
    stack = built["build"]
    tpl.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "THRESHOLD": "0.85", "METRIC_PATH": "binary_classification_metrics.accuracy.value",
        "MODEL_PACKAGE_GROUP": GROUP})}})
    for function in (stack.approval.function, stack.baselines.function):
        reads = {r for a, r in _perms(result, stack, function.role) if a == "s3:GetObject"}
        assert len(reads) == 1 and reads.pop().endswith(f'"/{PIPELINE}/*"]]}}'), function.node.path


def test_outputs(built, tpl):
    pipeline = _id(built["build"], built["build"].pipeline)
    tpl.has_output("PipelineName", {"Value": {"Ref": pipeline}})
    tpl.has_output("PipelineArn", {"Value": {"Fn::Join": ["", Match.array_with([":pipeline/", {"Ref": pipeline}])]}})
    tpl.has_output("ModelPackageGroupName", {"Value": GROUP})


def test_nag_clean(result):
    assert [f for f in result.nag_findings if not f.startswith("Annotation::")] == []
    # The imported key's policy cannot be changed here: the stack says once what it must allow.
    assert sorted(f for f in result.nag_findings if f.startswith("Annotation::")) == [
        "Annotation::mlops-cdk:key-policy-AllowCloudWatchLogsOfThisAccount (warning) at "
        "ImportedBuild/Approval/Function/Logs",
        "Annotation::mlops-cdk:key-policy-AllowEventBridgeDeadLettersOfThisAccount (warning) at "
        "ImportedBuild/Approval/Function/DeadLetterQueue",
    ]


@pytest.mark.parametrize("stack", ["ModelBuild", "TeamBuild", "ImportedBuild", "Pipelines", "OnImported", "Consumer"])
def test_lint_clean(result, stack):
    assert result.lint(stack) == []


@pytest.mark.parametrize("stack", ["ModelBuild", "Pipelines"])
def test_logical_ids(result, stack, json_snapshot):
    assert logical_ids(result.json(stack)) == json_snapshot


# ------------------------------------------------------------ bring your own resources
def test_model_build_on_a_teams_own_resources_without_foundation(built, result):
    stack = built["team_build"]
    tpl = result.template("TeamBuild")
    tpl.has_resource_properties("AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupName": "mlops-churn-dev"})
    tpl.has_resource_properties("AWS::SageMaker::Pipeline", {"PipelineName": "mlops-churn-dev-training"})
    team_bucket = {"Fn::ImportValue": Match.string_like_regexp("^Team:")}
    tpl.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": _id(stack, stack.pipeline_role)}],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like(
            {"Sid": "ReadInputs", "Resource": {"Fn::Join": ["", [team_bucket, "/training-data/*"]]}})])}})
    tpl.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like(
        {"TOPIC_ARN": {"Fn::ImportValue": Match.string_like_regexp("^Team:")}})}})
    assert [s.stack_name for s in stack.dependencies] == ["Team"]


def test_model_build_on_imported_resources_with_a_json_definition(built, result):
    stack = built["imported_build"]
    assert stack.pipeline.parameter_names == ("Reason",)
    tpl = result.template("ImportedBuild")
    tpl.has_resource_properties("AWS::SageMaker::Pipeline", {"PipelineName": "mlops-risk-dev-training"})
    objects = {"Fn::Join": ["", ["arn:", PARTITION, ":s3:::team-ml-data/mlops-risk-dev-training/*"]]}
    perms = _perms(result, stack, stack.pipeline_role)
    assert {("s3:PutObject", _j(objects)), ("kms:Decrypt", _j(imported_key())),
            ("kms:GenerateDataKey", _j(imported_key()))} <= perms
    tpl.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like(
        {"TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts", "MODEL_PACKAGE_GROUP": "risk-models"})}})
    assert stack.dependencies == []  # imports are literal names and ARNs


def imported_key() -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# ---------------------------------------------------------------- SageMakerPipeline
def test_pipeline_on_a_plain_role_gets_its_grants_in_its_own_policy(built, result):
    stack, plain, team = built["stack"], built["plain"], built["team"]
    tpl = result.template("Pipelines")
    policy = _id(stack, plain.policy)
    tpl.has_resource("AWS::SageMaker::Pipeline", {
        "Properties": Match.object_like({"PipelineName": "plain-training", "PipelineDescription": "A small pipeline",
                                         "RoleArn": {"Fn::GetAtt": [_id(stack, team.execution_role), "Arn"]}}),
        "DependsOn": [policy]})
    bucket = {"Fn::GetAtt": [_id(stack, team.data_bucket), "Arn"]}
    key = {"Fn::GetAtt": [_id(stack, team.data_key), "Arn"]}
    perms = _perms(result, stack, team.execution_role)
    assert {p for p in perms if p[0].startswith(("s3:", "kms:")) and "cdk-" not in p[1]} == {
        ("s3:GetObject", _objects(bucket, "training-data/*")),
        *((a, _objects(bucket, "plain-training/*")) for a in ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload")),
        ("s3:ListBucket", _j(bucket)),
        ("kms:Decrypt", _j(key)), ("kms:GenerateDataKey", _j(key)),
    }
    # Only the scripts archive of the bootstrap bucket, never the whole bucket.
    ((get, archive), (listing, bootstrap_bucket)) = sorted(p for p in perms if "cdk-" in p[1])
    assert (get, listing) == ("s3:GetObject", "s3:ListBucket")
    assert archive.endswith('.zip"]]}') and "/" not in bootstrap_bucket.split("s3:::")[1]


def test_foreign_placeholders_stay_literal(result):
    body = Capture()
    result.template("Pipelines").has_resource_properties("AWS::SageMaker::Pipeline", {
        "PipelineName": "plain-training", "PipelineDefinition": {"PipelineDefinitionBody": {"Fn::Sub": [body, {
            "ExecutionRoleArn": Match.any_value(), "DataBucket": Match.any_value(),
            "ScriptsBucket": Match.any_value(), "ScriptsArchiveKey": Match.any_value()}]}}})
    assert "${!NotOurs}" in body.as_string()


def test_pipeline_on_imported_roles(built, result):
    tpl = result.template("OnImported")
    # A mutable imported role: the pipeline's own policy is attached to it by name.
    tpl.has_resource_properties("AWS::IAM::Policy", {
        "Roles": ["team-sagemaker"],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Sid": "ListInputsAndArtifacts",
            "Condition": {"StringLike": {"s3:prefix": ["raw/*", "imported-role/*"]}}})])}})
    tpl.has_resource("AWS::SageMaker::Pipeline", {
        "Properties": Match.object_like({"PipelineName": "imported-role",
                                         "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/team-sagemaker"}),
        "DependsOn": [_id(built["imported_stack"], built["on_imported_role"].policy)]})
    # An immutable one gets no policy (it must allow all of it already), and the pipeline waits for nothing.
    tpl.resource_count_is("AWS::IAM::Policy", 1)
    tpl.has_resource("AWS::SageMaker::Pipeline", {
        "Properties": Match.object_like({"PipelineName": "immutable-role"}), "DependsOn": Match.absent()})


def test_large_definition_goes_to_s3_and_mixed_case_names_lower_case_arns(built, result):
    stack, big = built["stack"], built["big"]
    definition = Capture()
    result.template("Pipelines").has_resource_properties("AWS::SageMaker::Pipeline", {
        "PipelineName": "Big-Training", "PipelineDefinition": definition})
    assert set(definition.as_object()) == {"PipelineDefinitionS3Location"}
    assert definition.as_object()["PipelineDefinitionS3Location"]["Key"].endswith(".json")
    # SageMaker lower-cases names in ARNs; CloudFormation cannot lower-case a reference, so this one is literal.
    assert stack.resolve(big.pipeline_arn) == _sm_arn("pipeline/big-training")
    assert stack.resolve(big.pipeline_name) == {"Ref": _id(stack, big)}


def test_ipipeline_attributes_and_importers(built):
    stack, plain, by_name, by_arn = built["stack"], built["plain"], built["by_name"], built["by_arn"]
    for pipeline in (plain, by_name, by_arn):
        assert isinstance(pipeline.pipeline_ref, sagemaker_refs.PipelineReference)
    assert stack.resolve(plain.pipeline_arn) == {"Fn::Join": ["", [
        "arn:", PARTITION, ":sagemaker:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":pipeline/",
        {"Ref": _id(stack, plain)}]]}
    assert (by_name.pipeline_name, stack.resolve(by_name.pipeline_arn)) == (
        "Nightly-Features", _sm_arn("pipeline/nightly-features"))
    assert (by_arn.pipeline_name, by_arn.pipeline_arn) == (
        "churn-training", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/churn-training")
    assert (by_arn.env.account, by_arn.env.region) == (ACCOUNT, REGION)


def test_scheduler_starts_ours_and_an_imported_pipeline(built, result):
    stack = built["stack"]
    tpl = result.template("Pipelines")
    for arn in (built["plain"].pipeline_arn, built["by_name"].pipeline_arn):
        target = Capture()
        tpl.has_resource_properties("AWS::Scheduler::Schedule", {"Target": Match.object_like({
            "Arn": stack.resolve(arn), "RoleArn": target,
            "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "Reason", "Value": "Scheduled"}]}})})
        role = target.as_object()["Fn::GetAtt"][0]
        assert role_permissions(result.json("Pipelines"), {"Ref": role}) == {
            ("sagemaker:StartPipelineExecution", _j(stack.resolve(arn)))}


def test_another_stack_refers_to_the_pipeline_and_depends_on_its_stack(built, result):
    consumer, caller = built["consumer"], built["caller"]
    perms = role_permissions(result.json("Consumer"), {"Ref": _id(consumer, caller)})
    assert {a for a, _ in perms} == {"sagemaker:StartPipelineExecution", "sagemaker:DescribePipeline",
                                     "sagemaker:ListPipelineExecutions", "sagemaker:DescribePipelineExecution",
                                     "sagemaker:ListPipelineExecutionSteps"}
    assert all("Fn::ImportValue" in r and "ModelBuild:" in r for _, r in perms)
    assert any(r.endswith('"/execution/*"]]}') for _, r in perms)
    assert "ModelBuild" in [s.stack_name for s in consumer.dependencies]


# ----------------------------------------------------------------------- moto
@mock_aws
def test_synthesized_definition_creates_and_starts_in_moto(body_and_variables):
    body, variables = body_and_variables
    values = {name: f"dummy-{name.lower()}" for name in variables}
    values["ExecutionRoleArn"] = "arn:aws:iam::123456789012:role/pipeline"
    definition = re.sub(r"\$\{([A-Za-z]+)\}", lambda m: values[m.group(1)], body).replace("${!", "${")
    client = boto3.client("sagemaker", region_name="eu-west-1")
    arn = client.create_pipeline(PipelineName=PIPELINE, PipelineDefinition=definition,
                                 RoleArn=values["ExecutionRoleArn"])["PipelineArn"]
    assert arn.endswith(f":pipeline/{PIPELINE}")
    overrides = [{"Name": "Reason", "Value": "DataDrift"}, {"Name": "TrainingRounds", "Value": "50"}]
    execution = client.start_pipeline_execution(PipelineName=PIPELINE, PipelineParameters=overrides)[
        "PipelineExecutionArn"]
    assert client.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution)["PipelineParameters"] == overrides
    stored = client.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution)
    assert json.loads(stored["PipelineDefinition"]) == json.loads(definition)


# ---------------------------------------------------------------- PipelineDefinition
def test_lazy_definition_builds_once_when_first_read():
    calls = []

    def build():
        calls.append(1)
        return PipelineDefinition.from_json(_definition([_step("A")], [{"Name": "Reason", "Type": "String"}]))

    definition = PipelineDefinition.lazy(build)
    assert calls == []
    assert definition.parameter_names == ("Reason",) and definition.placeholders == frozenset()
    assert definition.scripts_dir is None and definition.artifact_prefix is None
    assert calls == [1]


# ------------------------------------------------------------------ bad input
def _pipeline(definition=None, **overrides):
    def factory(stack):
        team = own_resources(stack)
        props = dict(definition=definition or PipelineDefinition.from_json(_definition([_step("A")])),
                     pipeline_name="p", role=team.execution_role, data_bucket=team.data_bucket)
        SageMakerPipeline(stack, "P", **{**props, **overrides})
    return factory


@pytest.mark.parametrize(
    "text, message",
    [
        (_definition([_step("A"), _step("A")]), "step name 'A' is used more than once"),
        (_definition([_step("A", Input={"Get": "Parameters.Missing"})]), "undeclared parameter 'Missing'"),
        (_definition([_step("A", Input={"Get": "Steps.Nope.Properties.X"})]), "unknown step 'Nope'"),
        (_definition([_step("A", Blob="x" * (1024 * 1024 + 1))]), "over SageMaker's limit"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_definitions_fail_where_they_enter(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        PipelineDefinition.from_json(text)


@pytest.mark.parametrize(
    "factory, owner, prop",
    [
        (lambda s: PipelineDefinition.from_json(b"{}"), "PipelineDefinition", "text"),
        (lambda s: PipelineDefinition.from_json(SMALL, scripts_dir="/no/such/folder"), "PipelineDefinition",
         "scripts_dir"),
        (lambda s: PipelineDefinition.lazy("not callable"), "PipelineDefinition", "build"),
        (lambda s: _pipeline(PipelineDefinition.lazy(lambda: "{}"))(s), "PipelineDefinition", "build"),
        (_pipeline(definition_location="ftp"), "SageMakerPipeline", "definition_location"),
        (_pipeline(role=f"arn:aws:iam::{ACCOUNT}:role/x"), "SageMakerPipeline", "role"),
        (_pipeline(description="x" * 3073), "SageMakerPipeline", "description"),
        (_pipeline(pipeline_name="my_pipeline"), "SageMakerPipeline", "pipeline_name"),
        (_pipeline(pipeline_name="p" * 257), "SageMakerPipeline", "pipeline_name"),
        (_pipeline(input_prefix="training-data"), "SageMakerPipeline", "input_prefix"),
        (_pipeline(input_prefix="/training-data/"), "SageMakerPipeline", "input_prefix"),
        (lambda s: _pipeline(SMALL)(s), "SageMakerPipeline", "definition"),
        (lambda s: _pipeline(PipelineDefinition.from_json(SMALL))(s), "SageMakerPipeline", "definition"),
        (_pipeline(PipelineDefinition.from_json(_definition([_step("A", R="${ExecutionRoleArn}",
                                                                   Blob="x" * (INLINE_LIMIT_BYTES + 1))]))),
         "SageMakerPipeline", "definition"),
        (_pipeline(PipelineDefinition.from_json(_definition([_step("A", Blob="x" * (INLINE_LIMIT_BYTES + 1))])),
                   definition_location="inline"), "SageMakerPipeline", "definition_location"),
        (lambda s: SageMakerPipeline.from_pipeline_name(s, "X", "a_b"), "SageMakerPipeline", "pipeline_name"),
        (lambda s: SageMakerPipeline.from_pipeline_arn(s, "X", "churn-training"), "SageMakerPipeline",
         "pipeline_arn"),
        (lambda s: SageMakerPipeline.from_pipeline_arn(s, "X", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/e"),
         "SageMakerPipeline", "pipeline_arn"),
    ],
)
def test_bad_props_name_the_owner_and_prop(factory, owner, prop):
    with pytest.raises(ValueError, match=rf"^{owner} '{prop}': invalid value .*; allowed: "):
        factory(Stack(App(), "S"))


def test_a_definition_built_for_another_pipeline_name_is_refused():
    """Its steps would write where the role may not: the grants follow the construct's pipeline_name."""
    stack = Stack(App(), "S")
    team = own_resources(stack)

    class BuiltForAnotherName:  # what build_training_pipeline(pipeline_name="other-training") hands over
        scripts_dir, artifact_prefix = None, "other-training/"

        def render(self):
            return _definition([_step("A")]), frozenset()

    definition = PipelineDefinition.from_training_pipeline(BuiltForAnotherName())
    with pytest.raises(ValueError, match=r"^SageMakerPipeline 'definition': .*'p/'"):
        SageMakerPipeline(stack, "P", definition=definition, pipeline_name="p", role=team.execution_role,
                          data_bucket=team.data_bucket)


def test_every_documented_placeholder_resolves():
    from mlops_cdk.constructs.build.sagemaker_pipeline import _RESOLVERS
    from mlops_cdk.pipeline_defs import PLACEHOLDERS, PSEUDO_PARAMETERS

    assert set(_RESOLVERS) | PSEUDO_PARAMETERS == set(PLACEHOLDERS)
    # Anything else is not a placeholder: it stays literal (escaped for Fn::Sub).
    assert PipelineDefinition.from_json(_definition([_step("A", R="${Foreign}")])).placeholders == frozenset()


def test_cfn_pipeline_is_the_default_child(built):
    plain = built["plain"]
    assert isinstance(plain.node.default_child, sagemaker.CfnPipeline) and plain.node.default_child is plain.resource


def test_model_build_registers_into_an_existing_group_without_creating_one(built, result):
    stack = built["imported_build"]
    assert stack.registry.model_package_group_name == "risk-models"
    tpl = result.template("ImportedBuild")
    tpl.resource_count_is("AWS::SageMaker::ModelPackageGroup", 0)
    tpl.has_output("ModelPackageGroupName", {"Value": "risk-models"})
    tpl.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like({
        "detail": Match.object_like({"ModelPackageGroupName": ["risk-models"]})})})
    groups = {resource for action, resource in _perms(result, stack, stack.pipeline_role)
              if action == "sagemaker:CreateModelPackage"}
    assert groups and all("risk-models" in resource for resource in groups)


def test_the_course_pipeline_registers_into_the_group_it_is_given():
    from mlops_cdk.stacks.model_build import course_pipeline

    body = json.loads(course_pipeline(PlatformConfig(model_name="risk"), "risk-models").body)
    (register,) = [s for step in body["Steps"] if step["Type"] == "Condition"
                   for s in step["Arguments"]["IfSteps"] if s["Type"] == "RegisterModel"]
    assert register["Arguments"]["ModelPackageGroupName"] == "risk-models"
