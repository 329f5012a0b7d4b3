"""ModelRegistry (and its importers), MetricGatedApproval, BaselinePublisher: on plain and imported resources.

One synth for the module: a registry with every option and what acts on its
versions on plain aws-cdk-lib resources; the same on imported resources and an
imported registry (no FoundationStack anywhere); a bucket without a key; the
registry and its gate in different stacks.
"""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import App, RemovalPolicy, Stack, Tags, Token
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs

from mlops_cdk import BaselinePublisher, IModelRegistry, MetricGatedApproval, ModelRegistry
from tests.harness import ACCOUNT, REGION, imported_resources, logical_ids, own_resources, role_permissions, synth

GROUP = "fraud-models"
STAGING, PROD = "111111111111", "222222222222"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts"
CHURN_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/churn"


def _arn(resource: str) -> dict:
    """What ``Stack.format_arn`` gives in an environment-agnostic stack."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, f":{resource}"]]}


GROUP_ARN = _arn(f"model-package-group/{GROUP}")
PACKAGES = _arn(f"model-package/{GROUP}/*")


@pytest.fixture(scope="module")
def built():
    o = {}

    def build(app):
        stack = o["stack"] = Stack(app, "Registry")
        team = o["team"] = own_resources(stack)
        registry = o["registry"] = ModelRegistry(
            stack, "Models", model_package_group_name=GROUP, description="Fraud detection model versions",
            cross_account_ids=[STAGING, PROD, STAGING])
        Tags.of(registry).add("team", "risk")
        o["gate"] = MetricGatedApproval(
            stack, "Gate", registry=registry, alert_topic=team.alert_topic, metrics_bucket=team.data_bucket,
            metrics_prefix="evaluation/", threshold=0.9)
        o["baselines"] = BaselinePublisher(stack, "Baselines", registry=registry, data_bucket=team.data_bucket,
                                           source_prefix="fraud-training/", alert_topic=team.alert_topic)
        o["deployer"] = iam.Role(stack, "Deployer", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"))
        registry.grant_read(o["deployer"])
        registry.grant_approve(o["deployer"])
        o["trainer"] = iam.Role(stack, "Trainer", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
        registry.grant_register(o["trainer"])
        o["approved_rule"] = registry.on_approval_change("OnApproved", statuses=["Approved", "Rejected", "Approved"])
        o["any_rule"] = registry.on_approval_change("OnAnyChange")

        # A team's imported resources and registry: no FoundationStack, no ModelRegistry created.
        imported = o["imported_stack"] = Stack(app, "Imported")
        team_imported = o["team_imported"] = imported_resources(imported)
        by_name = o["by_name"] = ModelRegistry.from_model_package_group_name(imported, "Models", "team-models")
        o["imported_gate"] = MetricGatedApproval(
            imported, "Gate", registry=by_name, alert_topic=team_imported.alert_topic,
            metrics_bucket=team_imported.data_bucket, metric_path="regression_metrics.mse.value", threshold=2,
            comparison="LessThanOrEqualToThreshold", event_retry_attempts=0)
        o["imported_baselines"] = BaselinePublisher(
            imported, "Baselines", registry=by_name, data_bucket=team_imported.data_bucket,
            source_prefix="team-training/", alert_topic=team_imported.alert_topic)
        by_arn = o["by_arn"] = ModelRegistry.from_model_package_group_arn(imported, "Churn", CHURN_ARN)
        by_arn.grant_read(team_imported.execution_role)
        o["notifications"] = sns.Topic(imported, "Notifications", master_key=team_imported.data_key, enforce_ssl=True)
        by_arn.on_approval_change("Notify", statuses=["Approved"], target=targets.SnsTopic(o["notifications"]))

        # A bucket imported without its key: no KMS grant unless the key is given; a generated group name.
        bare = o["bare_stack"] = Stack(app, "Bare")
        bucket = s3.Bucket.from_bucket_name(bare, "Metrics", "existing-metrics")
        topic = sns.Topic.from_topic_arn(bare, "Topic", TOPIC_ARN)
        o["plain"] = ModelRegistry(bare, "Plain", removal_policy=RemovalPolicy.DESTROY)
        o["keyless_gate"] = MetricGatedApproval(bare, "Gate", registry=o["plain"], alert_topic=topic,
                                                metrics_bucket=bucket)
        o["keyed_gate"] = MetricGatedApproval(bare, "KeyedGate", registry=o["plain"], alert_topic=topic,
                                              metrics_bucket=bucket,
                                              metrics_key=kms.Key.from_key_arn(bare, "Key", KEY_ARN))

        # The registry in one stack, its gate in another.
        registry_stack = Stack(app, "RegistryStack")
        shared = ModelRegistry(registry_stack, "Shared", model_package_group_name="churn")
        gate_stack = o["gate_stack"] = Stack(app, "GateStack")
        team_gate = own_resources(gate_stack)
        MetricGatedApproval(gate_stack, "Gate", registry=shared, alert_topic=team_gate.alert_topic,
                            metrics_bucket=team_gate.data_bucket)

    o["result"] = synth(build)
    return o


@pytest.fixture(scope="module")
def result(built):
    return built["result"]


@pytest.fixture(scope="module")
def tpl(result):
    return result.template("Registry")


def _pairs(result, stack, role) -> set[tuple[str, str]]:
    """Every (action, resource) the template's policies allow ``role`` (created in, or imported into, ``stack``)."""
    reference = {"Ref": stack.get_logical_id(role.node.default_child)} if role.node.default_child else role.role_name
    return role_permissions(result.json(stack.stack_name), reference)


