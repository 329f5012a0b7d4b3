"""FoundationStack and its constructs: security properties one by one, snapshot, cfn-lint, cdk-nag."""

import re

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from mlops_cdk import AlertTopic, FoundationStack, PlatformConfig, SageMakerExecutionRole, SecureBucket
from tests.harness import normalized, only_resource, resources_of_type, role_statements, synth

CONFIG = PlatformConfig(alert_emails=("ml-team@example.com", "oncall@example.com"), tags={"cost-center": "42"})


@pytest.fixture(scope="module")
def result():
    return synth(lambda app: FoundationStack(app, "Foundation", config=CONFIG))


@pytest.fixture(scope="module")
def tpl(result):
    return result.template()


@pytest.fixture(scope="module")
def raw(result):
    return result.json()


def _data_bucket(raw):
    buckets = resources_of_type(raw, "AWS::S3::Bucket")
    (name,) = [k for k, v in buckets.items() if "LoggingConfiguration" in v["Properties"]]
    return name, buckets[name]


# ---------------------------------------------------------------- SecureBucket
def test_data_bucket_uses_customer_managed_key_with_bucket_key(raw):
    _, bucket = _data_bucket(raw)
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_ref = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    assert raw["Resources"][key_ref]["Type"] == "AWS::KMS::Key"
    assert raw["Resources"][key_ref]["Properties"]["EnableKeyRotation"] is True
    assert rule["BucketKeyEnabled"] is True


def test_data_bucket_is_private_versioned_and_owner_enforced(raw):
    _, bucket = _data_bucket(raw)
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_every_bucket_denies_insecure_transport_and_old_tls(raw):
    policies = resources_of_type(raw, "AWS::S3::BucketPolicy")
    buckets = resources_of_type(raw, "AWS::S3::Bucket")
    assert len(policies) == len(buckets) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = [s for s in statements if s["Effect"] == "Deny"]
        conditions = [s["Condition"] for s in denies]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


def test_data_bucket_logs_to_the_log_bucket_via_bucket_policy(raw):
    name, bucket = _data_bucket(raw)
    target = bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    log_bucket = raw["Resources"][target]["Properties"]
    assert log_bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert "AccessControl" not in log_bucket  # no legacy LogDeliveryWrite ACL
    log_policy = [p for p in resources_of_type(raw, "AWS::S3::BucketPolicy").values()
                  if p["Properties"]["Bucket"] == {"Ref": target}][0]
    principals = [s.get("Principal") for s in log_policy["Properties"]["PolicyDocument"]["Statement"]]
    assert {"Service": "logging.s3.amazonaws.com"} in principals


def test_lifecycle_expires_noncurrent_versions_and_aborts_uploads(raw):
    _, bucket = _data_bucket(raw)
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rule["Status"] == "Enabled"


def test_eventbridge_notifications_without_custom_resource(raw):
    _, bucket = _data_bucket(raw)
    assert bucket["Properties"]["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert not resources_of_type(raw, "Custom::S3BucketNotifications")
    assert not resources_of_type(raw, "AWS::Lambda::Function")


def test_stateful_resources_are_retained(raw):
    for type_name in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        for name, res in resources_of_type(raw, type_name).items():
            assert res["DeletionPolicy"] == "Retain", name
            assert res["UpdateReplacePolicy"] == "Retain", name


# ----------------------------------------------------- SageMakerExecutionRole
def _sagemaker_role(raw):
    roles = resources_of_type(raw, "AWS::IAM::Role")
    (name,) = [k for k, r in roles.items()
               if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
               == {"Service": "sagemaker.amazonaws.com"}]
    return name


def test_role_trusts_only_sagemaker_and_has_no_managed_policies(raw):
    name = _sagemaker_role(raw)
    role = raw["Resources"][name]["Properties"]
    assert [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]] == [
        {"Service": "sagemaker.amazonaws.com"}
    ]
    assert "ManagedPolicyArns" not in role
    assert "FullAccess" not in str(raw)


def test_role_statements_are_scoped(raw):
    statements = role_statements(raw, _sagemaker_role(raw))
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(a in ("*", "s3:*", "sagemaker:*", "kms:*") for a in actions), statement
        if statement["Resource"] == "*":
            # Only actions AWS offers no resource-level permission for.
            assert set(actions) <= {"cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"}, statement
    metrics = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"][0]
    assert metrics["Condition"]["StringLike"]["cloudwatch:namespace"]


def test_role_logs_limited_to_sagemaker_log_groups(raw):
    logs = [s for s in role_statements(raw, _sagemaker_role(raw)) if "logs:PutLogEvents" in s["Action"]][0]
    for resource in logs["Resource"]:
        assert ":log-group:/aws/sagemaker/" in str(resource)


def test_role_pulls_images_from_region_mapped_repositories(raw):
    pull = [s for s in role_statements(raw, _sagemaker_role(raw)) if "ecr:BatchGetImage" in s["Action"]][0]
    repos = {r["Fn::Sub"][0].rsplit("/", 1)[1] for r in pull["Resource"]}
    assert repos == {"sagemaker-xgboost", "sagemaker-scikit-learn", "sagemaker-model-monitor-analyzer",
                     "sagemaker-clarify-processing"}
    for resource in pull["Resource"]:
        assert resource["Fn::Sub"][1]["Account"]["Fn::FindInMap"][1] == {"Ref": "AWS::Region"}


