"""Publishes an approved model version's baselines where the monitors read them.

Triggered by EventBridge ("SageMaker Model Package State Change", status
Approved). The training pipeline registers each version with its own,
immutable baselines (Model Monitor statistics and constraints as
``DriftCheckBaselines``, the drift checker's histogram as the
``contract.BASELINE_HISTOGRAM_PROPERTY`` metadata property). Monitors need one
fixed location, so on approval this copies them to the platform bucket's
``baselines/`` keys and writes a manifest saying which version they came from.
Until a version is approved nothing is published, so a failed or rejected run
never replaces the baselines of the model in service.

Error policy: malformed events, other groups and versions that are not
approved are logged and skipped without AWS calls beyond one describe;
baselines outside the platform bucket are never copied (logged as refused);
AWS errors are raised so Lambda retries and the dead-letter queue keeps the
event. A missing setting fails every invocation the same way (``env``).

Environment (read once at cold start, all required): MODEL_PACKAGE_GROUP,
DATA_BUCKET, STATISTICS_KEY, CONSTRAINTS_KEY, HISTOGRAM_KEY, MANIFEST_KEY.
Only the standard library, boto3 and the shared modules (``contract``, ``env``,
``json_log``) that ``PlatformFunction`` copies next to this file.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
from collections.abc import Mapping
from typing import Any

import contract
import env
from json_log import json_logger

APPROVED, _REJECTED, _PENDING = contract.APPROVAL_STATUSES

LOGGER, _log = json_logger("mlops_cdk.baseline_publisher")


def log(message: str, **fields: Any) -> None:
    _log(logging.INFO, message, **fields)


@dataclasses.dataclass(frozen=True)
class Config:
    model_package_group: str
    data_bucket: str
    statistics_key: str  # destination keys in the data bucket
    constraints_key: str
    histogram_key: str
    manifest_key: str


def load_config(environ: Mapping[str, str]) -> Config:
    """The publisher's settings; raises ``env.ConfigError`` naming every missing one."""
    return env.load(environ, lambda settings: Config(
        model_package_group=settings.required("MODEL_PACKAGE_GROUP"),
        data_bucket=settings.required("DATA_BUCKET"),
        statistics_key=settings.required("STATISTICS_KEY"),
        constraints_key=settings.required("CONSTRAINTS_KEY"),
        histogram_key=settings.required("HISTOGRAM_KEY"),
        manifest_key=settings.required("MANIFEST_KEY"),
    ))


def parse_event(event: Any, group: str) -> str | None:
    """The approved package ARN of ``group`` named by ``event``, or None (and a log line saying why)."""
    detail = event.get("detail") if isinstance(event, Mapping) else None
    if not isinstance(detail, Mapping) or event.get("source") != contract.SAGEMAKER_EVENT_SOURCE \
            or event.get("detail-type") != contract.MODEL_PACKAGE_STATE_CHANGE:
        log("skipped: not a SageMaker model package state change event", event=event)
        return None
    arn = detail.get("ModelPackageArn")
    if not isinstance(arn, str) or not contract.MODEL_PACKAGE_ARN_RE.match(arn):
        log("skipped: event without a model package version ARN", detail=detail)
        return None
    if detail.get("ModelPackageGroupName") != group:
        log("skipped: another model package group", arn=arn)
        return None
    if detail.get("ModelApprovalStatus") != APPROVED:
        log("skipped: event status is not Approved", arn=arn, status=detail.get("ModelApprovalStatus"))
        return None
    return arn


def baseline_sources(package: Mapping[str, Any], config: Config) -> dict[str, str | None]:
    """Where the version's baselines are (S3 URI or None), by their destination key."""
    quality = package.get("DriftCheckBaselines", {}).get("ModelDataQuality", {})
    return {
        config.statistics_key: quality.get("Statistics", {}).get("S3Uri"),
        config.constraints_key: quality.get("Constraints", {}).get("S3Uri"),
        config.histogram_key: package.get("CustomerMetadataProperties", {}).get(contract.BASELINE_HISTOGRAM_PROPERTY),
    }


def publish(event: Any, config: Config, sagemaker: Any, s3: Any) -> dict[str, Any]:
    """Copy the baselines of the approved version named by ``event``; clients are used for a valid event only."""
    arn = parse_event(event, config.model_package_group)
    if arn is None:
        return {"status": "skipped"}
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    if package.get("ModelApprovalStatus") != APPROVED:
        log("skipped: version no longer approved", arn=arn, status=package.get("ModelApprovalStatus"))
        return {"status": "skipped", "model_package_arn": arn}

    bucket = config.data_bucket
    published, missing, refused = {}, [], {}
    for destination, source in baseline_sources(package, config).items():
        match = contract.S3_URI_RE.match(source) if isinstance(source, str) else None
        if match is None:
            missing.append(destination)
        elif match.group("bucket") != bucket:
            refused[destination] = source  # never copy from outside the platform bucket
        else:
            s3.copy_object(Bucket=bucket, Key=destination, CopySource={"Bucket": bucket, "Key": match.group("key")})
            published[destination] = source
    manifest = {
        "model_package_arn": arn,
        "published_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "baselines": published,
        "missing": missing,
        "refused": refused,
    }
    s3.put_object(Bucket=bucket, Key=config.manifest_key, Body=json.dumps(manifest, indent=2).encode(),
                  ContentType="application/json")
    status = "published" if not missing and not refused else "partial"
    log(f"baselines {status}", **manifest)
    return {"status": status, **manifest}


CONFIG = env.cold_start(load_config, _log)


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    config = CONFIG.get()  # a ConfigError fails the invocation: retried, then kept in the DLQ until fixed
    return publish(event, config, env.client("sagemaker"), env.client("s3"))
