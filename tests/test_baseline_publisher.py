"""BaselinePublisher: on approval, the version's own baselines become the monitors' baselines; nothing else does.

The bias baseline is optional and checked: a version without one removes nothing, and a malformed
property or document is refused without an exception, leaving the published one as it was.
"""

import json
import sys

import boto3
import pytest
from moto import mock_aws

import env
from mlops_cdk import locations
from tests.harness import ROOT, load_handler

GROUP = "mlops-fraud-detection-dev"
BUCKET = "platform-data"
PREFIX = f"{GROUP}-training/"
ENV = {
    "MODEL_PACKAGE_GROUP": GROUP, "DATA_BUCKET": BUCKET, "SOURCE_PREFIX": PREFIX,
    "STATISTICS_KEY": locations.DATA_QUALITY_STATISTICS, "CONSTRAINTS_KEY": locations.DATA_QUALITY_CONSTRAINTS,
    "HISTOGRAM_KEY": locations.DRIFT_BASELINE, "BIAS_BASELINE_KEY": locations.BIAS_BASELINE,
    "MANIFEST_KEY": locations.BASELINE_MANIFEST,
}
REQUIRED = [locations.DATA_QUALITY_STATISTICS, locations.DATA_QUALITY_CONSTRAINTS, locations.DRIFT_BASELINE]


HANDLER = ROOT / "mlops_cdk" / "lambdas" / "baseline_publisher" / "handler.py"
SCRIPTS = ROOT / "mlops_cdk" / "pipeline_defs" / "scripts"
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


def bias_document(run="run-1", di=0.8):
    """A bias baseline as the pipeline's bias_baseline.py writes it."""
    return {"report_version": 1, "source": f"test split of {run}", "facets": {
        "customer_age": {"DPPL": 0.05, "DI": di, "RD": None, "AD": -0.01, "n_a": 120, "n_d": 80}}}


def _register(s3, sm, run, *, bucket=BUCKET, status="Approved", bias=None):
    """A version with its baselines; ``bias``: the BiasBaseline property (a URI, or a document to store and point to)."""
    prefix = f"{PREFIX}{run}"
    for name in ("statistics.json", "constraints.json", "baseline_histogram.json"):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{name}", Body=json.dumps({"run": run, "file": name}).encode())
    uri = lambda name: f"s3://{bucket}/{prefix}/{name}"  # noqa: E731
    metadata = {"BaselineHistogram": uri("baseline_histogram.json")}
    if isinstance(bias, (dict, bytes)):
        body = bias if isinstance(bias, bytes) else json.dumps(bias).encode()
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/bias_baseline.json", Body=body)
        metadata["BiasBaseline"] = uri("bias_baseline.json")
    elif bias is not None:
        metadata["BiasBaseline"] = bias
    return sm.create_model_package(
        ModelPackageGroupName=GROUP, ModelApprovalStatus=status,
        InferenceSpecification={"Containers": [{"Image": "img"}], "SupportedContentTypes": ["text/csv"],
                                "SupportedResponseMIMETypes": ["text/csv"]},
        DriftCheckBaselines={"ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": uri("statistics.json")},
            "Constraints": {"ContentType": "application/json", "S3Uri": uri("constraints.json")}}},
        CustomerMetadataProperties=metadata,
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
    assert result["missing"] == REQUIRED and result["not_registered"] == [locations.BIAS_BASELINE]
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


# ------------------------------------------------------------------ bias baseline
def _keys(s3):
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=locations.BASELINES).get("Contents", [])}


def test_a_bias_baseline_is_published_as_registered(aws):
    s3, sm = aws
    arn = _register(s3, sm, "run-1", bias=bias_document())
    result = publish(_event(arn), sm, s3)
    assert result["status"] == "published" and result["not_registered"] == []
    source = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}run-1/bias_baseline.json")["Body"].read()
    published = s3.get_object(Bucket=BUCKET, Key=locations.BIAS_BASELINE)
    assert published["Body"].read() == source and published["ContentType"] == "application/json"
    manifest = _read(s3, locations.BASELINE_MANIFEST)
    assert manifest["baselines"][locations.BIAS_BASELINE] == f"s3://{BUCKET}/{PREFIX}run-1/bias_baseline.json"


