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
    require_sagemaker_name,
)
from ..lambdas._shared import contract
from . import _monitoring_checks as checks

PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
SHAP_AGG_METHODS = ("mean_abs", "median", "mean_sq")
ACCEPT_TYPES = ("text/csv", "application/jsonlines", "application/json")
# Clarify names its temporary shadow endpoints (and their configs) with this prefix.
SHADOW_ENDPOINT_PREFIX = "mlops-clarify-shadow"


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
def label_offsets(delay_hours: int, window_hours: int) -> tuple[str, str]:
    """(StartTimeOffset, EndTimeOffset): the ``window_hours`` of traffic that ended ``delay_hours`` ago."""
    return f"-PT{delay_hours + window_hours}H", f"-PT{delay_hours}H"


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
        checks.prediction(self, owner, problem_type)
        checks.optional_key(owner, "constraints_key", self.constraints_key)
        checks.offsets(owner, self.start_time_offset, self.end_time_offset)
        _schedule(owner, self.schedule)
        if self.start_time_offset is None and self.end_time_offset is None:
            # Labels arrive late ("Ground Truth labels could be delayed. To address this, specify offsets"):
            # by default each run analyses the interval that ended one interval before it.
            start, end = label_offsets(self.schedule.interval_hours, self.schedule.interval_hours)
            object.__setattr__(self, "start_time_offset", start)
            object.__setattr__(self, "end_time_offset", end)


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
        start_time_offset, end_time_offset: the window of captured data a run analyses, relative
            to the run (ISO 8601, e.g. ``"-P8D"`` and ``"-P1D"`` for labels that take a week).
            When neither is given: the schedule interval that ended one interval ago
            (``-PT<2i>H`` to ``-PT<i>H``, daily: ``-PT48H`` to ``-PT24H``), so a day's labels
            have a day to arrive; ``i`` is ``schedule.interval_hours``, the shortest gap.
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
        headers: the column names, in order. Required when ``facet_name``, ``label`` or
            ``group_variable`` is given by name: captured CSV has no header row to find it in
            (AWS's bias-drift examples pass ``headers`` with named facets); named facets and
            ``group_variable`` must be among them.
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
        checks.values_list(owner, "label_values_or_threshold", self.label_values_or_threshold)
        checks.facets(owner, self.facet_name, self.facet_values_or_threshold)
        checks.column(owner, "group_variable", self.group_variable, optional=True)
        checks.headers_list(owner, self.headers)
        checks.column(owner, "label", self.label, optional=True)
        checks.named_columns(owner, self.headers, facet_name=self.facet_name, group_variable=self.group_variable,
                             label=self.label)
        checks.attribute(owner, "features_attribute", self.features_attribute)
        self._check_labelled_predictions(owner, "BinaryClassification")

    def analysis_config(self) -> dict[str, Any]:
        """The Clarify bias analysis config (``analysis_config.json``)."""
        names = checks.as_list(self.facet_name)
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
        checks.shap_baseline(owner, self.shap_baseline, self.headers)
        require_int(owner, "num_samples", self.num_samples, minimum=1)
        require_choice(owner, "agg_method", self.agg_method, SHAP_AGG_METHODS)
        require_bool(owner, "use_logit", self.use_logit)
        checks.headers_list(owner, self.headers)
        require_choice(owner, "accept_type", self.accept_type, ACCEPT_TYPES)
        require_instance_type(owner, "shadow_instance_type", self.shadow_instance_type)
        require_int(owner, "shadow_instance_count", self.shadow_instance_count, minimum=1)
        for prop in ("features_attribute", "inference_attribute", "probability_attribute"):
            checks.attribute(owner, prop, getattr(self, prop))
        checks.optional_key(owner, "constraints_key", self.constraints_key)
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


__all__ = [
    "ACCEPT_TYPES",
    "PROBLEM_TYPES",
    "SHADOW_ENDPOINT_PREFIX",
    "BiasOptions",
    "FeatureAttributionOptions",
    "ModelQualityOptions",
    "MonitorSchedule",
    "label_offsets",
]
