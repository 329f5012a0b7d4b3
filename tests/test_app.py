"""The reference platform as `make synth` builds it: every stack cdk-nag and cfn-lint clean; one stage or all three."""

import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import pytest

from aws_cdk import App
from aws_cdk.assertions import Match, Template

from mlops_cdk import Platform, PlatformConfig
from mlops_cdk.app_builder import build_app, enable_nag, selected_stages
from mlops_cdk.stacks.foundation import FoundationStack
from mlops_cdk import regions
from mlops_cdk._data import regions_generated
from tests.harness import ROOT, assembly, logical_ids, reference_context, resources_of_type, synth
from tests.region_gates import MODEL_MONITOR_GAPS, MONITOR_TYPES, holds, mentions, region_gates, schema_types
from tools.lint_templates import lint_template

RELEASED = json.loads((ROOT / "tests" / "data" / "released_stateful_ids.json").read_text())["variants"]

PARTS = ("foundation", "feature-store", "model-build", "serving", "monitoring", "retraining")
PACKAGE = "arn:aws:sagemaker:us-east-1:111122223333:model-package/mlops-fraud-detection/3"


# The public API's lazy names, then app.py as `cdk synth` runs it; after each, the sagemaker SDK modules loaded.
_SDK = "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sagemaker', 'sagemaker_core')))"
_RUN_APP = ("import runpy, sys, mlops_cdk; from mlops_cdk import FoundationStack, ModelBuildStack, RetrainingStack; "
            f"{_SDK}; runpy.run_path('app.py', run_name='__main__'); {_SDK}")


