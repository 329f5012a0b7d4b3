"""FeatureGroup and FeatureStoreStack: stores, encryption, IAM scope, snapshot, cfn-lint, cdk-nag, moto, bad input."""

import copy
import fnmatch
import re

import boto3
import pandas as pd
import pytest
from aws_cdk import App, CfnParameter, CfnResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from moto import mock_aws

from mlops_cdk import FoundationStack, PlatformConfig, SageMakerExecutionRole, SecureBucket
from mlops_cdk.constructs.feature_group import (
    FeatureGroup,
    _ttl_duration,
    feature_definitions_from_dataframe,
)
from mlops_cdk.constructs._nag import flatten_cfn_reference
from mlops_cdk.stacks.feature_store import DEFAULT_FEATURE_GROUPS, FeatureStoreStack
from tests.harness import normalized, only_resource, resources_of_type, role_statements, synth

CONFIG = PlatformConfig(tags={"cost-center": "42"})
GROUP_NAME = "mlops-fraud-detection-dev-customer-features"
COURSE_SCHEMA = {
    "customer_id": "String",
    "age": "Integral",
    "account_balance": "Fractional",
    "transaction_count": "Integral",
    "event_time": "String",
}
SCHEMA = {"customer_id": "String", "age": "Integral", "event_time": "Fractional"}
# How cdk-nag (and flatten_cfn_reference) spells an ARN built from pseudo parameters.
ARN = "arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:{resource}"
BASE = dict(
    feature_group_name="customer-features",
    record_identifier_feature_name="customer_id",
    event_time_feature_name="event_time",
    feature_definitions=SCHEMA,
)


# ================================================================= the stack
@pytest.fixture(scope="module")
def built():
    """Foundation + FeatureStore synthesized once; the Python objects are kept for resolving ARNs."""
    objects = {}

    def build(app):
        objects["foundation"] = FoundationStack(app, "Foundation", config=CONFIG)
        objects["store"] = FeatureStoreStack(app, "FeatureStore", config=CONFIG, foundation=objects["foundation"])

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def raw(result):
    return result.json("FeatureStore")


@pytest.fixture(scope="module")
def foundation_raw(result):
    return result.json("Foundation")


@pytest.fixture(scope="module")
def group(raw):
    return only_resource(raw, "AWS::SageMaker::FeatureGroup")


def _exported(foundation_raw, import_value):
    """What a Fn::ImportValue in the feature-store template points at in the foundation template."""
    (name,) = [k for k, o in foundation_raw["Outputs"].items()
               if o.get("Export", {}).get("Name") == import_value["Fn::ImportValue"]]
    return foundation_raw["Outputs"][name]["Value"]


