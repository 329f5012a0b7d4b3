"""Own model-quality and bias-drift checker of a SageMaker endpoint (Lambda, boto3 only).

Triggered by an EventBridge schedule; ``CHECK`` picks what a deployment checks. ``now`` is the
schedule event's ``time`` (so a retry or a redrive from the dead-letter queue checks the window it
missed; the current time when the event has none). Each run:

1. takes the window ``[now - LABEL_DELAY_HOURS - WINDOW_HOURS, now - LABEL_DELAY_HOURS)`` (labels
   arrive late: the delay gives them time);
2. lists the endpoint's capture objects by hour prefix,
   ``<CAPTURE_PREFIX>/<ENDPOINT_NAME>/<variant>/yyyy/mm/dd/hh/`` (variants by a delimiter listing,
   never a bucket scan; events of the two edge hours are filtered by ``inferenceTime``) and
   streams each line (``capture_records``) into an SQLite file under /tmp (``join_store``);
3. if there were predictions and ground truth is configured, streams the label objects under
   ``<GROUND_TRUTH_PREFIX>/yyyy/mm/dd/hh/`` for every hour from the window's start until now
   (the path's hour is when a label was collected; ``ground_truth``) into the same file;
4. joins them on the capture's ``inferenceId`` (else ``eventId``) and computes, in SQL
   aggregates and streaming accumulators, the model-quality metrics (``quality_stats``) or the
   per-facet bias and its drift from the baseline (``bias_stats``);
5. writes a JSON report to ``s3://REPORT_BUCKET/REPORT_PREFIX/<ENDPOINT_NAME>/<YYYY-MM-DDTHH-MM-SSZ>.json``,
   then publishes the metrics (``quality_outputs``); both are keyed by ``now``, so a retried run
   overwrites its report and publishes its datapoints once.

Statuses: ``empty`` (no prediction in the window: nothing published, no report, a warning),
``no_labels`` (model_quality: predictions but none labelled: the run counters and a report),
``ok``, and for bias_drift ``drift`` (a BiasDrift >= BIAS_DRIFT_THRESHOLD) and ``no_baseline``
(no baseline configured, none written yet, or one that cannot be used: values are published
without drift, and the report's ``baseline.state`` says which).

Errors: an unusable setting (``env.ConfigError``, read once at cold start, raised by every
invocation) and AWS errors raise: Lambda retries, then keeps the event in the dead-letter queue.
Malformed capture or label lines never fail a run: they are counted by reason. The temporary
directory is always removed (Lambda reuses /tmp). Settings: ``quality_config``.

The folder is the deployment root: its modules and the shared ones (``contract``, ``env``,
``json_log``, copied in by ``PlatformFunction``) are imported as top-level modules.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import ClientError

import env
import quality_outputs as outputs
from bias_stats import NO_BASELINE, BiasBaselineError, FacetBias, facet_bias, load_baseline
from capture_records import CaptureReader, parse_inference_time
from ground_truth import LabelReader
from join_store import JoinStore
from json_log import json_logger, json_safe
from quality_config import BIAS_DRIFT, MODEL_QUALITY, Config, load_config
from quality_stats import quality

EMPTY, NO_LABELS, OK, DRIFT = "empty", "no_labels", "ok", "drift"
_STREAM_CHUNK_BYTES = 64 * 1024
_MISSING_OBJECT = ("NoSuchKey", "404")
_MAX_BASELINE_BYTES = 1024 * 1024
# PutMetricData takes datapoints up to two weeks old: a redrive older than this checks the current window.
_MAX_EVENT_AGE = timedelta(days=13)
_MAX_CLOCK_SKEW = timedelta(minutes=5)

LOGGER, log = json_logger("mlops_cdk.quality_checker")
CONFIG = env.cold_start(load_config, log)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point (an EventBridge schedule): one check of the window the schedule's event names."""
    config = CONFIG.get()  # a ConfigError fails the invocation: retried, then kept in the DLQ until fixed
    now = scheduled_time(event, datetime.now(timezone.utc))
    return run_check(config, now=now, s3=env.client("s3"), cloudwatch=env.client("cloudwatch"))


def scheduled_time(event: Any, now: datetime) -> datetime:
    """The schedule's ``time`` (so a retry or a dead-letter redrive checks the window it missed, not a later one).

    ``now`` when the event carries no usable time: missing, unreadable, in the future, or older than
    CloudWatch accepts datapoints for (two weeks, less a margin); each but the first is logged.
    """
    raw = event.get("time") if isinstance(event, dict) else None
    if raw is None:
        return now
    try:
        when = parse_inference_time(raw)
    except (TypeError, ValueError):
        log(logging.WARNING, "the event's time is unreadable: checking the window that ends now",
            event_time=str(raw)[:100])
        return now
    if when > now + _MAX_CLOCK_SKEW or when < now - _MAX_EVENT_AGE:
        log(logging.WARNING, "the event's time is out of range: checking the window that ends now",
            event_time=str(raw)[:100], oldest_accepted=outputs.iso(now - _MAX_EVENT_AGE))
        return now
    return when.astimezone(timezone.utc)


