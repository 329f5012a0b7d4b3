"""Model quality monitoring with SageMaker Model Monitor: captured predictions merged with ground-truth labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ... import locations
from ..._validation import invalid
from ...settings.monitoring import ModelQualityOptions
from .monitor_base import MonitorBase

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .monitor_base import MonitorProps

# Where the Model Monitor analyzer publishes model-quality metrics (dimensions Endpoint + MonitoringSchedule).
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"


class ModelQualityMonitor(MonitorBase):
    """Accuracy, precision, recall ... of the live model, from captured predictions and ground truth.

    Creates an ``AWS::SageMaker::ModelQualityJobDefinition`` (Model Monitor analyzer image) and
    its schedule (``options.schedule``, daily by default). Ground truth is read under
    ``ground_truth_prefix`` (``locations.GROUND_TRUTH``) of ``ground_truth_bucket`` (default
    ``output_bucket``), where your labelling process writes it. ``options`` (a
    ``ModelQualityOptions``) says what to compute; everything else is ``MonitorBase``'s. On an
    hourly schedule ``max_runtime`` defaults to, and may be at most, 30 minutes (SageMaker's cap).
    """

    MONITORING_TYPE = "ModelQuality"
    PROPS_PREFIX = "model_quality"
    IMAGE = "modelmonitor"
    HOURLY_MAX_RUNTIME = 1800  # SageMaker: the ground-truth merge and the analysis share an hourly run

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: ModelQualityOptions = ModelQualityOptions(),
        ground_truth_bucket: s3.IBucket | None = None,
        ground_truth_prefix: str = locations.GROUND_TRUTH,
        **props: Unpack[MonitorProps],
    ) -> None:
        if not isinstance(options, ModelQualityOptions):
            raise invalid(type(self).__name__, "options", options, "a ModelQualityOptions")
        super().__init__(scope, id, schedule=options.schedule, **props)
        self.options = options
        self.ground_truth_s3_uri = self._read_ground_truth(ground_truth_bucket, ground_truth_prefix)
        cfn = sagemaker.CfnModelQualityJobDefinition
        self._create(
            cfn,
            app_specification=cfn.ModelQualityAppSpecificationProperty(
                image_uri=self._image_uri(), problem_type=options.problem_type, environment=dict(self._environment)),
            job_input=self._labelled_job_input(cfn, cfn.ModelQualityJobInputProperty, options, self.ground_truth_s3_uri),
            baseline_config=self._constraints_baseline(
                cfn, cfn.ModelQualityBaselineConfigProperty, options.constraints_key),
        )

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """A metric the job publishes (``accuracy``, ``precision``, ``recall``, ``f1``, ``rmse`` ...), hourly Average."""
        props.setdefault("statistic", "Average")
        return self._metric(MODEL_METRICS_NAMESPACE, metric_name, **props)

    def metric_accuracy(self, **props: Any) -> cloudwatch.Metric:
        """The job's ``accuracy`` of a classifier."""
        return self.metric("accuracy", **props)


__all__ = ["MODEL_METRICS_NAMESPACE", "ModelQualityMonitor"]
