"""What SageMaker accepts in a feature group, checked at synth: schema, stores, catalog and throughput.

``FeatureGroup`` runs these on its own props before it creates anything, so a
bad schema fails in milliseconds with the prop named instead of minutes into
a deployment. Names follow the shared contract's patterns; unresolved tokens
pass (CloudFormation checks them). Schema inference from a pandas DataFrame
is plain data and lives with ``FeatureGroupSpec`` (re-exported here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import Duration

from ..._validation import invalid, is_token, require_bool, require_choice, require_int, require_pattern
from ...lambdas._shared import contract
from ...settings.features import FEATURE_TYPES, THROUGHPUT_MODES, feature_definitions_from_dataframe

__all__ = [
    "EVENT_TIME_TYPES", "FEATURE_TYPES", "MAX_FEATURES", "RESERVED_FEATURE_NAMES", "feature_definitions_from_dataframe",
    "require_feature_group_name", "require_feature_name", "ttl_duration", "validate_feature_definitions",
]

_OWNER = "FeatureGroup"
EVENT_TIME_TYPES = ("String", "Fractional")
# Feature Store adds these columns to every offline-store record.
RESERVED_FEATURE_NAMES = ("is_deleted", "write_time", "api_invocation_time")
MAX_FEATURES = 2500
MAX_DESCRIPTION_LENGTH = 128
MAX_CAPACITY_UNITS = 10_000_000
GLUE_NAME_RE = re.compile(r"^[a-z0-9_]{1,255}$")
ATHENA_WORKGROUP_RE = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
_NAME_ALLOWED = "letters, digits, '-' and '_', starting and ending with a letter or digit"
# Largest unit first: a TTL is expressed in the largest whole unit it fits.
_TTL_UNITS = (("Weeks", 7 * 24 * 3600), ("Days", 24 * 3600), ("Hours", 3600), ("Minutes", 60), ("Seconds", 1))


# ------------------------------------------------------------------ names
def require_feature_group_name(owner: str, prop: str, value: Any) -> str:
    allowed = f"1-{contract.MAX_FEATURE_GROUP_NAME} characters of {_NAME_ALLOWED}"
    require_pattern(owner, prop, value, contract.FEATURE_GROUP_NAME_RE, allowed)
    if not is_token(value) and len(value) > contract.MAX_FEATURE_GROUP_NAME:
        raise invalid(owner, prop, value, allowed)
    return value


def require_feature_name(owner: str, prop: str, value: Any) -> str:
    """A feature name: the contract's pattern and length, and none of the columns Feature Store adds."""
    allowed = f"1-{contract.MAX_FEATURE_NAME} characters of {_NAME_ALLOWED}"
    require_pattern(owner, prop, value, contract.FEATURE_NAME_RE, allowed)
    if is_token(value):
        return value
    if len(value) > contract.MAX_FEATURE_NAME:
        raise invalid(owner, prop, value, allowed)
    if value.lower() in RESERVED_FEATURE_NAMES:
        raise invalid(owner, prop, value, "a name other than the reserved " + ", ".join(RESERVED_FEATURE_NAMES))
    return value


# ------------------------------------------------------------------ schema
def _pairs(feature_definitions: Any) -> list[tuple[Any, Any]]:
    """A mapping ``{name: type}`` or pairs ``[(name, type)]`` -> ordered list of pairs."""
    if isinstance(feature_definitions, Mapping):
        return list(feature_definitions.items())
    if isinstance(feature_definitions, (str, bytes)) or not isinstance(feature_definitions, Iterable):
        raise invalid(_OWNER, "feature_definitions", feature_definitions,
                      'a mapping of feature name to type, e.g. {"customer_id": "String"}')
    pairs = list(feature_definitions)
    for item in pairs:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise invalid(_OWNER, "feature_definitions", item, "(name, type) pairs")
    return [(name, feature_type) for name, feature_type in pairs]


def validate_feature_definitions(
    feature_definitions: Any, record_identifier_feature_name: Any, event_time_feature_name: Any
) -> list[tuple[str, str]]:
    """Check a schema the way SageMaker will; returns ``[(name, type)]`` in order.

    Names are unique case-insensitively (Athena folds case), at most 2,500
    features, and the record identifier and event time are defined features,
    the event time of type ``String`` or ``Fractional``.
    """
    pairs = _pairs(feature_definitions)
    if not pairs:
        raise invalid(_OWNER, "feature_definitions", feature_definitions, "at least one feature")
    if len(pairs) > MAX_FEATURES:
        raise invalid(_OWNER, "feature_definitions", f"{len(pairs)} features", f"at most {MAX_FEATURES} features")
    seen: dict[str, str] = {}
    for name, feature_type in pairs:
        if not is_token(name):
            require_feature_name(_OWNER, "feature_definitions", name)
            folded = name.lower()
            if folded in seen:
                raise invalid(_OWNER, "feature_definitions", name,
                              f"unique feature names (case-insensitive); {seen[folded]!r} is already defined")
            seen[folded] = name
        if not is_token(feature_type) and feature_type not in FEATURE_TYPES:
            raise invalid(_OWNER, "feature_definitions", f"{name}: {feature_type!r}",
                          "feature types " + " | ".join(FEATURE_TYPES))
    types = {name: feature_type for name, feature_type in pairs if not is_token(name)}
    all_literal = len(types) == len(pairs)
    for prop, name in (("record_identifier_feature_name", record_identifier_feature_name),
                       ("event_time_feature_name", event_time_feature_name)):
        require_feature_name(_OWNER, prop, name)
        if not is_token(name) and all_literal and name not in types:
            raise invalid(_OWNER, prop, name, "one of the defined features: " + ", ".join(sorted(types)))
    event_type = types.get(event_time_feature_name)
    if event_type is not None and not is_token(event_type) and event_type not in EVENT_TIME_TYPES:
        raise invalid(_OWNER, "event_time_feature_name", f"{event_time_feature_name} ({event_type})",
                      "a feature of type " + " | ".join(EVENT_TIME_TYPES))
    return pairs


