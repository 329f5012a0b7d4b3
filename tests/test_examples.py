"""The example consumer app synthesizes, lint- and nag-clean, with the library imported as a user would."""

import json

import pytest

from tests.harness import ROOT, load_handler, synth




@pytest.fixture(scope="module")
def result():
    return synth(load_handler(ROOT / "examples" / "own_app.py").build)


def test_example_synthesizes_both_stacks(result):
    assert set(result.stacks) == {"RiskFoundation", "RiskScoring"}


def test_example_reads_foundation_bucket_across_stacks_limited_to_prefix(result):
    scoring = result.json("RiskScoring")
    statements = [s for r in scoring["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    reads = [s for s in statements if "s3:GetObject*" in s["Action"] and "ImportValue" in str(s["Resource"])]
    assert len(reads) == 1
    assert "/models/*" in str(reads[0]["Resource"])


def test_example_is_nag_and_lint_clean(result):
    assert result.nag_findings == []
    for stack in result.stacks:
        assert result.lint(stack) == [], stack


@pytest.fixture(scope="module")
def own_pipeline():
    return synth(load_handler(ROOT / "examples" / "own_pipeline.py").build)


def test_own_sdk_pipeline_replaces_the_course_pipeline(own_pipeline):
    template = own_pipeline.json("ChurnModelBuild")
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Pipeline"]
    body, variables = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    definition = json.loads(body)
    assert [s["Name"] for s in definition["Steps"]] == ["ComputeFeatures"]
    assert set(variables) == {"ExecutionRoleArn", "DataBucket", "SKLearnImage"}
    assert pipeline["Properties"]["PipelineName"] == "mlops-churn-dev-training"


def test_own_pipeline_example_is_nag_and_lint_clean(own_pipeline):
    assert own_pipeline.nag_findings == []
    assert own_pipeline.lint("ChurnModelBuild") == []
