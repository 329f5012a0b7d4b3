"""The library's own feature-drift checker (course 11.5): PSI / chi-square on captured traffic, on a schedule.

SageMaker Model Monitor is a managed service whose availability to new
customers is not guaranteed, so the platform ships its own checker: a Lambda
function (``mlops_cdk/lambdas/drift_checker``, boto3 only, streaming reads) that
every ``window_hours`` reads the endpoint's data capture of the last window,
compares each feature with the training baseline histogram (PSI for numeric
features, PSI and chi-square for categorical ones), publishes one CloudWatch
metric per feature, writes a JSON report and emits a "Feature Drift Detected"
event when a feature's PSI reaches ``threshold``. The handler's docstring
documents its environment, metrics, report and event.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws, Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import locations, monitoring_metrics as mm
from .._validation import invalid, is_token, require_int, require_pattern
from ._nag import acknowledge, acknowledge_wildcard_resources
from .monitor_schedule import bucket_of
from .platform_function import PlatformFunction
from .secure_bucket import SecureBucket

_OWNER = "DriftChecker"
_PREFIX_RE = re.compile(r"^(?!/)[^*?\x00]*$")
_KEY_RE = re.compile(r"^(?!/)[^*?\x00]+$")
_NAMESPACE_RE = re.compile(r"^(?!AWS/)[^:$]{1,255}$")
# EventBridge reserves sources starting with "aws.".
_SOURCE_RE = re.compile(r"^(?!aws\.)[A-Za-z0-9._\-/]{1,256}$")
_ENDPOINT_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_WINDOW_HOURS = 24  # CloudWatch alarms evaluate at most one day (period x evaluation periods)

# Sizing (bench/README.md, "Drift checker"): the statistics path runs at about
# 70k-100k captured records/s on one vCPU (Lambda gives one vCPU at 1769 MB,
# proportionally less below) with a flat ~0.3 MiB of working memory. Memory
# therefore only buys CPU: 1024 MB (~0.58 vCPU, ~40k-60k records/s) analyses a
# window of 1M records in well under a minute of CPU; the 5 minute timeout
# leaves room for S3 transfer time and 10x the traffic. Raise memory_size
# (CPU) before timeout for bigger windows.
DEFAULT_MEMORY_MB = 1024
DEFAULT_TIMEOUT = Duration.minutes(5)


class DriftChecker(Construct):
    """A scheduled Lambda that checks one endpoint's captured traffic for feature drift against a baseline.

    Creates:
      * a ``PlatformFunction`` running ``mlops_cdk/lambdas/drift_checker`` (own
        role, retained logs, encrypted dead-letter queue), with the environment
        the handler reads;
      * an EventBridge rule ``rate(window_hours hours)`` targeting it (retries,
        then the function's dead-letter queue);
      * least-privilege IAM: ``s3:ListBucket`` only for keys under
        ``<capture_prefix><endpoint>/`` (``s3:prefix`` condition),
        ``s3:GetObject`` on that prefix and on the baseline object,
        ``s3:PutObject`` under ``<report_prefix><endpoint>/``, the buckets' KMS
        keys through S3 only, ``cloudwatch:PutMetricData`` in
        ``metric_namespace`` only, ``events:PutEvents`` on the bus with this
        checker's source and detail-type only.

    Props: ``endpoint_name`` (string or token), ``model_name`` (reported in
    events), ``feature_names`` (the CSV column order of the captured input,
    as in the baseline), ``capture_bucket`` / ``capture_prefix``
    (``locations.DATA_CAPTURE``: SageMaker writes
    ``<prefix><endpoint>/<variant>/yyyy/mm/dd/hh/``), ``baseline_bucket`` /
    ``baseline_key`` (``locations.DRIFT_BASELINE``), ``report_bucket`` /
    ``report_prefix`` (``locations.DRIFT_REPORTS``), ``encryption_key`` (the
    KMS key of buckets that don't expose theirs, e.g. imported by name; a
    ``SecureBucket``'s own key is always used for it), ``window_hours`` (24; 1-24, also the schedule rate),
    ``threshold`` (PSI 0.2) and ``warning_threshold`` (0.1), ``metric_namespace``,
    ``event_bus`` (default bus), ``event_source``, ``memory_size``, ``timeout``.

    Exposes ``function``, ``rule``, ``environment``, ``metric_feature_drift(feature)``,
    ``metric_max_feature_drift()``, ``metric_records_analyzed()``,
    ``metric_malformed_records()`` and ``on_drift(id, target=...)``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        model_name: str,
        feature_names: Sequence[str],
        capture_bucket: SecureBucket | s3.IBucket,
        capture_prefix: str = locations.DATA_CAPTURE,
        baseline_bucket: SecureBucket | s3.IBucket | None = None,
        baseline_key: str = locations.DRIFT_BASELINE,
        report_bucket: SecureBucket | s3.IBucket | None = None,
        report_prefix: str = locations.DRIFT_REPORTS,
        encryption_key: kms.IKey | None = None,
        window_hours: int = 24,
        threshold: float = 0.2,
        warning_threshold: float = 0.1,
        metric_namespace: str = mm.NAMESPACE,
        event_bus: events.IEventBus | None = None,
        event_source: str = mm.DRIFT_EVENT_SOURCE,
        memory_size: int = DEFAULT_MEMORY_MB,
        timeout: Duration = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(scope, id)
        require_pattern(_OWNER, "endpoint_name", endpoint_name, _ENDPOINT_RE,
                        "a SageMaker endpoint name (letters, digits, '-'; at most 63 characters) or a token")
        if not isinstance(model_name, str) or not model_name.strip() or "," in model_name:
            raise invalid(_OWNER, "model_name", model_name, "a non-empty model name")
        features = require_feature_names(_OWNER, "feature_names", feature_names)
        capture = bucket_of(_OWNER, "capture_bucket", capture_bucket)
        baseline = bucket_of(_OWNER, "baseline_bucket", baseline_bucket) if baseline_bucket is not None else capture
        report = bucket_of(_OWNER, "report_bucket", report_bucket) if report_bucket is not None else capture
        for prop, value in (("capture_prefix", capture_prefix), ("report_prefix", report_prefix)):
            require_pattern(_OWNER, prop, value, _PREFIX_RE, "an S3 key prefix not starting with '/' and without '*' or '?'")
        require_pattern(_OWNER, "baseline_key", baseline_key, _KEY_RE, "an S3 object key not starting with '/'")
        if encryption_key is not None and not hasattr(encryption_key, "key_arn"):
            raise invalid(_OWNER, "encryption_key", encryption_key, "a kms.IKey or None")
        require_int(_OWNER, "window_hours", window_hours, minimum=1, maximum=MAX_WINDOW_HOURS)
        threshold, warning_threshold = require_drift_thresholds(_OWNER, threshold, warning_threshold,
                                                                names=("threshold", "warning_threshold"))
        require_pattern(_OWNER, "metric_namespace", metric_namespace, _NAMESPACE_RE,
                        "a CloudWatch namespace (1-255 characters, not starting with 'AWS/', no ':' or '$')")
        require_pattern(_OWNER, "event_source", event_source, _SOURCE_RE,
                        "1-256 of letters, digits and . _ - /, not starting with 'aws.'")
        if event_bus is not None and not hasattr(event_bus, "event_bus_arn"):
            raise invalid(_OWNER, "event_bus", event_bus, "an events.IEventBus or None (the default bus)")
        require_int(_OWNER, "memory_size", memory_size, minimum=128, maximum=10240)
        if not isinstance(timeout, Duration) or (
            not Token.is_unresolved(timeout.to_seconds()) and not 1 <= timeout.to_seconds() <= 900
        ):
            raise invalid(_OWNER, "timeout", timeout, "a Duration from 1 second to 15 minutes")

        self.endpoint_name = endpoint_name
        self.model_name = model_name
        self.feature_names = features
        self.window = Duration.hours(window_hours)
        self.window_hours = window_hours
        self.threshold = threshold
        self.warning_threshold = warning_threshold
        self.metric_namespace = metric_namespace
        self.event_bus = event_bus
        self.event_source = event_source
        capture_prefix_norm = _dir(capture_prefix)
        report_prefix_norm = _dir(report_prefix)
        self.capture_endpoint_prefix = f"{capture_prefix_norm}{endpoint_name}/"
        self.report_endpoint_prefix = f"{report_prefix_norm}{endpoint_name}/"
        self.baseline_s3_uri = locations.s3_uri(baseline.bucket_name, baseline_key)
        bus_name = event_bus.event_bus_name if event_bus is not None else "default"

        self.environment: dict[str, str] = {
            "CAPTURE_BUCKET": capture.bucket_name,
            "CAPTURE_PREFIX": capture_prefix_norm.rstrip("/"),
            "ENDPOINT_NAME": endpoint_name,
            "BASELINE_S3_URI": self.baseline_s3_uri,
            "FEATURE_NAMES": ",".join(features),
            "REPORT_BUCKET": report.bucket_name,
            "REPORT_PREFIX": report_prefix_norm.rstrip("/"),
            "MODEL_NAME": model_name,
            "WINDOW_HOURS": str(window_hours),
            "THRESHOLD": repr(threshold),
            "WARNING_THRESHOLD": repr(warning_threshold),
            "METRIC_NAMESPACE": metric_namespace,
            "EVENT_BUS_NAME": bus_name,
            "EVENT_SOURCE": event_source,
        }
        self.function = PlatformFunction(
            self,
            "Function",
            code="drift_checker",
            description=f"Feature drift (PSI) of the endpoint's captured traffic, every {window_hours} h",
            environment=self.environment,
            memory_size=memory_size,
            timeout=timeout,
        )
        self._grant(capture, baseline, baseline_key, report, encryption_key)

        self.rule = self.function.trigger(
            self,
            "Schedule",
            description=f"Runs the drift checker of one endpoint every {window_hours} h",
            schedule=events.Schedule.rate(self.window),
            retry_attempts=2,
            max_event_age=Duration.hours(min(window_hours, 24)),
        )

    # ------------------------------------------------------------------ IAM
    def _grant(
        self, capture: s3.IBucket, baseline: s3.IBucket, baseline_key: str, report: s3.IBucket, key: kms.IKey | None
    ) -> None:
        role = self.function.role
        captured = capture.arn_for_objects(f"{self.capture_endpoint_prefix}*")
        reports = report.arn_for_objects(f"{self.report_endpoint_prefix}*")
        statements = [
            iam.PolicyStatement(
                sid="ListCaptureOfThisEndpoint",
                actions=["s3:ListBucket"],
                resources=[capture.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [self.capture_endpoint_prefix,
                                                         f"{self.capture_endpoint_prefix}*"]}},
            ),
            iam.PolicyStatement(
                sid="ReadCaptureAndBaseline",
                actions=["s3:GetObject"],
                resources=[captured, baseline.arn_for_objects(baseline_key)],
            ),
            iam.PolicyStatement(sid="WriteReports", actions=["s3:PutObject"], resources=[reports]),
            iam.PolicyStatement(
                sid="PublishDriftMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": self.metric_namespace}},
            ),
            iam.PolicyStatement(
                sid="EmitDriftEvents",
                actions=["events:PutEvents"],
                resources=[self.event_bus.event_bus_arn if self.event_bus is not None
                           else f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:event-bus/default"],
                conditions={"StringEquals": {"events:source": self.event_source,
                                             "events:detail-type": mm.DRIFT_EVENT_DETAIL_TYPE}},
            ),
        ]
        # KMS through S3 only: decrypt what is read, generate data keys for the reports.
        read_keys = _unique_keys([capture.encryption_key or key, baseline.encryption_key or key])
        write_keys = _unique_keys([report.encryption_key or key])
        via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.{Aws.URL_SUFFIX}"}}
        if read_keys:
            statements.append(iam.PolicyStatement(sid="DecryptCaptureAndBaseline", actions=["kms:Decrypt"],
                                                  resources=[k.key_arn for k in read_keys], conditions=via_s3))
        if write_keys:
            statements.append(iam.PolicyStatement(sid="EncryptReports", actions=["kms:GenerateDataKey"],
                                                  resources=[k.key_arn for k in write_keys], conditions=via_s3))
        for statement in statements:
            role.add_to_principal_policy(statement)
        acknowledge_wildcard_resources(role, [
            (captured, "Capture files are written per hour at run time; reads are limited to this endpoint's "
                       "capture prefix."),
            (reports, "Report keys carry the run's timestamp; writes are limited to this endpoint's report prefix."),
        ])
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData supports no resource-level permission; limited to the drift checker's "
            "namespace by the cloudwatch:namespace condition.",
        )

    # -------------------------------------------------------------- metrics
    def _metric(self, metric_name: str, extra: dict[str, str] | None = None, **props: Any) -> cloudwatch.Metric:
        props.setdefault("period", self.window)
        return cloudwatch.Metric(
            namespace=self.metric_namespace,
            metric_name=metric_name,
            dimensions_map={mm.DRIFT_DIMENSION_ENDPOINT: self.endpoint_name, **(extra or {})},
            **props,
        )

    def metric_feature_drift(self, feature: str, **props: Any) -> cloudwatch.Metric:
        """PSI of one feature per run (``FeatureDrift``, dimensions Endpoint + Feature; Maximum per window)."""
        if feature not in self.feature_names:
            raise invalid(_OWNER, "feature", feature, " | ".join(self.feature_names))
        props.setdefault("statistic", "Maximum")
        return self._metric(mm.DRIFT_METRIC_FEATURE_DRIFT, {mm.DRIFT_DIMENSION_FEATURE: feature}, **props)

    def metric_max_feature_drift(self, **props: Any) -> cloudwatch.Metric:
        """The largest PSI of any feature per run (``MaxFeatureDrift``)."""
        props.setdefault("statistic", "Maximum")
        return self._metric(mm.DRIFT_METRIC_MAX_FEATURE_DRIFT, **props)

    def metric_records_analyzed(self, **props: Any) -> cloudwatch.Metric:
        """Valid captured records analysed per run (``RecordsAnalyzed``); no datapoint for an empty window."""
        props.setdefault("statistic", "Sum")
        return self._metric(mm.DRIFT_METRIC_RECORDS_ANALYZED, **props)

    def metric_malformed_records(self, **props: Any) -> cloudwatch.Metric:
        """Capture lines skipped as malformed per run (``MalformedRecords``)."""
        props.setdefault("statistic", "Sum")
        return self._metric(mm.DRIFT_METRIC_MALFORMED_RECORDS, **props)

    # --------------------------------------------------------------- events
    def drift_event_pattern(self) -> events.EventPattern:
        """Matches this checker's "Feature Drift Detected" events for its endpoint."""
        return events.EventPattern(
            source=[self.event_source],
            detail_type=[mm.DRIFT_EVENT_DETAIL_TYPE],
            detail={"endpoint": [self.endpoint_name]},
        )

    def on_drift(
        self, id: str, *, target: events.IRuleTarget | None = None, description: str | None = None
    ) -> events.Rule:
        """An EventBridge rule on this checker's drift events (e.g. to start retraining or notify)."""
        rule = events.Rule(
            self,
            id,
            description=description or "Feature drift detected by the drift checker",
            event_bus=self.event_bus,
            event_pattern=self.drift_event_pattern(),
        )
        if target is not None:
            rule.add_target(target)
        return rule


