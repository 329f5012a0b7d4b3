"""StudioDomain, StudioStack and the studio settings: a VPC-only domain, its role, profiles, teardown, bad input."""

import dataclasses
import json
import re

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mlops_cdk import PlatformConfig, regions
from mlops_cdk.constructs.common.network_placement import NetworkPlacement
from mlops_cdk.constructs.studio.studio_domain import StudioDomain
from mlops_cdk.settings.studio import StudioSettings
from mlops_cdk.stacks.studio import StudioStack
from tests.harness import (ACCOUNT, REGION, logical_ids, own_resources, reference_context, resources_of_type,
                           role_permissions, synth)
from tests.region_gates import schema_types

DOMAIN, PROFILE = "AWS::SageMaker::Domain", "AWS::SageMaker::UserProfile"
ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TEAM_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/team-studio"
VPC_ID, TEAM_GROUP = "vpc-0123456789abcdef0", "sg-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]


def StudioConfig(**values):  # noqa: N802 (reads as the config it builds)
    """A PlatformConfig; with ``studio`` also a network, which the configuration requires next to it."""
    return PlatformConfig(**({"network": "create"} if values.get("studio") is not None else {}), **values)


def test_the_configuration_refuses_studio_without_a_network():
    with pytest.raises(ValueError, match=r"config 'studio'.*network"):
        PlatformConfig.from_context({"studio": {"user_profiles": ["alice"]}})
    assert PlatformConfig.from_context({"studio": '{"user_profiles": ["alice"]}', "network": "create"}).studio.user_profiles


def private_vpc(stack):
    return ec2.Vpc(stack, "Vpc", max_azs=2, restrict_default_security_group=False, subnet_configuration=[
        ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)])


def imported_vpc(scope, id="Vpc", vpc_id=VPC_ID):
    return ec2.Vpc.from_vpc_attributes(scope, id, vpc_id=vpc_id, availability_zones=["eu-west-1a", "eu-west-1b"],
                                       isolated_subnet_ids=SUBNETS)


@pytest.fixture(scope="module")
def built():
    """A bare stack (plain VPC, key, bucket), a bring-your-own stack (all imported) and the StudioStack, one synth."""
    objects = {}

    def build(app):
        bare = Stack(app, "Bare")
        vpc, key = private_vpc(bare), kms.Key(bare, "Key", enable_key_rotation=True)
        bucket = s3.Bucket(bare, "Data", encryption_key=key, enforce_ssl=True, server_access_logs_prefix="logs/",
                           block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
        objects["bare"] = StudioDomain(bare, "Studio", network=NetworkPlacement(vpc, ISOLATED), kms_key=key,
                                       data_bucket=bucket, name_prefix="mlops-fraud-studio",
                                       user_profiles=["alice", "bob"], idle_shutdown=Duration.minutes(90))
        byo = Stack(app, "Byo")
        group = ec2.SecurityGroup.from_security_group_id(byo, "TeamGroup", TEAM_GROUP)
        objects["byo"] = StudioDomain(
            byo, "Studio", network=NetworkPlacement(imported_vpc(byo), ISOLATED, (group,)),
            kms_key=kms.Key.from_key_arn(byo, "TeamKey", KEY_ARN), name_prefix="team-studio",
            execution_role=iam.Role.from_role_arn(byo, "TeamRole", TEAM_ROLE_ARN, mutable=False),
            idle_shutdown=None, removal_policy=RemovalPolicy.DESTROY)
        team = Stack(app, "Team")
        resources = dataclasses.replace(own_resources(team), network=NetworkPlacement(private_vpc(team), ISOLATED))
        config = StudioConfig(tags={"cost-center": "42"}, studio=StudioSettings(user_profiles=("carol",)))
        objects["stack"] = StudioStack(app, "Studio", config=config, resources=resources)

    return synth(build), objects


@pytest.fixture(scope="module")
def result(built):
    return built[0]


@pytest.fixture(scope="module")
def bare(result):
    return result.json("Bare")


def one(template, type_name):
    (found,) = resources_of_type(template, type_name).values()
    return found


def logical_id_of(template, type_name):
    (found,) = resources_of_type(template, type_name)
    return found


def idle(minutes):
    return {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED",
                                                        "IdleTimeoutInMinutes": minutes}}}


