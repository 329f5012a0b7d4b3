"""Deploys a SageMaker Pipeline definition (built offline with the sagemaker SDK) as ``AWS::SageMaker::Pipeline``."""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Mapping
from typing import Any

import jsii
from aws_cdk import Annotations, ArnFormat, Fn, Resource, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct

from ... import locations
from ..._nag import acknowledge_grant_wildcards
from ..._validation import (
    invalid,
    is_token,
    require_bool,
    require_choice,
    require_description,
    require_key_prefix,
    require_sagemaker_name,
)
from ...lambdas._shared import contract
from ...pipeline_defs.placeholders import IMAGE_PLACEHOLDERS, NETWORK_PLACEHOLDERS, PSEUDO_PARAMETERS
from ..common._assets import generated_file_asset
from ..common.images import image_uri
from ..common.network_access import acknowledge_network_interfaces, network_interface_statements
from ..common.network_placement import NetworkPlacement
from ._pipeline_policy import PipelineRunPolicy
from .pipeline_definition import PipelineDefinition

_OWNER = "SageMakerPipeline"
# Inline definitions keep Fn::Sub (region, bucket, role resolved at deploy
# time); beyond this they would crowd CloudFormation's 1 MB template limit.
INLINE_LIMIT_BYTES = 200_000
DEFINITION_LOCATIONS = ("auto", "inline", "s3")
_SCRIPTS = frozenset({"ScriptsBucket", "ScriptsArchiveKey"})
# Deploy-time value of each placeholder a definition may use.
_Resolver = Callable[["SageMakerPipeline"], str]
_RESOLVERS: dict[str, _Resolver] = {
    "ExecutionRoleArn": lambda self: self.role.role_arn,
    "DataBucket": lambda self: self.data_bucket.bucket_name,
    "ScriptsBucket": lambda self: self.scripts_asset.s3_bucket_name,  # type: ignore[union-attr]
    "ScriptsArchiveKey": lambda self: self.scripts_asset.s3_object_key,  # type: ignore[union-attr]
    **{name: (lambda self, key=key: image_uri(self, key)) for name, key in IMAGE_PLACEHOLDERS.items()},
    # One placeholder stands for a whole JSON list: ["${SubnetIds}"] becomes ["subnet-a","subnet-b"].
    "SubnetIds": lambda self: Fn.join('","', self.network.subnet_ids()),  # type: ignore[union-attr]
    "SecurityGroupIds": lambda self: Fn.join('","', [g.security_group_id for g in self.security_groups]),
}


def pipeline_arn(scope: Construct, pipeline_name: str) -> str:
    """The ARN of ``pipeline_name`` in the stack's partition, region and account (SageMaker lower-cases the name)."""
    name = pipeline_name if is_token(pipeline_name) else pipeline_name.lower()
    return Stack.of(scope).format_arn(service="sagemaker", resource="pipeline", resource_name=name)


