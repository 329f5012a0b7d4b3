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

from ._validation import invalid, require_emails, require_int
from .constructs.endpoint_settings import MODEL_PACKAGE_ALLOWED, MODEL_PACKAGE_VERSION_RE, VERSIONED_PACKAGE_ARN_RE
from .stage_serving import DEFAULT_SERVING, STAGES, StageServing

# managed Model Monitor, the library's own drift checker, or both (see MonitoringStack).
MONITORING_MODES = ("model_monitor", "own", "both")
# Context keys of the reference app itself (not of one PlatformConfig): `-c stages=all`.
APP_KEYS = ("stages",)
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
        model_package_arn: the model package version this config's stage
            deploys (``-c model_package_arn=...``); overrides
            ``serving[stage].model_package_arn``.
        retraining_schedule: when scheduled retraining runs (EventBridge ``rate()``/``cron()``).
        retraining_scheduled, retraining_on_drift, retraining_on_new_data,
        retraining_notifications: switch each trigger (and the run notifications) on or off.
        retraining_cooldown_minutes: the gate starts no run within this many minutes of the last one.
        monitoring_mode: ``model_monitor``, ``own`` (the library's drift checker) or ``both``.
        monitoring_features: the model's input columns in the order endpoint requests send them.
        serving: per-stage :class:`StageServing`, given as overrides of
            :data:`DEFAULT_SERVING` (``{"prod": {"autoscaling": {"max_capacity": 8}}}``);
            after construction, the resolved settings of every stage.
    """

    project_name: str = "mlops"
    model_name: str = "fraud-detection"
    stage: str = "dev"
    alert_emails: tuple[str, ...] = ()
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    accuracy_threshold: float = 0.85
    model_package_arn: str | None = None
    serving: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    retraining_schedule: str = "rate(7 days)"
    retraining_scheduled: bool = True
    retraining_on_drift: bool = True
    retraining_on_new_data: bool = True
    retraining_notifications: bool = True
    retraining_cooldown_minutes: int = 360
    monitoring_mode: str = "both"
    # The course model's input columns in CSV payload order: what preprocess.py
    # writes for the fraud data (merchant_category one-hot encoded in place).
    monitoring_features: tuple[str, ...] = (
        "amount", "account_age_days", "transaction_count",
        "merchant_category_electronics", "merchant_category_grocery", "merchant_category_online",
        "merchant_category_travel", "customer_age", "account_balance",
    )

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
        self._resolve_serving()
        self._validate_retraining()
        if self.monitoring_mode not in MONITORING_MODES:
            raise _fail("monitoring_mode", self.monitoring_mode, " | ".join(MONITORING_MODES))
        features = self.monitoring_features
        if isinstance(features, str) or not features or not all(isinstance(f, str) and f for f in features) \
                or len(set(features)) != len(features):
            raise _fail("monitoring_features", features, "a non-empty list of distinct column names")
        object.__setattr__(self, "monitoring_features", tuple(features))

    def _validate_retraining(self) -> None:
        from .constructs.retraining import MAX_COOLDOWN_MINUTES, validate_schedule

        validate_schedule("config", "retraining_schedule", self.retraining_schedule)
        for key in ("retraining_scheduled", "retraining_on_drift", "retraining_on_new_data", "retraining_notifications"):
            if not isinstance(getattr(self, key), bool):
                raise _fail(key, getattr(self, key), "true | false")
        require_int("config", "retraining_cooldown_minutes", self.retraining_cooldown_minutes,
                    minimum=1, maximum=MAX_COOLDOWN_MINUTES)

    def _resolve_serving(self) -> None:
        raw = {} if self.serving is None else self.serving
        if not isinstance(raw, Mapping):
            raise _fail("serving", raw, 'a JSON object of stage -> settings, e.g. {"prod": {"instance_count": 3}}')
        for stage in raw:
            if stage not in STAGES:
                raise _fail(f"serving.{stage}", raw[stage], "settings under a stage key: " + " | ".join(STAGES))
        resolved = {
            stage: StageServing.from_mapping(raw[stage], path=f"serving.{stage}.", base=DEFAULT_SERVING[stage])
            if raw.get(stage) is not None else DEFAULT_SERVING[stage]
            for stage in STAGES
        }
        package = self.model_package_arn
        if package == "":
            package = None
        if package is not None:
            if not isinstance(package, str) or not (
                    VERSIONED_PACKAGE_ARN_RE.match(package) or MODEL_PACKAGE_VERSION_RE.match(package)):
                raise _fail("model_package_arn", package, MODEL_PACKAGE_ALLOWED)
            resolved[self.stage] = dataclasses.replace(resolved[self.stage], model_package_arn=package)
        object.__setattr__(self, "model_package_arn", package)
        object.__setattr__(self, "serving", resolved)

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
    def serving_settings(self) -> StageServing:
        """The resolved serving settings of this config's stage."""
        return self.serving[self.stage]

    @property
    def standard_tags(self) -> dict[str, str]:
        """The tags every taggable resource carries: project, model, stage, then extras."""
        return {"project": self.project_name, "model": self.model_name, "stage": self.stage, **self.tags}

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> "PlatformConfig":
        """Build from CDK context (``cdk.json`` values and ``-c key=value`` strings).

        Keys that belong to aws-cdk-lib (``@aws-cdk/...``) or other libraries, and
        the app-level ``stages``, are ignored, but a key that is one typo away from ours is an error: a
        silently ignored ``-c stgae=prod`` would deploy the wrong stage.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        for key in context:
            if key not in known and key not in APP_KEYS and ":" not in key and "/" not in key:
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
    if type_name in (bool, "bool"):
        if text.lower() not in ("true", "false"):
            raise _fail(key, raw, "true | false")
        return text.lower() == "true"
    if type_name in (int, "int"):
        try:
            return int(text)
        except ValueError:
            raise _fail(key, raw, "an integer") from None
    return text


def _parse_json(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(key, text, f"valid JSON ({exc.msg})") from None
