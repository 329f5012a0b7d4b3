"""Where the platform's compute runs when a network is configured: the one object every construct takes.

Lambdas, pipeline steps, monitoring and Clarify jobs and endpoints all accept
``network: NetworkPlacement | None``. ``None`` (the default) keeps today's
behaviour: AWS-managed networking. With a placement, a construct runs its
compute in ``subnets`` of ``vpc``; it uses ``security_groups`` when given (an
existing network whose groups the user manages) and otherwise creates a group
of its own that allows only what that compute needs.
"""

from __future__ import annotations

import dataclasses

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

# The one port the platform's compute needs: every AWS API (interface endpoints, S3) speaks HTTPS.
HTTPS = ec2.Port.tcp(443)


@dataclasses.dataclass(frozen=True)
class NetworkPlacement:
    """Private subnets of a VPC (and optionally the security groups) the platform's compute runs in."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_groups: tuple[ec2.ISecurityGroup, ...] = ()

    def subnet_ids(self) -> list[str]:
        return [subnet.subnet_id for subnet in self.selected_subnets()]

    def selected_subnets(self) -> list[ec2.ISubnet]:
        """The subnets ``subnets`` selects in ``vpc``."""
        s = self.subnets
        if s.subnets is not None and not (s.one_per_az or s.subnet_filters or s.availability_zones):
            # Taken as given: select_subnets would hand jsii a result whose zones it reads, which fails
            # for subnets imported by id alone.
            return list(s.subnets)
        # jsii spreads a struct argument into keywords: select_subnets(selection) would be a TypeError.
        return list(self.vpc.select_subnets(
            availability_zones=s.availability_zones, one_per_az=s.one_per_az, subnet_filters=s.subnet_filters,
            subnet_group_name=s.subnet_group_name, subnets=s.subnets, subnet_type=s.subnet_type).subnets)

    def security_groups_for(self, scope: Construct, id: str, *, description: str,
                            peer_traffic: bool = False) -> list[ec2.ISecurityGroup]:
        """``security_groups`` when given; otherwise a new group ``id`` in ``scope`` for one compute.

        The new group has no inbound rule and one outbound rule: HTTPS (TCP 443). Its destination is any
        IPv4 address because S3, reached through the gateway endpoint, has public addresses (its prefix
        list id cannot be known offline); in the platform's own network the subnets route nowhere but to
        the VPC endpoints. ``peer_traffic`` also allows all traffic among the group's members (the
        instances of one distributed training job).
        """
        if self.security_groups:
            return list(self.security_groups)
        group = ec2.SecurityGroup(scope, id, vpc=self.vpc, description=description[:255],  # EC2's limit
                                  allow_all_outbound=False)
        group.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "HTTPS to AWS service endpoints")
        if peer_traffic:
            group.add_ingress_rule(group, ec2.Port.all_traffic(), "Between instances of one job")
            group.add_egress_rule(group, ec2.Port.all_traffic(), "Between instances of one job")
        return [group]