def _data_bucket_and_key(foundation_raw):
    buckets = resources_of_type(foundation_raw, "AWS::S3::Bucket")
    (bucket,) = [k for k, v in buckets.items() if "LoggingConfiguration" in v["Properties"]]
    key = foundation_raw["Resources"][bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    return bucket, key


def test_course_schema_record_identifier_and_event_time(group):
    props = group["Properties"]
    assert {d["FeatureName"]: d["FeatureType"] for d in props["FeatureDefinitions"]} == COURSE_SCHEMA
    assert props["RecordIdentifierFeatureName"] == "customer_id"
    assert props["EventTimeFeatureName"] == "event_time"
    assert props["Description"]


def test_group_name_carries_the_config_prefix(group):
    assert group["Properties"]["FeatureGroupName"] == GROUP_NAME
    assert len(GROUP_NAME) <= 64


def test_online_store_encrypted_with_the_foundation_data_key(group, foundation_raw):
    online = group["Properties"]["OnlineStoreConfig"]
    assert online["EnableOnlineStore"] is True
    _, key = _data_bucket_and_key(foundation_raw)
    assert _exported(foundation_raw, online["SecurityConfig"]["KmsKeyId"]) == {"Fn::GetAtt": [key, "Arn"]}
    assert "TtlDuration" not in online


def test_offline_store_under_feature_store_prefix_of_platform_bucket_with_key(group, foundation_raw):
    offline = group["Properties"]["OfflineStoreConfig"]
    sep, (scheme, bucket_ref, path) = offline["S3StorageConfig"]["S3Uri"]["Fn::Join"]
    assert (sep, scheme, path) == ("", "s3://", f"/feature-store/{GROUP_NAME}")
    bucket, key = _data_bucket_and_key(foundation_raw)
    assert _exported(foundation_raw, bucket_ref) == {"Ref": bucket}
    assert _exported(foundation_raw, offline["S3StorageConfig"]["KmsKeyId"]) == {"Fn::GetAtt": [key, "Arn"]}
    assert offline["DisableGlueTableCreation"] is False
    assert offline["TableFormat"] == "Glue"
    assert "DataCatalogConfig" not in offline  # SageMaker rejects it when it creates the table


def test_on_demand_throughput(group):
    assert group["Properties"]["ThroughputConfig"] == {"ThroughputMode": "OnDemand"}


def test_group_is_retained(group):
    assert group["DeletionPolicy"] == "Retain"
    assert group["UpdateReplacePolicy"] == "Retain"


def _role_of(raw, group):
    role = group["Properties"]["RoleArn"]["Fn::GetAtt"]
    assert role[1] == "Arn"
    return role[0]


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_dedicated_role_trusted_by_sagemaker_without_managed_policies(raw, group):
    role = raw["Resources"][_role_of(raw, group)]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    assert "FullAccess" not in str(raw)


def test_role_writes_only_this_groups_prefix_with_the_data_key(raw, group, foundation_raw):
    statements = {s["Sid"]: s for s in role_statements(raw, _role_of(raw, group))}
    assert set(statements) == {"OfflineStoreObjects", "OfflineStoreBucketAcl", "OfflineStoreKey", "OfflineStoreGlueTable"}
    bucket, key = _data_bucket_and_key(foundation_raw)

    objects = statements["OfflineStoreObjects"]
    assert sorted(objects["Action"]) == ["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl"]
    sep, (bucket_arn, path) = objects["Resource"]["Fn::Join"]
    assert _exported(foundation_raw, bucket_arn) == {"Fn::GetAtt": [bucket, "Arn"]}
    assert path == f"/feature-store/{GROUP_NAME}/*"

    assert statements["OfflineStoreBucketAcl"]["Action"] == "s3:GetBucketAcl"
    assert sorted(statements["OfflineStoreKey"]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert _exported(foundation_raw, statements["OfflineStoreKey"]["Resource"]) == {"Fn::GetAtt": [key, "Arn"]}

    glue = statements["OfflineStoreGlueTable"]
    assert sorted(glue["Action"]) == ["glue:CreateTable", "glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
    assert [flatten_cfn_reference(r) for r in glue["Resource"]] == [
        ARN.format(service="glue", resource="catalog"),
        ARN.format(service="glue", resource="database/sagemaker_featurestore"),
        ARN.format(service="glue", resource="table/sagemaker_featurestore/mlops_fraud_detection_dev_customer_features_*"),
    ]
    for statement in statements.values():
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] != "*"


def test_group_waits_for_its_role_policy(raw, group):
    (policy,) = [k for k, p in resources_of_type(raw, "AWS::IAM::Policy").items()
                 if {"Ref": _role_of(raw, group)} in p["Properties"]["Roles"]]
    assert policy in group["DependsOn"]


def test_every_taggable_resource_carries_standard_tags(raw, group):
    tagged = [r for r in raw["Resources"].values() if "Tags" in r.get("Properties", {})]
    assert group in tagged and len(tagged) == 2  # the feature group and its role
    for res in tagged:
        tags = {t["Key"]: t["Value"] for t in res["Properties"]["Tags"]}
        assert {"project": "mlops", "model": "fraud-detection", "stage": "dev", "cost-center": "42"}.items() <= tags.items()


def test_outputs_name_the_feature_groups(raw, group):
    (logical,) = [k for k, v in raw["Resources"].items() if v is group]
    assert raw["Outputs"]["CustomerFeaturesFeatureGroupName"]["Value"] == {"Ref": logical}


def test_no_hard_coded_region_or_account(raw):
    text = str(raw)
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)


def test_stack_attributes(built):
    _, objects = built
    store = objects["store"]
    assert list(store.feature_groups) == ["customer-features"]
    fg = store.feature_groups["customer-features"]
    assert store.resolve(fg.feature_group_arn) == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
        f":feature-group/{GROUP_NAME}"]]}
    assert DEFAULT_FEATURE_GROUPS["customer-features"]["feature_definitions"] == COURSE_SCHEMA  # not mutated


def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert result.lint("FeatureStore") == []
    assert result.lint("Foundation") == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# ============================================== the construct on its own
