#!/usr/bin/env python3
"""A team's own CDK app that imports mlops-cdk instead of running the reference platform.

Run it (after `pip install <path-or-git-url-of-mlops-cdk>`):
    cdk synth --app "python examples/own_app.py"
It reuses the foundation stack and adds a stack of its own made of the library's constructs.
"""

import aws_cdk as cdk
from constructs import Construct

from mlops_cdk import AlertTopic, FoundationStack, PlatformConfig, SageMakerExecutionRole, SecureBucket


class ScoringStack(cdk.Stack):
    """A batch-scoring team's resources: its own encrypted bucket, a role that reads it, alerts."""

    def __init__(self, scope: Construct, id: str, *, foundation: FoundationStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        results = SecureBucket(self, "Results", noncurrent_version_expiration_days=30)
        role = SageMakerExecutionRole(self, "BatchRole", images=["xgboost"])
        role.grant_bucket_read(foundation.data, prefix="models/")
        role.grant_bucket_read_write(results, prefix="scores/")
        AlertTopic(self, "ScoringAlerts", emails=["scoring-team@example.com"])


def build(app: cdk.App) -> None:
    config = PlatformConfig(project_name="risk", model_name="credit-scoring", stage="staging")
    foundation = FoundationStack(app, "RiskFoundation", config=config)
    ScoringStack(app, "RiskScoring", foundation=foundation)


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
