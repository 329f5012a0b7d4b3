"""FeatureGroup on its own: stores, keys, IAM scope, importer, bring-your-own resources, moto (schema: test_feature_schema)."""

import fnmatch
import json

import boto3
import pandas as pd
import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Capture, Match, Template
from moto import mock_aws

from mlops_cdk import FeatureGroup, SageMakerExecutionRole, SecureBucket, feature_definitions_from_dataframe
from tests.harness import ACCOUNT, REGION, logical_ids, reference_context, synth

SCHEMA = {"customer_id": "String", "age": "Integral", "event_time": "Fractional"}
BASE = dict(feature_group_name="customer-features", record_identifier_feature_name="customer_id",
            event_time_feature_name="event_time", feature_definitions=SCHEMA)
TEAM_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0000aaaa-12ab-34cd-56ef-1234567890ab"
GROUP = "AWS::SageMaker::FeatureGroup"


def pseudo_arn(service, resource):
    """An ARN in the stack's (unresolved) partition, region and account, as CloudFormation renders it."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{service}:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, f":{resource}"]]}


def s3_arn(path):
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{path}"]]}


def joined(*parts):
    return {"Fn::Join": ["", list(parts)]}


def permissions(template, role_logical_id):
    """action -> {(resource, condition)} over every policy attached to the role (CDK merges statements)."""
    found = {}
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_logical_id}]}})
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    found.setdefault(action, set()).add(_key(resource, statement.get("Condition")))
    return found


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _key(resource, condition=None):
    return json.dumps([resource, condition], sort_keys=True)


def new_stack():
    """A stack in an app with the reference app's feature flags (SecureBucket needs policy-based log delivery)."""
    return Stack(App(context=reference_context()), "S")


# ============================================================ every variant, synthesized once
@pytest.fixture(scope="module")
def built():
    objects = {}

    def build(app):
        stack = Stack(app, "Standalone")
        defaults = FeatureGroup(stack, "Defaults", **{**BASE, "feature_group_name": "Customer-Features"})
        consumer = iam.Role(stack, "Consumer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        defaults.grant_ingest(consumer)
        defaults.grant_read_online(consumer)
        defaults.grant_query_offline(consumer)
        # Bring your own: a plain role, an imported bucket that carries no key, and that key given explicitly.
        writer = iam.Role(stack, "Writer", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
        team_key = kms.Key.from_key_arn(stack, "TeamKey", TEAM_KEY_ARN)
        tuned = FeatureGroup(
            stack, "Tuned", **{**BASE, "feature_group_name": "tuned"}, description="tuned group",
            online_store_key=team_key, online_store_ttl=Duration.days(30), throughput_mode="Provisioned",
            provisioned_read_capacity_units=10, provisioned_write_capacity_units=5, table_format="Iceberg",
            role=writer, offline_store_bucket=s3.Bucket.from_bucket_name(stack, "Lake", "team-lake"),
            offline_store_key=team_key, offline_store_prefix="fs",
        )
        platform_bucket = SecureBucket(stack, "PlatformBucket")
        platform = FeatureGroup(stack, "Platform", **{**BASE, "feature_group_name": "platform"},
                                role=SageMakerExecutionRole(stack, "Exec", images=[]), offline_store_bucket=platform_bucket)
        online_only = FeatureGroup(stack, "OnlineOnly", **{**BASE, "feature_group_name": "online-only"},
                                   offline_store_enabled=False)
        catalog = FeatureGroup(
            stack, "Catalog", **{**BASE, "feature_group_name": "catalog"}, online_store_enabled=False,
            disable_glue_table_creation=True, glue_database="analytics", glue_table_name="customers",
            offline_store_bucket=s3.Bucket.from_bucket_name(stack, "Existing", "existing-bucket"),
            role=iam.Role.from_role_arn(stack, "Imported", f"arn:aws:iam::{ACCOUNT}:role/feature-writer"),
        )
        FeatureGroup(stack, "Immutable", **{**BASE, "feature_group_name": "immutable"}, online_store_enabled=False,
                     offline_store_bucket=s3.Bucket.from_bucket_name(stack, "Other", "other-bucket"),
                     role=iam.Role.from_role_arn(stack, "Fixed", f"arn:aws:iam::{ACCOUNT}:role/fixed", mutable=False))
        frame = pd.DataFrame({"id": ["a"], "n": [1], "x": [1.5], "t": pd.to_datetime(["2024-01-01"], utc=True)})
        FeatureGroup(stack, "FromFrame", feature_group_name="from-frame", record_identifier_feature_name="id",
                     event_time_feature_name="t", feature_definitions=feature_definitions_from_dataframe(frame))
        reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        FeatureGroup.from_feature_group_name(stack, "Partner", "Partner-Features").grant_ingest(reader)
        FeatureGroup.from_feature_group_attributes(
            stack, "Shared", feature_group_name="shared", online_store_key=team_key).grant_read_online(reader)
        objects.update(stack=stack, defaults=defaults, tuned=tuned, platform=platform, platform_bucket=platform_bucket,
                       online_only=online_only, catalog=catalog, consumer=consumer, reader=reader, writer=writer)

    return synth(build), objects


@pytest.fixture(scope="module")
def tpl(built):
    return built[0].template()


@pytest.fixture(scope="module")
def objects(built):
    return built[1]


def ref_id(objects, construct):
    return objects["stack"].get_logical_id(construct.node.default_child)


def resolve(objects, value):
    return objects["stack"].resolve(value)


def test_nag_and_lint_clean(built):
    assert built[0].nag_findings == []
    assert built[0].lint() == []


def test_logical_ids_snapshot(built, json_snapshot):
    assert logical_ids(built[0].json()) == json_snapshot


def test_defaults_one_rotating_retained_key_for_both_stores_a_secure_bucket_and_a_role(tpl, objects):
    defaults = objects["defaults"]
    key = resolve(objects, defaults.online_store_key.key_arn)
    bucket = ref_id(objects, defaults.offline_store_bucket)
    role = Capture()
    tpl.has_resource_properties(GROUP, {
        "FeatureGroupName": "Customer-Features",
        "OnlineStoreConfig": {"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": key}},
        "OfflineStoreConfig": {"S3StorageConfig": {
            "S3Uri": joined("s3://", {"Ref": bucket}, "/feature-store/Customer-Features"), "KmsKeyId": key}},
        "RoleArn": {"Fn::GetAtt": [role, "Arn"]},
    })
    assert key["Fn::GetAtt"][0] in tpl.find_resources("AWS::KMS::Key", {
        "Properties": {"EnableKeyRotation": True}, "DeletionPolicy": "Retain"})
    tpl.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain", "Properties": Match.object_like({
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [Match.object_like({
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}})]},
        "LoggingConfiguration": Match.object_like({"DestinationBucketName": Match.any_value()}),
    })})
    assert role.as_string().startswith("DefaultsRole")


