"""The generated region image table matches what the installed sagemaker SDK resolves, region by region."""

import pytest
from aws_cdk import App, Stack

from mlops_cdk._data import images_generated
from mlops_cdk.constructs.common.images import image_uri
from tools import generate_images


def test_table_was_generated_from_the_installed_sdk():
    import sagemaker

    assert images_generated.SDK_VERSION == sagemaker.__version__, "run `make images`"


@pytest.mark.parametrize("key", sorted(generate_images.IMAGES))
def test_every_sdk_region_matches(key):
    config_name = generate_images.IMAGES[key][2]
    regions = generate_images.sdk_regions(config_name)
    assert len(regions) > 20
    checked = 0
    for region in regions:
        try:
            account, repository = generate_images.sdk_image(key, region)
        except ValueError:
            assert key not in images_generated.REGISTRY_ACCOUNTS.get(region, {})
            continue
        assert images_generated.REGISTRY_ACCOUNTS[region][key] == account, region
        assert images_generated.REPOSITORIES[key] == repository
        checked += 1
    assert checked > 20


def test_image_uri_is_region_agnostic():
    stack = Stack(App(), "S")
    uri = stack.resolve(image_uri(stack, "xgboost"))
    template, variables = uri["Fn::Sub"]
    assert template == "${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/sagemaker-xgboost:1.7-1"
    assert variables["Account"]["Fn::FindInMap"][1] == {"Ref": "AWS::Region"}


def test_unknown_image_is_rejected():
    with pytest.raises(ValueError, match="'image'.*allowed: clarify | modelmonitor | sklearn | xgboost"):
        image_uri(Stack(App(), "S"), "pytorch")
