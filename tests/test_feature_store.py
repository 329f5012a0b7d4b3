"""FeatureStoreStack and FeatureGroupSpec: the reference app's groups, bring-your-own resources, bad input."""

import dataclasses
import json
import re

import pandas as pd
import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk.assertions import Capture, Match, Template
from constructs import Construct

from mlops_cdk import DEFAULT_FEATURE_GROUPS, FeatureGroupSpec, FeatureStoreStack, FoundationStack, PlatformConfig
from tests.harness import ROOT, imported_resources, logical_ids, own_resources, reference_context, synth

CONFIG = PlatformConfig(tags={"cost-center": "42"})
GROUP_NAME = "mlops-fraud-detection-dev-customer-features"
COURSE_SCHEMA = {"customer_id": "String", "age": "Integral", "account_balance": "Fractional",
                 "transaction_count": "Integral", "event_time": "String"}
GROUP = "AWS::SageMaker::FeatureGroup"
STORES = ("FeatureStore", "OwnStore", "ImportedStore")


def pseudo_arn(service, resource):
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{service}:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, f":{resource}"]]}


def team_resources(app):
    """A team's own resources in its stack, and existing ones imported by name and ARN (next to them: an empty
    stack of imports would not synthesize)."""
    team = Stack(app, "Team")
    return own_resources(team), imported_resources(Construct(team, "Existing"))


@pytest.fixture(scope="module")
def built():
    """The reference pair (foundation + store) and two stores on a team's own resources, with no FoundationStack."""
    objects = {}

    def build(app):
        foundation = FoundationStack(app, "Foundation", config=CONFIG)
        objects["FeatureStore"] = (FeatureStoreStack(app, "FeatureStore", config=CONFIG, resources=foundation.resources),
                                   foundation.resources)
        own, imported = team_resources(app)
        objects["OwnStore"] = FeatureStoreStack(app, "OwnStore", config=CONFIG, resources=own), own
        objects["ImportedStore"] = FeatureStoreStack(app, "ImportedStore", config=CONFIG, resources=imported), imported

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def tpl(result):
    return result.template("FeatureStore")


def test_reference_store_keeps_the_released_logical_ids(result, json_snapshot):
    released = json.loads((ROOT / "tests" / "data" / "released_stateful_ids.json").read_text())["variants"]
    ids = logical_ids(result.json("FeatureStore"))
    for variant in released.values():
        for stack_name, expected in variant.items():
            if stack_name.endswith("-feature-store"):
                assert expected.items() <= ids.items(), stack_name
    assert ids == json_snapshot


def test_course_group_named_after_the_config_prefix(tpl):
    tpl.has_resource_properties(GROUP, {
        "FeatureGroupName": GROUP_NAME,
        "RecordIdentifierFeatureName": "customer_id",
        "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": [{"FeatureName": n, "FeatureType": t} for n, t in COURSE_SCHEMA.items()],
        "Description": Match.string_like_regexp("Customer profile"),
        "ThroughputConfig": {"ThroughputMode": "OnDemand"},
        "OnlineStoreConfig": {"TtlDuration": Match.absent()},
    })
    tpl.has_resource(GROUP, {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    tpl.has_output("CustomerFeaturesFeatureGroupName", {"Value": {"Ref": "customerfeatures8CB26DE0"}})


@pytest.mark.parametrize("store", ["FeatureStore", "OwnStore"])
def test_both_stores_use_the_given_bucket_and_key_across_stacks(result, built, store):
    _, resources = built[1][store]
    exporter = Stack.of(resources.data_key)  # the foundation, or the team's own stack
    online_key, offline_key, bucket = Capture(), Capture(), Capture()
    result.template(store).has_resource_properties(GROUP, {
        "OnlineStoreConfig": {"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": online_key}},
        "OfflineStoreConfig": {"S3StorageConfig": {
            "S3Uri": {"Fn::Join": ["", ["s3://", bucket, f"/feature-store/{GROUP_NAME}"]]}, "KmsKeyId": offline_key}},
    })

    def exported(import_value):
        (output,) = result.template(exporter.stack_name).find_outputs("*", {
            "Export": {"Name": import_value["Fn::ImportValue"]}}).values()
        return output["Value"]

    key = exporter.resolve(resources.data_key.key_arn)
    assert exported(online_key.as_object()) == key and exported(offline_key.as_object()) == key
    assert exported(bucket.as_object()) == exporter.resolve(resources.data_bucket.bucket_name)


def test_imported_resources_are_used_by_name_and_arn(result, built):
    _, resources = built[1]["ImportedStore"]
    key_arn = resources.data_key.key_arn
    result.template("ImportedStore").has_resource_properties(GROUP, {
        "FeatureGroupName": GROUP_NAME,
        "OnlineStoreConfig": Match.object_equals({"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": key_arn}}),
        "OfflineStoreConfig": Match.object_equals({
            "S3StorageConfig": {"S3Uri": f"s3://team-ml-data/feature-store/{GROUP_NAME}", "KmsKeyId": key_arn},
            "DisableGlueTableCreation": False, "TableFormat": "Glue"}),
    })


