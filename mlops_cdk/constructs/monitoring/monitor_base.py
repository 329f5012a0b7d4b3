"""What the four Model Monitor constructs share: props, grants, the job definition's common parts, schedule, names.

A SageMaker Model Monitor is a *job definition* (``AWS::SageMaker::*JobDefinition``: image,
inputs, baselines, outputs, cluster, network, runtime) plus an
``AWS::SageMaker::MonitoringSchedule`` that starts it. ``MonitorBase`` validates the props
every monitor takes, grants the job role what every job needs, builds the common parts of
the job definition with the typed ``Cfn*JobDefinition.*Property`` classes and creates both
resources; each monitor adds its inputs, baselines and app specification.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypedDict

import jsii
from aws_cdk import Duration, IStableStringProducer, Lazy, Names, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ... import locations
from ..._validation import (
    invalid,
    is_token,
    require_bool,
    require_duration,
    require_instance_type,
    require_int,
    require_key_prefix,
    require_pattern,
    require_sagemaker_name,
)
from ...lambdas._shared import contract
from ...settings.monitoring import MonitorSchedule
from ..common.images import image_repository_arn, image_uri
from .job_grants import JobGrants

_HASH_LEN = 8
MAX_SCHEDULE_NAME = contract.MAX_MONITORING_SCHEDULE_NAME - 1 - _HASH_LEN  # room for "-<hash>"
ENDPOINT_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
OUTPUT_LOCAL_PATH = "/opt/ml/processing/output"
PUBLISH_METRICS_ENV = "publish_cloudwatch_metrics"  # read by the Model Monitor and Clarify containers
# The containers publish per Endpoint + MonitoringSchedule, once per run; alarms read them per hour.
METRIC_PERIOD = Duration.hours(1)
_ENV_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_MAX_SUBNETS, _MAX_SECURITY_GROUPS = 16, 5


class MonitorProps(TypedDict, total=False):
    """Keyword props every monitor takes (see ``MonitorBase``)."""

    endpoint: sagemaker.IEndpoint
    role: iam.IRole
    output_bucket: s3.IBucket
    output_prefix: str
    encryption_key: kms.IKey | None
    capture_bucket: s3.IBucket | None
    capture_prefix: str
    capture_key: kms.IKey | None
    baseline_bucket: s3.IBucket | None
    schedule_name: str | None
    instance_type: str
    instance_count: int
    volume_size_gb: int
    max_runtime: Duration
    enable_cloudwatch_metrics: bool
    network_isolation: bool | None
    subnets: Sequence[ec2.ISubnet]
    security_groups: Sequence[ec2.ISecurityGroup]
    environment: Mapping[str, str] | None


@jsii.implements(IStableStringProducer)
class _Producer:
    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str:
        return self._produce()


class MonitorBase(Construct):
    """Base of ``DataQualityMonitor``, ``ModelQualityMonitor``, ``BiasMonitor`` and ``FeatureAttributionMonitor``.

    Props (keyword-only, shared by all four):
      * ``endpoint`` -- the monitored ``sagemaker.IEndpoint``, with data capture enabled;
      * ``role`` -- the ``iam.IRole`` the jobs run as (trusted by ``sagemaker.amazonaws.com``,
        possibly of another stack). The monitor grants it, in an ``iam.Policy`` of its own:
        pulling its image, the processing-job logs, publishing metrics, reading the captured
        data, baselines (and ground truth) and writing its outputs, with their KMS keys (a
        role imported with ``mutable=False`` is left alone: it must already allow all that);
      * ``output_bucket`` / ``output_prefix`` (``locations.MONITORING_REPORTS``) -- reports go
        to ``s3://<bucket>/<output_prefix><schedule_name>``;
      * ``encryption_key`` -- encrypts the job volumes and outputs, and decrypts the objects
        of a bucket that exposes no key (default: ``output_bucket.encryption_key``; one is required);
      * ``capture_bucket`` (default ``output_bucket``), ``capture_prefix``
        (``locations.DATA_CAPTURE``), ``capture_key`` (default the bucket's key) -- the
        endpoint's ``DataCaptureConfig`` destination;
      * ``baseline_bucket`` -- where the baselines are (default ``output_bucket``);
      * ``schedule_name`` -- at most 54 characters (default: unique per construct path);
      * ``instance_type`` (``ml.m5.xlarge``), ``instance_count`` (1), ``volume_size_gb`` (20),
        ``max_runtime`` (at most the schedule's ``interval_hours``, and on an hourly schedule at
        most ``HOURLY_MAX_RUNTIME``: 1 hour, 30 minutes for model quality and bias, whose run
        SageMaker splits between a ground-truth merge job and the analysis; default 1 hour
        within those limits);
      * ``enable_cloudwatch_metrics`` (True) -- the container publishes its metrics;
      * ``network_isolation`` (True except for feature attribution, whose Clarify job calls a
        shadow endpoint); ``subnets`` + ``security_groups`` run the job in a VPC;
        inter-container traffic is always encrypted;
      * ``environment`` -- extra container environment variables.

    Exposes ``job_definition`` and ``schedule`` (the L1 resources; ``schedule`` is an
    ``IMonitoringScheduleRef``), ``job_definition_name``, ``schedule_name``, ``schedule_arn``,
    ``monitor_schedule``, ``endpoint``, ``output_s3_uri``, ``policy``, ``monitoring_type``.
    """

    MONITORING_TYPE: ClassVar[str]  # DataQuality | ModelQuality | ModelBias | ModelExplainability
    PROPS_PREFIX: ClassVar[str]  # data_quality | model_quality | model_bias | model_explainability
    IMAGE: ClassVar[str]  # modelmonitor | clarify
    DEFAULT_NETWORK_ISOLATION: ClassVar[bool] = True
    # SageMaker's cap on MaxRuntimeInSeconds for an hourly schedule (MonitoringStoppingCondition).
    HOURLY_MAX_RUNTIME: ClassVar[int] = 3600

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        schedule: MonitorSchedule,
        endpoint: sagemaker.IEndpoint,
        role: iam.IRole,
        output_bucket: s3.IBucket,
        output_prefix: str = locations.MONITORING_REPORTS,
        encryption_key: kms.IKey | None = None,
        capture_bucket: s3.IBucket | None = None,
        capture_prefix: str = locations.DATA_CAPTURE,
        capture_key: kms.IKey | None = None,
        baseline_bucket: s3.IBucket | None = None,
        schedule_name: str | None = None,
        instance_type: str = "ml.m5.xlarge",
        instance_count: int = 1,
        volume_size_gb: int = 20,
        max_runtime: Duration | None = None,
        enable_cloudwatch_metrics: bool = True,
        network_isolation: bool | None = None,
        subnets: Sequence[ec2.ISubnet] = (),
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        owner = self._owner = type(self).__name__
        if not isinstance(schedule, MonitorSchedule):
            raise invalid(owner, "schedule", schedule, "MonitorSchedule.hourly() | .daily(hour) | .every(hours)")
        require_key_prefix(owner, "output_prefix", output_prefix)
        require_key_prefix(owner, "capture_prefix", capture_prefix)
        key = encryption_key if encryption_key is not None else output_bucket.encryption_key
        if key is None:
            raise invalid(owner, "encryption_key", encryption_key,
                          "a kms.IKey (required when output_bucket exposes no encryption_key)")
        if schedule_name is not None:
            require_sagemaker_name(owner, "schedule_name", schedule_name, max_length=MAX_SCHEDULE_NAME)
        require_instance_type(owner, "instance_type", instance_type)
        require_int(owner, "instance_count", instance_count, minimum=1, maximum=100)
        require_int(owner, "volume_size_gb", volume_size_gb, minimum=1, maximum=16384)
        self._runtime_s = _runtime_seconds(owner, max_runtime, schedule, self.HOURLY_MAX_RUNTIME)
        require_bool(owner, "enable_cloudwatch_metrics", enable_cloudwatch_metrics)
        network_isolation = self.DEFAULT_NETWORK_ISOLATION if network_isolation is None else network_isolation
        require_bool(owner, "network_isolation", network_isolation)
        subnets, security_groups = _vpc(owner, subnets, security_groups)
        env = _environment(owner, environment)

        self.endpoint = endpoint
        self.endpoint_name = endpoint.endpoint_name
        self.role = role
        self.output_bucket = output_bucket
        self.encryption_key: kms.IKey = key
        self.capture_bucket = capture_bucket or output_bucket
        self.baseline_bucket = baseline_bucket or output_bucket
        self.monitor_schedule = schedule
        self.schedule_name = schedule_name or Names.unique_resource_name(
            self, max_length=MAX_SCHEDULE_NAME, separator="-", allowed_special_characters="-")
        self.output_s3_uri = locations.s3_uri(output_bucket.bucket_name, f"{output_prefix}{self.schedule_name}")
        self._cluster = (instance_type, instance_count, volume_size_gb)
        self._network = (network_isolation, subnets, security_groups)
        self._environment = {**({PUBLISH_METRICS_ENV: "Enabled"} if enable_cloudwatch_metrics else {}), **env}

        # Attached through the role, which ignores it when imported as immutable (then it must already have all this).
        self.policy = iam.Policy(self, "JobPermissions")
        role.attach_inline_policy(self.policy)
        self._grants = JobGrants(self.policy, key)
        self._grants.runtime(image_repository_arn(self, self.IMAGE), in_vpc=bool(subnets))
        capture = f"{capture_prefix}{self.endpoint_name}/"
        self._grants.read("ReadCapturedData", self.capture_bucket, f"{capture}*", capture_key, list_prefix=capture,
                          why="SageMaker writes captured requests per hour at run time; limited to this endpoint's "
                              "capture prefix.")
        self._grants.write("WriteReports", output_bucket, f"{output_prefix}{self.schedule_name}/*",
                           why="Reports are written per run at run time; limited to this schedule's output prefix.")

    # ---------------------------------------------------------------- grants
    def _read_ground_truth(self, bucket: s3.IBucket | None, prefix: str) -> str:
        """Grant reading ground truth under ``prefix`` of ``bucket`` (default ``output_bucket``); its S3 URI."""
        require_key_prefix(self._owner, "ground_truth_prefix", prefix)
        truth = bucket or self.output_bucket
        self._grants.read("ReadGroundTruth", truth, f"{prefix}*", None, list_prefix=prefix,
                          why="Your labelling process writes ground truth at run time; limited to its prefix.")
        return locations.s3_uri(truth.bucket_name, prefix)

    def _constraints_baseline(self, cfn: Any, baseline_property: Any, constraints_key: str | None) -> Any:
        """``baseline_property`` naming ``constraints_key`` of ``baseline_bucket`` (read granted), or None."""
        if constraints_key is None:
            return None
        self._grants.read("ReadConstraints", self.baseline_bucket, constraints_key)
        uri = locations.s3_uri(self.baseline_bucket.bucket_name, constraints_key)
        return baseline_property(constraints_resource=cfn.ConstraintsResourceProperty(s3_uri=uri))

    # -------------------------------------------------------------- building
    def _endpoint_input(self, cfn: Any, **extra: Any) -> Any:
        """``<cfn>.EndpointInputProperty`` of the monitored endpoint (``None`` extras left out)."""
        return cfn.EndpointInputProperty(
            endpoint_name=self.endpoint_name, local_path=ENDPOINT_LOCAL_PATH, s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated", **{k: v for k, v in extra.items() if v is not None})

    def _labelled_job_input(self, cfn: Any, job_input: Any, options: Any, ground_truth_uri: str, **extra: Any) -> Any:
        """``job_input`` (a ``<cfn>.*JobInputProperty`` class) of the endpoint's predictions and ground truth."""
        return job_input(
            endpoint_input=self._endpoint_input(
                cfn,
                inference_attribute=options.inference_attribute,
                probability_attribute=options.probability_attribute,
                probability_threshold_attribute=options.probability_threshold,
                start_time_offset=options.start_time_offset,
                end_time_offset=options.end_time_offset,
                **extra,
            ),
            ground_truth_s3_input=cfn.MonitoringGroundTruthS3InputProperty(s3_uri=ground_truth_uri),
        )

    def _image_uri(self) -> str:
        return image_uri(self, self.IMAGE)

    def _create(self, cfn: Any, *, app_specification: Any, job_input: Any, baseline_config: Any = None) -> None:
        """Create the job definition (``cfn``, a ``Cfn*JobDefinition`` class) and its schedule.

        Names: a job definition has no name attribute and every one of its properties requires
        replacement, so a fixed name would fail any change ("already exists": CloudFormation
        creates the replacement before deleting the old one). It is therefore named
        ``<schedule name>-<8 hex>``, the hex a hash of its resolved properties: a changed
        definition gets a new name, the schedule (updated in place, its name is stable)
        switches to it, and CloudFormation deletes the old one afterwards.

        Order: the schedule names its job definition with that computed string, not with a
        reference to the resource, so CloudFormation would not know that the definition must
        exist first; the explicit dependency says so.
        """
        self._grants.finish()
        instance_type, instance_count, volume_size_gb = self._cluster
        isolation, subnets, groups = self._network
        prefix = self.PROPS_PREFIX
        props: dict[str, Any] = {
            "endpoint_name": self.endpoint_name,
            "role_arn": self.role.role_arn,
            f"{prefix}_app_specification": app_specification,
            f"{prefix}_job_input": job_input,
            f"{prefix}_job_output_config": cfn.MonitoringOutputConfigProperty(
                kms_key_id=self.encryption_key.key_arn,
                monitoring_outputs=[cfn.MonitoringOutputProperty(s3_output=cfn.S3OutputProperty(
                    local_path=OUTPUT_LOCAL_PATH, s3_uri=self.output_s3_uri, s3_upload_mode="EndOfJob"))],
            ),
            "job_resources": cfn.MonitoringResourcesProperty(cluster_config=cfn.ClusterConfigProperty(
                instance_count=instance_count, instance_type=instance_type, volume_size_in_gb=volume_size_gb,
                volume_kms_key_id=self.encryption_key.key_arn)),
            "network_config": cfn.NetworkConfigProperty(
                enable_inter_container_traffic_encryption=True, enable_network_isolation=isolation,
                vpc_config=cfn.VpcConfigProperty(subnets=[s.subnet_id for s in subnets],
                                                 security_group_ids=[g.security_group_id for g in groups])
                if subnets else None),
            "stopping_condition": cfn.StoppingConditionProperty(
                max_runtime_in_seconds=self._runtime_s),
        }
        if baseline_config is not None:
            props[f"{prefix}_baseline_config"] = baseline_config
        stack, schedule_name = Stack.of(self), self.schedule_name

        def versioned_name() -> str:
            # Produced at synthesis, once cross-stack references are final: stable across runs.
            digest = hashlib.sha256(json.dumps(stack.resolve(props), sort_keys=True).encode()).hexdigest()
            return f"{stack.resolve(schedule_name)}-{digest[:_HASH_LEN]}"

        self.job_definition_name: str = Lazy.uncached_string(_Producer(versioned_name))
        self.job_definition = cfn(self, "JobDefinition", job_definition_name=self.job_definition_name, **props)
        self.schedule = sagemaker.CfnMonitoringSchedule(
            self,
            "Schedule",
            monitoring_schedule_name=schedule_name,
            endpoint_name=self.endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                monitoring_job_definition_name=self.job_definition_name,
                monitoring_type=self.MONITORING_TYPE,
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=self.monitor_schedule.expression),
            ),
        )
        self.schedule.add_resource_dependency(self.job_definition)

    # ----------------------------------------------------------------- exposed
    @property
    def monitoring_type(self) -> str:
        return self.MONITORING_TYPE

    @property
    def schedule_arn(self) -> str:
        return self.schedule.attr_monitoring_schedule_arn

    def _metric(self, namespace: str, metric_name: str, *, statistic: str, **props: Any) -> cloudwatch.Metric:
        """A metric the job's container publishes (dimensions Endpoint + MonitoringSchedule), per ``METRIC_PERIOD``."""
        props.setdefault("period", METRIC_PERIOD)
        return cloudwatch.Metric(
            namespace=namespace, metric_name=metric_name, statistic=statistic,
            dimensions_map={"Endpoint": self.endpoint_name, "MonitoringSchedule": self.schedule_name}, **props)


