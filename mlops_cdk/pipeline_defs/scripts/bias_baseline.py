"""Post-training bias of the model on its test split: the baseline of the own bias-drift checker.

``evaluate.py`` scores the test split and, when the pipeline was built with bias
facets, hands the facet columns, the predicted labels and the true labels to
this module, which writes ``bias_baseline.json`` next to ``evaluation.json``.
The checker computes the same metrics on captured traffic and reports how much
further from parity the live model is than this baseline.

Definitions (SageMaker Clarify's post-training bias metrics,
docs.aws.amazon.com/sagemaker/latest/dg/clarify-measure-post-training-bias.html and its
clarify-post-training-bias-metric-{dppl,di,rd,ad} pages):

- group *d* (sensitive): records whose facet value is one of the facet's
  categories (compared by ``canonical``: 40, 40.0 and "40.0" are equal), or,
  for a threshold facet (exactly one number), whose value is greater than it;
  group *a*: every other record with a readable facet value;
- positive outcome: a (predicted or true) label among ``label_values_or_threshold``;
- DPPL = q_a - q_d, q = share of the group predicted positive;
- DI = q_d / q_a (the formula and example of clarify-post-training-bias-metric-di; that page's
  prose says "a over d", its formula and its example .5/.6 say d over a);
- RD = recall_a - recall_d, recall = TP / (TP + FN) within the group;
- AD = accuracy_a - accuracy_d, accuracy = share of the group whose predicted
  outcome (positive or not) equals its true outcome.

A metric is ``null`` when a group is empty or its denominator is 0 (q_a = 0
for DI, no true positive in a group for RD). The document::

    {"report_version": 1, "source": "<what it was computed on>",
     "facets": {"customer_age": {"DPPL": 0.02, "DI": 0.95, "RD": null, "AD": 0.01, "n_a": 120, "n_d": 80}}}

numpy only: it runs in SageMaker's XGBoost container next to ``evaluate.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

REPORT_VERSION = 1
METRICS = ("DPPL", "DI", "RD", "AD")
FILE_NAME = "bias_baseline.json"
_MAX_INT_FLOAT = 2.0 ** 53


def canonical(value: Any) -> str | None:
    """The comparable form of a facet or label value; None for a missing one (None, NaN, infinity, blank).

    The bias checker's rule (``lambdas/quality_checker/record_values.py``), so both sort a value
    alike: a finite number, or numeric text, is its integer text when it is whole (below 2**53),
    else Python's shortest ``repr``; booleans are 1 and 0; other text is stripped.
    """
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return text
    elif isinstance(value, (int, float, np.integer, np.floating)):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float's range
            return None
    else:
        return None
    if not math.isfinite(number):
        return None
    return str(int(number)) if number.is_integer() and abs(number) < _MAX_INT_FLOAT else repr(number)


def is_threshold(facet: Mapping[str, Any]) -> bool:
    """Exactly one number: group d is the records whose facet value is greater than it."""
    values = facet["values_or_threshold"]
    return len(values) == 1 and isinstance(values[0], (int, float)) and not isinstance(values[0], bool)


def facet_groups(values: Sequence[Any], facet: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (group a, group d) over ``values``; unreadable values are in neither."""
    keys = [canonical(v) for v in values]
    if is_threshold(facet):
        threshold = float(facet["values_or_threshold"][0])
        # A boolean is no number here (the checker's rule too), though as a category it is 1 or 0.
        numbers = np.array([math.nan if isinstance(v, (bool, np.bool_)) else _number(k) for v, k in zip(values, keys)],
                           dtype=float)
        readable = ~np.isnan(numbers)
        in_d = readable & (np.nan_to_num(numbers, nan=-np.inf) > threshold)
    else:
        sensitive = {canonical(v) for v in facet["values_or_threshold"]} - {None}
        readable = np.array([k is not None for k in keys], dtype=bool)
        in_d = np.array([k in sensitive for k in keys], dtype=bool) & readable
    return readable & ~in_d, in_d


def positive(labels: Sequence[Any], label_values: Sequence[Any]) -> np.ndarray:
    """Which labels are a positive outcome (canonical comparison)."""
    positives = {canonical(v) for v in label_values} - {None}
    return np.array([canonical(v) in positives for v in labels], dtype=bool)


def post_training_bias(
    facet_values: Sequence[Any], predicted: Sequence[Any], observed: Sequence[Any] | None, facet: Mapping[str, Any],
) -> dict[str, Any]:
    """DPPL, DI, RD, AD (None when undefined; RD and AD also without ``observed`` labels), n_a and n_d."""
    if len(facet_values) != len(predicted) or (observed is not None and len(observed) != len(predicted)):
        raise ValueError("facet values, predicted labels and true labels must have one entry per record")
    in_a, in_d = facet_groups(facet_values, facet)
    predicted_positive = positive(predicted, facet["label_values_or_threshold"])
    q_a, q_d = _share(predicted_positive, in_a), _share(predicted_positive, in_d)
    result: dict[str, Any] = {
        "DPPL": _difference(q_a, q_d),
        "DI": q_d / q_a if q_a and q_d is not None else None,
        "RD": None,
        "AD": None,
    }
    if observed is not None:
        true_positive = positive(observed, facet["label_values_or_threshold"])
        recall = [_share(predicted_positive, group & true_positive) for group in (in_a, in_d)]
        accuracy = [_share(predicted_positive == true_positive, group) for group in (in_a, in_d)]
        result["RD"], result["AD"] = _difference(*recall), _difference(*accuracy)
    return {**result, "n_a": int(in_a.sum()), "n_d": int(in_d.sum())}


