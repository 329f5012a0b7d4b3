"""The example consumer app synthesizes, lint- and nag-clean, with the library imported as a user would."""

import importlib.util
import pathlib

import pytest

from tests.harness import ROOT, synth


def _load(path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result():
    return synth(_load(ROOT / "examples" / "own_app.py").build)


def test_example_synthesizes_both_stacks(result):
    assert set(result.stacks) == {"RiskFoundation", "RiskScoring"}


def test_example_reads_foundation_bucket_across_stacks_limited_to_prefix(result):
    scoring = result.json("RiskScoring")
    statements = [s for r in scoring["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    reads = [s for s in statements if "s3:GetObject*" in s["Action"] and "ImportValue" in str(s["Resource"])]
    assert len(reads) == 1
    assert "/models/*" in str(reads[0]["Resource"])


def test_example_is_nag_and_lint_clean(result):
    assert result.nag_findings == []
    for stack in result.stacks:
        assert result.lint(stack) == [], stack