def _runtime_seconds(owner: str, max_runtime: Any, schedule: MonitorSchedule, hourly_max_s: int) -> Any:
    """Whole seconds from 1 s to the schedule's interval (a run must end before the next one starts) and,
    on an hourly schedule, to ``hourly_max_s``; None: 1 hour within those limits."""
    limit_s = schedule.interval_hours * 3600 if schedule.interval_hours > 1 else min(3600, hourly_max_s)
    if max_runtime is None:
        return min(3600, limit_s)
    if isinstance(max_runtime, Duration) and not is_token(max_runtime.to_milliseconds()) \
            and max_runtime.to_milliseconds() > limit_s * 1000 and limit_s < 3600:
        raise invalid(owner, "max_runtime", max_runtime.to_human_string(),
                      f"a Duration from 1 second to {Duration.seconds(limit_s).to_human_string()} on an hourly "
                      f"schedule (SageMaker: at most {limit_s} s for hourly model-quality and bias jobs, "
                      "whose run is split between the ground-truth merge and the analysis)")
    require_duration(owner, "max_runtime", max_runtime, minimum=Duration.seconds(1), maximum=Duration.seconds(limit_s))
    try:
        return max_runtime.to_seconds()
    except RuntimeError:  # not a whole number of seconds
        raise invalid(owner, "max_runtime", max_runtime.to_human_string(), "whole seconds") from None


