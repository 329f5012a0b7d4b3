"""Pipeline step ``PreprocessData``: clean the raw fraud data, split it, write the baselines.

Runs in SageMaker's scikit-learn container with this directory's files under
``/opt/ml/processing/input/code``.

Input: every ``*.csv`` under ``--input-dir`` (header row; the label column,
``is_fraud`` by default, holds 0/1; every other column is a feature).

Cleaning: exact duplicate rows and rows without a label are dropped; numeric
gaps are filled with the training split's median; string columns are one-hot
encoded (``<column>_<value>``, categories of the training split; a missing or
unseen value is all zeros). Everything learned from data comes from the
training split only, so validation and test stay unseen.

Outputs under ``--output-dir``:

- ``train/train.csv``, ``validation/validation.csv``, ``test/test.csv``:
  stratified split (70/15/15 by default), label first, no header: the CSV
  layout SageMaker's built-in XGBoost algorithm reads;
- ``baseline/baseline.csv``: the training split's model inputs with a header,
  the dataset of the Model Monitor data-quality baseline;
- ``baseline/baseline_histogram.json``: the own drift checker's baseline (format
  in ``baseline_histogram.py``).
"""

from __future__ import annotations

import argparse
import json
import pathlib
from collections.abc import Sequence

import pandas as pd
from sklearn.model_selection import train_test_split

import baseline_histogram

PROCESSING = pathlib.Path("/opt/ml/processing")


def read_input(input_dir: pathlib.Path) -> pd.DataFrame:
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise ValueError(f"no *.csv file under input directory {input_dir}")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def clean(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    """Drop duplicates and unlabeled rows; check the label is binary."""
    if label not in raw.columns:
        raise ValueError(f"label column {label!r} not found; input columns: {list(raw.columns)}")
    if len(raw.columns) < 2:
        raise ValueError(f"no feature columns besides the label {label!r}")
    data = raw.drop_duplicates().dropna(subset=[label])
    labels = pd.to_numeric(data[label], errors="coerce")
    bad = sorted(set(data[label][~labels.isin([0, 1])].astype(str)))
    if bad:
        raise ValueError(f"label column {label!r} must hold 0 or 1; found {bad[:5]}")
    if data.empty:
        raise ValueError("no labeled rows left after cleaning")
    return data.assign(**{label: labels.astype(int)}).reset_index(drop=True)


def split(
    data: pd.DataFrame, label: str, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stratified train / validation / test split."""
    if not (0 < validation_fraction < 1 and 0 < test_fraction < 1 and validation_fraction + test_fraction < 1):
        raise ValueError(
            f"validation ({validation_fraction}) and test ({test_fraction}) fractions must be in (0, 1) "
            "and leave rows for training"
        )
    rest, test = train_test_split(data, test_size=test_fraction, stratify=data[label], random_state=seed)
    train, validation = train_test_split(
        rest, test_size=validation_fraction / (1 - test_fraction), stratify=rest[label], random_state=seed
    )
    return train, validation, test


class FeatureEncoder:
    """Median imputation and one-hot encoding, fitted on the training split."""

    def __init__(self, train_features: pd.DataFrame) -> None:
        self.medians: dict[str, float] = {}
        self.categories: dict[str, list[str]] = {}
        for column in train_features.columns:
            series = train_features[column]
            if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
                median = series.astype(float).median()
                if pd.isna(median):
                    raise ValueError(f"feature column {column!r} has no values in the training split")
                self.medians[column] = float(median)
            else:
                self.categories[column] = sorted(series.dropna().astype(str).unique())
        self.columns = list(train_features.columns)

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        encoded: dict[str, pd.Series] = {}
        for column in self.columns:
            series = features[column]
            if column in self.medians:
                encoded[column] = series.astype(float).fillna(self.medians[column])
            else:
                values = series.astype("string")
                for category in self.categories[column]:
                    encoded[f"{column}_{category}"] = (values == category).fillna(False).astype(int)
        return pd.DataFrame(encoded, index=features.index)


def write_outputs(
    output_dir: pathlib.Path, label: str, splits: dict[str, pd.DataFrame], encoder: FeatureEncoder
) -> dict[str, int]:
    for name, frame in splits.items():
        model_input = encoder.transform(frame.drop(columns=[label]))
        rows = pd.concat([frame[label], model_input], axis=1)  # label first: XGBoost's CSV layout
        _target(output_dir / name / f"{name}.csv").write_text(rows.to_csv(header=False, index=False))
    baseline = encoder.transform(splits["train"].drop(columns=[label]))
    _target(output_dir / "baseline" / "baseline.csv").write_text(baseline.to_csv(index=False))
    histograms = baseline_histogram.build_histograms(baseline, label)
    _target(output_dir / "baseline" / "baseline_histogram.json").write_text(json.dumps(histograms, indent=2))
    return {name: len(frame) for name, frame in splits.items()}


def _target(path: pathlib.Path) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=pathlib.Path, default=PROCESSING / "input" / "data")
    parser.add_argument("--output-dir", type=pathlib.Path, default=PROCESSING)
    parser.add_argument("--label-column", default="is_fraud")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, int]:
    args = parse_args(argv)
    label = args.label_column
    data = clean(read_input(args.input_dir), label)
    train, validation, test = split(data, label, args.validation_fraction, args.test_fraction, args.seed)
    encoder = FeatureEncoder(train.drop(columns=[label]))
    counts = write_outputs(
        args.output_dir, label, {"train": train, "validation": validation, "test": test}, encoder
    )
    print(f"PreprocessData: {len(data)} clean rows -> {counts}")
    return counts


if __name__ == "__main__":
    main()
