"""ModelAlarms, ModelDashboard and QualityMetrics: alarms built from metrics, missing data, actions, composite, widgets."""

import json
import re

import pytest
from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Capture, Match, Template

from mlops_cdk.constructs.foundation.alert_topic import AlertTopic
from mlops_cdk.constructs.monitoring.model_alarms import ModelAlarms
from mlops_cdk.constructs.monitoring.model_dashboard import ModelDashboard
from mlops_cdk.constructs.monitoring.quality_metrics import QualityMetrics
from mlops_cdk.constructs.serving.endpoint_metrics import EndpointMetrics
from tests.harness import ACCOUNT, REGION, logical_ids, synth

FEATURES = ["age", "amount"]
FACETS = ["age", "gender"]  # bias facets: input columns, like features
ENDPOINT = "fraud-endpoint"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts"


def _drift(feature, period=Duration.hours(1)):
    return cloudwatch.Metric(namespace="MLOps/ModelMonitoring", metric_name="FeatureDrift", statistic="Maximum",
                             dimensions_map={"Endpoint": ENDPOINT, "Feature": feature}, period=period)


def _bias(facet, period=Duration.hours(24)):
    """What ``BiasDriftChecker.metric_max_bias_drift(facet)`` publishes: the facet's largest BiasDrift per window."""
    return cloudwatch.Metric(namespace="MLOps/ModelMonitoring", metric_name="MaxBiasDrift", statistic="Maximum",
                             dimensions_map={"ModelName": "fraud-detection", "EndpointName": ENDPOINT, "Facet": facet},
                             period=period)


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
        bias_drift={f: _bias(f) for f in FACETS}, bias_drift_threshold=0.15,
        model_latency=endpoint.metric_model_latency(), latency_threshold=Duration.millis(500),
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
            latency=[endpoint.metric_model_latency(label="model average"),
                     endpoint.metric_model_latency(statistic="Maximum", label="model max")],
            invocations=[endpoint.metric_invocations(label="invocations")],
            errors=[endpoint.metric_invocation_5xx_errors(label="5XX")],
            instances=[endpoint.metric_instances_reporting(), endpoint.metric_instance_count()],
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
    # a bias check runs on labelled windows: no data keeps the verdict
    ("bias-drift-gender", "MaxBiasDrift", "MLOps/ModelMonitoring", "Maximum", 86400, 0.15,
     "GreaterThanOrEqualToThreshold", "ignore", 1, None),
    ("model-latency", "ModelLatency", "AWS/SageMaker", "Average", 300, 500000, "GreaterThanThreshold", "notBreaching",
     3, 2),
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
    template.resource_count_is("AWS::CloudWatch::Alarm", 2 * len(FEATURES) + len(FACETS) + 5)
    assert set(objects["alarms"].feature_drift_alarms) == set(FEATURES)


def test_one_bias_drift_alarm_per_facet_on_its_own_metric(template, objects, topic):
    for facet in FACETS:
        template.has_resource_properties("AWS::CloudWatch::Alarm", {
            "AlarmName": f"fraud-dev-bias-drift-{facet}",
            "MetricName": "MaxBiasDrift", "Statistic": "Maximum", "Threshold": 0.15,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1, "TreatMissingData": "ignore",
            "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "Facet", "Value": facet},
                           {"Name": "ModelName", "Value": "fraud-detection"}],
            "AlarmActions": [topic],
            "AlarmDescription": Match.string_like_regexp(
                f"^Bias drift of facet '{facet}' of model fraud-detection on {ENDPOINT}: its predictions moved "
                r"further from parity than on the training baseline .*>= 0\.15"),
        })
    alarms = objects["alarms"].bias_drift_alarms
    assert [(facet, alarm.node.id) for facet, alarm in alarms.items()] == [(f, f"BiasDrift-{f}") for f in FACETS]
    assert all(a in objects["alarms"].alarms for a in alarms.values())


def test_endpoint_and_quality_dimensions(template):
    for name in ("model-latency", "5xx-errors"):
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
        "Targets": [Match.object_like({"Arn": topic, "InputTransformer": Match.any_value()})],
    })
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "fraud-dev-monitoring-execution-failed",
        "Dimensions": [{"Name": "RuleName", "Value": {"Ref": rule_id}}]})
    assert rule_id.as_string().startswith("ModelAlarmsMonitoringExecutionFailedRule")


