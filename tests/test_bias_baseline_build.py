"""The bias baseline in the training pipeline and the model build stack.

Without facets nothing changes (the definition is byte-identical); with facets exactly three
things do: EvaluateModel's arguments, its ``features`` input, and the ``BiasBaseline`` metadata
that RegisterModel records and BaselinePublisher copies to ``locations.BIAS_BASELINE`` on approval.
The arguments are read back with the step script's own parser, as the container would.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import re
import sys
import types

import pytest
from aws_cdk.assertions import Match

from mlops_cdk import FoundationStack, ModelBuildStack, PlatformConfig, locations
from mlops_cdk.lambdas._shared import contract
from mlops_cdk.pipeline_defs import SCRIPTS_DIR, build_training_pipeline
from mlops_cdk.settings.bias import bias_facets
from tests.harness import role_permissions, synth

ARGS = {"pipeline_name": "fraud-training", "model_package_group_name": "fraud-models"}
FEATURES = PlatformConfig().monitoring_features  # the course model's input columns, in payload order
FACETS_JSON = [
    {"facet": "customer_age", "values_or_threshold": [40], "label_values_or_threshold": [1]},
    {"facet": "merchant_category_online", "values_or_threshold": ["1", "${DataBucket}", "${NotOurs}"],
     "label_values_or_threshold": [0]},
]
FACETS = bias_facets(FACETS_JSON)
PIPELINE = "mlops-fraud-detection-dev-training"
EVALUATE, REGISTER = "EvaluateModel", "RegisterModel-RegisterModel"


@pytest.fixture(scope="module")
def scripts():
    """evaluate.py and bias_baseline.py as the container imports them (from their directory)."""
    saved_path, saved_bytecode = list(sys.path), sys.dont_write_bytecode
    sys.path.insert(0, str(SCRIPTS_DIR))
    sys.dont_write_bytecode = True
    try:
        yield types.SimpleNamespace(evaluate=importlib.import_module("evaluate"),
                                    bias=importlib.import_module("bias_baseline"))
    finally:
        sys.path[:], sys.dont_write_bytecode = saved_path, saved_bytecode
        for name in ("evaluate", "bias_baseline"):
            sys.modules.pop(name, None)


def steps(definition: dict) -> dict:
    found = {}
    for step in definition["Steps"]:
        found[step["Name"]] = step
        for branch in ("IfSteps", "ElseSteps"):
            found.update(steps({"Steps": step.get("Arguments", {}).get(branch, [])}))
    return found


@pytest.fixture(scope="module")
def default_text():
    return build_training_pipeline(**ARGS).render()[0]


@pytest.fixture(scope="module")
def with_facets():
    return json.loads(build_training_pipeline(**ARGS, bias_facets=FACETS, feature_names=FEATURES).render()[0])


# ------------------------------------------------------------------ the definition
def test_no_facets_change_nothing(default_text):
    """Byte for byte, also with the feature names given (the model build stack always passes them)."""
    for extra in ({"bias_facets": ()}, {"bias_facets": [], "feature_names": FEATURES}, {"feature_names": None}):
        assert build_training_pipeline(**ARGS, **extra).render()[0] == default_text, extra
    assert "BiasBaseline" not in default_text and "--bias-facets" not in default_text


def test_facets_change_exactly_the_arguments_an_input_and_the_metadata(default_text, with_facets):
    changed = copy.deepcopy(with_facets)
    evaluate, register = steps(changed)[EVALUATE]["Arguments"], steps(changed)[REGISTER]["Arguments"]
    assert evaluate["AppSpecification"].pop("ContainerArguments")
    (features,) = [i for i in evaluate["ProcessingInputs"] if i["InputName"] == "features"]
    evaluate["ProcessingInputs"].remove(features)
    assert register["CustomerMetadataProperties"].pop(contract.BIAS_BASELINE_PROPERTY)
    assert changed == json.loads(default_text)


def test_the_script_reads_back_the_facets_and_their_columns(with_facets, scripts):
    arguments = steps(with_facets)[EVALUATE]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert len(arguments) <= 100 and all(len(a) <= 256 for a in arguments)  # CreateProcessingJob's limits
    assert "${" not in json.dumps(arguments)  # nothing for Fn::Sub to replace
    args = scripts.evaluate.parse_args(arguments)
    assert scripts.bias.facets_of(args) == FACETS_JSON
    assert args.facet_columns == f"{FEATURES.index('customer_age')},{FEATURES.index('merchant_category_online')}"


def test_long_facets_are_split_and_joined_back_in_order(scripts):
    facets = bias_facets([{"facet": name, "values_or_threshold": [f"{name}-{i}-é$" for i in range(30)]}
                          for name in FEATURES[:3]])
    definition = json.loads(build_training_pipeline(**ARGS, bias_facets=facets).render()[0])
    arguments = steps(definition)[EVALUATE]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert len(arguments) > 5 and all(len(a) <= 256 for a in arguments)
    assert not any(a.startswith("--facet-columns") for a in arguments)  # no feature names: found by name only
    assert scripts.bias.facets_of(scripts.evaluate.parse_args(arguments)) == [f.as_json() for f in facets]


def test_inputs_and_outputs_are_where_the_script_reads_and_writes(with_facets, scripts):
    evaluate = steps(with_facets)[EVALUATE]
    defaults = scripts.evaluate.parse_args([])
    (features,) = [i for i in evaluate["Arguments"]["ProcessingInputs"] if i["InputName"] == "features"]
    assert features["S3Input"]["LocalPath"] == str(defaults.features_dir)
    assert features["S3Input"]["S3Uri"] == {"Std:Join": {"On": "/", "Values": [
        {"Get": "Steps.PreprocessData.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"},
        "baseline_histogram.json"]}}
    (output,) = evaluate["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["LocalPath"] == str(defaults.output_dir)
    metadata = steps(with_facets)[REGISTER]["Arguments"]["CustomerMetadataProperties"]
    assert metadata[contract.BIAS_BASELINE_PROPERTY] == {"Std:Join": {"On": "/", "Values": [
        {"Get": f"Steps.{EVALUATE}.ProcessingOutputConfig.Outputs['{output['OutputName']}'].S3Output.S3Uri"},
        scripts.bias.FILE_NAME]}}
    assert contract.BIAS_BASELINE_PROPERTY == "BiasBaseline"


@pytest.mark.parametrize(("extra", "prop"), [
    ({"bias_facets": [{"facet": "customer_age", "values_or_threshold": [40], "label_values_or_threshold": [2]}]},
     "bias_facets[0].label_values_or_threshold"),
    ({"bias_facets": [{"facet": "age", "values_or_threshold": [40]}], "feature_names": FEATURES},
     "bias_facets[0].facet"),
    ({"bias_facets": [{"facet": "age", "values_or_threshold": []}]}, "bias_facets[0].values_or_threshold"),
    ({"bias_facets": "customer_age"}, "bias_facets"),
    ({"bias_facets": [{"facet": "a", "values_or_threshold": ["v" * 250] * 100}]}, "bias_facets"),
    ({"bias_facets": FACETS, "feature_names": ["a,b"]}, "feature_names"),
], ids=["label-2", "not-a-feature", "no-values", "not-a-list", "too-long-for-arguments", "bad-feature-names"])
def test_bad_bias_options_are_named(extra, prop):
    with pytest.raises(ValueError, match=rf"^build_training_pipeline '{re.escape(prop)}': invalid value .*; allowed: "):
        build_training_pipeline(**ARGS, **extra)


# ------------------------------------------------------------------ the stack
@pytest.fixture(scope="module")
def built():
    o = {}

    def build(app):
        foundation = FoundationStack(app, "Foundation", config=PlatformConfig())
        o["stack"] = ModelBuildStack(app, "ModelBuild", config=PlatformConfig(bias_facets=FACETS_JSON),
                                     resources=foundation.resources)

    o["result"] = synth(build)
    return o


@pytest.fixture(scope="module")
def template(built):
    return built["result"].json("ModelBuild")


@pytest.fixture(scope="module")
def deployed_definition(template):
    """The definition as CloudFormation hands it to SageMaker: Fn::Sub resolved with dummy values."""
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Pipeline"]
    body, variables = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    values = {name: f"dummy-{name.lower()}" for name in variables}
    text = re.sub(r"\$\{([A-Za-z]+)\}", lambda m: values[m.group(1)], body).replace("${!", "${")
    return json.loads(text)


def test_the_stack_builds_the_pipeline_with_the_configured_facets(deployed_definition, scripts):
    arguments = steps(deployed_definition)[EVALUATE]["Arguments"]["AppSpecification"]["ContainerArguments"]
    args = scripts.evaluate.parse_args(arguments)
    assert scripts.bias.facets_of(args) == FACETS_JSON  # "${...}" values arrive literally, unsubstituted
    assert args.facet_columns == "7,5"  # customer_age and merchant_category_online among monitoring_features
    assert [FEATURES[7], FEATURES[5]] == ["customer_age", "merchant_category_online"]
    assert {p["Name"] for p in deployed_definition["Parameters"]} == {
        "ProcessingInstanceType", "TrainingInstanceType", "InputData", "TrainingRounds", "LearningRate",
        "AccuracyThreshold", "ModelApprovalStatus", "Reason"}  # no new parameter: facets are fixed at synth
    metadata = steps(deployed_definition)[REGISTER]["Arguments"]["CustomerMetadataProperties"]
    assert set(metadata) == {"TrainingReason", contract.BASELINE_HISTOGRAM_PROPERTY, contract.BIAS_BASELINE_PROPERTY}


def test_the_publisher_copies_the_bias_baseline_to_where_the_checker_reads(built, template):
    stack = built["result"].template("ModelBuild")
    stack.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({
        "BIAS_BASELINE_KEY": locations.BIAS_BASELINE, "SOURCE_PREFIX": f"{PIPELINE}/",
        "MODEL_PACKAGE_GROUP": "mlops-fraud-detection-dev"})}})
    from mlops_cdk.constructs.monitoring.bias_drift_checker import BiasDriftChecker

    checker_default = inspect.signature(BiasDriftChecker.__init__).parameters["baseline_key"].default
    assert checker_default == locations.BIAS_BASELINE  # and it reads the data bucket (MonitoringStack)


def _object_key(resource_json: str) -> str:
    """The key part of an object ARN ``Fn::Join`` (``arn:...:<bucket>/<key>``)."""
    parts = json.loads(resource_json)["Fn::Join"][1]
    assert isinstance(parts[-1], str) and parts[-1].startswith("/"), parts
    return parts[-1][1:]


def test_the_publisher_reads_only_the_pipeline_prefix_and_writes_only_the_baseline_keys(built, template):
    publisher = built["stack"].baselines.function.role
    role = {"Ref": built["stack"].get_logical_id(publisher.node.default_child)}
    s3 = {(a, r) for a, r in role_permissions(template, role) if a.startswith("s3:")}
    reads = {_object_key(r) for a, r in s3 if a == "s3:GetObject"}
    writes = {_object_key(r) for a, r in s3 if a == "s3:PutObject"}
    assert {a for a, _ in s3} == {"s3:GetObject", "s3:PutObject"}
    assert reads == {f"{PIPELINE}/*"}  # where the pipeline writes, bias_baseline.json included
    assert writes == {locations.DATA_QUALITY_STATISTICS, locations.DATA_QUALITY_CONSTRAINTS,
                      locations.DRIFT_BASELINE, locations.BIAS_BASELINE, locations.BASELINE_MANIFEST}
    assert not any("*" in key for key in writes)


def test_lint_and_nag_clean(built):
    assert built["result"].lint("ModelBuild") == []
    assert built["result"].nag_findings_for("ModelBuild") == []
