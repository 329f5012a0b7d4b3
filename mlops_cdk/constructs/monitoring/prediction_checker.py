"""What the own model-quality and bias-drift checkers share: one function, its schedule, what it reads and writes.

Both checks look at the predictions an endpoint captured in a window that ended
``label_delay`` ago (labels arrive late), joined with ground-truth labels uploaded in
SageMaker Model Monitor's format (``{"groundTruthData": {"data": "1", "encoding": "CSV"},
"eventMetadata": {"eventId": "..."}, "eventVersion": "0"}`` lines under
``<ground_truth_prefix>yyyy/mm/dd/hh/``, the hour the label was collected). They run the
same function code (``mlops_cdk/lambdas/quality_checker``), which picks its check from
``CHECK``; names of metrics and limits come from ``lambdas/_shared/contract.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

from aws_cdk import Duration, Size
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ... import locations
from ...locations import key_prefix
from ..._validation import (
    invalid,
    is_token,
    require_choice,
    require_key_prefix,
    require_namespace,
    require_number,
    require_whole_hours,
)
from ...lambdas._shared import contract
from ..common.network_placement import NetworkPlacement
from ..common.platform_function import PlatformFunction, require_function_sizing
from .function_access import FunctionAccess

if TYPE_CHECKING:
    from typing_extensions import Unpack

# Sizing: joining runs through an SQLite file in /tmp (memory stays flat), so /tmp bounds a window:
# about 150 bytes per labelled prediction (measured, bench/README.md), 2 GiB holds ~10M. Memory buys CPU.
DEFAULT_MEMORY_MB = 1024
DEFAULT_TIMEOUT = Duration.minutes(10)
DEFAULT_EPHEMERAL_STORAGE = Size.gibibytes(2)
MAX_ATTRIBUTE = 256


class PredictionCheckerProps(TypedDict, total=False):
    """Keyword props both checkers take (defaults in brackets).

    * ``endpoint`` -- the ``sagemaker.IEndpoint`` whose captured predictions are checked (required);
    * ``model_name`` -- the ``ModelName`` dimension of every metric, and the report's model (required);
    * ``problem_type`` -- ``BinaryClassification`` | ``MulticlassClassification`` | ``Regression`` [binary];
    * ``capture_bucket`` (required) / ``capture_prefix`` [``data-capture/``] / ``capture_key`` [the
      bucket's key] -- where SageMaker writes ``<prefix><endpoint>/<variant>/yyyy/mm/dd/hh/``;
    * ``ground_truth_prefix`` [``ground-truth/``] / ``ground_truth_key`` -- where labels are, in the
      ground-truth bucket (each checker says which);
    * ``report_bucket`` [capture bucket] / ``report_prefix`` [``quality-reports/`` | ``bias-reports/``];
    * ``encryption_key`` -- the key of objects whose bucket exposes none (e.g. imported by name), and the
      customer managed key of the function's logs, environment and dead-letter queue (``PlatformFunction``);
    * ``window`` [24 h] -- 1 to 24 whole hours: how much traffic a run reads, how often it runs, the
      period of its metrics; ``label_delay`` [0 h] -- 0 to 336 whole hours: runs check the window
      that ended this long ago, so its labels had time to arrive;
    * ``inference_attribute`` / ``probability_attribute`` -- where the predicted label (or value) /
      a binary classifier's score is in the captured output: a CSV column index like ``"0"`` or a
      JSONPath; neither: column 0 (a score for a binary classifier) [None];
      ``probability_threshold`` [0.5] -- a score >= it predicts the positive class;
    * ``metric_namespace`` [``MLOps/ModelMonitoring``], ``memory_size`` [1024],
      ``timeout`` [10 min], ``ephemeral_storage_size`` [2 GiB: /tmp holds the join];
    * ``network`` -- a ``NetworkPlacement`` to run the function in (see ``PlatformFunction``) [None].
    """

    endpoint: sagemaker.IEndpoint
    model_name: str
    problem_type: str
    capture_bucket: s3.IBucket
    capture_prefix: str
    capture_key: kms.IKey | None
    ground_truth_prefix: str
    ground_truth_key: kms.IKey | None
    report_bucket: s3.IBucket | None
    report_prefix: str | None
    encryption_key: kms.IKey | None
    window: Duration
    label_delay: Duration
    inference_attribute: str | None
    probability_attribute: str | None
    probability_threshold: float
    metric_namespace: str
    memory_size: int
    timeout: Duration
    ephemeral_storage_size: Size
    network: NetworkPlacement | None


_DEFAULTS: dict[str, Any] = {
    "endpoint": None, "model_name": None, "capture_bucket": None,
    "problem_type": "BinaryClassification", "capture_prefix": locations.DATA_CAPTURE, "capture_key": None,
    "ground_truth_prefix": locations.GROUND_TRUTH, "ground_truth_key": None, "report_bucket": None,
    "report_prefix": None, "encryption_key": None, "window": Duration.hours(24), "label_delay": Duration.hours(0),
    "inference_attribute": None, "probability_attribute": None, "probability_threshold": 0.5,
    "metric_namespace": contract.MONITORING_NAMESPACE, "memory_size": DEFAULT_MEMORY_MB, "timeout": DEFAULT_TIMEOUT,
    "ephemeral_storage_size": DEFAULT_EPHEMERAL_STORAGE, "network": None,
}


class PredictionChecker(Construct):
    """Base of ``ModelQualityChecker`` and ``BiasDriftChecker`` (see those for the props).

    Creates a ``PlatformFunction`` ``Function`` (own role, retained logs, encrypted dead-letter
    queue) and an EventBridge rule ``Schedule`` running it every ``window``; least-privilege
    IAM: list and read only this endpoint's capture prefix and the ground-truth prefix, read
    the objects a subclass names, write reports under ``<report_prefix><endpoint>/``, publish
    metrics in ``metric_namespace`` only, KMS through S3 only.
    """

    CHECK: ClassVar[str]
    OWNER: ClassVar[str]

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        description: str,
        environment: dict[str, str],
        ground_truth_bucket: s3.IBucket | None,
        **props: Unpack[PredictionCheckerProps],
    ) -> None:
        p: dict[str, Any] = {**_DEFAULTS, **props}
        endpoint: sagemaker.IEndpoint = p["endpoint"]
        model_name, problem_type = p["model_name"], p["problem_type"]
        capture_bucket: s3.IBucket = p["capture_bucket"]
        capture_prefix, capture_key = p["capture_prefix"], p["capture_key"]
        ground_truth_prefix, ground_truth_key = p["ground_truth_prefix"], p["ground_truth_key"]
        report_bucket, encryption_key = p["report_bucket"], p["encryption_key"]
        report_prefix = p["report_prefix"] if p["report_prefix"] is not None else default_report_prefix(self.CHECK)
        window, label_delay = p["window"], p["label_delay"]
        inference_attribute, probability_attribute = p["inference_attribute"], p["probability_attribute"]
        probability_threshold, metric_namespace = p["probability_threshold"], p["metric_namespace"]
        memory_size, timeout, ephemeral_storage_size = p["memory_size"], p["timeout"], p["ephemeral_storage_size"]
        super().__init__(scope, id)
        owner = self.OWNER
        for prop in ("endpoint", "capture_bucket"):
            if p[prop] is None:
                raise invalid(owner, prop, None, "required")
        if not isinstance(model_name, str) or not model_name.strip():
            raise invalid(owner, "model_name", model_name, "a non-empty model name")
        require_choice(owner, "problem_type", problem_type, contract.PROBLEM_TYPES)
        for prop, prefix in (("capture_prefix", capture_prefix), ("ground_truth_prefix", ground_truth_prefix),
                             ("report_prefix", report_prefix)):
            require_key_prefix(owner, prop, prefix)
        window_hours = require_whole_hours(owner, "window", window, maximum=contract.MAX_QUALITY_WINDOW_HOURS)
        delay_hours = require_whole_hours(owner, "label_delay", label_delay, minimum=0,
                                          maximum=contract.MAX_LABEL_DELAY_HOURS)
        for prop, value in (("inference_attribute", inference_attribute),
                            ("probability_attribute", probability_attribute)):
            if value is not None and not is_token(value) and (
                    not isinstance(value, str) or not value.strip() or len(value) > MAX_ATTRIBUTE):
                raise invalid(owner, prop, value, f"a CSV column index like '0' or a JSONPath, 1-{MAX_ATTRIBUTE} characters")
        if probability_attribute is not None and problem_type != "BinaryClassification":
            raise invalid(owner, "probability_attribute", probability_attribute, "None unless problem_type is "
                          "BinaryClassification (a score thresholded into a label)")
        require_number(owner, "probability_threshold", probability_threshold, minimum=0, maximum=1)
        require_namespace(owner, "metric_namespace", metric_namespace)
        require_function_sizing(owner, memory_size, timeout, ephemeral_storage_size)

        self.endpoint = endpoint
        self.endpoint_name = endpoint.endpoint_name
        self.model_name = model_name
        self.problem_type = problem_type
        self.window = window
        self.window_hours = window_hours
        self.label_delay = label_delay
        self.metric_namespace = metric_namespace
        report = report_bucket or capture_bucket
        capture_endpoint_prefix = f"{key_prefix(capture_prefix)}{self.endpoint_name}/"
        self.report_endpoint_prefix = f"{key_prefix(report_prefix)}{self.endpoint_name}/"
        self.ground_truth_bucket = ground_truth_bucket
        self.ground_truth_prefix = key_prefix(ground_truth_prefix)

        self.environment: dict[str, str] = {
            "CHECK": self.CHECK,
            "CAPTURE_BUCKET": capture_bucket.bucket_name,
            "CAPTURE_PREFIX": key_prefix(capture_prefix).rstrip("/"),
            "ENDPOINT_NAME": self.endpoint_name,
            "MODEL_NAME": model_name,
            "REPORT_BUCKET": report.bucket_name,
            "REPORT_PREFIX": key_prefix(report_prefix).rstrip("/"),
            "PROBLEM_TYPE": problem_type,
            "WINDOW_HOURS": str(window_hours),
            "LABEL_DELAY_HOURS": str(delay_hours),
            "PROBABILITY_THRESHOLD": repr(float(probability_threshold)),
            "METRIC_NAMESPACE": metric_namespace,
        }
        if inference_attribute is not None:
            self.environment["INFERENCE_ATTRIBUTE"] = inference_attribute
        if probability_attribute is not None:
            self.environment["PROBABILITY_ATTRIBUTE"] = probability_attribute
        if ground_truth_bucket is not None:
            self.environment["GROUND_TRUTH_BUCKET"] = ground_truth_bucket.bucket_name
            self.environment["GROUND_TRUTH_PREFIX"] = self.ground_truth_prefix.rstrip("/")
        self.environment.update(environment)

        self.function = PlatformFunction(
            self, "Function", code="quality_checker", description=description, environment=self.environment,
            memory_size=memory_size, timeout=timeout, ephemeral_storage_size=ephemeral_storage_size,
            network=p["network"], encryption_key=encryption_key,
            reserved_concurrent_executions=1)  # runs read one window each and never overlap
        self.access = FunctionAccess(self.function)
        self.access.read_prefix("CaptureOfThisEndpoint", capture_bucket, capture_endpoint_prefix,
                                capture_key or capture_bucket.encryption_key or encryption_key,
                                why="SageMaker writes capture files per hour at run time; reads are limited to "
                                    "this endpoint's capture prefix.")
        if ground_truth_bucket is not None:
            self.access.read_prefix("GroundTruth", ground_truth_bucket, self.ground_truth_prefix,
                                    ground_truth_key or ground_truth_bucket.encryption_key or encryption_key,
                                    why="Labels are uploaded per hour by the labelling process; reads are limited "
                                        "to the ground-truth prefix.")
        self.access.write_prefix("Reports", report, self.report_endpoint_prefix,
                                 report.encryption_key or encryption_key,
                                 why="Report keys carry the run's timestamp; writes are limited to this endpoint's "
                                     "report prefix.")
        self.access.put_metrics("PublishMetrics", metric_namespace)

    def _schedule(self) -> None:
        """The rule that runs the check every ``window`` (call once the subclass granted its reads)."""
        self.access.finish()
        self.rule = self.function.trigger(
            self, "Schedule",
            description=f"Runs the {self.CHECK.replace('_', '-')} check of one endpoint every {self.window_hours} h",
            schedule=events.Schedule.rate(self.window), retry_attempts=2, max_event_age=self.window)

    # -------------------------------------------------------------- metrics
    def metric(self, metric_name: str, *, dimensions: dict[str, str] | None = None, **props: Any) -> cloudwatch.Metric:
        """A metric the check publishes (dimensions ModelName, EndpointName and ``dimensions``), once per window.

        Every metric's period is the check's ``window`` unless ``props`` say otherwise.
        """
        props.setdefault("period", self.window)
        return cloudwatch.Metric(
            namespace=self.metric_namespace, metric_name=metric_name,
            dimensions_map={contract.DIMENSION_MODEL_NAME: self.model_name,
                            contract.DIMENSION_ENDPOINT_NAME: self.endpoint_name, **(dimensions or {})},
            **props)

    def _run_metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        props.setdefault("statistic", "Sum")
        return self.metric(metric_name, dimensions={contract.DIMENSION_CHECK: self.CHECK}, **props)

    def metric_labelled_records(self, **props: Any) -> cloudwatch.Metric:
        """Predictions of the window matched with a label (``LabelledRecords``, Sum)."""
        return self._run_metric(contract.METRIC_LABELLED_RECORDS, **props)

    def metric_unlabelled_predictions(self, **props: Any) -> cloudwatch.Metric:
        """Predictions of the window without a label yet (``UnlabelledPredictions``, Sum)."""
        return self._run_metric(contract.METRIC_UNLABELLED_PREDICTIONS, **props)

    def metric_unmatched_labels(self, **props: Any) -> cloudwatch.Metric:
        """Labels read that match no prediction of the window (``UnmatchedLabels``, Sum)."""
        return self._run_metric(contract.METRIC_UNMATCHED_LABELS, **props)

    def metric_malformed_lines(self, **props: Any) -> cloudwatch.Metric:
        """Capture or label lines skipped as malformed (``MalformedLines``, Sum)."""
        return self._run_metric(contract.METRIC_MALFORMED_LINES, **props)


def default_report_prefix(check: str) -> str:
    return locations.QUALITY_REPORTS if check == "model_quality" else locations.BIAS_REPORTS


__all__ = ["DEFAULT_EPHEMERAL_STORAGE", "DEFAULT_MEMORY_MB", "DEFAULT_TIMEOUT", "PredictionChecker", "PredictionCheckerProps"]