def run_check(config: Config, *, now: datetime, s3: Any, cloudwatch: Any) -> dict[str, Any]:
    """Check the window that ended ``LABEL_DELAY_HOURS`` before ``now`` (timezone-aware); publish; summarize."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(timezone.utc)
    end = now - timedelta(hours=config.label_delay_hours)
    start = end - timedelta(hours=config.window_hours)
    window = {"start": outputs.iso(start), "end": outputs.iso(end), "hours": config.window_hours,
              "label_delay_hours": config.label_delay_hours}
    baseline, baseline_state = _read_bias_baseline(s3, config) if config.check == BIAS_DRIFT else (None, None)

    workdir = tempfile.mkdtemp(prefix="quality-checker-")
    try:
        store = JoinStore(workdir, *_columns(config))
        try:
            captures, labels = CaptureReader(config), LabelReader(config) if config.has_labels else None
            objects = {"capture_objects": 0, "label_objects": 0}
            for key, bounds in capture_keys(s3, config, start, end):
                objects["capture_objects"] += 1
                _stream(s3, config.capture_bucket, key,
                        lambda lines, b=bounds: captures.add_lines(lines, store.add_prediction, **b))
            if labels is not None and store.lines["pred"]:
                for key in label_keys(s3, config, start, now):
                    objects["label_objects"] += 1
                    _stream(s3, config.ground_truth_bucket, key, lambda lines: labels.add_lines(lines, store.add_label))
            store.finish()
            counts = _counts(store, objects, captures, labels)
            summary = {"check": config.check, "endpoint": config.endpoint_name, "model": config.model_name,
                       "window": window}
            if counts["predictions"] == 0:
                log(logging.WARNING, "empty window: no prediction captured, nothing published", **summary, **counts)
                return {"status": EMPTY, **summary, "counts": counts, "metrics_published": 0, "report_uri": None}
            metrics: dict[str, float | None] = {}
            details: dict[str, Any] = {}
            facets: dict[str, FacetBias] = {}
            if config.check == MODEL_QUALITY:
                if counts["labelled_records"]:
                    has_scores = config.inference_attribute is None or config.probability_attribute is not None
                    metrics, details = quality(store, config.problem_type, has_scores=has_scores)
                status = OK if counts["labelled_records"] else NO_LABELS
            else:
                for i, spec in enumerate(config.facets):
                    facets[spec.facet] = facet_bias(
                        store, i, spec, with_labels=config.has_labels, threshold=config.drift_threshold,
                        baseline=None if baseline is None else baseline.get(spec.facet))
                states = {bias.status for bias in facets.values()}
                status = DRIFT if DRIFT in states else NO_BASELINE if NO_BASELINE in states else OK
            counts["join_file_bytes"] = store.size_bytes()
        finally:
            store.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    # The report first, then the metrics: a retry after a failed publish rewrites the same report key
    # and publishes once; the other order would count the run's datapoints twice.
    key = outputs.report_key(config, now)
    report = outputs.report(config, status=status, now=now, window=window, counts=counts, quality=metrics,
                            details=details, facets=facets, baseline_state=baseline_state)
    body = json.dumps(json_safe(report), indent=1, allow_nan=False).encode()
    s3.put_object(Bucket=config.report_bucket, Key=key, Body=body, ContentType="application/json")
    report_uri = f"s3://{config.report_bucket}/{key}"
    data, unpublishable = outputs.metric_data(config, now, counts, metrics, facets)
    if unpublishable:
        log(logging.WARNING, "values CloudWatch cannot store were left out (see the report)", report_uri=report_uri,
            unpublishable=unpublishable)
    outputs.publish(cloudwatch, config.metric_namespace, data)
    result: dict[str, Any] = {"status": status, **summary, "counts": counts, "metrics_published": len(data),
                              "report_uri": report_uri}
    if config.check == MODEL_QUALITY:
        result["metrics"] = metrics
    else:
        result["facets"] = {name: {"values": bias.values, "drift": bias.drift, "status": bias.status}
                            for name, bias in facets.items()}
        result["violations"] = report["violations"]
    log(logging.INFO, f"{config.check.replace('_', ' ')} check: {status}", **result)
    return result


# --------------------------------------------------------------------------- inputs


def _columns(config: Config) -> tuple[list[str], list[str]]:
    """The store's prediction and label columns for this check."""
    if config.check == MODEL_QUALITY:
        return ["pred", "score"], ["label"]
    pred = [c for i in range(len(config.facets)) for c in (f"g{i}", f"pp{i}")]
    return pred, [f"lp{i}" for i in range(len(config.facets))]


