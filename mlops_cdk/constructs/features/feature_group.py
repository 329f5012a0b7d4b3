"""A SageMaker Feature Store feature group with encrypted stores, an importer, and grants scoped to one group."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import jsii
from aws_cdk import Duration, RemovalPolicy, Resource
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.interfaces.aws_sagemaker import FeatureGroupReference, IFeatureGroupRef
from constructs import Construct

from ... import locations
from ..._nag import acknowledge_wildcard_resources
from ..._validation import invalid, is_token, require_choice, require_key_prefix, require_pattern
from ...settings.features import TABLE_FORMATS
from ..foundation.secure_bucket import SecureBucket
from .feature_schema import (
    ATHENA_WORKGROUP_RE,
    check_catalog,
    check_stores,
    check_throughput,
    require_feature_group_name,
    ttl_duration,
    validate_feature_definitions,
)

_OWNER = "FeatureGroup"
# The database Feature Store creates the offline store's Glue table in.
DEFAULT_GLUE_DATABASE = "sagemaker_featurestore"
DATA_CATALOG = "AwsDataCatalog"
ATHENA_RESULTS = "athena-results/"


class IFeatureGroup(IFeatureGroupRef, Protocol):
    """A feature group, created here or imported: what a consumer needs to write and read its records."""

    @property
    def feature_group_name(self) -> str: ...
    @property
    def feature_group_arn(self) -> str: ...
    @property
    def online_store_key(self) -> kms.IKey | None: ...
    def grant_ingest(self, grantee: iam.IGrantable) -> iam.Grant: ...
    def grant_read_online(self, grantee: iam.IGrantable) -> iam.Grant: ...


@jsii.implements(IFeatureGroupRef)
class _FeatureGroupBase(Resource):
    """ARNs and record grants shared by a created and an imported group."""

    # The name as given (it may be a token): ARNs are built from it, so a grant adds no dependency on the group.
    _name: str
    _online_store_enabled = True
    online_store_key: kms.IKey | None = None

    @property
    def feature_group_name(self) -> str:
        return self._name

    @property
    def feature_group_ref(self) -> FeatureGroupReference:
        """``IFeatureGroupRef``: lets aws-cdk-lib APIs that take a feature group reference this one."""
        return FeatureGroupReference(feature_group_name=self.feature_group_name)

    @property
    def feature_group_arn(self) -> str:
        """``arn:<partition>:sagemaker:<region>:<account>:feature-group/<name>`` (SageMaker lower-cases the name)."""
        return self._arns()[-1]

    def _arns(self) -> list[str]:
        name = self._name
        names = [name] if is_token(name) or name == name.lower() else [name, name.lower()]
        return [self.stack.format_arn(service="sagemaker", resource="feature-group", resource_name=n) for n in names]

    def grant_ingest(self, grantee: iam.IGrantable) -> iam.Grant:
        """``sagemaker:PutRecord`` (and describe) on this group, plus ``kms:Decrypt`` on its online-store key."""
        return self._grant_records(grantee, "sagemaker:PutRecord")

    def grant_read_online(self, grantee: iam.IGrantable) -> iam.Grant:
        """``GetRecord``/``BatchGetRecord`` (and describe) on this group, plus ``kms:Decrypt`` on its online-store key."""
        if not self._online_store_enabled:
            raise invalid(_OWNER, "online_store_enabled", False, "True to grant online reads")
        return self._grant_records(grantee, "sagemaker:GetRecord", "sagemaker:BatchGetRecord")

    def _grant_records(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=[*actions, "sagemaker:DescribeFeatureGroup"], resource_arns=self._arns()
        )
        if self.online_store_key is not None:  # record operations on an encrypted online store decrypt with its key
            grant = grant.combine(self.online_store_key.grant_decrypt(grantee))
        return grant


class _ImportedFeatureGroup(_FeatureGroupBase):
    def __init__(self, scope: Construct, id: str, name: str, online_store_key: kms.IKey | None) -> None:
        super().__init__(scope, id)
        self._name = name
        self.online_store_key = online_store_key


class FeatureGroup(_FeatureGroupBase):
    """An ``AWS::SageMaker::FeatureGroup`` with KMS-encrypted stores and least-privilege access.

    Creates:
      * the feature group (child ``Resource``, retained on ``cdk destroy`` by
        default), its schema checked here against SageMaker's rules
        (``feature_schema``);
      * the online store (on by default), encrypted with ``online_store_key``,
        optionally with a record TTL;
      * the offline store (on by default) at
        ``s3://<bucket>/<offline_store_prefix><feature_group_name>/``, encrypted
        with ``offline_store_key`` (default: the bucket's key), catalogued in
        Glue (table format Glue or Iceberg, Iceberg only with table creation on):
        Feature Store creates the table (``glue_database``/``glue_table_name``
        name it, else it picks the name) unless ``disable_glue_table_creation``
        (then those two name a table you manage);
      * when no ``role`` is given and the offline store is on: a role trusted
        by ``sagemaker.amazonaws.com``. Whatever the role, the group gives it
        one policy (``OfflineStoreAccess``): write this group's prefix, use the
        offline key, read/update/create this group's Glue table. An immutable
        imported role must have these permissions already;
      * when needed and not given: one rotating KMS key (``Key``) for both
        stores and a ``SecureBucket`` (``OfflineStore/Bucket``) for the offline store.

    ``grant_ingest``, ``grant_read_online`` and ``grant_query_offline`` give a
    principal access to this group only. ``from_feature_group_name`` imports
    an existing group with the first two.

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
        offline_store_bucket: s3.IBucket | None = None,
        offline_store_prefix: str = locations.FEATURE_STORE,
        offline_store_key: kms.IKey | None = None,
        disable_glue_table_creation: bool = False,
        glue_database: str | None = None,
        glue_table_name: str | None = None,
        table_format: str = "Glue",
        role: iam.IRole | None = None,
        throughput_mode: str = "OnDemand",
        provisioned_read_capacity_units: int | None = None,
        provisioned_write_capacity_units: int | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        require_feature_group_name(_OWNER, "feature_group_name", feature_group_name)
        definitions = validate_feature_definitions(
            feature_definitions, record_identifier_feature_name, event_time_feature_name
        )
        check_stores(online_store_enabled, offline_store_enabled, online_store_ttl, description)
        ttl = ttl_duration(online_store_ttl) if online_store_ttl is not None else None
        require_choice(_OWNER, "table_format", table_format, TABLE_FORMATS)
        require_key_prefix(_OWNER, "offline_store_prefix", offline_store_prefix)
        check_catalog(disable_glue_table_creation, glue_database, glue_table_name, table_format)
        check_throughput(throughput_mode, provisioned_read_capacity_units, provisioned_write_capacity_units,
                         online_store_enabled)
        super().__init__(scope, id, physical_name=feature_group_name)

        self._name = feature_group_name
        self._online_store_enabled = online_store_enabled
        self._removal_policy = removal_policy
        self._created_key: kms.IKey | None = None
        self.record_identifier_feature_name = record_identifier_feature_name
        self.event_time_feature_name = event_time_feature_name
        self.feature_definitions: dict[str, str] = dict(definitions)
        self.online_store_enabled = online_store_enabled
        self.offline_store_enabled = offline_store_enabled
        self.table_format = table_format
        self.online_store_key = (online_store_key or self._key()) if online_store_enabled else None

        self.offline_store_bucket: s3.IBucket | None = None
        self.offline_store_key: kms.IKey | None = None
        self.offline_store_prefix = ""
        self.offline_store_s3_uri: str | None = None
        self.glue_database: str | None = None
        self.glue_table_name: str | None = glue_table_name
        if offline_store_enabled:
            bucket = offline_store_bucket or self._default_bucket()
            self.offline_store_bucket = bucket
            self.offline_store_key = offline_store_key or bucket.encryption_key
            if offline_store_prefix and not offline_store_prefix.endswith("/"):
                offline_store_prefix += "/"
            # One prefix per group: its data, and its IAM scope, stay apart from other groups'.
            self.offline_store_prefix = f"{offline_store_prefix}{feature_group_name}/"
            self.offline_store_s3_uri = f"s3://{bucket.bucket_name}/{offline_store_prefix}{feature_group_name}"
            if not disable_glue_table_creation or glue_database:
                self.glue_database = glue_database or DEFAULT_GLUE_DATABASE

        self.role: iam.IRole | None = role
        if role is None and offline_store_enabled:
            self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                                 description=f"Writes the offline store of feature group {self.node.path}")

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
            offline_store_config=self._offline_store_config(disable_glue_table_creation),
            role_arn=self.role.role_arn if self.role is not None else None,
            throughput_config=sagemaker.CfnFeatureGroup.ThroughputConfigProperty(
                throughput_mode=throughput_mode,
                provisioned_read_capacity_units=provisioned_read_capacity_units,
                provisioned_write_capacity_units=provisioned_write_capacity_units,
            ),
        )
        self.resource.apply_removal_policy(removal_policy)
        self.offline_store_policy: iam.Policy | None = None
        if self.offline_store_bucket is not None and self.role is not None:
            self.offline_store_policy = self._grant_offline_store_write(self.offline_store_bucket, self.role)

    @property
    def feature_group_name(self) -> str:
        """The group's name (``Ref``: consumers wait for the group to exist)."""
        return self.resource.ref

    @staticmethod
    def from_feature_group_name(scope: Construct, id: str, feature_group_name: str) -> IFeatureGroup:
        """An existing group, by name, with ``grant_ingest`` and ``grant_read_online`` (no key grants)."""
        return FeatureGroup.from_feature_group_attributes(scope, id, feature_group_name=feature_group_name)

    @staticmethod
    def from_feature_group_attributes(
        scope: Construct, id: str, *, feature_group_name: str, online_store_key: kms.IKey | None = None
    ) -> IFeatureGroup:
        """An existing group; with ``online_store_key`` its grants also allow decrypting with that key."""
        require_feature_group_name(_OWNER, "feature_group_name", feature_group_name)
        return _ImportedFeatureGroup(scope, id, feature_group_name, online_store_key)

    # ----------------------------------------------------------- resources
    def _key(self) -> kms.IKey:
        if self._created_key is None:
            self._created_key = kms.Key(self, "Key", description=f"Encrypts the stores of feature group {self.node.path}",
                                        enable_key_rotation=True, removal_policy=self._removal_policy)
        return self._created_key

    def _default_bucket(self) -> s3.IBucket:
        # "OfflineStore/Bucket" and "OfflineStore/AccessLogs": the paths of the first release, so logical IDs hold.
        holder = Construct(self, "OfflineStore")
        logs = SecureBucket.log_bucket(holder, "AccessLogs", removal_policy=self._removal_policy)
        return SecureBucket(holder, "Bucket", encryption_key=self._key(), access_logs_bucket=logs,
                            removal_policy=self._removal_policy)

    # CfnFeatureGroup types the store configs as JSON (``Any``): jsii would serialize the *Property
    # structs with camelCase keys, which CloudFormation rejects, so these are dicts with the template's keys.
    def _online_store_config(self, ttl: dict[str, Any] | None) -> dict[str, Any]:
        if self.online_store_key is None:
            return {"EnableOnlineStore": False}
        config: dict[str, Any] = {"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": self.online_store_key.key_arn}}
        if ttl is not None:
            config["TtlDuration"] = ttl
        return config

    def _offline_store_config(self, disable_glue_table_creation: bool) -> dict[str, Any] | None:
        if self.offline_store_s3_uri is None:
            return None
        storage: dict[str, Any] = {"S3Uri": self.offline_store_s3_uri}
        if self.offline_store_key is not None:
            storage["KmsKeyId"] = self.offline_store_key.key_arn
        config: dict[str, Any] = {
            "S3StorageConfig": storage,
            "DisableGlueTableCreation": disable_glue_table_creation,
            "TableFormat": self.table_format,
        }
        if self.glue_table_name is not None:  # names the table Feature Store creates, or yours when creation is off
            config["DataCatalogConfig"] = {"Catalog": DATA_CATALOG, "Database": self.glue_database,
                                           "TableName": self.glue_table_name}
        return config

    def _grant_offline_store_write(self, bucket: s3.IBucket, role: iam.IRole) -> iam.Policy:
        """The group's own policy on its role: what Feature Store needs to maintain the offline store."""
        objects = self._objects_arn()
        statements = [
            iam.PolicyStatement(sid="OfflineStoreObjects", actions=["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"],
                                resources=[objects]),
            iam.PolicyStatement(sid="OfflineStoreBucketAcl", actions=["s3:GetBucketAcl"], resources=[bucket.bucket_arn]),
        ]
        if self.offline_store_key is not None:
            statements.append(iam.PolicyStatement(sid="OfflineStoreKey", actions=["kms:GenerateDataKey", "kms:Decrypt"],
                                                  resources=[self.offline_store_key.key_arn]))
        glue = self._glue_arns()
        if glue:
            statements.append(iam.PolicyStatement(
                sid="OfflineStoreGlueTable",
                actions=["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable", "glue:CreateTable"],
                resources=glue,
            ))
        # A policy of this construct, never statements on a role that may live in another stack. Attached
        # through the role, so an immutable import (``mutable=False``) is left alone and the policy not synthesized.
        policy = iam.Policy(self, "OfflineStoreAccess", statements=statements)
        role.attach_inline_policy(policy)
        self.resource.node.add_dependency(policy)
        acknowledge_wildcard_resources(policy, self._wildcard_reasons(objects, glue))
        return policy

    # -------------------------------------------------------------- naming
    def _objects_arn(self, suffix: str = "") -> str:
        assert self.offline_store_bucket is not None
        return f"{self.offline_store_bucket.bucket_arn}/{self.offline_store_prefix}{suffix}*"

    def _glue_arns(self) -> list[str]:
        database = self.glue_database
        if database is None:
            return []
        if self.glue_table_name is not None:
            table = self.glue_table_name
        elif is_token(self._name):  # the table's name is unknown: the whole database
            table = "*"
        else:  # Feature Store names the table '<group name, lower case, '-' -> '_'>_<creation epoch>'
            table = self._name.lower().replace("-", "_") + "_*"
        arn = self.stack.format_arn
        return [arn(service="glue", resource="catalog"),
                arn(service="glue", resource="database", resource_name=database),
                arn(service="glue", resource="table", resource_name=f"{database}/{table}")]

    def _wildcard_reasons(self, objects: str, glue: list[str]) -> list[tuple[Any, str]]:
        reasons = [(objects, f"Object keys under this feature group's own offline-store prefix "
                             f"'{self.offline_store_prefix}' are created by Feature Store at run time "
                             "(account/region/table/partition paths).")]
        if glue and self.glue_table_name is None:  # a named table is granted exactly
            reasons.append((glue[-1], "Feature Store names the offline-store Glue table '<group>_<creation epoch>' "
                                      "at creation time; the wildcard covers only that suffix of this group's table."))
        return reasons

    # -------------------------------------------------------------- grants
    def grant_query_offline(self, grantee: iam.IGrantable, *, workgroup: str = "primary") -> iam.Grant:
        """Query this group's offline store with Athena.

        Read the group's offline-store prefix (and decrypt it), list only that
        prefix, read its Glue database/table/partitions, run queries in
        ``workgroup`` and write results under ``athena_results_s3_uri``.
        """
        if self.offline_store_bucket is None:
            raise invalid(_OWNER, "offline_store_enabled", False, "True to grant offline queries")
        if self.glue_database is None:
            raise invalid(_OWNER, "disable_glue_table_creation", True,
                          "False, or glue_database/glue_table_name given, to query the offline store with Athena")
        require_pattern(_OWNER, "workgroup", workgroup, ATHENA_WORKGROUP_RE,
                        "an Athena workgroup name: 1-128 letters, digits, '.', '_' and '-'")
        bucket_arn = self.offline_store_bucket.bucket_arn
        objects, results = self._objects_arn(), self._objects_arn(ATHENA_RESULTS)
        add = functools.partial(iam.Grant.add_to_principal, grantee=grantee)
        grants = [
            add(actions=["s3:GetObject"], resource_arns=[objects]),
            add(actions=["s3:ListBucket"], resource_arns=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{self.offline_store_prefix}*"]}}),
            add(actions=["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], resource_arns=[bucket_arn]),
            add(actions=["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resource_arns=[results]),
            add(actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"], resource_arns=self._glue_arns()),
            add(actions=["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"],
                resource_arns=[self.stack.format_arn(service="athena", resource="workgroup", resource_name=workgroup)]),
        ]
        if self.offline_store_key is not None:
            grants.append(self.offline_store_key.grant(grantee, "kms:Decrypt", "kms:GenerateDataKey"))
        if isinstance(grantee, Construct):  # its policy is in its subtree: acknowledge the prefix wildcards there
            reasons = self._wildcard_reasons(objects, self._glue_arns())
            reasons.append((results, f"Athena writes query results under '{ATHENA_RESULTS}' of this feature group's "
                                     "prefix; result object keys are query ids generated at run time."))
            acknowledge_wildcard_resources(grantee, reasons)
        return functools.reduce(lambda a, b: a.combine(b), grants)

    @property
    def athena_results_s3_uri(self) -> str | None:
        """Where ``grant_query_offline`` lets Athena write query results (pass it as the output location)."""
        if self.offline_store_bucket is None:
            return None
        return f"s3://{self.offline_store_bucket.bucket_name}/{self.offline_store_prefix}{ATHENA_RESULTS}"