def require_feature_names(owner: str, prop: str, names: Any) -> tuple[str, ...]:
    """A non-empty list of distinct literal feature names usable as CSV headers and metric dimensions."""
    allowed = "a non-empty list of distinct feature names (no commas; the CSV column order of the captured input)"
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or not names:
        raise invalid(owner, prop, names, allowed)
    for name in names:
        if not isinstance(name, str) or is_token(name) or not name.strip() or name != name.strip() or "," in name \
                or len(name) > 255:
            raise invalid(owner, prop, name, allowed)
    if len(set(names)) != len(names):
        raise invalid(owner, prop, list(names), allowed)
    return tuple(names)


def require_drift_thresholds(
    owner: str, significant: Any, warning: Any, *, names: tuple[str, str] = ("drift_significant", "drift_warning")
) -> tuple[float, float]:
    """0 < warning < significant, both finite numbers (PSI: 0.1 warning, 0.2 significant by convention)."""
    for prop, value in zip(names, (significant, warning)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise invalid(owner, prop, value, "a finite number > 0")
    if not warning < significant:
        raise invalid(owner, names[1], warning, f"a number in (0, {names[0]}={significant})")
    return float(significant), float(warning)


def _dir(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def _unique_keys(keys: list[kms.IKey | None]) -> list[kms.IKey]:
    out: list[kms.IKey] = []
    for key in keys:
        if key is not None and all(key is not k for k in out):
            out.append(key)
    return out
