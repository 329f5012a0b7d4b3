"""Publishes an approved model version's baselines where the monitors read them.

Triggered by EventBridge ("SageMaker Model Package State Change", status
Approved). The training pipeline registers each version with its own,
immutable baselines (Model Monitor statistics and constraints as
``DriftCheckBaselines``, the drift checker's histogram as the
``contract.BASELINE_HISTOGRAM_PROPERTY`` metadata property and, when it was
built with bias facets, the bias checker's baseline as
``contract.BIAS_BASELINE_PROPERTY``). Monitors need one fixed location, so on
approval this copies them to the platform bucket's ``baselines/`` keys and
writes a manifest saying which version they came from. Until a version is
approved nothing is published, so a failed or rejected run never replaces the
baselines of the model in service.

The bias baseline is optional: a version without one publishes nothing there
and removes nothing (the manifest lists it under ``not_registered``). It is
published only as a valid bias baseline document (read, checked, written as
read), since the bias checker acts on every number in it.

Error policy: malformed events, other groups and versions that are not
approved are logged and skipped without AWS calls beyond one describe;
a baseline that is not an ``s3://`` URI under SOURCE_PREFIX of the platform
bucket, that does not exist, or (bias) is not a valid document is never
copied (logged as refused); other AWS errors are raised so Lambda retries and
the dead-letter queue keeps the event. A missing setting fails every
invocation the same way (``env``).

Environment (read once at cold start, all required): MODEL_PACKAGE_GROUP,
DATA_BUCKET, SOURCE_PREFIX, STATISTICS_KEY, CONSTRAINTS_KEY, HISTOGRAM_KEY,
BIAS_BASELINE_KEY, MANIFEST_KEY.
Only the standard library, boto3 and the shared modules (``contract``, ``env``,
``json_log``) that ``PlatformFunction`` copies next to this file.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

import contract
import env
from json_log import json_logger
from package_events import model_package_change

APPROVED, _REJECTED, _PENDING = contract.APPROVAL_STATUSES

LOGGER, _log = json_logger("mlops_cdk.baseline_publisher")
MAX_BIAS_BASELINE_BYTES = 1024 * 1024  # a few facets take a few hundred bytes


def log(message: str, **fields: Any) -> None:
    _log(logging.INFO, message, **fields)


@dataclasses.dataclass(frozen=True)
class Config:
    model_package_group: str
    data_bucket: str
    source_prefix: str  # where the pipeline writes: baselines elsewhere are refused
    statistics_key: str  # destination keys in the data bucket
    constraints_key: str
    histogram_key: str
    bias_key: str
    manifest_key: str


def load_config(environ: Mapping[str, str]) -> Config:
    """The publisher's settings; raises ``env.ConfigError`` naming every missing one."""
    return env.load(environ, lambda settings: Config(
        model_package_group=settings.required("MODEL_PACKAGE_GROUP"),
        data_bucket=settings.required("DATA_BUCKET"),
        source_prefix=settings.required("SOURCE_PREFIX"),
        statistics_key=settings.required("STATISTICS_KEY"),
        constraints_key=settings.required("CONSTRAINTS_KEY"),
        histogram_key=settings.required("HISTOGRAM_KEY"),
        bias_key=settings.required("BIAS_BASELINE_KEY"),
        manifest_key=settings.required("MANIFEST_KEY"),
    ))


def parse_event(event: Any, group: str) -> str | None:
    """The approved package ARN of ``group`` named by ``event``, or None (and a log line saying why)."""
    detail, why = model_package_change(event)
    if detail is None:
        log(f"skipped: not a SageMaker model package state change event ({why})", event=event)
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


def baseline_sources(package: Mapping[str, Any], config: Config) -> dict[str, Any]:
    """Where the version's baselines are (as registered: an S3 URI, None, or anything), by destination key."""
    quality = ("DriftCheckBaselines", "ModelDataQuality")
    metadata = "CustomerMetadataProperties"
    sources = {
        config.statistics_key: _get(package, *quality, "Statistics", "S3Uri"),
        config.constraints_key: _get(package, *quality, "Constraints", "S3Uri"),
        config.histogram_key: _get(package, metadata, contract.BASELINE_HISTOGRAM_PROPERTY),
        config.bias_key: _get(package, metadata, contract.BIAS_BASELINE_PROPERTY),
    }
    return {destination: None if source == "" else source for destination, source in sources.items()}