@jsii.implements(sagemaker.IPipeline)
class _PipelineBase(Resource):
    """``sagemaker.IPipeline``: name, ARN and grants of one pipeline."""

    _name: str
    _arn: str

    @property
    def pipeline_name(self) -> str:
        return self._name

    @property
    def pipeline_arn(self) -> str:
        return self._arn

    @property
    def pipeline_ref(self) -> sagemaker_refs.PipelineReference:
        return sagemaker_refs.PipelineReference(pipeline_name=self._name)

    def grant_start_pipeline_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start executions of this pipeline only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:StartPipelineExecution"], resource_arns=[self._arn])

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe this pipeline and list and describe its executions and their steps."""
        executions = f"{self._arn}/execution/*"
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:DescribePipeline", "sagemaker:ListPipelineExecutions",
                     "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"],
            resource_arns=[self._arn, executions],
        )
        acknowledge_grant_wildcards(grantee, [(executions, "Executions of this one pipeline are named at run "
                                                           "time; the grant only reads them.")])
        return grant


class SageMakerPipeline(_PipelineBase):
    """An ``AWS::SageMaker::Pipeline`` (a ``sagemaker.IPipeline``) running ``definition`` as ``role``.

    The definition's ``${...}`` placeholders resolve at deploy time with
    ``Fn::Sub``: ``role``, ``data_bucket``, the region's first-party images and
    the step scripts (``definition.scripts_dir``, shipped as one zip asset,
    ``Scripts``). The role gets, through the ``RunPolicy`` this construct owns
    (the pipeline waits for it), exactly what running the pipeline needs:
    read ``input_prefix``, read and write ``locations.pipeline_artifacts(pipeline_name)``
    (with ``data_key``), read its scripts and definition assets, run
    ``pipelines-*`` processing, training and transform jobs and their
    experiments, and pass itself to SageMaker. What every SageMaker job needs
    (logs, metrics, pulling first-party images) is the role's own: a
    ``SageMakerExecutionRole`` has it. An immutable imported role gets nothing
    and must allow all of it already.

    Start it on a schedule with ``aws_scheduler_targets.SageMakerStartPipelineExecution(pipeline)``.

    Args:
        definition: what to run (``PipelineDefinition.from_sdk`` / ``from_json`` / ``lazy`` ...).
        pipeline_name: 1-256 letters, digits and inner hyphens.
        role: the role every step runs as.
        data_bucket: resolves ``${DataBucket}``; inputs and artifacts live there.
        data_key: the bucket's KMS key. Default: ``data_bucket.encryption_key`` (none for SSE-S3).
        input_prefix: what the steps may read. Default ``locations.TRAINING_DATA``.
        description: at most 3072 characters. Default: none.
        definition_location: ``inline`` (``Fn::Sub``), ``s3`` (an asset; no placeholders) or ``auto`` (default).
        network: where the jobs run, for a definition using ``${SubnetIds}`` and ``${SecurityGroupIds}``
            (``build_training_pipeline(vpc=True)``): its subnets and its security groups, or else a group
            ``JobsSecurityGroup`` allowing HTTPS out (``security_groups``); the run policy then lets
            SageMaker manage the jobs' network interfaces.
        peer_traffic: the new group also admits all traffic among its members, which multi-instance
            (distributed) training needs. Default off: the course pipeline runs every job on one instance,
            and the compliance packs flag an all-traffic rule (EC2RestrictedCommonPorts).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        definition: PipelineDefinition,
        pipeline_name: str,
        role: iam.IRole,
        data_bucket: s3.IBucket,
        data_key: kms.IKey | None = None,
        input_prefix: str = locations.TRAINING_DATA,
        description: str | None = None,
        definition_location: str = "auto",
        network: NetworkPlacement | None = None,
        peer_traffic: bool = False,
    ) -> None:
        if not isinstance(definition, PipelineDefinition):
            raise invalid(_OWNER, "definition", type(definition).__name__,
                          "a PipelineDefinition (PipelineDefinition.from_sdk / from_json / from_training_pipeline)")
        require_sagemaker_name(_OWNER, "pipeline_name", pipeline_name, max_length=contract.MAX_PIPELINE_NAME)
        if role is None or isinstance(role, str):
            raise invalid(_OWNER, "role", role, "an iam.IRole (iam.Role.from_role_arn(...) for an existing one)")
        require_key_prefix(_OWNER, "input_prefix", input_prefix)
        if not is_token(input_prefix) and not input_prefix.endswith("/"):
            raise invalid(_OWNER, "input_prefix", input_prefix, "a key prefix ending in '/', e.g. 'training-data/'")
        require_description(_OWNER, "description", description, max_length=contract.MAX_PIPELINE_DESCRIPTION)
        require_choice(_OWNER, "definition_location", definition_location, DEFINITION_LOCATIONS)
        artifacts = locations.pipeline_artifacts(pipeline_name)
        if definition.artifact_prefix not in (None, artifacts):
            raise invalid(_OWNER, "definition", f"a definition writing under '{definition.artifact_prefix}'",
                          f"one writing under '{artifacts}' (built with pipeline_name={pipeline_name!r})")
        if _SCRIPTS & definition.placeholders and definition.scripts_dir is None:
            raise invalid(_OWNER, "definition", f"a definition using {sorted(_SCRIPTS)} without scripts_dir",
                          "a definition with the folder of the step scripts it runs")
        if network is not None and not isinstance(network, NetworkPlacement):
            raise invalid(_OWNER, "network", network, "a NetworkPlacement, or None")
        require_bool(_OWNER, "peer_traffic", peer_traffic)
        if NETWORK_PLACEHOLDERS & definition.placeholders and network is None:
            raise invalid(_OWNER, "network", None, "a NetworkPlacement for a definition using "
                          f"{sorted(NETWORK_PLACEHOLDERS & definition.placeholders)} (its jobs run in a VPC)")
        super().__init__(scope, id, physical_name=pipeline_name)

        self.definition = definition
        self.role = role
        self.data_bucket = data_bucket
        self.parameter_names: tuple[str, ...] = definition.parameter_names
        self.definition_bytes = definition.size_bytes
        self.policy = PipelineRunPolicy(self, "RunPolicy", role=role)
        self.policy.allow_data(data_bucket, data_key if data_key is not None else data_bucket.encryption_key,
                               read=input_prefix, read_write=artifacts)
        self.policy.allow_jobs(role)
        self.network = network
        self.security_groups: list[ec2.ISecurityGroup] = []
        if network is not None:
            self._place_jobs(network, peer_traffic)

        self.scripts_asset: s3_assets.Asset | None = None
        if _SCRIPTS & definition.placeholders:
            self.scripts_asset = s3_assets.Asset(
                self, "Scripts", path=str(pathlib.Path(definition.scripts_dir)),  # type: ignore[arg-type]
                exclude=["__pycache__", "*.pyc"])
            self.policy.allow_asset(self.scripts_asset, listed=True)

        location = definition_location
        if location == "auto":
            location = "inline" if self.definition_bytes <= INLINE_LIMIT_BYTES else "s3"
        variables = {name: _RESOLVERS[name](self) for name in sorted(definition.placeholders - PSEUDO_PARAMETERS)}
        self.resource = sagemaker.CfnPipeline(
            self,
            "Resource",
            pipeline_name=pipeline_name,
            pipeline_description=description,
            role_arn=role.role_arn,
            pipeline_definition=self._definition_property(location, variables),
        )
        # An execution may start as soon as the pipeline exists: its permissions must be there first.
        self.resource.node.add_dependency(self.policy)

        # References: a consumer in another stack (a schedule, a trigger) depends on this stack.
        self._name = self._get_resource_name_attribute(self.resource.ref)
        lower_case = is_token(pipeline_name) or pipeline_name == pipeline_name.lower()
        # SageMaker lower-cases the name in ARNs, which CloudFormation cannot do to a reference.
        arn = pipeline_arn(self, self._name if lower_case else pipeline_name)
        self._arn = self._get_resource_arn_attribute(
            arn, service="sagemaker", resource="pipeline",
            resource_name=pipeline_name if is_token(pipeline_name) else pipeline_name.lower())

    def _place_jobs(self, network: NetworkPlacement, peer_traffic: bool) -> None:
        """The jobs' security groups, and the network interfaces SageMaker creates for them."""
        if not NETWORK_PLACEHOLDERS & self.definition.placeholders:
            Annotations.of(self).add_warning_v2(
                "mlops-cdk:pipeline-network-unused",
                f"network is set but the definition uses none of {sorted(NETWORK_PLACEHOLDERS)}: its jobs run "
                "outside the VPC (build_training_pipeline(vpc=True) uses them)")
            return
        self.security_groups = network.security_groups_for(
            self, "JobsSecurityGroup", peer_traffic=peer_traffic,
            description=f"Jobs of pipeline {self.node.path}: HTTPS out" + (
                ", all traffic among the instances of one job" if peer_traffic else " only"))
        self.policy.add_statements(*network_interface_statements("sagemaker"))
        acknowledge_network_interfaces(self.policy, "sagemaker")

    # ------------------------------------------------------------- importers
    @staticmethod
    def from_pipeline_name(scope: Construct, id: str, pipeline_name: str) -> sagemaker.IPipeline:
        """A pipeline of this stack's account and region, by name (it need not exist yet)."""
        require_sagemaker_name(_OWNER, "pipeline_name", pipeline_name, max_length=contract.MAX_PIPELINE_NAME)
        return _ImportedPipeline(scope, id, name=pipeline_name, arn=pipeline_arn(scope, pipeline_name))

    @staticmethod
    def from_pipeline_arn(scope: Construct, id: str, pipeline_arn: str) -> sagemaker.IPipeline:
        """A pipeline by ARN; its name is the (lower-case) one in the ARN."""
        allowed = "arn:<partition>:sagemaker:<region>:<account>:pipeline/<name>"
        if not is_token(pipeline_arn) and (not isinstance(pipeline_arn, str) or not pipeline_arn.startswith("arn:")):
            raise invalid(_OWNER, "pipeline_arn", pipeline_arn, allowed)
        parts = Stack.of(scope).split_arn(pipeline_arn, ArnFormat.SLASH_RESOURCE_NAME)
        if not is_token(pipeline_arn) and (
                parts.service != "sagemaker" or parts.resource != "pipeline" or not parts.resource_name):
            raise invalid(_OWNER, "pipeline_arn", pipeline_arn, allowed)
        return _ImportedPipeline(scope, id, name=parts.resource_name, arn=pipeline_arn, from_arn=True)

    # --------------------------------------------------------------- internals
    def _definition_property(self, location: str, variables: Mapping[str, str]) -> dict[str, Any]:
        body = self.definition.body
        if location == "inline":
            if self.definition_bytes > INLINE_LIMIT_BYTES:
                raise invalid(
                    _OWNER, "definition_location", "inline",
                    f"'s3' or 'auto' for a definition of {self.definition_bytes} bytes (inline limit {INLINE_LIMIT_BYTES})",
                )
            return {"PipelineDefinitionBody": Fn.sub(body, dict(variables)) if variables else body}
        if variables:
            # An object in S3 is read as is: nothing would resolve its placeholders.
            raise invalid(
                _OWNER, "definition",
                f"a {self.definition_bytes}-byte definition with placeholders {sorted(variables)}",
                f"at most {INLINE_LIMIT_BYTES} bytes (inline, resolved per region) or no placeholders (stored in S3)",
            )
        asset = generated_file_asset(self, "Definition", filename="pipeline-definition.json", text=body)
        self.policy.allow_asset(asset, listed=False)
        return {"PipelineDefinitionS3Location": {"Bucket": asset.s3_bucket_name, "Key": asset.s3_object_key}}


class _ImportedPipeline(_PipelineBase):
    """A pipeline this app does not create: name, ARN and grants; creates nothing."""

    def __init__(self, scope: Construct, id: str, *, name: str, arn: str, from_arn: bool = False) -> None:
        super().__init__(scope, id, environment_from_arn=arn if from_arn else None)
        self._name = name
        self._arn = arn
