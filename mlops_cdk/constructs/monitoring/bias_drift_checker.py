"""The library's own bias-drift checker: Clarify's post-training bias metrics on captured predictions, on a schedule.

Course 11.6 monitors bias drift with SageMaker Clarify, which (as Model Monitor) AWS no
longer opens to new customers. This checker computes, per facet, the difference in positive
proportions in predicted labels (DPPL) and disparate impact (DI) of the endpoint's captured
predictions, and with ground truth the recall (RD) and accuracy (AD) differences, and
compares each with the same metric of the approved model on its test split (the bias
baseline the training pipeline writes and ``BaselinePublisher`` copies to
``baselines/bias/bias_baseline.json``). ``BiasDrift`` is how much further from parity the
live value is than the baseline's: Clarify's bias-drift rule, with a tolerance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ... import locations
from ..._validation import invalid, require_feature_names, require_fraction, require_object_key
from ...lambdas._shared import contract
from ...settings.bias import BiasFacet, bias_facets
from .prediction_checker import PredictionChecker

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .prediction_checker import PredictionCheckerProps

_OWNER = "BiasDriftChecker"


class BiasDriftChecker(PredictionChecker):
    """Every ``window``, the post-training bias of the endpoint's predictions per facet, against a baseline.

    Props (besides ``PredictionCheckerProps``):
      * ``facets`` -- one to ten ``BiasFacet``\\ s (or their JSON): the input column, its sensitive
        group, the positive outcome (see ``mlops_cdk.settings.bias``);
      * ``feature_names`` -- the captured input's columns in order (finds each facet);
      * ``ground_truth_bucket`` -- where labels are (under ``ground_truth_prefix``); without it
        only DPPL and DI are computed;
      * ``baseline_bucket`` (default: the capture bucket) / ``baseline_key``
        (``locations.BIAS_BASELINE``) -- the bias baseline; until one exists, values are
        published without drift;
      * ``drift_threshold`` (0.1) -- the ``BiasDrift`` at which the report records a violation
        (and ``ModelAlarms`` alarms).

    Exposes ``facets``, ``metric_bias_value(facet, metric)``, ``metric_bias_drift(facet, metric)``,
    ``metric_max_bias_drift(facet)``, the run counters, ``function``, ``rule``, ``environment``.
    """

    CHECK = "bias_drift"
    OWNER = _OWNER

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        facets: Sequence[BiasFacet],
        feature_names: Sequence[str],
        ground_truth_bucket: s3.IBucket | None = None,
        baseline_bucket: s3.IBucket | None = None,
        baseline_key: str = locations.BIAS_BASELINE,
        drift_threshold: float = 0.1,
        **props: Unpack[PredictionCheckerProps],
    ) -> None:
        features = require_feature_names(_OWNER, "feature_names", feature_names)
        if not facets:
            raise invalid(_OWNER, "facets", facets, "one or more BiasFacet")
        checked = bias_facets(facets, owner=_OWNER, key="facets", feature_names=features)
        require_object_key(_OWNER, "baseline_key", baseline_key)
        threshold = require_fraction(_OWNER, "drift_threshold", drift_threshold)
        baseline = baseline_bucket or props.get("capture_bucket")
        environment = {
            "FEATURE_NAMES": ",".join(features),
            "BIAS_FACETS": json.dumps([f.as_json() for f in checked], separators=(",", ":")),
            "BIAS_DRIFT_THRESHOLD": repr(threshold),
        }
        if baseline is not None:
            environment["BIAS_BASELINE_S3_URI"] = locations.s3_uri(baseline.bucket_name, baseline_key)
        super().__init__(scope, id, ground_truth_bucket=ground_truth_bucket, environment=environment,
                         description="Post-training bias (DPPL, DI, RD, AD) of the endpoint's captured predictions",
                         **props)
        self.facets = checked
        self.drift_threshold = threshold
        if baseline is not None:
            self.access.read_object("BiasBaseline", baseline, baseline_key,
                                    baseline.encryption_key or props.get("encryption_key"))
        self._schedule()

    def _facet(self, facet: str) -> dict[str, str]:
        if facet not in [f.facet for f in self.facets]:
            raise invalid(_OWNER, "facet", facet, " | ".join(f.facet for f in self.facets))
        return {contract.DIMENSION_FACET: facet}

    def _bias_metric(self, name: str, facet: str, metric: str, props: dict[str, Any]) -> cloudwatch.Metric:
        if metric not in contract.BIAS_METRICS:
            raise invalid(_OWNER, "metric", metric, " | ".join(contract.BIAS_METRICS))
        props.setdefault("statistic", "Maximum")
        return self.metric(name, dimensions={**self._facet(facet), contract.DIMENSION_BIAS_METRIC: metric}, **props)

    def metric_bias_value(self, facet: str, metric: str, **props: Any) -> cloudwatch.Metric:
        """The value of one bias metric (``DPPL``, ``DI``, ``RD``, ``AD``) of one facet (``BiasValue``)."""
        return self._bias_metric(contract.METRIC_BIAS_VALUE, facet, metric, props)

    def metric_bias_drift(self, facet: str, metric: str, **props: Any) -> cloudwatch.Metric:
        """How much further from parity than the baseline one metric of one facet is (``BiasDrift``)."""
        return self._bias_metric(contract.METRIC_BIAS_DRIFT, facet, metric, props)

    def metric_max_bias_drift(self, facet: str, **props: Any) -> cloudwatch.Metric:
        """The largest ``BiasDrift`` of one facet (``MaxBiasDrift``, Maximum per window)."""
        props.setdefault("statistic", "Maximum")
        return self.metric(contract.METRIC_MAX_BIAS_DRIFT, dimensions=self._facet(facet), **props)


__all__ = ["BiasDriftChecker"]
