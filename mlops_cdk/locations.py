"""The layout of the platform data bucket: one place that says where each kind of data lives.

Every producer and consumer (pipeline steps, endpoints, monitors, the drift
checker, retraining triggers, IAM grants scoped to a prefix) takes its prefix
from here, so a grant can never drift apart from the path it protects.
Prefixes end with ``/`` and never start with one.
"""

from __future__ import annotations

TRAINING_DATA = "training-data/"  # new objects here trigger new-data retraining
# Pipeline step outputs go under "<pipeline name>/<execution id>/" (TrainingPipeline.artifact_prefix).
BASELINES = "baselines/"  # latest baselines the training pipeline produced
DATA_CAPTURE = "data-capture/"  # endpoint data capture: <prefix><endpoint>/<variant>/yyyy/mm/dd/hh/
GROUND_TRUTH = "ground-truth/"  # labels merged with captured predictions for model quality
MONITORING_REPORTS = "monitoring/"  # Model Monitor and Clarify execution outputs
DRIFT_REPORTS = "drift-reports/"  # the own drift checker's JSON reports
QUALITY_REPORTS = "quality-reports/"  # the own model-quality checker's JSON reports
BIAS_REPORTS = "bias-reports/"  # the own bias-drift checker's JSON reports
FEATURE_STORE = "feature-store/"  # offline store of feature groups
STUDIO = "studio/"  # what Studio users write (their execution role reads the whole bucket)

# The baselines of the latest *approved* model version: each pipeline run
# registers its own under its artifact prefix, and BaselinePublisher copies them
# here on approval, so monitors always compare against the model in service.
DATA_QUALITY_STATISTICS = f"{BASELINES}data-quality/statistics.json"
DATA_QUALITY_CONSTRAINTS = f"{BASELINES}data-quality/constraints.json"
DRIFT_BASELINE = f"{BASELINES}drift/baseline_histogram.json"
BIAS_BASELINE = f"{BASELINES}bias/bias_baseline.json"  # post-training bias of the approved version's test split
# Which approved model version the files above come from (BaselinePublisher).
BASELINE_MANIFEST = f"{BASELINES}current.json"


def pipeline_artifacts(pipeline_name: str) -> str:
    """Where a pipeline's executions write: ``<pipeline name>/<execution id>/<step>/...``."""
    return f"{pipeline_name}/"


def key_prefix(prefix: str) -> str:
    """``prefix`` as a key prefix: no leading slash, one trailing slash (empty stays empty)."""
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def s3_uri(bucket_name: str, key: str) -> str:
    """``s3://bucket/key`` (``bucket_name`` may be a token)."""
    return f"s3://{bucket_name}/{key}"
