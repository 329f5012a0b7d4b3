"""The metric-gated approval Lambda, in-process against moto (SageMaker registry, S3, SNS -> SQS).

The handler is loaded by path with its folder on ``sys.path``, as Lambda loads it
(``approval_metrics`` sits next to it; conftest adds the shared modules).

moto 5.2.5 implements what the handler calls: create/describe/update_model_package
(ModelMetrics is stored and returned as given), S3 get_object and SNS publish
with delivery to an SQS subscription, which is how the tests read notifications
back. One moto deviation matters for names only: moto lower-cases the group
name inside model package ARNs (SageMaker keeps its case), so the tests use
lower-case group names.
"""

from __future__ import annotations

import itertools
import json
import math
import pathlib
import sys

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

import env
from tests import harness

HANDLER_PATH = pathlib.Path(__file__).resolve().parents[1] / "mlops_cdk" / "lambdas" / "model_approval" / "handler.py"
sys.path.insert(0, str(HANDLER_PATH.parent))  # as deployed: the function's folder is the import root
ENV_KEYS = ("METRIC_PATH", "THRESHOLD", "COMPARISON", "TOPIC_ARN", "MODEL_PACKAGE_GROUP")
GROUP = "fraud-models"
BUCKET = "metrics-bucket"
TOPIC_NAME = "model-alerts"
REGION = "us-east-1"
_counter = itertools.count()


def load_handler(monkeypatch=None, env: dict[str, str] | None = None):
    """Import handler.py by path, as Lambda does (it is not imported as part of the package)."""
    return harness.load_handler(HANDLER_PATH, monkeypatch, env, keys=ENV_KEYS)


H = load_handler()  # the gate and the config loader; the cold-start CONFIG of this copy is unused


def report(accuracy=0.93, **overrides):
    metrics = {
        "accuracy": {"value": accuracy, "standard_deviation": "NaN"},
        "precision": {"value": 0.91, "standard_deviation": "NaN"},
        "recall": {"value": 0.88, "standard_deviation": "NaN"},
        "f1": {"value": 0.895, "standard_deviation": "NaN"},
        "auc": {"value": 0.97, "standard_deviation": "NaN"},
    }
    metrics.update(overrides)
    return {"binary_classification_metrics": metrics}


class AwsEnv:
    """A registry, a metrics bucket and an alert topic whose messages land in an SQS queue."""

    def __init__(self, clients: dict) -> None:
        self.sm, self.s3, self.sns, self.sqs = (clients[k] for k in ("sagemaker", "s3", "sns", "sqs"))
        self.sm.create_model_package_group(ModelPackageGroupName=GROUP, ModelPackageGroupDescription="test")
        self.s3.create_bucket(Bucket=BUCKET)
        self.topic_arn = self.sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self.clients = H.Clients(sagemaker=self.sm, s3=self.s3, sns=self.sns)

    # -- configuration
    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            "METRIC_PATH": "binary_classification_metrics.accuracy.value",
            "THRESHOLD": "0.85",
            "COMPARISON": "GreaterThanOrEqualToThreshold",
            "TOPIC_ARN": self.topic_arn,
            "MODEL_PACKAGE_GROUP": GROUP,
        }
        env.update(overrides)
        return {k: v for k, v in env.items() if v is not None}

    def config(self, **overrides: str):
        return H.load_config(self.env(**overrides))

    # -- registry
    def put(self, key: str, body) -> str:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        return f"s3://{BUCKET}/{key}"

    def register(self, body=None, *, uri: str | None = None, metrics: bool = True,
                 status: str = "PendingManualApproval", group: str = GROUP) -> str:
        kwargs = {}
        if metrics:
            if uri is None:
                uri = self.put(f"evaluation/{next(_counter)}/evaluation.json", report() if body is None else body)
            kwargs["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": uri}}}
        return self.sm.create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription="candidate",
            InferenceSpecification={
                "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                                "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelApprovalStatus=status,
            **kwargs,
        )["ModelPackageArn"]

    def status(self, arn: str) -> str:
        return self.sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]

    def messages(self) -> list[dict]:
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            if not got.get("Messages"):
                return out
            for message in got["Messages"]:
                out.append(json.loads(message["Body"]))  # the SNS envelope: Subject, Message, TopicArn
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def event(arn, status="PendingManualApproval", group=GROUP, **detail_overrides):
    detail = {
        "ModelPackageGroupName": group,
        "ModelPackageVersion": 1,
        "ModelPackageArn": arn,
        "ModelApprovalStatus": status,
        "ModelPackageStatus": "Completed",
        **detail_overrides,
    }
    return {
        "version": "0",
        "id": "5d1f9c3e-0000-4000-8000-000000000001",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-11-26T10:00:00Z",
        "region": REGION,
        "resources": [arn],
        "detail": detail,
    }


