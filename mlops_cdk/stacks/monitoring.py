"""Monitoring of one model's endpoint at one stage: Model Monitor and/or the own drift checker, alarms, dashboard."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import locations
from .._validation import invalid, is_token, require_choice
from ..config import MONITORING_MODES, PlatformConfig
from ..constructs.drift_checker import DriftChecker, require_drift_thresholds, require_feature_names
from ..constructs.model_alarms import ModelAlarms
from ..constructs.model_dashboard import ModelDashboard
from ..constructs.model_monitors import BiasMonitor, DataQualityMonitor, FeatureAttributionMonitor, ModelQualityMonitor
from ..constructs.monitor_schedule import MonitorBase
from .foundation import FoundationStack, apply_standard_tags, require_platform

_OWNER = "MonitoringStack"
MODES = MONITORING_MODES
_S3_URI_RE = re.compile(r"^s3://(?P<bucket>[^/]+)(?:/(?P<prefix>.*))?$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


class MonitoringStack(Stack):
    """Watches the endpoint ``endpoint_name`` (a string or a token such as ``serving.endpoint.endpoint_name``).

    ``mode`` chooses the drift detection:

    * ``"model_monitor"`` -- SageMaker Model Monitor: a ``DataQualityMonitor``
      (``data_quality_schedule``, hourly) against the training pipeline's
      baselines; feature-drift alarms read its ``feature_baseline_drift_<f>``
      metrics (Model Monitor's distribution distance, compared with the same
      thresholds);
    * ``"own"`` -- the library's ``DriftChecker`` (PSI every ``drift_window_hours``),
      no Model Monitor at all (for accounts where Model Monitor is unavailable);
    * ``"both"`` (default) -- both; alarms and the dashboard read the checker's PSI.

    In every mode: a ``ModelQualityMonitor`` when ``ground_truth_s3_uri`` is
    given (Model Monitor modes only), a ``BiasMonitor`` / ``FeatureAttributionMonitor``
    when ``bias`` / ``feature_attribution`` hold their props (Model Monitor modes
    only), ``ModelAlarms`` notifying the foundation's alert topic and a
    ``ModelDashboard``. Monitoring jobs run as the foundation's SageMaker
    execution role and write under ``locations.MONITORING_REPORTS`` of the data
    bucket, encrypted with its key.

    ``capture_s3_uri`` is the endpoint's ``DataCaptureConfig`` destination, where
    the drift checker reads (default ``s3://<data bucket>/data-capture``, the
    ``locations.DATA_CAPTURE`` convention); ``ServingStack.capture_s3_uri`` can be
    passed as is. Its bucket is then imported by name (the part after ``s3://``
    may hold tokens, the separators must be literal) and ``capture_key`` is its
    KMS key (default: the data key). ``feature_names`` is the CSV column order of the
    captured input (the baseline histogram's features). ``model_name`` is the
    ``ModelName`` of ``publish_custom_metrics`` (default ``config.model_name``).
    Thresholds default to ``config.accuracy_threshold`` and PSI 0.2 / 0.1.

    Outputs ``DashboardName`` and ``ModelUnhealthyAlarmArn``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        foundation: FoundationStack,
        endpoint_name: str,
        feature_names: Sequence[str],
        variant_name: str = "AllTraffic",
        capture_s3_uri: str | None = None,
        capture_key: kms.IKey | None = None,
        mode: str = "both",
        model_name: str | None = None,
        data_quality_schedule: str = "hourly",
        ground_truth_s3_uri: str | None = None,
        model_quality: Mapping[str, Any] | None = None,
        bias: Mapping[str, Any] | None = None,
        feature_attribution: Mapping[str, Any] | None = None,
        monitor_instance_type: str = "ml.m5.xlarge",
        drift_window_hours: int = 24,
        drift_significant: float = 0.2,
        drift_warning: float = 0.1,
        accuracy_threshold: float | None = None,
        latency_p99_threshold: Duration = Duration.seconds(1),
        errors_5xx_threshold: int = 1,
        **kwargs: Any,
    ) -> None:
        require_platform(_OWNER, config, foundation)
        require_choice(_OWNER, "mode", mode, MODES)
        features = require_feature_names(_OWNER, "feature_names", feature_names)
        require_drift_thresholds(_OWNER, drift_significant, drift_warning)
        capture = _parse_capture_uri(capture_s3_uri)
        for prop, value in (("model_quality", model_quality), ("bias", bias), ("feature_attribution", feature_attribution)):
            if value is not None and not isinstance(value, Mapping):
                raise invalid(_OWNER, prop, value, "a mapping of the monitor's keyword props, or None")
        if mode == "own":
            for prop, value in (("ground_truth_s3_uri", ground_truth_s3_uri), ("bias", bias),
                                ("feature_attribution", feature_attribution)):
                if value is not None:
                    raise invalid(_OWNER, prop, value, "None when mode is 'own' (Model Monitor is not used)")
        if (bias is not None or model_quality is not None) and ground_truth_s3_uri is None:
            raise invalid(_OWNER, "ground_truth_s3_uri", None,
                          "the ground-truth S3 URI (required by model quality and bias monitoring)")
        kwargs.setdefault("description", f"mlops-cdk monitoring for {config.model_name} ({config.stage})")
        super().__init__(scope, id, **kwargs)
        self.config = config
        self.mode = mode
        self.endpoint_name = endpoint_name
        model_name = model_name or config.model_name
        accuracy = config.accuracy_threshold if accuracy_threshold is None else accuracy_threshold
        data = foundation.data

        # ------------------------------------------------------- Model Monitor
        self.monitors: list[MonitorBase] = []
        self.data_quality: DataQualityMonitor | None = None
        self.model_quality: ModelQualityMonitor | None = None
        self.bias: BiasMonitor | None = None
        self.feature_attribution: FeatureAttributionMonitor | None = None
        if mode in ("model_monitor", "both"):
            common = {
                "endpoint_name": endpoint_name,
                "role": foundation.execution_role,
                "output_bucket": data,
                "instance_type": monitor_instance_type,
            }
            self.data_quality = DataQualityMonitor(
                self, "DataQuality", schedule=data_quality_schedule,
                schedule_name=f"{config.prefix}-data-quality", **common,
            )
            self.monitors.append(self.data_quality)
            if ground_truth_s3_uri is not None:
                mq_props = _with_score_default(model_quality)
                self.model_quality = ModelQualityMonitor(
                    self, "ModelQuality", ground_truth_s3_uri=ground_truth_s3_uri,
                    schedule_name=f"{config.prefix}-model-quality", **{**common, **mq_props},
                )
                self.monitors.append(self.model_quality)
            if bias is not None:
                self.bias = BiasMonitor(
                    self, "Bias", ground_truth_s3_uri=ground_truth_s3_uri,
                    schedule_name=f"{config.prefix}-bias", **{**common, **_with_score_default(bias)},
                )
                self.monitors.append(self.bias)
            if feature_attribution is not None:
                self.feature_attribution = FeatureAttributionMonitor(
                    self, "FeatureAttribution", schedule_name=f"{config.prefix}-attribution",
                    **{**common, **dict(feature_attribution)},
                )
                self.monitors.append(self.feature_attribution)

        # ----------------------------------------------------- own drift checker
        self.drift_checker: DriftChecker | None = None
        if mode in ("own", "both"):
            if capture is None:
                capture_bucket: Any = data
                capture_prefix = locations.DATA_CAPTURE
            else:
                capture_bucket = s3.Bucket.from_bucket_name(self, "CaptureBucket", capture[0])
                capture_prefix = capture[1]
            self.drift_checker = DriftChecker(
                self,
                "DriftChecker",
                endpoint_name=endpoint_name,
                model_name=model_name,
                feature_names=features,
                capture_bucket=capture_bucket,
                capture_prefix=capture_prefix,
                encryption_key=capture_key or data.encryption_key,
                baseline_bucket=data,
                report_bucket=data,
                window_hours=drift_window_hours,
                threshold=drift_significant,
                warning_threshold=drift_warning,
            )

        # ------------------------------------------------------ alarms, dashboard
        if self.drift_checker is not None:
            drift_metrics = {f: self.drift_checker.metric_feature_drift(f) for f in features}
            drift_label = "PSI"
        else:
            assert self.data_quality is not None
            drift_metrics = {f: self.data_quality.metric_feature_baseline_drift(f) for f in features}
            drift_label = "Model Monitor baseline drift"
        self.alarms = ModelAlarms(
            self,
            "Alarms",
            alert_topic=foundation.alerts,
            endpoint_name=endpoint_name,
            variant_name=variant_name,
            model_name=model_name,
            drift_checker=self.drift_checker,
            feature_drift_metrics=drift_metrics,
            drift_significant=drift_significant,
            drift_warning=drift_warning,
            drift_metric_label=drift_label,
            accuracy_threshold=accuracy,
            latency_p99_threshold=latency_p99_threshold,
            errors_5xx_threshold=errors_5xx_threshold,
            monitoring_schedule_arns=[m.schedule_arn for m in self.monitors],
            alarm_name_prefix=config.prefix,
        )
        self.dashboard = ModelDashboard(
            self,
            "Dashboard",
            endpoint_name=endpoint_name,
            variant_name=variant_name,
            model_name=model_name,
            drift_checker=self.drift_checker,
            feature_drift_metrics=drift_metrics,
            drift_warning=drift_warning,
            drift_significant=drift_significant,
            drift_metric_label=drift_label,
            accuracy_threshold=accuracy,
            alarms=[*self.alarms.alarms, self.alarms.model_unhealthy],
            dashboard_name=f"{config.prefix}-model",
        )
        apply_standard_tags(self, config)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name, description="CloudWatch dashboard")
        CfnOutput(self, "ModelUnhealthyAlarmArn", value=self.alarms.model_unhealthy.alarm_arn,
                  description="Composite alarm: the model is unhealthy")


