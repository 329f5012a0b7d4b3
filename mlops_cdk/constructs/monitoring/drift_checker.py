"""The library's own feature-drift checker: PSI / chi-square on an endpoint's captured traffic, on a schedule.

SageMaker Model Monitor is no longer open to new customers, so the platform ships its own
checker: a Lambda function (``mlops_cdk/lambdas/drift_checker``, boto3 only, streaming
reads) that every ``window`` reads the endpoint's data capture of the last window, compares
each feature with the training baseline histogram (PSI for numeric features, PSI and
chi-square for categorical ones), publishes one CloudWatch metric per feature, writes a JSON
report and emits a "Feature Drift Detected" event when a feature's PSI reaches
``threshold``. Metric and event names come from ``lambdas/_shared/contract.py``, which the
function imports too; the handler's docstring documents its environment and report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ... import locations
from ...locations import key_prefix
from ..._nag import acknowledge, acknowledge_wildcard_resources
from ..._pseudo import Aws
from ..._validation import (
    invalid,
    require_drift_thresholds,
    require_event_source,
    require_feature_names,
    require_key_prefix,
    require_namespace,
    require_object_key,
    require_whole_hours,
)
from ...lambdas._shared import contract
from ..common.network_placement import NetworkPlacement
from ..common.platform_function import PlatformFunction, require_function_sizing

_OWNER = "DriftChecker"

# Sizing (bench/README.md, "Drift checker"): the statistics path runs at about 70k-100k
# captured records/s on one vCPU (Lambda gives one vCPU at 1769 MB, proportionally less
# below) with a flat ~0.3 MiB of working memory. Memory therefore only buys CPU: 1024 MB
# (~0.58 vCPU, ~40k-60k records/s) analyses a window of 1M records in well under a minute of
# CPU; the 5 minute timeout leaves room for S3 transfer time and 10x the traffic. Raise
# memory_size (CPU) before timeout for bigger windows.
DEFAULT_MEMORY_MB = 1024
DEFAULT_TIMEOUT = Duration.minutes(5)


class DriftChecker(Construct):
    """A scheduled Lambda that checks one endpoint's captured traffic for feature drift against a baseline.

    Creates a ``PlatformFunction`` (own role, retained logs ``Function/Logs``, encrypted
    dead-letter queue ``Function/DeadLetterQueue``) running the checker with the environment
    its handler reads; an EventBridge rule ``rate(window)`` targeting it (retries, then the
    dead-letter queue); least-privilege IAM: ``s3:ListBucket`` only under this endpoint's
    capture prefix, ``s3:GetObject`` on that prefix and the baseline object, ``s3:PutObject``
    under ``<report_prefix><endpoint>/``, KMS through S3 only, ``cloudwatch:PutMetricData`` in
    ``metric_namespace`` only, ``events:PutEvents`` with this checker's source and detail-type only.

    Props:
      * ``endpoint`` -- the ``sagemaker.IEndpoint`` whose capture is read;
      * ``model_name`` -- reported in events and reports;
      * ``feature_names`` -- the CSV column order of the captured input, as in the baseline;
      * ``capture_bucket`` / ``capture_prefix`` (``locations.DATA_CAPTURE``) / ``capture_key``
        (default: the bucket's ``encryption_key``) -- where SageMaker writes
        ``<prefix><endpoint>/<variant>/yyyy/mm/dd/hh/``;
      * ``baseline_bucket`` / ``baseline_key`` (``locations.DRIFT_BASELINE``) and
        ``report_bucket`` / ``report_prefix`` (``locations.DRIFT_REPORTS``), both buckets
        defaulting to ``capture_bucket``;
      * ``encryption_key`` -- the key of objects whose bucket exposes none (e.g. imported by name), and the
        customer managed key of the function's logs, environment and dead-letter queue (``PlatformFunction``);
      * ``window`` -- 1 to 24 whole hours (24): how much traffic each run reads, how often it
        runs, and the period of its metrics;
      * ``threshold`` (0.2) and ``warning_threshold`` (0.1) -- PSI, ``0 < warning < threshold <= 1``;
      * ``metric_namespace``, ``event_bus`` (default bus), ``event_source``, ``memory_size``, ``timeout``;
      * ``network`` -- a ``NetworkPlacement`` to run the function in (see ``PlatformFunction``).

    The function's reserved concurrency is 1: runs read one window each and never overlap (a late run is
    retried by Lambda, then dead-lettered).

    Exposes ``function`` (the ``PlatformFunction``), ``rule``, ``environment``, the
    ``metric_*`` methods, ``drift_event_pattern()`` and ``on_drift(id, target=...)``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: sagemaker.IEndpoint,
        model_name: str,
        feature_names: Sequence[str],
        capture_bucket: s3.IBucket,
        capture_prefix: str = locations.DATA_CAPTURE,
        capture_key: kms.IKey | None = None,
        baseline_bucket: s3.IBucket | None = None,
        baseline_key: str = locations.DRIFT_BASELINE,
        report_bucket: s3.IBucket | None = None,
        report_prefix: str = locations.DRIFT_REPORTS,
        encryption_key: kms.IKey | None = None,
        window: Duration = Duration.hours(24),
        threshold: float = 0.2,
        warning_threshold: float = 0.1,
        metric_namespace: str = contract.MONITORING_NAMESPACE,
        event_bus: events.IEventBus | None = None,
        event_source: str = contract.DRIFT_EVENT_SOURCE,
        memory_size: int = DEFAULT_MEMORY_MB,
        timeout: Duration = DEFAULT_TIMEOUT,
        network: NetworkPlacement | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not isinstance(model_name, str) or not model_name.strip():
            raise invalid(_OWNER, "model_name", model_name, "a non-empty model name")
        features = require_feature_names(_OWNER, "feature_names", feature_names)
        require_key_prefix(_OWNER, "capture_prefix", capture_prefix)
        require_key_prefix(_OWNER, "report_prefix", report_prefix)
        require_object_key(_OWNER, "baseline_key", baseline_key)
        window_hours = require_whole_hours(_OWNER, "window", window, maximum=contract.MAX_DRIFT_WINDOW_HOURS)
        threshold, warning_threshold = require_drift_thresholds(_OWNER, threshold, warning_threshold)
        require_namespace(_OWNER, "metric_namespace", metric_namespace)
        require_event_source(_OWNER, "event_source", event_source)
        require_function_sizing(_OWNER, memory_size, timeout)

        self.endpoint = endpoint
        self.endpoint_name = endpoint.endpoint_name
        self.model_name = model_name
        self.feature_names = features
        self.window = window
        self.window_hours = window_hours
        self.threshold = threshold
        self.warning_threshold = warning_threshold
        self.metric_namespace = metric_namespace
        self.event_bus = event_bus
        self.event_source = event_source
        baseline = baseline_bucket or capture_bucket
        report = report_bucket or capture_bucket
        self.capture_endpoint_prefix = f"{key_prefix(capture_prefix)}{self.endpoint_name}/"
        self.report_endpoint_prefix = f"{key_prefix(report_prefix)}{self.endpoint_name}/"
        self.baseline_s3_uri = locations.s3_uri(baseline.bucket_name, baseline_key)

        self.environment: dict[str, str] = {
            "CAPTURE_BUCKET": capture_bucket.bucket_name,
            "CAPTURE_PREFIX": key_prefix(capture_prefix).rstrip("/"),
            "ENDPOINT_NAME": self.endpoint_name,
            "BASELINE_S3_URI": self.baseline_s3_uri,
            "FEATURE_NAMES": ",".join(features),
            "REPORT_BUCKET": report.bucket_name,
            "REPORT_PREFIX": key_prefix(report_prefix).rstrip("/"),
            "MODEL_NAME": model_name,
            "WINDOW_HOURS": str(window_hours),
            "THRESHOLD": repr(threshold),
            "WARNING_THRESHOLD": repr(warning_threshold),
            "METRIC_NAMESPACE": metric_namespace,
            "EVENT_BUS_NAME": event_bus.event_bus_name if event_bus is not None else "default",
            "EVENT_SOURCE": event_source,
        }
        # "Function" keeps the construct path of the deployed dead-letter queue and log group.
        self.function = PlatformFunction(
            self,
            "Function",
            code="drift_checker",
            description=f"Feature drift (PSI) of the endpoint's captured traffic, every {window_hours} h",
            environment=self.environment,
            memory_size=memory_size,
            timeout=timeout,
            network=network,
            reserved_concurrent_executions=1,
            encryption_key=encryption_key,
        )
        self._grant(capture_bucket, capture_key or capture_bucket.encryption_key or encryption_key,
                    baseline.arn_for_objects(baseline_key), baseline.encryption_key or encryption_key,
                    report, report.encryption_key or encryption_key)
        self.rule = self.function.trigger(
            self,
            "Schedule",
            description=f"Runs the drift checker of one endpoint every {window_hours} h",
            schedule=events.Schedule.rate(window),
            retry_attempts=2,
            max_event_age=window,
        )

    # ------------------------------------------------------------------ IAM
    def _grant(self, capture: s3.IBucket, capture_key: kms.IKey | None, baseline_object: str,
               baseline_key: kms.IKey | None, report: s3.IBucket, report_key: kms.IKey | None) -> None:
        role = self.function.role
        captured = capture.arn_for_objects(f"{self.capture_endpoint_prefix}*")
        reports = report.arn_for_objects(f"{self.report_endpoint_prefix}*")
        bus_arn = (self.event_bus.event_bus_arn if self.event_bus is not None
                   else f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:event-bus/default")
        statements = [
            iam.PolicyStatement(
                sid="ListCaptureOfThisEndpoint", actions=["s3:ListBucket"], resources=[capture.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [self.capture_endpoint_prefix,
                                                         f"{self.capture_endpoint_prefix}*"]}}),
            iam.PolicyStatement(sid="ReadCaptureAndBaseline", actions=["s3:GetObject"],
                                resources=[captured, baseline_object]),
            iam.PolicyStatement(sid="WriteReports", actions=["s3:PutObject"], resources=[reports]),
            iam.PolicyStatement(
                sid="PublishDriftMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": self.metric_namespace}}),
            iam.PolicyStatement(
                sid="EmitDriftEvents", actions=["events:PutEvents"], resources=[bus_arn],
                conditions={"StringEquals": {"events:source": self.event_source,
                                             "events:detail-type": contract.DRIFT_EVENT_DETAIL_TYPE}}),
        ]
        # KMS through S3 only: decrypt what is read, generate data keys for the reports.
        via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.{Aws.URL_SUFFIX}"}}
        read_keys = _unique([capture_key, baseline_key])
        if read_keys:
            statements.append(iam.PolicyStatement(sid="DecryptCaptureAndBaseline", actions=["kms:Decrypt"],
                                                  resources=[k.key_arn for k in read_keys], conditions=via_s3))
        if report_key is not None:
            statements.append(iam.PolicyStatement(sid="EncryptReports", actions=["kms:GenerateDataKey"],
                                                  resources=[report_key.key_arn], conditions=via_s3))
        for statement in statements:
            self.function.add_to_role_policy(statement)
        acknowledge_wildcard_resources(role, [
            (captured, "Capture files are written per hour at run time; reads are limited to this endpoint's "
                       "capture prefix."),
            (reports, "Report keys carry the run's timestamp; writes are limited to this endpoint's report prefix."),
        ])
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                    "cloudwatch:PutMetricData supports no resource-level permission; limited to the drift checker's "
                    "namespace by the cloudwatch:namespace condition.")

    # -------------------------------------------------------------- metrics
    def metric(self, metric_name: str, *, feature: str | None = None, **props: Any) -> cloudwatch.Metric:
        """A metric the checker publishes (dimension Endpoint, plus Feature), one datapoint per run.

        Every metric's period is the checker's ``window`` unless ``props`` say otherwise.
        """
        props.setdefault("period", self.window)
        dimensions = {contract.DIMENSION_ENDPOINT: self.endpoint_name}
        if feature is not None:
            if feature not in self.feature_names:
                raise invalid(_OWNER, "feature", feature, " | ".join(self.feature_names))
            dimensions[contract.DIMENSION_FEATURE] = feature
        return cloudwatch.Metric(namespace=self.metric_namespace, metric_name=metric_name,
                                 dimensions_map=dimensions, **props)

    def metric_feature_drift(self, feature: str, **props: Any) -> cloudwatch.Metric:
        """PSI of one feature (``FeatureDrift``, Maximum per window)."""
        props.setdefault("statistic", "Maximum")
        return self.metric(contract.METRIC_FEATURE_DRIFT, feature=feature, **props)

    def metric_max_feature_drift(self, **props: Any) -> cloudwatch.Metric:
        """The largest PSI of any feature (``MaxFeatureDrift``, Maximum per window)."""
        props.setdefault("statistic", "Maximum")
        return self.metric(contract.METRIC_MAX_FEATURE_DRIFT, **props)

    def metric_records_analyzed(self, **props: Any) -> cloudwatch.Metric:
        """Valid captured records analysed (``RecordsAnalyzed``, Sum per window); no datapoint for an empty window."""
        props.setdefault("statistic", "Sum")
        return self.metric(contract.METRIC_RECORDS_ANALYZED, **props)

    def metric_malformed_records(self, **props: Any) -> cloudwatch.Metric:
        """Capture lines skipped as malformed (``MalformedRecords``, Sum per window)."""
        props.setdefault("statistic", "Sum")
        return self.metric(contract.METRIC_MALFORMED_RECORDS, **props)

    # --------------------------------------------------------------- events
    def drift_event_pattern(self) -> events.EventPattern:
        """Matches this checker's "Feature Drift Detected" events for its endpoint."""
        return events.EventPattern(source=[self.event_source], detail_type=[contract.DRIFT_EVENT_DETAIL_TYPE],
                                   detail={"endpoint": [self.endpoint_name]})

    def on_drift(self, id: str, *, target: events.IRuleTarget | None = None,
                 description: str | None = None) -> events.Rule:
        """An EventBridge rule on this checker's drift events (e.g. to start retraining or notify)."""
        rule = events.Rule(self, id, description=description or "Feature drift detected by the drift checker",
                           event_bus=self.event_bus, event_pattern=self.drift_event_pattern())
        if target is not None:
            rule.add_target(target)
        return rule



def _unique(keys: list[kms.IKey | None]) -> list[kms.IKey]:
    out: list[kms.IKey] = []
    for key in keys:
        if key is not None and all(key is not k for k in out):
            out.append(key)
    return out


__all__ = ["DEFAULT_MEMORY_MB", "DEFAULT_TIMEOUT", "DriftChecker"]
