"""ApprovalDeployTrigger: the rule, the parameters, the function's exact permissions; one synth for the module.

Two bare stacks in one app: a trigger on a registry created in the same stack with an encrypted
alert topic, and one on a registry imported by ARN from another account (the tooling-account
set-up: events forwarded, no topic, no reserved concurrency).
"""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from mlops_cdk.constructs.build.model_registry import ModelRegistry
from mlops_cdk.constructs.delivery.approval_trigger import ApprovalDeployTrigger
from mlops_cdk.constructs.delivery.approved_package import approved_package_parameter_name
from tests.harness import resources_of_type, role_permissions, synth

PIPELINE_ARN = "arn:aws:codepipeline:eu-west-1:111122223333:fraud-delivery"
REGISTRY_ACCOUNT = "222222222222"
REMOTE_GROUP_ARN = f"arn:aws:sagemaker:eu-west-1:{REGISTRY_ACCOUNT}:model-package-group/churn-models"


def _pseudo_arn(service: str, resource: str) -> dict:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{service}:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, resource]]}


@pytest.fixture(scope="module")
def built():
    o = {}

    def build(app):
        stack = o["stack"] = Stack(app, "Delivery")
        registry = ModelRegistry(stack, "Registry", model_package_group_name="fraud-models")
        pipeline = codepipeline.Pipeline.from_pipeline_arn(stack, "Pipeline", PIPELINE_ARN)
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        o["topic"] = sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True)
        o["trigger"] = ApprovalDeployTrigger(
            stack, "OnApproval", registry=registry, pipeline=pipeline, stages=["dev", "staging", "prod"],
            project_name="fraud", model_name="detector", alert_topic=o["topic"])
        o["synth_role"] = iam.Role(stack, "SynthRole", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"))
        o["trigger"].grant_read(o["synth_role"])

        tooling = o["tooling"] = Stack(app, "Tooling")
        remote = ModelRegistry.from_model_package_group_arn(tooling, "Registry", REMOTE_GROUP_ARN)
        o["remote"] = ApprovalDeployTrigger(
            tooling, "OnApproval", registry=remote, stages=["prod"], project_name="churn", model_name="scorer",
            pipeline=codepipeline.Pipeline.from_pipeline_arn(tooling, "Pipeline", PIPELINE_ARN),
            reserved_concurrency=None, event_retry_attempts=0)
    o["result"] = synth(build)
    return o


@pytest.fixture(scope="module")
def tpl(built):
    return built["result"].json("Delivery")


def _id(stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def test_one_parameter_per_stage_with_the_documented_name_and_placeholder(tpl):
    parameters = {p["Properties"]["Name"]: p["Properties"] for p in resources_of_type(tpl, "AWS::SSM::Parameter").values()}
    expected = {f"/mlops-cdk/fraud/detector/{s}/approved-model-package" for s in ("dev", "staging", "prod")}
    assert set(parameters) == expected | {"/mlops-cdk/fraud/detector/approval-trigger-state"}
    assert all(p["Value"] == "none" and p["Type"] == "String" and p["Tier"] == "Standard" for p in parameters.values())
    assert approved_package_parameter_name("fraud", "detector", "prod") == "/mlops-cdk/fraud/detector/prod/approved-model-package"


def test_the_rule_matches_approved_and_rejected_versions_of_the_group_and_keeps_undeliverable_events(built, tpl):
    stack, trigger = built["stack"], built["trigger"]
    (rule,) = resources_of_type(tpl, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["fraud-models"], "ModelApprovalStatus": ["Approved", "Rejected"]}}
    (target,) = rule["Properties"]["Targets"]
    queue = {"Fn::GetAtt": [_id(stack, trigger.function.dead_letter_queue), "Arn"]}
    assert target["Arn"] == {"Fn::GetAtt": [_id(stack, trigger.function.function), "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": queue}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8


def test_the_function_is_configured_one_event_at_a_time_with_its_dead_letter_queue(built, tpl):
    stack, trigger = built["stack"], built["trigger"]
    function = tpl["Resources"][_id(stack, trigger.function.function)]["Properties"]
    params = {s: {"Ref": _id(stack, trigger.parameters[s])} for s in ("dev", "staging", "prod")}
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [_id(stack, trigger.function.dead_letter_queue), "Arn"]}}
    assert function["Environment"]["Variables"] == {
        "MODEL_PACKAGE_GROUP_ARN": _pseudo_arn("sagemaker", ":model-package-group/fraud-models"),
        "STAGE_PARAMETERS": {"Fn::Join": ["", [params["dev"], ",", params["staging"], ",", params["prod"]]]},
        "STATE_PARAMETER": {"Ref": _id(stack, trigger.state_parameter)},
        "PIPELINE_NAME": "fraud-delivery",
        "TOPIC_ARN": {"Ref": _id(stack, built["topic"])},
    }
    alarms = resources_of_type(tpl, "AWS::CloudWatch::Alarm")
    assert [a["Properties"]["AlarmActions"] for a in alarms.values()] == [[{"Ref": _id(stack, built["topic"])}]]


