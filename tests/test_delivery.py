"""The delivery stack: a CDK Pipelines pipeline promoting the platform dev -> staging -> prod across accounts.

One synthesis of a delivery stack with three stages in three placeholder accounts and a CodeConnections
source. Each stage holds a cheap stand-in for the platform (a bucket, an asset, the serving stack's
``EndpointName`` output): what the pipeline wires is the same for any stage content, and three real
platforms would cost a minute (the reference app's ``-c delivery`` synth covers those). Source variants
are built as bare constructs in a second, small synthesis.
"""

from __future__ import annotations

import json
import types

import pytest
from aws_cdk import App, CfnOutput, Stack
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import pipelines

from mlops_cdk.config import PlatformConfig
from mlops_cdk.constructs.delivery.delivery_pipeline import DeliveryPipeline
from mlops_cdk.constructs.delivery.endpoint_test import EndpointTestAccess
from mlops_cdk.constructs.delivery.platform_stage import PlatformStage
from mlops_cdk.constructs.foundation.alert_topic import AlertTopic
from mlops_cdk.constructs.foundation.secure_bucket import SecureBucket
from mlops_cdk.constructs.serving.endpoint_base import ImportedEndpoint
from mlops_cdk.settings.delivery import DeliverySettings
from mlops_cdk.stacks.delivery import DeliveryStack
from tests.harness import ROOT, reference_context, resources_of_type, synth

PIPELINE_ACCOUNT = "999999999999"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
REGION = "eu-west-1"
CONNECTION = f"arn:aws:codeconnections:{REGION}:{PIPELINE_ACCOUNT}:connection/1234abcd-12ab-34cd-56ef-1234567890ab"
DELIVERY = {"source": {"connection_arn": CONNECTION, "repository": "acme/ml-platform", "branch": "main"},
            "accounts": ACCOUNTS, "pipeline_account": PIPELINE_ACCOUNT, "region": REGION}
DEV_PACKAGE = f"arn:aws:sagemaker:{REGION}:111111111111:model-package/mlops-fraud-detection-dev/3"
STACK = "mlops-fraud-detection-delivery"


class StandInPlatform(Stack):
    """What the delivery stack reads of a platform: a data bucket, an endpoint and its ``EndpointName`` output."""

    def __init__(self, scope, id, config: PlatformConfig):
        super().__init__(scope, id, stack_name=id)
        self.data_bucket = SecureBucket(self, "Data")
        s3_assets.Asset(self, "Code", path=str(ROOT / "mlops_cdk" / "delivery_checks"))  # -> an Assets stage
        self.endpoint = None
        if config.serving_settings.model_package_arn is not None:
            self.endpoint = ImportedEndpoint.from_name(self, "Endpoint", config.prefix)
            CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name)


def stand_in(scope, config):
    stack = StandInPlatform(scope, f"{config.prefix}-platform", config)
    return types.SimpleNamespace(foundation=stack, serving=stack)


@pytest.fixture(scope="module")
def delivered():
    # dev serves an approved version, staging none yet (its endpoint test reports the skip).
    config = PlatformConfig(alert_emails=("ml-team@example.com",), serving={"dev": {"model_package_arn": DEV_PACKAGE}})
    settings = DeliverySettings.from_mapping(DELIVERY, path="delivery.")
    return synth(lambda app: DeliveryStack(app, STACK, config=config, delivery=settings, build=stand_in))


@pytest.fixture(scope="module")
def template(delivered):
    return delivered.json(STACK)


@pytest.fixture(scope="module")
def stages(template):
    (pipeline,) = resources_of_type(template, "AWS::CodePipeline::Pipeline").values()
    return {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}


def nested(delivered, stage, marker):
    """The template (artifact id) of stage ``stage`` whose id contains ``marker``."""
    (name,) = [n for n, p in delivered.template_paths.items()
               if p.parent.name == f"assembly-{STACK}-{stage}" and marker in n]
    return name


def by_order(actions):
    return [a["Name"] for a in sorted(actions, key=lambda a: a.get("RunOrder", 1))]


