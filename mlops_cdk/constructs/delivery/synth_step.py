"""The delivery pipeline's build environment and synth step: the README's two commands, with pinned runtimes.

Every CodeBuild project of the pipeline (synth, self-mutation, asset publishing, endpoint tests) runs on the
CodeBuild standard 7.0 image (Ubuntu 22.04) with Python 3.11 and Node.js 20 selected: the versions ``make``
expects (``PYTHON ?= python3.11``; the CDK CLI pinned in package.json runs on Node 20).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines

BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "20"}
APPROVED_PACKAGES_SCRIPT = "mlops_cdk/delivery_checks/approved_packages.py"
_SSM_RESPONSE = "approved-packages.ssm.json"


def runtime_build_spec() -> codebuild.BuildSpec:
    """The partial buildspec that selects the pinned runtimes (merged into every project's buildspec)."""
    return codebuild.BuildSpec.from_object({"phases": {"install": {"runtime-versions": dict(RUNTIME_VERSIONS)}}})


def code_build_defaults() -> pipelines.CodeBuildOptions:
    return pipelines.CodeBuildOptions(
        build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE,
                                                     compute_type=codebuild.ComputeType.SMALL),
        partial_build_spec=runtime_build_spec(),
    )


def synth_commands(approved_package_parameters: Mapping[str, str], expected_template: str | None) -> list[str]:
    """``make test``, then ``make synth`` with the recorded approved packages as ``-c approved_packages``.

    The parameters are read in one ``GetParameters`` call: one that does not exist yet is listed as invalid
    rather than failing the call (no approved version for that stage yet), while access errors and throttling
    fail the build. ``expected_template`` (the delivery stack's template file) must come out of the synth:
    CDK Pipelines' self-mutation would otherwise fail later with a less helpful message.
    """
    commands = ["make test"]
    if approved_package_parameters:
        names = " ".join(f'"{name}"' for name in approved_package_parameters.values())
        pairs = " ".join(f'"{stage}={name}"' for stage, name in approved_package_parameters.items())
        commands += [
            f"aws ssm get-parameters --names {names} --output json > {_SSM_RESPONSE}",
            f'APPROVED_PACKAGES="$(python3 {APPROVED_PACKAGES_SCRIPT} {_SSM_RESPONSE} {pairs})"',
            "make synth CONTEXT=\"-c approved_packages='$APPROVED_PACKAGES'\"",
        ]
    else:
        commands.append("make synth")
    if expected_template is not None:
        commands.append(
            f'test -f "cdk.out/{expected_template}" || {{ echo "cdk.out has no {expected_template}: set delivery in '
            f'cdk.json (the pipeline synthesizes what the repository configures, not -c options)"; exit 1; }}')
    return commands


def platform_synth_step(
    scope_stack: Stack,
    *,
    input: pipelines.IFileSetProducer,
    approved_package_parameters: Mapping[str, str],
    expected_template: str | None,
) -> pipelines.CodeBuildStep:
    """The synth ``CodeBuildStep``: its role may read exactly the approved-package parameters."""
    statements = []
    if approved_package_parameters:
        statements.append(iam.PolicyStatement(
            sid="ReadApprovedPackages",
            actions=["ssm:GetParameters"],
            resources=[scope_stack.format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))
                       for name in approved_package_parameters.values()],
        ))
    return pipelines.CodeBuildStep(
        "Synth",
        input=input,
        commands=synth_commands(approved_package_parameters, expected_template),
        primary_output_directory="cdk.out",
        # make test runs the suite on every core: a medium container (4 vCPUs, 7 GB) keeps it to minutes.
        build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE,
                                                     compute_type=codebuild.ComputeType.MEDIUM),
        role_policy_statements=statements,
        timeout=Duration.minutes(45),
    )
