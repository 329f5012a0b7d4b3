"""The Model Monitor job options that cdk.json's quality keys imply, for accounts that still have Model Monitor.

``-c monitoring_mode=model_monitor`` (or ``both``) with ``ground_truth_s3_uri``,
``bias_facets`` and ``explainability`` synthesizes the model-quality, bias and
feature-attribution jobs from configuration alone; these functions turn those keys into
the typed options the monitors take. Plain data: imports no construct.
"""

from __future__ import annotations

from collections.abc import Sequence

from .bias import BiasFacet
from .explainability import Explainability
from .monitoring import BiasOptions, FeatureAttributionOptions, ModelQualityOptions, MonitorSchedule, label_offsets

# Model Monitor's jobs merge labels once a day, like the own checkers' default window.
JOB_WINDOW_HOURS = 24


def model_quality_options(problem_type: str, delay_hours: int) -> ModelQualityOptions:
    """A daily model-quality job over the day whose labels have had ``delay_hours`` to arrive.

    A multiclass or regression model's prediction is read from column 0 of the captured
    output (the own checker's default too); a binary classifier's score from column 0, thresholded at 0.5.
    """
    start, end = label_offsets(delay_hours, JOB_WINDOW_HOURS)
    inference = None if problem_type == "BinaryClassification" else "0"
    return ModelQualityOptions(problem_type=problem_type, inference_attribute=inference,
                               start_time_offset=start, end_time_offset=end, schedule=MonitorSchedule.daily())


def bias_options(facet: BiasFacet, headers: Sequence[str], delay_hours: int) -> BiasOptions:
    """A daily Clarify bias job for one facet; the columns are named by ``headers`` (the captured input's)."""
    start, end = label_offsets(delay_hours, JOB_WINDOW_HOURS)
    return BiasOptions(facet_name=facet.facet, facet_values_or_threshold=list(facet.values_or_threshold),
                       label_values_or_threshold=list(facet.label_values_or_threshold), headers=list(headers),
                       start_time_offset=start, end_time_offset=end, schedule=MonitorSchedule.daily())


def feature_attribution_options(explainability: Explainability, model_name: str,
                                headers: Sequence[str]) -> FeatureAttributionOptions:
    """A daily Clarify SHAP job explaining ``model_name`` (the served SageMaker model) on a shadow endpoint."""
    return FeatureAttributionOptions(
        model_name=model_name, shap_baseline=[list(row) for row in explainability.shap_baseline],
        num_samples=explainability.num_samples, agg_method=explainability.agg_method,
        use_logit=explainability.use_logit, headers=list(headers), schedule=MonitorSchedule.daily())


__all__ = ["JOB_WINDOW_HOURS", "bias_options", "feature_attribution_options", "model_quality_options"]
