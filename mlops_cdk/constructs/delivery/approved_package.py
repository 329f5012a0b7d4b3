"""Where the approved model version of each stage is recorded: one SSM parameter per project, model and stage.

The approval trigger (:class:`~mlops_cdk.constructs.delivery.approval_trigger.ApprovalDeployTrigger`)
writes these parameters; the delivery pipeline's synth step reads them. A parameter holds either a
model package version ARN or ``NO_APPROVED_PACKAGE`` (``"none"``: nothing approved yet, the stage
keeps the package its configuration names).
"""

from __future__ import annotations

import re
from typing import Any

from ..._validation import invalid, is_token
from ...lambdas._shared import contract

NO_APPROVED_PACKAGE = contract.NO_APPROVED_PACKAGE
# SSM parameter names: letters, digits and "_.-/" in each level (the name's parts must not add a level).
_PART_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PART_ALLOWED = "1-64 characters of letters, digits, '_', '.', '-' (no '/')"
_OWNER = "approved_package_parameter_name"


def approved_package_parameter_name(project_name: str, model_name: str, stage: str) -> str:
    """``/mlops-cdk/<project>/<model>/<stage>/approved-model-package``."""
    require_name_parts(_OWNER, project_name=project_name, model_name=model_name, stage=stage)
    return f"/mlops-cdk/{project_name}/{model_name}/{stage}/approved-model-package"


def trigger_state_parameter_name(project_name: str, model_name: str) -> str:
    """``/mlops-cdk/<project>/<model>/approval-trigger-state``: the trigger's own record (not for the pipeline)."""
    require_name_parts("trigger_state_parameter_name", project_name=project_name, model_name=model_name)
    return f"/mlops-cdk/{project_name}/{model_name}/approval-trigger-state"


def require_name_parts(owner: str, **parts: Any) -> None:
    """Each part is one level of a parameter name, known at synth (the synth step computes the same name)."""
    for prop, value in parts.items():
        if is_token(value):
            raise invalid(owner, prop, value, "a plain string (it is part of a parameter name the synth step reads)")
        if not isinstance(value, str) or not _PART_RE.match(value) or value in (".", ".."):
            raise invalid(owner, prop, value, _PART_ALLOWED)
