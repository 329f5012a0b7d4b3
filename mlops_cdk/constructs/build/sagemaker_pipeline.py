"""Deploys a SageMaker Pipeline built offline with the sagemaker SDK as ``AWS::SageMaker::Pipeline``."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Mapping
from typing import Any, Union

from aws_cdk import Aws, Fn
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._validation import invalid, require_choice
from ..pipeline_defs.definition_checks import validate_definition
from ..pipeline_defs.placeholders import IMAGE_PLACEHOLDERS, PSEUDO_PARAMETERS, prepare_for_sub
from ._assets import generated_file_asset
from .execution_role import SageMakerExecutionRole
from .images import image_uri
from .pipeline_target import SageMakerPipelineTarget, pipeline_arn_of
from .secure_bucket import SecureBucket

_OWNER = "SageMakerPipeline"
# Inline definitions keep Fn::Sub (region, bucket, role resolved at deploy
# time); beyond this they would crowd CloudFormation's 1 MB template limit.
INLINE_LIMIT_BYTES = 200_000
DEFINITION_LOCATIONS = ("auto", "inline", "s3")

# A TrainingPipeline (mlops_cdk.pipeline_defs), a rendered (definition JSON,
# placeholders) pair, a definition JSON string, or a callable returning one of them.
PipelineSource = Union[Any, tuple[str, frozenset], str, Callable[[], Any]]


class SageMakerPipeline(Construct):
    """An ``AWS::SageMaker::Pipeline`` whose definition was built with the sagemaker SDK at synth time.

    ``pipeline`` is what ``mlops_cdk.pipeline_defs`` builds: a
    ``TrainingPipeline`` (e.g. ``build_training_pipeline(...)``), or a
    ``(definition_json, placeholders)`` pair from ``render_definition`` for
    your own SDK pipeline, or definition JSON from elsewhere, or a
    zero-argument callable returning one of them (so an app that never
    synthesizes this construct never imports the SDK).

    The definition's ``${...}`` placeholders are resolved at deploy time with
    ``Fn::Sub``: the execution role, the data bucket, the region's first-party
    images and the step scripts, which are shipped as one zip asset that the
    role may read. The definition is checked before anything is created
    (duplicate step names, dangling ``Get`` references, the 1 MiB API limit).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: PipelineSource,
        pipeline_name: str,
        role: SageMakerExecutionRole,
        data_bucket: SecureBucket | s3.IBucket,
        scripts_dir: pathlib.Path | str | None = None,
        description: str | None = None,
        definition_location: str = "auto",
    ) -> None:
        super().__init__(scope, id)
        require_choice(_OWNER, "definition_location", definition_location, DEFINITION_LOCATIONS)
        if not isinstance(role, SageMakerExecutionRole):
            raise invalid(_OWNER, "role", role, "a SageMakerExecutionRole")
        if description is not None and len(description) > 3072:
            raise invalid(_OWNER, "description", f"{description[:40]}...", "at most 3072 characters")
        definition, used, scripts_dir, artifact_prefix = _render(pipeline, scripts_dir)
        validate_definition(definition)
        # What a trigger may pass when starting an execution.
        self.parameter_names: tuple[str, ...] = tuple(p["Name"] for p in json.loads(definition).get("Parameters", []))
        unknown = used - set(self._resolvers()) - PSEUDO_PARAMETERS
        if unknown:
            raise invalid(_OWNER, "pipeline", sorted(unknown), f"placeholders among {sorted(self._resolvers())}")

        bucket = data_bucket.bucket if isinstance(data_bucket, SecureBucket) else data_bucket
        self.pipeline_name = pipeline_name
        self.role = role
        self.scripts_asset: s3_assets.Asset | None = None
        if {"ScriptsBucket", "ScriptsArchiveKey"} & used:
            if scripts_dir is None or not pathlib.Path(scripts_dir).is_dir():
                raise invalid(_OWNER, "scripts_dir", scripts_dir, "the folder of the step scripts the definition runs")
            self.scripts_asset = s3_assets.Asset(
                self, "Scripts", path=str(scripts_dir), exclude=["__pycache__", "*.pyc"]
            )
            self._grant_asset_read(self.scripts_asset)
        if artifact_prefix is not None:
            role.grant_bucket_read_write(bucket, prefix=artifact_prefix)

        variables = {name: resolve(self, bucket) for name, resolve in self._resolvers().items() if name in used}
        self.definition_bytes = len(definition.encode())
        location = definition_location
        if location == "auto":
            location = "inline" if self.definition_bytes <= INLINE_LIMIT_BYTES else "s3"
        self.resource = sagemaker.CfnPipeline(
            self,
            "Resource",
            pipeline_name=pipeline_name,
            pipeline_description=description,
            role_arn=role.role_arn,
            pipeline_definition=self._definition_property(location, definition, variables),
        )
        for policy in role.policies:  # executions need the role's permissions from the start
            self.resource.node.add_dependency(policy)

    # ---------------------------------------------------------------- wiring
    def _grant_asset_read(self, asset: s3_assets.Asset) -> None:
        """Read this one asset object (not the whole bootstrap bucket, as ``Asset.grant_read`` would)."""
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[f"arn:{Aws.PARTITION}:s3:::{asset.s3_bucket_name}/{asset.s3_object_key}"],
            )
        )

    @staticmethod
    def _resolvers() -> dict[str, Callable[["SageMakerPipeline", s3.IBucket], str]]:
        """Deploy-time value of each placeholder a definition may use."""
        resolvers: dict[str, Callable[[SageMakerPipeline, s3.IBucket], str]] = {
            "ExecutionRoleArn": lambda self, bucket: self.role.role_arn,
            "DataBucket": lambda self, bucket: bucket.bucket_name,
            "ScriptsBucket": lambda self, bucket: self.scripts_asset.s3_bucket_name,  # type: ignore[union-attr]
            "ScriptsArchiveKey": lambda self, bucket: self.scripts_asset.s3_object_key,  # type: ignore[union-attr]
        }
        for name, key in IMAGE_PLACEHOLDERS.items():
            resolvers[name] = lambda self, bucket, key=key: image_uri(self, key)
        return resolvers

    def _definition_property(self, location: str, definition: str, variables: Mapping[str, str]) -> dict[str, Any]:
        if location == "inline":
            if self.definition_bytes > INLINE_LIMIT_BYTES:
                raise invalid(
                    _OWNER, "definition_location", "inline",
                    f"'s3' or 'auto' for a definition of {self.definition_bytes} bytes (inline limit {INLINE_LIMIT_BYTES})",
                )
            body = Fn.sub(definition, dict(variables)) if variables else definition
            return {"PipelineDefinitionBody": body}
        if variables:
            # An object in S3 is read as is: nothing would resolve its placeholders.
            raise invalid(
                _OWNER, "pipeline",
                f"a {self.definition_bytes}-byte definition with placeholders {sorted(variables)}",
                f"at most {INLINE_LIMIT_BYTES} bytes (inline, resolved per region) or no placeholders (stored in S3)",
            )
        asset = generated_file_asset(self, "Definition", filename="pipeline-definition.json", text=definition)
        self._grant_asset_read(asset)
        return {"PipelineDefinitionS3Location": {"Bucket": asset.s3_bucket_name, "Key": asset.s3_object_key}}

    # ------------------------------------------------------------- public API
    @property
    def pipeline_arn(self) -> str:
        return pipeline_arn_of(self, self.pipeline_name)

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start executions of this pipeline only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:StartPipelineExecution"], resource_arns=[self.pipeline_arn]
        )

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe this pipeline and list/describe its executions."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker:DescribePipeline",
                "sagemaker:ListPipelineExecutions",
                "sagemaker:DescribePipelineExecution",
                "sagemaker:ListPipelineExecutionSteps",
            ],
            resource_arns=[self.pipeline_arn, f"{self.pipeline_arn}/execution/*"],
        )

    def target(
        self,
        *,
        parameters: Mapping[str, str] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = 3,
    ) -> events.IRuleTarget:
        """An EventBridge target starting this pipeline with ``parameters``."""
        return SageMakerPipelineTarget(
            self.pipeline_arn, parameters=parameters, dead_letter_queue=dead_letter_queue, retry_attempts=retry_attempts
        )


def _render(source: PipelineSource, scripts_dir: Any) -> tuple[str, frozenset[str], Any, str | None]:
    """(definition JSON ready for Fn::Sub, placeholders used, scripts folder, artifact prefix)."""
    if callable(source) and not hasattr(source, "render"):
        source = source()
    if hasattr(source, "render"):  # TrainingPipeline
        definition, used = source.render()
        return definition, used, scripts_dir or source.scripts_dir, source.artifact_prefix
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], str):
        definition, used = source  # render_definition output: already escaped for Fn::Sub
        return definition, frozenset(used), scripts_dir, None
    if isinstance(source, str):  # definition JSON from elsewhere
        definition, used = prepare_for_sub(source)
        return definition, used, scripts_dir, None
    raise invalid(
        _OWNER, "pipeline", type(source).__name__,
        "a TrainingPipeline, a (definition_json, placeholders) pair from render_definition, or a callable returning one",
    )
