"""The quality checker's runtime: entry point, the schedule's time, retries, limits, AWS errors, configuration.

What must hold whatever the data: a retry or a dead-letter redrive checks the window it missed and
writes its report and datapoints once; values CloudWatch cannot store never fail a run; bad settings
raise the shared ``env.ConfigError`` naming every problem.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

import env
from tests.harness import load_handler
from tests.quality_checker_data import (
    ENDPOINT, LAMBDA_DIR, MODEL, NOW, QUALITY_ENV, REPORT_BUCKET, UTC, capture_line, h, label_line,
    moto_account_fixture, put_capture, put_labels,
)

moto_clients, aws = moto_account_fixture()

ENV = QUALITY_ENV
RUN = {"ModelName": MODEL, "EndpointName": ENDPOINT, "Check": "model_quality"}


def _window(s3, records: dict[str, float], *, when=NOW - timedelta(hours=5)) -> None:
    put_capture(s3, when, [capture_line(inputs=[[1, 2]], output=repr(s), when=when, event_id=e)
                           for e, s in records.items()])


def _handler(aws, monkeypatch, **extra):
    module = load_handler(LAMBDA_DIR / "handler.py", monkeypatch, {**ENV, "METRIC_NAMESPACE": aws.namespace, **extra})
    monkeypatch.setattr(env, "client", {"s3": aws.s3_spy, "cloudwatch": aws.cw_spy}.__getitem__)
    return module


# --------------------------------------------------------------------------- the schedule's time


def _scheduled(when: str | None) -> dict:
    event = {"version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41", "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "123456789012", "region": "us-east-1",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/quality"], "detail": {}}
    return event if when is None else {**event, "time": when}


def test_the_window_ends_at_the_schedule_time_so_a_redrive_checks_the_missed_window(aws, monkeypatch):
    fired = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)  # redriven from the DLQ three days later
    when = fired - timedelta(minutes=20)
    put_capture(aws.s3, when, [capture_line(inputs=[[1]], output="0.9", when=when, event_id="then")])
    put_labels(aws.s3, fired, [label_line("then", "1")])
    module = _handler(aws, monkeypatch, WINDOW_HOURS="1")
    result = module.handler(_scheduled(fired.strftime("%Y-%m-%dT%H:%M:%SZ")), None)
    assert result["status"] == "ok" and result["counts"]["labelled_records"] == 1
    assert result["window"]["end"] == fired.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["report_uri"].endswith(f"{fired:%Y-%m-%dT%H-%M-%SZ}.json")
    (call,) = aws.cw_spy.calls_to("put_metric_data")
    assert {d["Timestamp"] for d in call["MetricData"]} == {fired}


@pytest.mark.parametrize(("when", "logged"), [
    (None, None),
    ("yesterday", "unreadable"),
    (12, "unreadable"),
    ("2001-01-01T00:00:00Z", "out of range"),  # older than CloudWatch keeps datapoints for
    ((datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), "out of range"),
], ids=["absent", "text", "number", "too-old", "in-the-future"])  # stable ids: xdist workers must collect the same
def test_without_a_usable_schedule_time_the_window_ends_now(aws, monkeypatch, capsys, when, logged):
    module = _handler(aws, monkeypatch, WINDOW_HOURS="1")
    before = datetime.now(UTC)
    result = module.handler(_scheduled(when), None)
    end = datetime.fromisoformat(result["window"]["end"].replace("Z", "+00:00"))
    assert result["status"] == "empty" and before <= end <= datetime.now(UTC)
    warnings = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"WARNING"' in x]
    assert [w for w in warnings if logged and logged in w["message"]] or (logged is None and len(warnings) == 1)


@pytest.mark.parametrize("event", [None, "a string", [1, 2], {"time": None}, {"time": {"nested": 1}}])
def test_malformed_events_never_crash(aws, monkeypatch, event):
    assert _handler(aws, monkeypatch, WINDOW_HOURS="1").handler(event, None)["status"] == "empty"


# --------------------------------------------------------------------------- retries, limits


def test_a_retry_after_a_failed_publish_rewrites_the_report_and_publishes_once(aws):
    _window(aws.s3, {"a": 0.9, "b": 0.2})
    put_labels(aws.s3, NOW, [label_line("a", "1"), label_line("b", "1")])
    failing = {"left": 1}
    publish = aws.cw_spy.put_metric_data

    def flaky(**kwargs):
        if failing["left"]:
            failing["left"] -= 1
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "PutMetricData")
        return publish(**kwargs)

    aws.cw_spy.put_metric_data = flaky
    with pytest.raises(ClientError):
        aws.run(ENV)
    reports = aws.s3.list_objects_v2(Bucket=REPORT_BUCKET)["Contents"]
    assert len(reports) == 1  # written before the metrics
    result = aws.run(ENV)  # Lambda's retry: the same event, so the same time
    assert [o["Key"] for o in aws.s3.list_objects_v2(Bucket=REPORT_BUCKET)["Contents"]] == [reports[0]["Key"]]
    assert aws.metric("LabelledRecords", **RUN) == 2  # one datapoint (aws.metric asserts it), not two
    assert result["metrics"]["ModelAccuracy"] == 0.5


@pytest.mark.parametrize(("big", "left_out"), [
    (1e60, {"ModelMSE"}),  # squared errors beyond 2^360: MSE cannot be stored, RMSE and MAE can
    (1e200, {"ModelMAE", "ModelMSE", "ModelRMSE", "ModelR2"}),  # squares overflow to inf
])
def test_values_cloudwatch_cannot_store_are_reported_not_published(aws, capsys, big, left_out):
    when = NOW - timedelta(hours=2)
    put_capture(aws.s3, when, [capture_line(inputs=[[1]], output=repr(out), when=when, event_id=e)
                               for e, out in (("a", -big), ("b", big), ("c", 3e-200))])
    put_labels(aws.s3, NOW, [label_line("a", repr(big)), label_line("b", repr(-big)), label_line("c", "0")])
    result = aws.run(ENV, {"PROBLEM_TYPE": "Regression"})
    assert result["status"] == "ok" and result["metrics"]["ModelMAE"] == pytest.approx(4 * big / 3)
    report = aws.report(result["report_uri"])  # valid JSON even with inf or NaN inside
    assert report["metrics"]["ModelMAE"] == pytest.approx(4 * big / 3)
    published = {name for name, _ in aws.metric_names()}
    assert published & left_out == set() and {"ModelMAE", "ModelMSE", "ModelRMSE", "ModelR2"} - left_out <= published
    warning = next(json.loads(x) for x in capsys.readouterr().out.splitlines() if '"WARNING"' in x)
    assert {u["metric"] for u in warning["unpublishable"]} == left_out


def test_tiny_values_are_published_as_zero():
    import quality_outputs

    config = h.load_config({**ENV, "PROBLEM_TYPE": "Regression"})
    counts = dict.fromkeys(("labelled_records", "unlabelled_predictions", "unmatched_labels", "malformed_lines"), 0)
    data, left_out = quality_outputs.metric_data(config, NOW, counts, {"ModelMAE": 1e-300, "ModelR2": None}, {})
    assert [(d["MetricName"], d["Value"]) for d in data][:1] == [("ModelMAE", 0.0)] and left_out == []
    assert "ModelR2" not in {d["MetricName"] for d in data}


def test_metrics_go_out_in_calls_of_at_most_1000():
    calls = []

    class CloudWatch:
        def put_metric_data(self, **kwargs):
            calls.append(kwargs)

    import quality_outputs

    quality_outputs.publish(CloudWatch(), "ns", [{"MetricName": str(i)} for i in range(2500)])
    assert [len(c["MetricData"]) for c in calls] == [1000, 1000, 500] and {c["Namespace"] for c in calls} == {"ns"}


def test_aws_errors_raise_and_the_temporary_directory_is_removed(aws, monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    _window(aws.s3, {"a": 0.9})
    put_labels(aws.s3, NOW, [label_line("a", "1")])
    with pytest.raises(ClientError):
        aws.run(ENV, {"REPORT_BUCKET": "no-such-bucket"})
    assert os.listdir(tmp_path) == []
    aws.run(ENV)
    assert os.listdir(tmp_path) == []


def test_the_window_end_must_be_timezone_aware(aws):
    with pytest.raises(ValueError, match="timezone-aware"):
        aws.run(ENV, now=NOW.replace(tzinfo=None))


def test_entry_point_uses_the_cold_start_config(aws, monkeypatch, capsys):
    from datetime import datetime

    now = datetime.now(UTC)
    when = now - timedelta(minutes=20)
    put_capture(aws.s3, when, [capture_line(inputs=[[1]], output="0.9", when=when, event_id="live")])
    put_labels(aws.s3, now, [label_line("live", "1")])
    module = load_handler(LAMBDA_DIR / "handler.py", monkeypatch, {**ENV, "METRIC_NAMESPACE": aws.namespace,
                                                                   "WINDOW_HOURS": "1"})
    monkeypatch.setattr(env, "client", {"s3": aws.s3, "cloudwatch": aws.cloudwatch}.__getitem__)
    capsys.readouterr()
    result = module.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert result["status"] == "ok" and result["counts"]["labelled_records"] == 1 and result["window"]["hours"] == 1
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["logger"] == "mlops_cdk.quality_checker" and line["status"] == "ok"
    assert line["report_uri"] == result["report_uri"]


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(("override", "message"), [
    ({"CHECK": None}, "CHECK is not set"),
    ({"CHECK": "drift"}, "CHECK: invalid value 'drift'; allowed: model_quality | bias_drift"),
    ({"PROBLEM_TYPE": "Binary"}, "PROBLEM_TYPE: invalid value 'Binary'; allowed: BinaryClassification | "),
    ({"CAPTURE_PREFIX": None}, "CAPTURE_PREFIX is not set"),
    ({"MODEL_NAME": ""}, "MODEL_NAME is empty"),
    ({"GROUND_TRUTH_BUCKET": None}, "GROUND_TRUTH_BUCKET is not set"),
    ({"GROUND_TRUTH_PREFIX": None}, "GROUND_TRUTH_PREFIX is not set"),
    ({"WINDOW_HOURS": "25"}, r"WINDOW_HOURS: invalid value '25'; allowed: an integer in \[1, 24\]"),
    ({"LABEL_DELAY_HOURS": "-1"}, r"LABEL_DELAY_HOURS: invalid value '-1'; allowed: an integer in \[0, 336\]"),
    ({"LABEL_DELAY_HOURS": "337"}, r"LABEL_DELAY_HOURS: invalid value '337'"),
    ({"PROBABILITY_THRESHOLD": "high"}, "PROBABILITY_THRESHOLD: invalid value 'high'"),
    ({"INFERENCE_ATTRIBUTE": "$.predictions[0"}, r"INFERENCE_ATTRIBUTE: invalid value '\$.predictions\[0'"),
    ({"PROBABILITY_ATTRIBUTE": "a[*]"}, r"PROBABILITY_ATTRIBUTE: invalid value 'a\[\*\]'"),
    ({"PROBLEM_TYPE": "Regression", "PROBABILITY_ATTRIBUTE": "0"},
     "PROBABILITY_ATTRIBUTE: invalid value '0'; allowed: unset unless PROBLEM_TYPE is BinaryClassification"),
])
def test_invalid_config_raises(override, message):
    environ = {k: v for k, v in {**ENV, **override}.items() if v is not None}
    with pytest.raises(env.ConfigError, match=message):
        h.load_config(environ)


def test_config_defaults_and_prefixes():
    config = h.load_config({**ENV, "CAPTURE_PREFIX": "/data-capture/", "REPORT_PREFIX": "", "GROUND_TRUTH_PREFIX": ""})
    assert (config.window_hours, config.label_delay_hours, config.probability_threshold) == (24, 0, 0.5)
    assert config.metric_namespace == "MLOps/ModelMonitoring" and config.capture_prefix == "data-capture"
    assert (config.report_prefix, config.ground_truth_prefix) == ("", "")
    assert config.inference_attribute is None and config.facets == ()


def test_every_problem_is_reported_at_once():
    with pytest.raises(env.ConfigError) as caught:
        h.load_config({**ENV, "ENDPOINT_NAME": "", "WINDOW_HOURS": "0", "PROBABILITY_THRESHOLD": "x"})
    assert all(name in str(caught.value) for name in ("ENDPOINT_NAME", "WINDOW_HOURS", "PROBABILITY_THRESHOLD"))


def test_the_join_holds_a_bounded_batch_however_many_records_a_request_carries(tmp_path):
    import join_store

    store = join_store.JoinStore(str(tmp_path), ["pred", "score"], ["label"])
    held = []
    for k in range(6):  # batch requests of 2,500 records each: 15,000 records in six lines
        store.add_prediction(f"e{k}", [(k % 2, 0.5)] * 2500)
        held.append(len(store._pending["pred"][1]))
    store.add_label("e0", [(1,)] * 2500)
    store.finish()
    assert max(held) < join_store.BATCH_RECORDS + 2500
    assert store.counts()["predictions"] == 15000 and store.counts()["labelled_records"] == 2500
    store.close()
