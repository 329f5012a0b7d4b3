"""CostGuardrails and BudgetSettings: budget, anomaly alerts, their names, topic and key policies, regions, bad input.

One synthesis builds every variant as its own small stack; names are compared across stacks whose
only difference is the setting under test.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from aws_cdk import App, Environment, Stack, Tags
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from mlops_cdk._data.regions_generated import COMMERCIAL_REGIONS
from mlops_cdk.constructs.cost import CostGuardrails
from mlops_cdk.constructs.foundation.alert_topic import AlertTopic
from mlops_cdk.settings.budget import BudgetSettings
from tests.harness import ACCOUNT, REGION, logical_id, logical_ids, only_resource, resources_of_type, synth
from tests.region_gates import region_gates, schema_types

PREFIX = "mlops-fraud-detection-dev"
TAGS = {"project": "mlops", "model": "fraud-detection", "stage": "dev"}
BASE = {"monthly_usd": 500, "actual_percent": [100, 150], "forecast_percent": [80, 100], "anomaly_threshold_usd": 50}
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MONITOR_ARN = f"arn:aws:ce::{ACCOUNT}:anomalymonitor/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
BUDGET, MONITOR, SUBSCRIPTION = "AWS::Budgets::Budget", "AWS::CE::AnomalyMonitor", "AWS::CE::AnomalySubscription"
# What AWS documents for the two services (Cost Management user guide: SNS topics for budget / anomaly notifications).
SOURCE_ARNS = {"budgets.amazonaws.com": ":budgets::", "costalerts.amazonaws.com": ":ce::"}


def _guardrails(stack, *, topic=None, budget=None, tags=TAGS, id="Cost", prefix=PREFIX, **props):
    topic = topic if topic is not None else AlertTopic(stack, "Alerts")
    return CostGuardrails(stack, id, alert_topic=topic, budget=BudgetSettings.from_mapping(budget or BASE),
                          tags=tags, name_prefix=prefix, **props)


def _tagged(app, name, extra=None, **kwargs):
    stack = Stack(app, name, **kwargs)
    for key, value in {**TAGS, **(extra or {})}.items():
        Tags.of(stack).add(key, value)
    return stack


@pytest.fixture(scope="module")
def result():
    built = {}

    def build(app):
        foundation = _tagged(app, "Foundation")
        built["topic"] = AlertTopic(foundation, "Alerts")
        built["main"] = _guardrails(foundation, topic=built["topic"])
        # Nothing create-only changes: thresholds reordered, another amount and anomaly threshold.
        _guardrails(_tagged(app, "Reordered"), budget={**BASE, "monthly_usd": 900, "anomaly_threshold_usd": 75,
                                                       "actual_percent": [150, 100], "forecast_percent": [100, 80]})
        _guardrails(_tagged(app, "Threshold"), budget={**BASE, "forecast_percent": [80, 90]}, anomaly_tag="stage")
        _guardrails(_tagged(app, "Retagged", {"cost-center": "42"}))
        _guardrails(_tagged(app, "NoAnomalies"), budget={**BASE, "anomaly_threshold_usd": None})
        byo = _tagged(app, "BringYourOwn")
        built["byo"] = _guardrails(byo, topic=sns.Topic.from_topic_arn(byo, "TeamTopic", TOPIC_ARN),
                                   budget={**BASE, "anomaly_monitor_arn": MONITOR_ARN}, tags={"team": "fraud"})
        own = _tagged(app, "OwnTopic")
        topic = sns.Topic(own, "TeamTopic", master_key=kms.Key(own, "TeamKey", enable_key_rotation=True))
        _guardrails(own, topic=topic, prefix="team-a")
        _guardrails(own, topic=topic, prefix="team-b", id="CostAgain")  # a second budget on the same topic
        imported_key = _tagged(app, "ImportedKey")
        _guardrails(imported_key, topic=sns.Topic(imported_key, "TeamTopic", master_key=kms.Key.from_key_arn(
            imported_key, "TeamKey", KEY_ARN)))
        for name, region in (("North", "eu-north-1"), ("Malaysia", "ap-southeast-5"), ("Virginia", "us-east-1")):
            _guardrails(_tagged(app, name, env=Environment(region=region)))

    synthesized = synth(build)
    synthesized.built = built
    return synthesized


@pytest.fixture(scope="module")
def main(result):
    return result.json("Foundation")


def _one(template, type_name):
    return only_resource(template, type_name)["Properties"]


def _digest(properties) -> str:
    return hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()[:8]


def _names(template):
    names = {}
    for type_name, key in ((BUDGET, None), (MONITOR, "MonitorName"), (SUBSCRIPTION, "SubscriptionName")):
        found = resources_of_type(template, type_name)
        if found:
            props = next(iter(found.values()))["Properties"]
            names[type_name] = props["Budget"]["BudgetName"] if key is None else props[key]
    return names


def _warnings(result, stack: str) -> dict[str, list[str]]:
    """``{construct path: [warning]}`` of one stack, as the cloud assembly records them."""
    metadata = json.loads((result.template_paths[stack].parent / f"{stack}.metadata.json").read_text())
    found = {path: [e["data"] for e in entries if e["type"] == "aws:cdk:warning"] for path, entries in metadata.items()}
    return {path: warnings for path, warnings in found.items() if warnings}


def _first_json_list(text: str) -> list:
    return json.JSONDecoder().raw_decode(text[text.index("["):])[0]


def _statements(template, type_name, policy_key):
    return [statement for resource in resources_of_type(template, type_name).values()
            for statement in resource["Properties"][policy_key]["Statement"]]


def _service_statements(template, type_name, policy_key):
    """``{service principal: statement}`` of the two cost services (each must have exactly one statement)."""
    found = {}
    for statement in _statements(template, type_name, policy_key):
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else None
        if isinstance(service, str) and service in SOURCE_ARNS:
            assert service not in found, f"two statements for {service}"
            found[service] = statement
    return found


# ------------------------------------------------------------------ budget
def test_budget_is_a_monthly_cost_budget_in_dollars_over_the_platform_tags(main):
    budget = _one(main, BUDGET)["Budget"]
    assert budget["BudgetType"] == "COST" and budget["TimeUnit"] == "MONTHLY"
    assert budget["BudgetLimit"] == {"Amount": 500, "Unit": "USD"}
    assert budget["FilterExpression"] == {"And": [
        {"Tags": {"Key": key, "Values": [value], "MatchOptions": ["EQUALS"]}} for key, value in TAGS.items()]}
    assert budget["Metrics"] == ["UnblendedCost"] and "CostFilters" not in budget and "CostTypes" not in budget


def test_one_sns_notification_per_actual_and_forecast_threshold(main, result):
    notifications = _one(main, BUDGET)["NotificationsWithSubscribers"]
    topic = logical_id(result.built["topic"])
    assert sorted((n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in notifications) == [
        ("ACTUAL", 100), ("ACTUAL", 150), ("FORECASTED", 80), ("FORECASTED", 100)]
    for n in notifications:
        assert n["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert n["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert n["Subscribers"] == [{"Address": {"Ref": topic}, "SubscriptionType": "SNS"}]


def test_budget_waits_for_the_policies_that_let_it_publish(main):
    depends = only_resource(main, BUDGET)["DependsOn"]
    policy, = resources_of_type(main, "AWS::SNS::TopicPolicy")
    key, = resources_of_type(main, "AWS::KMS::Key")
    assert sorted(depends) == sorted([policy, key])


# ------------------------------------------------------------------ names
def test_names_end_in_a_digest_of_the_create_only_properties(main):
    budget, monitor, subscription = (_one(main, t) for t in (BUDGET, MONITOR, SUBSCRIPTION))
    assert budget["Budget"]["BudgetName"] == f"{PREFIX}-monthly-" + _digest(
        {"NotificationsWithSubscribers": budget["NotificationsWithSubscribers"]})
    assert monitor["MonitorName"] == f"{PREFIX}-cost-anomalies-" + _digest(
        {key: monitor[key] for key in ("MonitorType", "MonitorSpecification", "ResourceTags")})
    assert subscription["SubscriptionName"] == f"{PREFIX}-cost-anomaly-alerts-" + _digest(
        {"ResourceTags": subscription["ResourceTags"]})
    assert len(budget["Budget"]["BudgetName"]) <= 100 and ":" not in budget["Budget"]["BudgetName"]


def test_names_stay_when_only_updatable_properties_change(result, main):
    assert _names(result.json("Reordered")) == _names(main)
    assert _one(result.json("Reordered"), BUDGET)["Budget"]["BudgetLimit"]["Amount"] == 900


def test_a_new_threshold_renames_the_budget_only(result, main):
    base, changed = _names(main), _names(result.json("Threshold"))
    assert changed[BUDGET] != base[BUDGET] and changed[SUBSCRIPTION] == base[SUBSCRIPTION]


def test_new_tags_rename_the_cost_explorer_resources_not_the_budget(result, main):
    base, changed = _names(main), _names(result.json("Retagged"))
    assert changed[BUDGET] == base[BUDGET]
    assert changed[MONITOR] != base[MONITOR] and changed[SUBSCRIPTION] != base[SUBSCRIPTION]


# ------------------------------------------------------------------ anomalies
def test_a_tag_monitor_watches_the_first_tag_unless_told(result, main):
    monitor = _one(main, MONITOR)
    assert monitor["MonitorType"] == "CUSTOM" and "MonitorDimension" not in monitor
    assert json.loads(monitor["MonitorSpecification"]) == {
        "Tags": {"Key": "project", "Values": ["mlops"], "MatchOptions": ["EQUALS"]}}
    other = _one(result.json("Threshold"), MONITOR)
    assert json.loads(other["MonitorSpecification"])["Tags"]["Values"] == ["dev"]
    assert other["MonitorName"] != monitor["MonitorName"]


def test_subscription_alerts_the_topic_immediately_on_an_absolute_impact(main, result):
    subscription = only_resource(main, SUBSCRIPTION)
    props = subscription["Properties"]
    monitor, = resources_of_type(main, MONITOR)
    assert props["Frequency"] == "IMMEDIATE"
    assert props["MonitorArnList"] == [{"Fn::GetAtt": [monitor, "MonitorArn"]}]
    assert props["Subscribers"] == [{"Address": {"Ref": logical_id(result.built["topic"])}, "Type": "SNS"}]
    assert json.loads(props["ThresholdExpression"]) == {"Dimensions": {
        "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "MatchOptions": ["GREATER_THAN_OR_EQUAL"], "Values": ["50"]}}
    assert "Threshold" not in props  # deprecated in favour of ThresholdExpression
    assert sorted(subscription["DependsOn"]) == sorted(only_resource(main, BUDGET)["DependsOn"])


def test_anomaly_alerts_can_be_off(result):
    template = result.json("NoAnomalies")
    assert not resources_of_type(template, MONITOR) and not resources_of_type(template, SUBSCRIPTION)
    assert set(_service_statements(template, "AWS::SNS::TopicPolicy", "PolicyDocument")) == {"budgets.amazonaws.com"}


# ------------------------------------------------------------------ topic and key policies
def test_topic_and_key_admit_both_services_for_this_account_and_their_own_resources(main, result):
    topic = {"Ref": logical_id(result.built["topic"])}
    for type_name, key, actions, resource in (
            ("AWS::SNS::TopicPolicy", "PolicyDocument", "sns:Publish", topic),
            ("AWS::KMS::Key", "KeyPolicy", ["kms:Decrypt", "kms:GenerateDataKey*"], "*")):  # "*": the key itself
        statements = _service_statements(main, type_name, key)
        assert set(statements) == set(SOURCE_ARNS)
        for service, statement in statements.items():
            assert statement["Effect"] == "Allow" and statement["Resource"] == resource
            assert (sorted(statement["Action"]) if isinstance(actions, list) else statement["Action"]) == actions
            assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
            source = json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])
            assert SOURCE_ARNS[service] in source and "AWS::Partition" in source
        assert "anomalysubscription/*" in json.dumps(statements["costalerts.amazonaws.com"]["Condition"])


def test_alert_topic_keeps_its_own_statements(main):
    sids = [s.get("Sid") for s in _statements(main, "AWS::SNS::TopicPolicy", "PolicyDocument")]
    assert {"AllowPublishThroughSSLOnly", "AllowAlarmsAndRulesToPublish"} <= set(sids)
    assert "AllowAlertPublishers" in [s.get("Sid") for s in _statements(main, "AWS::KMS::Key", "KeyPolicy")]


def test_plain_topic_and_key_get_the_statements_once_for_two_guardrails(result):
    template = result.json("OwnTopic")
    assert len(resources_of_type(template, BUDGET)) == 2
    for type_name, key in (("AWS::SNS::TopicPolicy", "PolicyDocument"), ("AWS::KMS::Key", "KeyPolicy")):
        sids = [s.get("Sid") for s in _statements(template, type_name, key) if s.get("Sid")]
        assert len(sids) == len(set(sids)) and len(_service_statements(template, type_name, key)) == 2


def test_bring_your_own_topic_and_monitor(result):
    template = result.json("BringYourOwn")
    assert not resources_of_type(template, MONITOR) and not resources_of_type(template, "AWS::SNS::TopicPolicy")
    props = _one(template, SUBSCRIPTION)
    assert props["MonitorArnList"] == [MONITOR_ARN] and props["Subscribers"] == [{"Address": TOPIC_ARN, "Type": "SNS"}]
    budget = _one(template, BUDGET)
    assert {s["Address"] for n in budget["NotificationsWithSubscribers"] for s in n["Subscribers"]} == {TOPIC_ARN}
    # one tag: the filter is that tag alone (an And needs two expressions)
    assert budget["Budget"]["FilterExpression"] == {
        "Tags": {"Key": "team", "Values": ["fraud"], "MatchOptions": ["EQUALS"]}}
    assert result.built["byo"].anomaly_monitor_arn == MONITOR_ARN and result.built["byo"].anomaly_monitor is None


def test_imported_topic_gets_a_warning_with_the_exact_statements(result):
    (path, (text,)), = _warnings(result, "BringYourOwn").items()
    assert path == "/BringYourOwn/Cost" and "cannot deliver alerts" in text
    statements = _first_json_list(text)
    assert {s["Principal"]["Service"] for s in statements} == set(SOURCE_ARNS)
    for statement in statements:
        assert statement["Resource"] == TOPIC_ARN and statement["Action"] == "sns:Publish"
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
        source = SOURCE_ARNS[statement["Principal"]["Service"]]
        assert statement["Condition"]["ArnLike"]["aws:SourceArn"].startswith(f"arn:aws{source}{ACCOUNT}:")
    assert "kms:GenerateDataKey*" in text  # and what an encrypted topic's key policy needs


def test_imported_key_gets_a_warning_the_topic_policy_does_not(result):
    (path, (text,)), = _warnings(result, "ImportedKey").items()
    assert path == "/ImportedKey/Cost" and "cannot deliver alerts" in text
    assert f"key policy of {KEY_ARN}" in text and "the policy of topic" not in text
    statements = _first_json_list(text)
    assert {s["Principal"]["Service"] for s in statements} == set(SOURCE_ARNS)
    assert all(sorted(s["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"] for s in statements)
    assert set(_service_statements(result.json("ImportedKey"), "AWS::SNS::TopicPolicy", "PolicyDocument")) == set(
        SOURCE_ARNS)
    assert _warnings(result, "Foundation") == {}


# ------------------------------------------------------------------ regions
def test_region_agnostic_parts_are_conditioned_on_the_regions_that_have_them(main):
    gates = region_gates(main)
    lacking = {t: frozenset(r for r in COMMERCIAL_REGIONS if t not in schema_types(r)) for t in (BUDGET, MONITOR)}
    assert gates == {"BudgetsInRegion": lacking[BUDGET], "CostAnomalyDetectionInRegion": lacking[MONITOR]}
    assert lacking[MONITOR] < lacking[BUDGET] and "eu-north-1" in lacking[BUDGET] - lacking[MONITOR]
    resources = main["Resources"]
    assert {r["Type"]: r.get("Condition") for r in resources.values() if r["Type"] in (BUDGET, MONITOR, SUBSCRIPTION)} \
        == {BUDGET: "BudgetsInRegion", MONITOR: "CostAnomalyDetectionInRegion",
            SUBSCRIPTION: "CostAnomalyDetectionInRegion"}


def test_a_region_without_budgets_gets_the_anomaly_alerts_only(result):
    template = result.json("North")
    assert not resources_of_type(template, BUDGET) and resources_of_type(template, MONITOR)
    assert "Conditions" not in template
    assert set(_service_statements(template, "AWS::SNS::TopicPolicy", "PolicyDocument")) == {"costalerts.amazonaws.com"}
    (path, (text,)), = _warnings(result, "North").items()
    assert path == "/North/Cost" and text.startswith("the budget left out") and "AWS::Budgets::Budget" in text


def test_a_region_without_either_gets_nothing_but_warnings(result):
    template = result.json("Malaysia")
    assert not any(resources_of_type(template, t) for t in (BUDGET, MONITOR, SUBSCRIPTION))
    assert _service_statements(template, "AWS::SNS::TopicPolicy", "PolicyDocument") == {}
    assert [w.split(":")[0] for w in _warnings(result, "Malaysia")["/Malaysia/Cost"]] == [
        "the budget left out", "anomaly alerts left out"]


def test_a_region_with_both_needs_no_condition(result):
    template = result.json("Virginia")
    assert all(resources_of_type(template, t) for t in (BUDGET, MONITOR, SUBSCRIPTION)) and "Conditions" not in template


# ------------------------------------------------------------------ checks
def test_cdk_nag_clean_and_warnings_only_where_expected(result):
    assert [f for f in result.nag_findings if not f.startswith("Annotation::")] == []
    assert sorted(f for f in result.nag_findings if f.startswith("Annotation::")) == sorted([
        "Annotation::mlops-cdk:cost-alerts-publishers (warning) at BringYourOwn/Cost",
        "Annotation::mlops-cdk:cost-alerts-publishers (warning) at ImportedKey/Cost",
        "Annotation::mlops-cdk:cost-Budgets (warning) at North/Cost",
        "Annotation::mlops-cdk:cost-Budgets (warning) at Malaysia/Cost",
        "Annotation::mlops-cdk:cost-CostAnomalyDetection (warning) at Malaysia/Cost",
    ])


def test_cfn_lint_clean(result):
    # One template of each shape (the others differ in values only), in the default lint regions; the
    # region-agnostic one also where each condition leaves a part out.
    findings = {name: result.lint(name) for name in ("BringYourOwn", "OwnTopic")}
    # The stacks of a concrete region in theirs, and the region-agnostic one where each condition leaves a part out.
    findings.update(North=result.lint("North", regions=("eu-north-1",)),
                    Malaysia=result.lint("Malaysia", regions=("ap-southeast-5",)),
                    Foundation=result.lint("Foundation", regions=("us-east-1", "eu-north-1", "ap-southeast-5")))
    assert {name: f for name, f in findings.items() if f} == {}


def test_logical_ids(main, json_snapshot):
    assert logical_ids(main) == json_snapshot


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("override, key", [
    ({"monthly_usd": -5}, "monthly_usd"),
    ({"monthly_usd": 0}, "monthly_usd"),
    ({"monthly_usd": "500"}, "monthly_usd"),
    ({"monthly_usd": True}, "monthly_usd"),
    ({"monthly_usd": float("nan")}, "monthly_usd"),
    ({"monthly_usd": None}, "monthly_usd"),
    ({"actual_percent": [1001]}, "actual_percent"),
    ({"actual_percent": [0]}, "actual_percent"),
    ({"actual_percent": 100}, "actual_percent"),
    ({"actual_percent": ["80"]}, "actual_percent"),
    ({"actual_percent": [100, 100.0]}, "actual_percent"),
    ({"forecast_percent": [80, 80]}, "forecast_percent"),
    ({"forecast_percent": [1000.5]}, "forecast_percent"),
    ({"actual_percent": [], "forecast_percent": []}, "forecast_percent"),
    ({"actual_percent": [10, 20, 30, 40, 50, 60], "forecast_percent": [70, 80, 90, 100, 110]}, "forecast_percent"),
    ({"anomaly_threshold_usd": 0}, "anomaly_threshold_usd"),
    ({"anomaly_threshold_usd": -1}, "anomaly_threshold_usd"),
    ({"anomaly_threshold_usd": "50"}, "anomaly_threshold_usd"),
    ({"anomaly_monitor_arn": "arn:aws:ce::123:anomalymonitor/x"}, "anomaly_monitor_arn"),
    ({"anomaly_monitor_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:topic"}, "anomaly_monitor_arn"),
    ({"anomaly_monitor_arn": 42}, "anomaly_monitor_arn"),
    ({"anomaly_threshold_usd": None, "anomaly_monitor_arn": MONITOR_ARN}, "anomaly_monitor_arn"),
    ({"monthly_budget": 5}, "monthly_budget"),
])
def test_bad_settings_name_their_path(override, key):
    with pytest.raises(ValueError, match=rf"^config 'budget\.{key}': invalid value .*; allowed: "):
        BudgetSettings.from_mapping({**BASE, **override}, path="budget.")


def test_settings_limits_are_inclusive_and_the_defaults_hold():
    settings = BudgetSettings.from_mapping({"monthly_usd": 500}, path="budget.")
    assert (settings.actual_percent, settings.forecast_percent) == ((100,), (80, 100))
    assert settings.anomaly_threshold_usd == 50 and settings.anomaly_monitor_arn is None
    edge = BudgetSettings.from_mapping({**BASE, "actual_percent": [0.1, 1000], "forecast_percent": list(range(1, 9))})
    assert edge.sorted_thresholds("actual") == (0.1, 1000)
    with pytest.raises(ValueError, match="^config 'budget': invalid value 500; allowed: a JSON object"):
        BudgetSettings.from_mapping(500, path="budget.")
    with pytest.raises(ValueError, match="^BudgetSettings 'monthly_usd': invalid value -5"):
        BudgetSettings(monthly_usd=-5)


@pytest.mark.parametrize("props, prop", [
    ({"alert_topic": TOPIC_ARN}, "alert_topic"),
    ({"budget": BASE}, "budget"),
    ({"tags": {}}, "tags"),
    ({"tags": {"project": ""}}, "tags"),
    ({"tags": {"aws:project": "x"}}, "tags"),
    ({"tags": "project=mlops"}, "tags"),
    ({"name_prefix": "mlops:dev"}, "name_prefix"),
    ({"name_prefix": "x" * 65}, "name_prefix"),
    ({"name_prefix": ""}, "name_prefix"),
    ({"encryption_key": KEY_ARN}, "encryption_key"),
    ({"anomaly_tag": "team"}, "anomaly_tag"),
])
def test_bad_props_name_owner_and_prop(props, prop):
    stack = Stack(App(), "S")
    topic = sns.Topic.from_topic_arn(stack, "T", TOPIC_ARN)
    given = {"alert_topic": topic, "budget": BudgetSettings.from_mapping(BASE), "tags": TAGS, "name_prefix": PREFIX,
             **props}
    with pytest.raises(ValueError, match=f"^CostGuardrails '{prop}': invalid value"):
        CostGuardrails(stack, "Cost", **given)
    assert stack.node.try_find_child("Cost") is None  # refused before anything was built
