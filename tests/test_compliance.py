"""Compliance packs: the reference platform passes HIPAA Security, NIST 800-53 R5 and PCI DSS 3.2.1 (and AwsSolutions).

The reference platform with every pack is synthesized once for the whole suite: ``stages=all`` in tests/test_app.py
(its compliance tests sit there) and one stage with ``network=create`` in tests/test_network.py. Here: pack names,
and bare stacks for the encryption a ``PlatformFunction`` gets from its key.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from mlops_cdk.config import PlatformConfig
from mlops_cdk.compliance import PACKS, add_nag_packs, parse_packs, use_customer_managed_policies
from mlops_cdk.constructs.common.platform_function import PlatformFunction
from mlops_cdk.constructs.foundation.secure_bucket import SecureBucket
from mlops_cdk.settings.replication import ReplicationSettings
from mlops_cdk.stacks.foundation import FoundationStack
from tests.harness import ACCOUNT, REGION, reference_context, resources_of_type, synth



# ------------------------------------------------------------------ pack names
@pytest.mark.parametrize("value, expected", [
    (None, ()), ("", ()), ([], ()), ("all", PACKS), (["all"], PACKS), ("hipaa", ("hipaa",)),
    (" pci-dss-3.2.1 , hipaa,hipaa", ("hipaa", "pci-dss-3.2.1")),
    ('["nist-800-53-r5", "hipaa"]', ("hipaa", "nist-800-53-r5")),
    (("nist-800-53-r5",), ("nist-800-53-r5",)),
])
def test_packs_are_read_from_a_name_a_list_or_json(value, expected):
    assert parse_packs(value) == expected


def test_all_is_every_pack():
    assert set(PACKS) == {"hipaa", "nist-800-53-r5", "pci-dss-3.2.1"}


@pytest.mark.parametrize("value", ["hippa", "all,hipaa", "ALL", '["hipaa", 3]', "[not json", '{"a": 1}', 3, {"hipaa"}])
def test_unknown_packs_name_the_key_and_what_is_allowed(value):
    with pytest.raises(ValueError, match=r"config 'compliance_packs': invalid value .*; allowed: all \(alone\), or one "
                                         r"or more of hipaa, nist-800-53-r5, pci-dss-3.2.1"):
        parse_packs(value)


# ------------------------------------------------------------------ a PlatformFunction and its key
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPLICATION = {"bucket_arn": "arn:aws:s3:::team-ml-replica",
               "key_arn": f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}


@pytest.fixture(scope="module")
def bare():
    built = {}

    def build(app: App) -> None:
        keyed = Stack(app, "Keyed")
        key = kms.Key(keyed, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
        built["function"] = PlatformFunction(keyed, "Fn", code="pipeline_notifier", description="keyed",
                                             encryption_key=key, reserved_concurrent_executions=1)
        built["function"].trigger(keyed, "Rule", description="hourly", schedule=events.Schedule.rate(Duration.hours(1)))
        PlatformFunction(keyed, "Second", code="pipeline_notifier", description="same key",
                         encryption_key=key, reserved_concurrent_executions=1)
        PlatformFunction(Stack(app, "Plain"), "Fn", code="pipeline_notifier", description="no key")
        imported = Stack(app, "Imported")
        built["imported"] = PlatformFunction(imported, "Fn", code="pipeline_notifier", description="imported key",
                                             encryption_key=kms.Key.from_key_arn(imported, "Key", KEY_ARN))
        PlatformFunction(imported, "Second", code="pipeline_notifier", description="imported key again",
                         encryption_key=kms.Key.from_key_arn(imported, "SameKey", KEY_ARN))
        immutable = iam.Role.from_role_arn(imported, "Role", f"arn:aws:iam::{ACCOUNT}:role/fixed", mutable=False)
        immutable.attach_inline_policy(iam.Policy(imported, "Ignored", statements=[
            iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::team-bucket/object"])]))
        built["replicated"] = FoundationStack(app, "Replicated", config=PlatformConfig.from_context(
            {**reference_context(), "replication": REPLICATION}))
        use_customer_managed_policies(keyed)
        use_customer_managed_policies(imported)
        use_customer_managed_policies(built["replicated"])
        add_nag_packs(app, "all")
    return synth(build), built


def _key_statements(template: dict) -> dict:
    (key,) = resources_of_type(template, "AWS::KMS::Key").values()
    return {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}


def _account_arn(service: str, resource: str) -> dict:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{service}:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, f":{resource}"]]}


def test_the_key_encrypts_logs_environment_and_dead_letters(bare):
    result, built = bare
    template = result.template("Keyed")
    key = {"Fn::GetAtt": [Stack.of(built["function"]).get_logical_id(
        built["function"].encryption_key.node.default_child), "Arn"]}
    template.resource_properties_count_is("AWS::Logs::LogGroup", {"KmsKeyId": key}, 2)
    template.resource_properties_count_is("AWS::SQS::Queue", {"KmsMasterKeyId": key}, 2)
    template.resource_properties_count_is("AWS::Lambda::Function", {"KmsKeyArn": key}, 2)
    # Lambda sends dead letters as the function's role: SQS wants the key for that.
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": key}])}})


def test_the_key_policy_admits_logs_and_eventbridge_of_this_account_once(bare):
    statements = _key_statements(bare[0].json("Keyed"))
    logs = statements["AllowCloudWatchLogsOfThisAccount"]
    assert logs["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": _account_arn("logs", "log-group:*")}}
    events_ = statements["AllowEventBridgeDeadLettersOfThisAccount"]
    assert events_["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(events_["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert events_["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                    "ArnLike": {"aws:SourceArn": _account_arn("events", "rule/*")}}
    (key,) = resources_of_type(bare[0].json("Keyed"), "AWS::KMS::Key").values()
    sids = [s.get("Sid") for s in key["Properties"]["KeyPolicy"]["Statement"]]
    assert len(sids) == len(set(sids)) == 3  # the account's root, logs, EventBridge: two functions add nothing twice


def test_without_a_key_aws_managed_encryption_stays(bare):
    template = bare[0].json("Plain")
    (group,) = resources_of_type(template, "AWS::Logs::LogGroup").values()
    (queue,) = resources_of_type(template, "AWS::SQS::Queue").values()
    (function,) = resources_of_type(template, "AWS::Lambda::Function").values()
    assert "KmsKeyId" not in group["Properties"] and "KmsKeyArn" not in function["Properties"]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True and "KmsMasterKeyId" not in queue["Properties"]
    assert resources_of_type(template, "AWS::IAM::Policy")  # no aspect here: the role's policy stays inline


def test_an_imported_key_gets_one_warning_per_statement_with_the_statement(bare):
    result, built = bare
    warnings = sorted(f for f in result.nag_findings if f.startswith("Annotation::"))
    assert warnings == [
        "Annotation::mlops-cdk:key-policy-AllowCloudWatchLogsOfThisAccount (warning) at Imported/Fn/Logs",
        "Annotation::mlops-cdk:key-policy-AllowEventBridgeDeadLettersOfThisAccount (warning) at "
        "Imported/Fn/DeadLetterQueue",
    ]
    (message,) = [str(e.data) for e in built["imported"].log_group.node.metadata if e.type == "aws:cdk:warning"]
    assert message.startswith(f"The key policy of {KEY_ARN} (imported: this app cannot change it) must allow ")
    statement = json.loads(message.split(" must allow ", 1)[1].split("; until it does", 1)[0])
    assert statement["Sid"] == "AllowCloudWatchLogsOfThisAccount" and statement["Resource"] == "*"
    assert "kms:EncryptionContext:aws:logs:arn" in statement["Condition"]["ArnLike"]
    template = result.json("Imported")
    assert {f["Properties"]["KmsKeyArn"] for f in resources_of_type(template, "AWS::Lambda::Function").values()} == {
        KEY_ARN}


def test_managed_policies_replace_inline_ones_and_keep_the_deploy_order(bare):
    result, built = bare
    keyed = result.json("Keyed")
    assert resources_of_type(keyed, "AWS::IAM::Policy") == {}
    managed = resources_of_type(keyed, "AWS::IAM::ManagedPolicy")
    stack = Stack.of(built["function"])
    role = stack.get_logical_id(built["function"].role.node.default_child)
    (policy_id,) = [k for k, v in managed.items() if v["Properties"]["Roles"] == [{"Ref": role}]]
    function = keyed["Resources"][stack.get_logical_id(built["function"].function.node.default_child)]
    assert policy_id in function["DependsOn"]  # the function is created once its role may send dead letters
    # A policy attached to an immutable imported role is never synthesized, nor turned into a managed one.
    assert "Ignored" not in json.dumps(result.json("Imported"))


# ------------------------------------------------------------------ replication: the fix the packs ask for
def test_replication_copies_every_version_into_the_given_bucket_and_key(bare):
    result, built = bare
    assert result.nag_findings_for("Replicated") == []  # replication on: nothing left to acknowledge on the data
    bucket = Stack.of(built["replicated"]).get_logical_id(built["replicated"].data_bucket.node.default_child)
    configuration = result.json("Replicated")["Resources"][bucket]["Properties"]["ReplicationConfiguration"]
    (rule,) = configuration["Rules"]
    assert rule["Destination"] == {"Bucket": REPLICATION["bucket_arn"],
                                   "EncryptionConfiguration": {"ReplicaKmsKeyID": REPLICATION["key_arn"]}}
    assert rule["Status"] == "Enabled" and rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    role = configuration["Role"]["Fn::GetAtt"][0]
    (policy,) = [p for p in resources_of_type(result.json("Replicated"), "AWS::IAM::ManagedPolicy").values()
                 if p["Properties"]["Roles"] == [{"Ref": role}]]
    writes = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
              if s["Resource"] == f"{REPLICATION['bucket_arn']}/*"]
    assert writes and "s3:ReplicateObject" in writes[0]["Action"]


def test_replication_settings_load_from_json():
    assert ReplicationSettings.from_mapping(REPLICATION, path="replication.") == ReplicationSettings(**REPLICATION)


@pytest.mark.parametrize("raw, key, allowed", [
    ({"bucket_arn": "team-ml-replica", "key_arn": REPLICATION["key_arn"]}, "bucket_arn", "the ARN of a versioned S3"),
    ({"bucket_arn": REPLICATION["bucket_arn"]}, "key_arn", "the ARN of a KMS key"),
    ({**REPLICATION, "key_arn": "arn:aws:kms:eu-central-1:111122223333:alias/replica"}, "key_arn", "the ARN of a KMS"),
    ({**REPLICATION, "key_arn": REPLICATION["key_arn"].replace("arn:aws:", "arn:aws-cn:")}, "key_arn",
     r"a key of the bucket's partition \(aws\)"),
    ({**REPLICATION, "bucket": "x"}, "bucket", "keys among bucket_arn, key_arn"),
])
def test_bad_replication_settings_name_the_key(raw, key, allowed):
    with pytest.raises(ValueError, match=rf"config 'replication.{key}': invalid value .*; allowed: {allowed}"):
        ReplicationSettings.from_mapping(raw, path="replication.")


def test_a_key_that_is_not_a_kms_ikey_is_refused():
    with pytest.raises(ValueError, match=r"PlatformFunction 'encryption_key': invalid value 'alias/team'; allowed: "
                                         r"a kms.IKey"):
        PlatformFunction(Stack(), "Fn", code="pipeline_notifier", description="x", encryption_key="alias/team")


def test_a_replication_destination_needs_both_bucket_and_key():
    stack = Stack(App(context=reference_context()))
    destination = s3.Bucket.from_bucket_arn(stack, "Replica", REPLICATION["bucket_arn"])
    with pytest.raises(ValueError, match="SecureBucket 'replication_key': invalid value None; allowed: given with"):
        SecureBucket(stack, "Data", replication_bucket=destination)
