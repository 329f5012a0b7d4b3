"""What the four Model Monitor constructs share: validated props, job resources, schedule, naming.

A SageMaker Model Monitor is a *job definition* (``AWS::SageMaker::*JobDefinition``:
image, inputs, baselines, outputs, cluster, network, runtime) plus an
``AWS::SageMaker::MonitoringSchedule`` that starts it on a cron expression.
``MonitorBase`` validates the props every monitor takes, builds the shared parts
of the job definition and creates both resources; each monitor in
``model_monitors`` adds only its inputs, baselines and app specification.

Names. ``CfnDataQualityJobDefinition`` (and its three siblings) has no name
attribute, and every property of a job definition requires replacement, so a
fixed name would make any change fail ("already exists") when CloudFormation
creates the replacement before deleting the old one. The job definition is
therefore named ``<schedule name>-<8 hex>``, the hex being a hash of its resolved
properties: a changed definition gets a new name, the schedule (updated in
place, its name is stable) switches to it, and CloudFormation deletes the old
one. The schedule depends on the job definition explicitly.

Schedules. Model Monitor accepts only these cron expressions (SageMaker
``ScheduleConfig`` reference): ``cron(0 * ? * * *)`` (hourly),
``cron(0 H ? * * *)`` (daily at hour H UTC) and ``cron(0 H/N ? * * *)`` (every N
hours from hour H). The presets are ``"hourly"`` and ``"daily"`` (midnight UTC,
like ``CronExpressionGenerator.daily()``). A job's ``max_runtime`` may not
exceed the schedule's interval (for hourly schedules SageMaker caps it at one
hour).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypedDict

import jsii
from aws_cdk import Duration, IStableStringProducer, Lazy, Names, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from .. import locations
from .._validation import invalid, is_token, require_int, require_pattern
from .execution_role import SageMakerExecutionRole
from .images import image_uri
from .secure_bucket import SecureBucket

SCHEDULE_PRESETS = {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}
# cron(0 * ? * * *) | cron(0 H ? * * *) | cron(0 H/N ? * * *)
_CRON_RE = re.compile(r"^cron\(0 (?:\*|(?P<hour>\d{1,2})(?:/(?P<every>\d{1,2}))?) \? \* \* \*\)$")
CRON_ALLOWED = (
    "'hourly', 'daily', 'cron(0 * ? * * *)', 'cron(0 H ? * * *)' or 'cron(0 H/N ? * * *)' "
    "with H in 0-23 and N in 1-24 (the only forms Model Monitor accepts)"
)
# Job definition, schedule and endpoint names: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$, at most 63 characters.
_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_HASH_LEN = 8
MAX_SCHEDULE_NAME = 63 - 1 - _HASH_LEN  # room for "-<hash>" in the job definition name
_INSTANCE_TYPE_RE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_PREFIX_RE = re.compile(r"^(?!/)[^*?\x00]*$")
_S3_URI_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")
_ENV_KEY_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_SUBNET_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SG_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")

MONITOR_IMAGES = ("modelmonitor", "clarify")
ENDPOINT_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
OUTPUT_LOCAL_PATH = "/opt/ml/processing/output"
PUBLISH_METRICS_ENV = "publish_cloudwatch_metrics"  # read by the Model Monitor and Clarify containers


class MonitorProps(TypedDict, total=False):
    """Keyword props every monitor takes (see ``MonitorBase``)."""

    endpoint_name: str
    role: SageMakerExecutionRole | iam.IRole
    output_bucket: SecureBucket | s3.IBucket
    output_prefix: str
    encryption_key: kms.IKey | None
    schedule: str
    schedule_name: str | None
    instance_type: str
    instance_count: int
    volume_size_gb: int
    max_runtime: Duration
    enable_cloudwatch_metrics: bool
    network_isolation: bool | None
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    environment: Mapping[str, str] | None


def schedule_expression(owner: str, prop: str, value: Any) -> tuple[str, int | None]:
    """(expression, interval in hours) for a preset or a Model Monitor cron expression; tokens pass through."""
    if is_token(value):
        return value, None
    if not isinstance(value, str):
        raise invalid(owner, prop, value, CRON_ALLOWED)
    expression = SCHEDULE_PRESETS.get(value, value)
    match = _CRON_RE.match(expression)
    if not match:
        raise invalid(owner, prop, value, CRON_ALLOWED)
    hour, every = match.group("hour"), match.group("every")
    if hour is None:
        return expression, 1
    if not 0 <= int(hour) <= 23 or (every is not None and not 1 <= int(every) <= 24):
        raise invalid(owner, prop, value, CRON_ALLOWED)
    return expression, 24 if every is None else int(every)


def require_s3_uri(owner: str, prop: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if is_token(value):
        return value
    if not isinstance(value, str) or not _S3_URI_RE.match(value):
        raise invalid(owner, prop, value, "an S3 URI like s3://bucket/key" + (" or None" if optional else ""))
    return value


def role_of(owner: str, role: Any) -> iam.IRole:
    if isinstance(role, SageMakerExecutionRole):
        return role.role
    if isinstance(role, Construct) and hasattr(role, "role_arn") and hasattr(role, "role_name"):
        return role  # type: ignore[return-value]
    raise invalid(owner, "role", role, "a SageMakerExecutionRole or an iam.IRole trusted by sagemaker.amazonaws.com")


def bucket_of(owner: str, prop: str, bucket: Any) -> s3.IBucket:
    if isinstance(bucket, SecureBucket):
        return bucket.bucket
    if isinstance(bucket, Construct) and hasattr(bucket, "bucket_name") and hasattr(bucket, "arn_for_objects"):
        return bucket  # type: ignore[return-value]
    raise invalid(owner, prop, bucket, "a SecureBucket or an s3.IBucket")


@jsii.implements(IStableStringProducer)
class _Producer:
    def __init__(self, produce: Any) -> None:
        self._produce = produce

    def produce(self) -> str:
        return self._produce()


class MonitorBase(Construct):
    """Common base of ``DataQualityMonitor``, ``ModelQualityMonitor``, ``BiasMonitor``, ``FeatureAttributionMonitor``.

    Props (keyword-only, shared by all four):
      * ``endpoint_name`` -- the monitored endpoint (a plain string or a token,
        e.g. ``serving.endpoint.endpoint_name``); data capture must be enabled on it;
      * ``role`` -- a ``SageMakerExecutionRole`` or ``iam.IRole`` the jobs run as.
        It must read the endpoint's captured data, the baselines and ground
        truth, write under ``output_prefix`` and use ``encryption_key``
        (``SageMakerExecutionRole.grant_bucket_read_write(bucket)`` does);
        ECR pulls of the Model Monitor / Clarify images come with
        ``SageMakerExecutionRole``;
      * ``output_bucket`` / ``output_prefix`` (``locations.MONITORING_REPORTS``) --
        reports go to ``s3://<bucket>/<output_prefix><schedule_name>``;
        baselines default to the ``locations`` files of the same bucket;
      * ``encryption_key`` -- KMS key for the job volumes and the outputs
        (default: the bucket's key; one is required);
      * ``schedule`` -- ``"hourly"``, ``"daily"`` or a Model Monitor cron expression;
      * ``schedule_name`` -- name of the schedule (default: unique per construct
        path), at most 54 characters; the job definition is ``<schedule_name>-<hash>``;
      * ``instance_type`` (``ml.m5.xlarge``), ``instance_count`` (1),
        ``volume_size_gb`` (20), ``max_runtime`` (1 hour, at most the schedule interval);
      * ``enable_cloudwatch_metrics`` (True) -- the container publishes its metrics;
      * ``network_isolation`` (True except for feature attribution, whose
        Clarify job calls a shadow endpoint), ``subnet_ids`` + ``security_group_ids``
        to run in a VPC; inter-container traffic is always encrypted;
      * ``environment`` -- extra container environment variables.

    Exposes ``job_definition``, ``schedule`` (the L1 resources),
    ``job_definition_name``, ``schedule_name``, ``schedule_arn``, ``endpoint_name``,
    ``output_s3_uri``, ``monitoring_type``.
    """

    MONITORING_TYPE: ClassVar[str]  # DataQuality | ModelQuality | ModelBias | ModelExplainability
    IMAGE: ClassVar[str]  # modelmonitor | clarify
    DEFAULT_NETWORK_ISOLATION: ClassVar[bool] = True

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        role: SageMakerExecutionRole | iam.IRole,
        output_bucket: SecureBucket | s3.IBucket,
        output_prefix: str = locations.MONITORING_REPORTS,
        encryption_key: kms.IKey | None = None,
        schedule: str = "hourly",
        schedule_name: str | None = None,
        instance_type: str = "ml.m5.xlarge",
        instance_count: int = 1,
        volume_size_gb: int = 20,
        max_runtime: Duration = Duration.hours(1),
        enable_cloudwatch_metrics: bool = True,
        network_isolation: bool | None = None,
        subnet_ids: Sequence[str] = (),
        security_group_ids: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        owner = type(self).__name__
        self._owner = owner
        require_pattern(owner, "endpoint_name", endpoint_name, _NAME_RE,
                        "a SageMaker endpoint name (letters, digits, '-'; at most 63 characters) or a token")
        if isinstance(endpoint_name, str) and not is_token(endpoint_name) and len(endpoint_name) > 63:
            raise invalid(owner, "endpoint_name", endpoint_name, "at most 63 characters")
        self.role = role_of(owner, role)
        bucket = bucket_of(owner, "output_bucket", output_bucket)
        require_pattern(owner, "output_prefix", output_prefix, _PREFIX_RE,
                        "an S3 key prefix not starting with '/' and without '*' or '?'")
        key = encryption_key if encryption_key is not None else bucket.encryption_key
        if key is None or not hasattr(key, "key_arn"):
            raise invalid(owner, "encryption_key", encryption_key,
                          "a kms.IKey (required when the output bucket has no customer-managed key)")
        expression, interval_hours = schedule_expression(owner, "schedule", schedule)
        if schedule_name is not None:
            require_pattern(owner, "schedule_name", schedule_name, _NAME_RE,
                            f"letters, digits and '-', at most {MAX_SCHEDULE_NAME} characters")
            if not is_token(schedule_name) and len(schedule_name) > MAX_SCHEDULE_NAME:
                raise invalid(owner, "schedule_name", schedule_name,
                              f"at most {MAX_SCHEDULE_NAME} characters (the job definition adds '-<hash>')")
        require_pattern(owner, "instance_type", instance_type, _INSTANCE_TYPE_RE, "an ML instance type like 'ml.m5.xlarge'")
        require_int(owner, "instance_count", instance_count, minimum=1, maximum=100)
        require_int(owner, "volume_size_gb", volume_size_gb, minimum=1, maximum=16384)
        runtime_s = _require_runtime(owner, max_runtime, interval_hours)
        if not isinstance(enable_cloudwatch_metrics, bool):
            raise invalid(owner, "enable_cloudwatch_metrics", enable_cloudwatch_metrics, "True | False")
        if network_isolation is None:
            network_isolation = self.DEFAULT_NETWORK_ISOLATION
        if not isinstance(network_isolation, bool):
            raise invalid(owner, "network_isolation", network_isolation, "True | False | None (the monitor's default)")
        vpc_config = _vpc_config(owner, subnet_ids, security_group_ids)
        env = _environment(owner, environment)

        self.endpoint_name = endpoint_name
        self.bucket = bucket
        self.encryption_key: kms.IKey = key
        self.schedule_expression = expression
        self.schedule_name = schedule_name or Names.unique_resource_name(
            self, max_length=MAX_SCHEDULE_NAME, separator="-", allowed_special_characters="-"
        )
        self.output_s3_uri = locations.s3_uri(bucket.bucket_name, f"{output_prefix}{self.schedule_name}")
        self._runtime_s = runtime_s
        self._instance = (instance_type, instance_count, volume_size_gb)
        self._network = (network_isolation, vpc_config)
        self._environment = {**({PUBLISH_METRICS_ENV: "Enabled"} if enable_cloudwatch_metrics else {}), **env}

    # ---------------------------------------------------------------- building
    def _default_uri(self, key: str) -> str:
        return locations.s3_uri(self.bucket.bucket_name, key)

    def _endpoint_input(self, **extra: Any) -> dict[str, Any]:
        return {
            "endpoint_name": self.endpoint_name,
            "local_path": ENDPOINT_LOCAL_PATH,
            "s3_input_mode": "File",
            "s3_data_distribution_type": "FullyReplicated",
            **{k: v for k, v in extra.items() if v is not None},
        }

    def _app_specification(self, **extra: Any) -> dict[str, Any]:
        return {
            "image_uri": image_uri(self, self.IMAGE),
            "environment": dict(self._environment),
            **{k: v for k, v in extra.items() if v is not None},
        }

    def _create(
        self,
        job_definition_class: type,
        prefix: str,
        *,
        app_specification: dict[str, Any],
        job_input: dict[str, Any],
        baseline_config: dict[str, Any] | None,
    ) -> None:
        """Create the job definition ``<prefix>_*`` props and its schedule."""
        instance_type, instance_count, volume_size_gb = self._instance
        network_isolation, vpc_config = self._network
        props: dict[str, Any] = {
            "endpoint_name": self.endpoint_name,
            "role_arn": self.role.role_arn,
            f"{prefix}_app_specification": app_specification,
            f"{prefix}_job_input": job_input,
            f"{prefix}_job_output_config": {
                "kms_key_id": self.encryption_key.key_arn,
                "monitoring_outputs": [
                    {"s3_output": {"local_path": OUTPUT_LOCAL_PATH, "s3_uri": self.output_s3_uri,
                                   "s3_upload_mode": "EndOfJob"}}
                ],
            },
            "job_resources": {
                "cluster_config": {
                    "instance_count": instance_count,
                    "instance_type": instance_type,
                    "volume_size_in_gb": volume_size_gb,
                    "volume_kms_key_id": self.encryption_key.key_arn,
                }
            },
            "network_config": {
                "enable_inter_container_traffic_encryption": True,
                "enable_network_isolation": network_isolation,
                **({"vpc_config": vpc_config} if vpc_config else {}),
            },
            "stopping_condition": {"max_runtime_in_seconds": self._runtime_s},
        }
        if baseline_config:
            props[f"{prefix}_baseline_config"] = baseline_config
        stack = Stack.of(self)
        schedule_name = self.schedule_name

        def versioned_name() -> str:
            # Resolved at synthesis (after cross-stack references are final): stable across runs.
            digest = hashlib.sha256(json.dumps(stack.resolve(props), sort_keys=True).encode()).hexdigest()
            return f"{stack.resolve(schedule_name)}-{digest[:_HASH_LEN]}"

        self.job_definition_name: str = Lazy.uncached_string(_Producer(versioned_name))
        # Nested props go to jsii as maps, whose keys must be the JavaScript (camelCase) names.
        self.job_definition = job_definition_class(
            self, "JobDefinition", job_definition_name=self.job_definition_name,
            **{k: _camel_keys(v) for k, v in props.items()},
        )
        self.schedule = sagemaker.CfnMonitoringSchedule(
            self,
            "Schedule",
            monitoring_schedule_name=schedule_name,
            endpoint_name=self.endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                monitoring_job_definition_name=self.job_definition_name,
                monitoring_type=self.MONITORING_TYPE,
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=self.schedule_expression
                ),
            ),
        )
        # No attribute of the job definition is referenced, so CloudFormation would not order them.
        self.schedule.add_resource_dependency(self.job_definition)

    # ----------------------------------------------------------------- exposed
    @property
    def monitoring_type(self) -> str:
        return self.MONITORING_TYPE

    @property
    def schedule_arn(self) -> str:
        return self.schedule.attr_monitoring_schedule_arn

    def _metric(self, namespace: str, metric_name: str, **props: Any) -> cloudwatch.Metric:
        props.setdefault("statistic", "Maximum")
        props.setdefault("period", Duration.hours(1))
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map={"Endpoint": self.endpoint_name, "MonitoringSchedule": self.schedule_name},
            **props,
        )


def _camel_keys(node: Any) -> Any:
    """snake_case keys -> camelCase, except inside ``environment`` (variable names are data)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            head, *rest = key.split("_")
            camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
            out[camel] = value if key == "environment" else _camel_keys(value)
        return out
    if isinstance(node, list):
        return [_camel_keys(item) for item in node]
    return node


def _require_runtime(owner: str, max_runtime: Any, interval_hours: int | None) -> Any:
    if not isinstance(max_runtime, Duration):
        raise invalid(owner, "max_runtime", max_runtime, "a Duration")
    seconds = max_runtime.to_seconds()
    if Token.is_unresolved(seconds):
        return seconds
    limit = 86400 if interval_hours is None else min(86400, interval_hours * 3600)
    if not isinstance(seconds, (int, float)) or seconds != int(seconds) or not 1 <= seconds <= limit:
        raise invalid(owner, "max_runtime", f"{seconds}s",
                      f"whole seconds from 1 s to {limit} s (a run must end before the schedule starts the next)")
    return int(seconds)


def _vpc_config(owner: str, subnet_ids: Any, security_group_ids: Any) -> dict[str, Any] | None:
    for prop, value in (("subnet_ids", subnet_ids), ("security_group_ids", security_group_ids)):
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise invalid(owner, prop, value, "a list of IDs")
    subnets, groups = list(subnet_ids), list(security_group_ids)
    if not subnets and not groups:
        return None
    if not 1 <= len(subnets) <= 16:
        raise invalid(owner, "subnet_ids", subnets, "1-16 subnet IDs when security_group_ids are given")
    if not 1 <= len(groups) <= 5:
        raise invalid(owner, "security_group_ids", groups, "1-5 security group IDs when subnet_ids are given")
    for subnet in subnets:
        require_pattern(owner, "subnet_ids", subnet, _SUBNET_RE, "subnet IDs like 'subnet-0123abcd'")
    for group in groups:
        require_pattern(owner, "security_group_ids", group, _SG_RE, "security group IDs like 'sg-0123abcd'")
    return {"subnets": subnets, "security_group_ids": groups}


def _environment(owner: str, environment: Any) -> dict[str, str]:
    if environment is None:
        return {}
    if not isinstance(environment, Mapping):
        raise invalid(owner, "environment", environment, "a mapping of variable name to string value")
    for name, value in environment.items():
        if not isinstance(name, str) or not _ENV_KEY_RE.match(name) or not isinstance(value, str) or len(value) > 256:
            raise invalid(owner, "environment", {name: value},
                          "names like MY_VAR mapped to strings of at most 256 characters")
    return dict(environment)


__all__ = ["SCHEDULE_PRESETS", "MonitorBase", "MonitorProps", "schedule_expression"]
