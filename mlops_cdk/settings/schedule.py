"""Retraining schedules: cdk.json text in, an EventBridge Scheduler ``ScheduleExpression`` out."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_scheduler as scheduler

from .._validation import config_invalid

_RATE_RE = re.compile(r"^rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)$")
_CRON_RE = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
SCHEDULE_ALLOWED = (
    "rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year), "
    "e.g. rate(7 days) or cron(0 3 ? * MON *)"
)



def schedule_expression(key: str, value: Any) -> scheduler.ScheduleExpression:
    """An EventBridge Scheduler expression from its cdk.json text; a ``ScheduleExpression`` passes as is.

    aws-cdk-lib builds (and checks) it: ``rate()`` from a ``Duration``, ``cron()``
    from its six fields; EventBridge checks field values at deploy time.
    """
    if isinstance(value, scheduler.ScheduleExpression):
        return value
    text = value.strip() if isinstance(value, str) else value
    rate = _RATE_RE.match(text) if isinstance(text, str) else None
    if rate:
        unit = rate.group("unit").rstrip("s")
        make = {"minute": Duration.minutes, "hour": Duration.hours, "day": Duration.days}[unit]
        return scheduler.ScheduleExpression.rate(make(int(rate.group("value"))))
    cron = _CRON_RE.match(text) if isinstance(text, str) else None
    fields = cron.group("fields").split(" ") if cron else []
    if len(fields) != 6 or not all(fields):
        raise config_invalid(key, value, SCHEDULE_ALLOWED)
    minute, hour, day, month, week_day, year = (None if f == "?" else f for f in fields)
    if (day is None) == (week_day is None):
        raise config_invalid(key, value, "'?' in exactly one of day-of-month and day-of-week; " + SCHEDULE_ALLOWED)
    try:
        return scheduler.ScheduleExpression.cron(minute=minute, hour=hour, day=day, month=month,
                                                 week_day=week_day, year=year)
    except RuntimeError as exc:  # aws-cdk-lib's own check, e.g. day and week_day both set
        raise config_invalid(key, value, f"{SCHEDULE_ALLOWED} ({exc})") from None
