"""Feature-drift checker for a SageMaker endpoint (Lambda, Python 3.14, boto3 only).

Triggered by an EventBridge schedule. Each run:

1. loads and validates the baseline histograms (``BASELINE_S3_URI``,
   format in ``drift_baseline``);
2. lists the endpoint's data-capture objects of the last ``WINDOW_HOURS``
   hours by their hour prefixes
   ``<CAPTURE_PREFIX>/<ENDPOINT_NAME>/<variant>/yyyy/mm/dd/hh/`` (variants are
   discovered with a delimiter listing of ``<CAPTURE_PREFIX>/<ENDPOINT_NAME>/``;
   never a bucket scan). The window is ``[now - WINDOW_HOURS h, now)``: every
   hour prefix that overlaps it is listed and, in the first (partial) hour,
   events are filtered by ``eventMetadata.inferenceTime``;
3. streams each object line by line (``StreamingBody.iter_lines``) into the
   ``capture_parser.CaptureAnalyzer``: memory stays flat whatever the volume;
4. computes per-feature PSI (and chi-square for categorical features) against
   the baseline (``drift_stats``);
5. publishes CloudWatch metrics to ``METRIC_NAMESPACE`` (names from ``contract``):
   ``FeatureDrift`` (dimensions Endpoint, Feature; value PSI; one per feature),
   ``MaxFeatureDrift`` (Endpoint; the largest PSI), ``RecordsAnalyzed`` and
   ``MalformedRecords`` (Endpoint; Count), in batches of <= 1000 per call;
6. writes a JSON report to
   ``s3://REPORT_BUCKET/REPORT_PREFIX/<endpoint>/<YYYY-MM-DDTHH-MM-SSZ>.json``;
7. only when some feature's PSI >= ``THRESHOLD``, puts one event on
   ``EVENT_BUS_NAME``: source ``EVENT_SOURCE``, detail-type
   "Feature Drift Detected", detail ``{"endpoint", "model", "status": "drift",
   "drifted_features": [{"feature", "psi"}...], "max_psi", "threshold",
   "report_uri", "window_start", "window_end", "records_analyzed"}``.

Empty window (no capture object, or no valid record in them): nothing is
published, no report and no event are written; the run logs a warning and
returns ``{"status": "empty", ...}`` (alarm on missing ``RecordsAnalyzed`` data
to catch a silent endpoint).

Errors: a missing or unparseable setting (``env.ConfigError``, read once at
cold start and raised on every invocation), a missing or invalid baseline
(``drift_baseline.BaselineError``), a FEATURE_NAMES/baseline mismatch
(``capture_parser.FeatureMappingError``, all ``ValueError``) and AWS errors
are raised: the invocation fails and, after Lambda's retries, lands in the
function's dead-letter queue. Malformed capture lines are never fatal.

Environment
-----------
Required: ``CAPTURE_BUCKET``, ``CAPTURE_PREFIX`` (may be empty), ``ENDPOINT_NAME``,
``BASELINE_S3_URI`` (s3://bucket/key), ``FEATURE_NAMES`` (comma-separated, the
CSV column order of the captured input), ``REPORT_BUCKET``, ``REPORT_PREFIX``
(may be empty), ``MODEL_NAME``.
Optional: ``WINDOW_HOURS`` (24; 1..``contract.MAX_DRIFT_WINDOW_HOURS``),
``THRESHOLD`` (PSI, 0.2; at most ``contract.MAX_DRIFT_THRESHOLD``),
``WARNING_THRESHOLD`` (0.1; 0 < WARNING_THRESHOLD < THRESHOLD),
``METRIC_NAMESPACE`` (``contract.MONITORING_NAMESPACE``), ``EVENT_BUS_NAME``
("default"), ``EVENT_SOURCE`` (``contract.DRIFT_EVENT_SOURCE``).

The modules of this folder and the shared ones (``contract``, ``env``,
``json_log``, copied here by ``PlatformFunction``) are imported as top-level
modules: this folder is the deployment root.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import ClientError

import contract
import env
from capture_parser import CaptureAnalyzer
from drift_baseline import BaselineError, load_baseline
from json_log import json_logger

REPORT_VERSION = 1
MAX_METRICS_PER_CALL = 1000
_STREAM_CHUNK_BYTES = 64 * 1024
DRIFT, WARNING, OK = contract.DRIFT_EVENT_STATUS, "warning", "ok"  # a run's (and each feature's) status

LOGGER, log = json_logger("mlops_cdk.drift_checker")


@dataclass(frozen=True)
class Config:
    capture_bucket: str
    capture_prefix: str
    endpoint_name: str
    baseline_bucket: str
    baseline_key: str
    feature_names: tuple[str, ...]
    report_bucket: str
    report_prefix: str
    model_name: str
    window_hours: int = 24
    threshold: float = 0.2
    warning_threshold: float = 0.1
    metric_namespace: str = contract.MONITORING_NAMESPACE
    event_bus_name: str = "default"
    event_source: str = contract.DRIFT_EVENT_SOURCE

    @property
    def baseline_uri(self) -> str:
        return f"s3://{self.baseline_bucket}/{self.baseline_key}"


def load_config(environ: Mapping[str, str]) -> Config:
    """The checker's settings; raises ``env.ConfigError`` listing every missing or unusable one."""
    def read(settings: env.Settings) -> Config:
        baseline = settings.match("BASELINE_S3_URI", contract.S3_URI_RE, "s3://bucket/key")
        threshold = settings.number("THRESHOLD", default=0.2, above=0, maximum=contract.MAX_DRIFT_THRESHOLD)
        warning = settings.number("WARNING_THRESHOLD", default=0.1, above=0, maximum=contract.MAX_DRIFT_THRESHOLD)
        if threshold is not None and warning is not None and not warning < threshold:
            settings.problem(f"WARNING_THRESHOLD: invalid value {warning!r}; "
                             f"allowed: a number in (0, THRESHOLD={threshold:g})")
        return Config(
            capture_bucket=settings.required("CAPTURE_BUCKET"),
            capture_prefix=(settings.required("CAPTURE_PREFIX", allow_empty=True) or "").strip("/"),
            endpoint_name=settings.required("ENDPOINT_NAME"),
            baseline_bucket=baseline.group("bucket") if baseline else None,
            baseline_key=baseline.group("key") if baseline else None,
            feature_names=settings.names("FEATURE_NAMES"),
            report_bucket=settings.required("REPORT_BUCKET"),
            report_prefix=(settings.required("REPORT_PREFIX", allow_empty=True) or "").strip("/"),
            model_name=settings.required("MODEL_NAME"),
            window_hours=settings.integer("WINDOW_HOURS", default=24, minimum=1,
                                          maximum=contract.MAX_DRIFT_WINDOW_HOURS),
            threshold=threshold,
            warning_threshold=warning,
            metric_namespace=settings.optional("METRIC_NAMESPACE", contract.MONITORING_NAMESPACE),
            event_bus_name=settings.optional("EVENT_BUS_NAME", "default"),
            event_source=settings.optional("EVENT_SOURCE", contract.DRIFT_EVENT_SOURCE),
        )
    return env.load(environ, read)