def test_groups_are_retained(tpl):
    assert len(tpl.find_resources(GROUP)) == len(tpl.find_resources(GROUP, {
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})) == 7


def test_writer_role_gets_its_groups_prefix_key_and_glue_table_only(tpl, objects):
    defaults = objects["defaults"]
    bucket_arn = resolve(objects, defaults.offline_store_bucket.bucket_arn)
    key = resolve(objects, defaults.online_store_key.key_arn)
    role = Capture()
    tpl.has_resource_properties(GROUP, {"FeatureGroupName": "Customer-Features", "RoleArn": {"Fn::GetAtt": [role, "Arn"]}})
    tpl.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                    "Principal": {"Service": "sagemaker.amazonaws.com"}}]},
        "Description": Match.string_like_regexp("Defaults"), "ManagedPolicyArns": Match.absent(), "Policies": Match.absent(),
    })
    glue = [pseudo_arn("glue", "catalog"), pseudo_arn("glue", "database/sagemaker_featurestore"),
            pseudo_arn("glue", "table/sagemaker_featurestore/customer_features_*")]
    assert permissions(tpl, role.as_string()) == {
        **{a: {_key(joined(bucket_arn, "/feature-store/Customer-Features/*"))}
           for a in ("s3:PutObject", "s3:PutObjectAcl", "s3:GetObject")},
        "s3:GetBucketAcl": {_key(bucket_arn)},
        "kms:GenerateDataKey": {_key(key)}, "kms:Decrypt": {_key(key)},
        **{a: {_key(r) for r in glue} for a in ("glue:GetDatabase", "glue:GetTable", "glue:UpdateTable", "glue:CreateTable")},
    }
    (policy,) = tpl.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role.as_string()}]}})
    tpl.has_resource(GROUP, {"Properties": Match.object_like({"FeatureGroupName": "Customer-Features"}),
                             "DependsOn": Match.array_with([policy])})


