"""PlatformConfig: defaults, context parsing (cdk.json JSON and `-c` strings), every validation error."""

import pytest

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_scheduler as scheduler

from mlops_cdk import PlatformConfig
from mlops_cdk._validation import ConfigurationError
from mlops_cdk.settings import DEFAULT_SERVING, AutoScaling, DeploymentPolicy, ServerlessInference, StageServing
from mlops_cdk.settings.off_hours import OffHoursScaling
from tests.harness import reference_context


def test_default_config_is_the_course_model():
    config = PlatformConfig()
    assert (config.model_name, config.stage, config.accuracy_threshold) == ("fraud-detection", "dev", 0.85)
    assert config.prefix == "mlops-fraud-detection-dev"


def test_reference_context_loads():
    config = PlatformConfig.from_context(reference_context())
    assert config.model_name == "fraud-detection"
    assert config.tags == {"managed-by": "mlops-cdk"}


def test_cli_strings_are_coerced():
    config = PlatformConfig.from_context({
        "stage": "prod",
        "alert_emails": "a@example.com, b@example.com",
        "tags": '{"team": "risk"}',
        "accuracy_threshold": "0.9",
    })
    assert config.stage == "prod"
    assert config.alert_emails == ("a@example.com", "b@example.com")
    assert config.tags == {"team": "risk"}
    assert config.accuracy_threshold == 0.9
    assert config.standard_tags == {"project": "mlops", "model": "fraud-detection", "stage": "prod", "team": "risk"}


def test_json_list_of_emails_from_cli():
    assert PlatformConfig.from_context({"alert_emails": '["a@example.com"]'}).alert_emails == ("a@example.com",)


def test_foreign_context_keys_are_ignored():
    config = PlatformConfig.from_context({"@aws-cdk/core:newStyleStackSynthesis": True, "someOtherLib": 1})
    assert config == PlatformConfig()


@pytest.mark.parametrize(
    "context, key, fragment",
    [
        ({"stage": "qa"}, "stage", "dev | staging | prod"),
        ({"project_name": "a" * 20, "model_name": "b" * 20}, "model_name", "at most 35"),
        ({"project_name": "a" * 25, "model_name": "b" * 8}, "project_name", "at most 35"),
        ({"model_name": "churn-prediction-for-retail"}, "model_name", "at most 35"),
        ({"project_name": "Has Spaces"}, "project_name", "a-z"),
        ({"project_name": "ab"}, "project_name", "3-32"),
        ({"model_name": "x" * 40}, "model_name", "3-32"),
        ({"model_name": "-leading"}, "model_name", "starting with a letter"),
        ({"alert_emails": "not-an-email"}, "alert_emails", "name@example.com"),
        ({"alert_emails": 42}, "alert_emails", "list of e-mail"),
        ({"tags": "[1, 2]"}, "tags", "mapping"),
        ({"tags": "{not json"}, "tags", "valid JSON"),
        ({"tags": {"aws:reserved": "x"}}, "tags", "aws:"),
        ({"tags": {"k": 1}}, "tags", "string tag values"),
        ({"tags": {"k": "v" * 257}}, "tags", "256"),
        ({"accuracy_threshold": "high"}, "accuracy_threshold", "a number"),
        ({"accuracy_threshold": 0}, "accuracy_threshold", "(0, 1]"),
        ({"accuracy_threshold": 1.5}, "accuracy_threshold", "(0, 1]"),
        ({"accuracy_threshold": True}, "accuracy_threshold", "(0, 1]"),
    ],
)
def test_invalid_values_name_key_value_and_allowed(context, key, fragment):
    with pytest.raises(ConfigurationError) as err:
        PlatformConfig.from_context(context)
    message = str(err.value)
    assert message.startswith(f"config '{key}': invalid value"), message
    assert fragment in message, message


def test_typo_in_a_key_is_an_error_with_a_suggestion():
    with pytest.raises(ValueError, match="'stgae'.*did you mean 'stage'"):
        PlatformConfig.from_context({"stgae": "prod"})


