"""ModelRegistry shared with other accounts: group, bucket and key policies line up; approval events forwarded.

One synth, two bare stacks in a concrete environment: a registry created here (with the older
``cross_account_ids`` too, so both policies coexist) on the team's own bucket and key, and an
imported registry, bucket and key (nothing can be changed: one warning with the statements).
"""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from mlops_cdk.constructs.build.model_registry import ModelRegistry
from tests.harness import ACCOUNT, REGION, imported_resources, only_resource, own_resources, resources_of_type, synth

STAGING, PROD, TOOLING = "111111111111", "222222222222", "333333333333"
ENV = Environment(account=ACCOUNT, region=REGION)
PREFIX = "fraud-training/"
READ = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"]
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/fraud-models"


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"  # a concrete region: aws-cdk-lib knows the partition


def _arn(resource: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{resource}"


@pytest.fixture(scope="module")
def built():
    o = {}

    def build(app):
        stack = o["stack"] = Stack(app, "Registry", env=ENV)
        team = o["team"] = own_resources(stack)
        registry = o["registry"] = ModelRegistry(stack, "Models", model_package_group_name="fraud-models",
                                                 cross_account_ids=[STAGING])
        registry.grant_cross_account_read([STAGING, PROD, STAGING], artifact_bucket=team.data_bucket,
                                          artifact_prefix=PREFIX)
        registry.grant_cross_account_read([TOOLING, PROD], artifact_bucket=team.data_bucket, artifact_prefix=PREFIX)
        o["rule"] = registry.forward_approval_events(ModelRegistry.default_event_bus(stack, "ToolingBus", TOOLING),
                                                     alert_topic=team.alert_topic)

        imported = o["imported"] = Stack(app, "Imported", env=ENV)
        theirs = imported_resources(imported)
        by_arn = ModelRegistry.from_model_package_group_arn(imported, "Models", GROUP_ARN)
        by_arn.grant_cross_account_read([PROD], artifact_bucket=theirs.data_bucket, artifact_prefix=PREFIX,
                                        artifact_key=theirs.data_key)
        by_arn.forward_approval_events(events.EventBus.from_event_bus_arn(
            imported, "Central", f"arn:aws:events:{REGION}:{TOOLING}:event-bus/mlops"), statuses=["Approved"])
    o["result"] = synth(build)
    return o


@pytest.fixture(scope="module")
def tpl(built):
    return built["result"].json("Registry")


def test_the_group_policy_keeps_the_old_statements_and_adds_one_read_statement(tpl):
    group = only_resource(tpl, "AWS::SageMaker::ModelPackageGroup")
    statements = {s["Sid"]: s for s in group["Properties"]["ModelPackageGroupPolicy"]["Statement"]}
    assert set(statements) == {"CrossAccountModelPackageGroup", "CrossAccountModelPackages", "CrossAccountRead"}
    assert statements["CrossAccountRead"] == {
        "Sid": "CrossAccountRead", "Effect": "Allow", "Action": READ,
        "Principal": {"AWS": [root(STAGING), root(PROD), root(TOOLING)]},
        "Resource": [_arn("model-package-group/fraud-models"), _arn("model-package/fraud-models/*")]}
    assert statements["CrossAccountModelPackageGroup"]["Principal"] == {"AWS": root(STAGING)}


def _shared_with(statement: dict) -> list[str]:
    principal = statement.get("Principal", {}).get("AWS", [])
    return principal if isinstance(principal, list) else [principal]


READERS = sorted(root(a) for a in (STAGING, PROD, TOOLING))


def test_bucket_and_key_policies_name_the_same_accounts_for_the_artifact_prefix_only(built, tpl):
    stack, team = built["stack"], built["team"]
    bucket_policy = only_resource(tpl, "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]["Statement"]
    bucket_arn = {"Fn::GetAtt": [stack.get_logical_id(team.data_bucket.node.default_child), "Arn"]}
    shared = [s for s in bucket_policy if any(":root" in p for p in _shared_with(s))]
    assert {(s["Action"], json.dumps(s["Resource"], sort_keys=True), json.dumps(s.get("Condition"))) for s in shared} == {
        ("s3:GetObject", json.dumps({"Fn::Join": ["", [bucket_arn, f"/{PREFIX}*"]]}, sort_keys=True), "null"),
        ("s3:ListBucket", json.dumps(bucket_arn, sort_keys=True),
         json.dumps({"StringLike": {"s3:prefix": [f"{PREFIX}*"]}})),
    }
    key = tpl["Resources"][stack.get_logical_id(team.data_key.node.default_child)]["Properties"]["KeyPolicy"]
    (key_statement,) = [s for s in key["Statement"] if any(":root" in p and ACCOUNT not in p for p in _shared_with(s))]
    assert key_statement["Action"] == ["kms:Decrypt", "kms:DescribeKey"] and key_statement["Resource"] == "*"
    assert key_statement["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    # the three policies name the same accounts, each once, across both calls
    group = only_resource(tpl, "AWS::SageMaker::ModelPackageGroup")["Properties"]["ModelPackageGroupPolicy"]
    (read,) = [s for s in group["Statement"] if s["Sid"] == "CrossAccountRead"]
    for statement in (*shared, key_statement, read):
        assert sorted(_shared_with(statement)) == READERS, statement


def test_approval_events_are_forwarded_to_the_other_accounts_default_bus_with_a_role_and_a_dead_letter_queue(built, tpl):
    stack = built["stack"]
    bus = f"arn:aws:events:{REGION}:{TOOLING}:event-bus/default"
    rule = tpl["Resources"][stack.get_logical_id(built["rule"].node.default_child)]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["fraud-models"], "ModelApprovalStatus": ["Approved", "Rejected"]}}
    (target,) = rule["Targets"]
    assert target["Arn"] == bus
    assert "RoleArn" in target and "Arn" in target["DeadLetterConfig"]
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    (policy,) = [p for p in resources_of_type(tpl, "AWS::IAM::Policy").values()
                 if {"Ref": role_id} in p["Properties"]["Roles"]]
    assert [(s["Action"], s["Resource"]) for s in policy["Properties"]["PolicyDocument"]["Statement"]] == [
        ("events:PutEvents", target["Arn"])]
    queues = resources_of_type(tpl, "AWS::SQS::Queue")
    assert all(q["Properties"].get("SqsManagedSseEnabled") for q in queues.values()) and len(queues) == 1
    assert len(resources_of_type(tpl, "AWS::CloudWatch::Alarm")) == 1


def test_imported_group_bucket_and_key_are_left_alone_with_one_warning_holding_the_statements(built):
    tpl = built["result"].json("Imported")
    assert not resources_of_type(tpl, "AWS::S3::BucketPolicy") and not resources_of_type(tpl, "AWS::KMS::Key")
    warnings = Annotations.from_stack(built["imported"]).find_warning("*", Match.string_like_regexp("cannot deploy"))
    (warning,) = warnings
    text = warning.entry.data
    for expected in (GROUP_ARN, "put-model-package-group-policy", "team-ml-data", "s3:GetObject", "s3:ListBucket",
                     "kms:Decrypt", *READ, f":iam::{PROD}:root", f"s3.{REGION}.amazonaws.com", f"{PREFIX}*"):
        assert expected in text, expected
    (rule,) = resources_of_type(tpl, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["detail"]["ModelApprovalStatus"] == ["Approved"]
    assert rule["Properties"]["Targets"][0]["Arn"] == f"arn:aws:events:{REGION}:{TOOLING}:event-bus/mlops"


def test_cfn_lint_and_cdk_nag_are_clean(built):
    result = built["result"]
    assert result.nag_findings == ["Annotation::mlops-cdk:cross-account-read (warning) at Imported/Models"]
    assert result.lint("Registry") == [] and result.lint("Imported") == []


# ------------------------------------------------------------------ bad input
@pytest.fixture(scope="module")
def bare():
    stack = Stack(App(), "Bare", env=ENV)
    return {"stack": stack, "registry": ModelRegistry(stack, "R", model_package_group_name="g"),
            "bucket": s3.Bucket.from_bucket_name(stack, "B", "artifacts"),
            "key": kms.Key.from_key_arn(stack, "K", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abc")}


@pytest.mark.parametrize("prop, accounts, prefix", [
    ("account_ids", ["12345"], PREFIX), ("account_ids", [111111111111], PREFIX), ("account_ids", [ACCOUNT], PREFIX),
    ("account_ids", [], PREFIX), ("account_ids", STAGING, PREFIX), ("artifact_prefix", [STAGING], ""),
    ("artifact_prefix", [STAGING], "/models/"), ("artifact_prefix", [STAGING], "models/*"),
])
def test_bad_sharing_input_names_the_prop(bare, prop, accounts, prefix):
    with pytest.raises(ValueError, match=f"ModelRegistry '{prop}': invalid value"):
        bare["registry"].grant_cross_account_read(accounts, artifact_bucket=bare["bucket"], artifact_prefix=prefix)


def test_a_rejected_call_changes_no_policy(bare):
    with pytest.raises(ValueError):
        bare["registry"].grant_cross_account_read([STAGING], artifact_bucket=bare["bucket"], artifact_prefix="")
    assert bare["registry"].cross_account_readers == ()


def test_bad_forwarding_input_names_the_prop(bare):
    stack = bare["stack"]
    with pytest.raises(ValueError, match="ModelRegistry 'account_id'"):
        ModelRegistry.default_event_bus(stack, "Own", ACCOUNT)
    own = events.EventBus.from_event_bus_arn(stack, "OwnBus", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default")
    with pytest.raises(ValueError, match="ModelRegistry 'target_bus'.*loop"):
        bare["registry"].forward_approval_events(own, id="Loop")
    with pytest.raises(ValueError, match="ModelRegistry 'target_bus'"):
        bare["registry"].forward_approval_events(f"arn:aws:events:{REGION}:{TOOLING}:event-bus/default", id="Str")