class Recorder:
    """Wraps a boto3 client and records the operations called on it."""

    def __init__(self, client, calls: list[str]):
        self._client, self._calls = client, calls

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if callable(attr) and not name.startswith("_"):
            def call(*args, **kwargs):
                self._calls.append(name)
                return attr(*args, **kwargs)
            return call
        return attr


class Exploding:
    """Any use is a test failure: proves no AWS call was made."""

    def __getattr__(self, name):
        raise AssertionError(f"unexpected AWS client use: {name}")


def exploding_clients():
    raise AssertionError("clients must not be created for this event")


def recorded(env: AwsEnv):
    calls: list[str] = []
    return calls, H.Clients(Recorder(env.sm, calls), Recorder(env.s3, calls), Recorder(env.sns, calls))


def make_clients() -> dict:
    # Creating a SageMaker client costs ~0.3 s (a huge service model), so clients are made once and
    # reused: moto intercepts every client created after it is imported, whenever a mock is active.
    return {name: boto3.client(name, region_name=REGION) for name in ("sagemaker", "s3", "sns", "sqs")}


@pytest.fixture(scope="module")
def clients():
    return make_clients()


@pytest.fixture
def aws(clients):
    with mock_aws():  # fresh, empty backends for every test
        yield AwsEnv(clients)


# ------------------------------------------------------------------ approve
def test_good_metrics_are_approved_with_a_description(aws):
    arn = aws.register(report(accuracy=0.93))
    result = H.handle(event(arn), config=aws.config(), clients=aws.clients)
    assert result["decision"] == "approved" and result["reason"] == "threshold_met"
    assert result["metric_value"] == 0.93 and result["notified"] is False
    described = aws.sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert "binary_classification_metrics.accuracy.value = 0.93" in described["ApprovalDescription"]
    assert ">= threshold 0.85" in described["ApprovalDescription"]
    assert aws.messages() == []


def test_value_equal_to_threshold_is_approved(aws):
    arn = aws.register(report(accuracy=0.85))
    assert H.handle(event(arn), config=aws.config(), clients=aws.clients)["decision"] == "approved"
    assert aws.status(arn) == "Approved"


def test_integer_metric_counts_as_a_number(aws):
    arn = aws.register(report(accuracy=1))
    assert H.handle(event(arn), config=aws.config(), clients=aws.clients)["decision"] == "approved"


# ------------------------------------------------------------ manual review
def test_below_threshold_stays_pending_and_notifies_once_with_all_metrics(aws):
    arn = aws.register(report(accuracy=0.80))
    result = H.handle(event(arn), config=aws.config(), clients=aws.clients)
    assert result["decision"] == "manual_review" and result["reason"] == "threshold_not_met"
    assert result["notified"] is True
    assert aws.status(arn) == "PendingManualApproval"
    (message,) = aws.messages()
    assert message["TopicArn"] == aws.topic_arn
    assert message["Subject"] == f"Model needs manual review: {GROUP} v1"
    body = message["Message"]
    assert arn in body and "does not meet >= 0.85" in body
    for line in ("binary_classification_metrics.accuracy.value = 0.8",
                 "binary_classification_metrics.precision.value = 0.91",
                 "binary_classification_metrics.recall.value = 0.88",
                 "binary_classification_metrics.f1.value = 0.895",
                 "binary_classification_metrics.auc.value = 0.97",
                 'binary_classification_metrics.auc.standard_deviation = "NaN"'):
        assert line in body
    assert "update-model-package" in body