# ------------------------------------------------------------------ stores, catalog, throughput
def ttl_duration(ttl: Any) -> dict[str, Any]:
    """An online-store TTL as CloudFormation's ``TtlDuration``, in the largest whole unit."""
    allowed = "a whole number of seconds >= 1 (e.g. Duration.days(30))"
    if not isinstance(ttl, Duration):
        raise invalid(_OWNER, "online_store_ttl", ttl, allowed)
    try:
        seconds = int(ttl.to_seconds(integral=True))
    except RuntimeError:
        raise invalid(_OWNER, "online_store_ttl", ttl.to_human_string(), allowed) from None
    if seconds < 1:
        raise invalid(_OWNER, "online_store_ttl", ttl.to_human_string(), allowed)
    unit, size = next((u, s) for u, s in _TTL_UNITS if seconds % s == 0)
    return {"Unit": unit, "Value": seconds // size}


def check_stores(online: Any, offline: Any, ttl: Any, description: Any) -> None:
    require_bool(_OWNER, "online_store_enabled", online)
    require_bool(_OWNER, "offline_store_enabled", offline)
    if not (online or offline):
        raise invalid(_OWNER, "offline_store_enabled", offline,
                      "True when online_store_enabled is False (a group needs at least one store)")
    if ttl is not None and not online:
        shown = ttl.to_human_string() if isinstance(ttl, Duration) else ttl
        raise invalid(_OWNER, "online_store_ttl", shown, "a TTL only with online_store_enabled=True")
    if description is not None and not is_token(description) and (
            not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LENGTH):
        raise invalid(_OWNER, "description", description, f"a string of at most {MAX_DESCRIPTION_LENGTH} characters")


def check_catalog(disable: Any, database: Any, table: Any, table_format: Any = "Glue") -> None:
    """Glue table names (database and table together) and the table format, as the SageMaker API allows them.

    ``OfflineStoreConfig.DisableGlueTableCreation``: with creation on, a ``DataCatalogConfig``
    names the table Feature Store creates; with creation off, it names a table you manage;
    and "the Iceberg table format is only supported when this is set to False".
    """
    require_bool(_OWNER, "disable_glue_table_creation", disable)
    if table_format == "Iceberg" and disable:
        raise invalid(_OWNER, "table_format", table_format,
                      "'Glue' when disable_glue_table_creation=True (SageMaker supports Iceberg only with "
                      "Glue table creation on)")
    for prop, value in (("glue_database", database), ("glue_table_name", table)):
        if value is None or is_token(value):
            continue
        require_pattern(_OWNER, prop, value, GLUE_NAME_RE, "1-255 characters of a-z, 0-9 and '_'")
    if (database is None) != (table is None):
        prop, value = ("glue_table_name", table) if table is None else ("glue_database", database)
        raise invalid(_OWNER, prop, value, "given together with the other of glue_database / glue_table_name")


def check_throughput(mode: Any, read: Any, write: Any, online: bool) -> None:
    """``OnDemand`` without capacities, or ``Provisioned`` with write (and, with an online store, read) capacity."""
    require_choice(_OWNER, "throughput_mode", mode, THROUGHPUT_MODES)
    capacities = (("provisioned_read_capacity_units", read), ("provisioned_write_capacity_units", write))
    if mode == "OnDemand":
        for prop, value in capacities:
            if value is not None:
                raise invalid(_OWNER, prop, value, "None unless throughput_mode='Provisioned'")
        return
    allowed = f"an integer in [1, {MAX_CAPACITY_UNITS}]"
    if write is None:
        raise invalid(_OWNER, "provisioned_write_capacity_units", write, f"{allowed} with throughput_mode='Provisioned'")
    if read is None and online:
        raise invalid(_OWNER, "provisioned_read_capacity_units", read,
                      f"{allowed} for a provisioned group with an online store")
    for prop, value in capacities:
        if value is not None:
            require_int(_OWNER, prop, value, minimum=1, maximum=MAX_CAPACITY_UNITS)
