"""Benchmark: the own model-quality and bias-drift checks vs a raw ``json.loads`` of the same lines.

Run from the repository root::

    .venv/bin/python bench/quality_checker.py --repeat 3       # 10k and 100k joined records

Everything runs locally (no AWS, no moto): ``run_check`` of the quality checker Lambda, imported
the way Lambda imports it (its folder and the shared modules on ``sys.path``), reads a window of
capture and ground-truth objects through an S3 stand-in that keeps them as files in a temporary
directory and returns botocore ``StreamingBody`` bodies (read with ``iter_lines``, as from S3), and
publishes to a CloudWatch stand-in that only counts datapoints. For each size, on the same objects:

- ``json.loads``: the reference cost, streaming every capture and label object and parsing each
  line, nothing else;
- ``model quality``: the whole binary-classification check: listing, streaming, parsing, the
  SQLite join in a temporary directory, accuracy/precision/recall/F1/AUC, report, metrics;
- ``bias drift``: the whole bias check of two facets with labels (DPPL, DI, RD, AD) against a baseline.

Every capture line has one CSV record (8 numeric + 2 categorical features, a score) and a label,
spread over the window's 24 hourly objects. Time is the best of ``--repeat`` runs. Memory: the peak
of Python allocations during one run (``tracemalloc``), and how far one run raises the peak resident
set of a fresh process (``VmHWM`` reset through ``/proc/self/clear_refs`` just before the run), which
also counts SQLite's page cache and the C libraries' buffers. Results and the command go in
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from botocore.response import StreamingBody
from measure import best_time, python_peak

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "mlops_cdk" / "lambdas" / "quality_checker"), str(ROOT / "mlops_cdk" / "lambdas" / "_shared")]

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=timezone.utc)  # the window: [2024-05-01T12:00Z, 2024-05-02T12:00Z)
NUMERIC = [f"num_{i}" for i in range(8)]
CATEGORICAL = {"plan": ("basic", "plus", "pro"), "region": ("eu", "us", "apac")}
FEATURES = NUMERIC + list(CATEGORICAL)
QUALITY_ENV = {
    "CHECK": "model_quality", "CAPTURE_BUCKET": "data", "CAPTURE_PREFIX": "data-capture", "ENDPOINT_NAME": "churn",
    "MODEL_NAME": "churn-model", "REPORT_BUCKET": "data", "REPORT_PREFIX": "quality-reports",
    "PROBLEM_TYPE": "BinaryClassification", "GROUND_TRUTH_BUCKET": "data", "GROUND_TRUTH_PREFIX": "ground-truth",
    "LOG_LEVEL": "WARNING",
}
BIAS_ENV = {
    **QUALITY_ENV, "CHECK": "bias_drift", "REPORT_PREFIX": "bias-reports", "FEATURE_NAMES": ",".join(FEATURES),
    "BIAS_FACETS": json.dumps([{"facet": "plan", "values_or_threshold": ["pro"]},
                               {"facet": "num_0", "values_or_threshold": [0.5]}]),
    "BIAS_BASELINE_S3_URI": "s3://data/baselines/bias/bias_baseline.json",
}
BASELINE = {"report_version": 1, "source": "bench", "facets": {
    "plan": {"DPPL": 0.01, "DI": 0.98, "RD": 0.0, "AD": 0.01, "n_a": 800, "n_d": 200},
    "num_0": {"DPPL": -0.02, "DI": 1.03, "RD": 0.01, "AD": 0.0, "n_a": 500, "n_d": 500}}}

os.environ.update(QUALITY_ENV)  # the handler loads its configuration at import, as at a cold start
import handler as checker  # noqa: E402


class S3:
    """The calls the checker makes, on objects kept as files under ``root``; bodies stream like S3's."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self._keys: dict[str, set[str]] = {}  # a listing is not what is measured: keep it cheap

    def _path(self, bucket: str, key: str) -> pathlib.Path:
        return self.root / bucket / key

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: object) -> None:
        path = self._path(Bucket, Key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Body if isinstance(Body, bytes) else Body.encode())
        self._index(Bucket).add(Key)

    def get_object(self, Bucket: str, Key: str) -> dict:
        path = self._path(Bucket, Key)
        return {"Body": StreamingBody(path.open("rb"), path.stat().st_size)}

    def _index(self, bucket: str) -> set[str]:
        if bucket not in self._keys:
            base = self.root / bucket
            self._keys[bucket] = {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}
        return self._keys[bucket]

    def keys(self, bucket: str) -> list[str]:
        return sorted(self._index(bucket))

    def get_paginator(self, operation: str) -> S3:
        return self

    def paginate(self, Bucket: str, Prefix: str = "", Delimiter: str | None = None) -> list[dict]:
        keys = [k for k in self.keys(Bucket) if k.startswith(Prefix)]
        if Delimiter is None:
            return [{"Contents": [{"Key": k} for k in keys]}]
        tails = {k[len(Prefix):].split(Delimiter, 1)[0] for k in keys if Delimiter in k[len(Prefix):]}
        return [{"CommonPrefixes": [{"Prefix": f"{Prefix}{t}{Delimiter}"} for t in sorted(tails)]}]


class CloudWatch:
    def __init__(self) -> None:
        self.datapoints = 0

    def put_metric_data(self, Namespace: str, MetricData: list) -> None:
        self.datapoints += len(MetricData)


