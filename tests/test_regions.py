"""Every commercial region: the generated table, refusal at synth for a configured region, the gates on small stacks.

The reference platform linted for all 33 regions is in test_app.py (it reuses that module's `-c stages=all` synth).
"""

from __future__ import annotations

import re

import pytest
from aws_cdk import App, CfnCondition, CfnOutput, CfnResource, Environment, Fn, NestedStack, Stack
from aws_cdk.assertions import Template
from constructs import Construct

from mlops_cdk import PlatformConfig
from mlops_cdk import regions
from mlops_cdk._data import regions_generated
from mlops_cdk.stacks.feature_store import FeatureStoreStack
from mlops_cdk.stacks.model_build import ModelBuildStack
from mlops_cdk.stacks.serving import ServingStack
from tests.harness import own_resources
from tests.region_gates import MODEL_MONITOR_GAPS, region_gates, schema_types
from tools import generate_regions

PACKAGE = "arn:aws:sagemaker:us-east-1:111122223333:model-package/mlops-fraud-detection-prod/3"


# ------------------------------------------------------------------ the table
def test_table_is_what_the_installed_cfn_lint_says():
    fresh = generate_regions.render(*generate_regions.build_table())
    assert fresh == generate_regions.OUTPUT.read_text(), "the region table is stale: run `make regions`"


def test_commercial_regions_are_the_33_with_schemas():
    commercial = regions_generated.COMMERCIAL_REGIONS
    assert len(commercial) == 33 and "us-east-1" in commercial and "me-central-1" in commercial
    assert not [r for r in commercial if re.match(r"^(cn-|us-gov-|us-iso|eu-isoe-|eusc-)", r)]
    assert regions_generated.UNCHECKED_COMMERCIAL_REGIONS == ("me-south-1",)  # accepted by cfn-lint, no schema


def test_gaps_are_the_ones_the_issue_measured():
    assert regions.MODEL_MONITOR.regions_without == MODEL_MONITOR_GAPS
    assert len(regions.FEATURE_STORE.regions_without) == 9
    assert len(regions.MODEL_REGISTRY.regions_without) == 4
    assert regions.REAL_TIME_INFERENCE.regions_without == ("me-central-1",)
    assert regions.OWN_CHECKERS.regions_without == () and regions.PIPELINES.regions_without == ()
    for capability in regions.CAPABILITIES:  # and each agrees with the schemas region by region
        assert regions.regions_without(capability) == tuple(
            r for r in regions_generated.COMMERCIAL_REGIONS if set(capability.resource_types) - schema_types(r))


def test_region_table_marks_exactly_the_gaps():
    table = regions.region_table_markdown()
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines()[2:]}
    assert list(rows) == list(regions_generated.COMMERCIAL_REGIONS)
    assert rows["us-east-1"].count("**no**") == 0
    assert rows["af-south-1"] == "| af-south-1 | yes | yes | yes | **no** | yes |"
    assert rows["me-central-1"] == "| me-central-1 | yes | **no** | **no** | **no** | yes |"
    gapped = [r for r in regions_generated.COMMERCIAL_REGIONS
              if any(set(c.resource_types) - schema_types(r) for c in regions.CAPABILITIES)]
    short = regions.region_table_markdown(only_gaps=True).splitlines()
    assert [line.split(" | ")[0].strip("| ") for line in short[2:-1]] == gapped
    assert short[-1] == f"| the other {33 - len(gapped)} | yes | yes | yes | yes | yes |"


def test_capability_gaps_table():
    rows = regions.capability_gaps_markdown([regions.REAL_TIME_INFERENCE, regions.PIPELINES]).splitlines()
    assert rows[2] == ("| Real-time inference endpoints | `SageMaker::Model`, `SageMaker::EndpointConfig`, "
                       "`SageMaker::Endpoint` | 1: me-central-1 |")
    assert rows[3] == "| SageMaker Pipelines | `SageMaker::Pipeline` | none |"


def test_capability_refuses_bad_definitions():
    with pytest.raises(ValueError, match="Capability 'name'.*PascalCase"):
        regions.Capability("feature store", "x", ("AWS::SageMaker::FeatureGroup",))
    with pytest.raises(ValueError, match="Capability 'resource_types'.*AWS::EC2::Instance"):
        regions.Capability("Compute", "x", ("AWS::EC2::Instance",))
    with pytest.raises(ValueError, match="Capability 'resource_types'"):
        regions.Capability("Empty", "x", ())


# ------------------------------------------------------------------ concrete regions: synth refuses
def _in(region: str, **config):
    app = App()
    config = PlatformConfig(region=region, **config)
    return app, config, own_resources(Stack(app, "Team", env=Environment(region=region)))


@pytest.mark.parametrize("region", ["me-central-1", "ca-west-1"])
def test_feature_store_in_a_region_without_it_fails_synth(region):
    app, config, resources = _in(region)
    with pytest.raises(regions.RegionUnsupported, match=rf"FeatureStoreStack 'region': invalid value '{region}'.*"
                       r"the SageMaker Feature Store.*AWS::SageMaker::FeatureGroup"):
        FeatureStoreStack(app, "Store", config=config, resources=resources)


