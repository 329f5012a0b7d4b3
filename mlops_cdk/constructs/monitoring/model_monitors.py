"""SageMaker Model Monitor schedules for an endpoint (course 11.2-11.7): data quality, model quality, bias, attribution.

Each construct is one job definition plus one monitoring schedule; what they
share (role, outputs, KMS, schedule, cluster, network, runtime, naming) lives in
``monitor_schedule.MonitorBase`` and is documented there.

* ``DataQualityMonitor``: ``AWS::SageMaker::DataQualityJobDefinition``, Model Monitor analyzer image, hourly;
* ``ModelQualityMonitor``: ``AWS::SageMaker::ModelQualityJobDefinition``, Model Monitor analyzer image, daily;
* ``BiasMonitor``: ``AWS::SageMaker::ModelBiasJobDefinition``, Clarify image, daily;
* ``FeatureAttributionMonitor``: ``AWS::SageMaker::ModelExplainabilityJobDefinition``, Clarify image, daily.

Clarify analysis configuration (bias, feature attribution). The Clarify jobs
read their analysis config (facets and labels; SHAP baseline and predictor)
from an S3 object (``ConfigUri``). By default the construct writes that JSON at
synth time from its props and ships it as a CDK file asset (the content-hashed
object in the bootstrap assets bucket, uploaded by ``cdk deploy`` before the
stack is created); the job role gets ``s3:GetObject`` on exactly that object.
Pass ``analysis_config_uri`` instead to use an existing config, e.g. the one
the training pipeline's Clarify baselining step wrote next to its baseline
(then the config props must be left out and the role must already read it).
Generated configs need literal values (a token cannot be written into a file).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aws_cdk import Aws
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from .. import locations
from .._validation import invalid, is_token, require_choice, require_int, require_pattern
from ._assets import generated_file_asset
from ._nag import acknowledge
from .monitor_schedule import MonitorBase, require_s3_uri

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .monitor_schedule import MonitorProps

PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
SHAP_AGG_METHODS = ("mean_abs", "median", "mean_sq")
ACCEPT_TYPES = ("text/csv", "application/jsonlines", "application/json")
# Namespaces the built-in containers publish to (Endpoint + MonitoringSchedule dimensions).
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
# Clarify names its temporary shadow endpoints (and their configs) with this prefix;
# the job role may manage only those.
SHADOW_ENDPOINT_PREFIX = "mlops-clarify-shadow"
# ISO-8601 offsets relative to the run, as Model Monitor takes them: -PT1H, -P1D, -P1DT12H.
_OFFSET_RE = re.compile(r"^-P(?=\d|T\d)(?:(?P<d>\d+)D)?(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?)?$")
_ATTRIBUTE_MAX = 256


class DataQualityMonitor(MonitorBase):
    """Data quality monitoring (course 11.3): captured inputs vs the training baseline's statistics and constraints.

    Creates an ``AWS::SageMaker::DataQualityJobDefinition`` (Model Monitor
    analyzer image) and its hourly (by default) schedule. Baselines default to
    the files the training pipeline writes, ``locations.DATA_QUALITY_STATISTICS``
    and ``locations.DATA_QUALITY_CONSTRAINTS`` in ``output_bucket``.

    Props beyond ``MonitorBase``'s: ``statistics_s3_uri``, ``constraints_s3_uri``,
    ``record_preprocessor_s3_uri``, ``post_analytics_processor_s3_uri``,
    ``exclude_features_attribute``.
    """

    MONITORING_TYPE = "DataQuality"
    IMAGE = "modelmonitor"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        statistics_s3_uri: str | None = None,
        constraints_s3_uri: str | None = None,
        record_preprocessor_s3_uri: str | None = None,
        post_analytics_processor_s3_uri: str | None = None,
        exclude_features_attribute: str | None = None,
        **common: Unpack[MonitorProps],
    ) -> None:
        super().__init__(scope, id, **common)
        owner = self._owner
        statistics = require_s3_uri(owner, "statistics_s3_uri", statistics_s3_uri, optional=True)
        constraints = require_s3_uri(owner, "constraints_s3_uri", constraints_s3_uri, optional=True)
        preprocessor = require_s3_uri(owner, "record_preprocessor_s3_uri", record_preprocessor_s3_uri, optional=True)
        post = require_s3_uri(owner, "post_analytics_processor_s3_uri", post_analytics_processor_s3_uri, optional=True)
        _require_attribute(owner, "exclude_features_attribute", exclude_features_attribute, maximum=100)

        self.statistics_s3_uri = statistics or self._default_uri(locations.DATA_QUALITY_STATISTICS)
        self.constraints_s3_uri = constraints or self._default_uri(locations.DATA_QUALITY_CONSTRAINTS)
        self._create(
            sagemaker.CfnDataQualityJobDefinition,
            "data_quality",
            app_specification=self._app_specification(
                record_preprocessor_source_uri=preprocessor, post_analytics_processor_source_uri=post
            ),
            job_input={"endpoint_input": self._endpoint_input(exclude_features_attribute=exclude_features_attribute)},
            baseline_config={
                "constraints_resource": {"s3_uri": self.constraints_s3_uri},
                "statistics_resource": {"s3_uri": self.statistics_s3_uri},
            },
        )

    def metric_feature_baseline_drift(self, feature: str, **props: Any) -> cloudwatch.Metric:
        """``feature_baseline_drift_<feature>``: Model Monitor's distribution distance of one feature (not PSI)."""
        return self._metric(DATA_METRICS_NAMESPACE, f"feature_baseline_drift_{feature}", **props)


