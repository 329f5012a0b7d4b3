"""The test harness every construct and stack test uses.

``synth(build)`` runs ``build(app)`` in a fresh ``App`` that carries the
reference app's context (feature flags included, so tests see the templates
``make synth`` produces) with cdk-nag's AwsSolutions pack enabled, synthesizes
it and returns, per stack: the assertions ``Template``, the raw JSON, the
cdk-nag findings not acknowledged, and cfn-lint findings on demand.
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import functools
import importlib.util
import itertools
import json
import pathlib
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from aws_cdk import App, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from tools.lint_templates import lint_template

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Construct and stack tests lint in one region: what differs between regions is which resource types exist, and
# tests/test_app.py lints the reference platform (every gapped part, every job type) in all 33 commercial regions
# and proves the other stacks use only types every region has; tests/test_regions.py covers the gates.
# `make synth` keeps lint_templates' three regions.
TEST_LINT_REGIONS = ("us-east-1",)


class lazy_module:  # noqa: N801 (used like a module)
    """The module ``name``, imported on first attribute access. Every xdist worker collects every test module and
    only one runs it: heavy references (the sagemaker SDK, scipy, scikit-learn) load on the worker that needs them."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        # pytest's collection probes every module-level object (fixture markers, ``pytestmark``, ``__test__``...):
        # those probes must not import the module.
        if attribute.startswith("_") or attribute == "pytestmark":
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self._name), attribute)


@functools.cache
def reference_context() -> dict[str, Any]:
    """cdk.json's context: the feature flags and default configuration of the reference app."""
    return json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclasses.dataclass
class SynthResult:
    stacks: dict[str, dict[str, Any]]  # stack name -> template JSON
    template_paths: dict[str, pathlib.Path]
    nag_findings: list[str]  # "RULE at path" for every unacknowledged finding, any severity

    def template(self, stack: str | None = None) -> Template:
        return Template.from_json(self.json(stack))

    def json(self, stack: str | None = None) -> dict[str, Any]:
        if stack is None:
            (stack,) = self.stacks  # exactly one stack, or name it
        return self.stacks[stack]

    def lint(self, stack: str | None = None, regions: tuple[str, ...] = TEST_LINT_REGIONS) -> list[str]:
        if stack is None:
            (stack,) = self.stacks
        return lint_template(self.template_paths[stack], regions=regions)

    def nag_findings_for(self, stack: str) -> list[str]:
        return [f for f in self.nag_findings if f" at {stack}/" in f]


# Every synth of this test process goes under one directory, removed when the process ends (~150 MB a run).
_OUT_ROOT = tempfile.mkdtemp(prefix="mlops-cdk-tests-")
atexit.register(shutil.rmtree, _OUT_ROOT, ignore_errors=True)


def synth(build: Callable[[App], Any], *, context: dict[str, Any] | None = None, nag: bool = True) -> SynthResult:
    """Synthesize what ``build(app)`` adds to a fresh app; never raises on nag findings, returns them."""
    outdir = tempfile.mkdtemp(prefix="mlops-cdk-test-", dir=_OUT_ROOT)
    app = App(outdir=outdir, context={**reference_context(), **(context or {})})
    build(app)
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag findings fail synthesis: report them instead
        if "ValidationFailed" not in str(exc):
            raise
        if not assembly(pathlib.Path(outdir)).nag_findings:
            raise RuntimeError(f"synthesis failed without a validation report in {outdir}") from exc
    return assembly(pathlib.Path(outdir))


def assembly(outdir: pathlib.Path) -> SynthResult:
    """The templates and validation findings of a synthesized cloud assembly (``cdk.out``)."""
    stacks, paths = {}, {}
    for path in sorted(outdir.rglob("*.template.json")):
        name = path.name.removesuffix(".template.json")
        stacks[name] = json.loads(path.read_text())
        paths[name] = path
    return SynthResult(stacks, paths, _nag_findings(outdir / "validation-report.json"))


def _nag_findings(report_path: pathlib.Path) -> list[str]:
    if not report_path.exists():
        return []
    report = json.loads(report_path.read_text())
    found = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                found.append(f"{violation['ruleName']} ({violation.get('severity')}) at {construct['constructPath']}")
    return found


# Asset hashes change with any byte of a Lambda or script: normalize them so a
# snapshot diff shows template changes, not packaging noise.
_HASH_RE = re.compile(r"[0-9a-f]{64}")


