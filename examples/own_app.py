#!/usr/bin/env python3
"""A team's own CDK app composing the library's stacks: with a FoundationStack, or on resources it already has.

Run it (after `pip install <path-or-git-url-of-mlops-cdk>`):
    cdk synth --app "python examples/own_app.py"                      # both variants below
It builds two models' platforms: `credit-scoring` on a FoundationStack, `churn` on the team's existing
bucket, key and role (imported by name and ARN) and an alert topic of the team's own stack.
"""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from mlops_cdk import (
    FoundationStack,
    ModelBuildStack,
    MonitoringStack,
    PlatformConfig,
    PlatformResources,
    RetrainingStack,
    ServingStack,
    enable_nag,
)


def compose(app: cdk.App, config: PlatformConfig, resources: PlatformResources) -> None:
    """One model's stacks on ``resources``: they hand each other objects, so CloudFormation orders them."""
    name = config.prefix
    build = ModelBuildStack(app, f"{name}-model-build", config=config, resources=resources)
    serving = ServingStack(app, f"{name}-serving", config=config, resources=resources)
    monitoring = MonitoringStack(app, f"{name}-monitoring", config=config, resources=resources,
                                 endpoint=serving.monitored_endpoint)
    RetrainingStack(
        app, f"{name}-retraining", config=config, resources=resources,
        pipeline=build.pipeline, pipeline_parameters=build.pipeline.parameter_names,
        drift_alarms=list(monitoring.alarms.feature_drift_alarms.values()),
        quality_alarms=[monitoring.alarms.accuracy_alarm],
        drift_endpoints=[serving.monitored_endpoint.endpoint],
    )


def with_foundation(app: cdk.App) -> None:
    config = PlatformConfig(project_name="risk", model_name="credit-scoring", stage="staging")
    foundation = FoundationStack(app, f"{config.prefix}-foundation", config=config)
    compose(app, config, foundation.resources)


def with_own_resources(app: cdk.App) -> None:
    # Settings live in the config; a Monday 03:00 UTC retraining, a 12-hour cooldown, only the own drift checker.
    config = PlatformConfig(project_name="team", model_name="churn", stage="dev",
                            retraining_schedule="cron(0 3 ? * MON *)", retraining_cooldown_minutes=720,
                            monitoring_mode="own", monitoring_features=("tenure", "monthly_charges", "support_calls"))
    shared = cdk.Stack(app, "team-shared")  # the team's own stack: its topic, and imports of what exists
    key = kms.Key.from_key_arn(shared, "DataKey",
                               "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    resources = PlatformResources(
        data_bucket=s3.Bucket.from_bucket_attributes(shared, "Data", bucket_name="team-churn-data",
                                                     encryption_key=key),
        data_key=key,
        execution_role=iam.Role.from_role_arn(shared, "SageMaker", "arn:aws:iam::111122223333:role/team-sagemaker"),
        alert_topic=sns.Topic(shared, "Alerts", enforce_ssl=True, master_key=key),
    )
    compose(app, config, resources)


def build(app: cdk.App) -> None:
    with_foundation(app)
    with_own_resources(app)
    enable_nag(app)  # cdk-nag's AwsSolutions pack on every template: an unacknowledged finding fails synth


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
