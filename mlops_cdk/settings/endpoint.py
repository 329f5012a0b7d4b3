"""Typed, validated settings of a SageMaker endpoint: serverless, autoscaling, blue/green deployment.

The same frozen dataclasses are props of :class:`ModelEndpoint` and the
per-stage serving settings of :class:`~mlops_cdk.config.PlatformConfig`, so one
set of rules validates both. Durations are whole seconds (``*_seconds``), as
in the CloudFormation properties they become, which keeps the settings plain
data: JSON-loadable from ``cdk.json`` and comparable with ``==``.

Constructing a settings object validates it (``AutoScaling(min_capacity=3,
max_capacity=2)`` raises ``AutoScaling 'max_capacity': ...``);
``from_mapping`` validates a JSON object and names the key path in errors
(``config 'serving.prod.autoscaling.max_capacity': ...``). Rules that need
several settings at once (serverless and data capture, canary size and
instance count, ...) live in :func:`check_endpoint_combination`.

Limits are the ones AWS documents (SageMaker API and CloudFormation schemas):
serverless memory 1024-6144 MB in 1 GB steps and concurrency 1-200; canary
size at most 50 % and linear steps 10-50 % of the variant's instances;
traffic-shift waits and termination wait 0-3600 s; deployment timeout
600-28800 s and larger than the waits it contains; at most 10 rollback alarms.
Latency statistics: AWS documents Average, Sum, Minimum, Maximum and SampleCount
for ``ModelLatency``/``OverheadLatency`` (no percentiles), so the rollback alarm
uses one of those unless a percentile is asked for explicitly.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

from .._validation import invalid, is_token, require_instance_type, require_int
from ._base import Settings
from .off_hours import OffHoursScaling

TRAFFIC_ROUTING = ("all_at_once", "canary", "linear")
SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_CONCURRENCY = 200
MAX_WAIT_SECONDS = 3600
MIN_EXECUTION_TIMEOUT, MAX_EXECUTION_TIMEOUT = 600, 28800
MAX_ROLLBACK_ALARMS = 10
# "Valid statistics" of AWS/SageMaker ModelLatency and OverheadLatency (SageMaker developer guide,
# "Amazon SageMaker AI metrics in Amazon CloudWatch"); a percentile is not among them.
LATENCY_STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
_ROLLBACK_LATENCY_STATISTICS = ("Maximum", "Average", "Minimum")
_PERCENTILE_RE = re.compile(r"^p(\d{1,2}(\.\d{1,10})?|100)$")

# Families whose instances come with local NVMe instance storage, encrypted by the instance
# hardware: an EndpointConfig KmsKeyId encrypts only their EBS volume, not that storage.
# A 'd' among the attribute letters after the generation (m5d, c6gd, r7gd,
# g4dn, p3dn, p4d, p4de, c6id) means instance storage; these have it without one:
_LOCAL_STORAGE_FAMILIES = frozenset(
    {"g5", "g6", "g6e", "g7", "g7e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2", "dl1"}
)
_D_FAMILY_RE = re.compile(r"^[a-z]+\d+[a-z]*d[a-z]*$")


def has_instance_storage(instance_type: str) -> bool:
    """Whether ``instance_type`` has local NVMe storage (a ``KmsKeyId`` of its endpoint config does not cover it)."""
    family = instance_type.split(".")[1] if instance_type.count(".") >= 2 else ""
    return bool(_D_FAMILY_RE.match(family)) or family in _LOCAL_STORAGE_FAMILIES or family.startswith(("p6", "p6e"))


def _prop(path: str, name: str) -> str:
    return f"{path}{name}"


def _int(owner: str, prop: str, value: Any, minimum: int | None = None, maximum: int | None = None,
         allowed: str | None = None) -> None:
    """``require_int``, with an ``allowed`` text of its own where the bare range would not say why."""
    if allowed is None:
        require_int(owner, prop, value, minimum=minimum, maximum=maximum)
    elif isinstance(value, bool) or not isinstance(value, int) or not (
            (minimum is None or value >= minimum) and (maximum is None or value <= maximum)):
        raise invalid(owner, prop, value, allowed)


# ---------------------------------------------------------------- settings
@dataclasses.dataclass(frozen=True)
class ServerlessInference(Settings):
    """A serverless variant (``ServerlessConfig``): memory per worker and concurrent invocations.

    SageMaker Serverless Inference does not support data capture, VPC
    configuration, network isolation or instance auto scaling (its scaling
    is ``max_concurrency``); :class:`ModelEndpoint` rejects those combinations.
    ``provisioned_concurrency`` keeps that many workers warm (billed while configured).
    """

    memory_size_in_mb: int = 2048
    max_concurrency: int = 5
    provisioned_concurrency: int | None = None

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        memory = values["memory_size_in_mb"]
        if isinstance(memory, bool) or memory not in SERVERLESS_MEMORY_SIZES:
            raise invalid(owner, _prop(path, "memory_size_in_mb"), memory,
                          " | ".join(str(m) for m in SERVERLESS_MEMORY_SIZES))
        _int(owner, _prop(path, "max_concurrency"), values["max_concurrency"], 1, MAX_CONCURRENCY)
        provisioned = values["provisioned_concurrency"]
        if provisioned is not None:
            _int(owner, _prop(path, "provisioned_concurrency"), provisioned, 1, values["max_concurrency"],
                 allowed=f"null or an integer in [1, max_concurrency={values['max_concurrency']}]")


@dataclasses.dataclass(frozen=True)
class AutoScaling(Settings):
    """Application Auto Scaling of an instance-based variant's ``DesiredInstanceCount``.

    Target tracking on ``SageMakerVariantInvocationsPerInstance`` (invocations
    per instance per minute): scales out when the average exceeds
    ``target_invocations_per_instance``, in when it falls below, within
    ``[min_capacity, max_capacity]``. Cooldowns are seconds between scaling
    activities of the same direction. ``off_hours`` (an :class:`OffHoursScaling`)
    adds scheduled actions that hold the variant at a smaller fleet outside working hours.
    """

    min_capacity: int = 1
    max_capacity: int = 2
    target_invocations_per_instance: int = 1000
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60
    off_hours: OffHoursScaling | None = None

    @classmethod
    def from_mapping(cls, data: Any, *, owner: str = "config", path: str = "", base: Any = None) -> "AutoScaling":
        """As :meth:`Settings.from_mapping`; ``off_hours`` merges with the base's, ``null`` removes it."""
        if isinstance(data, cls):
            return data
        values = cls._values_over(data, owner=owner, path=path, base=base)
        if data.get("off_hours") is not None:
            values["off_hours"] = OffHoursScaling.from_mapping(
                data["off_hours"], owner=owner, path=f"{path}off_hours.", base=getattr(base, "off_hours", None))
        cls._check(values, owner, path)
        return cls(**values)

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        _int(owner, _prop(path, "min_capacity"), values["min_capacity"], 1)
        _int(owner, _prop(path, "max_capacity"), values["max_capacity"], 1)
        if values["max_capacity"] < values["min_capacity"]:
            raise invalid(owner, _prop(path, "max_capacity"), values["max_capacity"],
                          f"an integer >= min_capacity ({values['min_capacity']})")
        _int(owner, _prop(path, "target_invocations_per_instance"), values["target_invocations_per_instance"], 1)
        for key in ("scale_in_cooldown_seconds", "scale_out_cooldown_seconds"):
            _int(owner, _prop(path, key), values[key], 0, 86400)
        off = values["off_hours"]
        if off is not None and not isinstance(off, OffHoursScaling):
            raise invalid(owner, _prop(path, "off_hours"), off, "an OffHoursScaling or null")
        if off is not None and off.capacity > values["min_capacity"]:
            raise invalid(owner, _prop(path, "off_hours.capacity"), off.capacity,
                          f"an integer in [1, min_capacity={values['min_capacity']}] (off hours never run more "
                          "instances than working hours)")