@pytest.mark.parametrize(
    "raw_value, shown",
    [
        pytest.param(b'"0.99"', '"0.99"', id="numeric-string"),
        pytest.param(b'"false"', '"false"', id="string-false"),
        pytest.param(b"true", "true", id="bool-true"),
        pytest.param(b"false", "false", id="bool-false"),
        pytest.param(b"NaN", '"nan"', id="nan"),
        pytest.param(b"Infinity", '"inf"', id="infinity"),
        pytest.param(b"-Infinity", '"-inf"', id="minus-infinity"),
        pytest.param(b"null", "null", id="null"),
        pytest.param(b"[0.99]", "[0.99]", id="list"),
        pytest.param(b'{"mean": 0.99}', '{"mean": 0.99}', id="object"),
    ],
)
def test_values_that_are_not_finite_numbers_are_never_approved(aws, raw_value, shown):
    body = b'{"binary_classification_metrics": {"accuracy": {"value": ' + raw_value + b"}}}"
    arn = aws.register(body)
    result = H.handle(event(arn), config=aws.config(), clients=aws.clients)
    assert result["decision"] == "manual_review" and result["reason"] == "metric_not_a_number"
    assert aws.status(arn) == "PendingManualApproval"
    (message,) = aws.messages()
    assert "not a finite number" in message["Message"]
    assert f"binary_classification_metrics.accuracy.value is {shown} (" in result["message"]


@pytest.mark.parametrize(
    "setup, reason",
    [
        pytest.param(lambda a: a.register({"binary_classification_metrics": {"precision": {"value": 0.99}}}),
                     "metric_missing", id="missing-key"),
        pytest.param(lambda a: a.register({"binary_classification_metrics": {"accuracy": 0.99}}),
                     "metric_missing", id="path-stops-at-a-number"),
        pytest.param(lambda a: a.register([0.99]), "metric_missing", id="report-is-a-list"),
        pytest.param(lambda a: a.register(b'{"binary_classification_metrics": {"accuracy": {"value": 0.99}'),
                     "metrics_malformed", id="truncated-json"),
        pytest.param(lambda a: a.register(b"\xff\xfe not utf-8"), "metrics_malformed", id="binary-garbage"),
        pytest.param(lambda a: a.register(b""), "metrics_malformed", id="empty-object"),
        pytest.param(lambda a: a.register(uri=f"s3://{BUCKET}/evaluation/does-not-exist.json"),
                     "metrics_unreadable", id="missing-s3-object"),
        pytest.param(lambda a: a.register(uri="s3://no-such-bucket-anywhere/evaluation.json"),
                     "metrics_unreadable", id="missing-bucket"),
        pytest.param(lambda a: a.register(uri="https://example.com/evaluation.json"),
                     "metrics_unreadable", id="not-an-s3-uri"),
        pytest.param(lambda a: a.register(metrics=False), "no_model_metrics", id="no-model-metrics"),
    ],
)
def test_unusable_metrics_never_approve_and_notify(aws, setup, reason):
    arn = setup(aws)
    result = H.handle(event(arn), config=aws.config(), clients=aws.clients)
    assert result["decision"] == "manual_review" and result["reason"] == reason
    assert aws.status(arn) == "PendingManualApproval"
    (message,) = aws.messages()
    assert arn in message["Message"]


def test_deeply_nested_report_is_reported_not_crashed_on(aws):
    body = b'{"binary_classification_metrics": {"accuracy": {"value": ' + b'[' * 500 + b']' * 500 + b'}}}'
    arn = aws.register(body)
    result = H.handle(event(arn), config=aws.config(), clients=aws.clients)
    assert result["reason"] == "metric_not_a_number"
    (message,) = aws.messages()
    assert "nested deeper than 20 levels" in message["Message"]


