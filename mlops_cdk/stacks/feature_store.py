"""One model's SageMaker Feature Store: feature groups stored in the platform bucket, encrypted with its key."""

from __future__ import annotations

import copy
import difflib
import inspect
import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from .. import locations
from .._validation import invalid
from ..config import PlatformConfig
from ..constructs.feature_group import (
    FEATURE_GROUP_NAME_RE,
    MAX_NAME_LENGTH,
    FeatureGroup,
    feature_definitions_from_dataframe,
)
from .foundation import FoundationStack, apply_standard_tags, require_platform

_OWNER = "FeatureStoreStack"

FEATURE_STORE_PREFIX = locations.FEATURE_STORE

# The course's customer-features group (module 10.8): the record from its
# put_record example, event time as ISO-8601 text ('2024-01-15T10:30:00Z').
DEFAULT_FEATURE_GROUPS: dict[str, dict[str, Any]] = {
    "customer-features": {
        "description": "Customer profile features: age, balance, transaction count",
        "record_identifier_feature_name": "customer_id",
        "event_time_feature_name": "event_time",
        "feature_definitions": {
            "customer_id": "String",
            "age": "Integral",
            "account_balance": "Fractional",
            "transaction_count": "Integral",
            "event_time": "String",
        },
    }
}

# Spec keys: FeatureGroup's keyword props (the stack supplies bucket, prefix and
# keys unless a spec overrides them) plus ``data_frame`` to derive the schema.
SPEC_KEYS = tuple(
    name for name, p in inspect.signature(FeatureGroup.__init__).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
) + ("data_frame",)


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]+", name) if part)


class FeatureStoreStack(Stack):
    """Feature groups of one model and stage, stored in the foundation's data bucket.

    Each group (``feature_groups``: short name -> spec, default: the course's
    ``customer-features``) is named ``<config.prefix>-<short name>`` so stages
    don't collide, has an online store encrypted with the foundation's data
    key and an offline store under ``s3://<data bucket>/feature-store/<group name>``
    encrypted with the same key, written by a dedicated least-privilege role.
    A spec holds ``FeatureGroup`` keyword props (``feature_definitions`` or a
    pandas ``data_frame``, ``record_identifier_feature_name``,
    ``event_time_feature_name``, ``online_store_ttl``, ``throughput_mode``, ...);
    ``feature_group_name`` overrides the generated name.

    Outputs: ``<ShortName>FeatureGroupName`` for every group.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PlatformConfig,
        foundation: FoundationStack,
        feature_groups: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        require_platform(_OWNER, config, foundation)
        specs = self._validate_specs(config, DEFAULT_FEATURE_GROUPS if feature_groups is None else feature_groups)
        kwargs.setdefault("description", f"mlops-cdk feature store for {config.model_name} ({config.stage})")
        super().__init__(scope, id, **kwargs)
        self.config = config

        self.feature_groups: dict[str, FeatureGroup] = {}
        for short_name, spec in specs.items():
            props = dict(spec)
            data_frame = props.pop("data_frame", None)
            if data_frame is not None:
                props["feature_definitions"] = feature_definitions_from_dataframe(data_frame)
            props.setdefault("offline_store_bucket", foundation.data)
            props.setdefault("offline_store_prefix", FEATURE_STORE_PREFIX)
            props.setdefault("offline_store_key", foundation.data.encryption_key)
            props.setdefault("online_store_key", foundation.data.encryption_key)
            group = FeatureGroup(self, short_name, **props)
            self.feature_groups[short_name] = group
            CfnOutput(
                self,
                f"{_pascal(short_name)}FeatureGroupName",
                value=group.feature_group_name,
                description=f"Feature group '{short_name}'",
            )
        apply_standard_tags(self, config)

    @staticmethod
    def _validate_specs(config: PlatformConfig, specs: Any) -> dict[str, dict[str, Any]]:
        if not isinstance(specs, Mapping) or not specs:
            raise invalid(_OWNER, "feature_groups", specs, "a non-empty mapping of short name to FeatureGroup spec")
        out: dict[str, dict[str, Any]] = {}
        for short_name, spec in specs.items():
            if not isinstance(short_name, str) or not FEATURE_GROUP_NAME_RE.match(short_name):
                raise invalid(_OWNER, "feature_groups", short_name,
                              "short names of letters, digits, '-' and '_', starting and ending with a letter or digit")
            if not isinstance(spec, Mapping):
                raise invalid(_OWNER, "feature_groups", {short_name: spec}, "a mapping of FeatureGroup props per group")
            for key in spec:
                if key not in SPEC_KEYS:
                    close = difflib.get_close_matches(str(key), SPEC_KEYS, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise invalid(_OWNER, "feature_groups", f"{short_name}.{key}",
                                  "keys among " + ", ".join(SPEC_KEYS) + hint)
            if "feature_definitions" in spec and "data_frame" in spec:
                raise invalid(_OWNER, "feature_groups", f"{short_name}.data_frame",
                              "either feature_definitions or data_frame, not both")
            # Copy: the defaults are module-level and a spec's dicts must not be shared by stacks.
            resolved = {k: (copy.deepcopy(v) if isinstance(v, (dict, list)) else v) for k, v in spec.items()}
            name = resolved.setdefault("feature_group_name", f"{config.prefix}-{short_name}")
            if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
                raise invalid(_OWNER, "feature_groups", name,
                              f"group names of at most {MAX_NAME_LENGTH} characters (config prefix + '-' + short name); "
                              f"shorten '{short_name}' or set 'feature_group_name' in its spec")
            out[short_name] = resolved
        return out
