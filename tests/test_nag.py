"""mlops_cdk._nag spells cdk-nag finding ids as cdk-nag itself does (its one dependence on cdk-nag's internals).

cdk-nag 3 matches an acknowledgment to a finding by its exact id, and a wildcard
resource's id spells the resolved CloudFormation value (``<AWS::Region>``,
``A:ExportsOutput...`` for a cross-stack reference). ``flatten_cfn_reference``
ports cdk-nag's private spelling; these tests run the real cdk-nag, so a release
that spells ids differently fails here first.
"""

from __future__ import annotations

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from mlops_cdk._nag import acknowledge, acknowledge_wildcard_resources, flatten_cfn_reference
from tests.harness import synth


def _build(acknowledged: bool):
    def build(app):
        producer, consumer = Stack(app, "Producer"), Stack(app, "Consumer")
        bucket = s3.Bucket(producer, "Bucket", enforce_ssl=True)
        acknowledge(bucket, "AwsSolutions-S1", "A throwaway bucket of this test; logging is not under test.")
        role = iam.Role(consumer, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        resources = [f"{bucket.bucket_arn}/reports/*",  # another stack's bucket: an Fn::ImportValue
                     f"arn:{consumer.partition}:s3:::{consumer.region}-{consumer.account}-cache/*"]
        policy = iam.Policy(consumer, "Policy", roles=[role], statements=[
            iam.PolicyStatement(actions=["s3:GetObject"], resources=resources)])
        if acknowledged:
            acknowledge_wildcard_resources(policy, [(r, "Objects are written at run time under this prefix.")
                                                    for r in resources])
    return build


@pytest.fixture(scope="module")
def unacknowledged():
    return synth(_build(acknowledged=False))


def test_cdk_nag_reports_the_wildcards_under_the_ids_we_spell(unacknowledged):
    findings = sorted(f.split(" ")[0] for f in unacknowledged.nag_findings)
    assert findings == [
        "AwsSolutions-IAM5[Resource::Producer:ExportsOutputFnGetAttBucket83908E77Arn063C8555/reports/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<AWS::Region>-<AWS::AccountId>-cache/*]",
    ]


def test_acknowledgments_computed_at_synthesis_match_them_exactly():
    assert synth(_build(acknowledged=True)).nag_findings == []


@pytest.mark.parametrize(
    "value, spelled",
    [
        ({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b/*"]]}, "arn:<AWS::Partition>:s3:::b/*"),
        ({"Fn::GetAtt": ["Bucket83908E77", "Arn"]}, "<Bucket83908E77.Arn>"),
        ({"Fn::ImportValue": "Producer:ExportsOutputX"}, "Producer:ExportsOutputX"),
        ({"Fn::Sub": "arn:${AWS::Partition}:logs:*"}, "arn:<AWS::Partition>:logs:*"),
        ("plain/*", "plain/*"),
    ],
)
def test_flatten_spells_each_intrinsic(value, spelled):
    assert flatten_cfn_reference(value) == spelled


def test_a_reason_must_say_why():
    with pytest.raises(ValueError, match="reason must explain why"):
        acknowledge(Stack(), "AwsSolutions-IAM5[Resource::*]", "ok")
