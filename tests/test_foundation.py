"""FoundationStack and the foundation constructs (SecureBucket, AlertTopic, SageMakerExecutionRole, PlatformResources)."""

import re

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Capture, Match, Template

from mlops_cdk import AlertTopic, FoundationStack, PlatformConfig, PlatformResources, SageMakerExecutionRole, SecureBucket
from tests.harness import logical_ids, reference_context, synth

CONFIG = PlatformConfig(alert_emails=("ml-team@example.com", "oncall@example.com"), tags={"cost-center": "42"})
BUCKET_KEY = "DataBucketE6B0FAA8"  # released logical IDs (tests/data/released_stateful_ids.json)
DATA_KEY = "DataKey5F086070"
LOG_BUCKET = "DataAccessLogsC0C25EE4"
ROLE = "SageMakerRole1353C180"


@pytest.fixture(scope="module")
def result():
    stacks = {}
    synthesized = synth(lambda app: stacks.update(foundation=FoundationStack(app, "Foundation", config=CONFIG)))
    synthesized.stack = stacks["foundation"]
    return synthesized


@pytest.fixture(scope="module")
def tpl(result):
    return result.template()


# ---------------------------------------------------------------- data bucket
def test_data_bucket_is_kms_encrypted_with_a_rotating_key_and_bucket_key(tpl):
    tpl.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                              "KMSMasterKeyID": {"Fn::GetAtt": [DATA_KEY, "Arn"]}},
        }]},
    })
    tpl.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True, "Description": Match.string_like_regexp("Data")})


