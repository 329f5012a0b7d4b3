"""The event three functions act on: EventBridge's "SageMaker Model Package State Change" (approval,
baseline publishing, deploy on approval). One check of its envelope, one wording of why an event is not one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import contract


def model_package_change(event: Any) -> tuple[Mapping[str, Any] | None, str | None]:
    """(``detail``, None) of a model package state change event, or (None, why the event is not one)."""
    if not isinstance(event, Mapping):
        return None, f"event is a {type(event).__name__}, not a JSON object"
    if event.get("source") != contract.SAGEMAKER_EVENT_SOURCE:
        return None, f"source is {str(event.get('source'))[:100]!r}, not {contract.SAGEMAKER_EVENT_SOURCE!r}"
    if event.get("detail-type") != contract.MODEL_PACKAGE_STATE_CHANGE:
        return None, (f"detail-type is {str(event.get('detail-type'))[:100]!r}, "
                      f"not {contract.MODEL_PACKAGE_STATE_CHANGE!r}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        return None, "detail is missing or not an object"
    return detail, None
