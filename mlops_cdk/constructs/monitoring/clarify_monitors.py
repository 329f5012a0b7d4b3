"""Bias and feature-attribution drift monitoring with SageMaker Clarify.

The Clarify jobs read their analysis config (facets and labels; SHAP baseline and predictor)
from an S3 object. The construct writes that JSON at synth time from its options
(``BiasOptions.analysis_config()``, ``FeatureAttributionOptions.analysis_config()``) and ships
it as a CDK file asset (a content-hashed object in the bootstrap assets bucket, uploaded by
``cdk deploy`` before the stack is created); the job role may read exactly that object.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ... import locations
from ..._nag import acknowledge
from ..._pseudo import Aws
from ..._validation import invalid
from ...settings.monitoring import SHADOW_ENDPOINT_PREFIX, BiasOptions, FeatureAttributionOptions
from ..common._assets import generated_file_asset
from .monitor_base import MonitorBase

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .monitor_base import MonitorProps


class _ClarifyMonitor(MonitorBase):
    IMAGE = "clarify"

    def _ship_analysis_config(self, config: dict[str, Any]) -> str:
        """The S3 URL of ``config`` shipped as an asset the job role may read."""
        self.analysis_config = config
        asset = generated_file_asset(self, "AnalysisConfig", filename="analysis_config.json",
                                     text=json.dumps(config, indent=1, sort_keys=True) + "\n")
        self.policy.add_statements(iam.PolicyStatement(
            sid="ReadAnalysisConfig", actions=["s3:GetObject"],
            resources=[asset.bucket.arn_for_objects(asset.s3_object_key)]))
        return asset.s3_object_url


class BiasMonitor(_ClarifyMonitor):
    """Bias drift of a binary classifier on a sensitive facet (Clarify), on a schedule (daily by default).

    Creates an ``AWS::SageMaker::ModelBiasJobDefinition`` (Clarify image), its schedule
    (``options.schedule``) and the analysis-config asset. Ground truth is read under
    ``ground_truth_prefix`` (``locations.GROUND_TRUTH``) of ``ground_truth_bucket`` (default
    ``output_bucket``). ``options`` (a ``BiasOptions``) holds the facet, labels and where the
    prediction is; everything else is ``MonitorBase``'s. On an hourly schedule ``max_runtime``
    defaults to, and may be at most, 30 minutes (SageMaker's cap).
    """

    MONITORING_TYPE = "ModelBias"
    PROPS_PREFIX = "model_bias"
    HOURLY_MAX_RUNTIME = 1800  # SageMaker: the ground-truth merge and the analysis share an hourly run

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: BiasOptions,
        ground_truth_bucket: s3.IBucket | None = None,
        ground_truth_prefix: str = locations.GROUND_TRUTH,
        **props: Unpack[MonitorProps],
    ) -> None:
        if not isinstance(options, BiasOptions):
            raise invalid(type(self).__name__, "options", options, "a BiasOptions")
        super().__init__(scope, id, schedule=options.schedule, **props)
        self.options = options
        self.ground_truth_s3_uri = self._read_ground_truth(ground_truth_bucket, ground_truth_prefix)
        self.analysis_config_uri = self._ship_analysis_config(options.analysis_config())
        cfn = sagemaker.CfnModelBiasJobDefinition
        self._create(
            cfn,
            app_specification=cfn.ModelBiasAppSpecificationProperty(
                image_uri=self._image_uri(), config_uri=self.analysis_config_uri, environment=dict(self._environment)),
            job_input=self._labelled_job_input(cfn, cfn.ModelBiasJobInputProperty, options, self.ground_truth_s3_uri,
                                               features_attribute=options.features_attribute),
            baseline_config=self._constraints_baseline(cfn, cfn.ModelBiasBaselineConfigProperty,
                                                       options.constraints_key),
        )


class FeatureAttributionMonitor(_ClarifyMonitor):
    """Feature-attribution (SHAP) drift with Clarify, on a schedule (daily by default).

    Creates an ``AWS::SageMaker::ModelExplainabilityJobDefinition`` (Clarify image), its
    schedule (``options.schedule``) and the analysis-config asset. Clarify computes SHAP values
    of captured records on a temporary *shadow endpoint* serving ``options.model_name`` (never
    the production endpoint), so the job needs network access (network isolation is off by
    default) and its role may create, invoke and delete endpoints named
    ``mlops-clarify-shadow*`` only, and describe that model.
    """

    MONITORING_TYPE = "ModelExplainability"
    PROPS_PREFIX = "model_explainability"
    DEFAULT_NETWORK_ISOLATION = False

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: FeatureAttributionOptions,
        **props: Unpack[MonitorProps],
    ) -> None:
        if not isinstance(options, FeatureAttributionOptions):
            raise invalid(type(self).__name__, "options", options, "a FeatureAttributionOptions")
        super().__init__(scope, id, schedule=options.schedule, **props)
        self.options = options
        self.analysis_config_uri = self._ship_analysis_config(options.analysis_config())
        self._grant_shadow_endpoint(options.model_name)
        cfn = sagemaker.CfnModelExplainabilityJobDefinition
        self._create(
            cfn,
            app_specification=cfn.ModelExplainabilityAppSpecificationProperty(
                image_uri=self._image_uri(), config_uri=self.analysis_config_uri, environment=dict(self._environment)),
            job_input=cfn.ModelExplainabilityJobInputProperty(endpoint_input=self._endpoint_input(
                cfn,
                features_attribute=options.features_attribute,
                inference_attribute=options.inference_attribute,
                probability_attribute=options.probability_attribute,
            )),
            baseline_config=self._constraints_baseline(cfn, cfn.ModelExplainabilityBaselineConfigProperty,
                                                       options.constraints_key),
        )

    def _grant_shadow_endpoint(self, model_name: str) -> None:
        arn = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="ManageClarifyShadowEndpoints",
                actions=["sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig",
                         "sagemaker:DeleteEndpointConfig", "sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint",
                         "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:AddTags"],
                resources=[f"{arn}:endpoint/{SHADOW_ENDPOINT_PREFIX}*",
                           f"{arn}:endpoint-config/{SHADOW_ENDPOINT_PREFIX}*"],
            ),
            iam.PolicyStatement(sid="DescribeExplainedModel", actions=["sagemaker:DescribeModel"],
                                resources=[f"{arn}:model/{model_name}"]),
        )
        for resource in ("endpoint", "endpoint-config"):
            acknowledge(
                self.policy,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
                f"{resource}/{SHADOW_ENDPOINT_PREFIX}*]",
                "Clarify names each run's temporary shadow endpoint at run time; limited to the "
                f"'{SHADOW_ENDPOINT_PREFIX}' prefix set in the analysis config.",
            )


__all__ = ["BiasMonitor", "FeatureAttributionMonitor"]
