import os

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

# Offline by construction: nothing here may reach AWS, and tools that insist
# on a region or credentials get dummies.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("SAGEMAKER_SKIP_TELEMETRY", "1")
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
# aws-cdk-lib's built-in template validation repeats what cfn-lint checks on every template here, at a
# third of each synth's time; tests/test_synth.py runs the reference app with it, as `make synth` does.
os.environ.setdefault("CDK_VALIDATION", "false")


@pytest.fixture
def json_snapshot(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)

# In a deployed function, the modules of mlops_cdk/lambdas/_shared sit next to
# handler.py (PlatformFunction copies them into every asset): tests that load a
# handler by path see the same layout through sys.path.
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "mlops_cdk" / "lambdas" / "_shared"))

# boto3 clients are reused across tests: creating one costs 0.1-0.4 s (service model, endpoint rules), and the
# Lambda tests create hundreds. moto intercepts every client whose creation followed its import (its handler is
# registered on botocore's built-in events at import), so a client made under one mock_aws() works under the next.
import importlib  # noqa: E402

import boto3  # noqa: E402

importlib.import_module("moto")  # before the first client, so that every client is one moto intercepts

_CLIENTS: dict = {}
_create_client = boto3.client


def _cached_client(*args, **kwargs):
    key = (args, tuple(sorted((k, v if isinstance(v, (str, int, bool, type(None))) else id(v))
                              for k, v in kwargs.items())))
    if key not in _CLIENTS:
        _CLIENTS[key] = _create_client(*args, **kwargs)
    return _CLIENTS[key]


boto3.client = _cached_client