def _vpc(owner: str, subnets: Any, groups: Any) -> tuple[list[ec2.ISubnet], list[ec2.ISecurityGroup]]:
    for prop, value in (("subnets", subnets), ("security_groups", groups)):
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise invalid(owner, prop, value, "a list of ec2.ISubnet / ec2.ISecurityGroup")
    subnets, groups = list(subnets), list(groups)
    if subnets or groups:
        if not 1 <= len(subnets) <= _MAX_SUBNETS:
            raise invalid(owner, "subnets", subnets, f"1-{_MAX_SUBNETS} subnets when security_groups are given")
        if not 1 <= len(groups) <= _MAX_SECURITY_GROUPS:
            raise invalid(owner, "security_groups", groups,
                          f"1-{_MAX_SECURITY_GROUPS} security groups when subnets are given")
    return subnets, groups


def _environment(owner: str, environment: Any) -> dict[str, str]:
    if environment is None:
        return {}
    if not isinstance(environment, Mapping):
        raise invalid(owner, "environment", environment, "a mapping of variable name to string value")
    for name, value in environment.items():
        require_pattern(owner, "environment", name, _ENV_NAME_RE, "variable names like MY_VAR")
        if not isinstance(value, str) or (not is_token(value) and len(value) > 256):
            raise invalid(owner, "environment", {name: value}, "string values of at most 256 characters")
    return dict(environment)


__all__ = ["METRIC_PERIOD", "MonitorBase", "MonitorProps"]
