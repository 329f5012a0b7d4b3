"""ModelAlarms, ModelDashboard and QualityMetrics: alarms built from metrics, missing data, actions, composite, widgets."""

import json
import re

import pytest
from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Capture, Match, Template

from mlops_cdk.constructs.foundation.alert_topic import AlertTopic
from mlops_cdk.constructs.monitoring.model_alarms import ModelAlarms
from mlops_cdk.constructs.monitoring.model_dashboard import ModelDashboard
from mlops_cdk.constructs.monitoring.quality_metrics import QualityMetrics
from mlops_cdk.constructs.serving.endpoint_metrics import EndpointMetrics
from tests.harness import ACCOUNT, REGION, logical_ids, synth

FEATURES = ["age", "amount"]
ENDPOINT = "fraud-endpoint"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts"


def _drift(feature, period=Duration.hours(1)):
    return cloudwatch.Metric(namespace="MLOps/ModelMonitoring", metric_name="FeatureDrift", statistic="Maximum",
                             dimensions_map={"Endpoint": ENDPOINT, "Feature": feature}, period=period)


def _records(period=Duration.hours(1)):
    return cloudwatch.Metric(namespace="MLOps/ModelMonitoring", metric_name="RecordsAnalyzed",
                             statistic="SampleCount", dimensions_map={"Endpoint": ENDPOINT}, period=period)


def _schedule(stack):
    return sagemaker.CfnMonitoringSchedule(
        stack, "Schedule", monitoring_schedule_name="fraud-data-quality",
        monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
            monitoring_job_definition_name="fraud-data-quality-0123abcd", monitoring_type="DataQuality",
            schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                schedule_expression="cron(0 * ? * * *)")))


def _alarm_props(stack, topic, **overrides):
    endpoint = EndpointMetrics(ENDPOINT)
    props = dict(
        alert_topic=topic, feature_drift={f: _drift(f) for f in FEATURES}, drift_threshold=0.25,
        drift_warning_threshold=0.12, records_analyzed=_records(), drift_window=Duration.hours(1),
        accuracy=QualityMetrics("fraud-detection", ENDPOINT).metric_accuracy(), accuracy_threshold=0.9,
        model_latency_p99=endpoint.metric_model_latency(statistic="p99"), latency_p99_threshold=Duration.millis(500),
        invocation_5xx_errors=endpoint.metric_invocation_5xx_errors(), errors_5xx_threshold=3,
        monitoring_schedules=[_schedule(stack)], subject=f"model fraud-detection on {ENDPOINT}",
        alarm_name_prefix="fraud-dev")
    props.update(overrides)
    return props


@pytest.fixture(scope="module")
def built():
    objects = {}

    def build(app):
        stack = Stack(app, "Alarms")
        topic = AlertTopic(stack, "Alerts")
        alarms = ModelAlarms(stack, "ModelAlarms", **_alarm_props(stack, topic))
        endpoint = EndpointMetrics(ENDPOINT)
        quality = QualityMetrics("fraud-detection", ENDPOINT)
        ModelDashboard(
            stack, "Dashboard", title="Model fraud-detection",
            latency=[endpoint.metric_model_latency(statistic="p99", label="model p99")],
            invocations=[endpoint.metric_invocations(label="invocations")],
            errors=[endpoint.metric_invocation_5xx_errors(label="5XX")],
            feature_drift={f: _drift(f).with_(label=f) for f in FEATURES}, drift_threshold=0.25,
            drift_warning_threshold=0.12, drift_runs=[_records().with_(label="analysed")],
            quality=[quality.metric_accuracy(label="accuracy"), quality.metric_recall(label="recall")],
            accuracy_threshold=0.9, alarms=[*alarms.alarms, alarms.model_unhealthy], dashboard_name="fraud-dev-model")
        objects.update(alarms=alarms, topic=topic, stack=stack)

        imported = Stack(app, "AlarmsImported", env=Environment(account=ACCOUNT, region=REGION))  # the topic's
        objects["imported"] = ModelAlarms(
            imported, "ModelAlarms", alert_topic=sns.Topic.from_topic_arn(imported, "Topic", TOPIC_ARN),
            accuracy=QualityMetrics("churn", "churn-endpoint").metric_accuracy(),
            monitoring_schedules=[_schedule(imported)])

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def objects(built):
    return built[1]


