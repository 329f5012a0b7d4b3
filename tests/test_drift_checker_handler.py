"""The drift checker Lambda end to end in moto: real capture-format JSONL in S3, metrics, report, event.

The function's modules are imported as Lambda imports them: its folder on ``sys.path`` (conftest adds
the shared modules), ``handler.py`` loaded by path.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import numpy as np
import pytest
from moto import mock_aws

import env
from tests.harness import ROOT, load_handler

LAMBDA_DIR = ROOT / "mlops_cdk" / "lambdas" / "drift_checker"
sys.path.insert(0, str(LAMBDA_DIR))  # as deployed: the function's folder is the import root
import drift_stats as ds  # noqa: E402
from capture_parser import FeatureMappingError  # noqa: E402
from drift_baseline import BaselineError  # noqa: E402

h = load_handler(LAMBDA_DIR / "handler.py")  # check_drift and the config loader (its cold-start CONFIG is unused)
UTC = timezone.utc
NOW = datetime(2024, 5, 2, 12, 30, tzinfo=UTC)  # window: [2024-05-01 12:30, 2024-05-02 12:30)
FEATURES = ["age", "income", "colour"]
ENDPOINT = "churn-endpoint"
CAPTURE_BUCKET, REPORT_BUCKET = "capture-bucket", "report-bucket"
CAPTURE_PREFIX = "monitoring/data-capture"
BASELINE_KEY = "baselines/churn/baseline.json"
NAMESPACE = "MLOps/ModelMonitoring"
COLOURS = {"red": 0.5, "green": 0.3, "blue": 0.2}

ENV = {
    "CAPTURE_BUCKET": CAPTURE_BUCKET,
    "CAPTURE_PREFIX": CAPTURE_PREFIX,
    "ENDPOINT_NAME": ENDPOINT,
    "BASELINE_S3_URI": f"s3://{CAPTURE_BUCKET}/{BASELINE_KEY}",
    "FEATURE_NAMES": ",".join(FEATURES),
    "REPORT_BUCKET": REPORT_BUCKET,
    "REPORT_PREFIX": "drift-reports",
    "MODEL_NAME": "churn-model",
}


# --------------------------------------------------------------------------- data


def make_baseline(rng: np.random.Generator) -> dict:
    def numeric(sample):
        interior = np.quantile(sample, np.arange(1, 10) / 10)
        counts = np.bincount(np.searchsorted(interior, sample, side="right"), minlength=10)
        return {"type": "numeric", "bin_edges": [None, *interior.tolist(), None], "proportions": (counts / len(sample)).tolist()}

    return {
        "version": 1,
        "features": {
            "age": numeric(rng.normal(40, 10, 5000)),
            "income": numeric(rng.lognormal(10, 0.5, 5000)),
            "colour": {"type": "categorical", "categories": COLOURS},
        },
        "label": "churned",
        "record_count": 5000,
    }


BASELINE = make_baseline(np.random.default_rng(0))


def make_rows(n: int, *, age_shift: float = 0.0, seed: int = 1) -> list[list]:
    rng = np.random.default_rng(seed)
    ages = rng.normal(40 + age_shift, 10, n)
    incomes = rng.lognormal(10, 0.5, n)
    colours = rng.choice(list(COLOURS), size=n, p=list(COLOURS.values()))
    return [[round(float(a), 3), round(float(i), 2), str(c)] for a, i, c in zip(ages, incomes, colours)]


def capture_line(rows: list[list], when: datetime, *, encoding: str = "CSV", content_type: str | None = None,
                 json_shape: str = "instances") -> str:
    csv_text = "\n".join(",".join(str(v) for v in row) for row in rows)
    if encoding == "CSV":
        data, ctype = csv_text, content_type or "text/csv"
    elif encoding == "JSON":
        shapes = {
            "instances": {"instances": rows},
            "list": rows if len(rows) > 1 else rows[0],
            "records": [dict(zip(FEATURES, row)) for row in rows],
            "features": {"instances": [{"features": row} for row in rows]},
        }
        data, ctype = json.dumps(shapes[json_shape]), content_type or "application/json"
    else:  # BASE64 of the body, read as JSON or CSV by content type
        ctype = content_type or "application/octet-stream"
        body = json.dumps({"instances": rows}) if "json" in ctype else csv_text
        data = base64.b64encode(body.encode()).decode()
    return json.dumps({
        "captureData": {
            "endpointInput": {"observedContentType": ctype, "mode": "INPUT", "data": data, "encoding": encoding},
            "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                               "data": ",".join("0.5" for _ in rows), "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"},
        "eventVersion": "0",
    })


def capture_key(when: datetime, variant: str = "AllTraffic", endpoint: str = ENDPOINT) -> str:
    return f"{CAPTURE_PREFIX}/{endpoint}/{variant}/{when:%Y/%m/%d/%H}/{when:%M-%S}-{uuid.uuid4()}.jsonl"


def put_capture(s3, when: datetime, lines: list[str], **key_args) -> None:
    s3.put_object(Bucket=CAPTURE_BUCKET, Key=capture_key(when, **key_args), Body="\n".join(lines) + "\n")


def expected_psi(rows: list[list]) -> dict[str, float]:
    """The statistics module applied directly to the in-window records (no capture parsing)."""
    out = {}
    for i, name in enumerate(FEATURES):
        spec = BASELINE["features"][name]
        if spec["type"] == "numeric":
            hist = ds.NumericHistogram(spec["bin_edges"])
            for row in rows:
                hist.add(float(row[i]))
            out[name] = ds.numeric_drift(name, spec["bin_edges"], spec["proportions"], hist).psi
        else:
            hist = ds.CategoricalHistogram(list(spec["categories"]))
            for row in rows:
                hist.add(row[i])
            out[name] = ds.categorical_drift(name, spec["categories"], hist).psi
    return out


# --------------------------------------------------------------------------- AWS (moto)


class Spy:
    """Delegates to a real (moto) client and records the calls made through it."""

    def __init__(self, client, *, forbid_read_prefix: str | None = None):
        self._client, self.calls, self._forbid = client, [], forbid_read_prefix

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr) or name == "exceptions":
            return attr
        if name == "get_paginator":
            return lambda op: _SpyPaginator(attr(op), op, self.calls)

        def call(*args, **kwargs):
            self.calls.append((name, kwargs))
            result = attr(*args, **kwargs)
            if name == "get_object" and self._forbid and kwargs["Key"].startswith(self._forbid):
                result["Body"] = NoReadBody(result["Body"])
            return result

        return call

    def calls_to(self, name):
        return [kw for n, kw in self.calls if n == name]


class _SpyPaginator:
    def __init__(self, paginator, op, calls):
        self._paginator, self._op, self._calls = paginator, op, calls

    def paginate(self, **kwargs):
        self._calls.append((self._op, kwargs))
        return self._paginator.paginate(**kwargs)


class NoReadBody:
    """A StreamingBody whose whole-file read() is forbidden: capture files must be streamed."""

    def __init__(self, body):
        self._body = body

    def read(self, *args, **kwargs):
        raise AssertionError("capture objects must be streamed with iter_lines, not read whole")

    def __getattr__(self, name):
        return getattr(self._body, name)


class Aws:
    """moto clients, spies and helpers for one test."""


@pytest.fixture(scope="module")
def moto_account():
    """One moto account per module (starting moto and clients costs ~0.5 s); tests reset what they use."""
    with mock_aws():
        env = Aws()
        env.s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in (CAPTURE_BUCKET, REPORT_BUCKET):
            env.s3.create_bucket(Bucket=bucket)
        env.sqs = boto3.client("sqs", region_name="us-east-1")
        env.queue_url = env.sqs.create_queue(QueueName="drift-events")["QueueUrl"]
        queue_arn = env.sqs.get_queue_attributes(QueueUrl=env.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        env.events = boto3.client("events", region_name="us-east-1")
        env.events.put_rule(Name="drift", EventPattern=json.dumps({"source": ["mlops-cdk.drift-checker"]}))
        env.events.put_targets(Rule="drift", Targets=[{"Id": "queue", "Arn": queue_arn}])
        env.cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        yield env


@pytest.fixture
def aws(moto_account):
    env = moto_account
    for bucket in (CAPTURE_BUCKET, REPORT_BUCKET):
        for page in env.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                env.s3.delete_object(Bucket=bucket, Key=obj["Key"])
    env.s3.put_object(Bucket=CAPTURE_BUCKET, Key=BASELINE_KEY, Body=json.dumps(BASELINE))
    while msgs := env.sqs.receive_message(QueueUrl=env.queue_url, MaxNumberOfMessages=10).get("Messages"):
        for m in msgs:  # drain what an earlier test left (PurgeQueue is limited to once a minute)
            env.sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=m["ReceiptHandle"])
    # CloudWatch metrics cannot be deleted: each test publishes to a namespace of its own.
    env.namespace = f"{NAMESPACE}/{uuid.uuid4().hex[:8]}"
    env.s3_spy = Spy(env.s3, forbid_read_prefix=CAPTURE_PREFIX)
    env.cw_spy = Spy(env.cloudwatch)
    env.events_spy = Spy(env.events)

    def run(extra_env=None, now=NOW):
        config = h.load_config({**ENV, "METRIC_NAMESPACE": env.namespace, **(extra_env or {})})
        return h.check_drift(config, now=now, s3=env.s3_spy, cloudwatch=env.cw_spy, events=env.events_spy)

    def received_events():
        msgs = env.sqs.receive_message(QueueUrl=env.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        for m in msgs:
            env.sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in msgs]

    def metric(name, **dims):
        dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
        points = env.cloudwatch.get_metric_statistics(
            Namespace=env.namespace, MetricName=name, Dimensions=dimensions,
            StartTime=NOW - timedelta(hours=1), EndTime=NOW + timedelta(hours=1), Period=60, Statistics=["Average"],
        )["Datapoints"]
        assert len(points) == 1, (name, dims, points)
        return points[0]["Average"]

    env.run, env.received_events, env.metric = run, received_events, metric
    return env


def write_window(s3, rows: list[list]) -> list[list]:
    """Spread rows over in-window hour prefixes and two variants; add out-of-window noise. Returns in-window rows."""
    chunks = [rows[i : i + 50] for i in range(0, len(rows), 50)]
    hours = [NOW - timedelta(hours=k, minutes=5) for k in (0, 1, 5, 23)]  # 12:25, 11:25, 07:25, yesterday 13:25
    for j, chunk in enumerate(chunks):
        when = hours[j % len(hours)]
        # alternate one record per request and multi-row requests
        lines = [capture_line([r], when) for r in chunk[:25]] + [capture_line(chunk[25:], when)]
        put_capture(s3, when, lines, variant="AllTraffic" if j % 3 else "Canary")
    noise = make_rows(300, age_shift=60.0, seed=99)  # would show as massive drift if read
    put_capture(s3, NOW - timedelta(hours=24, minutes=31), [capture_line([r], NOW - timedelta(hours=25)) for r in noise[:100]])
    put_capture(s3, NOW + timedelta(hours=1), [capture_line([r], NOW + timedelta(hours=1)) for r in noise[100:200]])
    put_capture(s3, NOW - timedelta(hours=2), [capture_line([r], NOW - timedelta(hours=2)) for r in noise[200:]],
                endpoint="another-endpoint")
    # The first (partial) hour 2024-05-01T12: only events from 12:30 on are in the window.
    first_hour = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    early, late = make_rows(20, age_shift=60.0, seed=7), make_rows(10, seed=8)
    put_capture(s3, first_hour, [capture_line([r], first_hour + timedelta(minutes=10)) for r in early]
                + [capture_line([r], first_hour + timedelta(minutes=45)) for r in late])
    # The last hour 2024-05-02T12: events after NOW (12:30) are not in the window either.
    future = make_rows(5, age_shift=60.0, seed=9)
    put_capture(s3, NOW, [capture_line([r], NOW + timedelta(minutes=10)) for r in future])
    return rows + late


# --------------------------------------------------------------------------- behaviour


def test_undrifted_window_publishes_psi_per_feature_and_no_event(aws):
    in_window = write_window(aws.s3, make_rows(1000))
    result = aws.run()
    psi = expected_psi(in_window)
    assert result["status"] in ("ok", "warning") and max(psi.values()) < 0.1
    assert result["records_analyzed"] == len(in_window) == 1010
    assert result["malformed_records"] == 0
    assert result["events_outside_window"] == 25  # early events of the first hour, later ones of the last
    for name in FEATURES:
        assert aws.metric("FeatureDrift", Endpoint=ENDPOINT, Feature=name) == pytest.approx(psi[name], abs=1e-9)
        assert result["features"][name]["psi"] == pytest.approx(psi[name], abs=1e-12)
    assert aws.metric("RecordsAnalyzed", Endpoint=ENDPOINT) == 1010
    assert aws.metric("MalformedRecords", Endpoint=ENDPOINT) == 0
    assert aws.metric("MaxFeatureDrift", Endpoint=ENDPOINT) == pytest.approx(max(psi.values()), abs=1e-9)
    assert not result["event_emitted"] and aws.received_events() == []
    assert aws.events_spy.calls_to("put_events") == []
    # Only hour prefixes were listed: no bucket-wide listing, nothing of the other endpoint read.
    listings = aws.s3_spy.calls_to("list_objects_v2")
    endpoint_prefix = f"{CAPTURE_PREFIX}/{ENDPOINT}/"
    assert listings[0] == {"Bucket": CAPTURE_BUCKET, "Prefix": endpoint_prefix, "Delimiter": "/"}  # variants
    hour_prefixes = sorted(kw["Prefix"] for kw in listings[1:])
    expected = sorted(
        f"{endpoint_prefix}{variant}/{NOW - timedelta(hours=k):%Y/%m/%d/%H}/"
        for variant in ("AllTraffic", "Canary") for k in range(25)
    )
    assert hour_prefixes == expected  # 25 hour prefixes overlap a 24 h window not aligned on the hour
    read = [kw["Key"] for kw in aws.s3_spy.calls_to("get_object")]
    assert not any("another-endpoint" in k for k in read)


def test_report_json_is_written(aws):
    in_window = write_window(aws.s3, make_rows(400))
    result = aws.run()
    assert result["report_uri"] == f"s3://{REPORT_BUCKET}/drift-reports/{ENDPOINT}/2024-05-02T12-30-00Z.json"
    report = json.loads(aws.s3.get_object(Bucket=REPORT_BUCKET, Key=f"drift-reports/{ENDPOINT}/2024-05-02T12-30-00Z.json")["Body"].read())
    assert report["status"] == result["status"]
    assert report["window"] == {"start": "2024-05-01T12:30:00Z", "end": "2024-05-02T12:30:00Z", "hours": 24}
    assert report["counts"]["records_analyzed"] == len(in_window)
    assert report["counts"]["objects_read"] == len(aws.s3_spy.calls_to("get_object")) - 1  # minus the baseline
    assert report["baseline_uri"] == ENV["BASELINE_S3_URI"]
    assert report["thresholds"] == {"drift": 0.2, "warning": 0.1}
    psi = expected_psi(in_window)
    for name in FEATURES:
        assert report["features"][name]["psi"] == pytest.approx(psi[name], abs=1e-12)
        assert report["features"][name]["status"] in ("ok", "warning", "drift")
    colour = report["features"]["colour"]
    assert colour["type"] == "categorical" and colour["degrees_of_freedom"] == 2
    assert 0 <= colour["p_value"] <= 1 and colour["chi_square"] >= 0
    assert "chi_square" not in report["features"]["age"]
    assert sum(b["count"] for b in report["features"]["age"]["bins"]) == len(in_window)


def test_drift_emits_one_event_with_the_drifted_features(aws):
    in_window = write_window(aws.s3, make_rows(1000, age_shift=8.0))
    result = aws.run()
    psi = expected_psi(in_window)
    assert psi["age"] >= 0.2 and psi["income"] < 0.2
    assert result["status"] == "drift" and result["event_emitted"]
    assert aws.metric("FeatureDrift", Endpoint=ENDPOINT, Feature="age") == pytest.approx(psi["age"], abs=1e-9)
    (event,) = aws.received_events()
    assert event["source"] == "mlops-cdk.drift-checker"
    assert event["detail-type"] == "Feature Drift Detected"
    detail = event["detail"]
    assert detail["endpoint"] == ENDPOINT and detail["model"] == "churn-model"
    assert detail["drifted_features"] == [{"feature": "age", "psi": pytest.approx(psi["age"], abs=1e-12)}]
    assert detail["report_uri"] == result["report_uri"]
    assert detail["threshold"] == 0.2 and detail["records_analyzed"] == len(in_window)
    (call,) = aws.events_spy.calls_to("put_events")
    assert call["Entries"][0]["EventBusName"] == "default"


def test_threshold_decides_the_event(aws):
    in_window = write_window(aws.s3, make_rows(1000, age_shift=8.0))
    age_psi = expected_psi(in_window)["age"]
    result = aws.run({"THRESHOLD": str(age_psi + 0.01), "WARNING_THRESHOLD": "0.05"})
    assert result["status"] == "warning" and not result["event_emitted"] and aws.received_events() == []
    result = aws.run({"THRESHOLD": str(age_psi)}, now=NOW)  # PSI >= THRESHOLD: drift
    assert result["status"] == "drift" and len(aws.received_events()) == 1


def test_malformed_lines_are_counted_and_skipped(aws):
    rows = make_rows(200)
    when = NOW - timedelta(hours=3)
    good = [capture_line([r], when) for r in rows]
    bad_rows = [[1.0, 2.0], ["forty", 2.0, "red"], ["nan", 2.0, "red"], [1.0, "", "red"]]
    mixed = capture_line([rows[0], *bad_rows[:1]], when)  # one valid record and one bad one in a request
    bad = [
        "{not json",
        json.dumps([1, 2, 3]),
        json.dumps({"captureData": {"endpointOutput": {}}}),
        json.dumps({"captureData": {"endpointInput": {"encoding": "CSV"}}}),
        json.dumps({"captureData": {"endpointInput": {"data": "1,2,red", "encoding": "XML"}}}),
        json.dumps({"captureData": {"endpointInput": {"data": "!!notbase64", "encoding": "BASE64"}}}),
        json.dumps({"captureData": {"endpointInput": {"data": "{oops", "encoding": "JSON"}}}),
        json.dumps({"captureData": {"endpointInput": {"data": '{"other": 1}', "encoding": "JSON"}}}),
        *(capture_line([r], when) for r in bad_rows),
    ]
    put_capture(aws.s3, when, good[:100] + bad + ["", "   "] + good[100:] + [mixed])
    result = aws.run()
    assert result["records_analyzed"] == 201
    assert result["malformed_records"] == len(bad) + 1
    assert result["malformed_by_reason"] == {
        "invalid_json": 2, "no_input": 2, "unsupported_encoding": 1, "undecodable_payload": 2,
        "unsupported_payload": 1, "column_count": 2, "non_numeric": 3,
    }
    assert aws.metric("MalformedRecords", Endpoint=ENDPOINT) == len(bad) + 1
    psi = expected_psi(rows + rows[:1])
    for name in FEATURES:
        assert aws.metric("FeatureDrift", Endpoint=ENDPOINT, Feature=name) == pytest.approx(psi[name], abs=1e-9)


@pytest.mark.parametrize(
    ("encoding", "content_type", "json_shape"),
    [
        ("JSON", None, "instances"),
        ("JSON", None, "list"),
        ("JSON", None, "records"),
        ("JSON", None, "features"),
        ("BASE64", "text/csv", None),
        ("BASE64", "application/octet-stream", None),
        ("BASE64", "application/json", None),
    ],
)
def test_json_and_base64_encodings(aws, encoding, content_type, json_shape):
    rows = make_rows(120, age_shift=3.0)
    when = NOW - timedelta(hours=2)
    lines = [capture_line(rows[i : i + 3], when, encoding=encoding, content_type=content_type,
                          json_shape=json_shape or "instances") for i in range(0, 90, 3)]
    lines += [capture_line([r], when, encoding=encoding, content_type=content_type,
                           json_shape=json_shape or "instances") for r in rows[90:]]
    put_capture(aws.s3, when, lines)
    result = aws.run()
    assert result["records_analyzed"] == 120 and result["malformed_records"] == 0
    psi = expected_psi(rows)
    for name in FEATURES:
        assert result["features"][name]["psi"] == pytest.approx(psi[name], abs=1e-12)


def test_quoted_csv_and_unseen_categories(aws):
    when = NOW - timedelta(hours=1)
    lines = [capture_line([[41.0, 30000.0, '"red"']], when)] * 5 + [capture_line([[41.0, 30000.0, "purple"]], when)] * 5
    put_capture(aws.s3, when, lines)
    result = aws.run()
    report_key = result["report_uri"].split(f"s3://{REPORT_BUCKET}/")[1]
    report = json.loads(aws.s3.get_object(Bucket=REPORT_BUCKET, Key=report_key)["Body"].read())
    bins = {b["category"]: b["count"] for b in report["features"]["colour"]["bins"]}
    assert bins == {"red": 5, "green": 0, "blue": 0, "__other__": 5}
    assert report["features"]["colour"]["unseen_categories"] == {"purple": 5}
    assert report["features"]["colour"]["degrees_of_freedom"] == 3


def test_empty_window_publishes_nothing(aws):
    # Capture exists, but only outside the window.
    old = NOW - timedelta(hours=30)
    put_capture(aws.s3, old, [capture_line([r], old) for r in make_rows(20)])
    result = aws.run()
    assert result["status"] == "empty" and result["records_analyzed"] == 0 and result["objects_read"] == 0
    assert result["metrics_published"] == 0 and result["report_uri"] is None and not result["event_emitted"]
    assert aws.cw_spy.calls_to("put_metric_data") == []
    assert aws.cloudwatch.list_metrics(Namespace=aws.namespace)["Metrics"] == []
    assert aws.s3.list_objects_v2(Bucket=REPORT_BUCKET).get("KeyCount") == 0
    assert aws.received_events() == []


def test_window_with_only_malformed_records_is_empty(aws):
    when = NOW - timedelta(hours=1)
    put_capture(aws.s3, when, ["{bad", capture_line([[1.0, "x", "red"]], when)])
    result = aws.run()
    assert result["status"] == "empty" and result["malformed_records"] == 2 and result["objects_read"] == 1
    assert aws.cw_spy.calls_to("put_metric_data") == [] and aws.received_events() == []


def test_metrics_are_batched_1000_per_call(aws):
    names = [f"f{i}" for i in range(1005)]
    baseline = {"version": 1, "label": None, "record_count": 10, "features": {
        n: {"type": "numeric", "bin_edges": [None, 0.5, None], "proportions": [0.5, 0.5]} for n in names}}
    aws.s3.put_object(Bucket=CAPTURE_BUCKET, Key=BASELINE_KEY, Body=json.dumps(baseline))
    when = NOW - timedelta(hours=1)
    put_capture(aws.s3, when, [capture_line([[0.0] * 1005, [1.0] * 1005], when)])
    result = aws.run({"FEATURE_NAMES": ",".join(names)})
    calls = aws.cw_spy.calls_to("put_metric_data")
    assert [len(c["MetricData"]) for c in calls] == [1000, 8]
    assert result["metrics_published"] == 1008 and result["status"] == "ok"


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"CAPTURE_BUCKET": None}, "CAPTURE_BUCKET is not set"),
        ({"CAPTURE_PREFIX": None}, "CAPTURE_PREFIX is not set"),
        ({"MODEL_NAME": ""}, "MODEL_NAME is empty"),
        ({"BASELINE_S3_URI": "bucket/key"}, "BASELINE_S3_URI: invalid value 'bucket/key'; allowed: s3://bucket/key"),
        ({"BASELINE_S3_URI": "s3://bucket/"}, "BASELINE_S3_URI: invalid value 's3://bucket/'"),
        ({"FEATURE_NAMES": "a,,b"}, "FEATURE_NAMES: invalid value 'a,,b'; allowed: distinct non-empty names"),
        ({"FEATURE_NAMES": "a,b,a"}, "FEATURE_NAMES: invalid value 'a,b,a'"),
        ({"WINDOW_HOURS": "0"}, r"WINDOW_HOURS: invalid value '0'; allowed: an integer in \[1, 24\]"),
        ({"WINDOW_HOURS": "25"}, r"WINDOW_HOURS: invalid value '25'; allowed: an integer in \[1, 24\]"),
        ({"WINDOW_HOURS": "1.5"}, "WINDOW_HOURS: invalid value '1.5'"),
        ({"THRESHOLD": "-1"}, "THRESHOLD: invalid value '-1'; allowed: a finite number > 0 and <= 1"),
        ({"THRESHOLD": "1.5"}, "THRESHOLD: invalid value '1.5'"),
        ({"THRESHOLD": "nan"}, "THRESHOLD: invalid value 'nan'"),
        ({"WARNING_THRESHOLD": "0.5"},
         r"WARNING_THRESHOLD: invalid value 0.5; allowed: a number in \(0, THRESHOLD=0.2\)"),
        ({"WARNING_THRESHOLD": "0.2"},
         r"WARNING_THRESHOLD: invalid value 0.2; allowed: a number in \(0, THRESHOLD=0.2\)"),
    ],
)
def test_invalid_config_raises(override, message):
    environ = {k: v for k, v in {**ENV, **override}.items() if v is not None}
    with pytest.raises(env.ConfigError, match=message):
        h.load_config(environ)


def test_every_configuration_problem_is_reported_at_once():
    with pytest.raises(env.ConfigError) as caught:
        h.load_config({**ENV, "ENDPOINT_NAME": "", "WINDOW_HOURS": "48", "THRESHOLD": "x"})
    assert all(name in str(caught.value) for name in ("ENDPOINT_NAME", "WINDOW_HOURS", "THRESHOLD"))


def test_config_defaults():
    config = h.load_config({**ENV, "CAPTURE_PREFIX": "/monitoring/data-capture/", "REPORT_PREFIX": ""})
    assert (config.window_hours, config.threshold, config.warning_threshold) == (24, 0.2, 0.1)
    assert (config.metric_namespace, config.event_bus_name, config.event_source) == (
        "MLOps/ModelMonitoring", "default", "mlops-cdk.drift-checker")
    assert config.capture_prefix == "monitoring/data-capture" and config.report_prefix == ""
    assert (config.baseline_bucket, config.baseline_key) == (CAPTURE_BUCKET, BASELINE_KEY)
    assert config.feature_names == tuple(FEATURES)


def test_the_window_end_must_be_timezone_aware(aws):
    with pytest.raises(ValueError, match="timezone-aware"):
        aws.run(now=NOW.replace(tzinfo=None))


def test_entry_point_checks_the_last_window_with_the_cold_start_config(aws, monkeypatch, capsys):
    now = datetime.now(UTC)
    rows = make_rows(60)
    put_capture(aws.s3, now - timedelta(minutes=30), [capture_line([r], now - timedelta(minutes=30)) for r in rows])
    module = load_handler(LAMBDA_DIR / "handler.py", monkeypatch, {**ENV, "METRIC_NAMESPACE": aws.namespace,
                                                                   "WINDOW_HOURS": "1"})
    monkeypatch.setattr(env, "client", {"s3": aws.s3, "cloudwatch": aws.cloudwatch, "events": aws.events}.__getitem__)
    capsys.readouterr()
    result = module.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert result["records_analyzed"] == 60 and result["window"]["hours"] == 1
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]  # one JSON line per run (json_log)
    assert line["logger"] == "mlops_cdk.drift_checker" and line["status"] == result["status"]
    assert line["records_analyzed"] == 60 and line["report_uri"] == result["report_uri"]


def test_missing_baseline_raises(aws):
    with pytest.raises(BaselineError, match="does not exist"):
        aws.run({"BASELINE_S3_URI": f"s3://{CAPTURE_BUCKET}/nope.json"})


def test_invalid_baseline_raises_naming_the_uri(aws):
    aws.s3.put_object(Bucket=CAPTURE_BUCKET, Key=BASELINE_KEY, Body=json.dumps({**BASELINE, "version": 9}))
    with pytest.raises(BaselineError, match=rf"s3://{CAPTURE_BUCKET}/{BASELINE_KEY}: baseline 'version'"):
        aws.run()


def test_feature_names_must_cover_the_baseline(aws):
    with pytest.raises(FeatureMappingError, match=r"baseline feature\(s\) \['colour'\] are not in FEATURE_NAMES"):
        aws.run({"FEATURE_NAMES": "age,income"})


def test_extra_columns_without_baseline_are_parsed_but_not_monitored(aws):
    when = NOW - timedelta(hours=1)
    put_capture(aws.s3, when, [capture_line([[*r, "x"]], when) for r in make_rows(10)])
    result = aws.run({"FEATURE_NAMES": "age,income,colour,customer_id"})
    assert result["records_analyzed"] == 10 and set(result["features"]) == set(FEATURES)
