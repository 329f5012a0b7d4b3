"""A private network for the platform: isolated subnets in two or more zones, reaching AWS only through endpoints.

No internet gateway, no NAT: every AWS API the platform's compute calls is an interface endpoint
in the VPC (private DNS on, so SDKs use their usual host names) or, for S3, the gateway endpoint.
The VPC's default security group is stripped of its rules, and flow logs record all traffic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Annotations, CfnResource, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..._pseudo import Aws
from ..._validation import invalid
from ...settings.network import ExistingNetwork, require_cidr, require_max_azs
from ..common.key_policies import allow_log_encryption
from ..common.network_placement import HTTPS, NetworkPlacement

_OWNER = "PlatformNetwork"
SUBNET_GROUP = "Private"
S = ec2.InterfaceVpcEndpointAwsService
# Construct id -> the AWS service each interface endpoint reaches, and who calls it.
PLATFORM_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerApi": S.SAGEMAKER_API,          # Lambdas: registry, pipelines; Clarify's shadow endpoint
    "SageMakerRuntime": S.SAGEMAKER_RUNTIME,  # Clarify feature attribution invokes the shadow endpoint
    "Sts": S.STS,                             # credentials of jobs and containers
    "CloudWatch": S.CLOUDWATCH_MONITORING,    # metrics of the checkers and monitoring jobs
    "Logs": S.CLOUDWATCH_LOGS,                # job and container logs
    "Kms": S.KMS,                             # data key of volumes, outputs and SDK-encrypted data
    "Sqs": S.SQS,                             # dead-letter queues
    "Sns": S.SNS,                             # alerts published by Lambdas
    "Events": S.EVENTBRIDGE,                  # drift events published by the checker
    "EcrApi": S.ECR,                          # image manifests of jobs
    "EcrDocker": S.ECR_DOCKER,                # image layers of jobs
}
FLOW_LOG_RETENTION = logs.RetentionDays.ONE_YEAR


class PlatformNetwork(Construct):
    """An ``ec2.Vpc`` of ``PRIVATE_ISOLATED`` subnets (group ``Private``) in ``max_azs`` zones, with endpoints.

    Creates: the VPC (``cidr``; a subnet in each of ``max_azs`` zones, which a stack without account and
    region picks by index from the region's list, so deploy where it has that many; DNS support on; no
    internet gateway, no NAT gateway; the default security group stripped of its rules by aws-cdk-lib's
    deploy-time custom resource), an interface endpoint per ``endpoints`` entry (default
    :data:`PLATFORM_ENDPOINTS`, private DNS on) sharing one security group that admits HTTPS from the
    VPC's CIDR only, an S3 gateway endpoint on the subnets' route tables, and flow logs of all traffic
    to a retained CloudWatch log group (``flow_log_retention``, default one year) encrypted with
    ``flow_log_key`` when given (its key policy then lets CloudWatch Logs of this account use it).

    Region gaps: an endpoint service a region lacks fails at deploy time in that region, never at
    synth; pass ``endpoints`` without it (SageMaker runtime, for one, is only needed for Clarify's
    feature attribution).

    Exposes ``vpc``, ``subnets`` (the selection), ``endpoint_security_group``, ``interface_endpoints``
    (id -> endpoint; ``add_interface_endpoint`` adds one), ``s3_endpoint``, ``flow_log``, ``flow_log_group``,
    ``flow_log_role`` and ``placement`` (a ``NetworkPlacement`` of the isolated subnets without shared
    security groups: each compute creates its own).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cidr: str = "10.0.0.0/16",
        max_azs: int = 2,
        endpoints: Mapping[str, ec2.InterfaceVpcEndpointAwsService] | None = None,
        flow_log_key: kms.IKey | None = None,
        flow_log_retention: logs.RetentionDays = FLOW_LOG_RETENTION,
    ) -> None:
        cidr = require_cidr(_OWNER, "cidr", cidr)
        require_max_azs(_OWNER, "max_azs", max_azs)
        endpoints = dict(PLATFORM_ENDPOINTS if endpoints is None else endpoints)
        for name, service in endpoints.items():
            if not isinstance(name, str) or not name.isidentifier() or not isinstance(
                    service, ec2.InterfaceVpcEndpointAwsService):
                raise invalid(_OWNER, "endpoints", {name: service},
                              "a mapping of construct id to ec2.InterfaceVpcEndpointAwsService")
        if not isinstance(flow_log_retention, logs.RetentionDays):
            raise invalid(_OWNER, "flow_log_retention", flow_log_retention, "a logs.RetentionDays")
        super().__init__(scope, id)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            **_zones(Stack.of(self), max_azs),
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name=SUBNET_GROUP,
                                                          subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            enable_dns_hostnames=True,
            enable_dns_support=True,
            restrict_default_security_group=True,
        )
        self.subnets = ec2.SubnetSelection(subnet_group_name=SUBNET_GROUP)
        _lint_restrict_default_group_provider(Stack.of(self))
        self.endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Interface endpoints of the platform network: HTTPS from the VPC only")
        # The literal block, not the VPC's CidrBlock attribute: the rule reads (and cdk-nag checks) as what it is.
        self.endpoint_security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), HTTPS, "HTTPS from the VPC")
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        for name, service in endpoints.items():
            self.add_interface_endpoint(name, service)
        self.s3_endpoint = self.vpc.add_gateway_endpoint(
            "S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.subnets])
        self._flow_logs(flow_log_key, flow_log_retention)
        self.placement = NetworkPlacement(vpc=self.vpc, subnets=self.subnets)

    def add_interface_endpoint(self, id: str, service: ec2.InterfaceVpcEndpointAwsService) -> ec2.InterfaceVpcEndpoint:
        """One more interface endpoint in the isolated subnets, behind the shared endpoint security group."""
        endpoint = self.vpc.add_interface_endpoint(
            id, service=service, subnets=self.subnets, private_dns_enabled=True, open=False,
            security_groups=[self.endpoint_security_group])
        self.interface_endpoints[id] = endpoint
        return endpoint

    def _flow_logs(self, key: kms.IKey | None, retention: logs.RetentionDays) -> None:
        if key is not None:
            allow_log_encryption(self, key)
        self.flow_log_group = logs.LogGroup(self, "FlowLogGroup", retention=retention, encryption_key=key,
                                            removal_policy=RemovalPolicy.RETAIN)
        # The delivery role's permissions in a managed policy of its own (the compliance packs object to inline
        # ones); aws-cdk-lib's grants would add an inline policy, so it gets the role without policy updates.
        self.flow_log_role = iam.Role(
            self, "FlowLogRole", description=f"Delivers the flow logs of {self.node.path}",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
        self.flow_log_role.add_managed_policy(iam.ManagedPolicy(
            self, "FlowLogPolicy", description="Writes VPC flow logs to their log group",
            statements=[iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[self.flow_log_group.log_group_arn])]))
        self.flow_log = self.vpc.add_flow_log(
            "FlowLog", traffic_type=ec2.FlowLogTrafficType.ALL,
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                self.flow_log_group, self.flow_log_role.without_policy_updates()))

    # ------------------------------------------------------------ importers
    @staticmethod
    def from_existing(
        scope: Construct,
        id: str,
        *,
        vpc_id: str,
        subnet_ids: Sequence[str],
        availability_zones: Sequence[str] = (),
        security_group_ids: Sequence[str] = (),
    ) -> NetworkPlacement:
        """A ``NetworkPlacement`` of an existing VPC by ids, imported offline (no look-up, nothing created).

        ``availability_zones`` (one per subnet, same order) only matter to constructs that read a subnet's
        zone; ``security_group_ids`` are used by every compute instead of groups of its own.
        """
        settings = ExistingNetwork.from_mapping(
            {"vpc_id": vpc_id, "subnet_ids": list(subnet_ids), "availability_zones": list(availability_zones),
             "security_group_ids": list(security_group_ids)}, owner=_OWNER)
        return PlatformNetwork.placement_of(scope, id, settings)

    @staticmethod
    def placement_of(scope: Construct, id: str, settings: ExistingNetwork) -> NetworkPlacement:
        """The ``NetworkPlacement`` of validated ``ExistingNetwork`` settings, imported under ``Construct(scope, id)``."""
        node = Construct(scope, id)
        zones = list(settings.availability_zones)
        # The placement selects its subnets explicitly, so the VPC needs no subnet ids; without zones it
        # stands for the region's (a token: nothing here iterates them).
        vpc = ec2.Vpc.from_vpc_attributes(node, "Vpc", vpc_id=settings.vpc_id,
                                          availability_zones=list(dict.fromkeys(zones)) or Fn.get_azs())
        subnets = [
            ec2.Subnet.from_subnet_attributes(node, f"Subnet{i}", subnet_id=subnet_id, availability_zone=zones[i])
            if zones else ec2.Subnet.from_subnet_id(node, f"Subnet{i}", subnet_id)
            for i, subnet_id in enumerate(settings.subnet_ids)
        ]
        groups = tuple(ec2.SecurityGroup.from_security_group_id(node, f"SecurityGroup{i}", group_id, mutable=False)
                       for i, group_id in enumerate(settings.security_group_ids))
        if not zones:
            Annotations.of(vpc).acknowledge_warning(
                "@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones",
                "The platform selects the given subnets by id and never lists the VPC's subnets per zone.")
        for subnet in subnets:
            Annotations.of(subnet).acknowledge_warning(
                "@aws-cdk/aws-ec2:noSubnetRouteTableId",
                "The platform places compute in the subnet and never reads or changes its route table.")
        return NetworkPlacement(vpc=vpc, subnets=ec2.SubnetSelection(subnets=subnets), security_groups=groups)


def _zones(stack: Stack, max_azs: int) -> dict[str, Any]:
    """``max_azs`` zones. A stack without account and region knows two (``Fn::GetAZs`` picks): beyond that,
    the zones are picked by index from the deploy region's list, which must be that long."""
    known = stack.availability_zones
    if len(known) >= max_azs or not all(Token.is_unresolved(zone) for zone in known):
        return {"max_azs": max_azs}
    return {"availability_zones": [Fn.select(i, Fn.get_azs()) for i in range(max_azs)]}


def _lint_restrict_default_group_provider(stack: Stack) -> None:
    """cfn-lint's W3005 on aws-cdk-lib's own provider (a DependsOn next to a GetAtt of its role) says nothing
    about this template: the one Lambda that strips the default security group's rules at deploy time."""
    provider = stack.node.try_find_child(_RESTRICT_PROVIDER)
    handler = provider.node.try_find_child("Handler") if provider is not None else None
    if isinstance(handler, CfnResource):
        handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


# aws-cdk-lib's stack-level provider of Vpc(restrict_default_security_group=True).
_RESTRICT_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"

__all__ = ["PLATFORM_ENDPOINTS", "PlatformNetwork"]