def _of(pairs, *prefixes) -> set[tuple[str, str]]:
    return {p for p in pairs if p[0].startswith(prefixes)}


def _ref(stack, construct) -> dict:
    return {"Ref": stack.get_logical_id(construct.node.default_child)}


def _att(stack, construct, attribute="Arn") -> dict:
    return {"Fn::GetAtt": [stack.get_logical_id(construct.node.default_child), attribute]}


def _objects(stack, bucket, pattern) -> str:
    return json.dumps({"Fn::Join": ["", [_att(stack, bucket), f"/{pattern}"]]}, sort_keys=True)


def _j(value) -> str:
    return json.dumps(value, sort_keys=True)


# ---------------------------------------------------------------- ModelRegistry
def test_group_keeps_its_construct_path_name_description_tags_and_is_retained(built, tpl):
    stack, registry = built["stack"], built["registry"]
    assert registry.node.default_child is registry.model_package_group
    assert stack.get_logical_id(registry.model_package_group).startswith("ModelsGroup")  # <id>/Group, as released
    tpl.has_resource("AWS::SageMaker::ModelPackageGroup", {
        "Properties": {"ModelPackageGroupName": GROUP, "ModelPackageGroupDescription": "Fraud detection model versions",
                       "Tags": Match.array_with([{"Key": "team", "Value": "risk"}])},
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
    })


def test_cross_account_policy_names_each_account_once(tpl):
    principals = {"AWS": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{account}:root"]]}
                          for account in (STAGING, PROD)]}
    tpl.has_resource_properties("AWS::SageMaker::ModelPackageGroup", {"ModelPackageGroupPolicy": {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "CrossAccountModelPackageGroup", "Effect": "Allow", "Principal": principals,
             "Action": "sagemaker:DescribeModelPackageGroup", "Resource": GROUP_ARN},
            {"Sid": "CrossAccountModelPackages", "Effect": "Allow", "Principal": principals,
             "Action": ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
                        "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"],
             "Resource": PACKAGES},
        ],
    }})


def test_attributes_and_reference(built):
    registry, stack = built["registry"], built["stack"]
    assert isinstance(registry, IModelRegistry)
    assert registry.model_package_group_name == GROUP
    assert stack.resolve(registry.model_package_group_arn) == GROUP_ARN
    assert stack.resolve(registry.model_package_arn_pattern) == PACKAGES
    ref = registry.model_package_group_ref
    assert isinstance(ref, sagemaker_refs.ModelPackageGroupReference)
    assert stack.resolve(ref.model_package_group_arn) == _ref(stack, registry)  # Ref gives the ARN


