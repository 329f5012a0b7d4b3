"""The EC2 permissions a role needs for its compute to attach to a VPC: Lambda's and SageMaker's sets.

Written as statements of our own rather than the ``AWSLambdaVPCAccessExecutionRole`` managed policy
(cdk-nag's AwsSolutions-IAM4 objects to AWS managed policies, and it also grants log-group creation):
the five EC2 actions the Lambda developer guide lists, and the ones SageMaker's VPC guide lists for
jobs and models. The describe actions support no resource-level permissions; the others name network
interfaces that do not exist yet, so they are limited to this account and region.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import IConstruct

from ..._nag import acknowledge
from ..._pseudo import Aws

LAMBDA_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
LAMBDA_INTERFACE_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                            "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
SAGEMAKER_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                              "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups")
SAGEMAKER_INTERFACE_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                               "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission")
# "arn:aws:ec2:<region>:<account>:*/*", the form the Lambda developer guide gives for DeleteNetworkInterface.
_ACCOUNT_EC2 = f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}:*/*"
_ACCOUNT_EC2_FINDING = "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:*/*]"


def network_interface_statements(service: str) -> list[iam.PolicyStatement]:
    """The statements of ``service`` (``lambda`` or ``sagemaker``) for network interfaces in a VPC."""
    describe, interfaces = ((LAMBDA_DESCRIBE_ACTIONS, LAMBDA_INTERFACE_ACTIONS) if service == "lambda"
                            else (SAGEMAKER_DESCRIBE_ACTIONS, SAGEMAKER_INTERFACE_ACTIONS))
    return [
        iam.PolicyStatement(sid="DescribeNetwork", actions=list(describe), resources=["*"]),
        iam.PolicyStatement(sid="ManageNetworkInterfaces", actions=list(interfaces), resources=[_ACCOUNT_EC2]),
    ]


def acknowledge_network_interfaces(scope: IConstruct, service: str) -> None:
    """The reasoned cdk-nag acknowledgments of :func:`network_interface_statements` on ``scope``."""
    who = "Lambda" if service == "lambda" else "SageMaker"
    acknowledge(scope, "AwsSolutions-IAM5[Resource::*]",
                f"{who} describes the VPC's subnets and network interfaces to attach its compute: the EC2 "
                "Describe actions support no resource-level permissions.")
    acknowledge(scope, _ACCOUNT_EC2_FINDING,
                f"{who} creates and deletes its compute's network interfaces in the VPC; their ids are assigned "
                "at run time, so the actions are limited to this account and region.")


__all__ = ["acknowledge_network_interfaces", "network_interface_statements"]
