"""The endpoint test after a stage's deployment: a role in the stage's account and the pipeline step that uses it.

CDK Pipelines runs every step in the pipeline's account, while the endpoint is in the stage's: the step
assumes :class:`EndpointTestAccess`'s role there, which may invoke that one endpoint, describe the served
model package and read test-split objects, nothing else. The step runs
``mlops_cdk/delivery_checks/endpoint_test.py`` from the repository checkout (what it checks: that module).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import re

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import pipelines
from constructs import Construct

from ..._nag import acknowledge_bucket_grant
from ..._validation import (
    invalid,
    is_token,
    require_account_id,
    require_int,
    require_model_package,
    require_pattern,
)
from ..common.key_policies import allow_decrypt_through_s3
from ...lambdas._shared import contract

SCRIPT = "mlops_cdk/delivery_checks/endpoint_test.py"
# preprocess.py writes <pipeline>/<execution id>/PreprocessData/test/test.csv (TrainingPipeline._artifacts).
TEST_SPLIT_KEY_PATTERN = "*/PreprocessData/test/*"
_OWNER = "EndpointTestAccess"
_KEY_PATTERN_RE = re.compile(r"^(?!/)\S+$")
_ROLE_NAME_MAX = 64


class EndpointTestAccess(Construct):
    """The role the pipeline's endpoint test assumes in the stage's account, and the outputs the step reads.

    ``role_name`` is fixed so the pipeline (another account, another template) can name it in its
    ``sts:AssumeRole`` policy; ``trusted_account`` (the pipeline's account) may assume it. Outputs:
    ``ModelPackageArn`` (the served version, whose test split is read), ``RoleArn`` and ``EndpointName``,
    unless ``endpoint_name_output`` is given: an output of the endpoint's own stack (the serving stack's
    ``EndpointName``), so this stack does not re-export an imported value (cfn-lint W6001).
    ``samples_bucket`` holds the test split (the bucket of the stage that trained the version); an imported
    bucket without its key gets decryption through S3 only (``kms:ViaService``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: sagemaker.IEndpoint,
        model_package_arn: str,
        trusted_account: str,
        role_name: str,
        samples_bucket: s3.IBucket,
        samples_key_pattern: str = TEST_SPLIT_KEY_PATTERN,
        endpoint_name_output: CfnOutput | None = None,
    ) -> None:
        require_model_package(_OWNER, "model_package_arn", model_package_arn)
        require_account_id(_OWNER, "trusted_account", trusted_account)
        require_pattern(_OWNER, "samples_key_pattern", samples_key_pattern, _KEY_PATTERN_RE,
                        "an S3 key pattern like */PreprocessData/test/*")
        if not isinstance(role_name, str) or not 1 <= len(role_name) <= _ROLE_NAME_MAX or \
                not all(c.isalnum() or c in "+=,.@_-" for c in role_name):
            raise invalid(_OWNER, "role_name", role_name, f"an IAM role name: 1-{_ROLE_NAME_MAX} of letters, "
                          "digits and +=,.@_-")
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.role_name = role_name
        package = model_package_arn if is_token(model_package_arn) or model_package_arn.startswith("arn:") \
            else stack.format_arn(service="sagemaker", resource="model-package", resource_name=model_package_arn)
        self.role = iam.Role(
            self, "Role", role_name=role_name, assumed_by=iam.AccountPrincipal(trusted_account),
            description=f"Endpoint test of the delivery pipeline in {trusted_account}",
            max_session_duration=Duration.hours(1),
        )
        endpoint.grant_invoke(self.role)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DescribeServedVersion", actions=["sagemaker:DescribeModelPackage"], resources=[package]))
        samples_bucket.grant_read(self.role, samples_key_pattern)
        acknowledge_bucket_grant(self.role, samples_bucket, samples_key_pattern,
                                 "the endpoint test reads rows of the served version's test split, written per run.")
        if samples_bucket.encryption_key is None:
            allow_decrypt_through_s3(
                self.role, samples_bucket, sid="DecryptTestSplitThroughS3",
                why="The key of another stage's bucket is not known here; decryption is limited to S3 reads of "
                    "that bucket's objects by kms:ViaService and the S3 encryption context.")
        self.endpoint_name_output = endpoint_name_output or CfnOutput(
            self, "EndpointName", value=endpoint.endpoint_name, description="Endpoint the delivery pipeline tests")
        self.model_package_output = CfnOutput(self, "ModelPackageArn", value=package,
                                              description="Model package version the endpoint serves")
        self.role_arn_output = CfnOutput(self, "RoleArn", value=self.role.role_arn,
                                         description="Role the delivery pipeline's endpoint test assumes")


@dataclasses.dataclass(frozen=True)
class EndpointTestOptions:
    """What the endpoint test accepts (``DeliverySettings`` carries the validated values)."""

    max_latency_ms: int = 2000
    sample_records: int = 20
    problem_type: str = "BinaryClassification"
    feature_count: int | None = None
    samples_file: str | None = None

    def __post_init__(self) -> None:
        owner = "EndpointTestOptions"
        require_int(owner, "max_latency_ms", self.max_latency_ms, minimum=1, maximum=60_000)
        require_int(owner, "sample_records", self.sample_records, minimum=1, maximum=1000)
        if self.problem_type not in contract.PROBLEM_TYPES:
            raise invalid(owner, "problem_type", self.problem_type, " | ".join(contract.PROBLEM_TYPES))
        if self.feature_count is not None:
            require_int(owner, "feature_count", self.feature_count, minimum=1)


def endpoint_test_step(
    stage_name: str,
    *,
    input: pipelines.IFileSetProducer,
    options: EndpointTestOptions,
    access: EndpointTestAccess | None,
    role_arn: str | None,
    region: str | None,
) -> pipelines.CodeBuildStep:
    """The ``EndpointTest`` step of one stage; without ``access`` (no endpoint) it only reports the skip.

    ``role_arn`` is ``access``'s role as the pipeline's template spells it (account + fixed name): a
    reference to the role itself would cross stacks of different stages.
    """
    env = {"STAGE": stage_name, "MAX_LATENCY_MS": str(options.max_latency_ms),
           "SAMPLE_RECORDS": str(options.sample_records), "PROBLEM_TYPE": options.problem_type}
    if options.feature_count is not None:
        env["FEATURE_COUNT"] = str(options.feature_count)
    if options.samples_file is not None:
        env["SAMPLES_FILE"] = options.samples_file
    if region is not None:
        env["ENDPOINT_REGION"] = region
    outputs, statements = {}, []
    if access is not None:
        if role_arn is None:
            raise invalid("endpoint_test_step", "role_arn", None, "the ARN of access's role, with access")
        outputs = {"ENDPOINT_NAME": access.endpoint_name_output, "MODEL_PACKAGE_ARN": access.model_package_output,
                   "ROLE_ARN": access.role_arn_output}
        statements = [iam.PolicyStatement(sid="AssumeEndpointTestRole", actions=["sts:AssumeRole"],
                                          resources=[role_arn])]
    return pipelines.CodeBuildStep(
        "EndpointTest",
        input=input,
        install_commands=[f"python3 -m pip install --quiet boto3=={_boto3_version()}"] if access else [],
        commands=[f"python3 {SCRIPT}"],
        env=env,
        env_from_cfn_outputs=outputs,
        role_policy_statements=statements,
        timeout=Duration.minutes(15),
    )


def _boto3_version() -> str:
    """The boto3 release the library runs with: the step installs the same one."""
    return importlib.metadata.version("boto3")