def test_oversized_report_is_not_parsed(aws, monkeypatch):
    monkeypatch.setattr(H, "MAX_REPORT_BYTES", 64)
    arn = aws.register(report(accuracy=0.99))
    result = H.handle(event(arn), config=aws.config(), clients=aws.clients)
    assert result["reason"] == "metrics_malformed" and "larger than 64 bytes" in result["message"]
    assert aws.status(arn) == "PendingManualApproval"


# -------------------------------------------------------------- idempotency
def test_already_decided_packages_are_left_alone(aws):
    for status in ("Approved", "Rejected"):
        arn = aws.register(report(accuracy=0.99), status=status)
        calls, clients = recorded(aws)
        # The event may be stale (say, a delayed PendingManualApproval event): the current status wins.
        result = H.handle(event(arn), config=aws.config(), clients=clients)
        assert result["decision"] == "skipped" and result["reason"] == "not_pending"
        assert result["current_status"] == status
        assert calls == ["describe_model_package"]
        assert aws.status(arn) == status
    assert aws.messages() == []


def test_repeated_event_approves_once(aws):
    arn = aws.register(report(accuracy=0.99))
    calls, clients = recorded(aws)
    first = H.handle(event(arn), config=aws.config(), clients=clients)
    description = aws.sm.describe_model_package(ModelPackageName=arn)["ApprovalDescription"]
    second = H.handle(event(arn), config=aws.config(), clients=clients)
    assert (first["decision"], second["decision"]) == ("approved", "skipped")
    assert calls.count("update_model_package") == 1
    assert "publish" not in calls
    assert aws.sm.describe_model_package(ModelPackageName=arn)["ApprovalDescription"] == description
    assert aws.messages() == []


def test_event_status_other_than_pending_makes_no_call(aws):
    arn = aws.register(report(accuracy=0.99))
    result = H.handle(event(arn, status="Approved"), config=aws.config(), clients=exploding_clients)
    assert result["decision"] == "skipped" and result["reason"] == "event_not_pending"


def test_packages_of_other_groups_are_not_touched(aws):
    aws.sm.create_model_package_group(ModelPackageGroupName="other-models")
    arn = aws.register(report(accuracy=0.99), group="other-models")
    # Named in the event: no call at all.
    result = H.handle(event(arn, group="other-models"), config=aws.config(), clients=exploding_clients)
    assert result["reason"] == "other_group"
    # Not named in the event: the described package decides.
    detail_without_group = event(arn)
    del detail_without_group["detail"]["ModelPackageGroupName"]
    result = H.handle(detail_without_group, config=aws.config(), clients=aws.clients)
    assert result["decision"] == "skipped" and result["reason"] == "other_group"
    assert aws.status(arn) == "PendingManualApproval"
    assert aws.messages() == []


# ----------------------------------------------------------- malformed events
def _bad_events():
    good = event("arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-models/1")

    def changed(fn):
        copy = json.loads(json.dumps(good))
        fn(copy)
        return copy

    return [
        pytest.param(None, id="none"),
        pytest.param([], id="list"),
        pytest.param({}, id="empty-dict"),
        pytest.param("aws.sagemaker", id="string"),
        pytest.param(changed(lambda e: e.update(source="aws.s3")), id="wrong-source"),
        pytest.param(changed(lambda e: e.update({"detail-type": "SageMaker Model State Change"})),
                     id="wrong-detail-type"),
        pytest.param(changed(lambda e: e.pop("detail")), id="no-detail"),
        pytest.param(changed(lambda e: e.update(detail="oops")), id="detail-not-object"),
        pytest.param(changed(lambda e: e["detail"].pop("ModelPackageArn")), id="missing-arn"),
        pytest.param(changed(lambda e: e["detail"].update(ModelPackageArn="arn:aws:s3:::bucket/key")),
                     id="not-a-package-arn"),
        pytest.param(changed(lambda e: e["detail"].update(ModelPackageArn=42)), id="arn-not-string"),
        pytest.param(changed(lambda e: e["detail"].pop("ModelApprovalStatus")), id="missing-status"),
        pytest.param(changed(lambda e: e["detail"].update(ModelPackageGroupName=["fraud-models"])),
                     id="group-not-string"),
    ]