def source_key(source: Any, config: Config) -> tuple[str | None, str]:
    """(the key of ``source`` in the data bucket, "") or (None, why it may not be copied)."""
    match = contract.S3_URI_RE.fullmatch(source) if isinstance(source, str) else None
    if match is None:
        return None, "not an s3://<bucket>/<key> URI"
    if match.group("bucket") != config.data_bucket:
        return None, "outside the platform bucket"
    if not match.group("key").startswith(config.source_prefix):
        return None, f"outside the pipeline's prefix {config.source_prefix!r}"
    return match.group("key"), ""


def bias_document_problem(document: Any) -> str | None:
    """Why ``document`` is not a bias baseline (report_version 1, facets of metrics and group sizes), or None."""
    if not isinstance(document, Mapping) or type(document.get("report_version")) is not int \
            or document["report_version"] != 1:
        return "not a JSON object with report_version 1"
    facets = document.get("facets")
    if not isinstance(facets, Mapping) or not 0 < len(facets) <= contract.MAX_BIAS_FACETS:
        return f"facets is not an object of 1 to {contract.MAX_BIAS_FACETS} facets"
    for name, entry in facets.items():
        if not isinstance(entry, Mapping):
            return f"facet {name!r} is not an object"
        for metric in contract.BIAS_METRICS:
            value = entry.get(metric, "absent")
            if value is not None and (type(value) not in (int, float) or not math.isfinite(value)):
                return f"facet {name!r}: {metric} is not a number or null"
        for size in ("n_a", "n_d"):
            if type(entry.get(size)) is not int or entry[size] < 0:
                return f"facet {name!r}: {size} is not a count"
    return None


def _copy(s3: Any, config: Config, destination: str, key: str) -> str | None:
    """Copy ``key`` to ``destination`` (the bias baseline only if valid); None, or why it was not copied."""
    bucket = config.data_bucket
    try:
        if destination != config.bias_key:
            s3.copy_object(Bucket=bucket, Key=destination, CopySource={"Bucket": bucket, "Key": key})
            return None
        found = s3.get_object(Bucket=bucket, Key=key)
        if found.get("ContentLength", 0) > MAX_BIAS_BASELINE_BYTES:
            found["Body"].close()
            return f"larger than {MAX_BIAS_BASELINE_BYTES} bytes"
        body = found["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return "no such object"
        raise  # anything else may pass: retried, then kept in the dead-letter queue
    try:
        problem = bias_document_problem(json.loads(body))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested beyond reason
        problem = "not a JSON document"
    if problem is None:
        s3.put_object(Bucket=bucket, Key=destination, Body=body, ContentType="application/json")
    return problem


def publish(event: Any, config: Config, sagemaker: Any, s3: Any) -> dict[str, Any]:
    """Copy the baselines of the approved version named by ``event``; clients are used for a valid event only."""
    arn = parse_event(event, config.model_package_group)
    if arn is None:
        return {"status": "skipped"}
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    if package.get("ModelApprovalStatus") != APPROVED:
        log("skipped: version no longer approved", arn=arn, status=package.get("ModelApprovalStatus"))
        return {"status": "skipped", "model_package_arn": arn}

    published, missing, refused, not_registered = {}, [], {}, []
    for destination, source in baseline_sources(package, config).items():
        if source is None and destination == config.bias_key:
            not_registered.append(destination)
            log("no bias baseline: the version registers none (built without bias facets); "
                "what the destination holds, if anything, is left as it was", arn=arn, destination=destination)
            continue
        if source is None:
            missing.append(destination)
            continue
        key, why = source_key(source, config)
        why = why or _copy(s3, config, destination, key)
        if why:
            refused[destination] = source if isinstance(source, str) else json.dumps(source, default=str)
            log("refused a baseline", arn=arn, destination=destination, source=refused[destination], reason=why)
        else:
            published[destination] = source
    manifest = {
        "model_package_arn": arn,
        "published_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "baselines": published,
        "missing": missing,
        "refused": refused,
        "not_registered": not_registered,
    }
    s3.put_object(Bucket=config.data_bucket, Key=config.manifest_key, Body=json.dumps(manifest, indent=2).encode(),
                  ContentType="application/json")
    status = "published" if not missing and not refused else "partial"
    log(f"baselines {status}", **manifest)
    return {"status": status, **manifest}


def _get(node: Any, *path: str) -> Any:
    """``node[path[0]][path[1]]...``, or None when a step is missing or not an object."""
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


CONFIG = env.cold_start(load_config, _log)


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    config = CONFIG.get()  # a ConfigError fails the invocation: retried, then kept in the DLQ until fixed
    return publish(event, config, env.client("sagemaker"), env.client("s3"))
