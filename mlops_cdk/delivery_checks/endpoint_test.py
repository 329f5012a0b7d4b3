"""The delivery pipeline's endpoint test: invoke a stage's endpoint with records of the test split and gate on it.

Runs in CodeBuild after the dev and staging deployments (``python mlops_cdk/delivery_checks/endpoint_test.py``)
and passes only when every invocation succeeds, every response has the expected shape and every round trip
(except the first, which also sets up the connection) is under ``MAX_LATENCY_MS``.

Where the records come from: the test split of the training run that produced the served version. The
course pipeline registers each version with the S3 URI of its drift baseline
(``CustomerMetadataProperties.BaselineHistogram`` = ``.../PreprocessData/baseline/baseline_histogram.json``),
and its preprocessing step writes the test split next to it (``.../PreprocessData/test/test.csv``: no header,
label first, then the model inputs in request order; ``pipeline_defs/scripts/preprocess.py``). Those rows were
never trained on; the label column is dropped and each remaining row is one ``text/csv`` request.
``SAMPLES_FILE`` (a CSV of model inputs in the repository) replaces the test split, e.g. for a version the
course pipeline did not register.

Response shape (``PROBLEM_TYPE``): one number in [0, 1] (``BinaryClassification``), one finite number
(``Regression``), or a class number / class probabilities summing to 1 (``MulticlassClassification``); as
CSV or JSON.

Environment: ``STAGE``; ``ENDPOINT_NAME`` (unset or empty: the stage serves no model yet, the test prints
``skipped: no endpoint in this stage`` and passes); ``MODEL_PACKAGE_ARN`` (the served version);
``ROLE_ARN`` (a role of the stage's account to assume, optional); ``ENDPOINT_REGION`` (optional);
``MAX_LATENCY_MS``, ``SAMPLE_RECORDS``, ``PROBLEM_TYPE``, ``FEATURE_COUNT`` (optional), ``SAMPLES_FILE``.
Exit status: 0 passed or skipped, 1 failed, 2 misconfigured (a message says which setting).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
HISTOGRAM_PROPERTY = "BaselineHistogram"  # contract.BASELINE_HISTOGRAM_PROPERTY
HISTOGRAM_SUFFIX = "/baseline/baseline_histogram.json"
TEST_SPLIT_SUFFIX = "/test/test.csv"
READ_BYTES = 1024 * 1024  # enough for 1000 rows of a few hundred features
SKIPPED = "skipped: no endpoint in this stage"


class ConfigError(ValueError):
    """A setting of the test is missing or malformed."""


@dataclasses.dataclass(frozen=True)
class Settings:
    stage: str
    endpoint_name: str
    model_package_arn: str | None
    role_arn: str | None
    region: str | None
    max_latency_ms: int
    sample_records: int
    problem_type: str
    feature_count: int | None
    samples_file: str | None


def load_settings(environ: Mapping[str, str]) -> Settings | None:
    """The test's settings; ``None`` when the stage has no endpoint."""
    endpoint = environ.get("ENDPOINT_NAME", "").strip()
    if not endpoint:
        return None
    problem = environ.get("PROBLEM_TYPE", "BinaryClassification")
    if problem not in PROBLEM_TYPES:
        raise ConfigError(f"PROBLEM_TYPE={problem!r}; allowed: {' | '.join(PROBLEM_TYPES)}")
    samples = environ.get("SAMPLES_FILE") or None
    package = environ.get("MODEL_PACKAGE_ARN") or None
    if package is None and samples is None:
        raise ConfigError("MODEL_PACKAGE_ARN is required to find the test split (or set SAMPLES_FILE)")
    return Settings(
        stage=environ.get("STAGE", "?"),
        endpoint_name=endpoint,
        model_package_arn=package,
        role_arn=environ.get("ROLE_ARN") or None,
        region=environ.get("ENDPOINT_REGION") or None,
        max_latency_ms=_positive_int(environ, "MAX_LATENCY_MS", "2000"),
        sample_records=_positive_int(environ, "SAMPLE_RECORDS", "20"),
        problem_type=problem,
        feature_count=_positive_int(environ, "FEATURE_COUNT", None),
        samples_file=samples,
    )


