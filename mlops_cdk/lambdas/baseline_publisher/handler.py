"""Publishes an approved model version's baselines where the monitors read them.

Triggered by EventBridge ("SageMaker Model Package State Change", status
Approved). The training pipeline registers each version with its own,
immutable baselines (Model Monitor statistics and constraints as
``DriftCheckBaselines``, the drift checker's histogram as the
``BaselineHistogram`` metadata property). Monitors need one fixed location,
so on approval this copies them to the platform bucket's ``baselines/`` keys
and writes a manifest saying which version they came from. Until a version is
approved nothing is published, so a failed or rejected run never replaces the
baselines of the model in service.

Error policy: malformed events, other groups and versions that are not
approved are logged and skipped without AWS calls beyond one describe;
baselines outside the platform bucket are never copied (logged as refused);
AWS errors are raised so Lambda retries and the dead-letter queue keeps the event.

Environment: MODEL_PACKAGE_GROUP, DATA_BUCKET, STATISTICS_KEY, CONSTRAINTS_KEY,
HISTOGRAM_KEY, MANIFEST_KEY. Standard library and boto3 only.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

import boto3

from json_log import json_logger  # shipped next to this file by PlatformFunction

_PACKAGE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/\d+$")
_S3_RE = re.compile(r"^s3://([^/]+)/(.+)$")
_ENV = ("MODEL_PACKAGE_GROUP", "DATA_BUCKET", "STATISTICS_KEY", "CONSTRAINTS_KEY", "HISTOGRAM_KEY", "MANIFEST_KEY")


LOGGER, _log = json_logger("mlops_cdk.baseline_publisher")


def log(message: str, **fields: Any) -> None:
    _log(logging.INFO, message, **fields)


def parse_event(event: Any, group: str) -> str | None:
    """The approved package ARN of ``group`` named by ``event``, or None (and a log line saying why)."""
    detail = event.get("detail") if isinstance(event, Mapping) else None
    if not isinstance(detail, Mapping) or event.get("source") != "aws.sagemaker":
        log("skipped: not a SageMaker model package event", event=event)
        return None
    arn = detail.get("ModelPackageArn")
    if not isinstance(arn, str) or not _PACKAGE_ARN_RE.match(arn):
        log("skipped: event without a model package ARN", detail=detail)
        return None
    if detail.get("ModelPackageGroupName") != group:
        log("skipped: another model package group", arn=arn)
        return None
    if detail.get("ModelApprovalStatus") != "Approved":
        log("skipped: event status is not Approved", arn=arn, status=detail.get("ModelApprovalStatus"))
        return None
    return arn


def baseline_sources(package: Mapping[str, Any]) -> dict[str, str | None]:
    """Where the version's baselines are, by environment key of their destination."""
    quality = package.get("DriftCheckBaselines", {}).get("ModelDataQuality", {})
    return {
        "STATISTICS_KEY": quality.get("Statistics", {}).get("S3Uri"),
        "CONSTRAINTS_KEY": quality.get("Constraints", {}).get("S3Uri"),
        "HISTOGRAM_KEY": package.get("CustomerMetadataProperties", {}).get("BaselineHistogram"),
    }


def handler(event: Any, context: Any = None, *, env: Mapping[str, str] | None = None,
            sagemaker: Any = None, s3: Any = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    missing_env = [name for name in _ENV if not env.get(name)]
    if missing_env:
        raise ValueError(f"baseline publisher: missing environment variables {missing_env}")
    arn = parse_event(event, env["MODEL_PACKAGE_GROUP"])
    if arn is None:
        return {"status": "skipped"}
    sagemaker = sagemaker or boto3.client("sagemaker")
    s3 = s3 or boto3.client("s3")
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    if package.get("ModelApprovalStatus") != "Approved":
        log("skipped: version no longer approved", arn=arn, status=package.get("ModelApprovalStatus"))
        return {"status": "skipped", "model_package_arn": arn}

    bucket = env["DATA_BUCKET"]
    published, missing, refused = {}, [], {}
    for key_name, source in baseline_sources(package).items():
        match = _S3_RE.match(source) if isinstance(source, str) else None
        if match is None:
            missing.append(key_name)
        elif match.group(1) != bucket:
            refused[key_name] = source  # never copy from outside the platform bucket
        else:
            s3.copy_object(Bucket=bucket, Key=env[key_name], CopySource={"Bucket": bucket, "Key": match.group(2)})
            published[env[key_name]] = source
    manifest = {
        "model_package_arn": arn,
        "published_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "baselines": published,
        "missing": missing,
        "refused": refused,
    }
    s3.put_object(Bucket=bucket, Key=env["MANIFEST_KEY"], Body=json.dumps(manifest, indent=2).encode(),
                  ContentType="application/json")
    status = "published" if not missing and not refused else "partial"
    log(f"baselines {status}", **manifest)
    return {"status": status, **manifest}
