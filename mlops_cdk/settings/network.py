"""The ``network`` setting: where the platform's compute runs, as plain data (the constructs build or import it).

* ``none`` (default): AWS-managed networking, as before;
* ``create``: a new VPC of private isolated subnets with the interface and gateway endpoints the platform
  calls (``PlatformNetwork``); ``{"create": {"cidr": "10.20.0.0/16", "max_azs": 3}}`` sizes it;
* an existing VPC: ``{"vpc_id": "vpc-...", "subnet_ids": ["subnet-...", ...]}`` plus, optionally,
  ``availability_zones`` (one per subnet, in the same order: only constructs that read a subnet's zone
  need them) and ``security_group_ids`` (used by every compute instead of the groups the platform
  creates). Imported offline, without a look-up: the ids are trusted as given.

In cdk.json the value is the string or the JSON object; ``-c network=create`` and
``-c 'network={"vpc_id": ...}'`` work too.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from .._validation import invalid
from ._base import Settings, check_keys

NONE, CREATE = "none", "create"
# SageMaker's VpcConfig takes at most 16 subnets and 5 security groups; Lambda's VpcConfig the same.
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
# A CDK Vpc splits its CIDR across the zones' subnets: /16 to /24 leaves each at least a /26 in 3 zones.
MIN_PREFIX, MAX_PREFIX = 16, 24
MIN_AZS, MAX_AZS = 2, 6
_VPC_RE = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_SUBNET_RE = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_GROUP_RE = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_ZONE_RE = re.compile(r"^[a-z]{2}(?:-[a-z0-9]+)+[a-z]$")  # us-east-1a, us-west-2-lax-1a
NETWORK_ALLOWED = ('"none", "create", {"create": {"cidr": ..., "max_azs": ...}} or an existing VPC '
                   '{"vpc_id": "vpc-...", "subnet_ids": ["subnet-...", ...], "availability_zones": [...], '
                   '"security_group_ids": [...]}')


def require_cidr(owner: str, prop: str, value: Any) -> str:
    """An IPv4 network ``a.b.c.d/n`` with ``MIN_PREFIX <= n <= MAX_PREFIX`` and no host bits set."""
    allowed = f"an IPv4 CIDR block from /{MIN_PREFIX} to /{MAX_PREFIX}, e.g. 10.0.0.0/16"
    try:
        network = ipaddress.IPv4Network(value, strict=True) if isinstance(value, str) and "/" in value else None
    except ValueError:
        network = None
    if network is None or not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        raise invalid(owner, prop, value, allowed)
    return str(network)


def require_max_azs(owner: str, prop: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_AZS <= value <= MAX_AZS:
        raise invalid(owner, prop, value, f"an integer from {MIN_AZS} to {MAX_AZS} (subnets in at least two "
                      "availability zones keep the platform up when one zone fails)")
    return value


def require_ids(owner: str, prop: str, values: Any, pattern: re.Pattern[str], example: str, *,
                minimum: int, maximum: int) -> tuple[str, ...]:
    """A list of distinct ids matching ``pattern`` (``minimum``-``maximum`` of them)."""
    allowed = f"a list of {minimum}-{maximum} distinct ids like {example}"
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or not minimum <= len(values) <= maximum:
        raise invalid(owner, prop, values, allowed)
    for value in values:
        if not isinstance(value, str) or not pattern.match(value):
            raise invalid(owner, prop, value, allowed)
    if len(set(values)) != len(values):
        raise invalid(owner, prop, list(values), allowed)
    return tuple(values)


@dataclasses.dataclass(frozen=True)
class CreateNetwork(Settings):
    """A new VPC for the platform (``PlatformNetwork``).

    Attributes:
        cidr: the VPC's IPv4 block, /16 to /24 (default ``10.0.0.0/16``), split evenly across the zones.
        max_azs: zones with a subnet, 2-6 (default 2). A stack without an account and region (the
            reference app's default) picks them by index from the deploy region's zone list, which must
            be that long (some accounts see only two zones in us-west-1).
    """

    cidr: str = "10.0.0.0/16"
    max_azs: int = 2

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        require_cidr(owner, f"{path}cidr", values["cidr"])
        require_max_azs(owner, f"{path}max_azs", values["max_azs"])


@dataclasses.dataclass(frozen=True)
class ExistingNetwork(Settings):
    """A VPC the platform does not own, given by ids (imported offline, never looked up).

    Attributes:
        vpc_id: ``vpc-...``.
        subnet_ids: 1-16 private subnets every compute runs in (two or more zones recommended); they
            need routes to the AWS services the platform calls (VPC endpoints or a NAT gateway).
        availability_zones: the zone of each subnet, same order (optional).
        security_group_ids: 0-5 groups every compute uses; none: each compute gets its own group
            allowing only HTTPS out.
    """

    TUPLE_FIELDS = ("subnet_ids", "availability_zones", "security_group_ids")

    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    availability_zones: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        vpc_id = values["vpc_id"]
        if not isinstance(vpc_id, str) or not _VPC_RE.match(vpc_id):
            raise invalid(owner, f"{path}vpc_id", vpc_id, "a VPC id like vpc-0123456789abcdef0")
        subnets = require_ids(owner, f"{path}subnet_ids", values["subnet_ids"], _SUBNET_RE,
                              "subnet-0123456789abcdef0", minimum=1, maximum=MAX_SUBNETS)
        zones = values["availability_zones"]
        if zones:
            allowed = f"one availability zone name (like eu-west-1a) per subnet_ids entry, {len(subnets)} in order"
            if isinstance(zones, str) or not isinstance(zones, (list, tuple)) or len(zones) != len(subnets):
                raise invalid(owner, f"{path}availability_zones", zones, allowed)
            for zone in zones:
                if not isinstance(zone, str) or not _ZONE_RE.match(zone):
                    raise invalid(owner, f"{path}availability_zones", zone, allowed)
        elif zones is None or isinstance(zones, str):
            raise invalid(owner, f"{path}availability_zones", zones, "a list of availability zone names, or []")
        groups = values["security_group_ids"]
        if groups is None or (isinstance(groups, (list, tuple)) and not groups):
            return
        require_ids(owner, f"{path}security_group_ids", groups, _GROUP_RE, "sg-0123456789abcdef0",
                    minimum=1, maximum=MAX_SECURITY_GROUPS)


NetworkSettings = CreateNetwork | ExistingNetwork


def network_settings(raw: Any, *, owner: str = "config", path: str = "network") -> NetworkSettings | None:
    """The ``network`` value as settings: ``None`` for ``none``; errors name ``network.<field>``."""
    if isinstance(raw, (CreateNetwork, ExistingNetwork)):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if text in ("", NONE):
            return None
        if text == CREATE:
            return CreateNetwork()
        if not text.startswith("{"):
            raise invalid(owner, path, raw, NETWORK_ALLOWED)
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise invalid(owner, path, raw, f"valid JSON ({exc.msg}): {NETWORK_ALLOWED}") from None
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise invalid(owner, path, raw, NETWORK_ALLOWED)
    if CREATE in raw:
        check_keys(owner, f"{path}.", raw, (CREATE,))
        options = raw[CREATE]
        return CreateNetwork.from_mapping({} if options is None else options, owner=owner, path=f"{path}.{CREATE}.")
    return ExistingNetwork.from_mapping(raw, owner=owner, path=f"{path}.")


__all__ = ["CREATE", "CreateNetwork", "ExistingNetwork", "MAX_SECURITY_GROUPS", "MAX_SUBNETS", "NONE",
           "NETWORK_ALLOWED", "NetworkSettings", "network_settings", "require_cidr", "require_max_azs"]