@pytest.mark.parametrize("bad_event", _bad_events())
def test_malformed_events_are_dropped_without_any_aws_call(bad_event):
    config = H.load_config({"METRIC_PATH": "a.b", "THRESHOLD": "0.5", "COMPARISON": "GreaterThanOrEqualToThreshold",
                            "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t", "MODEL_PACKAGE_GROUP": GROUP})
    result = H.handle(bad_event, config=config, clients=exploding_clients)
    assert result["decision"] == "invalid_event" and result["notified"] is False
    result = H.handle(bad_event, config=config, clients=H.Clients(Exploding(), Exploding(), Exploding()))
    assert result["decision"] == "invalid_event"


def test_lambda_entry_point_drops_malformed_events_before_creating_clients(monkeypatch):
    module = load_handler(monkeypatch, {"METRIC_PATH": "a.b", "THRESHOLD": "0.5", "TOPIC_ARN": "t",
                                        "COMPARISON": "GreaterThanOrEqualToThreshold", "MODEL_PACKAGE_GROUP": GROUP})
    monkeypatch.setattr(module, "default_clients", exploding_clients)
    for bad in (None, [], {}, {"source": "aws.sagemaker"}):
        assert module.handler(bad, None)["decision"] == "invalid_event"


# -------------------------------------------------------------- direction
def test_less_than_or_equal_gates_a_loss_metric(aws):
    config = aws.config(METRIC_PATH="regression_metrics.mse.value", THRESHOLD="0.25",
                        COMPARISON="LessThanOrEqualToThreshold")
    good = aws.register({"regression_metrics": {"mse": {"value": 0.2}, "r2": {"value": 0.7}}})
    equal = aws.register({"regression_metrics": {"mse": {"value": 0.25}}})
    bad = aws.register({"regression_metrics": {"mse": {"value": 0.3}, "r2": {"value": 0.6}}})
    assert H.handle(event(good), config=config, clients=aws.clients)["decision"] == "approved"
    assert H.handle(event(equal), config=config, clients=aws.clients)["decision"] == "approved"
    result = H.handle(event(bad), config=config, clients=aws.clients)
    assert result["decision"] == "manual_review" and "does not meet <= 0.25" in result["message"]
    assert [aws.status(a) for a in (good, equal, bad)] == ["Approved", "Approved", "PendingManualApproval"]
    (message,) = aws.messages()
    assert "regression_metrics.r2.value = 0.6" in message["Message"]
    assert "LessThanOrEqualToThreshold" in message["Message"]


# ------------------------------------------------------------ configuration
def test_config_from_environment_is_parsed():
    config = H.load_config({"METRIC_PATH": " m.a ", "THRESHOLD": "0.9", "COMPARISON": "LessThanOrEqualToThreshold",
                            "TOPIC_ARN": "arn:aws-cn:sns:cn-north-1:123456789012:alerts", "MODEL_PACKAGE_GROUP": "g-1"})
    assert (config.metric_path, config.threshold, config.comparison, config.model_package_group) == (
        "m.a", 0.9, "LessThanOrEqualToThreshold", "g-1")


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"THRESHOLD": "abc"}, "THRESHOLD"),
        ({"THRESHOLD": "nan"}, "THRESHOLD"),
        ({"THRESHOLD": "inf"}, "THRESHOLD"),
        ({"THRESHOLD": None}, "THRESHOLD"),
        ({"COMPARISON": "GreaterThanThreshold"}, "COMPARISON"),
        ({"COMPARISON": ""}, "COMPARISON"),
        ({"METRIC_PATH": "binary_classification_metrics..accuracy"}, "METRIC_PATH"),
        ({"METRIC_PATH": "$.metrics.accuracy"}, "METRIC_PATH"),
        ({"MODEL_PACKAGE_GROUP": None}, "MODEL_PACKAGE_GROUP"),
        ({"TOPIC_ARN": " "}, "TOPIC_ARN"),
    ],
)
def test_invalid_config_fails_every_invocation_and_never_approves(aws, monkeypatch, capsys, overrides, named):
    module = load_handler(monkeypatch, aws.env(**overrides))  # cold start with the broken environment
    monkeypatch.setattr(module, "default_clients", exploding_clients)
    cold_start_log = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["level"] for entry in cold_start_log] == ["ERROR"] and named in cold_start_log[0]["error"]
    arn = aws.register(report(accuracy=0.99))
    for _ in range(2):  # every delivery fails: Lambda retries, then the event waits in the dead-letter queue
        with pytest.raises(env.ConfigError, match=named):
            module.handler(event(arn), None)
    assert aws.status(arn) == "PendingManualApproval"
    assert aws.messages() == []


