"""The scripts the delivery pipeline runs in CodeBuild: the endpoint test and the approved-packages reader.

The endpoint test runs against moto (the registry's version and the test split in S3) and a stubbed
sagemaker-runtime client (moto cannot make an endpoint fail or answer in another shape); latency comes
from an injected clock, so no test sleeps.
"""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from mlops_cdk.delivery_checks import approved_packages, endpoint_test

REGION = "eu-west-1"
BUCKET = "mlops-fraud-detection-dev-123456789012-eu-west-1"
RUN = "mlops-fraud-detection-dev-training/exec-1/PreprocessData"
# The test split as preprocess.py writes it: no header, label first, then the model inputs.
TEST_SPLIT = "1,250.0,3,0.5\n0,12.5,40,0.1\n0,99.9,7,0.9\n1,5.0,1,0.0\n"
INPUTS = ["250.0,3,0.5", "12.5,40,0.1", "99.9,7,0.9"]  # the first three rows without their label


@pytest.fixture(scope="module")
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=BUCKET, Key=f"{RUN}/test/test.csv", Body=TEST_SPLIT.encode())
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        sagemaker.create_model_package_group(ModelPackageGroupName="mlops-fraud-detection-dev")
        spec = {"Containers": [{"Image": "xgboost"}], "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"]}
        registered = sagemaker.create_model_package(
            ModelPackageGroupName="mlops-fraud-detection-dev", InferenceSpecification=spec,
            CustomerMetadataProperties={"BaselineHistogram": f"s3://{BUCKET}/{RUN}/baseline/baseline_histogram.json"})
        foreign = sagemaker.create_model_package(ModelPackageGroupName="mlops-fraud-detection-dev",
                                                 InferenceSpecification=spec)
        yield {"package": registered["ModelPackageArn"], "foreign": foreign["ModelPackageArn"],
               "s3": s3, "sagemaker": sagemaker}


class Session:
    """What the script asks a boto3 session for: moto's S3 and SageMaker, a stubbed runtime."""

    def __init__(self, aws, runtime):
        self.clients = {"s3": aws["s3"], "sagemaker": aws["sagemaker"], "sagemaker-runtime": runtime}

    def client(self, name):
        return self.clients[name]


def run(aws, responses, *, latencies_ms=None, **env):
    """Run the endpoint test; ``responses`` are bodies (str) or error codes (``("ModelError", 424)``)."""
    runtime = boto3.client("sagemaker-runtime", region_name=REGION)
    stubber = Stubber(runtime)
    for row, response in zip(INPUTS, responses):
        expected = {"EndpointName": "mlops-fraud-detection-dev", "ContentType": "text/csv", "Accept": "text/csv",
                    "Body": row.encode()}
        if isinstance(response, tuple):
            stubber.add_client_error("invoke_endpoint", service_error_code=response[0], http_status_code=response[1],
                                     expected_params=expected)
        else:
            stubber.add_response("invoke_endpoint", {"Body": io.BytesIO(response.encode()), "ContentType": "text/csv"},
                                 expected_params=expected)
    ticks = []
    for index, latency in enumerate(latencies_ms or [40] * len(responses)):
        ticks += [index * 100.0, index * 100.0 + latency / 1000]
    clock = iter(ticks).__next__
    environ = {"STAGE": "dev", "ENDPOINT_NAME": "mlops-fraud-detection-dev", "MODEL_PACKAGE_ARN": aws["package"],
               "SAMPLE_RECORDS": "3", "MAX_LATENCY_MS": "2000", "FEATURE_COUNT": "3", **env}
    out = io.StringIO()
    with stubber:
        status = endpoint_test.main(environ, session_factory=lambda settings: Session(aws, runtime), clock=clock,
                                    out=out)
        stubber.assert_no_pending_responses()
    text = out.getvalue()
    summary = json.loads(text.strip().splitlines()[-1]) if status in (0, 1) else None
    return status, text, summary


def test_three_good_predictions_of_the_test_split_pass(aws):
    status, text, summary = run(aws, ["0.91", "0.02\n", "0.5"])  # the stubber checks each request body
    assert status == 0, text
    assert f"3 records from s3://{BUCKET}/{RUN}/test/test.csv" in text
    assert summary == {"passed": True, "invocations": 3, "errors": 0, "wrong_shape": 0, "slow": 0,
                       "max_latency_ms": 40.0, "median_latency_ms": 40.0}


def test_a_slow_response_fails_but_the_first_call_only_warms_the_connection(aws):
    status, text, summary = run(aws, ["0.1", "0.2", "0.3"], latencies_ms=[5000, 100, 2500])
    assert status == 1
    assert summary["slow"] == 1 and "FAILED record 3: 2500 ms > 2000 ms" in text
    assert "record 1" not in text


def test_an_error_response_fails_the_stage(aws):
    status, text, summary = run(aws, ["0.1", ("ModelError", 424), "0.3"])
    assert status == 1
    assert summary["errors"] == 1 and summary["invocations"] == 3
    assert "FAILED record 2: ModelError" in text  # botocore's modeled error, with its message


@pytest.mark.parametrize("body", ["fraud", "1.7", "0.2,0.8", "[]", "NaN"])
def test_a_response_of_the_wrong_shape_fails_a_binary_classifier(aws, body):
    status, text, summary = run(aws, ["0.1", body, "0.3"])
    assert status == 1 and summary["wrong_shape"] == 1, text
    assert "FAILED record 2:" in text


