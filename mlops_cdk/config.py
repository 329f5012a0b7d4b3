"""Typed, validated platform configuration.

The reference app is configured, not edited: values come from the `context`
block of `cdk.json` and can be overridden per run with `cdk synth -c key=value`.
Everything is validated here, before any construct is built, so a typo fails
in milliseconds with a message that names the key instead of minutes later in
CloudFormation.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from ._validation import invalid, require_emails

STAGES = ("dev", "staging", "prod")
# S3 bucket names are <= 63 chars: prefix + "-" + 12-digit account + "-" + region (<= 14).
MAX_PREFIX = 35

# Names end up in bucket names, SageMaker resource names and tags, so they
# follow the strictest of those rules: lower-case letters, digits, hyphens.
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
# AWS tag limits: key 1-128, value 0-256 characters, no "aws:" prefix.
_TAG_KEY_MAX, _TAG_VALUE_MAX = 128, 256


def _fail(key: str, value: Any, allowed: str) -> ValueError:
    return invalid("config", key, value, allowed)


@dataclasses.dataclass(frozen=True)
class PlatformConfig:
    """Settings for one model of the platform at one stage.

    Attributes:
        project_name: prefix of every resource name, 3-32 chars of ``[a-z0-9-]``.
        model_name: the model the platform serves (the course's ``fraud-detection``).
        stage: one of ``dev``, ``staging``, ``prod``.
        alert_emails: addresses subscribed to the alert topic (may be empty).
        tags: extra tags applied to every taggable resource.
        accuracy_threshold: minimum accuracy for a model to pass the pipeline
            gate and the accuracy alarm, in (0, 1].
    """

    project_name: str = "mlops"
    model_name: str = "fraud-detection"
    stage: str = "dev"
    alert_emails: tuple[str, ...] = ()
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    accuracy_threshold: float = 0.85

    def __post_init__(self) -> None:
        for key in ("project_name", "model_name"):
            value = getattr(self, key)
            if not isinstance(value, str) or not _NAME_RE.match(value):
                raise _fail(key, value, "3-32 characters of a-z, 0-9 and '-', starting with a letter")
        if len(self.prefix) > MAX_PREFIX:
            raise _fail(
                "project_name", self.project_name,
                f"project_name, model_name and stage joined by '-' of at most {MAX_PREFIX} characters "
                f"(bucket names carry account and region too); {self.prefix!r} has {len(self.prefix)}",
            )
        if self.stage not in STAGES:
            raise _fail("stage", self.stage, " | ".join(STAGES))
        object.__setattr__(self, "alert_emails", require_emails("config", "alert_emails", self.alert_emails))
        self._validate_tags()
        threshold = self.accuracy_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
            raise _fail("accuracy_threshold", threshold, "a number in (0, 1]")
        object.__setattr__(self, "accuracy_threshold", float(threshold))

    def _validate_tags(self) -> None:
        if not isinstance(self.tags, Mapping):
            raise _fail("tags", self.tags, 'a mapping of tag key to value, e.g. {"team": "ml"}')
        for k, v in self.tags.items():
            if not isinstance(k, str) or not 1 <= len(k) <= _TAG_KEY_MAX or k.lower().startswith("aws:"):
                raise _fail("tags", k, f"tag keys of 1-{_TAG_KEY_MAX} characters not starting with 'aws:'")
            if not isinstance(v, str) or len(v) > _TAG_VALUE_MAX:
                raise _fail("tags", v, f"string tag values of at most {_TAG_VALUE_MAX} characters")
        object.__setattr__(self, "tags", dict(self.tags))

    @property
    def prefix(self) -> str:
        """Resource-name prefix, e.g. ``mlops-fraud-detection-dev``."""
        return f"{self.project_name}-{self.model_name}-{self.stage}"

    @property
    def standard_tags(self) -> dict[str, str]:
        """The tags every taggable resource carries: project, model, stage, then extras."""
        return {"project": self.project_name, "model": self.model_name, "stage": self.stage, **self.tags}

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> "PlatformConfig":
        """Build from CDK context (``cdk.json`` values and ``-c key=value`` strings).

        Keys that belong to aws-cdk-lib (``@aws-cdk/...``) or other libraries are
        ignored, but a key that is one typo away from ours is an error: a
        silently ignored ``-c stgae=prod`` would deploy the wrong stage.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        for key in context:
            if key not in known and ":" not in key and "/" not in key:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
                if close:
                    raise ValueError(f"config: unknown key {key!r}; did you mean {close[0]!r}?")
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name in context:
                values[field.name] = _coerce(field.name, context[field.name], field.type)
        return cls(**values)


def _coerce(key: str, raw: Any, type_name: Any) -> Any:
    """Turn ``-c`` strings into the field's type; JSON from cdk.json passes through."""
    if not isinstance(raw, str):
        return tuple(raw) if isinstance(raw, list) else raw
    text = raw.strip()
    if "tuple" in str(type_name):
        if text.startswith("["):
            return tuple(_parse_json(key, text))
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if "Mapping" in str(type_name):
        return _parse_json(key, text or "{}")
    if type_name in (float, "float"):
        try:
            return float(text)
        except ValueError:
            raise _fail(key, raw, "a number") from None
    return text


def _parse_json(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(key, text, f"valid JSON ({exc.msg})") from None