@pytest.fixture(scope="module")
def standalone():
    """Every FeatureGroup variant in one stack, plus a consumer role given all three grants."""
    objects = {}

    def build(app):
        stack = Stack(app, "Standalone")
        defaults = FeatureGroup(stack, "Defaults", **{**BASE, "feature_group_name": "Customer-Features"})
        consumer = iam.Role(stack, "Consumer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        defaults.grant_ingest(consumer)
        defaults.grant_read_online(consumer)
        defaults.grant_query_offline(consumer)
        lake = SecureBucket(stack, "Lake")
        execution = SageMakerExecutionRole(stack, "Exec", images=[])
        tuned = FeatureGroup(
            stack, "Tuned", **{**BASE, "feature_group_name": "tuned"}, description="tuned group",
            online_store_ttl=Duration.days(30), throughput_mode="Provisioned", provisioned_read_capacity_units=10,
            provisioned_write_capacity_units=5, table_format="Iceberg", role=execution, offline_store_bucket=lake,
            offline_store_prefix="fs",
        )
        online_only = FeatureGroup(stack, "OnlineOnly", **{**BASE, "feature_group_name": "online-only"},
                                   offline_store_enabled=False)
        catalog = FeatureGroup(
            stack, "Catalog", **{**BASE, "feature_group_name": "catalog"}, online_store_enabled=False,
            disable_glue_table_creation=True, glue_database="analytics", glue_table_name="customers",
            offline_store_bucket=s3.Bucket.from_bucket_name(stack, "Existing", "existing-bucket"),
            role=iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::123456789012:role/feature-writer"),
        )
        frame = pd.DataFrame({"id": ["a"], "n": [1], "x": [1.5], "t": pd.to_datetime(["2024-01-01"], utc=True)})
        from_frame = FeatureGroup.from_dataframe(
            stack, "FromFrame", data_frame=frame, feature_group_name="from-frame",
            record_identifier_feature_name="id", event_time_feature_name="t",
        )
        objects.update(stack=stack, defaults=defaults, tuned=tuned, online_only=online_only, catalog=catalog,
                       from_frame=from_frame, execution=execution)

    return synth(build), objects


@pytest.fixture(scope="module")
def sraw(standalone):
    return standalone[0].json()


def _group_named(template, name):
    (found,) = [r for r in resources_of_type(template, "AWS::SageMaker::FeatureGroup").values()
                if r["Properties"]["FeatureGroupName"] == name]
    return found


def test_standalone_nag_and_lint_clean(standalone):
    result, _ = standalone
    assert result.nag_findings == []
    assert result.lint() == []


def test_defaults_create_rotating_key_secure_bucket_and_role(sraw):
    props = _group_named(sraw, "Customer-Features")["Properties"]
    key = props["OnlineStoreConfig"]["SecurityConfig"]["KmsKeyId"]["Fn::GetAtt"][0]
    assert key.startswith("DefaultsKey")
    assert sraw["Resources"][key]["Properties"]["EnableKeyRotation"] is True
    assert sraw["Resources"][key]["DeletionPolicy"] == "Retain"
    storage = props["OfflineStoreConfig"]["S3StorageConfig"]
    assert storage["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}  # one key for both stores
    bucket = storage["S3Uri"]["Fn::Join"][1][1]["Ref"]
    assert bucket.startswith("DefaultsOfflineStoreBucket")
    encryption = sraw["Resources"][bucket]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": [key, "Arn"]}
    assert props["RoleArn"]["Fn::GetAtt"][0].startswith("DefaultsRole")


def _consumer_actions(sraw):
    """action -> flattened resources, over the consumer's policy (statements may be merged by CDK)."""
    (policy,) = [p for k, p in resources_of_type(sraw, "AWS::IAM::Policy").items() if k.startswith("ConsumerDefault")]
    found = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            assert "*" not in action
            entry = found.setdefault(action, {"resources": set(), "conditions": []})
            entry["resources"] |= {flatten_cfn_reference(r) for r in _as_list(statement["Resource"])}
            if "Condition" in statement:
                entry["conditions"].append(statement["Condition"])
    return found


def test_grants_are_scoped_to_this_group(sraw):
    actions = _consumer_actions(sraw)
    group_arns = {ARN.format(service="sagemaker", resource="feature-group/Customer-Features"),
                  ARN.format(service="sagemaker", resource="feature-group/customer-features")}
    for action in ("sagemaker:PutRecord", "sagemaker:GetRecord", "sagemaker:BatchGetRecord",
                   "sagemaker:DescribeFeatureGroup"):
        assert actions[action]["resources"] == group_arns, action
    key = {r for r in actions["kms:Decrypt"]["resources"]}
    assert len(key) == 1 and next(iter(key)).startswith("<DefaultsKey")
    assert actions["kms:GenerateDataKey"]["resources"] == key  # Athena results, same key

    (bucket,) = actions["s3:ListBucket"]["resources"]
    assert bucket.startswith("<DefaultsOfflineStoreBucket") and bucket.endswith(".Arn>")
    assert actions["s3:ListBucket"]["conditions"] == [{"StringLike": {"s3:prefix": ["feature-store/Customer-Features/*"]}}]
    assert actions["s3:GetObject"]["resources"] == {f"{bucket}/feature-store/Customer-Features/*"}
    assert actions["s3:PutObject"]["resources"] == {f"{bucket}/feature-store/Customer-Features/athena-results/*"}
    assert actions["s3:GetBucketLocation"]["resources"] == {bucket}

    glue = {ARN.format(service="glue", resource="catalog"),
            ARN.format(service="glue", resource="database/sagemaker_featurestore"),
            ARN.format(service="glue", resource="table/sagemaker_featurestore/customer_features_*")}
    for action in ("glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"):
        assert actions[action]["resources"] == glue
    for action in ("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"):
        assert actions[action]["resources"] == {ARN.format(service="athena", resource="workgroup/primary")}
    assert not {a for a in actions if a.startswith(("sagemaker:Delete", "sagemaker:Create", "s3:Delete", "glue:Update",
                                                    "glue:Create", "glue:Delete"))}


def test_tuned_group_ttl_throughput_iceberg_and_given_role(sraw, standalone):
    props = _group_named(sraw, "tuned")["Properties"]
    assert props["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Days", "Value": 30}
    assert props["ThroughputConfig"] == {"ThroughputMode": "Provisioned", "ProvisionedReadCapacityUnits": 10,
                                         "ProvisionedWriteCapacityUnits": 5}
    assert props["OfflineStoreConfig"]["TableFormat"] == "Iceberg"
    assert props["Description"] == "tuned group"
    assert props["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"]["Fn::Join"][1][2] == "/fs/tuned"
    role = props["RoleArn"]["Fn::GetAtt"][0]
    assert role.startswith("ExecRole")
    assert len(resources_of_type(sraw, "AWS::IAM::Role")) == 4  # Defaults, Consumer, Exec, FromFrame: none for Tuned
    statements = role_statements(sraw, role)
    assert any(s.get("Sid") == "OfflineStoreObjects" for s in statements)
    lake_key = props["OfflineStoreConfig"]["S3StorageConfig"]["KmsKeyId"]["Fn::GetAtt"][0]
    assert lake_key.startswith("LakeKey")  # the given bucket's key by default


def test_online_only_group_has_no_offline_store_or_role(sraw, standalone):
    props = _group_named(sraw, "online-only")["Properties"]
    assert "OfflineStoreConfig" not in props and "RoleArn" not in props
    assert props["OnlineStoreConfig"]["EnableOnlineStore"] is True
    online_only = standalone[1]["online_only"]
    assert online_only.offline_store_s3_uri is None and online_only.role is None
    with pytest.raises(ValueError, match="'offline_store_enabled'"):
        online_only.grant_query_offline(standalone[1]["execution"])


def test_given_catalog_and_imported_role(sraw, standalone):
    group = _group_named(sraw, "catalog")
    offline = group["Properties"]["OfflineStoreConfig"]
    assert offline["DisableGlueTableCreation"] is True
    assert offline["DataCatalogConfig"] == {"Catalog": "AwsDataCatalog", "Database": "analytics", "TableName": "customers"}
    assert offline["S3StorageConfig"] == {"S3Uri": "s3://existing-bucket/feature-store/catalog"}
    assert group["Properties"]["RoleArn"] == "arn:aws:iam::123456789012:role/feature-writer"
    assert group["Properties"]["OnlineStoreConfig"] == {"EnableOnlineStore": False}
    (policy,) = [p for p in resources_of_type(sraw, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == ["feature-writer"]]
    glue = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "OfflineStoreGlueTable"][0]
    assert flatten_cfn_reference(glue["Resource"][-1]).endswith(":table/analytics/customers")  # exact, no wildcard
    with pytest.raises(ValueError, match="'online_store_enabled'"):
        standalone[1]["catalog"].grant_read_online(standalone[1]["execution"])


def test_from_dataframe_group(sraw):
    props = _group_named(sraw, "from-frame")["Properties"]
    assert props["FeatureDefinitions"] == [
        {"FeatureName": "id", "FeatureType": "String"}, {"FeatureName": "n", "FeatureType": "Integral"},
        {"FeatureName": "x", "FeatureType": "Fractional"}, {"FeatureName": "t", "FeatureType": "String"},
    ]


def test_construct_attributes(standalone):
    _, objects = standalone
    stack, defaults = objects["stack"], objects["defaults"]
    assert stack.resolve(defaults.feature_group_name) == {"Ref": stack.get_logical_id(defaults.resource)}
    assert defaults.offline_store_prefix == "feature-store/Customer-Features/"
    assert stack.resolve(defaults.offline_store_s3_uri)["Fn::Join"][1][2] == "/feature-store/Customer-Features"
    assert stack.resolve(defaults.athena_results_s3_uri)["Fn::Join"][1][2] == "/feature-store/Customer-Features/athena-results/"
    assert defaults.glue_database == "sagemaker_featurestore"
    assert defaults.feature_definitions == SCHEMA


# ====================================================================== moto
_DUMMY_ACCOUNT = "123456789012"  # moto's default account


def _dummy(flat: str) -> str:
    """A concrete value for a reference in the template (cdk-nag's flattened spelling)."""
    fixed = {"<AWS::Partition>": "aws", "<AWS::Region>": "us-east-1", "<AWS::AccountId>": _DUMMY_ACCOUNT}
    if flat in fixed:
        return fixed[flat]
    if "Key" in flat:
        return f"arn:aws:kms:us-east-1:{_DUMMY_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    if "Role" in flat:
        return f"arn:aws:iam::{_DUMMY_ACCOUNT}:role/feature-store-offline"
    if "Bucket" in flat:
        return "arn:aws:s3:::platform-data" if "Arn" in flat else "platform-data"
    raise AssertionError(f"no dummy for {flat}")


def _concrete(value):
    if isinstance(value, list):
        return [_concrete(v) for v in value]
    if isinstance(value, dict):
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(_concrete(p) for p in parts)
        if {"Ref", "Fn::GetAtt", "Fn::ImportValue"} & set(value):
            return _dummy(flatten_cfn_reference(value))
        return {k: _concrete(v) for k, v in value.items()}
    return value


# AWS::SageMaker::FeatureGroup properties and CreateFeatureGroup parameters share their names.
_API_PARAMS = ("FeatureGroupName", "RecordIdentifierFeatureName", "EventTimeFeatureName", "FeatureDefinitions",
               "OnlineStoreConfig", "OfflineStoreConfig", "ThroughputConfig", "RoleArn", "Description", "Tags")


@pytest.mark.parametrize("which", ["stack", "tuned"])
def test_moto_creates_the_synthesized_group(which, raw, sraw, built, standalone):
    template, name = (raw, GROUP_NAME) if which == "stack" else (sraw, "tuned")
    resource = _group_named(template, name)
    props = resource["Properties"]
    assert set(props) <= set(_API_PARAMS)
    params = _concrete(props)
    role = props["RoleArn"]["Fn::GetAtt"][0]
    offline_statements = [s for s in role_statements(template, role) if s.get("Sid", "").startswith("OfflineStore")]
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        # botocore validates every parameter shape (TTL, throughput, tags) against the real API model here.
        arn = client.create_feature_group(**params)["FeatureGroupArn"]
        described = client.describe_feature_group(FeatureGroupName=name)

    assert described["FeatureDefinitions"] == props["FeatureDefinitions"]
    assert described["RecordIdentifierFeatureName"] == props["RecordIdentifierFeatureName"]
    assert described["EventTimeFeatureName"] == props["EventTimeFeatureName"]
    assert described["RoleArn"] == params["RoleArn"]
    offline = described["OfflineStoreConfig"]
    assert offline["S3StorageConfig"]["S3Uri"] == params["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"]
    assert offline["S3StorageConfig"]["KmsKeyId"] == params["OfflineStoreConfig"]["S3StorageConfig"]["KmsKeyId"]
    assert offline["TableFormat"] == params["OfflineStoreConfig"]["TableFormat"]
    # The data lands under the configured URI, i.e. inside the prefix the role may write ...
    objects = [s for s in offline_statements if s["Sid"] == "OfflineStoreObjects"][0]
    objects_arn = _concrete(objects["Resource"])
    resolved = offline["S3StorageConfig"]["ResolvedOutputS3Uri"]
    assert fnmatch.fnmatch("arn:aws:s3:::" + resolved.removeprefix("s3://") + "/part-0.parquet", objects_arn)
    # ... and the Glue table SageMaker names '<group>_<epoch>' is matched by the role's table pattern.
    glue = [s for s in offline_statements if s["Sid"] == "OfflineStoreGlueTable"][0]
    table_arn = _concrete(glue["Resource"][-1])
    catalog = offline["DataCatalogConfig"]
    assert catalog["Database"] == "sagemaker_featurestore"
    assert fnmatch.fnmatch(f"arn:aws:glue:us-east-1:{_DUMMY_ACCOUNT}:table/{catalog['Database']}/{catalog['TableName']}",
                           table_arn)
    # The ARN the grants use is the one SageMaker returns.
    group = built[1]["store"].feature_groups["customer-features"] if which == "stack" else standalone[1]["tuned"]
    stack = Stack.of(group)
    assert _concrete(stack.resolve(group.feature_group_arn)) == arn
    # moto keeps no OnlineStoreConfig/ThroughputConfig; botocore accepted their shapes above.


# ================================================= schema and DataFrame derivation
def test_dataframe_dtypes_map_to_feature_types():
    frame = pd.DataFrame({
        "i64": pd.Series([1], dtype="int64"),
        "i32": pd.Series([1], dtype="int32"),
        "nullable_int": pd.Series([1], dtype="Int64"),
        "flag": pd.Series([True], dtype="bool"),
        "nullable_flag": pd.Series([True], dtype="boolean"),
        "f64": pd.Series([1.5], dtype="float64"),
        "f32": pd.Series([1.5], dtype="float32"),
        "obj": pd.Series(["a"], dtype="object"),
        "text": pd.Series(["a"], dtype="string"),
        "cat": pd.Series(["a"], dtype="category"),
        "ts": pd.to_datetime(["2024-01-15T10:30:00"]),
        "ts_utc": pd.to_datetime(["2024-01-15T10:30:00Z"], utc=True),
    })
    assert feature_definitions_from_dataframe(frame) == {
        "i64": "Integral", "i32": "Integral", "nullable_int": "Integral", "flag": "Integral", "nullable_flag": "Integral",
        "f64": "Fractional", "f32": "Fractional",
        "obj": "String", "text": "String", "cat": "String", "ts": "String", "ts_utc": "String",
    }


def test_course_dataframe_derives_the_course_schema():
    frame = pd.DataFrame([{"customer_id": "12345", "age": 35, "account_balance": 50000.0, "transaction_count": 42,
                           "event_time": "2024-01-15T10:30:00Z"}])
    assert feature_definitions_from_dataframe(frame) == COURSE_SCHEMA


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"wait": pd.to_timedelta(["1 day"])}),
    pd.DataFrame({"z": pd.Series([1 + 2j])}),
    pd.DataFrame({0: ["a"]}),
    {"customer_id": ["a"]},
])
def test_dataframe_bad_input_names_data_frame(frame):
    with pytest.raises(ValueError, match="FeatureGroup 'data_frame': invalid value"):
        feature_definitions_from_dataframe(frame)


