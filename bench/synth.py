"""Synth time of the reference platform as a ratio to the jsii floor, measured in one run.

Every case runs as a fresh process, exactly like `cdk synth` runs `app.py` (cdk.json context in
CDK_CONTEXT_JSON, a fresh output folder); the runs of all cases are interleaved (case A, B, C, A,
B, C...) so that a change in the machine's load hits every case alike, and each case reports its
median. The cases:
  floor:           an App with one Stack holding one placeholder resource (jsii/node start-up and a
                   trivial synth), with aws-cdk-lib's built-in template validation (on by default) and
                   without it (CDK_VALIDATION=false);
  SDK render:      importing the sagemaker SDK and rendering the course's training pipeline, no CDK
                   (what a synth pays for a pipeline definition that is not pre-rendered);
  imports only:    the floor after importing mlops_cdk (and so the aws-cdk-lib modules it uses) and cdk-nag,
                   without the built-in validation: the least any app on the library takes, no construct built;
  reference app:   app.py with the default cdk.json context (every stack of one stage, cdk-nag on),
                   with and without the built-in validation;
  stages=all:      app.py with `-c stages=all` (dev, staging and prod side by side), with and without
                   the built-in validation (`make synth` runs without it: cfn-lint checks every template after).
Every case is reported as a ratio to both floors. Per app case: resources (summed over the synthesized
templates) and milliseconds per resource above the floor of the same validation setting; and the
marginal cost per resource between the reference app and stages=all (the same stacks three times:
what one more resource costs).
Usage: .venv/bin/python bench/synth.py [--runs N] [--case NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
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

# What a definition that is not pre-rendered costs: the SDK import and the render, no CDK.
SDK_RENDER = """
from mlops_cdk.pipeline_defs import build_training_pipeline
build_training_pipeline(pipeline_name="bench-training", model_package_group_name="bench").render()
"""

# What every app on the library pays before it builds anything: importing the library (with the aws-cdk-lib
# modules it uses) and cdk-nag, then the floor's one-resource synth. No construct of ours is built.
IMPORTS_ONLY = "import cdk_nag, mlops_cdk.app_builder\n" + FLOOR

NO_VALIDATION = {"CDK_VALIDATION": "false"}
APP = [sys.executable, str(ROOT / "app.py")]

# name -> (command, extra environment, extra context)
CASES: dict[str, tuple[list[str], dict[str, str], dict[str, str]]] = {
    "floor": ([sys.executable, "-c", FLOOR], {}, {}),
    "floor, no validation": ([sys.executable, "-c", FLOOR], NO_VALIDATION, {}),
    "SDK render": ([sys.executable, "-c", SDK_RENDER], {}, {}),
    "imports only, no validation": ([sys.executable, "-c", IMPORTS_ONLY], NO_VALIDATION, {}),
    "reference app": (APP, {}, {}),
    "reference app, no validation": (APP, NO_VALIDATION, {}),
    "stages=all": (APP, {}, {"stages": "all"}),
    "stages=all, no validation": (APP, NO_VALIDATION, {"stages": "all"}),
}
FLOOR_OF = {"reference app": "floor", "stages=all": "floor", "reference app, no validation": "floor, no validation",
            "stages=all, no validation": "floor, no validation"}


def run_once(name: str) -> tuple[float, int]:
    """Seconds of one fresh process of case ``name``, and the resources it synthesized."""
    cmd, extra_env, extra_context = CASES[name]
    outdir = pathlib.Path(tempfile.mkdtemp(prefix="bench-synth-"))
    context = {**json.loads((ROOT / "cdk.json").read_text())["context"], **extra_context}
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "SAGEMAKER_SKIP_TELEMETRY": "1",
        **extra_env,
    }
    if "CDK_VALIDATION" not in extra_env:
        env.pop("CDK_VALIDATION", None)  # as `cdk synth` runs by default
    try:
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
        if done.returncode:
            sys.exit(f"{name}: exit status {done.returncode}\n{done.stderr}")
        return seconds, sum(len(json.loads(t.read_text()).get("Resources", {})) for t in outdir.glob("*.template.json"))
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (and their floors)")
    args = parser.parse_args()
    names = [n for n in CASES if not args.case or n in args.case or n in {FLOOR_OF.get(c) for c in args.case}]
    for name in names:
        run_once(name)  # warm the file cache and Python's bytecode cache
    times: dict[str, list[float]] = {name: [] for name in names}
    resources: dict[str, int] = {}
    for _ in range(args.runs):
        for name in names:
            seconds, resources[name] = run_once(name)
            times[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in times.items()}

    print(f"median of {args.runs} interleaved runs; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| case | median s | x floor | x floor without validation | resources | ms/resource above its floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        ratios = [f"{medians[name] / medians[f]:.2f}" if f in medians else "-"
                  for f in ("floor", "floor, no validation")]
        count, per_resource = (resources[name], "-") if name.startswith("floor") else ("-", "-")
        if name in FLOOR_OF and FLOOR_OF[name] in medians:
            count = resources[name]
            per_resource = f"{(medians[name] - medians[FLOOR_OF[name]]) / count * 1000:.1f}"
        print(f"| {name} | {medians[name]:.2f} | {ratios[0]} | {ratios[1]} | {count} | {per_resource} |")
    for suffix in ("", ", no validation"):
        one, three = f"reference app{suffix}", f"stages=all{suffix}"
        if one in medians and three in medians:
            extra = resources[three] - resources[one]
            slope = (medians[three] - medians[one]) / extra * 1000
            print(f"marginal cost, {one} -> {three}: {slope:.1f} ms per resource ({extra} more resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
