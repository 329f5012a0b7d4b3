"""ModelAlarms and ModelDashboard: thresholds, comparisons, missing data, actions, composite rule, widgets, bad input."""

import json
import re

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns

from mlops_cdk import AlertTopic, SecureBucket
from mlops_cdk import monitoring_metrics as mm
from mlops_cdk.constructs.drift_checker import DriftChecker
from mlops_cdk.constructs.model_alarms import ModelAlarms
from mlops_cdk.constructs.model_dashboard import ModelDashboard
from tests.harness import normalized, only_resource, resources_of_type, synth

FEATURES = ["age", "amount"]
ENDPOINT = "fraud-endpoint"
SCHEDULES = ["arn:aws:sagemaker:eu-west-1:111122223333:monitoring-schedule/fraud-data-quality"]


@pytest.fixture(scope="module")
def built():
    objects = {}

    def build(app):
        stack = Stack(app, "Alarms")
        topic = AlertTopic(stack, "Alerts")
        checker = DriftChecker(stack, "Checker", endpoint_name=ENDPOINT, model_name="fraud-detection",
                               feature_names=FEATURES, capture_bucket=SecureBucket(stack, "Data"), window_hours=1)
        alarms = ModelAlarms(stack, "ModelAlarms", alert_topic=topic, endpoint_name=ENDPOINT,
                             model_name="fraud-detection", drift_checker=checker, drift_significant=0.25,
                             drift_warning=0.12, accuracy_threshold=0.9, latency_p99_threshold=Duration.millis(500),
                             errors_5xx_threshold=3, monitoring_schedule_arns=SCHEDULES, alarm_name_prefix="fraud-dev")
        ModelDashboard(stack, "Dashboard", endpoint_name=ENDPOINT, model_name="fraud-detection",
                       drift_checker=checker, drift_warning=0.12, drift_significant=0.25, accuracy_threshold=0.9,
                       alarms=[*alarms.alarms, alarms.model_unhealthy], dashboard_name="fraud-dev-model")
        objects.update(alarms=alarms, topic=topic)

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def raw(result):
    return result.json("Alarms")


def _alarms(raw):
    return {v["Properties"]["AlarmName"]: (k, v["Properties"])
            for k, v in resources_of_type(raw, "AWS::CloudWatch::Alarm").items()}


def _alarm(raw, name):
    return _alarms(raw)[f"fraud-dev-{name}"][1]


def _topic(raw):
    (topic,) = resources_of_type(raw, "AWS::SNS::Topic")
    return {"Ref": topic}


# (alarm name, metric, namespace, statistic, period, threshold, comparison, missing data, evaluation, datapoints)
EXPECTED = [
    ("feature-drift-age", "FeatureDrift", mm.NAMESPACE, "Maximum", 3600, 0.25, "GreaterThanOrEqualToThreshold",
     "ignore", 1, None),
    ("feature-drift-warning-amount", "FeatureDrift", mm.NAMESPACE, "Maximum", 3600, 0.12,
     "GreaterThanOrEqualToThreshold", "ignore", 1, None),
    ("drift-checker-silent", "RecordsAnalyzed", mm.NAMESPACE, "SampleCount", 3600, 1, "LessThanThreshold",
     "breaching", 2, None),
    ("accuracy", "ModelAccuracy", mm.NAMESPACE, "Average", 3600, 0.9, "LessThanThreshold", "ignore", 1, None),
    ("latency-p99", "ModelLatency", "AWS/SageMaker", "p99", 300, 500000, "GreaterThanThreshold", "notBreaching", 3, 2),
    ("5xx-errors", "Invocation5XXErrors", "AWS/SageMaker", "Sum", 300, 3, "GreaterThanOrEqualToThreshold",
     "notBreaching", 1, None),
    ("monitoring-execution-failed", "TriggeredRules", "AWS/Events", "Sum", 3600, 1, "GreaterThanOrEqualToThreshold",
     "notBreaching", 1, None),
]


@pytest.mark.parametrize("name, metric, namespace, statistic, period, threshold, comparison, missing, evaluation, "
                         "datapoints", EXPECTED)
