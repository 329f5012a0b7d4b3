"""The public API: every name importable from ``mlops_cdk``, loaded on first use, the SDK only when asked for."""

import subprocess
import sys

import pytest

import mlops_cdk
from tests.harness import ROOT


def test_all_lists_exactly_the_exports():
    assert sorted(mlops_cdk.__all__) == sorted(mlops_cdk._EXPORTS)


@pytest.mark.parametrize("name", mlops_cdk.__all__)
def test_every_public_name_imports(name):
    assert getattr(mlops_cdk, name) is not None
    assert name in dir(mlops_cdk)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'SecureBukcet'"):
        mlops_cdk.SecureBukcet  # noqa: B018


def test_importing_the_library_and_its_stacks_loads_no_sagemaker_sdk():
    code = ("import sys, mlops_cdk; from mlops_cdk import FoundationStack, ModelBuildStack, RetrainingStack; "
            "print(sorted(m for m in sys.modules if m == 'sagemaker' or m.startswith('sagemaker.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