def _positive_int(environ: Mapping[str, str], name: str, default: str | None) -> Any:
    text = environ.get(name) or default
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name}={text!r}; allowed: an integer >= 1")
    return value


# ------------------------------------------------------------------ records
def held_out_uri(package: Mapping[str, Any]) -> str:
    """The S3 URI of the test split of the run that registered ``package`` (a DescribeModelPackage response)."""
    histogram = (package.get("CustomerMetadataProperties") or {}).get(HISTOGRAM_PROPERTY)
    if not isinstance(histogram, str) or not histogram.startswith("s3://") or not histogram.endswith(HISTOGRAM_SUFFIX):
        raise ConfigError(
            f"model package {package.get('ModelPackageArn')} has no {HISTOGRAM_PROPERTY} metadata ending in "
            f"{HISTOGRAM_SUFFIX} (it was not registered by the course pipeline): set delivery.samples_file")
    return histogram[: -len(HISTOGRAM_SUFFIX)] + TEST_SPLIT_SUFFIX


def read_test_split(s3: Any, uri: str, count: int) -> list[str]:
    """The first ``count`` rows of the test split at ``uri``, label column dropped (reads at most 1 MiB)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{READ_BYTES - 1}")
    body = response["Body"].read().decode("utf-8")
    lines = body.splitlines()
    if len(body.encode("utf-8")) >= READ_BYTES and not body.endswith("\n"):
        lines = lines[:-1]  # the range cut the last row
    rows = [line.split(",", 1)[1] if "," in line else "" for line in lines if line.strip()]
    return rows[:count]


def read_samples_file(path: str, count: int) -> list[str]:
    rows = [line.strip() for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:count]


def check_rows(rows: Sequence[str], feature_count: int | None, where: str) -> None:
    if not rows:
        raise ConfigError(f"no sample records in {where}")
    for number, row in enumerate(rows, 1):
        fields = row.split(",")
        if not row or (feature_count is not None and len(fields) != feature_count):
            raise ConfigError(f"row {number} of {where} has {len(fields) if row else 0} fields; "
                              f"the endpoint takes {feature_count} (monitoring_features)")


# ------------------------------------------------------------------ responses
def parse_numbers(body: str) -> list[float] | None:
    """The numbers of a CSV or JSON response body, or None if it is neither."""
    text = body.strip()
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))  # {"predictions": [...]}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 for v in value):
        numbers = [float(v) for v in value]
    else:
        try:
            numbers = [float(part) for part in text.replace("\n", ",").split(",") if part.strip()]
        except ValueError:
            return None
    return numbers if numbers and all(math.isfinite(n) for n in numbers) else None


def shape_problem(body: str, problem_type: str) -> str | None:
    """Why ``body`` is not a prediction of ``problem_type`` for one record, or None."""
    numbers = parse_numbers(body)
    shown = body[:80]
    if numbers is None:
        return f"not a number or list of numbers: {shown!r}"
    if problem_type == "BinaryClassification":
        if len(numbers) != 1 or not 0 <= numbers[0] <= 1:
            return f"expected one probability in [0, 1], got {shown!r}"
    elif problem_type == "Regression":
        if len(numbers) != 1:
            return f"expected one number, got {shown!r}"
    elif len(numbers) == 1:
        if numbers[0] < 0 or numbers[0] != int(numbers[0]):
            return f"expected a class number or class probabilities, got {shown!r}"
    elif not all(0 <= n <= 1 for n in numbers) or abs(sum(numbers) - 1) > 1e-3:
        return f"expected class probabilities summing to 1, got {shown!r}"
    return None


@dataclasses.dataclass
class Report:
    invocations: int = 0
    latencies_ms: list[float] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    wrong_shape: list[str] = dataclasses.field(default_factory=list)
    slow: list[str] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.invocations > 0 and not (self.errors or self.wrong_shape or self.slow)

    def summary(self) -> dict[str, Any]:
        latencies = sorted(self.latencies_ms)
        return {"passed": self.passed, "invocations": self.invocations, "errors": len(self.errors),
                "wrong_shape": len(self.wrong_shape), "slow": len(self.slow),
                "max_latency_ms": round(latencies[-1], 1) if latencies else None,
                "median_latency_ms": round(latencies[len(latencies) // 2], 1) if latencies else None}


def invoke_all(runtime: Any, endpoint: str, rows: Sequence[str], *, max_latency_ms: int, problem_type: str,
               clock: Callable[[], float] = time.perf_counter) -> Report:
    """Send each row as one request; errors, wrong shapes and (after the first) slow round trips fail."""
    report = Report()
    for number, row in enumerate(rows, 1):
        report.invocations += 1
        start, failure = clock(), None
        try:
            response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="text/csv",
                                               Body=row.encode("utf-8"))
            body = response["Body"].read().decode("utf-8", errors="replace")
        except Exception as exc:  # noqa: BLE001 - any failed invocation is a finding, reported with its cause
            failure = f"record {number}: {type(exc).__name__}: {exc}"
        elapsed = (clock() - start) * 1000
        if failure is not None:
            report.errors.append(failure)
            continue
        report.latencies_ms.append(elapsed)
        problem = shape_problem(body, problem_type)
        if problem:
            report.wrong_shape.append(f"record {number}: {problem}")
        if number > 1 and elapsed > max_latency_ms:
            report.slow.append(f"record {number}: {elapsed:.0f} ms > {max_latency_ms} ms")
    return report


# ------------------------------------------------------------------ entry point
def _session(settings: Settings) -> Any:
    import boto3

    session = boto3.session.Session(region_name=settings.region)
    if settings.role_arn is None:
        return session
    credentials = session.client("sts").assume_role(
        RoleArn=settings.role_arn, RoleSessionName=f"endpoint-test-{settings.stage}"[:64])["Credentials"]
    return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"],
                                 aws_session_token=credentials["SessionToken"], region_name=settings.region)


def sample_rows(settings: Settings, session: Any) -> tuple[list[str], str]:
    """The records to send and where they came from."""
    if settings.samples_file is not None:
        rows, where = read_samples_file(settings.samples_file, settings.sample_records), settings.samples_file
    else:
        package = session.client("sagemaker").describe_model_package(ModelPackageName=settings.model_package_arn)
        where = held_out_uri(package)
        rows = read_test_split(session.client("s3"), where, settings.sample_records)
    check_rows(rows, settings.feature_count, where)
    return rows, where


def main(environ: Mapping[str, str] = os.environ, session_factory: Callable[[Settings], Any] = _session,
         clock: Callable[[], float] = time.perf_counter, out: Any = sys.stdout) -> int:
    try:
        settings = load_settings(environ)
        if settings is None:
            print(f"{SKIPPED} ({environ.get('STAGE', '?')}): no model package is configured or approved for it",
                  file=out)
            return 0
        session = session_factory(settings)
        rows, where = sample_rows(settings, session)
    except ConfigError as error:
        print(f"endpoint test misconfigured: {error}", file=out)
        return 2
    print(f"endpoint test of {settings.endpoint_name} ({settings.stage}): {len(rows)} records from {where}", file=out)
    report = invoke_all(session.client("sagemaker-runtime"), settings.endpoint_name, rows,
                        max_latency_ms=settings.max_latency_ms, problem_type=settings.problem_type, clock=clock)
    for finding in report.errors + report.wrong_shape + report.slow:
        print(f"FAILED {finding}", file=out)
    print(json.dumps(report.summary(), sort_keys=True), file=out)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