def test_config_is_immutable():
    with pytest.raises(AttributeError):
        PlatformConfig().stage = "prod"  # type: ignore[misc]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_rejected_not_crashing(value):
    from mlops_cdk._validation import is_token, require_number

    assert is_token(value) is False
    with pytest.raises(ValueError, match="'x'"):
        require_number("Owner", "x", value, minimum=0, maximum=1)


# ------------------------------------------------------------------ serving
ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud-detection/3"


def test_stage_defaults_are_typed_and_differ_per_stage():
    dev, staging, prod = (PlatformConfig(stage=s).serving_settings for s in ("dev", "staging", "prod"))
    assert (dev.instance_type, dev.instance_count, dev.autoscaling) == ("ml.m5.large", 1, None)
    assert (staging.instance_type, staging.autoscaling) == ("ml.m5.xlarge", AutoScaling(min_capacity=1, max_capacity=2))
    assert (prod.instance_type, prod.instance_count) == ("ml.m5.xlarge", 2)
    assert (prod.autoscaling.min_capacity, prod.autoscaling.max_capacity) == (2, 6)
    assert (prod.deployment.traffic_routing, prod.deployment.size_instances) == ("canary", 1)
    for settings in (dev, staging, prod):
        assert settings.model_package_arn is None  # no endpoint until a package is configured
        assert settings.effective_capture_percent == 100 and settings.effective_network_isolation is True
    assert PlatformConfig().serving == DEFAULT_SERVING


def test_serving_overrides_merge_nested_settings_from_cli_json():
    config = PlatformConfig.from_context({
        "stage": "prod",
        "serving": '{"prod": {"model_package_arn": "%s", "autoscaling": {"max_capacity": 10},'
                   ' "deployment": {"wait_interval_seconds": 900, "max_execution_timeout_seconds": 7200}}}' % ARN,
    })
    prod = config.serving_settings
    assert prod.model_package_arn == ARN
    assert (prod.autoscaling.min_capacity, prod.autoscaling.max_capacity) == (2, 10)  # min kept from the default
    assert (prod.deployment.traffic_routing, prod.deployment.size_instances, prod.deployment.wait_interval_seconds) == (
        "canary", 1, 900)
    assert config.serving["dev"] == DEFAULT_SERVING["dev"]  # other stages untouched


def test_switching_dev_to_serverless_takes_one_key():
    dev = PlatformConfig.from_context({"serving": {"dev": {"serverless": {"max_concurrency": 10}}}}).serving_settings
    assert dev.serverless == ServerlessInference(max_concurrency=10)
    assert dev.instance_type is None
    assert (dev.effective_capture_percent, dev.effective_network_isolation) == (0, False)
    back = StageServing.from_mapping({"instance_type": "ml.m5.large"}, base=dev)
    assert back.serverless is None and back.instance_type == "ml.m5.large"


def test_null_disables_autoscaling_and_a_stage_may_be_given_as_stage_serving():
    config = PlatformConfig(stage="staging", serving={
        "staging": {"autoscaling": None},
        "prod": StageServing(instance_type="ml.m5.large", deployment=DeploymentPolicy()),
    })
    assert config.serving_settings.autoscaling is None
    assert config.serving["prod"].instance_type == "ml.m5.large"


def test_model_package_arn_applies_to_the_configured_stage_only():
    config = PlatformConfig.from_context({"stage": "staging", "model_package_arn": ARN})
    assert config.serving_settings.model_package_arn == ARN
    assert config.serving["prod"].model_package_arn is None and config.serving["dev"].model_package_arn is None
    assert PlatformConfig.from_context({"model_package_arn": ""}).model_package_arn is None
    assert PlatformConfig(model_package_arn="fraud-detection/12").serving_settings.model_package_arn == "fraud-detection/12"


def test_stages_is_an_app_key_not_a_typo():
    assert PlatformConfig.from_context({"stages": "all"}) == PlatformConfig()
    assert PlatformConfig.from_context({"serving": "null"}) == PlatformConfig()


