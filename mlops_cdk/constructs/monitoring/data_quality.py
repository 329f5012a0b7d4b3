"""Data quality monitoring with SageMaker Model Monitor: captured inputs against the training baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ... import locations
from ..._validation import invalid, is_token, require_object_key
from ...settings.monitoring import MonitorSchedule
from .monitor_base import MonitorBase

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .monitor_base import MonitorProps

# Where the Model Monitor analyzer publishes (dimensions Endpoint + MonitoringSchedule).
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
_MAX_EXCLUDE_ATTRIBUTE = 100


class DataQualityMonitor(MonitorBase):
    """Captured inputs vs the baseline's statistics and constraints, on a schedule (hourly by default).

    Creates an ``AWS::SageMaker::DataQualityJobDefinition`` (Model Monitor analyzer image) and
    its ``AWS::SageMaker::MonitoringSchedule``. The baselines are ``statistics_key`` and
    ``constraints_key`` of ``baseline_bucket`` (default: the files the training pipeline
    publishes, ``locations.DATA_QUALITY_STATISTICS`` / ``DATA_QUALITY_CONSTRAINTS``, in
    ``output_bucket``). ``exclude_features_attribute`` leaves features out of the analysis.
    Everything else is ``MonitorBase``'s.
    """

    MONITORING_TYPE = "DataQuality"
    PROPS_PREFIX = "data_quality"
    IMAGE = "modelmonitor"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        schedule: MonitorSchedule = MonitorSchedule.hourly(),
        statistics_key: str = locations.DATA_QUALITY_STATISTICS,
        constraints_key: str = locations.DATA_QUALITY_CONSTRAINTS,
        exclude_features_attribute: str | None = None,
        **props: Unpack[MonitorProps],
    ) -> None:
        super().__init__(scope, id, schedule=schedule, **props)
        owner = self._owner
        require_object_key(owner, "statistics_key", statistics_key)
        require_object_key(owner, "constraints_key", constraints_key)
        if exclude_features_attribute is not None and not is_token(exclude_features_attribute) and (
                not isinstance(exclude_features_attribute, str) or not exclude_features_attribute.strip()
                or len(exclude_features_attribute) > _MAX_EXCLUDE_ATTRIBUTE):
            raise invalid(owner, "exclude_features_attribute", exclude_features_attribute,
                          f"a JSONPath or comma-separated feature list of 1-{_MAX_EXCLUDE_ATTRIBUTE} characters")

        bucket = self.baseline_bucket
        self.statistics_s3_uri = locations.s3_uri(bucket.bucket_name, statistics_key)
        self.constraints_s3_uri = locations.s3_uri(bucket.bucket_name, constraints_key)
        for sid, key in (("ReadStatistics", statistics_key), ("ReadConstraints", constraints_key)):
            self._grants.read(sid, bucket, key)
        cfn = sagemaker.CfnDataQualityJobDefinition
        self._create(
            cfn,
            app_specification=cfn.DataQualityAppSpecificationProperty(
                image_uri=self._image_uri(), environment=dict(self._environment)),
            job_input=cfn.DataQualityJobInputProperty(endpoint_input=self._endpoint_input(
                cfn, exclude_features_attribute=exclude_features_attribute)),
            baseline_config=cfn.DataQualityBaselineConfigProperty(
                constraints_resource=cfn.ConstraintsResourceProperty(s3_uri=self.constraints_s3_uri),
                statistics_resource=cfn.StatisticsResourceProperty(s3_uri=self.statistics_s3_uri)),
        )

    def metric_feature_baseline_drift(self, feature: str, **props: Any) -> cloudwatch.Metric:
        """``feature_baseline_drift_<feature>``: Model Monitor's distribution distance of one feature (not PSI).

        Maximum per ``monitor_base.METRIC_PERIOD`` (one hour) unless ``props`` say otherwise.
        """
        props.setdefault("statistic", "Maximum")
        return self._metric(DATA_METRICS_NAMESPACE, f"feature_baseline_drift_{feature}", **props)


__all__ = ["DATA_METRICS_NAMESPACE", "DataQualityMonitor"]