@pytest.mark.parametrize("ttl, expected", [
    (Duration.seconds(90), {"Unit": "Seconds", "Value": 90}),
    (Duration.minutes(90), {"Unit": "Minutes", "Value": 90}),
    (Duration.hours(48), {"Unit": "Days", "Value": 2}),
    (Duration.days(14), {"Unit": "Weeks", "Value": 2}),
    (Duration.days(30), {"Unit": "Days", "Value": 30}),
])
def test_ttl_uses_the_largest_whole_unit(ttl, expected):
    assert _ttl_duration(ttl) == expected


def test_tokens_pass_through_unvalidated():
    app = App()
    stack = Stack(app, "S")
    name = CfnParameter(stack, "Name").value_as_string
    feature = CfnParameter(stack, "Feature").value_as_string
    units = CfnParameter(stack, "Units", type="Number").value_as_number
    group = FeatureGroup(
        stack, "G", feature_group_name=name, record_identifier_feature_name=feature, event_time_feature_name="t",
        feature_definitions={feature: "String", "t": "String"}, throughput_mode="Provisioned",
        provisioned_read_capacity_units=units, provisioned_write_capacity_units=units,
    )
    assert stack.resolve(group.resource.feature_group_name) == {"Ref": "Name"}
    glue_table = stack.resolve(group._glue_arns()[-1])
    assert glue_table["Fn::Join"][1][-1] == ":table/sagemaker_featurestore/*"  # unknown name: whole database