def test_consumer_grants_are_scoped_to_this_group(tpl, objects):
    defaults = objects["defaults"]
    bucket_arn = resolve(objects, defaults.offline_store_bucket.bucket_arn)
    key = {_key(resolve(objects, defaults.online_store_key.key_arn))}
    group = {_key(pseudo_arn("sagemaker", "feature-group/Customer-Features")),
             _key(pseudo_arn("sagemaker", "feature-group/customer-features"))}  # SageMaker lower-cases ARNs
    glue = {_key(pseudo_arn("glue", r)) for r in ("catalog", "database/sagemaker_featurestore",
                                                   "table/sagemaker_featurestore/customer_features_*")}
    prefix = "feature-store/Customer-Features/"
    assert permissions(tpl, ref_id(objects, objects["consumer"])) == {
        **{a: group for a in ("sagemaker:PutRecord", "sagemaker:GetRecord", "sagemaker:BatchGetRecord",
                              "sagemaker:DescribeFeatureGroup")},
        "kms:Decrypt": key, "kms:GenerateDataKey": key,
        "s3:GetObject": {_key(joined(bucket_arn, f"/{prefix}*"))},
        "s3:ListBucket": {_key(bucket_arn, {"StringLike": {"s3:prefix": [f"{prefix}*"]}})},
        "s3:GetBucketLocation": {_key(bucket_arn)}, "s3:ListBucketMultipartUploads": {_key(bucket_arn)},
        **{a: {_key(joined(bucket_arn, f"/{prefix}athena-results/*"))}
           for a in ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")},
        **{a: glue for a in ("glue:GetDatabase", "glue:GetTable", "glue:GetPartitions")},
        **{a: {_key(pseudo_arn("athena", "workgroup/primary"))}
           for a in ("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults")},
    }


def test_plain_role_imported_bucket_and_explicit_key(tpl, objects):
    tpl.has_resource_properties(GROUP, {
        "FeatureGroupName": "tuned", "Description": "tuned group",
        "OnlineStoreConfig": {"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": TEAM_KEY_ARN},
                              "TtlDuration": {"Unit": "Days", "Value": 30}},
        "OfflineStoreConfig": Match.object_equals({
            "S3StorageConfig": {"S3Uri": "s3://team-lake/fs/tuned", "KmsKeyId": TEAM_KEY_ARN},
            "DisableGlueTableCreation": False, "TableFormat": "Iceberg"}),
        "ThroughputConfig": {"ThroughputMode": "Provisioned", "ProvisionedReadCapacityUnits": 10,
                             "ProvisionedWriteCapacityUnits": 5},
        "RoleArn": {"Fn::GetAtt": [ref_id(objects, objects["writer"]), "Arn"]},
    })
    assert objects["tuned"].node.try_find_child("Role") is None  # no role of its own
    writer = permissions(tpl, ref_id(objects, objects["writer"]))
    assert writer["s3:PutObject"] == {_key(s3_arn("team-lake/fs/tuned/*"))}
    assert writer["kms:GenerateDataKey"] == {_key(TEAM_KEY_ARN)}


def test_platform_bucket_key_is_the_default_offline_key(tpl, objects):
    bucket_key = resolve(objects, objects["platform_bucket"].encryption_key.key_arn)
    tpl.has_resource_properties(GROUP, {"FeatureGroupName": "platform", "OfflineStoreConfig": {
        "S3StorageConfig": {"KmsKeyId": bucket_key}}})
    exec_role = objects["platform"].role
    assert "s3:PutObject" in permissions(tpl, ref_id(objects, exec_role))


def test_online_only_group_has_no_offline_store_role_or_query_grant(tpl, objects):
    tpl.has_resource_properties(GROUP, {"FeatureGroupName": "online-only", "OfflineStoreConfig": Match.absent(),
                                        "RoleArn": Match.absent(), "OnlineStoreConfig": {"EnableOnlineStore": True}})
    online_only = objects["online_only"]
    assert online_only.offline_store_s3_uri is None and online_only.role is None
    with pytest.raises(ValueError, match="FeatureGroup 'offline_store_enabled'"):
        online_only.grant_query_offline(objects["consumer"])