@pytest.fixture(scope="module")
def platform_run():
    """The reference platform as `cdk synth` builds it: app.py in its own process, with cdk-nag and aws-cdk-lib's
    built-in template validation on (the test harness turns the latter off: cfn-lint checks every template)."""
    outdir = pathlib.Path(tempfile.mkdtemp(prefix="mlops-cdk-app-"))
    env = {k: v for k, v in os.environ.items() if k != "CDK_VALIDATION"}
    env.update(CDK_CONTEXT_JSON=json.dumps(reference_context()), CDK_OUTDIR=str(outdir))
    run = subprocess.run([sys.executable, "-c", _RUN_APP], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    after_import, after_app = run.stdout.strip().splitlines()[-2:]
    assert after_import == "[]", "importing the library and its stacks loaded the sagemaker SDK"
    return assembly(outdir), after_app


@pytest.fixture(scope="module")
def platform(platform_run):
    return platform_run[0]


def test_the_default_synth_imports_no_sagemaker_sdk_and_deploys_the_shipped_definition(platform_run):
    """The course pipeline of the reference configuration comes pre-rendered (pipeline_defs.prerendered)."""
    from mlops_cdk.pipeline_defs import prerendered
    from mlops_cdk.pipeline_defs.training_pipeline import build_training_pipeline
    from mlops_cdk.stacks.model_build import course_pipeline_arguments

    shipped = json.loads(prerendered.DATA_FILE.read_text())
    result, sdk_modules = platform_run
    assert sdk_modules == "[]", "the default synth imported the sagemaker SDK"
    (pipeline,) = [r for r in result.json("mlops-fraud-detection-dev-model-build")["Resources"].values()
                   if r["Type"] == "AWS::SageMaker::Pipeline"]
    body = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"][0]
    args = course_pipeline_arguments(PlatformConfig.from_context(reference_context()))
    entry = shipped["definitions"][prerendered.cache_key(build_training_pipeline(**args).arguments)]
    assert json.loads(body) == entry["definition"]


def test_default_platform_has_every_stack(platform):
    assert set(platform.stacks) == {f"mlops-fraud-detection-dev-{part}" for part in PARTS}


def test_reference_platform_passes_cdk_nag_and_aws_cdk_libs_validation(platform):
    assert platform.nag_findings == []


def test_reference_platform_is_lint_clean(platform):
    findings = {name: platform.lint(name) for name in platform.stacks}
    assert findings == {name: [] for name in platform.stacks}


def test_default_serving_deploys_no_endpoint_until_a_package_is_configured(platform):
    serving = platform.json("mlops-fraud-detection-dev-serving")
    assert not [r for r in serving["Resources"].values() if r["Type"].startswith("AWS::SageMaker::")]
    assert [r for r in serving["Resources"].values() if r["Type"] == "AWS::IAM::Role"]


# -------------------------------------------------------------- all stages
@pytest.fixture(scope="module")
def all_stages():
    """`-c stages=all` with one package version promoted to every stage, in mode 'both' with every Model Monitor job
    the configuration can ask for (ground truth, a bias facet, explainability) next to the own checkers, checked by
    every compliance pack (``compliance_packs=all``: AwsSolutions, HIPAA, NIST 800-53 R5, PCI DSS 3.2.1)."""
    context = {**reference_context(), "stages": "all",
               "serving": {stage: {"model_package_arn": PACKAGE} for stage in ("dev", "staging", "prod")},
               "monitoring_mode": "both", "ground_truth_s3_uri": "s3://labels-bucket/fraud/",
               "bias_facets": [{"facet": "customer_age", "values_or_threshold": [40], "label_values_or_threshold": [1]}],
               "explainability": {"shap_baseline": [[0] * 9]}, "compliance_packs": "all"}
    platforms = {}

    def build(app):
        platforms.update(build_app(app, context))
        enable_nag(app, packs=platforms["dev"].config.compliance_packs)

    return synth(build, nag=False), platforms


def test_stages_all_synthesizes_three_platforms(all_stages):
    result, platforms = all_stages
    assert set(platforms) == {"dev", "staging", "prod"}
    assert set(result.stacks) == {f"mlops-fraud-detection-{stage}-{part}"
                                  for stage in ("dev", "staging", "prod") for part in PARTS}
    for stage, built in platforms.items():
        assert isinstance(built, Platform) and built.config.stage == stage
        assert built.serving.endpoint is not None and built.serving.monitored_endpoint.deployed


def _stacks(built):
    return [built.foundation, built.feature_store, built.model_build, built.serving, built.monitoring,
            built.retraining]


def test_only_prod_stacks_have_termination_protection_the_foundation_included(all_stages):
    _, platforms = all_stages
    for stage, built in platforms.items():
        for stack in _stacks(built):
            assert stack.termination_protection is (stage == "prod"), stack.stack_name


def test_stack_dependencies_follow_from_the_objects_they_exchange(all_stages):
    _, platforms = all_stages
    built = platforms["prod"]

    def depends_on(stack):
        return {s.stack_name for s in stack.dependencies}

    prefix = "mlops-fraud-detection-prod"
    assert depends_on(built.monitoring) >= {f"{prefix}-serving", f"{prefix}-foundation"}
    assert depends_on(built.retraining) >= {f"{prefix}-model-build", f"{prefix}-monitoring"}
    assert depends_on(built.foundation) == set()


# ------------------------------------------------- no replacement of deployed data
def _released_ids_missing(result, variant):
    missing = {}
    for stack, ids in RELEASED[variant].items():
        now = logical_ids(result.json(stack)) if stack in result.stacks else {}
        lost = {k: v for k, v in ids.items() if now.get(k) != v}
        if lost:
            missing[stack] = lost
    return missing


def test_the_reference_app_keeps_every_released_stateful_logical_id(platform):
    assert _released_ids_missing(platform, "default") == {}


def test_all_stages_with_endpoints_keep_every_released_stateful_logical_id(all_stages):
    result, _ = all_stages
    assert _released_ids_missing(result, "all-stages-with-endpoints") == {}


def test_alert_subscriptions_keep_their_released_logical_ids():
    config = PlatformConfig.from_context({**reference_context(), "alert_emails": ["ops@example.com"]})
    result = synth(lambda app: FoundationStack(app, "mlops-fraud-detection-dev-foundation", config=config), nag=False)
    ids = RELEASED["emails"]["mlops-fraud-detection-dev-foundation"]
    assert {k: v for k, v in ids.items() if logical_ids(result.json()).get(k) != v} == {}


def test_all_stages_nag_clean_and_serving_lint_clean(all_stages):
    result, _ = all_stages
    assert result.nag_findings == []
    serving = [name for name in result.stacks if name.endswith("-serving")]
    assert {name: result.lint(name) for name in serving} == {name: [] for name in serving}


_STAGE_RE = re.compile(r"(?<![a-z])(dev|staging|prod)(?![a-z])")  # also in glue_table_names


def _by_stage(result, part):
    return {stage: json.loads(_STAGE_RE.sub("<stage>", json.dumps(result.json(f"mlops-fraud-detection-{stage}-{part}"))))
            for stage in ("dev", "staging", "prod")}


def _diff(a, b, path=""):
    """Leaf paths where two JSON values differ (a missing key is a difference at that key)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _diff(a.get(key), b.get(key), f"{path}/{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}/{i}")]
    return [] if a == b else [path]


# Where per-stage serving settings land in the serving template, and nowhere else.
_PER_STAGE = (
    r"^/Resources/EndpointConfig\w+/Properties/ProductionVariants/0/(InstanceType|InitialInstanceCount)$",
    r"^/Resources/Endpoint\w+/Properties/DeploymentConfig/BlueGreenUpdatePolicy/",
    r"^/Resources/Endpoint\w+/Properties/(RetainAllVariantProperties|ExcludeRetainedVariantProperties)$",
    r"^/Resources/EndpointScalableTarget\w+$",  # autoscaling: absent in dev
    r"^/Resources/EndpointInvocationsPerInstance\w+$",
    r"^/Resources/EndpointScalableTarget\w+/Properties/(MinCapacity|MaxCapacity)$",
)


def test_stage_templates_differ_only_in_per_stage_settings(all_stages):
    result, _ = all_stages
    for part in ("foundation", "feature-store"):
        templates = _by_stage(result, part)
        assert templates["dev"] == templates["staging"] == templates["prod"], part
    # Names hashed from the full stack path or resolved properties (Lambda invoke
    # permissions, DLQ statement ids, monitoring job definitions, the feature-attribution job
    # whose config and grant name the stage's content-named model) are the only differences these stacks may have.
    for part in ("model-build", "monitoring", "retraining"):
        templates = _by_stage(result, part)
        for other in ("staging", "prod"):
            differences = _diff(templates["dev"], templates[other])
            allowed = r"AllowEventRule|/Sid$|JobDefinitionName$|^/Resources/FeatureAttribution"
            assert [d for d in differences if not re.search(allowed, d)] == [], part
    serving = _by_stage(result, "serving")
    differences = set()
    for other in ("staging", "prod"):
        differences |= set(_diff(serving["dev"], serving[other]))
    unexpected = [d for d in differences if not any(re.search(p, d) for p in _PER_STAGE)]
    assert unexpected == []
    # ... and the settings do differ where the stages differ.
    assert any("InstanceType" in d for d in differences)
    assert any("BlueGreenUpdatePolicy" in d for d in differences)
    assert any("ScalableTarget" in d for d in differences)


# ----------------------------------------------------------- stage selection
@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None), ("", None), ("all", ("dev", "staging", "prod")), ("prod", ("prod",)),
        ("dev, prod,dev", ("dev", "prod")), (["staging", "prod"], ("staging", "prod")),
    ],
)
def test_selected_stages(value, expected):
    assert selected_stages({"stages": value}) == expected


@pytest.mark.parametrize("value", ["qa", "dev,qa", "ALL", 3])
def test_unknown_stage_is_an_error(value):
    with pytest.raises(ValueError, match="config 'stages': invalid value"):
        selected_stages({"stages": value})


def test_one_model_package_arn_for_several_stages_is_refused():
    with pytest.raises(ValueError, match="config 'model_package_arn'.*serving.<stage>.model_package_arn"):
        build_app(App(), {**reference_context(), "stages": "all", "model_package_arn": PACKAGE})


def test_single_stage_from_context():
    app = App(context=reference_context())
    platforms = build_app(app, {**reference_context(), "stage": "staging", "model_package_arn": PACKAGE})
    assert set(platforms) == {"staging"}
    assert platforms["staging"].serving.settings.model_package_arn == PACKAGE
    names = {child.node.id for child in app.node.children if child.node.id != "Tree"}
    assert names == {f"mlops-fraud-detection-staging-{part}" for part in PARTS}  # the stage names every stack


def test_retraining_switches_remove_their_triggers():
    context = {**reference_context(), "retraining_scheduled": "false", "retraining_on_drift": "false",
               "retraining_on_new_data": "true", "retraining_notifications": "false"}
    result = synth(lambda app: build_app(app, context), nag=False)
    rules = [r["Properties"] for r in result.json("mlops-fraud-detection-dev-retraining")["Resources"].values()
             if r["Type"] == "AWS::Events::Rule"]
    assert [r["EventPattern"]["detail-type"] for r in rules] == [["Object Created"]]


def test_without_an_endpoint_monitoring_runs_only_the_own_checker(platform):
    monitoring = platform.json("mlops-fraud-detection-dev-monitoring")
    types = {r["Type"] for r in monitoring["Resources"].values()}
    assert "AWS::SageMaker::MonitoringSchedule" not in types
    functions = [r for r in monitoring["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    env = [f["Properties"]["Environment"]["Variables"] for f in functions if "FEATURE_NAMES" in
           f["Properties"].get("Environment", {}).get("Variables", {})]
    assert env and env[0]["FEATURE_NAMES"] == ",".join(PlatformConfig().monitoring_features)


def test_with_an_endpoint_model_monitor_joins_and_alarms_feed_retraining(all_stages):
    result, platforms = all_stages
    monitoring = result.json("mlops-fraud-detection-prod-monitoring")
    assert any(r["Type"] == "AWS::SageMaker::MonitoringSchedule" for r in monitoring["Resources"].values())
    retraining = result.json("mlops-fraud-detection-prod-retraining")
    (alarm_rule,) = [r["Properties"] for r in retraining["Resources"].values() if r["Type"] == "AWS::Events::Rule"
                     and r["Properties"].get("EventPattern", {}).get("detail-type") == ["CloudWatch Alarm State Change"]]
    alarms = platforms["prod"].monitoring.alarms
    assert len(alarm_rule["EventPattern"]["resources"]) == len(alarms.feature_drift_alarms) + 1


def test_no_stack_hard_codes_a_region_account_or_arn(all_stages):
    result, _ = all_stages
    for name, template in result.stacks.items():
        # The image table names regions and AWS's registries; region gates (Conditions, Rules) name the regions
        # that lack a part (mlops_cdk.regions); PACKAGE is this test's configured input.
        text = json.dumps({k: v for k, v in template.items()
                           if k not in ("Mappings", "Conditions", "Rules")}).replace(PACKAGE, "")
        assert not re.search(r"\b(us|eu|ap|sa|ca|me|af|il|cn)-[a-z]+-\d\b", text), name
        assert not re.search(r"(?<![\w.])\d{12}(?![\w.])", text), name
        assert "arn:aws:" not in text, name


def test_no_iam_policy_uses_full_access_managed_policies(all_stages):
    result, _ = all_stages
    for name, template in result.stacks.items():
        assert "FullAccess" not in json.dumps(template), name


# ---------------------------------------------------------------- app.py
def test_a_configuration_error_is_one_line_without_traceback(monkeypatch):
    """app.py exits with the message (status 1, the message alone on stderr: what sys.exit(str) does)."""
    import runpy

    import aws_cdk

    context = {**reference_context(), "serving": {"prod": {"instance_type": "ml.p3.2xlarg"}}}
    # The context `cdk synth` would pass (jsii's node process keeps the environment it started with).
    monkeypatch.setattr(aws_cdk, "App", lambda: App(context=context, outdir=tempfile.mkdtemp(prefix="mlops-cdk-app-")))
    with pytest.raises(SystemExit) as exit:
        runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
    message = ("mlops-cdk: config 'serving.prod.instance_type': invalid value 'ml.p3.2xlarg'; "
               "allowed: a SageMaker instance type")
    assert isinstance(exit.value.code, str) and "\n" not in exit.value.code
    assert exit.value.code.startswith(message), exit.value.code


# -------------------------------------------------------------- every commercial region
# all_stages has an endpoint in every stage and mode 'both' with every Model Monitor job config can ask for; prod's
# templates are linted by cfn-lint's Python API for all 33 regions in one runner. What they leave out where is
# checked against cfn-lint's provider schemas, not against the generated table.
def _prod(part: str) -> str:
    return f"mlops-fraud-detection-prod-{part}"


def test_the_platform_uses_every_gapped_sagemaker_type(all_stages):
    """... so that the lint below has something to catch."""
    types = {r["Type"] for t in all_stages[0].stacks.values() for r in t["Resources"].values()}
    assert {"AWS::SageMaker::FeatureGroup", "AWS::SageMaker::ModelPackageGroup", "AWS::SageMaker::Model",
            "AWS::SageMaker::Endpoint", *MONITOR_TYPES} <= types


GAPPED_PARTS = ("feature-store", "model-build", "serving", "monitoring")


@pytest.mark.parametrize("part", GAPPED_PARTS)
def test_lint_clean_in_every_commercial_region(all_stages, part):
    assert lint_template(all_stages[0].template_paths[_prod(part)], regions=regions_generated.COMMERCIAL_REGIONS) == []


def test_the_other_stacks_use_only_types_every_commercial_region_has(all_stages):
    """What makes a template lint differently per region (E3006) cannot happen to them: no need to lint 33 times."""
    everywhere = frozenset.intersection(*(schema_types(r) for r in regions_generated.COMMERCIAL_REGIONS))
    for part in set(PARTS) - set(GAPPED_PARTS):
        types = {r["Type"] for r in all_stages[0].json(_prod(part))["Resources"].values()}
        assert types - {"AWS::CDK::Metadata"} <= everywhere, part


def test_the_lint_would_catch_a_missing_gate(all_stages):
    """The same template without its conditions fails E3006 where the type is missing."""
    template = json.loads(json.dumps(all_stages[0].json(_prod("feature-store"))))
    for resource in template["Resources"].values():
        resource.pop("Condition", None)
    for output in template.get("Outputs", {}).values():
        output.pop("Condition", None)
    path = all_stages[0].template_paths[_prod("feature-store")].with_name("ungated.template.json")
    path.write_text(json.dumps(template))
    findings = lint_template(path, regions=regions_generated.COMMERCIAL_REGIONS)
    assert any(f.startswith("E3006") and "AWS::SageMaker::FeatureGroup" in f for f in findings)


@pytest.mark.parametrize("part", PARTS)
def test_parts_are_left_out_exactly_where_cloudformation_lacks_their_types(all_stages, part):
    """Per region condition: false exactly where a resource conditioned on it has a type the region lacks."""
    template = all_stages[0].json(_prod(part))
    conditions = template.get("Conditions", {})
    for name, false_in in region_gates(template).items():
        gated = {r["Type"] for r in template["Resources"].values()
                 if r.get("Condition") == name or mentions(conditions.get(r.get("Condition"), {}), name)}
        lacking = {r for r in regions_generated.COMMERCIAL_REGIONS if gated - schema_types(r)}
        assert false_in == lacking, name


@pytest.mark.parametrize("part, capability", [("feature-store", regions.FEATURE_STORE),
                                              ("model-build", regions.MODEL_REGISTRY),
                                              ("serving", regions.REAL_TIME_INFERENCE)])
def test_a_stack_that_needs_a_capability_is_refused_where_it_is_missing(all_stages, part, capability):
    template = all_stages[0].json(_prod(part))
    rule = template["Rules"][f"{capability.name}RegionCheck"]
    (assertion,) = rule["Assertions"]
    refused = {r for r in regions_generated.COMMERCIAL_REGIONS if not holds(assertion["Assert"], r, {})}
    assert refused == region_gates(template)[f"{capability.name}InRegion"] != set()
    assert all(region in assertion["AssertDescription"] for region in refused)
    assert capability.resource_types[0] in assertion["AssertDescription"]
    # ... and everything in it, outputs too, is left out there (so the template lints for every region)
    assert {r.get("Condition") for r in template["Resources"].values()} == {f"{capability.name}InRegion"}
    assert {o.get("Condition") for o in template.get("Outputs", {}).values()} <= {f"{capability.name}InRegion"}


def test_model_monitor_is_optional_next_to_the_own_checkers(all_stages):
    template = all_stages[0].json(_prod("monitoring"))
    by_type: dict[str, set] = {}
    for resource in template["Resources"].values():
        by_type.setdefault(resource["Type"], set()).add(resource.get("Condition"))
    assert set().union(*(by_type[t] for t in MONITOR_TYPES if t in by_type)) == {"ModelMonitorInRegion"}
    assert by_type["AWS::Lambda::Function"] == {None} and by_type["AWS::CloudWatch::Dashboard"] == {None}
    assert "ModelMonitorRegionCheck" not in template.get("Rules", {})  # nothing refused: the own checkers deploy
    assert region_gates(template) == {"ModelMonitorInRegion": frozenset(MODEL_MONITOR_GAPS)}


def test_stacks_that_work_everywhere_have_no_region_gate(all_stages):
    for part in ("foundation", "retraining"):
        template = all_stages[0].json(_prod(part))
        assert region_gates(template) == {} and set(template.get("Rules", {})) <= {"CheckBootstrapVersion"}


# -------------------------------------------------------------- compliance packs (all stages)
def test_no_inline_policy_is_left_and_stateful_resources_keep_their_ids(all_stages):
    platform = all_stages[0]
    for name, template in platform.stacks.items():
        assert resources_of_type(template, "AWS::IAM::Policy") == {}, name
    managed = [p for t in platform.stacks.values() for p in resources_of_type(t, "AWS::IAM::ManagedPolicy").values()]
    assert managed and all(p["Properties"].get("Roles") for p in managed)
    for stack, ids in RELEASED["all-stages-with-endpoints"].items():
        now = logical_ids(platform.json(stack))
        assert {k: v for k, v in ids.items() if now.get(k) != v} == {}, stack


def test_logs_queues_and_functions_use_the_platforms_key(all_stages):
    platform = all_stages[0]
    for stage in ("dev", "staging", "prod"):
        key = {"Fn::ImportValue": Match.string_like_regexp(f"^mlops-fraud-detection-{stage}-foundation:.*DataKey")}
        for part in ("model-build", "monitoring", "retraining"):
            template = Template.from_json(platform.json(f"mlops-fraud-detection-{stage}-{part}"))
            for type_name, prop in (("AWS::Logs::LogGroup", "KmsKeyId"), ("AWS::SQS::Queue", "KmsMasterKeyId"),
                                    ("AWS::Lambda::Function", "KmsKeyArn")):
                count = len(template.find_resources(type_name))
                assert count > 0
                template.resource_properties_count_is(type_name, {prop: key}, count)


def test_functions_reserve_concurrency_except_the_failure_notifier(all_stages):
    platform = all_stages[0]
    reserved = {}
    for part in ("model-build", "monitoring", "retraining"):
        functions = resources_of_type(platform.json(f"mlops-fraud-detection-prod-{part}"), "AWS::Lambda::Function")
        reserved.update({k: f["Properties"].get("ReservedConcurrentExecutions") for k, f in functions.items()})
    assert len(reserved) == 7  # approval, baselines, drift, quality and bias checkers, gate, failure notifier
    assert {k: v for k, v in reserved.items() if v != 1} == {
        next(k for k in reserved if k.startswith("NotificationsFailureNotifier")): None}
