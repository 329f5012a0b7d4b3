"""Typed, validated platform configuration: the one place a cdk.json value enters the library.

The reference app is configured, not edited: values come from the `context`
block of `cdk.json` and can be overridden per run with `cdk synth -c key=value`.
Everything is validated here, before any construct is built, so a typo fails
in milliseconds with a message that names the key instead of minutes later in
CloudFormation. Schedules become aws-cdk-lib types here, at the boundary.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_scheduler as scheduler

from . import locations
from ._pseudo import Aws
from ._validation import (
    ConfigurationError,
    config_invalid,
    require_bool,
    require_choice,
    require_drift_thresholds,
    require_emails,
    require_feature_names,
    require_fraction,
    require_int,
    require_region,
    require_tags,
)
from ._context import coerce
from .compliance import parse_packs
from .lambdas._shared import contract
from .settings import STAGES, StageServing
from .settings.bias import BiasFacet, bias_facets
from .settings.budget import BudgetSettings
from .settings.delivery import DeliverySettings
from .settings.guardrails import require_permissions_boundary, require_role_path
from .settings.network import NetworkSettings, network_settings
from .settings.replication import ReplicationSettings
from .settings.studio import StudioSettings
from .settings.explainability import Explainability
from .settings.schedule import schedule_expression
from .settings.serving_resolution import ServingResolution

# The library's own checkers, SageMaker Model Monitor (closed to new customers), or both (see MonitoringStack).
MONITORING_MODES = ("own", "model_monitor", "both")
# Context keys of the reference app itself (not of one PlatformConfig): `-c stages=all`.
APP_KEYS = ("stages",)
# S3 bucket names are <= 63 chars: prefix + "-" + 12-digit account + "-" + region (<= 14).
MAX_PREFIX = 35

# Names end up in bucket names, SageMaker resource names and tags, so they
# follow the strictest of those rules: lower-case letters, digits, hyphens.
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
# s3://<bucket>/<prefix>: S3's bucket-name rules, any key prefix.
_S3_PREFIX_URI_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")



@dataclasses.dataclass(frozen=True)
class PlatformConfig(ServingResolution):
    """Settings for one model of the platform at one stage.

    Attributes:
        project_name: prefix of every resource name, 3-32 chars of ``[a-z0-9-]``.
        model_name: the model the platform serves (the course's ``fraud-detection``).
        stage: one of ``dev``, ``staging``, ``prod``.
        alert_emails: addresses subscribed to the alert topic (may be empty).
        tags: extra tags applied to every taggable resource.
        accuracy_threshold: minimum accuracy for a model to pass the pipeline
            gate, the approval gate and the accuracy alarm, in (0, 1].
        model_package_arn: the model package version this config's stage
            deploys (``-c model_package_arn=...``); overrides
            ``serving[stage].model_package_arn``.
        serving: per-stage :class:`StageServing`, given as overrides of
            :data:`DEFAULT_SERVING` (``{"prod": {"autoscaling": {"max_capacity": 8}}}``);
            after construction, the resolved settings of every stage.
        retraining_schedule: when scheduled retraining runs: a
            ``scheduler.ScheduleExpression``, or its text as in cdk.json
            (``rate(7 days)``, ``cron(0 3 ? * MON *)``), converted here.
        retraining_scheduled, retraining_on_drift, retraining_on_new_data,
        retraining_notifications: switch each trigger (and the run notifications) on or off.
        retraining_cooldown_minutes: the gate starts no run within this many minutes of the last one.
        monitoring_mode: ``own`` (the library's checkers: drift, model quality, bias), ``model_monitor``
            (SageMaker Model Monitor, which AWS no longer opens to new customers) or ``both``.
        monitoring_features: the model's input columns in the order endpoint requests send them.
        problem_type: ``BinaryClassification``, ``MulticlassClassification`` or ``Regression``: what
            model quality means (accuracy ... AUC, or MAE ... R²).
        ground_truth_s3_uri: where labels are uploaded in Model Monitor's ground-truth format
            (``s3://bucket/prefix/``); unset: ``ground-truth/`` of the data bucket. Setting it also turns
            on Model Monitor's model-quality job in the Model Monitor modes.
        ground_truth_delay_hours: how long labels take to arrive: quality checks analyse the
            predictions of the window that ended this many hours ago (0-336).
        quality_window_hours: how much traffic one quality or bias check reads, and how often it runs (1-24).
        bias_facets: :class:`BiasFacet` objects (or their JSON): the own bias-drift checker (and
            Clarify's bias job in the Model Monitor modes) for each.
        bias_drift_threshold: how much further from parity than on the training data's test split a
            bias metric may move before its alarm fires, in (0, 1].
        explainability: :class:`Explainability` (or its JSON, ``{"shap_baseline": [[...]]}``): Clarify's
            feature-attribution job in the Model Monitor modes (there is no own checker for it).
        budget: :class:`BudgetSettings` (or its JSON, ``{"monthly_usd": 500}``): a monthly budget of the
            stage's tagged resources with actual and forecast alerts, and cost-anomaly alerts, on the alert topic.
        region: the region every stack deploys to; unset, templates are region-agnostic (deploy anywhere,
            parts a region lacks are left out or refused there at deploy time). Set, synth refuses at once
            what the region lacks.
        delivery: :class:`DeliverySettings` (or its JSON): the delivery pipeline that tests, lints and promotes
            the platform dev -> staging -> prod; set, ``build_app`` builds only the delivery stack.
        approved_packages: stage -> model package version approved in the registry (the delivery pipeline's
            synth step passes them); an explicit ``serving.<stage>.model_package_arn`` wins.
        network: ``none`` (default), ``create`` / ``{"create": {"cidr", "max_azs"}}``, or an existing VPC
            ``{"vpc_id", "subnet_ids", "availability_zones", "security_group_ids"}``: where every Lambda, job and
            endpoint runs; a ``CreateNetwork``, ``ExistingNetwork`` or ``None`` after construction.
        compliance_packs: ``hipaa``, ``nist-800-53-r5``, ``pci-dss-3.2.1`` or ``all``: cdk-nag packs checked at
            synth next to AwsSolutions (with them, IAM policies become customer managed).
        replication: :class:`ReplicationSettings` (or ``{"bucket_arn", "key_arn"}``): S3 Replication of the
            data bucket.
        studio: :class:`StudioSettings` (or its JSON): a VPC-only SageMaker Studio domain; needs ``network``.
        permissions_boundary, role_path: applied to every IAM role the platform creates (one Aspect).
        drift_threshold, drift_warning_threshold: PSI at which a feature counts as drifted
            (alarm, retraining) and worth a warning; ``0 < warning < threshold <= 1``.
        drift_window_hours: how much captured traffic each drift check reads (and how often it runs), 1-24.
    """

    project_name: str = "mlops"
    model_name: str = "fraud-detection"
    stage: str = "dev"
    alert_emails: tuple[str, ...] = ()
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    accuracy_threshold: float = 0.85
    model_package_arn: str | None = None
    serving: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    retraining_schedule: scheduler.ScheduleExpression = dataclasses.field(
        default_factory=lambda: scheduler.ScheduleExpression.rate(Duration.days(7)), compare=False)
    retraining_scheduled: bool = True
    retraining_on_drift: bool = True
    retraining_on_new_data: bool = True
    retraining_notifications: bool = True
    retraining_cooldown_minutes: int = 360
    monitoring_mode: str = "own"
    # The course model's input columns in CSV payload order: what preprocess.py
    # writes for the fraud data (merchant_category one-hot encoded in place).
    monitoring_features: tuple[str, ...] = (
        "amount", "account_age_days", "transaction_count",
        "merchant_category_electronics", "merchant_category_grocery", "merchant_category_online",
        "merchant_category_travel", "customer_age", "account_balance",
    )
    drift_threshold: float = 0.2
    drift_warning_threshold: float = 0.1
    drift_window_hours: int = 24
    problem_type: str = "BinaryClassification"
    ground_truth_s3_uri: str | None = None
    ground_truth_delay_hours: int = 24
    quality_window_hours: int = 24
    bias_facets: tuple[BiasFacet, ...] = ()
    bias_drift_threshold: float = 0.1
    explainability: Explainability | None = None
    region: str | None = None
    budget: BudgetSettings | None = None
    network: NetworkSettings | None = None
    compliance_packs: tuple[str, ...] = ()
    replication: ReplicationSettings | None = None
    delivery: DeliverySettings | None = None
    approved_packages: Mapping[str, str] = dataclasses.field(default_factory=dict)
    studio: StudioSettings | None = None
    permissions_boundary: str | None = None
    role_path: str | None = None
    # What makes two schedules equal (aws-cdk-lib objects compare by identity).
    _schedule_key: tuple[str, str | None] = dataclasses.field(init=False, repr=False, default=("", None))

    def __post_init__(self) -> None:
        self._validate_names()
        object.__setattr__(self, "alert_emails", require_emails("config", "alert_emails", self.alert_emails))
        object.__setattr__(self, "tags", require_tags("config", "tags", self.tags))
        object.__setattr__(self, "accuracy_threshold",
                           require_fraction("config", "accuracy_threshold", self.accuracy_threshold))
        self._resolve_serving()
        schedule = schedule_expression("retraining_schedule", self.retraining_schedule)
        object.__setattr__(self, "retraining_schedule", schedule)
        zone = schedule.time_zone.timezone_name if schedule.time_zone is not None else None
        object.__setattr__(self, "_schedule_key", (schedule.expression_string, zone))
        for key in ("retraining_scheduled", "retraining_on_drift", "retraining_on_new_data", "retraining_notifications"):
            require_bool("config", key, getattr(self, key))
        require_int("config", "retraining_cooldown_minutes", self.retraining_cooldown_minutes,
                    minimum=1, maximum=contract.MAX_COOLDOWN_MINUTES)
        require_choice("config", "monitoring_mode", self.monitoring_mode, MONITORING_MODES)
        object.__setattr__(self, "monitoring_features",
                           require_feature_names("config", "monitoring_features", self.monitoring_features))
        threshold, warning = require_drift_thresholds(
            "config", self.drift_threshold, self.drift_warning_threshold,
            names=("drift_threshold", "drift_warning_threshold"))
        object.__setattr__(self, "drift_threshold", threshold)
        object.__setattr__(self, "drift_warning_threshold", warning)
        require_int("config", "drift_window_hours", self.drift_window_hours,
                    minimum=1, maximum=contract.MAX_DRIFT_WINDOW_HOURS)
        self._validate_quality_monitoring()
        if self.budget is not None:
            object.__setattr__(self, "budget", BudgetSettings.from_mapping(self.budget, path="budget."))
        object.__setattr__(self, "network", network_settings(self.network))
        self._resolve_platform_options()
        if self.region == "":
            object.__setattr__(self, "region", None)
        if self.region is not None:
            require_region("config", "region", self.region,
                           alternative=", or unset for region-agnostic templates (they deploy to any region)")

    def _validate_quality_monitoring(self) -> None:
        require_choice("config", "problem_type", self.problem_type, contract.PROBLEM_TYPES)
        uri = self.ground_truth_s3_uri
        if uri is not None:
            match = _S3_PREFIX_URI_RE.match(uri) if isinstance(uri, str) else None
            if not match or ".." in match.group("bucket"):
                raise config_invalid("ground_truth_s3_uri", uri, "s3://<bucket>/<prefix>/, e.g. s3://my-labels/fraud/")
            prefix = (match.group("prefix") or "").strip("/")
            object.__setattr__(self, "ground_truth_s3_uri", f"s3://{match.group('bucket')}/{prefix + '/' if prefix else ''}")
        require_int("config", "ground_truth_delay_hours", self.ground_truth_delay_hours,
                    minimum=0, maximum=contract.MAX_LABEL_DELAY_HOURS)
        require_int("config", "quality_window_hours", self.quality_window_hours,
                    minimum=1, maximum=contract.MAX_QUALITY_WINDOW_HOURS)
        object.__setattr__(self, "bias_facets", bias_facets(self.bias_facets, feature_names=self.monitoring_features))
        threshold = require_fraction("config", "bias_drift_threshold", self.bias_drift_threshold)
        object.__setattr__(self, "bias_drift_threshold", threshold)
        if self.explainability is not None:
            explainability = Explainability.from_mapping(self.explainability, path="explainability.")
            if explainability.width != len(self.monitoring_features):
                raise config_invalid("explainability.shap_baseline", [list(r) for r in explainability.shap_baseline],
                            f"rows of {len(self.monitoring_features)} values, one per monitoring_features column")
            object.__setattr__(self, "explainability", explainability)

    def _resolve_platform_options(self) -> None:
        """Delivery, Studio and the IAM guardrails: settings objects from their JSON, empty strings as unset."""
        object.__setattr__(self, "compliance_packs", parse_packs(self.compliance_packs))
        for key, kind in (("delivery", DeliverySettings), ("studio", StudioSettings),
                          ("replication", ReplicationSettings)):
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, kind.from_mapping(value, path=f"{key}."))
        if self.delivery is not None and self.delivery.region is not None and self.region not in (None, self.delivery.region):
            raise config_invalid("delivery.region", self.delivery.region, f"unset or the platform's region {self.region!r}")
        if self.studio is not None and self.network is None:
            raise config_invalid("studio", "(set)", "a configured network: Studio runs VPC-only; set 'network' to 'create' "
                        "or an existing VPC, or remove 'studio'")
        for key, check in (("permissions_boundary", require_permissions_boundary), ("role_path", require_role_path)):
            if getattr(self, key) == "":
                object.__setattr__(self, key, None)
            if getattr(self, key) is not None:
                check("config", key, getattr(self, key))

    def _validate_names(self) -> None:
        for key in ("project_name", "model_name"):
            value = getattr(self, key)
            if not isinstance(value, str) or not _NAME_RE.match(value):
                raise config_invalid(key, value, "3-32 characters of a-z, 0-9 and '-', starting with a letter")
        if self.stage not in STAGES:
            raise config_invalid("stage", self.stage, " | ".join(STAGES))
        if len(self.prefix) > MAX_PREFIX:
            # Blame the longer name: that is the one worth shortening.
            key = "project_name" if len(self.project_name) > len(self.model_name) else "model_name"
            raise config_invalid(
                key, getattr(self, key),
                f"project_name, model_name and stage joined by '-' of at most {MAX_PREFIX} characters "
                f"(bucket names carry account and region too); {self.prefix!r} has {len(self.prefix)}",
            )

    # ---------------------------------------------------------------- derived
    @property
    def prefix(self) -> str:
        """Resource-name prefix, e.g. ``mlops-fraud-detection-dev``."""
        return self.prefix_of(self.stage)

    def prefix_of(self, stage: str) -> str:
        """The resource-name prefix of ``stage`` of this project and model."""
        return f"{self.project_name}-{self.model_name}-{stage}"

    @property
    def model_package_group_name(self) -> str:
        """The model registry group of this model and stage (the resource-name prefix)."""
        return self.prefix

    @property
    def pipeline_name(self) -> str:
        """The training pipeline of this model and stage: ``<prefix>-training``."""
        return f"{self.prefix}-training"

    def data_bucket_name(self, stage: str | None = None) -> str:
        """The platform bucket's name, ``<prefix>-<account>-<region>``: unique per account and region,
        predictable for scripts and notebooks, and how a stage finds another stage's bucket (in the account
        ``delivery.accounts`` gives that stage, else in this one)."""
        stage = stage or self.stage
        other = self.delivery.account_of(stage) if self.delivery is not None and stage != self.stage else None
        return f"{self.prefix_of(stage)}-{other or Aws.ACCOUNT_ID}-{Aws.REGION}"

    @property
    def termination_protection(self) -> bool:
        """Stacks of the prod stage have termination protection."""
        return self.stage == "prod"

    @property
    def serving_settings(self) -> StageServing:
        """The resolved serving settings of this config's stage."""
        return self.serving[self.stage]

    @property
    def retraining_cooldown(self) -> Duration:
        return Duration.minutes(self.retraining_cooldown_minutes)

    @property
    def drift_window(self) -> Duration:
        return Duration.hours(self.drift_window_hours)

    @property
    def quality_window(self) -> Duration:
        return Duration.hours(self.quality_window_hours)

    @property
    def ground_truth_delay(self) -> Duration:
        return Duration.hours(self.ground_truth_delay_hours)

    def ground_truth_location(self) -> tuple[str | None, str]:
        """(bucket name, key prefix) of the labels: ``(None, "ground-truth/")`` means the data bucket."""
        if self.ground_truth_s3_uri is None:
            return None, locations.GROUND_TRUTH
        match = _S3_PREFIX_URI_RE.match(self.ground_truth_s3_uri)
        assert match is not None
        return match.group("bucket"), match.group("prefix") or ""

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
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        for key in context:
            if key not in known and key not in APP_KEYS and ":" not in key and "/" not in key:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
                if close:
                    raise ConfigurationError(f"config: unknown key {key!r}; did you mean {close[0]!r}?")
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.init and field.name in context:
                values[field.name] = coerce(field.name, context[field.name], field.type)
        return cls(**values)
