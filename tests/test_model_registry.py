"""ModelRegistry and MetricGatedApproval: template assertions, snapshot, cfn-lint, cdk-nag, bad input."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re
import sys

import pytest
from aws_cdk import App, RemovalPolicy, Stack, Token
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from mlops_cdk.constructs.alert_topic import AlertTopic
from mlops_cdk.constructs.model_approval import COMPARISONS, METRIC_PATH_RE, MetricGatedApproval
from mlops_cdk.constructs.model_registry import CROSS_ACCOUNT_PACKAGE_ACTIONS, GROUP_NAME_RE, ModelRegistry
from mlops_cdk.constructs.secure_bucket import SecureBucket
from tests.harness import normalized, only_resource, resources_of_type, role_statements, synth

GROUP = "fraud-models"
STAGING, PROD = "111111111111", "222222222222"
HANDLER_PATH = pathlib.Path(__file__).resolve().parents[1] / "mlops_cdk" / "lambdas" / "model_approval" / "handler.py"


def _build(app):
    stack = Stack(app, "Registry")
    data = SecureBucket(stack, "Data")
    alerts = AlertTopic(stack, "Alerts", emails=["ml-team@example.com"])
    registry = ModelRegistry(
        stack, "Models", model_package_group_name=GROUP, description="Fraud detection model versions",
        tags={"team": "risk"}, cross_account_ids=[STAGING, PROD, STAGING],
    )
    MetricGatedApproval(
        stack, "Gate", registry=registry, alert_topic=alerts, metrics_bucket=data, metrics_prefix="evaluation/",
        threshold=0.9,
    )
    deployer = iam.Role(stack, "Deployer", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"))
    registry.grant_read(deployer)
    registry.grant_approve(deployer)
    trainer = iam.Role(stack, "Trainer", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    registry.grant_register(trainer)
    registry.on_approval_change("OnApproved", statuses=["Approved", "Rejected", "Approved"])
    registry.on_approval_change("OnAnyChange")


@pytest.fixture(scope="module")
def result():
    return synth(_build)


@pytest.fixture(scope="module")
def raw(result):
    return result.json()


@pytest.fixture(scope="module")
def tpl(result):
    return result.template()


def _as_text(value) -> str:
    return json.dumps(value, sort_keys=True)


def _group_arn_text():
    return ':sagemaker:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":model-package-group/fraud-models"'


def _package_arn_text():
    return ':sagemaker:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":model-package/fraud-models/*"'


def _logical_id(raw, type_name, path_part):
    (name,) = [k for k in resources_of_type(raw, type_name) if k.startswith(path_part)]
    return name


def _actions(statement):
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def _resources(statement):
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


# ---------------------------------------------------------------- ModelRegistry
def test_group_name_description_tags_and_retain(raw):
    group = only_resource(raw, "AWS::SageMaker::ModelPackageGroup")
    props = group["Properties"]
    assert props["ModelPackageGroupName"] == GROUP
    assert props["ModelPackageGroupDescription"] == "Fraud detection model versions"
    assert {"Key": "team", "Value": "risk"} in props["Tags"]
    assert group["DeletionPolicy"] == "Retain" and group["UpdateReplacePolicy"] == "Retain"


def test_cross_account_policy_principals_actions_and_resources(raw):
    policy = only_resource(raw, "AWS::SageMaker::ModelPackageGroup")["Properties"]["ModelPackageGroupPolicy"]
    assert policy["Version"] == "2012-10-17"
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"CrossAccountModelPackageGroup", "CrossAccountModelPackages"}
    for statement in statements.values():
        assert statement["Effect"] == "Allow"
        principals = [_as_text(p) for p in statement["Principal"]["AWS"]]
        assert len(principals) == 2  # duplicates removed
        for account in (STAGING, PROD):
            assert any(f":iam::{account}:root" in p and "AWS::Partition" in p for p in principals)
    group_statement = statements["CrossAccountModelPackageGroup"]
    assert _actions(group_statement) == ["sagemaker:DescribeModelPackageGroup"]
    assert _group_arn_text() in _as_text(group_statement["Resource"])
    package_statement = statements["CrossAccountModelPackages"]
    assert sorted(_actions(package_statement)) == sorted(CROSS_ACCOUNT_PACKAGE_ACTIONS) == [
        "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages",
        "sagemaker:UpdateModelPackage"]
    assert _package_arn_text() in _as_text(package_statement["Resource"])
    # The policy names the group by its formatted ARN, never by GetAtt on itself (a circular reference).
    assert "Fn::GetAtt" not in _as_text(policy)


def test_on_approval_change_rules(raw):
    rules = {k: v["Properties"] for k, v in resources_of_type(raw, "AWS::Events::Rule").items()}
    approved = rules[_logical_id(raw, "AWS::Events::Rule", "ModelsOnApproved")]
    assert approved["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": [GROUP], "ModelApprovalStatus": ["Approved", "Rejected"]},
    }
    assert "Targets" not in approved
    anything = rules[_logical_id(raw, "AWS::Events::Rule", "ModelsOnAnyChange")]
    assert anything["EventPattern"]["detail"] == {"ModelPackageGroupName": [GROUP]}
    assert "Targets" not in anything


def test_grants_are_scoped_to_the_group_and_its_packages(raw):
    deployer = role_statements(raw, _logical_id(raw, "AWS::IAM::Role", "Deployer"))
    trainer = role_statements(raw, _logical_id(raw, "AWS::IAM::Role", "Trainer"))
    granted: dict[str, list[str]] = {}
    for statement in deployer:
        for action in _actions(statement):
            granted.setdefault(action, []).extend(_as_text(r) for r in _resources(statement))
    assert set(granted) == {"sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage",
                            "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"}
    assert all(_group_arn_text() in r for r in granted["sagemaker:DescribeModelPackageGroup"])
    for action in ("sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"):
        assert granted[action] and all(_package_arn_text() in r for r in granted[action]), action
    (register,) = trainer
    assert _actions(register) == ["sagemaker:CreateModelPackage"]
    assert _package_arn_text() in _as_text(register["Resource"])


# ---------------------------------------------------------- MetricGatedApproval
def _gate_function(raw):
    return _logical_id(raw, "AWS::Lambda::Function", "GateFunction")


def _gate_queue(raw):
    return _logical_id(raw, "AWS::SQS::Queue", "GateFunctionDeadLetterQueue")


def test_gate_rule_matches_pending_versions_of_the_group(raw):
    rule = resources_of_type(raw, "AWS::Events::Rule")[_logical_id(raw, "AWS::Events::Rule", "GateTrigger")]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": [GROUP], "ModelApprovalStatus": ["PendingManualApproval"]},
    }
    assert rule["Properties"]["State"] == "ENABLED"


def test_gate_lambda_target_has_dlq_and_bounded_retries(raw):
    rule_id = _logical_id(raw, "AWS::Events::Rule", "GateTrigger")
    (target,) = raw["Resources"][rule_id]["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [_gate_function(raw), "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [_gate_queue(raw), "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400}
    # The same queue catches the function's failed asynchronous invocations.
    function = raw["Resources"][_gate_function(raw)]["Properties"]
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [_gate_queue(raw), "Arn"]}}
    # EventBridge may invoke the function, from this rule only, and write to the queue, from this rule only.
    permission = only_resource(raw, "AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    queue_policy = only_resource(raw, "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
    send = [s for s in queue_policy if s["Effect"] == "Allow"][0]
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_gate_function_environment(raw):
    function = raw["Resources"][_gate_function(raw)]["Properties"]
    assert function["Environment"]["Variables"] == {
        "METRIC_PATH": "binary_classification_metrics.accuracy.value",
        "THRESHOLD": "0.9",
        "COMPARISON": "GreaterThanOrEqualToThreshold",
        "TOPIC_ARN": {"Ref": _logical_id(raw, "AWS::SNS::Topic", "AlertsTopic")},
        "MODEL_PACKAGE_GROUP": GROUP,
    }
    assert function["Handler"] == "handler.handler"
    assert function["Runtime"].startswith("python3.")


def test_gate_function_iam_is_scoped(raw):
    role_id = _logical_id(raw, "AWS::IAM::Role", "GateFunctionRole")
    assert "ManagedPolicyArns" not in raw["Resources"][role_id]["Properties"]
    statements = role_statements(raw, role_id)
    data_key = _logical_id(raw, "AWS::KMS::Key", "DataKey")
    alerts_key = _logical_id(raw, "AWS::KMS::Key", "AlertsKey")
    data_bucket = [k for k, v in resources_of_type(raw, "AWS::S3::Bucket").items()
                   if "LoggingConfiguration" in v["Properties"]][0]
    allowed = {
        "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "sagemaker:DescribeModelPackage",
        "sagemaker:UpdateModelPackage", "s3:GetObject", "kms:Decrypt", "kms:GenerateDataKey", "sns:Publish",
    }
    seen = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = _actions(statement)
        seen |= set(actions)
        assert set(actions) <= allowed, statement
        assert not any("*" in a for a in actions), statement  # no action wildcards at all
        resources = _resources(statement)
        assert "*" not in resources, statement  # every action here supports resource-level permissions
        text = _as_text(resources)
        if any(a.startswith("sagemaker:") for a in actions):
            assert resources and all(_package_arn_text() in _as_text(r) for r in resources), statement
        if "s3:GetObject" in actions:
            assert resources == [{"Fn::Join": ["", [{"Fn::GetAtt": [data_bucket, "Arn"]}, "/evaluation/*"]]}]
        if any(a.startswith("kms:") for a in actions):
            assert resources in ([{"Fn::GetAtt": [data_key, "Arn"]}], [{"Fn::GetAtt": [alerts_key, "Arn"]}]), text
        if "sns:Publish" in actions:
            assert resources == [{"Ref": _logical_id(raw, "AWS::SNS::Topic", "AlertsTopic")}]
    assert seen == allowed
    decrypt_keys = {_as_text(s["Resource"]) for s in statements if "kms:Decrypt" in _actions(s)}
    assert len(decrypt_keys) == 2  # metrics bucket key and alert topic key


def test_gate_dead_letter_alarm_notifies_the_alert_topic(raw):
    (alarm,) = [a["Properties"] for k, a in resources_of_type(raw, "AWS::CloudWatch::Alarm").items()
                if k.startswith("GateDeadLetterAlarm")]
    assert alarm["Namespace"] == "AWS/SQS" and alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [_gate_queue(raw), "QueueName"]}}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": _logical_id(raw, "AWS::SNS::Topic", "AlertsTopic")}]


def test_gate_log_group_and_queue_are_retained_and_encrypted(raw):
    queue = raw["Resources"][_gate_queue(raw)]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["DeletionPolicy"] == "Retain"
    logs = [v for k, v in resources_of_type(raw, "AWS::Logs::LogGroup").items() if k.startswith("GateFunction")]
    assert logs and all(g["DeletionPolicy"] == "Retain" for g in logs)


def test_no_hard_coded_region_or_account(raw):
    text = json.dumps(raw).replace(STAGING, "").replace(PROD, "")  # the trusted accounts are the user's input
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)
    assert "arn:aws:" not in text


def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert result.lint() == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


def test_construct_and_handler_agree_on_the_contract():
    spec = importlib.util.spec_from_file_location("model_approval_handler_contract", HANDLER_PATH)
    handler = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = handler
    spec.loader.exec_module(handler)
    assert tuple(handler.COMPARISONS) == COMPARISONS
    assert handler.METRIC_PATH_RE.pattern == METRIC_PATH_RE.pattern
    assert handler.GROUP_NAME_RE.pattern == GROUP_NAME_RE.pattern


# ------------------------------------------------------------------- variants
@pytest.fixture(scope="module")
def variants():
    """Defaults, imported resources, the other direction, and registry and gate in different stacks."""
    def build(app):
        stack = Stack(app, "Variants")
        plain = ModelRegistry(stack, "Plain", removal_policy=RemovalPolicy.DESTROY)
        topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:us-east-1:123456789012:existing-alerts")
        bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "existing-metrics")
        MetricGatedApproval(stack, "LossGate", registry=plain, alert_topic=topic, metrics_bucket=bucket,
                            metric_path="regression_metrics.mse.value", threshold=2,
                            comparison="LessThanOrEqualToThreshold", event_retry_attempts=0)
        imported_role = iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::123456789012:role/ci")
        plain.grant_read(imported_role)
        plain.on_approval_change("Notify", statuses=["Approved"], target=targets.SnsTopic(topic))

        registry_stack = Stack(app, "RegistryStack")
        shared = ModelRegistry(registry_stack, "Shared", model_package_group_name="churn")
        gate_stack = Stack(app, "GateStack")
        MetricGatedApproval(gate_stack, "Gate", registry=shared, alert_topic=AlertTopic(gate_stack, "Alerts"),
                            metrics_bucket=SecureBucket(gate_stack, "Data"))
    return synth(build, nag=False)


def test_generated_name_no_policy_and_removal_policy(variants):
    raw = variants.json("Variants")
    group = only_resource(raw, "AWS::SageMaker::ModelPackageGroup")
    name = group["Properties"]["ModelPackageGroupName"]
    assert GROUP_NAME_RE.match(name) and len(name) <= 63
    assert "ModelPackageGroupPolicy" not in group["Properties"]
    assert group["DeletionPolicy"] == "Delete"


def test_gate_with_imported_topic_and_bucket(variants):
    raw = variants.json("Variants")
    function = only_resource(raw, "AWS::Lambda::Function")["Properties"]
    env = function["Environment"]["Variables"]
    assert env["THRESHOLD"] == "2.0" and env["COMPARISON"] == "LessThanOrEqualToThreshold"
    assert env["METRIC_PATH"] == "regression_metrics.mse.value"
    assert env["TOPIC_ARN"] == "arn:aws:sns:us-east-1:123456789012:existing-alerts"
    statements = [s for p in resources_of_type(raw, "AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    reads = [s for s in statements if "s3:GetObject" in _actions(s)]
    assert reads and all("existing-metrics/*" in _as_text(s["Resource"]) for s in reads)
    assert not [s for s in statements if any(a.startswith("kms:") for a in _actions(s))]  # no key known
    rules = resources_of_type(raw, "AWS::Events::Rule")
    gate_rule = rules[_logical_id(raw, "AWS::Events::Rule", "LossGateTrigger")]["Properties"]
    assert gate_rule["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"] == 0


def test_on_approval_change_with_a_target(variants):
    raw = variants.json("Variants")
    rule = resources_of_type(raw, "AWS::Events::Rule")[_logical_id(raw, "AWS::Events::Rule", "PlainNotify")]
    assert rule["Properties"]["EventPattern"]["detail"]["ModelApprovalStatus"] == ["Approved"]
    assert rule["Properties"]["Targets"][0]["Arn"] == "arn:aws:sns:us-east-1:123456789012:existing-alerts"


def test_registry_and_gate_in_different_stacks(variants):
    gate = variants.json("GateStack")
    (rule,) = resources_of_type(gate, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["detail"]["ModelPackageGroupName"] == ["churn"]
    # The gate only refers to the registry by name: no export/import, no dependency cycle.
    assert "Fn::ImportValue" not in json.dumps(gate)
    assert only_resource(variants.json("RegistryStack"), "AWS::SageMaker::ModelPackageGroup")


def test_tokens_pass_through_unvalidated():
    app = App()
    stack = Stack(app, "S")
    name = Token.as_string({"Ref": "GroupName"})
    account = Token.as_string({"Ref": "A"})
    registry = ModelRegistry(stack, "R", model_package_group_name=name, cross_account_ids=[account])
    MetricGatedApproval(stack, "G", registry=registry, alert_topic=AlertTopic(stack, "T"),
                        metrics_bucket=SecureBucket(stack, "B"), threshold=Token.as_number({"Ref": "Threshold"}))
    assert registry.model_package_group_name == name


# -------------------------------------------------------------------- bad input
def _gate(**overrides):
    def factory(stack):
        registry = ModelRegistry(stack, "R", model_package_group_name="ok")
        props = dict(registry=registry, alert_topic=AlertTopic(stack, "T"), metrics_bucket=SecureBucket(stack, "B"))
        props.update(overrides)
        MetricGatedApproval(stack, "G", **props)
    return factory


@pytest.mark.parametrize(
    "factory, prop",
    [
        (lambda s: ModelRegistry(s, "X", model_package_group_name="fraud_models"), "model_package_group_name"),
        (lambda s: ModelRegistry(s, "X", model_package_group_name="-fraud"), "model_package_group_name"),
        (lambda s: ModelRegistry(s, "X", model_package_group_name="fraud-"), "model_package_group_name"),
        (lambda s: ModelRegistry(s, "X", model_package_group_name="x" * 64), "model_package_group_name"),
        (lambda s: ModelRegistry(s, "X", model_package_group_name=""), "model_package_group_name"),
        (lambda s: ModelRegistry(s, "X", description="d" * 1025), "description"),
        (lambda s: ModelRegistry(s, "X", description="line\nbreak"), "description"),
        (lambda s: ModelRegistry(s, "X", tags={"aws:reserved": "x"}), "tags"),
        (lambda s: ModelRegistry(s, "X", tags=[("k", "v")]), "tags"),
        (lambda s: ModelRegistry(s, "X", cross_account_ids=["12345678901"]), "cross_account_ids"),
        (lambda s: ModelRegistry(s, "X", cross_account_ids=["1234567890123"]), "cross_account_ids"),
        (lambda s: ModelRegistry(s, "X", cross_account_ids=[111111111111]), "cross_account_ids"),
        (lambda s: ModelRegistry(s, "X", cross_account_ids="111111111111"), "cross_account_ids"),
        (lambda s: ModelRegistry(s, "X", cross_account_ids=["arn:aws:iam::111111111111:root"]), "cross_account_ids"),
        (lambda s: ModelRegistry(s, "X", removal_policy="retain"), "removal_policy"),
        (lambda s: ModelRegistry(s, "X").on_approval_change("R", statuses=["Deployed"]), "statuses"),
        (lambda s: ModelRegistry(s, "X").on_approval_change("R", statuses="Approved"), "statuses"),
        (lambda s: ModelRegistry(s, "X").on_approval_change("R", statuses=[]), "statuses"),
        (_gate(threshold="0.9"), "threshold"),
        (_gate(threshold=True), "threshold"),
        (_gate(threshold=float("nan")), "threshold"),
        (_gate(threshold=float("inf")), "threshold"),
        (_gate(comparison="GreaterThanThreshold"), "comparison"),
        (_gate(comparison=">="), "comparison"),
        (_gate(metric_path="binary_classification_metrics..accuracy"), "metric_path"),
        (_gate(metric_path="$.metrics.accuracy"), "metric_path"),
        (_gate(metric_path=""), "metric_path"),
        (_gate(metric_path=".".join(["k"] * 200)), "metric_path"),
        (_gate(metrics_prefix="/evaluation/"), "metrics_prefix"),
        (_gate(metrics_prefix="eval*/"), "metrics_prefix"),
        (_gate(event_retry_attempts=186), "event_retry_attempts"),
        (_gate(registry="fraud-models"), "registry"),
        (_gate(alert_topic="arn:aws:sns:us-east-1:123456789012:t"), "alert_topic"),
        (_gate(metrics_bucket="my-bucket"), "metrics_bucket"),
    ],
)
def test_bad_props_name_the_prop(factory, prop):
    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match=rf"^(ModelRegistry|MetricGatedApproval) '{prop}': invalid value "):
        factory(stack)