def test_an_endpoint_in_me_central_1_fails_synth():
    app, config, resources = _in("me-central-1", stage="prod", serving={"prod": {"model_package_arn": PACKAGE}})
    with pytest.raises(ValueError, match=r"ServingStack 'region'.*'me-central-1'.*real-time inference endpoints, "
                       r"which serving.prod.model_package_arn .*AWS::SageMaker::Model, AWS::SageMaker::EndpointConfig"):
        ServingStack(app, "Serving", config=config, resources=resources)


def test_serving_without_an_endpoint_needs_no_endpoint_support():
    app, config, resources = _in("me-central-1", stage="dev")
    serving = ServingStack(app, "Serving", config=config, resources=resources)
    assert serving.node.try_find_child("RealTimeInferenceRegionCheck") is None


def test_model_build_in_a_region_without_the_registry_fails_synth():
    app, config, resources = _in("ap-east-2")
    with pytest.raises(ValueError, match=r"ModelBuildStack 'region'.*'ap-east-2'.*the SageMaker model registry.*"
                       r"AWS::SageMaker::ModelPackageGroup"):
        ModelBuildStack(app, "Build", config=config, resources=resources)


def test_a_region_that_has_the_capability_gets_no_gate():
    app, config, resources = _in("eu-west-1")
    store = FeatureStoreStack(app, "Store", config=config, resources=resources)
    assert not [c for c in store.node.find_all() if isinstance(c, CfnCondition)]
    assert app.synth().get_stack_by_name("Store").template.get("Rules", {}).keys() <= {"CheckBootstrapVersion"}


def test_a_region_outside_the_table_is_built_with_a_warning():
    app, config, resources = _in("cn-north-1")
    store = FeatureStoreStack(app, "Store", config=config, resources=resources)
    warnings = [m.data for m in store.node.metadata if m.type == "aws:cdk:warning"]
    assert any("cn-north-1" in w and "not checked" in w for w in warnings)


def _monitoring(region: str, mode: str):
    from mlops_cdk.stacks.monitoring import MonitoringStack

    app, config, resources = _in(region, stage="prod", monitoring_mode=mode,
                                 serving={"prod": {"model_package_arn": PACKAGE}})
    serving = ServingStack(app, "Serving", config=config, resources=resources)
    return MonitoringStack(app, "Monitoring", config=config, resources=resources, endpoint=serving.monitored_endpoint)


def test_model_monitor_mode_in_a_region_without_it_fails_synth():
    with pytest.raises(regions.RegionUnsupported, match=r"MonitoringStack 'region'.*'af-south-1'.*SageMaker Model "
                       r"Monitor, which monitoring_mode 'model_monitor' needs.*AWS::SageMaker::MonitoringSchedule"):
        _monitoring("af-south-1", "model_monitor")


def test_mode_both_in_a_region_without_model_monitor_runs_the_own_checkers():
    monitoring = _monitoring("af-south-1", "both")
    assert monitoring.mode == "own" and monitoring.monitors == [] and monitoring.drift_checker is not None
    assert _monitoring("eu-west-1", "both").monitors  # where it exists, both run


# ------------------------------------------------------------------ the gates on a small stack
def _queue(scope: Construct, id: str) -> CfnResource:
    return CfnResource(scope, id, type="AWS::SQS::Queue")


def _schedule(scope: Construct, id: str) -> CfnResource:
    return CfnResource(scope, id, type="AWS::SageMaker::MonitoringSchedule", properties={"MonitoringScheduleName": id})


def test_gate_optional_conditions_only_the_optional_part():
    app = App()
    stack = Stack(app, "Monitoring")
    checker = _queue(stack, "Checker")
    optional = Construct(stack, "ModelMonitor")
    schedule = _schedule(optional, "Schedule")
    own = CfnCondition(stack, "Enabled", expression=Fn.condition_equals("a", "a"))
    schedule_b = _schedule(optional, "ScheduleB")
    schedule_b.cfn_options.condition = own
    CfnOutput(stack, "ScheduleOut", value=schedule.ref)
    CfnOutput(stack, "CheckerOut", value=checker.ref)
    consumer = Stack(app, "Consumer")
    _queue(consumer, "Uses").add_property_override("QueueName", schedule.ref)  # a cross-stack export of a gated one

    condition = regions.gate_optional(optional, regions.MODEL_MONITOR)
    assert condition is regions.capability_condition(stack, regions.MODEL_MONITOR)
    assembly = app.synth()
    template = assembly.get_stack_by_name("Monitoring").template
    resources = {k: v.get("Condition") for k, v in template["Resources"].items()}
    assert resources[stack.resolve(checker.logical_id)] is None
    assert resources[stack.resolve(schedule.logical_id)] == "ModelMonitorInRegion"
    assert resources[stack.resolve(schedule_b.logical_id)] == "EnabledAndModelMonitorInRegion"
    assert template["Conditions"]["EnabledAndModelMonitorInRegion"] == {
        "Fn::And": [{"Condition": "Enabled"}, {"Condition": "ModelMonitorInRegion"}]}
    outputs = {k: v.get("Condition") for k, v in template["Outputs"].items()}
    assert outputs.pop("ScheduleOut") == "ModelMonitorInRegion" and outputs.pop("CheckerOut") is None
    assert set(outputs.values()) == {"ModelMonitorInRegion"}  # the export the consumer stack imports
    assert "ModelMonitorRegionCheck" not in template.get("Rules", {})  # optional: nothing is refused
    assert region_gates(template)["ModelMonitorInRegion"] == frozenset(MODEL_MONITOR_GAPS)


