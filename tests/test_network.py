"""Private networking (issue 13, `network`): PlatformNetwork, the setting, and every compute of the platform inside.

One synthesis for the module: the reference platform with ``network=create`` and a deployed endpoint (in
monitoring mode 'both' with ground truth and explainability, so Model Monitor's and Clarify's job definitions
exist), a bare PlatformNetwork and the existing-VPC variants, all in one app, with cdk-nag; then cfn-lint over
every template the network changes. Its pipeline definition is pre-rendered (no sagemaker SDK import).
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2

from mlops_cdk.app_builder import build_app, enable_nag
from mlops_cdk.config import PlatformConfig
from mlops_cdk.constructs.build.pipeline_definition import PipelineDefinition
from mlops_cdk.constructs.build.sagemaker_pipeline import SageMakerPipeline
from mlops_cdk.constructs.common.network_placement import NetworkPlacement
from mlops_cdk.constructs.common.platform_function import PlatformFunction
from mlops_cdk.constructs.network.platform_network import PlatformNetwork
from mlops_cdk.settings.network import CreateNetwork, ExistingNetwork, network_settings
from mlops_cdk.stacks.foundation import FoundationStack
from mlops_cdk.stacks.serving import ServingStack
from tests.harness import own_resources, reference_context, resources_of_type, synth
from tests.test_guardrails import boundary_of_name

# What tests/test_guardrails.py checks on the networked platform.
BOUNDARY_NAME, ROLE_PATH = "mlops-boundary", "/mlops/platform/"
TAGS = {"managed-by": "mlops-cdk", "cost-center": "42", "owner": "risk-team"}
GUARDRAILS = {"permissions_boundary": BOUNDARY_NAME, "role_path": ROLE_PATH, "tags": TAGS}
from tools.lint_templates import lint_template

PACKAGE = "arn:aws:sagemaker:us-east-1:111122223333:model-package/mlops-fraud-detection/3"
PREFIX = "mlops-fraud-detection-dev"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
GROUP = "sg-0123456789abcdef0"
EXISTING = {"vpc_id": "vpc-0a1b2c3d4e5f60718", "subnet_ids": SUBNETS}
# The AWS services the issue names (interface endpoint service-name suffixes), typed from it, not from the code.
SERVICES = {"sagemaker.api", "sagemaker.runtime", "sts", "monitoring", "logs", "kms", "sqs", "sns", "events",
            "ecr.api", "ecr.dkr"}
# Model Monitor's data- and model-quality jobs and Clarify's feature attribution (a bias facet would add Clarify's bias
# job, built by the same MonitorBase, but also change the pipeline: a definition that is not pre-rendered).
JOB_TYPES = ("AWS::SageMaker::DataQualityJobDefinition", "AWS::SageMaker::ModelQualityJobDefinition",
             "AWS::SageMaker::ModelExplainabilityJobDefinition")
BARE_CIDR = "10.20.0.0/22"
# A one-step definition whose job runs in the network (what build_training_pipeline(vpc=True) renders, in short).
NETWORKED_DEFINITION = json.dumps({"Version": "2020-12-01", "Steps": [{"Name": "Train", "Type": "Training", "Arguments": {
    "VpcConfig": {"Subnets": ["${SubnetIds}"], "SecurityGroupIds": ["${SecurityGroupIds}"]}}}]})


@pytest.fixture(scope="module")
def built():
    # The "regulated" combination in one synth: network=create with every compliance pack, plus the
    # IAM guardrails and extra tags (tests/test_guardrails.py asserts those on this same platform).
    context = {**reference_context(), "network": "create", "serving": {"dev": {"model_package_arn": PACKAGE}},
               "monitoring_mode": "both", "ground_truth_s3_uri": "s3://labels-bucket/fraud/",
               "explainability": {"shap_baseline": [[0] * 9]}, "compliance_packs": "all", **GUARDRAILS}
    handles = {}

    def build(app: App) -> None:
        handles["platform"] = build_app(app, context)["dev"]
        enable_nag(app, packs=handles["platform"].config.compliance_packs)
        handles["bare"] = PlatformNetwork(Stack(app, "BareNetwork"), "Network", cidr=BARE_CIDR, max_azs=3)
        existing = Stack(app, "ExistingNetwork")
        given = PlatformNetwork.from_existing(existing, "Given", **EXISTING, availability_zones=["eu-west-1a", "eu-west-1b"],
                                              security_group_ids=[GROUP])
        own = PlatformNetwork.from_existing(existing, "Own", **EXISTING)
        handles["given"] = PlatformFunction(existing, "GivenGroups", code="pipeline_notifier", description="t", network=given)
        handles["own"] = PlatformFunction(existing, "OwnGroup", code="pipeline_notifier", description="t", network=own)
        team = own_resources(existing)
        SageMakerPipeline(existing, "Distributed", definition=PipelineDefinition.from_json(NETWORKED_DEFINITION),
                          pipeline_name="distributed", role=team.execution_role, data_bucket=team.data_bucket,
                          network=own, peer_traffic=True)
        handles["foundation"] = FoundationStack(app, "ExistingFoundation",
                                                config=PlatformConfig(project_name="team", network=EXISTING))

    return synth(build, nag=False), handles


@pytest.fixture(scope="module")
def platform(built):
    result, _ = built
    return {name: result.json(name) for name in result.stacks if name.startswith(PREFIX)}


def _resources(template, type_name):
    return resources_of_type(template, type_name)


def _service(endpoint):
    parts = endpoint["Properties"]["ServiceName"]["Fn::Join"][1]
    return parts[-1].lstrip(".")


def _import_ids(values):
    """The exported names a list of ``Fn::ImportValue`` refers to (cross-stack references to the network)."""
    return [v["Fn::ImportValue"] for v in values]


# ------------------------------------------------------------------ the construct
def test_bare_network_has_isolated_subnets_in_every_zone_asked_for_and_no_way_out(built):
    """Three zones in a stack without account and region (which aws-cdk-lib alone would cap at two)."""
    template = built[0].json("BareNetwork")
    subnets = _resources(template, "AWS::EC2::Subnet").values()
    assert len(subnets) == 3
    assert sorted(json.dumps(s["Properties"]["AvailabilityZone"]) for s in subnets) == sorted(
        json.dumps({"Fn::Select": [i, {"Fn::GetAZs": ""}]}) for i in range(3))
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets)
    for kind in ("InternetGateway", "NatGateway", "EIP", "Route", "EgressOnlyInternetGateway", "VPCGatewayAttachment"):
        assert _resources(template, f"AWS::EC2::{kind}") == {}, kind
    (vpc,) = _resources(template, "AWS::EC2::VPC").values()
    assert vpc["Properties"]["CidrBlock"] == BARE_CIDR
    assert vpc["Properties"]["EnableDnsSupport"] and vpc["Properties"]["EnableDnsHostnames"]


def test_every_interface_endpoint_and_the_s3_gateway(built):
    template = built[0].json("BareNetwork")
    endpoints = _resources(template, "AWS::EC2::VPCEndpoint").values()
    interface = [e for e in endpoints if e["Properties"]["VpcEndpointType"] == "Interface"]
    (gateway,) = [e for e in endpoints if e["Properties"]["VpcEndpointType"] == "Gateway"]
    assert {_service(e) for e in interface} == SERVICES and len(interface) == len(SERVICES)
    subnets = sorted(_resources(template, "AWS::EC2::Subnet"))
    (group,) = _resources(template, "AWS::EC2::SecurityGroup")
    for endpoint in interface:
        assert endpoint["Properties"]["PrivateDnsEnabled"] is True
        assert sorted(ref["Ref"] for ref in endpoint["Properties"]["SubnetIds"]) == subnets
        assert endpoint["Properties"]["SecurityGroupIds"] == [{"Fn::GetAtt": [group, "GroupId"]}]
    assert _service(gateway) == "s3"
    assert sorted(ref["Ref"] for ref in gateway["Properties"]["RouteTableIds"]) == sorted(
        _resources(template, "AWS::EC2::RouteTable"))


def test_endpoints_admit_https_from_the_vpc_only(built):
    template = built[0].json("BareNetwork")
    (group,) = _resources(template, "AWS::EC2::SecurityGroup").values()
    assert group["Properties"]["SecurityGroupIngress"] == [
        {"CidrIp": BARE_CIDR, "Description": "HTTPS from the VPC", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}]
    assert all(rule["CidrIp"] == "255.255.255.255/32" for rule in group["Properties"]["SecurityGroupEgress"])


def test_flow_logs_of_all_traffic_to_a_retained_log_group(built):
    template = built[0].json("BareNetwork")
    (flow_log,) = _resources(template, "AWS::EC2::FlowLog").values()
    (group_id, group), = _resources(template, "AWS::Logs::LogGroup").items()
    (vpc,) = _resources(template, "AWS::EC2::VPC")
    assert flow_log["Properties"]["TrafficType"] == "ALL" and flow_log["Properties"]["ResourceId"] == {"Ref": vpc}
    assert flow_log["Properties"]["LogGroupName"] == {"Ref": group_id}
    assert group["DeletionPolicy"] == "Retain" and group["Properties"]["RetentionInDays"] == 365
    assert "KmsKeyId" not in group["Properties"]  # no key given
    # The delivery role writes this log group only, through a managed policy (no inline policy anywhere).
    (policy,) = _resources(template, "AWS::IAM::ManagedPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [group_id, "Arn"]}
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert _resources(template, "AWS::IAM::Policy") == {}


def test_the_default_security_group_is_stripped(built):
    template = built[0].json("BareNetwork")
    (vpc,) = _resources(template, "AWS::EC2::VPC")
    (restrict,) = _resources(template, "Custom::VpcRestrictDefaultSG").values()
    assert restrict["Properties"]["DefaultSecurityGroupId"] == {"Fn::GetAtt": [vpc, "DefaultSecurityGroup"]}


def test_the_foundation_network_encrypts_flow_logs_with_the_data_key(platform):
    foundation = platform[f"{PREFIX}-foundation"]
    (group,) = _resources(foundation, "AWS::Logs::LogGroup").values()
    (key_id,) = [k for k in _resources(foundation, "AWS::KMS::Key") if k.startswith("DataKey")]
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    statements = _resources(foundation, "AWS::KMS::Key")[key_id]["Properties"]["KeyPolicy"]["Statement"]
    assert any("logs." in json.dumps(s.get("Principal")) and "kms:GenerateDataKey*" in s["Action"] for s in statements)
    assert "VpcId" in foundation["Outputs"] and "SubnetIds" in foundation["Outputs"]


# ------------------------------------------------------------------ the platform in the network
@pytest.fixture(scope="module")
def network_subnets(platform):
    """The export names of the foundation's two isolated subnets, as every other stack imports them."""
    foundation = platform[f"{PREFIX}-foundation"]
    subnets = _resources(foundation, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    exports = {o["Value"]["Ref"]: o["Export"]["Name"] for o in foundation["Outputs"].values()
               if "Export" in o and isinstance(o["Value"], dict) and o["Value"].get("Ref") in subnets}
    return sorted(exports.values())


def _is_cdk_restrict_provider(function):
    """aws-cdk-lib's deploy-time provider that strips the default security group (it calls EC2 itself)."""
    return function["Properties"].get("Description", "").startswith(
        "Lambda function for removing all inbound/outbound rules from the VPC default security group")


def test_every_lambda_runs_in_the_network(platform, network_subnets):
    checked = exempt = 0
    for name, template in platform.items():
        groups = _resources(template, "AWS::EC2::SecurityGroup")
        for logical_id, function in _resources(template, "AWS::Lambda::Function").items():
            if _is_cdk_restrict_provider(function):
                exempt += 1
                continue
            vpc = function["Properties"]["VpcConfig"]
            assert sorted(_import_ids(vpc["SubnetIds"])) == network_subnets, (name, logical_id)
            (group,) = vpc["SecurityGroupIds"]
            rules = groups[group["Fn::GetAtt"][0]]["Properties"]
            assert "SecurityGroupIngress" not in rules, (name, logical_id)
            assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in rules["SecurityGroupEgress"]] == [
                ("tcp", 443, 443)], (name, logical_id)
            checked += 1
    assert checked == 6 and exempt == 1  # approval, baselines, drift, quality, gate, notifier