def _counts(store: JoinStore, objects: dict[str, int], captures: CaptureReader,
            labels: LabelReader | None) -> dict[str, Any]:
    joined = store.counts()
    label_malformed = dict(labels.malformed) if labels is not None else {}
    if labels is not None:
        label_malformed["label_count"] += joined["label_count_mismatches"]
    malformed = {"capture": {k: v for k, v in captures.malformed.items() if v},
                 "ground_truth": {k: v for k, v in label_malformed.items() if v}}
    return {
        **objects,
        "capture_lines": captures.lines_read,
        "events_outside_window": captures.events_outside_window,
        "label_lines_read": labels.lines_read if labels is not None else 0,
        **{k: v for k, v in joined.items() if k != "label_count_mismatches"},
        "malformed_lines": sum(malformed["capture"].values()) + sum(malformed["ground_truth"].values()),
        "malformed_by_reason": malformed,
    }


def _stream(s3: Any, bucket: str, key: str, consume: Callable[[Iterator[bytes]], None]) -> None:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        consume(body.iter_lines(chunk_size=_STREAM_CHUNK_BYTES))
    finally:
        body.close()


def _read_bias_baseline(s3: Any, config: Config) -> tuple[dict | None, dict[str, Any]]:
    """(facet -> baseline values, state): "not_configured", "missing" (no object yet), "invalid" or "found".

    A missing or unusable baseline never fails the run: the bias values are still published (they
    are the live data's; nothing to retry would bring them back), without drift, and the log and
    the report say why. AWS errors other than a missing object raise (retried).
    """
    if config.baseline_bucket is None:
        return None, {"state": "not_configured"}
    try:
        body = s3.get_object(Bucket=config.baseline_bucket, Key=config.baseline_key)["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") in _MISSING_OBJECT:
            log(logging.WARNING, "no bias baseline yet: bias values are published without drift",
                baseline_uri=config.baseline_uri)
            return None, {"state": "missing"}
        raise
    try:
        raw = body.read(_MAX_BASELINE_BYTES + 1)
    finally:
        body.close()
    try:
        if len(raw) > _MAX_BASELINE_BYTES:
            raise BiasBaselineError(f"larger than {_MAX_BASELINE_BYTES} bytes")
        return load_baseline(raw), {"state": "found"}
    except BiasBaselineError as exc:
        error = f"{exc}"
        log(logging.ERROR, "the bias baseline is unusable: bias values are published without drift until it is "
                           "replaced", baseline_uri=config.baseline_uri, error=error)
        return None, {"state": "invalid", "error": error}


def hour_prefixes(prefix: str, start: datetime, end: datetime) -> Iterator[tuple[str, datetime]]:
    """``<prefix>yyyy/mm/dd/hh/`` for every hour that overlaps ``[start, end)``."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        yield f"{prefix}{hour:%Y/%m/%d/%H}/", hour
        hour += timedelta(hours=1)


def _list_keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            yield obj["Key"]


def capture_keys(s3: Any, config: Config, start: datetime, end: datetime) -> Iterator[tuple[str, dict[str, datetime]]]:
    """(key, inferenceTime bounds) of the endpoint's capture objects in the hours overlapping ``[start, end)``."""
    endpoint_prefix = "/".join(p for p in (config.capture_prefix, config.endpoint_name) if p) + "/"
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=config.capture_bucket, Prefix=endpoint_prefix,
                                                         Delimiter="/")
    variants = [common["Prefix"] for page in pages for common in page.get("CommonPrefixes", [])]
    first, last = start.replace(minute=0, second=0, microsecond=0), end.replace(minute=0, second=0, microsecond=0)
    for variant in variants:
        for prefix, hour in hour_prefixes(variant, start, end):
            # Only the edge hours can hold events outside the window: the others skip the time check.
            bounds = {**({"not_before": start} if hour == first else {}), **({"not_after": end} if hour == last else {})}
            for key in _list_keys(s3, config.capture_bucket, prefix):
                if key.endswith(".jsonl"):
                    yield key, bounds


def label_keys(s3: Any, config: Config, start: datetime, now: datetime) -> Iterator[str]:
    """Every ground-truth object collected in the hours from the window's start until now, oldest hour first."""
    prefix = f"{config.ground_truth_prefix}/" if config.ground_truth_prefix else ""
    for hour_prefix, _ in hour_prefixes(prefix, start, now):
        for key in _list_keys(s3, config.ground_truth_bucket, hour_prefix):
            if not key.endswith("/"):
                yield key

