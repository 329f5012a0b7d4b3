"""What a trigger event asks the retraining gate for: the pure reading of alarm, drift and S3 events.

``classify(event, triggers)`` returns a ``Trigger`` (the reason, a one-line summary, and why a
well-formed event does not retrain, if it does not) or raises ``InvalidEvent``. No AWS call, no
clock: the handler decides what to do with it. Event sources, detail types and reasons come from
``contract``. Standard library only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import contract

DATA_DRIFT, MODEL_QUALITY_DROP, NEW_DATA, _SCHEDULED, _MANUAL = contract.REASONS
ALARM_STATE = "ALARM"
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class InvalidEvent(ValueError):
    """The event is not one the gate understands; retrying cannot fix it."""


@dataclasses.dataclass(frozen=True)
class Triggers:
    """What the gate listens to (from its configuration)."""

    alarm_reasons: Mapping[str, str] = dataclasses.field(default_factory=dict)  # alarm ARN -> reason
    default_alarm_reason: str = DATA_DRIFT
    drift_event_source: str = contract.DRIFT_EVENT_SOURCE
    new_data_bucket: str | None = None
    new_data_prefix: str = ""
    new_data_suffix: str | None = None


@dataclasses.dataclass(frozen=True)
class Trigger:
    event_id: str
    kind: str  # alarm | drift | new_data
    reason: str
    summary: str
    ignore: str | None = None  # why a well-formed event does not trigger retraining


def classify(event: Any, triggers: Triggers) -> Trigger:
    """What the event asks for; raises InvalidEvent for anything malformed or unknown."""
    if not isinstance(event, dict):
        raise InvalidEvent(f"event is a {type(event).__name__}, not an object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidEvent("event has no id")
    source, detail_type, detail = event.get("source"), event.get("detail-type"), event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("event has no detail object")
    if source == contract.CLOUDWATCH_EVENT_SOURCE and detail_type == contract.ALARM_STATE_CHANGE:
        return _alarm_trigger(event_id, event, detail, triggers)
    if source == triggers.drift_event_source and detail_type == contract.DRIFT_EVENT_DETAIL_TYPE:
        return _drift_trigger(event_id, detail)
    if source == contract.S3_EVENT_SOURCE and detail_type == contract.S3_OBJECT_CREATED and triggers.new_data_bucket:
        return _new_data_trigger(event_id, detail, triggers)
    raise InvalidEvent(f"unsupported event: source {source!r}, detail-type {detail_type!r}")


def _alarm_trigger(event_id: str, event: dict, detail: dict, triggers: Triggers) -> Trigger:
    name = detail.get("alarmName")
    state = detail.get("state")
    if not isinstance(name, str) or not name:
        raise InvalidEvent("alarm event without detail.alarmName")
    if not isinstance(state, dict) or not isinstance(state.get("value"), str):
        raise InvalidEvent("alarm event without detail.state.value")
    resources = event.get("resources")
    arns = [r for r in resources if isinstance(r, str)] if isinstance(resources, list) else []
    reasons = triggers.alarm_reasons
    reason = next((reasons[a] for a in arns if a in reasons), None)
    if reason is None:  # an alarm given by name: its ARN ends with ':alarm:<name>'
        reason = next((r for a, r in reasons.items() if a.endswith(f":alarm:{name}")), triggers.default_alarm_reason)
    summary = f"alarm {clean(name, 255)} entered {clean(state['value'], 20)}"
    ignore = None if state["value"] == ALARM_STATE else "not_in_alarm"
    return Trigger(event_id, "alarm", reason, summary, ignore)


def _drift_trigger(event_id: str, detail: dict) -> Trigger:
    endpoint, status = detail.get("endpoint"), detail.get("status")
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidEvent("drift event without detail.endpoint")
    if not isinstance(status, str):
        raise InvalidEvent("drift event without detail.status")
    features = detail.get("drifted_features")
    names = [f["feature"] for f in features if isinstance(f, dict) and isinstance(f.get("feature"), str)] \
        if isinstance(features, list) else []
    max_psi = detail.get("max_psi")
    summary = f"feature drift on endpoint {clean(endpoint, 100)}"
    if names:
        summary += f": {clean(', '.join(names), 500)}"
    if isinstance(max_psi, (int, float)) and not isinstance(max_psi, bool):
        summary += f" (max PSI {max_psi:.3f})"
    ignore = None if status == contract.DRIFT_EVENT_STATUS else "no_drift"
    return Trigger(event_id, "drift", DATA_DRIFT, summary, ignore)


def _new_data_trigger(event_id: str, detail: dict, triggers: Triggers) -> Trigger:
    bucket, obj = detail.get("bucket"), detail.get("object")
    name = bucket.get("name") if isinstance(bucket, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidEvent("S3 event without detail.bucket.name")
    if not isinstance(key, str) or not key:
        raise InvalidEvent("S3 event without detail.object.key")
    summary = f"new data s3://{clean(name, 63)}/{clean(key, 1024)}"
    ignore = None
    if name != triggers.new_data_bucket:
        ignore = "other_bucket"
    elif not key.startswith(triggers.new_data_prefix):
        ignore = "outside_prefix"
    elif key.endswith("/"):
        ignore = "folder_marker"
    elif triggers.new_data_suffix and not key.endswith(triggers.new_data_suffix):
        ignore = "not_a_trigger_object"
    return Trigger(event_id, "new_data", NEW_DATA, summary, ignore)


def clean(text: str, limit: int) -> str:
    """``text`` on one line (control characters blanked), cut to ``limit`` characters."""
    text = _CONTROL_RE.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