@dataclasses.dataclass(frozen=True)
class DeploymentPolicy(Settings):
    """How an endpoint update shifts traffic (a SageMaker blue/green ``DeploymentConfig``) and when it rolls back.

    * ``traffic_routing``: ``all_at_once`` (100 % to the new fleet, then the
      ``termination_wait_seconds`` baking period), ``canary`` (first
      ``size_percent`` % or ``size_instances`` instances, wait
      ``wait_interval_seconds``, then the rest) or ``linear`` (steps of that
      size, each followed by the wait).
    * The canary may be at most 50 % of the variant's instances, a linear step
      10-50 % (SageMaker's limits); give exactly one of ``size_percent`` /
      ``size_instances`` for canary and linear, neither for all at once.
    * ``termination_wait_seconds``: how long the old fleet is kept after the
      full shift (the last baking period, 0-3600).
    * ``max_execution_timeout_seconds``: limit of the whole deployment
      (600-28800, larger than its waits); ``None`` leaves SageMaker's default.
    * Rollback alarms (the endpoint creates them; any alarm tripping during a
      baking period rolls traffic back to the old fleet): ``Invocation5XXErrors``
      sum >= ``error_threshold`` and ``ModelLatency`` ``latency_statistic`` >
      ``latency_threshold_ms``, each for ``alarm_evaluation_periods`` consecutive minutes.
    * ``latency_statistic``: ``Maximum`` (default), ``Average`` or ``Minimum``, the
      statistics AWS documents for ``ModelLatency``. Maximum because during a canary or
      linear shift both fleets publish under the same variant: an average is diluted by
      the old fleet's share of traffic, the slowest request is not. A percentile
      (``p99``) is accepted for accounts that have checked CloudWatch serves it for this
      metric (AWS does not document one); the endpoint then adds a synth warning.
    """

    traffic_routing: str = "all_at_once"
    size_percent: int | None = None
    size_instances: int | None = None
    wait_interval_seconds: int = 300
    termination_wait_seconds: int = 300
    max_execution_timeout_seconds: int | None = None
    error_threshold: int = 1
    latency_threshold_ms: int = 1000
    alarm_evaluation_periods: int = 2
    latency_statistic: str = "Maximum"

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        routing = values["traffic_routing"]
        if routing not in TRAFFIC_ROUTING:
            raise invalid(owner, _prop(path, "traffic_routing"), routing, " | ".join(TRAFFIC_ROUTING))
        percent, instances = values["size_percent"], values["size_instances"]
        if routing == "all_at_once":
            for key in ("size_percent", "size_instances"):
                if values[key] is not None:
                    raise invalid(owner, _prop(path, key), values[key],
                                  "null with traffic_routing 'all_at_once' (it shifts 100 % at once)")
        else:
            if (percent is None) == (instances is None):
                raise invalid(owner, _prop(path, "size_percent"), percent,
                              f"exactly one of size_percent / size_instances with traffic_routing {routing!r}")
            if percent is not None:
                low = 1 if routing == "canary" else 10
                _int(owner, _prop(path, "size_percent"), percent, low, 50,
                     allowed=f"an integer in [{low}, 50] (SageMaker: a {routing} "
                             f"{'size' if routing == 'canary' else 'step'} of "
                             f"{'at most 50' if routing == 'canary' else '10-50'} % of the variant's instances)")
            if instances is not None:
                _int(owner, _prop(path, "size_instances"), instances, 1)
        _int(owner, _prop(path, "wait_interval_seconds"), values["wait_interval_seconds"], 0, MAX_WAIT_SECONDS)
        _int(owner, _prop(path, "termination_wait_seconds"), values["termination_wait_seconds"], 0, MAX_WAIT_SECONDS)
        timeout = values["max_execution_timeout_seconds"]
        if timeout is not None:
            _int(owner, _prop(path, "max_execution_timeout_seconds"), timeout, MIN_EXECUTION_TIMEOUT,
                 MAX_EXECUTION_TIMEOUT)
            waits = values["termination_wait_seconds"] + values["wait_interval_seconds"] * _steps(routing, percent)
            if timeout <= waits:
                raise invalid(owner, _prop(path, "max_execution_timeout_seconds"), timeout,
                              f"more than the deployment's waits ({waits} s: termination wait + wait interval "
                              "per traffic step)")
        _int(owner, _prop(path, "error_threshold"), values["error_threshold"], 1)
        _int(owner, _prop(path, "latency_threshold_ms"), values["latency_threshold_ms"], 1)
        _int(owner, _prop(path, "alarm_evaluation_periods"), values["alarm_evaluation_periods"], 1, 60)
        statistic = values["latency_statistic"]
        if not isinstance(statistic, str) or not (
                statistic in _ROLLBACK_LATENCY_STATISTICS or _PERCENTILE_RE.match(statistic)):
            raise invalid(owner, _prop(path, "latency_statistic"), statistic,
                          " | ".join(_ROLLBACK_LATENCY_STATISTICS) + " (documented for ModelLatency), or a "
                          "percentile like 'p99' (not documented by AWS for ModelLatency)")

    @property
    def cfn_type(self) -> str:
        return self.traffic_routing.upper()

    @property
    def latency_statistic_documented(self) -> bool:
        """Whether AWS documents ``latency_statistic`` for ``ModelLatency`` (percentiles are not)."""
        return self.latency_statistic in LATENCY_STATISTICS


