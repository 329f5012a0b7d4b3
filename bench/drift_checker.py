"""Benchmark: the drift checker's statistics path vs a raw ``json.loads`` of the same capture lines.

Run from the repository root::

    .venv/bin/python bench/drift_checker.py            # 10k and 100k records, best of 3

Everything runs in-process on capture lines generated in memory (no AWS, no
moto). For each size it measures, on the same lines:

- ``json.loads``: the reference cost, parsing each line and nothing else;
- ``drift checker``: ``CaptureAnalyzer.add_lines`` (capture JSON + CSV payload
  parsing, validation, histogram accumulation) followed by ``drift()`` (PSI for
  every feature, chi-square for the categorical ones);
- ``drift checker + iter_lines``: the same, fed by a botocore ``StreamingBody``
  over the bytes of the file, read with ``iter_lines`` (64 KiB chunks) as the
  Lambda reads S3 objects.

Throughput is the best of ``--repeat`` runs; peak memory is measured in a
separate run with ``tracemalloc`` (allocations made while processing; the input
lines exist before tracing starts). Streaming means the peak at 100k records
is about the same as at 10k. Results and the command go in bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import json
import pathlib
import platform
import random
import sys

from botocore.response import StreamingBody
from measure import best_time, python_peak

LAMBDA_DIR = pathlib.Path(__file__).resolve().parent.parent / "mlops_cdk" / "lambdas" / "drift_checker"
sys.path.insert(0, str(LAMBDA_DIR))  # as in Lambda: the folder is the root, the modules top-level

from capture_parser import CaptureAnalyzer  # noqa: E402
from drift_baseline import load_baseline  # noqa: E402

NUMERIC = [f"num_{i}" for i in range(8)]
CATEGORICAL = {"plan": {"basic": 0.5, "plus": 0.3, "pro": 0.2}, "region": {"eu": 0.4, "us": 0.4, "apac": 0.2}}
FEATURES = NUMERIC + list(CATEGORICAL)


def make_baseline(rng: random.Random) -> dict:
    features: dict = {}
    for i, name in enumerate(NUMERIC):
        sample = sorted(rng.gauss(i, 1.0 + i) for _ in range(5000))
        interior = [sample[len(sample) * q // 10] for q in range(1, 10)]
        features[name] = {"type": "numeric", "bin_edges": [None, *interior, None], "proportions": [0.1] * 10}
    for name, cats in CATEGORICAL.items():
        features[name] = {"type": "categorical", "categories": cats}
    return {"version": 1, "features": features, "label": "target", "record_count": 5000}


def make_lines(n: int, rng: random.Random) -> list[bytes]:
    """``n`` capture lines, one CSV record each (the usual real-time invocation), slightly drifted."""
    lines = []
    for k in range(n):
        values = [f"{rng.gauss(i + 0.3, 1.0 + i):.4f}" for i in range(len(NUMERIC))]
        values += [rng.choice(list(cats)) for cats in CATEGORICAL.values()]
        doc = {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": ",".join(values), "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                   "data": "0.731", "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": f"00000000-0000-4000-8000-{k:012d}",
                              "inferenceTime": "2024-05-02T10:15:30.123Z"},
            "eventVersion": "0",
        }
        lines.append(json.dumps(doc).encode())
    return lines


def run_json(lines: list[bytes], blob: bytes, baseline) -> None:
    loads = json.loads
    for line in lines:
        loads(line)


def run_checker(lines: list[bytes], blob: bytes, baseline) -> None:
    analyzer = CaptureAnalyzer(FEATURES, baseline)
    analyzer.add_lines(iter(lines))
    analyzer.drift()


def run_checker_stream(lines: list[bytes], blob: bytes, baseline) -> None:
    analyzer = CaptureAnalyzer(FEATURES, baseline)
    analyzer.add_lines(StreamingBody(io.BytesIO(blob), len(blob)).iter_lines(chunk_size=64 * 1024))
    analyzer.drift()
    assert analyzer.records_analyzed == len(lines)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(42)
    baseline = load_baseline(json.dumps(make_baseline(rng)))
    print(f"Python {platform.python_version()} on {platform.machine()}, {len(NUMERIC)} numeric + "
          f"{len(CATEGORICAL)} categorical features, 1 CSV record per capture line, best of {args.repeat}")
    header = (f"| {'records':>8} | {'path':<28} | {'time (s)':>8} | {'records/s':>10} "
              f"| {'cost / json.loads':>17} | {'peak memory (KiB)':>17} |")
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for n in args.sizes:
        lines = make_lines(n, rng)
        blob = b"\n".join(lines) + b"\n"
        call = (lines, blob, baseline)
        reference = best_time(run_json, call, args.repeat)
        for label, fn in (("json.loads (reference)", run_json), ("drift checker", run_checker),
                          ("drift checker + iter_lines", run_checker_stream)):
            seconds = reference if fn is run_json else best_time(fn, call, args.repeat)
            peak = python_peak(fn, call)
            print(f"| {n:>8} | {label:<28} | {seconds:>8.3f} | {n / seconds:>10,.0f} "
                  f"| {seconds / reference:>16.2f}x | {peak / 1024:>17.1f} |")


if __name__ == "__main__":
    main()
