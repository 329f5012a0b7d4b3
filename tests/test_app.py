"""The reference platform as `make synth` builds it: every stack cdk-nag and cfn-lint clean."""

import pytest

from mlops_cdk import PlatformConfig
from mlops_cdk.app_builder import build_platform
from tests.harness import reference_context, synth


@pytest.fixture(scope="module")
def platform():
    config = PlatformConfig.from_context(reference_context())
    return synth(lambda app: build_platform(app, config))


def test_default_platform_has_every_stack(platform):
    assert set(platform.stacks) == {
        f"mlops-fraud-detection-dev-{part}" for part in ("foundation", "feature-store", "model-build")
    }


def test_reference_platform_is_nag_clean(platform):
    assert platform.nag_findings == []


def test_reference_platform_is_lint_clean(platform):
    findings = {name: platform.lint(name) for name in platform.stacks}
    assert findings == {name: [] for name in platform.stacks}


def test_stage_override_renames_every_stack():
    config = PlatformConfig.from_context({**reference_context(), "stage": "prod"})
    result = synth(lambda app: build_platform(app, config), nag=False)
    assert result.stacks and all(name.startswith("mlops-fraud-detection-prod-") for name in result.stacks)