def test_require_capabilities_once_per_capability_and_combined_with_existing_conditions():
    app = App()
    stack = Stack(app, "Store")
    group = CfnResource(stack, "Group", type="AWS::SageMaker::FeatureGroup")
    queue = _queue(stack, "Queue")
    _queue(stack, "Plain")
    # two conditions of the same construct id in different scopes (as CDKMetadata/Condition): combined apart
    own = {}
    for resource, scope in ((group, "A"), (queue, "B")):
        own[resource.node.id] = resource.cfn_options.condition = CfnCondition(
            Construct(stack, scope), "Condition", expression=Fn.condition_equals(scope, scope))
    for _ in range(2):
        regions.require_capabilities(stack, [regions.FEATURE_STORE, regions.PIPELINES], why="the test")
    template = app.synth().get_stack_by_name("Store").template
    assert set(template["Rules"]) == {"FeatureStoreRegionCheck", "CheckBootstrapVersion"}  # none for PIPELINES
    conditions = {k: v["Condition"] for k, v in template["Resources"].items()}
    assert conditions["Plain"] == "FeatureStoreInRegion"
    for name, condition in own.items():
        assert template["Conditions"][conditions[name]] == {
            "Fn::And": [{"Condition": stack.resolve(condition.logical_id)}, {"Condition": "FeatureStoreInRegion"}]}
    assert conditions["Group"] != conditions["Queue"]
    assert "which the test needs" in template["Rules"]["FeatureStoreRegionCheck"]["Assertions"][0]["AssertDescription"]


def test_gate_optional_in_a_concrete_region():
    app = App()
    lacking = Stack(app, "Cape", env=Environment(region="af-south-1"))
    assert not regions.capability_available(lacking, regions.MODEL_MONITOR)
    assert regions.capability_available(lacking, regions.REAL_TIME_INFERENCE)
    optional = Construct(lacking, "ModelMonitor")
    with pytest.raises(regions.RegionUnsupported, match=r"'af-south-1'.*SageMaker Model Monitor.*"
                       r"AWS::SageMaker::MonitoringSchedule"):
        regions.gate_optional(optional, regions.MODEL_MONITOR)
    having = Stack(app, "Ireland", env=Environment(region="eu-west-1"))
    schedule = _schedule(Construct(having, "ModelMonitor"), "Schedule")
    assert regions.gate_optional(schedule.node.scope, regions.MODEL_MONITOR) is None
    assert regions.capability_available(having, regions.MODEL_MONITOR)
    resources = app.synth().get_stack_by_name("Ireland").template["Resources"]
    assert "Condition" not in resources[having.resolve(schedule.logical_id)]


def test_gates_refuse_what_is_not_a_capability():
    with pytest.raises(ValueError, match="regions 'capability'.*a Capability"):
        regions.regions_without("ModelMonitor")


def test_readme_shows_the_current_gaps():
    readme = (generate_regions.OUTPUT.parents[2] / "README.md").read_text()  # the repository root
    assert regions.capability_gaps_markdown() in readme, "README's region table is stale: paste the new one"
    assert regions.region_table_markdown(only_gaps=True) in readme


def test_a_second_synthesis_changes_nothing_and_a_nested_stack_keeps_its_resources_unconditioned():
    app = App()
    stack = Stack(app, "Both")
    group = CfnResource(stack, "Group", type="AWS::SageMaker::FeatureGroup")
    optional = Construct(stack, "ModelMonitor")
    schedule = _schedule(optional, "Schedule")
    nested = NestedStack(optional, "Nested")
    _queue(nested, "Inner")
    regions.require_capabilities(stack, [regions.FEATURE_STORE], why="the test")
    regions.gate_optional(optional, regions.MODEL_MONITOR)

    first = app.synth(force=True).get_stack_by_name("Both").template
    second = app.synth(force=True).get_stack_by_name("Both").template
    assert second == first
    resources = {stack.resolve(r.logical_id): r for r in (group, schedule, nested.nested_stack_resource)}
    conditions = {k: v.get("Condition") for k, v in first["Resources"].items() if k in resources}
    assert conditions[stack.resolve(group.logical_id)] == "FeatureStoreInRegion"
    for gated in (schedule, nested.nested_stack_resource):  # both gates, combined once
        both = first["Conditions"][conditions[stack.resolve(gated.logical_id)]]["Fn::And"]
        assert sorted(c["Condition"] for c in both) == ["FeatureStoreInRegion", "ModelMonitorInRegion"]
    assert len([c for c in first["Conditions"] if "And" in c]) == 1
    inner = Template.from_stack(nested).to_json()["Resources"]
    assert [r.get("Condition") for r in inner.values()] == [None]