@pytest.mark.parametrize(
    "context, key, fragment",
    [
        ({"serving": "[1]"}, "serving", "JSON object of stage"),
        ({"serving": "{oops"}, "serving", "valid JSON"),
        ({"serving": {"qa": {}}}, "serving.qa", "dev | staging | prod"),
        ({"serving": {"prod": []}}, "serving.prod", "JSON object"),
        ({"serving": {"prod": {"instance_tyep": "ml.m5.large"}}}, "serving.prod.instance_tyep", "did you mean 'instance_type'"),
        ({"serving": {"dev": {"instance_type": "m5.large"}}}, "serving.dev.instance_type", "ml.<family>.<size>"),
        ({"serving": {"dev": {"instance_type": "ml.m5"}}}, "serving.dev.instance_type", "ml.m5.large"),
        ({"serving": {"dev": {"instance_count": 0}}}, "serving.dev.instance_count", ">= 1"),
        ({"serving": {"dev": {"capture_percent": 101}}}, "serving.dev.capture_percent", "[0, 100]"),
        ({"serving": {"dev": {"capture_percent": -1}}}, "serving.dev.capture_percent", "[0, 100]"),
        ({"serving": {"dev": {"capture_percent": True}}}, "serving.dev.capture_percent", "[0, 100]"),
        ({"serving": {"dev": {"network_isolation": "yes"}}}, "serving.dev.network_isolation", "true | false"),
        ({"serving": {"prod": {"autoscaling": {"min_capacity": 4, "max_capacity": 3}}}},
         "serving.prod.autoscaling.max_capacity", ">= min_capacity (4)"),
        ({"serving": {"prod": {"autoscaling": 5}}}, "serving.prod.autoscaling", "JSON object"),
        ({"serving": {"prod": {"autoscaling": {"min_capacity": 3}}}}, "serving.prod.instance_count", "[3, 6]"),
        ({"serving": {"prod": {"deployment": {"size_instances": None, "size_percent": 75}}}},
         "serving.prod.deployment.size_percent", "[1, 50]"),
        ({"serving": {"prod": {"deployment": {"size_instances": 2}}}},
         "serving.prod.deployment.size_instances", "50 % of the variant's 2 instance(s)"),
        ({"serving": {"prod": {"deployment": {"traffic_routing": "linear", "size_instances": None, "size_percent": 5}}}},
         "serving.prod.deployment.size_percent", "[10, 50]"),
        ({"serving": {"dev": {"deployment": {"size_percent": 10}}}}, "serving.dev.deployment.size_percent",
         "all_at_once"),
        ({"serving": {"dev": {"deployment": {"traffic_routing": "blue-green"}}}},
         "serving.dev.deployment.traffic_routing", "all_at_once | canary | linear"),
        ({"serving": {"prod": {"deployment": {"max_execution_timeout_seconds": 1000}}}},
         "serving.prod.deployment.max_execution_timeout_seconds", "more than the deployment's waits (1200 s"),
        ({"serving": {"dev": {"deployment": None}}}, "serving.dev.deployment", "JSON object"),
        ({"serving": {"dev": {"serverless": {}, "capture_percent": 20}}}, "serving.dev.capture_percent",
         "no data capture with serverless"),
        ({"serving": {"dev": {"serverless": {}, "network_isolation": True}}}, "serving.dev.network_isolation",
         "Serverless Inference does not support it"),
        ({"serving": {"prod": {"serverless": {}}}}, "serving.prod.autoscaling", "null with serverless"),
        ({"serving": {"prod": {"serverless": {}, "autoscaling": None}}}, "serving.prod.deployment.size_instances",
         "null with serverless"),
        ({"serving": {"dev": {"serverless": {"memory_size_in_mb": 1000}}}}, "serving.dev.serverless.memory_size_in_mb",
         "1024 | 2048"),
        ({"serving": {"dev": {"serverless": {"max_concurrency": 0}}}}, "serving.dev.serverless.max_concurrency",
         "[1, 200]"),
        ({"serving": {"dev": {"model_package_arn": ARN.rsplit("/", 1)[0]}}}, "serving.dev.model_package_arn",
         "<group>/<version>"),
        ({"serving": {"dev": {"model_source_stage": "qa"}}}, "serving.dev.model_source_stage", "dev | staging | prod"),
        ({"model_package_arn": "latest"}, "model_package_arn", "model package version"),
    ],
)
def test_invalid_serving_values_name_the_key_path(context, key, fragment):
    with pytest.raises(ValueError) as err:
        PlatformConfig.from_context(context)
    message = str(err.value)
    assert message.startswith(f"config '{key}': invalid value"), message
    assert fragment in message, message