@pytest.fixture(scope="module")
def template(result):
    return result.template("Alarms")


@pytest.fixture(scope="module")
def topic(objects):
    return objects["stack"].resolve(objects["topic"].topic_arn)


# (alarm name, metric, namespace, statistic, period, threshold, comparison, missing data, evaluation, datapoints)
EXPECTED = [
    ("feature-drift-age", "FeatureDrift", "MLOps/ModelMonitoring", "Maximum", 3600, 0.25,
     "GreaterThanOrEqualToThreshold", "ignore", 1, None),
    ("feature-drift-warning-amount", "FeatureDrift", "MLOps/ModelMonitoring", "Maximum", 3600, 0.12,
     "GreaterThanOrEqualToThreshold", "ignore", 1, None),
    ("drift-checker-silent", "RecordsAnalyzed", "MLOps/ModelMonitoring", "SampleCount", 3600, 1, "LessThanThreshold",
     "breaching", 2, None),
    ("accuracy", "ModelAccuracy", "MLOps/ModelMonitoring", "Average", 3600, 0.9, "LessThanThreshold", "ignore", 1, None),
    ("latency-p99", "ModelLatency", "AWS/SageMaker", "p99", 300, 500000, "GreaterThanThreshold", "notBreaching", 3, 2),
    ("5xx-errors", "Invocation5XXErrors", "AWS/SageMaker", "Sum", 300, 3, "GreaterThanOrEqualToThreshold",
     "notBreaching", 1, None),
    ("monitoring-execution-failed", "TriggeredRules", "AWS/Events", "Sum", 3600, 1, "GreaterThanOrEqualToThreshold",
     "notBreaching", 1, None),
]


@pytest.mark.parametrize("name, metric, namespace, statistic, period, threshold, comparison, missing, evaluation, "
                         "datapoints", EXPECTED)
def test_alarm(template, topic, name, metric, namespace, statistic, period, threshold, comparison, missing,
               evaluation, datapoints):
    statistic_key = "ExtendedStatistic" if statistic.startswith("p") else "Statistic"
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": f"fraud-dev-{name}",
        "MetricName": metric,
        "Namespace": namespace,
        statistic_key: statistic,
        "Period": period,
        "Threshold": threshold,
        "ComparisonOperator": comparison,
        "TreatMissingData": missing,
        "EvaluationPeriods": evaluation,
        "DatapointsToAlarm": Match.absent() if datapoints is None else datapoints,
        "AlarmActions": [topic],
        "AlarmDescription": Match.any_value(),
    })


def test_one_significant_and_one_warning_alarm_per_feature(template, objects):
    for feature in FEATURES:
        template.has_resource_properties("AWS::CloudWatch::Alarm", {
            "AlarmName": f"fraud-dev-feature-drift-{feature}",
            "Dimensions": [{"Name": "Endpoint", "Value": ENDPOINT}, {"Name": "Feature", "Value": feature}],
            "AlarmDescription": Match.string_like_regexp(f"feature '{feature}' of model fraud-detection"),
        })
    template.resource_count_is("AWS::CloudWatch::Alarm", 2 * len(FEATURES) + 5)
    assert set(objects["alarms"].feature_drift_alarms) == set(FEATURES)


def test_endpoint_and_quality_dimensions(template):
    for name in ("latency-p99", "5xx-errors"):
        template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": f"fraud-dev-{name}", "Dimensions": [
            {"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "fraud-dev-accuracy", "Dimensions": [
        {"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "ModelName", "Value": "fraud-detection"}]})


def test_monitoring_failure_rule_publishes_to_the_topic_and_has_an_alarm(template, objects, topic):
    rule_id = Capture()
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Processing Job State Change"],
            "detail": {"ProcessingJobStatus": ["Failed", "Stopped"],
                       "MonitoringScheduleArn": [{"Ref": Match.string_like_regexp("^Schedule")}]},
        },
        "Targets": [Match.object_like({"Arn": topic, "InputTransformer": Match.object_like({
            "InputTemplate": Match.string_like_regexp("<detail-FailureReason>")})})],
    })
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "fraud-dev-monitoring-execution-failed",
        "Dimensions": [{"Name": "RuleName", "Value": {"Ref": rule_id}}]})
    assert rule_id.as_string().startswith("ModelAlarmsMonitoringExecutionFailedRule")