def _with_score_default(props: Mapping[str, Any] | None) -> dict[str, Any]:
    """Monitor props where, unless told otherwise, the prediction is the score in column 0 of the output
    (a binary classifier such as the fraud model's XGBoost ``binary:logistic``), thresholded at 0.5."""
    out = dict(props or {})
    if "inference_attribute" not in out and "probability_attribute" not in out:
        out["probability_attribute"] = "0"
    return out


def _parse_capture_uri(uri: Any) -> tuple[str, str] | None:
    """(bucket, root prefix) of ``s3://bucket[/prefix]``.

    The bucket part may carry tokens (``ServingStack.capture_s3_uri`` spells the
    platform bucket with ``AWS::AccountId`` / ``AWS::Region``): a token is
    encoded in the string without '/', so splitting at the first literal '/'
    keeps it whole. A URI that is itself one token cannot be split.
    """
    if uri is None:
        return None
    allowed = "s3://bucket/prefix (the bucket part may hold tokens, the 's3://' and '/' must be literal), " \
              "or None for s3://<data bucket>/data-capture/"
    if not isinstance(uri, str):
        raise invalid(_OWNER, "capture_s3_uri", uri, allowed)
    match = _S3_URI_RE.match(uri)
    if not match or (not is_token(match.group("bucket")) and not _BUCKET_RE.match(match.group("bucket"))) \
            or is_token(match.group("prefix") or ""):
        raise invalid(_OWNER, "capture_s3_uri", uri, allowed)
    prefix = (match.group("prefix") or "").strip("/")
    return match.group("bucket"), f"{prefix}/" if prefix else ""