# ================================================================ bad input
def _defs(**changes):
    out = dict(SCHEMA)
    for name, value in changes.items():
        if value is None:
            out.pop(name)
        else:
            out[name] = value
    return out


BAD_GROUP_PROPS = [
    # (changes to BASE, prop named in the error, fragment of the message)
    (dict(record_identifier_feature_name="user_id"), "record_identifier_feature_name", "one of the defined features"),
    (dict(feature_definitions=_defs(customer_id=None)), "record_identifier_feature_name", "'customer_id'"),
    (dict(event_time_feature_name="ts"), "event_time_feature_name", "one of the defined features"),
    (dict(feature_definitions=_defs(event_time="Integral")), "event_time_feature_name", "String | Fractional"),
    (dict(feature_definitions=_defs(age="Integer")), "feature_definitions", "Integral | Fractional | String"),
    (dict(feature_definitions=_defs(age="string")), "feature_definitions", "'string'"),
    (dict(feature_definitions=_defs(age=int)), "feature_definitions", "feature types"),
    (dict(feature_definitions=_defs(is_deleted="Integral")), "feature_definitions", "reserved"),
    (dict(feature_definitions=_defs(Write_Time="String")), "feature_definitions", "reserved"),
    (dict(feature_definitions=_defs(API_INVOCATION_TIME="String")), "feature_definitions", "reserved"),
    (dict(feature_definitions=_defs(_leading="String")), "feature_definitions", "'_leading'"),
    (dict(feature_definitions=_defs(**{"trailing-": "String"})), "feature_definitions", "'trailing-'"),
    (dict(feature_definitions=_defs(**{"has space": "String"})), "feature_definitions", "'has space'"),
    (dict(feature_definitions=_defs(**{"dot.name": "String"})), "feature_definitions", "'dot.name'"),
    (dict(feature_definitions=_defs(**{"a" * 65: "String"})), "feature_definitions", "1-64 characters"),
    (dict(feature_definitions=_defs(**{"": "String"})), "feature_definitions", "1-64 characters"),
    (dict(feature_definitions=_defs(AGE="Integral")), "feature_definitions", "'age' is already defined"),
    (dict(feature_definitions=[*SCHEMA.items(), ("age", "Integral")]), "feature_definitions", "unique feature names"),
    (dict(feature_definitions={**SCHEMA, **{f"f{i}": "Fractional" for i in range(2498)}}), "feature_definitions",
     "at most 2500 features"),
    (dict(feature_definitions={}), "feature_definitions", "at least one feature"),
    (dict(feature_definitions="customer_id:String"), "feature_definitions", "a mapping"),
    (dict(feature_definitions=[("customer_id",)]), "feature_definitions", "(name, type) pairs"),
    (dict(feature_group_name="customer features"), "feature_group_name", "'customer features'"),
    (dict(feature_group_name="-customer"), "feature_group_name", "starting and ending"),
    (dict(feature_group_name="c" * 65), "feature_group_name", "1-64 characters"),
    (dict(feature_group_name=""), "feature_group_name", "1-64 characters"),
    (dict(feature_group_name=None), "feature_group_name", "None"),
    (dict(online_store_ttl=Duration.seconds(0)), "online_store_ttl", ">= 1"),
    (dict(online_store_ttl=Duration.millis(1500)), "online_store_ttl", "whole number of seconds"),
    (dict(online_store_ttl=30), "online_store_ttl", "Duration.days(30)"),
    (dict(online_store_ttl=Duration.days(1), online_store_enabled=False), "online_store_ttl", "online_store_enabled"),
    (dict(throughput_mode="onDemand"), "throughput_mode", "OnDemand | Provisioned"),
    (dict(throughput_mode="Provisioned", provisioned_read_capacity_units=5), "provisioned_write_capacity_units",
     "throughput_mode='Provisioned'"),
    (dict(throughput_mode="Provisioned", provisioned_read_capacity_units=5, provisioned_write_capacity_units=0),
     "provisioned_write_capacity_units", "[1, 10000000]"),
    (dict(throughput_mode="Provisioned", provisioned_read_capacity_units=5, provisioned_write_capacity_units=10_000_001),
     "provisioned_write_capacity_units", "[1, 10000000]"),
    (dict(throughput_mode="Provisioned", provisioned_write_capacity_units=5), "provisioned_read_capacity_units",
     "online store"),
    (dict(throughput_mode="Provisioned", provisioned_read_capacity_units=0, provisioned_write_capacity_units=5),
     "provisioned_read_capacity_units", "[1, 10000000]"),
    (dict(throughput_mode="Provisioned", provisioned_read_capacity_units=True, provisioned_write_capacity_units=5),
     "provisioned_read_capacity_units", "True"),
    (dict(throughput_mode="Provisioned", provisioned_read_capacity_units=2.5, provisioned_write_capacity_units=5),
     "provisioned_read_capacity_units", "2.5"),
    (dict(provisioned_read_capacity_units=5), "provisioned_read_capacity_units", "throughput_mode='Provisioned'"),
    (dict(description="d" * 129), "description", "at most 128"),
    (dict(table_format="Parquet"), "table_format", "Glue | Iceberg"),
    (dict(offline_store_prefix="/feature-store/"), "offline_store_prefix", "not starting with '/'"),
    (dict(offline_store_prefix="a//b/"), "offline_store_prefix", "'//'"),
    (dict(online_store_enabled=False, offline_store_enabled=False), "offline_store_enabled", "at least one store"),
    (dict(online_store_enabled="yes"), "online_store_enabled", "True | False"),
    (dict(glue_database="analytics", glue_table_name="customers"), "glue_database", "disable_glue_table_creation"),
    (dict(disable_glue_table_creation=True, glue_table_name="customers"), "glue_database", "given together"),
    (dict(disable_glue_table_creation=True, glue_database="analytics"), "glue_table_name", "given together"),
    (dict(disable_glue_table_creation=True, glue_database="Analytics", glue_table_name="t"), "glue_database", "a-z"),
    (dict(role="arn:aws:iam::123456789012:role/x"), "role", "iam.IRole"),
    (dict(offline_store_bucket="my-bucket"), "offline_store_bucket", "s3.IBucket"),
    (dict(online_store_key="alias/my-key"), "online_store_key", "kms.IKey"),
    (dict(offline_store_key="alias/my-key"), "offline_store_key", "kms.IKey"),
]