def test_an_alert_topic_needs_no_statement_per_rule(template):
    # The AlertTopic's own policy admits EventBridge: the failure rule adds nothing to it.
    template.resource_count_is("AWS::SNS::TopicPolicy", 1)
    template.has_resource_properties("AWS::SNS::TopicPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "AllowAlarmsAndRulesToPublish"})])}})


def test_composite_model_unhealthy(result, template, topic):
    template.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {
        "AlarmName": "fraud-dev-model-unhealthy", "AlarmActions": [topic], "OKActions": [topic]})
    (composite,) = result.template("Alarms").find_resources("AWS::CloudWatch::CompositeAlarm").values()
    rule = json.dumps(composite["Properties"]["AlarmRule"])
    alarms = {v["Properties"]["AlarmName"].removeprefix("fraud-dev-"): k
              for k, v in template.find_resources("AWS::CloudWatch::Alarm").items()}
    members = {"feature-drift-age", "feature-drift-amount", "accuracy", "latency-p99", "5xx-errors"}
    for name, logical_id in alarms.items():
        assert (logical_id in rule) == (name in members), name
    assert rule.count("ALARM(") == len(members)
    assert " OR " in rule and " AND " not in rule


def test_dashboard_widgets(template):
    body = Capture()
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": "fraud-dev-model",
                                                                    "DashboardBody": body})
    text = json.dumps(body.as_object())
    for expected in ("# Model fraud-detection", "Endpoint latency", "ModelLatency", "Invocations",
                     "Invocation5XXErrors", "Feature drift (PSI)", "FeatureDrift", "RecordsAnalyzed",
                     "Model quality", "ModelAccuracy", "ModelRecall", "accuracy threshold", "significant", "warning"):
        assert expected in text, expected
    assert re.search(r'\\"type\\":\\"alarm\\"', text)
    for logical_id in template.find_resources("AWS::CloudWatch::Alarm"):
        assert logical_id in text
    assert "ModelAlarmsModelUnhealthy" in text


def test_imported_topic_and_only_the_metrics_given(result):
    template = result.template("AlarmsImported")
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)  # accuracy + monitoring failures
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ModelAccuracy", "AlarmActions": [TOPIC_ARN], "AlarmName": Match.absent()})
    template.has_resource_properties("AWS::Events::Rule", {"Targets": [Match.object_like({"Arn": TOPIC_ARN})]})
    template.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmActions": [TOPIC_ARN]})


def test_cdk_nag_clean(result):
    assert result.nag_findings == []


@pytest.mark.parametrize("stack", ["Alarms", "AlarmsImported"])
def test_cfn_lint_clean(result, stack):
    assert result.lint(stack) == []


def test_logical_ids(result, json_snapshot):
    assert {stack: logical_ids(result.json(stack)) for stack in ("Alarms", "AlarmsImported")} == json_snapshot


# -------------------------------------------------------------- construction
def _stack():
    stack = Stack(App(), "S")
    return stack, sns.Topic(stack, "Topic")


def test_without_metrics_there_is_nothing_to_alarm_on():
    stack, topic = _stack()
    alarms = ModelAlarms(stack, "A", alert_topic=topic)
    assert (alarms.alarms, alarms.model_unhealthy, alarms.accuracy_alarm, alarms.monitoring_failure_rule) == (
        [], None, None, None)


def test_a_day_long_window_evaluates_one_period():
    stack, topic = _stack()
    day = Duration.hours(24)
    alarms = ModelAlarms(stack, "A", alert_topic=topic, records_analyzed=_records(day), drift_window=day)
    Template.from_stack(stack).has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "RecordsAnalyzed", "EvaluationPeriods": 1, "Period": 86400})
    assert alarms.heartbeat_alarm is not None
    with pytest.raises(ValueError, match="^ModelAlarms 'heartbeat_windows': invalid value 2"):
        ModelAlarms(stack, "A2", alert_topic=topic, records_analyzed=_records(day), drift_window=day,
                    heartbeat_windows=2)