def test_data_bucket_is_private_versioned_owner_enforced_and_named_per_account_and_region(tpl):
    tpl.has_resource("AWS::S3::Bucket", {
        "Properties": Match.object_like({
            "BucketName": {"Fn::Join": ["", ["mlops-fraud-detection-dev-", {"Ref": "AWS::AccountId"}, "-",
                                             {"Ref": "AWS::Region"}]]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [Match.object_like({
                "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}, "Status": "Enabled"})]},
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            "LoggingConfiguration": {"DestinationBucketName": {"Ref": LOG_BUCKET}, "LogFilePrefix": "access-logs/"},
        }),
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    })


def test_eventbridge_notifications_need_no_custom_resource_lambda(tpl):
    tpl.resource_count_is("Custom::S3BucketNotifications", 0)
    tpl.resource_count_is("AWS::Lambda::Function", 0)


def test_every_bucket_denies_insecure_transport_and_old_tls(tpl):
    tpl.resource_count_is("AWS::S3::Bucket", 2)
    tpl.resource_count_is("AWS::S3::BucketPolicy", 2)
    for bucket in (BUCKET_KEY, LOG_BUCKET):
        tpl.has_resource_properties("AWS::S3::BucketPolicy", {
            "Bucket": {"Ref": bucket},
            "PolicyDocument": {"Statement": Match.array_with([
                Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
                Match.object_like({"Effect": "Deny", "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}}),
            ])},
        })


def test_access_logs_are_delivered_by_bucket_policy_to_an_sse_s3_bucket(tpl):
    tpl.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "AccessControl": Match.absent(),
    })
    tpl.has_resource_properties("AWS::S3::BucketPolicy", {
        "Bucket": {"Ref": LOG_BUCKET},
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject"})])},
    })


def test_stateful_resources_are_retained(result):
    resources = result.json()["Resources"]
    stateful = [r for r in resources.values() if r["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key")]
    assert len(stateful) == 4
    assert all(r["DeletionPolicy"] == r["UpdateReplacePolicy"] == "Retain" for r in stateful)


# ----------------------------------------------------------- execution role
def test_role_trusts_only_sagemaker_and_has_no_managed_policies(tpl, result):
    tpl.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": {"Statement": [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}]},
        "ManagedPolicyArns": Match.absent(),
    })
    assert "FullAccess" not in str(result.json())


def test_role_base_policy_allows_only_sagemaker_logs_metrics_and_first_party_images(tpl):
    images = Capture()
    tpl.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": ROLE}],
        "PolicyDocument": {"Statement": [
            Match.object_like({"Sid": "SageMakerJobLogs", "Resource": [
                {"Fn::Join": ["", Match.array_with([":log-group:/aws/sagemaker/*"])]},
                {"Fn::Join": ["", Match.array_with([":log-group:/aws/sagemaker/*:log-stream:*"])]}]}),
            Match.object_like({"Sid": "SageMakerJobMetrics", "Resource": "*", "Condition": {"StringLike": {
                "cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}}}),
            Match.object_like({"Sid": "EcrAuth", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
            Match.object_like({"Sid": "PullFirstPartyImages", "Resource": images}),
        ]},
    })
    repositories = {r["Fn::Sub"][0].rsplit("/", 1)[1] for r in images.as_array()}
    assert repositories == {"sagemaker-xgboost", "sagemaker-scikit-learn", "sagemaker-model-monitor-analyzer",
                            "sagemaker-clarify-processing"}
    for resource in images.as_array():  # the registry account comes from the region mapping
        assert resource["Fn::Sub"][1]["Account"]["Fn::FindInMap"][1] == {"Ref": "AWS::Region"}


def test_role_reads_and_writes_the_data_bucket_with_its_key(tpl):
    tpl.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": ROLE}],
        "PolicyDocument": {"Statement": Match.array_with([
            Match.object_like({"Action": Match.array_with(["s3:GetObject*", "s3:PutObject"]), "Resource": [
                {"Fn::GetAtt": [BUCKET_KEY, "Arn"]},
                {"Fn::Join": ["", [{"Fn::GetAtt": [BUCKET_KEY, "Arn"]}, "/*"]]}]}),
            Match.object_like({"Action": Match.array_with(["kms:Decrypt"]), "Resource": {"Fn::GetAtt": [DATA_KEY, "Arn"]}}),
        ])},
    })


# ------------------------------------------------------------------ alert topic
def test_topic_is_encrypted_ssl_only_and_admits_alarms_and_rules_of_this_account(tpl):
    key = Capture()
    tpl.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}})
    this_account = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    tpl.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True, "KeyPolicy": {"Statement": Match.array_with([
        Match.object_like({"Sid": "AllowAlertPublishers", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                           "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                           "Condition": this_account})])}})
    assert key.as_string() == "AlertsKey9E1197AF"
    tpl.has_resource_properties("AWS::SNS::TopicPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        Match.object_like({"Sid": "AllowAlarmsAndRulesToPublish", "Action": "sns:Publish", "Condition": this_account,
                           "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]}}),
    ])}})


def test_email_subscriptions_from_config(tpl):
    tpl.resource_count_is("AWS::SNS::Subscription", 2)
    for email in CONFIG.alert_emails:
        tpl.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": email})


# -------------------------------------------------------------- stack-level
def test_resources_hand_the_other_stacks_objects(result):
    stack = result.stack
    resources = stack.resources
    assert isinstance(resources, PlatformResources)
    assert resources.data_bucket is stack.data_bucket and resources.execution_role is stack.execution_role
    assert resources.alert_topic is stack.alert_topic and resources.data_key is stack.data_bucket.encryption_key


def test_outputs(tpl):
    for name in ("DataBucketName", "DataKeyArn", "ExecutionRoleArn", "AlertTopicArn"):
        tpl.has_output(name, {"Value": Match.any_value()})


def test_every_taggable_resource_carries_standard_tags(result):
    tagged = [r for r in result.json()["Resources"].values() if "Tags" in r.get("Properties", {})]
    assert len(tagged) >= 6  # buckets, keys, role, topic
    for res in tagged:
        tags = {t["Key"]: t["Value"] for t in res["Properties"]["Tags"]}
        assert {"project": "mlops", "model": "fraud-detection", "stage": "dev", "cost-center": "42"}.items() <= tags.items()


def test_no_hard_coded_region_or_account(result):
    raw = result.json()
    assert "SageMakerImageRegistries" in raw["Mappings"]  # only the image mapping names regions and AWS accounts
    text = str({k: v for k, v in raw.items() if k != "Mappings"})
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)


def test_prod_foundation_has_termination_protection():
    app = App(context=reference_context())
    assert FoundationStack(app, "P", config=PlatformConfig(stage="prod")).termination_protection is True
    assert FoundationStack(app, "D", config=PlatformConfig()).termination_protection is False


def test_cdk_nag_and_cfn_lint_clean(result):
    assert result.nag_findings == []
    assert result.lint() == []


def test_logical_ids(result, json_snapshot):
    assert logical_ids(result.json()) == json_snapshot


# ------------------------------------------------------------- the constructs alone
@pytest.fixture(scope="module")
def standalone():
    """The constructs on their own, as a team composes them, and used where aws-cdk-lib expects its own types."""
    def build(app):
        stack = Stack(app, "Team")
        bucket = SecureBucket(stack, "Results", noncurrent_version_expiration_days=30)
        given_key = kms.Key(stack, "GivenKey", enable_key_rotation=True)
        SecureBucket(stack, "Archive", encryption_key=given_key,
                     access_logs_bucket=s3.Bucket.from_bucket_name(stack, "Logs", "existing-log-bucket"),
                     removal_policy=RemovalPolicy.DESTROY)
        topic = AlertTopic(stack, "Alerts", emails=["team@example.com"])
        role = SageMakerExecutionRole(stack, "BatchRole", images=["xgboost"])
        function = lambda_.Function(stack, "Reader", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
                                    code=lambda_.Code.from_inline("def handler(e, c): pass"))
        bucket.grant_read(function, "scores/*")  # plain aws-cdk-lib grants on our subclasses
        bucket.grant_read_write(role, "scores/*")
        topic.grant_publish(function)
        return stack
    return synth(build, nag=False).template()


def test_secure_bucket_is_a_bucket_with_its_own_retained_key_and_log_bucket(standalone):
    standalone.has_resource("AWS::KMS::Key", {"Properties": Match.object_like({"EnableKeyRotation": True}),
                                              "DeletionPolicy": "Retain"})
    standalone.has_resource_properties("AWS::S3::Bucket", {
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": Match.string_like_regexp("^ResultsAccessLogs")},
                                 "LogFilePrefix": "access-logs/"},
        "LifecycleConfiguration": {"Rules": [Match.object_like({"NoncurrentVersionExpiration": {"NoncurrentDays": 30}})]},
        "NotificationConfiguration": Match.absent(),
    })