@pytest.mark.parametrize("changes, prop, fragment", BAD_GROUP_PROPS,
                         ids=[f"{i}-{case[1]}" for i, case in enumerate(BAD_GROUP_PROPS)])
def test_bad_group_props_name_the_prop(changes, prop, fragment):
    stack = Stack(App(), "S")
    with pytest.raises(ValueError) as raised:
        FeatureGroup(stack, "G", **{**BASE, **changes})
    message = str(raised.value)
    assert message.startswith(f"FeatureGroup '{prop}': invalid value "), message
    assert fragment in message, message
    assert not [c for c in stack.node.find_all() if isinstance(c, CfnResource)], "validation precedes resources"


def test_bad_grant_inputs():
    stack = Stack(App(), "S")
    group = FeatureGroup(stack, "G", **BASE)
    with pytest.raises(ValueError, match="FeatureGroup 'grantee'"):
        group.grant_ingest("arn:aws:iam::123456789012:role/x")
    with pytest.raises(ValueError, match="FeatureGroup 'workgroup'"):
        group.grant_query_offline(iam.Role(stack, "R", assumed_by=iam.AccountRootPrincipal()), workgroup="bad name")
    with pytest.raises(ValueError, match="FeatureGroup 'feature_definitions'.*omitted when data_frame"):
        FeatureGroup.from_dataframe(stack, "F", data_frame=pd.DataFrame({"a": [1]}), **BASE)
    no_catalog = FeatureGroup(stack, "N", **{**BASE, "feature_group_name": "n"}, disable_glue_table_creation=True)
    with pytest.raises(ValueError, match="FeatureGroup 'disable_glue_table_creation'"):
        no_catalog.grant_query_offline(iam.Role(stack, "Q", assumed_by=iam.AccountRootPrincipal()))