def test_stage_serving_validates_when_built_in_python():
    with pytest.raises(ValueError, match="StageServing 'instance_count'"):
        StageServing(instance_count=0)
    with pytest.raises(ValueError, match="StageServing 'capture_percent'"):
        StageServing(instance_type=None, serverless=ServerlessInference(), capture_percent=50)


# ------------------------------------------------------- off-hours scaling
def test_off_hours_is_opt_in_on_every_stage():
    # Classic variants keep >= 1 instance: dev (1 instance, no autoscaling) and staging (minimum 1) would save
    # nothing by default, and any default working hours would be a guess about the team's time zone.
    assert DEFAULT_SERVING["dev"].autoscaling is None
    for stage in ("staging", "prod"):
        assert DEFAULT_SERVING[stage].autoscaling.off_hours is None


def test_off_hours_from_cdk_json_merges_over_the_stage_autoscaling():
    config = PlatformConfig.from_context({"stage": "staging", "serving": {"staging": {
        "instance_count": 2, "autoscaling": {"min_capacity": 2, "max_capacity": 4,
                                             "off_hours": {"time_zone": "Europe/Berlin"}}}}})
    scaling = config.serving_settings.autoscaling
    assert (scaling.min_capacity, scaling.max_capacity) == (2, 4)
    assert scaling.off_hours == OffHoursScaling(scale_in="cron(0 19 ? * MON-FRI *)",
                                                scale_out="cron(0 7 ? * MON-FRI *)", time_zone="Europe/Berlin",
                                                capacity=1)
    # A later layer changes one key and keeps the others; null removes the schedule.
    later = StageServing.from_mapping({"autoscaling": {"off_hours": {"capacity": 2}}}, base=config.serving_settings)
    assert (later.autoscaling.off_hours.time_zone, later.autoscaling.off_hours.capacity) == ("Europe/Berlin", 2)
    assert StageServing.from_mapping({"autoscaling": {"off_hours": None}}, base=later).autoscaling.off_hours is None
    assert config.serving["prod"].autoscaling.off_hours is None


# The examples of the Application Auto Scaling user guide and the EventBridge cron reference (typed from the
# docs), then the reference's wildcard examples (1/10, JAN,FEB,MAR, 1-15, L, 3W, 3#2) placed in whole expressions.
@pytest.mark.parametrize("expression", [
    "cron(0 10 * * ? *)", "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)", "cron(0/10 * ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(30 6 ? * MON *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(1/10 * * * ? *)", "cron(0 12 ? JAN,FEB,MAR MON 2027)", "cron(0 12 1-15 * ? *)", "cron(0 0 L * ? *)",
    "cron(0 0 ? * L *)", "cron(0 0 3W * ? *)", "cron(0 0 ? * 3#2 *)",
])
def test_aws_documented_cron_expressions_are_accepted(expression):
    assert OffHoursScaling(scale_in=expression, scale_out="cron(1 2 3 * ? *)").scale_in == expression


def test_off_hours_validates_when_built_in_python():
    with pytest.raises(ValueError, match=r"^OffHoursScaling 'scale_in': invalid value 'cron\(0 19 \* \* MON \*\)'"):
        OffHoursScaling(scale_in="cron(0 19 * * MON *)")
    with pytest.raises(ValueError, match=r"^AutoScaling 'off_hours.capacity': invalid value 2; allowed: an integer "
                                         r"in \[1, min_capacity=1\]"):
        AutoScaling(min_capacity=1, max_capacity=3, off_hours=OffHoursScaling(capacity=2))
    with pytest.raises(ValueError, match=r"^AutoScaling 'off_hours'"):
        AutoScaling(off_hours={"capacity": 1})  # Python callers pass an OffHoursScaling