def test_existing_catalog_and_imported_roles(tpl, objects):
    tpl.has_resource_properties(GROUP, {
        "FeatureGroupName": "catalog", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/feature-writer",
        "OnlineStoreConfig": {"EnableOnlineStore": False},
        "OfflineStoreConfig": Match.object_equals({
            "S3StorageConfig": {"S3Uri": "s3://existing-bucket/feature-store/catalog"},
            "DisableGlueTableCreation": True, "TableFormat": "Glue",
            "DataCatalogConfig": {"Catalog": "AwsDataCatalog", "Database": "analytics", "TableName": "customers"}}),
    })
    tpl.has_resource_properties("AWS::IAM::Policy", {"Roles": ["feature-writer"], "PolicyDocument": {
        "Statement": Match.array_with([Match.object_like({
            "Sid": "OfflineStoreGlueTable", "Resource": Match.array_with([pseudo_arn("glue", "table/analytics/customers")])})])}})
    # An immutable role gets no policy (it must have the permissions already) and the group no dangling dependency.
    tpl.has_resource(GROUP, {"Properties": Match.object_like({"FeatureGroupName": "immutable",
                                                              "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/fixed"}),
                             "DependsOn": Match.absent()})
    assert not tpl.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": ["fixed"]}})
    with pytest.raises(ValueError, match="FeatureGroup 'online_store_enabled'"):
        objects["catalog"].grant_read_online(objects["consumer"])


def test_dataframe_schema(tpl):
    tpl.has_resource_properties(GROUP, {"FeatureGroupName": "from-frame", "FeatureDefinitions": [
        {"FeatureName": "id", "FeatureType": "String"}, {"FeatureName": "n", "FeatureType": "Integral"},
        {"FeatureName": "x", "FeatureType": "Fractional"}, {"FeatureName": "t", "FeatureType": "String"}]})


def test_imported_groups_grant_records_and_their_key(tpl, objects):
    assert permissions(tpl, ref_id(objects, objects["reader"])) == {
        "sagemaker:PutRecord": {_key(pseudo_arn("sagemaker", f"feature-group/{n}")) for n in ("Partner-Features",
                                                                                             "partner-features")},
        "sagemaker:GetRecord": {_key(pseudo_arn("sagemaker", "feature-group/shared"))},
        "sagemaker:BatchGetRecord": {_key(pseudo_arn("sagemaker", "feature-group/shared"))},
        "sagemaker:DescribeFeatureGroup": {_key(pseudo_arn("sagemaker", f"feature-group/{n}"))
                                           for n in ("Partner-Features", "partner-features", "shared")},
        "kms:Decrypt": {_key(TEAM_KEY_ARN)},
    }


def test_implements_ifeaturegroupref_and_exposes_its_stores(objects):
    defaults = objects["defaults"]
    logical = ref_id(objects, defaults)
    assert resolve(objects, sagemaker.CfnFeatureGroup.arn_for_feature_group(defaults)) == joined(
        "arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
        ":feature-group/", {"Ref": logical})
    assert resolve(objects, defaults.feature_group_name) == {"Ref": logical}
    assert resolve(objects, defaults.feature_group_arn) == pseudo_arn("sagemaker", "feature-group/customer-features")
    assert defaults.offline_store_prefix == "feature-store/Customer-Features/"
    bucket = {"Ref": ref_id(objects, defaults.offline_store_bucket)}
    assert resolve(objects, defaults.athena_results_s3_uri) == joined(
        "s3://", bucket, "/feature-store/Customer-Features/athena-results/")
    assert defaults.glue_database == "sagemaker_featurestore"
    assert defaults.feature_definitions == SCHEMA


