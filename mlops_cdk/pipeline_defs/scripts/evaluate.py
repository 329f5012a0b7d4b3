"""Pipeline step ``EvaluateModel``: score the test split and write ``evaluation.json``.

Runs in SageMaker's XGBoost container (xgboost, numpy and pandas installed)
with this directory's files under ``/opt/ml/processing/input/code``.

Inputs: ``--model-dir`` holds ``model.tar.gz`` of the built-in XGBoost
algorithm (the booster saved as ``xgboost-model``); ``--test-dir`` holds the
test split written by ``preprocess.py`` (label first, no header).

Output: ``--output-dir/evaluation.json`` in SageMaker's model-quality report
format. The format is a contract: ``CheckAccuracy`` reads
``binary_classification_metrics.accuracy.value``, ``RegisterModel`` attaches the
file to the model package, and the approval Lambda reads it from there::

    {"binary_classification_metrics": {
        "accuracy":  {"value": 0.97, "standard_deviation": "NaN"},
        "precision": {...}, "recall": {...}, "f1": {...}, "auc": {...}}}

With ``--bias-facets`` (the pipeline built with bias facets) it also writes
``bias_baseline.json``, the model's post-training bias on the same predictions
(``bias_baseline.py``), which ``RegisterModel`` records on the model package.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

import bias_baseline

PROCESSING = pathlib.Path("/opt/ml/processing")
MODEL_FILE = "xgboost-model"
METRICS = ("accuracy", "precision", "recall", "f1", "auc")


def compute_metrics(y_true: Sequence[float], y_score: Sequence[float], threshold: float = 0.5) -> dict[str, Any]:
    """The evaluation report of scores ``y_score`` (P(fraud)) against 0/1 labels ``y_true``.

    A score >= ``threshold`` predicts fraud. Precision and F1 are 0 when nothing
    is predicted positive (scikit-learn's convention). AUC needs both classes.
    """
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_score = np.asarray(y_score, dtype=float).ravel()
    if y_true.size == 0 or y_true.size != y_score.size:
        raise ValueError(f"need as many scores as labels, at least one; got {y_true.size} and {y_score.size}")
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1; found {sorted(set(y_true[~np.isin(y_true, (0, 1))]))[:5]}")
    if not np.isfinite(y_score).all():
        raise ValueError("scores must be finite numbers")
    positives = y_true == 1
    if positives.all() or not positives.any():
        raise ValueError("the test set needs both classes (0 and 1) to compute recall and AUC")

    predicted = y_score >= threshold
    tp = float(np.sum(predicted & positives))
    fp = float(np.sum(predicted & ~positives))
    fn = float(np.sum(~predicted & positives))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn)
    values = {
        "accuracy": float(np.mean(predicted == positives)),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "auc": _roc_auc(positives, y_score),
    }
    return {"binary_classification_metrics": {m: {"value": values[m], "standard_deviation": "NaN"} for m in METRICS}}


def _roc_auc(positives: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the ROC curve as the Mann-Whitney U statistic (ties count one half)."""
    _, inverse, counts = np.unique(y_score, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    ranks = ((last - counts + 1 + last) / 2)[inverse]  # 1-based average ranks
    n_pos = float(positives.sum())
    n_neg = float(positives.size) - n_pos
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def read_test(test_dir: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(test_dir.rglob("*.csv"))
    if not files:
        raise ValueError(f"no *.csv file under test directory {test_dir}")
    data = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    if data.shape[1] < 2:
        raise ValueError(f"test data needs the label and at least one feature column; got {data.shape[1]} column(s)")
    return data.iloc[:, 0].to_numpy(), data.iloc[:, 1:].to_numpy(dtype=float)


def load_model(model_dir: pathlib.Path) -> Callable[[np.ndarray], np.ndarray]:
    """A predict function for the XGBoost booster in ``model_dir/model.tar.gz``."""
    import xgboost  # only in the XGBoost container, not a dependency of the library

    with tarfile.open(model_dir / "model.tar.gz") as archive:
        member = next((m for m in archive.getmembers() if pathlib.PurePath(m.name).name == MODEL_FILE), None)
        if member is None:
            raise ValueError(f"{MODEL_FILE!r} not found in {model_dir / 'model.tar.gz'}: {archive.getnames()}")
        payload = archive.extractfile(member).read()
    booster = xgboost.Booster()
    with tempfile.TemporaryDirectory() as scratch:
        path = pathlib.Path(scratch, MODEL_FILE)
        path.write_bytes(payload)
        booster.load_model(str(path))
    return lambda features: booster.predict(xgboost.DMatrix(features))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=pathlib.Path, default=PROCESSING / "model")
    parser.add_argument("--test-dir", type=pathlib.Path, default=PROCESSING / "test")
    parser.add_argument("--output-dir", type=pathlib.Path, default=PROCESSING / "evaluation")
    parser.add_argument("--threshold", type=float, default=0.5)
    bias_baseline.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    labels, features = read_test(args.test_dir)
    scores = load_model(args.model_dir)(features)
    report = compute_metrics(labels, scores, args.threshold)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "evaluation.json").write_text(json.dumps(report, indent=2))
    print(f"EvaluateModel: {json.dumps(report)}")
    bias = bias_baseline.write_baseline(args, labels, features, scores, args.threshold)
    if bias is not None:
        print(f"EvaluateModel: bias baseline {json.dumps(bias)}")
    return report


if __name__ == "__main__":
    main()
