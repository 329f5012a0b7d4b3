"""The public API: every name importable from ``mlops_cdk``, loaded on first use, the SDK only when asked for."""

import pytest

import mlops_cdk


def test_all_lists_exactly_the_exports():
    assert sorted(mlops_cdk.__all__) == sorted(mlops_cdk._EXPORTS)


@pytest.mark.parametrize("name", mlops_cdk.__all__)
def test_every_public_name_imports(name):
    assert getattr(mlops_cdk, name) is not None
    assert name in dir(mlops_cdk)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'SecureBukcet'"):
        mlops_cdk.SecureBukcet  # noqa: B018


# Importing the library and its stacks loads no sagemaker SDK: checked in the process tests/test_app.py runs app.py
# in (platform_run), which imports those names first.