def test_role_reads_and_writes_the_data_bucket_with_its_key(raw):
    bucket_name, _ = _data_bucket(raw)
    statements = role_statements(raw, _sagemaker_role(raw))
    s3_statement = [s for s in statements if "s3:PutObject" in s["Action"]][0]
    assert {"Fn::GetAtt": [bucket_name, "Arn"]} in s3_statement["Resource"]
    kms_statement = [s for s in statements if "kms:Decrypt" in s["Action"]][0]
    key = raw["Resources"][bucket_name]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    assert kms_statement["Resource"] == key


# ------------------------------------------------------------------ AlertTopic
def test_topic_encrypted_with_rotating_key(raw):
    topic = only_resource(raw, "AWS::SNS::Topic")["Properties"]
    key = raw["Resources"][topic["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    assert key["Properties"]["EnableKeyRotation"] is True


def test_topic_policy_enforces_ssl_and_admits_alarms_and_rules_from_this_account(raw):
    policy = only_resource(raw, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)
    publish = [s for s in policy if s.get("Sid") == "AllowAlarmsAndRulesToPublish"][0]
    assert sorted(publish["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_topic_key_lets_publishing_services_encrypt(raw):
    topic = only_resource(raw, "AWS::SNS::Topic")["Properties"]
    key = raw["Resources"][topic["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    statement = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowAlertPublishers"][0]
    assert "kms:GenerateDataKey*" in statement["Action"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_email_subscriptions_from_config(tpl):
    tpl.resource_count_is("AWS::SNS::Subscription", 2)
    for email in CONFIG.alert_emails:
        tpl.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": email})


# -------------------------------------------------------------- stack-level
def test_outputs(tpl):
    for name in ("DataBucketName", "DataKeyArn", "ExecutionRoleArn", "AlertTopicArn"):
        tpl.has_output(name, {"Value": Match.any_value()})


def test_every_taggable_resource_carries_standard_tags(raw):
    tagged = [r for r in raw["Resources"].values() if "Tags" in r.get("Properties", {})]
    assert len(tagged) >= 5  # buckets, keys, role, topic
    for res in tagged:
        tags = {t["Key"]: t["Value"] for t in res["Properties"]["Tags"]}
        assert {"project": "mlops", "model": "fraud-detection", "stage": "dev", "cost-center": "42"}.items() <= tags.items()


def test_no_hard_coded_region_or_account(raw):
    # Only the generated image-registry mapping names regions and (AWS-owned) accounts.
    assert "SageMakerImageRegistries" in raw["Mappings"]
    text = str({k: v for k, v in raw.items() if k != "Mappings"})
    assert not re.search(r"\b[a-z]{2}-[a-z]+-\d\b", text)
    assert not re.search(r"\b\d{12}\b", text)


def test_cdk_nag_clean(result):
    assert result.nag_findings == []


def test_cfn_lint_clean(result):
    assert result.lint() == []


def test_snapshot(raw, json_snapshot):
    assert normalized(raw) == json_snapshot


# ------------------------------------------------------------- construct props
@pytest.fixture(scope="module")
def given_resources():
    """SecureBucket/AlertTopic with user-supplied key and log bucket, non-default props."""
    def build(app):
        stack = Stack(app, "Given")
        key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        logs = s3.Bucket.from_bucket_name(stack, "Logs", "existing-log-bucket")
        SecureBucket(stack, "B", encryption_key=key, access_logs_bucket=logs, noncurrent_version_expiration_days=30,
                     removal_policy=RemovalPolicy.DESTROY)
        SageMakerExecutionRole(stack, "R", images=["xgboost"])
    return synth(build, nag=False).json()


def test_secure_bucket_uses_given_key_and_log_bucket(given_resources):
    (bucket,) = resources_of_type(given_resources, "AWS::S3::Bucket").values()
    assert len(resources_of_type(given_resources, "AWS::KMS::Key")) == 1  # only the user's
    assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == "existing-log-bucket"
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": 30}
    assert bucket["DeletionPolicy"] == "Delete"
    assert "NotificationConfiguration" not in bucket["Properties"]


def test_role_pulls_only_requested_images(given_resources):
    pull = [s for p in resources_of_type(given_resources, "AWS::IAM::Policy").values()
            for s in p["Properties"]["PolicyDocument"]["Statement"] if "ecr:BatchGetImage" in s["Action"]][0]
    resources = pull["Resource"] if isinstance(pull["Resource"], list) else [pull["Resource"]]
    assert [r["Fn::Sub"][0].rsplit("/", 1)[1] for r in resources] == ["sagemaker-xgboost"]


@pytest.mark.parametrize(
    "factory, prop",
    [
        (lambda s: SecureBucket(s, "X", noncurrent_version_expiration_days=0), "noncurrent_version_expiration_days"),
        (lambda s: SecureBucket(s, "X", abort_incomplete_upload_days=True), "abort_incomplete_upload_days"),
        (lambda s: SecureBucket(s, "X", access_logs_prefix="/logs/"), "access_logs_prefix"),
        (lambda s: AlertTopic(s, "X", emails=["not-an-email"]), "emails"),
        (lambda s: AlertTopic(s, "X", emails="a@example.com"), "emails"),
        (lambda s: AlertTopic(s, "X", display_name="x" * 101), "display_name"),
        (lambda s: SageMakerExecutionRole(s, "X", images=["tensorflow"]), "images"),
        (lambda s: FoundationStack(s, "X", config={"stage": "dev"}), "config"),
    ],
)
def test_bad_props_name_the_prop(factory, prop):
    app = App()
    scope = Stack(app, "S") if "FoundationStack" not in str(factory.__code__.co_names) else app
    with pytest.raises(ValueError, match=f"'{prop}'"):
        factory(scope)
