"""The library's own model-quality checker: captured predictions joined with ground truth, on a schedule.

SageMaker Model Monitor (and so its model-quality jobs) is no longer open to new customers;
this checker gives every account course 11.4's model-quality monitoring with a Lambda
function: accuracy, precision, recall, F1 and AUC of a classifier, or MAE, MSE, RMSE and R²
of a regression model, published under the names ``QualityMetrics`` reads, so the accuracy
alarm (and the ``ModelQualityDrop`` retraining trigger behind it) works with no user code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_s3 as s3
from constructs import Construct

from .prediction_checker import PredictionChecker
from .quality_metrics import QualityMetrics

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .prediction_checker import PredictionCheckerProps


class ModelQualityChecker(PredictionChecker):
    """Every ``window``, the quality of the predictions the endpoint made in the window that ended ``label_delay`` ago.

    Labels are read under ``ground_truth_prefix`` of ``ground_truth_bucket`` (default: the
    capture bucket, i.e. ``s3://<data bucket>/ground-truth/`` in the platform) in Model
    Monitor's ground-truth format, matched to captured predictions by the capture's
    ``inferenceId`` (when the caller sent one) or ``eventId``. A run publishes the metrics of
    ``problem_type`` (``quality``), how many predictions were labelled, unlabelled or
    malformed, and writes a JSON report under ``<report_prefix><endpoint>/``
    (``quality-reports/``). Other props: ``PredictionCheckerProps``.

    Exposes ``quality`` (a ``QualityMetrics`` whose period is the window), the run counters
    ``metric_labelled_records()`` ..., ``function``, ``rule`` and ``environment``.
    """

    CHECK = "model_quality"
    OWNER = "ModelQualityChecker"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ground_truth_bucket: s3.IBucket | None = None,
        **props: Unpack[PredictionCheckerProps],
    ) -> None:
        labels = ground_truth_bucket or props.get("capture_bucket")
        super().__init__(scope, id, ground_truth_bucket=labels, environment={},
                         description="Model quality of the endpoint's captured predictions against ground truth",
                         **props)
        self.quality = QualityMetrics(self.model_name, self.endpoint_name, self.metric_namespace, period=self.window)
        self._schedule()


__all__ = ["ModelQualityChecker"]