@pytest.mark.parametrize(
    "off_hours, key, fragment",
    [
        ({"scale_in": "cron(0 19 * * MON-FRI *)"}, "scale_in", "exactly one of day-of-month ('*') and day-of-week"),
        ({"scale_in": "cron(0 19 ? * ? *)"}, "scale_in", "exactly one of day-of-month"),
        ({"scale_out": "0 7 ? * MON-FRI *"}, "scale_out", "six fields separated by single spaces"),
        ({"scale_out": "cron(0 7 ? * MON-FRI)"}, "scale_out", "six fields"),
        ({"scale_in": "rate(1 day)"}, "scale_in", "cron(<minutes> <hours>"),
        ({"scale_in": "at(2027-01-01T19:00:00)"}, "scale_in", "cron(<minutes> <hours>"),
        ({"scale_in": "cron(0 24 ? * MON-FRI *)"}, "scale_in", "hours '24': values in 0-23"),
        ({"scale_in": "cron(60 19 ? * MON-FRI *)"}, "scale_in", "minutes '60': values in 0-59"),
        ({"scale_in": "cron(0 19 ? 13 MON *)"}, "scale_in", "month '13': values in 1-12 or JAN-DEC"),
        ({"scale_in": "cron(0 19 ? * mon-fri *)"}, "scale_in", "day-of-week 'mon-fri'"),
        ({"scale_in": "cron(0 19 ? * 8 *)"}, "scale_in", "day-of-week '8': values in 1-7 or SUN-SAT"),
        ({"scale_in": "cron(0/0 19 ? * MON *)"}, "scale_in", "a step of at least 1"),
        ({"scale_in": "cron(0 19 ? * MON 1969)"}, "scale_in", "year '1969'"),
        ({"scale_in": "cron(0 19 ? * 3#1,6#3 *)"}, "scale_in", "a '#' item stands alone"),
        ({"scale_in": "cron(0 19 LW * ? *)"}, "scale_in", "day-of-month 'LW'"),
        ({"scale_out": "cron(0 19 ? * MON-FRI *)"}, "scale_out", "other than scale_in's"),
        ({"time_zone": "Europe/Berln"}, "time_zone", "did you mean 'Europe/Berlin'"),
        ({"time_zone": "GMT+1 "}, "time_zone", "IANA time zone"),
        ({"time_zone": None}, "time_zone", "IANA time zone"),
        ({"capacity": 0}, "capacity", "an integer >= 1 (an endpoint variant keeps at least one instance"),
        ({"capacity": True}, "capacity", ">= 1"),
        ({"capacity": 2}, "capacity", "[1, min_capacity=1] (off hours never run more"),
        ({"timezone": "UTC"}, "timezone", "did you mean 'time_zone'"),
    ],
)
def test_bad_off_hours_name_the_key_path(off_hours, key, fragment):
    with pytest.raises(ConfigurationError) as err:
        PlatformConfig.from_context({"serving": {"staging": {"autoscaling": {"off_hours": off_hours}}}})
    message = str(err.value)
    assert message.startswith(f"config 'serving.staging.autoscaling.off_hours.{key}': invalid value"), message
    assert fragment in message, message


@pytest.mark.parametrize(
    "serving, key, fragment",
    [
        # Where someone would first look for it: the error says where it is and why.
        ({"dev": {"off_hours": {}}}, "serving.dev.off_hours", "the key serving.dev.autoscaling.off_hours"),
        ({"staging": {"autoscaling": {"off_hours": "nights"}}}, "serving.staging.autoscaling.off_hours",
         "JSON object with keys among scale_in, scale_out, time_zone, capacity"),
        ({"prod": {"serverless": {}, "autoscaling": {"off_hours": {}}}}, "serving.prod.autoscaling",
         "null with serverless"),
    ],
)
def test_off_hours_needs_an_autoscaled_instance_endpoint(serving, key, fragment):
    with pytest.raises(ConfigurationError) as err:
        PlatformConfig.from_context({"serving": serving})
    assert str(err.value).startswith(f"config '{key}': invalid value"), str(err.value)
    assert fragment in str(err.value)


