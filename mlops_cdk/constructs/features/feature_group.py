"""A SageMaker Feature Store feature group with encrypted online/offline stores and scoped grants."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from .._validation import invalid, is_token, require_choice, require_int, require_pattern
from ._nag import acknowledge_wildcard_resources
from .execution_role import SageMakerExecutionRole
from .secure_bucket import SecureBucket

_OWNER = "FeatureGroup"

FEATURE_TYPES = ("Integral", "Fractional", "String")
EVENT_TIME_TYPES = ("String", "Fractional")
TABLE_FORMATS = ("Glue", "Iceberg")
THROUGHPUT_MODES = ("OnDemand", "Provisioned")
# Feature Store adds these columns to every offline-store record.
RESERVED_FEATURE_NAMES = ("is_deleted", "write_time", "api_invocation_time")
MAX_FEATURES = 2500
MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 128
MAX_CAPACITY_UNITS = 10_000_000
# The database Feature Store creates the offline store's Glue table in.
DEFAULT_GLUE_DATABASE = "sagemaker_featurestore"
DATA_CATALOG = "AwsDataCatalog"

FEATURE_NAME_RE = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")
FEATURE_GROUP_NAME_RE = re.compile(r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")
_PREFIX_RE = re.compile(r"^(?!/)(?!.*//)[^\x00*?]*$")
_GLUE_NAME_RE = re.compile(r"^[a-z0-9_]{1,255}$")

# Largest unit first: a TTL is expressed in the largest whole unit it fits.
_TTL_UNITS = (("Weeks", 7 * 24 * 3600), ("Days", 24 * 3600), ("Hours", 3600), ("Minutes", 60), ("Seconds", 1))


# --------------------------------------------------------------------- schema
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

    if not isinstance(data_frame, pd.DataFrame):
        raise invalid(_OWNER, "data_frame", type(data_frame).__name__, "a pandas DataFrame")
    definitions: dict[str, str] = {}
    for column, dtype in data_frame.dtypes.items():
        if not isinstance(column, str):
            raise invalid(_OWNER, "data_frame", column, "string column names")
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
            raise invalid(
                _OWNER, "data_frame", f"column {column!r} of dtype {dtype}",
                "int, bool, float, str/object, category or datetime columns",
            )
    return definitions


def _normalize_definitions(feature_definitions: Any) -> list[tuple[Any, Any]]:
    """A mapping ``{name: type}`` or pairs ``[(name, type)]`` -> ordered list of pairs."""
    if isinstance(feature_definitions, Mapping):
        return list(feature_definitions.items())
    if isinstance(feature_definitions, (str, bytes)) or not isinstance(feature_definitions, Iterable):
        raise invalid(_OWNER, "feature_definitions", feature_definitions,
                      'a mapping of feature name to type, e.g. {"customer_id": "String"}')
    pairs = []
    for item in feature_definitions:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise invalid(_OWNER, "feature_definitions", item, "(name, type) pairs")
        pairs.append((item[0], item[1]))
    return pairs


def validate_feature_definitions(
    feature_definitions: Any, record_identifier_feature_name: Any, event_time_feature_name: Any
) -> list[tuple[str, str]]:
    """Check the schema the way SageMaker will, before anything is deployed; returns ``[(name, type)]``."""
    pairs = _normalize_definitions(feature_definitions)
    if not pairs:
        raise invalid(_OWNER, "feature_definitions", feature_definitions, "at least one feature")
    if len(pairs) > MAX_FEATURES:
        raise invalid(_OWNER, "feature_definitions", f"{len(pairs)} features", f"at most {MAX_FEATURES} features")
    seen: dict[str, str] = {}
    for name, feature_type in pairs:
        if not is_token(name):
            _check_feature_name("feature_definitions", name)
            folded = name.lower()
            if folded in seen:
                raise invalid(_OWNER, "feature_definitions", name,
                              f"unique feature names (case-insensitive); {seen[folded]!r} is already defined")
            seen[folded] = name
        if not is_token(feature_type) and feature_type not in FEATURE_TYPES:
            raise invalid(_OWNER, "feature_definitions", f"{name}: {feature_type!r}",
                          "feature types " + " | ".join(FEATURE_TYPES))
    types = {name: feature_type for name, feature_type in pairs if not is_token(name)}
    has_token_names = len(types) != len(pairs)
    for prop, name in (("record_identifier_feature_name", record_identifier_feature_name),
                       ("event_time_feature_name", event_time_feature_name)):
        if is_token(name):
            continue
        _check_feature_name(prop, name)
        if name not in types and not has_token_names:
            raise invalid(_OWNER, prop, name, "one of the defined features: " + ", ".join(sorted(types)))
    event_type = types.get(event_time_feature_name)
    if event_type is not None and not is_token(event_type) and event_type not in EVENT_TIME_TYPES:
        raise invalid(_OWNER, "event_time_feature_name", f"{event_time_feature_name} ({event_type})",
                      "a feature of type " + " | ".join(EVENT_TIME_TYPES))
    return pairs


def _check_feature_name(prop: str, name: Any) -> None:
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or not FEATURE_NAME_RE.match(name):
        raise invalid(_OWNER, prop, name,
                      "1-64 characters of letters, digits, '-' and '_', starting and ending with a letter or digit")
    if name.lower() in RESERVED_FEATURE_NAMES:
        raise invalid(_OWNER, prop, name, "a name other than the reserved " + ", ".join(RESERVED_FEATURE_NAMES))


def _ttl_duration(ttl: Any) -> dict[str, Any]:
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


# ------------------------------------------------------- nag acknowledgments
# ------------------------------------------------------------------ construct
class FeatureGroup(Construct):
    """An ``AWS::SageMaker::FeatureGroup`` with KMS-encrypted stores and least-privilege access.

    Creates:
      * the feature group (retained on ``cdk destroy`` by default), its schema
        validated here against SageMaker's rules: names, reserved names,
        duplicates (case-insensitive, as Athena sees them), types, at most 2500
        features, an event-time feature of type String or Fractional;
      * the online store (on by default), encrypted with ``online_store_key``,
        optionally with a record TTL;
      * the offline store (on by default) at
        ``s3://<bucket>/<offline_store_prefix><feature_group_name>`` encrypted
        with ``offline_store_key``, catalogued in Glue (table format Glue or
        Iceberg);
      * when no ``role`` is given and the offline store is on: a dedicated role
        trusted by ``sagemaker.amazonaws.com``. Whatever the role, this group
        attaches one policy to it: write this group's offline-store prefix,
        use the offline key, read/update/create this group's Glue table;
      * when needed and not given: one rotating KMS key (``Key``) for the
        online store and a ``SecureBucket`` (``OfflineStore``) for the offline store.

    ``grant_ingest``, ``grant_read_online`` and ``grant_query_offline`` give a
    principal access to this group only.

    Note: CloudFormation replaces a feature group when its tags, schema,
    description or store configuration change, and a named group cannot be
    replaced in place: change those by creating a new group.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        feature_group_name: str,
        record_identifier_feature_name: str,
        event_time_feature_name: str,
        feature_definitions: Mapping[str, str] | Iterable[tuple[str, str]],
        description: str | None = None,
        online_store_enabled: bool = True,
        online_store_key: kms.IKey | None = None,
        online_store_ttl: Duration | None = None,
        offline_store_enabled: bool = True,
        offline_store_bucket: SecureBucket | s3.IBucket | None = None,
        offline_store_prefix: str = "feature-store/",
        offline_store_key: kms.IKey | None = None,
        disable_glue_table_creation: bool = False,
        glue_database: str | None = None,
        glue_table_name: str | None = None,
        table_format: str = "Glue",
        role: SageMakerExecutionRole | iam.IRole | None = None,
        throughput_mode: str = "OnDemand",
        provisioned_read_capacity_units: int | None = None,
        provisioned_write_capacity_units: int | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        self._validate_name(feature_group_name)
        definitions = validate_feature_definitions(
            feature_definitions, record_identifier_feature_name, event_time_feature_name
        )
        self._validate_stores(online_store_enabled, offline_store_enabled)
        if description is not None and not is_token(description):
            if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LENGTH:
                raise invalid(_OWNER, "description", description, f"a string of at most {MAX_DESCRIPTION_LENGTH} characters")
        ttl = None
        if online_store_ttl is not None:
            if not online_store_enabled:
                raise invalid(_OWNER, "online_store_ttl", online_store_ttl.to_human_string(),
                              "a TTL only with online_store_enabled=True")
            ttl = _ttl_duration(online_store_ttl)
        require_choice(_OWNER, "table_format", table_format, TABLE_FORMATS)
        require_pattern(_OWNER, "offline_store_prefix", offline_store_prefix, _PREFIX_RE,
                        "an S3 key prefix not starting with '/', without '//', '*' or '?'")
        self._validate_catalog(disable_glue_table_creation, glue_database, glue_table_name)
        for prop, value, attribute, allowed in (
            ("role", role, "role_arn", "a SageMakerExecutionRole or an iam.IRole"),
            ("offline_store_bucket", offline_store_bucket, "bucket_arn", "a SecureBucket or an s3.IBucket"),
            ("online_store_key", online_store_key, "key_arn", "a kms.IKey"),
            ("offline_store_key", offline_store_key, "key_arn", "a kms.IKey"),
        ):
            if value is not None and not isinstance(value, (SageMakerExecutionRole, SecureBucket)) \
                    and not hasattr(value, attribute):
                raise invalid(_OWNER, prop, value, allowed)
        throughput = self._throughput(
            throughput_mode, provisioned_read_capacity_units, provisioned_write_capacity_units, online_store_enabled
        )

        self._group_name_literal = feature_group_name
        self.record_identifier_feature_name = record_identifier_feature_name
        self.event_time_feature_name = event_time_feature_name
        self.feature_definitions: dict[str, str] = dict(definitions)
        self.online_store_enabled = online_store_enabled
        self.offline_store_enabled = offline_store_enabled
        self.table_format = table_format
        self._removal_policy = removal_policy
        self._default_key: kms.IKey | None = None

        # ------------------------------------------------------ online store
        self.online_store_key: kms.IKey | None = None
        if online_store_enabled:
            self.online_store_key = online_store_key or self._key()

        # ----------------------------------------------------- offline store
        self.offline_store_bucket: s3.IBucket | None = None
        self.offline_store_key: kms.IKey | None = None
        self.offline_store_prefix = ""
        self.offline_store_s3_uri: str | None = None
        self.glue_database: str | None = None
        self.glue_table_name: str | None = glue_table_name
        self.role: iam.IRole | None = None
        self.offline_store_policy: iam.Policy | None = None
        if offline_store_enabled:
            bucket, default_key = self._offline_bucket(offline_store_bucket)
            self.offline_store_bucket = bucket
            self.offline_store_key = offline_store_key or default_key
            if offline_store_prefix and not offline_store_prefix.endswith("/"):
                offline_store_prefix += "/"
            # One prefix per group: its data, and its IAM scope, stay apart from other groups'.
            self.offline_store_prefix = f"{offline_store_prefix}{feature_group_name}/"
            self.offline_store_s3_uri = f"s3://{bucket.bucket_name}/{offline_store_prefix}{feature_group_name}"
            if not disable_glue_table_creation or glue_database:
                self.glue_database = glue_database or DEFAULT_GLUE_DATABASE
        self._disable_glue_table_creation = disable_glue_table_creation

        if role is not None:
            self.role = role.role if isinstance(role, SageMakerExecutionRole) else role
        elif offline_store_enabled:
            self.role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                description=f"Writes the offline store of feature group {self.node.path}",
            )

        self.resource = sagemaker.CfnFeatureGroup(
            self,
            "Resource",
            feature_group_name=feature_group_name,
            record_identifier_feature_name=record_identifier_feature_name,
            event_time_feature_name=event_time_feature_name,
            feature_definitions=[
                sagemaker.CfnFeatureGroup.FeatureDefinitionProperty(feature_name=name, feature_type=feature_type)
                for name, feature_type in definitions
            ],
            description=description,
            online_store_config=self._online_store_config(ttl),
            offline_store_config=self._offline_store_config(),
            role_arn=self.role.role_arn if self.role is not None else None,
            throughput_config=throughput,
        )
        self.resource.apply_removal_policy(removal_policy)
        if offline_store_enabled and self.role is not None:
            self._grant_offline_store_write()

    # ---------------------------------------------------------- validation
    @staticmethod
    def _validate_name(name: Any) -> None:
        if is_token(name):
            return
        if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or not FEATURE_GROUP_NAME_RE.match(name):
            raise invalid(_OWNER, "feature_group_name", name,
                          "1-64 characters of letters, digits, '-' and '_', starting and ending with a letter or digit")

    @staticmethod
    def _validate_stores(online: Any, offline: Any) -> None:
        for prop, value in (("online_store_enabled", online), ("offline_store_enabled", offline)):
            if not isinstance(value, bool):
                raise invalid(_OWNER, prop, value, "True | False")
        if not (online or offline):
            raise invalid(_OWNER, "offline_store_enabled", offline,
                          "True when online_store_enabled is False (a group needs at least one store)")

    @staticmethod
    def _validate_catalog(disable: Any, database: Any, table: Any) -> None:
        if not isinstance(disable, bool):
            raise invalid(_OWNER, "disable_glue_table_creation", disable, "True | False")
        for prop, value in (("glue_database", database), ("glue_table_name", table)):
            if value is None or is_token(value):
                continue
            if not disable:
                # SageMaker rejects a DataCatalogConfig when it creates the table itself.
                raise invalid(_OWNER, prop, value, "None unless disable_glue_table_creation=True")
            if not isinstance(value, str) or not _GLUE_NAME_RE.match(value):
                raise invalid(_OWNER, prop, value, "1-255 characters of a-z, 0-9 and '_'")
        if (database is None) != (table is None):
            prop, value = ("glue_table_name", table) if table is None else ("glue_database", database)
            raise invalid(_OWNER, prop, value, "given together with the other of glue_database / glue_table_name")

    @staticmethod
    def _throughput(
        mode: Any, read: Any, write: Any, online: bool
    ) -> sagemaker.CfnFeatureGroup.ThroughputConfigProperty:
        require_choice(_OWNER, "throughput_mode", mode, THROUGHPUT_MODES)
        if mode == "OnDemand":
            for prop, value in (("provisioned_read_capacity_units", read), ("provisioned_write_capacity_units", write)):
                if value is not None:
                    raise invalid(_OWNER, prop, value, "None unless throughput_mode='Provisioned'")
            return sagemaker.CfnFeatureGroup.ThroughputConfigProperty(throughput_mode="OnDemand")
        if write is None:
            raise invalid(_OWNER, "provisioned_write_capacity_units", write,
                          f"an integer in [1, {MAX_CAPACITY_UNITS}] with throughput_mode='Provisioned'")
        require_int(_OWNER, "provisioned_write_capacity_units", write, minimum=1, maximum=MAX_CAPACITY_UNITS)
        if read is None and online:
            raise invalid(_OWNER, "provisioned_read_capacity_units", read,
                          f"an integer in [1, {MAX_CAPACITY_UNITS}] for a provisioned group with an online store")
        if read is not None:
            require_int(_OWNER, "provisioned_read_capacity_units", read, minimum=1, maximum=MAX_CAPACITY_UNITS)
        return sagemaker.CfnFeatureGroup.ThroughputConfigProperty(
            throughput_mode="Provisioned",
            provisioned_read_capacity_units=read,
            provisioned_write_capacity_units=write,
        )

    # ----------------------------------------------------------- resources
    def _key(self) -> kms.IKey:
        if self._default_key is None:
            self._default_key = kms.Key(
                self,
                "Key",
                description=f"Encrypts the stores of feature group {self.node.path}",
                enable_key_rotation=True,
                removal_policy=self._removal_policy,
            )
        return self._default_key

    def _offline_bucket(self, given: SecureBucket | s3.IBucket | None) -> tuple[s3.IBucket, kms.IKey | None]:
        if isinstance(given, SecureBucket):
            return given.bucket, given.encryption_key
        if given is not None:
            return given, given.encryption_key
        created = SecureBucket(self, "OfflineStore", encryption_key=self._key(), removal_policy=self._removal_policy)
        return created.bucket, created.encryption_key

    # CfnFeatureGroup types OnlineStoreConfig/OfflineStoreConfig as JSON (``Any``):
    # jsii would serialize the *Property structs with camelCase keys, which
    # CloudFormation rejects, so these are plain dicts with the template's keys.
    def _online_store_config(self, ttl: dict[str, Any] | None) -> dict[str, Any]:
        if not self.online_store_enabled:
            return {"EnableOnlineStore": False}
        assert self.online_store_key is not None
        config: dict[str, Any] = {
            "EnableOnlineStore": True,
            "SecurityConfig": {"KmsKeyId": self.online_store_key.key_arn},
        }
        if ttl is not None:
            config["TtlDuration"] = ttl
        return config

    def _offline_store_config(self) -> dict[str, Any] | None:
        if not self.offline_store_enabled:
            return None
        storage: dict[str, Any] = {"S3Uri": self.offline_store_s3_uri}
        if self.offline_store_key is not None:
            storage["KmsKeyId"] = self.offline_store_key.key_arn
        config: dict[str, Any] = {
            "S3StorageConfig": storage,
            "DisableGlueTableCreation": self._disable_glue_table_creation,
            "TableFormat": self.table_format,
        }
        if self._disable_glue_table_creation and self.glue_table_name is not None:
            config["DataCatalogConfig"] = {
                "Catalog": DATA_CATALOG, "Database": self.glue_database, "TableName": self.glue_table_name,
            }
        return config

    def _grant_offline_store_write(self) -> None:
        """The group's own policy on its role: what Feature Store needs to maintain the offline store."""
        assert self.offline_store_bucket is not None and self.role is not None
        policy = iam.Policy(self, "OfflineStoreAccess")
        objects = self._offline_objects_arn()
        policy.add_statements(
            iam.PolicyStatement(
                sid="OfflineStoreObjects",
                actions=["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"],
                resources=[objects],
            ),
            iam.PolicyStatement(
                sid="OfflineStoreBucketAcl",
                actions=["s3:GetBucketAcl"],
                resources=[self.offline_store_bucket.bucket_arn],
            ),
        )
        if self.offline_store_key is not None:
            policy.add_statements(
                iam.PolicyStatement(
                    sid="OfflineStoreKey",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[self.offline_store_key.key_arn],
                )
            )
        glue = self._glue_arns()
        if glue:
            policy.add_statements(
                iam.PolicyStatement(
                    sid="OfflineStoreGlueTable",
                    actions=["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable", "glue:CreateTable"],
                    resources=glue,
                )
            )
        self.role.attach_inline_policy(policy)
        self.offline_store_policy = policy
        self.resource.node.add_dependency(policy)
        acknowledge_wildcard_resources(policy, self._wildcard_reasons(objects, glue))

    # -------------------------------------------------------------- naming
    @property
    def feature_group_name(self) -> str:
        """The group's name (``Ref``: consumers wait for the group to exist)."""
        return self.resource.ref

    @property
    def feature_group_arn(self) -> str:
        """``arn:<partition>:sagemaker:<region>:<account>:feature-group/<name>`` (SageMaker lower-cases the name)."""
        return self._arns()[-1]

    def _arns(self) -> list[str]:
        name = self._group_name_literal
        stack = Stack.of(self)
        names = [name] if is_token(name) or name == name.lower() else [name, name.lower()]
        return [stack.format_arn(service="sagemaker", resource="feature-group", resource_name=n) for n in names]

    @property
    def _table_prefix(self) -> str | None:
        """Feature Store names the table ``<group name, lower case, '-' -> '_'>_<creation epoch>``."""
        name = self._group_name_literal
        return None if is_token(name) else name.lower().replace("-", "_")

    def _offline_objects_arn(self, suffix: str = "") -> str:
        assert self.offline_store_bucket is not None
        return f"{self.offline_store_bucket.bucket_arn}/{self.offline_store_prefix}{suffix}*"

    def _glue_arns(self) -> list[str]:
        if self.glue_database is None:
            return []
        base = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        if self.glue_table_name is not None:
            table = self.glue_table_name
        elif self._table_prefix is not None:
            table = f"{self._table_prefix}_*"
        else:
            table = "*"
        return [f"{base}:catalog", f"{base}:database/{self.glue_database}", f"{base}:table/{self.glue_database}/{table}"]

    def _wildcard_reasons(self, objects: str, glue: list[str]) -> list[tuple[Any, str]]:
        reasons = [(
            objects,
            f"Object keys under this feature group's own offline-store prefix '{self.offline_store_prefix}' "
            "are created by Feature Store at run time (account/region/table/partition paths).",
        )]
        if glue:
            reasons.append((
                glue[-1],
                "Feature Store names the offline-store Glue table '<group>_<creation epoch>' at creation time; "
                "the wildcard covers only that suffix of this group's table.",
            ))
        return reasons

    # -------------------------------------------------------------- grants
    def grant_ingest(self, grantee: iam.IGrantable | SageMakerExecutionRole) -> iam.Grant:
        """``sagemaker:PutRecord`` (and describe) on this group, plus ``kms:Decrypt`` on its online-store key."""
        principal = _grantable(grantee)
        grant = iam.Grant.add_to_principal(
            grantee=principal,
            actions=["sagemaker:PutRecord", "sagemaker:DescribeFeatureGroup"],
            resource_arns=self._arns(),
        )
        return self._with_online_key(grant, principal)

    def grant_read_online(self, grantee: iam.IGrantable | SageMakerExecutionRole) -> iam.Grant:
        """``GetRecord``/``BatchGetRecord`` (and describe) on this group, plus ``kms:Decrypt`` on its online-store key."""
        if not self.online_store_enabled:
            raise invalid(_OWNER, "online_store_enabled", False, "True to grant online reads")
        principal = _grantable(grantee)
        grant = iam.Grant.add_to_principal(
            grantee=principal,
            actions=["sagemaker:GetRecord", "sagemaker:BatchGetRecord", "sagemaker:DescribeFeatureGroup"],
            resource_arns=self._arns(),
        )
        return self._with_online_key(grant, principal)

    def grant_query_offline(
        self, grantee: iam.IGrantable | SageMakerExecutionRole, *, workgroup: str = "primary"
    ) -> iam.Grant:
        """Query this group's offline store with Athena.

        Read the group's offline-store prefix (and decrypt it), list only that
        prefix, read its Glue database/table/partitions, run queries in
        ``workgroup`` and write results under ``athena_results_s3_uri``.
        """
        if not self.offline_store_enabled:
            raise invalid(_OWNER, "offline_store_enabled", False, "True to grant offline queries")
        if self.glue_database is None:
            raise invalid(_OWNER, "disable_glue_table_creation", True,
                          "False, or glue_database/glue_table_name given, to query the offline store with Athena")
        require_pattern(_OWNER, "workgroup", workgroup, re.compile(r"^[a-zA-Z0-9._-]{1,128}$"), "an Athena workgroup name")
        assert self.offline_store_bucket is not None
        principal = _grantable(grantee)
        bucket_arn = self.offline_store_bucket.bucket_arn
        objects = self._offline_objects_arn()
        results = self._offline_objects_arn("athena-results/")
        grants = [
            iam.Grant.add_to_principal(grantee=principal, actions=["s3:GetObject"], resource_arns=[objects]),
            iam.Grant.add_to_principal(
                grantee=principal,
                actions=["s3:ListBucket"],
                resource_arns=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{self.offline_store_prefix}*"]}},
            ),
            iam.Grant.add_to_principal(
                grantee=principal,
                actions=["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                resource_arns=[bucket_arn],
            ),
            iam.Grant.add_to_principal(
                grantee=principal,
                actions=["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resource_arns=[results],
            ),
            iam.Grant.add_to_principal(
                grantee=principal,
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                resource_arns=self._glue_arns(),
            ),
            iam.Grant.add_to_principal(
                grantee=principal,
                actions=["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"],
                resource_arns=[
                    f"arn:{Aws.PARTITION}:athena:{Aws.REGION}:{Aws.ACCOUNT_ID}:workgroup/{workgroup}"
                ],
            ),
        ]
        if self.offline_store_key is not None:
            grants.append(iam.Grant.add_to_principal(
                grantee=principal,
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resource_arns=[self.offline_store_key.key_arn],
            ))
        scope = _construct_of(principal)
        if scope is not None:
            reasons = self._wildcard_reasons(objects, self._glue_arns())
            reasons.append((
                results,
                "Athena writes query results under 'athena-results/' of this feature group's prefix; "
                "result object keys are query ids generated at run time.",
            ))
            acknowledge_wildcard_resources(scope, reasons)
        grant = grants[0]
        for other in grants[1:]:
            grant = grant.combine(other)
        return grant

    @property
    def athena_results_s3_uri(self) -> str | None:
        """Where ``grant_query_offline`` lets Athena write query results (pass it as the output location)."""
        if self.offline_store_bucket is None:
            return None
        return f"s3://{self.offline_store_bucket.bucket_name}/{self.offline_store_prefix}athena-results/"

    def _with_online_key(self, grant: iam.Grant, principal: iam.IGrantable) -> iam.Grant:
        if self.online_store_key is None:
            return grant
        return grant.combine(iam.Grant.add_to_principal(
            grantee=principal, actions=["kms:Decrypt"], resource_arns=[self.online_store_key.key_arn]
        ))

    # ----------------------------------------------------------- factories
    @classmethod
    def from_dataframe(
        cls, scope: Construct, id: str, *, data_frame: Any, **kwargs: Any
    ) -> "FeatureGroup":
        """A group whose feature definitions come from ``data_frame``'s dtypes (see ``feature_definitions_from_dataframe``)."""
        if "feature_definitions" in kwargs:
            raise invalid(_OWNER, "feature_definitions", kwargs["feature_definitions"],
                          "omitted when data_frame is given")
        return cls(scope, id, feature_definitions=feature_definitions_from_dataframe(data_frame), **kwargs)


def _grantable(grantee: Any) -> iam.IGrantable:
    if isinstance(grantee, SageMakerExecutionRole):
        return grantee.role
    if not hasattr(grantee, "grant_principal"):
        raise invalid(_OWNER, "grantee", grantee, "an iam.IGrantable (role, function, ...) or SageMakerExecutionRole")
    return grantee


def _construct_of(grantee: iam.IGrantable) -> IConstruct | None:
    """The construct whose subtree holds the grantee's policy, for acknowledgments."""
    return grantee if isinstance(grantee, Construct) else None
