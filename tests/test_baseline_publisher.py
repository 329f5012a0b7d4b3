"""BaselinePublisher: on approval, the version's own baselines become the monitors' baselines; nothing else does."""

import json

import boto3
import pytest
from moto import mock_aws

import env
from mlops_cdk import locations
from tests.harness import ROOT, load_handler

GROUP = "mlops-fraud-detection-dev"
BUCKET = "platform-data"
ENV = {
    "MODEL_PACKAGE_GROUP": GROUP, "DATA_BUCKET": BUCKET,
    "STATISTICS_KEY": locations.DATA_QUALITY_STATISTICS, "CONSTRAINTS_KEY": locations.DATA_QUALITY_CONSTRAINTS,
    "HISTOGRAM_KEY": locations.DRIFT_BASELINE, "MANIFEST_KEY": locations.BASELINE_MANIFEST,
}


HANDLER = ROOT / "mlops_cdk" / "lambdas" / "baseline_publisher" / "handler.py"
handler_module = load_handler(HANDLER)  # publish() and the config loader; its cold-start CONFIG is unused
CONFIG = handler_module.load_config(ENV)


def publish(event, sm, s3):
    return handler_module.publish(event, CONFIG, sm, s3)


def _event(arn, status="Approved", group=GROUP):
    return {"source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change",
            "detail": {"ModelPackageArn": arn, "ModelPackageGroupName": group, "ModelApprovalStatus": status}}


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        sm = boto3.client("sagemaker", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        sm.create_model_package_group(ModelPackageGroupName=GROUP)
        yield s3, sm


def _register(s3, sm, run, *, bucket=BUCKET, status="Approved"):
    prefix = f"{GROUP}-training/{run}"
    for name in ("statistics.json", "constraints.json", "baseline_histogram.json"):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{name}", Body=json.dumps({"run": run, "file": name}).encode())
    uri = lambda name: f"s3://{bucket}/{prefix}/{name}"  # noqa: E731
    return sm.create_model_package(
        ModelPackageGroupName=GROUP, ModelApprovalStatus=status,
        InferenceSpecification={"Containers": [{"Image": "img"}], "SupportedContentTypes": ["text/csv"],
                                "SupportedResponseMIMETypes": ["text/csv"]},
        DriftCheckBaselines={"ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": uri("statistics.json")},
            "Constraints": {"ContentType": "application/json", "S3Uri": uri("constraints.json")}}},
        CustomerMetadataProperties={"BaselineHistogram": uri("baseline_histogram.json")},
    )["ModelPackageArn"]


def _read(s3, key):
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_approved_version_baselines_are_published_with_a_manifest(aws):
    s3, sm = aws
    arn = _register(s3, sm, "run-1")
    result = publish(_event(arn), sm, s3)
    assert result["status"] == "published"
    assert _read(s3, locations.DATA_QUALITY_STATISTICS) == {"run": "run-1", "file": "statistics.json"}
    assert _read(s3, locations.DATA_QUALITY_CONSTRAINTS) == {"run": "run-1", "file": "constraints.json"}
    assert _read(s3, locations.DRIFT_BASELINE) == {"run": "run-1", "file": "baseline_histogram.json"}
    assert _read(s3, locations.BASELINE_MANIFEST)["model_package_arn"] == arn


def test_a_later_pending_version_does_not_replace_the_approved_baselines(aws):
    s3, sm = aws
    approved = _register(s3, sm, "run-1")
    publish(_event(approved), sm, s3)
    pending = _register(s3, sm, "run-2", status="PendingManualApproval")
    assert publish(_event(pending, status="PendingManualApproval"), sm, s3)["status"] == "skipped"
    # An event claiming approval for a version that is not approved is checked against the registry.
    assert publish(_event(pending), sm, s3)["status"] == "skipped"
    assert _read(s3, locations.DATA_QUALITY_STATISTICS)["run"] == "run-1"


def test_baselines_outside_the_platform_bucket_are_refused(aws):
    s3, sm = aws
    arn = _register(s3, sm, "run-1", bucket="someone-elses-bucket")
    result = publish(_event(arn), sm, s3)
    assert result["status"] == "partial" and len(result["refused"]) == 3
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=locations.BASELINES).get("Contents", [])]
    assert keys == [locations.BASELINE_MANIFEST]


@pytest.mark.parametrize("event", [None, [], {}, {"source": "aws.s3", "detail": {}},
                                   {**_event("arn:aws:sagemaker:us-east-1:123456789012:model-package/"
                                             f"{GROUP}/1"), "detail-type": "SageMaker Model State Change"},
                                   _event("not-an-arn"), _event("arn:aws:sagemaker:us-east-1:123456789012:"
                                                                "model-package/other/1", group="other")])
def test_malformed_or_foreign_events_make_no_aws_call(event):
    class Refuse:
        def __getattr__(self, name):
            raise AssertionError(f"unexpected AWS call {name}")

    assert publish(event, Refuse(), Refuse())["status"] == "skipped"


def test_a_version_without_baselines_is_recorded_as_partial(aws):
    s3, sm = aws
    arn = sm.create_model_package(
        ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved",
        InferenceSpecification={"Containers": [{"Image": "img"}], "SupportedContentTypes": ["text/csv"],
                                "SupportedResponseMIMETypes": ["text/csv"]})["ModelPackageArn"]
    result = publish(_event(arn), sm, s3)
    assert result["status"] == "partial" and result["baselines"] == {}
    assert result["missing"] == [locations.DATA_QUALITY_STATISTICS, locations.DATA_QUALITY_CONSTRAINTS,
                                 locations.DRIFT_BASELINE]
    assert _read(s3, locations.BASELINE_MANIFEST)["missing"] == result["missing"]


def test_entry_point_uses_the_cold_start_configuration(aws, monkeypatch):
    s3, sm = aws
    arn = _register(s3, sm, "run-1")
    module = load_handler(HANDLER, monkeypatch, ENV, keys=ENV)
    monkeypatch.setattr(env, "client", {"sagemaker": sm, "s3": s3}.__getitem__)
    assert module.handler(_event(arn), None)["status"] == "published"
    assert _read(s3, locations.BASELINE_MANIFEST)["model_package_arn"] == arn


def test_missing_configuration_fails_every_invocation(monkeypatch):
    with pytest.raises(env.ConfigError, match="DATA_BUCKET is empty"):
        handler_module.load_config({**ENV, "DATA_BUCKET": ""})
    module = load_handler(HANDLER, monkeypatch, {**ENV, "MANIFEST_KEY": " "}, keys=ENV)
    for _ in range(2):  # retried, then kept in the dead-letter queue: no approval event is lost
        with pytest.raises(env.ConfigError, match="MANIFEST_KEY is empty"):
            module.handler(_event("x"), None)