def test_alarm(raw, name, metric, namespace, statistic, period, threshold, comparison, missing, evaluation, datapoints):
    alarm = _alarm(raw, name)
    assert (alarm["MetricName"], alarm["Namespace"]) == (metric, namespace)
    assert alarm.get("Statistic", alarm.get("ExtendedStatistic")) == statistic
    assert alarm["Period"] == period
    assert alarm["Threshold"] == threshold
    assert alarm["ComparisonOperator"] == comparison
    assert alarm["TreatMissingData"] == missing
    assert alarm["EvaluationPeriods"] == evaluation
    assert alarm.get("DatapointsToAlarm") == datapoints
    assert alarm["AlarmActions"] == [_topic(raw)]
    assert alarm["AlarmDescription"]


def test_one_significant_and_one_warning_alarm_per_feature(raw):
    names = set(_alarms(raw))
    for feature in FEATURES:
        assert {f"fraud-dev-feature-drift-{feature}", f"fraud-dev-feature-drift-warning-{feature}"} <= names
        dims = {d["Name"]: d["Value"] for d in _alarm(raw, f"feature-drift-{feature}")["Dimensions"]}
        assert dims == {"Endpoint": ENDPOINT, "Feature": feature}
    assert len(names) == 2 * len(FEATURES) + 5


def test_endpoint_and_quality_dimensions(raw):
    for name in ("latency-p99", "5xx-errors"):
        dims = {d["Name"]: d["Value"] for d in _alarm(raw, name)["Dimensions"]}
        assert dims == {"EndpointName": ENDPOINT, "VariantName": "AllTraffic"}
    dims = {d["Name"]: d["Value"] for d in _alarm(raw, "accuracy")["Dimensions"]}
    assert dims == {mm.DIMENSION_MODEL_NAME: "fraud-detection", mm.DIMENSION_ENDPOINT_NAME: ENDPOINT}


def test_monitoring_failure_rule_and_its_alarm(raw):
    rules = resources_of_type(raw, "AWS::Events::Rule")
    ((rule_id, rule),) = [(k, r) for k, r in rules.items() if "EventPattern" in r["Properties"]]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {"ProcessingJobStatus": ["Failed", "Stopped"], "MonitoringScheduleArn": SCHEDULES},
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == _topic(raw)
    assert "<detail-FailureReason>" in target["InputTransformer"]["InputTemplate"]
    alarm = _alarm(raw, "monitoring-execution-failed")
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": rule_id}}]