def test_stages_run_dev_then_staging_then_prod_after_tests_synth_and_assets(stages):
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", "dev", "staging", "prod"]


def test_a_manual_approval_notifying_the_approval_topic_precedes_every_prod_deployment(stages, template):
    approval, *deployments = sorted(stages["prod"], key=lambda a: a["RunOrder"])
    assert approval["ActionTypeId"]["Provider"] == "Manual"
    assert approval["Configuration"]["NotificationArn"] == {"Ref": _logical_id(template, "AWS::SNS::Topic")}
    assert deployments and all(a["ActionTypeId"]["Provider"] == "CloudFormation" for a in deployments)
    assert all(a["RunOrder"] > approval["RunOrder"] for a in deployments)
    assert not [a for name in ("dev", "staging") for a in stages[name] if a["ActionTypeId"]["Provider"] == "Manual"]


def test_the_approval_topic_is_encrypted_and_mails_the_alert_addresses(template):
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (subscription,) = resources_of_type(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "ml-team@example.com"


def test_the_endpoint_test_follows_every_dev_and_staging_deployment_and_not_prod(stages):
    for stage in ("dev", "staging"):
        assert by_order(stages[stage])[-1] == "EndpointTest"
        test = next(a for a in stages[stage] if a["Name"] == "EndpointTest")
        assert all(a["RunOrder"] < test["RunOrder"] for a in stages[stage] if a is not test)
    assert "EndpointTest" not in by_order(stages["prod"])


def test_dev_tests_its_endpoint_through_the_role_of_its_account_and_staging_reports_the_skip(stages, template):
    dev = next(a for a in stages["dev"] if a["Name"] == "EndpointTest")
    variables = {v["name"]: v["value"] for v in json.loads(dev["Configuration"]["EnvironmentVariables"])}
    assert set(variables) == {"ENDPOINT_NAME", "MODEL_PACKAGE_ARN", "ROLE_ARN"}
    assert variables["ENDPOINT_NAME"].endswith(".EndpointName}")  # the serving stack's own output
    staging = next(a for a in stages["staging"] if a["Name"] == "EndpointTest")
    assert "EnvironmentVariables" not in staging["Configuration"]  # no endpoint: the script prints the skip
    assumed = _assume_role_resources(template)
    assert assumed == {"dev": ["arn:aws:iam::111111111111:role/mlops-fraud-detection-dev-endpoint-test"],
                       "staging": []}


def test_the_endpoint_test_role_in_dev_may_invoke_the_endpoint_and_read_the_test_split_only(delivered):
    test_stack = delivered.json(nested(delivered, "dev", "endpointtest"))
    (role,) = resources_of_type(test_stack, "AWS::IAM::Role").values()
    assert role["Properties"]["RoleName"] == "mlops-fraud-detection-dev-endpoint-test"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{PIPELINE_ACCOUNT}:root"}
    (policy,) = resources_of_type(test_stack, "AWS::IAM::Policy").values()
    allowed = {json.dumps(s["Action"]): s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert allowed['"sagemaker:InvokeEndpoint"'] == f"arn:aws:sagemaker:{REGION}:111111111111:endpoint/" \
                                                    "mlops-fraud-detection-dev"
    assert allowed['"sagemaker:DescribeModelPackage"'] == DEV_PACKAGE
    s3_resources = json.dumps(allowed['["s3:GetBucket*", "s3:GetObject*", "s3:List*"]'])
    assert "/*/PreprocessData/test/*" in s3_resources
    assert set(allowed) == {'"sagemaker:InvokeEndpoint"', '"sagemaker:DescribeModelPackage"',
                            '["s3:GetBucket*", "s3:GetObject*", "s3:List*"]', '["kms:Decrypt", "kms:DescribeKey"]'}
    assert not [n for n, p in delivered.template_paths.items() if "endpointtest" in n and "-dev" not in p.parent.name]


def test_the_synth_step_runs_make_test_then_make_synth_with_the_approved_packages(template):
    project = _project(template, "Synth")
    environment = project["Environment"]
    assert (environment["Image"], environment["ComputeType"]) == ("aws/codebuild/standard:7.0", "BUILD_GENERAL1_MEDIUM")
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "20"}
    commands = spec["phases"]["build"]["commands"]
    names = [f"/mlops-cdk/mlops/fraud-detection/{stage}/approved-model-package" for stage in ACCOUNTS]
    assert commands[0] == "make test"
    (read,) = [c for c in commands if c.startswith("aws ssm get-parameters")]
    assert all(f'"{name}"' in read for name in names)
    (make_synth,) = [c for c in commands if c.startswith("make synth")]
    assert "-c approved_packages='$APPROVED_PACKAGES'" in make_synth
    assert commands.index("make test") < commands.index(read) < commands.index(make_synth)
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    ssm = [s for s in _statements(template, project["ServiceRole"]) if "ssm" in json.dumps(s["Action"])]
    (statement,) = ssm
    assert statement["Action"] == "ssm:GetParameters" and statement["Effect"] == "Allow"
    assert sorted(statement["Resource"]) == sorted(f"arn:aws:ssm:{REGION}:{PIPELINE_ACCOUNT}:parameter{n}"
                                                   for n in names)


def test_every_codebuild_project_runs_the_pinned_image(template):
    projects = resources_of_type(template, "AWS::CodeBuild::Project").values()
    assert {p["Properties"]["Environment"]["Image"] for p in projects} == {"aws/codebuild/standard:7.0"}
    for project in projects:
        spec = json.loads(project["Properties"]["Source"]["BuildSpec"])
        assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "20"}