class ModelQualityMonitor(MonitorBase):
    """Model quality monitoring (course 11.4): captured predictions merged with ground-truth labels.

    Creates an ``AWS::SageMaker::ModelQualityJobDefinition`` and its daily (by
    default) schedule. Requires ``ground_truth_s3_uri`` (where your labelling
    process writes ground truth, by convention ``locations.GROUND_TRUTH``) and
    ``problem_type``; the predicted label or probability is located in the
    captured output by ``inference_attribute`` / ``probability_attribute``
    (a CSV column index like ``"0"`` or a JSONPath):

    * ``BinaryClassification``: ``inference_attribute`` or ``probability_attribute``
      (then ``probability_threshold``, default 0.5, turns it into a label);
    * ``MulticlassClassification``: ``inference_attribute`` (``probability_attribute`` optional);
    * ``Regression``: ``inference_attribute`` only.

    ``constraints_s3_uri`` (optional) is the baselining job's constraints; without
    it the job computes and publishes the metrics without violation checks.
    ``start_time_offset`` / ``end_time_offset`` (e.g. ``"-P2D"``, ``"-P1D"``) pick
    the window of captured data whose labels have arrived.
    """

    MONITORING_TYPE = "ModelQuality"
    IMAGE = "modelmonitor"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ground_truth_s3_uri: str | None = None,
        problem_type: str = "BinaryClassification",
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        probability_threshold: float | None = None,
        constraints_s3_uri: str | None = None,
        start_time_offset: str | None = None,
        end_time_offset: str | None = None,
        record_preprocessor_s3_uri: str | None = None,
        post_analytics_processor_s3_uri: str | None = None,
        **common: Unpack[MonitorProps],
    ) -> None:
        common.setdefault("schedule", "daily")
        super().__init__(scope, id, **common)
        owner = self._owner
        ground_truth = _require_ground_truth(owner, ground_truth_s3_uri)
        require_choice(owner, "problem_type", problem_type, PROBLEM_TYPES)
        threshold = _prediction_attributes(
            owner, problem_type, inference_attribute, probability_attribute, probability_threshold
        )
        constraints = require_s3_uri(owner, "constraints_s3_uri", constraints_s3_uri, optional=True)
        offsets = _offsets(owner, start_time_offset, end_time_offset)
        preprocessor = require_s3_uri(owner, "record_preprocessor_s3_uri", record_preprocessor_s3_uri, optional=True)
        post = require_s3_uri(owner, "post_analytics_processor_s3_uri", post_analytics_processor_s3_uri, optional=True)

        self.ground_truth_s3_uri = ground_truth
        self.problem_type = problem_type
        self.constraints_s3_uri = constraints
        self._create(
            sagemaker.CfnModelQualityJobDefinition,
            "model_quality",
            app_specification=self._app_specification(
                problem_type=problem_type,
                record_preprocessor_source_uri=preprocessor,
                post_analytics_processor_source_uri=post,
            ),
            job_input={
                "endpoint_input": self._endpoint_input(
                    inference_attribute=inference_attribute,
                    probability_attribute=probability_attribute,
                    probability_threshold_attribute=threshold,
                    **offsets,
                ),
                "ground_truth_s3_input": {"s3_uri": ground_truth},
            },
            baseline_config={"constraints_resource": {"s3_uri": constraints}} if constraints else None,
        )

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """A model-quality metric the job publishes (``accuracy``, ``precision``, ``recall``, ``f1``, ``rmse`` ...)."""
        props.setdefault("statistic", "Average")
        return self._metric(MODEL_METRICS_NAMESPACE, metric_name, **props)


