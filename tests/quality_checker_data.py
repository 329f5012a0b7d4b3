"""Shared by the quality-checker tests: real SageMaker capture and ground-truth lines, real data, moto.

Capture lines follow the data-capture format of the SageMaker developer guide
(``model-monitor-data-capture-endpoint``), ground-truth lines Model Monitor's
(``model-monitor-model-quality-merge``): the function reads what SageMaker writes and what
a labelling process uploads for Model Monitor.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import boto3
import numpy as np
import pytest

from tests.harness import ROOT, load_handler

LAMBDA_DIR = ROOT / "mlops_cdk" / "lambdas" / "quality_checker"
h = load_handler(LAMBDA_DIR / "handler.py")  # run_check and load_config (its cold-start CONFIG is unused)

UTC = timezone.utc
NOW = datetime(2024, 5, 2, 12, 30, tzinfo=UTC)  # default window: [2024-05-01 12:30, 2024-05-02 12:30)
ENDPOINT, MODEL = "churn-endpoint", "churn-model"
CAPTURE_BUCKET, REPORT_BUCKET = "capture-bucket", "report-bucket"
CAPTURE_PREFIX, GROUND_TRUTH_PREFIX = "data-capture", "ground-truth"
NAMESPACE = "MLOps/ModelMonitoring"
QUALITY_ENV = {
    "CHECK": "model_quality",
    "CAPTURE_BUCKET": CAPTURE_BUCKET,
    "CAPTURE_PREFIX": CAPTURE_PREFIX,
    "ENDPOINT_NAME": ENDPOINT,
    "MODEL_NAME": MODEL,
    "REPORT_BUCKET": REPORT_BUCKET,
    "REPORT_PREFIX": "quality-reports",
    "PROBLEM_TYPE": "BinaryClassification",
    "GROUND_TRUTH_BUCKET": CAPTURE_BUCKET,
    "GROUND_TRUTH_PREFIX": GROUND_TRUTH_PREFIX,
}


def when_text(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def capture_line(*, inputs: list[list], output: str, when: datetime, event_id: str | None = None,
                 inference_id: str | None = None, input_encoding: str = "CSV", output_encoding: str = "CSV",
                 output_type: str | None = None, input_json: object | None = None) -> str:
    """One data-capture line; ``output`` is the response body as the model wrote it."""
    if input_encoding == "CSV":
        in_data, in_type = "\n".join(",".join(str(v) for v in row) for row in inputs), "text/csv"
    elif input_encoding == "JSON":
        in_data, in_type = json.dumps(input_json if input_json is not None else {"instances": inputs}), "application/json"
    else:
        in_data = base64.b64encode("\n".join(",".join(str(v) for v in r) for r in inputs).encode()).decode()
        in_type = "application/octet-stream"
    if output_encoding == "BASE64":
        out_data = base64.b64encode(output.encode()).decode()
    else:
        out_data = output
    out_type = output_type or ("application/json" if output_encoding == "JSON" else "text/csv; charset=utf-8")
    metadata = {"eventId": event_id or str(uuid.uuid4()), "inferenceTime": when_text(when)}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return json.dumps({
        "captureData": {
            "endpointInput": {"observedContentType": in_type, "mode": "INPUT", "data": in_data,
                              "encoding": input_encoding},
            "endpointOutput": {"observedContentType": out_type, "mode": "OUTPUT", "data": out_data,
                               "encoding": output_encoding},
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    })


def label_line(event_id: str, data: str, *, encoding: str = "CSV", id_key: str = "eventId") -> str:
    return json.dumps({"groundTruthData": {"data": data, "encoding": encoding},
                       "eventMetadata": {id_key: event_id}, "eventVersion": "0"})


def capture_key(when: datetime, variant: str = "AllTraffic", endpoint: str = ENDPOINT) -> str:
    return f"{CAPTURE_PREFIX}/{endpoint}/{variant}/{when:%Y/%m/%d/%H}/{when:%M-%S}-{uuid.uuid4()}.jsonl"


def put_capture(s3, when: datetime, lines: list[str], **key_args) -> None:
    s3.put_object(Bucket=CAPTURE_BUCKET, Key=capture_key(when, **key_args), Body="\n".join(lines) + "\n")


def put_labels(s3, collected: datetime, lines: list[str], *, prefix: str = GROUND_TRUTH_PREFIX,
               name: str | None = None) -> None:
    key = f"{prefix}/{collected:%Y/%m/%d/%H}/{name or collected.strftime('%M%S') + '-' + uuid.uuid4().hex[:6]}.jsonl"
    s3.put_object(Bucket=CAPTURE_BUCKET, Key=key, Body="\n".join(lines) + "\n")


# --------------------------------------------------------------------------- real data (scikit-learn's bundled sets)


@lru_cache(maxsize=None)
def breast_cancer_scores() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, 0/1 labels, P(class 1)) of all 569 records, from a model fitted on every other record."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000)).fit(x[::2], y[::2])
    return x, y, model.predict_proba(x)[:, 1]


@lru_cache(maxsize=None)
def multiclass_predictions(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, predicted labels) of iris or wine from a deliberately weak model (real errors)."""
    from sklearn.datasets import load_iris, load_wine
    from sklearn.naive_bayes import GaussianNB

    x, y = (load_iris if name == "iris" else load_wine)(return_X_y=True)
    model = GaussianNB().fit(x[::3, :2], y[::3])
    return x, y, model.predict(x[:, :2])


