"""Model-quality metrics of the joined records, computed as scikit-learn computes them.

Every metric reads small aggregates or a stream of joined rows from the ``JoinStore``:

* binary classification (positive class 1): accuracy, precision, recall, F1 (``zero_division=0``)
  from the four confusion counts; AUC, when scores exist and both classes are present, exactly,
  as the Mann-Whitney statistic over ``GROUP BY score`` counts (ties count one half), which is
  the area under the ROC curve ``roc_auc_score`` integrates;
* multiclass: accuracy and support-weighted precision, recall and F1 (``average="weighted"``,
  ``zero_division=0``) from the confusion cells, at most ``contract.MAX_CLASSES`` classes;
* regression: MAE, MSE, RMSE and R² (undefined for fewer than two labels or labels without
  variance) from one pass with compensated sums and Welford's variance.

An undefined metric is None (not published).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import contract
from join_store import JoinStore
from quality_config import BINARY, MULTICLASS

MAX_REPORTED_MATRIX = 20  # classes up to which the report carries the whole confusion matrix


def quality(store: JoinStore, problem_type: str, *, has_scores: bool) -> tuple[dict[str, float | None], dict[str, Any]]:
    """(metric name -> value or None, details for the report) of the ``matched`` records."""
    if problem_type == BINARY:
        return binary(store, has_scores)
    if problem_type == MULTICLASS:
        return multiclass(store)
    return regression(store.rows("SELECT pred, label FROM matched"))


def binary(store: JoinStore, has_scores: bool) -> tuple[dict[str, float | None], dict[str, Any]]:
    cells = {(int(p), int(t)): n for p, t, n in store.rows("SELECT pred, label, COUNT(*) FROM matched GROUP BY 1, 2")}
    tp, fp, fn, tn = (cells.get(k, 0) for k in ((1, 1), (1, 0), (0, 1), (0, 0)))
    total = tp + fp + fn + tn
    auc = None
    if has_scores and tp + fn and fp + tn:
        auc = roc_auc(store.rows("SELECT score, SUM(label), COUNT(*) FROM matched GROUP BY score ORDER BY score"))
    metrics = {
        contract.METRIC_ACCURACY: (tp + tn) / total,
        contract.METRIC_PRECISION: tp / (tp + fp) if tp + fp else 0.0,
        contract.METRIC_RECALL: tp / (tp + fn) if tp + fn else 0.0,
        contract.METRIC_F1: 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        contract.METRIC_AUC: auc,
    }
    details = {"confusion_matrix": {"true_negative": tn, "false_positive": fp, "false_negative": fn,
                                    "true_positive": tp},
               "positive_labels": tp + fn, "positive_predictions": tp + fp}
    return metrics, details


def roc_auc(groups: Iterable[tuple[float, int, int]]) -> float:
    """AUC from (score, positives, records) groups in ascending score order: P(score+ > score-) + P(tie) / 2."""
    wins2 = 0  # twice the Mann-Whitney U: integers stay exact
    negatives_below = positives = negatives = 0
    for _, pos, count in groups:
        neg = count - pos
        wins2 += pos * (2 * negatives_below + neg)
        negatives_below += neg
        positives += pos
        negatives += neg
    return wins2 / (2 * positives * negatives)


def multiclass(store: JoinStore) -> tuple[dict[str, float | None], dict[str, Any]]:
    classes = store.scalar("SELECT COUNT(*) FROM (SELECT pred FROM matched UNION SELECT label FROM matched)")
    if classes > contract.MAX_CLASSES:
        undefined = dict.fromkeys((contract.METRIC_ACCURACY, contract.METRIC_PRECISION, contract.METRIC_RECALL,
                                   contract.METRIC_F1))
        return undefined, {"classes": classes, "too_many_classes": f"more than {contract.MAX_CLASSES} classes: "
                                                                   "no metric computed"}
    support: dict[str, int] = {}
    predicted: dict[str, int] = {}
    correct: dict[str, int] = {}
    cells: list[tuple[str, str, int]] = []
    for true, pred, count in store.rows("SELECT label, pred, COUNT(*) FROM matched GROUP BY 1, 2"):
        support[true] = support.get(true, 0) + count
        predicted[pred] = predicted.get(pred, 0) + count
        if true == pred:
            correct[true] = count
        if classes <= MAX_REPORTED_MATRIX:
            cells.append((true, pred, count))
    total = sum(support.values())
    per_class: dict[str, dict[str, float | int]] = {}
    weighted = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    for label in sorted(set(support) | set(predicted), key=_class_order):
        tp, n_true, n_pred = correct.get(label, 0), support.get(label, 0), predicted.get(label, 0)
        scores = {"precision": tp / n_pred if n_pred else 0.0, "recall": tp / n_true if n_true else 0.0,
                  "f1": 2 * tp / (n_true + n_pred) if n_true + n_pred else 0.0}
        for name, value in scores.items():
            weighted[name] += value * n_true
        per_class[label] = {"support": n_true, "predicted": n_pred, "correct": tp, **scores}
    metrics = {
        contract.METRIC_ACCURACY: sum(correct.values()) / total,
        contract.METRIC_PRECISION: weighted["precision"] / total,
        contract.METRIC_RECALL: weighted["recall"] / total,
        contract.METRIC_F1: weighted["f1"] / total,
    }
    details: dict[str, Any] = {"classes": classes, "per_class": per_class}
    if cells:
        labels = list(per_class)
        at = {label: i for i, label in enumerate(labels)}
        matrix = [[0] * len(labels) for _ in labels]
        for true, pred, count in cells:
            matrix[at[true]][at[pred]] = count
        details["confusion_matrix"] = {"labels": labels, "rows": "true label", "columns": "predicted label",
                                       "matrix": matrix}
    return metrics, details


def _class_order(label: str) -> tuple[int, float, str]:
    try:
        return 0, float(label), label
    except ValueError:
        return 1, 0.0, label


class _Sum:
    """Neumaier's compensated sum: a stream of floats adds up as exactly as math.fsum, nearly."""

    __slots__ = ("total", "compensation")

    def __init__(self) -> None:
        self.total = self.compensation = 0.0

    def add(self, value: float) -> None:
        total = self.total + value
        if abs(self.total) >= abs(value):
            self.compensation += (self.total - total) + value
        else:
            self.compensation += (value - total) + self.total
        self.total = total

    @property
    def value(self) -> float:
        # Past the float range the total is inf and the compensation NaN (inf - inf): the sum is inf.
        return self.total + self.compensation if math.isfinite(self.total) else self.total


def regression(pairs: Iterable[tuple[float, float]]) -> tuple[dict[str, float | None], dict[str, Any]]:
    """MAE, MSE, RMSE, R² of (prediction, label) pairs, in one pass."""
    n = 0
    mean = 0.0
    spread = _Sum()  # sum of squared deviations of the labels from their mean (Welford)
    absolute, squared = _Sum(), _Sum()
    for pred, label in pairs:
        n += 1
        delta = label - mean
        mean += delta / n
        spread.add(delta * (label - mean))
        error = label - pred
        absolute.add(abs(error))
        squared.add(error * error)
    mse = squared.value / n
    total_spread = spread.value
    metrics = {
        contract.METRIC_MAE: absolute.value / n,
        contract.METRIC_MSE: mse,
        contract.METRIC_RMSE: math.sqrt(mse),
        contract.METRIC_R2: 1.0 - squared.value / total_spread if n >= 2 and total_spread > 0 else None,
    }
    return metrics, {"label_mean": mean, "label_variance": total_spread / n}