def test_every_configuration_problem_is_reported_at_once():
    with pytest.raises(env.ConfigError) as caught:
        H.load_config({"THRESHOLD": "high", "COMPARISON": "Above", "TOPIC_ARN": "t"})
    assert all(name in str(caught.value) for name in ("METRIC_PATH", "THRESHOLD", "COMPARISON", "MODEL_PACKAGE_GROUP"))


def test_an_unusable_topic_fails_the_invocation_and_never_approves(aws):
    arn = aws.register(report(accuracy=0.5))
    with pytest.raises(ClientError):
        H.handle(event(arn), config=aws.config(TOPIC_ARN="not-an-arn"), clients=aws.clients)
    assert aws.status(arn) == "PendingManualApproval"


def test_cold_start_config_and_entry_point_end_to_end(aws, monkeypatch, capsys):
    module = load_handler(monkeypatch, aws.env(THRESHOLD="0.9"))
    monkeypatch.setattr(module, "default_clients", lambda: aws.clients)
    assert module.CONFIG.error is None and module.CONFIG.get().threshold == 0.9
    good, bad = aws.register(report(accuracy=0.95)), aws.register(report(accuracy=0.89))
    assert module.handler(event(good), None)["decision"] == "approved"
    assert module.handler(event(bad), None)["decision"] == "manual_review"
    assert (aws.status(good), aws.status(bad)) == ("Approved", "PendingManualApproval")
    # Structured logs: one JSON object per line, with the decision and its reason.
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    decisions = [(e["decision"], e["reason"]) for e in entries if "decision" in e]
    assert decisions == [("approved", "threshold_met"), ("manual_review", "threshold_not_met")]
    assert all(e["model_package_arn"] in (good, bad) for e in entries if "decision" in e)


def test_default_clients_come_from_the_shared_environment(monkeypatch):
    made = []
    monkeypatch.setattr(env, "client", lambda service: made.append(service) or service)
    assert H.default_clients() == H.Clients(sagemaker="sagemaker", s3="s3", sns="sns")
    assert made == ["sagemaker", "s3", "sns"]


def test_log_lines_stay_json_for_nan_values(aws, capsys):
    arn = aws.register(b'{"binary_classification_metrics": {"accuracy": {"value": NaN}}}')
    capsys.readouterr()
    H.handle(event(arn), config=aws.config(), clients=aws.clients)
    for line in capsys.readouterr().out.splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c} in log line"))