def test_no_endpoint_in_the_stage_is_a_clear_skip_without_aws_calls():
    out = io.StringIO()

    def no_session(settings):
        raise AssertionError("a stage without an endpoint needs no AWS call")

    for environ in ({"STAGE": "staging"}, {"STAGE": "staging", "ENDPOINT_NAME": ""}):
        assert endpoint_test.main(environ, session_factory=no_session, out=out) == 0
    assert out.getvalue().count("skipped: no endpoint in this stage (staging)") == 2


def test_a_version_the_course_pipeline_did_not_register_asks_for_a_samples_file(aws):
    status, text, _ = run(aws, [], MODEL_PACKAGE_ARN=aws["foreign"])
    assert status == 2 and "set delivery.samples_file" in text


def test_rows_of_another_width_than_the_model_inputs_are_refused(aws):
    status, text, _ = run(aws, [], FEATURE_COUNT="9")
    assert status == 2 and "row 1 of s3://" in text and "has 3 fields; the endpoint takes 9" in text


def test_a_samples_file_of_the_repository_replaces_the_test_split(aws, tmp_path):
    samples = tmp_path / "samples.csv"
    samples.write_text("\n".join(INPUTS) + "\n\n")
    status, text, summary = run(aws, ["0.3", "0.4", "0.5"], SAMPLES_FILE=str(samples), MODEL_PACKAGE_ARN="")
    assert status == 0 and f"3 records from {samples}" in text and summary["passed"]


@pytest.mark.parametrize("env, named", [
    ({"PROBLEM_TYPE": "Ranking"}, "PROBLEM_TYPE"),
    ({"MAX_LATENCY_MS": "fast"}, "MAX_LATENCY_MS"),
    ({"SAMPLE_RECORDS": "0"}, "SAMPLE_RECORDS"),
    ({"MODEL_PACKAGE_ARN": ""}, "MODEL_PACKAGE_ARN"),
])
def test_misconfiguration_exits_2_naming_the_setting(aws, env, named):
    status, text, _ = run(aws, [], **env)
    assert status == 2 and named in text


@pytest.mark.parametrize("problem_type, body, ok", [
    ("BinaryClassification", '{"predictions": [0.3]}', True),
    ("BinaryClassification", "[[0.3]]", True),
    ("Regression", "1234.5", True),
    ("Regression", "1,2", False),
    ("MulticlassClassification", "2", True),
    ("MulticlassClassification", "2.5", False),
    ("MulticlassClassification", "0.2,0.3,0.5", True),
    ("MulticlassClassification", "0.2,0.3,0.6", False),
    ("BinaryClassification", "true", False),
])
def test_response_shapes_per_problem_type(problem_type, body, ok):
    assert (endpoint_test.shape_problem(body, problem_type) is None) is ok


def test_a_row_cut_by_the_byte_range_is_not_sent():
    row = "0,1.5,2.5\n"
    body = (row * (endpoint_test.READ_BYTES // len(row) + 1))[: endpoint_test.READ_BYTES]
    assert not body.endswith("\n")

    class S3:
        def get_object(self, **kwargs):
            assert kwargs["Range"] == f"bytes=0-{endpoint_test.READ_BYTES - 1}"
            return {"Body": io.BytesIO(body.encode())}

    rows = endpoint_test.read_test_split(S3(), "s3://b/k/test/test.csv", 10**6)
    assert len(rows) == endpoint_test.READ_BYTES // len(row) and set(rows) == {"1.5,2.5"}


def test_the_role_of_the_stage_account_is_assumed(aws):
    settings = endpoint_test.load_settings({"ENDPOINT_NAME": "e", "MODEL_PACKAGE_ARN": aws["package"],
                                            "ROLE_ARN": "arn:aws:iam::111111111111:role/x-endpoint-test",
                                            "ENDPOINT_REGION": REGION})
    credentials = endpoint_test._session(settings).get_credentials()
    assert credentials.token and credentials.access_key != "testing"  # moto's temporary credentials


# ------------------------------------------------------------------ approved packages
PARAMETERS = {stage: f"/mlops-cdk/mlops/fraud-detection/{stage}/approved-model-package"
              for stage in ("dev", "staging", "prod")}
VERSION = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/mlops-fraud-detection-dev/7"


def read(tmp_path, capsys, parameters):
    path = tmp_path / "response.json"
    path.write_text(json.dumps({"Parameters": [{"Name": PARAMETERS[s], "Value": v} for s, v in parameters.items()],
                                "InvalidParameters": [PARAMETERS[s] for s in PARAMETERS if s not in parameters]}))
    status = approved_packages.main(["approved_packages.py", str(path)] + [f"{s}={n}" for s, n in PARAMETERS.items()])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_recorded_versions_become_the_approved_packages_context(tmp_path, capsys):
    status, out, err = read(tmp_path, capsys, {"dev": VERSION, "staging": VERSION, "prod": "none"})
    assert status == 0
    assert json.loads(out) == {"dev": VERSION, "staging": VERSION}
    assert "approved package of prod: none recorded" in err


def test_no_parameter_yet_is_an_empty_object(tmp_path, capsys):
    status, out, _ = read(tmp_path, capsys, {})
    assert status == 0 and json.loads(out) == {}


@pytest.mark.parametrize("value", ["arn:aws:sagemaker:eu-west-1:111111111111:model-package/group", "'; rm -rf /", ""])
def test_a_parameter_holding_anything_else_stops_the_build(tmp_path, capsys, value):
    status, out, err = read(tmp_path, capsys, {"dev": VERSION, "prod": value})
    assert status == 2 and out == ""
    assert PARAMETERS["prod"] in err


def test_usage_errors_exit_2(capsys):
    assert approved_packages.main(["approved_packages.py"]) == 2
    assert approved_packages.main(["approved_packages.py", "f.json", "dev"]) == 2