@pytest.fixture
def foundation():
    app = App()
    return app, FoundationStack(app, "Foundation", config=CONFIG)


def _spec(**changes):
    spec = copy.deepcopy(DEFAULT_FEATURE_GROUPS["customer-features"])
    spec.update(changes)
    return {"customer-features": spec}


@pytest.mark.parametrize("kwargs, prop, fragment", [
    (dict(feature_groups={}), "feature_groups", "non-empty mapping"),
    (dict(feature_groups=["customer-features"]), "feature_groups", "non-empty mapping"),
    (dict(feature_groups={"bad name": {}}), "feature_groups", "'bad name'"),
    (dict(feature_groups={"x": "customer_id"}), "feature_groups", "FeatureGroup props"),
    (dict(feature_groups=_spec(event_time_feature="event_time")), "feature_groups", "did you mean 'event_time_feature_name'"),
    (dict(feature_groups=_spec(data_frame=pd.DataFrame({"a": [1]}))), "feature_groups", "not both"),
    (dict(feature_groups={"customer-features-" + "x" * 30: DEFAULT_FEATURE_GROUPS["customer-features"]}),
     "feature_groups", "at most 64 characters"),
    (dict(foundation="Foundation"), "foundation", "a FoundationStack"),
    (dict(config={"stage": "dev"}), "config", "a PlatformConfig"),
])
def test_bad_stack_props_name_the_prop(foundation, kwargs, prop, fragment):
    app, found = foundation
    props = {"config": CONFIG, "foundation": found, **kwargs}
    with pytest.raises(ValueError) as raised:
        FeatureStoreStack(app, "FeatureStore", **props)
    message = str(raised.value)
    assert message.startswith(f"FeatureStoreStack '{prop}': invalid value "), message
    assert fragment in message, message


