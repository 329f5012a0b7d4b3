"""Cost guardrails: a monthly budget over the platform's tags and cost-anomaly alerts, both to the alert topic.

Names follow the create-only properties. ``AWS::Budgets::Budget`` replaces the budget when its
``NotificationsWithSubscribers`` change (a new threshold) and budget names are unique per account,
so the budget name ends in a digest of the notifications. Every property of
``AWS::CE::AnomalyMonitor`` but its name is create-only, and so are the ``ResourceTags`` of both
Cost Explorer resources (the platform's tags land there): their names carry a digest of those,
computed once the tags are applied.

Budgets and Cost Explorer are global services, but CloudFormation offers their types only in some
regions (cfn-lint's schemas, :mod:`mlops_cdk.regions`): each part is left out where its type is
missing (a condition in a region-agnostic template; nothing, with a warning, for a concrete region).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import jsii
from aws_cdk import Annotations, IStableStringProducer, Lazy
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ce as ce
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ... import regions
from ..._validation import invalid, is_token, require_tags
from ...settings.budget import BudgetSettings
from ..common.content_name import content_name
from ._publishers import BUDGETS, COST_ALERTS, allow_cost_publishers

OWNER = "CostGuardrails"
MAX_NAME = 100  # BudgetName: 1-100 characters, no ':' or '\'; the Cost Explorer names allow more
_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PREFIX_ALLOWED = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


@jsii.implements(IStableStringProducer)
class _Produce:
    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str:
        return self._produce()


def _number_text(value: float) -> str:
    """``50`` for 50 or 50.0, ``12.5`` for 12.5: how Cost Explorer's threshold values are written."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class CostGuardrails(Construct):
    """A tag-filtered monthly cost budget and cost-anomaly alerts, delivered to ``alert_topic``.

    Creates an ``AWS::Budgets::Budget`` (COST, MONTHLY, ``budget.monthly_usd`` USD, unblended cost
    of the resources carrying every tag of ``tags``) with one SNS notification per threshold of
    ``budget.actual_percent`` and ``budget.forecast_percent``; and, unless
    ``budget.anomaly_threshold_usd`` is ``None``, an ``AWS::CE::AnomalySubscription`` (IMMEDIATE,
    the only frequency that notifies SNS) for anomalies of at least that impact, on
    ``budget.anomaly_monitor_arn`` or on an ``AWS::CE::AnomalyMonitor`` created here: a customer
    managed cost-allocation-tag monitor of ``tags[anomaly_tag]``. The topic (and its KMS key) get
    policy statements for ``budgets.amazonaws.com`` and ``costalerts.amazonaws.com``; policies
    this app cannot change get a synth warning with the statements to add.

    Budgets see a tag only once it is activated as a cost allocation tag in the management (payer)
    account; tag monitors too, and those can be created only there: elsewhere, set
    ``anomaly_monitor_arn`` to an existing monitor.

    Args:
        alert_topic: where alerts go (same account as the budget).
        budget: amount, thresholds and anomaly settings.
        tags: the cost allocation tags (key -> value) whose spend counts, e.g. project and stage.
        name_prefix: starts the budget, monitor and subscription names.
        encryption_key: the topic's KMS key, when ``alert_topic.master_key`` does not tell (an imported topic).
        anomaly_tag: which key of ``tags`` a created monitor watches (a tag monitor watches one key);
            default: the first.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alert_topic: sns.ITopic,
        budget: BudgetSettings,
        tags: Mapping[str, str],
        name_prefix: str,
        encryption_key: kms.IKey | None = None,
        anomaly_tag: str | None = None,
    ) -> None:
        if not hasattr(alert_topic, "node") or not hasattr(alert_topic, "topic_arn"):
            raise invalid(OWNER, "alert_topic", alert_topic, "an sns.ITopic")
        if not isinstance(budget, BudgetSettings):
            raise invalid(OWNER, "budget", budget, "a BudgetSettings (BudgetSettings.from_mapping for JSON)")
        tags = _filter_tags(tags)
        if not isinstance(name_prefix, str) or not _PREFIX_RE.match(name_prefix):
            raise invalid(OWNER, "name_prefix", name_prefix, _PREFIX_ALLOWED)
        if encryption_key is not None and not (hasattr(encryption_key, "node") and hasattr(encryption_key, "key_arn")):
            raise invalid(OWNER, "encryption_key", encryption_key, "a kms.IKey or None (the topic's master_key)")
        if anomaly_tag is not None and anomaly_tag not in tags:
            raise invalid(OWNER, "anomaly_tag", anomaly_tag, "one of the keys of tags: " + ", ".join(tags))
        super().__init__(scope, id)
        self.settings = budget
        self.cost_tags = tags
        self.budget: budgets.CfnBudget | None = None
        self.budget_name: str | None = None
        self.anomaly_monitor: ce.CfnAnomalyMonitor | None = None
        self.anomaly_monitor_arn: str | None = budget.anomaly_monitor_arn
        self.anomaly_subscription: ce.CfnAnomalySubscription | None = None

        publishers = []
        if self._available(regions.BUDGETS, "the budget"):
            self._create_budget(alert_topic, name_prefix)
            publishers.append(BUDGETS)
        if budget.anomaly_alerts and self._available(regions.COST_ANOMALY_DETECTION, "anomaly alerts"):
            self._create_anomaly_alerts(alert_topic, name_prefix, anomaly_tag or next(iter(tags)))
            publishers.append(COST_ALERTS)
        key = encryption_key if encryption_key is not None else alert_topic.master_key
        policies = allow_cost_publishers(self, alert_topic, key, publishers)
        for resource in (self.budget, self.anomaly_subscription):
            if resource is not None:  # the services check that they may publish when the resource is created
                resource.node.add_dependency(*policies)

    # ------------------------------------------------------------------ budget
    def _create_budget(self, topic: sns.ITopic, name_prefix: str) -> None:
        notifications = [
            {"Notification": {"ComparisonOperator": "GREATER_THAN", "NotificationType": kind, "Threshold": threshold,
                              "ThresholdType": "PERCENTAGE"},
             "Subscribers": [{"Address": topic.topic_arn, "SubscriptionType": "SNS"}]}
            for kind, thresholds in (("ACTUAL", self.settings.sorted_thresholds("actual")),
                                     ("FORECASTED", self.settings.sorted_thresholds("forecast")))
            for threshold in thresholds
        ]
        self.budget_name = content_name(self, f"{name_prefix}-monthly", {"NotificationsWithSubscribers": notifications},
                                        max_length=MAX_NAME)
        tag_filters = [budgets.CfnBudget.ExpressionProperty(tags=budgets.CfnBudget.TagValuesProperty(
            key=key, values=[value], match_options=["EQUALS"])) for key, value in self.cost_tags.items()]
        self.budget = budgets.CfnBudget(
            self, "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=self.budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=self.settings.monthly_usd, unit="USD"),
                # FilterExpression + Metrics: what the Budgets API recommends over the legacy CostFilters/CostTypes
                # (and a filter expression without Metrics makes a budget whose history cannot load).
                filter_expression=tag_filters[0] if len(tag_filters) == 1 else
                budgets.CfnBudget.ExpressionProperty(and_=tag_filters),
                metrics=["UnblendedCost"],
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator=n["Notification"]["ComparisonOperator"],
                        notification_type=n["Notification"]["NotificationType"],
                        threshold=n["Notification"]["Threshold"],
                        threshold_type=n["Notification"]["ThresholdType"]),
                    subscribers=[budgets.CfnBudget.SubscriberProperty(
                        address=n["Subscribers"][0]["Address"], subscription_type="SNS")])
                for n in notifications
            ],
        )
        regions.gate_optional(self.budget, regions.BUDGETS)

    # ------------------------------------------------------------------ anomalies
    def _create_anomaly_alerts(self, topic: sns.ITopic, name_prefix: str, tag_key: str) -> None:
        if self.anomaly_monitor_arn is None:
            specification = json.dumps(
                {"Tags": {"Key": tag_key, "MatchOptions": ["EQUALS"], "Values": [self.cost_tags[tag_key]]}}, sort_keys=True)
            monitor = ce.CfnAnomalyMonitor(
                self, "AnomalyMonitor", monitor_type="CUSTOM", monitor_specification=specification,
                monitor_name=self._lazy_name(f"{name_prefix}-cost-anomalies", lambda: {
                    "MonitorType": "CUSTOM", "MonitorSpecification": specification,
                    "ResourceTags": _rendered_tags(monitor)}))
            regions.gate_optional(monitor, regions.COST_ANOMALY_DETECTION)
            self.anomaly_monitor = monitor
            self.anomaly_monitor_arn = monitor.attr_monitor_arn
        threshold = {"Dimensions": {"Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                                    "Values": [_number_text(self.settings.anomaly_threshold_usd)]}}
        subscription = ce.CfnAnomalySubscription(
            self, "AnomalySubscription",
            frequency="IMMEDIATE",  # SNS subscribers get individual alerts only; DAILY and WEEKLY go to e-mail
            monitor_arn_list=[self.anomaly_monitor_arn],
            subscribers=[ce.CfnAnomalySubscription.SubscriberProperty(address=topic.topic_arn, type="SNS")],
            threshold_expression=json.dumps(threshold, sort_keys=True),
            subscription_name=self._lazy_name(f"{name_prefix}-cost-anomaly-alerts", lambda: {
                "ResourceTags": _rendered_tags(subscription)}),
        )
        regions.gate_optional(subscription, regions.COST_ANOMALY_DETECTION)
        self.anomaly_subscription = subscription

    def _lazy_name(self, prefix: str, create_only: Callable[[], Any]) -> str:
        """A content name over ``create_only()``, taken at synthesis (after the tag aspects ran)."""
        return Lazy.string(_Produce(lambda: content_name(self, prefix, create_only(), max_length=MAX_NAME)))

    def _available(self, capability: regions.Capability, part: str) -> bool:
        if regions.capability_available(self, capability):
            return True
        Annotations.of(self).add_warning_v2(
            f"mlops-cdk:cost-{capability.name}",
            f"{part} left out: CloudFormation in this stack's region has no "
            f"{', '.join(capability.resource_types)}; deploy the guardrails in another region (us-east-1 has both).")
        return False


def _rendered_tags(resource: Any) -> list[dict[str, str]]:
    """A resource's ``ResourceTags`` as the template spells them (jsii hands them back keyed ``key``/``value``)."""
    return [{"Key": t.get("Key", t.get("key")), "Value": t.get("Value", t.get("value"))}
            for t in resource.cdk_tag_manager.render_tags() or []]


def _filter_tags(tags: Any) -> dict[str, str]:
    """At least one literal tag: the budget and the monitor filter on them, and names digest them."""
    tags = require_tags(OWNER, "tags", tags)
    if not tags or any(is_token(k) or is_token(v) or not v for k, v in tags.items()):
        raise invalid(OWNER, "tags", tags,
                      'a non-empty mapping of literal cost allocation tags (non-empty values), e.g. {"project": "ml"}')
    return tags


__all__ = ["CostGuardrails"]