def test_secure_bucket_takes_a_given_key_and_log_bucket(standalone):
    standalone.has_resource("AWS::S3::Bucket", {
        "Properties": Match.object_like({
            "LoggingConfiguration": {"DestinationBucketName": "existing-log-bucket", "LogFilePrefix": "access-logs/"},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [Match.object_like({
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {
                    "Fn::GetAtt": [Match.string_like_regexp("^GivenKey"), "Arn"]}}})]}}),
        "DeletionPolicy": "Delete",
    })


def test_aws_cdk_grants_work_on_the_subclasses(standalone):
    standalone.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": Match.string_like_regexp("^ReaderServiceRole")}],
        "PolicyDocument": {"Statement": Match.array_with([
            Match.object_like({"Action": Match.array_with(["s3:GetObject*"]), "Resource": Match.array_with([
                {"Fn::Join": ["", [{"Fn::GetAtt": [Match.string_like_regexp("^Results"), "Arn"]}, "/scores/*"]]}])}),
            Match.object_like({"Action": "sns:Publish"}),
        ])},
    })


def test_alert_topic_creates_a_key_beside_it_that_lets_publishers_encrypt(standalone):
    standalone.has_resource_properties("AWS::SNS::Topic", {
        "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^AlertsKey"), "Arn"]}})
    standalone.has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {"Statement": Match.array_with([
        Match.object_like({"Sid": "AllowAlertPublishers"})])}})


def test_role_pulls_only_requested_images(standalone):
    pulls = Capture()
    standalone.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "PullFirstPartyImages", "Resource": pulls})])}})
    assert pulls.as_object()["Fn::Sub"][0].endswith(":repository/sagemaker-xgboost")  # one image: one resource