def baseline_document(
    columns: Mapping[str, Sequence[Any]], predicted: Sequence[Any], observed: Sequence[Any] | None,
    facets: Sequence[Mapping[str, Any]], source: str,
) -> dict[str, Any]:
    """The ``bias_baseline.json`` document: ``columns`` maps each facet name to its values."""
    return {
        "report_version": REPORT_VERSION,
        "source": source,
        "facets": {f["facet"]: post_training_bias(columns[f["facet"]], predicted, observed, f) for f in facets},
    }


# ------------------------------------------------------------------ the pipeline step
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bias-facets", action="append", default=[],
        help="JSON list of facets, split over several --bias-facets=<part> (SageMaker caps an argument at 256 "
        "characters); the parts are joined in order",
    )
    parser.add_argument("--facet-columns", default=None,
                        help="each facet's position among the configured feature names, comma-separated")
    parser.add_argument("--features-dir", type=pathlib.Path, default=pathlib.Path("/opt/ml/processing/features"),
                        help="holds baseline_histogram.json, whose 'features' are the model input columns in order")


def facets_of(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The facets of ``--bias-facets`` (none when it is absent)."""
    if not args.bias_facets:
        return []
    facets = json.loads("".join(args.bias_facets))
    keys = {"facet", "values_or_threshold", "label_values_or_threshold"}
    if not isinstance(facets, list) or not all(isinstance(f, dict) and set(f) == keys for f in facets):
        raise ValueError(f"--bias-facets: expected a JSON list of objects with the keys {sorted(keys)}")
    return facets


def feature_names(features_dir: pathlib.Path) -> list[str]:
    """The model input columns in order, from the baseline histogram preprocess.py wrote."""
    files = sorted(features_dir.rglob("*.json"))
    if len(files) != 1:
        raise ValueError(f"expected one baseline histogram under {features_dir}; found {[f.name for f in files]}")
    return list(json.loads(files[0].read_text())["features"])


def facet_columns(names: Sequence[str], facets: Sequence[Mapping[str, Any]], expected: str | None) -> list[int]:
    """Each facet's column among the model inputs ``names``.

    ``expected`` (``--facet-columns``) gives the positions the configured feature names
    (the columns of captured requests) put them at: the checker reads those, so they must agree.
    """
    positions = [int(p) for p in expected.split(",")] if expected else [None] * len(facets)
    if len(positions) != len(facets):
        raise ValueError(f"--facet-columns: {len(positions)} positions for {len(facets)} facets")
    columns = []
    for facet, position in zip(facets, positions):
        name = facet["facet"]
        if name not in names:
            raise ValueError(f"bias facet {name!r} is not a model input column; the columns are {list(names)}")
        column = list(names).index(name)
        if position is not None and position != column:
            raise ValueError(
                f"bias facet {name!r} is model input column {column}, but the configured feature names put it at "
                f"{position}: the bias checker would read another column of captured requests. Make the feature "
                f"names (monitoring_features) the model's input columns in order: {list(names)}"
            )
        columns.append(column)
    return columns


def write_baseline(
    args: argparse.Namespace, labels: np.ndarray, features: np.ndarray, scores: np.ndarray, threshold: float,
) -> dict[str, Any] | None:
    """Write ``bias_baseline.json`` to ``args.output_dir`` when facets were given; return the document."""
    facets = facets_of(args)
    if not facets:
        return None
    names = feature_names(args.features_dir)
    if len(names) != features.shape[1]:
        raise ValueError(f"the baseline histogram names {len(names)} columns; the test split has {features.shape[1]}")
    columns = facet_columns(names, facets, args.facet_columns)
    predicted = (np.asarray(scores, dtype=float) >= threshold).astype(int)
    document = baseline_document(
        {f["facet"]: features[:, c] for f, c in zip(facets, columns)}, predicted, labels, facets,
        f"test split of the training pipeline: {len(labels)} records, predicted label 1 when score >= {threshold:g}",
    )
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / FILE_NAME).write_text(json.dumps(document, indent=2))
    return document


def _number(key: str | None) -> float:
    try:
        return float(key) if key is not None else math.nan
    except ValueError:
        return math.nan  # text where a number is expected: unreadable for a threshold facet


def _share(hits: np.ndarray, group: np.ndarray) -> float | None:
    total = int(group.sum())
    return float(np.sum(hits & group)) / total if total else None


def _difference(a: float | None, d: float | None) -> float | None:
    return a - d if a is not None and d is not None else None