def test_a_version_without_a_bias_baseline_removes_nothing(aws, capsys):
    s3, sm = aws
    publish(_event(_register(s3, sm, "run-1", bias=bias_document("run-1"))), sm, s3)
    capsys.readouterr()
    arn = _register(s3, sm, "run-2")  # built without bias facets
    result = publish(_event(arn), sm, s3)
    assert result["status"] == "published" and result["missing"] == [] and result["refused"] == {}
    assert result["not_registered"] == [locations.BIAS_BASELINE]
    assert _read(s3, locations.BIAS_BASELINE) == bias_document("run-1")  # left as it was
    assert _read(s3, locations.DRIFT_BASELINE)["run"] == "run-2"
    manifest = _read(s3, locations.BASELINE_MANIFEST)
    assert manifest["model_package_arn"] == arn and manifest["not_registered"] == [locations.BIAS_BASELINE]
    assert locations.BIAS_BASELINE not in manifest["baselines"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(line["message"].startswith("no bias baseline") and line["arn"] == arn for line in lines)


NAN_DOCUMENT = json.dumps(bias_document()).replace("0.8", "NaN").encode()


@pytest.mark.parametrize("bias", [
    "not-a-uri",
    "   ",
    f"s3://someone-elses-bucket/{PREFIX}run-2/bias_baseline.json",
    f"s3://{BUCKET}/training-data/bias_baseline.json",  # the platform bucket, not where the pipeline writes
    f"s3://{BUCKET}/{PREFIX}run-2/bias_baseline.json\n",
    f"s3://{BUCKET}/{PREFIX}run-2/no-such-object.json",
    b"not json",
    b"\xff\xfe\x00garbage",
    b"[" * 100_000,
    NAN_DOCUMENT,
    {"report_version": 2, "facets": bias_document()["facets"]},
    {"report_version": True, "facets": bias_document()["facets"]},
    {"report_version": 1, "facets": {}},
    {"report_version": 1, "facets": []},
    {"report_version": 1, "facets": {"age": {"DPPL": "0.1", "DI": None, "RD": None, "AD": None, "n_a": 1, "n_d": 1}}},
    {"report_version": 1, "facets": {"age": {"DPPL": 0.1, "DI": None, "RD": None, "n_a": 1, "n_d": 1}}},  # no AD
    {"report_version": 1, "facets": {"age": {"DPPL": 0.1, "DI": None, "RD": None, "AD": None, "n_a": -1, "n_d": 1}}},
    {"report_version": 1, "facets": {"age": {"DPPL": True, "DI": None, "RD": None, "AD": None, "n_a": 1, "n_d": 1}}},
    {"report_version": 1, "facets": {"age": [0.1]}},
], ids=["text", "blank", "other-bucket", "other-prefix", "trailing-newline", "no-object", "not-json", "not-utf8",
        "nested", "nan", "version-2", "version-true", "no-facets", "facets-list", "string-metric", "missing-metric",
        "negative-count", "bool-metric", "facet-not-object"])
def test_a_malformed_bias_baseline_is_refused_and_the_published_one_kept(aws, bias):
    s3, sm = aws
    publish(_event(_register(s3, sm, "run-1", bias=bias_document("run-1"))), sm, s3)
    arn = _register(s3, sm, "run-2", bias=bias)
    result = publish(_event(arn), sm, s3)
    assert result["status"] == "partial" and locations.BIAS_BASELINE in result["refused"]
    assert set(result["baselines"]) == set(REQUIRED)  # the others are still published
    assert _read(s3, locations.BIAS_BASELINE) == bias_document("run-1")
    assert _read(s3, locations.BASELINE_MANIFEST)["refused"] == result["refused"]


def test_an_oversized_bias_baseline_is_refused_unread(aws, monkeypatch):
    s3, sm = aws
    handler_module = load_handler(HANDLER)
    monkeypatch.setattr(handler_module, "MAX_BIAS_BASELINE_BYTES", 100)
    arn = _register(s3, sm, "run-1", bias=bias_document())
    result = handler_module.publish(_event(arn), handler_module.load_config(ENV), sm, s3)
    assert list(result["refused"]) == [locations.BIAS_BASELINE] and locations.BIAS_BASELINE not in _keys(s3)


def test_a_registered_baseline_whose_object_is_gone_is_refused_without_an_exception(aws):
    s3, sm = aws
    arn = _register(s3, sm, "run-1")
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}run-1/statistics.json")
    result = publish(_event(arn), sm, s3)
    assert result["status"] == "partial" and list(result["refused"]) == [locations.DATA_QUALITY_STATISTICS]
    assert _keys(s3) == {locations.DATA_QUALITY_CONSTRAINTS, locations.DRIFT_BASELINE, locations.BASELINE_MANIFEST}