# --------------------------------------------------------------------------- entry point
CONFIG = env.cold_start(load_config, log)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point (an EventBridge schedule): one check of the last window."""
    config = CONFIG.get()  # a ConfigError fails the invocation: retried, then kept in the DLQ until fixed
    return check_drift(config, now=datetime.now(timezone.utc), s3=env.client("s3"),
                       cloudwatch=env.client("cloudwatch"), events=env.client("events"))


def check_drift(config: Config, *, now: datetime, s3: Any, cloudwatch: Any, events: Any) -> dict[str, Any]:
    """Analyze the window ending at ``now`` (timezone-aware), publish what it found, return the summary."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(timezone.utc)
    baseline = _read_baseline(s3, config)
    analyzer = CaptureAnalyzer(config.feature_names, baseline)
    window_start = now - timedelta(hours=config.window_hours)
    window = {"start": _iso(window_start), "end": _iso(now), "hours": config.window_hours}

    objects = 0
    first_hour, last_hour = _floor_hour(window_start), _floor_hour(now)
    for key, hour in iter_capture_keys(s3, config, window_start, now):
        objects += 1
        body = s3.get_object(Bucket=config.capture_bucket, Key=key)["Body"]
        try:
            # Only the first and last hour prefixes can hold events outside the window:
            # the others skip the per-event time check.
            bounds = {}
            if hour == first_hour:
                bounds["not_before"] = window_start
            if hour == last_hour:
                bounds["not_after"] = now
            analyzer.add_lines(body.iter_lines(chunk_size=_STREAM_CHUNK_BYTES), **bounds)
        finally:
            body.close()

    counts = {"objects_read": objects, **analyzer.counts()}
    summary: dict[str, Any] = {"endpoint": config.endpoint_name, "model": config.model_name, "window": window, **counts}
    if analyzer.records_analyzed == 0:
        log(logging.WARNING, "empty window: no metrics, report or event published", **summary)
        return {"status": "empty", **summary, "metrics_published": 0, "event_emitted": False, "report_uri": None}

    drift = analyzer.drift()
    statuses = {name: _status(d.psi, config) for name, d in drift.items()}
    max_feature = max(drift, key=lambda n: drift[n].psi)
    max_psi = drift[max_feature].psi
    drifted = [{"feature": n, "psi": d.psi} for n, d in drift.items() if d.psi >= config.threshold]
    status = DRIFT if drifted else (WARNING if WARNING in statuses.values() else OK)

    metrics = _metric_data(config, drift, max_psi, analyzer, now)
    for start in range(0, len(metrics), MAX_METRICS_PER_CALL):
        batch = metrics[start : start + MAX_METRICS_PER_CALL]
        cloudwatch.put_metric_data(Namespace=config.metric_namespace, MetricData=batch)

    report_name = f"{now:%Y-%m-%dT%H-%M-%SZ}.json"
    report_key = "/".join(p for p in (config.report_prefix, config.endpoint_name, report_name) if p)
    report_uri = f"s3://{config.report_bucket}/{report_key}"
    report = {
        "report_version": REPORT_VERSION,
        "status": status,
        "endpoint": config.endpoint_name,
        "model": config.model_name,
        "generated_at": _iso(now),
        "window": window,
        "baseline_uri": config.baseline_uri,
        "thresholds": {"drift": config.threshold, "warning": config.warning_threshold},
        "counts": counts,
        "max_feature_drift": {"feature": max_feature, "psi": max_psi},
        "drifted_features": drifted,
        "unmonitored_features": analyzer.unmonitored,
        "features": {n: {**d.as_dict(), "status": statuses[n]} for n, d in drift.items()},
    }
    s3.put_object(
        Bucket=config.report_bucket,
        Key=report_key,
        Body=json.dumps(report, indent=1, allow_nan=False).encode(),
        ContentType="application/json",
    )

    event_emitted = False
    if drifted:
        detail = {
            "endpoint": config.endpoint_name,
            "model": config.model_name,
            "status": contract.DRIFT_EVENT_STATUS,
            "drifted_features": drifted,
            "max_psi": max_psi,
            "threshold": config.threshold,
            "report_uri": report_uri,
            "window_start": window["start"],
            "window_end": window["end"],
            "records_analyzed": analyzer.records_analyzed,
        }
        response = events.put_events(
            Entries=[
                {
                    "Source": config.event_source,
                    "DetailType": contract.DRIFT_EVENT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "EventBusName": config.event_bus_name,
                    "Resources": [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge rejected the drift event: {response.get('Entries')}")
        event_emitted = True

    log(logging.INFO, f"drift check: {status}", status=status, **summary,
        max_feature_drift={"feature": max_feature, "psi": max_psi}, drifted_features=drifted,
        report_uri=report_uri, event_emitted=event_emitted)
    return {
        "status": status,
        **summary,
        "max_feature_drift": {"feature": max_feature, "psi": max_psi},
        "drifted_features": drifted,
        "features": {n: {"psi": d.psi, "status": statuses[n]} for n, d in drift.items()},
        "metrics_published": len(metrics),
        "event_emitted": event_emitted,
        "report_uri": report_uri,
    }


# --------------------------------------------------------------------------- S3


def _read_baseline(s3: Any, config: Config):
    try:
        body = s3.get_object(Bucket=config.baseline_bucket, Key=config.baseline_key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            raise BaselineError(f"baseline {config.baseline_uri} does not exist (BASELINE_S3_URI): {code}") from exc
        raise
    try:
        return load_baseline(body)
    except BaselineError as exc:
        raise BaselineError(f"{config.baseline_uri}: {exc}") from None


def hour_prefixes(variant_prefix: str, start: datetime, end: datetime) -> Iterator[tuple[str, datetime]]:
    """``<variant_prefix>yyyy/mm/dd/hh/`` for every hour that overlaps ``[start, end)``."""
    hour = _floor_hour(start)
    while hour < end:
        yield f"{variant_prefix}{hour:%Y/%m/%d/%H}/", hour
        hour += timedelta(hours=1)


def iter_capture_keys(s3: Any, config: Config, start: datetime, end: datetime) -> Iterator[tuple[str, datetime]]:
    """(key, hour) of every capture object of the endpoint in the hour prefixes overlapping ``[start, end)``."""
    endpoint_prefix = "/".join(p for p in (config.capture_prefix, config.endpoint_name) if p) + "/"
    paginator = s3.get_paginator("list_objects_v2")
    variants = [
        cp["Prefix"]
        for page in paginator.paginate(Bucket=config.capture_bucket, Prefix=endpoint_prefix, Delimiter="/")
        for cp in page.get("CommonPrefixes", [])
    ]
    for variant_prefix in variants:
        for prefix, hour in hour_prefixes(variant_prefix, start, end):
            for page in paginator.paginate(Bucket=config.capture_bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    if obj["Key"].endswith(".jsonl"):
                        yield obj["Key"], hour


# --------------------------------------------------------------------------- outputs


def _metric_data(config: Config, drift: dict, max_psi: float, analyzer: CaptureAnalyzer, now: datetime) -> list[dict]:
    endpoint = {"Name": contract.DIMENSION_ENDPOINT, "Value": config.endpoint_name}

    def datum(name: str, value: float, unit: str, *extra_dimensions: dict) -> dict:
        return {"MetricName": name, "Dimensions": [endpoint, *extra_dimensions], "Value": value, "Unit": unit,
                "Timestamp": now}

    data = [datum(contract.METRIC_FEATURE_DRIFT, d.psi, "None", {"Name": contract.DIMENSION_FEATURE, "Value": n})
            for n, d in drift.items()]
    data.append(datum(contract.METRIC_MAX_FEATURE_DRIFT, max_psi, "None"))
    data.append(datum(contract.METRIC_RECORDS_ANALYZED, analyzer.records_analyzed, "Count"))
    data.append(datum(contract.METRIC_MALFORMED_RECORDS, analyzer.malformed_records, "Count"))
    return data


def _status(psi: float, config: Config) -> str:
    if psi >= config.threshold:
        return DRIFT
    if psi >= config.warning_threshold:
        return WARNING
    return OK


def _floor_hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