def _steps(routing: str, percent: int | None) -> int:
    """Traffic steps followed by a wait: 0 for all at once, 1 for canary, ~100/step for linear."""
    if routing == "all_at_once":
        return 0
    if routing == "canary":
        return 1
    return max(1, math.ceil(100 / percent) - 1) if percent else 1


# ----------------------------------------------------------- combinations
def check_endpoint_combination(
    owner: str,
    path: str,
    *,
    instance_type: str | None,
    instance_count: Any,
    serverless: ServerlessInference | None,
    autoscaling: AutoScaling | None,
    deployment: DeploymentPolicy,
    capture: bool,
    capture_prop: str,
    capture_value: Any = "enabled",
    network_isolation: bool | None,
    vpc: bool,
    vpc_prop: str,
    volume_kms: bool = False,
    volume_kms_prop: str = "volume_kms_key",
) -> None:
    """The rules that involve several settings; ``path`` prefixes every prop name in errors.

    Serverless: AWS documents data capture, VPC configuration, network
    isolation and multiple variants as unsupported for Serverless Inference,
    and its auto scaling is of provisioned concurrency, not instances; a
    serverless variant has no instance type, count or instance-sized canary.

    ``volume_kms`` / ``volume_kms_prop`` are kept for callers but no longer refuse
    anything: a volume key on an instance type with local NVMe storage encrypts its
    EBS volume only (SageMaker API, ``CreateEndpointConfig.KmsKeyId``), which
    ``ModelEndpoint`` states as a synth warning.
    """
    del volume_kms, volume_kms_prop
    if serverless is not None:
        reason = "SageMaker Serverless Inference does not support it"
        if instance_type is not None:
            raise invalid(owner, _prop(path, "instance_type"), instance_type,
                          "null with serverless (a serverless variant has no instance type)")
        if autoscaling is not None:
            raise invalid(owner, _prop(path, "autoscaling"), autoscaling,
                          "null with serverless (serverless scales by max_concurrency; "
                          "instance auto scaling does not apply)")
        if capture:
            raise invalid(owner, _prop(path, capture_prop), capture_value,
                          f"no data capture with serverless ({reason}; use an instance-based variant "
                          "where captured traffic is needed)")
        if network_isolation:
            raise invalid(owner, _prop(path, "network_isolation"), network_isolation,
                          f"false or null with serverless ({reason})")
        if vpc:
            raise invalid(owner, _prop(path, vpc_prop), "a VPC configuration", f"none with serverless ({reason})")
        if deployment.size_instances is not None:
            raise invalid(owner, _prop(path, "deployment.size_instances"), deployment.size_instances,
                          "null with serverless (no instances to count); use deployment.size_percent")
        return

    if instance_type is None:
        raise invalid(owner, _prop(path, "instance_type"), instance_type, "an instance type (or serverless)")
    require_instance_type(owner, _prop(path, "instance_type"), instance_type)
    if not is_token(instance_count):
        _int(owner, _prop(path, "instance_count"), instance_count, 1)
    if autoscaling is not None and not is_token(instance_count):
        if not autoscaling.min_capacity <= instance_count <= autoscaling.max_capacity:
            raise invalid(owner, _prop(path, "instance_count"), instance_count,
                          f"an integer within autoscaling [{autoscaling.min_capacity}, {autoscaling.max_capacity}]")
    # The smallest fleet a deployment may meet: the initial count, or the autoscaling minimum.
    fleet = autoscaling.min_capacity if autoscaling is not None else instance_count
    if deployment.size_instances is not None and not is_token(fleet):
        low = 1 if deployment.traffic_routing == "canary" else math.ceil(fleet * 0.1)
        high = fleet // 2
        if not low <= deployment.size_instances <= high:
            share = "at most 50" if deployment.traffic_routing == "canary" else "10-50"
            bounds = f"an integer in [{low}, {high}]" if low <= high else "impossible: use more instances or size_percent"
            raise invalid(owner, _prop(path, "deployment.size_instances"), deployment.size_instances,
                          f"{share} % of the variant's {fleet} instance(s) ({bounds})")
