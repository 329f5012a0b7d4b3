"""The example consumer app synthesizes, lint- and nag-clean, with the library imported as a user would."""

import json

import pytest
from aws_cdk.assertions import Capture, Match

from tests.harness import ROOT, load_handler, synth




@pytest.fixture(scope="module")
def result():
    return synth(load_handler(ROOT / "examples" / "own_app.py").build)


OWN = ("model-build", "serving", "monitoring", "retraining")


def test_one_model_on_a_foundation_and_one_on_the_teams_own_resources(result):
    assert set(result.stacks) == (
        {"risk-credit-scoring-staging-foundation", "team-shared"}
        | {f"risk-credit-scoring-staging-{part}" for part in OWN} | {f"team-churn-dev-{part}" for part in OWN})


def test_the_teams_platform_uses_its_imported_bucket_and_role(result):
    build = result.template("team-churn-dev-model-build")
    build.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Resource": {"Fn::Join": ["", Match.array_with([Match.string_like_regexp("team-churn-data/training-data/")])]}})])}})
    monitoring = result.template("team-churn-dev-monitoring")
    monitoring.resource_count_is("AWS::SageMaker::MonitoringSchedule", 0)  # monitoring_mode own
    monitoring.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "CAPTURE_BUCKET": "team-churn-data", "FEATURE_NAMES": "tenure,monthly_charges,support_calls"})}})


def test_the_teams_settings_come_from_its_config(result):
    retraining = result.template("team-churn-dev-retraining")
    retraining.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "cron(0 3 ? * MON *)"})
    retraining.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "COOLDOWN_MINUTES": "720"})}})


def test_example_is_nag_and_lint_clean(result):
    assert [f for f in result.nag_findings if not f.startswith("Annotation::")] == []
    # The imported key's policy cannot be changed by the app: each stack with functions says once what it must allow.
    warnings = [(f.split(" ")[0], f.split(" at ")[1].split("/")[0]) for f in result.nag_findings
                if f.startswith("Annotation::")]
    assert sorted(warnings) == sorted(
        (f"Annotation::mlops-cdk:key-policy-{sid}", f"team-churn-dev-{part}")
        for sid in ("AllowCloudWatchLogsOfThisAccount", "AllowEventBridgeDeadLettersOfThisAccount")
        for part in ("model-build", "monitoring", "retraining"))
    # The credit-scoring stacks are the reference platform's code under other names (test_app lints those):
    # lint what differs, the platform on the team's own resources.
    team = [name for name in result.stacks if name.startswith("team-")]
    assert {name: result.lint(name) for name in team} == {name: [] for name in team}


@pytest.fixture(scope="module")
def own_pipeline():
    return synth(load_handler(ROOT / "examples" / "own_pipeline.py").build)


def test_own_sdk_pipeline_runs_its_shipped_code_on_training_data_and_writes_its_prefix(own_pipeline, tmp_path):
    template = own_pipeline.template("ChurnModelBuild")
    definition = Capture()
    template.has_resource_properties("AWS::SageMaker::Pipeline", {
        "PipelineName": "mlops-churn-dev-training", "PipelineDefinition": definition})
    body, variables = definition.as_object()["PipelineDefinitionBody"]["Fn::Sub"]
    assert set(variables) == {"ExecutionRoleArn", "DataBucket", "SKLearnImage", "ScriptsBucket", "ScriptsArchiveKey"}
    parsed = json.loads(body)
    assert {p["Name"] for p in parsed["Parameters"]} == {"InputData", "Reason"}  # Reason: retraining triggers send it
    (step,) = parsed["Steps"]
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in step["Arguments"]["ProcessingInputs"]}
    assert inputs["code"] == "s3://${ScriptsBucket}/${ScriptsArchiveKey}"
    assert step["Arguments"]["AppSpecification"]["ContainerEntrypoint"][-1] == "compute_features.py"
    (output,) = step["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"]["Std:Join"]["Values"][:2] == ["s3://${DataBucket}", "mlops-churn-dev-training"]
    # The role may read that code and training-data/, and write exactly under the pipeline's prefix.
    data = {"Fn::ImportValue": Match.string_like_regexp("^ChurnFoundation:")}
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "ReadInputs", "Resource": {"Fn::Join": ["", [data, "/training-data/*"]]}}),
        Match.object_like({"Sid": "ReadWriteArtifacts", "Action": Match.array_with(["s3:PutObject"]),
                           "Resource": {"Fn::Join": ["", [data, "/mlops-churn-dev-training/*"]]}}),
        Match.object_like({"Action": "s3:GetObject", "Resource": {"Fn::Join": ["", Match.array_with(
            [f"/{variables['ScriptsArchiveKey']}"])]}}),
    ])}})
    # The shipped step code runs as the container runs it.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "customers.csv").write_text(
        "customer_id,tenure_months,total_charges,support_calls\nc1,24,1200,6\n")
    steps = load_handler(ROOT / "examples" / "own_pipeline_steps" / "compute_features.py")
    steps.main(["--input-dir", str(tmp_path / "data"), "--output-dir", str(tmp_path / "out"), "--reason", "Scheduled"])
    assert (tmp_path / "out" / "features.csv").read_text().splitlines() == [
        "customer_id,monthly_spend,calls_per_year", "c1,50.0,3.0"]


def test_own_pipeline_example_is_nag_and_lint_clean(own_pipeline):
    assert own_pipeline.nag_findings == []
    assert own_pipeline.lint("ChurnModelBuild") == []