class _ClarifyMonitor(MonitorBase):
    """Bias and feature attribution: a Clarify analysis config shipped as an asset, or given by URI."""

    IMAGE = "clarify"

    def _analysis_config_uri(self, analysis_config_uri: str | None, build_config: Any) -> str:
        if analysis_config_uri is not None:
            self.analysis_config = None
            return analysis_config_uri
        config = build_config()
        tokens = [path for path, value in _leaves(config) if is_token(value)]
        if tokens:
            raise invalid(self._owner, tokens[0], "<token>",
                          "literal values (the analysis config is written at synth time); "
                          "or pass analysis_config_uri")
        self.analysis_config = config
        asset = generated_file_asset(
            self, "AnalysisConfig", filename="analysis_config.json",
            text=json.dumps(config, indent=1, sort_keys=True) + "\n",
        )
        iam.Policy(
            self,
            "ReadAnalysisConfig",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadClarifyAnalysisConfig",
                    actions=["s3:GetObject"],
                    resources=[asset.bucket.arn_for_objects(asset.s3_object_key)],
                )
            ],
        )
        return asset.s3_object_url


class BiasMonitor(_ClarifyMonitor):
    """Bias drift monitoring (course 11.6) with SageMaker Clarify.

    Creates an ``AWS::SageMaker::ModelBiasJobDefinition`` (Clarify image) and
    its daily (by default) schedule. Requires ``ground_truth_s3_uri`` and the
    Clarify bias configuration: ``label_values_or_threshold`` (the positive
    outcome), ``facet_name`` (the sensitive attribute, a column name or index)
    and optionally ``facet_values_or_threshold``, ``group_variable``, ``headers``
    (feature column names) and ``label``; or an ``analysis_config_uri`` instead.
    The predicted label is located by ``inference_attribute`` or
    ``probability_attribute`` + ``probability_threshold`` (default 0.5).
    """

    MONITORING_TYPE = "ModelBias"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ground_truth_s3_uri: str | None = None,
        label_values_or_threshold: Sequence[int | float | str] | None = None,
        facet_name: str | int | Sequence[str | int] | None = None,
        facet_values_or_threshold: Sequence[int | float | str] | None = None,
        group_variable: str | int | None = None,
        headers: Sequence[str] | None = None,
        label: str | int | None = None,
        analysis_config_uri: str | None = None,
        features_attribute: str | None = None,
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        probability_threshold: float | None = None,
        constraints_s3_uri: str | None = None,
        start_time_offset: str | None = None,
        end_time_offset: str | None = None,
        **common: Unpack[MonitorProps],
    ) -> None:
        common.setdefault("schedule", "daily")
        super().__init__(scope, id, **common)
        owner = self._owner
        ground_truth = _require_ground_truth(owner, ground_truth_s3_uri)
        config_uri = require_s3_uri(owner, "analysis_config_uri", analysis_config_uri, optional=True)
        config_props = {
            "label_values_or_threshold": label_values_or_threshold, "facet_name": facet_name,
            "facet_values_or_threshold": facet_values_or_threshold, "group_variable": group_variable,
            "headers": headers, "label": label,
        }
        if config_uri is not None:
            _no_config_props(owner, config_props)
        else:
            _require_values(owner, "label_values_or_threshold", label_values_or_threshold)
            facets = _facets(owner, facet_name, facet_values_or_threshold)
            _require_column(owner, "group_variable", group_variable, optional=True)
            _require_headers(owner, "headers", headers)
            _require_column(owner, "label", label, optional=True)
        threshold = _prediction_attributes(
            owner, "BinaryClassification", inference_attribute, probability_attribute, probability_threshold
        )
        _require_attribute(owner, "features_attribute", features_attribute)
        constraints = require_s3_uri(owner, "constraints_s3_uri", constraints_s3_uri, optional=True)
        offsets = _offsets(owner, start_time_offset, end_time_offset)

        def build_config() -> dict[str, Any]:
            config: dict[str, Any] = {"label_values_or_threshold": list(label_values_or_threshold), "facet": facets}
            for key in ("group_variable", "label"):
                if config_props[key] is not None:
                    config[key] = config_props[key]
            if headers is not None:
                config["headers"] = list(headers)
            return config

        self.ground_truth_s3_uri = ground_truth
        self.analysis_config_uri = self._analysis_config_uri(config_uri, build_config)
        self._create(
            sagemaker.CfnModelBiasJobDefinition,
            "model_bias",
            app_specification=self._app_specification(config_uri=self.analysis_config_uri),
            job_input={
                "endpoint_input": self._endpoint_input(
                    features_attribute=features_attribute,
                    inference_attribute=inference_attribute,
                    probability_attribute=probability_attribute,
                    probability_threshold_attribute=threshold,
                    **offsets,
                ),
                "ground_truth_s3_input": {"s3_uri": ground_truth},
            },
            baseline_config={"constraints_resource": {"s3_uri": constraints}} if constraints else None,
        )