# ============================================================ the domain
def test_domain_is_vpc_only_with_iam_sign_in_the_key_and_the_placements_subnets(bare):
    props = one(bare, DOMAIN)["Properties"]
    isolated = sorted(k for k, v in resources_of_type(bare, "AWS::EC2::Subnet").items()
                      if {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in v["Properties"]["Tags"])
    assert len(isolated) == 2
    assert props["AppNetworkAccessType"] == "VpcOnly" and props["AuthMode"] == "IAM"
    assert props["KmsKeyId"] == {"Fn::GetAtt": [logical_id_of(bare, "AWS::KMS::Key"), "Arn"]}
    assert props["VpcId"] == {"Ref": logical_id_of(bare, "AWS::EC2::VPC")}
    assert sorted(s["Ref"] for s in props["SubnetIds"]) == isolated
    assert props["TagPropagation"] == "ENABLED"


def test_users_and_shared_spaces_run_as_the_role_in_the_group_with_idle_shutdown(bare):
    props = one(bare, DOMAIN)["Properties"]
    group = [{"Fn::GetAtt": [logical_id_of(bare, "AWS::EC2::SecurityGroup"), "GroupId"]}]
    role = {"Fn::GetAtt": [logical_id_of(bare, "AWS::IAM::Role"), "Arn"]}
    assert props["DefaultUserSettings"] == {
        "ExecutionRole": role, "SecurityGroups": group, "StudioWebPortal": "ENABLED", "DefaultLandingUri": "studio::",
        "JupyterLabAppSettings": idle(90), "CodeEditorAppSettings": idle(90)}
    assert props["DefaultSpaceSettings"] == {"ExecutionRole": role, "SecurityGroups": group,
                                             "JupyterLabAppSettings": idle(90)}


def test_profiles_from_the_list_in_the_domain(bare):
    profiles = resources_of_type(bare, PROFILE).values()
    domain = logical_id_of(bare, DOMAIN)
    assert sorted(p["Properties"]["UserProfileName"] for p in profiles) == ["alice", "bob"]
    assert all(p["Properties"]["DomainId"] == {"Fn::GetAtt": [domain, "DomainId"]} for p in profiles)


def test_everything_created_is_retained_by_default(bare):
    created = {k: v for k, v in bare["Resources"].items() if k.startswith("Studio")}  # logical ids follow paths
    kinds = {v["Type"] for v in created.values()}
    assert {DOMAIN, PROFILE, "AWS::EC2::SecurityGroup", "AWS::IAM::Role", "AWS::IAM::Policy"} <= kinds
    assert {(v.get("DeletionPolicy"), v.get("UpdateReplacePolicy")) for v in created.values()} == {("Retain", "Retain")}


def test_security_group_allows_nfs_and_app_traffic_within_itself_and_https_out_only(bare):
    group_id = logical_id_of(bare, "AWS::EC2::SecurityGroup")
    group = bare["Resources"][group_id]["Properties"]
    me = {"Fn::GetAtt": [group_id, "GroupId"]}
    rules = {("out", r["IpProtocol"], r["FromPort"], r["ToPort"], r.get("CidrIp")) for r in group["SecurityGroupEgress"]}
    assert "SecurityGroupIngress" not in group
    for direction, type_name, peer in (("in", "AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId"),
                                       ("out", "AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId")):
        for rule in resources_of_type(bare, type_name).values():
            props = rule["Properties"]
            assert props["GroupId"] == me and props[peer] == me
            rules.add((direction, props["IpProtocol"], props["FromPort"], props["ToPort"], "group"))
    assert rules == {("in", "tcp", 2049, 2049, "group"), ("out", "tcp", 2049, 2049, "group"),
                     ("in", "tcp", 8192, 65535, "group"), ("out", "tcp", 8192, 65535, "group"),
                     ("out", "tcp", 443, 443, "0.0.0.0/0")}


def test_default_role_is_least_privilege(bare):
    role_id = logical_id_of(bare, "AWS::IAM::Role")
    role = bare["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}]
    assert "ManagedPolicyArns" not in role
    allowed = role_permissions(bare, {"Ref": role_id})
    actions = {a for a, _ in allowed}
    assert not [a for a in actions if a.endswith(":*") or a == "*"]
    domain = logical_id_of(bare, DOMAIN)

    def on(action):
        return [json.loads(r) for a, r in sorted(allowed) if a == action]

    def sagemaker_arn(kind):
        return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":",
                                  {"Ref": "AWS::AccountId"}, f":{kind}/", {"Fn::GetAtt": [domain, "DomainId"]}, "/*"]]}

    assert on("sagemaker:CreateApp") == [sagemaker_arn("app")]
    assert on("sagemaker:CreateSpace") == [sagemaker_arn("space")]
    assert on("sagemaker:DescribeDomain") == [{"Fn::GetAtt": [domain, "DomainArn"]}]
    assert on("sagemaker:ListSpaces") == ["*"]
    assert {a for a in actions if a.startswith("sagemaker:")} == {
        "sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace", "sagemaker:DescribeSpace",
        "sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:DescribeApp", "sagemaker:DescribeDomain",
        "sagemaker:DescribeUserProfile", "sagemaker:AddTags", "sagemaker:ListApps", "sagemaker:ListSpaces",
        "sagemaker:ListUserProfiles", "sagemaker:ListDomains"}
    bucket = logical_id_of(bare, "AWS::S3::Bucket")
    writes = on("s3:PutObject")
    assert writes == [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/studio/*"]]}]
    assert "s3:DeleteObject" not in actions and "s3:DeleteObject*" not in actions
    key = {"Fn::GetAtt": [logical_id_of(bare, "AWS::KMS::Key"), "Arn"]}
    assert on("kms:CreateGrant") == [key] and on("kms:Decrypt") == [key]


def test_tagging_is_allowed_only_on_creation(bare):
    statements = [s for p in resources_of_type(bare, "AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "sagemaker:AddTags"]
    assert [s["Condition"] for s in statements] == [{"Null": {"sagemaker:TaggingAction": "false"}}]


def test_domain_name_is_the_prefix_and_a_digest(result):
    for stack, prefix in (("Bare", "mlops-fraud-studio"), ("Byo", "team-studio")):
        name = one(result.json(stack), DOMAIN)["Properties"]["DomainName"]
        assert re.fullmatch(rf"{prefix}-[0-9a-f]{{8}}", name), name


def test_lint_and_nag_clean(result):
    assert {name: result.lint(name) for name in result.stacks} == {name: [] for name in result.stacks}
    # The test VPCs have no flow logs (AwsSolutions-VPC7) and the imported one no route tables: not Studio's.
    assert [f for f in result.nag_findings if "/Vpc/" not in f] == []


# ============================================================ bring your own
def test_byo_network_groups_role_and_destroy(result):
    byo = result.json("Byo")
    props = one(byo, DOMAIN)["Properties"]
    assert props["VpcId"] == VPC_ID and props["SubnetIds"] == SUBNETS
    assert props["KmsKeyId"] == KEY_ARN
    assert props["DefaultUserSettings"]["SecurityGroups"] == [TEAM_GROUP]
    assert props["DefaultUserSettings"]["ExecutionRole"] == TEAM_ROLE_ARN
    off = {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "DISABLED"}}}
    assert props["DefaultUserSettings"]["JupyterLabAppSettings"] == off
    assert not resources_of_type(byo, "AWS::EC2::SecurityGroup") and not resources_of_type(byo, "AWS::IAM::Role")
    assert not resources_of_type(byo, PROFILE)
    assert one(byo, DOMAIN)["DeletionPolicy"] == "Delete"


def test_grants_for_a_given_role_and_a_persons_sign_in():
    stack = Stack(App(), "S")
    domain = StudioDomain(stack, "Studio", network=NetworkPlacement(imported_vpc(stack), ISOLATED),
                          kms_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN), name_prefix="s",
                          execution_role=iam.Role.from_role_arn(stack, "Role", TEAM_ROLE_ARN))
    person = iam.Role(stack, "Person", assumed_by=iam.AccountRootPrincipal())
    domain.grant_sign_in(person, "alice")
    domain.grant_studio_use(person)
    with pytest.raises(ValueError, match="StudioDomain 'user_profile'"):
        domain.grant_sign_in(person, "no_underscores")
    template = Template.from_stack(stack).to_json()
    permissions = role_permissions(template, {"Ref": stack.get_logical_id(person.node.default_child)})
    (sign_in,) = [json.loads(r) for a, r in permissions if a == "sagemaker:CreatePresignedDomainUrl"]
    assert sign_in["Fn::Join"][1][-2:] == [{"Fn::GetAtt": [stack.get_logical_id(domain.domain), "DomainId"]}, "/alice"]
    assert "sagemaker:CreateApp" in {a for a, _ in permissions}
    assert not resources_of_type(template, "AWS::IAM::Role").keys() - {stack.get_logical_id(person.node.default_child)}


# ============================================================ the name follows the create-only properties
def domain_name(**change):
    stack = Stack(App(), "S")
    props = dict(network=NetworkPlacement(imported_vpc(stack, vpc_id=change.pop("vpc_id", VPC_ID)), ISOLATED),
                 kms_key=kms.Key.from_key_arn(stack, "Key", change.pop("key_arn", KEY_ARN)), name_prefix="studio")
    return StudioDomain(stack, "Studio", **{**props, **change}).domain_name


def test_name_changes_with_a_create_only_property_only():
    base = domain_name()
    assert domain_name() == base
    assert domain_name(key_arn=KEY_ARN.replace("1234abcd", "9999abcd")) != base
    assert domain_name(vpc_id="vpc-0fedcba9876543210") != base
    assert domain_name(user_profiles=["dave"], idle_shutdown=Duration.hours(8),
                       removal_policy=RemovalPolicy.DESTROY) == base


# ============================================================ the stack
def test_stack_wires_config_resources_and_network(result, built):
    tpl = result.template("Studio")
    tpl.has_resource_properties(DOMAIN, {"DomainName": Match.string_like_regexp(
        r"^mlops-fraud-detection-dev-studio-[0-9a-f]{8}$"), "AppNetworkAccessType": "VpcOnly",
        "KmsKeyId": {"Fn::ImportValue": Match.string_like_regexp("TeamKey")},
        "Tags": Match.array_with([{"Key": "cost-center", "Value": "42"}])})
    tpl.has_resource_properties(PROFILE, {"UserProfileName": "carol",
                                          "Tags": Match.array_with([{"Key": "stage", "Value": "dev"}])})
    assert set(result.json("Studio")["Outputs"]) >= {"DomainId", "DomainUrl", "HomeEfsFileSystemId", "ExecutionRoleArn"}
    assert "StudioRegionCheck" in result.json("Studio")["Rules"]
    assert built[1]["stack"].studio.user_profiles.keys() == {"carol"}


def test_stack_keeps_its_logical_ids(result, json_snapshot):
    """Renaming a construct would replace the domain (and with it the users' spaces): ids are public API."""
    assert logical_ids(result.json("Studio")) == json_snapshot


def test_region_gate_matches_the_schemas():
    lacking = tuple(r for r in regions.COMMERCIAL_REGIONS
                    if not {"AWS::SageMaker::Domain", "AWS::SageMaker::UserProfile"} <= schema_types(r))
    assert lacking and regions.regions_without(regions.STUDIO) == lacking


def test_stack_refuses_a_platform_without_network_or_studio_and_a_region_without_studio():
    app = App(context=reference_context())
    resources = own_resources(Stack(app, "Team"))
    config = StudioConfig(studio=StudioSettings())
    with pytest.raises(ValueError, match=r"StudioStack 'resources.network'.*'studio'.*'network'"):
        StudioStack(app, "NoNetwork", config=config, resources=resources)
    with pytest.raises(ValueError, match=r"StudioStack 'config.studio'"):
        StudioStack(app, "NoStudio", config=StudioConfig(), resources=resources)
    networked = dataclasses.replace(resources, network=NetworkPlacement(imported_vpc(app.node.find_child("Team")),
                                                                        ISOLATED))
    with pytest.raises(regions.RegionUnsupported, match="ca-west-1"):
        StudioStack(app, "Canada", config=StudioConfig(region="ca-west-1", studio=StudioSettings()),
                    resources=networked)


# ============================================================ bad input
@pytest.fixture(scope="module")
def scratch():
    stack = Stack(App(), "Scratch")
    return stack, NetworkPlacement(imported_vpc(stack), ISOLATED), kms.Key.from_key_arn(stack, "Key", KEY_ARN)


@pytest.mark.parametrize("change, prop", [
    ({"network": None}, "network"),
    ({"network": "too-many"}, "network"),
    ({"kms_key": KEY_ARN}, "kms_key"),
    ({"data_bucket": "team-ml-data"}, "data_bucket"),
    ({"execution_role": TEAM_ROLE_ARN}, "execution_role"),
    ({"name_prefix": "bad_prefix"}, "name_prefix"),
    ({"name_prefix": "x" * 64}, "name_prefix"),
    ({"user_profiles": ["alice", "-bob"]}, "user_profiles"),
    ({"user_profiles": ["alice", "alice"]}, "user_profiles"),
    ({"user_profiles": "alice"}, "user_profiles"),
    ({"idle_shutdown": Duration.minutes(59)}, "idle_shutdown"),
    ({"idle_shutdown": Duration.days(366)}, "idle_shutdown"),
    ({"idle_shutdown": Duration.seconds(3630)}, "idle_shutdown"),
    ({"idle_shutdown": 60}, "idle_shutdown"),
    ({"removal_policy": "retain"}, "removal_policy"),
])
def test_bad_construct_input_names_the_prop(scratch, change, prop):
    stack, network, key = scratch
    if change.get("network") == "too-many":
        groups = tuple(ec2.SecurityGroup.from_security_group_id(stack, f"G{i}", f"sg-0{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}{i}") for i in range(5))
        change = {"network": NetworkPlacement(network.vpc, ISOLATED, groups)}
    props = {"network": network, "kms_key": key, "name_prefix": "studio", **change}
    with pytest.raises(ValueError, match=f"StudioDomain '{prop}'"):
        StudioDomain(stack, "Studio", **props)
    assert stack.node.try_find_child("Studio") is None


@pytest.mark.parametrize("raw, key", [
    ({"user_profiles": ["ok", "not ok"]}, "user_profiles"),
    ({"user_profiles": ["a" * 64]}, "user_profiles"),
    ({"user_profiles": "alice"}, "user_profiles"),
    ({"idle_shutdown_minutes": 59}, "idle_shutdown_minutes"),
    ({"idle_shutdown_minutes": 525_601}, "idle_shutdown_minutes"),
    ({"idle_shutdown_minutes": "60"}, "idle_shutdown_minutes"),
    ({"removal": "delete"}, "removal"),
    ({"user_profile": ["alice"]}, "user_profile"),
])
def test_bad_settings_name_the_key(raw, key):
    with pytest.raises(ValueError, match=rf"config 'studio\.{key}'"):
        StudioSettings.from_mapping(raw, path="studio.")


def test_settings_from_json_and_defaults():
    settings = StudioSettings.from_mapping({"user_profiles": ["alice"], "idle_shutdown_minutes": None,
                                            "removal": "destroy"}, path="studio.")
    assert settings == StudioSettings(user_profiles=("alice",), idle_shutdown_minutes=None, removal="destroy")
    assert not settings.retain and StudioSettings().retain and StudioSettings().idle_shutdown_minutes == 60
