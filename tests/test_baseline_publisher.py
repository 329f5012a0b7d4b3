"""BaselinePublisher: on approval, the version's own baselines become the monitors' baselines; nothing else does."""

import json

import boto3
import pytest
from moto import mock_aws

from mlops_cdk import locations
from tests.harness import ROOT, load_handler

GROUP = "mlops-fraud-detection-dev"
BUCKET = "platform-data"
ENV = {
    "MODEL_PACKAGE_GROUP": GROUP, "DATA_BUCKET": BUCKET,
    "STATISTICS_KEY": locations.DATA_QUALITY_STATISTICS, "CONSTRAINTS_KEY": locations.DATA_QUALITY_CONSTRAINTS,
    "HISTOGRAM_KEY": locations.DRIFT_BASELINE, "MANIFEST_KEY": locations.BASELINE_MANIFEST,
}


handler_module = load_handler(ROOT / "mlops_cdk" / "lambdas" / "baseline_publisher" / "handler.py")


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
    result = handler_module.handler(_event(arn), env=ENV, sagemaker=sm, s3=s3)
    assert result["status"] == "published"
    assert _read(s3, locations.DATA_QUALITY_STATISTICS) == {"run": "run-1", "file": "statistics.json"}
    assert _read(s3, locations.DATA_QUALITY_CONSTRAINTS) == {"run": "run-1", "file": "constraints.json"}
    assert _read(s3, locations.DRIFT_BASELINE) == {"run": "run-1", "file": "baseline_histogram.json"}
    assert _read(s3, locations.BASELINE_MANIFEST)["model_package_arn"] == arn


def test_a_later_pending_version_does_not_replace_the_approved_baselines(aws):
    s3, sm = aws
    approved = _register(s3, sm, "run-1")
    handler_module.handler(_event(approved), env=ENV, sagemaker=sm, s3=s3)
    pending = _register(s3, sm, "run-2", status="PendingManualApproval")
    assert handler_module.handler(_event(pending, status="PendingManualApproval"), env=ENV, sagemaker=sm,
                                  s3=s3)["status"] == "skipped"
    # An event claiming approval for a version that is not approved is checked against the registry.
    assert handler_module.handler(_event(pending), env=ENV, sagemaker=sm, s3=s3)["status"] == "skipped"
    assert _read(s3, locations.DATA_QUALITY_STATISTICS)["run"] == "run-1"


def test_baselines_outside_the_platform_bucket_are_refused(aws):
    s3, sm = aws
    arn = _register(s3, sm, "run-1", bucket="someone-elses-bucket")
    result = handler_module.handler(_event(arn), env=ENV, sagemaker=sm, s3=s3)
    assert result["status"] == "partial" and len(result["refused"]) == 3
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=locations.BASELINES).get("Contents", [])]
    assert keys == [locations.BASELINE_MANIFEST]


@pytest.mark.parametrize("event", [None, [], {}, {"source": "aws.s3", "detail": {}},
                                   _event("not-an-arn"), _event("arn:aws:sagemaker:us-east-1:123456789012:"
                                                                "model-package/other/1", group="other")])
def test_malformed_or_foreign_events_make_no_aws_call(event):
    class Refuse:
        def __getattr__(self, name):
            raise AssertionError(f"unexpected AWS call {name}")

    assert handler_module.handler(event, env=ENV, sagemaker=Refuse(), s3=Refuse())["status"] == "skipped"


def test_missing_configuration_fails_loudly():
    with pytest.raises(ValueError, match="DATA_BUCKET"):
        handler_module.handler(_event("x"), env={**ENV, "DATA_BUCKET": ""})