class FeatureAttributionMonitor(_ClarifyMonitor):
    """Feature attribution drift monitoring (course 11.7) with SageMaker Clarify's SHAP.

    Creates an ``AWS::SageMaker::ModelExplainabilityJobDefinition`` (Clarify
    image) and its daily (by default) schedule. Clarify computes SHAP values of
    captured records on a temporary *shadow endpoint* of ``model_name`` (never
    the production endpoint), so the job needs network access (network isolation
    is off by default) and its role is granted to create, invoke and delete
    endpoints named ``mlops-clarify-shadow*`` only, and to describe the model.

    SHAP configuration (course 11.7 ``SHAPConfig``): ``shap_baseline`` (rows of
    feature values, e.g. ``[X_train.median().tolist()]``, or the S3 URI of a CSV
    baseline), ``num_samples`` (100), ``agg_method`` (``mean_abs``), ``use_logit``,
    ``headers``; predictor: ``model_name``, ``shadow_instance_type``,
    ``shadow_instance_count``, ``accept_type`` (requests are CSV). Or an
    ``analysis_config_uri`` instead (then grant what it needs yourself).
    """

    MONITORING_TYPE = "ModelExplainability"
    DEFAULT_NETWORK_ISOLATION = False

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_name: str | None = None,
        shap_baseline: Sequence[Sequence[float | int | str]] | str | None = None,
        num_samples: int = 100,
        agg_method: str = "mean_abs",
        use_logit: bool = False,
        headers: Sequence[str] | None = None,
        accept_type: str = "text/csv",
        shadow_instance_type: str = "ml.m5.xlarge",
        shadow_instance_count: int = 1,
        analysis_config_uri: str | None = None,
        features_attribute: str | None = None,
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        constraints_s3_uri: str | None = None,
        **common: Unpack[MonitorProps],
    ) -> None:
        common.setdefault("schedule", "daily")
        super().__init__(scope, id, **common)
        owner = self._owner
        config_uri = require_s3_uri(owner, "analysis_config_uri", analysis_config_uri, optional=True)
        if config_uri is not None:
            _no_config_props(owner, {"model_name": model_name, "shap_baseline": shap_baseline, "headers": headers})
        else:
            require_pattern(owner, "model_name", model_name, re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"),
                            "the SageMaker model name the shadow endpoint serves")
            _require_shap_baseline(owner, shap_baseline, headers)
            require_int(owner, "num_samples", num_samples, minimum=1)
            require_choice(owner, "agg_method", agg_method, SHAP_AGG_METHODS)
            if not isinstance(use_logit, bool):
                raise invalid(owner, "use_logit", use_logit, "True | False")
            _require_headers(owner, "headers", headers)
            require_choice(owner, "accept_type", accept_type, ACCEPT_TYPES)
            require_pattern(owner, "shadow_instance_type", shadow_instance_type,
                            re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$"), "an ML instance type like 'ml.m5.xlarge'")
            require_int(owner, "shadow_instance_count", shadow_instance_count, minimum=1)
        for prop, value in (("features_attribute", features_attribute), ("inference_attribute", inference_attribute),
                            ("probability_attribute", probability_attribute)):
            _require_attribute(owner, prop, value)
        constraints = require_s3_uri(owner, "constraints_s3_uri", constraints_s3_uri, optional=True)

        def build_config() -> dict[str, Any]:
            shap: dict[str, Any] = {
                "baseline": shap_baseline if isinstance(shap_baseline, str) else [list(r) for r in shap_baseline],
                "num_samples": num_samples,
                "agg_method": agg_method,
                "use_logit": use_logit,
                "save_local_shap_values": False,
            }
            config: dict[str, Any] = {
                "methods": {"shap": shap},
                "predictor": {
                    "model_name": model_name,
                    "instance_type": shadow_instance_type,
                    "initial_instance_count": shadow_instance_count,
                    "content_type": "text/csv",
                    "accept_type": accept_type,
                    "endpoint_name_prefix": SHADOW_ENDPOINT_PREFIX,
                },
            }
            if headers is not None:
                config["headers"] = list(headers)
            return config

        self.model_name = model_name
        self.analysis_config_uri = self._analysis_config_uri(config_uri, build_config)
        if config_uri is None:
            self._grant_shadow_endpoint(model_name)  # type: ignore[arg-type]
        self._create(
            sagemaker.CfnModelExplainabilityJobDefinition,
            "model_explainability",
            app_specification=self._app_specification(config_uri=self.analysis_config_uri),
            job_input={
                "endpoint_input": self._endpoint_input(
                    features_attribute=features_attribute,
                    inference_attribute=inference_attribute,
                    probability_attribute=probability_attribute,
                )
            },
            baseline_config={"constraints_resource": {"s3_uri": constraints}} if constraints else None,
        )

    def _grant_shadow_endpoint(self, model_name: str) -> None:
        arn = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        shadow = [f"{arn}:endpoint/{SHADOW_ENDPOINT_PREFIX}*", f"{arn}:endpoint-config/{SHADOW_ENDPOINT_PREFIX}*"]
        policy = iam.Policy(
            self,
            "ShadowEndpoint",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="ManageClarifyShadowEndpoints",
                    actions=[
                        "sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig",
                        "sagemaker:DeleteEndpointConfig", "sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint",
                        "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:AddTags",
                    ],
                    resources=shadow,
                ),
                iam.PolicyStatement(
                    sid="DescribeExplainedModel",
                    actions=["sagemaker:DescribeModel"],
                    resources=[f"{arn}:model/{model_name}"],
                ),
            ],
        )
        for resource in ("endpoint", "endpoint-config"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                f"{resource}/{SHADOW_ENDPOINT_PREFIX}*]",
                "Clarify names each run's temporary shadow endpoint at run time; limited to the "
                f"'{SHADOW_ENDPOINT_PREFIX}' prefix set in the analysis config.",
            )


