"""One stage of the platform as a CDK ``Stage``: the unit CDK Pipelines deploys, in its own account and region."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Environment, Stage
from constructs import Construct

from ..._validation import invalid, require_account_id, require_region

_OWNER = "PlatformStage"


class PlatformStage(Stage):
    """A ``cdk.Stage`` holding what ``build(stage)`` adds to it: one model's platform at one stage.

    ``build`` is the app's platform builder bound to the stage's configuration (the reference app passes
    ``lambda scope: build_platform(scope, config)``); whatever it returns is ``.platform``. Taking a
    callable keeps this construct free of the app builder and its configuration (imports point one way:
    app builder -> stacks -> constructs), and lets an own app put any stacks in a stage.

    ``account``/``region``: where the stage's stacks deploy; unset, they are environment-agnostic and
    deploy to the pipeline's account and region. Stacks that set their own ``env`` keep it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        build: Callable[[Construct], Any],
        account: str | None = None,
        region: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(build):
            raise invalid(_OWNER, "build", build, "a callable taking the stage (a Construct) and adding its stacks")
        if account is not None:
            require_account_id(_OWNER, "account", account)
        if region is not None:
            require_region(_OWNER, "region", region)
        env = Environment(account=account, region=region) if account or region else None
        super().__init__(scope, id, env=env, **kwargs)
        self.platform: Any = build(self)