def test_the_role_may_do_exactly_what_the_function_does(built, tpl):
    stack, trigger = built["stack"], built["trigger"]
    f = trigger.function
    param_arns = [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ssm:", {"Ref": "AWS::Region"}, ":",
                                     {"Ref": "AWS::AccountId"}, ":parameter", {"Ref": _id(stack, p)}]]}
                  for p in (*trigger.parameters.values(), trigger.state_parameter)]
    expected = [
        ("logs:CreateLogStream", {"Fn::GetAtt": [_id(stack, f.log_group), "Arn"]}),
        ("logs:PutLogEvents", {"Fn::GetAtt": [_id(stack, f.log_group), "Arn"]}),
        ("sqs:SendMessage", {"Fn::GetAtt": [_id(stack, f.dead_letter_queue), "Arn"]}),
        *[(a, arn) for a in ("ssm:GetParameter", "ssm:PutParameter") for arn in param_arns],
        ("codepipeline:StartPipelineExecution", PIPELINE_ARN),
        ("sagemaker:DescribeModelPackage", _pseudo_arn("sagemaker", ":model-package/fraud-models/*")),
        ("sns:Publish", {"Ref": _id(stack, built["topic"])}),
        ("kms:GenerateDataKey", {"Fn::GetAtt": [_id(stack, built["topic"].master_key), "Arn"]}),
        ("kms:Decrypt", {"Fn::GetAtt": [_id(stack, built["topic"].master_key), "Arn"]}),
    ]
    assert role_permissions(tpl, {"Ref": _id(stack, f.role)}) == {(a, json.dumps(r, sort_keys=True)) for a, r in expected}


def test_grant_read_lets_the_synth_step_read_the_stage_parameters_only(built, tpl):
    stack, trigger = built["stack"], built["trigger"]
    permissions = role_permissions(tpl, {"Ref": _id(stack, built["synth_role"])})
    assert {a for a, _ in permissions} == {"ssm:GetParameter", "ssm:GetParameters"}
    assert not any(_id(stack, trigger.state_parameter) in r for _, r in permissions)
    assert len(permissions) == 2 * 3
    assert trigger.parameter("prod") is trigger.parameters["prod"]
    with pytest.raises(ValueError, match="'stage'"):
        trigger.parameter("qa")


def test_a_registry_of_another_account_is_checked_against_its_own_arn(built):
    tpl = built["result"].json("Tooling")
    (function,) = resources_of_type(tpl, "AWS::Lambda::Function").values()
    assert function["Properties"]["Environment"]["Variables"]["MODEL_PACKAGE_GROUP_ARN"] == REMOTE_GROUP_ARN
    assert "TOPIC_ARN" not in function["Properties"]["Environment"]["Variables"]
    assert "ReservedConcurrentExecutions" not in function["Properties"]
    role = {"Ref": _id(built["tooling"], built["remote"].function.role)}
    described = {r for a, r in role_permissions(tpl, role) if a == "sagemaker:DescribeModelPackage"}
    assert described == {json.dumps(f"arn:aws:sagemaker:eu-west-1:{REGISTRY_ACCOUNT}:model-package/churn-models/*")}
    assert not any(a.startswith("sns:") for a, _ in role_permissions(tpl, role))
    assert resources_of_type(tpl, "AWS::CloudWatch::Alarm") == {}


def test_cfn_lint_and_cdk_nag_are_clean(built):
    result = built["result"]
    assert result.nag_findings == []
    for stack in ("Delivery", "Tooling"):
        assert result.lint(stack) == []


# ------------------------------------------------------------------ bad input
@pytest.fixture(scope="module")
def bare():
    stack = Stack(App(), "Bare")
    return {"stack": stack, "registry": ModelRegistry.from_model_package_group_name(stack, "R", "fraud-models"),
            "pipeline": codepipeline.Pipeline.from_pipeline_arn(stack, "P", PIPELINE_ARN)}


GOOD = {"stages": ["dev"], "project_name": "fraud", "model_name": "detector"}


@pytest.mark.parametrize("prop, value", [
    ("stages", ["qa"]), ("stages", []), ("stages", "prod"), ("stages", ["dev", "dev"]), ("stages", None),
    ("project_name", "fraud/team"), ("project_name", ""), ("model_name", "a" * 65), ("model_name", ".."),
    ("event_retry_attempts", 186), ("reserved_concurrency", 0), ("pipeline", "fraud-delivery"),
    ("registry", "fraud-models"),
])
def test_bad_input_names_the_prop(bare, prop, value):
    props = {**GOOD, "registry": bare["registry"], "pipeline": bare["pipeline"], prop: value}
    with pytest.raises(ValueError, match=f"ApprovalDeployTrigger '{prop}': invalid value"):
        ApprovalDeployTrigger(bare["stack"], f"T{abs(hash((prop, str(value))))}", **props)


def test_an_unknown_stage_error_lists_the_stages():
    with pytest.raises(ValueError, match=r"allowed: dev \| staging \| prod"):
        stack = Stack(App(), "S")
        ApprovalDeployTrigger(stack, "T", registry=ModelRegistry.from_model_package_group_name(stack, "R", "g"),
                              pipeline=codepipeline.Pipeline.from_pipeline_arn(stack, "P", PIPELINE_ARN),
                              stages=["production"], project_name="p", model_name="m")


@pytest.mark.parametrize("parts", [("p/x", "m", "dev"), ("p", "", "dev"), ("p", "m", "a/b"), (1, "m", "dev")])
def test_parameter_names_refuse_parts_that_would_change_their_shape(parts):
    with pytest.raises(ValueError, match="approved_package_parameter_name"):
        approved_package_parameter_name(*parts)