def test_the_heartbeat_metric_must_have_the_window_as_period():
    stack, topic = _stack()
    with pytest.raises(ValueError, match="^ModelAlarms 'records_analyzed': invalid value '1 hour'"):
        ModelAlarms(stack, "A", alert_topic=topic, records_analyzed=_records(Duration.hours(1)),
                    drift_window=Duration.hours(6))


@pytest.mark.parametrize("props, prop", [
    ({"drift_warning_threshold": 0.25}, "drift_warning_threshold"),  # warning must be below the threshold
    ({"drift_threshold": 1.5}, "drift_threshold"),  # PSI above 1
    ({"drift_threshold": 0}, "drift_threshold"),
    ({"drift_threshold": float("inf")}, "drift_threshold"),
    ({"accuracy_threshold": 0}, "accuracy_threshold"),
    ({"accuracy_threshold": 1.5}, "accuracy_threshold"),
    ({"accuracy_threshold": True}, "accuracy_threshold"),
    ({"latency_p99_threshold": Duration.millis(0)}, "latency_p99_threshold"),
    ({"latency_p99_threshold": 500}, "latency_p99_threshold"),
    ({"errors_5xx_threshold": 0}, "errors_5xx_threshold"),
    ({"drift_window": Duration.hours(25)}, "drift_window"),
    ({"heartbeat_windows": 0}, "heartbeat_windows"),
    ({"feature_drift": {"a,b": _drift("a")}}, "feature_drift"),
    ({"monitoring_schedules": "arn:aws:sagemaker:eu-west-1:111122223333:monitoring-schedule/x"},
     "monitoring_schedules"),
    ({"alarm_name_prefix": "-bad"}, "alarm_name_prefix"),
    ({"subject": ""}, "subject"),
])
def test_bad_props_name_the_prop(props, prop):
    stack, topic = _stack()
    base = _alarm_props(stack, topic, monitoring_schedules=[])
    base.update(props)
    with pytest.raises(ValueError, match=rf"^ModelAlarms '{re.escape(prop)}': invalid value"):
        ModelAlarms(stack, "A", **base)


@pytest.mark.parametrize("props, prop", [
    ({"dashboard_name": "has space"}, "dashboard_name"),
    ({"title": ""}, "title"),
    ({"accuracy_threshold": 2}, "accuracy_threshold"),
    ({"drift_warning_threshold": 0.3}, "drift_warning_threshold"),
])
def test_bad_dashboard_props(props, prop):
    stack, _ = _stack()
    with pytest.raises(ValueError, match=rf"^ModelDashboard '{prop}': invalid value"):
        ModelDashboard(stack, "D", **{"title": "m", **props})


# ------------------------------------------------------------ quality metrics
def test_quality_metrics_dimensions_and_period():
    quality = QualityMetrics("churn", "churn-endpoint")
    for metric, name in ((quality.metric_accuracy(), "ModelAccuracy"), (quality.metric_precision(), "ModelPrecision"),
                         (quality.metric_recall(), "ModelRecall")):
        assert (metric.namespace, metric.metric_name, metric.statistic) == ("MLOps/ModelMonitoring", name, "Average")
        assert metric.dimensions == {"ModelName": "churn", "EndpointName": "churn-endpoint"}
        assert metric.period.to_hours() == 1
    assert QualityMetrics("m", "e", namespace="Team/Quality").metric_accuracy(period=Duration.days(1)).period.to_days() == 1


@pytest.mark.parametrize("args, prop", [
    (("m", "e", "AWS/SageMaker"), "namespace"),
    (("", "e"), "model_name"),
    (("m", " "), "endpoint_name"),
])
def test_bad_quality_metrics_name_the_argument(args, prop):
    with pytest.raises(ValueError, match=f"^QualityMetrics '{prop}': invalid value"):
        QualityMetrics(*args)