def test_no_role_uses_the_managed_vpc_access_policy_and_lambda_roles_manage_their_interfaces(platform):
    text = json.dumps(platform)
    assert "AWSLambdaVPCAccessExecutionRole" not in text
    gate = platform[f"{PREFIX}-retraining"]
    policies = {**_resources(gate, "AWS::IAM::Policy"), **_resources(gate, "AWS::IAM::ManagedPolicy")}
    assert policies and not _resources(gate, "AWS::IAM::Policy")  # the packs: customer managed policies only
    actions = {a for policy in policies.values()
               for s in policy["Properties"]["PolicyDocument"]["Statement"]
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
            "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"} <= actions


def test_every_model_monitor_and_clarify_job_runs_in_the_network(platform, network_subnets):
    monitoring = platform[f"{PREFIX}-monitoring"]
    (group_id,) = [k for k in _resources(monitoring, "AWS::EC2::SecurityGroup") if k.startswith("MonitoringJobs")]
    found = {}
    for type_name in JOB_TYPES:
        (definition,) = _resources(monitoring, type_name).values()
        found[type_name] = config = definition["Properties"]["NetworkConfig"]
        assert sorted(_import_ids(config["VpcConfig"]["Subnets"])) == network_subnets, type_name
        assert config["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}], type_name
        assert config["EnableInterContainerTrafficEncryption"] is True, type_name
    # Isolated where SageMaker allows it: feature attribution calls a shadow endpoint, the others need no network.
    assert {t: c["EnableNetworkIsolation"] for t, c in found.items()} == {
        t: t != "AWS::SageMaker::ModelExplainabilityJobDefinition" for t in JOB_TYPES}


def test_every_pipeline_job_runs_in_the_network_and_the_list_placeholders_resolve(platform, network_subnets):
    build = platform[f"{PREFIX}-model-build"]
    (pipeline,) = _resources(build, "AWS::SageMaker::Pipeline").values()
    body, variables = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    steps = {s["Name"]: s for s in json.loads(body)["Steps"]}
    lists = {"Subnets": ["${SubnetIds}"], "SecurityGroupIds": ["${SecurityGroupIds}"]}
    for name in ("PreprocessData", "EvaluateModel", "DataQualityBaseline"):
        network = steps[name]["Arguments"]["NetworkConfig"]
        assert network == {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True,
                           "VpcConfig": lists}, name
    training = steps["TrainModel"]["Arguments"]
    assert training["VpcConfig"] == lists and training["EnableNetworkIsolation"] is True
    assert training["EnableInterContainerTrafficEncryption"] is True
    (group_id,) = [k for k in _resources(build, "AWS::EC2::SecurityGroup") if k.startswith("PipelineJobs")]
    assert variables["SecurityGroupIds"] == {"Fn::Join": ['","', [{"Fn::GetAtt": [group_id, "GroupId"]}]]} or \
        variables["SecurityGroupIds"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    delimiter, subnets = variables["SubnetIds"]["Fn::Join"]
    assert sorted(_import_ids(subnets)) == network_subnets
    # What Fn::Sub does at deploy time, with ids standing in for the imports: the lists become JSON lists.
    resolved = body.replace("${SubnetIds}", delimiter.join(SUBNETS)).replace("${SecurityGroupIds}", GROUP)
    preprocess = {s["Name"]: s for s in json.loads(resolved)["Steps"]}["PreprocessData"]
    assert preprocess["Arguments"]["NetworkConfig"]["VpcConfig"] == {"Subnets": SUBNETS, "SecurityGroupIds": [GROUP]}
    # One instance per job: HTTPS out, nothing among instances (no rule the compliance packs would flag).
    group = _resources(build, "AWS::EC2::SecurityGroup")[group_id]["Properties"]
    assert [(r["IpProtocol"], r["FromPort"]) for r in group["SecurityGroupEgress"]] == [("tcp", 443)]
    assert "SecurityGroupIngress" not in group
    assert not _resources(build, "AWS::EC2::SecurityGroupIngress") and not _resources(build, "AWS::EC2::SecurityGroupEgress")


def test_the_endpoints_model_runs_in_the_network(platform, network_subnets):
    serving = platform[f"{PREFIX}-serving"]
    (model,) = _resources(serving, "AWS::SageMaker::Model").values()
    (group_id, group), = _resources(serving, "AWS::EC2::SecurityGroup").items()
    assert sorted(_import_ids(model["Properties"]["VpcConfig"]["Subnets"])) == network_subnets
    assert model["Properties"]["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]
    assert model["Properties"]["EnableNetworkIsolation"] is True
    assert "SecurityGroupIngress" not in group["Properties"]  # SageMaker hosting reaches the containers itself


def test_the_networked_platform_is_nag_and_lint_clean(built):
    """cdk-nag (AwsSolutions and every compliance pack: the issue's `-c compliance_packs=all -c network=create`)
    over the whole app; cfn-lint over every template the network changes, in one region (the
    network's resource types exist in every region; tests/test_app.py lints the platform across regions)."""
    result, _ = built
    assert [f for f in result.nag_findings if f" at {PREFIX}" in f] == []  # the platform: every pack
    assert [f for f in result.nag_findings if f.startswith("AwsSolutions")] == []  # the test's own stacks too
    changed = [name for name in result.stacks if name.startswith(PREFIX) and not name.endswith("-feature-store")]
    changed.append("ExistingNetwork")  # BareNetwork holds the foundation's construct, ExistingFoundation no network
    findings = {name: lint_template(result.template_paths[name], regions=("us-east-1",)) for name in changed}
    assert findings == {name: [] for name in changed} and len(changed) == 6


# ------------------------------------------------------------------ an existing VPC
def test_existing_network_uses_the_given_groups_or_creates_one(built):
    template = built[0].json("ExistingNetwork")
    functions = {k: f["Properties"]["VpcConfig"] for k, f in _resources(template, "AWS::Lambda::Function").items()}
    (given,) = [v for k, v in functions.items() if k.startswith("GivenGroups")]
    (own,) = [v for k, v in functions.items() if k.startswith("OwnGroup")]
    assert given == {"SecurityGroupIds": [GROUP], "SubnetIds": SUBNETS}
    (group_id,) = [k for k in _resources(template, "AWS::EC2::SecurityGroup") if k.startswith("OwnGroup")]
    assert own == {"SecurityGroupIds": [{"Fn::GetAtt": [group_id, "GroupId"]}], "SubnetIds": SUBNETS}


def test_a_distributed_pipeline_admits_traffic_among_its_instances_only(built):
    template = built[0].json("ExistingNetwork")
    (group_id,) = [k for k in _resources(template, "AWS::EC2::SecurityGroup") if k.startswith("Distributed")]
    group = {"Fn::GetAtt": [group_id, "GroupId"]}
    (ingress,) = [r["Properties"] for r in _resources(template, "AWS::EC2::SecurityGroupIngress").values()]
    (egress,) = [r["Properties"] for r in _resources(template, "AWS::EC2::SecurityGroupEgress").values()]
    assert ingress["GroupId"] == ingress["SourceSecurityGroupId"] == group and ingress["IpProtocol"] == "-1"
    assert egress["GroupId"] == egress["DestinationSecurityGroupId"] == group and egress["IpProtocol"] == "-1"
    (pipeline,) = _resources(template, "AWS::SageMaker::Pipeline").values()
    variables = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"][1]
    assert variables["SubnetIds"] == '","'.join(SUBNETS)  # literal ids of the imported subnets, joined at synth


def test_an_existing_vpc_is_imported_not_created(built):
    _, handles = built
    foundation = built[0].json("ExistingFoundation")
    assert not [t for t in map(lambda r: r["Type"], foundation["Resources"].values()) if t.startswith("AWS::EC2::")]
    assert foundation["Outputs"]["SubnetIds"]["Value"] == ",".join(SUBNETS)
    placement = handles["foundation"].resources.network
    assert placement.subnet_ids() == SUBNETS and placement.security_groups == ()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("raw, field", [
    ("creat", "network"),
    ({"create": {"cidr": "10.0.0.1/16"}}, "network.create.cidr"),
    ({"create": {"cidr": "10.0.0.0/8"}}, "network.create.cidr"),
    ({"create": {"max_azs": 1}}, "network.create.max_azs"),
    ({"create": {"maxazs": 3}}, "network.create.maxazs"),
    ({"vpc_id": "vpc-1", "subnet_ids": SUBNETS}, "network.vpc_id"),
    ({"vpc_id": EXISTING["vpc_id"]}, "network.subnet_ids"),
    ({**EXISTING, "subnet_ids": [SUBNETS[0], SUBNETS[0]]}, "network.subnet_ids"),
    ({**EXISTING, "availability_zones": ["eu-west-1a"]}, "network.availability_zones"),
    ({**EXISTING, "security_group_ids": ["default"]}, "network.security_group_ids"),
    ({**EXISTING, "security_groups": [GROUP]}, "network.security_groups"),
    ('{"vpc_id": ', "network"),
])
def test_bad_network_settings_name_the_field(raw, field):
    with pytest.raises(ValueError, match=f"'{re.escape(field)}'"):
        network_settings(raw)


def test_network_settings_from_cdk_json_and_the_command_line():
    assert network_settings("none") is None and network_settings(None) is None
    assert network_settings("create") == CreateNetwork() == network_settings({"create": None})
    assert network_settings(json.dumps(EXISTING)) == ExistingNetwork(vpc_id=EXISTING["vpc_id"], subnet_ids=tuple(SUBNETS))
    assert PlatformConfig.from_context({"network": '{"create": {"max_azs": 3}}'}).network == CreateNetwork(max_azs=3)
    with pytest.raises(ValueError, match="config 'network'"):
        PlatformConfig.from_context({"network": "private"})


def test_bad_construct_props_name_the_prop():
    stack = Stack(App(), "Bad")
    with pytest.raises(ValueError, match="PlatformNetwork 'cidr'"):
        PlatformNetwork(stack, "Cidr", cidr="10.0.0.0")
    with pytest.raises(ValueError, match="PlatformNetwork 'max_azs'"):
        PlatformNetwork(stack, "Azs", max_azs=7)
    with pytest.raises(ValueError, match="PlatformNetwork 'subnet_ids'"):
        PlatformNetwork.from_existing(stack, "Existing", vpc_id=EXISTING["vpc_id"], subnet_ids=["subnet-x"])
    with pytest.raises(ValueError, match="PlatformFunction 'network'"):
        PlatformFunction(stack, "Fn", code="pipeline_notifier", description="t", network="vpc-0a1b2c3d4e5f60718")
    resources = own_resources(stack)
    with pytest.raises(ValueError, match="PlatformResources 'network'"):
        dataclasses.replace(resources, network=ec2.SubnetSelection())
    with pytest.raises(ValueError, match="SageMakerPipeline 'network'"):
        SageMakerPipeline(stack, "Pipeline", definition=PipelineDefinition.from_json(NETWORKED_DEFINITION),
                          pipeline_name="p", role=resources.execution_role, data_bucket=resources.data_bucket)


def test_a_serverless_endpoint_cannot_join_the_network():
    app = App()
    stack = Stack(app, "Team")
    placement = NetworkPlacement(vpc=ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id=EXISTING["vpc_id"],
                                                                 availability_zones=["eu-west-1a"]),
                                 subnets=ec2.SubnetSelection(subnets=[ec2.Subnet.from_subnet_id(stack, "S", SUBNETS[0])]))
    resources = dataclasses.replace(own_resources(stack), network=placement)
    config = PlatformConfig(serving={"dev": {"serverless": {}, "model_package_arn": PACKAGE}})
    with pytest.raises(ValueError, match=r"ServingStack 'config.serving.dev.serverless'"):
        ServingStack(app, "Serving", config=config, resources=resources)


# ------------------------------------------------------------------ guardrails on the platform
def test_every_role_of_every_template_has_the_boundary_and_the_path(platform):
    roles = {(stack, logical_id): role for stack, template in platform.items()
             for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items()}
    assert len(roles) >= 10  # aws-cdk-lib's own (provider) roles: test_nested_stages_and_raw_provider_roles...
    missing = {key: {k: role["Properties"].get(k) for k in ("PermissionsBoundary", "Path")} for key, role in roles.items()
               if role["Properties"].get("PermissionsBoundary") != boundary_of_name(BOUNDARY_NAME)
               or role["Properties"].get("Path") != ROLE_PATH}
    assert missing == {}


def test_roles_are_referenced_not_rebuilt_from_their_names(platform):
    """A path changes a role's ARN: nothing may spell a role ARN from a name (':role/<name>') instead of GetAtt."""
    for stack, template in platform.items():
        text = json.dumps(template)
        assert ":role/" not in text, stack


def test_tags_reach_every_taggable_resource(platform):
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    expected = {"project": "mlops", "model": "fraud-detection", "stage": "dev", **TAGS}
    untagged, checked = [], 0
    for stack, template in platform.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CDK::Metadata":
                continue
            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region="us-east-1", resource_type=resource["Type"])
            if not (schema.schema.get("tagging") or {}).get("taggable"):
                continue
            checked += 1
            tags = resource.get("Properties", {}).get("Tags")
            pairs = ({t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else tags) or {}
            if not expected.items() <= pairs.items():
                untagged.append(f"{stack}/{logical_id} ({resource['Type']})")
    assert checked >= 20 and untagged == []
