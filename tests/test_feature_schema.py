"""What SageMaker accepts in a feature group (feature_schema), and schema inference from pandas DataFrames."""

import pandas as pd
import pytest
from aws_cdk import CfnParameter, CfnResource, Duration

from mlops_cdk import FeatureGroup, feature_definitions_from_dataframe
from mlops_cdk.constructs.features.feature_schema import ttl_duration
from tests.test_feature_group import BASE, SCHEMA, new_stack, pseudo_arn


def test_dataframe_dtypes_map_to_feature_types():
    frame = pd.DataFrame({
        "i64": pd.Series([1], dtype="int64"), "i32": pd.Series([1], dtype="int32"),
        "nullable_int": pd.Series([1], dtype="Int64"), "flag": pd.Series([True], dtype="bool"),
        "nullable_flag": pd.Series([True], dtype="boolean"), "f64": pd.Series([1.5], dtype="float64"),
        "f32": pd.Series([1.5], dtype="float32"), "obj": pd.Series(["a"], dtype="object"),
        "text": pd.Series(["a"], dtype="string"), "cat": pd.Series(["a"], dtype="category"),
        "ts": pd.to_datetime(["2024-01-15T10:30:00"]), "ts_utc": pd.to_datetime(["2024-01-15T10:30:00Z"], utc=True),
    })
    assert feature_definitions_from_dataframe(frame) == {
        "i64": "Integral", "i32": "Integral", "nullable_int": "Integral", "flag": "Integral", "nullable_flag": "Integral",
        "f64": "Fractional", "f32": "Fractional",
        "obj": "String", "text": "String", "cat": "String", "ts": "String", "ts_utc": "String",
    }


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"wait": pd.to_timedelta(["1 day"])}),
    pd.DataFrame({"z": pd.Series([1 + 2j])}),
    pd.DataFrame({0: ["a"]}),
    {"customer_id": ["a"]},
])
def test_dataframe_bad_input_names_data_frame(frame):
    with pytest.raises(ValueError, match="feature_definitions_from_dataframe 'data_frame': invalid value"):
        feature_definitions_from_dataframe(frame)


@pytest.mark.parametrize("ttl, expected", [
    (Duration.seconds(90), {"Unit": "Seconds", "Value": 90}),
    (Duration.minutes(90), {"Unit": "Minutes", "Value": 90}),
    (Duration.hours(48), {"Unit": "Days", "Value": 2}),
    (Duration.days(14), {"Unit": "Weeks", "Value": 2}),
    (Duration.days(30), {"Unit": "Days", "Value": 30}),
])
def test_ttl_uses_the_largest_whole_unit(ttl, expected):
    assert ttl_duration(ttl) == expected


def test_tokens_pass_through_unvalidated():
    stack = new_stack()
    name = CfnParameter(stack, "Name").value_as_string
    feature = CfnParameter(stack, "Feature").value_as_string
    units = CfnParameter(stack, "Units", type="Number").value_as_number
    group = FeatureGroup(
        stack, "G", feature_group_name=name, record_identifier_feature_name=feature, event_time_feature_name="t",
        feature_definitions={feature: "String", "t": "String"}, throughput_mode="Provisioned",
        provisioned_read_capacity_units=units, provisioned_write_capacity_units=units,
    )
    assert stack.resolve(group.resource.feature_group_name) == {"Ref": "Name"}
    policy = stack.resolve(group.offline_store_policy.document)
    glue = next(s for s in policy["Statement"] if s["Sid"] == "OfflineStoreGlueTable")
    assert glue["Resource"][-1] == pseudo_arn("glue", "table/sagemaker_featurestore/*")  # unknown name: the database


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
    (dict(record_identifier_feature_name="write_time"), "record_identifier_feature_name", "reserved"),
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
    (dict(feature_definitions=_defs(**{"a_" * 32 + "a": "String"})), "feature_definitions", "1-64 characters"),
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
    (dict(offline_store_prefix="features/*"), "offline_store_prefix", "'*'"),
    (dict(online_store_enabled=False, offline_store_enabled=False), "offline_store_enabled", "at least one store"),
    (dict(online_store_enabled="yes"), "online_store_enabled", "True | False"),
    (dict(disable_glue_table_creation="no"), "disable_glue_table_creation", "True | False"),
    # SageMaker: "The Iceberg table format is only supported when [DisableGlueTableCreation] is set to False".
    (dict(table_format="Iceberg", disable_glue_table_creation=True), "table_format", "Glue table creation on"),
    (dict(glue_table_name="customers"), "glue_database", "given together"),
    (dict(disable_glue_table_creation=True, glue_table_name="customers"), "glue_database", "given together"),
    (dict(disable_glue_table_creation=True, glue_database="analytics"), "glue_table_name", "given together"),
    (dict(disable_glue_table_creation=True, glue_database="Analytics", glue_table_name="t"), "glue_database", "a-z"),
]


@pytest.mark.parametrize("changes, prop, fragment", BAD_GROUP_PROPS,
                         ids=[f"{i}-{case[1]}" for i, case in enumerate(BAD_GROUP_PROPS)])
def test_bad_group_props_name_the_prop(changes, prop, fragment):
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        FeatureGroup(stack, "G", **{**BASE, **changes})
    message = str(raised.value)
    assert message.startswith(f"FeatureGroup '{prop}': invalid value "), message
    assert fragment in message, message
    assert not [c for c in stack.node.find_all() if isinstance(c, CfnResource)], "validation precedes resources"
