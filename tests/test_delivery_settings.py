"""DeliverySettings: cdk.json's ``delivery`` key, every bad value an error naming its path (no synthesis here)."""

from __future__ import annotations

import pytest

from mlops_cdk.settings.delivery import CodeCommitSource, ConnectionSource, DeliverySettings, S3Source

CONNECTION = "arn:aws:codeconnections:eu-west-1:999999999999:connection/1234abcd-12ab-34cd-56ef-1234567890ab"
VALID = {
    "source": {"connection_arn": CONNECTION, "repository": "acme/ml-platform", "branch": "main"},
    "accounts": {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"},
    "pipeline_account": "999999999999",
    "region": "eu-west-1",
}


def load(**changes):
    return DeliverySettings.from_mapping({**VALID, **changes}, path="delivery.")


def test_the_readme_example_loads_with_every_stage_in_order_and_default_gates():
    settings = load()
    assert settings.source == ConnectionSource(connection_arn=CONNECTION, repository="acme/ml-platform", branch="main")
    assert settings.stages == ("dev", "staging", "prod")
    assert settings.account_of("staging") == "222222222222"
    assert settings.cross_account
    assert settings.deployment_accounts == ("111111111111", "222222222222", "333333333333")
    assert (settings.max_latency_ms, settings.sample_records, settings.samples_file) == (2000, 20, None)


@pytest.mark.parametrize("source, expected", [
    ({"bucket": "acme-source", "key": "ml-platform/main.zip"},
     S3Source(bucket="acme-source", key="ml-platform/main.zip")),
    ({"codecommit_repository": "ml-platform"}, CodeCommitSource(codecommit_repository="ml-platform", branch="main")),
    ({"codecommit_repository": "ml-platform", "branch": "release/2"},
     CodeCommitSource(codecommit_repository="ml-platform", branch="release/2")),
    ({"connection_arn": CONNECTION.replace("codeconnections", "codestar-connections"), "repository": "g/sub/r",
      "branch": "main"}, None),
])
def test_each_source_form_loads(source, expected):
    settings = DeliverySettings.from_mapping({"source": source}, path="delivery.")
    assert settings.source == (expected or ConnectionSource(**source))
    assert not settings.cross_account and settings.accounts == {}


def test_one_account_for_every_stage_and_the_pipeline_is_not_cross_account():
    same = {stage: "999999999999" for stage in ("dev", "staging", "prod")}
    assert not load(accounts=same).cross_account
    assert load(accounts={"prod": "333333333333"}).cross_account


def test_python_objects_are_accepted_and_checked_too():
    settings = DeliverySettings(source=S3Source(bucket="acme-source", key="src.zip"), stages=["dev", "prod"])
    assert settings.stages == ("dev", "prod")
    with pytest.raises(ValueError, match=r"DeliverySettings 'source.key'"):
        DeliverySettings(source={"bucket": "acme-source"})
    with pytest.raises(ValueError, match=r"ConnectionSource 'branch'"):
        ConnectionSource(connection_arn=CONNECTION, repository="a/b", branch="-bad")


@pytest.mark.parametrize("changes, key, allowed", [
    ({"accounts": {"prod": "12"}}, "delivery.accounts.prod", "12-digit"),
    ({"accounts": {"prod": 333333333333}}, "delivery.accounts.prod", "12-digit"),
    ({"accounts": {"qa": "111111111111"}}, "delivery.accounts.qa", "dev | staging | prod"),
    ({"accounts": ["111111111111"]}, "delivery.accounts", "stage -> account id"),
    ({"stages": ["prod", "staging"]}, "delivery.stages", "in the order dev, staging, prod"),
    ({"stages": ["dev", "dev"]}, "delivery.stages", "distinct"),
    ({"stages": ["dev", "qa"]}, "delivery.stages", "known stages"),
    ({"stages": []}, "delivery.stages", "non-empty"),
    ({"stages": ["dev"]}, "delivery.accounts.staging", "accounts of the delivered stages: dev"),
    ({"source": None}, "delivery.source", "required"),
    ({"source": {}}, "delivery.source", "exactly one source (none given)"),
    ({"source": {"bucket": "b-b-b", "key": "k.zip", "connection_arn": CONNECTION}}, "delivery.source", "exactly one"),
    ({"source": "acme/ml-platform"}, "delivery.source", "a JSON object"),
    ({"source": {"connection_arn": CONNECTION, "repository": "acme/ml-platform"}}, "delivery.source.branch",
     "required with 'connection_arn'"),
    ({"source": {"connection_arn": "arn:aws:s3:::bucket", "repository": "a/b", "branch": "main"}},
     "delivery.source.connection_arn", "codeconnections"),
    ({"source": {"connection_arn": CONNECTION, "repository": "no-owner", "branch": "main"}},
     "delivery.source.repository", "<owner>/<repository>"),
    ({"source": {"bucket": "acme-source", "key": "src.tar.gz"}}, "delivery.source.key", ".zip"),
    ({"source": {"bucket": "Acme_Source", "key": "src.zip"}}, "delivery.source.bucket", "S3 bucket name"),
    ({"source": {"codecommit_repository": "bad name"}}, "delivery.source.codecommit_repository", "CodeCommit"),
    ({"source": {"codecommit_repository": "r", "branch": "a..b"}}, "delivery.source.branch", "git branch"),
    ({"source": {"codecommit_repository": "r", "repository": "a/b"}}, "delivery.source.repository", "keys among"),
    ({"pipeline_account": None}, "delivery.pipeline_account", "required with accounts"),
    ({"pipeline_account": "99"}, "delivery.pipeline_account", "12-digit"),
    ({"region": None}, "delivery.region", "required with accounts"),
    ({"region": "xx-north-9"}, "delivery.region", "a region cfn-lint"),
    ({"region": "EU-WEST-1"}, "delivery.region", "region name"),
    ({"max_latency_ms": 0}, "delivery.max_latency_ms", "[1, 60000]"),
    ({"max_latency_ms": 60001}, "delivery.max_latency_ms", "[1, 60000]"),
    ({"sample_records": 1001}, "delivery.sample_records", "[1, 1000]"),
    ({"sample_records": True}, "delivery.sample_records", "an integer"),
    ({"samples_file": "../secrets.csv"}, "delivery.samples_file", "without '..'"),
    ({"samples_file": "/etc/passwd"}, "delivery.samples_file", "relative path"),
    ({"manual_approval": False}, "delivery.manual_approval", "keys among"),
])
def test_bad_values_are_errors_naming_the_key(changes, key, allowed):
    with pytest.raises(ValueError) as error:
        load(**changes)
    message = str(error.value)
    assert message.startswith(f"config '{key}': invalid value"), message
    assert allowed in message, message


def test_a_typo_of_a_key_suggests_the_key():
    with pytest.raises(ValueError, match=r"'delivery.acounts'.*did you mean 'accounts'"):
        DeliverySettings.from_mapping({**VALID, "acounts": {}}, path="delivery.")


def test_no_object_at_all_is_an_error_naming_delivery():
    with pytest.raises(ValueError, match=r"config 'delivery': invalid value 'yes'"):
        DeliverySettings.from_mapping("yes", path="delivery.")