def test_dedicated_writer_role_limited_to_its_group(result, built):
    _, resources = built[1]["ImportedStore"]
    tpl = result.template("ImportedStore")
    role = Capture()
    tpl.has_resource_properties(GROUP, {"RoleArn": {"Fn::GetAtt": [role, "Arn"]}})
    tpl.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                    "Principal": {"Service": "sagemaker.amazonaws.com"}}]},
        "ManagedPolicyArns": Match.absent(), "Policies": Match.absent()})
    def s3_arn(path):
        return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{path}"]]}

    # Exactly these statements (actions as aws-cdk-lib sorts them): this group's prefix, the key, its Glue table.
    tpl.has_resource_properties("AWS::IAM::Policy", {"Roles": [{"Ref": role.as_string()}], "PolicyDocument": {
        "Statement": [
            {"Sid": "OfflineStoreObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:PutObjectAcl"],
             "Resource": s3_arn(f"team-ml-data/feature-store/{GROUP_NAME}/*")},
            {"Sid": "OfflineStoreBucketAcl", "Effect": "Allow", "Action": "s3:GetBucketAcl",
             "Resource": s3_arn("team-ml-data")},
            {"Sid": "OfflineStoreKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": resources.data_key.key_arn},
            {"Sid": "OfflineStoreGlueTable", "Effect": "Allow",
             "Action": ["glue:CreateTable", "glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"],
             "Resource": [pseudo_arn("glue", "catalog"), pseudo_arn("glue", "database/sagemaker_featurestore"),
                          pseudo_arn("glue", f"table/sagemaker_featurestore/{GROUP_NAME.replace('-', '_')}_*")]},
        ]}})
    (policy,) = tpl.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role.as_string()}]}})
    tpl.has_resource(GROUP, {"DependsOn": [policy]})  # the group is created once its role may write


@pytest.mark.parametrize("store", STORES)
def test_standard_tags_on_the_group_and_its_role(result, store):
    tpl = result.template(store)
    for key, value in {"project": "mlops", "model": "fraud-detection", "stage": "dev", "cost-center": "42"}.items():
        for resource_type in (GROUP, "AWS::IAM::Role"):
            tpl.has_resource_properties(resource_type, {"Tags": Match.array_with([{"Key": key, "Value": value}])})


def test_nag_clean(result):
    assert result.nag_findings == []


@pytest.mark.parametrize("store", STORES)
def test_lint_clean(result, store):
    assert result.lint(store) == []


def test_no_hard_coded_region_or_account(result):
    # Conditions and Rules name the regions that lack the Feature Store (mlops_cdk.regions): they keep the
    # template deployable anywhere else, so they are not a hard-coded region.
    text = json.dumps({k: v for k, v in result.json("FeatureStore").items() if k not in ("Conditions", "Rules")})
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)


def test_stack_attributes_and_props(built):
    store, _ = built[1]["FeatureStore"]
    assert list(store.feature_groups) == ["customer-features"]
    group = store.feature_groups["customer-features"]
    assert store.resolve(group.feature_group_arn) == pseudo_arn("sagemaker", f"feature-group/{GROUP_NAME}")
    assert store.template_options.description == "mlops-cdk feature store for fraud-detection (dev)"
    assert store.termination_protection is False


# ================================================================ FeatureGroupSpec and more groups
@pytest.fixture
def resources():
    app = App(context=reference_context())
    return app, team_resources(app)[1]


def test_prod_store_has_termination_protection(resources):
    app, imported = resources
    prod = FeatureStoreStack(app, "Prod", config=PlatformConfig(stage="prod"), resources=imported)
    assert prod.termination_protection is True
    assert prod.resolve(prod.feature_groups["customer-features"].resource.feature_group_name) == \
        "mlops-fraud-detection-prod-customer-features"