def make_window(n: int, rng: random.Random, root: pathlib.Path) -> list[str]:
    """``n`` predictions spread over the window's 24 hours, one object per hour, each labelled within the hour.

    Returns the keys of the capture and label objects.
    """
    s3, keys = S3(root), []
    start = NOW - timedelta(hours=24)
    for hour in range(24):
        captures, labels = [], []
        at = start + timedelta(hours=hour)
        for k in range(hour * n // 24, (hour + 1) * n // 24):
            values = [f"{rng.gauss(i * 0.1, 1.0):.4f}" for i in range(len(NUMERIC))]
            values += [rng.choice(options) for options in CATEGORICAL.values()]
            score = rng.random()
            event = f"00000000-0000-4000-8000-{k:012d}"
            when = at + timedelta(seconds=k % 3600)
            captures.append(json.dumps({
                "captureData": {
                    "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": ",".join(values),
                                      "encoding": "CSV"},
                    "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                       "data": f"{score:.6f}", "encoding": "CSV"}},
                "eventMetadata": {"eventId": event, "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
                "eventVersion": "0"}).encode())
            labels.append(json.dumps({"groundTruthData": {"data": str(int(rng.random() < score)), "encoding": "CSV"},
                                      "eventMetadata": {"eventId": event}, "eventVersion": "0"}).encode())
        collected = at + timedelta(minutes=30)
        for key, lines in ((f"data-capture/churn/AllTraffic/{at:%Y/%m/%d/%H}/part-{hour}.jsonl", captures),
                           (f"ground-truth/{collected:%Y/%m/%d/%H}/labels-{hour}.jsonl", labels)):
            s3.put_object("data", key, b"\n".join(lines) + b"\n")
            keys.append(key)
    s3.put_object("data", "baselines/bias/bias_baseline.json", json.dumps(BASELINE).encode())
    return keys


def run_json(s3: S3, keys: list[str], n: int) -> dict:
    """Stream every capture and label object and parse each line: what any checker must do at least."""
    loads = json.loads
    for key in keys:
        body = s3.get_object("data", key)["Body"]
        for line in body.iter_lines(chunk_size=64 * 1024):
            loads(line)
        body.close()
    return {}


def run_check(environ: dict) -> Callable[[S3, list[str], int], dict]:
    config = checker.load_config(environ)

    def run(s3: S3, keys: list[str], n: int) -> dict:
        result = checker.run_check(config, now=NOW, s3=s3, cloudwatch=CloudWatch())
        assert result["counts"]["labelled_records"] == n and result["counts"]["malformed_lines"] == 0, result["counts"]
        return result
    return run


PATHS = {"json.loads (reference)": lambda: run_json, "model quality": lambda: run_check(QUALITY_ENV),
         "bias drift": lambda: run_check(BIAS_ENV)}




def _status(name: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{name}:\s+(\d+) kB", status.read(), re.MULTILINE).group(1)) * 1024


def rss_growth(path: str, root: pathlib.Path, n: int) -> int | None:
    """How far one run of ``path`` raises the peak resident set of a fresh process (SQLite's cache included).

    Measured in a child process, whose allocator holds no memory freed by earlier runs; None where
    Linux cannot reset the peak (``/proc/self/clear_refs``).
    """
    child = subprocess.run([sys.executable, __file__, "--rss", path, str(root), str(n)], check=True,
                           capture_output=True, text=True)
    return json.loads(child.stdout.strip().splitlines()[-1])["growth"]


def child_rss(path: str, root: pathlib.Path, n: int) -> None:
    fn, s3 = PATHS[path](), S3(root)
    keys = [k for k in s3.keys("data") if k.startswith(("data-capture/", "ground-truth/"))]
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets VmHWM to the current resident set
        before = _status("VmRSS")
    except OSError:
        print(json.dumps({"growth": None}))
        return
    fn(s3, keys, n)
    print(json.dumps({"growth": _status("VmHWM") - before}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rss", nargs=3, metavar=("PATH", "ROOT", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss:
        child_rss(args.rss[0], pathlib.Path(args.rss[1]), int(args.rss[2]))
        return

    print(f"Python {platform.python_version()} on {platform.machine()}, {len(NUMERIC)} numeric + {len(CATEGORICAL)} "
          f"categorical features, 1 CSV record per capture line, every record labelled, best of {args.repeat}")
    header = (f"| {'records':>8} | {'path':<22} | {'time (s)':>8} | {'records/s':>10} | {'cost / json.loads':>17} "
              f"| {'Python peak (KiB)':>17} | {'RSS growth (MiB)':>16} | {'join file (MiB)':>15} |")
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
            root = pathlib.Path(tmp)
            keys = make_window(n, random.Random(42), root)
            call = (S3(root), keys, n)
            reference = best_time(run_json, call, args.repeat)
            for label, make in PATHS.items():
                fn = make()
                seconds = reference if fn is run_json else best_time(fn, call, args.repeat)
                peak = python_peak(fn, call)
                join = fn(*call).get("counts", {}).get("join_file_bytes")
                growth = rss_growth(label, root, n)
                print(f"| {n:>8} | {label:<22} | {seconds:>8.3f} | {n / seconds:>10,.0f} "
                      f"| {seconds / reference:>16.2f}x | {peak / 1024:>17.1f} "
                      f"| {'n/a' if growth is None else f'{growth / 2**20:.1f}':>16} "
                      f"| {'-' if join is None else f'{join / 2**20:.1f}':>15} |", flush=True)


if __name__ == "__main__":
    main()