def test_alert_topic_policy_already_admits_eventbridge(raw):
    # The rule publishes to the AlertTopic without adding a statement of its own.
    (policy,) = resources_of_type(raw, "AWS::SNS::TopicPolicy").values()
    sids = [s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert "AllowAlarmsAndRulesToPublish" in sids
    assert len([s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]) == 1


def test_composite_model_unhealthy(raw):
    composite = only_resource(raw, "AWS::CloudWatch::CompositeAlarm")["Properties"]
    assert composite["AlarmName"] == "fraud-dev-model-unhealthy"
    assert composite["AlarmActions"] == [_topic(raw)] and composite["OKActions"] == [_topic(raw)]
    rule = json.dumps(composite["AlarmRule"])
    alarms = _alarms(raw)
    members = {"feature-drift-age", "feature-drift-amount", "accuracy", "latency-p99", "5xx-errors"}
    for name, (logical, _) in alarms.items():
        assert (logical in rule) == (name.removeprefix("fraud-dev-") in members), name
    assert rule.count("ALARM(") == len(members)
    assert " OR " in rule and " AND " not in rule


def test_dashboard_widgets(raw):
    dashboard = only_resource(raw, "AWS::CloudWatch::Dashboard")["Properties"]
    assert dashboard["DashboardName"] == "fraud-dev-model"
    body = json.dumps(dashboard["DashboardBody"])
    for text in ("Endpoint latency", "ModelLatency", "OverheadLatency", "Invocations", "Invocation4XXErrors",
                 "Invocation5XXErrors", "Feature drift (PSI)", "FeatureDrift", "RecordsAnalyzed",
                 "MalformedRecords", "Model quality", mm.METRIC_ACCURACY, mm.METRIC_PRECISION, mm.METRIC_RECALL,
                 "accuracy threshold", "significant", "warning"):
        assert text in body, text
    assert re.search(r'\\"type\\":\\"alarm\\"', body)
    for logical, _ in _alarms(raw).values():
        assert logical in body
    assert only_resource(raw, "AWS::CloudWatch::CompositeAlarm") and "ModelAlarmsModelUnhealthy" in body


def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert result.lint("Alarms") == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# -------------------------------------------------------------- construction
def _stack():
    app = App()
    stack = Stack(app, "S")
    return stack, AlertTopic(stack, "Alerts")


def test_other_topic_and_metrics_without_checker():
    stack, _ = _stack()
    topic = sns.Topic.from_topic_arn(stack, "T", "arn:aws:sns:eu-west-1:111122223333:ops")
    metric = cloudwatch.Metric(namespace="aws/sagemaker/Endpoints/data-metrics", metric_name="feature_baseline_drift_age")
    alarms = ModelAlarms(stack, "A", alert_topic=topic, endpoint_name="ep", model_name="m",
                         feature_drift_metrics={"age": metric}, monitoring_schedule_arns=SCHEDULES)
    assert alarms.drift_checker_alarm is None
    assert set(alarms.feature_drift_alarms) == {"age"}
    assert alarms.monitoring_failure_rule is not None
    assert stack.resolve(alarms.alarms[0].node.default_child.alarm_name) is None  # generated names, no prefix


def test_day_long_window_evaluates_one_period():
    stack, topic = _stack()
    checker = DriftChecker(stack, "C", endpoint_name="ep", model_name="m", feature_names=["a"],
                           capture_bucket=SecureBucket(stack, "B"), window_hours=24)
    alarms = ModelAlarms(stack, "A", alert_topic=topic, endpoint_name="ep", model_name="m", drift_checker=checker)
    cfn = alarms.drift_checker_alarm.node.default_child
    assert (cfn.evaluation_periods, cfn.period) == (1, 86400)
    with pytest.raises(ValueError, match="ModelAlarms 'heartbeat_windows': invalid value 2"):
        ModelAlarms(stack, "A2", alert_topic=topic, endpoint_name="ep", model_name="m", drift_checker=checker,
                    heartbeat_windows=2)


@pytest.mark.parametrize("props, prop", [
    ({"drift_warning": 0.2}, "drift_warning"),  # warning must be below significant
    ({"drift_warning": 0.3}, "drift_warning"),
    ({"drift_warning": 0}, "drift_warning"),
    ({"drift_significant": -1}, "drift_significant"),
    ({"drift_significant": float("inf")}, "drift_significant"),
    ({"accuracy_threshold": 0}, "accuracy_threshold"),
    ({"accuracy_threshold": 1.5}, "accuracy_threshold"),
    ({"accuracy_threshold": True}, "accuracy_threshold"),
    ({"latency_p99_threshold": Duration.millis(0)}, "latency_p99_threshold"),
    ({"latency_p99_threshold": 500}, "latency_p99_threshold"),
    ({"errors_5xx_threshold": 0}, "errors_5xx_threshold"),
    ({"quality_period": Duration.days(2)}, "quality_period"),
    ({"variant_name": "all traffic"}, "variant_name"),
    ({"alert_topic": "arn:aws:sns:eu-west-1:111122223333:ops"}, "alert_topic"),
    ({"feature_drift_metrics": {"age": "FeatureDrift"}}, "feature_drift_metrics"),
    ({"monitoring_schedule_arns": SCHEDULES[0]}, "monitoring_schedule_arns"),
    ({"alarm_name_prefix": "-bad"}, "alarm_name_prefix"),
    ({"model_name": ""}, "model_name"),
])
def test_bad_props_name_the_prop(props, prop):
    stack, topic = _stack()
    base = dict(alert_topic=topic, endpoint_name="ep", model_name="m")
    base.update(props)
    with pytest.raises(ValueError, match=rf"^ModelAlarms '{re.escape(prop)}': invalid value"):
        ModelAlarms(stack, "A", **base)


def test_bad_dashboard_props():
    stack, _ = _stack()
    with pytest.raises(ValueError, match="^ModelDashboard 'dashboard_name': invalid value"):
        ModelDashboard(stack, "D", endpoint_name="ep", model_name="m", dashboard_name="has space")