# ---------------------------------------------------------------- validation


def _require_ground_truth(owner: str, value: Any) -> str:
    if value is None:
        raise invalid(owner, "ground_truth_s3_uri", value,
                      "the S3 URI where ground-truth labels are written (required: the job merges them with "
                      f"captured predictions), e.g. s3://<bucket>/{locations.GROUND_TRUTH}")
    return require_s3_uri(owner, "ground_truth_s3_uri", value)  # type: ignore[return-value]


def _require_attribute(owner: str, prop: str, value: Any, *, maximum: int = _ATTRIBUTE_MAX) -> None:
    if value is None or is_token(value):
        return
    if not isinstance(value, str) or not value.strip() or len(value) > maximum:
        raise invalid(owner, prop, value, f"a CSV column index like '0' or a JSONPath, 1-{maximum} characters")


def _prediction_attributes(
    owner: str, problem_type: str, inference: Any, probability: Any, threshold: Any
) -> float | None:
    """Validate where the prediction is in the captured output; returns the probability threshold to set."""
    _require_attribute(owner, "inference_attribute", inference)
    _require_attribute(owner, "probability_attribute", probability)
    if problem_type == "BinaryClassification":
        if inference is None and probability is None:
            raise invalid(owner, "inference_attribute", None,
                          "inference_attribute or probability_attribute (where the prediction is in the output)")
    elif inference is None:
        raise invalid(owner, "inference_attribute", None, f"the predicted value's location (required for {problem_type})")
    if problem_type == "Regression" and probability is not None:
        raise invalid(owner, "probability_attribute", probability, "None for Regression")
    if threshold is not None:
        if problem_type != "BinaryClassification" or probability is None:
            raise invalid(owner, "probability_threshold", threshold,
                          "None unless problem_type is BinaryClassification and probability_attribute is set")
        if not is_token(threshold) and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                        or not 0 <= threshold <= 1):
            raise invalid(owner, "probability_threshold", threshold, "a number in [0, 1]")
        return threshold
    return 0.5 if problem_type == "BinaryClassification" and probability is not None else None


