"""One model's SageMaker Feature Store: feature groups stored in the platform bucket, encrypted with its key."""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from .. import locations
from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.features.feature_group import FeatureGroup
from ..constructs.features.feature_schema import require_feature_group_name
from ..lambdas._shared import contract
from ..regions import FEATURE_STORE, require_capabilities
from ..settings.features import FeatureGroupSpec
from .foundation import apply_standard_tags, stack_props
from .resources import PlatformResources

_OWNER = "FeatureStoreStack"

# The course's customer-features group (module 10.8): the record from its
# put_record example, event time as ISO-8601 text ('2024-01-15T10:30:00Z').
DEFAULT_FEATURE_GROUPS: Mapping[str, FeatureGroupSpec] = types.MappingProxyType({
    "customer-features": FeatureGroupSpec(
        description="Customer profile features: age, balance, transaction count",
        record_identifier_feature_name="customer_id",
        event_time_feature_name="event_time",
        feature_definitions={
            "customer_id": "String",
            "age": "Integral",
            "account_balance": "Fractional",
            "transaction_count": "Integral",
            "event_time": "String",
        },
    ),
})


class FeatureStoreStack(Stack):
    """Feature groups of one model and stage, stored in the platform's data bucket.

    Each group (``feature_groups``: short name -> :class:`FeatureGroupSpec`,
    default :data:`DEFAULT_FEATURE_GROUPS`, the course's ``customer-features``)
    is named ``<config.prefix>-<short name>`` so stages don't collide (unless
    its spec sets ``feature_group_name``). Its online store is encrypted with
    ``resources.data_key``; its offline store lies under
    ``s3://<resources.data_bucket>/feature-store/<group name>/``, encrypted with
    the same key and written by a dedicated least-privilege role.

    Attributes: ``feature_groups`` (short name -> ``FeatureGroup``).
    Outputs: ``<ShortName>FeatureGroupName`` for every group.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        resources: PlatformResources,
        feature_groups: Mapping[str, FeatureGroupSpec] | None = None,
        **kwargs: Any,
    ) -> None:
        specs = DEFAULT_FEATURE_GROUPS if feature_groups is None else feature_groups
        names = self._group_names(config, specs)
        super().__init__(scope, id, **stack_props(config, "feature store", kwargs))
        require_capabilities(self, [FEATURE_STORE], why="the feature store stack")
        self.config = config

        self.feature_groups: dict[str, FeatureGroup] = {}
        for short_name, spec in specs.items():
            group = FeatureGroup(
                self,
                short_name,
                feature_group_name=names[short_name],
                record_identifier_feature_name=spec.record_identifier_feature_name,
                event_time_feature_name=spec.event_time_feature_name,
                feature_definitions=spec.feature_definitions,
                description=spec.description,
                online_store_enabled=spec.online_store_enabled,
                online_store_key=resources.data_key,
                online_store_ttl=spec.online_store_ttl,
                offline_store_enabled=spec.offline_store_enabled,
                offline_store_bucket=resources.data_bucket,
                offline_store_prefix=locations.FEATURE_STORE,
                offline_store_key=resources.data_key,
                disable_glue_table_creation=spec.disable_glue_table_creation,
                glue_database=spec.glue_database,
                glue_table_name=spec.glue_table_name,
                table_format=spec.table_format,
                throughput_mode=spec.throughput_mode,
                provisioned_read_capacity_units=spec.provisioned_read_capacity_units,
                provisioned_write_capacity_units=spec.provisioned_write_capacity_units,
            )
            self.feature_groups[short_name] = group
            CfnOutput(self, f"{_pascal(short_name)}FeatureGroupName", value=group.feature_group_name,
                      description=f"Feature group '{short_name}'")
        apply_standard_tags(self, config)

    @staticmethod
    def _group_names(config: PlatformConfig, specs: Any) -> dict[str, str]:
        """Short name -> group name, after checking the short names (this stack's own input) once."""
        allowed = "a non-empty mapping of short name to FeatureGroupSpec"
        if not isinstance(specs, Mapping) or not specs:
            raise invalid(_OWNER, "feature_groups", specs, allowed)
        names = {}
        for short_name, spec in specs.items():
            require_feature_group_name(_OWNER, "feature_groups", short_name)
            if not isinstance(spec, FeatureGroupSpec):
                raise invalid(_OWNER, "feature_groups", {short_name: spec}, allowed)
            name = spec.feature_group_name or f"{config.prefix}-{short_name}"
            if spec.feature_group_name is None and len(name) > contract.MAX_FEATURE_GROUP_NAME:
                raise invalid(_OWNER, "feature_groups", short_name,
                              f"a short name of at most {contract.MAX_FEATURE_GROUP_NAME - len(config.prefix) - 1} "
                              f"characters: the group name '{name}' exceeds {contract.MAX_FEATURE_GROUP_NAME} "
                              "(or set feature_group_name in its spec)")
            names[short_name] = name
        return names


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]+", name) if part)