# ------------------------------------------------------------- AWS failures
def _client_error(code, status, operation):
    return ClientError({"Error": {"Code": code, "Message": "simulated"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


class Failing:
    """A client that raises ``error`` for ``operation`` and delegates everything else."""

    def __init__(self, client, operation, error):
        self._client, self._operation, self._error = client, operation, error

    def __getattr__(self, name):
        if name == self._operation:
            def fail(*args, **kwargs):
                raise self._error
            return fail
        return getattr(self._client, name)


@pytest.mark.parametrize(
    "service, operation, code, status",
    [
        ("sagemaker", "describe_model_package", "ThrottlingException", 400),
        ("sagemaker", "describe_model_package", "InternalFailure", 500),
        ("s3", "get_object", "SlowDown", 503),
        ("s3", "get_object", "InternalError", 500),
        ("sagemaker", "update_model_package", "ThrottlingException", 400),
        ("sns", "publish", "Throttled", 429),
        ("sns", "publish", "AuthorizationError", 403),  # can't tell a human: keep the event (DLQ)
    ],
)
def test_transient_errors_and_failed_notifications_are_raised_for_retry(aws, service, operation, code, status):
    arn = aws.register(report(accuracy=0.99 if operation != "publish" else 0.5))
    clients = {"sagemaker": aws.sm, "s3": aws.s3, "sns": aws.sns}
    clients[service] = Failing(clients[service], operation, _client_error(code, status, operation))
    with pytest.raises(ClientError):
        H.handle(event(arn), config=aws.config(), clients=H.Clients(**clients))
    assert aws.status(arn) == "PendingManualApproval"
    # The retry (after the outage) decides normally.
    assert H.handle(event(arn), config=aws.config(), clients=aws.clients)["decision"] in ("approved", "manual_review")


def test_permanent_api_errors_notify_instead_of_retrying(aws):
    missing = "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-models/99"
    result = H.handle(event(missing), config=aws.config(), clients=aws.clients)
    assert result["decision"] == "manual_review" and result["reason"] == "describe_failed"
    arn = aws.register(report(accuracy=0.99))
    denied = Failing(aws.sm, "update_model_package", _client_error("AccessDeniedException", 400, "UpdateModelPackage"))
    result = H.handle(event(arn), config=aws.config(), clients=H.Clients(denied, aws.s3, aws.sns))
    assert result["decision"] == "manual_review" and result["reason"] == "approve_failed"
    assert aws.status(arn) == "PendingManualApproval"
    assert len(aws.messages()) == 2


def test_transient_classification():
    assert H.is_transient(_client_error("ThrottlingException", 400, "X"))
    assert H.is_transient(_client_error("Whatever", 502, "X"))
    assert not H.is_transient(_client_error("AccessDeniedException", 403, "X"))
    assert not H.is_transient(_client_error("NoSuchKey", 404, "X"))
    assert not H.is_transient(ValueError("x"))


# ------------------------------------------------------------------ property
def _oracle(value, threshold):
    """Independent statement of the rule: a JSON number that is a real, finite value >= threshold."""
    if type(value) not in (int, float):  # bool is its own type; strings, null, containers are out
        return False
    if value != value or value in (float("inf"), float("-inf")):
        return False
    return value >= threshold


json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=0.8, max_value=0.9)
    | st.sampled_from([0.85, 0.8499999999999999, 0.8500000000000001, 1, 0, "0.99", "false", "NaN", ""])
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


def test_property_approves_iff_value_is_a_finite_number_meeting_threshold():
    with mock_aws():
        aws = AwsEnv(make_clients())
        config = aws.config()
        outcomes = []

        # End to end through moto (~8 API calls an example): the rule itself gets 300 examples below.
        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(value=json_scalars | json_values)
        @example(value=0.93)
        @example(value=0.85)
        @example(value=10 ** 30)
        @example(value=0.8499999999999999)
        @example(value="0.99")
        @example(value=True)
        @example(value=float("nan"))
        def check(value):
            body = json.dumps({"binary_classification_metrics": {"accuracy": {"value": value}}}).encode()
            arn = aws.register(body)
            result = H.handle(event(arn), config=config, clients=aws.clients)
            expected = _oracle(value, 0.85)
            assert (result["decision"] == "approved") is expected, (value, result)
            assert (aws.status(arn) == "Approved") is expected
            assert result["notified"] is (not expected)
            outcomes.append(expected)

        check()
        assert True in outcomes and False in outcomes  # both sides of the gate (the explicit examples at least)


@settings(max_examples=300, deadline=None)
@given(value=json_values, threshold=st.floats(allow_nan=False, allow_infinity=False, width=32),
       direction=st.sampled_from(["GreaterThanOrEqualToThreshold", "LessThanOrEqualToThreshold"]))
def test_property_threshold_rule_matches_oracle(value, threshold, direction):
    sign = 1 if direction == "GreaterThanOrEqualToThreshold" else -1
    expected = _oracle(value * sign if type(value) in (int, float) else value, threshold * sign)
    assert H.meets_threshold(value, threshold, direction) is expected
    assert math.isfinite(threshold)
