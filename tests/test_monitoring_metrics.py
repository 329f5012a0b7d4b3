"""Custom model-quality metrics: values vs scikit-learn, publication in moto CloudWatch, the public names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import numpy as np
import pytest
from moto import mock_aws

from mlops_cdk import monitoring_metrics as mm
from tests.harness import lazy_module
from mlops_cdk.constructs.monitoring.quality_metrics import QualityMetrics
from mlops_cdk.lambdas._shared import contract

skm = lazy_module("sklearn.metrics")


@pytest.mark.parametrize("seed", range(20))
def test_metrics_match_sklearn_on_random_labels(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    y_true = rng.integers(0, 2, n)
    # Predictions right most of the time, with a seed-dependent error rate.
    y_pred = np.where(rng.random(n) < rng.uniform(0.5, 1.0), y_true, 1 - y_true)
    ours = mm.compute_classification_metrics(y_true, y_pred)
    assert ours["Accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-12)
    assert ours["Precision"] == pytest.approx(skm.precision_score(y_true, y_pred, zero_division=0), abs=1e-12)
    assert ours["Recall"] == pytest.approx(skm.recall_score(y_true, y_pred, zero_division=0), abs=1e-12)


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        ([0, 0, 1, 1], [0, 0, 0, 0]),  # nothing predicted positive: precision 0
        ([0, 0, 0], [0, 1, 0]),  # no actual positive: recall 0
        ([0, 0], [0, 0]),  # both
        ([1], [1]),
    ],
)
def test_zero_division_gives_zero_like_sklearn(y_true, y_pred):
    ours = mm.compute_classification_metrics(y_true, y_pred)
    assert ours == {
        "Accuracy": skm.accuracy_score(y_true, y_pred),
        "Precision": skm.precision_score(y_true, y_pred, zero_division=0),
        "Recall": skm.recall_score(y_true, y_pred, zero_division=0),
    }


def test_accepts_lists_tuples_floats_and_numpy_booleans():
    expected = {"Accuracy": 2 / 3, "Precision": 1.0, "Recall": 0.5}
    assert mm.compute_classification_metrics([1, 0, 1], (1.0, 0.0, 0.0)) == expected
    assert mm.compute_classification_metrics(np.array([1, 0, 1]), np.array([0.9, 0.2, 0.4]) > 0.5) == expected
    assert mm.compute_classification_metrics([True, False, True], [1, 0, 0]) == expected


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([0, 1], [0], "same length, got 2 and 1"),
        ([], [], "empty"),
        ([0, 2], [0, 1], r"y_true\[1\] = 2: labels must be binary"),
        ([0, 1], [0, -1], r"y_pred\[1\] = -1"),
        ([0, 1], ["0", "1"], r"y_pred\[0\] = '0'"),
        ([0, float("nan")], [0, 1], r"y_true\[1\] = nan"),
        ([0, 0.5], [0, 1], r"y_true\[1\] = 0.5"),
        ("01", [0, 1], "y_true must be a sequence"),
        (None, [0, 1], "y_true must be a sequence"),
    ],
)
def test_bad_inputs_raise_value_error(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        mm.compute_classification_metrics(y_true, y_pred)


def test_publish_custom_metrics_to_cloudwatch():
    now = datetime(2024, 5, 2, 12, 0, tzinfo=timezone.utc)
    y_true, y_pred = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        result = mm.publish_custom_metrics(
            y_true, y_pred, model_name="churn-model", endpoint_name="churn-endpoint",
            cloudwatch_client=cloudwatch, timestamp=now,
        )
        assert result == {"Accuracy": 0.6, "Precision": 2 / 3, "Recall": 2 / 3}
        listed = cloudwatch.list_metrics(Namespace="MLOps/ModelMonitoring")["Metrics"]
        assert sorted(m["MetricName"] for m in listed) == ["ModelAccuracy", "ModelPrecision", "ModelRecall"]
        for m in listed:
            assert m["Dimensions"] == [
                {"Name": "ModelName", "Value": "churn-model"},
                {"Name": "EndpointName", "Value": "churn-endpoint"},
            ]
        for name, key in (("ModelAccuracy", "Accuracy"), ("ModelPrecision", "Precision"), ("ModelRecall", "Recall")):
            (point,) = cloudwatch.get_metric_statistics(
                Namespace=contract.MONITORING_NAMESPACE, MetricName=name,
                Dimensions=[{"Name": "ModelName", "Value": "churn-model"}, {"Name": "EndpointName", "Value": "churn-endpoint"}],
                StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=5), Period=60, Statistics=["Average"],
            )["Datapoints"]
            assert point["Average"] == pytest.approx(result[key])


def test_publish_uses_the_given_namespace_and_default_client():
    with mock_aws():
        mm.publish_custom_metrics([1, 0], [1, 0], model_name="m", endpoint_name="e", namespace="Custom/ML/Model")
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        assert len(cloudwatch.list_metrics(Namespace="Custom/ML/Model")["Metrics"]) == 3
        assert cloudwatch.list_metrics(Namespace=contract.MONITORING_NAMESPACE)["Metrics"] == []


@pytest.mark.parametrize("prop", ["model_name", "endpoint_name", "namespace"])
def test_publish_validates_names_before_calling_aws(prop):
    kwargs = {"model_name": "m", "endpoint_name": "e", "namespace": "ns", prop: " "}

    class NoCalls:
        def __getattr__(self, name):
            raise AssertionError("no AWS call expected")

    with pytest.raises(ValueError, match=f"'{prop}': invalid value ' '"):
        mm.publish_custom_metrics([1], [1], cloudwatch_client=NoCalls(), **kwargs)
    with pytest.raises(ValueError, match="same length"):
        mm.publish_custom_metrics([1], [1, 0], model_name="m", endpoint_name="e", cloudwatch_client=NoCalls())


def test_metric_names_are_public_api():
    """Alarms, dashboards and users' own publishers depend on these spellings: a rename breaks them silently."""
    assert (contract.MONITORING_NAMESPACE, contract.METRIC_ACCURACY, contract.METRIC_PRECISION,
            contract.METRIC_RECALL) == ("MLOps/ModelMonitoring", "ModelAccuracy", "ModelPrecision", "ModelRecall")
    assert (contract.DIMENSION_MODEL_NAME, contract.DIMENSION_ENDPOINT_NAME) == ("ModelName", "EndpointName")
    assert (contract.METRIC_FEATURE_DRIFT, contract.METRIC_MAX_FEATURE_DRIFT, contract.METRIC_RECORDS_ANALYZED,
            contract.METRIC_MALFORMED_RECORDS) == ("FeatureDrift", "MaxFeatureDrift", "RecordsAnalyzed",
                                                   "MalformedRecords")
    assert (contract.DIMENSION_ENDPOINT, contract.DIMENSION_FEATURE) == ("Endpoint", "Feature")
    assert (contract.DRIFT_EVENT_DETAIL_TYPE, contract.DRIFT_EVENT_SOURCE) == (
        "Feature Drift Detected", "mlops-cdk.drift-checker")


def test_published_names_are_the_ones_quality_metrics_reads():
    published = {}

    class Recorder:
        def put_metric_data(self, **request):
            published.update(request)

    mm.publish_custom_metrics([1, 0], [1, 1], model_name="churn", endpoint_name="churn-ep", cloudwatch_client=Recorder())
    metrics = QualityMetrics("churn", "churn-ep")
    expected = {(m.namespace, m.metric_name, tuple(sorted(m.dimensions.items())))
                for m in (metrics.metric_accuracy(), metrics.metric_precision(), metrics.metric_recall())}
    assert {(published["Namespace"], d["MetricName"], tuple(sorted((x["Name"], x["Value"]) for x in d["Dimensions"])))
            for d in published["MetricData"]} == expected