@lru_cache(maxsize=None)
def diabetes_predictions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, disease progression, predicted progression) of the 442 diabetes records."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    x, y = load_diabetes(return_X_y=True)
    return x, y, Ridge(alpha=0.5).fit(x[::2], y[::2]).predict(x)


@lru_cache(maxsize=None)
def diabetes_patients() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(raw features: age in years, sex 1/2, ...; progression; P(progression > 140); predicted progression).

    The 442 patients of the diabetes study with their real age and sex: the facets of the bias tests.
    Both models are fitted on the even records, so the odd ones behave like live traffic.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_diabetes(return_X_y=True, scaled=False)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    scores = classifier.fit(x[::2], (y[::2] > 140).astype(int)).predict_proba(x)[:, 1]
    regression = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x[::2], y[::2]).predict(x)
    return x, y, scores, regression


def spread(n: int, start: datetime, hours: int) -> list[datetime]:
    """``n`` inference times spread over ``hours`` hours from ``start`` (deterministic)."""
    return [start + timedelta(seconds=int(i * hours * 3600 / n)) for i in range(n)]


# --------------------------------------------------------------------------- AWS (moto)


class Spy:
    """Delegates to a real (moto) client and records the calls; bodies under ``streamed`` must be streamed."""

    def __init__(self, client, streamed: tuple[str, ...] = ()):
        self._client, self.calls, self._streamed = client, [], streamed

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr) or name == "exceptions":
            return attr
        if name == "get_paginator":
            calls = self.calls

            class Paginator:
                def __init__(self, op):
                    self._paginator, self._op = attr(op), op

                def paginate(self, **kwargs):
                    calls.append((self._op, kwargs))
                    return self._paginator.paginate(**kwargs)

            return Paginator

        def call(*args, **kwargs):
            self.calls.append((name, kwargs))
            result = attr(*args, **kwargs)
            if name == "get_object" and kwargs["Key"].startswith(self._streamed):
                result["Body"] = StreamOnlyBody(result["Body"])
            return result

        return call

    def calls_to(self, name):
        return [kw for n, kw in self.calls if n == name]


class StreamOnlyBody:
    """A StreamingBody whose whole-object read() fails the test: capture and label files must be streamed."""

    def __init__(self, body):
        self._body = body

    def read(self, *args, **kwargs):
        raise AssertionError("capture and ground-truth objects must be streamed with iter_lines")

    def __getattr__(self, name):
        return getattr(self._body, name)


class Account:
    """moto clients and helpers for one test."""

    def __init__(self, s3, cloudwatch):
        self.s3, self.cloudwatch = s3, cloudwatch
        self.namespace = f"{NAMESPACE}/{uuid.uuid4().hex[:8]}"  # metrics cannot be deleted: one namespace a test
        self.s3_spy = Spy(s3, streamed=(CAPTURE_PREFIX, GROUND_TRUTH_PREFIX))
        self.cw_spy = Spy(cloudwatch)

    def run(self, environ: dict, extra: dict | None = None, now: datetime = NOW) -> dict:
        config = h.load_config({**environ, "METRIC_NAMESPACE": self.namespace, **(extra or {})})
        return h.run_check(config, now=now, s3=self.s3_spy, cloudwatch=self.cw_spy)

    def metric(self, name: str, **dims: str) -> float:
        points = self.cloudwatch.get_metric_statistics(
            Namespace=self.namespace, MetricName=name, Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
            StartTime=NOW - timedelta(hours=1), EndTime=NOW + timedelta(hours=1), Period=60, Statistics=["Average"],
        )["Datapoints"]
        assert len(points) == 1, (name, dims, points)
        return points[0]["Average"]

    def metric_names(self) -> set[tuple[str, tuple]]:
        return {(m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
                for m in self.cloudwatch.list_metrics(Namespace=self.namespace)["Metrics"]}

    def report(self, uri: str) -> dict:
        key = uri.split(f"s3://{REPORT_BUCKET}/", 1)[1]
        return json.loads(self.s3.get_object(Bucket=REPORT_BUCKET, Key=key)["Body"].read())


def moto_account_fixture():
    from moto import mock_aws

    @pytest.fixture(scope="module")
    def moto_clients():
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            for bucket in (CAPTURE_BUCKET, REPORT_BUCKET):
                s3.create_bucket(Bucket=bucket)
            yield s3, boto3.client("cloudwatch", region_name="us-east-1")

    @pytest.fixture
    def aws(moto_clients):
        s3, cloudwatch = moto_clients
        for bucket in (CAPTURE_BUCKET, REPORT_BUCKET):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for obj in page.get("Contents", []):
                    s3.delete_object(Bucket=bucket, Key=obj["Key"])
        return Account(s3, cloudwatch)

    return moto_clients, aws
