"""Typed options of the Model Monitor constructs: when a job runs and what it analyses. Imports no construct.

* :class:`MonitorSchedule` -- ``hourly()``, ``daily(hour)``, ``every(hours, starting_hour)``: the
  only cron forms Model Monitor accepts (SageMaker ``ScheduleConfig``), with the shortest gap
  between two runs, which bounds a job's ``max_runtime``.
* :class:`ModelQualityOptions`, :class:`BiasOptions`, :class:`FeatureAttributionOptions` -- what
  a model-quality, bias or feature-attribution job analyses and when. Frozen and validated on
  construction (``ModelQualityOptions(problem_type="Ranking")`` raises
  ``ModelQualityOptions 'problem_type': ...``), so the monitor, or a ``MonitoringStack`` handing
  them to one, receives values that are known to be good.

Where the prediction is in the captured output: ``inference_attribute`` (the label) or
``probability_attribute`` (the score), a CSV column index like ``"0"`` or a JSONPath. Without
either, a binary classifier's score is read from column 0 and thresholded at 0.5 (what the
course's XGBoost ``binary:logistic`` model returns).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration

from .._validation import (
    invalid,
    is_token,
    require_bool,
    require_choice,
    require_instance_type,
    require_int,
    require_number,
    require_object_key,
    require_pattern,
    require_sagemaker_name,
)
from ..lambdas._shared import contract

PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
SHAP_AGG_METHODS = ("mean_abs", "median", "mean_sq")
ACCEPT_TYPES = ("text/csv", "application/jsonlines", "application/json")
# Clarify names its temporary shadow endpoints (and their configs) with this prefix.
SHADOW_ENDPOINT_PREFIX = "mlops-clarify-shadow"
# ISO-8601 offsets relative to a run, as Model Monitor takes them: -PT1H, -P1D, -P1DT12H.
_OFFSET_RE = re.compile(r"^-P(?=\d|T\d)(?:(?P<d>\d+)D)?(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?)?$")
_ATTRIBUTE_MAX = 256
_DEFAULT_SCORE_COLUMN = "0"
_DEFAULT_PROBABILITY_THRESHOLD = 0.5


@dataclasses.dataclass(frozen=True)
class MonitorSchedule:
    """When a Model Monitor job runs: build it with :meth:`hourly`, :meth:`daily` or :meth:`every`.

    Attributes:
        expression: the cron expression of the ``AWS::SageMaker::MonitoringSchedule``.
        interval_hours: the shortest gap between two runs; a run must end before the next
            starts, so a monitor's ``max_runtime`` may not exceed it.
    """

    expression: str
    interval_hours: int

    @staticmethod
    def hourly() -> MonitorSchedule:
        """At the top of every hour (SageMaker caps such runs at one hour)."""
        return MonitorSchedule("cron(0 * ? * * *)", 1)

    @staticmethod
    def daily(hour: int = 0) -> MonitorSchedule:
        """Once a day at ``hour`` UTC (0-23), midnight by default like the SDK's ``CronExpressionGenerator``."""
        require_int("MonitorSchedule", "hour", hour, minimum=0, maximum=23)
        return MonitorSchedule(f"cron(0 {hour} ? * * *)", 24)

    @staticmethod
    def every(hours: int, starting_hour: int = 0) -> MonitorSchedule:
        """Every ``hours`` (1-24) hours UTC from ``starting_hour`` (0-23) until midnight, then again."""
        require_int("MonitorSchedule", "hours", hours, minimum=1, maximum=24)
        require_int("MonitorSchedule", "starting_hour", starting_hour, minimum=0, maximum=23)
        runs = list(range(starting_hour, 24, hours))
        # 0/5 runs at 0, 5, 10, 15 and 20 h: the gap from 20 h to the next day's 0 h is 4 hours.
        gap = min(hours, 24 - runs[-1] + runs[0]) if len(runs) > 1 else 24
        return MonitorSchedule(f"cron(0 {starting_hour}/{hours} ? * * *)", gap)

    @property
    def interval(self) -> Duration:
        return Duration.hours(self.interval_hours)


