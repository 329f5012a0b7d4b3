"""PlatformConfig: defaults, context parsing (cdk.json JSON and `-c` strings), every validation error."""

import pytest

from mlops_cdk import PlatformConfig
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
        ({"project_name": "a" * 20, "model_name": "b" * 20}, "project_name", "at most 35"),
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
    with pytest.raises(ValueError) as err:
        PlatformConfig.from_context(context)
    message = str(err.value)
    assert f"'{key}'" in message and fragment in message


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