def test_retraining_keys_from_cli_strings():
    config = PlatformConfig.from_context({"retraining_on_drift": "false", "retraining_cooldown_minutes": "30",
                                          "retraining_schedule": "cron(0 3 ? * MON *)"})
    assert config.retraining_on_drift is False and config.retraining_scheduled is True
    assert config.retraining_cooldown_minutes == 30
    assert config.retraining_cooldown.to_minutes() == 30
    assert config.retraining_schedule.expression_string == "cron(0 3 ? * MON *)"


@pytest.mark.parametrize(
    "text, expression",
    [
        ("rate(7 days)", "rate(7 days)"),
        ("rate(1 days)", "rate(1 day)"),  # aws-cdk-lib spells the unit EventBridge wants
        ("rate(90 minutes)", "rate(90 minutes)"),
        (" cron(0 3 1 * ? *) ", "cron(0 3 1 * ? *)"),
        ("cron(15 */6 ? * MON-FRI 2027)", "cron(15 */6 ? * MON-FRI 2027)"),
    ],
)
def test_schedule_text_becomes_a_scheduler_expression(text, expression):
    schedule = PlatformConfig(retraining_schedule=text).retraining_schedule
    assert isinstance(schedule, scheduler.ScheduleExpression)
    assert schedule.expression_string == expression


def test_a_schedule_expression_object_is_taken_as_is_and_compares_by_value():
    berlin = scheduler.ScheduleExpression.cron(minute="0", hour="3", week_day="MON", time_zone=TimeZone.EUROPE_BERLIN)
    config = PlatformConfig(retraining_schedule=berlin)
    assert config.retraining_schedule is berlin
    assert config != PlatformConfig(retraining_schedule="cron(0 3 ? * MON *)")  # same text, other time zone
    assert PlatformConfig(retraining_schedule=scheduler.ScheduleExpression.rate(Duration.days(7))) == PlatformConfig()


@pytest.mark.parametrize(
    "context, key",
    [
        ({"retraining_schedule": "rate(0 days)"}, "retraining_schedule"),
        ({"retraining_schedule": "cron(0 3 * * MON *)"}, "retraining_schedule"),
        ({"retraining_schedule": "cron(0 3 ? * ? *)"}, "retraining_schedule"),
        ({"retraining_schedule": "cron(0 3 ? * MON)"}, "retraining_schedule"),
        ({"retraining_schedule": "every monday"}, "retraining_schedule"),
        ({"retraining_on_drift": "maybe"}, "retraining_on_drift"),
        ({"retraining_cooldown_minutes": "0"}, "retraining_cooldown_minutes"),
        ({"retraining_cooldown_minutes": "soon"}, "retraining_cooldown_minutes"),
    ],
)
def test_invalid_retraining_keys(context, key):
    with pytest.raises(ValueError, match=f"'{key}'"):
        PlatformConfig.from_context(context)


# ------------------------------------------------------------------ drift
def test_drift_settings_default_to_the_psi_conventions():
    config = PlatformConfig()
    assert (config.drift_threshold, config.drift_warning_threshold, config.drift_window_hours) == (0.2, 0.1, 24)
    assert config.drift_window.to_hours() == 24


@pytest.mark.parametrize(
    "context, key, fragment",
    [
        ({"drift_threshold": 1.5}, "drift_threshold", "(0, 1"),  # a PSI threshold above 1 never means anything
        ({"drift_threshold": 0}, "drift_threshold", "(0, 1"),
        ({"drift_threshold": "0.3", "drift_warning_threshold": "0.3"}, "drift_warning_threshold",
         "(0, drift_threshold=0.3)"),
        ({"drift_window_hours": "25"}, "drift_window_hours", "[1, 24]"),
        ({"monitoring_mode": "managed"}, "monitoring_mode", "own | model_monitor | both"),
        ({"monitoring_features": "amount,amount"}, "monitoring_features", "distinct"),
    ],
)
def test_invalid_monitoring_keys(context, key, fragment):
    with pytest.raises(ConfigurationError) as err:
        PlatformConfig.from_context(context)
    assert str(err.value).startswith(f"config '{key}': invalid value") and fragment in str(err.value), str(err.value)