def test_on_approval_change_rules(built, tpl):
    approved = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
                "detail": {"ModelPackageGroupName": [GROUP], "ModelApprovalStatus": ["Approved", "Rejected"]}}
    tpl.has_resource_properties("AWS::Events::Rule", {"EventPattern": approved, "Targets": Match.absent()})
    tpl.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {**approved, "detail": {"ModelPackageGroupName": [GROUP]}}, "Targets": Match.absent()})


def test_grants_are_scoped_to_the_group_and_its_versions(built, result):
    stack = built["stack"]
    assert _pairs(result, stack, built["deployer"]) == {
        ("sagemaker:DescribeModelPackageGroup", _j(GROUP_ARN)),
        ("sagemaker:DescribeModelPackage", _j(PACKAGES)),
        ("sagemaker:ListModelPackages", _j(PACKAGES)),
        ("sagemaker:UpdateModelPackage", _j(PACKAGES)),
    }
    # Everything a RegisterModel step needs, on this one group and its versions.
    assert _pairs(result, stack, built["trainer"]) == {
        (action, _j(arn)) for action in ("sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup",
                                         "sagemaker:AddTags") for arn in (GROUP_ARN, PACKAGES)}


def test_imported_registries(built, result):
    imported, by_name, by_arn = built["imported_stack"], built["by_name"], built["by_arn"]
    assert isinstance(by_name, IModelRegistry) and isinstance(by_arn, IModelRegistry)
    assert by_name.model_package_group_name == "team-models"
    assert imported.resolve(by_name.model_package_arn_pattern) == _arn("model-package/team-models/*")
    assert (by_arn.model_package_group_name, by_arn.model_package_group_arn) == ("churn", CHURN_ARN)
    assert by_arn.model_package_arn_pattern == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/*"
    assert (by_arn.env.account, by_arn.env.region) == (ACCOUNT, REGION)
    template = result.template("Imported")
    template.resource_count_is("AWS::SageMaker::ModelPackageGroup", 0)
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"detail": {"ModelPackageGroupName": ["churn"], "ModelApprovalStatus": ["Approved"]}},
        "Targets": [Match.object_like({"Arn": _ref(imported, built["notifications"])})]})
    template.has_resource_properties("AWS::IAM::Policy", {
        "Roles": ["team-sagemaker"],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": "sagemaker:DescribeModelPackageGroup", "Resource": CHURN_ARN})])}})


def test_generated_name_without_policy_and_removal_policy(result):
    template = result.template("Bare")
    groups = template.find_resources("AWS::SageMaker::ModelPackageGroup")
    ((_, group),) = groups.items()
    name = group["Properties"]["ModelPackageGroupName"]
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", name) and len(name) <= 63 and "Plain" in name
    assert "ModelPackageGroupPolicy" not in group["Properties"]
    assert group["DeletionPolicy"] == "Delete"


# ---------------------------------------------------------- MetricGatedApproval
def test_gate_rule_targets_the_function_with_dead_letter_queue_and_retries(built, tpl):
    stack, gate = built["stack"], built["gate"]
    queue = _att(stack, gate.function.dead_letter_queue)
    tpl.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
                         "detail": {"ModelPackageGroupName": [GROUP], "ModelApprovalStatus": ["PendingManualApproval"]}},
        "State": "ENABLED",
        "Targets": [Match.object_like({
            "Arn": _att(stack, gate.function.function), "DeadLetterConfig": {"Arn": queue},
            "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400}})],
    })
    rule = _att(stack, gate.rule)
    tpl.has_resource_properties("AWS::Lambda::Permission", {"Principal": "events.amazonaws.com", "SourceArn": rule})
    tpl.has_resource_properties("AWS::SQS::QueuePolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                           "Condition": {"ArnEquals": {"aws:SourceArn": rule}}})])}})


def test_gate_function_environment(built, tpl):
    stack, team = built["stack"], built["team"]
    tpl.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": {
        "METRIC_PATH": "binary_classification_metrics.accuracy.value", "THRESHOLD": "0.9",
        "COMPARISON": "GreaterThanOrEqualToThreshold", "TOPIC_ARN": _ref(stack, team.alert_topic),
        "MODEL_PACKAGE_GROUP": GROUP}}})


def test_gate_role_may_review_its_group_read_reports_and_notify(built, result):
    stack, gate, team = built["stack"], built["gate"], built["team"]
    pairs = _pairs(result, stack, gate.function.role)
    key = _j(_att(stack, team.data_key))
    assert _of(pairs, "sagemaker:", "s3:", "kms:", "sns:") == {
        ("sagemaker:DescribeModelPackage", _j(PACKAGES)),
        ("sagemaker:UpdateModelPackage", _j(PACKAGES)),
        ("s3:GetObject", _objects(stack, team.data_bucket, "evaluation/*")),
        ("kms:Decrypt", key),  # the reports' key (and the topic's: the same key here)
        ("kms:GenerateDataKey", key),  # publishing to the encrypted topic
        ("sns:Publish", _j(_ref(stack, team.alert_topic))),
    }
    assert not any("*" in action for action, _ in pairs)


def test_gate_dead_letter_alarm_notifies_the_alert_topic(built, tpl):
    stack, gate, team = built["stack"], built["gate"], built["team"]
    tpl.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": _att(stack, gate.function.dead_letter_queue, "QueueName")}],
        "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": [_ref(stack, team.alert_topic)]})


def test_gate_on_imported_resources_and_registry(built, result):
    imported, gate = built["imported_stack"], built["imported_gate"]
    template = result.template("Imported")
    template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": {
        "METRIC_PATH": "regression_metrics.mse.value", "THRESHOLD": "2.0", "COMPARISON": "LessThanOrEqualToThreshold",
        "TOPIC_ARN": TOPIC_ARN, "MODEL_PACKAGE_GROUP": "team-models"}}})
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"detail": {"ModelPackageGroupName": ["team-models"],
                                    "ModelApprovalStatus": ["PendingManualApproval"]}},
        "Targets": [Match.object_like({"RetryPolicy": Match.object_like({"MaximumRetryAttempts": 0})})]})
    assert _of(_pairs(result, imported, gate.function.role), "s3:", "kms:", "sns:") == {
        ("s3:GetObject", _j({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::team-ml-data/*"]]})),
        ("kms:Decrypt", _j(KEY_ARN)),  # the bucket's key: the imported bucket names it
        ("sns:Publish", _j(TOPIC_ARN)),  # an imported topic: no key known, no KMS grant for it
    }


def test_gate_on_a_bucket_without_key(built, result):
    bare = built["bare_stack"]
    assert not _of(_pairs(result, bare, built["keyless_gate"].function.role), "kms:")
    assert _of(_pairs(result, bare, built["keyed_gate"].function.role), "kms:") == {("kms:Decrypt", _j(KEY_ARN))}


def test_registry_and_gate_in_different_stacks(result):
    gate = result.template("GateStack")
    gate.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": Match.object_like({"detail": Match.object_like({"ModelPackageGroupName": ["churn"]})})})
    # The gate refers to the registry by name and formatted ARNs: no export, no stack dependency needed.
    assert "Fn::ImportValue" not in json.dumps(result.json("GateStack"))
    result.template("RegistryStack").resource_count_is("AWS::SageMaker::ModelPackageGroup", 1)


# ------------------------------------------------------------ BaselinePublisher
# Exactly the keys the publisher writes (no wildcard): the four baselines and the manifest.
PUBLISHED = ("baselines/data-quality/statistics.json", "baselines/data-quality/constraints.json",
             "baselines/drift/baseline_histogram.json", "baselines/bias/bias_baseline.json", "baselines/current.json")


def test_baselines_on_approval_copy_from_the_pipeline_prefix_to_baselines(built, tpl, result):
    stack, baselines, team = built["stack"], built["baselines"], built["team"]
    tpl.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": {
        "MODEL_PACKAGE_GROUP": GROUP, "DATA_BUCKET": _ref(stack, team.data_bucket), "SOURCE_PREFIX": "fraud-training/",
        "STATISTICS_KEY": "baselines/data-quality/statistics.json",
        "CONSTRAINTS_KEY": "baselines/data-quality/constraints.json",
        "HISTOGRAM_KEY": "baselines/drift/baseline_histogram.json",
        "BIAS_BASELINE_KEY": "baselines/bias/bias_baseline.json", "MANIFEST_KEY": "baselines/current.json"}}})
    tpl.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": Match.object_like({"detail": {"ModelPackageGroupName": [GROUP],
                                                      "ModelApprovalStatus": ["Approved"]}}),
        "Targets": [Match.object_like({"Arn": _att(stack, baselines.function.function)})]})
    key = _j(_att(stack, team.data_key))
    assert _of(_pairs(result, stack, baselines.function.role), "sagemaker:", "s3:", "kms:") == {
        ("sagemaker:DescribeModelPackageGroup", _j(GROUP_ARN)),
        ("sagemaker:DescribeModelPackage", _j(PACKAGES)),
        ("sagemaker:ListModelPackages", _j(PACKAGES)),
        ("s3:GetObject", _objects(stack, team.data_bucket, "fraud-training/*")),
        *(("s3:PutObject", _objects(stack, team.data_bucket, target)) for target in PUBLISHED),
        ("kms:Decrypt", key), ("kms:GenerateDataKey", key),
    }


def test_baselines_on_imported_resources(built, result):
    imported = built["imported_stack"]
    pairs = _pairs(result, imported, built["imported_baselines"].function.role)
    partition = {"Ref": "AWS::Partition"}
    assert _of(pairs, "s3:", "kms:") == {
        ("s3:GetObject", _j({"Fn::Join": ["", ["arn:", partition, ":s3:::team-ml-data/team-training/*"]]})),
        *(("s3:PutObject", _j({"Fn::Join": ["", ["arn:", partition, f":s3:::team-ml-data/{target}"]]}))
          for target in PUBLISHED),
        ("kms:Decrypt", _j(KEY_ARN)), ("kms:GenerateDataKey", _j(KEY_ARN)),
    }


# ------------------------------------------------------------------ whole templates
def test_no_hard_coded_region_or_account(result):
    text = json.dumps(result.json("Registry")).replace(STAGING, "").replace(PROD, "")
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)
    assert "arn:aws:" not in text


def test_nag_clean(result):
    assert result.nag_findings == []


@pytest.mark.parametrize("stack", ["Registry", "Imported", "Bare", "GateStack"])
def test_lint_clean(result, stack):
    assert result.lint(stack) == []


@pytest.mark.parametrize("stack", ["Registry", "Imported"])
def test_logical_ids(result, stack, json_snapshot):
    assert logical_ids(result.json(stack)) == json_snapshot


def test_tokens_pass_through_unvalidated():
    stack = Stack(App(), "S")
    name = Token.as_string({"Ref": "GroupName"})
    registry = ModelRegistry(stack, "R", model_package_group_name=name,
                             cross_account_ids=[Token.as_string({"Ref": "A"})])
    team = own_resources(stack)
    MetricGatedApproval(stack, "G", registry=registry, alert_topic=team.alert_topic, metrics_bucket=team.data_bucket,
                        threshold=Token.as_number({"Ref": "Threshold"}))
    assert registry.model_package_group_name == name
    by_arn = ModelRegistry.from_model_package_group_arn(stack, "Arn", Token.as_string({"Ref": "GroupArn"}))
    assert Token.is_unresolved(by_arn.model_package_group_name)


# -------------------------------------------------------------------- bad input
def _gate(**overrides):
    def factory(stack):
        team = own_resources(stack)
        props = dict(registry=ModelRegistry.from_model_package_group_name(stack, "R", "ok"),
                     alert_topic=team.alert_topic, metrics_bucket=team.data_bucket)
        MetricGatedApproval(stack, "G", **{**props, **overrides})
    return factory


def _baselines(**overrides):
    def factory(stack):
        team = own_resources(stack)
        props = dict(registry=ModelRegistry.from_model_package_group_name(stack, "R", "ok"),
                     data_bucket=team.data_bucket, source_prefix="p/", alert_topic=team.alert_topic)
        BaselinePublisher(stack, "B", **{**props, **overrides})
    return factory


def _registry(**props):
    return lambda s: ModelRegistry(s, "X", **props)


@pytest.mark.parametrize(
    "factory, owner, prop",
    [
        (_registry(model_package_group_name="fraud_models"), "ModelRegistry", "model_package_group_name"),
        (_registry(model_package_group_name="-fraud"), "ModelRegistry", "model_package_group_name"),
        (_registry(model_package_group_name="x" * 64), "ModelRegistry", "model_package_group_name"),
        (_registry(model_package_group_name=""), "ModelRegistry", "model_package_group_name"),
        (_registry(description="d" * 1025), "ModelRegistry", "description"),
        (_registry(description="line\nbreak"), "ModelRegistry", "description"),
        (_registry(cross_account_ids=["12345678901"]), "ModelRegistry", "cross_account_ids"),
        (_registry(cross_account_ids=[111111111111]), "ModelRegistry", "cross_account_ids"),
        (_registry(cross_account_ids="111111111111"), "ModelRegistry", "cross_account_ids"),
        (_registry(cross_account_ids=["arn:aws:iam::111111111111:root"]), "ModelRegistry", "cross_account_ids"),
        (_registry(removal_policy="retain"), "ModelRegistry", "removal_policy"),
        (lambda s: ModelRegistry(s, "X").on_approval_change("R", statuses=["Deployed"]), "ModelRegistry", "statuses"),
        (lambda s: ModelRegistry(s, "X").on_approval_change("R", statuses="Approved"), "ModelRegistry", "statuses"),
        (lambda s: ModelRegistry(s, "X").on_approval_change("R", statuses=[]), "ModelRegistry", "statuses"),
        (lambda s: ModelRegistry.from_model_package_group_name(s, "X", "a_b"), "ModelRegistry",
         "model_package_group_name"),
        (lambda s: ModelRegistry.from_model_package_group_arn(s, "X", "churn"), "ModelRegistry",
         "model_package_group_arn"),
        (lambda s: ModelRegistry.from_model_package_group_arn(s, "X", CHURN_ARN.replace("-group", "")),
         "ModelRegistry", "model_package_group_arn"),
        (_gate(threshold="0.9"), "MetricGatedApproval", "threshold"),
        (_gate(threshold=True), "MetricGatedApproval", "threshold"),
        (_gate(threshold=float("nan")), "MetricGatedApproval", "threshold"),
        (_gate(threshold=float("inf")), "MetricGatedApproval", "threshold"),
        (_gate(comparison="GreaterThanThreshold"), "MetricGatedApproval", "comparison"),
        (_gate(metric_path="binary_classification_metrics..accuracy"), "MetricGatedApproval", "metric_path"),
        (_gate(metric_path="$.metrics.accuracy"), "MetricGatedApproval", "metric_path"),
        (_gate(metric_path=""), "MetricGatedApproval", "metric_path"),
        (_gate(metric_path=".".join(["k"] * 200)), "MetricGatedApproval", "metric_path"),
        (_gate(metrics_prefix="/evaluation/"), "MetricGatedApproval", "metrics_prefix"),
        (_gate(metrics_prefix="eval*/"), "MetricGatedApproval", "metrics_prefix"),
        (_gate(event_retry_attempts=186), "MetricGatedApproval", "event_retry_attempts"),
        (_gate(registry="fraud-models"), "MetricGatedApproval", "registry"),
        (_baselines(registry=None), "BaselinePublisher", "registry"),
        (_baselines(source_prefix="p"), "BaselinePublisher", "source_prefix"),
        (_baselines(source_prefix="/p/"), "BaselinePublisher", "source_prefix"),
    ],
)
def test_bad_props_name_the_owner_and_prop(factory, owner, prop):
    with pytest.raises(ValueError, match=rf"^{owner} '{prop}': invalid value .*; allowed: "):
        factory(Stack(App(), "S"))
