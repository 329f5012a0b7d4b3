"""Synth time of the reference platform as a ratio to the jsii floor, measured in one run.

Both cases run as fresh processes, exactly like `cdk synth` runs `app.py`:
  floor:     an App with one Stack holding one placeholder resource (jsii/node start-up + a trivial synth)
  pipeline:  importing the sagemaker SDK and rendering the training pipeline definition (no CDK)
  reference: app.py with the default cdk.json context (every stack, cdk-nag on)
Usage: .venv/bin/python bench/synth.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

FLOOR = """
import aws_cdk as cdk
app = cdk.App()
stack = cdk.Stack(app, "Empty")
cdk.CfnWaitConditionHandle(stack, "Placeholder")  # CloudFormation rejects a template with no resources
app.synth()
"""

# What the training pipeline adds: importing the sagemaker SDK and rendering the
# definition, in a fresh process like the app's (no CDK involved).
PIPELINE_BUILD = """
from mlops_cdk.pipeline_defs import build_training_pipeline
build_training_pipeline(pipeline_name="bench-training", model_package_group_name="bench").render()
"""

CASES = {
    "empty app (floor)": [sys.executable, "-c", FLOOR],
    "SDK import + definition build": [sys.executable, "-c", PIPELINE_BUILD],
    "reference app": [sys.executable, str(ROOT / "app.py")],
}


def run_once(cmd: list[str]) -> float:
    outdir = tempfile.mkdtemp(prefix="bench-synth-")
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    env = {
        **os.environ,
        "CDK_OUTDIR": outdir,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "SAGEMAKER_SKIP_TELEMETRY": "1",
    }
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    medians = {}
    for name, cmd in CASES.items():
        run_once(cmd)  # warm the file cache
        medians[name] = statistics.median(run_once(cmd) for _ in range(args.runs))
    floor = medians["empty app (floor)"]
    print(f"{'case':<30} {'median s':>9} {'x floor':>8}   ({args.runs} runs each)")
    for name, seconds in medians.items():
        print(f"{name:<30} {seconds:>9.2f} {seconds / floor:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
