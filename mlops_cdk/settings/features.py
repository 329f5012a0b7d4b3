"""Feature groups as plain data: the typed spec a ``FeatureStoreStack`` builds groups from, and schema inference.

Nothing here creates a resource or checks SageMaker's rules: ``FeatureGroup``
validates every value when the stack builds the group from a spec, and names
the field at fault (``FeatureGroup 'event_time_feature_name': ...``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

from aws_cdk import Duration

from .._validation import invalid

FeatureType = Literal["Integral", "Fractional", "String"]
TableFormat = Literal["Glue", "Iceberg"]
ThroughputMode = Literal["OnDemand", "Provisioned"]
FEATURE_TYPES: tuple[str, ...] = typing.get_args(FeatureType)
TABLE_FORMATS: tuple[str, ...] = typing.get_args(TableFormat)
THROUGHPUT_MODES: tuple[str, ...] = typing.get_args(ThroughputMode)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FeatureGroupSpec:
    """What a ``FeatureStoreStack`` needs to know about one feature group; the stack supplies the rest.

    The stack names the group ``<config.prefix>-<short name>`` (unless
    ``feature_group_name`` is set), stores it in the platform bucket under
    ``feature-store/`` and encrypts both stores with the platform key. Every
    field means what the ``FeatureGroup`` prop of the same name means.

    Attributes:
        record_identifier_feature_name: the feature that identifies a record.
        event_time_feature_name: the record's event time, a ``String``
            (ISO-8601, e.g. ``2024-01-15T10:30:00Z``) or ``Fractional`` (epoch seconds) feature.
        feature_definitions: feature name -> ``Integral`` | ``Fractional`` |
            ``String``, in column order (or :meth:`from_dataframe`).
        description: at most 128 characters.
        online_store_enabled / offline_store_enabled: at least one store.
        online_store_ttl: records expire from the online store after this
            long (whole seconds); ``None`` keeps them.
        table_format: the offline store's table format, ``Glue`` or ``Iceberg``.
        disable_glue_table_creation, glue_database, glue_table_name: register
            the offline store in an existing Glue table instead of letting
            Feature Store create one.
        throughput_mode, provisioned_read_capacity_units,
        provisioned_write_capacity_units: ``OnDemand``, or ``Provisioned`` with capacities.
        feature_group_name: overrides the generated name (at most 64 characters).
    """

    record_identifier_feature_name: str
    event_time_feature_name: str
    feature_definitions: Mapping[str, str]
    description: str | None = None
    online_store_enabled: bool = True
    online_store_ttl: Duration | None = None
    offline_store_enabled: bool = True
    table_format: TableFormat = "Glue"
    disable_glue_table_creation: bool = False
    glue_database: str | None = None
    glue_table_name: str | None = None
    throughput_mode: ThroughputMode = "OnDemand"
    provisioned_read_capacity_units: int | None = None
    provisioned_write_capacity_units: int | None = None
    feature_group_name: str | None = None

    def __post_init__(self) -> None:
        # A read-only copy: specs are shared (DEFAULT_FEATURE_GROUPS), so no caller may change another's schema.
        if isinstance(self.feature_definitions, Mapping):
            object.__setattr__(self, "feature_definitions", types.MappingProxyType(dict(self.feature_definitions)))

    @classmethod
    def from_dataframe(
        cls, data_frame: Any, *, record_identifier_feature_name: str, event_time_feature_name: str, **options: Any
    ) -> "FeatureGroupSpec":
        """A spec whose feature definitions come from ``data_frame``'s dtypes (:func:`feature_definitions_from_dataframe`)."""
        return cls(
            record_identifier_feature_name=record_identifier_feature_name,
            event_time_feature_name=event_time_feature_name,
            feature_definitions=feature_definitions_from_dataframe(data_frame),
            **options,
        )


def feature_definitions_from_dataframe(data_frame: Any) -> dict[str, str]:
    """Feature definitions (name -> Feature Store type) derived from a pandas DataFrame's dtypes.

    ``bool`` and integer columns become ``Integral``, floats ``Fractional``;
    strings, objects, categories and datetimes become ``String`` (store
    timestamps as ISO-8601 text, e.g. ``2024-01-15T10:30:00Z``). Any other
    dtype (timedelta, complex, period, ...) is an error that names the column.
    pandas is imported here, not at module import, so the library works without it.
    """
    import pandas as pd
    from pandas.api import types as ptypes

    owner = "feature_definitions_from_dataframe"
    if not isinstance(data_frame, pd.DataFrame):
        raise invalid(owner, "data_frame", type(data_frame).__name__, "a pandas DataFrame")
    definitions: dict[str, str] = {}
    for column, dtype in data_frame.dtypes.items():
        if not isinstance(column, str):
            raise invalid(owner, "data_frame", column, "string column names")
        if ptypes.is_bool_dtype(dtype) or ptypes.is_integer_dtype(dtype):
            definitions[column] = "Integral"
        elif ptypes.is_float_dtype(dtype):
            definitions[column] = "Fractional"
        elif (
            ptypes.is_datetime64_any_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
            or ptypes.is_string_dtype(dtype)
            or ptypes.is_object_dtype(dtype)
        ):
            definitions[column] = "String"
        else:
            raise invalid(owner, "data_frame", f"column {column!r} of dtype {dtype}",
                          "int, bool, float, str/object, category or datetime columns")
    return definitions