def test_monitoring_failure_text_has_no_free_text_field(template):
    """An input transformer inserts values unescaped: only quote-free fields, never FailureReason (free text)."""
    transformer = Capture()
    template.has_resource_properties("AWS::Events::Rule", {"Targets": [Match.object_like({
        "InputTransformer": transformer})]})
    paths = transformer.as_object()["InputPathsMap"]
    assert set(paths.values()) == {"$.detail.ProcessingJobName", "$.detail.MonitoringScheduleArn",
                                   "$.detail.ProcessingJobStatus"}
    text = transformer.as_object()["InputTemplate"]
    assert "FailureReason" not in json.dumps(paths) and "<detail-FailureReason>" not in text
    assert "describe-processing-job --processing-job-name <detail-ProcessingJobName>" in text


def _processing_job_event(status, schedule_arn):
    """A "SageMaker Processing Job State Change" event: its detail mirrors DescribeProcessingJob (as the sibling
    training-job event's detail mirrors DescribeTrainingJob), FailureReason with quotes and a line break."""
    name = "model-monitoring-202612020100-0a1b2c3d"
    detail = {"ProcessingJobName": name, "ProcessingJobStatus": status,
              "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/{name}",
              "FailureReason": 'ClientError: "baseline" not found\nsee the logs', "ExitMessage": "Error"}
    if schedule_arn is not None:
        detail["MonitoringScheduleArn"] = schedule_arn
    return {"version": "0", "id": "e", "source": "aws.sagemaker", "account": ACCOUNT, "region": REGION,
            "detail-type": "SageMaker Processing Job State Change", "time": "2026-12-02T01:20:00Z",
            "resources": [], "detail": detail}


def test_the_failure_rule_reads_describe_processing_job_fields_and_matches_only_its_schedules(template):
    """U2: no AWS page shows this event; the rule reads only DescribeProcessingJob members, matches failed or
    stopped runs of its schedules only, and renders valid text whatever the FailureReason holds (U7)."""
    from botocore.session import get_session
    from moto.events.models import EventPattern

    members = get_session().get_service_model("sagemaker").shape_for("DescribeProcessingJobResponse").members
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    pattern, (target,) = rule["Properties"]["EventPattern"], rule["Properties"]["Targets"]
    transformer = target["InputTransformer"]
    read = set(pattern["detail"]) | {p.removeprefix("$.detail.") for p in transformer["InputPathsMap"].values()}
    assert read <= set(members), read - set(members)
    ours = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/fraud-data-quality"
    (ref,) = pattern["detail"]["MonitoringScheduleArn"]
    pattern = {**pattern, "detail": {**pattern["detail"], "MonitoringScheduleArn": [ours]}}
    assert list(ref) == ["Ref"] and ref["Ref"].startswith("Schedule")  # a schedule's Ref is its ARN

    def matches(event):
        return EventPattern(None, pattern).matches_event(event)

    assert matches(_processing_job_event("Failed", ours)) and matches(_processing_job_event("Stopped", ours))
    assert not matches(_processing_job_event("Completed", ours))
    assert not matches(_processing_job_event("Failed", ours.replace("fraud-", "churn-")))  # another schedule's run
    assert not matches(_processing_job_event("Failed", None))  # a processing job no schedule started
    text = transformer["InputTemplate"]
    event = _processing_job_event("Failed", ours)
    for name, path in transformer["InputPathsMap"].items():
        text = text.replace(f"<{name}>", event["detail"][path.removeprefix("$.detail.")])
    lines = [json.loads(line) for line in text.splitlines()]  # raises if a value broke the quoting
    job = event["detail"]["ProcessingJobName"]
    assert lines[0] == f"Model Monitor execution {job} of schedule {ours} ended Failed."


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
    members = {"feature-drift-age", "feature-drift-amount", "accuracy", "bias-drift-age", "bias-drift-gender",
               "model-latency", "5xx-errors"}
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


