"""The IAM policy a SageMaker pipeline's role needs to run it, owned by the pipeline construct.

An ``iam.Policy`` of its own (not the role's default policy): the role may
live in another stack or be imported, and the pipeline resource can depend
on exactly this policy. Every statement names its resources; each wildcard
is a run-time name (job, trial, object key) under a fixed prefix, and is
acknowledged for cdk-nag with that reason.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from ..._nag import acknowledge_wildcard_resources
from ..._pseudo import Aws

JOB_KINDS = ("processing-job", "training-job", "transform-job")
JOB_ACTIONS = tuple(
    f"sagemaker:{verb}{kind}Job"
    for kind in ("Processing", "Training", "Transform") for verb in ("Create", "Describe", "Stop")
) + ("sagemaker:AddTags",)
EXPERIMENT_KINDS = ("experiment", "experiment-trial", "experiment-trial-component")
EXPERIMENT_ACTIONS = (
    "sagemaker:CreateExperiment", "sagemaker:CreateTrial", "sagemaker:CreateTrialComponent",
    "sagemaker:AssociateTrialComponent", "sagemaker:UpdateTrialComponent",
    "sagemaker:DescribeExperiment", "sagemaker:DescribeTrial", "sagemaker:DescribeTrialComponent",
    "sagemaker:AddTags",
)


class PipelineRunPolicy(iam.Policy):
    """An ``iam.Policy`` attached to ``role``.

    Attached through ``role.attach_inline_policy``, which an immutable imported
    role ignores: the policy then has no principal and is not synthesized.
    """

    def __init__(self, scope: Construct, id: str, *, role: iam.IRole) -> None:
        super().__init__(scope, id)
        role.attach_inline_policy(self)

    def allow_data(self, bucket: s3.IBucket, key: kms.IKey | None, *, read: str, read_write: str) -> None:
        """Read objects under ``read``, read and write under ``read_write``, list both; use ``key``."""
        inputs, artifacts = bucket.arn_for_objects(f"{read}*"), bucket.arn_for_objects(f"{read_write}*")
        self.add_statements(
            iam.PolicyStatement(sid="ReadInputs", actions=["s3:GetObject"], resources=[inputs]),
            iam.PolicyStatement(sid="ReadWriteArtifacts",
                                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                                resources=[artifacts]),
            # Steps read S3 prefixes (not single objects): SageMaker lists them first.
            iam.PolicyStatement(sid="ListInputsAndArtifacts", actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                                conditions={"StringLike": {"s3:prefix": [f"{read}*", f"{read_write}*"]}}),
        )
        if key is not None:
            self.add_statements(iam.PolicyStatement(
                sid="UseDataKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]))
        acknowledge_wildcard_resources(self, [
            (inputs, f"The pipeline's input data is whatever lands under '{read}'; read-only there."),
            (artifacts, f"Each execution writes under '{read_write}<execution id>/', named at run time."),
        ])

    def allow_asset(self, asset: s3_assets.Asset, *, listed: bool) -> None:
        """Read one asset object (not the whole bootstrap bucket, as ``Asset.grant_read`` would)."""
        self.add_statements(iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[asset.bucket.arn_for_objects(asset.s3_object_key)]))
        if listed:  # a processing input of type S3Prefix: SageMaker lists the key first
            self.add_statements(iam.PolicyStatement(
                actions=["s3:ListBucket"], resources=[asset.bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": [asset.s3_object_key]}}))

    def allow_jobs(self, role: iam.IRole) -> None:
        """Run the pipeline's jobs and experiments, and pass ``role`` (only) to SageMaker."""
        arn = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        jobs = [f"{arn}:{kind}/pipelines-*" for kind in JOB_KINDS]
        experiments = [f"{arn}:{kind}/*" for kind in EXPERIMENT_KINDS]
        self.add_statements(
            iam.PolicyStatement(sid="PipelineJobs", actions=list(JOB_ACTIONS), resources=jobs),
            iam.PolicyStatement(sid="PipelineExperiments", actions=list(EXPERIMENT_ACTIONS), resources=experiments),
            iam.PolicyStatement(
                sid="PassOwnRoleToSageMaker", actions=["iam:PassRole"], resources=[role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
        )
        acknowledge_wildcard_resources(self, [
            *((job, "Pipeline job names are generated per execution; limited to the 'pipelines-' prefix "
               "SageMaker gives them.") for job in jobs),
            *((experiment, "Experiment and trial names derive from pipeline execution ids, known only at run "
               "time.") for experiment in experiments),
        ])