# ------------------------------------------------------------------ model quality and bias
def test_own_checkers_are_the_default_because_model_monitor_is_closed_to_new_customers():
    config = PlatformConfig()
    assert config.monitoring_mode == "own"
    assert PlatformConfig.from_context(reference_context()).monitoring_mode == "own"
    assert (config.problem_type, config.ground_truth_delay_hours, config.quality_window_hours) == (
        "BinaryClassification", 24, 24)
    assert (config.bias_facets, config.explainability, config.region) == ((), None, None)
    assert config.ground_truth_location() == (None, "ground-truth/")  # the data bucket's prefix


def test_quality_and_bias_keys_from_cli_strings():
    config = PlatformConfig.from_context({
        "problem_type": "Regression",
        "ground_truth_s3_uri": "s3://team-labels/fraud",
        "ground_truth_delay_hours": "48",
        "quality_window_hours": "6",
        "bias_facets": '{"facet": "customer_age", "values_or_threshold": [60]}',
        "bias_drift_threshold": "0.05",
        "region": "",
    })
    assert config.ground_truth_s3_uri == "s3://team-labels/fraud/"
    assert config.ground_truth_location() == ("team-labels", "fraud/")
    assert (config.ground_truth_delay.to_hours(), config.quality_window.to_hours()) == (48, 6)
    (facet,) = config.bias_facets
    assert (facet.facet, facet.values_or_threshold, facet.facet_is_threshold) == ("customer_age", (60,), True)
    assert (config.bias_drift_threshold, config.region) == (0.05, None)


def test_explainability_from_json_needs_one_value_per_feature():
    width = len(PlatformConfig().monitoring_features)
    config = PlatformConfig.from_context({"explainability": f'{{"shap_baseline": [{[0] * width}]}}',
                                          "monitoring_mode": "model_monitor", "region": "eu-west-1"})
    assert config.explainability.width == width
    assert config.region == "eu-west-1"


@pytest.mark.parametrize(
    "context, key, fragment",
    [
        ({"problem_type": "binary"}, "problem_type", "BinaryClassification | MulticlassClassification | Regression"),
        ({"ground_truth_s3_uri": "labels/"}, "ground_truth_s3_uri", "s3://<bucket>/<prefix>/"),
        ({"ground_truth_s3_uri": "s3://Team_Labels/x"}, "ground_truth_s3_uri", "s3://<bucket>/<prefix>/"),
        ({"ground_truth_delay_hours": "337"}, "ground_truth_delay_hours", "[0, 336]"),  # 14 days
        ({"ground_truth_delay_hours": "-1"}, "ground_truth_delay_hours", "[0, 336]"),
        ({"ground_truth_delay_hours": "1.5"}, "ground_truth_delay_hours", "an integer"),
        ({"quality_window_hours": "0"}, "quality_window_hours", "[1, 24]"),
        ({"quality_window_hours": "25"}, "quality_window_hours", "[1, 24]"),
        ({"bias_facets": '[{"facet": "income", "values_or_threshold": [1]}]'}, "bias_facets[0].facet",
         "one of the feature names"),
        ({"bias_facets": '[{"facet": "customer_age"}]'}, "bias_facets[0].values_or_threshold", "non-empty list"),
        ({"bias_facets": '[{"facet": "customer_age", "values_or_threshold": [1], "label": 1}]'},
         "bias_facets[0].label", "keys among facet"),
        ({"bias_facets": "[1"}, "bias_facets", "valid JSON"),
        ({"bias_drift_threshold": "0"}, "bias_drift_threshold", "(0, 1]"),
        ({"bias_drift_threshold": "2"}, "bias_drift_threshold", "(0, 1]"),
        ({"explainability": '{"shap_baseline": [[1, 2]]}'}, "explainability.shap_baseline", "rows of 9 values"),
        ({"explainability": '{"shap_baselin": [[1]]}'}, "explainability.shap_baselin", "did you mean 'shap_baseline'"),
        ({"explainability": "[1]"}, "explainability", "a JSON object"),
        ({"region": "eu-west"}, "region", "like eu-west-1"),
        ({"region": "EU-WEST-1"}, "region", "like eu-west-1"),
    ],
)
def test_invalid_quality_and_bias_keys(context, key, fragment):
    with pytest.raises(ConfigurationError) as err:
        PlatformConfig.from_context(context)
    assert str(err.value).startswith(f"config '{key}': invalid value") and fragment in str(err.value), str(err.value)


