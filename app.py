#!/usr/bin/env python3
"""Reference platform: `cdk synth` / `cdk deploy` this, configured through cdk.json context or `-c key=value`."""

import aws_cdk as cdk

from mlops_cdk import PlatformConfig
from mlops_cdk.app_builder import build_platform, enable_nag

app = cdk.App()
config = PlatformConfig.from_context(app.node.get_all_context())
build_platform(app, config)
enable_nag(app)
app.synth()