@pytest.mark.parametrize("metadata", [None, "text", ["BiasBaseline"], {"BiasBaseline": None}])
def test_describe_output_of_any_shape_never_crashes(metadata):
    config = handler_module.load_config(ENV)
    sources = handler_module.baseline_sources({"CustomerMetadataProperties": metadata,
                                               "DriftCheckBaselines": "x"}, config)
    assert sources == dict.fromkeys([*REQUIRED, locations.BIAS_BASELINE])


def _published(s3):
    """Every published object's bytes; the manifest without its timestamp."""
    found = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in _keys(s3)}
    manifest = json.loads(found.pop(locations.BASELINE_MANIFEST))
    assert manifest.pop("published_at")
    return found, manifest


def test_the_same_approval_twice_publishes_the_same_baselines(aws):
    """EventBridge may deliver an event twice and Lambda retries: a second run changes nothing."""
    s3, sm = aws
    arn = _register(s3, sm, "run-1", bias=bias_document())
    first = publish(_event(arn), sm, s3)
    once = _published(s3)
    second = publish(_event(arn), sm, s3)
    assert _published(s3) == once and set(once[0]) == {*REQUIRED, locations.BIAS_BASELINE}
    assert {k: v for k, v in first.items() if k != "published_at"} == \
           {k: v for k, v in second.items() if k != "published_at"}


def test_the_checker_reads_the_baseline_the_pipeline_wrote_as_published(aws, tmp_path, monkeypatch):
    """End to end: evaluate.py's bias_baseline.py writes, the publisher copies, the bias checker loads."""
    import argparse
    import importlib.util

    import numpy as np

    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in the shipped scripts directory
    spec = importlib.util.spec_from_file_location("bias_baseline_script", SCRIPTS / "bias_baseline.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # no sibling import: nothing to add to sys.path
    checker = load_handler(ROOT / "mlops_cdk" / "lambdas" / "quality_checker" / "bias_stats.py")
    features = np.array([[20.0, 1.0], [30.0, 0.0], [50.0, 1.0], [60.0, 0.0], [45.0, 1.0], [25.0, 0.0]])
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "baseline_histogram.json").write_text(json.dumps({"features": {"age": {}, "online": {}}}))
    facets = [{"facet": "age", "values_or_threshold": [40], "label_values_or_threshold": [1]},
              {"facet": "online", "values_or_threshold": ["1"], "label_values_or_threshold": [0]}]
    args = argparse.Namespace(bias_facets=[json.dumps(facets)], facet_columns="0,1",
                              features_dir=tmp_path / "features", output_dir=tmp_path / "evaluation")
    labels, scores = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.4, 0.8, 0.7, 0.1])
    written = script.write_baseline(args, labels, features, scores, 0.5)

    s3, sm = aws
    arn = _register(s3, sm, "run-1", bias=(tmp_path / "evaluation" / script.FILE_NAME).read_bytes())
    assert publish(_event(arn), sm, s3)["status"] == "published"
    published = s3.get_object(Bucket=BUCKET, Key=locations.BIAS_BASELINE)["Body"].read()
    assert json.loads(published) == written
    # age > 40: 50, 60, 45 predicted 0, 1, 1 -> q_d = 2/3; a: 20, 30, 25 predicted 1, 0, 0 -> q_a = 1/3
    assert checker.load_baseline(published)["age"]["DPPL"] == pytest.approx(1 / 3 - 2 / 3)
    assert set(checker.load_baseline(published)) == {"age", "online"}