def test_store_builds_groups_from_specs_and_dataframes(resources):
    app, imported = resources
    frame = pd.DataFrame({"merchant_id": ["m1"], "risk": [0.2], "updated": pd.to_datetime(["2024-01-01"])})
    store = FeatureStoreStack(app, "FeatureStore", config=CONFIG, resources=imported, feature_groups={
        **DEFAULT_FEATURE_GROUPS,
        "merchant-risk": FeatureGroupSpec.from_dataframe(frame, record_identifier_feature_name="merchant_id",
                                                         event_time_feature_name="updated", online_store_enabled=False),
        "short": dataclasses.replace(DEFAULT_FEATURE_GROUPS["customer-features"], feature_group_name="custom-name",
                                     online_store_ttl=Duration.days(7), table_format="Iceberg"),
    })
    groups = store.feature_groups
    assert list(groups) == ["customer-features", "merchant-risk", "short"]
    names = [store.resolve(g.resource.feature_group_name) for g in groups.values()]
    assert names == [GROUP_NAME, "mlops-fraud-detection-dev-merchant-risk", "custom-name"]
    merchant = groups["merchant-risk"]
    assert merchant.feature_definitions == {"merchant_id": "String", "risk": "Fractional", "updated": "String"}
    assert merchant.online_store_key is None and merchant.offline_store_key is imported.data_key
    tpl = Template.from_stack(store)
    tpl.has_resource_properties(GROUP, {"FeatureGroupName": "custom-name",
                                        "OnlineStoreConfig": {"TtlDuration": {"Unit": "Weeks", "Value": 1}},
                                        "OfflineStoreConfig": {"TableFormat": "Iceberg"}})
    tpl.has_output("MerchantRiskFeatureGroupName", Match.any_value())


def test_spec_is_an_immutable_typed_value():
    definitions = dict(COURSE_SCHEMA)
    spec = FeatureGroupSpec(record_identifier_feature_name="customer_id", event_time_feature_name="event_time",
                            feature_definitions=definitions)
    definitions["extra"] = "String"
    assert dict(spec.feature_definitions) == COURSE_SCHEMA  # a copy
    with pytest.raises(TypeError):
        spec.feature_definitions["extra"] = "String"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.description = "changed"
    with pytest.raises(TypeError):
        DEFAULT_FEATURE_GROUPS["other"] = spec
    assert dict(DEFAULT_FEATURE_GROUPS["customer-features"].feature_definitions) == COURSE_SCHEMA
    with pytest.raises(TypeError, match="event_time_feature"):  # a typo is a signature error, not a silent default
        FeatureGroupSpec(record_identifier_feature_name="customer_id", event_time_feature="event_time",
                         feature_definitions=COURSE_SCHEMA)


SPEC = DEFAULT_FEATURE_GROUPS["customer-features"]


@pytest.mark.parametrize("feature_groups, owner_prop, fragment", [
    ({}, "FeatureStoreStack 'feature_groups'", "non-empty mapping"),
    (["customer-features"], "FeatureStoreStack 'feature_groups'", "non-empty mapping"),
    ({"bad name": SPEC}, "FeatureStoreStack 'feature_groups'", "'bad name'"),
    ({"x": {"record_identifier_feature_name": "customer_id"}}, "FeatureStoreStack 'feature_groups'", "FeatureGroupSpec"),
    ({"customer-features-" + "x" * 30: SPEC}, "FeatureStoreStack 'feature_groups'", "at most 38 characters"),
    ({"c": dataclasses.replace(SPEC, feature_definitions={**COURSE_SCHEMA, "event_time": "Integral"})},
     "FeatureGroup 'event_time_feature_name'", "String | Fractional"),
    ({"c": dataclasses.replace(SPEC, feature_group_name="custom name")}, "FeatureGroup 'feature_group_name'",
     "'custom name'"),
    ({"c": FeatureGroupSpec.from_dataframe(pd.DataFrame({"id": ["a"]}), record_identifier_feature_name="id",
                                           event_time_feature_name="id", online_store_enabled=False,
                                           offline_store_enabled=False)},
     "FeatureGroup 'offline_store_enabled'", "at least one store"),
])
def test_bad_input_names_the_prop(resources, feature_groups, owner_prop, fragment):
    app, imported = resources
    with pytest.raises(ValueError) as raised:
        FeatureStoreStack(app, "FeatureStore", config=CONFIG, resources=imported, feature_groups=feature_groups)
    message = str(raised.value)
    assert message.startswith(f"{owner_prop}: invalid value "), message
    assert fragment in message, message
