"""The reference app as `cdk synth` runs it: app.py in its own process, aws-cdk-lib's built-in validation on."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

from tests.harness import ROOT, reference_context


def test_app_py_synthesizes_the_reference_platform_with_every_check_on():
    outdir = pathlib.Path(tempfile.mkdtemp(prefix="mlops-cdk-app-"))
    env = {k: v for k, v in os.environ.items() if k != "CDK_VALIDATION"}  # the default: validation on
    env.update(CDK_CONTEXT_JSON=json.dumps(reference_context()), CDK_OUTDIR=str(outdir))
    run = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    stacks = sorted(p.name.removesuffix(".template.json") for p in outdir.glob("*.template.json"))
    assert stacks == [f"mlops-fraud-detection-dev-{part}" for part in
                      ("feature-store", "foundation", "model-build", "monitoring", "retraining", "serving")]
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r.get("violations")] == []  # cdk-nag and the built-in rules
