"""Cost guardrails as configuration: a monthly budget, its alert thresholds and anomaly alerts.

cdk.json's ``budget`` (e.g. ``{"monthly_usd": 500}``; every other key has a default) turns on
:class:`~mlops_cdk.constructs.cost.CostGuardrails`. Limits are the ones AWS documents:

* a budget has at most 10 notifications (Budgets API reference, ``Notification``: "A budget can
  have up to ten notifications"; the older ``CreateBudget`` text still says five);
* a notification threshold is at least 0.1 (the CloudFormation schema of
  ``AWS::Budgets::Budget``); above 1000 % of the budget is taken for a typo here;
* an anomaly monitor ARN is ``arn:<partition>:ce::<account>:anomalymonitor/<id>``
  (Cost Explorer API reference, ``CreateAnomalyMonitor``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._validation import invalid, is_finite_number, is_token
from ._base import Settings

MAX_NOTIFICATIONS = 10  # per budget
MIN_THRESHOLD_PERCENT, MAX_THRESHOLD_PERCENT = 0.1, 1000.0
MAX_MONTHLY_USD = 1_000_000_000.0
MAX_ANOMALY_THRESHOLD_USD = 1_000_000.0
ANOMALY_MONITOR_ARN_RE = re.compile(r"^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor/[A-Za-z0-9_-]{1,100}$")
ANOMALY_MONITOR_ARN_ALLOWED = "null (create a monitor) or arn:aws:ce::<12-digit account>:anomalymonitor/<monitor id>"


@dataclasses.dataclass(frozen=True, kw_only=True)
class BudgetSettings(Settings):
    """A monthly cost budget with percentage alerts, and alerts on cost anomalies.

    Attributes:
        monthly_usd: the budget, US dollars per calendar month (required, > 0).
        actual_percent: alert when actual spend passes these percentages of the budget (``(100,)``).
        forecast_percent: alert when the month's forecast passes these (``(80, 100)``).
        anomaly_threshold_usd: alert on cost anomalies whose total impact reaches this many dollars (50);
            ``None`` turns anomaly alerts off.
        anomaly_monitor_arn: an existing Cost Anomaly Detection monitor to subscribe to (an account's
            services monitor, say) instead of creating a cost-allocation-tag monitor.
    """

    monthly_usd: float
    actual_percent: tuple[float, ...] = (100,)
    forecast_percent: tuple[float, ...] = (80, 100)
    anomaly_threshold_usd: float | None = 50
    anomaly_monitor_arn: str | None = None

    TUPLE_FIELDS = ("actual_percent", "forecast_percent")

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        _amount(owner, f"{path}monthly_usd", values.get("monthly_usd"), maximum=MAX_MONTHLY_USD, token_ok=True)
        actual = _thresholds(owner, f"{path}actual_percent", values.get("actual_percent"))
        forecast = _thresholds(owner, f"{path}forecast_percent", values.get("forecast_percent"))
        if not actual and not forecast:
            raise invalid(owner, f"{path}forecast_percent", [], "at least one threshold here or in actual_percent")
        if len(actual) + len(forecast) > MAX_NOTIFICATIONS:
            raise invalid(owner, f"{path}forecast_percent", list(forecast),
                          f"at most {MAX_NOTIFICATIONS - len(actual)} thresholds: with the {len(actual)} of "
                          f"actual_percent, a budget has at most {MAX_NOTIFICATIONS} notifications")
        threshold = values.get("anomaly_threshold_usd")
        if threshold is not None:
            _amount(owner, f"{path}anomaly_threshold_usd", threshold, maximum=MAX_ANOMALY_THRESHOLD_USD,
                    allowed_extra=" or null (no anomaly alerts)")
        arn = values.get("anomaly_monitor_arn")
        if arn is None or is_token(arn):
            return
        if not isinstance(arn, str) or not ANOMALY_MONITOR_ARN_RE.match(arn):
            raise invalid(owner, f"{path}anomaly_monitor_arn", arn, ANOMALY_MONITOR_ARN_ALLOWED)
        if threshold is None:
            raise invalid(owner, f"{path}anomaly_monitor_arn", arn,
                          "null while anomaly_threshold_usd is null (anomaly alerts are off)")

    @property
    def anomaly_alerts(self) -> bool:
        return self.anomaly_threshold_usd is not None

    def sorted_thresholds(self, kind: str) -> tuple[float, ...]:
        """``actual`` or ``forecast`` thresholds, ascending: the order of a budget's notifications."""
        return tuple(sorted(self.actual_percent if kind == "actual" else self.forecast_percent))


def _amount(owner: str, key: str, value: Any, *, maximum: float, token_ok: bool = False,
            allowed_extra: str = "") -> None:
    if token_ok and is_token(value):
        return
    if not is_finite_number(value) or not 0 < value <= maximum:
        raise invalid(owner, key, value, f"a number of US dollars > 0 and <= {maximum:,.0f}{allowed_extra}")


def _thresholds(owner: str, key: str, values: Any) -> tuple[float, ...]:
    allowed = (f"a list of distinct percentages of the budget, each from {MIN_THRESHOLD_PERCENT:g} to "
               f"{MAX_THRESHOLD_PERCENT:g}, e.g. [80, 100]")
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        raise invalid(owner, key, values, allowed)
    for value in values:
        if not is_finite_number(value) or not MIN_THRESHOLD_PERCENT <= value <= MAX_THRESHOLD_PERCENT:
            raise invalid(owner, key, value, allowed)
    if len({float(v) for v in values}) != len(values):
        raise invalid(owner, key, list(values), allowed)
    return tuple(values)


__all__ = ["MAX_NOTIFICATIONS", "BudgetSettings"]