def test_alert_topic_adds_publishers_to_a_given_key_it_owns():
    app = App(context=reference_context())
    stack = Stack(app, "S")
    key = kms.Key(stack, "Shared")
    AlertTopic(stack, "T", encryption_key=key)
    imported = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:eu-west-1:111122223333:key/abcd")
    AlertTopic(stack, "U", encryption_key=imported)  # an imported key's policy cannot change: left as is
    tpl = Template.from_stack(stack)
    tpl.resource_count_is("AWS::KMS::Key", 1)
    tpl.has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {"Statement": Match.array_with([
        Match.object_like({"Sid": "AllowAlertPublishers"})])}})


def test_subclasses_are_the_aws_cdk_types():
    app = App(context=reference_context())
    stack = Stack(app, "S")
    assert isinstance(SecureBucket(stack, "B"), s3.Bucket)
    assert isinstance(AlertTopic(stack, "T"), sns.Topic)
    assert isinstance(SageMakerExecutionRole(stack, "R"), iam.Role)


def test_secure_bucket_needs_log_delivery_by_bucket_policy():
    app = App(context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": False})
    with pytest.raises(ValueError, match="SecureBucket 'access_logs_bucket'.*serverAccessLogsUseBucketPolicy"):
        SecureBucket(Stack(app, "S"), "B")


@pytest.mark.parametrize(
    "factory, owner, prop",
    [
        (lambda s: SecureBucket(s, "X", noncurrent_version_expiration_days=0), "SecureBucket",
         "noncurrent_version_expiration_days"),
        (lambda s: SecureBucket(s, "X", abort_incomplete_upload_days=True), "SecureBucket",
         "abort_incomplete_upload_days"),
        (lambda s: SecureBucket(s, "X", access_logs_prefix="/logs/"), "SecureBucket", "access_logs_prefix"),
        (lambda s: AlertTopic(s, "X", emails=["not-an-email"]), "AlertTopic", "emails"),
        (lambda s: AlertTopic(s, "X", emails="a@example.com"), "AlertTopic", "emails"),
        (lambda s: AlertTopic(s, "X", display_name="x" * 101), "AlertTopic", "display_name"),
        (lambda s: SageMakerExecutionRole(s, "X", images=["tensorflow"]), "SageMakerExecutionRole", "images"),
        (lambda s: FoundationStack(s.node.scope, "X", config={"stage": "dev"}), "foundation stack", "config"),
    ],
)
def test_bad_props_name_owner_and_prop(factory, owner, prop):
    with pytest.raises(ValueError, match=f"^{owner} '{prop}': invalid value"):
        factory(Stack(App(), "S"))


def test_platform_resources_refuse_what_is_not_the_resource():
    app = App(context=reference_context())
    stack = Stack(app, "S")
    bucket = SecureBucket(stack, "B")
    topic = AlertTopic(stack, "T")
    role = SageMakerExecutionRole(stack, "R")
    with pytest.raises(ValueError, match="PlatformResources 'data_key': invalid value 'arn:aws:kms:.*a kms.IKey"):
        PlatformResources(data_bucket=bucket, data_key="arn:aws:kms:eu-west-1:111122223333:key/x",
                          execution_role=role, alert_topic=topic)
    with pytest.raises(ValueError, match="PlatformResources 'alert_topic'"):
        PlatformResources(data_bucket=bucket, data_key=bucket.encryption_key, execution_role=role, alert_topic=bucket)


def test_a_budget_in_config_adds_cost_guardrails_on_the_alert_topic():
    """Next to the topic: Budgets and Cost Anomaly Detection may publish to it before they are created."""
    app = App(context=reference_context())
    with_budget = FoundationStack(app, "WithBudget", config=PlatformConfig(budget={"monthly_usd": 500}))
    without = FoundationStack(app, "Without", config=PlatformConfig())
    assert without.cost_guardrails is None
    Template.from_stack(without).resource_count_is("AWS::Budgets::Budget", 0)
    template = Template.from_stack(with_budget)
    template.has_resource_properties("AWS::Budgets::Budget", {"Budget": Match.object_like({
        "BudgetLimit": {"Amount": 500, "Unit": "USD"}, "TimeUnit": "MONTHLY"})})
    template.resource_count_is("AWS::CE::AnomalySubscription", 1)
    template.has_resource_properties("AWS::SNS::TopicPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Principal": {"Service": "budgets.amazonaws.com"}})])}})
    assert with_budget.cost_guardrails.settings.monthly_usd == 500
