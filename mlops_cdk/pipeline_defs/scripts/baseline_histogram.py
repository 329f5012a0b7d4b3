"""Baseline histograms of the model's input features, for the library's own drift checker.

The drift checker compares captured endpoint traffic with the training data by
PSI / KS / chi-square. It needs the training distribution binned exactly the
way it will bin live data, so the bins are fixed here, at training time, and
shipped next to the model as ``baseline_histogram.json``:

    {
      "version": 1,
      "label": "is_fraud",
      "record_count": 1386,
      "features": {                               # model input order = CSV payload column order
        "amount": {
          "type": "numeric",
          "bin_edges": [null, 12.5, 30.1, ..., 880.0, null],
          "proportions": [0.1, 0.1, ..., 0.1]
        },
        "merchant_category_grocery": {
          "type": "categorical",
          "categories": {"0": 0.62, "1": 0.38}
        }
      }
    }

Rules (the checker must apply the same ones to live data):

- ``features`` lists every model input column, in payload order; ``label``
  names the training label, which is not a feature.
- A column of strings, or with at most ``MAX_CATEGORIES`` distinct values
  (one-hot indicators, small codes), is ``categorical``: ``categories`` maps
  each value's key to its share. Numbers are keyed by ``category_key`` (``format(float(v),
  ".15g")``: 1 and 1.0 are both ``"1"``), strings by themselves.
- Any other column is ``numeric``. ``bin_edges`` has k+1 entries for k bins:
  the first and last are ``null`` (minus / plus infinity, which JSON cannot
  write), the interior ones are the distinct deciles of the training values,
  strictly increasing. Bin i holds ``edges[i] <= x < edges[i+1]`` (left-closed,
  as ``numpy.searchsorted(interior, x, side="right")`` numbers them).
- ``proportions`` (numeric) and ``categories`` values (categorical) sum to 1.
  A numeric bin may hold 0 (a value piled up on one edge): smooth before
  taking logs (PSI).
- Missing values are not counted: the pipeline imputes them before training.

Pure numpy/pandas: it runs inside SageMaker's scikit-learn container, where
this file is downloaded next to ``preprocess.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

VERSION = 1
MAX_CATEGORIES = 10
DEFAULT_BINS = 10


def category_key(value: Any) -> str:
    """The key of one categorical value: numbers by their shortest float form, strings as is."""
    if isinstance(value, str):
        return value
    return format(float(value), ".15g")


def numeric_histogram(values: np.ndarray, bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """Quantile bins of ``values``: interior edges are the distinct ``1/bins`` quantiles."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("numeric_histogram needs a non-empty array of finite numbers")
    interior = np.unique(np.quantile(values, np.arange(1, bins) / bins))
    counts = np.bincount(np.searchsorted(interior, values, side="right"), minlength=interior.size + 1)
    return {
        "type": "numeric",
        "bin_edges": [None, *(float(e) for e in interior), None],
        "proportions": _shares(counts),
    }


def categorical_histogram(values: pd.Series) -> dict[str, Any]:
    keys = values.map(category_key)
    counts = keys.value_counts(sort=False).sort_index()
    shares = _shares(counts.to_numpy())
    return {"type": "categorical", "categories": dict(zip(counts.index, shares))}


def build_histograms(features: pd.DataFrame, label: str, bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """The ``baseline_histogram.json`` document for the model input ``features``."""
    if features.empty:
        raise ValueError("build_histograms needs at least one row and one feature column")
    if features.isna().any().any():
        missing = [c for c in features.columns if features[c].isna().any()]
        raise ValueError(f"build_histograms: impute missing values first; columns with NaN: {missing}")
    histograms = {}
    for column in features.columns:
        series = features[column]
        if series.nunique() <= MAX_CATEGORIES or not pd.api.types.is_numeric_dtype(series):
            histograms[str(column)] = categorical_histogram(series)
        else:
            histograms[str(column)] = numeric_histogram(series.to_numpy(), bins)
    return {"version": VERSION, "features": histograms, "label": label, "record_count": int(len(features))}


def _shares(counts: np.ndarray) -> list[float]:
    counts = np.asarray(counts, dtype=float)
    return (counts / counts.sum()).tolist()
