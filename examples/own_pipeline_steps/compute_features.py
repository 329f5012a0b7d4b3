"""Step ``ComputeFeatures`` of examples/own_pipeline.py: churn features from the raw customer CSVs.

Runs in SageMaker's scikit-learn container; the pipeline ships this folder as
its scripts archive, unpacked under ``/opt/ml/processing/input/code``.
Reads every ``*.csv`` of ``--input-dir`` (``training-data/`` of the platform
bucket) and writes ``features.csv`` to ``--output-dir`` (the run's artifact
prefix). Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import pathlib

PROCESSING = pathlib.Path("/opt/ml/processing")


def features(row: dict[str, str]) -> dict[str, float]:
    """Average monthly spend and support calls per year of tenure: two ratios churn models like."""
    tenure_months = max(float(row.get("tenure_months") or 0), 1.0)
    return {
        "monthly_spend": float(row.get("total_charges") or 0) / tenure_months,
        "calls_per_year": float(row.get("support_calls") or 0) * 12 / tenure_months,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", type=pathlib.Path, default=PROCESSING / "input" / "data")
    parser.add_argument("--output-dir", type=pathlib.Path, default=PROCESSING / "features")
    parser.add_argument("--reason", default="Manual", help="why this run started (the pipeline's Reason)")
    args = parser.parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    with open(args.output_dir / "features.csv", "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["customer_id", "monthly_spend", "calls_per_year"])
        writer.writeheader()
        for path in sorted(args.input_dir.glob("*.csv")):
            with open(path, newline="") as source:
                for row in csv.DictReader(source):
                    writer.writerow({"customer_id": row.get("customer_id", ""), **features(row)})
    print(f"features written to {args.output_dir} (run reason: {args.reason})")


if __name__ == "__main__":
    main()