def _offset_seconds(value: str) -> int:
    match = _OFFSET_RE.match(value)
    assert match is not None
    d, h, m = (int(match.group(k) or 0) for k in "dhm")
    return -(d * 86400 + h * 3600 + m * 60)


def _offsets(owner: str, start: Any, end: Any) -> dict[str, str]:
    out = {}
    for prop, value, key in (("start_time_offset", start, "start_time_offset"), ("end_time_offset", end, "end_time_offset")):
        if value is None:
            continue
        require_pattern(owner, prop, value, _OFFSET_RE, "a negative ISO-8601 duration like '-PT1H', '-P1D' or '-P1DT12H'")
        out[key] = value
    if start is not None and end is not None and not is_token(start) and not is_token(end):
        if _offset_seconds(start) >= _offset_seconds(end):
            raise invalid(owner, "start_time_offset", start, f"an offset earlier than end_time_offset ({end})")
    return out


def _require_values(owner: str, prop: str, values: Any) -> None:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise invalid(owner, prop, values, "a non-empty list of label values (or one threshold), e.g. [1]")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise invalid(owner, prop, values, "numbers or strings")


def _require_column(owner: str, prop: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not (
        (isinstance(value, str) and value.strip()) or (isinstance(value, int) and value >= 0)
    ):
        raise invalid(owner, prop, value, "a column name or a 0-based column index")


def _facets(owner: str, name: Any, values: Any) -> list[dict[str, Any]]:
    names = list(name) if isinstance(name, Sequence) and not isinstance(name, str) else [name]
    if not names:
        raise invalid(owner, "facet_name", name, "a column name or index, or a non-empty list of them")
    for single in names:
        _require_column(owner, "facet_name", single)
    if values is not None:
        _require_values(owner, "facet_values_or_threshold", values)
    if len(names) == 1:
        facet = {"name_or_index": names[0]}
        if values is not None:
            facet["value_or_threshold"] = list(values)
        return [facet]
    if values is not None and len(values) != len(names):
        raise invalid(owner, "facet_values_or_threshold", values, f"one value per facet ({len(names)})")
    return [
        {"name_or_index": n, **({"value_or_threshold": [values[i]]} if values is not None else {})}
        for i, n in enumerate(names)
    ]


def _require_headers(owner: str, prop: str, headers: Any) -> None:
    if headers is None:
        return
    if isinstance(headers, str) or not isinstance(headers, Sequence) or not headers or not all(
        isinstance(h, str) and h.strip() for h in headers
    ) or len(set(headers)) != len(headers):
        raise invalid(owner, prop, headers, "a non-empty list of distinct column names")


def _require_shap_baseline(owner: str, baseline: Any, headers: Any) -> None:
    if isinstance(baseline, str):
        require_s3_uri(owner, "shap_baseline", baseline)
        return
    allowed = "rows of feature values (e.g. [X_train.median().tolist()]) or the S3 URI of a CSV baseline"
    if not isinstance(baseline, Sequence) or not baseline:
        raise invalid(owner, "shap_baseline", baseline, allowed)
    width = None
    for row in baseline:
        if isinstance(row, str) or not isinstance(row, Sequence) or not row or any(
            isinstance(v, bool) or not isinstance(v, (int, float, str))
            or (isinstance(v, float) and not math.isfinite(v)) for v in row
        ):
            raise invalid(owner, "shap_baseline", baseline, allowed)
        if width is not None and len(row) != width:
            raise invalid(owner, "shap_baseline", baseline, "rows of equal length")
        width = len(row)
    if headers is not None and not isinstance(headers, str) and isinstance(headers, Sequence) and len(headers) != width:
        raise invalid(owner, "shap_baseline", baseline, f"rows of {len(headers)} values (one per header)")


def _no_config_props(owner: str, props: dict[str, Any]) -> None:
    given = [k for k, v in props.items() if v is not None]
    if given:
        raise invalid(owner, given[0], props[given[0]], "None when analysis_config_uri is given (the config holds it)")


def _leaves(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{path}.{k}" if path else k)]
    if isinstance(node, list):
        return [leaf for i, v in enumerate(node) for leaf in _leaves(v, f"{path}[{i}]")]
    return [(path, node)]


__all__ = [
    "ACCEPT_TYPES",
    "PROBLEM_TYPES",
    "SHADOW_ENDPOINT_PREFIX",
    "BiasMonitor",
    "DataQualityMonitor",
    "FeatureAttributionMonitor",
    "ModelQualityMonitor",
]