# ---------------------------------------------------------------- options
@dataclasses.dataclass(frozen=True, kw_only=True)
class _LabelledPredictions:
    """Where a job that merges captured predictions with ground truth finds the prediction, and when it runs."""

    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = None
    constraints_key: str | None = None
    start_time_offset: str | None = None
    end_time_offset: str | None = None
    schedule: MonitorSchedule = dataclasses.field(default_factory=MonitorSchedule.daily)

    def _check_labelled_predictions(self, owner: str, problem_type: str) -> None:
        _prediction(self, owner, problem_type)
        _optional_key(owner, "constraints_key", self.constraints_key)
        _offsets(owner, self.start_time_offset, self.end_time_offset)
        _schedule(owner, self.schedule)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelQualityOptions(_LabelledPredictions):
    """What a ``ModelQualityMonitor`` computes: captured predictions merged with ground-truth labels.

    Attributes:
        problem_type: ``BinaryClassification`` | ``MulticlassClassification`` | ``Regression``.
        inference_attribute, probability_attribute: where the prediction is (see the module);
            a regression needs ``inference_attribute``, a multiclass model ``inference_attribute``.
        probability_threshold: turns a binary score into a label (0.5 when a score is read).
        constraints_key: the model-quality baseline's constraints (an S3 key in the monitor's
            baseline bucket); without it the job publishes metrics without violation checks.
        start_time_offset, end_time_offset: the window of captured data whose labels have
            arrived, e.g. ``"-P2D"`` and ``"-P1D"``.
        schedule: daily at midnight UTC by default.
    """

    problem_type: str = "BinaryClassification"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        require_choice(owner, "problem_type", self.problem_type, PROBLEM_TYPES)
        self._check_labelled_predictions(owner, self.problem_type)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BiasOptions(_LabelledPredictions):
    """What a ``BiasMonitor`` (SageMaker Clarify) checks: the bias of a binary classifier on a facet.

    Attributes:
        facet_name: the sensitive attribute(s): a column name or 0-based index, or a list of them.
        label_values_or_threshold: the positive outcome (default ``[1]``).
        facet_values_or_threshold: the facet values (or threshold) of the sensitive group.
        group_variable, label: optional columns of the Clarify bias config.
        headers: the feature column names, in order.
        features_attribute, inference_attribute, probability_attribute, probability_threshold:
            where the features and the prediction are in the captured data (see the module).
        constraints_key, start_time_offset, end_time_offset, schedule: as in :class:`ModelQualityOptions`.

    Literal values only: the analysis config is written at synth time and shipped as an asset.
    """

    facet_name: str | int | Sequence[str | int]
    label_values_or_threshold: Sequence[int | float | str] = (1,)
    facet_values_or_threshold: Sequence[int | float | str] | None = None
    group_variable: str | int | None = None
    headers: Sequence[str] | None = None
    label: str | int | None = None
    features_attribute: str | None = None

    def __post_init__(self) -> None:
        owner = type(self).__name__
        _values(owner, "label_values_or_threshold", self.label_values_or_threshold)
        _facets(owner, self.facet_name, self.facet_values_or_threshold)
        _column(owner, "group_variable", self.group_variable, optional=True)
        _headers(owner, self.headers)
        _column(owner, "label", self.label, optional=True)
        _attribute(owner, "features_attribute", self.features_attribute)
        self._check_labelled_predictions(owner, "BinaryClassification")

    def analysis_config(self) -> dict[str, Any]:
        """The Clarify bias analysis config (``analysis_config.json``)."""
        names = _as_list(self.facet_name)
        values = None if self.facet_values_or_threshold is None else list(self.facet_values_or_threshold)
        if len(names) == 1:
            facets = [{"name_or_index": names[0], **({"value_or_threshold": values} if values is not None else {})}]
        else:
            facets = [{"name_or_index": n, **({"value_or_threshold": [values[i]]} if values is not None else {})}
                      for i, n in enumerate(names)]
        config: dict[str, Any] = {"label_values_or_threshold": list(self.label_values_or_threshold), "facet": facets}
        for key in ("group_variable", "label"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        if self.headers is not None:
            config["headers"] = list(self.headers)
        return config


@dataclasses.dataclass(frozen=True)
class FeatureAttributionOptions:
    """What a ``FeatureAttributionMonitor`` (SageMaker Clarify SHAP) explains, and on which shadow endpoint.

    Attributes:
        model_name: the SageMaker model Clarify serves on its temporary shadow endpoint.
        shap_baseline: rows of feature values, e.g. ``[X_train.median().tolist()]``.
        num_samples (100), agg_method (``mean_abs``), use_logit (False): the SHAP config.
        headers: the feature column names, one per baseline value.
        accept_type: what the model returns (requests are CSV).
        shadow_instance_type, shadow_instance_count: the shadow endpoint's instances.
        features_attribute, inference_attribute, probability_attribute: where features and
            prediction are in the captured data.
        constraints_key, schedule: as in :class:`ModelQualityOptions`.

    Literal values only: the analysis config is written at synth time and shipped as an asset.
    """

    model_name: str
    shap_baseline: Sequence[Sequence[float | int | str]]
    num_samples: int = 100
    agg_method: str = "mean_abs"
    use_logit: bool = False
    headers: Sequence[str] | None = None
    accept_type: str = "text/csv"
    shadow_instance_type: str = "ml.m5.xlarge"
    shadow_instance_count: int = 1
    features_attribute: str | None = None
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    constraints_key: str | None = None
    schedule: MonitorSchedule = dataclasses.field(default_factory=MonitorSchedule.daily)

    def __post_init__(self) -> None:
        owner = type(self).__name__
        if is_token(self.model_name):
            raise invalid(owner, "model_name", self.model_name,
                          "a literal model name (the analysis config is written at synth time)")
        require_sagemaker_name(owner, "model_name", self.model_name, max_length=contract.MAX_MODEL_NAME)
        _shap_baseline(owner, self.shap_baseline, self.headers)
        require_int(owner, "num_samples", self.num_samples, minimum=1)
        require_choice(owner, "agg_method", self.agg_method, SHAP_AGG_METHODS)
        require_bool(owner, "use_logit", self.use_logit)
        _headers(owner, self.headers)
        require_choice(owner, "accept_type", self.accept_type, ACCEPT_TYPES)
        require_instance_type(owner, "shadow_instance_type", self.shadow_instance_type)
        require_int(owner, "shadow_instance_count", self.shadow_instance_count, minimum=1)
        for prop in ("features_attribute", "inference_attribute", "probability_attribute"):
            _attribute(owner, prop, getattr(self, prop))
        _optional_key(owner, "constraints_key", self.constraints_key)
        _schedule(owner, self.schedule)

    def analysis_config(self) -> dict[str, Any]:
        """The Clarify explainability analysis config (``analysis_config.json``)."""
        config: dict[str, Any] = {
            "methods": {"shap": {
                "baseline": [list(row) for row in self.shap_baseline],
                "num_samples": self.num_samples,
                "agg_method": self.agg_method,
                "use_logit": self.use_logit,
                "save_local_shap_values": False,
            }},
            "predictor": {
                "model_name": self.model_name,
                "instance_type": self.shadow_instance_type,
                "initial_instance_count": self.shadow_instance_count,
                "content_type": "text/csv",
                "accept_type": self.accept_type,
                "endpoint_name_prefix": SHADOW_ENDPOINT_PREFIX,
            },
        }
        if self.headers is not None:
            config["headers"] = list(self.headers)
        return config


# ---------------------------------------------------------------- checks
def _schedule(owner: str, schedule: Any) -> None:
    if not isinstance(schedule, MonitorSchedule):
        raise invalid(owner, "schedule", schedule, "MonitorSchedule.hourly() | .daily(hour) | .every(hours)")


def _optional_key(owner: str, prop: str, value: Any) -> None:
    if value is not None:
        require_object_key(owner, prop, value)


def _attribute(owner: str, prop: str, value: Any) -> None:
    if value is None or is_token(value):
        return
    if not isinstance(value, str) or not value.strip() or len(value) > _ATTRIBUTE_MAX:
        raise invalid(owner, prop, value, f"a CSV column index like '0' or a JSONPath, 1-{_ATTRIBUTE_MAX} characters")


def _prediction(options: Any, owner: str, problem_type: str) -> None:
    """Check where the prediction is; fill in the default score column and probability threshold."""
    inference, probability, threshold = (options.inference_attribute, options.probability_attribute,
                                         options.probability_threshold)
    _attribute(owner, "inference_attribute", inference)
    _attribute(owner, "probability_attribute", probability)
    if problem_type == "BinaryClassification" and inference is None and probability is None:
        probability = _DEFAULT_SCORE_COLUMN
        object.__setattr__(options, "probability_attribute", probability)
    if problem_type != "BinaryClassification" and inference is None:
        raise invalid(owner, "inference_attribute", None,
                      f"the predicted value's location (required for {problem_type})")
    if problem_type == "Regression" and probability is not None:
        raise invalid(owner, "probability_attribute", probability, "None for Regression")
    if threshold is None:
        if problem_type == "BinaryClassification" and probability is not None:
            object.__setattr__(options, "probability_threshold", _DEFAULT_PROBABILITY_THRESHOLD)
        return
    if problem_type != "BinaryClassification" or probability is None:
        raise invalid(owner, "probability_threshold", threshold,
                      "None unless a binary classifier's probability_attribute is read")
    object.__setattr__(options, "probability_threshold", require_number(
        owner, "probability_threshold", threshold, minimum=0, maximum=1))


def _offset_seconds(value: str) -> int:
    match = _OFFSET_RE.match(value)
    assert match is not None
    d, h, m = (int(match.group(k) or 0) for k in "dhm")
    return -(d * 86400 + h * 3600 + m * 60)


def _offsets(owner: str, start: Any, end: Any) -> None:
    for prop, value in (("start_time_offset", start), ("end_time_offset", end)):
        if value is not None:
            require_pattern(owner, prop, value, _OFFSET_RE,
                            "a negative ISO-8601 duration like '-PT1H', '-P1D' or '-P1DT12H'")
    if start is not None and end is not None and not is_token(start) and not is_token(end):
        if _offset_seconds(start) >= _offset_seconds(end):
            raise invalid(owner, "start_time_offset", start, f"an offset earlier than end_time_offset ({end})")


def _literal(value: Any) -> bool:
    return not (isinstance(value, str) and is_token(value))


def _values(owner: str, prop: str, values: Any) -> None:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise invalid(owner, prop, values, "a non-empty list of label values (or one threshold), e.g. [1]")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or not _literal(value) or (
                isinstance(value, float) and not math.isfinite(value)):
            raise invalid(owner, prop, values, "literal numbers or strings")


def _column(owner: str, prop: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not (
            (isinstance(value, str) and value.strip() and _literal(value)) or (isinstance(value, int) and value >= 0)):
        raise invalid(owner, prop, value, "a literal column name or a 0-based column index")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def _facets(owner: str, name: Any, values: Any) -> None:
    names = _as_list(name)
    if not names:
        raise invalid(owner, "facet_name", name, "a column name or index, or a non-empty list of them")
    for single in names:
        _column(owner, "facet_name", single)
    if values is not None:
        _values(owner, "facet_values_or_threshold", values)
        if len(names) > 1 and len(values) != len(names):
            raise invalid(owner, "facet_values_or_threshold", values, f"one value per facet ({len(names)})")


def _headers(owner: str, headers: Any) -> None:
    if headers is None:
        return
    if isinstance(headers, str) or not isinstance(headers, Sequence) or not headers or not all(
            isinstance(h, str) and h.strip() and _literal(h) for h in headers) or len(set(headers)) != len(headers):
        raise invalid(owner, "headers", headers, "a non-empty list of distinct literal column names")


def _shap_baseline(owner: str, baseline: Any, headers: Any) -> None:
    allowed = "rows of literal feature values, e.g. [X_train.median().tolist()]"
    if isinstance(baseline, (str, bytes)) or not isinstance(baseline, Sequence) or not baseline:
        raise invalid(owner, "shap_baseline", baseline, allowed)
    width = None
    for row in baseline:
        if isinstance(row, str) or not isinstance(row, Sequence) or not row or any(
                isinstance(v, bool) or not isinstance(v, (int, float, str)) or not _literal(v)
                or (isinstance(v, float) and not math.isfinite(v)) for v in row):
            raise invalid(owner, "shap_baseline", baseline, allowed)
        if width is not None and len(row) != width:
            raise invalid(owner, "shap_baseline", baseline, "rows of equal length")
        width = len(row)
    if isinstance(headers, Sequence) and not isinstance(headers, str) and len(headers) != width:
        raise invalid(owner, "shap_baseline", baseline, f"rows of {len(headers)} values (one per header)")


__all__ = [
    "ACCEPT_TYPES",
    "PROBLEM_TYPES",
    "SHADOW_ENDPOINT_PREFIX",
    "BiasOptions",
    "FeatureAttributionOptions",
    "ModelQualityOptions",
    "MonitorSchedule",
]