def test_dashboard_endpoint_row_shows_the_instance_count(template):
    body = Capture()
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardBody": body})
    text = body.as_object() if isinstance(body.as_object(), str) else "".join(
        p for p in body.as_object()["Fn::Join"][1] if isinstance(p, str))
    widgets = {w["properties"].get("title"): w for w in json.loads(text)["widgets"]}
    row = [widgets[t] for t in ("Endpoint latency (microseconds)", "Invocations", "Errors", "Endpoint instances")]
    assert [w["width"] for w in row] == [6, 6, 6, 6] and len({w["y"] for w in row}) == 1
    instances = widgets["Endpoint instances"]["properties"]
    assert instances["yAxis"] == {"left": {"min": 0, "showUnits": False}}
    expressions = {m[0]["label"]: m[0]["expression"] for m in instances["metrics"] if "expression" in m[0]}
    assert expressions == {"instances reporting CPU": "samples / (PERIOD(samples) / 60)",
                           "instances (while invoked)": "invocations / per_instance"}
    hidden = {m[-1]["id"]: (m[0], m[1], m[-1]["stat"]) for m in instances["metrics"] if "id" in m[-1]}
    assert hidden == {"samples": ("/aws/sagemaker/Endpoints", "CPUUtilization", "SampleCount"),
                      "invocations": ("AWS/SageMaker", "Invocations", "Sum"),
                      "per_instance": ("AWS/SageMaker", "InvocationsPerInstance", "Sum")}
    assert all(not m[-1].get("visible", True) for m in instances["metrics"] if "id" in m[-1])


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
    ({"latency_threshold": Duration.millis(0)}, "latency_threshold"),
    ({"latency_threshold": 500}, "latency_threshold"),
    ({"latency_threshold": 0}, "latency_threshold"),
    ({"latency_threshold": Duration.hours(2)}, "latency_threshold"),
    ({"bias_drift_threshold": 0}, "bias_drift_threshold"),
    ({"bias_drift_threshold": -1}, "bias_drift_threshold"),
    ({"bias_drift_threshold": 1.5}, "bias_drift_threshold"),
    ({"bias_drift_threshold": "x"}, "bias_drift_threshold"),
    ({"bias_drift_threshold": True}, "bias_drift_threshold"),
    ({"bias_drift_threshold": float("nan")}, "bias_drift_threshold"),
    ({"bias_drift": {"age,gender": _bias("age")}}, "bias_drift"),  # the feature-name rule: no commas
    ({"bias_drift": {" age": _bias("age")}}, "bias_drift"),
    ({"bias_drift": {"": _bias("age")}}, "bias_drift"),
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


def test_bias_drift_thresholds_at_the_edges_and_alone():
    """(0, 1], the range the checker accepts for the same threshold."""
    stack, topic = _stack()
    for i, threshold in enumerate((1, 0.5, 1e-6)):
        alarms = ModelAlarms(stack, f"A{i}", alert_topic=topic, bias_drift={"age": _bias("age")},
                             bias_drift_threshold=threshold)
        assert alarms.bias_drift_alarms["age"].node.default_child.threshold == threshold
        assert alarms.model_unhealthy is not None  # a bias alarm alone makes a composite
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Alarm", 3)
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "MaxBiasDrift", "Threshold": 1,
                                                               "AlarmName": Match.absent()})
    assert ModelAlarms(stack, "None", alert_topic=topic, bias_drift={}).bias_drift_alarms == {}


# ------------------------------------------------------------ latency statistic
def test_a_percentile_latency_alarm_synthesizes_with_a_warning():
    """AWS documents Average, Sum, Min, Max, SampleCount for ModelLatency: a p99 alarm may never fire."""
    stack, topic = _stack()
    endpoint = EndpointMetrics(ENDPOINT)
    p99 = ModelAlarms(stack, "P99", alert_topic=topic, model_latency=endpoint.metric_model_latency(statistic="p99"),
                      latency_threshold=Duration.millis(800))
    ModelAlarms(stack, "Max", alert_topic=topic, model_latency=endpoint.metric_model_latency(statistic="Maximum"))
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ModelLatency", "ExtendedStatistic": "p99", "Threshold": 800_000,
        "AlarmDescription": Match.string_like_regexp("^p99 model latency")})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ModelLatency", "Statistic": "Maximum", "Threshold": 1_000_000,  # the 1 s default
        "AlarmDescription": Match.string_like_regexp("^Maximum model latency")})
    assert p99.latency_alarm is not None
    annotations = Annotations.from_stack(stack)
    annotations.has_warning("/S/P99", Match.string_like_regexp("statistic 'p99': AWS documents Average, Sum"))
    assert annotations.find_warning("/S/Max", Match.any_value()) == []