# ====================================================================== moto
def _concrete(value, account="123456789012"):
    """The template value with pseudo parameters and role ARNs replaced by what a deployment would give."""
    if isinstance(value, list):
        return [_concrete(v) for v in value]
    if isinstance(value, dict):
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(_concrete(p) for p in parts)
        if "Ref" in value:
            return {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": account}[value["Ref"]]
        if "Fn::GetAtt" in value:
            return f"arn:aws:iam::{account}:role/{value['Fn::GetAtt'][0]}"
        return {k: _concrete(v) for k, v in value.items()}
    return value


def test_moto_creates_the_synthesized_group(tpl, objects):
    """botocore checks every parameter shape (TTL, throughput, Iceberg) against the real API model."""
    (props,) = [r["Properties"] for r in tpl.find_resources(GROUP, {"Properties": {"FeatureGroupName": "tuned"}}).values()]
    params = _concrete(props)
    writer = permissions(tpl, ref_id(objects, objects["writer"]))
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        arn = client.create_feature_group(**params)["FeatureGroupArn"]
        described = client.describe_feature_group(FeatureGroupName="tuned")
    assert described["FeatureDefinitions"] == props["FeatureDefinitions"]
    assert described["RoleArn"] == params["RoleArn"]
    offline = described["OfflineStoreConfig"]
    assert offline["S3StorageConfig"]["KmsKeyId"] == TEAM_KEY_ARN
    assert offline["TableFormat"] == "Iceberg"
    # The data lands inside the prefix the role may write, and the Glue table matches its table pattern.
    (objects_arn,) = [json.loads(k)[0] for k in writer["s3:PutObject"]]
    resolved = offline["S3StorageConfig"]["ResolvedOutputS3Uri"]
    assert fnmatch.fnmatch("arn:aws:s3:::" + resolved.removeprefix("s3://") + "/part-0.parquet", _concrete(objects_arn))
    catalog = offline["DataCatalogConfig"]
    tables = [_concrete(json.loads(k)[0]) for k in writer["glue:CreateTable"]]
    assert any(fnmatch.fnmatch(f"arn:aws:glue:us-east-1:123456789012:table/{catalog['Database']}/{catalog['TableName']}",
                               t) for t in tables if ":table/" in t)
    assert _concrete(resolve(objects, objects["tuned"].feature_group_arn)) == arn  # the ARN grants use


def test_named_table_with_creation_on_is_created_under_those_names():
    """SageMaker: with DisableGlueTableCreation False and a DataCatalogConfig, "Feature Store creates the table
    using the specified names" (Glue and Iceberg alike); the group's role may manage exactly that table."""
    stack = new_stack()
    group = FeatureGroup(stack, "Named", **{**BASE, "feature_group_name": "named"}, online_store_enabled=False,
                         table_format="Iceberg", glue_database="analytics", glue_table_name="customer_features",
                         offline_store_bucket=s3.Bucket.from_bucket_name(stack, "Lake", "team-lake"),
                         offline_store_key=kms.Key.from_key_arn(stack, "TeamKey", TEAM_KEY_ARN))
    template = Template.from_stack(stack)
    template.has_resource_properties(GROUP, {"OfflineStoreConfig": Match.object_like({
        "DisableGlueTableCreation": False, "TableFormat": "Iceberg",
        "DataCatalogConfig": {"Catalog": "AwsDataCatalog", "Database": "analytics", "TableName": "customer_features"}})})
    granted = permissions(template, stack.get_logical_id(group.role.node.default_child))
    table = _key(pseudo_arn("glue", "table/analytics/customer_features"))
    assert {a: table in granted[a] for a in ("glue:CreateTable", "glue:GetTable", "glue:UpdateTable")} == {
        "glue:CreateTable": True, "glue:GetTable": True, "glue:UpdateTable": True}
    assert not [k for k in granted["glue:CreateTable"] if "*" in k]  # the named table only, no wildcard
    assert group.glue_database == "analytics" and group.glue_table_name == "customer_features"
    # botocore validates the synthesized shape against the API model (moto then generates a table name of its
    # own, so the names themselves are asserted on the template above).
    (props,) = [r["Properties"] for r in template.find_resources(GROUP).values()]
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        assert client.create_feature_group(**_concrete(props))["FeatureGroupArn"].endswith(":feature-group/named")


def test_bad_grant_and_import_inputs():
    stack = new_stack()
    role = iam.Role(stack, "R", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ValueError, match="FeatureGroup 'workgroup'"):
        FeatureGroup(stack, "G", **BASE).grant_query_offline(role, workgroup="bad name")
    no_catalog = FeatureGroup(stack, "N", **{**BASE, "feature_group_name": "n"}, disable_glue_table_creation=True)
    with pytest.raises(ValueError, match="FeatureGroup 'disable_glue_table_creation'"):
        no_catalog.grant_query_offline(role)
    with pytest.raises(ValueError, match="FeatureGroup 'feature_group_name': invalid value 'no spaces'"):
        FeatureGroup.from_feature_group_name(stack, "I", "no spaces")