# ------------------------------------------------------------------ cost
def test_budget_from_cli_json_with_defaults():
    assert PlatformConfig().budget is None
    budget = PlatformConfig.from_context({"budget": '{"monthly_usd": 500}'}).budget
    assert (budget.monthly_usd, budget.actual_percent, budget.forecast_percent) == (500, (100,), (80, 100))


@pytest.mark.parametrize(
    "raw, key",
    [
        ('{"monthly_usd": -5}', "budget.monthly_usd"),
        ('{"monthly_usd": 0}', "budget.monthly_usd"),
        ('{"monthly_usd": 500, "actual_percent": [2000]}', "budget.actual_percent"),  # over 1000 %
        ('{"monthly_usd": 500, "forecast_percent": [80, 80]}', "budget.forecast_percent"),
        ('{"monthly": 500}', "budget.monthly"),
        ("[500]", "budget"),
        ('{"monthly_usd": 500', "budget"),
    ],
)
def test_invalid_budget_names_the_key(raw, key):
    with pytest.raises(ConfigurationError) as err:
        PlatformConfig.from_context({"budget": raw})
    assert str(err.value).startswith(f"config '{key}': invalid value"), str(err.value)


# ------------------------------------------------------------------ promotion between stages
DEV_VERSION = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/mlops-fraud-detection-dev/4"


@pytest.mark.parametrize("package", [DEV_VERSION, "mlops-fraud-detection-dev/4"])
def test_another_stages_version_needs_model_source_stage(package):
    with pytest.raises(ConfigurationError) as err:
        PlatformConfig(stage="staging", serving={"staging": {"model_package_arn": package}})
    message = str(err.value)
    assert message.startswith("config 'serving.staging.model_source_stage': invalid value None; allowed: 'dev'")
    assert "mlops-fraud-detection-dev" in message
    config = PlatformConfig(stage="staging",
                            serving={"staging": {"model_package_arn": package, "model_source_stage": "dev"}})
    assert config.serving_settings.model_source_stage == "dev"


def test_model_source_stage_must_be_the_stage_whose_registry_holds_the_version():
    with pytest.raises(ConfigurationError, match="'serving.prod.model_source_stage': invalid value 'staging'"):
        PlatformConfig(stage="prod", serving={"prod": {"model_package_arn": DEV_VERSION,
                                                      "model_source_stage": "staging"}})
    with pytest.raises(ConfigurationError, match="'serving.prod.model_source_stage'.*'dev': model_package_arn"):
        PlatformConfig(stage="prod", model_package_arn=DEV_VERSION)


def test_a_version_of_a_foreign_group_is_not_second_guessed():
    config = PlatformConfig(stage="prod", model_package_arn=ARN)
    assert config.serving_settings.model_package_arn == ARN and config.serving_settings.model_source_stage is None


def test_names_of_derived_resources():
    config = PlatformConfig(project_name="risk", model_name="churn", stage="staging")
    assert (config.prefix, config.pipeline_name, config.model_package_group_name) == (
        "risk-churn-staging", "risk-churn-staging-training", "risk-churn-staging")
    assert config.prefix_of("dev") == "risk-churn-dev"
    assert config.termination_protection is False and PlatformConfig(stage="prod").termination_protection is True
