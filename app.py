#!/usr/bin/env python3
"""Reference platform: `cdk synth` / `cdk deploy` this, configured through cdk.json context or `-c key=value`.

`-c stage=prod` builds one stage; `-c stages=all` builds dev, staging and prod side by side.
"""

import sys

import aws_cdk as cdk

from mlops_cdk._validation import ConfigurationError
from mlops_cdk.app_builder import build_app, enable_nag

app = cdk.App()
try:
    platforms = build_app(app)
except ConfigurationError as error:  # names the key, the value and what is allowed: a traceback adds nothing
    sys.exit(f"mlops-cdk: {error}")
enable_nag(app, packs=next(iter(platforms.values())).config.compliance_packs)
app.synth()