def test_cross_account_stages_get_a_customer_managed_rotating_key_they_may_decrypt(template):
    (pipeline,) = resources_of_type(template, "AWS::CodePipeline::Pipeline").values()
    assert pipeline["Properties"]["PipelineType"] == "V2"
    store = pipeline["Properties"]["ArtifactStore"]
    assert store["EncryptionKey"]["Type"] == "KMS"
    key_id = store["EncryptionKey"]["Id"]["Fn::GetAtt"][0]
    key = template["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Retain"
    principals = json.dumps([s.get("Principal") for s in key["Properties"]["KeyPolicy"]["Statement"]])
    for account in ACCOUNTS.values():
        assert f":iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-{REGION}" in principals
    bucket = template["Resources"][store["Location"]["Ref"]]
    assert bucket["DeletionPolicy"] == "Retain" and "LoggingConfiguration" in bucket["Properties"]


def test_each_stage_deploys_to_its_account_and_region(delivered):
    for stage, account in ACCOUNTS.items():
        manifest = json.loads((delivered.template_paths[STACK].parent / f"assembly-{STACK}-{stage}"
                               / "manifest.json").read_text())
        environments = {a["environment"] for a in manifest["artifacts"].values()
                        if a["type"] == "aws:cloudformation:stack"}
        assert environments == {f"aws://{account}/{REGION}"}


def test_the_pipeline_reads_the_repository_through_the_connection(stages, template):
    (source,) = stages["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == CONNECTION
    assert (source["Configuration"]["FullRepositoryId"], source["Configuration"]["BranchName"]) == \
        ("acme/ml-platform", "main")
    actions = json.dumps([s["Action"] for s in _statements(template, source["RoleArn"])])
    assert "codestar-connections:UseConnection" in actions or "codeconnections:UseConnection" in actions


def test_lint_ignores_sit_on_the_pipeline_resource_only(template):
    """CDK Pipelines' E3703/W3005 on the pipeline; besides, only PlatformFunction's documented W3005 (the
    deploy-on-approval function's DependsOn on its own policy)."""
    with_ignores = {k: (v["Type"], v["Metadata"]["cfn-lint"]) for k, v in template["Resources"].items()
                    if "cfn-lint" in v.get("Metadata", {})}
    pipelines = [ignores for kind, ignores in with_ignores.values() if kind == "AWS::CodePipeline::Pipeline"]
    assert pipelines == [{"config": {"ignore_checks": ["E3703", "W3005"]}}]
    others = {(kind, json.dumps(ignores)) for kind, ignores in with_ignores.values()
              if kind != "AWS::CodePipeline::Pipeline"}
    assert others == {("AWS::Lambda::Function", json.dumps({"config": {"ignore_checks": ["W3005"]}}))}


def test_cfn_lint_and_cdk_nag_find_nothing(delivered):
    assert delivered.nag_findings == []  # the pipeline stack and every stage assembly
    test_stack = next(n for n in delivered.template_paths if "endpointtest" in n)
    assert delivered.lint(STACK) == []
    assert delivered.lint(test_stack) == []


# ------------------------------------------------------------------ bare constructs
@pytest.fixture(scope="module")
def variants():
    """An S3-sourced and a CodeCommit-sourced pipeline, each with one stage, in bare environment-agnostic stacks."""
    def build(app):
        for name, make in (("S3", lambda stack: pipelines.CodePipelineSource.s3(
                s3.Bucket.from_bucket_name(stack, "Bucket", "acme-source"), "ml-platform/main.zip")),
                           ("CodeCommit", lambda stack: pipelines.CodePipelineSource.code_commit(
                               codecommit.Repository.from_repository_name(stack, "Repo", "ml-platform"), "release"))):
            stack = Stack(app, name)
            pipeline = DeliveryPipeline(stack, "Delivery", source=make(stack), approval_topic=AlertTopic(stack, "T"))
            pipeline.add_platform_stage(PlatformStage(stack, "dev", build=_one_bucket), endpoint_test=True)
    return synth(build)


def _one_bucket(scope):
    stack = Stack(scope, "Platform")
    return SecureBucket(stack, "Data")


def test_an_s3_object_or_a_codecommit_branch_can_be_the_source(variants):
    def source(stack):
        (pipeline,) = resources_of_type(variants.json(stack), "AWS::CodePipeline::Pipeline").values()
        (action,) = pipeline["Properties"]["Stages"][0]["Actions"]
        return action["ActionTypeId"]["Provider"], action["Configuration"]

    provider, configuration = source("S3")
    assert provider == "S3" and configuration["S3Bucket"] == "acme-source"
    assert configuration["S3ObjectKey"] == "ml-platform/main.zip"
    provider, configuration = source("CodeCommit")
    assert provider == "CodeCommit"
    assert (configuration["RepositoryName"], configuration["BranchName"]) == ("ml-platform", "release")


def test_environment_agnostic_pipelines_are_nag_and_lint_clean_too(variants):
    assert variants.nag_findings == []
    assert variants.lint("S3") == []


def test_without_approved_package_parameters_the_synth_step_only_runs_make(variants):
    spec = json.loads(_project(variants.json("S3"), "Synth")["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == ["make test", "make synth"]


# ------------------------------------------------------------------ bad input
@pytest.fixture(scope="module")
def scratch():
    app = App(context=reference_context())
    return Stack(app, "Scratch")


@pytest.mark.parametrize("changes, named", [
    ({"source": "acme/ml-platform"}, "DeliveryPipeline 'source'"),
    ({"approval_topic": None}, "DeliveryPipeline 'approval_topic'"),
    ({"approved_package_parameters": {"dev": "no-slash"}}, "DeliveryPipeline 'approved_package_parameters.dev'"),
])
def test_bad_pipeline_props_are_errors_naming_them(scratch, changes, named):
    props = {"source": pipelines.CodePipelineSource.connection("a/b", "main", connection_arn=CONNECTION),
             "approval_topic": sns.Topic(scratch, f"Topic{len(scratch.node.children)}"), **changes}
    with pytest.raises(ValueError, match=f"^{named}"):
        DeliveryPipeline(scratch, f"Bad{len(scratch.node.children)}", **props)


@pytest.mark.parametrize("props, named", [
    ({"account": "12"}, "PlatformStage 'account'"),
    ({"region": "europe"}, "PlatformStage 'region'"),
    ({"build": "build_platform"}, "PlatformStage 'build'"),
])
def test_bad_stage_props_are_errors_naming_them(scratch, props, named):
    with pytest.raises(ValueError, match=f"^{named}"):
        PlatformStage(scratch, f"Stage{len(scratch.node.children)}", **{"build": _one_bucket, **props})


@pytest.mark.parametrize("props, named", [
    ({"role_name": "x" * 65}, "EndpointTestAccess 'role_name'"),
    ({"trusted_account": "9999"}, "EndpointTestAccess 'trusted_account'"),
    ({"model_package_arn": "latest"}, "EndpointTestAccess 'model_package_arn'"),
    ({"samples_key_pattern": "/abs/*"}, "EndpointTestAccess 'samples_key_pattern'"),
])
def test_bad_endpoint_test_access_props_are_errors_naming_them(scratch, props, named):
    defaults = {"endpoint": ImportedEndpoint.from_name(scratch, f"E{len(scratch.node.children)}", "e"),
                "model_package_arn": "g/1", "trusted_account": PIPELINE_ACCOUNT, "role_name": "r",
                "samples_bucket": s3.Bucket.from_bucket_name(scratch, f"B{len(scratch.node.children)}", "bucket-b")}
    with pytest.raises(ValueError, match=f"^{named}"):
        EndpointTestAccess(scratch, f"Access{len(scratch.node.children)}", **{**defaults, **props})


def test_a_stage_config_of_another_stage_is_refused(scratch):
    settings = DeliverySettings.from_mapping({"source": {"codecommit_repository": "r"}}, path="delivery.")
    config = PlatformConfig()
    with pytest.raises(ValueError, match=r"^DeliveryStack 'stage_configs.staging'"):
        DeliveryStack(scratch.node.scope, "BadDelivery", config=config, delivery=settings, build=stand_in,
                      stage_configs={"dev": config, "staging": config, "prod": config})


# ------------------------------------------------------------------ helpers
def _logical_id(template, type_name):
    (logical_id,) = resources_of_type(template, type_name)
    return logical_id


def _project(template, step):
    """The CodeBuild project of pipeline step ``step`` (aws-cdk-lib describes each with its construct path)."""
    (project,) = [r["Properties"] for r in resources_of_type(template, "AWS::CodeBuild::Project").values()
                  if r["Properties"].get("Description", "").endswith(f"/{step}")]
    return project


def _statements(template, role_arn):
    """Every statement of the policies attached to the role ``{"Fn::GetAtt": [role, "Arn"]}``."""
    role = {"Ref": role_arn["Fn::GetAtt"][0]}
    return [s for p in resources_of_type(template, "AWS::IAM::Policy").values() if role in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _assume_role_resources(template):
    found = {}
    for stage in ("dev", "staging"):
        role = _project(template, f"{stage}/EndpointTest")["ServiceRole"]
        found[stage] = [s["Resource"] for s in _statements(template, role) if s["Action"] == "sts:AssumeRole"]
    return found


def test_code_pipeline_is_the_built_pipeline_and_no_stage_comes_after_it(scratch):
    pipeline = DeliveryPipeline(scratch, "Built", source=pipelines.CodePipelineSource.connection(
        "a/b", "main", connection_arn=CONNECTION), approval_topic=sns.Topic(scratch, "BuiltTopic"))
    pipeline.add_platform_stage(PlatformStage(scratch, "BuiltDev", build=_one_bucket))
    built = pipeline.code_pipeline
    assert isinstance(built, codepipeline.Pipeline)
    assert pipeline.code_pipeline.node.path == built.node.path  # a second read does not build again (that raises)
    with pytest.raises(ValueError, match=r"^DeliveryPipeline 'stage'"):
        pipeline.add_platform_stage(PlatformStage(scratch, "BuiltProd", build=_one_bucket))


# ---------------------------------------------------------------- deploy on approval, wired by the stack
def test_approving_a_version_of_devs_registry_records_it_for_every_stage_and_starts_this_pipeline(template):
    resources = template["Resources"]
    parameters = {r["Properties"]["Name"]: r["Properties"]["Value"] for r in resources.values()
                  if r["Type"] == "AWS::SSM::Parameter"}
    for stage in ACCOUNTS:  # the parameters the synth step reads, created with "no package yet"
        assert parameters[f"/mlops-cdk/mlops/fraud-detection/{stage}/approved-model-package"] == "none"
    (rule,) = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"
               and "SageMaker Model Package State Change" in json.dumps(r["Properties"].get("EventPattern", {}))]
    assert "mlops-fraud-detection-dev" in json.dumps(rule["Properties"]["EventPattern"])
    (function,) = [r for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"
                   and "DeployOnApproval" in k]
    env = function["Properties"]["Environment"]["Variables"]
    assert ACCOUNTS["dev"] in json.dumps(env["MODEL_PACKAGE_GROUP_ARN"])  # dev's registry, in dev's account
    assert "Ref" in json.dumps(env["PIPELINE_NAME"]) or STACK in json.dumps(env["PIPELINE_NAME"])


def test_this_accounts_default_bus_accepts_the_approval_events_devs_account_forwards(template):
    (policy,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Events::EventBusPolicy"]
    assert policy["EventBusName"] == "default"
    assert policy["Statement"]["Action"] == "events:PutEvents"
    assert ACCOUNTS["dev"] in json.dumps(policy["Statement"]["Principal"])
    assert all(a not in json.dumps(policy) for a in (ACCOUNTS["staging"], ACCOUNTS["prod"]))


@pytest.fixture(scope="module")
def dev_registry():
    """Dev's foundation and model build with delivery configured: what app_builder shares for the pipeline."""
    from mlops_cdk.app_builder import _share_registry
    from mlops_cdk.stacks.foundation import FoundationStack
    from mlops_cdk.stacks.model_build import ModelBuildStack

    context = {**reference_context(), "delivery": DELIVERY}
    config = PlatformConfig.from_context(context)
    app = App(context=context)
    foundation = FoundationStack(app, "Foundation", config=config)
    model_build = ModelBuildStack(app, "ModelBuild", config=config, resources=foundation.resources)
    _share_registry(config, model_build, foundation.resources)
    return config, app.synth().get_stack_by_name("ModelBuild").template


def test_devs_registry_lets_the_other_stage_accounts_and_the_pipeline_account_read_its_versions(dev_registry):
    config, template = dev_registry
    (group,) = resources_of_type(template, "AWS::SageMaker::ModelPackageGroup").values()
    policy = json.dumps(group["Properties"]["ModelPackageGroupPolicy"])
    for account in (ACCOUNTS["staging"], ACCOUNTS["prod"], PIPELINE_ACCOUNT):
        assert account in policy
    assert ACCOUNTS["dev"] not in policy and "sagemaker:DescribeModelPackage" in policy
    assert "sagemaker:CreateModelPackage" not in policy and "sagemaker:UpdateModelPackage" not in policy


def test_devs_approval_events_go_to_the_pipeline_accounts_default_bus(dev_registry):
    config, template = dev_registry
    rules = [r["Properties"] for r in resources_of_type(template, "AWS::Events::Rule").values()
             if any(PIPELINE_ACCOUNT in json.dumps(t.get("Arn")) for t in r["Properties"].get("Targets", []))]
    (rule,) = rules
    assert rule["EventPattern"]["detail-type"] == ["SageMaker Model Package State Change"]
    assert config.model_package_group_name in json.dumps(rule["EventPattern"])


def test_another_stages_bucket_is_found_in_that_stages_account():
    config = PlatformConfig.from_context({**reference_context(), "stage": "staging", "delivery": DELIVERY})
    assert config.data_bucket_name("dev").startswith(f"mlops-fraud-detection-dev-{ACCOUNTS['dev']}-")
    assert ACCOUNTS["staging"] not in config.data_bucket_name()  # its own: the deploying account's token