def normalized(template: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(copy.deepcopy(template), sort_keys=True)
    return json.loads(_HASH_RE.sub("<asset-hash>", text))


def logical_ids(template: dict[str, Any]) -> dict[str, str]:
    """``{logical id: resource type}``: what a per-stack snapshot guards (a changed id replaces the resource)."""
    return {k: v["Type"] for k, v in sorted(template.get("Resources", {}).items())}


def logical_id(construct: Any) -> str:
    """The logical id of ``construct``'s CloudFormation resource (its default child) in its stack."""
    return Stack.of(construct).get_logical_id(construct.node.default_child)


# ------------------------------------------------------------ bring your own resources
# A team's own aws-cdk-lib resources, plain or imported, must work wherever the platform's do.
ACCOUNT = "111122223333"
REGION = "eu-west-1"


def own_resources(stack: Stack):
    """``PlatformResources`` made of plain aws-cdk-lib constructs (no mlops_cdk class) in ``stack``."""
    from mlops_cdk.stacks.resources import PlatformResources

    key = kms.Key(stack, "TeamKey", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
    bucket = s3.Bucket(stack, "TeamBucket", encryption=s3.BucketEncryption.KMS, encryption_key=key,
                       enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                       server_access_logs_prefix="logs/", removal_policy=RemovalPolicy.DESTROY)
    role = iam.Role(stack, "TeamRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    topic = sns.Topic(stack, "TeamTopic", master_key=key, enforce_ssl=True)
    return PlatformResources(data_bucket=bucket, data_key=key, execution_role=role, alert_topic=topic)


def imported_resources(stack: Stack, *, mutable_role: bool = True):
    """``PlatformResources`` imported by name and ARN into ``stack``, as a team with existing resources does."""
    from mlops_cdk.stacks.resources import PlatformResources

    key = kms.Key.from_key_arn(stack, "TeamKey", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    bucket = s3.Bucket.from_bucket_attributes(stack, "TeamBucket", bucket_name="team-ml-data", encryption_key=key)
    role = iam.Role.from_role_arn(stack, "TeamRole", f"arn:aws:iam::{ACCOUNT}:role/team-sagemaker",
                                  mutable=mutable_role)
    topic = sns.Topic.from_topic_arn(stack, "TeamTopic", f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts")
    return PlatformResources(data_bucket=bucket, data_key=key, execution_role=role, alert_topic=topic)


def resources_of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == type_name}


def role_statements(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Every IAM statement attached to role ``role_logical_id`` by the template's policies."""
    return [statement for policy in resources_of_type(template, "AWS::IAM::Policy").values()
            if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]]


def role_permissions(template: dict[str, Any], role: Any) -> set[tuple[str, str]]:
    """Every ``(action, resource as sorted JSON)`` the template's policies allow ``role``.

    ``role`` is how the policies name it: ``{"Ref": logical_id}``, or an imported role's name. The pairs do not
    depend on how aws-cdk-lib merges statements (``minimizePolicies``); every statement must be an Allow.
    """
    def as_list(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    pairs = set()
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        if role not in policy["Properties"].get("Roles", []):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow", statement
            pairs |= {(action, json.dumps(resource, sort_keys=True))
                      for action in as_list(statement["Action"]) for resource in as_list(statement["Resource"])}
    return pairs


def only_resource(template: dict[str, Any], type_name: str) -> dict[str, Any]:
    found = resources_of_type(template, type_name)
    assert len(found) == 1, f"expected one {type_name}, found {sorted(found)}"
    return next(iter(found.values()))


_module_counter = itertools.count()


def load_handler(path: pathlib.Path, monkeypatch=None, env: dict[str, str] | None = None, keys=()) -> Any:
    """Import a Lambda ``handler.py`` (or a script) by path, as Lambda does, under a fresh module name.

    ``keys`` are removed from the environment and ``env`` set (through
    ``monkeypatch``) first, so module-level cold-start code sees them.
    """
    if monkeypatch is not None:
        for key in keys:
            monkeypatch.delenv(key, raising=False)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
    if str(path.parent) not in sys.path:  # sibling modules of a handler import flat, as in Lambda
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"{path.parent.name}_{path.stem}_{next(_module_counter)}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as a real import would (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module
