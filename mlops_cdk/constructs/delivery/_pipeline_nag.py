"""cdk-nag acknowledgments for the IAM policies CDK Pipelines generates, each finding by its exact id.

CDK Pipelines creates its roles and policies while the app synthesizes (the pipeline is built by an
aspect), so the ids are computed at validation time from the policies as rendered: every wildcard
is matched to one of the kinds below, with the reason it is safe, and acknowledged on the policy that
holds it. A wildcard of any other kind stays a finding: a new aws-cdk-lib release that grants more
shows up in cdk-nag instead of being waved through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import jsii
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import IConstruct, IValidation

from ..._nag import acknowledge, flatten_cfn_reference

# Action groups of aws-cdk-lib's bucket and key grants on the artifact bucket.
ARTIFACT_ACTIONS = {
    "s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*",
    "kms:GenerateDataKey*", "kms:ReEncrypt*",
}
_ACTION_REASON = ("An aws-cdk-lib grant action group on the delivery pipeline's artifact bucket or its key, "
                  "which hold nothing but this pipeline's run artifacts.")
# One ARN segment: text without ':', or a token as cdk-nag spells it (<AWS::AccountId>, <Project1234>).
_SEGMENT = r"(?:<[^<>]+>|[^:<>]+)"
_SHARED_ASSET_ROLE = ("of the asset-publishing CodeBuild projects, which share one role created before their "
                      "generated names exist (aws-cdk-lib's grant); the role is assumable by CodeBuild only")
_KINDS = (
    # (pattern of the flattened resource, reason)
    (re.compile(rf"^arn:{_SEGMENT}:logs:{_SEGMENT}:{_SEGMENT}:log-group:/aws/codebuild/[^:*]+:\*$"),
     "The log streams of one CodeBuild project of the pipeline: CodeBuild names a stream per build."),
    (re.compile(rf"^arn:{_SEGMENT}:codebuild:{_SEGMENT}:{_SEGMENT}:report-group/[^*]+-\*$"),
     "The test report groups of one CodeBuild project of the pipeline, named after the project."),
    (re.compile(rf"^arn:{_SEGMENT}:logs:{_SEGMENT}:{_SEGMENT}:log-group:/aws/codebuild/\*$"),
     f"The CodeBuild logs {_SHARED_ASSET_ROLE}."),
    (re.compile(rf"^arn:{_SEGMENT}:codebuild:{_SEGMENT}:{_SEGMENT}:report-group/\*$"),
     f"The report groups {_SHARED_ASSET_ROLE}."),
)
_BOOTSTRAP_ROLES = re.compile(rf"^arn:\*:iam::{_SEGMENT}:role/\*$")
_BOOTSTRAP_REASON = ("CDK Pipelines assumes the CDK bootstrap roles of the target accounts; their names depend on the "
                     "bootstrap qualifier, so the statement is limited by the aws-cdk:bootstrap-role tag instead.")
# Read-only calls of self-mutation and asset publishing that take no resource ARN.
_UNSCOPED_READS = {"cloudformation:DescribeStacks", "s3:ListBucket", "s3:GetBucketLocation"}
_UNSCOPED_REASON = ("Read-only calls CDK Pipelines' self-mutation makes to find the stacks it updates; they accept "
                    "no narrower resource.")
_BUILD_CALLS = {"codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"}
_BUILD_CALLS_REASON = f"CodeBuild build calls {_SHARED_ASSET_ROLE}."


@jsii.implements(IValidation)
class _PipelineAcknowledgments:
    def __init__(self, scope: IConstruct, artifact_bucket: s3.IBucket) -> None:
        self._scope = scope
        self._bucket = artifact_bucket

    def validate(self) -> list[str]:
        artifacts = flatten_cfn_reference(Stack.of(self._scope).resolve(self._bucket.bucket_arn)) + "/*"
        for node in self._scope.node.find_all():
            if isinstance(node, iam.CfnPolicy):
                document = Stack.of(node).resolve(node.policy_document)
                for statement in document.get("Statement", []):
                    for rule_id, reason in _findings(statement, artifacts):
                        acknowledge(node, rule_id, reason)
        return []


def _findings(statement: dict[str, Any], artifacts: str) -> Iterable[tuple[str, str]]:
    actions = set(_as_list(statement.get("Action")))
    for action in sorted(a for a in actions if "*" in a):
        if action in ARTIFACT_ACTIONS:
            yield f"AwsSolutions-IAM5[Action::{action}]", _ACTION_REASON
    for resource in _as_list(statement.get("Resource")):
        flat = flatten_cfn_reference(resource)
        if "*" not in flat:
            continue
        reason = None
        if flat == artifacts and actions <= ARTIFACT_ACTIONS | {"s3:PutObject", "s3:PutObjectLegalHold",
                                                                "s3:PutObjectRetention", "s3:PutObjectTagging",
                                                                "s3:PutObjectVersionTagging"}:
            reason = "Run artifacts under the pipeline's own artifact bucket, one object per action execution."
        elif _BOOTSTRAP_ROLES.match(flat) and "aws-cdk:bootstrap-role" in str(statement.get("Condition")):
            reason = _BOOTSTRAP_REASON
        elif flat == "*" and actions <= _UNSCOPED_READS:
            reason = _UNSCOPED_REASON
        elif flat == "*" and actions <= _BUILD_CALLS:
            reason = _BUILD_CALLS_REASON
        else:
            reason = next((why for pattern, why in _KINDS if pattern.match(flat)), None)
        if reason is not None:
            yield f"AwsSolutions-IAM5[Resource::{flat}]", reason


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def acknowledge_pipeline_policies(pipeline: IConstruct, artifact_bucket: s3.IBucket) -> None:
    """Acknowledge, at validation time, the known wildcard kinds in every policy under ``pipeline``."""
    pipeline.node.add_validation(_PipelineAcknowledgments(pipeline, artifact_bucket))