def test_stack_spec_errors_come_from_the_construct(foundation):
    app, found = foundation
    with pytest.raises(ValueError, match="FeatureGroup 'event_time_feature_name'.*String | Fractional"):
        FeatureStoreStack(app, "FeatureStore", config=CONFIG, foundation=found,
                          feature_groups=_spec(feature_definitions={**COURSE_SCHEMA, "event_time": "Integral"}))


def test_stack_builds_several_groups_from_specs_and_dataframes(foundation):
    app, found = foundation
    frame = pd.DataFrame({"merchant_id": ["m1"], "risk": [0.2], "updated": pd.to_datetime(["2024-01-01"])})
    store = FeatureStoreStack(app, "FeatureStore", config=CONFIG, foundation=found, feature_groups={
        **DEFAULT_FEATURE_GROUPS,
        "merchant-risk": {"data_frame": frame, "record_identifier_feature_name": "merchant_id",
                          "event_time_feature_name": "updated", "online_store_enabled": False},
        "short": {**DEFAULT_FEATURE_GROUPS["customer-features"], "feature_group_name": "custom-name"},
    })
    groups = store.feature_groups
    assert list(groups) == ["customer-features", "merchant-risk", "short"]
    names = [store.resolve(g.resource.feature_group_name) for g in groups.values()]
    assert names == [GROUP_NAME, "mlops-fraud-detection-dev-merchant-risk", "custom-name"]
    assert groups["merchant-risk"].feature_definitions == {"merchant_id": "String", "risk": "Fractional",
                                                            "updated": "String"}
    assert groups["merchant-risk"].online_store_key is None
    assert groups["merchant-risk"].offline_store_key is found.data.encryption_key
